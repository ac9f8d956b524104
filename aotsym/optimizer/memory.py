"""The memory plan: which buffer holds each variable, from liveness, handed to the emitters.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Not a rewrite: the
emitters call ``plan_memory(fgraph)`` on the final graph and render the plan as data.

Every variable gets a *kind*:

``input`` / ``constant``
    memory the module does not allocate (the caller's arrays, static data);
``view``
    an output declared in ``view_map``: it lives in its input's buffer;
``inplace``
    an output declared in ``destroy_map``: it is written over its input's buffer;
``alloc``
    an output that needs memory: it takes a *buffer*.

Buffers are reused: when the last reader of every variable living in a buffer (views and
in-place results included) has run, the buffer is free, and the next ``alloc`` variable of the
same dtype and the same *shape* takes it instead of a fresh allocation.  Shapes are compared
symbolically — each dimension is a key built from the ops' shape rules (``infer_shape``) on
the inputs' dimensions — so reuse needs no run-time check: an elementwise chain of 1000
temporaries runs in two buffers.  A buffer holding a graph output is never reused (the caller
owns it).

The emitter's contract: run ``plan.order``; before node ``k`` allocate each of its ``alloc``
outputs' buffers that is not allocated yet (the shape is the variable's run-time shape, the
same for every variable of the buffer); after node ``k`` the buffers in
``plan.free_after[k]`` may be released or reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aotsym.graph.basic import Constant


@dataclass
class Buffer:
    index: int
    dtype: str
    shape: tuple                   # per-dimension shape keys (see module docstring)
    variables: list = field(default_factory=list)
    first: int = 0                 # order position of the node that first writes it
    last: int = 0                  # order position of its last reader (len(order): output)


@dataclass
class MemoryPlan:
    """See the module docstring."""

    order: list
    kind: dict                     # variable -> input/constant/view/inplace/alloc
    buffer_of: dict                # variable -> buffer index (alloc, view and inplace vars
                                   # whose memory is a buffer)
    buffers: list
    free_after: list               # per order position: buffer indices free after that node

    @property
    def n_allocations(self) -> int:
        """Variables that need memory of their own (without the plan: one buffer each)."""
        return sum(k == "alloc" for k in self.kind.values())

    def describe(self) -> str:
        lines = [f"MemoryPlan: {self.n_allocations} allocated variables in "
                 f"{len(self.buffers)} buffers"]
        for b in self.buffers:
            names = ", ".join(repr(v) for v in b.variables[:4])
            more = f" (+{len(b.variables) - 4})" if len(b.variables) > 4 else ""
            lines.append(f"  buffer {b.index}: {b.dtype}{list(b.shape)} steps {b.first}.."
                         f"{b.last}: {names}{more}")
        return "\n".join(lines)


def shape_keys(fgraph) -> dict:
    """Per variable, a tuple of per-dimension keys; equal keys mean equal lengths."""
    keys: dict = {}
    for k, v in enumerate(fgraph.inputs):
        keys[v] = tuple(1 if b else ("in", k, d) for d, b in enumerate(v.broadcastable))
    for node in fgraph.toposort():
        for v in node.inputs:
            if v not in keys:
                keys[v] = tuple(v.data.shape) if isinstance(v, Constant) else \
                    tuple(1 if b else ("var", id(v), d) for d, b in enumerate(v.broadcastable))
        try:
            shapes = node.op.infer_shape(node, [keys[v] for v in node.inputs])
        except Exception:  # noqa: BLE001 - a shape rule that needs real variables
            shapes = None
        for k, o in enumerate(node.outputs):
            got = tuple(shapes[k]) if shapes is not None else None
            if got is None or len(got) != o.ndim:
                got = tuple(("var", id(o), d) for d in range(o.ndim))
            keys[o] = tuple(1 if b else _hashable(e, o, d)
                            for d, (b, e) in enumerate(zip(o.broadcastable, got)))
    return keys


def _hashable(entry, var, d):
    if isinstance(entry, (int, tuple, str)):
        return entry
    if hasattr(entry, "data") and getattr(entry, "ndim", None) == 0:  # a constant length
        return int(entry.data)
    try:
        hash(entry)
        return entry      # a symbolic length (hash-consed: equal expressions are one)
    except TypeError:
        return ("var", id(var), d)


def plan_memory(fgraph) -> MemoryPlan:
    """The buffer plan of ``fgraph`` in its topological order (see the module docstring)."""
    order = list(fgraph.toposort())
    keys = shape_keys(fgraph)
    n = len(order)
    kind: dict = {}
    storage: dict = {}             # variable -> root variable whose memory it uses
    for v in fgraph.inputs:
        kind[v], storage[v] = "input", v
    for node in order:
        for v in node.inputs:
            if v not in kind:
                kind[v], storage[v] = ("constant" if isinstance(v, Constant) else "input"), v
        for k, o in enumerate(node.outputs):
            dest = node.op.destroy_map.get(k)
            view = node.op.view_map.get(k)
            if dest:
                kind[o], storage[o] = "inplace", storage[node.inputs[dest[0]]]
            elif view:
                kind[o], storage[o] = "view", storage[node.inputs[view[0]]]
            else:
                kind[o], storage[o] = "alloc", o
    last: dict = {}                # root -> last order position using it
    for pos, node in enumerate(order):
        for v in node.inputs:
            last[storage[v]] = pos
        for o in node.outputs:
            last.setdefault(storage[o], pos)
    for v in fgraph.outputs:
        last[storage[v]] = n

    buffers: list = []
    free: dict = {}                # (dtype, shape) -> [buffer index]
    buffer_of: dict = {}
    free_after: list = [[] for _ in order]
    root_buffer: dict = {}
    for pos, node in enumerate(order):
        for o in node.outputs:
            if kind[o] != "alloc":
                if storage[o] in root_buffer:
                    buffer_of[o] = root_buffer[storage[o]]
                    buffers[buffer_of[o]].variables.append(o)
                continue
            key = (o.dtype, keys[o])
            pool = free.get(key)
            if pool:
                b = buffers[pool.pop()]
            else:
                b = Buffer(len(buffers), o.dtype, keys[o], first=pos)
                buffers.append(b)
            b.variables.append(o)
            buffer_of[o] = b.index
            root_buffer[o] = b.index
            b.last = max(b.last, last[o])
        for o in node.outputs:                       # an output nobody reads: free at once
            if kind[o] == "alloc" and last[o] == pos:
                _release(buffers[buffer_of[o]], pos, free, free_after)
        for v in set(node.inputs):
            root = storage[v]
            if last.get(root) == pos and root in root_buffer and kind[root] == "alloc":
                b = buffers[root_buffer[root]]
                if b.last == pos:
                    _release(b, pos, free, free_after)
    return MemoryPlan(order, kind, buffer_of, buffers, free_after)


def _release(b, pos, free, free_after):
    if b.index in free_after[pos]:
        return
    free_after[pos].append(b.index)
    free.setdefault((b.dtype, b.shape), []).append(b.index)
