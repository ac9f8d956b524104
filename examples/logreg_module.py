"""The seed's logistic regression written for the tracing frontend: an ``aotsym.Module``.

This file is a *spec*: ``aotsym build examples/logreg_module.py -o dist/`` compiles the module
``logreg`` below into an extension that imports without aotsym (``import logreg;
logreg.train(X, Y)``).  Run as a script it compiles the same exports in-process and trains:

    python examples/logreg_module.py [--steps N]
"""

import numpy as np

import aotsym
from aotsym import tensor as T

feats = 784
rng = np.random.RandomState(0)
floatX = aotsym.config.floatX

mod = aotsym.Module("logreg")                       # the generated module's import name
w = mod.shared(rng.randn(feats).astype(floatX), name="w")  # state that lives in the module
b = mod.shared(np.asarray(0.0, dtype=floatX), name="b")


@mod.export(T.matrix("x"), T.vector("y"))
def train(x, y):
    """One gradient step on (x, y); returns the predictions and the per-example loss."""
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))        # Probability that target = 1
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    return [prediction, xent], {w: w - 0.1 * gw, b: b - 0.1 * gb}


@mod.export(T.matrix("x"))
def predict(x):
    """The predicted class (0 or 1) of each row of x."""
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    return p_1 > 0.5


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="train the logreg module in-process")
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)

    data_rng = np.random.RandomState(1)
    X = data_rng.randn(400, feats).astype(floatX)
    Y = data_rng.randint(size=400, low=0, high=2).astype(floatX)
    train_fn, predict_fn = mod.function("train"), mod.function("predict")
    print(mod)
    for _ in range(args.steps):
        pred, err = train_fn(X, Y)
    print("final b:", b.get_value())
    print("prediction on D:")
    print(predict_fn(X))
    print(f"training accuracy: {np.mean(predict_fn(X) == Y):.3f}")


if __name__ == "__main__":
    main()
