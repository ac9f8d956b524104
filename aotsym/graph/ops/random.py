"""Random draws: ops that take a generator state and return (new state, sample).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  The generator is
Philox4x32-10 (:mod:`aotsym.graph.philox`, the NumPy reference each ``perform`` calls); its
state is a uint32 vector ``[key0, key1, counter_lo, counter_hi]``, an ordinary value of the
graph (a shared variable, updated by the function: :mod:`aotsym.tensor.shared_randomstreams`).

Every op here has the inputs ``(state, *size, *params)`` — ``size`` as ``ndim`` int64
scalars, as :class:`~aotsym.graph.ops.alloc.Alloc` takes them — and the outputs
``(new state, sample)``.  A draw is a pure function of its inputs: the same state gives the
same sample (so equal draws intern into one node, and a function without the state update
draws the same numbers every call).  Array parameters are given already broadcast to the
sample's shape (the frontend allocates them); a 0-d parameter applies to every element.

A sample's gradient with respect to a float parameter is undefined (Theano's
``RandomFunction``: ``grad`` raises NullTypeGradError where it would be needed); the state
and the size get none.  The ops have no view or destroy map: the new state and the sample
are fresh arrays.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph import philox
from aotsym.graph.op import Op
from aotsym.graph.ops.shape import constant_value
from aotsym.graph.types import TensorType, dtype_kind

STATE_TYPE = TensorType("uint32", (False,))


class _RandomDraw(Op):
    """Base of the draws: ``(state, *size, *params) -> (new state, sample)``."""

    __props__ = ("dtype", "ndim")
    nout = 2
    params: tuple = ()            # names of the parameter inputs after the size
    extra_dims = 0                # dimensions of the sample after ``size`` (permutation ...)
    shaped_params = True          # array parameters have the sample's shape

    def __init__(self, dtype, ndim):
        self.dtype, self.ndim = str(dtype), int(ndim)

    # ------------------------------------------------------------------ type rule
    def split(self, inputs):
        """``(state, size entries, params)`` of a node's inputs."""
        return inputs[0], inputs[1:1 + self.ndim], inputs[1 + self.ndim:]

    def output_types(self, inputs):
        name = type(self).__name__
        state, size, params = self.split(inputs)
        if len(params) != len(self.params):
            raise TypeError(f"{name}: {len(inputs)} inputs; expected the state, {self.ndim} "
                            f"size entries and {', '.join(self.params) or 'no parameters'}")
        if state.dtype != "uint32" or state.ndim != 1:
            raise TypeError(f"{name}: the state must be a uint32 vector (a random stream's "
                            f"state), got {state.type.describe()}")
        for i, d in enumerate(size):
            if d.ndim != 0 or dtype_kind(d.dtype) not in "iu":
                raise TypeError(f"{name}: size entry {i} must be an integer scalar, got "
                                f"{d.type.describe()}")
        self.check_params(params)
        bcast = [constant_value(d) == 1 for d in size] + self.extra_broadcastable(params)
        return [state.type, TensorType(self.dtype, bcast)]

    def check_params(self, params):
        for pname, p in zip(self.params, params):
            if p.ndim not in (0, self.ndim):
                raise TypeError(f"{type(self).__name__}: the parameter {pname} must be a "
                                f"scalar or have the sample's {self.ndim} dimensions, got "
                                f"{p.type.describe()}")

    def extra_broadcastable(self, params):
        return []

    # ------------------------------------------------------------------ semantics
    def perform(self, node, inputs):
        state, size, params = self.split(inputs)
        size = tuple(int(d) for d in size)
        for i, d in enumerate(size):
            if d < 0:
                raise ValueError(f"{type(self).__name__}: negative length {d} requested for "
                                 f"dimension {i} of the sample")
        count = int(np.prod(size, dtype=np.int64))
        for pname, p in zip(self.params if self.shaped_params else (), params):
            if p.ndim and p.shape[:self.ndim] != size:
                raise ValueError(f"{type(self).__name__}: the parameter {pname} has shape "
                                 f"{p.shape}, the sample {size}")
        sample, nblocks = self.draw(np.asarray(state), size, count, params)
        return [philox.advance(state, nblocks),
                np.asarray(sample, dtype=self.dtype).reshape(size + sample.shape[1:]
                                                             if self.extra_dims else size)]

    def draw(self, state, size, count, params):
        """(flat sample of ``count`` elements — or ``count`` rows — , blocks read)."""
        raise NotImplementedError

    def grad(self, node, inputs, output_grads):
        """No gradient flows to the state or the size; the gradient with respect to a float
        parameter is undefined (Theano's ``RandomFunction``: a NullTypeGradError where a
        ``wrt`` depends on it).  MRG_RandomStreams' uniform and normal are differentiable
        in their parameters: the frontend draws them as ``low + (high - low) * u`` and
        ``avg + std * z`` around a draw with constant parameters."""
        from aotsym.frontend.grad import grad_undefined
        _, size, params = self.split(inputs)
        first = 1 + len(size)
        return [None] * first + [
            grad_undefined(self, first + k, p, "a sample is not differentiable in its "
                           "distribution's parameters (MRG_RandomStreams' uniform and normal "
                           "are, in low, high, avg and std)")
            if dtype_kind(p.dtype) in "fc" else None for k, p in enumerate(params)]

    def infer_shape(self, node, input_shapes):
        _, size, _ = self.split(node.inputs)
        return [input_shapes[0], tuple(size) + self.extra_shape(node, input_shapes)]

    def extra_shape(self, node, input_shapes):
        return ()


