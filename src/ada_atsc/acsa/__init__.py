"""Aspect-category sentiment (ACSA): which of a fixed set of categories (food, service, price ...) a sentence
speaks about, and with which polarity, implicit opinions included ("It was way overpriced." → price negative).

``train --task acsa`` (:mod:`.training`), :class:`~.predict.CategoryClassifier` for new text, the scores in
:mod:`.metrics`.
"""

from .predict import CategoryClassifier
from .schema import CategorySchema

__all__ = ["CategoryClassifier", "CategorySchema"]
