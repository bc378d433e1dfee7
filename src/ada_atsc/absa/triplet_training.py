"""Training a triplet tagger (``ada-atsc train --task triplets``): the unified tagger's recipe with opinion tags.

Data: sentences whose aspects carry their opinion spans, e.g. ASTE-V2's ``{train,dev,test}_triplets.txt``
(read as they are: ``--train_file data/aste/14res/train_triplets.txt``) or sentence JSONL with ``opinions``.
The same command, flags and protocol as ``--task unified``; dev selection reads the triplet F1 (exact aspect
span, opinion span and polarity), the ASTE measure; test is scored with triplet, pair, opinion, extraction and
joint (aspect, polarity) F1.
"""

from __future__ import annotations

import numpy as np

from ..ate.spans import span_scores
from ..core.errors import AdaError
from ..core.labels import TRIPLET_TAGS
from ..training.fine_tune import Splits, fine_tune
from .scores import triplet_scores
from .triplets import decode_triplets, tag_triplet_texts, triplet_word_tags
from .unified import aspect_record
from .unified_training import UnifiedTask, labelled_word_probabilities

MEASURES = ("triplet", "pair", "opinion", "ate", "joint")


def word_triplets(probs: np.ndarray) -> set[tuple]:
    """((aspect words), (opinion words), polarity) of one sentence's word-level tag probabilities."""
    words = [(k, k + 1) for k in range(len(probs))]
    return {((a, b), (o[0], o[1]), label) for a, b, _, label, _, opinions in decode_triplets(words, probs)
            for o in opinions}


class TripletTask(UnifiedTask):
    """A triplet tagger for :func:`ada_atsc.training.fine_tune.fine_tune`: :class:`UnifiedTask` with opinion
    tags, selected on dev by triplet F1."""

    name = "triplets"
    labels = TRIPLET_TAGS

    def prepare_train(self, splits: Splits, options) -> dict:
        if not any(a.opinions for s in splits.train for a in s.aspects):
            raise AdaError("--task triplets: the training data has no opinion spans (use ASTE data, e.g. "
                           "data/aste/14res/train_triplets.txt, or sentence JSONL whose aspects have 'opinions')")
        return super().prepare_train(splits, options)

    def encode(self, tokenizer, examples: list, options) -> list[dict]:
        from ..ate.features import encode_sentences

        return encode_sentences(tokenizer, examples, options.max_seq_length, tag_words=triplet_word_tags)

    def compute_metrics(self, eval_pred) -> dict[str, float]:
        """Exact triplet F1 over words: gold read from the gold tags by the same decoding."""
        gold_sets, pred_sets = [], []
        eye = np.eye(len(TRIPLET_TAGS))
        for labels, logits in zip(eval_pred.label_ids, eval_pred.predictions):
            tags, probs = labelled_word_probabilities(labels, logits)
            gold_sets.append(word_triplets(eye[tags]))
            pred_sets.append(word_triplets(probs))
        scores = span_scores(gold_sets, pred_sets)
        return {k: scores[k] for k in ("precision", "recall", "f1")}

    def score(self, model, tokenizer, examples: list, options):
        found = tag_triplet_texts(model, tokenizer, [s.sentence for s in examples],
                                  max_seq_length=options.max_seq_length, batch_size=options.eval_batch_size)
        predicted = [[aspect_record(s.sentence, 0, f) for f in spans] for s, spans in zip(examples, found)]
        scores = triplet_scores(examples, predicted)
        metrics = {"precision": scores["triplet"]["precision"], "recall": scores["triplet"]["recall"],
                   "f1": scores["triplet"]["f1"]}
        metrics.update({f"{name}_f1": scores[name]["f1"] for name in MEASURES[1:]})
        records = [{"id": s.id, "sentence": s.sentence, "gold": [a.to_record() for a in s.aspects], "pred": aspects}
                   for s, aspects in zip(examples, predicted)]
        return metrics, records

    def model_card(self, results: dict, options) -> str:
        """``README.md`` of a trained triplet tagger."""
        def scores(split: str) -> str:
            best = results.get(split, {}).get("best")
            if not best:
                return "not scored"
            return (f"triplet F1 {100 * best['f1']:.2f}, pair F1 {100 * best['pair_f1']:.2f}, opinion F1 "
                    f"{100 * best['opinion_f1']:.2f}, aspect F1 {100 * best['ate_f1']:.2f}, aspect + polarity F1 "
                    f"{100 * best['joint_f1']:.2f}")

        data = results.get("data", {})
        return "\n".join([
            "---", "library_name: transformers", "pipeline_tag: token-classification",
            "tags: [ada-atsc, absa, aste]", "---", "", "# An aspect sentiment triplet tagger (ada-atsc)", "",
            "One `AutoModelForTokenClassification` that finds each aspect term with its polarity and the opinion "
            "words behind it in one encoder pass (the unified tags, plus opinion tags that name which aspects "
            "they belong to; see `ada_atsc/absa/triplets.py`). Use it as `ada-atsc absa --model DIR` (also "
            "`evaluate`, `serve`, `report`, `export`).", "",
            f"- encoder: `{results.get('model_name_or_path')}`",
            f"- training data: `{data.get('train')}`; dev (selection on triplet F1): `{data.get('dev')}`",
            f"- steps: best-dev step {results.get('best_step')} of {results.get('last_step')}, seed "
            f"{results.get('seed')}, learning rate {options.learning_rate}, batch {options.train_batch_size}",
            f"- test (`{data.get('test')}`), best-dev checkpoint: {scores('test')}",
            f"- dev: {scores('dev')}", ""])

    def summary(self, metrics: dict) -> str:
        return (f"triplet F1 {metrics['f1']:.4f} (pair {metrics.get('pair_f1', 0.0):.4f}, opinion "
                f"{metrics.get('opinion_f1', 0.0):.4f}, aspect {metrics.get('ate_f1', 0.0):.4f}, aspect + polarity "
                f"{metrics.get('joint_f1', 0.0):.4f})")

    def results_txt(self, results: dict) -> str:
        from ..training.evaluation import eval_results_txt

        return eval_results_txt(results, {"triplet_f1": "f1", "pair_f1": "pair_f1", "opinion_f1": "opinion_f1",
                                          "ate_f1": "ate_f1", "joint_f1": "joint_f1"})


def run_triplet_training(options, splits: Splits | None = None) -> dict:
    """Train a triplet tagger with dev selection; returns the ``eval_results.json`` content."""
    if not options.do_train:
        raise AdaError("--task triplets: pass --do_train (to score a trained tagger use 'ada-atsc evaluate')")
    return fine_tune(TripletTask(), options, splits)
