"""The Python half of a built module: argument conversion on the slow path.

Part of the build stage (emit_c -> **build** -> module.so).  This file needs only NumPy: it is
imported by aotsym in-process, and its source is copied into every standalone module that
``aotsym build`` writes (which must import without aotsym).

A generated function's C entry checks its arguments on a fast path (an aligned, native
ndarray of the declared dtype and ndim, length 1 on broadcastable dimensions).  Anything else
comes here: ``filter_value`` (Theano's rules and messages, :mod:`aotsym.frontend.checking`)
converts or rejects each argument, and the C entry is called again with the converted values.
"""

import numpy as np


class FunctionSignature:
    """What the slow path needs to know about one exported function."""

    def __init__(self, name, arg_labels, arg_types):
        self.name = name
        self.arg_labels = list(arg_labels)
        self.arg_types = list(arg_types)


def behaved(arr):
    """``arr`` itself, or an aligned native-byte-order copy the C code can read."""
    if arr.flags.aligned and arr.dtype.isnative:
        return arr
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), copy=True)


def make_slowpath(signatures, entries, filter_value):
    """The callable the C entries call with ``(function index, args tuple)``."""

    def slowpath(index, args):
        sig = signatures[index]
        n = len(sig.arg_types)
        if len(args) != n:
            raise TypeError(f"{sig.name}() takes {n} argument{'s' * (n != 1)}, "
                            f"got {len(args)}")
        fixed = [behaved(filter_value(value, ttype, what=label))
                 for value, ttype, label in zip(args, sig.arg_types, sig.arg_labels)]
        return entries[index](*fixed)

    return slowpath
