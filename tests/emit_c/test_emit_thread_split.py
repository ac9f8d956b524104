"""Splitting work over the threads: decided by measuring, never changing a bit, one owner.

The runtime splits large elementwise loops, full reductions and BLAS products over its thread
pool only where that measures faster (``aot_parallel_for_adaptive`` in runtime/), sets the
OpenBLAS it links to one thread (its pool is the only one), and ``AOTSYM_SPLIT`` forces one
arm.  These tests check the decision logic in C with made-up timings, that the two arms give
the same bits (child processes with two threads, one forcing each arm), and that OpenBLAS is
left with one thread.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from aotsym.resources import runtime_dir

DECISION_HARNESS = r"""
#include "aotsym_scalar.h"
#include "aotsym_profile.h"
#include "aotsym_runtime.h"

#define AOT_ADAPT_NEW {{{0}}, {0, 0}, {0, 0}, 0, 0, 0, 0}

/* One call of the adaptive split with a made-up duration per arm. */
static int step(aot_adapt *a, double serial_ns, double split_ns)
{
    int arm = aot_adapt_pick(a);
    aot_adapt_record(a, arm, (int64_t)(arm ? split_ns : serial_ns));
    return arm;
}

int main(void)
{
    /* split faster (a free second core): after the trials, the split every call but one
     * probe of the one-call arm per AOT_ADAPT_PERIOD calls */
    aot_adapt a = AOT_ADAPT_NEW;
    int first = step(&a, 100000, 60000);
    int splits = 0;
    for (int i = 0; i < 1000; i++) splits += step(&a, 100000, 60000);
    /* the second core gets busy: the split now takes twice as long; it must be left soon */
    int late = 0;
    for (int i = 0; i < 100; i++) late += step(&a, 100000, 200000);
    int after = 0;
    for (int i = 0; i < 640; i++) after += step(&a, 100000, 200000);
    /* a long steady stretch: the probes that confirm the choice come ever more rarely */
    int steady = 0;
    for (int i = 0; i < 20000; i++) steady += step(&a, 100000, 200000);
    /* a clear difference (2x) decides after one run of each arm: warm-up, 3 one-call
     * calls, 4 splits, 4 one-call calls (the run that completes the one-call arm's four) */
    aot_adapt c = AOT_ADAPT_NEW;
    int clear_trials = 0;
    while (step(&c, 100000, 50000) == 0 || c.samples[1] < 8) {
        clear_trials++;
        if (clear_trials > 40) break;
    }
    /* a split slow at first (its first calls in a process) and fast once warmed up: the
     * trials at call AOT_ADAPT_RETRIAL see it and take it */
    aot_adapt w = AOT_ADAPT_NEW;
    for (int i = 0; i < AOT_ADAPT_RETRIAL; i++) step(&w, 100000, 200000);
    int warmed = 0;
    for (int i = 0; i < 200; i++) warmed += step(&w, 100000, 60000);
    /* long calls decide after two samples of each arm */
    aot_adapt b = AOT_ADAPT_NEW;
    int trials = 0;
    while (b.samples[0] < 2 || b.samples[1] < 2) {
        step(&b, 5e8, 3e8);
        trials++;
    }
    int long_split = step(&b, 5e8, 3e8);
    /* one very slow split among the trials (a page fault, a preempted worker) does not hide
     * that the split is faster: taken at the end of the trials, not after the probes */
    aot_adapt o = AOT_ADAPT_NEW;
    int outlier_one = 0;
    for (int i = 0; i < 40; i++) {
        int arm = aot_adapt_pick(&o);
        double ns = arm ? (o.samples[1] == 0 ? 5e7 : 60000) : 100000;
        aot_adapt_record(&o, arm, (int64_t)ns);
        if (i >= 20) outlier_one += !arm;
    }
    printf("{\"first\": %d, \"splits\": %d, \"late\": %d, \"after\": %d, "
           "\"steady\": %d, \"trials\": %d, \"long_split\": %d, \"clear_trials\": %d, "
           "\"warmed\": %d, \"outlier_one\": %d}\n", first, splits, late, after, steady,
           trials, long_split, clear_trials, warmed, outlier_one);
    return 0;
}
"""


def test_the_decision_follows_the_measured_times(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "harness.c"
    src.write_text(DECISION_HARNESS)
    exe = tmp_path / "harness"
    subprocess.run([cc, "-O1", "-Wall", "-Werror", "-Wno-unused-function", f"-I{runtime_dir()}",
                    str(src), "-o", str(exe)], check=True, capture_output=True, text=True)
    got = json.loads(subprocess.run([str(exe)], check=True, capture_output=True,
                                    text=True).stdout)
    assert got["first"] == 0                 # the warm-up call: one call, not counted
    # 1000 calls: trials in runs of 4 (8 one-call calls among them), then runs of 4 probes
    # of the other arm after 64 calls, then 128, 256 (each probe confirms the choice); at
    # call 512 the trials again (a run of each arm: the difference is clear), then probes
    # after 64, 128, 256 calls
    assert 1000 - 8 - 4 - 4 * 7 <= got["splits"] <= 1000 - 8 - 4 - 4 * 5
    assert got["warmed"] >= 180              # re-decided for the split within ~10 calls
    assert got["late"] < 20                  # left within a few calls of slowing down
    assert got["after"] <= 4 * (640 // 64 + 1)   # then only the probes split
    # 20000 calls more: probes every 2048 calls at most (and at least one run per 2048)
    assert 4 * (20000 // 2048 - 1) <= got["steady"] <= 4 * (20000 // 2048 + 7)
    assert got["trials"] <= 7                # warm-up + a run of one-call calls + 2 splits
    assert got["long_split"] == 1
    # a 2x difference: decided after one run of each arm, no second run of the split
    assert got["clear_trials"] <= 12
    # one 50 ms split among 60 us ones: the median ignores it (a running mean held the
    # split off until the probes 64 calls later)
    assert got["outlier_one"] == 0


CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import aotsym
    from aotsym import tensor as T

    rng = np.random.default_rng(7)
    out = {}

    def run(name, inputs, output, values):
        f = aotsym.function(inputs, output)
        for _ in range(3):   # several calls: the arms must agree on every one
            r = np.asarray(f(*values))
        out[name] = [r.tobytes().hex(), str(r.dtype), list(r.shape)]

    for dt in ("float64", "float32"):
        A, B = T.matrix("A", dtype=dt), T.matrix("B", dtype=dt)
        x, y = T.vector("x", dtype=dt), T.vector("y", dtype=dt)
        m = lambda *s: rng.standard_normal(s).astype(dt)
        run(f"gemm_rows_{dt}", [A, B], T.dot(A, B), [m(300, 70), m(70, 90)])
        run(f"gemm_cols_{dt}", [A, B], T.dot(A, B), [m(40, 100), m(100, 500)])
        run(f"gemm_trans_{dt}", [A, B], T.dot(A.T, B.T), [m(100, 300), m(90, 100)])
        run(f"gemv_{dt}", [A, x], T.dot(A, x), [m(500, 400), m(400)])
        run(f"gemv_trans_{dt}", [A, x], T.dot(A.T, x), [m(400, 500), m(400)])
        run(f"gemv_odd_{dt}", [A, x], T.dot(A, x), [m(501, 333), m(333)])
        run(f"gemv_trans_odd_{dt}", [A, x], T.dot(A.T, x), [m(333, 501), m(333)])
        run(f"gemm_odd_{dt}", [A, B], T.dot(A, B), [m(301, 71), m(71, 93)])
        run(f"ger_{dt}", [A, x, y], A + T.outer(x, y), [m(500, 400), m(500), m(400)])
        run(f"elemwise_{dt}", [x, y], T.tanh(x) * y + x ** 2, [m(400000), m(400000)])
        run(f"sum_{dt}", [x], T.sum(T.exp(x * 0.1)), [m(400000)])
        run(f"rows_{dt}", [A], T.sum(A * A, axis=1), [m(3000, 200)])
    json.dump(out, sys.stdout)
""")


