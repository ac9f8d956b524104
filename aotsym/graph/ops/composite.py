"""Fused elementwise ops: ``Composite`` (a loop of scalar steps) and ``FusedReduce``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The optimizer's fusion pass
(:mod:`aotsym.optimizer.fusion`) turns trees and chains of ``Elemwise`` nodes into one
``Composite`` node, and an elementwise producer feeding a ``Reduce`` into one ``FusedReduce``;
the emitters render each as one loop.  Fusion never changes a result: every step computes in
exactly the dtypes the separate ``Elemwise`` nodes would have used.

The program
-----------
``Composite(program, n_inputs, outputs)``:

* ``program`` is a tuple of steps ``(scalar_op_name, cast_dtype_or_None, args)``; step ``j``
  applies the row ``SCALAR_OPS[scalar_op_name]`` of :mod:`aotsym.graph.scalar` (``cast_dtype``
  is the target dtype of a ``cast`` step, ``None`` for every other op);
* each arg is a *ref*: ``('in', i)`` the i-th input of the node, ``('step', j)`` the result of
  an earlier step ``j``, or ``('const', python_value, dtype)`` a scalar constant;
* ``outputs`` is a tuple of ``('step', j)`` refs, one per output of the node.

Type rule (the same as ``Elemwise``): the inputs have equal ndim; every output's broadcastable
pattern is the AND of the patterns of all inputs (the fusion pass only builds composites where
each output depends on enough inputs for that to be its unfused pattern too; an intermediate
step may depend on fewer inputs: it is simply evaluated at every point of the loop).  Dtypes
step by step come from ``Elemwise.dtypes``, so ``Composite.steps(input_dtypes)`` returns, per
step, ``(scalar_op, compute dtypes of its args, output dtype)``.

What an emitter does with a Composite
-------------------------------------
One loop over the output shape (``check_broadcast_shapes`` of the inputs: a broadcastable
input dimension has stride 0).  Per element:

1. load input ``i`` (stored in the input's dtype);
2. for each step ``j`` in order, with ``(op, compute, out) = node.op.steps(...)[j]``: convert
   each arg to its compute dtype, apply the backend's spelling of ``op`` for that compute
   dtype (each backend's own scalar table, e.g. :mod:`aotsym.emit_c.scalar_table`), and keep
   the result as step ``j``'s value, of dtype ``out`` (a constant arg is a literal of its
   dtype; ``cast`` steps use ``cast_dtype``);
3. store step ``j``'s value of each output ref into output ``k`` (already of its dtype).

``inplace`` is a tuple of ``(output, input)`` pairs, as in ``Elemwise``: that output is
written into the input's buffer (same type, so same shape); the emitter allocates nothing
for it.  Reading an input element and writing the output element at the same index is safe
because every output element depends only on input elements at that index.

``FusedReduce(kind, axis, composite, dtype)`` is ``Reduce(kind, axis, dtype)`` applied to the
single output of ``composite``: one loop over the full (broadcast) input shape that evaluates
the composite per element in registers and accumulates into the output element with the
``axis`` dimensions removed, never storing the elementwise intermediate.  The accumulator starts
at the reduction's identity (``sum`` 0, ``prod`` 1, ``all`` true, ``any`` false; ``max``/``min``
start from the first element and raise for an empty axis as ``Reduce`` does) and has the dtype
of ``Reduce``'s output (the C backend may accumulate float32 sums in double, as for ``Reduce``).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.op import Op
from aotsym.graph.ops.elemwise import (Elemwise, _cast, broadcast_pattern,
                                       check_broadcast_shapes)
from aotsym.graph.ops.reduce import REDUCE_KINDS, Reduce
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType, check_dtype

_ELEMWISE_CACHE: dict = {}


def elemwise_op(name: str, cast_dtype=None) -> Elemwise:
    """The (shared) ``Elemwise`` of one step; its ``dtypes`` is the step's type rule."""
    key = (name, cast_dtype)
    op = _ELEMWISE_CACHE.get(key)
    if op is None:
        op = _ELEMWISE_CACHE[key] = Elemwise(SCALAR_OPS[name], dtype=cast_dtype)
    return op


def _const_key(value, dtype):
    """A hashable identity for a constant that tells -0.0 from 0.0 and is equal for NaNs."""
    return ("const", np.asarray(value, dtype=dtype).tobytes(), dtype)


def _ref_key(ref):
    return _const_key(ref[1], ref[2]) if ref[0] == "const" else tuple(ref)


