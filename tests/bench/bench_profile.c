/* SPDX-License-Identifier: MIT */
/*
 * bench_profile: single-threaded cost of segment profiles (issue 5).
 *
 * Generates --rows customers (default 10M) with a fixed-seed PRNG
 * (splitmix64, --seed), a label out of 20 (skewed sizes: weights 0.8^j, so
 * the largest segment holds ~20% of the rows and the smallest ~0.3%) and four
 * columns:
 *   aum      double, lognormal-ish exp(9 + 0.15 j + 1.5 z) rounded to cents
 *            (higher segments richer), 2% NaN (missing);
 *   revenue  double, exp(5 + z) rounded to cents, 5% NaN;
 *   txn_90d  int32, 45% zeros, else geometric (p = 0.15) capped at 60;
 *   tenure   int64 days, uniform 0..7300.
 * Builds a frame over the arrays (zero-copy) and times, --runs times each
 * (median and minimum reported):
 *   profile            seg_profile_compute (+ seg_profile_free) of the four
 *                      columns by label: count, missing, sum, share, mean,
 *                      min, max, std and the exact median;
 *   profile_no_median  the same with SEG_PROFILE_NO_MEDIAN (one pass);
 *   floor_sum          a plain sum over the five input arrays (labels and
 *                      columns, 32 bytes per row): the bandwidth floor.
 *
 * Unless --no-verify, both profiles are compared, outside the timings, with
 * an independent computation: rows gathered by label, then per label and
 * column the count, a long double sum, min and max, a two-pass standard
 * deviation and the median of the sorted values. Counts, min, max and
 * median must be equal (median NaN without it), sum, mean, share and std
 * within 1e-9 relative. Any difference prints MISMATCH and makes the exit
 * status 1.
 *
 * --write-dir DIR writes label.i32, aum.f64, revenue.f64, txn_90d.i32,
 * tenure.i64 (the data), lib_groups.i64 (label and row count per group),
 * lib_stats.f64 ([group][column][9] from the full profile, stats in the
 * SEG_STAT_* order), lib_total.f64 ([column][9]), then meta.txt, for
 * bench_pandas_profile.py.
 *
 * Machine-readable lines:
 *   RESULT name=<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
 *          input_bytes=<b> gb_per_s=<x>
 */
#define _DEFAULT_SOURCE /* madvise */

#include <segment/segment.h>

#include <sys/mman.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_PROG "bench_profile"
#include "bench-common.h"

#define N_LABELS 20
#define N_COLS 4
#define N_STAT 9
#define ROW_BYTES 32 /* label 4 + aum 8 + revenue 8 + txn 4 + tenure 8 */

static const char *const COLS[N_COLS] = {"aum", "revenue", "txn_90d", "tenure"};
static const char *const STAT_NAMES[N_STAT] = {"count", "missing", "sum", "share", "mean",
                                               "min",   "max",     "std", "median"};

/* Label values: sparse (10 j + 1), so the library cannot use them as indices. */
#define LABEL_OF(j) ((int32_t)(10 * (j) + 1))

/* xmalloc for the big arrays: transparent huge pages, touched now. */
static void *big_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, BENCH_PROG ": out of memory allocating %zu bytes\n", bytes);
        exit(2);
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > b)
        madvise((void *)b, e - b, MADV_HUGEPAGE);
#endif
    memset(p, 0, bytes);
    return p;
}

static double cents(double x)
{
    return round(x * 100.0) / 100.0;
}

/* ------------------------------------------------------------------ */
/* Data                                                                 */

struct data {
    size_t n;
    int32_t *label;
    double *aum, *revenue;
    int32_t *txn;
    int64_t *tenure;
};

static void generate(struct data *d, size_t n)
{
    d->n = n;
    d->label = big_alloc(n * sizeof *d->label);
    d->aum = big_alloc(n * sizeof *d->aum);
    d->revenue = big_alloc(n * sizeof *d->revenue);
    d->txn = big_alloc(n * sizeof *d->txn);
    d->tenure = big_alloc(n * sizeof *d->tenure);
    double cum[N_LABELS], w = 1, tot = 0;
    for (int j = 0; j < N_LABELS; j++) {
        tot += w;
        cum[j] = tot;
        w *= 0.8;
    }
    const double inv_geo = 1.0 / log1p(-0.15);
    for (size_t i = 0; i < n; i++) {
        double u = rng_unit() * tot;
        int j = 0;
        while (j < N_LABELS - 1 && u > cum[j])
            j++;
        d->label[i] = LABEL_OF(j);
        d->aum[i] = rng_unit() < 0.02 ? NAN : cents(exp(9.0 + 0.15 * j + 1.5 * rng_normalish()));
        d->revenue[i] = rng_unit() < 0.05 ? NAN : cents(exp(5.0 + rng_normalish()));
        if (rng_unit() < 0.45) {
            d->txn[i] = 0;
        } else {
            double g = 1.0 + floor(log(rng_unit()) * inv_geo);
            d->txn[i] = g > 60 ? 60 : (int32_t)g;
        }
        d->tenure[i] = (int64_t)rng_below(7301);
    }
}

