/* aotsym_blas.h: matrix products through CBLAS (OpenBLAS from scipy-openblas32/64).
 *
 * Pasted into every generated module after aotsym_runtime.c.  With -DAOT_BLAS (set by the
 * build stage when it links a BLAS) the products call CBLAS; the library's symbol names are
 * AOT_BLAS_PREFIX + "cblas_dgemm" + AOT_BLAS_SUFFIX (scipy-openblas64: scipy_ ... 64_) and its
 * integer type is AOT_BLAS_INT.  Without a BLAS the same functions run plain C loops (correct,
 * slow: the build warns).
 *
 * Every function takes logical row-major operands of any strides: an operand BLAS cannot
 * read directly (no unit stride on either axis, negative or zero strides) is copied to a
 * C-contiguous temporary first; a transposed view (Fortran-contiguous) is passed as Trans.
 * Output matrices are C-contiguous (or have a unit column stride and a row stride >= N).
 */

#define AOT_ROW_MAJOR 101
#define AOT_NO_TRANS 111
#define AOT_TRANS 112

#ifdef AOT_BLAS
#define AOT_CAT3_(a, b, c) a##b##c
#define AOT_CAT3(a, b, c) AOT_CAT3_(a, b, c)
#define AOT_CBLAS(name) AOT_CAT3(AOT_BLAS_PREFIX, cblas_##name, AOT_BLAS_SUFFIX)
typedef AOT_BLAS_INT aot_blasint;
#define AOT_DECLARE_CBLAS(P, T)                                                                \
    void AOT_CBLAS(P##gemm)(int, int, int, aot_blasint, aot_blasint, aot_blasint, T, const T *, \
                            aot_blasint, const T *, aot_blasint, T, T *, aot_blasint);          \
    void AOT_CBLAS(P##gemv)(int, int, aot_blasint, aot_blasint, T, const T *, aot_blasint,     \
                            const T *, aot_blasint, T, T *, aot_blasint);                      \
    void AOT_CBLAS(P##ger)(int, aot_blasint, aot_blasint, T, const T *, aot_blasint,           \
                           const T *, aot_blasint, T *, aot_blasint);                          \
    T AOT_CBLAS(P##dot)(aot_blasint, const T *, aot_blasint, const T *, aot_blasint);
AOT_DECLARE_CBLAS(d, double)
AOT_DECLARE_CBLAS(s, float)
#endif

/* How BLAS reads the matrix a: 0 as stored (ld = row stride), 1 transposed (ld = column
 * stride), -1 it cannot (copy it). */
static int aot_blas_matrix(const aot_array *a, int64_t *ld)
{
    int64_t r = a->shape[0], c = a->shape[1], s0 = a->strides[0], s1 = a->strides[1];
    int64_t it = a->itemsize;
    if ((c <= 1 || s1 == it) && (r <= 1 || (s0 > 0 && s0 % it == 0 && s0 / it >= c))) {
        *ld = r <= 1 ? (c > 1 ? c : 1) : s0 / it;
        return 0;
    }
    if ((r <= 1 || s0 == it) && (c <= 1 || (s1 > 0 && s1 % it == 0 && s1 / it >= r))) {
        *ld = c <= 1 ? (r > 1 ? r : 1) : s1 / it;
        return 1;
    }
    return -1;
}

/* Can BLAS write into a (in place): a vector of positive unit-multiple stride, or a matrix
 * with unit column stride? */
static int aot_blas_writable(const aot_array *a)
{
    int64_t ld;
    if (a->ndim == 1)
        return a->shape[0] <= 1 || (a->strides[0] > 0 && a->strides[0] % a->itemsize == 0);
    return aot_blas_matrix(a, &ld) == 0;
}

/* The increment of vector x for BLAS, or 0: copy it. */
static int64_t aot_blas_inc(const aot_array *x)
{
    if (x->shape[0] <= 1) return 1;
    if (x->strides[0] > 0 && x->strides[0] % x->itemsize == 0) return x->strides[0] / x->itemsize;
    return 0;
}

/* A matrix operand BLAS can read: a itself, or a C-contiguous copy in tmp. */
static int aot_blas_operand(aot_ctx *ctx, int node, const aot_array *a, aot_array *tmp,
                            int64_t *tmp_dims, const aot_array **use, int *trans, int64_t *ld)
{
    *trans = aot_blas_matrix(a, ld);
    *use = a;
    if (*trans >= 0) return 0;
    tmp->shape = tmp_dims;
    tmp->strides = tmp_dims + a->ndim;
    if (aot_contiguous(ctx, node, tmp, a)) return -1;
    *use = tmp;
    *trans = 0;
    *ld = a->ndim == 2 && a->shape[1] > 1 ? a->shape[1] : 1;
    return 0;
}

static int aot_blas_vector(aot_ctx *ctx, int node, const aot_array *x, aot_array *tmp,
                           int64_t *tmp_dims, const aot_array **use, int64_t *inc)
{
    *inc = aot_blas_inc(x);
    *use = x;
    if (*inc) return 0;
    tmp->shape = tmp_dims;
    tmp->strides = tmp_dims + 1;
    if (aot_contiguous(ctx, node, tmp, x)) return -1;
    *use = tmp;
    *inc = 1;
    return 0;
}

/* dst: src itself when BLAS can read it as it is (a matrix with one unit stride, a vector of
 * positive stride), else a C-contiguous copy.  A state write makes its operands ready before
 * any write, so that its BLAS call then allocates nothing and cannot fail. */
static int aot_blas_ready(aot_ctx *ctx, int node, aot_array *dst, const aot_array *src)
{
    int64_t ld;
    int ok = src->ndim == 1 ? aot_blas_inc(src) != 0 : aot_blas_matrix(src, &ld) >= 0;
    if (!ok) return aot_contiguous(ctx, node, dst, src);
    for (int d = 0; d < src->ndim; d++) {
        dst->shape[d] = src->shape[d];
        dst->strides[d] = src->strides[d];
    }
    aot_share(dst, src);
    return 0;
}

#define AOT_AT2(T, a, i, j) (*(const T *)((a)->data + (i) * (a)->strides[0] + (j) * (a)->strides[1]))
#define AOT_AT1(T, a, i) (*(const T *)((a)->data + (i) * (a)->strides[0]))

/* The macro-made products below (aot_gemm_d ... aot_dotv_s): with the runtime compiled apart
 * (aotsym/emit_c/runtime.py splits only top-level statics, not a macro's), defined once in
 * its own translation unit and declared in each module -- their inlined BLAS plumbing was
 * compiled again in every module that multiplies (aot_gemv_d: 6 KB of the seed's
 * logistic-regression module's 27 KB of code); the runtime pasted whole: static copies. */
#if defined(AOT_RUNTIME_APART)
#define AOT_RT_FN AOT_RT
#else
#define AOT_RT_FN static
#endif
#if defined(AOT_RUNTIME_APART) && !defined(AOT_RUNTIME_IMPL)
#define AOT_RT_BODY(...) ;
#else
#define AOT_RT_BODY(...) __VA_ARGS__
#endif

/* C (M x N, unit column stride) <- alpha * A @ B + beta * C; beta == 0: C is not read. */
#define AOT_DEFINE_GEMM(P, T)                                                                  \
    AOT_RT_FN int aot_gemm_##P(aot_ctx *ctx, int node, aot_array *C, const aot_array *A,       \
                            const aot_array *B, T alpha, T beta)                               \
    AOT_RT_BODY({                                                                              \
        int64_t M = A->shape[0], K = A->shape[1], N = B->shape[1];                             \
        int64_t ldc = M > 1 ? C->strides[0] / C->itemsize : (N > 1 ? N : 1);                    \
        if (M == 0 || N == 0) return 0;                                                        \
        if (K == 0 || alpha == 0) {                                                            \
            for (int64_t i = 0; i < M; i++)                                                    \
                for (int64_t j = 0; j < N; j++) {                                              \
                    T *c = (T *)C->data + i * ldc + j;                                         \
                    *c = beta == 0 ? (T)0 : beta * *c;                                         \
                }                                                                              \
            return 0;                                                                          \
        }                                                                                      \
        aot_array ta_, tb_;                                                                    \
        int64_t ta_dims[4], tb_dims[4], lda, ldb;                                              \
        const aot_array *a, *b;                                                                \
        int tra, trb;                                                                          \
        ta_.block = tb_.block = NULL;                                                          \
        if (aot_blas_operand(ctx, node, A, &ta_, ta_dims, &a, &tra, &lda) ||                   \
            aot_blas_operand(ctx, node, B, &tb_, tb_dims, &b, &trb, &ldb)) {                   \
            aot_release(&ta_);                                                                 \
            return -1;                                                                         \
        }                                                                                      \
        AOT_GEMM_CALL(P, T)                                                                    \
        aot_release(&ta_);                                                                     \
        aot_release(&tb_);                                                                     \
        return 0;                                                                              \
    })

