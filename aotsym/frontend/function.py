"""``aotsym.function``: inputs and outputs in, a callable out.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters -> build).  It checks
what the user passed, assembles the calling convention (:mod:`.assemble`: user inputs, then
the shared variables read; outputs, then update values; the argument labels) and hands it to
the build driver (:func:`aotsym.build.driver.build_functions`), which optimizes it for the
mode and returns a runner:

* FAST_COMPILE: the NumPy reference evaluator;
* FAST_RUN / PROFILE_MODE: the compiled C module;
* DEBUG_MODE: the optimizer checks every rewrite; the result is compiled, and each call runs
  it and the reference evaluator and compares them (:mod:`aotsym.build.checked`).

A runner is a callable ``run(values) -> results`` over that same ordering, with the optimized
graph (``run.fgraph``) and what the optimizer did (``run.stats``).  The ``Function`` checks
the arguments (Theano's rules), calls the runner, and only when it succeeded writes all
updates at once.

Threads.  A function with shared variables holds their locks (:class:`.shared.StateLock`)
from reading their values to storing the updates, so concurrent calls of functions sharing
state run one at a time and lose no update (the locks are re-entrant: a call made while
converting an argument works).  Functions without shared variables take no lock and run in
parallel; the compiled code releases the GIL for large inputs.

The fast path.  The compiled backend also offers ``exact(*values)``: the module's C entry,
which checks in C that every value is an ndarray of exactly its declared dtype, ndim and
broadcastable pattern — arguments Theano's rules pass through unchanged, whatever the
input's options — and refuses anything else with ``NotImplemented``.  A call with
positional arguments only (and plain shared variables) goes straight to it; keywords,
defaults, conversions and argument errors go through ``_check_args`` and ``run``: one set
of rules (:mod:`aotsym.graph.checking`), one set of messages.  The C results are fresh
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

import functools

import numpy as np

from aotsym.build.driver import BuildOptions, build_functions, optimize_graphs
from aotsym.config import config, normalize_mode
from aotsym.frontend.assemble import UnusedInputError, assemble  # noqa: F401 (public name)
from aotsym.frontend.function_state import (Containers, InputContainer, SharedContainer,
                                             set_value, swapped)
from aotsym.frontend.shared import SharedVariable, StateLock
from aotsym.graph.basic import Constant, Variable, user_source_info
from aotsym.graph.checking import filter_value
from aotsym.graph.test_values import without_test_values


class In:
    """An input with options (Theano's ``In``, its argument order).

    ``value``: a default used when the argument is not given; ``name``: the keyword the
    argument may be passed by (default: the variable's name); ``update``: an expression
    whose value, after each call, becomes the input's default (Theano's input state: with
    ``In(a, value=0.0, update=a + 1)`` the calls see 0, 1, 2 ...); ``strict``: the value
    must already have the declared dtype; ``allow_downcast``: this input accepts lossy
    conversion (None: the function's ``allow_input_downcast``).  ``borrow``, ``mutable``,
    ``autoname``, ``implicit`` and ``shared`` are accepted for compatibility: inputs are
    never modified, whatever they say.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=False,
                 strict=False, allow_downcast=None, autoname=True, implicit=None,
                 borrow=False, shared=False):
        self.variable, self.name, self.value, self.borrow = variable, name, value, borrow
        self.strict, self.allow_downcast, self.mutable = strict, allow_downcast, mutable
        self.implicit, self.autoname, self.shared = implicit, autoname, shared
        self.update = update
        if update is not None:
            from aotsym.graph.convert import as_tensor_variable
            self.update = update = as_tensor_variable(update)
            if getattr(variable, "type", None) != update.type:
                raise TypeError(f"In: the update of {variable!r} has type "
                                f"{update.type.describe()}, the input "
                                f"{getattr(variable, 'type', variable)}; they must match")


class Param(In):
    """Theano's old ``Param(variable, default=None, name=None, ...)``: an :class:`In` whose
    second positional argument is the default value (``In``'s is the name); ``value=`` (In's
    keyword) is accepted too, and ``implicit`` for compatibility."""

    def __init__(self, variable, default=None, name=None, mutable=False, strict=False,
                 allow_downcast=None, implicit=None, borrow=None, value=None):
        if value is not None and default is not None:
            raise TypeError("Param: pass default or value (In's name for it), not both")
        super().__init__(variable, name=name, value=default if value is None else value,
                         borrow=bool(borrow), strict=strict, allow_downcast=allow_downcast,
                         mutable=mutable)


# Theano's optimizer tags -> the aotsym stages they name (Mode.excluding); a stage's own name
# names it too.  Every stage keeps values, so leaving one out changes speed, not answers.
_STAGE_TAGS = {
    "inplace": ("inplace",), "fusion": ("fuse_elementwise", "fuse_reductions"),
    "local_elemwise_fusion": ("fuse_elementwise",), "elemwise_fusion": ("fuse_elementwise",),
    "composite_elemwise_fusion": ("fuse_elementwise",), "blasopt": ("blas", "fuse_gemv_pairs"),
    "gemm_optimizer": ("blas", "fuse_gemv_pairs"), "scan": ("scan",),
    "scan_eqopt1": ("scan",), "scan_eqopt2": ("scan",), "scanop_pushout_seqs_ops": ("scan",),
    "scanop_pushout_output": ("scan",), "scanop_pushout_nonseqs_ops": ("scan",),
    "scanop_save_mem": ("scan",), "scanop_merge": ("scan",), "ifelse": ("ifelse",),
    "ifelse_lift": ("ifelse",), "ifelse_merge": ("ifelse",), "stabilize": ("stabilize",),
    "specialize": ("specialize",), "canonicalize": ("canonicalize",), "merge": ("merge",),
}


class Mode:
    """A compilation mode object: ``aotsym.function(..., mode=aotsym.Mode("FAST_COMPILE"))``.

    The string names are the same thing; this class exists so Theano code that passes a mode
    object ports unchanged.  ``mode.excluding("inplace")`` (Theano's) is a mode whose
    functions are built without the optimizer stages those tags name (``_STAGE_TAGS``, or a
    stage's own name); ``including`` puts them back; a tag that names no aotsym stage
    changes nothing, as a tag missing from Theano's optimizer database does.
    """

    def __init__(self, name=None, linker=None, optimizer=None):
        self.name = normalize_mode(name or config.mode)
        self.linker, self.optimizer = linker, optimizer
        self.excluded = frozenset()

    def __repr__(self):
        extra = f", excluding={sorted(self.excluded)}" if self.excluded else ""
        return f"Mode({self.name!r}{extra})"

    def excluding(self, *tags) -> "Mode":
        return self._with(self.excluded | _stages(tags))

    def including(self, *tags) -> "Mode":
        return self._with(self.excluded - _stages(tags))

    def requiring(self, *tags) -> "Mode":
        return self.including(*tags)

    def _with(self, excluded) -> "Mode":
        import copy
        mode = copy.copy(self)
        mode.excluded = frozenset(excluded)
        return mode


def _stages(tags) -> frozenset:
    from aotsym.optimizer.pipeline import STAGES
    out = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"Mode.excluding/including: a tag is a string, not {tag!r}")
        out.update(_STAGE_TAGS.get(tag.lower(), (tag,) if tag in STAGES else ()))
    return frozenset(out)


