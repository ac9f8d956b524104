"""Build (or load) one small function in a fresh process and report what happened:
``python build_child.py CACHE_DIR [DELAY]`` prints one JSON line."""

import json
import sys
import time

import numpy as np

import aotsym
from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program

aotsym.config.cache_dir = sys.argv[1]
x = T.vector("x")
spec = FunctionSpec("twice_plus_one", lower_program(FunctionGraph([x], [x * 2 + 1])))
start = time.perf_counter()
loaded = build_module([spec], BuildOptions.from_config(cflags="-O1"))
seconds = time.perf_counter() - start
result = loaded.entries[0](np.arange(3.0))[0]
print(json.dumps({"from_cache": loaded.from_cache, "seconds": seconds, "path": loaded.path,
                  "result": result.tolist()}))
