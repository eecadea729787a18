/* SPDX-License-Identifier: MIT */
/*
 * bench_rfm: single-threaded throughput of the RFM engine.
 *
 * Generates synthetic data with a fixed-seed PRNG (splitmix64), then times,
 * for --runs runs each:
 *   - seg_rfm_fit, seg_rfm_score, fit followed by score, seg_rfm_fit_score
 *     (default model: R-compatible quintiles), and seg_rfm_fit_score with
 *     RANK binning, on --customers rows of R, F, M;
 *   - a breakdown of the fit through the public API: seg_rfm_fit with two
 *     dimensions FIXED (one dimension fitted) and with all three FIXED
 *     (input validation and overhead only);
 *   - seg_rfm_aggregate of --transactions rows into --customers customers,
 *     and with 0 rows (the per-customer part: allocate, initialise, write);
 *   - references: a plain sum over the same input arrays (the "bandwidth
 *     floor": the bytes the operation must read, read once) and, for
 *     aggregation, a minimal hand-written scatter loop (one 32-byte record
 *     per customer, prefetch, huge pages; no validation).
 * Prints median and min seconds, rows/s, GB/s of input and the ratio to the
 * floor, as a table and as machine-readable lines:
 *   RESULT name=<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
 *          input_bytes=<b> input_gb_per_s=<x> floor_s=<s> x_floor=<x>
 *
 * Unless --no-verify is given, the library's results are checked against an
 * independent computation (sort-based type-7 quantiles, a stable sort for
 * the rank bins, the hand-written aggregation loop); a mismatch exits 1.
 *
 * --write-dir DIR writes the generated arrays and the library's outputs as
 * raw native-endian files (see tests/bench/README.md) so that
 * bench_pandas.py runs pandas on exactly the same data and cross-checks.
 */
#define _POSIX_C_SOURCE 200809L
#if defined(__linux__)
#define _DEFAULT_SOURCE /* madvise */
#include <sys/mman.h>
#endif

#include <segment/segment.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PROG "bench_rfm"
#include "bench-common.h"

#define N_BINS 5
#define BASE_DAY INT64_C(19000) /* 2022-01-08 */
#define SPAN_DAYS 730

/* ------------------------------------------------------------------ */
/* Data (the PRNG itself is in bench-common.h)                          */

