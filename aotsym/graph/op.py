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

from aotsym.graph.basic import Variable, apply


class Op:
    __props__: tuple = ()
    view_map: dict = {}
    destroy_map: dict = {}
    nout = 1

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
        from aotsym.graph.convert import as_tensor_variable
        return tuple(as_tensor_variable(a) for a in args)

    def output_types(self, inputs):
        raise NotImplementedError(type(self).__name__)

    def make_node(self, *args):
        return apply(self, self.make_node_inputs(*args))

    def __call__(self, *args):
        node = self.make_node(*args)
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
