"""Fast checks of the ATSC building blocks: metrics by hand, checkpoint selection, inputs, data checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ada_atsc.atsc.datasets import check_examples, drop_conflict, load_splits
from ada_atsc.atsc.features import PairCollator, encode_pairs
from ada_atsc.atsc.metrics import classification_metrics
from ada_atsc.atsc.predict import locate_aspect
from ada_atsc.atsc.training import resolve_precision
from ada_atsc.commands.predict import parse_cli_aspect
from ada_atsc.core.errors import AdaError
from ada_atsc.data.records import AspectExample
from ada_atsc.studies.experiment import summarise
from ada_atsc.training.selection import BestDevKeeper


def test_metrics_match_hand_computation():
    # gold: pos pos pos neg neg neu ; pred: pos pos neg neg pos pos
    gold = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 0, 0]
    m = classification_metrics(gold, pred)
    assert m["accuracy"] == pytest.approx(3 / 6)
    # positive: tp 2, predicted 4, gold 3 -> P 0.5, R 2/3, F1 4/7
    assert m["per_class"]["positive"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["positive"]["recall"] == pytest.approx(2 / 3)
    assert m["per_class"]["positive"]["f1"] == pytest.approx(4 / 7)
    # negative: tp 1, predicted 2, gold 2 -> 0.5 / 0.5 / 0.5 ; neutral never predicted -> 0
    assert m["per_class"]["negative"]["f1"] == pytest.approx(0.5)
    assert m["per_class"]["neutral"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["macro_f1"] == pytest.approx((4 / 7 + 0.5 + 0.0) / 3)
    assert m["confusion_matrix"]["rows_gold_cols_pred"] == [[2, 1, 0], [1, 1, 0], [1, 0, 0]]


def test_metrics_agree_with_sklearn_on_random_labels():
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(0)
    gold, pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    m = classification_metrics(gold, pred)
    assert m["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro", labels=[0, 1, 2], zero_division=0))


def test_best_dev_keeper_keeps_weights_of_best_step_not_last():
    model = torch.nn.Linear(2, 2)
    keeper = BestDevKeeper()
    weights = {}
    for step, score in [(100, 0.50), (200, 0.71), (300, 0.71), (400, 0.60)]:
        with torch.no_grad():
            model.weight.fill_(float(step))
        weights[step] = model.weight.clone()
        keeper.observe(step, {"eval_macro_f1": score, "eval_accuracy": 0.8}, model)
    assert keeper.best_step == 200  # ties keep the earlier step; later worse steps do not replace it
    keeper.restore_best(model)
    assert torch.equal(model.weight, weights[200])
    assert [h["step"] for h in keeper.history] == [100, 200, 300, 400]
    assert keeper.history[1]["macro_f1"] == 0.71


def test_pair_encoding_puts_cls_in_segment_zero(tiny_bert_dir):
    from ada_atsc.runtime.models import load_tokenizer

    tok = load_tokenizer(str(tiny_bert_dir))
    (feat,) = encode_pairs(tok, ["the food was great"], ["food"], 128)
    tokens = tok.convert_ids_to_tokens(feat["input_ids"])
    assert tokens[0] == "[CLS]" and feat["token_type_ids"][0] == 0
    first_sep = tokens.index("[SEP]")
    assert set(feat["token_type_ids"][: first_sep + 1]) == {0}
    assert tokens[first_sep + 1 : -1] == ["food"] and set(feat["token_type_ids"][first_sep + 1 :]) == {1}
    (short,) = encode_pairs(tok, ["the food was great " * 40], ["food"], 16)
    assert len(short["input_ids"]) == 16


def test_collator_pads_to_longest_or_fixed_length():
    feats = [{"input_ids": [2, 5, 3], "token_type_ids": [0, 0, 0], "attention_mask": [1, 1, 1], "labels": 1},
             {"input_ids": [2, 3], "token_type_ids": [0, 0], "attention_mask": [1, 1], "labels": 0}]
    batch = PairCollator(pad_token_id=0)(feats)
    assert batch["input_ids"].tolist() == [[2, 5, 3], [2, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [1, 0]
    assert PairCollator(0, pad_to=8)(feats)["input_ids"].shape == (2, 8)
    assert PairCollator(0, pad_to_multiple_of=8)(feats)["input_ids"].shape == (2, 8)


def test_fp16_without_gpu_warns_and_runs_fp32():
    with pytest.warns(UserWarning, match="full precision"):
        assert resolve_precision(True, False, use_cuda=False) == (False, False)
    assert resolve_precision(False, False, use_cuda=False) == (False, False)


def _ex(**kw):
    base = {"id": "s1#0", "sentence": "The food was great.", "aspect": "food", "start": 4, "end": 8, "polarity": "positive"}
    base.update(kw)
    return AspectExample(**base)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"polarity": "great"}, "unknown polarity 'great'"),
        ({"aspect": "", "start": 4, "end": 4}, "empty aspect"),
        ({"start": 15, "end": 40}, "outside the sentence"),
        ({"aspect": "drinks"}, "not the aspect 'drinks'"),
    ],
)
def test_bad_examples_are_named_errors(bad, message):
    with pytest.raises(AdaError, match=message) as info:
        check_examples([_ex(), _ex(id="s2#0", **bad)], "rest.jsonl")
    assert "rest.jsonl: record s2#0" in str(info.value)


def test_conflict_dropped_with_warning(caplog):
    kept = drop_conflict([_ex(), _ex(id="s2#0", polarity="conflict")], "x.jsonl")
    assert [e.id for e in kept] == ["s1#0"]
    assert "dropped 1 'conflict'" in caplog.text


def _write(path, examples):
    path.write_text("".join(json.dumps(e.to_record()) + "\n" for e in examples), encoding="utf-8")


def test_splits_never_train_on_a_dev_sentence(tmp_path):
    shared = _ex(id="d1#0", sentence="The wine was bad.", aspect="wine", start=4, end=8, polarity="negative")
    _write(tmp_path / "train.jsonl", [_ex(), shared])
    _write(tmp_path / "dev.jsonl", [shared])
    splits = load_splits(str(tmp_path), use_dev=True, need_test=False)
    assert [e.id for e in splits.train] == ["s1#0"]
    assert load_splits(str(tmp_path), use_dev=False, need_test=False).train[-1] == shared
    (tmp_path / "train_split.jsonl").write_text((tmp_path / "train.jsonl").read_text().splitlines()[0] + "\n")
    assert load_splits(str(tmp_path), use_dev=True).sources["train"].endswith("train_split.jsonl")


def test_missing_files_and_dev_are_clear_errors(tmp_path):
    with pytest.raises(AdaError, match="not a directory"):
        load_splits(str(tmp_path / "nope"))
    with pytest.raises(AdaError, match="no train"):
        load_splits(str(tmp_path))
    _write(tmp_path / "train.jsonl", [_ex()])
    with pytest.raises(AdaError, match="dev split"):
        load_splits(str(tmp_path), use_dev=True)
    with pytest.raises(AdaError, match="file not found"):
        load_splits(train_file=str(tmp_path / "missing.jsonl"), use_dev=False)


def test_locate_aspect_terms_and_spans():
    s = "The food was great but the service was slow."
    assert locate_aspect(s, "service") == ("service", 27, 34)
    assert locate_aspect(s, "FOOD") == ("food", 4, 8)
    assert locate_aspect(s, (4, 8)) == ("food", 4, 8)
    assert locate_aspect(s, {"from": 27, "to": 34}) == ("service", 27, 34)
    for bad, msg in [("pizza", "not in the sentence"), ("  ", "empty"), ((40, 99), "outside")]:
        with pytest.raises(AdaError, match=msg):
            locate_aspect(s, bad)
    assert parse_cli_aspect("4:8") == (4, 8) and parse_cli_aspect("food") == "food"


def test_summary_mean_std_max_over_seeds():
    per_run = [{"model": "m", "dataset": "rest", "seed": s, "scores": {"rest": {"accuracy": a, "macro_f1": f}}}
               for s, a, f in [(1, 0.80, 0.70), (2, 0.82, 0.74), (3, 0.84, 0.72)]]
    (row,) = summarise(per_run)
    assert row["accuracy_mean"] == pytest.approx(82.0) and row["accuracy_std"] == pytest.approx(2.0)
    assert row["macro_f1_max"] == pytest.approx(74.0) and row["n_seeds"] == 3 and row["setting"] == "in-domain"


def test_warmup_ratio_warms_the_learning_rate_up_over_that_share_of_the_steps(tmp_path):
    """``--warmup_ratio`` (Hugging Face's name, ``--warmup_proportion`` the paper's) reaches the schedule: 10% of
    200 steps is 20 warm-up steps; ``--warmup_steps`` wins when both are given."""
    from ada_atsc.commands.train import build_parser, training_options
    from ada_atsc.training.fine_tune import training_arguments

    def warmup(*flags):
        args = build_parser().parse_args(["--model_name_or_path", "m", "--output_dir", str(tmp_path / "o"), *flags])
        return training_arguments(training_options(args), tmp_path / "scratch", use_dev=False).get_warmup_steps(200)

    assert warmup() == 0
    assert warmup("--warmup_ratio", "0.1") == 20
    assert warmup("--warmup_proportion", "0.25") == 50
    assert warmup("--warmup_ratio", "0.1", "--warmup_steps", "7") == 7


def test_warmup_ratio_out_of_range_is_one_clear_error(tmp_path):
    from ada_atsc.atsc.options import ClassifierTrainingOptions
    from ada_atsc.training.fine_tune import fine_tune

    options = ClassifierTrainingOptions(model_name_or_path="m", output_dir=str(tmp_path / "o"), warmup_ratio=1.5)
    with pytest.raises(AdaError, match=r"--warmup_ratio must be in \[0, 1\), got 1.5"):
        fine_tune(None, options)
    assert not (tmp_path / "o").exists()
