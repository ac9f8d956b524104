"""The model of ``packaged_model``: an aotsym spec, compiled when the wheel is built.

``[tool.aotsym] modules = ["packaged_model/model.py:mod"]`` in pyproject.toml names this file;
the build runs it by path (never through ``packaged_model/__init__.py``, which imports the
module built from it) and compiles ``mod`` into ``packaged_model.logreg``.  The wheel carries
the built module, not this file: it imports aotsym, which users of the wheel do not have.

The seed's logistic regression: 784 features, weights w and bias b held in the module.
"""

import numpy as np

import aotsym
from aotsym import tensor as T

FEATURES = 784
floatX = aotsym.config.floatX

mod = aotsym.Module("logreg")
rng = np.random.RandomState(0)
w = mod.shared(rng.randn(FEATURES).astype(floatX), name="w")
b = mod.shared(np.asarray(0.0, dtype=floatX), name="b")


def probability(x):
    return 1 / (1 + T.exp(-T.dot(x, w) - b))       # the probability that the target is 1


@mod.export(T.matrix("x"), T.vector("y"))
def train(x, y):
    """One gradient step on (x, y); returns the predictions and the per-example loss."""
    p_1 = probability(x)
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    return [p_1 > 0.5, xent], {w: w - 0.1 * gw, b: b - 0.1 * gb}


@mod.export(T.matrix("x"))
def predict(x):
    """The predicted class (0 or 1) of each row of x."""
    return probability(x) > 0.5


@mod.export(T.matrix("x"))
def predict_proba(x):
    """The probability that each row of x is of class 1."""
    return probability(x)


@mod.export(T.vector("p"), T.vector("y"))
def cross_entropy(p, y):
    """The cross-entropy of each predicted probability p against its label y (no state: the
    built module's C function itself)."""
    return -y * T.log(p) - (1 - y) * T.log(1 - p)
