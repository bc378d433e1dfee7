"""The training run shared by ``lm-finetune`` and ``lm-finetune-simple``, built on ``transformers.Trainer``.

What the Trainer does not do on its own is added here, each in a small piece:

* the loss is normalised by the *global* number of masked tokens and sentence pairs of the optimizer step, so
  gradient accumulation and N processes compute the gradient of the one big batch (``LMTrainer``);
* a loss or gradient norm that turns NaN/inf stops the run before the optimizer applies it, naming the last
  good checkpoint (``NonFiniteLossError``);
* ``--head_warmup_steps``: train only the newly initialised heads first (``HeadWarmup``);
* the loss per logging step as JSON lines (``JsonlLossLog``) besides the console and TensorBoard;
* an output directory that only looks finished when it is: the model files are written under a temporary
  name and moved in, ``config.json`` last; checkpoints live in ``<output_dir>/checkpoints`` for resuming.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from ..core.errors import AdaError
from ..core.fileio import write_json
from .callbacks import HeadWarmup, JsonlLossLog
from .card import write_model_card
from .data import IGNORE, EpochBlockSampler
from .output_dir import CHECKPOINTS, OutputPlan, install_final, plan_output_dir  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

LOSS_LOG = "loss_log.jsonl"


class NonFiniteLossError(AdaError):
    """The loss or the gradient became NaN/inf; the run stops before the bad update is applied."""


@dataclass
class LMTrainingOptions:
    """Everything that shapes a run; the model card and ``training_summary.json`` record it."""

    output_dir: str
    train_batch_size: int = 32
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-5
    adam_epsilon: float = 1e-8
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    warmup_steps: int = 0
    max_steps: int = -1
    logging_steps: int = 50
    save_steps: int = 1000
    save_total_limit: int | None = 2
    seed: int = 42
    bf16: bool | None = None  # None: where the hardware has it
    fp16: bool = False
    no_cuda: bool = False
    local_rank: int = -1
    head_warmup_steps: int = 0
    freeze_embeddings: bool = False
    resume_from_checkpoint: str | None = None  # a path, or "latest"
    overwrite_output_dir: bool = False
    keep_checkpoints: bool = False
    dataloader_num_workers: int = 0
    disable_tqdm: bool = False
    extra: dict = field(default_factory=dict)  # command-specific arguments for the model card


def bf16_supported(use_cuda: bool) -> bool:
    """Whether bf16 autocast is *faster* here: a GPU with bf16, or a CPU with AMX tiles.

    A CPU with only AVX512-BF16 runs bf16 matmuls at about half its fp32 speed (measured on the dev machine:
    154 vs 303 GFLOP/s), so ``--bf16`` is not the default there; it can still be forced.
    """
    if use_cuda:
        return torch.cuda.is_bf16_supported()
    try:
        return "AMX" in torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        return False


def world_size_from_env() -> int:
    """Processes of this run as set by ``torchrun`` / ``accelerate launch`` (1 when run directly)."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


# ----------------------------------------------------------------------------------------------- trainer


