"""The command layer: one module per ``ada-atsc`` subcommand, each with ``add_arguments(parser)`` and
``run(args) -> int``.

A command module parses flags (the shared ones come from :mod:`.arguments`, defined once), turns them into
the typed parameters or options dataclasses of the library (``ada_atsc.data``, ``corpus``, ``pregenerate``,
``lm``, ``atsc``, ``ate``, ``absa``), calls it, and prints the result. Only this package and
:mod:`ada_atsc.cli` import argparse or write a command's output to standard output. Each module imports the
library lazily inside ``run`` where that library is heavy, so building one command's parser stays fast.
"""
