"""Pretraining models whose masked-LM head only projects the masked positions, for every supported encoder.

The vocabulary projection (hidden -> 30k logits for BERT, 50k for RoBERTa, 128k for DeBERTa-v3) of the MLM
head costs about as much as the whole encoder of a small model, yet only the ~15% masked positions have a
label. These subclasses gather the hidden states at positions whose label is not -100 *before* the head, so
the projection runs on ~15% of the tokens. The loss is the same cross-entropy as the dense head's (a test
checks 1e-5 for each architecture).

They are subclasses, not wrappers: the parameters and their names are exactly those of ``BertForPreTraining``
/ ``<Family>ForMaskedLM``, and :meth:`save_pretrained` records the standard architecture name, so the output
directory opens with the standard ``Auto*`` classes and the original ``transformers`` code. Each family's
head is one entry of :data:`MASKED_LM_HEADS` (how that family's head maps hidden states to logits).

The loss can be normalised by *global* counts (``loss_normalizers`` = masked tokens and sentence pairs over
the whole optimizer step, all processes and accumulation micro-batches). With those, gradient accumulation
and data parallelism compute exactly the gradient of one big batch, which is what makes a 2-process run match
a 1-process run.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import BertForMaskedLM, BertForPreTraining
from transformers.utils import ModelOutput

from ..core.errors import AdaError
from ..core.sequence_template import has_next_sentence_head, model_uses_token_types

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


MASKED_LM_HEADS: dict[str, Callable[[Any, torch.Tensor], torch.Tensor]] = {
    "bert": lambda m, h: m.cls.predictions(h),  # ForPreTraining and ForMaskedLM alike
    "roberta": lambda m, h: m.lm_head(h),
    "xlm-roberta": lambda m, h: m.lm_head(h),
    "deberta-v2": lambda m, h: m.cls(h) if m.legacy else m.lm_predictions(h, m.deberta.embeddings.word_embeddings),
    "modernbert": lambda m, h: m.decoder(m.head(h)),
    "electra": lambda m, h: m.generator_lm_head(m.generator_predictions(h)),
    "distilbert": lambda m, h: m.vocab_projector(m.vocab_layer_norm(m.activation(m.vocab_transform(h)))),
}
"""Per family: the masked-LM head of its ``ForMaskedLM`` model applied to hidden states of any shape."""


def _masked_lm_sum(model, sequence_output: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy over the labelled positions, projecting only those positions to the vocabulary."""
    selected = labels != IGNORE
    hidden = sequence_output[selected]  # (n_masked, hidden)
    logits = MASKED_LM_HEADS[model.config.model_type](model, hidden)  # transform + decoder, n_masked rows only
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


class _SparseMaskedLMMixin(_StandardNameMixin):
    """The sparse masked-LM loss for any ``<Family>ForMaskedLM`` with an entry in :data:`MASKED_LM_HEADS`."""

    def _encoder_inputs(self, input_ids, attention_mask, token_type_ids) -> dict:
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and model_uses_token_types(self.config):
            inputs["token_type_ids"] = token_type_ids
        return inputs

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
        inputs = self._encoder_inputs(input_ids, attention_mask, token_type_ids)
        if labels is None:
            return super().forward(**inputs, **kwargs)
        encoder = getattr(self, self.base_model_prefix)
        mlm_sum, masked_logits = _masked_lm_sum(self, encoder(**inputs)[0], labels)
        count = labels.ne(IGNORE).sum() if loss_normalizers is None else loss_normalizers[0]
        mlm = _normalise(mlm_sum, count)
        return SparsePretrainingOutput(loss=mlm, masked_lm_loss=mlm.detach(), masked_logits=masked_logits)


class SparseBertForMaskedLM(_SparseMaskedLMMixin, BertForMaskedLM):
    """``BertForMaskedLM`` whose training loss projects only masked positions (masked LM alone).

    ``BertForMaskedLM`` has no pooler, so a masked-LM-only run would save a model without one and a
    classifier built on it would start from a random pooler. The base checkpoint's pooler (untouched by
    masked LM) is kept in ``carried_pooler`` and written back into the saved weights. (The other families'
    classifiers do not use a pooler from the checkpoint.)
    """

    standard_architecture = "BertForMaskedLM"
    carried_pooler: dict[str, torch.Tensor] | None = None

    def save_pretrained(self, save_directory, *args, state_dict=None, **kwargs):  # noqa: D401 - parent's contract
        if self.carried_pooler:
            state_dict = dict(self.state_dict() if state_dict is None else state_dict)
            state_dict.update({f"bert.pooler.{name}": t for name, t in self.carried_pooler.items()})
        return super().save_pretrained(save_directory, *args, state_dict=state_dict, **kwargs)


