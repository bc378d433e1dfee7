"""``ada-atsc predict``: classify aspects in new sentences (``--text`` with ``--aspect``, or an ``--input`` file);
JSONL records, one per (sentence, aspect), to ``--output`` or standard output (see :mod:`ada_atsc.atsc.predict`).

An ``--input`` file streams through :mod:`ada_atsc.bulk` like ``absa`` and ``extract``: ``--workers N``
processes, ``--resume`` after a kill, a progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import AdaError
from .arguments import (
    add_inference_arguments,
    add_model_source,
    add_overwrite,
    add_stream_arguments,
    check_batch_options,
    check_stream_options,
)

CHUNK = 4096
"""Requests classified together (length-sorted inside); memory stays flat however long the file."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="a classifier directory written by 'ada-atsc train', or an aspect-category model "
                             "('train --task acsa': then --text alone, or --input texts, gives each category found)")
    parser.add_argument("--text", help="one sentence to classify (with --aspect)")
    parser.add_argument("--aspect", action="append", default=[],
                        help="an aspect term in --text, or a span START:END; repeat for several")
    parser.add_argument("--input", help="JSONL or CSV with 'sentence' and 'aspect' (or 'from'/'to', or 'aspects')")
    parser.add_argument("--output", help="JSONL file to write (default: standard output)")
    add_overwrite(parser)
    add_inference_arguments(parser, batch_size=64, batch_help="pairs per batch")
    add_stream_arguments(parser)
    add_model_source(parser)


def parse_cli_aspect(value: str) -> str | tuple[int, int]:
    """``--aspect food`` is a term; ``--aspect 4:8`` a character span."""
    head, sep, tail = value.partition(":")
    if sep and head.strip().isdigit() and tail.strip().isdigit():
        return (int(head), int(tail))
    return value


def run(args: argparse.Namespace) -> int:
    from ..atsc.predict import read_requests
    from ..bulk import AnalyserSpec
    from ..bulk.run import run_stream
    from ..bulk.stream import stream_requests
    from .streaming import stream_job, worker_threads

    if bool(args.text) == bool(args.input):
        raise AdaError("give either --text (with --aspect) or --input FILE")
    from ..runtime.model_dir import model_kind

    if model_kind(args.model) == "acsa":
        return _run_categories(args)
    if args.text and not args.aspect:
        raise AdaError("--text needs at least one --aspect")
    check_batch_options(args.batch_size, args.max_seq_length)
    check_stream_options(args)
    if args.input and not Path(args.input).is_file():
        raise AdaError(f"{args.input}: file not found")
    if args.input and Path(args.input).suffix.lower() not in (".jsonl", ".json", ".csv"):
        raise AdaError(f"{args.input}: expected a .jsonl or .csv file of sentences and aspects")
    if args.text:
        requests = iter([{"sentence": args.text, "aspects": [parse_cli_aspect(a) for a in args.aspect]}])
    else:
        requests = read_requests(Path(args.input))
    spec = AnalyserSpec("predict", (args.model,), args.batch_size, args.max_seq_length, worker_threads(args),
                        device=args.device)
    job = stream_job(args, "predict", batch_size=CHUNK, grouped=True, unit="request")
    result = run_stream(job, spec, requests, stream_requests)
    if result.errors:
        print(f"ada-atsc predict: {result.errors} of {result.total} record(s) could not be classified", file=sys.stderr)
    return 2 if result.total and result.errors == result.total else 0


def _run_categories(args: argparse.Namespace) -> int:
    """A category model: each text's categories (``--text``, or ``--input`` texts streamed like ``absa``)."""
    from .arguments import check_text_io
    from .streaming import run_text_stream

    if args.aspect:
        raise AdaError("--aspect: a category model finds the categories itself; give --text alone")
    check_batch_options(args.batch_size, args.max_seq_length)
    check_text_io(args)
    return run_text_stream(args, "categories", (args.model,), command="predict", field="categories")