def _flat(p, count):
    return np.broadcast_to(np.asarray(p), (count,)) if np.ndim(p) == 0 else \
        np.asarray(p).reshape(count)


class UniformDraw(_RandomDraw):
    """``low + (high - low) * u``, ``u`` uniform in [0, 1) (53 bits for float64, 24 for
    float32), computed in the sample's dtype; ``low``/``high`` of that dtype."""
    params = ("low", "high")

    def check_params(self, params):
        super().check_params(params)
        if dtype_kind(self.dtype) != "f" or any(p.dtype != self.dtype for p in params):
            raise TypeError(f"UniformDraw{{{self.dtype}}}: float dtype and parameters of "
                            "that dtype expected")

    def draw(self, state, size, count, params):
        u, nb = philox.uniform01(state, count, self.dtype)
        low, high = (_flat(p, count).astype(self.dtype) for p in params)
        return low + (high - low) * u, nb


class NormalDraw(_RandomDraw):
    """``avg + std * z``, ``z`` standard normal (Box-Muller in float64, rounded to float32
    for a float32 sample), computed in the sample's dtype."""
    params = ("avg", "std")

    def check_params(self, params):
        super().check_params(params)
        if dtype_kind(self.dtype) != "f" or any(p.dtype != self.dtype for p in params):
            raise TypeError(f"NormalDraw{{{self.dtype}}}: float dtype and parameters of "
                            "that dtype expected")

    def draw(self, state, size, count, params):
        z, nb = philox.standard_normal(state, count)
        avg, std = (_flat(p, count).astype(self.dtype) for p in params)
        return avg + std * z.astype(self.dtype), nb


class BinomialDraw(_RandomDraw):
    """Counts of successes of ``n`` trials of probability ``p`` (int64 ``n``, float64
    ``p``); the sample is int64."""
    params = ("n", "p")

    def check_params(self, params):
        super().check_params(params)
        n, p = params
        if self.dtype != "int64" or n.dtype != "int64" or p.dtype != "float64":
            raise TypeError("BinomialDraw: int64 sample, int64 n and float64 p expected")

    def draw(self, state, size, count, params):
        n, p = (_flat(x, count) for x in params)
        return philox.binomial_counts(state, n, p, count)


