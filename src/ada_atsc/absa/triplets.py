"""Why people feel that way: a triplet tagger finds each aspect, its polarity and its opinion words in one pass.

Aspect sentiment triplets (ASTE: aspect term, opinion term, polarity; Peng et al. 2020, Xu et al. 2020) are
here the unified tagger grown by opinion tags (:data:`~ada_atsc.core.labels.TRIPLET_TAGS`): a word is outside,
in an aspect of a polarity (as in :mod:`.unified`), or in an opinion span whose tag also says *which* aspects it
belongs to, counted from the opinion (:data:`~ada_atsc.core.labels.OPINION_LINKS`: the nearest aspect on its
left, on its right, the two nearest on one side, the nearest on each side). This is position-aware tagging in
the spirit of JET (Xu et al. 2020), which tags word offsets; counting *aspects* instead of words needs five
links to carry 95 to 98% of the ASTE-V2 training triplets through tagging and decoding. Pairing is then a walk along the sentence after the
one encoder pass: no second model, no pair scorer, and the model stays a plain
``AutoModelForTokenClassification`` that ``export``, ONNX Runtime and every ``--model`` take as they take a
unified tagger.

Decoding is collapsed as in :mod:`.unified`: a word's class is the argmax of P(O), P(aspect begins),
P(aspect continues), P(opinion begins), P(opinion continues), each summed over polarities or links; a span's
polarity or link is read from the mass summed over its words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..ate.spans import span_word_groups
from ..core.labels import OPINION_LINKS, TRIPLET_TAGS, UNIFIED_TAGS
from ..data.records import SentenceRecord
from .unified import BEGIN_COLUMNS, INSIDE_COLUMNS, OUTPUT_COLUMNS, UnifiedTagger, unified_word_tags

OPINION_BASE = len(UNIFIED_TAGS)
OPINION_BEGIN = [OPINION_BASE + 2 * k for k in range(len(OPINION_LINKS))]
OPINION_INSIDE = [OPINION_BASE + 2 * k + 1 for k in range(len(OPINION_LINKS))]
LINK_STEPS = {"left": (("left", 1),), "right": (("right", 1),), "two-left": (("left", 1), ("left", 2)),
              "two-right": (("right", 1), ("right", 2)), "left-right": (("left", 1), ("right", 1))}
"""Each link as the aspects it names: (side, how many aspects away on that side)."""

Span = tuple[int, int]


def linked_aspects(aspects: Sequence[Span], opinion: Span, link: str) -> list[Span]:
    """The aspects (sorted spans of one sentence) that ``link`` names from ``opinion``; fewer where the
    sentence has fewer aspects on that side."""
    left = sorted((a for a in aspects if a[1] <= opinion[0]), key=lambda a: -a[1])
    right = sorted(a for a in aspects if a[0] >= opinion[1])
    found = []
    for side, count in LINK_STEPS[link]:
        row = left if side == "left" else right
        if len(row) >= count:
            found.append(row[count - 1])
    return found


def best_link(aspects: Sequence[Span], opinion: Span, owners: set[Span]) -> str:
    """The link that names the most of ``owners`` (the aspects an opinion belongs to) and the fewest others;
    on a tie the simpler (earlier in :data:`OPINION_LINKS`)."""
    def fit(link: str) -> int:
        named = set(linked_aspects(aspects, opinion, link))
        return len(named & owners) - len(named - owners)

    return max(OPINION_LINKS, key=lambda link: (fit(link), -OPINION_LINKS.index(link)))


def opinion_links(record: SentenceRecord) -> dict[Span, str]:
    """Each opinion span of ``record`` with the link that best names its aspects."""
    aspects = sorted({(a.start, a.end) for a in record.aspects})
    owners: dict[Span, set[Span]] = {}
    for aspect in record.aspects:
        for opinion in aspect.opinions:
            owners.setdefault((opinion.start, opinion.end), set()).add((aspect.start, aspect.end))
    return {opinion: best_link(aspects, opinion, found) for opinion, found in owners.items()}


def triplet_word_tags(words: Sequence[tuple[int, int]], record: SentenceRecord) -> list[int]:
    """The triplet tag id of each word of ``record``: its aspects as a unified tagger tags them, then its
    opinion spans with their links on the words no aspect holds."""
    tags = unified_word_tags(words, record)
    for (start, end), link in opinion_links(record).items():
        k = OPINION_LINKS.index(link)
        inside = [i for i, (a, b) in enumerate(words) if a < end and b > start and tags[i] == 0]
        for n, i in enumerate(inside):
            tags[i] = OPINION_BEGIN[k] if n == 0 else OPINION_INSIDE[k]
    return tags


def word_classes(probs: np.ndarray) -> np.ndarray:
    """Each word's collapsed class probabilities: O, aspect B, aspect I, opinion B, opinion I."""
    return np.stack([probs[:, 0], probs[:, BEGIN_COLUMNS].sum(axis=1), probs[:, INSIDE_COLUMNS].sum(axis=1),
                     probs[:, OPINION_BEGIN].sum(axis=1), probs[:, OPINION_INSIDE].sum(axis=1)], axis=1)


