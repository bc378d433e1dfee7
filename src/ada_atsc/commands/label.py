"""``ada-atsc label <step>``: a few labels of your own, where they teach most (see :mod:`ada_atsc.label`).

* ``label select``: the sentences of your reviews worth labelling, pre-labelled by the model (a batch, JSONL);
* ``label export`` / ``label import``: the batch to Label Studio, Prodigy or doccano, and their annotations back
  into the project's sentence JSONL;
* ``label serve``: the batch in the browser, one sentence at a time, answers appended at once;
* ``label train``: one round of learning from the labels, warm-started from the current tagger.
"""

from __future__ import annotations

import argparse
import json

from .arguments import add_model_source, add_overwrite, add_progress, add_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..label.formats import FORMATS
    from ..label.select import DEFAULT_STRATEGY, STRATEGIES

    steps = parser.add_subparsers(dest="label_step", metavar="<step>", required=True)
    select = steps.add_parser("select", help="choose the sentences worth labelling, with the model's guesses",
                              description="choose the sentences of your reviews worth labelling, pre-labelled")
    select.add_argument("--model", required=True,
                        help="a unified tagger, an 'adapt' bundle (tagger or pair) that guesses and scores")
    select.add_argument("--corpus", required=True,
                        help="your reviews: .txt (a review a line), JSONL or CSV with 'text', optionally .gz")
    select.add_argument("--output", required=True, help="the batch (JSONL) to label")
    select.add_argument("--n", type=int, default=50, help="sentences in the batch (default 50)")
    select.add_argument("--strategy", choices=STRATEGIES, default=DEFAULT_STRATEGY,
                        help=f"how to choose (default {DEFAULT_STRATEGY}: the sentences the model is least sure of; "
                             "diverse: uncertain and spread out; random)")
    select.add_argument("--pool", type=int, default=20_000,
                        help="sentences sampled from the corpus and scored (default 20,000; bounds time and memory)")
    select.add_argument("--exclude", nargs="+", default=(), metavar="FILE",
                        help="labels files and earlier batches: their sentences are not chosen again")
    select.add_argument("--max_per_term", type=int, default=3,
                        help="at most this many sentences for any aspect term the model found (default 3)")
    select.add_argument("--batch_size", type=int, default=64, help="sentences per encoder call")
    add_seed(select, default=42, what="the pool sample and the random strategy")
    add_overwrite(select)
    add_progress(select)
    add_model_source(select)

    export = steps.add_parser("export", help="a batch to Label Studio, Prodigy or doccano",
                              description="write a batch, with the model's guesses, in an annotation tool's format")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--input", required=True, help="the batch (label select's output)")
    export.add_argument("--output", required=True, help="the file to import into the tool")
    add_overwrite(export)

    importer = steps.add_parser("import", help="annotations from Label Studio, Prodigy or doccano",
                                description="read an annotation tool's export into the project's sentence JSONL")
    importer.add_argument("--format", required=True, choices=FORMATS)
    importer.add_argument("--input", required=True, help="the tool's export")
    importer.add_argument("--output", required=True, help="labels (sentence JSONL: every training command reads it)")
    add_overwrite(importer)

    serve = steps.add_parser("serve", help="label a batch in the browser (one sentence at a time, keys)",
                             description="a web page to correct the model's guesses, one sentence at a time; every "
                                         "answer is appended to --output at once")
    serve.add_argument("--batch", required=True, help="the batch (label select's output)")
    serve.add_argument("--output", required=True,
                       help="the labels file: answers are appended (an existing one is continued, never replaced)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; any other address needs --token)")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--token", default=None,
                       help="every write needs it (Authorization: Bearer TOKEN; the page: /?token=TOKEN); default: "
                            "the ADA_LABEL_TOKEN environment variable")

    train = steps.add_parser("train", help="learn from your labels, starting from the current tagger",
                             description="one round: the tagger (a tagger bundle, updated in place, or a tagger "
                                         "directory with --output_dir) learns your labels, source data kept")
    train.add_argument("--model", required=True, help="a tagger bundle ('ada-atsc adapt') or a unified tagger")
    train.add_argument("--labels", nargs="+", required=True, metavar="FILE",
                       help="labels (label serve's or label import's output; the last answer for a sentence wins)")
    train.add_argument("--output_dir", default=None, help="the new tagger, for a tagger directory (not a bundle)")
    train.add_argument("--source", nargs="+", default=(), metavar="FILE",
                       help="labelled source data kept beside yours (default: the bundle's own, else the shipped set)")
    from ..label.train import (
        LabelTrainOptions as Round,  # the recipe's defaults live there, chosen by measurement
    )

    train.add_argument("--target_weight", type=int, default=Round.target_weight,
                       help="times each of your labels is seen per epoch")
    train.add_argument("--source_ratio", type=float, default=Round.source_ratio,
                       help="source sentences mixed in per (weighted) label of yours; 0: none")
    train.add_argument("--epochs", type=int, default=Round.epochs, help="passes over your labels and the source mixed in")
    train.add_argument("--learning_rate", type=float, default=Round.learning_rate)
    train.add_argument("--max_steps", type=int, default=Round.max_steps, help="at most this many steps a round")
    train.add_argument("--no_export", dest="export", action="store_false",
                       help="a bundle: do not renew its int8 export (commands then run the PyTorch tagger)")
    add_seed(train, default=42, what="the source sample and training")
    add_overwrite(train)
    add_progress(train)
    add_model_source(train)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..core.errors import AdaError

    if args.label_step == "select":
        from ..label.select import SelectOptions, select_batch

        summary = select_batch(SelectOptions(
            model=args.model, corpus=args.corpus, output=args.output, n=args.n, strategy=args.strategy,
            pool=args.pool, exclude=tuple(args.exclude), seed=args.seed, max_per_term=args.max_per_term,
            batch_size=args.batch_size, overwrite=args.overwrite_output_dir, progress=not args.no_progress))
        print(json.dumps(summary))
        return 0
    if args.label_step == "serve":
        import os

        from ..label.server import TOKEN_VARIABLE, check_binding, create_label_app

        token = args.token or os.environ.get(TOKEN_VARIABLE) or None
        check_binding(args.host, token)
        app = create_label_app(args.batch, args.output, token=token)
        import uvicorn

        print(f"labelling {args.batch} at http://{args.host}:{args.port}/" + ("?token=..." if token else ""),
              flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    if args.label_step == "train":
        from ..label.train import LabelTrainOptions, train_round

        print(json.dumps(train_round(LabelTrainOptions(
            model=args.model, labels=tuple(args.labels), output_dir=args.output_dir, source=tuple(args.source),
            target_weight=args.target_weight, source_ratio=args.source_ratio, epochs=args.epochs,
            learning_rate=args.learning_rate,
            max_steps=args.max_steps, export=args.export, seed=args.seed, overwrite=args.overwrite_output_dir,
            progress=not args.no_progress))))
        return 0
    if Path(args.output).exists() and not args.overwrite_output_dir:
        raise AdaError(f"{args.output}: exists already (pass --overwrite_output_dir to replace it)")
    if args.label_step == "export":
        from ..label.batch import read_batch
        from ..label.formats import export_batch

        print(json.dumps(export_batch(read_batch(args.input), args.format, Path(args.output))))
        return 0
    from ..label.formats import import_annotations, write_labels

    if not Path(args.input).is_file():
        raise AdaError(f"{args.input}: file not found")
    written = write_labels(import_annotations(Path(args.input), args.format), Path(args.output))
    print(json.dumps({"output": args.output, "sentences": written}))
    return 0
