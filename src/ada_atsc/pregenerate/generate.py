"""Second pass: turn the on-disk corpus index into epochs, block by block, in one or more worker processes.

The corpus is cut into blocks of whole documents (a block starts at the first document that crosses a
multiple of ``block_sentences`` sentences), each with its own random stream from (seed, epoch, block). A
shard is a contiguous run of blocks; workers write shard files that are joined in order, so the bytes do not
depend on ``--num_workers``. This module imports neither transformers nor torch: spawned workers stay small.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.sequence_template import SequenceTemplate
from .corpus_index import CorpusIndex
from .format import BINARY_FIELDS, NpyAppender
from .recipe import (
    RecipeConfig,
    block_generators,
    mask_instances,
    num_to_mask,
    packed_gather_index,
    packed_stream,
    plan_packed,
    plan_pairs,
    random_b_sentence_counts,
    truncate_pairs,
)
from .span_reader import SpanReader

STAT_KEYS = (
    "instances", "tokens", "masked", "replaced_by_mask", "kept", "replaced_by_random", "random_next",
    "documents", "short_targets", "targets",
)


def field_dtypes(cfg: RecipeConfig, token_dtype: str) -> dict[str, np.dtype]:
    """The on-disk dtype of every binary field: as small as the settings allow."""
    small_pos = np.uint8 if cfg.max_seq_len <= 256 else np.uint16
    return {
        "input_ids": np.dtype(token_dtype),
        "lengths": np.dtype(np.uint16 if cfg.max_seq_len < 65536 else np.uint32),
        "segment_b_start": np.dtype(small_pos),
        "next_sentence_label": np.dtype(np.int8),
        "num_masked": np.dtype(np.uint8 if cfg.max_predictions_per_seq < 256 else np.uint16),
        "masked_positions": np.dtype(small_pos),
        "masked_labels": np.dtype(token_dtype),
    }


def make_blocks(index: CorpusIndex, block_sentences: int) -> list[tuple[int, int]]:
    """Document ranges ``[lo, hi)`` of the blocks; they depend on the corpus only, never on the workers."""
    doc_sent = index.read("doc_sent", 0, index.num_documents)
    key = doc_sent // block_sentences
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    ends = np.append(starts[1:], index.num_documents)
    return [(int(a), int(b)) for a, b in zip(starts, ends)]


@dataclass
class BlockOutput:
    input_ids: np.ndarray
    lengths: np.ndarray
    segment_b_start: np.ndarray
    next_sentence_label: np.ndarray
    num_masked: np.ndarray
    masked_positions: np.ndarray
    masked_labels: np.ndarray
    stats: dict


def generate_block(
    index: CorpusIndex,
    reader: SpanReader,
    sent_info: np.ndarray,
    cfg: RecipeConfig,
    template: SequenceTemplate,
    mask_id: int,
    random_ids: np.ndarray,
    seed: int,
    epoch: int,
    block: int,
    doc_lo: int,
    doc_hi: int,
) -> BlockOutput:
    """All instances of documents ``[doc_lo, doc_hi)`` for one epoch.

    The block's own tokens are read in one piece; each random segment B is read on its own (``reader``).
    Positions are global token offsets until the gather, which indexes ``block tokens + B tokens``.
    """
    rng, prng = block_generators(seed, epoch, block)
    doc_sent = index.read("doc_sent", doc_lo, doc_hi + 1)
    s_lo, s_hi = int(doc_sent[0]), int(doc_sent[-1])
    sent_off_local = index.read("sent_off", s_lo, s_hi + 1)
    t_lo, t_hi = int(sent_off_local[0]), int(sent_off_local[-1])
    names = ("tokens", "cont") if cfg.whole_word_mask else ("tokens",)
    pieces = {name: [index.read(name, t_lo, t_hi)] for name in names}
    stats = dict.fromkeys(STAT_KEYS, 0)
    if cfg.mlm_only:
        max_len = cfg.max_seq_len - template.single_overhead
        doc_bounds = sent_off_local[doc_sent - s_lo]
        stream = packed_stream(doc_bounds, template.stream_separator_marker)
        starts, ends, short = plan_packed(prng, stream, max_len, cfg.short_seq_prob)
        gather, lengths = packed_gather_index(template, stream, starts, ends)
        gather = np.where(gather >= 0, gather - t_lo, gather)
        specials = template.single_specials
        seg_b = np.zeros(lengths.size, dtype=np.int64)
        nsp = np.full(lengths.size, -1, dtype=np.int64)
        stats["targets"] += int(starts.size)
        stats["short_targets"] += short
        stats["documents"] += doc_hi - doc_lo
    else:
        max_num = cfg.max_seq_len - template.pair_overhead
        plan = plan_pairs(
            prng, doc_sent, sent_off_local.tolist(), s_lo, index.num_sentences, max_num, cfg.short_seq_prob
        )
        rows = np.flatnonzero(plan.is_random)
        counts = random_b_sentence_counts(plan.random_start[rows], plan.random_target[rows], sent_info, max_num)
        b0, b1 = reader.sentence_spans(plan.random_start[rows], counts)
        plan.b0[rows], plan.b1[rows] = b0, b1
        for name in names:  # the random B's tokens follow the block's own in the gather source
            pieces[name].append(reader.ranges(name, b0, b1))
        shift_b = np.full(plan.b0.size, -t_lo, dtype=np.int64)
        shift_b[rows] = (t_hi - t_lo) + np.concatenate([[0], np.cumsum(b1 - b0)[:-1]]) - b0
        a0, a1, b0, b1 = truncate_pairs(rng, plan.a0, plan.a1, plan.b0, plan.b1, max_num)
        gather, lengths = template.pair_index(a0 - t_lo, a1 - t_lo, b0 + shift_b, b1 + shift_b)
        specials = template.pair_specials
        seg_b = np.zeros(lengths.size, dtype=np.int64)
        if template.has_segments:
            seg_b = template.segment_b_start(a1 - a0)
        nsp = plan.is_random.astype(np.int64)
        stats["targets"] += plan.documents
        stats["short_targets"] += plan.short_documents
        stats["documents"] += plan.documents
        stats["random_next"] += int(plan.is_random.sum())
    special = gather < 0
    safe = np.where(special, 0, gather)
    source = {name: np.concatenate(parts) if len(parts) > 1 else parts[0] for name, parts in pieces.items()}
    ids = source["tokens"][safe].astype(np.int64) if source["tokens"].size else np.zeros(safe.size, np.int64)
    ids[special] = specials[-1 - gather[special]]
    if cfg.whole_word_mask:
        word_start = ~(source["cont"][safe].astype(bool))
    else:
        word_start = np.ones(ids.size, dtype=bool)
    word_start[1:] |= special[:-1]  # a word never continues across a special token or a truncated front
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    k = num_to_mask(lengths, cfg.masked_lm_prob, cfg.max_predictions_per_seq)
    masked = mask_instances(rng, ids, offsets, special, word_start, k, random_ids, mask_id)
    stats["instances"] += int(lengths.size)
    stats["tokens"] += int(lengths.sum())
    stats["masked"] += int(masked.positions.size)
    stats["replaced_by_mask"] += masked.replaced_by_mask
    stats["kept"] += masked.kept
    stats["replaced_by_random"] += masked.replaced_by_random
    return BlockOutput(
        masked.input_ids, lengths, seg_b, nsp, masked.counts, masked.positions, masked.labels, stats
    )


class BinaryShardWriter:
    """Appends block outputs to one ``.npy`` file per field."""

    def __init__(self, prefix: Path, dtypes: dict[str, np.dtype]) -> None:
        self.files = {f: NpyAppender(f"{prefix}.{f}.npy", dtypes[f]) for f in BINARY_FIELDS}

    def write(self, out: BlockOutput) -> None:
        for name, appender in self.files.items():
            appender.append(getattr(out, name))

    def close(self) -> None:
        for appender in self.files.values():
            appender.close()


class JsonShardWriter:
    """Writes the 2019 ``epoch_N.json`` lines (token strings) for a block output."""

    def __init__(self, path: Path, id_to_token: list[str]) -> None:
        self.handle = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.vocab = np.asarray(id_to_token, dtype=object)

    def write(self, out: BlockOutput) -> None:
        offsets = np.concatenate([[0], np.cumsum(out.lengths)])
        moffsets = np.concatenate([[0], np.cumsum(out.num_masked)])
        tokens = self.vocab[out.input_ids].tolist()
        labels = self.vocab[out.masked_labels].tolist()
        positions = out.masked_positions.tolist()
        lines = []
        for i in range(out.lengths.size):
            start, end = offsets[i], offsets[i + 1]
            length = int(end - start)
            b = int(out.segment_b_start[i]) or length
            m0, m1 = moffsets[i], moffsets[i + 1]
            record = {
                "tokens": tokens[start:end],
                "segment_ids": [0] * b + [1] * (length - b),
                "is_random_next": bool(out.next_sentence_label[i] == 1),
                "masked_lm_positions": positions[m0:m1],
                "masked_lm_labels": labels[m0:m1],
            }
            lines.append(json.dumps(record, ensure_ascii=False))
        if lines:
            self.handle.write("\n".join(lines) + "\n")

    def close(self) -> None:
        self.handle.close()


@dataclass(frozen=True)
class ShardJob:
    """One worker's task: a contiguous run of blocks of one epoch, written to files under ``prefix``."""

    index_meta: str
    recipe: RecipeConfig
    template: SequenceTemplate
    mask_id: int
    seed: int
    output_format: str  # "binary" or "json"
    progress: bool
    epoch: int = 0
    blocks: tuple[tuple[int, int, int], ...] = ()  # (global block number, first document, end document)
    prefix: str = ""


