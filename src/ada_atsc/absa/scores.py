"""Joint evaluation of the pipeline on sentence-level gold: extraction, (span, polarity) pairs, sentiment.

* ``ate``: exact-span precision, recall, F1 (micro) of the extracted spans (all gold spans, conflict ones too).
* ``joint``: exact (span, polarity) matches, micro P/R/F1: the E2E-ABSA measure of Li et al. (2019). Gold
  aspects labelled ``conflict`` are not one of the three classes: they are left out of the joint gold, and a
  predicted span equal to one of them counts neither way. Scores that accept a partial or substring match of
  the term (as InstructABSA reports) are higher by construction and not comparable.
* ``atsc_on_extracted``: accuracy and macro-F1 of the classifier on the gold aspects the extractor found
  exactly (conflict excluded): how good the sentiment is where extraction succeeded.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ate.spans import span_scores
from ..atsc.metrics import classification_metrics
from ..core.labels import LABEL2ID
from ..data.records import SentenceRecord


def joint_scores(gold: Sequence[SentenceRecord], predicted: Sequence[list[dict]]) -> dict:
    """The three scores above; ``predicted`` holds the pipeline's aspects of each gold sentence."""
    ate = span_scores([{(a.start, a.end) for a in s.aspects} for s in gold],
                      [{(p["from"], p["to"]) for p in aspects} for aspects in predicted])
    gold_pairs, pred_pairs, gold_ids, pred_ids = [], [], [], []
    for sentence, aspects in zip(gold, predicted):
        conflict = {(a.start, a.end) for a in sentence.aspects if a.polarity == "conflict"}
        labelled = {(a.start, a.end): a.polarity for a in sentence.aspects if a.polarity in LABEL2ID}
        gold_pairs.append({(span, label) for span, label in labelled.items()})
        pred_pairs.append({((p["from"], p["to"]), p["label"]) for p in aspects if (p["from"], p["to"]) not in conflict})
        for p in aspects:
            span = (p["from"], p["to"])
            if span in labelled:
                gold_ids.append(LABEL2ID[labelled[span]])
                pred_ids.append(LABEL2ID[p["label"]])
    joint = span_scores(gold_pairs, pred_pairs)
    sentiment = classification_metrics(gold_ids, pred_ids) if gold_ids else None
    return {
        "ate": ate,
        "joint": {k: joint[k] for k in ("precision", "recall", "f1", "true_positives", "gold_spans", "predicted_spans")},
        "atsc_on_extracted": None if sentiment is None else {
            "accuracy": sentiment["accuracy"], "macro_f1": sentiment["macro_f1"], "num_examples": len(gold_ids)},
        "sentences": len(gold),
    }


def evaluate_pipeline(pipeline, sentences: Sequence[SentenceRecord]) -> tuple[dict, list[dict]]:
    """Run ``pipeline`` on each gold sentence; (scores, one record per sentence with gold and predicted)."""
    results = pipeline.predict([s.sentence for s in sentences])
    predicted = [r.get("aspects", []) for r in results]
    records = [{"id": s.id, "sentence": s.sentence,
                "gold": [a.to_record() for a in s.aspects], "pred": aspects}
               for s, aspects in zip(sentences, predicted)]
    return joint_scores(sentences, predicted), records


def triplet_scores(gold: Sequence[SentenceRecord], predicted: Sequence[list[dict]]) -> dict:
    """The ASTE measures (exact matches, micro P/R/F1) of aspects with their opinions: ``triplet`` (aspect
    span, opinion span, polarity), ``pair`` (aspect span, opinion span), ``opinion`` (opinion spans), beside
    :func:`joint_scores`' ``ate`` and ``joint``. ``predicted`` holds the aspects of each gold sentence, each
    with its ``opinions`` (``from``, ``to``)."""
    gold_triplets, pred_triplets = [], []
    for sentence, aspects in zip(gold, predicted):
        gold_triplets.append({((a.start, a.end), (o.start, o.end), a.polarity)
                              for a in sentence.aspects for o in a.opinions})
        pred_triplets.append({((p["from"], p["to"]), (o["from"], o["to"]), p["label"])
                              for p in aspects for o in p.get("opinions", ())})
    measures = {"triplet": span_scores(gold_triplets, pred_triplets),
                "pair": span_scores([{t[:2] for t in s} for s in gold_triplets],
                                    [{t[:2] for t in s} for s in pred_triplets]),
                "opinion": span_scores([{t[1] for t in s} for s in gold_triplets],
                                       [{t[1] for t in s} for s in pred_triplets])}
    scores = {name: {k: m[k] for k in ("precision", "recall", "f1")} for name, m in measures.items()}
    scores.update({k: v for k, v in joint_scores(gold, predicted).items() if k in ("ate", "joint", "sentences")})
    return scores
