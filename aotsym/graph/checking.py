"""Input checking: Theano's rules for which value a ``TensorType`` accepts, and as what array.

Part of the graph layer (frontend -> **graph** -> optimizer -> emitters -> build): the value
rule of the IR's own type, as Theano's ``TensorType.filter`` was.  It lives here, not in the
frontend, because both ends of the pipeline apply it: the frontend checks ``aotsym.function``
arguments and shared values with it, and the build stage installs it as a compiled module's
slow path and embeds this file's source into every standalone package (so an error message is
the same in-process and in production).  Everything imports the graph layer, so the flow
stays one way.  Invariant for that embedding: the module imports only numpy at the top, and
what it needs from aotsym (``floatx``, ``type_is_symbolic``) is a function the standalone
package redefines.

A value is accepted for a ``TensorType`` when its ndim matches, every broadcastable dimension
has length 1, and its dtype converts without loss — or with loss when the caller allowed
downcasting.  Python scalars and lists are accepted when their values survive the conversion,
and a Python float may be rounded to floatX unless downcasting is refused outright
(``allow_downcast=False``).  A float64 array for a float32 input is an error that says how to
fix it.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.types import floatx


def _can_cast_value(arr, dtype, python_value):
    src = arr.dtype
    if np.can_cast(src, dtype, casting="safe"):
        return True
    if python_value:
        # Python numbers: accepted when the value survives the conversion (Theano's rule).
        try:
            with np.errstate(all="ignore"):
                conv = arr.astype(dtype)
            return bool(np.all((conv == arr) | (np.isnan(arr) if src.kind in "fc" else False)))
        except (TypeError, ValueError, OverflowError):
            return False
    return False


def filter_value(value, type, *, strict=False, allow_downcast=None, what="argument",
                 copy=False, downcast_hint="pass allow_downcast=True"):
    """``value`` as an ndarray of ``type``, or a TypeError/ValueError saying what is wrong.

    ``what`` names the value in messages (which function, which argument); ``downcast_hint``
    says how the caller accepts a lossy conversion.
    """
    if hasattr(value, "__aotsym_variable__") or type_is_symbolic(value):
        raise TypeError(f"{what}: expected a number or array for {type.describe()}, got the "
                        f"symbolic variable {value!r}; pass symbolic values as `givens` or "
                        "build the expression into the function instead")
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{what}: got a masked array, for {type.describe()}; aotsym computes on "
                        "plain arrays and would lose the mask: pass value.filled(fill_value) "
                        "(or value.data to ignore the mask)")
    python_value = not isinstance(value, np.ndarray)
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{what}: expected {type.describe()}, got "
                            f"{type_name(value)} that is not an array ({exc})") from None
        if arr.dtype == object or arr.dtype.kind in "SUVMm":
            raise TypeError(f"{what}: expected {type.describe()}, got {type_name(value)} "
                            f"{_short(value)}")
        if isinstance(value, np.generic):
            python_value = False
    if arr.ndim != type.ndim:
        raise TypeError(f"{what}: expected {type.describe()} (ndim {type.ndim}), got an array "
                        f"of ndim {arr.ndim} with shape {arr.shape}")
    for d, b in enumerate(type.broadcastable):
        if b and arr.shape[d] != 1:
            raise ValueError(f"{what}: dimension {d} must have length 1 ({type.describe()} is "
                             f"broadcastable there), got shape {arr.shape}")
    if arr.dtype.name != type.dtype:
        if strict:
            raise TypeError(f"{what}: expected dtype {type.dtype}, got {arr.dtype} (the "
                            "input is strict: pass an array of exactly that dtype)")
        ok = _can_cast_value(arr, type.dtype, python_value)
        if not ok and allow_downcast is None and isinstance(value, float) \
                and type.dtype == floatx():
            ok = True  # Theano's default: a Python float may be rounded to floatX
        if not ok and not allow_downcast:
            raise TypeError(f"{what}: expected dtype {type.dtype}, got {arr.dtype}: converting "
                            f"it could lose information; convert it yourself with "
                            f"np.asarray(value, dtype='{type.dtype}'), or {downcast_hint} to "
                            "accept the loss of precision")
        with np.errstate(all="ignore"):
            arr = arr.astype(type.dtype)
        copy = False
    if copy:
        arr = np.array(arr, copy=True)
    return arr


def type_is_symbolic(value) -> bool:
    from aotsym.graph.basic import Variable
    return isinstance(value, Variable)


def type_name(value) -> str:
    return type(value).__name__


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."
