"""W6 — per-call overhead: ``x*2 + 1`` on 10 float64 elements.

The work is nothing; what is measured is the cost of one call from Python: argument checks,
dispatch, allocating the output.  NumPy's own two ufunc calls are the bar to clear.
"""

import functools

from benchmarks.core import Case, min_bytes
from benchmarks.peers import TheanoAPI, builders, jax_arrays, jax_module

ID, NAME, TITLE = "W6", "overhead", "Per-call overhead of a tiny function"
IMPLS = ("numpy", "numexpr", "pytensor", "pytensor-c", "jax", "aotsym")


def tiny(x):
    return x * 2 + 1


def cases(ctx):
    x = ctx.rng().random(10)
    yield Case(name="`x*2 + 1`, 10 elements, float64", bytes=min_bytes([x], [x]),
               limit=None, count_calls=1000,
               builders=builders(IMPLS, functools.partial(_build, x=x), ctx.enabled))


def _build(key, x):
    if key == "numpy":
        return lambda: tiny(x)
    if key == "numexpr":
        import numexpr
        return lambda: numexpr.evaluate("x*2 + 1", local_dict={"x": x})
    if key == "jax":
        fn, (jx,) = jax_module().jit(tiny), jax_arrays(x)
        return lambda: fn(jx).block_until_ready()
    api = TheanoAPI(key)
    v = api.T.vector("x", dtype="float64")
    f = api.function([v], tiny(v))
    return lambda: f(x)
