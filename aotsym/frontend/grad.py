"""``aotsym.grad``: reverse-mode differentiation over the graph.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The rules live with
the ops (``Op.grad``; the scalar table's ``grad`` column); this module only walks the graph
backwards — iteratively, so a 100,000-node chain differentiates without recursion — and sums
the contributions reaching each variable.

An integer-valued cost has a zero gradient (Theano's rule: the derivative through a
discrete value is zero, not an error): every variable it depends on gets zeros, of
``floatX`` where the variable is an integer one (Theano's ``_float_zeros_like``).  So does
an integer-typed ``wrt`` that a float cost depends on (Theano's ops give integer inputs
float zeros): ``grad(cost, u)`` for an ``ivector`` ``u`` read through ``cast`` is zeros.
Two exceptions, Theano's: ``grad(x, x)`` is ones (floatX) for an integer ``x`` too, and a
``wrt`` given in ``known_grads`` gets that gradient, whatever its dtype.

An op with no gradient on the path raises :class:`NullTypeGradError` (Theano's name; a
``NotImplementedError`` and a ``TypeError``), as does an op whose ``grad`` returns
:func:`grad_undefined` (or ``grad_not_implemented``) for an input on the path; a
``DisconnectedType()()`` returned for an input means no gradient flows there (Theano's
spellings in user ops' ``grad``).

The nodes of a node's gradient record that node's source line, noted "in the gradient taken
at <the grad call>": an error in the backward pass names the user's expression it came from.
"""

from __future__ import annotations

import warnings

from aotsym.graph.basic import Variable, toposort, traced_as, user_source_info
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops import math as m
from aotsym.graph.test_values import without_test_values
from aotsym.graph.types import dtype_kind


class DisconnectedInputError(ValueError):
    """The cost does not depend on a variable passed in ``wrt``."""


class NullTypeGradError(NotImplementedError, TypeError):
    """An op on the path has no gradient (Theano's ``NullTypeGradError``, a TypeError; a
    NotImplementedError too, which is what an op's ``grad`` raises when it has none)."""


class NullGradient:
    """What ``grad_undefined`` / ``grad_not_implemented`` return: the gradient of an op's
    input that is not defined.  Reaching a ``wrt`` through it is a NullTypeGradError."""

    def __init__(self, why):
        self.why = why

    def __repr__(self):
        return f"NullGradient({self.why!r})"


class DisconnectedType:
    """Theano's ``DisconnectedType()()``: returned by an op's ``grad`` for an input the
    outputs do not depend on (no gradient flows there)."""

    def __call__(self):
        return None

    def __repr__(self):
        return "DisconnectedType()"


def grad_undefined(op, x_pos, x, comment=""):
    """Theano's: the gradient of ``op``'s input ``x_pos`` (``x``) is mathematically
    undefined."""
    return NullGradient(f"the gradient of {op} with respect to its input {x_pos} ({x!r}) is "
                        f"undefined" + (f": {comment}" if comment else ""))


def grad_not_implemented(op, x_pos, x, comment=""):
    """Theano's: the gradient of ``op``'s input ``x_pos`` (``x``) is not implemented."""
    return NullGradient(f"the gradient of {op} with respect to its input {x_pos} ({x!r}) is "
                        f"not implemented" + (f": {comment}" if comment else ""))


def _zeros_like(v: Variable) -> Variable:
    return m.fill(v, as_tensor_variable(0, dtype=v.dtype))


def _float_ones_like(v: Variable) -> Variable:
    """Ones shaped like ``v``: of its dtype when it is a float one, else of ``floatX``."""
    from aotsym.graph.types import floatx
    dtype = v.dtype if dtype_kind(v.dtype) in "fc" else floatx()
    return m.fill(v, as_tensor_variable(1.0, dtype=dtype))


