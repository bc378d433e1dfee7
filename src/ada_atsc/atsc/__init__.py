"""Aspect-target sentiment classification (step 5): train, evaluate, run experiments, predict.

Modules, one job each: :mod:`.datasets` finds and checks the splits, :mod:`.features` turns pairs into
token ids and batches, :mod:`.metrics` scores predictions, :mod:`.inference` runs a trained classifier,
:mod:`.training` fine-tunes with dev-based selection; :mod:`.train`, :mod:`.evaluate`, :mod:`.probe`,
:mod:`.experiment` and :mod:`.predict` are what the commands of the same names call (their flags are in
:mod:`ada_atsc.commands`). Imports here stay light so ``ada-atsc --help`` is fast.
"""

from __future__ import annotations
