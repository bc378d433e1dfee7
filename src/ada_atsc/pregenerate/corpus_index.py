"""First pass: stream the corpus once, tokenise it in batches and store it as flat arrays on disk.

The generator then reads each block of documents, and each random "other document" for segment B, from these
arrays with plain reads (:class:`~ada_atsc.pregenerate.span_reader.SpanReader`), so memory stays flat however large the corpus is. No pickle or
shelf: raw little-endian arrays. Each distinct chunk of text is tokenised once (:mod:`.chunk_cache`).

Files in the index folder (``n`` sentences, ``d`` documents, ``t`` tokens):

- ``tokens.bin``   (``t``, uint16/uint32) token ids of all sentences, in corpus order
- ``cont.bin``     (``t``, uint8) 1 where a token continues the previous token's word (whole-word masking)
- ``sent_off.bin`` (``n + 1``, int64) token offset of each sentence
- ``sent_info.bin`` (``n``, uint16) per sentence: its token count (saturated at 32767) in the low 15 bits,
  and bit 15 set for the last sentence of a document. Workers hold this one array in memory (2 bytes a
  sentence) to find where a random segment B ends; tokens and offsets are read from disk.
- ``doc_sent.bin`` (``d + 1``, int64) sentence offset of each document
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import AdaError
from .chunk_cache import ChunkCache, encode_lines, needs_space_between_lines, tokenizer_is_chunk_local
from .recipe import LAST_IN_DOCUMENT, SENTENCE_LENGTH_MASK
from .tokenizer_info import TokenizerInfo

log = logging.getLogger(__name__)

@dataclass
class CorpusIndex:
    """Where the tokenised corpus lives and its sizes (``meta.json`` in the index folder)."""

    directory: str
    num_sentences: int
    num_documents: int
    num_tokens: int
    token_dtype: str
    whole_word: bool
    lines: int = 0
    non_utf8_lines: int = 0
    empty_sentences: int = 0
    extra: dict = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return Path(self.directory) / name

    def read(self, name: str, start: int, stop: int) -> np.ndarray:
        """Copy ``[start, stop)`` of one array into memory (a plain read: the index is never memory-mapped)."""
        dtype = self.dtype(name)
        with open(self.path(f"{name}.bin"), "rb") as handle:
            handle.seek(start * dtype.itemsize)
            return np.fromfile(handle, dtype=dtype, count=stop - start)

    def dtype(self, name: str) -> np.dtype:
        return np.dtype(
            {"tokens": self.token_dtype, "cont": "u1", "sent_off": "i8", "sent_info": "u2", "doc_sent": "i8"}[name]
        )


def read_line_blocks(path: str, start: int, end: int, block_bytes: int) -> Iterator[tuple[list[str], int, list[int]]]:
    """Lines of bytes ``[start, end)`` of a file, a block at a time: ``(lines, bytes read, bad lines)``.

    ``bad lines`` are the indices (in the block) of lines that are not valid UTF-8; their bad bytes become
    U+FFFD. Reading blocks and decoding them whole is several times faster than a ``readline`` loop.
    """
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = end - start
        carry = b""
        while remaining > 0 or carry:
            data = handle.read(min(block_bytes, remaining)) if remaining > 0 else b""
            remaining = remaining - len(data) if data else 0  # a file that shrank ends the range
            data = carry + data
            if not data:
                break
            cut = data.rfind(b"\n") + 1 if remaining > 0 else len(data)
            if cut == 0:  # one line longer than a block: keep reading
                carry = data
                continue
            block, carry = data[:cut], data[cut:]
            bad: list[int] = []
            try:
                lines = block.decode("utf-8").split("\n")
            except UnicodeDecodeError:  # rare: find the bad lines one by one
                lines = []
                for i, raw in enumerate(block.split(b"\n")):
                    try:
                        lines.append(raw.decode("utf-8"))
                    except UnicodeDecodeError:
                        lines.append(raw.decode("utf-8", errors="replace"))
                        bad.append(i)
            if block.endswith(b"\n"):
                lines.pop()  # the empty piece after the last newline is not a line
            yield lines, len(block), bad


def _split_points(corpus: Path, parts: int) -> list[int]:
    """Byte offsets that cut the corpus into about ``parts`` ranges, each starting right after a blank line."""
    size = corpus.stat().st_size
    points = [0]
    with open(corpus, "rb") as handle:
        for k in range(1, parts):
            target = max(size * k // parts, points[-1])
            handle.seek(target)
            handle.readline()  # finish the line we landed in
            while True:
                line = handle.readline()
                if not line:
                    break
                if not line.strip():
                    break
            position = handle.tell()
            if points[-1] < position < size:
                points.append(position)
    return points + [size]


_CACHES: dict[tuple[str, bool], ChunkCache] = {}


@dataclass(frozen=True)
class TokeniseJob:
    """One worker's task of the corpus pass: bytes ``[start, end)`` of the corpus into part files ``prefix.*``."""

    corpus: str
    start: int
    end: int
    backend_json: str
    whole_word: bool
    token_dtype: str
    prefix: str
    block_bytes: int
    progress: bool
    in_worker: bool
    chunk_cache: bool
    space_between_lines: bool = False  # chunk_cache.needs_space_between_lines


