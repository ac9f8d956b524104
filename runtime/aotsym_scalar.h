/* aotsym_scalar.h: the helpers that the C backend's scalar table names.
 *
 * Part of the C runtime (compiled into every module).  aotsym/emit_c/scalar_table.py writes
 * expressions such as "AOT_FLOORDIV_INT({0}, {1})"; this file defines every AOT_* name used
 * there, with NumPy's semantics (aotsym_cuda_scalar.cuh is its device-side twin):
 *
 *   - integer floor division and modulo by zero give 0, and INT_MIN // -1 wraps to INT_MIN
 *     (never a trap: the division instruction is never executed for those operands);
 *   - AOT_FMAX / AOT_FMIN propagate NaN (np.maximum / np.minimum);
 *   - AOT_MOD_FLOAT has the sign of the divisor (np.mod), NaN for a zero divisor;
 *   - AOT_IPOW wraps on overflow; a negative exponent sets aot_scalar_flags, which the
 *     generated function turns into NumPy's ValueError.
 *
 * Integer helpers dispatch on the promoted C type with _Generic, so one macro serves every
 * integer width (int8/int16 operands promote to int, as C does).
 */
#ifndef AOTSYM_SCALAR_H
#define AOTSYM_SCALAR_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Vector math.  With AOT_LIBMVEC defined (by the build: aotsym/build/compiler.py
 * vector_math) libm's functions are declared to have SIMD variants, so the loops the compiler
 * vectorizes call glibc's libmvec (_ZGV*: 2, 4 or 8 lanes, as the target allows) instead of
 * one libm call per element: pow, exp, log ... 3-10x faster (tanh is AOT_TANH, below).
 * libmvec's functions are within 4 ulp of the correctly rounded result (libm's within 1)
 * and handle NaN, infinities and signed zeros as libm does (special lanes take the scalar
 * path).  AOT_LIBMVEC 1: the functions of glibc 2.22's libmvec (a module that runs on any
 * glibc since 2015); 2: also those of glibc 2.35 (built where it runs: the in-process
 * cache). */
#if defined(AOT_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AOT_SIMD_DECL(T, F) _Pragma("omp declare simd notinbranch") extern T F(T);
#define AOT_SIMD_DECL2(T, F) _Pragma("omp declare simd notinbranch") extern T F(T, T);
AOT_SIMD_DECL(double, exp) AOT_SIMD_DECL(double, log) AOT_SIMD_DECL(double, sin)
AOT_SIMD_DECL(double, cos) AOT_SIMD_DECL2(double, pow)
AOT_SIMD_DECL(float, expf) AOT_SIMD_DECL(float, logf) AOT_SIMD_DECL(float, sinf)
AOT_SIMD_DECL(float, cosf) AOT_SIMD_DECL2(float, powf)
#if AOT_LIBMVEC >= 2
AOT_SIMD_DECL(double, tan) AOT_SIMD_DECL(double, expm1)
AOT_SIMD_DECL(double, log1p) AOT_SIMD_DECL(double, log2) AOT_SIMD_DECL(double, log10)
AOT_SIMD_DECL(double, exp2) AOT_SIMD_DECL(double, sinh) AOT_SIMD_DECL(double, cosh)
AOT_SIMD_DECL(double, asin) AOT_SIMD_DECL(double, acos) AOT_SIMD_DECL(double, atan)
AOT_SIMD_DECL(double, asinh) AOT_SIMD_DECL(double, acosh) AOT_SIMD_DECL(double, atanh)
AOT_SIMD_DECL(double, erf) AOT_SIMD_DECL(double, erfc) AOT_SIMD_DECL2(double, atan2)
AOT_SIMD_DECL(float, tanf) AOT_SIMD_DECL(float, expm1f)
AOT_SIMD_DECL(float, log1pf) AOT_SIMD_DECL(float, log2f) AOT_SIMD_DECL(float, log10f)
AOT_SIMD_DECL(float, exp2f) AOT_SIMD_DECL(float, sinhf) AOT_SIMD_DECL(float, coshf)
AOT_SIMD_DECL(float, asinf) AOT_SIMD_DECL(float, acosf) AOT_SIMD_DECL(float, atanf)
AOT_SIMD_DECL(float, asinhf) AOT_SIMD_DECL(float, acoshf) AOT_SIMD_DECL(float, atanhf)
AOT_SIMD_DECL(float, erff) AOT_SIMD_DECL(float, erfcf) AOT_SIMD_DECL2(float, atan2f)
#endif
#endif

