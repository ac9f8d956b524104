"""``IfElse``: the lazy conditional (Theano's ``theano.ifelse``), an op holding two branches.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``ifelse(c, a, b)`` is one
node whose op holds two closed inner graphs (:mod:`aotsym.graph.inner`), one per branch::

    z = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    # IfElse(lt(a, b), mean(x), mean(y)) with then: (p0, p1) -> p0, else: (p0, p1) -> p1

Layout (what the lowering and the renderers rely on):

* inputs ``(cond, v_0, ..., v_{n-1})``: ``cond`` a scalar of bool or integer dtype (nonzero
  is true); the values are what the branches read;
* ``then_graph`` and ``else_graph`` both take ``n`` inputs, placeholder ``k`` standing for
  ``v_k`` (each graph has its own placeholders), and give ``m`` outputs each; output ``j`` of
  the node is output ``j`` of the branch taken.  The two branches' output ``j`` have the same
  type (dtype and broadcastable pattern), which is the node's output type;
* ``structured_kind`` is ``"branch"`` (``aotsym.optimizer.program.BRANCH``): the lowering
  makes the node a structured step with one nested program per branch, and
  ``structured_params(node)`` says ``{"condition": 0, "body_inputs": ((1, .., n), (1, .., n))}``
  (the step input read as the condition; for each body, the step input each of its inputs is
  bound to).

Laziness is decided from the graph, not the user's spelling: :func:`ifelse` builds identity
branches over the outer values, and the optimizer's ``ifelse`` stage
(:mod:`aotsym.optimizer.ifelse`) moves into a branch every node only that branch reads.
``perform`` runs only the taken branch; ``grad`` is an ``IfElse`` of the branches' gradients
(so the backward pass is lazy too); ``infer_shape`` keeps the lengths both branches agree
on; ``prune_outputs`` drops outputs nobody reads and the values no branch reads then.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import FROM_STACK, Constant, Variable, apply, constant, \
    graph_inputs, user_source_info
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.inner import HasInnerGraphs, InnerGraph, copy_if_aliased
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind

BRANCH = "branch"  # aotsym.optimizer.program.BRANCH (the IR does not import the optimizer)
_DIFFERENTIABLE = ("float32", "float64")


def _where(trace) -> str:
    return f"\n  at {trace}" if trace is not None else ""


def check_condition(cond, trace=None) -> Variable:
    """``cond`` as a bool or integer scalar variable (nonzero is true): a float or complex
    scalar is Theano's too, read as ``cond != 0`` (so NaN is true, as Theano's C code reads
    it); anything else is a TypeError naming the user's line (``trace``, default: the
    caller's)."""
    cond = as_tensor_variable(cond)
    if cond.ndim == 0 and dtype_kind(cond.dtype) in "biu":
        return cond
    if cond.ndim == 0 and dtype_kind(cond.dtype) in "fc":
        from aotsym.graph.ops.math import neq
        return neq(cond, constant(0, dtype=cond.dtype))
    trace = trace if trace is not None else user_source_info()
    fix = ("use T.switch(cond, a, b) for an elementwise choice, or reduce the condition "
           "to one value (cond.any(), cond.all(), cond[0])")
    raise TypeError(f"ifelse: the condition must be a scalar (nonzero is true), got "
                    f"{cond.type.describe()} ({cond!r}); {fix}{_where(trace)}")


def read_inputs(graph: InnerGraph) -> set:
    """Indices of ``graph``'s placeholders that its outputs read."""
    ids = {id(v) for v in graph_inputs(graph.outputs)}
    return {k for k, v in enumerate(graph.inputs) if id(v) in ids}


