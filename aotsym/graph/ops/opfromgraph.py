"""``OpFromGraph``: a graph packaged as one op (Theano's ``theano.compile.builders``).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The first op that holds an
inner graph (:mod:`aotsym.graph.inner`), before ``scan`` and ``ifelse``::

    x, y = T.vectors("x", "y")
    f = OpFromGraph([x, y], [x * y + 1])      # the body: a closed InnerGraph
    z = f(a, b)                               # one node, OpFromGraph(a, b)

* the body is built on the variables given as ``inputs`` (Theano's ``op.inputs``), not on
  copies: tags set on the body's variables stay with them, so
  ``scan_utils.map_variables`` can read a replacement tagged on one;
* identity is the body's *structure*: two ``OpFromGraph`` s traced from the same expression
  are equal ops, so applying them to the same variables is one interned node.  ``name`` and
  ``inline`` are labels beside the graph and take no part (the first node made keeps its);
* ``perform`` runs the body with the reference evaluator; ``grad`` differentiates the body
  (an ``OpFromGraph`` of the gradient, applied to the inputs and output gradients);
  ``infer_shape`` follows the body's shape rules; ``prune_outputs`` keeps only the outputs
  read (and the inputs they need);
* shared variables the outputs read (Theano's example: ``OpFromGraph([x, y, z], [x + y * z +
  s])``) are implicit inputs, after the given ones: the body takes them as inputs, and each
  application passes them (``op(a, b, c)`` applies the op to ``a, b, c, s``), so a function
  reads their current values and a gradient reaches them;
* the C backend does not know this op: the optimizer's first stage inlines every
  ``OpFromGraph`` into the outer graph (rule ``inline_op_from_graph``,
  :mod:`aotsym.optimizer.inner`), in every mode.  Until then, stages that run inside inner
  graphs optimize the body like any other.  ``inline=True`` (Theano's flag) is accepted: the
  op is always inlined when compiled.
"""

from __future__ import annotations

from aotsym.graph.basic import Variable, apply, trace_of
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.inner import HasInnerGraphs, InnerGraph, copy_if_aliased
from aotsym.graph.op import Op


class OpFromGraph(HasInnerGraphs, Op):
    """``OpFromGraph(inputs, outputs, inline=False, name=None)``: see the module docstring.

    ``inputs``: the free variables of ``outputs`` (every one of them: the body is closed);
    ``outputs``: a variable or a list.  Calling the op on one variable per input applies it
    and returns one variable (one output) or a list.
    """

    __props__ = ("inner",)

    def __init__(self, inputs, outputs, inline=False, name=None):
        single = isinstance(outputs, Variable)
        outputs = [outputs] if single else list(outputs)
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("OpFromGraph: inputs must be a list of symbolic variables")
        outputs = [as_tensor_variable(o) for o in outputs]
        implicit = _shared_inputs(inputs, outputs)
        # the given inputs are the body's placeholders (Theano's op.inputs): tags on the
        # body's variables stay with them (scan_utils.map_variables reads them)
        self.inner = InnerGraph(list(inputs) + implicit, outputs, fresh_inputs=False)
        self.inline = bool(inline)
        self.name = name
        self.nout = len(outputs)
        self.implicit = tuple(implicit)

    @classmethod
    def from_inner(cls, inner: InnerGraph, inline=False, name=None) -> "OpFromGraph":
        """The op of an existing inner graph (no copy, no re-check)."""
        op = cls.__new__(cls)
        op.inner, op.inline, op.name, op.nout = inner, bool(inline), name, len(inner.outputs)
        op.implicit = ()
        return op

    # ------------------------------------------------------------------ inner graphs
    @property
    def inner_graphs(self) -> tuple:
        return (self.inner,)

    def with_inner_graphs(self, graphs) -> "OpFromGraph":
        (inner,) = graphs
        if inner.input_types != self.inner.input_types or \
                inner.output_types != self.inner.output_types:
            raise TypeError(f"{self}.with_inner_graphs: the new body's types differ")
        op = OpFromGraph.from_inner(inner, self.inline, self.name)
        op.implicit = self.implicit
        return op

    def prune_outputs(self, node, used):
        """Keep the outputs at ``used`` (in index order) and the inputs they still read."""
        kept = sorted(used)
        if len(kept) == len(node.outputs):
            return None
        body = self.inner.select_outputs(kept)
        reached = {id(v) for n in body.nodes() for v in n.inputs} | {id(v) for v in
                                                                   body.outputs}
        kept_in = [k for k, v in enumerate(body.inputs) if id(v) in reached]
        body = InnerGraph([body.inputs[k] for k in kept_in], body.outputs, fresh_inputs=False)
        op = OpFromGraph.from_inner(body, self.inline, self.name)
        return apply(op, [node.inputs[k] for k in kept_in], trace=trace_of(node))

    # ------------------------------------------------------------------ building
    def __str__(self):
        return self.name or "OpFromGraph"

    __repr__ = __str__

    def make_node_inputs(self, *args) -> tuple:
        implicit = getattr(self, "implicit", ())
        if implicit and len(args) == len(self.inner.inputs) - len(implicit):
            args = args + implicit          # the shared variables the body reads
        return tuple(self.inner.check_arguments(args, str(self)))

    def output_types(self, inputs):
        return list(self.inner.output_types)

    # ------------------------------------------------------------------ semantics
    def perform(self, node, inputs):
        return copy_if_aliased(self.inner.evaluate(inputs), inputs)

    def infer_shape(self, node, input_shapes):
        return self.inner.infer_shape(input_shapes)

    def grad(self, node, inputs, output_grads):
        """The body's gradient as an ``OpFromGraph`` of (inputs, output gradients)."""
        grad_op, wrt = self._grad_op(tuple(g.type for g in output_grads))
        if grad_op is None:
            return [None] * len(inputs)
        got = grad_op(*inputs, *output_grads)
        got = [got] if isinstance(got, Variable) else list(got)
        result: list = [None] * len(inputs)
        for k, g in zip(wrt, got):
            result[k] = g
        return result

    def _grad_op(self, gout_types):
        cache = self.__dict__.setdefault("_grad_ops", {})
        found = cache.get(gout_types)
        if found is not None:
            return found
        from aotsym.frontend.grad import grad  # the backward walker (graph -> its rules)
        from aotsym.graph.ops import math as m
        body = self.inner
        gouts = [t(f"{self}_grad_out{k}") for k, t in enumerate(gout_types)]
        known: dict = {}
        for out, g in zip(body.outputs, gouts):
            if out.dtype in ("float32", "float64", "complex64", "complex128"):
                known[out] = m.add(known[out], g) if out in known else g
        wrt = [k for k, v in enumerate(body.inputs) if v.dtype in ("float32", "float64")]
        if not known or not wrt:
            found = (None, [])
        else:
            grads = grad(None, [body.inputs[k] for k in wrt], known_grads=known,
                         disconnected_inputs="ignore", return_disconnected="zero")
            name = f"{self}_grad" if self.name else None
            found = (OpFromGraph(list(body.inputs) + gouts, grads, self.inline, name), wrt)
        cache[gout_types] = found
        return found


def _shared_inputs(inputs, outputs) -> list:
    """The shared variables ``outputs`` read that are not among ``inputs`` (in the order
    the graph meets them)."""
    from aotsym.graph.basic import Constant, graph_inputs
    given = {id(v) for v in inputs}
    return [v for v in graph_inputs(outputs) if id(v) not in given and v.owner is None
            and not isinstance(v, Constant) and getattr(type(v), "get_value", None) is not None]
