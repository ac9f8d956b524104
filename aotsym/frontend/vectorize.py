"""Vectorizing a graph over a new leading batch dimension (a graph-to-graph transformation).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters), beside ``grad``: it
is how :func:`aotsym.gradient.jacobian` computes a full Jacobian in ONE batched reverse
pass.  ``vectorize(outputs, {v: V})`` rebuilds ``outputs`` with ``v`` replaced by ``V``,
which holds a batch of values of ``v`` along a new first axis; each output that depends on
``v`` comes back with that axis in front (``out[i]`` is the output for ``V[i]``).

Invariants:

* Only nodes downstream of the replaced variables are rebuilt; the rest of the graph (the
  forward pass of a gradient) is shared, unbatched, and broadcast where it meets batched
  values (a ``dimshuffle('x', ...)``), so it is computed once, not once per batch row.
* Each op family has a rule (``_RULES``, keyed by op class name): elementwise, dimshuffle,
  reductions, dot, reshape, shape, indexing and indexed writes (and ``SumToShape``, the
  gradient of their value), alloc, join, softmax.  An op without a rule (or a case a rule
  declines) is mapped over the batch with ``aotsym.scan`` — correct for any op, one step per
  row.
* Traversal is iterative (:func:`toposort`), like every pass over the IR.
"""

from __future__ import annotations

from aotsym.graph.basic import Variable, apply, toposort
from aotsym.graph.convert import as_tensor_variable


def vectorize(outputs, replace: dict, batch_size=None) -> list:
    """``outputs`` rebuilt over batched replacements (module docstring).

    ``replace``: ``{variable: batched value}``, each value of ndim one more than its key.
    ``batch_size``: the batch length (an int scalar variable); by default the first length
    of the first replacement.  Returns ``[(variable, batched), ...]`` per output.
    """
    from aotsym.graph.ops.shape import shape_i
    replace = {k: as_tensor_variable(v) for k, v in replace.items()}
    for k, v in replace.items():
        if v.ndim != k.ndim + 1:
            raise ValueError(f"vectorize: the batch for {k!r} must have ndim {k.ndim + 1}, "
                             f"got {v.type.describe()}")
    if batch_size is None:
        batch_size = shape_i(next(iter(replace.values())), 0)
    memo: dict[int, tuple] = {id(k): (v, True) for k, v in replace.items()}
    for node in toposort(outputs):
        found = [memo.get(id(v)) for v in node.inputs]
        if not any(f is not None and f[1] for f in found):
            rebuilt = [f[0] if f else v for f, v in zip(found, node.inputs)]
            if any(a is not b for a, b in zip(rebuilt, node.inputs)):
                new = apply(node.op, rebuilt).outputs
                for o, n in zip(node.outputs, new):
                    memo[id(o)] = (n, False)
            continue
        ins = [f[0] if f else v for f, v in zip(found, node.inputs)]
        flags = [bool(f and f[1]) for f in found]
        rule = _RULES.get(type(node.op).__name__)
        result = rule(node, ins, flags, batch_size) if rule is not None else None
        if result is None:
            result = [(v, True) for v in _map_over_batch(node, ins, flags)]
        for o, r in zip(node.outputs, result):
            memo[id(o)] = r
    return [memo.get(id(v), (v, False)) for v in outputs]


def batched(v: Variable, is_batched: bool, batch_size) -> Variable:
    """``v`` with its batch axis materialized: an unbatched value repeated ``batch_size``
    times (an ``alloc``), a batched one as it is."""
    from aotsym.graph.ops.alloc import alloc
    from aotsym.graph.ops.shape import shape_i
    if is_batched and not v.broadcastable[0]:
        return v
    if is_batched:
        return alloc(v, batch_size, *[shape_i(v, d) for d in range(1, v.ndim)])
    return alloc(v, batch_size, *[shape_i(v, d) for d in range(v.ndim)])


def _pad(v, is_batched):
    return v if is_batched else v.dimshuffle(["x"] + list(range(v.ndim)))


