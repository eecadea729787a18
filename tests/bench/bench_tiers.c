/* SPDX-License-Identifier: MIT */
/*
 * bench_tiers: single-threaded throughput of tier assignment.
 *
 * Loads the value pyramid of doc/tiers.md with seg_tiers_load:
 *
 *     tier private_banking "私人银行" when aum >= 6000000
 *     tier wealth          "财富客户" when aum >= 500000 keep aum >= 450000
 *     tier gold            "金卡客户" when aum >= 50000 and txn_90d >= 1
 *     tier mass            "大众客户" otherwise
 *
 * generates --rows customers with a fixed-seed PRNG (splitmix64): aum
 * double, lognormal-ish so that every tier is populated, ~2% NaN (missing)
 * and ~0.2% exactly on or one cent beside a threshold; txn_90d int32 in
 * 0..30 with ~45% zeros; a previous tier per row ("last month", from a
 * perturbed aum, ~3% unknown = -1). Then times, --runs times each:
 *   - apply:      seg_tiers_apply without prev (first match wins);
 *   - apply_prev: seg_tiers_apply with prev (hysteresis: keep conditions);
 *   - gaps:       seg_tiers_gaps with critical 0.10, every output requested;
 *   - ref_loop:   a hand-written scalar C loop computing the same tiers
 *                 (what one fused, specialised loop costs here);
 *   - floor_sum:  a plain sum over aum and txn_90d, the "bandwidth floor":
 *                 the 12 bytes per row that apply must read, read once.
 * Prints median and min seconds, rows/s, GB/s of input and the effective
 * bandwidth as a percentage of the floor's (input bytes / median, divided by
 * floor bytes / floor median), as a table and as machine-readable lines:
 *   RESULT name=<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
 *          input_bytes=<b> input_gb_per_s=<x> floor_s=<s> pct_floor_bw=<x>
 *
 * Unless --no-verify is given, every tier (with and without prev) and every
 * output of seg_tiers_gaps is checked against an independent scalar C
 * computation written from the tier text and doc/tiers.md; a mismatch
 * exits 1.
 *
 * --write-dir DIR writes aum.f64, txn.i32 (the inputs) and out.i32 (the
 * library's tiers without prev) as raw native-endian files, then meta.txt,
 * so that bench_numpy_tiers.py times numpy on exactly the same data and
 * cross-checks.
 */
#define _POSIX_C_SOURCE 200809L

#include <segment/segment.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PROG "bench_tiers"
#include "bench-common.h"

#define N_TIERS 4
#define CRITICAL 0.10

/* The set under test. The reference functions below encode the same rules
 * by hand; keep the two in step. */
static const char TIERS_TEXT[] =
    "libsegment-tiers 1\n"
    "# the value pyramid (doc/tiers.md)\n"
    "tier private_banking \"私人银行\" when aum >= 6000000\n"
    "tier wealth          \"财富客户\" when aum >= 500000 keep aum >= 450000\n"
    "tier gold            \"金卡客户\" when aum >= 50000 and txn_90d >= 1\n"
    "tier mass            \"大众客户\" otherwise\n";

/* Frame column indices: aum is added first, txn_90d second. */
#define COL_AUM 0
#define COL_TXN 1

/* ------------------------------------------------------------------ */
/* Independent reference (scalar C, written from the tier text)         */

/* The first tier whose `when` is true. NaN compares false, which is the
 * rule language's "unknown is not true" for these comparisons. */
static int32_t ref_when(double aum, int32_t txn)
{
    if (aum >= 6000000.0)
        return 0;
    if (aum >= 500000.0)
        return 1;
    if (aum >= 50000.0 && txn >= 1)
        return 2;
    return 3;
}

/* Tier k's keep condition, or its when condition without keep; the
 * catch-all always holds. */
static int ref_keep(int32_t k, double aum, int32_t txn)
{
    switch (k) {
    case 0: return aum >= 6000000.0;
    case 1: return aum >= 450000.0;
    case 2: return aum >= 50000.0 && txn >= 1;
    default: return 1;
    }
}

/* Hysteresis as doc/tiers.md states it: move up at once; otherwise stay
 * in the previous tier while its keep condition holds; else the when-tier. */
