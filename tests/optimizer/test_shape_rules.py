"""Shapes without values: shape_to_shape_i turns the shape vector of a computed value into
its lengths, shape_of_computed takes each length from the op's shape rule (Subtensor's with
any constant slice, Scan's, ...).  Before/after values compared on lengths 0..8, negative
and oversized bounds, every step sign."""

import itertools
from collections import OrderedDict

import numpy as np

import aotsym
from aotsym import tensor as T
from aotsym.graph.ops.scan import Scan
from aotsym.graph.ops.subtensor import Subtensor
from aotsym.optimizer.testing import assert_same_values, rewrite


def ops_of(f):
    return [type(n.op) for n in f.maker.fgraph.toposort()]


def test_the_shape_of_a_computed_value_computes_no_value():
    """The shape_info tutorial's ``(x ** 2).shape``: lengths of x, no square."""
    x = T.matrix("x")
    before = (x ** 2).shape
    after = rewrite(before, ["canonicalize"])
    assert_same_values(before, after, {x: np.ones((3, 5))})
    f = aotsym.function([x], before)
    assert not any("sqr" in str(n.op) or "pow" in str(n.op)
                   for n in f.maker.fgraph.toposort())
    np.testing.assert_array_equal(f(np.ones((3, 5))), [3, 5])
    np.testing.assert_array_equal(f(np.ones((0, 2))), [0, 2])


def test_the_shape_of_a_scan_output_runs_no_loop():
    """Theano's test_borrow_bug_jeremiah: the shape of a scan output with a tap of -4 (and
    of a loop of no step, whose mapped rows are empty: (0, 0))."""
    seq = T.matrix("seq")
    initial = aotsym.shared(np.zeros((4, 1)))
    results, _ = aotsym.scan(lambda x, x_tm4: (x, x_tm4), sequences=seq,
                             outputs_info=[OrderedDict([("initial", initial),
                                                        ("taps", [-4])]), None])
    for out in results:
        f = aotsym.function([seq], out.shape)
        assert Scan not in ops_of(f)
        full = aotsym.function([seq], out)
        for n in (0, 1, 7):
            data = np.arange(n, dtype="float64").reshape(n, 1)
            np.testing.assert_array_equal(f(data), full(data).shape)


BOUNDS = [None, 0, 1, 3, 7, -1, -3, -8]
STEPS = [None, 1, 2, 3, -1, -2]


def test_slice_lengths_for_every_constant_slice():
    x = T.vector("x")
    keys = list(itertools.product(BOUNDS, BOUNDS, STEPS))
    f = aotsym.function([x], [x[a:b:k].shape[0] for a, b, k in keys])
    assert Subtensor not in ops_of(f)
    for n in range(9):
        data = np.zeros(n)
        got = f(data)
        want = [len(data[a:b:k]) for a, b, k in keys]
        assert [int(g) for g in got] == want, n


def test_a_symbolic_bound_keeps_the_other_lengths_and_the_right_values():
    x = T.matrix("x")
    a = T.iscalar("a")
    y = x[a:, 1:-1]
    f = aotsym.function([x, a], y.shape)
    for shape, start in [((5, 4), 2), ((5, 4), -2), ((3, 1), 0), ((0, 3), 1)]:
        data = np.zeros(shape)
        np.testing.assert_array_equal(f(data, start), data[start:, 1:-1].shape)
    g = aotsym.function([x], x[::2, ::-3].shape)
    assert Subtensor not in ops_of(g)
    np.testing.assert_array_equal(g(np.zeros((7, 10))), np.zeros((7, 10))[::2, ::-3].shape)


def test_slices_inside_a_scan_step_still_run():
    """An inner graph whose shape rule meets a symbolic slice bound: unknown, not wrong."""
    x = T.matrix("x")
    k = T.iscalar("k")
    out, _ = aotsym.scan(lambda row: row[k:].sum() + row[1:].shape[0], sequences=x)
    f = aotsym.function([x, k], [out, out.shape])
    data = np.arange(12.0).reshape(3, 4)
    got, shape = f(data, 2)
    np.testing.assert_allclose(got, [r[2:].sum() + 3 for r in data])
    np.testing.assert_array_equal(shape, [3])


def test_a_shape_that_is_an_inputs_is_that_inputs_and_cuda_graphs_get_no_join():
    """Shape(exp(z)) is Shape(z) for every target; the vector of lengths (a Join) is made for
    the C backend only: the CUDA renderer does not translate Join, and T.shape of a computed
    value built for CUDA before the rule existed."""
    from aotsym.graph.fgraph import FunctionGraph
    from aotsym.graph.ops.join import Join
    from aotsym.graph.ops.shape import Shape
    from aotsym.optimizer import optimize
    z = T.matrix("z")
    for target in ("c", "cuda"):
        g = optimize(FunctionGraph([z], [T.shape(T.exp(z)) * 1]), mode="FAST_RUN",
                     target=target)
        ops = [type(n.op) for n in g.toposort()]
        assert Shape in ops and Join not in ops and "exp" not in str(g.toposort())
    x = T.vector("x")
    sliced = T.shape(x[1:]) * 1
    c = optimize(FunctionGraph([x], [sliced]), mode="FAST_RUN", target="c")
    cuda = optimize(FunctionGraph([x], [sliced]), mode="FAST_RUN", target="cuda")
    assert Subtensor not in [type(n.op) for n in c.toposort()]
    assert Join not in [type(n.op) for n in cuda.toposort()]
    assert_same_values(sliced, c.outputs[0], {x: np.arange(5.0)})
    assert_same_values(sliced, cuda.outputs[0], {x: np.arange(5.0)})
