"""Sentences to (sentence, category) pair features: every sentence is asked about every category of the schema.

The pairs are laid out sentence-major (sentence 0 × every category, sentence 1 × every category ...), so a
flat array of pair outputs reshapes to ``(sentences, categories, labels)``: the metrics and the predictions
rely on that order.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..data.records import CategorySentence
from .schema import CategorySchema, auxiliary_text


def encode_category_pairs(tokenizer, sentences: Sequence[str], schema: CategorySchema, max_seq_length: int) -> list[dict]:
    """Token ids (unpadded) of every (sentence, category) pair, sentence-major."""
    questions = [auxiliary_text(c) for c in schema.categories]
    firsts = [s for s in sentences for _ in questions]
    seconds = questions * len(sentences)
    if not firsts:
        return []
    enc = tokenizer(firsts, seconds, truncation="only_first", max_length=max_seq_length, padding=False,
                    return_attention_mask=True, return_token_type_ids=None)
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
    return [{k: enc[k][i] for k in keys} for i in range(len(firsts))]


def encode_category_sentences(tokenizer, sentences: Sequence[CategorySentence], schema: CategorySchema,
                              max_seq_length: int) -> list[dict]:
    """Pair features with their class ids (``none`` for the categories a sentence does not mention)."""
    features = encode_category_pairs(tokenizer, [s.sentence for s in sentences], schema, max_seq_length)
    labels = [schema.label_id(s.polarity_of(c)) for s in sentences for c in schema.categories]
    for feature, label in zip(features, labels):
        feature["labels"] = label
    return features


def gold_matrix(sentences: Sequence[CategorySentence], schema: CategorySchema) -> list[list[int]]:
    """Class ids, one row per sentence, one column per category."""
    return [[schema.label_id(s.polarity_of(c)) for c in schema.categories] for s in sentences]
