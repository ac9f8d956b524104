"""A representative set of functions touching every kind of kernel and runtime path, with
inputs: shared by the warnings test and the sanitizer run (tests/emit_c/test_emit_c_quality.py)."""

import numpy as np
from emit_helpers import Case

from aotsym import tensor as T
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger
from aotsym.graph.ops.opfromgraph import OpFromGraph


INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool")
CAST_VALUES = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 1e300, -1e300, 2.0 ** 63, 2.0 ** 64,
                        -1.0, -0.5, 300.0, -129.0, 70000.0, 2.0 ** 31, -2.0 ** 31 - 1, 0.0])


def _loops(x, v):
    import aotsym
    hs, _ = aotsym.scan(lambda row, h2, h1: T.tanh(h1 * 0.5 + h2 * 0.25 + row), sequences=x,
                        outputs_info=dict(initial=T.stack([v, v * 2]), taps=[-2, -1]))
    ys, _ = aotsym.scan(lambda row, h: [h + row, (h + row) * 2], sequences=x,
                        outputs_info=[v, None])
    state, mapped = ys
    node = state.owner.inputs[0].owner if state.owner.op.__class__.__name__ != "Scan" \
        else state.owner
    kept = node.op.replace(keep=(2, 3))(*node.inputs)     # a ring of 2 values, 3 mapped rows
    return [hs, state, mapped, kept[0], kept[1]]


def cases():
    x, y = T.matrix("x"), T.matrix("y")
    v = T.vector("v")
    fv = T.fvector("fv")
    i = T.lscalar("i")
    iv = T.ivector("iv")
    f = T.fmatrix("f")
    n = T.lmatrix("n")
    s = T.scalar("s")
    a, c = T.matrix("a"), T.vector("c")
    body = OpFromGraph([a, c], [T.exp(a) * c + 1, a.T[::-1], (a * c).sum(axis=1)])
    comp = Composite([("mul", None, [("in", 0), ("in", 1)]), ("exp", None, [("step", 0)]),
                      ("neg", None, [("step", 1)])], 2, [("step", 1), ("step", 2)])
    return [
        Case("elementwise", [x, y, n], [x * y + 2, T.exp(x) / (1 + y ** 2), n // 3, n % -2,
                                        T.maximum(x, y), T.switch(x > y, x, y), abs(n) ** 2,
                                        T.cast(x, "int8"), T.sigmoid(x), T.softplus(y),
                                        # a constant base: exp(y log x), log x taken once
                                        0.75 ** (x * 3)]
             + comp(x, y)),
        Case("reductions", [x, f, n], [x.sum(axis=0), x.max(axis=1), x.mean(), f.sum(),
                                       n.prod(axis=1), x.argmax(axis=1), x.argmin(),
                                       (x > 0).any(axis=0),
                                       FusedReduce("sum", (1,), Composite(
                                           [("sqr", None, [("in", 0)])], 1, [("step", 0)]))(x)]),
        Case("structure", [x, v, i, iv], [x.T.reshape((-1,)), x[1:, ::-1], x[i],
                                          T.inc_subtensor(x[:, 1:], 1.0), x[iv],
                                          T.set_subtensor(x[iv], 0.0), x[iv, iv], v[iv],
                                          T.concatenate([x, x * 2], axis=1), T.alloc(v, 3, 4)[0],
                                          T.arange(i), T.softmax(x), T.log_softmax(x, axis=0)]),
        Case("products", [x, y, v, s], [T.dot(x, y), T.dot(x, v), T.dot(v, v),
                                        Gemm()(x, s, x, y, s), Gemv()(v, s, x, v, s),
                                        Ger()(x, s, v, v), T.dot(T.cast(x, "int64"), v)]),
        # an op holding an inner graph: a structured step whose body is emitted inline
        Case("blocks", [x, v], body(x, v) + [body(x * 2, v)[0] - body(x, v)[2]]),
        # loops: full row buffers with taps, and a kept state carried in a ring of values
        Case("loops", [x, v], _loops(x, v)),
        # lazy branches: structured BRANCH steps, each body in one side of a C if/else
        Case("branches", [i, x, v], _branches(i, x, v)),
        # float -> integer casts of nan, +-inf and out-of-range values (no C UB)
        Case("casts", [v, fv], [T.cast(w, d) for w in (v, fv) for d in INT_DTYPES]),
        # conv2d (im2col + gemm) and pooling, forward and both gradients, float32/float64
        Case("convnet", *_convnet(T.tensor4("cx"), T.tensor4("cw"), T.ftensor4("cf"))),
    ]


