"""Step 7: a domain without labels, in one command (``ada-atsc adapt``): a user's own reviews in, a model
bundle for their domain out.

Stages (:mod:`.pipeline` runs them, :mod:`.stages` resumes them), each skipped when complete so that a killed run
continues with ``--resume``: corpus preparation, pregeneration, LM fine-tuning on the target reviews, then for the
default bundle (:mod:`.tagger_stages`) a unified tagger trained from the adapted encoder on the labelled data the
project ships (:mod:`.source`), self-training on the target reviews with thresholds chosen on the source dev data
only (:mod:`.tagger`, :mod:`.pseudo`), and the bundle with its int8 export and card (:mod:`.card`); with
``--pipeline`` (:mod:`.pair_stages`) an extractor and a classifier instead, and the target's label mix estimated
and corrected (:mod:`ada_atsc.atsc.label_mix`). Settings: :mod:`.options`.
"""

from .options import SCALES, AdaptOptions
from .pipeline import run_adapt

__all__ = ["SCALES", "AdaptOptions", "run_adapt"]
