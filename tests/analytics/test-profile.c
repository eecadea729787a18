/* SPDX-License-Identifier: MIT */
/*
 * Tests of segment profiles (include/segment/profile.h): a hand-worked
 * frame (int64, double and int32 columns; missing values by NaN and by a
 * validity bitmap; a group without any present value; sparse and negative
 * labels) in one-way and two-way form and with SEG_PROFILE_NO_MEDIAN;
 * label order at the int32 extremes; sizes-only profiles, empty frames,
 * columns whose total is 0; compensated sums and the shifted one-pass
 * standard deviation on values far from 0; every bad argument of
 * seg_profile_compute (exact status, a message naming the problem, the
 * output untouched) and of the accessors; random data against a naive
 * sort-based model; threads reading one profile (and computing their own
 * from one frame); and failing allocations.
 *
 * Expected values of the hand cases are worked out in the comments next to
 * them (and were checked against pandas' groupby); the random cases are
 * compared with `ref_build` below, which gathers each group's present
 * values, sorts them and computes every statistic the obvious way (long
 * double sums, a two-pass variance), never with the library.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define NSTAT 9
#define TOTAL SIZE_MAX /* "group" index meaning seg_profile_total() in the helpers */
#define TH_N 4

static const char *const STAT_NAME[NSTAT] = {"count", "missing", "sum", "share", "mean",
                                             "min",   "max",     "std", "median"};

/* ---- small helpers ------------------------------------------------------- */

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *s)
{
    return (double)(seg_test_rng(s) >> 11) * 0x1.0p-53;
}


/* got matches want within the absolute tolerance tol (NaN matches NaN only,
 * an infinity only itself). */
static int close_to(double got, double want, double tol)
{
    if (isnan(want))
        return isnan(got);
    if (isnan(got))
        return 0;
    if (isinf(want) || isinf(got))
        return got == want;
    return fabs(got - want) <= tol;
}

/* Same value, NaN equal to NaN (for "identical results"). */
static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* ---- wrappers -------------------------------------------------------------- */

static seg_profile *compute_ok(const seg_frame *f, const int32_t *labels, const int32_t *labels2,
                               const char *const *cols, size_t n_cols, int32_t flags,
                               const seg_allocator *alloc)
{
    seg_profile *p = CANARY_PTR;
    char err[512] = "";
    int32_t rc = seg_profile_compute(&p, f, labels, labels2, cols, n_cols, flags, alloc, err,
                                     sizeof err);
    ck_assert_msg(rc == SEG_OK, "seg_profile_compute: %d (%s) %s", (int)rc, seg_status_str(rc),
                  err);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_ne(p, CANARY_PTR);
    ck_assert_uint_eq(seg_profile_n_columns(p), n_cols);
    return p;
}

/* One statistic; group TOTAL reads seg_profile_total. */
static double stat_of(const seg_profile *p, size_t g, size_t c, int32_t s)
{
    double v = CANARY_DBL;
    int32_t rc = g == TOTAL ? seg_profile_total(p, c, s, &v) : seg_profile_value(p, g, c, s, &v);
    if (rc != SEG_OK)
        ck_abort_msg("value(group %zu, column %zu, %s): %d", g, c, STAT_NAME[s], (int)rc);
    return v;
}

typedef struct ginfo {
    int32_t label, label2;
    int64_t count;
    double share;
} ginfo;

static ginfo group_of(const seg_profile *p, size_t g)
{
    ginfo gi = {CANARY_I32, CANARY_I32, CANARY_I64, CANARY_DBL};
    int32_t rc = seg_profile_group(p, g, &gi.label, &gi.label2, &gi.count, &gi.share);
    if (rc != SEG_OK)
        ck_abort_msg("seg_profile_group(%zu): %d", g, (int)rc);
    return gi;
}

/* Checks group g's labels, size and share of n rows. */
static void expect_group(const seg_profile *p, size_t g, int32_t label, int32_t label2,
                         int64_t count, size_t n)
{
    ginfo gi = group_of(p, g);
    ck_assert_msg(gi.label == label && gi.label2 == label2,
                  "group %zu is (%d, %d), expected (%d, %d)", g, (int)gi.label, (int)gi.label2,
                  (int)label, (int)label2);
    ck_assert_msg(gi.count == count, "group %zu (%d, %d): %lld rows, expected %lld", g,
                  (int)label, (int)label2, (long long)gi.count, (long long)count);
    double share = (double)count / (double)n;
    ck_assert_msg(close_to(gi.share, share, 1e-15 * share), "group %zu share %.17g, expected %.17g",
                  g, gi.share, share);
}

/* Hand-worked statistics: count, missing, sum, min, max and median exactly
 * (every expected value is exact in binary), share, mean and std to 1e-14
 * relative (1e-12 for std with SEG_PROFILE_NO_MEDIAN, which comes from
 * shifted sums). With no_median the median must be NaN. */
static void expect_stats(const seg_profile *p, size_t g, size_t c, const double want[NSTAT],
                         int no_median, const char *what)
{
    for (int32_t s = 0; s < NSTAT; s++) {
        double w = want[s];
        double tol = 0;
        if (s == SEG_STAT_SHARE || s == SEG_STAT_MEAN)
            tol = 1e-14 * fabs(w);
        else if (s == SEG_STAT_STD)
            tol = (no_median ? 1e-12 : 1e-14) * fabs(w);
        else if (s == SEG_STAT_MEDIAN && no_median)
            w = NAN;
        double got = stat_of(p, g, c, s);
        if (!close_to(got, w, tol)) {
            if (g == TOTAL)
                ck_abort_msg("%s: total, column %zu, %s = %.17g, expected %.17g", what, c,
                             STAT_NAME[s], got, w);
            ck_abort_msg("%s: group %zu, column %zu, %s = %.17g, expected %.17g", what, g, c,
                         STAT_NAME[s], got, w);
        }
    }
}

/* ============================================================================ */
/* ---- the hand-worked frame ------------------------------------------------- */

/*
 * row  label  label2   qty (int64)   amt (double)      age (int32)  name    seg (dict)
 *  0      7      1        3             10               30         "a"     0
 *  1     -1      0        1 (bit 0)      4               41         "b"     1
 *  2      7      2        5             NaN              25         NULL    -1
 *  3   1e6       0      100             NaN              60         "d"     0
 *  4     -1      0       -2              2.5             19         "e"     1
 *  5      7      1        5             30               33         "f"     0
 *  6      7      1        0             -6 (bit 0)       52         "g"     1
 *  7     -1     -5        7              1.5             41         "h"     0
 *  8   1e6       0       40             NaN              70         "i"     1
 *  9      7      2        1              6               28         "j"     0
 *
 * Groups by label: -1 = rows {1, 4, 7}, 7 = {0, 2, 5, 6, 9}, 1000000 = {3, 8}.
 * Pairs (label, label2), ascending: (-1,-5) {7}, (-1,0) {1,4}, (7,1) {0,5,6},
 * (7,2) {2,9}, (1000000,0) {3,8}; (7,0), (-1,1), ... are absent.
 */
#define H_N 10
static const int32_t H_LABELS[H_N] = {7, -1, 7, 1000000, -1, 7, 7, -1, 1000000, 7};
static const int32_t H_LABELS2[H_N] = {1, 0, 2, 0, 0, 1, 1, -5, 0, 2};
static const int64_t H_QTY[H_N] = {3, 1, 5, 100, -2, 5, 0, 7, 40, 1};
static const char H_QTY_BITS[] = "1011111111";
static const double H_AMT[H_N] = {10.0, 4.0, NAN, NAN, 2.5, 30.0, -6.0, 1.5, NAN, 6.0};
static const char H_AMT_BITS[] = "1111110111";
static const int32_t H_AGE[H_N] = {30, 41, 25, 60, 19, 33, 52, 41, 70, 28};
static const char *const H_NAME[H_N] = {"a", "b", NULL, "d", "e", "f", "g", "h", "i", "j"};
static const int32_t H_SEG[H_N] = {0, 1, -1, 0, 1, 0, 1, 0, 1, 0};
static const char *const H_DICT[2] = {"gold", "mass"};
static const char *const H_COLS[3] = {"qty", "amt", "age"}; /* request order */

typedef struct hand_frame {
    seg_frame *f;
    uint8_t qty_valid[2];
    uint8_t amt_valid[2];
} hand_frame;

/* Frame columns in the order name, amt, seg, qty, age (not the request
 * order, so the profile's column order is the caller's). */
