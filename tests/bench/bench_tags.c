/* SPDX-License-Identifier: MIT */
/*
 * bench_tags: single-threaded cost of tag sets and audience queries (issue 4).
 *
 * Generates --rows customers (default 10M) x 200 tags with a fixed-seed PRNG
 * (splitmix64, --seed), one uint8 column per tag:
 *   - 2 ordered tags: a prefix (35%: "old customers", rows 0..0.35n) and a
 *     suffix (8%: "new customers"), so whole chunks are full or empty;
 *   - 4 clustered tags: rows split into blocks of 16k..256k rows, a block
 *     holds the tag with some probability and then at some density (full
 *     blocks, sparse blocks, empty stretches; one tag with a log-uniform
 *     density per block);
 *   - 2 exclusive groups (lifecycle: 4 tags, value band: 3 tags), one label
 *     per row, so no row holds two tags of a group;
 *   - 187 independent tags, Bernoulli per row, densities log-uniform in
 *     0.1%..50% (stratified, so the whole range is covered).
 * Registers them (seg_tagreg_*; group tags with SEG_TAG_GROUP) and times,
 * --runs times each (median and minimum reported):
 *   build_mask   seg_tagset_new + seg_tagset_set_mask for every tag;
 *   build_rows   seg_tagset_new + seg_tagset_set_rows (ascending row lists);
 * and for two 5-term queries of the form `a and not b and (c or d) and e`
 * ("q1": structured tags mixed with random ones; "q2": random tags only,
 * densities ~50%, 10%, 1%, 5%, 20%):
 *   qN_compile   seg_query_compile (+ free);
 *   qN_count     seg_query_count;
 *   qN_select    seg_query_select from row 0 with limit n (every row);
 *   qN_mask      seg_query_mask (one byte per row);
 *   qN_naive_count, qN_naive_select
 *                a plain per-row C loop over the five uint8 columns,
 *                `if (a[i] && !b[i] && (c[i] || d[i]) && e[i])` (branches);
 *   qN_bytes_count
 *                a branch-free byte loop `a & ~b & (c | d) & e` that the
 *                compiler vectorises (what a tuned byte-column scan costs);
 *   qN_bits_count
 *                one fused popcount loop over the five columns bit-packed
 *                into uint64 words (n/8 bytes each): the floor of an
 *                uncompressed bitmap scan.
 * It reports seg_tagset_memory for the whole set and per tag against numpy's
 * n bytes per bool column and n/8 bytes per bit-packed column, and checks the
 * header's promise (at most n/8 + 16 bytes per chunk per tag).
 *
 * Unless --no-verify: every tag of both sets (get_mask, count) is compared
 * with its generated column, and every query's count, rows and mask with the
 * naive loops; any mismatch prints MISMATCH and exits 1.
 *
 * --write-dir DIR writes tags.bits (tag-major bit-packed columns, bit i of
 * byte j is row 8j+i, each tag padded to a multiple of 8 bytes),
 * tag_counts.i64, q1_rows.i64, q2_rows.i64 (the library's selections),
 * tag_memory.tsv (per tag), then meta.txt, for bench_numpy_tags.py.
 *
 * Machine-readable lines:
 *   RESULT name=<op> rows=<n> runs=<r> median_s=<s> min_s=<s> rows_per_s=<x>
 *   MEMORY lib_total_bytes=<b> lib_tag_bytes=<b> numpy_bool_bytes=<b> ...
 *   QUERY name=qN count=<k> terms=<i,j,k,l,m>
 */
#define _DEFAULT_SOURCE /* madvise */

#include <segment/segment.h>

#include <sys/mman.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_PROG "bench_tags"
#include "bench-common.h"

#define N_TAGS 200
#define N_STRUCT 13 /* tags 0..12 are the ordered, clustered and group tags */
#define CHUNK 65536
#define N_QUERIES 2
#define N_TERMS 5

/* xmalloc for the big arrays (gigabytes of columns and row lists): asks
 * for transparent huge pages before the first touch, which saves most of
 * the page faults (numpy does the same for its large arrays). */
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

/* ------------------------------------------------------------------ */
/* Tag definitions                                                      */

enum tag_kind { K_PREFIX, K_SUFFIX, K_BLOCKS, K_GROUP, K_RANDOM };

struct tagdef {
    char name[40];
    int kind;
    double p;       /* PREFIX/SUFFIX: share of rows; BLOCKS: P(block holds); GROUP: share; RANDOM: density */
    double p_in;    /* BLOCKS: density inside a holding block (< 0: log-uniform per block) */
    const char *group;
    const char *category;
    double density; /* expected density (for choosing query terms and the report) */
};

static struct tagdef defs[N_TAGS];

/* Tag k has registry id k + 1. */
#define TAG_ID(k) ((int32_t)(k) + 1)

