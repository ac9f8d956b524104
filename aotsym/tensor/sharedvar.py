"""``aotsym.tensor.sharedvar``: Theano's ``theano.tensor.sharedvar`` — the shared-variable
classes and constructors of tensors.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters); the implementation is
:mod:`aotsym.frontend.shared`.  aotsym has one shared-variable class, so
``TensorSharedVariable`` and ``ScalarSharedVariable`` are both
:class:`~aotsym.frontend.shared.SharedVariable`.  The constructors check their argument as
Theano's do (``tensor_constructor``: an ndarray; ``scalar_constructor``: a number, whose own
dtype is kept) and are ``aotsym.shared`` otherwise.
"""

from __future__ import annotations

import numpy as np

from aotsym.frontend.shared import SharedVariable, shared

__all__ = ["TensorSharedVariable", "ScalarSharedVariable", "tensor_constructor",
           "scalar_constructor", "load_shared_variable"]

TensorSharedVariable = SharedVariable
ScalarSharedVariable = SharedVariable


def _cpu_only(target):
    if target != "cpu":
        raise TypeError(f"sharedvar: target {target!r}: these constructors make CPU shared "
                        "variables only")


def tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       broadcastable=None, target="cpu"):
    """A shared variable of the ndarray ``value`` (TypeError for anything else)."""
    _cpu_only(target)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"tensor_constructor needs a numpy.ndarray, got {type(value).__name__}")
    return shared(value, name=name, strict=strict, allow_downcast=allow_downcast,
                  borrow=borrow, broadcastable=broadcastable)


def scalar_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       target="cpu"):
    """A 0-d shared variable of the number ``value``, of its own dtype (``numpy.asarray``'s
    for a Python number: 0.5 is float64 whatever floatX is); TypeError for anything else."""
    _cpu_only(target)
    if not isinstance(value, (np.number, float, int, complex)):
        raise TypeError(f"scalar_constructor needs a number, got {type(value).__name__}")
    return shared(np.asarray(value), name=name, strict=strict, allow_downcast=allow_downcast)


def load_shared_variable(val):
    """Theano's (deprecated) unpickling helper: ``tensor_constructor(val)``."""
    return tensor_constructor(val)
