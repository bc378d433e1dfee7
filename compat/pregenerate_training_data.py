#!/usr/bin/env python
"""The 2019 ``pregenerate_training_data.py`` with its flags verbatim: a thin shim over ``ada-atsc pregenerate``.

    python compat/pregenerate_training_data.py --train_corpus corpus.txt --bert_model bert-base-uncased \
        --do_lower_case --output_dir training/ --epochs_to_generate 3 --max_seq_len 256
"""

import sys

from ada_atsc.cli import main

if __name__ == "__main__":
    sys.exit(main(["pregenerate", *sys.argv[1:]]))
