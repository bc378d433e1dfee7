"""The two backends a trained model runs on, behind one interface: PyTorch (a transformers model) and ONNX
Runtime (:class:`~ada_atsc.runtime.onnx.OnnxModel`, an export directory).

:func:`open_model` is the one way a task opens a trained model directory of either kind: the tokenizer, the
model on the chosen device, an export always on the CPU. The runners of the tasks then ask :func:`is_onnx`
to pick numpy batches (an export: no PyTorch in the process) or PyTorch tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import AdaError


def is_onnx(model: Any) -> bool:
    """Whether ``model`` is an ONNX export (:class:`~ada_atsc.runtime.onnx.OnnxModel`): numpy in, numpy out."""
    return getattr(model, "backend", None) == "onnxruntime"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, stable for large logits."""
    shifted = logits.astype(np.float32) - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def pick_device(device: str | None = None):
    """``device`` if given, else CUDA when available, else CPU; an unusable device is one clear error."""
    import torch

    if device:
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise AdaError(f"--device {device}: not a device name (cpu, cuda, cuda:1, ...)") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise AdaError(f"--device {device}: no CUDA GPU is available to this PyTorch build")
        return chosen
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def open_model(path: str, torch_loader: Callable[[str], Any], *, what: str, device: str | None = None,
               check: Callable[[Any, Any], None] | None = None):
    """(model, tokenizer, device) of the model directory ``path`` (resolved already).

    An export loads on ONNX Runtime, anything else through ``torch_loader(path)``; a load failure is one
    line naming ``what`` was expected. ``check(model, tokenizer)`` runs before the model moves to its device (a task's
    test that the directory holds its kind of model).
    """
    from .model_dir import is_export
    from .models import load_tokenizer

    tokenizer = load_tokenizer(path)
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar each time a model is opened
    exported = is_export(path)
    try:
        if exported:
            from .onnx import OnnxModel

            model = OnnxModel(path)
        else:
            model = torch_loader(path)
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: cannot load {what}: {str(exc).splitlines()[0]}") from exc
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    if check is not None:
        check(model, tokenizer)
    dev = "cpu" if exported else pick_device(device)
    model.to(dev).eval()
    return model, tokenizer, dev
