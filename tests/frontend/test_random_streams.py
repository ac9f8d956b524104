"""RandomStreams / MRG_RandomStreams (aotsym/frontend/random.py): Theano's API and module
paths, default updates of the states (aotsym/frontend/default_updates.py), reproducibility,
independence, the dropout idiom, draws inside scan, and states carried by a built Module."""

import importlib
import sys

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.sandbox.rng_mrg import MRG_RandomStreams
from aotsym.tensor.shared_randomstreams import RandomStreams

MODES = ["FAST_RUN", "FAST_COMPILE"]


def test_theano_module_paths():
    assert aotsym.RandomStreams is RandomStreams
    assert issubclass(MRG_RandomStreams, RandomStreams)
    assert importlib.import_module("aotsym.sandbox.rng_mrg").MRG_RandomStreams is \
        MRG_RandomStreams


@pytest.mark.parametrize("mode", MODES)
def test_shapes_and_dtypes(mode):
    s = RandomStreams(1)
    x = T.matrix("x")
    outs = [s.uniform((2, 3)), s.normal(x.shape, dtype="float32"),
            s.binomial((4,), n=3, p=0.5), s.binomial(x.shape, p=0.5, dtype="float32"),
            s.choice((5,), a=10), s.choice((2, 2), a=np.array([1.5, 2.5])),
            s.permutation((3,), n=4), s.permutation(n=6),
            s.multinomial((2,), n=5, pvals=[0.3, 0.7]), s.uniform(low=T.zeros((3,)))]
    f = aotsym.function([x], outs, mode=mode)
    got = f(np.zeros((2, 5)))
    want = [((2, 3), "float64"), ((2, 5), "float32"), ((4,), "int64"), ((2, 5), "float32"),
            ((5,), "int64"), ((2, 2), "float64"), ((3, 4), "int64"), ((6,), "int64"),
            ((2, 2), "int64"), ((3,), "float64")]
    assert [(g.shape, g.dtype.name) for g in got] == want
    assert set(got[5].ravel()) <= {1.5, 2.5}
    assert sorted(got[7]) == list(range(6))
    assert (got[8].sum(axis=1) == 5).all()


def test_symbolic_size_vector_with_ndim():
    s = RandomStreams(1)
    shp = T.lvector("shp")
    u = s.uniform(size=shp, ndim=2)
    assert u.ndim == 2
    assert aotsym.function([shp], u)(np.array([3, 4])).shape == (3, 4)
    n = T.lscalar("n")
    assert aotsym.function([n], s.normal((n, 2)))(5).shape == (5, 2)


def test_floatx_float32():
    with aotsym.config.change_flags(floatX="float32"):   # (monkeypatch cannot undo a flag)
        s = RandomStreams(2)
        u, z = s.uniform((3,)), s.normal((3,))
        assert u.dtype == z.dtype == "float32"
        assert s.uniform((2,), low=np.float64(0)).dtype == "float64"   # NumPy float64 upcasts