/* Lognormal-ish amount rounded to cents, at least 0.01. */
static double rng_money(double mu, double sigma)
{
    double v = round(exp(mu + sigma * rng_normalish()) * 100.0) / 100.0;
    return v < 0.01 ? 0.01 : v;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

/* Exits 1 when a call failed; the detail is err_buf, else the model's last
 * error. */
static void check(int32_t rc, const char *what, const seg_rfm *model, const char *err_buf)
{
    if (rc == SEG_OK)
        return;
    bench_check(rc, what, err_buf ? err_buf : (model ? seg_rfm_last_error(model) : ""));
}

/* ------------------------------------------------------------------ */
/* Results                                                              */

struct result {
    const char *name;
    size_t rows;
    size_t input_bytes;
    double t[BENCH_MAX_RUNS];
    const double *floor_t; /* the floor's per-run times, or NULL */
};

static void report(const struct result *r, int runs)
{
    double med = median_of(r->t, runs);
    double mn = min_of(r->t, runs);
    double rows_per_s = med > 0 ? (double)r->rows / med : 0;
    double gbs = med > 0 ? (double)r->input_bytes / med / 1e9 : 0;
    double floor_med = r->floor_t ? median_of(r->floor_t, runs) : 0;
    double x_floor = floor_med > 0 ? med / floor_med : 0;
    printf("  %-18s %10.6f %10.6f %12.3e %8.2f", r->name, med, mn, rows_per_s, gbs);
    if (r->floor_t)
        printf(" %9.1fx", x_floor);
    printf("\n");
}

static void report_machine(const struct result *r, int runs)
{
    double med = median_of(r->t, runs);
    double floor_med = r->floor_t ? median_of(r->floor_t, runs) : 0;
    printf("RESULT name=%s rows=%zu runs=%d median_s=%.9f min_s=%.9f rows_per_s=%.6e "
           "input_bytes=%zu input_gb_per_s=%.3f floor_s=%.9f x_floor=%.2f\n",
           r->name, r->rows, runs, med, min_of(r->t, runs), med > 0 ? (double)r->rows / med : 0,
           r->input_bytes, med > 0 ? (double)r->input_bytes / med / 1e9 : 0, floor_med,
           floor_med > 0 ? med / floor_med : 0);
}

static void print_header(void)
{
    printf("  %-18s %10s %10s %12s %8s %10s\n", "operation", "median_s", "min_s", "rows/s",
           "GB/s_in", "vs_floor");
}

/* ------------------------------------------------------------------ */
/* Independent reference computations (verification only, not timed)   */

/* Type-7 quantile of sorted x (n >= 1) at probability p. */
static double quantile7(const double *sorted, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = h - (double)lo;
    return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

static int near_equal(double a, double b)
{
    double d = fabs(a - b);
    return d <= 1e-12 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* R-compatible thresholds and scores for one column; compares with the
 * library's thresholds and scores. Returns the number of mismatches. */
static size_t verify_rcompat(const seg_rfm *model, int32_t dim, const double *x, size_t n,
                             const int32_t *lib_score, const char *col)
{
    double *s = malloc(n * sizeof *s);
    if (!s) {
        fprintf(stderr, "bench_rfm: out of memory (verify)\n");
        exit(2);
    }
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double t[N_BINS - 1];
    for (int j = 1; j < N_BINS; j++)
        t[j - 1] = quantile7(s, n, (double)j / N_BINS) + 1.0;
    free(s);

    size_t bad = 0;
    double lt[SEG_RFM_MAX_BINS];
    size_t nt = 0;
    check(seg_rfm_get_thresholds(model, dim, lt, SEG_RFM_MAX_BINS, &nt), "seg_rfm_get_thresholds",
          model, NULL);
    if (nt != N_BINS - 1) {
        fprintf(stderr, "VERIFY %s: %zu thresholds, expected %d\n", col, nt, N_BINS - 1);
        return 1;
    }
    for (int j = 0; j < N_BINS - 1; j++) {
        if (!near_equal(lt[j], t[j])) {
            fprintf(stderr, "VERIFY %s: threshold %d is %.17g, expected %.17g\n", col, j + 1, lt[j],
                    t[j]);
            bad++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int32_t bin = 1;
        for (int j = 0; j < N_BINS - 1; j++)
            bin += t[j] <= x[i];
        int32_t want = dim == SEG_RFM_R ? N_BINS + 1 - bin : bin;
        if (lib_score[i] != want) {
            if (bad < 10)
                fprintf(stderr, "VERIFY %s: row %zu value %.17g scored %" PRId32 ", expected %" PRId32
                        "\n", col, i, x[i], lib_score[i], want);
            bad++;
        }
    }
    return bad;
}

static const double *g_sort_keys;

static int cmp_index_by_key(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = g_sort_keys[i], y = g_sort_keys[j];
    if (x != y)
        return x < y ? -1 : 1;
    return (i > j) - (i < j); /* ties in input order: rank(method="first") */
}

/* pandas qcut(x.rank(method="first"), k, labels=False) + 1, then reversed
 * for recency. Returns the number of rows whose library score differs. */
static size_t verify_rank(int32_t dim, const double *x, size_t n, const int32_t *lib_score,
                          const char *col)
{
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx) {
        fprintf(stderr, "bench_rfm: out of memory (verify)\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    g_sort_keys = x;
    qsort(idx, n, sizeof *idx, cmp_index_by_key);
    /* qcut edges over ranks 1..n: linear quantiles 1 + (n-1) j/k; bins are
     * (e_{j-1}, e_j], so bin = 1 + #{j : e_j < rank}. */
    double e[N_BINS - 1];
    for (int j = 1; j < N_BINS; j++)
        e[j - 1] = 1.0 + (double)(n - 1) * ((double)j / N_BINS);
    size_t bad = 0;
    for (size_t pos = 0; pos < n; pos++) {
        double rank = (double)(pos + 1);
        int32_t bin = 1;
        for (int j = 0; j < N_BINS - 1; j++)
            bin += e[j] < rank;
        int32_t want = dim == SEG_RFM_R ? N_BINS + 1 - bin : bin;
        size_t i = idx[pos];
        if (lib_score[i] != want) {
            if (bad < 10)
                fprintf(stderr, "VERIFY rank %s: row %zu scored %" PRId32 ", expected %" PRId32 "\n",
                        col, i, lib_score[i], want);
            bad++;
        }
    }
    free(idx);
    return bad;
}

/* ------------------------------------------------------------------ */
/* Hand-written aggregation: the smallest loop doing the same work, used */
/* as the random-access reference ("how fast can a scatter of 100M rows  */
/* into 10M customers go here") and as the independent answer for       */
/* verification. One 32-byte record per customer (one cache line per    */
/* row), prefetch REF_PREFETCH rows ahead, transparent huge pages asked  */
/* for on the table; no validation of indices, times or amounts.        */

#define REF_PREFETCH 16

struct agg_rec {
    int64_t last;
    int64_t first;
    double sum;
    int64_t count;
};

static void hint_huge_pages(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > b)
        madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

static void agg_reference(const int32_t *cust, const int64_t *time, const double *amount,
                          size_t n_rows, int64_t asof, size_t n_cust, double *rec, double *freq,
                          double *mon, double *ten, uint8_t *has)
{
    /* Allocated per call, as the library must. */
    struct agg_rec *acc = malloc(n_cust * sizeof *acc);
    if (!acc) {
        fprintf(stderr, "bench_rfm: out of memory (reference)\n");
        exit(2);
    }
    hint_huge_pages(acc, n_cust * sizeof *acc);
    for (size_t c = 0; c < n_cust; c++) {
        acc[c].last = INT64_MIN;
        acc[c].first = INT64_MAX;
        acc[c].sum = 0.0;
        acc[c].count = 0;
    }
    for (size_t i = 0; i < n_rows; i++) {
#if defined(__GNUC__)
        if (i + REF_PREFETCH < n_rows)
            __builtin_prefetch(&acc[cust[i + REF_PREFETCH]], 1);
#endif
        struct agg_rec *a = &acc[cust[i]];
        int64_t t = time[i];
        a->last = t > a->last ? t : a->last;
        a->first = t < a->first ? t : a->first;
        a->sum += amount[i];
        a->count++;
    }
    for (size_t c = 0; c < n_cust; c++) {
        int any = acc[c].count > 0;
        rec[c] = any ? (double)(asof - acc[c].last) : NAN;
        ten[c] = any ? (double)(asof - acc[c].first) : NAN;
        freq[c] = (double)acc[c].count;
        mon[c] = acc[c].sum;
        has[c] = (uint8_t)any;
    }
    free(acc);
}

static int same_or_both_nan(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_rfm [--customers N] [--transactions N] [--runs R] [--seed S]\n"
            "                 [--only fit|agg] [--write-dir DIR] [--no-verify]\n"
            "  --customers N     customers for fit/score and aggregation (default 10000000)\n"
            "  --transactions N  transaction rows to aggregate (default 100000000)\n"
            "  --runs R          timed runs per operation, 1..%d (default 5)\n"
            "  --seed S          PRNG seed (default 20240601)\n"
            "  --only fit|agg    run only the fit/score or only the aggregation part\n"
            "  --write-dir DIR   write the data and the library's outputs as raw files\n"
            "  --no-verify       skip the cross-check against independent computations\n",
            BENCH_MAX_RUNS);
}

int main(int argc, char **argv)
{
    size_t n_cust = 10000000, n_tx = 100000000, runs_z = 5, seed_z = 20240601;
    const char *only = NULL, *write_dir = NULL;
    int verify = 1;

    static const char *const only_choices[] = {"fit", "agg", NULL};
    const bench_opt opts[] = {
        {"--customers", &n_cust, NULL, NULL},
        {"--transactions", &n_tx, NULL, NULL},
        {"--runs", &runs_z, NULL, NULL},
        {"--seed", &seed_z, NULL, NULL},
        {"--only", NULL, &only, only_choices},
        {"--write-dir", NULL, &write_dir, NULL},
        {NULL, NULL, NULL, NULL},
    };
    int status = bench_parse_args(argc, argv, opts, &verify, usage);
    if (status >= 0)
        return status;
    if (n_cust < 1 || n_cust > INT32_MAX || runs_z < 1 || runs_z > BENCH_MAX_RUNS) {
        fprintf(stderr, "bench_rfm: need 1 <= customers <= %d and 1 <= runs <= %d\n", INT32_MAX,
                BENCH_MAX_RUNS);
        return 2;
    }
    int runs = (int)runs_z;
    int do_fit = !only || !strcmp(only, "fit");
    int do_agg = !only || !strcmp(only, "agg");
    int64_t asof = BASE_DAY + SPAN_DAYS;
    size_t failures = 0;

#ifndef __OPTIMIZE__
    printf("WARNING: bench_rfm built without optimisation; configure with -Dbuildtype=release\n");
#endif
    printf("bench_rfm: libsegment %s, customers=%zu transactions=%zu runs=%d seed=%zu\n",
           seg_version_string(), n_cust, n_tx, runs, seed_z);

    /* ---------------- data ---------------- */
    /* Customers and transactions come from separate streams, so --only
     * does not change the data. */
    double t0 = now_s();
    rng_state = (uint64_t)seed_z;
    double *cr = NULL, *cf = NULL, *cm = NULL;
    if (do_fit) {
        cr = xmalloc(n_cust * sizeof *cr);
        cf = xmalloc(n_cust * sizeof *cf);
        cm = xmalloc(n_cust * sizeof *cm);
        const double log_q = log(0.85); /* geometric, p = 0.15, mean ~6.7 */
        for (size_t i = 0; i < n_cust; i++) {
            cr[i] = (double)rng_below(SPAN_DAYS + 1);
            double f = 1.0 + floor(log(rng_unit()) / log_q);
            cf[i] = f > 200.0 ? 200.0 : f;
            cm[i] = rng_money(5.0, 1.0); /* median ~148 */
        }
    }
    int32_t *tc = NULL;
    int64_t *tt = NULL;
    double *ta = NULL;
    if (do_agg) {
        rng_state = (uint64_t)seed_z ^ UINT64_C(0x7478000000000000); /* "tx" */
        tc = xmalloc(n_tx * sizeof *tc);
        tt = xmalloc(n_tx * sizeof *tt);
        ta = xmalloc(n_tx * sizeof *ta);
        for (size_t i = 0; i < n_tx; i++) {
            tc[i] = (int32_t)rng_below(n_cust);
            tt[i] = BASE_DAY + (int64_t)rng_below(SPAN_DAYS + 1);
            ta[i] = rng_money(3.0, 0.8); /* median ~20 */
        }
    }
    printf("generated data in %.2f s\n", now_s() - t0);

    char err[512] = "";
    seg_rfm *model = NULL, *model_rank = NULL;
    check(seg_rfm_new(&model, NULL), "seg_rfm_new", NULL, NULL);
    check(seg_rfm_new(&model_rank, NULL), "seg_rfm_new", NULL, NULL);
    for (int32_t p = SEG_RFM_PARAM_R_BINNING; p <= SEG_RFM_PARAM_M_BINNING; p++)
        check(seg_rfm_set_param(model_rank, p, SEG_BINNING_RANK), "seg_rfm_set_param", model_rank,
              NULL);

    /* Breakdown models: fit only one dimension (the others FIXED), or none
     * (all FIXED: what is left is input validation and overhead). */
    seg_rfm *model_one[3] = {NULL, NULL, NULL}, *model_none = NULL;
    const double fixed_thr[N_BINS - 1] = {1.0, 2.0, 3.0, 4.0};
    for (int d = 0; d < 3; d++) {
        check(seg_rfm_new(&model_one[d], NULL), "seg_rfm_new", NULL, NULL);
        for (int o = 0; o < 3; o++)
            if (o != d)
                check(seg_rfm_set_thresholds(model_one[d], o, fixed_thr, N_BINS - 1),
                      "seg_rfm_set_thresholds", model_one[d], NULL);
    }
    check(seg_rfm_new(&model_none, NULL), "seg_rfm_new", NULL, NULL);
    for (int o = 0; o < 3; o++)
        check(seg_rfm_set_thresholds(model_none, o, fixed_thr, N_BINS - 1),
              "seg_rfm_set_thresholds", model_none, NULL);

    /* ---------------- fit and score ---------------- */
    static struct result floor_fit, r_fit, r_score, r_fit_then, r_fitscore, r_rank;
    static struct result r_fit_one[3], r_fit_none;
    int32_t *sr = NULL, *sf = NULL, *sm = NULL, *scell = NULL, *scell2 = NULL, *kr = NULL,
            *kf = NULL, *km = NULL, *kcell = NULL;
    if (do_fit) {
        size_t in_bytes = 3 * n_cust * sizeof(double);
        floor_fit = (struct result){"floor_sum_rfm", n_cust, in_bytes, {0}, NULL};
        r_fit = (struct result){"fit", n_cust, in_bytes, {0}, floor_fit.t};
        r_score = (struct result){"score", n_cust, in_bytes, {0}, floor_fit.t};
        r_fit_then = (struct result){"fit_then_score", n_cust, in_bytes, {0}, floor_fit.t};
        r_fitscore = (struct result){"fit_score", n_cust, in_bytes, {0}, floor_fit.t};
        r_rank = (struct result){"fit_score_rank", n_cust, in_bytes, {0}, floor_fit.t};
        static const char *const one_name[3] = {"fit_r_only", "fit_f_only", "fit_m_only"};
        for (int d = 0; d < 3; d++)
            r_fit_one[d] = (struct result){one_name[d], n_cust, in_bytes, {0}, floor_fit.t};
        r_fit_none = (struct result){"fit_validate_only", n_cust, in_bytes, {0}, floor_fit.t};
        sr = xmalloc(n_cust * sizeof *sr);
        sf = xmalloc(n_cust * sizeof *sf);
        sm = xmalloc(n_cust * sizeof *sm);
        scell = xmalloc(n_cust * sizeof *scell);
        scell2 = xmalloc(n_cust * sizeof *scell2);
        kr = xmalloc(n_cust * sizeof *kr);
        kf = xmalloc(n_cust * sizeof *kf);
        km = xmalloc(n_cust * sizeof *km);
        kcell = xmalloc(n_cust * sizeof *kcell);

        for (int run = 0; run < runs; run++) {
            double a = now_s();
            sink = sum_f64(cr, n_cust) + sum_f64(cf, n_cust) + sum_f64(cm, n_cust);
            floor_fit.t[run] = now_s() - a;

            a = now_s();
            check(seg_rfm_fit(model, cr, cf, cm, n_cust), "seg_rfm_fit", model, NULL);
            r_fit.t[run] = now_s() - a;

            a = now_s();
            check(seg_rfm_score(model, cr, cf, cm, n_cust, sr, sf, sm, scell, NULL, err, sizeof err),
                  "seg_rfm_score", model, err);
            r_score.t[run] = now_s() - a;

            a = now_s();
            check(seg_rfm_fit(model, cr, cf, cm, n_cust), "seg_rfm_fit", model, NULL);
            check(seg_rfm_score(model, cr, cf, cm, n_cust, sr, sf, sm, scell, NULL, err, sizeof err),
                  "seg_rfm_score", model, err);
            r_fit_then.t[run] = now_s() - a;

            a = now_s();
            check(seg_rfm_fit_score(model, cr, cf, cm, n_cust, sr, sf, sm, scell2, NULL),
                  "seg_rfm_fit_score", model, NULL);
            r_fitscore.t[run] = now_s() - a;

            a = now_s();
            check(seg_rfm_fit_score(model_rank, cr, cf, cm, n_cust, kr, kf, km, kcell, NULL),
                  "seg_rfm_fit_score (rank)", model_rank, NULL);
            r_rank.t[run] = now_s() - a;

            for (int d = 0; d < 3; d++) {
                a = now_s();
                check(seg_rfm_fit(model_one[d], cr, cf, cm, n_cust), "seg_rfm_fit (one dim)",
                      model_one[d], NULL);
                r_fit_one[d].t[run] = now_s() - a;
            }
            a = now_s();
            check(seg_rfm_fit(model_none, cr, cf, cm, n_cust), "seg_rfm_fit (all fixed)",
                  model_none, NULL);
            r_fit_none.t[run] = now_s() - a;
        }

        if (verify) {
            double a = now_s();
            size_t bad = 0;
            bad += verify_rcompat(model, SEG_RFM_R, cr, n_cust, sr, "recency");
            bad += verify_rcompat(model, SEG_RFM_F, cf, n_cust, sf, "frequency");
            bad += verify_rcompat(model, SEG_RFM_M, cm, n_cust, sm, "monetary");
            for (size_t i = 0; i < n_cust; i++) {
                if (scell[i] != 100 * sr[i] + 10 * sf[i] + sm[i] || scell2[i] != scell[i]) {
                    if (bad < 10)
                        fprintf(stderr, "VERIFY cell: row %zu cell %" PRId32 " fit_score %" PRId32
                                " from scores %" PRId32 "\n", i, scell[i], scell2[i],
                                100 * sr[i] + 10 * sf[i] + sm[i]);
                    bad++;
                }
            }
            bad += verify_rank(SEG_RFM_R, cr, n_cust, kr, "recency");
            bad += verify_rank(SEG_RFM_F, cf, n_cust, kf, "frequency");
            bad += verify_rank(SEG_RFM_M, cm, n_cust, km, "monetary");
            printf("verify fit/score: %s (%zu mismatches, %.1f s)\n", bad ? "FAILED" : "ok", bad,
                   now_s() - a);
            failures += bad;
        }
    }

    /* ---------------- aggregation ---------------- */
    static struct result floor_agg, r_agg, r_ref, r_agg0;
    double *ar = NULL, *af = NULL, *am = NULL, *at = NULL;
    uint8_t *ah = NULL;
    if (do_agg) {
        size_t in_bytes = n_tx * (sizeof(int32_t) + sizeof(int64_t) + sizeof(double));
        floor_agg = (struct result){"floor_sum_tx", n_tx, in_bytes, {0}, NULL};
        r_agg = (struct result){"aggregate", n_tx, in_bytes, {0}, floor_agg.t};
        r_ref = (struct result){"aggregate_ref", n_tx, in_bytes, {0}, floor_agg.t};
        /* No rows: the per-customer part (allocate, initialise, write outputs). */
        r_agg0 = (struct result){"aggregate_0_rows", n_cust, 0, {0}, NULL};
        ar = xmalloc(n_cust * sizeof *ar);
        af = xmalloc(n_cust * sizeof *af);
        am = xmalloc(n_cust * sizeof *am);
        at = xmalloc(n_cust * sizeof *at);
        ah = xmalloc(n_cust * sizeof *ah);
        double *xr = xmalloc(n_cust * sizeof *xr);
        double *xf = xmalloc(n_cust * sizeof *xf);
        double *xm = xmalloc(n_cust * sizeof *xm);
        double *xt = xmalloc(n_cust * sizeof *xt);
        uint8_t *xh = xmalloc(n_cust * sizeof *xh);

        for (int run = 0; run < runs; run++) {
            double a = now_s();
            sink = (double)sum_i32(tc, n_tx) + (double)sum_i64(tt, n_tx) + sum_f64(ta, n_tx);
            floor_agg.t[run] = now_s() - a;

            /* Before the real call: it writes the same output arrays. */
            a = now_s();
            check(seg_rfm_aggregate(model, tc, tt, ta, 0, asof, n_cust, ar, af, am, at, ah, err,
                                    sizeof err),
                  "seg_rfm_aggregate (0 rows)", model, err);
            r_agg0.t[run] = now_s() - a;

            a = now_s();
            check(seg_rfm_aggregate(model, tc, tt, ta, n_tx, asof, n_cust, ar, af, am, at, ah, err,
                                    sizeof err),
                  "seg_rfm_aggregate", model, err);
            r_agg.t[run] = now_s() - a;

            a = now_s();
            agg_reference(tc, tt, ta, n_tx, asof, n_cust, xr, xf, xm, xt, xh);
            r_ref.t[run] = now_s() - a;
            sink = xm[0];

        }

        if (verify) {
            size_t bad = 0;
            for (size_t c = 0; c < n_cust; c++) {
                int ok = same_or_both_nan(ar[c], xr[c]) && af[c] == xf[c] &&
                         same_or_both_nan(at[c], xt[c]) && ah[c] == xh[c] &&
                         fabs(am[c] - xm[c]) <= 1e-9 * fmax(1.0, fabs(xm[c]));
                if (!ok) {
                    if (bad < 10)
                        fprintf(stderr, "VERIFY aggregate: customer %zu lib (%g %g %.17g %g %d) "
                                "ref (%g %g %.17g %g %d)\n", c, ar[c], af[c], am[c], at[c], ah[c],
                                xr[c], xf[c], xm[c], xt[c], xh[c]);
                    bad++;
                }
            }
            printf("verify aggregate: %s (%zu mismatches)\n", bad ? "FAILED" : "ok", bad);
            failures += bad;
        }
        free(xr);
        free(xf);
        free(xm);
        free(xt);
        free(xh);
    }

    /* ---------------- report ---------------- */
    printf("\n");
    print_header();
    if (do_fit) {
        printf(" fit/score, %zu customers (R, F, M float64: %.1f MB read):\n", n_cust,
               3.0 * (double)n_cust * 8 / 1e6);
        report(&floor_fit, runs);
        report(&r_fit, runs);
        report(&r_score, runs);
        report(&r_fit_then, runs);
        report(&r_fitscore, runs);
        report(&r_rank, runs);
        printf(" fit breakdown (seg_rfm_fit with the other dimensions FIXED):\n");
        for (int d = 0; d < 3; d++)
            report(&r_fit_one[d], runs);
        report(&r_fit_none, runs);
    }
    if (do_agg) {
        printf(" aggregation, %zu transactions into %zu customers (%.1f MB read):\n", n_tx, n_cust,
               (double)n_tx * 20 / 1e6);
        report(&floor_agg, runs);
        report(&r_agg, runs);
        report(&r_ref, runs);
        printf(" aggregation breakdown (no rows: per-customer setup and output only):\n");
        report(&r_agg0, runs);
    }
    printf("\n");
    if (do_fit) {
        report_machine(&floor_fit, runs);
        report_machine(&r_fit, runs);
        report_machine(&r_score, runs);
        report_machine(&r_fit_then, runs);
        report_machine(&r_fitscore, runs);
        report_machine(&r_rank, runs);
        for (int d = 0; d < 3; d++)
            report_machine(&r_fit_one[d], runs);
        report_machine(&r_fit_none, runs);
    }
    if (do_agg) {
        report_machine(&floor_agg, runs);
        report_machine(&r_agg, runs);
        report_machine(&r_ref, runs);
        report_machine(&r_agg0, runs);
    }

    /* ---------------- files for bench_pandas.py ---------------- */
    if (write_dir) {
        double a = now_s();
        char meta[512];
        int len = snprintf(meta, sizeof meta,
                           "customers=%zu\ntransactions=%zu\nanalysis_time=%" PRId64
                           "\nseed=%zu\nruns=%d\nbins=%d\nhas_fit=%d\nhas_agg=%d\n",
                           n_cust, n_tx, asof, seed_z, runs, N_BINS, do_fit, do_agg);
        int wbad = 0;
        if (do_fit) {
            wbad |= write_raw(write_dir, "cust_r.f64", cr, n_cust * sizeof *cr);
            wbad |= write_raw(write_dir, "cust_f.f64", cf, n_cust * sizeof *cf);
            wbad |= write_raw(write_dir, "cust_m.f64", cm, n_cust * sizeof *cm);
            wbad |= write_raw(write_dir, "lib_cell.i32", scell, n_cust * sizeof *scell);
            wbad |= write_raw(write_dir, "lib_cell_rank.i32", kcell, n_cust * sizeof *kcell);
        }
        if (do_agg) {
            wbad |= write_raw(write_dir, "tx_customer.i32", tc, n_tx * sizeof *tc);
            wbad |= write_raw(write_dir, "tx_time.i64", tt, n_tx * sizeof *tt);
            wbad |= write_raw(write_dir, "tx_amount.f64", ta, n_tx * sizeof *ta);
            wbad |= write_raw(write_dir, "lib_agg_recency.f64", ar, n_cust * sizeof *ar);
            wbad |= write_raw(write_dir, "lib_agg_frequency.f64", af, n_cust * sizeof *af);
            wbad |= write_raw(write_dir, "lib_agg_monetary.f64", am, n_cust * sizeof *am);
            wbad |= write_raw(write_dir, "lib_agg_tenure.f64", at, n_cust * sizeof *at);
        }
        /* meta.txt last: its presence means the directory is complete. */
        wbad |= write_raw(write_dir, "meta.txt", meta, (size_t)len);
        if (wbad)
            return 2;
        printf("wrote raw files to %s in %.1f s\n", write_dir, now_s() - a);
    }

    seg_rfm_free(model);
    seg_rfm_free(model_rank);
    for (int d = 0; d < 3; d++)
        seg_rfm_free(model_one[d]);
    seg_rfm_free(model_none);
    free(cr);
    free(cf);
    free(cm);
    free(tc);
    free(tt);
    free(ta);
    free(sr);
    free(sf);
    free(sm);
    free(scell);
    free(scell2);
    free(kr);
    free(kf);
    free(km);
    free(kcell);
    free(ar);
    free(af);
    free(am);
    free(at);
    free(ah);
    if (failures) {
        fprintf(stderr, "bench_rfm: verification FAILED (%zu mismatches)\n", failures);
        return 1;
    }
    return 0;
}
