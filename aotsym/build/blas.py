"""Which BLAS a module links: OpenBLAS from the ``scipy-openblas64`` / ``scipy-openblas32``
packages, which exist to be built against.

Part of the build stage (emit_c -> **build** -> module.so).  ``aotsym.config.blas``: ``auto``
(openblas64, else openblas32, else none), ``openblas64``, ``openblas32`` or ``none``.  With
none, the runtime's products run plain C loops (correct, slow; a warning says so).

Where the library is found at run time: an in-process (cached) module gets an rpath to the
package's ``lib`` directory; a standalone module built by ``aotsym build`` gets the library
copied beside it and ``$ORIGIN`` as its rpath, the way auditwheel repairs a wheel, so it
loads wherever the directory is moved (see :mod:`aotsym.build.cli`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from dataclasses import dataclass

# package -> (symbol prefix, symbol suffix, C integer type)
PACKAGES = {
    "openblas64": ("scipy_openblas64", "scipy_", "64_", "int64_t"),
    "openblas32": ("scipy_openblas32", "scipy_", "", "int"),
}


@dataclass(frozen=True)
class Blas:
    name: str
    include_dir: str
    lib_dir: str
    library: str          # link name (-l)
    lib_file: str         # file name of the shared library
    prefix: str
    suffix: str
    int_type: str
    version: str

    @property
    def cflags(self) -> list:
        return ["-DAOT_BLAS=1", f"-DAOT_BLAS_PREFIX={self.prefix}",
                f"-DAOT_BLAS_SUFFIX={self.suffix}", f"-DAOT_BLAS_INT={self.int_type}"]

    def link_args(self, rpath) -> list:
        return [f"-L{self.lib_dir}", f"-l{self.library}"] + \
            [f"-Wl,-rpath,{p}" for p in rpath]


class _NoBlas:
    name = "none"
    cflags: list = []
    version = ""

    def link_args(self, rpath):
        return []


NO_BLAS = _NoBlas()
_warned = False


def find_blas(choice: str = "auto"):
    """The BLAS to link for ``choice`` (see the module docstring)."""
    global _warned
    if choice == "none":
        return NO_BLAS
    names = ["openblas64", "openblas32"] if choice == "auto" else [choice]
    for name in names:
        if name not in PACKAGES:
            raise ValueError(f"aotsym.config.blas: unknown BLAS {choice!r}; use auto, "
                             "openblas64, openblas32 or none")
        package, prefix, suffix, int_type = PACKAGES[name]
        try:
            mod = importlib.import_module(package)
        except ImportError:
            continue
        lib_dir = mod.get_lib_dir()
        return Blas(name, mod.get_include_dir(), lib_dir, mod.get_library(),
                    mod.get_library(fullname=True), prefix, suffix, int_type,
                    getattr(mod, "__version__", ""))
    if choice != "auto":
        raise ImportError(f"aotsym.config.blas={choice}: the package "
                          f"{PACKAGES[choice][0].replace('_', '-')} is not installed "
                          f"(pip install {PACKAGES[choice][0].replace('_', '-')})")
    if not _warned:
        _warned = True
        warnings.warn("aotsym: no BLAS found (pip install scipy-openblas64); dot products "
                      "run plain C loops, far slower than NumPy's", RuntimeWarning,
                      stacklevel=3)
    return NO_BLAS


def blas_fingerprint(choice: str = "auto") -> str:
    """What identifies the BLAS ``find_blas(choice)`` would pick, without importing it (for
    the build cache's graph key): each candidate package's location and modification time."""
    if choice == "none":
        return "none"
    out = []
    for name in ["openblas64", "openblas32"] if choice == "auto" else [choice]:
        if name not in PACKAGES:
            return f"unknown {choice!r}"
        spec = importlib.util.find_spec(PACKAGES[name][0])
        origin = spec.origin if spec is not None else None
        out.append((name, origin, os.stat(origin).st_mtime_ns if origin else None))
    return repr(out)


def library_path(blas: Blas) -> str:
    return os.path.join(blas.lib_dir, blas.lib_file)
