"""``adapt``'s default model: one unified tagger (aspects and their polarity in one encoder pass).

The stages after LM adaptation, for a tagger bundle:

* :func:`train_tagger`: a tagger from the adapted encoder on the labelled source sentences, selected on the
  source dev set by joint (span, polarity) F1 (``train --task unified``);
* :func:`tagger_pseudo_labels`: self-training data from it: the target sentences it tags with confidence,
  thresholds chosen on the source dev set exactly as for the pair (:mod:`.pseudo`), a sentence kept only when
  every span and every polarity of it is sure (the tagger learns both from each kept sentence), and sentences
  without aspects added in the source's share of the sentences actually kept: counted before the unsure ones
  were dropped, they had outnumbered the sentences with aspects and taught the tagger that target text has
  none (docs/cross_domain.md, laptops -> restaurants).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.labels import ATSC_LABELS
from ..data.records import SentenceRecord
from .pseudo import PseudoLabels, Threshold, extraction_threshold, polarity_threshold, pseudo_label

TaggerFinding = tuple[int, int, float, str, dict]
"""One aspect as :meth:`~ada_atsc.absa.unified.UnifiedTagger.tag` gives it: (start, end, score, label, probs)."""


def spans_and_rows(found: Sequence[TaggerFinding], text: str,
                   labels: Sequence[str] = ATSC_LABELS) -> tuple[list[dict], np.ndarray]:
    """The tagger's aspects of one sentence as the pseudo-labeller reads them: span dicts and polarity rows."""
    spans = [{"term": text[a:b], "from": a, "to": b, "score": score} for a, b, score, _, _ in found]
    rows = np.asarray([[probs[label] for label in labels] for *_, probs in found], dtype=np.float64)
    return spans, rows.reshape(len(found), len(labels))


def tagger_thresholds(found: Sequence[Sequence[TaggerFinding]], dev: Sequence[SentenceRecord], *,
                      extraction_precision: float, polarity_precision: float,
                      labels: Sequence[str] = ATSC_LABELS) -> tuple[Threshold, float, Threshold]:
    """(extraction threshold, how often dev sentences with nothing found are right, polarity threshold) from
    the tagger's findings ``found`` on the source dev sentences ``dev``; polarity is judged on the spans found
    exactly."""
    spans = [spans_and_rows(f, s.sentence, labels)[0] for f, s in zip(found, dev)]
    extraction, empty_right = extraction_threshold(spans, dev, extraction_precision)
    rows, gold_labels = [], []
    for findings, sentence in zip(found, dev):
        gold = {(a.start, a.end): a.polarity for a in sentence.aspects}
        for a, b, _, _, probs in findings:
            if gold.get((a, b)) in labels:
                rows.append([probs[label] for label in labels])
                gold_labels.append(gold[(a, b)])
    polarity = polarity_threshold(np.asarray(rows, dtype=np.float64).reshape(-1, len(labels)), gold_labels, labels,
                                  polarity_precision)
    return extraction, empty_right, polarity


def tagger_pseudo_labels(texts: Sequence[str], found: Sequence[Sequence[TaggerFinding]], extraction: Threshold,
                         polarity: Threshold, *, keep_empty: bool, empty_share: float, max_per_term: int, seed: int,
                         round_name: str = "r1", labels: Sequence[str] = ATSC_LABELS) -> PseudoLabels:
    """The confident target sentences a tagger learns from (see the module docstring); ``counts`` says how
    many of each kind were seen, confident and kept."""
    pairs = [spans_and_rows(f, t, labels) for t, f in zip(texts, found)]
    labelled = pseudo_label(texts, [p[0] for p in pairs], [p[1] for p in pairs], labels, extraction, polarity,
                            keep_empty=False, empty_share=empty_share, max_per_term=max_per_term, seed=seed,
                            round_name=round_name)
    sure = [s for s in labelled.sentences if s.aspects and all(a.polarity is not None for a in s.aspects)]
    empty = [SentenceRecord(f"target-{round_name}-{i}", t, ()) for i, (t, f) in enumerate(zip(texts, found)) if not f]
    kept_empty: list[SentenceRecord] = []
    if keep_empty and empty:
        import random

        room = int(round(empty_share / max(1e-9, 1 - empty_share) * len(sure)))
        kept_empty = random.Random(seed).sample(empty, min(room, len(empty)))
    sentences = sorted(sure + kept_empty, key=lambda s: int(s.id.rsplit("-", 1)[1]))
    counts = {**labelled.counts, "sentences_all_polarities_sure": len(sure), "empty_sentences_kept": len(kept_empty),
              "sentences_kept": len(sentences)}
    return PseudoLabels(sentences, [], counts)


def train_tagger(encoder: str, data: Path, output_dir: Path, *, steps: int, batch_size: int, eval_steps: int,
                 seed: int, progress: bool, learning_rate: float = 5e-5) -> dict:
    """A unified tagger from ``encoder`` on ``data``'s ``train.sentences.jsonl``, selected on its
    ``dev.sentences.jsonl`` by joint F1; returns its best dev scores (rounded)."""
    from ..absa.unified_training import run_unified_training
    from ..atsc.options import ClassifierTrainingOptions

    results = run_unified_training(ClassifierTrainingOptions(
        model_name_or_path=encoder, output_dir=str(output_dir), task="unified",
        train_file=[str(data / "train.sentences.jsonl")], dev_file=[str(data / "dev.sentences.jsonl")],
        do_train=True, do_eval=True, evaluate_during_training=True, max_steps=steps,
        warmup_steps=max(1, steps // 15), learning_rate=learning_rate, train_batch_size=batch_size,
        logging_steps=eval_steps, seed=seed, overwrite_output_dir=True, disable_tqdm=not progress))
    best = (results.get("dev") or {}).get("best") or {}
    return {k: round(v, 4) for k, v in best.items() if isinstance(v, float)}
