"""Step 3: pregenerate epochs of masked-LM (+ next-sentence) instances from a domain corpus.

The readers below are the interface the LM fine-tuning step trains from; the writer is
:func:`ada_atsc.pregenerate.pipeline.pregenerate` (``ada-atsc pregenerate`` on the command line).
"""

from .format import PregeneratedEpoch, count_epochs, open_epoch, read_epoch_metrics, tokenizer_fingerprint

__all__ = ["PregeneratedEpoch", "count_epochs", "open_epoch", "read_epoch_metrics", "tokenizer_fingerprint"]
