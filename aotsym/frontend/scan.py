"""``aotsym.scan`` and its special cases ``map``, ``reduce``, ``foldl``, ``foldr``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  ``scan`` traces the
user's step function once on placeholder variables, finds what else the step reads, and
applies one :class:`~aotsym.graph.ops.scan.Scan` node (layout in that module):

* every sequence tap becomes its own outer sequence, sliced so that step ``t`` reads row
  ``t`` (Theano's rule: the slices pretend tap 0 is used, so the number of steps of a
  sequence with taps ``[a..b]`` is ``len - (max(b,0) - min(a,0))``); the slices are
  reversed for ``go_backwards``, then cut to ``n_steps`` when it is given (Theano's order:
  backwards with ``n_steps=k`` reads the last ``k`` rows, last first);
* the step's arguments are the sequence taps, then each state's taps, in the order the
  user gave them (``taps=[-1, -2]`` passes ``x[t-1]`` before ``x[t-2]``), then the
  non-sequences: the outer variables themselves, so that the step may differentiate an
  outer expression with respect to one (replaced by loop inputs after tracing);
* without ``n_steps`` the loop runs the length of the shortest slice; with it, a shorter
  sequence is a run-time error naming the ``scan`` line;
* a state's initial rows are its outer input (``initial[None]`` for one tap ``-1``,
  ``initial[:depth]`` for a ``taps`` dict); the user gets the buffer without them
  (``out[depth:]``);
* outer variables the step reads (shared variables, or any symbolic value built outside
  ``fn``) become implicit non-sequences — the largest sub-expressions that do not depend on
  the step's arguments, so work done outside ``fn`` stays outside the loop — unless
  ``strict=True``, which refuses shared variables (Theano's rule: other symbolic inputs
  are still passed implicitly, as Theano's scan does with them); an outer variable passed
  in ``non_sequences`` and also read directly by ``fn`` is read through its argument
  (Theano's substitution);
* a shared variable the step updates (``fn`` returns ``(outputs, {shared: new})``) becomes
  a state of the loop; the returned update dict maps it to its value after the last step;
  so does one the step reads that has a ``default_update`` (a random stream's state: draws
  inside the step advance it every step; :mod:`aotsym.frontend.default_updates`);
* ``until(cond)`` returned by ``fn`` stops the loop after the step where ``cond`` holds.

Errors while tracing (a step returning the wrong number, type or shape of values, a
non-scalar ``until``, a free variable under ``strict``) are raised here and name the user's
``scan`` line and the step function.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph import test_values
from aotsym.graph.basic import (Constant, clone_replace, graph_inputs, interned, toposort,
                                user_source_info)
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.fgraph import MissingInputError
from aotsym.graph.inner import InnerGraph
from aotsym.graph.ops.scan import Scan, fits, row_type, stands_in
from aotsym.graph.types import TensorType


class until:
    """Theano's ``theano.scan_module.until``: returned by a step function (alone or beside
    its outputs and updates), ``until(cond)`` ends the loop after the step where the scalar
    ``cond`` is true (a do-while: that step's outputs are kept)."""

    def __init__(self, condition):
        cond = as_tensor_variable(condition)
        if cond.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got "
                            f"{cond.type.describe()}{_where()}; reduce it first (e.g. "
                            "T.all(c) or T.any(c))")
        self.condition = cond


class ScanError(TypeError, ValueError):
    """A step function that does not fit its scan (raised while tracing).  Both a
    ``TypeError`` and a ``ValueError``: Theano raises one or the other for these (bad taps,
    no number of steps, outputs_info of the wrong length), and ported code catches them."""


class ScanMissingInputError(ScanError, MissingInputError):
    """``strict=True`` and the step reads a shared variable it was not passed (Theano's
    ``MissingInputError``)."""


