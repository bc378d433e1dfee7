"""Corpus -> epochs: index the corpus once, then generate every epoch and commit the output directory.

Everything is built in a staging directory beside the output (``fileio.staged_output_dir``) and renamed when
complete; inside it each epoch's files are joined from worker shards and its metrics file is written last.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import AdaError
from ..core.fileio import staged_output_dir, write_json
from ..core.sequence_template import SequenceTemplate, has_next_sentence_head
from .corpus_index import build_index
from .format import BINARY_FIELDS, FORMAT_VERSION, NpyAppender, field_path, json_path, metrics_path
from .generate import ShardJob, field_dtypes, make_blocks, run_shard, shard_jobs
from .recipe import RecipeConfig
from .tokenizer_info import TokenizerInfo

log = logging.getLogger(__name__)

DEFAULT_BLOCK_SENTENCES = 8192


def validate(cfg: RecipeConfig, epochs: int, num_workers: int, seed: int,
             template: SequenceTemplate | None = None, model_type: str | None = None) -> None:
    """Reject settings the recipe cannot honour, with the flag's name.

    The shortest useful instance holds two text tokens (one each for A and B) besides the tokenizer's own
    special tokens; next-sentence pairs only for model families with a next-sentence head.
    """
    overhead = 2 if template is None else (template.single_overhead if cfg.mlm_only else template.pair_overhead)
    least = overhead + 2
    if cfg.max_seq_len < least:
        raise AdaError(f"--max_seq_len must be at least {least} for this tokenizer's layout, got {cfg.max_seq_len}")
    if not cfg.mlm_only and model_type is not None and not has_next_sentence_head(model_type):
        raise AdaError(f"--mlm_only is required for a {model_type} model: it has no next-sentence head, so "
                       "sentence-pair instances would train nothing (add --mlm_only)")
    if not cfg.mlm_only and template is not None and not template.has_segments and model_type is None:
        raise AdaError("--mlm_only is required: this tokenizer's pair encoding has no segment ids, so its model "
                       "cannot learn next-sentence prediction (add --mlm_only)")
    if not cfg.mlm_only and model_type is None:
        log.warning("the model family is unknown (no config.json beside the tokenizer): making next-sentence pairs, "
                    "which only BERT models can train on (lm-finetune refuses them for others; --mlm_only avoids it)")
    if not 0.0 <= cfg.short_seq_prob <= 1.0:
        raise AdaError(f"--short_seq_prob must be in [0, 1], got {cfg.short_seq_prob}")
    if not 0.0 < cfg.masked_lm_prob <= 1.0:
        raise AdaError(f"--masked_lm_prob must be in (0, 1], got {cfg.masked_lm_prob}")
    if cfg.max_predictions_per_seq < 1:
        raise AdaError(f"--max_predictions_per_seq must be positive, got {cfg.max_predictions_per_seq}")
    if epochs < 1:
        raise AdaError(f"--epochs_to_generate must be positive, got {epochs}")
    if num_workers < 1:
        raise AdaError(f"--num_workers must be positive, got {num_workers}")
    if seed < 0:
        raise AdaError(f"--seed must be non-negative, got {seed}")


def _join_parts(jobs: list[ShardJob], out_dir: Path, epoch: int, output_format: str, dtypes: dict) -> None:
    """Join the shard files of one epoch in order into its final files (temporary name, then rename)."""
    if output_format == "json":
        final = json_path(out_dir, epoch)
        tmp = final.with_name(f".{final.name}.tmp")
        with open(tmp, "wb") as out:
            for job in jobs:
                part = Path(job.prefix).with_suffix(".json")
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, out, 1 << 22)
                part.unlink()
        os.replace(tmp, final)
        return
    for name in BINARY_FIELDS:
        final = field_path(out_dir, epoch, name)
        parts = [Path(f"{job.prefix}.{name}.npy") for job in jobs]
        if len(parts) == 1:
            os.replace(parts[0], final)
            continue
        tmp = final.with_name(f".{final.name}.tmp")
        appender = NpyAppender(tmp, dtypes[name])
        try:
            for part in parts:
                appender.append_file(part)
                part.unlink()
        except BaseException:
            appender.abort()
            raise
        appender.close()
        os.replace(tmp, final)


def epoch_metrics(stats: dict, base: dict) -> dict:
    """The metrics file of one epoch: counts, settings and the recipe's observed statistics."""
    n = stats["instances"]
    masked = stats["masked"]

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 6) if b else None

    return {
        "num_training_examples": n,
        **base,
        "num_tokens": stats["tokens"],
        "mean_length": ratio(stats["tokens"], n),
        "masked_fraction": ratio(masked, stats["tokens"]),
        "mean_masked_per_instance": ratio(masked, n),
        "mask_token_fraction": ratio(stats["replaced_by_mask"], masked),
        "kept_fraction": ratio(stats["kept"], masked),
        "random_token_fraction": ratio(stats["replaced_by_random"], masked),
        "random_next_fraction": None if base["mlm_only"] else ratio(stats["random_next"], n),
        "short_fraction": ratio(stats["short_targets"], stats["targets"]),
        "documents": stats["documents"],
    }