class IfElse(HasInnerGraphs, Op):
    """``IfElse(then_graph, else_graph, name=None)``: see the module docstring.

    Users call :func:`ifelse`; passes build nodes with :func:`make_ifelse`, which drops the
    values no branch reads.
    """

    __props__ = ("then_graph", "else_graph")
    structured_kind = BRANCH

    def __new__(cls, then_graph=None, else_graph=None, name=None, **theano_options):
        if isinstance(then_graph, (int, np.integer)):   # Theano's IfElse(n_outs, ...)
            return TheanoIfElse(int(then_graph), name=name, **theano_options)
        return super().__new__(cls)

    def __init__(self, then_graph: InnerGraph, else_graph: InnerGraph, name=None):
        if then_graph.input_types != else_graph.input_types:
            raise TypeError("IfElse: the branches must take the same inputs")
        if len(then_graph.outputs) != len(else_graph.outputs):
            raise TypeError(f"IfElse: the then branch has {len(then_graph.outputs)} outputs, "
                            f"the else branch {len(else_graph.outputs)}")
        for j, (t, e) in enumerate(zip(then_graph.output_types, else_graph.output_types)):
            if t != e:
                raise TypeError(f"IfElse: output {j} is {t.describe()} in the then branch and "
                                f"{e.describe()} in the else branch")
        self.then_graph = then_graph
        self.else_graph = else_graph
        self.name = name
        self.nout = len(then_graph.outputs)

    # ------------------------------------------------------------------ inner graphs
    @property
    def inner_graphs(self) -> tuple:
        return (self.then_graph, self.else_graph)

    def with_inner_graphs(self, graphs) -> "IfElse":
        then_graph, else_graph = graphs
        if then_graph.input_types != self.then_graph.input_types or \
                then_graph.output_types != self.then_graph.output_types:
            raise TypeError(f"{self}.with_inner_graphs: the new branches' types differ")
        return IfElse(then_graph, else_graph, self.name)

    def structured_params(self, node) -> dict:
        bound = tuple(range(1, len(node.inputs)))
        return {"condition": 0, "body_inputs": (bound, bound)}

    def prune_outputs(self, node, used):
        """Keep the outputs at ``used`` (in index order) and the values they still read."""
        kept = sorted(used)
        if len(kept) == len(node.outputs):
            return None
        return make_ifelse(node.inputs[0], node.inputs[1:],
                           self.then_graph.select_outputs(kept),
                           self.else_graph.select_outputs(kept), self.name,
                           trace=node.outputs[0].tag.trace)

    # ------------------------------------------------------------------ building
    def __str__(self):
        return self.name or "IfElse"

    __repr__ = __str__

    def make_node_inputs(self, cond, *values) -> tuple:
        cond = check_condition(cond)
        return (cond, *self.then_graph.check_arguments(
            values, str(self), "value", built_for="the branches were built"))

    def output_types(self, inputs):
        return list(self.then_graph.output_types)

    # ------------------------------------------------------------------ semantics
    def perform(self, node, inputs):
        """Only the taken branch runs (the reference evaluator on its inner graph)."""
        cond, values = inputs[0], list(inputs[1:])
        branch = self.then_graph if np.asarray(cond).item() else self.else_graph
        return copy_if_aliased(branch.evaluate(values), values)

    def infer_shape(self, node, input_shapes):
        """Each output length both branches agree on (the same expression of the outer
        shapes); the others are asked of the result at run time."""
        from aotsym.graph.ops.shape import shape_i
        value_shapes = input_shapes[1:]
        got = [g.infer_shape(value_shapes) for g in self.inner_graphs]
        symbolic = all(isinstance(d, Variable) for s in input_shapes for d in s)
        placeholders = {id(v) for g in self.inner_graphs for v in g.inputs}
        result = []
        for j, out in enumerate(node.outputs):
            dims = []
            for d in range(out.ndim):
                a = got[0][j][d] if got[0] is not None else None
                b = got[1][j][d] if got[1] is not None else None
                agree = a is not None and (a is b or (
                    not isinstance(a, Variable) and not isinstance(b, Variable) and a == b))
                if agree and isinstance(a, Variable) and any(
                        id(v) in placeholders for v in graph_inputs([a])):
                    agree = False  # a length read from inside the branch
                if agree:
                    dims.append(a)
                elif symbolic:
                    dims.append(shape_i(out, d))
                else:
                    return None
            result.append(tuple(dims))
        return result

    def grad(self, node, inputs, output_grads):
        """The values' gradients: ``IfElse(cond, then's gradients, else's gradients)`` over
        the values and the output gradients (the condition has none)."""
        grad_op, wrt = self._grad_op(tuple(g.type for g in output_grads))
        result: list = [None] * len(inputs)
        if grad_op is None:
            return result
        got = grad_op(inputs[0], *inputs[1:], *output_grads)
        got = [got] if isinstance(got, Variable) else list(got)
        for k, g in zip(wrt, got):
            result[1 + k] = g
        return result

    def _grad_op(self, gout_types):
        cache = self.__dict__.setdefault("_grad_ops", {})
        found = cache.get(gout_types)
        if found is not None:
            return found
        wrt = [k for k, t in enumerate(self.then_graph.input_types) if t.dtype in _DIFFERENTIABLE]
        if not wrt or not any(t.dtype in _DIFFERENTIABLE for t in gout_types):
            found = cache[gout_types] = (None, [])
            return found
        gouts = [t(f"{self}_grad_out{k}") for k, t in enumerate(gout_types)]
        graphs = [_branch_grad(g, wrt, gouts) for g in self.inner_graphs]
        name = f"{self.name}_grad" if self.name else None
        found = cache[gout_types] = (IfElse(*graphs, name=name), wrt)
        return found


