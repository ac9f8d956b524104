/* aotsym_cuda_blas.cuh: products of a CUDA module through cuBLAS (gemm, gemv, ger, dot).
 *
 * Part of runtime/ (emit_cuda -> build -> module.so).  Included by the generated .cu file
 * after aotsym_cuda_runtime.cuh when the lowered program holds a product (Dot, Gemm, Gemv,
 * Ger); aotsym.build.cuda then links libcublas from the nvidia-cublas wheel.
 *
 * cuBLAS is column-major; aotsym's values are row-major descriptors with byte strides.  A
 * matrix is handed to cuBLAS without a copy when one of its dimensions is unit-stride:
 *   - rows contiguous (C order, or a slice of it): its memory is the column-major matrix of
 *     its transpose, leading dimension = the row stride;
 *   - columns contiguous (F order: a transposed view): its memory is the column-major matrix
 *     itself, leading dimension = the column stride;
 * any other layout (stride 0 from broadcasting, negative strides, both strides non-unit) is
 * gathered into a contiguous temporary first.  A row-major product C = A B is computed as
 * C^T = B^T A^T (cuBLAS sees C's memory as C^T); a column-major C (a transposed in-place
 * target) as C = A B.  The aot_cu_*_plan functions make these choices on the host without
 * touching the device (tests/emit_cuda/test_cuda_blas.py runs them against a host reference
 * of cuBLAS's column-major semantics); the aot_cu_* functions make the temporaries and call.
 *
 * One cuBLAS handle per module, created at the first product, on the legacy default stream
 * (the stream every kernel of the module is launched on).  alpha/beta come from the host
 * (Dot: 1 and 0) or from the device (the 0-d inputs of Gemm/Gemv/Ger): the pointer mode is
 * set before each call.  The 64-bit integer API (cuBLAS >= 12) takes sizes above 2^31.
 */
#ifndef AOTSYM_CUDA_BLAS_CUH
#define AOTSYM_CUDA_BLAS_CUH

#include <cublas_v2.h>

#include "aotsym_cuda_runtime.cuh"

/* ------------------------------------------------------------------ layouts (host only) */

/* How cuBLAS reads the 2-d value a: colmajor 0 = its memory is the column-major matrix of
 * a^T, 1 = that of a; ld in elements.  Returns 0 when neither holds (copy first). */
typedef struct {
    int colmajor;
    int64_t ld;
} aot_cu_blas_mat;

static int aot_cu_blas_layout(const aot_cu_array *a, aot_cu_blas_mat *m)
{
    int64_t r = a->shape[0], c = a->shape[1], isz = a->itemsize;
    if (r == 0 || c == 0) {           /* nothing is read: any leading dimension will do */
        m->colmajor = 0;
        m->ld = c > 1 ? c : 1;
        return 1;
    }
    if (a->strides[0] % isz || a->strides[1] % isz)
        return 0;
    int64_t s0 = a->strides[0] / isz, s1 = a->strides[1] / isz;
    if ((c == 1 || s1 == 1) && (r == 1 || s0 >= c)) {
        m->colmajor = 0;
        m->ld = r == 1 ? c : s0;
        return 1;
    }
    if ((r == 1 || s0 == 1) && (c == 1 || s1 >= r)) {
        m->colmajor = 1;
        m->ld = c == 1 ? r : s1;
        return 1;
    }
    return 0;
}

/* The element increment of the 1-d value v for cuBLAS; 0 when it needs a copy (stride 0 or
 * negative: reference BLAS reads a negative increment from the other end). */
static int64_t aot_cu_blas_inc(const aot_cu_array *v)
{
    if (v->shape[0] <= 1)
        return 1;
    if (v->strides[0] <= 0 || v->strides[0] % v->itemsize)
        return 0;
    return v->strides[0] / v->itemsize;
}

/* a's descriptor with its two dimensions swapped (a view of a^T) */
static aot_cu_array aot_cu_transposed(const aot_cu_array *a)
{
    aot_cu_array t = *a;
    t.shape[0] = a->shape[1];
    t.shape[1] = a->shape[0];
    t.strides[0] = a->strides[1];
    t.strides[1] = a->strides[0];
    t.block = NULL;
    return t;
}

/* cuBLAS's gemm arguments: C(m x n, ldc) = op(A)(m x k) op(B)(k x n), column-major */
typedef struct {
    cublasOperation_t transa, transb;
    int64_t m, n, k, lda, ldb, ldc;
    const char *A, *B;
    char *C;
} aot_cu_gemm_plan;

