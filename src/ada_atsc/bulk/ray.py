"""The pipeline over a Ray Dataset, for inputs beyond one machine (``pip install 'ada-atsc[ray]'``).

Ray schedules, retries and spreads the actors over the cluster; nothing here is a scheduler of our own. What
is ours is the size of the actor pool: each actor holds ``threads`` CPUs for its whole life, and Ray Data's
read and map tasks need a CPU too. A pool that takes every free CPU leaves the read backpressured and the run
waits forever (seen with ``concurrency=2`` on ``ray.init(num_cpus=2)``: "Active & requested resources: 3/2
CPU", progress 0/?). So the pool is sized from the cluster's free CPUs, less one kept for reading, and a pool
that cannot fit is one clear error before any work.
"""

from __future__ import annotations

import json

from ..core.errors import AdaError
from ..core.textio import TextRecord
from .stream import usable
from .workers import AnalyserSpec

READ_CPUS = 1
"""CPUs left free for Ray Data's read and map tasks."""


class RayAnalyser:
    """A Ray Data actor: builds the models once, then adds an ``aspects`` column (one JSON string per text,
    the same records ``absa`` writes, or ``{"error": ...}`` for a text that cannot be analysed)."""

    def __init__(self, spec: AnalyserSpec, column: str = "text"):
        self.analyse = spec.build()
        self.column = column

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) if t is not None else None for t in batch[self.column]]
        problems = [usable(TextRecord(i, t)) for i, t in enumerate(texts, 1)]
        results = iter(self.analyse([t for t, p in zip(texts, problems) if p is None]))
        batch["aspects"] = [json.dumps({"error": p} if p else {"aspects": next(results)}, ensure_ascii=False)
                            for p in problems]
        return batch


def require_ray():
    """The ``ray`` module, or one clear line naming the optional extra."""
    try:
        import ray
    except ImportError:
        raise AdaError("the Ray path needs the optional extra: pip install 'ada-atsc[ray]'") from None
    return ray


def actor_pool_size(free_cpus: float, threads: int, concurrency: int | None = None) -> int:
    """How many actors of ``threads`` CPUs fit in ``free_cpus`` with :data:`READ_CPUS` left for reading;
    ``concurrency`` (asked for) is checked against it. One clear error when none fits."""
    if threads < 1:
        raise AdaError(f"threads must be at least 1, got {threads}")
    fits = int((free_cpus - READ_CPUS) // threads)
    if fits < 1:
        raise AdaError(f"the Ray cluster has {free_cpus:g} free CPU(s): an actor of the pipeline needs {threads} "
                       f"and Ray Data's reading needs {READ_CPUS} more; start Ray with more CPUs "
                       f"(ray.init(num_cpus={threads + READ_CPUS})) or lower threads")
    if concurrency is None:
        return fits
    if concurrency < 1:
        raise AdaError(f"concurrency must be at least 1, got {concurrency}")
    if concurrency > fits:
        raise AdaError(f"concurrency {concurrency} x {threads} thread(s) does not fit the Ray cluster's "
                       f"{free_cpus:g} free CPU(s) with {READ_CPUS} left for reading: at most {fits}")
    return concurrency


def absa_with_ray(dataset, extractor: str, classifier: str, *, column: str = "text", concurrency: int | None = None,
                  batch_size: int = 32, threads: int = 1, max_seq_length: int = 128):
    """The pipeline over a Ray Dataset: ``map_batches`` with a pool of actors, each running
    :class:`~ada_atsc.absa.pipeline.AbsaPipeline` (the same code as ``absa``). Returns the dataset with an
    ``aspects`` column of JSON strings. The pool is sized from the cluster's free CPUs (see the module
    docstring); ``concurrency`` asks for a size, checked to fit."""
    ray = require_ray()
    if not ray.is_initialized():
        ray.init()
    size = actor_pool_size(float(ray.available_resources().get("CPU", 0.0)), threads, concurrency)
    spec = AnalyserSpec("absa", (str(extractor), str(classifier)), batch_size, max_seq_length, threads)
    return dataset.map_batches(RayAnalyser, fn_constructor_args=(spec, column), batch_size=batch_size,
                               batch_format="numpy", concurrency=size, num_cpus=threads)
