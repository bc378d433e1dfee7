"""Ray, for inputs beyond one machine (``pip install 'ada-atsc[ray]'``): the pipeline over a Ray Dataset
(:func:`absa_with_ray`, the Python API), and Ray actors as the workers of a file command
(:class:`RayWorkerPool`, ``absa --ray auto|ADDRESS``: the same streamed input, ordered output and ``--resume``
as ``--workers``, the work spread over a cluster).

Ray schedules, retries and spreads the actors over the cluster; nothing here is a scheduler of our own. What
is ours is the size of the actor pool: each actor holds ``threads`` CPUs for its whole life, and Ray Data's
read and map tasks need a CPU too. A pool that takes every free CPU leaves the read backpressured and the run
waits forever (seen with ``concurrency=2`` on ``ray.init(num_cpus=2)``: "Active & requested resources: 3/2
CPU", progress 0/?). So the pool is sized from the cluster's free CPUs, less one kept for reading, and a pool
that cannot fit is one clear error before any work.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import replace

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


class _RayWorker:
    """A Ray actor holding one analyser (the models load once, in the actor)."""

    def __init__(self, spec: AnalyserSpec):
        self.analyse = spec.build()

    def run(self, items: list) -> list:
        return self.analyse(items)


class RayWorkerPool:
    """Ordered, bounded batch analysis on Ray actors: what :class:`~ada_atsc.bulk.workers.WorkerPool` does with
    local processes (``map_ordered``, ``close``). ``address`` ``auto`` joins the running Ray instance or starts
    a local one; anything else is a cluster address (``ray://head:10001``). The pool is sized as for
    :func:`absa_with_ray`; at most ``2 x actors`` batches are in flight."""

    def __init__(self, spec: AnalyserSpec, address: str = "auto", concurrency: int | None = None):
        ray = require_ray()
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            try:
                ray.init(address=None if address == "auto" else address, include_dashboard=False,
                         log_to_driver=False)
            except Exception as exc:  # Ray raises its own types for an unreachable cluster
                raise AdaError(f"--ray {address}: cannot start or join Ray ({' '.join(str(exc).split())[:200]})") from None
        try:
            size = actor_pool_size(float(ray.available_resources().get("CPU", 0.0)), spec.threads, concurrency)
        except AdaError:
            self.close()
            raise
        actor = ray.remote(num_cpus=spec.threads)(_RayWorker)
        self.actors = [actor.remote(replace(spec, device="cpu")) for _ in range(size)]

    def map_ordered(self, batches: Iterator[list]) -> Iterator[list]:
        """Each batch's result, in order; batches go to the actors in turn."""
        in_flight: deque = deque()
        for number, batch in enumerate(batches):
            in_flight.append(self.actors[number % len(self.actors)].run.remote(batch))
            if len(in_flight) >= 2 * len(self.actors):
                yield self.ray.get(in_flight.popleft())
        while in_flight:
            yield self.ray.get(in_flight.popleft())

    def close(self) -> None:
        for actor in getattr(self, "actors", []):
            self.ray.kill(actor)
        self.actors = []
        if self.started:
            self.ray.shutdown()
