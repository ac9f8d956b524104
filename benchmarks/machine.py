"""The machine and software a run measured: CPU, cores, memory, package versions, the
thread settings, and a deliberate load (``--load``) if there was one."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

from benchmarks.peers import versions as _peer_versions


THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS", "XLA_FLAGS", "AOTSYM_FLAGS",
              "AOTSYM_NUM_THREADS")


def _cpuinfo() -> dict:
    info = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if ":" in line:
                    k, v = (s.strip() for s in line.split(":", 1))
                    info.setdefault(k, v)
    except OSError:
        pass
    return info


def _memory_gib():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def describe(load: "Load | None" = None) -> dict:
    cpu = _cpuinfo()
    flags = cpu.get("flags", "").split()
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "simd": simd,
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "compiler": _first_line(["cc", "--version"]),
        "thread_env": {k: v for k, v in os.environ.items() if k in THREAD_ENV},
        "load": load.describe() if load is not None else None,
    }


class Load:
    """``--load``: a process spinning on one core (the last this process may use) from
    construction to ``stop()``, so the benchmarks run with that core busy, as on a machine
    where something else is running.  Its CPU time is read from /proc, so the runner can
    leave it out of "other processes" (it is announced, not a disturbance)."""

    SPIN = "while True:\n    pass\n"

    def __init__(self):
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.core = cores[-1] if cores else None
        self.proc = subprocess.Popen([sys.executable, "-c", self.SPIN],
                                     stdin=subprocess.DEVNULL)
        if self.core is not None:
            try:
                os.sched_setaffinity(self.proc.pid, {self.core})
            except OSError:
                self.core = None

    def describe(self) -> dict:
        return {"what": "a Python busy loop", "processes": 1, "core": self.core,
                "pid": self.proc.pid}

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the spinning process has used so far (0 off Linux)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class CpuMonitor:
    """How much of the machine's CPU *other* processes used since ``start()``.

    Benchmarks share the cores with whatever else runs; a run during which others took a
    real share is disturbed, and the report says so instead of hiding it.  ``exclude``: a
    function giving CPU seconds not to count as others' (the ``--load`` process).  Linux only
    (/proc/stat); elsewhere ``others()`` is None.
    """

    def __init__(self, exclude=None):
        self.exclude = exclude or (lambda: 0.0)
        self.start()

    def _read(self):
        try:
            with open("/proc/stat") as fh:
                vals = [int(v) for v in fh.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        busy = (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        t = os.times()
        return time.perf_counter(), busy, t.user + t.system + t.children_user + \
            t.children_system + self.exclude()

    def start(self):
        self._t0 = self._read()

    def others(self):
        """Fraction (0..1) of all cores used by other processes since ``start()``."""
        now = self._read()
        if now is None or self._t0 is None or now[0] - self._t0[0] <= 0:
            return None
        wall = now[0] - self._t0[0]
        other = (now[1] - self._t0[1]) - (now[2] - self._t0[2])
        return max(0.0, other) / (wall * (os.cpu_count() or 1))


def versions() -> dict:
    out = _peer_versions()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = _first_line(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    if commit and _first_line(["git", "-C", root, "status", "--porcelain", "--untracked-files=no",
                               "--", "aotsym", "runtime"]):
        commit += " + uncommitted changes to aotsym/"
    out["aotsym commit"] = commit
    try:
        import numpy as np
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        out["numpy BLAS"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        pass
    return out


def _first_line(cmd) -> str | None:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (res.stdout or res.stderr).strip().splitlines()[0] if res.returncode == 0 \
            else None
    except (OSError, subprocess.SubprocessError, IndexError):
        return None
