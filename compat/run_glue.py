#!/usr/bin/env python
"""The 2019 BERT-ADA ``run_glue.py`` command line, run by ``ada-atsc train``.

The paper's command works verbatim (``--model_type bert --model_name_or_path DIR --do_train
--evaluate_during_training --do_eval ... --task_name=semeval2014-atsc ... --fp16``), with two honest
differences: ``--evaluate_during_training`` selects the checkpoint on the DEV split (training on
train minus dev), and the test set is scored only at the end, at the best-dev and at the last step.
The input is the paper's ``[CLS] sentence [SEP] aspect [SEP]`` unless ``--aspect_markers`` /
``--aspect_pooling`` ask for the aspect-robust format of ``ada-atsc train``. See docs/atsc.md.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

try:
    import ada_atsc  # noqa: F401
except ImportError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main(argv: list[str] | None = None) -> int:
    from ada_atsc.commands.train import build_parser, paper_defaults, run
    from ada_atsc.core.errors import AdaError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        args = paper_defaults(build_parser()).parse_args(sys.argv[1:] if argv is None else argv)
        return run(args)
    except AdaError as exc:
        print(f"run_glue.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