@cache
def sparse_masked_lm_class(base: type) -> type:
    """The sparse-loss subclass of a family's ``ForMaskedLM`` class (made once per class)."""
    if base is BertForMaskedLM:
        return SparseBertForMaskedLM
    name = f"Sparse{base.__name__}"
    made = type(name, (_SparseMaskedLMMixin, base),
                {"standard_architecture": base.__name__, "__module__": __name__, "__qualname__": name,
                 "__doc__": f"``{base.__name__}`` whose training loss projects only the masked positions."})
    setattr(sys.modules[__name__], name, made)  # a module attribute, so the class (and models) pickle
    return made


@dataclass
class LoadedModel:
    """A model ready to train, and what loading it had to initialise."""

    model: torch.nn.Module
    with_nsp: bool
    sparse: bool
    newly_initialised: list[str]
    uses_token_types: bool = True  # whether batches carry segment ids (not for RoBERTa, DeBERTa-v3, ...)


def checkpoint_pooler(path: str | Path) -> dict[str, torch.Tensor]:
    """The pooler weights of a single-file BERT checkpoint (bare ``BertModel`` or ``bert.``-prefixed), if any."""
    weights = Path(path) / "model.safetensors"
    if not weights.is_file():
        return {}
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as handle:
        return {key.split("pooler.", 1)[1]: handle.get_tensor(key) for key in handle.keys()
                if key.removeprefix("bert.").startswith("pooler.")}


def pretraining_class(config: Any, *, with_nsp: bool, sparse: bool = True) -> type:
    """The class to train ``config``'s family with: sparse where :data:`MASKED_LM_HEADS` knows the family."""
    from transformers import MODEL_FOR_MASKED_LM_MAPPING

    if config.model_type == "bert" and with_nsp:
        return SparseBertForPreTraining if sparse else BertForPreTraining
    try:
        base = MODEL_FOR_MASKED_LM_MAPPING[type(config)]
    except KeyError:
        raise AdaError(f"model type '{config.model_type}' has no masked-LM model in transformers: it cannot be "
                       "domain-adapted by masked-LM fine-tuning") from None
    if sparse and config.model_type in MASKED_LM_HEADS:
        return sparse_masked_lm_class(base)
    return base


def load_pretraining_model(path: str, *, with_nsp: bool | None, seed: int, attn_implementation: str = "sdpa",
                           sparse: bool = True) -> LoadedModel:
    """Load ``path`` for masked LM (+ next sentence when ``with_nsp`` and the family has one; ``None``:
    whenever the family has one).

    Every family of :data:`MASKED_LM_HEADS` gets its sparse-head subclass (``sparse=False``: the dense
    standard class, for comparison); others fall back to the dense ``AutoModelForMaskedLM`` class. Heads
    missing from the checkpoint (the packaged MiniLM and ELECTRA discriminators have none) are initialised from
    ``seed`` and listed, so ``--head_warmup_steps`` can train them first. ``attn_implementation`` is used
    where the family supports it (DeBERTa has no SDPA attention).
    """
    from transformers import AutoConfig, set_seed

    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError, KeyError) as exc:
        raise AdaError(f"{path}: not a model directory: {str(exc).splitlines()[0]}") from exc
    set_seed(seed)  # the newly initialised heads must be the same for the same seed
    if with_nsp is None:
        with_nsp = has_next_sentence_head(config.model_type)
    elif with_nsp and not has_next_sentence_head(config.model_type):
        raise AdaError(f"{path}: a {config.model_type} model has no next-sentence head, but the data holds "
                       "next-sentence pairs; pregenerate it again with --mlm_only")
    cls = pretraining_class(config, with_nsp=with_nsp, sparse=sparse)
    if sparse and config.model_type not in MASKED_LM_HEADS:
        log.info("model family '%s': no sparse masked-LM head here, training with the dense standard head",
                 config.model_type)
    kwargs = {"attn_implementation": attn_implementation} if _supports_attention(cls, attn_implementation) else {}
    try:
        model, info = cls.from_pretrained(path, output_loading_info=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise AdaError(f"{path}: cannot load the model weights: {str(exc).splitlines()[0]}") from exc
    if isinstance(model, SparseBertForMaskedLM):
        model.carried_pooler = checkpoint_pooler(path)
    missing = sorted(info.get("missing_keys", []))
    if missing:
        log.info("newly initialised (not in the checkpoint): %s", ", ".join(missing))
    sparse_loss = issubclass(cls, (_SparseMaskedLMMixin, SparseBertForPreTraining))
    return LoadedModel(model=model, with_nsp=with_nsp, sparse=sparse_loss, newly_initialised=missing,
                       uses_token_types=model_uses_token_types(config))


def _supports_attention(cls: type, implementation: str) -> bool:
    if implementation == "sdpa":
        return bool(getattr(cls, "_supports_sdpa", False))
    if implementation.startswith("flash_attention"):
        return bool(getattr(cls, "_supports_flash_attn", False))
    return True
