"""``ada-atsc probe``: aspect robustness of a classifier on contrast variants of a labeled test set (see
:mod:`ada_atsc.studies.probe`); prints the counts and scores as one JSON line."""

from __future__ import annotations

import argparse
import json

from ..core.errors import AdaError
from .arguments import (
    add_inference_arguments,
    add_model_source,
    add_output_dir,
    add_seed,
    check_batch_options,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="a labeled test set: JSONL, CSV, SemEval/MAMS XML")
    parser.add_argument("--model", default=None, help="a classifier directory (without it: write the probe set only)")
    add_output_dir(parser, "write probe_set.jsonl, predictions, results and report here", required=False)
    add_seed(parser, default=42, what="the probe's random choices")
    parser.add_argument("--variants", type=int, default=2, help="variants per item (alternately after / before)")
    parser.add_argument("--max_clause_words", type=int, default=20, help="longest sentence used as an added clause")
    add_inference_arguments(parser, batch_size=64, batch_help="pairs or sentences per batch")
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from ..studies.probe import run_probe

    check_batch_options(args.batch_size, args.max_seq_length)
    if not args.model and not args.output_dir:
        raise AdaError("give --model to score the probe, or --output_dir to write the probe set")
    results = run_probe(args.data, args.output_dir, model=args.model, seed=args.seed, variants=args.variants,
                        max_clause_words=args.max_clause_words, max_seq_length=args.max_seq_length,
                        batch_size=args.batch_size, device=args.device, overwrite=args.overwrite_output_dir)
    summary = {"data": results["data"], "model": results["model"], **results["counts"]}
    if "scores" in results:
        summary.update({k: round(results["scores"][k], 4) for k in ("original_accuracy", "variant_accuracy",
                                                                    "robust_share")})
    print(json.dumps(summary))
    return 0
