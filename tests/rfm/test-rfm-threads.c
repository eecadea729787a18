/* SPDX-License-Identifier: MIT */
/*
 * One fitted model and one scheme shared by 8 threads. Each thread scores
 * its own slice of 200,000 random rows with seg_rfm_score and
 * seg_rfm_scheme_apply, many times, and in between runs seg_rfm_aggregate,
 * seg_rfm_get_thresholds, seg_rfm_save and a failing seg_rfm_score (error
 * message into its own buffer) on the same const model. Every result must be
 * identical to a single-threaded run. Meant to run under ThreadSanitizer
 * too (-Db_sanitize=thread).
 *
 * SEG_TEST_THREAD_ITERS overrides the number of rounds (default 40).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-main.h"

#define N_THREADS 8
#define N_ROWS 200000
#define N_TX 100000
#define N_CUST 10000

/* Shared, read-only once the threads start. */
static seg_rfm *model;
static seg_rfm_scheme *scheme;
static double *in_r, *in_f, *in_m;
static int32_t *tx_cust;
static int64_t *tx_time;
static double *tx_amount;

/* Single-threaded reference results. */
static int32_t *ref_r, *ref_f, *ref_m, *ref_cell, *ref_seg;
static double *ref_w;
static double *ref_rec, *ref_freq, *ref_mon, *ref_ten;
static uint8_t *ref_has;
static char *ref_text;
static size_t ref_text_len;
static double ref_thr[3][SEG_RFM_MAX_BINS];
static size_t ref_nthr[3];
static char ref_err[256];
static int iters = 40;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* The row with an Inf, for the concurrent error path. */
static const double inf_r[2] = {1, INFINITY}, ok_f[2] = {1, 2}, ok_m[2] = {1, 2};

