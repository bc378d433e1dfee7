#!/usr/bin/env python
"""Drop-in for the 2019 ``finetune_on_pregenerated.py``: the same flags, run by ``ada-atsc lm-finetune``.

    python compat/finetune_on_pregenerated.py --pregenerated_data training/ --bert_model <model dir> \
        --do_lower_case --output_dir finetuned_lm/ --epochs 3
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ada-atsc lm-finetune`` with the original script's arguments."""
    from ada_atsc.cli import main as cli_main

    return cli_main(["lm-finetune", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
