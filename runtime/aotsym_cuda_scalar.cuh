/* aotsym_cuda_scalar.cuh: the device helpers that the CUDA scalar table names.
 *
 * Part of the runtime, on the CUDA side: aotsym/emit_cuda/scalar_table.py writes expressions
 * such as "aot_cu_floordiv({0}, {1})"; this file defines every aot_cu_* name used there, as
 * __device__ functions with NumPy's semantics, line for line the same as the C runtime's
 * macros in aotsym_scalar.h (AOT_FLOORDIV_*, AOT_MOD_*, AOT_IPOW, AOT_FMAX, AOT_SIGN, ...):
 *
 *   - integer floor division and modulo by zero give 0, and INT_MIN // -1 wraps to INT_MIN
 *     (the division instruction is never executed for those operands);
 *   - aot_cu_fmax / aot_cu_fmin propagate NaN (np.maximum / np.minimum; CUDA's fmax / fmin,
 *     like C's, return the other operand);
 *   - aot_cu_mod of floats has the sign of the divisor (np.mod), NaN for a zero divisor, and
 *     aot_cu_floordiv of floats is NumPy's npy_floor_divide (1.0 // 0.1 == 9.0);
 *   - aot_cu_ipow wraps on overflow; a negative exponent sets aot_cu_scalar_flags, which the
 *     generated host code reads back (cudaMemcpyFromSymbol) and turns into NumPy's ValueError;
 *   - complex numbers are thrust::complex<float> / thrust::complex<double> (CCCL, shipped
 *     with every CUDA toolkit, header-only, host and device); aot_cu_clt / aot_cu_cle order
 *     them as NumPy does: by real part, then imaginary part.
 *
 * C++ overloading replaces the C header's _Generic dispatch: the helpers are overloaded for
 * int, long, long long (int8/int16 operands promote to int, as in C, so the same overload is
 * chosen as the C macro's) and for float / double, so the CUDA table needs no per-type names.
 * Every name carries the aot_cu_ prefix so that a translation unit may also include the C
 * runtime's headers.  Compile without --use_fast_math (it flushes denormals to zero and
 * approximates division, sqrt and the transcendental functions).
 */
#ifndef AOTSYM_CUDA_SCALAR_CUH
#define AOTSYM_CUDA_SCALAR_CUH

#include <stdint.h>
#include <thrust/complex.h>

#define AOT_CU_INLINE static __device__ __forceinline__

/* Set (never cleared here) when a kernel meets an operation NumPy reports as an error. */
#define AOT_CU_FLAG_NEGATIVE_POWER 1
static __device__ int aot_cu_scalar_flags;

/* ------------------------------------------------------------ integer // and % (NumPy's) */

#define AOT_CU_DEFINE_INT_DIVMOD(T, UT)                                            \
    AOT_CU_INLINE T aot_cu_floordiv(T a, T b)                                      \
    {                                                                              \
        if (b == 0) return 0;                                                      \
        if (b == -1) return (T)((UT)0 - (UT)a);                                    \
        T q = a / b;                                                               \
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;                          \
        return q;                                                                  \
    }                                                                              \
    AOT_CU_INLINE T aot_cu_mod(T a, T b)                                           \
    {                                                                              \
        if (b == 0 || b == -1) return 0;                                           \
        T r = a % b;                                                               \
        if (r != 0 && ((r < 0) != (b < 0))) r += b;                                \
        return r;                                                                  \
    }

AOT_CU_DEFINE_INT_DIVMOD(int, unsigned int)
AOT_CU_DEFINE_INT_DIVMOD(long, unsigned long)
AOT_CU_DEFINE_INT_DIVMOD(long long, unsigned long long)

/* -------------------------------------------------------------- float // and % (NumPy's) */

AOT_CU_INLINE double aot_cu_mod(double a, double b)
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

AOT_CU_INLINE float aot_cu_mod(float a, float b)
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
AOT_CU_INLINE double aot_cu_floordiv(double a, double b)
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

AOT_CU_INLINE float aot_cu_floordiv(float a, float b)
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

/* ------------------------------------------------------------------------ integer power */

