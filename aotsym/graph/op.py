"""The Op base class: one place per op for its type rule, NumPy reference, gradient, shape.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  An op is a small immutable
value: equality and hash come from ``__props__``, so equal ops applied to the same inputs are
interned into one :class:`~aotsym.graph.basic.Apply`.

What a subclass defines:

``make_node_inputs(*args) -> tuple[Variable]``
    convert / validate the arguments (Python scalars become constants);
``output_types(inputs) -> list[TensorType]``
    the type rule; raise ``TypeError``/``ValueError`` for ill-typed inputs;
``perform(node, inputs) -> list[np.ndarray]``
    the NumPy reference implementation (the oracle for every test);
``grad(node, inputs, output_grads) -> list[Variable | None]``
    reverse-mode rule; ``None`` for an input the outputs do not depend on differentiably;
``infer_shape(node, input_shapes) -> list[tuple]``
    symbolic output shapes from symbolic input shapes (tuples of int64 scalar variables);
``view_map`` / ``destroy_map``
    ``{output index: [input index]}``: outputs that alias (view) or overwrite an input.
"""

from __future__ import annotations

import inspect

import numpy as np

from aotsym.graph.basic import Apply, Variable, apply


class Op:
    __props__: tuple = ()
    view_map: dict = {}
    destroy_map: dict = {}
    nout = 1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__module__.startswith("aotsym."):
            _theano_style(cls)

    # ------------------------------------------------------------------ identity
    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        h = self.__dict__.get("_hash")
        if h is None:
            h = self.__dict__["_hash"] = hash((type(self), self._props()))
        return h

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        """Without the cached hash: string hashes differ between processes."""
        state = dict(self.__dict__)
        state.pop("_hash", None)
        state.pop("_types", None)   # (a memo of output types: Elemwise)
        state.pop("_memo", None)    # (memos of derived values: Composite)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __copy__(self):
        return self  # ops are immutable values

    def __deepcopy__(self, memo):
        return self

    def __str__(self):
        props = self._props()
        if not props:
            return type(self).__name__
        return f"{type(self).__name__}{{{', '.join(map(str, props))}}}"

    __repr__ = __str__

    # ------------------------------------------------------------------ building
    def make_node_inputs(self, *args) -> tuple:
        for a in args:
            if not isinstance(a, Variable):
                from aotsym.graph.convert import as_tensor_variable
                return tuple(as_tensor_variable(a) for a in args)
        return args

    def output_types(self, inputs):
        raise NotImplementedError(type(self).__name__)

    def make_node(self, *args):
        return apply(self, self.make_node_inputs(*args))

    def __call__(self, *args):
        node = self.make_node(*args)
        if type(self).make_node is not Op.make_node and \
                Apply._interned.get((self, node.inputs)) is not node:
            node = apply(self, node.inputs)   # a user's make_node built its own Apply
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    # ------------------------------------------------------------------ semantics
    def perform(self, node, inputs):
        raise NotImplementedError(f"{self} has no reference implementation")

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError(f"the gradient of {self} is not implemented")

    def infer_shape(self, node, input_shapes):
        """Default: ask for the shape at run time (Shape of the output) — always correct."""
        return None

    def is_view(self, output_index=0) -> bool:
        return output_index in self.view_map


def is_variable(x) -> bool:
    return isinstance(x, Variable)


# ---------------------------------------------------------------------------- Theano's ops

def _theano_style(cls):
    """A user's Op subclass written for Theano, made to work here (``__init_subclass__``):

    * ``make_node`` returning ``Apply(self, inputs, [x.type()])``: the output types are
      those of the node it builds (``output_types``), and ``op(x)`` interns the node;
    * ``itypes`` / ``otypes`` instead of ``make_node``: inputs converted and checked against
      ``itypes`` (a TypeError naming the op otherwise), outputs of ``otypes``;
    * ``perform(node, inputs, output_storage)`` (outputs stored in ``output_storage[k][0]``)
      becomes ``perform(node, inputs) -> outputs``, each checked for its ndim and cast to
      the output's dtype;
    * ``grad(inputs, output_grads)`` and ``L_op(inputs, outputs, output_grads)`` become
      ``grad(node, inputs, output_grads)``; PyTensor's ``infer_shape(fgraph, node, shapes)``
      loses ``fgraph``;
    * without ``__props__``, instances are equal only to themselves (Theano's rule: an op
      with unnamed state must not be merged with another instance).
    """
    own = cls.__dict__
    if "make_node" in own and "output_types" not in own:
        cls.output_types = lambda self, inputs: [o.type for o in self.make_node(*inputs).outputs]
    elif "itypes" in own and "make_node" not in own and "output_types" not in own:
        cls.make_node_inputs = _checked_itypes
        cls.output_types = lambda self, inputs: [_as_type(t) for t in self.otypes]
    perform = own.get("perform")
    if perform is not None and _arity(perform) >= 4:
        cls.perform = _storage_perform(perform)
    if "L_op" in own and "grad" not in own:
        l_op = own["L_op"]
        cls.grad = lambda self, node, inputs, grads: l_op(self, list(inputs),
                                                         list(node.outputs), list(grads))
    elif "grad" in own and _arity(own["grad"]) == 3:
        grad = own["grad"]
        cls.grad = lambda self, node, inputs, grads: grad(self, list(inputs), list(grads))
    shape = own.get("infer_shape")
    if shape is not None and _arity(shape) == 4:
        cls.infer_shape = lambda self, node, shapes: shape(self, None, node, shapes)
    if not any("__props__" in k.__dict__ for k in cls.__mro__ if k is not Op):
        cls.__eq__ = object.__eq__
        cls.__hash__ = object.__hash__


def _arity(fn) -> int:
    """The number of positional parameters of ``fn`` (self included)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 0
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _checked_itypes(self, *args):
    from aotsym.graph.convert import as_tensor_variable
    if len(args) != len(self.itypes):
        raise TypeError(f"{self}: takes {len(self.itypes)} inputs, got {len(args)}")
    inputs = tuple(as_tensor_variable(a) for a in args)
    for k, (v, t) in enumerate(zip(inputs, map(_as_type, self.itypes))):
        if v.type != t:
            raise TypeError(f"{self}: input {k} is {v.type.describe()}, not {t.describe()} "
                            "(its itypes)")
    return inputs


def _as_type(t):
    """A type of ``itypes``/``otypes``: a TensorType, or a constructor such as ``T.dmatrix``
    (in Theano those are TensorType instances; here functions making a variable)."""
    from aotsym.graph.types import TensorType
    return t if isinstance(t, TensorType) else t().type


def _storage_perform(user):
    def perform(self, node, inputs):
        storage = [[None] for _ in node.outputs]
        user(self, node, list(inputs), storage)
        outs = []
        for k, (var, cell) in enumerate(zip(node.outputs, storage)):
            if cell[0] is None:
                raise ValueError(f"{self}.perform did not store output {k} "
                                 "(output_storage[{k}][0])")
            value = np.asarray(cell[0])
            if value.ndim != var.type.ndim or any(
                    b and n != 1 for b, n in zip(var.type.broadcastable, value.shape)):
                raise TypeError(f"{self}.perform stored output {k} of shape {value.shape}; "
                                f"the node declared {var.type.describe()}")
            outs.append(value if value.dtype == var.dtype else value.astype(var.dtype))
        return outs
    perform.__wrapped__ = user
    return perform