class ProfileMode(Mode):
    """Theano's ProfileMode: ``profmode = aotsym.ProfileMode(optimizer='fast_run',
    linker=aotsym.gof.OpWiseCLinker())``; every function compiled with ``mode=profmode`` is
    profiled (:mod:`aotsym.frontend.profiled`), and ``profmode.print_summary()`` prints the
    report of each one that ran.  The linker is accepted and changes nothing (aotsym
    compiles whole modules)."""

    def __init__(self, linker=None, optimizer="fast_run"):
        super().__init__("PROFILE_MODE", linker, optimizer)
        self.profile_memory = False
        self._functions = []   # weak references to the functions compiled with this mode

    def __repr__(self):
        return f"ProfileMode(optimizer={self.optimizer!r})"

    def print_summary(self, file=None):
        """The profile report of every function compiled with this mode that was called."""
        import sys
        out = file or sys.stdout
        live = [f for f in (ref() for ref in self._functions) if f is not None]
        ran = [f for f in live if f._py_calls]
        if not ran:
            print("ProfileMode.print_summary(): no function compiled with this mode has run",
                  file=out)
        for f in ran:
            f.print_profile(out)


class Out:
    """An output with options (Theano's ``Out(variable, borrow=False)``): every call returns
    fresh arrays the caller owns, so ``borrow`` changes nothing."""

    def __init__(self, variable, borrow=False):
        self.variable, self.borrow = variable, borrow