@pytest.mark.parametrize("mode", MODES)
def test_successive_calls_differ_without_updates_repeat(mode):
    s = RandomStreams(3)
    u = s.normal((50,))
    f = aotsym.function([], u, mode=mode)
    a, b = f(), f()
    assert not np.allclose(a, b)
    g = aotsym.function([], u, mode=mode, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    # Theano's explicit spelling: no default updates, the stream's updates passed in
    h = aotsym.function([], u, mode=mode, no_default_updates=True, updates=s.updates())
    assert not np.allclose(h(), h())


def test_same_seed_same_numbers_across_streams_and_backends():
    def draws(mode, seed):
        s = RandomStreams(seed)
        f = aotsym.function([], [s.uniform((4,)), s.normal((3,)), s.binomial((5,), p=0.4)],
                            mode=mode)
        return [f(), f()]
    a, b, c = draws("FAST_RUN", 7), draws("FAST_COMPILE", 7), draws("FAST_RUN", 8)
    for x, y in zip(a, b):
        for xa, ya in zip(x, y):
            np.testing.assert_array_equal(xa, ya)
    assert not np.allclose(a[0][0], c[0][0])


def test_seed_resets_every_state():
    s = RandomStreams(4)
    f = aotsym.function([], [s.uniform((3,)), s.normal((3,))])
    first = f()
    f()
    s.seed(4)
    for x, y in zip(first, f()):
        np.testing.assert_array_equal(x, y)
    s.seed(5)
    assert not np.allclose(f()[0], first[0])


def test_reproducible_across_save_and_load_of_the_state():
    s = RandomStreams(6)
    u = s.uniform((5,))
    f = aotsym.function([], u)
    f()
    saved = [(v, v.get_value()) for v, _ in s.updates()]
    a, b = f(), f()
    for v, val in saved:
        v.set_value(val)
    np.testing.assert_array_equal(f(), a)
    np.testing.assert_array_equal(f(), b)


def test_two_streams_are_independent():
    s = RandomStreams(10)
    x, y = s.normal((100_000,)), s.normal((100_000,))
    t = RandomStreams(11).normal((100_000,))
    same = MRG_RandomStreams(10).normal((100_000,))
    a, b, c, d = aotsym.function([], [x, y, t, same])()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.015     # two variables of one stream
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.015     # two streams, seeds 10 and 11
    np.testing.assert_array_equal(a, d)   # same seed, same first variable: same numbers
    f = aotsym.function([], x)
    first, second = f(), f()
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.015


@pytest.mark.parametrize("mode", MODES)
def test_dropout_mask_idiom(mode):
    srng = RandomStreams(seed=234)
    x = T.matrix("x")
    mask = srng.binomial(size=x.shape, p=0.5)
    y = mask * x
    f = aotsym.function([x], y, mode=mode)
    xv = np.full((300, 200), 2.0)
    out = f(xv)
    assert out.dtype == np.float64 and set(np.unique(out)) == {0.0, 2.0}
    assert abs((out == 2).mean() - 0.5) < 0.01
    assert not np.array_equal(out, f(xv))
    # the float32 spelling of real code: a floatX mask
    xf = T.fmatrix("xf")
    g = aotsym.function([xf], xf * srng.binomial(size=xf.shape, p=0.8, dtype="float32"),
                        mode=mode)
    assert g(np.ones((10, 10), dtype="float32")).dtype == np.float32


@pytest.mark.parametrize("mode", MODES)
def test_draws_inside_a_scan_step(mode):
    s = RandomStreams(12)

    def step(acc):
        return acc + s.normal((2,))

    out, updates = aotsym.scan(step, outputs_info=T.zeros((2,)), n_steps=5)
    assert len(updates) == 1
    (state,) = updates
    f = aotsym.function([], out, updates=updates, mode=mode)
    before = state.get_value()
    walk = f()
    assert walk.shape == (5, 2)
    steps = np.diff(np.vstack([np.zeros(2), walk]), axis=0)
    assert len(np.unique(steps)) == 10          # a fresh draw every step
    assert state.get_value()[2] == before[2] + 5   # five draws of one block each
    assert not np.allclose(f(), walk)


def test_scan_draws_match_unrolled_draws():
    """The step's draws are the stream of its state: step t reads the blocks after step t-1's."""
    s = RandomStreams(13)
    out, updates = aotsym.scan(lambda: s.uniform((3,)), n_steps=4)
    (state,) = updates
    start = state.get_value()
    got = aotsym.function([], out, updates=updates)()
    from aotsym.graph import philox
    want, _ = philox.uniform01(start, 12, "float64")
    # 3 float64 per step read 2 blocks (the 4th uniform of each step is unused)
    for t in range(4):
        v, _ = philox.uniform01(philox.advance(start, 2 * t), 3, "float64")
        np.testing.assert_array_equal(got[t], v)


def test_mrg_signatures():
    r = MRG_RandomStreams(seed=99)
    b = r.binomial(size=(1000,), p=0.25)
    pv = T.matrix("pv")
    m = r.multinomial(pvals=pv)
    u = r.uniform((3,), 0.0, 1.0, None, None, 8)   # nstreams positional
    f = aotsym.function([pv], [b, m, u])
    bv, mv, uv = f(np.array([[0.2, 0.8], [1.0, 0.0]]))
    assert set(np.unique(bv)) == {0, 1} and abs(bv.mean() - 0.25) < 0.05
    assert mv.shape == (2, 2) and (mv.sum(axis=1) == 1).all() and mv[1, 0] == 1
    assert uv.shape == (3,)
    c = r.choice(size=3, a=None, replace=False, p=[0.2, 0.3, 0.5])
    assert sorted(aotsym.function([], c)()) == [0, 1, 2]


def test_errors_name_the_problem():
    s = RandomStreams(1)
    with pytest.raises(TypeError, match="dtype"):
        s.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="ndim"):
        s.uniform((2, 3), ndim=1)


def test_module_carries_and_saves_the_generator_state(tmp_path):
    from aotsym.build import driver
    mod = aotsym.Module("rngmod")
    srng = RandomStreams(21)
    w = mod.shared(np.ones(4), name="w")

    @mod.export(T.vector("x"))
    def noisy(x):
        return x * w + srng.normal((4,))

    @mod.export(T.matrix("x"))
    def drop(x):
        return srng.binomial(size=x.shape, p=0.5) * x

    assert [n for n in mod.shared_vars] == ["w", "random_state0", "random_state1"]
    built = driver.build_package(mod, mod.assemble(), str(tmp_path), log=lambda text: None)
    sys.path.insert(0, str(tmp_path))
    try:
        m = importlib.import_module("rngmod")
        x = np.zeros(4)
        m.save_state(str(tmp_path / "ckpt.npz"))
        a, b = m.noisy(x), m.noisy(x)
        assert not np.allclose(a, b)
        m.load_state(str(tmp_path / "ckpt.npz"))
        np.testing.assert_array_equal(m.noisy(x), a)
        np.testing.assert_array_equal(m.noisy(x), b)
        assert m.random_state0.get_value().dtype == np.uint32
        # the in-process reference: the same numbers from the same state
        f = mod.function("noisy", mode="FAST_COMPILE")
        np.testing.assert_array_equal(f(x), a)
        mask = m.drop(np.ones((20, 20)))
        assert set(np.unique(mask)) == {0.0, 1.0}
        assert built.path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("rngmod", None)


