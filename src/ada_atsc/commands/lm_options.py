"""The training flags both LM commands share, with the original scripts' names and defaults, and their
conversion to :class:`~ada_atsc.lm.training.LMTrainingOptions`."""

from __future__ import annotations

import argparse

from .arguments import add_model_source, add_output_dir, add_overwrite, add_progress, add_seed


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the original scripts that both commands have, plus the new ones of this project."""
    group = parser.add_argument_group("training (original flags)")
    add_output_dir(group, "where the model directory is written", overwrite=False)
    group.add_argument("--bert_model", "--model_name_or_path", dest="bert_model", required=True,
                       help="the encoder to adapt: a local model directory or a hub name (BERT, RoBERTa, DeBERTa-v2/v3, "
                            "ModernBERT, ELECTRA, DistilBERT)")
    add_model_source(group)
    group.add_argument("--do_lower_case", action="store_true", help="lower-case the text (default: as the tokenizer says)")
    group.add_argument("--train_batch_size", type=int, default=32, help="the total batch of one optimizer step")
    group.add_argument("--gradient_accumulation_steps", type=int, default=1)
    group.add_argument("--learning_rate", type=float, default=3e-5)
    add_seed(group, default=42, what="the model's new heads, the data order and the masking")
    group.add_argument("--no_cuda", action="store_true", help="train on the CPU even if a GPU is present")
    group.add_argument("--local_rank", type=int, default=-1, help="set by the launcher; torchrun's LOCAL_RANK also works")
    group.add_argument("--fp16", action="store_true", help="fp16 mixed precision (GPU only)")
    group.add_argument("--loss_scale", type=float, default=0, help="accepted for compatibility; scaling is always dynamic")
    new = parser.add_argument_group("training (new)")
    precision = new.add_mutually_exclusive_group()
    precision.add_argument("--bf16", dest="bf16", action="store_true", default=None,
                           help="force bf16 autocast (default: on where it is faster: a GPU with bf16, or a CPU with AMX)")
    precision.add_argument("--no_bf16", dest="bf16", action="store_false", help="train in fp32")
    new.add_argument("--max_steps", type=int, default=-1, help="stop after this many optimizer steps (overrides epochs)")
    new.add_argument("--logging_steps", type=int, default=50)
    new.add_argument("--save_steps", type=int, default=1000, help="checkpoint (with optimizer/scheduler/RNG) every N steps")
    new.add_argument("--save_total_limit", type=int, default=2, help="checkpoints kept while training")
    new.add_argument("--keep_checkpoints", action="store_true", help="keep <output_dir>/checkpoints after success")
    new.add_argument("--resume_from_checkpoint", nargs="?", const="latest", default=None, metavar="CHECKPOINT",
                     help="resume from a checkpoint directory (no value: the latest in <output_dir>/checkpoints)")
    add_overwrite(new)
    new.add_argument("--freeze_embeddings", action="store_true",
                     help="keep the word embeddings (and the MLM decoder tied to them) frozen for the whole run: "
                          "a freshly initialised MLM head otherwise rewrites the embedding table")
    new.add_argument("--head_warmup_steps", type=int, default=0,
                     help="train only the heads for N steps first (encoders shipped without pretraining heads)")
    new.add_argument("--dataloader_num_workers", type=int, default=0)
    add_progress(new)


def training_options(args: argparse.Namespace, *, warmup_steps: int = 0):
    """The parsed flags as :class:`~ada_atsc.lm.training.LMTrainingOptions` (``warmup_steps``: the command's)."""
    from ..lm.training import LMTrainingOptions

    return LMTrainingOptions(
        output_dir=args.output_dir,
        train_batch_size=args.train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        learning_rate=args.learning_rate,
        adam_epsilon=getattr(args, "adam_epsilon", 1e-8),
        warmup_steps=warmup_steps,
        max_steps=args.max_steps,
        logging_steps=args.logging_steps,
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        seed=args.seed,
        bf16=args.bf16,
        fp16=args.fp16,
        no_cuda=args.no_cuda,
        local_rank=args.local_rank,
        head_warmup_steps=args.head_warmup_steps,
        freeze_embeddings=args.freeze_embeddings,
        resume_from_checkpoint=args.resume_from_checkpoint,
        overwrite_output_dir=args.overwrite_output_dir,
        keep_checkpoints=args.keep_checkpoints,
        dataloader_num_workers=args.dataloader_num_workers,
        disable_tqdm=args.no_progress,
    )
