"""Pairs to model inputs, and batches padded to their longest member.

This module owns the classifier's **input format** (:class:`InputFormat`), the one place that decides how a
(sentence, aspect span) pair becomes token ids:

* the paper's layout, ``[CLS] sentence [SEP] aspect [SEP]``: the aspect term as the second segment only;
* with ``aspect_markers``, the target span is also marked *in the sentence*,
  ``[CLS] The [ASP]food[/ASP] was great but ... [SEP] food [SEP]``, so that a sentence naming two aspects
  gives the model two different inputs (without markers, "food" in "food and service" is only a word that
  appears twice); the markers are added to the tokenizer as special tokens and saved with it;
* with ``aspect_pooling``, each feature also carries ``aspect_mask``, the sentence tokens of the target span,
  for a head that reads the aspect's own token states (:mod:`.modeling`).

The format is saved in the model's ``config.json`` (:data:`CONFIG_KEY`), so ``Predictor``, ``evaluate`` and
the server apply it without being told.

The fast tokenizer's pair encoding puts ``[CLS]`` and the sentence in segment 0 and the aspect in segment 1
(the 2019 code put ``[CLS]`` in segment 1, a bug fixed upstream that we do not copy). Padding happens per
batch, not to ``--max_seq_length``, which only truncates: restaurant pairs average ~30 tokens, so padding
every batch to 128 (the 2019 recipe) spends most of the compute on pad tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..core.errors import AdaError
from ..core.labels import ID2LABEL, LABEL2ID  # noqa: F401  (re-exported: the model config's label maps)
from ..data.records import AspectExample
from ..runtime.batching import PairCollator  # noqa: F401  (re-exported: batches of pair features)
from ..runtime.model_dir import PROJECT_CONFIG_PREFIX

ASPECT_START, ASPECT_END = "[ASP]", "[/ASP]"
"""The marker tokens put around the target span when ``aspect_markers`` is on."""

CONFIG_KEY = PROJECT_CONFIG_PREFIX + "input_format"
"""The ``config.json`` key holding a saved classifier's :class:`InputFormat`."""


@dataclass(frozen=True)
class InputFormat:
    """How a classifier sees a (sentence, aspect) pair; recorded in the saved model's config."""

    aspect_markers: bool = False
    aspect_pooling: bool = False

    def to_config(self) -> dict:
        return {"layout": "sentence_aspect_pair", **asdict(self),
                "markers": [ASPECT_START, ASPECT_END] if self.aspect_markers else []}

    @classmethod
    def from_config(cls, config) -> InputFormat:
        """The format saved in a model config (a classifier without one was trained with the paper's)."""
        saved = getattr(config, CONFIG_KEY, None) or {}
        return cls(aspect_markers=bool(saved.get("aspect_markers", False)),
                   aspect_pooling=bool(saved.get("aspect_pooling", False)))

    def describe(self) -> str:
        parts = ["sentence-aspect pair in the tokenizer's layout (BERT: [CLS] sentence [SEP] aspect [SEP])"]
        if self.aspect_markers:
            parts.append(f"target marked {ASPECT_START}..{ASPECT_END}")
        if self.aspect_pooling:
            parts.append("head reads [CLS] + pooled aspect tokens")
        return ", ".join(parts)


PAPER_FORMAT = InputFormat()
"""The 2019 recipe: no markers, a head on ``[CLS]`` only."""

ROBUST_FORMAT = InputFormat(aspect_markers=True, aspect_pooling=False)
"""The default of ``ada-atsc train`` (measured in docs/robustness.md)."""


def add_marker_tokens(tokenizer) -> int:
    """Add the aspect markers to ``tokenizer`` as special tokens; returns how many were new."""
    from tokenizers import AddedToken

    markers = [AddedToken(m, normalized=False, special=True) for m in (ASPECT_START, ASPECT_END)]
    return tokenizer.add_tokens(markers, special_tokens=True)