static void define_tags(void)
{
    static const struct tagdef fixed[N_STRUCT] = {
        {"老客户", K_PREFIX, 0.35, 0, NULL, "基础/客龄", 0.35},
        {"新客户", K_SUFFIX, 0.08, 0, NULL, "基础/客龄", 0.08},
        {"华东地区", K_BLOCKS, 0.25, 1.0, NULL, "基础/地区", 0.25},
        {"华南地区", K_BLOCKS, 0.15, 0.6, NULL, "基础/地区", 0.09},
        {"营销名单_A", K_BLOCKS, 0.05, 0.02, NULL, "营销/名单", 0.001},
        {"app活跃", K_BLOCKS, 1.0, -1.0, NULL, "行为/渠道", 0.1446},
        {"潜在客户", K_GROUP, 0.10, 0, "lifecycle", "生命周期", 0.10},
        {"首购客户", K_GROUP, 0.05, 0, "lifecycle", "生命周期", 0.05},
        {"复购客户", K_GROUP, 0.30, 0, "lifecycle", "生命周期", 0.30},
        {"流失客户", K_GROUP, 0.12, 0, "lifecycle", "生命周期", 0.12},
        {"低价值", K_GROUP, 0.45, 0, "value_band", "价值", 0.45},
        {"中价值", K_GROUP, 0.15, 0, "value_band", "价值", 0.15},
        {"高价值", K_GROUP, 0.015, 0, "value_band", "价值", 0.015},
    };
    for (int k = 0; k < N_STRUCT; k++)
        defs[k] = fixed[k];
    /* Stratified log-uniform densities in [0.001, 0.5]: the j-th random tag
     * draws u in [j, j+1) / n_random, so the sparsest is ~0.1% and the
     * densest ~50%. */
    const int n_random = N_TAGS - N_STRUCT;
    for (int j = 0; j < n_random; j++) {
        struct tagdef *d = &defs[N_STRUCT + j];
        double u = ((double)j + rng_unit()) / n_random;
        if (u > 1.0)
            u = 1.0;
        d->kind = K_RANDOM;
        d->p = 0.001 * pow(500.0, u);
        d->density = d->p;
        d->p_in = 0;
        d->group = NULL;
        d->category = j % 3 == 0 ? "行为/交易" : j % 3 == 1 ? "偏好/产品" : "模型/预测";
        snprintf(d->name, sizeof d->name, "tag_%03d", N_STRUCT + j);
    }
}

/* Sets m[i] = 1 for each i in [begin, end) with probability p, by geometric
 * skips (exactly a Bernoulli(p) process, one draw per set row). */
static void fill_bernoulli(uint8_t *m, size_t begin, size_t end, double p)
{
    if (!(p > 0) || begin >= end)
        return;
    if (p >= 1.0) {
        memset(m + begin, 1, end - begin);
        return;
    }
    const double inv = 1.0 / log1p(-p);
    size_t i = begin;
    for (;;) {
        double skip = floor(log(rng_unit()) * inv); /* failures before the next success */
        if (skip >= (double)(end - i))
            break;
        i += (size_t)skip;
        m[i++] = 1;
        if (i >= end)
            break;
    }
}

/* Blocks of 16k..256k rows; each holds the tag with probability p_block, at
 * density p_in (or a log-uniform density in [0.001, 1] when p_in < 0). */
static void fill_blocks(uint8_t *m, size_t n, double p_block, double p_in)
{
    size_t i = 0;
    while (i < n) {
        size_t len = 16384 + (size_t)rng_below(262144 - 16384 + 1);
        size_t end = len < n - i ? i + len : n;
        double hold = rng_unit();
        double dens = p_in >= 0 ? p_in : 0.001 * pow(1000.0, rng_unit());
        if (hold <= p_block)
            fill_bernoulli(m, i, end, dens);
        i = end;
    }
}

/* One label per row for a group starting at tag k0 with n_g tags. */
static void fill_group(uint8_t *const *masks, int k0, int n_g, size_t n)
{
    uint32_t cum[8];
    double acc = 0;
    for (int g = 0; g < n_g; g++) {
        acc += defs[k0 + g].p;
        cum[g] = (uint32_t)llround(acc * 100000.0);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)rng_below(100000);
        for (int g = 0; g < n_g; g++) {
            if (u < cum[g]) {
                masks[k0 + g][i] = 1;
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Reference query evaluation over uint8 columns                        */

struct qdef {
    const char *label;
    int term[N_TERMS]; /* a, b, c, d, e in `a and not b and (c or d) and e` */
    char text[512];
};

/* The plain per-row loop, with the branches of && and ||. */
static size_t naive_count(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d,
                          const uint8_t *e, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] && !b[i] && (c[i] || d[i]) && e[i])
            k++;
    return k;
}

static size_t naive_select(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d,
                           const uint8_t *e, size_t n, int64_t *rows)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] && !b[i] && (c[i] || d[i]) && e[i])
            rows[k++] = (int64_t)i;
    return k;
}

/* Branch-free: the columns hold 0 or 1, so `a & ~b & (c | d) & e` on bytes
 * (with ~ as ^ 1) is the query; gcc vectorises this loop. */
static size_t bytes_count(const uint8_t *restrict a, const uint8_t *restrict b,
                          const uint8_t *restrict c, const uint8_t *restrict d,
                          const uint8_t *restrict e, size_t n)
{
    size_t total = 0;
    size_t i = 0;
    while (i < n) {
        /* Sum in 32-bit lanes over blocks small enough not to overflow. */
        size_t end = n - i > 65536 ? i + 65536 : n;
        uint32_t k = 0;
        for (; i < end; i++)
            k += (uint32_t)(a[i] & (b[i] ^ 1u) & (c[i] | d[i]) & e[i]);
        total += k;
    }
    return total;
}

/* The query over bit-packed columns (bit i of word w is row 64w + i), one
 * fused pass with popcount: what an uncompressed bitmap scan costs at best
 * (padding bits are 0 in `a`, so ~b cannot set them). */
static size_t bits_count(const uint64_t *restrict a, const uint64_t *restrict b,
                         const uint64_t *restrict c, const uint64_t *restrict d,
                         const uint64_t *restrict e, size_t n_words)
{
    size_t k = 0;
    for (size_t w = 0; w < n_words; w++)
        k += (size_t)__builtin_popcountll(a[w] & ~b[w] & (c[w] | d[w]) & e[w]);
    return k;
}

