"""Aspect-target sentiment classification (step 5): train, evaluate and predict.

Modules, one job each: :mod:`.datasets` finds and checks the splits, :mod:`.features` turns pairs into
token ids and batches, :mod:`.modeling` builds the classifier, :mod:`.metrics` scores predictions,
:mod:`.inference` runs a trained classifier, :mod:`.scoring` scores it on labeled data, :mod:`.contrast` makes
the contrast-augmented training pairs, :mod:`.training` fine-tunes with dev-based selection (on
:mod:`ada_atsc.training`); :mod:`.train`, :mod:`.evaluate` and :mod:`.predict` are what the commands of the
same names call (their flags are in :mod:`ada_atsc.commands`). The studies built on this task (experiment
tables, the contrast probe) are in :mod:`ada_atsc.studies`. Imports here stay light so ``ada-atsc --help`` is
fast.
"""

from __future__ import annotations
