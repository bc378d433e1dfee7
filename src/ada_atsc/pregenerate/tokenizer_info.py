"""What pregeneration needs from a tokenizer, kept without transformers or torch in memory.

:func:`load_tokenizer_info` loads the tokenizer in a short-lived child process and returns a
:class:`TokenizerInfo`: the backend JSON (to rebuild a fast tokenizer from the ``tokenizers`` library alone),
the special-token layout, the vocabulary and the ids a random replacement may take. The long-running
pregeneration process then never imports transformers (about 250 MB less).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import AdaError
from ..core.sequence_template import SequenceTemplate

_UNUSED = re.compile(r"^(\[unused\d+\]|<unused\d+>|\[unused_\d+\])$")


@dataclass
class TokenizerInfo:
    """Everything the pipeline needs from a tokenizer, without holding transformers (or torch) in memory."""

    backend_json: str
    vocab_size: int
    mask_id: int
    template: dict  # SequenceTemplate.to_dict(): the special tokens around one text or a pair
    special_ids: list[int]
    random_ids: list[int]  # ids a 10% "random token" may take: real tokens, no special or [unused] ones
    id_to_token: list[str]
    fingerprint: str
    do_lower_case: bool | None
    name: str = ""
    model_type: str | None = None  # from the model's config.json beside the tokenizer, when there is one

    def __repr__(self) -> str:  # the vocabulary and backend JSON are megabytes: never print them
        return f"TokenizerInfo(name={self.name!r}, vocab_size={self.vocab_size}, fingerprint={self.fingerprint!r})"

    @property
    def sequence_template(self) -> SequenceTemplate:
        return SequenceTemplate.from_dict(self.template)

    @property
    def token_dtype(self) -> np.dtype:
        return np.dtype(np.uint16 if self.vocab_size <= 65536 else np.uint32)


def build_tokenizer_info(tokenizer: Any, name: str = "") -> TokenizerInfo:
    """Extract a :class:`TokenizerInfo` from a loaded Hugging Face fast tokenizer."""
    from .format import tokenizer_fingerprint

    missing = [kind for kind in ("sep", "mask") if getattr(tokenizer, f"{kind}_token_id", None) is None]
    if missing:
        raise AdaError(
            f"{name or 'tokenizer'}: has no {'/'.join(missing)} token; masked-LM pregeneration needs a mask "
            "token and a separator token"
        )
    template = SequenceTemplate.from_tokenizer(tokenizer)
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    backend["truncation"] = None  # a saved tokenizer may carry max_length truncation/padding: never wanted here
    backend["padding"] = None
    vocab = tokenizer.get_vocab()
    size = max(max(vocab.values()) + 1, len(tokenizer))
    id_to_token = [""] * size
    for token, index in vocab.items():
        id_to_token[index] = token
    special = sorted({int(i) for i in tokenizer.all_special_ids})
    special_set = set(special)
    for index, added in getattr(tokenizer, "added_tokens_decoder", {}).items():
        if getattr(added, "special", False):
            special_set.add(int(index))
    random_ids = [
        index for index, token in enumerate(id_to_token) if token and index not in special_set and not _UNUSED.match(token)
    ]
    return TokenizerInfo(
        backend_json=json.dumps(backend),
        vocab_size=size,
        mask_id=int(tokenizer.mask_token_id),
        template=template.to_dict(),
        special_ids=sorted(special_set),
        random_ids=random_ids,
        id_to_token=id_to_token,
        fingerprint=tokenizer_fingerprint(tokenizer),
        do_lower_case=getattr(tokenizer, "do_lower_case", None),
        name=name,
    )


def _info_in_child(path: str, do_lower_case: bool | None, name: str) -> dict:
    import sys

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"  # it would say that PyTorch is missing: on purpose
    sys.modules["torch"] = None  # tokenizers do not need torch; without it the child peaks at ~100 MB, not ~280
    from ..runtime.models import load_tokenizer

    info = build_tokenizer_info(load_tokenizer(path, do_lower_case), name=name)
    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
        info.model_type = config.get("model_type")
    except (OSError, ValueError):
        info.model_type = None  # a tokenizer-only directory: the model family is not known here
    return asdict(info)


def load_tokenizer_info(name_or_path: str, do_lower_case: bool | None = None) -> TokenizerInfo:
    """Load the tokenizer in a short-lived child process and keep only what the pipeline needs.

    Loading a tokenizer through transformers imports torch (about 250 MB resident) unless torch is hidden,
    as the child does; the parent never imports transformers, so the long-running process stays small.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from ..runtime.models import resolve_model_path

    path = resolve_model_path(name_or_path)  # a hub name is downloaded here, once; the child reads the directory

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return TokenizerInfo(**pool.submit(_info_in_child, path, do_lower_case, name_or_path).result())
