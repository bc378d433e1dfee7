"""``python -m ada_atsc`` is ``ada-atsc`` (so ``torchrun -m ada_atsc ...`` works)."""

import sys

from .cli import main

sys.exit(main())
