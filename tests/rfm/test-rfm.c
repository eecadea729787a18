/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests of the RFM model: every binning method, bins 2..10,
 * cell codes and weights, options, missing values, bad input, and the text
 * format. Every expected value below is worked out by hand in the comment
 * next to it, from the definitions in include/segment/rfm.h.
 *
 * Notation: sorted sample x(1) <= ... <= x(n) (1-based). R's type-7
 * quantile at p: index = 1 + (n - 1) p, q = x(lo) + h (x(lo+1) - x(lo)) with
 * lo = floor(index), h = index - lo. Inputs are chosen so that every
 * threshold is exact in binary (h in {0, 1/4, 1/2, 3/4}, or x(lo) = x(lo+1)),
 * so the thresholds can be compared with ==, whatever order the library
 * does its arithmetic in.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <float.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-main.h"

#define MAXN 64

typedef struct scores {
    int32_t r[MAXN], f[MAXN], m[MAXN], cell[MAXN];
    double w[MAXN];
} scores;

static void fill_canary(scores *s)
{
    for (size_t i = 0; i < MAXN; i++) {
        s->r[i] = s->f[i] = s->m[i] = s->cell[i] = CANARY_I32;
        s->w[i] = CANARY_DBL;
    }
}

static void assert_canary(const scores *s)
{
    for (size_t i = 0; i < MAXN; i++) {
        ck_assert_int_eq(s->r[i], CANARY_I32);
        ck_assert_int_eq(s->f[i], CANARY_I32);
        ck_assert_int_eq(s->m[i], CANARY_I32);
        ck_assert_int_eq(s->cell[i], CANARY_I32);
        ck_assert_msg(s->w[i] == CANARY_DBL, "weighted[%zu] overwritten", i);
    }
}

static seg_rfm *mk(void)
{
    seg_rfm *m = NULL;
    ck_assert_int_eq(seg_rfm_new(&m, NULL), SEG_OK);
    ck_assert_ptr_nonnull(m);
    return m;
}

static void setp(seg_rfm *m, int32_t key, int64_t v)
{
    int32_t rc = seg_rfm_set_param(m, key, v);
    ck_assert_msg(rc == SEG_OK, "set_param(%d, %lld) = %d (%s)", (int)key, (long long)v, (int)rc,
                  seg_rfm_last_error(m));
}

static int64_t getp(const seg_rfm *m, int32_t key)
{
    int64_t v = -999;
    ck_assert_int_eq(seg_rfm_get_param(m, key, &v), SEG_OK);
    return v;
}

/* Same bins and binning for the three dimensions. */
static void set_all(seg_rfm *m, int64_t bins, int64_t binning)
{
    setp(m, SEG_RFM_PARAM_R_BINNING, binning);
    setp(m, SEG_RFM_PARAM_F_BINNING, binning);
    setp(m, SEG_RFM_PARAM_M_BINNING, binning);
    setp(m, SEG_RFM_PARAM_R_BINS, bins);
    setp(m, SEG_RFM_PARAM_F_BINS, bins);
    setp(m, SEG_RFM_PARAM_M_BINS, bins);
}

static void fit_ok(seg_rfm *m, const double *r, const double *f, const double *mo, size_t n)
{
    int32_t rc = seg_rfm_fit(m, r, f, mo, n);
    ck_assert_msg(rc == SEG_OK, "seg_rfm_fit = %d (%s)", (int)rc, seg_rfm_last_error(m));
    ck_assert_str_eq(seg_rfm_last_error(m), "");
}

static void score_ok(const seg_rfm *m, const double *r, const double *f, const double *mo, size_t n,
                     scores *s)
{
    char err[256] = "";
    fill_canary(s);
    int32_t rc = seg_rfm_score(m, r, f, mo, n, s->r, s->f, s->m, s->cell, s->w, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "seg_rfm_score = %d (%s)", (int)rc, err);
    /* Nothing past n is written. */
    for (size_t i = n; i < MAXN; i++)
        ck_assert_int_eq(s->cell[i], CANARY_I32);
}

static void fit_score_ok(seg_rfm *m, const double *r, const double *f, const double *mo, size_t n,
                         scores *s)
{
    fill_canary(s);
    int32_t rc = seg_rfm_fit_score(m, r, f, mo, n, s->r, s->f, s->m, s->cell, s->w);
    ck_assert_msg(rc == SEG_OK, "seg_rfm_fit_score = %d (%s)", (int)rc, seg_rfm_last_error(m));
    for (size_t i = n; i < MAXN; i++)
        ck_assert_int_eq(s->cell[i], CANARY_I32);
}

static void expect_i32(const char *what, const int32_t *got, const int32_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s[%zu]: got %d, want %d", what, i, (int)got[i],
                      (int)want[i]);
}

/* Checks out_cell and out_weighted against out_r/f/m (default weights 1). */
static void expect_cells(const scores *s, size_t n, double wr, double wf, double wm)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(s->cell[i], 100 * s->r[i] + 10 * s->f[i] + s->m[i]);
        double w = wr * s->r[i] + wf * s->f[i] + wm * s->m[i];
        ck_assert_msg(s->w[i] == w, "weighted[%zu] = %.17g, want %.17g", i, s->w[i], w);
    }
}

/* For the every-k tests: row i (value y[i]) has F in bin want[i] and R, which
 * ranks the other way, in bin k + 1 - want[i]. */
static void expect_f_and_r(const scores *s, const double *y, const int32_t *want, size_t n, int k)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(s->f[i] == want[i], "k=%d x=%g: F %d want %d", k, y[i], s->f[i], want[i]);
        ck_assert_msg(s->r[i] == k + 1 - want[i], "k=%d x=%g: R %d want %d", k, y[i], s->r[i],
                      k + 1 - want[i]);
    }
}

static size_t get_thr(const seg_rfm *m, int32_t dim, double *out)
{
    size_t n = 999;
    int32_t rc = seg_rfm_get_thresholds(m, dim, out, SEG_RFM_MAX_BINS, &n);
    ck_assert_msg(rc == SEG_OK, "get_thresholds(dim %d) = %d", (int)dim, (int)rc);
    ck_assert_uint_le(n, SEG_RFM_MAX_BINS - 1);
    return n;
}

static void expect_thr(const seg_rfm *m, int32_t dim, const double *want, size_t n_want)
{
    double got[SEG_RFM_MAX_BINS];
    size_t n = get_thr(m, dim, got);
    ck_assert_msg(n == n_want, "dim %d: %zu thresholds, want %zu", (int)dim, n, n_want);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "dim %d threshold %zu: got %.17g, want %.17g", (int)dim,
                      i, got[i], want[i]);
}

#define EXPECT_THR(m, dim, ...)                                                                \
    do {                                                                                       \
        const double want_[] = {__VA_ARGS__};                                                  \
        expect_thr((m), (dim), want_, sizeof want_ / sizeof want_[0]);                         \
    } while (0)

#define EXPECT_I32(what, got, ...)                                                             \
    do {                                                                                       \
        const int32_t want_[] = {__VA_ARGS__};                                                 \
        expect_i32((what), (got), want_, sizeof want_ / sizeof want_[0]);                      \
    } while (0)

/* ------------------------------------------------------------------------ */
/* The ten-customer sample used by several tests.
 *
 * Recency, input order: 30 0 90 7 400 60 7 90 30 60
 *   sorted: 0 7 7 30 30 60 60 90 90 400
 * Frequency, input order: 5 12 2 8 3 1 8 3 5 2
 *   sorted: 1 2 2 3 3 5 5 8 8 12
 * Monetary, input order: 100 20 1000 40 25.5 10 20 100 40 25.5
 *   sorted: 10 20 20 25.5 25.5 40 40 100 100 1000
 * Values come in pairs at sorted positions (2,3), (4,5), (6,7), (8,9).
 */
static const double R10[10] = {30, 0, 90, 7, 400, 60, 7, 90, 30, 60};
static const double F10[10] = {5, 12, 2, 8, 3, 1, 8, 3, 5, 2};
static const double M10[10] = {100, 20, 1000, 40, 25.5, 10, 20, 100, 40, 25.5};

/* R_COMPAT, k = 5 (the defaults).
 * index = 1 + 9 j/5 = 2.8, 4.6, 6.4, 8.2: lo = 2, 4, 6, 8 and x(lo) = x(lo+1)
 * in all three columns, so q = x(2), x(4), x(6), x(8) exactly.
 *   R: q = 7, 30, 60, 90            -> t = 8, 31, 61, 91
 *   F: q = 2, 3, 5, 8               -> t = 3, 4, 6, 9
 *   M: q = 20, 25.5, 40, 100        -> t = 21, 26.5, 41, 101
 * F score = 1 + #{t <= x}:
 *   5 -> 1+#{3,4} = 3; 12 -> 5; 2 -> 1; 8 -> 1+#{3,4,6} = 4; 3 -> 2 (3 is
 *   on the threshold 3: upper bin); 1 -> 1.
 *   input order: 3 5 1 4 2 1 4 2 3 1
 * R score = 5 - #{t <= x}:
 *   30 -> 5-1 = 4; 0 -> 5; 90 -> 5-3 = 2; 7 -> 5; 400 -> 1; 60 -> 5-2 = 3.
 *   input order: 4 5 2 5 1 3 5 2 4 3
 * M score = 1 + #{t <= x}:
 *   100 -> 4; 20 -> 1; 1000 -> 5; 40 -> 3; 25.5 -> 2; 10 -> 1.
 *   input order: 4 1 5 3 2 1 1 4 3 2
 */
START_TEST(test_rcompat_k5_by_hand)
{
    seg_rfm *m = mk();
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_R_BINNING), SEG_BINNING_R_COMPAT);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
    fit_ok(m, R10, F10, M10, 10);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
    EXPECT_THR(m, SEG_RFM_R, 8, 31, 61, 91);
    EXPECT_THR(m, SEG_RFM_F, 3, 4, 6, 9);
    EXPECT_THR(m, SEG_RFM_M, 21, 26.5, 41, 101);

    scores s;
    score_ok(m, R10, F10, M10, 10, &s);
    EXPECT_I32("R", s.r, 4, 5, 2, 5, 1, 3, 5, 2, 4, 3);
    EXPECT_I32("F", s.f, 3, 5, 1, 4, 2, 1, 4, 2, 3, 1);
    EXPECT_I32("M", s.m, 4, 1, 5, 3, 2, 1, 1, 4, 3, 2);
    /* cell = 100R + 10F + M, worked out: */
    EXPECT_I32("cell", s.cell, 434, 551, 215, 543, 122, 311, 541, 224, 433, 312);
    /* weighted = R + F + M with the default weights 1, 1, 1 */
    const double w[10] = {11, 11, 8, 12, 5, 5, 10, 8, 10, 6};
    for (size_t i = 0; i < 10; i++)
        ck_assert_double_eq(s.w[i], w[i]);

    /* fit_score on the same rows gives the same scores. */
    scores s2;
    fit_score_ok(m, R10, F10, M10, 10, &s2);
    ck_assert_mem_eq(s.cell, s2.cell, sizeof(int32_t) * 10);
    ck_assert_mem_eq(s.r, s2.r, sizeof(int32_t) * 10);

    /* New rows exactly on and just below thresholds, [t_{j-1}, t_j).
     * R: 8 -> 5-#{8} = 4; 7.999 -> 5; 91 -> 1; 90.5 -> 2; -3 -> 5.
     * F: 3 -> 2; 2.999 -> 1; 9 -> 5; 8.999 -> 4; 0 -> 1.
     * M: 26.5 -> 3; 26.49 -> 2; 101 -> 5; 100.99 -> 4; 1e9 -> 5. */
    const double r[5] = {8, 7.999, 91, 90.5, -3};
    const double f[5] = {3, 2.999, 9, 8.999, 0};
    const double mo[5] = {26.5, 26.49, 101, 100.99, 1e9};
    score_ok(m, r, f, mo, 5, &s);
    EXPECT_I32("R", s.r, 4, 5, 1, 2, 5);
    EXPECT_I32("F", s.f, 2, 1, 5, 4, 1);
    EXPECT_I32("M", s.m, 3, 2, 5, 4, 5);
    expect_cells(&s, 5, 1, 1, 1);
    seg_rfm_free(m);
}
END_TEST