def _chunk_cache(tokenizer: Any, job: TokeniseJob) -> ChunkCache:
    """One cache per tokenizer per process: a pool worker keeps it warm from one corpus range to the next."""
    if not job.in_worker:  # in-process: the cache goes when the pass ends
        return ChunkCache(tokenizer, np.dtype(job.token_dtype), job.whole_word)
    key = (job.backend_json, job.whole_word)
    if key not in _CACHES:
        _CACHES.clear()
        _CACHES[key] = ChunkCache(tokenizer, np.dtype(job.token_dtype), job.whole_word)
    return _CACHES[key]


def tokenise_range(job: TokeniseJob) -> dict:
    """Tokenise bytes ``[start, end)`` of the corpus into part files (a worker entry; also used in-process)."""
    from tokenizers import Tokenizer

    os.environ["TOKENIZERS_PARALLELISM"] = "false" if job.in_worker else os.environ.get(
        "TOKENIZERS_PARALLELISM", "true")
    tokenizer = Tokenizer.from_str(job.backend_json)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    whole_word = job.whole_word
    dtype = np.dtype(job.token_dtype)
    prefix = job.prefix
    files = {name: open(f"{prefix}.{name}.bin", "wb") for name in ("tokens", "cont", "sent_off", "doc_sent")}  # noqa: SIM115
    state = {"sentences": 0, "tokens": 0, "empty": 0, "carry_boundary": True, "lines": 0, "bad": 0, "first_bad": 0}

    cache = _chunk_cache(tokenizer, job) if job.chunk_cache else None
    lookups_before, misses_before = (cache.lookups, cache.misses) if cache is not None else (0, 0)

    def flush(texts: list[str], starts: list[bool]) -> None:
        if not texts:
            return
        if job.space_between_lines:  # a sentence that continues its document follows a space
            first = state["carry_boundary"]
            texts = [text if start or (i == 0 and first) else " " + text
                     for i, (text, start) in enumerate(zip(texts, starts))]
        if cache is not None:
            ids, cont, lens = cache.encode(texts)
        else:
            ids, cont, lens = encode_lines(tokenizer, texts, whole_word, dtype)
        start_flags = np.asarray(starts, dtype=bool)
        start_flags[0] |= state["carry_boundary"]
        state["carry_boundary"] = False
        keep = lens > 0
        for i in np.flatnonzero(~keep):  # a dropped line passes its "new document" mark to the next sentence
            if start_flags[i]:
                following = np.flatnonzero(keep[i + 1 :])
                if following.size:
                    start_flags[i + 1 + following[0]] = True
                else:
                    state["carry_boundary"] = True
        state["empty"] += int((~keep).sum())
        files["tokens"].write(ids.astype(dtype, copy=False).tobytes())
        if whole_word:
            files["cont"].write(cont.tobytes())
        kept_lens = lens[keep]
        files["sent_off"].write((state["tokens"] + np.cumsum(kept_lens)).astype(np.int64).tobytes())
        doc_starts = state["sentences"] + np.flatnonzero(start_flags[keep])
        files["doc_sent"].write(doc_starts.astype(np.int64).tobytes())
        state["sentences"] += int(keep.sum())
        state["tokens"] += int(kept_lens.sum())

    boundary = False
    bar = None
    try:
        if job.progress:
            from tqdm import tqdm

            bar = tqdm(total=job.end - job.start, unit="B", unit_scale=True, desc="tokenising corpus")
        for lines, nbytes, bad in read_line_blocks(job.corpus, job.start, job.end, job.block_bytes):
            if bad:
                state["bad"] += len(bad)
                state["first_bad"] = state["first_bad"] or state["lines"] + bad[0] + 1
            if job.start == 0 and state["lines"] == 0 and lines:
                lines[0] = lines[0].lstrip("\ufeff")
            state["lines"] += len(lines)
            stripped = [line.strip() for line in lines]
            blank = np.fromiter((not text for text in stripped), dtype=bool, count=len(stripped))
            # a sentence starts a document when the line before it is blank (or the block's first line
            # follows a blank line of the previous block)
            after_blank = np.concatenate([[boundary], blank[:-1]])
            texts = [text for text in stripped if text]
            flush(texts, after_blank[~blank].tolist())
            if blank.size:
                boundary = bool(blank[-1])
            if bar is not None:
                bar.update(nbytes)
    finally:
        if bar is not None:
            bar.close()
        for handle in files.values():
            handle.close()
    del state["carry_boundary"]
    if cache is not None:
        state["chunk_lookups"] = cache.lookups - lookups_before
        state["chunk_misses"] = cache.misses - misses_before
    return state


