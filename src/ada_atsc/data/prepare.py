"""``ada-atsc prepare-semeval``: benchmark files -> the JSONL splits that training reads.

With ``--istrain`` the files become ``train.jsonl``, ``dev.jsonl`` (10% of the *sentences*, chosen with the
seed, so no sentence is on both sides) and ``train_split.jsonl`` (train minus dev); otherwise ``test.jsonl``.
Run it once with ``--istrain`` on the training file and once without on the test file, into the same folder.
``stats.json`` always holds the counts per split and polarity (it is updated, not replaced, by the second run).

Beside each pair file, ``<split>.sentences.jsonl`` holds the same split at the sentence level, for aspect
term extraction: every source sentence, with or without aspects, ``{"id", "sentence", "aspects": [{"term",
"from", "to", "polarity"}]}``. Its dev sentences are the pair files' dev sentences plus, drawn with the same
seed, the same fraction of the sentences that have no pair (no aspect, or only conflict ones under
``--noconfl``), so ATE and ATSC never see each other's dev or test sentences. Extraction needs one tag per
token, so spans follow :func:`~ada_atsc.data.records.resolve_span_overlaps` (a duplicate span is one aspect,
``conflict`` if its listings disagree; of overlapping spans the longest is kept); conflict aspects stay (they
are aspects, whatever their polarity) and are counted in ``stats.json``.

Where the source annotates aspect categories (SemEval-2014 restaurants, MAMS-ACSA, SemEval-2015/16),
``<split>.categories.jsonl`` holds them too, ``{"id", "sentence", "categories": [{"category", "polarity"}]}``,
split on the same dev sentences, so ``train --task acsa --data_dir`` works like the other tasks. A file with
categories and no aspect terms (MAMS-ACSA) gives only the category files.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np

from ..core.errors import AdaError
from ..core.fileio import write_json, write_jsonl
from .readers import read_dataset, read_sentences
from .records import (
    ATSC_LABELS,
    POLARITIES,
    AspectExample,
    CategorySentence,
    SentenceRecord,
    resolve_span_overlaps,
)
from .writers import write_dataset

log = logging.getLogger(__name__)
DEV_FRACTION = 0.1


def prepare_semeval(
    files: list[str],
    output_dir: str | Path,
    *,
    is_train: bool,
    drop_conflict: bool = False,
    upsample: list[float] | None = None,
    seed: int = 41,
    overwrite: bool = False,
) -> dict:
    """Read ``files``, split them, write the JSONL files and ``stats.json``; returns the stats."""
    output_dir = Path(output_dir)
    if upsample is not None:
        if not is_train:
            raise AdaError("--upsample applies to training data: add --istrain")
        _check_ratios(upsample)
    categories = read_category_files(files)
    examples = read_files(files) if not categories or _has_terms(files) else []
    if drop_conflict:
        examples = [example for example in examples if example.polarity != "conflict"]
    if not examples and not categories:
        raise AdaError(f"{', '.join(map(str, files))}: no aspect terms found")
    if not examples:  # a category-only source (MAMS-ACSA): only the category files
        return _prepare_categories_only(categories, files, output_dir, is_train=is_train, seed=seed,
                                        overwrite=overwrite)

    sentences, span_stats = read_sentence_files(files)
    if is_train:
        dev, train_split = split_dev(examples, DEV_FRACTION, seed)
        splits = {"train": examples, "dev": dev, "train_split": train_split}
        dev_texts = dev_sentence_texts(sentences, {e.sentence for e in dev}, {e.sentence for e in examples}, seed)
        sentence_splits = {"train": sentences, "dev": [s for s in sentences if s.sentence in dev_texts],
                           "train_split": [s for s in sentences if s.sentence not in dev_texts]}
        if upsample is not None:
            rng = np.random.default_rng(seed)
            splits["train"] = upsample_examples(examples, upsample, rng)
            splits["train_split"] = upsample_examples(train_split, upsample, rng)
    else:
        splits = {"test": examples}
        sentence_splits = {"test": sentences}

    category_splits = {name: [c for c in categories if c.sentence in {s.sentence for s in split}]
                       for name, split in sentence_splits.items()} if categories else {}
    existing = [f"{name}{suffix}" for name in splits for suffix in (".jsonl", ".sentences.jsonl", ".categories.jsonl")
                if (output_dir / f"{name}{suffix}").exists()]
    if existing and not overwrite:
        raise AdaError(f"{output_dir}: {', '.join(existing)} already there (pass --overwrite_output_dir to replace them)")
    output_dir.mkdir(parents=True, exist_ok=True)
    stats = _read_stats(output_dir / "stats.json")
    for name, split in splits.items():
        write_dataset(output_dir / f"{name}.jsonl", split)
        stats[name] = count_polarities(split)
        write_jsonl(output_dir / f"{name}.sentences.jsonl", (record.to_record() for record in sentence_splits[name]))
        stats.setdefault("sentence_files", {})[name] = {**count_sentences(sentence_splits[name]), **span_stats}
        if categories:
            _write_categories(output_dir, name, category_splits[name], stats)
    stats.setdefault("sources", {}).update({name: [str(f) for f in files] for name in splits})
    write_json(output_dir / "stats.json", stats)
    return stats


def read_category_files(files: list[str]) -> list[CategorySentence]:
    """The category sentences of ``files`` (ids as :func:`read_files`); empty when none of them has categories."""
    from .category_readers import read_category_sentences
    from .readers import file_format

    if any(file_format(f) == "aste" for f in files):  # triplets carry no categories
        return []
    sentences: list[CategorySentence] = []
    for file in files:
        try:
            records = read_category_sentences(file)
        except AdaError as exc:
            if "no aspect categories" in str(exc):
                return []  # categories only count where every file has them
            raise
        if len(files) > 1:
            records = [CategorySentence(f"{Path(file).stem}:{r.id}", r.sentence, r.categories) for r in records]
        sentences.extend(records)
    return sentences


def _has_terms(files: list[str]) -> bool:
    return any(record.aspects for file in files for record in read_sentences(file))


def _write_categories(output_dir: Path, name: str, sentences: list[CategorySentence], stats: dict) -> None:
    write_jsonl(output_dir / f"{name}.categories.jsonl", (record.to_record() for record in sentences))
    stats.setdefault("category_files", {})[name] = {
        "sentences": len(sentences), "categories": sum(len(s.categories) for s in sentences),
        **Counter(c.polarity for s in sentences for c in s.categories)}


def _prepare_categories_only(categories: list[CategorySentence], files: list[str], output_dir: Path, *,
                             is_train: bool, seed: int, overwrite: bool) -> dict:
    """Category files alone (a source without aspect terms): dev is ``DEV_FRACTION`` of the sentences, seeded."""
    if is_train:
        texts = list(dict.fromkeys(c.sentence for c in categories))
        order = np.random.default_rng(seed).permutation(len(texts))
        dev_texts = {texts[i] for i in order[: round(len(texts) * DEV_FRACTION)]}
        splits = {"train": categories, "dev": [c for c in categories if c.sentence in dev_texts],
                  "train_split": [c for c in categories if c.sentence not in dev_texts]}
    else:
        splits = {"test": categories}
    existing = [f"{name}.categories.jsonl" for name in splits if (output_dir / f"{name}.categories.jsonl").exists()]
    if existing and not overwrite:
        raise AdaError(f"{output_dir}: {', '.join(existing)} already there (pass --overwrite_output_dir to replace them)")
    output_dir.mkdir(parents=True, exist_ok=True)
    stats = _read_stats(output_dir / "stats.json")
    for name, split in splits.items():
        _write_categories(output_dir, name, split, stats)
    stats.setdefault("sources", {}).update({name: [str(f) for f in files] for name in splits})
    write_json(output_dir / "stats.json", stats)
    return stats


def read_files(files: list[str]) -> list[AspectExample]:
    """Concatenate the examples of several files; ids get the file's stem when there is more than one file."""
    examples: list[AspectExample] = []
    for file in files:
        file_examples = read_dataset(file)
        if len(files) > 1:
            stem = Path(file).stem
            file_examples = [
                AspectExample(f"{stem}:{e.id}", e.sentence, e.aspect, e.start, e.end, e.polarity) for e in file_examples
            ]
        examples.extend(file_examples)
    return examples


