"""The numbers (``report/stats.py``) and the HTML page (``report/html.py``) of ``ada-atsc report``.

The statistics are checked field by field on a hand-made list of ten mentions whose every number is worked
out below; the page is checked as text (escaping, no script, no external URL) and in headless Chromium (no
alert fires, the malicious review shows as text). Set ``ADA_REPORT_SCREENSHOT=path.png`` to keep the
browser's screenshot.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ada_atsc.core.errors import AdaError
from ada_atsc.report.html import EXCERPT_CHARS, excerpt, render_report, write_report
from ada_atsc.report.stats import IMPACT_DEFINITION, summarise, wilson_interval

from .test_browser import _browser

DATES = {"r1": "2020-01-15", "r2": "2020-03-02", "r3": "unknown", "r4": "2020-01-20", "r5": None,
         "r6": "2020-03-30"}
HOTELS = {"room": "A", "staff": "B", "wifi": "C"}


def mention(review: str, sentence_index: int, label: str, probability: float, *, group: str | None,
            category: str | None, sentence: str | None = None, term: str | None = None) -> dict:
    term = term if term is not None else group
    sentence = sentence or (f"In {review} the {term} was {label}." if term else f"In {review} it was {label}.")
    start = sentence.find(term) if term else None
    others = (1.0 - probability) / 2
    return {"review_id": review, "sentence_index": sentence_index, "sentence": sentence,
            "from": start, "to": None if term is None else start + len(term), "term": term, "group": group,
            "category": category, "label": label,
            "probabilities": {lab: probability if lab == label else others
                              for lab in ("positive", "negative", "neutral")},
            "date": DATES.get(review), "entities": {"hotel": HOTELS[group]} if group in HOTELS else {}}


def mentions() -> list[dict]:
    """10 mentions: positive 3, negative 6, neutral 1."""
    return [
        mention("r1", 0, "negative", 0.95, group="room", category="rooms", term="rooms"),
        mention("r2", 0, "negative", 0.95, group="room", category="rooms", term="rooms"),
        mention("r3", 1, "negative", 0.90, group="room", category="rooms"),
        mention("r1", 1, "positive", 0.80, group="room", category="rooms"),
        mention("r1", 0, "positive", 0.99, group="staff", category="service"),
        mention("r4", 0, "positive", 0.70, group="staff", category="service"),
        mention("r4", 1, "neutral", 0.60, group="staff", category="service"),
        mention("r5", 0, "negative", 0.85, group="wifi", category=None),
        mention("r5", 1, "negative", 0.90, group=None, category="price"),  # category-only opinions
        mention("r6", 0, "negative", 0.80, group=None, category="price"),
    ]


VARIANTS = {"room": [("rooms", 3), ("room", 1)], "staff": [("staff", 3)], "wifi": [("<i>wi-fi</i>", 1)]}


@pytest.fixture(scope="module")
def summary() -> dict:
    return summarise(iter(mentions()), min_count=3, examples_per_label=2, top_entities=1,
                     entity_column="hotel", group_variants=VARIANTS)


def test_wilson_interval_matches_hand_computed_values():
    # z = 1.959964, z² = 3.841459; centre = (p + z²/2n) / (1 + z²/n);
    # half = z / (1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)
    # 8/10: centre = (0.8 + 0.192073) / 1.384146 = 0.716738; half = 1.416010 * sqrt(0.016 + 0.009604)
    #       = 1.416010 * 0.160011 = 0.226577 -> (0.490162, 0.943318)
    assert wilson_interval(8, 10) == pytest.approx((0.490162, 0.943318), abs=1e-5)
    # 0/5: centre = 0.384146 / 1.768292 = 0.217241; half = 1.108393 * sqrt(0.038415) = 0.217241 -> (0, 0.434482)
    assert wilson_interval(0, 5) == pytest.approx((0.0, 0.434482), abs=1e-5)
    # 5/5: the mirror image of 0/5 -> (1 - 0.434482, 1)
    assert wilson_interval(5, 5) == pytest.approx((0.565518, 1.0), abs=1e-5)
    # 50/100: centre = 0.519207 / 1.038415 = 0.5; half = 1.887459 * sqrt(0.0025 + 0.0000960) = 0.096168
    assert wilson_interval(50, 100) == pytest.approx((0.403832, 0.596168), abs=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(8, 10, z=1.0)  # a narrower interval for a smaller z
    assert 0.490162 < low < high < 0.943318
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_overall_and_totals(summary):
    overall = summary["overall"]
    assert overall["count"] == 10
    assert overall["counts"] == {"positive": 3, "negative": 6, "neutral": 1, "conflict": 0}
    # 3/10 -> Wilson (0.107791, 0.603222); 6/10 -> (0.312674, 0.831820)
    assert overall["shares"]["positive"] == {"value": 30.0, "low": 10.8, "high": 60.3}
    assert overall["shares"]["negative"] == {"value": 60.0, "low": 31.3, "high": 83.2}
    assert overall["shares"]["conflict"] == {"value": 0.0, "low": 0.0, "high": 27.8}
    assert overall["net"] == -30.0  # 30% - 60%
    # reviews r1..r6; sentences (r1,0) (r1,1) (r2,0) (r3,1) (r4,0) (r4,1) (r5,0) (r5,1) (r6,0)
    assert summary["totals"] == {"reviews": 6, "sentences": 9, "mentions": 10}
    assert summary["impact_definition"] == IMPACT_DEFINITION and "without this group" in IMPACT_DEFINITION
    json.dumps(summary, allow_nan=False)  # JSON-ready


def test_groups_net_impact_and_examples(summary):
    groups = {g["name"]: g for g in summary["groups"]}
    # impact = overall net (-30) - net of the rest:
    # staff (pos 2, neu 1): rest pos 1, neg 6 of 7 -> -71.43 -> impact +41.43
    # room (pos 1, neg 3): rest pos 2, neg 3, neu 1 of 6 -> -16.67 -> impact -13.33
    # wifi (neg 1): rest pos 3, neg 5, neu 1 of 9 -> -22.22 -> impact -7.78
    assert [g["name"] for g in summary["groups"]] == ["staff", "room", "wifi"]  # by |impact|
    assert groups["staff"]["impact"] == 41.43
    assert groups["room"]["impact"] == -13.33
    assert groups["wifi"]["impact"] == -7.78
    room = groups["room"]
    assert room["count"] == 4 and room["counts"] == {"positive": 1, "negative": 3, "neutral": 0, "conflict": 0}
    assert room["net"] == -50.0
    # 3/4 -> Wilson (0.300642, 0.954413)
    assert room["shares"]["negative"] == {"value": 75.0, "low": 30.1, "high": 95.4}
    assert room["category"] == "rooms"
    assert room["variants"] == [{"term": "rooms", "count": 3}, {"term": "room", "count": 1}]
    assert groups["staff"]["net"] == pytest.approx(66.7)
    assert groups["wifi"]["category"] is None
    assert [g["too_few"] for g in summary["groups"]] == [False, False, True]  # min_count 3: wifi has 1
    # two examples per label, highest probability first, ties by review id: r1 and r2 (0.95), not r3 (0.90)
    negatives = room["examples"]["negative"]
    assert [(e["review_id"], e["probability"]) for e in negatives] == [("r1", 0.95), ("r2", 0.95)]
    assert negatives[0] == {"review_id": "r1", "sentence_index": 0, "sentence": "In r1 the rooms was negative.",
                            "from": 10, "to": 15, "term": "rooms", "probability": 0.95}
    assert room["examples"]["neutral"] == [] and len(room["examples"]["positive"]) == 1


def test_categories_include_category_only_opinions(summary):
    categories = {c["name"]: c for c in summary["categories"]}
    # price (neg 2): rest pos 3, neg 4, neu 1 of 8 -> -12.5 -> impact -17.5
    assert [c["name"] for c in summary["categories"]] == ["service", "price", "rooms"]
    price = categories["price"]
    assert price["count"] == 2 and price["net"] == -100.0 and price["impact"] == -17.5 and price["too_few"]
    assert price["examples"]["negative"][0]["term"] is None and price["examples"]["negative"][0]["from"] is None
    assert categories["rooms"]["impact"] == -13.33 and "variants" not in categories["rooms"]


def test_trend_by_month_with_empty_and_undated_periods(summary):
    trend = summary["trend"]
    assert summary["trend_period"] == trend["period"] == "month"  # 2020-01 .. 2020-03
    assert trend["periods"] == ["2020-01", "2020-02", "2020-03"]
    assert trend["undated"] == 3  # r3 ("unknown") and r5 (None)
    # 2020-01: r1 room neg + pos, staff pos; r4 staff pos + neutral -> pos 3, neg 1 of 5 -> +40
    assert [(p["count"], p["net"]) for p in trend["overall"]] == [(5, 40.0), (0, None), (2, -100.0)]
    room = next(g for g in trend["groups"] if g["name"] == "room")
    assert [(p["count"], p["net"]) for p in room["points"]] == [(2, 0.0), (0, None), (1, -100.0)]
    assert [g["name"] for g in trend["groups"]] == ["room", "staff"]  # wifi has no dated mention


@pytest.mark.parametrize(("first", "last", "period", "periods"), [
    ("2020-01-01", "2021-12-31", "month", 24),
    ("2020-01-01", "2022-01-05", "quarter", 9),
    ("2020-01-01", "2025-12-01", "quarter", 24),
    ("2020-01-01", "2026-01-01", "year", 7),
])
def test_trend_period_follows_the_span(first, last, period, periods):
    pair = []
    for date in (first, last):
        item = mention("r1", 0, "positive", 0.9, group="room", category=None)
        pair.append({**item, "date": date})
    summary = summarise(pair)
    assert summary["trend_period"] == period and len(summary["trend"]["periods"]) == periods


def test_entities_top_and_bottom(summary):
    entities = summary["entities"]
    # A: room pos 1, neg 3 -> -50; B: staff pos 2, neu 1 -> +66.7; C: wifi 1 mention (< min_count 3)
    assert entities["column"] == "hotel" and entities["count"] == 3 and entities["eligible"] == 2
    assert [(e["name"], e["count"], e["net"]) for e in entities["top"]] == [("B", 3, 66.7)]
    assert [(e["name"], e["count"], e["net"]) for e in entities["bottom"]] == [("A", 4, -50.0)]
    assert summarise(mentions())["entities"] is None
    # top_entities 5 but only 2 eligible: the better half on top, the rest at the bottom, none twice
    split = summarise(mentions(), min_count=3, entity_column="hotel")["entities"]
    assert [e["name"] for e in split["top"]] == ["B"] and [e["name"] for e in split["bottom"]] == ["A"]
    assert [e["name"] for e in split["items"]] == ["A", "B", "C"]  # every entity, most mentioned first


def test_variants_default_to_the_terms_seen_and_bad_labels_raise():
    summary = summarise(mentions())
    room = next(g for g in summary["groups"] if g["name"] == "room")
    assert room["variants"] == [{"term": "room", "count": 2}, {"term": "rooms", "count": 2}]
    assert room["too_few"]  # default min_count 10: 4 mentions are too few to read
    with pytest.raises(AdaError, match="label 'great'"):
        summarise([{**mentions()[0], "label": "great"}])


def test_examples_stay_bounded_and_deterministic():
    many = [mention(f"r{i % 7}", i, "negative", 0.5 + (i % 5) / 10, group="room", category=None)
            for i in range(1, 500)]
    for item in many:
        item["date"] = None
    forward = summarise(many, examples_per_label=3)["groups"][0]["examples"]["negative"]
    backward = summarise(list(reversed(many)), examples_per_label=3)["groups"][0]["examples"]["negative"]
    assert forward == backward and len(forward) == 3
    assert {e["probability"] for e in forward} == {0.9}


# ---------------------------------------------------------------- the HTML page

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def hostile_mentions() -> list[dict]:
    """The hand-made mentions plus a review that tries to run script and a 100 KB sentence."""
    evil = f"{SCRIPT} The breakfast was cold {IMG} and late."
    long = "x" * 50_000 + " the pool was dirty " + "y" * 50_000
    return mentions() + [
        mention("r1", 2, "negative", 0.97, group="breakfast", category=None, sentence=evil),
        mention("r6", 1, "negative", 0.93, group="pool", category=None, sentence=long),
    ]


@pytest.fixture(scope="module")
def page() -> str:
    summary = summarise(hostile_mentions(), min_count=3, entity_column="hotel", top_entities=1,
                       group_variants={**VARIANTS, "breakfast": [("breakfast", 1)], "pool": [("pool", 1)]})
    return render_report(summary, title="Hotels <2020>")


def test_page_shows_groups_variants_and_warnings(page):
    for name in ("room", "staff", "wifi", "breakfast", "pool", "service", "price"):
        assert f">{name}</a>" in page
    assert "rooms&nbsp;(3), room&nbsp;(1)" in page
    assert "&lt;i&gt;wi-fi&lt;/i&gt;" in page and "<i>" not in page
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr><td><a href="#g\d+">([^<]+)</a>.*?</tr>', page)}
    assert "too few mentions to read" in rows["wifi"] and "too few mentions to read" not in rows["room"]
    assert "<title>Hotels &lt;2020&gt;</title>" in page
    assert page.count('<svg class="chart"') == 3  # groups, categories, trend
    assert "Best hotel by net score" in page and "Worst hotel by net score" in page
    assert "review r1 · sentence 0 · chars 10–15" in page


def test_page_runs_nothing_and_loads_nothing(page):
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.IGNORECASE)
    assert """content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">""" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "x" * 200 not in page and "y" * 200 not in page
    assert "…" + "x" * 100 in page and "<mark>pool</mark>" in page
    assert len(page) < 400_000
    assert render_report(summarise(hostile_mentions(), min_count=3, entity_column="hotel", top_entities=1,
                                   group_variants={**VARIANTS, "breakfast": [("breakfast", 1)],
                                                   "pool": [("pool", 1)]}),
                         title="Hotels <2020>") == page  # deterministic