def run_shard(job: ShardJob) -> dict:
    """Worker entry: generate the blocks of one shard into ``job.prefix`` files; returns summed stats."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    index = CorpusIndex(**json.loads(Path(job.index_meta).read_text(encoding="utf-8")))
    cfg = job.recipe
    index_dir = Path(index.directory)
    random_ids = np.load(index_dir / "random_ids.npy", allow_pickle=False)
    prefix = Path(job.prefix)
    if job.output_format == "json":
        id_to_token = json.loads((index_dir / "id_to_token.json").read_text(encoding="utf-8"))
        writer: Any = JsonShardWriter(prefix.with_suffix(".json"), id_to_token)
    else:
        writer = BinaryShardWriter(prefix, field_dtypes(cfg, index.token_dtype))
    totals = dict.fromkeys(STAT_KEYS, 0)
    reader = SpanReader(index)
    sent_info = np.fromfile(index.path("sent_info.bin"), dtype=np.uint16)  # 2 bytes a sentence
    bar = None
    if job.progress:
        from tqdm import tqdm

        bar = tqdm(total=len(job.blocks), desc=f"epoch {job.epoch}", unit=" blocks")
    try:
        for block, doc_lo, doc_hi in job.blocks:
            out = generate_block(index, reader, sent_info, cfg, job.template, job.mask_id, random_ids, job.seed,
                                 job.epoch, block, doc_lo, doc_hi)
            writer.write(out)
            for key, value in out.stats.items():
                totals[key] += value
            if bar is not None:
                bar.update(1)
    finally:
        writer.close()
        reader.close()
        if bar is not None:
            bar.close()
    return totals


def shard_jobs(blocks: list[tuple[int, int]], n_shards: int, base: ShardJob, staging: Path, epoch: int) -> list[ShardJob]:
    """Contiguous runs of blocks, one job each; the block numbering is global, so output is worker-independent."""
    n_shards = max(1, min(n_shards, len(blocks)))
    edges = np.linspace(0, len(blocks), n_shards + 1).round().astype(int)
    jobs = []
    for shard in range(n_shards):
        chosen = tuple((b, lo, hi) for b, (lo, hi) in enumerate(blocks) if edges[shard] <= b < edges[shard + 1])
        jobs.append(replace(base, epoch=epoch, blocks=chosen, prefix=str(staging / f"part_{epoch}_{shard:05d}")))
    return jobs


def index_meta_dict(index: CorpusIndex) -> dict:
    return asdict(index)
