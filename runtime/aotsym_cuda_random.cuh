/* aotsym_cuda_random.cuh: the CUDA spelling of Philox4x32-10 and the random draws.
 *
 * Part of the runtime (emit_cuda -> build -> module + runtime/).  The same algorithm as
 * aotsym/graph/philox.py (the NumPy reference) and runtime/aotsym_random.h (C), operation for
 * operation, so a seed gives the same stream on the GPU as on the CPU: the same 32-bit
 * words, the same word -> float conversions (53 bits for float64, 24 for float32) and the
 * same IEEE-exact transforms.  On the device every floating-point operation of a transform
 * is an explicitly rounded intrinsic (__dmul_rn, __dadd_rn, __ddiv_rn, __dsqrt_rn ...), which
 * nvcc never contracts into a fused multiply-add, whatever -fmad says; on the host (these
 * functions are __host__ __device__, so the agreement is testable without a GPU) they are the
 * plain operators.
 *
 * State: uint32 [key0, key1, counter_lo, counter_hi]; block counter + b is
 * (c0, c1) = the 64-bit block index, c2 = a sub-index, c3 = 0.  Kernels: one thread per
 * block (uniform, normal), per element (binomial, uniform choice) or per row (permutation,
 * multinomial); aot_cu_rng_advance gives the new state (blocks read as the C runtime counts).
 */
#ifndef AOTSYM_CUDA_RANDOM_CUH
#define AOTSYM_CUDA_RANDOM_CUH

#include <stdint.h>

#define AOT_CU_RNG __host__ __device__ __forceinline__

#ifdef __CUDA_ARCH__
#define AOT_CU_DADD(a, b) __dadd_rn((a), (b))
#define AOT_CU_DSUB(a, b) __dsub_rn((a), (b))
#define AOT_CU_DMUL(a, b) __dmul_rn((a), (b))
#define AOT_CU_DDIV(a, b) __ddiv_rn((a), (b))
#define AOT_CU_DSQRT(a) __dsqrt_rn(a)
#define AOT_CU_FADD(a, b) __fadd_rn((a), (b))
#define AOT_CU_FSUB(a, b) __fsub_rn((a), (b))
#define AOT_CU_FMUL(a, b) __fmul_rn((a), (b))
#else
#include <math.h>
#define AOT_CU_DADD(a, b) ((a) + (b))
#define AOT_CU_DSUB(a, b) ((a) - (b))
#define AOT_CU_DMUL(a, b) ((a) * (b))
#define AOT_CU_DDIV(a, b) ((a) / (b))
#define AOT_CU_DSQRT(a) sqrt(a)
#define AOT_CU_FADD(a, b) ((a) + (b))
#define AOT_CU_FSUB(a, b) ((a) - (b))
#define AOT_CU_FMUL(a, b) ((a) * (b))
#endif

struct aot_cu_rng {
    uint32_t k0, k1;
    uint64_t counter;
};

AOT_CU_RNG aot_cu_rng aot_cu_rng_load(const uint32_t *state)
{
    aot_cu_rng g;
    g.k0 = state[0];
    g.k1 = state[1];
    g.counter = (uint64_t)state[2] | ((uint64_t)state[3] << 32);
    return g;
}

/* new_state <- the state advanced by nblocks (one thread writes it). */
AOT_CU_RNG void aot_cu_rng_advance(const uint32_t *state, uint64_t nblocks, uint32_t *new_state)
{
    uint64_t c = ((uint64_t)state[2] | ((uint64_t)state[3] << 32)) + nblocks;
    new_state[0] = state[0];
    new_state[1] = state[1];
    new_state[2] = (uint32_t)c;
    new_state[3] = (uint32_t)(c >> 32);
}

