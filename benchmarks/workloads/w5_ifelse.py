"""W5 — the seed's ifelse against switch, on two 10000x1000 float64 matrices.

``switch(lt(a, b), mean(x), mean(y))`` evaluates both means; ``ifelse`` only the branch
taken, so it should cost about half.  aotsym and PyTensor run the seed's graphs; JAX
``jnp.where`` and ``lax.cond``; NumPy ``np.where`` and a Python ``if``.  The bandwidth counts
what must be read: both matrices for switch, one for ifelse (a pass that only reads can
beat the copy figure, which also writes).  While ``aotsym.ifelse`` does
not exist its cell says so.
"""

import functools

import numpy as np

from benchmarks.core import Case
from benchmarks.peers import TheanoAPI, builders, jax_arrays, jax_module

ID, NAME, TITLE = "W5", "ifelse", "ifelse vs switch (the seed's example)"
IMPLS = ("numpy", "pytensor", "pytensor-c", "jax", "aotsym")


def cases(ctx):
    rows, cols = ctx.size(10000, smoke=100), ctx.size(1000, smoke=10)
    rng = ctx.rng()
    x = rng.random((rows, cols))
    y = rng.random((rows, cols)) + 1.0          # a different mean: shows the branch taken
    a, b = np.float64(0.0), np.float64(1.0)    # a < b: the first branch
    for lazy in (False, True):
        build = functools.partial(_build, lazy=lazy, args=(a, b, x, y))
        yield Case(name=f"{'ifelse (lazy)' if lazy else 'switch'}, {rows}x{cols} float64",
                   bytes=(1 if lazy else 2) * x.nbytes,
                   builders=builders(IMPLS, build, ctx.enabled))


def _build(key, lazy, args):
    if key == "numpy":
        if lazy:
            return lambda: (lambda a, b, x, y: x.mean() if a < b else y.mean())(*args)
        return lambda: (lambda a, b, x, y: np.where(a < b, x.mean(), y.mean()))(*args)
    if key == "jax":
        jax = jax_module()
        jnp = jax.numpy
        if lazy:
            def fn(a, b, x, y):
                return jax.lax.cond(a < b, lambda: x.mean(), lambda: y.mean())
        else:
            def fn(a, b, x, y):
                return jnp.where(a < b, x.mean(), y.mean())
        jit_fn, jargs = jax.jit(fn), jax_arrays(*args)
        return lambda: jit_fn(*jargs).block_until_ready()
    api = TheanoAPI(key)
    choose = api.ifelse if lazy else api.T.switch
    T = api.T
    a, b = T.scalar("a", dtype="float64"), T.scalar("b", dtype="float64")
    x = T.matrix("x", dtype="float64")
    y = T.matrix("y", dtype="float64")
    f = api.function([a, b, x, y], choose(T.lt(a, b), T.mean(x), T.mean(y)))
    return lambda: f(*args)
