"""Find the train/dev/test splits of an ATSC run and check every example before any model is loaded.

A run takes either a ``--data_dir`` (a folder written by ``prepare-semeval``: ``train.jsonl``,
``dev.jsonl``, ``train_split.jsonl``, ``test.jsonl``; or the 2019 layout ``train.xml``/``dev.xml``/
``test.xml``) or explicit ``--train_file``/``--dev_file``/``--test_file`` in any format the data layer reads.

Honest evaluation is decided here: when the dev split selects the checkpoint, the training examples are
``train_split`` (train minus dev) and, whatever the folder holds, no training example may share a sentence
with the dev split.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..data.readers import read_dataset
from ..data.records import ATSC_LABELS, POLARITIES, AspectExample
from ..errors import AdaError

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


@dataclass
class Splits:
    """The examples a run trains, selects and tests on, and where they came from."""

    train: list[AspectExample]
    dev: list[AspectExample] | None = None
    test: list[AspectExample] | None = None
    sources: dict[str, str] = field(default_factory=dict)


def find_split(data_dir: Path, split: str) -> Path | None:
    """The file of ``split`` (train, train_split, dev, test) in a data folder, JSONL first."""
    if not data_dir.is_dir():
        raise AdaError(f"{data_dir}: --data_dir is not a directory")
    return next((data_dir / n for n in _SPLIT_NAMES[split] if (data_dir / n).is_file()), None)


def resolve_split_files(
    data_dir: str | None, train_file: str | None, dev_file: str | None, test_file: str | None, use_dev: bool
) -> dict[str, Path | None]:
    """Decide which file plays which role; explicit files win over the folder."""
    files: dict[str, Path | None] = {"train": None, "dev": None, "test": None}
    if data_dir:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise AdaError(f"{folder}: --data_dir is not a directory")
        files["dev"] = find_split(folder, "dev")
        files["test"] = find_split(folder, "test")
        train_split = find_split(folder, "train_split")
        files["train"] = train_split if (use_dev and train_split) else find_split(folder, "train")
        if files["train"] is None:
            raise AdaError(f"{folder}: no train.jsonl/train.xml (make it with 'ada-atsc prepare-semeval')")
    for role, given in (("train", train_file), ("dev", dev_file), ("test", test_file)):
        if given:
            files[role] = Path(given)
    if files["train"] is None:
        raise AdaError("no training data: pass --data_dir or --train_file")
    if use_dev and files["dev"] is None:
        raise AdaError(
            "--evaluate_during_training selects the checkpoint on a dev split, but none was found "
            "(dev.jsonl/dev.xml in --data_dir, or --dev_file)"
        )
    return files


def load_splits(
    data_dir: str | None = None,
    train_file: str | None = None,
    dev_file: str | None = None,
    test_file: str | None = None,
    *,
    use_dev: bool = True,
    need_test: bool = True,
) -> Splits:
    """Load the examples for a run; with ``use_dev`` training never sees a dev sentence."""
    files = resolve_split_files(data_dir, train_file, dev_file, test_file, use_dev)
    train = load_labeled(files["train"])
    dev = load_labeled(files["dev"]) if (use_dev and files["dev"]) else None
    test = load_labeled(files["test"]) if (need_test and files["test"]) else None
    if dev is not None:
        dev_sentences = {ex.sentence for ex in dev}
        before = len(train)
        train = [ex for ex in train if ex.sentence not in dev_sentences]
        if len(train) < before:
            logger.warning("removed %d training example(s) whose sentence is in the dev split", before - len(train))
        if not train:
            raise AdaError(f"{files['train']}: every training sentence is also in the dev split")
    counts = Counter(ex.polarity for ex in train)
    logger.info("train %d examples (%s) from %s; dev %s; test %s", len(train),
                ", ".join(f"{k} {counts[k]}" for k in ATSC_LABELS), files["train"],
                f"{len(dev)} from {files['dev']}" if dev else "none",
                f"{len(test)} from {files['test']}" if test else "none")
    sources = {role: str(path) for role, path in files.items() if path is not None}
    return Splits(train=train, dev=dev, test=test, sources=sources)