static int32_t ref_with_prev(double aum, int32_t txn, int32_t prev)
{
    int32_t w = ref_when(aum, txn);
    if (prev < 0 || w < prev)
        return w;
    return ref_keep(prev, aum, txn) ? prev : w;
}

/* The timed hand-written loop: the whole set fused into one branch-free
 * expression per row. */
static void ref_loop(const double *aum, const int32_t *txn, size_t n, int32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        double a = aum[i];
        int32_t gold = (a >= 50000.0) & (txn[i] >= 1);
        int32_t wealth = a >= 500000.0, pb = a >= 6000000.0;
        /* wealth: 1 - pb; else 3 - gold */
        out[i] = 3 - gold - wealth * (2 - gold) - pb;
    }
}

/* One comparison `column >= k` of a next tier's condition. */
struct ref_cmp {
    int32_t col;
    double k;
};

/* Gaps for one row in tier `t`, per tiers.h / doc/tiers.md. */
static void ref_gap(double aum, int32_t txn, int32_t t, int32_t *next, int32_t *col, double *gap,
                    int32_t *nfail, uint8_t *crit)
{
    static const struct ref_cmp up_to_0[] = {{COL_AUM, 6000000.0}};
    static const struct ref_cmp up_to_1[] = {{COL_AUM, 500000.0}};
    static const struct ref_cmp up_to_2[] = {{COL_AUM, 50000.0}, {COL_TXN, 1.0}};
    static const struct ref_cmp *const conds[N_TIERS - 1] = {up_to_0, up_to_1, up_to_2};
    static const int n_conds[N_TIERS - 1] = {1, 1, 2};

    *next = t > 0 ? t - 1 : -1;
    *col = -1;
    *gap = NAN;
    *nfail = 0;
    *crit = 0;
    if (t <= 0)
        return;
    double best = -1.0;
    int all_near = 1;
    for (int c = 0; c < n_conds[t - 1]; c++) {
        const struct ref_cmp *rc = &conds[t - 1][c];
        double v = rc->col == COL_AUM ? aum : (double)txn;
        if (v >= rc->k)
            continue;
        ++*nfail;
        double g = rc->k - v;
        double rel = isnan(g) ? INFINITY : fabs(g) / fmax(fabs(rc->k), 1.0);
        if (isnan(g) || fabs(g) > CRITICAL * fabs(rc->k))
            all_near = 0;
        if (rel > best) { /* the first of equal gaps wins */
            best = rel;
            *col = rc->col;
            *gap = g;
        }
    }
    *crit = (uint8_t)(*nfail > 0 && all_near);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* ------------------------------------------------------------------ */
/* Results                                                              */

struct result {
    const char *name;
    size_t rows;
    size_t input_bytes;
    double t[BENCH_MAX_RUNS];
};

static struct result floor_sum; /* the bandwidth floor every row is compared with */

static double pct_floor_bw(const struct result *r, int runs)
{
    double med = median_of(r->t, runs), fmed = median_of(floor_sum.t, runs);
    if (!(med > 0) || !(fmed > 0))
        return 0;
    return 100.0 * ((double)r->input_bytes / med) / ((double)floor_sum.input_bytes / fmed);
}

static void print_header(void)
{
    printf("  %-12s %10s %10s %12s %8s %10s\n", "operation", "median_s", "min_s", "rows/s",
           "GB/s_in", "%floor_bw");
}

static void report(const struct result *r, int runs)
{
    double med = median_of(r->t, runs);
    printf("  %-12s %10.6f %10.6f %12.3e %8.2f %9.1f%%\n", r->name, med, min_of(r->t, runs),
           med > 0 ? (double)r->rows / med : 0, med > 0 ? (double)r->input_bytes / med / 1e9 : 0,
           pct_floor_bw(r, runs));
}

static void report_machine(const struct result *r, int runs)
{
    double med = median_of(r->t, runs);
    printf("RESULT name=%s rows=%zu runs=%d median_s=%.9f min_s=%.9f rows_per_s=%.6e "
           "input_bytes=%zu input_gb_per_s=%.3f floor_s=%.9f pct_floor_bw=%.1f\n",
           r->name, r->rows, runs, med, min_of(r->t, runs), med > 0 ? (double)r->rows / med : 0,
           r->input_bytes, med > 0 ? (double)r->input_bytes / med / 1e9 : 0,
           median_of(floor_sum.t, runs), pct_floor_bw(r, runs));
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_tiers [--rows N] [--runs R] [--seed S] [--write-dir DIR] [--no-verify]\n"
            "  --rows N          customers to tier (default 10000000)\n"
            "  --runs R          timed runs per operation, 1..%d (default 7)\n"
            "  --seed S          PRNG seed (default 20240601)\n"
            "  --write-dir DIR   write aum.f64, txn.i32, out.i32 and meta.txt as raw files\n"
            "  --no-verify       skip the cross-check against the scalar reference\n",
            BENCH_MAX_RUNS);
}

