"""How a trained model directory says what it is, read in one place and without PyTorch.

Two questions, each answered from the files the directory holds:

* **which task** (:func:`model_kind`): an aspect extractor has ``"ada_atsc_task": "ate"`` in its
  ``config.json`` (written by ``train --task ate``; older extractors are recognised by their BIO labels), an
  aspect-category classifier ``"acsa"`` (``train --task acsa``), a unified tagger ``"unified"`` (``train
  --task unified``: aspects and their polarity in one model), a triplet tagger ``"triplets"`` (``train --task
  triplets``: the same with opinion words), anything else is an ATSC classifier;
* **which backend** (:func:`is_export`): an ONNX export holds :data:`EXPORT_MANIFEST` beside its graph; a
  PyTorch model does not.

A **bundle** (written by ``ada-atsc adapt``) is a directory with :data:`BUNDLE_MANIFEST` and either a unified
tagger (``tagger/``, and its ONNX int8 export ``tagger-int8/`` unless ``--no_export``) or a pair of models
(``extractor/`` and ``classifier/``, ``adapt --pipeline``): :func:`is_bundle`, :func:`bundle_kind`,
:func:`bundle_parts`. Paths inside a bundle are relative to it, so a bundle moved or shared still opens.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import AdaError
from ..core.labels import EXTRACTION_TAGS

PROJECT_CONFIG_PREFIX = "ada_atsc_"
"""Every ``config.json`` key this project writes starts with this (the task, its input layout, its categories)."""

TASK_CONFIG_KEY = PROJECT_CONFIG_PREFIX + "task"
"""The ``config.json`` key naming the task a model was trained for (``ate`` for an extractor)."""

TAGGER_KINDS = ("unified", "triplets")
"""The kinds of one model that does a pipeline's whole job (aspects and their polarity in one pass; a triplet
tagger adds the opinion words)."""

EXPORT_MANIFEST = "ada_atsc_export.json"
"""The file that makes a directory an ONNX export (written by ``ada-atsc export``)."""

BUNDLE_MANIFEST = "adapt.json"
"""The file that makes a directory a model bundle (``ada-atsc adapt``)."""

BUNDLE_TAGGER = "tagger"
"""A tagger bundle's unified tagger (PyTorch, ``AutoModelForTokenClassification``)."""

BUNDLE_TAGGER_EXPORT = "tagger-int8"
"""A tagger bundle's ONNX int8 export of :data:`BUNDLE_TAGGER`: what the bundle runs when ONNX Runtime is there."""


def bundle_kind(path: str | Path) -> str | None:
    """``tagger`` (a unified tagger bundle), ``pipeline`` (an extractor and a classifier) or None (no bundle)."""
    path = Path(path)
    if not (path / BUNDLE_MANIFEST).is_file():
        return None
    if (path / BUNDLE_TAGGER).is_dir() or (path / BUNDLE_TAGGER_EXPORT).is_dir():
        return "tagger"
    if (path / "extractor").is_dir() and (path / "classifier").is_dir():
        return "pipeline"
    return None


def is_bundle(path: str | Path) -> bool:
    """Whether ``path`` is a bundle (see :func:`bundle_kind`)."""
    return bundle_kind(path) is not None


def onnx_runtime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def bundle_parts(path: str | Path, *, prefer_export: bool = True) -> tuple[str, str | None]:
    """What a bundle runs: (extractor, classifier) of a pipeline bundle, or (tagger, None) of a tagger bundle,
    whose int8 export is preferred when it is there and ONNX Runtime is installed (``prefer_export=False``:
    the PyTorch tagger). One clear line if ``path`` is not a bundle."""
    kind = bundle_kind(path)
    path = Path(path)
    if kind == "tagger":
        export, tagger = path / BUNDLE_TAGGER_EXPORT, path / BUNDLE_TAGGER
        use_export = export.is_dir() and (not tagger.is_dir() or (prefer_export and onnx_runtime_available()))
        return str(export if use_export else tagger), None
    if kind == "pipeline":
        return str(path / "extractor"), str(path / "classifier")
    raise AdaError(f"{path}: not a model bundle (an 'ada-atsc adapt' output: {BUNDLE_MANIFEST} with {BUNDLE_TAGGER}/, "
                   "or with extractor/ and classifier/)")


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is an ONNX export directory (it holds :data:`EXPORT_MANIFEST`)."""
    return (Path(path) / EXPORT_MANIFEST).is_file()


def config_labels(config: dict) -> list[str]:
    """The ``id2label`` values of a ``config.json`` dict, in id order."""
    return [str(v) for _, v in sorted((config.get("id2label") or {}).items(), key=lambda kv: int(kv[0]))]


def model_kind(model_dir: str | Path) -> str:
    """``ate`` for an aspect extractor, ``acsa`` for an aspect-category classifier, ``unified`` for a unified
    tagger (extraction and polarity in one model, ``train --task unified``), ``atsc`` for an aspect
    sentiment classifier (read from config.json, no torch), ``bundle`` for an ``adapt`` bundle (either kind:
    :func:`bundle_parts` says what it runs)."""
    from .models import resolve_model_path

    if is_bundle(model_dir):
        return "bundle"
    config_file = Path(resolve_model_path(str(model_dir))) / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdaError(f"{config_file}: cannot read the model config ({exc})") from None
    if config.get(TASK_CONFIG_KEY) in ("acsa", *TAGGER_KINDS):
        return config[TASK_CONFIG_KEY]
    return "ate" if config.get(TASK_CONFIG_KEY) == "ate" or tuple(config_labels(config)) == EXTRACTION_TAGS \
        else "atsc"
