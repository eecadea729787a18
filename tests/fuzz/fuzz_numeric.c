/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the numeric entry points, driven by arrays decoded
 * from the input bytes (doubles with NaN/Inf/huge/subnormal values, int32
 * customer indices, int64 times, random options).
 *
 * The first byte picks an operation; the rest feeds its parameters and
 * arrays (fuzz_common.h's reader yields zeros past the end). Every call must
 * return a status without crashing, failures must leave the outputs
 * untouched, and successes are checked against small independent models of
 * the contracts in rfm.h, rfm_scheme.h and tiers.h:
 *
 *   0, 1  seg_rfm_aggregate / _minor: a row-order re-implementation of the
 *         documented semantics (status OK exactly when it says so; then
 *         every output bit for bit);
 *   2     seg_rfm_fit then seg_rfm_score: expected status; thresholds
 *         against R's type-7 quantile (R_COMPAT, TIES, MEDIAN), the mean
 *         (MEAN) or data values (RANK); scores 1..k / 0 on NaN, cell,
 *         weighted, monotone; the fitted model survives save/load;
 *   3     seg_rfm_fit_score: same status as fit; equal to fit + score for
 *         non-RANK dimensions; RANK bins monotone with ties in input order;
 *   4     schemes (built-in or random boxes): seg_rfm_scheme_apply against
 *         a first-box-wins model using the scheme's own boxes;
 *   5     seg_tiers_migration against counting by hand.
 */
#include "fuzz_common.h"

#include <float.h>

#define ERR_CAP 256
#define MAX_ROWS 96

/* ------------------------------------------------------------------------
 * Models
 * ---------------------------------------------------------------------- */

typedef struct model_cfg {
    int32_t bins[3], binning[3];
    int fixed_set[3]; /* FIXED with thresholds from set_thresholds */
    double fixed_thr[3][9];
    int n_fixed[3];
    int32_t time_unit, frequency, monetary, negative, future, missing;
    double w[3];
} model_cfg;

static int64_t get_param(const seg_rfm *m, int32_t key)
{
    int64_t v = 0;
    CHECK(seg_rfm_get_param(m, key, &v) == SEG_OK, "get_param(%d)", (int)key);
    return v;
}

/* Sets an option from the reader; out-of-range values must be SEG_ERANGE
 * and leave the option unchanged. */
static void set_param_fuzzed(seg_rfm *m, fz_reader *r, int32_t key, int64_t lo, int64_t hi)
{
    int64_t before = get_param(m, key);
    uint8_t sel = fz_u8(r);
    int64_t v = (sel % 16 == 15) ? (int64_t)fz_u64(r) : fz_range(r, lo, hi);
    int32_t rc = seg_rfm_set_param(m, key, v);
    if (v < lo || v > hi) {
        CHECK(rc == SEG_ERANGE, "set_param(%d, %lld) gave %d", (int)key, (long long)v, (int)rc);
        CHECK(get_param(m, key) == before, "failed set_param changed the option");
    } else {
        CHECK(rc == SEG_OK, "set_param(%d, %lld) gave %d", (int)key, (long long)v, (int)rc);
        CHECK(get_param(m, key) == v, "set_param did not stick");
    }
}

static seg_rfm *make_model(fz_reader *r)
{
    seg_rfm *m = NULL;
    CHECK(seg_rfm_new(&m, NULL) == SEG_OK, "seg_rfm_new");
    for (int d = 0; d < 3; d++) {
        set_param_fuzzed(m, r, SEG_RFM_PARAM_R_BINS + d, 2, 10);
        set_param_fuzzed(m, r, SEG_RFM_PARAM_R_BINNING + d, 1, 6);
        if (get_param(m, SEG_RFM_PARAM_R_BINNING + d) == SEG_BINNING_FIXED && (fz_u8(r) & 3)) {
            double t[10];
            size_t nt = (size_t)fz_range(r, 0, 10);
            double at = fz_double(r);
            for (size_t j = 0; j < nt; j++) {
                at += (fz_u8(r) % 8 == 0) ? 0.0 : (double)(1 + fz_u8(r) % 50);
                t[j] = (fz_u8(r) % 16 == 0) ? fz_double(r) : at;
            }
            int ok = nt >= 1 && nt <= 9;
            for (size_t j = 0; j < nt; j++)
                ok = ok && isfinite(t[j]) && (j == 0 || t[j] > t[j - 1]);
            int32_t rc = seg_rfm_set_thresholds(m, d, t, nt);
            if (nt < 1 || nt > 9)
                CHECK(rc == SEG_ERANGE, "set_thresholds with %zu gave %d", nt, (int)rc);
            else
                CHECK(rc == (ok ? SEG_OK : SEG_EINVAL), "set_thresholds gave %d (valid: %d)",
                      (int)rc, ok);
            if (rc == SEG_OK) {
                CHECK(get_param(m, SEG_RFM_PARAM_R_BINS + d) == (int64_t)nt + 1,
                      "set_thresholds: bins not %zu", nt + 1);
                double back[10];
                size_t nb = 0;
                CHECK(seg_rfm_get_thresholds(m, d, back, 10, &nb) == SEG_OK && nb == nt &&
                          memcmp(back, t, nt * sizeof *t) == 0,
                      "get_thresholds after set_thresholds");
            }
        }
    }
    set_param_fuzzed(m, r, SEG_RFM_PARAM_TIME_UNIT, 1, 2);
    set_param_fuzzed(m, r, SEG_RFM_PARAM_FREQUENCY, 1, 2);
    set_param_fuzzed(m, r, SEG_RFM_PARAM_MONETARY, 1, 2);
    set_param_fuzzed(m, r, SEG_RFM_PARAM_NEGATIVE, 1, 3);
    set_param_fuzzed(m, r, SEG_RFM_PARAM_FUTURE, 1, 2);
    set_param_fuzzed(m, r, SEG_RFM_PARAM_MISSING, 1, 2);
    if (fz_u8(r) & 1) {
        double w0 = fz_double(r), w1 = fz_double(r), w2 = fz_double(r);
        int32_t rc = seg_rfm_set_weights(m, w0, w1, w2);
        int ok = isfinite(w0) && isfinite(w1) && isfinite(w2);
        CHECK(rc == (ok ? SEG_OK : SEG_EINVAL), "set_weights gave %d", (int)rc);
    }
    return m;
}

/* Weights, read back through the saved text (there is no getter). */
static void model_weights(const seg_rfm *m, double w[3])
{
    size_t len = 0;
    CHECK(seg_rfm_save(m, NULL, 0, &len) == SEG_OK, "save size");
    char *t = fz_xmalloc(len + 1);
    CHECK(seg_rfm_save(m, t, len + 1, &len) == SEG_OK, "save");
    const char *p = strstr(t, "\nweights ");
    CHECK(p && sscanf(p, "\nweights %lf %lf %lf", &w[0], &w[1], &w[2]) == 3, "weights line");
    free(t);
}

static int32_t levels(const seg_rfm *m, int d)
{
    int64_t b = get_param(m, SEG_RFM_PARAM_R_BINNING + d);
    return b == SEG_BINNING_MEAN || b == SEG_BINNING_MEDIAN ? 2
                                                            : (int32_t)get_param(m, SEG_RFM_PARAM_R_BINS + d);
}

/* A save -> load -> save round trip must reproduce the text. */
static void check_roundtrip(const seg_rfm *m)
{
    size_t len = 0, len2 = 0;
    CHECK(seg_rfm_save(m, NULL, 0, &len) == SEG_OK, "save size");
    char *t = fz_xmalloc(len + 1);
    CHECK(seg_rfm_save(m, t, len + 1, &len) == SEG_OK, "save");
    seg_rfm *m2 = NULL;
    char err[ERR_CAP];
    int32_t rc = seg_rfm_load(&m2, t, len, NULL, err, sizeof err);
    if (rc != SEG_OK) {
        fprintf(stderr, "saved text:\n%s\n", t);
    }
    CHECK(rc == SEG_OK, "a fitted model's saved text does not load: %d: %s", (int)rc, err);
    CHECK(seg_rfm_save(m2, NULL, 0, &len2) == SEG_OK && len2 == len, "re-save length");
    char *t2 = fz_xmalloc(len2 + 1);
    CHECK(seg_rfm_save(m2, t2, len2 + 1, &len2) == SEG_OK, "re-save");
    CHECK(memcmp(t, t2, len) == 0, "save/load/save differs:\n%s\n---\n%s", t, t2);
    free(t);
    free(t2);
    seg_rfm_free(m2);
}

/* ------------------------------------------------------------------------
 * Fuzzed arrays
 * ---------------------------------------------------------------------- */

static double rfm_value(fz_reader *r)
{
    uint8_t sel = fz_u8(r);
    if (sel < 160)
        return (double)(sel % 12); /* many ties */
    if (sel < 200)
        return (double)fz_range(r, 0, 400) / 4.0;
    return fz_double(r);
}

static int64_t fz_time(fz_reader *r)
{
    uint8_t sel = fz_u8(r);
    if (sel < 200)
        return (int64_t)(sel % 50) * ((sel & 1) ? 86400 / 2 : 1);
    if (sel < 240)
        return fz_range(r, -200000, 200000);
    static const int64_t ext[] = {INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
                                  (int64_t)1 << 62, -((int64_t)1 << 62), 86399, -86401};
    if (sel < 250)
        return ext[sel % 8];
    return (int64_t)fz_u64(r);
}

/* ------------------------------------------------------------------------
 * 0/1: aggregation
 * ---------------------------------------------------------------------- */

static int64_t floor_day(int64_t t, int32_t unit)
{
    if (unit == SEG_TIME_DAYS)
        return t;
    int64_t d = t / 86400;
    return (t % 86400 < 0) ? d - 1 : d;
}

static void op_aggregate(fz_reader *r, int minor)
{
    seg_rfm *m = make_model(r);
    const int32_t unit = (int32_t)get_param(m, SEG_RFM_PARAM_TIME_UNIT);
    const int32_t freq_days = get_param(m, SEG_RFM_PARAM_FREQUENCY) == SEG_FREQUENCY_DAYS;
    const int32_t mean = get_param(m, SEG_RFM_PARAM_MONETARY) == SEG_MONETARY_MEAN;
    const int32_t negative = (int32_t)get_param(m, SEG_RFM_PARAM_NEGATIVE);
    const int32_t fut_ignore = get_param(m, SEG_RFM_PARAM_FUTURE) == SEG_FUTURE_IGNORE;

    uint8_t sel = fz_u8(r);
    size_t n_cust = (sel == 255) ? 0 : (sel == 254) ? (size_t)INT32_MAX + 1 : 1 + sel % 24;
    size_t n_rows = (size_t)fz_range(r, 0, MAX_ROWS);
    int64_t analysis = (fz_u8(r) < 230) ? 40 + fz_range(r, 0, 20) * ((unit == 2) ? 86400 : 1)
                                        : fz_time(r);
    int32_t *cust = fz_xmalloc(n_rows * sizeof *cust);
    int64_t *tm = fz_xmalloc(n_rows * sizeof *tm);
    double *amt = fz_xmalloc(n_rows * sizeof *amt);
    int64_t *amt_i = fz_xmalloc(n_rows * sizeof *amt_i);
    for (size_t i = 0; i < n_rows; i++) {
        uint8_t c = fz_u8(r);
        cust[i] = (c < 250 && n_cust > 0 && n_cust <= 64) ? (int32_t)(c % n_cust)
                  : (c < 253)                             ? (int32_t)fz_u32(r)
                                                          : -1;
        tm[i] = fz_time(r);
        if (minor) {
            uint8_t a = fz_u8(r);
            amt_i[i] = a < 200 ? (int64_t)a - 40
                       : a < 240 ? (int64_t)fz_range(r, -1000000, 1000000)
                       : a < 250 ? ((a & 1) ? INT64_MAX - (a % 5) : INT64_MIN + (a % 5))
                                 : (int64_t)fz_u64(r);
        } else {
            uint8_t a = fz_u8(r);
            amt[i] = a < 200 ? (double)a - 40.0 + 0.25 : fz_double(r);
        }
    }
    /* Output masks: which outputs are passed. */
    uint8_t mask = fz_u8(r);

    /* Reference: the contract of rfm.h, row by row in input order. */
    int ref_ok = n_cust >= 1 && n_cust <= 64;
    size_t nc = ref_ok ? n_cust : 1;
    int64_t *last = calloc(nc, sizeof *last), *first = calloc(nc, sizeof *first);
    uint32_t *count = calloc(nc, sizeof *count);
    double *sum_d = calloc(nc, sizeof *sum_d);
    __int128 *sum_i = calloc(nc, sizeof *sum_i);
    CHECK(last && first && count && sum_d && sum_i, "calloc");
    for (size_t i = 0; ref_ok && i < n_rows; i++) {
        int32_t c = cust[i];
        if (c < 0 || (size_t)c >= n_cust) {
            ref_ok = 0;
            break;
        }
        if (tm[i] > analysis) {
            if (fut_ignore)
                continue;
            ref_ok = 0;
            break;
        }
        if (!minor && !isfinite(amt[i])) {
            ref_ok = 0;
            break;
        }
        int purchase = minor ? amt_i[i] >= 0 : amt[i] >= 0;
        if (!purchase) {
            if (negative == SEG_NEGATIVE_REJECT) {
                ref_ok = 0;
                break;
            }
            if (negative == SEG_NEGATIVE_DROP)
                continue;
        }
        if (minor) {
            sum_i[c] += amt_i[i];
            if (sum_i[c] > INT64_MAX || sum_i[c] < INT64_MIN) {
                ref_ok = 0;
                break;
            }
        } else {
            sum_d[c] += amt[i];
        }
        if (purchase) {
            if (count[c] == 0 || tm[i] > last[c])
                last[c] = tm[i];
            if (count[c] == 0 || tm[i] < first[c])
                first[c] = tm[i];
            count[c]++;
        }
    }

    size_t no = n_cust >= 1 && n_cust <= 64 ? n_cust : 1;
    double *o_r = fz_xmalloc(no * sizeof(double)), *o_f = fz_xmalloc(no * sizeof(double));
    double *o_m = fz_xmalloc(no * sizeof(double)), *o_t = fz_xmalloc(no * sizeof(double));
    uint8_t *o_h = fz_xmalloc(no);
    for (size_t c = 0; c < no; c++) {
        o_r[c] = o_f[c] = o_m[c] = o_t[c] = -12345.0;
        o_h[c] = 77;
    }
    char err[ERR_CAP];
    int32_t rc;
    if (minor)
        rc = seg_rfm_aggregate_minor(m, cust, tm, amt_i, n_rows, analysis, n_cust,
                                     (mask & 1) ? o_r : NULL, (mask & 2) ? o_f : NULL,
                                     (mask & 4) ? o_m : NULL, (mask & 8) ? o_t : NULL,
                                     (mask & 16) ? o_h : NULL, err, sizeof err);
    else
        rc = seg_rfm_aggregate(m, cust, tm, amt, n_rows, analysis, n_cust,
                               (mask & 1) ? o_r : NULL, (mask & 2) ? o_f : NULL,
                               (mask & 4) ? o_m : NULL, (mask & 8) ? o_t : NULL,
                               (mask & 16) ? o_h : NULL, err, sizeof err);
    if (n_cust == 0 || n_cust > INT32_MAX)
        CHECK(rc == SEG_EINVAL, "n_customers %zu gave %d", n_cust, (int)rc);
    else if (!ref_ok)
        CHECK(rc == SEG_EDATA || rc == SEG_ERANGE, "bad data gave %d (%s)", (int)rc,
              rc == SEG_OK ? "OK" : err);
    else
        CHECK(rc == SEG_OK, "valid data gave %d: %s", (int)rc, err);
    if (rc != SEG_OK) {
        fz_check_msg(err, sizeof err, "aggregate");
        for (size_t c = 0; c < no; c++)
            CHECK(o_r[c] == -12345.0 && o_f[c] == -12345.0 && o_m[c] == -12345.0 &&
                      o_t[c] == -12345.0 && o_h[c] == 77,
                  "failed aggregate wrote customer %zu", c);
    } else {
        const double u = unit == SEG_TIME_SECONDS ? 86400.0 : 1.0;
        for (size_t c = 0; c < n_cust; c++) {
            int has = count[c] > 0;
            /* first <= last <= analysis: the differences lie in 0..2^64-1 */
            double want_r = has ? (double)(uint64_t)((__int128)analysis - last[c]) / u : NAN;
            double want_t = has ? (double)(uint64_t)((__int128)analysis - first[c]) / u : NAN;
            double want_f = count[c];
            if (freq_days && has) {
                int64_t days[MAX_ROWS];
                size_t nd = 0;
                for (size_t i = 0; i < n_rows; i++) {
                    int purchase = minor ? amt_i[i] >= 0 : amt[i] >= 0;
                    if (cust[i] != (int32_t)c || !purchase || tm[i] > analysis)
                        continue;
                    int64_t d = floor_day(tm[i], unit);
                    size_t k = 0;
                    while (k < nd && days[k] != d)
                        k++;
                    if (k == nd)
                        days[nd++] = d;
                }
                want_f = (double)nd;
            }
            double sum = minor ? (double)(int64_t)sum_i[c] : sum_d[c];
            double want_m = mean && has ? sum / (double)count[c] : sum;
#define SAME(a, b) ((a) == (b) || (isnan(a) && isnan(b)))
            if (mask & 1)
                CHECK(SAME(o_r[c], want_r), "customer %zu: recency %.17g, want %.17g", c, o_r[c],
                      want_r);
            if (mask & 8)
                CHECK(SAME(o_t[c], want_t), "customer %zu: tenure %.17g, want %.17g", c, o_t[c],
                      want_t);
            if (mask & 2)
                CHECK(o_f[c] == want_f, "customer %zu: frequency %g, want %g", c, o_f[c], want_f);
            if (mask & 4)
                CHECK(SAME(o_m[c], want_m), "customer %zu: monetary %.17g, want %.17g", c,
                      o_m[c], want_m);
            if (mask & 16)
                CHECK(o_h[c] == has, "customer %zu: has_purchase %u, want %d", c,
                      (unsigned)o_h[c], has);
            if ((mask & 1) && (mask & 8) && has)
                CHECK(o_t[c] >= o_r[c] && o_r[c] >= 0, "customer %zu: tenure %g < recency %g",
                      c, o_t[c], o_r[c]);
#undef SAME
        }
    }
    free(last);
    free(first);
    free(count);
    free(sum_d);
    free(sum_i);
    free(o_r);
    free(o_f);
    free(o_m);
    free(o_t);
    free(o_h);
    free(cust);
    free(tm);
    free(amt);
    free(amt_i);
    seg_rfm_free(m);
}

/* ------------------------------------------------------------------------
 * 2/3: fitting and scoring
 * ---------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Orders row indices by sort_x[] then by index (qsort is not stable). */
static const double *sort_x;

static int cmp_by_value(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    double x = sort_x[a], y = sort_x[b];
    if (x < y)
        return -1;
    if (x > y)
        return 1;
    return a < b ? -1 : a > b ? 1 : 0;
}

/* R's type-7 quantile of sorted s[0..n) at p (quantile.default). */
static double type7(const double *s, size_t n, double p)
{
    double index = 1.0 + (double)(n - 1) * p;
    double lo = floor(index), hi = ceil(index);
    double q = s[(size_t)lo - 1], qh = s[(size_t)hi - 1];
    if (index > lo && qh != q) {
        double h = index - lo;
        q = (1.0 - h) * q + h * qh;
        /* The value lies between two finite order statistics: near
         * +-DBL_MAX the rounded sum may overflow; the nearest double is
         * then +-DBL_MAX. */
        q = q > DBL_MAX ? DBL_MAX : q < -DBL_MAX ? -DBL_MAX : q;
    }
    return q;
}

/* Checks one fitted dimension's thresholds against the kept values. */
static void check_thresholds(const seg_rfm *m, int d, const double *kept_sorted, size_t kept,
                             double mean_sum)
{
    double t[10];
    size_t nt = 0;
    int64_t binning = get_param(m, SEG_RFM_PARAM_R_BINNING + d);
    int32_t rc = seg_rfm_get_thresholds(m, d, t, 10, &nt);
    if (binning == SEG_BINNING_FIXED) {
        CHECK(rc == SEG_OK || rc == SEG_ESTATE, "fixed dim %d: get_thresholds %d", d, (int)rc);
        return;
    }
    CHECK(rc == SEG_OK, "dim %d fitted but get_thresholds gave %d", d, (int)rc);
    int32_t k = levels(m, d);
    CHECK(nt == (size_t)k - 1, "dim %d: %zu thresholds for %d levels", d, nt, (int)k);
    for (size_t j = 0; j < nt; j++) {
        CHECK(isfinite(t[j]), "dim %d (binning %d): threshold %zu = %g from finite data", d,
              (int)binning, j, t[j]);
        CHECK(j == 0 || t[j] >= t[j - 1], "dim %d: thresholds decrease", d);
    }
    const double lo = kept_sorted[0], hi = kept_sorted[kept - 1];
    switch (binning) {
    case SEG_BINNING_R_COMPAT:
    case SEG_BINNING_TIES:
        for (size_t j = 0; j < nt; j++) {
            double q = type7(kept_sorted, kept, (double)(j + 1) * (1.0 / (double)k));
            if (binning == SEG_BINNING_R_COMPAT)
                q += 1.0;
            CHECK(t[j] == q, "dim %d binning %d: threshold %zu = %.17g, type 7 gives %.17g", d,
                  (int)binning, j, t[j], q);
        }
        break;
    case SEG_BINNING_MEDIAN: {
        double q = type7(kept_sorted, kept, 0.5);
        CHECK(t[0] == q, "dim %d: median cut %.17g, want %.17g", d, t[0], q);
        break;
    }
    case SEG_BINNING_MEAN: {
        double tol = 1e-9 * (fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi));
        CHECK(t[0] >= lo - tol && t[0] <= hi + tol, "dim %d: mean cut %.17g outside [%g, %g]", d,
              t[0], lo, hi);
        (void)mean_sum;
        break;
    }
    case SEG_BINNING_RANK:
        for (size_t j = 0; j < nt; j++) {
            CHECK(bsearch(&t[j], kept_sorted, kept, sizeof *kept_sorted, cmp_double) != NULL,
                  "dim %d: rank threshold %.17g is not a data value", d, t[j]);
        }
        break;
    default:
        break;
    }
}

