"""``FusedGemvPair``: two matrix-vector products over one matrix with a row-wise chain between.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The user never builds it: the
optimizer's ``fuse_gemv_pairs`` stage (:mod:`aotsym.optimizer.gemv_pair`) makes it from::

    z = Gemv(_, alpha1, X, v, 0)                      z = alpha1 * X @ v        (length M)
    outs = Composite(..., z, ...)                     elementwise, row by row
    X.T @ outs[d_output]                              (length N)

so that an emitter can read ``X`` once: a block of rows gives its ``z``, the chain gives its
``d``, and ``X.T @ d`` takes that block's share while the rows are still in cache.  Its value
is by definition that of the ops it replaces, which is what :meth:`perform` computes, with
their own reference implementations (``Gemv`` with ``beta`` 0, ``Composite``).

``FusedGemvPair(composite, z_input, d_output, stored, store_z)``, inputs
``(X, v, alpha1, *others)``:

* ``X`` a matrix (M x N) and ``v`` a vector (N) of one dtype, float32 or float64;
  ``alpha1`` 0-d of that dtype;
* ``composite`` reads ``z`` as its input ``z_input`` and ``others`` (in order) as the rest:
  vectors of length M, or of length 1 declared broadcastable (a scalar for every row);
* outputs: ``X.T @ d`` (length N, ``d`` the composite's output ``d_output``, of X's dtype),
  then the composite's outputs listed in ``stored`` (indices) — those read elsewhere — then
  ``z`` when ``store_z`` (read elsewhere too).  An output of the composite that is neither
  stored nor ``d`` is not computed at all by an emitter that can tell (C: a dead local).

Scaling and accumulating ``X.T @ d`` (``w - 0.1 * (X.T @ d + 0.02 * w)``) stays a ``Gemv``
outside the op, so that a shared variable's update is still written in place over it (the
state writes of :mod:`aotsym.optimizer.inplace`).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.op import Op
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.gemm import BLAS_DTYPES, Gemv
from aotsym.graph.types import TensorType

_GEMV = Gemv()

N_FIXED = 3  # X, v, alpha1; the composite's other inputs follow


class FusedGemvPair(Op):
    """``X.T @ d`` where ``d`` is computed row-wise from ``z = alpha1 * X @ v``; see the
    module docstring."""

    __props__ = ("composite", "z_input", "d_output", "stored", "store_z")

    def __init__(self, composite: Composite, z_input: int, d_output: int, stored=(),
                 store_z=False):
        if not isinstance(composite, Composite) or composite.inplace:
            raise ValueError("FusedGemvPair needs a Composite that writes no input in place")
        if not 0 <= z_input < composite.n_inputs or not 0 <= d_output < composite.nout:
            raise ValueError(f"FusedGemvPair: z_input {z_input} / d_output {d_output} out of "
                             f"range for {composite}")
        self.composite = composite
        self.z_input, self.d_output = int(z_input), int(d_output)
        self.stored = tuple(int(k) for k in stored)
        if any(not 0 <= k < composite.nout for k in self.stored):
            raise ValueError(f"FusedGemvPair: stored outputs {self.stored} out of range")
        self.store_z = bool(store_z)
        self.nout = 1 + len(self.stored) + int(self.store_z)

    def __str__(self):
        keep = f", stored={list(self.stored)}" if self.stored else ""
        return (f"FusedGemvPair{{d=out{self.d_output} of {self.composite}{keep}"
                f"{', z' if self.store_z else ''}}}")

    __repr__ = __str__

    # ------------------------------------------------------------------ types
    def composite_inputs(self, others, z):
        """The composite's inputs: ``others`` with ``z`` inserted at ``z_input``."""
        others = list(others)
        return others[:self.z_input] + [z] + others[self.z_input:]

    def output_types(self, inputs):
        if len(inputs) != N_FIXED + self.composite.n_inputs - 1:
            raise TypeError(f"{self}: takes {N_FIXED + self.composite.n_inputs - 1} inputs, "
                            f"got {len(inputs)}")
        x, v, alpha1 = inputs[:N_FIXED]
        dtypes = {u.dtype for u in inputs[:N_FIXED]}
        if len(dtypes) != 1 or x.dtype not in BLAS_DTYPES:
            raise TypeError(f"FusedGemvPair: X, v and alpha1 must share one dtype among "
                            f"{BLAS_DTYPES}, got "
                            + ", ".join(u.dtype for u in inputs[:N_FIXED]))
        if (x.ndim, v.ndim, alpha1.ndim) != (2, 1, 0):
            raise TypeError("FusedGemvPair: X must be a matrix, v a vector, alpha1 0-d")
        z = self.z_type(x)(None)
        outs = self.composite.output_types(self.composite_inputs(inputs[N_FIXED:], z))
        if any(t.ndim != 1 for t in outs) or outs[0].broadcastable != z.broadcastable:
            raise TypeError(f"FusedGemvPair: the composite's outputs must be vectors with "
                            f"z's pattern {z.broadcastable}")
        if outs[self.d_output].dtype != x.dtype:
            raise TypeError(f"FusedGemvPair: d is {outs[self.d_output].dtype}, X {x.dtype}")
        g = TensorType(x.dtype, (x.broadcastable[1],))
        return [g] + [outs[k] for k in self.stored] + ([z.type] if self.store_z else [])

    @staticmethod
    def z_type(x) -> TensorType:
        return TensorType(x.dtype, (x.broadcastable[0],))

    # ------------------------------------------------------------------ semantics
    def perform(self, node, inputs):
        x, v, alpha1 = inputs[:N_FIXED]
        zero, one = np.zeros((), dtype=x.dtype), np.ones((), dtype=x.dtype)
        (z,) = _GEMV.perform(None, [np.zeros(x.shape[0], dtype=x.dtype), alpha1, x, v, zero])
        z_var = self.z_type(node.inputs[0])(None)
        comp_vars = self.composite_inputs(node.inputs[N_FIXED:], z_var)
        outs = self.composite.perform(_Node(comp_vars),
                                      self.composite_inputs(inputs[N_FIXED:], z))
        (g,) = _GEMV.perform(None, [np.zeros(x.shape[1], dtype=x.dtype), one, x.T,
                                    outs[self.d_output], zero])
        return [g] + [outs[k] for k in self.stored] + ([z] if self.store_z else [])

    def grad(self, node, inputs, output_grads):
        raise NotImplementedError("FusedGemvPair is made by the optimizer after "
                                  "differentiation; take gradients of the unfused graph")

    def infer_shape(self, node, input_shapes):
        rows = (input_shapes[0][0],)
        return [(input_shapes[0][1],)] + [rows] * (self.nout - 1)


class _Node:
    """The composite's view of its inputs (``perform`` reads their broadcastable patterns)."""

    def __init__(self, inputs):
        self.inputs = inputs
