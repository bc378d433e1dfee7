"""``ada-atsc <command>``: one subcommand per step of the pipeline, in the order data flows.

Each command lives in its own module of :mod:`ada_atsc.commands`, which exposes ``add_arguments(parser)`` and
``run(args) -> int``; the library below them never sees argparse. Modules are imported only for the command
being run, so ``ada-atsc --help`` stays fast.

Flags can also come from a YAML or JSON file: ``ada-atsc train --config train.yaml --seed 7`` reads the
file's keys as defaults (names as the flags, any of a flag's spellings, without ``--``) and the command line
wins.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .commands.arguments import apply_model_source
from .core.errors import AdaError

# command -> (module, one-line help). The order is the pipeline's order.
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare-semeval": ("ada_atsc.commands.prepare_semeval", "1. data: SemEval/MAMS XML, CSV, JSONL -> train/dev/test JSONL"),
    "prepare-corpus": ("ada_atsc.commands.prepare_corpus", "2. corpus: raw reviews -> one sentence per line, blank line between documents"),
    "pregenerate": ("ada_atsc.commands.pregenerate", "3. pregenerate: corpus -> epochs of masked-LM + next-sentence instances"),
    "lm-finetune": ("ada_atsc.commands.lm_finetune", "4. lm-finetune: pregenerated epochs -> domain-adapted model directory"),
    "lm-finetune-simple": ("ada_atsc.commands.lm_finetune_simple", "4. lm-finetune (simple mode): raw corpus -> domain-adapted model"),
    "train": ("ada_atsc.commands.train", "5. train: fine-tune an aspect-target sentiment classifier"),
    "evaluate": ("ada_atsc.commands.evaluate", "5. evaluate: score a classifier on any dataset"),
    "probe": ("ada_atsc.commands.probe", "5. probe: aspect robustness, contrast variants of a labeled test set"),
    "experiment": ("ada_atsc.commands.experiment", "5. experiment: models x datasets x seeds, mean +- std table"),
    "predict": ("ada_atsc.commands.predict", "6. predict: classify aspects in new sentences"),
    "extract": ("ada_atsc.commands.extract", "6. extract: aspect terms in raw text (an extractor from train --task ate)"),
    "absa": ("ada_atsc.commands.absa", "6. absa: raw text -> every aspect with its sentiment (extractor + classifier)"),
    "serve": ("ada_atsc.commands.serve", "6. serve: an HTTP API (FastAPI) with micro-batching over the trained models"),
    "export": ("ada_atsc.commands.export", "6. export: a classifier or extractor -> ONNX (fp32 or int8) for fast CPU inference"),
    "adapt": ("ada_atsc.commands.adapt", "7. adapt: your own reviews, no labels -> a model bundle for your domain"),
    "label": ("ada_atsc.commands.label", "7. label: the sentences worth labelling, pre-labelled; annotation tools in and out"),
    "report": ("ada_atsc.commands.report", "7. report: many reviews -> aspect groups, categories, trends: report.html"),
    "demo": ("ada_atsc.demo", "the whole method on the shipped data and model"),
}


def load_config(path: str) -> dict:
    """Read a YAML or JSON config file into a flat dict of flag defaults."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AdaError(f"{file}: cannot read config: {exc.strerror}") from exc
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:
        first = " ".join(str(exc).split())
        raise AdaError(f"{file}: not valid {'JSON' if file.suffix.lower() == '.json' else 'YAML'}: {first}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AdaError(f"{file}: a config file must hold a mapping of flag names to values")
    return {str(key).lstrip("-").replace("-", "_"): value for key, value in data.items()}


def _command_in(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if arg in COMMANDS), None)


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    """The top-level parser; only ``command``'s module is imported to add its flags."""
    parser = argparse.ArgumentParser(
        prog="ada-atsc",
        allow_abbrev=False,
        description="Domain adaptation of BERT encoders and aspect-target sentiment classification (BERT-ADA).",
    )
    parser.add_argument("--log_level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    chosen = None
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if name == command:
            module = importlib.import_module(module_name)
            sub_parser.add_argument("--config", help="YAML or JSON file of flag defaults (the command line wins)")
            sub_parser.add_argument("--log_level", default=argparse.SUPPRESS,
                                    choices=["debug", "info", "warning", "error"], help="console log level")
            module.add_arguments(sub_parser)
            sub_parser.set_defaults(_module=module)
            chosen = sub_parser
    return parser, chosen


def _config_by_dest(config: dict, parser: argparse.ArgumentParser) -> dict:
    """Config keys named by any spelling of a flag (``disable_tqdm`` for ``--no_progress``) under its ``dest``."""
    dests = {action.dest for action in parser._actions}
    spelling = {option.lstrip("-").replace("-", "_"): action.dest
                for action in parser._actions for option in action.option_strings}
    return {key if key in dests else spelling.get(key, key): value for key, value in config.items()}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``, applying a ``--config`` file's values as defaults."""
    command = _command_in(argv)
    parser, chosen = build_parser(command)
    if chosen is not None and any(a == "--config" or a.startswith("--config=") for a in argv):
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--config")
        config_path = pre.parse_known_args(list(argv))[0].config
        if config_path:
            config = _config_by_dest(load_config(config_path), chosen)
            known = {action.dest for action in chosen._actions}
            unknown = sorted(set(config) - known)
            if unknown:
                raise AdaError(f"{config_path}: unknown option(s) for '{command}': {', '.join(unknown)}")
            for action in chosen._actions:  # a single value for a list flag is a one-item list
                if action.dest in config and action.nargs in ("+", "*") and isinstance(config[action.dest], (str, int, float)):
                    config[action.dest] = [config[action.dest]]
            chosen.set_defaults(**config)
            for action in chosen._actions:  # a required flag given in the config is no longer required
                if action.dest in config:
                    action.required = False
    args = parser.parse_args(list(argv))
    if args.command is None:
        parser.print_help()
        raise SystemExit(2)
    return args


def _quiet_transformers() -> None:
    """Hide transformers' per-load weight reports and bars (a classifier or MLM head is *meant* to be new
    here, and our commands say which heads they initialise); ``--log_level debug`` shows them again."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # the per-load "Loading weights" bars; training keeps its own bar


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ada-atsc`` and ``python -m ada_atsc``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        logging.basicConfig(
            level=getattr(logging, args.log_level.upper()),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            datefmt="%H:%M:%S",
        )
        if args.log_level != "debug":
            _quiet_transformers()
        apply_model_source(args)
        return int(args._module.run(args) or 0)
    except AdaError as exc:
        print(f"ada-atsc: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ada-atsc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