typedef struct scores {
    int32_t *r, *f, *m, *cell;
    double *w;
} scores;

static void scores_alloc(scores *s, size_t n)
{
    s->r = fz_xmalloc(n * sizeof(int32_t));
    s->f = fz_xmalloc(n * sizeof(int32_t));
    s->m = fz_xmalloc(n * sizeof(int32_t));
    s->cell = fz_xmalloc(n * sizeof(int32_t));
    s->w = fz_xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        s->r[i] = s->f[i] = s->m[i] = s->cell[i] = -77;
        s->w[i] = -77.0;
    }
}

static void scores_free(scores *s)
{
    free(s->r);
    free(s->f);
    free(s->m);
    free(s->cell);
    free(s->w);
}

static void scores_untouched(const scores *s, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        CHECK(s->r[i] == -77 && s->f[i] == -77 && s->m[i] == -77 && s->cell[i] == -77 &&
                  s->w[i] == -77.0,
              "%s failed but wrote row %zu", what, i);
}

/* Scores 0..k, 0 exactly on NaN rows, cell and weighted consistent,
 * monotone in each dimension (ties: rank_ties lets equal values differ
 * only in input order). */
static void check_scores(const seg_rfm *m, const double *const col[3], size_t n, const scores *s,
                         const int rank_ties[3], const char *what)
{
    int32_t k[3] = {levels(m, 0), levels(m, 1), levels(m, 2)};
    double w[3];
    model_weights(m, w);
    const int32_t *sc[3] = {s->r, s->f, s->m};
    for (size_t i = 0; i < n; i++) {
        int nan = isnan(col[0][i]) || isnan(col[1][i]) || isnan(col[2][i]);
        if (nan) {
            CHECK(s->r[i] == 0 && s->f[i] == 0 && s->m[i] == 0 && s->cell[i] == 0 && isnan(s->w[i]),
                  "%s: row %zu with NaN scores %d %d %d cell %d w %g", what, i, (int)s->r[i],
                  (int)s->f[i], (int)s->m[i], (int)s->cell[i], s->w[i]);
            continue;
        }
        for (int d = 0; d < 3; d++)
            CHECK(sc[d][i] >= 1 && sc[d][i] <= k[d], "%s: row %zu dim %d (%.17g): score %d of %d",
                  what, i, d, col[d][i], (int)sc[d][i], (int)k[d]);
        CHECK(s->cell[i] == 100 * s->r[i] + 10 * s->f[i] + s->m[i], "%s: row %zu cell %d", what,
              i, (int)s->cell[i]);
        double want = w[0] * s->r[i] + w[1] * s->f[i] + w[2] * s->m[i];
        double mag = fabs(w[0] * s->r[i]) + fabs(w[1] * s->f[i]) + fabs(w[2] * s->m[i]);
        CHECK(s->w[i] == want || (!isfinite(s->w[i]) && !isfinite(want)) ||
                  (!isfinite(mag) && !isnan(s->w[i])) ||
                  fabs(s->w[i] - want) <= 1e-12 * (mag + 1.0),
              "%s: row %zu weighted %.17g, want %.17g", what, i, s->w[i], want);
    }
    /* Monotone: rows sorted by (value, input position); scores must not
     * fall along it (frequency, monetary) or rise (recency). Equal values
     * share a score except under rank_ties, where input order decides. */
    size_t *ord = fz_xmalloc(n * sizeof *ord);
    for (int d = 0; d < 3; d++) {
        const double *x = col[d];
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++)
            if (sc[d][i] != 0)
                ord[cnt++] = i;
        sort_x = x;
        qsort(ord, cnt, sizeof *ord, cmp_by_value);
        for (size_t q = 1; q < cnt; q++) {
            size_t i = ord[q - 1], j = ord[q];
            int32_t a = sc[d][i], b = sc[d][j];
            int ok = d == 0 ? a >= b : a <= b;
            if (x[i] == x[j] && !rank_ties[d])
                ok = a == b;
            CHECK(ok, "%s: dim %d: %.17g (row %zu) scores %d, %.17g (row %zu) scores %d", what, d,
                  x[i], i, (int)a, x[j], j, (int)b);
        }
    }
    free(ord);
}

