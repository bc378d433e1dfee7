"""The labelled source data of an ``adapt`` run: every labelled file read at the sentence level, a seeded 10%
of the sentences held out as the source dev set (it selects checkpoints and every self-training threshold;
the target's labels are never used), written as the sentence files of extraction and the pair files of
aspect sentiment."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import write_jsonl
from ..core.labels import ATSC_LABELS
from ..data.readers import read_sentences
from ..data.records import AspectExample, SentenceRecord, resolve_span_overlaps
from ..training.splits import sentence_key

DEV_FRACTION = 0.1


def read_labeled(files: list[Path]) -> list[SentenceRecord]:
    """Every sentence of ``files``, spans made tag-able, ids prefixed by the file (they repeat across files);
    a sentence that two files share is kept once."""
    sentences, seen = [], set()
    for path in files:
        for record in read_sentences(path):
            key = sentence_key(record.sentence)
            if key in seen:
                continue
            seen.add(key)
            aspects = resolve_span_overlaps(record.aspects)[0]
            sentences.append(SentenceRecord(f"{path.stem}:{record.id}", record.sentence, aspects))
    if not sentences:
        raise AdaError(f"{', '.join(map(str, files))}: no labelled sentences")
    return sentences


def split_source(sentences: list[SentenceRecord], seed: int) -> tuple[list[SentenceRecord], list[SentenceRecord]]:
    """(train, dev): a seeded :data:`DEV_FRACTION` of the sentences for dev."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(len(order) * DEV_FRACTION))
    dev = set(order[:cut])
    return ([s for i, s in enumerate(sentences) if i not in dev], [s for i, s in enumerate(sentences) if i in dev])


def polar_pairs(sentences: list[SentenceRecord]) -> list[AspectExample]:
    """The ATSC pairs of ``sentences``: aspects labelled with one of :data:`ATSC_LABELS` (conflict dropped)."""
    return [pair for sentence in sentences for pair in sentence.pairs() if pair.polarity in ATSC_LABELS]


def write_source(folder: Path, train: list[SentenceRecord], dev: list[SentenceRecord]) -> dict:
    """Write ``{train,dev}.sentences.jsonl`` and ``{train,dev}.jsonl`` into ``folder``; returns the counts."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, sentences in (("train", train), ("dev", dev)):
        write_jsonl(folder / f"{name}.sentences.jsonl", (s.to_record() for s in sentences))
        pairs = polar_pairs(sentences)
        write_jsonl(folder / f"{name}.jsonl", (p.to_record() for p in pairs))
        counts[name] = {"sentences": len(sentences), "aspects": sum(len(s.aspects) for s in sentences),
                        "pairs": dict(sorted(Counter(p.polarity for p in pairs).items()))}
    return counts