class Composite(Op):
    """An elementwise op made of scalar steps; see the module docstring for the contract."""

    __props__ = ("program", "n_inputs", "outputs", "inplace")

    def __init__(self, program, n_inputs, outputs, inplace=()):
        self.program = tuple((name, None if cast is None else check_dtype(cast), tuple(
            tuple(a) for a in args)) for name, cast, args in program)
        self.n_inputs = int(n_inputs)
        self.outputs = tuple(tuple(r) for r in outputs)
        self.inplace = tuple(tuple(p) for p in inplace)
        self.destroy_map = {o: [i] for o, i in self.inplace}
        self.nout = len(self.outputs)
        for j, (name, cast, args) in enumerate(self.program):
            row = SCALAR_OPS.get(name)
            if row is None:
                raise ValueError(f"Composite step {j}: unknown scalar op {name!r}")
            if len(args) != row.nin:
                raise ValueError(f"Composite step {j}: {name} takes {row.nin} args, "
                                 f"got {len(args)}")
            if (name == "cast") != (cast is not None):
                raise ValueError(f"Composite step {j}: cast_dtype is for cast steps only")
            for a in args:
                self._check_ref(a, j)
        if not self.outputs:
            raise ValueError("Composite needs at least one output")
        for r in self.outputs:
            if r[0] != "step":
                raise ValueError(f"Composite outputs must be step refs, got {r}")
            self._check_ref(r, len(self.program))
        self._key = (tuple((n, c, tuple(_ref_key(a) for a in args))
                           for n, c, args in self.program),
                     self.n_inputs, self.outputs, self.inplace)
        self._hash = hash((Composite, self._key))

    def _check_ref(self, ref, before):
        kind = ref[0]
        if kind == "in" and 0 <= ref[1] < self.n_inputs:
            return
        if kind == "step" and 0 <= ref[1] < before:
            return
        if kind == "const" and len(ref) == 3:
            check_dtype(ref[2])
            return
        raise ValueError(f"Composite: bad ref {ref} (at step {before})")

    # ------------------------------------------------------------------ identity
    def _props(self):
        return self._key

    def __hash__(self):
        return self._hash

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._hash = hash((Composite, self._key))  # (Op.__getstate__ drops it)

    def _memoized(self, key, make):
        """``make()``, computed once per op (an op is immutable; the memo is not pickled):
        a fused 250-step kernel's text and step types are asked for by fusion, the inplace
        pass, the emitter and error messages -- 48 times for W7's 1,000-op chain, 0.8 ms each."""
        memo = self.__dict__.setdefault("_memo", {})
        found = memo.get(key)
        if found is None:
            found = memo[key] = make()
        return found

    def __str__(self):
        return self._memoized("str", self._str)

    def _str(self):
        body = self.expression()
        if len(body) > 160:
            body = body[:157] + "..."
        suffix = f"[{','.join(f'({o}, {i})' for o, i in self.inplace)}]" if self.inplace else ""
        return f"Composite{{{body}}}{suffix}"

    __repr__ = __str__

    def expression(self) -> str:
        """The program as infix text, ``i0`` ``i1`` for inputs (outputs separated by ``, ``)."""
        return self._memoized("expression", self._expression)

    def _expression(self) -> str:
        text: list[str] = []

        def show(ref):
            if ref[0] == "in":
                return f"i{ref[1]}"
            if ref[0] == "step":
                return text[ref[1]]
            return repr(ref[1])

        for name, cast, args in self.program:
            row = SCALAR_OPS[name]
            shown = [show(a) for a in args]
            if row.symbol and len(args) == 2:
                s = f"({shown[0]} {row.symbol} {shown[1]})"
            elif row.symbol and len(args) == 1:
                s = f"{row.symbol}{shown[0]}"
            elif cast is not None:
                s = f"cast{{{cast}}}({shown[0]})"
            else:
                s = f"{name}({', '.join(shown)})"
            text.append(s if len(s) < 400 else s[:200] + "...")
        return ", ".join(text[r[1]] for r in self.outputs)

    # ------------------------------------------------------------------ types
    def steps(self, input_dtypes):
        """Per step ``(scalar_op, compute dtypes of its args, output dtype)``."""
        if len(input_dtypes) != self.n_inputs:
            raise TypeError(f"{self}: takes {self.n_inputs} inputs, got {len(input_dtypes)}")
        return self._memoized(("steps", tuple(input_dtypes)),
                              lambda: self._steps(input_dtypes))

    def _steps(self, input_dtypes):
        out_dtypes: list[str] = []
        result = []
        for name, cast, args in self.program:
            arg_dtypes = [self._ref_dtype(a, input_dtypes, out_dtypes) for a in args]
            compute, out = elemwise_op(name, cast).dtypes(arg_dtypes)
            out_dtypes.append(out)
            result.append((SCALAR_OPS[name], tuple(compute), out))
        return tuple(result)

    @staticmethod
    def _ref_dtype(ref, input_dtypes, step_dtypes):
        if ref[0] == "in":
            return input_dtypes[ref[1]]
        if ref[0] == "step":
            return step_dtypes[ref[1]]
        return ref[2]

    def depends_on(self) -> list[frozenset]:
        """Per output, the set of input indices it depends on."""
        deps: list[frozenset] = []
        for _, _, args in self.program:
            d = set()
            for a in args:
                if a[0] == "in":
                    d.add(a[1])
                elif a[0] == "step":
                    d |= deps[a[1]]
            deps.append(frozenset(d))
        return [deps[r[1]] for r in self.outputs]

    def output_types(self, inputs):
        if len(inputs) != self.n_inputs:
            raise TypeError(f"{self}: takes {self.n_inputs} inputs, got {len(inputs)}")
        pattern = broadcast_pattern(inputs, "Composite")
        steps = self.steps([v.dtype for v in inputs])
        for k, deps in enumerate(self.depends_on()):
            own = tuple(all(inputs[i].broadcastable[d] for i in deps)
                        for d in range(len(pattern)))
            if own != pattern:
                raise TypeError(f"Composite output {k} would have broadcastable pattern {own} "
                                f"unfused but {pattern} fused; every output must depend on "
                                "inputs covering the full loop")
        return [TensorType(steps[r[1]][2], pattern) for r in self.outputs]

    # ------------------------------------------------------------------ semantics
    def perform(self, node, inputs):
        shape = check_broadcast_shapes([x.shape for x in inputs],
                                       [v.broadcastable for v in node.inputs], str(self))
        steps = self.steps([v.dtype for v in node.inputs])
        values: list = []
        for (name, cast, args), (row, compute, out) in zip(self.program, steps):
            arrays = [np.asarray(self._ref_value(a, inputs, values), dtype=c)
                      for a, c in zip(args, compute)]
            if cast is not None:
                with np.errstate(all="ignore"):
                    result = _cast(arrays[0], out)
            else:
                result = row.numpy(*arrays)
            values.append(np.asarray(result, dtype=out))
        results = []
        for k, ref in enumerate(self.outputs):
            val = values[ref[1]]
            if val.shape != shape:
                val = np.broadcast_to(val, shape)
            dest = self.destroy_map.get(k)
            if dest is not None:
                target = inputs[dest[0]]
                np.copyto(target, val)
                val = target
            elif not val.flags.writeable or any(val is x for x in inputs):
                val = np.array(val)
            results.append(val)
        return results

    @staticmethod
    def _ref_value(ref, inputs, values):
        if ref[0] == "in":
            return inputs[ref[1]]
        if ref[0] == "step":
            return values[ref[1]]
        return np.asarray(ref[1], dtype=ref[2])

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("Composite is made by the optimizer after differentiation; "
                                  "take gradients of the unfused graph")

    def infer_shape(self, node, input_shapes):
        shape = Elemwise.infer_shape(self, _SingleOutput(node), input_shapes)[0]
        return [shape] * self.nout

    def with_inplace(self, inplace) -> "Composite":
        """This op writing output ``o`` over input ``i`` for each ``(o, i)`` of ``inplace``:
        the same program (checked when this op was made, not again), its memos but the
        text."""
        new = object.__new__(Composite)   # (copy.copy gives an op itself: ops are immutable)
        new.__dict__.update(self.__dict__)
        new.inplace = tuple(tuple(p) for p in inplace)
        new.destroy_map = {o: [i] for o, i in new.inplace}
        new._key = self._key[:-1] + (new.inplace,)
        new._hash = hash((Composite, new._key))
        new._memo = {k: v for k, v in self.__dict__.get("_memo", {}).items() if k != "str"}
        return new


