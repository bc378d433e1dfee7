"""Reading the corpus index (:mod:`.corpus_index`) back: the generator's random access to token ranges."""

from __future__ import annotations

import os

import numpy as np

from .corpus_index import CorpusIndex


class SpanReader:
    """Reads scattered token ranges with ``pread``, without memory-mapping the index.

    A memory map would do, but this kernel maps whole 2 MB page-cache folios on each touch: a few hundred
    random segment B's per block would map the entire token file into the worker (RSS growing with the
    corpus). ``pread`` copies only the bytes asked for.
    """

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index
        self.fds = {name: os.open(index.path(f"{name}.bin"), os.O_RDONLY)
                    for name in ("tokens", "sent_off", "cont") if index.path(f"{name}.bin").exists()}

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}

    def sentence_spans(self, starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token offsets ``[b0, b1)`` of ``counts[i]`` sentences from sentence ``starts[i]`` on."""
        fd = self.fds["sent_off"]
        buffers = [os.pread(fd, (n + 1) * 8, s * 8) for s, n in zip(starts.tolist(), counts.tolist())]
        first = np.fromiter((int.from_bytes(b[:8], "little", signed=True) for b in buffers), np.int64, len(buffers))
        last = np.fromiter((int.from_bytes(b[-8:], "little", signed=True) for b in buffers), np.int64, len(buffers))
        return first, last

    def ranges(self, name: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """The values of array ``name`` at ``[starts[i], ends[i])`` for every i, concatenated."""
        dtype = self.index.dtype(name)
        size = dtype.itemsize
        fd = self.fds[name]
        data = b"".join(os.pread(fd, (e - s) * size, s * size) for s, e in zip(starts.tolist(), ends.tolist()))
        return np.frombuffer(data, dtype=dtype)
