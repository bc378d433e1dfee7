"""Aspect robustness: input formats, the aspect-pooling head, multi-polarity scores, contrast variants, probe."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ada_atsc.atsc.contrast import augment_with_contrast, build_probe, clause_pool, contrast_variants
from ada_atsc.atsc.features import (
    ASPECT_END,
    ASPECT_START,
    InputFormat,
    add_marker_tokens,
    encode_pairs,
    mark_span,
)
from ada_atsc.atsc.metrics import multi_polarity_indices, scores_with_subsets
from ada_atsc.cli import main
from ada_atsc.data.readers import read_dataset
from ada_atsc.data.records import AspectExample

from .conftest import DATA, SEMEVAL

FAST = ["--max_steps", "6", "--logging_steps", "3", "--per_gpu_train_batch_size", "8", "--disable_tqdm"]


def _ex(id_, sentence, aspect, polarity):
    start = sentence.index(aspect)
    return AspectExample(id_, sentence, aspect, start, start + len(aspect), polarity)


def _write_jsonl(path: Path, examples) -> Path:
    path.write_text("".join(json.dumps(e.to_record()) + "\n" for e in examples), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rest_test():
    return [e for e in read_dataset(SEMEVAL / "Restaurants_Test_Gold.xml") if e.polarity != "conflict"]


def test_multi_polarity_subset_is_sentences_with_differing_labels():
    examples = [_ex("1#0", "Great food but slow service.", "food", "positive"),
                _ex("1#1", "Great food but slow service.", "service", "negative"),
                _ex("2#0", "Nice wine and nice staff.", "wine", "positive"),
                _ex("2#1", "Nice wine and nice staff.", "staff", "positive"),
                _ex("3#0", "The menu.", "menu", "neutral")]
    assert multi_polarity_indices(examples) == [0, 1]
    # a classifier answering with the sentence's tone: right overall on 4 of 5, but half wrong on the subset
    scores = scores_with_subsets(examples, [0, 1, 0, 0, 2], [0, 0, 0, 0, 2])
    assert scores["accuracy"] == pytest.approx(0.8)
    assert scores["multi_polarity"] == {"accuracy": 0.5, "macro_f1": pytest.approx(2 / 9),
                                        "num_examples": 2, "num_sentences": 1}
    assert scores_with_subsets(examples[2:], [0, 0, 2], [0, 0, 2])["multi_polarity"]["accuracy"] is None


def test_marked_pairs_separate_two_aspects_of_one_sentence(tiny_bert_dir):
    from ada_atsc.runtime.models import load_tokenizer

    tok = load_tokenizer(str(tiny_bert_dir))
    assert add_marker_tokens(tok) == 2 and add_marker_tokens(tok) == 0
    sentence = "the food was great but the service was slow"
    plain = encode_pairs(tok, [sentence], ["food"], 128)[0]["input_ids"]
    fmt = InputFormat(aspect_markers=True, aspect_pooling=True)
    food, service = encode_pairs(tok, [sentence, sentence], ["food", "service"], 128, spans=[(4, 8), (27, 34)],
                                 input_format=fmt)
    tokens = tok.convert_ids_to_tokens(food["input_ids"])
    assert tokens[:5] == ["[CLS]", "the", ASPECT_START, "food", ASPECT_END] and len(tokens) == len(plain) + 2
    assert [t for t, m in zip(tokens, food["aspect_mask"]) if m] == ["food"]
    s_tokens = tok.convert_ids_to_tokens(service["input_ids"])
    assert [t for t, m in zip(s_tokens, service["aspect_mask"]) if m] == ["service"]
    assert food["input_ids"] != service["input_ids"]
    # truncation that cuts the span out of the sentence: the head pools the aspect segment instead
    (cut,) = encode_pairs(tok, ["good " * 60 + "the food"], ["food"], 16, spans=[(309, 313)], input_format=fmt)
    assert sum(cut["aspect_mask"]) >= 1 and len(cut["input_ids"]) == 16
    assert mark_span("a b c", 2, 3) == (f"a {ASPECT_START}b{ASPECT_END} c", 2 + len(ASPECT_START), 3 + len(ASPECT_START))


def test_contrast_variants_keep_the_aspect_and_oppose_its_polarity(rest_test):
    probe = build_probe(rest_test, seed=7, variants=2)
    assert probe == build_probe(rest_test, seed=7, variants=2)  # seeded
    assert probe != build_probe(rest_test, seed=8, variants=2)
    pool = clause_pool(rest_test)
    polarity_of = {c.text: c.polarity for cs in pool.clauses.values() for c in cs}
    with_variants = 0
    for original, variants in probe:
        with_variants += bool(variants)
        for variant in variants:
            assert variant.sentence[variant.start:variant.end] == original.aspect
            assert variant.polarity == original.polarity and variant.id.startswith(original.id + "~c")
            added = variant.sentence.replace(original.sentence.rstrip(" .!?"), "\0")
            assert "\0" in added or original.sentence[0].lower() + original.sentence[1:] in variant.sentence \
                or original.sentence in variant.sentence
            core = original.sentence.strip().rstrip(" .!?")
            found = [text for text in polarity_of if text != core and any(
                form in variant.sentence for form in (text, text[0].lower() + text[1:], text[0].upper() + text[1:]))]
            assert found, (original.sentence, variant.sentence)
            clause = max(found, key=len)
            assert original.aspect.lower() not in clause.lower()
            if original.polarity in ("positive", "negative"):
                assert polarity_of[clause] != original.polarity
    assert with_variants > 0.95 * len(probe)


def test_proper_nouns_keep_their_capital():
    items = [_ex("1#0", "Emilio greeted us warmly.", "Emilio", "positive"),
             _ex("2#0", "The soup was cold.", "soup", "negative"),
             _ex("3#0", "We liked the soup and the bread.", "bread", "positive")]
    pool = clause_pool(items)
    assert pool.lower_first("The soup was cold") == "the soup was cold"
    assert pool.lower_first("Emilio greeted us warmly") == "Emilio greeted us warmly"
    (variant,) = contrast_variants(items[1], pool, random.Random(0), count=1)
    assert variant.sentence in ("The soup was cold, but Emilio greeted us warmly.",
                                "The soup was cold; however, Emilio greeted us warmly.")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.floats(0.0, 1.0))
def test_augmentation_only_adds_valid_variants_of_training_items(seed, rate):
    train = [e for e in read_dataset(SEMEVAL / "Restaurants_Train_v2.xml")[:300] if e.polarity != "conflict"]
    augmented = augment_with_contrast(train, rate, seed=seed)
    assert augmented[: len(train)] == train and augmented == augment_with_contrast(train, rate, seed=seed)
    sentences = {e.sentence for e in train}
    for variant in augmented[len(train):]:
        assert variant.sentence[variant.start:variant.end] == variant.aspect and variant.sentence not in sentences
    assert len(augmented) - len(train) <= len(train) * rate + 4 * (len(train) * max(rate, 0.01)) ** 0.5 + 5


@pytest.fixture(scope="module")
def mixed_data(tmp_path_factory):
    """SemEval-like train/dev/test cut small, and a MAMS slice; one training sentence is also a test one."""
    folder = tmp_path_factory.mktemp("mixed")
    train = read_dataset(SEMEVAL / "Restaurants_Train_v2.xml")[:100]
    mams = read_dataset(DATA / "mams" / "val.xml")[:60]
    test = [e for e in read_dataset(SEMEVAL / "Restaurants_Test_Gold.xml")[:40] if e.polarity != "conflict"]
    leaked = AspectExample("leak#0", test[0].sentence, test[0].aspect, test[0].start, test[0].end, test[0].polarity)
    return {
        "train": _write_jsonl(folder / "train.jsonl", train[:80] + [leaked]),
        "mams_train": _write_jsonl(folder / "mams_train.jsonl", mams[:40]),
        "dev": _write_jsonl(folder / "dev.jsonl", train[80:]),
        "mams_dev": _write_jsonl(folder / "mams_dev.jsonl", mams[40:]),
        "test": _write_jsonl(folder / "test.jsonl", test),
        "mams_test": DATA / "mams" / "test.xml",
    }


@pytest.mark.parametrize("pooling", [False, True])
def test_train_on_several_files_with_markers_and_pooling(tiny_bert_dir, mixed_data, tmp_path, pooling, capsys):
    out = tmp_path / "clf"
    argv = ["train", "--model", str(tiny_bert_dir), "--output_dir", str(out), "--do_train", "--do_eval",
            "--evaluate_during_training", "--train_file", str(mixed_data["train"]), str(mixed_data["mams_train"]),
            "--dev_file", str(mixed_data["dev"]), str(mixed_data["mams_dev"]),
            "--test_file", str(mixed_data["test"]), str(mixed_data["mams_test"]),
            "--aspect_markers", "--aspect_pooling" if pooling else "--no_aspect_pooling",
            "--contrast_augmentation", "0.5", *FAST]
    assert main(argv) == 0
    results = json.loads((out / "eval_results.json").read_text())
    assert results["input_format"]["aspect_markers"] and results["input_format"]["aspect_pooling"] == pooling
    assert results["num_examples"]["train"] > 120  # 80 + 40 + variants; the leaked test sentence is dropped
    assert list(results["more_tests"]) == ["mams/test"]
    assert results["more_tests"]["mams/test"]["best"]["multi_polarity"]["num_examples"] == 1336
    assert results["test"]["best"]["multi_polarity"]["num_examples"] >= 0
    config = json.loads((out / "config.json").read_text())
    assert config["ada_atsc_input_format"]["markers"] == [ASPECT_START, ASPECT_END]
    # the saved model, reloaded, reproduces the score computed in memory at the end of training
    assert main(["evaluate", "--model", str(out), "--data", str(mixed_data["test"]), "--output_dir",
                 str(tmp_path / "eval")]) == 0
    scored = json.loads((tmp_path / "eval" / "eval_results.json").read_text())
    assert scored["confusion_matrix"] == results["test"]["best"]["confusion_matrix"]
    assert scored["multi_polarity"] == results["test"]["best"]["multi_polarity"]
    # a span is classified where it is: the second "food" is marked, not the first occurrence of the term
    from ada_atsc import Predictor

    first, second, term = Predictor(out).predict("good food , bad food", aspects=[(5, 9), (16, 20), "food"])
    assert (second["from"], second["to"]) == (16, 20)
    assert first["probabilities"] == term["probabilities"] != second["probabilities"]
    if pooling:
        from transformers import AutoModel

        assert (out / "aspect_head.safetensors").is_file()
        AutoModel.from_pretrained(out)  # the encoder is a plain Hugging Face directory
    else:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        AutoModelForSequenceClassification.from_pretrained(out)
        assert AutoTokenizer.from_pretrained(out).tokenize(f"x {ASPECT_START}food{ASPECT_END}")[1] == ASPECT_START


def test_paper_script_keeps_the_paper_input(tiny_bert_dir, mixed_data, tmp_path):
    import importlib.util

    from .conftest import REPO

    spec = importlib.util.spec_from_file_location("run_glue", REPO / "compat" / "run_glue.py")
    run_glue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_glue)
    out = tmp_path / "paper"
    argv = ["--model_name_or_path", str(tiny_bert_dir), "--output_dir", str(out), "--do_train",
            "--train_file", str(mixed_data["train"]), *FAST]
    assert run_glue.main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["ada_atsc_input_format"]["aspect_markers"] is False
    assert ASPECT_START not in (out / "tokenizer.json").read_text()


def test_probe_command_writes_readable_consistent_results(tiny_bert_dir, mixed_data, tmp_path, capsys):
    model = tmp_path / "clf"
    assert main(["train", "--model", str(tiny_bert_dir), "--output_dir", str(model), "--do_train",
                 "--train_file", str(mixed_data["train"]), *FAST]) == 0
    out = tmp_path / "probe"
    data = SEMEVAL / "Restaurants_Test_Gold.xml"
    capsys.readouterr()
    assert main(["probe", "--model", str(model), "--data", str(data), "--output_dir", str(out), "--seed", "3"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    results = json.loads((out / "probe_results.json").read_text())
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    by_original: dict[str, list[dict]] = {}
    for record in predictions:
        by_original.setdefault(record["variant_of"] or record["id"], []).append(record)
    groups = [g for g in by_original.values() if len(g) > 1]
    assert results["items_with_variants"] == len(groups)
    robust = sum(all(r["correct"] for r in g) for g in groups) / len(groups)
    assert results["robust_share"] == pytest.approx(robust) == pytest.approx(summary["robust_share"], abs=1e-4)
    assert results["robust_share"] <= min(results["original_accuracy"], results["variant_accuracy"])
    report = (out / "probe_report.md").read_text()
    assert "accuracy on the variants" in report and "**[" in report
    # the probe set alone, same seed: the same sentences
    assert main(["probe", "--data", str(data), "--output_dir", str(tmp_path / "set"), "--seed", "3"]) == 0
    assert (tmp_path / "set" / "probe_set.jsonl").read_text() == (out / "probe_set.jsonl").read_text()
    assert main(["probe", "--data", str(data), "--output_dir", str(out), "--seed", "3"]) == 2  # no overwrite
    assert main(["probe", "--data", str(data)]) == 2
    assert "--model" in capsys.readouterr().err


ISSUE_SENTENCES = [  # the contrasts the paper's recipe got wrong (docs/robustness.md), gold for both aspects
    ("The food was great but the service was slow.", ("food", "positive"), ("service", "negative")),
    ("The food was absolutely wonderful, but the service was rude and slow.", ("food", "positive"),
     ("service", "negative")),
    ("Great pizza, terrible waiter.", ("pizza", "positive"), ("waiter", "negative")),
    ("The pasta was superb, but the waiter was rude to us.", ("pasta", "positive"), ("waiter", "negative")),
    ("I loved the ambience; the prices are outrageous though.", ("ambience", "positive"), ("prices", "negative")),
]


@pytest.mark.slow
def test_default_recipe_judges_each_aspect_of_a_mixed_sentence(tmp_path):
    """The default recipe (train's defaults, SemEval restaurants + MAMS, 1,600 steps) on MiniLM gets both
    aspects of every sentence above right. About 25 minutes on 2 CPU cores."""
    from ada_atsc import Predictor
    from ada_atsc.runtime.models import packaged_minilm_path

    data = tmp_path / "rest"
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Train_v2.xml"), "--output_dir", str(data),
                 "--istrain", "--noconfl"]) == 0
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Test_Gold.xml"), "--output_dir", str(data),
                 "--noconfl"]) == 0
    out = tmp_path / "clf"
    # the run of scripts/robustness_study.py (restaurants, markers_mams_1600, seed 1) with train's defaults
    assert main(["train", "--model", packaged_minilm_path(), "--output_dir", str(out), "--do_train", "--do_eval",
                 "--evaluate_during_training", "--train_file", str(data / "train_split.jsonl"),
                 str(DATA / "mams" / "train.xml"), "--dev_file", str(data / "dev.jsonl"), str(DATA / "mams" / "val.xml"),
                 "--test_file", str(data / "test.jsonl"), str(DATA / "mams" / "test.xml"),
                 "--max_steps", "1600", "--warmup_steps", "240", "--learning_rate", "3e-5", "--logging_steps", "100",
                 "--per_gpu_train_batch_size", "32", "--seed", "1", "--disable_tqdm"]) == 0
    predictor = Predictor(out)
    for sentence, *aspects in ISSUE_SENTENCES:
        got = predictor.predict(sentence, aspects=[term for term, _ in aspects])
        assert [r["label"] for r in got] == [label for _, label in aspects], (sentence, got)
