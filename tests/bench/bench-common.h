/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the C benchmarks (bench_rfm.c, bench_tiers.c): the
 * fixed-seed PRNG, timing, run statistics, bandwidth-floor sums, raw file
 * output and command-line parsing. Each benchmark is one translation unit;
 * define BENCH_PROG (the program name used in messages) before including.
 */
#ifndef SEG_BENCH_COMMON_H
#define SEG_BENCH_COMMON_H

#ifndef BENCH_PROG
#error "define BENCH_PROG (the program name for messages) before including bench-common.h"
#endif

#include <segment/segment.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most timed runs per operation (the per-run times live in fixed arrays). */
#define BENCH_MAX_RUNS 1000

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64 (fixed seed, identical output on every platform)   */

static uint64_t rng_state;

static inline uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static inline double rng_unit(void)
{
    return ((double)(rng_next() >> 11) + 1.0) * 0x1.0p-53;
}

/* Uniform integer in [0, n). */
static inline uint64_t rng_below(uint64_t n)
{
    return (uint64_t)(((rng_next() >> 32) * n) >> 32);
}

/* Approximately standard normal: Irwin-Hall sum of four 16-bit uniforms
 * (tails end at about 3.46 sigma). */
static inline double rng_normalish(void)
{
    uint64_t r = rng_next();
    double s = (double)(r & 0xFFFF) + (double)((r >> 16) & 0xFFFF) +
               (double)((r >> 32) & 0xFFFF) + (double)(r >> 48);
    /* mean 4 * 32767.5, variance 4 * 65536^2 / 12 */
    return (s - 131070.0) / (65536.0 / 1.7320508075688772);
}

/* ------------------------------------------------------------------ */
/* Timing and run statistics                                            */

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n), 1 <= n <= BENCH_MAX_RUNS. */
static inline double median_of(const double *v, int n)
{
    double tmp[BENCH_MAX_RUNS];
    memcpy(tmp, v, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

static inline double min_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* ------------------------------------------------------------------ */
/* Memory and errors                                                    */

/* malloc that exits 2 on failure and touches every page now, so that
 * first-touch faults are not timed later. */
static inline void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, BENCH_PROG ": out of memory allocating %zu bytes\n", size);
        exit(2);
    }
    memset(p, 0, size);
    return p;
}

/* Exits 1 with a message when a library call did not return SEG_OK. */
static inline void bench_check(int32_t rc, const char *what, const char *detail)
{
    if (rc == SEG_OK)
        return;
    fprintf(stderr, BENCH_PROG ": %s failed: %s (%" PRId32 "): %s\n", what, seg_status_str(rc),
            rc, detail ? detail : "");
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Bandwidth floor: plain sums over the input arrays                    */

/* Sink for reference results so the compiler cannot drop the loops. */
static volatile double sink;

/* Plain sum of doubles with eight independent accumulators: a read of the
 * array at memory bandwidth, not at the latency of a dependent add chain. */
static inline double sum_f64(const double *x, size_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 += x[i];
        a1 += x[i + 1];
        a2 += x[i + 2];
        a3 += x[i + 3];
        a4 += x[i + 4];
        a5 += x[i + 5];
        a6 += x[i + 6];
        a7 += x[i + 7];
    }
    for (; i < n; i++)
        a0 += x[i];
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

static inline uint64_t sum_i64(const int64_t *x, size_t n)
{
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += (uint64_t)x[i];
        a1 += (uint64_t)x[i + 1];
        a2 += (uint64_t)x[i + 2];
        a3 += (uint64_t)x[i + 3];
    }
    for (; i < n; i++)
        a0 += (uint64_t)x[i];
    return a0 + a1 + a2 + a3;
}

static inline uint64_t sum_i32(const int32_t *x, size_t n)
{
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += (uint32_t)x[i];
        a1 += (uint32_t)x[i + 1];
        a2 += (uint32_t)x[i + 2];
        a3 += (uint32_t)x[i + 3];
    }
    for (; i < n; i++)
        a0 += (uint32_t)x[i];
    return a0 + a1 + a2 + a3;
}

/* ------------------------------------------------------------------ */
/* Output files                                                         */

/* Writes `bytes` bytes to dir/name; 0, or -1 after a message. */
static inline int write_raw(const char *dir, const char *name, const void *data, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, BENCH_PROG ": cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t done = bytes ? fwrite(data, 1, bytes, f) : 0;
    if (fclose(f) != 0 || done != bytes) {
        fprintf(stderr, BENCH_PROG ": short write to %s\n", path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */

/* A whole number 0..9e15 (1e7 is accepted as well as 10000000); 0 or -1. */
static inline int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 9e15 || v != floor(v))
        return -1;
    *out = (size_t)v;
    return 0;
}

/* One option that takes a value: a whole number into *size, or a string
 * into *str, restricted to `choices` (NULL-terminated) when given. */
typedef struct bench_opt {
    const char *name;
    size_t *size;
    const char **str;
    const char *const *choices;
} bench_opt;

/* Parses --help/-h, --no-verify (sets *verify = 0) and the options in
 * `opts` (ended by a zero entry). Returns -1 to go on, or the exit status:
 * 0 after --help (usage on stdout), 2 after a bad option (message and
 * usage on stderr). */
static inline int bench_parse_args(int argc, char **argv, const bench_opt *opts, int *verify,
                                   void (*usage)(FILE *))
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-verify")) {
            *verify = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, BENCH_PROG ": unknown or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        }
        const bench_opt *o = opts;
        while (o->name && strcmp(a, o->name))
            o++;
        int bad = 0;
        if (!o->name) {
            bad = 1;
        } else if (o->size) {
            bad = parse_size(v, o->size);
        } else {
            *o->str = v;
            if (o->choices) {
                bad = 1;
                for (const char *const *c = o->choices; *c; c++)
                    bad = bad && strcmp(v, *c);
            }
        }
        if (bad) {
            fprintf(stderr, BENCH_PROG ": bad option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
        i++;
    }
    return -1;
}

#endif /* SEG_BENCH_COMMON_H */
