/* aotsym_random.h: Philox4x32-10 and the random draws of aotsym.graph.ops.random, in C.
 *
 * Part of the C runtime pasted into every module (emit_c -> build -> module.so + runtime/);
 * aotsym/emit_c/random.py lowers each draw op to one call here.  The algorithm, word for
 * word and operation for operation, is aotsym/graph/philox.py (the NumPy reference), and the
 * results agree bit for bit: the same 32-bit words, the same word -> float conversions
 * (53 bits for float64, 24 for float32) and transforms built only from IEEE-exact operations
 * (+ - * / sqrt floor frexp) in the same order — fdlibm's log/sin/cos kernels written out,
 * never the platform's libm — with floating-point contraction (fused multiply-add) turned
 * off for this file.  runtime/aotsym_cuda_random.cuh is the CUDA spelling of the same.
 *
 * A random variable's state is a uint32 vector [key0, key1, counter_lo, counter_hi].  A draw
 * reads blocks counter + b (c0/c1: the 64-bit block index, c2: a sub-index, c3 = 0) and
 * the new state is the counter advanced past them.  Blocks are independent, so large draws
 * are split over the thread pool with the same result.
 */
#ifndef AOTSYM_RANDOM_H
#define AOTSYM_RANDOM_H

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

typedef struct {
    uint32_t k0, k1;
    uint64_t counter;
} aot_rng;

/* Blocks per task of the thread pool (a draw smaller than two of these stays serial). */
#define AOT_RNG_GRAIN 16384

static inline void aot_philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/* The words of block counter + index, sub-index sub. */
static inline void aot_rng_block(const aot_rng *g, uint64_t index, uint32_t sub, uint32_t w[4])
{
    uint64_t ctr = g->counter + index;
    w[0] = (uint32_t)ctr;
    w[1] = (uint32_t)(ctr >> 32);
    w[2] = sub;
    w[3] = 0;
    aot_philox4x32_10(w, g->k0, g->k1);
}

static inline double aot_rng_u53(uint32_t a, uint32_t b)
{
    return ((double)(a >> 5) * 67108864.0 + (double)(b >> 6)) * 0x1p-53;
}

static inline float aot_rng_u24(uint32_t a)
{
    return (float)(a >> 8) * 0x1p-24f;
}

/* ---- fdlibm kernels (the constants are philox.py's, as exact hex) */

static inline double aot_rng_log(double x)
{
    int k;
    double m = frexp(x, &k);
    if (m < 0x1.6a09e667f3bcdp-1) {
        m = m * 2.0;
        k -= 1;
    }
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double dk = (double)k;
    double z = s * s;
    double w = z * z;
    double t1 = w * (0x1.999999997fa04p-2 + w * (0x1.c71c51d8e78afp-3 + w * 0x1.39a09d078c69fp-3));
    double t2 = z * (0x1.5555555555593p-1 + w * (0x1.2492494229359p-2
                + w * (0x1.7466496cb03dep-3 + w * 0x1.2f112df3e5244p-3)));
    double r = t2 + t1;
    double hfsq = 0.5 * f * f;
    return dk * 0x1.62e42feep-1 - ((hfsq - (s * (hfsq + r) + dk * 0x1.a39ef35793c76p-33)) - f);
}

static inline double aot_rng_ksin(double x)
{
    double z = x * x;
    double v = z * x;
    double r = 0x1.111111110f8a6p-7 + z * (-0x1.a01a019c161d5p-13 + z * (0x1.71de357b1fe7dp-19
               + z * (-0x1.ae5e68a2b9cebp-26 + z * 0x1.5d93a5acfd57cp-33)));
    return x + v * (-0x1.5555555555549p-3 + z * r);
}

static inline double aot_rng_kcos(double x)
{
    double z = x * x;
    double r = z * (0x1.555555555554cp-5 + z * (-0x1.6c16c16c15177p-10 + z * (0x1.a01a019cb159p-16
               + z * (-0x1.27e4f809c52adp-22 + z * (0x1.1ee9ebdb4b1c4p-29
               + z * -0x1.8fae9be8838d4p-37)))));
    double hz = 0.5 * z;
    double w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + z * r);
}

