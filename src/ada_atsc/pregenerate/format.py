"""Pregenerated epochs on disk: the compact binary format (written and read) and the 2019 JSON format (read).

The binary format keeps one epoch as a handful of flat ``.npy`` arrays that a trainer memory-maps, so an
epoch of millions of instances costs a few hundred bytes each on disk and almost nothing in memory. The
schema is documented in ``docs/pregenerated_format.md``. An epoch counts as complete only when its
``epoch_N_metrics.json`` exists: it is written last, after every data file has been renamed into place.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import AdaError, located

FORMAT_VERSION = 1
# field name -> what it holds (one file ``epoch_N.<field>.npy`` each)
BINARY_FIELDS = (
    "input_ids",  # all instances' (masked) token ids, concatenated
    "lengths",  # tokens per instance
    "segment_b_start",  # index of the first segment-1 token (0: no segment B, --mlm_only)
    "next_sentence_label",  # int8: 0 = true continuation, 1 = random, -1 = no next-sentence task
    "num_masked",  # masked positions per instance
    "masked_positions",  # concatenated, sorted within an instance
    "masked_labels",  # the original token ids at those positions
)
_HEADER_BYTES = 128  # fixed .npy header size, so the shape can be filled in after streaming the data


def metrics_path(directory: str | os.PathLike, epoch: int) -> Path:
    return Path(directory) / f"epoch_{epoch}_metrics.json"


def field_path(directory: str | os.PathLike, epoch: int, field: str) -> Path:
    return Path(directory) / f"epoch_{epoch}.{field}.npy"


def json_path(directory: str | os.PathLike, epoch: int) -> Path:
    return Path(directory) / f"epoch_{epoch}.json"


# ----------------------------------------------------------------------------------------------- writing


def npy_header(dtype: np.dtype, length: int) -> bytes:
    """A version-1.0 ``.npy`` header of exactly ``_HEADER_BYTES`` bytes for a 1-D array."""
    body = repr({"descr": np.dtype(dtype).str, "fortran_order": False, "shape": (int(length),)}).encode("latin1")
    pad = _HEADER_BYTES - 10 - len(body) - 1
    if pad < 0:  # pragma: no cover - only for absurd shapes
        raise ValueError("npy header too long")
    body = body + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


class NpyAppender:
    """Stream a 1-D array to a ``.npy`` file chunk by chunk; the header is fixed up on close."""

    def __init__(self, path: str | os.PathLike, dtype: np.dtype) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.length = 0
        self._handle = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._handle.write(npy_header(self.dtype, 0))

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        self._handle.write(values.tobytes())
        self.length += values.size

    def append_file(self, path: str | os.PathLike) -> None:
        """Append the data of another ``.npy`` file written by this class (used to join worker shards)."""
        with open(path, "rb") as source:
            source.seek(_HEADER_BYTES)
            while True:
                block = source.read(1 << 22)
                if not block:
                    break
                self._handle.write(block)
        self.length = (self._handle.tell() - _HEADER_BYTES) // self.dtype.itemsize

    def close(self) -> None:
        self._handle.seek(0)
        self._handle.write(npy_header(self.dtype, self.length))
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------- fingerprint


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A stable hash of a tokenizer's vocabulary, lower-casing and special tokens.

    Stored with every pregenerated epoch so that training can refuse data made with another vocabulary
    (token ids would silently mean different words).
    """
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: (item[1], item[0]))
    normalizer = None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        normalizer = json.loads(backend.to_str()).get("normalizer")
    specials = sorted(
        (str(token), int(tokenizer.convert_tokens_to_ids(str(token)))) for token in tokenizer.all_special_tokens
    )
    payload = {
        "vocab": vocab,
        "do_lower_case": getattr(tokenizer, "do_lower_case", None),
        "normalizer": normalizer,
        "special_tokens": specials,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()[:32]


# ----------------------------------------------------------------------------------------------- reading


def read_epoch_metrics(directory: str | os.PathLike, epoch: int) -> dict:
    """The content of ``epoch_N_metrics.json`` (AdaError if missing or malformed)."""
    path = metrics_path(directory, epoch)
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AdaError(f"{path}: missing (epoch {epoch} was not pregenerated or is incomplete)") from exc
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: not a valid metrics JSON file: {exc}") from exc
    if not isinstance(metrics, dict) or not isinstance(metrics.get("num_training_examples"), int):
        raise AdaError(f"{path}: metrics must be a JSON object with an integer 'num_training_examples'")
    return metrics


def _epoch_format(directory: Path, epoch: int) -> str | None:
    if not metrics_path(directory, epoch).is_file():
        return None
    if all(field_path(directory, epoch, field).is_file() for field in BINARY_FIELDS):
        return "binary"
    if json_path(directory, epoch).is_file():
        return "json"
    return None


def count_epochs(directory: str | os.PathLike) -> int:
    """Number of complete pregenerated epochs ``0..N-1`` in ``directory`` (binary or JSON format)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AdaError(f"{directory}: not a directory of pregenerated epochs")
    count = 0
    while _epoch_format(directory, count) is not None:
        count += 1
    return count


class PregeneratedEpoch:
    """Random access to one epoch's instances; ``ds[i]`` is a dict of 1-D numpy int arrays.

    ``input_ids`` (masked, with [CLS]/[SEP], unpadded), ``token_type_ids``, ``masked_lm_positions``,
    ``masked_lm_ids`` and the int ``next_sentence_label`` (0 true continuation, 1 random, -1 none).
    """

    def __init__(
        self,
        metrics: dict,
        input_ids: np.ndarray,
        lengths: np.ndarray,
        segment_b_start: np.ndarray,
        next_sentence_label: np.ndarray,
        num_masked: np.ndarray,
        masked_positions: np.ndarray,
        masked_labels: np.ndarray,
    ) -> None:
        self.metrics = metrics
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self._input_ids = input_ids
        self._offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        self._segment_b_start = segment_b_start
        self._nsp = next_sentence_label
        counts = np.asarray(num_masked, dtype=np.int64)
        self._mask_offsets = np.concatenate([[0], np.cumsum(counts)])
        self._masked_positions = masked_positions
        self._masked_labels = masked_labels

    def __len__(self) -> int:
        return int(self.lengths.size)

    def __getitem__(self, index: int) -> dict:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"instance {index} out of range for an epoch of {n}")
        start, end = self._offsets[index], self._offsets[index + 1]
        input_ids = np.asarray(self._input_ids[start:end], dtype=np.int64)
        token_type_ids = np.zeros(end - start, dtype=np.int64)
        b_start = int(self._segment_b_start[index])
        if b_start > 0:
            token_type_ids[b_start:] = 1
        m0, m1 = self._mask_offsets[index], self._mask_offsets[index + 1]
        return {
            "input_ids": input_ids,
            "token_type_ids": token_type_ids,
            "masked_lm_positions": np.asarray(self._masked_positions[m0:m1], dtype=np.int64),
            "masked_lm_ids": np.asarray(self._masked_labels[m0:m1], dtype=np.int64),
            "next_sentence_label": int(self._nsp[index]),
        }


def _load_field(directory: Path, epoch: int, field: str) -> np.ndarray:
    path = field_path(directory, epoch, field)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError as exc:
        raise AdaError(f"{path}: missing") from exc
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: not a valid .npy array: {exc}") from exc
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise AdaError(f"{path}: expected a 1-D integer array, found {array.dtype} of shape {array.shape}")
    return array


def _open_binary(directory: Path, epoch: int, metrics: dict) -> PregeneratedEpoch:
    arrays = {field: _load_field(directory, epoch, field) for field in BINARY_FIELDS}
    n = metrics["num_training_examples"]
    for field in ("lengths", "segment_b_start", "next_sentence_label", "num_masked"):
        if arrays[field].size != n:
            raise AdaError(
                f"{field_path(directory, epoch, field)}: holds {arrays[field].size} instances but "
                f"{metrics_path(directory, epoch).name} says num_training_examples={n}"
            )
    total = int(np.asarray(arrays["lengths"], dtype=np.int64).sum())
    if arrays["input_ids"].size != total:
        raise AdaError(
            f"{field_path(directory, epoch, 'input_ids')}: holds {arrays['input_ids'].size} tokens, "
            f"the lengths add up to {total}"
        )
    masked = int(np.asarray(arrays["num_masked"], dtype=np.int64).sum())
    for field in ("masked_positions", "masked_labels"):
        if arrays[field].size != masked:
            raise AdaError(
                f"{field_path(directory, epoch, field)}: holds {arrays[field].size} values, "
                f"num_masked adds up to {masked}"
            )
    return PregeneratedEpoch(metrics, **arrays)


def _open_json(directory: Path, epoch: int, metrics: dict, tokenizer: Any) -> PregeneratedEpoch:
    """Load a 2019-format ``epoch_N.json`` (one instance per line) into compact arrays."""
    path = json_path(directory, epoch)
    if tokenizer is None:
        raise AdaError(f"{path}: the JSON format stores token strings; pass the tokenizer to map them to ids")
    vocab = tokenizer.get_vocab()
    mlm_only = bool(metrics.get("mlm_only", False))
    ids: list[np.ndarray] = []
    lengths: list[int] = []
    b_starts: list[int] = []
    nsp: list[int] = []
    num_masked: list[int] = []
    positions: list[np.ndarray] = []
    labels: list[np.ndarray] = []

    def to_ids(tokens: list, line_no: int) -> np.ndarray:
        try:
            return np.fromiter((vocab[token] for token in tokens), dtype=np.int64, count=len(tokens))
        except KeyError as exc:
            raise located(path, line_no, f"token {exc.args[0]!r} is not in the tokenizer's vocabulary") from exc
        except TypeError as exc:
            raise located(path, line_no, "tokens must be a list of strings") from exc

    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                tokens = record["tokens"]
                segments = record["segment_ids"]
                mask_pos = record["masked_lm_positions"]
                mask_lab = record["masked_lm_labels"]
                is_random = record["is_random_next"]
            except (ValueError, KeyError, TypeError) as exc:
                raise located(path, line_no, f"not an instance of the 2019 format ({exc!r})") from exc
            if len(segments) != len(tokens) or len(mask_pos) != len(mask_lab):
                raise located(path, line_no, "tokens/segment_ids or masked positions/labels differ in length")
            token_ids = to_ids(tokens, line_no)
            ids.append(token_ids)
            lengths.append(len(tokens))
            seg = np.asarray(segments, dtype=np.int64)
            ones = np.flatnonzero(seg == 1)
            b_starts.append(int(ones[0]) if ones.size else 0)
            nsp.append(-1 if mlm_only else int(bool(is_random)))
            num_masked.append(len(mask_pos))
            pos = np.asarray(mask_pos, dtype=np.int64)
            if pos.size and (pos.min() < 0 or pos.max() >= len(tokens)):
                raise located(path, line_no, "a masked position lies outside the tokens")
            positions.append(pos)
            labels.append(to_ids(mask_lab, line_no))
    n = metrics["num_training_examples"]
    if len(lengths) != n:
        raise AdaError(
            f"{path}: holds {len(lengths)} instances but {metrics_path(directory, epoch).name} says "
            f"num_training_examples={n}"
        )
    id_dtype = np.uint16 if len(vocab) <= 65536 else np.uint32

    def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return PregeneratedEpoch(
        metrics,
        cat(ids, id_dtype),
        np.asarray(lengths, dtype=np.int64),
        np.asarray(b_starts, dtype=np.int32),
        np.asarray(nsp, dtype=np.int8),
        np.asarray(num_masked, dtype=np.int32),
        cat(positions, np.int32),
        cat(labels, id_dtype),
    )


def open_epoch(directory: str | os.PathLike, epoch: int, tokenizer: Any = None) -> PregeneratedEpoch:
    """Open epoch ``epoch`` of ``directory`` read-only (binary: memory-mapped; JSON: needs ``tokenizer``)."""
    directory = Path(directory)
    metrics = read_epoch_metrics(directory, epoch)
    kind = _epoch_format(directory, epoch)
    if kind == "binary":
        return _open_binary(directory, epoch, metrics)
    if kind == "json":
        return _open_json(directory, epoch, metrics, tokenizer)
    raise AdaError(
        f"{directory}: epoch {epoch} has a metrics file but no data "
        f"(neither {json_path(directory, epoch).name} nor the epoch_{epoch}.*.npy files)"
    )


def parse_npy_header(path: str | os.PathLike) -> dict:
    """Read a ``.npy`` header without loading data (used by tests to check the fixed-size header)."""
    with open(path, "rb") as handle:
        raw = handle.read(_HEADER_BYTES)
    return ast.literal_eval(raw[10:].decode("latin1").strip())