def _where(fn=None) -> str:
    here = user_source_info()
    text = f"\n  in the scan at {here}" if here else ""
    code = getattr(fn, "__code__", None)
    if code is not None:
        text += (f"\n  step function {getattr(fn, '__name__', 'fn')} defined at "
                 f'File "{code.co_filename}", line {code.co_firstlineno}')
    return text


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, profile=False,
         allow_gc=None, strict=False, return_list=False):
    """Theano's ``scan``: returns ``(outputs, updates)`` (see the module docstring).

    ``outputs`` is one variable when the step has one output (unless ``return_list``), else
    a list; ``updates`` a dict ``{shared variable: value after the last step}`` to pass to
    ``aotsym.function(..., updates=updates)``.  ``mode``, ``profile`` and ``allow_gc`` are
    accepted for compatibility.
    """
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.shape import shape_i

    # ---- sequences: one outer slice per tap
    seq_specs = []
    for k, s in enumerate(_as_list(sequences)):
        if isinstance(s, dict):
            if "input" not in s:
                raise ScanError(f"scan: sequence {k} is a dict without 'input'{_where(fn)}")
            x, taps = s["input"], s.get("taps", [0])
            taps = [0] if taps is None else list(_as_list(taps))
        else:
            x, taps = s, [0]
        x = as_tensor_variable(x)
        if x.ndim < 1:
            raise ScanError(f"scan: sequence {k} ({x!r}) is a scalar; a sequence is "
                            f"iterated over its first dimension{_where(fn)}")
        if not taps or not all(isinstance(t, (int, np.integer)) for t in taps):
            raise ScanError(f"scan: sequence {k} has taps {taps}; taps are integers"
                            f"{_where(fn)}")
        seq_specs.append((x, [int(t) for t in taps]))
    slices, slice_labels = [], []
    for k, (x, taps) in enumerate(seq_specs):
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        for t in taps:
            stop = None if hi - t == 0 else -(hi - t)
            slices.append(x if (t - lo, stop) == (0, None) else x[t - lo:stop])
            slice_labels.append(f"{x!r}" + (f" at tap {t}" if taps != [0] else ""))
    if n_steps is None:
        if not slices:
            raise ScanError("scan: with no sequences, n_steps must be given" + _where(fn))
        n = shape_i(slices[0], 0)
        for x in slices[1:]:
            n = m.minimum(n, shape_i(x, 0))
    else:
        n = as_tensor_variable(n_steps)
        if n.ndim != 0 or n.dtype[0] not in "iu":
            raise ScanError(f"scan: n_steps must be an integer scalar, got "
                            f"{n.type.describe()}{_where(fn)}")
        if n.dtype != "int64":
            n = m.cast(n, "int64")
    if go_backwards:   # reversed, then cut (Theano's order: the last n_steps rows, backwards)
        slices = [x[::-1] for x in slices]
    if n_steps is not None:
        slices = [x[:n] for x in slices]
    seq_phs = [TensorType(x.dtype, x.broadcastable[1:])(f"{x.name}[t]" if x.name else None)
               for x in slices]

    # ---- outputs_info: states (with taps) and mapped outputs
    # an empty list is no information at all (Theano: every output is then mapped)
    infos = _as_list(outputs_info) or None
    states = []   # per state: dict(user index, taps, init buffer, row type)
    if infos is not None:
        for k, info in enumerate(infos):
            if isinstance(info, dict):
                init, taps = info.get("initial"), info.get("taps")
                if init is None:
                    if taps:
                        raise ScanError(f"scan: outputs_info[{k}] has taps but no initial "
                                        f"value{_where(fn)}")
                    continue
                taps = [-1] if taps is None else [int(t) for t in _as_list(taps)]
            elif info is None:
                continue
            else:
                init, taps = info, [-1]
            if any(t >= 0 for t in taps):
                raise ScanError(f"scan: outputs_info[{k}] has taps {taps}; an output's taps "
                                f"must be negative (earlier steps){_where(fn)}")
            if len(set(taps)) != len(taps):
                raise ScanError(f"scan: outputs_info[{k}] has taps {taps}; each tap may be "
                                f"given once{_where(fn)}")
            user_taps = list(taps)   # the step's arguments come in this order (Theano's)
            taps = sorted(taps)
            init = as_tensor_variable(init)
            if taps == [-1]:
                buffer = init.dimshuffle("x", *range(init.ndim))
            else:
                if init.ndim < 1:
                    raise ScanError(f"scan: outputs_info[{k}] has taps {taps}, so its "
                                    "initial value needs a first dimension of the taps' "
                                    f"depth ({-taps[0]}); got a scalar{_where(fn)}")
                buffer = init[:-taps[0]]
            states.append({"user": k, "taps": taps, "user_taps": user_taps, "buffer": buffer,
                           "type": row_type(buffer.type), "init": init})

    # ---- non-sequences
    nonseqs = [as_tensor_variable(v) for v in _as_list(non_sequences)]

    # ---- trace the step (again when a state's type must widen to what the step returns)
    for attempt in range(4):
        state_phs = [[st["type"](f"{st['init'].name}[t{tap}]" if st["init"].name else None)
                      for tap in st["taps"]] for st in states]
        nonseq_phs = [TensorType(v.dtype, v.broadcastable)(v.name) for v in nonseqs]
        if test_values.wanted():
            _first_step_test_values(seq_phs, slices, states, state_phs, nonseq_phs, nonseqs)
        args = list(seq_phs)
        for st, phs in zip(states, state_phs):
            args += [phs[st["taps"].index(t)] for t in st["user_taps"]]
        # the non-sequences are passed as themselves (Theano's rule: the step may take
        # grad(K, v) of an outer K with respect to its argument v); they are replaced by
        # their placeholders after tracing (_nonsequences_as_arguments)
        args += nonseqs
        outputs, updates, cond = _split_return(fn(*args), fn)
        # shared variables the step reads with a default_update (a random stream's
        # state) are updated every step too, as in Theano
        from aotsym.frontend.default_updates import collect_default_updates
        updates.update(collect_default_updates(
            outputs + list(updates.values()) + ([cond] if cond is not None else []),
            explicit=list(updates), exclude=nonseqs, allowed=args))
        if infos is None:
            infos = [None] * len(outputs)
        if len(outputs) != len(infos):
            raise ScanError(f"scan: the step function returned {len(outputs)} output(s), but "
                            f"outputs_info describes {len(infos)}{_where(fn)}")
        changed = False
        for st in states:
            out = outputs[st["user"]]
            want = st["type"]
            if out.ndim != want.ndim:
                raise ScanError(
                    f"scan: the step function returned {out.type.describe()} for output "
                    f"{st['user']}, but its initial value (outputs_info[{st['user']}]) makes "
                    f"it {want.describe()}; a state keeps its number of dimensions across "
                    f"steps{_where(fn)}")
            dtype = want.dtype
            if out.dtype != want.dtype:
                if np.can_cast(want.dtype, out.dtype, "safe"):
                    dtype = out.dtype   # widen the state (e.g. an int 0 summing floats)
                else:
                    raise ScanError(
                        f"scan: the step function returned {out.type.describe()} for output "
                        f"{st['user']}, but its initial value is {want.describe()}; cast one "
                        f"of them (T.cast) so that they match{_where(fn)}")
            bcast = tuple(a and b for a, b in zip(want.broadcastable, out.broadcastable))
            new = TensorType(dtype, bcast)
            if new != want:
                st["type"] = new
                if dtype != st["buffer"].dtype:
                    st["buffer"] = m.cast(st["buffer"], dtype)
                changed = True
        if not changed:
            break
    else:  # pragma: no cover - types settle after at most two widenings
        raise ScanError("scan: the state types do not settle" + _where(fn))

    with test_values.without_test_values():   # (rebuilding the traced step: it has them)
        outputs, updates, cond = _nonsequences_as_arguments(outputs, updates, cond, nonseqs,
                                                            nonseq_phs)
    state_idx = [st["user"] for st in states]
    mapped_idx = [k for k in range(len(infos)) if k not in state_idx]
    state_outs = [outputs[k] for k in state_idx]
    mapped_outs = [outputs[k] for k in mapped_idx]
    # shared variables updated by the step: more states (taps [-1], initial = their value)
    shared_updated = list(updates.keys())
    update_outs = []
    for sv, new in updates.items():
        if new.dtype != sv.dtype and np.can_cast(new.dtype, sv.dtype, "safe"):
            new = m.cast(new, sv.dtype)
        if new.dtype != sv.dtype or new.ndim != sv.ndim or not fits(new.type, sv.type):
            raise ScanError(f"scan: the update of {sv!r} ({sv.type.describe()}) is "
                            f"{new.type.describe()}; cast it to the variable's type"
                            f"{_where(fn)}")
        update_outs.append(new)
    shared_phs = [sv.type(sv.name) for sv in shared_updated]

    # ---- free variables: the largest outer sub-expressions the step reads
    roots = {id(v) for v in args[:len(args) - len(nonseqs)] + nonseq_phs}
    roots |= {id(sv) for sv in shared_updated}
    all_outs = state_outs + update_outs + mapped_outs + ([cond] if cond is not None else [])
    inner_dep = set(roots)
    for node in toposort(all_outs):
        if any(id(v) in inner_dep for v in node.inputs):
            inner_dep.update(id(o) for o in node.outputs)
    captured, seen = [], set()

    def capture(v):
        if id(v) in inner_dep or isinstance(v, Constant) or id(v) in seen:
            return
        seen.add(id(v))
        # a value whose constancy the step's types rely on (a reshape's shape) stays in the
        # step; its own inputs are captured instead
        if v.owner is not None and not stands_in(v, all_outs):
            for u in v.owner.inputs:
                capture(u)
            return
        captured.append(v)

    for node in toposort(all_outs):
        if any(id(o) in inner_dep for o in node.outputs):
            for v in node.inputs:
                capture(v)
    for v in all_outs:
        capture(v)
    if strict:   # Theano's rule: a shared variable the step reads must be passed to it
        from aotsym.frontend.shared import SharedVariable
        for v in captured:
            free = [u for u in graph_inputs([v]) if isinstance(u, SharedVariable)]
            if free:
                raise ScanMissingInputError(
                    f"scan(strict=True): the step function reads the shared variable "
                    f"{free[0]!r} ({free[0].type.describe()}), which is not among its "
                    f"arguments; pass it in non_sequences{_where(fn)}")
    captured_phs = [v.type(v.name) for v in captured]
    replace = dict(zip(captured, captured_phs))
    replace.update(zip(shared_updated, shared_phs))
    with test_values.without_test_values():
        # (interned: a value the step spells twice is one node before the scan rewrites
        # look at the step, as the merge stage makes it one in an outer graph)
        inner_outs = interned(clone_replace(all_outs, replace))[0]

    n_user_states = len(states)
    inner_inputs = (list(seq_phs) + [p for phs in state_phs for p in phs] + shared_phs
                    + nonseq_phs + captured_phs)
    n_u = len(update_outs)
    # outputs: states, shared states, mapped, until.  The placeholders are the step's own
    # (made here): the step keeps them as its inputs, so that tags the user put on the
    # variables of fn refer to them (map_variables)
    step = InnerGraph(inner_inputs, inner_outs, fresh_inputs=False)
    labels = {("sequence", s): lab for s, lab in enumerate(slice_labels)}
    for k, st in enumerate(states):
        labels[("state", k)] = f"outputs_info[{st['user']}]"
    for k, sv in enumerate(shared_updated):
        labels[("state", n_user_states + k)] = f"shared variable {sv!r}"
    op = Scan(step, len(slices), [st["taps"] for st in states] + [[-1]] * n_u,
              len(mapped_outs), len(nonseqs) + len(captured), cond is not None,
              truncate_gradient=truncate_gradient, name=name or getattr(fn, "__name__", None),
              labels=labels)
    buffers = [st["buffer"] for st in states]
    buffers += [sv.dimshuffle("x", *range(sv.ndim)) for sv in shared_updated]
    node = op.make_node(n, *slices, *buffers, *nonseqs, *captured)
    outs = node.outputs

    results: list = [None] * len(infos)
    for k, st in enumerate(states):
        results[st["user"]] = outs[op.state_output(k)][-st["taps"][0]:]
    for j, k in enumerate(mapped_idx):
        results[k] = outs[op.mapped_output(j)]
    new_updates = {sv: outs[op.state_output(n_user_states + k)][-1]
                   for k, sv in enumerate(shared_updated)}
    if len(results) == 1 and not return_list:
        return results[0], new_updates
    return results, new_updates


