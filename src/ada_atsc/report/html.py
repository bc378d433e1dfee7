"""The HTML report: one self-contained file built from ``summary.json`` (:func:`.stats.summarise`).

One file that opens offline, forwarded by mail or archived next to the data: no CDN, no external script,
style, font or image; the charts are inline SVG (:mod:`.charts`). The page renders text written by
strangers (reviews), so every piece of user text goes through :func:`html.escape`, displayed sentences are
cut to ~300 characters around the aspect, and a strict Content-Security-Policy forbids every script, so
even a missed escape could not run one. The page has no script of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from ada_atsc.core.fileio import atomic_open

from . import charts

EXCERPT_CHARS = 300
"""Displayed sentences are cut to about this many characters, around the aspect."""

INLINE_VARIANTS = 8
"""Variants listed in a group's table row; the rest fold under "+N more"."""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;
max-width:1000px;padding:0 16px 48px}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
h3{margin:1.4em 0 .3em}h4{margin:.6em 0 .2em;font-size:1em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n,th.n{text-align:right;white-space:nowrap}
.ci{color:#777;font-size:.85em}.variants{font-size:.85em;color:#444;max-width:260px}
.warn{display:inline-block;background:#fff3cd;color:#7a5a00;border:1px solid #e6c65c;border-radius:3px;
padding:0 4px;font-size:.8em;white-space:nowrap}
svg.chart{width:100%;height:auto;display:block;margin:.5em 0}
ul.ex{list-style:none;padding:0;margin:0}
ul.ex li{border-left:3px solid #ccc;padding:2px 8px;margin:4px 0;overflow-wrap:anywhere}
mark{padding:0 2px;border-radius:2px}
.l-positive mark{background:#c8e6c9}.l-negative mark{background:#ffcdd2}.l-neutral mark{background:#eeeeee}
.l-conflict mark{background:#ffe9a8}.trace{display:block;color:#777;font-size:.8em}
.lab{font-weight:600}.positive{color:#2e7d32}.negative{color:#c62828}.neutral{color:#616161}
.conflict{color:#a06d00}.note{color:#555;font-size:.9em}
.opinions{font-size:.85em;max-width:300px}.opinions a{text-decoration:none}
"""

INLINE_OPINIONS = 6
"""Opinion words shown in a group's table row (all of summary.json's list are under its examples)."""

_SIGNS = {"positive": "+", "negative": "−", "neutral": "·", "conflict": "±"}


def _opinions_cell(part: dict, anchor: str) -> str:
    """The group's most frequent opinion words, each with its count and the polarity it mostly carries,
    each a link to its example sentences."""
    items = []
    for k, opinion in enumerate((part.get("opinions") or [])[:INLINE_OPINIONS]):
        label = str(opinion.get("label"))
        items.append(f'<a class="{escape(label)}" href="#{anchor}o{k}">{escape(str(opinion.get("term")))}</a>'
                     f'&nbsp;{int(opinion.get("count") or 0):,}&nbsp;{_SIGNS.get(label, "")}')
    return ", ".join(items) or "–"


def _opinion_examples(part: dict, anchor: str) -> str:
    """Each opinion word of a group with its counts per polarity and the sentences it came from (the opinion
    highlighted)."""
    opinions = part.get("opinions") or []
    if not opinions:
        return ""
    out = ["<h4>Why: the opinion words</h4>"]
    for k, opinion in enumerate(opinions):
        counts = opinion.get("counts") or {}
        tally = ", ".join(f"{int(n):,} {escape(str(label))}" for label, n in counts.items() if n)
        label = escape(str(opinion.get("label")))
        out.append(f'<div id="{anchor}o{k}"><span class="lab {label}">{escape(str(opinion.get("term")))}</span> '
                   f'<span class="ci">({tally})</span><ul class="ex l-{label}">')
        for ex in opinion.get("examples") or []:
            trace = f'review {escape(str(ex.get("review_id")))} · sentence {escape(str(ex.get("sentence_index")))}'
            out.append(f'<li>{excerpt(ex.get("sentence"), ex.get("from"), ex.get("to"))}'
                       f'<span class="trace">{trace} · aspect {escape(str(ex.get("label")))}</span></li>')
        out.append("</ul></div>")
    return "".join(out)


def _mentions(count: object) -> str:
    count = int(count or 0)
    return f"{count} mention" + ("" if count == 1 else "s")


def _fmt(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.1f}" if sign else f"{value:.1f}"


def _share_cell(part: dict, label: str) -> str:
    share = (part.get("shares") or {}).get(label) or {}
    return (f'<td class="n">{_fmt(share.get("value"))}<br><span class="ci">'
            f'{_fmt(share.get("low"))}–{_fmt(share.get("high"))}</span></td>')


def _labels(summary: dict) -> list[str]:
    """positive, negative, neutral, and conflict only when some mention has it."""
    shown = ["positive", "negative", "neutral"]
    if ((summary.get("overall") or {}).get("counts") or {}).get("conflict"):
        shown.append("conflict")
    return shown


def _warning(part: dict) -> str:
    return ' <span class="warn">⚠ too few mentions to read</span>' if part.get("too_few") else ""


def _variants(part: dict) -> str:
    variants = [f"{escape(str(v.get('term')))}&nbsp;({int(v.get('count') or 0)})"
                for v in part.get("variants") or []]
    if len(variants) <= INLINE_VARIANTS:
        return ", ".join(variants) or "–"
    rest = variants[INLINE_VARIANTS:]
    return (", ".join(variants[:INLINE_VARIANTS])
            + f"<details><summary>+{len(rest)} more</summary>{', '.join(rest)}</details>")


def _parts_table(parts: Sequence[dict], labels: Sequence[str], anchor: str, *, groups: bool) -> str:
    """Groups (or categories) as sorted in the summary (by |impact|), with intervals and warnings."""
    head = ["<tr><th>" + ("Aspect group" if groups else "Category") + "</th>"]
    opinions = groups and any(part.get("opinions") for part in parts)
    if groups:
        head.append("<th>Variants merged</th>")
    if opinions:
        head.append("<th>Opinion words</th>")
    head.append('<th class="n">Mentions</th>')
    head += [f'<th class="n">% {label}<br><span class="ci">95% CI</span></th>' for label in labels]
    head.append('<th class="n">Net</th><th class="n">Impact</th></tr>')
    rows = []
    for index, part in enumerate(parts):
        name = f'<a href="#{anchor}{index}">{escape(str(part.get("name")))}</a>{_warning(part)}'
        if groups and part.get("category") is not None:
            name += f'<br><span class="ci">category: {escape(str(part["category"]))}</span>'
        cells = [f"<td>{name}</td>"]
        if groups:
            cells.append(f'<td class="variants">{_variants(part)}</td>')
        if opinions:
            cells.append(f'<td class="opinions">{_opinions_cell(part, f"{anchor}{index}")}</td>')
        cells.append(f'<td class="n">{int(part.get("count") or 0)}</td>')
        cells += [_share_cell(part, label) for label in labels]
        cells.append(f'<td class="n">{_fmt(part.get("net"), sign=True)}</td>')
        impact = part.get("impact")
        cells.append(f'<td class="n">{"–" if impact is None else f"{impact:+.2f}"}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(head) + "".join(rows) + "</table>"


def excerpt(sentence: object, start: object, end: object, width: int = EXCERPT_CHARS) -> str:
    """Escaped HTML of ``sentence`` with ``<mark>`` over ``sentence[start:end]``, cut to about ``width``
    characters around the mark with an ellipsis on each cut side. Offsets that do not fit the sentence
    (or are absent, for a category-only opinion) give the sentence's start without a mark."""
    text = "" if sentence is None else str(sentence)
    valid = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
    if not valid:
        cut = text[:width]
        return escape(cut) + ("…" if len(text) > width else "")
    end = min(end, start + width)  # an absurdly long "aspect" is cut too
    room = max(0, width - (end - start))
    lo = max(0, start - room // 2)
    hi = min(len(text), lo + (end - start) + room)
    lo = max(0, min(lo, hi - width))
    return ("…" if lo > 0 else "") + escape(text[lo:start]) + "<mark>" + escape(text[start:end]) \
        + "</mark>" + escape(text[end:hi]) + ("…" if hi < len(text) else "")


def _examples(parts: Sequence[dict], labels: Sequence[str], anchor: str) -> str:
    """A few sentences per part and polarity, the aspect highlighted, each traceable to its review."""
    out = []
    for index, part in enumerate(parts):
        out.append(f'<h3 id="{anchor}{index}">{escape(str(part.get("name")))} '
                   f'<span class="ci">({_mentions(part.get("count"))}, net '
                   f'{_fmt(part.get("net"), sign=True)})</span>{_warning(part)}</h3>')
        examples = part.get("examples") or {}
        for label in labels:
            items = examples.get(label) or []
            if not items:
                continue
            out.append(f'<h4 class="{label}">{label}</h4><ul class="ex l-{label}">')
            for ex in items:
                trace = (f'review {escape(str(ex.get("review_id")))} · sentence '
                         f'{escape(str(ex.get("sentence_index")))}')
                if isinstance(ex.get("from"), int) and isinstance(ex.get("to"), int):
                    trace += f' · chars {ex["from"]}–{ex["to"]}'
                if ex.get("probability") is not None:
                    trace += f' · p({label}) = {float(ex["probability"]):.2f}'
                out.append(f'<li>{excerpt(ex.get("sentence"), ex.get("from"), ex.get("to"))}'
                           f'<span class="trace">{trace}</span></li>')
            out.append("</ul>")
        out.append(_opinion_examples(part, f"{anchor}{index}"))
    return "".join(out)


def _overview(summary: dict, labels: Sequence[str]) -> str:
    totals = summary.get("totals") or {}
    overall = summary.get("overall") or {}
    shares = overall.get("shares") or {}
    parts = []
    for label in labels:
        share = shares.get(label) or {}
        parts.append(f'<span class="lab {label}">{_fmt(share.get("value"))}% {label}</span> '
                     f'<span class="ci">({_fmt(share.get("low"))}–{_fmt(share.get("high"))})</span>')
    return (f'<p>{int(totals.get("mentions") or 0)} aspect mentions in {int(totals.get("sentences") or 0)} '
            f'sentences of {int(totals.get("reviews") or 0)} reviews.</p>'
            f'<p>Overall: {", ".join(parts)}; net score <b>{_fmt(overall.get("net"), sign=True)}</b>.</p>')


def _entity_table(entities: Sequence[dict]) -> str:
    rows = "".join(
        f'<tr><td>{escape(str(e.get("name")))}</td><td class="n">{int(e.get("count") or 0)}</td>'
        f'{_share_cell(e, "positive")}{_share_cell(e, "negative")}'
        f'<td class="n">{_fmt(e.get("net"), sign=True)}</td></tr>' for e in entities)
    return ('<table><tr><th>Name</th><th class="n">Mentions</th><th class="n">% positive</th>'
            f'<th class="n">% negative</th><th class="n">Net</th></tr>{rows}</table>')


def _entities(entities: dict, min_count: int) -> str:
    column = escape(str(entities.get("column")))
    out = [f"<h2>By {column}</h2>",
           f'<p class="note">{int(entities.get("count") or 0)} distinct values of {column}; '
           f'{int(entities.get("eligible") or 0)} have at least {min_count} mentions and are ranked.</p>']
    if entities.get("top"):
        out += [f"<h3>Best {column} by net score</h3>", _entity_table(entities["top"])]
    if entities.get("bottom"):
        out += [f"<h3>Worst {column} by net score</h3>", _entity_table(entities["bottom"])]
    if not entities.get("top") and not entities.get("bottom"):
        out.append(f"<p>No {column} has {min_count} mentions or more.</p>")
    return "".join(out)


def _trend(summary: dict) -> str:
    trend = summary.get("trend") or {}
    undated = int(trend.get("undated") or 0)
    if not trend.get("periods"):
        return ""
    note = (f"Net score per {escape(str(trend.get('period')))} for all mentions and the most mentioned "
            "groups; a period with few mentions is noisy (the bars below give the count).")
    if undated:
        note += f" {_mentions(undated)} without a date {'is' if undated == 1 else 'are'} not in the chart."
    return f'<h2>Over time</h2><p class="note">{note}</p>{charts.trend_lines(trend, "trend")}'


MAX_GROUPS_SHOWN = 300
"""Groups listed on the page (those with the largest impact); every group stays in summary.json and aspects.csv.
15,000 hotel reviews give about 16,000 groups, most of them one-off terms: listed all, the page was 19 MB."""


def render_report(summary: dict, *, title: str = "Aspect sentiment report") -> str:
    """The whole report as one HTML string (see the module docstring for why it is built this way)."""
    labels = _labels(summary)
    all_groups = summary.get("groups") or []
    groups = all_groups[:MAX_GROUPS_SHOWN]
    categories = summary.get("categories") or []
    min_count = int(summary.get("min_count") or 0)
    body = [f"<h1>{escape(title)}</h1>", _overview(summary, labels)]
    if groups:
        body += ["<h2>Aspect groups</h2>",
                 '<p class="note">The most mentioned groups, best net score on top '
                 "(net = % positive − % negative).</p>",
                 charts.stacked_bars(groups, "groups", "aspect group"),
                 '<p class="note">All groups, by impact: ' + escape(str(summary.get("impact_definition", "")))
                 + f" Percentages come with their 95% (Wilson) interval; a group with fewer than {min_count} "
                 "mentions is marked. Check the merged variants; to change a merge, pass "
                 "<code>--aspect_map</code>."
                 + (f" Listed: the {len(groups)} groups of largest impact, of {len(all_groups)}; every group is in "
                    "summary.json and aspects.csv." if len(all_groups) > len(groups) else "") + "</p>",
                 _parts_table(groups, labels, "g", groups=True)]
    if categories:
        body += ["<h2>Categories</h2>", charts.stacked_bars(categories, "categories", "category"),
                 _parts_table(categories, labels, "c", groups=False)]
    body.append(_trend(summary))
    if summary.get("entities"):
        body.append(_entities(summary["entities"], min_count))
    if groups:
        body += ["<h2>Examples per aspect group</h2>",
                 '<p class="note">The sentences the model is surest of, per polarity; the aspect is '
                 "highlighted, and review id, sentence index and character offsets locate the source.</p>",
                 _examples(groups, labels, "g")]
    if categories:
        body += ["<h2>Examples per category</h2>", _examples(categories, labels, "c")]
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part) + "\n</body>\n</html>\n"
    )
    if "<script" in page.lower():  # cannot happen (all user text is escaped): refuse rather than ship
        raise RuntimeError("report HTML holds a <script> tag")
    return page


def write_report(summary: dict, folder: Path, *, title: str = "Aspect sentiment report") -> Path:
    """Write ``folder/report.html`` atomically (an interrupted run never leaves half a page); returns it."""
    path = Path(folder) / "report.html"
    with atomic_open(path) as handle:
        handle.write(render_report(summary, title=title))
    return path