def decode_triplets(words: Sequence[tuple[int, int]], probs: np.ndarray) -> list[tuple]:
    """``(start, end, score, label, probabilities, opinions)`` of each aspect of one sentence: the first five
    as :func:`~.unified.decode_unified` gives them, ``opinions`` the ``(start, end, score)`` of each opinion
    span linked to it, in text order."""
    if len(probs) == 0:
        return []
    collapsed = word_classes(probs)
    classes = collapsed.argmax(axis=1)
    scores = collapsed[np.arange(len(classes)), classes]
    aspect_tags = [1 if c == 1 else 2 if c == 2 else 0 for c in classes]
    opinion_tags = [1 if c == 3 else 2 if c == 4 else 0 for c in classes]
    aspects = []
    for group in span_word_groups(aspect_tags):
        mass = {label: float(probs[group][:, list(columns)].sum()) for label, columns in OUTPUT_COLUMNS.items()}
        total = sum(mass.values()) or 1.0
        probabilities = {label: round(m / total, 6) for label, m in mass.items()}
        aspects.append((words[group[0]][0], words[group[-1]][1], float(scores[group].mean()),
                        max(probabilities, key=probabilities.get), probabilities, []))
    spans = [(a[0], a[1]) for a in aspects]
    for group in span_word_groups(opinion_tags):
        opinion = (words[group[0]][0], words[group[-1]][1])
        links = probs[group][:, OPINION_BEGIN].sum(axis=0) + probs[group][:, OPINION_INSIDE].sum(axis=0)
        for target in linked_aspects(spans, opinion, OPINION_LINKS[int(links.argmax())]):
            aspects[spans.index(target)][5].append((*opinion, float(scores[group].mean())))
    return aspects


def tag_triplet_texts(model, tokenizer, texts: Sequence[str], *, max_seq_length: int = 128, stride: int = 32,
                      batch_size: int = 32) -> list[list[tuple]]:
    """The aspects (with their opinions) of each text, one encoder pass per window."""
    from ..ate.extractor import word_probabilities

    results = []
    for words in word_probabilities(model, tokenizer, texts, max_seq_length=max_seq_length, stride=stride,
                                    batch_size=batch_size):
        probs = np.stack([p for _, p in words]) if words else np.zeros((0, len(TRIPLET_TAGS)))
        results.append(decode_triplets([span for span, _ in words], probs))
    return results


def load_triplet_tagger(model_dir: str | Path, device: str | None = None):
    """(model, tokenizer, device) of a triplet tagger (PyTorch or ONNX); one clear line for another model."""
    from ..ate.extractor import load_token_tagger

    return load_token_tagger(str(model_dir), TRIPLET_TAGS, what="a triplet tagger", device=device)


class TripletTagger(UnifiedTagger):
    """A triplet tagger loaded once: sentences in, aspects with polarity and opinion spans out (the unified
    tagger's windows and batching; its own tags and decoding).

    >>> TripletTagger("triplets_dir").tag(["The room was tiny but the staff were friendly."])
    [[(4, 8, 0.98, 'negative', {...}, [(13, 17, 0.97)]), (26, 31, 0.99, 'positive', {...}, [(37, 45, 0.99)])]]
    """

    @staticmethod
    def load(model_dir: str | Path, device: str | None = None):
        return load_triplet_tagger(model_dir, device=device)

    def tag(self, sentences: Sequence[str]) -> list[list[tuple]]:
        return tag_triplet_texts(self.model, self.tokenizer, sentences, max_seq_length=self.max_seq_length,
                                 stride=self.stride, batch_size=self.batch_size)
