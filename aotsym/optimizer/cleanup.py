"""Merge, constant folding and dead-code removal: what every mode runs.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).

* **merge** (:func:`merge_graph`): common subexpressions are one node already, because nodes
  are hash-consed when built, except an expression the user spelled twice (two variables,
  as in Theano); the stage re-interns the graph so equal nodes become one again::

      before: add(exp(x), exp'(x))   (two equal exp nodes)   after: add(e, e), e = exp(x)

* **constant folding** (rule ``constant_fold``): a node whose inputs are all constants is
  evaluated with the reference evaluator and replaced by a constant of its output type::

      before: mul(x, add(2, 3))      after: mul(x, 5)

  Nodes whose result would be large (more than ``MAX_FOLD_ELEMENTS`` elements, e.g. an
  ``alloc`` of a big shape) are left for run time, so the generated module stays small.

* **dead code** needs no pass of its own: a ``FunctionGraph`` is what its outputs reach, so
  every stage's rebuild drops the nodes no output depends on any more (the stage statistics
  show the graph size before and after each stage).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant, interned
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer.pattern import Rule, RuleSet

MAX_FOLD_ELEMENTS = 1 << 16


def _fold(node):
    """all inputs constant -> Constant(value)."""
    if not node.inputs or not all(isinstance(v, Constant) for v in node.inputs):
        return None
    op = node.op
    if op.destroy_map or getattr(op, "no_constant_folding", False):
        return None
    if _too_big(node):
        return None
    try:
        values = op.perform(node, [v.data for v in node.inputs])
    except Exception:  # noqa: BLE001 - an error is kept for run time, where it is reported
        return None
    out = []
    for var, val in zip(node.outputs, values):
        val = np.asarray(val)
        if val.size > MAX_FOLD_ELEMENTS or val.dtype.name != var.dtype or val.ndim != var.ndim:
            return None
        if any(b and n != 1 for b, n in zip(var.broadcastable, val.shape)):
            return None
        out.append(Constant(var.type, val))
    return out


def _too_big(node) -> bool:
    """An output whose size is known from constant inputs to exceed the folding limit."""
    total = sum(v.data.size for v in node.inputs)
    if total > MAX_FOLD_ELEMENTS:
        return True
    if type(node.op).__name__ in ("Alloc", "ARange", "Eye"):
        sizes = [int(np.prod(v.data)) for v in node.inputs[1:] if v.data.ndim == 0]
        return int(np.prod(sizes or [1])) > MAX_FOLD_ELEMENTS
    return False


constant_fold = Rule("constant_fold", None, _fold, root=None)
FOLD_RULES = RuleSet("fold", [constant_fold])


def merge_graph(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """Re-intern every node (equal nodes become one); see the module docstring."""
    outputs, merged = interned(fgraph.outputs)
    if ctx is not None:
        ctx.count("merge", "merge", merged)
    if not merged:
        return fgraph
    return fgraph.with_outputs(outputs)
