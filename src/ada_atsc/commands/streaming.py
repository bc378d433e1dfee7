"""The output side of ``extract`` and ``absa``: analyse ``--text`` or a streamed ``--input``, write JSONL records
to ``--output`` or standard output as they come, and report bad records on standard error."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator

from ..ate.extract import stream_records
from ..textio import TextRecord, iter_texts


def write_stream(args: argparse.Namespace, analyse: Callable[[list[str]], list[list[dict]]], field: str,
                 command: str) -> int:
    """Run ``analyse`` over ``--text`` or ``--input`` and write JSONL; returns the exit status."""
    from ..fileio import atomic_open

    records: Iterator[TextRecord] = iter([TextRecord(1, args.text)]) if args.text else iter_texts(args.input)
    if args.input and not args.no_progress:
        from tqdm.auto import tqdm

        records = iter(tqdm(records, desc=command, unit="text", file=sys.stderr))
    outputs = stream_records(records, analyse, args.batch_size, field)
    total = errors = 0
    if args.output:
        with atomic_open(args.output) as handle:
            for record in outputs:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                total += 1
                errors += "error" in record
    else:
        for record in outputs:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            total += 1
            errors += "error" in record
    if errors:
        print(f"ada-atsc {command}: {errors} of {total} record(s) could not be analysed", file=sys.stderr)
    if args.text and errors:
        return 2
    return 0
