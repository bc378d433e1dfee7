"""Run a trained classifier over pairs: length-sorted batches, probabilities back in input order.

Shared by ``evaluate``, ``Predictor`` and the test scoring at the end of training, so every number the
project reports comes from the same code path. An ONNX export runs on numpy batches: a process that only
runs exports never imports PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import AdaError
from ..core.labels import ATSC_LABELS
from ..runtime.backend import is_onnx, open_model, pick_device, softmax  # noqa: F401  (pick_device: re-exported)
from ..runtime.batching import length_sorted_batches
from .features import InputFormat, PairCollator, encode_pairs
from .label_mix import read_label_mix


def predict_proba(
    model,
    tokenizer,
    sentences: Sequence[str],
    aspects: Sequence[str],
    *,
    spans: Sequence[tuple[int, int]] | None = None,
    max_seq_length: int = 128,
    batch_size: int = 64,
    device: Any = None,
) -> np.ndarray:
    """Class probabilities, shape ``(n, num_labels)``, in the order of the inputs.

    The pairs are encoded in the input format saved in the model's config (markers, aspect pooling);
    ``spans`` are the aspects' character offsets (default: each term's first occurrence).
    """
    if not sentences:
        return np.zeros((0, model.config.num_labels), dtype=np.float32)
    features = encode_pairs(tokenizer, sentences, aspects, max_seq_length, spans=spans,
                            input_format=InputFormat.from_config(model.config))
    order = length_sorted_batches([len(f["input_ids"]) for f in features], batch_size)
    out = np.zeros((len(features), model.config.num_labels), dtype=np.float32)
    if is_onnx(model):
        collate = PairCollator(tokenizer.pad_token_id or 0, return_tensors="np")
        for batch_ids in order:
            out[batch_ids] = softmax(model(**collate([features[i] for i in batch_ids])).logits)
        return _with_label_mix(model, out)
    import torch

    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    collate = PairCollator(tokenizer.pad_token_id or 0)
    with torch.inference_mode():
        for batch_ids in order:
            batch = {k: v.to(device) for k, v in collate([features[i] for i in batch_ids]).items()}
            logits = model(**batch).logits.float()
            out[batch_ids] = torch.softmax(logits, dim=-1).cpu().numpy()
    if was_training:
        model.train()
    return _with_label_mix(model, out)


def _with_label_mix(model, probs: np.ndarray) -> np.ndarray:
    """``probs`` corrected to the label mix the classifier's directory names, if it names one
    (:mod:`.label_mix`: written by ``ada-atsc adapt`` for the target domain)."""
    mix = getattr(model, "ada_label_mix", None)
    return mix.correct(probs) if mix is not None and len(probs) else probs


def load_classifier(model_dir: str, device: str | None = None, *, label_mix: bool = True):
    """(model, tokenizer, device) from a saved classifier directory; a clear error if it is not one.

    A directory holding a label mix (:mod:`.label_mix`) has its outputs corrected to it, unless ``label_mix``
    is False."""
    from ..runtime.models import resolve_model_path
    from .features import check_marker_tokens

    path = resolve_model_path(model_dir)

    def torch_loader(folder: str):
        from .modeling import load_classifier_model  # PyTorch: only for a PyTorch model

        return load_classifier_model(folder)

    def check(model, tokenizer) -> None:
        labels = {str(v).lower() for v in model.config.id2label.values()}
        if not set(ATSC_LABELS) <= labels:
            raise AdaError(f"{path}: not an ATSC classifier (id2label is {model.config.id2label})")
        if InputFormat.from_config(model.config).aspect_markers:
            check_marker_tokens(tokenizer, path)

    model, tokenizer, dev = open_model(path, torch_loader, what="a classifier", device=device, check=check)
    model.ada_label_mix = read_label_mix(path) if label_mix else None
    return model, tokenizer, dev
