"""``ada-atsc extract``: aspect terms (spans only) in raw text, with an extractor from ``train --task ate``.

``--text`` for one text, or ``--input`` (.txt a text a line, JSONL ``text`` field, CSV ``text`` column) and
``--output`` (JSONL, one record per input text, in input order, written as the input streams in; a bad
input record gets an error record in its place and the run goes on).
"""

from __future__ import annotations

import argparse

from .arguments import add_model_source, add_text_io_arguments, check_text_io


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="an aspect extractor written by 'ada-atsc train --task ate'")
    add_text_io_arguments(parser)
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from .streaming import run_text_stream

    check_text_io(args)
    return run_text_stream(args, "extract", (args.model,))