def test_excerpt_cuts_around_the_aspect():
    text = "a" * 1000 + "pool" + "b" * 1000
    shown = excerpt(text, 1000, 1004)
    visible = shown.replace("<mark>", "").replace("</mark>", "")
    assert shown.startswith("…") and shown.endswith("…") and "<mark>pool</mark>" in shown
    assert len(visible) == EXCERPT_CHARS + 2
    assert excerpt("<b>", 0, 3) == "<mark>&lt;b&gt;</mark>"
    assert excerpt("short & sweet", None, None) == "short &amp; sweet"
    assert excerpt("tail end pool", 9, 13) == "tail end <mark>pool</mark>"
    assert excerpt("x" * 400, 5, 500) == "x" * EXCERPT_CHARS + "…"  # bad offsets: no mark, just cut
    assert excerpt("z" * 1000 + "q", 1000, 1001).endswith("<mark>q</mark>")


def test_empty_summary_renders():
    page = render_report(summarise([]))
    assert "0 aspect mentions" in page and "<svg" not in page


def test_write_report_is_atomic_and_opens_offline_in_chromium(tmp_path):
    summary = summarise(hostile_mentions(), min_count=3, entity_column="hotel")
    path = write_report(summary, tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temporary file left behind
    browser = _browser()  # skips without chromium / chromedriver / selenium
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    try:
        browser.get(path.as_uri())
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert  # noqa: B018 - the property raises when no alert is open
        text = browser.find_element(By.TAG_NAME, "body").text
        assert SCRIPT in text and IMG in text
        assert browser.find_elements(By.TAG_NAME, "img") == []
        assert browser.find_elements(By.TAG_NAME, "script") == []
        assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 3
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 900
        shots = [tmp_path / "report.png"]
        if os.environ.get("ADA_REPORT_SCREENSHOT"):
            shots.append(Path(os.environ["ADA_REPORT_SCREENSHOT"]))
        for shot in shots:
            shot.parent.mkdir(parents=True, exist_ok=True)
            assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 1000
    finally:
        browser.quit()
