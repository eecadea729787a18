/* SPDX-License-Identifier: MIT */
/*
 * seg_rfm_aggregate and seg_rfm_aggregate_minor: hand-computed recency,
 * frequency, monetary and tenure on small unsorted transaction lists, every
 * option and policy, and every bad input.
 */
#include <float.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-main.h"

#define NC_MAX 16

typedef struct agg {
    double rec[NC_MAX], freq[NC_MAX], mon[NC_MAX], ten[NC_MAX];
    uint8_t has[NC_MAX];
} agg;

static void fill_canary(agg *a)
{
    for (size_t i = 0; i < NC_MAX; i++) {
        a->rec[i] = a->freq[i] = a->mon[i] = a->ten[i] = CANARY_DBL;
        a->has[i] = CANARY_U8;
    }
}

static void assert_canary(const agg *a)
{
    for (size_t i = 0; i < NC_MAX; i++) {
        ck_assert_msg(a->rec[i] == CANARY_DBL && a->freq[i] == CANARY_DBL &&
                          a->mon[i] == CANARY_DBL && a->ten[i] == CANARY_DBL,
                      "output %zu written on failure", i);
        ck_assert_int_eq(a->has[i], CANARY_U8);
    }
}

static seg_rfm *mk(void)
{
    seg_rfm *m = NULL;
    ck_assert_int_eq(seg_rfm_new(&m, NULL), SEG_OK);
    return m;
}

static void setp(seg_rfm *m, int32_t key, int64_t v)
{
    ck_assert_int_eq(seg_rfm_set_param(m, key, v), SEG_OK);
}

static void agg_ok(const seg_rfm *m, const int32_t *c, const int64_t *t, const double *amt,
                   size_t n_rows, int64_t analysis, size_t n_cust, agg *a)
{
    char err[256] = "";
    fill_canary(a);
    int32_t rc = seg_rfm_aggregate(m, c, t, amt, n_rows, analysis, n_cust, a->rec, a->freq,
                                   a->mon, a->ten, a->has, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "seg_rfm_aggregate = %d (%s)", (int)rc, err);
    for (size_t i = n_cust; i < NC_MAX; i++)
        ck_assert_msg(a->rec[i] == CANARY_DBL && a->has[i] == CANARY_U8,
                      "customer %zu >= n_customers written", i);
}

static void agg_minor_ok(const seg_rfm *m, const int32_t *c, const int64_t *t,
                         const int64_t *amt, size_t n_rows, int64_t analysis, size_t n_cust, agg *a)
{
    char err[256] = "";
    fill_canary(a);
    int32_t rc = seg_rfm_aggregate_minor(m, c, t, amt, n_rows, analysis, n_cust, a->rec, a->freq,
                                         a->mon, a->ten, a->has, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "seg_rfm_aggregate_minor = %d (%s)", (int)rc, err);
}

