#!/usr/bin/env bash
# benchmarks/gpu_check.sh: the CUDA target's checks and GPU benchmarks, on a bare GPU machine.
#
# Part of benchmarks/ (issue 12).  One prepared script for the device machine (Python 3.12
# with PyTorch, CuPy, JAX, nvcc and the nvidia-cublas wheel; no cffi; nothing reachable):
#
#   here, once:   bash benchmarks/gpu_check.sh --prepare      (cffi + pycparser wheels for
#                                                              cp312 into .whl/, ignored by git)
#   there:        bash benchmarks/gpu_check.sh                 (carry .whl; results in $OUT)
#   anywhere:     bash benchmarks/gpu_check.sh --check         (prerequisites only; exits 0
#                                                              without a GPU, after saying so)
#                 bash benchmarks/gpu_check.sh --dry-run       (--check, then the parts the
#                                                              full run would run; runs none)
#                 bash benchmarks/gpu_check.sh --help
#
# What the full run does, within 8 minutes (each part under its own timeout, cut to what is
# left of the budget; a failing part is recorded and the next one runs):
#   0. installs the carried wheels into /tmp/aotsym_site; aotsym runs from this working tree;
#   1. the CUDA tests (tests/emit_cuda, and tests/build/test_build_cuda_package.py: the
#      standalone CUDA packages against NumPy and the C target) -> $OUT/tests.log;
#   2. the seed examples: in-process with device=cuda (what the CUDA target cannot translate
#      yet is reported as its build-time error), then built with `aotsym build --target
#      cuda` into /tmp/aotsym_dist and used from a process that imports no aotsym
#      (examples/use_logreg.py; elementwise_module's package against NumPy)
#      -> $OUT/examples.log;
#   3. compute-sanitizer memcheck on a representative module (elementwise, reductions,
#      views, cuBLAS gemm/gemv/dot) -> $OUT/memcheck.log;
#   4. the GPU benchmarks -> $OUT/gpu_bench.json and $OUT/gpu_bench.log: fused elementwise
#      a**2+b**2+2ab on 1e8 float32 against the device-to-device copy bandwidth, CuPy's and
#      torch's eager evaluation of the same expression; the logistic-regression and MLP
#      steps against torch eager; a tiny function's per-call time against one kernel launch.
set -uo pipefail

MODE="${1:-run}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/gpu_check_out}"
WHEELS="$ROOT/.whl"
SITE=/tmp/aotsym_site
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
cd "$ROOT" || exit 1

say() { echo "[gpu_check] $*"; }

usage() {
    echo "usage: $0 [--check | --dry-run | --prepare | --help]"
    echo "  (no argument)  the full run on a GPU machine, within $BUDGET s; results in \$OUT"
    echo "  --check        the prerequisites only (exits 0 without a GPU, after saying so)"
    echo "  --dry-run      --check, then the parts the full run would run, with their time caps"
    echo "  --prepare      download the cffi/pycparser wheels for cp312 into .whl/ (here)"
}

BUDGET=470          # seconds for the parts of the full run (8 minutes, less the machine's start)
START=$(date +%s)
# the timeout of a part: its own cap, cut to what is left of the budget (20 s at least)
cap() {
    local left=$(( BUDGET - ($(date +%s) - START) ))
    [ "$left" -gt 20 ] || left=20
    [ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}

PARTS=("1/4 CUDA tests (cap 240 s)"
       "2/4 seed examples: device=cuda in-process (cap 60 s each), aotsym build --target cuda (cap 150 s each), the packages used without aotsym (cap 60 s each)"
       "3/4 compute-sanitizer memcheck (cap 120 s)"
       "4/4 GPU benchmarks (what is left of the budget)")

prepare() {
    mkdir -p "$WHEELS"
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$WHEELS" cffi pycparser
}

gpu_present() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
}

check() {
    local ok=1
    "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
        || { say "python3 >= 3.11 is needed"; ok=0; }
    command -v nvcc >/dev/null 2>&1 || { say "nvcc is not on PATH"; ok=0; }
    if ! "$PY" -c 'import cffi' 2>/dev/null && ! ls "$WHEELS"/cffi-*.whl >/dev/null 2>&1; then
        say "cffi is neither importable nor carried in .whl/ (run --prepare here)"; ok=0
    fi
    for mod in numpy jinja2 pytest; do
        "$PY" -c "import $mod" 2>/dev/null || { say "python3 lacks $mod"; ok=0; }
    done
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PY" - <<'EOF' || ok=0
from aotsym.build import cuda
try:
    c = cuda.find_cublas(cuda.cuda_major("nvcc"))
    print(f"[gpu_check] cuBLAS: {c.distribution} {c.version} in {c.lib_dir}")
except Exception as exc:      # ImportError / NvccError: say it, fail the check
    print(f"[gpu_check] cuBLAS: {exc}")
    raise SystemExit(1)
EOF
    command -v compute-sanitizer >/dev/null 2>&1 || say "compute-sanitizer absent (memcheck skipped)"
    [ "$ok" = 1 ] || { say "prerequisites missing"; return 1; }
    say "prerequisites present"
    return 0
}

