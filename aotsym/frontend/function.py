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
"""

from __future__ import annotations

import numpy as np

from aotsym.config import config
from aotsym.frontend.checking import filter_value
from aotsym.frontend.shared import SharedVariable
from aotsym.graph.basic import Constant, Variable, clone_replace, graph_inputs, user_source_info
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph


class UnusedInputError(ValueError):
    pass


class In:
    """An input with options: ``In(x, value=default, name=...)``."""

    def __init__(self, variable, name=None, value=None, borrow=False):
        self.variable, self.name, self.value, self.borrow = variable, name, value, borrow


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
    """A compiled function.  Call it with one value per input (positionally or by name)."""

    def __init__(self, inputs, outputs, updates=None, givens=None, mode=None, name=None,
                 allow_input_downcast=False, profile=False, on_unused_input="raise",
                 accept_inplace=False):
        self.name = name or "function"
        self.trace = user_source_info()
        self.mode = mode or config.mode
        if self.mode not in ("FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "PROFILE_MODE"):
            raise ValueError(f"aotsym.function: unknown mode {mode!r}; use FAST_RUN, "
                             "FAST_COMPILE, DEBUG_MODE or PROFILE_MODE")
        self.allow_input_downcast = allow_input_downcast
        self.profile = profile or self.mode == "PROFILE_MODE"
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("aotsym.function: inputs must be a list of symbolic variables")
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
            pairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
            targets = clone_replace(targets, {k: as_tensor_variable(v) for k, v in pairs})
        self.updated = [var for var, _ in upd]

        used = {id(v) for v in graph_inputs(targets)}
        for spec in specs:
            if id(spec.variable) not in used and on_unused_input == "raise":
                raise UnusedInputError(
                    f"aotsym.function: input {spec.variable!r} is not used to compute any "
                    "output; remove it, or pass on_unused_input='ignore'")
        shared_in = [v for v in graph_inputs(targets) if isinstance(v, SharedVariable)]
        for var in self.updated:
            if var not in shared_in:
                shared_in.append(var)
        self.shared_vars = shared_in
        fg_inputs = [s.variable for s in specs] + [sv for sv in shared_in]
        self.unoptimized = FunctionGraph(fg_inputs, targets, n_updates=len(upd))
        self.n_outputs = len(out_vars)
        self.fgraph, self._run = _build_backend(self.unoptimized, self.mode, self.name,
                                                self.profile)

    @property
    def maker(self):
        return self

    def _check_args(self, args, kwargs):
        n = len(self.input_specs)
        if len(args) > n:
            raise TypeError(f"{self.name}() takes {n} argument{'s' * (n != 1)}, got {len(args)}")
        values = list(args) + [None] * (n - len(args))
        given = [True] * len(args) + [False] * (n - len(args))
        for key, val in kwargs.items():
            if key not in self.input_names:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}; "
                                f"inputs: {', '.join(map(str, self.input_names))}")
            k = self.input_names.index(key)
            if given[k]:
                raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
            values[k], given[k] = val, True
        out = []
        for k, spec in enumerate(self.input_specs):
            if not given[k]:
                if spec.value is None:
                    raise TypeError(f"{self.name}() missing argument {k} "
                                    f"({self.input_names[k] or spec.variable.type.describe()})")
                values[k] = spec.value
            var = spec.variable
            label = f"{self.name}() argument {k}" + (f" ({var.name})" if var.name else "")
            if var.tag.trace is not None:
                label += f" declared at {var.tag.trace.filename}:{var.tag.trace.lineno}"
            out.append(filter_value(values[k], var.type,
                                    allow_downcast=self.allow_input_downcast, what=label))
        return out

    def __call__(self, *args, **kwargs):
        values = self._check_args(args, kwargs)
        values += [sv.get_value(borrow=True) for sv in self.shared_vars]
        results = self._run(values)
        outs = _fresh(results[:self.n_outputs], values)
        for var, new in zip(self.updated, results[self.n_outputs:]):
            var.set_value(new, borrow=not _aliases(new, values))
        return outs[0] if self.single_output else outs


def _aliases(arr, values):
    return any(np.may_share_memory(arr, v) for v in values)


def _fresh(results, inputs):
    """Outputs the caller owns: copy any that alias an input, state or another output."""
    out = []
    for k, r in enumerate(results):
        r = np.asarray(r)
        if not r.flags.writeable or _aliases(r, inputs) or _aliases(r, out):
            r = r.copy()
        out.append(r)
    return out


def _reference_runner(fgraph):
    inputs, outputs = fgraph.inputs, fgraph.outputs

    def run(values):
        return evaluate(outputs, dict(zip(inputs, values)))
    return run


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
             allow_input_downcast=False, profile=False, on_unused_input="raise", **kwargs):
    """Compile ``outputs`` as a function of ``inputs`` (Theano's ``theano.function``).

    One output variable gives an array; a list of outputs gives a list.  ``updates`` maps
    shared variables to their new values, applied after every successful call.
    """
    if outputs is None:
        outputs = []
    return Function(inputs, outputs, updates=updates, givens=givens, mode=mode, name=name,
                    allow_input_downcast=allow_input_downcast, profile=profile,
                    on_unused_input=on_unused_input, **kwargs)
