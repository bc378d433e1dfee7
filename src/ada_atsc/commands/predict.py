"""``ada-atsc predict``: classify aspects in new sentences (``--text`` with ``--aspect``, or an ``--input`` file);
JSONL records, one per (sentence, aspect), to ``--output`` or standard output (see :mod:`ada_atsc.atsc.predict`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from itertools import islice
from pathlib import Path

from ..errors import AdaError
from .arguments import add_model_source, add_overwrite, check_batch_options, check_output_file

CHUNK = 4096
"""Requests classified together (length-sorted inside); memory stays flat however long the file."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a classifier directory written by 'ada-atsc train'")
    parser.add_argument("--text", help="one sentence to classify (with --aspect)")
    parser.add_argument("--aspect", action="append", default=[],
                        help="an aspect term in --text, or a span START:END; repeat for several")
    parser.add_argument("--input", help="JSONL or CSV with 'sentence' and 'aspect' (or 'from'/'to', or 'aspects')")
    parser.add_argument("--output", help="JSONL file to write (default: standard output)")
    add_overwrite(parser)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--device", default=None)
    add_model_source(parser)


def parse_cli_aspect(value: str) -> str | tuple[int, int]:
    """``--aspect food`` is a term; ``--aspect 4:8`` a character span."""
    head, sep, tail = value.partition(":")
    if sep and head.strip().isdigit() and tail.strip().isdigit():
        return (int(head), int(tail))
    return value


def run(args: argparse.Namespace) -> int:
    from ..atsc.predict import Predictor, predict_requests, read_requests
    from ..fileio import atomic_open

    if bool(args.text) == bool(args.input):
        raise AdaError("give either --text (with --aspect) or --input FILE")
    if args.text and not args.aspect:
        raise AdaError("--text needs at least one --aspect")
    check_batch_options(args.batch_size, args.max_seq_length)
    check_output_file(args.output, args.overwrite_output_dir)
    if args.input and Path(args.input).suffix.lower() not in (".jsonl", ".json", ".csv"):
        raise AdaError(f"{args.input}: expected a .jsonl or .csv file of sentences and aspects")
    if args.text:
        requests = iter([{"sentence": args.text, "aspects": [parse_cli_aspect(a) for a in args.aspect]}])
    else:
        requests = read_requests(Path(args.input))
    predictor = Predictor(args.model, device=args.device, batch_size=args.batch_size,
                          max_seq_length=args.max_seq_length)
    total = errors = 0
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(atomic_open(args.output)) if args.output else sys.stdout
        while chunk := list(islice(requests, CHUNK)):  # the file streams through in chunks
            for record in predict_requests(predictor, chunk):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                total += 1
                errors += "error" in record
    if errors:
        print(f"ada-atsc predict: {errors} of {total} record(s) could not be classified", file=sys.stderr)
    return 2 if total and errors == total else 0
