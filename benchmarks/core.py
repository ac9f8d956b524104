"""The measuring machinery every workload shares: cases, timing, checking against NumPy.

A workload describes *cases*; a case holds one builder per implementation ("numpy", "aotsym",
"jax", ...).  A builder receives nothing, prepares its function (compiling it: that time is
not measured here, W7 measures it) and returns a zero-argument callable, or an ``Impl`` when
what should be checked is not what the call returns (a training step checks the new weights).
A builder may also be an ``InChild``: that implementation is measured in a child process
(``benchmarks.child``) — ``aotsym-1t``, aotsym with ``AOTSYM_NUM_THREADS=1``, which the
runtime reads once, when its thread pool starts.

A case also states ``bytes``, the minimum traffic one call needs (``min_bytes``: every input
read once, every output written once, from the shapes and dtypes), so the report can show
the achieved bandwidth beside the time; and ``count_calls``, for the small cases, how many
calls ``benchmarks.child`` counts instructions over under callgrind.

``time_case`` first times the ``InChild`` implementations, each after half a second idle
(this process's peers leave thread pools spinning for a while after their runs, and a child
timed meanwhile loses a core to them), then, for each implementation in turn: builds it, calls it once (warm-up, and
the value that is checked against NumPy's), calibrates how many calls make one sample, runs
one more sample to settle, and takes its samples back to back; a stateless case is checked
once more after all those calls (a reused output buffer must not go wrong on the second
call).  The figure reported is the median of the per-call times of those samples.  (Alternating implementations sample by sample was
tried and rejected, twice: on a 2-core machine the thread pools that one library leaves
spinning after a call — OpenBLAS's busy-wait ~0.1 s, XLA's — slowed the next library down by
up to 3x, and an untimed settle sample plus an idle gap before each timed one did not cure
it for PyTensor's C backend.  The price of sampling back to back is that a drift of the
machine lands on whichever implementation is being measured; the runner reports how much CPU
other processes took during each workload.)
"""

from __future__ import annotations

import gc
import math
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

CHILD_GAP_S = 0.5   # idle before a child process is timed (time_case)
PEER_GAP_S = 0.25   # idle before each implementation after the first is built and timed

OK, NOT_INSTALLED, NOT_AVAILABLE, ERROR, TIMEOUT = (
    "ok", "not installed", "not available", "error", "timeout")


class Unavailable(Exception):
    """The implementation cannot run this case (a feature aotsym does not have yet...)."""


@dataclass
class Impl:
    """A prepared implementation: ``run`` is timed; ``fetch`` (after one ``run``) gives the
    arrays to check against NumPy's, by default what ``run`` returned."""
    run: Callable
    fetch: Callable | None = None


@dataclass(frozen=True)
class InChild:
    """An implementation measured in a child process with ``env`` added to its environment
    (``benchmarks.child.measure``): ``impl`` is the builder the child runs.  ``paired``: a
    child without ``env`` is timed first, the baseline it is compared with (a fresh process
    against a fresh process, not against the runner's, where other libraries' thread pools
    have been running)."""
    impl: str
    env: tuple = ()                     # ((name, value), ...)
    paired: bool = False


def nbytes(item) -> int:
    """Bytes of an array, a NumPy scalar, or a ``(shape, dtype)`` pair."""
    if isinstance(item, tuple) and len(item) == 2:
        shape, dtype = item
        return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return int(np.asarray(item).nbytes)


def min_bytes(reads, writes) -> int:
    """The least memory traffic of one call: each of ``reads`` read once and each of
    ``writes`` written once (arrays, scalars or ``(shape, dtype)`` pairs)."""
    return sum(nbytes(a) for a in reads) + sum(nbytes(a) for a in writes)


