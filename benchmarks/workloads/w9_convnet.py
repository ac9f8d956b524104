"""W9 — the seed's ConvNet training step, float32: 256x256 images convolved with 6 7x7
filters (6x250x250), max-pooled 5x5 to 6x50x50, tanh, convolved with 16 6x7x7 filters
(16x44x44), tanh, a matrix multiply to 10 classes, softmax cross-entropy, then the gradients
of all six parameters and the SGD update (learning rate 0.01), on a batch of 10.

aotsym runs the Theano graph (``T.nnet.conv2d``, ``T.signal.pool.pool_2d``, shared
parameters, ``grad``, ``updates``): convolutions as im2col + sgemm.  PyTorch (eager, on the
CPU) runs the same model with autograd (``conv2d`` of the flipped filters: Theano's conv2d is
a true convolution).  NumPy is a hand-written forward and backward pass (im2col through
``sliding_window_view`` and ``tensordot``).  The check compares the cost and the six updated
parameters after the first step.  The fraction is of NumPy's sgemm peak, counting the
multiply-adds of the two convolutions forward, the filters' gradients of both and the
input gradient of the second, and the classifier's three products.  The least bytes: the
batch and the parameters read once, the cost and the new parameters written once.
"""

import functools

import numpy as np

from benchmarks.core import Case, Impl, min_bytes
from benchmarks.peers import TheanoAPI, builders

ID, NAME, TITLE = "W9", "convnet", "ConvNet training step (seed), float32"
IMPLS = ("numpy", "torch", "aotsym")
LR = 0.01
N_CLASSES = 10


def cases(ctx):
    batch = ctx.size(10, smoke=2)
    img, k, pool = ctx.size(256, smoke=20), ctx.size(7, smoke=3), ctx.size(5, smoke=2)
    c1, c2 = 6, 16
    rng = ctx.rng()
    x = rng.standard_normal((batch, 1, img, img)).astype(np.float32)
    y = np.eye(N_CLASSES, dtype=np.float32)[rng.integers(0, N_CLASSES, batch)]
    h1 = (img - k + 1) // pool
    h2 = h1 - k + 1
    n_flat = c2 * h2 * h2
    params = [rng.uniform(-0.2, 0.2, (c1, 1, k, k)), np.zeros(c1),
              rng.uniform(-0.05, 0.05, (c2, c1, k, k)), np.zeros(c2),
              rng.uniform(-0.01, 0.01, (n_flat, N_CLASSES)), np.zeros(N_CLASSES)]
    params = [p.astype(np.float32) for p in params]
    a1, a2 = (img - k + 1) ** 2, h2 * h2
    macs = batch * (2 * c1 * k * k * a1 + 3 * c2 * c1 * k * k * a2 + 3 * n_flat * N_CLASSES)
    build = functools.partial(_build, x=x, y=y, params=params, pool=pool)
    yield Case(name=f"1 step, batch {batch}, {img}x{img}, {c1}@{k}x{k} -> pool {pool} -> "
                    f"{c2}@{c1}x{k}x{k} -> {N_CLASSES}", flops=2.0 * macs, dtype="float32",
               bytes=min_bytes([x, y, *params], [np.float32(0), *params]),
               rtol=2e-3, atol=1e-5, stateless=False,
               builders=builders(IMPLS, build, ctx.enabled))


def theano_step(api, params0, pool):
    """The ConvNet step for aotsym: (train function, shared parameters)."""
    T = api.T
    x = T.tensor4("x", dtype="float32")
    y = T.matrix("y", dtype="float32")
    params = [api.shared(p.copy(), name=n)
              for p, n in zip(params0, ("W1", "b1", "W2", "b2", "W3", "b3"))]
    W1, b1, W2, b2, W3, b3 = params
    a1 = T.nnet.conv2d(x, W1) + b1.dimshuffle("x", 0, "x", "x")
    h1 = T.tanh(T.signal.pool.pool_2d(a1, (pool, pool), ignore_border=True))
    h2 = T.tanh(T.nnet.conv2d(h1, W2) + b2.dimshuffle("x", 0, "x", "x"))
    z = T.dot(h2.flatten(2), W3) + b3
    zs = z - z.max(axis=1, keepdims=True)
    logp = zs - T.log(T.exp(zs).sum(axis=1, keepdims=True))
    cost = -(y * logp).sum(axis=1).mean()
    grads = api.grad(cost, params)
    train = api.function([x, y], cost,
                         updates=[(p, p - np.float32(LR) * g) for p, g in zip(params, grads)])
    return train, params


