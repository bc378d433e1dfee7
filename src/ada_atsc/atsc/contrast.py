"""Contrast variants: a sentence plus a clause about *another* aspect with the *opposite* polarity.

The one construction behind the robustness probe (``ada-atsc probe``, built from a test set) and contrast
augmentation (``train --contrast_augmentation``, built from the training split only, never dev or test).
It needs no outside resource: the clauses are other sentences of the same labeled set.

Recipe, per item (sentence S, aspect A, polarity p):

1. **Clause pool** (:func:`clause_pool`): the set's sentences whose aspects all carry one polarity, positive
   or negative, with at most ``max_clause_words`` words; the final ``.``/``!``/``?`` is cut.
2. **Opposite polarity**: positive -> negative, negative -> positive; a neutral item gets a positive clause
   in one variant and a negative one in the next.
3. **Pick** (seeded) a clause of that polarity from another sentence that does not name A.
4. **Join** as a person writes (:data:`APPEND_JOINS`, :data:`PREPEND_JOINS`), alternating between after S
   (``S, but c.``) and before it (``Although c, s``); A keeps its term, its span is shifted, its gold label
   is unchanged: the added clause is about something else.

Limits (documented in docs/robustness.md): the clause is a whole other sentence, so the variant is longer
and sometimes awkward; a clause may still mention A by a synonym ("meal" for "food") or carry a weaker
opinion than its label says; the gold label of A assumes the added clause does not change what is said
about A, which holds for almost all pairs but is not checked by a person.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..data.records import AspectExample

OPPOSITE = {"positive": ("negative",), "negative": ("positive",), "neutral": ("positive", "negative")}
APPEND_JOINS = (", but {c}", "; however, {c}", ", while {c}", ", although {c}")
"""Clause after the sentence: ``{c}`` is the clause, first letter lower-cased."""
PREPEND_JOINS = ("{C}, but ", "Although {c}, ", "{C}; however, ", "While {c}, ")
"""Clause before the sentence (whose first letter is lower-cased where that is safe)."""
_END = re.compile(r"[\s.!?]+$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Clause:
    """A sentence of one polarity, ready to be joined to another sentence."""

    text: str
    polarity: str
    sentence: str
    terms: tuple[str, ...]


def clause_pool(examples: Sequence[AspectExample], max_clause_words: int = 20) -> dict[str, list[Clause]]:
    """Clauses by polarity from the sentences of ``examples`` whose aspects are all positive or all negative."""
    by_sentence: dict[str, list[AspectExample]] = {}
    for ex in examples:
        by_sentence.setdefault(ex.sentence, []).append(ex)
    pool: dict[str, list[Clause]] = {"positive": [], "negative": []}
    for sentence, items in by_sentence.items():
        polarities = {ex.polarity for ex in items}
        if len(polarities) != 1 or next(iter(polarities)) not in pool:
            continue
        text = _END.sub("", sentence.strip())
        if not text or "\n" in text or len(_WORD.findall(text)) > max_clause_words:
            continue
        pool[items[0].polarity].append(Clause(text, items[0].polarity, sentence,
                                              tuple(sorted({ex.aspect.lower() for ex in items}))))
    return pool


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is "I", an acronym or otherwise not a plain word."""
    first = text.split(maxsplit=1)[0] if text.split() else ""
    if not first or first == "I" or first.startswith(("I'", "I’")) or not first[0].isupper():
        return text
    letters = [c for c in first if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return text  # an acronym (BBQ, NYC)
    return text[0].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def _names_aspect(clause: Clause, aspect: str) -> bool:
    aspect = aspect.lower()
    return aspect in clause.text.lower() or any(aspect in term or term in aspect for term in clause.terms)


def _pick_clause(pool: list[Clause], example: AspectExample, rng: random.Random, tries: int = 20) -> Clause | None:
    for _ in range(min(tries, len(pool))):
        clause = pool[int(rng.random() * len(pool))]
        if clause.sentence != example.sentence and not _names_aspect(clause, example.aspect):
            return clause
    return None


def join_after(example: AspectExample, clause: Clause, template: str) -> AspectExample | None:
    """``S, but c.``: the aspect keeps its offsets (None if the aspect runs into the final punctuation)."""
    sentence = example.sentence.rstrip()
    core = _END.sub("", sentence)
    if example.end > len(core):
        return None
    ending = sentence[len(core):].strip() or "."
    text = core + template.format(c=_lower_first(clause.text), C=_upper_first(clause.text)) + ending[-1]
    return AspectExample(example.id, text, example.aspect, example.start, example.end, example.polarity)


def join_before(example: AspectExample, clause: Clause, template: str) -> AspectExample:
    """``Although c, s``: the aspect's span moves by the prefix; its term is kept exactly."""
    prefix = template.format(c=_lower_first(clause.text), C=_upper_first(clause.text))
    body = example.sentence.lstrip()
    cut = len(example.sentence) - len(body)
    # the aspect opening the sentence keeps its spelling ("Food" stays the term it is)
    opened = body if example.start == cut else _lower_first(body)
    text = prefix + opened
    start, end = example.start - cut + len(prefix), example.end - cut + len(prefix)
    return AspectExample(example.id, text, example.aspect, start, end, example.polarity)


def contrast_variants(example: AspectExample, pool: dict[str, list[Clause]], rng: random.Random,
                      count: int = 2) -> list[AspectExample]:
    """Up to ``count`` variants of ``example`` (ids ``<id>~c<k>``), alternating after/before the sentence."""
    if example.polarity not in OPPOSITE:
        return []
    variants = []
    for k in range(count):
        polarity = OPPOSITE[example.polarity][k % len(OPPOSITE[example.polarity])]
        clause = _pick_clause(pool.get(polarity, []), example, rng)
        if clause is None:
            continue
        variant = None
        if k % 2 == 0:
            variant = join_after(example, clause, APPEND_JOINS[int(rng.random() * len(APPEND_JOINS))])
        if variant is None:
            variant = join_before(example, clause, PREPEND_JOINS[int(rng.random() * len(PREPEND_JOINS))])
        variants.append(AspectExample(f"{example.id}~c{k}", variant.sentence, variant.aspect, variant.start,
                                      variant.end, variant.polarity))
    return variants


def build_probe(examples: Sequence[AspectExample], *, seed: int = 42, variants: int = 2,
                max_clause_words: int = 20) -> list[tuple[AspectExample, list[AspectExample]]]:
    """Every labeled item of a test set with its contrast variants (same seed, same probe)."""
    rng = random.Random(seed)
    pool = clause_pool(examples, max_clause_words)
    return [(ex, contrast_variants(ex, pool, rng, variants)) for ex in examples]


def augment_with_contrast(train: Sequence[AspectExample], rate: float, *, seed: int = 42,
                          max_clause_words: int = 20) -> list[AspectExample]:
    """``train`` plus, for a ``rate`` share of its items (seeded), one contrast variant built from ``train``."""
    if rate <= 0:
        return list(train)
    rng = random.Random(seed)
    pool = clause_pool(train, max_clause_words)
    added = []
    for ex in train:
        if rng.random() < rate:
            k = int(rng.random() * 2)  # after or before the sentence
            variants = contrast_variants(ex, pool, rng, count=k + 1)
            if variants:
                added.append(variants[-1])
    return list(train) + added
