"""The label sets of the project, each defined once: every reader, model config, metric and output record
takes its labels from here.

* :data:`POLARITIES`: what the data sets annotate (SemEval's four polarities, conflict included).
* :data:`ATSC_LABELS`: what a classifier predicts, in the order of its ``id2label`` (conflict is not a class:
  it is dropped from ATSC data, as in the paper); :data:`LABEL2ID` / :data:`ID2LABEL` map them.
* :data:`EXTRACTION_TAGS`: the BIO tags of an aspect extractor, in the order of its ``id2label``.
* :data:`UNIFIED_TAGS`: the tags of a unified tagger (one model for extraction and polarity), in the order
  of its ``id2label``.
* :data:`OPINION_LINKS` / :data:`TRIPLET_TAGS`: the tags of a triplet tagger (aspects with polarity, and the
  opinion words with the aspects they belong to), in the order of its ``id2label``.
* :data:`CATEGORY_ABSENT`: the aspect-category classifier's "not mentioned" class (its other classes are the
  polarities of its data, saved in its config).
"""

from __future__ import annotations

POLARITIES = ("positive", "negative", "neutral", "conflict")
"""Polarities found in the data; ``conflict`` is kept when reading and dropped before ATSC training."""

ATSC_LABELS = ("positive", "negative", "neutral")
"""The classifier's classes, in the order of its ``id2label``."""

LABEL2ID = {label: i for i, label in enumerate(ATSC_LABELS)}
ID2LABEL = dict(enumerate(ATSC_LABELS))

EXTRACTION_TAGS = ("O", "B-ASP", "I-ASP")
"""The extractor's labels, in the order of its ``id2label``."""

UNIFIED_TAGS = ("O", "B-positive", "I-positive", "B-negative", "I-negative", "B-neutral", "I-neutral",
                "B-conflict", "I-conflict")
"""A unified tagger's labels (Li et al. 2019, "unified tagging scheme"): a word is outside every aspect, or
begins / continues an aspect of a polarity. ``conflict`` is a class here (the data annotate it, and its spans
are aspects all the same) but never an output: a span's polarity is read over the three of
:data:`ATSC_LABELS`. Tags ``2k+1`` / ``2k+2`` are B / I of polarity ``k`` of :data:`POLARITIES`."""

OPINION_LINKS = ("left", "right", "two-left", "two-right", "left-right")
"""Which aspects an opinion span belongs to, counted in aspects from the opinion: the nearest aspect on its
left, on its right, the two nearest on its left ("the food and the service were *great*"), on its right, or
the nearest on each side. Tagged and decoded back, the ASTE-V2 training sets keep 95.3 to 98.2% of their
triplets (the nearest aspect alone would reach 86 to 93%); docs/opinions.md."""

TRIPLET_TAGS = UNIFIED_TAGS + tuple(f"{edge}-opinion-{link}" for link in OPINION_LINKS for edge in "BI")
"""A triplet tagger's labels: :data:`UNIFIED_TAGS`, then B / I of an opinion span for each of
:data:`OPINION_LINKS` (tag ``len(UNIFIED_TAGS) + 2k`` / ``+ 2k + 1`` for link ``k``). One tag per word: where
an aspect and an opinion share a word, the aspect keeps it."""

CATEGORY_ABSENT = "none"
"""The aspect-category classifier's label for "this category is not mentioned": its classes are this label
followed by the polarities its training data holds (``conflict`` only where the data annotate it, as in
SemEval-2014 restaurants), in the order of its ``id2label``."""