static void data_free(struct data *d)
{
    free(d->label);
    free(d->aum);
    free(d->revenue);
    free(d->txn);
    free(d->tenure);
}

/* Value of column c at row i; 0 when missing. */
static int value_at(const struct data *d, int c, size_t i, double *v)
{
    switch (c) {
    case 0: *v = d->aum[i]; return !isnan(*v);
    case 1: *v = d->revenue[i]; return !isnan(*v);
    case 2: *v = (double)d->txn[i]; return 1;
    default: *v = (double)d->tenure[i]; return 1;
    }
}

/* ------------------------------------------------------------------ */
/* Independent reference (verification only, never timed)              */

struct reference {
    int n_groups;
    int32_t label[N_LABELS];
    int64_t count[N_LABELS];
    double st[N_LABELS + 1][N_COLS][N_STAT]; /* row N_LABELS: totals */
};

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void ref_stats(double *v, size_t k, size_t rows, double *st)
{
    long double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += v[i];
    st[0] = (double)k;
    st[1] = (double)(rows - k);
    st[2] = k ? (double)sum : 0;
    st[3] = NAN; /* share: by the caller */
    if (k == 0) {
        for (int s = 4; s < N_STAT; s++)
            st[s] = NAN;
        return;
    }
    qsort(v, k, sizeof *v, cmp_dbl);
    long double mean = sum / (long double)k, ss = 0;
    for (size_t i = 0; i < k; i++)
        ss += ((long double)v[i] - mean) * ((long double)v[i] - mean);
    st[4] = (double)mean;
    st[5] = v[0];
    st[6] = v[k - 1];
    st[7] = k >= 2 ? (double)sqrtl(ss / (long double)(k - 1)) : NAN;
    st[8] = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static void reference(const struct data *d, struct reference *r)
{
    size_t n = d->n;
    memset(r, 0, sizeof *r);
    /* Labels are LABEL_OF(j): group = j, ascending. */
    int64_t cnt[N_LABELS] = {0};
    for (size_t i = 0; i < n; i++)
        cnt[(d->label[i] - 1) / 10]++;
    size_t start[N_LABELS + 1];
    start[0] = 0;
    int g = 0;
    int map[N_LABELS];
    for (int j = 0; j < N_LABELS; j++) {
        map[j] = -1;
        if (cnt[j]) {
            map[j] = g;
            r->label[g] = LABEL_OF(j);
            r->count[g] = cnt[j];
            start[g + 1] = start[g] + (size_t)cnt[j];
            g++;
        }
    }
    r->n_groups = g;
    size_t *rows = malloc(n * sizeof *rows + 1), pos[N_LABELS];
    double *v = malloc(n * sizeof *v + 1);
    if (!rows || !v) {
        fprintf(stderr, BENCH_PROG ": out of memory (verification)\n");
        exit(2);
    }
    memcpy(pos, start, sizeof pos);
    for (size_t i = 0; i < n; i++)
        rows[pos[map[(d->label[i] - 1) / 10]]++] = i;
    for (int c = 0; c < N_COLS; c++) {
        for (int k = 0; k < g; k++) {
            size_t m = 0;
            for (size_t q = start[k]; q < start[k + 1]; q++) {
                double x;
                if (value_at(d, c, rows[q], &x))
                    v[m++] = x;
            }
            ref_stats(v, m, start[k + 1] - start[k], r->st[k][c]);
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            double x;
            if (value_at(d, c, i, &x))
                v[m++] = x;
        }
        ref_stats(v, m, n, r->st[N_LABELS][c]);
        double tot = r->st[N_LABELS][c][2];
        for (int k = 0; k < g; k++)
            r->st[k][c][3] = tot != 0 ? r->st[k][c][2] / tot : NAN;
        r->st[N_LABELS][c][3] = tot != 0 ? 1.0 : NAN;
    }
    free(rows);
    free(v);
}

static size_t failures;

#define MISMATCH(...)                                                                          \
    do {                                                                                       \
        failures++;                                                                            \
        if (failures <= 20) {                                                                  \
            printf("MISMATCH " __VA_ARGS__);                                                   \
            fprintf(stderr, BENCH_PROG ": MISMATCH " __VA_ARGS__);                             \
        }                                                                                      \
    } while (0)

static int same_stat(int s, double got, double want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (s == 2 || s == 3 || s == 4 || s == 7)
        return fabs(got - want) <= 1e-9 * fabs(want);
    return got == want;
}

static void verify(const seg_profile *p, const struct reference *r, size_t n, int no_median,
                   const char *what)
{
    size_t before = failures;
    if (seg_profile_n_groups(p) != (size_t)r->n_groups) {
        MISMATCH("%s: %zu groups, expected %d\n", what, seg_profile_n_groups(p), r->n_groups);
        return;
    }
    for (int g = 0; g <= r->n_groups; g++) {
        int k = g == r->n_groups ? N_LABELS : g;
        if (g < r->n_groups) {
            int32_t label = 0, label2 = -1;
            int64_t count = -1;
            double share = -1;
            bench_check(seg_profile_group(p, (size_t)g, &label, &label2, &count, &share),
                        "seg_profile_group", NULL);
            if (label != r->label[g] || label2 != 0 || count != r->count[g] ||
                fabs(share - (double)r->count[g] / (double)n) > 1e-15)
                MISMATCH("%s: group %d is label %d x %" PRId64 " (share %.17g), expected %d x "
                         "%" PRId64 "\n",
                         what, g, (int)label, count, share, (int)r->label[g], r->count[g]);
        }
        for (int c = 0; c < N_COLS; c++) {
            for (int s = 0; s < N_STAT; s++) {
                double got = NAN;
                int32_t rc = g < r->n_groups
                                 ? seg_profile_value(p, (size_t)g, (size_t)c, s, &got)
                                 : seg_profile_total(p, (size_t)c, s, &got);
                bench_check(rc, "seg_profile_value", NULL);
                double want = s == 8 && no_median ? NAN : r->st[k][c][s];
                if (!same_stat(s, got, want))
                    MISMATCH("%s: %s %d, %s, %s = %.17g, expected %.17g\n", what,
                             g < r->n_groups ? "label" : "total",
                             g < r->n_groups ? (int)r->label[g] : 0, COLS[c], STAT_NAMES[s],
                             got, want);
            }
        }
    }
    printf("verify %s: %zu mismatches\n", what, failures - before);
}

/* ------------------------------------------------------------------ */
/* Timing                                                               */

struct result {
    const char *name;
    double t[BENCH_MAX_RUNS];
};

static void report(const struct result *r, int runs, size_t n)
{
    double med = median_of(r->t, runs), mn = min_of(r->t, runs);
    double bytes = (double)n * ROW_BYTES;
    printf("  %-20s %10.6f %10.6f %12.3e %8.2f\n", r->name, med, mn, med > 0 ? (double)n / med : 0,
           med > 0 ? bytes / med / 1e9 : 0);
}

static void report_machine(const struct result *r, int runs, size_t n)
{
    double med = median_of(r->t, runs), mn = min_of(r->t, runs);
    double bytes = (double)n * ROW_BYTES;
    printf("RESULT name=%s rows=%zu runs=%d median_s=%.9f min_s=%.9f rows_per_s=%.6e "
           "input_bytes=%.0f gb_per_s=%.4f\n",
           r->name, n, runs, med, mn, med > 0 ? (double)n / med : 0, bytes,
           med > 0 ? bytes / med / 1e9 : 0);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_profile [--rows N] [--runs R] [--seed S] [--write-dir DIR] "
            "[--no-verify]\n"
            "  --rows N          customers (default 10000000); 20 labels, 4 columns\n"
            "  --runs R          timed runs per operation, 1..%d (default 7)\n"
            "  --seed S          PRNG seed (default 20240601)\n"
            "  --write-dir DIR   write the data and the library's profile for\n"
            "                    bench_pandas_profile.py (label.i32, aum.f64, revenue.f64,\n"
            "                    txn_90d.i32, tenure.i64, lib_groups.i64, lib_stats.f64,\n"
            "                    lib_total.f64, meta.txt)\n"
            "  --no-verify       skip the comparison with the independent computation\n",
            BENCH_MAX_RUNS);
}

