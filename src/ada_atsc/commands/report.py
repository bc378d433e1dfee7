"""``ada-atsc report``: many reviews in, a report people read out: ``report.html`` (one self-contained file),
``aspects.csv`` (one row per mention) and ``summary.json`` (the numbers behind every chart).

The reviews stream through the pipeline on the bulk path (``--workers``, ``--resume``, a progress bar); aspect
terms are merged into groups (spelling variants, then close encoder embeddings, then ``--aspect_map``); with
``--categories`` the category model's sentence-level opinions, implicit ones included, get their own table.
See :mod:`ada_atsc.report`.
"""

from __future__ import annotations

import argparse
import json

from ..core.errors import AdaError
from .arguments import (
    add_inference_arguments,
    add_model_source,
    add_output_dir,
    add_progress,
    check_category_model,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True,
                        help="reviews: .txt (one a line), .jsonl ('text' field) or .csv ('text' column), possibly "
                             ".gz; other fields (date, hotel ...) are kept for the trend and the entity tables")
    add_output_dir(parser, "folder of report.html, aspects.csv and summary.json")
    models = parser.add_argument_group("models")
    models.add_argument("--model", default=None, help="a bundle of extractor and classifier ('ada-atsc adapt') or a "
                        "unified tagger ('train --task unified')")
    models.add_argument("--extractor", default=None, help="an aspect extractor ('train --task ate')")
    models.add_argument("--classifier", default=None, help="an aspect sentiment classifier ('train')")
    models.add_argument("--categories", default=None,
                        help="an aspect-category model ('train --task acsa'): a category table, implicit opinions "
                             "included, and each aspect group's category")
    grouping = parser.add_argument_group("grouping and the report")
    grouping.add_argument("--aspect_map", default=None,
                          help="YAML or JSON, category: [term, ...]: these terms form that group (overrides the "
                               "automatic merges listed in the report)")
    grouping.add_argument("--grouping_encoder", default=None,
                          help="encoder whose term embeddings merge similar aspects (default: all-MiniLM-L6-v2 "
                               "when installed)")
    grouping.add_argument("--no_embedding_grouping", action="store_true",
                          help="merge spelling variants only (case, plural, determiners)")
    grouping.add_argument("--date_field", default="date", help="the input field holding an ISO date (default: date)")
    grouping.add_argument("--entity_field", default=None,
                          help="the input field naming what is reviewed (e.g. hotel): top and bottom entities")
    grouping.add_argument("--min_count", type=int, default=10,
                          help="fewer mentions than this are flagged as too few to read (default 10)")
    grouping.add_argument("--examples", type=int, default=3, help="example sentences per group and polarity")
    grouping.add_argument("--title", default="Aspect sentiment report")
    run = parser.add_argument_group("run")
    add_inference_arguments(run, batch_size=32, batch_help="reviews per batch")
    run.add_argument("--workers", type=int, default=1, help="processes for the analysis (each loads the models)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted report (its analysis is kept in OUTPUT_DIR/.work)")
    add_progress(run)
    add_model_source(parser)


def options_of(args: argparse.Namespace):
    """The :class:`~ada_atsc.report.options.ReportOptions` of a parsed command line (checked)."""
    from ..core.textio import check_text_file
    from ..report.options import ReportOptions
    from .arguments import check_batch_options, pipeline_models

    extractor, classifier = pipeline_models(args)
    check_text_file(args.input)
    check_batch_options(args.batch_size, args.max_seq_length)
    if args.categories:
        check_category_model(args.categories)
    if args.min_count < 1 or args.examples < 0 or args.workers < 1:
        raise AdaError("--min_count and --workers must be at least 1, --examples at least 0")
    return ReportOptions(input=args.input, output_dir=args.output_dir, extractor=extractor, classifier=classifier,
                         categories=args.categories, aspect_map=args.aspect_map,
                         grouping_encoder=args.grouping_encoder, no_embedding_grouping=args.no_embedding_grouping,
                         date_field=args.date_field, entity_field=args.entity_field, min_count=args.min_count,
                         examples_per_label=args.examples, title=args.title, workers=args.workers,
                         batch_size=args.batch_size, max_seq_length=args.max_seq_length, device=args.device,
                         resume=args.resume, overwrite=args.overwrite_output_dir, progress=not args.no_progress)


def run(args: argparse.Namespace) -> int:
    from ..report.build import make_report

    outcome = make_report(options_of(args))
    print(json.dumps(outcome))
    return 0
