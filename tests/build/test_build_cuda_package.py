"""``aotsym build --target cuda``: a standalone package of the seed examples whose functions
run on an NVIDIA GPU, built here with nvcc (no GPU needed).

Two packages are built once for this file (nvcc is slow): the seed's logistic regression
(``examples/logreg_module.py``: products, so cuBLAS is put beside the extension) and
``examples/elementwise_module.py`` (no product: no cuBLAS).  Checked here: the package's
files (``readelf -d``: cuBLAS found through ``$ORIGIN``, cudart linked statically, no
libcuda needed to load), that it imports in a fresh interpreter that can import neither
aotsym nor find nvcc or a C compiler, its names, signatures and docstrings, that bad
arguments are rejected with Theano's messages (function, argument, the user's line) before
any CUDA call, and what a call does: on a machine without a usable GPU a RuntimeError that
says what is missing; on one with a GPU, the answers of NumPy and of the C target's module.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from aotsym.build import cuda_call
from aotsym.build.standalone import generated_globals
from test_build_cli import isolated_python as cli_isolated_python

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples")

pytestmark = pytest.mark.skipif(shutil.which("nvcc") is None,
                                reason="nvcc is not on PATH: CUDA packages are not built here")

DEVICE_MISSING = (r"(no NVIDIA driver|no CUDA device|the NVIDIA driver supports|"
                  r"the CUDA device .* compute capability)")


def _env(**flags):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    env.pop("AOTSYM_FLAGS", None)
    if flags:
        env["AOTSYM_FLAGS"] = ",".join(f"{k}={v}" for k, v in flags.items())
    return env


def aotsym_build(*args, **flags):
    return subprocess.run([sys.executable, "-m", "aotsym.cli", "build", *args],
                          capture_output=True, text=True, env=_env(**flags), timeout=900)


def _cublas_available() -> bool:
    from aotsym.build import cuda
    try:
        cuda.find_cublas(cuda.cuda_major("nvcc"))
    except (ImportError, cuda.NvccError):
        return False
    return True


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """dist/ holding the CUDA packages elementwise and (with cuBLAS) logreg; the CLI's
    output per package."""
    root = tmp_path_factory.mktemp("cuda_pkg")
    dist = root / "dist"
    cache = root / "cache"
    specs = ["elementwise_module.py"] + (["logreg_module.py"] if _cublas_available() else [])
    outputs = {}
    for spec in specs:
        proc = aotsym_build(os.path.join(EXAMPLES, spec), "-o", str(dist), "--target",
                            "cuda", "-v", cache_dir=str(cache))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outputs[spec.replace("_module.py", "")] = proc.stdout
    return root, dist, outputs


def _needs_logreg(outputs):
    if "logreg" not in outputs:
        pytest.skip("no cuBLAS wheel for nvcc's CUDA here (pip install nvidia-cublas)")


def _hardlink_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def isolated_python(tmp_path, dist, code):
    """test_build_cli's isolated run (only numpy and cffi importable, no compiler), with no
    nvcc either, cuBLAS's 600 MB hard-linked where the file system allows; the last line
    printed, as JSON."""
    out = cli_isolated_python(tmp_path, dist, code, tools=("cc", "gcc", "nvcc"),
                              copy=_hardlink_or_copy)
    return json.loads(out.strip().splitlines()[-1])


def _dynamic(so_path) -> str:
    proc = subprocess.run(["readelf", "-d", str(so_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _extension(pkg):
    (so,) = [n for n in os.listdir(pkg) if n.startswith("_aot") and n.endswith(".so")]
    return pkg / so


# ------------------------------------------------------------------ the build and its files


def test_the_cli_reports_a_cuda_build(built):
    _, _, outputs = built
    for out in outputs.values():
        assert "KB of CUDA" in out and "cudart static" in out, out
        assert "arch=compute_80,code=sm_80" in out and "arch=compute_90,code=compute_90" in out
    assert "cuBLAS: none" in outputs["elementwise"]


@pytest.mark.skipif(shutil.which("readelf") is None, reason="no readelf here")
def test_files_and_links_of_a_package_with_products(built):
    _, dist, outputs = built
    _needs_logreg(outputs)
    pkg = dist / "logreg"
    names = set(os.listdir(pkg))
    assert {"__init__.py", "__init__.pyi", "initial_state.npz", "libcublas.so.13",
            "libcublasLt.so.13"} <= names, names
    assert not {n for n in names if n.endswith((".cu", ".c", ".o"))}, names   # no source
    dyn = _dynamic(_extension(pkg))
    assert "[libcublas.so.13]" in dyn
    assert "[$ORIGIN]" in dyn and ("RUNPATH" in dyn or "RPATH" in dyn)
    assert "libcudart" not in dyn and "libcuda.so" not in dyn        # cudart static
    # cuBLAS finds cublasLt beside itself (its own rpath is $ORIGIN too)
    assert "[$ORIGIN]" in _dynamic(pkg / "libcublas.so.13")


@pytest.mark.skipif(shutil.which("readelf") is None, reason="no readelf here")
def test_files_and_links_of_a_package_without_products(built):
    _, dist, _ = built
    pkg = dist / "elementwise"
    names = set(os.listdir(pkg))
    assert {"__init__.py", "__init__.pyi", "initial_state.npz"} <= names
    assert not [n for n in names if n.startswith("lib")], names
    dyn = _dynamic(_extension(pkg))
    assert "cublas" not in dyn and "libcudart" not in dyn and "libcuda.so" not in dyn
    stub = (pkg / "__init__.pyi").read_text()
    assert "def apow(a: NDArray[np.float64] | Any, /) -> NDArray[np.float64]" in stub
    assert "total: SharedValue" in stub


# ------------------------------------------------------------------ where aotsym is not

CALLS = textwrap.dedent('''
    import inspect, json
    import numpy as np
    import elementwise as E
    out = {"meta": {k: E.__aotsym__[k] for k in ("target", "architectures", "blas", "flags")},
           "sig": {f: str(inspect.signature(getattr(E, f)))
                   for f in ("apow", "square_sum", "accumulate")},
           "doc": E.apow.__doc__, "module_doc": E.__doc__,
           "pickled_by_name": E.apow.__module__ == "elementwise"}
    try:
        E._fast.check_device()
        out["gpu"] = True
    except RuntimeError as exc:
        out["gpu"] = False
        out["device_error"] = str(exc)
    a = np.array([0.0, 1.0, 2.0, -1.5, np.nan, np.inf, -0.0])
    f32 = np.linspace(-2, 2, 9, dtype="float32")
    g32 = np.linspace(0, 3, 18, dtype="float32")[::2]            # strided
    calls = {"apow": lambda: E.apow(a),
             "square_sum": lambda: E.square_sum(f32, g32),
             "accumulate": lambda: (E.accumulate(np.array([0.0, 1.0])),
                                    E.accumulate(np.zeros(0)))}
    for name, call in calls.items():
        try:
            out[name] = np.asarray(call(), dtype="float64").tolist()
        except RuntimeError as exc:
            out[name] = "RuntimeError: " + str(exc)
    out["total"] = float(E.total.get_value())
    print(json.dumps(out))
''')


def test_the_package_imports_without_aotsym_or_nvcc_and_says_what_is_missing(built, tmp_path):
    _, dist, _ = built
    got = isolated_python(tmp_path, dist, CALLS)
    assert got["meta"]["target"] == "cuda" and got["meta"]["blas"] == "none"
    assert got["meta"]["architectures"] == ["sm_80", "sm_90", "compute_90"]
    assert "arch=compute_90,code=sm_90" in got["meta"]["flags"]
    assert got["sig"] == {"apow": "(a, /)", "square_sum": "(a, b, /)", "accumulate": "(a)"}
    assert got["doc"].startswith("apow(a: float64[?]) -> float64[?]")
    assert "The seed's first example" in got["doc"] and got["pickled_by_name"]
    assert "NVIDIA driver" in got["module_doc"] and "compute capability 8.0" in got["module_doc"]
    a = np.array([0.0, 1.0, 2.0, -1.5, np.nan, np.inf, -0.0])
    f32 = np.linspace(-2, 2, 9, dtype="float32")
    g32 = np.linspace(0, 3, 18, dtype="float32")[::2]
    if not got["gpu"]:
        import re
        assert re.search(DEVICE_MISSING, got["device_error"]), got["device_error"]
        for name in ("apow", "square_sum", "accumulate"):
            assert isinstance(got[name], str), got[name]
            assert re.match(rf"RuntimeError: cannot run the CUDA function {name}\(\): "
                            + DEVICE_MISSING, got[name]), got[name]
        assert got["total"] == 0.0          # a failed call updates nothing
        return
    np.testing.assert_array_equal(got["apow"], a + a ** 10)
    want = f32 ** 2 + g32 ** 2 + np.float32(2) * f32 * g32
    np.testing.assert_allclose(got["square_sum"], want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got["accumulate"], [1 + np.e, 1 + np.e], rtol=1e-12)
    assert got["total"] == pytest.approx(1 + np.e, rel=1e-12)


BAD = textwrap.dedent('''
    import json
    import numpy as np
    import elementwise as E
    made = []
    for call in E._fast._calls:       # any CUDA call made is recorded and refused
        def entry(*args, _name=call.name):
            made.append(_name)
            raise AssertionError("a CUDA call was made")
        call.entry = entry
    out = []
    for bad in (lambda: E.apow(np.ones((2, 2))),
                lambda: E.apow("text"),
                lambda: E.square_sum(np.ones(3), np.ones(3, "float32")),
                lambda: E.square_sum(np.ones(3, "float32")),
                lambda: E.accumulate(np.ones(3, dtype=complex)),
                lambda: E.accumulate(x=np.ones(3)),
                lambda: E.total.set_value(np.ones(2))):
        try:
            bad()
        except (TypeError, ValueError) as exc:
            out.append(type(exc).__name__ + " | " + str(exc).replace("\\n", " / "))
        else:
            out.append("no error")
    print(json.dumps({"errors": out, "cuda_calls": made, "total": float(E.total.get_value())}))
''')


def test_bad_arguments_are_rejected_before_any_cuda_call(built, tmp_path):
    _, dist, _ = built
    got = isolated_python(tmp_path, dist, BAD)
    assert got["cuda_calls"] == [] and got["total"] == 0.0
    errors = got["errors"]
    assert all(e.startswith("TypeError | ") for e in errors), errors
    spec = open(os.path.join(EXAMPLES, "elementwise_module.py")).read().splitlines()
    line = {name: next(k for k, s in enumerate(spec, 1) if f"def {name}(" in s) - 1
            for name in ("apow", "square_sum", "accumulate")}   # the @mod.export line
    assert "apow() argument 0 (a) declared at " in errors[0] and "ndim 2" in errors[0]
    assert f"elementwise_module.py:{line['apow']}" in errors[0], errors[0]
    assert "apow() argument 0 (a)" in errors[1] and "str" in errors[1]
    assert "square_sum() argument 0 (a) declared at " in errors[2]
    assert f"elementwise_module.py:{line['square_sum']}" in errors[2], errors[2]
    assert "float32" in errors[2]
    assert "square_sum" in errors[3] and "argument" in errors[3]
    assert "accumulate() argument 0 (a) declared at " in errors[4]
    assert "unexpected keyword" in errors[5]
    assert "elementwise.total" in errors[6]


LOGREG = textwrap.dedent('''
    import json, inspect
    import numpy as np
    import logreg
    rng = np.random.RandomState(1)
    X = rng.randn(40, 784)
    Y = (rng.rand(40) > 0.5).astype("float64")
    out = {"meta": {k: logreg.__aotsym__[k] for k in ("target", "blas")},
           "sig": str(inspect.signature(logreg.train)), "doc": logreg.train.__doc__}
    try:
        logreg._fast.check_device()
        out["gpu"] = True
    except RuntimeError as exc:
        out["gpu"] = False
    try:
        logreg.train(np.ones((3, 5)), np.ones(3, dtype=complex))
    except TypeError as exc:
        out["bad"] = str(exc)
    try:
        costs = [float(logreg.train(X, Y)[1].mean()) for _ in range(3)]
        out["costs"] = costs
        out["w"] = logreg.w.get_value().tolist()
        out["pred"] = logreg.predict(X).tolist()
    except RuntimeError as exc:
        out["error"] = str(exc)
    print(json.dumps(out))
''')


def test_the_seed_logistic_regression_package(built, tmp_path):
    _, dist, outputs = built
    _needs_logreg(outputs)
    assert "libcublas.so.13, libcublasLt.so.13 put beside the module" in outputs["logreg"]
    got = isolated_python(tmp_path, dist, LOGREG)
    assert got["meta"]["target"] == "cuda" and got["meta"]["blas"].startswith("cuBLAS ")
    assert got["sig"] == "(x, y)"
    assert "train(x: float64[?, ?], y: float64[?])" in got["doc"]
    assert "Updates the shared values w, b" in got["doc"]
    assert "train() argument 1 (y) declared at" in got["bad"], got["bad"]
    if not got["gpu"]:
        import re
        assert re.match(r"cannot run the CUDA function train\(\): " + DEVICE_MISSING,
                        got["error"]), got["error"]
        return
    # on a GPU: the C target's answers (the same spec compiled in-process)
    import runpy
    ns = runpy.run_path(os.path.join(EXAMPLES, "logreg_module.py"))
    train, predict = ns["mod"].function("train"), ns["mod"].function("predict")
    rng = np.random.RandomState(1)
    X = rng.randn(40, 784)
    Y = (rng.rand(40) > 0.5).astype("float64")
    costs = [float(train(X, Y)[1].mean()) for _ in range(3)]
    np.testing.assert_allclose(got["costs"], costs, rtol=1e-9)
    np.testing.assert_allclose(got["w"], ns["w"].get_value(), rtol=1e-9, atol=1e-12)
    assert got["pred"] == predict(X).tolist()


# ------------------------------------------------------------------ refusals (no nvcc build)


def test_no_nvcc_is_refused_before_any_work(tmp_path):
    proc = aotsym_build(os.path.join(EXAMPLES, "elementwise_module.py"), "-o",
                        str(tmp_path / "dist"), "--target", "cuda",
                        nvcc=str(tmp_path / "no-such-nvcc"), cache_dir=str(tmp_path / "c"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "nvcc" in proc.stderr and "was not found" in proc.stderr and "trace" not in \
        proc.stdout
    assert not (tmp_path / "dist").exists()


def test_a_cuda_profile_build_is_refused(tmp_path):
    proc = aotsym_build(os.path.join(EXAMPLES, "elementwise_module.py"), "-o",
                        str(tmp_path / "dist"), "--target", "cuda", "--profile",
                        cache_dir=str(tmp_path / "c"))
    assert proc.returncode == 1 and "profile builds of the CUDA target" in proc.stderr


def test_names_the_cuda_package_defines_are_reserved_for_it():
    cuda_names = generated_globals((cuda_call,))
    assert {"CudaEntries", "CudaCall"} <= cuda_names
    assert "CudaEntries" not in generated_globals()