def clone(output, replace=None, strict=True, share_inputs=True):
    """Theano's ``theano.clone``: ``output`` (a variable or a list of them) rebuilt with the
    variables of ``replace`` (a dict or ``(old, new)`` pairs) substituted.  ``strict``: a
    replacement must have the type of what it replaces (else TypeError); otherwise it is
    converted to it where the conversion is safe.  The graph is a value (nodes are interned),
    so the parts not replaced are shared.  ``share_inputs=False`` clones the inputs as Theano
    does: a fresh variable for each symbolic input, and for each shared variable a
    :class:`~aotsym.frontend.shared.SharedClone` (the same storage, its own identity and
    ``default_update``) — the replacements' inputs too, as Theano's."""
    from aotsym.frontend.shared import SharedClone
    from aotsym.graph.basic import clone_replace, graph_inputs
    from aotsym.graph.convert import as_tensor_variable
    pairs = list(replace.items() if isinstance(replace, dict) else replace or [])
    news = []
    for old, new in pairs:
        new = as_tensor_variable(new)
        if new.type != old.type:
            if strict or new.type.ndim != old.type.ndim:
                raise TypeError(f"aotsym.clone: the replacement of {old} has type {new.type}, "
                                f"not {old.type}")
            new = new.astype(old.type.dtype) if new.type.dtype != old.type.dtype else new
        news.append(new)
    fresh = {}
    if not share_inputs:   # the inputs of the outputs and of the replacements
        outs = list(output) if isinstance(output, (list, tuple)) else [output]
        replaced = {id(old) for old, _ in pairs}
        kept = [v for v in graph_inputs(outs) if id(v) not in replaced]
        for v in kept + graph_inputs(news):
            if not isinstance(v, Constant) and v not in fresh:
                fresh[v] = SharedClone(v) if isinstance(v, SharedVariable) else v.clone()
        news = clone_replace(news, fresh) if news else news
    memo = dict(fresh)
    memo.update((old, new) for (old, _), new in zip(pairs, news))
    many = isinstance(output, (list, tuple))
    outs = clone_replace(list(output) if many else [output], memo)
    return outs if many else outs[0]


