"""W1 — fused elementwise: ``a**2 + b**2 + 2*a*b``, ``a + a**10`` and the logistic
``1/(1+exp(-a))`` on 10^7 elements.

The seeds' first examples, and the sigmoid of their logistic regression (a loop of vector
math: libmvec's exp at the machine's widest vector, AVX-512 where there is one).  Each expression is written once as a Python function over
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


def logistic(a, exp):
    return 1 / (1 + exp(-a))


EXPRESSIONS = [  # (python function, numexpr text, input names); a function taking ``exp``
    (square_of_sum, "a**2 + b**2 + 2*a*b", ("a", "b")),   # gets each implementation's
    (a_plus_a10, "a + a**10", ("a",)),
    (logistic, "1/(1+exp(-a))", ("a",)),
]


def cases(ctx):
    n = ctx.size(10**7, smoke=1000)
    rng = ctx.rng()
    # (the logistic after the seeds' two, so W1.1-W1.4 keep naming what they always did)
    for group, dtype in [(g, d) for g in (EXPRESSIONS[:2], EXPRESSIONS[2:])
                         for d in ("float64", "float32")]:
        for fn, text, names in group:
            # values in [0.5, 1.5): a**10 stays finite and float32 keeps its accuracy
            arrays = [(rng.random(n) + 0.5).astype(dtype) for _ in names]
            build = functools.partial(_build, fn=fn, text=text, names=names, arrays=arrays)
            yield Case(name=f"`{text}`, {dtype}, n={n:,}",
                       bytes=min_bytes(arrays, [((n,), dtype)]), dtype=dtype,
                       rtol=1e-5 if dtype == "float32" else None,
                       builders=builders(IMPLS, build, ctx.enabled))
            del arrays, build


def _with_exp(fn, exp):
    """``fn`` with the implementation's ``exp`` bound, where it takes one."""
    return functools.partial(fn, exp=exp) if "exp" in fn.__code__.co_varnames else fn


def _build(key, fn, text, names, arrays):
    if key == "numpy":
        import numpy as np
        fn = _with_exp(fn, np.exp)
        return lambda: fn(*arrays)
    if key == "numexpr":
        import numexpr
        local_dict = dict(zip(names, arrays))
        return lambda: numexpr.evaluate(text, local_dict=local_dict)
    if key == "jax":
        jax = jax_module()
        jit_fn, args = jax.jit(_with_exp(fn, jax.numpy.exp)), jax_arrays(*arrays)
        return lambda: jit_fn(*args).block_until_ready()
    api = TheanoAPI(key)  # aotsym, pytensor, pytensor-c
    inputs = [api.T.vector(name, dtype=str(arrays[0].dtype)) for name in names]
    f = api.function(inputs, _with_exp(fn, api.T.exp)(*inputs))
    return lambda: f(*arrays)
