"""Backpropagation through time: the gradient of a ``Scan`` is another ``Scan``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters): ``Scan.grad``
(:mod:`aotsym.graph.ops.scan`) calls :func:`scan_grad`, which the backward walker
(:mod:`aotsym.frontend.grad`) reaches like any op's rule.  The forward loop

    B_k[t + d_k] = f_k(x[t], B_k[t + d_k + tap] for each tap, p)      (states)
    Y_j[t]       = g_j(x[t], B_k[t + d_k + tap] ..., p)                 (mapped outputs)

is differentiated by a loop over reversed time whose step is the *gradient of the forward
step* (``aotsym.grad`` of the step graph with the output cotangents as known gradients), so
the backward loop is an ordinary ``Scan`` and is itself differentiable (second derivatives
through scan).  Its carries:

* per float state ``k`` a window ``C_k`` of ``d_k`` rows: before backward step ``t``, the
  gradient already collected for rows ``t+1 .. t+d_k`` of ``B_k`` from the steps after
  ``t``.  Row ``t + d_k`` (the one step ``t`` wrote) is complete: its gradient is
  ``C_k[d_k-1]`` plus the direct gradient of that output row.  The step's gradients with
  respect to its taps then land in the shifted window: ``C_k'[i] = C_k[i-1] + g_tap`` for
  ``i = d_k + tap`` (``C_k'[0]`` has no earlier part).  After the last backward step the
  window covers rows ``0 .. d_k-1``: the initial values' gradient.
* per float non-sequence the running sum of its gradient.

The forward rows the step needs (sequence rows, state taps) and the output gradients are
the backward loop's sequences, reversed; the gradient with respect to each sequence is a
mapped output, reversed back.  ``truncate_gradient = T > 0`` runs the backward loop over
the last ``T`` steps only: earlier rows of the sequences get zero gradient, and the initial
values get only their direct gradient.

Inputs that no output with a gradient depends on, through any number of steps, get None
(:func:`_connected_inputs`): ``grad`` reports them disconnected, as Theano's connection
pattern makes it do.

A scan with ``until`` (Theano's do-while) ran ``n_run <= n_steps`` steps, known only once it
has run: the backward loop runs over those, ``n_run`` read from the length of the forward
trajectories (as Theano's ``outs[0].shape[0]``), not from the ``n_steps`` input.  Rows of the
sequences past ``n_run`` get zero gradient; the condition itself has none.
"""

from __future__ import annotations

from aotsym.graph.inner import InnerGraph

FLOAT = ("float32", "float64")


