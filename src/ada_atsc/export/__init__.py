"""Trained models as ONNX for fast CPU inference: :func:`export_model` writes an export directory,
:class:`OnnxModel` runs one with ONNX Runtime behind the same interface as the PyTorch model, so `Predictor`,
`Extractor`, `AbsaPipeline`, `evaluate`, `predict` and `absa` take either kind of directory."""

from ..runtime.model_dir import EXPORT_MANIFEST, is_export
from ..runtime.onnx import OnnxModel
from .exporter import ExportOptions, export_model

__all__ = ["EXPORT_MANIFEST", "ExportOptions", "OnnxModel", "export_model", "is_export"]
