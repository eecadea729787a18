/* SPDX-License-Identifier: MIT */
/*
 * A/B tests (experiment.h): arms from the documented hash of (salt, id),
 * stratified assignment with exact per-stratum balance, and the statistics
 * that evaluate a campaign: the two-proportion z-test, Welch's t-test,
 * sample size and minimum detectable effect.
 *
 * The special functions are written here so that results do not depend on
 * the platform beyond the C library's erfc(), log(), exp() and tgamma():
 *   - the normal CDF from erfc();
 *   - the normal quantile: a rational first guess (Acklam's coefficients,
 *     relative error about 1e-9) refined by two Halley steps on erfc();
 *   - Student's t tail from the regularised incomplete beta function: a
 *     continued fraction evaluated with the modified Lentz method, and for
 *     40 or more degrees of freedom near the centre (where that fraction
 *     cancels) an expansion in incomplete gamma functions; a log-beta
 *     that stays accurate for huge degrees of freedom;
 *   - Student's t quantile by safeguarded Newton iteration on that tail.
 * Nothing here keeps state: every function may run in any number of
 * threads (lgamma() is avoided: it writes the global signgam).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "seg-private.h"
#include "segment/experiment.h"

/* ---- the hash ------------------------------------------------------------------ */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* The salt every experiment shares for the global holdout. */
static const char HOLDOUT_SALT[] = "libsegment-global-holdout";

static uint64_t fnv_bytes(uint64_t h, const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* FNV-1a state after the salt and the separating 0x00 byte. */
static uint64_t salt_state(const char *salt, size_t salt_len)
{
    uint64_t h = FNV_OFFSET;
    if (salt)
        h = fnv_bytes(h, salt, salt_len);
    return h * FNV_PRIME; /* h ^= 0x00, then multiply */
}

/* The SplitMix64 finaliser. */
static uint64_t finalise(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

SEG_API uint64_t seg_ab_hash(const char *salt, size_t salt_len, const char *id, size_t id_len)
{
    uint64_t h = salt_state(salt, salt_len);
    if (id)
        h = fnv_bytes(h, id, id_len);
    return finalise(h);
}

/* The top 53 bits of the hash of (salt state, id): u = bits * 2^-53. */
static uint64_t u_bits(uint64_t state, const char *id)
{
    return finalise(fnv_bytes(state, id, strlen(id))) >> 11;
}

#define TWO_M53 (1.0 / 9007199254740992.0) /* 2^-53 */

/* ---- arguments shared by both assignments ----------------------------------------- */

/* Validates the arguments of an assignment and fills bound[0..n_arms):
 * bound[a] = (w_0 + ... + w_a) / sum, summed left to right, except that
 * the last arm with a positive weight (and any after it) gets exactly 1.
 * Arm a is the first one with u < bound[a]. */
static int32_t check_assign(const char *const *ids, size_t n, const char *salt,
                            const double *weights, int32_t n_arms, double holdout,
                            const int32_t *out_arm, char *err, size_t cap, double *bound)
{
    if (!out_arm || !salt || !weights || (!ids && n > 0)) {
        seg__errf(err, cap, "%s is NULL", !out_arm ? "out_arm" : !salt ? "salt"
                                          : !weights ? "weights" : "ids");
        return SEG_EINVAL;
    }
    if (!salt[0]) {
        seg__errf(err, cap, "salt is empty");
        return SEG_EINVAL;
    }
    if (n_arms < 1 || n_arms > SEG_AB_MAX_ARMS) {
        seg__errf(err, cap, "n_arms = %d is outside 1..%d", (int)n_arms, SEG_AB_MAX_ARMS);
        return SEG_ERANGE;
    }
    double sum = 0;
    int32_t last = -1;
    for (int32_t a = 0; a < n_arms; a++) {
        double w = weights[a];
        if (isnan(w) || isinf(w) || w < 0) {
            seg__errf(err, cap, "weights[%d] = %g: a weight must be finite and >= 0", (int)a, w);
            return SEG_ERANGE;
        }
        sum += w;
        bound[a] = sum;
        if (w > 0)
            last = a;
    }
    if (last < 0) {
        seg__errf(err, cap, "weights: all %d weights are 0 (need a positive sum)", (int)n_arms);
        return SEG_ERANGE;
    }
    if (isinf(sum)) {
        seg__errf(err, cap, "weights: the sum overflows (scale the weights down)");
        return SEG_ERANGE;
    }
    if (!(holdout >= 0 && holdout < 1)) {
        seg__errf(err, cap, "holdout = %g is outside [0, 1)", holdout);
        return SEG_ERANGE;
    }
    for (int32_t a = 0; a < n_arms; a++)
        bound[a] = a >= last ? 1.0 : bound[a] / sum;
    for (size_t i = 0; i < n; i++) {
        if (!ids[i]) {
            seg__errf(err, cap, "ids[%zu] is NULL", i);
            return SEG_EINVAL;
        }
    }
    return SEG_OK;
}

static int32_t arm_of(uint64_t bits, const double *bound, int32_t n_arms)
{
    double u = (double)bits * TWO_M53;
    for (int32_t a = 0; a < n_arms; a++)
        if (u < bound[a])
            return a;
    return n_arms - 1; /* not reached: the last positive bound is 1 > u */
}

SEG_API int32_t seg_ab_assign(const char *const *ids, size_t n, const char *salt,
                              const double *weights, int32_t n_arms, double holdout,
                              int32_t *out_arm, char *err_buf, size_t err_cap)
{
    double bound[SEG_AB_MAX_ARMS];
    int32_t rc = check_assign(ids, n, salt, weights, n_arms, holdout, out_arm, err_buf, err_cap,
                              bound);
    if (rc != SEG_OK)
        return rc;
    uint64_t st = salt_state(salt, strlen(salt));
    uint64_t st_hold = salt_state(HOLDOUT_SALT, sizeof HOLDOUT_SALT - 1);
    for (size_t i = 0; i < n; i++) {
        if (holdout > 0 && (double)u_bits(st_hold, ids[i]) * TWO_M53 < holdout)
            out_arm[i] = SEG_ARM_HOLDOUT;
        else
            out_arm[i] = arm_of(u_bits(st, ids[i]), bound, n_arms);
    }
    return SEG_OK;
}

/* ---- stratified assignment ------------------------------------------------------- */

/* One customer in 16 bytes, ordered as a 128-bit number (hi, lo):
 *   hi = stratum (sign bit flipped, so the order is the signed one) << 32
 *        | the top 32 of the 53 bits of u
 *   lo = the low 21 bits of u << 43 | the customer's index (43 bits).
 * Keys are distinct (the index is), so the order is total. */
typedef struct skey {
    uint64_t hi, lo;
} skey;

#define IDX_BITS 43
#define IDX_MASK (((uint64_t)1 << IDX_BITS) - 1)
#define MAX_STRATIFIED ((uint64_t)1 << IDX_BITS)

static int key_less(const skey *x, const skey *y)
{
    return x->hi < y->hi || (x->hi == y->hi && x->lo < y->lo);
}

static void key_swap(skey *x, skey *y)
{
    skey t = *x;
    *x = *y;
    *y = t;
}

static void sift_down(skey *v, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && key_less(&v[c], &v[c + 1]))
            c++;
        if (!key_less(&v[root], &v[c]))
            return;
        key_swap(&v[root], &v[c]);
        root = c;
    }
}

static void heap_sort(skey *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t end = n; end > 1; end--) {
        key_swap(&v[0], &v[end - 1]);
        sift_down(v, 0, end - 1);
    }
}

static void insertion_sort(skey *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        skey k = v[i];
        size_t j = i;
        while (j > 0 && key_less(&k, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = k;
    }
}

/* Introsort: quicksort (median of three, Hoare partition) falling back
 * to heapsort when the recursion gets deep, so O(n log n) always and no
 * memory beyond the stack (glibc's qsort would malloc behind the caller's
 * allocator). */
static void intro_sort(skey *v, size_t n, int depth)
{
    while (n > 16) {
        if (depth-- <= 0) {
            heap_sort(v, n);
            return;
        }
        size_t mid = n / 2;
        if (key_less(&v[mid], &v[0]))
            key_swap(&v[mid], &v[0]);
        if (key_less(&v[n - 1], &v[0]))
            key_swap(&v[n - 1], &v[0]);
        if (key_less(&v[n - 1], &v[mid]))
            key_swap(&v[n - 1], &v[mid]);
        key_swap(&v[0], &v[mid]); /* the median is the pivot, at v[0] */
        skey p = v[0];
        size_t i = (size_t)-1, j = n;
        for (;;) {
            do
                i++;
            while (key_less(&v[i], &p));
            do
                j--;
            while (key_less(&p, &v[j]));
            if (i >= j)
                break;
            key_swap(&v[i], &v[j]);
        }
        /* [0, j] and [j + 1, n), both non-empty: recurse on the smaller. */
        size_t left = j + 1;
        if (left < n - left) {
            intro_sort(v, left, depth);
            v += left;
            n -= left;
        } else {
            intro_sort(v + left, n - left, depth);
            n = left;
        }
    }
    insertion_sort(v, n);
}

/* Order of customers whose u is equal: by id bytes, then by index. */
static int tie_less(const skey *x, const skey *y, const char *const *ids)
{
    size_t ix = (size_t)(x->lo & IDX_MASK), iy = (size_t)(y->lo & IDX_MASK);
    int c = strcmp(ids[ix], ids[iy]);
    return c < 0 || (c == 0 && ix < iy);
}

/* Heapsort of a run of equal (stratum, u) by tie_less. Runs are almost
 * always of length 1; long ones come from duplicated ids. */
static void tie_sift(skey *v, size_t root, size_t n, const char *const *ids)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && tie_less(&v[c], &v[c + 1], ids))
            c++;
        if (!tie_less(&v[root], &v[c], ids))
            return;
        key_swap(&v[root], &v[c]);
        root = c;
    }
}

static void tie_sort(skey *v, size_t n, const char *const *ids)
{
    for (size_t i = n / 2; i-- > 0;)
        tie_sift(v, i, n, ids);
    for (size_t end = n; end > 1; end--) {
        key_swap(&v[0], &v[end - 1]);
        tie_sift(v, 0, end - 1, ids);
    }
}

/* Assigns the m customers of one stratum (sorted by u): ranks
 * [round(m * bound[a-1]), round(m * bound[a])) get arm a. */
static void assign_stratum(const skey *v, size_t m, const double *bound, int32_t n_arms,
                           int32_t *out_arm)
{
    size_t cut[SEG_AB_MAX_ARMS];
    for (int32_t a = 0; a < n_arms; a++) {
        double c = bound[a] >= 1.0 ? (double)m : floor((double)m * bound[a] + 0.5);
        cut[a] = c >= (double)m ? m : (size_t)c;
    }
    int32_t arm = 0;
    for (size_t r = 0; r < m; r++) {
        while (r >= cut[arm])
            arm++;
        out_arm[v[r].lo & IDX_MASK] = arm;
    }
}

SEG_API int32_t seg_ab_assign_stratified(const char *const *ids, const int32_t *strata, size_t n,
                                         const char *salt, const double *weights, int32_t n_arms,
                                         double holdout, const seg_allocator *alloc,
                                         int32_t *out_arm, char *err_buf, size_t err_cap)
{
    double bound[SEG_AB_MAX_ARMS];
    if (!strata && n > 0 && out_arm && salt && weights && ids) {
        seg__errf(err_buf, err_cap, "strata is NULL");
        return SEG_EINVAL;
    }
    int32_t rc = check_assign(ids, n, salt, weights, n_arms, holdout, out_arm, err_buf, err_cap,
                              bound);
    if (rc != SEG_OK)
        return rc;
    seg__alloc a;
    rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK) {
        return rc;
    }
    if (n == 0)
        return SEG_OK;
    skey *v = (uint64_t)n <= MAX_STRATIFIED ? seg__malloc_array(&a, n, sizeof *v) : NULL;
    if (!v) {
        seg__errf(err_buf, err_cap, "out of memory for %zu customers (16 bytes each)", n);
        return SEG_ENOMEM;
    }
    /* Nothing can fail from here on: outputs may be written. */
    uint64_t st = salt_state(salt, strlen(salt));
    uint64_t st_hold = salt_state(HOLDOUT_SALT, sizeof HOLDOUT_SALT - 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (holdout > 0 && (double)u_bits(st_hold, ids[i]) * TWO_M53 < holdout) {
            out_arm[i] = SEG_ARM_HOLDOUT;
            continue;
        }
        uint64_t u = u_bits(st, ids[i]);
        uint64_t s = (uint64_t)((uint32_t)strata[i] ^ 0x80000000u);
        v[k].hi = s << 32 | u >> 21;
        v[k].lo = (u & (((uint64_t)1 << 21) - 1)) << IDX_BITS | (uint64_t)i;
        k++;
    }
    int depth = 0;
    for (size_t m = k; m > 1; m >>= 1)
        depth += 2;
    intro_sort(v, k, depth);
    /* Customers with equal u (a 2^-53 coincidence, or a repeated id) are
     * ordered by their id bytes, so the input order does not matter. */
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && v[j].hi == v[i].hi && v[j].lo >> IDX_BITS == v[i].lo >> IDX_BITS)
            j++;
        if (j - i > 1)
            tie_sort(v + i, j - i, ids);
        i = j;
    }
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && v[j].hi >> 32 == v[i].hi >> 32)
            j++;
        assign_stratum(v + i, j - i, bound, n_arms, out_arm);
        i = j;
    }
    seg__free(&a, v);
    return SEG_OK;
}

/* ---- special functions ------------------------------------------------------------ */

#define SQRT1_2 0.70710678118654752440  /* 1/sqrt(2) */
#define LN_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */

/* Standard normal CDF. */
static double norm_cdf(double x)
{
    return 0.5 * erfc(-x * SQRT1_2);
}

/* Rational first guess of the normal quantile for 0 < p <= 0.5 (Acklam). */
static double norm_ppf_guess(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* Normal quantile for 0 < p <= 0.5 (x <= 0): the guess, then Halley steps
 * on F(x) = Phi(x) - p. Near the centre the residual is taken as
 * erf(x / sqrt 2) / 2 - (p - 1/2) (p - 1/2 is exact there), elsewhere
 * relative to p, so the steps keep their precision at both ends. */
static double norm_ppf_lower(double p)
{
    if (p == 0.5)
        return 0;
    double x = norm_ppf_guess(p);
    for (int it = 0; it < 2; it++) {
        /* u = (Phi(x) - p) / phi(x) */
        double u = p > 0.25
                 ? (0.5 * erf(x * SQRT1_2) - (p - 0.5)) * exp(0.5 * x * x + LN_SQRT_2PI)
                 : (norm_cdf(x) / p - 1) * exp(log(p) + 0.5 * x * x + LN_SQRT_2PI);
        if (!isfinite(u))
            break;
        x -= u / (1 + 0.5 * x * u);
    }
    return x;
}

/* Normal quantile for 0 < p < 1 (1 - p is exact for p >= 0.5). */
static double norm_ppf(double p)
{
    return p <= 0.5 ? norm_ppf_lower(p) : -norm_ppf_lower(1 - p);
}

/* Stirling series remainder: log Gamma(x) - [(x - 1/2) log x - x + log sqrt(2 pi)],
 * for x >= 10 (the terms through x^-15 leave less than 1e-17). */
static double stirling_rest(double x)
{
    double r = 1 / x, r2 = r * r;
    return r * (1.0 / 12 +
                r2 * (-1.0 / 360 +
                      r2 * (1.0 / 1260 +
                            r2 * (-1.0 / 1680 +
                                  r2 * (1.0 / 1188 +
                                        r2 * (-691.0 / 360360 +
                                              r2 * (1.0 / 156 + r2 * (-3617.0 / 122400))))))));
}

/* log B(a, b) for a, b > 0, accurate also when one argument is huge (the
 * t distribution with many degrees of freedom): there lgamma(a) and
 * lgamma(a + b) are both enormous and their difference is taken from the
 * Stirling series instead. tgamma() is used for small arguments: unlike
 * lgamma() it writes no global. */
static double log_beta(double a, double b)
{
    if (a < b) {
        double t = a;
        a = b;
        b = t;
    }
    /* a >= b */
    if (a < 10)
        return log(tgamma(a)) + log(tgamma(b)) - log(tgamma(a + b));
    double s = a + b;
    double ratio = b / a;
    if (b < 10) {
        /* lgamma(a) - lgamma(a + b) */
        double diff = -(a - 0.5) * log1p(ratio) - b * log(s) + b + stirling_rest(a) -
                      stirling_rest(s);
        return log(tgamma(b)) + diff;
    }
    return LN_SQRT_2PI - 0.5 * log(s) - (a - 0.5) * log1p(ratio) +
           (b - 0.5) * log(b / s) + stirling_rest(a) + stirling_rest(b) - stirling_rest(s);
}

/* The continued fraction of I_x(a, b) (Abramowitz & Stegun 26.5.8):
 *     I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...)))
 *     d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
 *     d_{2m}   = m (b - m) x / ((a + 2m - 1)(a + 2m))
 * Returns the value of 1 + d1 / (1 + ...), by the modified Lentz method.
 * Converges quickly for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double f = 1, C = 1, D = 0;
    for (long j = 1; j < 1000000; j++) {
        double m = (double)(j / 2);
        double dj = (j & 1) ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                            : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        D = 1 + dj * D;
        if (fabs(D) < tiny)
            D = tiny;
        C = 1 + dj / C;
        if (fabs(C) < tiny)
            C = tiny;
        D = 1 / D;
        double delta = C * D;
        f *= delta;
        if (fabs(delta - 1) < 1e-16)
            break;
    }
    return f;
}

/* Regularised incomplete beta I_x(a, b), with y = 1 - x given separately
 * so that neither loses digits when it is small. */
static double inc_beta(double a, double b, double x, double y)
{
    if (x <= 0)
        return 0;
    if (y <= 0)
        return 1;
    double lx = x < 0.5 ? log(x) : log1p(-y);
    double ly = y < 0.5 ? log(y) : log1p(-x);
    double front = a * lx + b * ly - log_beta(a, b);
    if (x < (a + 1) / (a + b + 2))
        return exp(front) / (a * beta_cf(a, b, x));
    return 1 - exp(front) / (b * beta_cf(b, a, y));
}

/* Terms of the expansion below. */
#define HALF_TERMS 40

/* I_x(a, 1/2) for a >= 20 and v0 = -log(x) <= 1, where the continued
 * fraction loses about a * DBL_EPSILON (it starts 1 - x(a+b)/(a+1) + ...,
 * nearly 0). With s = exp(-v),
 *     B(a, 1/2) I_x(a, 1/2) = integral_{v0}^inf exp(-a v) v^(-1/2) phi(v) dv,
 *     phi(v) = ((1 - exp(-v)) / v)^(-1/2) = sum_k c_k v^k,
 * and term by term
 *     I_x(a, 1/2) = sum_k c_k Gamma(k + 1/2, a v0) / a^(k + 1/2) / B(a, 1/2),
 * with Gamma(1/2, z) = sqrt(pi) erfc(sqrt z) and the upward recurrence
 * Gamma(s + 1, z) = s Gamma(s, z) + z^s exp(-z) (all terms positive). The
 * c_k fall like (2 pi)^-k; Gamma(k + 1/2, z) / a^k like k! / a^k for small
 * z and like v0^k for large z, so 40 terms leave less than 1e-17 in this
 * range (an asymptotic series, the idea of DiDonato & Morris's BGRAT). The
 * c_k come from Miller's recurrence for a power of a series:
 *     g(v) = (1 - exp(-v)) / v = sum_j (-1)^j v^j / (j + 1)!,
 *     c_0 = 1, c_n = (1/n) sum_{j=1..n} (j/2 - n) g_j c_{n-j}   (g^(-1/2)). */
static double inc_beta_half_large(double a, double v0)
{
    double g[HALF_TERMS], c[HALF_TERMS];
    double fact = 1;
    for (int j = 0; j < HALF_TERMS; j++) {
        fact *= j + 1;
        g[j] = (j & 1 ? -1 : 1) / fact;
    }
    c[0] = 1;
    for (int n = 1; n < HALF_TERMS; n++) {
        double acc = 0;
        for (int j = 1; j <= n; j++)
            acc += (0.5 * j - n) * g[j] * c[n - j];
        c[n] = acc / n;
    }
    double z = a * v0, rz = sqrt(z);
    double S = erfc(rz);                            /* Gamma(1/2, z) / sqrt(pi) */
    double q = rz * exp(-z) / (a * 1.77245385090551602730); /* z^(1/2) e^-z / (sqrt(pi) a) */
    double sum = S;
    for (int k = 0; k + 1 < HALF_TERMS; k++) {
        S = (k + 0.5) * S / a + q; /* Gamma(k + 3/2, z) / (sqrt(pi) a^(k+1)) */
        q *= v0;
        sum += c[k + 1] * S;
    }
    /* sqrt(pi) / (B(a, 1/2) sqrt(a)), close to 1 */
    return exp(0.57236494292470008707 - log_beta(a, 0.5) - 0.5 * log(a)) * sum;
}

/* P(|T| > |t|) for Student's t with nu > 0 degrees of freedom. */
static double t_two_sided(double t, double nu)
{
    if (isnan(t) || isnan(nu))
        return NAN;
    double r = (t / sqrt(nu)) * (t / sqrt(nu)); /* t^2 / nu */
    if (isinf(r))
        return 0;
    double x, y; /* nu / (nu + t^2), t^2 / (nu + t^2) */
    if (r > 1) {
        x = (1 / r) / (1 + 1 / r);
        y = 1 / (1 + 1 / r);
    } else {
        x = 1 / (1 + r);
        y = r / (1 + r);
    }
    double v0 = log1p(r); /* -log(x) */
    double p = nu >= 40 && v0 <= 1 ? inc_beta_half_large(0.5 * nu, v0)
                                   : inc_beta(0.5 * nu, 0.5, x, y);
    return p < 1 ? p : 1; /* t = 0 can round to 1 + 2^-52 */
}

/* Density of Student's t. */
static double t_pdf(double t, double nu)
{
    double r = (t / sqrt(nu)) * (t / sqrt(nu));
    return exp(-0.5 * (nu + 1) * log1p(r) - 0.5 * log(nu) - log_beta(0.5 * nu, 0.5));
}

/* The t > 0 with P(|T| > t) = alpha (0 < alpha < 1): the upper alpha/2
 * quantile. Newton's method on the tail, kept inside a bracket and
 * falling back to bisection (geometric when the bracket is wide). */
static double t_upper(double alpha, double nu)
{
    double z = -norm_ppf_lower(0.5 * alpha);
    /* Cornish-Fisher start, good for large nu. */
    double z2 = z * z;
    double t = z + z * (z2 + 1) / (4 * nu) + z * ((5 * z2 + 16) * z2 + 3) / (96 * nu * nu);
    if (!(t > 0) || !isfinite(t))
        t = z > 0 ? z : 1;
    double lo = 0, hi = 0;
    if (t_two_sided(t, nu) > alpha) {
        lo = t;
        hi = 2 * t;
        while (t_two_sided(hi, nu) > alpha && hi < DBL_MAX / 4) {
            lo = hi;
            hi *= 2;
        }
    } else {
        hi = t;
        lo = 0.5 * t;
        while (lo > DBL_MIN && t_two_sided(lo, nu) <= alpha) {
            hi = lo;
            lo *= 0.5;
        }
    }
    /* tail(lo) > alpha >= tail(hi) */
    t = 0.5 * (lo + hi);
    for (int it = 0; it < 400; it++) {
        double f = t_two_sided(t, nu) - alpha;
        if (f == 0)
            return t;
        if (f > 0)
            lo = t;
        else
            hi = t;
        double next = t + f / (2 * t_pdf(t, nu));
        if (!(next > lo && next < hi))
            next = hi > 4 * lo && lo > 0 ? sqrt(lo * hi) : 0.5 * (lo + hi);
        if (fabs(next - t) <= 2 * DBL_EPSILON * t || next == lo || next == hi)
            return next;
        t = next;
    }
    return t;
}

/* ---- evaluation ------------------------------------------------------------------- */

static int bad_confidence(double c)
{
    return !(c > 0 && c < 1);
}

SEG_API int32_t seg_ab_proportions(int64_t n_a, int64_t conv_a, int64_t n_b, int64_t conv_b,
                                   double confidence, double *out, char *err_buf, size_t err_cap)
{
    if (!out) {
        seg__errf(err_buf, err_cap, "out is NULL");
        return SEG_EINVAL;
    }
    if (n_a <= 0 || n_b <= 0) {
        seg__errf(err_buf, err_cap, "%s = %lld: an arm needs at least 1 customer",
                  n_a <= 0 ? "n_a" : "n_b", (long long)(n_a <= 0 ? n_a : n_b));
        return SEG_ERANGE;
    }
    if (conv_a < 0 || conv_a > n_a || conv_b < 0 || conv_b > n_b) {
        int in_a = conv_a < 0 || conv_a > n_a;
        seg__errf(err_buf, err_cap, "%s = %lld is outside 0..%s (%lld)",
                  in_a ? "conv_a" : "conv_b", (long long)(in_a ? conv_a : conv_b),
                  in_a ? "n_a" : "n_b", (long long)(in_a ? n_a : n_b));
        return SEG_ERANGE;
    }
    if (bad_confidence(confidence)) {
        seg__errf(err_buf, err_cap, "confidence = %g is outside (0, 1)", confidence);
        return SEG_ERANGE;
    }
    /* Rates and their complements from the counts: near 1 a rate is
     * 1 - tiny, and 1 - p would lose the tiny part (counts near 2^62). */
    double na = (double)n_a, nb = (double)n_b, ca = (double)conv_a, cb = (double)conv_b;
    double fa = (double)(n_a - conv_a), fb = (double)(n_b - conv_b);
    double pa = ca / na, pb = cb / nb, qa = fa / na, qb = fb / nb;
    double diff = pa + pb > 1 ? qa - qb : pb - pa;
    double z = -norm_ppf_lower(0.5 * (1 - confidence));

    /* Pooled z-test. */
    double pool = (ca + cb) / (na + nb), qpool = (fa + fb) / (na + nb);
    double se0 = sqrt(pool * qpool * (1 / na + 1 / nb));
    double stat = 0, p = 1;
    if (se0 > 0) {
        stat = diff / se0;
        p = erfc(fabs(stat) * SQRT1_2);
        if (p > 1)
            p = 1;
    }

    /* Wald interval of the difference, unpooled. */
    double se1 = sqrt(pa * qa / na + pb * qb / nb);

    /* Delta method on log(pb / pa). */
    double lift = pa > 0 ? pb / pa - 1 : NAN;
    double lift_lo = NAN, lift_hi = NAN;
    if (pa > 0 && pb > 0) {
        double lr = log(pb / pa);
        double sl = sqrt(qa / ca + qb / cb); /* (1-p)/(n p) = (1-p)/conv */
        lift_lo = expm1(lr - z * sl);
        lift_hi = expm1(lr + z * sl);
    }

    out[SEG_AB_RATE_A] = pa;
    out[SEG_AB_RATE_B] = pb;
    out[SEG_AB_DIFF] = diff;
    out[SEG_AB_DIFF_LO] = diff - z * se1;
    out[SEG_AB_DIFF_HI] = diff + z * se1;
    out[SEG_AB_LIFT] = lift;
    out[SEG_AB_LIFT_LO] = lift_lo;
    out[SEG_AB_LIFT_HI] = lift_hi;
    out[SEG_AB_STAT] = stat;
    out[SEG_AB_P] = p;
    return SEG_OK;
}

typedef struct moments {
    size_t n;
    double mean, var; /* in units of 2^-scale (see seg_ab_means) */
} moments;

/* Checks one arm: SEG_EDATA on an infinite value, SEG_ERANGE with fewer
 * than 2 present values. Raises *maxabs to the largest |value|. */
static int32_t arm_scan(const double *x, size_t n, const char *name, double *maxabs, char *err,
                        size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        if (isinf(x[i])) {
            seg__errf(err, cap, "%s[%zu] is infinite (arm %s)", name, i, name);
            return SEG_EDATA;
        }
        if (fabs(x[i]) > *maxabs)
            *maxabs = fabs(x[i]);
        k++;
    }
    if (k < 2) {
        seg__errf(err, cap, "%s has %zu present value%s, need at least 2", name, k,
                  k == 1 ? "" : "s");
        return SEG_ERANGE;
    }
    return SEG_OK;
}

/* Present count, mean and sample variance of x * 2^scale (two passes,
 * with the compensating term of the corrected two-pass formula). */
static void arm_moments(const double *x, size_t n, int scale, moments *m)
{
    const double sc = ldexp(1.0, scale); /* exact: x * sc == ldexp(x, scale) */
    size_t k = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            sum += x[i] * sc;
            k++;
        }
    }
    double mean = sum / (double)k;
    double ss = 0, s1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        double d = x[i] * sc - mean;
        s1 += d;
        ss += d * d;
    }
    m->n = k;
    m->mean = mean + s1 / (double)k;
    m->var = (ss - s1 * s1 / (double)k) / (double)(k - 1);
    if (m->var < 0)
        m->var = 0;
}

SEG_API int32_t seg_ab_means(const double *a, size_t n_a, const double *b, size_t n_b,
                             double confidence, double *out, char *err_buf, size_t err_cap)
{
    if (!a || !b || !out) {
        seg__errf(err_buf, err_cap, "%s is NULL", !a ? "a" : !b ? "b" : "out");
        return SEG_EINVAL;
    }
    if (bad_confidence(confidence)) {
        seg__errf(err_buf, err_cap, "confidence = %g is outside (0, 1)", confidence);
        return SEG_ERANGE;
    }
    double maxabs = 0;
    int32_t rc = arm_scan(a, n_a, "a", &maxabs, err_buf, err_cap);
    if (rc == SEG_OK)
        rc = arm_scan(b, n_b, "b", &maxabs, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    /* Values beyond 2^+-500 would overflow (or underflow) in sums of
     * squares: work on values scaled by an exact power of two; t, df and
     * p do not depend on the scale. */
    int scale = maxabs > 0x1p500 ? -600 : maxabs > 0 && maxabs < 0x1p-500 ? 600 : 0;
    moments ma, mb;
    arm_moments(a, n_a, scale, &ma);
    arm_moments(b, n_b, scale, &mb);
    double va = ma.var / (double)ma.n, vb = mb.var / (double)mb.n;
    double se2 = va + vb;
    double diff = mb.mean - ma.mean;
    double t = NAN, df = NAN, p = NAN, lo = diff, hi = diff;
    if (se2 > 0) {
        double se = sqrt(se2);
        double r = va / se2; /* df = se2^2 / (va^2/(na-1) + vb^2/(nb-1)), scale-free */
        t = diff / se;
        df = 1 / (r * r / (double)(ma.n - 1) + (1 - r) * (1 - r) / (double)(mb.n - 1));
        p = t_two_sided(t, df);
        double q = t_upper(1 - confidence, df);
        lo = diff - q * se;
        hi = diff + q * se;
    }
    ma.mean = ldexp(ma.mean, -scale);
    mb.mean = ldexp(mb.mean, -scale);
    diff = ldexp(diff, -scale);
    lo = ldexp(lo, -scale);
    hi = ldexp(hi, -scale);
    out[SEG_AB_MEAN_A] = ma.mean;
    out[SEG_AB_MEAN_B] = mb.mean;
    out[SEG_AB_MDIFF] = diff;
    out[SEG_AB_MDIFF_LO] = lo;
    out[SEG_AB_MDIFF_HI] = hi;
    out[SEG_AB_T] = t;
    out[SEG_AB_DF] = df;
    out[SEG_AB_T_P] = p;
    return SEG_OK;
}

/* ---- planning --------------------------------------------------------------------- */

static int in_unit(double x)
{
    return x > 0 && x < 1;
}

/* The unrounded customers per arm of seg_ab_sample_size(). */
static double needed(double p1, double mde, double za, double zb)
{
    double p2 = p1 + mde, p = 0.5 * (p1 + p2);
    double s = za * sqrt(2 * p * (1 - p)) + zb * sqrt(p1 * (1 - p1) + p2 * (1 - p2));
    return s * s / (mde * mde);
}

#define TWO_62 4611686018427387904.0

SEG_API int32_t seg_ab_sample_size(double base_rate, double mde, double alpha, double power,
                                   int64_t *out_n)
{
    if (!out_n)
        return SEG_EINVAL;
    if (!in_unit(base_rate) || !(mde != 0) || isnan(mde) || !in_unit(base_rate + mde) ||
        !in_unit(alpha) || !in_unit(power))
        return SEG_ERANGE;
    double za = -norm_ppf_lower(0.5 * alpha), zb = norm_ppf(power);
    double n = ceil(needed(base_rate, mde, za, zb));
    if (!(n <= TWO_62))
        return SEG_ERANGE;
    *out_n = n < 1 ? 1 : (int64_t)n;
    return SEG_OK;
}

SEG_API int32_t seg_ab_mde(double base_rate, int64_t n, double alpha, double power,
                           double *out_mde)
{
    if (!out_mde)
        return SEG_EINVAL;
    if (!in_unit(base_rate) || n < 2 || !in_unit(alpha) || !(power >= 0.5 && power < 1))
        return SEG_ERANGE;
    double za = -norm_ppf_lower(0.5 * alpha), zb = norm_ppf(power);
    double target = (double)n;
    /* needed() falls as the lift grows (with zb >= 0: the bracket grows
     * slower than the lift); the largest lift takes p2 to 1. */
    double lo = 0, hi = 1 - base_rate;
    if (!(needed(base_rate, hi, za, zb) <= target)) {
        *out_mde = NAN;
        return SEG_OK;
    }
    /* needed(lo) > target >= needed(hi); stop at 1e-12 relative. */
    for (int it = 0; it < 2000 && hi - lo > 1e-12 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi)
            break;
        if (needed(base_rate, mid, za, zb) <= target)
            hi = mid;
        else
            lo = mid;
    }
    *out_mde = hi;
    return SEG_OK;
}