static void hand_build(hand_frame *h, const seg_allocator *alloc)
{
    seg_test_bitmap(H_QTY_BITS, h->qty_valid);
    seg_test_bitmap(H_AMT_BITS, h->amt_valid);
    h->f = NULL;
    ck_assert_int_eq(seg_frame_new(&h->f, H_N, alloc), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(h->f, "name", H_NAME, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(h->f, "amt", H_AMT, h->amt_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(h->f, "seg", H_SEG, H_DICT, 2, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(h->f, "qty", H_QTY, h->qty_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(h->f, "age", H_AGE, NULL), SEG_OK);
}

/* Per-column totals: qty 159 (present: 3 5 100 -2 5 0 7 40 1), amt 54
 * (10 4 2.5 30 1.5 6), age 399. */
#define QTY_TOT 159.0
#define AMT_TOT 54.0
#define AGE_TOT 399.0

/* One-way expectations, [group][column][stat], columns qty, amt, age. */
static void hand_oneway_want(double w[3][3][NSTAT], double t[3][NSTAT])
{
    const double W[3][3][NSTAT] = {
        /* label -1: rows 1, 4, 7 */
        {/* qty: row 1 missing (bitmap); -2, 7: sum 5, mean 2.5, median (-2 + 7) / 2,
          * std |7 - -2| / sqrt 2 = sqrt(40.5) */
         {2, 1, 5, 5 / QTY_TOT, 2.5, -2, 7, sqrt(40.5), 2.5},
         /* amt: 4, 2.5, 1.5: sum 8, mean 8/3, median 2.5; sum of squares
          * 24.5 - 3 (8/3)^2 = 19/6, var 19/12 */
         {3, 0, 8, 8 / AMT_TOT, 8.0 / 3, 1.5, 4, sqrt(19.0 / 12), 2.5},
         /* age: 41, 19, 41: sum 101; SS 3723 - 101^2/3 = 968/3, var 484/3 */
         {3, 0, 101, 101 / AGE_TOT, 101.0 / 3, 19, 41, sqrt(484.0 / 3), 41}},
        /* label 7: rows 0, 2, 5, 6, 9 */
        {/* qty: 3 5 5 0 1: sum 14, mean 2.8, sorted 0 1 3 5 5; SS 60 - 5 * 2.8^2 = 20.8 */
         {5, 0, 14, 14 / QTY_TOT, 2.8, 0, 5, sqrt(5.2), 3},
         /* amt: 10, NaN, 30, missing by bitmap, 6: sum 46; SS 1036 - 46^2/3 = 992/3 */
         {3, 2, 46, 46 / AMT_TOT, 46.0 / 3, 6, 30, sqrt(496.0 / 3), 10},
         /* age: 30 25 33 52 28: sum 168, sorted 25 28 30 33 52; SS 6102 - 168^2/5 = 457.2 */
         {5, 0, 168, 168 / AGE_TOT, 33.6, 25, 52, sqrt(114.3), 30}},
        /* label 1000000: rows 3, 8 */
        {/* qty: 100, 40: std 60 / sqrt 2 */
         {2, 0, 140, 140 / QTY_TOT, 70, 40, 100, sqrt(1800.0), 70},
         /* amt: NaN, NaN: no present value: sum 0 (share 0), the rest NaN */
         {0, 2, 0, 0, NAN, NAN, NAN, NAN, NAN},
         /* age: 60, 70 */
         {2, 0, 130, 130 / AGE_TOT, 65, 60, 70, sqrt(50.0), 65}},
    };
    const double T[3][NSTAT] = {
        /* qty: 9 present, 1 missing; sorted -2 0 1 3 5 5 7 40 100; sum of squares 11713,
         * SS 11713 - 159^2/9 = 8904, var 1113 */
        {9, 1, QTY_TOT, 1, 159.0 / 9, -2, 100, sqrt(1113.0), 5},
        /* amt: 6 present (1.5 2.5 4 6 10 30), 4 missing; SS 1060.5 - 6 * 81 = 574.5 */
        {6, 4, AMT_TOT, 1, 9, 1.5, 30, sqrt(114.9), 5},
        /* age: sorted 19 25 28 30 33 41 41 52 60 70; median (33 + 41) / 2;
         * SS 18325 - 399^2/10 = 2404.9 */
        {10, 0, AGE_TOT, 1, 39.9, 19, 70, sqrt(2404.9 / 9), 37},
    };
    memcpy(w, W, sizeof W);
    memcpy(t, T, sizeof T);
}

static void check_hand_oneway(const seg_profile *p, int no_median, const char *what)
{
    double w[3][3][NSTAT], t[3][NSTAT];
    hand_oneway_want(w, t);
    ck_assert_uint_eq(seg_profile_n_groups(p), 3);
    ck_assert_uint_eq(seg_profile_n_columns(p), 3);
    expect_group(p, 0, -1, 0, 3, H_N);
    expect_group(p, 1, 7, 0, 5, H_N);
    expect_group(p, 2, 1000000, 0, 2, H_N);
    for (size_t g = 0; g < 3; g++)
        for (size_t c = 0; c < 3; c++)
            expect_stats(p, g, c, w[g][c], no_median, what);
    for (size_t c = 0; c < 3; c++)
        expect_stats(p, TOTAL, c, t[c], no_median, what);
}

START_TEST(hand_oneway)
{
    hand_frame h;
    hand_build(&h, NULL);
    seg_profile *p = compute_ok(h.f, H_LABELS, NULL, H_COLS, 3, 0, NULL);
    check_hand_oneway(p, 0, "one-way");
    /* Only the group's own outputs are written; NULL outputs are skipped. */
    int32_t l = CANARY_I32;
    ck_assert_int_eq(seg_profile_group(p, 2, &l, NULL, NULL, NULL), SEG_OK);
    ck_assert_int_eq(l, 1000000);
    int64_t cnt = CANARY_I64;
    ck_assert_int_eq(seg_profile_group(p, 0, NULL, NULL, &cnt, NULL), SEG_OK);
    ck_assert_int_eq(cnt, 3);
    ck_assert_int_eq(seg_profile_group(p, 1, NULL, NULL, NULL, NULL), SEG_OK);

    /* The profile outlives the frame handle. */
    seg_frame_free(h.f);
    check_hand_oneway(p, 0, "one-way after seg_frame_free");
    seg_profile_free(p);

    /* The same with the counting allocator: nothing leaks, in either order. */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    hand_build(&h, &ta.base);
    p = compute_ok(h.f, H_LABELS, NULL, H_COLS, 3, 0, &ta.base);
    check_hand_oneway(p, 0, "one-way, counting allocator");
    seg_profile_free(p);
    seg_frame_free(h.f);
    ck_assert_uint_eq(ta.live, 0);
    hand_build(&h, &ta.base);
    p = compute_ok(h.f, H_LABELS, NULL, H_COLS, 3, 0, &ta.base);
    seg_frame_free(h.f);
    check_hand_oneway(p, 0, "one-way, frame freed first");
    seg_profile_free(p);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    seg_profile_free(NULL);
}
END_TEST

START_TEST(hand_no_median)
{
    hand_frame h;
    hand_build(&h, NULL);
    seg_profile *p = compute_ok(h.f, H_LABELS, NULL, H_COLS, 3, SEG_PROFILE_NO_MEDIAN, NULL);
    /* Everything as before, the median NaN, std to 1e-12. */
    check_hand_oneway(p, 1, "no median");
    seg_profile_free(p);
    seg_frame_free(h.f);
}
END_TEST

static void check_hand_twoway(const seg_profile *p, int no_median, const char *what)
{
    ck_assert_uint_eq(seg_profile_n_groups(p), 5);
    expect_group(p, 0, -1, -5, 1, H_N);
    expect_group(p, 1, -1, 0, 2, H_N);
    expect_group(p, 2, 7, 1, 3, H_N);
    expect_group(p, 3, 7, 2, 2, H_N);
    expect_group(p, 4, 1000000, 0, 2, H_N);
    const double W[5][3][NSTAT] = {
        /* (-1, -5): row 7 only: one value, std NaN */
        {{1, 0, 7, 7 / QTY_TOT, 7, 7, 7, NAN, 7},
         {1, 0, 1.5, 1.5 / AMT_TOT, 1.5, 1.5, 1.5, NAN, 1.5},
         {1, 0, 41, 41 / AGE_TOT, 41, 41, 41, NAN, 41}},
        /* (-1, 0): rows 1, 4. qty: row 1 missing -> one value -2 (negative share) */
        {{1, 1, -2, -2 / QTY_TOT, -2, -2, -2, NAN, -2},
         /* amt 4, 2.5: std 1.5 / sqrt 2 */
         {2, 0, 6.5, 6.5 / AMT_TOT, 3.25, 2.5, 4, sqrt(1.125), 3.25},
         /* age 41, 19 */
         {2, 0, 60, 60 / AGE_TOT, 30, 19, 41, sqrt(242.0), 30}},
        /* (7, 1): rows 0, 5, 6. qty 3 5 0: SS 34 - 64/3 = 38/3 */
        {{3, 0, 8, 8 / QTY_TOT, 8.0 / 3, 0, 5, sqrt(19.0 / 3), 3},
         /* amt 10, 30, (missing) */
         {2, 1, 40, 40 / AMT_TOT, 20, 10, 30, sqrt(200.0), 20},
         /* age 30 33 52: SS 4693 - 115^2/3 = 854/3 */
         {3, 0, 115, 115 / AGE_TOT, 115.0 / 3, 30, 52, sqrt(427.0 / 3), 33}},
        /* (7, 2): rows 2, 9. qty 5, 1 */
        {{2, 0, 6, 6 / QTY_TOT, 3, 1, 5, sqrt(8.0), 3},
         /* amt NaN, 6 */
         {1, 1, 6, 6 / AMT_TOT, 6, 6, 6, NAN, 6},
         /* age 25, 28 */
         {2, 0, 53, 53 / AGE_TOT, 26.5, 25, 28, sqrt(4.5), 26.5}},
        /* (1000000, 0): as the one-way group */
        {{2, 0, 140, 140 / QTY_TOT, 70, 40, 100, sqrt(1800.0), 70},
         {0, 2, 0, 0, NAN, NAN, NAN, NAN, NAN},
         {2, 0, 130, 130 / AGE_TOT, 65, 60, 70, sqrt(50.0), 65}},
    };
    for (size_t g = 0; g < 5; g++)
        for (size_t c = 0; c < 3; c++)
            expect_stats(p, g, c, W[g][c], no_median, what);
    /* Totals do not depend on the grouping. */
    double w[3][3][NSTAT], t[3][NSTAT];
    hand_oneway_want(w, t);
    for (size_t c = 0; c < 3; c++)
        expect_stats(p, TOTAL, c, t[c], no_median, what);
}

START_TEST(hand_twoway)
{
    hand_frame h;
    hand_build(&h, NULL);
    seg_profile *p = compute_ok(h.f, H_LABELS, H_LABELS2, H_COLS, 3, 0, NULL);
    check_hand_twoway(p, 0, "two-way");
    seg_profile_free(p);
    p = compute_ok(h.f, H_LABELS, H_LABELS2, H_COLS, 3, SEG_PROFILE_NO_MEDIAN, NULL);
    check_hand_twoway(p, 1, "two-way, no median");
    seg_profile_free(p);
    seg_frame_free(h.f);
}
END_TEST

/* A subset of the columns, in another order, and a column twice in the
 * frame's view but once in the request. */
START_TEST(hand_column_subsets)
{
    hand_frame h;
    hand_build(&h, NULL);
    double w[3][3][NSTAT], t[3][NSTAT];
    hand_oneway_want(w, t);
    const char *cols[2] = {"age", "qty"};
    seg_profile *p = compute_ok(h.f, H_LABELS, NULL, cols, 2, 0, NULL);
    ck_assert_uint_eq(seg_profile_n_groups(p), 3);
    for (size_t g = 0; g < 3; g++) {
        expect_stats(p, g, 0, w[g][2], 0, "age, qty: age");
        expect_stats(p, g, 1, w[g][0], 0, "age, qty: qty");
    }
    expect_stats(p, TOTAL, 0, t[2], 0, "age, qty: total age");
    expect_stats(p, TOTAL, 1, t[0], 0, "age, qty: total qty");
    seg_profile_free(p);
    const char *one[1] = {"amt"};
    p = compute_ok(h.f, H_LABELS, NULL, one, 1, 0, NULL);
    for (size_t g = 0; g < 3; g++)
        expect_stats(p, g, 0, w[g][1], 0, "amt only");
    expect_stats(p, TOTAL, 0, t[1], 0, "amt only: total");
    seg_profile_free(p);
    seg_frame_free(h.f);
}
END_TEST

/* ---- labels ------------------------------------------------------------------ */

START_TEST(label_order_extremes)
{
    static const int32_t lab[7] = {INT32_MAX, INT32_MIN, 0, -1, INT32_MAX, 5, INT32_MIN};
    static const double x[7] = {1, 2, 3, 4, 5, 6, 7};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 7, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
    const char *cols[1] = {"x"};
    seg_profile *p = compute_ok(f, lab, NULL, cols, 1, 0, NULL);
    /* INT32_MIN {2, 7}, -1 {4}, 0 {3}, 5 {6}, INT32_MAX {1, 5}. */
    ck_assert_uint_eq(seg_profile_n_groups(p), 5);
    expect_group(p, 0, INT32_MIN, 0, 2, 7);
    expect_group(p, 1, -1, 0, 1, 7);
    expect_group(p, 2, 0, 0, 1, 7);
    expect_group(p, 3, 5, 0, 1, 7);
    expect_group(p, 4, INT32_MAX, 0, 2, 7);
    const double sums[5] = {9, 4, 3, 6, 6};
    const double meds[5] = {4.5, 4, 3, 6, 3};
    for (size_t g = 0; g < 5; g++) {
        ck_assert_double_eq(stat_of(p, g, 0, SEG_STAT_SUM), sums[g]);
        ck_assert_double_eq(stat_of(p, g, 0, SEG_STAT_MEDIAN), meds[g]);
    }
    seg_profile_free(p);

    /* Pairs: the second label is signed too: (5, -1) comes before (5, 1),
     * (5, INT32_MIN) first of all label-5 pairs, (2, INT32_MAX) after (2, -7). */
    static const int32_t l1[6] = {5, 5, 5, 2, 2, 5};
    static const int32_t l2[6] = {1, -1, INT32_MIN, INT32_MAX, -7, 1};
    static const double y[6] = {10, 20, 30, 40, 50, 60};
    seg_frame *g6 = NULL;
    ck_assert_int_eq(seg_frame_new(&g6, 6, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(g6, "y", y, NULL), SEG_OK);
    const char *ycol[1] = {"y"};
    p = compute_ok(g6, l1, l2, ycol, 1, 0, NULL);
    ck_assert_uint_eq(seg_profile_n_groups(p), 5);
    expect_group(p, 0, 2, -7, 1, 6);
    expect_group(p, 1, 2, INT32_MAX, 1, 6);
    expect_group(p, 2, 5, INT32_MIN, 1, 6);
    expect_group(p, 3, 5, -1, 1, 6);
    expect_group(p, 4, 5, 1, 2, 6);
    const double ysum[5] = {50, 40, 30, 20, 70};
    for (size_t g = 0; g < 5; g++)
        ck_assert_double_eq(stat_of(p, g, 0, SEG_STAT_SUM), ysum[g]);
    ck_assert_double_eq(stat_of(p, 4, 0, SEG_STAT_STD), sqrt(1250.0)); /* 10, 60 */
    seg_profile_free(p);
    seg_frame_free(g6);
    seg_frame_free(f);
}
END_TEST

/* One label for every row: one group that equals the totals. */
START_TEST(one_group)
{
    hand_frame h;
    hand_build(&h, NULL);
    int32_t same_label[H_N], zero2[H_N];
    for (size_t i = 0; i < H_N; i++) {
        same_label[i] = -42;
        zero2[i] = 0;
    }
    double w[3][3][NSTAT], t[3][NSTAT];
    hand_oneway_want(w, t);
    for (int two = 0; two <= 1; two++) {
        for (int nm = 0; nm <= 1; nm++) {
            seg_profile *p = compute_ok(h.f, same_label, two ? zero2 : NULL, H_COLS, 3,
                                        nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
            ck_assert_uint_eq(seg_profile_n_groups(p), 1);
            expect_group(p, 0, -42, 0, H_N, H_N);
            ginfo gi = group_of(p, 0);
            ck_assert_double_eq(gi.share, 1.0);
            for (size_t c = 0; c < 3; c++) {
                expect_stats(p, 0, c, t[c], nm, "one group");
                expect_stats(p, TOTAL, c, t[c], nm, "one group: total");
            }
            ck_assert_uint_eq(seg_profile_n_groups(p), 1);
            seg_profile_free(p);
        }
    }
    seg_frame_free(h.f);
}
END_TEST

/* n_columns = 0: group sizes only (columns may then be NULL). */
START_TEST(sizes_only)
{
    hand_frame h;
    hand_build(&h, NULL);
    seg_profile *p = compute_ok(h.f, H_LABELS, NULL, NULL, 0, 0, NULL);
    ck_assert_uint_eq(seg_profile_n_groups(p), 3);
    ck_assert_uint_eq(seg_profile_n_columns(p), 0);
    expect_group(p, 0, -1, 0, 3, H_N);
    expect_group(p, 1, 7, 0, 5, H_N);
    expect_group(p, 2, 1000000, 0, 2, H_N);
    double v = CANARY_DBL;
    ck_assert_int_eq(seg_profile_value(p, 0, 0, SEG_STAT_COUNT, &v), SEG_ERANGE);
    ck_assert_int_eq(seg_profile_total(p, 0, SEG_STAT_COUNT, &v), SEG_ERANGE);
    ck_assert_double_eq(v, CANARY_DBL);
    seg_profile_free(p);
    p = compute_ok(h.f, H_LABELS, H_LABELS2, H_COLS, 0, SEG_PROFILE_NO_MEDIAN, NULL);
    ck_assert_uint_eq(seg_profile_n_groups(p), 5);
    expect_group(p, 2, 7, 1, 3, H_N);
    seg_profile_free(p);
    seg_frame_free(h.f);
}
END_TEST

/* A frame of 0 rows: no groups; totals of nothing. */
START_TEST(zero_rows)
{
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "n", NULL, NULL), SEG_OK);
    static const int32_t none[1] = {0};
    const char *cols[2] = {"x", "n"};
    for (int nm = 0; nm <= 1; nm++) {
        seg_profile *p = compute_ok(f, none, nm ? none : NULL, cols, 2,
                                    nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
        ck_assert_uint_eq(seg_profile_n_groups(p), 0);
        const double t[NSTAT] = {0, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN};
        expect_stats(p, TOTAL, 0, t, nm, "0 rows");
        expect_stats(p, TOTAL, 1, t, nm, "0 rows");
        double v = CANARY_DBL;
        ck_assert_int_eq(seg_profile_value(p, 0, 0, SEG_STAT_SUM, &v), SEG_ERANGE);
        ck_assert_double_eq(v, CANARY_DBL);
        int32_t l = CANARY_I32;
        ck_assert_int_eq(seg_profile_group(p, 0, &l, NULL, NULL, NULL), SEG_ERANGE);
        ck_assert_int_eq(l, CANARY_I32);
        seg_profile_free(p);
    }
    seg_frame_free(f);
}
END_TEST

/* Shares when a column's total is 0 (values cancel; or nothing present):
 * NaN for every group and for the total. */
START_TEST(zero_total_share)
{
    static const int32_t lab[6] = {1, 2, 1, 2, 3, 3};
    static const double x[6] = {2.5, -1, -0.5, -1, NAN, NAN}; /* 2 + -2 + nothing */
    static const double allnan[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    static const int32_t k[6] = {4, -4, 9, -9, 0, 0};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 6, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "nan", allnan, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "k", k, NULL), SEG_OK);
    const char *cols[3] = {"x", "nan", "k"};
    for (int nm = 0; nm <= 1; nm++) {
        seg_profile *p = compute_ok(f, lab, NULL, cols, 3, nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
        ck_assert_uint_eq(seg_profile_n_groups(p), 3);
        /* x: group 1 {2.5, -0.5}, group 2 {-1, -1}, group 3 nothing. */
        const double x1[NSTAT] = {2, 0, 2, NAN, 1, -0.5, 2.5, sqrt(4.5), 1};
        const double x2[NSTAT] = {2, 0, -2, NAN, -1, -1, -1, 0, -1};
        const double x3[NSTAT] = {0, 2, 0, NAN, NAN, NAN, NAN, NAN, NAN};
        const double xt[NSTAT] = {4, 2, 0, NAN, 0, -1, 2.5, sqrt(8.5 / 3), -0.75};
        expect_stats(p, 0, 0, x1, nm, "zero total x");
        expect_stats(p, 1, 0, x2, nm, "zero total x");
        expect_stats(p, 2, 0, x3, nm, "zero total x");
        expect_stats(p, TOTAL, 0, xt, nm, "zero total x");
        /* all NaN: every group and the total without present values. */
        const double n2[NSTAT] = {0, 2, 0, NAN, NAN, NAN, NAN, NAN, NAN};
        for (size_t g = 0; g < 3; g++)
            expect_stats(p, g, 1, n2, nm, "all NaN");
        const double nt[NSTAT] = {0, 6, 0, NAN, NAN, NAN, NAN, NAN, NAN};
        expect_stats(p, TOTAL, 1, nt, nm, "all NaN: total");
        /* k: 4 + 9, -4 - 9, 0 + 0: total 0. */
        const double k1[NSTAT] = {2, 0, 13, NAN, 6.5, 4, 9, sqrt(12.5), 6.5};
        const double k3[NSTAT] = {2, 0, 0, NAN, 0, 0, 0, 0, 0};
        expect_stats(p, 0, 2, k1, nm, "zero total k");
        expect_stats(p, 2, 2, k3, nm, "zero total k");
        ck_assert(isnan(stat_of(p, TOTAL, 2, SEG_STAT_SHARE)));
        seg_profile_free(p);
    }
    seg_frame_free(f);
}
END_TEST

/* Missing integers by bitmap only; every int32 and large int64 values. */
START_TEST(integer_columns)
{
    static const int32_t lab[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    static const int32_t a[8] = {INT32_MIN, INT32_MAX, -1, 0, 5, 6, 7, 8};
    static const int64_t b[8] = {(int64_t)1 << 52, -((int64_t)1 << 52), 3, 4,
                                 (int64_t)1 << 40, 0, 0, 1000000000000LL};
    uint8_t va[1], vb[1];
    seg_test_bitmap("11101110", va); /* a: rows 3 and 7 missing */
    seg_test_bitmap("11111011", vb); /* b: row 5 missing */
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 8, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "a", a, va), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "b", b, vb), SEG_OK);
    const char *cols[2] = {"a", "b"};
    seg_profile *p = compute_ok(f, lab, NULL, cols, 2, 0, NULL);
    /* a, group 0: INT32_MIN, INT32_MAX, -1: sum -2, median -1. */
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_COUNT), 3);
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MISSING), 1);
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_SUM), -2);
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MIN), (double)INT32_MIN);
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MAX), (double)INT32_MAX);
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MEDIAN), -1);
    /* a, group 1: 5 6 7 (8 missing). */
    ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_SUM), 18);
    ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_MISSING), 1);
    ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_STD), 1);
    /* b, group 0: 2^52 - 2^52 + 3 + 4 = 7 (compensated or exact: no rounding). */
    ck_assert_double_eq(stat_of(p, 0, 1, SEG_STAT_SUM), 7);
    ck_assert_double_eq(stat_of(p, 0, 1, SEG_STAT_MEDIAN), 3.5);
    ck_assert_double_eq(stat_of(p, 0, 1, SEG_STAT_MAX), 4503599627370496.0);
    /* b, group 1: 2^40, 0, 10^12 (row 5 missing). */
    ck_assert_double_eq(stat_of(p, 1, 1, SEG_STAT_COUNT), 3);
    ck_assert_double_eq(stat_of(p, 1, 1, SEG_STAT_MISSING), 1);
    ck_assert_double_eq(stat_of(p, 1, 1, SEG_STAT_SUM), 1099511627776.0 + 1e12);
    ck_assert_double_eq(stat_of(p, 1, 1, SEG_STAT_MEDIAN), 1e12);
    ck_assert_double_eq(stat_of(p, 1, 1, SEG_STAT_MIN), 0);
    ck_assert_double_eq(stat_of(p, TOTAL, 1, SEG_STAT_SUM), 7 + 1099511627776.0 + 1e12);
    ck_assert_double_eq(stat_of(p, TOTAL, 1, SEG_STAT_MEDIAN), 4); /* -2^52 3 4 2^40 1e12 2^52 0 */
    seg_profile_free(p);
    seg_frame_free(f);
}
END_TEST

