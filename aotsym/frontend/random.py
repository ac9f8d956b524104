"""Random streams: Theano's ``RandomStreams`` and ``MRG_RandomStreams`` on Philox4x32-10.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  A stream object makes
one shared variable per random variable — its generator state, a uint32 vector
``[key0, key1, counter_lo, counter_hi]`` (:mod:`aotsym.graph.philox`) — and applies a draw
op of :mod:`aotsym.graph.ops.random` to it, which returns ``(new state, sample)``.  The
state's ``default_update`` is the new state, so ``aotsym.function`` advances it after every
call (Theano's rule; ``no_default_updates=True`` draws the same numbers every call), a scan
step that draws returns the advance in its updates, and ``stream.updates()`` lists every
``(state, new state)`` pair for code that passes them explicitly.

Seeding: random variable number ``j`` of a stream seeded with ``s`` starts from the key
``philox.seed_state(s, j)`` and counter 0, so a program that makes the same draws in the same
order gets the same numbers, whatever the backend (C, CUDA, the NumPy reference).
``stream.seed(s)`` resets every state the stream made.

Theano's per-variable handles: ``rv.rng`` is the variable's generator (Theano's
``RandomStateSharedVariable``) and ``rv.update`` its ``(state, new state)`` pair.
``rv.rng.get_value()`` is a :class:`GeneratorState`, which has what the Theano tutorial uses
of NumPy's ``RandomState``: ``seed(n)``, ``get_state()``, ``set_state(state)``; it goes back
with ``rv.rng.set_value(...)``.  Seeding one generator with ``n`` restarts it as a stream's
first variable seeded with ``n`` would.

Module paths: :mod:`aotsym.tensor.shared_randomstreams` and :mod:`aotsym.sandbox.rng_mrg`
(Theano's), ``aotsym.RandomStreams``.
"""

from __future__ import annotations

import numpy as np

from aotsym.config import config
from aotsym.frontend.shared import shared
from aotsym.graph import philox
from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops import random as R
from aotsym.graph.types import check_dtype, dtype_kind

# The names of the state variables a stream makes (a Module registers them under these).
STATE_NAME = "random_state"


def _entries(size, what):
    from aotsym.graph.ops.alloc import _shape_entries
    return _shape_entries(size, what)


def _broadcast_entries(params):
    """The shape entries of the broadcast of ``params`` (size=None)."""
    arrays = [p for p in params if p.ndim]
    if not arrays:
        return []
    ref = arrays[0]
    for p in arrays[1:]:
        ref = ref + p          # only its shape is read
    return list(ref.shape)


def _full(p, entries, what):
    """``p`` as the op takes it: 0-d, or broadcast to the sample's shape."""
    if p.ndim == 0:
        return p
    if p.ndim > len(entries):
        raise ValueError(f"{what}: a parameter of {p.ndim} dimensions for a sample of "
                         f"{len(entries)}")
    from aotsym.graph.ops.alloc import alloc
    return alloc(p, *entries)


def _float_dtype(dtype, raw_params, what):
    """The sample dtype of uniform/normal: ``dtype``, or floatX upcast with the dtypes of the
    parameters that are tensors or NumPy values (Python numbers do not count)."""
    if dtype is not None and dtype != "floatX":
        dtype = check_dtype(dtype)
        if dtype_kind(dtype) != "f":
            raise TypeError(f"{what}: dtype must be float32 or float64, got {dtype}")
        return dtype
    dtype = config.floatX
    for p in raw_params:
        if isinstance(p, (Variable, np.ndarray, np.generic)):
            pd = np.asarray(p).dtype if not isinstance(p, Variable) else np.dtype(p.dtype)
            if pd.kind == "f":
                dtype = np.result_type(dtype, pd).name
    return dtype


