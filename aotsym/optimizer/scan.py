"""Scan rewrites: what a loop computes once, what it keeps, what it drops.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Stage ``scan``
(:func:`optimize_scans`, listed in :mod:`aotsym.optimizer.pipeline` after ``canonicalize``)
runs, in order:

* ``scan_hoist_invariants`` (a local rule, :data:`SCAN_RULES`): step work that reads only
  non-sequences and constants runs once, before the loop;
* ``scan_push_out_sequences`` (same rule set): step work on the current rows of sequences
  runs for every step at once before the loop (a fused elementwise loop, one matrix product),
  fed to the step as a new sequence; ``scan_mapped_sequences``: a mapped output that is such
  a row is the sequence itself, no loop;
* ``scan_drop_unused_inputs`` (same rule set): sequences and non-sequences the step no
  longer reads leave the node;
* ``scan_merge`` (a global pass): loops over the same steps that do not read each other
  become one loop;
* ``scan_keep_last_rows`` (a global pass): an output of which only the last rows are read
  keeps only those (``Scan.keep``), so ``result[-1]`` over 10^5 steps holds O(1) rows.

Unused outputs and carries are dropped by the generic ``prune_outputs`` stage through
``Scan.prune_outputs``; the step graph itself is optimized like any inner graph
(:mod:`aotsym.optimizer.inner`).

``scan_keep_last_rows`` must never run on a graph that ``grad`` will see: the gradient
needs every step's state.  Optimizer stages only run on a function's graph after the user
has taken every gradient, so this holds; and ``Scan.grad`` of a node with ``keep`` set
recomputes the full trajectories anyway (see :mod:`aotsym.graph.ops.scan_grad`).
"""

from __future__ import annotations

import time

from aotsym.graph.basic import Constant, apply, clone_replace, toposort, trace_of
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import InnerGraph
from aotsym.graph.ops.blas import Dot
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.elemwise import DimShuffle, Elemwise, dimshuffle
from aotsym.graph.ops.scan import Scan, fits, row_type, stands_in
from aotsym.graph.ops.shape import specify_shape
from aotsym.graph.ops.subtensor import Subtensor
from aotsym.optimizer.engine import rewrite_graph
from aotsym.optimizer.pattern import RuleSet, rule


def _nonseq_positions(op):
    first = op.n_seqs + op.n_tap_inputs
    return list(range(first, first + op.n_nonseqs))


def _with_nonseqs(op, node, keep_idx, new_phs, new_outer, outputs):
    """The node of ``op`` whose non-sequences are the old ones at ``keep_idx`` followed by
    ``new_phs`` (inner placeholders) fed by ``new_outer``, and whose step computes
    ``outputs`` (built on those placeholders)."""
    inner = op.inner
    first = op.n_seqs + op.n_tap_inputs
    inputs = list(inner.inputs[:first]) + [inner.inputs[first + p] for p in keep_idx]
    inputs += list(new_phs)
    step = InnerGraph(inputs, outputs, fresh_inputs=False)
    new_op = op.replace(inner=step, n_nonseqs=len(keep_idx) + len(new_phs))
    pos = op.outer_positions()
    outer = list(node.inputs[:pos["nonseqs"][0]]) if op.n_nonseqs else list(node.inputs)
    outer += [node.inputs[pos["nonseqs"][p]] for p in keep_idx] + list(new_outer)
    return apply(new_op, outer, trace=trace_of(node))


@rule("scan_hoist_invariants", root=Scan)
def scan_hoist_invariants(node):
    """Step work that reads only non-sequences and constants is computed once, before the
    loop, and fed to the step as a new non-sequence::

        before: Scan{h: tanh(dot(h, W.T * 2) + x)}(n, x, h0, W)
        after:  Scan{h: tanh(dot(h, w2) + x)}(n, x, h0, W.T * 2)      (w2: the new input)
    """
    op = node.op
    inner = op.inner
    nonseq_phs = {id(inner.inputs[p]): k for k, p in enumerate(_nonseq_positions(op))}
    invariant: set = set(nonseq_phs)
    for n in inner.nodes():
        if all(id(v) in invariant or isinstance(v, Constant) for v in n.inputs):
            invariant.update(id(o) for o in n.outputs)
    frontier, seen = [], set()

    def consider(v):
        if id(v) in invariant and v.owner is not None and id(v) not in seen:
            seen.add(id(v))
            if not stands_in(v, inner.outputs):   # e.g. a reshape's shape: its inputs
                for u in v.owner.inputs:
                    consider(u)
                return
            frontier.append(v)

    for n in inner.nodes():
        if not all(id(o) in invariant for o in n.outputs):
            for v in n.inputs:
                consider(v)
    for v in inner.outputs:
        consider(v)
    if not frontier:
        return None
    outer_of = {inner.inputs[p]: node.inputs[op.outer_positions()["nonseqs"][k]]
                for k, p in enumerate(_nonseq_positions(op))}
    outer_vals = clone_replace(frontier, outer_of)
    new_phs = [v.type(v.name) for v in frontier]
    outputs = clone_replace(inner.outputs, dict(zip(frontier, new_phs)))
    keep_idx = _still_read(op, outputs)
    return _with_nonseqs(op, node, keep_idx, new_phs, outer_vals, outputs).outputs


