"""The numbers of a report: per aspect group, category, period and entity, with honest uncertainty.

A report is read as "customers hate the rooms"; a share of 3 negatives out of 4 mentions says much less
than 300 out of 400, so every share carries a Wilson 95% interval and groups with fewer than ``min_count``
mentions are flagged ``too_few``. :func:`summarise` makes one pass over the mentions (the output of a bulk
run over 100,000s of reviews) and keeps only counters per group, category, period and entity plus a few
examples each, so its memory does not grow with the number of mentions. The one exception is the distinct
review and sentence counts of ``totals``: they need the set of ids seen (one entry per sentence).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from ada_atsc.core.errors import AdaError

from .opinions import OpinionTally

LABELS = ("positive", "negative", "neutral", "conflict")
"""Every label a mention can carry; counts and shares always list all four, in this order."""

Z95 = 1.959963984540054
"""The two-sided 95% normal quantile."""

TREND_GROUPS = 5
"""How many groups (the most mentioned) get their own line in the trend."""

IMPACT_DEFINITION = (
    "impact = overall net score - net score of all mentions without this group (percentage points, "
    "signed): how far the overall net moves because of the group; negative means the group pulls the "
    "overall score down. net = % positive - % negative."
)

_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})")


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (fractions in [0, 1]).

    Wilson rather than the normal approximation because report shares are often 0/5 or 5/5, where the
    normal interval collapses to a single point and claims a certainty the data does not have. ``n == 0``
    knows nothing: (0, 1).
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} outside 0..n={n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _net(counts: Mapping[str, int], total: int) -> float | None:
    """% positive - % negative, unrounded; None when there is nothing to score."""
    if total <= 0:
        return None
    return 100.0 * (counts.get("positive", 0) - counts.get("negative", 0)) / total


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _shares(counts: Mapping[str, int], total: int) -> dict[str, dict]:
    """Percent share of each label with its Wilson 95% interval (percent, 1 decimal)."""
    shares = {}
    for label in LABELS:
        k = counts.get(label, 0)
        low, high = wilson_interval(k, total)
        shares[label] = {"value": _round(100.0 * k / total) if total else None,
                         "low": round(100.0 * low, 1), "high": round(100.0 * high, 1)}
    return shares


def _scores(counts: Mapping[str, int]) -> dict:
    """The common block of every entry: count, counts per label, shares with intervals, net."""
    total = sum(counts.values())
    return {"count": total, "counts": {label: counts.get(label, 0) for label in LABELS},
            "shares": _shares(counts, total), "net": _round(_net(counts, total))}


def _impact(overall: Mapping[str, int], part: Mapping[str, int]) -> float:
    """Overall net - net without ``part`` (see IMPACT_DEFINITION); a part that is everything is
    compared with an empty rest scored 0."""
    total, part_total = sum(overall.values()), sum(part.values())
    rest = {label: overall.get(label, 0) - part.get(label, 0) for label in LABELS}
    without = _net(rest, total - part_total) or 0.0
    return (_net(overall, total) or 0.0) - without


class _Examples:
    """At most ``k`` examples per label, the ones the model is surest of (ties: review id, sentence,
    offset), so the same mentions give the same examples in any order."""

    def __init__(self, k: int):
        self.k = k
        self.by_label: dict[str, list[tuple]] = {}

    def offer(self, label: str, mention: Mapping) -> None:
        if self.k <= 0:
            return
        probabilities = mention.get("probabilities") or {}
        probability = float(probabilities.get(label, 0.0) or 0.0)
        key = (-probability, str(mention.get("review_id")), int(mention.get("sentence_index") or 0),
               mention.get("from") if isinstance(mention.get("from"), int) else -1)
        kept = self.by_label.setdefault(label, [])
        if len(kept) >= self.k and key >= kept[-1][0]:
            return  # not better than the worst kept: skip without copying anything
        example = {"review_id": mention.get("review_id"), "sentence_index": mention.get("sentence_index"),
                   "sentence": mention.get("sentence"), "from": mention.get("from"), "to": mention.get("to"),
                   "term": mention.get("term"), "probability": round(probability, 4)}
        kept.append((key, example))
        kept.sort(key=lambda item: item[0])
        del kept[self.k:]

    def result(self) -> dict[str, list[dict]]:
        return {label: [example for _, example in self.by_label.get(label, [])] for label in LABELS}


class _Part:
    """Running counters of one group or category."""

    def __init__(self, k: int):
        self.counts: Counter = Counter()
        self.examples = _Examples(k)
        self.categories: Counter = Counter()
        self.terms: Counter = Counter()
        self.months: dict[int, Counter] = {}
        self.opinions = OpinionTally()


def _month(date: object) -> int | None:
    """Months since year 0 of an ISO-like date ("2007-05-14", "2007-05", a datetime); None if unreadable."""
    if date is None:
        return None
    match = _DATE.match(str(date))
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def _period(span_months: int) -> str:
    """Month when the data span (first to last month, inclusive) is <= 24 months, quarter <= 6 years,
    else year: enough points for a line, few enough to read."""
    if span_months <= 24:
        return "month"
    if span_months <= 72:
        return "quarter"
    return "year"


def _bucket(month: int, period: str) -> int:
    """Index of the period that holds ``month`` (in units of that period)."""
    if period == "month":
        return month
    if period == "quarter":
        return month // 3
    return month // 12


def _period_name(index: int, period: str) -> str:
    if period == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if period == "quarter":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index:04d}"


def _series(months: Mapping[int, Counter], period: str, first: int, last: int) -> list[dict]:
    """Counts and net per period from ``first`` to ``last`` (period indices), empty periods included
    (count 0, net None) so a line shows the gap instead of joining across it."""
    buckets: dict[int, Counter] = {}
    for month, counts in months.items():
        buckets.setdefault(_bucket(month, period), Counter()).update(counts)
    points = []
    for index in range(first, last + 1):
        counts = buckets.get(index, Counter())
        total = sum(counts.values())
        points.append({"period": _period_name(index, period), "count": total,
                       "counts": {label: counts.get(label, 0) for label in LABELS},
                       "net": _round(_net(counts, total))})
    return points


def _trend(overall_months: Mapping[int, Counter], groups: Mapping[str, _Part], undated: int) -> dict:
    if not overall_months:
        return {"period": None, "periods": [], "overall": [], "groups": [], "undated": undated}
    lo, hi = min(overall_months), max(overall_months)
    period = _period(hi - lo + 1)
    first, last = _bucket(lo, period), _bucket(hi, period)
    top = sorted(groups.items(), key=lambda item: (-sum(item[1].counts.values()), item[0]))[:TREND_GROUPS]
    overall = _series(overall_months, period, first, last)
    return {"period": period, "periods": [point["period"] for point in overall], "overall": overall,
            "groups": [{"name": name, "points": _series(part.months, period, first, last)}
                       for name, part in top if part.months],
            "undated": undated}


def _parts(parts: Mapping[str, _Part], overall: Counter, min_count: int, *, with_category: bool,
           variants: Mapping[str, list] | None) -> list[dict]:
    """Entries of ``groups`` or ``categories``, sorted by |impact| (ties: more mentions, then name)."""
    entries = []
    for name, part in parts.items():
        entry: dict = {"name": name}
        if with_category:
            ranked = sorted(part.categories.items(), key=lambda item: (-item[1], item[0]))
            entry["category"] = ranked[0][0] if ranked else None
            if variants is not None:
                entry["variants"] = [{"term": str(term), "count": int(count)}
                                     for term, count in variants.get(name, [])]
            else:  # no grouping information: the raw terms seen are the variants
                entry["variants"] = [{"term": term, "count": count} for term, count in
                                     sorted(part.terms.items(), key=lambda item: (-item[1], item[0]))]
        entry.update(_scores(part.counts))
        if with_category and part.opinions.counts:
            entry["opinions"] = part.opinions.result(LABELS)
        entry["too_few"] = entry["count"] < min_count
        entry["impact"] = round(_impact(overall, part.counts), 2)
        entry["examples"] = part.examples.result()
        entries.append(entry)
    entries.sort(key=lambda e: (-abs(e["impact"]), -e["count"], e["name"]))
    return entries


def _entities(tallies: Mapping[str, Counter], column: str, min_count: int, top: int) -> dict:
    """Per entity count and net; ``top`` / ``bottom`` by net among entities with >= ``min_count``
    mentions. Bottom never repeats an entity of top: with fewer than ``2 * top`` eligible entities, top
    takes the better half and bottom the rest, so a short list is not shown twice."""
    items = [{"name": name, **_scores(counts)} for name, counts in tallies.items()]
    items.sort(key=lambda e: (-e["count"], e["name"]))
    eligible = [e for e in items if e["count"] >= min_count]
    shown = min(top, (len(eligible) + 1) // 2)
    best = sorted(eligible, key=lambda e: (-e["net"], -e["count"], e["name"]))[:shown]
    chosen = {e["name"] for e in best}
    worst = [e for e in sorted(eligible, key=lambda e: (e["net"], -e["count"], e["name"]))
             if e["name"] not in chosen][:top]
    return {"column": column, "min_count": min_count, "count": len(items), "eligible": len(eligible),
            "top": best, "bottom": worst, "items": items}


def summarise(mentions: Iterable[dict], *, min_count: int = 10, examples_per_label: int = 3,
              top_entities: int = 5, entity_column: str | None = None,
              group_variants: dict[str, list[tuple[str, int]]] | None = None) -> dict:
    """Turn mentions into ``summary.json``: the numbers behind every chart of the report.

    One pass; memory bounded by the number of groups, categories, periods and entities (plus the ids
    behind ``totals``). Keys: ``overall``, ``groups`` and ``categories`` (sorted by |impact|),
    ``impact_definition``, ``trend`` and ``trend_period``, (with a triplet tagger) each group's ``opinions``
    (:mod:`.opinions`), ``entities`` (None without ``entity_column``),
    ``totals``, ``min_count``, ``labels``. Impact: overall net - net of all mentions without the group
    (percentage points, signed), i.e. how much the group moves the overall score; net = % positive -
    % negative. A mention with an unknown label is an upstream bug and raises :class:`AdaError`.
    """
    overall: Counter = Counter()
    groups: dict[str, _Part] = {}
    categories: dict[str, _Part] = {}
    overall_months: dict[int, Counter] = {}
    entities: dict[str, Counter] = {}
    sentences: set = set()
    undated = 0
    count = 0
    for mention in mentions:
        label = mention.get("label")
        if label not in LABELS:
            raise AdaError(f"mention {count} (review {mention.get('review_id')!r}): label {label!r} is not "
                           f"one of {', '.join(LABELS)}")
        count += 1
        overall[label] += 1
        sentences.add((mention.get("review_id"), mention.get("sentence_index")))
        month = _month(mention.get("date"))
        if month is None:
            undated += 1
        else:
            overall_months.setdefault(month, Counter())[label] += 1
        category = None if mention.get("category") is None else str(mention["category"])
        group = None if mention.get("group") is None else str(mention["group"])
        for name, table in ((group, groups), (category, categories)):
            if name is None:
                continue
            part = table.get(name)
            if part is None:
                part = table[name] = _Part(examples_per_label)
            part.counts[label] += 1
            part.examples.offer(label, mention)
            if table is groups:
                if month is not None:
                    part.months.setdefault(month, Counter())[label] += 1
                if mention.get("opinions"):
                    part.opinions.add(mention)
        if group is not None:
            if category is not None:
                groups[group].categories[category] += 1
            if group_variants is None and mention.get("term") is not None:
                groups[group].terms[str(mention["term"])] += 1
        if entity_column is not None:
            entity = (mention.get("entities") or {}).get(entity_column)
            if entity is not None and str(entity).strip():
                entities.setdefault(str(entity), Counter())[label] += 1
    trend = _trend(overall_months, groups, undated)
    return {
        "labels": list(LABELS),
        "min_count": min_count,
        "totals": {"reviews": len({review for review, _ in sentences}), "sentences": len(sentences),
                   "mentions": count},
        "overall": _scores(overall),
        "impact_definition": IMPACT_DEFINITION,
        "groups": _parts(groups, overall, min_count, with_category=True, variants=group_variants),
        "categories": _parts(categories, overall, min_count, with_category=False, variants=None),
        "trend_period": trend["period"],
        "trend": trend,
        "entities": (_entities(entities, entity_column, min_count, top_entities)
                     if entity_column is not None else None),
    }
