"""The one owner of how an encoder lays out a sequence: its special tokens around one text or a pair.

BERT writes ``[CLS] A [SEP] B [SEP]`` with segment ids 0 up to and including the first ``[SEP]``; RoBERTa
``<s> A </s></s> B </s>`` without segment ids; DeBERTa-v3 and ModernBERT BERT's layout with their own ids. The
2019 scripts hard-coded BERT's layout and the ids 101/102/103. A :class:`SequenceTemplate` is read off the
tokenizer itself (its post-processor, through one pair encoding), so the pregeneration recipe, the simple
on-the-fly LM data and anything else that assembles token ids by hand produce exactly what the tokenizer's
own pair encoding would, for every architecture.

Torch-free and transformers-free (the pregeneration workers import it); only :meth:`from_tokenizer` touches a
tokenizer, which it receives. Whether a *model* reads segment ids is a property of its config, not of the
tokenizer: :func:`model_uses_token_types`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SPECIAL_MARKER_BASE = -1
"""In a gather index, ``-1 - j`` stands for the template's special token ``j`` (see :meth:`pair_index`)."""

NEXT_SENTENCE_FAMILIES = frozenset({"bert"})
"""Model types whose pretraining head has a next-sentence classifier (the others train masked LM alone)."""


@dataclass(frozen=True)
class SequenceTemplate:
    """Special token ids before, between and after the texts, and where segment B's ids start."""

    single_prefix: tuple[int, ...]
    single_suffix: tuple[int, ...]
    pair_prefix: tuple[int, ...]
    pair_middle: tuple[int, ...]
    pair_suffix: tuple[int, ...]
    middle_in_segment_a: int
    """How many of ``pair_middle`` still have segment id 0 (BERT: the first [SEP]); -1 without segment ids."""
    separator_id: int
    """The token that separates documents in a packed ``--mlm_only`` stream (the tokenizer's sep token)."""

    # ------------------------------------------------------------------------------------------ building

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> SequenceTemplate:
        """Read the layout off one single and one pair encoding of a fast tokenizer."""
        from .errors import AdaError

        name = getattr(tokenizer, "name_or_path", "") or "tokenizer"
        if getattr(tokenizer, "sep_token_id", None) is None:
            raise AdaError(f"{name}: has no separator token (sep_token); it cannot build sentence pairs")
        single = tokenizer("alpha", return_token_type_ids=True)
        pair = tokenizer("alpha", "beta", return_token_type_ids=True)
        prefix_s, _, suffix_s = _split(single["input_ids"], single.sequence_ids(), 1, name)
        (prefix_p, middle, suffix_p), types = (
            _split(pair["input_ids"], pair.sequence_ids(), 2, name), pair.get("token_type_ids")
        )
        in_a = -1
        if types is not None and any(types):
            first_b = types.index(1)
            in_a = first_b - (len(prefix_p) + pair.sequence_ids().count(0))
            if not 0 <= in_a <= len(middle):
                raise AdaError(f"{name}: segment B's ids do not start between the two texts ({types})")
        return cls(tuple(prefix_s), tuple(suffix_s), tuple(prefix_p), tuple(middle), tuple(suffix_p), in_a,
                   int(tokenizer.sep_token_id))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SequenceTemplate:
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**fields)

    # ---------------------------------------------------------------------------------------- properties

    @property
    def pair_overhead(self) -> int:
        """Special tokens a pair adds (BERT 3, RoBERTa 4)."""
        return len(self.pair_prefix) + len(self.pair_middle) + len(self.pair_suffix)

    @property
    def single_overhead(self) -> int:
        return len(self.single_prefix) + len(self.single_suffix)

    @property
    def has_segments(self) -> bool:
        return self.middle_in_segment_a >= 0

    def describe(self, single: bool = False) -> str:
        """``[101] A [102] B [102]``-style text of the pair (or single) layout, for messages and metrics."""
        def ids(part: tuple[int, ...]) -> str:
            return " ".join(f"[{i}]" for i in part)
        if single:
            parts = (ids(self.single_prefix), "A", ids(self.single_suffix))
        else:
            parts = (ids(self.pair_prefix), "A", ids(self.pair_middle), "B", ids(self.pair_suffix))
        return " ".join(p for p in parts if p)

    # ---------------------------------------------------------------------------------- one instance

    def pair(self, a: list[int], b: list[int]) -> tuple[list[int], list[int]]:
        """Token ids and segment ids of one pair, as the tokenizer's pair encoding would give them."""
        ids = [*self.pair_prefix, *a, *self.pair_middle, *b, *self.pair_suffix]
        b_start = self.segment_b_start(len(a))
        types = [0] * len(ids) if b_start == 0 else [0] * b_start + [1] * (len(ids) - b_start)
        return ids, types

    def segment_b_start(self, len_a: int) -> int:
        """Index of the first segment-1 token of a pair whose A has ``len_a`` tokens; 0 without segments."""
        if not self.has_segments:
            return 0
        return len(self.pair_prefix) + len_a + self.middle_in_segment_a

    # ------------------------------------------------------------------------------ vectorised layout

    @property
    def pair_specials(self) -> np.ndarray:
        return np.asarray(self.pair_prefix + self.pair_middle + self.pair_suffix, dtype=np.int64)

    @property
    def single_specials(self) -> np.ndarray:
        """The single template's specials, then the document separator (for packed streams)."""
        return np.asarray(self.single_prefix + self.single_suffix + (self.separator_id,), dtype=np.int64)

    @property
    def stream_separator_marker(self) -> int:
        """The gather marker of the document separator inside a packed stream (last of ``single_specials``)."""
        return SPECIAL_MARKER_BASE - self.single_overhead

    def pair_index(self, a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gather index of every token of every pair (source positions; ``-1 - j`` = ``pair_specials[j]``)
        and the instance lengths."""
        p, m = len(self.pair_prefix), len(self.pair_middle)
        return _layout(
            [(True, SPECIAL_MARKER_BASE, p), (False, a0, a1 - a0), (True, SPECIAL_MARKER_BASE - p, m),
             (False, b0, b1 - b0), (True, SPECIAL_MARKER_BASE - p - m, len(self.pair_suffix))],
            a0.size,
        )

    def single_index(self, s0: np.ndarray, s1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gather index (``-1 - j`` = ``single_specials[j]``) and lengths of ``prefix text suffix`` each."""
        p = len(self.single_prefix)
        return _layout(
            [(True, SPECIAL_MARKER_BASE, p), (False, s0, s1 - s0),
             (True, SPECIAL_MARKER_BASE - p, len(self.single_suffix))],
            s0.size,
        )


def _layout(parts: list[tuple[bool, Any, Any]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate, per instance, its parts: special runs (marker start, count) or source ranges (start, len)."""
    lengths = np.stack([np.broadcast_to(np.asarray(length, dtype=np.int64), (n,)) for _, _, length in parts], 1)
    starts = np.stack([np.broadcast_to(np.asarray(start, dtype=np.int64), (n,)) for _, start, _ in parts], 1)
    special = np.broadcast_to(np.asarray([s for s, _, _ in parts]), (n, len(parts)))
    flat_len = lengths.ravel()
    offsets = np.concatenate([[0], np.cumsum(flat_len)])
    pos = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], flat_len)
    base = np.repeat(starts.ravel(), flat_len)
    index = np.where(np.repeat(special.ravel(), flat_len), base - pos, base + pos)
    return index, lengths.sum(axis=1)


def _split(ids: list[int], sequence_ids: list[int | None], texts: int, name: str) -> list[list[int]]:
    """The special-token runs of one encoding: [prefix, middle, suffix] (middle empty for a single text)."""
    from .errors import AdaError

    where = [[i for i, s in enumerate(sequence_ids) if s == text] for text in range(texts)]
    runs = None
    if all(where) and all(w == list(range(w[0], w[-1] + 1)) for w in where):
        first_a, last_a, last = where[0][0], where[0][-1], where[-1][-1]
        middle = ids[last_a + 1:where[1][0]] if texts == 2 else []
        runs = [ids[:first_a], middle, ids[last + 1:]]
        texts_len = sum(len(w) for w in where)
        if sum(map(len, runs)) + texts_len != len(ids):
            runs = None
    if runs is None:
        raise AdaError(f"{name}: cannot read the special-token layout of its {'pair' if texts == 2 else 'single'} "
                       f"encoding ({ids})")
    return runs


def model_uses_token_types(config: Any) -> bool:
    """Whether a model reads segment ids: BERT and ELECTRA yes; RoBERTa (type_vocab_size 1), DeBERTa-v3 (0),
    DistilBERT and ModernBERT (no such embedding) no. Sending them to the latter would crash or be ignored."""
    return int(getattr(config, "type_vocab_size", 0) or 0) > 1


def has_next_sentence_head(model_type: str) -> bool:
    """Only the BERT family ships a next-sentence head among the encoders we support."""
    return model_type in NEXT_SENTENCE_FAMILIES
