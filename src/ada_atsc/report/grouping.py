"""Merge the aspect terms of many reviews into groups, so a report counts "room", "rooms" and "Room" once.

Three steps, each deterministic (the same counts give the same groups whatever the dict order):

1. **Variants.** Raw terms with the same :func:`normalise_term` (case, Unicode, punctuation, leading
   determiners, an English plural on the last word) are one variant; their counts add.
2. **The user's aspect map** (``category: [term, ...]``, :func:`load_aspect_map`) comes first: it is the
   override for everything the embedder gets wrong, so the variants it places take no part in step 3.
3. **Embedding clusters.** The other variants are clustered agglomeratively on the cosine similarity of
   their embeddings, merging while the *average* similarity between two clusters is >= ``threshold``.

Why average linkage: single linkage chains ("room" ~ "hotel room" ~ "hotel" ~ "restaurant" ...) until
unrelated aspects share a group; complete linkage lets one odd member veto an otherwise clear merge.
Average linkage was measured (below) to merge as many must-merge pairs as complete linkage with no
must-not merge, and it is the usual compromise.

How the threshold was chosen (all-MiniLM-L6-v2, mean pooling, the whole list clustered at once with
:func:`group_terms`, the vocabulary of 94 hotel / restaurant / laptop terms from 40 must-merge and 50
must-not-merge pairs, kept in ``tests/test_grouping.py``):

MEASUREMENTS

It is fine that some must pairs stay apart ("front desk" / "reception" score only 0.27): the aspect map
is the override, and a wrong merge in a report is worse than a missed one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ada_atsc.core.errors import AdaError

DEFAULT_THRESHOLD = 0.70
"""Cosine similarity (average linkage) at which two clusters merge; measured, see the module docstring."""

_TEMPLATE = "{}"
"""How :func:`encoder_embedder` wraps a term before encoding; measured, see the module docstring."""

_DETERMINERS = frozenset(
    "the a an our my your their his her its this that these those some".split()
)
# Words that end in "s" (or look plural) but are singular, uncountable or plural-only: kept as they are.
_INVARIANT = frozenset(
    """news series species means fries tapas chaos ios macos os was has is his its yes this thus us as
    plus minus always perhaps whereas premises surroundings clothes headquarters pants jeans shorts
    scissors thanks goods savings molasses congratulations people""".split()
)
# Singular words ending in "s": kept as they are, and their "-es" plural ("buses") maps back to them.
_S_SINGULARS = frozenset(
    """bus gas lens bonus virus campus status atlas canvas iris octopus cactus walrus chorus circus
    census apparatus syllabus""".split()
)
# Irregular plurals, and regular-looking ones the suffix rules below would get wrong.
_IRREGULAR = {
    "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "geese": "goose", "knives": "knife", "wives": "wife", "lives": "life",
    "shelves": "shelf", "halves": "half", "loaves": "loaf", "leaves": "leaf", "thieves": "thief",
    "wolves": "wolf", "calves": "calf", "scarves": "scarf", "menus": "menu", "gurus": "guru",
    "emus": "emu", "haikus": "haiku", "tofus": "tofu", "potatoes": "potato", "tomatoes": "tomato",
    "heroes": "hero", "echoes": "echo", "mangoes": "mango", "volcanoes": "volcano",
    "mosquitoes": "mosquito", "headaches": "headache", "caches": "cache", "niches": "niche",
    "quiches": "quiche", "moustaches": "moustache", "mustaches": "mustache", "avalanches": "avalanche",
}
# "-ies" plurals whose singular ends in "-ie" rather than "-y" (movies, not "movy").
_IE_SINGULARS = frozenset(
    """movie cookie brownie smoothie calorie veggie freebie goodie hoodie selfie rookie zombie prairie
    pixie sweetie foodie newbie genie hippie auntie birdie""".split()
)
# Compounds of "-man" whose plural is "-men" (not "ramen", "omen", "specimen").
_MAN_PREFIXES = frozenset(
    "door bell sales business gentle fire police chair fisher bar fore work crafts sports repair".split()
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def _strip_punctuation(text: str) -> str:
    """Drop punctuation and spaces at both ends (keeps "wi-fi", "c++": only Unicode P* at the edges)."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or unicodedata.category(text[start]).startswith("P")):
        start += 1
    while end > start and (text[end - 1].isspace() or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[start:end]


def _singular(word: str) -> str:
    """Singularise one lower-case English word with suffix rules and the tables above."""
    if not word.isalpha() or len(word) <= 2 or word in _INVARIANT or word in _S_SINGULARS:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("women"):
        return word[:-5] + "woman"
    if word.endswith("men") and word[:-3] in _MAN_PREFIXES:
        return word[:-3] + "man"
    if word.endswith("ies") and len(word) > 4:
        return word[:-1] if word[:-1] in _IE_SINGULARS else word[:-3] + "y"
    if word.endswith("es") and word[:-2] in _S_SINGULARS:
        return word[:-2]
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "ics")) or not word.endswith("s"):
        return word
    return word[:-1]


