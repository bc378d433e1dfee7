"""From analysed reviews to *mentions*, the unit every number of a report counts.

An analysed review (a record of the analysis pass: ``text``, ``aspects`` with offsets into the text,
``categories`` per sentence, the input's other ``fields``) gives:

* one **term mention** per aspect term found, placed in its sentence (``sentence_index``, offsets into the
  sentence), with its opinion words where a triplet tagger found them (``opinions``, offsets into the
  sentence too), its group and the group's category filled in later (:func:`term_mentions`);
* with a category model, one **category mention** per (sentence, category) it detects
  (:func:`category_mentions`): the sentence-level opinion, explicit or implicit ("It was way overpriced." →
  price negative). Category mentions carry no term; the category table counts these alone, so an opinion is
  never counted twice in it.

Sentences are re-split with the same splitter the pipeline used, so the analysis output does not have to
carry them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ..core.sentences import sentence_offsets

POLARITY_LABELS = ("positive", "negative", "neutral", "conflict")


@dataclass(frozen=True)
class AnalysedReview:
    """One review of the analysis output, with what the report needs of its input record."""

    review_id: str
    text: str
    aspects: list
    categories: list
    date: str | None
    entities: dict

    @cached_property
    def sentence_spans(self) -> list[tuple[int, int]]:
        """The review's sentences (split once, for its term and its category mentions)."""
        return sentence_offsets(self.text)


def review_of(record: dict, *, date_field: str, entity_field: str | None) -> AnalysedReview | None:
    """The review of an analysis record (None for an error record: it is counted, not reported)."""
    if "error" in record:
        return None
    fields = record.get("fields") or {}
    date = fields.get(date_field)
    entities = {}
    if entity_field:
        value = fields.get(entity_field)
        entities[entity_field] = None if value in (None, "") else str(value)
    review_id = str(record["id"]) if record.get("id") is not None else f"line {record['line']}"
    return AnalysedReview(review_id, record["text"], record.get("aspects") or [], record.get("categories") or [],
                          str(date)[:10] if date not in (None, "") else None, entities)


def _sentence_index(spans: list[tuple[int, int]], start: int) -> int:
    return next((k for k, (a, b) in enumerate(spans) if a <= start < b), max(len(spans) - 1, 0))


def term_mentions(review: AnalysedReview) -> Iterator[dict]:
    """One mention per aspect term of ``review``, offsets into its sentence; ``group``/``category`` unset."""
    spans = review.sentence_spans
    for aspect in review.aspects:
        k = _sentence_index(spans, aspect["from"])
        offset, stop = spans[k] if spans else (0, len(review.text))
        opinions = [{"term": o["term"], "from": o["from"] - offset, "to": o["to"] - offset}
                    for o in aspect.get("opinions") or ()]
        yield {"review_id": review.review_id, "sentence_index": k, "sentence": review.text[offset:stop],
               "from": aspect["from"] - offset, "to": aspect["to"] - offset, "term": aspect["term"],
               "group": None, "category": None, "label": aspect["label"],
               "probabilities": aspect["probabilities"], "date": review.date, "entities": review.entities,
               "opinions": opinions}


def category_mentions(review: AnalysedReview) -> Iterator[dict]:
    """One mention per category a category model detected in a sentence of ``review`` (no term)."""
    spans = review.sentence_spans
    for found in review.categories:
        k = _sentence_index(spans, found["from"])
        probabilities = {label: p for label, p in found["probabilities"].items() if label in POLARITY_LABELS}
        yield {"review_id": review.review_id, "sentence_index": k, "sentence": review.text[found["from"]:found["to"]],
               "from": None, "to": None, "term": None, "group": None, "category": found["category"],
               "label": found["label"], "probabilities": probabilities, "date": review.date,
               "entities": review.entities}
