"""``aotsym.gof.graph``: Theano's ``theano.gof.graph`` walks, for ported code.

Beside the pipeline: functions over the IR (:mod:`aotsym.graph.basic`) in Theano's spelling
and, where ported code depends on it, Theano's order.  Lasagne collects a model's parameters
with ``[v for v in theano.gof.graph.inputs(reversed(outputs)) if isinstance(v,
theano.compile.SharedVariable)]`` and expects them in Theano's order: a depth-first search
that visits a node's inputs left to right, each variable listed where it is first met (the
IR's own :func:`aotsym.graph.basic.graph_inputs` lists them in topological order, which is
not the same).  Iterative, as every traversal here.
"""

from __future__ import annotations

from aotsym.graph.basic import Apply, Constant, Variable, clone_replace, interned  # noqa: F401


def ancestors(variable_list, blockers=None) -> list:
    """Every variable ``variable_list`` depends on, themselves included, in Theano's
    depth-first order (the last of ``variable_list`` is searched first, as Theano's stack
    search pops it first; a variable's inputs left to right).  The search does not go past
    the variables in ``blockers``."""
    blocked = {id(b) for b in blockers or ()}
    stack = list(variable_list)
    seen, result = set(), []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        result.append(v)
        if v.owner is not None and id(v) not in blocked:
            stack.extend(reversed(v.owner.inputs))
    return result


def inputs(variable_list, blockers=None) -> list:
    """The variables without an owner (inputs, shared variables, constants) that
    ``variable_list`` depends on, in :func:`ancestors`' order (Theano's
    ``theano.gof.graph.inputs``)."""
    return [v for v in ancestors(variable_list, blockers) if v.owner is None]


def io_toposort(inputs, outputs) -> list:
    """The apply nodes between ``inputs`` and ``outputs``, each after the nodes it reads
    (the search stops at ``inputs``)."""
    stop = {id(v) for v in inputs}
    order, done = [], set()
    stack = [(v.owner, False) for v in reversed(list(outputs))
             if v.owner is not None and id(v) not in stop]
    while stack:
        node, expanded = stack.pop()
        if node in done:
            continue
        if expanded:
            done.add(node)
            order.append(node)
            continue
        stack.append((node, True))
        for v in reversed(node.inputs):
            if v.owner is not None and id(v) not in stop and v.owner not in done:
                stack.append((v.owner, False))
    return order


def variables(i, o) -> list:
    """The variables of the graph between ``i`` and ``o``: the inputs of the nodes of
    :func:`io_toposort` and their outputs, each once."""
    seen, result = set(), []
    for v in list(i):
        if id(v) not in seen:
            seen.add(id(v))
            result.append(v)
    for node in io_toposort(i, o):
        for v in list(node.inputs) + list(node.outputs):
            if id(v) not in seen:
                seen.add(id(v))
                result.append(v)
    for v in o:
        if id(v) not in seen:
            seen.add(id(v))
            result.append(v)
    return result


def is_same_graph(var1, var2, givens=None) -> bool:
    """Whether ``var1`` and ``var2`` compute the same thing (``givens``: substitutions made
    in ``var1`` first).  Interned (the optimizer's merge), structurally equal graphs are one
    object."""
    if givens:
        var1 = clone_replace([var1], dict(givens))[0]
    (one, two), _ = interned([var1, var2])
    return one is two