class Function:
    """A compiled function.  Call it with one value per input (positionally or by name).

    Theano's attributes that ported code reads: ``f.maker.fgraph`` (the optimized graph),
    ``f.name`` (default: where it was made, ``"file.py:14"``), ``f.trust_input`` (skip
    argument checks: the caller promises arrays of the exact declared types).
    """

    def __init__(self, inputs, outputs, updates=None, givens=None, mode=None, name=None,
                 allow_input_downcast=None, profile=False, on_unused_input=None,
                 accept_inplace=False, no_default_updates=False, rebuild_strict=True):
        self.trace = user_source_info()
        # Theano's f.name: the name given, else where the function was made ("file.py:14")
        self.name = name if name is not None or self.trace is None else \
            f"{self.trace.filename}:{self.trace.lineno}"
        self.mode = normalize_mode(mode.name if isinstance(mode, Mode) else mode or config.mode)
        self.allow_input_downcast = allow_input_downcast
        self.profiled = bool(profile) or self.mode == "PROFILE_MODE" or bool(config.profile)
        self.trust_input = False
        if updates is not None and not isinstance(updates, (dict, list, tuple)):
            updates = list(updates)   # (kept for pickling: an iterator is read once)
        if on_unused_input is None:
            on_unused_input = config.on_unused_input
        # what the function is made of, for pickle and deepcopy (never the machine code)
        self._recipe = dict(inputs=inputs, outputs=outputs, updates=updates,
                            givens=givens, mode=self.mode, name=name,
                            allow_input_downcast=allow_input_downcast, profile=profile,
                            on_unused_input=on_unused_input,
                            no_default_updates=no_default_updates,
                            rebuild_strict=rebuild_strict)
        if not isinstance(no_default_updates, (bool, list, tuple)):
            raise TypeError("aotsym.function: no_default_updates must be True, False or a "
                            f"list of shared variables, got {no_default_updates!r}")
        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"aotsym.function: on_unused_input must be 'raise', 'warn' or "
                             f"'ignore', got {on_unused_input!r}")
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("aotsym.function: inputs must be a list of symbolic variables, got "
                            f"{type(inputs).__name__}")
        specs = [i if isinstance(i, In) else In(i) for i in inputs]
        cut = {}
        for k, spec in enumerate(specs):
            if not isinstance(spec.variable, Variable) or isinstance(spec.variable, Constant):
                raise TypeError(f"aotsym.function: input {k} is {spec.variable!r}, not a "
                                "symbolic input variable (T.matrix('x') ...)")
            if spec.variable.owner is not None:
                # Theano: an input computed from other variables cuts the graph there (its
                # value is given; what it is computed from is not needed)
                leaf = spec.variable.type(spec.variable.name)
                cut[spec.variable] = leaf
                spec = specs[k] = In(leaf, spec.name, spec.value, borrow=spec.borrow,
                                     strict=spec.strict, allow_downcast=spec.allow_downcast,
                                     mutable=spec.mutable)
            if isinstance(spec.variable, SharedVariable):
                raise TypeError(f"Cannot use a shared variable ({spec.variable!r}) as explicit "
                                f"input (input {k} of aotsym.function): shared variables "
                                "are implicit inputs")
        # Inputs with an update (Theano's input state): the updates are computed as extra
        # outputs, which _InputUpdates stores as the inputs' new defaults
        self._in_updates = [k for k, spec in enumerate(specs) if spec.update is not None]
        if self._in_updates:
            import copy as copy_module
            specs = [copy_module.copy(s) for s in specs]   # (their values change per call)
            self._user_single = not isinstance(outputs, (list, tuple, dict))
            if not isinstance(outputs, dict):
                outputs = [outputs] if self._user_single else list(outputs)
        import copy as copy_module
        for k, spec in enumerate(specs):
            if spec.value is not None:
                # Theano's container holds the value as the input's type (In(x, value=3)
                # reads back as array(3.0) through f[x])
                specs[k] = spec = copy_module.copy(spec)
                spec.value = filter_value(
                    spec.value, spec.variable.type, strict=spec.strict,
                    allow_downcast=allow_input_downcast if spec.allow_downcast is None
                    else spec.allow_downcast,
                    what=f"aotsym.function: the value of input {k} ({spec.variable})")
        if len({id(s.variable) for s in specs}) != len(specs):
            raise UnusedInputError("aotsym.function: a variable is given twice in inputs "
                                   f"({[s.variable for s in specs]})")
        self.input_specs = specs
        self.input_vars = [s.variable for s in specs]
        self.input_names = [s.name or s.variable.name for s in specs]
        self.output_keys = None
        if isinstance(outputs, dict):   # Theano's dictionary outputs, in sorted key order
            self.output_keys = _output_keys(outputs)
            outputs = [outputs[k] for k in self.output_keys]
        if self._in_updates:
            outputs = outputs + [specs[k].update for k in self._in_updates]
        self.single_output = not isinstance(outputs, (list, tuple))
        if cut:
            from aotsym.frontend.assemble import normalize_givens
            givens = {**(normalize_givens(givens) if givens else {}), **cut}
        with without_test_values():   # (the user's graph has them; its rebuilding needs none)
            self.assembled = assemble(
                self.input_vars, [outputs] if self.single_output else list(outputs), updates,
                name=name, single_output=self.single_output, givens=givens,
                on_unused_input=on_unused_input, arg_names=self.input_names,
                trace=self.trace, no_default_updates=no_default_updates,
                rebuild_strict=rebuild_strict)
        self.label = self.assembled.label
        self.shared_vars = self.assembled.shared_inputs
        self.updated = self.assembled.updated
        self.n_outputs = self.assembled.n_outputs
        self.unoptimized = self.assembled.fgraph
        exclude = tuple(sorted(mode.excluded)) if isinstance(mode, Mode) else None
        options = BuildOptions.from_config(profile=self.profiled, exclude=exclude)
        if getattr(mode, "guard", None) is not None:
            # NanGuardMode: the graph FAST_RUN compiles, run node by node by its guard
            (fgraph,) = optimize_graphs([self.assembled], self.mode, options.fast_math,
                                        options.target, options.exclude or ())
            self._run = mode.guard(fgraph, self.input_names)
        else:
            (self._run,) = build_functions([self.assembled], self.mode, options)
        self._exact, self._checked_updates = self._fast_path()
        self._state_lock = StateLock(self.shared_vars)

    @property
    def maker(self):
        return self

    @property
    def fgraph(self):
        """The optimized graph (Theano's ``f.maker.fgraph``).  A function whose module came
        from the build cache by its graph key is optimized again when this is first read."""
        return self._run.fgraph

    def __reduce__(self):
        """A function pickles as what it is made of (inputs, outputs, updates, givens, mode,
        options) and is rebuilt on load, from the build cache when the same graph was built
        before; machine code is never pickled.  ``copy.deepcopy(f)`` is a function over
        deep copies of those: its own shared variables, with copies of their values."""
        return (_unpickle_function, (self._recipe, self.trust_input))

    # Theano's containers: f[x] is the value f uses for its input x when the call gives
    # none (an In's value, its state after an update), f[w] a shared variable's value; by
    # the variable, its name or its position.  f.value[x] and f.container[x].value too.
    def __getitem__(self, item):
        return self._container(item).value

    def __setitem__(self, item, value):
        self._container(item).value = value

    @property
    def value(self):
        return Containers(self, lambda c: c.value, set_value)

    @property
    def container(self):
        return Containers(self, lambda c: c)

    def _container(self, item):
        for shared in self.shared_vars:
            if item is shared:
                return SharedContainer(shared)
        n = len(self.input_specs)
        if isinstance(item, str):
            hits = [InputContainer(self, k) for k in range(n) if self.input_names[k] == item]
            hits += [SharedContainer(v) for v in self.shared_vars if v.name == item]
            if len(hits) > 1:
                raise TypeError(f"{self.label}: more than one input or state is named "
                                f"{item!r}; use the variable itself")
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -n <= item < n:
                raise IndexError(f"{self.label} has {n} input{'s' * (n != 1)}, not an "
                                 f"input {item}")
            hits = [InputContainer(self, int(item) % n)]
        else:   # the variable as the user gave it (an input computed from others is cut)
            given = [i.variable if isinstance(i, In) else i for i in self._recipe["inputs"]]
            hits = [InputContainer(self, k) for k in range(n)
                    if self.input_vars[k] is item or given[k] is item]
        if not hits:
            raise TypeError(f"{self.label}: unknown input or state {item!r}; its inputs are: "
                            f"{', '.join(map(str, self.input_names))}")
        return hits[0]

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None,
             profile=None):
        """Theano's ``f.copy()``: a new function computing the same thing over the same
        shared variables (their values are shared, as in Theano: ``share_memory`` is about
        Theano's intermediate storage, which a compiled module does not expose).

        ``swap``: ``{shared variable of f: shared variable of the same type}``, the copy
        reading and updating the second where f reads and updates the first (f unchanged);
        ``delete_updates``: the copy updates nothing (neither f's updates nor the default
        updates of random streams).  A copy returns what f returns (Theano 1.0's copy
        returned a list for a single output; PyTensor's returns what f does)."""
        recipe = dict(self._recipe)
        if swap:
            recipe = swapped(recipe, self._swap_map(swap))
        if delete_updates:
            # (an input read only by an update is now unused: f accepted it, so does its copy)
            recipe.update(updates=None, no_default_updates=True, on_unused_input="ignore")
        if name is not None:
            recipe["name"] = name
        if profile is not None:
            recipe["profile"] = profile
        return _unpickle_function(recipe, self.trust_input)

    def _swap_map(self, swap) -> dict:
        if not isinstance(swap, dict):
            raise TypeError(f"{self.label}.copy: swap must be a dict {{old shared variable: "
                            f"new shared variable}}, got {type(swap).__name__}")
        for old, new in swap.items():
            if not isinstance(old, SharedVariable) or old not in self.shared_vars:
                raise ValueError(f"{self.label}.copy: swap names {old!r}, which is not a "
                                 "shared variable of this function")
            if not isinstance(new, SharedVariable):
                raise TypeError(f"{self.label}.copy: swap maps {old!r} to {new!r}, which is "
                                "not a shared variable")
            if new.type != old.type:
                raise TypeError(f"{self.label}.copy: swap maps {old!r} ({old.type}) to "
                                f"{new!r} ({new.type}): the types differ")
        return dict(swap)

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
            if self.input_names.count(key) > 1:   # (Theano's: an ambiguous name)
                raise TypeError(f"{self.label}: more than one input is named {key!r}; pass "
                                "those inputs by position")
            k = self.input_names.index(key)
            if given[k]:
                raise TypeError(f"{self.label} got multiple values for argument {key!r}")
            values[k], given[k] = val, True
        out = []
        for k, spec in enumerate(self.input_specs):
            var, label = spec.variable, self.assembled.labels[k]
            if not given[k]:
                if spec.value is None:
                    raise TypeError(f"{label} is missing ({var.type.describe()}); "
                                    f"{self.label} takes {n} argument{'s' * (n != 1)}")
                values[k] = spec.value
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
        new_types = self._run.output_types[self.n_outputs:]
        checked = [k for k, (var, new) in enumerate(zip(self.updated, new_types))
                   if new != var.type or any(var.broadcastable)]
        return exact, checked

    def __call__(self, *args, **kwargs):
        if self.shared_vars:
            with self._state_lock:  # from reading the state to storing the updates
                return self._call(args, kwargs)
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
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