AOT_CU_RNG void aot_cu_philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = (uint32_t)p1;
        c[2] = n2;
        c[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

AOT_CU_RNG void aot_cu_rng_block(const aot_cu_rng &g, uint64_t index, uint32_t sub, uint32_t w[4])
{
    uint64_t ctr = g.counter + index;
    w[0] = (uint32_t)ctr;
    w[1] = (uint32_t)(ctr >> 32);
    w[2] = sub;
    w[3] = 0;
    aot_cu_philox4x32_10(w, g.k0, g.k1);
}

AOT_CU_RNG double aot_cu_rng_u53(uint32_t a, uint32_t b)
{
    return AOT_CU_DMUL(AOT_CU_DADD(AOT_CU_DMUL((double)(a >> 5), 67108864.0), (double)(b >> 6)),
                       0x1p-53);
}

AOT_CU_RNG float aot_cu_rng_u24(uint32_t a)
{
    return AOT_CU_FMUL((float)(a >> 8), 0x1p-24f);
}

/* fdlibm's e_log kernel (the constants of philox.py). */
AOT_CU_RNG double aot_cu_rng_log(double x)
{
    int k;
    double m = frexp(x, &k);
    if (m < 0x1.6a09e667f3bcdp-1) {
        m = AOT_CU_DMUL(m, 2.0);
        k -= 1;
    }
    double f = AOT_CU_DSUB(m, 1.0);
    double s = AOT_CU_DDIV(f, AOT_CU_DADD(2.0, f));
    double dk = (double)k;
    double z = AOT_CU_DMUL(s, s);
    double w = AOT_CU_DMUL(z, z);
    double t1 = AOT_CU_DMUL(w, AOT_CU_DADD(0x1.999999997fa04p-2, AOT_CU_DMUL(w,
                AOT_CU_DADD(0x1.c71c51d8e78afp-3, AOT_CU_DMUL(w, 0x1.39a09d078c69fp-3)))));
    double t2 = AOT_CU_DMUL(z, AOT_CU_DADD(0x1.5555555555593p-1, AOT_CU_DMUL(w,
                AOT_CU_DADD(0x1.2492494229359p-2, AOT_CU_DMUL(w,
                AOT_CU_DADD(0x1.7466496cb03dep-3, AOT_CU_DMUL(w, 0x1.2f112df3e5244p-3)))))));
    double r = AOT_CU_DADD(t2, t1);
    double hfsq = AOT_CU_DMUL(AOT_CU_DMUL(0.5, f), f);
    double inner = AOT_CU_DADD(AOT_CU_DMUL(s, AOT_CU_DADD(hfsq, r)),
                               AOT_CU_DMUL(dk, 0x1.a39ef35793c76p-33));
    return AOT_CU_DSUB(AOT_CU_DMUL(dk, 0x1.62e42feep-1),
                       AOT_CU_DSUB(AOT_CU_DSUB(hfsq, inner), f));
}

AOT_CU_RNG double aot_cu_rng_ksin(double x)
{
    double z = AOT_CU_DMUL(x, x);
    double v = AOT_CU_DMUL(z, x);
    double r = AOT_CU_DADD(0x1.111111110f8a6p-7, AOT_CU_DMUL(z, AOT_CU_DADD(-0x1.a01a019c161d5p-13,
               AOT_CU_DMUL(z, AOT_CU_DADD(0x1.71de357b1fe7dp-19, AOT_CU_DMUL(z,
               AOT_CU_DADD(-0x1.ae5e68a2b9cebp-26, AOT_CU_DMUL(z, 0x1.5d93a5acfd57cp-33))))))));
    return AOT_CU_DADD(x, AOT_CU_DMUL(v, AOT_CU_DADD(-0x1.5555555555549p-3, AOT_CU_DMUL(z, r))));
}

AOT_CU_RNG double aot_cu_rng_kcos(double x)
{
    double z = AOT_CU_DMUL(x, x);
    double r = AOT_CU_DMUL(z, AOT_CU_DADD(0x1.555555555554cp-5, AOT_CU_DMUL(z,
               AOT_CU_DADD(-0x1.6c16c16c15177p-10, AOT_CU_DMUL(z, AOT_CU_DADD(0x1.a01a019cb159p-16,
               AOT_CU_DMUL(z, AOT_CU_DADD(-0x1.27e4f809c52adp-22, AOT_CU_DMUL(z,
               AOT_CU_DADD(0x1.1ee9ebdb4b1c4p-29, AOT_CU_DMUL(z, -0x1.8fae9be8838d4p-37)))))))))));
    double hz = AOT_CU_DMUL(0.5, z);
    double w = AOT_CU_DSUB(1.0, hz);
    return AOT_CU_DADD(w, AOT_CU_DADD(AOT_CU_DSUB(AOT_CU_DSUB(1.0, w), hz), AOT_CU_DMUL(z, r)));
}

AOT_CU_RNG void aot_cu_rng_cos_sin_2pi(double u, double *c, double *s)
{
    double t = AOT_CU_DMUL(4.0, u);
    double q = floor(t);
    double r = AOT_CU_DSUB(t, q);
    int up = r > 0.5;
    if (up) r = AOT_CU_DSUB(r, 1.0);
    int quadrant = (int)(((int64_t)q + up) & 3);
    double x = AOT_CU_DMUL(r, 0x1.921fb54442d18p+0);
    double ks = aot_cu_rng_ksin(x), kc = aot_cu_rng_kcos(x);
    switch (quadrant) {
    case 0: *c = kc; *s = ks; break;
    case 1: *c = -ks; *s = kc; break;
    case 2: *c = -kc; *s = -ks; break;
    default: *c = ks; *s = -kc; break;
    }
}

/* The two standard normals of block index (elements 2 index and 2 index + 1). */
AOT_CU_RNG void aot_cu_rng_normal_pair(const aot_cu_rng &g, uint64_t index, double z[2])
{
    uint32_t w[4];
    aot_cu_rng_block(g, index, 0, w);
    double u1 = aot_cu_rng_u53(w[0], w[1]), u2 = aot_cu_rng_u53(w[2], w[3]);
    double r = AOT_CU_DSQRT(AOT_CU_DMUL(-2.0, aot_cu_rng_log(AOT_CU_DSUB(1.0, u1))));
    double c, s;
    aot_cu_rng_cos_sin_2pi(u2, &c, &s);
    z[0] = AOT_CU_DMUL(r, c);
    z[1] = AOT_CU_DMUL(r, s);
}

AOT_CU_RNG double aot_cu_rng_uniform_at(const aot_cu_rng &g, uint64_t q)
{
    uint32_t w[4];
    aot_cu_rng_block(g, q >> 1, 0, w);
    return (q & 1) ? aot_cu_rng_u53(w[2], w[3]) : aot_cu_rng_u53(w[0], w[1]);
}

AOT_CU_RNG int64_t aot_cu_rng_below(double u, int64_t m)
{
    int64_t r = (int64_t)floor(AOT_CU_DMUL(u, (double)m));
    return r > m - 1 ? m - 1 : r;
}

AOT_CU_RNG int64_t aot_cu_rng_pick(const double *cdf, int64_t m, double target)
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

/* ---- per-element values (what one thread computes) */

/* Element i of uniform(low, high), float64 and float32. */
AOT_CU_RNG double aot_cu_rng_uniform_f64(const aot_cu_rng &g, int64_t i, double lo, double hi)
{
    uint32_t w[4];
    aot_cu_rng_block(g, (uint64_t)(i >> 1), 0, w);
    double u = (i & 1) ? aot_cu_rng_u53(w[2], w[3]) : aot_cu_rng_u53(w[0], w[1]);
    return AOT_CU_DADD(lo, AOT_CU_DMUL(AOT_CU_DSUB(hi, lo), u));
}

AOT_CU_RNG float aot_cu_rng_uniform_f32(const aot_cu_rng &g, int64_t i, float lo, float hi)
{
    uint32_t w[4];
    aot_cu_rng_block(g, (uint64_t)(i >> 2), 0, w);
    float u = aot_cu_rng_u24(w[i & 3]);
    return AOT_CU_FADD(lo, AOT_CU_FMUL(AOT_CU_FSUB(hi, lo), u));
}

AOT_CU_RNG double aot_cu_rng_normal_f64(const aot_cu_rng &g, int64_t i, double avg, double std)
{
    double z[2];
    aot_cu_rng_normal_pair(g, (uint64_t)(i >> 1), z);
    return AOT_CU_DADD(avg, AOT_CU_DMUL(std, z[i & 1]));
}

AOT_CU_RNG float aot_cu_rng_normal_f32(const aot_cu_rng &g, int64_t i, float avg, float std)
{
    double z[2];
    aot_cu_rng_normal_pair(g, (uint64_t)(i >> 1), z);
    return AOT_CU_FADD(avg, AOT_CU_FMUL(std, (float)z[i & 1]));
}

AOT_CU_RNG int64_t aot_cu_rng_binomial(const aot_cu_rng &g, int64_t i, int64_t trials, double p)
{
    int64_t count = 0;
    for (int64_t sub = 0; 4 * sub < trials; sub++) {
        uint32_t w[4];
        aot_cu_rng_block(g, (uint64_t)i, (uint32_t)sub, w);
        for (int k = 0; k < 4 && 4 * sub + k < trials; k++)
            count += AOT_CU_DMUL((double)w[k], 0x1p-32) < p;
    }
    return count;
}

/* Row r of permutation(n = m), shuffled in place in row[0..m). */
AOT_CU_RNG void aot_cu_rng_permutation_row(const aot_cu_rng &g, int64_t r, int64_t m,
                                           int64_t *row)
{
    for (int64_t i = 0; i < m; i++) row[i] = i;
    for (int64_t j = 0; j < m; j++) {
        int64_t s = j + aot_cu_rng_below(aot_cu_rng_uniform_at(g, (uint64_t)(r * m + j)), m - j);
        int64_t t = row[j];
        row[j] = row[s];
        row[s] = t;
    }
}

/* Row i of multinomial: counts[0..k) of trials draws; cdf: k doubles of scratch. */
AOT_CU_RNG void aot_cu_rng_multinomial_row(const aot_cu_rng &g, int64_t i, int64_t trials,
                                           const double *p, int64_t k, double *cdf,
                                           int64_t *counts)
{
    double acc = 0;
    for (int64_t c = 0; c < k; c++) {
        acc = AOT_CU_DADD(acc, p[c]);
        cdf[c] = acc;
        counts[c] = 0;
    }
    for (int64_t t = 0; t < trials && k > 0; t++) {
        uint32_t w[4];
        aot_cu_rng_block(g, (uint64_t)i, (uint32_t)(t >> 1), w);
        double u = (t & 1) ? aot_cu_rng_u53(w[2], w[3]) : aot_cu_rng_u53(w[0], w[1]);
        counts[aot_cu_rng_pick(cdf, k, AOT_CU_DMUL(u, acc))] += 1;
    }
}

/* ---- kernels: one thread per element or row; params 0-d (step 0) or contiguous (1) */

__global__ void aot_cu_rng_uniform_f64_kernel(const uint32_t *state, int64_t n, double *out,
                                              const double *lo, int64_t ls, const double *hi,
                                              int64_t hs)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = aot_cu_rng_uniform_f64(aot_cu_rng_load(state), i, lo[i * ls], hi[i * hs]);
}

