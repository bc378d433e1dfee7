"""The output side of ``extract`` and ``absa``: analyse ``--text`` or a streamed ``--input``, write JSONL records
to ``--output`` or standard output as they come, and report bad records on standard error."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from ..ate.extract import stream_records
from ..bulk import AnalyserSpec, ResumableOutput, WorkerPool, for_long_run, skip
from ..textio import TextRecord, iter_texts


def write_stream(args: argparse.Namespace, spec: AnalyserSpec, field: str, command: str) -> int:
    """Run the analyser of ``spec`` (with ``--workers N``, in N processes) over ``--text`` or ``--input`` and
    write JSONL; returns the exit status. A streamed ``--input`` is a long run in one process as in workers
    (``bulk.for_long_run``: flat memory)."""
    records: Iterator[TextRecord] = iter([TextRecord(1, args.text)]) if args.text else iter_texts(args.input)
    if args.resume and Path(args.output).exists() and not ResumableOutput.partial_of(args.output).exists():
        print(f"ada-atsc {command}: {args.output} is complete already; nothing to resume", file=sys.stderr)
        return 0
    analyse = None  # in this process, the models load before the output is touched: a bad model costs no data
    if args.workers == 1:
        analyse = for_long_run(spec.load) if args.input else spec.load()
    output = ResumableOutput(args.output, resume=args.resume) if args.output else None
    if output and output.done:
        print(f"ada-atsc {command}: resuming after {output.done} record(s) in {output.partial}", file=sys.stderr)
        records = skip(records, output.done)
    if args.input and not args.no_progress:
        from tqdm.auto import tqdm

        records = iter(tqdm(records, desc=command, unit="text", file=sys.stderr,
                            initial=output.done if output else 0))
    pool = WorkerPool(spec, args.workers) if args.workers > 1 else None
    outputs = stream_records(records, analyse, args.batch_size, field,
                             map_batches=pool.map_ordered if pool else None)
    total = errors = 0
    try:
        if output:
            with output:
                for batch in _chunks(outputs, args.batch_size):
                    output.write_batch(batch)
                    total += len(batch)
                    errors += sum("error" in record for record in batch)
        else:
            for record in outputs:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                total += 1
                errors += "error" in record
    except KeyboardInterrupt:
        if output:
            print(f"ada-atsc {command}: interrupted; {output.partial} holds the records written so far "
                  "(run again with --resume to continue)", file=sys.stderr)
        raise
    finally:
        if pool:
            pool.close()
    if errors:
        print(f"ada-atsc {command}: {errors} of {total} record(s) could not be analysed", file=sys.stderr)
    if args.text and errors:
        return 2
    return 0


def _chunks(records: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while chunk := list(islice(records, size)):
        yield chunk
