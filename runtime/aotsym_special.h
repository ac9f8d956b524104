/* aotsym_special.h: the special functions of the scalar table (gammaln, gamma, psi,
 * tri_gamma, erfinv, erfcinv), as aotsym/emit_c/scalar_table.py names them.
 *
 * Part of the C runtime (compiled into every module), beside aotsym_scalar.h.  Each computes
 * what scipy.special computes, corners included: poles (gamma(-1) = nan, gamma(-0.0) = -inf,
 * gammaln of a pole = +inf, psi(0) = -inf, psi(-0.0) = +inf, psi(-1) = nan), -inf, NaN, and
 * arguments outside erfinv's [-1, 1] / erfcinv's [0, 2] (nan).  The float32 versions compute
 * in double and round once, as SciPy's float32 loops do.
 *
 *   gammaln, gamma   libm's lgamma / tgamma (gammaln(-inf) = -inf, as SciPy);
 *   psi, tri_gamma   reflection for x < 0 (pi / tan(pi x) with the argument reduced exactly),
 *                    the recurrence up to x >= 10 (20), then the asymptotic series;
 *   erfinv, erfcinv  an initial guess (Giles' single-precision polynomial, or the asymptotic
 *                    form in the far tail) refined by Newton steps on libm's erf (centre) or
 *                    on log(erfc) (tails: 1 - |y| is exact there, so no precision is lost).
 */
#ifndef AOTSYM_SPECIAL_H
#define AOTSYM_SPECIAL_H

#include <math.h>

static inline double AOT_GAMMALN(double x)
{
    return x == -INFINITY ? -INFINITY : lgamma(x);
}
static inline float AOT_GAMMALNf(float x) { return (float)AOT_GAMMALN((double)x); }

static inline double AOT_GAMMA(double x) { return tgamma(x); }
static inline float AOT_GAMMAf(float x) { return (float)tgamma((double)x); }

/* pi / tan(pi x), with x reduced to [-1/2, 1/2] first (tan has period pi; the reduction is
 * exact), so large |x| keeps its accuracy. */
static inline double aot_pi_cot_pi(double x)
{
    const double r = x - nearbyint(x);
    return M_PI / tan(M_PI * r);
}

static inline double AOT_PSI(double x)
{
    if (isnan(x) || x == INFINITY) return x;
    if (x == 0) return signbit(x) ? INFINITY : -INFINITY;
    if (x < 0) {
        if (x == floor(x)) return NAN;           /* a pole, or -inf */
        return AOT_PSI(1 - x) - aot_pi_cot_pi(x);
    }
    double acc = 0;
    while (x < 10) {
        acc -= 1 / x;
        x += 1;
    }
    const double z = 1 / (x * x);
    const double series = z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240
                          - z * (1.0 / 132 - z * (691.0 / 32760 - z * (1.0 / 12)))))));
    return acc + log(x) - 0.5 / x - series;
}
static inline float AOT_PSIf(float x) { return (float)AOT_PSI((double)x); }

static inline double AOT_TRIGAMMA(double x)
{
    if (isnan(x)) return x;
    if (x == INFINITY) return 0;
    if (x <= 0 && x == floor(x)) return INFINITY;  /* a pole, or -inf (SciPy's answer) */
    if (x < 0) {
        const double s = sin(M_PI * (x - nearbyint(x)));
        return -AOT_TRIGAMMA(1 - x) + M_PI * M_PI / (s * s);
    }
    double acc = 0;
    while (x < 20) {
        acc += 1 / (x * x);
        x += 1;
    }
    const double z = 1 / (x * x);
    const double series = 1 / x + z / 2 + z / x * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42
                          - z * (1.0 / 30 - z * (5.0 / 66 - z * (691.0 / 2730))))));
    return acc + series;
}
static inline float AOT_TRIGAMMAf(float x) { return (float)AOT_TRIGAMMA((double)x); }

/* x > 0 with erfc(x) = r, 0 < r <= 1/2 (1 - r exact): Newton steps on log(erfc(x)). */
static inline double aot_erfc_tail_inverse(double r)
{
    const double w = -log(r * (2 - r));
    double x;
    if (w < 5) {
        const double v = w - 2.5;
        double p = 2.81022636e-08;
        p = 3.43273939e-07 + p * v; p = -3.5233877e-06 + p * v;
        p = -4.39150654e-06 + p * v; p = 0.00021858087 + p * v;
        p = -0.00125372503 + p * v; p = -0.00417768164 + p * v;
        p = 0.246640727 + p * v; p = 1.50140941 + p * v;
        x = p * (1 - r);
    } else if (w < 30) {
        const double v = sqrt(w) - 3;
        double p = -0.000200214257;
        p = 0.000100950558 + p * v; p = 0.00134934322 + p * v;
        p = -0.00367342844 + p * v; p = 0.00573950773 + p * v;
        p = -0.0076224613 + p * v; p = 0.00943887047 + p * v;
        p = 1.00167406 + p * v; p = 2.83297682 + p * v;
        x = p * (1 - r);
    } else {                       /* erfc(x) ~ exp(-x^2) / (x sqrt(pi)) */
        const double t = -log(r);
        x = sqrt(t - log(sqrt(M_PI * t)));
    }
    const double lr = log(r);
    for (int k = 0; k < 8; k++) {
        const double e = erfc(x);
        if (!(e > 0)) break;
        /* d log(erfc(x)) / dx = -2 / sqrt(pi) exp(-x^2) / erfc(x) */
        const double step = (log(e) - lr) * e / (M_2_SQRTPI * exp(-x * x));
        x += step;
        if (fabs(step) <= 1e-17 * x) break;
    }
    return x;
}

static inline double AOT_ERFINV(double y)
{
    if (isnan(y) || y < -1 || y > 1) return NAN;
    if (y == 1) return INFINITY;
    if (y == -1) return -INFINITY;
    if (fabs(y) > 0.5) {
        const double x = aot_erfc_tail_inverse(1 - fabs(y));
        return y < 0 ? -x : x;
    }
    /* the centre: Giles' polynomial, then Halley steps on erf(x) - y */
    const double w = -log((1 - y) * (1 + y)) - 2.5;
    double p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w; p = 1.50140941 + p * w;
    double x = p * y;
    for (int k = 0; k < 2; k++) {
        const double u = (erf(x) - y) / (M_2_SQRTPI * exp(-x * x));
        x -= u / (1 + x * u);
    }
    return x;
}
static inline float AOT_ERFINVf(float y) { return (float)AOT_ERFINV((double)y); }

static inline double AOT_ERFCINV(double z)
{
    if (isnan(z) || z < 0 || z > 2) return NAN;
    if (z == 0) return INFINITY;
    if (z == 2) return -INFINITY;
    if (z < 0.5) return aot_erfc_tail_inverse(z);
    if (z > 1.5) return -aot_erfc_tail_inverse(2 - z);
    return -AOT_ERFINV(z - 1);     /* z - 1 exact; erfcinv(1) = -0.0, as SciPy */
}
static inline float AOT_ERFCINVf(float z) { return (float)AOT_ERFCINV((double)z); }

#endif