/* Expected values of one customer; NAN means "must be NaN". */
static void expect_cust(const agg *a, size_t c, double rec, double freq, double mon, double ten,
                        int has)
{
#define CHECK_FIELD(field, want)                                                               \
    do {                                                                                       \
        double g_ = a->field[c], w_ = (want);                                                  \
        if (isnan(w_))                                                                         \
            ck_assert_msg(isnan(g_), "customer %zu " #field ": got %.17g, want NaN", c, g_);   \
        else                                                                                   \
            ck_assert_msg(g_ == w_, "customer %zu " #field ": got %.17g, want %.17g", c, g_,   \
                          w_);                                                                 \
    } while (0)
    CHECK_FIELD(rec, rec);
    CHECK_FIELD(freq, freq);
    CHECK_FIELD(mon, mon);
    CHECK_FIELD(ten, ten);
#undef CHECK_FIELD
    ck_assert_msg(a->has[c] == has, "customer %zu has_purchase %d, want %d", c, a->has[c], has);
}

/* ------------------------------------------------------------------------ */
/* Days. Analysis day 100, five customers, rows in no particular order:
 *
 *   row cust  day  amount
 *    0   1     90    10
 *    1   0     95     5
 *    2   1     80    20
 *    3   0     95     7     same day as row 1
 *    4   2     50    -3     customer 2 has only this refund
 *    5   1     99    -4     refund after c1's last purchase
 *    6   0     60     3
 *    7   4    100     0     amount 0 is a purchase; on the analysis day
 *    8   0     10    -1     refund before c0's first purchase
 *   (customer 3 has no rows)
 *
 * NET (default), TRANSACTIONS, SUM:
 *   c0: purchases 95, 95, 60: recency 100-95 = 5, frequency 3,
 *       monetary 5+7+3-1 = 14, tenure 100-60 = 40 (the refund on day 10
 *       is not a purchase: tenure is not 90).
 *   c1: purchases 90, 80: recency 10 (not 1: the refund on day 99 is not
 *       a purchase), frequency 2, monetary 10+20-4 = 26, tenure 20.
 *   c2: no purchase: recency NaN, frequency 0, monetary -3, tenure NaN,
 *       has_purchase 0.
 *   c3: nothing: NaN, 0, 0, NaN, 0.
 *   c4: recency 0, frequency 1, monetary 0, tenure 0, has 1.
 */
static const int32_t C1[9] = {1, 0, 1, 0, 2, 1, 0, 4, 0};
static const int64_t T1[9] = {90, 95, 80, 95, 50, 99, 60, 100, 10};
static const double A1[9] = {10, 5, 20, 7, -3, -4, 3, 0, -1};

START_TEST(test_days_net)
{
    seg_rfm *m = mk();
    agg a;
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    expect_cust(&a, 0, 5, 3, 14, 40, 1);
    expect_cust(&a, 1, 10, 2, 26, 20, 1);
    expect_cust(&a, 2, NAN, 0, -3, NAN, 0);
    expect_cust(&a, 3, NAN, 0, 0, NAN, 0);
    expect_cust(&a, 4, 0, 1, 0, 0, 1);
    seg_rfm_free(m);
}
END_TEST

/* Distinct purchase days: c0 bought on days 95, 95, 60 -> 2; c1 on 90, 80
 * -> 2; c4 -> 1. Refund days do not count (c2 stays 0). */
START_TEST(test_days_distinct_days)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS);
    agg a;
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    expect_cust(&a, 0, 5, 2, 14, 40, 1);
    expect_cust(&a, 1, 10, 2, 26, 20, 1);
    expect_cust(&a, 2, NAN, 0, -3, NAN, 0);
    expect_cust(&a, 3, NAN, 0, 0, NAN, 0);
    expect_cust(&a, 4, 0, 1, 0, 0, 1);
    seg_rfm_free(m);
}
END_TEST

/* MEAN = net sum / purchase rows: c0 14/3, c1 26/2 = 13, c4 0/1 = 0.
 * Customers without purchases keep the net of their refunds (c2 -3, c3 0).
 * With distinct-day frequency the divisor is still the purchase rows:
 * c0 14/3, not 14/2 = 7. */
START_TEST(test_monetary_mean)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_MONETARY, SEG_MONETARY_MEAN);
    agg a;
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    expect_cust(&a, 0, 5, 3, 14.0 / 3.0, 40, 1);
    expect_cust(&a, 1, 10, 2, 13, 20, 1);
    expect_cust(&a, 2, NAN, 0, -3, NAN, 0);
    expect_cust(&a, 3, NAN, 0, 0, NAN, 0);
    expect_cust(&a, 4, 0, 1, 0, 0, 1);
    setp(m, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS);
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    expect_cust(&a, 0, 5, 2, 14.0 / 3.0, 40, 1);
    seg_rfm_free(m);
}
END_TEST

/* DROP: rows 4, 5 and 8 vanish. c0 monetary 15; c1 30; c2 has no row left:
 * monetary 0. */
START_TEST(test_negative_drop)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_DROP);
    agg a;
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    expect_cust(&a, 0, 5, 3, 15, 40, 1);
    expect_cust(&a, 1, 10, 2, 30, 20, 1);
    expect_cust(&a, 2, NAN, 0, 0, NAN, 0);
    expect_cust(&a, 3, NAN, 0, 0, NAN, 0);
    expect_cust(&a, 4, 0, 1, 0, 0, 1);
    setp(m, SEG_RFM_PARAM_MONETARY, SEG_MONETARY_MEAN);
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    expect_cust(&a, 0, 5, 3, 5, 40, 1);
    expect_cust(&a, 1, 10, 2, 15, 20, 1);
    seg_rfm_free(m);
}
END_TEST

