/* SPDX-License-Identifier: MIT */
/*
 * bench_kmeans: cost of one k-means iteration (issue 5), next to
 * scikit-learn on the same data (bench_sklearn_kmeans.py, run_kmeans.sh).
 *
 * Generates --rows points (default 10M) in 3-D with a fixed-seed PRNG
 * (splitmix64, --seed): 8 Gaussian blobs of unequal weight and spread
 * whose centres sit near the corners of a cube of side 4 (sd 0.8..1.4),
 * so neighbouring blobs overlap and Lloyd keeps moving boundary rows for
 * many iterations: every fit below really runs --iters iterations.
 * Columns a, b, c (doubles, no missing values, no transform).
 *
 * For each configuration (Lloyd and Hamerly, on 1 thread and on
 * --threads threads, default 2), --runs times (default 3):
 *   fit1     seg_kmeans_fit with max_iter 1
 *   fitN     seg_kmeans_fit with max_iter --iters (default 10), tol 0
 * both with k = --k (default 8), n_init 1 and the same seed, so they
 * share the k-means++ seeding and the final assignment; the time of one
 * iteration is (fitN - fit1) / (iters - 1) (scikit-learn is timed the same
 * way). The progress callback's timestamps give a second measure, the
 * time between the callbacks of iterations 1 and N over N - 1.
 * Reported: the medians (and minima) of both, the seeding-and-overhead
 * time fit1 - cb_per_iter, the inertia and iterations of fitN. On a busy
 * machine the callback measure is the steadier one (the difference of two
 * whole fits also carries the noise of the k-means++ seeding, which
 * libsegment cannot skip: it takes no initial centres).
 *
 * Unless --no-verify: the inertia of every fitN equals the sum over rows
 * of the squared distance to the nearest centroid, computed here from
 * seg_kmeans_centroids (relative 1e-9), and every row's label is that
 * nearest centroid; the fits on --threads threads are bit-identical to
 * those on one thread (labels, centroids, inertia); Hamerly gives Lloyd's
 * labels and inertia (relative 1e-9). Any difference prints MISMATCH and
 * makes the exit status 1.
 *
 * --write-dir DIR writes col0.f64, col1.f64, col2.f64 (the columns a, b,
 * c: --rows native doubles each), centroids.f64 (k x 3, row-major, of the
 * one-thread Lloyd fitN) and then meta.txt (rows, k, iters, seed, runs,
 * lib_inertia, lib_iter) for bench_sklearn_kmeans.py.
 *
 * Machine-readable lines:
 *   KMEANS name=<algo>_t<threads> rows=<n> k=<k> iters=<i> runs=<r>
 *          per_iter_s=<median> per_iter_min_s=<min> cb_per_iter_s=<median>
 *          cb_per_iter_min_s=<min> fit_s=<median fitN> fit1_s=<median fit1>
 *          setup_s=<fit1 - cb_per_iter_s>
 *          inertia=<%.17g> n_iter=<iterations of fitN>
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <segment/segment.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PROG "bench_kmeans"
#include "bench-common.h"

#define NF 3
#define MAX_K 64
#define N_BLOBS 8
/* The k-means++ seed of both sides. Overlapping blobs give k-means++ a
 * chance of putting two centres in one blob, on either side (about one
 * seed in five for the default data): with this one, both find all eight
 * blobs and end 10 iterations within 1e-5 of each other. */
#ifndef KM_SEED_DEFAULT
#define KM_SEED_DEFAULT 0
#endif

/* ------------------------------------------------------------------ */
/* Data                                                                 */

static double *col[NF];

static void generate(size_t n)
{
    double cen[N_BLOBS][NF], sd[N_BLOBS], cum[N_BLOBS];
    double wsum = 0;
    for (int b = 0; b < N_BLOBS; b++) {
        for (int j = 0; j < NF; j++)
            cen[b][j] = 4.0 * (double)((b >> j) & 1) + 0.8 * (rng_unit() - 0.5);
        sd[b] = 0.8 + 0.6 * rng_unit();
        wsum += 0.5 + rng_unit();
        cum[b] = wsum;
    }
    for (size_t i = 0; i < n; i++) {
        double u = rng_unit() * wsum;
        int b = 0;
        while (b < N_BLOBS - 1 && u > cum[b])
            b++;
        for (int j = 0; j < NF; j++)
            col[j][i] = cen[b][j] + sd[b] * rng_normalish();
    }
}

