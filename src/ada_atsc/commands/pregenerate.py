"""``ada-atsc pregenerate``: a corpus -> epochs of masked-LM (+ next-sentence) training instances.

The flags of the 2019 ``pregenerate_training_data.py`` are kept verbatim (``compat/`` has a drop-in script);
``--seed``, ``--output_format``, ``--mlm_only`` and ``--overwrite_output_dir`` are new.
"""

from __future__ import annotations

import argparse
import logging

from .arguments import add_model_source, add_output_dir, add_progress, add_seed

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The 2019 flags (same names and defaults) plus the new ones."""
    parser.add_argument("--train_corpus", required=True, help="one sentence per line, a blank line between documents")
    add_output_dir(parser, "where the epochs and their metrics are written")
    parser.add_argument(
        "--bert_model", required=True,
        help="the model whose tokenizer (and layout) to use: a local directory or a hub name (any fast tokenizer)",
    )
    parser.add_argument("--do_lower_case", action="store_true",
                        help="force lower-casing (default: the tokenizer's own setting)")
    parser.add_argument("--do_whole_word_mask", action="store_true", help="mask whole words (from word ids)")
    parser.add_argument("--reduce_memory", action="store_true",
                        help="accepted for compatibility; memory is always bounded (the corpus is indexed on disk)")
    parser.add_argument("--num_workers", type=int, default=1, help="worker processes (output is identical for any)")
    parser.add_argument("--epochs_to_generate", type=int, default=3)
    parser.add_argument("--max_seq_len", type=int, default=128)
    parser.add_argument("--short_seq_prob", type=float, default=0.1, help="probability of a shorter target length")
    parser.add_argument("--masked_lm_prob", type=float, default=0.15)
    parser.add_argument("--max_predictions_per_seq", type=int, default=20)
    add_seed(parser, default=42, what="the instances (masks, pairs, lengths)")
    parser.add_argument("--output_format", choices=["binary", "json"], default="binary",
                        help="binary: compact memory-mapped arrays; json: the 2019 epoch_N.json lines")
    parser.add_argument("--mlm_only", action="store_true",
                        help="no next-sentence pairs: contiguous text packed to full length (e.g. RoBERTa)")
    add_progress(parser)
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    """Load the tokenizer (in a short-lived child), then index and generate."""
    from ..pregenerate.pipeline import pregenerate
    from ..pregenerate.recipe import RecipeConfig
    from ..pregenerate.tokenizer_info import load_tokenizer_info
    from ..runtime.models import check_sequence_length

    check_sequence_length(args.bert_model, args.max_seq_len, "--max_seq_len")
    info = load_tokenizer_info(args.bert_model, True if args.do_lower_case else None)
    cfg = RecipeConfig(
        max_seq_len=args.max_seq_len,
        short_seq_prob=args.short_seq_prob,
        masked_lm_prob=args.masked_lm_prob,
        max_predictions_per_seq=args.max_predictions_per_seq,
        whole_word_mask=args.do_whole_word_mask,
        mlm_only=args.mlm_only,
    )
    summary = pregenerate(
        args.train_corpus,
        args.output_dir,
        info,
        cfg,
        epochs=args.epochs_to_generate,
        seed=args.seed,
        num_workers=args.num_workers,
        output_format=args.output_format,
        overwrite=args.overwrite_output_dir,
        progress=not args.no_progress,
    )
    log.info("wrote %s instances per epoch to %s (indexing %.1f s, generation %.1f s)",
             summary["instances"], args.output_dir, summary["index_seconds"], summary["generate_seconds"])
    return 0