def _append_shifted(out, path: str, shift: int, chunk: int = 1 << 20) -> None:
    """Append an int64 part file to ``out`` with ``shift`` added, in bounded chunks."""
    with open(path, "rb") as handle:
        while True:
            values = np.fromfile(handle, dtype=np.int64, count=chunk)
            if values.size == 0:
                break
            out.write((values + shift).tobytes())


def write_sentence_info(directory: Path, doc_sent: np.ndarray, sentences: int, chunk: int = 1 << 18) -> None:
    """``sent_info.bin`` from ``sent_off.bin`` (streamed in chunks) and the document offsets."""
    ends = doc_sent[1:] - 1  # the last sentence of each document, ascending
    with open(directory / "sent_off.bin", "rb") as offsets, open(directory / "sent_info.bin", "wb") as out:
        previous = np.fromfile(offsets, dtype=np.int64, count=1)
        first = 0
        while first < sentences:
            following = np.fromfile(offsets, dtype=np.int64, count=min(chunk, sentences - first))
            lengths = np.diff(following, prepend=previous)
            info = np.minimum(lengths, SENTENCE_LENGTH_MASK).astype(np.uint16)
            lo, hi = np.searchsorted(ends, [first, first + following.size])
            info[ends[lo:hi] - first] |= LAST_IN_DOCUMENT
            out.write(info.tobytes())
            previous = following[-1:]
            first += following.size


def _cache_stats(results: list[dict]) -> dict:
    lookups = sum(r.get("chunk_lookups", 0) for r in results)
    misses = sum(r.get("chunk_misses", 0) for r in results)
    return {"chunk_cache": {"lookups": lookups, "tokenised": misses,
                            "hit_rate": round(1 - misses / lookups, 4) if lookups else None}}


