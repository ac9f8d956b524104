"""The random draw ops (aotsym/graph/ops/random.py) and their NumPy reference
(aotsym/graph/philox.py): Philox4x32-10's known-answer vectors, the exact log/sin/cos kernels,
the state's counter, and per distribution its moments and a goodness-of-fit test (fixed
seeds, thresholds far from the noise: a correct sampler passes with p >> 1e-4)."""

import numpy as np
import pytest
from scipy import stats

from aotsym.graph import philox
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops import random as R
from aotsym.graph.types import TensorType

N = 200_000


def test_philox_known_answers():
    """Random123's kat_vectors for philox4x32 with 10 rounds."""
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for ctr, key, want in cases:
        assert tuple(int(w) for w in philox.philox4x32(*ctr, *key)) == want


def test_exact_kernels_are_accurate():
    u = np.linspace(2.0 ** -53, 1.0, 200_001)
    ref = np.log(u)
    assert np.max(np.abs(philox.log_exact(u) - ref) / np.maximum(np.abs(ref), 1e-300)) < 4e-16
    t = np.linspace(0, 1, 100_001, endpoint=False)
    c, s = philox.cos_sin_2pi(t)
    assert np.max(np.abs(c - np.cos(2 * np.pi * t))) < 2e-15
    assert np.max(np.abs(s - np.sin(2 * np.pi * t))) < 2e-15


def test_uniform_words_to_floats():
    assert philox.u53(np.uint32(0), np.uint32(0)) == 0.0
    assert philox.u53(np.uint32(0xFFFFFFFF), np.uint32(0xFFFFFFFF)) == 1 - 2.0 ** -53
    assert philox.u24(np.uint32(0xFFFFFFFF)) == np.float32(1 - 2.0 ** -24)
    assert philox.u24(np.uint32(0xFFFFFFFF)).dtype == np.float32


def test_state_counter_advances_and_wraps():
    s = philox.seed_state(1, 0)
    assert s.dtype == np.uint32 and s[2] == s[3] == 0
    assert list(philox.advance(s, 2 ** 32 + 5)[2:]) == [5, 1]
    top = np.array([1, 2, 0xFFFFFFFF, 0xFFFFFFFF], dtype=np.uint32)
    assert list(philox.advance(top, 2)) == [1, 2, 1, 0]
    with pytest.raises(ValueError, match="uint32 vector of 4"):
        philox.split_state(np.zeros(3, dtype=np.uint32))


def test_streams_get_distinct_keys():
    keys = {tuple(philox.seed_state(seed, j)[:2]) for seed in (0, 1, 2) for j in range(50)}
    assert len(keys) == 150


def run(op, state, size, *params):
    st = TensorType("uint32", (False,))("s")
    from aotsym.graph.basic import constant
    ins = [constant(np.int64(d)) for d in size] + [constant(np.asarray(p)) for p in params]
    new, sample = op(st, *ins)
    return evaluate([new, sample], {st: state})