# ----------------------------------------------------------------------------- NumPy

def _corr(x, k):
    """Valid cross-correlation: out[n, o] = sum_c x[n, c] (x) k[o, c]."""
    kh, kw = k.shape[2:]
    cols = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return np.tensordot(cols, k, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)


def _corr_weights(x, d, kshape):
    """d/dk of sum(d * _corr(x, k))."""
    cols = np.lib.stride_tricks.sliding_window_view(x, kshape[2:], axis=(2, 3))
    return np.tensordot(d, cols, axes=([0, 2, 3], [0, 2, 3]))


def _corr_inputs(d, k):
    """d/dx of sum(d * _corr(x, k)): a full convolution of d with k."""
    kh, kw = k.shape[2:]
    dp = np.pad(d, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    return _corr(dp, k[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def numpy_step(x, y, params, pool):
    W1, b1, W2, b2, W3, b3 = params
    f1, f2 = W1[:, :, ::-1, ::-1], W2[:, :, ::-1, ::-1]   # a true convolution
    a1 = _corr(x, f1) + b1[None, :, None, None]
    n, c, h, w = a1.shape
    hp, wp = h // pool, w // pool
    blocks = a1[:, :, :hp * pool, :wp * pool].reshape(n, c, hp, pool, wp, pool)
    m1 = blocks.max(axis=(3, 5))
    h1 = np.tanh(m1)
    h2 = np.tanh(_corr(h1, f2) + b2[None, :, None, None])
    flat = h2.reshape(n, -1)
    z = flat @ W3 + b3
    zs = z - z.max(axis=1, keepdims=True)
    e = np.exp(zs)
    s = e.sum(axis=1, keepdims=True)
    cost = -(y * (zs - np.log(s))).sum(axis=1).mean()
    dz = (e / s - y) / np.float32(n)
    gW3, gb3 = flat.T @ dz, dz.sum(axis=0)
    da2 = (dz @ W3.T).reshape(h2.shape) * (1 - h2 * h2)
    gb2 = da2.sum(axis=(0, 2, 3))
    gW2 = _corr_weights(h1, da2, W2.shape)[:, :, ::-1, ::-1]
    dm1 = _corr_inputs(da2, f2) * (1 - h1 * h1)
    hit = blocks == m1[:, :, :, None, :, None]
    da1 = np.zeros_like(a1)
    da1[:, :, :hp * pool, :wp * pool] = (hit * dm1[:, :, :, None, :, None]).reshape(
        n, c, hp * pool, wp * pool)
    gb1 = da1.sum(axis=(0, 2, 3))
    gW1 = _corr_weights(x, da1, W1.shape)[:, :, ::-1, ::-1]
    grads = [gW1, gb1, gW2, gb2, gW3, gb3]
    params[:] = [(p - np.float32(LR) * g).astype(np.float32) for p, g in zip(params, grads)]
    return cost


# ----------------------------------------------------------------------------- PyTorch

def torch_step(params0, pool):
    import torch
    import torch.nn.functional as F
    params = [torch.tensor(p.copy(), requires_grad=True) for p in params0]

    def step(x, y):
        W1, b1, W2, b2, W3, b3 = params
        a1 = F.conv2d(x, W1.flip((2, 3)), b1)
        h1 = torch.tanh(F.max_pool2d(a1, pool))
        h2 = torch.tanh(F.conv2d(h1, W2.flip((2, 3)), b2))
        z = h2.flatten(1) @ W3 + b3
        cost = -(y * torch.log_softmax(z, dim=1)).sum(dim=1).mean()
        for p in params:
            p.grad = None
        cost.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return cost.detach()
    return step, params


def _build(key, x, y, params, pool):
    if key == "numpy":
        state, last = [p.copy() for p in params], []

        def run():
            last[:] = [numpy_step(x, y, state, pool)]
        return Impl(run, lambda: [*last, *state])
    if key == "torch":
        import torch
        step, tparams = torch_step(params, pool)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        last = []

        def run():
            last[:] = [step(tx, ty)]
        return Impl(run, lambda: [last[0].numpy(), *(p.detach().numpy() for p in tparams)])
    api = TheanoAPI(key)
    train, shared = theano_step(api, params, pool)
    last = []

    def run():
        last[:] = [train(x, y)]
    return Impl(run, lambda: [*last, *(p.get_value() for p in shared)])
