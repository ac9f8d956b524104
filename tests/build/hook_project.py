"""Helpers for the setuptools hook's tests: a copy of examples/packaged_model/, pip without
the network, fresh virtual environments that have numpy and cffi but no aotsym.

Builds run ``pip wheel --no-build-isolation``: with build isolation pip would install
setuptools and aotsym into a fresh build environment from an index, which needs the network
(aotsym is not on the index).  Without it, the build runs in this interpreter, where aotsym
is installed (``pip install -e .``) and setuptools finds the hook through aotsym's entry points.
Modules are compiled with ``-O1`` (``AOTSYM_FLAGS=cflags=-O1``) to keep the suite fast.
"""

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(ROOT, "examples", "packaged_model")
SPEC = "packaged_model/model.py"


def platform_tag() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def python_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def require_hook() -> None:
    """Skip unless setuptools can find the hook: aotsym installed (``pip install -e .``), its
    entry points seen from outside the checkout (where the builds run), and ``wheel`` for
    setuptools < 70.1."""
    code = textwrap.dedent("""
        import importlib.metadata as m
        groups = {"distutils.setup_keywords": "aotsym_modules",
                  "setuptools.finalize_distribution_options": "aotsym"}
        for group, name in groups.items():
            if name not in {ep.name for ep in m.entry_points(group=group)}:
                print(f"aotsym's entry point {group}:{name} is not installed")
        import setuptools
        if tuple(int(p) for p in setuptools.__version__.split(".")[:2]) < (70, 1):
            try:
                import wheel
            except ImportError:
                print("setuptools < 70.1 needs the wheel package to build wheels")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=HERE, env=build_env(), timeout=60)
    if proc.returncode or proc.stdout.strip():
        pytest.skip("the setuptools hook cannot run here (pip install -e '.[test]'): "
                    + (proc.stdout + proc.stderr).strip())


def copy_example(dst) -> str:
    """A copy of examples/packaged_model/ without anything an earlier build left in it."""
    dst = str(dst)
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns(
        "build", "dist", "*.egg-info", "__pycache__", "logreg", ".logreg*"))
    return dst


def build_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env["AOTSYM_FLAGS"] = "cflags=-O1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def pip(*args, python=sys.executable, cwd=None, check=True):
    proc = subprocess.run([python, "-m", "pip", *args], capture_output=True, text=True,
                          cwd=cwd, env=build_env(), timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    return proc


def build_wheel(project, outdir, check=True):
    """``pip wheel --no-build-isolation --no-deps`` of ``project`` (a directory or an sdist)."""
    proc = pip("wheel", "--no-build-isolation", "--no-deps", "--no-index", "-w", str(outdir),
               str(project), check=check)
    if not check:
        return proc
    (wheel,) = glob.glob(os.path.join(str(outdir), "packaged_model-*.whl"))
    return wheel


def build_sdist(project, outdir) -> str:
    """The sdist through setuptools' PEP 517 hook, as ``python -m build --sdist`` calls it."""
    code = ("import sys; from setuptools import build_meta; "
            "print(build_meta.build_sdist(sys.argv[1]))")
    proc = subprocess.run([sys.executable, "-c", code, str(outdir)], capture_output=True,
                          text=True, cwd=str(project), env=build_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return os.path.join(str(outdir), proc.stdout.strip().splitlines()[-1])


def make_venv(path, system_site_packages=False) -> str:
    """A fresh virtual environment; its python.  Without system site-packages it gets numpy
    and cffi (links to this interpreter's), and nothing else: no aotsym, no setuptools."""
    args = [sys.executable, "-m", "venv", "--without-pip", str(path)]
    if system_site_packages:
        args.insert(4, "--system-site-packages")
    subprocess.run(args, check=True, timeout=120)
    python = os.path.join(str(path), "bin", "python")
    if not system_site_packages:
        site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                               "['purelib'])"], capture_output=True, text=True,
                              check=True).stdout.strip()
        import cffi
        import numpy
        for mod in (numpy, cffi):
            pkg = os.path.dirname(mod.__file__)
            os.symlink(pkg, os.path.join(site, os.path.basename(pkg)))
        parent = os.path.dirname(os.path.dirname(numpy.__file__))
        for extra in glob.glob(os.path.join(parent, "numpy.libs")) + \
                glob.glob(os.path.join(parent, "_cffi_backend*")):
            os.symlink(extra, os.path.join(site, os.path.basename(extra)))
    return python


def install(python, *args):
    """pip (this interpreter's) installing into the environment of ``python``."""
    return pip("--python", python, "install", "--no-deps", "--no-index", *args)


NO_AOTSYM = """\
import shutil, sys
assert shutil.which("cc") is None and shutil.which("gcc") is None, "a compiler is on PATH"
try:
    import aotsym
except ImportError:
    pass
else:
    raise SystemExit(f"aotsym is importable here: {aotsym.__file__}")
try:
    import setuptools
except ImportError:
    pass
else:
    raise SystemExit("setuptools is importable here")
"""


def run_isolated(python, code, tmp_path) -> str:
    """Run ``code`` with ``python -I`` (no PYTHONPATH, no user site), no compiler on PATH,
    from a directory outside the project; its stdout."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    no_bin = tmp_path / "no-bin"
    no_bin.mkdir(exist_ok=True)
    proc = subprocess.run([python, "-I", "-c", NO_AOTSYM + code], capture_output=True,
                          text=True, cwd=str(cwd), timeout=300,
                          env={"PATH": str(no_bin), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


USE_MODEL = """
import pickle
import numpy as np
import packaged_model as pm
x, y = pm.make_data()
before = pm.accuracy(x, y)
loss = pm.train(x, y, steps=500)
after = pm.accuracy(x, y)
assert after > 0.95 and after > before, (before, after)
assert pm.predict(x).shape == (400,) and set(np.unique(pm.predict(x))) <= {0, 1}
assert np.allclose(pm.log_loss(x, y).mean(), loss, rtol=0.5)
pm.save("ckpt.npz")
w = pm.logreg.w.get_value()
pm.logreg.w.set_value(np.zeros_like(w))
pm.load("ckpt.npz")
assert np.array_equal(pm.logreg.w.get_value(), w)
for f in (pm.logreg.predict, pm.logreg.train, pm.logreg.cross_entropy, pm.predict):
    blob = pickle.dumps(f)
    assert pickle.loads(blob) is f and len(blob) < 120, (f, blob)
    assert b"packaged_model" in blob, blob
print("module", pm.logreg.__file__)
print("accuracy", before, after)
"""