def read_sentence_files(files: list[str]) -> tuple[list[SentenceRecord], dict]:
    """Every sentence of ``files`` with its spans made tag-able (see the module doc); ids as :func:`read_files`."""
    sentences: list[SentenceRecord] = []
    duplicates = overlaps = 0
    for file in files:
        for record in read_sentences(file):
            aspects, merged, dropped = resolve_span_overlaps(record.aspects)
            duplicates += merged
            overlaps += dropped
            sentence_id = f"{Path(file).stem}:{record.id}" if len(files) > 1 else record.id
            sentences.append(SentenceRecord(sentence_id, record.sentence, aspects))
    return sentences, {"duplicate_spans_merged": duplicates, "overlapping_spans_dropped": overlaps}


def dev_sentence_texts(sentences: list[SentenceRecord], pair_dev: set[str], pair_sentences: set[str],
                       seed: int) -> set[str]:
    """The dev sentences of the sentence-level files: the pair dev's, plus ``DEV_FRACTION`` of the sentences
    that no pair comes from (seeded; the pair split itself is untouched, so pair files stay as they were)."""
    others = list(dict.fromkeys(s.sentence for s in sentences if s.sentence not in pair_sentences))
    order = np.random.default_rng([seed, 1]).permutation(len(others))
    return pair_dev | {others[i] for i in order[: round(len(others) * DEV_FRACTION)]}


