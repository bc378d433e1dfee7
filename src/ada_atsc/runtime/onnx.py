"""Run an export directory with ONNX Runtime behind the interface inference already uses.

:class:`OnnxModel` stands where a transformers model stands in :func:`~ada_atsc.atsc.inference.predict_proba`
and :func:`~ada_atsc.ate.extractor.extract_spans`: it has a ``config``, ``eval()``, ``parameters()`` (one CPU
tensor, so callers find the device) and returns an object with ``.logits`` when called with the batch's
tensors. So one code path serves both backends, and the loaders pick this one for an export directory.

Threads are set explicitly (``intra_op_num_threads``: the ``threads`` argument, else :func:`default_threads`),
so several worker processes can each pin their share of the cores.

ONNX Runtime's memory arena keeps, for the life of a session, room for the largest batch shape it has seen, and
grows in steps it never gives back. A process that scores batches of ever-changing shapes for hours (a
bulk-scoring worker) opens its sessions inside ``memory_arena(False)`` and returns freed memory to the system
after each batch (:func:`~ada_atsc.runtime.memory.release_free_memory`). Measured on one worker (int8 extractor and
classifier, 800 review lines, RSS after each batch): with the arena it climbed to 600 MB; without it, it stayed
at 182 MB (the batch itself still peaks near 500 MB), at the same speed (docs/inference.md).

Nothing here imports PyTorch: called with numpy arrays, a model returns numpy logits, so a process that only
runs exports (a bulk-scoring worker) never loads PyTorch (about 200 MB per process). Called with PyTorch
tensors, it returns a PyTorch tensor, as a transformers model would.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from ..core.errors import AdaError
from .model_dir import EXPORT_MANIFEST

ONNX_FILE = "model.onnx"
FORMAT_VERSION = 1
"""The export format this runtime reads (and ``ada-atsc export`` writes)."""


def require_onnx() -> None:
    """One clear line when the optional extra is missing."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise AdaError(f"ONNX export and inference need the optional extra: pip install 'ada-atsc[onnx]' ({exc.name} "
                       "is missing)") from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def tokenizer_fingerprint(folder: Path) -> str:
    """The hash of the fast tokenizer's ``tokenizer.json`` (vocabulary, added marker tokens, normaliser)."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise AdaError(f"{folder}: no tokenizer.json (a fast tokenizer is needed)")
    return file_sha256(path)


def read_manifest(folder: Path) -> dict:
    """The export's manifest, checked: a clear line for a directory that is not a usable export."""
    path = folder / EXPORT_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdaError(f"{folder}: not an ONNX export (no {EXPORT_MANIFEST}; make one with 'ada-atsc export')") from None
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: unreadable export manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise AdaError(f"{path}: not an export manifest of format version {FORMAT_VERSION}")
    if not (folder / ONNX_FILE).is_file():
        raise AdaError(f"{folder}: the export has no {ONNX_FILE}")
    found = tokenizer_fingerprint(folder)
    if found != manifest.get("tokenizer_fingerprint"):
        raise AdaError(f"{folder}: tokenizer.json does not match the one the model was exported with "
                       f"({found} vs {manifest.get('tokenizer_fingerprint')}); re-export the model")
    return manifest


_MEMORY_ARENA = {"enabled": True}


@contextmanager
def memory_arena(enabled: bool) -> Iterator[None]:
    """Sessions opened inside the ``with`` block use ONNX Runtime's CPU memory arena or not (see the module
    docstring); the setting before it holds again afterwards."""
    before = _MEMORY_ARENA["enabled"]
    _MEMORY_ARENA["enabled"] = bool(enabled)
    try:
        yield
    finally:
        _MEMORY_ARENA["enabled"] = before


def default_threads() -> int:
    """PyTorch's thread count when PyTorch is loaded (it honours ``torch.set_num_threads``), else
    ``OMP_NUM_THREADS``, else the cores this process may use."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return int(torch.get_num_threads())
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class _CpuMarker:
    """What ``next(model.parameters())`` gives for an export: something with ``.device``, no PyTorch needed."""

    device = "cpu"


class OnnxModel:
    """An exported classifier or extractor on ONNX Runtime's CPU provider (see the module docstring)."""

    backend = "onnxruntime"

    def __init__(self, folder: str | Path, *, threads: int | None = None):
        require_onnx()
        import onnxruntime as ort
        from transformers import AutoConfig

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self.config = AutoConfig.from_pretrained(str(self.folder))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = _MEMORY_ARENA["enabled"]
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle threads sleep instead of spinning: a pipeline holds two sessions (extractor, classifier) whose
        # spinning threads would otherwise take the cores from each other
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(self.folder / ONNX_FILE), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a broken graph
            first = " ".join(str(exc).split())[:300]
            raise AdaError(f"{self.folder / ONNX_FILE}: cannot load the ONNX graph ({first})") from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.training = False
        self._device_marker = _CpuMarker()

    def eval(self) -> OnnxModel:
        return self

    def train(self, mode: bool = True) -> OnnxModel:
        if mode:
            raise AdaError(f"{self.folder}: an ONNX export is for inference only")
        return self

    def to(self, device) -> OnnxModel:
        if str(device) != "cpu":
            raise AdaError(f"{self.folder}: an ONNX export runs on the CPU here (asked for {device})")
        return self

    def parameters(self):
        yield self._device_marker

    def __call__(self, **batch) -> SimpleNamespace:
        """Logits for a batch of numpy arrays (numpy logits) or PyTorch tensors (a PyTorch tensor)."""
        import numpy as np

        feeds = {}
        tensors = False
        for name in self.input_names:
            if name not in batch:
                raise AdaError(f"{self.folder}: the export needs input '{name}', which the batch lacks")
            value = batch[name]
            if not isinstance(value, np.ndarray):  # a PyTorch tensor
                value, tensors = value.cpu().numpy(), True
            feeds[name] = value.astype(np.int64, copy=False)
        (logits,) = self.session.run(["logits"], feeds)
        if tensors:
            import torch

            return SimpleNamespace(logits=torch.from_numpy(logits))
        return SimpleNamespace(logits=logits)