def _convnet(cx, cw, cf):
    """A conv + pool layer and its gradients (padding, strides, dilation, groups, each pool
    mode; a view input)."""
    import aotsym
    pool = T.signal.pool.pool_2d
    y = T.nnet.conv2d(cx, cw, border_mode=(1, 2), subsample=(2, 1), filter_dilation=(1, 2))
    z = pool(T.tanh(y), (2, 2), ignore_border=False)
    s = pool(y, (3, 2), True, (2, 1), (1, 1), "average_inc_pad") ** 2
    e = pool(y, (2, 3), True, (1, 2), (1, 1), "average_exc_pad") ** 2
    cost = (z ** 2).sum() + s.sum() + e.sum() + pool(y, (2, 2), True, mode="sum").sum()
    f = T.nnet.conv2d(cf[:, :, ::-1], cf[:2].dimshuffle(0, 1, 3, 2), border_mode="full",
                      num_groups=1)
    fg = T.nnet.conv2d(cf, cf[:, :1], border_mode="half", num_groups=2, filter_flip=False)
    return [cx, cw, cf], [y, z, *aotsym.grad(cost, [cx, cw]), f, fg,
                          *aotsym.grad((f ** 2).sum() + fg.sum(), [cf])]


def _branches(i, x, v):
    """ifelse outputs made lazy by the optimizer (the work moved into the branches); with
    i = 2 one condition is taken and one is not, and the untaken side holds an index that
    would be out of bounds."""
    from aotsym.graph.fgraph import FunctionGraph
    from aotsym.ifelse import ifelse
    from aotsym.optimizer import optimize
    outs = ifelse(T.gt(i, 0), [T.exp(x) * 2 + x, (v * 3).max()], [x - 1, v[i].sum()]) + \
        ifelse(i - 2, [x[i * 10], v.sum()], [T.dot(x, v), T.sin(v).sum()])
    return list(optimize(FunctionGraph([i, x, v], outs), "FAST_RUN").outputs)


def inputs(name, rng):
    X = rng.standard_normal((4, 4))
    Y = rng.standard_normal((4, 4))
    N = rng.integers(-5, 5, (4, 4))
    return {
        "elementwise": [X, Y, N],
        "reductions": [X, X.astype("float32"), N],
        "structure": [X, rng.standard_normal(4), np.int64(2), np.array([0, 3, -1, 1], "int32")],
        "products": [X, Y, rng.standard_normal(4), np.float64(0.5)],
        "blocks": [X, rng.standard_normal(4)],
        "loops": [X, rng.standard_normal(4)],
        "branches": [np.int64(2), X, rng.standard_normal(4)],
        "casts": [CAST_VALUES, np.float32(CAST_VALUES.clip(-1e38, 1e38)) * np.float32(10)],
        "convnet": [rng.standard_normal((2, 2, 7, 8)), rng.standard_normal((3, 2, 3, 2)),
                    rng.standard_normal((2, 2, 5, 5)).astype("float32")],
    }[name]


def layouts(values):
    """The values as given, reversed and strided."""
    yield values
    yield [a[::-1] if isinstance(a, np.ndarray) and a.ndim else a for a in values]
    yield [np.repeat(a, 2, axis=-1)[..., ::2] if isinstance(a, np.ndarray) and a.ndim else a
           for a in values]
