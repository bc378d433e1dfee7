"""How a benchmark hands back its result: one JSON object on stdout and, with ``--output``, in a file."""

from __future__ import annotations

import json
from pathlib import Path


def emit(report: dict, output: str | None) -> None:
    """Print ``report`` as indented JSON; also write it to ``output`` (folders made) when one is given."""
    text = json.dumps(report, indent=1)
    print(text)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text + "\n", encoding="utf-8")