def _still_read(op, outputs) -> list:
    from aotsym.graph.basic import ancestors
    reached = {id(v) for v in ancestors(outputs)}
    return [k for k, p in enumerate(_nonseq_positions(op))
            if id(op.inner.inputs[p]) in reached]


@rule("scan_drop_unused_inputs", root=Scan)
def scan_drop_unused_inputs(node):
    """Sequences and non-sequences the step does not read leave the node::

        before: Scan{y: x_t * 2}(n, x, z, W)        (z, W: read by nothing in the step)
        after:  Scan{y: x_t * 2}(n, x)
    """
    op = node.op
    used = set(range(len(node.outputs)))
    pruned = op.prune_outputs(node, used)   # also drops unread sequences / non-sequences
    if pruned is None or len(pruned.inputs) == len(node.inputs):
        return None
    return pruned.outputs


# ---------------------------------------------------------------------------- push out


def _vectorized(n, ins):
    """The op of inner node ``n`` applied to all steps at once: ``ins`` are, per input of
    ``n``, ``(outer value, stacked)`` — stacked values have the steps as a new first
    dimension, the others are the same at every step.  None when ``n`` is not a kind of
    work that stacks (elementwise, dimshuffles, vector-matrix products)."""
    op = n.op
    if isinstance(op, (Elemwise, Composite)):
        args = [v if stacked else dimshuffle(v, ["x"] + list(range(v.ndim)))
                for v, stacked in ins]
        return op.make_node(*args).outputs
    if isinstance(op, DimShuffle):
        (v, stacked), = ins
        order = [0] + [d if d == "x" else d + 1 for d in op.new_order]
        return [dimshuffle(v, order)]
    if isinstance(op, Dot):
        (a, sa), (b, sb) = ins
        if sa and not sb and a.ndim == 2 and b.ndim == 2:      # dot(x_t, W) for every t
            return [Dot()(a, b)]
        if sb and not sa and b.ndim == 2 and a.ndim == 2:      # dot(W, x_t) for every t
            return [Dot()(b, dimshuffle(a, [1, 0]))]
    return None


