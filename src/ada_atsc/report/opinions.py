"""The words behind each aspect group's opinions: "room: small 1,204 −, spacious 860 +, clean 799 +".

With a triplet tagger (``train --task triplets``) every aspect comes with its opinion spans. A report counts
them per aspect group under a key that merges trivial variants, so that "Small", "very small", "so small"
and "too small" count as one word:

* case, Unicode form, surrounding punctuation and whitespace;
* leading intensifiers (:data:`INTENSIFIERS`: "very", "so", "too", "really", ...): they say how strongly,
  not what, and are kept apart from the word. Negations ("not clean", "never on time") are *not*
  intensifiers and stay: they reverse the word;
* a plural last word ("thin walls" → "thin wall") where LemmInflect's noun dictionary knows it as a plural;
  adjectives are left as they are ("delicious" is no plural).

:class:`OpinionTally` keeps, per key, the count per polarity and the first few example sentences, so memory
grows with the distinct opinion words of a group, not with its mentions.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter

INTENSIFIERS = frozenset(
    "very so too really extremely quite pretty super incredibly absolutely totally rather fairly truly highly "
    "amazingly exceptionally remarkably especially particularly overly somewhat bit a most more".split())
"""Leading words dropped from an opinion's key (with "a bit": both "a" and "bit" are in the set)."""

TOP_OPINIONS = 12
"""Opinion words listed per group in ``summary.json`` and on the page (the most frequent)."""

EXAMPLES_PER_OPINION = 3
"""Example sentences kept per (group, opinion word)."""

_PUNCTUATION = "\"'“”‘’`.,;:!?()[]{}<>*-–—…"


@functools.lru_cache(maxsize=1 << 16)
def _plural_noun_lemma(word: str) -> str:
    """``word``'s singular if LemmInflect's dictionary knows ``word`` as a plural noun, else ``word``."""
    if not word.isalpha() or len(word) <= 3 or not word.endswith("s"):
        return word
    from lemminflect import getAllLemmas, getInflection

    for lemma in getAllLemmas(word, upos="NOUN").get("NOUN", ()):
        if lemma != word and word in getInflection(lemma, tag="NNS"):
            return lemma
    return word


@functools.lru_cache(maxsize=1 << 18)
def normalise_opinion(term: str) -> str:
    """The key under which spellings of one opinion word count together ("" if nothing is left)."""
    text = unicodedata.normalize("NFKC", term).lower()
    words = [w.strip(_PUNCTUATION) for w in text.split()]
    words = [w for w in words if w]
    while len(words) > 1 and words[0] in INTENSIFIERS:
        words.pop(0)
    if len(words) == 1 and words[0] in INTENSIFIERS - {"a", "bit", "most", "more"}:
        return words[0]  # "too" alone is what was said
    if words:
        words[-1] = _plural_noun_lemma(words[-1])
    return " ".join(words)


class OpinionTally:
    """Opinion words of one group: count per polarity and a few examples per word."""

    def __init__(self, examples: int = EXAMPLES_PER_OPINION):
        self.examples = examples
        self.counts: dict[str, Counter] = {}
        self.kept: dict[str, list[dict]] = {}

    def add(self, mention: dict) -> None:
        """Count the opinions of one term mention (``opinions`` with offsets into its sentence)."""
        for opinion in mention.get("opinions") or ():
            key = normalise_opinion(str(opinion.get("term", "")))
            if not key:
                continue
            self.counts.setdefault(key, Counter())[mention["label"]] += 1
            kept = self.kept.setdefault(key, [])
            if len(kept) < self.examples:
                kept.append({"review_id": mention.get("review_id"), "sentence_index": mention.get("sentence_index"),
                             "sentence": mention.get("sentence"), "from": opinion.get("from"),
                             "to": opinion.get("to"), "term": opinion.get("term"),
                             "aspect_from": mention.get("from"), "aspect_to": mention.get("to"),
                             "label": mention["label"]})

    def result(self, labels: tuple[str, ...], top: int = TOP_OPINIONS) -> list[dict]:
        """The ``top`` most frequent opinion words (ties: the word), each with its counts, the polarity it
        carries most often, and its examples."""
        ranked = sorted(self.counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
        return [{"term": key, "count": sum(counts.values()),
                 "counts": {label: counts.get(label, 0) for label in labels},
                 "label": max(labels, key=lambda label: (counts.get(label, 0), -labels.index(label))),
                 "examples": self.kept[key]} for key, counts in ranked]