/* cos(2 pi u) and sin(2 pi u) for u in [0, 1). */
static inline void aot_rng_cos_sin_2pi(double u, double *c, double *s)
{
    double t = 4.0 * u;
    double q = floor(t);
    double r = t - q;
    int up = r > 0.5;
    if (up) r = r - 1.0;
    int quadrant = (int)(((int64_t)q + up) & 3);
    double x = r * 0x1.921fb54442d18p+0;
    double ks = aot_rng_ksin(x), kc = aot_rng_kcos(x);
    switch (quadrant) {
    case 0: *c = kc; *s = ks; break;
    case 1: *c = -ks; *s = kc; break;
    case 2: *c = -kc; *s = -ks; break;
    default: *c = ks; *s = -kc; break;
    }
}

/* The standard normals of block index (elements 2 index and 2 index + 1). */
static inline void aot_rng_normal_pair(const aot_rng *g, uint64_t index, double z[2])
{
    uint32_t w[4];
    aot_rng_block(g, index, 0, w);
    double u1 = aot_rng_u53(w[0], w[1]), u2 = aot_rng_u53(w[2], w[3]);
    double r = sqrt(-2.0 * aot_rng_log(1.0 - u1));
    double c, s;
    aot_rng_cos_sin_2pi(u2, &c, &s);
    z[0] = r * c;
    z[1] = r * s;
}

/* The float64 uniform number q of the float64 uniform stream (words 0-1 or 2-3). */
static inline double aot_rng_uniform_at(const aot_rng *g, uint64_t q)
{
    uint32_t w[4];
    aot_rng_block(g, q >> 1, 0, w);
    return (q & 1) ? aot_rng_u53(w[2], w[3]) : aot_rng_u53(w[0], w[1]);
}

/* floor(u * m) clamped to m - 1. */
static inline int64_t aot_rng_below(double u, int64_t m)
{
    int64_t r = (int64_t)floor(u * (double)m);
    return r > m - 1 ? m - 1 : r;
}

/* First index of cdf[0..m) above target; the last positive one when rounding leaves none. */
static inline int64_t aot_rng_pick(const double *cdf, int64_t m, double target)
{
    int64_t lo = 0, hi = m;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > target) hi = mid;
        else lo = mid + 1;
    }
    if (lo >= m) {
        lo = m - 1;
        while (lo > 0 && cdf[lo] == cdf[lo - 1]) lo--;
    }
    return lo;
}

/* ------------------------------------------------------------------------ state */

/* Read a state argument (any strides) into g. */
static int aot_rng_load(aot_ctx *ctx, int node, const char *what, const aot_array *state,
                        aot_rng *g)
{
    if (state->ndim != 1 || state->shape[0] != 4)
        return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: a random state is a uint32 vector of 4 "
                        "words [key0, key1, counter_lo, counter_hi], got %lld words", what,
                        (long long)(state->ndim == 1 ? state->shape[0] : -1));
    uint32_t s[4];
    for (int k = 0; k < 4; k++) s[k] = *(const uint32_t *)(state->data + k * state->strides[0]);
    g->k0 = s[0];
    g->k1 = s[1];
    g->counter = (uint64_t)s[2] | ((uint64_t)s[3] << 32);
    return 0;
}

/* new_state (allocated 4 words) <- g advanced by nblocks. */
static void aot_rng_store(aot_array *new_state, const aot_rng *g, uint64_t nblocks)
{
    uint64_t c = g->counter + nblocks;
    uint32_t *o = (uint32_t *)new_state->data;
    o[0] = g->k0;
    o[1] = g->k1;
    o[2] = (uint32_t)c;
    o[3] = (uint32_t)(c >> 32);
}

/* A parameter: its data and its step per element (0: one value for all, 1: contiguous, of
 * n elements); checks its size. */