def scan_grad(op, node, inputs, output_grads):
    """``op.grad``: see the module docstring.  Returns one gradient (or None) per input."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import zeros_like
    from aotsym.graph.ops.scan import Scan, row_type, rows_type
    from aotsym.graph.ops.subtensor import inc_subtensor

    n_states, n_mapped = op.n_states, op.n_mapped
    inner = op.inner
    depths = op.depths
    pos = op.outer_positions()
    connected = _connected_inputs(op, output_grads)
    if not any(connected):
        return [None] * len(inputs)
    # the full forward trajectories (a scan that keeps only its last rows, or hides states,
    # is recomputed in full; equal nodes intern, so a full scan already there is reused)
    if any(k is not None for k in op.keep) or any(op.hidden):
        full = op.replace(keep=None, hidden=None).make_node(*inputs).outputs
    else:
        full = node.outputs
    buffers = [full[k] for k in range(n_states)]
    n = inputs[0] if not op.has_until else _steps_run(full[0], depths[0] if n_states else 0)

    g_states = []
    for k in range(n_states):
        out_k = op.state_output(k)
        g_states.append(_full_grad(op, node, output_grads, out_k, buffers[k],
                                   op.keep[k]))
    g_mapped = []
    for j in range(n_mapped):
        out_j = op.mapped_output(j)
        g_mapped.append(_full_grad(op, node, output_grads, out_j, full[n_states + j],
                                   op.keep[n_states + j]))

    if op.truncate_gradient > 0:
        nb = m.minimum(n, op.truncate_gradient)
        start = m.sub(n, nb)
    else:
        nb, start = n, None

    def rows(v, offset):
        """Rows ``offset + start .. offset + n - 1`` of ``v``, reversed."""
        lo = offset if start is None else m.add(start, offset)
        hi = m.add(n, offset) if offset else n
        return v[lo:hi][::-1]

    seq_in = [inputs[i] for i in pos["sequences"]]
    nonseq_in = [inputs[i] for i in pos["nonseqs"]]
    taps_at = op.tap_input_positions()
    first_nonseq = op.n_seqs + op.n_tap_inputs
    float_states = [k for k in range(n_states) if op.state_type(k).dtype in FLOAT]
    float_mapped = [j for j in range(n_mapped)
                    if inner.outputs[n_states + j].dtype in FLOAT]
    float_seqs = [s for s in range(op.n_seqs) if inner.inputs[s].dtype in FLOAT]
    float_nonseqs = [p for p in range(op.n_nonseqs)
                     if inner.inputs[first_nonseq + p].dtype in FLOAT]
    if not float_states and not float_mapped:
        return [None] * len(inputs)

    # ---- the backward loop's sequences (reversed) and their placeholders
    b_seqs = []
    x_phs = []
    for s in range(op.n_seqs):
        b_seqs.append(rows(seq_in[s], 0))
        x_phs.append(inner.inputs[s].type(inner.inputs[s].name))
    tap_phs = []
    for k in range(n_states):
        phs = []
        for tap, p in zip(op.state_taps[k], taps_at[k]):
            b_seqs.append(rows(buffers[k], depths[k] + tap))
            phs.append(inner.inputs[p].type(inner.inputs[p].name))
        tap_phs.append(phs)
    gb_phs = {}
    for k in float_states:
        g = rows(g_states[k], depths[k])
        b_seqs.append(g)
        gb_phs[k] = row_type(g.type)(f"grad_h{k}[t]")
    gy_phs = {}
    for j in float_mapped:
        g = rows(g_mapped[j], 0)
        b_seqs.append(g)
        gy_phs[j] = row_type(g.type)(f"grad_y{j}[t]")
    b_phs = x_phs + [p for phs in tap_phs for p in phs] + [gb_phs[k] for k in float_states] \
        + [gy_phs[j] for j in float_mapped]

    # ---- carries: a window per float state, a running sum per float non-sequence
    c_phs = {k: rows_type(op.state_type(k))(f"grad_window{k}") for k in float_states}
    gp_phs = {p: inner.inputs[first_nonseq + p].type(f"grad_p{p}") for p in float_nonseqs}
    nonseq_phs = [inner.inputs[first_nonseq + p].type(inner.inputs[first_nonseq + p].name)
                  for p in range(op.n_nonseqs)]

    # ---- the backward step: the forward step's gradient
    from aotsym.frontend.grad import grad
    from aotsym.graph.ops.join import stack
    fwd_in = x_phs + [p for phs in tap_phs for p in phs] + nonseq_phs
    fwd_out = inner.apply_to(fwd_in)
    known: dict = {}

    def seed(v, g):
        known[v] = m.add(known[v], g) if v in known else g

    for k in float_states:
        seed(fwd_out[k], m.add(c_phs[k][depths[k] - 1], gb_phs[k]))
    for j in float_mapped:
        seed(fwd_out[n_states + j], gy_phs[j])
    wrt = [x_phs[s] for s in float_seqs]
    wrt += [tap_phs[k][i] for k in float_states for i in range(len(op.state_taps[k]))]
    wrt += [nonseq_phs[p] for p in float_nonseqs]
    got = grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
               return_disconnected="zero") if wrt else []
    got = list(got)
    g_x = got[:len(float_seqs)]
    at = len(float_seqs)
    new_windows = []
    for k in float_states:
        d = depths[k]
        by_row = {}
        for tap in op.state_taps[k]:
            by_row[d + tap] = got[at]
            at += 1
        window = c_phs[k]
        new_rows = []
        for i in range(d):
            parts = [] if i == 0 else [window[i - 1]]
            if i in by_row:
                parts.append(by_row[i])
            if not parts:
                parts.append(zeros_like(gb_phs[k]))
            new_rows.append(parts[0] if len(parts) == 1 else m.add(*parts))
        new_windows.append(stack(new_rows))
    new_sums = [m.add(gp_phs[p], got[at + i]) for i, p in enumerate(float_nonseqs)]

    b_inputs = b_phs + [c_phs[k] for k in float_states] + [gp_phs[p] for p in float_nonseqs] \
        + nonseq_phs
    b_outputs = new_windows + new_sums + g_x
    b_op = Scan(InnerGraph(b_inputs, b_outputs), len(b_seqs),
                [[-1]] * (len(float_states) + len(float_nonseqs)), len(float_seqs),
                op.n_nonseqs, name=f"grad_of_{op.name or 'scan_fn'}")
    b_inits = [_as_rows(zeros_like(inputs[pos["inits"][k]])) for k in float_states]
    b_inits += [_as_rows(zeros_like(nonseq_in[p])) for p in float_nonseqs]
    b_outs = b_op.make_node(nb, *b_seqs, *b_inits, *nonseq_in).outputs

    # ---- gradients of the forward inputs
    result: list = [None] * len(inputs)
    for i, k in enumerate(float_states):
        window = b_outs[i][-1]
        if start is not None:
            window = m.mul(window, m.cast(m.eq(start, 0), window.dtype))
        direct = g_states[k][:depths[k]]
        result[pos["inits"][k]] = m.add(window, direct)
    for i, p in enumerate(float_nonseqs):
        result[pos["nonseqs"][p]] = b_outs[len(float_states) + i][-1]
    for i, s in enumerate(float_seqs):
        g = b_outs[len(float_states) + len(float_nonseqs) + i][::-1]
        x = seq_in[s]
        lo = 0 if start is None else start
        result[pos["sequences"][s]] = inc_subtensor(zeros_like(x)[lo:n], g)
    return [g if ok else None for g, ok in zip(result, connected)]


def _steps_run(trajectory, depth):
    """How many steps a do-while scan ran: the rows of its first full trajectory (a state's
    buffer holds ``depth`` initial rows more, a mapped output none)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.shape import shape_i
    rows = shape_i(trajectory, 0)
    return m.sub(rows, depth) if depth else rows


