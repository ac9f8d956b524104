"""W3 — an MLP training step: 784-500-10, tanh hidden layer, softmax cross-entropy, float32.

Forward, backward and the SGD update (learning rate 0.01) on a 60-row batch, the seed's
benchmark.  aotsym and PyTensor run one Theano-style graph (shared parameters, ``grad``,
``updates``; the log-softmax written out stably with the row max); JAX the same formula under
``jax.value_and_grad`` in one ``jit``; NumPy a hand-written backward pass.  The check compares
the cost and the four updated parameters after the first step.  The fraction is of NumPy's
sgemm peak, counting the five matrix products of a step (2·60·(2·784·500 + 3·500·10) flops).
The least bytes of a step: ``x``, ``y`` and the parameters read once, the cost and the new
parameters written once.
"""

import functools

import numpy as np

from benchmarks.core import Case, Impl, min_bytes
from benchmarks.peers import TheanoAPI, builders, jax_arrays, jax_module

ID, NAME, TITLE = "W3", "mlp", "MLP 784-500-10 training step, float32"
IMPLS = ("numpy", "pytensor", "pytensor-c", "jax", "aotsym", "aotsym-1t")
LR = 0.01
NOTES = ["On a machine whose cores are busy with other processes, a multi-threaded OpenBLAS "
         "(NumPy's bundled one, and whatever links it) can stall on these small products — "
         "measured once at 63 ms instead of 0.73 ms single-threaded for 60x784 @ 784x500.  "
         "Several columns at the same tens of milliseconds here mean that, not the code; "
         "see the disturbed-run line at the top."]


def cases(ctx):
    batch, n_in = ctx.size(60, smoke=6), ctx.size(784, smoke=20)
    n_hid, n_out = ctx.size(500, smoke=15), 10
    rng = ctx.rng()
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    y = np.eye(n_out, dtype=np.float32)[rng.integers(0, n_out, batch)]
    bound1, bound2 = np.sqrt(6 / (n_in + n_hid)), np.sqrt(6 / (n_hid + n_out))
    params = [rng.uniform(-bound1, bound1, (n_in, n_hid)).astype(np.float32),
              np.zeros(n_hid, np.float32),
              rng.uniform(-bound2, bound2, (n_hid, n_out)).astype(np.float32),
              np.zeros(n_out, np.float32)]
    flops = 2.0 * batch * (2 * n_in * n_hid + 3 * n_hid * n_out)
    build = functools.partial(_build, x=x, y=y, params=params)
    yield Case(name=f"1 step, batch {batch}, {n_in}-{n_hid}-{n_out} float32", flops=flops,
               bytes=min_bytes([x, y, *params], [np.float32(0), *params]), count_calls=2,
               dtype="float32", rtol=1e-4, atol=1e-6,
               stateless=False, builders=builders(IMPLS, build, ctx.enabled))


def theano_step(api, params0):
    """The MLP step for aotsym or PyTensor: (train function, shared parameters)."""
    T = api.T
    x = T.matrix("x", dtype="float32")
    y = T.matrix("y", dtype="float32")
    params = [api.shared(p.copy(), name=n) for p, n in zip(params0, ("W1", "b1", "W2", "b2"))]
    W1, b1, W2, b2 = params
    h = T.tanh(T.dot(x, W1) + b1)
    z = T.dot(h, W2) + b2
    zs = z - z.max(axis=1, keepdims=True)
    logp = zs - T.log(T.exp(zs).sum(axis=1, keepdims=True))
    cost = -(y * logp).sum(axis=1).mean()
    grads = api.grad(cost, params)
    train = api.function([x, y], cost,
                         updates=[(p, p - np.float32(LR) * g) for p, g in zip(params, grads)])
    return train, params


def numpy_step(x, y, params):
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    zs = z - z.max(axis=1, keepdims=True)
    e = np.exp(zs)
    s = e.sum(axis=1, keepdims=True)
    cost = -(y * (zs - np.log(s))).sum(axis=1).mean()
    dz = (e / s - y) / np.float32(x.shape[0])
    dh = (dz @ W2.T) * (1 - h * h)
    grads = [x.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]
    params[:] = [p - np.float32(LR) * g for p, g in zip(params, grads)]
    return cost


def jax_step():
    jax = jax_module()
    jnp = jax.numpy

    def cost(params, x, y):
        W1, b1, W2, b2 = params
        h = jnp.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        zs = z - z.max(axis=1, keepdims=True)
        logp = zs - jnp.log(jnp.exp(zs).sum(axis=1, keepdims=True))
        return -(y * logp).sum(axis=1).mean()

    def step(params, x, y):
        c, grads = jax.value_and_grad(cost)(params, x, y)
        return [p - LR * g for p, g in zip(params, grads)], c
    return jax.jit(step)


def _build(key, x, y, params):
    if key == "numpy":
        state, last = [p.copy() for p in params], []

        def run():
            last[:] = [numpy_step(x, y, state)]
        return Impl(run, lambda: [*last, *state])
    if key == "jax":
        step, (jx, jy, *jparams) = jax_step(), jax_arrays(x, y, *params)
        state, last = [jparams], []

        def run():
            new, c = step(state[0], jx, jy)
            c.block_until_ready()
            state[0] = new
            last[:] = [c, *new]
        return Impl(run, lambda: last)
    api = TheanoAPI(key)  # aotsym, pytensor, pytensor-c
    train, shared = theano_step(api, params)
    last = []

    def run():
        last[:] = [train(x, y)]
    return Impl(run, lambda: [*last, *(p.get_value() for p in shared)])
