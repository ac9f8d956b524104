"""The implementations compared: aotsym and its peers, which of them are installed, and one
Theano-style API bound to either aotsym or PyTensor so a workload writes its graph once.

Peers are optional (``pip install -e .[bench]``): a missing one is reported as
"not installed", never an error.  JAX is forced onto the CPU and into 64-bit mode (otherwise
it silently computes float64 workloads in float32).
"""

from __future__ import annotations

import functools
import importlib
import os

from benchmarks.core import NOT_AVAILABLE, NOT_INSTALLED, InChild, Unavailable

# key -> label, in the order of the tables
LABELS = {
    "aotsym": "aotsym",
    "aotsym-1t": "aotsym 1 thread",
    "aotsym-profile": "aotsym --profile",
    "numpy": "NumPy",
    "numexpr": "numexpr",
    "pytensor": "PyTensor",
    "pytensor-c": "PyTensor C",
    "jax": "JAX jit",
    "torch": "PyTorch",
}
PEERS = [k for k in LABELS if not k.startswith("aotsym")]
# implementations measured in a child process, with their environment
IN_CHILD = {"aotsym-1t": InChild("aotsym", (("AOTSYM_NUM_THREADS", "1"),), paired=True)}
DESCRIPTIONS = {
    "aotsym-1t": "aotsym with AOTSYM_NUM_THREADS=1, run in a child process (the runtime reads "
                 "the variable when its thread pool starts), beside children with the threads "
                 "left unset (unset, one thread, one thread, unset; each side the faster of "
                 "its two; unset's time in parentheses); its ratio is its time over unset's "
                 "(below 1: one thread was faster)",
    "aotsym-profile": "aotsym's profile build of the same graph (aotsym.function(..., "
                      "profile=True)): its ratio is the instrumentation's overhead",
    "numpy": "NumPy, eager (hand-written gradients where a workload needs them)",
    "numexpr": "numexpr.evaluate (elementwise workloads only)",
    "pytensor": "PyTensor, default mode (its Numba backend)",
    "pytensor-c": "PyTensor, mode \"CVM\" (its C backend)",
    "jax": "jax.jit on the CPU, 64-bit enabled, inputs already device arrays, outputs waited "
           "for with block_until_ready",
    "torch": "PyTorch eager on the CPU, autograd (the ConvNet workload only)",
}


@functools.lru_cache(maxsize=None)
def missing(key: str) -> str | None:
    """None if ``key`` can run here, else why not ("not installed", ...)."""
    try:
        if key == "jax":
            jax_module()
        elif key in ("pytensor", "pytensor-c"):
            pt = importlib.import_module("pytensor")
            if key == "pytensor-c" and not pt.config.cxx:
                return f"{NOT_AVAILABLE} (PyTensor found no C compiler)"
        else:
            importlib.import_module(key)
    except ImportError:
        return NOT_INSTALLED
    return None


@functools.lru_cache(maxsize=None)
def jax_module():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def jax_arrays(*arrays):
    """The inputs placed on JAX's device once, outside the timing, as JAX users hold their
    data (a NumPy argument costs jit a copy on every call)."""
    jax = jax_module()
    return [jax.device_put(a).block_until_ready() for a in arrays]


def versions() -> dict:
    """Installed versions, from package metadata (importing JAX or PyTensor costs seconds)."""
    from importlib import metadata
    out = {}
    for dist in ("aotsym", "numpy", "numexpr", "pytensor", "jax", "jaxlib", "numba", "cffi",
                 "matplotlib", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = NOT_INSTALLED
    return out


def pytensor_blas() -> str:
    """The BLAS PyTensor's C backend links (set it with PYTENSOR_FLAGS=blas__ldflags=...)."""
    import warnings
    with warnings.catch_warnings():  # its "could not link to a BLAS" warning: said here
        warnings.simplefilter("ignore")
        import pytensor
        flags = pytensor.config.blas__ldflags
    return flags or "none linked (its C backend falls back to NumPy's C-API gemm)"


def builders(keys, build, enabled) -> dict:
    """``{key: () -> build(key)}`` for the enabled implementations among ``keys``; a key
    whose peer is missing maps to the reason instead, so the report can say so, and a key
    measured in a child process (``aotsym-1t``) to its ``InChild``."""
    out = {}
    for key in keys:
        if key in IN_CHILD and key in enabled:
            out[key] = IN_CHILD[key]
        elif key in enabled:
            reason = missing(key) if not key.startswith("aotsym") else None
            out[key] = reason or functools.partial(build, key)
    return out


# ----------------------------------------------------------------- one Theano-style API

class TheanoAPI:
    """``T``, ``function``, ``shared``, ``grad``, ``scan``, ``ifelse`` of aotsym (key
    ``aotsym``, or ``aotsym-profile``: its profile builds) or PyTensor."""

    def __init__(self, key: str):
        self.key = key
        if key.startswith("aotsym"):
            import aotsym
            self.T = aotsym.tensor
            self.function = functools.partial(aotsym.function, profile=True) \
                if key == "aotsym-profile" else aotsym.function
            self.shared = aotsym.shared
            self.grad = aotsym.grad
        else:
            import pytensor
            import pytensor.tensor as pt
            mode = "CVM" if key == "pytensor-c" else None
            self.T = pt
            self.function = functools.partial(pytensor.function, mode=mode)
            self.shared = pytensor.shared
            self.grad = pytensor.grad

    @property
    def scan(self):
        if self.key.startswith("aotsym"):
            return aotsym_feature("scan")
        import pytensor
        return pytensor.scan

    @property
    def ifelse(self):
        if self.key.startswith("aotsym"):
            return aotsym_feature("ifelse")
        from pytensor.ifelse import ifelse
        return ifelse


def aotsym_feature(name: str):
    """``aotsym.<name>``, or ``Unavailable`` while aotsym does not have it yet."""
    import aotsym
    try:
        return getattr(aotsym, name)
    except (AttributeError, ImportError):
        raise Unavailable(f"aotsym.{name} is not available in aotsym yet") from None


def aotsym_backend(f) -> str:
    """Which engine runs an ``aotsym.function``: the NumPy reference evaluator or a module."""
    run = getattr(f, "_run", None)
    if run is None:
        return "?"
    if getattr(run, "module", None) is not None:
        return "compiled C module"
    return "reference evaluator (NumPy)"
