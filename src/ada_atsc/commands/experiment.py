"""``ada-atsc experiment``: models x datasets x seeds, mean +- std table (see :mod:`ada_atsc.studies.experiment` for
the grid, its config file and its outputs). Prints the table; ``--dry_run`` lists the runs instead."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from ..core.errors import AdaError
from .arguments import add_model_source

TRAIN_FLAGS_SET_BY_EXPERIMENT = {"model_name_or_path", "model", "output_dir", "seed", "data_dir", "train_file",
                                 "dev_file", "test_file"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output_dir", help="folder of the whole grid (runs/, results.md/.csv/.json, scores.png)")
    parser.add_argument("--models", nargs="+", default=None,
                        help="NAME=PATH pairs (in a config: a mapping); 'packaged-minilm' names the shipped encoder")
    parser.add_argument("--datasets", nargs="+", default=None,
                        help="NAME=DIR pairs of prepare-semeval folders (in a config: a mapping)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--train", nargs="*", default=None,
                        help="KEY=VALUE 'ada-atsc train' flags for every run (in a config: a mapping)")
    parser.add_argument("--cross_domain", action=argparse.BooleanOptionalAction, default=True,
                        help="also score each run on the other datasets' test splits")
    parser.add_argument("--dry_run", action="store_true", help="list the runs and exit")
    add_model_source(parser)


def _mapping(value, flag: str) -> dict[str, object]:
    """``NAME=VALUE`` items (command line) or a mapping (config file) as a dict."""
    if value is None:
        raise AdaError(f"--{flag} is required (in the config or on the command line)")
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    out = {}
    for item in value:
        name, sep, rest = str(item).partition("=")
        if not sep or not name:
            raise AdaError(f"--{flag}: expected NAME=VALUE, got {item!r}")
        out[name] = rest
    return out


def _train_argv(train: dict) -> list[str]:
    """``train`` settings as ``ada-atsc train`` flags (``True``: the flag alone; ``False``/``None``: left out)."""
    argv: list[str] = []
    for key, value in train.items():
        flag = "--" + str(key).lstrip("-")
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"  # --train fp16=true on the command line
        if value is True:
            argv.append(flag)
        elif value not in (False, None):
            argv += [flag, str(value)]
    return argv


def train_settings(train) -> dict[str, object]:
    """The grid's ``train`` settings (flags under any of their spellings) as training option values, parsed and
    checked by ``train``'s own parser, so a run gets exactly what ``ada-atsc train`` would."""
    from ..studies.experiment import SET_BY_EXPERIMENT
    from .train import build_parser, training_options

    train = train if isinstance(train, dict) else _mapping(train or [], "train")
    forbidden = set(train) & TRAIN_FLAGS_SET_BY_EXPERIMENT
    if forbidden:
        raise AdaError(f"train: {', '.join(sorted(forbidden))} are set by the experiment")
    args = build_parser().parse_args(["--model_name_or_path", "x", "--output_dir", "x", *_train_argv(train)])
    return {k: v for k, v in asdict(training_options(args)).items() if k not in SET_BY_EXPERIMENT}


def run(args: argparse.Namespace) -> int:
    from ..studies.experiment import markdown_table, plan_runs, run_experiment

    if not args.output_dir:
        raise AdaError("--output_dir is required (in the config or on the command line)")
    runs = plan_runs(args.output_dir, _mapping(args.models, "models"), _mapping(args.datasets, "datasets"),
                     args.seeds, train_settings(args.train), cross_domain=args.cross_domain)
    if args.dry_run:
        for run in runs:
            print(f"{run['dir']}  {'(done)' if (run['dir'] / 'eval_results.json').is_file() else ''}")
        return 0
    results = run_experiment(runs, args.output_dir)
    print(markdown_table(results["rows"]), end="")
    if results["failures"]:
        raise AdaError(f"{len(results['failures'])} run(s) failed (see {Path(args.output_dir) / 'results.json'}); "
                       "rerun to retry them")
    return 0
