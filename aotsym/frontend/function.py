"""``aotsym.function``: inputs and outputs in, a callable out.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters -> build).  It builds the
FunctionGraph (user inputs, then the shared variables read; outputs, then update values),
runs the optimizer for the mode, and hands the graph to a backend:

* FAST_COMPILE: the NumPy reference evaluator;
* FAST_RUN / PROFILE_MODE: the compiled C module (``aotsym.build``) when a backend is present;
* DEBUG_MODE: the optimizer checks every rewrite, and results are compared with the evaluator.

A backend is a callable ``run(values) -> results`` over that same ordering.  The ``Function``
checks the arguments (Theano's rules), calls the backend, and only when it succeeded writes
all updates at once.

The fast path.  The compiled backend also offers ``exact(*values)``: the module's C entry,
which checks in C that every value is an ndarray of exactly its declared dtype, ndim and
broadcastable pattern — arguments Theano's rules pass through unchanged, whatever the
input's options — and refuses anything else with ``NotImplemented``.  A call with
positional arguments only (and plain shared variables) goes straight to it; keywords,
defaults, conversions and argument errors go through ``_check_args`` and ``run``: one set
of rules (:mod:`aotsym.frontend.checking`), one set of messages.  The C results are fresh
arrays by construction (an output that is an input or another output's memory is copied),
so the fast path copies nothing.

In-place updates.  The graph's ``meta["updates"]`` tells the optimizer which input each
update output replaces, so ``w - 0.1*dot(x.T, d)`` becomes ``Gemv{inplace}`` over ``w``'s own
array (:mod:`aotsym.optimizer.inplace`, the state rule).  Such a new value comes back as the
variable's own array and is stored as it is; it is never a user output.  The write comes
after every check of the call (the emitter's prepare/commit halves), so a call that raises
has changed no shared variable.  ``get_value()`` copies, so values taken before a call stay
as they were; ``get_value(borrow=True)`` is the variable's array and sees the write.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from aotsym.config import config, normalize_mode
from aotsym.frontend.checking import filter_value
from aotsym.frontend.shared import SharedVariable
from aotsym.graph.basic import Constant, Variable, clone_replace, graph_inputs, user_source_info
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph


class UnusedInputError(ValueError):
    pass


class In:
    """An input with options (Theano's ``In``).

    ``value``: a default used when the argument is not given; ``name``: the keyword the
    argument may be passed by (default: the variable's name); ``strict``: the value must
    already have the declared dtype; ``allow_downcast``: this input accepts lossy conversion
    (None: the function's ``allow_input_downcast``).  ``borrow`` and ``mutable`` are accepted
    for compatibility: inputs are never modified, whatever they say.
    """

    def __init__(self, variable, name=None, value=None, borrow=False, strict=False,
                 allow_downcast=None, mutable=False):
        self.variable, self.name, self.value, self.borrow = variable, name, value, borrow
        self.strict, self.allow_downcast, self.mutable = strict, allow_downcast, mutable


class Mode:
    """A compilation mode object: ``aotsym.function(..., mode=aotsym.Mode("FAST_COMPILE"))``.

    The string names are the same thing; this class exists so Theano code that passes a mode
    object ports unchanged.
    """

    def __init__(self, name=None, linker=None, optimizer=None):
        self.name = normalize_mode(name or config.mode)
        self.linker, self.optimizer = linker, optimizer

    def __repr__(self):
        return f"Mode({self.name!r})"


def _normalize_updates(updates):
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


class Function:
    """A compiled function.  Call it with one value per input (positionally or by name).

    Theano's attributes that ported code reads: ``f.maker.fgraph`` (the optimized graph),
    ``f.name``, ``f.trust_input`` (skip argument checks: the caller promises arrays of the
    exact declared types).
    """

    def __init__(self, inputs, outputs, updates=None, givens=None, mode=None, name=None,
                 allow_input_downcast=None, profile=False, on_unused_input="raise",
                 accept_inplace=False, no_default_updates=False, rebuild_strict=True):
        self.name = name
        self.trace = user_source_info()
        self.label = f"{name}()" if name else _anonymous_label(self.trace)
        self.mode = normalize_mode(mode.name if isinstance(mode, Mode) else mode or config.mode)
        self.allow_input_downcast = allow_input_downcast
        self.profile = profile or self.mode == "PROFILE_MODE"
        self.trust_input = False
        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"aotsym.function: on_unused_input must be 'raise', 'warn' or "
                             f"'ignore', got {on_unused_input!r}")
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("aotsym.function: inputs must be a list of symbolic variables, got "
                            f"{type(inputs).__name__}")
        specs = [i if isinstance(i, In) else In(i) for i in inputs]
        for k, spec in enumerate(specs):
            if not isinstance(spec.variable, Variable) or isinstance(spec.variable, Constant):
                raise TypeError(f"aotsym.function: input {k} is {spec.variable!r}, not a "
                                "symbolic input variable (T.matrix('x') ...)")
            if spec.variable.owner is not None:
                raise TypeError(f"aotsym.function: input {k} ({spec.variable!r}) is computed "
                                "from other variables; inputs must be leaves, or use givens")
            if isinstance(spec.variable, SharedVariable):
                raise TypeError(f"aotsym.function: input {k} is the shared variable "
                                f"{spec.variable!r}; shared variables are implicit inputs")
        self.input_specs = specs
        self.input_vars = [s.variable for s in specs]
        self.input_names = [s.name or s.variable.name for s in specs]

        self.single_output = not isinstance(outputs, (list, tuple))
        out_list = [outputs] if self.single_output else list(outputs)
        out_vars = [as_tensor_variable(o) for o in out_list]
        upd = _normalize_updates(updates)
        targets = out_vars + [new for _, new in upd]
        if givens:
            targets = clone_replace(targets, _normalize_givens(givens))
        self.updated = [var for var, _ in upd]

        used = {id(v) for v in graph_inputs(targets)}
        for k, spec in enumerate(specs):
            if id(spec.variable) in used or on_unused_input == "ignore":
                continue
            msg = (f"aotsym.function: input {k} ({spec.variable!r}) is not used to compute "
                   "any output; remove it, or pass on_unused_input='ignore'")
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            warnings.warn(msg, stacklevel=3)
        shared_in = [v for v in graph_inputs(targets) if isinstance(v, SharedVariable)]
        for var in self.updated:
            if var not in shared_in:
                shared_in.append(var)
        self.shared_vars = shared_in
        fg_inputs = [s.variable for s in specs] + [sv for sv in shared_in]
        # which input each update output replaces: lets the optimizer write an update into
        # its variable's own buffer (aotsym.optimizer.inplace, the state rule)
        update_map = {len(out_vars) + k: len(specs) + shared_in.index(var)
                      for k, var in enumerate(self.updated)}
        self.unoptimized = FunctionGraph(fg_inputs, targets, n_updates=len(upd),
                                         meta={"updates": update_map})
        self.n_outputs = len(out_vars)
        self.fgraph, self._run = _build_backend(self.unoptimized, self.mode, self.name,
                                                self.profile)
        self._exact, self._checked_updates = self._fast_path()

    @property
    def maker(self):
        return self

    def _check_args(self, args, kwargs):
        n = len(self.input_specs)
        if len(args) > n:
            raise TypeError(f"{self.label} takes {n} argument{'s' * (n != 1)}, got {len(args)}")
        values = list(args) + [None] * (n - len(args))
        given = [True] * len(args) + [False] * (n - len(args))
        for key, val in kwargs.items():
            if key not in self.input_names:
                raise TypeError(f"{self.label} got an unexpected keyword argument {key!r}; "
                                f"its inputs are: {', '.join(map(str, self.input_names))}")
            k = self.input_names.index(key)
            if given[k]:
                raise TypeError(f"{self.label} got multiple values for argument {key!r}")
            values[k], given[k] = val, True
        out = []
        for k, spec in enumerate(self.input_specs):
            var = spec.variable
            label = f"{self.label} argument {k}" + (f" ({var.name})" if var.name else "")
            if not given[k]:
                if spec.value is None:
                    raise TypeError(f"{label} is missing ({var.type.describe()}); "
                                    f"{self.label} takes {n} argument{'s' * (n != 1)}")
                values[k] = spec.value
            if var.tag.trace:
                label += f", declared at {var.tag.trace.filename}:{var.tag.trace.lineno}"
            allow = self.allow_input_downcast if spec.allow_downcast is None \
                else spec.allow_downcast
            out.append(filter_value(values[k], var.type, strict=spec.strict,
                                    allow_downcast=allow, what=label,
                                    downcast_hint="pass allow_input_downcast=True to "
                                                  "aotsym.function"))
        return out

    def _fast_path(self):
        """(the backend's exact entry or None, indices of the updates whose new values it
        cannot vouch for).  None when the backend has none or a shared variable is not a
        plain SharedVariable (a subclass may override get_value/set_value)."""
        exact = getattr(self._run, "exact", None)
        if exact is None or any(type(v) is not SharedVariable for v in self.shared_vars):
            return None, []
        # A new value of the variable's exact type, with no broadcastable dimension to
        # check, is stored as the C code returns it; the others go through filter_update.
        new_types = [v.type for v in self.fgraph.outputs[self.n_outputs:]]
        checked = [k for k, (var, new) in enumerate(zip(self.updated, new_types))
                   if new != var.type or any(var.broadcastable)]
        return exact, checked

    def __call__(self, *args, **kwargs):
        exact = self._exact
        if exact is not None and not kwargs and len(args) == len(self.input_specs):
            values = args
            if self.shared_vars:
                values += tuple([sv._value for sv in self.shared_vars])
            try:
                results = exact(*values)
            except Exception as exc:
                error = self._run.node_error(exc)
                if error is None:
                    raise
                raise error from None
            if results is not NotImplemented:
                if self.updated:
                    self._store_exact_updates(results[self.n_outputs:])
                    del results[self.n_outputs:]
                return results[0] if self.single_output else results
        return self._call_checked(args, kwargs)

    def _store_exact_updates(self, new_values):
        """Store the new shared values the exact entry computed (fresh arrays of the
        variables' dtypes): all or none, every check before the first store."""
        for k in self._checked_updates:
            new_values[k] = self.updated[k].filter_update(new_values[k], copy=False)
        for var, new in zip(self.updated, new_values):
            var._value = new  # plain SharedVariables (see _fast_path), value checked

    def _call_checked(self, args, kwargs):
        """The call with Theano's argument rules: keywords, defaults, conversions, errors."""
        if self.trust_input:
            values = list(args)
        else:
            values = self._check_args(args, kwargs)
        values += [sv.get_value(borrow=True) for sv in self.shared_vars]
        results = self._run(values)
        outs = _fresh(results[:self.n_outputs], values)
        # All updates or none: check every new value before storing any.  A new value that
        # is the variable's own array was written in place (an in-place update, made only
        # when nothing could fail after it): it is stored as it is.
        new_states = []
        n_in = len(self.input_specs)
        own = {id(sv): values[n_in + k] for k, sv in enumerate(self.shared_vars)}
        for var, new in zip(self.updated, results[self.n_outputs:]):
            if new is own[id(var)]:
                new_states.append(new)
                continue
            alias = _aliases(new, values) or _aliases(new, outs) or _aliases(new, new_states)
            new_states.append(var.filter_update(new, copy=alias))
        for var, new in zip(self.updated, new_states):
            var.set_value(new, borrow=True)
        return outs[0] if self.single_output else outs

    def __repr__(self):
        return f"<aotsym.Function {self.label}, mode={self.mode}>"


def _anonymous_label(trace) -> str:
    if trace is None:
        return "aotsym.function"
    return f"aotsym.function (made at {os.path.basename(trace.filename)}:{trace.lineno})"


def _normalize_givens(givens) -> dict:
    """``{variable: replacement}`` with replacements converted and their types checked."""
    pairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
    out = {}
    for pair in pairs:
        if len(pair) != 2:
            raise TypeError("givens must be a dict or a list of (variable, replacement) pairs")
        old, new = pair
        if not isinstance(old, Variable):
            raise TypeError(f"givens: {old!r} is not a symbolic variable")
        new = as_tensor_variable(new, dtype=old.dtype) if not isinstance(new, Variable) else new
        if new.dtype != old.dtype or new.ndim != old.ndim:
            raise TypeError(f"givens: {old!r} ({old.type.describe()}) cannot be replaced by "
                            f"{new!r} ({new.type.describe()}); the types must match "
                            f"(T.cast the replacement to {old.dtype})")
        out[old] = new
    return out


def _aliases(arr, values):
    return any(np.may_share_memory(arr, v) for v in values)


def _fresh(results, inputs):
    """Outputs the caller owns: copy any that alias an input, state or another output."""
    out = []
    for r in results:
        r = np.asarray(r)
        if not r.flags.writeable or _aliases(r, inputs) or _aliases(r, out):
            r = r.copy()
        out.append(r)
    return out


def _reference_runner(fgraph):
    """The evaluator as a backend.  It runs the nodes in order, so an in-place op's write into
    a shared variable could come before a later node fails: the inputs an op destroys are
    copied first (the state changes only when the Function stores the results)."""
    inputs, outputs = fgraph.inputs, fgraph.outputs
    destroyed = _destroyed_inputs(fgraph)

    def run(values):
        values = [np.array(v, copy=True) if k in destroyed else v
                  for k, v in enumerate(values)]
        return evaluate(outputs, dict(zip(inputs, values)))
    return run


def _destroyed_inputs(fgraph) -> set:
    """Indices of the graph inputs some node's ``destroy_map`` writes over (directly or
    through views, ``view_map``)."""
    root = {id(v): k for k, v in enumerate(fgraph.inputs)}
    out = set()
    for node in fgraph.toposort():
        for ins in getattr(node.op, "destroy_map", {}).values():
            for i in ins:
                k = root.get(id(node.inputs[i]))
                if k is not None:
                    out.add(k)
        for o, ins in getattr(node.op, "view_map", {}).items():
            k = root.get(id(node.inputs[ins[0]]))
            if k is not None:
                root[id(node.outputs[o])] = k
    return out


def _build_backend(fgraph, mode, name, profile):
    """(optimized graph, runner) for ``mode``; later stages plug in here."""
    try:
        from aotsym import optimizer
    except ImportError:
        optimizer = None
    if optimizer is not None and hasattr(optimizer, "optimize"):
        fgraph = optimizer.optimize(fgraph, mode=mode)
    if mode in ("FAST_RUN", "PROFILE_MODE"):
        try:
            from aotsym.build import compile_fgraph
        except ImportError:
            compile_fgraph = None
        if compile_fgraph is not None:
            return fgraph, compile_fgraph(fgraph, name=name, profile=profile)
    return fgraph, _reference_runner(fgraph)


def function(inputs, outputs=None, updates=None, givens=None, mode=None, name=None,
             allow_input_downcast=None, profile=False, on_unused_input="raise", **kwargs):
    """Compile ``outputs`` as a function of ``inputs`` (Theano's ``theano.function``).

    ``inputs``: symbolic variables or :class:`In`; ``outputs``: one variable (the call returns
    an array), a list (a list) or None (an empty list).  ``updates``: a dict or a list of
    ``(shared variable, new value)`` pairs, all applied after a call succeeds and none when it
    fails.  ``givens``: ``{variable: replacement}`` substituted before compiling.
    ``allow_input_downcast``: True accepts arguments whose conversion loses precision (float64
    for a float32 input); None (default, Theano's) accepts that only for Python floats passed
    to floatX inputs; False never.  ``on_unused_input``: 'raise' (default), 'warn' or
    'ignore'.  ``mode``: 'FAST_RUN', 'FAST_COMPILE', 'DEBUG_MODE', 'PROFILE_MODE' (Theano's
    'DebugMode' and 'ProfileMode' too) or a :class:`Mode`; default ``aotsym.config.mode``.
    Theano's ``accept_inplace``, ``no_default_updates`` and ``rebuild_strict`` are accepted and
    change nothing.  Every call returns fresh arrays the caller owns.
    """
    if outputs is None:
        outputs = []
    return Function(inputs, outputs, updates=updates, givens=givens, mode=mode, name=name,
                    allow_input_downcast=allow_input_downcast, profile=profile,
                    on_unused_input=on_unused_input, **kwargs)
