"""``ada-atsc lm-finetune-simple``: masked LM + next sentence straight from a corpus, no pregeneration.

Accepts the flags of the 2019 ``simple_lm_finetuning.py``; instances are made on the fly (see
:mod:`ada_atsc.lm.simple_data`) and, unlike 2019, batches are padded only to their longest member.
"""

from __future__ import annotations

import argparse
import math

from ..errors import AdaError
from ..fileio import check_output_dir
from ..models import check_sequence_length, load_tokenizer, resolve_model_path
from .options import add_training_arguments, options_from_args


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
    import torch

    from .data import PretrainingCollator
    from .heads import load_pretraining_model
    from .simple_data import OnTheFlyPairs, read_documents
    from .training import train_language_model, world_size_from_env

    if not args.do_train:
        raise AdaError("training is the only mode of lm-finetune-simple: pass --do_train")
    if not args.resume_from_checkpoint:
        check_output_dir(args.output_dir, args.overwrite_output_dir)
    if not 0 <= args.warmup_proportion < 1:
        raise AdaError(f"--warmup_proportion must be in [0, 1), got {args.warmup_proportion}")
    model_path = resolve_model_path(args.bert_model)
    check_sequence_length(model_path, args.max_seq_length, "--max_seq_length")
    tokenizer = load_tokenizer(model_path, do_lower_case=True if args.do_lower_case else None)
    documents = read_documents(args.train_corpus)
    dataset = OnTheFlyPairs(documents, tokenizer, max_seq_length=args.max_seq_length,
                            epochs=args.num_train_epochs, seed=args.seed)
    loaded = load_pretraining_model(model_path, with_nsp=True, seed=args.seed)
    use_cuda = torch.cuda.is_available() and not args.no_cuda
    collator = PretrainingCollator(tokenizer.pad_token_id, with_nsp=loaded.with_nsp,
                                   pad_to_multiple_of=8 if use_cuda else None)
    per_step = max(1, args.train_batch_size // max(1, world_size_from_env()) * world_size_from_env())
    total_steps = args.max_steps if args.max_steps > 0 else math.ceil(len(dataset) / per_step)
    statistics = {
        "corpus": str(args.train_corpus),
        "documents": len(documents),
        "lines": sum(len(doc) for doc in documents),
        "sentence_pairs": len(dataset.pairs),
        "training_examples": len(dataset),
        "max_seq_length": args.max_seq_length,
    }
    extra = {"command": "lm-finetune-simple", "train_corpus": str(args.train_corpus), "bert_model": str(args.bert_model),
             "num_train_epochs": args.num_train_epochs, "warmup_proportion": args.warmup_proportion,
             "max_seq_length": args.max_seq_length, "do_lower_case": args.do_lower_case}
    options = options_from_args(args, warmup_steps=int(args.warmup_proportion * total_steps),
                                max_steps=args.max_steps, extra=extra)
    train_language_model(loaded, tokenizer, dataset, dataset.block_sizes, collator, options,
                         statistics=statistics, base_model=str(args.bert_model),
                         callbacks=getattr(args, "extra_callbacks", ()))
    return 0
