"""Every ``infer_shape`` rule of the indexing, joining, allocating, product and softmax ops
gives the shape the reference implementation produces."""

import numpy as np

from aotsym import tensor as T
from aotsym.graph.basic import Variable, toposort
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.shape import shape_i


def check_shapes(out, givens):
    """For each node: evaluate its symbolic output shapes and compare with the values."""
    checked = 0
    for node in toposort([out]):
        input_shapes = [tuple(shape_i(v, d) for d in range(v.ndim)) for v in node.inputs]
        shapes = node.op.infer_shape(node, input_shapes)
        if shapes is None:
            continue
        values = evaluate(list(node.outputs), givens)
        for shape, value in zip(shapes, values):
            entries = [e if isinstance(e, Variable) else T.constant(np.int64(e)) for e in shape]
            got = tuple(int(v) for v in evaluate(entries, givens)) if entries else ()
            assert got == value.shape, f"{node.op}: inferred {got}, computed {value.shape}"
            checked += 1
    return checked


def test_infer_shape_rules():
    rng = np.random.default_rng(0)
    x, y, v, n = T.matrix(), T.matrix(), T.vector(), T.lscalar()
    iv, t3 = T.lvector(), T.tensor3()
    X, Y, V = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=4)
    givens = {x: X, y: Y, v: V, n: 5, iv: np.array([2, 0, 2]), t3: rng.normal(size=(4, 3, 2))}
    graphs = [
        T.dot(x, y), T.dot(x, v), T.dot(v, y), T.dot(v, v), T.outer(v, v),
        x.reshape((2, 6)), x[1], x[:, 2], x[0, 0], x[:],
        T.set_subtensor(x[1:, ::2], 1.0), x[iv], T.inc_subtensor(x[iv], 1.0),
        T.inc_subtensor(x[iv, iv], 1.0), T.concatenate([x, y.T, x], axis=0),
        T.concatenate([x, x], axis=1), T.stack([v, v]),
        T.alloc(v, n, 4), T.zeros((n, 2)), T.arange(n), T.arange(1.5, n, 0.5),
        T.arange(n, 0, -2), T.eye(n, 3), T.softmax(x), T.log_softmax(x, axis=0),
        T.tensordot(x, t3, [[0, 1], [1, 0]]),
    ]
    total = sum(check_shapes(g, givens) for g in graphs)
    assert total >= len(graphs)