static int aot_rng_param(aot_ctx *ctx, int node, const char *what, const char *name,
                         const aot_array *p, int64_t n, int64_t *step)
{
    int64_t size = aot_size(p);
    if (p->ndim == 0) {
        *step = 0;
        return 0;
    }
    if (size != n || !aot_is_c_contiguous(p))
        return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: the parameter %s has %lld elements "
                        "for a sample of %lld", what, name, (long long)size, (long long)n);
    *step = 1;
    return 0;
}

/* ------------------------------------------------------------------------ draws */

typedef struct {
    aot_rng g;
    int64_t n;
    char *out;
    const char *a, *b;        /* low/high, avg/std, n/p */
    int64_t as, bs;           /* their steps */
} aot_rng_job;

static void aot_rng_uniform_f64_task(void *arg, int64_t begin, int64_t end)
{
    const aot_rng_job *j = (const aot_rng_job *)arg;
    double *out = (double *)j->out;
    const double *lo = (const double *)j->a, *hi = (const double *)j->b;
    for (int64_t b = begin * AOT_RNG_GRAIN; b < end * AOT_RNG_GRAIN && 2 * b < j->n; b++) {
        uint32_t w[4];
        aot_rng_block(&j->g, (uint64_t)b, 0, w);
        for (int k = 0; k < 2 && 2 * b + k < j->n; k++) {
            int64_t i = 2 * b + k;
            double u = aot_rng_u53(w[2 * k], w[2 * k + 1]);
            double l = lo[i * j->as], h = hi[i * j->bs];
            out[i] = l + (h - l) * u;
        }
    }
}

static void aot_rng_uniform_f32_task(void *arg, int64_t begin, int64_t end)
{
    const aot_rng_job *j = (const aot_rng_job *)arg;
    float *out = (float *)j->out;
    const float *lo = (const float *)j->a, *hi = (const float *)j->b;
    for (int64_t b = begin * AOT_RNG_GRAIN; b < end * AOT_RNG_GRAIN && 4 * b < j->n; b++) {
        uint32_t w[4];
        aot_rng_block(&j->g, (uint64_t)b, 0, w);
        for (int k = 0; k < 4 && 4 * b + k < j->n; k++) {
            int64_t i = 4 * b + k;
            float u = aot_rng_u24(w[k]);
            float l = lo[i * j->as], h = hi[i * j->bs];
            out[i] = l + (h - l) * u;
        }
    }
}

static void aot_rng_normal_f64_task(void *arg, int64_t begin, int64_t end)
{
    const aot_rng_job *j = (const aot_rng_job *)arg;
    double *out = (double *)j->out;
    const double *avg = (const double *)j->a, *std = (const double *)j->b;
    for (int64_t b = begin * AOT_RNG_GRAIN; b < end * AOT_RNG_GRAIN && 2 * b < j->n; b++) {
        double z[2];
        aot_rng_normal_pair(&j->g, (uint64_t)b, z);
        for (int k = 0; k < 2 && 2 * b + k < j->n; k++) {
            int64_t i = 2 * b + k;
            out[i] = avg[i * j->as] + std[i * j->bs] * z[k];
        }
    }
}

static void aot_rng_normal_f32_task(void *arg, int64_t begin, int64_t end)
{
    const aot_rng_job *j = (const aot_rng_job *)arg;
    float *out = (float *)j->out;
    const float *avg = (const float *)j->a, *std = (const float *)j->b;
    for (int64_t b = begin * AOT_RNG_GRAIN; b < end * AOT_RNG_GRAIN && 2 * b < j->n; b++) {
        double z[2];
        aot_rng_normal_pair(&j->g, (uint64_t)b, z);
        for (int k = 0; k < 2 && 2 * b + k < j->n; k++) {
            int64_t i = 2 * b + k;
            out[i] = avg[i * j->as] + std[i * j->bs] * (float)z[k];
        }
    }
}

