"""Step 6 for raw text: aspect term extraction and aspect sentiment in one pipeline (:class:`.pipeline.AbsaPipeline`,
``ada-atsc absa``), and its joint evaluation (:mod:`.scores`)."""

from __future__ import annotations
