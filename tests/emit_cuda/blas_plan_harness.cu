// Host harness of tests/emit_cuda/test_cuda_blas.py: runtime/aotsym_cuda_blas.cuh's plans
// (which transposes, leading dimensions and increments cuBLAS gets) followed by a host
// reference of cuBLAS's column-major gemm / gemv / ger, on host memory (no GPU touched).
#define AOT_CU_BLAS_PLANS_ONLY 1
#include "aotsym_cuda_blas.cuh"

static aot_cu_array desc(double *data, int ndim, const int64_t *shape, const int64_t *strides)
{
    aot_cu_array a;
    memset(&a, 0, sizeof a);
    a.data = (char *)data;
    a.ndim = ndim;
    a.itemsize = 8;
    for (int d = 0; d < ndim; d++) {
        a.shape[d] = shape[d];
        a.strides[d] = strides[d];
    }
    return a;
}

static double at(const char *p, int64_t i) { return ((const double *)p)[i]; }

// out = x . y (out, x, y: 2-d); returns the plan's copy mask (0: computed)
extern "C" int gemm_ref(double *o, const int64_t *os, const int64_t *ost, double *x,
                        const int64_t *xs, const int64_t *xst, double *y, const int64_t *ys,
                        const int64_t *yst)
{
    aot_cu_array out = desc(o, 2, os, ost), a = desc(x, 2, xs, xst), b = desc(y, 2, ys, yst);
    aot_cu_gemm_plan p;
    int need = aot_cu_gemm_plan_of(&out, &a, &b, &p);
    if (need)
        return need;
    for (int64_t i = 0; i < p.m; i++)
        for (int64_t j = 0; j < p.n; j++) {
            double s = 0;
            for (int64_t l = 0; l < p.k; l++) {
                double av = p.transa == CUBLAS_OP_N ? at(p.A, i + l * p.lda) : at(p.A, l + i * p.lda);
                double bv = p.transb == CUBLAS_OP_N ? at(p.B, l + j * p.ldb) : at(p.B, j + l * p.ldb);
                s += av * bv;
            }
            ((double *)p.C)[i + j * p.ldc] = s;
        }
    return 0;
}

// out (1-d) = a (2-d) . x (1-d)
extern "C" int gemv_ref(double *o, const int64_t *os, const int64_t *ost, double *x,
                        const int64_t *xs, const int64_t *xst, double *y, const int64_t *ys,
                        const int64_t *yst)
{
    aot_cu_array out = desc(o, 1, os, ost), a = desc(x, 2, xs, xst), v = desc(y, 1, ys, yst);
    aot_cu_gemv_plan p;
    int need = aot_cu_gemv_plan_of(&out, &a, &v, &p);
    if (need)
        return need;
    int64_t rows = p.trans == CUBLAS_OP_N ? p.m : p.n, cols = p.trans == CUBLAS_OP_N ? p.n : p.m;
    for (int64_t i = 0; i < rows; i++) {
        double s = 0;
        for (int64_t j = 0; j < cols; j++) {
            double av = p.trans == CUBLAS_OP_N ? at(p.A, i + j * p.lda) : at(p.A, j + i * p.lda);
            s += av * at(p.x, j * p.incx);
        }
        ((double *)p.y)[i * p.incy] = s;
    }
    return 0;
}

// out (2-d) += x (1-d) y (1-d)^T
extern "C" int ger_ref(double *o, const int64_t *os, const int64_t *ost, double *x,
                       const int64_t *xs, const int64_t *xst, double *y, const int64_t *ys,
                       const int64_t *yst)
{
    aot_cu_array out = desc(o, 2, os, ost), a = desc(x, 1, xs, xst), b = desc(y, 1, ys, yst);
    aot_cu_ger_plan p;
    int need = aot_cu_ger_plan_of(&out, &a, &b, &p);
    if (need)
        return need;
    for (int64_t i = 0; i < p.m; i++)
        for (int64_t j = 0; j < p.n; j++)
            ((double *)p.A)[i + j * p.lda] += at(p.x, i * p.incx) * at(p.y, j * p.incy);
    return 0;
}
