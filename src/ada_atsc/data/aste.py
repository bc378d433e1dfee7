"""Aspect sentiment triplets (ASTE-Data-V2, Xu et al. EMNLP 2020): a reader to the project's sentence records.

A line of ``{train,dev,test}_triplets.txt`` is a sentence tokenised with spaces, ``####``, and a Python-literal
list of triplets ``([aspect word indices], [opinion word indices], 'POS' | 'NEG' | 'NEU')``; an index list is one
index, the first and the last of a span, or every index of it (the files use all three). The list is parsed with :func:`ast.literal_eval` (a literal, never
code) and checked: indices in range, a known polarity. The sentence is the tokens joined by single spaces, so
character offsets are exact into it; each aspect span becomes an :class:`~.records.AspectSpan` with its polarity
and its opinion spans (an aspect that several triplets share gets all their opinions, in order).
"""

from __future__ import annotations

import ast
from pathlib import Path

from ..core.errors import AdaError
from .records import AspectSpan, OpinionSpan, SentenceRecord

POLARITY = {"POS": "positive", "NEG": "negative", "NEU": "neutral"}


def _span(indices: object, offsets: list[tuple[int, int]], where: str, what: str) -> tuple[int, int]:
    if not isinstance(indices, list) or not indices or not all(type(i) is int for i in indices):
        raise AdaError(f"{where}: the {what} indices must be a non-empty list of integers, got {indices!r}")
    first, last = indices[0], indices[-1]
    if len(indices) > 2 and indices != list(range(first, last + 1)):
        raise AdaError(f"{where}: the {what} indices {indices} are not one span of consecutive words")
    if not 0 <= first <= last < len(offsets):
        raise AdaError(f"{where}: {what} indices {indices} are outside the sentence's {len(offsets)} words")
    return offsets[first][0], offsets[last][1]


def parse_aste_line(line: str, where: str, ident: str) -> SentenceRecord:
    """One ASTE-V2 line as a sentence record; one clear line naming ``where`` for anything malformed."""
    if "####" not in line:
        raise AdaError(f"{where}: no '####' between the sentence and its triplets")
    text, _, literal = line.rstrip("\n").rpartition("####")
    tokens = text.split()
    if not tokens:
        raise AdaError(f"{where}: empty sentence")
    offsets, at = [], 0
    for token in tokens:
        offsets.append((at, at + len(token)))
        at += len(token) + 1
    sentence = " ".join(tokens)
    try:
        triplets = ast.literal_eval(literal.strip())
    except (ValueError, SyntaxError) as exc:
        raise AdaError(f"{where}: the triplets are not a Python literal ({type(exc).__name__})") from None
    if not isinstance(triplets, list):
        raise AdaError(f"{where}: the triplets must be a list")
    aspects: dict[tuple[int, int, str], list[OpinionSpan]] = {}
    for k, triplet in enumerate(triplets):
        spot = f"{where}, triplet {k + 1}"
        if not isinstance(triplet, tuple) or len(triplet) != 3:
            raise AdaError(f"{spot}: expected (aspect indices, opinion indices, polarity)")
        a_start, a_end = _span(triplet[0], offsets, spot, "aspect")
        o_start, o_end = _span(triplet[1], offsets, spot, "opinion")
        if triplet[2] not in POLARITY:
            raise AdaError(f"{spot}: polarity {triplet[2]!r} is not one of {', '.join(POLARITY)}")
        opinions = aspects.setdefault((a_start, a_end, POLARITY[triplet[2]]), [])
        opinion = OpinionSpan(sentence[o_start:o_end], o_start, o_end)
        if opinion not in opinions:
            opinions.append(opinion)
    return SentenceRecord(ident, sentence, tuple(
        AspectSpan(sentence[a:b], a, b, polarity, tuple(opinions))
        for (a, b, polarity), opinions in sorted(aspects.items(), key=lambda kv: kv[0][:2])))


def read_aste(path: str | Path) -> list[SentenceRecord]:
    """Every sentence of an ASTE-V2 file (ids ``<file stem>:<line>``)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise AdaError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise AdaError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    return [parse_aste_line(line, f"{path}, line {number}", f"{path.stem}:{number}")
            for number, line in enumerate(lines, 1) if line.strip()]