class OutputKeyError(TypeError, AssertionError):
    """A key of a dictionary of outputs that is not a string (Theano: an AssertionError)."""


def _output_keys(outputs: dict) -> list:
    """The keys of a dictionary of outputs, sorted (the order Theano computes them in)."""
    for key in outputs:
        if not isinstance(key, str):
            raise OutputKeyError(f"aotsym.function: the keys of a dictionary of outputs must "
                                 f"be strings, got {key!r}")
    return sorted(outputs)


class _DictOutputs:
    """The call of a function made with a dictionary of outputs returns a dictionary
    ``{key: value}`` (Theano's); a separate class, so other functions' calls pay nothing."""

    def __call__(self, *args, **kwargs):
        return dict(zip(self.output_keys, super().__call__(*args, **kwargs)))


class DictOutputFunction(_DictOutputs, Function):
    pass


class _InputUpdates:
    """The call of a function with ``In(x, value=..., update=expr)`` inputs: the last
    outputs are the updates' values, stored as those inputs' new defaults; the rest are the
    user's outputs."""

    def __call__(self, *args, **kwargs):
        results = super().__call__(*args, **kwargs)
        cut = len(results) - len(self._in_updates)
        for k, new in zip(self._in_updates, results[cut:]):
            self.input_specs[k].value = new
        del results[cut:]
        return results[0] if self._user_single else results


