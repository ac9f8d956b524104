"""NumPy-style methods and operators on :class:`~aotsym.graph.basic.Variable`.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``install()`` is called once
by ``aotsym.graph`` after every op module is loaded, so ``basic.py`` does not import the ops.
``==`` keeps its identity meaning (variables are dict keys); use ``T.eq`` for elementwise
equality, as in Theano.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.ops import math as m
from aotsym.graph.ops import reduce as r


def _binop(name, reflected=False):
    if reflected:
        def method(self, other):
            return m.elemwise(name, other, self)
    else:
        def method(self, other):
            return m.elemwise(name, self, other)
    return method


def _shape(self):
    from aotsym.graph.ops.shape import ShapeTuple
    return ShapeTuple(self)


def _getitem(self, index):
    from aotsym.graph.ops.subtensor import getitem
    return getitem(self, index)


def _setitem(self, index, value):
    raise TypeError(
        "symbolic tensors are immutable: `x[i] = y` cannot change x; build a new tensor with "
        "T.set_subtensor(x[i], y) (or T.inc_subtensor(x[i], y) to add)")


def _reshape(self, *shape, ndim=None):
    from aotsym.graph.ops.reshape import reshape
    if len(shape) == 1 and not isinstance(shape[0], int) and hasattr(shape[0], "__len__"):
        shape = shape[0]
    return reshape(self, shape, ndim=ndim)


def _flatten(self, ndim=1):
    from aotsym.graph.ops.reshape import flatten
    return flatten(self, ndim)


def _dot(self, other):
    from aotsym.graph.ops.blas import dot
    return dot(self, other)


def _rdot(self, other):
    from aotsym.graph.ops.blas import dot
    return dot(other, self)


def _dimshuffle(self, *order):
    from aotsym.graph.ops.elemwise import dimshuffle
    return dimshuffle(self, *order)


def _transpose(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
        axes = tuple(axes[0])
    return _dimshuffle(self, *(axes or reversed(range(self.ndim))))


def _eval(self, givens=None):
    """Theano's ``v.eval(inputs_to_values)``: the value of ``v``.  An input not in
    ``givens`` that stores its own value (a shared variable: it has ``get_value``) reads
    it, and one with a ``default_update`` (a random stream's state) is advanced after, as a
    compiled function would: ``srng.uniform((2,)).eval()`` draws anew at each call."""
    from aotsym.graph.basic import clone_replace, graph_inputs
    from aotsym.graph.checking import filter_value
    from aotsym.graph.evaluate import evaluate
    # as Theano's eval (a compiled function of the givens): each value is converted to its
    # variable's type by the function's rule (float32 data for a float64 input is upcast;
    # a lossy conversion is a TypeError), and a given variable computed from others cuts
    # the graph there
    givens = {k: filter_value(v, k.type, what=f"the value given for {k!r}",
                              downcast_hint="cast it first")
              for k, v in (givens or {}).items()}
    cut = {k: k.type(k.name) for k in givens if k.owner is not None}
    if cut:
        self = clone_replace([self], cut)[0]
        givens = {cut.get(k, k): v for k, v in givens.items()}
    stored = [v for v in graph_inputs([self])
              if v not in givens and hasattr(v, "get_value")]
    for v in stored:
        givens[v] = v.get_value(borrow=True)
    advancing = [v for v in stored if getattr(v, "default_update", None) is not None]
    values = evaluate([self] + [v.default_update for v in advancing], givens)
    for v, new in zip(advancing, values[1:]):
        v.set_value(new)
    return values[0]


def _astype(self, dtype):
    return m.cast(self, dtype)


def _tensor(name):
    """The method that calls ``aotsym.tensor.<name>`` on the variable (looked up at call
    time: those functions live in modules this one must not import first)."""
    def method(self, *args, **kwargs):
        import aotsym.tensor as T
        return getattr(T, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


def _norm(self, L, axis=None, keepdims=False):
    """Theano's ``x.norm(L, axis=None)``: ``sum(|x|**L, axis) ** (1/L)`` (L = 1: the sum of
    absolute values; L = 2: the square root of the sum of squares)."""
    if L == 0 or np.isinf(L):
        raise NotImplementedError(f"norm: L={L} is not implemented (Theano's neither)")
    a = m.abs(self)
    if L == 1:
        return r.sum(a, axis, keepdims)
    if L == 2:
        return m.sqrt(r.sum(m.sqr(a), axis, keepdims))
    return m.pow(r.sum(m.pow(a, L), axis, keepdims), 1.0 / L)


def _size(self):
    """The number of elements (an int64 scalar variable), as Theano's ``x.size``."""
    return r.prod(_shape(self), dtype="int64") if self.type.ndim else \
        m.cast(1, "int64")


