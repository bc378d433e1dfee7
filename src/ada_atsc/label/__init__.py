"""Step 7, with a person in the loop: a few labels of the user's own, chosen where they teach most.

:mod:`.batch` owns the batch format (sentences with the model's guesses) and reads labels; :mod:`.select`
chooses what to label (``label select``); :mod:`.formats` speaks the annotation tools' formats (``label export``,
``label import``).
"""

from .batch import BatchItem, Guess, read_batch, sentence_id
from .select import STRATEGIES, SelectOptions, select_batch

__all__ = ["STRATEGIES", "BatchItem", "Guess", "SelectOptions", "read_batch", "select_batch", "sentence_id"]