static void pack_bits(const uint8_t *m, size_t n, uint64_t *out)
{
    memset(out, 0, (n + 63) / 64 * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i / 64] |= (uint64_t)(m[i] != 0) << (i % 64);
}

/* ------------------------------------------------------------------ */
/* Results                                                              */

struct result {
    char name[40];
    size_t rows;
    double t[BENCH_MAX_RUNS];
};

static void report(const struct result *r, int runs)
{
    double med = median_of(r->t, runs);
    printf("  %-20s %10.6f %10.6f %12.3e\n", r->name, med, min_of(r->t, runs),
           med > 0 ? (double)r->rows / med : 0);
}

static void report_machine(const struct result *r, int runs)
{
    double med = median_of(r->t, runs);
    printf("RESULT name=%s rows=%zu runs=%d median_s=%.9f min_s=%.9f rows_per_s=%.6e\n", r->name,
           r->rows, runs, med, min_of(r->t, runs), med > 0 ? (double)r->rows / med : 0);
}

/* ------------------------------------------------------------------ */
/* Verification helpers                                                  */

static size_t failures;

#define MISMATCH(...)                                                                              \
    do {                                                                                           \
        failures++;                                                                                \
        printf("MISMATCH " __VA_ARGS__);                                                           \
        fprintf(stderr, BENCH_PROG ": MISMATCH " __VA_ARGS__);                                     \
    } while (0)

static size_t count_ones(const uint8_t *m, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += m[i];
    return k;
}

/* Bytes the four chunk forms of tagset.h need for a column: 0 for an empty
 * or full chunk, 2 per row while that is no more than the bitmap (up to
 * 4096 rows in a whole chunk), else a bitmap (8 KiB; the last, partial
 * chunk's bitmap sized to its rows, in whole 64-bit words). Also counts
 * the chunks of each form. */
static size_t ideal_bytes(const uint8_t *m, size_t n, size_t forms[4])
{
    size_t bytes = 0;
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        size_t len = n - c0 < CHUNK ? n - c0 : CHUNK;
        size_t bitmap = (len + 63) / 64 * 8;
        size_t c = count_ones(m + c0, len);
        if (c == 0) {
            forms[0]++;
        } else if (c == len) {
            forms[1]++;
        } else if (2 * c <= bitmap) {
            forms[2]++;
            bytes += 2 * c;
        } else {
            forms[3]++;
            bytes += bitmap;
        }
    }
    return bytes;
}

/* Compares one set's tags with the generated columns. */
static void verify_set(const seg_tagset *set, const char *what, uint8_t *const *masks,
                       const size_t *counts, size_t n, uint8_t *tmp)
{
    char err[512] = "";
    for (int k = 0; k < N_TAGS; k++) {
        int64_t c = -1;
        bench_check(seg_tagset_count(set, TAG_ID(k), &c), "seg_tagset_count", NULL);
        if (c != (int64_t)counts[k])
            MISMATCH("%s: tag %s count %" PRId64 ", expected %zu\n", what, defs[k].name, c,
                     counts[k]);
        memset(tmp, 0xAA, n);
        bench_check(seg_tagset_get_mask(set, TAG_ID(k), tmp, n), "seg_tagset_get_mask", err);
        if (memcmp(tmp, masks[k], n) != 0) {
            size_t i = 0;
            while (tmp[i] == masks[k][i])
                i++;
            MISMATCH("%s: tag %s first differs at row %zu: %u, expected %u\n", what,
                     defs[k].name, i, tmp[i], masks[k][i]);
        }
    }
}

/* Prints `s` left-aligned in `width` terminal columns, counting a 3-byte
 * UTF-8 character (CJK) as two columns. */
static void print_padded(const char *s, int width)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w += (*p & 0xF0) == 0xE0 ? 2 : 1;
    printf("%s%*s", s, w < width ? width - w : 0, "");
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_tags [--rows N] [--runs R] [--seed S] [--write-dir DIR] [--no-verify]\n"
            "  --rows N          customers (default 10000000); 200 tags each\n"
            "  --runs R          timed runs per operation, 1..%d (default 7)\n"
            "  --seed S          PRNG seed (default 20240601)\n"
            "  --write-dir DIR   write tags.bits, tag_counts.i64, q1_rows.i64, q2_rows.i64,\n"
            "                    tag_memory.tsv and meta.txt for bench_numpy_tags.py\n"
            "  --no-verify       skip the tag-by-tag and row-by-row cross-checks\n",
            BENCH_MAX_RUNS);
}

/* Index of the random tag whose expected density is closest to `target`
 * (in log scale) among those not yet used. */
static int pick_random(double target, const int *used, int n_used)
{
    int best = -1;
    double best_d = INFINITY;
    for (int k = N_STRUCT; k < N_TAGS; k++) {
        int taken = 0;
        for (int j = 0; j < n_used; j++)
            taken |= used[j] == k;
        double d = fabs(log(defs[k].density / target));
        if (!taken && d < best_d) {
            best_d = d;
            best = k;
        }
    }
    return best;
}