def _child(tmp_path, split, cache):
    env = dict(os.environ, AOTSYM_FLAGS=f"cache_dir={cache}", AOTSYM_NUM_THREADS="2",
               AOTSYM_SPLIT=split)
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_split_and_one_call_give_the_same_bits(tmp_path, session_cache):
    never = _child(tmp_path, "never", session_cache)
    always = _child(tmp_path, "always", session_cache)
    measured = _child(tmp_path, "", session_cache)
    assert never.keys() == always.keys() == measured.keys()
    for name in never:
        assert never[name] == always[name], f"{name}: the split changed the result"
        assert never[name] == measured[name], f"{name}: the measured choice changed it"
    # and the results are right (one spot check per kind against NumPy)
    raw, dtype, shape = never["gemm_rows_float64"]
    got = np.frombuffer(bytes.fromhex(raw), dtype=dtype).reshape(shape)
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((300, 70)), rng.standard_normal((70, 90))
    np.testing.assert_allclose(got, a @ b, rtol=1e-12, atol=1e-12)


OPENBLAS_CHILD = textwrap.dedent("""
    import ctypes, os, sys
    import numpy as np
    import aotsym
    from aotsym import tensor as T
    from aotsym.build.blas import find_blas, library_path

    blas = find_blas()
    lib = ctypes.CDLL(library_path(blas))
    get = getattr(lib, blas.prefix + "openblas_get_num_threads" + blas.suffix)
    before = get()
    A, B = T.matrix("A"), T.matrix("B")
    f = aotsym.function([A, B], T.dot(A, B))
    f(np.ones((64, 64)), np.ones((64, 64)))
    print(before, get())
""")


