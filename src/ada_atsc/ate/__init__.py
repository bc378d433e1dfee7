"""Aspect term extraction (step 5 for extraction): which words of a sentence name an aspect?

Token classification with BIO tags over the words of the fast tokenizer (the first sub-word of each word
carries its tag), spans back as character offsets. Modules: :mod:`.spans` (tags, span decoding, span
scores), :mod:`.features` (sentences to model inputs), :mod:`.extractor` (a trained extractor on new text:
:class:`~ada_atsc.ate.extractor.Extractor`), :mod:`.training` (the extraction task of the shared training
core: ``ada-atsc train --task ate``), :mod:`.evaluate` (``ada-atsc evaluate`` of an extractor).
"""

from __future__ import annotations