/* An elementwise kernel's unit-stride block (aotsym/emit_c/elemwise_kernel.c.j2), called for
 * a row's first multiple of a group and again for its padded last elements: compiled once,
 * neither inlined at those calls nor cloned for the constant length of the second (a
 * 1,000-op fused body would be compiled twice). */
#if defined(__clang__)
#define AOT_ONE_COPY __attribute__((noinline))
#elif defined(__GNUC__)
#define AOT_ONE_COPY __attribute__((noinline, noclone))
#else
#define AOT_ONE_COPY
#endif
/* An elementwise kernel (its loop, block and row functions, between the lines AOT_UNIT_BEGIN
 * and AOT_UNIT_END of the module's C): its row function is static here, compiled with the
 * rest of the module; the build may compile kernels in a translation unit of their own, on
 * another core, where this macro is redefined empty (aotsym/build/compiler.py split_units). */
#define AOT_UNIT_FN static

/* Set (never cleared here) when a kernel meets an operation NumPy reports as an error. */
#define AOT_FLAG_NEGATIVE_POWER 1
static int aot_scalar_flags;

#define AOT_DEFINE_INT_DIVMOD(NAME, T, UT)                                         \
    static inline T aot_floordiv_##NAME(T a, T b)                                  \
    {                                                                              \
        if (b == 0) return 0;                                                      \
        if (b == -1) return (T)((UT)0 - (UT)a);                                    \
        T q = a / b;                                                               \
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;                          \
        return q;                                                                  \
    }                                                                              \
    static inline T aot_mod_##NAME(T a, T b)                                       \
    {                                                                              \
        if (b == 0 || b == -1) return 0;                                           \
        T r = a % b;                                                               \
        if (r != 0 && ((r < 0) != (b < 0))) r += b;                                \
        return r;                                                                  \
    }

AOT_DEFINE_INT_DIVMOD(i32, int, unsigned int)
AOT_DEFINE_INT_DIVMOD(il, long, unsigned long)
AOT_DEFINE_INT_DIVMOD(ill, long long, unsigned long long)

#define AOT_FLOORDIV_INT(a, b) _Generic((a) + (b), \
    int: aot_floordiv_i32, long: aot_floordiv_il, long long: aot_floordiv_ill)((a), (b))
#define AOT_MOD_INT(a, b) _Generic((a) + (b), \
    int: aot_mod_i32, long: aot_mod_il, long long: aot_mod_ill)((a), (b))

static inline double aot_mod_double(double a, double b)
{
    double m = fmod(a, b);
    if (b == 0.0) return m; /* NaN, as NumPy */
    if (m != 0.0) {
        if ((b < 0) != (m < 0)) m += b;
    } else {
        m = copysign(0.0, b);
    }
    return m;
}

static inline float aot_mod_float(float a, float b)
{
    float m = fmodf(a, b);
    if (b == 0.0f) return m;
    if (m != 0.0f) {
        if ((b < 0) != (m < 0)) m += b;
    } else {
        m = copysignf(0.0f, b);
    }
    return m;
}

/* NumPy's npy_floor_divide: the quotient consistent with np.mod, rounded like NumPy. */
static inline double aot_floordiv_double(double a, double b)
{
    if (b == 0.0) return a / b;
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
    if (div == 0.0) return copysign(0.0, a / b);
    double fl = floor(div);
    if (div - fl > 0.5) fl += 1.0;
    return fl;
}

static inline float aot_floordiv_float(float a, float b)
{
    if (b == 0.0f) return a / b;
    float mod = fmodf(a, b);
    float div = (a - mod) / b;
    if (mod != 0.0f && ((b < 0) != (mod < 0))) div -= 1.0f;
    if (div == 0.0f) return copysignf(0.0f, a / b);
    float fl = floorf(div);
    if (div - fl > 0.5f) fl += 1.0f;
    return fl;
}

#define AOT_FLOORDIV_FLOAT(a, b) aot_floordiv_double((a), (b))
#define AOT_FLOORDIV_FLOATf(a, b) aot_floordiv_float((a), (b))
#define AOT_MOD_FLOAT(a, b) aot_mod_double((a), (b))
#define AOT_MOD_FLOATf(a, b) aot_mod_float((a), (b))

