"""How a trained model directory says what it is, read in one place and without PyTorch.

Two questions, each answered from the files the directory holds:

* **which task** (:func:`model_kind`): an aspect extractor has ``"ada_atsc_task": "ate"`` in its
  ``config.json`` (written by ``train --task ate``; older extractors are recognised by their BIO labels), an
  aspect-category classifier ``"acsa"`` (``train --task acsa``), a unified tagger ``"unified"`` (``train
  --task unified``: aspects and their polarity in one model), anything else is an ATSC classifier;
* **which backend** (:func:`is_export`): an ONNX export holds :data:`EXPORT_MANIFEST` beside its graph; a
  PyTorch model does not.

A **bundle** (written by ``ada-atsc adapt``) is a directory of two models, ``extractor/`` and
``classifier/``, with :data:`BUNDLE_MANIFEST` beside them: :func:`is_bundle`, :func:`bundle_parts`.
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

EXPORT_MANIFEST = "ada_atsc_export.json"
"""The file that makes a directory an ONNX export (written by ``ada-atsc export``)."""

BUNDLE_MANIFEST = "adapt.json"
"""The file that makes a directory a bundle of an extractor and a classifier (``ada-atsc adapt``)."""

def is_bundle(path: str | Path) -> bool:
    """Whether ``path`` is a bundle: ``extractor/`` and ``classifier/`` beside :data:`BUNDLE_MANIFEST`."""
    path = Path(path)
    return (path / BUNDLE_MANIFEST).is_file() and (path / "extractor").is_dir() and (path / "classifier").is_dir()


def bundle_parts(path: str | Path) -> tuple[str, str]:
    """(extractor directory, classifier directory) of the bundle ``path``; one clear line if it is not one."""
    if not is_bundle(path):
        raise AdaError(f"{path}: not a model bundle (an 'ada-atsc adapt' output: extractor/, classifier/ and "
                       f"{BUNDLE_MANIFEST})")
    return str(Path(path) / "extractor"), str(Path(path) / "classifier")


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is an ONNX export directory (it holds :data:`EXPORT_MANIFEST`)."""
    return (Path(path) / EXPORT_MANIFEST).is_file()


def config_labels(config: dict) -> list[str]:
    """The ``id2label`` values of a ``config.json`` dict, in id order."""
    return [str(v) for _, v in sorted((config.get("id2label") or {}).items(), key=lambda kv: int(kv[0]))]


def model_kind(model_dir: str | Path) -> str:
    """``ate`` for an aspect extractor, ``acsa`` for an aspect-category classifier, ``unified`` for a unified
    tagger (extraction and polarity in one model, ``train --task unified``), ``atsc`` for an aspect
    sentiment classifier (read from config.json, no torch), ``bundle`` for a bundle of an extractor and a
    classifier."""
    from .models import resolve_model_path

    if is_bundle(model_dir):
        return "bundle"
    config_file = Path(resolve_model_path(str(model_dir))) / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdaError(f"{config_file}: cannot read the model config ({exc})") from None
    if config.get(TASK_CONFIG_KEY) in ("acsa", "unified"):
        return config[TASK_CONFIG_KEY]
    return "ate" if config.get(TASK_CONFIG_KEY) == "ate" or tuple(config_labels(config)) == EXTRACTION_TAGS \
        else "atsc"
