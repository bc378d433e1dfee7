"""Tokenise each distinct whitespace-separated chunk once: the corpus pass's fast path.

Review text is Zipfian: a few thousand words make up almost every token. For tokenizers whose pipeline is
*local to whitespace-separated chunks* (BERT's normaliser and pre-tokeniser: lower-casing, accent stripping,
splitting on whitespace and punctuation; WordPiece/BPE then see one pre-token at a time), a sentence's
token ids are exactly the concatenation of the ids of its chunks, each tokenised alone. So the fast
tokenizer only ever sees chunks it has not seen before, and a sentence becomes a few dictionary lookups and
one vectorised gather.

Exactness rules (anything else goes through the tokenizer whole, or the cache is not used at all):

- the cache is used only when every normaliser and pre-tokeniser step is in :data:`LOCAL_NORMALIZERS` /
  :data:`LOCAL_PRE_TOKENIZERS` and no added token contains whitespace (``tokenizer_is_chunk_local``);
- a line is split into chunks only when it is printable ASCII (``str.isascii() and str.isprintable()``):
  there Python's ``str.split()`` and the tokenizer agree on what whitespace is. Any other line (tabs,
  control or zero-width characters, non-Latin scripts) is one chunk: tokenised whole, still cached.

The cache holds at most ``max_entries`` chunks (memory stays flat however large the corpus is); chunks met
after it is full are tokenised per batch and forgotten. ``tests/test_pregenerate.py`` checks the index built
with the cache byte for byte against the one built by the tokenizer alone.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

LOCAL_NORMALIZERS = {"BertNormalizer", "Lowercase", "NFD", "NFC", "NFKD", "NFKC", "StripAccents"}
LOCAL_PRE_TOKENIZERS = {"BertPreTokenizer", "Whitespace", "WhitespaceSplit", "Punctuation", "Digits"}
MAX_CACHED_CHARS = 48
DEFAULT_MAX_ENTRIES = 1 << 17  # full: +54 MB for random words (worst case)


def _step_types(component: dict | None) -> list[str]:
    if component is None:
        return []
    if component.get("type") == "Sequence":
        steps = component.get("normalizers") or component.get("pretokenizers") or []
        return [t for step in steps for t in _step_types(step)]
    return [component.get("type", "?")]


def _steps(component: dict | None) -> list[dict]:
    if component is None:
        return []
    if component.get("type") == "Sequence":
        return [c for step in component.get("pretokenizers") or [] for c in _steps(step)]
    return [component]


def needs_space_between_lines(backend_json: str) -> bool:
    """True for byte-level BPE without a prefix space (RoBERTa, ModernBERT): there a line tokenised alone
    starts with a word that has no space marker, so a sentence that continues a document is encoded as
    ``" " + line`` to read as it would in running text (``...fair. Ġthe hotel``, not ``...fair.the hotel``)."""
    pre = _steps(json.loads(backend_json).get("pre_tokenizer"))
    return any(step.get("type") == "ByteLevel" and not step.get("add_prefix_space", True) for step in pre)


def tokenizer_is_chunk_local(backend_json: str) -> bool:
    """True when tokenising chunk by chunk gives exactly the ids of tokenising the whole line."""
    backend = json.loads(backend_json)
    if backend.get("pre_tokenizer") is None:
        return False  # the model would see the whole line as one piece
    if not set(_step_types(backend.get("pre_tokenizer"))) <= LOCAL_PRE_TOKENIZERS:
        return False
    if not set(_step_types(backend.get("normalizer"))) <= LOCAL_NORMALIZERS:
        return False
    return not any(any(c.isspace() for c in token.get("content", "")) for token in backend.get("added_tokens", []))


def encode_lines(tokenizer: Any, texts: list[str], whole_word: bool, dtype: np.dtype) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, word-continuation flags and per-line token counts of ``texts``, by the tokenizer alone."""
    if whole_word:
        encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    else:
        encodings = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    lens = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
    ids = np.fromiter(itertools.chain.from_iterable(e.ids for e in encodings), dtype=dtype, count=int(lens.sum()))
    cont = np.zeros(ids.size, dtype=np.uint8)
    if whole_word and ids.size > 1:
        words = np.fromiter(
            (-1 if w is None else w for e in encodings for w in e.word_ids), dtype=np.int64, count=ids.size
        )
        cont[1:] = (words[1:] == words[:-1]) & (words[1:] >= 0)
        line_starts = np.cumsum(lens)[:-1]
        cont[line_starts[line_starts < ids.size]] = 0
    return ids, cont, lens


