"""Profiled functions: ``aotsym.function(..., profile=True)``, ``mode="PROFILE_MODE"``, the
flag ``profile=True``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters -> build).  A
:class:`ProfiledFunction` is a :class:`~aotsym.frontend.function.Function` whose module is a
profile build (``BuildOptions.profile``: the counters of ``runtime/aotsym_profile.h``) and
whose calls are timed in Python as well, so the report splits a call's time into Python
(argument handling, state), the compiled entry, the run and the steps.  ``f.profile()``
returns the report (:mod:`aotsym.build.profiling`, a JSON-serializable dict),
``f.print_profile(file=None)`` prints it as Theano does, ``f.reset_profile()`` zeroes it.

With the flag ``profile`` set (``AOTSYM_FLAGS=profile=True``), every function is profiled
and, as in Theano, the profile of each one that ran is printed at interpreter exit.

A compiled module is shared by identical graphs within a process, so two profiled functions
of the same graph share its C counters (their Python-level times stay their own).
"""

from __future__ import annotations

import atexit
import sys
import time
import weakref

from aotsym.build import profiling
from aotsym.build.driver import profile_layouts
from aotsym.config import config
from aotsym.frontend.function import Function

_PROFILED: list = []   # weak references to every ProfiledFunction made


class ProfiledFunction(Function):
    """A compiled function with a profile (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._py_ns = 0
        self._py_calls = 0
        self._layouts = None
        _PROFILED.append(weakref.ref(self))

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter_ns()   # CLOCK_MONOTONIC, as the C counters
        try:
            return Function.__call__(self, *args, **kwargs)
        finally:
            self._py_ns += time.perf_counter_ns() - t0
            self._py_calls += 1

    @property
    def _loaded(self):
        return getattr(self._run, "module", None)   # None: run by the reference evaluator

    @property
    def profile(self):
        """``f.profile()``: the report; ``f.profile.summary(file=None)``: it printed, as
        Theano's ``f.profile.summary()`` does (:class:`Profile`)."""
        return Profile(self)

    def _report(self):
        """The report (:mod:`aotsym.build.profiling`), or None when the function is not
        compiled (FAST_COMPILE, DEBUG_MODE run the reference evaluator)."""
        loaded = self._loaded
        if loaded is None:
            return None
        if self._layouts is None:
            self._layouts = profile_layouts(loaded.specs[:1], loaded.emitted, loaded.seconds)
        (name,) = self._layouts
        return profiling.collect(
            loaded.fast, self._layouts, module=self.label,
            build={"mode": self.mode, "from_cache": loaded.from_cache},
            python={name: {"calls": self._py_calls, "seconds": self._py_ns * 1e-9}})

    def print_profile(self, file=None):
        """Print the report as Theano does (functions, Class, Ops, Apply, Memory, tips)."""
        report = self._report()
        if report is None:
            print(f"{self.label}: {self._py_calls} calls, {self._py_ns * 1e-9:.6f}s (mode "
                  f"{self.mode} runs the reference evaluator: no per-node profile)",
                  file=file or sys.stdout)
            return
        profiling.print_report(report, file)

    def reset_profile(self):
        """Zero the counters (the module's, shared by identical graphs, and this function's
        Python-level times)."""
        self._py_ns = self._py_calls = 0
        if self._loaded is not None:
            self._loaded.fast._profile_reset()

    def node_profile(self) -> dict:
        """``{id(node): step report}`` for the optimized graph's nodes (debugprint)."""
        report = self._report()
        loaded = self._loaded
        if report is None:
            return {}
        (f,) = report["functions"].values()
        nodes = loaded.nodes[0]
        return {id(nodes[s["number"]]): s for s in f["steps"]}


class Profile:
    """A profiled function's profile: called, the report (a dict); ``summary(file=None)``
    prints it (Theano's ``f.profile.summary()``)."""

    def __init__(self, function):
        self.function = function

    def __call__(self):
        return self.function._report()

    def summary(self, file=None, **_theano_options):
        self.function.print_profile(file)


def wants_profile(profile, mode_name) -> bool:
    """Whether ``aotsym.function`` makes a ProfiledFunction."""
    return bool(profile) or mode_name == "PROFILE_MODE" or bool(config.profile)


def _print_at_exit():
    if not config.profile:
        return
    for ref in _PROFILED:
        f = ref()
        if f is None or not f._py_calls:
            continue
        try:
            f.print_profile(sys.stderr)
        except Exception as exc:   # never fail the interpreter's exit
            print(f"aotsym: the profile of {f.label} could not be printed: {exc}",
                  file=sys.stderr)


atexit.register(_print_at_exit)
