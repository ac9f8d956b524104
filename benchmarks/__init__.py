"""aotsym's benchmark suite: aotsym against its peers, in one run, beside the machine's limits.

Run ``python -m benchmarks --help``.  ``benchmarks/RESULTS.md`` is written by
``python -m benchmarks --quick --markdown``; never edit its numbers by hand.
"""