STATE = philox.seed_state(2024, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_moments_and_ks(dtype):
    new, x = run(R.UniformDraw(dtype, 1), STATE, (N,), np.asarray(-2, dtype),
                 np.asarray(3, dtype))
    assert x.dtype == dtype and x.min() >= -2 and x.max() < 3
    assert abs(x.mean() - 0.5) < 0.02 and abs(x.var() - 25 / 12) < 0.03
    assert stats.kstest(x, stats.uniform(-2, 5).cdf).pvalue > 1e-4
    per = 2 if dtype == "float64" else 4
    assert new[2] == N // per


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_moments_and_ks(dtype):
    _, x = run(R.NormalDraw(dtype, 2), STATE, (400, 500), np.asarray(1, dtype),
               np.asarray(2, dtype))
    assert x.shape == (400, 500) and x.dtype == dtype
    z = (x.ravel().astype(np.float64) - 1) / 2
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(stats.skew(z)) < 0.02 and abs(stats.kurtosis(z)) < 0.04
    assert stats.kstest(z, "norm").pvalue > 1e-4
    # the pairs of one block are independent: cos and sin halves uncorrelated
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.01


def chi2_counts(samples, probs):
    """Chi-square p-value of ``samples`` (integers) against ``probs`` over 0..len-1, the
    categories expected fewer than 20 times pooled into one."""
    probs = np.asarray(probs, dtype=np.float64)
    counts = np.bincount(samples.ravel(), minlength=probs.size)
    assert counts.size == probs.size, "a sample outside the support"
    expected = probs / probs.sum() * samples.size
    small = expected < 20
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue


def test_binomial_moments_and_chi2():
    n, p = 12, 0.3
    _, x = run(R.BinomialDraw("int64", 1), STATE, (N,), np.int64(n), np.float64(p))
    assert x.min() >= 0 and x.max() <= n
    assert abs(x.mean() - n * p) < 0.03 and abs(x.var() - n * p * (1 - p)) < 0.05
    probs = stats.binom(n, p).pmf(np.arange(n + 1))
    assert chi2_counts(x, probs) > 1e-4
    _, bern = run(R.BinomialDraw("int64", 1), STATE, (N,), np.int64(1), np.float64(0.5))
    assert abs(bern.mean() - 0.5) < 0.01 and set(np.unique(bern)) == {0, 1}


def test_choice_uniform_weighted_and_without_replacement():
    _, x = run(R.ChoiceDraw("int64", 1), STATE, (N,), np.int64(7))
    assert chi2_counts(x, np.full(7, 1 / 7)) > 1e-4
    p = np.array([0.1, 0.0, 0.6, 0.3])
    _, y = run(R.ChoiceDraw("int64", 1, True, True), STATE, (N,), np.int64(4), p)
    assert 1 not in y
    assert chi2_counts(y, p) > 1e-4
    _, z = run(R.ChoiceDraw("int64", 1, False), STATE, (10,), np.int64(10))
    assert sorted(z) == list(range(10))
    _, w = run(R.ChoiceDraw("int64", 1, False, True), STATE, (3,), np.int64(4), p)
    assert len(set(w)) == 3 and 1 not in w
    with pytest.raises(ValueError, match="without replacement"):
        run(R.ChoiceDraw("int64", 1, False), STATE, (11,), np.int64(10))


def test_permutation_is_uniform_over_orders():
    _, x = run(R.PermutationDraw("int64", 1), STATE, (24_000,), np.int64(3))
    assert x.shape == (24_000, 3)
    assert (np.sort(x, axis=1) == np.arange(3)).all()
    codes = x[:, 0] * 9 + x[:, 1] * 3 + x[:, 2]
    values, counts = np.unique(codes, return_counts=True)
    assert len(values) == 6
    assert stats.chisquare(counts).pvalue > 1e-4


def test_multinomial_moments_and_chi2():
    pvals = np.array([0.2, 0.5, 0.3])
    _, x = run(R.MultinomialDraw("int64", 1), STATE, (50_000,), np.int64(10), pvals)
    assert x.shape == (50_000, 3) and (x.sum(axis=1) == 10).all()
    np.testing.assert_allclose(x.mean(axis=0), 10 * pvals, atol=0.03)
    np.testing.assert_allclose(np.cov(x.T)[0, 1], -10 * 0.2 * 0.5, atol=0.05)
    # the first category's count is binomial(10, 0.2)
    assert chi2_counts(x[:, 0], stats.binom(10, 0.2).pmf(np.arange(11))) > 1e-4


def test_draw_is_a_pure_function_of_the_state():
    a = run(R.UniformDraw("float64", 1), STATE, (5,), np.float64(0), np.float64(1))
    b = run(R.UniformDraw("float64", 1), STATE, (5,), np.float64(0), np.float64(1))
    np.testing.assert_array_equal(a[1], b[1])
    c = run(R.UniformDraw("float64", 1), a[0], (5,), np.float64(0), np.float64(1))
    assert not np.intersect1d(a[1], c[1]).size


def test_type_rules():
    st = TensorType("uint32", (False,))("s")
    bad = TensorType("float64", (False,))("s")
    from aotsym.graph.basic import constant
    n = constant(np.int64(3))
    zero = constant(np.float64(0))
    with pytest.raises(TypeError, match="uint32 vector"):
        R.UniformDraw("float64", 1)(bad, n, zero, zero)
    with pytest.raises(TypeError, match="dtype"):
        R.UniformDraw("float64", 1)(st, n, constant(np.float32(0)), constant(np.float32(1)))
    new, sample = R.UniformDraw("float64", 2)(st, n, constant(np.int64(1)), zero, zero)
    assert new.type == st.type and sample.broadcastable == (False, True)
