"""The batch a person labels: sentences the tool chose, each with the model's guesses, one JSON object a line.

A batch record (``label select`` writes it, ``label serve`` and ``label export`` read it)::

    {"id": "s-3f9a1c2b7d4e", "text": "The room was tiny but spotless.",
     "predictions": [{"term": "room", "from": 4, "to": 8, "label": "negative", "score": 0.91,
                      "probabilities": {"positive": 0.05, "negative": 0.88, "neutral": 0.07}}],
     "uncertainty": 0.42, "origin": {"review": "r17", "sentence_index": 0}}

``id`` is :func:`sentence_id` of the text, so the same sentence has the same id in every batch and in the
labels file, which is how a sentence already labelled or already in a batch is recognised. ``predictions`` are
the model's guesses (``text[from:to] == term``), ``uncertainty`` why it was chosen (higher: the model is less
sure), ``origin`` where it came from in the user's reviews.

The answers (``label serve``, ``label import``) are the project's sentence records
(:class:`~ada_atsc.data.records.SentenceRecord`: ``id``, ``sentence``, ``aspects`` with ``term``, ``from``,
``to``, ``polarity``), which every training command reads; a sentence answered with no aspect has an empty
``aspects`` list, which is a label too ("nothing here is an aspect").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import AdaError
from ..core.labels import ATSC_LABELS, POLARITIES
from ..data.records import AspectSpan, SentenceRecord


def sentence_id(text: str) -> str:
    """A stable id of a sentence: the same text (whitespace collapsed) gives the same id everywhere."""
    key = " ".join(text.split())
    return "s-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Guess:
    """One aspect the model found: its span, polarity and how sure it is."""

    term: str
    start: int
    end: int
    label: str
    score: float
    probabilities: dict = field(default_factory=dict)

    def to_record(self) -> dict:
        return {"term": self.term, "from": self.start, "to": self.end, "label": self.label,
                "score": round(float(self.score), 6),
                "probabilities": {k: round(float(v), 6) for k, v in self.probabilities.items()}}


@dataclass(frozen=True)
class BatchItem:
    """One sentence to label, with the model's guesses."""

    id: str
    text: str
    predictions: tuple[Guess, ...] = ()
    uncertainty: float = 0.0
    origin: dict = field(default_factory=dict)

    def to_record(self) -> dict:
        return {"id": self.id, "text": self.text, "predictions": [g.to_record() for g in self.predictions],
                "uncertainty": round(float(self.uncertainty), 6), "origin": self.origin}

    def guessed_labels(self) -> SentenceRecord:
        """The model's guesses as a sentence record (what accepting them unchanged answers)."""
        return SentenceRecord(self.id, self.text, tuple(AspectSpan(g.term, g.start, g.end, g.label)
                                                        for g in self.predictions))


def _span(record: dict, text: str, where: str) -> tuple[str, int, int]:
    term, start, end = record.get("term"), record.get("from"), record.get("to")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise AdaError(f"{where}: 'from' and 'to' must be integers")
    if not 0 <= start < end <= len(text):
        raise AdaError(f"{where}: span {start}:{end} is outside the text ({len(text)} characters)")
    if term is None:
        term = text[start:end]
    if text[start:end] != term:
        raise AdaError(f"{where}: span {start}:{end} is {text[start:end]!r} in the text, not {term!r}")
    return term, start, end


def _labelled_spans(record: dict, key: str, text: str, where: str, what: str, field_name: str,
                    allowed: tuple[str, ...]) -> list[tuple[str, int, int, str, dict]]:
    """(term, start, end, label, the span's object) of each object in ``record[key]``: offsets checked against
    ``text``, ``field_name`` one of ``allowed``; one clear line naming the span for anything wrong."""
    spans = []
    for k, span in enumerate(record.get(key) or []):
        spot = f"{where}, {what} {k + 1}"
        if not isinstance(span, dict):
            raise AdaError(f"{spot}: expected a JSON object")
        term, start, end = _span(span, text, spot)
        label = span.get(field_name)
        if label not in allowed:
            raise AdaError(f"{spot}: {field_name} {label!r} is not one of {', '.join(allowed)}")
        spans.append((term, start, end, label, span))
    return spans


def _text_of(record: object, key: str, where: str) -> str:
    if not isinstance(record, dict):
        raise AdaError(f"{where}: expected a JSON object")
    text = record.get(key)
    if not isinstance(text, str) or not text.strip():
        raise AdaError(f"{where}: '{key}' must be a non-empty string")
    return text


def item_from_record(record: object, where: str) -> BatchItem:
    """A batch item from its JSON object; one clear line naming ``where`` for anything wrong."""
    text = _text_of(record, "text", where)
    guesses = [Guess(term, start, end, label, float(g.get("score", 0.0)), dict(g.get("probabilities") or {}))
               for term, start, end, label, g in _labelled_spans(record, "predictions", text, where, "prediction",
                                                                 "label", ATSC_LABELS)]
    return BatchItem(str(record.get("id") or sentence_id(text)), text, tuple(guesses),
                     float(record.get("uncertainty", 0.0)), dict(record.get("origin") or {}))


def read_batch(path: str | Path) -> list[BatchItem]:
    """Every item of a batch file; one clear line (file and line) for a malformed record, and ids unique."""
    path = Path(path)
    if not path.is_file():
        raise AdaError(f"{path}: batch file not found")
    items, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise AdaError(f"{where}: not valid JSON ({exc.msg})") from None
        item = item_from_record(record, where)
        if item.id in seen:
            raise AdaError(f"{where}: id {item.id!r} appears twice in the batch")
        seen.add(item.id)
        items.append(item)
    return items


def labelled_from_record(record: object, where: str) -> SentenceRecord:
    """A labelled sentence (the project's sentence record) from its JSON object, offsets checked."""
    text = _text_of(record, "sentence", where)
    aspects = [AspectSpan(term, start, end, polarity)
               for term, start, end, polarity, _ in _labelled_spans(record, "aspects", text, where, "aspect",
                                                                    "polarity", POLARITIES)]
    return SentenceRecord(str(record.get("id") or sentence_id(text)), text, tuple(aspects))


def iter_labelled(path: str | Path) -> Iterator[SentenceRecord]:
    """The labelled sentences of a labels file (``label serve``'s output or ``label import``'s), in order; the
    last answer for a sentence id wins (an answer corrected later replaces the earlier one)."""
    path = Path(path)
    if not path.is_file():
        return
    latest: dict[str, SentenceRecord] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break  # a last line cut short by a kill: the answer was not complete
            raise AdaError(f"{path}, line {number}: not valid JSON") from None
        if isinstance(record, dict) and record.get("answer") == "skip":  # passed over: no label (any more)
            latest.pop(str(record.get("id")), None)
            continue
        sentence = labelled_from_record(record, f"{path}, line {number}")
        latest.pop(sentence.id, None)
        latest[sentence.id] = sentence
    yield from latest.values()