class ChoiceDraw(_RandomDraw):
    """Indices below ``a`` (an int64 scalar), with or without replacement, uniform or with
    probabilities ``p`` (a float64 vector of ``a`` entries, when ``weighted``)."""
    __props__ = ("dtype", "ndim", "replace", "weighted")
    shaped_params = False

    def __init__(self, dtype, ndim, replace=True, weighted=False):
        super().__init__(dtype, ndim)
        self.replace, self.weighted = bool(replace), bool(weighted)
        self.params = ("a", "p") if self.weighted else ("a",)

    def check_params(self, params):
        a = params[0]
        if self.dtype != "int64" or a.ndim != 0 or a.dtype != "int64":
            raise TypeError("ChoiceDraw: an int64 sample and an int64 scalar a expected")
        if self.weighted and (params[1].ndim != 1 or params[1].dtype != "float64"):
            raise TypeError(f"ChoiceDraw: p must be a float64 vector, got "
                            f"{params[1].type.describe()}")

    def draw(self, state, size, count, params):
        p = params[1] if self.weighted else None
        return philox.choice_indices(state, int(params[0]), count, self.replace, p)


class PermutationDraw(_RandomDraw):
    """Rows of permutations of ``0 .. n-1``: the sample has shape ``size + (n,)``."""
    params = ("n",)
    extra_dims = 1
    shaped_params = False

    def check_params(self, params):
        (n,) = params
        if self.dtype != "int64" or n.ndim != 0 or n.dtype != "int64":
            raise TypeError("PermutationDraw: an int64 sample and an int64 scalar n expected")

    def extra_broadcastable(self, params):
        return [constant_value(params[0]) == 1]

    def draw(self, state, size, count, params):
        return philox.permutations(state, int(params[0]), count)

    def extra_shape(self, node, input_shapes):
        return (self.split(node.inputs)[2][0],)


class MultinomialDraw(_RandomDraw):
    """Category counts of ``n`` draws with probabilities proportional to ``pvals``: the
    sample has shape ``size + (k,)``; ``n`` (int64) is a scalar or of shape ``size``,
    ``pvals`` (float64) a vector of ``k`` or of shape ``size + (k,)``."""
    params = ("n", "pvals")
    extra_dims = 1

    def check_params(self, params):
        n, pvals = params
        if self.dtype != "int64" or n.dtype != "int64" or pvals.dtype != "float64":
            raise TypeError("MultinomialDraw: int64 sample, int64 n, float64 pvals expected")
        if n.ndim not in (0, self.ndim) or pvals.ndim not in (1, self.ndim + 1):
            raise TypeError(f"MultinomialDraw: n must be a scalar or of the sample's "
                            f"{self.ndim} dimensions, pvals a vector or of {self.ndim + 1}")

    def extra_broadcastable(self, params):
        return [params[1].broadcastable[-1]]

    def draw(self, state, size, count, params):
        n, pvals = params
        kcat = pvals.shape[-1]
        if pvals.ndim > 1 and pvals.shape[:-1] != size:
            raise ValueError(f"MultinomialDraw: pvals has shape {pvals.shape} for a sample "
                             f"of size {size}")
        pv = pvals.reshape(count, kcat) if pvals.ndim > 1 else pvals
        return philox.multinomial_counts(state, _flat(n, count), pv, count)

    def perform(self, node, inputs):
        state, size, params = self.split(inputs)
        n, pvals = params
        if n.ndim and n.shape != tuple(int(d) for d in size):
            raise ValueError(f"MultinomialDraw: n has shape {n.shape}, the sample "
                             f"{tuple(int(d) for d in size)}")
        # (the base class's shape check applies to n only; pvals is checked in draw)
        sample, nb = self.draw(np.asarray(state), tuple(int(d) for d in size),
                               int(np.prod([int(d) for d in size], dtype=np.int64)), params)
        size = tuple(int(d) for d in size)
        return [philox.advance(state, nb), sample.reshape(size + sample.shape[1:])]

    def extra_shape(self, node, input_shapes):
        return (input_shapes[-1][-1],)


def draw_ops():
    """Every random op class (what each backend must lower)."""
    return [UniformDraw, NormalDraw, BinomialDraw, ChoiceDraw, PermutationDraw,
            MultinomialDraw]