/* R_COMPAT, k = 4 and k = 2, on the same sample: interpolated thresholds.
 * k = 4: index = 1 + 9 j/4 = 3.25, 5.5, 7.75.
 *   R: 0.75*x(3) + 0.25*x(4) = 0.75*7 + 0.25*30 = 12.75 -> t = 13.75
 *      0.5*x(5) + 0.5*x(6) = 0.5*30 + 0.5*60 = 45      -> t = 46
 *      0.25*x(7) + 0.75*x(8) = 15 + 67.5 = 82.5         -> t = 83.5
 *   F: 0.75*2 + 0.25*3 = 2.25 -> 3.25; 0.5*3 + 0.5*5 = 4 -> 5;
 *      0.25*5 + 0.75*8 = 7.25 -> 8.25
 *   M: 0.75*20 + 0.25*25.5 = 21.375 -> 22.375; 0.5*25.5 + 0.5*40 = 32.75
 *      -> 33.75; 0.25*40 + 0.75*100 = 85 -> 86
 *   R score = 4 - #{t <= x}: 30 -> 3; 0 -> 4; 90 -> 1; 7 -> 4; 400 -> 1;
 *      60 -> 2.   input: 3 4 1 4 1 2 4 1 3 2
 *   F score: 5 -> 1+#{3.25,5} = 3 (5 on a threshold); 12 -> 4; 2 -> 1;
 *      8 -> 3; 3 -> 1; 1 -> 1.   input: 3 4 1 3 1 1 3 1 3 1
 *   M score: 100 -> 4; 20 -> 1; 1000 -> 4; 40 -> 3; 25.5 -> 2; 10 -> 1.
 *      input: 4 1 4 3 2 1 1 4 3 2
 * k = 2: index 5.5.
 *   R: 45 -> t 46; F: 4 -> t 5; M: 32.75 -> t 33.75.
 *   R score = 2 - [x >= 46]: input 2 2 1 2 1 1 2 1 2 1
 *   F: [x >= 5] + 1:         input 2 2 1 2 1 1 2 1 2 1
 *   M: [x >= 33.75] + 1:     input 2 1 2 2 1 1 1 2 2 1
 */
START_TEST(test_rcompat_k4_k2_by_hand)
{
    seg_rfm *m = mk();
    set_all(m, 4, SEG_BINNING_R_COMPAT);
    fit_ok(m, R10, F10, M10, 10);
    EXPECT_THR(m, SEG_RFM_R, 13.75, 46, 83.5);
    EXPECT_THR(m, SEG_RFM_F, 3.25, 5, 8.25);
    EXPECT_THR(m, SEG_RFM_M, 22.375, 33.75, 86);
    scores s;
    score_ok(m, R10, F10, M10, 10, &s);
    EXPECT_I32("R", s.r, 3, 4, 1, 4, 1, 2, 4, 1, 3, 2);
    EXPECT_I32("F", s.f, 3, 4, 1, 3, 1, 1, 3, 1, 3, 1);
    EXPECT_I32("M", s.m, 4, 1, 4, 3, 2, 1, 1, 4, 3, 2);
    expect_cells(&s, 10, 1, 1, 1);

    set_all(m, 2, SEG_BINNING_R_COMPAT);
    fit_ok(m, R10, F10, M10, 10);
    EXPECT_THR(m, SEG_RFM_R, 46);
    EXPECT_THR(m, SEG_RFM_F, 5);
    EXPECT_THR(m, SEG_RFM_M, 33.75);
    score_ok(m, R10, F10, M10, 10, &s);
    EXPECT_I32("R", s.r, 2, 2, 1, 2, 1, 1, 2, 1, 2, 1);
    EXPECT_I32("F", s.f, 2, 2, 1, 2, 1, 1, 2, 1, 2, 1);
    EXPECT_I32("M", s.m, 2, 1, 2, 2, 1, 1, 1, 2, 2, 1);
    expect_cells(&s, 10, 1, 1, 1);

    /* Mixed: R k = 2, F k = 4, M k = 5 in one model; each dimension uses
     * its own bins (thresholds as computed above). */
    setp(m, SEG_RFM_PARAM_F_BINS, 4);
    setp(m, SEG_RFM_PARAM_M_BINS, 5);
    fit_ok(m, R10, F10, M10, 10);
    EXPECT_THR(m, SEG_RFM_R, 46);
    EXPECT_THR(m, SEG_RFM_F, 3.25, 5, 8.25);
    EXPECT_THR(m, SEG_RFM_M, 21, 26.5, 41, 101);
    score_ok(m, R10, F10, M10, 10, &s);
    EXPECT_I32("R", s.r, 2, 2, 1, 2, 1, 1, 2, 1, 2, 1);
    EXPECT_I32("F", s.f, 3, 4, 1, 3, 1, 1, 3, 1, 3, 1);
    EXPECT_I32("M", s.m, 4, 1, 5, 3, 2, 1, 1, 4, 3, 2);
    seg_rfm_free(m);
}
END_TEST

/* Heavy ties under R_COMPAT: thresholds may repeat; equal values share a
 * score, and a value equal to a repeated threshold passes all of them.
 * F sorted 1 1 1 1 1 1 1 2 2 2 (n = 10, k = 5): index 2.8, 4.6, 6.4, 8.2:
 *   x(2)=x(3)=1, x(4)=x(5)=1, x(6)=x(7)=1, x(8)=x(9)=2 -> q = 1 1 1 2
 *   -> t = 2 2 2 3. Score: 1 -> 1; 2 -> 1 + 3 = 4; 3 -> 5. Bins 2, 3 empty. */
START_TEST(test_rcompat_heavy_ties)
{
    seg_rfm *m = mk();
    const double f[10] = {2, 1, 1, 2, 1, 1, 1, 2, 1, 1};
    fit_ok(m, f, f, f, 10);
    EXPECT_THR(m, SEG_RFM_F, 2, 2, 2, 3);
    EXPECT_THR(m, SEG_RFM_R, 2, 2, 2, 3);
    scores s;
    const double x[3] = {1, 2, 3};
    score_ok(m, x, x, x, 3, &s);
    EXPECT_I32("F", s.f, 1, 4, 5);
    /* recency: 5 - #{t <= x}: 1 -> 5, 2 -> 2, 3 -> 1 */
    EXPECT_I32("R", s.r, 5, 2, 1);
    seg_rfm_free(m);
}
END_TEST

/* Fewer customers than bins: several quantile indexes fall between the same
 * two order statistics and each must be interpolated on its own.
 * n = 2, x = 8, 0 (sorted 0 8), k = 4: index = 1 + 1 * j/4 = 1.25, 1.5, 1.75,
 *   all between x(1) = 0 and x(2) = 8: q = 0.25*8, 0.5*8, 0.75*8 = 2, 4, 6.
 *   TIES t = 2 4 6; R_COMPAT t = 3 5 7.
 * n = 3, x = 4, 8, 0 (sorted 0 4 8), k = 8: index = 1 + 2 j/8 = 1.25 ... 2.75:
 *   q = 1 2 3 4 5 6 7 (0.75*0 + 0.25*4 = 1, ..., index 2 -> x(2) = 4,
 *   2.25 -> 0.75*4 + 0.25*8 = 5, ...). TIES t = 1..7.
 * Scores (TIES, bin = 1 + #{t < x}), k = 4: 0 -> 1, 8 -> 4; new rows
 *   3 -> 2, 4 -> 2, 5 -> 3, 6 -> 3, 6.5 -> 4.
 * R_COMPAT (1 + #{t <= x}), k = 4: 0 -> 1, 8 -> 4; 3 -> 2, 4 -> 2, 5 -> 3,
 *   6.5 -> 3, 7 -> 4. */
START_TEST(test_fewer_customers_than_bins)
{
    seg_rfm *m = mk();
    set_all(m, 4, SEG_BINNING_TIES);
    const double two[2] = {8, 0};
    scores s;
    fit_score_ok(m, two, two, two, 2, &s);
    EXPECT_THR(m, SEG_RFM_F, 2, 4, 6);
    EXPECT_THR(m, SEG_RFM_R, 2, 4, 6);
    EXPECT_I32("F", s.f, 4, 1);
    EXPECT_I32("R", s.r, 1, 4);
    const double y[5] = {3, 4, 5, 6, 6.5};
    score_ok(m, y, y, y, 5, &s);
    EXPECT_I32("F", s.f, 2, 2, 3, 3, 4);

    set_all(m, 4, SEG_BINNING_R_COMPAT);
    fit_score_ok(m, two, two, two, 2, &s);
    EXPECT_THR(m, SEG_RFM_M, 3, 5, 7);
    EXPECT_I32("M", s.m, 4, 1);
    const double z[5] = {3, 4, 5, 6.5, 7};
    score_ok(m, z, z, z, 5, &s);
    EXPECT_I32("M", s.m, 2, 2, 3, 3, 4);

    set_all(m, 8, SEG_BINNING_TIES);
    const double three[3] = {4, 8, 0};
    fit_ok(m, three, three, three, 3);
    EXPECT_THR(m, SEG_RFM_M, 1, 2, 3, 4, 5, 6, 7);

    /* One customer: every quantile is that value. */
    set_all(m, 5, SEG_BINNING_R_COMPAT);
    const double one[1] = {42};
    fit_score_ok(m, one, one, one, 1, &s);
    EXPECT_THR(m, SEG_RFM_F, 43, 43, 43, 43);
    EXPECT_I32("F", s.f, 1);
    EXPECT_I32("R", s.r, 5);
    seg_rfm_free(m);
}
END_TEST

/* Values 100 + i, i = 0..k (n = k + 1), in the order k, 0, k-1, 1, ... */
static size_t zigzag(double *out, size_t n, double base, double step)
{
    size_t lo = 0, hi = n - 1, o = 0;
    while (o < n) {
        out[o++] = base + step * (double)hi;
        if (o < n)
            out[o++] = base + step * (double)lo;
        hi--;
        lo++;
    }
    return n;
}

/* R_COMPAT for every k = 2..10 on x = 100 + i, i = 0..k (n = k + 1).
 * index = 1 + k (j/k) = 1 + j: q = x(1 + j) = 100 + j, t_j = 101 + j.
 * (Any rounding of k (j/k) near j is absorbed: |error| * 1 < ulp(100)/2.)
 * Score of 100 + i: 1 + #{j in 1..k-1 : 101 + j <= 100 + i} = max(1, i).
 * Score of 100.5 + j (j = 1..k-1): 1 + #{j' <= j - 0.5} = j.
 * Score of the threshold 101 + j: j + 1.
 * Recency: k + 1 - those. */
