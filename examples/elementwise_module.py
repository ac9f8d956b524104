"""The seed's first example, ``a + a**10``, and other elementwise work as an ``aotsym.Module``.

This file is a *spec*, like ``logreg_module.py``: ``aotsym build
examples/elementwise_module.py -o dist/`` compiles the module ``elementwise`` below (add
``--target cuda`` for its functions to run on an NVIDIA GPU; no cuBLAS is needed: it has no
product).  Run as a script it compiles the same exports in-process and prints their results:

    python examples/elementwise_module.py
"""

import numpy as np

import aotsym
from aotsym import tensor as T

mod = aotsym.Module("elementwise")                  # the generated module's import name
total = mod.shared(np.asarray(0.0), name="total")   # state: what accumulate() has summed


@mod.export(T.vector("a"))
def apow(a):
    """The seed's first example: a + a**10."""
    return a + a ** 10


@mod.export(T.fvector("a"), T.fvector("b"))
def square_sum(a, b):
    """(a + b)**2 written out, in float32: one fused loop (one kernel on a GPU)."""
    return a ** 2 + b ** 2 + 2 * a * b


@mod.export(T.vector("a"))
def accumulate(a):
    """Adds the sum of exp(a) to ``total``; returns the new total."""
    new = total + T.exp(a).sum()
    return new, {total: new}


def main():
    apow_fn, square_fn, acc_fn = (mod.function(n) for n in ("apow", "square_sum",
                                                            "accumulate"))
    print(apow_fn(np.array([0.0, 1.0, 2.0])))
    print(square_fn(np.array([1, 2], "float32"), np.array([3, 4], "float32")))
    acc_fn(np.zeros(3))
    print("total:", acc_fn(np.zeros(2)))


if __name__ == "__main__":
    main()
