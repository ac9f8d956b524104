"""``python -m benchmarks``: run the workloads, print them, write JSON / RESULTS.md / the chart.

Profiles:

* ``--smoke``: tiny sizes, aotsym and NumPy only, a few seconds — what CI runs, to check that
  the runner works and that every aotsym result equals NumPy's (never timings);
* ``--quick`` (the default): the real sizes, few repeats, peers' compile times capped low —
  about five minutes on a quiet 2-core machine (two of them the instruction counts and
  the one-thread children, which ``--no-callgrind`` and ``--no-one-thread`` leave out);
* ``--full``: more repeats, and the 100,000-node build.

Beside the times (quick and full; ``--no-one-thread``, ``--no-callgrind`` leave them out):

* ``aotsym-1t``: aotsym with ``AOTSYM_NUM_THREADS=1``, in child processes (W1, W2, W3, W8)
  beside children with the threads unset (unset, one thread, one thread, unset; each side
  the faster of its two), so unset can be compared with one thread in the same run; the
  report flags a case where unset is more than 5% slower;
* the instructions per call of aotsym on the small cases (``count_calls``), counted under
  ``valgrind --tool=callgrind`` in a child process (``benchmarks.child``): a figure that does
  not move with whatever else the machine is doing.

``--load`` keeps one other core busy (a spinning process) for the whole run, and the report
says so: the thread pools' behaviour on a machine that is not idle.

``--check`` exits non-zero when an aotsym result differs from NumPy's or aotsym fails on a
workload it claims to support ("not available in aotsym yet" is not a failure).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import gc
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

from benchmarks import child, machine, report
from benchmarks.core import ERROR, time_case
from benchmarks.peers import LABELS, PEERS, aotsym_backend, missing, pytensor_blas
from benchmarks.workloads import WORKLOADS


@dataclass(frozen=True)
class Settings:
    profile: str
    repeats: int                 # samples per implementation
    min_sample_s: float          # a sample is as many calls as fill this time
    build_timeout_s: float       # cap on one compile measured by W7 (a child process)
    chain_sizes: tuple           # W7: aotsym's chain lengths
    peer_chain_sizes: tuple      # W7: the peers' chain lengths
    peers: tuple = field(default=tuple(PEERS))
    one_thread: bool = True      # time aotsym-1t (a child process per case) beside aotsym
    callgrind: bool = True       # count aotsym's instructions per call on the small cases


PROFILES = {
    "smoke": Settings("smoke", repeats=2, min_sample_s=0.0, build_timeout_s=120,
                      chain_sizes=(50,), peer_chain_sizes=(), peers=("numpy",),
                      one_thread=False, callgrind=False),
    "quick": Settings("quick", repeats=5, min_sample_s=0.02, build_timeout_s=30,
                      chain_sizes=(1000, 10000), peer_chain_sizes=(1000,)),
    "full": Settings("full", repeats=15, min_sample_s=0.1, build_timeout_s=120,
                     chain_sizes=(1000, 10000, 100000), peer_chain_sizes=(1000,)),
}


class Context:
    """What a workload sees: the settings, the enabled implementations, the references,
    and (set by the runner) the workload being run."""

    def __init__(self, settings: Settings, log, enabled=None):
        self.settings = settings
        self.enabled = set(enabled) if enabled is not None else {
            "aotsym", "aotsym-profile", "numpy", *settings.peers,
            *(["aotsym-1t"] if settings.one_thread else [])}
        self.refs: dict = {}
        self.log = log
        self.workload = None

    @property
    def smoke(self) -> bool:
        return self.settings.profile == "smoke"

    def size(self, real, smoke):
        return smoke if self.smoke else real

    @staticmethod
    def rng():
        return np.random.default_rng(20240601)

    def time(self, case):
        wid = self.workload.ID if self.workload is not None else None
        in_child = None if wid is None else functools.partial(
            child.measure, wid, settings=self.settings)
        result = time_case(case, self.settings, in_child=in_child)
        mine = result.results.get("aotsym")
        if (self.settings.callgrind and case.count_calls and wid is not None
                and mine is not None and mine.median is not None):
            counted = child.count(wid, case.name, case.count_calls, self.settings)
            if "instructions" in counted:
                mine.extra.update(instructions=counted["instructions"],
                                  counted_calls=counted["calls"])
            else:
                mine.extra["instructions_error"] = counted.get("error", "?")
        self.log(report.console_case(result, self.refs))
        return result


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    prof = p.add_mutually_exclusive_group()
    prof.add_argument("--quick", dest="profile", action="store_const", const="quick",
                      help="real sizes, few repeats (default; ~3 minutes on 2 cores)")
    prof.add_argument("--full", dest="profile", action="store_const", const="full",
                      help="more repeats and the 100k-node build")
    prof.add_argument("--smoke", dest="profile", action="store_const", const="smoke",
                      help="tiny sizes, aotsym + NumPy only: checks, not timings (CI)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="workloads to run, by id or name (W1 or elemwise); repeatable or "
                        "comma-separated; W8 (the references) always runs")
    p.add_argument("--peers", metavar="LIST",
                   help="comma-separated peers to compare with (default: all installed): "
                        + ", ".join(PEERS))
    p.add_argument("--json", metavar="PATH", help="write every result as JSON")
    p.add_argument("--markdown", nargs="?", const=report.DEFAULT_MARKDOWN, metavar="PATH",
                   help="write the results table (default benchmarks/RESULTS.md) and the "
                        "chart of ratios beside it (results.png)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if an aotsym result differs from NumPy's or aotsym fails")
    p.add_argument("--one-thread", action=argparse.BooleanOptionalAction, default=None,
                   help="time aotsym-1t (AOTSYM_NUM_THREADS=1, in a child process) beside "
                        "aotsym on W1, W2, W3, W8 (default: on, but off with --smoke)")
    p.add_argument("--callgrind", action=argparse.BooleanOptionalAction, default=None,
                   help="count aotsym's instructions per call on the small cases under "
                        "valgrind --tool=callgrind (default: on, but off with --smoke)")
    p.add_argument("--load", action="store_true",
                   help="keep one other core busy with a spinning process for the whole run")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.set_defaults(profile="quick")
    return p.parse_args(argv)


def select(only):
    names = [n.strip().lower() for item in only for n in item.split(",") if n.strip()]
    if not names:
        return list(WORKLOADS)
    chosen = []
    for n in names:
        hits = [w for w in WORKLOADS if n in (w.ID.lower(), w.NAME.lower())]
        if not hits:
            raise SystemExit(f"--only: no workload {n!r}; workloads: "
                             + ", ".join(f"{w.ID} ({w.NAME})" for w in WORKLOADS))
        chosen += [w for w in hits if w not in chosen]
    refs = [w for w in WORKLOADS if w.ID == "W8"]
    return refs + [w for w in WORKLOADS if w in chosen and w not in refs]


def run_workload(mod, ctx):
    if hasattr(mod, "run"):
        return mod.run(ctx)
    return [ctx.time(case) for case in mod.cases(ctx)]


def problems(workloads) -> list[str]:
    """aotsym results (threads unset, and =1) that differ from NumPy's, and aotsym failures
    (not missing features)."""
    out = []
    for w in workloads:
        for case in w["cases"]:
            for impl in ("aotsym", "aotsym-1t"):
                r = case["results"].get(impl)
                if r is None:
                    continue
                if r.get("check") not in (None, "ok"):
                    out.append(f"{w['id']} {case['name']}: {impl} MISMATCH with NumPy: "
                               f"{r['check']}")
                if r["status"] == ERROR:
                    out.append(f"{w['id']} {case['name']}: {impl} FAILED: {r.get('error')}")
    return out


def aotsym_engine() -> str:
    """What runs an ``aotsym.function`` in FAST_RUN today: the evaluator or compiled code."""
    try:
        import aotsym
        from aotsym import tensor as T
        x = T.vector("x", dtype="float64")
        return aotsym_backend(aotsym.function([x], x * 2 + 1))
    except Exception as exc:
        return f"(aotsym.function fails: {type(exc).__name__})"


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for w in WORKLOADS:
            print(f"{w.ID:4} {w.NAME:12} {w.TITLE}")
        return 0
    settings = PROFILES[args.profile]
    if args.peers is not None:
        peers = tuple(p.strip() for p in args.peers.split(",") if p.strip())
        unknown = [p for p in peers if p not in PEERS]
        if unknown:
            raise SystemExit(f"--peers: unknown {', '.join(unknown)}; peers: {', '.join(PEERS)}")
        settings = replace(settings, peers=peers)
    for flag in ("one_thread", "callgrind"):
        if getattr(args, flag) is not None:
            settings = replace(settings, **{flag: getattr(args, flag)})

    def log(line):
        print(line, flush=True)

    load = machine.Load() if args.load else None
    try:
        return _run(args, settings, log, load)
    finally:
        if load is not None:
            load.stop()


def _run(args, settings, log, load) -> int:
    ctx = Context(settings, log)
    started = time.perf_counter()
    info = machine.describe(load)
    log(f"aotsym benchmarks, profile {settings.profile}: {info['cpu']}, {info['cores']} cores, "
        f"{info['memory_gib']} GiB" + (f"; load: {report.load_text(info['load'])}" if load else ""))
    if settings.callgrind:
        helper, why = child.callgrind_helper()
        if helper is None:
            log(f"  (no instruction counts: {why})")
            settings = replace(settings, callgrind=False)
            ctx.settings = settings
    done = []
    exclude = load.cpu_seconds if load else None
    whole = machine.CpuMonitor(exclude)
    for mod in select(args.only):
        log(f"\n== {mod.ID} {mod.TITLE}")
        ctx.workload = mod
        t0, monitor = time.perf_counter(), machine.CpuMonitor(exclude)
        cases = run_workload(mod, ctx)
        others = monitor.others()
        if others is not None and others > report.DISTURBED:
            log(f"  !! other processes used {others:.0%} of the CPUs during {mod.ID}: its "
                "timings are disturbed")
        done.append({"id": mod.ID, "name": mod.NAME, "title": mod.TITLE,
                     "about": (mod.__doc__ or "").strip(),
                     "notes": list(getattr(mod, "NOTES", [])),
                     "elapsed_s": round(time.perf_counter() - t0, 2),
                     "other_cpu": others,
                     "cases": [c.as_dict() for c in cases]})
        gc.collect()
    data = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "profile": settings.profile, "repeats": settings.repeats,
        "min_sample_s": settings.min_sample_s,
        "one_thread": settings.one_thread, "callgrind": settings.callgrind,
        "impls": [k for k in LABELS if k in ctx.enabled],
        "machine": info, "versions": machine.versions(),
        "pytensor_blas": pytensor_blas() if "pytensor-c" in ctx.enabled
        and not missing("pytensor-c") else None,
        "aotsym_engine": aotsym_engine(),
        "references": ctx.refs, "workloads": done,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "other_cpu": whole.others(),
    }
    data["problems"] = problems(done)
    data["threads_slower"] = report.threads_slower(data)
    log(f"\nfinished in {data['elapsed_s']} s")
    for line in data["threads_slower"]:
        log("!! " + line)
    if data["problems"]:
        log("\n" + "!" * 78)
        for line in data["problems"]:
            log("!! " + line)
        log("!" * 78)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=1)
        log(f"wrote {args.json}")
    if args.markdown:
        for path in report.write_markdown(data, args.markdown):
            log(f"wrote {path}")
    return 1 if args.check and data["problems"] else 0
