"""The model card (``README.md``) of a domain-adapted model: what it was trained on, and how.

A model directory travels without its command line; the card keeps the corpus statistics and every argument
with it, so a result can be traced back and reproduced.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.fileio import atomic_open


def _table(rows: dict) -> str:
    lines = ["| | |", "|---|---|"]
    for key, value in rows.items():
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        lines.append(f"| {key} | {text} |")
    return "\n".join(lines)


def write_model_card(path: str | Path, summary: dict) -> None:
    """Write ``README.md`` from a training summary (see ``training.train_language_model``)."""
    options = dict(summary.get("options", {}))
    extra = options.pop("extra", {}) or {}
    statistics = summary.get("statistics", {})
    loss = summary.get("final_loss")
    text = f"""---
library_name: transformers
tags: [{summary.get("model_type") or "bert"}, fill-mask, domain-adaptation, ada-atsc]
---

# Domain-adapted encoder (ada-atsc `lm-finetune`)

Base model `{summary.get('base_model')}`, further trained with **{summary.get('objective')}** on an in-domain
corpus (the BERT-ADA method, Rietzler et al. 2020). The classifier of `ada-atsc train` starts from this model.

Open it with `AutoModelForPreTraining`, `AutoModelForMaskedLM` or `AutoModelForSequenceClassification`
(`from_pretrained("<this directory>")`); the tokenizer files are included.

## Result

{_table({
    "optimizer steps": summary.get("global_steps"),
    "loss at the last logging step": None if loss is None else round(loss, 4),
    "mean training loss": None if summary.get("train_loss") is None else round(summary["train_loss"], 4),
    "precision": summary.get("precision"),
    "processes": summary.get("processes"),
    "training time (s)": summary.get("train_runtime_s"),
    "heads initialised from scratch": len(summary.get("newly_initialised", [])),
})}

The loss per logging step is in `loss_log.jsonl` and in TensorBoard (`tensorboard --logdir runs`).

## Corpus statistics

{_table(statistics)}

## Arguments

```json
{json.dumps({**extra, **options}, indent=2, sort_keys=True, default=str)}
```
"""
    with atomic_open(path) as handle:
        handle.write(text)
