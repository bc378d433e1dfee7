"""Worker processes for a long run: each holds its own models, batches come back in input order.

* :class:`AnalyserSpec`: what to load (a picklable recipe, so each worker or Ray actor builds its own models
  once): ``absa`` (extractor + classifier, texts in: each text's aspects), ``analyse`` (extractor +
  classifier [+ category model], texts in: each text's ``{"aspects", "categories"}``), ``extract``
  (extractor, texts in), ``categories`` (a category model, texts in: the categories of each) or ``predict``
  (classifier, ``predict`` request records in).
* :class:`WorkerPool`: ``workers`` processes, their torch / ONNX Runtime threads pinned to their share of the
  cores. Batches go out as the input streams in, at most ``2 x workers`` batches in flight, and come back in
  input order: memory does not grow with the input.
* Memory stays flat over hours: the models of a long run load through
  :func:`~ada_atsc.runtime.memory.for_long_run` (ONNX Runtime without its memory arena), and each batch's
  freed memory goes back to the system.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from ..core.errors import AdaError
from ..runtime.memory import for_long_run
from ..runtime.model_dir import is_export

Analyse = Callable[[list], list]
"""A batch of inputs (texts, or request records for ``predict``) -> one result per input."""

KINDS = ("absa", "analyse", "categories", "extract", "predict")

_ANALYSER: Analyse | None = None


@dataclass(frozen=True)
class AnalyserSpec:
    """What a command or a worker loads: ``kind`` "absa" (``models`` = extractor, classifier), "extract"
    (extractor) or "predict" (classifier), on ``device`` (workers always run on the CPU)."""

    kind: str
    models: tuple[str, ...]
    batch_size: int = 32
    max_seq_length: int = 128
    threads: int = 1
    device: str | None = "cpu"

    def load(self) -> Analyse:
        """The analyser, its models loaded in this process as they are."""
        if self.kind == "absa":
            from ..absa.pipeline import AbsaPipeline

            pipeline = AbsaPipeline(*self.models, device=self.device, batch_size=self.batch_size,
                                    max_seq_length=self.max_seq_length)
            return lambda texts: [r.get("aspects", []) for r in pipeline.predict(texts)]
        if self.kind == "analyse":
            from ..absa.pipeline import AbsaPipeline

            extractor, classifier, *categories = self.models
            pipeline = AbsaPipeline(extractor, classifier, device=self.device, batch_size=self.batch_size,
                                    max_seq_length=self.max_seq_length, categories_dir=categories[0] if categories else None)
            return lambda texts: [{k: r.get(k, []) for k in ("aspects", "categories")} for r in pipeline.predict(texts)]
        if self.kind == "extract":
            from ..ate.extractor import Extractor

            extractor = Extractor(self.models[0], device=self.device, batch_size=self.batch_size,
                                  max_seq_length=self.max_seq_length)
            return extractor.extract
        if self.kind == "categories":
            from ..acsa.predict import CategoryClassifier

            model = CategoryClassifier(self.models[0], device=self.device, batch_size=self.batch_size,
                                       max_seq_length=self.max_seq_length)
            return model.categorise
        if self.kind == "predict":
            from ..atsc.predict import Predictor, predict_request_groups

            predictor = Predictor(self.models[0], device=self.device, batch_size=self.batch_size,
                                  max_seq_length=self.max_seq_length)
            return lambda requests: predict_request_groups(predictor, requests)
        raise AdaError(f"unknown analyser kind '{self.kind}' (one of {', '.join(KINDS)})")

    def build(self, *, worker: bool = False) -> Analyse:
        """The analyser of a long run in a worker or a Ray actor: threads pinned to ``threads``, models loaded
        by :func:`~ada_atsc.runtime.memory.for_long_run`.

        In a ``worker`` process whose models are all ONNX exports, PyTorch is never loaded (about 200 MB less
        per worker): the exports run on numpy, and transformers only loads tokenizers and configs.
        """
        if worker and self.exports_only():
            import sys

            os.environ["OMP_NUM_THREADS"] = str(self.threads)  # ONNX Runtime's share (runtime.onnx.default_threads)
            os.environ["TRANSFORMERS_VERBOSITY"] = "error"  # no "PyTorch was not found" notice: on purpose here
            if "torch" not in sys.modules:
                sys.modules["torch"] = None  # an import of torch fails fast: transformers then runs without it
        else:
            import torch

            torch.set_num_threads(self.threads)
        return for_long_run(self.load)

    def exports_only(self) -> bool:
        return all(is_export(model) for model in self.models if model)


def _init_worker(spec: AnalyserSpec) -> None:
    global _ANALYSER
    _ANALYSER = spec.build(worker=True)


def _analyse(items: list) -> list:
    return _ANALYSER(items)


class WorkerPool:
    """Ordered, bounded batch analysis in ``workers`` processes (see the module docstring)."""

    def __init__(self, spec: AnalyserSpec, workers: int):
        import multiprocessing

        if workers < 1:
            raise AdaError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch threads
        self.pool = context.Pool(workers, initializer=_init_worker, initargs=(replace(spec, device="cpu"),))

    def map_ordered(self, batches: Iterator[list]) -> Iterator[list]:
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
