"""The driver of every file command (``absa``, ``extract``, ``predict``, and what comes after them): run an
analyser over a stream of input records, in this process or in worker processes, and write JSONL records to
an output file (resumable) or standard output as they come; bad records are counted, not fatal.

The commands turn their flags into a :class:`StreamJob`; nothing here knows argparse.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from ..runtime.memory import for_long_run
from .output import ResumableOutput, skip_written
from .workers import AnalyserSpec, WorkerPool

Stream = Callable[[Iterator, Callable | None, int, Callable | None], Iterator[dict]]
"""(input records, analyser or None, batch size, map_batches or None) -> output records in input order:
:func:`~ada_atsc.bulk.stream.stream_records` or :func:`~ada_atsc.bulk.stream.stream_requests`."""


@dataclass(frozen=True)
class StreamJob:
    """One run of a file command: where its output goes and how it runs.

    ``long_run``: the input is a file (its models load for a long run: flat memory); ``grouped``: an input
    record may give several output records (``predict``: one per aspect); ``ray``: run the batches on Ray
    actors (``auto`` or a cluster address) instead of local worker processes."""

    command: str
    output: str | None = None
    resume: bool = False
    workers: int = 1
    batch_size: int = 32
    progress: bool = True
    long_run: bool = False
    grouped: bool = False
    unit: str = "text"
    ray: str | None = None


@dataclass(frozen=True)
class StreamResult:
    """What a run wrote: ``total`` records, ``errors`` of them error records; ``complete_already`` when a
    ``--resume`` found the output finished and did nothing."""

    total: int = 0
    errors: int = 0
    complete_already: bool = False


def line_of(item) -> int:
    """The input line of a record (a :class:`~ada_atsc.core.textio.TextRecord` or a request dict)."""
    return item["line"] if isinstance(item, dict) else item.line


def run_stream(job: StreamJob, spec: AnalyserSpec, items: Iterator, stream: Stream) -> StreamResult:
    """Run ``spec``'s analyser (with ``job.workers > 1``, in that many processes) over ``items`` and write the
    records ``stream`` makes. In this process the models load before the output is touched, so a bad model
    costs no data."""
    if job.resume and job.output and Path(job.output).exists() \
            and not ResumableOutput.partial_of(job.output).exists():
        print(f"ada-atsc {job.command}: {job.output} is complete already; nothing to resume", file=sys.stderr)
        return StreamResult(complete_already=True)
    analyse = None
    if job.workers == 1 and not job.ray:
        analyse = for_long_run(spec.load) if job.long_run else spec.load()
    output = ResumableOutput(job.output, resume=job.resume, grouped=job.grouped) if job.output else None
    if output and output.done:
        print(f"ada-atsc {job.command}: resuming after {output.done} record(s) in {output.partial}", file=sys.stderr)
        items = skip_written(items, output, line_of)
    if job.long_run and job.progress:
        from tqdm.auto import tqdm

        items = iter(tqdm(items, desc=job.command, unit=job.unit, file=sys.stderr,
                          initial=output.done if output else 0))
    pool = _pool(job, spec)
    records = stream(items, analyse, job.batch_size, pool.map_ordered if pool else None)
    total = errors = 0
    try:
        if output:
            with output:
                for chunk in _chunks(records, job.batch_size):
                    output.write_batch(chunk)
                    total += len(chunk)
                    errors += sum("error" in record for record in chunk)
        else:
            for record in records:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                total += 1
                errors += "error" in record
    except KeyboardInterrupt:
        if output:
            print(f"ada-atsc {job.command}: interrupted; {output.partial} holds the records written so far "
                  "(run again with --resume to continue)", file=sys.stderr)
        raise
    finally:
        if pool:
            pool.close()
    return StreamResult(total, errors)


def _pool(job: StreamJob, spec: AnalyserSpec):
    """The workers of a run: Ray actors, local processes, or none (the analyser runs in this process)."""
    if job.ray:
        from .ray import RayWorkerPool

        return RayWorkerPool(spec, job.ray)
    return WorkerPool(spec, job.workers) if job.workers > 1 else None


def _chunks(records: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while chunk := list(islice(records, size)):
        yield chunk
