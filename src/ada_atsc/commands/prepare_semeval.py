"""``ada-atsc prepare-semeval``: benchmark files -> the JSONL splits that training reads (see
:mod:`ada_atsc.data.prepare` for what is written); prints the counts per split as JSON."""

from __future__ import annotations

import argparse
import json

from .arguments import add_output_dir, add_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", nargs="+", required=True, help="data files (XML, JSONL, CSV); several are concatenated")
    add_output_dir(parser, "folder of the split files and stats.json (train and test runs share it)")
    parser.add_argument("--istrain", action="store_true", help="write train/dev/train_split instead of test")
    parser.add_argument("--noconfl", action="store_true", help="drop examples with polarity 'conflict'")
    parser.add_argument("--upsample", nargs=3, type=float, metavar=("POS", "NEG", "NEU"),
                        help="resample the training data with replacement to these class ratios (sum 1)")
    add_seed(parser, default=41, what="the dev split and the upsampling")


def run(args: argparse.Namespace) -> int:
    from ..data.prepare import prepare_semeval

    stats = prepare_semeval(
        files=args.files,
        output_dir=args.output_dir,
        is_train=args.istrain,
        drop_conflict=args.noconfl,
        upsample=args.upsample,
        seed=args.seed,
        overwrite=args.overwrite_output_dir,
    )
    print(json.dumps(stats, indent=2))
    return 0
