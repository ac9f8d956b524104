"""W7 — build time: ``function`` on an elementwise chain of 1k, 10k and 100k operations.

The chain is ``y = x`` then, repeated, ``y*0.5``, ``y+1.0``, ``sin(y)`` (so nothing folds
away).  Each build runs in a fresh child process with a time limit (a peer's compiler cannot be
interrupted otherwise), timing only the graph construction and the ``function`` call:

* cold: a cache directory that has not seen the chain (a trivial function was built there
  first, so the one-time compilation of PyTensor's or aotsym's runtime is not counted);
* cached: a second process builds the same chain with the cache now holding it; its cell
  shows the user's graph building and the ``function`` call apart (the call: the graph's key,
  the cache lookup, loading the module -- no optimizer, no emitter).

It also times ``aotsym build`` of the seed's module (``examples/logreg_module.py``): the
command's wall time, Python's start and imports included, with the runtime's parts already
compiled in its cache (a first build of the same module made them) — what a user waits for
after editing a model.

aotsym's time is split into graph construction, optimizer, C emission, C compiler and the
rest of the backend (cache lookup, loading), timed at those stages' entry points; JAX is
``jit(...).lower(x).compile()`` with its persistent compilation cache in the same kind of
directory.  PyTensor needs a raised Python
recursion limit for long chains (it recurses over the graph); aotsym is run at Python's
default limit on purpose.  One measurement per cell, not a median.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.core import ERROR, NOT_AVAILABLE, OK, TIMEOUT, CaseResult, Result
from benchmarks.peers import missing

ID, NAME, TITLE = "W7", "build", "Build time of an elementwise chain"
IMPLS = ("aotsym", "pytensor", "pytensor-c", "jax")
NOTES = ["Cells are build times (seconds, one measurement each); ratio = peer build time / "
         "aotsym build time."]


def chain(x, n, sin):
    y = x
    for i in range(n):
        k = i % 3
        y = y * 0.5 if k == 0 else (y + 1.0 if k == 1 else sin(y))
    return y


def run(ctx):
    s = ctx.settings
    out = []
    for n in sorted(set(s.chain_sizes) | set(s.peer_chain_sizes)):
        impls = [k for k in IMPLS if k in ctx.enabled
                 and (n in s.chain_sizes if k == "aotsym" else n in s.peer_chain_sizes)]
        cold = CaseResult(f"chain of {n:,} ops, cold", {}, unit="build")
        cached = CaseResult(f"chain of {n:,} ops, cached", {}, unit="build")
        for key in impls:
            reason = missing(key) if key != "aotsym" else None
            if reason:
                cold.results[key] = Result(key, status=reason)
                continue
            limit = s.build_timeout_s
            with tempfile.TemporaryDirectory(prefix=f"aotsym-bench-{key}-") as cache:
                if key.startswith("pytensor") or key == "aotsym":   # its runtime, compiled
                    _child(key, 1, cache, limit)                   # once per cache
                cold.results[key] = _child(key, n, cache, limit)
                if cold.results[key].status == OK:
                    cached.results[key] = _child(key, n, cache, limit)
        for case in (cold, cached):
            if case.results:
                ctx.log(_console(case))
                out.append(case)
    if "aotsym" in ctx.enabled:
        case = CaseResult("aotsym build of examples/logreg_module.py", {}, unit="build")
        case.results["aotsym"] = _cli_build(s.build_timeout_s)
        ctx.log(_console(case))
        out.append(case)
    return out


def _cli_build(limit) -> Result:
    """``aotsym build examples/logreg_module.py`` in a fresh process, its wall time; the
    second of two builds into one cache (the first compiles the runtime's parts)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory(prefix="aotsym-bench-cli-") as tmp:
        env = dict(os.environ, AOTSYM_FLAGS=f"cache_dir={os.path.join(tmp, 'cache')}",
                   PYTHONPATH=os.pathsep.join(filter(None, [root,
                                                            os.environ.get("PYTHONPATH")])))
        cmd = [sys.executable, "-m", "aotsym.cli", "build", "-v",
               os.path.join(root, "examples", "logreg_module.py"), "-o",
               os.path.join(tmp, "dist")]
        for _ in range(2):
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit,
                                      env=env, cwd=tmp)
            except subprocess.TimeoutExpired:
                return Result("aotsym", status=TIMEOUT, extra={"timeout_s": limit})
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                return Result("aotsym", status=ERROR,
                              error=f"aotsym build exited {proc.returncode}: {tail[:250]}")
    extra = {}
    for line in proc.stdout.splitlines():   # -v: "compile      0.63 s  ..."
        words = line.split()
        if len(words) >= 3 and words[0] in ("trace", "optimize", "emit", "compile") \
                and words[2] == "s":
            extra[("cc" if words[0] == "compile" else words[0]) + "_s"] = float(words[1])
    return Result("aotsym", median=wall, samples=[wall], number=1, check="ok", extra=extra)


