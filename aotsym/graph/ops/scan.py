"""``Scan``: a loop whose body is a closed inner graph (Theano's ``theano.scan_module``).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The frontend
(:mod:`aotsym.frontend.scan`, ``aotsym.scan``) traces the user's step function into one
:class:`~aotsym.graph.inner.InnerGraph` and applies a :class:`Scan` holding it; the optimizer
enters the step like any inner graph (:mod:`aotsym.optimizer.inner`) and rewrites the loop
itself (:mod:`aotsym.optimizer.scan`); the lowering makes the node a structured LOOP step
(``structured_kind``) whose one body is the step, described by :meth:`Scan.structured_params`.

Layout (the contract of the C loop; ``S`` sequences, ``M`` states, ``N`` mapped outputs,
``P`` non-sequences)::

    outer inputs   [n_steps, seq_0 .. seq_{S-1}, init_0 .. init_{M-1}, nonseq_0 .. nonseq_{P-1}]
    inner inputs   [seq rows (S)] + [state taps: for each state k, one per tap of
                    state_taps[k], in that order] + [nonseqs (P)]
    inner outputs  [new state (M)] + [mapped row (N)] + [until condition, if has_until]
    outer outputs  [state buffer (M)] + [mapped output (N)]

* ``n_steps``: an int64 scalar, >= 0 (a negative value is a run-time error).
* sequence ``s``: an array of at least ``n_steps`` rows; step ``t`` reads row ``t`` (a
  shorter sequence is a run-time error naming the user's ``scan`` line).  Taps and
  ``go_backwards`` are the frontend's business: it gives one outer sequence per tap, already
  sliced (and reversed), so every sequence is read at row ``t``.
* state ``k`` with taps ``state_taps[k]`` (strictly increasing negative ints) and depth
  ``d_k = -state_taps[k][0]``: ``init_k`` has exactly ``d_k`` rows (the ``d_k`` values before
  step 0, oldest first).  The loop works on a buffer ``B_k`` of ``d_k + n_steps`` rows whose
  first ``d_k`` rows are ``init_k``; step ``t`` reads ``B_k[t + d_k + tap]`` for each tap and
  writes its new state (inner output ``k``) at row ``t + d_k``.  Outer output ``k`` is
  ``B_k`` (rows ``0 .. d_k + n_run - 1``, initial rows included: the frontend slices
  ``[d_k:]`` for the user).  Only the last ``d_k`` rows are ever read again, so a ring of
  ``d_k`` rows suffices inside the loop.
* mapped output ``j``: step ``t`` writes inner output ``M + j`` at row ``t``; outer output
  ``M + j`` has ``n_run`` rows.
* non-sequence ``p``: the same value at every step.
* ``has_until``: the last inner output is a scalar condition (Theano's do-while): after step
  ``t`` has written its outputs, a true condition ends the loop, so ``n_run = t + 1``;
  without it (or while it stays false) ``n_run = n_steps``.
* ``keep[o]`` (per outer output ``o``; None = all rows): the output holds only its last
  ``min(keep[o], rows)`` rows, oldest first (set by the rewrite ``scan_keep_last_rows`` when
  only the last rows are read; the step still sees every tap).

Types: inner input types are the declared ones; an outer sequence / init / non-sequence
must have the inner type's dtype and ndim (one more for sequences and inits) and be at
least as broadcastable where the inner type is broadcastable.  Inner state outputs have the
dtype and ndim of their state and are at least as broadcastable.  Outer output ``k`` has
type ``(dtype, (False,) + state broadcastable)``.

``perform`` is the reference loop; ``grad`` is backpropagation through time built as a
second ``Scan`` over reversed time (so it is itself differentiable); ``infer_shape`` and
``prune_outputs`` follow the layout; :meth:`Scan.structured_params` states it as plain data.
"""

from __future__ import annotations

import collections

import numpy as np

from aotsym.graph.basic import Variable, apply, trace_of
from aotsym.graph.inner import HasInnerGraphs, InnerGraph
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType

LOOP = "loop"  # == aotsym.optimizer.program.LOOP (the graph layer does not import it)


def fits(value_type, slot_type) -> bool:
    """Can a value of ``value_type`` stand where ``slot_type`` is declared: same dtype and
    ndim, and broadcastable wherever ``slot_type`` is."""
    return (value_type.dtype == slot_type.dtype and value_type.ndim == slot_type.ndim
            and all(vb or not sb for vb, sb in zip(value_type.broadcastable,
                                                 slot_type.broadcastable)))


