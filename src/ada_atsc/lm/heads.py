"""Pretraining models whose masked-LM head only projects the masked positions.

The vocabulary projection (hidden -> 30k logits) of the MLM head costs about as much as the whole encoder of a
small model, yet only the ~15% masked positions have a label. These subclasses gather the hidden states at
positions whose label is not -100 *before* the head, so the projection runs on ~15% of the tokens. The loss
is the same cross-entropy as the dense head's (a test checks 1e-5).

They are subclasses, not wrappers: the parameters and their names are exactly those of ``BertForPreTraining``
/ ``BertForMaskedLM``, and :meth:`save_pretrained` records the standard architecture name, so the output
directory opens with the standard ``Auto*`` classes and the original ``transformers`` code.

The loss can be normalised by *global* counts (``loss_normalizers`` = masked tokens and sentence pairs over
the whole optimizer step, all processes and accumulation micro-batches). With those, gradient accumulation
and data parallelism compute exactly the gradient of one big batch, which is what makes a 2-process run match
a 1-process run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import BertForMaskedLM, BertForPreTraining
from transformers.utils import ModelOutput

from ..errors import AdaError

log = logging.getLogger(__name__)

IGNORE = -100


@dataclass
class SparsePretrainingOutput(ModelOutput):
    """Loss plus its parts; ``masked_logits`` are the logits of the masked positions only (row-major order)."""

    loss: torch.Tensor | None = None
    masked_lm_loss: torch.Tensor | None = None
    next_sentence_loss: torch.Tensor | None = None
    masked_logits: torch.Tensor | None = None
    seq_relationship_logits: torch.Tensor | None = None


def _masked_lm_sum(model, sequence_output: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy over the labelled positions, projecting only those positions to the vocabulary."""
    selected = labels != IGNORE
    hidden = sequence_output[selected]  # (n_masked, hidden)
    logits = model.cls.predictions(hidden)  # transform + tied decoder (+ bias), n_masked rows only
    target = labels[selected]
    return F.cross_entropy(logits.float(), target, reduction="sum"), logits


def _normalise(total: torch.Tensor, count: torch.Tensor | int) -> torch.Tensor:
    if torch.is_tensor(count):
        return total / count.to(total.dtype).clamp_min(1)
    return total / max(int(count), 1)


class _StandardNameMixin:
    """Save under the parent class's architecture name so standard code opens the directory."""

    standard_architecture: str = ""

    def save_pretrained(self, save_directory, *args, **kwargs):  # noqa: D401 - same contract as the parent
        result = super().save_pretrained(save_directory, *args, **kwargs)
        config_file = Path(save_directory) / "config.json"
        if config_file.is_file():
            config = json.loads(config_file.read_text(encoding="utf-8"))
            config["architectures"] = [self.standard_architecture]
            config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return result


class SparseBertForPreTraining(_StandardNameMixin, BertForPreTraining):
    """``BertForPreTraining`` whose training loss projects only masked positions (masked LM + next sentence)."""

    standard_architecture = "BertForPreTraining"

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        next_sentence_label: torch.Tensor | None = None,
        loss_normalizers: torch.Tensor | None = None,
        **kwargs,
    ):
        """Dense outputs without labels (inference); sparse loss with ``labels`` and ``next_sentence_label``."""
        if labels is None or next_sentence_label is None:
            return super().forward(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                labels=labels, next_sentence_label=next_sentence_label, **kwargs,
            )
        outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, return_dict=True)
        sequence_output, pooled_output = outputs[0], outputs[1]
        mlm_sum, masked_logits = _masked_lm_sum(self, sequence_output, labels)
        nsp_logits = self.cls.seq_relationship(pooled_output)
        nsp_sum = F.cross_entropy(nsp_logits.float(), next_sentence_label.view(-1), reduction="sum")
        if loss_normalizers is None:
            mlm = _normalise(mlm_sum, labels.ne(IGNORE).sum())
            nsp = _normalise(nsp_sum, next_sentence_label.numel())
        else:
            mlm = _normalise(mlm_sum, loss_normalizers[0])
            nsp = _normalise(nsp_sum, loss_normalizers[1])
        return SparsePretrainingOutput(
            loss=mlm + nsp, masked_lm_loss=mlm.detach(), next_sentence_loss=nsp.detach(),
            masked_logits=masked_logits, seq_relationship_logits=nsp_logits,
        )


