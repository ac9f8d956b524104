"""The memory plan, carried out at run time: intermediates go back to the pool after their
last reader and the next allocation of that size takes them, so a long chain runs in a couple
of blocks and a repeated call allocates nothing new; outputs given back by NumPy are reused."""

import numpy as np

from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program


def test_long_chain_runs_in_recycled_blocks():
    x = T.vector("x")
    y = x
    for _ in range(40):          # unfused: 80 nodes, 80 intermediate arrays
        y = T.tanh(y) * 1.5
    loaded = build_module([FunctionSpec("chain", lower_program(FunctionGraph([x], [y])))],
                          BuildOptions.from_config(cflags="-O1"))
    f, stats = loaded.entries[0], loaded.fast._pool_stats
    big = np.linspace(-1, 1, 300_000)             # 2.4 MB per array: large pool blocks
    expected = big
    for _ in range(40):
        expected = np.tanh(expected) * 1.5
    del f(big)[0]
    before = stats()
    for _ in range(3):
        out = f(big)[0]
        np.testing.assert_allclose(out, expected, rtol=1e-12)
        del out
    after = stats()
    allocations = after["allocations"] - before["allocations"]
    reused = after["reused"] - before["reused"]
    assert allocations >= 3 * 80 and reused == allocations  # nothing new from the system
    # The pool is process-wide (earlier tests leave blocks in it): this chain adds at most
    # its two live intermediates and the output to what was cached before it ran.
    assert after["cached_large"] - before["cached_large"] <= 3


def test_huge_frames_go_on_the_heap(monkeypatch):
    import aotsym.emit_c.emitter as emitter
    monkeypatch.setattr(emitter, "FRAME_ON_STACK_BYTES", 0)
    x = T.matrix("x")
    graph = FunctionGraph([x], [(x.T * 2).sum(axis=0), x[1:] + 1])
    spec = FunctionSpec("heap_frame", lower_program(graph))
    loaded = build_module([spec], BuildOptions.from_config(cflags="-O1"))
    source = loaded.emitted.source
    run = source.index("aot_f0_run(aot_ctx *ctx, const aot_array *in, aot_array *out)\n{")
    assert "malloc" in source[run:run + 2000]
    a = np.arange(6.0).reshape(2, 3)
    got = loaded.entries[0](a)
    np.testing.assert_array_equal(got[0], (a.T * 2).sum(axis=0))
    np.testing.assert_array_equal(got[1], a[1:] + 1)
    with np.testing.assert_raises(TypeError):
        loaded.entries[0](np.ones(3))