class GeneratorState:
    """``rv.rng.get_value()``: one random variable's Philox state (Theano gave a NumPy
    ``RandomState``), with the methods Theano's tutorial calls on it.  ``get_value(borrow=
    True)`` wraps the variable's own state array, so ``seed`` and ``set_state`` change it."""

    def __init__(self, state):
        self.state = state           # uint32 [key0, key1, counter_lo, counter_hi]

    def seed(self, seed=None):
        """Restart as a stream's first variable seeded with ``seed`` (None: fresh entropy)."""
        if seed is None:
            seed = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.state[...] = philox.seed_state(int(seed), 0)

    def get_state(self) -> np.ndarray:
        """A copy of the state (a value for :meth:`set_state`)."""
        return self.state.copy()

    def set_state(self, state):
        state = np.asarray(state.state if isinstance(state, GeneratorState) else state)
        if state.shape != self.state.shape:
            raise ValueError(f"set_state: a Philox state is {self.state.shape[0]} uint32 "
                             f"words, got an array of shape {state.shape}")
        self.state[...] = state.astype(np.uint32)

    def __repr__(self):
        return f"GeneratorState(philox4x32, {self.state.tolist()})"


class RandomStateVariable:
    """``rv.rng``: a random variable's generator, as Theano's ``RandomStateSharedVariable``:
    ``get_value`` gives a :class:`GeneratorState`, ``set_value`` takes one (or a state
    array); anything else is the state's shared variable's (``name``, ``default_update``)."""

    def __init__(self, state):
        self.shared = state

    def get_value(self, borrow=False, return_internal_type=False):
        return GeneratorState(self.shared.get_value(borrow=borrow))

    def set_value(self, value, borrow=False):
        if isinstance(value, GeneratorState):
            value = value.state
        self.shared.set_value(np.asarray(value, dtype=np.uint32), borrow=borrow)

    def __getattr__(self, name):
        if name.startswith("__") or name == "shared":   # (unpickling: not set yet)
            raise AttributeError(name)
        return getattr(self.shared, name)

    def __repr__(self):
        return f"RandomStateVariable({self.shared!r})"


def _generator(item, what):
    """``item`` as a generator handle: ``rv.rng`` (a :class:`RandomStateVariable`) or the
    state's shared variable itself."""
    if isinstance(item, RandomStateVariable):
        return item
    if getattr(item, "name", None) and str(item.name).startswith(STATE_NAME):
        return RandomStateVariable(item)
    raise TypeError(f"RandomStreams {what}: expected a random variable's generator (rv.rng), "
                    f"got {item!r}")


