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
element).  When its output is also read outside the group (by other nodes, or as a graph
output) it becomes an extra output of the Composite — one loop writes it instead of a loop of
its own — unless a node that reads it also feeds the group (that would be a cycle; the group
is then grown again without such exports).  Scalar constants become
literals of the program.  A group of one op stays an ``Elemwise``.  Groups are capped at
``MAX_STEPS`` steps and ``MAX_INPUTS`` inputs so generated loops stay compilable.

``fuse_reductions``::

    before: Reduce{sum, axis=[0]}(Composite{sqr((i0 - i1))}(a, b))
    after:  FusedReduce{sum, axis=[0], Composite{sqr((i0 - i1))}}(a, b)

when the reduction is the only reader of the elementwise result (which is then never stored).
"""

from __future__ import annotations

from aotsym.graph.basic import Constant, apply, rebuild
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.ops.reduce import Reduce
from aotsym.optimizer.engine import RewriteError

MAX_STEPS = 256
MAX_INPUTS = 32


def _fusable(node) -> bool:
    return type(node.op) is Elemwise and not node.op.inplace and len(node.outputs) == 1


def _is_literal(v) -> bool:
    """Whether ``v`` is a constant with one element (a literal of a Composite's program)."""
    return isinstance(v, Constant) and v.data.size == 1 and all(v.broadcastable)


def _scalar_literal(v):
    """``('const', value, dtype)`` for a constant with one element, else None."""
    if _is_literal(v):
        return ("const", v.data.reshape(()).item(), v.dtype)
    return None


MAX_CYCLE_SEARCH = 4000  # nodes visited to prove an export makes no cycle; else: no export


def find_groups(fgraph: FunctionGraph):
    """Groups of elementwise nodes to fuse: ``[(nodes in topological order, exported)]``,
    the last node being the root; ``exported`` lists member outputs read outside the group
    (by other nodes or as graph outputs), which become extra outputs of the Composite."""
    order = fgraph.toposort()
    position = {node: k for k, node in enumerate(order)}
    clients = fgraph.clients()
    groups = _form_groups(order, position, clients, allow_export=True)
    if _units_cycle(groups, order):
        # Each group is acyclic with the rest of the graph, but two exporting groups can need
        # each other's outputs.  Groups whose outputs are read only inside them cannot.
        groups = _form_groups(order, position, clients, allow_export=False)
    return [(sorted(members, key=position.__getitem__), exported)
            for members, exported in groups]


def _form_groups(order, position, clients, allow_export):
    group_of: dict = {}
    groups = []
    for node in reversed(order):
        if node in group_of or not _fusable(node):
            continue
        members, exported = _grow(node, group_of, clients, allow_export)
        if exported and _makes_cycle(members, exported, clients, position):
            for n in members:
                del group_of[n]
            members, exported = _grow(node, group_of, clients, allow_export=False)
        if len(members) > 1:
            groups.append((members, exported))
        else:
            del group_of[node]
    if allow_export:
        groups = _merge_consumers(groups, order, position, clients)
    return groups


def _units_cycle(groups, order) -> bool:
    """Whether the graph with every group collapsed to one node has a cycle."""
    unit: dict = {}
    for k, (members, _) in enumerate(groups):
        for n in members:
            unit[n] = ("g", k)
    deps: dict = {}
    for node in order:
        u = unit.get(node, node)
        found = deps.setdefault(u, set())
        for v in node.inputs:
            if v.owner is not None:
                d = unit.get(v.owner, v.owner)
                if d != u:
                    found.add(d)
    state: dict = {}
    for start in deps:
        if start in state:
            continue
        stack = [(start, iter(deps[start]))]
        state[start] = 1
        while stack:
            u, it = stack[-1]
            d = next(it, None)
            if d is None:
                state[u] = 2
                stack.pop()
            elif state.get(d) == 1:
                return True
            elif d not in state:
                state[d] = 1
                stack.append((d, iter(deps.get(d, ()))))
    return False


def _merge_consumers(groups, order, position, clients):
    """A group (or a single elementwise node) that reads outputs of exactly one other group
    of the same pattern joins it: ``gt(sigmoid(z), 0.5)`` beside the loop that computes
    ``sigmoid(z)`` costs no pass of its own."""
    owner: dict = {}                       # member node -> group index
    for k, (members, _) in enumerate(groups):
        for n in members:
            owner[n] = k
    units = [(members, exported) for members, exported in groups]
    merged_into: dict = {}

    def find(k):
        while k in merged_into:
            k = merged_into[k]
        return k

    singles = [n for n in order if _fusable(n) and n not in owner]
    for k, n in enumerate(singles):
        owner[n] = len(units)
        units.append(({n}, []))
    roots = {max(members, key=position.__getitem__): k for k, (members, _) in enumerate(units)}
    for node in order:
        k = roots.get(node)                # consider each unit once, at its root
        if k is None or find(k) != k:
            continue
        members, exported = units[k]
        sources = {find(owner[v.owner]) for n in members for v in n.inputs
                   if v.owner is not None and v.owner in owner and v.owner not in members}
        if len(sources) != 1:
            continue
        (j,) = sources
        target, t_exported = units[j]
        pattern = next(iter(target)).outputs[0].broadcastable
        if any(n.outputs[0].broadcastable != pattern for n in members):
            continue
        union = target | members
        if len(union) > MAX_STEPS:
            continue
        outs = [v for v in t_exported + exported + [n.outputs[0] for n in members]]
        new_exported = []
        for v in outs:
            if v not in new_exported and any(c == "output" or c not in union
                                             for c, _ in clients.get(id(v), [])):
                new_exported.append(v)
        if _makes_cycle(union, new_exported, clients, position):
            continue
        units[j] = (union, new_exported)
        merged_into[k] = j
    return [units[k] for k in range(len(units))
            if k not in merged_into and len(units[k][0]) > 1]


def _grow(root, group_of, clients, allow_export):
    """Members and exported outputs of the group grown from ``root`` (see module doc)."""
    pattern = root.outputs[0].broadcastable
    members = {root}
    group_of[root] = root
    exported = []
    inputs: set = set()
    work = [root]
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
            if outside and not allow_export:
                inputs.add(v)
                continue
            new_inputs = [i for i in p.inputs if i not in inputs and not _is_literal(i)]
            if len(inputs) + len(set(new_inputs)) > MAX_INPUTS:
                inputs.add(v)
                continue
            members.add(p)
            group_of[p] = root
            inputs.discard(v)
            if outside or any(c == "output" for c, _ in readers):
                exported.append(v)
            work.append(p)
    # members added later may have taken in readers that made an output look exported
    exported = [v for v in exported if any(
        c == "output" or c not in members for c, _ in clients.get(id(v), []))]
    return members, exported


def _makes_cycle(members, exported, clients, position) -> bool:
    """Whether a node outside the group reads an exported output and also feeds the group
    (the Composite would need its own output as an input)."""
    readers = {c for v in exported for c, _ in clients.get(id(v), [])
               if c != "output" and c not in members}
    if not readers:
        return False
    lowest = min(position[v.owner] for v in exported)
    stack = [v.owner for n in members for v in n.inputs
             if v.owner is not None and v.owner not in members]
    seen: set = set()
    while stack:
        n = stack.pop()
        if n in seen or position[n] < lowest:
            continue
        if n in readers:
            return True
        seen.add(n)
        if len(seen) > MAX_CYCLE_SEARCH:
            return True
        stack.extend(v.owner for v in n.inputs if v.owner is not None)
    return False


def _build_composite(nodes, exported, memo):
    """The Composite node for a group, its inputs mapped through ``memo``.  Output 0 is the
    last member (the root); every other exported output follows."""
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
    if not inputs:
        return None
    root = nodes[-1].outputs[0]
    outs = [root] + [v for v in exported if v is not root]
    comp = Composite(program, len(inputs), [("step", step_of[v]) for v in outs])
    new = apply(comp, inputs, trace=root.tag.trace)
    for old, out in zip(outs[1:], new.outputs[1:]):
        out.tag.trace = old.tag.trace
    new.outputs[0].tag.fused_traces = fused_traces(nodes)
    return dict(zip(outs, new.outputs))


def fused_traces(nodes) -> tuple:
    """The distinct source lines of the user expressions ``nodes`` fuse (a fused node's
    errors list them: its own line is only that of its last expression)."""
    seen, traces = set(), []
    for node in nodes:
        out = node.outputs[0]
        for t in getattr(out.tag, "fused_traces", None) or (out.tag.trace,):
            if t is not None and (t.filename, t.lineno) not in seen:
                seen.add((t.filename, t.lineno))
                traces.append(t)
    return tuple(traces)


def fuse_elementwise(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """See the module docstring."""
    groups = find_groups(fgraph)
    if not groups:
        return fgraph
    unit_of: dict = {}     # member node -> (nodes, exported) of its group
    for unit in groups:
        for n in unit[0]:
            unit_of[n] = unit
    fused = 0

    def build(unit, memo):
        nonlocal fused
        mapping = _build_composite(unit[0], unit[1], memo)
        fused += mapping is not None
        return mapping

    memo = rebuild_with_units(fgraph, unit_of, lambda unit: unit[0], build,
                              "fuse_elementwise")
    if ctx is not None:
        ctx.count("fuse_elementwise", "fuse_elementwise", fused)
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs])


