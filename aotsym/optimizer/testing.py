"""Helpers for tests of rewrites: run stages on an expression, compare graphs and values.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters); used by
``tests/optimizer`` (and by any test that wants an optimized graph of an expression).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import graph_inputs, interned
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer.debug import random_value, values_agree
from aotsym.optimizer.pipeline import optimize
from aotsym.optimizer.utils import format_graph


def rewrite(outputs, stages=None, mode="FAST_RUN", inputs=None, fast_math=False):
    """Optimized versions of ``outputs`` (a variable or a list) after ``stages`` (names)."""
    single = not isinstance(outputs, (list, tuple))
    outs = [outputs] if single else list(outputs)
    if inputs is None:
        inputs = [v for v in graph_inputs(outs) if not _is_constant(v)]
    fg = optimize(FunctionGraph(inputs, outs), mode=mode, stages=stages, fast_math=fast_math)
    return fg.outputs[0] if single else list(fg.outputs)


def optimized_graph(outputs, stages=None, mode="FAST_RUN", inputs=None, n_updates=0):
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if inputs is None:
        inputs = [v for v in graph_inputs(outs) if not _is_constant(v)]
    return optimize(FunctionGraph(inputs, outs, n_updates=n_updates), mode=mode, stages=stages)


def _is_constant(v):
    from aotsym.graph.basic import Constant
    return isinstance(v, Constant)


def merged(variable):
    """``variable`` as the optimizer's merge sees it: the interned variable of its
    structure (an expression spelled twice by a test is two variables, as in Theano)."""
    return interned([variable])[0][0]


def assert_graph(got, expected):
    """``got`` and ``expected`` are the same graph (identity once both are interned: an
    expected graph the test spells anew is made of new variables), with both graphs printed
    when not."""
    if got is not expected and merged(got) is not merged(expected):
        raise AssertionError(f"graphs differ\n got:\n{format_graph([got])}\n"
                             f" expected:\n{format_graph([expected])}")


def assert_same_values(before, after, values=None, seed=0, stabilizing=True):
    """``before`` and ``after`` (variables or lists) agree on ``values`` (a dict of input
    values; random ones of the declared types for inputs not given); ``stabilizing=False``:
    nan and infinities must stay where they are (see :func:`.debug.values_agree`)."""
    b_list = list(before) if isinstance(before, (list, tuple)) else [before]
    a_list = list(after) if isinstance(after, (list, tuple)) else [after]
    values = dict(values or {})
    rng = np.random.default_rng(seed)
    for v in graph_inputs(b_list + a_list):
        if v not in values and not _is_constant(v):
            values[v] = random_value(v.type, rng)
    got_b = evaluate(b_list, {k: np.array(v) for k, v in values.items()})
    got_a = evaluate(a_list, {k: np.array(v) for k, v in values.items()})
    for k, (b, a) in enumerate(zip(got_b, got_a)):
        ok, why = values_agree(b, a, stabilizing)
        if not ok:
            raise AssertionError(f"output {k}: {why}")
    return got_b, got_a


def count_ops(outputs, op_type) -> int:
    """Number of nodes whose op is an instance of ``op_type`` (or whose str contains it)."""
    from aotsym.graph.basic import toposort
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if isinstance(op_type, str):
        return sum(op_type in str(n.op) for n in toposort(outs))
    return sum(isinstance(n.op, op_type) for n in toposort(outs))
