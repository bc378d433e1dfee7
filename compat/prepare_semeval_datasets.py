#!/usr/bin/env python
"""The paper's ``prepare_semeval_datasets.py`` with its flags verbatim: a thin shim over ``ada-atsc prepare-semeval``.

    python compat/prepare_semeval_datasets.py --files Restaurants_Train_v2.xml --output_dir data/rest --istrain --noconfl
"""

import sys

from ada_atsc.cli import main

if __name__ == "__main__":
    sys.exit(main(["prepare-semeval", *sys.argv[1:]]))