static void aot_rng_binomial_task(void *arg, int64_t begin, int64_t end)
{
    const aot_rng_job *j = (const aot_rng_job *)arg;
    int64_t *out = (int64_t *)j->out;
    const int64_t *nt = (const int64_t *)j->a;
    const double *p = (const double *)j->b;
    for (int64_t i = begin * AOT_RNG_GRAIN; i < end * AOT_RNG_GRAIN && i < j->n; i++) {
        int64_t trials = nt[i * j->as], count = 0;
        double pi = p[i * j->bs];
        for (int64_t sub = 0; 4 * sub < trials; sub++) {
            uint32_t w[4];
            aot_rng_block(&j->g, (uint64_t)i, (uint32_t)sub, w);
            for (int k = 0; k < 4 && 4 * sub + k < trials; k++)
                count += (double)w[k] * 0x1p-32 < pi;
        }
        out[i] = count;
    }
}

/* Run a task over units (blocks or elements), on the thread pool when there are many. */
static void aot_rng_run(aot_rng_job *job, int64_t units, aot_task_fn fn)
{
    int64_t tasks = (units + AOT_RNG_GRAIN - 1) / AOT_RNG_GRAIN;
    if (tasks > 1)
        aot_rt->parallel_for(tasks, fn, job);
    else if (tasks == 1)
        fn(job, 0, 1);
}

/* kind: 'u' uniform, 'n' normal; dtype: 'd' float64, 'f' float32.  Fills out (allocated,
 * C-contiguous) and new_state (allocated, 4 words). */
static int aot_rng_continuous(aot_ctx *ctx, int node, const char *what, int kind, int dtype,
                              const aot_array *state, aot_array *new_state, aot_array *out,
                              const aot_array *a, const aot_array *b)
{
    aot_rng_job job;
    if (aot_rng_load(ctx, node, what, state, &job.g)) return -1;
    job.n = aot_size(out);
    job.out = out->data;
    job.a = a->data;
    job.b = b->data;
    if (aot_rng_param(ctx, node, what, kind == 'u' ? "low" : "avg", a, job.n, &job.as) ||
        aot_rng_param(ctx, node, what, kind == 'u' ? "high" : "std", b, job.n, &job.bs))
        return -1;
    int64_t per = (kind == 'u' && dtype == 'f') ? 4 : 2;
    int64_t nblocks = (job.n + per - 1) / per;
    aot_task_fn fn = kind == 'u' ? (dtype == 'd' ? aot_rng_uniform_f64_task
                                                  : aot_rng_uniform_f32_task)
                                 : (dtype == 'd' ? aot_rng_normal_f64_task
                                                  : aot_rng_normal_f32_task);
    aot_rng_run(&job, nblocks, fn);
    aot_rng_store(new_state, &job.g, (uint64_t)nblocks);
    return 0;
}

static int aot_rng_binomial(aot_ctx *ctx, int node, const char *what, const aot_array *state,
                            aot_array *new_state, aot_array *out, const aot_array *n,
                            const aot_array *p)
{
    aot_rng_job job;
    if (aot_rng_load(ctx, node, what, state, &job.g)) return -1;
    job.n = aot_size(out);
    job.out = out->data;
    job.a = n->data;
    job.b = p->data;
    if (aot_rng_param(ctx, node, what, "n", n, job.n, &job.as) ||
        aot_rng_param(ctx, node, what, "p", p, job.n, &job.bs))
        return -1;
    const int64_t *nt = (const int64_t *)job.a;
    for (int64_t i = 0; i < (job.as ? job.n : (job.n > 0)); i++)
        if (nt[i] < 0)
            return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: the number of trials must be >= 0, "
                            "got %lld", what, (long long)nt[i]);
    aot_rng_run(&job, job.n, aot_rng_binomial_task);
    aot_rng_store(new_state, &job.g, (uint64_t)job.n);
    return 0;
}

/* The first k entries of a Fisher-Yates shuffle of 0..m-1 with uniforms first, first+1, ...
 * into out (perm: m int64 of scratch). */