def _first_step_test_values(seq_phs, slices, states, state_phs, nonseq_phs, nonseqs):
    """With ``compute_test_value`` on (:mod:`aotsym.graph.test_values`), the step is traced
    on the first step's values, as Theano's scan does: a sequence's first row, a state's
    initial rows (tap t of a state whose taps reach back ``depth`` steps: row depth + t of
    its initial buffer); a non-sequence's placeholder, the value it stands for."""
    for ph, v in zip(nonseq_phs, nonseqs):
        ph.tag.test_value = test_values.test_value(v)
    for ph, x in zip(seq_phs, slices):
        value = test_values.test_value(x)
        if value is not None and len(value):
            ph.tag.test_value = value[0]
    for st, phs in zip(states, state_phs):
        value = test_values.test_value(st["buffer"])
        if value is not None:
            depth = -st["taps"][0]
            for tap, ph in zip(st["taps"], phs):
                ph.tag.test_value = value[depth + tap]


def _split_return(value, fn):
    """``(outputs, updates, condition)`` from what a step function returned: outputs (a
    variable or a list), an updates dict (or list of pairs), an ``until``, in any order."""
    outputs, updates, cond = None, {}, None
    if _is_pairs(value):
        parts = [dict(value)]
    elif isinstance(value, (list, tuple)) and any(
            isinstance(p, (dict, until)) or _is_pairs(p) for p in value):
        parts = list(value)
    else:
        parts = [value]
    for p in parts:
        if isinstance(p, until):
            cond = p.condition
        elif isinstance(p, dict) or _is_pairs(p):
            updates = dict(p)
        elif isinstance(p, (list, tuple)) and not p and outputs is not None:
            updates = {}   # ([x], (), until(c)): no updates (Theano's positional reading)
        elif outputs is None:
            outputs = p
        else:
            raise ScanError("scan: the step function returned more than outputs, updates "
                            f"and an until condition{_where(fn)}")
    outs = _as_list(outputs)
    result = []
    for k, o in enumerate(outs):
        if isinstance(o, until) or isinstance(o, dict):
            raise ScanError(f"scan: the step function's output {k} is a "
                            f"{type(o).__name__}{_where(fn)}")
        try:
            result.append(as_tensor_variable(o))
        except TypeError:
            raise ScanError(f"scan: the step function's output {k} is {type(o).__name__} "
                            f"{o!r}, not a tensor{_where(fn)}") from None
    from aotsym.frontend.shared import SharedVariable
    for sv in updates:
        if not isinstance(sv, SharedVariable):
            raise ScanError(f"scan: the step function's updates must be keyed by shared "
                            f"variables, got {sv!r}{_where(fn)}")
    updates = {sv: as_tensor_variable(v) for sv, v in updates.items()}
    return result, updates, cond