/* REJECT: the first negative amount is row 4. */
START_TEST(test_negative_reject)
{
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_REJECT);
    agg a;
    char err[256] = "";
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate(m, C1, T1, A1, 9, 100, 5, a.rec, a.freq, a.mon, a.ten,
                                       a.has, err, sizeof err),
                     SEG_EDATA);
    assert_canary(&a);
    ck_assert_msg(seg_test_names_row(err, 4), "\"%s\" does not name row 4", err);
    /* Without refunds it succeeds. */
    const int32_t c[3] = {0, 0, 1};
    const int64_t t[3] = {1, 2, 3};
    const double amt[3] = {1, 0, 2};
    agg_ok(m, c, t, amt, 3, 10, 2, &a);
    expect_cust(&a, 0, 8, 2, 1, 9, 1);
    expect_cust(&a, 1, 7, 1, 2, 7, 1);
    seg_rfm_free(m);
}
END_TEST

/* Future rows: row 9 is a purchase on day 101 > 100 (c0), row 10 a refund
 * on day 150 (c1). REJECT (default): SEG_EDATA naming row 9. IGNORE: both
 * skipped, results as in test_days_net. A row on the analysis day itself
 * (row 7) is not in the future. */
START_TEST(test_future)
{
    int32_t c[11];
    int64_t t[11];
    double amt[11];
    memcpy(c, C1, sizeof C1);
    memcpy(t, T1, sizeof T1);
    memcpy(amt, A1, sizeof A1);
    c[9] = 0;
    t[9] = 101;
    amt[9] = 50;
    c[10] = 1;
    t[10] = 150;
    amt[10] = -100;

    seg_rfm *m = mk();
    agg a;
    char err[256] = "";
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, amt, 11, 100, 5, a.rec, a.freq, a.mon, a.ten,
                                       a.has, err, sizeof err),
                     SEG_EDATA);
    assert_canary(&a);
    ck_assert_msg(seg_test_names_row(err, 9), "\"%s\" does not name row 9", err);

    setp(m, SEG_RFM_PARAM_FUTURE, SEG_FUTURE_IGNORE);
    agg_ok(m, c, t, amt, 11, 100, 5, &a);
    expect_cust(&a, 0, 5, 3, 14, 40, 1);
    expect_cust(&a, 1, 10, 2, 26, 20, 1);
    expect_cust(&a, 2, NAN, 0, -3, NAN, 0);
    expect_cust(&a, 3, NAN, 0, 0, NAN, 0);
    expect_cust(&a, 4, 0, 1, 0, 0, 1);

    /* A customer whose only purchase is in the future is a non-buyer. */
    const int32_t c2[1] = {0};
    const int64_t t2[1] = {200};
    const double a2[1] = {9};
    agg_ok(m, c2, t2, a2, 1, 100, 1, &a);
    expect_cust(&a, 0, NAN, 0, 0, NAN, 0);
    seg_rfm_free(m);
}
END_TEST

/* Seconds. Analysis 864000 s = day 10 (00:00 UTC).
 *   row cust       t (s)   day (floor t/86400)  amount
 *    0   0        820800    9  (9.5 days)        1.5
 *    1   0        259300    3                    2.5
 *    2   0        339200    3                    4
 *    3   1            -1   -1  (1969-12-31)      1
 *    4   1        -86399   -1                    1
 *    5   1             5    0                    1
 *    6   2        864000   10  (= analysis)      0
 * TRANSACTIONS:
 *   c0: recency (864000 - 820800)/86400 = 0.5, frequency 3, monetary 8,
 *       tenure (864000 - 259300)/86400 = 604700/86400.
 *   c1: recency (864000 - 5)/86400 = 863995/86400, frequency 3, monetary 3,
 *       tenure (864000 + 86399)/86400 = 950399/86400.
 *   c2: 0, 1, 0, 0.
 * DAYS: c0 {9, 3} -> 2; c1 {-1, 0} -> 2 (floor, not truncation toward 0,
 *   which would put -1 and -86399 on day 0 and give 1); c2 -> 1. */
