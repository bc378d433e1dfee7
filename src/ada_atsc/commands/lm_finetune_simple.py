"""``ada-atsc lm-finetune-simple``: masked LM + next sentence straight from a corpus, no pregeneration.

Accepts the flags of the 2019 ``simple_lm_finetuning.py`` (see :mod:`ada_atsc.lm.finetune`).
"""

from __future__ import annotations

import argparse

from ..core.errors import AdaError
from .lm_options import add_training_arguments, training_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The original flags, then the new ones."""
    parser.add_argument("--train_corpus", required=True, help="one sentence per line, blank line between documents")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--do_train", action="store_true", help="required, as in 2019: training is the only mode")
    parser.add_argument("--num_train_epochs", type=float, default=3.0)
    parser.add_argument("--warmup_proportion", type=float, default=0.1, help="fraction of the steps for lr warm-up")
    parser.add_argument("--on_memory", action="store_true", help="accepted; the corpus is always held in memory")
    add_training_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Read the corpus, train, write the model directory."""
    from ..lm.finetune import finetune_simple

    if not args.do_train:
        raise AdaError("training is the only mode of lm-finetune-simple: pass --do_train")
    finetune_simple(args.train_corpus, args.bert_model, training_options(args),
                    max_seq_length=args.max_seq_length, num_train_epochs=args.num_train_epochs,
                    warmup_proportion=args.warmup_proportion, do_lower_case=args.do_lower_case,
                    callbacks=getattr(args, "extra_callbacks", ()))
    return 0
