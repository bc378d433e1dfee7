"""The training core every fine-tuning task shares: the Trainer loop with dev-based checkpoint selection
(:mod:`.fine_tune`, :mod:`.selection`), which files a run reads (:mod:`.splits`) and how an evaluation is
written (:mod:`.evaluation`). The tasks (``atsc``, ``ate``) plug into it; it knows none of them."""
