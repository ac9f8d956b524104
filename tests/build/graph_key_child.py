"""Build (or load by its graph key) a small training step in a fresh process and report what
happened: ``python graph_key_child.py CACHE_DIR`` prints one JSON line."""

import json
import sys
import time

import numpy as np

import aotsym
from aotsym import tensor as T

aotsym.config.cache_dir = sys.argv[1]
w = aotsym.shared(np.zeros(3), name="w")
x = T.vector("x")
start = time.perf_counter()
step = aotsym.function([x], (w * x).sum() / T.log(x).sum(), updates={w: w + x})
seconds = time.perf_counter() - start
first = step(np.array([1.0, 2.0, 3.0])).tolist()
second = step(np.array([1.0, 2.0, 3.0])).tolist()
try:
    step(np.array([1.0, 2.0]))          # a shape error: the message names the user's line
    error = ""
except ValueError as exc:
    error = str(exc)
module = step._run.module
print(json.dumps({"from_graph_key": module.from_graph_key, "seconds": seconds,
                  "stages": sorted(module.seconds), "results": [first, second],
                  "w": w.get_value().tolist(), "error": error}))
