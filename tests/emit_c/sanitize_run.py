"""Run the representative functions built with AddressSanitizer + UBSan (a subprocess of
test_emit_c_quality.py: the sanitizer runtime is preloaded into it).  Exits non-zero on a
mismatch; the sanitizers abort the process on an error."""

import sys

import numpy as np
from emit_helpers import assert_matches, build
from representative import cases, inputs, layouts

import aotsym

aotsym.config.cache_dir = sys.argv[1]
FLAGS = ("-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow "
         "-fno-sanitize-recover=all")
CASES = cases()
entries = build(CASES, cflags=FLAGS)
rng = np.random.default_rng(0)
for case in CASES:
    for values in layouts(inputs(case.name, rng)):
        assert_matches(case, entries[case.name], values, rtol=1e-5)
    try:  # an error path too
        entries[case.name](*[np.zeros((2, 3)) if getattr(a, "ndim", 0) == 2 else a
                             for a in inputs(case.name, rng)])
    except (ValueError, IndexError, TypeError):
        pass
big = np.random.default_rng(1).standard_normal((700, 700))  # threads and large blocks
for _ in range(3):
    assert_matches(CASES[0], entries["elementwise"], [big, big, (big * 10).astype("int64")])
print("sanitized run ok")