START_TEST(test_rcompat_every_k)
{
    for (int k = 2; k <= 10; k++) {
        seg_rfm *m = mk();
        set_all(m, k, SEG_BINNING_R_COMPAT);
        double x[MAXN];
        size_t n = zigzag(x, (size_t)k + 1, 100, 1);
        fit_ok(m, x, x, x, n);
        double want[SEG_RFM_MAX_BINS];
        for (int j = 1; j < k; j++)
            want[j - 1] = 101 + j;
        for (int32_t d = 0; d < 3; d++)
            expect_thr(m, d, want, (size_t)k - 1);

        double y[MAXN];
        int32_t wf[MAXN];
        size_t ny = 0;
        for (int i = 0; i <= k; i++) {
            y[ny] = 100 + i;
            wf[ny++] = i > 1 ? i : 1;
        }
        for (int j = 1; j < k; j++) {
            y[ny] = 100.5 + j;
            wf[ny++] = j;
            y[ny] = 101 + j;
            wf[ny++] = j + 1;
        }
        scores s;
        score_ok(m, y, y, y, ny, &s);
        expect_f_and_r(&s, y, wf, ny, k);
        expect_i32("M", s.m, wf, ny);
        expect_cells(&s, ny, 1, 1, 1);
        ck_assert_int_eq(getp(m, SEG_RFM_PARAM_R_BINS), k);
        seg_rfm_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* RANK via seg_rfm_fit_score: pandas qcut(rank(method="first"), k) + 1.
 *
 * F = 5 1 5 3 5 2 5 4 9 5 (k = 4). rank(first): ties by input order:
 *   1(i1)=1 2(i5)=2 3(i3)=3 4(i7)=4 5(i0)=5 5(i2)=6 5(i4)=7 5(i6)=8 5(i9)=9
 *   9(i8)=10.
 *   qcut edges: type-7 quantiles of ranks 1..10 at 0, 1/4, 1/2, 3/4, 1:
 *   1, 3.25, 5.5, 7.75, 10 -> bins [1, 3.25], (3.25, 5.5], (5.5, 7.75],
 *   (7.75, 10]: ranks 1-3 -> 1, 4-5 -> 2, 6-7 -> 3, 8-10 -> 4 (sizes 3 2 2 3;
 *   SQL NTILE would give 3 3 2 2).
 *   input order: i0 r5 -> 2, i1 -> 1, i2 r6 -> 3, i3 r3 -> 1, i4 r7 -> 3,
 *   i5 -> 1, i6 r8 -> 4, i7 r4 -> 2, i8 -> 4, i9 r9 -> 4.
 *   The five 5s get 2 3 3 4 4: ties split by input order.
 *   Thresholds (largest value per bin 1..3): 3, 5, 5.
 * R = 10 40 20 20 30 50 60 70 80 90 (k = 5). ranks: 10(i0)=1 20(i2)=2
 *   20(i3)=3 30(i4)=4 40(i1)=5 50=6 60=7 70=8 80=9 90=10. Edges at j/5:
 *   2.8, 4.6, 6.4, 8.2: ranks (1,2) (3,4) (5,6) (7,8) (9,10) -> bins 1..5.
 *   bin by input: 1 3 1 2 2 3 4 4 5 5; score = 6 - bin: 5 3 5 4 4 3 2 2 1 1
 *   (the two 20s get 5 and 4). Thresholds: 20, 30, 50, 70.
 * M = ten times 100 (k = 3). ranks by input order 1..10; edges at 1/3, 2/3:
 *   4, 7 -> ranks 1-4 -> 1, 5-7 -> 2, 8-10 -> 3. Thresholds 100, 100.
 */
START_TEST(test_rank_by_hand)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_R_BINNING, SEG_BINNING_RANK);
    setp(m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_RANK);
    setp(m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK);
    setp(m, SEG_RFM_PARAM_F_BINS, 4);
    setp(m, SEG_RFM_PARAM_M_BINS, 3);
    const double r[10] = {10, 40, 20, 20, 30, 50, 60, 70, 80, 90};
    const double f[10] = {5, 1, 5, 3, 5, 2, 5, 4, 9, 5};
    const double mo[10] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
    scores s;
    fit_score_ok(m, r, f, mo, 10, &s);
    EXPECT_I32("R", s.r, 5, 3, 5, 4, 4, 3, 2, 2, 1, 1);
    EXPECT_I32("F", s.f, 2, 1, 3, 1, 3, 1, 4, 2, 4, 4);
    EXPECT_I32("M", s.m, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3);
    expect_cells(&s, 10, 1, 1, 1);
    EXPECT_THR(m, SEG_RFM_R, 20, 30, 50, 70);
    EXPECT_THR(m, SEG_RFM_F, 3, 5, 5);
    EXPECT_THR(m, SEG_RFM_M, 100, 100);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 1);

    /* seg_rfm_score on new rows: bins (t_{j-1}, t_j], bin = 1 + #{t < x};
     * a tie with a boundary takes the lower bin.
     * R (t 20 30 50 70): 20 -> bin 1 -> 5; 25 -> 2 -> 4; 70 -> 4 -> 2;
     *   71 -> 5 -> 1; 0 -> 5.
     * F (t 3 5 5): 3 -> 1; 4 -> 2; 5 -> 2 (bin 3 is unreachable by value);
     *   5.5 -> 4; -1 -> 1.
     * M (t 100 100): 100 -> 1; 101 -> 3; 99 -> 1; 100.5 -> 3; 1e6 -> 3. */
    const double r2[5] = {20, 25, 70, 71, 0};
    const double f2[5] = {3, 4, 5, 5.5, -1};
    const double m2[5] = {100, 101, 99, 100.5, 1e6};
    score_ok(m, r2, f2, m2, 5, &s);
    EXPECT_I32("R", s.r, 5, 4, 2, 1, 5);
    EXPECT_I32("F", s.f, 1, 2, 2, 4, 1);
    EXPECT_I32("M", s.m, 1, 3, 1, 3, 3);
    expect_cells(&s, 5, 1, 1, 1);

    /* seg_rfm_fit alone learns the same thresholds. */
    seg_rfm *m2m = mk();
    setp(m2m, SEG_RFM_PARAM_R_BINNING, SEG_BINNING_RANK);
    setp(m2m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_RANK);
    setp(m2m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK);
    setp(m2m, SEG_RFM_PARAM_F_BINS, 4);
    setp(m2m, SEG_RFM_PARAM_M_BINS, 3);
    fit_ok(m2m, r, f, mo, 10);
    EXPECT_THR(m2m, SEG_RFM_R, 20, 30, 50, 70);
    EXPECT_THR(m2m, SEG_RFM_F, 3, 5, 5);
    EXPECT_THR(m2m, SEG_RFM_M, 100, 100);
    seg_rfm_free(m2m);
    seg_rfm_free(m);
}
END_TEST

/* RANK for every k = 2..10 on n = 2k distinct values 10 i (i = 0..2k-1),
 * zigzag order. Edges of ranks 1..2k at j/k: 1 + (2k-1) j/k = 1 + 2j - j/k,
 * never an integer for 0 < j < k. Rank r = 2m-1 or 2m is above exactly the
 * edges j = 1..m-1 (1 + 2(m-1) - (m-1)/k < 2m-1, and 1 + 2m - m/k >= 2m
 * since m <= k), so rank r has bin ceil(r/2): two rows per bin.
 * Value 10 i has rank i + 1 -> bin i/2 + 1 (integer division);
 * recency score k - i/2. Thresholds: the largest value of bin j has rank
 * 2j -> 10 (2j - 1). New value 10 (2j - 1) -> bin j (tie takes the lower
 * bin); 10 (2j - 1) + 1 -> bin j + 1. */
START_TEST(test_rank_every_k)
{
    for (int k = 2; k <= 10; k++) {
        seg_rfm *m = mk();
        set_all(m, k, SEG_BINNING_RANK);
        double x[MAXN];
        size_t n = zigzag(x, 2 * (size_t)k, 0, 10);
        scores s;
        fit_score_ok(m, x, x, x, n, &s);
        for (size_t i = 0; i < n; i++) {
            int32_t bin = (int32_t)(x[i] / 10) / 2 + 1;
            ck_assert_msg(s.f[i] == bin, "k=%d x=%g: F %d want %d", k, x[i], s.f[i], bin);
            ck_assert_msg(s.m[i] == bin, "k=%d x=%g: M %d want %d", k, x[i], s.m[i], bin);
            ck_assert_msg(s.r[i] == k + 1 - bin, "k=%d x=%g: R %d want %d", k, x[i], s.r[i],
                          k + 1 - bin);
        }
        expect_cells(&s, n, 1, 1, 1);
        double want[SEG_RFM_MAX_BINS];
        for (int j = 1; j < k; j++)
            want[j - 1] = 10.0 * (2 * j - 1);
        for (int32_t d = 0; d < 3; d++)
            expect_thr(m, d, want, (size_t)k - 1);

        double y[MAXN];
        int32_t wb[MAXN];
        size_t ny = 0;
        for (int j = 1; j < k; j++) {
            y[ny] = 10.0 * (2 * j - 1);
            wb[ny++] = j;
            y[ny] = 10.0 * (2 * j - 1) + 1;
            wb[ny++] = j + 1;
        }
        score_ok(m, y, y, y, ny, &s);
        expect_f_and_r(&s, y, wb, ny, k);
        seg_rfm_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* TIES: t_j = type-7 quantile (no +1), bin = 1 + #{t < x}.
 * F sorted 1 1 1 1 1 1 2 3 4 5 (n = 10), k = 4: index 3.25, 5.5, 7.75:
 *   x(3)=x(4)=1 -> 1; x(5)=x(6)=1 -> 1; 0.25*x(7) + 0.75*x(8) = 0.5 + 2.25
 *   = 2.75. t = 1, 1, 2.75.
 *   bin: 1 -> 1; 2 -> 1 + #{1,1} = 3; 3, 4, 5 -> 4. Bin 2 stays empty
 *   (labels are not renumbered).
 *   input order 3 1 1 5 1 2 1 4 1 1 -> F: 4 1 1 4 1 3 1 4 1 1
 *   recency = 5 - bin:               R: 1 4 4 1 4 2 4 1 4 4
 * k = 5 on sorted 1 1 1 1 1 1 1 2 2 2: index 2.8, 4.6, 6.4, 8.2 ->
 *   x(2)=x(3)=1, x(4)=x(5)=1, x(6)=x(7)=1, x(8)=x(9)=2: t = 1 1 1 2.
 *   bin: 1 -> 1; 2 -> 1 + 3 = 4; 2.5 -> 5. Bins 2, 3, 5 empty in-sample.
 * Compare R_COMPAT on this last sample (t + 1 = 2 2 2 3): 2 -> 4 as well,
 *   but 2.5 -> 4 there (2.5 < 3) and 5 here. */
START_TEST(test_ties_by_hand)
{
    seg_rfm *m = mk();
    set_all(m, 4, SEG_BINNING_TIES);
    const double x[10] = {3, 1, 1, 5, 1, 2, 1, 4, 1, 1};
    scores s;
    fit_score_ok(m, x, x, x, 10, &s);
    EXPECT_THR(m, SEG_RFM_F, 1, 1, 2.75);
    EXPECT_THR(m, SEG_RFM_R, 1, 1, 2.75);
    EXPECT_I32("F", s.f, 4, 1, 1, 4, 1, 3, 1, 4, 1, 1);
    EXPECT_I32("M", s.m, 4, 1, 1, 4, 1, 3, 1, 4, 1, 1);
    EXPECT_I32("R", s.r, 1, 4, 4, 1, 4, 2, 4, 1, 4, 4);
    expect_cells(&s, 10, 1, 1, 1);
    /* New rows on thresholds: (t_{j-1}, t_j], upper bound inclusive.
     * 2.75 -> 1 + #{1,1} = 3; 2.7501 -> 4; 1 -> 1; 0 -> 1; 1.5 -> 3. */
    const double y[5] = {2.75, 2.7501, 1, 0, 1.5};
    score_ok(m, y, y, y, 5, &s);
    EXPECT_I32("F", s.f, 3, 4, 1, 1, 3);
    EXPECT_I32("R", s.r, 2, 1, 4, 4, 2);

    set_all(m, 5, SEG_BINNING_TIES);
    const double z[10] = {2, 1, 1, 2, 1, 1, 1, 2, 1, 1};
    fit_ok(m, z, z, z, 10);
    EXPECT_THR(m, SEG_RFM_M, 1, 1, 1, 2);
    const double q[4] = {1, 2, 2.5, 0.5};
    score_ok(m, q, q, q, 4, &s);
    EXPECT_I32("M", s.m, 1, 4, 5, 1);
    EXPECT_I32("R", s.r, 5, 2, 1, 5);

    set_all(m, 5, SEG_BINNING_R_COMPAT);
    fit_ok(m, z, z, z, 10);
    score_ok(m, q, q, q, 4, &s);
    EXPECT_I32("M (r-compat)", s.m, 1, 4, 4, 1);
    seg_rfm_free(m);
}
END_TEST

/* TIES for every k on x = 100 + i, i = 0..k: t_j = 100 + j.
 * 100 + i -> 1 + #{100 + j < 100 + i} = max(1, i).
 * On a threshold 100 + j -> j (inclusive upper bound); 100.5 + j -> j + 1.
 * (R_COMPAT gives j for 100.5 + j: this is where the two differ.) */
START_TEST(test_ties_every_k)
{
    for (int k = 2; k <= 10; k++) {
        seg_rfm *m = mk();
        set_all(m, k, SEG_BINNING_TIES);
        double x[MAXN];
        size_t n = zigzag(x, (size_t)k + 1, 100, 1);
        fit_ok(m, x, x, x, n);
        double want[SEG_RFM_MAX_BINS];
        for (int j = 1; j < k; j++)
            want[j - 1] = 100 + j;
        for (int32_t d = 0; d < 3; d++)
            expect_thr(m, d, want, (size_t)k - 1);
        double y[MAXN];
        int32_t wb[MAXN];
        size_t ny = 0;
        for (int i = 0; i <= k; i++) {
            y[ny] = 100 + i;
            wb[ny++] = i > 1 ? i : 1;
        }
        for (int j = 1; j < k; j++) {
            y[ny] = 100.5 + j;
            wb[ny++] = j + 1;
        }
        scores s;
        score_ok(m, y, y, y, ny, &s);
        expect_f_and_r(&s, y, wb, ny, k);
        seg_rfm_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* FIXED via seg_rfm_set_thresholds: bin = 1 + #{t <= x}.
 * F t = 2, 5, 10 (4 bins): 1 -> 1; 2 -> 2 (on threshold: upper); 4.9 -> 2;
 *   5 -> 3; 10 -> 4; 1e9 -> 4.
 * R t = 30, 90 (3 bins): score = 4 - bin: 0 -> 3; 30 -> 2; 89 -> 2; 90 -> 1;
 *   29.5 -> 3; 1000 -> 1.
 * M t = 0.5 (2 bins): 0.4 -> 1; 0.5 -> 2; -1 -> 1; 7 -> 2; 0.5 -> 2; 0 -> 1.
 */
START_TEST(test_fixed_by_hand)
{
    seg_rfm *m = mk();
    const double tf[3] = {2, 5, 10}, tr[2] = {30, 90}, tm[1] = {0.5};
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, tf, 3), SEG_OK);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_R, tr, 2), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_M, tm, 1), SEG_OK);
    /* Ready to score without seg_rfm_fit. */
    ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_F_BINS), 4);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_R_BINS), 3);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_M_BINS), 2);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_F_BINNING), SEG_BINNING_FIXED);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_R_BINNING), SEG_BINNING_FIXED);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_M_BINNING), SEG_BINNING_FIXED);
    EXPECT_THR(m, SEG_RFM_F, 2, 5, 10);
    EXPECT_THR(m, SEG_RFM_R, 30, 90);
    EXPECT_THR(m, SEG_RFM_M, 0.5);

    const double r[6] = {0, 30, 89, 90, 29.5, 1000};
    const double f[6] = {1, 2, 4.9, 5, 10, 1e9};
    const double mo[6] = {0.4, 0.5, -1, 7, 0.5, 0};
    scores s;
    score_ok(m, r, f, mo, 6, &s);
    EXPECT_I32("R", s.r, 3, 2, 2, 1, 3, 1);
    EXPECT_I32("F", s.f, 1, 2, 2, 3, 4, 4);
    EXPECT_I32("M", s.m, 1, 2, 1, 2, 2, 1);
    expect_cells(&s, 6, 1, 1, 1);

    /* seg_rfm_fit keeps FIXED thresholds. */
    fit_ok(m, R10, F10, M10, 10);
    EXPECT_THR(m, SEG_RFM_F, 2, 5, 10);
    EXPECT_THR(m, SEG_RFM_R, 30, 90);
    scores s2;
    score_ok(m, r, f, mo, 6, &s2);
    ck_assert_mem_eq(s.cell, s2.cell, 6 * sizeof(int32_t));

    /* FIXED mixed with a fitted dimension: only M is learnt. */
    setp(m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_R_COMPAT);
    setp(m, SEG_RFM_PARAM_M_BINS, 5);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
    fit_ok(m, R10, F10, M10, 10);
    EXPECT_THR(m, SEG_RFM_M, 21, 26.5, 41, 101);
    EXPECT_THR(m, SEG_RFM_F, 2, 5, 10);

    seg_rfm_free(m);
}
END_TEST