/* Small matrix-vector products without BLAS: y <- alpha * A @ x + beta * y for a row-major A
 * (M x N, row stride lda), unit-stride x, of fewer than AOT_GEMV_PAR_MIN elements (below the
 * thread split), at least 8 rows and 16 columns (thinner shapes: BLAS's kernels win).  Eight
 * rows at a time, eight independent dot products in 32-byte vectors (GCC's vector
 * extension: AVX where the target has it, two SSE halves elsewhere; one accumulator per row
 * would wait on the FMA latency), their lanes summed four rows at a time by shuffles
 * (aot_vec_sum4_*); four rows left over run as half a block (the same sums), fewer one by
 * one; every y[i] is the same sum whatever the row order.  Summing lanes by shuffles rather
 * than one scalar chain per row: W4's RNN step (100 x 100 float64) 6,750 -> ~5,700
 * instructions, float32 -21% a call, the same time at 100 x 100 (the 80 KB stream from L2
 * bounds it), 4-10% faster at 37 x 37 and 13 x 13 (in L1).
 * Successive products with the same A sweep its rows in alternate directions, so the rows
 * the last sweep left in L1 are read first: the 80 KB of a 100 x 100 float64 matrix stream
 * from L2 in part only (a scan's step, W @ h once per step).  Measured against
 * scipy-openblas's dgemv on one core of a loaded 2-core AMD EPYC (AVX2): 0.46x its time at
 * 16 x 16, 0.74x at 64 x 64, 0.88x at 100 x 100, 0.77-0.85x from 300 x 300 to 390 x 400;
 * an eight-row kernel took 4.4x at 5000 x 3 (hence the shape limits).  The 1000-step RNN
 * of benchmarks W4: 1.41 -> 1.36 ms (min of 1500 interleaved calls).  beta == 0 never
 * reads y (NaN in y is overwritten, as BLAS). */
