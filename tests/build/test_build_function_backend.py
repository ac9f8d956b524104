"""aotsym.function in FAST_RUN runs the compiled module; FAST_COMPILE keeps the reference
evaluator; an op without a C translation fails at build time naming the op and the line."""

import threading
import time

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.emit_c import EmitError
from aotsym.graph.op import Op


def test_fast_run_is_compiled_and_fast_compile_is_not():
    x = T.vector("x")
    f = aotsym.function([x], x * 2 + 1)
    assert hasattr(f._run, "module")
    np.testing.assert_array_equal(f([1.0, 2.0]), [3.0, 5.0])
    g = aotsym.function([x], x * 2 + 1, mode="FAST_COMPILE")
    assert not hasattr(g._run, "module")


def test_second_identical_function_loads_in_milliseconds():
    x = T.matrix("x")
    aotsym.function([x], T.tanh(x).sum(axis=1))
    start = time.perf_counter()
    f = aotsym.function([x], T.tanh(x).sum(axis=1))
    assert time.perf_counter() - start < 0.5
    np.testing.assert_allclose(f(np.ones((2, 3))), np.tanh(np.ones((2, 3))).sum(axis=1))


def test_shared_updates_and_fresh_outputs():
    w = aotsym.shared(np.zeros(3), name="w")
    x = T.vector("x")
    step = aotsym.function([x], [w * 1, (w + x).sum()], updates={w: w + x})
    outs = [step(np.ones(3)) for _ in range(3)]
    np.testing.assert_array_equal(w.get_value(), [3, 3, 3])
    np.testing.assert_array_equal(outs[0][0], [0, 0, 0])  # not overwritten by later calls
    assert outs[2][1] == 9.0
    assert not np.shares_memory(outs[1][0], w.get_value(borrow=True))


class Opaque(Op):
    """An op with a reference implementation but no C translation."""

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        return [inputs[0] + 1]


def test_op_without_c_translation_fails_at_build_naming_op_and_line():
    """In-process, a user's op with only a reference implementation is called back from the
    compiled code (tests/frontend/test_python_ops.py); a standalone module cannot call it,
    and its build names the op and the line."""
    from aotsym.build.driver import _spec
    from aotsym.emit_c import emit_module
    from aotsym.graph.fgraph import FunctionGraph
    x = T.vector("x")
    y = Opaque()(x)  # the line the error must name
    with pytest.raises(EmitError) as info:
        emit_module([_spec("f", FunctionGraph([x], [y * 2]))], runtime_apart=True)
    text = str(info.value)
    assert "Opaque" in text and "test_build_function_backend.py" in text and "y = Opaque()(x)" in text
    for mode in ("FAST_RUN", "FAST_COMPILE"):   # compiled (called back), and the evaluator
        f = aotsym.function([x], y * 2, mode=mode)
        np.testing.assert_array_equal(f([1.0]), [4.0])


def test_large_calls_release_the_gil():
    x = T.vector("x")
    f = aotsym.function([x], T.exp(T.sin(x)) * T.cos(x) + T.sqrt(abs(x)))
    big = np.random.default_rng(0).standard_normal(4_000_000)
    f(big)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.0005)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    for _ in range(3):
        f(big)
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    # with the GIL held for the whole call the counter could not run at all
    assert len(ticks) > min(10, elapsed / 0.01)


def test_concurrent_calls_from_python_threads_are_correct():
    x = T.vector("x")
    f = aotsym.function([x], [T.tanh(x) * 2 + x, (x * x).sum()])
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(300_000) for _ in range(4)]
    expected = [[np.tanh(a) * 2 + a, (a * a).sum()] for a in inputs]
    errors = []

    def work(k):
        for _ in range(5):
            got = f(inputs[k])
            if not (np.allclose(got[0], expected[k][0]) and np.isclose(got[1], expected[k][1])):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