class RandomStreams:
    """Theano's ``theano.tensor.shared_randomstreams.RandomStreams``: a factory of random
    variables whose states are shared variables.

    ``uniform(size, low, high, ndim, dtype)``, ``normal(size, avg, std, ndim, dtype)``,
    ``binomial(size, n, p, ndim, dtype)``, ``choice(size, a, replace, p, ndim, dtype)``,
    ``permutation(size, n, ndim, dtype)``, ``multinomial(size, n, pvals, ndim, dtype)``;
    ``size`` may be a tuple of ints or int scalars, or symbolic (``x.shape``); None takes
    the parameters' broadcast shape.  ``seed(s)`` reseeds every state; ``updates()`` lists
    the ``(state, new state)`` pairs; ``state_updates`` is that list.
    """

    def __init__(self, seed=None):
        if seed is None:
            seed = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.default_instance_seed = int(seed)
        self.state_updates: list = []

    # ---------------------------------------------------------------- state
    def seed(self, seed=None):
        """Reseed: every state this stream made restarts from ``seed``'s key, counter 0."""
        if seed is None:
            seed = self.default_instance_seed
        self.default_instance_seed = int(seed)
        for j, (state, _) in enumerate(self.state_updates):
            state.set_value(philox.seed_state(seed, j))

    def updates(self) -> list:
        """``[(state, new state)]`` of every random variable made so far."""
        return list(self.state_updates)

    def _new_state(self):
        j = len(self.state_updates)
        state = shared(philox.seed_state(self.default_instance_seed, j),
                       name=f"{STATE_NAME}{j}")
        state.default_update = None
        state.tag.test_value = state.get_value()   # DEBUG_MODE checks rewrites on a real state
        return state

    def _apply(self, op, entries, params):
        state = self._new_state()
        new_state, sample = op(state, *entries, *params)
        state.default_update = new_state
        self.state_updates.append((state, new_state))
        sample.tag.rng = state
        sample.tag.rng_handle = RandomStateVariable(state)    # rv.rng (Variable.rng)
        sample.tag.update = (state, new_state)
        return sample

    @staticmethod
    def _size(size, ndim, params, what):
        if isinstance(size, Variable) and size.ndim == 1 and ndim is not None:
            from aotsym.graph.ops.shape import vector_entries
            if vector_entries(size) is None:     # a symbolic vector: ndim says its length
                size = [size[i] for i in range(int(ndim))]
        entries = _broadcast_entries(params) if size is None else _entries(size, what)
        if ndim is not None and int(ndim) != len(entries):
            raise ValueError(f"{what}: ndim={ndim}, but the size has {len(entries)} entries")
        return entries

    # ---------------------------------------------------------------- distributions
    # Theano's RandomStreams (RandomFunction ops): a sample has no gradient with respect to
    # its distribution's parameters; MRG_RandomStreams' uniform and normal do (below)
    differentiable = False

    def _affine(self, op, entries, dtype, shift, scale):
        """``shift + scale * sample`` of ``op`` drawn with the parameters 0 and 1: the same
        values as ``op`` drawn with ``shift`` and ``scale`` themselves (the draw computes
        exactly that, in ``dtype``), differentiable in them."""
        from aotsym.graph.ops import math as m
        sample = self._apply(op, entries, [as_tensor_variable(np.asarray(b, dtype=dtype))
                                           for b in (0, 1)])
        return m.add(shift, m.mul(scale, sample))

    def _symbolic(self, params) -> bool:
        from aotsym.graph.basic import Constant
        return self.differentiable and any(not isinstance(p, Constant) for p in params)

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, **_):
        """Uniform in [low, high)."""
        dtype = _float_dtype(dtype, (low, high), "uniform")
        params = [as_tensor_variable(np.asarray(v, dtype=dtype) if not isinstance(v, Variable)
                                     else v) for v in (low, high)]
        from aotsym.graph.ops.math import cast
        params = [cast(p, dtype) for p in params]
        entries = self._size(size, ndim, params, "uniform")
        op = R.UniformDraw(dtype, len(entries))
        if self._symbolic(params):
            from aotsym.graph.ops.math import sub
            low, high = params
            return self._affine(op, entries, dtype, low, sub(high, low))
        return self._apply(op, entries, [_full(p, entries, "uniform") for p in params])

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, truncate=False,
               **_):
        """Normal with mean ``avg`` and standard deviation ``std``."""
        if truncate:
            return self.truncated_normal(size, avg, std, ndim, dtype)
        dtype = _float_dtype(dtype, (avg, std), "normal")
        from aotsym.graph.ops.math import cast
        params = [cast(as_tensor_variable(np.asarray(v, dtype=dtype) if not
                                          isinstance(v, Variable) else v), dtype)
                  for v in (avg, std)]
        entries = self._size(size, ndim, params, "normal")
        op = R.NormalDraw(dtype, len(entries))
        if self._symbolic(params):
            return self._affine(op, entries, dtype, params[0], params[1])
        return self._apply(op, entries, [_full(p, entries, "normal") for p in params])

    def truncated_normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, **_):
        """Normal with mean ``avg`` and standard deviation ``std`` truncated to ``avg`` ± 2
        ``std`` (Theano's MRG ``truncated_normal``; ``normal(truncate=True)``): a uniform
        draw through the inverse of the truncated distribution function,
        ``avg + std * sqrt(2) * erfinv(erf(sqrt(2)) * (2u - 1))``."""
        from aotsym.graph.ops import math as m
        from aotsym.tensor.special import erfinv
        dtype = _float_dtype(dtype, (avg, std), "truncated_normal")
        u = self.uniform(size, 0.0, 1.0, ndim, dtype)
        scale = np.asarray(0.9544997361036416, dtype=dtype)          # erf(sqrt(2))
        x = m.mul(np.asarray(np.sqrt(2.0), dtype=dtype),
                  erfinv(m.mul(scale, m.sub(m.mul(np.asarray(2, dtype=dtype), u),
                                            np.asarray(1, dtype=dtype)))))
        return m.cast(m.add(avg, m.mul(std, x)), dtype)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64", **_):
        """Integers drawn uniformly from ``low`` to ``high``, both included (Theano's
        ``random_integers``): ``low + floor(u * (high - low + 1))`` of a float64 uniform
        ``u`` (exact for ranges below 2**52)."""
        from aotsym.graph.ops import math as m
        low, high = (m.cast(as_tensor_variable(v), "int64") for v in (low, high))
        u = self.uniform(size, 0.0, 1.0, ndim, "float64")
        span = m.cast(m.add(m.sub(high, low), 1), "float64")
        k = m.add(low, m.cast(m.floor(m.mul(u, span)), "int64"))
        return m.cast(m.minimum(k, high), check_dtype(dtype))

    def poisson(self, size=None, lam=None, ndim=None, dtype="int64", **_):
        raise NotImplementedError("RandomStreams.poisson is not implemented: aotsym's random "
                                  "ops have no Poisson sampler yet")

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None, **_):
        """Successes of ``n`` trials of probability ``p`` (``int64``, or ``dtype``)."""
        if prob is not None:
            p = prob
        from aotsym.graph.ops.math import cast
        n = cast(as_tensor_variable(n), "int64")
        p = cast(as_tensor_variable(np.asarray(p, dtype="float64") if not
                                    isinstance(p, Variable) else p), "float64")
        entries = self._size(size, ndim, [n, p], "binomial")
        sample = self._apply(R.BinomialDraw("int64", len(entries)), entries,
                             [_full(n, entries, "binomial"), _full(p, entries, "binomial")])
        return cast(sample, check_dtype(dtype))

    def choice(self, size=(), a=2, replace=True, p=None, ndim=None, dtype=None, **_):
        """Elements of ``a`` (a vector), or integers below ``a`` (an int), with or without
        replacement, uniform or with probabilities ``p``."""
        from aotsym.graph.ops.math import cast
        from aotsym.graph.ops.shape import shape_i
        a = as_tensor_variable(a)
        if a.ndim == 0:
            if dtype_kind(a.dtype) not in "iu":
                raise TypeError(f"choice: a must be an integer or a vector, got "
                                f"{a.type.describe()}")
            count, population = cast(a, "int64"), None
        elif a.ndim == 1:
            count, population = shape_i(a, 0), a
        else:
            raise TypeError(f"choice: a must be an integer or a vector, got "
                            f"{a.type.describe()}")
        entries = self._size(() if size is None else size, ndim, [], "choice")
        params = [count]
        if p is not None:
            p = as_tensor_variable(p)
            if p.ndim != 1:
                raise NotImplementedError("choice: p must be a vector (one distribution)")
            params.append(cast(p, "float64"))
        op = R.ChoiceDraw("int64", len(entries), replace=replace, weighted=p is not None)
        idx = self._apply(op, entries, params)
        if population is not None:
            from aotsym.graph.ops.subtensor import take
            idx = take(population, idx)
        return idx if dtype is None else cast(idx, check_dtype(dtype))

    def permutation(self, size=(), n=1, ndim=None, dtype="int64", **_):
        """Permutations of ``0 .. n-1``: shape ``size + (n,)``."""
        from aotsym.graph.ops.math import cast
        from aotsym.graph.ops.shape import as_int_scalar
        entries = self._size(() if size is None else size, ndim, [], "permutation")
        sample = self._apply(R.PermutationDraw("int64", len(entries)), entries,
                             [as_int_scalar(n, "permutation: n")])
        return cast(sample, check_dtype(dtype))

    def shuffle_row_elements(self, input):
        """``input`` with the elements of each row (its last axis) in a random order, a
        permutation of its own per row (Theano's)."""
        from aotsym.tensor.basic import permute_row_elements
        input = as_tensor_variable(input)
        perm = self.permutation(size=list(input.shape)[:-1], n=input.shape[-1],
                                ndim=input.ndim - 1)
        return permute_row_elements(input, perm)

    # Theano's stream[rv.rng] / stream[rv.rng] = value: a generator's value
    def __getitem__(self, item):
        return _generator(item, "getitem").get_value(borrow=True)

    def __setitem__(self, item, value):
        _generator(item, "setitem").set_value(value, borrow=True)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64", **_):
        """Category counts of ``n`` draws from ``pvals`` (its last axis): shape
        ``size + (len(pvals),)``; size None: ``pvals.shape[:-1]``."""
        from aotsym.graph.ops.math import cast
        if pvals is None:
            raise TypeError("multinomial: pvals must be given")
        pvals = cast(as_tensor_variable(np.asarray(pvals, dtype="float64") if not
                                        isinstance(pvals, Variable) else pvals), "float64")
        if pvals.ndim < 1:
            raise TypeError("multinomial: pvals must have at least one dimension")
        n = cast(as_tensor_variable(n), "int64")
        if size is None:
            entries = list(pvals.shape)[:-1]
            if n.ndim > len(entries):
                raise ValueError("multinomial: n has more dimensions than pvals' rows")
        else:
            entries = _entries(size, "multinomial")
        if ndim is not None and int(ndim) != len(entries):
            raise ValueError(f"multinomial: ndim={ndim}, but the size has {len(entries)} "
                             "entries")
        if pvals.ndim > 1:
            from aotsym.graph.ops.alloc import alloc
            pvals = alloc(pvals, *entries, list(pvals.shape)[-1])
        sample = self._apply(R.MultinomialDraw("int64", len(entries)), entries,
                             [_full(n, entries, "multinomial"), pvals])
        return cast(sample, check_dtype(dtype))