__global__ void aot_cu_rng_uniform_f32_kernel(const uint32_t *state, int64_t n, float *out,
                                              const float *lo, int64_t ls, const float *hi,
                                              int64_t hs)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = aot_cu_rng_uniform_f32(aot_cu_rng_load(state), i, lo[i * ls], hi[i * hs]);
}

__global__ void aot_cu_rng_normal_f64_kernel(const uint32_t *state, int64_t n, double *out,
                                             const double *avg, int64_t as, const double *std,
                                             int64_t ss)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = aot_cu_rng_normal_f64(aot_cu_rng_load(state), i, avg[i * as], std[i * ss]);
}

__global__ void aot_cu_rng_normal_f32_kernel(const uint32_t *state, int64_t n, float *out,
                                             const float *avg, int64_t as, const float *std,
                                             int64_t ss)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = aot_cu_rng_normal_f32(aot_cu_rng_load(state), i, avg[i * as], std[i * ss]);
}

__global__ void aot_cu_rng_binomial_kernel(const uint32_t *state, int64_t n, int64_t *out,
                                           const int64_t *trials, int64_t ts, const double *p,
                                           int64_t ps)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = aot_cu_rng_binomial(aot_cu_rng_load(state), i, trials[i * ts], p[i * ps]);
}

__global__ void aot_cu_rng_choice_kernel(const uint32_t *state, int64_t n, int64_t *out,
                                         int64_t m)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = aot_cu_rng_below(aot_cu_rng_uniform_at(aot_cu_rng_load(state),
                                                               (uint64_t)i), m);
}

__global__ void aot_cu_rng_permutation_kernel(const uint32_t *state, int64_t rows, int64_t m,
                                              int64_t *out)
{
    int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (r < rows) aot_cu_rng_permutation_row(aot_cu_rng_load(state), r, m, out + r * m);
}

/* cdf: rows x k doubles of scratch; pvals: k (ps = 0) or rows x k (ps = k). */
__global__ void aot_cu_rng_multinomial_kernel(const uint32_t *state, int64_t rows, int64_t k,
                                              const int64_t *trials, int64_t ts,
                                              const double *pvals, int64_t ps, double *cdf,
                                              int64_t *out)
{
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < rows)
        aot_cu_rng_multinomial_row(aot_cu_rng_load(state), i, trials[i * ts], pvals + i * ps, k,
                                   cdf + i * k, out + i * k);
}

/* The new state after a draw (blocks read: see philox.py for each distribution). */
__global__ void aot_cu_rng_advance_kernel(const uint32_t *state, uint64_t nblocks,
                                          uint32_t *new_state)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) aot_cu_rng_advance(state, nblocks, new_state);
}

#endif /* AOTSYM_CUDA_RANDOM_CUH */