case "$MODE" in
    --prepare) prepare; exit $? ;;
    --check|--dry-run)
        check || exit 1
        if [ "$MODE" = --dry-run ]; then
            say "the full run would run, within $BUDGET s:"
            for part in "${PARTS[@]}"; do say "    $part"; done
        fi
        gpu_present || { say "no GPU here (nvidia-smi absent or sees none): nothing run"; exit 0; }
        say "a GPU is here: run without --check for the checks and benchmarks"
        exit 0 ;;
    -h|--help) usage; exit 0 ;;
    run) ;;
    *) usage >&2; exit 2 ;;
esac

if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$WHEELS"/*.whl > "$OUT/install.log" 2>&1 || say "wheel install failed"
fi
export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export AOTSYM_FLAGS="cache_dir=/tmp/aotsym_cache"
export PYTHONUNBUFFERED=1
check > "$OUT/check.log" 2>&1 || { cat "$OUT/check.log"; exit 1; }
gpu_present || { say "no GPU here"; exit 1; }
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1

say "${PARTS[0]}"
timeout "$(cap 240)" "$PY" -m pytest tests/emit_cuda tests/build/test_build_cuda_package.py \
    -q -p no:cacheprovider -rs > "$OUT/tests.log" 2>&1
say "    rc $? ($(tail -1 "$OUT/tests.log"))"

say "${PARTS[1]}"
DIST=/tmp/aotsym_dist      # (not under $OUT: cuBLAS beside the logreg package is 600 MB)
{
    for ex in "examples/simple.py" "examples/logistic_regression.py --steps 20" \
              "examples/scan_polynomial.py"; do
        echo "=== device=cuda: $ex"
        AOTSYM_FLAGS="$AOTSYM_FLAGS,device=cuda" timeout "$(cap 60)" "$PY" $ex 2>&1 | tail -15
        echo "rc ${PIPESTATUS[0]}"
    done
    for spec in examples/logreg_module.py examples/elementwise_module.py; do
        echo "=== aotsym build --target cuda $spec"
        timeout "$(cap 150)" "$PY" -m aotsym.cli build "$spec" -o "$DIST" --target cuda 2>&1
        echo "rc $?"
    done
    echo "=== the logreg package, without aotsym: examples/use_logreg.py"
    # (the PYTHONPATH holds aotsym's tree: use_logreg.py checks it never imports it)
    timeout "$(cap 60)" "$PY" examples/use_logreg.py "$DIST" 2>&1 | tail -5
    echo "rc ${PIPESTATUS[0]}"
    echo "=== the elementwise package against NumPy, without aotsym"
    timeout "$(cap 60)" "$PY" - "$DIST" <<'PYEOF' 2>&1
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import elementwise as E
E._fast.check_device()
a = np.array([0.0, 1.0, 2.0, -1.5, np.nan, np.inf, -0.0])
np.testing.assert_array_equal(E.apow(a), a + a ** 10)
f = np.random.RandomState(0).rand(10 ** 6).astype("float32")
g = f[::-1].copy()
np.testing.assert_allclose(E.square_sum(f, g), f ** 2 + g ** 2 + np.float32(2) * f * g,
                           rtol=1e-6)
assert abs(float(E.accumulate(np.zeros(3))) - 3.0) < 1e-12
assert "aotsym" not in sys.modules
print("elementwise package: answers of NumPy on", E.__aotsym__["target"])
PYEOF
    echo "rc $?"
} > "$OUT/examples.log" 2>&1
say "    $(grep -c '^rc 0' "$OUT/examples.log") of 7 ran"

BENCH=/tmp/aotsym_gpu_bench.py
cat > "$BENCH" <<'EOF'
"""GPU benchmarks of the CUDA target (written by benchmarks/gpu_check.sh)."""
import json, os, sys, time
import numpy as np
import aotsym
from aotsym import tensor as T

aotsym.config.device = "cuda"
results = {}


def cuda_fn(inputs, outputs):
    return aotsym.function(inputs, outputs)


def timed(fn, reps):
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


if len(sys.argv) > 1 and sys.argv[1] == "--sanitize":
    # a representative module: fused elementwise, reductions, views, cuBLAS
    x, y, v = T.matrix("x"), T.matrix("y"), T.vector("v")
    f = cuda_fn([x, y, v], [T.exp(x) * v + 1, x.sum(axis=0), x.max(), x.T[1:],
                            T.dot(x, y), T.dot(x, v), T.dot(v, v)])
    rng = np.random.RandomState(0)
    out = f(rng.randn(5, 7), rng.randn(7, 3), rng.randn(7))
    print("sanitized call ok", [o.shape for o in out])
    raise SystemExit(0)

import torch
dev = torch.device("cuda")
props = torch.cuda.get_device_properties(0)
results["gpu"] = props.name


