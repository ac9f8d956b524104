"""``T.xlogx`` (Theano's ``theano.tensor.xlogx``): ``xlogx(x) = x * log(x)`` and
``xlogy0(x, y) = x * log(y)``, both 0 where ``x`` is 0.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Built from the
scalar table's rows, so they compile and differentiate like any elementwise expression.
The logarithm reads ``1`` where ``x == 0`` (the double-``switch`` form), so neither the
value nor the gradient there is ``0 * -inf = nan``.
"""

from __future__ import annotations

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops import math as m

__all__ = ["xlogx", "xlogy0"]


def xlogx(x):
    """``x * log(x)``, 0 at ``x == 0``."""
    x = as_tensor_variable(x)
    zero = m.eq(x, 0)
    return m.switch(zero, 0, x * m.log(m.switch(zero, 1, x)))


def xlogy0(x, y):
    """``x * log(y)``, 0 where ``x == 0`` (whatever ``y``)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    zero = m.eq(x, 0)
    return m.switch(zero, 0, x * m.log(m.switch(zero, 1, y)))
