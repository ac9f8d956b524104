"""W8 — the machine's limits: copy bandwidth and NumPy's BLAS peak, with aotsym's dot beside it.

Every other table reads its results as a fraction of these: effective GB/s over the copy
bandwidth (bytes read + written; the faster of ``np.copyto`` on one thread and on all cores,
one slice per thread — on a VM one core may not saturate memory, and multi-threaded code
would otherwise read as above 100%), GFLOP/s over NumPy's dgemm or sgemm on
2000x2000 matrices.  Measured first, in the same run as everything else.  The products are
also timed through ``aotsym.function([a, b], T.dot(a, b))`` (gemm, and a gemv of the same
matrix) — the "dot within 10% of NumPy's BLAS" goal reads straight off their ratios.  A limit is the
best the machine did, so it is taken from the fastest sample (the tables show medians, like
everywhere else); fractions of it are therefore on the conservative side.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from benchmarks.core import Case, min_bytes
from benchmarks.peers import IN_CHILD

ID, NAME, TITLE = ("W8", "references",
                   "References: copy bandwidth and BLAS peak (NumPy), aotsym's dot beside it")
NOTES = ["NumPy and aotsym link two separate OpenBLAS builds (NumPy's bundled one, and "
         "scipy-openblas64), each with its own thread pool.  On 2 cores, threads one library "
         "leaves spinning after a call slow the other's next calls: the dgemv ratio has "
         "ranged from 0.31 to 0.97 between runs here, while timed alone (min of 5x200 calls) "
         "the two took 337 µs (NumPy) and 328 µs (aotsym)."]


def run(ctx):
    n = ctx.size(10**7, smoke=10**5)
    rng = ctx.rng()
    src = rng.random(n)
    dst = np.empty_like(src)
    copy = ctx.time(Case(f"np.copyto, float64, n={n:,} (read + write)", check=False,
                         bytes=2 * n * 8, builders={"numpy": lambda: lambda: np.copyto(dst, src)}))
    threads = os.cpu_count() or 1
    pool = ThreadPoolExecutor(threads)
    bounds = np.linspace(0, n, threads + 1).astype(int)
    slices = [(dst[lo:hi], src[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]

    def parallel_copy():
        list(pool.map(lambda pair: np.copyto(*pair), slices))
    wide = ctx.time(Case(f"np.copyto on {threads} threads, one slice each (read + write)",
                         check=False, bytes=2 * n * 8,
                         builders={"numpy": lambda: parallel_copy}))
    fresh = ctx.time(Case(f"np.copy to a fresh array, float64, n={n:,}", check=False,
                          bytes=2 * n * 8, builders={"numpy": lambda: src.copy}))
    pool.shutdown()
    results = [copy, wide, fresh]
    ctx.refs["copy_gbps"] = max(copy.bytes / _fastest(copy), wide.bytes / _fastest(wide)) / 1e9
    for case in cases(ctx):
        res = ctx.time(case)
        if case.name.startswith(("dgemm", "sgemm")):
            ctx.refs[f"{case.name[:5]}_gflops"] = res.flops / _fastest(res) / 1e9
        results.append(res)
    ctx.log("  limits: copy {copy_gbps:.3g} GB/s, dgemm {dgemm_gflops:.3g} GFLOP/s, "
            "sgemm {sgemm_gflops:.3g} GFLOP/s".format(**ctx.refs))
    return results


def cases(ctx):
    """The products (dgemm, dgemv, sgemm): the cases of this workload that can be timed
    alone (``benchmarks.child`` rebuilds them by name)."""
    m = ctx.size(2000, smoke=64)
    rng = np.random.default_rng(20240602)
    for dtype, key in (("float64", "dgemm"), ("float32", "sgemm")):
        a = rng.random((m, m)).astype(dtype)
        b = rng.random((m, m)).astype(dtype)
        yield Case(f"{key} {m}x{m} (a @ b)", flops=2.0 * m**3, dtype=dtype,
                   bytes=min_bytes([a, b], [a]), rtol=1e-4 if dtype == "float32" else None,
                   builders=_dot_builders(ctx, a, b))
        if dtype == "float64":
            v = rng.random(m)
            yield Case(f"dgemv {m}x{m} (a @ v)", flops=2.0 * m**2, limit="bandwidth",
                       bytes=min_bytes([a, v], [v]), dtype=dtype,
                       builders=_dot_builders(ctx, a, v))
        del a, b


def _dot_builders(ctx, a, b):
    """NumPy's ``a @ b`` and the same product compiled by aotsym (when it is enabled), with
    one thread (aotsym-1t, when enabled)."""
    builders = {"numpy": lambda: lambda: a @ b}
    if "aotsym" in ctx.enabled:
        def build():
            import aotsym
            from aotsym import tensor as T
            x = T.tensor(a.dtype.name, (False,) * a.ndim, "a")
            y = T.tensor(b.dtype.name, (False,) * b.ndim, "b")
            f = aotsym.function([x, y], T.dot(x, y))
            return lambda: f(a, b)
        builders["aotsym"] = build
    if "aotsym-1t" in ctx.enabled:
        builders["aotsym-1t"] = IN_CHILD["aotsym-1t"]
    return builders


def _fastest(result):
    return min(result.results["numpy"].samples)
