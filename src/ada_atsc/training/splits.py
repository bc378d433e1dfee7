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


def joined_names(paths: Sequence[Path]) -> str:
    """Several files of one role, as a run names them (``a.jsonl + b.xml``)."""
    return " + ".join(map(str, paths))


def read_sources(files: dict[str, list[Path]], *, use_dev: bool, need_test: bool) -> dict[str, str]:
    """The files each role of a run was read from, for ``eval_results.json``: a dev or test file that was found
    but not read (no dev selection, no test scoring) is not named."""
    read = {"train": True, "dev": use_dev, "test": need_test}
    return {role: joined_names(paths) for role, paths in files.items() if paths and read[role]}


def load_named_splits(data_dir, train_file: Files, dev_file: Files, test_file: Files, *, file_names: dict[str, str],
                      load, missing_hint: str, use_dev: bool, need_test: bool):
    """The splits of a run whose data are files named ``file_names[split]`` in ``data_dir`` (explicit files win),
    each read by ``load(path)``; training never shares a sentence with dev or a test set. Shared by the tasks
    whose data are sentence-level files (extraction, categories)."""
    from .fine_tune import Splits

    files = {"train": as_paths(train_file), "dev": as_paths(dev_file), "test": as_paths(test_file)}
    if data_dir:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise AdaError(f"{folder}: --data_dir is not a directory")
        found = {name: folder / file for name, file in file_names.items() if (folder / file).is_file()}
        train = found.get("train_split") if use_dev and "train_split" in found else found.get("train")
        files["train"] = files["train"] or ([train] if train else [])
        files["dev"] = files["dev"] or ([found["dev"]] if "dev" in found else [])
        files["test"] = files["test"] or ([found["test"]] if "test" in found else [])
        if not files["train"]:
            raise AdaError(f"{folder}: no {file_names['train']} ({missing_hint})")
    if not files["train"]:
        raise AdaError("no training data: pass --data_dir or --train_file")
    if use_dev and not files["dev"]:
        raise AdaError("--evaluate_during_training selects the checkpoint on a dev split, but none was found")
    train = [item for path in files["train"] for item in load(path)]
    dev = [item for path in files["dev"] for item in load(path)] if use_dev else None
    tests = {test_set_name(path): load(path) for path in files["test"]} if need_test else {}
    train = drop_held_out(train, dev, tests, joined_names(files["train"]))
    sources = read_sources(files, use_dev=use_dev, need_test=need_test)
    return Splits(train=train, dev=dev, test=next(iter(tests.values()), None), sources=sources,
                  more_tests=dict(list(tests.items())[1:]))
