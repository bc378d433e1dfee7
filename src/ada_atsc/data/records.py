"""The project's record: one (sentence, aspect) pair with its polarity.

On disk it is JSONL, one object per line with the keys ``id``, ``sentence``, ``aspect``, ``from``, ``to``
and ``polarity``; ``sentence[from:to] == aspect``. ``polarity`` is one of :data:`POLARITIES`, or ``null`` for
unlabeled text to be classified.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.labels import ATSC_LABELS, POLARITIES  # noqa: F401  (the label sets live in core.labels)


@dataclass(frozen=True)
class AspectExample:
    """One aspect term in one sentence. ``start``/``end`` are character offsets (``end`` exclusive)."""

    id: str
    sentence: str
    aspect: str
    start: int
    end: int
    polarity: str | None

    def to_record(self) -> dict:
        """The JSONL form (keys ``from``/``to`` as in the SemEval XML)."""
        return {
            "id": self.id,
            "sentence": self.sentence,
            "aspect": self.aspect,
            "from": self.start,
            "to": self.end,
            "polarity": self.polarity,
        }

    @property
    def sentence_id(self) -> str:
        """The id of the sentence this aspect belongs to (record ids are ``<sentence id>#<n>``; SemEval ids
        may themselves contain ``#``, so only the last part is cut)."""
        return self.id.rsplit("#", 1)[0]


@dataclass(frozen=True)
class OpinionSpan:
    """An opinion term of a sentence that says why an aspect has its polarity ("the room was **tiny**"):
    its text and character span (``end`` exclusive)."""

    term: str
    start: int
    end: int

    def to_record(self) -> dict:
        return {"term": self.term, "from": self.start, "to": self.end}


@dataclass(frozen=True)
class AspectSpan:
    """One aspect term of a sentence: its text, character span (``end`` exclusive), polarity, and the opinion
    terms behind it where the data has them (aspect sentiment triplets, ASTE)."""

    term: str
    start: int
    end: int
    polarity: str | None
    opinions: tuple[OpinionSpan, ...] = ()

    def to_record(self) -> dict:
        record = {"term": self.term, "from": self.start, "to": self.end, "polarity": self.polarity}
        if self.opinions:
            record["opinions"] = [o.to_record() for o in self.opinions]
        return record


@dataclass(frozen=True)
class SentenceRecord:
    """One sentence with every aspect term the source gives it (possibly none): the unit of extraction.

    On disk (``<split>.sentences.jsonl``): ``{"id", "sentence", "aspects": [{"term", "from", "to",
    "polarity"}]}``. The pairs of ATSC are derived from it (:meth:`pairs`), ids ``<sentence id>#<k>``.
    """

    id: str
    sentence: str
    aspects: tuple[AspectSpan, ...] = ()

    def to_record(self) -> dict:
        return {"id": self.id, "sentence": self.sentence, "aspects": [a.to_record() for a in self.aspects]}

    def pairs(self) -> list[AspectExample]:
        """One :class:`AspectExample` per aspect, in source order."""
        return [AspectExample(f"{self.id}#{k}", self.sentence, a.term, a.start, a.end, a.polarity)
                for k, a in enumerate(self.aspects)]


def resolve_span_overlaps(aspects: tuple[AspectSpan, ...] | list[AspectSpan]) -> tuple[tuple[AspectSpan, ...], int, int]:
    """The rule for extraction data, where a token carries one tag: (kept aspects in text order, duplicates
    merged, overlaps dropped).

    * The same span listed twice is one aspect (with the opinions of both); if the listings disagree on
      polarity it becomes ``conflict``.
    * Of spans that overlap without being equal ("wine" inside "wine list"), the longest is kept (on a tie,
      the one that starts first) and the others are dropped.
    """
    merged: dict[tuple[int, int], AspectSpan] = {}
    duplicates = 0
    for aspect in aspects:
        key = (aspect.start, aspect.end)
        if key in merged:
            duplicates += 1
            first = merged[key]
            polarity = first.polarity if first.polarity == aspect.polarity else "conflict"
            opinions = first.opinions + tuple(o for o in aspect.opinions if o not in first.opinions)
            merged[key] = AspectSpan(first.term, first.start, first.end, polarity, opinions)
        else:
            merged[key] = aspect
    kept: list[AspectSpan] = []
    for aspect in sorted(merged.values(), key=lambda a: (-(a.end - a.start), a.start)):
        if all(aspect.end <= other.start or aspect.start >= other.end for other in kept):
            kept.append(aspect)
    kept.sort(key=lambda a: a.start)
    return tuple(kept), duplicates, len(merged) - len(kept)


@dataclass(frozen=True)
class CategoryOpinion:
    """One aspect category a sentence speaks about (``food``, ``service``, ``price`` ...) and its polarity."""

    category: str
    polarity: str | None

    def to_record(self) -> dict:
        return {"category": self.category, "polarity": self.polarity}


@dataclass(frozen=True)
class CategorySentence:
    """One sentence with the aspect categories it mentions: the unit of aspect-category sentiment (ACSA).

    Categories cover implicit opinions that name no term ("It was way overpriced." -> price negative). On
    disk (``<split>.categories.jsonl``): ``{"id", "sentence", "categories": [{"category", "polarity"}]}``.
    """

    id: str
    sentence: str
    categories: tuple[CategoryOpinion, ...] = ()

    def to_record(self) -> dict:
        return {"id": self.id, "sentence": self.sentence, "categories": [c.to_record() for c in self.categories]}

    def polarity_of(self, category: str) -> str | None:
        """The polarity given to ``category``, or None when the sentence does not mention it."""
        return next((c.polarity for c in self.categories if c.category == category), None)