/* Infinities are present values (pandas: sum and mean infinite, std NaN). */
START_TEST(infinities)
{
    static const int32_t lab[5] = {1, 1, 1, 2, 2};
    static const double x[5] = {1, INFINITY, 2, -INFINITY, 3};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 5, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
    const char *cols[1] = {"x"};
    for (int nm = 0; nm <= 1; nm++) {
        seg_profile *p = compute_ok(f, lab, NULL, cols, 1, nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
        ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_COUNT), 3);
        ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_SUM), INFINITY);
        ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MEAN), INFINITY);
        ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MIN), 1);
        ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MAX), INFINITY);
        ck_assert(isnan(stat_of(p, 0, 0, SEG_STAT_STD)));
        ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_SUM), -INFINITY);
        ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_MIN), -INFINITY);
        ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_MAX), 3);
        if (!nm) {
            ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MEDIAN), 2);
            ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_MEDIAN), 2);
        }
        ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_MIN), -INFINITY);
        ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_MAX), INFINITY);
        seg_profile_free(p);
    }
    seg_frame_free(f);
}
END_TEST

/* Partial sums that overflow although the true sum does not, and sums of
 * huge values with an infinity (found by fuzz_analytics: {-DBL_MAX,
 * -DBL_MAX, +inf} gave NaN). Groups of 3 values take the scalar tail of
 * the summation, groups of 24 its 8 lanes. */