/* ------------------------------------------------------------------ */
/* Timing through the progress callback                                 */

typedef struct stamps {
    double t[100001];
    int32_t last;
} stamps;

static int32_t on_progress(void *user, int32_t run, int32_t iteration, double inertia)
{
    stamps *s = user;
    (void)run;
    (void)inertia;
    if (iteration >= 0 && iteration <= 100000) {
        s->t[iteration] = now_s();
        s->last = iteration;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* One configuration                                                    */

typedef struct fitout {
    int32_t *labels;
    double cen[MAX_K * NF];
    double inertia;
    int32_t iter;
} fitout;

static seg_kmeans *make_model(size_t k, int algo, size_t threads, size_t seed)
{
    seg_kmeans *km = NULL;
    bench_check(seg_kmeans_new(&km, NULL), "seg_kmeans_new", NULL);
    static const char *names[NF] = {"a", "b", "c"};
    for (int j = 0; j < NF; j++)
        bench_check(seg_kmeans_add_feature(km, names[j], SEG_XF_NONE), "add_feature",
                    seg_kmeans_last_error(km));
    bench_check(seg_kmeans_set_param(km, SEG_KM_K, (double)k), "set k", seg_kmeans_last_error(km));
    bench_check(seg_kmeans_set_param(km, SEG_KM_N_INIT, 1), "set n_init", NULL);
    bench_check(seg_kmeans_set_param(km, SEG_KM_TOL, 0), "set tol", NULL);
    bench_check(seg_kmeans_set_param(km, SEG_KM_SEED, (double)seed), "set seed", NULL);
    bench_check(seg_kmeans_set_param(km, SEG_KM_THREADS, (double)threads), "set threads",
                seg_kmeans_last_error(km));
    bench_check(seg_kmeans_set_param(km, SEG_KM_ALGORITHM, algo), "set algorithm", NULL);
    return km;
}

static double fit_timed(seg_kmeans *km, const seg_frame *f, size_t max_iter, int32_t *labels)
{
    bench_check(seg_kmeans_set_param(km, SEG_KM_MAX_ITER, (double)max_iter), "set max_iter",
                seg_kmeans_last_error(km));
    double t0 = now_s();
    int32_t rc = seg_kmeans_fit(km, f, labels);
    double t = now_s() - t0;
    bench_check(rc, "seg_kmeans_fit", seg_kmeans_last_error(km));
    return t;
}

static int mismatches;

#define MISMATCH(what, ...)                                                                    \
    do {                                                                                       \
        printf("MISMATCH %s: ", (what));                                                       \
        printf(__VA_ARGS__);                                                                   \
        printf("\n");                                                                          \
        mismatches++;                                                                          \
    } while (0)

/* The inertia and labels of a fit against the nearest centroids. */
static void verify_fit(const fitout *o, size_t n, size_t k, const char *what)
{
    double total = 0;
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY, second = INFINITY;
        size_t bl = 0;
        for (size_t c = 0; c < k; c++) {
            double d = 0;
            for (int j = 0; j < NF; j++) {
                double t = col[j][i] - o->cen[c * NF + (size_t)j];
                d += t * t;
            }
            if (d < best) {
                second = best;
                best = d;
                bl = c;
            } else if (d < second) {
                second = d;
            }
        }
        total += best;
        if (second - best > 1e-9 * (1 + best) && (size_t)o->labels[i] != bl)
            wrong++;
    }
    if (fabs(total - o->inertia) > 1e-9 * total)
        MISMATCH(what, "library %.17g, nearest centroids %.17g", o->inertia, total);
    if (wrong)
        MISMATCH(what, "%zu rows not labelled with their nearest centroid (of %zu)", wrong, n);
    printf("verify %s: inertia %.17g, nearest-centroid sum %.17g, %zu wrong labels\n", what,
           o->inertia, total, wrong);
}

static void same_fit(const fitout *a, const fitout *b, size_t n, size_t k, int bitwise,
                     const char *what)
{
    size_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += a->labels[i] != b->labels[i];
    if (diff)
        MISMATCH(what, "%zu of %zu labels differ", diff, n);
    if (bitwise) {
        if (memcmp(a->cen, b->cen, k * NF * sizeof(double)) != 0 ||
            memcmp(&a->inertia, &b->inertia, sizeof(double)) != 0)
            MISMATCH(what, "centroids or inertia not bit-identical (inertia %.17g vs %.17g)",
                     a->inertia, b->inertia);
    } else if (fabs(a->inertia - b->inertia) > 1e-9 * a->inertia) {
        MISMATCH(what, "inertia %.17g vs %.17g", a->inertia, b->inertia);
    }
    printf("verify %s: %zu labels differ, inertia %.17g vs %.17g\n", what, diff, a->inertia,
           b->inertia);
}

/* Times one configuration; leaves the last fitN in *out. */
static void run_config(const seg_frame *f, size_t n, size_t k, size_t iters, size_t runs,
                       int algo, size_t threads, size_t seed, fitout *out)
{
    seg_kmeans *km = make_model(k, algo, threads, seed);
    stamps *st = xmalloc(sizeof *st);
    bench_check(seg_kmeans_set_progress(km, on_progress, st), "set_progress", NULL);
    double t1[BENCH_MAX_RUNS], tn[BENCH_MAX_RUNS], per[BENCH_MAX_RUNS], cb[BENCH_MAX_RUNS];
    for (size_t r = 0; r < runs; r++) {
        t1[r] = fit_timed(km, f, 1, out->labels);
        st->last = 0;
        tn[r] = fit_timed(km, f, iters, out->labels);
        bench_check(seg_kmeans_result(km, &out->inertia, &out->iter, NULL), "result", NULL);
        per[r] = (tn[r] - t1[r]) / (double)(iters - 1);
        cb[r] = st->last > 1 ? (st->t[st->last] - st->t[1]) / (double)(st->last - 1) : per[r];
    }
    bench_check(seg_kmeans_centroids(km, out->cen, k * NF), "centroids", NULL);
    int nr = (int)runs;
    double p = median_of(per, nr), f1 = median_of(t1, nr);
    printf("KMEANS name=%s_t%zu rows=%zu k=%zu iters=%zu runs=%zu per_iter_s=%.6f "
           "per_iter_min_s=%.6f cb_per_iter_s=%.6f cb_per_iter_min_s=%.6f fit_s=%.6f fit1_s=%.6f "
           "setup_s=%.6f "
           "inertia=%.17g n_iter=%d\n",
           algo == SEG_KM_LLOYD ? "lloyd" : "hamerly", threads, n, k, iters, runs, p,
           min_of(per, nr), median_of(cb, nr), min_of(cb, nr), median_of(tn, nr), f1,
           f1 - median_of(cb, nr), out->inertia,
           (int)out->iter);
    fflush(stdout);
    if ((size_t)out->iter != iters)
        printf("NOTE %s_t%zu: the fit stopped after %d of %zu iterations (converged); "
               "per-iteration times are then averages over fewer\n",
               algo == SEG_KM_LLOYD ? "lloyd" : "hamerly", threads, (int)out->iter, iters);
    free(st);
    seg_kmeans_free(km);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_kmeans [--rows N] [--k K] [--iters I] [--runs R] [--threads T]\n"
            "                    [--seed S] [--write-dir DIR] [--no-verify]\n"
            "  --rows N       points (default 10000000), 3 features, 8 overlapping blobs\n"
            "  --k K          clusters (default 8, at most %d)\n"
            "  --iters I      iterations of the timed fit, tol 0 (default 10, at least 2)\n"
            "  --runs R       timed runs per configuration (default 3)\n"
            "  --threads T    the multi-threaded configuration (default 2)\n"
            "  --seed S       data seed (default 20240705)\n"
            "  --km-seed S    k-means++ seed, also scikit-learn's random_state (default %d)\n"
            "  --write-dir D  write col0..2.f64, centroids.f64 and meta.txt for\n"
            "                 bench_sklearn_kmeans.py\n"
            "  --no-verify    skip the checks against the nearest centroids\n",
            MAX_K, KM_SEED_DEFAULT);
}

