"""Self-training data: the target sentences labelled by the source-trained models, the confident ones kept.

Confidence thresholds are chosen on the **source** dev set, never on target labels:

* extraction (:func:`extraction_threshold`): a sentence's confidence is the lowest score of its predicted
  spans; the threshold is the lowest at which at least ``want`` of the dev sentences kept have exactly their
  gold spans (a kept pseudo-labelled sentence also teaches that its other words are no aspect, so the whole
  sentence must be right). Sentences where nothing is found are kept only if such dev sentences are right as
  often, and no more often than aspect-free sentences occur in the source.
* polarity (:func:`polarity_threshold`): the lowest top-class probability at which at least ``want`` of the
  dev pairs kept are labelled right.

Balance (:func:`balance`): frequent, easy aspects ("room", "staff") would otherwise fill the pseudo-labelled
data; at most ``max_per_term`` pairs are kept per (term, label), the most confident first, and a sentence joins
the extraction data only while one of its terms is still under twice that count.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data.records import AspectExample, AspectSpan, SentenceRecord

MIN_KEPT_FRACTION = 0.05
"""A threshold must keep at least this share of the dev items (else its precision is noise)."""


@dataclass(frozen=True)
class Threshold:
    """A chosen threshold with what it gives on the source dev set."""

    value: float
    precision: float
    kept_fraction: float
    target_met: bool

    def to_json(self) -> dict:
        return {"threshold": round(self.value, 6), "dev_precision": round(self.precision, 4),
                "dev_kept_fraction": round(self.kept_fraction, 4), "target_met": self.target_met}


def choose_threshold(confidence: Sequence[float], correct: Sequence[bool], want: float) -> Threshold:
    """The lowest confidence threshold whose kept items are right at least ``want`` of the time (keeping at
    least :data:`MIN_KEPT_FRACTION`); if none is, the most precise one."""
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct, dtype=bool)
    if len(conf) == 0:
        return Threshold(1.0, 0.0, 0.0, False)
    order = np.argsort(-conf, kind="stable")
    hits = np.cumsum(right[order])
    kept = np.arange(1, len(conf) + 1)
    precision = hits / kept
    enough = kept >= max(1, int(np.ceil(MIN_KEPT_FRACTION * len(conf))))
    # a threshold keeps every item at or above it: only positions where the next confidence is lower count
    boundary = np.append(conf[order][1:] < conf[order][:-1], True)
    usable = enough & boundary
    met = usable & (precision >= want)
    if met.any():
        at = int(np.nonzero(met)[0].max())  # the most items kept (the lowest threshold) that meets it
        return Threshold(float(conf[order][at]), float(precision[at]), float(kept[at] / len(conf)), True)
    candidates = np.nonzero(usable)[0]
    at = int(candidates[np.argmax(precision[candidates])])
    return Threshold(float(conf[order][at]), float(precision[at]), float(kept[at] / len(conf)), False)


def extraction_threshold(predicted: Sequence[list[dict]], gold: Sequence[SentenceRecord], want: float
                         ) -> tuple[Threshold, float]:
    """(threshold on a sentence's lowest span score, how often dev sentences with no predicted span are right)."""
    confidence, correct, empty_right = [], [], []
    for spans, sentence in zip(predicted, gold):
        right = {(s["from"], s["to"]) for s in spans} == {(a.start, a.end) for a in sentence.aspects}
        if spans:
            confidence.append(min(s["score"] for s in spans))
            correct.append(right)
        else:
            empty_right.append(right)
    return choose_threshold(confidence, correct, want), (float(np.mean(empty_right)) if empty_right else 0.0)


def polarity_threshold(probabilities: np.ndarray, gold_labels: Sequence[str], labels: Sequence[str], want: float
                       ) -> Threshold:
    """Threshold on the top-class probability of the dev pairs."""
    probabilities = np.asarray(probabilities)
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    return choose_threshold(probabilities.max(axis=1), [p == g for p, g in zip(predicted, gold_labels)], want)


@dataclass
class PseudoLabels:
    """What self-training adds: extraction sentences and ATSC pairs, with the counts behind them."""

    sentences: list[SentenceRecord] = field(default_factory=list)
    pairs: list[AspectExample] = field(default_factory=list)
    counts: dict = field(default_factory=dict)


def term_key(term: str) -> str:
    return " ".join(term.lower().split())


def balance(candidates: list[tuple[float, AspectExample]], max_per_term: int) -> list[AspectExample]:
    """At most ``max_per_term`` pairs per (term, label), the most confident first; input order kept."""
    ranked = sorted(range(len(candidates)), key=lambda i: (-candidates[i][0], i))
    taken: Counter = Counter()
    keep = set()
    for i in ranked:
        pair = candidates[i][1]
        key = (term_key(pair.aspect), pair.polarity)
        if taken[key] < max_per_term:
            taken[key] += 1
            keep.add(i)
    return [candidates[i][1] for i in sorted(keep)]


def pseudo_label(texts: Sequence[str], spans: Sequence[list[dict]], probabilities: Sequence[np.ndarray],
                 labels: Sequence[str], extraction: Threshold, polarity: Threshold, *, keep_empty: bool,
                 empty_share: float, max_per_term: int, seed: int, round_name: str = "r1") -> PseudoLabels:
    """The pseudo-labelled data of one round from the source models' outputs on the target ``texts``
    (``spans[i]``: the extractor's spans of text i; ``probabilities[i]``: the classifier's rows for them)."""
    sentences: list[tuple[float, SentenceRecord]] = []
    empty: list[SentenceRecord] = []
    candidates: list[tuple[float, AspectExample]] = []
    for index, (text, found, probs) in enumerate(zip(texts, spans, probabilities)):
        ident = f"target-{round_name}-{index}"
        aspects = []
        for k, (span, row) in enumerate(zip(found, probs)):
            label = labels[int(np.argmax(row))]
            confident = float(np.max(row)) >= polarity.value
            aspects.append(AspectSpan(span["term"], span["from"], span["to"], label if confident else None))
            if span["score"] >= extraction.value and confident:
                candidates.append((float(np.max(row)), AspectExample(f"{ident}#{k}", text, span["term"], span["from"],
                                                                     span["to"], label)))
        if not found:
            empty.append(SentenceRecord(ident, text, ()))
        elif min(s["score"] for s in found) >= extraction.value:
            sentences.append((min(s["score"] for s in found), SentenceRecord(ident, text, tuple(aspects))))
    kept_sentences = _balance_sentences(sentences, max_per_term)
    kept_empty = []
    if keep_empty and empty:
        room = int(round(empty_share / max(1e-9, 1 - empty_share) * len(kept_sentences)))
        kept_empty = random.Random(seed).sample(empty, min(room, len(empty)))
    pairs = balance(candidates, max_per_term)
    counts = {"target_sentences": len(texts), "with_spans": len(texts) - len(empty),
              "extraction_sentences_confident": len(sentences), "extraction_sentences_kept": len(kept_sentences),
              "empty_sentences_kept": len(kept_empty), "pairs_confident": len(candidates), "pairs_kept": len(pairs),
              "pairs_kept_by_label": dict(sorted(Counter(p.polarity for p in pairs).items())),
              "distinct_terms_kept": len({term_key(p.aspect) for p in pairs})}
    ordered = sorted(kept_sentences + kept_empty, key=lambda s: int(s.id.rsplit("-", 1)[1]))
    return PseudoLabels(ordered, pairs, counts)


def _balance_sentences(scored: list[tuple[float, SentenceRecord]], max_per_term: int) -> list[SentenceRecord]:
    """Confident sentences, the most confident first, while one of their terms is under ``2 x max_per_term``."""
    taken: Counter = Counter()
    kept = []
    for _, sentence in sorted(scored, key=lambda item: -item[0]):
        terms = {term_key(a.term) for a in sentence.aspects}
        if any(taken[t] < 2 * max_per_term for t in terms):
            taken.update(terms)
            kept.append(sentence)
    return kept
