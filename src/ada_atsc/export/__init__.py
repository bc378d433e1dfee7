"""Trained models as ONNX for fast CPU inference: :func:`export_model` writes an export directory,
:class:`OnnxModel` runs one with ONNX Runtime behind the same interface as the PyTorch model, so `Predictor`,
`Extractor`, `AbsaPipeline`, `evaluate`, `predict` and `absa` take either kind of directory."""

from .exporter import EXPORT_MANIFEST, ExportOptions, export_model, is_export
from .runtime import OnnxModel

__all__ = ["EXPORT_MANIFEST", "ExportOptions", "OnnxModel", "export_model", "is_export"]
