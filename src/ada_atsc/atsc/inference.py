"""Run a trained classifier over pairs: length-sorted batches, probabilities back in input order.

Shared by ``evaluate``, ``Predictor`` and the test scoring at the end of training, so every number the
project reports comes from the same code path. An ONNX export runs on numpy batches: a process that only
runs exports never imports PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .features import InputFormat, PairCollator, encode_pairs, length_sorted_batches


def is_onnx(model: Any) -> bool:
    """Whether ``model`` is an ONNX export (:class:`~ada_atsc.export.OnnxModel`): numpy in, numpy out."""
    return getattr(model, "backend", None) == "onnxruntime"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, stable for large logits."""
    shifted = logits.astype(np.float32) - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def pick_device(device: str | None = None):
    """``device`` if given, else CUDA when available, else CPU; an unusable device is one clear error."""
    import torch

    from ..errors import AdaError

    if device:
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise AdaError(f"--device {device}: not a device name (cpu, cuda, cuda:1, ...)") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise AdaError(f"--device {device}: no CUDA GPU is available to this PyTorch build")
        return chosen
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
        return out
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
    return out


def load_classifier(model_dir: str, device: str | None = None):
    """(model, tokenizer, device) from a saved classifier directory; a clear error if it is not one."""
    from ..errors import AdaError
    from ..export import OnnxModel, is_export
    from ..models import load_tokenizer, resolve_model_path
    from .features import check_marker_tokens

    path = resolve_model_path(model_dir)
    tokenizer = load_tokenizer(path)
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar each time a Predictor is made
    exported = is_export(path)
    try:
        if exported:
            model = OnnxModel(path)
        else:
            from .modeling import load_classifier_model  # PyTorch: only for a PyTorch model

            model = load_classifier_model(path)
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: cannot load a classifier: {str(exc).splitlines()[0]}") from exc
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    labels = {str(v).lower() for v in model.config.id2label.values()}
    if not {"positive", "negative", "neutral"} <= labels:
        raise AdaError(f"{path}: not an ATSC classifier (id2label is {model.config.id2label})")
    if InputFormat.from_config(model.config).aspect_markers:
        check_marker_tokens(tokenizer, path)
    dev = "cpu" if exported else pick_device(device)
    model.to(dev).eval()
    return model, tokenizer, dev
