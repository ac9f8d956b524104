"""Use the module that ``aotsym build examples/logreg_module.py -o DIST`` wrote.

This script is the production side: it imports the built ``logreg`` extension from DIST and
never imports aotsym (it checks that), trains it on the seed's synthetic data, saves a
checkpoint and reports the training accuracy::

    aotsym build examples/logreg_module.py -o dist && python examples/use_logreg.py dist
"""

import argparse
import os
import sys
import tempfile

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", help="the -o directory given to aotsym build")
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.abspath(args.dist))
    import logreg  # the generated extension module

    rng = np.random.RandomState(1)
    X = rng.randn(400, 784).astype(logreg.w.get_value().dtype)
    Y = rng.randint(size=400, low=0, high=2).astype(X.dtype)
    print("built with", logreg.__aotsym__["compiler"], "| exports:", ", ".join(
        sorted(logreg.__aotsym__["functions"])))
    for _ in range(args.steps):
        pred, err = logreg.train(X, Y)
    accuracy = float((logreg.predict(X) == Y).mean())
    print(f"after {args.steps} steps: mean cross-entropy {err.mean():.4f}, "
          f"training accuracy {accuracy:.3f}")
    ckpt = os.path.join(tempfile.mkdtemp(), "logreg.npz")
    logreg.save_state(ckpt)
    print("state saved to", ckpt, "| aotsym imported:", "aotsym" in sys.modules)
    return 0 if accuracy > 0.95 and "aotsym" not in sys.modules else 1


if __name__ == "__main__":
    sys.exit(main())