START_TEST(test_seconds)
{
    const int32_t c[7] = {0, 0, 0, 1, 1, 1, 2};
    const int64_t t[7] = {820800, 259300, 339200, -1, -86399, 5, 864000};
    const double amt[7] = {1.5, 2.5, 4, 1, 1, 1, 0};
    seg_rfm *m = mk();
    setp(m, SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_SECONDS);
    agg a;
    agg_ok(m, c, t, amt, 7, 864000, 3, &a);
    ck_assert_double_eq(a.rec[0], 0.5);
    ck_assert_double_eq(a.freq[0], 3);
    ck_assert_double_eq(a.mon[0], 8);
    ck_assert_double_eq_tol(a.ten[0], 604700.0 / 86400.0, 1e-12);
    ck_assert_double_eq_tol(a.rec[1], 863995.0 / 86400.0, 1e-12);
    ck_assert_double_eq(a.freq[1], 3);
    ck_assert_double_eq(a.mon[1], 3);
    ck_assert_double_eq_tol(a.ten[1], 950399.0 / 86400.0, 1e-12);
    expect_cust(&a, 2, 0, 1, 0, 0, 1);
    ck_assert_int_eq(a.has[0], 1);
    ck_assert_int_eq(a.has[1], 1);

    setp(m, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS);
    agg_ok(m, c, t, amt, 7, 864000, 3, &a);
    ck_assert_double_eq(a.freq[0], 2);
    ck_assert_double_eq(a.freq[1], 2);
    ck_assert_double_eq(a.freq[2], 1);
    ck_assert_double_eq(a.rec[0], 0.5);

    /* A second after the analysis time is the future. */
    const int64_t late[1] = {864001};
    const int32_t c0[1] = {0};
    const double one[1] = {1};
    char err[128] = "";
    ck_assert_int_eq(seg_rfm_aggregate(m, c0, late, one, 1, 864000, 1, NULL, NULL, NULL, NULL,
                                       NULL, err, sizeof err),
                     SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 0), "\"%s\" does not name row 0", err);

    /* The same rows in days: the time unit really is used. Day 10 analysis,
     * customer 2 bought on day 10; in days t = 864000 is far in the future. */
    setp(m, SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_DAYS);
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, amt, 7, 10, 3, NULL, NULL, NULL, NULL, NULL, NULL,
                                       0),
                     SEG_EDATA);
    seg_rfm_free(m);
}
END_TEST

/* "Order of rows does not matter": the nine-row sample reversed gives
 * bit-identical outputs. */
START_TEST(test_order_rows)
{
    seg_rfm *m = mk();
    int32_t rc_[9];
    int64_t rt[9];
    double ra[9];
    for (size_t i = 0; i < 9; i++) {
        rc_[i] = C1[8 - i];
        rt[i] = T1[8 - i];
        ra[i] = A1[8 - i];
    }
    agg a, b;
    agg_ok(m, C1, T1, A1, 9, 100, 5, &a);
    agg_ok(m, rc_, rt, ra, 9, 100, 5, &b);
    ck_assert_mem_eq(&a, &b, sizeof a);
    seg_rfm_free(m);
}
END_TEST

/* The same for the monetary sum of doubles, where a running sum in row order
 * would depend on the order:
 *  - 1e16, 1, 1 sums to 1e16 + 2 exactly (a left-to-right sum gives 1e16 in
 *    this order: 1e16 + 1 rounds to even, twice; 1e16 + 2 in the reverse);
 *  - 0.1, 0.2, 0.3 (left to right 0.60000000000000009, right to left
 *    0.59999999999999998): all orders must agree. */
/* rfm.h: rows need not be sorted. Counts, times and int64 sums do not
 * depend on row order; double sums are accumulated in row order. */