def _is_pairs(p) -> bool:
    from aotsym.frontend.shared import SharedVariable
    return isinstance(p, (list, tuple)) and bool(p) and all(
        isinstance(e, tuple) and len(e) == 2 and isinstance(e[0], SharedVariable)
        for e in p)


# ---------------------------------------------------------------------------- special cases


def _nonsequences_as_arguments(outputs, updates, cond, nonseqs, nonseq_phs):
    """The step's results with every outer non-sequence it read (the step receives the
    outer variables themselves, as in Theano, and may also close over them, as Lasagne's
    recurrent layers do) read through its placeholder instead: Theano's scan does this
    substitution (its ``givens``), so ``strict=True`` accepts such a step and the loop has
    one input per non-sequence::

        W = concatenate([W_r, W_u])            scan(lambda h, *a: dot(h, W), ...,
                                                    non_sequences=[W], strict=True)
        before: the step reads the outer W (its inputs W_r, W_u: refused under strict)
        after:  the step reads W's placeholder (the non-sequence argument)

    Constants stay constants; a shared variable the step updates is a state, not replaced.
    """
    replace = {}
    for v, ph in zip(nonseqs, nonseq_phs):
        if isinstance(v, Constant) or v in replace or v in updates:
            continue
        replace[v] = ph
    if not replace:
        return outputs, updates, cond
    keys = list(updates)
    extra = [cond] if cond is not None else []
    new = clone_replace(list(outputs) + [updates[k] for k in keys] + extra, replace)
    n = len(outputs)
    new_updates = type(updates)(zip(keys, new[n:n + len(keys)]))
    return new[:n], new_updates, (new[-1] if cond is not None else None)


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,
        mode=None, name=None):
    """``fn`` applied to each row of ``sequences``: ``scan`` with no states."""
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode,
                name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None,
           name=None):
    """``scan`` keeping only each output's last value (Theano's ``reduce``)."""
    outs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info,
                         non_sequences=non_sequences, go_backwards=go_backwards, mode=mode,
                         name=name)
    if isinstance(outs, (list, tuple)):
        return [o[-1] for o in outs], updates
    return outs[-1], updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the first row to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode,
                  name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the last row to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode,
                  name=name)
