"""A 100,000-node graph builds, prints, differentiates and evaluates without recursion.

No timing assertions (performance belongs to benchmarks/); the graph is built once per module
and every step must simply finish — a quadratic step would make this file crawl.
"""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import toposort
from aotsym.graph.evaluate import evaluate
from aotsym.printing import debugprint, pprint

STEPS = 50_000  # two nodes per step on average: 100,000 apply nodes


def reference(x):
    """The chain and its derivative (forward mode), in NumPy."""
    y, d = x.copy(), np.ones_like(x)
    for i in range(STEPS):
        k = i % 3
        if k == 0:
            y, d = y * 1.0001 + 0.5, d * 1.0001
        elif k == 1:
            y = np.tanh(y)
            d = d * (1 - y * y)
        else:
            y, d = y - 0.25 * y * y, d * (1 - 0.5 * y)
    return y, d


@pytest.fixture(scope="module")
def chain():
    x = T.dvector("x")
    y = x
    for i in range(STEPS):
        k = i % 3
        if k == 0:
            y = y * 1.0001 + 0.5
        elif k == 1:
            y = T.tanh(y)
        else:
            y = y - 0.25 * y * y
    return x, y


def test_builds_100k_nodes(chain):
    x, y = chain
    assert len(toposort([y])) >= 100_000


def test_evaluates(chain):
    x, y = chain
    values = np.array([-0.5, 0.0, 0.3])
    (out,) = evaluate([y], {x: values})
    np.testing.assert_allclose(out, reference(values)[0], rtol=1e-12)


def test_differentiates(chain):
    """grad, then the reference evaluator (aotsym.function would add the optimizer's time,
    which benchmarks/ measures)."""
    x, y = chain
    g = aotsym.grad(y.sum(), x)
    values = np.array([-0.5, 0.0, 0.3])
    out, grad = evaluate([y, g], {x: values})
    ref_y, ref_d = reference(values)
    np.testing.assert_allclose(out, ref_y, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_d, rtol=1e-9)


def test_pprint(chain):
    x, y = chain
    text = pprint(y)
    assert text.count("tanh(") >= STEPS // 3
    assert "x" in text and len(text) < 100 * STEPS   # shared subexpressions are named


def test_debugprint(chain):
    x, y = chain
    text = debugprint(y, file="str")
    lines = text.count("\n")
    assert lines >= 100_000
    assert len(text) < 200 * lines    # deep trees are continued, not indented without bound
