"""Batches: similar lengths together, padded to their longest member, so that little of each batch is padding.

Every runner (the classifier, the extractor, the pipeline) sorts its inputs by length, runs the batches, and
puts the results back in input order; padding is per batch, never to ``--max_seq_length``.
"""

from __future__ import annotations

from collections.abc import Sequence


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Index batches of similar length (for inference; the caller restores the original order)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


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