@functools.lru_cache(maxsize=None)
def _function_class(base, dict_outputs, input_updates):
    """``base`` (Function or ProfiledFunction) with the call wrappers a function needs."""
    if not (dict_outputs or input_updates):
        return base
    if base is Function and not input_updates:
        return DictOutputFunction
    mixins = ((_DictOutputs,) if dict_outputs else ()) + \
        ((_InputUpdates,) if input_updates else ())
    return type("".join(m.__name__.strip("_") for m in mixins) + base.__name__,
                mixins + (base,), {})


def _unpickle_function(recipe, trust_input):
    f = function(**recipe)
    f.trust_input = trust_input
    return f


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


# the arguments after (inputs, outputs) by position: aotsym's order, or Theano's when the
# third is a mode (Theano's signature is function(inputs, outputs, mode, updates, givens, ...))
_POSITIONAL = ("updates", "givens", "mode", "name", "allow_input_downcast", "profile",
               "on_unused_input")
_THEANO_POSITIONAL = ("mode", "updates", "givens", "no_default_updates", "accept_inplace",
                      "name", "rebuild_strict", "allow_input_downcast", "profile",
                      "on_unused_input")


def function(inputs, outputs=None, *args, **kwargs):
    """Compile ``outputs`` as a function of ``inputs`` (Theano's ``theano.function``).

    The arguments after ``outputs`` by position come in the order ``updates, givens, mode,
    name, allow_input_downcast, profile, on_unused_input``, or in Theano's (``mode, updates,
    givens, no_default_updates, accept_inplace, name, rebuild_strict, ...``) when the third
    argument is a mode.

    ``inputs``: symbolic variables or :class:`In`; ``outputs``: one variable (the call returns
    an array), a list (a list), a dict with string keys (a dict; Theano's dictionary
    outputs) or None (an empty list).  ``updates``: a dict or a list of
    ``(shared variable, new value)`` pairs, all applied after a call succeeds and none when it
    fails.  ``givens``: ``{variable: replacement}`` substituted before compiling.
    ``allow_input_downcast``: True accepts arguments whose conversion loses precision (float64
    for a float32 input); None (default, Theano's) accepts that only for Python floats passed
    to floatX inputs; False never.  ``on_unused_input``: 'raise', 'warn' or 'ignore'
    (default ``aotsym.config.on_unused_input``, 'raise').  ``mode``: 'FAST_RUN',
    'FAST_COMPILE', 'DEBUG_MODE', 'PROFILE_MODE' (Theano's 'DebugMode' and 'ProfileMode'
    too), 'NanGuardMode' or a :class:`Mode` (a :class:`aotsym.compile.nanguardmode.
    NanGuardMode` names the node that first makes a nan, an infinity or a huge value); default
    ``aotsym.config.mode``.
    ``no_default_updates``: True skips the ``default_update`` of the shared variables read
    (a random stream's state: the same draws every call), a list skips those it names.
    ``rebuild_strict=False`` lets ``givens`` replace a variable by one of another type
    (the graph is rebuilt around it).  Theano's ``accept_inplace`` is accepted and changes
    nothing.  Every call returns fresh arrays the caller owns.
    """
    order = _THEANO_POSITIONAL if args and isinstance(args[0], (str, Mode)) else _POSITIONAL
    if len(args) > len(order):
        raise TypeError(f"aotsym.function takes at most {2 + len(order)} positional "
                        f"arguments ({2 + len(args)} given)")
    for name, value in zip(order, args):
        if name in kwargs:
            raise TypeError(f"aotsym.function got multiple values for argument {name!r}")
        kwargs[name] = value
    return _function(inputs, outputs, **kwargs)