/* out (M x N) = x (M x K) . y (K x N).  Returns a mask of the operands cuBLAS cannot read
 * as they are (1: x, 2: y, 4: out); the plan is complete when it returns 0. */
static int aot_cu_gemm_plan_of(const aot_cu_array *out, const aot_cu_array *x,
                               const aot_cu_array *y, aot_cu_gemm_plan *p)
{
    aot_cu_blas_mat mo, mx, my;
    int need = (aot_cu_blas_layout(x, &mx) ? 0 : 1) | (aot_cu_blas_layout(y, &my) ? 0 : 2) |
               (aot_cu_blas_layout(out, &mo) ? 0 : 4);
    if (need)
        return need;
    if (!mo.colmajor) {
        /* out's memory is out^T (N x M) = y^T x^T: y^T first.  y row-major is y^T as
         * stored (no transpose), y column-major is y as stored (transpose it). */
        p->m = out->shape[1];
        p->n = out->shape[0];
        p->k = x->shape[1];
        p->transa = my.colmajor ? CUBLAS_OP_T : CUBLAS_OP_N;
        p->A = y->data;
        p->lda = my.ld;
        p->transb = mx.colmajor ? CUBLAS_OP_T : CUBLAS_OP_N;
        p->B = x->data;
        p->ldb = mx.ld;
    } else {
        /* out's memory is out (M x N) = x y: x first */
        p->m = out->shape[0];
        p->n = out->shape[1];
        p->k = x->shape[1];
        p->transa = mx.colmajor ? CUBLAS_OP_N : CUBLAS_OP_T;
        p->A = x->data;
        p->lda = mx.ld;
        p->transb = my.colmajor ? CUBLAS_OP_N : CUBLAS_OP_T;
        p->B = y->data;
        p->ldb = my.ld;
    }
    p->C = out->data;
    p->ldc = mo.ld;
    return 0;
}

/* cuBLAS's gemv arguments: y(len m or n) = op(A) x, A (m x n, lda) column-major */
typedef struct {
    cublasOperation_t trans;
    int64_t m, n, lda, incx, incy;
    const char *A, *x;
    char *y;
} aot_cu_gemv_plan;

/* out (M) = a (M x N) . x (N).  Mask: 1 a, 2 x, 4 out. */
static int aot_cu_gemv_plan_of(const aot_cu_array *out, const aot_cu_array *a,
                               const aot_cu_array *x, aot_cu_gemv_plan *p)
{
    aot_cu_blas_mat ma;
    p->incx = aot_cu_blas_inc(x);
    p->incy = aot_cu_blas_inc(out);
    int need = (aot_cu_blas_layout(a, &ma) ? 0 : 1) | (p->incx ? 0 : 2) | (p->incy ? 0 : 4);
    if (need)
        return need;
    if (!ma.colmajor) {       /* memory is a^T (N x M): y = (a^T)^T x */
        p->trans = CUBLAS_OP_T;
        p->m = a->shape[1];
        p->n = a->shape[0];
    } else {
        p->trans = CUBLAS_OP_N;
        p->m = a->shape[0];
        p->n = a->shape[1];
    }
    p->lda = ma.ld;
    p->A = a->data;
    p->x = x->data;
    p->y = out->data;
    return 0;
}

/* cuBLAS's ger arguments: A(m x n, lda) += alpha x y^T, column-major */
typedef struct {
    int64_t m, n, lda, incx, incy;
    const char *x, *y;
    char *A;
} aot_cu_ger_plan;

/* out (M x N) += alpha x (M) y (N)^T.  Mask: 1 x, 2 y, 4 out. */
static int aot_cu_ger_plan_of(const aot_cu_array *out, const aot_cu_array *x,
                              const aot_cu_array *y, aot_cu_ger_plan *p)
{
    aot_cu_blas_mat mo;
    int64_t ix = aot_cu_blas_inc(x), iy = aot_cu_blas_inc(y);
    int need = (ix ? 0 : 1) | (iy ? 0 : 2) | (aot_cu_blas_layout(out, &mo) ? 0 : 4);
    if (need)
        return need;
    if (!mo.colmajor) {       /* memory is out^T (N x M) += alpha y x^T */
        p->m = out->shape[1];
        p->n = out->shape[0];
        p->x = y->data;
        p->incx = iy;
        p->y = x->data;
        p->incy = ix;
    } else {
        p->m = out->shape[0];
        p->n = out->shape[1];
        p->x = x->data;
        p->incx = ix;
        p->y = y->data;
        p->incy = iy;
    }
    p->A = out->data;
    p->lda = mo.ld;
    return 0;
}

