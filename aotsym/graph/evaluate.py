"""The reference evaluator: runs any graph with the ops' NumPy ``perform``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  It is the oracle every test
compares against, the engine of FAST_COMPILE and DEBUG_MODE, and what constant folding calls.
Iterative over a topological order; memory is released as soon as a value has no more readers.
"""

from __future__ import annotations

import contextvars

import numpy as np

from aotsym.graph.basic import Constant, toposort
from aotsym.graph.errors import NodeError, error_class


# A hook that runs each node instead of its op's perform, ``hook(position, node, args) ->
# results``, while set (MonitorMode: the user's callbacks around every node, the nodes of
# inner graphs -- scan steps, ifelse branches -- included, since those are evaluated here).
NODE_HOOK: contextvars.ContextVar = contextvars.ContextVar("aotsym_node_hook", default=None)


def evaluate(outputs, givens: dict, *, keep_all=False, check_types=True):
    """Values of ``outputs`` given ``{input variable: value}``.

    Returns a list of arrays (one per output), or with ``keep_all`` the dict of every
    computed variable id -> value.
    """
    values = {id(k): np.asarray(v) for k, v in givens.items()}
    order = toposort(outputs)
    remaining = {}
    if not keep_all:
        for node in order:
            for v in node.inputs:
                remaining[id(v)] = remaining.get(id(v), 0) + 1
        for v in outputs:
            remaining[id(v)] = remaining.get(id(v), 0) + 1
    hook = NODE_HOOK.get()
    for position, node in enumerate(order):
        args = []
        for v in node.inputs:
            if id(v) in values:
                args.append(values[id(v)])
            elif isinstance(v, Constant):
                args.append(v.data)
            else:
                raise ValueError(f"evaluate: no value given for input {v!r} "
                                 f"(type {v.type}) needed by {node.op}")
        try:
            results = node.op.perform(node, args) if hook is None else \
                hook(position, node, args)
        except NodeError:
            raise
        except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as exc:
            raise node_error(node, exc) from exc
        for var, val in zip(node.outputs, results):
            val = np.asarray(val)
            if check_types and (val.dtype.name != var.dtype or val.ndim != var.ndim):
                raise TypeError(f"{node.op}.perform returned {val.dtype}[{val.ndim}d] for an "
                                f"output of type {var.type}")
            values[id(var)] = val
        if not keep_all:
            for v in node.inputs:
                remaining[id(v)] -= 1
                if remaining[id(v)] == 0 and v.owner is not None:
                    values.pop(id(v), None)
    if keep_all:
        return values
    result = []
    for v in outputs:
        if id(v) in values:
            result.append(values[id(v)])
        elif isinstance(v, Constant):
            result.append(v.data)
        else:
            raise ValueError(f"evaluate: no value given for input {v!r}")
    return result


def eval_var(v, givens=None):
    """``v.eval()``: the value of one variable."""
    return evaluate([v], givens or {})[0]


def node_error(node, exc) -> NodeError:
    """A NodeError that is also an instance of the cause's class (an IndexError stays an
    IndexError, a TypeError a TypeError), so callers can catch either."""
    cls = type(exc)
    if issubclass(cls, NodeError) or cls is ValueError:
        return NodeError(node, exc)
    return error_class(NodeError, cls, f"Node{cls.__name__}")(node, exc)