def _copy(self, name=None):
    """``x.copy(name=None)``: the same value, a new variable (Theano's)."""
    out = m.identity(self)
    if name is not None:
        out.name = name
    return out


def _extra(name):
    from aotsym.tensor import extra_ops
    return getattr(extra_ops, name)


METHODS = {
    "__add__": _binop("add"), "__radd__": _binop("add", True),
    "__sub__": _binop("sub"), "__rsub__": _binop("sub", True),
    "__mul__": _binop("mul"), "__rmul__": _binop("mul", True),
    "__truediv__": _binop("true_div"), "__rtruediv__": _binop("true_div", True),
    "__floordiv__": _binop("int_div"), "__rfloordiv__": _binop("int_div", True),
    "__mod__": _binop("mod"), "__rmod__": _binop("mod", True),
    "__pow__": _binop("pow"), "__rpow__": _binop("pow", True),
    "__and__": _binop("and_"), "__rand__": _binop("and_", True),
    "__or__": _binop("or_"), "__ror__": _binop("or_", True),
    "__xor__": _binop("xor"), "__rxor__": _binop("xor", True),
    "__lt__": _binop("lt"), "__le__": _binop("le"),
    "__gt__": _binop("gt"), "__ge__": _binop("ge"),
    "__neg__": lambda self: m.neg(self),
    "__pos__": lambda self: self,
    "__abs__": lambda self: m.abs(self),
    "__invert__": lambda self: m.invert(self),
    "__matmul__": _dot, "__rmatmul__": _rdot,
    "__getitem__": _getitem,
    "__setitem__": _setitem,
    "shape": property(_shape),
    "T": property(lambda self: _transpose(self)),
    "transpose": _transpose,
    "dimshuffle": _dimshuffle,
    "reshape": _reshape,
    "flatten": _flatten,
    "astype": _astype,
    "dot": _dot,
    "eval": _eval,
    "copy": _copy,
    # Theano's (and NumPy's) order: axis, dtype, keepdims; var/std: axis, ddof, keepdims
    "sum": lambda self, axis=None, dtype=None, keepdims=False, acc_dtype=None: r.sum(
        self, axis, keepdims, dtype, acc_dtype),
    "prod": lambda self, axis=None, dtype=None, keepdims=False, acc_dtype=None: r.prod(
        self, axis, keepdims, dtype, acc_dtype),
    "mean": lambda self, axis=None, dtype=None, keepdims=False, acc_dtype=None: r.mean(
        self, axis, keepdims, dtype, acc_dtype),
    "var": lambda self, axis=None, ddof=0, keepdims=False, corrected=False: r.var(
        self, axis, keepdims, ddof, corrected),
    "std": lambda self, axis=None, ddof=0, keepdims=False, corrected=False: r.std(
        self, axis, keepdims, ddof, corrected),
    "max": lambda self, axis=None, keepdims=False: r.max(self, axis, keepdims),
    "min": lambda self, axis=None, keepdims=False: r.min(self, axis, keepdims),
    "all": lambda self, axis=None, keepdims=False: r.all(self, axis, keepdims),
    "any": lambda self, axis=None, keepdims=False: r.any(self, axis, keepdims),
    "argmax": lambda self, axis=None, keepdims=False: r.argmax(self, axis, keepdims),
    "argmin": lambda self, axis=None, keepdims=False: r.argmin(self, axis, keepdims),
    "clip": lambda self, lo, hi: m.clip(self, lo, hi),
    "round": lambda self: m.round(self),
    "conj": lambda self: m.conj(self),
    "conjugate": lambda self: m.conj(self),
    "__divmod__": lambda self, other: (self // other, self % other),
    "__rdivmod__": lambda self, other: (other // self, other % self),
    "searchsorted": lambda self, v, side="left", sorter=None: _extra("searchsorted")(
        self, v, side, sorter),
    "compress": lambda self, a, axis=None: _extra("compress")(a, self, axis),
    "norm": _norm,
    "size": property(_size),
    "ravel": lambda self: _flatten(self),
    "ptp": lambda self, axis=None, keepdims=False: (
        m.sub(r.max(self, axis, keepdims), r.min(self, axis, keepdims))),
    "fill": lambda self, value: m.fill(self, value),
    "zeros_like": lambda self, dtype=None: _tensor("zeros_like")(self, dtype=dtype),
    "ones_like": lambda self, dtype=None: _tensor("ones_like")(self, dtype=dtype),
    **{name: _tensor(name) for name in (
        "cumsum", "cumprod", "repeat", "squeeze", "take", "diagonal", "trace", "swapaxes",
        "sort", "argsort", "nonzero", "nonzero_values", "real", "imag")},
}


def install(cls=Variable):
    for name, fn in METHODS.items():
        setattr(cls, name, fn)
