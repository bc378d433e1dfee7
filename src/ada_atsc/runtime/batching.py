"""Batches: similar lengths together, padded to their longest member, so that little of each batch is padding.

Every runner (the classifier, the extractor, the pipeline) sorts its inputs by length, runs the batches, and
puts the results back in input order; padding is per batch, never to ``--max_seq_length``.
"""

from __future__ import annotations

from collections.abc import Sequence

TOKENS_PER_ROW = 32
"""An inference batch holds at most ``batch_size`` rows and ``batch_size × TOKENS_PER_ROW`` tokens once padded:
review sentences are about 20 tokens with a long tail, and with a row count alone the batch that takes the
tail pads every row to its longest (on the SemEval-2014 restaurants test sentences, in calls of 32, the
encoder computed 2.3x the FLOPs the real tokens need; with the budget, 1.7x; in calls of 256, 1.3x and 1.15x)."""


def length_sorted_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[list[int]]:
    """Index batches of similar length (for inference; the caller restores the original order): shortest
    first, a batch closing at ``batch_size`` rows or when one more row would pad it past ``max_tokens``
    (default ``batch_size × TOKENS_PER_ROW``; a row longer than that is a batch of its own)."""
    budget = max_tokens or batch_size * TOKENS_PER_ROW
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if current and (len(current) >= batch_size or (len(current) + 1) * lengths[index] > budget):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


class PairCollator:
    """Pad a batch to its longest member (or to a fixed ``pad_to`` length, the 2019 baseline).

    ``pad_to_multiple_of`` rounds the padded length up (8 helps tensor cores under fp16/bf16).
    """

    def __init__(self, pad_token_id: int, pad_to: int | None = None, pad_to_multiple_of: int | None = None,
                 return_tensors: str = "pt"):
        self.pad_token_id = pad_token_id
        self.pad_to = pad_to
        self.multiple = pad_to_multiple_of
        self.return_tensors = return_tensors  # "pt" (PyTorch) or "np" (numpy: an ONNX export, no PyTorch)

    def __call__(self, features: list[dict]) -> dict:
        if self.return_tensors == "np":
            import numpy as np

            as_tensor = lambda rows: np.asarray(rows, dtype=np.int64)  # noqa: E731
        else:
            import torch  # here, so that importing the input format (``train --help``) stays light

            as_tensor = lambda rows: torch.tensor(rows, dtype=torch.long)  # noqa: E731
        length = max(len(f["input_ids"]) for f in features)
        if self.pad_to is not None:
            length = max(length, self.pad_to)
        if self.multiple:
            length = -(-length // self.multiple) * self.multiple
        batch: dict = {}
        for key, pad in (("input_ids", self.pad_token_id), ("token_type_ids", 0), ("attention_mask", 0),
                         ("aspect_mask", 0)):
            if key not in features[0]:
                continue
            rows = [list(f[key]) + [pad] * (length - len(f[key])) for f in features]
            batch[key] = as_tensor(rows)
        if "labels" in features[0]:
            batch["labels"] = as_tensor([f["labels"] for f in features])
        return batch
