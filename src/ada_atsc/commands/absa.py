"""``ada-atsc absa``: raw text in, every aspect with its sentiment out (an extractor and a classifier).

``--text`` for one text, or ``--input`` (.txt a text a line, JSONL ``text`` field, CSV ``text`` column) and
``--output``: JSONL, one record per input text in input order, streamed with a progress bar; a bad input
record gets an error record in its place and the run goes on. With ``--categories`` (a model from
``train --task acsa``) each record also holds ``categories``: per sentence, the categories it speaks about.
"""

from __future__ import annotations

import argparse

from .arguments import (
    add_model_source,
    add_text_io_arguments,
    check_category_model,
    check_text_io,
    pipeline_models,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="a bundle of both models ('ada-atsc adapt') or a unified tagger ('train --task unified')")
    parser.add_argument("--extractor", default=None, help="an aspect extractor ('ada-atsc train --task ate')")
    parser.add_argument("--classifier", default=None, help="an aspect sentiment classifier ('ada-atsc train')")
    parser.add_argument("--categories", default=None,
                        help="an aspect-category model ('ada-atsc train --task acsa'): each record also gets the "
                             "categories of each sentence, implicit opinions included")
    add_text_io_arguments(parser)
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from .streaming import run_text_stream

    check_text_io(args)
    if args.categories:
        check_category_model(args.categories)
        return run_text_stream(args, "analyse", (*pipeline_models(args), args.categories), command="absa", field=None)
    return run_text_stream(args, "absa", pipeline_models(args))
