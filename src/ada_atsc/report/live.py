"""A report that grows as reviews arrive: what the server's "many reviews" page shows while the work proceeds.

The same mentions, grouping and statistics as ``ada-atsc report`` (:mod:`.build`), kept in memory for the
bounded number of reviews one request may bring; each :meth:`LiveReport.summary` recounts them (cheap next
to running the models) and term embeddings are cached, so each update embeds only new terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .build import group_reviews, grouped_term_mentions
from .mentions import AnalysedReview, category_mentions
from .stats import summarise


class CachedEmbedder:
    """``embed`` with a memory of the terms it has embedded already."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self.embed = embed
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, terms: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(terms) if t not in self.vectors]
        if new:
            self.vectors.update(zip(new, self.embed(new)))
        return np.stack([self.vectors[t] for t in terms]) if terms else np.zeros((0, 1), dtype=np.float32)


class LiveReport:
    """Analysed reviews in (the pipeline's result per text), the report's summary out at any time."""

    def __init__(self, *, embed: Callable[[list[str]], np.ndarray] | None = None, min_count: int = 5,
                 examples_per_label: int = 2):
        self.reviews: list[AnalysedReview] = []
        self.embed = CachedEmbedder(embed) if embed is not None else None
        self.min_count, self.examples_per_label = min_count, examples_per_label
        self.errors = 0

    def add(self, texts: Sequence[str], results: Sequence[dict], first_id: int) -> None:
        """Record the pipeline's ``results`` for ``texts`` (ids count on from ``first_id``)."""
        for k, (text, result) in enumerate(zip(texts, results)):
            if "error" in result:
                self.errors += 1
                continue
            self.reviews.append(AnalysedReview(f"review {first_id + k + 1}", text, result.get("aspects") or [],
                                               result.get("categories") or [], None, {}))

    def summary(self) -> dict:
        groups, group_category = group_reviews(self.reviews, embed=self.embed)

        mentions = (m for review in self.reviews for m in grouped_term_mentions(review, groups, group_category))
        summary = summarise(mentions, min_count=self.min_count, examples_per_label=self.examples_per_label,
                            group_variants={g.name: [list(m) for m in g.members] for g in groups.groups})
        detections = [m for review in self.reviews for m in category_mentions(review)]
        if detections:
            by_category = summarise(detections, min_count=self.min_count, examples_per_label=self.examples_per_label)
            summary["categories"], summary["category_overall"] = by_category["categories"], by_category["overall"]
        summary["totals"]["reviews_analysed"] = len(self.reviews)
        return summary
