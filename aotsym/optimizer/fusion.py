"""Fusion: trees of elementwise ops become one Composite loop; an elementwise producer and the
reduction consuming it become one FusedReduce.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Global passes
(``FunctionGraph -> FunctionGraph``), after BLAS and before inplace.

``fuse_elementwise``::

    before: gt(sigmoid(add(Gemv(...), DimShuffle{x}(b))), 0.5)
    after:  Composite{((sigmoid((i0 + i1)) > 0.5)}(Gemv(...), DimShuffle{x}(b))

A group grows from a consumer towards its producers.  A producer joins when it is an
``Elemwise`` whose output has the group's broadcastable pattern (a narrower producer, e.g. on
a row inside a matrix loop, stays a separate smaller loop rather than being recomputed at every
element) and every reader of its output is in the group; a producer whose output is also a
graph output joins too and becomes an extra output of the Composite.  Scalar constants become
literals of the program.  A group of one op stays an ``Elemwise``.  Groups are capped at
``MAX_STEPS`` steps and ``MAX_INPUTS`` inputs so generated loops stay compilable.

``fuse_reductions``::

    before: Reduce{sum, axis=[0]}(Composite{sqr((i0 - i1))}(a, b))
    after:  FusedReduce{sum, axis=[0], Composite{sqr((i0 - i1))}}(a, b)

when the reduction is the only reader of the elementwise result (which is then never stored).
"""

from __future__ import annotations

from aotsym.graph.basic import Constant, apply
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.ops.reduce import Reduce

MAX_STEPS = 256
MAX_INPUTS = 32


def _fusable(node) -> bool:
    return type(node.op) is Elemwise and not node.op.inplace and len(node.outputs) == 1


def _scalar_literal(v):
    """``('const', value, dtype)`` for a constant with one element, else None."""
    if isinstance(v, Constant) and v.data.size == 1 and all(v.broadcastable):
        return ("const", v.data.reshape(()).item(), v.dtype)
    return None


def find_groups(fgraph: FunctionGraph):
    """Groups of elementwise nodes to fuse: ``[(nodes in topological order, exported)]``,
    the last node being the root; ``exported`` lists member outputs that are graph outputs."""
    order = fgraph.toposort()
    position = {node: k for k, node in enumerate(order)}
    clients = fgraph.clients()
    group_of: dict = {}
    groups = []
    for node in reversed(order):
        if node in group_of or not _fusable(node):
            continue
        pattern = node.outputs[0].broadcastable
        members = {node}
        group_of[node] = node
        exported = []
        inputs: set = set()
        work = [node]
        while work:
            member = work.pop()
            for v in member.inputs:
                p = v.owner
                if p is None or p in members:
                    continue
                if (p in group_of or not _fusable(p) or v.broadcastable != pattern
                        or len(members) >= MAX_STEPS):
                    inputs.add(v)
                    continue
                readers = clients.get(id(v), [])
                outside = [c for c, _ in readers if c != "output" and c not in members]
                if outside:
                    inputs.add(v)
                    continue
                new_inputs = {i for i in p.inputs if _scalar_literal(i) is None}
                if len(inputs | new_inputs) > MAX_INPUTS:
                    inputs.add(v)
                    continue
                members.add(p)
                group_of[p] = node
                inputs.discard(v)
                if any(c == "output" for c, _ in readers):
                    exported.append(v)
                work.append(p)
        if len(members) > 1:
            groups.append((sorted(members, key=position.__getitem__), exported))
        else:
            del group_of[node]
    return groups


def _build_composite(nodes, exported, memo):
    """The Composite node for a group, its inputs mapped through ``memo``."""
    step_of: dict = {}
    input_index: dict = {}
    inputs: list = []
    program = []

    def ref(v):
        if v in step_of:
            return ("step", step_of[v])
        lit = _scalar_literal(v)
        if lit is not None:
            return lit
        mapped = memo.get(v, v)
        k = input_index.get(mapped)
        if k is None:
            k = input_index[mapped] = len(inputs)
            inputs.append(mapped)
        return ("in", k)

    for node in nodes:
        op = node.op
        program.append((op.scalar_op.name, op.dtype, tuple(ref(v) for v in node.inputs)))
        step_of[node.outputs[0]] = len(program) - 1
    root = nodes[-1].outputs[0]
    outs = [root] + [v for v in exported if v is not root]
    comp = Composite(program, len(inputs), [("step", step_of[v]) for v in outs])
    if not inputs:
        return None
    new = apply(comp, inputs)
    return dict(zip(outs, new.outputs))


def fuse_elementwise(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """See the module docstring."""
    groups = find_groups(fgraph)
    if not groups:
        return fgraph
    root_of = {nodes[-1]: (nodes, exported) for nodes, exported in groups}
    member = {n for nodes, _ in groups for n in nodes}
    memo: dict = {}
    fused = 0
    for node in fgraph.toposort():
        if node in root_of:
            nodes, exported = root_of[node]
            mapping = _build_composite(nodes, exported, memo)
            if mapping is not None:
                memo.update(mapping)
                fused += 1
                continue
        elif node in member:
            continue
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if any(a is not b for a, b in zip(new_inputs, node.inputs)):
            new = apply(node.op, new_inputs)
            memo.update(zip(node.outputs, new.outputs))
    if ctx is not None:
        ctx.count("fuse_elementwise", "fuse_elementwise", fused)
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs])


def _as_composite(node):
    """A single-output Composite equal to ``node`` (a Composite or one Elemwise)."""
    if isinstance(node.op, Composite):
        return node.op, list(node.inputs)
    op = node.op
    args, inputs = [], []
    for v in node.inputs:
        lit = _scalar_literal(v)
        if lit is not None:
            args.append(lit)
        else:
            args.append(("in", len(inputs)))
            inputs.append(v)
    if not inputs:
        return None, None
    return Composite([(op.scalar_op.name, op.dtype, tuple(args))], len(inputs),
                     [("step", 0)]), inputs


def fuse_reductions(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """See the module docstring."""
    clients = fgraph.clients()
    memo: dict = {}
    fused = 0
    for node in fgraph.toposort():
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if isinstance(node.op, Reduce):
            (v,) = node.inputs
            p = v.owner
            if p is not None and len(clients.get(id(v), [])) == 1 and (
                    (isinstance(p.op, Composite) and p.op.nout == 1 and not p.op.inplace)
                    or _fusable(p)):
                comp, ins = _as_composite(p)
                if comp is not None:
                    op = FusedReduce(node.op.kind, node.op.axis, comp, node.op.dtype)
                    new = apply(op, [memo.get(i, i) for i in ins])
                    if new.outputs[0].type == node.outputs[0].type:
                        memo[node.outputs[0]] = new.outputs[0]
                        fused += 1
                        continue
        if any(a is not b for a, b in zip(new_inputs, node.inputs)):
            new = apply(node.op, new_inputs)
            memo.update(zip(node.outputs, new.outputs))
    if ctx is not None:
        ctx.count("fuse_reductions", "fuse_reductions", fused)
    if not memo:
        return fgraph
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs])