/* Expected status of fit: EINVAL for n = 0, EDATA for Inf, for NaN under
 * reject and when no row is left. */
static int32_t expected_fit(const seg_rfm *m, const double *const col[3], size_t n, size_t *kept)
{
    *kept = 0;
    if (n == 0)
        return SEG_EINVAL;
    int reject = get_param(m, SEG_RFM_PARAM_MISSING) == SEG_MISSING_REJECT;
    for (size_t i = 0; i < n; i++) {
        int nan = 0;
        for (int d = 0; d < 3; d++) {
            if (isinf(col[d][i]))
                return SEG_EDATA;
            nan |= isnan(col[d][i]);
        }
        if (nan && reject)
            return SEG_EDATA;
        *kept += !nan;
    }
    return *kept ? SEG_OK : SEG_EDATA;
}

static void op_fit(fz_reader *r, int fit_score)
{
    seg_rfm *m = make_model(r);
    /* Mostly small; sometimes around one scoring block (1024 rows): both
     * sides of the border, without paying for thousands of rows. */
    size_t n = fz_u8(r) < 24 ? (size_t)fz_range(r, 1000, 1100) : (size_t)fz_range(r, 0, MAX_ROWS);
    size_t n2 = (size_t)fz_range(r, 0, 24);
    double *x[3], *y[3];
    for (int d = 0; d < 3; d++) {
        x[d] = fz_xmalloc(n * sizeof(double));
        y[d] = fz_xmalloc(n2 * sizeof(double));
    }
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 3; d++)
            x[d][i] = rfm_value(r);
    for (size_t i = 0; i < n2; i++)
        for (int d = 0; d < 3; d++)
            y[d][i] = rfm_value(r);
    const double *const col[3] = {x[0], x[1], x[2]};
    const double *const col2[3] = {y[0], y[1], y[2]};
    size_t kept = 0;
    int32_t want = expected_fit(m, col, n, &kept);
    /* FIXED dimensions without thresholds stay unfitted. */
    int unfitted_fixed = 0;
    for (int d = 0; d < 3; d++) {
        size_t nt;
        if (get_param(m, SEG_RFM_PARAM_R_BINNING + d) == SEG_BINNING_FIXED &&
            seg_rfm_get_thresholds(m, d, NULL, 0, &nt) == SEG_ESTATE)
            unfitted_fixed = 1;
    }

    int rank_ties[3] = {0, 0, 0};
    scores s;
    scores_alloc(&s, n);
    char err[ERR_CAP];
    int32_t rc;
    if (fit_score) {
        rc = seg_rfm_fit_score(m, x[0], x[1], x[2], n, s.r, s.f, s.m, s.cell, s.w);
        for (int d = 0; d < 3; d++)
            rank_ties[d] = get_param(m, SEG_RFM_PARAM_R_BINNING + d) == SEG_BINNING_RANK;
        if (want == SEG_OK && unfitted_fixed)
            CHECK(rc == SEG_ESTATE, "fit_score with an unfitted FIXED dimension gave %d "
                  "(fit + score gives SEG_ESTATE)", (int)rc);
        else
            CHECK(rc == want, "fit_score gave %d, want %d (%s)", (int)rc, (int)want,
                  seg_rfm_last_error(m));
    } else {
        rc = seg_rfm_fit(m, x[0], x[1], x[2], n);
        CHECK(rc == want, "fit gave %d, want %d (%s)", (int)rc, (int)want, seg_rfm_last_error(m));
    }
    if (rc != SEG_OK) {
        scores_untouched(&s, n, "fit_score");
        goto done;
    }

    /* Thresholds against independent computations on the kept rows. */
    {
        double *ks = fz_xmalloc(kept * sizeof(double));
        for (int d = 0; d < 3; d++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (!isnan(x[0][i]) && !isnan(x[1][i]) && !isnan(x[2][i]))
                    ks[k++] = x[d][i];
            qsort(ks, kept, sizeof *ks, cmp_double);
            check_thresholds(m, d, ks, kept, 0.0);
        }
        free(ks);
    }

    if (fit_score) {
        check_scores(m, col, n, &s, rank_ties, "fit_score");
        /* Dimensions not using RANK: the same as seg_rfm_score. */
        scores t;
        scores_alloc(&t, n);
        rc = seg_rfm_score(m, x[0], x[1], x[2], n, t.r, t.f, t.m, t.cell, t.w, err, sizeof err);
        if (!unfitted_fixed) {
            CHECK(rc == SEG_OK, "score after fit_score gave %d: %s", (int)rc, err);
            for (size_t i = 0; i < n; i++) {
                const int32_t *a[3] = {s.r, s.f, s.m}, *b[3] = {t.r, t.f, t.m};
                for (int d = 0; d < 3; d++)
                    if (!rank_ties[d])
                        CHECK(a[d][i] == b[d][i], "row %zu dim %d: fit_score %d, score %d", i, d,
                              (int)a[d][i], (int)b[d][i]);
            }
            /* RANK: rows with score <= j number exactly like pandas qcut (up to
             * one row of rounding in the edge). */
            for (int d = 0; d < 3; d++) {
                if (!rank_ties[d])
                    continue;
                int32_t k = levels(m, d);
                const int32_t *sc = d == 0 ? s.r : d == 1 ? s.f : s.m;
                for (int32_t j = 1; j < k; j++) {
                    size_t cnt = 0;
                    for (size_t i = 0; i < n; i++) {
                        if (sc[i] == 0)
                            continue;
                        int32_t bin = d == 0 ? k + 1 - sc[i] : sc[i];
                        cnt += bin <= j;
                    }
                    size_t want_c = 1 + ((kept - 1) * (size_t)j) / (size_t)k;
                    CHECK(cnt + 1 >= want_c && cnt <= want_c + 1,
                          "dim %d: %zu of %zu rows in bins 1..%d, equal-count split gives %zu", d,
                          cnt, kept, (int)j, want_c);
                }
            }
        }
        scores_free(&t);
    }

    /* Score new rows (and the population for fit). */
    for (int pass = 0; pass < 2; pass++) {
        const double *const *c = pass ? col2 : col;
        size_t nn = pass ? n2 : n;
        if (pass == 0 && fit_score)
            continue;
        scores t;
        scores_alloc(&t, nn);
        rc = seg_rfm_score(m, c[0], c[1], c[2], nn, t.r, t.f, t.m, t.cell, t.w, err, sizeof err);
        int any_inf = 0, any_nan = 0;
        for (size_t i = 0; i < nn; i++)
            for (int d = 0; d < 3; d++) {
                any_inf |= isinf(c[d][i]);
                any_nan |= isnan(c[d][i]);
            }
        int reject = get_param(m, SEG_RFM_PARAM_MISSING) == SEG_MISSING_REJECT;
        if (nn == 0)
            CHECK(rc == SEG_OK, "score of 0 rows gave %d", (int)rc);
        else if (unfitted_fixed)
            CHECK(rc == SEG_ESTATE || (rc == SEG_EDATA && (any_inf || (any_nan && reject))),
                  "score with an unfitted dimension gave %d", (int)rc);
        else if (any_inf || (any_nan && reject))
            CHECK(rc == SEG_EDATA, "score of bad data gave %d", (int)rc);
        else
            CHECK(rc == SEG_OK, "score gave %d: %s", (int)rc, err);
        if (rc == SEG_OK) {
            int none[3] = {0, 0, 0};
            check_scores(m, c, nn, &t, none, "score");
        } else {
            scores_untouched(&t, nn, "score");
        }
        scores_free(&t);
    }

    if (seg_rfm_is_fitted(m))
        check_roundtrip(m);

