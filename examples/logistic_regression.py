"""The seed tutorial's logistic regression, ported by changing imports.

    python examples/logistic_regression.py [--steps N] [--seed S]

Trains on random data (N=400 examples, 784 features) and prints what the seed prints: the
initial model, the final model, the targets and the predictions, then the training accuracy.
The seed runs 10000 steps; the default here is 500, enough to fit the training set.
"""

import argparse

import numpy

import aotsym
from aotsym import tensor as T


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500, help="training steps (seed: 10000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the data")
    args = parser.parse_args(argv)

    rng = numpy.random.RandomState(args.seed)
    floatX = aotsym.config.floatX

    N = 400
    feats = 784
    D = (rng.randn(N, feats).astype(floatX), rng.randint(size=N, low=0, high=2).astype(floatX))
    training_steps = args.steps

    # Declare symbolic variables
    x = T.matrix("x")
    y = T.vector("y")
    w = aotsym.shared(rng.randn(feats).astype(floatX), name="w")
    b = aotsym.shared(numpy.asarray(0.0, dtype=floatX), name="b")
    print("Initial model:")
    print(w.get_value())
    print(b.get_value())

    # Construct the expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))       # Probability that target = 1
    prediction = p_1 > 0.5                        # The prediction thresholded
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w ** 2).sum()    # The cost to minimize
    gw, gb = aotsym.grad(cost, [w, b])            # Compute the gradient of the cost

    # Compile
    train = aotsym.function(inputs=[x, y], outputs=[prediction, xent],
                            updates={w: w - 0.1 * gw, b: b - 0.1 * gb}, name="train")
    predict = aotsym.function(inputs=[x], outputs=prediction, name="predict")

    # Train
    for _ in range(training_steps):
        pred, err = train(D[0], D[1])

    print("Final model:")
    print(w.get_value())
    print(b.get_value())
    print("target values for D:")
    print(D[1])
    print("prediction on D:")
    print(predict(D[0]))
    print(f"training accuracy: {numpy.mean(predict(D[0]) == D[1]):.3f}")


if __name__ == "__main__":
    main()
