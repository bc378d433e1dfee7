"""Trainer callbacks of LM fine-tuning: the loss log a resumed run keeps consistent, and the head warm-up
(the encoder frozen while freshly initialised MLM/NSP heads settle)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from ..core.fileio import atomic_open

log = logging.getLogger(__name__)


class JsonlLossLog(TrainerCallback):
    """Append every logged loss to ``loss_log.jsonl``; a resumed run first drops entries after its checkpoint."""

    def __init__(self, path: Path):
        self.path = path

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero or not self.path.exists():
            return
        kept = [
            line for line in self.path.read_text(encoding="utf-8").splitlines()
            if line.strip() and json.loads(line).get("step", 0) <= state.global_step
        ]
        with atomic_open(self.path) as handle:
            handle.write("".join(line + "\n" for line in kept))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        record = {"step": state.global_step, "epoch": state.epoch, **logs, "time": round(time.time(), 3)}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


class HeadWarmup(TrainerCallback):
    """Freeze the encoder (the base model, incl. the tied word embeddings) for the first ``steps`` steps.

    The optimizer is built with every parameter before training starts; a frozen parameter simply gets no
    gradient, so AdamW leaves it (and its weight decay) alone until it is unfrozen. Decided from
    ``global_step`` at each step, so a resumed run freezes or not exactly as the uninterrupted one.
    """

    def __init__(self, model: torch.nn.Module, steps: int):
        prefix = getattr(model, "base_model_prefix", "bert") + "."
        # parameters frozen for the whole run (--freeze_embeddings) stay frozen after the warm-up
        self.encoder = [p for name, p in model.named_parameters() if name.startswith(prefix) and p.requires_grad]
        self.steps = steps
        self.frozen: bool | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        frozen = state.global_step < self.steps
        if frozen != self.frozen:
            for param in self.encoder:
                param.requires_grad_(not frozen)
            if self.frozen is not None or frozen:
                log.info("step %d: encoder %s", state.global_step, "frozen (head warm-up)" if frozen else "unfrozen")
            self.frozen = frozen