/* By squaring in unsigned arithmetic (wraps like NumPy, no undefined behaviour). */
#define AOT_CU_DEFINE_IPOW(T, UT)                                                  \
    AOT_CU_INLINE T aot_cu_ipow(T base, T exp)                                     \
    {                                                                              \
        if (exp < 0) {                                                             \
            atomicOr(&aot_cu_scalar_flags, AOT_CU_FLAG_NEGATIVE_POWER);            \
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
#define AOT_CU_DEFINE_UPOW(T)                                                      \
    AOT_CU_INLINE T aot_cu_ipow(T base, T exp)                                     \
    {                                                                              \
        T result = 1;                                                              \
        while (exp) {                                                              \
            if (exp & 1) result *= base;                                           \
            exp >>= 1;                                                             \
            base *= base;                                                          \
        }                                                                          \
        return result;                                                             \
    }

AOT_CU_DEFINE_IPOW(int, unsigned int)
AOT_CU_DEFINE_IPOW(long, unsigned long)
AOT_CU_DEFINE_IPOW(long long, unsigned long long)
AOT_CU_DEFINE_UPOW(unsigned int)
AOT_CU_DEFINE_UPOW(unsigned long)
AOT_CU_DEFINE_UPOW(unsigned long long)

/* ------------------------------------------------------------ max, min, sign (NumPy's) */

/* np.maximum / np.minimum: a NaN in either operand gives NaN. */
AOT_CU_INLINE double aot_cu_fmax(double a, double b) { return (a >= b || a != a) ? a : b; }
AOT_CU_INLINE double aot_cu_fmin(double a, double b) { return (a <= b || a != a) ? a : b; }
AOT_CU_INLINE float aot_cu_fmax(float a, float b) { return (a >= b || a != a) ? a : b; }
AOT_CU_INLINE float aot_cu_fmin(float a, float b) { return (a <= b || a != a) ? a : b; }

/* max / min of integers and bools (clip): minimum(maximum(x, lo), hi), hi wins if lo > hi */
template <class T> AOT_CU_INLINE T aot_cu_imax(T a, T b) { return a > b ? a : b; }
template <class T> AOT_CU_INLINE T aot_cu_imin(T a, T b) { return a < b ? a : b; }

/* np.sign for floats: NaN stays NaN, either zero gives +0.0 (NumPy's). */
AOT_CU_INLINE double aot_cu_sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : x + 0.0); }
AOT_CU_INLINE float aot_cu_sign(float x) { return x > 0 ? 1.0f : (x < 0 ? -1.0f : x + 0.0f); }

/* -------------------------------------------------- numerically stable logistic, softplus */

