"""What an aspect-category classifier knows: its categories, its polarities, and how a category is asked about.

A category classifier reads (sentence, category) pairs, the auxiliary-sentence construction of Sun et al.
(NAACL 2019, "NLI-M"): ``[CLS] the sentence [SEP] food [SEP]`` → ``none`` (the sentence does not speak of
food) or one of the polarities. One pass per category keeps every category's decision its own (a sentence
praising the food and damning the service gives two different inputs), and the label set stays the
data set's: SemEval-2014 restaurants annotate ``conflict``, MAMS does not.

The schema is saved in the model's ``config.json`` (:data:`CONFIG_KEY`), so prediction, evaluation and the
report need no flag to know which categories a model asks about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..core.errors import AdaError
from ..core.labels import CATEGORY_ABSENT, POLARITIES
from ..data.records import CategorySentence
from ..runtime.model_dir import PROJECT_CONFIG_PREFIX

CONFIG_KEY = PROJECT_CONFIG_PREFIX + "categories"
"""The ``config.json`` key holding a category classifier's :class:`CategorySchema`."""


@dataclass(frozen=True)
class CategorySchema:
    """The categories a model asks about and the polarities it tells apart (its classes: ``none`` + those)."""

    categories: tuple[str, ...]
    polarities: tuple[str, ...]
    mention_weight: int = 1
    """How many times each (sentence, category) pair that *is* mentioned was repeated in training, so that
    the polarities are learnt from as many pairs as ``none`` (:func:`mention_weight_for`). It inflates the
    model's odds of "mentioned" by this factor; :meth:`correct` takes it back out at prediction time."""
    detection_threshold: float | None = None
    """A category is found when its probability of being mentioned (1 − P(``none``), after :meth:`correct`)
    reaches this. Chosen on the dev set after training (:func:`.metrics.tune_detection_threshold`); ``None``
    (models trained before it existed): found when ``none`` is not the arg-max."""

    @property
    def labels(self) -> tuple[str, ...]:
        """The classifier's classes, in ``id2label`` order: :data:`CATEGORY_ABSENT` first."""
        return (CATEGORY_ABSENT, *self.polarities)

    def label_id(self, polarity: str | None) -> int:
        """Class id of a gold polarity (``None``: the category is not mentioned)."""
        return 0 if polarity is None else 1 + self.polarities.index(polarity)

    def decide(self, probs) -> np.ndarray:
        """Class ids ``(...)`` from class probabilities ``(..., labels)``: 0 (``none``) where the category is not
        found, else 1 + the arg-max among the polarities. The one place a category is declared found."""
        probs = np.asarray(probs)
        polarity = probs[..., 1:].argmax(axis=-1) + 1
        if self.detection_threshold is None:
            found = probs.argmax(axis=-1) != 0
        else:
            found = 1.0 - probs[..., 0] >= self.detection_threshold
        return np.where(found, polarity, 0)

    def to_config(self) -> dict:
        config = {"layout": "sentence_category_pair", "categories": list(self.categories),
                  "polarities": list(self.polarities), "mention_weight": self.mention_weight}
        if self.detection_threshold is not None:
            config["detection_threshold"] = self.detection_threshold
        return config

    @classmethod
    def from_config(cls, config, source: object = "model") -> CategorySchema:
        saved = getattr(config, CONFIG_KEY, None)
        if not saved:
            raise AdaError(f"{source}: not an aspect-category model (its config has no '{CONFIG_KEY}')")
        threshold = saved.get("detection_threshold")
        return cls(tuple(saved["categories"]), tuple(saved["polarities"]), int(saved.get("mention_weight", 1)),
                   None if threshold is None else float(threshold))

    def correct(self, probs):
        """Class probabilities ``(..., labels)`` with the training's mention weight taken out (the prior shift
        of a resampled class: the mentioned classes divided by the weight, then renormalised)."""
        if self.mention_weight == 1:
            return probs
        scaled = probs.copy()
        scaled[..., 1:] /= self.mention_weight
        return scaled / scaled.sum(axis=-1, keepdims=True)

    @classmethod
    def from_data(cls, sentences: Iterable[CategorySentence], source: object = "training data") -> CategorySchema:
        """Categories sorted by name (the model does not depend on file order); the polarities the data use,
        in the project's order."""
        categories, polarities = set(), set()
        for sentence in sentences:
            for opinion in sentence.categories:
                categories.add(opinion.category)
                if opinion.polarity is None:
                    raise AdaError(f"{source}: sentence {sentence.id}: category {opinion.category!r} has no polarity")
                polarities.add(opinion.polarity)
        if not categories:
            raise AdaError(f"{source}: no aspect categories to learn")
        return cls(tuple(sorted(categories)), tuple(p for p in POLARITIES if p in polarities))

    def check(self, sentences: Iterable[CategorySentence], source: object) -> None:
        """Every category and polarity of ``sentences`` must be known to this schema."""
        for sentence in sentences:
            for opinion in sentence.categories:
                if opinion.category not in self.categories:
                    raise AdaError(f"{source}: sentence {sentence.id}: category {opinion.category!r} is not one of "
                                   f"the model's ({', '.join(self.categories)})")
                if opinion.polarity is not None and opinion.polarity not in self.polarities:
                    raise AdaError(f"{source}: sentence {sentence.id}: polarity {opinion.polarity!r} is not one of "
                                   f"the model's ({', '.join(self.polarities)})")


MAX_MENTION_WEIGHT = 4


def mention_weight_for(sentences: Iterable[CategorySentence], categories: tuple[str, ...]) -> int:
    """The repeat of mentioned pairs that balances them with the ``none`` pairs (rounded, 1 to 4).

    Measured (docs/categories.md): with MiniLM and SemEval-2014 restaurants, where 76% of the pairs are
    ``none``, the unweighted classifier learnt detection and no polarity at all (every detected category got
    the training prior, 66% positive); the polarity alone, trained on the mentioned pairs, was learnt."""
    sentences = list(sentences)
    mentioned = sum(len(s.categories) for s in sentences)
    absent = len(sentences) * len(categories) - mentioned
    return max(1, min(MAX_MENTION_WEIGHT, round(absent / mentioned))) if mentioned else 1


def auxiliary_text(category: str) -> str:
    """The second segment that asks about ``category``: its name in words (``anecdotes/miscellaneous`` →
    ``anecdotes miscellaneous``, ``FOOD#QUALITY`` → ``food quality``)."""
    text = category.replace("#", " ").replace("/", " ").replace("_", " ").lower()
    return " ".join(text.split())