static void aot_rng_shuffle_prefix(const aot_rng *g, int64_t m, int64_t k, uint64_t first,
                                   int64_t *perm, int64_t *out)
{
    for (int64_t i = 0; i < m; i++) perm[i] = i;
    for (int64_t j = 0; j < k; j++) {
        int64_t r = j + aot_rng_below(aot_rng_uniform_at(g, first + (uint64_t)j), m - j);
        int64_t t = perm[j];
        perm[j] = perm[r];
        perm[r] = t;
    }
    memcpy(out, perm, (size_t)k * sizeof(int64_t));
}

static int aot_rng_check_weights(aot_ctx *ctx, int node, const char *what, const double *p,
                                 int64_t m)
{
    for (int64_t i = 0; i < m; i++)
        if (!(p[i] >= 0) || !isfinite(p[i]))
            return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: the probabilities must be finite "
                            "and >= 0", what);
    return 0;
}

/* p: NULL (uniform) or m contiguous doubles (weights). */
static int aot_rng_choice(aot_ctx *ctx, int node, const char *what, const aot_array *state,
                          aot_array *new_state, aot_array *out, int64_t m, int replace,
                          const aot_array *p)
{
    aot_rng g = {0};   /* (set by aot_rng_load; GCC -O3 cannot always tell) */
    if (aot_rng_load(ctx, node, what, state, &g)) return -1;
    int64_t count = aot_size(out);
    int64_t *o = (int64_t *)out->data;
    if (m <= 0 && count)
        return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: cannot choose from an empty population "
                        "(a = %lld)", what, (long long)m);
    if (!replace && count > m)
        return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: cannot take %lld samples without "
                        "replacement from a population of %lld", what, (long long)count,
                        (long long)m);
    const double *w = NULL;
    if (p) {
        if (p->ndim != 1 || p->shape[0] != m || !aot_is_c_contiguous(p))
            return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: p has %lld entries for a population "
                            "of %lld", what, (long long)aot_size(p), (long long)m);
        w = (const double *)p->data;
        if (aot_rng_check_weights(ctx, node, what, w, m)) return -1;
    }
    if (!w && replace) {
        for (int64_t i = 0; i < count; i++)
            o[i] = aot_rng_below(aot_rng_uniform_at(&g, (uint64_t)i), m);
    } else {
        size_t bytes = (size_t)(m > 0 ? m : 1) * sizeof(double) * 2;
        char *scratch = (char *)malloc(bytes);
        if (!scratch) return aot_fail_nomem(ctx, node, bytes);
        if (!w) {
            aot_rng_shuffle_prefix(&g, m, count, 0, (int64_t *)scratch, o);
        } else {
            double *cdf = (double *)scratch, *left = cdf + m;
            memcpy(left, w, (size_t)m * sizeof(double));
            int64_t nonzero = 0;
            for (int64_t i = 0; i < m; i++) nonzero += left[i] != 0;
            int bad = replace ? 0 : nonzero < count;
            for (int64_t i = 0; i < count && !bad; i++) {
                if (i == 0 || !replace) {
                    double acc = 0;
                    for (int64_t k = 0; k < m; k++) cdf[k] = acc = acc + left[k];
                    if (replace && acc <= 0) {
                        bad = 2;
                        break;
                    }
                }
                int64_t k = aot_rng_pick(cdf, m, aot_rng_uniform_at(&g, (uint64_t)i) * cdf[m - 1]);
                o[i] = k;
                if (!replace) left[k] = 0.0;
            }
            free(scratch);
            if (bad == 1)
                return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: fewer than %lld nonzero "
                                "probabilities to take %lld samples without replacement", what,
                                (long long)count, (long long)count);
            if (bad == 2)
                return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: the probabilities p sum to 0",
                                what);
            scratch = NULL;
        }
        free(scratch);
    }
    aot_rng_store(new_state, &g, (uint64_t)((count + 1) / 2));
    return 0;
}

