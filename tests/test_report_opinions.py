"""Opinion words in the report: merged variants, counts per group, the page and the CSV column."""

from __future__ import annotations

import csv
import io

from ada_atsc.report.build import CSV_COLUMNS, _write_row
from ada_atsc.report.html import render_report
from ada_atsc.report.mentions import AnalysedReview, term_mentions
from ada_atsc.report.opinions import normalise_opinion
from ada_atsc.report.stats import summarise


def test_trivial_variants_merge_and_negations_stay():
    assert normalise_opinion("Small") == normalise_opinion("very small") == normalise_opinion("too small!") == "small"
    assert normalise_opinion("a bit noisy") == normalise_opinion("so NOISY") == "noisy"
    assert normalise_opinion("not clean") == "not clean"  # a negation reverses the word: kept
    assert normalise_opinion("thin walls") == "thin wall"
    assert normalise_opinion("delicious") == "delicious" and normalise_opinion("gorgeous") == "gorgeous"
    assert normalise_opinion("too") == "too" and normalise_opinion("...") == ""


def review(text: str, aspects: list) -> AnalysedReview:
    return AnalysedReview("r1", text, aspects, [], "2020-01-02", {})


def aspect(text: str, term: str, label: str, *opinions: str, start: int = 0) -> dict:
    a = text.index(term, start)
    found = []
    for word in opinions:
        o = text.index(word)
        found.append({"term": word, "from": o, "to": o + len(word)})
    return {"term": term, "from": a, "to": a + len(term), "label": label,
            "probabilities": {label: 0.9}, "opinions": found}


def test_summary_lists_each_groups_opinion_words_with_counts_and_examples():
    texts = ["Nice hotel. The room was very small.", "The room was small but clean.", "Our room was spacious!",
             "The staff were <b>rude</b>."]
    reviews = [review(texts[0], [aspect(texts[0], "room", "negative", "very small")]),
               review(texts[1], [aspect(texts[1], "room", "negative", "small"),
                                 aspect(texts[1], "room", "positive", "clean")]),
               review(texts[2], [aspect(texts[2], "room", "positive", "spacious")]),
               review(texts[3], [aspect(texts[3], "staff", "negative", "<b>rude</b>")])]
    mentions = []
    for r in reviews:
        for m in term_mentions(r):
            m["group"] = m["term"]
            mentions.append(m)
    first = mentions[0]
    assert first["sentence"][first["opinions"][0]["from"]:first["opinions"][0]["to"]] == "very small"
    summary = summarise(mentions, min_count=1)
    room = next(g for g in summary["groups"] if g["name"] == "room")
    assert [(o["term"], o["count"], o["label"]) for o in room["opinions"]] == [
        ("small", 2, "negative"), ("clean", 1, "positive"), ("spacious", 1, "positive")]
    assert room["opinions"][0]["counts"]["negative"] == 2
    assert [e["term"] for e in room["opinions"][0]["examples"]] == ["very small", "small"]
    page = render_report(summary)
    assert 'href="#g' in page and "Opinion words" in page and "Why: the opinion words" in page
    assert "<b>rude" not in page and "&lt;b&gt;rude" in page  # hostile text stays text
    out = io.StringIO()
    _write_row(csv.writer(out), mentions[1], None)
    row = next(csv.reader(io.StringIO(out.getvalue())))
    assert dict(zip(CSV_COLUMNS, row))["opinions"] == "small"


def test_a_summary_without_opinions_has_no_opinion_column():
    text = "The room was small."
    plain = {"term": "room", "from": 4, "to": 8, "label": "negative", "probabilities": {"negative": 0.9}}
    mentions = [dict(m, group="room") for m in term_mentions(review(text, [plain]))]
    summary = summarise(mentions, min_count=1)
    assert "opinions" not in summary["groups"][0]
    assert "Opinion words" not in render_report(summary)
