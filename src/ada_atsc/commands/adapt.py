"""``ada-atsc adapt``: your own reviews, no labels -> a model bundle for your domain (see :mod:`ada_atsc.adapt`).

Prints ``adapt.json``'s summary as one JSON line at the end; the bundle is used with ``absa --model DIR``,
``serve --model DIR``, ``export --model DIR``, ``evaluate --model DIR`` and ``AbsaPipeline(DIR)``.
"""

from __future__ import annotations

import argparse
import json

from .arguments import add_model_source, add_output_dir, add_progress, add_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..adapt.options import SCALES

    parser.add_argument("--corpus", required=True,
                        help="the target reviews: .txt (a review a line), JSONL or CSV with 'text' (or --text_field), "
                             "optionally .gz")
    add_output_dir(parser, "the bundle: tagger/ and tagger-int8/ (or extractor/ and classifier/ with --pipeline), "
                           "adapt.json, README.md (and work/, the stages)")
    parser.add_argument("--resume", action="store_true", help="continue a killed run: complete stages are reused")
    parser.add_argument("--labeled", nargs="+", default=None, metavar="FILE",
                        help="labelled source data replacing the shipped set (SemEval-2014 restaurants and laptops, "
                             "MAMS): SemEval/MAMS XML, JSONL, CSV")
    parser.add_argument("--model_name_or_path", "--bert_model", dest="model", default=None,
                        help="the encoder to adapt (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small",
                        help="budget: small (this 2-core CPU; default), full (the paper's, a GPU), tiny (tests)")
    add_seed(parser, default=42, what="every stage")
    parser.add_argument("--pipeline", action="store_true",
                        help="an extractor and a classifier (two models) instead of one unified tagger (the default)")
    parser.add_argument("--no_export", dest="export", action="store_false",
                        help="leave out the tagger's ONNX int8 export (commands then run the PyTorch tagger)")
    parser.add_argument("--no_label_mix_correction", dest="label_mix_correction", action="store_false",
                        help="--pipeline: estimate the target's label mix but do not correct the classifier's probabilities")
    parser.add_argument("--text_field", default=None, help="the JSON field or CSV column of the review text")
    parser.add_argument("--extraction_precision", type=float, default=0.8,
                        help="pseudo-labelled sentences kept must be this exact on the source dev set (default 0.8)")
    parser.add_argument("--polarity_precision", type=float, default=0.9,
                        help="pseudo-labelled polarities kept must be this accurate on the source dev set (default 0.9)")
    parser.add_argument("--max_per_term", type=int, default=8,
                        help="pseudo-labelled pairs kept per aspect term and label (balance; default 8)")
    parser.add_argument("--self_training_rounds", type=int, default=None, metavar="N",
                        help="rounds of self-training (default: the scale's: "
                             + ", ".join(f"{name} {scale.rounds}" for name, scale in sorted(SCALES.items()))
                             + "); 0 keeps the source-trained model")
    add_progress(parser)
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from ..adapt import AdaptOptions, run_adapt

    options = AdaptOptions(corpus=args.corpus, output_dir=args.output_dir, labeled=tuple(args.labeled or ()),
                           model=args.model, scale=args.scale, seed=args.seed, resume=args.resume,
                           pipeline=args.pipeline, export=args.export,
                           overwrite=args.overwrite_output_dir, label_mix_correction=args.label_mix_correction,
                           text_field=args.text_field, extraction_precision=args.extraction_precision,
                           polarity_precision=args.polarity_precision, max_per_term=args.max_per_term,
                           self_training_rounds=args.self_training_rounds, progress=not args.no_progress)
    manifest = run_adapt(options)
    stages = manifest["stages"]
    summary = {"bundle": args.output_dir, "kind": manifest["kind"],
               "stage_seconds": {name: stage["seconds"] for name, stage in stages.items()}}
    if manifest["kind"] == "tagger":
        summary.update({"dev_joint_f1": manifest["dev_scores"]["final_tagger"].get("f1"),
                        "pseudo_sentences_kept": stages["tagger_self_training"]["summary"]["sentences_kept"],
                        "sentences_per_second": manifest["speed"]["sentences_per_second"], "runs": manifest["runs"]})
    else:
        summary.update({"label_mix_correction": manifest["label_mix_correction"],
                        "pseudo_pairs_kept": stages["self_training"]["summary"]["pairs_kept"],
                        "label_mix": stages["label_mix"]["summary"].get("target")})
    print(json.dumps(summary))
    return 0
