"""Merge the aspect terms of many reviews into groups, so a report counts "room", "rooms" and "Room" once.

Three steps, each deterministic (the same counts give the same groups whatever the dict order):

1. **Variants.** Raw terms with the same :func:`normalise_term` (case, Unicode, punctuation, leading
   determiners, an English plural on the last word) are one variant; their counts add.
2. **The user's aspect map** (``category: [term, ...]``, :func:`load_aspect_map`) comes first: it is the
   override for everything the embedder gets wrong, so the variants it places take no part in step 3.
3. **Embedding clusters.** The other variants are clustered agglomeratively on the cosine similarity of
   their embeddings with *complete* linkage: two clusters merge while their *least* similar pair of members
   is still >= ``threshold``. So every two members of an auto group are >= ``threshold`` similar, and a
   pair that scores below it can never share a group, whatever else is in the vocabulary. Single linkage
   chains ("room" ~ "hotel room" ~ "hotel" ~ ...); average linkage lets a well-matched pair carry a bad one
   (measured below: it needs the same threshold for no wrong merge, without the per-pair guarantee).

Measured with all-MiniLM-L6-v2 (mean pooling) on 44 must-merge and 50 must-not-merge pairs of hotel,
restaurant and laptop aspects (112 terms, listed in ``tests/test_grouping.py``), clustering the whole list
at once with :func:`group_terms` (must merged / must-not merged):

* bare term: must-not pairs reach 0.740 ("hotel" | "hotel staff"), 0.719 (breakfast | lunch),
  0.707 ("hotel room" | "hotel staff"); complete linkage 0.72: 18/0, 0.75: 15/0, 0.80: 8/0.
* "the {term}": must pairs gain more than must-not pairs (screen | display 0.65 -> 0.82, bed | mattress
  0.69 -> 0.84, price | cost 0.74 -> 0.82) while the worst must-not pairs are "hotel" | "hotel staff"
  0.784, "hotel room" | "hotel staff" 0.768, dinner | food 0.735, restaurant | food 0.730. Complete linkage
  0.72: 21/3, 0.76: 20/2, 0.77: 20/0, 0.78: 19/0, 0.80: 18/0; average linkage 0.77: 20/3, 0.78: 19/1,
  0.80: 18/0. "the {term} ." reached 19/0 at 0.80, but its battery | charger scores 0.796 (no margin);
  "a review of the {term}", "the {term} of the place" and "{term} ." did worse (10-16 with no wrong merge).

Chosen: template "the {term}", complete linkage, threshold 0.80: 18 of 44 must pairs merge (wi-fi | wifi,
wifi | wireless internet, bathroom | restroom / toilet, bed | mattress, pool | swimming pool,
waiter | waitress, food | meal, drinks | beverages, decor | decoration, price | cost / pricing,
screen | display, hard drive | hard disk, touchpad | trackpad, operating system | os, processor | cpu,
graphics card | gpu) and none of the 50 must-not pairs; 0.80 is above every must-not pair's own
similarity (0.784 at most), so with complete linkage none of them can merge in any vocabulary, where 0.77
was clean only because "hotel" had already joined "hotel room". Missed: staff | receptionist 0.50,
front desk | reception 0.36, ambiance | atmosphere 0.26, wifi | internet 0.60, battery | battery life 0.61...
Compounds sharing a head word score high ("hotel" | "hotel room" merge). The aspect map is the override:
a wrong merge in a report misleads, a missed one only splits a count.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ada_atsc.core.errors import AdaError

DEFAULT_THRESHOLD = 0.80
"""Cosine similarity (complete linkage) at which two clusters merge; measured, see the module docstring."""

_TEMPLATE = "the {}"
"""How :func:`encoder_embedder` wraps a term before encoding; measured, see the module docstring."""

_DETERMINERS = frozenset("the a an our my your their his her its this that these those some".split())
# Words a general lemmatiser folds that review aspects keep: plural-only or uncountable in reviews ("fries",
# "premises", "surroundings"), product names ("iOS"), and words it would lemmatise as another sense ("media" ->
# "medium", "leaves" -> "leave"). The lemmatiser is not asked about these.
_INVARIANT = frozenset(
    """news series species means fries tapas chaos ios macos os was has is his its yes this thus us as
    plus minus always perhaps whereas premises surroundings clothes headquarters pants jeans shorts
    scissors thanks goods savings molasses congratulations people media data criteria graphics""".split()
)
_PREFERRED = {"leaves": "leaf"}
"""Plurals whose noun lemma in the lemmatiser's dictionary is another sense than a review's."""
_IE_SINGULARS = frozenset("veggie smoothie freebie goodie hoodie selfie foodie newbie techie cutie sweetie".split())
"""Words the dictionary does not know whose "-ies" plural comes from "-ie" (most come from "-y": "accessories")."""
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def _strip_punctuation(text: str) -> str:
    """Drop punctuation and spaces at both ends (keeps "wi-fi", "c++": only Unicode P* at the edges)."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or unicodedata.category(text[start]).startswith("P")):
        start += 1
    while end > start and (text[end - 1].isspace() or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[start:end]


@functools.lru_cache(maxsize=1 << 16)
def _singular(word: str) -> str:
    """Singularise one lower-case English word with LemmInflect's dictionary (shipped in its wheel): the first
    noun lemma of which ``word`` is a plural ("rooms" -> "room", "men" -> "man", "movies" -> "movie"); a word
    that is no such plural stays ("chili" is not folded into its variant "chile"). The project's exceptions come
    first (:data:`_INVARIANT`). For a word the dictionary does not know (product names, abbreviations, new words:
    "macbooks", "ssds", "veggies") a plain rule drops the "-s" or "-es"; the lemmatiser's own guess for unknown
    words is left out, as it makes "hdmi" "hdmus" and "veggies" "veggy"."""
    if not word.isalpha() or len(word) <= 2 or word in _INVARIANT:
        return word
    if word in _PREFERRED:
        return _PREFERRED[word]
    from lemminflect import getAllLemmas, getInflection

    lemmas = getAllLemmas(word, upos="NOUN").get("NOUN")
    if lemmas:
        for lemma in lemmas:
            if lemma != word and word in getInflection(lemma, tag="NNS"):
                return lemma
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-1] if word[:-1] in _IE_SINGULARS else word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "ics")) or not word.endswith("s"):
        return word
    return word[:-1]


