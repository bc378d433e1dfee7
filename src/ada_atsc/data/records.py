"""The project's record: one (sentence, aspect) pair with its polarity.

On disk it is JSONL, one object per line with the keys ``id``, ``sentence``, ``aspect``, ``from``, ``to``
and ``polarity``; ``sentence[from:to] == aspect``. ``polarity`` is one of :data:`POLARITIES`, or ``null`` for
unlabeled text to be classified.
"""

from __future__ import annotations

from dataclasses import dataclass

POLARITIES = ("positive", "negative", "neutral", "conflict")
"""Every polarity the SemEval data uses; ATSC trains on the first three (``--noconfl`` drops conflict)."""

ATSC_LABELS = ("positive", "negative", "neutral")
"""The three classes of the classifier, in the order of its ``id2label``."""


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