def _console(case):
    from benchmarks.report import console_case
    return console_case(case)


def _child(key, n, cache, limit) -> Result:
    cmd = [sys.executable, "-m", "benchmarks.workloads.w7_build", key, str(n), cache]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env,
                              cwd=root)
    except subprocess.TimeoutExpired:
        return Result(key, status=TIMEOUT, extra={"timeout_s": limit})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(key, status=ERROR, error=f"child exited {proc.returncode}: {tail[:250]}")
    info = json.loads(lines[-1])
    if info.get("status") != OK:
        return Result(key, status=info.get("status", ERROR), error=info.get("error"))
    return Result(key, median=info["total_s"], samples=[info["total_s"]], number=1,
                  check=info.get("check"), note=info.get("note", ""),
                  extra={k: v for k, v in info.items() if k.endswith("_s") or k == "backend"})


# ------------------------------------------------------------------- the child process

def _stage_times(f) -> dict:
    """The seconds of each build stage, as the built function carries them: the optimizer's
    stats, and the module's own record of lowering, emitting, compiling (absent on a cache
    hit) and loading."""
    run = getattr(f, "_run", None)
    out = {}
    module = getattr(run, "module", None)
    # a module loaded by its graph key was not optimized (reading .stats would optimize it)
    stats = None if getattr(module, "from_graph_key", False) else getattr(run, "stats", None)
    if stats is not None:
        out["optimize_s"] = stats.seconds
    seconds = getattr(module, "seconds", {}) or {}
    for stage, label in (("lower", "lower_s"), ("emit", "emit_s"), ("compile", "cc_s"),
                         ("load", "load_s")):
        if stage in seconds:
            out[label] = seconds[stage]
    return out


def _child_main(key, n, cache):
    import numpy as np
    xv = np.linspace(0.0, 1.0, 7)
    info = {"status": OK}
    if key == "aotsym":
        import aotsym
        from aotsym import tensor as T
        from benchmarks.peers import aotsym_backend
        # the stages are imported before the clock starts (the figures are building, not
        # importing; this workload's earlier stage timers imported them first too)
        import aotsym.build.driver  # noqa: F401
        import aotsym.frontend.function  # noqa: F401
        aotsym.config.cache_dir = cache
        t0 = time.perf_counter()
        x = T.vector("x", dtype="float64")
        y = chain(x, n, T.sin)
        info["graph_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        f = aotsym.function([x], y)
        info["function_s"] = time.perf_counter() - t0
        info.update(_stage_times(f))
        info["backend"] = aotsym_backend(f)
        module = getattr(getattr(f, "_run", None), "module", None)
        if module is not None and hasattr(module, "from_cache"):
            info["note"] = ("module found by its graph key" if getattr(module, "from_graph_key",
                                                                       False)
                            else "module loaded from the cache" if module.from_cache else "")
        info["total_s"] = info["graph_s"] + info["function_s"]
        got = f(xv)
    elif key in ("pytensor", "pytensor-c"):
        os.environ["PYTENSOR_FLAGS"] = ",".join(
            filter(None, [os.environ.get("PYTENSOR_FLAGS"), f"compiledir={cache}"]))
        sys.setrecursionlimit(max(10 * n, sys.getrecursionlimit()))
        import pytensor
        import pytensor.tensor as pt
        t0 = time.perf_counter()
        x = pt.vector("x", dtype="float64")
        f = pytensor.function([x], chain(x, n, pt.sin),
                              mode="CVM" if key == "pytensor-c" else None)
        info["total_s"] = time.perf_counter() - t0
        got = f(xv)
    elif key == "jax":
        from benchmarks.peers import jax_module
        jax = jax_module()
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        t0 = time.perf_counter()
        compiled = jax.jit(lambda x: chain(x, n, jax.numpy.sin)).lower(xv).compile()
        info["total_s"] = time.perf_counter() - t0
        got = compiled(xv)
    else:
        raise SystemExit(f"unknown implementation {key}")
    want = chain(xv, n, np.sin)
    info["check"] = "ok" if np.allclose(np.asarray(got), want) else \
        f"max abs diff {float(np.max(np.abs(np.asarray(got) - want))):.3g}"
    return info


if __name__ == "__main__":
    _key, _n, _cache = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        result = _child_main(_key, _n, _cache)
    except ModuleNotFoundError as exc:
        result = {"status": NOT_AVAILABLE if (exc.name or "").startswith("aotsym") else ERROR,
                  "error": f"{type(exc).__name__}: {exc}"}
    except RecursionError as exc:
        result = {"status": ERROR, "error": f"RecursionError: {exc}"}
    except Exception as exc:
        from benchmarks.core import describe_error
        result = {"status": ERROR, "error": describe_error(exc)}
    print(json.dumps(result), flush=True)
