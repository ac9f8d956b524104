"""The setuptools build hook (aotsym/build/setuptools_hook.py) on examples/packaged_model/.

From a temporary copy of the example: ``pip wheel`` gives a platform wheel holding the built
module (extension, stub, initial state, BLAS library) and not the spec; installed into a fresh
virtual environment that has numpy and cffi but neither aotsym nor setuptools, run with
``python -I`` and no compiler on PATH, the library imports, trains, predicts, saves and loads
its state, and its functions pickle by reference.  The same from the sdist (which carries the
spec); an editable install builds into the source tree and picks up a changed spec when
reinstalled; ``setup(aotsym_modules=...)`` works as ``[tool.aotsym] modules`` does; a broken
spec stops the build with one paragraph naming the user's file and line.

Every build runs ``pip --no-build-isolation`` (see tests/build/hook_project.py: isolation
would need the network to install setuptools and aotsym into a fresh build environment).
"""

import os
import re
import subprocess
import tarfile
import zipfile

import pytest

from hook_project import (EXAMPLE, SPEC, USE_MODEL, build_sdist, build_wheel, copy_example,
                          install, make_venv, platform_tag, python_tag, require_hook,
                          run_isolated)
from aotsym.build.compiler import ext_suffix


@pytest.fixture(scope="module", autouse=True)
def hook_installed():
    require_hook()