/* Integer power by squaring in unsigned arithmetic (wraps like NumPy, no UB). */
#define AOT_DEFINE_IPOW(NAME, T, UT)                                               \
    static inline T aot_ipow_##NAME(T base, T exp)                                 \
    {                                                                              \
        if (exp < 0) {                                                             \
            __atomic_fetch_or(&aot_scalar_flags, AOT_FLAG_NEGATIVE_POWER,          \
                              __ATOMIC_RELAXED);                                   \
            return 0;                                                              \
        }                                                                          \
        UT result = 1, b = (UT)base;                                               \
        while (exp) {                                                              \
            if (exp & 1) result *= b;                                              \
            exp >>= 1;                                                             \
            b *= b;                                                                \
        }                                                                          \
        return (T)result;                                                          \
    }
#define AOT_DEFINE_UPOW(NAME, T)                                                   \
    static inline T aot_ipow_##NAME(T base, T exp)                                 \
    {                                                                              \
        T result = 1;                                                              \
        while (exp) {                                                              \
            if (exp & 1) result *= base;                                           \
            exp >>= 1;                                                             \
            base *= base;                                                          \
        }                                                                          \
        return result;                                                             \
    }

AOT_DEFINE_IPOW(i32, int, unsigned int)
AOT_DEFINE_IPOW(il, long, unsigned long)
AOT_DEFINE_IPOW(ill, long long, unsigned long long)
AOT_DEFINE_UPOW(u32, unsigned int)
AOT_DEFINE_UPOW(ul, unsigned long)
AOT_DEFINE_UPOW(ull, unsigned long long)

#define AOT_IPOW(a, b) _Generic((a) + (b),                                         \
    int: aot_ipow_i32, long: aot_ipow_il, long long: aot_ipow_ill,                 \
    unsigned int: aot_ipow_u32, unsigned long: aot_ipow_ul,                        \
    unsigned long long: aot_ipow_ull)((a), (b))

/* A dot product's kernels (the small gemv, the fused gemv pair's row loops) are compiled with
 * contraction (GCC's -ffp-contract=fast for those functions only): their sums are BLAS's kind
 * (no NumPy elementwise rounding to match), and a fused multiply-add per term is half their
 * instructions.  Code inlined into such a kernel is contracted with it, so an elementwise
 * chain a kernel runs is a function of its own (AOT_ONE_COPY), rounded as NumPy rounds. */
#if defined(__GNUC__) && !defined(__clang__)
#define AOT_CONTRACT __attribute__((optimize("fp-contract=fast")))
#else
#define AOT_CONTRACT
#endif

/* a * b + c in the runtime's own polynomials (tanh): one fused instruction where the target
 * has it.  Modules are compiled with -ffp-contract=off, so that no a * b + c the graph spells
 * is fused (NumPy rounds the product: x * 0.2 + 0.5 is exactly 0 at x = -2.5, hard_sigmoid's
 * kink, and a fused one is -2.8e-17); these functions choose their fusions themselves. */
#if defined(__FMA__)
#define AOT_MADD(a, b, c) _Generic((a) * (b) + (c), float: __builtin_fmaf, \
                                   default: __builtin_fma)((a), (b), (c))
#else
#define AOT_MADD(a, b, c) ((a) * (b) + (c))
#endif

/* np.maximum / np.minimum: a NaN in either operand gives NaN. */
/* Numerically stable logistic and softplus (log(1 + exp(x))), without branches: both sides
 * computed and one picked by a bit mask (aot_pick_d/f), so that a loop of them vectorizes and
 * calls libmvec (GCC 12 if-converts no loop that holds a call).  The same values as the
 * branching forms: exp(-|x|) is exp(-x) for x >= 0 and exp(x) below; a NaN gives NaN. */
static inline double aot_pick_d(int c, double a, double b)
{
    uint64_t ua, ub, m = (uint64_t)0 - (uint64_t)(c != 0), r;
    double out;
    memcpy(&ua, &a, 8);
    memcpy(&ub, &b, 8);
    r = (ua & m) | (ub & ~m);
    memcpy(&out, &r, 8);
    return out;
}
static inline float aot_pick_f(int c, float a, float b)
{
    uint32_t ua, ub, m = (uint32_t)0 - (uint32_t)(c != 0), r;
    float out;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    r = (ua & m) | (ub & ~m);
    memcpy(&out, &r, 4);
    return out;
}
/* np.maximum / np.minimum (a NaN on either side wins) and np.sign (NaN stays NaN, either
 * zero gives +0.0, as NumPy's), branch-free like the two below, so that a loop that also calls
 * libmvec still vectorizes (GCC 12 if-converts no loop that holds a call: a ?: in a fused body
 * beside an exp made the whole loop scalar, one libm call per element). */