/* cuBLAS's dot arguments: *result = x . y (n elements) */
typedef struct {
    int64_t n, incx, incy;
    const char *x, *y;
    char *result;
} aot_cu_dot_plan;

/* out (0-d) = x (N) . y (N).  Mask: 1 x, 2 y. */
static int aot_cu_dot_plan_of(const aot_cu_array *out, const aot_cu_array *x,
                              const aot_cu_array *y, aot_cu_dot_plan *p)
{
    p->incx = aot_cu_blas_inc(x);
    p->incy = aot_cu_blas_inc(y);
    int need = (p->incx ? 0 : 1) | (p->incy ? 0 : 2);
    p->n = x->shape[0];
    p->x = x->data;
    p->y = y->data;
    p->result = out->data;
    return need;
}

#ifndef AOT_CU_BLAS_PLANS_ONLY

/* ------------------------------------------------------------------ the handle */

static cublasHandle_t aot_cu_blas_handle_value = NULL;

static int aot_cu_blas_check(aot_cu_error *err, int step, cublasStatus_t rc, const char *what)
{
    if (rc == CUBLAS_STATUS_SUCCESS)
        return 0;
    return aot_cu_fail(err, step, AOT_CU_ERR_CUDA, "%s failed: %s (%s)", what,
                       cublasGetStatusName(rc), cublasGetStatusString(rc));
}

static int aot_cu_blas(aot_cu_error *err, int step, cublasHandle_t *h)
{
    std::lock_guard<std::mutex> guard(aot_cu_lock);
    if (!aot_cu_blas_handle_value &&
        aot_cu_blas_check(err, step, cublasCreate(&aot_cu_blas_handle_value),
                          "creating the cuBLAS handle (cublasCreate)"))
        return -1;
    *h = aot_cu_blas_handle_value;
    return 0;
}

/* ------------------------------------------------------------------ typed calls */

static cublasStatus_t aot_cu_xgemm(cublasHandle_t h, const aot_cu_gemm_plan *p,
                                   const double *alpha, const double *beta)
{
    return cublasDgemm_64(h, p->transa, p->transb, p->m, p->n, p->k, alpha,
                          (const double *)p->A, p->lda, (const double *)p->B, p->ldb, beta,
                          (double *)p->C, p->ldc);
}

static cublasStatus_t aot_cu_xgemm(cublasHandle_t h, const aot_cu_gemm_plan *p,
                                   const float *alpha, const float *beta)
{
    return cublasSgemm_64(h, p->transa, p->transb, p->m, p->n, p->k, alpha,
                          (const float *)p->A, p->lda, (const float *)p->B, p->ldb, beta,
                          (float *)p->C, p->ldc);
}

static cublasStatus_t aot_cu_xgemv(cublasHandle_t h, const aot_cu_gemv_plan *p,
                                   const double *alpha, const double *beta)
{
    return cublasDgemv_64(h, p->trans, p->m, p->n, alpha, (const double *)p->A, p->lda,
                          (const double *)p->x, p->incx, beta, (double *)p->y, p->incy);
}

static cublasStatus_t aot_cu_xgemv(cublasHandle_t h, const aot_cu_gemv_plan *p,
                                   const float *alpha, const float *beta)
{
    return cublasSgemv_64(h, p->trans, p->m, p->n, alpha, (const float *)p->A, p->lda,
                          (const float *)p->x, p->incx, beta, (float *)p->y, p->incy);
}

static cublasStatus_t aot_cu_xger(cublasHandle_t h, const aot_cu_ger_plan *p,
                                  const double *alpha)
{
    return cublasDger_64(h, p->m, p->n, alpha, (const double *)p->x, p->incx,
                         (const double *)p->y, p->incy, (double *)p->A, p->lda);
}

static cublasStatus_t aot_cu_xger(cublasHandle_t h, const aot_cu_ger_plan *p,
                                  const float *alpha)
{
    return cublasSger_64(h, p->m, p->n, alpha, (const float *)p->x, p->incx,
                         (const float *)p->y, p->incy, (float *)p->A, p->lda);
}

static cublasStatus_t aot_cu_xdot(cublasHandle_t h, int64_t n, const double *x, int64_t incx,
                                  const double *y, int64_t incy, double *result)
{
    return cublasDdot_64(h, n, x, incx, y, incy, result);
}

