"""Sentences to token-classification inputs: ids, and a tag on each word's first sub-word (``-100``
elsewhere, so special tokens and continuation pieces are not scored)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..data.records import SentenceRecord
from .spans import IGNORE_LABEL as IGNORE
from .spans import word_tags


def word_offsets(encoding, index: int, offsets: list) -> tuple[list[int | None], dict[int, tuple[int, int]]]:
    """(word id of each token, character span of each word) of one encoded sequence."""
    word_ids = encoding.word_ids(index)
    spans: dict[int, tuple[int, int]] = {}
    for word, (a, b) in zip(word_ids, offsets):
        if word is None:
            continue
        start, end = spans.get(word, (a, b))
        spans[word] = (min(start, a), max(end, b))
    return word_ids, spans


def aspect_boundary_tags(words: Sequence[tuple[int, int]], record: SentenceRecord) -> list[int]:
    """The extractor's BIO tag of each word of ``record``."""
    return word_tags(words, [(a.start, a.end) for a in record.aspects])


def encode_sentences(tokenizer, sentences: Sequence[SentenceRecord], max_seq_length: int,
                     tag_words: Callable[[Sequence[tuple[int, int]], SentenceRecord], list[int]] = aspect_boundary_tags,
                     ) -> list[dict]:
    """Features with ``labels`` (the tag of each word on its first sub-word, from ``tag_words``) for every
    sentence."""
    enc = tokenizer([s.sentence for s in sentences], truncation=True, max_length=max_seq_length, padding=False,
                    return_offsets_mapping=True, return_attention_mask=True)
    features = []
    for i, record in enumerate(sentences):
        word_ids, words = word_offsets(enc, i, enc["offset_mapping"][i])
        order = sorted(words)
        tags = dict(zip(order, tag_words([words[w] for w in order], record)))
        labels, seen = [], set()
        for word in word_ids:
            labels.append(IGNORE if word is None or word in seen else tags[word])
            if word is not None:
                seen.add(word)
        feature = {k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc}
        feature["labels"] = labels
        features.append(feature)
    return features


class TokenCollator:
    """Pad a batch to its longest member; labels are padded with ``-100`` (not scored)."""

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int | None = None):
        self.pad_token_id = pad_token_id
        self.multiple = pad_to_multiple_of

    def __call__(self, features: list[dict]) -> dict:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        if self.multiple:
            length = -(-length // self.multiple) * self.multiple
        batch = {}
        for key, pad in (("input_ids", self.pad_token_id), ("token_type_ids", 0), ("attention_mask", 0),
                         ("labels", IGNORE)):
            if key in features[0]:
                batch[key] = torch.tensor([list(f[key]) + [pad] * (length - len(f[key])) for f in features],
                                          dtype=torch.long)
        return batch
