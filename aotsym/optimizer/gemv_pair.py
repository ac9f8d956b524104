"""Fuse the two matrix-vector products of a training step over one matrix: ``X @ v``, a
row-wise chain, then ``X.T @ d`` become one ``FusedGemvPair`` that reads ``X`` once.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  A global pass
(``FunctionGraph -> FunctionGraph``), stage ``fuse_gemv_pairs``: after ``blas`` (which makes
both products ``Gemv``s) and the fusion stages (which make the chain one ``Composite``),
before ``inplace``.  The seed's logistic regression::

    before: z  = Gemv{no_inplace}(Alloc(0, x.shape[0]), 1.0, x, w, 0.0)
            c  = Composite{d, prediction, xent}(z, DimShuffle{x}(b), y, n)
            gw = Gemv{no_inplace}(w, -0.1, DimShuffle{1,0}(x), c.0, 0.998)
            gb = Composite{b - 0.1 * i0}(Reduce{sum}(c.0), b)
    after:  p  = FusedGemvPair{d=out0 of Composite{...}, stored=[0, 1, 2]}(
                     x, w, 1.0, DimShuffle{x}(b), y, n)
            gw = Gemv{no_inplace}(w, -0.1, DimShuffle{0,x}(p.0), [1.0], 0.998)
            d, prediction, xent = p.1, p.2, p.3
            gb = Composite{b - 0.1 * i0}(Reduce{sum}(p.1), b)

``p.0`` is ``x.T @ d``; scaling it and adding the accumulated term stays a ``Gemv`` (of that
vector as an N x 1 matrix times ``[1]``: 2N flops) so that the inplace pass writes a shared
variable's update over its own buffer, as it did (the state writes of :mod:`.inplace`).  A
product with ``alpha2`` 1 and ``beta2`` 0 (a plain ``dot``) is the fused node's output itself.

The match, from a ``Gemv`` ``g = alpha2 * A2 @ d + beta2 * acc``:

* ``d`` is an output of a ``Composite`` (or a lone ``Elemwise``) over vectors;
* one input of that composite is ``z = Gemv(_, alpha1, A1, v, 0)`` (``beta`` the constant 0:
  its accumulated input is not read), with ``A2`` the transpose of ``A1`` (``A2`` is
  ``DimShuffle{1,0}(A1)``, or ``A1`` is ``DimShuffle{1,0}(A2)``: a transposed ``X``): the
  same matrix, read by rows in the first product and by columns in the second;
* every input of the fused node (``X``, ``v``, ``alpha1``, the composite's other inputs) is
  computed without ``z`` or the composite: ``d`` depends on nothing over all rows
  (``d = z - mean(z)`` needs every ``z`` before its first ``d``: no match), and the fused
  node makes no cycle.  So are ``acc`` and the scales of the second product (a match and its
  scaling ``Gemv`` are rebuilt as one unit; an accumulator read from ``d`` is left alone);
* one dtype, float32 or float64 (the products are BLAS-typed ``Gemv``s already).

Every other reader of ``z`` or of the composite's outputs keeps its value: those become
outputs of the fused node (``stored``, ``store_z``).  A ``z``, composite or ``g`` takes part
in one match at most.  The value is by definition the replaced ops' (the op's ``perform``
is theirs): the reference evaluator gives the graphs before and after the same bits.  The C
emitter (:mod:`aotsym.emit_c.gemv_pair`) computes it in row blocks.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant, apply, rebuild
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.elemwise import DimShuffle
from aotsym.graph.ops.gemm import BLAS_DTYPES, Gemv
from aotsym.graph.ops.gemv_pair import FusedGemvPair
from aotsym.graph.types import TensorType
from aotsym.optimizer.engine import RewriteError
from aotsym.optimizer.fusion import (_as_composite, _fusable, fused_traces,
                                     rebuild_with_units)
from aotsym.optimizer.utils import scalar_constant

MAX_CYCLE_SEARCH = 4000  # nodes visited to prove the fused node makes no cycle; else: no match


def _gemv(v):
    """The (not in-place) Gemv node computing ``v``, else None."""
    node = v.owner
    if node is not None and type(node.op) is Gemv and not node.op.inplace \
            and v.dtype in BLAS_DTYPES:
        return node
    return None


def _transposed(a, b) -> bool:
    """Whether ``b`` is ``a.T`` (or ``a`` is ``b.T``) as a DimShuffle of the other."""
    for m, t in ((a, b), (b, a)):
        node = t.owner
        if node is not None and isinstance(node.op, DimShuffle) and \
                node.op.new_order == (1, 0) and node.inputs[0] is m:
            return True
    return False


class _Match:
    """One fusion: the nodes it replaces and the node it builds (see the module doc)."""

    def __init__(self, first, chain, second, comp, comp_inputs, z_input, d_output):
        self.first, self.chain, self.second = first, chain, second
        self.members = (first, chain, second)
        self.comp, self.comp_inputs = comp, comp_inputs
        self.z_input, self.d_output = z_input, d_output
        self.stored: tuple = ()
        self.store_z = False

    def fused_inputs(self) -> list:
        _, alpha1, x, v, _ = self.first.inputs
        others = [u for k, u in enumerate(self.comp_inputs) if k != self.z_input]
        return [x, v, alpha1] + others

    def external_inputs(self) -> list:
        """Every input of the nodes the match builds (the fused node and the scaling)."""
        acc, alpha2, _, _, beta2 = self.second.inputs
        return self.fused_inputs() + [acc, alpha2, beta2]

    def build(self, memo) -> dict:
        """The fused node on the rebuilt inputs; returns ``{old variable: new variable}``."""
        op = FusedGemvPair(self.comp, self.z_input, self.d_output, self.stored, self.store_z)
        # its errors are first of all X @ v's: it names that line (and lists the fused ones)
        new = apply(op, [memo.get(u, u) for u in self.fused_inputs()],
                    trace=self.first.outputs[0].tag.trace)
        new.outputs[0].tag.fused_traces = fused_traces(list(self.members))
        g = _scaled(new.outputs[0], [memo.get(u, u) for u in self.second.inputs],
                    self.second.outputs[0].tag.trace)
        old = [self.second.outputs[0]] + [self.chain.outputs[k] for k in self.stored] + \
            ([self.first.outputs[0]] if self.store_z else [])
        for o, n in zip(old, [g] + list(new.outputs[1:])):
            if o.type != n.type:
                raise RewriteError(f"fuse_gemv_pairs: {op} output of type {n.type} replaces "
                                   f"one of type {o.type}; this is a bug in the match")
            if n.owner is new:
                n.tag.trace = o.tag.trace
        return dict(zip(old, [g] + list(new.outputs[1:])))


def _scaled(product, second_inputs, trace):
    """``alpha2 * product + beta2 * acc`` as the Gemv it was (the product as an N x 1 matrix
    times ``[1]``, made at the second product's line), or ``product`` itself when that is the
    value (alpha2 1, beta2 0)."""
    acc, alpha2, _, _, beta2 = second_inputs
    if scalar_constant(alpha2) == 1 and scalar_constant(beta2) == 0:
        return product
    column = apply(DimShuffle(product.broadcastable, (0, "x")), [product], trace=trace)
    one = Constant(TensorType(product.dtype, (True,)), np.ones(1, dtype=product.dtype))
    return apply(Gemv(), [acc, alpha2, column.outputs[0], one, beta2], trace=trace).outputs[0]


def _match(second, clients, position, taken):
    """The fusion ending at the Gemv ``second``, or None."""
    if _gemv(second.outputs[0]) is not second:
        return None
    acc, alpha2, a2, d, beta2 = second.inputs
    chain = d.owner
    if chain is None or chain in taken or d.ndim != 1:
        return None
    if isinstance(chain.op, Composite) and not chain.op.inplace:
        comp, comp_inputs = chain.op, list(chain.inputs)
    elif _fusable(chain):
        comp, comp_inputs = _as_composite(chain)
        if comp is None:
            return None
    else:
        return None
    for j, z in enumerate(comp_inputs):
        first = _gemv(z) if z.ndim == 1 else None
        if first is None or first in taken or z.dtype != second.outputs[0].dtype:
            continue
        _, _, a1, _, beta1 = first.inputs
        if scalar_constant(beta1) != 0 or not _transposed(a1, a2):
            continue
        if any(u is z for k, u in enumerate(comp_inputs) if k != j):
            continue
        m = _Match(first, chain, second, comp, comp_inputs, j, d.index)
        if _feeds(m, position):
            continue
        outside = lambda v, inside: any(  # noqa: E731
            c == "output" or c not in inside for c, _ in clients.get(id(v), []))
        m.stored = tuple(k for k, out in enumerate(chain.outputs)
                         if outside(out, (second,)))
        m.store_z = outside(z, (chain,))
        try:
            FusedGemvPair(comp, j, d.index, m.stored, m.store_z).output_types(
                m.fused_inputs())
        except (TypeError, ValueError):
            continue
        return m
    return None


def _feeds(m, position) -> bool:
    """Whether ``z`` or the chain feeds an input of the fused node (a cycle; or more than
    one search's worth of nodes to tell)."""
    start = position[m.first]
    stack = [u.owner for u in m.external_inputs() if u.owner is not None]
    seen: set = set()
    while stack:
        n = stack.pop()
        if n in seen or position.get(n, start) < start:
            continue
        if n is m.first or n is m.chain:
            return True
        seen.add(n)
        if len(seen) > MAX_CYCLE_SEARCH:
            return True
        stack.extend(u.owner for u in n.inputs if u.owner is not None)
    return False


def fuse_gemv_pairs(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """See the module docstring."""
    order = fgraph.toposort()
    if not any(type(n.op) is Gemv for n in order):
        return fgraph
    position = {node: k for k, node in enumerate(order)}
    clients = fgraph.clients()
    taken: set = set()
    unit_of: dict = {}
    for node in order:
        m = _match(node, clients, position, taken)
        if m is not None:
            taken.update(m.members)
            for n in m.members:
                unit_of[n] = m
    if ctx is not None:
        ctx.count("fuse_gemv_pairs", "fuse_gemv_pairs", len(set(map(id, unit_of.values()))))
    if not unit_of:
        return fgraph
    # each match once all the inputs of its fused node are built (rebuild_with_units)
    memo = rebuild_with_units(fgraph, unit_of, lambda m: m.members, lambda m, memo: m.build(memo),
                              "fuse_gemv_pairs")
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs])
