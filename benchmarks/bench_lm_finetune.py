"""Benchmark one LM training step: plain ``BertForPreTraining`` in fp32 versus ours, in the same run.

Ours = sparse MLM head (vocabulary projection on the masked positions only) + bf16 autocast where the hardware
has it + SDPA attention + fused AdamW. Both do forward, backward, gradient clipping and an optimizer step on
the same batches. Prints JSON: tokens/s of each, the ratio, and our achieved model FLOP/s as a fraction of
this machine's measured bf16 (or fp32) matmul peak.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_lm_finetune.py            # packaged MiniLM, CPU
    python benchmarks/bench_lm_finetune.py --device cuda --model_size base --seq_len 256 --skip_baseline

With ``--model_type roberta|deberta-v2|modernbert|electra|distilbert|bert`` it measures the sparse masked-LM
head alone for that family instead: a base-size model with random weights (nothing is downloaded), masked LM
only, the dense standard ``<Family>ForMaskedLM`` against our sparse subclass with everything else equal
(precision, attention, optimizer, batches):

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_lm_finetune.py --model_type roberta --batch_size 8
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_config(model_size: str):
    from transformers import BertConfig

    if model_size == "minilm":
        from ada_atsc.runtime.models import packaged_minilm_path

        return BertConfig.from_pretrained(packaged_minilm_path()), packaged_minilm_path()
    if model_size == "base":  # BERT-base shape, random weights (no download)
        return BertConfig(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                          intermediate_size=3072, max_position_embeddings=512), None
    raise SystemExit(f"unknown --model_size {model_size}")


BASE_SHAPES = {  # the published base checkpoints' shapes (vocabulary, layers, widths), random weights here
    "bert": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, max_position_embeddings=512),
    "roberta": dict(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1),
    "deberta-v2": dict(vocab_size=128100, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                       intermediate_size=3072, max_position_embeddings=512, relative_attention=True,
                       position_buckets=256, norm_rel_ebd="layer_norm", share_att_key=True,
                       pos_att_type=["p2c", "c2p"], position_biased_input=False, max_relative_positions=-1,
                       type_vocab_size=0, layer_norm_eps=1e-7),
    "modernbert": dict(vocab_size=50368, hidden_size=768, num_hidden_layers=22, num_attention_heads=12,
                       intermediate_size=1152, max_position_embeddings=8192, global_attn_every_n_layers=3,
                       local_attention=128),
    "electra": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, embedding_size=768, max_position_embeddings=512),
    "distilbert": dict(vocab_size=30522, dim=768, n_layers=6, n_heads=12, hidden_dim=3072,
                       max_position_embeddings=512),
}


SMALL_SHAPES = {  # the smallest published checkpoint of each family that has one smaller than base
    "bert": dict(BASE_SHAPES["bert"], hidden_size=384, num_hidden_layers=6, intermediate_size=1536),  # all-MiniLM-L6
    "roberta": dict(BASE_SHAPES["roberta"], num_hidden_layers=6),  # distilroberta-base
    "deberta-v2": dict(BASE_SHAPES["deberta-v2"], hidden_size=384, num_attention_heads=6,
                       intermediate_size=1536),  # deberta-v3-xsmall
    "electra": dict(BASE_SHAPES["electra"], hidden_size=256, num_attention_heads=4, intermediate_size=1024,
                    embedding_size=128),  # electra-small-discriminator
}


def family_config(model_type: str, size: str = "base"):
    from transformers import AutoConfig

    shapes = SMALL_SHAPES if size == "small" else BASE_SHAPES
    if model_type not in shapes:
        raise SystemExit(f"no published {size} shape for {model_type}")
    return AutoConfig.for_model(model_type, **shapes[model_type])


def bench_family(args) -> dict:
    """Dense standard masked-LM class versus our sparse subclass for one family, everything else equal."""
    from ada_atsc.core.sequence_template import model_uses_token_types
    from ada_atsc.lm.heads import _supports_attention, pretraining_class
    from ada_atsc.lm.training import bf16_supported

    device = args.device
    use_bf16 = bf16_supported(device.startswith("cuda")) if args.precision == "auto" else args.precision == "bf16"
    config = family_config(args.model_type, args.size)
    batches = make_batches(config, args.batch_size, args.seq_len, args.warmup + args.steps, device)
    for batch in batches:
        del batch["next_sentence_label"]
        if not model_uses_token_types(config):
            del batch["token_type_ids"]
    variants = {}
    for name, sparse in (("dense", False), ("sparse", True)):
        cls = pretraining_class(config, with_nsp=False, sparse=sparse)
        attn = "sdpa" if _supports_attention(cls, "sdpa") else "eager"
        torch.manual_seed(0)
        model = cls(config.__class__.from_dict({**config.to_dict(), "_attn_implementation": attn})).to(device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01, fused=True)
        variants[name] = make_step(model, optimizer, torch.bfloat16 if use_bf16 else None, device)
    times = time_alternating(variants, batches, args.warmup, device)
    tokens = args.batch_size * args.seq_len
    result = {
        "benchmark": "lm_finetune_sparse_head", "model_type": args.model_type, "weights": f"random, {args.size} size",
        "shape": (SMALL_SHAPES if args.size == "small" else BASE_SHAPES)[args.model_type], "device": device, "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(), "batch_size": args.batch_size, "seq_len": args.seq_len,
        "precision": "bf16 autocast" if use_bf16 else "fp32", "attention": attn, "steps": args.steps,
    }
    for name, values in times.items():
        result[f"{name}_step_s"] = round(statistics.median(values), 4)
        result[f"{name}_tokens_per_s"] = round(tokens / statistics.median(values), 1)
    result["sparse_speedup"] = round(statistics.median(times["dense"]) / statistics.median(times["sparse"]), 2)
    return result


def load(cls, config, path, attn: str, device: str):
    torch.manual_seed(0)
    if path:
        model = cls.from_pretrained(path, attn_implementation=attn)
    else:
        config = config.__class__.from_dict({**config.to_dict(), "_attn_implementation": attn})
        model = cls(config)
    return model.to(device).train()


def make_batches(config, batch: int, seq_len: int, count: int, device: str, seed: int = 0) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        ids = torch.randint(1000, config.vocab_size, (batch, seq_len), generator=generator)
        ids[:, 0], ids[:, -1] = 101, 102
        masked = torch.rand(batch, seq_len, generator=generator) < 0.15
        masked[:, 0] = masked[:, -1] = False
        labels = torch.where(masked, ids, torch.full_like(ids, -100))
        ids = torch.where(masked, torch.full_like(ids, 103), ids)
        token_type = torch.zeros_like(ids)
        token_type[:, seq_len // 2:] = 1
        batches.append({
            "input_ids": ids.to(device), "token_type_ids": token_type.to(device),
            "attention_mask": torch.ones_like(ids).to(device), "labels": labels.to(device),
            "next_sentence_label": torch.randint(0, 2, (batch,), generator=generator).to(device),
        })
    return batches


def model_flops(config, batch: int, seq_len: int, masked: int, sparse: bool) -> float:
    """Training FLOPs of one step (3 x forward matmul FLOPs): encoder, attention scores, heads."""
    h, inter, layers, vocab = config.hidden_size, config.intermediate_size, config.num_hidden_layers, config.vocab_size
    tokens = batch * seq_len
    per_token_layer = 2 * (4 * h * h + 2 * h * inter) + 2 * 2 * seq_len * h  # projections + QK^T, AV
    encoder = tokens * layers * per_token_layer
    head_rows = masked if sparse else tokens
    head = head_rows * 2 * (h * h + h * vocab) + batch * 2 * (h * h + 2 * h)  # MLM transform+decoder, pooler+NSP
    return 3.0 * (encoder + head)


def matmul_peak(device: str, dtype: torch.dtype, size: int = 2048, reps: int = 8) -> float:
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def make_step(model, optimizer, autocast_dtype, device: str):
    def step(batch: dict) -> float:
        with torch.autocast(device_type=device.split(":")[0], dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


def timed(step, batches: list[dict], device: str) -> list[float]:
    times = []
    for batch in batches:
        sync(device)
        start = time.perf_counter()
        step(batch)
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def time_alternating(variants: dict, batches: list[dict], warmup: int, device: str) -> dict[str, list[float]]:
    """Warm each variant up on the first ``warmup`` batches, then time them in turn on each remaining batch, so
    every variant sees the same machine load."""
    for step in variants.values():
        for batch in batches[:warmup]:
            step(batch)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for batch in batches[warmup:]:
        for name, step in variants.items():
            times[name].extend(timed(step, [batch], device))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_size", choices=["minilm", "base"], default="minilm")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--seq_len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3, help="timed steps of each variant")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                        help="ours: auto = bf16 where it is faster (GPU, AMX CPU), else fp32")
    parser.add_argument("--skip_baseline", action="store_true", help="time ours only (e.g. the GPU run)")
    parser.add_argument("--model_type", choices=sorted(BASE_SHAPES), default=None,
                        help="measure the sparse head against the dense one for this family (random weights)")
    parser.add_argument("--size", choices=["base", "small"], default="base",
                        help="with --model_type: the base shape, or the family's smallest published one")
    args = parser.parse_args()
    if args.model_type:
        print(json.dumps(bench_family(args), indent=2))
        return

    from transformers import BertForPreTraining

    from ada_atsc.lm.heads import SparseBertForPreTraining
    from ada_atsc.lm.training import bf16_supported

    device = args.device
    use_bf16 = bf16_supported(device.startswith("cuda")) if args.precision == "auto" else args.precision == "bf16"
    config, path = build_config(args.model_size)
    batches = make_batches(config, args.batch_size, args.seq_len, args.warmup + args.steps, device)
    masked = int(sum(int(b["labels"].ne(-100).sum()) for b in batches) / len(batches))
    tokens = args.batch_size * args.seq_len

    ours = load(SparseBertForPreTraining, config, path, "sdpa", device)
    ours_opt = torch.optim.AdamW(ours.parameters(), lr=3e-5, weight_decay=0.01, fused=True)
    ours_step = make_step(ours, ours_opt, torch.bfloat16 if use_bf16 else None, device)
    variants = {"ours": ours_step}
    if not args.skip_baseline:
        plain = load(BertForPreTraining, config, path, "eager", device)
        plain_opt = torch.optim.AdamW(plain.parameters(), lr=3e-5, weight_decay=0.01)
        variants["plain_fp32"] = make_step(plain, plain_opt, None, device)

    times = time_alternating(variants, batches, args.warmup, device)

    peaks = {"bf16": matmul_peak(device, torch.bfloat16), "fp32": matmul_peak(device, torch.float32)}
    peak = max(peaks.values())
    flops_ours = model_flops(config, args.batch_size, args.seq_len, masked, sparse=True)
    result: dict = {
        "benchmark": "lm_finetune_step",
        "model": args.model_size, "device": device, "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "batch_size": args.batch_size, "seq_len": args.seq_len, "masked_per_batch": masked,
        "ours": {"precision": "bf16 autocast" if use_bf16 else "fp32", "attention": "sdpa", "mlm_head": "sparse",
                 "optimizer": "AdamW fused"},
        "measured_matmul_peak_flops": peaks,
    }
    for name, values in times.items():
        median = statistics.median(values)
        result[f"{name}_step_s"] = round(median, 4)
        result[f"{name}_tokens_per_s"] = round(tokens / median, 1)
    median_ours = statistics.median(times["ours"])
    result["ours_model_flops_per_step"] = flops_ours
    result["ours_achieved_flops"] = flops_ours / median_ours
    result["ours_fraction_of_bf16_peak"] = round(flops_ours / median_ours / peaks["bf16"], 3)
    result["ours_fraction_of_best_peak"] = round(flops_ours / median_ours / peak, 3)
    if "plain_fp32" in times:
        result["speedup_tokens_per_s"] = round(statistics.median(times["plain_fp32"]) / median_ours, 2)
        dense = model_flops(config, args.batch_size, args.seq_len, masked, sparse=False)
        result["plain_fp32_achieved_flops"] = dense / statistics.median(times["plain_fp32"])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
