"""Scoring large inputs: several worker processes in input order with bounded memory, and output that an
interrupted run can resume.

* :class:`WorkerPool`: ``workers`` processes, each holding its own models (built once by a picklable
  :class:`AnalyserSpec`, its torch / ONNX Runtime threads pinned to its share of the cores). Batches go out
  as the input streams in, at most ``2 x workers`` batches in flight, and come back in input order: memory
  does not grow with the input.
* Memory stays flat over hours: the models of a long run load through :func:`for_long_run` (ONNX Runtime
  without its memory arena), and each batch's freed memory goes back to the system.
* :class:`ResumableOutput`: the output is written to ``<output>.partial`` and flushed after every batch; it
  becomes ``<output>`` (one rename) only when the run completes. ``resume=True`` keeps the complete records
  of an earlier partial file (a torn last line is cut off) and skips as many input records, so a killed run
  continues without repeating or losing a record (the output has one record per input record, in order).
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from .errors import AdaError

Analyse = Callable[[list[str]], list[list[dict]]]  # a batch of texts -> each text's aspects

_ANALYSER: Analyse | None = None


@dataclass(frozen=True)
class AnalyserSpec:
    """What a command or a worker loads: ``kind`` "absa" (``models`` = extractor, classifier) or "extract"
    (extractor), on ``device`` (workers always run on the CPU)."""

    kind: str
    models: tuple[str, ...]
    batch_size: int = 32
    max_seq_length: int = 128
    threads: int = 1
    device: str | None = "cpu"

    def load(self) -> Analyse:
        """The analyser, its models loaded in this process as they are."""
        if self.kind == "absa":
            from .absa.pipeline import AbsaPipeline

            pipeline = AbsaPipeline(*self.models, device=self.device, batch_size=self.batch_size,
                                    max_seq_length=self.max_seq_length)
            return lambda texts: [r.get("aspects", []) for r in pipeline.predict(texts)]
        if self.kind == "extract":
            from .ate.extractor import Extractor

            extractor = Extractor(self.models[0], device=self.device, batch_size=self.batch_size,
                                  max_seq_length=self.max_seq_length)
            return extractor.extract
        raise AdaError(f"unknown analyser kind '{self.kind}'")

    def build(self, *, worker: bool = False) -> Analyse:
        """The analyser of a long run in a worker or a Ray actor: threads pinned to ``threads``, models loaded
        by :func:`for_long_run`.

        In a ``worker`` process whose models are all ONNX exports, PyTorch is never loaded (about 200 MB less
        per worker): the exports run on numpy, and transformers only loads tokenizers and configs.
        """
        if worker and self.exports_only():
            import sys

            os.environ["OMP_NUM_THREADS"] = str(self.threads)  # ONNX Runtime's share (export.default_threads)
            os.environ["TRANSFORMERS_VERBOSITY"] = "error"  # no "PyTorch was not found" notice: on purpose here
            if "torch" not in sys.modules:
                sys.modules["torch"] = None  # an import of torch fails fast: transformers then runs without it
        else:
            import torch

            torch.set_num_threads(self.threads)
        return for_long_run(self.load)

    def exports_only(self) -> bool:
        from .export import is_export

        return all(is_export(model) for model in self.models)


def for_long_run(load: Callable[[], Analyse]) -> Analyse:
    """The analyser ``load()`` makes, set up to score a long stream with flat memory: its ONNX sessions open
    without the memory arena, which would keep room for the largest batch ever seen (with it, two int8 workers
    grew from 1.2 GB to 1.7 GB over 100,000 lines; docs/inference.md), and each batch's freed memory goes back
    to the system."""
    from .export.runtime import memory_arena
    from .memory import release_free_memory

    with memory_arena(False):
        analyse = load()

    def analyse_and_release(texts: list[str]) -> list[list[dict]]:
        try:
            return analyse(texts) if texts else []
        finally:
            release_free_memory()

    return analyse_and_release


def _init_worker(spec: AnalyserSpec) -> None:
    global _ANALYSER
    _ANALYSER = spec.build(worker=True)


def _analyse(texts: list[str]) -> list[list[dict]]:
    return _ANALYSER(texts)


class WorkerPool:
    """Ordered, bounded batch analysis in ``workers`` processes (see the module docstring)."""

    def __init__(self, spec: AnalyserSpec, workers: int):
        import multiprocessing

        if workers < 1:
            raise AdaError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch threads
        self.pool = context.Pool(workers, initializer=_init_worker, initargs=(replace(spec, device="cpu"),))

    def map_ordered(self, batches: Iterator[list[str]]) -> Iterator[list[list[dict]]]:
        """Each batch's result, in order; at most ``2 x workers`` batches are read ahead."""
        in_flight: deque = deque()
        for batch in batches:
            in_flight.append(self.pool.apply_async(_analyse, (batch,)))
            if len(in_flight) >= 2 * self.workers:
                yield in_flight.popleft().get()
        while in_flight:
            yield in_flight.popleft().get()

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def default_threads(workers: int) -> int:
    """Each worker's share of the cores (at least one thread)."""
    return max(1, (os.cpu_count() or 1) // workers)


class ResumableOutput:
    """JSONL output through ``<path>.partial`` (see the module docstring); use as a context manager."""

    @staticmethod
    def partial_of(path: str | Path) -> Path:
        return Path(path).with_name(Path(path).name + ".partial")

    def __init__(self, path: str | Path, *, resume: bool):
        self.path = Path(path)
        self.partial = self.partial_of(path)
        self.done = 0
        if resume and self.partial.exists():
            self.done = self._keep_complete_lines()
        elif self.partial.exists():
            self.partial.unlink()  # an earlier interrupted run's partial output; --resume would keep it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = None

    def _keep_complete_lines(self) -> int:
        """Cut a torn last line (a kill mid-write) and count the complete records."""
        data = self.partial.read_bytes()
        keep = data[: data.rfind(b"\n") + 1]
        if len(keep) != len(data):
            with self.partial.open("r+b") as handle:
                handle.truncate(len(keep))
        count = 0
        for number, line in enumerate(keep.splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                raise AdaError(f"{self.partial}:{number}: not a JSON record; remove the file to start over") from None
            count += 1
        return count

    def __enter__(self) -> ResumableOutput:
        self.handle = self.partial.open("a", encoding="utf-8", newline="\n")
        return self

    def write_batch(self, records: list[dict]) -> None:
        self.handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        self.handle.flush()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.handle.close()
        if exc_type is None:
            os.replace(self.partial, self.path)


def skip(records: Iterator, count: int) -> Iterator:
    """``records`` after its first ``count`` items (those a resumed run has written already)."""
    for _ in islice(records, count):
        pass
    return records


class RayAnalyser:
    """A Ray Data actor: builds the models once, then adds an ``aspects`` column (one JSON string per text,
    the same records ``absa`` writes, or ``{"error": ...}`` for a text that cannot be analysed)."""

    def __init__(self, spec: AnalyserSpec, column: str = "text"):
        self.analyse = spec.build()
        self.column = column

    def __call__(self, batch: dict) -> dict:
        from .ate.extract import usable
        from .textio import TextRecord

        texts = [str(t) if t is not None else None for t in batch[self.column]]
        problems = [usable(TextRecord(i, t)) for i, t in enumerate(texts, 1)]
        results = iter(self.analyse([t for t, p in zip(texts, problems) if p is None]))
        batch["aspects"] = [json.dumps({"error": p} if p else {"aspects": next(results)}, ensure_ascii=False)
                            for p in problems]
        return batch


def absa_with_ray(dataset, extractor: str, classifier: str, *, column: str = "text", concurrency: int = 2,
                  batch_size: int = 32, threads: int = 1, max_seq_length: int = 128):
    """The pipeline over a Ray Dataset, for inputs beyond one machine: ``map_batches`` with a pool of
    ``concurrency`` actors, each running :class:`~ada_atsc.absa.pipeline.AbsaPipeline` (the same code as
    ``absa``). Returns the dataset with an ``aspects`` column of JSON strings. Ray schedules, retries and
    spreads the actors over the cluster; nothing here is a scheduler of our own."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise AdaError("the Ray path needs the optional extra: pip install 'ada-atsc[ray]'") from None
    spec = AnalyserSpec("absa", (str(extractor), str(classifier)), batch_size, max_seq_length, threads)
    return dataset.map_batches(RayAnalyser, fn_constructor_args=(spec, column), batch_size=batch_size,
                               batch_format="numpy", concurrency=concurrency, num_cpus=threads)