done:
    scores_free(&s);
    for (int d = 0; d < 3; d++) {
        free(x[d]);
        free(y[d]);
    }
    seg_rfm_free(m);
}

/* ------------------------------------------------------------------------
 * 4: schemes
 * ---------------------------------------------------------------------- */

static void op_scheme(fz_reader *r)
{
    seg_rfm_scheme *sc = NULL;
    uint8_t which = fz_u8(r);
    int32_t rc;
    if (which % 4 != 0) {
        rc = seg_rfm_scheme_new_builtin(&sc, which % 4, NULL);
        CHECK(rc == SEG_OK, "builtin %d gave %d", which % 4, (int)rc);
    } else {
        int32_t lv = (int32_t)fz_range(r, 0, 11);
        rc = seg_rfm_scheme_new(&sc, lv, "others", "Others", NULL);
        if (lv < 2 || lv > 10) {
            CHECK(rc == SEG_ERANGE && sc == NULL, "levels %d gave %d", (int)lv, (int)rc);
            return;
        }
        CHECK(rc == SEG_OK, "scheme_new(%d) gave %d", (int)lv, (int)rc);
        int nb = (int)fz_range(r, 0, 12);
        for (int b = 0; b < nb; b++) {
            int32_t v[6];
            int ok = 1;
            for (int j = 0; j < 6; j++)
                v[j] = (int32_t)fz_range(r, 0, lv + 1);
            for (int j = 0; j < 6; j += 2)
                ok = ok && v[j] >= 1 && v[j] <= v[j + 1] && v[j + 1] <= lv;
            char id[16];
            uint8_t dup = fz_u8(r);
            snprintf(id, sizeof id, "seg%d", (dup % 8 == 0 && b > 0) ? b - 1 : b);
            if (dup % 16 == 1)
                snprintf(id, sizeof id, "others");
            int32_t before = seg_rfm_scheme_others(sc);
            int32_t exists = 0, tmp;
            exists = seg_rfm_scheme_find(sc, id, &tmp) == SEG_OK;
            rc = seg_rfm_scheme_add(sc, id, "名字", v[0], v[1], v[2], v[3], v[4], v[5]);
            if (!ok)
                CHECK(rc == SEG_ERANGE || (exists && rc == SEG_EEXISTS),
                      "box %d..%d %d..%d %d..%d gave %d", (int)v[0], (int)v[1], (int)v[2],
                      (int)v[3], (int)v[4], (int)v[5], (int)rc);
            else if (exists)
                CHECK(rc == SEG_EEXISTS, "duplicate id '%s' gave %d", id, (int)rc);
            else
                CHECK(rc == SEG_OK, "valid box gave %d", (int)rc);
            CHECK(seg_rfm_scheme_others(sc) == before + (rc == SEG_OK),
                  "others id did not move by one");
        }
    }
    const int32_t lv = seg_rfm_scheme_levels(sc);
    const int32_t others = seg_rfm_scheme_others(sc);
    CHECK(lv >= 2 && lv <= 10 && others >= 0 && seg_rfm_scheme_count(sc) == (size_t)others + 1,
          "levels %d others %d count %zu", (int)lv, (int)others, seg_rfm_scheme_count(sc));
    int32_t box[256][6];
    CHECK(others <= 256, "too many boxes");
    for (int32_t b = 0; b < others; b++) {
        CHECK(seg_rfm_scheme_box(sc, b, box[b]) == SEG_OK, "box %d", (int)b);
        for (int j = 0; j < 6; j += 2)
            CHECK(box[b][j] >= 1 && box[b][j] <= box[b][j + 1] && box[b][j + 1] <= lv,
                  "box %d has bounds %d..%d", (int)b, (int)box[b][j], (int)box[b][j + 1]);
        CHECK(seg_rfm_scheme_id(sc, b) && seg_rfm_scheme_name(sc, b), "box %d: id/name", (int)b);
    }
    {
        int32_t tmp[6] = {-5, -5, -5, -5, -5, -5};
        CHECK(seg_rfm_scheme_box(sc, others, tmp) == SEG_ERANGE && tmp[0] == -5,
              "box(others) not SEG_ERANGE");
    }
    if (which % 4 == SEG_SCHEME_RFGRID) {
        /* Every (R, F) cell of 1..5 in exactly one box, whatever M. */
        for (int32_t rr = 1; rr <= 5; rr++)
            for (int32_t ff = 1; ff <= 5; ff++) {
                int hits = 0;
                for (int32_t b = 0; b < others; b++)
                    hits += rr >= box[b][0] && rr <= box[b][1] && ff >= box[b][2] &&
                            ff <= box[b][3] && box[b][4] == 1 && box[b][5] == 5;
                CHECK(hits == 1, "RFGRID: cell R%d F%d in %d boxes", (int)rr, (int)ff, hits);
            }
    }

    size_t n = (size_t)fz_range(r, 0, MAX_ROWS);
    int32_t *s[3];
    for (int d = 0; d < 3; d++)
        s[d] = fz_xmalloc(n * sizeof(int32_t));
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 3; d++) {
            uint8_t sel = fz_u8(r);
            s[d][i] = sel < 250 ? (int32_t)(sel % (lv + 1)) : sel < 253 ? lv + 1 : (int32_t)fz_u32(r);
            bad |= s[d][i] < 0 || s[d][i] > lv;
        }
    int32_t *out = fz_xmalloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++)
        out[i] = -99;
    char err[ERR_CAP];
    rc = seg_rfm_scheme_apply(sc, s[0], s[1], s[2], n, out, err, sizeof err);
    if (bad) {
        CHECK(rc == SEG_EDATA, "scores outside 0..%d gave %d", (int)lv, (int)rc);
        for (size_t i = 0; i < n; i++)
            CHECK(out[i] == -99, "failed apply wrote row %zu", i);
    } else {
        CHECK(rc == SEG_OK, "apply gave %d: %s", (int)rc, err);
        for (size_t i = 0; i < n; i++) {
            int32_t want;
            if (s[0][i] == 0 || s[1][i] == 0 || s[2][i] == 0)
                want = SEG_SEGMENT_NONE;
            else {
                want = others;
                for (int32_t b = 0; b < others; b++)
                    if (s[0][i] >= box[b][0] && s[0][i] <= box[b][1] && s[1][i] >= box[b][2] &&
                        s[1][i] <= box[b][3] && s[2][i] >= box[b][4] && s[2][i] <= box[b][5]) {
                        want = b;
                        break;
                    }
            }
            CHECK(out[i] == want, "row %zu (%d %d %d): segment %d, want %d", i, (int)s[0][i],
                  (int)s[1][i], (int)s[2][i], (int)out[i], (int)want);
        }
    }
    free(out);
    for (int d = 0; d < 3; d++)
        free(s[d]);
    seg_rfm_scheme_free(sc);
}

