"""Assembly: what the user asked for (inputs, outputs, updates) -> the calling convention.

Part of the frontend (**frontend** -> graph -> optimizer -> emit_c -> build).  Written once,
used by ``aotsym.function`` (:class:`~aotsym.frontend.function.Function`) and by a Module's
exports (:meth:`~aotsym.frontend.module.Module.assemble`, which ``aotsym build`` compiles), so
the same graph traced either way assembles to the same FunctionGraph with the same labels.

The calling convention (:class:`~aotsym.build.driver.AssembledFunction`): inputs are the user
inputs, then the shared variables read (in the order the graph first reaches them, then
updated variables the graph does not read); outputs are the user outputs, then the new value
of each updated variable; ``meta["updates"]`` maps each update output to the input it
replaces, which lets the optimizer write an update into its variable's own buffer
(:mod:`aotsym.optimizer.inplace`, the state rule).

Why here, and not in the build stage: assembling needs what only the frontend knows —
which variables are shared (:mod:`.shared`), the user's updates and givens and their errors,
``on_unused_input``.  Its result is plain data in the build stage's input format, so the flow
stays one way: the frontend makes it and calls the build driver; the build stage never
imports the frontend.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from aotsym.build.driver import AssembledFunction, argument_labels
from aotsym.frontend.default_updates import collect_default_updates
from aotsym.frontend.shared import SharedVariable
from aotsym.graph.basic import Variable, clone_replace, inputs_of, toposort
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.fgraph import FunctionGraph


class UnusedInputError(ValueError):
    pass


def assemble(inputs, outputs, updates=None, *, name=None, single_output=False, givens=None,
             on_unused_input="raise", arg_names=None, doc="", trace=None,
             no_default_updates=False, rebuild_strict=True) -> AssembledFunction:
    """The :class:`~aotsym.build.driver.AssembledFunction` of ``outputs`` as a function of
    ``inputs`` (leaf variables, already checked by the caller), with ``updates`` (a dict or
    ``(shared variable, new value)`` pairs) and ``givens`` (``{variable: replacement}``).

    ``name`` names the function (``"train"``; None: an anonymous ``aotsym.function``, named
    in messages by ``trace``, where it was made); ``single_output``: the caller returns the
    one output itself, not a list.  ``on_unused_input``: 'raise', 'warn' or 'ignore'.
    ``no_default_updates``: False (Theano's default) adds the ``default_update`` of every
    shared variable read and not updated (:mod:`.default_updates`); True adds none; a list
    adds none for the variables it names.  ``rebuild_strict``: False lets a given replace a
    variable by one of another type (the graph is rebuilt for it: Theano's).
    """
    out_vars = [as_tensor_variable(o) for o in outputs]
    upd = normalize_updates(updates)
    targets = out_vars + [new for _, new in upd]
    # Givens first (Theano's order): a shared variable they replace is not read, so its
    # default update is not applied; the default updates collected get the givens too.
    replace = normalize_givens(givens, strict=rebuild_strict) if givens else None
    if replace:
        targets = clone_replace(targets, replace)
    order = toposort(targets)          # one walk of a large graph serves all below
    leaves = inputs_of(targets, order)
    if no_default_updates is not True:
        exclude = no_default_updates or ()
        # (a default update may read what givens replace: it gets the givens too)
        defaults = collect_default_updates(targets, explicit=[var for var, _ in upd],
                                           exclude=exclude,
                                           allowed=list(inputs) + list(replace or ()),
                                           leaves=leaves, strict=True)
        if defaults:                   # other targets: walk them
            more = normalize_updates(defaults)
            news = [new for _, new in more]
            if replace:
                news = clone_replace(news, replace)
            upd += more
            targets = targets + news
            order = toposort(targets)
            leaves = inputs_of(targets, order)
    used = {id(v) for v in leaves}
    for k, var in enumerate(inputs):
        if id(var) in used or on_unused_input == "ignore":
            continue
        msg = (f"aotsym.function: input {k} ({var!r}) is not used to compute any output; "
               "remove it, or pass on_unused_input='ignore'")
        if on_unused_input == "raise":
            raise UnusedInputError(msg)
        warnings.warn(msg, stacklevel=4)
    updated = [var for var, _ in upd]
    shared_in = [v for v in leaves if isinstance(v, SharedVariable)]
    shared_in += [var for var in updated if var not in shared_in]
    update_map = {len(out_vars) + k: len(inputs) + shared_in.index(var)
                  for k, var in enumerate(updated)}
    fgraph = FunctionGraph(list(inputs) + shared_in, targets, n_updates=len(upd),
                           meta={"updates": update_map}, order=order)
    label = function_label(name, trace)
    return AssembledFunction(
        name or "function", label, fgraph, len(inputs), len(out_vars), single_output,
        argument_labels(label, fgraph.inputs, len(inputs)),
        list(arg_names) if arg_names else [v.name for v in inputs], doc or "", trace)


def function_label(name, trace) -> str:
    """How messages name a function: ``"train()"``, or for an anonymous ``aotsym.function``
    where it was made."""
    if name:
        return f"{name}()"
    if trace is None:
        return "aotsym.function"
    return f"aotsym.function (made at {os.path.basename(trace.filename)}:{trace.lineno})"


def normalize_updates(updates) -> list:
    """``[(shared variable, new value)]``, each new value of its variable's type (cast when
    that loses nothing a user would miss, broadcast to the variable's pattern)."""
    if updates is None:
        return []
    items = list(updates.items()) if isinstance(updates, dict) else list(updates)
    out, seen = [], set()
    for pair in items:
        if len(pair) != 2:
            raise TypeError("updates must be a dict or a list of (shared variable, new value)")
        var, new = pair
        if not isinstance(var, SharedVariable):
            raise TypeError(f"updates: {var!r} is not a shared variable; only aotsym.shared "
                            "values can be updated")
        if id(var) in seen:
            raise ValueError(f"updates: shared variable {var!r} is updated twice")
        seen.add(id(var))
        new = as_tensor_variable(new)
        if new.dtype != var.dtype:
            from aotsym.graph.types import dtype_kind
            if dtype_kind(new.dtype) in "fc" and dtype_kind(var.dtype) in "fc" and \
                    np.can_cast(var.dtype, new.dtype):
                raise TypeError(
                    f"updates: the new value of {var!r} has dtype {new.dtype}, the variable "
                    f"{var.dtype}; cast it explicitly (T.cast(expr, '{var.dtype}')) — this "
                    "often means a float64 constant crept into a float32 graph")
            from aotsym.graph.ops.math import cast
            new = cast(new, var.dtype)
        if new.ndim != var.ndim:
            raise TypeError(f"updates: the new value of {var!r} has ndim {new.ndim}, the "
                            f"variable {var.ndim}")
        if new.broadcastable != var.broadcastable:
            from aotsym.graph.ops.math import fill
            if any(nb and not vb for nb, vb in zip(new.broadcastable, var.broadcastable)):
                new = fill(var, new)
        out.append((var, new))
    return out


def normalize_givens(givens, strict=True) -> dict:
    """``{variable: replacement}`` with replacements converted and their types checked
    (``strict=False``: only converted)."""
    pairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
    out = {}
    for pair in pairs:
        if len(pair) != 2:
            raise TypeError("givens must be a dict or a list of (variable, replacement) pairs")
        old, new = pair
        if not isinstance(old, Variable):
            raise TypeError(f"givens: {old!r} is not a symbolic variable")
        new = as_tensor_variable(new, dtype=old.dtype) if not isinstance(new, Variable) else new
        if strict and (new.dtype != old.dtype or new.ndim != old.ndim):
            raise TypeError(f"givens: {old!r} ({old.type.describe()}) cannot be replaced by "
                            f"{new!r} ({new.type.describe()}); the types must match "
                            f"(T.cast the replacement to {old.dtype})")
        out[old] = new
    return out