def rebuild_with_units(fgraph: FunctionGraph, unit_of: dict, members, build, rule) -> dict:
    """Rebuild ``fgraph`` where groups of nodes ("units") become new nodes; returns the map
    old variable -> new variable (absent: unchanged).

    ``unit_of`` maps each grouped node to its unit (one object per group); ``members(unit)``
    lists its nodes in topological order; ``build(unit, memo)`` makes the new nodes from
    ``memo`` (the rebuilt inputs) and returns the map of the unit's old outputs to new ones,
    or None to keep the members (then rebuilt one by one).  The walk goes from the outputs,
    depth first, building a unit once every node it reads from outside is built: a reader of
    one of a unit's outputs may come before the unit's last member in the old topological
    order.  A unit that depends on itself (through nodes outside it) raises RewriteError
    naming ``rule``: a bug in the grouping.
    """
    memo: dict = {}
    done: set = set()
    pending: set = set()
    stack = [(v.owner, False) for v in fgraph.outputs if v.owner is not None]
    while stack:
        node, expanded = stack.pop()
        unit = unit_of.get(node)
        key = id(unit) if unit is not None else node
        if key in done:
            continue
        nodes = members(unit) if unit is not None else [node]
        if not expanded:
            if key in pending:
                raise RewriteError(f"{rule}: a grouped node depends on itself (around "
                                   f"{node.op}); this is a bug in the grouping")
            pending.add(key)
            stack.append((node, True))
            inside = set(nodes)
            stack.extend((v.owner, False) for n in nodes for v in n.inputs
                         if v.owner is not None and v.owner not in inside
                         and (id(unit_of[v.owner]) if v.owner in unit_of else v.owner)
                         not in done)
            continue
        done.add(key)
        if unit is not None:
            mapping = build(unit, memo)
            if mapping is not None:
                memo.update(mapping)
                continue
        for n in nodes:
            new_inputs = [memo.get(v, v) for v in n.inputs]
            if any(a is not b for a, b in zip(new_inputs, n.inputs)):
                memo.update(zip(n.outputs, rebuild(n, new_inputs, same_values=True).outputs))
    return memo


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
                    new = apply(op, [memo.get(i, i) for i in ins],
                                trace=node.outputs[0].tag.trace)
                    if new.outputs[0].type == node.outputs[0].type:
                        new.outputs[0].tag.fused_traces = fused_traces([p, node])
                        memo[node.outputs[0]] = new.outputs[0]
                        fused += 1
                        continue
        if any(a is not b for a, b in zip(new_inputs, node.inputs)):
            new = rebuild(node, new_inputs, same_values=True)
            memo.update(zip(node.outputs, new.outputs))
    if ctx is not None:
        ctx.count("fuse_reductions", "fuse_reductions", fused)
    if not memo:
        return fgraph
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs])