def count_sentences(sentences: list[SentenceRecord]) -> dict:
    """Sentence-file counts: sentences, those with aspects, aspects, conflict aspects."""
    return {"sentences": len(sentences), "with_aspects": sum(bool(s.aspects) for s in sentences),
            "aspects": sum(len(s.aspects) for s in sentences),
            "conflict_aspects": sum(a.polarity == "conflict" for s in sentences for a in s.aspects)}


def split_dev(examples: list[AspectExample], fraction: float, seed: int) -> tuple[list[AspectExample], list[AspectExample]]:
    """Choose ``fraction`` of the sentences (not of the examples) for dev, with the seed.

    Sentences are grouped by their text, so a sentence that occurs twice in the data (it happens in SemEval)
    still lands on one side only.
    """
    sentences = list(dict.fromkeys(example.sentence for example in examples))
    n_dev = round(len(sentences) * fraction)
    order = np.random.default_rng(seed).permutation(len(sentences))
    dev_sentences = {sentences[i] for i in order[:n_dev]}
    dev = [example for example in examples if example.sentence in dev_sentences]
    rest = [example for example in examples if example.sentence not in dev_sentences]
    return dev, rest


def upsample_examples(examples: list[AspectExample], ratios: list[float], rng: np.random.Generator) -> list[AspectExample]:
    """Add examples drawn with replacement until positive/negative/neutral have the given ratios.

    The total is the smallest that keeps every original example (no class shrinks); ``conflict`` examples,
    if kept, are left as they are. The result is shuffled with the same generator.
    """
    by_label = {label: [e for e in examples if e.polarity == label] for label in ATSC_LABELS}
    total = max(len(by_label[label]) / ratio for label, ratio in zip(ATSC_LABELS, ratios) if ratio > 0)
    result = [e for e in examples if e.polarity not in ATSC_LABELS]
    for label, ratio in zip(ATSC_LABELS, ratios):
        pool = by_label[label]
        target = max(len(pool), round(total * ratio))
        result.extend(pool)
        if target > len(pool) and pool:
            result.extend(pool[i] for i in rng.integers(0, len(pool), size=target - len(pool)))
    return [result[i] for i in rng.permutation(len(result))]


def count_polarities(examples: list[AspectExample]) -> dict:
    """``{"total": n, "positive": ..., "negative": ..., "neutral": ..., "conflict": ..., "sentences": ...}``."""
    counts = Counter(example.polarity for example in examples)
    stats = {"total": len(examples)}
    stats.update({label: counts.get(label, 0) for label in POLARITIES})
    stats["sentences"] = len({example.sentence for example in examples})
    return stats


def _check_ratios(ratios: list[float]) -> None:
    if any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise AdaError(f"--upsample ratios must be non-negative and sum to 1, got {' '.join(map(str, ratios))}")


def _read_stats(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AdaError(f"{path}: not valid JSON (remove it or pass a new --output_dir)") from None
    return stats if isinstance(stats, dict) else {}