def stands_in(v, outputs) -> bool:
    """Can a fresh variable of ``v``'s type (a loop input) replace ``v`` in the graph of
    ``outputs``, every node still building and the outputs' types unchanged?  Not always: a
    Reshape's output type depends on its shape's value (``reshape(x, (n, 1))`` is
    broadcastable in its last dimension because that 1 is a constant), so the frontend's
    captures and the hoisting of loop invariants move such a value's inputs into the loop's
    inputs, not the value.  Only integer scalars and vectors (shapes) take part in type
    inference.  Every value computed from ``v`` must keep its type, not only the outputs:
    an addition of a column and a row broadcasts because the column's type says so."""
    if str(getattr(v.type, "dtype", "float"))[0] not in "iub" or v.ndim > 1:
        return True
    from aotsym.graph.basic import clone_replace, toposort
    reached, downstream = {id(v)}, []
    for node in toposort(list(outputs)):
        if any(id(u) in reached for u in node.inputs):
            reached.update(id(o) for o in node.outputs)
            downstream += node.outputs
    try:
        new = clone_replace(downstream, {v: v.type()})
    except Exception:   # a node that cannot be built on it: keep the value (always valid)
        return False
    return all(a.type == b.type for a, b in zip(new, downstream))


def row_type(t: TensorType) -> TensorType:
    """The type of one row of ``t`` (its first dimension dropped)."""
    return TensorType(t.dtype, t.broadcastable[1:])


def rows_type(t: TensorType) -> TensorType:
    """The type of a stack of rows of type ``t``."""
    return TensorType(t.dtype, (False,) + tuple(t.broadcastable))