def pregenerate(
    corpus: str | os.PathLike,
    output_dir: str | os.PathLike,
    info: TokenizerInfo,
    cfg: RecipeConfig,
    *,
    epochs: int = 3,
    seed: int = 42,
    num_workers: int = 1,
    output_format: str = "binary",
    overwrite: bool = False,
    block_sentences: int = DEFAULT_BLOCK_SENTENCES,
    progress: bool = True,
    chunk_cache: bool | None = None,
) -> dict[str, Any]:
    """Write ``epochs`` epochs of instances for ``corpus`` into ``output_dir``; returns a timing summary."""
    template = info.sequence_template
    validate(cfg, epochs, num_workers, seed, template, info.model_type)
    if output_format not in ("binary", "json"):
        raise AdaError(f"--output_format must be 'binary' or 'json', got {output_format!r}")
    summary: dict[str, Any] = {}
    with staged_output_dir(output_dir, overwrite) as staging:
        index_dir = staging / "_index"
        started = time.perf_counter()
        pool = multiprocessing.get_context("spawn").Pool(num_workers) if num_workers > 1 else None
        try:
            index = build_index(corpus, info, index_dir, whole_word=cfg.whole_word_mask, progress=progress,
                                pool=pool, parts=num_workers * 2, chunk_cache=chunk_cache)
        except BaseException:
            if pool is not None:
                pool.terminate()
            raise
        summary["index_seconds"] = time.perf_counter() - started
        summary["chunk_cache"] = index.extra.get("chunk_cache")
        np.save(index_dir / "random_ids.npy", np.asarray(info.random_ids, dtype=np.int64))
        if output_format == "json":
            (index_dir / "id_to_token.json").write_text(json.dumps(info.id_to_token), encoding="utf-8")
        blocks = make_blocks(index, block_sentences)
        dtypes = field_dtypes(cfg, index.token_dtype)
        base_job = ShardJob(index_meta=str(index_dir / "meta.json"), recipe=cfg, template=template,
                            mask_id=info.mask_id, seed=seed, output_format=output_format,
                            progress=progress and num_workers == 1)
        base_metrics = {
            "max_seq_len": cfg.max_seq_len,
            "format": output_format,
            "format_version": FORMAT_VERSION,
            "mlm_only": cfg.mlm_only,
            "sequence_layout": template.describe(single=cfg.mlm_only),
            "model_type": info.model_type,
            "seed": seed,
            "tokenizer_fingerprint": info.fingerprint,
            "tokenizer": info.name,
            "vocab_size": info.vocab_size,
            "do_lower_case": info.do_lower_case,
            "whole_word_mask": cfg.whole_word_mask,
            "masked_lm_prob": cfg.masked_lm_prob,
            "short_seq_prob": cfg.short_seq_prob,
            "max_predictions_per_seq": cfg.max_predictions_per_seq,
            "block_sentences": block_sentences,
            "dtypes": {name: dtype.str for name, dtype in dtypes.items()} if output_format == "binary" else None,
            "corpus": {
                "path": str(corpus),
                "sentences": index.num_sentences,
                "documents": index.num_documents,
                "tokens": index.num_tokens,
                "non_utf8_lines": index.non_utf8_lines,
                "dropped_lines_without_tokens": index.empty_sentences,
            },
        }
        started = time.perf_counter()
        try:
            for epoch in range(epochs):
                jobs = shard_jobs(blocks, 1 if pool is None else num_workers * 4, base_job, staging, epoch)
                if pool is None:
                    results = [run_shard(job) for job in jobs]
                else:
                    results = _run_parallel(pool, jobs, epoch, progress)
                stats = {key: sum(r[key] for r in results) for key in results[0]}
                _join_parts(jobs, staging, epoch, output_format, dtypes)
                metrics = epoch_metrics(stats, {**base_metrics, "epoch": epoch})
                write_json(metrics_path(staging, epoch), metrics)
                summary.setdefault("instances", []).append(stats["instances"])
                log.info("epoch %d: %d instances", epoch, stats["instances"])
        except BaseException:
            if pool is not None:
                pool.terminate()
            raise
        if pool is not None:
            pool.close()
            pool.join()
        summary["generate_seconds"] = time.perf_counter() - started
        shutil.rmtree(index_dir)
    return summary


def _run_parallel(pool: Any, jobs: list[ShardJob], epoch: int, progress: bool) -> list[dict]:
    results = []
    iterator = pool.imap(run_shard, jobs)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(jobs), desc=f"epoch {epoch}", unit=" shards")
    for result in iterator:
        results.append(result)
    return results
