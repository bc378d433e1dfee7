"""``ada-atsc demo`` (``make demo``): the whole method on the shipped data and model (see :mod:`ada_atsc.demo`);
prints the results table at the end."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import AdaError
from .arguments import add_output_dir, add_progress, add_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..demo import SCALES

    add_output_dir(parser, "every file the demo writes goes under here", required=False, default="demo_output",
                   overwrite=False)
    parser.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("DEMO_SCALE", "small"),
                        help="budget: tiny (tests), small (2-core CPU, < 20 min; default), full (the paper's, GPU)")
    parser.add_argument("--model", default=None, help="encoder directory (default: the packaged all-MiniLM-L6-v2)")
    add_seed(parser, default=42, what="every step (data split, pregeneration, training)")
    add_progress(parser)


def run(args: argparse.Namespace) -> int:
    from ..demo import SCALES, run_demo
    from ..models import packaged_minilm_path

    if args.scale not in SCALES:
        raise AdaError(f"unknown demo scale '{args.scale}' (choose from {', '.join(SCALES)})")
    model = args.model or packaged_minilm_path()
    table = run_demo(Path(args.output_dir), model, SCALES[args.scale], seed=args.seed, progress=not args.no_progress)
    print(table)
    return 0