@functools.lru_cache(maxsize=1 << 18)
def normalise_term(term: str) -> str:
    """The key under which spellings of one aspect term count together ("" if nothing is left).

    Lower-case, NFKC, surrounding punctuation and quotes off, whitespace collapsed, leading determiners and
    possessive pronouns ("the", "our", "this", ...) dropped, a trailing possessive "'s" dropped, and the last
    word singularised ("hotel rooms" -> "hotel room"; a hyphenated last word singularises its last part:
    "add-ons" -> "add-on") by :func:`_singular` (a dictionary lemmatiser, with the exceptions reviews need).
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
        group = self._by_name.get(name) if name is not None else None
        return group.category if group is not None else name

    def to_json(self) -> list[dict]:
        """The groups as plain JSON-ready dicts, in report order."""
        return [
            {"name": g.name, "count": g.count, "category": g.category, "source": g.source,
             "members": [{"term": variant, "count": count} for variant, count in g.members]}
            for g in self.groups
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


def _agglomerate(similarity: np.ndarray, threshold: float, linkage: str = "complete") -> list[list[int]]:
    """Agglomerative clustering of a cosine-similarity matrix, merging while the linkage is >= threshold:
    scikit-learn's :class:`~sklearn.cluster.AgglomerativeClustering` on the distance ``1 - similarity``.

    ``linkage`` "complete" (used) scores two clusters by their least similar pair, "average" (kept for the
    measurement in the module docstring) by the mean pair. Similarities are rounded to 6 digits first: float32
    embeddings carry ~7, and differences below 1e-6 are rounding noise that must not decide a merge. Clusters
    come back as sorted index lists, ordered by their first index (rows are in count-desc, name order).
    """
    n = len(similarity)
    if n < 2:
        return [[i] for i in range(n)]
    from sklearn.cluster import AgglomerativeClustering

    distance = 1.0 - np.round(similarity.astype(np.float64), 6)
    np.fill_diagonal(distance, 0.0)
    distance = np.maximum(distance, 0.0)
    # scikit-learn merges while the linkage distance is *below* the threshold; ours merges at similarity equal to
    # the threshold too, with the same tolerance for rounding in a similarity computed to equal it
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage=linkage,
                                    distance_threshold=1.0 - threshold + 1e-9)
    labels = model.fit_predict(distance)
    clusters: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        clusters.setdefault(int(label), []).append(index)
    return sorted(clusters.values(), key=lambda members: members[0])


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
        vectors = np.asarray(embed([v.key for v in to_embed]), dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) != len(to_embed):
            raise AdaError(f"embedder returned shape {vectors.shape} for {len(to_embed)} terms")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)
        for members in _agglomerate(vectors @ vectors.T, threshold):
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
    model_path: str, *, batch_size: int = 64, max_length: int = 16, template: str = _TEMPLATE
) -> Callable[[list[str]], np.ndarray]:
    """Embed aspect terms with a local sentence encoder: attention-masked mean of the last layer, L2-normed.

    Mean pooling because that is how sentence encoders such as all-MiniLM-L6-v2 were trained; terms are
    short, so ``max_length`` 16 tokens is plenty. Each term is encoded as "the {term}": measured (module
    docstring) to lift synonyms more than unrelated aspects (screen | display 0.65 -> 0.82, the worst must-not
    pair 0.74 -> 0.78): above every must-not pair (0.75 bare, 0.80 templated) 15 vs 18 must pairs merge.
    ``template="{}"`` embeds whole sentences as they are (``label select``'s diversity).
    torch and transformers are imported here so that importing this module stays light.
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
                texts = [template.format(term) for term in terms[start : start + batch_size]]
                batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                rows.append(torch.nn.functional.normalize(pooled, dim=-1).float().numpy())
        hidden_size = int(getattr(model.config, "hidden_size", 0))
        return np.concatenate(rows) if rows else np.zeros((0, hidden_size), dtype=np.float32)

    return embed
