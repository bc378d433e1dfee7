#!/usr/bin/env python
"""Drop-in for the 2019 ``simple_lm_finetuning.py``: the same flags, run by ``ada-atsc lm-finetune-simple``.

    python compat/simple_lm_finetuning.py --train_corpus corpus.txt --bert_model <model dir> --do_lower_case \
        --output_dir finetuned_lm/ --do_train
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ada-atsc lm-finetune-simple`` with the original script's arguments."""
    from ada_atsc.cli import main as cli_main

    return cli_main(["lm-finetune-simple", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
