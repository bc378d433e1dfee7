"""Micro-batching: requests that arrive together run as one batch in a single inference thread.

Each request puts its items (pairs to classify, or texts to analyse) on a queue and awaits a future. The
worker thread takes the first waiting job, then, while other requests are in flight, keeps taking jobs for up
to ``max_wait_ms`` or until ``max_batch_size`` items are gathered (a lone request does not wait), runs the model once over all their items, and hands every job its own
slice of the results. Inference never runs on the event loop, so the server keeps accepting requests; one job
whose items fail never touches the others (each job is run alone after a batch error, to find the culprit).

Batches of ever-changing shapes leave glibc's heap fragmented, so a long-running server's RSS creeps up; at
most once a second, when the queue is empty, the worker hands freed heap memory back to the system
(:func:`release_free_memory`).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..runtime.memory import release_free_memory

TRIM_INTERVAL_S = 1.0
INFERENCE_THREAD_NAME = "ada-inference"
"""The inference thread's name in the operating system (``top -H``, ``/proc/PID/task/*/comm``), so that a
profile tells its CPU time from the event loop's."""


def name_os_thread(name: str) -> None:
    """Give the calling thread ``name`` (15 bytes at most) where the platform allows (Linux); else nothing."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


@dataclass
class Job:
    items: list
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    enqueued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """One inference thread over ``run_batch`` (a function from a list of items to a list of results)."""

    def __init__(self, run_batch: Callable[[list], list], *, max_batch_size: int = 64, max_wait_ms: float = 5.0,
                 on_batch: Callable[[int, float], None] | None = None):
        self.run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.on_batch = on_batch
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.in_flight = 0  # submitted and not yet answered; read by the worker to decide whether to wait
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._work, name="inference", daemon=True)
        self.thread.start()

    async def submit(self, items: Sequence) -> list:
        """The results of ``items``, in order, computed in a batch with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        job = Job(list(items), loop.create_future(), loop)
        with self.lock:
            self.in_flight += 1
        self.jobs.put(job)
        try:
            return await job.future
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self) -> None:
        """Finish the jobs already queued, then stop the thread."""
        self.jobs.put(None)
        self.thread.join()

    def _gather(self, first: Job) -> tuple[list[Job], bool]:
        batch, size, deadline = [first], len(first.items), time.perf_counter() + self.max_wait
        # wait for more only while other requests are in flight: a lone request runs at once
        while size < self.max_batch_size and (self.in_flight > len(batch) or not self.jobs.empty()):
            try:
                job = self.jobs.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
            size += len(job.items)
        return batch, False

    def _work(self) -> None:
        name_os_thread(INFERENCE_THREAD_NAME)
        stop = False
        trimmed = time.perf_counter()
        while not stop:
            first = self.jobs.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            started = time.perf_counter()
            try:
                results = self.run_batch([item for job in batch for item in job.items])
                at = 0
                for job in batch:
                    self._resolve(job, results[at:at + len(job.items)])
                    at += len(job.items)
            except Exception:  # find the job that failed; the others still get their results
                for job in batch:
                    try:
                        self._resolve(job, self.run_batch(job.items))
                    except Exception as exc:
                        self._fail(job, exc)
            if self.on_batch:
                self.on_batch(sum(len(job.items) for job in batch), time.perf_counter() - started)
            if self.jobs.empty() and time.perf_counter() - trimmed > TRIM_INTERVAL_S:
                release_free_memory()
                trimmed = time.perf_counter()

    @staticmethod
    def _resolve(job: Job, results: list) -> None:
        job.loop.call_soon_threadsafe(lambda: job.future.done() or job.future.set_result(results))

    @staticmethod
    def _fail(job: Job, exc: Exception) -> None:
        job.loop.call_soon_threadsafe(lambda: job.future.done() or job.future.set_exception(exc))
