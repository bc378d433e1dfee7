"""The output of an evaluation, for every task: ``eval_results.json`` and the prediction records, written
into one directory as one unit (nothing half-written, nothing replaced without ``--overwrite_output_dir``)."""

from __future__ import annotations

from pathlib import Path

from ..core.fileio import staged_output_dir, write_json, write_jsonl


def write_evaluation(output_dir: str | Path, scored: dict[str, dict], predictions: dict[str, list[dict]], *,
                     overwrite: bool = False, header: dict | None = None) -> None:
    """Write ``eval_results.json`` and the predictions into ``output_dir`` as one unit.

    One dataset: its scores and ``predictions.jsonl``. Several: ``{**header, "results": {name: scores}}`` and
    ``predictions_<name>.jsonl`` each (``/`` in a name becomes ``_``).
    """
    with staged_output_dir(output_dir, overwrite) as staging:
        single = len(scored) == 1
        write_json(staging / "eval_results.json", next(iter(scored.values())) if single
                   else {**(header or {}), "results": scored})
        for name, records in predictions.items():
            write_jsonl(staging / ("predictions.jsonl" if single else f"predictions_{name.replace('/', '_')}.jsonl"),
                        records)


def eval_results_txt(results: dict, fields: dict[str, str]) -> str:
    """The 2019 ``eval_results.txt`` layout of a run's results: ``name = value`` lines (``fields`` maps each
    printed name to its metric key), test scores at the best-dev step first and unprefixed, then
    ``test_last_``, ``dev_best_``, ``dev_last_``, then the best and last steps. Every task writes it here."""
    lines = []
    for split in ("test", "dev"):
        for which in ("best", "last"):
            metrics = results.get(split, {}).get(which)
            if not metrics:
                continue
            prefix = "" if (split, which) == ("test", "best") else f"{split}_{which}_"
            lines += [f"{prefix}{name} = {metrics[key]}" for name, key in fields.items()]
    lines += [f"best_step = {results.get('best_step')}", f"last_step = {results.get('last_step')}"]
    return "\n".join(lines) + "\n"