START_TEST(test_order_sum)
{
    seg_rfm *m = mk();
    const int32_t c[3] = {0, 0, 0};
    const int64_t t[3] = {1, 2, 3};
    const double perm[3][3] = {{1e16, 1, 1}, {1, 1e16, 1}, {1, 1, 1e16}};
    for (int p = 0; p < 3; p++) {
        agg a;
        agg_ok(m, c, t, perm[p], 3, 3, 1, &a);
        double seq = (perm[p][0] + perm[p][1]) + perm[p][2];
        ck_assert_msg(a.mon[0] == seq, "order %d: sum %.17g, row-order sum %.17g", p, a.mon[0], seq);
        ck_assert(a.freq[0] == 3 && a.rec[0] == 0 && a.ten[0] == 2);
    }
    /* Minor units: exact whatever the order (10^16 + 1 + 1 cents). */
    const int64_t cents[3][3] = {{10000000000000000LL, 1, 1}, {1, 10000000000000000LL, 1},
                                 {1, 1, 10000000000000000LL}};
    for (int p = 0; p < 3; p++) {
        double mon = 0;
        ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, cents[p], 3, 3, 1, NULL, NULL, &mon, NULL,
                                                 NULL, NULL, 0),
                         SEG_OK);
        ck_assert_msg(mon == 10000000000000002.0, "order %d: %.17g", p, mon);
    }
    seg_rfm_free(m);
}
END_TEST

/* No rows: everybody is flagged. NULL arrays are fine when n_rows is 0. */
/* Extreme times: analysis - last exceeds INT64_MAX but is still exact as
 * an unsigned span (found by the numeric fuzz target as an int64 overflow). */
START_TEST(test_extreme_times)
{
    seg_rfm *m = mk();
    const int32_t c[2] = {0, 0};
    const int64_t t[2] = {INT64_MIN, INT64_MIN + 10};
    const double a[2] = {1, 2};
    double rec = 0, ten = 0;
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, a, 2, INT64_MAX, 1, &rec, NULL, NULL, &ten, NULL,
                                       NULL, 0),
                     SEG_OK);
    /* INT64_MAX - (INT64_MIN + 10) = 2^64 - 11, INT64_MAX - INT64_MIN = 2^64 - 1 */
    ck_assert(rec == (double)(UINT64_MAX - 10));
    ck_assert(ten == (double)UINT64_MAX);
    seg_rfm_free(m);
}
END_TEST

START_TEST(test_no_rows)
{
    seg_rfm *m = mk();
    agg a;
    agg_ok(m, NULL, NULL, NULL, 0, 100, 3, &a);
    for (size_t i = 0; i < 3; i++)
        expect_cust(&a, i, NAN, 0, 0, NAN, 0);
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, NULL, NULL, NULL, 0, 100, 3, a.rec, a.freq, a.mon,
                                             a.ten, a.has, NULL, 0),
                     SEG_OK);
    for (size_t i = 0; i < 3; i++)
        expect_cust(&a, i, NAN, 0, 0, NAN, 0);
    seg_rfm_free(m);
}
END_TEST

/* Any output may be NULL. */
START_TEST(test_null_outputs)
{
    seg_rfm *m = mk();
    ck_assert_int_eq(seg_rfm_aggregate(m, C1, T1, A1, 9, 100, 5, NULL, NULL, NULL, NULL, NULL,
                                       NULL, 0),
                     SEG_OK);
    agg a;
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate(m, C1, T1, A1, 9, 100, 5, NULL, NULL, a.mon, NULL, NULL,
                                       NULL, 0),
                     SEG_OK);
    ck_assert_double_eq(a.mon[0], 14);
    ck_assert_double_eq(a.mon[2], -3);
    ck_assert(a.rec[0] == CANARY_DBL);
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate(m, C1, T1, A1, 9, 100, 5, NULL, NULL, NULL, NULL, a.has,
                                       NULL, 0),
                     SEG_OK);
    ck_assert_int_eq(a.has[0], 1);
    ck_assert_int_eq(a.has[2], 0);
    ck_assert_int_eq(a.has[3], 0);
    ck_assert_int_eq(a.has[4], 1);
    ck_assert(a.mon[0] == CANARY_DBL);
    seg_rfm_free(m);
}
END_TEST

