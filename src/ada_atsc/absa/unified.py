"""One model for the whole job: a unified tagger finds each aspect and its polarity in one encoder pass.

The pipeline runs an extractor over a sentence and then the classifier once per aspect found: with 1.4
aspects per sentence that is about 2.5 encoder passes, two thirds of the time in the classifier
(docs/inference.md). A unified tagger (Li et al. 2019, "Exploiting BERT for End-to-End Aspect-based
Sentiment Analysis") tags each word ``O``, ``B-<polarity>`` or ``I-<polarity>``
(:data:`~ada_atsc.core.labels.UNIFIED_TAGS`), so one pass gives both.

Decoding is *collapsed*: a word's boundary tag is the argmax of P(O), P(B) = Σ P(B-p), P(I) = Σ P(I-p), so a
span never breaks because its words lean to different polarities; the span's polarity then reads the mass of
each polarity summed over its words (``conflict`` helps find the span but is never an output). The model is a
plain ``AutoModelForTokenClassification`` directory, so ``export``, ONNX Runtime and the bulk path take it as
they take an extractor.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..ate.spans import span_word_groups
from ..core.labels import ATSC_LABELS, POLARITIES, UNIFIED_TAGS
from ..data.records import AspectSpan, SentenceRecord

BEGIN_COLUMNS = [1 + 2 * k for k in range(len(POLARITIES))]
INSIDE_COLUMNS = [2 + 2 * k for k in range(len(POLARITIES))]
OUTPUT_COLUMNS = {label: (1 + 2 * POLARITIES.index(label), 2 + 2 * POLARITIES.index(label)) for label in ATSC_LABELS}
"""For each output polarity, its (B, I) columns in :data:`UNIFIED_TAGS`."""


def unified_word_tags(words: Sequence[tuple[int, int]], record: SentenceRecord) -> list[int]:
    """The unified tag id of each word (character offsets) of ``record`` given its labelled aspects (training
    refuses an aspect without a polarity before encoding)."""
    tags = [0] * len(words)
    aspects: Sequence[AspectSpan] = record.aspects
    for aspect in aspects:
        k = POLARITIES.index(aspect.polarity)
        inside = [i for i, (a, b) in enumerate(words) if a < aspect.end and b > aspect.start]
        for n, i in enumerate(inside):
            tags[i] = 1 + 2 * k if n == 0 else 2 + 2 * k
    return tags


def boundary_tags(probs: np.ndarray) -> tuple[list[int], list[float]]:
    """Collapsed BIO tags of words with unified probabilities ``(words, len(UNIFIED_TAGS))``, and the
    probability of each."""
    if len(probs) == 0:
        return [], []
    collapsed = np.stack([probs[:, 0], probs[:, BEGIN_COLUMNS].sum(axis=1), probs[:, INSIDE_COLUMNS].sum(axis=1)],
                         axis=1)
    tags = collapsed.argmax(axis=1)
    return [int(t) for t in tags], [float(collapsed[i, t]) for i, t in enumerate(tags)]


def decode_unified(words: Sequence[tuple[int, int]], probs: np.ndarray) -> list[tuple[int, int, float, str, dict]]:
    """``(start, end, score, label, probabilities)`` of each aspect in one sentence: spans from the collapsed
    tags, the score the mean boundary probability of its words, the polarity from the summed mass."""
    tags, scores = boundary_tags(probs)
    found = []
    for group in span_word_groups(tags):
        mass = {label: float(probs[group][:, list(columns)].sum()) for label, columns in OUTPUT_COLUMNS.items()}
        total = sum(mass.values()) or 1.0
        probabilities = {label: round(m / total, 6) for label, m in mass.items()}
        label = max(probabilities, key=probabilities.get)
        found.append((words[group[0]][0], words[group[-1]][1], sum(scores[i] for i in group) / len(group), label,
                      probabilities))
    return found


def tag_texts(model, tokenizer, texts: Sequence[str], *, max_seq_length: int = 128, stride: int = 32,
              batch_size: int = 32) -> list[list[tuple[int, int, float, str, dict]]]:
    """The aspects of each text (one encoder pass per window), as :func:`decode_unified` gives them."""
    from ..ate.extractor import word_probabilities

    results = []
    for words in word_probabilities(model, tokenizer, texts, max_seq_length=max_seq_length, stride=stride,
                                    batch_size=batch_size):
        probs = np.stack([p for _, p in words]) if words else np.zeros((0, len(UNIFIED_TAGS)))
        results.append(decode_unified([span for span, _ in words], probs))
    return results


def aspect_record(sentence: str, offset: int, found: tuple) -> dict:
    """The pipeline's record of one aspect (``term``, ``from``, ``to``, ``label``, ``probabilities``,
    ``score``, and ``opinions`` where a triplet tagger found it: ``term``, ``from``, ``to`` of each); offsets
    are shifted by the sentence's ``offset`` in its text."""
    start, end, score, label, probabilities = found[:5]
    record = {"term": sentence[start:end], "from": offset + start, "to": offset + end, "label": label,
              "probabilities": probabilities, "score": round(score, 6)}
    if len(found) > 5:
        record["opinions"] = [{"term": sentence[a:b], "from": offset + a, "to": offset + b} for a, b, _ in found[5]]
    return record


def load_unified(model_dir: str | Path, device: str | None = None):
    """(model, tokenizer, device) of a unified tagger (PyTorch or ONNX); one clear line for another model."""
    from ..ate.extractor import load_token_tagger

    return load_token_tagger(str(model_dir), UNIFIED_TAGS, what="a unified tagger", device=device)


class UnifiedTagger:
    """A unified tagger loaded once: sentences in, aspects with their polarity out.

    >>> UnifiedTagger("unified_dir").tag(["Great pizza but the waiter was rude."])
    [[(6, 11, 0.99, 'positive', {...}), (20, 26, 0.98, 'negative', {...})]]
    """

    def __init__(self, model_dir: str | Path, *, device: str | None = None, batch_size: int = 32,
                 max_seq_length: int = 128, stride: int = 32):
        self.model, self.tokenizer, self.device = self.load(model_dir, device=device)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        self.max_seq_length = min(max_seq_length, limit) if limit else max_seq_length
        self.batch_size = batch_size
        self.stride = stride

    @staticmethod
    def load(model_dir: str | Path, device: str | None = None):
        """(model, tokenizer, device); a tagger with more tags (:class:`~.triplets.TripletTagger`) loads its own."""
        return load_unified(model_dir, device=device)

    def tag(self, sentences: Sequence[str]) -> list[list[tuple[int, int, float, str, dict]]]:
        return tag_texts(self.model, self.tokenizer, sentences, max_seq_length=self.max_seq_length,
                         stride=self.stride, batch_size=self.batch_size)

