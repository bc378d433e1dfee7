"""BIO tags over words, and exact-span scores.

A word is a unit of the fast tokenizer's pre-tokenizer (for BERT: runs of letters or digits, and each
punctuation mark), with its character offsets. The words inside an aspect span are tagged ``B-ASP`` (the
first) and ``I-ASP`` (the rest); every other word is ``O``. Decoding takes a ``B`` (or an ``I`` that follows
no aspect, as is usual) as the start of a span and every following ``I`` as its continuation; the span runs
from the first word's start to the last word's end, in the text's own characters.

Scores are exact-match: a predicted span counts only if its offsets equal a gold span's (micro precision,
recall and F1 over all spans, the measure of the SemEval-2014 ATE task and of Li et al. 2019).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.labels import EXTRACTION_TAGS as TAGS  # noqa: F401  (the extractor's labels; one home: core.labels)

O, B, I = 0, 1, 2  # noqa: E741  (the tag names of the literature)
IGNORE_LABEL = -100
"""The label of positions that are not scored (special tokens, a word's later sub-words)."""


def word_tags(words: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[int]:
    """The tag id of each word (character offsets) given the aspect spans of its sentence."""
    tags = [O] * len(words)
    for start, end in spans:
        inside = [i for i, (a, b) in enumerate(words) if a < end and b > start]
        for k, i in enumerate(inside):
            tags[i] = B if k == 0 else I
    return tags


def span_word_groups(tags: Sequence[int]) -> list[list[int]]:
    """The word indices of each tagged span: a ``B`` (or an ``I`` that follows no span) opens one, every
    following ``I`` continues it."""
    groups: list[list[int]] = []
    current: list[int] | None = None
    for i, tag in enumerate(tags):
        if tag == B or (tag == I and current is None):
            current = [i]
            groups.append(current)
        elif tag == I:
            current.append(i)
        else:
            current = None
    return groups


def decode_spans(words: Sequence[tuple[int, int]], tags: Sequence[int],
                 scores: Sequence[float] | None = None) -> list[tuple[int, int, float]]:
    """``(start, end, score)`` of each tagged span; its score is the mean tag probability of its words."""
    return [(words[group[0]][0], words[group[-1]][1],
             sum(scores[i] for i in group) / len(group) if scores is not None else 1.0)
            for group in span_word_groups(tags)]


def span_scores(gold: Sequence[set], pred: Sequence[set]) -> dict:
    """Micro precision, recall and F1 of exact spans; ``gold``/``pred`` hold one set of spans per sentence."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    tp = sum(len(g & p) for g, p in zip(gold, pred))
    n_gold = sum(len(g) for g in gold)
    n_pred = sum(len(p) for p in pred)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp, "gold_spans": n_gold,
            "predicted_spans": n_pred, "sentences": len(gold)}