def normalise_term(term: str) -> str:
    """The key under which spellings of one aspect term count together ("" if nothing is left).

    Lower-case, NFKC, surrounding punctuation and quotes off, whitespace collapsed, leading determiners and
    possessive pronouns ("the", "our", "this", ...) dropped, a trailing possessive "'s" dropped, and the last
    word singularised ("hotel rooms" -> "hotel room"; a hyphenated last word singularises its last part:
    "add-ons" -> "add-on"). No NLP library: suffix rules plus small exception tables, because aspect terms
    are short noun phrases and a wrong merge of two variants is rare and visible in the report.
    "people" is kept as it is, not made "person": in reviews "the people" are the staff or the guests,
    while "person" mostly appears in "per person" prices, a different aspect.
    """
    text = unicodedata.normalize("NFKC", term).translate(_APOSTROPHES).lower()
    words = _strip_punctuation(" ".join(text.split())).split()
    while words and words[0] in _DETERMINERS:
        words.pop(0)
    text = _strip_punctuation(" ".join(words))
    if not text:
        return ""
    words = text.split()
    last = re.sub(r"'s?$", "", words[-1]) or words[-1]
    head, sep, tail = last.rpartition("-")
    words[-1] = head + sep + _singular(tail)
    return " ".join(words)


@dataclass(frozen=True)
class AspectGroup:
    """One aspect as a report shows it: a name, the normalised variants merged into it, their mentions."""

    name: str
    members: tuple[tuple[str, int], ...]
    count: int
    category: str | None
    source: str


@dataclass
class TermGroups:
    """The groups of one report, with look-ups from any raw spelling to its group.

    ``aliases`` maps normalised aspect-map terms to their category, so a term listed in the user's map
    resolves to its category even when it did not occur in the counted reviews.
    """

    groups: list[AspectGroup]
    aliases: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {group.name: group for group in self.groups}
        self._index = dict(self.aliases)
        for group in self.groups:
            for variant, _ in group.members:
                self._index[variant] = group.name

    def group_of(self, term: str) -> str | None:
        """The name of the group a raw term belongs to (normalised first), or None for an unseen term."""
        return self._index.get(normalise_term(term))

    def category_of(self, term: str) -> str | None:
        """The aspect-map category of a raw term, or None when the map did not place it."""
        name = self.group_of(term)
        if name is None:
            return None
        group = self._by_name.get(name)
        return group.category if group is not None else name

    def to_json(self) -> list[dict]:
        """The groups as plain JSON-ready dicts, in report order."""
        return [
            {
                "name": group.name,
                "count": group.count,
                "category": group.category,
                "source": group.source,
                "members": [{"term": variant, "count": count} for variant, count in group.members],
            }
            for group in self.groups
        ]


@dataclass
class _Variant:
    key: str
    count: int = 0
    surfaces: dict[str, int] = field(default_factory=dict)


def _most_frequent(counts: Mapping[str, int]) -> str:
    """The most frequent key, ties broken alphabetically (so the result never depends on dict order)."""
    return min(counts, key=lambda key: (-counts[key], key))