static int find_def(const char *name)
{
    for (int k = 0; k < N_TAGS; k++)
        if (!strcmp(defs[k].name, name))
            return k;
    return -1;
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
    if (n < 1 || n > ((size_t)1 << 36) || runs_z < 1 || runs_z > BENCH_MAX_RUNS) {
        fprintf(stderr, "bench_tags: need 1 <= rows <= 2^36 and 1 <= runs <= %d\n",
                BENCH_MAX_RUNS);
        return 2;
    }
    int runs = (int)runs_z;

#ifndef __OPTIMIZE__
    printf("WARNING: bench_tags built without optimisation; configure with -Dbuildtype=release\n");
#endif
    printf("bench_tags: libsegment %s, rows=%zu tags=%d runs=%d seed=%zu\n", seg_version_string(),
           n, N_TAGS, runs, seed_z);

    /* ---------------- data ---------------- */
    double t0 = now_s();
    rng_state = (uint64_t)seed_z;
    define_tags();
    uint8_t *mask_mem = big_alloc((size_t)N_TAGS * n);
    uint8_t *masks[N_TAGS];
    for (int k = 0; k < N_TAGS; k++)
        masks[k] = mask_mem + (size_t)k * n;
    for (int k = 0; k < N_TAGS; k++) {
        const struct tagdef *d = &defs[k];
        switch (d->kind) {
        case K_PREFIX:
            memset(masks[k], 1, (size_t)((double)n * d->p));
            break;
        case K_SUFFIX: {
            size_t from = n - (size_t)((double)n * d->p);
            memset(masks[k] + from, 1, n - from);
            break;
        }
        case K_BLOCKS:
            fill_blocks(masks[k], n, d->p, d->p_in);
            break;
        case K_GROUP:
            if (k == 0 || !defs[k - 1].group || strcmp(defs[k - 1].group, d->group)) {
                int g = 1; /* the group's tags are consecutive */
                while (k + g < N_TAGS && defs[k + g].group && !strcmp(defs[k + g].group, d->group))
                    g++;
                fill_group(masks, k, g, n);
            }
            break;
        default:
            fill_bernoulli(masks[k], 0, n, d->p);
            break;
        }
    }
    double t_fill = now_s() - t0;
    size_t counts[N_TAGS], total_set = 0;
    for (int k = 0; k < N_TAGS; k++) {
        counts[k] = count_ones(masks[k], n);
        total_set += counts[k];
    }
    /* Ascending row lists for set_rows, in one block. */
    int64_t *row_mem = big_alloc(total_set * sizeof *row_mem);
    int64_t *row_lists[N_TAGS];
    {
        int64_t *p = row_mem;
        for (int k = 0; k < N_TAGS; k++) {
            const uint8_t *m = masks[k];
            row_lists[k] = p;
            size_t i = 0;
            for (; i + 8 <= n; i += 8) { /* skip 8 rows at a time when none holds the tag */
                uint64_t x;
                memcpy(&x, m + i, sizeof x);
                if (!x)
                    continue;
                for (size_t j = i; j < i + 8; j++)
                    if (m[j])
                        *p++ = (int64_t)j;
            }
            for (; i < n; i++)
                if (m[i])
                    *p++ = (int64_t)i;
        }
    }
    printf("generated %d tags x %zu rows in %.2f s (columns %.2f s): %zu tag memberships (mean "
           "density %.2f%%)\n",
           N_TAGS, n, now_s() - t0, t_fill, total_set,
           100.0 * (double)total_set / ((double)n * N_TAGS));

    /* ---------------- registry ---------------- */
    seg_tagreg *reg = NULL;
    t0 = now_s();
    bench_check(seg_tagreg_new(&reg, NULL), "seg_tagreg_new", NULL);
    for (int k = 0; k < N_TAGS; k++) {
        int32_t id = 0;
        bench_check(seg_tagreg_add(reg, TAG_ID(k), defs[k].name, &id), "seg_tagreg_add",
                    seg_tagreg_last_error(reg));
        bench_check(seg_tagreg_set_text(reg, id, SEG_TAG_CATEGORY, defs[k].category),
                    "seg_tagreg_set_text (category)", seg_tagreg_last_error(reg));
        if (defs[k].group)
            bench_check(seg_tagreg_set_text(reg, id, SEG_TAG_GROUP, defs[k].group),
                        "seg_tagreg_set_text (group)", seg_tagreg_last_error(reg));
    }
    bench_check(seg_tagreg_freeze(reg), "seg_tagreg_freeze", seg_tagreg_last_error(reg));
    printf("registry: %zu tags in %.1f ms\n", seg_tagreg_count(reg), (now_s() - t0) * 1e3);

    /* ---------------- queries ---------------- */
    struct qdef queries[N_QUERIES];
    {
        /* q1: a dense random tag, not a lifecycle stage, (a clustered
         * region or a rare random tag), old customers (an ordered tag). */
        int used[N_TERMS] = {-1, -1, -1, -1, -1};
        queries[0].label = "q1";
        queries[0].term[1] = used[0] = find_def("流失客户");
        queries[0].term[2] = used[1] = find_def("华南地区");
        queries[0].term[4] = used[2] = find_def("老客户");
        queries[0].term[0] = used[3] = pick_random(0.40, used, 3);
        queries[0].term[3] = pick_random(0.01, used, 4);
        /* q2: random tags only, densities ~50%, 10%, 1%, 5%, 20%. */
        static const double dens[N_TERMS] = {0.50, 0.10, 0.01, 0.05, 0.20};
        int used2[N_TERMS];
        queries[1].label = "q2";
        for (int t = 0; t < N_TERMS; t++)
            queries[1].term[t] = used2[t] = pick_random(dens[t], used2, t);
        for (int q = 0; q < N_QUERIES; q++) {
            const int *tm = queries[q].term;
            snprintf(queries[q].text, sizeof queries[q].text, "%s and not %s and (%s or %s) and %s",
                     defs[tm[0]].name, defs[tm[1]].name, defs[tm[2]].name, defs[tm[3]].name,
                     defs[tm[4]].name);
            printf("%s: %s   (densities", queries[q].label, queries[q].text);
            for (int t = 0; t < N_TERMS; t++)
                printf(" %.3f%%", 100.0 * (double)counts[tm[t]] / (double)n);
            printf(")\n");
        }
    }

    char err[512] = "";
    seg_query *compiled[N_QUERIES];
    for (int q = 0; q < N_QUERIES; q++)
        bench_check(seg_query_compile(&compiled[q], queries[q].text, strlen(queries[q].text), reg,
                                      queries[q].label, NULL, err, sizeof err),
                    "seg_query_compile", err);

    /* ---------------- building ---------------- */
    static struct result r_build_mask, r_build_rows;
    snprintf(r_build_mask.name, sizeof r_build_mask.name, "build_mask");
    snprintf(r_build_rows.name, sizeof r_build_rows.name, "build_rows");
    r_build_mask.rows = r_build_rows.rows = n * N_TAGS; /* tag cells */
    seg_tagset *set = NULL, *set_rows = NULL;
    for (int run = 0; run < runs; run++) {
        seg_tagset *s = NULL;
        double a = now_s();
        bench_check(seg_tagset_new(&s, reg, n, NULL), "seg_tagset_new", NULL);
        for (int k = 0; k < N_TAGS; k++)
            bench_check(seg_tagset_set_mask(s, TAG_ID(k), masks[k], n, 1, err, sizeof err),
                        "seg_tagset_set_mask", err);
        r_build_mask.t[run] = now_s() - a;
        seg_tagset_free(set); /* keep the last one */
        set = s;

        s = NULL;
        a = now_s();
        bench_check(seg_tagset_new(&s, reg, n, NULL), "seg_tagset_new", NULL);
        for (int k = 0; k < N_TAGS; k++)
            bench_check(seg_tagset_set_rows(s, TAG_ID(k), row_lists[k], counts[k], 1, err,
                                            sizeof err),
                        "seg_tagset_set_rows", err);
        r_build_rows.t[run] = now_s() - a;
        seg_tagset_free(set_rows);
        set_rows = s;
    }
    free(row_mem);
    bench_check(seg_tagset_freeze(set), "seg_tagset_freeze", NULL);

    /* ---------------- memory ---------------- */
    size_t lib_total = 0, lib_tags = 0, ideal_total = 0, forms[4] = {0, 0, 0, 0};
    size_t lib_bytes[N_TAGS], ideal[N_TAGS];
    const size_t n_chunks = (n + CHUNK - 1) / CHUNK;
    /* n/8 bytes, rounded up to whole 64-bit words per chunk, + 16 per chunk. */
    const size_t packed = (n + 7) / 8;
    const size_t bound = (n_chunks - 1) * (CHUNK / 8) + (n - (n_chunks - 1) * CHUNK + 63) / 64 * 8 +
                         16 * n_chunks;
    const size_t bound_padded = n_chunks * (CHUNK / 8 + 16);
    size_t over_bound = 0;
    bench_check(seg_tagset_memory(set, 0, &lib_total), "seg_tagset_memory", NULL);
    for (int k = 0; k < N_TAGS; k++) {
        bench_check(seg_tagset_memory(set, TAG_ID(k), &lib_bytes[k]), "seg_tagset_memory", NULL);
        lib_tags += lib_bytes[k];
        ideal[k] = ideal_bytes(masks[k], n, forms);
        ideal_total += ideal[k];
        /* tagset.h promises at most n/8 + 16 per chunk; a last, partial
         * chunk stored as a whole 8 KiB bitmap can exceed that by less than
         * 8 KiB: reported as a note. More than that is an error. */
        if (lib_bytes[k] > bound_padded)
            MISMATCH("memory: tag %s uses %zu bytes, above %zu chunks x (8 KiB + 16) = %zu\n",
                     defs[k].name, lib_bytes[k], n_chunks, bound_padded);
        else if (lib_bytes[k] > bound)
            over_bound++;
        size_t other = 0;
        bench_check(seg_tagset_memory(set_rows, TAG_ID(k), &other), "seg_tagset_memory", NULL);
        if (other != lib_bytes[k])
            MISMATCH("memory: tag %s uses %zu bytes built by set_mask, %zu by set_rows\n",
                     defs[k].name, lib_bytes[k], other);
    }
    if (over_bound)
        printf("NOTE memory: %zu tags use more than n/8 (in whole words) + 16 bytes per chunk = "
               "%zu (the bound tagset.h states), less than whole 8 KiB bitmaps for every chunk\n",
               over_bound, bound);
    if (lib_total < lib_tags)
        MISMATCH("memory: whole set %zu bytes < sum over tags %zu\n", lib_total, lib_tags);

    /* ---------------- query timings ---------------- */
#define N_OPS 8
    static struct result r_q[N_QUERIES][N_OPS];
    static const char *const op_names[N_OPS] = {
        "compile", "count", "select", "mask", "naive_count", "naive_select", "bytes_count",
        "bits_count"};
    const size_t n_words = (n + 63) / 64;
    uint64_t *packed_cols[N_QUERIES][N_TERMS];
    for (int q = 0; q < N_QUERIES; q++)
        for (int t = 0; t < N_TERMS; t++) {
            packed_cols[q][t] = big_alloc(n_words * sizeof(uint64_t));
            pack_bits(masks[queries[q].term[t]], n, packed_cols[q][t]);
        }
    for (int q = 0; q < N_QUERIES; q++)
        for (int o = 0; o < N_OPS; o++) {
            snprintf(r_q[q][o].name, sizeof r_q[q][o].name, "%s_%s", queries[q].label,
                     op_names[o]);
            r_q[q][o].rows = n;
        }
    int64_t *lib_rows[N_QUERIES], *ref_rows = big_alloc(n * sizeof *ref_rows);
    uint8_t *lib_mask = big_alloc(n);
    size_t lib_n[N_QUERIES] = {0}, ref_n[N_QUERIES] = {0};
    int64_t lib_count[N_QUERIES] = {0};
    for (int q = 0; q < N_QUERIES; q++)
        lib_rows[q] = big_alloc(n * sizeof *lib_rows[q]);
    for (int run = 0; run < runs; run++) {
        for (int q = 0; q < N_QUERIES; q++) {
            const int *tm = queries[q].term;
            const uint8_t *a = masks[tm[0]], *b = masks[tm[1]], *c = masks[tm[2]],
                          *d = masks[tm[3]], *e = masks[tm[4]];
            struct result *r = r_q[q];
            seg_query *tmpq = NULL;
            double s = now_s();
            bench_check(seg_query_compile(&tmpq, queries[q].text, strlen(queries[q].text), reg,
                                          queries[q].label, NULL, err, sizeof err),
                        "seg_query_compile", err);
            seg_query_free(tmpq);
            r[0].t[run] = now_s() - s;

            int64_t cnt = -1;
            s = now_s();
            bench_check(seg_query_count(compiled[q], set, &cnt, err, sizeof err),
                        "seg_query_count", err);
            r[1].t[run] = now_s() - s;

            size_t got = 0;
            s = now_s();
            bench_check(seg_query_select(compiled[q], set, 0, lib_rows[q], n, &got, err,
                                         sizeof err),
                        "seg_query_select", err);
            r[2].t[run] = now_s() - s;

            s = now_s();
            bench_check(seg_query_mask(compiled[q], set, lib_mask, n, err, sizeof err),
                        "seg_query_mask", err);
            r[3].t[run] = now_s() - s;

            s = now_s();
            size_t nc = naive_count(a, b, c, d, e, n);
            r[4].t[run] = now_s() - s;

            s = now_s();
            size_t ns = naive_select(a, b, c, d, e, n, ref_rows);
            r[5].t[run] = now_s() - s;

            s = now_s();
            size_t bc = bytes_count(a, b, c, d, e, n);
            r[6].t[run] = now_s() - s;

            uint64_t *const *pc = packed_cols[q];
            s = now_s();
            size_t wc = bits_count(pc[0], pc[1], pc[2], pc[3], pc[4], n_words);
            r[7].t[run] = now_s() - s;

            if (cnt != (int64_t)nc || got != nc || ns != nc || bc != nc || wc != nc)
                MISMATCH("%s run %d: seg_query_count %" PRId64 ", seg_query_select %zu rows, "
                         "naive count %zu, naive select %zu rows, byte loop %zu, bit loop %zu\n",
                         queries[q].label, run, cnt, got, nc, ns, bc, wc);
            lib_count[q] = cnt;
            lib_n[q] = got;
            ref_n[q] = ns;
        }
    }

    /* ---------------- verification ---------------- */
    if (verify) {
        double a = now_s();
        size_t before = failures;
        uint8_t *tmp = xmalloc(n);
        verify_set(set, "set_mask set", masks, counts, n, tmp);
        verify_set(set_rows, "set_rows set", masks, counts, n, tmp);
        for (int q = 0; q < N_QUERIES; q++) {
            const int *tm = queries[q].term;
            const uint8_t *qa = masks[tm[0]], *qb = masks[tm[1]], *qc = masks[tm[2]],
                          *qd = masks[tm[3]], *qe = masks[tm[4]];
            size_t ns = naive_select(qa, qb, qc, qd, qe, n, ref_rows);
            if (ns != lib_n[q] || memcmp(ref_rows, lib_rows[q], ns * sizeof *ref_rows) != 0) {
                size_t i = 0;
                while (i < ns && i < lib_n[q] && ref_rows[i] == lib_rows[q][i])
                    i++;
                MISMATCH("%s: seg_query_select rows differ from the naive loop at position %zu "
                         "(lib %zu rows, naive %zu)\n",
                         queries[q].label, i, lib_n[q], ns);
            }
            /* Paging: limit 4099 from one past the last row returned. */
            {
                size_t got = 0, page = 0, bad_page = 0;
                int64_t begin = 0;
                for (;;) {
                    size_t m = 0;
                    size_t lim = n - got < 4099 ? n - got : 4099;
                    bench_check(seg_query_select(compiled[q], set, begin, lib_rows[q] + got,
                                                 lim, &m, err, sizeof err),
                                "seg_query_select (paged)", err);
                    if (m == 0 || got + m > ns)
                        break;
                    got += m;
                    page++;
                    begin = lib_rows[q][got - 1] + 1;
                }
                if (got != ns || memcmp(ref_rows, lib_rows[q], ns * sizeof *ref_rows) != 0)
                    bad_page = 1;
                if (bad_page)
                    MISMATCH("%s: paging seg_query_select by 4099 rows gave %zu rows in %zu pages, "
                             "expected the %zu rows of the naive loop\n",
                             queries[q].label, got, page, ns);
            }
            bench_check(seg_query_mask(compiled[q], set, lib_mask, n, err, sizeof err),
                        "seg_query_mask", err);
            size_t bad = 0, first = 0;
            for (size_t i = 0; i < n; i++) {
                uint8_t want = (uint8_t)(qa[i] && !qb[i] && (qc[i] || qd[i]) && qe[i]);
                if (lib_mask[i] != want && bad++ == 0)
                    first = i;
            }
            if (bad)
                MISMATCH("%s: seg_query_mask differs on %zu rows (first %zu)\n", queries[q].label,
                         bad, first);
            int64_t c2 = -1;
            bench_check(seg_query_count(compiled[q], set_rows, &c2, err, sizeof err),
                        "seg_query_count", err);
            if (c2 != lib_count[q])
                MISMATCH("%s: count %" PRId64 " on the set_rows set, %" PRId64 " on set_mask's\n",
                         queries[q].label, c2, lib_count[q]);
        }
        /* Exclusive groups: the generated data holds at most one tag of a
         * group per row (so both setters must reproduce it exactly). */
        size_t overlap = 0;
        for (size_t i = 0; i < n; i++) {
            overlap += masks[6][i] + masks[7][i] + masks[8][i] + masks[9][i] > 1;
            overlap += masks[10][i] + masks[11][i] + masks[12][i] > 1;
        }
        if (overlap)
            MISMATCH("data: %zu rows hold two tags of one exclusive group\n", overlap);
        free(tmp);
        printf("verify: %zu mismatches: %s (%.1f s)\n", failures - before,
               failures > before ? "FAILED" : "ok", now_s() - a);
    }
    (void)ref_n;

    /* ---------------- report ---------------- */
    printf("\nchunk forms over all tags (%zu chunks of %d rows per tag): empty %zu, full %zu, "
           "array %zu, bitmap %zu\n",
           n_chunks, CHUNK, forms[0], forms[1], forms[2], forms[3]);
    if (n >= 4 * (size_t)CHUNK)
        for (int f = 0; f < 4; f++)
            if (!forms[f])
                fprintf(stderr, "bench_tags: warning: no chunk of form %d; the data does not "
                        "exercise every form\n", f);

    printf("\nmemory per tag (seg_tagset_memory), by density; numpy bool = %zu B/tag, "
           "bit-packed = %zu B/tag:\n", n, packed);
    printf("  %-18s %5s %14s %14s %10s %10s\n", "density", "tags", "lib_bytes", "ideal_bytes",
           "lib/(n/8)", "max/(n/8)");
    static const double edges[] = {0, 0.002, 0.005, 0.01, 0.03, 0.0625, 0.15, 0.3, 0.51, 1.01};
    for (size_t b = 0; b + 1 < sizeof edges / sizeof *edges; b++) {
        size_t nt = 0, lb = 0, ib = 0, mx = 0;
        for (int k = 0; k < N_TAGS; k++) {
            double dn = (double)counts[k] / (double)n;
            if (dn >= edges[b] && dn < edges[b + 1]) {
                nt++;
                lb += lib_bytes[k];
                ib += ideal[k];
                mx = lib_bytes[k] > mx ? lib_bytes[k] : mx;
            }
        }
        if (!nt)
            continue;
        char lab[40];
        snprintf(lab, sizeof lab, "[%.1f%%, %.1f%%)", 100 * edges[b], 100 * edges[b + 1]);
        printf("  %-18s %5zu %14zu %14zu %10.3f %10.3f\n", lab, nt, lb, ib,
               (double)lb / ((double)nt * (double)packed), (double)mx / (double)packed);
    }
    printf("  structured tags:\n");
    for (int k = 0; k < N_STRUCT; k++) {
        printf("    ");
        print_padded(defs[k].name, 14);
        printf(" %6.2f%% %12zu %14zu %10.3f\n", 100.0 * (double)counts[k] / (double)n,
               lib_bytes[k], ideal[k], (double)lib_bytes[k] / (double)packed);
    }
    {
        /* tagset.h: "a tag held by 0.1% of customers about n/500". */
        int sparsest = N_STRUCT;
        for (int k = N_STRUCT; k < N_TAGS; k++)
            if (counts[k] < counts[sparsest])
                sparsest = k;
        printf("  sparsest random tag %s (%.3f%%): %zu bytes = %.2f x n/500\n",
               defs[sparsest].name, 100.0 * (double)counts[sparsest] / (double)n,
               lib_bytes[sparsest], (double)lib_bytes[sparsest] / ((double)n / 500.0));
    }
    const double np_bool = (double)n * N_TAGS;
    printf("  whole set: %zu bytes (tags %zu + directories %zu); ideal payload %zu\n", lib_total,
           lib_tags, lib_total - lib_tags, ideal_total);
    printf("  vs numpy bool (%.0f B): %.4f; vs numpy bool / 8 (%.0f B): %.3f  (target <= 1)\n",
           np_bool, (double)lib_total / np_bool, np_bool / 8, (double)lib_total / (np_bool / 8));

    printf("\n  %-20s %10s %10s %12s\n", "operation", "median_s", "min_s", "rows/s");
    report(&r_build_mask, runs);
    report(&r_build_rows, runs);
    for (int q = 0; q < N_QUERIES; q++)
        for (int o = 0; o < N_OPS; o++)
            report(&r_q[q][o], runs);
    printf("  (build rows/s counts tag cells: customers x %d tags / median; %.1f ms per tag by "
           "mask, %.1f by rows)\n",
           N_TAGS, 1e3 * median_of(r_build_mask.t, runs) / N_TAGS,
           1e3 * median_of(r_build_rows.t, runs) / N_TAGS);
    for (int q = 0; q < N_QUERIES; q++) {
        double lc = median_of(r_q[q][1].t, runs), ls = median_of(r_q[q][2].t, runs);
        printf("  %s: %" PRId64 " rows; naive/lib: count %.1fx, select %.1fx; byte loop/lib "
               "count %.1fx; bit loop/lib count %.2fx\n",
               queries[q].label, lib_count[q], median_of(r_q[q][4].t, runs) / lc,
               median_of(r_q[q][5].t, runs) / ls, median_of(r_q[q][6].t, runs) / lc,
               median_of(r_q[q][7].t, runs) / lc);
    }

    printf("\n");
    report_machine(&r_build_mask, runs);
    report_machine(&r_build_rows, runs);
    for (int q = 0; q < N_QUERIES; q++)
        for (int o = 0; o < N_OPS; o++)
            report_machine(&r_q[q][o], runs);
    printf("MEMORY lib_total_bytes=%zu lib_tag_bytes=%zu ideal_bytes=%zu numpy_bool_bytes=%.0f "
           "numpy_bool_div8_bytes=%.0f ratio_vs_bool=%.6f ratio_vs_bool_div8=%.4f tags=%d "
           "rows=%zu\n",
           lib_total, lib_tags, ideal_total, np_bool, np_bool / 8, (double)lib_total / np_bool,
           (double)lib_total / (np_bool / 8), N_TAGS, n);
    for (int q = 0; q < N_QUERIES; q++) {
        const int *tm = queries[q].term;
        printf("QUERY name=%s count=%" PRId64 " terms=%d,%d,%d,%d,%d\n", queries[q].label,
               lib_count[q], tm[0], tm[1], tm[2], tm[3], tm[4]);
    }

    /* ---------------- files for bench_numpy_tags.py ---------------- */
    if (write_dir) {
        double a = now_s();
        int wbad = 0;
        const size_t stride = (n + 63) / 64 * 8;
        uint8_t *bits = xmalloc(stride);
        char path[4096];
        snprintf(path, sizeof path, "%s/tags.bits", write_dir);
        FILE *f = fopen(path, "wb");
        if (!f) {
            fprintf(stderr, "bench_tags: cannot open %s: %s\n", path, strerror(errno));
            return 2;
        }
        for (int k = 0; k < N_TAGS; k++) {
            memset(bits, 0, stride);
            for (size_t i = 0; i < n; i++)
                bits[i >> 3] |= (uint8_t)(masks[k][i] << (i & 7));
            wbad |= fwrite(bits, 1, stride, f) != stride;
        }
        wbad |= fclose(f) != 0;
        free(bits);
        int64_t cnt64[N_TAGS];
        for (int k = 0; k < N_TAGS; k++)
            cnt64[k] = (int64_t)counts[k];
        wbad |= write_raw(write_dir, "tag_counts.i64", cnt64, sizeof cnt64);
        for (int q = 0; q < N_QUERIES; q++) {
            char name[64];
            snprintf(name, sizeof name, "%s_rows.i64", queries[q].label);
            wbad |= write_raw(write_dir, name, lib_rows[q], lib_n[q] * sizeof *lib_rows[q]);
        }
        snprintf(path, sizeof path, "%s/tag_memory.tsv", write_dir);
        f = fopen(path, "w");
        if (f) {
            fprintf(f, "id\tname\tdensity\tcount\tlib_bytes\tideal_bytes\tnumpy_bool_bytes\t"
                       "packed_bytes\n");
            for (int k = 0; k < N_TAGS; k++)
                fprintf(f, "%d\t%s\t%.6f\t%zu\t%zu\t%zu\t%zu\t%zu\n", TAG_ID(k), defs[k].name,
                        (double)counts[k] / (double)n, counts[k], lib_bytes[k], ideal[k], n,
                        packed);
            wbad |= fclose(f) != 0;
        } else {
            wbad = 1;
        }
        char meta[1024];
        int len = snprintf(meta, sizeof meta,
                           "rows=%zu\ntags=%d\nstride=%zu\nruns=%d\nseed=%zu\n"
                           "q1_terms=%d,%d,%d,%d,%d\nq1_count=%" PRId64 "\n"
                           "q2_terms=%d,%d,%d,%d,%d\nq2_count=%" PRId64 "\n",
                           n, N_TAGS, stride, runs, seed_z, queries[0].term[0],
                           queries[0].term[1], queries[0].term[2], queries[0].term[3],
                           queries[0].term[4], lib_count[0], queries[1].term[0],
                           queries[1].term[1], queries[1].term[2], queries[1].term[3],
                           queries[1].term[4], lib_count[1]);
        /* meta.txt last: its presence means the directory is complete. */
        wbad |= write_raw(write_dir, "meta.txt", meta, (size_t)len);
        if (wbad) {
            fprintf(stderr, "bench_tags: writing %s failed\n", write_dir);
            return 2;
        }
        printf("wrote raw files to %s in %.1f s\n", write_dir, now_s() - a);
    }

    for (int q = 0; q < N_QUERIES; q++) {
        seg_query_free(compiled[q]);
        free(lib_rows[q]);
        for (int t = 0; t < N_TERMS; t++)
            free(packed_cols[q][t]);
    }
    seg_tagset_free(set);
    seg_tagset_free(set_rows);
    seg_tagreg_free(reg);
    free(ref_rows);
    free(lib_mask);
    free(mask_mem);
    if (failures) {
        fprintf(stderr, "bench_tags: verification FAILED (%zu mismatches)\n", failures);
        return 1;
    }
    return 0;
}