/* Binning FIXED chosen with seg_rfm_set_param but no thresholds given: the
 * fit learns the other dimensions (seg_rfm_fit documents no SEG_ESTATE;
 * seg_rfm_set_param says thresholds are needed "before scoring"), and the
 * model is not scorable until seg_rfm_set_thresholds. */
START_TEST(test_fixed_binning_without_thresholds)
{
    const double tf[3] = {2, 5, 10};
    scores s;
    seg_rfm *m2 = mk();
    setp(m2, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_FIXED);
    ck_assert_int_eq(seg_rfm_fit(m2, R10, F10, M10, 10), SEG_OK);
    ck_assert_int_eq(seg_rfm_is_fitted(m2), 0);
    EXPECT_THR(m2, SEG_RFM_R, 8, 31, 61, 91);
    size_t nt = 0;
    double t[SEG_RFM_MAX_BINS];
    ck_assert_int_eq(seg_rfm_get_thresholds(m2, SEG_RFM_F, t, SEG_RFM_MAX_BINS, &nt), SEG_ESTATE);
    fill_canary(&s);
    ck_assert_int_eq(seg_rfm_score(m2, R10, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w, NULL, 0),
                     SEG_ESTATE);
    assert_canary(&s);
    /* fit_score cannot score an unfitted FIXED dimension: SEG_ESTATE, no
     * output written, the model's R thresholds as they were (found by the
     * fuzzer: it used to score with no thresholds). */
    seg_rfm *m3 = mk();
    setp(m3, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_FIXED);
    fill_canary(&s);
    ck_assert_int_eq(seg_rfm_fit_score(m3, R10, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w),
                     SEG_ESTATE);
    assert_canary(&s);
    ck_assert_int_eq(seg_rfm_get_thresholds(m3, SEG_RFM_R, t, SEG_RFM_MAX_BINS, &nt), SEG_ESTATE);
    ck_assert_ptr_nonnull(strstr(seg_rfm_last_error(m3), "frequency"));
    seg_rfm_free(m3);
    ck_assert_int_eq(seg_rfm_set_thresholds(m2, SEG_RFM_F, tf, 3), SEG_OK);
    ck_assert_int_eq(seg_rfm_is_fitted(m2), 1);
    seg_rfm_free(m2);
}
END_TEST

START_TEST(test_fixed_errors)
{
    seg_rfm *m = mk();
    const double ok[3] = {1, 2, 3};
    const double equal[2] = {5, 5}, down[2] = {5, 3};
    const double with_nan[2] = {1, NAN}, with_inf[2] = {1, INFINITY}, with_ninf[2] = {-INFINITY, 1};
    const double nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const double ten[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, equal, 2), SEG_EINVAL);
    ck_assert_str_ne(seg_rfm_last_error(m), "");
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, down, 2), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, with_nan, 2), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, with_inf, 2), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_R, with_ninf, 2), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, ok, 0), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, ten, 10), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, 3, ok, 3), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, -1, ok, 3), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, NULL, 3), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_thresholds(NULL, SEG_RFM_F, ok, 3), SEG_EINVAL);
    /* Failures leave the options alone. */
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_F_BINS), 5);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_F_BINNING), SEG_BINNING_R_COMPAT);

    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, nine, 9), SEG_OK);
    ck_assert_str_eq(seg_rfm_last_error(m), "");
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_F_BINS), 10);
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_M, ok, 1), SEG_OK);
    ck_assert_int_eq(getp(m, SEG_RFM_PARAM_M_BINS), 2);
    /* A failed call keeps the earlier thresholds. */
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, down, 2), SEG_EINVAL);
    EXPECT_THR(m, SEG_RFM_F, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    /* The caller's array is copied. */
    double mine[2] = {10, 20};
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_R, mine, 2), SEG_OK);
    mine[0] = 15;
    EXPECT_THR(m, SEG_RFM_R, 10, 20);
    /* Changing the bins option of a FIXED dimension drops its thresholds. */
    setp(m, SEG_RFM_PARAM_R_BINS, 4);
    size_t n = 0;
    double t[SEG_RFM_MAX_BINS];
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_R, t, SEG_RFM_MAX_BINS, &n), SEG_ESTATE);
    seg_rfm_free(m);
}
END_TEST

/* FIXED for every k: t_j = 10 j (j = 1..k-1). 10 j -> j + 1, 10 j - 0.5 -> j;
 * recency k + 1 - bin. */
START_TEST(test_fixed_every_k)
{
    for (int k = 2; k <= 10; k++) {
        seg_rfm *m = mk();
        double t[SEG_RFM_MAX_BINS];
        for (int j = 1; j < k; j++)
            t[j - 1] = 10.0 * j;
        for (int32_t d = 0; d < 3; d++) {
            ck_assert_int_eq(seg_rfm_set_thresholds(m, d, t, (size_t)k - 1), SEG_OK);
            expect_thr(m, d, t, (size_t)k - 1);
        }
        ck_assert_int_eq(getp(m, SEG_RFM_PARAM_M_BINS), k);
        double y[MAXN];
        int32_t wb[MAXN];
        size_t ny = 0;
        for (int j = 1; j < k; j++) {
            y[ny] = 10.0 * j;
            wb[ny++] = j + 1;
            y[ny] = 10.0 * j - 0.5;
            wb[ny++] = j;
        }
        scores s;
        score_ok(m, y, y, y, ny, &s);
        expect_f_and_r(&s, y, wb, ny, k);
        seg_rfm_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* MEAN and MEDIAN: two levels.
 * F = 1 2 3 4 10: mean 20/5 = 4 -> 4 and 10 score 2 (4 is the cut: high);
 *   median x(3) = 3 -> 3, 4, 10 score 2.
 * R = 10 20 30 40 150: mean 250/5 = 50 -> x <= 50 scores 2 (all but 150);
 *   median 30 -> 10, 20, 30 score 2; 40, 150 score 1.
 * M = 5 5 5 5 5: mean = median = 5: all score 2 (ties at the cut go high).
 * Even n: F = 1 2 3 4, median (type 7 at 1/2: index 2.5) = 2.5, mean 2.5. */
/* Values near DBL_MAX: the plain sum overflows, the mean must not (found
 * by the numeric fuzz target); type-7 interpolation stays finite too. */
START_TEST(test_thresholds_near_dbl_max)
{
    const double big[3] = {DBL_MAX, DBL_MAX, 0};
    const double one[3] = {1, 1, 1};
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_MEAN);
    fit_ok(m, one, one, big, 3);
    double t[SEG_RFM_MAX_BINS];
    size_t nt = 0;
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_M, t, SEG_RFM_MAX_BINS, &nt), SEG_OK);
    ck_assert(isfinite(t[0]));
    ck_assert(fabs(t[0] - DBL_MAX / 3 * 2) <= DBL_MAX * 1e-15);
    setp(m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_TIES);
    const double wide[2] = {DBL_MAX, nextafter(DBL_MAX, 0)};
    fit_ok(m, one, one, wide, 2);
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_M, t, SEG_RFM_MAX_BINS, &nt), SEG_OK);
    for (size_t j = 0; j < nt; j++)
        ck_assert(isfinite(t[j]));
    seg_rfm_free(m);
}
END_TEST

