"""The rest of the deeplearning.net tutorials (lisa-lab/DeepLearningTutorials), ported by
changing only their imports: SdA.py, DBN.py, cA.py, logistic_cg.py and rnnrbm.py.

The code between the TUTORIAL markers is the tutorials' own statements, condensed
(docstrings, comments, plotting and early stopping cut; MNIST and the MIDI files replaced by
small synthetic data of the same format).  The classes they import from the other tutorials
(logistic_sgd's LogisticRegression, mlp's HiddenLayer, dA, rbm's RBM) are the ones
test_theano_tutorials.py and test_theano_tutorials_more.py condense.  Each test checks the
script trains (its cost falls, its error drops), then checks the numbers where they do not
depend on the random streams: against a NumPy re-computation, the NumPy reference
evaluator (``mode='FAST_COMPILE'``), and, where PyTensor is importable, the same section run
under ``import pytensor as theano`` (tutorial_harness.py).
"""

import numpy

import aotsym
import aotsym.tensor as T
from aotsym.sandbox.rng_mrg import MRG_RandomStreams


def test_scan_draw_with_outer_parameter_advances_every_step():
    """rnnrbm.py's Gibbs chain: a draw inside a scan step whose ``p`` is computed outside
    the step from the function's input.  Its state must advance every step and be among
    scan's updates (it was left out, and the function raised MissingInputError)."""
    rng = MRG_RandomStreams(seed=7)
    x = T.matrix('x')
    p = T.nnet.sigmoid(x.sum(axis=0))          # outer, computed from the input

    def step(prev):
        return prev + rng.binomial(size=p.shape, n=1, p=p, dtype='float64')

    out, updates = aotsym.scan(step, outputs_info=[T.zeros_like(p)], n_steps=4)
    assert len(updates) == 1
    xv = numpy.array([[0.3, -0.2, 5.0, -5.0, 0.0, 1.0]] * 2)
    results = []
    for mode in ('FAST_RUN', 'FAST_COMPILE'):
        rng.seed(7)
        f = aotsym.function([x], out, updates=updates, mode=mode)
        results.append((f(xv), f(xv)))
    (a1, a2), (b1, b2) = results
    numpy.testing.assert_array_equal(a1, b1)
    numpy.testing.assert_array_equal(a2, b2)
    draws = numpy.diff(numpy.vstack([numpy.zeros(6), a1]), axis=0)
    assert set(numpy.unique(draws)) <= {0.0, 1.0}
    # p = sigmoid(10) ~ 1 and sigmoid(-10) ~ 0 columns; the middle ones vary step to step
    assert (a1[:, 2] == numpy.arange(1, 5)).all() and (a1[:, 3] == 0).all()
    assert not (a1 == a2).all()                 # the state advanced between the calls
    assert len({tuple(r) for r in draws[:, [0, 1, 4, 5]]}) > 1   # advanced within a call