def _map_over_batch(node, ins, flags) -> list:
    """The op applied to each batch row: a scan over the batched inputs."""
    from aotsym.frontend.scan import scan
    seqs = [v for v, b in zip(ins, flags) if b]
    fixed = [v for v, b in zip(ins, flags) if not b]

    def step(*args):
        rows, consts = iter(args[:len(seqs)]), iter(args[len(seqs):])
        inputs = [next(rows) if b else next(consts) for b in flags]
        outs = apply(node.op, inputs).outputs
        return outs[0] if len(outs) == 1 else list(outs)

    outs, _ = scan(step, sequences=seqs, non_sequences=fixed)
    return [outs] if isinstance(outs, Variable) else list(outs)


# ---------------------------------------------------------------------------- rules
# rule(node, inputs, batched flags, batch size) -> [(output, batched), ...] or None (map)


def _elemwise(node, ins, flags, n):
    from aotsym.graph.ops.elemwise import Elemwise
    op = node.op
    new = apply(Elemwise(op.scalar_op, op.dtype), [_pad(v, b) for v, b in zip(ins, flags)])
    return [(o, True) for o in new.outputs]


def _dimshuffle(node, ins, flags, n):
    from aotsym.graph.ops.elemwise import DimShuffle
    (x,) = ins
    order = (0,) + tuple(d if d == "x" else d + 1 for d in node.op.new_order)
    return [(DimShuffle(x.broadcastable, order)(x), True)]


def _reduce(node, ins, flags, n):
    from aotsym.graph.ops.reduce import Reduce
    op = node.op
    return [(Reduce(op.kind, tuple(a + 1 for a in op.axis), op.dtype)(ins[0]), True)]


def _argreduce(node, ins, flags, n):
    return None


def _dot(node, ins, flags, n):
    """Batched vectors are a matrix product with BLAS; a batch of matrices is a broadcast
    product summed over the shared axis (static broadcasting keeps the types exact)."""
    from aotsym.graph.ops.blas import Dot
    from aotsym.graph.ops.reduce import sum as tsum
    (a, b), (ba, bb) = ins, flags
    if ba and bb:
        return None
    if ba and a.ndim == 2:   # a: (batch, k) rows against the same b
        return [(Dot()(a, b), True)]
    if bb and b.ndim == 2:   # b: (batch, k) -> (batch, m) / (batch,)
        return [(Dot()(b, a.T if a.ndim == 2 else a), True)]
    if ba:                   # a: (batch, m, k), b: (k,) or (k, n)
        if b.ndim == 1:
            return [(tsum(a * b.dimshuffle("x", "x", 0), axis=2), True)]
        return [(tsum(a.dimshuffle(0, 1, 2, "x") * b.dimshuffle("x", "x", 0, 1), axis=2),
                 True)]
    # b: (batch, k, n), a: (k,) or (m, k)
    if a.ndim == 1:
        return [(tsum(a.dimshuffle("x", 0, "x") * b, axis=1), True)]
    return [(tsum(a.dimshuffle("x", 0, 1, "x") * b.dimshuffle(0, "x", 1, 2), axis=2), True)]


def _reshape(node, ins, flags, n):
    from aotsym.graph.ops.join import concatenate
    from aotsym.graph.ops.math import cast
    from aotsym.graph.ops.reshape import Reshape
    from aotsym.graph.ops.shape import make_vector, vector_entries
    (x, shape), (_, bs) = ins, flags
    if bs:
        return None
    entries = vector_entries(shape)
    if entries is not None:   # the same entries, seen by the type rule as before
        new_shape = make_vector([n] + list(entries))
    else:
        new_shape = concatenate([cast(n, "int64").dimshuffle("x"), cast(shape, "int64")])
    return [(Reshape(node.op.ndim + 1)(x, new_shape), True)]


def _shape(node, ins, flags, n):
    from aotsym.graph.ops.shape import Shape
    from aotsym.graph.ops.subtensor import getitem
    return [(getitem(Shape()(ins[0]), slice(1, None)), False)]