def cuda_time(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(reps):
        fn()
    e.record()
    torch.cuda.synchronize()
    return s.elapsed_time(e) / reps / 1e3


n = 10 ** 8
a_t = torch.rand(n, device=dev)
b_t = torch.rand(n, device=dev)
dst = torch.empty_like(a_t)
copy_s = cuda_time(lambda: dst.copy_(a_t))
results["d2d_copy_GBps"] = 2 * 4 * n / copy_s / 1e9
torch_s = cuda_time(lambda: a_t ** 2 + b_t ** 2 + 2 * a_t * b_t)
results["torch_eager_s"] = torch_s
try:
    import cupy as cp
    a_c, b_c = cp.asarray(a_t), cp.asarray(b_t)
    results["cupy_s"] = cuda_time(lambda: a_c ** 2 + b_c ** 2 + 2 * a_c * b_c)
except Exception as exc:
    results["cupy_s"] = repr(exc)
a, b = T.fvector("a"), T.fvector("b")
f = cuda_fn([a, b], [a ** 2 + b ** 2 + 2 * a * b])
a_h, b_h = a_t.cpu().numpy(), b_t.cpu().numpy()
results["aotsym_end_to_end_s"] = timed(lambda: f(a_h, b_h), 3)
want = (a_h.astype(np.float64) ** 2 + b_h ** 2 + 2.0 * a_h * b_h)[:1000]
results["aotsym_max_rel_err_first_1000"] = float(np.max(np.abs(f(a_h, b_h)[0][:1000] - want)
                                                       / np.abs(want)))
results["fused_note"] = ("aotsym's CUDA functions take NumPy arrays: its time includes two "
                         "host->device copies and one device->host copy (no device arrays yet)")

# logistic regression step (the seed's, 400 x 784) and MLP 784-500-10 forward, float32
for name, build in (("logreg_step", "logreg"), ("mlp_forward", "mlp")):
    try:
        rng = np.random.RandomState(0)
        if build == "logreg":
            X, y = T.fmatrix("X"), T.fvector("y")
            w, bb = T.fvector("w"), T.fscalar("bb")
            p = 1 / (1 + T.exp(-T.dot(X, w) - bb))
            cost = (-y * T.log(p) - (1 - y) * T.log(1 - p)).mean() + 0.01 * (w ** 2).sum()
            gw, gb = aotsym.grad(cost, [w, bb])
            fn = cuda_fn([X, y, w, bb], [w - 0.1 * gw, bb - 0.1 * gb])
            args = [rng.randn(400, 784).astype("f"), (rng.rand(400) > .5).astype("f"),
                    np.zeros(784, "f"), np.float32(0)]
            Xt, yt = torch.tensor(args[0], device=dev), torch.tensor(args[1], device=dev)
            wt = torch.zeros(784, device=dev, requires_grad=True)
            bt = torch.zeros((), device=dev, requires_grad=True)

            def torch_step():
                pt = torch.sigmoid(Xt @ wt + bt)
                c = torch.nn.functional.binary_cross_entropy(pt, yt) + 0.01 * (wt ** 2).sum()
                g1, g2 = torch.autograd.grad(c, [wt, bt])
                return wt - 0.1 * g1, bt - 0.1 * g2
        else:
            X, W1, W2 = T.fmatrix("X"), T.fmatrix("W1"), T.fmatrix("W2")
            fn = cuda_fn([X, W1, W2], [T.dot(T.tanh(T.dot(X, W1)), W2)])
            args = [rng.randn(400, 784).astype("f"), rng.randn(784, 500).astype("f") * .05,
                    rng.randn(500, 10).astype("f") * .05]
            Xt, W1t, W2t = (torch.tensor(v, device=dev) for v in args)

            def torch_step():
                return torch.tanh(Xt @ W1t) @ W2t
        results[f"{name}_aotsym_s"] = timed(lambda: fn(*args), 20)
        results[f"{name}_torch_s"] = cuda_time(torch_step)
    except Exception as exc:
        results[f"{name}_aotsym_s"] = f"not built: {type(exc).__name__}: {str(exc)[:300]}"

x = T.fvector("x")
tiny = cuda_fn([x], [x * 2 + 1])
xs = np.arange(10, dtype="f")
results["tiny_call_s"] = timed(lambda: tiny(xs), 2000)
one = torch.ones(10, device=dev)
results["one_launch_s"] = cuda_time(lambda: one.add_(0), 2000)
results["tiny_note"] = "tiny_call_s includes the host<->device copies of its argument/result"
print(json.dumps(results, indent=1))
json.dump(results, open(os.path.join(os.environ["OUT"], "gpu_bench.json"), "w"), indent=1)
EOF

say "${PARTS[2]}"
if command -v compute-sanitizer >/dev/null 2>&1; then
    timeout "$(cap 120)" compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 \
        "$PY" "$BENCH" --sanitize > "$OUT/memcheck.log" 2>&1
    say "    rc $? ($(grep -c 'ERROR SUMMARY: 0 errors' "$OUT/memcheck.log") clean summaries)"
else
    echo "compute-sanitizer not found" > "$OUT/memcheck.log"
fi

say "${PARTS[3]}"
OUT="$OUT" timeout "$(cap "$BUDGET")" "$PY" "$BENCH" > "$OUT/gpu_bench.log" 2>&1
say "    rc $?; total $(( $(date +%s) - START )) s"
cat "$OUT/gpu_bench.log" | tail -30
exit 0