START_TEST(overflowing_sums)
{
    const double M = DBL_MAX;
    for (int wide = 0; wide <= 1; wide++) {
        /* Group g holds want[g].v (padded with zeros to 24 in the wide run). */
        const struct {
            double v[3], sum, mean;
        } want[] = {
            {{-M, -M, INFINITY}, INFINITY, INFINITY},
            {{M, M, -M}, M, M / 3},
            {{M, M, 0}, INFINITY, INFINITY},
            {{-M, -M, 0}, -INFINITY, -INFINITY},
            {{M, -M, 5}, 5, 5.0 / 3},
        };
        const size_t ng = sizeof want / sizeof want[0], per = wide ? 24 : 3, n = ng * per;
        double x[5 * 24];
        int32_t lab[5 * 24];
        for (size_t g = 0; g < ng; g++)
            for (size_t i = 0; i < per; i++) {
                x[g * per + i] = i < 3 ? want[g].v[i] : 0;
                lab[g * per + i] = (int32_t)g;
            }
        seg_frame *f = NULL;
        ck_assert_int_eq(seg_frame_new(&f, n, NULL), SEG_OK);
        ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
        const char *cols[1] = {"x"};
        seg_profile *p = compute_ok(f, lab, NULL, cols, 1, 0, NULL);
        for (size_t g = 0; g < ng; g++) {
            double sum = stat_of(p, g, 0, SEG_STAT_SUM), mean = stat_of(p, g, 0, SEG_STAT_MEAN);
            ck_assert_msg(sum == want[g].sum, "wide %d group %zu: sum %g", wide, g, sum);
            ck_assert_msg(wide || mean == want[g].mean, "group %zu: mean %g", g, mean);
            ck_assert_msg(!wide || mean == want[g].sum / (double)per || isinf(mean),
                          "group %zu: mean %g", g, mean);
        }
        /* The total: +inf is among the values and -inf is not. */
        ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_SUM), INFINITY);
        seg_profile_free(p);
        seg_frame_free(f);
    }

    /* Totals: groups {M, M} (sum +inf) and {-M}: the total is M. */
    static const double y[3] = {DBL_MAX, DBL_MAX, -DBL_MAX};
    static const int32_t ly[3] = {0, 0, 1};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 3, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "y", y, NULL), SEG_OK);
    const char *cols[1] = {"y"};
    seg_profile *p = compute_ok(f, ly, NULL, cols, 1, 0, NULL);
    ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_SUM), INFINITY);
    ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_SUM), -DBL_MAX);
    ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_SUM), DBL_MAX);
    ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_MEAN), DBL_MAX / 3);
    seg_profile_free(p);
    seg_frame_free(f);
}
END_TEST

/* ---- accuracy --------------------------------------------------------------- */

/* 1.0 followed by 10^6 values of 1e-16: a plain running sum stays at 1.0
 * (each 1e-16 is under half an ulp of 1); the exact sum is 1 + 1e-10. */
START_TEST(compensated_sums)
{
    const size_t n = 1000001;
    double *x = malloc(n * sizeof *x);
    int32_t *lab = malloc(n * sizeof *lab);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(lab);
    const double tiny = 1e-16;
    for (size_t i = 0; i < n; i++) {
        x[i] = i == 0 ? 1.0 : tiny;
        lab[i] = (int32_t)(i % 2); /* group 0 holds the 1.0 and 500000 tiny values */
    }
    const double exact_all = (double)(1.0L + (long double)(n - 1) * (long double)tiny);
    const double exact_g0 = (double)(1.0L + 500000.0L * (long double)tiny);
    const double exact_g1 = (double)(500000.0L * (long double)tiny);
    ck_assert(exact_all != 1.0);
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
    const char *cols[1] = {"x"};
    for (int nm = 0; nm <= 1; nm++) {
        seg_profile *p = compute_ok(f, lab, NULL, cols, 1, nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
        const double ulp1 = 0x1p-52;
        double s = stat_of(p, TOTAL, 0, SEG_STAT_SUM);
        ck_assert_msg(fabs(s - exact_all) <= 2 * ulp1, "total sum %.17g, exact %.17g", s,
                      exact_all);
        s = stat_of(p, 0, 0, SEG_STAT_SUM);
        ck_assert_msg(fabs(s - exact_g0) <= 2 * ulp1, "group 0 sum %.17g, exact %.17g", s,
                      exact_g0);
        s = stat_of(p, 1, 0, SEG_STAT_SUM);
        ck_assert_msg(fabs(s - exact_g1) <= 1e-14 * exact_g1, "group 1 sum %.17g, exact %.17g",
                      s, exact_g1);
        double m = stat_of(p, TOTAL, 0, SEG_STAT_MEAN);
        ck_assert_msg(fabs(m - exact_all / (double)n) <= 4e-16 * m, "total mean %.17g", m);
        seg_profile_free(p);
    }
    seg_frame_free(f);
    free(x);
    free(lab);
}
END_TEST

/* Values near 1e9 and 1e12 with small spread: x^2 is ~1e18 / 1e24, so a
 * one-pass sum of squares without a shift would lose every digit of the
 * variance. The first row of each group is missing (NaN / bitmap), so the
 * shift must be the first *present* value. */
START_TEST(std_far_from_zero)
{
    static const int32_t lab[10] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 3};
    static const double x[10] = {NAN,           7.0,           1e9 + 1,       1e12 + 0.5,
                                 1e9 + 2,       1e12 + 1.5,    1e9 + 3,       1e12 + 2.5,
                                 1e9 + 4,       -1e15};
    uint8_t valid[2];
    seg_test_bitmap("1011111111", valid); /* row 1 (label 2) missing by bitmap */
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 10, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, valid), SEG_OK);
    const char *cols[1] = {"x"};
    for (int nm = 0; nm <= 1; nm++) {
        seg_profile *p = compute_ok(f, lab, NULL, cols, 1, nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
        /* 1e9 + {1, 2, 3, 4}: var 5/3. */
        double s1 = stat_of(p, 0, 0, SEG_STAT_STD);
        ck_assert_msg(fabs(s1 - sqrt(5.0 / 3)) <= 1e-9, "std of 1e9 + 1..4: %.17g (flags %d)", s1,
                      nm);
        /* 1e12 + {0.5, 1.5, 2.5}: var 1. */
        double s2 = stat_of(p, 1, 0, SEG_STAT_STD);
        ck_assert_msg(fabs(s2 - 1.0) <= 1e-9, "std of 1e12 + 0.5..2.5: %.17g (flags %d)", s2, nm);
        ck_assert_double_eq(stat_of(p, 1, 0, SEG_STAT_MEAN), 1e12 + 1.5);
        ck_assert_double_eq(stat_of(p, 0, 0, SEG_STAT_MEAN), 1e9 + 2.5);
        ck_assert(isnan(stat_of(p, 2, 0, SEG_STAT_STD))); /* one value */
        seg_profile_free(p);
    }
    seg_frame_free(f);
}
END_TEST