START_TEST(test_mean_median_by_hand)
{
    const double r[5] = {40, 10, 150, 30, 20};
    const double f[5] = {4, 1, 10, 3, 2};
    const double mo[5] = {5, 5, 5, 5, 5};
    scores s;

    seg_rfm *m = mk();
    set_all(m, 5, SEG_BINNING_MEAN);
    fit_score_ok(m, r, f, mo, 5, &s);
    EXPECT_THR(m, SEG_RFM_R, 50);
    EXPECT_THR(m, SEG_RFM_F, 4);
    EXPECT_THR(m, SEG_RFM_M, 5);
    EXPECT_I32("R", s.r, 2, 2, 1, 2, 2);
    EXPECT_I32("F", s.f, 2, 1, 2, 1, 1);
    EXPECT_I32("M", s.m, 2, 2, 2, 2, 2);
    expect_cells(&s, 5, 1, 1, 1);
    /* New rows on the cut: recency 50 -> 2, 50.5 -> 1; F 4 -> 2, 3.99 -> 1. */
    const double r2[2] = {50, 50.5}, f2[2] = {4, 3.99}, m2[2] = {5, 4.99};
    score_ok(m, r2, f2, m2, 2, &s);
    EXPECT_I32("R", s.r, 2, 1);
    EXPECT_I32("F", s.f, 2, 1);
    EXPECT_I32("M", s.m, 2, 1);

    set_all(m, 5, SEG_BINNING_MEDIAN);
    fit_score_ok(m, r, f, mo, 5, &s);
    EXPECT_THR(m, SEG_RFM_R, 30);
    EXPECT_THR(m, SEG_RFM_F, 3);
    EXPECT_THR(m, SEG_RFM_M, 5);
    EXPECT_I32("R", s.r, 1, 2, 1, 2, 2);
    EXPECT_I32("F", s.f, 2, 1, 2, 2, 1);
    EXPECT_I32("M", s.m, 2, 2, 2, 2, 2);

    const double even[4] = {3, 1, 4, 2};
    fit_ok(m, even, even, even, 4);
    EXPECT_THR(m, SEG_RFM_F, 2.5);
    setp(m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_MEAN);
    fit_ok(m, even, even, even, 4);
    EXPECT_THR(m, SEG_RFM_F, 2.5);
    seg_rfm_free(m);
}
END_TEST

/* The bins option is ignored by MEAN/MEDIAN: for every k, x = 100 + i
 * (i = 0..k): mean = median = 100 + k/2; F: x >= cut -> 2; R: x <= cut -> 2. */
START_TEST(test_mean_median_every_k)
{
    for (int k = 2; k <= 10; k++) {
        for (int32_t method = SEG_BINNING_MEAN; method <= SEG_BINNING_MEDIAN; method++) {
            seg_rfm *m = mk();
            set_all(m, k, method);
            double x[MAXN];
            size_t n = zigzag(x, (size_t)k + 1, 100, 1);
            scores s;
            fit_score_ok(m, x, x, x, n, &s);
            const double cut = 100 + k / 2.0;
            for (int32_t d = 0; d < 3; d++)
                expect_thr(m, d, &cut, 1);
            for (size_t i = 0; i < n; i++) {
                int32_t hi = x[i] >= cut ? 2 : 1;
                int32_t lo_is_good = x[i] <= cut ? 2 : 1;
                ck_assert_msg(s.f[i] == hi, "k=%d method %d x=%g: F %d", k, method, x[i], s.f[i]);
                ck_assert_msg(s.r[i] == lo_is_good, "k=%d method %d x=%g: R %d", k, method, x[i],
                              s.r[i]);
            }
            expect_cells(&s, n, 1, 1, 1);
            seg_rfm_free(m);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Weighted score with custom weights, and cell codes.
 * Weights 0.5, 0.25, 2 (exact in binary). On the k = 5 sample above,
 * row 0 has R 4 F 3 M 4: 2 + 0.75 + 8 = 10.75; row 4 (1 2 2): 0.5 + 0.5 + 4
 * = 5; row 1 (5 5 1): 2.5 + 1.25 + 2 = 5.75. Negative weights are finite,
 * so allowed: -1, 0, 3 on row 0 -> -4 + 0 + 12 = 8. */
START_TEST(test_weights)
{
    seg_rfm *m = mk();
    fit_ok(m, R10, F10, M10, 10);
    ck_assert_int_eq(seg_rfm_set_weights(m, 0.5, 0.25, 2), SEG_OK);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
    scores s;
    score_ok(m, R10, F10, M10, 10, &s);
    ck_assert_double_eq(s.w[0], 10.75);
    ck_assert_double_eq(s.w[4], 5);
    ck_assert_double_eq(s.w[1], 5.75);
    expect_cells(&s, 10, 0.5, 0.25, 2);
    ck_assert_int_eq(s.cell[0], 434);

    ck_assert_int_eq(seg_rfm_set_weights(m, -1, 0, 3), SEG_OK);
    score_ok(m, R10, F10, M10, 10, &s);
    ck_assert_double_eq(s.w[0], 8);

    ck_assert_int_eq(seg_rfm_set_weights(m, NAN, 1, 1), SEG_EINVAL);
    ck_assert_str_ne(seg_rfm_last_error(m), "");
    ck_assert_int_eq(seg_rfm_set_weights(m, 1, NAN, 1), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_weights(m, 1, 1, NAN), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_weights(m, INFINITY, 1, 1), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_weights(m, 1, -INFINITY, 1), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_set_weights(NULL, 1, 1, 1), SEG_EINVAL);
    /* The failed calls kept -1, 0, 3. */
    score_ok(m, R10, F10, M10, 10, &s);
    ck_assert_double_eq(s.w[0], 8);
    seg_rfm_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Options: defaults, bounds, set/get, range and key errors. */
static const struct {
    int32_t key;
    int64_t def, min, max;
} PARAMS[] = {
    {SEG_RFM_PARAM_R_BINS, 5, 2, 10},
    {SEG_RFM_PARAM_F_BINS, 5, 2, 10},
    {SEG_RFM_PARAM_M_BINS, 5, 2, 10},
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_R_COMPAT, 1, 6},
    {SEG_RFM_PARAM_F_BINNING, SEG_BINNING_R_COMPAT, 1, 6},
    {SEG_RFM_PARAM_M_BINNING, SEG_BINNING_R_COMPAT, 1, 6},
    {SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_DAYS, 1, 2},
    {SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_TRANSACTIONS, 1, 2},
    {SEG_RFM_PARAM_MONETARY, SEG_MONETARY_SUM, 1, 2},
    {SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_NET, 1, 3},
    {SEG_RFM_PARAM_FUTURE, SEG_FUTURE_REJECT, 1, 2},
    {SEG_RFM_PARAM_MISSING, SEG_MISSING_SKIP, 1, 2},
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])

START_TEST(test_params)
{
    seg_rfm *m = mk();
    for (size_t i = 0; i < N_PARAMS; i++) {
        int32_t key = PARAMS[i].key;
        int64_t lo = -1, hi = -1;
        ck_assert_int_eq(seg_rfm_param_bounds(key, &lo, &hi), SEG_OK);
        ck_assert_msg(lo == PARAMS[i].min && hi == PARAMS[i].max, "key %d bounds %lld..%lld",
                      (int)key, (long long)lo, (long long)hi);
        ck_assert_int_eq(getp(m, key), PARAMS[i].def);
        for (int64_t v = lo; v <= hi; v++) {
            setp(m, key, v);
            ck_assert_int_eq(getp(m, key), v);
        }
        ck_assert_int_eq(seg_rfm_set_param(m, key, lo - 1), SEG_ERANGE);
        ck_assert_str_ne(seg_rfm_last_error(m), "");
        ck_assert_int_eq(seg_rfm_set_param(m, key, hi + 1), SEG_ERANGE);
        ck_assert_int_eq(seg_rfm_set_param(m, key, INT64_MIN), SEG_ERANGE);
        ck_assert_int_eq(seg_rfm_set_param(m, key, INT64_MAX), SEG_ERANGE);
        ck_assert_int_eq(seg_rfm_set_param(m, key, (int64_t)hi + ((int64_t)1 << 32)), SEG_ERANGE);
        /* The failed sets left the last good value (hi). */
        ck_assert_int_eq(getp(m, key), hi);
        setp(m, key, PARAMS[i].def);
        ck_assert_str_eq(seg_rfm_last_error(m), "");
        /* NULL outputs */
        ck_assert_int_eq(seg_rfm_get_param(m, key, NULL), SEG_EINVAL);
        ck_assert_int_eq(seg_rfm_get_param(NULL, key, &lo), SEG_EINVAL);
        ck_assert_int_eq(seg_rfm_set_param(NULL, key, PARAMS[i].def), SEG_EINVAL);
        ck_assert_int_eq(seg_rfm_param_bounds(key, NULL, &hi), SEG_EINVAL);
        ck_assert_int_eq(seg_rfm_param_bounds(key, &lo, NULL), SEG_EINVAL);
    }
    /* The named out-of-range values. */
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_R_BINS, 1), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_F_BINS, 11), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_M_BINNING, 0), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_M_BINNING, 7), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_NEGATIVE, 4), SEG_ERANGE);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_TIME_UNIT, 0), SEG_ERANGE);

    /* Unknown keys. */
    const int32_t bad[] = {0, -1, 99, 103, 109, 113, 199, 206, 1000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 77, lo = 77, hi = 77;
        ck_assert_int_eq(seg_rfm_set_param(m, bad[i], 1), SEG_EINVAL);
        ck_assert_str_ne(seg_rfm_last_error(m), "");
        ck_assert_int_eq(seg_rfm_get_param(m, bad[i], &v), SEG_EINVAL);
        ck_assert_int_eq(v, 77);
        ck_assert_int_eq(seg_rfm_param_bounds(bad[i], &lo, &hi), SEG_EINVAL);
        ck_assert_int_eq(lo, 77);
        ck_assert_int_eq(hi, 77);
    }
    seg_rfm_free(m);
}
END_TEST

/* Changing bins or binning drops that dimension's fit; other options keep it. */
START_TEST(test_param_change_drops_fit)
{
    static const struct {
        int32_t key;
        int64_t value;
        int32_t dim;
    } change[] = {
        {SEG_RFM_PARAM_R_BINS, 4, SEG_RFM_R},
        {SEG_RFM_PARAM_F_BINS, 3, SEG_RFM_F},
        {SEG_RFM_PARAM_M_BINS, 10, SEG_RFM_M},
        {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_TIES, SEG_RFM_R},
        {SEG_RFM_PARAM_F_BINNING, SEG_BINNING_MEAN, SEG_RFM_F},
        {SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK, SEG_RFM_M},
    };
    for (size_t c = 0; c < sizeof change / sizeof change[0]; c++) {
        seg_rfm *m = mk();
        fit_ok(m, R10, F10, M10, 10);
        ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
        setp(m, change[c].key, change[c].value);
        ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
        double t[SEG_RFM_MAX_BINS];
        size_t n = 0;
        for (int32_t d = 0; d < 3; d++)
            ck_assert_int_eq(seg_rfm_get_thresholds(m, d, t, SEG_RFM_MAX_BINS, &n),
                             d == change[c].dim ? SEG_ESTATE : SEG_OK);
        scores s;
        char err[128] = "";
        fill_canary(&s);
        ck_assert_int_eq(seg_rfm_score(m, R10, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w, err,
                                       sizeof err),
                         SEG_ESTATE);
        ck_assert_str_ne(err, "");
        assert_canary(&s);
        /* Refit makes it usable again. */
        fit_ok(m, R10, F10, M10, 10);
        ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
        seg_rfm_free(m);
    }
    /* The other options keep the fit. */
    const int32_t keep[] = {SEG_RFM_PARAM_TIME_UNIT, SEG_RFM_PARAM_FREQUENCY,
                            SEG_RFM_PARAM_MONETARY, SEG_RFM_PARAM_NEGATIVE,
                            SEG_RFM_PARAM_FUTURE, SEG_RFM_PARAM_MISSING};
    seg_rfm *m = mk();
    fit_ok(m, R10, F10, M10, 10);
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        setp(m, keep[i], 2);
        ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
    }
    ck_assert_int_eq(seg_rfm_set_weights(m, 2, 2, 2), SEG_OK);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
    EXPECT_THR(m, SEG_RFM_F, 3, 4, 6, 9);
    seg_rfm_free(m);
}
END_TEST

/* Scoring before any fit. */
START_TEST(test_score_before_fit)
{
    seg_rfm *m = mk();
    scores s;
    fill_canary(&s);
    char err[128] = "";
    ck_assert_int_eq(seg_rfm_score(m, R10, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w, err,
                                   sizeof err),
                     SEG_ESTATE);
    assert_canary(&s);
    ck_assert_str_ne(err, "");
    double t[SEG_RFM_MAX_BINS];
    size_t n = 42;
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_R, t, SEG_RFM_MAX_BINS, &n), SEG_ESTATE);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
    ck_assert_int_eq(seg_rfm_is_fitted(NULL), 0);
    seg_rfm_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Missing values. */
