"""ada-atsc: adapt BERT-style encoders to a domain, then classify aspect-target sentiment.

The public API is small: :class:`Predictor` for trained classifiers, and :class:`AdaError` for the
errors we raise on bad input. Everything else is reached through the ``ada-atsc`` command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import AdaError

__version__ = "0.1.0"
__all__ = ["AdaError", "Predictor", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .atsc.predict import Predictor


def __getattr__(name: str):
    # Imported lazily so that `import ada_atsc` does not pull in torch.
    if name == "Predictor":
        from .atsc.predict import Predictor

        return Predictor
    raise AttributeError(name)
