"""The package layout (docs/architecture.md): the layer contract holds and catches an upward import, no module
grows past 400 lines, every public name still imports, and the commands behave as they did before the move."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "ada_atsc"
GOLDEN = Path(__file__).parent / "golden" / "layout_snapshot.json"

PUBLIC = {
    "ada_atsc": ["AbsaPipeline", "AdaError", "Extractor", "Predictor", "__version__"],
    "ada_atsc.data": ["ATSC_LABELS", "POLARITIES", "AspectExample", "read_dataset", "write_dataset"],
    "ada_atsc.export": ["EXPORT_MANIFEST", "ExportOptions", "OnnxModel", "export_model", "is_export"],
    "ada_atsc.serve": ["ServeLimits", "create_app"],
    "ada_atsc.pregenerate": ["PregeneratedEpoch", "count_epochs", "open_epoch", "read_epoch_metrics",
                             "tokenizer_fingerprint"],
    "ada_atsc.bulk": ["AnalyserSpec", "ResumableOutput", "WorkerPool", "absa_with_ray", "default_threads",
                      "for_long_run", "skip"],
    "ada_atsc.corpus": ["clean_text", "prepare_corpus", "sentence_offsets", "split_sentences"],
}


def _lint_imports(cwd: Path, src: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install import-linter)")
    return subprocess.run([str(lint), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})


def test_every_public_name_still_imports_and_each_label_set_has_one_home():
    import importlib

    for module, names in PUBLIC.items():
        loaded = importlib.import_module(module)
        missing = [name for name in names if not hasattr(loaded, name)]
        assert not missing, f"{module} lost {missing}"
    from ada_atsc.ate.spans import TAGS
    from ada_atsc.atsc.features import LABEL2ID
    from ada_atsc.core import labels
    from ada_atsc.data import ATSC_LABELS, POLARITIES

    assert ATSC_LABELS is labels.ATSC_LABELS and POLARITIES is labels.POLARITIES
    assert LABEL2ID is labels.LABEL2ID and TAGS is labels.EXTRACTION_TAGS


def test_the_layer_contract_holds():
    result = _lint_imports(REPO, REPO / "src")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """A foundation module importing a command: the contract names the import and fails."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "ada_atsc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    labels = tmp_path / "src" / "ada_atsc" / "core" / "labels.py"
    labels.write_text(labels.read_text() + "\nfrom ..commands import arguments  # noqa: E402,F401\n")
    result = _lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "ada_atsc.core.labels -> ada_atsc.commands.arguments" in result.stdout


def test_no_module_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, long


def _close(recorded, now, where: str = "") -> None:
    """Equal, floats within 1e-5 (outputs are rounded to 6 decimals; a CPU of another kind may round the last
    one the other way)."""
    if isinstance(recorded, float) or isinstance(now, float):
        assert isinstance(now, (int, float)) and math.isclose(recorded, now, abs_tol=1e-5), f"{where}: {recorded} != {now}"
    elif isinstance(recorded, dict):
        assert isinstance(now, dict) and sorted(recorded) == sorted(now), f"{where}: keys {sorted(recorded)} != {sorted(now)}"
        for key in recorded:
            _close(recorded[key], now[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(now, list) and len(recorded) == len(now), f"{where}: length {len(recorded)} != {len(now)}"
        for i, (a, b) in enumerate(zip(recorded, now)):
            _close(a, b, f"{where}[{i}]")
    else:
        assert recorded == now, f"{where}: {recorded!r} != {now!r}"


def test_the_commands_give_what_they_gave_before_the_layout_changed():
    """``train``, ``predict``, ``extract``, ``absa`` and ``evaluate`` on tiny models, against the snapshot the
    earlier layout recorded (tests/layout_snapshot.py says how)."""
    from tests.layout_snapshot import make_snapshot

    _close(json.loads(GOLDEN.read_text(encoding="utf-8")), make_snapshot(), "snapshot")