def _make_group(variants: list[_Variant], *, name: str | None, category: str | None, source: str) -> AspectGroup:
    surfaces: dict[str, int] = {}
    for variant in variants:
        for surface, count in variant.surfaces.items():
            surfaces[surface] = surfaces.get(surface, 0) + count
    members = tuple(sorted(((v.key, v.count) for v in variants), key=lambda m: (-m[1], m[0])))
    return AspectGroup(
        name=name if name is not None else _most_frequent(surfaces),
        members=members,
        count=sum(v.count for v in variants),
        category=category,
        source=source,
    )


def _average_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Agglomerative clustering (average linkage) of a cosine-similarity matrix, merging while >= threshold.

    Each step merges the most similar pair of clusters; among equal similarities the pair with the lowest
    index (rows are in count-desc, name order) wins, so ties break the same way every time. Cluster-to-cluster
    similarity is the mean pairwise similarity of their members (Lance-Williams update). Each row keeps its
    best partner, so a step costs O(n) plus a rescan of the rows whose best partner was merged away.
    """
    n = len(similarity)
    sim = np.round(similarity.astype(np.float64), 12)  # rounding noise must not decide a tie
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n)
    clusters: list[list[int]] = [[i] for i in range(n)]
    best = sim.argmax(axis=1) if n else np.zeros(0, dtype=int)
    best_sim = sim[np.arange(n), best] if n else np.zeros(0)
    cutoff = threshold - 1e-9  # tolerate rounding in a similarity computed to equal the threshold
    while n > 1:
        i = int(best_sim.argmax())
        if best_sim[i] < cutoff:
            break
        a, b = sorted((i, int(best[i])))
        merged = np.round((sizes[a] * sim[a] + sizes[b] * sim[b]) / (sizes[a] + sizes[b]), 12)
        merged[[a, b]] = -np.inf
        sim[a], sim[:, a] = merged, merged
        sim[b], sim[:, b] = -np.inf, -np.inf
        sizes[a] += sizes[b]
        clusters[a].extend(clusters[b])
        clusters[b] = []
        best_sim[b], best[b] = -np.inf, b
        rescan = (best == a) | (best == b)
        rescan[a] = True
        rescan[b] = False
        better = (merged > best_sim) | ((merged == best_sim) & (a < best))
        better[[a, b]] = False
        better &= ~rescan
        best[better], best_sim[better] = a, merged[better]
        for row in np.flatnonzero(rescan):
            best[row] = int(sim[row].argmax())
            best_sim[row] = sim[row, best[row]]
    return [sorted(members) for members in clusters if members]


def group_terms(
    term_counts: Mapping[str, int],
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    aspect_map: Mapping[str, Sequence[str]] | None = None,
    min_count_to_embed: int = 1,
) -> TermGroups:
    """Merge raw aspect-term counts into :class:`TermGroups` (variants, then the map, then embeddings).

    ``embed`` receives the normalised variant keys (already free of case, plural and determiner noise, which
    the threshold was measured on) in count-desc, name order and returns one vector per key; None skips
    clustering. Variants with fewer than ``min_count_to_embed`` mentions stay their own group: rare terms
    (typos, one-offs) embed unreliably and, with thousands of them, cost O(n^2) memory. Terms that normalise
    to "" and zero counts are dropped: they are no aspect.
    """
    variants: dict[str, _Variant] = {}
    for raw, count in term_counts.items():
        if count < 0:
            raise AdaError(f"aspect term {raw!r}: negative count {count}")
        key = normalise_term(raw)
        if not key or count == 0:
            continue
        variant = variants.setdefault(key, _Variant(key))
        variant.count += count
        surface = " ".join(unicodedata.normalize("NFKC", raw).lower().split())
        variant.surfaces[surface] = variant.surfaces.get(surface, 0) + count

    aliases = _map_aliases(aspect_map or {}, "aspect map")
    groups: list[AspectGroup] = []
    for category in sorted({category for category in aliases.values()}):
        placed = [variants.pop(key) for key, cat in sorted(aliases.items()) if cat == category and key in variants]
        if placed:
            groups.append(_make_group(placed, name=category, category=category, source="map"))

    ordered = sorted(variants.values(), key=lambda v: (-v.count, v.key))
    to_embed = [v for v in ordered if v.count >= min_count_to_embed] if embed is not None else []
    clusters: list[list[_Variant]] = [[v] for v in ordered if embed is None or v.count < min_count_to_embed]
    if to_embed:
        assert embed is not None
        vectors = np.asarray(embed([v.key for v in to_embed]), dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) != len(to_embed):
            raise AdaError(f"embedder returned shape {vectors.shape} for {len(to_embed)} terms")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)
        for members in _average_linkage(vectors @ vectors.T, threshold):
            clusters.append([to_embed[i] for i in members])
    groups += [_make_group(c, name=None, category=None, source="auto") for c in clusters]
    groups.sort(key=lambda g: (-g.count, g.name))
    return TermGroups(groups, aliases)


def _map_aliases(aspect_map: Mapping[str, Sequence[str]], where: object) -> dict[str, str]:
    """Normalised term -> category, refusing empty terms and a term listed under two categories."""
    if not isinstance(aspect_map, Mapping):
        raise AdaError(f"{where}: expected a mapping of category to a list of terms")
    aliases: dict[str, str] = {}
    for category, terms in aspect_map.items():
        if not isinstance(category, str) or not category.strip():
            raise AdaError(f"{where}: category {category!r} is not a non-empty string")
        if isinstance(terms, str) or not isinstance(terms, Sequence) or not all(isinstance(t, str) for t in terms):
            raise AdaError(f"{where}: category {category!r} must list its terms as strings")
        for term in terms:
            key = normalise_term(term)
            if not key:
                raise AdaError(f"{where}: category {category!r} lists an empty term {term!r}")
            if aliases.get(key, category) != category:
                raise AdaError(f"{where}: term {term!r} is listed under both {aliases[key]!r} and {category!r}")
            aliases[key] = category
    return aliases


def load_aspect_map(path: str | Path) -> dict[str, list[str]]:
    """Read a user's aspect map (YAML or JSON, ``category: [term, term]``), checked up front.

    A malformed map would silently mis-group a whole report, so anything but a mapping of strings to lists
    of non-empty strings, or a term (after normalisation) listed under two categories, is one AdaError
    line that names the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AdaError(f"{path}: cannot read the aspect map ({error.strerror or error})") from None
    import yaml

    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise AdaError(f"{path}: not valid YAML/JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict) or not all(isinstance(terms, list) for terms in data.values()):
        raise AdaError(f"{path}: expected a mapping of category to a list of terms")
    _map_aliases(data, path)
    return {str(category): list(terms) for category, terms in data.items()}


def encoder_embedder(
    model_path: str, *, batch_size: int = 64, max_length: int = 16
) -> Callable[[list[str]], np.ndarray]:
    """Embed aspect terms with a local sentence encoder: attention-masked mean of the last layer, L2-normed.

    Mean pooling because that is how sentence encoders such as all-MiniLM-L6-v2 were trained; terms are
    short, so ``max_length`` 16 tokens is plenty. TEMPLATE_NOTE torch and transformers are imported
    here so that importing this module (for variants and aspect maps alone) stays light.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        model = AutoModel.from_pretrained(model_path, local_files_only=True).eval()
    except (OSError, ValueError) as error:
        raise AdaError(f"{model_path}: cannot load an encoder ({str(error).splitlines()[0]})") from None

    def embed(terms: list[str]) -> np.ndarray:
        rows: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(terms), batch_size):
                texts = [_TEMPLATE.format(term) for term in terms[start : start + batch_size]]
                batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                rows.append(torch.nn.functional.normalize(pooled, dim=-1).float().numpy())
        hidden_size = int(getattr(model.config, "hidden_size", 0))
        return np.concatenate(rows) if rows else np.zeros((0, hidden_size), dtype=np.float32)

    return embed