AOT_CU_INLINE double aot_cu_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}
AOT_CU_INLINE float aot_cu_sigmoid(float x)
{
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
AOT_CU_INLINE double aot_cu_softplus(double x)
{
    if (x != x) return x;
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
}
AOT_CU_INLINE float aot_cu_softplus(float x)
{
    if (x != x) return x;
    return (x > 0 ? x : 0.0f) + log1pf(expf(-fabsf(x)));
}

/* ----------------------------------------------------------------------------- complex */

/* NumPy's order of complex numbers (its CLT / CLE): by real part, then by imaginary part;
 * a NaN imaginary part makes the real parts' order count for nothing. */
template <class T>
AOT_CU_INLINE bool aot_cu_clt(thrust::complex<T> a, thrust::complex<T> b)
{
    return (a.real() < b.real() && !isnan(a.imag()) && !isnan(b.imag()))
           || (a.real() == b.real() && a.imag() < b.imag());
}
template <class T>
AOT_CU_INLINE bool aot_cu_cle(thrust::complex<T> a, thrust::complex<T> b)
{
    return (a.real() < b.real() && !isnan(a.imag()) && !isnan(b.imag()))
           || (a.real() == b.real() && a.imag() <= b.imag());
}

/* A complex number is NaN (infinite) when either part is. */
template <class T> AOT_CU_INLINE bool aot_cu_isnan(thrust::complex<T> z)
{
    return isnan(z.real()) || isnan(z.imag());
}
template <class T> AOT_CU_INLINE bool aot_cu_isinf(thrust::complex<T> z)
{
    return isinf(z.real()) || isinf(z.imag());
}

/* ------------------------------------------ erfcx, Bessel and incomplete gamma functions */

/* One code for C and CUDA: aotsym_special.h defines them __host__ __device__ under nvcc
 * (the table names only these aot_cu_* wrappers). */
#include "aotsym_special.h"

AOT_CU_INLINE double aot_cu_erfcx(double x) { return AOT_ERFCX(x); }
AOT_CU_INLINE float aot_cu_erfcx(float x) { return AOT_ERFCXf(x); }
AOT_CU_INLINE double aot_cu_j0(double x) { return AOT_J0(x); }
AOT_CU_INLINE float aot_cu_j0(float x) { return AOT_J0f(x); }
AOT_CU_INLINE double aot_cu_j1(double x) { return AOT_J1(x); }
AOT_CU_INLINE float aot_cu_j1(float x) { return AOT_J1f(x); }
AOT_CU_INLINE double aot_cu_i0(double x) { return AOT_I0(x); }
AOT_CU_INLINE float aot_cu_i0(float x) { return AOT_I0f(x); }
AOT_CU_INLINE double aot_cu_i1(double x) { return AOT_I1(x); }
AOT_CU_INLINE float aot_cu_i1(float x) { return AOT_I1f(x); }
AOT_CU_INLINE double aot_cu_jv(double a, double b) { return AOT_JV(a, b); }
AOT_CU_INLINE float aot_cu_jv(float a, float b) { return AOT_JVf(a, b); }
AOT_CU_INLINE double aot_cu_iv(double a, double b) { return AOT_IV(a, b); }
AOT_CU_INLINE float aot_cu_iv(float a, float b) { return AOT_IVf(a, b); }
AOT_CU_INLINE double aot_cu_gammainc(double a, double b) { return AOT_GAMMAINC(a, b); }
AOT_CU_INLINE float aot_cu_gammainc(float a, float b) { return AOT_GAMMAINCf(a, b); }
AOT_CU_INLINE double aot_cu_gammaincc(double a, double b) { return AOT_GAMMAINCC(a, b); }
AOT_CU_INLINE float aot_cu_gammaincc(float a, float b) { return AOT_GAMMAINCCf(a, b); }
AOT_CU_INLINE double aot_cu_gammal(double a, double b) { return AOT_GAMMAL(a, b); }
AOT_CU_INLINE float aot_cu_gammal(float a, float b) { return AOT_GAMMALf(a, b); }
AOT_CU_INLINE double aot_cu_gammau(double a, double b) { return AOT_GAMMAU(a, b); }
AOT_CU_INLINE float aot_cu_gammau(float a, float b) { return AOT_GAMMAUf(a, b); }
AOT_CU_INLINE double aot_cu_chi2sf(double x, double k) { return AOT_CHI2SF(x, k); }

/* ------------------------------------------------------------ float -> integer (NumPy's) */

/* As the C runtime's aot_f2i_* (not the GPU's saturating conversion): the table of
 * aotsym.graph.scalar.float_to_int (NumPy on x86-64), never undefined behaviour (every
 * conversion below is of a value in range).
 * int32/int64: the truncated value if it fits, else (nan, +-inf, out of range) the minimum;
 * int8/int16/uint8/uint16: the int32 result's low bits; uint32/uint64 (b bits): the value if
 * in [0, 2^b), its two's complement if in [-2^(b-1), 0), 0 if >= 2^b or +inf, else 2^(b-1). */
AOT_CU_INLINE int32_t aot_cu_f2i_i32(double x)
{
    return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}
AOT_CU_INLINE int64_t aot_cu_f2i_i64(double x)
{
    return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x
                                                                       : INT64_MIN;
}
AOT_CU_INLINE int8_t aot_cu_f2i_i8(double x)
{
    return (int8_t)(uint8_t)(uint32_t)aot_cu_f2i_i32(x);
}
AOT_CU_INLINE int16_t aot_cu_f2i_i16(double x)
{
    return (int16_t)(uint16_t)(uint32_t)aot_cu_f2i_i32(x);
}
AOT_CU_INLINE uint8_t aot_cu_f2i_u8(double x) { return (uint8_t)(uint32_t)aot_cu_f2i_i32(x); }
AOT_CU_INLINE uint16_t aot_cu_f2i_u16(double x) { return (uint16_t)(uint32_t)aot_cu_f2i_i32(x); }
AOT_CU_INLINE uint32_t aot_cu_f2i_u32(double x)
{
    if (x > -1.0 && x < 4294967296.0) return (uint32_t)x;
    if (x > -2147483649.0 && x < 0) return (uint32_t)(int32_t)x;
    return x >= 4294967296.0 ? 0u : 2147483648u;
}
AOT_CU_INLINE uint64_t aot_cu_f2i_u64(double x)
{
    if (x > -1.0 && x < 18446744073709551616.0) return (uint64_t)x;
    if (x >= -9223372036854775808.0 && x < 0) return (uint64_t)(int64_t)x;
    return x >= 18446744073709551616.0 ? 0u : 9223372036854775808u;
}

#endif /* AOTSYM_CUDA_SCALAR_CUH */
