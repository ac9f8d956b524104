"""Random expression graphs from the scalar op table: optimized == unoptimized, under
DEBUG_MODE (which also checks every single rewrite as it fires)."""

import warnings

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops import math as m
from aotsym.graph.ops import reduce as r
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.optimizer import optimize
from aotsym.optimizer.debug import RewriteChecker, values_agree

UNARY = [n for n, op in SCALAR_OPS.items() if op.nin == 1 and n not in ("cast", "invert")]
BINARY = [n for n, op in SCALAR_OPS.items() if op.nin == 2 and n not in (
    "and_", "or_", "xor", "int_div", "mod")]
CONSTANTS = [0, 1, 2, 0.5, -1, 3, 10]


def random_graph(rng, dtype, n_ops=24):
    x = T.vector("x", dtype=dtype)
    y = T.vector("y", dtype=dtype)
    s = T.scalar("s", dtype=dtype)
    pool = [x, y, s * x]
    for _ in range(n_ops):
        kind = rng.random()
        try:
            if kind < 0.35:
                v = getattr(m, rng.choice(UNARY))(pool[rng.integers(len(pool))])
            elif kind < 0.75:
                a = pool[rng.integers(len(pool))]
                b = pool[rng.integers(len(pool))] if rng.random() < 0.6 else \
                    float(rng.choice(CONSTANTS))
                if rng.random() < 0.5:
                    a, b = b, a
                v = m.elemwise(rng.choice(BINARY), a, b)
            elif kind < 0.85:
                v = m.switch(m.gt(pool[rng.integers(len(pool))], 0.5),
                             pool[rng.integers(len(pool))], pool[rng.integers(len(pool))])
            else:
                v = r.sum(pool[rng.integers(len(pool))]) * pool[rng.integers(len(pool))]
        except TypeError:
            continue
        if v.ndim == 1 and v.dtype in ("float32", "float64"):
            pool.append(v)
    return [x, y, s], pool[-3:]


@pytest.mark.parametrize("seed", range(60))
def test_random_graph_debug_mode(seed):
    rng = np.random.default_rng(seed)
    dtype = "float64" if seed % 3 else "float32"
    inputs, outputs = random_graph(rng, dtype)
    fg = FunctionGraph(inputs, outputs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker must be able to run the graph
        opt = optimize(fg, mode="DEBUG_MODE")
    checker = RewriteChecker(fg, seed=seed + 100)   # fresh values, final graph only
    final = evaluate(list(opt.outputs), {v: np.array(checker.values[v]) for v in inputs})
    for k, (b, a) in enumerate(zip(checker.original, final)):
        ok, why = values_agree(b, a)
        assert ok, f"output {k}: {why}"