/* out: count rows of m (C-contiguous). */
static int aot_rng_permutation(aot_ctx *ctx, int node, const char *what, const aot_array *state,
                               aot_array *new_state, aot_array *out, int64_t m)
{
    aot_rng g = {0};   /* (set by aot_rng_load; GCC -O3 cannot always tell) */
    if (aot_rng_load(ctx, node, what, state, &g)) return -1;
    if (m < 0)
        return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: n must be >= 0, got %lld", what,
                        (long long)m);
    int64_t rows = 1;
    for (int d = 0; d < out->ndim - 1; d++) rows *= out->shape[d];
    size_t bytes = (size_t)(m > 0 ? m : 1) * sizeof(int64_t);
    int64_t *perm = (int64_t *)malloc(bytes);
    if (!perm) return aot_fail_nomem(ctx, node, bytes);
    for (int64_t r = 0; m > 0 && r < rows; r++)
        aot_rng_shuffle_prefix(&g, m, m, (uint64_t)(r * m), perm, (int64_t *)out->data + r * m);
    free(perm);
    aot_rng_store(new_state, &g, (uint64_t)((rows * m + 1) / 2));
    return 0;
}

/* out: rows x k counts (C-contiguous); n: 0-d or rows int64; pvals: k or rows x k doubles. */
static int aot_rng_multinomial(aot_ctx *ctx, int node, const char *what, const aot_array *state,
                               aot_array *new_state, aot_array *out, const aot_array *n,
                               const aot_array *pvals)
{
    aot_rng g = {0};   /* (set by aot_rng_load; GCC -O3 cannot always tell) */
    if (aot_rng_load(ctx, node, what, state, &g)) return -1;
    int64_t k = out->shape[out->ndim - 1];
    int64_t rows = 1;
    for (int d = 0; d < out->ndim - 1; d++) rows *= out->shape[d];
    int64_t ns, ps = 0;
    if (aot_rng_param(ctx, node, what, "n", n, rows, &ns)) return -1;
    if (!aot_is_c_contiguous(pvals) || pvals->shape[pvals->ndim - 1] != k
        || (pvals->ndim > 1 && aot_size(pvals) != rows * k))
        return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: pvals has %lld elements for %lld rows "
                        "of %lld categories", what, (long long)aot_size(pvals),
                        (long long)rows, (long long)k);
    if (pvals->ndim > 1) ps = k;
    const int64_t *nt = (const int64_t *)n->data;
    const double *pv = (const double *)pvals->data;
    int64_t *o = (int64_t *)out->data;
    for (int64_t i = 0; i < (ns ? rows : (rows > 0)); i++)
        if (nt[i] < 0)
            return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: the number of trials must be >= 0, "
                            "got %lld", what, (long long)nt[i]);
    if (aot_rng_check_weights(ctx, node, what, pv, ps ? rows * k : k)) return -1;
    memset(o, 0, (size_t)(rows * k) * sizeof(int64_t));
    if (k > 0) {
        size_t bytes = (size_t)k * sizeof(double);
        double *cdf = (double *)malloc(bytes);
        if (!cdf) return aot_fail_nomem(ctx, node, bytes);
        for (int64_t i = 0; i < rows; i++) {
            const double *p = pv + i * ps;
            double acc = 0;
            for (int64_t c = 0; c < k; c++) cdf[c] = acc = acc + p[c];
            int64_t trials = nt[i * ns];
            if (trials && acc <= 0) {
                free(cdf);
                return aot_fail(ctx, node, AOT_ERR_VALUE, "%s: a row of pvals sums to 0", what);
            }
            for (int64_t t = 0; t < trials; t++) {
                uint32_t w[4];
                aot_rng_block(&g, (uint64_t)i, (uint32_t)(t >> 1), w);
                double u = (t & 1) ? aot_rng_u53(w[2], w[3]) : aot_rng_u53(w[0], w[1]);
                o[i * k + aot_rng_pick(cdf, k, u * acc)] += 1;
            }
        }
        free(cdf);
    }
    aot_rng_store(new_state, &g, (uint64_t)rows);
    return 0;
}

#if defined(__clang__)
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif

#endif /* AOTSYM_RANDOM_H */