def check_marker_tokens(tokenizer, source: object) -> None:
    """A marked-input model must come with a tokenizer that knows the markers as single tokens."""
    for marker in (ASPECT_START, ASPECT_END):
        ids = tokenizer.convert_tokens_to_ids([marker])
        if not ids or ids[0] == tokenizer.unk_token_id or ids[0] is None:
            raise AdaError(f"{source}: the model expects aspect markers but its tokenizer has no {marker} token")


def mark_span(sentence: str, start: int, end: int) -> tuple[str, int, int]:
    """``sentence`` with the markers around ``[start, end)``, and the span's new offsets."""
    marked = f"{sentence[:start]}{ASPECT_START}{sentence[start:end]}{ASPECT_END}{sentence[end:]}"
    return marked, start + len(ASPECT_START), end + len(ASPECT_START)


def encode_pairs(
    tokenizer,
    sentences: Sequence[str],
    aspects: Sequence[str],
    max_seq_length: int,
    *,
    spans: Sequence[tuple[int, int]] | None = None,
    input_format: InputFormat = PAPER_FORMAT,
) -> list[dict]:
    """Token ids (unpadded) for each (sentence, aspect) pair, truncated to ``max_seq_length``.

    ``spans`` are the aspects' character offsets in their sentences; markers and pooling need them (without
    them the first occurrence of the term is used).
    """
    if spans is None and (input_format.aspect_markers or input_format.aspect_pooling):
        spans = [_first_occurrence(s, a) for s, a in zip(sentences, aspects)]
    texts, inner = list(sentences), list(spans) if spans is not None else None
    if input_format.aspect_markers:
        marked = [mark_span(s, a, b) for s, (a, b) in zip(sentences, spans)]
        texts, inner = [m[0] for m in marked], [(m[1], m[2]) for m in marked]
    enc = tokenizer(
        texts,
        list(aspects),
        truncation="longest_first",
        max_length=max_seq_length,
        padding=False,
        return_attention_mask=True,
        return_token_type_ids=None,  # the tokenizer decides: BERT yes, RoBERTa or DistilBERT no
        return_offsets_mapping=input_format.aspect_pooling,
    )
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
    features = [{k: enc[k][i] for k in keys} for i in range(len(texts))]
    if input_format.aspect_pooling:
        for i, feature in enumerate(features):
            feature["aspect_mask"] = _span_mask(enc.sequence_ids(i), enc["offset_mapping"][i], *inner[i])
    return features


def find_term(sentence: str, term: str) -> int:
    """Start of the first occurrence of ``term`` (case-sensitive, else case-insensitive); -1 if absent."""
    start = sentence.find(term)
    return start if start >= 0 else sentence.lower().find(term.lower())


def _first_occurrence(sentence: str, aspect: str) -> tuple[int, int]:
    start = find_term(sentence, aspect)
    if start < 0:
        raise AdaError(f"aspect {aspect!r} is not in the sentence {sentence[:60]!r}")
    return start, start + len(aspect)


def _span_mask(sequence_ids: list, offsets: list, start: int, end: int) -> list[int]:
    """1 for the sentence tokens that overlap ``[start, end)``; the whole aspect segment if truncation cut
    the span out of the sentence (so the head always has something to pool)."""
    mask = [int(seq == 0 and a < end and b > start and b > a) for seq, (a, b) in zip(sequence_ids, offsets)]
    if not any(mask):
        mask = [int(seq == 1) for seq in sequence_ids]
    return mask


def encode_examples(tokenizer, examples: Sequence[AspectExample], max_seq_length: int,
                    input_format: InputFormat = PAPER_FORMAT) -> list[dict]:
    """Features with a ``labels`` id for every labeled example (unlabeled ones carry no label)."""
    features = encode_pairs(tokenizer, [e.sentence for e in examples], [e.aspect for e in examples], max_seq_length,
                            spans=[(e.start, e.end) for e in examples], input_format=input_format)
    for feature, example in zip(features, examples):
        if example.polarity is not None:
            feature["labels"] = LABEL2ID[example.polarity]
    return features
