"""Batches for inference: similar lengths together, so that little of each batch is padding.

Every runner (the classifier, the extractor, the pipeline) sorts its inputs by length, runs the batches, and
puts the results back in input order; padding is per batch, never to ``--max_seq_length``.
"""

from __future__ import annotations

from collections.abc import Sequence


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Index batches of similar length (for inference; the caller restores the original order)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