/* ------------------------------------------------------------------------
 * 5: migration
 * ---------------------------------------------------------------------- */

/* Fills p[0..n) with v by doubling copies (the largest matrix has 2^20
 * cells and is filled for every such input). */
static void fill_i64(int64_t *p, size_t n, int64_t v)
{
    if (n == 0)
        return;
    p[0] = v;
    for (size_t done = 1; done < n; done *= 2)
        memcpy(p + done, p, (done < n - done ? done : n - done) * sizeof *p);
}

/* 1 when p[0..n) all equal v. */
static int all_i64(const int64_t *p, size_t n, int64_t v)
{
    return n == 0 || (p[0] == v && memcmp(p, p + 1, (n - 1) * sizeof *p) == 0);
}

static void op_migration(fz_reader *r)
{
    uint8_t sel = fz_u8(r);
    int32_t nt = sel < 240 ? (int32_t)(1 + sel % 12)
                 : sel < 242 ? 1024 /* the largest: 2^20 cells, 8 MB; kept rare */
                 : sel < 248 ? 1025
                 : sel < 252 ? 0
                             : (int32_t)fz_u32(r);
    size_t n = (size_t)fz_range(r, 0, 200);
    int32_t *from = fz_xmalloc(n * sizeof(int32_t)), *to = fz_xmalloc(n * sizeof(int32_t));
    int valid_nt = nt >= 1 && nt <= 1024;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t *a[2] = {from, to};
        for (int k = 0; k < 2; k++) {
            uint8_t c = fz_u8(r);
            int32_t span = valid_nt ? nt + 1 : 13;
            a[k][i] = c < 250 ? (int32_t)(c % span) - 1 : c < 253 ? (valid_nt ? nt : 9999) : -2;
            if (c >= 253 && (c & 1))
                a[k][i] = (int32_t)fz_u32(r);
            bad |= a[k][i] < -1 || (valid_nt && a[k][i] >= nt);
        }
    }
    uint8_t mask = fz_u8(r); /* which outputs are passed */
    /* The matrix only when passed: it is the one big output. */
    size_t cells = (mask & 1) && valid_nt ? (size_t)nt * (size_t)nt : 1;
    size_t rows = valid_nt ? (size_t)nt : 1;
    int64_t *mx = fz_xmalloc(cells * sizeof(int64_t));
    double *up = fz_xmalloc(rows * sizeof(double)), *stay = fz_xmalloc(rows * sizeof(double));
    double *down = fz_xmalloc(rows * sizeof(double));
    fill_i64(mx, cells, -3);
    for (size_t i = 0; i < rows; i++)
        up[i] = stay[i] = down[i] = -3.0;
    char err[ERR_CAP];
    int32_t rc = seg_tiers_migration(from, to, n, nt, (mask & 1) ? mx : NULL,
                                     (mask & 2) ? up : NULL, (mask & 4) ? stay : NULL,
                                     (mask & 8) ? down : NULL, err, sizeof err);
    if (!valid_nt)
        CHECK(rc == SEG_ERANGE, "n_tiers %d gave %d", (int)nt, (int)rc);
    else if (bad)
        CHECK(rc == SEG_EDATA, "bad label gave %d", (int)rc);
    else
        CHECK(rc == SEG_OK, "migration gave %d: %s", (int)rc, err);
    if (rc != SEG_OK) {
        CHECK(all_i64(mx, cells, -3), "failed migration wrote the matrix");
        for (size_t i = 0; i < rows; i++)
            CHECK(up[i] == -3.0 && stay[i] == -3.0 && down[i] == -3.0,
                  "failed migration wrote rates");
    } else {
        /* The matrix by counting pairs; the rates per from-tier from the
         * pairs directly (not from the matrix). */
        int64_t *want = calloc(cells, sizeof *want);
        int64_t *cnt = calloc(4 * rows, sizeof *cnt); /* total, up, stay, down */
        CHECK(want != NULL && cnt != NULL, "calloc");
        for (size_t i = 0; i < n; i++) {
            if (from[i] < 0 || to[i] < 0)
                continue;
            if (mask & 1)
                want[(size_t)from[i] * (size_t)nt + (size_t)to[i]]++;
            int64_t *c = cnt + 4 * (size_t)from[i];
            c[0]++;
            c[to[i] < from[i] ? 1 : to[i] == from[i] ? 2 : 3]++;
        }
        if ((mask & 1) && memcmp(mx, want, cells * sizeof *mx) != 0) {
            size_t i = 0;
            while (mx[i] == want[i])
                i++;
            CHECK(0, "matrix[%zu][%zu] = %lld, want %lld", i / (size_t)nt, i % (size_t)nt,
                  (long long)mx[i], (long long)want[i]);
        }
        for (int32_t a = 0; a < nt; a++) {
            const int64_t *c = cnt + 4 * (size_t)a;
            int64_t tot = c[0], u = c[1], st = c[2], dn = c[3];
            double wu = tot ? (double)u / (double)tot : NAN;
            double ws = tot ? (double)st / (double)tot : NAN;
            double wd = tot ? (double)dn / (double)tot : NAN;
#define NEAR(x, y) (((isnan(x)) && (isnan(y))) || fabs((x) - (y)) <= 1e-12)
            if (mask & 2)
                CHECK(NEAR(up[a], wu), "tier %d: up %.17g, want %.17g", (int)a, up[a], wu);
            if (mask & 4)
                CHECK(NEAR(stay[a], ws), "tier %d: stay %.17g, want %.17g", (int)a, stay[a], ws);
            if (mask & 8)
                CHECK(NEAR(down[a], wd), "tier %d: down %.17g, want %.17g", (int)a, down[a], wd);
#undef NEAR
        }
        free(want);
        free(cnt);
    }
    free(from);
    free(to);
    free(mx);
    free(up);
    free(stay);
    free(down);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    switch (fz_u8(&r) % 6) {
    case 0: op_aggregate(&r, 0); break;
    case 1: op_aggregate(&r, 1); break;
    case 2: op_fit(&r, 0); break;
    case 3: op_fit(&r, 1); break;
    case 4: op_scheme(&r); break;
    default: op_migration(&r); break;
    }
    return 0;
}