/* Bad input: every failure writes nothing. */
static void expect_fail(const seg_rfm *m, const int32_t *c, const int64_t *t, const double *amt,
                        size_t n_rows, int64_t analysis, size_t n_cust, int32_t code,
                        const char *column, long row)
{
    agg a;
    char err[256] = "";
    fill_canary(&a);
    int32_t rc = seg_rfm_aggregate(m, c, t, amt, n_rows, analysis, n_cust, a.rec, a.freq, a.mon,
                                   a.ten, a.has, err, sizeof err);
    ck_assert_msg(rc == code, "aggregate returned %d (%s), want %d", (int)rc, err, (int)code);
    assert_canary(&a);
    if (column)
        ck_assert_msg(seg_test_has_word(err, column), "\"%s\" does not name column %s", err,
                      column);
    if (row >= 0)
        ck_assert_msg(seg_test_names_row(err, (size_t)row), "\"%s\" does not name row %ld", err,
                      row);
}

START_TEST(test_bad_input)
{
    seg_rfm *m = mk();
    int32_t c[9];
    int64_t t[9];
    double amt[9];
    memcpy(c, C1, sizeof C1);
    memcpy(t, T1, sizeof T1);
    memcpy(amt, A1, sizeof A1);

    expect_fail(NULL, c, t, amt, 9, 100, 5, SEG_EINVAL, NULL, -1);
    expect_fail(m, NULL, t, amt, 9, 100, 5, SEG_EINVAL, NULL, -1);
    expect_fail(m, c, NULL, amt, 9, 100, 5, SEG_EINVAL, NULL, -1);
    expect_fail(m, c, t, NULL, 9, 100, 5, SEG_EINVAL, NULL, -1);
    expect_fail(m, c, t, amt, 9, 100, 0, SEG_EINVAL, NULL, -1);
    expect_fail(m, NULL, NULL, NULL, 0, 100, 0, SEG_EINVAL, NULL, -1);
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, amt, 9, 100, (size_t)INT32_MAX + 1, NULL, NULL,
                                       NULL, NULL, NULL, NULL, 0),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, amt, 9, 100, SIZE_MAX, NULL, NULL, NULL, NULL,
                                       NULL, NULL, 0),
                     SEG_EINVAL);

    /* Customer index out of range: negative, = n_customers, INT32_MIN. */
    c[2] = -1;
    expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "customer", 2);
    c[2] = C1[2];
    c[6] = 5;
    expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "customer", 6);
    c[6] = INT32_MIN;
    expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "customer", 6);
    c[6] = INT32_MAX;
    expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "customer", 6);
    c[6] = C1[6];
    /* The same rows are fine with more customers. */
    c[6] = 7;
    agg a;
    agg_ok(m, c, t, amt, 9, 100, 8, &a);
    expect_cust(&a, 7, 40, 1, 3, 40, 1);
    c[6] = C1[6];

    /* NaN / Inf amounts, in any policy. */
    for (int32_t neg = SEG_NEGATIVE_NET; neg <= SEG_NEGATIVE_REJECT; neg++) {
        setp(m, SEG_RFM_PARAM_NEGATIVE, neg);
        amt[1] = NAN;
        expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "amount", 1);
        amt[1] = INFINITY;
        expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "amount", 1);
        amt[1] = -INFINITY;
        expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "amount", 1);
        amt[1] = A1[1];
    }
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_NET);
    /* The last row bad: rows before it were fine, still nothing written. */
    amt[8] = NAN;
    expect_fail(m, c, t, amt, 9, 100, 5, SEG_EDATA, "amount", 8);
    amt[8] = A1[8];

    /* A NULL err_buf is fine on failure. */
    c[0] = 99;
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, amt, 9, 100, 5, NULL, NULL, NULL, NULL, NULL, NULL,
                                       0),
                     SEG_EDATA);
    /* err_cap 0 writes nothing. */
    char err[8] = "same";
    ck_assert_int_eq(seg_rfm_aggregate(m, c, t, amt, 9, 100, 5, NULL, NULL, NULL, NULL, NULL, err,
                                       0),
                     SEG_EDATA);
    ck_assert_str_eq(err, "same");
    c[0] = C1[0];

    /* The minor variant checks the same things. */
    int64_t cents[9];
    for (size_t i = 0; i < 9; i++)
        cents[i] = (int64_t)(A1[i] * 100);
    ck_assert_int_eq(seg_rfm_aggregate_minor(NULL, c, t, cents, 9, 100, 5, NULL, NULL, NULL, NULL,
                                             NULL, NULL, 0),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, NULL, 9, 100, 5, NULL, NULL, NULL, NULL,
                                             NULL, NULL, 0),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, cents, 9, 100, 0, NULL, NULL, NULL, NULL,
                                             NULL, NULL, 0),
                     SEG_EINVAL);
    c[3] = -7;
    char e2[256] = "";
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, cents, 9, 100, 5, a.rec, a.freq, a.mon,
                                             a.ten, a.has, e2, sizeof e2),
                     SEG_EDATA);
    SEG_ASSERT_NAMES(e2, "customer", 3);
    assert_canary(&a);
    c[3] = C1[3];
    t[5] = 1000; /* a future row (c1's refund) under FUTURE_REJECT */
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, cents, 9, 100, 5, a.rec, a.freq, a.mon,
                                             a.ten, a.has, e2, sizeof e2),
                     SEG_EDATA);
    ck_assert_msg(seg_test_names_row(e2, 5), "\"%s\" does not name row 5", e2);
    assert_canary(&a);
    seg_rfm_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Minor units. */