def _float_zeros_like(v: Variable) -> Variable:
    """Zeros shaped like ``v``: of its dtype when it is a float one, else of ``floatX``."""
    from aotsym.graph.types import floatx
    dtype = v.dtype if dtype_kind(v.dtype) in "fc" else floatx()
    return m.fill(v, as_tensor_variable(0, dtype=dtype))


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise",
         add_names=True, known_grads=None, return_disconnected="zero",
         null_gradients="raise"):
    """Gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list;
    Theano's signature).

    ``disconnected_inputs``: ``'raise'`` (default), ``'warn'`` or ``'ignore'`` when ``cost``
    does not depend on an element of ``wrt``; ``return_disconnected``: ``'zero'`` (a zero
    tensor of that variable's type) or ``'None'``.  ``consider_constant``: variables through
    which no gradient flows.  ``known_grads``: ``{variable: gradient}`` to start from instead
    of (or beside) ``cost`` (a gradient ``DisconnectedType()()``, None, means none).
    ``add_names``: a named cost and a named ``wrt`` name the gradient ``'(dcost/dwrt)'``.
    ``null_gradients`` is accepted ('raise', Theano's default, is what happens).
    """
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for i, w in enumerate(wrt_list):
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt[{i}] is {type(w).__name__}, not a symbolic variable")
    seeds = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(f"grad: the cost must be a scalar, got {cost.type.describe()}; "
                            "reduce it first (e.g. cost.sum() or cost.mean())")
        if dtype_kind(cost.dtype) in "fc":
            seeds[id(cost)] = m.fill(cost, as_tensor_variable(1.0, dtype=cost.dtype))
    cut = {id(v) for v, g in (known_grads or {}).items() if g is None}
    if cost is not None and id(cost) in cut:   # the cost's own gradient given as none
        seeds.pop(id(cost), None)
    known_grads = {v: g for v, g in (known_grads or {}).items() if g is not None}
    for v, g in known_grads.items():
        seeds[id(v)] = as_tensor_variable(g)
    roots = ([cost] if cost is not None else []) + list(known_grads.keys())
    blocked = {id(v) for v in (consider_constant or [])}

    # Only nodes between wrt and the roots need a gradient.
    wanted = {id(w) for w in wrt_list}
    order = toposort(roots)
    on_path = set(wanted)
    for node in order:
        if any(id(v) in on_path for v in node.inputs):
            on_path.update(id(o) for o in node.outputs)

    grads = dict(seeds)
    trace_for = _GradientTraces(user_source_info())
    # (no test values inside: ops' gradients build inner graphs on placeholders; the
    # gradients are computed when read, aotsym.graph.test_values)
    with without_test_values():
        for node in reversed(order):
            if not any(id(o) in grads for o in node.outputs):
                continue
            if not any(id(v) in on_path for v in node.inputs):
                continue
            if any(id(o) in blocked for o in node.outputs):
                continue
            with traced_as(trace_for(node)):
                _backprop(node, grads, on_path, blocked)

    # Zero, not disconnected, through a discrete value: what an integer cost depends on,
    # and an integer wrt the cost depends on (Theano's ops give integer inputs zeros)
    int_cost = cost is not None and id(cost) not in seeds and id(cost) not in cut
    discrete = set()
    if int_cost or any(dtype_kind(w.dtype) not in "fc" for w in wrt_list):
        discrete = _depends_on([r for r in roots if id(r) not in cut], order, blocked)
    results = []
    known_ids = {id(v) for v in known_grads}
    for w in wrt_list:
        g = grads.get(id(w))
        if id(w) in known_ids:
            pass   # (a gradient given for w is its gradient, whatever w's dtype: Theano's)
        elif cost is not None and w is cost and id(w) not in seeds:
            g = _float_ones_like(w)   # d x / d x is 1, an integer x too (Theano's)
        elif id(w) in discrete and (int_cost or dtype_kind(w.dtype) not in "fc"):
            g = _float_zeros_like(w)
        if g is None:
            msg = (f"grad: the cost does not depend on {w!r} ({w.type.describe()}), "
                   "passed in wrt; pass disconnected_inputs='ignore' to get zeros")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(msg)
            if disconnected_inputs == "warn":
                warnings.warn(msg, stacklevel=2)
            g = None if return_disconnected == "None" else _zeros_like(w)
        if add_names and g is not None and g.name is None and g.owner is not None and \
                cost is not None and cost.name and w.name:
            g.name = f"(d{cost.name}/d{w.name})"
        results.append(g)
    if single:
        return results[0]
    return tuple(results) if isinstance(wrt, tuple) else results   # (Theano's format_as)


def _depends_on(roots, order, blocked):
    """The ids of the variables the roots depend on, not through ``blocked`` variables nor
    a ``disconnected_grad``."""
    reached = {id(r) for r in roots}
    for node in reversed(order):
        if (not any(id(o) in reached for o in node.outputs)
                or getattr(node.op, "kind", None) == "disconnected"):
            continue
        reached.update(id(v) for v in node.inputs if id(v) not in blocked)
    return reached


def _backprop(node, grads, on_path, blocked):
    """Add ``node``'s contributions to the gradients of its inputs (in ``grads``)."""
    gouts = [grads[id(o)] if id(o) in grads else _zeros_like(o) for o in node.outputs]
    try:
        in_grads = node.op.grad(node, list(node.inputs), gouts)
    except NullTypeGradError:
        raise
    except NotImplementedError as exc:
        raise NullTypeGradError(f"grad: {exc}") from exc
    if len(in_grads) != len(node.inputs):
        raise ValueError(f"{node.op}.grad returned {len(in_grads)} gradients for "
                         f"{len(node.inputs)} inputs")
    for inp, g in zip(node.inputs, in_grads):
        # (a consider_constant variable gets its own gradient, Theano's rule; only what
        # computes it gets none: the walk skips the node that makes it)
        if g is None or id(inp) not in on_path:
            continue
        if isinstance(g, NullGradient):
            raise NullTypeGradError(f"grad: {g.why}")
        g = as_tensor_variable(g)
        if g.type != inp.type:
            from aotsym.graph.ops.elemwise import reduce_to_input
            g = reduce_to_input(g, inp)
        prev = grads.get(id(inp))
        grads[id(inp)] = g if prev is None else m.add(prev, g)


class _GradientTraces:
    """The source line a node's gradient records: the node's own line, noted with the line
    of the ``grad`` call (``site``); the ``grad`` line itself for a node without one."""

    def __init__(self, site):
        self.site = site
        self.note = f"in the gradient taken at {site.short()}" if site else "in a gradient"
        self.memo: dict = {}

    def __call__(self, node):
        trace = node.outputs[0].tag.trace
        if trace is None:
            return self.site
        key = (trace.filename, trace.lineno, trace.function)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = trace.noted(self.note)
        return found