/* ============================================================================ */
/* ---- random data and the naive model ---------------------------------------- */

#define RC_N 4 /* columns of a random data set */
static const char *const R_COLS[RC_N] = {"d", "i64", "i32", "big"};

typedef struct dataset {
    size_t n;
    int32_t *labels;
    int32_t *labels2; /* NULL: one-way */
    double *d;        /* normal-ish * 100 + 50; NaN 5%; bitmap clears 3% */
    uint8_t *d_valid;
    int64_t *i64; /* uniform -10^6..10^6, bitmap clears 10% */
    uint8_t *i64_valid;
    int32_t *i32; /* 0..100, heavy ties, no bitmap */
    double *big;  /* 1e9 + cents in [0, 1000) */
    seg_frame *frame;
} dataset;

/* Label values: sparse, negative, the int32 extremes. pool[6] is used by
 * the last row only (a one-row group); rows of pool[7] have no present d. */
static void make_pool(int32_t *pool, size_t k, uint64_t *seed)
{
    static const int32_t fixed[8] = {-1, 7, 1000000, INT32_MIN, INT32_MAX, 0, -99999, 31337};
    for (size_t j = 0; j < k; j++) {
        int32_t v;
        int dup;
        do {
            v = j < 8 ? fixed[j] : (int32_t)(uint32_t)seg_test_rng(seed);
            dup = 0;
            for (size_t i = 0; i < j && !dup; i++)
                dup = pool[i] == v;
        } while (dup);
        pool[j] = v;
    }
}