/* c0: 1000 rows of 10 cents and 1000 of 20 cents -> 30000 cents exactly
 * (the same amounts as doubles 0.1 and 0.2 do not sum to 300 exactly).
 * c1: 2^53 then 1 then 1 -> 2^53 + 2 = 9007199254740994 exactly (a double
 * running sum would round 2^53 + 1 down to 2^53 twice).
 * c2: refunds only, -250 and -50 -> -300, no purchase. */
START_TEST(test_minor_exact)
{
    enum { N = 2000 + 3 + 2 };
    int32_t *c = malloc(N * sizeof *c);
    int64_t *t = malloc(N * sizeof *t), *amt = malloc(N * sizeof *amt);
    ck_assert(c && t && amt);
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        c[n] = 0;
        t[n] = 10 + i % 7;
        amt[n++] = 10;
        c[n] = 0;
        t[n] = 20 + i % 5;
        amt[n++] = 20;
    }
    const int64_t big[3] = {INT64_C(9007199254740992), 1, 1};
    for (int i = 0; i < 3; i++) {
        c[n] = 1;
        t[n] = 50 + i;
        amt[n++] = big[i];
    }
    c[n] = 2;
    t[n] = 5;
    amt[n++] = -250;
    c[n] = 2;
    t[n] = 6;
    amt[n++] = -50;
    ck_assert_uint_eq(n, N);

    seg_rfm *m = mk();
    agg a;
    agg_minor_ok(m, c, t, amt, n, 100, 3, &a);
    /* c0: last purchase day 24 (20 + 4), first day 10. */
    expect_cust(&a, 0, 76, 2000, 30000, 90, 1);
    expect_cust(&a, 1, 48, 3, 9007199254740994.0, 50, 1);
    expect_cust(&a, 2, NAN, 0, -300, NAN, 0);

    /* Frequency in distinct days: c0 days 10..16 and 20..24 -> 12. */
    setp(m, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS);
    agg_minor_ok(m, c, t, amt, n, 100, 3, &a);
    ck_assert_double_eq(a.freq[0], 12);
    ck_assert_double_eq(a.freq[1], 3);
    /* MEAN: c0 30000 / 2000 = 15 cents; c1 (2^53 + 2) / 3 as a double. */
    setp(m, SEG_RFM_PARAM_MONETARY, SEG_MONETARY_MEAN);
    agg_minor_ok(m, c, t, amt, n, 100, 3, &a);
    ck_assert_double_eq(a.mon[0], 15);
    ck_assert_double_eq(a.mon[1], 9007199254740994.0 / 3.0);
    ck_assert_double_eq(a.mon[2], -300);

    /* DROP and REJECT work on the minor variant too. */
    setp(m, SEG_RFM_PARAM_MONETARY, SEG_MONETARY_SUM);
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_DROP);
    agg_minor_ok(m, c, t, amt, n, 100, 3, &a);
    expect_cust(&a, 2, NAN, 0, 0, NAN, 0);
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_REJECT);
    char err[256] = "";
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, amt, n, 100, 3, NULL, NULL, NULL, NULL, NULL,
                                             err, sizeof err),
                     SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, N - 2), "\"%s\" does not name row %d", err, N - 2);

    free(c);
    free(t);
    free(amt);
    seg_rfm_free(m);
}
END_TEST