int main(int argc, char **argv)
{
    size_t n = 10000000, runs_z = 7, seed_z = 20240601;
    const char *write_dir = NULL;
    int verify = 1;

    const bench_opt opts[] = {
        {"--rows", &n, NULL, NULL},
        {"--runs", &runs_z, NULL, NULL},
        {"--seed", &seed_z, NULL, NULL},
        {"--write-dir", NULL, &write_dir, NULL},
        {NULL, NULL, NULL, NULL},
    };
    int status = bench_parse_args(argc, argv, opts, &verify, usage);
    if (status >= 0)
        return status;
    if (n < 1 || runs_z < 1 || runs_z > BENCH_MAX_RUNS) {
        fprintf(stderr, "bench_tiers: need rows >= 1 and 1 <= runs <= %d\n", BENCH_MAX_RUNS);
        return 2;
    }
    int runs = (int)runs_z;

#ifndef __OPTIMIZE__
    printf("WARNING: bench_tiers built without optimisation; configure with -Dbuildtype=release\n");
#endif
    printf("bench_tiers: libsegment %s, rows=%zu runs=%d seed=%zu\n", seg_version_string(), n,
           runs, seed_z);

    /* ---------------- data ---------------- */
    double t0 = now_s();
    rng_state = (uint64_t)seed_z;
    double *aum = xmalloc(n * sizeof *aum);
    int32_t *txn = xmalloc(n * sizeof *txn);
    int32_t *prev = xmalloc(n * sizeof *prev);
    static const double edges[] = {6000000.0, 500000.0, 450000.0, 50000.0};
    const double log_q = log(0.85); /* geometric, p = 0.15 */
    for (size_t i = 0; i < n; i++) {
        uint64_t kind = rng_below(1000);
        double a;
        if (kind < 20) { /* 2% missing */
            a = NAN;
        } else if (kind < 22) { /* 0.2% on a threshold or one cent beside it */
            a = edges[rng_below(4)] + 0.01 * ((double)rng_below(3) - 1.0);
        } else { /* median ~40,000; ~46% >= 50,000, ~10% >= 500,000, ~0.5% >= 6M */
            a = round(exp(10.6 + 2.0 * rng_normalish()) * 100.0) / 100.0;
        }
        aum[i] = a;
        int32_t t = 0;
        if (rng_below(100) >= 45) {
            double g = 1.0 + floor(log(rng_unit()) / log_q);
            t = g > 30.0 ? 30 : (int32_t)g;
        }
        txn[i] = t;
        /* Last month: the tier of a perturbed aum (about +-15%) and the same
         * activity; 3% unknown; missing aum rows get any previous tier. */
        uint64_t pk = rng_below(100);
        if (pk < 3)
            prev[i] = -1;
        else if (isnan(a))
            prev[i] = (int32_t)rng_below(N_TIERS);
        else
            prev[i] = ref_when(a * exp(0.15 * rng_normalish()), t);
    }
    printf("generated data in %.2f s\n", now_s() - t0);

    /* ---------------- frame and tier set ---------------- */
    char err[512] = "";
    seg_frame *frame = NULL;
    bench_check(seg_frame_new(&frame, n, NULL), "seg_frame_new", NULL);
    bench_check(seg_frame_add_double(frame, "aum", aum, NULL), "seg_frame_add_double",
                seg_frame_last_error(frame));
    bench_check(seg_frame_add_int32(frame, "txn_90d", txn, NULL), "seg_frame_add_int32",
                seg_frame_last_error(frame));
    seg_tiers *tiers = NULL;
    t0 = now_s();
    bench_check(seg_tiers_load(&tiers, TIERS_TEXT, strlen(TIERS_TEXT), frame, "bench.tiers", NULL,
                               err, sizeof err),
                "seg_tiers_load", err);
    double load_s = now_s() - t0;
    if (seg_tiers_count(tiers) != N_TIERS) {
        fprintf(stderr, "bench_tiers: loaded %zu tiers, expected %d\n", seg_tiers_count(tiers),
                N_TIERS);
        return 1;
    }
    printf("seg_tiers_load: %d tiers in %.1f us\n", N_TIERS, load_s * 1e6);

    /* ---------------- timings ---------------- */
    int32_t *out = xmalloc(n * sizeof *out);
    int32_t *out_prev = xmalloc(n * sizeof *out_prev);
    int32_t *out_ref = xmalloc(n * sizeof *out_ref);
    int32_t *g_next = xmalloc(n * sizeof *g_next);
    int32_t *g_col = xmalloc(n * sizeof *g_col);
    double *g_gap = xmalloc(n * sizeof *g_gap);
    int32_t *g_nfail = xmalloc(n * sizeof *g_nfail);
    uint8_t *g_crit = xmalloc(n * sizeof *g_crit);

    size_t bytes_in = n * (sizeof *aum + sizeof *txn); /* 12 per row */
    size_t bytes_in_prev = bytes_in + n * sizeof *prev; /* + the previous tier */
    floor_sum = (struct result){"floor_sum", n, bytes_in, {0}};
    static struct result r_apply, r_apply_prev, r_gaps, r_ref;
    r_apply = (struct result){"apply", n, bytes_in, {0}};
    r_apply_prev = (struct result){"apply_prev", n, bytes_in_prev, {0}};
    r_gaps = (struct result){"gaps", n, bytes_in_prev, {0}}; /* reads the tiers instead */
    r_ref = (struct result){"ref_loop", n, bytes_in, {0}};

    for (int run = 0; run < runs; run++) {
        double a = now_s();
        sink = sum_f64(aum, n) + (double)sum_i32(txn, n);
        floor_sum.t[run] = now_s() - a;

        a = now_s();
        bench_check(seg_tiers_apply(tiers, frame, NULL, out, err, sizeof err), "seg_tiers_apply",
                    err);
        r_apply.t[run] = now_s() - a;

        a = now_s();
        bench_check(seg_tiers_apply(tiers, frame, prev, out_prev, err, sizeof err),
                    "seg_tiers_apply (prev)", err);
        r_apply_prev.t[run] = now_s() - a;

        a = now_s();
        bench_check(seg_tiers_gaps(tiers, frame, out, CRITICAL, g_next, g_col, g_gap, g_nfail,
                                   g_crit, err, sizeof err),
                    "seg_tiers_gaps", err);
        r_gaps.t[run] = now_s() - a;

        a = now_s();
        ref_loop(aum, txn, n, out_ref);
        r_ref.t[run] = now_s() - a;
        sink = out_ref[n / 2];
    }

    /* ---------------- verification ---------------- */
    size_t failures = 0;
    if (verify) {
        double a = now_s();
        size_t bad = 0, bad_prev = 0, bad_gap = 0, bad_loop = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t want = ref_when(aum[i], txn[i]);
            if (out[i] != want) {
                if (bad < 10)
                    fprintf(stderr, "VERIFY apply: row %zu aum %.17g txn %" PRId32 " tier %" PRId32
                            ", expected %" PRId32 "\n", i, aum[i], txn[i], out[i], want);
                bad++;
            }
            if (out_ref[i] != want) {
                if (bad_loop < 10)
                    fprintf(stderr, "VERIFY ref_loop: row %zu tier %" PRId32 ", expected %" PRId32
                            "\n", i, out_ref[i], want);
                bad_loop++;
            }
            int32_t want_p = ref_with_prev(aum[i], txn[i], prev[i]);
            if (out_prev[i] != want_p) {
                if (bad_prev < 10)
                    fprintf(stderr, "VERIFY apply_prev: row %zu aum %.17g txn %" PRId32 " prev %"
                            PRId32 " tier %" PRId32 ", expected %" PRId32 "\n", i, aum[i], txn[i],
                            prev[i], out_prev[i], want_p);
                bad_prev++;
            }
            int32_t nx, cl, nf;
            double gp;
            uint8_t cr;
            ref_gap(aum[i], txn[i], out[i], &nx, &cl, &gp, &nf, &cr);
            if (g_next[i] != nx || g_col[i] != cl || !same_double(g_gap[i], gp) ||
                g_nfail[i] != nf || g_crit[i] != cr) {
                if (bad_gap < 10)
                    fprintf(stderr, "VERIFY gaps: row %zu aum %.17g txn %" PRId32 " tier %" PRId32
                            ": lib (next %" PRId32 " col %" PRId32 " gap %.17g failing %" PRId32
                            " critical %d) ref (%" PRId32 " %" PRId32 " %.17g %" PRId32 " %d)\n",
                            i, aum[i], txn[i], out[i], g_next[i], g_col[i], g_gap[i], g_nfail[i],
                            g_crit[i], nx, cl, gp, nf, cr);
                bad_gap++;
            }
        }
        failures = bad + bad_prev + bad_gap + bad_loop;
        printf("verify: apply %zu, apply_prev %zu, gaps %zu, ref_loop %zu mismatches: %s (%.1f s)\n",
               bad, bad_prev, bad_gap, bad_loop, failures ? "FAILED" : "ok", now_s() - a);
    }

    /* ---------------- tier census ---------------- */
    size_t count[N_TIERS] = {0}, count_prev[N_TIERS] = {0}, kept = 0, critical = 0, missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] >= 0 && out[i] < N_TIERS)
            count[out[i]]++;
        if (out_prev[i] >= 0 && out_prev[i] < N_TIERS)
            count_prev[out_prev[i]]++;
        kept += out_prev[i] != out[i];
        critical += g_crit[i];
        missing += isnan(aum[i]);
    }
    printf("tiers (without prev / with prev):");
    for (int k = 0; k < N_TIERS; k++)
        printf(" %s %zu/%zu", seg_tiers_id(tiers, k), count[k], count_prev[k]);
    printf("\nrows held by hysteresis: %zu; critical (10%%): %zu; missing aum: %zu\n", kept,
           critical, missing);
    /* From 10,000 rows on, every tier is populated (private banking, the
     * rarest, holds ~0.4% of rows); an empty one means broken data. */
    for (int k = 0; k < N_TIERS; k++) {
        if (count[k] == 0) {
            fprintf(stderr, "bench_tiers: %s: tier %s is empty; the data does not exercise the set\n",
                    n >= 10000 ? "error" : "warning", seg_tiers_id(tiers, k));
            failures += n >= 10000;
        }
    }

    /* ---------------- report ---------------- */
    printf("\n");
    print_header();
    printf(" %zu rows (aum float64 + txn_90d int32: %.1f MB read; +%.1f MB prev or tiers):\n", n,
           (double)bytes_in / 1e6, (double)(n * sizeof *prev) / 1e6);
    report(&floor_sum, runs);
    report(&r_apply, runs);
    report(&r_apply_prev, runs);
    report(&r_gaps, runs);
    report(&r_ref, runs);
    printf("\n");
    report_machine(&floor_sum, runs);
    report_machine(&r_apply, runs);
    report_machine(&r_apply_prev, runs);
    report_machine(&r_gaps, runs);
    report_machine(&r_ref, runs);

    /* ---------------- files for bench_numpy_tiers.py ---------------- */
    if (write_dir) {
        double a = now_s();
        char meta[256];
        int len = snprintf(meta, sizeof meta, "rows=%zu\nruns=%d\nseed=%zu\n", n, runs, seed_z);
        int wbad = 0;
        wbad |= write_raw(write_dir, "aum.f64", aum, n * sizeof *aum);
        wbad |= write_raw(write_dir, "txn.i32", txn, n * sizeof *txn);
        wbad |= write_raw(write_dir, "out.i32", out, n * sizeof *out);
        /* meta.txt last: its presence means the directory is complete. */
        wbad |= write_raw(write_dir, "meta.txt", meta, (size_t)len);
        if (wbad)
            return 2;
        printf("wrote raw files to %s in %.1f s\n", write_dir, now_s() - a);
    }

    seg_tiers_free(tiers);
    seg_frame_free(frame);
    free(aum);
    free(txn);
    free(prev);
    free(out);
    free(out_prev);
    free(out_ref);
    free(g_next);
    free(g_col);
    free(g_gap);
    free(g_nfail);
    free(g_crit);
    if (failures) {
        fprintf(stderr, "bench_tiers: verification FAILED (%zu)\n", failures);
        return 1;
    }
    return 0;
}