static void data_make(dataset *ds, size_t n, size_t k, int two_way, uint64_t seed)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->labels = malloc(n * sizeof(int32_t) + 1);
    ds->labels2 = two_way ? malloc(n * sizeof(int32_t) + 1) : NULL;
    ds->d = malloc(n * sizeof(double) + 1);
    ds->d_valid = calloc((n + 7) / 8 + 1, 1);
    ds->i64 = malloc(n * sizeof(int64_t) + 1);
    ds->i64_valid = calloc((n + 7) / 8 + 1, 1);
    ds->i32 = malloc(n * sizeof(int32_t) + 1);
    ds->big = malloc(n * sizeof(double) + 1);
    int32_t *pool = malloc(k * sizeof *pool + 1);
    ck_assert(ds->labels && (!two_way || ds->labels2) && ds->d && ds->d_valid && ds->i64 &&
              ds->i64_valid && ds->i32 && ds->big && pool);
    make_pool(pool, k, &seed);
    for (size_t i = 0; i < n; i++) {
        size_t j = k == 1 ? 0 : (size_t)(seg_test_rng(&seed) % k);
        if (k > 8 && j == 6)
            j = 8 + (size_t)(seg_test_rng(&seed) % (k - 8));
        if (k > 8 && i == n - 1)
            j = 6;
        ds->labels[i] = pool[j];
        if (two_way)
            ds->labels2[i] = (int32_t)(seg_test_rng(&seed) % 7) - 3;
        double z = 0;
        for (int t = 0; t < 4; t++)
            z += rng_unit(&seed);
        ds->d[i] = (k > 8 && j == 7) || rng_unit(&seed) < 0.05 ? NAN : (z - 2.0) * 170.0 + 50.0;
        if (rng_unit(&seed) >= 0.03)
            ds->d_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        ds->i64[i] = (int64_t)(seg_test_rng(&seed) % 2000001) - 1000000;
        if (rng_unit(&seed) >= 0.10)
            ds->i64_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        ds->i32[i] = (int32_t)(seg_test_rng(&seed) % 101);
        ds->big[i] = 1e9 + (double)(seg_test_rng(&seed) % 100000) / 100.0;
    }
    free(pool);
    ck_assert_int_eq(seg_frame_new(&ds->frame, n, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(ds->frame, "d", ds->d, ds->d_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(ds->frame, "i64", ds->i64, ds->i64_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(ds->frame, "i32", ds->i32, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(ds->frame, "big", ds->big, NULL), SEG_OK);
}

static void data_free(dataset *ds)
{
    seg_frame_free(ds->frame);
    free(ds->labels);
    free(ds->labels2);
    free(ds->d);
    free(ds->d_valid);
    free(ds->i64);
    free(ds->i64_valid);
    free(ds->i32);
    free(ds->big);
    memset(ds, 0, sizeof *ds);
}

/* Value of column c at row i, read straight from the caller arrays; 0 when missing. */
static int data_get(const dataset *ds, size_t c, size_t i, double *v)
{
    switch (c) {
    case 0:
        *v = ds->d[i];
        return !isnan(ds->d[i]) && (ds->d_valid[i / 8] >> (i % 8) & 1);
    case 1:
        *v = (double)ds->i64[i];
        return ds->i64_valid[i / 8] >> (i % 8) & 1;
    case 2:
        *v = (double)ds->i32[i];
        return 1;
    default:
        *v = ds->big[i];
        return 1;
    }
}

typedef struct ref {
    size_t n_groups;
    int32_t *label, *label2;
    int64_t *count;
    double *st;   /* [(g * RC_N + c) * NSTAT + s]; g = n_groups: totals */
    double *asum; /* [g * RC_N + c]: sum of |x|, for tolerances */
} ref;

static const dataset *sort_ds; /* qsort has no context argument */

static int cmp_rows(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int32_t x = sort_ds->labels[i], y = sort_ds->labels[j];
    if (x != y)
        return x < y ? -1 : 1;
    if (sort_ds->labels2) {
        x = sort_ds->labels2[i];
        y = sort_ds->labels2[j];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (i > j) - (i < j);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Statistics of rows[0..m) for column c, the obvious way. */
static void ref_stats(const dataset *ds, size_t c, const size_t *rows, size_t m, double *buf,
                      double *st, double *asum)
{
    size_t k = 0;
    long double sum = 0, abs_sum = 0;
    for (size_t r = 0; r < m; r++) {
        double v;
        if (data_get(ds, c, rows[r], &v)) {
            buf[k++] = v;
            sum += v;
            abs_sum += fabs(v);
        }
    }
    st[SEG_STAT_COUNT] = (double)k;
    st[SEG_STAT_MISSING] = (double)(m - k);
    st[SEG_STAT_SUM] = (double)sum;
    st[SEG_STAT_SHARE] = NAN; /* set by the caller */
    *asum = (double)abs_sum;
    if (k == 0) {
        st[SEG_STAT_SUM] = 0;
        for (int s = SEG_STAT_MEAN; s <= SEG_STAT_MEDIAN; s++)
            st[s] = NAN;
        return;
    }
    qsort(buf, k, sizeof *buf, cmp_dbl);
    long double mean = sum / (long double)k;
    st[SEG_STAT_MEAN] = (double)mean;
    st[SEG_STAT_MIN] = buf[0];
    st[SEG_STAT_MAX] = buf[k - 1];
    st[SEG_STAT_MEDIAN] = k % 2 ? buf[k / 2] : (buf[k / 2 - 1] + buf[k / 2]) / 2;
    if (k < 2) {
        st[SEG_STAT_STD] = NAN;
    } else {
        long double ss = 0;
        for (size_t j = 0; j < k; j++)
            ss += ((long double)buf[j] - mean) * ((long double)buf[j] - mean);
        st[SEG_STAT_STD] = (double)sqrtl(ss / (long double)(k - 1));
    }
}

static void ref_build(ref *r, const dataset *ds)
{
    size_t n = ds->n;
    size_t *rows = malloc(n * sizeof *rows + 1);
    double *buf = malloc(n * sizeof *buf + 1);
    ck_assert(rows && buf);
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    sort_ds = ds;
    qsort(rows, n, sizeof *rows, cmp_rows);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++)
        ng += i == 0 || ds->labels[rows[i - 1]] != ds->labels[rows[i]] ||
              (ds->labels2 && ds->labels2[rows[i - 1]] != ds->labels2[rows[i]]);
    r->n_groups = ng;
    r->label = malloc((ng + 1) * sizeof *r->label);
    r->label2 = malloc((ng + 1) * sizeof *r->label2);
    r->count = malloc((ng + 1) * sizeof *r->count);
    r->st = malloc((ng + 1) * RC_N * NSTAT * sizeof *r->st);
    r->asum = malloc((ng + 1) * RC_N * sizeof *r->asum);
    ck_assert(r->label && r->label2 && r->count && r->st && r->asum);
    size_t g = 0, begin = 0;
    for (size_t i = 1; i <= n; i++) {
        int end = i == n || ds->labels[rows[i]] != ds->labels[rows[begin]] ||
                  (ds->labels2 && ds->labels2[rows[i]] != ds->labels2[rows[begin]]);
        if (!end)
            continue;
        r->label[g] = ds->labels[rows[begin]];
        r->label2[g] = ds->labels2 ? ds->labels2[rows[begin]] : 0;
        r->count[g] = (int64_t)(i - begin);
        for (size_t c = 0; c < RC_N; c++)
            ref_stats(ds, c, rows + begin, i - begin, buf, r->st + (g * RC_N + c) * NSTAT,
                      r->asum + g * RC_N + c);
        g++;
        begin = i;
    }
    ck_assert_uint_eq(g, ng);
    for (size_t c = 0; c < RC_N; c++)
        ref_stats(ds, c, rows, n, buf, r->st + (ng * RC_N + c) * NSTAT, r->asum + ng * RC_N + c);
    for (size_t c = 0; c < RC_N; c++) {
        double tot = r->st[(ng * RC_N + c) * NSTAT + SEG_STAT_SUM];
        for (g = 0; g <= ng; g++) {
            double *st = r->st + (g * RC_N + c) * NSTAT;
            st[SEG_STAT_SHARE] = tot == 0 ? NAN : st[SEG_STAT_SUM] / tot;
        }
    }
    free(rows);
    free(buf);
}

static void ref_free(ref *r)
{
    free(r->label);
    free(r->label2);
    free(r->count);
    free(r->st);
    free(r->asum);
}

/* Compares a profile of all RC_N columns (in R_COLS order) with the model:
 * counts, missing, min, max and median exactly (median NaN with no_median);
 * sum and mean to 1e-13 of the sum of |x|; share to 1e-12; std to 1e-9
 * relative. Returns the number of mismatches (reported with ck_abort). */
static void ref_check(const seg_profile *p, const ref *r, size_t n, int no_median,
                      const char *what)
{
    if (seg_profile_n_groups(p) != r->n_groups)
        ck_abort_msg("%s: %zu groups, expected %zu", what, seg_profile_n_groups(p), r->n_groups);
    ck_assert_uint_eq(seg_profile_n_columns(p), RC_N);
    for (size_t g = 0; g <= r->n_groups; g++) {
        size_t pg = g == r->n_groups ? TOTAL : g;
        if (pg != TOTAL) {
            ginfo gi = group_of(p, g);
            double share = (double)r->count[g] / (double)n;
            if (gi.label != r->label[g] || gi.label2 != r->label2[g] || gi.count != r->count[g] ||
                !close_to(gi.share, share, 1e-15 * share))
                ck_abort_msg("%s: group %zu is (%d, %d) x %lld share %.17g, expected (%d, %d) x "
                             "%lld",
                             what, g, (int)gi.label, (int)gi.label2, (long long)gi.count,
                             gi.share, (int)r->label[g], (int)r->label2[g],
                             (long long)r->count[g]);
        }
        for (size_t c = 0; c < RC_N; c++) {
            const double *st = r->st + (g * RC_N + c) * NSTAT;
            double asum = r->asum[g * RC_N + c];
            double tot = r->st[(r->n_groups * RC_N + c) * NSTAT + SEG_STAT_SUM];
            for (int32_t s = 0; s < NSTAT; s++) {
                double want = st[s], tol = 0;
                switch (s) {
                case SEG_STAT_SUM:
                    tol = 1e-13 * asum;
                    break;
                case SEG_STAT_MEAN:
                    tol = st[SEG_STAT_COUNT] > 0 ? 1e-13 * asum / st[SEG_STAT_COUNT] : 0;
                    break;
                case SEG_STAT_SHARE:
                    tol = 1e-12 * fabs(want) + (tot != 0 ? 1e-13 * asum / fabs(tot) : 0);
                    break;
                case SEG_STAT_STD:
                    tol = 1e-9 * fabs(want);
                    break;
                case SEG_STAT_MEDIAN:
                    if (no_median)
                        want = NAN;
                    break;
                default:
                    break;
                }
                double got = stat_of(p, pg, c, s);
                if (!close_to(got, want, tol))
                    ck_abort_msg("%s: %s %zu (%d, %d), column %s, %s = %.17g, expected %.17g "
                                 "(tolerance %.3g)",
                                 what, pg == TOTAL ? "total" : "group", g,
                                 pg == TOTAL ? 0 : (int)r->label[g],
                                 pg == TOTAL ? 0 : (int)r->label2[g], R_COLS[c], STAT_NAME[s],
                                 got, want, tol);
            }
        }
    }
}

static void random_case(size_t n, size_t k, int two_way, uint64_t seed)
{
    dataset ds;
    data_make(&ds, n, k, two_way, seed);
    ref r;
    ref_build(&r, &ds);
    if (k > 8) {
        /* The data has what the case is meant to exercise. */
        size_t singles = 0, empty_d = 0;
        for (size_t g = 0; g < r.n_groups; g++) {
            singles += r.count[g] == 1;
            empty_d += r.st[(g * RC_N) * NSTAT + SEG_STAT_COUNT] == 0;
        }
        ck_assert_uint_gt(singles, 0);
        ck_assert_uint_gt(empty_d, 0);
    }
    char what[128];
    for (int nm = 0; nm <= 1; nm++) {
        snprintf(what, sizeof what, "random n=%zu k=%zu %s%s", n, k,
                 two_way ? "two-way" : "one-way", nm ? " no-median" : "");
        seg_profile *p = compute_ok(ds.frame, ds.labels, ds.labels2, R_COLS, RC_N,
                                    nm ? SEG_PROFILE_NO_MEDIAN : 0, NULL);
        ref_check(p, &r, n, nm, what);
        seg_profile_free(p);
    }
    ref_free(&r);
    data_free(&ds);
}

START_TEST(random_oneway)
{
    random_case(20011, 300, 0, 11);
}
END_TEST

START_TEST(random_twoway)
{
    random_case(20011, 300, 1, 12);
}
END_TEST

/* Many sparse labels (most groups of 1..5 rows), and a single label. */
START_TEST(random_many_labels)
{
    random_case(60000, 20000, 0, 13);
    random_case(30000, 5000, 1, 14);
    random_case(5000, 1, 0, 15);
    random_case(1, 1, 1, 16);
}
END_TEST

/* Row order changes the sums in the last bits at most; everything else not at all. */
START_TEST(row_order)
{
    dataset ds, sh;
    data_make(&ds, 30000, 40, 1, 21);
    data_make(&sh, 30000, 40, 1, 21); /* same data, rows permuted below */
    uint64_t seed = 5;
    for (size_t i = ds.n; i > 1; i--) {
        size_t j = (size_t)(seg_test_rng(&seed) % i);
        size_t a = i - 1;
#define SWAP(T, arr)                                                                           \
    do {                                                                                       \
        T t_ = sh.arr[a];                                                                      \
        sh.arr[a] = sh.arr[j];                                                                 \
        sh.arr[j] = t_;                                                                        \
    } while (0)
        SWAP(int32_t, labels);
        SWAP(int32_t, labels2);
        SWAP(double, d);
        SWAP(int64_t, i64);
        SWAP(int32_t, i32);
        SWAP(double, big);
#undef SWAP
        int va = sh.d_valid[a / 8] >> (a % 8) & 1, vj = sh.d_valid[j / 8] >> (j % 8) & 1;
        sh.d_valid[a / 8] = (uint8_t)((sh.d_valid[a / 8] & ~(1u << (a % 8))) | (unsigned)vj << (a % 8));
        sh.d_valid[j / 8] = (uint8_t)((sh.d_valid[j / 8] & ~(1u << (j % 8))) | (unsigned)va << (j % 8));
        va = sh.i64_valid[a / 8] >> (a % 8) & 1;
        vj = sh.i64_valid[j / 8] >> (j % 8) & 1;
        sh.i64_valid[a / 8] =
            (uint8_t)((sh.i64_valid[a / 8] & ~(1u << (a % 8))) | (unsigned)vj << (a % 8));
        sh.i64_valid[j / 8] =
            (uint8_t)((sh.i64_valid[j / 8] & ~(1u << (j % 8))) | (unsigned)va << (j % 8));
    }
    for (int nm = 0; nm <= 1; nm++) {
        int32_t fl = nm ? SEG_PROFILE_NO_MEDIAN : 0;
        seg_profile *p = compute_ok(ds.frame, ds.labels, ds.labels2, R_COLS, RC_N, fl, NULL);
        seg_profile *q = compute_ok(sh.frame, sh.labels, sh.labels2, R_COLS, RC_N, fl, NULL);
        size_t ng = seg_profile_n_groups(p);
        ck_assert_uint_eq(seg_profile_n_groups(q), ng);
        for (size_t g = 0; g <= ng; g++) {
            size_t pg = g == ng ? TOTAL : g;
            if (pg != TOTAL) {
                ginfo a = group_of(p, g), b = group_of(q, g);
                ck_assert(a.label == b.label && a.label2 == b.label2 && a.count == b.count);
            }
            for (size_t c = 0; c < RC_N; c++) {
                for (int32_t s = 0; s < NSTAT; s++) {
                    double a = stat_of(p, pg, c, s), b = stat_of(q, pg, c, s);
                    int exact = s != SEG_STAT_SUM && s != SEG_STAT_MEAN && s != SEG_STAT_SHARE &&
                                s != SEG_STAT_STD;
                    double tol = exact ? 0 : (s == SEG_STAT_STD ? 1e-12 : 2e-15) * fabs(a);
                    if (!close_to(b, a, tol))
                        ck_abort_msg("row order: group %zu column %zu %s: %.17g vs %.17g", g, c,
                                     STAT_NAME[s], a, b);
                }
            }
        }
        seg_profile_free(p);
        seg_profile_free(q);
    }
    data_free(&ds);
    data_free(&sh);
}
END_TEST

/* ============================================================================ */
/* ---- bad input ---------------------------------------------------------------- */

/* Calls seg_profile_compute expecting `want`; the output must stay the
 * canary and the message (with a 512-byte buffer) is returned in err. */
static void compute_fails(int32_t want, const seg_frame *f, const int32_t *labels,
                          const int32_t *labels2, const char *const *cols, size_t n_cols,
                          int32_t flags, const seg_allocator *alloc, char *err, size_t cap)
{
    seg_profile *p = CANARY_PTR;
    err[0] = '\0';
    int32_t rc = seg_profile_compute(&p, f, labels, labels2, cols, n_cols, flags, alloc, err, cap);
    ck_assert_msg(rc == want, "expected %d (%s), got %d (%s): %s", (int)want,
                  seg_status_str(want), (int)rc, seg_status_str(rc), err);
    ck_assert_ptr_eq(p, CANARY_PTR);
    ck_assert_msg(strlen(err) < cap, "message not terminated within the buffer");
    ck_assert_msg(err[0] != '\0', "no message for status %d", (int)want);
    /* Without a buffer: same status, no crash. */
    rc = seg_profile_compute(&p, f, labels, labels2, cols, n_cols, flags, alloc, NULL, 0);
    ck_assert_int_eq(rc, want);
    ck_assert_ptr_eq(p, CANARY_PTR);
}

START_TEST(bad_inputs)
{
    hand_frame h;
    hand_build(&h, NULL);
    char err[512];
    int32_t rc;

    /* NULL out. */
    err[0] = '\0';
    rc = seg_profile_compute(NULL, h.f, H_LABELS, NULL, H_COLS, 3, 0, NULL, err, sizeof err);
    ck_assert_int_eq(rc, SEG_EINVAL);
    SEG_ASSERT_WORD(err, "out");
    /* NULL frame, labels. */
    compute_fails(SEG_EINVAL, NULL, H_LABELS, NULL, H_COLS, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "frame");
    compute_fails(SEG_EINVAL, h.f, NULL, NULL, H_COLS, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "labels");
    compute_fails(SEG_EINVAL, h.f, NULL, H_LABELS2, H_COLS, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "labels");
    compute_fails(SEG_EINVAL, h.f, NULL, NULL, NULL, 0, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "labels");
    /* NULL columns with n_columns > 0; a NULL name in the list. */
    compute_fails(SEG_EINVAL, h.f, H_LABELS, NULL, NULL, 2, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "column");
    const char *with_null[3] = {"qty", NULL, "age"};
    compute_fails(SEG_EINVAL, h.f, H_LABELS, NULL, with_null, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "column");

    /* Unknown column: SEG_ENOTFOUND naming it (first, middle, last). */
    const char *unk1[3] = {"nope", "qty", "amt"};
    compute_fails(SEG_ENOTFOUND, h.f, H_LABELS, NULL, unk1, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "nope");
    const char *unk2[3] = {"qty", "Amt", "age"}; /* names compare byte for byte */
    compute_fails(SEG_ENOTFOUND, h.f, H_LABELS, H_LABELS2, unk2, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "Amt");
    const char *unk3[2] = {"age", "收入"};
    compute_fails(SEG_ENOTFOUND, h.f, H_LABELS, NULL, unk3, 2, SEG_PROFILE_NO_MEDIAN, NULL, err,
                  sizeof err);
    ck_assert_msg(strstr(err, "收入") != NULL, "message \"%s\" lacks the column name", err);

    /* Text columns: string and dictionary. */
    const char *txt1[2] = {"qty", "name"};
    compute_fails(SEG_EINVAL, h.f, H_LABELS, NULL, txt1, 2, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "name");
    const char *txt2[1] = {"seg"};
    compute_fails(SEG_EINVAL, h.f, H_LABELS, NULL, txt2, 1, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "seg");

    /* A column named twice. */
    const char *dup[3] = {"amt", "qty", "amt"};
    compute_fails(SEG_EINVAL, h.f, H_LABELS, NULL, dup, 3, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "amt");
    const char *dup2[2] = {"age", "age"};
    compute_fails(SEG_EINVAL, h.f, H_LABELS, H_LABELS2, dup2, 2, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "age");

    /* Unknown flags. */
    static const int32_t bad_flags[4] = {2, -1, SEG_PROFILE_NO_MEDIAN | 4, INT32_MIN};
    for (int i = 0; i < 4; i++) {
        compute_fails(SEG_EINVAL, h.f, H_LABELS, NULL, H_COLS, 3, bad_flags[i], NULL, err,
                      sizeof err);
        SEG_ASSERT_WORD(err, "flag");
    }

    /* n_columns above the limit (the list is not read). */
    compute_fails(SEG_ERANGE, h.f, H_LABELS, NULL, H_COLS, SEG_PROFILE_MAX_COLUMNS + 1, 0, NULL,
                  err, sizeof err);
    SEG_ASSERT_WORD(err, "column");
    compute_fails(SEG_ERANGE, h.f, H_LABELS, NULL, H_COLS, SIZE_MAX, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "column");

    /* An allocator of an unknown (larger) size with a non-zero tail. */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t tail;
    } big;
    memset(&big, 0, sizeof big);
    big.a = ta.base;
    big.a.struct_size = (uint32_t)sizeof big;
    big.tail = 1;
    seg_profile *p = CANARY_PTR;
    rc = seg_profile_compute(&p, h.f, H_LABELS, NULL, H_COLS, 3, 0, &big.a, err, sizeof err);
    ck_assert_int_eq(rc, SEG_EVERSION);
    ck_assert_ptr_eq(p, CANARY_PTR);
    ck_assert_uint_eq(ta.live, 0);
    big.tail = 0; /* an all-zero tail is accepted */
    rc = seg_profile_compute(&p, h.f, H_LABELS, NULL, H_COLS, 3, 0, &big.a, err, sizeof err);
    ck_assert_int_eq(rc, SEG_OK);
    ck_assert_ptr_ne(p, CANARY_PTR);
    check_hand_oneway(p, 0, "larger allocator struct");
    seg_profile_free(p);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);

    /* Short message buffers: terminated, a prefix of the full message. */
    char full[512], small[10];
    compute_fails(SEG_ENOTFOUND, h.f, H_LABELS, NULL, unk1, 3, 0, NULL, full, sizeof full);
    memset(small, 'x', sizeof small);
    p = CANARY_PTR;
    rc = seg_profile_compute(&p, h.f, H_LABELS, NULL, unk1, 3, 0, NULL, small, sizeof small);
    ck_assert_int_eq(rc, SEG_ENOTFOUND);
    ck_assert_uint_lt(strlen(small), sizeof small);
    ck_assert_msg(strncmp(full, small, strlen(small)) == 0, "\"%s\" is not a prefix of \"%s\"",
                  small, full);
    char one[1] = {'x'};
    rc = seg_profile_compute(&p, h.f, H_LABELS, NULL, unk1, 3, 0, NULL, one, 1);
    ck_assert_int_eq(rc, SEG_ENOTFOUND);
    ck_assert_int_eq(one[0], '\0');
    char zero[1] = {'x'};
    rc = seg_profile_compute(&p, h.f, H_LABELS, NULL, unk1, 3, 0, NULL, zero, 0);
    ck_assert_int_eq(rc, SEG_ENOTFOUND);
    ck_assert_int_eq(zero[0], 'x'); /* cap 0: nothing written */
    ck_assert_ptr_eq(p, CANARY_PTR);

    seg_frame_free(h.f);
}
END_TEST

/* Exactly SEG_PROFILE_MAX_COLUMNS columns work; one more is SEG_ERANGE. */
START_TEST(column_limit)
{
    const size_t nc = SEG_PROFILE_MAX_COLUMNS + 1;
    char(*names)[8] = malloc(nc * sizeof *names);
    const char **cols = malloc(nc * sizeof *cols);
    ck_assert(names && cols);
    static const double x[2] = {1.5, 2.5};
    static const int32_t lab[2] = {3, 3};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 2, NULL), SEG_OK);
    for (size_t c = 0; c < nc; c++) {
        snprintf(names[c], sizeof names[c], "c%04zu", c);
        cols[c] = names[c];
        ck_assert_int_eq(seg_frame_add_double(f, names[c], x, NULL), SEG_OK);
    }
    seg_profile *p = compute_ok(f, lab, NULL, cols + 1, SEG_PROFILE_MAX_COLUMNS, 0, NULL);
    ck_assert_uint_eq(seg_profile_n_columns(p), SEG_PROFILE_MAX_COLUMNS);
    ck_assert_uint_eq(seg_profile_n_groups(p), 1);
    ck_assert_double_eq(stat_of(p, 0, SEG_PROFILE_MAX_COLUMNS - 1, SEG_STAT_SUM), 4.0);
    ck_assert_double_eq(stat_of(p, TOTAL, 0, SEG_STAT_MEDIAN), 2.0);
    double v = CANARY_DBL;
    ck_assert_int_eq(seg_profile_value(p, 0, SEG_PROFILE_MAX_COLUMNS, SEG_STAT_SUM, &v),
                     SEG_ERANGE);
    ck_assert_double_eq(v, CANARY_DBL);
    seg_profile_free(p);
    char err[512];
    compute_fails(SEG_ERANGE, f, lab, NULL, cols, nc, 0, NULL, err, sizeof err);
    SEG_ASSERT_WORD(err, "column");
    ck_assert_msg(seg_test_names_number(err, SEG_PROFILE_MAX_COLUMNS) ||
                      seg_test_names_number(err, SEG_PROFILE_MAX_COLUMNS + 1),
                  "message \"%s\" names neither the limit nor the count", err);
    seg_frame_free(f);
    free(cols);
    free(names);
}
END_TEST

