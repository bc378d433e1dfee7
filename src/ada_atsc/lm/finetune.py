"""The two ways to domain-adapt an encoder, as functions: from pregenerated epochs (``ada-atsc lm-finetune``,
the 2019 ``finetune_on_pregenerated.py``) or straight from a corpus (``ada-atsc lm-finetune-simple``, the 2019
``simple_lm_finetuning.py``: instances made on the fly by :mod:`.simple_data` and, unlike 2019, batches padded
only to their longest member). Both open the data and the model and hand them to
:func:`.training.train_language_model`, which writes the model directory.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import AdaError
from ..core.fileio import check_output_dir
from ..runtime.models import check_sequence_length, load_tokenizer, resolve_model_path

if TYPE_CHECKING:  # pragma: no cover
    from .training import LMTrainingOptions  # imports torch and transformers


def finetune_on_pregenerated(pregenerated_data: str | Path, bert_model: str, options: LMTrainingOptions, *,
                             epochs: int = 3, do_lower_case: bool = False, callbacks: Sequence = ()) -> dict:
    """Train ``bert_model`` on the epochs in ``pregenerated_data`` (epoch e reads pregenerated epoch e mod n)
    with ``options``; returns the run summary."""
    import torch

    from .data import PretrainingCollator, open_pregenerated
    from .heads import load_pretraining_model
    from .training import train_language_model

    if not options.resume_from_checkpoint:
        check_output_dir(options.output_dir, options.overwrite_output_dir)  # fail before any heavy work
    if epochs < 1:
        raise AdaError(f"--epochs must be at least 1, got {epochs}")
    model_path = resolve_model_path(bert_model)
    tokenizer = load_tokenizer(model_path, do_lower_case=True if do_lower_case else None)
    data = open_pregenerated(pregenerated_data, epochs, tokenizer)
    check_sequence_length(model_path, int(data.statistics().get("max_seq_len") or 0),
                          f"{pregenerated_data}: max_seq_len")
    loaded = load_pretraining_model(model_path, with_nsp=not data.mlm_only, seed=options.seed)
    use_cuda = torch.cuda.is_available() and not options.no_cuda
    collator = PretrainingCollator(tokenizer.pad_token_id, with_nsp=loaded.with_nsp,
                                   pad_to_multiple_of=8 if use_cuda else None,
                                   with_token_types=loaded.uses_token_types)
    extra = {"command": "lm-finetune", "pregenerated_data": str(pregenerated_data), "epochs": epochs,
             "bert_model": str(bert_model), "do_lower_case": do_lower_case, **options.extra}
    return train_language_model(loaded, tokenizer, data.dataset, data.dataset.block_sizes, collator,
                                dataclasses.replace(options, extra=extra), statistics=data.statistics(),
                                base_model=str(bert_model), callbacks=callbacks)


def finetune_simple(train_corpus: str | Path, bert_model: str, options: LMTrainingOptions, *,
                    max_seq_length: int = 128, num_train_epochs: float = 3.0, warmup_proportion: float = 0.1,
                    do_lower_case: bool = False, callbacks: Sequence = ()) -> dict:
    """Train ``bert_model`` on sentence pairs made on the fly from ``train_corpus``; ``warmup_proportion`` of
    the steps warm the learning rate up (it sets ``options.warmup_steps``). Returns the run summary."""
    import torch

    from .data import PretrainingCollator
    from .heads import load_pretraining_model
    from .simple_data import OnTheFlyPairs, read_documents
    from .training import train_language_model, world_size_from_env

    if not options.resume_from_checkpoint:
        check_output_dir(options.output_dir, options.overwrite_output_dir)
    if not 0 <= warmup_proportion < 1:
        raise AdaError(f"--warmup_proportion must be in [0, 1), got {warmup_proportion}")
    model_path = resolve_model_path(bert_model)
    check_sequence_length(model_path, max_seq_length, "--max_seq_length")
    tokenizer = load_tokenizer(model_path, do_lower_case=True if do_lower_case else None)
    documents = read_documents(train_corpus)
    loaded = load_pretraining_model(model_path, with_nsp=None, seed=options.seed)
    dataset = OnTheFlyPairs(documents, tokenizer, max_seq_length=max_seq_length,
                            epochs=num_train_epochs, seed=options.seed, next_sentence=loaded.with_nsp)
    use_cuda = torch.cuda.is_available() and not options.no_cuda
    collator = PretrainingCollator(tokenizer.pad_token_id, with_nsp=loaded.with_nsp,
                                   pad_to_multiple_of=8 if use_cuda else None,
                                   with_token_types=loaded.uses_token_types)
    per_step = max(1, options.train_batch_size // max(1, world_size_from_env()) * world_size_from_env())
    total_steps = options.max_steps if options.max_steps > 0 else math.ceil(len(dataset) / per_step)
    statistics = {
        "corpus": str(train_corpus),
        "documents": len(documents),
        "lines": sum(len(doc) for doc in documents),
        "sentence_pairs": len(dataset.pairs),
        "training_examples": len(dataset),
        "max_seq_length": max_seq_length,
    }
    extra = {"command": "lm-finetune-simple", "train_corpus": str(train_corpus), "bert_model": str(bert_model),
             "num_train_epochs": num_train_epochs, "warmup_proportion": warmup_proportion,
             "max_seq_length": max_seq_length, "do_lower_case": do_lower_case, **options.extra}
    options = dataclasses.replace(options, warmup_steps=int(warmup_proportion * total_steps), extra=extra)
    return train_language_model(loaded, tokenizer, dataset, dataset.block_sizes, collator, options,
                                statistics=statistics, base_model=str(bert_model), callbacks=callbacks)
