"""``ada-atsc lm-finetune``: train an encoder on pregenerated epochs (masked LM + next sentence).

Accepts the flags of the 2019 ``finetune_on_pregenerated.py`` verbatim, so the paper's command runs as is.
"""

from __future__ import annotations

import argparse
import logging

from ..errors import AdaError
from ..fileio import check_output_dir
from ..models import check_sequence_length, load_tokenizer, resolve_model_path
from .options import add_training_arguments, options_from_args

log = logging.getLogger(__name__)


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
    import torch

    from .data import PretrainingCollator, open_pregenerated
    from .heads import load_pretraining_model
    from .training import train_language_model

    if not args.resume_from_checkpoint:
        check_output_dir(args.output_dir, args.overwrite_output_dir)  # fail before any heavy work
    if args.epochs < 1:
        raise AdaError(f"--epochs must be at least 1, got {args.epochs}")
    model_path = resolve_model_path(args.bert_model)
    tokenizer = load_tokenizer(model_path, do_lower_case=True if args.do_lower_case else None)
    data = open_pregenerated(args.pregenerated_data, args.epochs, tokenizer)
    check_sequence_length(model_path, int(data.statistics().get("max_seq_len") or 0),
                          f"{args.pregenerated_data}: max_seq_len")
    loaded = load_pretraining_model(model_path, with_nsp=not data.mlm_only, seed=args.seed)
    use_cuda = torch.cuda.is_available() and not args.no_cuda
    collator = PretrainingCollator(tokenizer.pad_token_id, with_nsp=loaded.with_nsp,
                                   pad_to_multiple_of=8 if use_cuda else None)
    extra = {"command": "lm-finetune", "pregenerated_data": str(args.pregenerated_data), "epochs": args.epochs,
             "bert_model": str(args.bert_model), "do_lower_case": args.do_lower_case}
    options = options_from_args(args, warmup_steps=args.warmup_steps, max_steps=args.max_steps, extra=extra)
    train_language_model(loaded, tokenizer, data.dataset, data.dataset.block_sizes, collator, options,
                         statistics=data.statistics(), base_model=str(args.bert_model),
                         callbacks=getattr(args, "extra_callbacks", ()))
    return 0