class MRG_RandomStreams(RandomStreams):  # noqa: N801 - Theano's name
    """Theano's ``theano.sandbox.rng_mrg.MRG_RandomStreams`` (default seed 12345), with its
    argument orders: ``binomial(size, p, ndim, dtype)``, ``multinomial(size, n, pvals)`` with
    a matrix of ``pvals`` giving one row of counts per row.  The generator is the same
    Philox4x32-10 (not MRG31k3p); ``nstreams`` is accepted and changes nothing.

    Gradients as Theano's MRG draws have them (elementwise functions of a uniform draw):
    ``uniform`` is differentiable in ``low`` and ``high``, ``normal`` in ``avg`` and
    ``std``; no gradient flows to ``binomial``'s ``p``, ``multinomial``'s ``pvals`` and
    ``choice``'s ``p`` (Theano's MRG gives zeros there; here those parameters are
    ``disconnected_grad``: where the sample is the only path to a ``wrt``, ``grad`` says it is
    disconnected, as for any other variable reached only through one)."""

    differentiable = True

    def __init__(self, seed=12345):
        super().__init__(seed)

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None,
                **kwargs):
        return super().uniform(size, low, high, ndim, dtype, **kwargs)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate=False, **kwargs):
        return super().normal(size, avg, std, ndim, dtype, truncate=truncate, **kwargs)

    def binomial(self, size=None, p=1, ndim=None, dtype="int64", nstreams=None, n=1,
                 prob=None, **kwargs):
        p = _no_gradient(p if prob is None else prob)
        return super().binomial(size=size, n=n, p=p, ndim=ndim, dtype=dtype, **kwargs)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                    nstreams=None, **_):
        return super().multinomial(size=size, n=n, pvals=_no_gradient(pvals), ndim=ndim,
                                   dtype=dtype)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64",
               nstreams=None, **_):
        if a is None:
            if p is None:
                raise TypeError("choice: give a (a population) or p (probabilities)")
            p = as_tensor_variable(p)
            if p.ndim != 1:
                raise NotImplementedError(
                    "MRG_RandomStreams.choice with a matrix p (one draw per row) is not "
                    "implemented; use multinomial(pvals=p) for one draw per row")
            a = list(p.shape)[0]
        return super().choice(size=size, a=a, replace=replace, p=_no_gradient(p), ndim=ndim,
                              dtype=dtype)


def _no_gradient(p):
    """A symbolic parameter of an MRG discrete draw, with no gradient flowing through it."""
    if isinstance(p, Variable):
        from aotsym.gradient import disconnected_grad
        return disconnected_grad(p)
    return p