def _branch_grad(graph: InnerGraph, wrt, gouts) -> InnerGraph:
    """``(placeholders, output gradients) -> gradients of the placeholders at wrt``."""
    from aotsym.frontend.grad import grad  # the backward walker (graph -> its rules)
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import reduce_to_input
    known: dict = {}
    for out, g in zip(graph.outputs, gouts):
        if out.dtype in _DIFFERENTIABLE and not isinstance(out, Constant):
            g = reduce_to_input(g, out)
            known[out] = m.add(known[out], g) if out in known else g
    targets = [graph.inputs[k] for k in wrt]
    if known:
        grads = grad(None, targets, known_grads=known, disconnected_inputs="ignore",
                     return_disconnected="zero")
    else:
        grads = [m.fill(v, as_tensor_variable(0, dtype=v.dtype)) for v in targets]
    return InnerGraph(list(graph.inputs) + gouts, grads)


def make_ifelse(cond, values, then_graph: InnerGraph, else_graph: InnerGraph, name=None,
                trace=FROM_STACK):
    """The Apply of an ``IfElse`` of these branches (over placeholders for ``values``) on
    ``(cond, *values)``, keeping only the values some branch reads, each variable once."""
    values = list(values)
    read = read_inputs(then_graph) | read_inputs(else_graph)
    kept, slot_of, where = [], {}, {}
    for k, v in enumerate(values):
        if k not in read:
            continue
        j = slot_of.get(id(v))
        if j is None:
            j = slot_of[id(v)] = len(kept)
            kept.append(v)
        where[k] = j
    if len(kept) != len(values):
        placeholders = [then_graph.inputs[k].clone() for k in _firsts(where)]
        graphs = []
        for g in (then_graph, else_graph):
            outs = g.apply_to([placeholders[where[k]] if k in where else p
                               for k, p in enumerate(g.inputs)])
            graphs.append(InnerGraph(placeholders, outs))
        then_graph, else_graph = graphs
    op = IfElse(then_graph, else_graph, name)
    return apply(op, op.make_node_inputs(cond, *kept), trace=trace)


def _firsts(where: dict) -> list:
    """The first value position bound to each kept slot, in slot order."""
    first: dict = {}
    for k, j in where.items():
        first.setdefault(j, k)
    return [first[j] for j in sorted(first)]


# ---------------------------------------------------------------------------- the user API