START_TEST(accessor_errors)
{
    hand_frame h;
    hand_build(&h, NULL);
    seg_profile *p = compute_ok(h.f, H_LABELS, H_LABELS2, H_COLS, 3, 0, NULL);
    const size_t ng = seg_profile_n_groups(p);
    ck_assert_uint_eq(ng, 5);
    ck_assert_uint_eq(seg_profile_n_groups(NULL), 0);
    ck_assert_uint_eq(seg_profile_n_columns(NULL), 0);

    ginfo gi = {CANARY_I32, CANARY_I32, CANARY_I64, CANARY_DBL};
#define GI_UNTOUCHED()                                                                         \
    do {                                                                                       \
        ck_assert_int_eq(gi.label, CANARY_I32);                                                \
        ck_assert_int_eq(gi.label2, CANARY_I32);                                               \
        ck_assert(gi.count == CANARY_I64);                                                     \
        ck_assert_double_eq(gi.share, CANARY_DBL);                                             \
    } while (0)
    ck_assert_int_eq(seg_profile_group(NULL, 0, &gi.label, &gi.label2, &gi.count, &gi.share),
                     SEG_EINVAL);
    GI_UNTOUCHED();
    ck_assert_int_eq(seg_profile_group(p, ng, &gi.label, &gi.label2, &gi.count, &gi.share),
                     SEG_ERANGE);
    GI_UNTOUCHED();
    ck_assert_int_eq(seg_profile_group(p, SIZE_MAX, &gi.label, &gi.label2, &gi.count, &gi.share),
                     SEG_ERANGE);
    GI_UNTOUCHED();
    ck_assert_int_eq(seg_profile_group(p, ng - 1, &gi.label, &gi.label2, &gi.count, &gi.share),
                     SEG_OK);
    ck_assert_int_eq(gi.label, 1000000);
#undef GI_UNTOUCHED

    double v = CANARY_DBL;
    /* seg_profile_value */
    ck_assert_int_eq(seg_profile_value(NULL, 0, 0, SEG_STAT_SUM, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_value(p, 0, 0, SEG_STAT_SUM, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_value(p, 0, 0, -1, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_value(p, 0, 0, SEG_STAT_MEDIAN + 1, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_value(p, 0, 0, INT32_MIN, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_value(p, 0, 0, INT32_MAX, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_value(p, ng, 0, SEG_STAT_SUM, &v), SEG_ERANGE);
    ck_assert_int_eq(seg_profile_value(p, SIZE_MAX, 0, SEG_STAT_SUM, &v), SEG_ERANGE);
    ck_assert_int_eq(seg_profile_value(p, 0, 3, SEG_STAT_SUM, &v), SEG_ERANGE);
    ck_assert_int_eq(seg_profile_value(p, 0, SIZE_MAX, SEG_STAT_SUM, &v), SEG_ERANGE);
    ck_assert_double_eq(v, CANARY_DBL);
    /* seg_profile_total */
    ck_assert_int_eq(seg_profile_total(NULL, 0, SEG_STAT_SUM, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_total(p, 0, SEG_STAT_SUM, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_total(p, 0, -1, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_total(p, 0, SEG_STAT_MEDIAN + 1, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_profile_total(p, 3, SEG_STAT_SUM, &v), SEG_ERANGE);
    ck_assert_int_eq(seg_profile_total(p, SIZE_MAX, SEG_STAT_SUM, &v), SEG_ERANGE);
    ck_assert_double_eq(v, CANARY_DBL);
    /* Every stat of the last group and column is readable. */
    for (int32_t s = 0; s < NSTAT; s++) {
        ck_assert_int_eq(seg_profile_value(p, ng - 1, 2, s, &v), SEG_OK);
        ck_assert_int_eq(seg_profile_total(p, 2, s, &v), SEG_OK);
    }
    /* Accessor failures leave the profile as it was. */
    check_hand_twoway(p, 0, "after accessor errors");
    seg_profile_free(p);
    seg_frame_free(h.f);
}
END_TEST

/* ============================================================================ */
/* ---- threads ------------------------------------------------------------------ */

typedef struct snapshot {
    size_t ng;
    ginfo *groups;
    double *v; /* [(g * RC_N + c) * NSTAT + s], g = ng: totals */
} snapshot;

static void snap_take(snapshot *sn, const seg_profile *p)
{
    sn->ng = seg_profile_n_groups(p);
    sn->groups = malloc((sn->ng + 1) * sizeof *sn->groups);
    sn->v = malloc((sn->ng + 1) * RC_N * NSTAT * sizeof *sn->v);
    ck_assert(sn->groups && sn->v);
    for (size_t g = 0; g <= sn->ng; g++) {
        if (g < sn->ng)
            sn->groups[g] = group_of(p, g);
        for (size_t c = 0; c < RC_N; c++)
            for (int32_t s = 0; s < NSTAT; s++)
                sn->v[(g * RC_N + c) * NSTAT + s] = stat_of(p, g == sn->ng ? TOTAL : g, c, s);
    }
}

/* Mismatches between p and the snapshot (no Check calls: safe in threads).
 * A failed call counts as a mismatch. */
static long snap_diff(const snapshot *sn, const seg_profile *p, size_t start)
{
    long bad = 0;
    if (seg_profile_n_groups(p) != sn->ng || seg_profile_n_columns(p) != RC_N)
        return 1;
    for (size_t k = 0; k <= sn->ng; k++) {
        size_t g = (start + k) % (sn->ng + 1);
        if (g < sn->ng) {
            ginfo gi;
            if (seg_profile_group(p, g, &gi.label, &gi.label2, &gi.count, &gi.share) != SEG_OK)
                bad++;
            else
                bad += gi.label != sn->groups[g].label || gi.label2 != sn->groups[g].label2 ||
                       gi.count != sn->groups[g].count || !same(gi.share, sn->groups[g].share);
        }
        for (size_t c = 0; c < RC_N; c++) {
            for (int32_t s = 0; s < NSTAT; s++) {
                double v;
                int32_t rc = g == sn->ng ? seg_profile_total(p, c, s, &v)
                                         : seg_profile_value(p, g, c, s, &v);
                bad += rc != SEG_OK || !same(v, sn->v[(g * RC_N + c) * NSTAT + s]);
            }
        }
    }
    return bad;
}

static void snap_free(snapshot *sn)
{
    free(sn->groups);
    free(sn->v);
}

typedef struct th_job {
    const seg_profile *p;    /* read this one, or */
    const dataset *ds;       /* compute from this frame */
    const snapshot *sn;
    size_t start;
    int rounds;
    long mismatches;
    int32_t rc;
} th_job;

static void *th_run(void *arg)
{
    th_job *j = arg;
    for (int r = 0; r < j->rounds; r++) {
        if (j->p) {
            j->mismatches += snap_diff(j->sn, j->p, j->start + (size_t)r * 131);
        } else {
            seg_profile *q = NULL;
            int32_t rc = seg_profile_compute(&q, j->ds->frame, j->ds->labels, j->ds->labels2,
                                             R_COLS, RC_N, 0, NULL, NULL, 0);
            if (rc != SEG_OK) {
                j->rc = rc;
                return NULL;
            }
            j->mismatches += snap_diff(j->sn, q, j->start);
            seg_profile_free(q);
        }
    }
    return NULL;
}

START_TEST(threads_read_only)
{
    dataset ds;
    data_make(&ds, 100003, 500, 1, 31);
    seg_profile *p = compute_ok(ds.frame, ds.labels, ds.labels2, R_COLS, RC_N, 0, NULL);
    snapshot sn;
    snap_take(&sn, p);
    ck_assert_uint_gt(sn.ng, 1000);
    ck_assert_int_eq(snap_diff(&sn, p, 0), 0);
    pthread_t th[TH_N + 2];
    th_job jobs[TH_N + 2];
    for (size_t k = 0; k < TH_N + 2; k++) {
        /* TH_N readers of p, and two threads computing their own profile
         * from the same frame and labels at the same time. */
        jobs[k] = (th_job){k < TH_N ? p : NULL, &ds, &sn, k * sn.ng / TH_N, k < TH_N ? 6 : 2,
                           0, SEG_OK};
        ck_assert_int_eq(pthread_create(&th[k], NULL, th_run, &jobs[k]), 0);
    }
    for (size_t k = 0; k < TH_N + 2; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        ck_assert_int_eq(jobs[k].rc, SEG_OK);
        ck_assert_msg(jobs[k].mismatches == 0, "thread %zu: %ld mismatches", k,
                      jobs[k].mismatches);
    }
    snap_free(&sn);
    seg_profile_free(p);
    data_free(&ds);
}
END_TEST

/* ============================================================================ */
/* ---- failing allocations -------------------------------------------------------- */

/* seg_profile_compute with the k-th allocation failing (k = 0, 1, ...; with
 * `sticky` every later one too) until a run has no failure. Each failure
 * must be SEG_ENOMEM with the output untouched and no block more or less
 * alive; a run that copes with a failure must still be right. Returns the
 * number of failures seen. */
static long oom_loop(seg_test_alloc *ta, const dataset *ds, const int32_t *labels2,
                     const char *const *cols, size_t n_cols, int32_t flags, const ref *r,
                     int sticky, const char *what)
{
    ta->sticky = sticky;
    long fails = 0;
    for (size_t k = 0; k < 100000; k++) {
        size_t live = ta->live;
        seg_profile *p = CANARY_PTR;
        char err[256] = "";
        seg_test_alloc_fail_next(ta, k);
        int32_t rc = seg_profile_compute(&p, ds->frame, ds->labels, labels2, cols, n_cols, flags,
                                         &ta->base, err, sizeof err);
        int failed = ta->failures > 0;
        seg_test_alloc_no_fail(ta);
        if (rc == SEG_OK) {
            ck_assert_ptr_ne(p, CANARY_PTR);
            if (r)
                ref_check(p, r, ds->n, flags == SEG_PROFILE_NO_MEDIAN, what);
            else
                ck_assert_uint_eq(seg_profile_n_columns(p), 0);
            seg_profile_free(p);
            ck_assert_msg(ta->live == live, "%s: %zu blocks live after free, %zu before", what,
                          ta->live, live);
            if (!failed) {
                ta->sticky = 0;
                return fails;
            }
            continue; /* coped without the failed block */
        }
        ck_assert_msg(rc == SEG_ENOMEM, "%s: allocation %zu failing: rc %d (%s)", what, k,
                      (int)rc, err);
        ck_assert_msg(p == CANARY_PTR, "%s: allocation %zu failing: output written", what, k);
        ck_assert_msg(ta->live == live, "%s, allocation %zu failing: %zu blocks live, %zu before",
                      what, k, ta->live, live);
        fails++;
    }
    ck_abort_msg("%s: never succeeded", what);
    return fails;
}

START_TEST(oom_compute)
{
    dataset ds;
    data_make(&ds, 3001, 40, 1, 41);
    int32_t *l2 = ds.labels2;
    ref r1, r2;
    ds.labels2 = NULL;
    ref_build(&r1, &ds);
    ds.labels2 = l2;
    ref_build(&r2, &ds);
    for (int sticky = 0; sticky <= 1; sticky++) {
        seg_test_alloc ta;
        seg_test_alloc_init(&ta);
        for (int nm = 0; nm <= 1; nm++) {
            int32_t fl = nm ? SEG_PROFILE_NO_MEDIAN : 0;
            char what[96];
            snprintf(what, sizeof what, "one-way flags %d sticky %d", (int)fl, sticky);
            ck_assert_int_gt(oom_loop(&ta, &ds, NULL, R_COLS, RC_N, fl, &r1, sticky, what), 0);
            snprintf(what, sizeof what, "two-way flags %d sticky %d", (int)fl, sticky);
            ck_assert_int_gt(oom_loop(&ta, &ds, l2, R_COLS, RC_N, fl, &r2, sticky, what), 0);
        }
        ck_assert_int_gt(oom_loop(&ta, &ds, l2, NULL, 0, 0, NULL, sticky, "sizes only"), 0);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
    }
    ref_free(&r1);
    ref_free(&r2);
    data_free(&ds);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

static Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("hand");
    tcase_add_test(tc, hand_oneway);
    tcase_add_test(tc, hand_no_median);
    tcase_add_test(tc, hand_twoway);
    tcase_add_test(tc, hand_column_subsets);
    tcase_add_test(tc, label_order_extremes);
    tcase_add_test(tc, one_group);
    tcase_add_test(tc, sizes_only);
    tcase_add_test(tc, zero_rows);
    tcase_add_test(tc, zero_total_share);
    tcase_add_test(tc, integer_columns);
    tcase_add_test(tc, infinities);
    tcase_add_test(tc, overflowing_sums);
    suite_add_tcase(s, tc);

    tc = tcase_create("accuracy");
    tcase_add_test(tc, compensated_sums);
    tcase_add_test(tc, std_far_from_zero);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_test(tc, random_oneway);
    tcase_add_test(tc, random_twoway);
    tcase_add_test(tc, random_many_labels);
    tcase_add_test(tc, row_order);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, bad_inputs);
    tcase_add_test(tc, column_limit);
    tcase_add_test(tc, accessor_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads_oom");
    tcase_add_test(tc, threads_read_only);
    tcase_add_test(tc, oom_compute);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(profile_suite());
}
