"""Sentences of review text, split with BlingFire (offline, rule-and-automaton based; why BlingFire:
:mod:`ada_atsc.corpus`), and the cleaning applied before splitting.

Shared by corpus preparation (one sentence per line) and by every analyser of raw text (extraction, the
pipeline), which needs the offsets so that what it finds in a sentence can be placed in the original text.
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
WHITESPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Drop zero-width and control characters, collapse whitespace (newlines included) to single spaces."""
    text = text.translate(_ZERO_WIDTH)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return WHITESPACE.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Clean ``text`` and split it into non-empty sentences with BlingFire."""
    import blingfire

    text = clean_text(text)
    if not text:
        return []
    return [s for s in (clean_text(s) for s in blingfire.text_to_sentences(text).split("\n")) if s]


def sentence_offsets(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (BlingFire), as offsets into ``text`` itself, so that
    whatever is found in a sentence can be placed in the original text.

    BlingFire's own offsets function maps UTF-8 byte offsets back to characters in a Python loop over every
    byte, a quarter of a millisecond for a hotel review, paid again by every pass of a report. So the sentences
    are split by its C function alone and found in ``text`` in order; when it changed a sentence's characters
    (whitespace inside a sentence, for instance) and one cannot be found verbatim, the offsets function is used
    after all. Both give the same spans wherever the fast path applies (checked on 20,000 reviews)."""
    import blingfire

    if not text.strip():
        return []
    spans, at = [], 0
    for sentence in blingfire.text_to_sentences(text).split("\n"):
        if not sentence.strip():
            continue
        start = text.find(sentence, at)
        if start < 0:
            break
        spans.append((start, start + len(sentence)))
        at = start + len(sentence)
    else:
        if spans:
            return spans
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    return [(a, b) for a, b in offsets if text[a:b].strip()]
