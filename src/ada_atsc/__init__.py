"""ada-atsc: adapt BERT-style encoders to a domain, then find aspects and classify their sentiment.

The public API is small: :class:`Predictor` (a trained aspect sentiment classifier), :class:`Extractor` (a
trained aspect term extractor), :class:`AbsaPipeline` (both: raw text in, every aspect with its sentiment
out), and :class:`AdaError` for the errors we raise on bad input. Everything else is reached through the
``ada-atsc`` command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import AdaError

__version__ = "0.1.0"
__all__ = ["AbsaPipeline", "AdaError", "Extractor", "Predictor", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .absa.pipeline import AbsaPipeline
    from .ate.extractor import Extractor
    from .atsc.predict import Predictor

_LAZY = {"Predictor": "ada_atsc.atsc.predict", "Extractor": "ada_atsc.ate.extractor",
         "AbsaPipeline": "ada_atsc.absa.pipeline"}


def __getattr__(name: str):
    # Imported lazily so that `import ada_atsc` does not pull in torch.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