def _shape_i(node, ins, flags, n):
    from aotsym.graph.ops.shape import Shape_i
    return [(Shape_i(node.op.i + 1)(ins[0]), False)]


_FULL = (None, None, None)


def _adjacent_arrays(idx_list) -> bool:
    """Whether the indexing keeps a leading full slice in front (NumPy moves separated
    advanced indices to the front of the result)."""
    positions = [k for k, e in enumerate(idx_list) if not isinstance(e, tuple)]
    return not positions or positions[-1] - positions[0] == len(positions) - 1


def _subtensor(node, ins, flags, n):
    if any(flags[1:]):
        return None
    op = node.op
    if type(op).__name__ == "AdvancedSubtensor" and not _adjacent_arrays(op.idx_list):
        return None
    return [(type(op)((_FULL,) + tuple(op.idx_list))(*ins), True)]


def _inc_subtensor(node, ins, flags, n):
    if any(flags[2:]):
        return None
    op = node.op
    if type(op).__name__ == "AdvancedIncSubtensor" and not _adjacent_arrays(op.idx_list):
        return None
    x = batched(ins[0], flags[0], n)
    y = _pad(ins[1], flags[1])
    new_op = type(op)((_FULL,) + tuple(op.idx_list), op.set_instead_of_inc)
    return [(new_op(x, y, *ins[2:]), True)]


def _advanced_subtensor1(node, ins, flags, n):
    from aotsym.graph.ops.subtensor import getitem
    if flags[1]:
        return None
    return [(getitem(ins[0], (slice(None), ins[1])), True)]


def _advanced_inc_subtensor1(node, ins, flags, n):
    from aotsym.graph.ops.subtensor import getitem, inc_subtensor, set_subtensor
    if flags[2]:
        return None
    x = batched(ins[0], flags[0], n)
    write = set_subtensor if node.op.set_instead_of_inc else inc_subtensor
    return [(write(getitem(x, (slice(None), ins[2])), _pad(ins[1], flags[1])), True)]


def _alloc(node, ins, flags, n):
    from aotsym.graph.ops.alloc import Alloc
    value, dims = ins[0], ins[1:]
    if any(flags[1:]):
        return None
    missing = len(dims) - (value.ndim - 1)
    value = value.dimshuffle([0] + ["x"] * missing + list(range(1, value.ndim)))
    return [(Alloc()(value, n, *dims), True)]


def _join(node, ins, flags, n):
    from aotsym.graph.ops.join import Join
    return [(Join(node.op.axis + 1)(*[batched(v, b, n) for v, b in zip(ins, flags)]), True)]


def _axis_op(node, ins, flags, n):
    if node.op.axis is None:
        return None
    return [(type(node.op)(node.op.axis + 1)(ins[0]), True)]


def _sum_to_shape(node, ins, flags, n):
    from aotsym.graph.ops.join import concatenate
    from aotsym.graph.ops.math import cast
    (g, shp), (bg, bs) = ins, flags
    if bs:
        return None
    target = concatenate([cast(n, "int64").dimshuffle("x"), shp])   # the batch: not summed
    return [(type(node.op)()(batched(g, bg, n), target), True)]


_RULES = {
    "Elemwise": _elemwise, "DimShuffle": _dimshuffle, "Reduce": _reduce,
    "ArgReduce": _argreduce, "Dot": _dot, "Reshape": _reshape, "Shape": _shape,
    "Shape_i": _shape_i, "Subtensor": _subtensor, "AdvancedSubtensor": _subtensor,
    "IncSubtensor": _inc_subtensor, "AdvancedIncSubtensor": _inc_subtensor,
    "AdvancedSubtensor1": _advanced_subtensor1,
    "AdvancedIncSubtensor1": _advanced_inc_subtensor1, "Alloc": _alloc, "Join": _join,
    "Softmax": _axis_op, "LogSoftmax": _axis_op, "SumToShape": _sum_to_shape,
}
