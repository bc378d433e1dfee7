"""Pairs to model inputs: ``[CLS] sentence [SEP] aspect [SEP]`` and batches padded to their longest member.

The fast tokenizer's pair encoding puts ``[CLS]`` and the sentence in segment 0 and the aspect in segment 1
(the 2019 code put ``[CLS]`` in segment 1, a bug fixed upstream that we do not copy). Padding happens per
batch, not to ``--max_seq_length``, which only truncates: restaurant pairs average ~30 tokens, so padding
every batch to 128 (the 2019 recipe) spends most of the compute on pad tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..data.records import ATSC_LABELS, AspectExample

LABEL2ID = {label: i for i, label in enumerate(ATSC_LABELS)}
ID2LABEL = dict(enumerate(ATSC_LABELS))


def encode_pairs(tokenizer, sentences: Sequence[str], aspects: Sequence[str], max_seq_length: int) -> list[dict]:
    """Token ids (unpadded) for each (sentence, aspect) pair, truncated to ``max_seq_length``."""
    enc = tokenizer(
        list(sentences),
        list(aspects),
        truncation="longest_first",
        max_length=max_seq_length,
        padding=False,
        return_attention_mask=True,
        return_token_type_ids=True,
    )
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
    return [{k: enc[k][i] for k in keys} for i in range(len(sentences))]


def encode_examples(tokenizer, examples: Sequence[AspectExample], max_seq_length: int) -> list[dict]:
    """Features with a ``labels`` id for every labeled example (unlabeled ones carry no label)."""
    features = encode_pairs(tokenizer, [e.sentence for e in examples], [e.aspect for e in examples], max_seq_length)
    for feature, example in zip(features, examples):
        if example.polarity is not None:
            feature["labels"] = LABEL2ID[example.polarity]
    return features


class PairCollator:
    """Pad a batch to its longest member (or to a fixed ``pad_to`` length, the 2019 baseline).

    ``pad_to_multiple_of`` rounds the padded length up (8 helps tensor cores under fp16/bf16).
    """

    def __init__(self, pad_token_id: int, pad_to: int | None = None, pad_to_multiple_of: int | None = None):
        self.pad_token_id = pad_token_id
        self.pad_to = pad_to
        self.multiple = pad_to_multiple_of

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        length = max(len(f["input_ids"]) for f in features)
        if self.pad_to is not None:
            length = max(length, self.pad_to)
        if self.multiple:
            length = -(-length // self.multiple) * self.multiple
        batch: dict[str, torch.Tensor] = {}
        for key, pad in (("input_ids", self.pad_token_id), ("token_type_ids", 0), ("attention_mask", 0)):
            if key not in features[0]:
                continue
            rows = [list(f[key]) + [pad] * (length - len(f[key])) for f in features]
            batch[key] = torch.tensor(rows, dtype=torch.long)
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
        return batch


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Index batches of similar length (for inference; the caller restores the original order)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