def test_truncated_normal_stays_within_two_deviations_with_the_truncated_moments():
    from aotsym.sandbox.rng_mrg import MRG_RandomStreams
    s = MRG_RandomStreams(seed=3)
    f = aotsym.function([], [s.truncated_normal(size=(200000,), avg=1.0, std=2.0),
                             s.normal(size=(50000,), truncate=True, dtype="float32")])
    a, b = f()
    assert a.dtype == np.float64 and b.dtype == np.float32
    assert a.min() >= -3.0 and a.max() <= 5.0 and abs(b).max() <= 2.0
    # the standard normal truncated to [-2, 2]: mean 0, standard deviation 0.87962
    assert abs(a.mean() - 1.0) < 0.02 and abs(a.std() - 2 * 0.87962) < 0.02
    assert abs(b.std() - 0.87962) < 0.02
    assert not np.array_equal(f()[0], a)          # a new draw each call


def test_random_integers_are_uniform_over_the_closed_range():
    s = RandomStreams(seed=2)
    lo, hi = T.lscalar("lo"), T.lscalar("hi")
    f = aotsym.function([lo, hi], s.random_integers(size=(120000,), low=lo, high=hi))
    v = f(-2, 3)
    assert v.dtype == np.int64 and v.min() == -2 and v.max() == 3
    counts = np.bincount(v + 2)
    assert len(counts) == 6 and abs(counts / len(v) - 1 / 6).max() < 0.01
    assert set(np.unique(f(7, 7))) == {7}
    with pytest.raises(NotImplementedError, match="poisson"):
        s.poisson(size=(3,), lam=1.0)


def test_the_theano_tutorials_random_numbers_section_runs_as_written():
    """Theano's "Using Random Numbers" tutorial: rv.rng's value seeded, its state saved and
    restored, and the random state copied between graphs through state_updates."""
    import aotsym as theano
    from aotsym.sandbox.rng_mrg import MRG_RandomStreams
    from aotsym.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u)
    nearly_zeros = theano.function([], rv_u + rv_u - 2 * rv_u)
    assert np.allclose(nearly_zeros(), 0)
    rng_val = rv_u.rng.get_value(borrow=True)   # Get the rng for rv_u
    rng_val.seed(89234)                         # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)    # Assign back seeded rng
    a = f()
    rng_val = rv_u.rng.get_value()              # a copy this time
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val)
    np.testing.assert_array_equal(f(), a)       # the same seed, the same draws
    srng.seed(902340)
    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()       # this affects rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()             # v2 != v1
    v3 = f()             # v3 == v1
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v1, v3)
    assert rv_u.update[0] is rv_u.tag.rng and rv_u.rng.name == rv_u.tag.rng.name

    class Graph():
        def __init__(self, seed=123):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1, g2 = Graph(seed=123), Graph(seed=987)
    f1, f2 = theano.function([], g1.y), theano.function([], g2.y)
    assert f1() != f2()

    def copy_random_state(g1, g2):
        if isinstance(g1.rng, MRG_RandomStreams):
            g2.rng.rstate = g1.rng.rstate
        for (su1, su2) in zip(g1.rng.state_updates, g2.rng.state_updates):
            su2[0].set_value(su1[0].get_value())

    copy_random_state(g1, g2)
    assert f1() == f2()
    with pytest.raises(AttributeError, match="has no rng"):
        T.vector("x").rng


def test_shuffle_row_elements_and_the_streams_item_access():
    """Theano's RandomStreams.shuffle_row_elements (each row its own permutation, a new one
    every call) and stream[rv.rng] / stream[rv.rng] = state (test_shared_randomstreams.py)."""
    from aotsym.tensor.shared_randomstreams import RandomStreams
    r = RandomStreams(3)
    m = T.matrix("m")
    f = aotsym.function([m], r.shuffle_row_elements(m))
    x = np.arange(40.0).reshape(4, 10)
    a, b = f(x), f(x)
    np.testing.assert_array_equal(np.sort(a, axis=1), x)
    assert len({tuple(np.argsort(row)) for row in a}) > 1 and not np.array_equal(a, b)
    v = T.vector("v")
    np.testing.assert_array_equal(np.sort(aotsym.function([v], r.shuffle_row_elements(v))(
        np.arange(7.0))), np.arange(7.0))
    u = r.uniform((3,))
    g = aotsym.function([], u)
    saved = r[u.rng]
    first = g()
    assert not np.array_equal(g(), first)
    r[u.rng] = saved
    np.testing.assert_array_equal(g(), first)
    with pytest.raises(TypeError, match="generator"):
        r[T.vector("not_a_generator")]