@rule("scan_push_out_sequences", root=Scan)
def scan_push_out_sequences(node):
    """Step work that reads only the current rows of sequences (and loop invariants) is done
    for every step at once, before the loop, and fed to the step as a new sequence: an
    elementwise function of ``x_t`` becomes one fused loop over ``x``, an input projection
    ``dot(x_t, W)`` one matrix product::

        before: Scan{h: tanh(dot(h, U) + dot(x_t, W) + b)}(n, x, h0, U, W, b)
        after:  Scan{h: tanh(dot(h, U) + p_t)}(n, dot(x[:n], W) + b, h0, U)   (p: new sequence)

    A step whose mapped output is then a sequence row itself is no loop any more
    (``scan_mapped_sequences``).  Values are the same step by step (a product's sum may be
    ordered differently by the BLAS, as between any two gemm calls).
    """
    op = node.op
    if op.has_until:      # the steps actually run are not known before the loop
        return None
    inner = op.inner
    n_steps = node.inputs[0]
    pos = op.outer_positions()
    outer_of: dict = {}   # id(inner variable) -> (outer value, stacked)
    for s in range(op.n_seqs):
        outer_of[id(inner.inputs[s])] = (node.inputs[pos["sequences"][s]][:n_steps], True)
    for k, p in enumerate(_nonseq_positions(op)):
        outer_of[id(inner.inputs[p])] = (node.inputs[pos["nonseqs"][k]], False)
    pushed = set()        # inner values computed outside, stacked
    for n in inner.nodes():
        if not all(id(v) in outer_of or isinstance(v, Constant) for v in n.inputs):
            continue
        ins = [outer_of.get(id(v), (v, False)) for v in n.inputs]
        if not any(stacked for _, stacked in ins):
            continue      # loop-invariant: scan_hoist_invariants' work
        outs = _vectorized(n, ins)
        if outs is None:
            continue
        for o, new in zip(n.outputs, outs):
            if new.ndim != o.ndim + 1 or new.dtype != o.dtype or not fits(row_type(new.type),
                                                                         o.type):
                break
        else:
            for o, new in zip(n.outputs, outs):
                outer_of[id(o)] = (new, True)
                pushed.add(id(o))
    # the frontier: pushed values still read by work left in the loop, or step outputs
    frontier, seen = [], set()
    for n in inner.nodes():
        if all(id(o) in pushed for o in n.outputs):
            continue
        for v in n.inputs:
            if id(v) in pushed and id(v) not in seen:
                seen.add(id(v))
                frontier.append(v)
    for v in inner.outputs:
        if id(v) in pushed and id(v) not in seen:
            seen.add(id(v))
            frontier.append(v)
    if not frontier:
        return None
    new_phs = [v.type(v.name) for v in frontier]
    outputs = clone_replace(inner.outputs, dict(zip(frontier, new_phs)))
    inputs = list(inner.inputs[:op.n_seqs]) + new_phs + list(inner.inputs[op.n_seqs:])
    step = InnerGraph(inputs, outputs, fresh_inputs=False)
    new_op = op.replace(inner=step, n_seqs=op.n_seqs + len(new_phs))
    outer = [n_steps] + [node.inputs[i] for i in pos["sequences"]]
    outer += [outer_of[id(v)][0] for v in frontier]
    outer += [node.inputs[i] for i in pos["inits"] + pos["nonseqs"]]
    return apply(new_op, outer, trace=trace_of(node)).outputs


@rule("scan_mapped_sequences", root=Scan)
def scan_mapped_sequences(node):
    """A mapped output that is a sequence's current row is that sequence, no loop needed::

        before: Scan{y_t = p_t}(n, p)          after: specify_shape(p[:n], (n, ...))

    (the shape check keeps the loop's: a sequence with fewer than ``n`` rows is an error.)
    """
    op = node.op
    if op.has_until:
        return None
    inner = op.inner
    seq_index = {id(inner.inputs[s]): s for s in range(op.n_seqs)}
    pos = op.outer_positions()
    direct = {}
    for j in range(op.n_mapped):
        if op.keep[op.n_states + j] is not None:
            continue
        s = seq_index.get(id(inner.outputs[op.n_states + j]))
        if s is not None:
            # the loop checked that the sequence has n_steps rows: so does the replacement
            seq, n = node.inputs[pos["sequences"][s]], node.inputs[0]
            rows = seq[:n]
            direct[op.mapped_output(j)] = specify_shape(
                rows, [n] + [rows.shape[d] for d in range(1, rows.ndim)],
                context="scan: a sequence has fewer rows than the steps to run (n_steps); "
                        "pass a longer sequence or a smaller n_steps")
    if not direct:
        return None
    used = set(range(len(node.outputs))) - set(direct)
    rest = op.prune_outputs(node, used) if used else None
    result, k = [], 0
    for o, out in enumerate(node.outputs):
        if o in direct:
            result.append(direct[o])
        else:
            result.append(rest.outputs[k] if rest is not None else out)
            k += 1
    return result


SCAN_RULES = RuleSet("scan", [scan_hoist_invariants, scan_push_out_sequences,
                              scan_mapped_sequences, scan_drop_unused_inputs])


# ---------------------------------------------------------------------------- keep last rows