START_TEST(test_missing_skip)
{
    /* Rows 2 (F NaN) and 5 (M NaN) are left out of the fit entirely: the
     * thresholds of all three dimensions equal a fit on the other 8 rows. */
    double r[10], f[10], mo[10];
    memcpy(r, R10, sizeof r);
    memcpy(f, F10, sizeof f);
    memcpy(mo, M10, sizeof mo);
    f[2] = NAN;
    mo[5] = NAN;
    double r8[8], f8[8], m8[8];
    for (size_t i = 0, o = 0; i < 10; i++) {
        if (i == 2 || i == 5)
            continue;
        r8[o] = r[i];
        f8[o] = f[i];
        m8[o++] = mo[i];
    }
    seg_rfm *a = mk(), *b = mk();
    ck_assert_int_eq(getp(a, SEG_RFM_PARAM_MISSING), SEG_MISSING_SKIP);
    fit_ok(a, r, f, mo, 10);
    fit_ok(b, r8, f8, m8, 8);
    for (int32_t d = 0; d < 3; d++) {
        double ta[SEG_RFM_MAX_BINS], tb[SEG_RFM_MAX_BINS];
        size_t na = get_thr(a, d, ta), nb = get_thr(b, d, tb);
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(ta, tb, na * sizeof(double));
    }
    /* Recency without rows 2 (90) and 5 (60): 0 7 7 30 30 60 90 400, n = 8:
     * index 1 + 7/5 = 2.4 -> x(2) = x(3) = 7 -> t1 = 8 (as with 10 rows), but
     * index 1 + 14/5 = 3.8 lies between x(3) = 7 and x(4) = 30, so t2 is
     * about 7 + 0.8 * 23 + 1 = 26.4, not the 31 of the ten-row fit: the
     * recency of a row whose frequency is NaN was left out too. */
    double t0[SEG_RFM_MAX_BINS];
    get_thr(a, SEG_RFM_R, t0);
    ck_assert_double_eq(t0[0], 8);
    ck_assert_double_eq_tol(t0[1], 26.4, 1e-9);

    /* Scoring: the rows with NaN are "not scored": the missing dimension
     * scores 0, the cell is 0 and the weighted score is NaN. */
    scores s;
    score_ok(a, r, f, mo, 10, &s);
    ck_assert_int_eq(s.f[2], 0);
    ck_assert_int_eq(s.cell[2], 0);
    ck_assert_double_nan(s.w[2]);
    ck_assert_int_eq(s.m[5], 0);
    ck_assert_int_eq(s.cell[5], 0);
    ck_assert_double_nan(s.w[5]);
    for (size_t i = 0; i < 10; i++) {
        if (i == 2 || i == 5)
            continue;
        ck_assert_int_ge(s.r[i], 1);
        ck_assert_int_ge(s.f[i], 1);
        ck_assert_int_ge(s.m[i], 1);
        ck_assert_int_eq(s.cell[i], 100 * s.r[i] + 10 * s.f[i] + s.m[i]);
    }
    /* A NaN recency too. */
    const double rn[1] = {NAN}, fn[1] = {3}, mn[1] = {40};
    scores s1;
    score_ok(a, rn, fn, mn, 1, &s1);
    ck_assert_int_eq(s1.r[0], 0);
    ck_assert_int_eq(s1.cell[0], 0);
    ck_assert_double_nan(s1.w[0]);

    /* fit_score: the same. */
    scores s2;
    fit_score_ok(a, r, f, mo, 10, &s2);
    ck_assert_int_eq(s2.cell[2], 0);
    ck_assert_int_eq(s2.cell[5], 0);
    ck_assert_double_nan(s2.w[2]);
    ck_assert_int_eq(s2.f[2], 0);
    ck_assert_int_eq(s2.m[5], 0);
    /* The other rows score as seg_rfm_score scored them. */
    for (size_t i = 0; i < 10; i++)
        if (i != 2 && i != 5)
            ck_assert_int_eq(s2.cell[i], s.cell[i]);

    /* No row left: every row has a NaN. */
    const double all_nan[3] = {NAN, NAN, NAN}, three[3] = {1, 2, 3};
    seg_rfm *c = mk();
    ck_assert_int_eq(seg_rfm_fit(c, three, all_nan, three, 3), SEG_EDATA);
    ck_assert_str_ne(seg_rfm_last_error(c), "");
    ck_assert_int_eq(seg_rfm_is_fitted(c), 0);
    seg_rfm_free(c);
    seg_rfm_free(a);
    seg_rfm_free(b);
}
END_TEST

/* fit_score by rank with a NaN row: the row is left out of the ranking in
 * every dimension (rows with any NaN are not fitted) and scores 0.
 * k = 2. Rows 0, 2, 3 remain:
 *   F 5 1 3 -> ranks (first) 3 1 2; qcut of ranks 1..3 at 1/2: edge 2 ->
 *     ranks 1, 2 -> bin 1, rank 3 -> bin 2: F = 2, _, 1, 1; t_F = 3.
 *   R 10 30 40 -> ranks 1 2 3 -> bins 1 1 2 -> R = 3 - bin = 2, _, 2, 1;
 *     t_R = 30 (row 1's 20 is not counted).
 *   M 1 3 4 -> bins 1 1 2; t_M = 3. */
START_TEST(test_rank_with_missing)
{
    seg_rfm *m = mk();
    set_all(m, 2, SEG_BINNING_RANK);
    const double r[4] = {10, 20, 30, 40}, f[4] = {5, NAN, 1, 3}, mo[4] = {1, 2, 3, 4};
    scores s;
    fit_score_ok(m, r, f, mo, 4, &s);
    ck_assert_int_eq(s.f[1], 0);
    ck_assert_int_eq(s.cell[1], 0);
    ck_assert_double_nan(s.w[1]);
    const int32_t wr[4] = {2, -1, 2, 1}, wf[4] = {2, -1, 1, 1}, wm[4] = {1, -1, 1, 2};
    for (size_t i = 0; i < 4; i++) {
        if (i == 1)
            continue;
        ck_assert_int_eq(s.r[i], wr[i]);
        ck_assert_int_eq(s.f[i], wf[i]);
        ck_assert_int_eq(s.m[i], wm[i]);
        ck_assert_int_eq(s.cell[i], 100 * wr[i] + 10 * wf[i] + wm[i]);
    }
    EXPECT_THR(m, SEG_RFM_F, 3);
    EXPECT_THR(m, SEG_RFM_R, 30);
    EXPECT_THR(m, SEG_RFM_M, 3);
    seg_rfm_free(m);
}
END_TEST

START_TEST(test_missing_reject)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_MISSING, SEG_MISSING_REJECT);
    double r[10], f[10], mo[10];
    memcpy(r, R10, sizeof r);
    memcpy(f, F10, sizeof f);
    memcpy(mo, M10, sizeof mo);
    f[7] = NAN;
    ck_assert_int_eq(seg_rfm_fit(m, r, f, mo, 10), SEG_EDATA);
    SEG_ASSERT_NAMES(seg_rfm_last_error(m), "frequency", 7);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);

    scores s;
    fill_canary(&s);
    ck_assert_int_eq(seg_rfm_fit_score(m, r, f, mo, 10, s.r, s.f, s.m, s.cell, s.w), SEG_EDATA);
    SEG_ASSERT_NAMES(seg_rfm_last_error(m), "frequency", 7);
    assert_canary(&s);

    /* Score with a fitted model: NaN -> SEG_EDATA naming column and row in
     * err_buf; nothing written. */
    fit_ok(m, R10, F10, M10, 10);
    f[7] = F10[7];
    r[9] = NAN;
    char err[256] = "";
    fill_canary(&s);
    ck_assert_int_eq(seg_rfm_score(m, r, f, mo, 10, s.r, s.f, s.m, s.cell, s.w, err, sizeof err),
                     SEG_EDATA);
    SEG_ASSERT_NAMES(err, "recency", 9);
    assert_canary(&s);
    /* Monetary column named too. */
    r[9] = R10[9];
    mo[3] = NAN;
    ck_assert_int_eq(seg_rfm_score(m, r, f, mo, 10, s.r, s.f, s.m, s.cell, s.w, err, sizeof err),
                     SEG_EDATA);
    SEG_ASSERT_NAMES(err, "monetary", 3);
    assert_canary(&s);
    seg_rfm_free(m);
}
END_TEST

