"""``ada-atsc extract``: aspect terms (spans only) in raw text, with an extractor from ``train --task ate``.

``--text`` for one text, or ``--input`` (.txt a text a line, JSONL ``text`` field, CSV ``text`` column) and
``--output`` (JSONL, one record per input text, in input order, written as the input streams in; a bad
input record gets an error record in its place and the run goes on).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from ..errors import AdaError
from ..textio import TextRecord, check_text_file, iter_texts

MAX_TEXT_CHARS = 100_000
"""A longer text is an error record (it is not a review; split it first)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="an aspect extractor written by 'ada-atsc train --task ate'")
    add_text_io_arguments(parser)


def add_text_io_arguments(parser: argparse.ArgumentParser) -> None:
    """The input/output flags of ``extract`` and ``absa``."""
    parser.add_argument("--text", help="one text (a sentence or a whole review)")
    parser.add_argument("--input", help=".txt (a text a line), .jsonl ('text' field) or .csv ('text' column)")
    parser.add_argument("--output", help="JSONL file to write (default: standard output)")
    parser.add_argument("--overwrite_output_dir", "--overwrite", action="store_true", help="replace an existing --output")
    parser.add_argument("--batch_size", type=int, default=32, help="texts per batch")
    parser.add_argument("--max_seq_length", type=int, default=128, help="tokens per window (longer sentences: windows)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--disable_tqdm", "--no_progress", dest="disable_tqdm", action="store_true", help="no progress bar")


def check_text_io(args: argparse.Namespace) -> None:
    """One clear line for a wrong combination of flags, before any model is loaded."""
    if bool(args.text) == bool(args.input):
        raise AdaError("give either --text or --input FILE")
    if args.text is not None and not args.text.strip():
        raise AdaError("--text is empty")
    if args.input:
        check_text_file(args.input)
    if args.output and Path(args.output).exists() and not args.overwrite_output_dir:
        raise AdaError(f"{args.output}: exists already (pass --overwrite_output_dir to replace it)")
    if args.batch_size < 1:
        raise AdaError(f"--batch_size must be at least 1, got {args.batch_size}")
    if args.max_seq_length < 16:
        raise AdaError(f"--max_seq_length {args.max_seq_length} is too short (at least 16)")


def usable(record: TextRecord) -> str | None:
    """Why a record cannot be analysed (None if it can)."""
    if record.error:
        return record.error
    if not record.text or not record.text.strip():
        return f"line {record.line}: empty text"
    if len(record.text) > MAX_TEXT_CHARS:
        return f"line {record.line}: text of {len(record.text)} characters (at most {MAX_TEXT_CHARS}; split it)"
    return None


def stream_records(records: Iterator[TextRecord], analyse: Callable[[list[str]], list[list[dict]]],
                   batch_size: int, field: str) -> Iterator[dict]:
    """Output records in input order: ``analyse`` runs on each batch of usable texts; bad ones get errors."""
    while True:
        batch = list(islice(records, batch_size))
        if not batch:
            return
        good = [r for r in batch if usable(r) is None]
        results = iter(analyse([r.text for r in good]) if good else [])
        for record in batch:
            base = {"line": record.line, **({"id": record.id} if record.id is not None else {})}
            problem = usable(record)
            if problem:
                yield {**base, "error": problem}
            else:
                yield {**base, "text": record.text, field: next(results)}


def write_stream(args: argparse.Namespace, analyse: Callable[[list[str]], list[list[dict]]], field: str,
                 command: str) -> int:
    """Run ``analyse`` over ``--text`` or ``--input`` and write JSONL; returns the exit status."""
    from ..fileio import atomic_open

    records: Iterator[TextRecord] = iter([TextRecord(1, args.text)]) if args.text else iter_texts(args.input)
    if args.input and not args.disable_tqdm:
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


def run(args: argparse.Namespace) -> int:
    from .extractor import Extractor

    check_text_io(args)
    extractor = Extractor(args.model, device=args.device, batch_size=args.batch_size,
                          max_seq_length=args.max_seq_length)
    return write_stream(args, extractor.extract, "aspects", "extract")
