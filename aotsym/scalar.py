"""``aotsym.scalar`` (Theano's ``theano.scalar``): the names ported code imports from it.

Beside the pipeline's frontend: ``upcast(*dtypes)`` (the dtype NumPy computes a mix of
``dtypes`` in, as a string), and the scalar op table of the IR (:mod:`aotsym.graph.scalar`:
one row per elementwise function), re-exported read-only.
"""

from aotsym.graph.scalar import SCALAR_OPS, ScalarOp, scalar_op  # noqa: F401
from aotsym.graph.types import upgrade_to_float  # noqa: F401


def upcast(dtype, *dtypes) -> str:
    """``upcast('int32', 'float32') == 'float64'``: NumPy's result dtype of the mix (names or
    NumPy dtypes), as Theano's ``theano.scalar.upcast``."""
    from aotsym.graph.types import check_dtype
    from aotsym.graph.types import upcast as _upcast
    return _upcast(*(check_dtype(d) for d in (dtype,) + dtypes))


def constant(x, name=None, dtype=None):
    """Theano's ``theano.scalar.constant(x)``: a 0-d constant, the dtype as
    ``theano.tensor.constant`` picks it (the smallest int that holds an ``int``, floatX for a
    ``float``).  aotsym has no scalar type apart from 0-d tensors, so this is one: ported code
    uses it as an index or a factor (``n[z:, z]``, ``z.astype('int32')``)."""
    from aotsym.tensor import constant as tensor_constant
    out = tensor_constant(x, name=name, dtype=dtype)
    if out.ndim != 0:
        raise TypeError(f"theano.scalar.constant: a scalar, not a value of shape "
                        f"{out.data.shape}")
    return out