@dataclass
class Case:
    """One measured configuration of a workload."""
    name: str
    builders: dict                      # impl name -> () -> callable | Impl, or an InChild
    bytes: int | None = None            # least bytes read + written per call (min_bytes)
    flops: float | None = None          # floating-point operations per call (for GFLOP/s)
    dtype: str = "float64"              # picks the BLAS peak (dgemm or sgemm)
    limit: str | None = "auto"          # the limit the cells show a fraction of: "flops",
    #                                     "bandwidth", None; "auto": flops if given, else bytes
    count_calls: int = 0                # > 0: aotsym's instructions per call, over so many
    #                                     calls under callgrind (the small cases)
    rtol: float | None = None           # tolerances of the check (None: np.allclose's)
    atol: float | None = None
    check: bool = True                  # compare every result with NumPy's
    stateless: bool = True              # every call gives the same result: check the last too


@dataclass
class Result:
    impl: str
    status: str = OK
    median: float | None = None         # seconds per call
    samples: list = field(default_factory=list)
    number: int = 0                     # calls per sample
    check: str | None = None            # None: not checked; "ok"; otherwise the mismatch
    error: str | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self):
        d = {k: v for k, v in self.__dict__.items() if v not in (None, "", [], {})}
        d["impl"], d["status"] = self.impl, self.status
        return d


@dataclass
class CaseResult:
    name: str
    results: dict                       # impl -> Result
    bytes: int | None = None
    flops: float | None = None
    dtype: str = "float64"
    unit: str = "time"                  # "time": per-call run time; "build": compile time
    limit: str | None = "auto"

    def as_dict(self):
        results = {k: r.as_dict() for k, r in self.results.items()}
        for r in results.values():
            if self.bytes and r.get("median"):
                r["gbps"] = round(self.bytes / r["median"] / 1e9, 4)   # achieved bandwidth
        return {"name": self.name, "bytes": self.bytes, "flops": self.flops,
                "dtype": self.dtype, "unit": self.unit, "limit": self.limit,
                "results": results}


# ------------------------------------------------------------------------------- checking

def snapshot(value):
    """The value as a list of fresh NumPy arrays (results may live in reused buffers)."""
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(snapshot(v))
        return out
    if hasattr(value, "block_until_ready"):
        value.block_until_ready()
    return [np.array(value, copy=True)]


