"""``ada-atsc lm-finetune``: train an encoder on pregenerated epochs (masked LM + next sentence).

Accepts the flags of the 2019 ``finetune_on_pregenerated.py`` verbatim, so the paper's command runs as is.
"""

from __future__ import annotations

import argparse

from .lm_options import add_training_arguments, training_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The original flags, then the new ones."""
    parser.add_argument("--pregenerated_data", required=True, help="directory written by 'ada-atsc pregenerate'")
    parser.add_argument("--reduce_memory", action="store_true", help="accepted; the data is always memory-mapped")
    parser.add_argument("--epochs", type=int, default=3, help="epochs to train; epoch e reads pregenerated epoch e mod n")
    parser.add_argument("--warmup_steps", type=int, default=0, help="linear learning-rate warm-up steps")
    parser.add_argument("--adam_epsilon", type=float, default=1e-8)
    add_training_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Open the data and model, train, write the model directory."""
    from ..lm.finetune import finetune_on_pregenerated

    finetune_on_pregenerated(args.pregenerated_data, args.bert_model,
                             training_options(args, warmup_steps=args.warmup_steps), epochs=args.epochs,
                             do_lower_case=args.do_lower_case, callbacks=getattr(args, "extra_callbacks", ()))
    return 0
