"""W2 — the seed's logistic regression: one training step, and 1000 steps.

N=400 examples, 784 features, float64, exactly the seed's model: ``p_1 = 1/(1+exp(-x·w-b))``,
cross-entropy, ``cost = xent.mean() + 0.01*(w**2).sum()``, gradient step 0.1 on ``w`` and
``b``; outputs ``[prediction, xent]``.  aotsym and PyTensor run the seed's code (shared
variables, ``grad``, ``updates``); JAX the same formula with ``jax.grad`` in one ``jit``, state
passed in and out; NumPy a hand-written gradient.  For 1000 steps aotsym and PyTensor call
their step function 1000 times from Python, NumPy loops, JAX runs ``lax.fori_loop`` in one
compiled call.  The check compares the outputs and the new ``w`` and ``b`` after the first
call (the initial weights are the seed's ``randn`` scaled by 0.01, so nothing saturates and
the naive and the stabilized formulas agree).  The fraction is of NumPy's dgemm peak, counting
the two matrix-vector products (4·N·784 flops per step).  The least bytes of a step: ``x``,
``y``, ``w`` and ``b`` read once, the outputs and the new ``w`` and ``b`` written once (1000
steps: 1000 times that, one call of the step each).
"""

import functools

import numpy as np

from benchmarks.core import Case, Impl, min_bytes
from benchmarks.peers import TheanoAPI, builders, jax_arrays, jax_module

ID, NAME, TITLE = "W2", "logreg", "Logistic regression training (the seed's model)"
NOTES = ["aotsym may split these 400x784 matrix-vector products over its 2-thread pool; "
         "whether it does is measured while it runs (runtime/aotsym_blas.h, aot_adapt: the "
         "first calls time both, then the faster one, re-timed every 64 calls), so a busy "
         "second core does not make the step slower.  Before that, the split was taken on a "
         "fixed threshold and the 1000 steps ranged from 58.8 to 147 ms between runs.",
         "aotsym --profile: the same graph built with profile counters; its ratio is the "
         "instrumentation's overhead."]
IMPLS = ("numpy", "pytensor", "pytensor-c", "jax", "aotsym", "aotsym-1t", "aotsym-profile")


def data(ctx):
    n, feats = ctx.size(400, smoke=40), ctx.size(784, smoke=30)
    rng = ctx.rng()
    x = rng.standard_normal((n, feats))
    y = rng.integers(0, 2, n).astype(np.float64)
    w0 = 0.01 * rng.standard_normal(feats)
    return x, y, w0


def cases(ctx):
    x, y, w0 = data(ctx)
    flops = 4.0 * x.shape[0] * x.shape[1]
    n, b = x.shape[0], np.float64(0.0)
    step_bytes = min_bytes([x, y, w0, b], [((n,), np.bool_), ((n,), np.float64), w0, b])
    for steps in (1, ctx.size(1000, smoke=10)):
        build = functools.partial(_build, x=x, y=y, w0=w0, steps=steps)
        yield Case(name=f"{'1 step' if steps == 1 else f'{steps} steps'}, "
                        f"{x.shape[0]}x{x.shape[1]} float64",
                   flops=flops * steps, bytes=step_bytes * steps, dtype="float64",
                   rtol=1e-6, atol=1e-8, count_calls=10 if steps == 1 else 0,
                   stateless=False, builders=builders(IMPLS, build, ctx.enabled))


def theano_train(api, w0):
    """The seed's code, for aotsym or PyTensor; returns (train function, w, b)."""
    T = api.T
    x = T.matrix("x", dtype="float64")
    y = T.vector("y", dtype="float64")
    w = api.shared(w0.copy(), name="w")
    b = api.shared(0., name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = api.grad(cost, [w, b])
    train = api.function(inputs=[x, y], outputs=[prediction, xent],
                         updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    return train, w, b


def numpy_step(x, y, state):
    w, b = state
    p_1 = 1 / (1 + np.exp(-(x @ w) - b))
    prediction = p_1 > 0.5
    xent = -y * np.log(p_1) - (1 - y) * np.log(1 - p_1)
    g = (p_1 - y) / x.shape[0]
    state[0] = w - 0.1 * (x.T @ g + 0.02 * w)
    state[1] = b - 0.1 * g.sum()
    return prediction, xent


def jax_steps(steps):
    jax = jax_module()
    jnp = jax.numpy

    def cost(w, b, x, y):
        p_1 = 1 / (1 + jnp.exp(-(x @ w) - b))
        xent = -y * jnp.log(p_1) - (1 - y) * jnp.log(1 - p_1)
        return xent.mean() + 0.01 * (w ** 2).sum(), (p_1 > 0.5, xent)

    grad = jax.grad(cost, argnums=(0, 1), has_aux=True)

    def step(w, b, x, y):
        (gw, gb), (prediction, xent) = grad(w, b, x, y)
        return w - 0.1 * gw, b - 0.1 * gb, prediction, xent

    if steps == 1:
        return jax.jit(step)

    def many(w, b, x, y):
        w, b = jax.lax.fori_loop(0, steps - 1, lambda i, s: step(*s, x, y)[:2], (w, b))
        return step(w, b, x, y)
    return jax.jit(many)


def _build(key, x, y, w0, steps):
    if key == "numpy":
        state, last = [w0.copy(), 0.0], []

        def run():
            for _ in range(steps):
                out = numpy_step(x, y, state)
            last[:] = out
        return Impl(run, lambda: [*last, state[0], np.float64(state[1])])
    if key == "jax":
        fn, (jx, jy, w, b) = jax_steps(steps), jax_arrays(x, y, w0, np.float64(0.0))
        state, last = [w, b], []

        def run():
            w, b, prediction, xent = fn(state[0], state[1], jx, jy)
            xent.block_until_ready()
            state[:] = [w, b]
            last[:] = [prediction, xent, w, b]
        return Impl(run, lambda: last)
    api = TheanoAPI(key)  # aotsym, aotsym-profile, pytensor, pytensor-c
    train, w, b = theano_train(api, w0)
    last = []

    def run():
        for _ in range(steps):
            out = train(x, y)
        last[:] = out
    return Impl(run, lambda: [*last, w.get_value(), b.get_value()])
