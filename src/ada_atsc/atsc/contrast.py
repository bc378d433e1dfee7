"""Contrast variants: a sentence plus a clause about *another* aspect with the *opposite* polarity.

The one construction behind the robustness probe (``ada-atsc probe``, built from a test set) and contrast
augmentation (``train --contrast_augmentation``, built from the training split only, never dev or test).
It needs no outside resource: the clauses are other sentences of the same labeled set.

Recipe, per item (sentence S, aspect A, polarity p):

1. **Clause pool** (:func:`clause_pool`): the set's sentences whose aspects all carry one polarity, positive
   or negative, with at most ``max_clause_words`` words and no contrast word of their own ("but",
   "however", "although" ...: such a sentence often holds an unannotated opinion of the other polarity);
   the final ``.``/``!``/``?`` is cut.
2. **Opposite polarity**: positive -> negative, negative -> positive; a neutral item gets a positive clause
   in one variant and a negative one in the next.
3. **Pick** (seeded) a clause of that polarity from another sentence that does not name A.
4. **Join** as a person writes (:data:`APPEND_JOINS`, :data:`PREPEND_JOINS`), alternating between after S
   (``S, but c.``) and before it (``C; however, s``); A keeps its term, its span is shifted, its gold label
   is unchanged: the added clause is about something else. A sentence's first word is lower-cased only when
   the same set uses that word in lower case inside sentences (so "Emilio" and "BBQ" keep their capitals).

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
APPEND_JOINS = (", but {c}", "; however, {c}")
"""Clause after the sentence: ``{c}`` is the clause, first letter lower-cased where that is safe."""
PREPEND_JOINS = ("{C}, but ", "{C}; however, ")
"""Clause before the sentence (whose first letter is lower-cased where that is safe)."""
CONTRAST_WORDS = frozenset("but however although though while whereas yet except despite".split())
"""A sentence with one of these is not used as a clause (it likely holds an opinion of each polarity)."""
FRAGMENT_OPENERS = frozenset("and or so because since as if when then also plus which who".split())
"""A sentence opening with one of these is a fragment that does not stand as a joined clause."""
_END = re.compile(r"[\s.!?]+$")
_WORD = re.compile(r"[\w'’]+")


@dataclass(frozen=True)
class Clause:
    """A sentence of one polarity, ready to be joined to another sentence."""

    text: str
    polarity: str
    sentence: str
    terms: tuple[str, ...]


@dataclass
class ClausePool:
    """Clauses by polarity, and the words the set writes in lower case inside sentences."""

    clauses: dict[str, list[Clause]]
    lowercase_words: frozenset[str]

    def lower_first(self, text: str) -> str:
        """``text`` with its first letter lower-cased, when the set writes that first word in lower case."""
        words = _WORD.findall(text)
        if not words or not text[0].isupper() or words[0].lower() not in self.lowercase_words:
            return text
        return text[0].lower() + text[1:]


def clause_pool(examples: Sequence[AspectExample], max_clause_words: int = 20) -> ClausePool:
    """The clauses of ``examples`` (sentences whose aspects are all positive or all negative, see above)."""
    by_sentence: dict[str, list[AspectExample]] = {}
    for ex in examples:
        by_sentence.setdefault(ex.sentence, []).append(ex)
    clauses: dict[str, list[Clause]] = {"positive": [], "negative": []}
    lowercase: set[str] = set()
    for sentence, items in by_sentence.items():
        words = _WORD.findall(sentence)
        lowercase.update(w for w in words[1:] if w.islower() and w != "i")
        polarities = {ex.polarity for ex in items}
        if len(polarities) != 1 or next(iter(polarities)) not in clauses:
            continue
        text = _END.sub("", sentence.strip())
        if (not text or "\n" in text or len(words) > max_clause_words
                or any(w.lower() in CONTRAST_WORDS for w in words) or words[0].lower() in FRAGMENT_OPENERS):
            continue
        clauses[items[0].polarity].append(Clause(text, items[0].polarity, sentence,
                                                 tuple(sorted({ex.aspect.lower() for ex in items}))))
    return ClausePool(clauses, frozenset(lowercase))


def _upper_first(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def _names_aspect(clause: Clause, aspect: str) -> bool:
    aspect = aspect.lower()
    return aspect in clause.text.lower() or any(aspect in term or term in aspect for term in clause.terms)


def _pick_clause(pool: list[Clause], example: AspectExample, rng: random.Random, tries: int = 20) -> Clause | None:
    """A random usable clause: a few random draws, then a scan from a random start (None if none is usable)."""
    if not pool:
        return None

    def usable(clause: Clause) -> bool:
        return clause.sentence != example.sentence and not _names_aspect(clause, example.aspect)

    for _ in range(tries):
        clause = pool[int(rng.random() * len(pool))]
        if usable(clause):
            return clause
    start = int(rng.random() * len(pool))
    return next((pool[(start + i) % len(pool)] for i in range(len(pool)) if usable(pool[(start + i) % len(pool)])),
                None)


def join_after(example: AspectExample, clause: Clause, template: str, pool: ClausePool) -> AspectExample | None:
    """``S, but c.``: the aspect keeps its offsets (None if the aspect runs into the final punctuation)."""
    sentence = example.sentence.rstrip()
    core = _END.sub("", sentence)
    if example.end > len(core):
        return None
    ending = sentence[len(core):].strip() or "."
    text = core + template.format(c=pool.lower_first(clause.text), C=_upper_first(clause.text)) + ending[-1]
    return AspectExample(example.id, text, example.aspect, example.start, example.end, example.polarity)


def join_before(example: AspectExample, clause: Clause, template: str, pool: ClausePool) -> AspectExample:
    """``Although c, s``: the aspect's span moves by the prefix; its term is kept exactly."""
    prefix = template.format(c=pool.lower_first(clause.text), C=_upper_first(clause.text))
    body = example.sentence.lstrip()
    cut = len(example.sentence) - len(body)
    # the aspect opening the sentence keeps its spelling ("Food" stays the term it is)
    opened = body if example.start == cut else pool.lower_first(body)
    text = prefix + opened
    start, end = example.start - cut + len(prefix), example.end - cut + len(prefix)
    return AspectExample(example.id, text, example.aspect, start, end, example.polarity)


def contrast_variants(example: AspectExample, pool: ClausePool, rng: random.Random,
                      count: int = 2) -> list[AspectExample]:
    """Up to ``count`` variants of ``example`` (ids ``<id>~c<k>``), alternating after/before the sentence."""
    if example.polarity not in OPPOSITE:
        return []
    variants = []
    for k in range(count):
        polarity = OPPOSITE[example.polarity][k % len(OPPOSITE[example.polarity])]
        clause = _pick_clause(pool.clauses.get(polarity, []), example, rng)
        if clause is None:
            continue
        variant = None
        if k % 2 == 0:
            variant = join_after(example, clause, APPEND_JOINS[int(rng.random() * len(APPEND_JOINS))], pool)
        if variant is None:
            variant = join_before(example, clause, PREPEND_JOINS[int(rng.random() * len(PREPEND_JOINS))], pool)
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