def test_wheel_is_a_platform_wheel_holding_the_built_module(packaged_wheel):
    wheel, _ = packaged_wheel
    tag = f"{python_tag()}-{python_tag()}-{platform_tag()}"
    assert os.path.basename(wheel) == f"packaged_model-0.1.0-{tag}.whl"
    zf = zipfile.ZipFile(wheel)
    names = set(zf.namelist())
    pkg = "packaged_model/logreg/"
    for name in ("__init__.py", "__init__.pyi", "initial_state.npz", "_aot" + ext_suffix()):
        assert pkg + name in names, sorted(names)
    assert any(re.fullmatch(pkg + r"lib\w*blas\w*\.so(\.\d+)*", n) for n in names), names
    assert "packaged_model/__init__.py" in names
    assert SPEC not in names                   # the spec imports aotsym: not a runtime file
    assert not any(n.endswith(".c") for n in names)
    info = "packaged_model-0.1.0.dist-info/"
    wheel_meta = zf.read(info + "WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel_meta and f"Tag: {tag}" in wheel_meta
    requires = sorted(line.split(":", 1)[1].strip() for line in
                      zf.read(info + "METADATA").decode().splitlines()
                      if line.startswith("Requires-Dist:"))
    assert requires == ["cffi", "numpy"]
    stub = zf.read(pkg + "__init__.pyi").decode()
    assert "def predict(" in stub and "def train(" in stub


def test_wheel_runs_without_aotsym_setuptools_or_compiler(packaged_wheel, tmp_path):
    wheel, _ = packaged_wheel
    python = make_venv(tmp_path / "venv")
    install(python, wheel)
    out = run_isolated(python, USE_MODEL, tmp_path)
    module = out.split("module ", 1)[1].split()[0]
    assert module.startswith(str(tmp_path / "venv")), out   # the installed copy, not a build dir


def test_sdist_carries_the_spec_and_builds(tmp_path):
    project = copy_example(tmp_path / "project")
    sdist = build_sdist(project, tmp_path / "sdist")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {SPEC, "pyproject.toml", "README.md", "packaged_model/__init__.py"} <= names, names
    assert not any("logreg/" in n or n.endswith(".so") for n in names), names
    wheel = build_wheel(sdist, tmp_path / "dist")
    assert zipfile.ZipFile(wheel).getinfo("packaged_model/logreg/_aot" + ext_suffix())
    python = make_venv(tmp_path / "venv")
    install(python, wheel)
    run_isolated(python, USE_MODEL, tmp_path)


ADDED_EXPORT = '''

@mod.export(T.vector("v"))
def double(v):
    """Added after the first install."""
    return v * 2
'''


def test_editable_install_builds_in_place_and_rebuilds_a_changed_spec(tmp_path):
    project = copy_example(tmp_path / "project")
    python = make_venv(tmp_path / "venv", system_site_packages=True)   # aotsym builds
    install(python, "--no-build-isolation", "-e", project)
    pkg = os.path.join(project, "packaged_model", "logreg")
    assert os.path.isfile(os.path.join(pkg, "_aot" + ext_suffix())), os.listdir(project)
    code = ("import packaged_model as pm; print(pm.logreg.__file__); "
            "print(hasattr(pm.logreg, 'double'))")
    out = run_python(python, code, tmp_path)
    assert out.split() == [os.path.join(pkg, "__init__.py"), "False"]

    with open(os.path.join(project, SPEC), "a") as fh:
        fh.write(ADDED_EXPORT)
    install(python, "--no-build-isolation", "-e", project)
    code = ("import pickle; import packaged_model as pm; f = pm.logreg.double; "
            "print(f([1.0, 2.5]).tolist()); print(pickle.loads(pickle.dumps(f)) is f)")
    assert run_python(python, code, tmp_path).split() == ["[2.0,", "5.0]", "True"]


def run_python(python, code, tmp_path) -> str:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=str(cwd),
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_setup_py_spelling(tmp_path):
    project = copy_example(tmp_path / "project")
    toml = os.path.join(project, "pyproject.toml")
    with open(toml) as fh:
        text = fh.read()
    assert 'modules = ["packaged_model/model.py:mod"]' in text
    with open(toml, "w") as fh:
        fh.write(text.replace('modules = ["packaged_model/model.py:mod"]', ""))
    with open(os.path.join(project, "setup.py"), "w") as fh:
        fh.write('from setuptools import setup\n\n'
                 'setup(aotsym_modules=["packaged_model/model.py:mod"])\n')
    wheel = build_wheel(project, tmp_path / "dist")
    assert os.path.basename(wheel).endswith(f"-{platform_tag()}.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "packaged_model/logreg/_aot" + ext_suffix() in names
    assert "packaged_model/logreg/initial_state.npz" in names


BROKEN = [
    # (what replaces the line, what the message must say)
    ("    if T.sum(x) > 0:\n        x = -x\n    return probability(x) > 0.5\n",
     ["ifelse", "switch"]),
    ("    return probabilty(x) > 0.5\n", ["NameError", "probabilty"]),
]


@pytest.mark.parametrize("replacement, words", BROKEN, ids=["symbolic-if", "name-error"])
def test_broken_spec_stops_the_build_with_one_readable_paragraph(tmp_path, replacement, words):
    project = copy_example(tmp_path / "project")
    spec = os.path.join(project, SPEC)
    with open(spec) as fh:
        lines = fh.readlines()
    (k,) = [k for k, line in enumerate(lines) if line == "    return probability(x) > 0.5\n"]
    lines[k:k + 1] = [replacement]
    with open(spec, "w") as fh:
        fh.writelines(lines)
    bad_line = k + 1            # the first line of the replacement is where it fails
    proc = build_wheel(project, tmp_path / "dist", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    paragraph = message_paragraph(out)
    assert f"{SPEC}:{bad_line}" in paragraph, out
    assert "packaged_model/model.py:mod" in paragraph
    for word in words:
        assert word in paragraph, paragraph


def message_paragraph(out: str) -> str:
    """The hook's message in pip's output: from 'error: aotsym could not build' to the next
    blank line or pip's end marker, joined."""
    lines = [line.strip() for line in out.splitlines()]
    start = next(k for k, line in enumerate(lines) if "aotsym could not build" in line)
    text = []
    for line in lines[start:]:
        if not line or line.startswith("[end of output]"):
            break
        text.append(line)
    assert len(text) <= 12, text
    return " ".join(text)


def test_example_uses_the_fixed_spelling():
    import tomllib
    with open(os.path.join(EXAMPLE, "pyproject.toml"), "rb") as fh:
        data = tomllib.load(fh)
    assert "aotsym" in data["build-system"]["requires"]
    assert data["tool"]["aotsym"]["modules"] == [f"{SPEC}:mod"]
    assert sorted(data["project"]["dependencies"]) == ["cffi", "numpy"]