#define AOT_FMAX(a, b) _Generic((a) + (b), float: aot_fmax_f, default: aot_fmax_d)((a), (b))
#define AOT_FMIN(a, b) _Generic((a) + (b), float: aot_fmin_f, default: aot_fmin_d)((a), (b))
static inline double aot_fmax_d(double a, double b)
{
    return aot_pick_d((a >= b) | (a != a), a, b);
}
static inline double aot_fmin_d(double a, double b)
{
    return aot_pick_d((a <= b) | (a != a), a, b);
}
static inline float aot_fmax_f(float a, float b)
{
    return aot_pick_f((a >= b) | (a != a), a, b);
}
static inline float aot_fmin_f(float a, float b)
{
    return aot_pick_f((a <= b) | (a != a), a, b);
}
#define AOT_SIGN(x) _Generic((x), float: aot_sign_f, default: aot_sign_d)(x)
static inline double aot_sign_d(double x)
{
    return aot_pick_d(x > 0, 1.0, aot_pick_d(x < 0, -1.0, x + 0.0));
}
static inline float aot_sign_f(float x)
{
    return aot_pick_f(x > 0, 1.0f, aot_pick_f(x < 0, -1.0f, x + 0.0f));
}
/* T.switch on floats: both sides are values already (a fused body computes every operand),
 * so picking costs no evaluation the branch would have saved. */
#define AOT_SELECT(c, a, b) _Generic((a) + (b), float: aot_pick_f((c), (a), (b)), \
                                     double: aot_pick_d((c), (a), (b)), default: ((c) ? (a) : (b)))

static inline double AOT_SIGMOID(double x)
{
    const double e = exp(-fabs(x));
    return aot_pick_d(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e));
}
static inline float AOT_SIGMOIDf(float x)
{
    const float e = expf(-fabsf(x));
    return aot_pick_f(x >= 0, 1.0f / (1.0f + e), e / (1.0f + e));
}
static inline double AOT_SOFTPLUS(double x)
{
    return aot_pick_d(x > 0, x, 0.0) + log1p(exp(-fabs(x)));
}
static inline float AOT_SOFTPLUSf(float x)
{
    return aot_pick_f(x > 0, x, 0.0f) + log1pf(expf(-fabsf(x)));
}

/* tanh, inline and branch-free, so that its loops vectorize without a call (the RNN's and the
 * MLP's activation).  |x| < 0.625: Cephes's x + x z P(z) / Q(z), z = x^2 (float: x + x z P(z));
 * otherwise 1 - 2 / (e^(2|x|) + 1) with the sign of x, e^y = 2^n e^r for y = n ln2 + r,
 * |r| <= ln2 / 2, 2^n made in the exponent bits (no int64 <-> double conversion: AVX2 has
 * none).  float64 takes Cephes's e^r = (Q + rP) / (Q - rP), so that both sides end in the one
 * division 2 (Q - rP) / (2^n (Q + rP) + Q - rP); float32 a degree-7 polynomial for e^r.
 * |x| is clamped at 22 (float: 20), past which tanh rounds to 1; a NaN passes the clamp (its
 * comparison is false) and propagates; +-0 and subnormals are returned as they are.
 * Measured against tanhl / double tanh over 2e7 points in [-25, 25] and [2^-40, 1]: at most
 * 1.50 ulp (float64) and 1.37 ulp (float32), where libmvec's are documented within 4.  A
 * loop of 100 float64 on this project's AMD EPYC (AVX2): 1.9-2.0 ns an element against
 * libmvec's _ZGVdN4v_tanh at 3.4-3.7 (float32, 1000: 0.83 against 0.95); and where there is
 * no libmvec tanh (a portable module: glibc 2.22's set lacks it; Clang; not x86-64) the loop
 * was one libm call per element. */