def _function(inputs, outputs=None, updates=None, givens=None, mode=None, name=None,
              allow_input_downcast=None, profile=False, on_unused_input=None, **kwargs):
    """:func:`function` with its arguments by name."""
    if outputs is None:
        outputs = []
    if hasattr(outputs, "__aotsym_variable__"):   # x.shape: one int64 vector (Theano's)
        outputs = outputs.__aotsym_variable__()
    if isinstance(outputs, Out):
        outputs = outputs.variable
    elif isinstance(outputs, (list, tuple)):
        outputs = [o.variable if isinstance(o, Out) else o for o in outputs]
    elif isinstance(outputs, dict):   # {name: output}: each call returns {name: value}
        outputs = {k: o.variable if isinstance(o, Out) else o for k, o in outputs.items()}
    if isinstance(mode, str) and mode.lower() == "nanguardmode":   # (Theano's name)
        from aotsym.compile.mode import get_mode
        mode = get_mode(mode)
    cls = Function
    mode_name = normalize_mode(mode.name if isinstance(mode, Mode) else mode or config.mode)
    if profile or mode_name == "PROFILE_MODE" or config.profile:
        # (the profile's report code is imported only by those who ask for it)
        from aotsym.frontend.profiled import ProfiledFunction
        cls = ProfiledFunction   # f.profile(), f.print_profile(), f.reset_profile()
    cls = _function_class(cls, isinstance(outputs, dict), isinstance(inputs, (list, tuple))
                          and any(isinstance(i, In) and i.update is not None for i in inputs))
    f = cls(inputs, outputs, updates=updates, givens=givens, mode=mode, name=name,
            allow_input_downcast=allow_input_downcast, profile=profile,
            on_unused_input=on_unused_input, **kwargs)
    if isinstance(mode, ProfileMode):
        import weakref
        mode._functions.append(weakref.ref(f))
    return f


def function_dump(filename, inputs, outputs=None, mode=None, updates=None, givens=None,
                  no_default_updates=False, accept_inplace=False, name=None,
                  rebuild_strict=True, allow_input_downcast=None, profile=None,
                  on_unused_input=None, extra_tag_to_remove=None):
    """Theano's ``function_dump``: pickle the arguments of an ``aotsym.function`` call to
    ``filename`` (to reproduce a problem elsewhere); ``aotsym.function(**pickle.load(f))``
    builds the function again.  ``extra_tag_to_remove`` is accepted for compatibility."""
    import pickle
    d = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
             no_default_updates=no_default_updates, accept_inplace=accept_inplace,
             name=name, rebuild_strict=rebuild_strict,
             allow_input_downcast=allow_input_downcast, profile=profile,
             on_unused_input=on_unused_input)
    with open(filename, "wb") as f:
        pickle.dump(d, f, -1)