class ChunkCache:
    """Chunk -> token ids (and word-continuation flags) in flat arrays, looked up a batch of lines at a time."""

    def __init__(self, tokenizer: Any, token_dtype: np.dtype, whole_word: bool,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.tokenizer = tokenizer
        self.whole_word = whole_word
        self.max_entries = max_entries
        self.index: dict[str, int] = {}
        self.tokens = np.zeros(1 << 16, dtype=token_dtype)
        self.cont = np.zeros(1 << 16, dtype=np.uint8)
        self.start = np.zeros(1 << 12, dtype=np.int64)
        self.length = np.zeros(1 << 12, dtype=np.int64)
        self.entries = 0  # permanent entries; those after them live for one batch only
        self.used = 0  # tokens used by the permanent entries
        self._count = 0  # entries in the arrays, batch-only ones included
        self._end = 0  # tokens in the arrays, batch-only ones included
        self._batch_only: list[str] = []
        self.lookups = 0
        self.misses = 0

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token ids, continuation flags (zeros without whole-word masking) and per-line token counts."""
        split = [text.split() if text.isascii() and text.isprintable() else [text] for text in texts]
        counts = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        chunks = list(itertools.chain.from_iterable(split))
        self.lookups += len(chunks)
        try:
            ids = np.fromiter(map(self.index.__getitem__, chunks), dtype=np.int64, count=len(chunks))
        except KeyError:  # unseen chunks: tokenise them (once each), then look up again
            new = [chunk for chunk in dict.fromkeys(chunks) if chunk not in self.index]
            self.misses += len(new)
            self._add(new)
            ids = np.fromiter(map(self.index.__getitem__, chunks), dtype=np.int64, count=len(chunks))
        starts = self.start[ids]
        lengths = self.length[ids]
        out_starts = np.cumsum(lengths) - lengths
        positions = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - out_starts, lengths)
        token_ids = self.tokens[positions]
        cont = self.cont[positions]
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        chunk_bounds = np.concatenate([[0], np.cumsum(counts)])
        line_lengths = bounds[chunk_bounds[1:]] - bounds[chunk_bounds[:-1]]
        self._forget_batch_entries()
        return token_ids, cont, line_lengths

    def _add(self, new: list[str]) -> None:
        """Tokenise unseen chunks and append them.

        Kept for good: chunks of at most ``MAX_CACHED_CHARS`` while there is room (words; a whole line that
        could not be split is rarely seen twice). The others are forgotten after the batch. Kept entries come
        first, so they always form a prefix of the arrays.
        """
        new = sorted(new, key=lambda chunk: len(chunk) > MAX_CACHED_CHARS)  # stable: short ones first
        ids, cont, lengths = encode_lines(self.tokenizer, new, self.whole_word, self.tokens.dtype)
        first, end = self._count, self._end + ids.size
        self._reserve(first + len(new), end)
        self.start[first:first + len(new)] = self._end + np.cumsum(lengths) - lengths
        self.length[first:first + len(new)] = lengths
        self.tokens[self._end:end] = ids
        self.cont[self._end:end] = cont  # each chunk starts a word: encode_lines gives 0 at line starts
        self.index.update(zip(new, range(first, first + len(new))))
        # called once a batch, when the arrays hold only kept entries: the short chunks that fit stay for good
        keep = min(sum(len(chunk) <= MAX_CACHED_CHARS for chunk in new), max(self.max_entries - first, 0))
        self.entries = first + keep
        self.used = self._end + int(lengths[:keep].sum())
        self._batch_only.extend(new[keep:])
        self._count, self._end = first + len(new), end

    def _forget_batch_entries(self) -> None:
        for chunk in self._batch_only:
            del self.index[chunk]
        self._batch_only.clear()
        self.cont[self.used:self._end] = 0
        self._count = self.entries
        self._end = self.used

    def _reserve(self, entries: int, tokens: int) -> None:
        if entries > self.start.size:
            size = max(entries, 2 * self.start.size)
            self.start = np.resize(self.start, size)
            self.length = np.resize(self.length, size)
        if tokens > self.tokens.size:
            size = max(tokens, 2 * self.tokens.size)
            self.tokens = np.resize(self.tokens, size)
            self.cont = np.resize(self.cont, size)
            self.cont[self._end:] = 0
