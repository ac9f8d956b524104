"""The seed's logistic-regression training step (seeds' "A Real Example: Logistic
Regression"), built one way for every test that needs it.

Test helper (no tests here): tests/conftest.py's folder is on sys.path, so any test imports
it as ``from seed_logreg import logreg_step``.
"""

from dataclasses import dataclass

import aotsym
from aotsym import tensor as T


@dataclass
class LogregStep:
    """The graph's pieces: ``inputs`` (x, y, and w, b when they are not shared), ``outputs``
    (prediction, xent, and the new w, b when they are not shared) and ``updates`` (the new
    w, b of shared ones, as (shared, new value) pairs)."""
    inputs: list
    outputs: list
    updates: list
    w: object
    b: object


def logreg_step(w_value=None, *, dtype="float64", l2=0.01, bias=True) -> LogregStep:
    """The step ``w -= 0.1 * dcost/dw; b -= 0.1 * dcost/db`` with
    ``cost = mean(xent) + l2 * sum(w ** 2)``.  With ``w_value`` (the initial weights) w and b
    are shared variables, updated by ``updates``; without, they are inputs and the new values
    are outputs.  ``bias=False`` leaves b out."""
    x, y = T.matrix("x", dtype=dtype), T.vector("y", dtype=dtype)
    if w_value is not None:
        w = aotsym.shared(w_value, name="w")
        b = aotsym.shared(0.0, name="b") if bias else None
    else:
        w = T.vector("w", dtype=dtype)
        b = T.scalar("b", dtype=dtype) if bias else None
    z = T.dot(x, w) + b if bias else T.dot(x, w)
    p_1 = 1 / (1 + T.exp(-z))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + l2 * (w ** 2).sum() if l2 else xent.mean()
    params = [w, b] if bias else [w]
    new = [p - 0.1 * g for p, g in zip(params, aotsym.grad(cost, params))]
    if w_value is not None:
        return LogregStep([x, y], [p_1 > 0.5, xent], list(zip(params, new)), w, b)
    return LogregStep([x, y] + params, [p_1 > 0.5, xent] + new, [], w, b)