static inline double AOT_TANH(double x)
{
    const double a = fabs(x);
    const double z = x * x;
    const double sp = AOT_MADD(AOT_MADD(-9.64399179425052238628E-1, z, -9.92877231001918586564E1),
                               z, -1.61468768441708447952E3);
    const double sq = AOT_MADD(AOT_MADD(z + 1.12811678491632931402E2, z,
                                        2.23548839060100448583E3), z, 4.84406305325125486048E3);
    const double y = 2.0 * aot_pick_d(a > 22.0, 22.0, a);
    const double k = AOT_MADD(y, 1.4426950408889634074, 0x1.8p52);   /* n in the low bits */
    const double n = k - 0x1.8p52;
    const double r = AOT_MADD(-n, 1.42860682030941723212E-6,
                              AOT_MADD(-n, 6.93145751953125E-1, y));
    const double rr = r * r;
    const double rp = r * AOT_MADD(AOT_MADD(1.26177193074810590878E-4, rr,
                                            3.02994407707441961300E-2), rr,
                                   9.99999999999999999910E-1);
    const double eq = AOT_MADD(AOT_MADD(AOT_MADD(3.00198505138664455042E-6, rr,
                                                 2.52448340349684104192E-3), rr,
                                        2.27265548208155028766E-1), rr, 2.00000000000000000009E0);
    uint64_t bits;
    double scale;
    memcpy(&bits, &k, 8);
    bits = (bits + (uint64_t)(1023 - 0x8000000000000LL)) << 52;   /* 2^n */
    memcpy(&scale, &bits, 8);
    const double d = eq - rp;
    const int small = a < 0.625;
    const double t = aot_pick_d(small, x * z * sp, 2.0 * d) /
                     aot_pick_d(small, sq, AOT_MADD(scale, eq + rp, d));
    return aot_pick_d(x == 0, x, aot_pick_d(small, x + t, copysign(1.0 - t, x)));
}
static inline float AOT_TANHf(float x)
{
    const float a = fabsf(x);
    const float z = x * x;
    const float sp = AOT_MADD(AOT_MADD(AOT_MADD(AOT_MADD(-5.70498872745E-3f, z, 2.06390887954E-2f),
                                                z, -5.37397155531E-2f), z, 1.33314422036E-1f),
                              z, -3.33332819422E-1f) * z;
    const float y = 2.0f * aot_pick_f(a > 20.0f, 20.0f, a);
    const float k = AOT_MADD(y, 1.44269504088896341f, 0x1.8p23f);
    const float n = k - 0x1.8p23f;
    const float r = AOT_MADD(n, 2.12194440e-4f, AOT_MADD(-n, 0.693359375f, y));
    float e = 1.0f / 5040.0f;
    e = AOT_MADD(e, r, 1.0f / 720.0f);
    e = AOT_MADD(e, r, 1.0f / 120.0f);
    e = AOT_MADD(e, r, 1.0f / 24.0f);
    e = AOT_MADD(e, r, 1.0f / 6.0f);
    e = AOT_MADD(e, r, 0.5f);
    e = AOT_MADD(e, r, 1.0f);
    e = AOT_MADD(e, r, 1.0f);
    uint32_t bits;
    float scale;
    memcpy(&bits, &k, 4);
    bits = (bits + (uint32_t)(127 - 0x400000)) << 23;   /* 2^n */
    memcpy(&scale, &bits, 4);
    const float t = 2.0f / AOT_MADD(scale, e, 1.0f);
    return aot_pick_f(x == 0, x, aot_pick_f(a < 0.625f, AOT_MADD(x, sp, x),
                                            copysignf(1.0f - t, x)));
}

/* AOT_WIDE: a loop bound by arithmetic (the ops aotsym/emit_c/elementwise.py's
 * work_estimate counts expensive: libm's functions -- libmvec's pow, exp, sin ..., the inline
 * tanh and exp below --, divisions, square roots) is compiled for 512-bit vectors where the
 * target has AVX-512: GCC's default there is 256-bit; twice the lanes per call (glibc's
 * _ZGVeN8v* against _ZGVdN4v*).  Timed by hand (a C loop; no benchmark case isolates it) on
 * this project's Intel Xeon: libmvec's pow over 10^4 elements 70 us against 125.  Loops
 * that only move memory keep the default width.  (elemwise_kernel.c.j2 marks the loop and
 * the block function that inlines it, so that both are compiled alike.) */
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define AOT_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#define AOT_WIDE
#endif