static seg_profile *compute(const seg_frame *f, const int32_t *labels, int32_t flags)
{
    seg_profile *p = NULL;
    char err[256] = "";
    bench_check(seg_profile_compute(&p, f, labels, NULL, COLS, N_COLS, flags, NULL, err,
                                    sizeof err),
                "seg_profile_compute", err);
    return p;
}

int main(int argc, char **argv)
{
    size_t n = 10000000, runs_z = 7, seed_z = 20240601;
    const char *write_dir = NULL;
    int verify_on = 1;
    const bench_opt opts[] = {
        {"--rows", &n, NULL, NULL},
        {"--runs", &runs_z, NULL, NULL},
        {"--seed", &seed_z, NULL, NULL},
        {"--write-dir", NULL, &write_dir, NULL},
        {NULL, NULL, NULL, NULL},
    };
    int status = bench_parse_args(argc, argv, opts, &verify_on, usage);
    if (status >= 0)
        return status;
    if (n < 1 || n > ((size_t)1 << 31) || runs_z < 1 || runs_z > BENCH_MAX_RUNS) {
        fprintf(stderr, BENCH_PROG ": need 1 <= rows <= 2^31 and 1 <= runs <= %d\n",
                BENCH_MAX_RUNS);
        return 2;
    }
    int runs = (int)runs_z;

#ifndef __OPTIMIZE__
    printf("WARNING: bench_profile built without optimisation; configure with "
           "-Dbuildtype=release\n");
#endif
    printf("bench_profile: libsegment %s, rows=%zu labels=%d columns=%d runs=%d seed=%zu\n",
           seg_version_string(), n, N_LABELS, N_COLS, runs, seed_z);

    double t0 = now_s();
    rng_state = (uint64_t)seed_z;
    struct data d;
    generate(&d, n);
    seg_frame *frame = NULL;
    bench_check(seg_frame_new(&frame, n, NULL), "seg_frame_new", NULL);
    bench_check(seg_frame_add_double(frame, "aum", d.aum, NULL), "add aum", NULL);
    bench_check(seg_frame_add_double(frame, "revenue", d.revenue, NULL), "add revenue", NULL);
    bench_check(seg_frame_add_int32(frame, "txn_90d", d.txn, NULL), "add txn_90d", NULL);
    bench_check(seg_frame_add_int64(frame, "tenure", d.tenure, NULL), "add tenure", NULL);
    printf("generated %zu rows in %.2f s (%.0f MB of input)\n", n, now_s() - t0,
           (double)n * ROW_BYTES / 1e6);

    /* Timed runs, the three operations interleaved so that drifts in the
     * machine's load hit them alike. */
    struct result r_full = {"profile", {0}}, r_nomed = {"profile_no_median", {0}},
                  r_floor = {"floor_sum", {0}};
    for (int k = 0; k < runs; k++) {
        double s = now_s();
        seg_profile *p = compute(frame, d.label, 0);
        seg_profile_free(p);
        r_full.t[k] = now_s() - s;

        s = now_s();
        p = compute(frame, d.label, SEG_PROFILE_NO_MEDIAN);
        seg_profile_free(p);
        r_nomed.t[k] = now_s() - s;

        s = now_s();
        double acc = sum_f64(d.aum, n) + sum_f64(d.revenue, n);
        acc += (double)sum_i32(d.label, n) + (double)sum_i32(d.txn, n) +
               (double)sum_i64(d.tenure, n);
        sink = acc;
        r_floor.t[k] = now_s() - s;
    }

    seg_profile *full = compute(frame, d.label, 0);
    seg_profile *nomed = compute(frame, d.label, SEG_PROFILE_NO_MEDIAN);
    printf("\nprofile: %zu groups x %zu columns\n", seg_profile_n_groups(full),
           seg_profile_n_columns(full));
    for (size_t g = 0; g < seg_profile_n_groups(full); g++) {
        int32_t label;
        int64_t count;
        double share, mean, median;
        bench_check(seg_profile_group(full, g, &label, NULL, &count, &share), "group", NULL);
        bench_check(seg_profile_value(full, g, 0, SEG_STAT_MEAN, &mean), "value", NULL);
        bench_check(seg_profile_value(full, g, 0, SEG_STAT_MEDIAN, &median), "value", NULL);
        if (g < 3 || g + 2 >= seg_profile_n_groups(full))
            printf("  label %3d: %9" PRId64 " rows (%5.2f%%), aum mean %12.2f median %10.2f\n",
                   (int)label, count, 100 * share, mean, median);
        else if (g == 3)
            printf("  ...\n");
    }

    if (verify_on) {
        double a = now_s();
        struct reference *ref = malloc(sizeof *ref);
        if (!ref)
            return 2;
        reference(&d, ref);
        verify(full, ref, n, 0, "profile");
        verify(nomed, ref, n, 1, "profile_no_median");
        printf("verification took %.1f s\n", now_s() - a);
        free(ref);
    }

    printf("\n  %-20s %10s %10s %12s %8s\n", "operation", "median_s", "min_s", "rows/s",
           "GB/s");
    report(&r_full, runs, n);
    report(&r_nomed, runs, n);
    report(&r_floor, runs, n);
    double mf = median_of(r_floor.t, runs);
    printf("  (GB/s counts the 32 input bytes per row; profile / floor = %.1fx, no median / "
           "floor = %.1fx)\n\n",
           median_of(r_full.t, runs) / mf, median_of(r_nomed.t, runs) / mf);
    report_machine(&r_full, runs, n);
    report_machine(&r_nomed, runs, n);
    report_machine(&r_floor, runs, n);

    if (write_dir) {
        double a = now_s();
        size_t ng = seg_profile_n_groups(full);
        int64_t *groups = xmalloc(2 * ng * sizeof *groups);
        double *stats = xmalloc(ng * N_COLS * N_STAT * sizeof *stats);
        double total[N_COLS * N_STAT];
        for (size_t g = 0; g < ng; g++) {
            int32_t label;
            bench_check(seg_profile_group(full, g, &label, NULL, &groups[2 * g + 1], NULL),
                        "group", NULL);
            groups[2 * g] = label;
            for (int c = 0; c < N_COLS; c++)
                for (int s = 0; s < N_STAT; s++)
                    bench_check(seg_profile_value(full, g, (size_t)c, s,
                                                  &stats[(g * N_COLS + (size_t)c) * N_STAT +
                                                         (size_t)s]),
                                "value", NULL);
        }
        for (int c = 0; c < N_COLS; c++)
            for (int s = 0; s < N_STAT; s++)
                bench_check(seg_profile_total(full, (size_t)c, s, &total[c * N_STAT + s]),
                            "total", NULL);
        int bad = write_raw(write_dir, "label.i32", d.label, n * sizeof *d.label) ||
                  write_raw(write_dir, "aum.f64", d.aum, n * sizeof *d.aum) ||
                  write_raw(write_dir, "revenue.f64", d.revenue, n * sizeof *d.revenue) ||
                  write_raw(write_dir, "txn_90d.i32", d.txn, n * sizeof *d.txn) ||
                  write_raw(write_dir, "tenure.i64", d.tenure, n * sizeof *d.tenure) ||
                  write_raw(write_dir, "lib_groups.i64", groups, 2 * ng * sizeof *groups) ||
                  write_raw(write_dir, "lib_stats.f64", stats,
                            ng * N_COLS * N_STAT * sizeof *stats) ||
                  write_raw(write_dir, "lib_total.f64", total, sizeof total);
        char meta[512];
        int len = snprintf(meta, sizeof meta,
                           "rows=%zu\nruns=%d\nseed=%zu\ngroups=%zu\ncolumns=aum,revenue,"
                           "txn_90d,tenure\nlib_profile_median_s=%.9f\n"
                           "lib_profile_no_median_median_s=%.9f\n",
                           n, runs, seed_z, ng, median_of(r_full.t, runs),
                           median_of(r_nomed.t, runs));
        /* meta.txt last: its presence means the directory is complete. */
        bad = bad || write_raw(write_dir, "meta.txt", meta, (size_t)len);
        free(groups);
        free(stats);
        if (bad) {
            fprintf(stderr, BENCH_PROG ": writing %s failed\n", write_dir);
            return 2;
        }
        printf("wrote raw files to %s in %.1f s\n", write_dir, now_s() - a);
    }

    seg_profile_free(full);
    seg_profile_free(nomed);
    seg_frame_free(frame);
    data_free(&d);
    if (failures) {
        fprintf(stderr, BENCH_PROG ": verification FAILED (%zu mismatches)\n", failures);
        return 1;
    }
    return 0;
}
