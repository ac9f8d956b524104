"""``aotsym.scan_module.scan_utils``: Theano's ``theano.scan_module.scan_utils`` names that
code outside scan imports, for ported code.

Beside the pipeline: graph comparison and rewriting over the IR.  ``equal_computations`` is
how Theano code (Lasagne's tests among it) asks whether two expressions compute the same
thing.  Nodes are interned, so equal structure over the same variables is usually one
object; the walk below also answers for graphs over different inputs paired by
``in_xs``/``in_ys`` and for constants that hold equal values.  ``map_variables`` rebuilds
graphs with a user's function applied to every variable, inside the steps of scans and the
bodies of ``OpFromGraph`` too.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant


def _same_constant(x, y) -> bool:
    return (isinstance(x, Constant) and isinstance(y, Constant) and x.type == y.type
            and x.data.shape == y.data.shape
            and bool(np.all((x.data == y.data) | ((x.data != x.data) & (y.data != y.data)))))


def equal_computations(xs, ys, in_xs=None, in_ys=None) -> bool:
    """Whether each of ``xs`` computes what the ``ys`` at its position computes (Theano's
    signature): the same ops applied in the same way, reaching the same inputs, or the
    inputs paired by ``in_xs`` / ``in_ys``, or constants of equal type and value."""
    xs, ys = list(xs), list(ys)
    in_xs, in_ys = list(in_xs or []), list(in_ys or [])
    if len(xs) != len(ys) or len(in_xs) != len(in_ys):
        return False
    paired = {id(x): y for x, y in zip(in_xs, in_ys)}
    checked = set()
    stack = list(zip(xs, ys))
    while stack:
        x, y = stack.pop()
        if (id(x), id(y)) in checked:
            continue
        checked.add((id(x), id(y)))
        if id(x) in paired:
            if paired[id(x)] is not y:
                return False
            continue
        if x is y:
            continue
        if x.type != y.type:
            return False
        if x.owner is None or y.owner is None:
            if not _same_constant(x, y):
                return False
            continue
        nx, ny = x.owner, y.owner
        if (x.index != y.index or nx.op != ny.op or len(nx.inputs) != len(ny.inputs)):
            return False
        stack.extend(zip(nx.inputs, ny.inputs))
    return True


def map_variables(replacer, graphs, additional_inputs=None):
    """Theano's ``map_variables``: ``graphs`` rebuilt with ``replacer(v)`` in place of every
    variable ``v`` (``replacer`` returns ``v`` itself to keep it), from the inputs up: a node
    whose inputs were replaced is rebuilt first, and ``replacer`` sees the rebuilt variable.
    It enters the steps of scans and the bodies of ``OpFromGraph``: outer variables a
    replacement brings into one become new inputs of that loop or op (non-sequences), as
    ``scan`` does with the outer variables a step reads::

        r = a + x; r.tag.replacement = z * (a - x)            (inside a scan's step)
        map_variables(lambda v: getattr(v.tag, "replacement", v), [s])
        -> the same scan with z * (a - x) as its step, z a new non-sequence

    A replacement that brings a shared variable with an update (``default_update``, or
    Theano's ``update``) into a step or a body raises NotImplementedError: its update would
    have to follow the new uses.  ``additional_inputs`` is accepted for Theano's signature.
    """
    return _map(replacer, list(graphs), frozenset())


def _map(replacer, outputs, inner_inputs):
    from aotsym.graph.basic import graph_inputs, rebuild, toposort
    memo = {}
    for v in graph_inputs(outputs):
        if id(v) not in inner_inputs:
            memo[id(v)] = replacer(v)
    for node in toposort(outputs):
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        if _holds_body(node.op):
            outs = _map_body(replacer, node, new_inputs)
        elif all(a is b for a, b in zip(new_inputs, node.inputs)):
            outs = node.outputs
        else:
            outs = rebuild(node, new_inputs).outputs
        for old, new in zip(node.outputs, outs):
            memo[id(old)] = replacer(new)
    return [memo.get(id(v), v) for v in outputs]


def _holds_body(op) -> bool:
    from aotsym.graph.ops.opfromgraph import OpFromGraph
    from aotsym.graph.ops.scan import Scan
    return isinstance(op, (Scan, OpFromGraph))


def _map_body(replacer, node, new_inputs):
    """The outputs of ``node`` (a Scan or an OpFromGraph) on ``new_inputs`` with its inner
    graph mapped; outer variables the mapped graph reads become new trailing inputs."""
    from aotsym.frontend.shared import SharedVariable
    from aotsym.graph.basic import clone_replace, graph_inputs
    from aotsym.graph.inner import InnerGraph
    from aotsym.graph.ops.opfromgraph import OpFromGraph
    op = node.op
    (inner,) = op.inner_graphs
    own = {id(v) for v in inner.inputs}
    outs = _map(replacer, list(inner.outputs), frozenset(own))
    free = [v for v in graph_inputs(outs) if id(v) not in own and not isinstance(v, Constant)]
    for v in free:
        if isinstance(v, SharedVariable) and (getattr(v, "default_update", None) is not None
                                              or getattr(v, "update", None) is not None):
            raise NotImplementedError(
                f"map_variables: a replacement brings the shared variable {v!r}, which has "
                f"an update, into the inner graph of {op}; its update would have to follow")
    if not free and all(a is b for a, b in zip(outs, inner.outputs)):
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            return node.outputs
        return rebuild_outputs(node, new_inputs)
    phs = [v.type(v.name) for v in free]
    outs = clone_replace(outs, dict(zip(free, phs)))
    body = InnerGraph(list(inner.inputs) + phs, outs, fresh_inputs=False)
    if isinstance(op, OpFromGraph):
        new_op = OpFromGraph.from_inner(body)
    else:
        new_op = op.replace(inner=body, n_nonseqs=op.n_nonseqs + len(free))
    return new_op.make_node(*new_inputs, *free).outputs


def rebuild_outputs(node, new_inputs):
    from aotsym.graph.basic import rebuild
    return rebuild(node, new_inputs).outputs