static void setup_data(void)
{
    in_r = xmalloc(N_ROWS * sizeof *in_r);
    in_f = xmalloc(N_ROWS * sizeof *in_f);
    in_m = xmalloc(N_ROWS * sizeof *in_m);
    for (size_t i = 0; i < N_ROWS; i++) {
        in_r[i] = floor(rnd() * 730);
        in_f[i] = 1 + floor(rnd() * rnd() * 40);
        in_m[i] = floor(rnd() * rnd() * 500000) / 100;
        if (i % 997 == 5)
            in_f[i] = NAN; /* not scored: segment NONE */
    }
    tx_cust = xmalloc(N_TX * sizeof *tx_cust);
    tx_time = xmalloc(N_TX * sizeof *tx_time);
    tx_amount = xmalloc(N_TX * sizeof *tx_amount);
    for (size_t i = 0; i < N_TX; i++) {
        tx_cust[i] = (int32_t)(rnd() * (N_CUST - 10)); /* the last 10 never buy */
        tx_time[i] = 15000 + (int64_t)(rnd() * 700);
        tx_amount[i] = floor(rnd() * 20000) / 100 - (i % 50 == 0 ? 250 : 0);
    }

    ck_assert_int_eq(seg_rfm_new(&model, NULL), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(model, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_TIES), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(model, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(model, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_weights(model, 0.5, 0.3, 0.2), SEG_OK);
    /* Fitted on the first 50,000 rows, applied to all of them. */
    ck_assert_int_eq(seg_rfm_fit(model, in_r, in_f, in_m, 50000), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_new_builtin(&scheme, SEG_SCHEME_RFM10, NULL), SEG_OK);

    ref_r = xmalloc(N_ROWS * sizeof *ref_r);
    ref_f = xmalloc(N_ROWS * sizeof *ref_f);
    ref_m = xmalloc(N_ROWS * sizeof *ref_m);
    ref_cell = xmalloc(N_ROWS * sizeof *ref_cell);
    ref_seg = xmalloc(N_ROWS * sizeof *ref_seg);
    ref_w = xmalloc(N_ROWS * sizeof *ref_w);
    ck_assert_int_eq(seg_rfm_score(model, in_r, in_f, in_m, N_ROWS, ref_r, ref_f, ref_m, ref_cell,
                                   ref_w, NULL, 0),
                     SEG_OK);
    ck_assert_int_eq(
        seg_rfm_scheme_apply(scheme, ref_r, ref_f, ref_m, N_ROWS, ref_seg, NULL, 0), SEG_OK);
    /* The reference is not degenerate: several segments, NONE rows, all
     * five levels. */
    size_t none = 0, seg_used[16] = {0}, lvl[6] = {0};
    for (size_t i = 0; i < N_ROWS; i++) {
        if (ref_seg[i] == SEG_SEGMENT_NONE)
            none++;
        else
            seg_used[ref_seg[i]]++;
        lvl[ref_r[i]]++;
    }
    ck_assert_uint_gt(none, 100);
    size_t distinct = 0;
    for (size_t k = 0; k < 16; k++)
        distinct += seg_used[k] > 0;
    ck_assert_uint_ge(distinct, 6);
    for (size_t k = 1; k <= 5; k++)
        ck_assert_uint_gt(lvl[k], 1000);

    ref_rec = xmalloc(N_CUST * sizeof *ref_rec);
    ref_freq = xmalloc(N_CUST * sizeof *ref_freq);
    ref_mon = xmalloc(N_CUST * sizeof *ref_mon);
    ref_ten = xmalloc(N_CUST * sizeof *ref_ten);
    ref_has = xmalloc(N_CUST);
    ck_assert_int_eq(seg_rfm_aggregate(model, tx_cust, tx_time, tx_amount, N_TX, 15700, N_CUST,
                                       ref_rec, ref_freq, ref_mon, ref_ten, ref_has, NULL, 0),
                     SEG_OK);
    ck_assert_int_eq(ref_has[N_CUST - 1], 0);

    ck_assert_int_eq(seg_rfm_save(model, NULL, 0, &ref_text_len), SEG_OK);
    ref_text = xmalloc(ref_text_len + 1);
    ck_assert_int_eq(seg_rfm_save(model, ref_text, ref_text_len + 1, &ref_text_len), SEG_OK);
    for (int32_t d = 0; d < 3; d++)
        ck_assert_int_eq(seg_rfm_get_thresholds(model, d, ref_thr[d], SEG_RFM_MAX_BINS,
                                                &ref_nthr[d]),
                         SEG_OK);
    ck_assert_int_eq(seg_rfm_score(model, inf_r, ok_f, ok_m, 2, NULL, NULL, NULL, NULL, NULL,
                                   ref_err, sizeof ref_err),
                     SEG_EDATA);
    ck_assert_str_ne(ref_err, "");
}

static void teardown_data(void)
{
    seg_rfm_scheme_free(scheme);
    seg_rfm_free(model);
    void *all[] = {in_r,    in_f,    in_m,    tx_cust, tx_time, tx_amount, ref_r,  ref_f,
                   ref_m,   ref_cell, ref_seg, ref_w,   ref_rec, ref_freq,  ref_mon, ref_ten,
                   ref_has, ref_text};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

typedef struct job {
    size_t lo, hi;
    long mismatches;
    char first[200];
} job;

static void miss(job *j, const char *what, int round)
{
    if (j->mismatches++ == 0)
        snprintf(j->first, sizeof j->first, "rows %zu..%zu round %d: %s differs", j->lo, j->hi,
                 round, what);
}

static void *worker(void *arg)
{
    job *j = arg;
    size_t n = j->hi - j->lo;
    int32_t *r = malloc(n * sizeof *r), *f = malloc(n * sizeof *f), *m = malloc(n * sizeof *m);
    int32_t *cell = malloc(n * sizeof *cell), *seg = malloc(n * sizeof *seg);
    double *w = malloc(n * sizeof *w);
    double *rec = malloc(N_CUST * sizeof *rec), *freq = malloc(N_CUST * sizeof *freq);
    double *mon = malloc(N_CUST * sizeof *mon), *ten = malloc(N_CUST * sizeof *ten);
    uint8_t *has = malloc(N_CUST);
    char *text = malloc(ref_text_len + 1);
    if (!r || !f || !m || !cell || !seg || !w || !rec || !freq || !mon || !ten || !has || !text) {
        miss(j, "allocation", -1);
        goto out;
    }
    for (int round = 0; round < iters; round++) {
        /* Score in chunks of varying size (1 row up to the whole slice). */
        size_t chunk = round == 0 ? n : (size_t)1 << (round % 15);
        for (size_t at = 0; at < n; at += chunk) {
            size_t k = n - at < chunk ? n - at : chunk;
            if (seg_rfm_score(model, in_r + j->lo + at, in_f + j->lo + at, in_m + j->lo + at, k,
                              r + at, f + at, m + at, cell + at, w + at, NULL, 0) != SEG_OK)
                miss(j, "score status", round);
        }
        if (memcmp(r, ref_r + j->lo, n * sizeof *r) || memcmp(f, ref_f + j->lo, n * sizeof *f) ||
            memcmp(m, ref_m + j->lo, n * sizeof *m))
            miss(j, "R/F/M scores", round);
        if (memcmp(cell, ref_cell + j->lo, n * sizeof *cell))
            miss(j, "cells", round);
        if (memcmp(w, ref_w + j->lo, n * sizeof *w))
            miss(j, "weighted scores", round);
        if (seg_rfm_scheme_apply(scheme, r, f, m, n, seg, NULL, 0) != SEG_OK ||
            memcmp(seg, ref_seg + j->lo, n * sizeof *seg))
            miss(j, "segments", round);

        if (seg_rfm_aggregate(model, tx_cust, tx_time, tx_amount, N_TX, 15700, N_CUST, rec, freq,
                              mon, ten, has, NULL, 0) != SEG_OK ||
            memcmp(rec, ref_rec, N_CUST * sizeof *rec) ||
            memcmp(freq, ref_freq, N_CUST * sizeof *freq) ||
            memcmp(mon, ref_mon, N_CUST * sizeof *mon) ||
            memcmp(ten, ref_ten, N_CUST * sizeof *ten) || memcmp(has, ref_has, N_CUST))
            miss(j, "aggregate", round);

        size_t len = 0;
        if (seg_rfm_save(model, text, ref_text_len + 1, &len) != SEG_OK || len != ref_text_len ||
            memcmp(text, ref_text, len + 1))
            miss(j, "saved text", round);
        for (int32_t d = 0; d < 3; d++) {
            double t[SEG_RFM_MAX_BINS];
            size_t nt = 0;
            if (seg_rfm_get_thresholds(model, d, t, SEG_RFM_MAX_BINS, &nt) != SEG_OK ||
                nt != ref_nthr[d] || memcmp(t, ref_thr[d], nt * sizeof *t))
                miss(j, "thresholds", round);
        }
        if (seg_rfm_is_fitted(model) != 1)
            miss(j, "is_fitted", round);
        char err[256] = "";
        if (seg_rfm_score(model, inf_r, ok_f, ok_m, 2, NULL, NULL, NULL, NULL, NULL, err,
                          sizeof err) != SEG_EDATA ||
            strcmp(err, ref_err) != 0)
            miss(j, "error message", round);
        if (strcmp(seg_rfm_last_error(model), "") != 0)
            miss(j, "last_error (const calls must not set it)", round);
    }
out:
    free(r);
    free(f);
    free(m);
    free(cell);
    free(seg);
    free(w);
    free(rec);
    free(freq);
    free(mon);
    free(ten);
    free(has);
    free(text);
    return NULL;
}

START_TEST(test_shared_model)
{
    setup_data();
    pthread_t th[N_THREADS];
    job jobs[N_THREADS];
    for (size_t t = 0; t < N_THREADS; t++) {
        jobs[t].lo = N_ROWS * t / N_THREADS;
        jobs[t].hi = N_ROWS * (t + 1) / N_THREADS;
        jobs[t].mismatches = 0;
        jobs[t].first[0] = '\0';
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
    }
    for (size_t t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
    for (size_t t = 0; t < N_THREADS; t++)
        ck_assert_msg(jobs[t].mismatches == 0, "thread %zu: %ld mismatches; first: %s", t,
                      jobs[t].mismatches, jobs[t].first);
    /* The model and scheme are unchanged by all that. */
    size_t len = 0;
    char *after = xmalloc(ref_text_len + 1);
    ck_assert_int_eq(seg_rfm_save(model, after, ref_text_len + 1, &len), SEG_OK);
    ck_assert_str_eq(after, ref_text);
    free(after);
    teardown_data();
}
END_TEST

int main(void)
{
    const char *e = getenv("SEG_TEST_THREAD_ITERS");
    if (e && atoi(e) > 0)
        iters = atoi(e);
    Suite *s = suite_create("rfm-threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_shared_model);
    suite_add_tcase(s, tc);
    return seg_test_run(s);
}