def _last_rows_read(v, clients) -> int | None:
    """How many last rows of ``v`` its readers need when every reader is ``v[-k]`` (a
    constant negative index) or ``v[a:]`` (constant ``a >= 0``) read only that way; None
    when some reader needs more."""
    need = 0
    stack = [(v, True, 0)]
    while stack:
        var, may_slice, start = stack.pop()
        readers = clients.get(id(var), [])
        if not readers:
            return None
        for reader, pos in readers:
            if reader == "output" or pos != 0 or not isinstance(reader.op, Subtensor):
                return None
            entry = reader.op.idx_list[0]
            if isinstance(entry, int) and len(reader.inputs) == 1 and \
                    len(reader.op.idx_list) == 1:
                if entry >= 0:
                    return None
                # v[a:][-k] needs the last a + k rows: kept[a:][-k] is then the same row,
                # and fails exactly when v[a:] has fewer than k rows (n_steps 0, say)
                need = max(need, start - entry)
            elif (may_slice and isinstance(entry, tuple) and len(reader.op.idx_list) == 1
                  and isinstance(entry[0], int) and entry[0] >= 0 and entry[1] is None
                  and entry[2] is None and len(reader.inputs) == 1):
                stack.append((reader.outputs[0], False, entry[0]))
            else:
                return None
    return need or None


