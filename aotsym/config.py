"""``aotsym.config``: the flags every stage reads (floatX, mode, cache directory, compiler).

Beside the pipeline: stages receive values from here as arguments; only the frontend reads it
directly.  Precedence (later wins): built-in defaults < ``~/.aotsymrc`` < ``[tool.aotsym]`` in
the current project's ``pyproject.toml`` < ``AOTSYM_FLAGS="k=v,..."`` < assignment in code
(``aotsym.config.floatX = "float32"``).
"""

from __future__ import annotations

import os

MODES = ("FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "PROFILE_MODE")


def _cache_default():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aotsym")


# flag: (default, validator/converter, help)
FLAGS = {
    "floatX": ("float64", ("float64", "float32"), "default float dtype of T.matrix() etc."),
    "mode": ("FAST_RUN", MODES, "default mode of aotsym.function"),
    "cache_dir": (None, str, "where built modules are cached"),
    "cxx": ("cc", str, "the C compiler"),
    "cflags": ("-O3 -march=native", str, "extra C compiler flags"),
    "nvcc": ("nvcc", str, "the CUDA compiler"),
    "blas": ("auto", str, "BLAS to link: auto, openblas32, openblas64 or none"),
    "compute_test_value": ("off", ("off", "ignore", "warn", "raise"),
                           "evaluate test values while building graphs (Theano's flag)"),
    "openmp": (True, bool, "multithread large elementwise loops"),
}


def _convert(name, value):
    default, check, _ = FLAGS[name]
    if isinstance(check, tuple):
        if value not in check:
            raise ValueError(f"aotsym.config.{name}: {value!r} is not one of {', '.join(check)}")
        return value
    if check is bool:
        if isinstance(value, str):
            low = value.lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(f"aotsym.config.{name}: {value!r} is not a boolean")
            return low in ("1", "true", "yes", "on")
        return bool(value)
    return check(value)


class Config:
    def __init__(self):
        object.__setattr__(self, "_values", {k: v[0] for k, v in FLAGS.items()})
        object.__setattr__(self, "_sources", {k: "default" for k in FLAGS})

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name not in values:
            raise AttributeError(f"aotsym.config has no flag {name!r}; flags: "
                                 + ", ".join(sorted(FLAGS)))
        if name == "cache_dir" and values[name] is None:
            return _cache_default()
        return values[name]

    def __setattr__(self, name, value):
        self.set(name, value, "code")

    def set(self, name, value, source):
        if name not in FLAGS:
            raise ValueError(f"unknown aotsym flag {name!r} (from {source}); valid flags: "
                             + ", ".join(sorted(FLAGS)))
        self._values[name] = _convert(name, value)
        self._sources[name] = source

    def source(self, name) -> str:
        return self._sources[name]

    def load(self, environ=None, cwd=None, home=None):
        """Read ~/.aotsymrc, pyproject.toml's [tool.aotsym], then AOTSYM_FLAGS."""
        environ = os.environ if environ is None else environ
        home = home or os.path.expanduser("~")
        rc = os.path.join(home, ".aotsymrc")
        if os.path.isfile(rc):
            for name, value in _parse_rc(rc):
                self.set(name, value, rc)
        pyproject = _find_pyproject(cwd or os.getcwd())
        if pyproject:
            for name, value in _read_pyproject(pyproject).items():
                if name in ("modules",):  # the build hook's key, not a flag
                    continue
                self.set(name, value, f"{pyproject} [tool.aotsym]")
        for item in filter(None, environ.get("AOTSYM_FLAGS", "").split(",")):
            if "=" not in item:
                raise ValueError(f"AOTSYM_FLAGS: {item!r} is not of the form flag=value")
            name, value = item.split("=", 1)
            self.set(name.strip(), value.strip(), "AOTSYM_FLAGS")

    def __repr__(self):
        return "\n".join(f"{k} = {getattr(self, k)!r}  ({self._sources[k]})" for k in FLAGS)


def _parse_rc(path):
    section = None
    with open(path) as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("["):
                section = line.strip("[]").strip()
                continue
            if "=" in line and section in (None, "global", "aotsym"):
                name, value = line.split("=", 1)
                yield name.strip(), value.strip().strip('"')


def _find_pyproject(start):
    d = os.path.abspath(start)
    while True:
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _read_pyproject(path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        return {}
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return data.get("tool", {}).get("aotsym", {})


config = Config()
config.load()
