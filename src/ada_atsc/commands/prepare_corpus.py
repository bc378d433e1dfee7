"""``ada-atsc prepare-corpus``: raw reviews -> the LM corpus (see :mod:`ada_atsc.corpus`); prints the statistics
that are also written to ``<output>.stats.json``."""

from __future__ import annotations

import argparse
import json

from ..core.errors import AdaError
from .arguments import add_overwrite, add_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", default=[], help="review files: .txt, .jsonl/.json, .csv, or .gz of them")
    parser.add_argument("--task_data", nargs="+", default=[],
                        help="labelled task files (XML, JSONL, CSV) whose sentences become task-adaptive text")
    parser.add_argument("--output", required=True, help="the corpus file to write")
    parser.add_argument("--text_field", help="JSON key or CSV column holding the review text")
    parser.add_argument("--min_sentences", type=int, default=2, help="drop reviews with fewer sentences (NSP needs 2)")
    parser.add_argument("--max_sentences", type=int, help="stop once the corpus has this many sentences")
    parser.add_argument("--exclude", nargs="*", default=[], help="benchmark XML files whose sentences must not leak in")
    parser.add_argument("--num_workers", type=int, default=1, help="processes for sentence splitting")
    add_overwrite(parser)
    add_progress(parser)


def run(args: argparse.Namespace) -> int:
    from ..corpus import prepare_corpus

    if not args.input and not args.task_data:
        raise AdaError("give review files with --input, task data with --task_data, or both")
    stats = prepare_corpus(
        inputs=args.input,
        task_data=args.task_data,
        output=args.output,
        text_field=args.text_field,
        min_sentences=args.min_sentences,
        max_sentences=args.max_sentences,
        exclude=args.exclude,
        num_workers=args.num_workers,
        overwrite=args.overwrite_output_dir,
        progress=not args.no_progress,
    )
    print(json.dumps(stats, indent=2))
    return 0
