"""Training a unified tagger (``ada-atsc train --task unified``): extraction's recipe with polarity tags.

The same data (``<split>.sentences.jsonl`` from ``prepare-semeval``, or any sentence file), the same command,
flags and honest protocol as ``--task ate`` (dev every ``--logging_steps``, the best-dev checkpoint kept, test
scored at the best-dev step and at the last); only the tags differ (:data:`~ada_atsc.core.labels.UNIFIED_TAGS`)
and dev selection reads the joint (span, polarity) F1, the measure the tagger is for. The reported scores are
the pipeline's (:func:`~ada_atsc.absa.scores.joint_scores`): extraction F1, joint F1, sentiment on the aspects
found, so a unified tagger and a pipeline compare number for number.
"""

from __future__ import annotations

from ..ate.spans import IGNORE_LABEL, span_scores
from ..ate.training import ATETask
from ..core.errors import AdaError
from ..core.labels import POLARITIES, UNIFIED_TAGS
from ..training.fine_tune import Splits, fine_tune
from .scores import joint_scores
from .unified import aspect_record, decode_unified, tag_texts, unified_word_tags


def gold_pairs(tags: list[int]) -> set[tuple[tuple[int, int], str]]:
    """((first word, end word), polarity) of each span in a sequence of gold unified tags."""
    pairs, start, polarity = set(), None, None
    for i, tag in enumerate([*tags, 0]):
        if start is not None and (tag == 0 or tag % 2 == 1):
            pairs.add(((start, i), polarity))
            start = None
        if tag % 2 == 1:
            start, polarity = i, POLARITIES[(tag - 1) // 2]
        elif tag and start is None:  # an I with no span open starts one, as decoding does
            start, polarity = i, POLARITIES[(tag - 2) // 2]
    return pairs


def labelled_word_probabilities(labels, logits) -> tuple[list[int], object]:
    """(gold tag of each word, tag probabilities of each word) of one evaluated sequence: the positions that
    carry a label (a word's first sub-word), softmax over their logits."""
    import numpy as np

    positions = [i for i, label in enumerate(labels) if label != IGNORE_LABEL]
    rows = np.asarray(logits[positions], dtype=np.float64)
    probs = np.exp(rows - rows.max(axis=1, keepdims=True))
    return [int(labels[i]) for i in positions], probs / probs.sum(axis=1, keepdims=True)


class UnifiedTask(ATETask):
    """A unified tagger for :func:`ada_atsc.training.fine_tune.fine_tune`: :class:`ATETask` with polarity
    tags, selected on dev by joint F1."""

    name = "unified"
    labels = UNIFIED_TAGS

    def prepare_train(self, splits: Splits, options) -> dict:
        for name, sentences in (("train", splits.train), ("dev", splits.dev or [])):
            for sentence in sentences:
                for aspect in sentence.aspects:
                    if aspect.polarity not in POLARITIES:
                        raise AdaError(f"{name} sentence {sentence.id}: aspect {aspect.term!r} has no polarity "
                                       f"({aspect.polarity!r}); a unified tagger learns from labelled aspects")
        return super().prepare_train(splits, options)

    def encode(self, tokenizer, examples: list, options) -> list[dict]:
        from ..ate.features import encode_sentences

        return encode_sentences(tokenizer, examples, options.max_seq_length, tag_words=unified_word_tags)

    def compute_metrics(self, eval_pred) -> dict[str, float]:
        """Exact (span, polarity) F1 over words, conflict spans left out on both sides (as in joint scores)."""
        gold_sets, pred_sets = [], []
        for labels, logits in zip(eval_pred.label_ids, eval_pred.predictions):
            tags, probs = labelled_word_probabilities(labels, logits)
            words = [(k, k + 1) for k in range(len(tags))]
            gold = gold_pairs(tags)
            conflict = {span for span, polarity in gold if polarity == "conflict"}
            gold_sets.append({pair for pair in gold if pair[0] not in conflict})
            pred_sets.append({((a, b), label) for a, b, _, label, _ in decode_unified(words, probs)
                              if (a, b) not in conflict})
        scores = span_scores(gold_sets, pred_sets)
        return {k: scores[k] for k in ("precision", "recall", "f1")}

    def score(self, model, tokenizer, examples: list, options):
        found = tag_texts(model, tokenizer, [s.sentence for s in examples], max_seq_length=options.max_seq_length,
                          batch_size=options.eval_batch_size)
        predicted = [[aspect_record(s.sentence, 0, f) for f in spans] for s, spans in zip(examples, found)]
        scores = joint_scores(examples, predicted)
        sentiment = scores["atsc_on_extracted"] or {"accuracy": 0.0, "macro_f1": 0.0}
        metrics = {"precision": scores["joint"]["precision"], "recall": scores["joint"]["recall"],
                   "f1": scores["joint"]["f1"], "ate_precision": scores["ate"]["precision"],
                   "ate_recall": scores["ate"]["recall"], "ate_f1": scores["ate"]["f1"],
                   "atsc_accuracy_on_extracted": sentiment["accuracy"],
                   "atsc_macro_f1_on_extracted": sentiment["macro_f1"]}
        records = [{"id": s.id, "sentence": s.sentence, "gold": [a.to_record() for a in s.aspects], "pred": aspects}
                   for s, aspects in zip(examples, predicted)]
        return metrics, records

    def model_card(self, results: dict, options) -> str:
        """``README.md`` of a trained tagger: what it is, what it learnt from, how it scored."""
        def scores(split: str) -> str:
            best = results.get(split, {}).get("best")
            if not best:
                return "not scored"
            return (f"joint F1 {100 * best['f1']:.2f}, extraction F1 {100 * best['ate_f1']:.2f}, sentiment "
                    f"accuracy on the aspects found {100 * best['atsc_accuracy_on_extracted']:.2f}")

        data = results.get("data", {})
        return "\n".join([
            "---", "library_name: transformers", "pipeline_tag: token-classification", "tags: [ada-atsc, absa]",
            "---", "", "# A unified aspect-sentiment tagger (ada-atsc)", "",
            "One `AutoModelForTokenClassification` that finds each aspect term of a sentence with its polarity in "
            "one encoder pass (tags O, B-/I-positive, negative, neutral, conflict; see "
            "`ada_atsc/absa/unified.py`). Use it as `ada-atsc absa --model DIR` (also `evaluate`, `serve`, "
            "`report`, `export`).", "",
            f"- encoder: `{results.get('model_name_or_path')}`",
            "- teacher: none (trained on the gold labels of its training data, no distillation)",
            f"- training data: `{data.get('train')}`; dev (selection): `{data.get('dev')}`",
            f"- steps: best-dev step {results.get('best_step')} of {results.get('last_step')}, seed "
            f"{results.get('seed')}, learning rate {options.learning_rate}, batch {options.train_batch_size}",
            f"- test (`{data.get('test')}`), best-dev checkpoint: {scores('test')}",
            f"- dev: {scores('dev')}", ""])

    def summary(self, metrics: dict) -> str:
        return (f"joint F1 {metrics['f1']:.4f} (extraction F1 {metrics.get('ate_f1', 0.0):.4f}, "
                f"accuracy on found {metrics.get('atsc_accuracy_on_extracted', 0.0):.4f})")

    def results_txt(self, results: dict) -> str:
        from ..training.evaluation import eval_results_txt

        return eval_results_txt(results, {"joint_precision": "precision", "joint_recall": "recall", "joint_f1": "f1",
                                          "ate_f1": "ate_f1", "atsc_accuracy_on_extracted": "atsc_accuracy_on_extracted"})


def run_unified_training(options, splits: Splits | None = None) -> dict:
    """Train a unified tagger with dev selection; returns the ``eval_results.json`` content."""
    if not options.do_train:
        raise AdaError("--task unified: pass --do_train (to score a trained tagger use 'ada-atsc evaluate')")
    return fine_tune(UnifiedTask(), options, splits)
