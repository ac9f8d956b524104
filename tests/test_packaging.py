"""Packaging: a non-editable wheel carries the templates and the C runtime; the CLI starts.

The wheel is built from a copy of the source tree in a temporary directory (so the checkout
gets no build/ directory); without build isolation when the installed setuptools can build
wheels by itself (no network needed), else with pip's isolated build environment.
"""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

import aotsym
from aotsym import cli
from aotsym.config import FLAGS, THEANO_ONLY
from aotsym.resources import runtime_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {".git", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis", ".venv",
             "venv", "_runtime"}


def _ignore(directory, names):
    return [n for n in names if n in SKIP_DIRS or n.endswith((".egg-info", ".so", ".o"))]


def source_files(top, suffixes):
    found = set()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if name.endswith(suffixes):
                found.add(os.path.relpath(os.path.join(dirpath, name), top))
    return found


def can_build_without_isolation() -> bool:
    """setuptools >= 70.1 has bdist_wheel built in; older ones need the wheel package."""
    try:
        import setuptools
        version = tuple(int(p) for p in setuptools.__version__.split(".")[:2])
    except (ImportError, ValueError):
        return False
    if version >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return version >= (64, 0)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)
    out = tmp / "dist"
    isolation = ["--no-build-isolation", "--no-index"] if can_build_without_isolation() else []
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q", "-w", str(out),
         str(src)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("aotsym-*.whl")
    return path


def test_wheel_contains_templates_runtime_and_entry_point(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {os.path.join("aotsym", p) for p in
                 source_files(os.path.join(ROOT, "aotsym"), (".j2",))}
    assert templates <= names, sorted(templates - names)
    runtime = {f"aotsym/_runtime/{p}" for p in
               source_files(os.path.join(ROOT, "runtime"), (".c", ".h", ".cu", ".cuh"))}
    assert runtime and runtime <= names, sorted(runtime - names)
    assert "aotsym/__init__.py" in names and "aotsym/cli.py" in names
    assert not any(n.startswith(("tests/", "examples/", "benchmarks/", "runtime/"))
                   for n in names)
    entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points[0]).decode()
    assert "aotsym = aotsym.cli:main" in text


def test_installed_wheel_finds_its_runtime(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                           "-q", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = "import aotsym; print(aotsym.__file__); print(aotsym.runtime_dir())"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AOTSYM_FLAGS")}
    env["PYTHONPATH"] = str(target)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    module_file, rdir = proc.stdout.split()
    assert module_file.startswith(str(target))
    assert rdir == os.path.join(str(target), "aotsym", "_runtime")
    assert sorted(os.listdir(rdir)) == sorted(
        source_files(os.path.join(ROOT, "runtime"), (".c", ".h", ".cu", ".cuh")))


def test_runtime_dir_in_a_checkout():
    assert os.path.samefile(runtime_dir(), os.path.join(ROOT, "runtime"))
    assert aotsym.runtime_dir is runtime_dir


# ---------------------------------------------------------------------------- the CLI


def run_cli(*args):
    env = {k: v for k, v in os.environ.items() if k != "AOTSYM_FLAGS"}
    return subprocess.run([sys.executable, "-m", "aotsym.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_cli_version_and_help():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"aotsym {aotsym.__version__}"
    proc = run_cli("--help")
    assert proc.returncode == 0
    for word in ("build", "config", "--version"):
        assert word in proc.stdout
    proc = run_cli()
    assert proc.returncode == 0 and "usage: aotsym" in proc.stdout


def test_cli_config_prints_flags_and_sources(capsys):
    with aotsym.config.change_flags(floatX="float32"):
        assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.strip().split("\n")}
    assert set(lines) == set(FLAGS) - THEANO_ONLY      # Theano's accepted flags: with -v
    assert "'float32'" in lines["floatX"] and lines["floatX"].endswith("# code")
    assert lines["mode"].endswith("# default")
    cli.main(["config", "--verbose"])
    out = capsys.readouterr().out
    assert "AOTSYM_FLAGS" in out and "scan.allow_gc" in out


def test_cli_bad_flags_are_reported():
    env = dict(os.environ, AOTSYM_FLAGS="floatX=float16")
    proc = subprocess.run([sys.executable, "-m", "aotsym.cli", "config"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    assert proc.returncode != 0 and "float64, float32" in proc.stderr


def test_cli_build_is_registered():
    parser = cli.make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "build" in sub.choices
    from aotsym.build import cli as build_cli
    assert sub.choices["build"].get_default("handler") is build_cli.run
