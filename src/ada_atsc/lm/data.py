"""Training examples for the LM step: the pregenerated epochs, their order, and batching.

All epochs of a run form one long dataset (epoch e of the run reads pregenerated epoch ``e mod n``), and
:class:`EpochBlockSampler` shuffles *within* each epoch with a seed of its own, so the order depends only on
the seed: a resumed run skips exactly the batches it had already seen, and every process of a distributed
run agrees on the order (``accelerate`` hands each process its share of each global batch).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..core.errors import AdaError

log = logging.getLogger(__name__)

IGNORE = -100


def pregenerate_api() -> Any:
    """The pregeneration step's reading API (``ada_atsc.pregenerate.format``)."""
    from ..pregenerate import format as pregenerated_format

    return pregenerated_format


class ConcatEpochs(Dataset):
    """Several epoch datasets one after the other; ``block_sizes`` says where each starts."""

    def __init__(self, epochs: Sequence[Dataset]):
        self.epochs = list(epochs)
        self.block_sizes = [len(ds) for ds in self.epochs]
        self._starts = np.cumsum([0] + self.block_sizes).tolist()

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index: int) -> dict:
        block = bisect.bisect_right(self._starts, index) - 1
        return self.epochs[block][index - self._starts[block]]


class EpochBlockSampler(Sampler[int]):
    """Indices of consecutive blocks (epochs), each shuffled by ``seed + block``; deterministic for a seed."""

    def __init__(self, block_sizes: Sequence[int], seed: int, shuffle: bool = True):
        self.block_sizes = list(block_sizes)
        self.seed = seed
        self.shuffle = shuffle

    def __len__(self) -> int:
        return sum(self.block_sizes)

    def __iter__(self) -> Iterator[int]:
        start = 0
        for block, size in enumerate(self.block_sizes):
            if self.shuffle:
                order = np.random.default_rng([self.seed, block]).permutation(size)
            else:
                order = np.arange(size)
            yield from (start + order).tolist()
            start += size


@dataclass
class PretrainingCollator:
    """Pad a list of examples to the longest member; labels are -100 except at the masked positions.

    Examples are dicts of 1-D integer arrays as the pregeneration step writes them: ``input_ids`` (with the
    masking already applied), ``token_type_ids``, ``masked_lm_positions``, ``masked_lm_ids`` and an int
    ``next_sentence_label``.
    """

    pad_token_id: int
    with_nsp: bool = True
    pad_to_multiple_of: int | None = None
    with_token_types: bool = True  # False for models without segment embeddings (RoBERTa, DeBERTa-v3, ...)

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        longest = max(len(ex["input_ids"]) for ex in examples)
        if self.pad_to_multiple_of:
            longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch = len(examples)
        input_ids = np.full((batch, longest), self.pad_token_id, dtype=np.int64)
        token_type_ids = np.zeros((batch, longest), dtype=np.int64)
        attention_mask = np.zeros((batch, longest), dtype=np.int64)
        labels = np.full((batch, longest), IGNORE, dtype=np.int64)
        for row, ex in enumerate(examples):
            n = len(ex["input_ids"])
            input_ids[row, :n] = ex["input_ids"]
            token_type_ids[row, :n] = ex["token_type_ids"]
            attention_mask[row, :n] = 1
            labels[row, np.asarray(ex["masked_lm_positions"], dtype=np.int64)] = ex["masked_lm_ids"]
        out = {
            "input_ids": torch.from_numpy(input_ids),
            "attention_mask": torch.from_numpy(attention_mask),
            "labels": torch.from_numpy(labels),
        }
        if self.with_token_types:
            out["token_type_ids"] = torch.from_numpy(token_type_ids)
        if self.with_nsp:
            out["next_sentence_label"] = torch.tensor([int(ex["next_sentence_label"]) for ex in examples])
        return out


@dataclass
class PregeneratedRun:
    """The epochs one run trains on, with what the model card reports about them."""

    dataset: ConcatEpochs
    mlm_only: bool
    epoch_sources: list[int]
    metrics: list[dict] = field(default_factory=list)

    def statistics(self) -> dict:
        """Corpus statistics for the model card and the summary."""
        first = self.metrics[0] if self.metrics else {}
        return {
            "pregenerated_epochs_available": len({m.get("_epoch") for m in self.metrics}),
            "epochs_trained": len(self.epoch_sources),
            "pregenerated_epoch_per_training_epoch": self.epoch_sources,
            "training_examples": len(self.dataset),
            "examples_per_epoch": self.dataset.block_sizes,
            "max_seq_len": first.get("max_seq_len"),
            "mlm_only": self.mlm_only,
            "tokenizer_fingerprint": first.get("tokenizer_fingerprint"),
        }


def open_pregenerated(directory: str | Path, epochs: int, tokenizer) -> PregeneratedRun:
    """Open the epochs a run of ``epochs`` epochs reads, checking the data against its metrics and tokenizer."""
    api = pregenerate_api()
    directory = Path(directory)
    if not directory.is_dir():
        raise AdaError(f"{directory}: pregenerated data directory does not exist")
    available = api.count_epochs(directory)
    if available <= 0:
        raise AdaError(f"{directory}: no pregenerated epochs found (run 'ada-atsc pregenerate' first)")
    if epochs < 1:
        raise AdaError(f"--epochs must be at least 1, got {epochs}")
    if available < epochs:
        log.warning(
            "only %d pregenerated epoch(s) in %s for %d training epochs: the data will be reused "
            "(epoch e reads pregenerated epoch e mod %d)", available, directory, epochs, available,
        )
    fingerprint = api.tokenizer_fingerprint(tokenizer)
    opened: dict[int, Dataset] = {}
    metrics: dict[int, dict] = {}
    for source in sorted({e % available for e in range(epochs)}):
        meta = dict(api.read_epoch_metrics(directory, source))
        made_with = meta.get("tokenizer_fingerprint")
        if made_with and made_with != fingerprint:
            raise AdaError(
                f"{directory}: epoch {source} was pregenerated with a different tokenizer (fingerprint "
                f"{made_with}, this model's tokenizer is {fingerprint}); pregenerate again with this --bert_model"
            )
        ds = api.open_epoch(directory, source, tokenizer=tokenizer)
        expected = meta.get("num_training_examples")
        if expected is not None and int(expected) != len(ds):
            raise AdaError(
                f"{directory}: the metrics of epoch {source} say {expected} examples but the data holds {len(ds)}"
            )
        if len(ds) == 0:
            raise AdaError(f"{directory}: pregenerated epoch {source} holds no examples")
        meta["_epoch"] = source
        opened[source], metrics[source] = ds, meta
    mlm_flags = {bool(m.get("mlm_only", False)) for m in metrics.values()}
    if len(mlm_flags) > 1:
        raise AdaError(f"{directory}: some epochs are --mlm_only and some are not; pregenerate them again")
    sources = [e % available for e in range(epochs)]
    return PregeneratedRun(
        dataset=ConcatEpochs([opened[s] for s in sources]),
        mlm_only=mlm_flags.pop(),
        epoch_sources=sources,
        metrics=[metrics[s] for s in sorted(metrics)],
    )
