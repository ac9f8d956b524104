"""Theano's "Debugging Theano: FAQ and Troubleshooting" and DebugMode pages, their code run
with only the imports changed: MonitorMode's callbacks (pre_func/post_func, detect_nan),
DebugMode by name and by class, ``print_test_value``, ``isinstance(node.op, T.Elemwise)``
(the GPU page's check), debugprint of a node."""

import numpy
import pytest

import aotsym as theano
import aotsym.tensor as T
from aotsym.compile.debugmode import BadThunkOutput, DebugMode, DebugModeError
from aotsym.compile.monitormode import MonitorMode, detect_nan


def test_monitor_mode_prints_every_node_as_the_faq_shows(capsys):
    seen = []

    def inspect_inputs(i, node, fn):
        print(i, node, "input(s) value(s):", [input[0] for input in fn.inputs], end='')
        seen.append(("pre", i, [o[0] for o in fn.outputs]))

    def inspect_outputs(i, node, fn):
        print(" output(s) value(s):", [output[0] for output in fn.outputs])
        seen.append(("post", i, [o[0] for o in fn.outputs]))

    x = T.dscalar('x')
    f = theano.function([x], [5 * x],
                        mode=theano.compile.MonitorMode(pre_func=inspect_inputs,
                                                        post_func=inspect_outputs))
    assert f(3) == [15.0]
    out = capsys.readouterr().out
    assert out.startswith("0 Elemwise{mul}(") and "input(s) value(s):" in out
    assert out.rstrip().endswith("output(s) value(s): [array(15.)]")
    # the outputs are empty before the node runs, filled after
    assert seen == [("pre", 0, [None]), ("post", 0, [numpy.array(15.0)])]


def test_detect_nan_names_the_node_with_fusion_and_inplace_excluded(capsys):
    x = T.dscalar('x')
    mode = MonitorMode(post_func=detect_nan).excluding('local_elemwise_fusion', 'inplace')
    f = theano.function([x], [T.log(x) * x], mode=mode)
    result = f(0)
    assert numpy.isnan(result[0])
    out = capsys.readouterr().out
    assert out.count("*** NaN detected ***") == 1       # the first node only: log(0) is -inf
    assert "Elemwise{mul}" in out and "Inputs : [array(-inf), array(0.)]" in out
    f(1.0)
    assert capsys.readouterr().out == ""
    # fused, the one node is reported
    theano.function([x], [T.log(x) * x], mode=MonitorMode(post_func=detect_nan))(0)
    assert "Composite" in capsys.readouterr().out


def test_monitor_mode_runs_the_optimized_graph_and_keeps_the_users_arrays():
    calls = []
    v = T.vector('v')
    f = theano.function([v], T.exp(v).sum() + v.mean(),
                        mode=MonitorMode(pre_func=lambda i, node, fn: calls.append(i)))
    data = numpy.array([0.0, 1.0, 2.0])
    keep = data.copy()
    numpy.testing.assert_allclose(f(data), numpy.exp(data).sum() + data.mean())
    numpy.testing.assert_array_equal(data, keep)
    assert calls == list(range(len(f.maker.fgraph.toposort())))


def test_monitor_mode_refuses_a_callback_that_is_not_one_and_one_that_skips_the_node():
    with pytest.raises(TypeError, match="post_func must be a function"):
        MonitorMode(post_func="print")

    class Skip(MonitorMode):
        def eval(self, i, node, fn):   # never calls fn()
            pass

    x = T.dscalar('x')
    f = theano.function([x], 2 * x, mode=Skip())
    with pytest.raises(RuntimeError, match="did not run node 0"):
        f(1.0)


def test_debug_mode_by_name_and_by_class():
    x = T.dscalar('x')
    for mode in ('DebugMode', DebugMode(check_c_code=False)):
        f = theano.function([x], 10 * x, mode=mode)
        assert f.mode == "DEBUG_MODE"
        assert f(5) == 50.0 and f(0) == 0.0 and f(7) == 70.0
    assert issubclass(BadThunkOutput, DebugModeError)
    assert theano.compile.DebugMode is DebugMode


def test_print_test_value_shows_the_value_under_the_name(capsys):
    x = T.scalar('x')
    x.tag.test_value = 42
    old = theano.config.print_test_value
    try:
        theano.config.print_test_value = True
        assert x.__repr__() == "x\narray(42.)"
        theano.config.print_test_value = False
        assert x.__repr__() == "x"
    finally:
        theano.config.print_test_value = old


def test_the_gpu_pages_elemwise_check_and_debugprint_of_a_node():
    x = theano.shared(numpy.linspace(0, 1, 7), name="x")
    f = theano.function([], T.exp(x))
    nodes = f.maker.fgraph.toposort()
    assert any(isinstance(n.op, T.Elemwise) for n in nodes)
    assert T.elemwise.Elemwise is T.Elemwise and T.CAReduce is not None
    from aotsym.tensor.elemwise import DimShuffle
    assert isinstance(x.dimshuffle('x', 0).owner.op, DimShuffle)
    # the module keeps standing for the function it shadows
    a = T.vector('a')
    assert isinstance(T.elemwise('add', a, a).owner.op, T.Elemwise)
    text = theano.printing.debugprint(nodes[0], file="str")
    assert text.startswith("Elemwise{exp} [id A] ''") and "x [id B]" in text


def test_monitor_mode_sees_the_nodes_of_a_scan_step_at_every_step(capsys):
    """Theano compiles a scan's step in the function's mode, so MonitorMode's callbacks see
    the step's nodes: detect_nan names the add inside the loop where the NaN starts."""
    seen = []
    x = T.vector('x')
    r, _ = theano.scan(lambda xt, acc: acc * 2 + xt, sequences=x, outputs_info=T.zeros(()))
    f = theano.function([x], r[-1], mode=MonitorMode(
        post_func=lambda i, node, fn: seen.append((str(node.op), fn.outputs[0][0]))))
    assert f(numpy.array([1.0, 2.0, 3.0])) == 11.0
    steps = [float(value) for op, value in seen if op.startswith("Composite")]
    assert steps == [1.0, 4.0, 11.0]                             # the step, at each step
    order = [op.split("{")[0] for op, _ in seen]
    assert order.index("Scan") > max(i for i, op in enumerate(order) if op == "Composite")
    g = theano.function([x], r[-1], mode=MonitorMode(post_func=detect_nan))
    assert numpy.isnan(g(numpy.array([1.0, numpy.nan, 3.0])))
    out = capsys.readouterr().out
    first = out.split("*** NaN detected ***")[1]
    assert first.lstrip().startswith("Composite")                # the step's node first,
    assert "Inputs : [array(1.), array(nan)]" in first           # where the NaN comes in