/* x ** y for a base x that is the same for the whole loop (a scalar operand: the seed's
 * polynomial, x ** arange(n); a discount factor gamma ** t): exp(y log x), log x taken once
 * per call as a double-double lh + ll (logl: 64 bits of mantissa), so that the only work per
 * element is an inline, branch-free exp that loops vectorize without a call.
 *
 * aot_pow_log(x, &lh, &ll) is 0 where that form does not hold -- x not finite, not above 0,
 * or 1 (1 ** nan is 1), or no long double wider than double -- and the loop takes pow
 * instead.  Otherwise y log x = t + c exactly to ~2^-100 (t = y * lh, its rounding error by
 * an exact product: fma, or Dekker's where the target has no fma), and aot_exp_dd(t, c)
 * computes e^(t + c): n = round(t / ln2), r = t - n ln2 + c (ln2 in two parts, the first
 * product exact), e^r = 1 + expm1(r) by its Taylor series to r^13 (|r| <= 0.35: the first
 * term left out is below 2^-57), 2^n applied as two factors (n reaches +-1443: t is clamped
 * to +-1000, past which the result is 0 or inf anyway) so that a subnormal result is rounded
 * once.  NaN propagates (y NaN: t NaN), infinities give 0 or inf as pow does.  Measured
 * against powl over 2e7 points (bases 2^-1000 .. 2^1000, exponents to the overflow edge,
 * integer exponents to 10^4): at most 1.05 ulp, libmvec's pow at most 1.0 (documented
 * within 4); a C loop over 10^4 elements 21 us against libmvec's 121 (AVX2), 86 against 111
 * (x86-64-v2: no fma), 16 against 70 (AVX-512), on this project's Intel Xeon. */
static inline double aot_exp_dd(double t, double c)
{
    const int in = fabs(t) <= 1000.0;                               /* false for NaN */
    const double tc = aot_pick_d(in | (t != t), t, aot_pick_d(t > 0, 1000.0, -1000.0));
    const double k = AOT_MADD(tc, 0x1.71547652b82fep0, 0x1.8p52);   /* n in the low bits */
    const double n = k - 0x1.8p52;
    const double rh = tc - n * 0x1.62e42fee00000p-1;                /* exact */
    const double rl = AOT_MADD(-n, 0x1.a39ef35793c76p-33, aot_pick_d(in, c, 0.0));
    const double r = rh + rl;
    const double lo = (rh - r) + rl;
    double p = 1.0 / 6227020800.0;
    p = AOT_MADD(p, r, 1.0 / 479001600.0);
    p = AOT_MADD(p, r, 1.0 / 39916800.0);
    p = AOT_MADD(p, r, 1.0 / 3628800.0);
    p = AOT_MADD(p, r, 1.0 / 362880.0);
    p = AOT_MADD(p, r, 1.0 / 40320.0);
    p = AOT_MADD(p, r, 1.0 / 5040.0);
    p = AOT_MADD(p, r, 1.0 / 720.0);
    p = AOT_MADD(p, r, 1.0 / 120.0);
    p = AOT_MADD(p, r, 1.0 / 24.0);
    p = AOT_MADD(p, r, 1.0 / 6.0);
    p = AOT_MADD(p, r, 0.5);
    const double y = 1.0 + (AOT_MADD(r * r, p, AOT_MADD(lo, r, lo)) + r);
    const double k1 = AOT_MADD(n, 0.5, 0x1.8p52);                  /* n1 = n / 2, rounded */
    const double k2 = (n - (k1 - 0x1.8p52)) + 0x1.8p52;            /* n2 = n - n1 */
    uint64_t b1, b2;
    double s1, s2;
    memcpy(&b1, &k1, 8);
    memcpy(&b2, &k2, 8);
    b1 = (b1 + (uint64_t)(1023 - 0x8000000000000LL)) << 52;        /* 2^n1 */
    b2 = (b2 + (uint64_t)(1023 - 0x8000000000000LL)) << 52;
    memcpy(&s1, &b1, 8);
    memcpy(&s2, &b2, 8);
    return y * s1 * s2;
}
static inline int aot_pow_log(double x, double *lh, double *ll)
{
#if LDBL_MANT_DIG >= 64
    if (!(x > 0) || x == 1.0 || x == (double)INFINITY)
        return 0;
    const long double l = logl((long double)x);
    *lh = (double)l;
    *ll = (double)(l - (long double)*lh);
    return 1;
#else
    (void)x; (void)lh; (void)ll;
    return 0;
#endif
}
static inline double aot_pow_from_log(double y, double lh, double ll)
{
    const double t = y * lh;
#if defined(__FMA__)
    const double e = __builtin_fma(y, lh, -t);
#else
    const double sy = y * 134217729.0, sl = lh * 134217729.0;      /* Veltkamp's split */
    const double yh = sy - (sy - y), yl = y - yh, hh = sl - (sl - lh), hl = lh - hh;
    const double e = ((yh * hh - t) + yh * hl + yl * hh) + yl * hl;
#endif
    return aot_exp_dd(t, AOT_MADD(y, ll, e));
}