int main(int argc, char **argv)
{
    size_t n = 10000000, k = 8, iters = 10, runs = 3, threads = 2, seed = 20240705;
    size_t km_seed = KM_SEED_DEFAULT;
    const char *write_dir = NULL;
    int verify = 1;
    const bench_opt opts[] = {
        {"--rows", &n, NULL, NULL},       {"--k", &k, NULL, NULL},
        {"--iters", &iters, NULL, NULL},  {"--runs", &runs, NULL, NULL},
        {"--threads", &threads, NULL, NULL}, {"--seed", &seed, NULL, NULL},
        {"--km-seed", &km_seed, NULL, NULL},
        {"--write-dir", NULL, &write_dir, NULL}, {NULL, NULL, NULL, NULL},
    };
    int status = bench_parse_args(argc, argv, opts, &verify, usage);
    if (status >= 0)
        return status;
    if (k < 1 || k > MAX_K || iters < 2 || iters > 100000 || runs < 1 ||
        runs > BENCH_MAX_RUNS || threads < 1 || threads > 256 || n < k ||
        seed > ((size_t)1 << 53) || km_seed > ((size_t)1 << 32) - 1) {
        fprintf(stderr, BENCH_PROG ": option out of range\n");
        usage(stderr);
        return 2;
    }

    rng_state = (uint64_t)seed;
    for (int j = 0; j < NF; j++)
        col[j] = xmalloc(n * sizeof(double));
    double tg = now_s();
    generate(n);
    printf("data: %zu rows x %d features, %d blobs, seed %zu (generated in %.1f s)\n", n, NF,
           N_BLOBS, seed, now_s() - tg);

    seg_frame *f = NULL;
    bench_check(seg_frame_new(&f, n, NULL), "seg_frame_new", NULL);
    static const char *names[NF] = {"a", "b", "c"};
    for (int j = 0; j < NF; j++)
        bench_check(seg_frame_add_double(f, names[j], col[j], NULL), "add_double",
                    seg_frame_last_error(f));

    fitout o[4];
    for (int c = 0; c < 4; c++)
        o[c].labels = xmalloc(n * sizeof(int32_t));
    /* 0: lloyd 1 thread, 1: hamerly 1, 2: lloyd T, 3: hamerly T */
    run_config(f, n, k, iters, runs, SEG_KM_LLOYD, 1, km_seed, &o[0]);
    run_config(f, n, k, iters, runs, SEG_KM_HAMERLY, 1, km_seed, &o[1]);
    if (threads > 1) {
        run_config(f, n, k, iters, runs, SEG_KM_LLOYD, threads, km_seed, &o[2]);
        run_config(f, n, k, iters, runs, SEG_KM_HAMERLY, threads, km_seed, &o[3]);
    }

    if (verify) {
        verify_fit(&o[0], n, k, "lloyd_t1");
        verify_fit(&o[1], n, k, "hamerly_t1");
        same_fit(&o[0], &o[1], n, k, 0, "hamerly_t1 vs lloyd_t1");
        if (threads > 1) {
            char w[64];
            snprintf(w, sizeof w, "lloyd_t%zu vs lloyd_t1", threads);
            same_fit(&o[0], &o[2], n, k, 1, w);
            snprintf(w, sizeof w, "hamerly_t%zu vs hamerly_t1", threads);
            same_fit(&o[1], &o[3], n, k, 1, w);
        }
    }

    int wbad = 0;
    if (write_dir) {
        for (int j = 0; j < NF && !wbad; j++) {
            char name[32];
            snprintf(name, sizeof name, "col%d.f64", j);
            wbad |= write_raw(write_dir, name, col[j], n * sizeof(double));
        }
        wbad |= write_raw(write_dir, "centroids.f64", o[0].cen, k * NF * sizeof(double));
        char meta[512];
        int len = snprintf(meta, sizeof meta,
                           "rows=%zu\nk=%zu\niters=%zu\nseed=%zu\nkm_seed=%zu\nruns=%zu\n"
                           "lib_inertia=%.17g\nlib_iter=%d\n",
                           n, k, iters, seed, km_seed, runs, o[0].inertia, (int)o[0].iter);
        /* meta.txt last: its presence means the directory is complete. */
        wbad |= write_raw(write_dir, "meta.txt", meta, (size_t)len);
    }

    for (int c = 0; c < 4; c++)
        free(o[c].labels);
    seg_frame_free(f);
    for (int j = 0; j < NF; j++)
        free(col[j]);
    if (wbad)
        return 2;
    if (mismatches) {
        fprintf(stderr, BENCH_PROG ": %d mismatches\n", mismatches);
        return 1;
    }
    return 0;
}