START_TEST(test_infinite_always_rejected)
{
    for (int32_t policy = SEG_MISSING_SKIP; policy <= SEG_MISSING_REJECT; policy++) {
        seg_rfm *m = mk();
        setp(m, SEG_RFM_PARAM_MISSING, policy);
        fit_ok(m, R10, F10, M10, 10);
        double before[SEG_RFM_MAX_BINS];
        size_t nb = get_thr(m, SEG_RFM_M, before);

        double r[10], f[10], mo[10];
        memcpy(r, R10, sizeof r);
        memcpy(f, F10, sizeof f);
        memcpy(mo, M10, sizeof mo);
        mo[6] = INFINITY;
        /* On failure the model keeps its previous thresholds. */
        ck_assert_int_eq(seg_rfm_fit(m, r, f, mo, 10), SEG_EDATA);
        SEG_ASSERT_NAMES(seg_rfm_last_error(m), "monetary", 6);
        ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
        double after[SEG_RFM_MAX_BINS];
        ck_assert_uint_eq(get_thr(m, SEG_RFM_M, after), nb);
        ck_assert_mem_eq(before, after, nb * sizeof(double));

        scores s;
        fill_canary(&s);
        ck_assert_int_eq(seg_rfm_fit_score(m, r, f, mo, 10, s.r, s.f, s.m, s.cell, s.w), SEG_EDATA);
        assert_canary(&s);

        /* Score: -Inf in the last row; rows before it are valid but nothing
         * may be written. */
        mo[6] = M10[6];
        r[9] = -INFINITY;
        char err[256] = "";
        ck_assert_int_eq(
            seg_rfm_score(m, r, f, mo, 10, s.r, s.f, s.m, s.cell, s.w, err, sizeof err), SEG_EDATA);
        SEG_ASSERT_NAMES(err, "recency", 9);
        assert_canary(&s);
        /* A fit that succeeds clears the error. */
        fit_ok(m, R10, F10, M10, 10);
        seg_rfm_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bad input everywhere. */
START_TEST(test_bad_input)
{
    seg_rfm *m = mk();
    scores s;
    char err[256];

    ck_assert_int_eq(seg_rfm_new(NULL, NULL), SEG_EINVAL);
    seg_rfm_free(NULL);
    ck_assert_str_eq(seg_rfm_last_error(NULL), "");
    ck_assert_str_eq(seg_rfm_last_error(m), "");

    /* fit */
    ck_assert_int_eq(seg_rfm_fit(NULL, R10, F10, M10, 10), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_fit(m, NULL, F10, M10, 10), SEG_EINVAL);
    ck_assert_str_ne(seg_rfm_last_error(m), "");
    ck_assert_int_eq(seg_rfm_fit(m, R10, NULL, M10, 10), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_fit(m, R10, F10, NULL, 10), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_fit(m, R10, F10, M10, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);

    /* fit_score: failures write nothing */
    fill_canary(&s);
    ck_assert_int_eq(seg_rfm_fit_score(NULL, R10, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_fit_score(m, NULL, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_fit_score(m, R10, F10, M10, 0, s.r, s.f, s.m, s.cell, s.w),
                     SEG_EINVAL);
    assert_canary(&s);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 0);

    /* fit_score with every output NULL is fine and fits. */
    ck_assert_int_eq(seg_rfm_fit_score(m, R10, F10, M10, 10, NULL, NULL, NULL, NULL, NULL),
                     SEG_OK);
    ck_assert_int_eq(seg_rfm_is_fitted(m), 1);

    /* score */
    fill_canary(&s);
    ck_assert_int_eq(
        seg_rfm_score(NULL, R10, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w, NULL, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_score(m, NULL, F10, M10, 10, s.r, s.f, s.m, s.cell, s.w, NULL, 0),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_score(m, R10, NULL, M10, 10, s.r, s.f, s.m, s.cell, s.w, NULL, 0),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_score(m, R10, F10, NULL, 10, s.r, s.f, s.m, s.cell, s.w, NULL, 0),
                     SEG_EINVAL);
    assert_canary(&s);
    /* n = 0: success, nothing written, NULL inputs allowed. */
    ck_assert_int_eq(seg_rfm_score(m, R10, F10, M10, 0, s.r, s.f, s.m, s.cell, s.w, NULL, 0),
                     SEG_OK);
    ck_assert_int_eq(seg_rfm_score(m, NULL, NULL, NULL, 0, s.r, s.f, s.m, s.cell, s.w, NULL, 0),
                     SEG_OK);
    assert_canary(&s);
    /* All outputs NULL. */
    ck_assert_int_eq(
        seg_rfm_score(m, R10, F10, M10, 10, NULL, NULL, NULL, NULL, NULL, NULL, 0), SEG_OK);
    /* Only one output. */
    fill_canary(&s);
    ck_assert_int_eq(seg_rfm_score(m, R10, F10, M10, 10, NULL, NULL, NULL, s.cell, NULL, NULL, 0),
                     SEG_OK);
    EXPECT_I32("cell", s.cell, 434, 551, 215, 543, 122, 311, 541, 224, 433, 312);
    ck_assert_int_eq(s.r[0], CANARY_I32);

    /* err_buf: cap 0 writes nothing, a short buffer is truncated and
     * terminated. */
    double bad[1] = {INFINITY};
    strcpy(err, "untouched");
    ck_assert_int_eq(seg_rfm_score(m, bad, F10, M10, 1, NULL, NULL, NULL, NULL, NULL, err, 0),
                     SEG_EDATA);
    ck_assert_str_eq(err, "untouched");
    memset(err, 'x', sizeof err);
    ck_assert_int_eq(seg_rfm_score(m, bad, F10, M10, 1, NULL, NULL, NULL, NULL, NULL, err, 5),
                     SEG_EDATA);
    ck_assert_uint_lt(strlen(err), 5);
    ck_assert_int_eq(err[5], 'x');
    ck_assert_int_eq(seg_rfm_score(m, bad, F10, M10, 1, NULL, NULL, NULL, NULL, NULL, NULL, 100),
                     SEG_EDATA);

    /* get_thresholds */
    double t[SEG_RFM_MAX_BINS];
    size_t n = 77;
    ck_assert_int_eq(seg_rfm_get_thresholds(NULL, SEG_RFM_R, t, SEG_RFM_MAX_BINS, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_R, t, SEG_RFM_MAX_BINS, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_get_thresholds(m, 3, t, SEG_RFM_MAX_BINS, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_get_thresholds(m, -1, t, SEG_RFM_MAX_BINS, &n), SEG_EINVAL);
    /* NULL out asks the count. */
    n = 77;
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_R, NULL, 0, &n), SEG_OK);
    ck_assert_uint_eq(n, 4);
    /* cap too small: EBUFSZ, the need reported, out untouched. */
    for (size_t i = 0; i < SEG_RFM_MAX_BINS; i++)
        t[i] = CANARY_DBL;
    n = 0;
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_R, t, 3, &n), SEG_EBUFSZ);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < SEG_RFM_MAX_BINS; i++)
        ck_assert(t[i] == CANARY_DBL);
    ck_assert_int_eq(seg_rfm_get_thresholds(m, SEG_RFM_R, t, 4, &n), SEG_OK);
    ck_assert_double_eq(t[3], 91);
    ck_assert(t[4] == CANARY_DBL);
    seg_rfm_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Save and load. */

static char *save_text(const seg_rfm *m, size_t *len)
{
    size_t need = 0;
    ck_assert_int_eq(seg_rfm_save(m, NULL, 0, &need), SEG_OK);
    ck_assert_uint_gt(need, 16);
    char *buf = malloc(need + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = 0;
    ck_assert_int_eq(seg_rfm_save(m, buf, need + 1, &got), SEG_OK);
    ck_assert_uint_eq(got, need);
    ck_assert_uint_eq(strlen(buf), need);
    *len = need;
    return buf;
}

/* Loads from an exact-size copy without a terminating NUL, so an over-read
 * shows under valgrind/ASan. */
static int32_t load_exact(seg_rfm **out, const char *text, size_t len, char *err, size_t cap)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    int32_t rc = seg_rfm_load(out, copy, len, NULL, err, cap);
    free(copy);
    return rc;
}

static void assert_same_model(const seg_rfm *a, const seg_rfm *b)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        ck_assert_int_eq(getp(a, PARAMS[i].key), getp(b, PARAMS[i].key));
    ck_assert_int_eq(seg_rfm_is_fitted(a), seg_rfm_is_fitted(b));
    for (int32_t d = 0; d < 3; d++) {
        double ta[SEG_RFM_MAX_BINS], tb[SEG_RFM_MAX_BINS];
        size_t na = 0, nb = 0;
        int32_t ra = seg_rfm_get_thresholds(a, d, ta, SEG_RFM_MAX_BINS, &na);
        int32_t rb = seg_rfm_get_thresholds(b, d, tb, SEG_RFM_MAX_BINS, &nb);
        ck_assert_int_eq(ra, rb);
        if (ra == SEG_OK) {
            ck_assert_uint_eq(na, nb);
            /* bit for bit */
            ck_assert_mem_eq(ta, tb, na * sizeof(double));
        }
    }
}

/* xorshift64*: deterministic test data. */
static uint64_t rng_state = 88172645463325252ull;
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void assert_same_scores(const seg_rfm *a, const seg_rfm *b)
{
    enum { N = 2000 };
    double *r = malloc(N * sizeof *r), *f = malloc(N * sizeof *f), *mo = malloc(N * sizeof *mo);
    int32_t *ca = malloc(N * sizeof *ca), *cb = malloc(N * sizeof *cb);
    double *wa = malloc(N * sizeof *wa), *wb = malloc(N * sizeof *wb);
    ck_assert(r && f && mo && ca && cb && wa && wb);
    for (size_t i = 0; i < N; i++) {
        r[i] = floor(rnd() * 500);
        f[i] = 1 + floor(rnd() * 20);
        mo[i] = rnd() * 2000 - 100;
    }
    ck_assert_int_eq(seg_rfm_score(a, r, f, mo, N, NULL, NULL, NULL, ca, wa, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_rfm_score(b, r, f, mo, N, NULL, NULL, NULL, cb, wb, NULL, 0), SEG_OK);
    ck_assert_mem_eq(ca, cb, N * sizeof *ca);
    ck_assert_mem_eq(wa, wb, N * sizeof *wa);
    free(r);
    free(f);
    free(mo);
    free(ca);
    free(cb);
    free(wa);
    free(wb);
}

START_TEST(test_save_load_roundtrip)
{
    seg_rfm *m = mk();
    /* Non-default everything. */
    setp(m, SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_SECONDS);
    setp(m, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS);
    setp(m, SEG_RFM_PARAM_MONETARY, SEG_MONETARY_MEAN);
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_DROP);
    setp(m, SEG_RFM_PARAM_FUTURE, SEG_FUTURE_IGNORE);
    setp(m, SEG_RFM_PARAM_MISSING, SEG_MISSING_REJECT);
    setp(m, SEG_RFM_PARAM_R_BINS, 7);
    setp(m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_TIES);
    setp(m, SEG_RFM_PARAM_F_BINS, 3);
    ck_assert_int_eq(seg_rfm_set_weights(m, 0.1, 1.0 / 3, 123456.789), SEG_OK);
    /* M: caller thresholds that are not short decimals. */
    const double tm[5] = {-1e-300, 1e-300, 0.1, 1.0 / 3, 123456.789};
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_M, tm, 5), SEG_OK);
    /* R and F learnt from data with awkward values: R thresholds come out as
     * interpolations like 1/3-ish values + 1. */
    double r[40], f[40], mo[40];
    for (size_t i = 0; i < 40; i++) {
        r[i] = (double)i / 3.0 + 1e-300 * (double)i;
        f[i] = 0.1 * (double)(i % 7) + 123456.789;
        mo[i] = (double)i;
    }
    fit_ok(m, r, f, mo, 40);

    size_t len = 0;
    char *text = save_text(m, &len);
    ck_assert_msg(strncmp(text, "libsegment-rfm 1", 16) == 0 &&
                      (text[16] == '\n' || text[16] == '\r' || text[16] == ' '),
                  "text starts with: %.40s", text);

    seg_rfm *l = NULL;
    char err[256] = "";
    int32_t rc = load_exact(&l, text, len, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load: %d %s", rc, err);
    ck_assert_ptr_nonnull(l);
    assert_same_model(m, l);
    assert_same_scores(m, l);
    double got[SEG_RFM_MAX_BINS];
    ck_assert_uint_eq(get_thr(l, SEG_RFM_M, got), 5);
    ck_assert_mem_eq(got, tm, sizeof tm);

    /* Saving the loaded model gives the same text. */
    size_t len2 = 0;
    char *text2 = save_text(l, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_str_eq(text, text2);
    free(text2);
    seg_rfm_free(l);

    /* An unfitted default model round-trips too. */
    seg_rfm *d = mk();
    char *t3 = save_text(d, &len);
    ck_assert_int_eq(load_exact(&l, t3, len, NULL, 0), SEG_OK);
    assert_same_model(d, l);
    ck_assert_int_eq(seg_rfm_is_fitted(l), 0);
    seg_rfm_free(l);
    free(t3);
    seg_rfm_free(d);

    /* RANK with tied thresholds (100, 100) must round-trip. */
    seg_rfm *k = mk();
    set_all(k, 3, SEG_BINNING_RANK);
    const double hundred[10] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
    fit_ok(k, hundred, hundred, hundred, 10);
    EXPECT_THR(k, SEG_RFM_M, 100, 100);
    char *t4 = save_text(k, &len);
    rc = load_exact(&l, t4, len, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load of tied RANK thresholds: %d %s\n%s", rc, err, t4);
    assert_same_model(k, l);
    seg_rfm_free(l);
    free(t4);
    seg_rfm_free(k);

    free(text);
    seg_rfm_free(m);
}
END_TEST

/* Each weight alone, through save/load: the weighted score of scores
 * (1, 1, 1) is then exactly that weight (w*1 + 0*1 + 0*1 = w), so any
 * rounding of the weight in the text shows. */
START_TEST(test_save_load_weights_exact)
{
    const double ws[] = {0.1, 1e-300, 123456.789, 1.0 / 3, -2.5e-17, DBL_MAX, -DBL_MAX,
                         DBL_MIN};
    /* FIXED thresholds {1} everywhere (2 bins): F = M = 0 is bin 1, score 1;
     * recency 5 is bin 2, score 2 + 1 - 2 = 1. */
    const double r5[1] = {5}, zero[1] = {0};
    const double thr1[1] = {1};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        for (int d = 0; d < 3; d++) {
            seg_rfm *m = mk();
            for (int32_t e = 0; e < 3; e++)
                ck_assert_int_eq(seg_rfm_set_thresholds(m, e, thr1, 1), SEG_OK);
            double w[3] = {0, 0, 0};
            w[d] = ws[i];
            ck_assert_int_eq(seg_rfm_set_weights(m, w[0], w[1], w[2]), SEG_OK);
            size_t len = 0;
            char *text = save_text(m, &len);
            seg_rfm *l = NULL;
            ck_assert_int_eq(load_exact(&l, text, len, NULL, 0), SEG_OK);
            int32_t r = 0, f = 0, mm = 0;
            double got = 0;
            ck_assert_int_eq(seg_rfm_score(l, r5, zero, zero, 1, &r, &f, &mm, NULL, &got, NULL, 0),
                             SEG_OK);
            ck_assert_int_eq(r, 1);
            ck_assert_int_eq(f, 1);
            ck_assert_int_eq(mm, 1);
            /* w * 1 + 0 * 1 + 0 * 1 = w, bit for bit */
            ck_assert_msg(memcmp(&got, &ws[i], sizeof got) == 0,
                          "weight %.17g on dim %d came back as %.17g:\n%s", ws[i], d, got, text);
            seg_rfm_free(l);
            free(text);
            seg_rfm_free(m);
        }
    }
}
END_TEST

/* Subnormal doubles are finite: seg_rfm_set_weights and
 * seg_rfm_set_thresholds accept them, so save/load must restore them bit
 * for bit too (strtod reports ERANGE for them, yet returns the exact value). */
START_TEST(test_save_load_subnormal)
{
    const double tiny = 4.9406564584124654e-324; /* 2^-1074 */
    const double sub = 2.2250738585072009e-308;  /* largest subnormal */
    seg_rfm *m = mk();
    const double t[3] = {-sub, tiny, sub};
    ck_assert_int_eq(seg_rfm_set_thresholds(m, SEG_RFM_F, t, 3), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_weights(m, tiny, 1, sub), SEG_OK);
    size_t len = 0;
    char *text = save_text(m, &len);
    seg_rfm *l = NULL;
    char err[256] = "";
    int32_t rc = load_exact(&l, text, len, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load: %d (%s) of:\n%s", rc, err, text);
    double got[SEG_RFM_MAX_BINS];
    ck_assert_uint_eq(get_thr(l, SEG_RFM_F, got), 3);
    ck_assert_mem_eq(got, t, sizeof t);
    seg_rfm_free(l);
    free(text);
    seg_rfm_free(m);
}
END_TEST

START_TEST(test_save_buffer_sizes)
{
    seg_rfm *m = mk();
    fit_ok(m, R10, F10, M10, 10);
    size_t need = 0;
    ck_assert_int_eq(seg_rfm_save(m, NULL, 0, &need), SEG_OK);
    ck_assert_int_eq(seg_rfm_save(m, NULL, 12345, &need), SEG_OK);
    char *buf = malloc(need + 8);
    ck_assert_ptr_nonnull(buf);
    /* cap = length (no room for the NUL): EBUFSZ, buffer untouched. */
    memset(buf, '#', need + 8);
    size_t got = 0;
    ck_assert_int_eq(seg_rfm_save(m, buf, need, &got), SEG_EBUFSZ);
    ck_assert_uint_eq(got, need);
    for (size_t i = 0; i < need + 8; i++)
        ck_assert_int_eq(buf[i], '#');
    ck_assert_int_eq(seg_rfm_save(m, buf, 1, &got), SEG_EBUFSZ);
    ck_assert_int_eq(buf[0], '#');
    ck_assert_int_eq(seg_rfm_save(m, buf, 0, &got), SEG_EBUFSZ);
    ck_assert_int_eq(buf[0], '#');
    /* Exactly enough. */
    ck_assert_int_eq(seg_rfm_save(m, buf, need + 1, &got), SEG_OK);
    ck_assert_uint_eq(got, need);
    ck_assert_int_eq(buf[need], '\0');
    ck_assert_int_eq(buf[need + 1], '#');
    ck_assert_int_eq(seg_rfm_save(NULL, buf, need + 1, &got), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_save(m, buf, need + 1, NULL), SEG_EINVAL);
    free(buf);
    seg_rfm_free(m);
}
END_TEST

/* "line:col: ..." at the start of the message, with the given line (any
 * line >= 1 when `line` is -1). */
static void assert_line_col(const char *err, int line)
{
    int l = -1, c = -1, used = 0;
    ck_assert_msg(sscanf(err, "%d:%d:%n", &l, &c, &used) == 2 && used > 0,
                  "error \"%s\" does not start with line:col:", err);
    if (line > 0)
        ck_assert_msg(l == line, "error \"%s\": line %d, want %d", err, l, line);
    ck_assert_int_ge(l, 1);
    ck_assert_int_ge(c, 1);
}

/* The 1-based line on which `needle` starts in `text`, or 0. */
static int line_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (!p)
        return 0;
    int line = 1;
    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

/* Replaces the first occurrence of `from` in `text` by `to` (new string). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    ck_assert_msg(p != NULL, "\"%s\" not in the saved text:\n%s", from, text);
    size_t a = (size_t)(p - text), lf = strlen(from), lt = strlen(to), lr = strlen(p + lf);
    char *out = malloc(a + lt + lr + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, a);
    memcpy(out + a, to, lt);
    memcpy(out + a + lt, p + lf, lr + 1);
    return out;
}

/* replace() restricted to the text after `anchor`. */
static char *replace_after(const char *text, const char *anchor, const char *from, const char *to)
{
    const char *a = strstr(text, anchor);
    ck_assert_msg(a != NULL, "\"%s\" not in the saved text:\n%s", anchor, text);
    size_t pre = (size_t)(a - text);
    char *tail = replace(a, from, to);
    char *out = malloc(pre + strlen(tail) + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, pre);
    strcpy(out + pre, tail);
    free(tail);
    return out;
}

static void expect_load_fails(const char *text, int32_t code, int line)
{
    seg_rfm *out = (seg_rfm *)(uintptr_t)0x1234;
    char err[256] = "";
    int32_t rc = load_exact(&out, text, strlen(text), err, sizeof err);
    ck_assert_msg(rc == code, "load returned %d (%s), want %d; text:\n%s", rc, err, code, text);
    ck_assert_ptr_eq(out, (seg_rfm *)(uintptr_t)0x1234);
    if (line != 0)
        assert_line_col(err, line);
}

START_TEST(test_load_corrupt)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_F_BINS, 4);
    fit_ok(m, R10, F10, M10, 10);
    size_t len = 0;
    char *text = save_text(m, &len);
    /* The thresholds we will corrupt: F is 3.25 5 8.25 (see above). */
    int fline = line_of(text, "f_thresholds");
    ck_assert_msg(fline > 1, "no f_thresholds line in:\n%s", text);

    /* Unknown version. */
    char *v99 = replace(text, "libsegment-rfm 1", "libsegment-rfm 99");
    expect_load_fails(v99, SEG_EVERSION, 0);
    free(v99);

    /* Ten threshold values (more than any dimension can have) on one line:
     * refused, not written past the 9-slot table (found by fuzz_rfm_load). */
    expect_load_fails("libsegment-rfm 1\nr_thresholds 1 2 3 4 5 6 7 8 9 10\nend\n", SEG_EPARSE, 2);

    /* Garbage, empty, header only. */
    expect_load_fails("hello world\n", SEG_EPARSE, 1);
    expect_load_fails("\x01\x02\xff\xfe", SEG_EPARSE, 1);
    {
        seg_rfm *out = NULL;
        char err[256] = "";
        ck_assert_int_eq(seg_rfm_load(&out, "", 0, NULL, err, sizeof err), SEG_EPARSE);
        ck_assert_ptr_null(out);
    }
    /* Truncated: the text cut before its last line. */
    {
        char *cut = strdup(text);
        char *last = strrchr(cut, '\n');
        ck_assert_ptr_nonnull(last);
        *last = '\0';
        last = strrchr(cut, '\n');
        ck_assert_ptr_nonnull(last);
        last[1] = '\0';
        expect_load_fails(cut, SEG_EPARSE, -1);
        /* cut in the middle of the thresholds line */
        char *mid = strdup(text);
        char *fl = strstr(mid, "f_thresholds");
        fl[strlen("f_thresholds") + 3] = '\0';
        expect_load_fails(mid, SEG_EPARSE, -1);
        free(mid);
        free(cut);
        /* Truncated to any prefix: never SEG_OK except the whole text, and
         * never a crash. */
        for (size_t n = 0; n + 1 < len; n++) {
            seg_rfm *out = NULL;
            int32_t rc = load_exact(&out, text, n, NULL, 0);
            if (rc == SEG_OK) {
                /* Only acceptable if what is missing is trailing whitespace. */
                for (size_t i = n; i < len; i++)
                    ck_assert_msg(text[i] == '\n' || text[i] == ' ',
                                  "prefix of %zu bytes loaded", n);
                seg_rfm_free(out);
            }
        }
    }
    /* A bad number. */
    char *badnum = replace_after(text, "f_thresholds", "3.25", "3.2.5");
    expect_load_fails(badnum, SEG_EPARSE, fline);
    free(badnum);
    badnum = replace_after(text, "f_thresholds", "3.25", "abc");
    expect_load_fails(badnum, SEG_EPARSE, fline);
    free(badnum);
    badnum = replace_after(text, "f_thresholds", "3.25", "nan");
    expect_load_fails(badnum, SEG_EPARSE, fline);
    free(badnum);
    badnum = replace_after(text, "f_thresholds", "3.25", "inf");
    expect_load_fails(badnum, SEG_EPARSE, fline);
    free(badnum);
    /* Thresholds not increasing. */
    char *down = replace_after(text, "f_thresholds", "3.25", "9.25");
    expect_load_fails(down, SEG_EPARSE, fline);
    free(down);
    /* Wrong count of thresholds for the bins (4 bins -> 3 values). */
    char *extra = replace_after(text, "f_thresholds", "3.25", "1 3.25");
    expect_load_fails(extra, SEG_EPARSE, fline);
    free(extra);
    /* An unknown key on line 2. */
    const char *nl = strchr(text, '\n');
    ck_assert_ptr_nonnull(nl);
    size_t head = (size_t)(nl - text) + 1;
    char *unk = malloc(len + 64);
    memcpy(unk, text, head);
    strcpy(unk + head, "frobnicate 3\n");
    strcat(unk, text + head);
    expect_load_fails(unk, SEG_EPARSE, 2);
    free(unk);

    /* NULL arguments. */
    seg_rfm *out = NULL;
    ck_assert_int_eq(seg_rfm_load(NULL, text, len, NULL, NULL, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_load(&out, NULL, len, NULL, NULL, 0), SEG_EINVAL);
    ck_assert_ptr_null(out);
    /* err_buf NULL is fine on failure. */
    ck_assert_int_eq(seg_rfm_load(&out, "junk", 4, NULL, NULL, 0), SEG_EPARSE);
    ck_assert_ptr_null(out);

    free(text);
    seg_rfm_free(m);
}
END_TEST

static Suite *rfm_suite(void)
{
    Suite *s = suite_create("rfm");
    TCase *tc = tcase_create("r_compat");
    tcase_add_test(tc, test_rcompat_k5_by_hand);
    tcase_add_test(tc, test_rcompat_k4_k2_by_hand);
    tcase_add_test(tc, test_rcompat_heavy_ties);
    tcase_add_test(tc, test_rcompat_every_k);
    tcase_add_test(tc, test_fewer_customers_than_bins);
    suite_add_tcase(s, tc);

    tc = tcase_create("rank");
    tcase_add_test(tc, test_rank_by_hand);
    tcase_add_test(tc, test_rank_every_k);
    suite_add_tcase(s, tc);

    tc = tcase_create("ties");
    tcase_add_test(tc, test_ties_by_hand);
    tcase_add_test(tc, test_ties_every_k);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixed");
    tcase_add_test(tc, test_fixed_by_hand);
    tcase_add_test(tc, test_fixed_binning_without_thresholds);
    tcase_add_test(tc, test_fixed_errors);
    tcase_add_test(tc, test_fixed_every_k);
    suite_add_tcase(s, tc);

    tc = tcase_create("mean_median");
    tcase_add_test(tc, test_mean_median_by_hand);
    tcase_add_test(tc, test_thresholds_near_dbl_max);
    tcase_add_test(tc, test_mean_median_every_k);
    suite_add_tcase(s, tc);

    tc = tcase_create("weights");
    tcase_add_test(tc, test_weights);
    suite_add_tcase(s, tc);

    tc = tcase_create("params");
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_param_change_drops_fit);
    tcase_add_test(tc, test_score_before_fit);
    suite_add_tcase(s, tc);

    tc = tcase_create("missing");
    tcase_add_test(tc, test_missing_skip);
    tcase_add_test(tc, test_rank_with_missing);
    tcase_add_test(tc, test_missing_reject);
    tcase_add_test(tc, test_infinite_always_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("text");
    tcase_add_test(tc, test_save_load_roundtrip);
    tcase_add_test(tc, test_save_load_weights_exact);
    tcase_add_test(tc, test_save_load_subnormal);
    tcase_add_test(tc, test_save_buffer_sizes);
    tcase_add_test(tc, test_load_corrupt);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(rfm_suite());
}