def _as_rows(v):
    """``v`` as a stack of one row (a state's initial rows, depth 1)."""
    return v.dimshuffle("x", *range(v.ndim))


def _full_grad(op, node, output_grads, out_index, full_var, keep):
    """The gradient of a full trajectory ``full_var`` from the gradient of the op's output
    ``out_index`` (None: hidden, no gradient); an output keeping only its last rows has
    them placed at the end of zeros."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import zeros_like
    from aotsym.graph.ops.subtensor import inc_subtensor
    if out_index is None:
        return zeros_like(full_var)
    g = output_grads[out_index]
    if g.dtype != full_var.dtype:
        g = m.cast(g, full_var.dtype)
    if keep is None:
        return g
    from aotsym.graph.ops.shape import shape_i
    lo = m.sub(shape_i(full_var, 0), shape_i(g, 0))
    return inc_subtensor(zeros_like(full_var)[lo:], g)


def _zero_fill(g) -> bool:
    """Is ``g`` the zero gradient the backward walker gives an output nothing read
    (``fill(output, 0)``)?"""
    from aotsym.graph.basic import Constant
    from aotsym.graph.ops.elemwise import DimShuffle
    node = g.owner
    if node is None or getattr(getattr(node.op, "scalar_op", None), "name", None) != "second":
        return False
    value = node.inputs[1]
    while value.owner is not None and isinstance(value.owner.op, DimShuffle):
        value = value.owner.inputs[0]
    return isinstance(value, Constant) and not value.data.any()


def _connected_inputs(op, output_grads) -> list:
    """Per outer input of ``op``, whether an output with a gradient (not the walker's zero
    fill) depends on it, through any number of steps: the others get no gradient (None), so
    ``grad`` says they are disconnected, as Theano's connection pattern does::

        [x, y, z] = scan(lambda x, y, z: [x ** 2, y, x + 1], outputs_info=[x0, y0, z0])
        grad(x.sum(), y0), grad((x + y + z).sum(), z0) -> disconnected
        grad((x + z).sum(), x0) -> connected

    A state's initial rows reach its outer output directly too, unless that output's
    gradient is zero there (the frontend hands the user ``buffer[depth:]``).
    """
    from aotsym.graph.basic import ancestors
    inner = op.inner
    n_states = op.n_states
    index = {id(v): i for i, v in enumerate(inner.inputs)}
    taps_at = op.tap_input_positions()
    state_of = {p: k for k, ps in enumerate(taps_at) for p in ps}

    def reads(o):
        return {index[id(v)] for v in ancestors([inner.outputs[o]]) if id(v) in index}

    def wanted(out):
        return out is not None and not _zero_fill(output_grads[out])

    direct = {k for k in range(n_states) if wanted(op.state_output(k))}
    read = set()
    for j in range(op.n_mapped):
        if wanted(op.mapped_output(j)):
            read |= reads(n_states + j)
    trajectories = set()
    todo = direct | {state_of[i] for i in read if i in state_of}
    while todo:   # states whose rows a needed step output reads, transitively
        trajectories |= todo
        for k in todo:
            read |= reads(k)
        todo = {state_of[i] for i in read if i in state_of} - trajectories
    pos = op.outer_positions()
    result = [False] * (1 + op.n_seqs + n_states + op.n_nonseqs)
    for s, i in enumerate(pos["sequences"]):
        result[i] = s in read
    for k, i in enumerate(pos["inits"]):
        result[i] = any(p in read for p in taps_at[k]) or (
            k in direct and not _skips_rows(output_grads[op.state_output(k)],
                                            op.depths[k]))
    first = op.n_seqs + op.n_tap_inputs
    for p, i in enumerate(pos["nonseqs"]):
        result[i] = first + p in read
    return result


def _skips_rows(g, depth) -> bool:
    """Is ``g`` zero on its first ``depth`` rows by construction: ``inc_subtensor(
    fill(v, 0)[k:], y)`` with ``k >= depth`` (the gradient of ``v[k:]``)?"""
    from aotsym.graph.ops.subtensor import IncSubtensor
    node = g.owner
    if node is None or type(node.op) is not IncSubtensor or len(node.op.idx_list) != 1:
        return False
    entry = node.op.idx_list[0]
    return (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], int)
            and entry[0] >= depth and entry[1] is None and entry[2] is None
            and _zero_fill(node.inputs[0]))
