"""Find the train/dev/test splits of an ATSC run and check every example before any model is loaded.

A run takes either a ``--data_dir`` (a folder written by ``prepare-semeval``: ``train.jsonl``,
``dev.jsonl``, ``train_split.jsonl``, ``test.jsonl``; or the 2019 layout ``train.xml``/``dev.xml``/
``test.xml``) or explicit ``--train_file``/``--dev_file``/``--test_file`` in any format the data layer reads.

Honest evaluation is decided here: when the dev split selects the checkpoint, the training examples are
``train_split`` (train minus dev) and, whatever the files hold, no training example may share a sentence
with the dev split or any test set (MAMS and SemEval-2014 restaurants share a few dozen sentences).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from ..core.errors import AdaError
from ..data.readers import read_dataset
from ..data.records import ATSC_LABELS, POLARITIES, AspectExample
from ..training.fine_tune import Splits
from ..training.splits import (  # noqa: F401  (re-exported)
    Files,
    as_paths,
    drop_held_out,
    joined_names,
    read_sources,
    test_set_name,
)

logger = logging.getLogger(__name__)

_SPLIT_NAMES = {
    "train": ("train.jsonl", "train.xml", "train.csv"),
    "train_split": ("train_split.jsonl", "train_split.xml", "train_split.csv"),
    "dev": ("dev.jsonl", "dev.xml", "dev.csv"),
    "test": ("test.jsonl", "test.xml", "test.csv"),
}


def read_examples(path: str | Path) -> list[AspectExample]:
    """Read any supported format (via the data layer), failing with one clear line on bad input."""
    path = Path(path)
    if not path.is_file():
        raise AdaError(f"{path}: file not found")
    return read_dataset(path)


def check_examples(examples: list[AspectExample], source: object, *, labeled: bool = True) -> None:
    """Reject what would silently train or score wrongly: unknown labels, empty aspects, bad offsets."""
    for ex in examples:
        where = f"{source}: record {ex.id}"
        if not ex.aspect or not ex.aspect.strip():
            raise AdaError(f"{where}: empty aspect")
        if not (0 <= ex.start < ex.end <= len(ex.sentence)):
            raise AdaError(f"{where}: offsets {ex.start}:{ex.end} are outside the sentence (length {len(ex.sentence)})")
        if ex.sentence[ex.start : ex.end] != ex.aspect:
            raise AdaError(
                f"{where}: sentence[{ex.start}:{ex.end}] is {ex.sentence[ex.start:ex.end]!r}, not the aspect {ex.aspect!r}"
            )
        if ex.polarity is None:
            if labeled:
                raise AdaError(f"{where}: no polarity (a labeled split is needed here)")
        elif ex.polarity not in POLARITIES:
            raise AdaError(f"{where}: unknown polarity {ex.polarity!r} (expected one of {', '.join(POLARITIES)})")


def drop_conflict(examples: list[AspectExample], source: object) -> list[AspectExample]:
    """Only the three ATSC labels are classes; conflict examples are dropped with a warning."""
    kept = [ex for ex in examples if ex.polarity is None or ex.polarity in ATSC_LABELS]
    if len(kept) < len(examples):
        logger.warning("%s: dropped %d 'conflict' example(s); ATSC classes are %s", source,
                       len(examples) - len(kept), "/".join(ATSC_LABELS))
    return kept


def load_labeled(path: str | Path) -> list[AspectExample]:
    """Read, check and drop conflict: the examples of one labeled split."""
    examples = read_examples(path)
    check_examples(examples, path)
    examples = drop_conflict(examples, path)
    if not examples:
        raise AdaError(f"{path}: no positive/negative/neutral examples")
    return examples


def find_split(data_dir: Path, split: str) -> Path | None:
    """The file of ``split`` (train, train_split, dev, test) in a data folder, JSONL first."""
    if not data_dir.is_dir():
        raise AdaError(f"{data_dir}: --data_dir is not a directory")
    return next((data_dir / n for n in _SPLIT_NAMES[split] if (data_dir / n).is_file()), None)


def resolve_split_files(
    data_dir: str | None, train_file: Files, dev_file: Files, test_file: Files, use_dev: bool
) -> dict[str, list[Path]]:
    """Decide which files play which role; explicit files win over the folder. Each role may have several
    files (``--train_file rest/train_split.jsonl mams/train.xml``): train and dev files are concatenated,
    test files are scored one by one."""
    files: dict[str, list[Path]] = {"train": [], "dev": [], "test": []}
    if data_dir:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise AdaError(f"{folder}: --data_dir is not a directory")
        dev, test = find_split(folder, "dev"), find_split(folder, "test")
        files["dev"], files["test"] = ([dev] if dev else []), ([test] if test else [])
        train_split = find_split(folder, "train_split")
        train = train_split if (use_dev and train_split) else find_split(folder, "train")
        files["train"] = [train] if train else []
        if not files["train"]:
            raise AdaError(f"{folder}: no train.jsonl/train.xml (make it with 'ada-atsc prepare-semeval')")
    for role, given in (("train", train_file), ("dev", dev_file), ("test", test_file)):
        if as_paths(given):
            files[role] = as_paths(given)
    if not files["train"]:
        raise AdaError("no training data: pass --data_dir or --train_file")
    if use_dev and not files["dev"]:
        raise AdaError(
            "--evaluate_during_training selects the checkpoint on a dev split, but none was found "
            "(dev.jsonl/dev.xml in --data_dir, or --dev_file)"
        )
    return files


def load_splits(
    data_dir: str | None = None,
    train_file: Files = None,
    dev_file: Files = None,
    test_file: Files = None,
    *,
    use_dev: bool = True,
    need_test: bool = True,
) -> Splits:
    """Load the examples for a run; with ``use_dev`` training never sees a dev sentence."""
    files = resolve_split_files(data_dir, train_file, dev_file, test_file, use_dev)
    train = [ex for path in files["train"] for ex in load_labeled(path)]
    dev = [ex for path in files["dev"] for ex in load_labeled(path)] if (use_dev and files["dev"]) else None
    tests = {test_set_name(path): load_labeled(path) for path in files["test"]} if need_test else {}
    if len(tests) < len(files["test"]) and need_test:
        raise AdaError(f"--test_file: two test files share the name {test_set_name(files['test'][-1])!r}")
    test = next(iter(tests.values()), None)
    train = drop_held_out(train, dev, tests, joined_names(files["train"]))
    counts = Counter(ex.polarity for ex in train)
    logger.info("train %d examples (%s) from %s; dev %s; test %s", len(train),
                ", ".join(f"{k} {counts[k]}" for k in ATSC_LABELS), joined_names(files["train"]),
                f"{len(dev)} from {joined_names(files['dev'])}" if dev else "none",
                ", ".join(f"{len(v)} from {k}" for k, v in tests.items()) or "none")
    sources = read_sources(files, use_dev=use_dev, need_test=need_test)
    more = dict(list(tests.items())[1:])
    return Splits(train=train, dev=dev, test=test, sources=sources, more_tests=more)
