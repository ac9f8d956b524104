"""packaged_model: the seed's logistic regression as a library.

The model is an aotsym module compiled into this package when the wheel is built
(``packaged_model.logreg``, from ``model.py``); this file is the library's API around it and
imports only numpy and that module — no aotsym, no compiler::

    import packaged_model as pm
    x, y = pm.make_data()
    pm.train(x, y, steps=500)
    pm.predict(x)                      # the class of each row
    pm.save("weights.npz"); pm.load("weights.npz")

The model's state (``logreg.w``, ``logreg.b``) lives in the module, one copy per process: a
worker process of Dask, Ray or Spark has its own, loaded from the wheel's initial state or
with :func:`load`.
"""

import numpy as np

from . import logreg

__all__ = ["FEATURES", "make_data", "predict", "predict_proba", "log_loss", "train",
           "accuracy", "save", "load", "logreg"]

FEATURES = logreg.w.get_value().shape[0]


def make_data(n=400, seed=1):
    """The seed's synthetic data set: ``n`` random rows of FEATURES values, random 0/1 labels."""
    rng = np.random.RandomState(seed)
    dtype = logreg.w.get_value().dtype
    return (rng.randn(n, FEATURES).astype(dtype),
            rng.randint(size=n, low=0, high=2).astype(dtype))


def predict(x):
    """The predicted class (0 or 1) of each row of ``x`` (an (n, FEATURES) array)."""
    return logreg.predict(x).astype(np.int64)


def predict_proba(x):
    """The probability of class 1 for each row of ``x``."""
    return logreg.predict_proba(x)


def log_loss(x, y):
    """The cross-entropy of the model's predictions on ``x`` against the labels ``y``, per
    row."""
    return logreg.cross_entropy(logreg.predict_proba(x), y)


def train(x, y, steps=1):
    """``steps`` gradient steps on ``(x, y)``, updating the model's state; the mean
    cross-entropy of the last step."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    for _ in range(steps):
        _, xent = logreg.train(x, y)
    return float(xent.mean())


def accuracy(x, y):
    """The fraction of rows of ``x`` whose predicted class is ``y``."""
    return float(np.mean(predict(x) == np.asarray(y)))


def save(path):
    """Write the model's state (w, b) to ``path`` (.npz)."""
    logreg.save_state(path)


def load(path):
    """Read a state written by :func:`save` into this process's model."""
    logreg.load_state(path)
