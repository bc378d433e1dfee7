"""The LM fine-tuning step: both commands end to end on the tiny model, resume, 2 processes, sparse head, bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM, AutoModelForSequenceClassification, TrainerCallback

from ada_atsc.cli import main, parse_args
from ada_atsc.core.errors import AdaError

REPO = Path(__file__).resolve().parents[1]
HOTELS = REPO / "data" / "corpora" / "dev_corpus_hotels.txt"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FIELDS = ("input_ids", "lengths", "segment_b_start", "next_sentence_label", "num_masked", "masked_positions",
          "masked_labels")


def _tokenizer(model_dir: Path):
    from ada_atsc.runtime.models import load_tokenizer

    return load_tokenizer(str(model_dir))


def write_epochs(directory: Path, model_dir: Path, epochs: int, *, mlm_only: bool = False, fmt: str = "binary") -> Path:
    """Pregenerated epochs in the documented on-disk format (binary .npy fields or the 2019 JSON lines)."""
    from ada_atsc.lm.simple_data import OnTheFlyPairs, read_documents
    from ada_atsc.pregenerate.format import tokenizer_fingerprint

    tokenizer = _tokenizer(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for epoch in range(epochs):
        pairs = OnTheFlyPairs(read_documents(HOTELS), tokenizer, max_seq_length=48, epochs=1, seed=100 + epoch)
        examples = [pairs[i] for i in range(len(pairs))]
        if fmt == "binary":
            arrays = {
                "input_ids": np.concatenate([ex["input_ids"] for ex in examples]).astype(np.uint16),
                "lengths": np.asarray([len(ex["input_ids"]) for ex in examples], dtype=np.int32),
                "segment_b_start": np.asarray([int(np.argmax(ex["token_type_ids"])) for ex in examples], np.int32),
                "next_sentence_label": np.asarray(
                    [-1 if mlm_only else ex["next_sentence_label"] for ex in examples], dtype=np.int8),
                "num_masked": np.asarray([len(ex["masked_lm_positions"]) for ex in examples], dtype=np.int32),
                "masked_positions": np.concatenate([ex["masked_lm_positions"] for ex in examples]).astype(np.int32),
                "masked_labels": np.concatenate([ex["masked_lm_ids"] for ex in examples]).astype(np.uint16),
            }
            for field in FIELDS:
                np.save(directory / f"epoch_{epoch}.{field}.npy", arrays[field])
        else:
            with open(directory / f"epoch_{epoch}.json", "w", encoding="utf-8") as handle:
                for ex in examples:
                    handle.write(json.dumps({
                        "tokens": tokenizer.convert_ids_to_tokens(ex["input_ids"].tolist()),
                        "segment_ids": ex["token_type_ids"].tolist(),
                        "is_random_next": bool(ex["next_sentence_label"]),
                        "masked_lm_positions": ex["masked_lm_positions"].tolist(),
                        "masked_lm_labels": tokenizer.convert_ids_to_tokens(ex["masked_lm_ids"].tolist()),
                    }) + "\n")
        metrics = {"num_training_examples": len(examples), "max_seq_len": 48, "mlm_only": mlm_only, "seed": 100}
        if fmt == "binary":
            metrics["tokenizer_fingerprint"] = tokenizer_fingerprint(tokenizer)
        (directory / f"epoch_{epoch}_metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def pregenerated(tiny_bert_dir, tmp_path_factory) -> Path:
    return write_epochs(tmp_path_factory.mktemp("pregen"), tiny_bert_dir, 2)


@pytest.fixture(scope="module")
def no_dropout_model(tiny_bert_dir, tmp_path_factory) -> Path:
    """The tiny model without dropout: runs that split a batch differently then compute the same function."""
    path = tmp_path_factory.mktemp("tiny_nodrop") / "model"
    shutil.copytree(tiny_bert_dir, path)
    config = json.loads((path / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (path / "config.json").write_text(json.dumps(config))
    return path


def _weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(str(directory / "model.safetensors"))


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def _run(argv: list[str], callbacks: list | None = None) -> int:
    args = parse_args(argv)
    if callbacks:
        args.extra_callbacks = callbacks
    return int(args._module.run(args) or 0)


FAST = ["--logging_steps", "1", "--save_steps", "3", "--no_bf16"]


# ------------------------------------------------------------------------------------------- components


def test_sparse_head_loss_and_gradients_equal_the_dense_head(tiny_bert_dir):
    from transformers import BertForPreTraining

    from ada_atsc.lm.heads import SparseBertForMaskedLM, SparseBertForPreTraining

    torch.manual_seed(0)
    ids = torch.randint(5, 200, (4, 24))
    labels = torch.full_like(ids, -100)
    mask = torch.rand(ids.shape) < 0.15
    mask[:, 1] = True
    labels[mask] = ids[mask]
    nsp = torch.tensor([0, 1, 1, 0])
    attention = torch.ones_like(ids)
    attention[0, 20:] = 0
    labels[0, 20:] = -100
    dense = BertForPreTraining.from_pretrained(tiny_bert_dir).eval()
    sparse = SparseBertForPreTraining.from_pretrained(tiny_bert_dir).eval()
    d = dense(input_ids=ids, attention_mask=attention, labels=labels, next_sentence_label=nsp).loss
    s = sparse(input_ids=ids, attention_mask=attention, labels=labels, next_sentence_label=nsp).loss
    assert abs(d.item() - s.item()) < 1e-5
    d.backward()
    s.backward()
    gd = dense.bert.embeddings.word_embeddings.weight.grad
    gs = sparse.bert.embeddings.word_embeddings.weight.grad
    assert torch.allclose(gd, gs, atol=1e-6)
    # masked LM alone equals the dense masked-LM part
    mlm = SparseBertForMaskedLM.from_pretrained(tiny_bert_dir).eval()
    logits = dense(input_ids=ids, attention_mask=attention).prediction_logits
    dense_mlm = torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))
    assert abs(mlm(input_ids=ids, attention_mask=attention, labels=labels).loss.item() - dense_mlm.item()) < 1e-5


def test_collator_pads_to_the_longest_member_and_labels_only_masked_positions():
    from ada_atsc.lm.data import PretrainingCollator

    ex = [
        {"input_ids": np.array([2, 4, 7, 3]), "token_type_ids": np.array([0, 0, 1, 1]),
         "masked_lm_positions": np.array([1]), "masked_lm_ids": np.array([9]), "next_sentence_label": 1},
        {"input_ids": np.array([2, 8, 3]), "token_type_ids": np.array([0, 0, 1]),
         "masked_lm_positions": np.array([], dtype=np.int64), "masked_lm_ids": np.array([], dtype=np.int64),
         "next_sentence_label": 0},
    ]
    batch = PretrainingCollator(pad_token_id=0)(ex)
    assert batch["input_ids"].tolist() == [[2, 4, 7, 3], [2, 8, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, 9, -100, -100], [-100] * 4]
    assert batch["next_sentence_label"].tolist() == [1, 0]
    assert PretrainingCollator(0, pad_to_multiple_of=8)(ex)["input_ids"].shape == (2, 8)


def test_sampler_shuffles_within_each_epoch_and_is_seeded():
    from ada_atsc.lm.data import EpochBlockSampler

    order = list(EpochBlockSampler([5, 5, 3], seed=1))
    assert sorted(order[:5]) == list(range(5)) and sorted(order[5:10]) == list(range(5, 10))
    assert sorted(order[10:]) == [10, 11, 12]
    assert order == list(EpochBlockSampler([5, 5, 3], seed=1))
    assert order != list(EpochBlockSampler([5, 5, 3], seed=2))


def test_simple_instances_are_seeded_and_well_formed(tiny_bert_dir):
    from ada_atsc.lm.simple_data import OnTheFlyPairs, read_documents

    tokenizer = _tokenizer(tiny_bert_dir)
    docs = read_documents(HOTELS)
    a = OnTheFlyPairs(docs, tokenizer, max_seq_length=32, epochs=2.5, seed=3)
    b = OnTheFlyPairs(docs, tokenizer, max_seq_length=32, epochs=2.5, seed=3)
    n = len(a.pairs)
    assert a.block_sizes == [n, n, round(n / 2)]
    labels = []
    for i in range(n):
        ex = a[i]
        assert len(ex["input_ids"]) <= 32 and ex["input_ids"][0] == tokenizer.cls_token_id
        assert np.array_equal(ex["input_ids"], b[i]["input_ids"])
        assert len(ex["masked_lm_positions"]) >= 1
        assert tokenizer.cls_token_id not in ex["masked_lm_ids"] and tokenizer.sep_token_id not in ex["masked_lm_ids"]
        labels.append(ex["next_sentence_label"])
    assert 0.3 < np.mean(labels) < 0.7  # half the pairs get a random second sentence
    assert not np.array_equal(a[0]["input_ids"], a[n]["input_ids"]) or not np.array_equal(
        a[1]["input_ids"], a[n + 1]["input_ids"])  # epochs differ


# ------------------------------------------------------------------------------------------- end to end


def test_paper_command_verbatim_writes_a_standard_model_directory(pregenerated, tiny_bert_dir, tmp_path, caplog):
    from transformers import AutoModelForMaskedLM, AutoModelForPreTraining, AutoModelForSequenceClassification

    spec = importlib.util.spec_from_file_location("fop", REPO / "compat" / "finetune_on_pregenerated.py")
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    out = tmp_path / "finetuned_lm"
    with caplog.at_level("WARNING"):
        rc = compat.main(["--pregenerated_data", str(pregenerated), "--bert_model", str(tiny_bert_dir),
                          "--do_lower_case", "--output_dir", str(out), "--epochs", "3"])
    assert rc == 0
    assert "only 2 pregenerated epoch(s)" in caplog.text
    for name in ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "README.md", "loss_log.jsonl"):
        assert (out / name).is_file(), name
    assert not (out / "checkpoints").exists() and not (out / "training_args.bin").exists()
    assert list((out / "runs").iterdir()), "TensorBoard events"
    summary = json.loads((out / "training_summary.json").read_text())
    examples = summary["statistics"]["examples_per_epoch"]
    assert summary["statistics"]["pregenerated_epoch_per_training_epoch"] == [0, 1, 0]
    assert summary["global_steps"] == -(-sum(examples) // 32)
    card = (out / "README.md").read_text()
    assert "pregenerated_data" in card and str(sum(examples)) in card
    losses = [json.loads(line) for line in (out / "loss_log.jsonl").read_text().splitlines()]
    assert losses[0]["step"] == 1 and all(np.isfinite(r["loss"]) for r in losses)
    assert json.loads((out / "config.json").read_text())["architectures"] == ["BertForPreTraining"]
    trained = AutoModelForPreTraining.from_pretrained(out)
    assert type(trained).__name__ == "BertForPreTraining"
    AutoModelForMaskedLM.from_pretrained(out)
    AutoModelForSequenceClassification.from_pretrained(out, num_labels=3)
    assert _max_diff(_weights(out), _weights(tiny_bert_dir)) > 0  # it trained


def test_lm_finetune_learns_and_reads_the_json_format(tiny_bert_dir, tmp_path):
    data = write_epochs(tmp_path / "json", tiny_bert_dir, 1, fmt="json")
    out = tmp_path / "out"
    assert main(["lm-finetune", "--pregenerated_data", str(data), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(out), "--epochs", "4", "--train_batch_size", "16", "--learning_rate", "2e-3",
                 *FAST]) == 0
    losses = [json.loads(line)["loss"] for line in (out / "loss_log.jsonl").read_text().splitlines()]
    assert len(losses) >= 20
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.2  # the loss goes down


def test_mlm_only_data_trains_a_masked_lm(tiny_bert_dir, tmp_path):
    data = write_epochs(tmp_path / "mlm", tiny_bert_dir, 1, mlm_only=True)
    out = tmp_path / "out"
    assert main(["lm-finetune", "--pregenerated_data", str(data), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(out), "--epochs", "1", "--max_steps", "2", *FAST]) == 0
    assert json.loads((out / "config.json").read_text())["architectures"] == ["BertForMaskedLM"]
    saved = _weights(out)
    assert not any(k.startswith("cls.seq_relationship") for k in saved)
    # masked LM does not train the pooler, and BertForMaskedLM has none: the base model's is carried over,
    # so a classifier built on the adapted encoder does not start from a random pooler
    base = _weights(tiny_bert_dir)
    classifier = AutoModelForSequenceClassification.from_pretrained(out, num_labels=3)
    for name in ("weight", "bias"):
        assert torch.equal(saved[f"bert.pooler.dense.{name}"], base[f"bert.pooler.dense.{name}"])
        assert torch.equal(getattr(classifier.bert.pooler.dense, name).detach(), base[f"bert.pooler.dense.{name}"])
    assert AutoModelForMaskedLM.from_pretrained(out) is not None  # the extra pooler keys are ignored there


def test_simple_command_end_to_end(tiny_bert_dir, tmp_path):
    spec = importlib.util.spec_from_file_location("slf", REPO / "compat" / "simple_lm_finetuning.py")
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    out = tmp_path / "simple"
    rc = compat.main(["--train_corpus", str(HOTELS), "--bert_model", str(tiny_bert_dir), "--output_dir", str(out),
                      "--do_train", "--do_lower_case", "--on_memory", "--max_seq_length", "64",
                      "--train_batch_size", "16", "--num_train_epochs", "1.0", "--warmup_proportion", "0.1",
                      "--seed", "42", "--gradient_accumulation_steps", "2", "--loss_scale", "0", *FAST])
    assert rc == 0
    summary = json.loads((out / "training_summary.json").read_text())
    from ada_atsc.lm.simple_data import read_documents

    assert summary["statistics"]["documents"] == len(read_documents(HOTELS)) > 1
    assert summary["global_steps"] == -(-summary["statistics"]["training_examples"] // 16)
    assert summary["options"]["warmup_steps"] == int(0.1 * summary["global_steps"])
    with pytest.raises(SystemExit):
        parse_args(["lm-finetune-simple", "--bert_model", "x", "--output_dir", "y"])  # --train_corpus required
    assert main(["lm-finetune-simple", "--train_corpus", str(HOTELS), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(tmp_path / "x")]) == 2  # no --do_train


def test_resume_gives_the_weights_of_an_uninterrupted_run(pregenerated, tiny_bert_dir, tmp_path):
    """Stopped after step 4 (checkpoint at 3), resumed: bitwise the run that never stopped (dropout included)."""

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 4:
                raise KeyboardInterrupt

    base = ["lm-finetune", "--pregenerated_data", str(pregenerated), "--bert_model", str(tiny_bert_dir),
            "--epochs", "2", "--train_batch_size", "8", "--max_steps", "7", "--warmup_steps", "2", "--bf16",
            "--logging_steps", "1", "--save_steps", "3"]
    full, stopped = tmp_path / "full", tmp_path / "stopped"
    assert _run(base + ["--output_dir", str(full)]) == 0
    with pytest.raises(KeyboardInterrupt):
        _run(base + ["--output_dir", str(stopped)], callbacks=[Interrupt()])
    assert not (stopped / "config.json").exists()  # an interrupted run does not look finished
    assert (stopped / "checkpoints" / "checkpoint-3" / "optimizer.pt").is_file()
    with pytest.raises(AdaError, match="not empty"):
        _run(base + ["--output_dir", str(stopped)])
    assert _run(base + ["--output_dir", str(stopped), "--resume_from_checkpoint"]) == 0
    assert _max_diff(_weights(full), _weights(stopped)) == 0.0
    steps = [json.loads(line)["step"] for line in (stopped / "loss_log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 8))  # entries of the lost step 4 were replaced, not duplicated


def test_head_warmup_trains_only_the_heads_first(pregenerated, tiny_bert_dir, tmp_path):
    out = tmp_path / "warm"
    assert main(["lm-finetune", "--pregenerated_data", str(pregenerated), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(out), "--epochs", "1", "--train_batch_size", "8", "--max_steps", "3",
                 "--head_warmup_steps", "3", "--learning_rate", "1e-2", *FAST]) == 0
    before, after = _weights(tiny_bert_dir), _weights(out)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("cls.") for k in changed)
    assert "cls.predictions.bias" in changed or "cls.predictions.transform.dense.weight" in changed
    assert torch.equal(before["bert.embeddings.word_embeddings.weight"], after["bert.embeddings.word_embeddings.weight"])


def test_freeze_embeddings_keeps_the_tied_table_through_and_after_warmup(pregenerated, tiny_bert_dir, tmp_path):
    out = tmp_path / "frozen"
    assert main(["lm-finetune", "--pregenerated_data", str(pregenerated), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(out), "--epochs", "1", "--train_batch_size", "8", "--max_steps", "4",
                 "--head_warmup_steps", "2", "--freeze_embeddings", "--learning_rate", "1e-2", *FAST]) == 0
    before, after = _weights(tiny_bert_dir), _weights(out)
    key = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(before[key], after[key])
    assert not torch.equal(before["bert.encoder.layer.0.attention.self.query.weight"],
                           after["bert.encoder.layer.0.attention.self.query.weight"])  # the encoder did train


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(pregenerated, tiny_bert_dir, tmp_path):
    class Poison(TrainerCallback):
        def on_step_begin(self, args, state, control, model=None, **kwargs):
            if state.global_step == 3:
                with torch.no_grad():
                    model.bert.embeddings.LayerNorm.weight.fill_(float("nan"))

    out = tmp_path / "nan"
    with pytest.raises(AdaError, match=r"NaN.*step 4.*checkpoint-2"):
        _run(["lm-finetune", "--pregenerated_data", str(pregenerated), "--bert_model", str(tiny_bert_dir),
              "--output_dir", str(out), "--epochs", "1", "--train_batch_size", "8", "--max_steps", "6",
              "--logging_steps", "1", "--save_steps", "2", "--no_bf16"], callbacks=[Poison()])
    good = _weights(out / "checkpoints" / "checkpoint-2")
    assert all(torch.isfinite(v).all() for v in good.values())
    assert not (out / "model.safetensors").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="gloo on CPU")
def test_two_processes_match_one_process_with_the_same_global_batch(pregenerated, no_dropout_model, tmp_path):
    """torchrun, 2 CPU processes (gloo), 4 + 4 examples per step == 1 process with 8 (and with 2 x 4 accumulated)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    common = ["--pregenerated_data", str(pregenerated), "--bert_model", str(no_dropout_model), "--epochs", "1",
              "--train_batch_size", "8", "--max_steps", "4", "--learning_rate", "1e-3", "--logging_steps", "1",
              "--save_steps", "100", "--no_bf16"]
    two = tmp_path / "two"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         "-m", "ada_atsc", "lm-finetune", *common, "--output_dir", str(two)],
        env=env, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    one, accumulated = tmp_path / "one", tmp_path / "accumulated"
    assert main(["lm-finetune", *common, "--output_dir", str(one)]) == 0
    assert main(["lm-finetune", *common, "--gradient_accumulation_steps", "2", "--output_dir", str(accumulated)]) == 0
    assert json.loads((two / "training_summary.json").read_text())["processes"] == 2
    # float32 sums in a different order: differences are rounding only (observed ~4e-8)
    assert _max_diff(_weights(one), _weights(two)) < 1e-4
    assert _max_diff(_weights(one), _weights(accumulated)) < 1e-4


