"""One case of a workload measured in a child process: ``aotsym-1t`` and callgrind counts.

Two measurements cannot be taken in the runner's own process:

* ``aotsym-1t``, aotsym with ``AOTSYM_NUM_THREADS=1``: the runtime reads that variable once,
  when its thread pool starts (``aot_env_threads`` in runtime/aotsym_runtime.c), and by then
  the runner's process has long started it.  A child started with the variable set builds
  the same case, checks its result against NumPy's and times it as ``time_case`` does.
* the instruction count of one call (``count_calls`` > 0, the small cases): the child runs
  under ``valgrind --tool=callgrind`` with instrumentation off until the case is built and
  warmed up, then a tiny C helper (client requests, loaded with ctypes) collects over
  ``count_calls`` calls of a do-nothing function and over as many calls of the case; the
  difference divided by the count is the instructions of one call.  The child runs with one
  thread everywhere (``AOTSYM_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``
  = 1), ``PYTHONHASHSEED=0`` and no AVX-512 (valgrind has none): a count then does not
  depend on what else the machine does, nor on a thread pool's spinning or a split decided
  by timing (aot_adapt).  Guest instructions under valgrind's emulated CPU: BLAS kernels
  chosen by CPU detection may differ from a native run's; the count is for comparing runs,
  not for predicting time.

The child finds the case by its workload's ``ID`` and the case's name, calling the
workload's ``cases(ctx)`` with only NumPy and the one aotsym builder enabled, so it rebuilds
exactly what the runner measured.  It prints one JSON line.  ``python -m benchmarks.child``
is this child; ``measure`` and ``count`` start it.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace

from benchmarks.core import ERROR, OK, TIMEOUT, Impl, InChild, Result, time_case

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE_THREAD = {"AOTSYM_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

HELPER_C = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_on(void) { CALLGRIND_ZERO_STATS; CALLGRIND_TOGGLE_COLLECT; }
void cg_off(const char *label) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT(label); }
int cg_running(void) { return RUNNING_ON_VALGRIND; }
"""


# --------------------------------------------------------------------------- the parent

def _spec(workload_id, case_name, settings, **more) -> dict:
    return {"workload": workload_id, "case": case_name, "profile": settings.profile,
            "repeats": settings.repeats, "min_sample_s": settings.min_sample_s, **more}


