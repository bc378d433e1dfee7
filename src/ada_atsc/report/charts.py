"""The charts of the HTML report, drawn by matplotlib as inline SVG.

Inline SVG so the report is one file that opens offline and scales with the window; glyphs are drawn as
paths (``svg.fonttype = path``), so no font has to be installed where the report is read. The output is
deterministic (fixed hash salt, no date) so the same summary gives the same bytes. Figures are plain
:class:`~matplotlib.figure.Figure` objects on an Agg canvas, never pyplot's global figure list, so nothing
is left open and a server process can draw reports concurrently.

User text (aspect names) only reaches the SVG as glyph outlines: matplotlib's ``<!-- text -->`` comments
are stripped, and ``$`` is escaped so a name like "$5 menu" is not read as mathtext.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Sequence

COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "conflict": "#f2a900", "negative": "#c62828"}
"""Label colours, shared with the page's legend and CSS."""

BAR_ORDER = ("positive", "neutral", "conflict", "negative")
"""Left to right in a stacked bar: good on the left, bad on the right, the rest between."""

MAX_BARS = 15
"""The stacked bar charts show the most mentioned parts only; the tables list all."""

_WIDTH_IN = 9.0
_RC = {"svg.hashsalt": "ada-atsc-report", "svg.fonttype": "path", "font.size": 9.0,
       "axes.spines.top": False, "axes.spines.right": False}


def _label(text: object, width: int = 28) -> str:
    """A safe matplotlib label: one line, at most ``width`` characters, ``$`` not read as mathtext."""
    text = " ".join(str(text).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _svg(fig, prefix: str, description: str) -> str:
    """Serialise ``fig`` as an ``<svg>`` element ready to inline: no XML prolog, comments or metadata,
    ids prefixed so several charts in one page never share one, sized by CSS (class ``chart``)."""
    from html import escape

    buffer = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph missing from font": the table below has the real text
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                    "Type": None})
    fig.clear()
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="', f'id="{prefix}-', svg)
    svg = svg.replace('href="#', f'href="#{prefix}-').replace("url(#", f"url(#{prefix}-")
    root = re.match(r"<svg\b[^>]*>", svg).group(0)
    svg = re.sub(r'\s(?:width|height)="[^"]*"', "", root) + svg[len(root):]
    svg = svg.replace("<svg", f'<svg class="chart" role="img" aria-label="{escape(description)}"', 1)
    return re.sub(r"\n\s*\n", "\n", svg).strip()


def _share(part: dict, label: str) -> float:
    count = part.get("count") or 0
    return 100.0 * (part.get("counts") or {}).get(label, 0) / count if count else 0.0


def stacked_bars(parts: Sequence[dict], prefix: str, what: str) -> str:
    """Horizontal 100% bars of the ``MAX_BARS`` most mentioned parts, sorted by net (best on top), each
    labelled with its name, mentions and net: the page's at-a-glance view."""
    from matplotlib import rc_context

    biggest = sorted(parts, key=lambda p: (-(p.get("count") or 0), str(p.get("name"))))[:MAX_BARS]
    biggest.sort(key=lambda p: (p.get("net") if p.get("net") is not None else 0.0, str(p.get("name"))))
    labels = [label for label in BAR_ORDER
              if label != "conflict" or any((p.get("counts") or {}).get("conflict") for p in biggest)]
    with rc_context(_RC):
        fig = _figure(_WIDTH_IN, 0.36 * len(biggest) + 1.3)
        ax = fig.add_subplot()
        ys = range(len(biggest))
        left = [0.0] * len(biggest)
        for label in labels:
            widths = [_share(p, label) for p in biggest]
            ax.barh(ys, widths, left=left, color=COLOURS[label], label=label, height=0.72,
                    edgecolor="white", linewidth=0.5)
            for y, (x0, w) in enumerate(zip(left, widths)):
                if w >= 7:
                    ax.text(x0 + w / 2, y, f"{w:.0f}%", ha="center", va="center", fontsize=8,
                            color="black" if label in ("neutral", "conflict") else "white")
            left = [x0 + w for x0, w in zip(left, widths)]
        ax.set_yticks(list(ys), [f"{_label(p.get('name'))} ({p.get('count')})" for p in biggest])
        for tick, part in zip(ax.get_yticklabels(), biggest):
            if part.get("too_few"):
                tick.set_color("#777777")
                tick.set_fontstyle("italic")
        for y, part in enumerate(biggest):
            net = part.get("net")
            ax.text(1.01, y, "" if net is None else f"net {net:+.1f}", transform=ax.get_yaxis_transform(),
                    ha="left", va="center", fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.6, len(biggest) - 0.4)
        ax.set_xlabel("share of mentions (%)")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(labels), frameon=False, fontsize=8)
        fig.tight_layout()
        return _svg(fig, prefix, f"Share of positive, neutral and negative mentions per {what}")


def trend_lines(trend: dict, prefix: str) -> str:
    """Net score per period (overall thick, the top groups thin) above the number of mentions per
    period, so a jump in the line can be read against how many mentions it rests on."""
    from matplotlib import rc_context

    periods = list(trend.get("periods") or [])
    xs = list(range(len(periods)))

    def values(points: Sequence[dict]) -> list[float]:
        return [math.nan if p.get("net") is None else p["net"] for p in points]

    with rc_context(_RC):
        fig = _figure(_WIDTH_IN, 4.6)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        for series in trend.get("groups") or []:
            top.plot(xs, values(series.get("points") or []), marker="o", markersize=3, linewidth=1.2,
                     label=_label(series.get("name"), 20))
        top.plot(xs, values(trend.get("overall") or []), color="black", linewidth=2.4, marker="o",
                 markersize=4, label="all mentions")
        top.axhline(0, color="#bbbbbb", linewidth=0.8)
        top.set_ylabel("net (% pos − % neg)")
        top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
        counts = [p.get("count") or 0 for p in trend.get("overall") or []]
        bottom.bar(xs, counts, color="#607d8b", width=0.7)
        bottom.set_ylabel("mentions")
        step = max(1, math.ceil(len(periods) / 16))
        bottom.set_xticks(xs[::step], [_label(p, 10) for p in periods[::step]], rotation=45, ha="right")
        fig.tight_layout()
        return _svg(fig, prefix, f"Net score per {trend.get('period') or 'period'} over time")
