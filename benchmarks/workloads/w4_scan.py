"""W4 — loops: the seed's polynomial by ``scan`` (10,000 coefficients) and an RNN of 1000 steps.

The polynomial is the seed's code verbatim for aotsym and PyTensor (``scan`` over the
coefficients and ``arange(10000)``, then ``sum``), ``lax.scan`` for JAX, and NumPy's natural
vectorized ``(c * x ** arange(n)).sum()``.  The RNN is ``h_t = tanh(W·h_{t-1} + x_t)``,
hidden size 100, all 1000 states returned: ``scan`` for aotsym and PyTensor, ``lax.scan`` for
JAX, a Python loop for NumPy.  Float64.  While ``aotsym.scan`` does not exist the aotsym
column says so and the peers are still measured; it is picked up as soon as it does.
"""

import functools

import numpy as np

from benchmarks.core import Case, min_bytes
from benchmarks.peers import TheanoAPI, builders, jax_arrays, jax_module

ID, NAME, TITLE = "W4", "scan", "Loops: scan"
IMPLS = ("numpy", "pytensor", "pytensor-c", "jax", "aotsym")


def cases(ctx):
    rng = ctx.rng()
    n = ctx.size(10000, smoke=50)
    coeffs = rng.random(n)
    x = np.float64(0.999)
    yield Case(name=f"polynomial, {n:,} coefficients, float64", count_calls=5,
               bytes=min_bytes([coeffs, x], [x]),
               builders=builders(IMPLS, functools.partial(_polynomial, coeffs=coeffs, x=x),
                                 ctx.enabled))
    steps, hidden = ctx.size(1000, smoke=20), ctx.size(100, smoke=8)
    xs = rng.standard_normal((steps, hidden))
    w = rng.standard_normal((hidden, hidden)) * (0.9 / np.sqrt(hidden))
    h0 = np.zeros(hidden)
    yield Case(name=f"RNN tanh(W·h + x_t), {steps} steps, hidden {hidden}, float64",
               bytes=min_bytes([xs, w, h0], [xs]), count_calls=2,
               builders=builders(IMPLS, functools.partial(_rnn, xs=xs, w=w, h0=h0),
                                 ctx.enabled),
               rtol=1e-6, atol=1e-9)


def _polynomial(key, coeffs, x):
    n = coeffs.shape[0]
    if key == "numpy":
        powers = np.arange(n)
        return lambda: (coeffs * x ** powers).sum()
    if key == "jax":
        jax = jax_module()

        def poly(c, x):
            def body(carry, cp):
                return carry, cp[0] * x ** cp[1]
            return jax.lax.scan(body, None, (c, jax.numpy.arange(n)))[1].sum()
        fn, args = jax.jit(poly), jax_arrays(coeffs, x)
        return lambda: fn(*args).block_until_ready()
    api = TheanoAPI(key)  # aotsym, pytensor, pytensor-c: the seed's code
    scan, T = api.scan, api.T
    coefficients = T.vector("coefficients", dtype="float64")
    free = T.scalar("x", dtype="float64")
    full_range = T.arange(n)
    components, updates = scan(fn=lambda coeff, power, free_var: coeff * (free_var ** power),
                               outputs_info=None, sequences=[coefficients, full_range],
                               non_sequences=free)
    f = api.function(inputs=[coefficients, free], outputs=components.sum())
    return lambda: f(coeffs, x)


def _rnn(key, xs, w, h0):
    if key == "numpy":
        def loop():
            out, h = np.empty_like(xs), h0
            for t in range(xs.shape[0]):
                h = np.tanh(w @ h + xs[t])
                out[t] = h
            return out
        return loop
    if key == "jax":
        jax = jax_module()

        def rnn(xs, w, h0):
            def body(h, x_t):
                h = jax.numpy.tanh(w @ h + x_t)
                return h, h
            return jax.lax.scan(body, h0, xs)[1]
        fn, args = jax.jit(rnn), jax_arrays(xs, w, h0)
        return lambda: fn(*args).block_until_ready()
    api = TheanoAPI(key)
    scan, T = api.scan, api.T
    X = T.matrix("X", dtype="float64")
    W = T.matrix("W", dtype="float64")
    H0 = T.vector("h0", dtype="float64")
    hs, updates = scan(lambda x_t, h, W: T.tanh(T.dot(W, h) + x_t), sequences=X,
                       outputs_info=H0, non_sequences=W)
    f = api.function([X, W, H0], hs, updates=updates)
    return lambda: f(xs, w, h0)