class TheanoIfElse:
    """What Theano's ``IfElse(n_outs, as_view=False, gpu=False, name=None)`` makes: called
    as ``op(cond, *then_values, *else_values)`` it is :func:`ifelse` of those (one variable
    for ``n_outs == 1``, else a list).  ``as_view`` and ``gpu`` change nothing."""

    def __init__(self, n_outs, as_view=False, gpu=False, name=None):
        self.n_outs, self.as_view, self.gpu, self.name = n_outs, as_view, gpu, name

    def __call__(self, condition, *values):
        n = self.n_outs
        if len(values) != 2 * n:
            raise TypeError(f"IfElse({n}) takes the condition and {2 * n} values (the then "
                            f"values, then the else values), got {len(values)}")
        if n == 1:
            return ifelse(condition, values[0], values[1], name=self.name)
        return ifelse(condition, list(values[:n]), list(values[n:]), name=self.name)

    def __repr__(self):
        return f"IfElse({self.n_outs})"


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if ``condition`` else ``else_branch``, computing only the branch taken.

    Theano's ``theano.ifelse.ifelse``: ``condition`` is a scalar, nonzero is true (a float's
    NaN too); the branches are one variable each (returns one variable) or lists of
    the same length (returns a list), output ``j`` of both branches of the same dtype, ndim
    and broadcastable pattern.  Unlike ``T.switch``, which is elementwise and computes both,
    what only one branch needs is computed only when that branch is taken (the optimizer
    decides it from the graph, :mod:`aotsym.optimizer.ifelse`).
    """
    here = user_source_info()
    single = not isinstance(then_branch, (list, tuple))
    thens = [then_branch] if single else list(then_branch)
    elses = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if single != (not isinstance(else_branch, (list, tuple))) or len(thens) != len(elses):
        raise TypeError(f"ifelse: the then branch gives {len(thens)} value(s) and the else "
                        f"branch {len(elses)}; give one variable each, or two lists of the "
                        f"same length{_where(here)}")
    if not thens:
        raise TypeError(f"ifelse: the branches give no value{_where(here)}")
    cond = check_condition(condition, here)
    pairs = [_branch_pair(j, t, e, here) for j, (t, e) in enumerate(zip(thens, elses))]
    values, then_graph, else_graph = identity_branches(
        [t for t, _ in pairs], [e for _, e in pairs], [v for pair in pairs for v in pair])
    op = IfElse(then_graph, else_graph, name)
    node = apply(op, [cond, *values], trace=here)
    outs = list(node.outputs)
    if name is not None:
        for j, o in enumerate(outs):
            o.name = name if single else f"{name}[{j}]"
    return outs[0] if single else outs


def identity_branches(thens, elses, order):
    """``(values, then graph, else graph)``: the distinct non-constant variables of ``order``
    (in that order), and two branches over placeholders for them returning ``thens`` and
    ``elses`` — an ifelse before the optimizer moves any work into its branches (what
    :func:`ifelse` builds, and the optimizer's rewrites when they make one)."""
    values, index = [], {}
    for v in order:
        if not isinstance(v, Constant) and id(v) not in index:
            index[id(v)] = len(values)
            values.append(v)
    placeholders = [v.type(v.name) for v in values]

    def branch(outs):
        return InnerGraph(placeholders, [v if isinstance(v, Constant) else
                                         placeholders[index[id(v)]] for v in outs])
    return values, branch(thens), branch(elses)


def _branch_pair(j, t, e, here):
    """Output ``j``'s two branch values as variables of one type (a Python number or array
    takes the other branch's dtype; a constant its broadcastable pattern)."""
    if not isinstance(t, Variable) and isinstance(e, Variable):
        t = _constant_like(t, e.dtype)
    elif not isinstance(e, Variable) and isinstance(t, Variable):
        e = _constant_like(e, t.dtype)
    else:
        t, e = as_tensor_variable(t), as_tensor_variable(e)
        if isinstance(t, Constant) and isinstance(e, Constant) and t.dtype != e.dtype:
            dtype = np.result_type(t.data, e.data).name
            t, e = _constant_like(t.data, dtype), _constant_like(e.data, dtype)
    which = f"output {j}: "
    if t.dtype != e.dtype or t.ndim != e.ndim:
        raise TypeError(f"ifelse: {which}the then branch is {t.type.describe()} and the else "
                        f"branch {e.type.describe()}; both branches must have the same dtype "
                        f"and number of dimensions (cast one with T.cast){_where(here)}")
    if t.broadcastable != e.broadcastable:
        general = tuple(a and b for a, b in zip(t.broadcastable, e.broadcastable))
        t, e = (_retyped(v, general) for v in (t, e))
        if t.broadcastable != e.broadcastable:
            raise TypeError(
                f"ifelse: {which}the then branch has broadcastable pattern {t.broadcastable} "
                f"and the else branch {e.broadcastable}; both branches must have the same "
                f"pattern (e.g. the same keepdims, or dimshuffle to match){_where(here)}")
    return t, e


def _constant_like(x, dtype):
    """``x`` (a Python number or array) as a constant of ``dtype`` when the value survives
    the cast; else as it is (the type check then says what differs)."""
    arr = np.asarray(x)
    if arr.dtype != object and np.array_equal(arr.astype(dtype), arr, equal_nan=arr.dtype.kind
                                              in "fc"):
        return constant(arr.astype(dtype))
    return as_tensor_variable(x)


def _retyped(v, broadcastable):
    """A constant with the (more general) pattern ``broadcastable``; other variables as is."""
    if isinstance(v, Constant) and v.broadcastable != tuple(broadcastable):
        return Constant(TensorType(v.dtype, broadcastable), v.data)
    return v
