"""Simple mode: masked-LM + next-sentence instances made on the fly from a corpus, as in 2019.

A corpus has one sentence per line and a blank line between documents. Each instance is two consecutive lines
of a document, or (half of the time, for models with a next-sentence head) the first line with a random line of
another document instead, laid out as the tokenizer's own pair encoding (``SequenceTemplate``); 15% of the
tokens are selected for prediction (80% become [MASK], 10% a random token, 10% stay). Every instance is drawn
from a generator seeded by (seed, epoch, index): the same seed gives the same instances, so a resumed run sees
what the uninterrupted one saw.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset
from tqdm import tqdm

from ..core.errors import AdaError
from ..core.sequence_template import SequenceTemplate


def read_documents(path: str | Path) -> list[list[str]]:
    """Documents as lists of non-empty lines; a blank line ends a document."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AdaError(f"{path}: corpus file does not exist") from exc
    except UnicodeDecodeError as exc:
        raise AdaError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    documents: list[list[str]] = [[]]
    for line in text.splitlines():
        line = line.strip()
        if line:
            documents[-1].append(line)
        elif documents[-1]:
            documents.append([])
    documents = [doc for doc in documents if doc]
    if not documents:
        raise AdaError(f"{path}: the corpus is empty")
    return documents


class OnTheFlyPairs(Dataset):
    """``epochs`` epochs (a float, as ``--num_train_epochs``) of sentence-pair instances from a corpus."""

    def __init__(self, documents: list[list[str]], tokenizer, *, max_seq_length: int, epochs: float, seed: int,
                 masked_lm_prob: float = 0.15, next_sentence: bool = True):
        if max_seq_length < 8:
            raise AdaError(f"--max_seq_length must be at least 8, got {max_seq_length}")
        lines = [line for doc in documents for line in doc]
        ids: list[list[int]] = []
        for start in tqdm(range(0, len(lines), 10000), desc="tokenizing", unit="10k lines", disable=len(lines) < 50000):
            ids.extend(tokenizer(lines[start:start + 10000], add_special_tokens=False)["input_ids"])
        self.lines = [np.asarray(x, dtype=np.int64) for x in ids]
        self.doc_of_line = np.repeat(np.arange(len(documents)), [len(doc) for doc in documents])
        starts = np.cumsum([0] + [len(doc) for doc in documents])
        self.pairs = np.asarray([s + i for d, s in enumerate(starts[:-1]) for i in range(len(documents[d]) - 1)])
        if len(self.pairs) == 0:
            raise AdaError("the corpus has no document with two or more lines: no sentence pairs to train on")
        self.single_document = len(documents) == 1
        self.max_seq_length = max_seq_length
        self.seed = seed
        self.masked_lm_prob = masked_lm_prob
        self.template = SequenceTemplate.from_tokenizer(tokenizer)  # the tokenizer's own pair layout
        self.next_sentence = next_sentence  # False: B is always the next line (no next-sentence head to train)
        self.mask = tokenizer.mask_token_id
        if self.mask is None:
            raise AdaError(f"{getattr(tokenizer, 'name_or_path', 'tokenizer')}: has no mask token; masked LM needs one")
        self.vocab_size = len(tokenizer)
        self.special = np.asarray(sorted(set(tokenizer.all_special_ids)), dtype=np.int64)
        n = len(self.pairs)
        full = int(math.floor(epochs))
        self.block_sizes = [n] * full + ([int(round((epochs - full) * n))] if epochs > full else [])
        self.block_sizes = [size for size in self.block_sizes if size > 0]
        if not self.block_sizes:
            raise AdaError(f"--num_train_epochs {epochs} gives no training instances")
        self._starts = np.cumsum([0] + self.block_sizes)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, index: int) -> dict:
        epoch = int(np.searchsorted(self._starts, index, side="right") - 1)
        k = int(index - self._starts[epoch])
        if self.block_sizes[epoch] < len(self.pairs):  # a partial last epoch takes a random subset of the pairs
            k = int(np.random.default_rng([self.seed, epoch, 1]).permutation(len(self.pairs))[k])
        rng = np.random.default_rng([self.seed, epoch, k])
        first = int(self.pairs[k])
        is_random = rng.random() < 0.5 and self.next_sentence
        if is_random:
            second = self._random_line(rng, first)
        else:
            second = first + 1
        return self._instance(rng, self.lines[first], self.lines[second], int(is_random))

    def _random_line(self, rng: np.random.Generator, first: int) -> int:
        for _ in range(10):
            candidate = int(rng.integers(len(self.lines)))
            if self.single_document and candidate != first + 1:
                return candidate
            if self.doc_of_line[candidate] != self.doc_of_line[first]:
                return candidate
        return candidate

    def _instance(self, rng: np.random.Generator, a: np.ndarray, b: np.ndarray, label: int) -> dict:
        a, b = list(a), list(b)
        while len(a) + len(b) > self.max_seq_length - self.template.pair_overhead:  # the longer side, as 2019
            (a if len(a) > len(b) else b).pop()
        ids, types = self.template.pair(a, b)
        tokens = np.asarray(ids, dtype=np.int64)
        segments = np.asarray(types, dtype=np.int64)
        candidates = np.flatnonzero(~np.isin(tokens, self.special))
        chosen = candidates[rng.random(len(candidates)) < self.masked_lm_prob]
        if len(chosen) == 0 and len(candidates):
            chosen = candidates[[int(rng.integers(len(candidates)))]]
        originals = tokens[chosen].copy()
        action = rng.random(len(chosen))
        tokens[chosen[action < 0.8]] = self.mask
        randomised = chosen[(action >= 0.8) & (action < 0.9)]
        tokens[randomised] = rng.integers(0, self.vocab_size, len(randomised))
        return {
            "input_ids": tokens,
            "token_type_ids": segments,
            "masked_lm_positions": chosen.astype(np.int64),
            "masked_lm_ids": originals,
            "next_sentence_label": label,
        }