def _run(cmd, env_add, timeout, impl) -> tuple[dict | None, Result | None]:
    env = dict(os.environ, **env_add, PYTHONPATH=os.pathsep.join(
        filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, Result(impl, status=TIMEOUT, extra={"timeout_s": timeout})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, Result(impl, status=ERROR,
                            error=f"child exited {proc.returncode}: {tail[:250]}")
    return json.loads(lines[-1]), None


def measure(workload_id, case_name, spec: InChild, settings, timeout=300) -> Result:
    """``spec.impl`` of the named case timed (and checked against NumPy) in a child process
    whose environment has ``spec.env`` added.  If ``spec.paired``, children without it too,
    in the order without, with, with, without: each side's figure is the faster of its two
    children's medians (the without side's goes into ``extra["baseline_median"]``).  One
    pair was not enough: on a VM whose speed moves between processes (this project's Intel
    Xeon ran one binary at 40 or 65 us, process to process), a pair taken across such a move
    read as threads 30% slower than one thread, and timed again apart they were not."""
    cmd = [sys.executable, "-m", "benchmarks.child",
           json.dumps(_spec(workload_id, case_name, settings, impl=spec.impl, mode="time"))]
    if not spec.paired:
        return _result(spec, *_run(cmd, dict(spec.env), timeout, spec.impl))
    sides: dict = {False: [], True: []}    # without spec.env, with it
    for env in ({}, dict(spec.env), dict(spec.env), {}):
        info, failed = _run(cmd, env, timeout, spec.impl)
        if failed and env:
            return failed
        if info:
            sides[bool(env)].append(info)

    def fastest(infos):   # (a child without a median counts as the slowest)
        return min(infos, key=lambda i: (i.get("median") is None, i.get("median") or 0.0))
    out = _result(spec, fastest(sides[True]), None)
    baseline = fastest(sides[False]).get("median") if sides[False] else None
    if baseline is not None:
        out.extra["baseline_median"] = baseline
    return out


def _result(spec, info, failed) -> Result:
    if failed:
        return failed
    out = Result(spec.impl, **{k: v for k, v in info.items()
                               if k in Result.__dataclass_fields__ and k != "impl"})
    out.extra["env"] = dict(spec.env)
    return out


@functools.lru_cache(maxsize=None)
def callgrind_helper() -> tuple[str | None, str]:
    """(path of the compiled client-request helper, "") or (None, why not)."""
    if shutil.which("valgrind") is None:
        return None, "valgrind not found"
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        return None, "no C compiler for the callgrind helper"
    digest = hashlib.sha256(HELPER_C.encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"aotsym-bench-callgrind-{digest}.so")
    if os.path.exists(path):
        return path, ""
    with tempfile.TemporaryDirectory(prefix="aotsym-bench-cg-") as tmp:
        src, lib = os.path.join(tmp, "cg.c"), os.path.join(tmp, "cg.so")
        with open(src, "w") as fh:
            fh.write(HELPER_C)
        proc = subprocess.run([cc, "-O1", "-Wall", "-shared", "-fPIC", src, "-o", lib],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or ["failed"])[0]
            return None, f"callgrind helper does not compile ({why[:200]})"
        os.replace(lib, path)       # atomic: a concurrent run sees all of it or nothing
    return path, ""


def _counting_flags() -> dict:
    """The counting child's AOTSYM_FLAGS: valgrind (3.19 .. 3.24) emulates no AVX-512, so a
    module built with aotsym's default ``-march=native`` on a CPU that has it would not load
    under callgrind (the module's own CPU check refuses it); on x86-64 the child builds
    without (its counts are then of AVX2 code there)."""
    import platform

    from aotsym.config import FLAGS
    if platform.machine() not in ("x86_64", "AMD64"):
        return {}
    return {"AOTSYM_FLAGS": f"cflags={FLAGS['cflags'][0]} -mno-avx512f"}


def count(workload_id, case_name, calls, settings, impl="aotsym", timeout=600) -> dict:
    """``{"instructions": per call, "calls": n}`` of the named case's ``impl`` under
    callgrind, or ``{"error": why}``."""
    helper, why = callgrind_helper()
    if helper is None:
        return {"error": why}
    with tempfile.TemporaryDirectory(prefix="aotsym-bench-cg-") as out:
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
               f"--callgrind-out-file={out}/cg.out", f"--log-file={out}/valgrind.log",
               sys.executable, "-m", "benchmarks.child",
               json.dumps(_spec(workload_id, case_name, settings, impl=impl, mode="count",
                                calls=calls, helper=helper, out=out))]
        info, failed = _run(cmd, dict(ONE_THREAD, PYTHONHASHSEED="0", **_counting_flags()),
                            timeout, impl)
    if failed:
        return {"error": failed.error or failed.status}
    return info


# ---------------------------------------------------------------------------- the child

def _find_case(spec):
    from benchmarks.runner import PROFILES, Context
    from benchmarks.workloads import WORKLOADS
    settings = replace(PROFILES[spec["profile"]], repeats=spec["repeats"],
                       min_sample_s=spec["min_sample_s"], peers=("numpy",))
    ctx = Context(settings, log=lambda line: None, enabled={"numpy", spec["impl"]})
    mod = next(w for w in WORKLOADS if w.ID == spec["workload"])
    for case in mod.cases(ctx):
        if case.name == spec["case"]:
            return case, settings
    raise LookupError(f"{spec['workload']} has no case {spec['case']!r}")


def _time(spec) -> dict:
    case, settings = _find_case(spec)
    case.builders = {k: case.builders[k] for k in ("numpy", spec["impl"]) if k in case.builders}
    return time_case(case, settings, timed={spec["impl"]}).results[spec["impl"]].as_dict()


def _loop(fn, n):
    for _ in range(n):
        fn()


def _nothing():
    return None


def _callgrind_totals(out) -> dict:
    """{dump label: Ir} from the dump files callgrind wrote into ``out``."""
    totals = {}
    for name in os.listdir(out):
        label = ir = None
        with open(os.path.join(out, name), errors="replace") as fh:
            for line in fh:
                if line.startswith("desc: Trigger: Client Request: "):
                    label = line.split(": ", 3)[-1].strip()
                elif line.startswith("totals:"):
                    ir = int(line.split()[1])
        if label is not None and ir is not None:
            totals[label] = ir
    return totals


def _count(spec) -> dict:
    lib = ctypes.CDLL(spec["helper"])
    if not lib.cg_running():
        raise RuntimeError("not running under valgrind")
    case, _ = _find_case(spec)
    impl = case.builders[spec["impl"]]()
    run = impl.run if isinstance(impl, Impl) else impl
    _loop(run, 3)                        # warm (the counts are of guest instructions: the
    lib.cg_start()                       # translation of code seen first is not counted)
    n = int(spec["calls"])
    gc.collect()
    gc.disable()
    lib.cg_on()
    _loop(_nothing, n)
    lib.cg_off(b"nothing")
    lib.cg_on()
    _loop(run, n)
    lib.cg_off(b"calls")
    gc.enable()
    totals = _callgrind_totals(spec["out"])
    return {"status": OK, "calls": n,
            "instructions": round((totals["calls"] - totals["nothing"]) / n)}


def main(argv) -> int:
    spec = json.loads(argv[0])
    try:
        out = _count(spec) if spec["mode"] == "count" else _time(spec)
    except Exception as exc:
        from benchmarks.core import describe_error
        out = {"status": ERROR, "error": describe_error(exc)}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