class Scan(HasInnerGraphs, Op):
    """A loop over one step graph; see the module docstring for the layout.

    ``Scan(inner, n_seqs, state_taps, n_mapped, n_nonseqs, has_until=False, keep=None,
    truncate_gradient=-1, name=None)``.  ``name`` and ``labels`` (what to call each outer
    input in error messages) are labels beside the op and take no part in its identity.
    """

    __props__ = ("inner", "n_seqs", "state_taps", "n_mapped", "n_nonseqs", "has_until",
                 "keep", "hidden", "truncate_gradient")
    structured_kind = LOOP

    def __init__(self, inner: InnerGraph, n_seqs, state_taps, n_mapped, n_nonseqs,
                 has_until=False, keep=None, truncate_gradient=-1, name=None, labels=None,
                 hidden=None):
        self.inner = inner
        self.n_seqs = int(n_seqs)
        self.state_taps = tuple(tuple(int(t) for t in taps) for taps in state_taps)
        self.n_mapped = int(n_mapped)
        self.n_nonseqs = int(n_nonseqs)
        self.has_until = bool(has_until)
        n_out = len(self.state_taps) + self.n_mapped
        self.keep = (None,) * n_out if keep is None else tuple(
            None if k is None else int(k) for k in keep)
        self.hidden = (False,) * len(self.state_taps) if hidden is None else tuple(
            bool(h) for h in hidden)
        self.truncate_gradient = int(truncate_gradient)
        self.name = name
        self.labels = labels
        self.nout = n_out - sum(self.hidden)
        self._check_layout()

    # ------------------------------------------------------------------ layout
    @property
    def n_states(self) -> int:
        return len(self.state_taps)

    @property
    def depths(self) -> tuple:
        return tuple(-taps[0] for taps in self.state_taps)

    def tap_input_positions(self) -> list:
        """Per state, the inner input index of each of its taps."""
        pos, result = self.n_seqs, []
        for taps in self.state_taps:
            result.append(list(range(pos, pos + len(taps))))
            pos += len(taps)
        return result

    @property
    def n_tap_inputs(self) -> int:
        return sum(len(t) for t in self.state_taps)

    def outer_positions(self) -> dict:
        """``{"sequences": [...], "inits": [...], "nonseqs": [...]}``: outer input indices."""
        s0, i0 = 1, 1 + self.n_seqs
        n0 = i0 + self.n_states
        return {"sequences": list(range(s0, i0)), "inits": list(range(i0, n0)),
                "nonseqs": list(range(n0, n0 + self.n_nonseqs))}

    def state_output(self, k):
        """The outer output index of state ``k``'s buffer; None for a hidden state (internal:
        read by another state's step, not by the outer graph)."""
        if self.hidden[k]:
            return None
        return k - sum(self.hidden[:k])

    def mapped_output(self, j) -> int:
        """The outer output index of mapped output ``j``."""
        return self.n_states - sum(self.hidden) + j

    def state_type(self, k) -> TensorType:
        return self.inner.inputs[self.tap_input_positions()[k][0]].type

    def _check_layout(self):
        inner = self.inner
        n_in = self.n_seqs + self.n_tap_inputs + self.n_nonseqs
        if len(inner.inputs) != n_in:
            raise ValueError(f"Scan: the step has {len(inner.inputs)} inputs, the layout "
                             f"says {n_in}")
        n_out = self.n_states + self.n_mapped + int(self.has_until)
        if len(inner.outputs) != n_out:
            raise ValueError(f"Scan: the step has {len(inner.outputs)} outputs, the layout "
                             f"says {n_out}")
        if len(self.hidden) != self.n_states:
            raise ValueError(f"Scan: hidden {self.hidden} must give one flag per state")
        if len(self.keep) != self.n_states + self.n_mapped or any(
                k is not None and k < 1 for k in self.keep):
            raise ValueError(f"Scan: keep {self.keep} must give None or a count >= 1 per "
                             "output")
        for k, (taps, positions) in enumerate(zip(self.state_taps,
                                                  self.tap_input_positions())):
            if not taps or any(t >= 0 for t in taps) or list(taps) != sorted(set(taps)):
                raise ValueError(f"Scan: state {k} has taps {taps}; they must be strictly "
                                 "increasing negative integers")
            t0 = inner.inputs[positions[0]].type
            if any(inner.inputs[p].type != t0 for p in positions):
                raise TypeError(f"Scan: the taps of state {k} have different types")
            out = inner.outputs[k].type
            if not fits(out, t0):
                raise TypeError(f"Scan: the step's new value for state {k} is {out.describe()}"
                                f", but the state is {t0.describe()}")
        if self.has_until and inner.outputs[-1].ndim != 0:
            raise TypeError("Scan: the until condition must be a scalar")

    # ------------------------------------------------------------------ inner graphs
    @property
    def inner_graphs(self) -> tuple:
        return (self.inner,)

    def with_inner_graphs(self, graphs) -> "Scan":
        (inner,) = graphs
        if inner.input_types != self.inner.input_types or any(
                not fits(a, b) for a, b in zip(inner.output_types, self.inner.output_types)):
            raise TypeError(f"{self}.with_inner_graphs: the new step's types differ")
        return self.replace(inner=inner)

    def replace(self, **changes) -> "Scan":
        """A copy of this op with some constructor arguments changed."""
        args = dict(inner=self.inner, n_seqs=self.n_seqs, state_taps=self.state_taps,
                    n_mapped=self.n_mapped, n_nonseqs=self.n_nonseqs,
                    has_until=self.has_until, keep=self.keep,
                    truncate_gradient=self.truncate_gradient, name=self.name,
                    labels=self.labels, hidden=self.hidden)
        args.update(changes)
        return Scan(**args)

    # ------------------------------------------------------------------ building
    def __str__(self):
        label = self.name or "scan_fn"
        extra = ""
        if any(k is not None for k in self.keep):
            extra = ", keep=" + ",".join("all" if k is None else str(k) for k in self.keep)
        if self.has_until:
            extra += ", until"
        return f"Scan{{{label}{extra}}}"

    __repr__ = __str__

    def make_node_inputs(self, *args) -> tuple:
        from aotsym.graph.convert import as_tensor_variable
        n_in = 1 + self.n_seqs + self.n_states + self.n_nonseqs
        if len(args) != n_in:
            raise TypeError(f"{self}: called with {len(args)} inputs, takes {n_in}")
        args = [as_tensor_variable(a) for a in args]
        if args[0].ndim != 0 or args[0].dtype[0] not in "iu":
            raise TypeError(f"{self}: n_steps must be an integer scalar, got "
                            f"{args[0].type.describe()}")
        if args[0].dtype != "int64":
            from aotsym.graph.ops.math import cast
            args[0] = cast(args[0], "int64")
        pos = self.outer_positions()
        inner_in = self.inner.inputs
        taps_at = self.tap_input_positions()
        for s, i in enumerate(pos["sequences"]):
            self._check_outer(args[i], inner_in[s].type, f"sequence {s}", True)
        for k, i in enumerate(pos["inits"]):
            self._check_outer(args[i], inner_in[taps_at[k][0]].type,
                              f"initial value of state {k}", True)
        first = self.n_seqs + self.n_tap_inputs
        for p, i in enumerate(pos["nonseqs"]):
            self._check_outer(args[i], inner_in[first + p].type, f"non-sequence {p}", False)
        return tuple(args)

    def _check_outer(self, v, inner_type, what, rows):
        """``v`` may feed ``inner_type`` (one row of it, when ``rows``): see ``fits``."""
        got = row_type(v.type) if rows and v.ndim else v.type
        if (rows and v.ndim != inner_type.ndim + 1) or not fits(got, inner_type):
            want = rows_type(inner_type) if rows else inner_type
            raise TypeError(f"{self}: the {what} is {v.type.describe()}, but the step was "
                            f"built for {want.describe()}")

    def output_types(self, inputs):
        types = [rows_type(self.state_type(k)) for k in range(self.n_states)
                 if not self.hidden[k]]
        types += [rows_type(self.inner.outputs[self.n_states + j].type)
                  for j in range(self.n_mapped)]
        return types

    # ------------------------------------------------------------------ semantics
    def _label(self, kind, k):
        labels = self.labels or {}
        got = labels.get((kind, k))
        return f"{kind} {k}" + (f" ({got})" if got else "")

    def perform(self, node, inputs):
        n_steps = int(inputs[0])
        if n_steps < 0:
            raise ValueError(f"scan: n_steps is {n_steps}; it must be >= 0")
        pos = self.outer_positions()
        seqs = [inputs[i] for i in pos["sequences"]]
        inits = [inputs[i] for i in pos["inits"]]
        nonseqs = [inputs[i] for i in pos["nonseqs"]]
        for s, x in enumerate(seqs):
            if x.shape[0] < n_steps:
                raise ValueError(
                    f"scan: {self._label('sequence', s)} has {x.shape[0]} rows, fewer than "
                    f"the {n_steps} steps to run (n_steps); pass a longer sequence or a "
                    "smaller n_steps")
        depths = self.depths
        for k, (x, d) in enumerate(zip(inits, depths)):
            if x.shape[0] != d:
                raise ValueError(
                    f"scan: the initial value of {self._label('state', k)} has {x.shape[0]} "
                    f"rows; its taps {list(self.state_taps[k])} need {d}")
        # per state: its rows so far (a deque of bounded length when only the last are kept)
        bufs = []
        for k, (x, d) in enumerate(zip(inits, depths)):
            keep = self.keep[k]
            maxlen = None if keep is None else max(d, keep)
            bufs.append(collections.deque((x[i] for i in range(d)), maxlen=maxlen))
        mapped = [collections.deque(maxlen=self.keep[self.n_states + j])
                  for j in range(self.n_mapped)]
        state_shapes = [x.shape[1:] for x in inits]
        mapped_shapes = [None] * self.n_mapped
        inner = self.inner
        for t in range(n_steps):
            args = [x[t] for x in seqs]
            for k, taps in enumerate(self.state_taps):
                buf = bufs[k]
                for tap in taps:   # row t + d + tap of B_k: counted from the buffer's end
                    args.append(buf[len(buf) + tap])
            args += nonseqs
            outs = inner.evaluate(args)
            for k in range(self.n_states):
                value = np.array(outs[k], dtype=self.state_type(k).dtype)
                if value.shape != state_shapes[k]:
                    raise ValueError(
                        f"scan: at step {t}, the step function returned shape {value.shape} "
                        f"for {self._label('state', k)}, whose shape is {state_shapes[k]} "
                        "(the shape of its initial value); a state keeps its shape across "
                        "steps")
                bufs[k].append(value)
            for j in range(self.n_mapped):
                value = np.array(outs[self.n_states + j])
                if mapped_shapes[j] is None:
                    mapped_shapes[j] = value.shape
                elif value.shape != mapped_shapes[j]:
                    raise ValueError(
                        f"scan: at step {t}, the step function returned shape {value.shape} "
                        f"for {self._label('output', self.n_states + j)}, shape "
                        f"{mapped_shapes[j]} at step 0; an output has one shape at every "
                        "step")
                mapped[j].append(value)
            if self.has_until and bool(np.asarray(outs[-1])):
                break  # do-while: this step's outputs are kept
        results = []
        for k in range(self.n_states):
            if self.hidden[k]:
                continue
            rows = list(bufs[k])
            keep = self.keep[k]
            if keep is not None:
                rows = rows[-keep:]
            results.append(_stack(rows, state_shapes[k], node.outputs[
                self.state_output(k)].dtype))
        for j in range(self.n_mapped):
            out = node.outputs[self.mapped_output(j)]
            shape = mapped_shapes[j]
            if shape is None:
                shape = tuple(1 if b else 0 for b in out.broadcastable[1:])
            results.append(_stack(list(mapped[j]), shape, out.dtype))
        return results

    def infer_shape(self, node, input_shapes):
        if self.has_until:
            return None
        from aotsym.graph.basic import ancestors
        from aotsym.graph.ops import math as m
        n = node.inputs[0]
        pos = self.outer_positions()
        inner_shapes = [tuple(input_shapes[i][1:]) for i in pos["sequences"]]
        for k, i in enumerate(pos["inits"]):
            inner_shapes += [tuple(input_shapes[i][1:])] * len(self.state_taps[k])
        inner_shapes += [tuple(input_shapes[i]) for i in pos["nonseqs"]]
        got = self.inner.infer_shape(inner_shapes)
        if got is None:
            return None
        placeholders = {id(v) for v in self.inner.inputs}
        for shape in got[self.n_states:self.n_states + self.n_mapped]:
            entries = [e for e in shape if isinstance(e, Variable)]
            if entries and any(id(a) in placeholders for a in ancestors(entries)):
                return None  # the shape depends on values inside the step
        result = []
        for k, i in enumerate(pos["inits"]):
            if self.hidden[k]:
                continue
            rows = m.add(n, self.depths[k])
            result.append((self._kept(rows, self.keep[k]),) + tuple(input_shapes[i][1:]))
        for j in range(self.n_mapped):
            rows = self._kept(n, self.keep[self.n_states + j])
            # (a loop of no step has no row to take a shape from: its rows are empty, of
            # length 1 where broadcastable and 0 elsewhere, as perform and the C loop make
            # them)
            empty = node.outputs[self.mapped_output(j)].broadcastable[1:]
            row = tuple(m.switch(m.gt(n, np.int64(0)), e, np.int64(0))
                        if not b and isinstance(e, (Variable, int, np.integer)) else e
                        for e, b in zip(got[self.n_states + j], empty))
            result.append((rows,) + row)
        return result

    @staticmethod
    def _kept(rows, keep):
        if keep is None:
            return rows
        from aotsym.graph.ops import math as m
        return m.minimum(rows, np.int64(keep))

    def prune_outputs(self, node, used):
        """Drop mapped outputs nobody reads, states that neither an outer reader nor another
        kept state's step reads (a state only another state reads stays, *hidden*: internal
        state with no outer output), and the sequences and non-sequences the remaining step
        no longer reads::

            before: Scan{h: tanh(h*w + x), y: h*2}(n, x, h0, w) with only .0 read
            after:  Scan{h: tanh(h*w + x)}(n, x, h0, w)
        """
        from aotsym.graph.basic import ancestors
        n_states = self.n_states
        inner = self.inner
        taps_at = self.tap_input_positions()
        visible = {k for k in range(n_states) if not self.hidden[k]
                   and self.state_output(k) in used}
        kept_mapped = [j for j in range(self.n_mapped) if self.mapped_output(j) in used]
        needed = set(visible)
        while True:   # a state is needed when a needed step output (or until) reads it
            outs = [inner.outputs[k] for k in sorted(needed)]
            outs += [inner.outputs[n_states + j] for j in kept_mapped]
            if self.has_until:
                outs.append(inner.outputs[-1])
            reached = {id(v) for v in ancestors(outs)}
            more = {k for k in range(n_states) if k not in needed
                    and any(id(inner.inputs[p]) in reached for p in taps_at[k])}
            if not more:
                break
            needed |= more
        states = sorted(needed)
        first_nonseq = self.n_seqs + self.n_tap_inputs
        seq_keep = [s for s in range(self.n_seqs) if id(inner.inputs[s]) in reached]
        nonseq_keep = [p for p in range(self.n_nonseqs)
                       if id(inner.inputs[first_nonseq + p]) in reached]
        hidden = [k not in visible for k in states]
        if (len(states), len(seq_keep), len(nonseq_keep), len(kept_mapped)) == (
                n_states, self.n_seqs, self.n_nonseqs, self.n_mapped) and \
                tuple(hidden) == self.hidden:
            return None
        new_inputs = [inner.inputs[s] for s in seq_keep]
        for k in states:
            new_inputs += [inner.inputs[p] for p in taps_at[k]]
        new_inputs += [inner.inputs[first_nonseq + p] for p in nonseq_keep]
        new_inner = InnerGraph(new_inputs, outs, fresh_inputs=False)
        labels = None
        if self.labels:
            labels = {}
            for kind, old in (("sequence", seq_keep), ("state", states)):
                for new_k, k in enumerate(old):
                    if (kind, k) in self.labels:
                        labels[(kind, new_k)] = self.labels[(kind, k)]
        op = Scan(new_inner, len(seq_keep), [self.state_taps[k] for k in states],
                  len(kept_mapped), len(nonseq_keep), self.has_until,
                  [self.keep[k] for k in states] + [self.keep[n_states + j]
                                                   for j in kept_mapped],
                  self.truncate_gradient, self.name, labels, hidden)
        pos = self.outer_positions()
        outer = [node.inputs[0]] + [node.inputs[pos["sequences"][s]] for s in seq_keep]
        outer += [node.inputs[pos["inits"][k]] for k in states]
        outer += [node.inputs[pos["nonseqs"][p]] for p in nonseq_keep]
        return apply(op, outer, trace=trace_of(node))

    # ------------------------------------------------------------------ lowering
    def structured_params(self, node) -> dict:
        """The loop's layout as plain data (``step.params`` of the LOOP step).

        ``n_steps``: outer input index (0).  ``sequences``: per sequence ``{"input": outer
        index, "inner_input": inner index}`` (row ``t`` feeds step ``t``).  ``states``: per
        state ``{"input": outer index of its initial rows, "output": outer output index,
        "taps": [...], "depth": d, "inner_inputs": [inner index per tap],
        "inner_output": inner output index, "keep": None | K}``: step ``t`` reads row
        ``t + depth + tap`` of the buffer (rows ``0..depth-1`` are the initial ones) and
        writes its new state at row ``t + depth``.  ``mapped``: per mapped output
        ``{"output", "inner_output", "keep"}``: step ``t`` writes row ``t``.
        ``non_sequences``: per non-sequence ``{"input", "inner_input"}``.  ``until``: the
        inner output index of the stop condition (checked after each step's writes) or
        None.  ``truncate_gradient``: the gradient's option (nothing for the loop).
        """
        pos = self.outer_positions()
        taps_at = self.tap_input_positions()
        first_nonseq = self.n_seqs + self.n_tap_inputs
        return {
            "n_steps": 0,
            "sequences": [{"input": i, "inner_input": s}
                          for s, i in enumerate(pos["sequences"])],
            "states": [{"input": pos["inits"][k], "output": self.state_output(k),
                        "taps": list(self.state_taps[k]), "depth": self.depths[k],
                        "inner_inputs": list(taps_at[k]), "inner_output": k,
                        "keep": self.keep[k]} for k in range(self.n_states)],
            "mapped": [{"output": self.mapped_output(j), "inner_output": self.n_states + j,
                        "keep": self.keep[self.n_states + j]} for j in range(self.n_mapped)],
            "non_sequences": [{"input": i, "inner_input": first_nonseq + p}
                              for p, i in enumerate(pos["nonseqs"])],
            "until": len(self.inner.outputs) - 1 if self.has_until else None,
            "truncate_gradient": self.truncate_gradient,
        }

    # ------------------------------------------------------------------ gradient
    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.scan_grad import scan_grad
        return scan_grad(self, node, inputs, output_grads)


def _stack(rows, row_shape, dtype):
    if not rows:
        return np.zeros((0,) + tuple(row_shape), dtype=dtype)
    return np.stack(rows).astype(dtype, copy=False)