class LMTrainer(Trainer):
    """``Trainer`` with seed-ordered epochs, globally normalised losses and a NaN guard."""

    loss_is_scaled_for_ga = True  # compute_loss normalises over the whole accumulated (global) batch

    def __init__(self, *args, block_sizes: Sequence[int], sparse: bool, with_nsp: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.block_sizes = list(block_sizes)
        self.sparse = sparse
        self.with_nsp = with_nsp

    def _get_train_sampler(self, train_dataset=None):
        return EpochBlockSampler(self.block_sizes, seed=self.args.seed)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor | None:
        """Masked tokens and sentence pairs in this optimizer step, over all micro-batches and processes."""
        if not batch_samples:
            return None
        masked = sum(int(b["labels"].ne(IGNORE).sum()) for b in batch_samples)
        pairs = sum(int(b["input_ids"].shape[0]) for b in batch_samples)
        counts = torch.tensor([masked, pairs], dtype=torch.float32, device=device)
        if self.args.world_size > 1:
            counts = self.accelerator.reduce(counts, reduction="sum")
        return counts

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if num_items_in_batch is None:  # not a training step: per-batch means
            num_items_in_batch = torch.tensor(
                [float(inputs["labels"].ne(IGNORE).sum()), float(inputs["input_ids"].shape[0])],
                device=inputs["input_ids"].device,
            )
            scale = 1
        else:  # DDP averages gradients over processes; the global normalisers already did
            scale = self.accelerator.num_processes
        if self.sparse:
            outputs = model(**inputs, loss_normalizers=num_items_in_batch)
            loss = outputs["loss"]
        else:  # other families: dense head, same normalisation
            labels = inputs["labels"]
            feed = {k: v for k, v in inputs.items() if k not in ("labels", "next_sentence_label")}
            outputs = model(**feed)
            logits = outputs["logits"].float()
            loss = torch.nn.functional.cross_entropy(
                logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=IGNORE, reduction="sum"
            ) / num_items_in_batch[0].clamp_min(1)
        loss = loss * scale
        return (loss, outputs) if return_outputs else loss

    def _last_good_checkpoint(self) -> str:
        last = get_last_checkpoint(self.args.output_dir) if os.path.isdir(self.args.output_dir) else None
        return (
            f"the last good checkpoint is {last} (resume with --resume_from_checkpoint {last}, e.g. with a lower "
            "--learning_rate)" if last else "no checkpoint was saved yet"
        )

    def _stop_if_not_finite(self, value: torch.Tensor, what: str) -> None:
        bad = (~torch.isfinite(value.detach().float())).float().reshape(1)
        if self.args.world_size > 1:
            bad = self.accelerator.reduce(bad, reduction="sum")
        if bool(bad.item() > 0):
            raise NonFiniteLossError(
                f"the {what} became NaN/inf at step {self.state.global_step + 1}: training stopped before the "
                f"update was applied; {self._last_good_checkpoint()}"
            )

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        self._stop_if_not_finite(loss, "loss")
        return loss

    def _clip_grad_norm(self, model):
        grad_norm = super()._clip_grad_norm(model)
        if grad_norm is not None:
            self._stop_if_not_finite(torch.as_tensor(grad_norm), "gradient norm")
        return grad_norm


# ------------------------------------------------------------------------------------------------- run


def build_training_arguments(options: LMTrainingOptions, checkpoint_dir: Path, with_warmup: bool) -> TrainingArguments:
    """Translate our options (the original flags) into ``TrainingArguments``."""
    world = world_size_from_env()
    per_step = options.train_batch_size
    if options.gradient_accumulation_steps < 1:
        raise AdaError(f"--gradient_accumulation_steps must be >= 1, got {options.gradient_accumulation_steps}")
    if per_step % (options.gradient_accumulation_steps * world):
        raise AdaError(
            f"--train_batch_size {per_step} (the total batch) must be divisible by --gradient_accumulation_steps "
            f"{options.gradient_accumulation_steps} x {world} process(es)"
        )
    per_device = per_step // (options.gradient_accumulation_steps * world)
    use_cuda = torch.cuda.is_available() and not options.no_cuda
    fp16 = bool(options.fp16 and use_cuda)
    if options.fp16 and not use_cuda:
        log.warning("--fp16 needs a CUDA GPU; training in %s instead", "bf16" if bf16_supported(False) else "fp32")
    bf16 = (not fp16) and (bf16_supported(use_cuda) if options.bf16 is None else options.bf16)
    kwargs: dict[str, Any] = {}
    if options.local_rank != -1:
        kwargs["local_rank"] = options.local_rank
    return TrainingArguments(
        output_dir=str(checkpoint_dir),
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=options.gradient_accumulation_steps,
        num_train_epochs=1,  # the dataset already holds every epoch of the run, in order
        max_steps=options.max_steps if options.max_steps and options.max_steps > 0 else -1,
        learning_rate=options.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=options.warmup_steps,
        weight_decay=options.weight_decay,
        adam_epsilon=options.adam_epsilon,
        max_grad_norm=options.max_grad_norm,
        optim="adamw_torch_fused",
        bf16=bf16,
        fp16=fp16,
        use_cpu=not use_cuda,
        logging_strategy="steps",
        logging_steps=max(1, options.logging_steps),
        logging_first_step=True,
        logging_nan_inf_filter=False,
        save_strategy="steps",
        save_steps=max(1, options.save_steps),
        save_total_limit=options.save_total_limit,
        seed=options.seed,
        report_to="none",  # TensorBoard is attached by hand, under <output_dir>/runs
        remove_unused_columns=False,
        average_tokens_across_devices=False,  # LMTrainer normalises globally itself
        ddp_backend="gloo" if world > 1 and not use_cuda else None,
        ddp_find_unused_parameters=with_warmup,
        dataloader_num_workers=options.dataloader_num_workers,
        dataloader_pin_memory=use_cuda,
        disable_tqdm=options.disable_tqdm,
        **kwargs,
    )


def train_language_model(
    loaded,
    tokenizer,
    dataset,
    block_sizes: Sequence[int],
    collator,
    options: LMTrainingOptions,
    statistics: dict,
    base_model: str,
    callbacks: Sequence[TrainerCallback] = (),
) -> dict:
    """Train ``loaded.model`` on ``dataset`` and write the model directory; returns the run summary."""
    from accelerate import PartialState

    with_warmup = options.head_warmup_steps > 0
    args_probe = Path(options.output_dir) / CHECKPOINTS
    training_args = build_training_arguments(options, args_probe, with_warmup)
    state = PartialState()
    plan = plan_output_dir(options.output_dir, options.overwrite_output_dir, options.resume_from_checkpoint,
                           state.is_main_process)
    state.wait_for_everyone()
    out = plan.output_dir
    if state.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
    state.wait_for_everyone()

    model = loaded.model
    if options.freeze_embeddings:
        embeddings = model.get_input_embeddings().weight
        embeddings.requires_grad_(False)  # tied to the MLM decoder: both stay as they are
        log.info("word embeddings (and the tied MLM decoder) frozen for the whole run")
    all_callbacks: list[TrainerCallback] = [JsonlLossLog(out / LOSS_LOG)]
    if state.is_main_process:
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        all_callbacks.append(TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(out / "runs"))))
    if with_warmup:
        all_callbacks.append(HeadWarmup(model, options.head_warmup_steps))
        if not loaded.newly_initialised:
            log.warning("--head_warmup_steps: the checkpoint already has its heads; warming them up anyway")
    all_callbacks.extend(callbacks)
    trainer = LMTrainer(
        model=model,
        args=training_args,
        data_collator=collator,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=all_callbacks,
        block_sizes=block_sizes,
        sparse=loaded.sparse,
        with_nsp=loaded.with_nsp,
    )
    log.info(
        "training %s (%s%s) on %d examples: %d process(es) x %d per device x %d accumulation = batch %d, %s",
        base_model, "masked LM + next sentence" if loaded.with_nsp else "masked LM",
        ", sparse MLM head" if loaded.sparse else "", len(dataset), training_args.world_size,
        training_args.per_device_train_batch_size, training_args.gradient_accumulation_steps,
        options.train_batch_size, "bf16" if training_args.bf16 else "fp16" if training_args.fp16 else "fp32",
    )
    started = time.time()
    result = trainer.train(resume_from_checkpoint=plan.resume_checkpoint)
    elapsed = time.time() - started

    staging = out / ".model.partial"
    if state.is_main_process and staging.exists():
        shutil.rmtree(staging)
    state.wait_for_everyone()
    trainer.save_model(str(staging))
    summary = {
        "base_model": base_model,
        "model_type": getattr(getattr(loaded.model, "config", None), "model_type", None),
        "objective": "masked LM + next sentence" if loaded.with_nsp else "masked LM",
        "sparse_mlm_head": loaded.sparse,
        "global_steps": trainer.state.global_step,
        "final_loss": _last_loss(trainer.state.log_history),
        "train_loss": result.training_loss,
        "train_runtime_s": round(elapsed, 2),
        "precision": "bf16" if training_args.bf16 else "fp16" if training_args.fp16 else "fp32",
        "processes": training_args.world_size,
        "newly_initialised": loaded.newly_initialised,
        "statistics": statistics,
        "options": asdict(options),
    }
    if state.is_main_process:
        (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle: never shipped
        _copy_slow_tokenizer_files(base_model, staging)
        write_json(staging / "training_summary.json", summary)
        write_model_card(staging / "README.md", summary)
        install_final(staging, out)
        if not options.keep_checkpoints:
            shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
        if plan.aside is not None:
            shutil.rmtree(plan.aside, ignore_errors=True)
        log.info("model written to %s (loss %.4f after %d steps)", out, summary["final_loss"] or math.nan,
                 summary["global_steps"])
    state.wait_for_everyone()
    return summary


def _copy_slow_tokenizer_files(base_model: str, staging: Path) -> None:
    """Keep ``vocab.txt`` beside ``tokenizer.json``, for tools that read the WordPiece vocabulary directly."""
    try:
        from ..runtime.models import resolve_model_path

        source = Path(resolve_model_path(base_model))
    except AdaError:
        return
    for name in ("vocab.txt",):
        if (source / name).is_file() and not (staging / name).exists():
            shutil.copyfile(source / name, staging / name)


def _last_loss(history: list[dict]) -> float | None:
    losses = [entry["loss"] for entry in history if "loss" in entry]
    return float(losses[-1]) if losses else None
