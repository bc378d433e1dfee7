"""Keep the checkpoint with the best dev macro-F1, in memory, while training runs.

Each dev evaluation (every ``--logging_steps``, and once more at the last step) is compared with the best so
far; a strictly better macro-F1 replaces the kept weights (ties keep the earlier step, which saw less
training). Holding one CPU copy of the weights is cheaper than writing a checkpoint per evaluation and it
does not depend on ``--save_steps`` lining up with the evaluation steps.
"""

from __future__ import annotations

import logging

import torch
from transformers import TrainerCallback

logger = logging.getLogger(__name__)


class BestDevKeeper(TrainerCallback):
    """A Trainer callback recording every dev evaluation and the weights of the best one."""

    def __init__(self, metric: str = "eval_macro_f1"):
        self.metric = metric
        self.history: list[dict] = []
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None

    def observe(self, step: int, metrics: dict, model: torch.nn.Module) -> bool:
        """Record one evaluation; returns whether it is the new best (and then copies the weights)."""
        if self.metric not in metrics:
            return False
        score = float(metrics[self.metric])
        entry = {"step": int(step)}
        entry.update({k.removeprefix("eval_"): float(v) for k, v in metrics.items()
                      if k.startswith("eval_") and isinstance(v, (int, float))})
        if self.history and self.history[-1]["step"] == step:
            self.history[-1] = entry  # the same step evaluated twice: keep one row
        else:
            self.history.append(entry)
        if self.best_score is not None and score <= self.best_score:
            return False
        self.best_score, self.best_step = score, int(step)
        self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        logger.info("step %d: new best dev %s %.4f", step, self.metric, score)
        return True

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        if metrics is not None and model is not None:
            self.observe(state.global_step, metrics, model)

    def evaluated_steps(self) -> set[int]:
        return {entry["step"] for entry in self.history}

    def restore_best(self, model: torch.nn.Module) -> None:
        """Load the kept weights into ``model`` (no-op when nothing was evaluated)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
