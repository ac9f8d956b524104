"""W1 — fused elementwise: ``a**2 + b**2 + 2*a*b`` and ``a + a**10`` on 10^7 elements.

The seeds' first examples.  Each expression is written once as a Python function over
duck-typed operands, so NumPy, JAX, aotsym and PyTensor run literally the same expression
(numexpr gets the same text).  Effective bandwidth counts the inputs read and the output
written once; the reference is the machine's copy bandwidth (W8).  A copy also pays a read of
its destination before writing it (read-for-ownership); a loop with streaming stores does not,
so above 100% is possible (up to about 150%).  Every implementation drops each result before
the next call, so an allocator that recycles freed memory avoids the page faults of a fresh
output (W8 shows what those cost).
"""

import functools

from benchmarks.core import Case, min_bytes
from benchmarks.peers import TheanoAPI, builders, jax_arrays, jax_module

ID, NAME, TITLE = "W1", "elemwise", "Fused elementwise, 10^7 elements"
IMPLS = ("numpy", "numexpr", "pytensor", "pytensor-c", "jax", "aotsym", "aotsym-1t")


def square_of_sum(a, b):
    return a**2 + b**2 + 2*a*b


def a_plus_a10(a):
    return a + a**10


EXPRESSIONS = [  # (python function, numexpr text, input names)
    (square_of_sum, "a**2 + b**2 + 2*a*b", ("a", "b")),
    (a_plus_a10, "a + a**10", ("a",)),
]


def cases(ctx):
    n = ctx.size(10**7, smoke=1000)
    rng = ctx.rng()
    for dtype in ("float64", "float32"):
        for fn, text, names in EXPRESSIONS:
            # values in [0.5, 1.5): a**10 stays finite and float32 keeps its accuracy
            arrays = [(rng.random(n) + 0.5).astype(dtype) for _ in names]
            build = functools.partial(_build, fn=fn, text=text, names=names, arrays=arrays)
            yield Case(name=f"`{text}`, {dtype}, n={n:,}",
                       bytes=min_bytes(arrays, [((n,), dtype)]), dtype=dtype,
                       rtol=1e-5 if dtype == "float32" else None,
                       builders=builders(IMPLS, build, ctx.enabled))
            del arrays, build


def _build(key, fn, text, names, arrays):
    if key == "numpy":
        return lambda: fn(*arrays)
    if key == "numexpr":
        import numexpr
        local_dict = dict(zip(names, arrays))
        return lambda: numexpr.evaluate(text, local_dict=local_dict)
    if key == "jax":
        jit_fn, args = jax_module().jit(fn), jax_arrays(*arrays)
        return lambda: jit_fn(*args).block_until_ready()
    api = TheanoAPI(key)  # aotsym, pytensor, pytensor-c
    inputs = [api.T.vector(name, dtype=str(arrays[0].dtype)) for name in names]
    f = api.function(inputs, fn(*inputs))
    return lambda: f(*arrays)