class _SingleOutput:
    """Adapter so ``Elemwise.infer_shape`` (which reads ``outputs[0]``) serves Composite."""

    def __init__(self, node):
        self.inputs, self.outputs = node.inputs, node.outputs[:1]


class FusedReduce(Op):
    """``Reduce(kind, axis, dtype)`` of the single output of ``composite``, in one loop.

    See the module docstring for what the emitter does.
    """

    __props__ = ("kind", "axis", "composite", "dtype")

    def __init__(self, kind, axis, composite: Composite, dtype=None):
        if kind not in REDUCE_KINDS:
            raise ValueError(f"unknown reduction {kind!r}")
        if composite.nout != 1 or composite.inplace:
            raise ValueError("FusedReduce needs a single-output, non-inplace composite")
        self.kind, self.axis, self.composite, self.dtype = kind, tuple(axis), composite, dtype
        self.reduce = Reduce(kind, self.axis, dtype)

    def __str__(self):
        return f"FusedReduce{{{self.kind}, axis={list(self.axis)}, {self.composite}}}"

    __repr__ = __str__

    def elementwise_type(self, inputs) -> TensorType:
        """The type of the (never stored) elementwise intermediate."""
        return self.composite.output_types(inputs)[0]

    def output_types(self, inputs):
        inner = self.elementwise_type(inputs)
        return self.reduce.output_types([TensorType(inner.dtype, inner.broadcastable)(None)])

    def perform(self, node, inputs):
        (inner,) = self.composite.perform(node, inputs)
        fake = _FakeNode(node.outputs)
        return self.reduce.perform(fake, [inner])

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("FusedReduce is made by the optimizer after differentiation")

    def infer_shape(self, node, input_shapes):
        full = Elemwise.infer_shape(self, _FullPattern(node, self), input_shapes)[0]
        return [tuple(s for d, s in enumerate(full) if d not in self.axis)]


class _FakeNode:
    def __init__(self, outputs):
        self.outputs = outputs


class _FullPattern:
    """Adapter: a node whose single output has the composite's (pre-reduction) pattern."""

    def __init__(self, node, op):
        self.inputs = node.inputs
        self.outputs = [op.elementwise_type(node.inputs)(None)]
