"""The CUDA spelling of the generator (runtime/aotsym_cuda_random.cuh) compiles with nvcc for
the device (``-arch=sm_80 -c``, no GPU needed), and its ``__host__ __device__`` functions,
built by nvcc into a host program and run, give bit for bit the NumPy reference's samples
(aotsym/graph/philox.py through the draw ops) — the same stream the C runtime gives."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from aotsym.graph import philox
from aotsym.graph.basic import constant
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops import random as R
from aotsym.graph.types import TensorType
from aotsym.resources import runtime_dir

RUNTIME = runtime_dir()
HEADER = os.path.join(RUNTIME, "aotsym_cuda_random.cuh")
needs_nvcc = pytest.mark.skipif(shutil.which("nvcc") is None,
                                reason="nvcc is not on PATH: the CUDA header is not compiled")

STATE = np.array([0x12345678, 0x9ABCDEF0, 0xFFFFFFF0, 7], dtype=np.uint32)  # counter carries
N = 40

HOST_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "aotsym_cuda_random.cuh"

static unsigned long long bits64(double x) { unsigned long long b; memcpy(&b, &x, 8); return b; }
static unsigned bits32(float x) { unsigned b; memcpy(&b, &x, 4); return b; }

int main(void)
{
    const uint32_t state[4] = {0x12345678u, 0x9ABCDEF0u, 0xFFFFFFF0u, 7u};
    aot_cu_rng g = aot_cu_rng_load(state);
    for (int i = 0; i < N_; i++) printf("%llx ", bits64(aot_cu_rng_uniform_f64(g, i, -1.0, 2.0)));
    printf("\n");
    for (int i = 0; i < N_; i++) printf("%x ", bits32(aot_cu_rng_uniform_f32(g, i, -1.0f, 2.0f)));
    printf("\n");
    for (int i = 0; i < N_; i++) printf("%llx ", bits64(aot_cu_rng_normal_f64(g, i, 0.5, 2.0)));
    printf("\n");
    for (int i = 0; i < N_; i++) printf("%x ", bits32(aot_cu_rng_normal_f32(g, i, 0.5f, 2.0f)));
    printf("\n");
    for (int i = 0; i < N_; i++) printf("%lld ", (long long)aot_cu_rng_binomial(g, i, 7, 0.3));
    printf("\n");
    for (int i = 0; i < N_; i++)
        printf("%lld ", (long long)aot_cu_rng_below(aot_cu_rng_uniform_at(g, i), 13));
    printf("\n");
    int64_t row[6];
    for (int r = 0; r < 3; r++) {
        aot_cu_rng_permutation_row(g, r, 6, row);
        for (int j = 0; j < 6; j++) printf("%lld ", (long long)row[j]);
    }
    printf("\n");
    const double p[3] = {0.2, 0.3, 0.5};
    double cdf[3];
    int64_t counts[3];
    for (int r = 0; r < 4; r++) {
        aot_cu_rng_multinomial_row(g, r, 9, p, 3, cdf, counts);
        for (int j = 0; j < 3; j++) printf("%lld ", (long long)counts[j]);
    }
    printf("\n");
    uint32_t next[4];
    aot_cu_rng_advance(state, 17, next);
    for (int j = 0; j < 4; j++) printf("%u ", next[j]);
    printf("\n");
    return 0;
}
"""


def draw(op, size, *params):
    st = TensorType("uint32", (False,))("s")
    ins = [constant(np.int64(d)) for d in size] + [constant(np.asarray(p)) for p in params]
    return evaluate(op(st, *ins), {st: STATE})[1]


def reference_lines():
    f64, f32 = np.float64, np.float32
    return [
        " ".join(f"{b:x}" for b in draw(R.UniformDraw("float64", 1), (N,), f64(-1), f64(2))
                 .view(np.uint64)),
        " ".join(f"{b:x}" for b in draw(R.UniformDraw("float32", 1), (N,), f32(-1), f32(2))
                 .view(np.uint32)),
        " ".join(f"{b:x}" for b in draw(R.NormalDraw("float64", 1), (N,), f64(0.5), f64(2))
                 .view(np.uint64)),
        " ".join(f"{b:x}" for b in draw(R.NormalDraw("float32", 1), (N,), f32(0.5), f32(2))
                 .view(np.uint32)),
        " ".join(map(str, draw(R.BinomialDraw("int64", 1), (N,), np.int64(7), f64(0.3)))),
        " ".join(map(str, draw(R.ChoiceDraw("int64", 1), (N,), np.int64(13)))),
        " ".join(map(str, draw(R.PermutationDraw("int64", 1), (3,), np.int64(6)).ravel())),
        " ".join(map(str, draw(R.MultinomialDraw("int64", 1), (4,), np.int64(9),
                               np.array([0.2, 0.3, 0.5])).ravel())),
        " ".join(map(str, philox.advance(STATE, 17))),
    ]


def test_header_declares_every_distribution():
    text = open(HEADER).read()
    for name in ("uniform_f64", "uniform_f32", "normal_f64", "normal_f32", "binomial",
                 "choice", "permutation", "multinomial", "advance"):
        assert f"aot_cu_rng_{name}" in text, name
    # every floating operation of a transform is an explicitly rounded intrinsic on device
    for intrinsic in ("__dmul_rn", "__dadd_rn", "__ddiv_rn", "__dsqrt_rn", "__fmul_rn"):
        assert intrinsic in text


@needs_nvcc
def test_cuda_random_header_compiles_for_the_device(tmp_path):
    cu = tmp_path / "random_kernels.cu"
    cu.write_text('#include "aotsym_cuda_random.cuh"\n')
    cmd = ["nvcc", "-arch=sm_80", "-c", "--Werror", "all-warnings", "-I", RUNTIME, str(cu),
           "-o", str(tmp_path / "random_kernels.o")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_nvcc
def test_cuda_host_functions_match_the_reference_bit_for_bit(tmp_path):
    cu = tmp_path / "random_host.cu"
    cu.write_text(HOST_PROGRAM.replace("N_", str(N)))
    exe = tmp_path / "random_host"
    proc = subprocess.run(["nvcc", "-I", RUNTIME, str(cu), "-o", str(exe)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    got = [line.strip() for line in run.stdout.strip().splitlines()]
    want = reference_lines()
    names = ["uniform f64", "uniform f32", "normal f64", "normal f32", "binomial", "choice",
             "permutation", "multinomial", "advance"]
    for name, g, w in zip(names, got, want):
        assert g == w, name
    assert len(got) == len(want)