static cublasStatus_t aot_cu_xdot(cublasHandle_t h, int64_t n, const float *x, int64_t incx,
                                  const float *y, int64_t incy, float *result)
{
    return cublasSdot_64(h, n, x, incx, y, incy, result);
}

/* ------------------------------------------------------------------ the steps */

/* *a, or a contiguous temporary copy of it in *tmp when bit `bit` of `need` is set */
template <int ND>
static int aot_cu_blas_operand(aot_cu_error *err, int step, int need, int bit,
                               const aot_cu_array **a, aot_cu_array *tmp)
{
    if (!(need & bit))
        return 0;
    if (aot_cu_copy_contiguous<ND>(err, step, tmp, *a))
        return -1;
    *a = tmp;
    return 0;
}

/* y[i, j] = beta * y[i, j] over rows x cols elements (byte strides s0, s1); 0 when beta is
 * 0 (y is not read, as BLAS promises); beta on the device, or `host_beta` when beta is NULL.
 * An empty product (inner dimension 0) leaves reference BLAS's gemv as it was: the step
 * does beta * out itself, for gemm too. */
template <typename T>
__global__ void aot_cu_blas_scale(int64_t rows, int64_t cols, char *y, int64_t s0,
                                  int64_t s1, const T *beta, T host_beta)
{
    const T b = beta ? *beta : host_beta;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < rows * cols;
         i += (int64_t)gridDim.x * blockDim.x) {
        T *p = (T *)(y + (i / cols) * s0 + (i % cols) * s1);
        *p = b == (T)0 ? (T)0 : b * *p;
    }
}

template <typename T>
static int aot_cu_blas_scale_out(aot_cu_error *err, int step, aot_cu_array *out, int64_t rows,
                                 int64_t cols, int64_t s1, const T *beta, int device_scalars)
{
    aot_cu_blas_scale<T><<<aot_cu_blocks(rows * cols), AOT_CU_THREADS>>>(
        rows, cols, out->data, out->strides[0], s1, device_scalars ? beta : NULL,
        device_scalars ? (T)0 : *beta);
    return aot_cu_check(err, step, cudaGetLastError(), "scaling an empty product's output");
}

/* The output of Gemm / Gemv / Ger accumulating into z: z's own buffer when the step writes
 * in place and cuBLAS can write z as it is laid out, else a fresh C-contiguous buffer
 * holding a copy of z (when `read_z`: beta may be nonzero) or nothing yet. */
template <int ND>
static int aot_cu_blas_target(aot_cu_error *err, int step, aot_cu_array *out,
                              const aot_cu_array *z, int inplace, int read_z)
{
    aot_cu_blas_mat m;
    if (inplace && (ND == 1 ? aot_cu_blas_inc(z) != 0 : aot_cu_blas_layout(z, &m) != 0)) {
        *out = *z;
        out->block = NULL;
        aot_cu_share(out, z);
        return 0;
    }
    if (read_z)
        return aot_cu_copy_contiguous<ND>(err, step, out, z);
    out->ndim = z->ndim;
    out->itemsize = z->itemsize;
    for (int d = 0; d < z->ndim; d++)
        out->shape[d] = z->shape[d];
    return aot_cu_alloc(err, step, out);
}

/* "(2, 3)" into buf: a shape in an error message (as the C runtime's aot_format_shape) */
static const char *aot_cu_format_shape(char *buf, size_t size, const aot_cu_array *a)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < a->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %lld" : "%lld",
                                 (long long)a->shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, a->ndim == 1 ? ",)" : ")");
    return buf;
}

/* One cuBLAS call: the plan of (out, x, y), the operands it refuses gathered into contiguous
 * temporaries (NDX / NDY dimensions), the pointer mode set, call(handle, &plan) made. */