def build_index(
    corpus: str | os.PathLike,
    info: TokenizerInfo,
    directory: str | os.PathLike,
    *,
    whole_word: bool,
    block_bytes: int = 1 << 20,
    progress: bool = True,
    pool: Any = None,
    parts: int = 1,
    chunk_cache: bool | None = None,
) -> CorpusIndex:
    """Tokenise ``corpus`` (one sentence per line, blank line between documents) into ``directory``.

    With a process ``pool`` the corpus is cut at document boundaries into ``parts`` byte ranges tokenised in
    parallel and joined in order: the index is the same for any number of parts. Lines that yield no tokens
    (e.g. only zero-width characters) are dropped; non-UTF-8 bytes become U+FFFD with a warning. Fails with
    a clear :class:`AdaError` when the corpus has no sentences or a single document (segment B needs
    another document to draw from). ``chunk_cache`` (default: whenever it is exact for this tokenizer, see
    :mod:`.chunk_cache`) tokenises each distinct chunk once; the index is the same with or without it.
    """
    corpus = Path(corpus)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if corpus.is_dir():
        raise AdaError(f"{corpus}: is a directory; give the corpus file (one sentence per line)")
    if not corpus.is_file():
        raise AdaError(f"{corpus}: corpus file not found")
    dtype = info.token_dtype
    if chunk_cache is None:
        chunk_cache = tokenizer_is_chunk_local(info.backend_json)
    points = _split_points(corpus, parts if pool is not None else 1)
    jobs = [
        TokeniseJob(corpus=str(corpus), start=a, end=b, backend_json=info.backend_json, whole_word=whole_word,
                    token_dtype=dtype.str, prefix=str(directory / f"part{i:04d}"), block_bytes=block_bytes,
                    progress=progress and pool is None, in_worker=pool is not None, chunk_cache=chunk_cache,
                    space_between_lines=needs_space_between_lines(info.backend_json))
        for i, (a, b) in enumerate(zip(points[:-1], points[1:]))
    ]
    results = list(pool.imap(tokenise_range, jobs)) if pool is not None and len(jobs) > 1 else [
        tokenise_range(job) for job in jobs
    ]
    sentences = tokens = 0
    with open(directory / "sent_off.bin", "wb") as sent_out, open(directory / "doc_sent.bin", "wb") as doc_out:
        sent_out.write(np.zeros(1, np.int64).tobytes())
        for job, result in zip(jobs, results):
            _append_shifted(sent_out, job.prefix + ".sent_off.bin", tokens)
            _append_shifted(doc_out, job.prefix + ".doc_sent.bin", sentences)
            sentences += result["sentences"]
            tokens += result["tokens"]
        doc_out.write(np.asarray([sentences], dtype=np.int64).tobytes())
    for name in ("tokens", "cont"):
        parts_paths = [Path(job.prefix + f".{name}.bin") for job in jobs]
        if len(parts_paths) == 1:
            os.replace(parts_paths[0], directory / f"{name}.bin")
            continue
        with open(directory / f"{name}.bin", "wb") as out:
            for part in parts_paths:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, out, 1 << 22)
                part.unlink()
    for job in jobs:
        for name in ("sent_off", "doc_sent"):
            Path(job.prefix + f".{name}.bin").unlink()
    n_docs = (directory / "doc_sent.bin").stat().st_size // 8 - 1
    if sentences == 0:
        raise AdaError(f"{corpus}: the corpus holds no sentences (expected one sentence per line)")
    if n_docs < 2:
        raise AdaError(
            f"{corpus}: only one document was found; separate documents with a blank line "
            "(segment B of a random next-sentence pair must come from another document)"
        )
    doc_sent = np.fromfile(directory / "doc_sent.bin", dtype=np.int64)
    write_sentence_info(directory, doc_sent, sentences)
    del doc_sent
    bad = sum(r["bad"] for r in results)
    if bad:
        first = next(i for i, r in enumerate(results) if r["bad"])
        line = sum(r["lines"] for r in results[:first]) + results[first]["first_bad"]
        log.warning("%s: %d line(s) are not valid UTF-8 (first: line %d); bad bytes were replaced by U+FFFD",
                    corpus, bad, line)
    index = CorpusIndex(
        directory=str(directory),
        num_sentences=sentences,
        num_documents=int(n_docs),
        num_tokens=tokens,
        token_dtype=dtype.str,
        whole_word=whole_word,
        lines=sum(r["lines"] for r in results),
        non_utf8_lines=bad,
        empty_sentences=sum(r["empty"] for r in results),
        extra=_cache_stats(results) if chunk_cache else {"chunk_cache": None},
    )
    (directory / "meta.json").write_text(json.dumps(asdict(index), indent=2), encoding="utf-8")
    return index