START_TEST(test_minor_overflow)
{
    seg_rfm *m = mk();
    agg a;
    char err[256] = "";
    /* c1 purchases INT64_MAX then 1: the sum overflows. */
    const int32_t c[3] = {0, 1, 1};
    const int64_t t[3] = {1, 2, 3};
    const int64_t up[3] = {5, INT64_MAX, 1};
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, up, 3, 10, 2, a.rec, a.freq, a.mon, a.ten,
                                             a.has, err, sizeof err),
                     SEG_ERANGE);
    assert_canary(&a);
    ck_assert_str_ne(err, "");
    /* Refunds below INT64_MIN (NET): -INT64_MAX and -2. */
    const int64_t down[3] = {5, -INT64_MAX, -2};
    fill_canary(&a);
    ck_assert_int_eq(seg_rfm_aggregate_minor(m, c, t, down, 3, 10, 2, a.rec, a.freq, a.mon, a.ten,
                                             a.has, err, sizeof err),
                     SEG_ERANGE);
    assert_canary(&a);
    /* At the edge, no overflow: INT64_MAX - 1 and 1. */
    const int64_t edge[3] = {5, INT64_MAX - 1, 1};
    agg_minor_ok(m, c, t, edge, 3, 10, 2, &a);
    ck_assert_double_eq(a.mon[1], (double)INT64_MAX);
    /* DROP removes the refunds, so no overflow. */
    setp(m, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_DROP);
    agg_minor_ok(m, c, t, down, 3, 10, 2, &a);
    expect_cust(&a, 0, 9, 1, 5, 9, 1);
    expect_cust(&a, 1, NAN, 0, 0, NAN, 0);
    seg_rfm_free(m);
}
END_TEST

/* The double and minor variants agree on the nine-row sample in cents. */
START_TEST(test_minor_matches_double)
{
    seg_rfm *m = mk();
    int64_t cents[9];
    double euros100[9];
    for (size_t i = 0; i < 9; i++) {
        cents[i] = (int64_t)A1[i] * 100;
        euros100[i] = A1[i] * 100;
    }
    for (int32_t mode = SEG_MONETARY_SUM; mode <= SEG_MONETARY_MEAN; mode++) {
        setp(m, SEG_RFM_PARAM_MONETARY, mode);
        agg a, b;
        agg_ok(m, C1, T1, euros100, 9, 100, 5, &a);
        agg_minor_ok(m, C1, T1, cents, 9, 100, 5, &b);
        ck_assert_mem_eq(&a, &b, sizeof a);
    }
    seg_rfm_free(m);
}
END_TEST

static Suite *agg_suite(void)
{
    Suite *s = suite_create("rfm-aggregate");
    TCase *tc = tcase_create("days");
    tcase_add_test(tc, test_days_net);
    tcase_add_test(tc, test_days_distinct_days);
    tcase_add_test(tc, test_monetary_mean);
    tcase_add_test(tc, test_negative_drop);
    tcase_add_test(tc, test_negative_reject);
    tcase_add_test(tc, test_future);
    tcase_add_test(tc, test_order_rows);
    tcase_add_test(tc, test_order_sum);
    suite_add_tcase(s, tc);

    tc = tcase_create("seconds");
    tcase_add_test(tc, test_seconds);
    suite_add_tcase(s, tc);

    tc = tcase_create("edges");
    tcase_add_test(tc, test_no_rows);
    tcase_add_test(tc, test_extreme_times);
    tcase_add_test(tc, test_null_outputs);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("minor");
    tcase_add_test(tc, test_minor_exact);
    tcase_add_test(tc, test_minor_overflow);
    tcase_add_test(tc, test_minor_matches_double);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(agg_suite());
}