template <int NDX, int NDY, typename Plan, typename Call>
static int aot_cu_blas_call(aot_cu_error *err, int step, const char *what, aot_cu_array *out,
                            const aot_cu_array *x, const aot_cu_array *y,
                            int (*plan_of)(const aot_cu_array *, const aot_cu_array *,
                                           const aot_cu_array *, Plan *),
                            int device_scalars, Call call)
{
    cublasHandle_t h;
    if (aot_cu_blas(err, step, &h))
        return -1;
    aot_cu_array tx, ty;
    memset(&tx, 0, sizeof tx);
    memset(&ty, 0, sizeof ty);
    Plan p;
    int need = plan_of(out, x, y, &p);
    int rc = (need & 4) ? aot_cu_fail(err, step, AOT_CU_ERR_CUDA, "%s: the output's layout "
                                      "is not writable by cuBLAS", what) : 0;
    if (!rc)
        rc = aot_cu_blas_operand<NDX>(err, step, need, 1, &x, &tx);
    if (!rc)
        rc = aot_cu_blas_operand<NDY>(err, step, need, 2, &y, &ty);
    if (!rc && need)
        plan_of(out, x, y, &p);
    if (!rc)
        rc = aot_cu_blas_check(err, step, cublasSetPointerMode(
            h, device_scalars ? CUBLAS_POINTER_MODE_DEVICE : CUBLAS_POINTER_MODE_HOST),
            "cublasSetPointerMode");
    if (!rc)
        rc = aot_cu_blas_check(err, step, call(h, &p), what);
    aot_cu_release(&tx);
    aot_cu_release(&ty);
    return rc;
}

/* out (set up by the caller: shape, buffer) = alpha x y + beta out; alpha/beta on the
 * device when `device_scalars`, else on the host.  out must be BLAS-writable (the caller
 * allocated it or checked aot_cu_blas_layout). */
template <typename T>
static int aot_cu_gemm(aot_cu_error *err, int step, aot_cu_array *out, const aot_cu_array *x,
                       const aot_cu_array *y, const T *alpha, const T *beta,
                       int device_scalars)
{
    if (out->shape[0] == 0 || out->shape[1] == 0)
        return 0;
    if (x->shape[1] == 0)
        return aot_cu_blas_scale_out<T>(err, step, out, out->shape[0], out->shape[1],
                                        out->strides[1], beta, device_scalars);
    return aot_cu_blas_call<2, 2>(
        err, step, "cuBLAS gemm", out, x, y, aot_cu_gemm_plan_of, device_scalars,
        [&](cublasHandle_t h, const aot_cu_gemm_plan *p) {
            return aot_cu_xgemm(h, p, alpha, beta); });
}

/* out (M) = alpha a (M x N) x (N) + beta out.  With N == 0 reference BLAS returns at once
 * (out left as it was): the product is empty, so out = beta out is done here. */
template <typename T>
static int aot_cu_gemv(aot_cu_error *err, int step, aot_cu_array *out, const aot_cu_array *a,
                       const aot_cu_array *x, const T *alpha, const T *beta,
                       int device_scalars)
{
    if (out->shape[0] == 0)
        return 0;
    if (a->shape[1] == 0)
        return aot_cu_blas_scale_out<T>(err, step, out, out->shape[0], 1, 0, beta,
                                        device_scalars);
    return aot_cu_blas_call<2, 1>(
        err, step, "cuBLAS gemv", out, a, x, aot_cu_gemv_plan_of, device_scalars,
        [&](cublasHandle_t h, const aot_cu_gemv_plan *p) {
            return aot_cu_xgemv(h, p, alpha, beta); });
}

/* out (M x N) += alpha x y^T (alpha on the device) */
template <typename T>
static int aot_cu_ger(aot_cu_error *err, int step, aot_cu_array *out, const aot_cu_array *x,
                      const aot_cu_array *y, const T *alpha)
{
    if (out->shape[0] == 0 || out->shape[1] == 0)
        return 0;
    return aot_cu_blas_call<1, 1>(
        err, step, "cuBLAS ger", out, x, y, aot_cu_ger_plan_of, 1,
        [&](cublasHandle_t h, const aot_cu_ger_plan *p) { return aot_cu_xger(h, p, alpha); });
}

/* out (0-d, on the device) = x . y */
template <typename T>
static int aot_cu_dot(aot_cu_error *err, int step, aot_cu_array *out, const aot_cu_array *x,
                      const aot_cu_array *y)
{
    if (x->shape[0] == 0)
        return aot_cu_check(err, step, cudaMemsetAsync(out->data, 0, sizeof(T)),
                            "zeroing an empty dot product");
    return aot_cu_blas_call<1, 1>(
        err, step, "cuBLAS dot", out, x, y, aot_cu_dot_plan_of, 1,
        [&](cublasHandle_t h, const aot_cu_dot_plan *p) {
            return aot_cu_xdot(h, p->n, (const T *)p->x, p->incx, (const T *)p->y, p->incy,
                               (T *)p->result); });
}

#endif /* AOT_CU_BLAS_PLANS_ONLY */

#endif