def keep_last_rows(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """Rule ``scan_keep_last_rows``: an output of a ``Scan`` read only as ``out[-k]`` (or
    ``out[a:][-k]``, the frontend's slice of a state) keeps only its last ``K`` rows, ``K``
    the largest such ``k``; its readers become ``kept[-k]``::

        before: Scan{h}(k, h0, A).0[1:][-1]
        after:  Scan{h, keep=2}(k, h0, A).0[1:][-1]

    (``v[a:][-k]`` keeps ``a + k`` rows and reads ``kept[a:][-k]``: the same row, and the
    same IndexError when ``v[a:]`` has fewer than ``k`` rows, as with no step at all.)

    Must run after differentiation (module docstring)."""
    from aotsym.optimizer.inner import rebuild_graph
    t0 = time.perf_counter()
    order = fgraph.toposort()
    if not any(isinstance(n.op, Scan) for n in order):
        return fgraph
    clients = fgraph.clients()
    decisions: dict = {}    # node -> {output index: K}
    readers: dict = {}      # id(reader output) -> (scan node, output index, k)
    for n in order:
        if not isinstance(n.op, Scan):
            continue
        found = {}
        for o, out in enumerate(n.outputs):
            keep = n.op.keep[_keep_index(n.op, o)]
            k = _last_rows_read(out, clients)
            if k is None or (keep is not None and keep <= k):
                continue
            found[o] = k
            for var, start in _final_readers(out, clients):
                idx = var.owner.op.idx_list[0]
                readers[id(var)] = (n, o, -idx, start)
        if found:
            decisions[n] = found
    if not decisions:
        return fgraph
    new_nodes: dict = {}

    def change(old, new):
        if old in decisions:
            op = new.op
            keep = list(op.keep)
            for o, k in decisions[old].items():
                keep[_keep_index(op, o)] = k
            made = apply(op.replace(keep=keep), new.inputs, trace=trace_of(new))
            new_nodes[old] = made
            return made.outputs
        hit = readers.get(id(old.outputs[0]))
        if hit is not None:
            scan_node, o, k, start = hit
            kept = new_nodes[scan_node].outputs[o]
            return [(kept[start:] if start else kept)[-k]]
        return None

    result, fired = rebuild_graph(fgraph, change)
    if ctx is not None:
        ctx.count("scan_keep_last_rows", "scan", len(decisions), time.perf_counter() - t0)
    return result


def _keep_index(op, o) -> int:
    """The ``keep`` entry of outer output ``o``."""
    visible = [k for k in range(op.n_states) if not op.hidden[k]]
    if o < len(visible):
        return visible[o]
    return op.n_states + (o - len(visible))


def _final_readers(v, clients, start=0):
    """The ``[-k]`` readers of ``v`` (directly or through one ``[a:]``), with ``a`` (0 for a
    direct reader)."""
    result = []
    for reader, _ in clients.get(id(v), []):
        entry = reader.op.idx_list[0]
        if isinstance(entry, int):
            result.append((reader.outputs[0], start))
        else:
            result.extend(_final_readers(reader.outputs[0], clients, entry[0]))
    return result


# ---------------------------------------------------------------------------- merge


def _merged(a, b):
    """One Scan doing the work of the Scan nodes ``a`` and ``b`` (same ``n_steps``), and,
    per node, where each of its outputs is among the merged node's outputs."""
    oa, ob = a.op, b.op
    fresh = [v.clone() for v in ob.inner.inputs]     # (b's step may be a's very graph)
    b_outs = clone_replace(list(ob.inner.outputs), dict(zip(ob.inner.inputs, fresh)))
    ia, ib = list(oa.inner.inputs), fresh
    sa, sb = oa.n_seqs, ob.n_seqs
    ta, tb = sa + oa.n_tap_inputs, sb + ob.n_tap_inputs
    inputs = ia[:sa] + ib[:sb] + ia[sa:ta] + ib[sb:tb] + ia[ta:] + ib[tb:]
    ma, mb = oa.n_states, ob.n_states
    a_outs = list(oa.inner.outputs)
    outputs = a_outs[:ma] + b_outs[:mb] + a_outs[ma:] + b_outs[mb:]
    keep = list(oa.keep[:ma]) + list(ob.keep[:mb]) + list(oa.keep[ma:]) + list(ob.keep[mb:])
    op = Scan(InnerGraph(inputs, outputs, fresh_inputs=False), sa + sb,
              list(oa.state_taps) + list(ob.state_taps), oa.n_mapped + ob.n_mapped,
              oa.n_nonseqs + ob.n_nonseqs, False, keep, oa.truncate_gradient,
              f"{oa.name or 'scan_fn'}+{ob.name or 'scan_fn'}", None,
              list(oa.hidden) + list(ob.hidden))
    pa, pb = oa.outer_positions(), ob.outer_positions()
    outer = [a.inputs[0]] + [a.inputs[i] for i in pa["sequences"]] + \
        [b.inputs[i] for i in pb["sequences"]] + [a.inputs[i] for i in pa["inits"]] + \
        [b.inputs[i] for i in pb["inits"]] + [a.inputs[i] for i in pa["nonseqs"]] + \
        [b.inputs[i] for i in pb["nonseqs"]]
    node = apply(op, outer, trace=trace_of(a))
    va = ma - sum(oa.hidden)        # visible states of a
    vb = mb - sum(ob.hidden)
    where_a = list(range(va)) + [va + vb + j for j in range(oa.n_mapped)]
    where_b = [va + k for k in range(vb)] + [va + vb + oa.n_mapped + j
                                             for j in range(ob.n_mapped)]
    return node, where_a, where_b


def merge_scans(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """Rule ``scan_merge``: two loops over the same steps (the same ``n_steps`` variable),
    neither reading what the other computes and neither stopping early (``until``), become
    one loop — one pass over the steps, the sequences read once::

        before: Scan{a}(n, x, a0, W), Scan{b}(n, x, b0)
        after:  Scan{a+b}(n, x, x, a0, b0, W)       (outputs: a's, then b's)
    """
    from aotsym.graph.basic import ancestors
    t0 = time.perf_counter()
    merged = 0
    while True:
        order = fgraph.toposort()
        groups: dict = {}
        for n in order:
            if isinstance(n.op, Scan) and not n.op.has_until:
                groups.setdefault(id(n.inputs[0]), []).append(n)
        pair = None
        for nodes in groups.values():
            for i, a in enumerate(nodes):
                for b in nodes[i + 1:]:
                    if a.op.truncate_gradient != b.op.truncate_gradient:
                        continue
                    before_b = {id(v) for v in ancestors(b.inputs)}
                    if any(id(o) in before_b for o in a.outputs):
                        continue      # b reads what a computes (a is first in the order)
                    pair = (a, b)
                    break
                if pair:
                    break
            if pair:
                break
        if pair is None:
            break
        a, b = pair
        node, where_a, where_b = _merged(a, b)
        replace = {a.outputs[o]: node.outputs[w] for o, w in enumerate(where_a)}
        replace.update({b.outputs[o]: node.outputs[w] for o, w in enumerate(where_b)})
        fgraph = fgraph.with_outputs(clone_replace(list(fgraph.outputs), replace))
        merged += 1
    if merged and ctx is not None:
        ctx.count("scan_merge", "scan", merged, time.perf_counter() - t0)
    return fgraph


# ---------------------------------------------------------------------------- the stage


def optimize_scans(fgraph: FunctionGraph, ctx) -> FunctionGraph:
    """Stage ``scan``: :data:`SCAN_RULES` to a fixed point, ``scan_merge``, then
    ``scan_keep_last_rows``."""
    if not any(isinstance(n.op, Scan) for n in toposort(fgraph.outputs)):
        return fgraph
    fgraph = rewrite_graph(fgraph, SCAN_RULES, ctx.stats, "scan", ctx.checker)
    fgraph = merge_scans(fgraph, ctx)
    return keep_last_rows(fgraph, ctx)   # (DEBUG_MODE checks the whole stage's result)
