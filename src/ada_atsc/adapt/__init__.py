"""Step 7: a domain without labels, in one command (``ada-atsc adapt``): a user's own reviews in, a model
bundle for their domain out.

Stages (:mod:`.pipeline`), each skipped when complete so that a killed run continues with ``--resume``:
corpus preparation, pregeneration, LM fine-tuning on the target reviews, an extractor and a classifier
trained from the adapted encoder on the labelled data the project ships (:mod:`.source`), self-training on
the target reviews with thresholds chosen on the source dev data only (:mod:`.pseudo`), the label mix of the
target estimated and corrected (:mod:`ada_atsc.atsc.label_mix`), and the bundle with its card (:mod:`.card`).
Settings: :mod:`.options`.
"""

from .options import SCALES, AdaptOptions
from .pipeline import run_adapt

__all__ = ["SCALES", "AdaptOptions", "run_adapt"]