def compare(got, want, rtol=None, atol=None, strict=True):
    """None when ``got`` matches ``want`` (lists of arrays), else a one-line description.
    ``strict``: shapes and dtypes must be NumPy's too (aotsym promises NumPy's semantics;
    a peer is only held to the values)."""
    if len(got) != len(want):
        return f"{len(got)} outputs, NumPy gives {len(want)}"
    kw = {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    for k, (g, w) in enumerate(zip(got, want)):
        where = f"output {k}: " if len(want) > 1 else ""
        if g.shape != w.shape and (strict or g.size != w.size):
            return f"{where}shape {g.shape}, NumPy gives {w.shape}"
        if strict and g.dtype != w.dtype:
            return f"{where}dtype {g.dtype}, NumPy gives {w.dtype}"
        gf, wf = g.reshape(w.shape).astype(np.float64), w.astype(np.float64)
        close = np.isclose(gf, wf, equal_nan=True, **kw)
        if not close.all():
            with np.errstate(all="ignore"):
                worst = float(np.nanmax(np.abs(gf - wf)))
            return (f"{where}{int(close.size - close.sum())} of {w.size} values differ "
                    f"(max abs diff {worst:.3g})")
    return None


# -------------------------------------------------------------------------------- timing

def describe_error(exc: BaseException) -> str:
    """One line: the exception type and message, plus where in aotsym/peer it came from."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(tb):
        if "/benchmarks/" not in frame.filename:
            where = f" [{frame.filename.rsplit('/', 2)[-2]}/{frame.filename.rsplit('/', 1)[-1]}" \
                    f":{frame.lineno}]"
            break
    text = f"{type(exc).__name__}: {msg}{where}"
    return text if len(text) < 300 else text[:297] + "..."


def _classify(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, Unavailable):
        return NOT_AVAILABLE, str(exc)
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("aotsym"):
        return NOT_AVAILABLE, f"not available in aotsym yet (no module {exc.name})"
    return ERROR, describe_error(exc)


def _one_sample(fn, number):
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        if gc_was:
            gc.enable()


def time_case(case: Case, settings, reference="numpy", in_child=None,
              timed=None) -> CaseResult:
    """Build, check and time every implementation of ``case`` (see the module docstring);
    the ``reference`` goes first: its first result is what the others are checked against.
    ``in_child(case_name, InChild) -> Result`` measures the ``InChild`` builders (without
    it they are "not available"); ``timed``: the implementations to time (default all; the
    others are only built and checked)."""
    results: dict[str, Result] = {}
    # The children first, after an idle gap: a child timed while this process's peers
    # (NumPy's OpenBLAS, XLA) still spin their threads after their own runs loses a core to
    # them -- the threads-unset child of W2.1 measured 44% slower than its one-thread child
    # after JAX had run here, and equal to it in a run with NumPy alone.
    for name, builder in case.builders.items():
        if isinstance(builder, InChild):
            if in_child is None:
                results[name] = Result(name, status=NOT_AVAILABLE)
            else:
                time.sleep(CHILD_GAP_S)
                results[name] = replace(in_child(case.name, builder), impl=name)
    want = None
    ran = False
    for name in sorted(case.builders, key=lambda k: k != reference):  # stable: order kept
        builder = case.builders[name]
        if isinstance(builder, InChild):
            continue
        res = results[name] = Result(name)
        if isinstance(builder, str):           # a reason it cannot run: "not installed"...
            res.status = builder
            continue
        # Each implementation after an idle gap, for the same reason as the children: one
        # started while the previous one's threads still spin (OpenBLAS's wait ~0.1 s after
        # a call) loses a core, and a runtime that decides on threads by timing its first
        # calls decides against them (W8.5's dgemv, timed right after NumPy's: 885 us
        # with the threads unset, 914 us with one)
        if ran:
            time.sleep(PEER_GAP_S)
        ran = True
        try:
            impl = builder()
            if not isinstance(impl, Impl):
                impl = Impl(impl)
            first = impl.run()
            value = snapshot(impl.fetch() if impl.fetch else first)
        except Exception as exc:  # a peer (or aotsym) failing is a result, not a crash
            res.status, res.error = _classify(exc)
            continue
        if case.check:
            if name == reference:
                want = value
                res.check = "ok"
            elif want is not None:
                res.check = compare(value, want, case.rtol, case.atol,
                                    strict=(name == "aotsym")) or "ok"
        if timed is not None and name not in timed:
            continue
        try:
            impl.run()                                   # second warm-up, then calibrate
            one = max(_one_sample(impl.run, 1), 1e-7)
        except Exception as exc:
            res.status, res.error = _classify(exc)
            continue
        res.number = max(1, math.ceil(settings.min_sample_s / one))
        try:
            _one_sample(impl.run, res.number)               # settle, then the samples
            res.samples = [_one_sample(impl.run, res.number) for _ in range(settings.repeats)]
            if case.check and case.stateless and res.check == "ok" and name != reference:
                last = impl.run()                            # still right after many calls?
                wrong = compare(snapshot(impl.fetch() if impl.fetch else last), want,
                                case.rtol, case.atol, strict=(name == "aotsym"))
                if wrong:
                    res.check = f"after {res.number * (settings.repeats + 1) + 3} calls: {wrong}"
        except Exception as exc:
            res.status, res.error = _classify(exc)
        del first, value, impl
        gc.collect()
    for name, res in results.items():
        if res.status == OK and res.samples:
            res.median = float(np.median(res.samples))
    return CaseResult(case.name, {k: results[k] for k in case.builders},
                      bytes=case.bytes, flops=case.flops, dtype=case.dtype, limit=case.limit)
