#!/usr/bin/env python
"""Benchmark ``pregenerate`` against the 2019 algorithm, measured in the same run; prints JSON.

Corpus: the vendored Zomato reviews split into sentences with blingfire (one sentence per line, a blank
line between reviews), repeated to the requested sizes. Tokenizer: the packaged MiniLM (bert-base-uncased
vocabulary). ``--max_seq_len 256``, 2 epochs.

The baseline is a faithful plain-Python re-implementation of the 2019 ``pregenerate_training_data.py`` hot
loop (corpus held in lists of token strings, ``random`` module, ``json.dumps`` per instance) run with the
fast tokenizer's ``tokenize`` per line. Every run is a child process: its wall time, its phases and the peak
resident memory of every process involved are reported (``/proc/self/status`` VmHWM and ``RUSAGE_CHILDREN``).

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_pregenerate.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ZOMATO = REPO / "data" / "corpora" / "restaurant_reviews_zomato.txt"


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_corpus(path: Path, sentences: int) -> dict:
    """Zomato reviews -> one sentence per line, blank line between reviews, repeated to ``sentences``."""
    import blingfire

    docs = []
    for line in ZOMATO.read_text(encoding="utf-8").splitlines():
        sents = [s.strip() for s in blingfire.text_to_sentences(line.strip()).split("\n") if s.strip()]
        if sents:
            docs.append("\n".join(sents) + "\n\n")
    per_copy = sum(d.count("\n") - 1 for d in docs)
    written = copies = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < sentences:
            out.write("".join(docs))
            written += per_copy
            copies += 1
    return {"sentences": written, "copies": copies, "bytes": path.stat().st_size}


# ------------------------------------------------------------------------------------------ 2019 baseline


def baseline_child(corpus: str, model: str, out_dir: str, epochs: int, max_seq_len: int) -> dict:
    """The 2019 algorithm as it was written: Python lists, ``random``, one JSON line per instance."""
    from random import randint, randrange, shuffle
    from random import random as rand

    import numpy as np
    from transformers import AutoTokenizer

    random.seed(42)
    tokenizer = AutoTokenizer.from_pretrained(model)
    vocab_list = list(tokenizer.get_vocab().keys())
    started = time.perf_counter()
    docs: list[list[list[str]]] = []
    doc: list[list[str]] = []
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line == "":
                if doc:
                    docs.append(doc)
                doc = []
            else:
                doc.append(tokenizer.tokenize(line))
    if doc:
        docs.append(doc)
    doc_lengths = [len(d) for d in docs]
    doc_cumsum = np.cumsum(doc_lengths)
    cumsum_max = doc_cumsum[-1]
    loaded = time.perf_counter()

    def sample_doc(current_idx):
        rand_start = doc_cumsum[current_idx]
        rand_end = rand_start + cumsum_max - doc_lengths[current_idx]
        sentence_index = randrange(rand_start, rand_end) % cumsum_max
        return docs[int(np.searchsorted(doc_cumsum, sentence_index, side="right"))]

    def truncate_seq_pair(tokens_a, tokens_b, max_num_tokens):
        while len(tokens_a) + len(tokens_b) > max_num_tokens:
            trunc = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
            if rand() < 0.5:
                del trunc[0]
            else:
                trunc.pop()

    def masked_lm(tokens):
        cand = []
        for i, token in enumerate(tokens):
            if token in ("[CLS]", "[SEP]"):
                continue
            cand.append([i])
        num_to_mask = min(20, max(1, int(round(len(tokens) * 0.15))))
        shuffle(cand)
        masked = []
        covered = set()
        for index_set in cand:
            if len(masked) >= num_to_mask:
                break
            if len(masked) + len(index_set) > num_to_mask:
                continue
            if any(i in covered for i in index_set):
                continue
            for index in index_set:
                covered.add(index)
                if rand() < 0.8:
                    token = "[MASK]"
                elif rand() < 0.5:
                    token = tokens[index]
                else:
                    token = vocab_list[randint(0, len(vocab_list) - 1)]
                masked.append((index, tokens[index]))
                tokens[index] = token
        masked.sort()
        return tokens, [p for p, _ in masked], [label for _, label in masked]

    def instances(doc_idx):
        document = docs[doc_idx]
        max_num = max_seq_len - 3
        target = max_num
        if rand() < 0.1:
            target = randint(2, max_num)
        out, chunk, length, i = [], [], 0, 0
        while i < len(document):
            chunk.append(document[i])
            length += len(document[i])
            if i == len(document) - 1 or length >= target:
                if chunk:
                    a_end = randrange(1, len(chunk)) if len(chunk) >= 2 else 1
                    tokens_a = [t for seg in chunk[:a_end] for t in seg]
                    tokens_b = []
                    if len(chunk) == 1 or rand() < 0.5:
                        is_random = True
                        target_b = target - len(tokens_a)
                        other = sample_doc(doc_idx)
                        for j in range(randrange(0, len(other)), len(other)):
                            tokens_b.extend(other[j])
                            if len(tokens_b) >= target_b:
                                break
                        i -= len(chunk) - a_end
                    else:
                        is_random = False
                        for j in range(a_end, len(chunk)):
                            tokens_b.extend(chunk[j])
                    truncate_seq_pair(tokens_a, tokens_b, max_num)
                    tokens = ["[CLS]"] + tokens_a + ["[SEP]"] + tokens_b + ["[SEP]"]
                    segment_ids = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)
                    tokens, positions, labels = masked_lm(tokens)
                    out.append({"tokens": tokens, "segment_ids": segment_ids, "is_random_next": is_random,
                                "masked_lm_positions": positions, "masked_lm_labels": labels})
                chunk, length = [], 0
            i += 1
        return out

    total = 0
    os.makedirs(out_dir, exist_ok=True)
    for epoch in range(epochs):
        with open(os.path.join(out_dir, f"epoch_{epoch}.json"), "w") as handle:
            for doc_idx in range(len(docs)):
                for instance in instances(doc_idx):
                    handle.write(json.dumps(instance) + "\n")
                    total += 1
    done = time.perf_counter()
    return {"instances": total, "tokenise_s": loaded - started, "generate_s": done - loaded, "total_s": done - started}


def ours_child(corpus: str, model: str, out_dir: str, epochs: int, max_seq_len: int, workers: int,
               chunk_cache: bool) -> dict:
    from ada_atsc.pregenerate.pipeline import pregenerate
    from ada_atsc.pregenerate.recipe import RecipeConfig
    from ada_atsc.pregenerate.tokenizer_info import load_tokenizer_info

    started = time.perf_counter()
    info = load_tokenizer_info(model, None)
    loaded = time.perf_counter()
    summary = pregenerate(corpus, out_dir, info, RecipeConfig(max_seq_len=max_seq_len), epochs=epochs, seed=42,
                          num_workers=workers, progress=False, chunk_cache=chunk_cache)
    done = time.perf_counter()
    return {"instances": sum(summary["instances"]), "chunk_cache": summary["chunk_cache"],
            "load_tokenizer_s": loaded - started,
            "tokenise_s": summary["index_seconds"], "generate_s": summary["generate_seconds"],
            "total_s": done - loaded}


def run_child(kind: str, **kwargs) -> dict:
    """Run one measurement in a fresh interpreter; add its memory figures."""
    cmd = [sys.executable, __file__, "--_child", kind, "--_args", json.dumps(kwargs)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "true"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    wall = time.perf_counter()
    result = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["wall_s"] = round(wall, 2)
    data["rusage_children_max_rss_mb"] = round(after / 1024, 1) if after > before else "<= earlier run"
    out_dir = Path(kwargs["out_dir"])
    files = [p for p in out_dir.rglob("*") if p.is_file()]
    data["output_bytes"] = sum(p.stat().st_size for p in files)
    data["bytes_per_instance"] = round(data["output_bytes"] / max(data["instances"], 1), 1)
    data["instances_per_s_end_to_end"] = round(data["instances"] / data["total_s"])
    data["instances_per_s_generation"] = round(data["instances"] / data["generate_s"])
    return data


def child_main(kind: str, args: dict) -> None:
    if kind == "baseline":
        data = baseline_child(**args)
    else:
        data = ours_child(**args)
    data["process_peak_rss_mb"] = round(vm_hwm_mb(), 1)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    data["largest_subprocess_peak_rss_mb"] = round(children, 1)  # tokenizer-loading helper / workers
    print(json.dumps(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, nargs="+", default=[400_000, 4_000_000])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--large_epochs", type=int, default=2, help="epochs for sizes above 1M sentences")
    parser.add_argument("--max_seq_len", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip_baseline", action="store_true")
    parser.add_argument("--without_chunk_cache", action="store_true",
                        help="also run ours with every line through the tokenizer (what the chunk cache saves)")
    parser.add_argument("--_child")
    parser.add_argument("--_args")
    args = parser.parse_args()
    if args._child:
        child_main(args._child, json.loads(args._args))
        return
    from ada_atsc.runtime.models import packaged_minilm_path

    model = packaged_minilm_path()
    report: dict = {"machine_cpus": os.cpu_count(), "max_seq_len": args.max_seq_len, "model": "packaged MiniLM "
                    "(bert-base-uncased vocabulary)", "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench_pregen_") as tmp:
        tmp_path = Path(tmp)
        for n in args.sentences:
            corpus = tmp_path / f"corpus_{n}.txt"
            info = make_corpus(corpus, n)
            epochs = args.epochs if n <= 1_000_000 else args.large_epochs
            common = {"corpus": str(corpus), "model": model, "epochs": epochs, "max_seq_len": args.max_seq_len}
            if not args.skip_baseline and n <= 1_000_000:
                base = run_child("baseline", out_dir=str(tmp_path / f"base_{n}"), **common)
                report["runs"].append({"impl": "2019 algorithm (plain Python)", "corpus": info, "epochs": epochs, **base})
            workers = args.workers if n <= 1_000_000 else [max(args.workers)]
            for w in workers:
                for cache in (True, False) if args.without_chunk_cache else (True,):
                    ours = run_child("ours", out_dir=str(tmp_path / f"ours_{n}_{w}_{cache}"), workers=w,
                                     chunk_cache=cache, **common)
                    label = f"ada-atsc pregenerate --num_workers {w}" + ("" if cache else " (no chunk cache)")
                    report["runs"].append({"impl": label, "corpus": info, "epochs": epochs, **ours})
            for p in tmp_path.glob("*_" + str(n) + "*"):
                if p.is_dir():
                    import shutil

                    shutil.rmtree(p)
            corpus.unlink()
    base = [r for r in report["runs"] if r["impl"].startswith("2019")]
    if base:
        b = base[0]
        for r in report["runs"]:
            if r is not b and r["corpus"]["sentences"] == b["corpus"]["sentences"]:
                r["speedup_end_to_end_vs_2019"] = round(r["instances_per_s_end_to_end"] / b["instances_per_s_end_to_end"], 2)
                r["speedup_generation_vs_2019"] = round(r["instances_per_s_generation"] / b["instances_per_s_generation"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