#ifndef AOT_GEMV_SMALL_MAX
#define AOT_GEMV_SMALL_MAX 160000   /* AOT_GEMV_PAR_MIN: the split's range starts there */
#endif
/* The sums of the lanes of four accumulators (rows r .. r + 3), in lanes 0-3 of *sum:
 * a transposition by shuffles and three vector adds instead of a chain of scalar adds per
 * row; each sum is ((l0 + l1) + (l2 + l3)) (+ the same of l4 .. l7 for float32's 8 lanes). */
typedef double aot_vec4_d __attribute__((vector_size(32), aligned(8), may_alias));
typedef float aot_vec4_s __attribute__((vector_size(32), aligned(4), may_alias));
typedef long long aot_lanes_d __attribute__((vector_size(32)));
typedef int aot_lanes_s __attribute__((vector_size(32)));
static inline void aot_vec_sum4_d(aot_vec4_d *sum, aot_vec4_d a, aot_vec4_d b, aot_vec4_d c,
                                  aot_vec4_d d)
{
    aot_vec4_d ab = __builtin_shuffle(a, b, (aot_lanes_d){0, 4, 2, 6}) +
                    __builtin_shuffle(a, b, (aot_lanes_d){1, 5, 3, 7});
    aot_vec4_d cd = __builtin_shuffle(c, d, (aot_lanes_d){0, 4, 2, 6}) +
                    __builtin_shuffle(c, d, (aot_lanes_d){1, 5, 3, 7});
    *sum = __builtin_shuffle(ab, cd, (aot_lanes_d){0, 1, 4, 5}) +
           __builtin_shuffle(ab, cd, (aot_lanes_d){2, 3, 6, 7});
}
static inline void aot_vec_sum4_s(aot_vec4_s *sum, aot_vec4_s a, aot_vec4_s b, aot_vec4_s c,
                                  aot_vec4_s d)
{
    aot_vec4_s ab = __builtin_shuffle(a, b, (aot_lanes_s){0, 8, 2, 10, 4, 12, 6, 14}) +
                    __builtin_shuffle(a, b, (aot_lanes_s){1, 9, 3, 11, 5, 13, 7, 15});
    aot_vec4_s cd = __builtin_shuffle(c, d, (aot_lanes_s){0, 8, 2, 10, 4, 12, 6, 14}) +
                    __builtin_shuffle(c, d, (aot_lanes_s){1, 9, 3, 11, 5, 13, 7, 15});
    aot_vec4_s q = __builtin_shuffle(ab, cd, (aot_lanes_s){0, 1, 8, 9, 4, 5, 12, 13}) +
                   __builtin_shuffle(ab, cd, (aot_lanes_s){2, 3, 10, 11, 6, 7, 14, 15});
    *sum = q + __builtin_shuffle(q, (aot_lanes_s){4, 5, 6, 7, 0, 1, 2, 3});
}
#define AOT_DEFINE_GEMV_SMALL(P, T)                                                            \
    typedef aot_vec4_##P aot_vec_##P;                                                          \
    /* y[i .. i + R) of rows a0 .. a0 + (R - 1) * lda (R: 8 or 4, a constant once inlined) */  \
    static inline AOT_CONTRACT void aot_gemv_rows_##P(int R, int64_t N, const T *restrict a0,  \
                                                      int64_t lda, const T *restrict x, T *y,  \
                                                      int64_t incy, T alpha, T beta)           \
    {                                                                                          \
        const int64_t L = 32 / sizeof(T);                                                      \
        const T *a[8];                                                                         \
        aot_vec_##P s[8];                                                                      \
        T t[8];                                                                                \
        for (int r = 0; r < R; r++) {                                                          \
            a[r] = a0 + r * lda;                                                               \
            s[r] = (aot_vec_##P){0};                                                           \
            t[r] = 0;                                                                          \
        }                                                                                      \
        int64_t k = 0;                                                                         \
        for (; k + L <= N; k += L) {                                                           \
            const aot_vec_##P xk = *(const aot_vec_##P *)(x + k);                              \
            for (int r = 0; r < R; r++) s[r] += *(const aot_vec_##P *)(a[r] + k) * xk;         \
        }                                                                                      \
        for (; k < N; k++)                                                                     \
            for (int r = 0; r < R; r++) t[r] += a[r][k] * x[k];                                \
        for (int q = 0; q < R; q += 4) {                                                       \
            aot_vec_##P sum;                                                                   \
            aot_vec_sum4_##P(&sum, s[q], s[q + 1], s[q + 2], s[q + 3]);                        \
            T *yq = y + q * incy;                                                              \
            if (incy == 1 && beta == 0) {     /* (unit stride: four lanes at once) */          \
                for (int r = 0; r < 4; r++) yq[r] = alpha * (sum[r] + t[q + r]);               \
            } else if (incy == 1) {                                                            \
                for (int r = 0; r < 4; r++) yq[r] = alpha * (sum[r] + t[q + r]) + beta * yq[r];\
            } else {                                                                           \
                for (int r = 0; r < 4; r++) {                                                  \
                    T *yy = yq + r * incy;                                                     \
                    *yy = alpha * (sum[r] + t[q + r]) + (beta == 0 ? (T)0 : beta * *yy);       \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    static inline AOT_CONTRACT void aot_gemv_small_##P(int64_t M, int64_t N, const T *a,       \
                                                       int64_t lda, const T *x, T alpha,       \
                                                       T beta, T *y, int64_t incy)             \
    {                                                                                          \
        static unsigned char sweep[64];   /* the last direction, per A (hashed); callers       \
                                             racing on it only change a row order */           \
        unsigned char *dir = &sweep[((uintptr_t)a >> 6) & 63];                                 \
        const int down = !__atomic_load_n(dir, __ATOMIC_RELAXED);                              \
        __atomic_store_n(dir, (unsigned char)down, __ATOMIC_RELAXED);                          \
        int64_t blocks = M / 8;                                                                \
        for (int64_t b = 0; b < blocks; b++) {                                                 \
            int64_t i = 8 * (down ? blocks - 1 - b : b);                                       \
            aot_gemv_rows_##P(8, N, a + i * lda, lda, x, y + i * incy, incy, alpha, beta);     \
        }                                                                                      \
        int64_t i = 8 * blocks;                                                                \
        if (M - i >= 4) {     /* four rows more: the same sums as in a block of eight */       \
            aot_gemv_rows_##P(4, N, a + i * lda, lda, x, y + i * incy, incy, alpha, beta);     \
            i += 4;                                                                            \
        }                                                                                      \
        for (; i < M; i++) {                                                                   \
            const T *ai = a + i * lda;                                                         \
            T s = 0;                                                                           \
            _Pragma("omp simd reduction(+:s)")                                                 \
            for (int64_t k = 0; k < N; k++) s += ai[k] * x[k];                                 \
            T *yy = y + i * incy;                                                              \
            *yy = alpha * s + (beta == 0 ? (T)0 : beta * *yy);                                 \
        }                                                                                      \
    }
AOT_DEFINE_GEMV_SMALL(d, double)
AOT_DEFINE_GEMV_SMALL(s, float)

/* y (length M) <- alpha * A @ x + beta * y; A is M x N. */
#define AOT_DEFINE_GEMV(P, T)                                                                  \
    AOT_RT_FN AOT_CONTRACT int aot_gemv_##P(aot_ctx *ctx, int node, aot_array *Y,               \
                                            const aot_array *A, const aot_array *X, T alpha,   \
                                            T beta)                                            \
    AOT_RT_BODY({                                                                              \
        int64_t M = A->shape[0], N = A->shape[1];                                              \
        int64_t incy = Y->shape[0] > 1 ? Y->strides[0] / Y->itemsize : 1;                      \
        if (M == 0) return 0;                                                                  \
        if (N == 0 || alpha == 0) {                                                            \
            for (int64_t i = 0; i < M; i++) {                                                  \
                T *y = (T *)Y->data + i * incy;                                                \
                *y = beta == 0 ? (T)0 : beta * *y;                                             \
            }                                                                                  \
            return 0;                                                                          \
        }                                                                                      \
        aot_array ta_, tx_;                                                                    \
        int64_t ta_dims[4], tx_dims[2], lda, incx;                                             \
        const aot_array *a, *x;                                                                \
        int tra;                                                                               \
        ta_.block = tx_.block = NULL;                                                          \
        if (aot_blas_operand(ctx, node, A, &ta_, ta_dims, &a, &tra, &lda) ||                   \
            aot_blas_vector(ctx, node, X, &tx_, tx_dims, &x, &incx)) {                         \
            aot_release(&ta_);                                                                 \
            return -1;                                                                         \
        }                                                                                      \
        if (!tra && incx == 1 && M >= 8 && N >= 16 && M * N < AOT_GEMV_SMALL_MAX) {            \
            aot_gemv_small_##P(M, N, (const T *)a->data, lda, (const T *)x->data, alpha, beta, \
                               (T *)Y->data, incy);                                            \
        } else {                                                                               \
            AOT_GEMV_CALL(P, T)                                                                \
        }                                                                                      \
        aot_release(&ta_);                                                                     \
        aot_release(&tx_);                                                                     \
        return 0;                                                                              \
    })

/* A (M x N, unit column stride) <- alpha * outer(x, y) + A. */
#define AOT_DEFINE_GER(P, T)                                                                   \
    AOT_RT_FN int aot_ger_##P(aot_ctx *ctx, int node, aot_array *A, const aot_array *X,        \
                           const aot_array *Y, T alpha)                                        \
    AOT_RT_BODY({                                                                              \
        int64_t M = A->shape[0], N = A->shape[1];                                              \
        int64_t lda = M > 1 ? A->strides[0] / A->itemsize : (N > 1 ? N : 1);                    \
        if (M == 0 || N == 0 || alpha == 0) return 0;                                          \
        aot_array tx_, ty_;                                                                    \
        int64_t tx_dims[2], ty_dims[2], incx, incy;                                            \
        const aot_array *x, *y;                                                                \
        tx_.block = ty_.block = NULL;                                                          \
        if (aot_blas_vector(ctx, node, X, &tx_, tx_dims, &x, &incx) ||                         \
            aot_blas_vector(ctx, node, Y, &ty_, ty_dims, &y, &incy)) {                         \
            aot_release(&tx_);                                                                 \
            return -1;                                                                         \
        }                                                                                      \
        AOT_GER_CALL(P, T)                                                                     \
        aot_release(&tx_);                                                                     \
        aot_release(&ty_);                                                                     \
        return 0;                                                                              \
    })

/* x . y of two vectors of length n. */
#define AOT_DEFINE_DOTV(P, T)                                                                  \
    AOT_RT_FN int aot_dotv_##P(aot_ctx *ctx, int node, T *result, const aot_array *X,          \
                            const aot_array *Y)                                                \
    AOT_RT_BODY({                                                                              \
        int64_t n = X->shape[0];                                                               \
        aot_array tx_, ty_;                                                                    \
        int64_t tx_dims[2], ty_dims[2], incx, incy;                                            \
        const aot_array *x, *y;                                                                \
        tx_.block = ty_.block = NULL;                                                          \
        if (aot_blas_vector(ctx, node, X, &tx_, tx_dims, &x, &incx) ||                         \
            aot_blas_vector(ctx, node, Y, &ty_, ty_dims, &y, &incy)) {                         \
            aot_release(&tx_);                                                                 \
            return -1;                                                                         \
        }                                                                                      \
        AOT_DOTV_CALL(P, T)                                                                    \
        aot_release(&tx_);                                                                     \
        aot_release(&ty_);                                                                     \
        return 0;                                                                              \
    })

#ifdef AOT_BLAS
/* ---- one owner of the threads
 * The runtime's thread pool is the only one that splits work: the OpenBLAS that modules link
 * (scipy-openblas's library, not the copy NumPy bundles) is set to one thread at its first
 * use, and the products below split themselves over the pool, where that measures faster
 * (aot_parallel_for_adaptive).  Two pools on the same cores fought: with the second core
 * busy, OpenBLAS's static halves made a 2000 x 2000 sgemm 29% slower than one thread
 * (benchmarks/loaded, W8.6), and its threads and the pool's took turns on the cores. */
void AOT_CAT3(AOT_BLAS_PREFIX, openblas_set_num_threads, AOT_BLAS_SUFFIX)(int);
static void aot_blas_set_one_thread(void)
{
    AOT_CAT3(AOT_BLAS_PREFIX, openblas_set_num_threads, AOT_BLAS_SUFFIX)(1);
}
static pthread_once_t aot_blas_threads_once = PTHREAD_ONCE_INIT;
#define AOT_BLAS_ONE_THREAD() pthread_once(&aot_blas_threads_once, aot_blas_set_one_thread)

/* Products are split in blocks of a multiple of AOT_BLAS_UNIT rows (or columns), one block
 * per thread for gemm and ger (each block of a gemm packs the other operand again: more
 * blocks cost more; large gemvs take more, aot_gemv_blocks_per_thread),
 * from AOT_*_PAR_MIN multiply-adds: waking the pool costs about 5 us on the 2-core machine
 * measured (a sleeping worker, no spinning), and a matrix-vector product split over two free
 * cores paid from about 150000 elements (300 x 500 broke even, 400 x 784 went from 31 to 22
 * us).  Both arms make the same BLAS call per block -- the one-call arm makes them one after
 * the other -- because BLAS's kernels do not sum a block's elements as they sum the same
 * elements of a larger call (scipy-openblas's sgemv treats the first len % 16 rows, and the
 * last rows of an odd length, apart: a split at a multiple of 16 changed 1-2 elements'
 * last bits); so the arms, and the load, never change a bit; the thread count does (as it
 * does OpenBLAS's own).  parallel_for allocates nothing and cannot fail (nested, busy or one
 * thread: it runs the whole range as one task), so the commit half of a state write stays
 * unable to fail. */
#define AOT_BLAS_UNIT 16
#ifndef AOT_GEMV_PAR_MIN
#define AOT_GEMV_PAR_MIN 160000
#endif
#ifndef AOT_GEMM_PAR_MIN
#define AOT_GEMM_PAR_MIN 262144
#endif
/* Block `blk` of nblocks: rows [*i0, *i1) of `len`, cut at multiples of AOT_BLAS_UNIT. */
static inline int aot_blas_block(int64_t len, int64_t nblocks, int64_t blk, int64_t *i0,
                                 int64_t *i1)
{
    int64_t units = (len + AOT_BLAS_UNIT - 1) / AOT_BLAS_UNIT;
    *i0 = units * blk / nblocks * AOT_BLAS_UNIT;
    *i1 = units * (blk + 1) / nblocks * AOT_BLAS_UNIT;
    if (*i1 > len) *i1 = len;
    return *i1 > *i0;
}

/* C (M x N) <- alpha * op(A) @ op(B) + beta * C, in blocks of C's rows (by_rows) or
 * columns: op(A)'s rows are rows of A's buffer (A + i0 * lda) or, stored transposed, its
 * columns (A + i0); op(B)'s columns likewise. */
#define AOT_DEFINE_GEMM_TASK(P, T)                                                             \
    typedef struct {                                                                           \
        int tra, trb, by_rows;                                                                 \
        int64_t M, N, K, lda, ldb, ldc, nblocks;                                               \
        T alpha, beta;                                                                         \
        const T *a, *b;                                                                        \
        T *c;                                                                                  \
    } aot_gemm_job_##P;                                                                        \
    static void aot_gemm_task_##P(void *arg, int64_t begin, int64_t end)                       \
    {                                                                                          \
        const aot_gemm_job_##P *j = (const aot_gemm_job_##P *)arg;                             \
        for (int64_t blk = begin; blk < end; blk++) {                                          \
            int64_t i0, i1, M = j->M, N = j->N;                                                \
            const T *a = j->a, *b = j->b;                                                      \
            T *c = j->c;                                                                       \
            if (!aot_blas_block(j->by_rows ? M : N, j->nblocks, blk, &i0, &i1)) continue;      \
            if (j->by_rows) {                                                                  \
                M = i1 - i0;                                                                   \
                a += j->tra ? i0 : i0 * j->lda;                                                \
                c += i0 * j->ldc;                                                              \
            } else {                                                                           \
                N = i1 - i0;                                                                   \
                b += j->trb ? i0 * j->ldb : i0;                                                \
                c += i0;                                                                       \
            }                                                                                  \
            AOT_CBLAS(P##gemm)(AOT_ROW_MAJOR, j->tra ? AOT_TRANS : AOT_NO_TRANS,               \
                               j->trb ? AOT_TRANS : AOT_NO_TRANS, (aot_blasint)M,              \
                               (aot_blasint)N, (aot_blasint)j->K, j->alpha, a,                 \
                               (aot_blasint)j->lda, b, (aot_blasint)j->ldb, j->beta, c,        \
                               (aot_blasint)j->ldc);                                           \
        }                                                                                      \
    }
AOT_DEFINE_GEMM_TASK(d, double)
AOT_DEFINE_GEMM_TASK(s, float)
#define AOT_GEMM_CALL(P, T)                                                                    \
    {                                                                                          \
        AOT_BLAS_ONE_THREAD();                                                                 \
        int by_rows_ = M >= N;                                                                 \
        int64_t nb_ = (by_rows_ ? M : N) >= 2 * AOT_BLAS_UNIT && M * N * K >= AOT_GEMM_PAR_MIN \
                          ? aot_rt->num_threads()                                              \
                          : 1;                                                                 \
        aot_gemm_job_##P job_ = {tra, trb, by_rows_, M, N, K, lda, ldb, ldc, nb_, alpha, beta, \
                                 (const T *)a->data, (const T *)b->data, (T *)C->data};        \
        aot_parallel_for_adaptive(sizeof(T) == 4 ? AOT_ADAPT_GEMM_S : AOT_ADAPT_GEMM_D,        \
                                  M * N * K, nb_, aot_gemm_task_##P, &job_);                   \
    }

/* y <- alpha * op(A) @ x + beta * y in blocks of y: op(A) is M x N; stored transposed, A's
 * buffer is an N x M row-major matrix (a block of y: columns A + i0, same lda). */
#define AOT_DEFINE_GEMV_TASK(P, T)                                                             \
    typedef struct {                                                                           \
        int tra;                                                                               \
        int64_t M, N, lda, incx, incy, nblocks;                                                \
        T alpha, beta;                                                                         \
        const T *a, *x;                                                                        \
        T *y;                                                                                  \
    } aot_gemv_job_##P;                                                                        \
    static void aot_gemv_task_##P(void *arg, int64_t begin, int64_t end)                       \
    {                                                                                          \
        const aot_gemv_job_##P *j = (const aot_gemv_job_##P *)arg;                             \
        for (int64_t blk = begin; blk < end; blk++) {                                          \
            int64_t i0, i1;                                                                    \
            if (!aot_blas_block(j->M, j->nblocks, blk, &i0, &i1)) continue;                    \
            int64_t k = i1 - i0;                                                               \
            AOT_CBLAS(P##gemv)(AOT_ROW_MAJOR, j->tra ? AOT_TRANS : AOT_NO_TRANS,               \
                               (aot_blasint)(j->tra ? j->N : k),                               \
                               (aot_blasint)(j->tra ? k : j->N), j->alpha,                     \
                               j->a + (j->tra ? i0 : i0 * j->lda), (aot_blasint)j->lda, j->x,  \
                               (aot_blasint)j->incx, j->beta, j->y + i0 * j->incy,             \
                               (aot_blasint)j->incy);                                          \
        }                                                                                      \
    }
AOT_DEFINE_GEMV_TASK(d, double)
AOT_DEFINE_GEMV_TASK(s, float)
/* A matrix-vector product packs nothing, so more blocks cost only their calls: large ones get
 * up to 8 blocks per thread, so that a thread slowed by another process leaves its blocks to
 * the others (the pool's reason for many chunks per thread).  Not measured apart: what made
 * a forced split of a 2000 x 2000 gemv pay (1000 -> 551 us median) was the pool's spinning
 * (runtime/aotsym_runtime.c), with 1 or 8 blocks per thread alike. */
static inline int64_t aot_gemv_blocks_per_thread(int64_t elements)
{
    int64_t k = elements / (4 * AOT_GEMV_PAR_MIN);
    return k < 1 ? 1 : (k > 8 ? 8 : k);
}
#define AOT_GEMV_CALL(P, T)                                                                    \
    {                                                                                          \
        AOT_BLAS_ONE_THREAD();                                                                 \
        int64_t nb_ = M * N >= AOT_GEMV_PAR_MIN && M >= 2 * AOT_BLAS_UNIT                      \
                          ? aot_rt->num_threads() * aot_gemv_blocks_per_thread(M * N)          \
                          : 1;                                                                 \
        aot_gemv_job_##P job_ = {tra, M, N, lda, incx, incy, nb_, alpha, beta,                 \
                                 (const T *)a->data, (const T *)x->data, (T *)Y->data};        \
        aot_parallel_for_adaptive(sizeof(T) == 4 ? AOT_ADAPT_GEMV_S : AOT_ADAPT_GEMV_D, M * N, \
                                  nb_, aot_gemv_task_##P, &job_);                              \
    }

/* A (M x N) <- alpha * outer(x, y) + A in blocks of A's rows. */
#define AOT_DEFINE_GER_TASK(P, T)                                                              \
    typedef struct {                                                                           \
        int64_t M, N, lda, incx, incy, nblocks;                                                \
        T alpha;                                                                               \
        const T *x, *y;                                                                        \
        T *a;                                                                                  \
    } aot_ger_job_##P;                                                                         \
    static void aot_ger_task_##P(void *arg, int64_t begin, int64_t end)                        \
    {                                                                                          \
        const aot_ger_job_##P *j = (const aot_ger_job_##P *)arg;                               \
        for (int64_t blk = begin; blk < end; blk++) {                                          \
            int64_t i0, i1;                                                                    \
            if (!aot_blas_block(j->M, j->nblocks, blk, &i0, &i1)) continue;                    \
            AOT_CBLAS(P##ger)(AOT_ROW_MAJOR, (aot_blasint)(i1 - i0), (aot_blasint)j->N,        \
                              j->alpha, j->x + i0 * j->incx, (aot_blasint)j->incx, j->y,       \
                              (aot_blasint)j->incy, j->a + i0 * j->lda, (aot_blasint)j->lda);  \
        }                                                                                      \
    }
AOT_DEFINE_GER_TASK(d, double)
AOT_DEFINE_GER_TASK(s, float)
#define AOT_GER_CALL(P, T)                                                                     \
    {                                                                                          \
        AOT_BLAS_ONE_THREAD();                                                                 \
        int64_t nb_ = M * N >= AOT_GEMV_PAR_MIN && M >= 2 * AOT_BLAS_UNIT                      \
                          ? aot_rt->num_threads()                                              \
                          : 1;                                                                 \
        aot_ger_job_##P job_ = {M, N, lda, incx, incy, nb_, alpha, (const T *)x->data,         \
                                (const T *)y->data, (T *)A->data};                             \
        aot_parallel_for_adaptive(sizeof(T) == 4 ? AOT_ADAPT_GER_S : AOT_ADAPT_GER_D, M * N,   \
                                  nb_, aot_ger_task_##P, &job_);                               \
    }
#define AOT_DOTV_CALL(P, T)                                                                    \
    AOT_BLAS_ONE_THREAD();                                                                     \
    *result = n ? AOT_CBLAS(P##dot)((aot_blasint)n, (const T *)x->data, (aot_blasint)incx,     \
                                    (const T *)y->data, (aot_blasint)incy)                     \
                : (T)0;
#else
#define AOT_GEMM_CALL(P, T)                                                                    \
    (void)lda;                                                                                 \
    (void)ldb;                                                                                 \
    (void)tra;                                                                                 \
    (void)trb;                                                                                 \
    for (int64_t i = 0; i < M; i++)                                                            \
        for (int64_t j = 0; j < N; j++) {                                                      \
            T acc = 0;                                                                         \
            for (int64_t k = 0; k < K; k++) acc += AOT_AT2(T, a, i, k) * AOT_AT2(T, b, k, j);   \
            T *c = (T *)C->data + i * ldc + j;                                                 \
            *c = alpha * acc + (beta == 0 ? (T)0 : beta * *c);                                 \
        }
#define AOT_GEMV_CALL(P, T)                                                                    \
    (void)lda;                                                                                 \
    (void)incx;                                                                                \
    (void)tra;                                                                                 \
    for (int64_t i = 0; i < M; i++) {                                                          \
        T acc = 0;                                                                             \
        for (int64_t k = 0; k < N; k++) acc += AOT_AT2(T, a, i, k) * AOT_AT1(T, x, k);          \
        T *yy = (T *)Y->data + i * incy;                                                       \
        *yy = alpha * acc + (beta == 0 ? (T)0 : beta * *yy);                                   \
    }
#define AOT_GER_CALL(P, T)                                                                     \
    (void)incx;                                                                                \
    (void)incy;                                                                                \
    for (int64_t i = 0; i < M; i++)                                                            \
        for (int64_t j = 0; j < N; j++)                                                        \
            ((T *)A->data)[i * lda + j] += alpha * AOT_AT1(T, x, i) * AOT_AT1(T, y, j);
#define AOT_DOTV_CALL(P, T)                                                                    \
    (void)incx;                                                                                \
    (void)incy;                                                                                \
    {                                                                                          \
        T acc = 0;                                                                             \
        for (int64_t k = 0; k < n; k++) acc += AOT_AT1(T, x, k) * AOT_AT1(T, y, k);             \
        *result = acc;                                                                         \
    }
#endif

AOT_DEFINE_GEMM(d, double)
AOT_DEFINE_GEMM(s, float)
AOT_DEFINE_GEMV(d, double)
AOT_DEFINE_GEMV(s, float)
AOT_DEFINE_GER(d, double)
AOT_DEFINE_GER(s, float)
AOT_DEFINE_DOTV(d, double)
AOT_DEFINE_DOTV(s, float)
