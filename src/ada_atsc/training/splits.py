"""Which files a training run reads, shared by every task: files given as one path or several, how a test set
is named in results, and the rule that training never shares a sentence with dev or a test set."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import AdaError

logger = logging.getLogger(__name__)

Files = str | Path | Sequence[str | Path] | None


def as_paths(value: Files) -> list[Path]:
    """``value`` (nothing, one path, or several) as a list of paths."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, Path)):
        return [Path(value)]
    return [Path(v) for v in value]


def test_set_name(path: Path) -> str:
    """How a test file is named in results: ``<folder>/<file stem>`` (``mams/test``)."""
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def drop_held_out(train: list, dev: list | None, tests: dict[str, list], source: str) -> list:
    """``train`` without the items (pairs or sentences) whose sentence is in the dev split or a test set."""
    held_out = [("dev split", dev or [])] + [(f"test set {name}", items) for name, items in tests.items()]
    for role, items in held_out:
        seen = {sentence_key(item.sentence) for item in items}
        before = len(train)
        train = [item for item in train if sentence_key(item.sentence) not in seen]
        if len(train) < before:
            logger.warning("removed %d training item(s) whose sentence is in the %s", before - len(train), role)
    if not train:
        raise AdaError(f"{source}: every training sentence is also in the dev or test data")
    return train


def sentence_key(sentence: str) -> str:
    """Sentences compared across files ignore case and spacing (MAMS and SemEval-2014 share some)."""
    return " ".join(sentence.lower().split())
