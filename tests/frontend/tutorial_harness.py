"""What the tutorial tests share (tests/frontend/test_theano_tutorial*.py): the same tutorial
code run again under ``import pytensor as theano``, and run once per mode.

A tutorial test module holds the tutorials' own code between the lines ``# ---- TUTORIAL``
and ``# ---- END TUTORIAL``; :func:`pytensor_namespace` runs that text again with ``theano``
and its submodules standing for PyTensor's, plus the few Theano names PyTensor dropped, so a
test can compare the first losses (or whatever does not depend on the random streams, which
differ) with Theano's successor.
"""

import inspect
import types
from collections import OrderedDict

import numpy

import aotsym

# Theano 1.0 let a shared variable or a symbolic input stand in a truth test (rbm.py relies
# on it, and so does aotsym: DESIGN.md); PyTensor refuses: its spelling of the same test.
PYTENSOR_REFUSES = {'if not input:': 'if input is None:',
                    'if persistent:': 'if persistent is not None:'}


def pytensor_namespace(module, extra=None):
    """The TUTORIAL section of ``module`` (a test module) run under ``import pytensor as
    theano``: its namespace, or None where PyTensor is not importable.

    PyTensor dropped ``theano.sandbox.rng_mrg``, Theano 1.0's row softmax of a vector and
    Theano's argument order of the stream methods (``size`` first); they are put back.
    Functions compile in PyTensor's FAST_COMPILE mode (its Python implementations: Theano's
    numbers, without minutes of C compilation).  ``extra``: more names for the section."""
    try:
        import pytensor
        import pytensor.scalar
        import pytensor.tensor as pt
        from pytensor.tensor.random.utils import RandomStream
        from pytensor.tensor.special import softmax
    except ImportError:
        return None

    def softmax_row(v):              # Theano 1.0: a vector gives a (1, n) row
        v = pt.as_tensor_variable(v)
        return softmax(v.dimshuffle('x', 0) if v.ndim == 1 else v, axis=-1)

    class Streams(RandomStream):     # MRG_RandomStreams' argument order and dtypes
        def _draw(self, name, dtype, *params, size):
            # self.gen, not RandomStream.__getattr__: that one caches its draw function as an
            # instance attribute, which would hide these methods from the next call
            out = self.gen(getattr(pt.random, name), *params, size=size)
            return pt.cast(out, dtype or pytensor.config.floatX)

        def binomial(self, size=None, n=1, p=0.5, dtype='int64'):
            return self._draw('binomial', dtype, n, p, size=size)

        def uniform(self, size=None, low=0.0, high=1.0, dtype=None):
            return self._draw('uniform', dtype, low, high, size=size)

        def normal(self, size=None, avg=0.0, std=1.0, dtype=None):
            return self._draw('normal', dtype, avg, std, size=size)

    def function(*args, **kwargs):
        return pytensor.function(*args, mode='FAST_COMPILE', **kwargs)

    tensor = types.SimpleNamespace(**vars(pt))
    tensor.nnet = types.SimpleNamespace(sigmoid=pt.sigmoid, softmax=softmax_row)
    theano_ns = types.SimpleNamespace(**vars(pytensor))
    theano_ns.tensor = tensor
    theano_ns.function = function
    theano_ns.scalar = pytensor.scalar
    theano_ns.sandbox = types.SimpleNamespace(
        rng_mrg=types.SimpleNamespace(MRG_RandomStreams=Streams))
    source = inspect.getsource(module)
    body = source.split('# ---- TUTORIAL')[1].split('# ---- END TUTORIAL')[0]
    body = '\n'.join(line for line in body.splitlines()[1:]
                     if not line.startswith(('import aotsym', 'from aotsym')))
    for theano_1, pytensor_spelling in PYTENSOR_REFUSES.items():
        body = body.replace(theano_1, pytensor_spelling)
    ns = {'numpy': numpy, 'OrderedDict': OrderedDict, 'theano': theano_ns, 'T': tensor,
          'tensor': tensor, 'TT': tensor, 'config': pytensor.config, 'function': function,
          'shared': pytensor.shared, 'RandomStreams': Streams, **(extra or {})}
    exec(compile(body, f'<{module.__name__} under pytensor>', 'exec'), ns)
    return ns


def in_modes(run, *args, modes=('FAST_RUN', 'FAST_COMPILE'), **kwargs):
    """``run(*args, **kwargs)`` once per mode: compiled, then the NumPy reference evaluator
    (the random streams draw the same numbers in both)."""
    results = []
    for mode in modes:
        with aotsym.config.change_flags(mode=mode):
            results.append(run(*args, **kwargs))
    return results