/* int64 -> float64, the value C's conversion gives (rounded to nearest), in a form loops can
 * vectorize: x86-64 before AVX-512DQ has no vector int64 -> double conversion, and one such
 * cast in a loop kept GCC from vectorizing all of it (the seed's polynomial, pow(x, (double)k)
 * per element: libm's scalar pow instead of libmvec's).  The two 32-bit halves convert
 * exactly (vcvtdq2pd), hi * 2^32 is exact, and the one rounding is the final sum's: the
 * correctly rounded value of x, as (double)x (checked on 10^8 random values and the edges). */
static inline double aot_i64_to_f64(int64_t x)
{
#if defined(__AVX512DQ__)
    return (double)x;
#else
    return (double)(int32_t)(x >> 32) * 4294967296.0 +
           ((double)(int32_t)((uint32_t)x ^ 0x80000000u) + 2147483648.0);
#endif
}

/* Float -> integer conversion: the table of aotsym.graph.scalar.float_to_int (NumPy on
 * x86-64), never undefined behaviour (every C conversion below is of a value in range).
 * int32/int64: the truncated value if it fits, else (nan, +-inf, out of range) the minimum;
 * int8/int16/uint8/uint16: the int32 result's low bits; uint32/uint64 (b bits): the value if
 * in [0, 2^b), its two's complement if in [-2^(b-1), 0), 0 if >= 2^b or +inf, else 2^(b-1). */
static inline int32_t aot_f2i_i32(double x)
{
    return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}
static inline int64_t aot_f2i_i64(double x)
{
    return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x
                                                                       : INT64_MIN;
}
static inline int8_t aot_f2i_i8(double x) { return (int8_t)(uint8_t)(uint32_t)aot_f2i_i32(x); }
static inline int16_t aot_f2i_i16(double x)
{
    return (int16_t)(uint16_t)(uint32_t)aot_f2i_i32(x);
}
static inline uint8_t aot_f2i_u8(double x) { return (uint8_t)(uint32_t)aot_f2i_i32(x); }
static inline uint16_t aot_f2i_u16(double x) { return (uint16_t)(uint32_t)aot_f2i_i32(x); }
static inline uint32_t aot_f2i_u32(double x)
{
    if (x > -1.0 && x < 4294967296.0) return (uint32_t)x;
    if (x > -2147483649.0 && x < 0) return (uint32_t)(int32_t)x;
    return x >= 4294967296.0 ? 0u : 2147483648u;
}
static inline uint64_t aot_f2i_u64(double x)
{
    if (x > -1.0 && x < 18446744073709551616.0) return (uint64_t)x;
    if (x >= -9223372036854775808.0 && x < 0) return (uint64_t)(int64_t)x;
    return x >= 18446744073709551616.0 ? 0u : 9223372036854775808u;
}

/* max / min of integers (clip): NumPy's minimum(maximum(x, lo), hi), hi wins if lo > hi */
#define AOT_IMAX(a, b) __extension__({ __typeof__(a) a_ = (a), b_ = (b); a_ > b_ ? a_ : b_; })
#define AOT_IMIN(a, b) __extension__({ __typeof__(a) a_ = (a), b_ = (b); a_ < b_ ? a_ : b_; })

/* NumPy's order of complex numbers (its CLT / CLE): by real part, then by imaginary part;
 * a NaN imaginary part makes the real parts' order count for nothing. */
#define AOT_CLT(a, b) \
    ((__real__(a) < __real__(b) && !isnan(__imag__(a)) && !isnan(__imag__(b))) \
     || (__real__(a) == __real__(b) && __imag__(a) < __imag__(b)))
#define AOT_CLE(a, b) \
    ((__real__(a) < __real__(b) && !isnan(__imag__(a)) && !isnan(__imag__(b))) \
     || (__real__(a) == __real__(b) && __imag__(a) <= __imag__(b)))

#endif /* AOTSYM_SCALAR_H */