class SparseBertForMaskedLM(_StandardNameMixin, BertForMaskedLM):
    """``BertForMaskedLM`` whose training loss projects only masked positions (masked LM alone).

    ``BertForMaskedLM`` has no pooler, so a masked-LM-only run would save a model without one and a
    classifier built on it would start from a random pooler. The base checkpoint's pooler (untouched by
    masked LM) is kept in ``carried_pooler`` and written back into the saved weights.
    """

    standard_architecture = "BertForMaskedLM"
    carried_pooler: dict[str, torch.Tensor] | None = None

    def save_pretrained(self, save_directory, *args, state_dict=None, **kwargs):  # noqa: D401 - parent's contract
        if self.carried_pooler:
            state_dict = dict(self.state_dict() if state_dict is None else state_dict)
            state_dict.update({f"bert.pooler.{name}": t for name, t in self.carried_pooler.items()})
        return super().save_pretrained(save_directory, *args, state_dict=state_dict, **kwargs)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        loss_normalizers: torch.Tensor | None = None,
        next_sentence_label: torch.Tensor | None = None,  # accepted and ignored: masked LM alone
        **kwargs,
    ):
        """Dense outputs without labels (inference); sparse masked-LM loss with ``labels``."""
        if labels is None:
            return super().forward(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, **kwargs
            )
        outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, return_dict=True)
        mlm_sum, masked_logits = _masked_lm_sum(self, outputs[0], labels)
        count = labels.ne(IGNORE).sum() if loss_normalizers is None else loss_normalizers[0]
        mlm = _normalise(mlm_sum, count)
        return SparsePretrainingOutput(loss=mlm, masked_lm_loss=mlm.detach(), masked_logits=masked_logits)


def has_next_sentence_head(model_type: str) -> bool:
    """Only the BERT family ships a next-sentence head among the encoders we support."""
    return model_type == "bert"


@dataclass
class LoadedModel:
    """A model ready to train, and what loading it had to initialise."""

    model: torch.nn.Module
    with_nsp: bool
    sparse: bool
    newly_initialised: list[str]


def checkpoint_pooler(path: str | Path) -> dict[str, torch.Tensor]:
    """The pooler weights of a single-file BERT checkpoint (bare ``BertModel`` or ``bert.``-prefixed), if any."""
    weights = Path(path) / "model.safetensors"
    if not weights.is_file():
        return {}
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as handle:
        return {key.split("pooler.", 1)[1]: handle.get_tensor(key) for key in handle.keys()
                if key.removeprefix("bert.").startswith("pooler.")}


def load_pretraining_model(path: str, *, with_nsp: bool, seed: int, attn_implementation: str = "sdpa") -> LoadedModel:
    """Load ``path`` for masked LM (+ next sentence when ``with_nsp`` and the family has one).

    BERT models get the sparse-head subclasses; other families fall back to the dense
    ``AutoModelForMaskedLM``. Heads missing from the checkpoint (the packaged MiniLM has none) are initialised
    from ``seed`` and listed, so ``--head_warmup_steps`` can train them first.
    """
    from transformers import AutoConfig, AutoModelForMaskedLM, set_seed

    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError, KeyError) as exc:
        raise AdaError(f"{path}: not a model directory: {str(exc).splitlines()[0]}") from exc
    set_seed(seed)  # the newly initialised heads must be the same for the same seed
    if with_nsp and not has_next_sentence_head(config.model_type):
        log.warning("model family '%s' has no next-sentence head: training masked LM alone", config.model_type)
        with_nsp = False
    if config.model_type == "bert":
        cls = SparseBertForPreTraining if with_nsp else SparseBertForMaskedLM
        sparse = True
    else:
        cls, sparse = AutoModelForMaskedLM, False
    try:
        model, info = cls.from_pretrained(path, attn_implementation=attn_implementation, output_loading_info=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise AdaError(f"{path}: cannot load the model weights: {str(exc).splitlines()[0]}") from exc
    if isinstance(model, SparseBertForMaskedLM):
        model.carried_pooler = checkpoint_pooler(path)
    missing = sorted(info.get("missing_keys", []))
    if missing:
        log.info("newly initialised (not in the checkpoint): %s", ", ".join(missing))
    return LoadedModel(model=model, with_nsp=with_nsp, sparse=sparse, newly_initialised=missing)