def test_openblas_is_left_with_one_thread(tmp_path, session_cache):
    from aotsym.build.blas import find_blas
    if find_blas().name == "none":
        pytest.skip("no BLAS package: the products run plain C loops")
    env = dict(os.environ, AOTSYM_FLAGS=f"cache_dir={session_cache}", OPENBLAS_NUM_THREADS="2")
    proc = subprocess.run([sys.executable, "-c", OPENBLAS_CHILD], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    before, after = map(int, proc.stdout.split())
    assert before == 2        # the variable took effect: the check below can fail
    assert after == 1


THREADS_CHILD = textwrap.dedent("""
    import os
    import numpy as np
    import aotsym
    from aotsym import tensor as T
    A, B = T.matrix("A"), T.matrix("B")
    before = len(os.listdir("/proc/self/task"))
    f = aotsym.function([A, B], T.dot(A, B))   # loaded in this process, and its OpenBLAS
    f(np.ones((64, 64)), np.ones((64, 64)))
    print(before, len(os.listdir("/proc/self/task")), os.environ["OPENBLAS_NUM_THREADS"])
""")


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_loading_a_module_starts_no_openblas_threads(tmp_path, session_cache):
    """OpenBLAS starts its server threads when the library loads (each spins ~0.1 s on a
    core the pool's worker needs: a split ran as slowly as one call for the first ~150
    calls of W3's gemm); the module is loaded with OPENBLAS_NUM_THREADS=1, then the user's
    setting is put back."""
    from aotsym.build.blas import find_blas
    if find_blas().name == "none":
        pytest.skip("no BLAS package: the products run plain C loops")
    env = dict(os.environ, AOTSYM_FLAGS=f"cache_dir={session_cache}", OPENBLAS_NUM_THREADS="4",
               AOTSYM_NUM_THREADS="1")
    for _ in range(2):   # the first may compile (the compiler's threads); the second loads
        proc = subprocess.run([sys.executable, "-c", THREADS_CHILD], capture_output=True,
                              text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    before, after, setting = proc.stdout.split()
    assert int(after) == int(before)
    assert setting == "4"
