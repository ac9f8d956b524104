"""Theano's test values: ``compute_test_value`` runs each op as the graph is built.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  With
``aotsym.config.compute_test_value`` set to ``'ignore'``, ``'warn'`` or ``'raise'`` (Theano's
flag; default ``'off'``), every node the user's code makes (:func:`aotsym.graph.basic.apply`)
is computed at once by its op's NumPy ``perform`` on its inputs' test values: a constant's
value, a shared variable's value, or ``x.tag.test_value`` set by the user::

    aotsym.config.compute_test_value = 'raise'
    x = T.matrix('x'); x.tag.test_value = np.random.rand(5, 10)
    W = aotsym.shared(np.random.rand(20, 10))
    h = T.dot(x, W)      # ValueError here, naming this line: shapes (5,10) and (20,10)

so a shape error shows on the line that makes it, not when the compiled function first runs.
Each output keeps its value in ``tag.test_value`` (``v.get_test_value()``).  An input without a
test value: ``'raise'`` raises a ValueError naming it, ``'warn'`` warns, ``'ignore'`` says
nothing; the node then has no test value.  The optimizer and a function's assembly make nodes
with :func:`without_test_values` in force: only the user's graph is computed.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from aotsym.config import config

_FLAGS = object.__getattribute__(config, "_values")   # read once per new node: a dict lookup


class TestValueError(ValueError):
    """A variable has no test value (Theano's ``theano.gof.utils.TestValueError``)."""

    __test__ = False   # (not a pytest test class)


class _State(threading.local):
    quiet = 0


_STATE = _State()


class without_test_values:
    """``with without_test_values():`` nodes made inside get no test values (passes that
    rebuild the user's graph: its values are the user's graph's)."""

    def __enter__(self):
        _STATE.quiet += 1

    def __exit__(self, *exc):
        _STATE.quiet -= 1


def wanted() -> bool:
    """Whether a node made now is computed (the flag is on, no pass is running)."""
    return _FLAGS["compute_test_value"] != "off" and not _STATE.quiet


def test_value(v):
    """``v``'s test value as an array of its type, or None: a constant's data, a shared
    variable's value, or ``tag.test_value`` (checked against the type: a TypeError naming
    ``v`` when its number of dimensions, a broadcastable dimension or its kind of dtype is
    not the type's; a value of another dtype of the same kind is cast, as Theano's filter
    does for floatX)."""
    value = v.tag.test_value
    if value is None:
        if v.owner is None:
            data = getattr(v, "data", None)          # a constant
            if data is not None:
                return data
            if getattr(type(v), "get_value", None) is not None:   # a shared variable
                return v.get_value(borrow=True)
            return None
        return _evaluated(v)
    dtype, ndim = getattr(v.type, "dtype", None), getattr(v.type, "ndim", None)
    if dtype is None:
        return value
    arr = np.asarray(value)
    if arr.ndim != ndim:
        raise TypeError(f"the test value of {v!r} has {arr.ndim} dimension(s), shape "
                        f"{arr.shape}; its type {v.type} has {ndim}")
    for axis, (size, bcast) in enumerate(zip(arr.shape, v.type.broadcastable)):
        if bcast and size != 1:
            raise TypeError(f"the test value of {v!r} has shape {arr.shape}: dimension "
                            f"{axis} is broadcastable in its type {v.type}, so it must be 1")
    if arr.dtype.name != dtype:
        if not np.can_cast(arr.dtype, dtype, "same_kind"):
            raise TypeError(f"the test value of {v!r} is {arr.dtype}; its type {v.type} "
                            f"holds {dtype} (cast it: value.astype('{dtype}'))")
        arr = arr.astype(dtype)
    if arr is not value:
        v.tag.test_value = arr
    return arr


def _evaluated(v):
    """The value of ``v``, made while no test values were computed (by a pass, inside
    ``grad``, or before the flag was set), evaluated now from its graph's inputs' test values
    by the reference evaluator; every value computed on the way is kept.  None if an input has
    no test value."""
    from aotsym.graph.basic import Constant, graph_inputs, toposort
    from aotsym.graph.evaluate import evaluate
    givens = {}
    for root in graph_inputs([v]):
        if not isinstance(root, Constant):
            value = test_value(root)
            if value is None:
                return None
            givens[root] = value
    values = evaluate([v], givens, keep_all=True)
    for node in toposort([v]):
        for out in node.outputs:
            if out.tag.test_value is None and id(out) in values:
                out.tag.test_value = values[id(out)]
    return v.tag.test_value


def _missing(v) -> str:
    """``v`` described as an input without a test value (and the graph input that makes it
    so, for a computed one)."""
    from aotsym.graph.basic import Constant, graph_inputs
    text = f"{v!r} ({v.type})"
    if v.owner is not None:
        roots = [r for r in graph_inputs([v])
                 if not isinstance(r, Constant) and test_value(r) is None]
        if roots:
            text += f", computed from {roots[0]!r}, which"
    return text


def compute(node) -> None:
    """Give ``node``'s outputs their test values (see the module's docstring); a node that
    has them already (an interned node made again) is left alone."""
    if not node.outputs or node.outputs[0].tag.test_value is not None:
        return
    args = []
    for k, v in enumerate(node.inputs):
        value = test_value(v)
        if value is None:
            mode = _FLAGS["compute_test_value"]
            if mode in ("raise", "warn"):
                from aotsym.graph.basic import user_source_info
                here = user_source_info()
                msg = (f"compute_test_value={mode!r}: input {k} of {node.op}, {_missing(v)} "
                       "has no test value; give it one (x.tag.test_value = ...) or set "
                       "aotsym.config.compute_test_value = 'off'"
                       + (f"\n  at {here}" if here else ""))
                if mode == "raise":
                    raise TestValueError(msg)
                warnings.warn(msg, stacklevel=2)
            return
        args.append(value)
    from aotsym.graph.errors import NodeError
    from aotsym.graph.evaluate import node_error
    try:
        results = node.op.perform(node, args)
    except NotImplementedError:
        return            # an op with no NumPy implementation: no test value, as 'ignore'
    except NodeError:
        raise
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as exc:
        raise node_error(node, exc) from exc
    for out, value in zip(node.outputs, results):
        out.tag.test_value = np.asarray(value)
