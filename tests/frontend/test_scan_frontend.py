"""aotsym.scan from the user's side: the seed examples, taps, go_backwards, shared updates,
map/reduce/foldl/foldr, errors naming the user's line.  Compiled behaviour is checked in
FAST_COMPILE and DEBUG_MODE; FAST_RUN waits for the C loop."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.frontend.scan import ScanError
from aotsym.graph.evaluate import evaluate

MODES = ["FAST_COMPILE", "DEBUG_MODE"]


def power_fn(mode):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = aotsym.scan(fn=lambda prior_result, A: prior_result * A,
                                  outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    return aotsym.function(inputs=[A, k], outputs=result[-1], updates=updates, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_seed_power(mode):
    power = power_fn(mode)
    np.testing.assert_array_equal(power(range(10), 2), np.arange(10.0) ** 2)
    for k in (1, 3, 5):
        np.testing.assert_allclose(power(range(10), k), np.arange(10.0) ** k)


def polynomial(by_scan_reduction=False):
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    full_range = T.arange(10000)
    if not by_scan_reduction:
        components, updates = aotsym.scan(
            fn=lambda coeff, power, free_var: coeff * (free_var ** power),
            outputs_info=None, sequences=[coefficients, full_range], non_sequences=x)
        return [coefficients, x], components.sum()
    # Exercise 4: the reduction done by scan itself
    total, updates = aotsym.scan(
        fn=lambda coeff, power, acc, free_var: acc + coeff * (free_var ** power),
        outputs_info=T.constant(0.0), sequences=[coefficients, full_range], non_sequences=x)
    return [coefficients, x], total[-1]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("by_scan", [False, True])
def test_seed_polynomial_and_exercise_4(mode, by_scan):
    inputs, out = polynomial(by_scan)
    f = aotsym.function(inputs=inputs, outputs=out, mode=mode)
    test_coeff = np.asarray([1, 0, 2], dtype=np.float32)
    assert f(test_coeff, 3) == 19.0
    assert str(f(test_coeff, 3)) == "19.0"


def test_seed_power_fast_run():
    power = power_fn("FAST_RUN")
    np.testing.assert_array_equal(power(range(10), 2), np.arange(10.0) ** 2)


@pytest.mark.parametrize("back", [False, True])
def test_taps_and_go_backwards_against_numpy(back):
    x, h0 = T.vector("x"), T.vector("h0")
    out, _ = aotsym.scan(lambda a, b, c, h2, h1: a + 2 * b + 3 * c + h1 - 0.5 * h2,
                         sequences={"input": x, "taps": [-1, 0, 2]},
                         outputs_info={"initial": h0, "taps": [-2, -1]}, go_backwards=back)
    xv, h0v = np.arange(8.0) ** 1.5, np.array([0.3, -0.2, 9.0])
    (got,) = evaluate([out], {x: xv, h0: h0v})
    n = len(xv) - 3           # taps -1..2 span 3 rows
    hs, want = list(h0v[:2]), []
    for t in (range(n)[::-1] if back else range(n)):
        v = xv[t] + 2 * xv[t + 1] + 3 * xv[t + 3] + hs[-1] - 0.5 * hs[-2]
        hs.append(v)
        want.append(v)
    np.testing.assert_allclose(got, want)


def test_n_steps_with_sequences_and_without():
    x = T.vector("x")
    n = T.iscalar("n")
    out, _ = aotsym.scan(lambda xt: xt * 2, sequences=x, n_steps=n)
    f = aotsym.function([x, n], out, mode="FAST_COMPILE")
    np.testing.assert_array_equal(f(np.arange(5.0), 3), [0, 2, 4])
    out, _ = aotsym.scan(lambda h: h + 1, outputs_info=T.constant(0.0), n_steps=4)
    np.testing.assert_array_equal(evaluate([out], {})[0], [1, 2, 3, 4])


@pytest.mark.parametrize("mode", MODES)
def test_shared_variable_updated_inside_the_step(mode):
    w = aotsym.shared(np.float64(1.0), name="w")
    x = T.vector("x")
    out, updates = aotsym.scan(lambda xt: (xt * w, {w: w + 1}), sequences=x)
    assert list(updates) == [w]
    f = aotsym.function([x], out, updates=updates, mode=mode)
    np.testing.assert_array_equal(f(np.ones(4)), [1, 2, 3, 4])
    assert w.get_value() == 5.0
    np.testing.assert_array_equal(f(np.ones(2)), [5, 6])
    assert w.get_value() == 7.0


def test_rnn_forward_pass_against_numpy():
    rng = np.random.default_rng(1)
    W, U = aotsym.shared(rng.normal(size=(4, 4)) * 0.3, name="W"), T.matrix("U")
    x, h0 = T.matrix("x"), T.vector("h0")
    hs, _ = aotsym.scan(lambda xt, h, U: T.tanh(T.dot(h, W) + T.dot(xt, U)),
                        sequences=x, outputs_info=h0, non_sequences=U)
    f = aotsym.function([x, h0, U], hs, mode="DEBUG_MODE")
    xv, h0v, Uv = rng.normal(size=(6, 3)), rng.normal(size=4), rng.normal(size=(3, 4))
    h, want = h0v, []
    for row in xv:
        h = np.tanh(h @ W.get_value() + row @ Uv)
        want.append(h)
    np.testing.assert_allclose(f(xv, h0v, Uv), want)


def test_map_reduce_foldl_foldr():
    x = T.vector("x")
    sq, _ = aotsym.map(lambda v: v ** 2, sequences=x)
    total, _ = aotsym.reduce(lambda v, acc: acc + v, sequences=x,
                             outputs_info=T.constant(0.0))
    left, _ = aotsym.foldl(lambda v, acc: acc * 2 + v, sequences=x,
                           outputs_info=T.constant(0.0))
    right, _ = aotsym.foldr(lambda v, acc: acc * 2 + v, sequences=x,
                            outputs_info=T.constant(0.0))
    got = evaluate([sq, total, left, right], {x: np.arange(3.0)})
    np.testing.assert_array_equal(got[0], [0, 1, 4])
    assert (got[1], got[2], got[3]) == (3.0, 4.0, 10.0)
    assert aotsym.scan_module.scan is aotsym.scan
    from aotsym.scan_module import until  # noqa: F401  (Theano's import path)


def test_return_list_and_single_output():
    x = T.vector("x")
    out, _ = aotsym.scan(lambda v: v + 1, sequences=x)
    assert isinstance(out, aotsym.Variable)
    outs, _ = aotsym.scan(lambda v: v + 1, sequences=x, return_list=True)
    assert isinstance(outs, list) and len(outs) == 1


def test_implicit_free_variables_and_strict():
    x, c = T.vector("x"), T.scalar("c")
    c2 = c * 3
    out, _ = aotsym.scan(lambda v: v * c2, sequences=x)
    node = out.owner
    assert c2 in node.inputs            # work done outside fn stays outside the loop
    np.testing.assert_array_equal(evaluate([out], {x: np.arange(3.0), c: 2.0})[0],
                                  [0, 6, 12])
    # strict=True refuses a shared variable the step reads without being passed it
    # (Theano's rule); other free symbolic inputs are passed implicitly, as Theano does
    w = aotsym.shared(np.float64(2.0), name="w")
    with pytest.raises(ScanError, match=r"strict=True.*shared variable w.*non_sequences") \
            as info:
        aotsym.scan(lambda v: v * w, sequences=x, strict=True)
    assert "test_scan_frontend.py" in str(info.value)
    out, _ = aotsym.scan(lambda v: v * c2, sequences=x, strict=True)
    np.testing.assert_array_equal(evaluate([out], {x: np.arange(3.0), c: 2.0})[0],
                                  [0, 6, 12])
    out, _ = aotsym.scan(lambda v, c: v * c, sequences=x, non_sequences=c2, strict=True)
    out, _ = aotsym.scan(lambda v, ww: v * ww, sequences=x, non_sequences=w, strict=True)
    np.testing.assert_array_equal(evaluate([out], {x: np.arange(3.0), w: 2.0})[0], [0, 2, 4])


def test_sequence_shorter_than_n_steps_names_the_user_line():
    x = T.vector("x")
    n = T.iscalar("n")
    out, _ = aotsym.scan(lambda xt: xt * 2, sequences=x, n_steps=n)   # the scan line
    f = aotsym.function([x, n], out, mode="FAST_COMPILE")
    with pytest.raises(ValueError) as info:
        f(np.arange(3.0), 5)
    text = str(info.value)
    assert "sequence 0" in text and "fewer than the 5 steps" in text
    assert "test_scan_frontend.py" in text and "the scan line" in text


def test_step_returning_wrong_things_names_the_user_line():
    x, h0 = T.vector("x"), T.vector("h0")
    with pytest.raises(ScanError, match=r"number of dimensions.*\n.*test_scan_frontend\.py"):
        aotsym.scan(lambda xt, h: (h * xt).sum(), sequences=x, outputs_info=h0)
    with pytest.raises(ScanError, match="not a tensor"):
        aotsym.scan(lambda xt: "nope", sequences=x)
    with pytest.raises(ScanError, match="cast one"):
        aotsym.scan(lambda xt, h: T.cast(h + xt, "float32"), sequences=x, outputs_info=h0)
    widened, _ = aotsym.scan(lambda xt, h: h + xt, sequences=x, outputs_info=T.constant(0))
    assert widened.dtype == "float64"   # an integer initial value widens to the step's type
    with pytest.raises(ScanError, match="2 output"):
        aotsym.scan(lambda xt, h: [h, h], sequences=x, outputs_info=h0)
    with pytest.raises(TypeError,
                       match=r"until: the condition must be a scalar.*\n.*test_scan_fr"):
        aotsym.scan(lambda xt: (xt, aotsym.scan_module.until(x > 0)), sequences=x)


def test_step_returning_a_wrong_shape_at_run_time_names_the_user_line():
    x, h0 = T.matrix("x"), T.vector("h0")
    out, _ = aotsym.scan(lambda xt, h: T.concatenate([h, xt[:1]]),  # here
                         sequences=x, outputs_info=h0)
    with pytest.raises(ValueError) as info:
        evaluate([out], {x: np.ones((2, 3)), h0: np.ones(3)})
    assert "keeps its shape" in str(info.value) and "# here" in str(info.value)


def test_debugprint_shows_the_step():
    k, A = T.iscalar("k"), T.vector("A")
    result, _ = aotsym.scan(lambda p, A: p * A, outputs_info=T.ones_like(A),
                            non_sequences=A, n_steps=k, name="power")
    text = aotsym.printing.debugprint(result[-1], file="str")
    assert "Scan{power}" in text and "Inner graphs:" in text
    assert " >Elemwise{mul}" in text


@pytest.mark.parametrize("name, expected", [
    ("scan_pow.py", "[ 0.  1.  4.  9. 16. 25. 36. 49. 64. 81.]\n"),
    ("scan_polynomial.py", "19.0\n19.0\n")])
def test_scan_examples_print_the_seed_outputs(name, expected):
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, AOTSYM_FLAGS="mode=FAST_COMPILE")   # FAST_RUN: the C loop
    proc = subprocess.run([sys.executable, os.path.join(root, "examples", name)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected
