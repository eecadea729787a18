/* SPDX-License-Identifier: MIT */
/*
 * Tests of A/B experiments (include/segment/experiment.h): the documented
 * hash, plain and stratified assignment (stability, independence across
 * salts, the global holdout, zero weights, exact per-stratum balance,
 * working memory), the two-proportion z-test, Welch's t-test, sample size
 * and minimum detectable effect, every bad input with its status and a
 * message naming the argument, and outputs left untouched on failure.
 *
 * Where expected values come from:
 *   - Hash constants: a separate 12-line Python reimplementation of the
 *     documented FNV-1a-64 + SplitMix64 recipe (arbitrary-precision ints
 *     masked to 64 bits), run once; its values are pasted below. The test
 *     also carries its own C model of the recipe (model_hash) for bulk
 *     comparisons, and of the arm rule (model_arm) and of stratification.
 *   - Statistics: the formulas of the header evaluated with mpmath at 50
 *     digits (normal quantile by erfinv, Student's t tail by mpmath's
 *     betainc, its quantile by findroot), pasted with 17 digits.
 *   - Sample size 3841 for 10% -> 12%, alpha 0.05, power 0.8 is also the
 *     textbook / calculator answer (e.g. Evan Miller's calculator).
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <pthread.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define PI 3.14159265358979323846

/* ---- helpers ------------------------------------------------------------------- */


/* |got - want| <= tol * max(|want|, tiny), NaN only matching NaN. */
#define ASSERT_REL(got, want, tol)                                                             \
    do {                                                                                       \
        double g_ = (got), w_ = (want);                                                        \
        if (isnan(w_))                                                                         \
            ck_assert_msg(isnan(g_), "%s = %.17g, want NaN", #got, g_);                        \
        else                                                                                   \
            ck_assert_msg(fabs(g_ - w_) <= (tol) * fmax(fabs(w_), 1e-300),                     \
                          "%s = %.17g, want %.17g (rel err %.3g)", #got, g_, w_,               \
                          fabs(g_ - w_) / fmax(fabs(w_), 1e-300));                             \
    } while (0)

/* ---- a model of the documented hash and arm rule ------------------------------------ */

static uint64_t model_hash(const char *salt, size_t sl, const char *id, size_t il)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sl + 1 + il; i++) {
        unsigned char c = i < sl ? (unsigned char)salt[i]
                        : i == sl ? 0 : (unsigned char)id[i - sl - 1];
        h ^= c;
        h *= 0x100000001b3ull;
    }
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

static double model_u(const char *salt, const char *id)
{
    return (double)(model_hash(salt, strlen(salt), id, strlen(id)) >> 11) * 0x1p-53;
}

/* Cumulative normalised weights, the last positive arm's bound exactly 1. */
static void model_bounds(const double *w, int k, double *bound)
{
    double sum = 0;
    int last = 0;
    for (int a = 0; a < k; a++) {
        sum += w[a];
        bound[a] = sum;
        if (w[a] > 0)
            last = a;
    }
    for (int a = 0; a < k; a++)
        bound[a] = a >= last ? 1.0 : bound[a] / sum;
}

static int32_t model_arm(const char *salt, const char *id, const double *w, int k, double q)
{
    if (q > 0 && model_u("libsegment-global-holdout", id) < q)
        return SEG_ARM_HOLDOUT;
    double bound[SEG_AB_MAX_ARMS], u = model_u(salt, id);
    model_bounds(w, k, bound);
    for (int a = 0; a < k; a++)
        if (u < bound[a])
            return a;
    return -99;
}

/* n ids "P<seed>-<i>" in one block; free with free_ids. */
typedef struct idset {
    char **ids;
    char *store;
    size_t n;
} idset;

static idset make_ids(size_t n, unsigned seed)
{
    idset s;
    s.n = n;
    s.ids = malloc((n ? n : 1) * sizeof *s.ids);
    s.store = malloc((n ? n : 1) * 40);
    ck_assert_ptr_nonnull(s.ids);
    ck_assert_ptr_nonnull(s.store);
    for (size_t i = 0; i < n; i++) {
        s.ids[i] = s.store + i * 40; /* room for any unsigned and size_t */
        snprintf(s.ids[i], 40, "P%u-%zu", seed, i);
    }
    return s;
}

static void free_ids(idset *s)
{
    free(s->ids);
    free(s->store);
}

static void fill_i32(int32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = CANARY_I32;
}

static void assert_i32_canary(const int32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(v[i] == CANARY_I32, "out[%zu] = %d was written", i, (int)v[i]);
}

static void fill_dbl(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = CANARY_DBL;
}

static void assert_dbl_canary(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(v[i] == CANARY_DBL, "out[%zu] = %g was written", i, v[i]);
}

static void assign_ok(const char *const *ids, size_t n, const char *salt, const double *w,
                      int32_t k, double q, int32_t *out)
{
    char err[256] = "";
    int32_t rc = seg_ab_assign(ids, n, salt, w, k, q, out, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "assign: %d %s", (int)rc, err);
}

static void strat_ok(const char *const *ids, const int32_t *strata, size_t n, const char *salt,
                     const double *w, int32_t k, double q, const seg_allocator *al,
                     int32_t *out)
{
    char err[256] = "";
    int32_t rc = seg_ab_assign_stratified(ids, strata, n, salt, w, k, q, al, out, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "stratified: %d %s", (int)rc, err);
}

/* ---- the hash ------------------------------------------------------------------------ */

/* Expected values from the Python reimplementation (see the file comment):
 *   M = 2**64 - 1
 *   def h(salt, id):
 *       x = 0xcbf29ce484222325
 *       for b in salt + b'\0' + id: x ^= b; x = (x * 0x100000001b3) & M
 *       x ^= x >> 30; x = (x * 0xbf58476d1ce4e5b9) & M
 *       x ^= x >> 27; x = (x * 0x94d049bb133111eb) & M
 *       return x ^ (x >> 31)                                                      */
static const struct {
    const char *salt, *id;
    uint64_t h;
} HASHES[] = {
    {"", "", 0x25fc6dd36ce04b20ull},
    {"spring-2024", "C000001", 0xa7681e5b19e3640eull},
    {"spring-2024", "C000002", 0x156da898c64ae26dull},
    {"spring-2024", "C000001\xe5\xae\xa2", 0x12e29ec9ab93c730ull}, /* "C000001客" */
    {"a", "bc", 0x82a144826e72d59eull},
    {"ab", "c", 0x9291f5e7171dc35aull}, /* the 0x00 separator: differs from ("a", "bc") */
    {"libsegment-global-holdout", "C000001", 0x4d6b5efa8903eda3ull},
    {"\xe5\xae\xa2\xe6\x88\xb7", "\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e", 0xe6480bc2745943ddull},
};

START_TEST(hash_known)
{
    for (size_t i = 0; i < sizeof HASHES / sizeof HASHES[0]; i++) {
        uint64_t h = seg_ab_hash(HASHES[i].salt, strlen(HASHES[i].salt), HASHES[i].id,
                                 strlen(HASHES[i].id));
        ck_assert_msg(h == HASHES[i].h, "hash('%s', '%s') = %016llx, want %016llx",
                      HASHES[i].salt, HASHES[i].id, (unsigned long long)h,
                      (unsigned long long)HASHES[i].h);
    }
    /* NULL with length 0 is the empty string. */
    ck_assert(seg_ab_hash(NULL, 0, NULL, 0) == 0x25fc6dd36ce04b20ull);
    ck_assert(seg_ab_hash(NULL, 0, "", 0) == 0x25fc6dd36ce04b20ull);
    ck_assert(seg_ab_hash("", 0, NULL, 0) == 0x25fc6dd36ce04b20ull);
    /* Lengths, not NULs, delimit: a prefix of a longer buffer. */
    ck_assert(seg_ab_hash("spring-2024XYZ", 11, "C000001tail", 7) == 0xa7681e5b19e3640eull);
}
END_TEST

START_TEST(hash_vs_model)
{
    /* Random byte strings, embedded NULs and high bytes included. */
    uint64_t s = 42;
    char salt[40], id[40];
    for (int it = 0; it < 20000; it++) {
        size_t sl = seg_test_rng(&s) % 40, il = seg_test_rng(&s) % 40;
        for (size_t i = 0; i < sl; i++)
            salt[i] = (char)(seg_test_rng(&s) & 0xff);
        for (size_t i = 0; i < il; i++)
            id[i] = (char)(seg_test_rng(&s) & 0xff);
        ck_assert(seg_ab_hash(salt, sl, id, il) == model_hash(salt, sl, id, il));
    }
    /* One character apart lands far apart: about half the bits differ. */
    int total = 0;
    char a[16], b[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(a, sizeof a, "C%07d", i);
        snprintf(b, sizeof b, "C%07d", i + 1);
        total += __builtin_popcountll(seg_ab_hash("x", 1, a, strlen(a)) ^
                                      seg_ab_hash("x", 1, b, strlen(b)));
    }
    ck_assert_msg(total > 1000 * 28 && total < 1000 * 36, "mean bit flips %g", total / 1000.0);
}
END_TEST

/* ---- plain assignment ------------------------------------------------------------------ */

/* u of C000001..C000012 under "spring-2024" and the holdout salt (Python):
 *   id       u        u_holdout   arm {.2,0,.5,.3}   arm {.1,.9}
 *   C000001  0.653932 0.302420    2                  1
 *   C000002  0.083705 0.173088    0                  0
 *   C000003  0.431332 0.646816    2                  1
 *   C000004  0.001138 0.726405    0                  0
 *   C000005  0.622857 0.643757    2                  1
 *   C000006  0.400013 0.716618    2                  1
 *   C000007  0.289908 0.541188    2                  1
 *   C000008  0.448592 0.355053    2                  1
 *   C000009  0.704346 0.410621    3                  1
 *   C000010  0.669418 0.216306    2                  1
 *   C000011  0.157140 0.428794    0                  1
 *   C000012  0.408159 0.543914    2                  1
 * Bounds of {.2, 0, .5, .3}: 0.2, 0.2, 0.7, 1. */
static const char *const KNOWN_IDS[12] = {"C000001", "C000002", "C000003", "C000004",
                                          "C000005", "C000006", "C000007", "C000008",
                                          "C000009", "C000010", "C000011", "C000012"};

START_TEST(assign_known)
{
    int32_t out[12];
    const double w4[4] = {0.2, 0.0, 0.5, 0.3};
    const double w2[2] = {0.1, 0.9};
    const int32_t want4[12] = {2, 0, 2, 0, 2, 2, 2, 2, 3, 2, 0, 2};
    const int32_t want2[12] = {1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    assign_ok(KNOWN_IDS, 12, "spring-2024", w4, 4, 0, out);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(out[i], want4[i]);
    assign_ok(KNOWN_IDS, 12, "spring-2024", w2, 2, 0, out);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(out[i], want2[i]);
    /* Weights need not sum to 1: {20, 0, 50, 30} is the same split. */
    const double w4x[4] = {20, 0, 50, 30};
    assign_ok(KNOWN_IDS, 12, "spring-2024", w4x, 4, 0, out);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(out[i], want4[i]);
    /* Holdout 0.25 takes C000002 (0.173) and C000010 (0.216); the others keep
     * their arms. 0.30 still spares C000001 (0.302420), 0.31 takes it. */
    const int32_t want_h[12] = {2, SEG_ARM_HOLDOUT, 2, 0, 2, 2, 2, 2, 3, SEG_ARM_HOLDOUT, 0, 2};
    assign_ok(KNOWN_IDS, 12, "spring-2024", w4, 4, 0.25, out);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(out[i], want_h[i]);
    assign_ok(KNOWN_IDS, 12, "spring-2024", w4, 4, 0.30, out);
    ck_assert_int_eq(out[0], 2);
    assign_ok(KNOWN_IDS, 12, "spring-2024", w4, 4, 0.31, out);
    ck_assert_int_eq(out[0], SEG_ARM_HOLDOUT);
    /* One arm: everybody (but the holdout) in arm 0. */
    const double w1[1] = {3.5};
    assign_ok(KNOWN_IDS, 12, "spring-2024", w1, 1, 0.25, out);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(out[i], want_h[i] == SEG_ARM_HOLDOUT ? SEG_ARM_HOLDOUT : 0);
    /* n = 0 with NULL ids writes nothing. */
    out[0] = CANARY_I32;
    assign_ok(NULL, 0, "spring-2024", w2, 2, 0, out);
    ck_assert_int_eq(out[0], CANARY_I32);
}
END_TEST

START_TEST(assign_vs_model)
{
    const size_t n = 50000;
    idset s = make_ids(n, 7);
    int32_t *out = malloc(n * sizeof *out);
    const double wsets[4][6] = {{0.1, 0.9}, {1, 1, 1}, {0, 0.25, 0, 0.25, 0.5, 0},
                                {1e-300, 1, 0, 0, 0, 0}};
    const int ks[4] = {2, 3, 6, 2};
    const double qs[3] = {0, 0.05, 0.5};
    for (int wi = 0; wi < 4; wi++) {
        for (int qi = 0; qi < 3; qi++) {
            assign_ok((const char *const *)s.ids, n, "model-salt", wsets[wi], ks[wi], qs[qi], out);
            for (size_t i = 0; i < n; i++) {
                int32_t want = model_arm("model-salt", s.ids[i], wsets[wi], ks[wi], qs[qi]);
                ck_assert_msg(out[i] == want, "w%d q%g id %s: arm %d, want %d", wi, qs[qi],
                              s.ids[i], (int)out[i], (int)want);
            }
        }
    }
    free(out);
    free_ids(&s);
}
END_TEST

START_TEST(assign_stable)
{
    /* The same id gets the same arm whatever n, order or neighbours. */
    const size_t n = 20000;
    idset s = make_ids(n, 11);
    int32_t *all = malloc(n * sizeof *all), *part = malloc(n * sizeof *part);
    const char **perm = malloc(n * sizeof *perm);
    size_t *pi = malloc(n * sizeof *pi);
    const double w[3] = {0.2, 0.3, 0.5};
    assign_ok((const char *const *)s.ids, n, "stable", w, 3, 0.1, all);
    /* again: identical */
    assign_ok((const char *const *)s.ids, n, "stable", w, 3, 0.1, part);
    ck_assert(memcmp(all, part, n * sizeof *all) == 0);
    /* shuffled */
    uint64_t r = 5;
    for (size_t i = 0; i < n; i++)
        pi[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(seg_test_rng(&r) % (i + 1));
        size_t t = pi[i];
        pi[i] = pi[j];
        pi[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = s.ids[pi[i]];
    assign_ok(perm, n, "stable", w, 3, 0.1, part);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(part[i], all[pi[i]]);
    /* one at a time, and in a window of 7 */
    for (size_t i = 0; i < n; i += 97) {
        int32_t one;
        assign_ok((const char *const *)&s.ids[i], 1, "stable", w, 3, 0.1, &one);
        ck_assert_int_eq(one, all[i]);
    }
    assign_ok((const char *const *)&s.ids[1000], 7, "stable", w, 3, 0.1, part);
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(part[i], all[1000 + i]);
    free(pi);
    free(perm);
    free(part);
    free(all);
    free_ids(&s);
}
END_TEST

START_TEST(salts_independent)
{
    /* Two salts, 50/50 each, 200000 ids: the 2x2 table is balanced
     * (chi-square, 1 df, below 10.83 = the 0.001 critical value), and a
     * different salt is not a relabelling of the first. */
    const size_t n = 200000;
    idset s = make_ids(n, 13);
    int32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    const double w[2] = {1, 1};
    assign_ok((const char *const *)s.ids, n, "campaign-A", w, 2, 0, a);
    assign_ok((const char *const *)s.ids, n, "campaign-B", w, 2, 0, b);
    double t[2][2] = {{0, 0}, {0, 0}};
    for (size_t i = 0; i < n; i++)
        t[a[i]][b[i]]++;
    double chi = 0;
    double ra[2] = {t[0][0] + t[0][1], t[1][0] + t[1][1]};
    double cb[2] = {t[0][0] + t[1][0], t[0][1] + t[1][1]};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double e = ra[i] * cb[j] / (double)n;
            chi += (t[i][j] - e) * (t[i][j] - e) / e;
        }
    ck_assert_msg(chi < 10.83, "independence chi2 = %g (table %g %g %g %g)", chi, t[0][0],
                  t[0][1], t[1][0], t[1][1]);
    /* marginals close to 1/2: |k - n/2| < 5 sigma */
    ck_assert(fabs(ra[0] - n / 2.0) < 5 * sqrt(n / 4.0));
    ck_assert(fabs(cb[0] - n / 2.0) < 5 * sqrt(n / 4.0));
    free(a);
    free(b);
    free_ids(&s);
}
END_TEST

START_TEST(holdout_same_set)
{
    const size_t n = 100000;
    idset s = make_ids(n, 17);
    int32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    int32_t *c = malloc(n * sizeof *c);
    const double w2[2] = {0.5, 0.5}, w5[5] = {1, 2, 3, 4, 5};
    const double q = 0.07;
    assign_ok((const char *const *)s.ids, n, "salt-one", w2, 2, q, a);
    assign_ok((const char *const *)s.ids, n, "another salt", w5, 5, q, b);
    assign_ok((const char *const *)s.ids, n, "libsegment-global-holdout", w2, 2, q, c);
    size_t held = 0;
    for (size_t i = 0; i < n; i++) {
        int want = model_u("libsegment-global-holdout", s.ids[i]) < q;
        ck_assert_int_eq(a[i] == SEG_ARM_HOLDOUT, want);
        ck_assert_int_eq(b[i] == SEG_ARM_HOLDOUT, want);
        ck_assert_int_eq(c[i] == SEG_ARM_HOLDOUT, want);
        held += (size_t)want;
    }
    /* about 7%: within 5 binomial sigma */
    ck_assert_msg(fabs((double)held - q * n) < 5 * sqrt(n * q * (1 - q)), "held %zu", held);
    /* a smaller holdout is a subset of a larger one */
    assign_ok((const char *const *)s.ids, n, "salt-one", w2, 2, 0.03, b);
    for (size_t i = 0; i < n; i++)
        if (b[i] == SEG_ARM_HOLDOUT)
            ck_assert_int_eq(a[i], SEG_ARM_HOLDOUT);
    /* the others keep their arm: holdout does not reshuffle the rest */
    assign_ok((const char *const *)s.ids, n, "salt-one", w2, 2, 0, c);
    for (size_t i = 0; i < n; i++)
        if (a[i] != SEG_ARM_HOLDOUT)
            ck_assert_int_eq(a[i], c[i]);
    free(a);
    free(b);
    free(c);
    free_ids(&s);
}
END_TEST

START_TEST(zero_weights)
{
    const size_t n = 30000;
    idset s = make_ids(n, 19);
    int32_t *out = malloc(n * sizeof *out);
    /* zeros first, between and last */
    const double w[6] = {0, 0.3, 0, 0, 0.7, 0};
    size_t cnt[6] = {0};
    assign_ok((const char *const *)s.ids, n, "zeros", w, 6, 0, out);
    for (size_t i = 0; i < n; i++) {
        ck_assert(out[i] >= 0 && out[i] < 6);
        cnt[out[i]]++;
    }
    ck_assert_uint_eq(cnt[0] + cnt[2] + cnt[3] + cnt[5], 0);
    ck_assert(fabs((double)cnt[1] - 0.3 * n) < 5 * sqrt(n * 0.21));
    /* a single positive weight among zeros takes everybody */
    const double w1[4] = {0, 0, 2, 0};
    assign_ok((const char *const *)s.ids, n, "zeros", w1, 4, 0, out);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(out[i], 2);
    /* 64 arms, all used */
    double w64[SEG_AB_MAX_ARMS];
    size_t c64[SEG_AB_MAX_ARMS] = {0};
    for (int a = 0; a < SEG_AB_MAX_ARMS; a++)
        w64[a] = 1;
    assign_ok((const char *const *)s.ids, n, "many", w64, SEG_AB_MAX_ARMS, 0, out);
    for (size_t i = 0; i < n; i++)
        c64[out[i]]++;
    for (int a = 0; a < SEG_AB_MAX_ARMS; a++)
        ck_assert(c64[a] > 0);
    free(out);
    free_ids(&s);
}
END_TEST

/* ---- bad inputs -------------------------------------------------------------------------- */

START_TEST(assign_errors)
{
    const char *ids[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    const double w[2] = {0.5, 0.5};
    int32_t out[8];
    char err[256];
#define BAD(rc_want, word, call)                                                              \
    do {                                                                                       \
        fill_i32(out, 8);                                                                      \
        strcpy(err, "");                                                                       \
        int32_t rc_ = (call);                                                                  \
        ck_assert_msg(rc_ == (rc_want), "%s: rc %d, want %d (%s)", #call, (int)rc_,           \
                      (int)(rc_want), err);                                                    \
        SEG_ASSERT_WORD(err, word);                                                                \
        assert_i32_canary(out, 8);                                                             \
    } while (0)
    BAD(SEG_EINVAL, "ids", seg_ab_assign(NULL, 8, "s", w, 2, 0, out, err, sizeof err));
    BAD(SEG_EINVAL, "salt", seg_ab_assign(ids, 8, NULL, w, 2, 0, out, err, sizeof err));
    BAD(SEG_EINVAL, "salt", seg_ab_assign(ids, 8, "", w, 2, 0, out, err, sizeof err));
    BAD(SEG_EINVAL, "weights", seg_ab_assign(ids, 8, "s", NULL, 2, 0, out, err, sizeof err));
    BAD(SEG_ERANGE, "n_arms", seg_ab_assign(ids, 8, "s", w, 0, 0, out, err, sizeof err));
    BAD(SEG_ERANGE, "n_arms", seg_ab_assign(ids, 8, "s", w, -1, 0, out, err, sizeof err));
    double w65[65];
    for (int i = 0; i < 65; i++)
        w65[i] = 1;
    BAD(SEG_ERANGE, "n_arms", seg_ab_assign(ids, 8, "s", w65, 65, 0, out, err, sizeof err));
    const double neg[3] = {0.5, 0.2, -0.1};
    BAD(SEG_ERANGE, "weights[2]", seg_ab_assign(ids, 8, "s", neg, 3, 0, out, err, sizeof err));
    const double wnan[3] = {0.5, NAN, 0.5};
    BAD(SEG_ERANGE, "weights[1]", seg_ab_assign(ids, 8, "s", wnan, 3, 0, out, err, sizeof err));
    const double winf[2] = {INFINITY, 1};
    BAD(SEG_ERANGE, "weights[0]", seg_ab_assign(ids, 8, "s", winf, 2, 0, out, err, sizeof err));
    const double wzero[3] = {0, 0, 0};
    BAD(SEG_ERANGE, "weights", seg_ab_assign(ids, 8, "s", wzero, 3, 0, out, err, sizeof err));
    const double wbig[2] = {DBL_MAX, DBL_MAX};
    BAD(SEG_ERANGE, "weights", seg_ab_assign(ids, 8, "s", wbig, 2, 0, out, err, sizeof err));
    BAD(SEG_ERANGE, "holdout", seg_ab_assign(ids, 8, "s", w, 2, -0.01, out, err, sizeof err));
    BAD(SEG_ERANGE, "holdout", seg_ab_assign(ids, 8, "s", w, 2, 1.0, out, err, sizeof err));
    BAD(SEG_ERANGE, "holdout", seg_ab_assign(ids, 8, "s", w, 2, NAN, out, err, sizeof err));
    ids[5] = NULL;
    BAD(SEG_EINVAL, "ids[5]", seg_ab_assign(ids, 8, "s", w, 2, 0, out, err, sizeof err));
    SEG_ASSERT_WORD(err, "NULL");
    ids[5] = "f";
    /* NULL out_arm */
    strcpy(err, "");
    ck_assert_int_eq(seg_ab_assign(ids, 8, "s", w, 2, 0, NULL, err, sizeof err), SEG_EINVAL);
    SEG_ASSERT_WORD(err, "out_arm");
    /* no error buffer, or a tiny one: still the status, terminated */
    ck_assert_int_eq(seg_ab_assign(ids, 8, "", w, 2, 0, out, NULL, 0), SEG_EINVAL);
    char tiny[4] = "xyz";
    ck_assert_int_eq(seg_ab_assign(ids, 8, "s", w, 0, 0, out, tiny, 1), SEG_ERANGE);
    ck_assert_int_eq(tiny[0], '\0');
    ck_assert_int_eq(seg_ab_assign(ids, 8, "s", w, 0, 0, out, tiny, 4), SEG_ERANGE);
    ck_assert_uint_eq(strlen(tiny), 3);
    /* Largest valid holdout and tiny positive weights are fine. */
    const double wt[2] = {DBL_MIN, DBL_MIN};
    assign_ok(ids, 8, "s", wt, 2, nextafter(1.0, 0.0), out);
}
END_TEST

START_TEST(stratified_errors)
{
    const char *ids[6] = {"a", "b", "c", "d", "e", "f"};
    const int32_t strata[6] = {1, 1, 2, 2, 3, 3};
    const double w[2] = {0.5, 0.5};
    int32_t out[8];
    char err[256];
    BAD(SEG_EINVAL, "strata",
        seg_ab_assign_stratified(ids, NULL, 6, "s", w, 2, 0, NULL, out, err, sizeof err));
    BAD(SEG_EINVAL, "ids",
        seg_ab_assign_stratified(NULL, strata, 6, "s", w, 2, 0, NULL, out, err, sizeof err));
    BAD(SEG_EINVAL, "salt",
        seg_ab_assign_stratified(ids, strata, 6, NULL, w, 2, 0, NULL, out, err, sizeof err));
    BAD(SEG_EINVAL, "salt",
        seg_ab_assign_stratified(ids, strata, 6, "", w, 2, 0, NULL, out, err, sizeof err));
    BAD(SEG_EINVAL, "weights",
        seg_ab_assign_stratified(ids, strata, 6, "s", NULL, 2, 0, NULL, out, err, sizeof err));
    BAD(SEG_ERANGE, "n_arms",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 0, 0, NULL, out, err, sizeof err));
    BAD(SEG_ERANGE, "n_arms",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 65, 0, NULL, out, err, sizeof err));
    const double neg[2] = {-1, 2};
    BAD(SEG_ERANGE, "weights[0]",
        seg_ab_assign_stratified(ids, strata, 6, "s", neg, 2, 0, NULL, out, err, sizeof err));
    const double wzero[2] = {0, 0};
    BAD(SEG_ERANGE, "weights",
        seg_ab_assign_stratified(ids, strata, 6, "s", wzero, 2, 0, NULL, out, err, sizeof err));
    BAD(SEG_ERANGE, "holdout",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 2, 1.5, NULL, out, err, sizeof err));
    ids[3] = NULL;
    BAD(SEG_EINVAL, "ids[3]",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 2, 0, NULL, out, err, sizeof err));
    ids[3] = "d";
    strcpy(err, "");
    ck_assert_int_eq(
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 2, 0, NULL, NULL, err, sizeof err),
        SEG_EINVAL);
    SEG_ASSERT_WORD(err, "out_arm");
    /* allocators: unknown size, too small, NULL hook */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator base;
        uint64_t extra;
    } big;
    memset(&big, 0, sizeof big);
    big.base = ta.base;
    big.base.struct_size = (uint32_t)sizeof big;
    big.extra = 1;
    BAD(SEG_EVERSION, "alloc",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 2, 0, &big.base, out, err, sizeof err));
    seg_allocator small = ta.base;
    small.struct_size = 4;
    BAD(SEG_EVERSION, "alloc",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 2, 0, &small, out, err, sizeof err));
    seg_allocator nohook = ta.base;
    nohook.free_fn = NULL;
    BAD(SEG_EINVAL, "alloc",
        seg_ab_assign_stratified(ids, strata, 6, "s", w, 2, 0, &nohook, out, err, sizeof err));
    ck_assert_uint_eq(ta.attempts, 0);
    /* a larger struct with a zero tail is accepted */
    big.extra = 0;
    strat_ok(ids, strata, 6, "s", w, 2, 0, &big.base, out);
    ck_assert_uint_eq(ta.live, 0);
    /* n = 0: NULL ids and strata are fine, nothing allocated */
    out[0] = CANARY_I32;
    strat_ok(NULL, NULL, 0, "s", w, 2, 0, &ta.base, out);
    ck_assert_int_eq(out[0], CANARY_I32);
    ck_assert_uint_eq(ta.live, 0);
}
END_TEST

/* ---- stratified assignment ----------------------------------------------------------------- */

typedef struct srow {
    int32_t stratum;
    double u;
    const char *id;
    size_t index;
} srow;

static int cmp_srow(const void *x, const void *y)
{
    const srow *a = x, *b = y;
    if (a->stratum != b->stratum)
        return a->stratum < b->stratum ? -1 : 1;
    if (a->u != b->u)
        return a->u < b->u ? -1 : 1;
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    return (a->index > b->index) - (a->index < b->index);
}

/* The documented stratification, naively: per stratum, non-holdout
 * customers by (u, id bytes, index); ranks [round(m C_{a-1}), round(m C_a))
 * get arm a (round half up). */
static void model_stratified(const char *const *ids, const int32_t *strata, size_t n,
                             const char *salt, const double *w, int k, double q, int32_t *out)
{
    srow *r = malloc((n ? n : 1) * sizeof *r);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (q > 0 && model_u("libsegment-global-holdout", ids[i]) < q) {
            out[i] = SEG_ARM_HOLDOUT;
            continue;
        }
        r[m].stratum = strata[i];
        r[m].u = model_u(salt, ids[i]);
        r[m].id = ids[i];
        r[m].index = i;
        m++;
    }
    qsort(r, m, sizeof *r, cmp_srow);
    double bound[SEG_AB_MAX_ARMS];
    model_bounds(w, k, bound);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && r[j].stratum == r[i].stratum)
            j++;
        size_t cnt = j - i;
        for (size_t t = 0; t < cnt; t++) {
            int a = 0;
            while (a < k - 1 && (double)t >= floor((double)cnt * bound[a] + 0.5))
                a++;
            out[r[i + t].index] = a;
        }
        i = j;
    }
    free(r);
}

START_TEST(stratified_balance)
{
    /* Strata of sizes 1, 2, 3, 7, 10, 99, 1000, 5003 with labels that are
     * negative, huge and interleaved in the input. */
    const int32_t labels[8] = {INT32_MIN, -5, 0, 7, 1000, 123456, INT32_MAX - 1, INT32_MAX};
    const size_t sizes[8] = {1, 2, 3, 7, 10, 99, 1000, 5003};
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        n += sizes[i];
    idset s = make_ids(n, 23);
    int32_t *strata = malloc(n * sizeof *strata);
    size_t p = 0;
    for (int i = 0; i < 8; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            strata[p++] = labels[i];
    uint64_t r = 99;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(seg_test_rng(&r) % (i + 1));
        int32_t t = strata[i];
        strata[i] = strata[j];
        strata[j] = t;
    }
    int32_t *out = malloc(n * sizeof *out), *want = malloc(n * sizeof *want);
    int32_t *plain = malloc(n * sizeof *plain);
    const double wsets[4][4] = {{0.1, 0.9}, {1, 1, 1}, {0.2, 0, 0.5, 0.3}, {1, 0, 0, 0}};
    const int ks[4] = {2, 3, 4, 4};
    const double qs[2] = {0, 0.1};
    for (int wi = 0; wi < 4; wi++) {
        for (int qi = 0; qi < 2; qi++) {
            const double *w = wsets[wi];
            int k = ks[wi];
            strat_ok((const char *const *)s.ids, strata, n, "strat", w, k, qs[qi], NULL, out);
            model_stratified((const char *const *)s.ids, strata, n, "strat", w, k, qs[qi], want);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(out[i] == want[i], "w%d q%g row %zu: %d, want %d", wi, qs[qi], i,
                              (int)out[i], (int)want[i]);
            /* Per stratum: arm sizes within 1 of m * w_a, holdout exactly
             * the plain assignment's. */
            assign_ok((const char *const *)s.ids, n, "strat", w, k, qs[qi], plain);
            double wsum = 0;
            for (int a = 0; a < k; a++)
                wsum += w[a];
            for (int li = 0; li < 8; li++) {
                size_t cnt[SEG_AB_MAX_ARMS] = {0}, m = 0;
                for (size_t i = 0; i < n; i++) {
                    if (strata[i] != labels[li])
                        continue;
                    ck_assert_int_eq(out[i] == SEG_ARM_HOLDOUT, plain[i] == SEG_ARM_HOLDOUT);
                    if (out[i] == SEG_ARM_HOLDOUT)
                        continue;
                    ck_assert(out[i] >= 0 && out[i] < k);
                    cnt[out[i]]++;
                    m++;
                }
                for (int a = 0; a < k; a++) {
                    double target = (double)m * w[a] / wsum;
                    ck_assert_msg(fabs((double)cnt[a] - target) < 1.0,
                                  "w%d stratum %d arm %d: %zu customers for %g", wi,
                                  (int)labels[li], a, cnt[a], target);
                    if (w[a] == 0)
                        ck_assert_uint_eq(cnt[a], 0);
                }
            }
        }
    }
    /* Hand case: 10 customers in one stratum, {0.25, 0.75}: cuts
     * round(2.5) = 3 and 10, so the 3 smallest u get arm 0. */
    {
        const int32_t st10[10] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
        const double w[2] = {0.25, 0.75};
        strat_ok(KNOWN_IDS, st10, 10, "spring-2024", w, 2, 0, NULL, out);
        /* u (see assign_known): C000004 .001, C000002 .084, C000007 .290 are
         * the three smallest of C000001..C000010. */
        const int32_t hand[10] = {1, 0, 1, 0, 1, 1, 0, 1, 1, 1};
        for (int i = 0; i < 10; i++)
            ck_assert_int_eq(out[i], hand[i]);
    }
    free(plain);
    free(want);
    free(out);
    free(strata);
    free_ids(&s);
}
END_TEST

START_TEST(stratified_order_free)
{
    /* Same population in another order: the same arm for every id, with
     * repeated ids (equal u: ties by bytes, then input order). */
    const size_t n = 3000;
    idset s = make_ids(n, 29);
    for (size_t i = 0; i < 60; i++) /* 20 copies each of three ids */
        snprintf(s.ids[i], 24, "dup%zu", i % 3);
    int32_t *strata = malloc(n * sizeof *strata), *st2 = malloc(n * sizeof *st2);
    for (size_t i = 0; i < n; i++)
        strata[i] = (int32_t)(i % 5);
    const char **perm = malloc(n * sizeof *perm);
    size_t *pi = malloc(n * sizeof *pi);
    uint64_t r = 3;
    for (size_t i = 0; i < n; i++)
        pi[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(seg_test_rng(&r) % (i + 1));
        size_t t = pi[i];
        pi[i] = pi[j];
        pi[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        perm[i] = s.ids[pi[i]];
        st2[i] = strata[pi[i]];
    }
    int32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *m = malloc(n * sizeof *m);
    const double w[3] = {0.3, 0.3, 0.4};
    strat_ok((const char *const *)s.ids, strata, n, "order", w, 3, 0.05, NULL, a);
    strat_ok(perm, st2, n, "order", w, 3, 0.05, NULL, b);
    for (size_t i = 0; i < n; i++) { /* unique ids: the same arm */
        if (pi[i] >= 60)
            ck_assert_msg(b[i] == a[pi[i]], "id %s: %d vs %d", perm[i], (int)b[i],
                          (int)a[pi[i]]);
    }
    /* the copies of one id in one stratum: the same multiset of arms */
    for (int d = 0; d < 3; d++) {
        for (int32_t st = 0; st < 5; st++) {
            int ca[4] = {0}, cb[4] = {0};
            for (size_t i = 0; i < n; i++) {
                if (i < 60 && (int)(i % 3) == d && strata[i] == st)
                    ca[a[i] + 1]++;
                if (pi[i] < 60 && (int)(pi[i] % 3) == d && st2[i] == st)
                    cb[b[i] + 1]++;
            }
            for (int k = 0; k < 4; k++)
                ck_assert_int_eq(ca[k], cb[k]);
        }
    }
    /* and both match the model */
    model_stratified((const char *const *)s.ids, strata, n, "order", w, 3, 0.05, m);
    ck_assert(memcmp(a, m, n * sizeof *a) == 0);
    /* one stratum of 10 copies of one id, 50/50: 5 and 5 */
    const char *same[10];
    int32_t z[10] = {0}, o10[10];
    for (int i = 0; i < 10; i++)
        same[i] = "twin";
    const double half[2] = {1, 1};
    strat_ok(same, z, 10, "order", half, 2, 0, NULL, o10);
    int c0 = 0;
    for (int i = 0; i < 10; i++)
        c0 += o10[i] == 0;
    ck_assert_int_eq(c0, 5);
    free(m);
    free(a);
    free(b);
    free(pi);
    free(perm);
    free(st2);
    free(strata);
    free_ids(&s);
}
END_TEST

/* Allocator wrapper recording the largest request. */
typedef struct big_req {
    seg_test_alloc ta;
    size_t max_req;
} big_req;

static void *rec_malloc(size_t size, void *ud)
{
    big_req *b = ud;
    if (size > b->max_req)
        b->max_req = size;
    return seg_test_alloc_malloc_hook(size, &b->ta);
}

static void *rec_realloc(void *p, size_t size, void *ud)
{
    big_req *b = ud;
    if (size > b->max_req)
        b->max_req = size;
    return seg_test_alloc_realloc_hook(p, size, &b->ta);
}

static void rec_free(void *p, void *ud)
{
    big_req *b = ud;
    seg_test_alloc_free_hook(p, &b->ta);
}

START_TEST(stratified_memory)
{
    const size_t n = 10000;
    idset s = make_ids(n, 31);
    int32_t *strata = malloc(n * sizeof *strata);
    for (size_t i = 0; i < n; i++)
        strata[i] = (int32_t)(i % 13) - 6;
    int32_t *out = malloc(n * sizeof *out), *ref = malloc(n * sizeof *ref);
    const double w[2] = {0.1, 0.9};
    strat_ok((const char *const *)s.ids, strata, n, "mem", w, 2, 0.02, NULL, ref);

    big_req br;
    memset(&br, 0, sizeof br);
    seg_test_alloc_init(&br.ta);
    seg_allocator al;
    ck_assert_int_eq(seg_allocator_init(&al, sizeof al, rec_malloc, rec_realloc, rec_free, &br),
                     SEG_OK);
    strat_ok((const char *const *)s.ids, strata, n, "mem", w, 2, 0.02, &al, out);
    ck_assert(memcmp(out, ref, n * sizeof *out) == 0);
    ck_assert_uint_eq(br.ta.live, 0);
    ck_assert_uint_eq(br.ta.bad_frees, 0);
    ck_assert_msg(br.ta.mallocs >= 1, "working memory did not use the caller's allocator");
    ck_assert_msg(br.max_req <= 16 * n + 64, "largest request %zu for %zu customers",
                  br.max_req, n);

    /* Every allocation attempt failing in turn: SEG_ENOMEM, nothing
     * written, nothing leaked; then success. */
    char err[256];
    size_t attempts = br.ta.attempts;
    for (size_t k = 0; k < attempts; k++) {
        seg_test_alloc_fail_next(&br.ta, k);
        fill_i32(out, n);
        strcpy(err, "");
        int32_t rc = seg_ab_assign_stratified((const char *const *)s.ids, strata, n, "mem", w, 2,
                                              0.02, &al, out, err, sizeof err);
        ck_assert_int_eq(rc, SEG_ENOMEM);
        SEG_ASSERT_WORD(err, "memory");
        assert_i32_canary(out, n);
        ck_assert_uint_eq(br.ta.live, 0);
    }
    seg_test_alloc_no_fail(&br.ta);
    strat_ok((const char *const *)s.ids, strata, n, "mem", w, 2, 0.02, &al, out);
    ck_assert(memcmp(out, ref, n * sizeof *out) == 0);
    ck_assert_uint_eq(br.ta.live, 0);
    free(ref);
    free(out);
    free(strata);
    free_ids(&s);
}
END_TEST

/* ---- proportions --------------------------------------------------------------------- */

typedef struct pcase {
    int64_t na, ca, nb, cb;
    double conf;
    double want[SEG_AB_N_FIELDS];
} pcase;

/* mpmath, 50 digits: pa, pb, d, d -/+ z se_unpooled, pb/pa - 1,
 * exp(log(pb/pa) -/+ z sqrt((1-pa)/(na pa) + (1-pb)/(nb pb))) - 1,
 * z = d / sqrt(p(1-p)(1/na + 1/nb)) with the pooled p, p = erfc(|z|/sqrt 2). */
static const pcase PCASES[] = {
    {1000, 100, 1000, 130, 0.95,
     {0.1, 0.13, 0.03, 0.0020679344393763697, 0.05793206556062363, 0.3, 0.016984270971045562,
      0.66177594702260227, 2.1027406056221143, 0.035488450466474692}},
    {5000, 250, 4800, 288, 0.90,
     {0.05, 0.06, 0.01, 0.0024175994302907231, 0.017582400569709277, 0.2, 0.045062440399163241,
      0.37790809843858683, 2.1725767747663778, 0.029812185479743785}},
    {200, 37, 180, 21, 0.99,
     {0.185, 0.11666666666666667, -0.068333333333333333, -0.16214466399194196,
      0.025477997325275294, -0.36936936936936937, -0.67147246356258189, 0.21053777288268384,
      -1.8494122178438098, 0.064398312557939009}},
};

static void props_ok(int64_t na, int64_t ca, int64_t nb, int64_t cb, double conf, double *out)
{
    char err[256] = "";
    int32_t rc = seg_ab_proportions(na, ca, nb, cb, conf, out, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "proportions: %d %s", (int)rc, err);
}

START_TEST(proportions_known)
{
    double out[SEG_AB_N_FIELDS + 1];
    for (size_t c = 0; c < sizeof PCASES / sizeof PCASES[0]; c++) {
        const pcase *p = &PCASES[c];
        out[SEG_AB_N_FIELDS] = CANARY_DBL;
        props_ok(p->na, p->ca, p->nb, p->cb, p->conf, out);
        for (int f = 0; f < SEG_AB_N_FIELDS; f++)
            ck_assert_msg(fabs(out[f] - p->want[f]) <= 1e-12 * fabs(p->want[f]),
                          "case %zu field %d: %.17g, want %.17g", c, f, out[f], p->want[f]);
        ck_assert(out[SEG_AB_N_FIELDS] == CANARY_DBL); /* writes exactly 10 values */
    }
    /* Hand check of case 0: pooled p = 0.115, se = sqrt(0.115 * 0.885 * 0.002)
     * = 0.0142672, z = 0.03 / se = 2.1027; p = 2 (1 - Phi(2.1027)) = 0.03549. */
    props_ok(1000, 100, 1000, 130, 0.95, out);
    ck_assert(fabs(out[SEG_AB_STAT] - 2.1027) < 1e-4 && fabs(out[SEG_AB_P] - 0.03549) < 1e-5);
    /* Swapping the arms mirrors the statistic and the difference. */
    double sw[SEG_AB_N_FIELDS];
    props_ok(1000, 130, 1000, 100, 0.95, sw);
    ASSERT_REL(sw[SEG_AB_STAT], -out[SEG_AB_STAT], 1e-14);
    ASSERT_REL(sw[SEG_AB_P], out[SEG_AB_P], 1e-14);
    ASSERT_REL(sw[SEG_AB_DIFF_LO], -out[SEG_AB_DIFF_HI], 1e-14);
    /* A higher confidence widens both intervals. */
    double hi[SEG_AB_N_FIELDS];
    props_ok(1000, 100, 1000, 130, 0.99, hi);
    ck_assert(hi[SEG_AB_DIFF_LO] < out[SEG_AB_DIFF_LO] && hi[SEG_AB_DIFF_HI] > out[SEG_AB_DIFF_HI]);
    ck_assert(hi[SEG_AB_LIFT_LO] < out[SEG_AB_LIFT_LO] && hi[SEG_AB_LIFT_HI] > out[SEG_AB_LIFT_HI]);
    ck_assert(hi[SEG_AB_P] == out[SEG_AB_P]);
    /* z = 1.959964 at 95%: the interval half-width is z * se_unpooled. */
    double se1 = sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000);
    ASSERT_REL(out[SEG_AB_DIFF_HI] - out[SEG_AB_DIFF], 1.959963984540054 * se1, 1e-12);
}
END_TEST

START_TEST(proportions_edges)
{
    double out[SEG_AB_N_FIELDS];
    /* both 0: statistic 0, p 1, relative lift undefined */
    props_ok(100, 0, 200, 0, 0.95, out);
    ck_assert(out[SEG_AB_RATE_A] == 0 && out[SEG_AB_RATE_B] == 0 && out[SEG_AB_DIFF] == 0);
    ck_assert(out[SEG_AB_STAT] == 0 && out[SEG_AB_P] == 1);
    ck_assert(out[SEG_AB_DIFF_LO] == 0 && out[SEG_AB_DIFF_HI] == 0);
    ck_assert(isnan(out[SEG_AB_LIFT]) && isnan(out[SEG_AB_LIFT_LO]) && isnan(out[SEG_AB_LIFT_HI]));
    /* both 1 */
    props_ok(50, 50, 70, 70, 0.95, out);
    ck_assert(out[SEG_AB_STAT] == 0 && out[SEG_AB_P] == 1);
    ck_assert(out[SEG_AB_LIFT] == 0);
    ck_assert(out[SEG_AB_LIFT_LO] == 0 && out[SEG_AB_LIFT_HI] == 0); /* variance 0 */
    /* Rates within 2^-52 of 1 (found by fuzz_analytics): 1 and 1001
     * non-converting customers out of 2^62 each. The pooled rate rounds to
     * 1, so 1 - pool would be 0 (z = 0, p = 1); from the counts the
     * difference is -1000 / 2^62 and the pooled variance
     * (1002 / 2^63) * (2 / 2^62), so z = -1000 / sqrt(1002) (p ~ 0). */
    const int64_t big = INT64_C(1) << 62;
    props_ok(big, big - 1, big, big - 1001, 0.95, out);
    ck_assert_msg(fabs(out[SEG_AB_DIFF] / (-1000 / 0x1p62) - 1) < 1e-12, "diff %g",
                  out[SEG_AB_DIFF]);
    ck_assert_msg(fabs(out[SEG_AB_STAT] / (-1000 / sqrt(1002.0)) - 1) < 1e-12, "z %g",
                  out[SEG_AB_STAT]);
    ck_assert(out[SEG_AB_P] < 1e-100);
    ck_assert(out[SEG_AB_DIFF_LO] < out[SEG_AB_DIFF] && out[SEG_AB_DIFF] < out[SEG_AB_DIFF_HI]);
    /* control 0, treatment positive: lift NaN, z finite */
    props_ok(100, 0, 100, 10, 0.95, out);
    ck_assert(isnan(out[SEG_AB_LIFT]) && isnan(out[SEG_AB_LIFT_LO]));
    /* pooled p = 0.05, se = sqrt(.05 * .95 * .02) = 0.0308221, z = 0.1 / se */
    ASSERT_REL(out[SEG_AB_STAT], 0.1 / sqrt(0.05 * 0.95 * 0.02), 1e-14);
    ASSERT_REL(out[SEG_AB_P], erfc(out[SEG_AB_STAT] / sqrt(2.0)), 1e-14);
    /* treatment 0: lift -1, its interval undefined */
    props_ok(100, 10, 100, 0, 0.95, out);
    ck_assert(out[SEG_AB_LIFT] == -1);
    ck_assert(isnan(out[SEG_AB_LIFT_LO]) && isnan(out[SEG_AB_LIFT_HI]));
    /* 0 vs 1 everywhere: the largest z, p tiny but not negative */
    props_ok(1000, 0, 1000, 1000, 0.95, out);
    ASSERT_REL(out[SEG_AB_STAT], sqrt(2000.0), 1e-14); /* d = 1, p = 0.5, se = sqrt(.25*.002) */
    ck_assert(out[SEG_AB_P] >= 0 && out[SEG_AB_P] < 1e-300);
    /* huge counts: no overflow */
    props_ok(INT64_MAX, INT64_MAX / 2, INT64_MAX, INT64_MAX / 2 + 1, 0.95, out);
    for (int f = 0; f < SEG_AB_N_FIELDS; f++)
        ck_assert(isfinite(out[f]));
    ck_assert(fabs(out[SEG_AB_STAT]) < 1e-6 && out[SEG_AB_P] > 0.999999);
    /* extreme confidences */
    props_ok(1000, 100, 1000, 130, 1e-9, out);
    ck_assert(out[SEG_AB_DIFF_HI] - out[SEG_AB_DIFF] < 1e-9);
    props_ok(1000, 100, 1000, 130, 1 - 1e-12, out);
    ck_assert(isfinite(out[SEG_AB_DIFF_LO]) && out[SEG_AB_DIFF_LO] < -0.05);
}
END_TEST

START_TEST(proportions_errors)
{
    double out[SEG_AB_N_FIELDS];
    char err[256];
#define BADP(rc_want, word, call)                                                              \
    do {                                                                                       \
        fill_dbl(out, SEG_AB_N_FIELDS);                                                        \
        strcpy(err, "");                                                                       \
        int32_t rc_ = (call);                                                                  \
        ck_assert_msg(rc_ == (rc_want), "%s: rc %d, want %d (%s)", #call, (int)rc_,           \
                      (int)(rc_want), err);                                                    \
        SEG_ASSERT_WORD(err, word);                                                                \
        assert_dbl_canary(out, SEG_AB_N_FIELDS);                                               \
    } while (0)
    BADP(SEG_ERANGE, "n_a", seg_ab_proportions(0, 0, 10, 1, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "n_a", seg_ab_proportions(-5, 0, 10, 1, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "n_b", seg_ab_proportions(10, 1, 0, 0, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "n_b", seg_ab_proportions(10, 1, INT64_MIN, 0, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "conv_a", seg_ab_proportions(10, -1, 10, 1, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "conv_a", seg_ab_proportions(10, 11, 10, 1, 0.95, out, err, sizeof err));
    SEG_ASSERT_NUM(err, 11);
    BADP(SEG_ERANGE, "conv_b", seg_ab_proportions(10, 1, 10, -3, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "conv_b", seg_ab_proportions(10, 1, 10, 12, 0.95, out, err, sizeof err));
    BADP(SEG_ERANGE, "confidence", seg_ab_proportions(10, 1, 10, 1, 0, out, err, sizeof err));
    BADP(SEG_ERANGE, "confidence", seg_ab_proportions(10, 1, 10, 1, 1, out, err, sizeof err));
    BADP(SEG_ERANGE, "confidence", seg_ab_proportions(10, 1, 10, 1, -0.5, out, err, sizeof err));
    BADP(SEG_ERANGE, "confidence", seg_ab_proportions(10, 1, 10, 1, 95, out, err, sizeof err));
    BADP(SEG_ERANGE, "confidence", seg_ab_proportions(10, 1, 10, 1, NAN, out, err, sizeof err));
    strcpy(err, "");
    ck_assert_int_eq(seg_ab_proportions(10, 1, 10, 1, 0.95, NULL, err, sizeof err), SEG_EINVAL);
    SEG_ASSERT_WORD(err, "out");
    ck_assert_int_eq(seg_ab_proportions(10, 1, 10, 1, 0.95, NULL, NULL, 0), SEG_EINVAL);
}
END_TEST

/* ---- means ------------------------------------------------------------------------------- */

/* mpmath, 50 digits: Welch's t, Welch-Satterthwaite df, p = I_{df/(df+t^2)}(df/2, 1/2),
 * interval d -/+ q se with q solving I(...)(q) = 1 - confidence (findroot). */
static const double A1[5] = {1, 2, 3, 4, 5}, B1[6] = {2, 4, 6, 8, 10, 12};
static const double W1[8] = {3.0, 7.0, 4.0, 0.016531304371168876, 7.9834686956288311,
                             2.3763541031440183, 6.9722557297949337, 0.049284338206730521};
static const double A2[4] = {10.5, 11.25, 9.75, 12.0}, B2[5] = {13.5, 12.75, 14.25, 15.0, 13.0};
static const double W2[8] = {10.875, 13.7, 2.825, 1.6016511383280676, 4.0483488616719324,
                             4.4356379966805567, 6.4164432392907196, 0.0037373862584972907};
/* df = 1.0000005: the heavy-tailed end (Cauchy-like quantile 63.65). */
static const double A3[2] = {0.1, 0.2}, B3[2] = {100.0, 300.0};
static const double W3[8] = {0.15000000000000001, 200.0, 199.85, -6165.8123041987656,
                             6565.5123041987656, 1.9984997501875468, 1.0000005,
                             0.29535827091862194};

static void means_ok(const double *a, size_t na, const double *b, size_t nb, double conf,
                     double *out)
{
    char err[256] = "";
    int32_t rc = seg_ab_means(a, na, b, nb, conf, out, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "means: %d %s", (int)rc, err);
}

START_TEST(means_known)
{
    double out[SEG_AB_N_MFIELDS + 1];
    struct {
        const double *a, *b, *w;
        size_t na, nb;
        double conf;
    } cs[3] = {{A1, B1, W1, 5, 6, 0.95}, {A2, B2, W2, 4, 5, 0.90}, {A3, B3, W3, 2, 2, 0.99}};
    for (int c = 0; c < 3; c++) {
        out[SEG_AB_N_MFIELDS] = CANARY_DBL;
        means_ok(cs[c].a, cs[c].na, cs[c].b, cs[c].nb, cs[c].conf, out);
        for (int f = 0; f < SEG_AB_N_MFIELDS; f++)
            ck_assert_msg(fabs(out[f] - cs[c].w[f]) <= 1e-12 * fabs(cs[c].w[f]),
                          "case %d field %d: %.17g, want %.17g (rel %.3g)", c, f, out[f],
                          cs[c].w[f], fabs(out[f] - cs[c].w[f]) / fabs(cs[c].w[f]));
        ck_assert(out[SEG_AB_N_MFIELDS] == CANARY_DBL);
    }
    /* Hand check of case 0: means 3 and 7, variances 2.5 and 14, se^2 =
     * 0.5 + 14/6 = 2.8333, t = 4 / 1.68325 = 2.37635, df = 2.8333^2 /
     * (0.25/4 + 5.4444/5) = 6.9723. */
    means_ok(A1, 5, B1, 6, 0.95, out);
    ck_assert(fabs(out[SEG_AB_T] - 2.37635) < 1e-5 && fabs(out[SEG_AB_DF] - 6.9723) < 1e-4);
    /* NaN values are skipped wherever they are. */
    const double a_nan[8] = {NAN, 1, 2, NAN, 3, 4, 5, NAN};
    const double b_nan[7] = {2, 4, NAN, 6, 8, 10, 12};
    double o2[SEG_AB_N_MFIELDS];
    means_ok(a_nan, 8, b_nan, 7, 0.95, o2);
    for (int f = 0; f < SEG_AB_N_MFIELDS; f++)
        ck_assert(o2[f] == out[f]);
    /* Swapping the arms mirrors. */
    means_ok(B1, 6, A1, 5, 0.95, o2);
    ASSERT_REL(o2[SEG_AB_T], -out[SEG_AB_T], 1e-14);
    ASSERT_REL(o2[SEG_AB_T_P], out[SEG_AB_T_P], 1e-14);
    ASSERT_REL(o2[SEG_AB_MDIFF_LO], -out[SEG_AB_MDIFF_HI], 1e-14);
    /* Shifting both arms leaves t, df and p alone. */
    double as[5], bs[6];
    for (int i = 0; i < 5; i++)
        as[i] = A1[i] + 1e6;
    for (int i = 0; i < 6; i++)
        bs[i] = B1[i] + 1e6;
    means_ok(as, 5, bs, 6, 0.95, o2);
    ASSERT_REL(o2[SEG_AB_T], out[SEG_AB_T], 1e-9);
    ASSERT_REL(o2[SEG_AB_DF], out[SEG_AB_DF], 1e-9);
    ASSERT_REL(o2[SEG_AB_T_P], out[SEG_AB_T_P], 1e-9);
    /* Scaling both arms by 2^k scales means and bounds by 2^k and leaves
     * t, df and p alone, also where squares would overflow or underflow. */
    const int ks[4] = {-1060, -600, 700, 1010};
    for (int c = 0; c < 4; c++) {
        for (int i = 0; i < 5; i++)
            as[i] = ldexp(A1[i], ks[c]);
        for (int i = 0; i < 6; i++)
            bs[i] = ldexp(B1[i], ks[c]);
        means_ok(as, 5, bs, 6, 0.95, o2);
        for (int f = 0; f < SEG_AB_N_MFIELDS; f++) {
            double want = f <= SEG_AB_MDIFF_HI ? ldexp(out[f], ks[c]) : out[f];
            ck_assert_msg(fabs(o2[f] - want) <= 1e-14 * fabs(want), "2^%d field %d: %.17g, want %.17g",
                          ks[c], f, o2[f], want);
        }
    }
}
END_TEST

START_TEST(means_large_df)
{
    /* 200000 values per arm: df about 4e5, t about normal. Arm a: i mod 100;
     * arm b: the same + 0.5. Means 49.5 and 50; variances equal,
     * var = (100^2 - 1)/12 * n/(n-1). */
    const size_t n = 200000;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        a[i] = (double)(i % 100);
        b[i] = a[i] + 0.5;
    }
    double out[SEG_AB_N_MFIELDS];
    means_ok(a, n, b, n, 0.95, out);
    double var = (100.0 * 100.0 - 1) / 12 * (double)n / (double)(n - 1);
    double se = sqrt(2 * var / (double)n);
    ASSERT_REL(out[SEG_AB_MEAN_A], 49.5, 1e-15);
    ASSERT_REL(out[SEG_AB_MDIFF], 0.5, 1e-12);
    ASSERT_REL(out[SEG_AB_T], 0.5 / se, 1e-12);
    ASSERT_REL(out[SEG_AB_DF], 2.0 * (double)(n - 1), 1e-12); /* equal variances and sizes */
    /* mpmath (40 digits; the t tail integrated by mp.quad on two grids that
     * agree to 20 digits, the quantile by findroot on that tail):
     *   t = 5.4774857631059620, P(|T| > t) = 4.3167045323652033e-8,
     *   q(0.975, df 399998) = 1.9599699152654240 (z = 1.9599639845400542).
     * A continued fraction alone loses about df * 1e-16 here. */
    ASSERT_REL(out[SEG_AB_T], 5.4774857631059620, 1e-13);
    ASSERT_REL(out[SEG_AB_T_P], 4.3167045323652033e-8, 1e-12);
    double q = (out[SEG_AB_MDIFF_HI] - out[SEG_AB_MDIFF]) / se;
    ASSERT_REL(q, 1.9599699152654240, 1e-13);
    free(a);
    free(b);
}
END_TEST

START_TEST(means_edges)
{
    double out[SEG_AB_N_MFIELDS];
    /* Both variances 0: t and p NaN, the difference still there. */
    const double c1[3] = {5, 5, 5}, c2[4] = {7, 7, NAN, 7};
    means_ok(c1, 3, c2, 4, 0.95, out);
    ck_assert(out[SEG_AB_MEAN_A] == 5 && out[SEG_AB_MEAN_B] == 7 && out[SEG_AB_MDIFF] == 2);
    ck_assert(isnan(out[SEG_AB_T]) && isnan(out[SEG_AB_T_P]));
    /* Equal arms: t = 0 and p exactly 1 (the incomplete beta gave
     * 1 + 2^-52 here; found by fuzz_analytics). */
    const double e1[5] = {1, 2, 3, 4, 10}, e2[5] = {10, 4, 3, 2, 1};
    means_ok(e1, 5, e2, 5, 0.95, out);
    ck_assert(out[SEG_AB_T] == 0 && out[SEG_AB_T_P] == 1);
    /* One variance 0: df = n - 1 of the other arm. */
    const double v[4] = {1, 2, 3, 6};
    means_ok(c1, 3, v, 4, 0.95, out);
    ASSERT_REL(out[SEG_AB_DF], 3.0, 1e-13);
    /* var(v) = 14/3, se = sqrt(14/12), t = (3 - 5) / se */
    ASSERT_REL(out[SEG_AB_T], -2.0 / sqrt(14.0 / 12.0), 1e-14);
    /* Student t with 3 df: P(|T| > t) from the closed form
     * 1 - 2/pi (atan(t/sqrt3) + sqrt3 t / (3 + t^2)). */
    double t = fabs(out[SEG_AB_T]);
    double p3 = 1 - 2 / PI * (atan(t / sqrt(3.0)) + sqrt(3.0) * t / (3 + t * t));
    ASSERT_REL(out[SEG_AB_T_P], p3, 1e-13);
    /* 95% quantile for 3 df is 3.182446305284263 (tables: 3.182). */
    double se = sqrt(14.0 / 12.0);
    ASSERT_REL((out[SEG_AB_MDIFF_HI] - out[SEG_AB_MDIFF]) / se, 3.182446305284263, 1e-12);
    /* Cauchy (df 1 exactly: n = 2 and one variance 0): q = tan(pi (c/2)) */
    const double two[2] = {0, 2}, flat[2] = {1, 1};
    means_ok(flat, 2, two, 2, 0.9, out);
    ASSERT_REL(out[SEG_AB_DF], 1.0, 1e-15);
    ASSERT_REL(out[SEG_AB_MDIFF_HI] - out[SEG_AB_MDIFF], tan(PI * 0.45) * 1.0, 1e-12);
    /* P(|T| > t) for df 1 is 1 - 2 atan(t) / pi; here t = 0 */
    ck_assert(out[SEG_AB_T] == 0 && fabs(out[SEG_AB_T_P] - 1) < 1e-15);
    /* large t: tiny p, still positive */
    const double a5[3] = {0, 1e-6, 2e-6}, b5[3] = {1000, 1000 + 1e-6, 1000 + 2e-6};
    means_ok(a5, 3, b5, 3, 0.95, out);
    ck_assert(out[SEG_AB_T_P] >= 0 && out[SEG_AB_T_P] < 1e-20);
}
END_TEST

START_TEST(means_errors)
{
    double out[SEG_AB_N_MFIELDS];
    char err[256];
#define BADM(rc_want, word, call)                                                              \
    do {                                                                                       \
        fill_dbl(out, SEG_AB_N_MFIELDS);                                                       \
        strcpy(err, "");                                                                       \
        int32_t rc_ = (call);                                                                  \
        ck_assert_msg(rc_ == (rc_want), "%s: rc %d, want %d (%s)", #call, (int)rc_,           \
                      (int)(rc_want), err);                                                    \
        SEG_ASSERT_WORD(err, word);                                                                \
        assert_dbl_canary(out, SEG_AB_N_MFIELDS);                                              \
    } while (0)
    const double a[5] = {1, 2, 3, 4, 5}, b[4] = {1, 5, 2, 8};
    BADM(SEG_EINVAL, "a is", seg_ab_means(NULL, 5, b, 4, 0.95, out, err, sizeof err));
    BADM(SEG_EINVAL, "b is", seg_ab_means(a, 5, NULL, 4, 0.95, out, err, sizeof err));
    BADM(SEG_ERANGE, "confidence", seg_ab_means(a, 5, b, 4, 0, out, err, sizeof err));
    BADM(SEG_ERANGE, "confidence", seg_ab_means(a, 5, b, 4, 1, out, err, sizeof err));
    BADM(SEG_ERANGE, "confidence", seg_ab_means(a, 5, b, 4, NAN, out, err, sizeof err));
    const double ainf[5] = {1, 2, 3, INFINITY, 5};
    BADM(SEG_EDATA, "a[3]", seg_ab_means(ainf, 5, b, 4, 0.95, out, err, sizeof err));
    SEG_ASSERT_WORD(err, "infinite");
    const double binf[4] = {1, -INFINITY, 2, 8};
    BADM(SEG_EDATA, "b[1]", seg_ab_means(a, 5, binf, 4, 0.95, out, err, sizeof err));
    const double one[3] = {NAN, 4, NAN};
    BADM(SEG_ERANGE, "a has", seg_ab_means(one, 3, b, 4, 0.95, out, err, sizeof err));
    SEG_ASSERT_NUM(err, 1);
    SEG_ASSERT_NUM(err, 2);
    BADM(SEG_ERANGE, "b has", seg_ab_means(a, 5, one, 3, 0.95, out, err, sizeof err));
    BADM(SEG_ERANGE, "b has", seg_ab_means(a, 5, b, 1, 0.95, out, err, sizeof err));
    BADM(SEG_ERANGE, "a has", seg_ab_means(a, 0, b, 4, 0.95, out, err, sizeof err));
    strcpy(err, "");
    ck_assert_int_eq(seg_ab_means(a, 5, b, 4, 0.95, NULL, err, sizeof err), SEG_EINVAL);
    SEG_ASSERT_WORD(err, "out");
}
END_TEST

/* ---- planning ---------------------------------------------------------------------------- */

START_TEST(sample_size_known)
{
    /* mpmath of the header's formula (exact z quantiles), then ceil:
     *   (p1, mde, alpha, power)   n (unrounded)
     *   (0.10,  0.02, 0.05, 0.80)  3840.8474824362729 -> 3841
     *   (0.10, -0.02, 0.05, 0.80)  3212.9370624961104 -> 3213
     *   (0.05,  0.01, 0.05, 0.90) 10920.389036645401  -> 10921
     *   (0.50,  0.10, 0.01, 0.95)   878.32455821444788 -> 879
     *   (0.02, 0.002, 0.05, 0.80) 80681.380282408258  -> 80682
     *   (0.30,  0.05, 0.10, 0.50)   474.82287619374518 -> 475   (z_power = 0)
     *   (0.30,  0.05, 0.10, 0.20)   113.56799217141906 -> 114   (z_power < 0) */
    const struct {
        double p1, d, alpha, power;
        int64_t n;
    } cs[] = {{0.10, 0.02, 0.05, 0.8, 3841},   {0.10, -0.02, 0.05, 0.8, 3213},
              {0.05, 0.01, 0.05, 0.9, 10921},  {0.5, 0.1, 0.01, 0.95, 879},
              {0.02, 0.002, 0.05, 0.8, 80682}, {0.3, 0.05, 0.1, 0.5, 475},
              {0.3, 0.05, 0.1, 0.2, 114}};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        int64_t n = CANARY_I64;
        ck_assert_int_eq(seg_ab_sample_size(cs[i].p1, cs[i].d, cs[i].alpha, cs[i].power, &n),
                         SEG_OK);
        ck_assert_msg(n == cs[i].n, "case %zu: n = %lld, want %lld", i, (long long)n,
                      (long long)cs[i].n);
    }
    /* A tiny lift: n grows like 1/mde^2 (0.1 -> 0.1001 needs about 1.4e8). */
    int64_t n = 0;
    ck_assert_int_eq(seg_ab_sample_size(0.1, 1e-4, 0.05, 0.8, &n), SEG_OK);
    ck_assert(n > 140000000 && n < 142000000);
}
END_TEST

START_TEST(sample_size_errors)
{
    int64_t n = CANARY_I64;
    const double bad_rates[] = {0, 1, -0.1, 1.5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++) {
        ck_assert_int_eq(seg_ab_sample_size(bad_rates[i], 0.01, 0.05, 0.8, &n), SEG_ERANGE);
        ck_assert_int_eq(seg_ab_sample_size(0.1, 0.01, bad_rates[i], 0.8, &n), SEG_ERANGE);
        ck_assert_int_eq(seg_ab_sample_size(0.1, 0.01, 0.05, bad_rates[i], &n), SEG_ERANGE);
    }
    ck_assert_int_eq(seg_ab_sample_size(0.1, 0, 0.05, 0.8, &n), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_sample_size(0.1, NAN, 0.05, 0.8, &n), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_sample_size(0.1, 0.9, 0.05, 0.8, &n), SEG_ERANGE);   /* p2 = 1 */
    ck_assert_int_eq(seg_ab_sample_size(0.1, -0.1, 0.05, 0.8, &n), SEG_ERANGE);  /* p2 = 0 */
    ck_assert_int_eq(seg_ab_sample_size(0.1, INFINITY, 0.05, 0.8, &n), SEG_ERANGE);
    /* above 2^62 */
    ck_assert_int_eq(seg_ab_sample_size(0.5, 1e-10, 0.05, 0.8, &n), SEG_ERANGE);
    ck_assert(n == CANARY_I64);
    ck_assert_int_eq(seg_ab_sample_size(0.1, 0.01, 0.05, 0.8, NULL), SEG_EINVAL);
}
END_TEST

START_TEST(mde_known)
{
    /* mpmath: the lift where the unrounded n of the formula equals n. */
    const struct {
        double p1;
        int64_t n;
        double alpha, power, want;
    } cs[] = {{0.1, 3841, 0.05, 0.8, 0.019999586570913722},
              {0.05, 10000, 0.05, 0.9, 0.010471019513321024},
              {0.5, 100, 0.05, 0.8, 0.19322515092981009},
              {0.9, 1000, 0.01, 0.9, 0.045940329513424650}};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        double d = CANARY_DBL;
        ck_assert_int_eq(seg_ab_mde(cs[i].p1, cs[i].n, cs[i].alpha, cs[i].power, &d), SEG_OK);
        ASSERT_REL(d, cs[i].want, 1e-10);
        /* round trip: n customers detect d; a smaller lift needs more */
        int64_t back = 0;
        ck_assert_int_eq(seg_ab_sample_size(cs[i].p1, d, cs[i].alpha, cs[i].power, &back), SEG_OK);
        ck_assert_msg(back == cs[i].n, "round trip %zu: %lld, want %lld", i, (long long)back,
                      (long long)cs[i].n);
        ck_assert_int_eq(
            seg_ab_sample_size(cs[i].p1, d * (1 - 1e-6), cs[i].alpha, cs[i].power, &back), SEG_OK);
        ck_assert(back > cs[i].n);
    }
    /* Round trip over a grid. */
    const double bases[] = {0.001, 0.02, 0.1, 0.37, 0.8, 0.99};
    const int64_t ns[] = {30, 1000, 123457, 50000000};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            double d = NAN;
            ck_assert_int_eq(seg_ab_mde(bases[b], ns[k], 0.05, 0.8, &d), SEG_OK);
            if (isnan(d))
                continue; /* checked below */
            ck_assert(d > 0 && bases[b] + d < 1 + 1e-12);
            int64_t back = 0;
            if (bases[b] + d >= 1)
                continue;
            ck_assert_int_eq(seg_ab_sample_size(bases[b], d, 0.05, 0.8, &back), SEG_OK);
            ck_assert_msg(back == ns[k], "base %g n %lld: mde %.17g gives %lld", bases[b],
                          (long long)ns[k], d, (long long)back);
        }
    }
    /* Not detectable: at p1 = 0.5, even p2 -> 1 needs 10.51 per arm. */
    double d = 0;
    ck_assert_int_eq(seg_ab_mde(0.5, 10, 0.05, 0.8, &d), SEG_OK);
    ck_assert(isnan(d));
    ck_assert_int_eq(seg_ab_mde(0.5, 11, 0.05, 0.8, &d), SEG_OK);
    ck_assert(d > 0.45 && d < 0.5);
}
END_TEST

START_TEST(mde_errors)
{
    double d = CANARY_DBL;
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0.05, 0.8, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_ab_mde(0, 1000, 0.05, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(1, 1000, 0.05, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(NAN, 1000, 0.05, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1, 0.05, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 0, 0.05, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, -7, 0.05, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 1, 0.8, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0.05, 0, &d), SEG_ERANGE);
    /* Below 0.5 the sample size is not monotone in the lift (found by
     * fuzz_analytics: base 0.5, power 0.2 gave NaN although a lift near
     * 0.5 needed a tenth of n). 0.5 itself is fine. */
    ck_assert_int_eq(seg_ab_mde(0.5, 5988400, 0.05, 0.2, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0.05, nextafter(0.5, 0), &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0.05, 1, &d), SEG_ERANGE);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0.05, NAN, &d), SEG_ERANGE);
    ck_assert(d == CANARY_DBL);
    ck_assert_int_eq(seg_ab_mde(0.1, 1000, 0.05, 0.5, &d), SEG_OK);
    ck_assert(d > 0 && d < 0.9);
    /* n = 2 is the smallest allowed, INT64_MAX the largest */
    ck_assert_int_eq(seg_ab_mde(0.3, 2, 0.05, 0.8, &d), SEG_OK);
    ck_assert(isnan(d));
    ck_assert_int_eq(seg_ab_mde(0.3, INT64_MAX, 0.05, 0.8, &d), SEG_OK);
    ck_assert(d > 0 && d < 1e-8);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------------- */

typedef struct tjob {
    const idset *s;
    const int32_t *strata;
    const int32_t *want_plain, *want_strat;
    const double *want_means, *va, *vb;
    size_t nv;
    int ok;
} tjob;

static void *thread_body(void *arg)
{
    tjob *j = arg;
    size_t n = j->s->n;
    int32_t *o = malloc(n * sizeof *o);
    const double w[3] = {0.2, 0.3, 0.5};
    double m[SEG_AB_N_MFIELDS];
    j->ok = 1;
    for (int it = 0; it < 5 && j->ok; it++) {
        if (seg_ab_assign((const char *const *)j->s->ids, n, "threads", w, 3, 0.05, o, NULL, 0) !=
                SEG_OK ||
            memcmp(o, j->want_plain, n * sizeof *o) != 0)
            j->ok = 0;
        if (seg_ab_assign_stratified((const char *const *)j->s->ids, j->strata, n, "threads", w,
                                     3, 0.05, NULL, o, NULL, 0) != SEG_OK ||
            memcmp(o, j->want_strat, n * sizeof *o) != 0)
            j->ok = 0;
        if (seg_ab_means(j->va, j->nv, j->vb, j->nv, 0.95, m, NULL, 0) != SEG_OK ||
            memcmp(m, j->want_means, sizeof m) != 0)
            j->ok = 0;
    }
    free(o);
    return NULL;
}

START_TEST(threads)
{
    const size_t n = 20000, nv = 5000;
    idset s = make_ids(n, 37);
    int32_t *strata = malloc(n * sizeof *strata);
    int32_t *plain = malloc(n * sizeof *plain), *strat = malloc(n * sizeof *strat);
    double *va = malloc(nv * sizeof *va), *vb = malloc(nv * sizeof *vb);
    uint64_t r = 1;
    for (size_t i = 0; i < n; i++)
        strata[i] = (int32_t)(seg_test_rng(&r) % 7);
    for (size_t i = 0; i < nv; i++) {
        va[i] = (double)(seg_test_rng(&r) % 1000) / 10;
        vb[i] = (double)(seg_test_rng(&r) % 1100) / 10;
    }
    const double w[3] = {0.2, 0.3, 0.5};
    double means[SEG_AB_N_MFIELDS];
    assign_ok((const char *const *)s.ids, n, "threads", w, 3, 0.05, plain);
    strat_ok((const char *const *)s.ids, strata, n, "threads", w, 3, 0.05, NULL, strat);
    means_ok(va, nv, vb, nv, 0.95, means);
    enum { T = 4 };
    pthread_t th[T];
    tjob jobs[T];
    for (int t = 0; t < T; t++) {
        jobs[t] = (tjob){&s, strata, plain, strat, means, va, vb, nv, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, thread_body, &jobs[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ck_assert_msg(jobs[t].ok, "thread %d saw a different result", t);
    }
    free(va);
    free(vb);
    free(plain);
    free(strat);
    free(strata);
    free_ids(&s);
}
END_TEST

/* ---- suite ----------------------------------------------------------------------------------- */

static Suite *experiment_suite(void)
{
    Suite *s = suite_create("experiment");
    TCase *tc = tcase_create("assign");
    tcase_add_test(tc, hash_known);
    tcase_add_test(tc, hash_vs_model);
    tcase_add_test(tc, assign_known);
    tcase_add_test(tc, assign_vs_model);
    tcase_add_test(tc, assign_stable);
    tcase_add_test(tc, salts_independent);
    tcase_add_test(tc, holdout_same_set);
    tcase_add_test(tc, zero_weights);
    tcase_add_test(tc, assign_errors);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("stratified");
    tcase_add_test(tc, stratified_errors);
    tcase_add_test(tc, stratified_balance);
    tcase_add_test(tc, stratified_order_free);
    tcase_add_test(tc, stratified_memory);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("statistics");
    tcase_add_test(tc, proportions_known);
    tcase_add_test(tc, proportions_edges);
    tcase_add_test(tc, proportions_errors);
    tcase_add_test(tc, means_known);
    tcase_add_test(tc, means_large_df);
    tcase_add_test(tc, means_edges);
    tcase_add_test(tc, means_errors);
    tcase_add_test(tc, sample_size_known);
    tcase_add_test(tc, sample_size_errors);
    tcase_add_test(tc, mde_known);
    tcase_add_test(tc, mde_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_add_test(tc, threads);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(experiment_suite());
}