# ------------------------------------------------------------------------------------------- bad input


def _finetune(data: Path, model: Path, out: Path, *extra: str) -> int:
    return main(["lm-finetune", "--pregenerated_data", str(data), "--bert_model", str(model), "--output_dir",
                 str(out), "--epochs", "1", "--max_steps", "1", *FAST, *extra])


def test_missing_or_empty_pregenerated_folder_is_a_clear_error(tiny_bert_dir, tmp_path, capsys):
    assert _finetune(tmp_path / "nowhere", tiny_bert_dir, tmp_path / "o1") == 2
    assert "nowhere" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert _finetune(tmp_path / "empty", tiny_bert_dir, tmp_path / "o2") == 2
    assert "no pregenerated epochs" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_metrics_that_disagree_with_the_data_are_refused(pregenerated, tiny_bert_dir, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(pregenerated, data)
    metrics_file = data / "epoch_0_metrics.json"
    metrics = json.loads(metrics_file.read_text())
    metrics["num_training_examples"] += 5
    metrics_file.write_text(json.dumps(metrics))
    assert _finetune(data, tiny_bert_dir, tmp_path / "o") == 2
    assert "num_training_examples" in capsys.readouterr().err


def test_data_made_with_another_tokenizer_is_refused(pregenerated, tiny_bert_dir, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(pregenerated, data)
    for epoch in range(2):
        metrics_file = data / f"epoch_{epoch}_metrics.json"
        metrics = json.loads(metrics_file.read_text())
        metrics["tokenizer_fingerprint"] = "sha256:0000"
        metrics_file.write_text(json.dumps(metrics))
    assert _finetune(data, tiny_bert_dir, tmp_path / "o") == 2
    assert "different tokenizer" in capsys.readouterr().err


def test_a_directory_that_is_not_a_model_is_refused(pregenerated, tiny_bert_dir, tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    assert _finetune(pregenerated, tmp_path / "notes", tmp_path / "o") == 2
    assert "not a model directory" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(tiny_bert_dir, broken)
    (broken / "config.json").write_text("{not json")
    assert _finetune(pregenerated, broken, tmp_path / "o") == 2
    assert "broken" in capsys.readouterr().err


def test_an_existing_output_directory_is_kept_unless_overwrite(pregenerated, tiny_bert_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    assert _finetune(pregenerated, tiny_bert_dir, out) == 2
    assert "--overwrite_output_dir" in capsys.readouterr().err
    assert (out / "precious.txt").read_text() == "keep me"
    assert _finetune(pregenerated, tiny_bert_dir, out, "--overwrite_output_dir") == 0
    assert not (out / "precious.txt").exists() and (out / "model.safetensors").is_file()
    assert not list(tmp_path.glob(".out.*")), "no leftovers beside the output"


def test_reads_what_the_pregenerate_command_writes(tiny_bert_dir, tmp_path):
    pytest.importorskip("ada_atsc.commands.pregenerate")
    data, out = tmp_path / "pregen", tmp_path / "out"
    assert main(["pregenerate", "--train_corpus", str(HOTELS), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(data), "--epochs_to_generate", "1", "--max_seq_len", "64"]) == 0
    assert main(["lm-finetune", "--pregenerated_data", str(data), "--bert_model", str(tiny_bert_dir),
                 "--output_dir", str(out), "--epochs", "1", "--max_steps", "2", *FAST]) == 0
    assert json.loads((out / "training_summary.json").read_text())["statistics"]["max_seq_len"] == 64
