"""Turning user values into graph variables, with the promotion rule of ``types.py``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Python scalars are *weak*
(they adopt a neighbouring tensor's dtype); NumPy values are strong.
"""

from __future__ import annotations

import numbers

import numpy as np

from aotsym.graph.basic import Variable, constant
from aotsym.graph.types import weak_scalar_dtype


_SCALAR_CONSTANTS: dict = {}  # (type, value, dtype) -> Constant; kept alive on purpose


def is_python_scalar(x) -> bool:
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


def as_tensor_variable(x, dtype=None, name=None) -> Variable:
    """A Variable for ``x``: itself if it is one, else a constant.

    ``dtype`` is used for Python scalars and lists (for an ndarray it must already match).
    """
    if isinstance(x, Variable):
        return x
    if hasattr(x, "__aotsym_variable__"):
        return x.__aotsym_variable__()
    if is_python_scalar(x):
        dtype = dtype or weak_scalar_dtype(x, ())
        if name is not None:
            return constant(x, dtype=dtype, name=name)
        key = (type(x), x.hex() if isinstance(x, float) else repr(x), dtype)  # keeps -0.0
        found = _SCALAR_CONSTANTS.get(key)
        if found is None:
            found = _SCALAR_CONSTANTS[key] = constant(x, dtype=dtype)
        return found
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in _flat(x)):
        from aotsym.graph.ops.join import stack
        from aotsym.graph.ops.math import cast
        stacked = stack(list(x))  # Python scalars in the list are weak (module docstring)
        return stacked if dtype is None else cast(stacked, dtype)
    if isinstance(x, (np.ndarray, np.generic, list, tuple, numbers.Number)):
        arr = np.asarray(x)
        if dtype is not None and isinstance(x, (list, tuple)):
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f" and arr.dtype.itemsize < 4:
            arr = arr.astype("float32")
        elif isinstance(x, (list, tuple)) and arr.dtype == np.float64:
            from aotsym.graph.types import floatx
            arr = arr.astype(floatx())
        return constant(arr, name=name)
    raise TypeError(f"cannot convert {type(x).__name__} {x!r} to a symbolic tensor")


def _flat(seq):
    for e in seq:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def as_tensor_variables(args) -> list[Variable]:
    """Convert operands together: Python scalars take the dtype of the tensors beside them."""
    if len(args) == 2:              # (the common binary case, without generators)
        a, b = args
        if isinstance(a, Variable):
            if isinstance(b, Variable):
                return [a, b]
            if is_python_scalar(b):
                return [a, as_tensor_variable(b, dtype=weak_scalar_dtype(b, (a.dtype,)))]
        elif isinstance(b, Variable) and is_python_scalar(a):
            return [as_tensor_variable(a, dtype=weak_scalar_dtype(a, (b.dtype,))), b]
    elif all(isinstance(a, Variable) for a in args):
        return list(args)
    strong = tuple(a.dtype if isinstance(a, Variable) else np.asarray(a).dtype.name
                   for a in args if not is_python_scalar(a))
    return [as_tensor_variable(a, dtype=weak_scalar_dtype(a, strong)) if is_python_scalar(a)
            else as_tensor_variable(a) for a in args]
