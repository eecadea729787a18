/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the numeric analytics APIs (profile.h, kmeans.h,
 * experiment.h), driven by arrays and options decoded from the input bytes
 * (fuzz_common.h's reader: doubles with NaN/Inf/huge/subnormal values, labels
 * from small to extreme, validity bitmaps, random parameters).
 *
 * The first byte (mod 6) picks the API; each is checked against a small
 * reference the harness computes itself from the documented semantics:
 *
 *   0  seg_profile_compute: labels (one array or a pair), double / int32 /
 *      int64 columns with validity bitmaps, 0 rows, flags; groups in
 *      ascending (label, label2) order with their sizes and shares; per
 *      group and over all rows: count, missing, min, max exactly, sum and
 *      mean within 1e-13 sum|x| of the true (long double) sum, infinite
 *      exactly when that overflows or a value is infinite (NaN with both
 *      signs), share == sum / total sum, the standard deviation against a
 *      two-pass one, the median exactly (sorting) on finite data; bad flags,
 *      duplicate, unknown and text columns refused with `*out` untouched;
 *   1  seg_kmeans_fit: 1..3 features with any transform, small k / n_init /
 *      max_iter, few or duplicate rows, missing rows (label -1), infinities
 *      and log1p domain errors (SEG_EDATA, labels untouched; near the
 *      overflow limit of kmeans.h, about 1e154 transformed, SEG_EDATA or
 *      success are both accepted, below it success is required); on success
 *      labels in range, sizes >= 1 summing to the labelled rows, inertia >= 0
 *      and equal to the sum of squared distances recomputed in transformed
 *      space (the harness's own transforms of the data and of the centroids)
 *      and to the sum of seg_kmeans_predict's distances; predict on the
 *      training frame gives the fit labels (on a tie an equally near
 *      cluster: duplicates split over clusters); save -> load -> save
 *      identical and the re-loaded model predicts the same;
 *   2  seg_ab_hash / seg_ab_assign / seg_ab_assign_stratified against the
 *      algorithm written out in experiment.h (hash, bounds, holdout, strata
 *      ordered by u, id bytes, position) and the per-stratum balance;
 *   3, 4, 5  seg_ab_proportions, seg_ab_means, seg_ab_sample_size + seg_ab_mde:
 *      the documented status for each argument, then finite outputs (NaN
 *      only where documented), p-values in [0, 1], intervals containing the
 *      estimate, the statistics against a recomputation, sample size
 *      against the formula and mde as its inverse.
 *
 * Rows are capped at a few hundred so the target stays fast. FUZZ_DUMP=1
 * prints the k-means input and labels; FUZZ_SKIP_KNOWN=1 steps around the
 * findings reported but not yet fixed (see skip_known()).
 */
#include "fuzz_common.h"

#include <float.h>

#define ERR_CAP 256
#define MAX_COLS 4

/* Values no call may write on failure. */
#define CANARY_I32 ((int32_t)0x5EED5EED)
#define CANARY_DBL (-1234567.25)
static char canary_obj;
#define CANARY_MARK (&canary_obj)

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* FUZZ_SKIP_KNOWN=1: do not stop on the findings already reported (for
 * long campaigns while a fix is pending): a pooled rate that rounds to 0 or
 * 1 in seg_ab_proportions, a Welch p-value of 1 + 2^-52. */
static int skip_known(void)
{
    static int v = -1;
    if (v < 0)
        v = getenv("FUZZ_SKIP_KNOWN") != NULL;
    return v;
}

static int near(double got, double want, double tol)
{
    return fabs(got - want) <= tol;
}

/* ------------------------------------------------------------------------
 * Columns decoded from the input: double, int32 or int64, with an optional
 * validity bitmap. col_get() gives the value as the library sees it (NaN
 * when missing).
 * ---------------------------------------------------------------------- */

enum { K_DOUBLE, K_INT32, K_INT64 };

typedef struct col {
    int kind;
    double *d;
    int32_t *i32;
    int64_t *i64;
    uint8_t *valid;
} col;

static double col_get(const col *c, size_t i)
{
    if (c->valid && !((c->valid[i / 8] >> (i % 8)) & 1))
        return NAN;
    return c->kind == K_DOUBLE  ? c->d[i]
           : c->kind == K_INT32 ? (double)c->i32[i]
                                : (double)c->i64[i];
}

static const double specials[] = {0.0,      -0.0,     1.0,       -1.0,
                                  0.5,      1e300,    -1e300,    DBL_MAX,
                                  -DBL_MAX, 5e-324,   -5e-324,   2.2250738585072014e-308,
                                  NAN,      INFINITY, -INFINITY, 9007199254740993.0,
                                  -0.99,    -1.0};

/* A value in mode `mode`: 0 tame (small integers and halves, few NaN),
 * 1 specials, 2 raw fz_double. */
static double gen_double(fz_reader *r, int mode)
{
    uint8_t b = fz_u8(r);
    if (mode == 0 || (mode == 1 && b < 128))
        return b % 29 == 0 ? NAN : (double)((int)(b % 41) - 20) / ((b & 64) ? 2.0 : 1.0);
    if (mode == 1)
        return specials[b % (sizeof specials / sizeof *specials)];
    return fz_double(r);
}

/* Fills column `c` of `n` rows and adds it to `f` as `name`. Tame columns
 * (mode 0) keep small values; others reach the extremes of each type. */
static void col_make(fz_reader *r, col *c, size_t n, int mode, seg_frame *f, const char *name)
{
    memset(c, 0, sizeof *c);
    uint8_t sel = fz_u8(r);
    c->kind = sel % 3;
    if (sel & 4) {
        c->valid = fz_xmalloc((n + 7) / 8);
        for (size_t i = 0; i < (n + 7) / 8; i++)
            c->valid[i] = (uint8_t)(fz_u8(r) | ((sel & 8) ? 0xf0 : 0));
    }
    int32_t rc;
    if (c->kind == K_DOUBLE) {
        c->d = fz_xmalloc(n * sizeof *c->d);
        for (size_t i = 0; i < n; i++)
            c->d[i] = gen_double(r, mode);
        rc = seg_frame_add_double(f, name, c->d, c->valid);
    } else if (c->kind == K_INT32) {
        c->i32 = fz_xmalloc(n * sizeof *c->i32);
        for (size_t i = 0; i < n; i++) {
            uint8_t b = fz_u8(r);
            c->i32[i] = (mode && b >= 200) ? (int32_t)fz_u32(r) : (int32_t)(b % 41) - 20;
        }
        rc = seg_frame_add_int32(f, name, c->i32, c->valid);
    } else {
        c->i64 = fz_xmalloc(n * sizeof *c->i64);
        for (size_t i = 0; i < n; i++) {
            uint8_t b = fz_u8(r);
            c->i64[i] = (mode && b >= 240)   ? (b & 1 ? INT64_MAX : INT64_MIN)
                        : (mode && b >= 200) ? (int64_t)fz_u64(r)
                                             : (int64_t)(b % 41) - 20;
        }
        rc = seg_frame_add_int64(f, name, c->i64, c->valid);
    }
    CHECK(rc == SEG_OK, "adding column %s gave %d", name, (int)rc);
}

static void col_free(col *c)
{
    free(c->d);
    free(c->i32);
    free(c->i64);
    free(c->valid);
}

static const char *const col_names[MAX_COLS] = {"c0", "列1", "c2", "c3"};

/* ------------------------------------------------------------------------
 * 0: profiles
 * ---------------------------------------------------------------------- */

typedef struct lrow {
    int32_t l1, l2;
    size_t row;
} lrow;

static int cmp_lrow(const void *a, const void *b)
{
    const lrow *x = a, *y = b;
    if (x->l1 != y->l1)
        return x->l1 < y->l1 ? -1 : 1;
    if (x->l2 != y->l2)
        return x->l2 < y->l2 ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int32_t gen_label(fz_reader *r, int mode)
{
    static const int32_t extreme[] = {INT32_MIN, INT32_MAX, 0, -1, INT32_MIN + 1, INT32_MAX - 1};
    uint8_t b = fz_u8(r);
    switch (mode) {
    case 0:
        return (int32_t)(b % 5) - 2;
    case 1:
        return extreme[b % 6];
    case 2:
        return (int32_t)b * 1000003 - 100000000;
    default:
        return b < 32 ? (int32_t)fz_u32(r) : extreme[b % 6];
    }
}

static double stat_of(const seg_profile *p, size_t g, size_t c, int32_t s, int total)
{
    double v = -12345.0;
    int32_t rc = total ? seg_profile_total(p, c, s, &v) : seg_profile_value(p, g, c, s, &v);
    CHECK(rc == SEG_OK, "profile %s(%zu, %zu, %d) gave %d", total ? "total" : "value", g, c, (int)s,
          (int)rc);
    return v;
}

/* Checks the statistics of one group (or the totals) against the values
 * vals[0..nv) present and `missing` missing. */
static void check_stats(const seg_profile *p, size_t g, size_t c, int total, double *vals,
                        size_t nv, size_t missing, int median, const char *what)
{
    double st[9];
    for (int32_t s = 0; s < 9; s++)
        st[s] = stat_of(p, g, c, s, total);
    CHECK(st[SEG_STAT_COUNT] == (double)nv, "%s g%zu c%zu: count %g, want %zu", what, g, c,
          st[SEG_STAT_COUNT], nv);
    CHECK(st[SEG_STAT_MISSING] == (double)missing, "%s g%zu c%zu: missing %g, want %zu", what, g, c,
          st[SEG_STAT_MISSING], missing);
    if (nv == 0) {
        CHECK(st[SEG_STAT_SUM] == 0 && isnan(st[SEG_STAT_MEAN]) && isnan(st[SEG_STAT_MIN]) &&
                  isnan(st[SEG_STAT_MAX]) && isnan(st[SEG_STAT_STD]) && isnan(st[SEG_STAT_MEDIAN]),
              "%s g%zu c%zu: no value: sum %g mean %g min %g max %g std %g median %g", what, g, c,
              st[SEG_STAT_SUM], st[SEG_STAT_MEAN], st[SEG_STAT_MIN], st[SEG_STAT_MAX],
              st[SEG_STAT_STD], st[SEG_STAT_MEDIAN]);
        return;
    }
    double mn = INFINITY, mx = -INFINITY, maxabs = 0;
    long double sum = 0, abs_sum = 0;
    int pinf = 0, ninf = 0;
    for (size_t i = 0; i < nv; i++) {
        mn = vals[i] < mn ? vals[i] : mn;
        mx = vals[i] > mx ? vals[i] : mx;
        pinf |= vals[i] == INFINITY;
        ninf |= vals[i] == -INFINITY;
        if (isfinite(vals[i])) {
            sum += vals[i];
            abs_sum += fabs(vals[i]);
            maxabs = fabs(vals[i]) > maxabs ? fabs(vals[i]) : maxabs;
        }
    }
    CHECK(st[SEG_STAT_MIN] == mn && st[SEG_STAT_MAX] == mx,
          "%s g%zu c%zu: min %g max %g, want %g %g", what, g, c, st[SEG_STAT_MIN], st[SEG_STAT_MAX],
          mn, mx);
    if (pinf || ninf) {
        double want = pinf && ninf ? NAN : pinf ? INFINITY : -INFINITY;
        CHECK((isnan(want) && isnan(st[SEG_STAT_SUM]) && isnan(st[SEG_STAT_MEAN])) ||
                  (st[SEG_STAT_SUM] == want && st[SEG_STAT_MEAN] == want),
              "%s g%zu c%zu: with infinities sum %g mean %g, want %g", what, g, c, st[SEG_STAT_SUM],
              st[SEG_STAT_MEAN], want);
        CHECK(isnan(st[SEG_STAT_STD]), "%s g%zu c%zu: std %g with an infinity", what, g, c,
              st[SEG_STAT_STD]);
    } else if (fabsl(sum) >= (long double)DBL_MAX * (1 + 1e-12L)) {
        /* profile.h: infinite exactly when the true sum exceeds the range. */
        double want = sum > 0 ? INFINITY : -INFINITY;
        CHECK(st[SEG_STAT_SUM] == want && st[SEG_STAT_MEAN] == want,
              "%s g%zu c%zu: sum %g mean %g, the true sum %Lg overflows", what, g, c,
              st[SEG_STAT_SUM], st[SEG_STAT_MEAN], sum);
    } else if (fabsl(sum) <= (long double)DBL_MAX * (1 - 1e-12L)) {
        long double tol = 1e-13L * abs_sum + 1e-300L;
        CHECK(fabsl((long double)st[SEG_STAT_SUM] - sum) <= tol,
              "%s g%zu c%zu: sum %.17g, want %.17Lg", what, g, c, st[SEG_STAT_SUM], sum);
        CHECK(fabsl((long double)st[SEG_STAT_MEAN] - sum / (long double)nv) <=
                  tol / (long double)nv,
              "%s g%zu c%zu: mean %.17g, want %.17Lg", what, g, c, st[SEG_STAT_MEAN],
              sum / (long double)nv);
        if (nv < 2) {
            CHECK(isnan(st[SEG_STAT_STD]), "%s g%zu c%zu: std %g of one value", what, g, c,
                  st[SEG_STAT_STD]);
        } else if (maxabs < 1e150) {
            long double m = sum / (long double)nv, ss = 0;
            for (size_t i = 0; i < nv; i++)
                ss += ((long double)vals[i] - m) * ((long double)vals[i] - m);
            double want = (double)sqrtl(ss / (long double)(nv - 1));
            CHECK(near(st[SEG_STAT_STD], want, 1e-9 * want + 8 * DBL_EPSILON * maxabs + 1e-150),
                  "%s g%zu c%zu: std %.17g, want %.17g", what, g, c, st[SEG_STAT_STD], want);
        }
    }
    if (!median) {
        CHECK(isnan(st[SEG_STAT_MEDIAN]), "%s: median %g with NO_MEDIAN", what,
              st[SEG_STAT_MEDIAN]);
    } else if (!pinf && !ninf) {
        qsort(vals, nv, sizeof *vals, cmp_dbl);
        double lo = vals[(nv - 1) / 2], hi = vals[nv / 2];
        double want = lo == hi ? lo : lo / 2 + hi / 2;
        CHECK(st[SEG_STAT_MEDIAN] == want, "%s g%zu c%zu: median %.17g, want %.17g", what, g, c,
              st[SEG_STAT_MEDIAN], want);
    }
}

static void op_profile(fz_reader *r)
{
    size_t n = (size_t)fz_range(r, 0, 300);
    if (fz_u8(r) < 16)
        n = 0;
    size_t nc = (size_t)fz_range(r, 0, MAX_COLS);
    int lmode = (int)fz_range(r, 0, 3);
    int two = fz_u8(r) & 1;
    int lmode2 = (int)fz_range(r, 0, 3);
    int32_t flags = (fz_u8(r) & 1) ? SEG_PROFILE_NO_MEDIAN : 0;
    uint8_t bad = fz_u8(r);

    int32_t *l1 = fz_xmalloc(n * sizeof *l1), *l2 = two ? fz_xmalloc(n * sizeof *l2) : NULL;
    for (size_t i = 0; i < n; i++) {
        l1[i] = gen_label(r, lmode);
        if (two)
            l2[i] = gen_label(r, lmode2);
    }
    seg_frame *f = NULL;
    FZ_OK(seg_frame_new(&f, n, NULL));
    col cols[MAX_COLS];
    for (size_t c = 0; c < nc; c++)
        col_make(r, &cols[c], n, (int)fz_range(r, 0, 2), f, col_names[c]);
    const char **txt = fz_xmalloc(n * sizeof *txt);
    for (size_t i = 0; i < n; i++)
        txt[i] = i % 3 ? "a" : NULL;
    FZ_OK(seg_frame_add_string(f, "text", txt, NULL));

    /* Refused calls: `*out` untouched, a message. */
    const char *names[MAX_COLS + 1];
    for (size_t c = 0; c < nc; c++)
        names[c] = col_names[c];
    int32_t want_rc = SEG_OK, bad_flags = flags;
    size_t bad_nc = nc;
    switch (bad % 8) {
    case 0:
        bad_flags = flags | (int32_t)(2u << (bad / 8 % 30));
        want_rc = SEG_EINVAL;
        break;
    case 1:
        if (nc) {
            names[nc] = col_names[bad / 8 % nc];
            bad_nc = nc + 1;
            want_rc = SEG_EINVAL;
        }
        break;
    case 2:
        names[nc] = "nope";
        bad_nc = nc + 1;
        want_rc = SEG_ENOTFOUND;
        break;
    case 3:
        names[nc] = "text";
        bad_nc = nc + 1;
        want_rc = SEG_EINVAL;
        break;
    default:
        break;
    }
    if (want_rc != SEG_OK) {
        seg_profile *p = (seg_profile *)CANARY_MARK;
        char err[ERR_CAP] = "";
        int32_t rc =
            seg_profile_compute(&p, f, l1, l2, names, bad_nc, bad_flags, NULL, err, sizeof err);
        CHECK(rc == want_rc && p == (seg_profile *)CANARY_MARK && err[0] != '\0',
              "bad profile call (case %d) gave %d (want %d), out %p, message \"%s\"", bad % 8,
              (int)rc, (int)want_rc, (void *)p, err);
        fz_check_msg(err, sizeof err, "profile");
    }

    seg_profile *p = NULL;
    char err[ERR_CAP] = "";
    int32_t rc = seg_profile_compute(&p, f, l1, l2, names, nc, flags, NULL, err, sizeof err);
    CHECK(rc == SEG_OK, "seg_profile_compute gave %d: %s", (int)rc, err);

    /* Reference groups: rows sorted by (label, label2). */
    lrow *lr = fz_xmalloc(n * sizeof *lr);
    for (size_t i = 0; i < n; i++)
        lr[i] = (lrow){l1[i], two ? l2[i] : 0, i};
    qsort(lr, n, sizeof *lr, cmp_lrow);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++)
        ng += i == 0 || lr[i].l1 != lr[i - 1].l1 || lr[i].l2 != lr[i - 1].l2;
    CHECK(seg_profile_n_groups(p) == ng, "n_groups %zu, want %zu", seg_profile_n_groups(p), ng);
    CHECK(seg_profile_n_columns(p) == nc, "n_columns %zu, want %zu", seg_profile_n_columns(p), nc);
    double *vals = fz_xmalloc(n * sizeof *vals);
    size_t g = 0;
    for (size_t i = 0; i < n; g++) {
        size_t j = i;
        while (j < n && lr[j].l1 == lr[i].l1 && lr[j].l2 == lr[i].l2)
            j++;
        int32_t gl1 = 7, gl2 = 7;
        int64_t cnt = -1;
        double share = -1;
        CHECK(seg_profile_group(p, g, &gl1, &gl2, &cnt, &share) == SEG_OK, "group %zu", g);
        CHECK(gl1 == lr[i].l1 && gl2 == lr[i].l2 && cnt == (int64_t)(j - i) &&
                  share == (double)(j - i) / (double)n,
              "group %zu: (%d, %d) x %lld share %g, want (%d, %d) x %zu", g, (int)gl1, (int)gl2,
              (long long)cnt, share, (int)lr[i].l1, (int)lr[i].l2, j - i);
        for (size_t c = 0; c < nc; c++) {
            size_t nv = 0;
            for (size_t k = i; k < j; k++) {
                double v = col_get(&cols[c], lr[k].row);
                if (!isnan(v))
                    vals[nv++] = v;
            }
            check_stats(p, g, c, 0, vals, nv, (j - i) - nv, !flags, "group");
            double gs = stat_of(p, g, c, SEG_STAT_SUM, 0), ts = stat_of(p, 0, c, SEG_STAT_SUM, 1);
            double sh = stat_of(p, g, c, SEG_STAT_SHARE, 0), want = ts != 0 ? gs / ts : NAN;
            CHECK(sh == want || (isnan(sh) && isnan(want)), "share %g, want %g / %g", sh, gs, ts);
        }
        i = j;
    }
    for (size_t c = 0; c < nc; c++) {
        size_t nv = 0;
        for (size_t i = 0; i < n; i++) {
            double v = col_get(&cols[c], i);
            if (!isnan(v))
                vals[nv++] = v;
        }
        check_stats(p, 0, c, 1, vals, nv, n - nv, !flags, "total");
        double ts = stat_of(p, 0, c, SEG_STAT_SUM, 1), sh = stat_of(p, 0, c, SEG_STAT_SHARE, 1);
        CHECK(ts != 0 ? sh == 1.0 : isnan(sh), "total share %g of sum %g", sh, ts);
    }
    /* Accessors out of range. */
    double v = 42;
    CHECK(seg_profile_value(p, ng, 0, SEG_STAT_SUM, &v) == SEG_ERANGE && v == 42, "bad group");
    CHECK(seg_profile_total(p, nc, SEG_STAT_SUM, &v) == SEG_ERANGE && v == 42, "bad column");
    if (nc && ng)
        CHECK(seg_profile_value(p, 0, 0, 9, &v) == SEG_EINVAL && v == 42, "bad stat");
    CHECK(seg_profile_group(p, ng, NULL, NULL, NULL, NULL) == SEG_ERANGE, "bad group index");

    seg_profile_free(p);
    free(vals);
    free(lr);
    seg_frame_free(f);
    for (size_t c = 0; c < nc; c++)
        col_free(&cols[c]);
    free(txt);
    free(l1);
    free(l2);
}

/* ------------------------------------------------------------------------
 * 1: k-means
 * ---------------------------------------------------------------------- */

#define KM_MAX_ROWS 160
#define KM_MAX_K 6

/* Type-7 quantile of sorted x[0..n). */
static double q7(const double *x, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return x[lo] + (h - (double)lo) * (x[hi] - x[lo]);
}

/* The harness's own transform of feature values: z = (g(x) - shift) / scale. */
typedef struct xform {
    int32_t kind;
    double shift, scale;
} xform;

static double xf_apply(const xform *t, double x)
{
    return ((t->kind == SEG_XF_LOG1P ? log1p(x) : x) - t->shift) / t->scale;
}

static xform xf_fit(int32_t kind, const double *x, size_t n, double *tmp)
{
    xform t = {kind, 0, 1};
    if (kind == SEG_XF_ZSCORE) {
        /* long double: squares of values near 1e-200 do not underflow */
        long double s = 0, ss = 0, mean;
        for (size_t i = 0; i < n; i++)
            s += x[i];
        mean = s / (long double)n;
        for (size_t i = 0; i < n; i++)
            ss += (x[i] - mean) * (x[i] - mean);
        t.shift = (double)mean;
        t.scale = (double)sqrtl(ss / (long double)n);
    } else if (kind == SEG_XF_MINMAX || kind == SEG_XF_ROBUST) {
        memcpy(tmp, x, n * sizeof *x);
        qsort(tmp, n, sizeof *tmp, cmp_dbl);
        t.shift = kind == SEG_XF_MINMAX ? tmp[0] : q7(tmp, n, 0.5);
        t.scale = kind == SEG_XF_MINMAX ? tmp[n - 1] - tmp[0] : q7(tmp, n, 0.75) - q7(tmp, n, 0.25);
    }
    if (t.scale == 0)
        t.scale = 1;
    return t;
}

static char *km_save(const seg_kmeans *km, size_t *len)
{
    CHECK(seg_kmeans_save(km, NULL, 0, len) == SEG_OK, "kmeans save size");
    char *buf = fz_xmalloc(*len + 1);
    size_t len2 = 0;
    CHECK(seg_kmeans_save(km, buf, *len + 1, &len2) == SEG_OK && len2 == *len, "kmeans save");
    return buf;
}

static void op_kmeans(fz_reader *r)
{
    size_t n = (size_t)fz_range(r, 0, KM_MAX_ROWS);
    if (fz_u8(r) < 64)
        n = (size_t)fz_range(r, 0, 8);
    size_t nf = (size_t)fz_range(r, 1, 3);
    int tame = fz_u8(r) >= 64;
    int32_t k = (int32_t)fz_range(r, 1, KM_MAX_K);
    int32_t n_init = (int32_t)fz_range(r, 1, 3), max_iter = (int32_t)fz_range(r, 1, 20);
    static const double tols[] = {0, 1e-4, 1e-12, 1, 1e300};
    double tol = tols[fz_u8(r) % 5];
    double seed = (double)fz_u8(r);
    int32_t algo = fz_u8(r) & 1, asc = fz_u8(r) & 1;
    int32_t order_by = (int32_t)fz_range(r, -1, (int64_t)nf); /* nf: SEG_ERANGE */
    int dup = fz_u8(r) < 64;

    seg_frame *f = NULL;
    FZ_OK(seg_frame_new(&f, n, NULL));
    col cols[3];
    int32_t xf[3];
    seg_kmeans *km = NULL;
    FZ_OK(seg_kmeans_new(&km, NULL));
    for (size_t c = 0; c < nf; c++) {
        col_make(r, &cols[c], n, tame ? 0 : (int)fz_range(r, 0, 2), f, col_names[c]);
        if (dup && cols[c].kind == K_DOUBLE) /* duplicate points */
            for (size_t i = 1; i < n; i++)
                if (i % 4)
                    cols[c].d[i] = cols[c].d[i - 1];
        xf[c] = (int32_t)fz_range(r, 0, 4);
        CHECK(seg_kmeans_add_feature(km, col_names[c], xf[c]) == SEG_OK, "add_feature");
    }
    CHECK(seg_kmeans_add_feature(km, col_names[0], 0) == SEG_EEXISTS, "feature added twice");
    CHECK(seg_kmeans_add_feature(km, "c9", 5) == SEG_EINVAL, "unknown transform");
    const struct {
        int32_t param;
        double value;
    } params[] = {{SEG_KM_K, k},
                  {SEG_KM_N_INIT, n_init},
                  {SEG_KM_MAX_ITER, max_iter},
                  {SEG_KM_TOL, tol},
                  {SEG_KM_SEED, seed},
                  {SEG_KM_ALGORITHM, algo},
                  {SEG_KM_ORDER_BY, order_by},
                  {SEG_KM_ORDER_ASC, asc}};
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
        CHECK(seg_kmeans_set_param(km, params[i].param, params[i].value) == SEG_OK,
              "set_param(%d, %g)", (int)params[i].param, params[i].value);
        double got = -7;
        CHECK(seg_kmeans_get_param(km, params[i].param, &got) == SEG_OK && got == params[i].value,
              "get_param(%d) = %g", (int)params[i].param, got);
    }
    CHECK(seg_kmeans_set_param(km, SEG_KM_K, 0) == SEG_ERANGE, "k = 0");
    CHECK(seg_kmeans_set_param(km, SEG_KM_K, 1.5) == SEG_ERANGE, "k = 1.5");
    CHECK(seg_kmeans_set_param(km, SEG_KM_TOL, NAN) == SEG_ERANGE, "tol NaN");

    /* Expected status: complete rows, infinities, log1p domain. */
    size_t complete = 0;
    int bad_complete = 0, bad_any = 0;
    double *x = fz_xmalloc((nf * n + 1) * sizeof *x); /* complete rows, feature-major */
    int *is_complete = fz_xmalloc((n + 1) * sizeof *is_complete);
    for (size_t i = 0; i < n; i++) {
        int miss = 0, bad = 0;
        for (size_t c = 0; c < nf; c++) {
            double v = col_get(&cols[c], i);
            miss |= isnan(v);
            bad |= isinf(v) || (xf[c] == SEG_XF_LOG1P && v <= -1);
        }
        is_complete[i] = !miss;
        bad_any |= bad;
        bad_complete |= bad && !miss;
        complete += !miss;
    }
    /* Both a data error and a bad ORDER_BY: either code (no order given). */
    int e_range = order_by >= (int32_t)nf, e_data = bad_complete || complete < (size_t)k;
    int32_t want = e_range ? SEG_ERANGE : e_data ? SEG_EDATA : SEG_OK;
    int32_t *labels = fz_xmalloc((n + 1) * sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = CANARY_I32;
    /* The harness's transforms, fitted on the complete rows. kmeans.h:
     * values so far apart that a scale or a squared distance overflows
     * (about 1e154 transformed) are SEG_EDATA; near that limit either
     * outcome is accepted ("ovf"), below it the fit must succeed. */
    xform t[3];
    int ovf = 0;
    if (!bad_complete && complete > 0) {
        double *tmp = fz_xmalloc((complete + 1) * sizeof *tmp);
        for (size_t c = 0; c < nf; c++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (is_complete[i])
                    x[c * n + m++] = col_get(&cols[c], i);
            t[c] = xf_fit(xf[c], x + c * n, m, tmp);
            ovf |= !isfinite(t[c].shift) || !isfinite(t[c].scale);
            /* raw values above 1e150: the library's intermediate squares
             * (variance, x - shift) may overflow even if z is moderate;
             * below 1e-150 they underflow, and the library's deviation
             * (scaled by the largest one) can give a subnormal z-score
             * scale where the plain formula here gives 0 */
            for (size_t i = 0; i < m && !ovf; i++) {
                double z = xf_apply(&t[c], x[c * n + i]), v = fabs(x[c * n + i]);
                ovf |= !(fabs(z) <= 1e150) || !(v <= 1e150) || (v > 0 && v < 1e-150);
            }
        }
        free(tmp);
    }
    if (getenv("FUZZ_DUMP")) {
        fprintf(stderr, "fit: n %zu k %d n_init %d max_iter %d tol %g algo %d order_by %d\n", n,
                (int)k, (int)n_init, (int)max_iter, tol, (int)algo, (int)order_by);
        for (size_t c = 0; c < nf; c++)
            fprintf(stderr, "  feature %zu: transform %d\n", c, (int)xf[c]);
        for (size_t i = 0; i < n; i++) {
            fprintf(stderr, "  row %zu:", i);
            for (size_t c = 0; c < nf; c++)
                fprintf(stderr, " %.17g", col_get(&cols[c], i));
            fputc('\n', stderr);
        }
    }
    int32_t rc = seg_kmeans_fit(km, f, labels);
    /* a bad value in an incomplete row, or values near the overflow limit */
    int ambiguous = want == SEG_OK && (bad_any || ovf);
    CHECK(rc == want || (ambiguous && rc == SEG_EDATA) ||
              (e_range && (e_data || bad_any) && rc == SEG_EDATA),
          "kmeans_fit gave %d, want %d (n %zu, complete %zu, k %d): %s", (int)rc, (int)want, n,
          complete, (int)k, seg_kmeans_last_error(km));
    if (rc != SEG_OK) {
        CHECK(seg_kmeans_is_fitted(km) == 0, "failed fit left a fitted model");
        CHECK(seg_kmeans_last_error(km)[0] != '\0', "failed fit without a message");
        for (size_t i = 0; i < n; i++)
            CHECK(labels[i] == CANARY_I32, "failed fit wrote labels[%zu]", i);
        int32_t pl = CANARY_I32;
        CHECK(seg_kmeans_predict(km, f, &pl, NULL, NULL, 0) == SEG_ESTATE || n == 0,
              "predict on an unfitted model");
        goto done;
    }
    CHECK(seg_kmeans_is_fitted(km) == 1, "fit OK but not fitted");

    /* Labels and sizes. */
    int64_t sizes[KM_MAX_K], counted[KM_MAX_K] = {0};
    double inertia = -1;
    int32_t iter = -1;
    CHECK(seg_kmeans_result(km, &inertia, &iter, sizes) == SEG_OK, "kmeans_result");
    CHECK(iter >= 1 && iter <= max_iter, "iterations %d of max %d", (int)iter, (int)max_iter);
    for (size_t i = 0; i < n; i++) {
        CHECK(is_complete[i] ? labels[i] >= 0 && labels[i] < k : labels[i] == -1,
              "row %zu (complete %d): label %d of k %d", i, is_complete[i], (int)labels[i], (int)k);
        if (labels[i] >= 0)
            counted[labels[i]]++;
    }
    for (int32_t c = 0; c < k; c++)
        CHECK(sizes[c] == counted[c] && sizes[c] >= 1, "cluster %d: size %lld, %lld labelled",
              (int)c, (long long)sizes[c], (long long)counted[c]);
    CHECK(inertia >= 0, "inertia %g", inertia);

    double cent[KM_MAX_K * 3];
    CHECK(seg_kmeans_centroids(km, cent, (size_t)k * nf - 1) == SEG_EBUFSZ, "centroids cap");
    CHECK(seg_kmeans_centroids(km, cent, (size_t)k * nf) == SEG_OK, "centroids");
    int recomp = !ovf; /* the harness's transformed values are moderate */
    if (recomp)
        CHECK(isfinite(inertia), "inertia %g of moderate values", inertia);

    /* Predict on the training frame: the fit labels, or on a tie (equal
     * distances: duplicate rows split over clusters) an equally near one. */
    int32_t *pl = fz_xmalloc((n + 1) * sizeof *pl);
    double *pd = fz_xmalloc((n + 1) * sizeof *pd);
    char err[ERR_CAP] = "";
    rc = seg_kmeans_predict(km, f, pl, pd, err, sizeof err);
    CHECK(rc == SEG_OK, "predict on the training frame gave %d: %s", (int)rc, err);
    double dsum = 0, ref = 0, mag = 0;
    if (getenv("FUZZ_DUMP")) {
        fprintf(stderr,
                "n %zu nf %zu k %d n_init %d max_iter %d tol %g algo %d iter %d inertia %.17g\n", n,
                nf, (int)k, (int)n_init, (int)max_iter, tol, (int)algo, (int)iter, inertia);
        for (size_t i = 0; i < n; i++) {
            fprintf(stderr, "  row %zu:", i);
            for (size_t c = 0; c < nf; c++)
                fprintf(stderr, " %.17g", col_get(&cols[c], i));
            fprintf(stderr, " fit %d predict %d dist %.17g\n", (int)labels[i], (int)pl[i], pd[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        CHECK(labels[i] < 0 ? isnan(pd[i]) && pl[i] == -1 : pd[i] >= 0 && pl[i] >= 0 && pl[i] < k,
              "row %zu: predict %d, distance %g", i, (int)pl[i], pd[i]);
        if (labels[i] < 0)
            continue;
        dsum += pd[i];
        /* Recomputed distance to the fit label's centre, and the squared
         * magnitudes that bound its rounding (inf where they overflow). */
        double own = 0, mg = 0;
        for (size_t c = 0; c < nf; c++) {
            double z = xf_apply(&t[c], col_get(&cols[c], i));
            double zc = xf_apply(&t[c], cent[(size_t)labels[i] * nf + c]);
            own += (z - zc) * (z - zc);
            mg += z * z + zc * zc;
        }
        ref += own;
        mag += mg;
        int same_centre = memcmp(cent + (size_t)pl[i] * nf, cent + (size_t)labels[i] * nf,
                                 nf * sizeof *cent) == 0;
        /* Without recomp (values near the double range) the transformed
         * distances can all round to 0, and then any label is a tie. */
        CHECK(pl[i] == labels[i] || same_centre || !recomp || near(own, pd[i], 1e-7 * mg + 1e-9),
              "row %zu: predict %d (distance %.17g), fit %d (distance %.17g)", i, (int)pl[i], pd[i],
              (int)labels[i], own);
    }
    /* Rounding is relative to the magnitude of the transformed values
     * (known only for recomp data; otherwise relative, or both negligible). */
    double big = inertia > dsum ? inertia : dsum;
    if (isfinite(dsum))
        /* A centroid of equal values can be an ulp off them (its mean is
         * rounded): an inertia of ~(ulp of x)^2 per row against predicted
         * distances of 0, negligible next to the magnitudes. */
        CHECK(recomp ? near(inertia, dsum, 1e-9 * (dsum + mag) + 1e-300)
                     : near(inertia, dsum, 1e-6 * big + (isnan(mag) ? INFINITY : 1e-12 * mag)) ||
                           big < 1e-20,
              "inertia %.17g, predicted %.17g", inertia, dsum);
    /* Recomputed in transformed space: the harness's transforms applied to
     * the data and to the centroids. */
    if (recomp)
        CHECK(near(inertia, ref, 1e-7 * mag + 1e-9), "inertia %.17g, recomputed %.17g (mag %g)",
              inertia, ref, mag);

    /* save -> load -> save. */
    size_t len = 0, len2 = 0;
    char *text = km_save(km, &len);
    seg_kmeans *km2 = NULL;
    rc = seg_kmeans_load(&km2, text, len, "fuzz", NULL, err, sizeof err);
    if (rc != SEG_OK) {
        fprintf(stderr, "saved text:\n");
        fz_print_escaped(stderr, text, len);
        fputc('\n', stderr);
    }
    CHECK(rc == SEG_OK, "re-loading the saved model gave %d: %s", (int)rc, err);
    char *text2 = km_save(km2, &len2);
    CHECK(len == len2 && memcmp(text, text2, len) == 0, "save -> load -> save differs");
    int32_t *pl2 = fz_xmalloc((n + 1) * sizeof *pl2);
    CHECK(seg_kmeans_predict(km2, f, pl2, NULL, NULL, 0) == SEG_OK &&
              memcmp(pl, pl2, n * sizeof *pl) == 0,
          "the re-loaded model predicts other labels");
    free(pl2);
    free(text);
    free(text2);
    seg_kmeans_free(km2);
    free(pl);
    free(pd);
done:
    free(labels);
    free(x);
    free(is_complete);
    seg_kmeans_free(km);
    seg_frame_free(f);
    for (size_t c = 0; c < nf; c++)
        col_free(&cols[c]);
}

/* ------------------------------------------------------------------------
 * 2: arms
 * ---------------------------------------------------------------------- */

#define AB_MAX_IDS 200

static uint64_t ref_hash(const char *salt, size_t sl, const char *id, size_t il)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i <= sl + il; i++) {
        uint8_t b = i < sl ? (uint8_t)salt[i] : i == sl ? 0 : (uint8_t)id[i - sl - 1];
        h = (h ^ b) * 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static double ref_u(const char *salt, const char *id)
{
    return (double)(ref_hash(salt, strlen(salt), id, strlen(id)) >> 11) * 0x1p-53;
}

typedef struct skey {
    double u;
    const char *id;
    size_t pos;
} skey;

static int cmp_skey(const void *a, const void *b)
{
    const skey *x = a, *y = b;
    if (x->u != y->u)
        return x->u < y->u ? -1 : 1;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static void op_assign(fz_reader *r)
{
    size_t n = (size_t)fz_range(r, 0, AB_MAX_IDS);
    int32_t n_arms = (int32_t)fz_range(r, 1, 8);
    uint8_t b = fz_u8(r);
    if (b == 0)
        n_arms = 0;
    else if (b == 1)
        n_arms = SEG_AB_MAX_ARMS + 1;
    else if (b == 2)
        n_arms = SEG_AB_MAX_ARMS;
    double w[SEG_AB_MAX_ARMS + 1];
    int wmode = fz_u8(r) % 4;
    for (int32_t a = 0; a < n_arms; a++)
        w[a] = wmode ? (double)(fz_u8(r) % 4) / (wmode == 2 ? 3.0 : 1.0) : fz_double(r);
    static const double holdouts[] = {0, 0, 0.1, 0.5, 0.999, 1e-300, -0.1, 1, NAN, INFINITY};
    double q = holdouts[fz_u8(r) % 10];
    char salt[8] = "";
    size_t sl = (size_t)fz_range(r, 0, 6);
    for (size_t i = 0; i < sl; i++)
        salt[i] = (char)(fz_u8(r) | 1);
    int smode = (int)fz_range(r, 0, 2);

    /* Ids: short byte strings, often repeated. */
    char(*buf)[8] = fz_xmalloc((n + 1) * sizeof *buf);
    const char **ids = fz_xmalloc((n + 1) * sizeof *ids);
    int32_t *strata = fz_xmalloc((n + 1) * sizeof *strata);
    for (size_t i = 0; i < n; i++) {
        uint8_t l = fz_u8(r);
        if (i && l >= 224) {
            memcpy(buf[i], buf[i - 1 - l % i], sizeof *buf);
        } else {
            memset(buf[i], 0, sizeof *buf);
            for (size_t j = 0; j < l % 7; j++)
                buf[i][j] = (char)(fz_u8(r) | 1);
        }
        ids[i] = buf[i];
        strata[i] = gen_label(r, smode);
    }

    /* Expected status. */
    double W = 0;
    int w_ok = n_arms >= 1 && n_arms <= SEG_AB_MAX_ARMS;
    for (int32_t a = 0; w_ok && a < n_arms; a++) {
        w_ok = w[a] >= 0 && isfinite(w[a]);
        W += w_ok ? w[a] : 0;
    }
    w_ok = w_ok && W > 0 && isfinite(W);
    int q_ok = q >= 0 && q < 1;
    int32_t want = sl == 0 ? SEG_EINVAL : (!w_ok || !q_ok) ? SEG_ERANGE : SEG_OK;

    int32_t *arm = fz_xmalloc((n + 1) * sizeof *arm), *arm2 = fz_xmalloc((n + 1) * sizeof *arm2);
    int32_t *sarm = fz_xmalloc((n + 1) * sizeof *sarm);
    for (size_t i = 0; i < n; i++)
        arm[i] = arm2[i] = sarm[i] = CANARY_I32;
    char err[ERR_CAP] = "";
    int32_t rc = seg_ab_assign(ids, n, salt, w, n_arms, q, arm, err, sizeof err);
    int32_t rc2 = seg_ab_assign(ids, n, salt, w, n_arms, q, arm2, NULL, 0);
    int32_t rcs = seg_ab_assign_stratified(ids, strata, n, salt, w, n_arms, q, NULL, sarm, NULL, 0);
    int either = sl == 0 && (!w_ok || !q_ok);
    CHECK(rc == want || (either && rc == SEG_ERANGE), "assign gave %d, want %d: %s", (int)rc,
          (int)want, err);
    CHECK(rc2 == rc && rcs == rc, "assign %d, again %d, stratified %d", (int)rc, (int)rc2,
          (int)rcs);
    if (rc != SEG_OK) {
        CHECK(err[0] != '\0', "failed assign without a message");
        for (size_t i = 0; i < n; i++)
            CHECK(arm[i] == CANARY_I32 && sarm[i] == CANARY_I32, "failed assign wrote arm %zu", i);
        goto done;
    }

    /* Bounds as experiment.h defines them. */
    double bound[SEG_AB_MAX_ARMS], cum = 0;
    int32_t last = 0;
    for (int32_t a = 0; a < n_arms; a++) {
        cum += w[a];
        bound[a] = cum / W;
        if (w[a] > 0)
            last = a;
    }
    for (int32_t a = last; a < n_arms; a++)
        bound[a] = 1.0;
    skey *keys = fz_xmalloc((n + 1) * sizeof *keys);
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        size_t il = strlen(ids[i]);
        uint64_t h = seg_ab_hash(salt, sl, ids[i], il);
        CHECK(h == ref_hash(salt, sl, ids[i], il), "seg_ab_hash of id %zu differs", i);
        int hold = q > 0 && ref_u("libsegment-global-holdout", ids[i]) < q;
        double u = (double)(h >> 11) * 0x1p-53;
        int32_t want_arm = 0;
        while (want_arm < n_arms - 1 && !(u < bound[want_arm]))
            want_arm++;
        if (hold)
            want_arm = SEG_ARM_HOLDOUT;
        else
            keys[nk++] = (skey){u, ids[i], i};
        CHECK(arm[i] == want_arm && arm2[i] == want_arm, "id %zu: arm %d (again %d), want %d", i,
              (int)arm[i], (int)arm2[i], (int)want_arm);
        CHECK(w[want_arm < 0 ? 0 : want_arm] > 0 || want_arm < 0, "arm of weight 0 chosen");
        CHECK((sarm[i] == SEG_ARM_HOLDOUT) == hold, "id %zu: stratified holdout %d, plain %d", i,
              sarm[i] == SEG_ARM_HOLDOUT, hold);
    }
    /* Stratified: per stratum, ordered keys take consecutive position ranges. */
    qsort(keys, nk, sizeof *keys, cmp_skey);
    char *seen = calloc(nk + 1, 1);
    CHECK(seen != NULL, "calloc");
    for (size_t i = 0; i < nk; i++) {
        if (seen[i])
            continue;
        int32_t s = strata[keys[i].pos];
        size_t m = 0;
        for (size_t j = i; j < nk; j++)
            m += strata[keys[j].pos] == s;
        size_t p = 0;
        int64_t per_arm[SEG_AB_MAX_ARMS] = {0};
        for (size_t j = i; j < nk; j++) {
            if (strata[keys[j].pos] != s)
                continue;
            seen[j] = 1;
            int32_t a = 0;
            double lo = 0;
            for (; a < n_arms; a++) {
                double hi = floor((double)m * bound[a] + 0.5);
                if ((double)p >= lo && (double)p < hi)
                    break;
                lo = hi;
            }
            CHECK(a < n_arms && sarm[keys[j].pos] == a,
                  "stratum %d, position %zu of %zu: arm %d, want %d", (int)s, p, m,
                  (int)sarm[keys[j].pos], (int)a);
            per_arm[a]++;
            p++;
        }
        double prev = 0;
        for (int32_t a = 0; a < n_arms; a++) {
            double share = (double)m * (bound[a] - prev);
            prev = bound[a];
            CHECK(fabs((double)per_arm[a] - share) < 1.0 + 1e-9 * (double)m,
                  "stratum %d: arm %d has %lld of %zu, weight share %g", (int)s, (int)a,
                  (long long)per_arm[a], m, share);
        }
    }
    free(seen);
    free(keys);
done:
    free(arm);
    free(arm2);
    free(sarm);
    free(strata);
    free(ids);
    free(buf);
}

/* ------------------------------------------------------------------------
 * 3: statistics
 * ---------------------------------------------------------------------- */

/* z with P(Z > z) = q, 0 < q < 1, by bisection on erfc. */
static double z_upper(double q)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && lo < hi; i++) {
        double mid = lo / 2 + hi / 2;
        if (mid == lo || mid == hi)
            break;
        if (0.5 * erfc(mid / sqrt(2.0)) > q)
            lo = mid;
        else
            hi = mid;
    }
    return lo / 2 + hi / 2;
}

/* Standard normal quantile, accurate in both tails. */
static double qnorm(double p)
{
    return p < 0.5 ? -z_upper(p) : z_upper(1 - p);
}

static double ref_needed(double p1, double mde, double alpha, double power)
{
    double p2 = p1 + mde, p = (p1 + p2) / 2;
    double za = z_upper(alpha / 2), zb = qnorm(power);
    double t = za * sqrt(2 * p * (1 - p)) + zb * sqrt(p1 * (1 - p1) + p2 * (1 - p2));
    return t * t / (mde * mde);
}

static double gen_unit(fz_reader *r)
{
    static const double t[] = {0.5, 0.05, 0.8, 0.95, 0.2,      1e-300,   1 - 1e-16, 0,
                               1,   -0.1, 1.1, NAN,  INFINITY, 0.999999, 1e-9,      0.3};
    uint8_t b = fz_u8(r);
    return b < 200 ? t[b % 16] : fz_double(r);
}

static int in_unit(double x)
{
    return x > 0 && x < 1;
}

static int64_t gen_count(fz_reader *r)
{
    uint8_t b = fz_u8(r);
    if (b < 160)
        return (int64_t)(b % 40) - 2;
    if (b < 200)
        return (int64_t)fz_u32(r);
    if (b < 230)
        return (int64_t)fz_u64(r);
    return b & 1 ? INT64_MAX : INT64_MAX / 2;
}

static void op_proportions(fz_reader *r)
{
    int64_t na = gen_count(r), ca = gen_count(r), nb = gen_count(r), cb = gen_count(r);
    uint8_t b = fz_u8(r);
    if (b & 1)
        ca = na > 0 ? (int64_t)((uint64_t)ca % ((uint64_t)na + 1)) : ca;
    if (b & 2)
        cb = nb > 0 ? (int64_t)((uint64_t)cb % ((uint64_t)nb + 1)) : cb;
    double conf = gen_unit(r);
    double out[SEG_AB_N_FIELDS];
    for (int i = 0; i < SEG_AB_N_FIELDS; i++)
        out[i] = CANARY_DBL;
    char err[ERR_CAP] = "";
    int32_t rc = seg_ab_proportions(na, ca, nb, cb, conf, out, err, sizeof err);
    int ok = na > 0 && nb > 0 && ca >= 0 && ca <= na && cb >= 0 && cb <= nb && in_unit(conf);
    CHECK(rc == (ok ? SEG_OK : SEG_ERANGE), "proportions(%lld, %lld, %lld, %lld, %g) gave %d: %s",
          (long long)na, (long long)ca, (long long)nb, (long long)cb, conf, (int)rc, err);
    if (!ok) {
        CHECK(err[0] && out[0] == CANARY_DBL, "failed proportions: message or output");
        return;
    }
    double ra = (double)ca / (double)na, rb = (double)cb / (double)nb;
    CHECK(near(out[SEG_AB_RATE_A], ra, 1e-15 * ra) && near(out[SEG_AB_RATE_B], rb, 1e-15 * rb),
          "rates %g %g, want %g %g", out[SEG_AB_RATE_A], out[SEG_AB_RATE_B], ra, rb);
    double d = out[SEG_AB_DIFF];
    CHECK(near(d, rb - ra, 1e-15), "diff %g", d);
    for (int i = 0; i < SEG_AB_N_FIELDS; i++)
        if (i < SEG_AB_LIFT || i > SEG_AB_LIFT_HI)
            CHECK(isfinite(out[i]), "proportions field %d is %g", i, out[i]);
    CHECK(out[SEG_AB_DIFF_LO] <= d && d <= out[SEG_AB_DIFF_HI], "diff %g outside [%g, %g]", d,
          out[SEG_AB_DIFF_LO], out[SEG_AB_DIFF_HI]);
    double lift = out[SEG_AB_LIFT];
    CHECK(ca == 0 ? isnan(lift) : near(lift, rb / ra - 1, 1e-12 * (fabs(rb / ra) + 1)), "lift %g",
          lift);
    if (ca == 0 || cb == 0) {
        CHECK(isnan(out[SEG_AB_LIFT_LO]) && isnan(out[SEG_AB_LIFT_HI]),
              "lift interval with a 0 rate");
    } else {
        double slack = 1e-12 * (fabs(lift) + 1);
        CHECK(out[SEG_AB_LIFT_LO] <= lift + slack && lift <= out[SEG_AB_LIFT_HI] + slack,
              "lift %g outside [%g, %g]", lift, out[SEG_AB_LIFT_LO], out[SEG_AB_LIFT_HI]);
    }
    double p = out[SEG_AB_P], z = out[SEG_AB_STAT];
    CHECK(p >= 0 && p <= 1, "p-value %g", p);
    if ((ca == 0 && cb == 0) || (ca == na && cb == nb)) {
        CHECK(z == 0 && p == 1, "equal extreme rates: z %g p %g", z, p);
    } else {
        /* Pooled rate and its complement from the counts (long double
         * holds int64 sums exactly). */
        long double all = (long double)na + (long double)nb;
        double pool = (double)(((long double)ca + (long double)cb) / all);
        double rest = (double)(((long double)(na - ca) + (long double)(nb - cb)) / all);
        double se = sqrt(pool * rest * (1 / (double)na + 1 / (double)nb));
        /* The difference in long double: rates near 1 round to the same
         * double although the counts differ. */
        long double dl = (long double)cb / (long double)nb - (long double)ca / (long double)na;
        double zr = (double)dl / se;
        /* Known (reported): with counts near 2^62 the library's pooled rate
         * rounds to 0 or 1, giving z 0 and p 1 for different rates. */
        double pd = ((double)ca + (double)cb) / ((double)na + (double)nb);
        if (pd * (1 - pd) == 0 && skip_known())
            return;
        CHECK(ra == rb || fabs(zr) < 1e-6 || (z != 0 && p < 1),
              "rates %.17g and %.17g differ (z %g), but z %g p %g", ra, rb, zr, z, p);
        /* 1 - pool in double loses digits as pool nears 1 (or pool itself
         * near 0): allow that rounding, relative to the smaller one. */
        double small = pool < rest ? pool : rest;
        double rel = 1e-6 + 4 * DBL_EPSILON / small;
        CHECK(near(z, zr, rel * fabs(zr) + 1e-9), "z %.17g, want %.17g", z, zr);
        double pr = erfc(fabs(zr) / sqrt(2.0));
        if (rel < 1e-5)
            CHECK(near(p, pr, 1e-6 * pr + 1e-12), "p %.17g, want %.17g (z %g)", p, pr, zr);
    }
}

static void op_means(fz_reader *r)
{
    size_t n[2] = {(size_t)fz_range(r, 0, 40), (size_t)fz_range(r, 0, 40)};
    int mode = (int)fz_range(r, 0, 2);
    double conf = fz_u8(r) < 200 ? 0.95 : gen_unit(r);
    double *x[2];
    int has_inf = 0;
    size_t present[2] = {0, 0};
    for (int a = 0; a < 2; a++) {
        x[a] = fz_xmalloc((n[a] + 1) * sizeof *x[a]);
        for (size_t i = 0; i < n[a]; i++) {
            x[a][i] = gen_double(r, mode);
            has_inf |= isinf(x[a][i]);
            present[a] += !isnan(x[a][i]);
        }
    }
    double out[SEG_AB_N_MFIELDS];
    for (int i = 0; i < SEG_AB_N_MFIELDS; i++)
        out[i] = CANARY_DBL;
    char err[ERR_CAP] = "";
    int32_t rc = seg_ab_means(x[0], n[0], x[1], n[1], conf, out, err, sizeof err);
    if (getenv("FUZZ_DUMP"))
        for (int a = 0; a < 2; a++)
            for (size_t i = 0; i < n[a]; i++)
                fprintf(stderr, "  arm %d [%zu] = %.17g\n", a, i, x[a][i]);
    /* Each applicable error is acceptable (the header gives no order). */
    int e_inval = n[0] == 0 || n[1] == 0,
        e_range = present[0] < 2 || present[1] < 2 || !in_unit(conf);
    int e_data = has_inf;
    if (e_inval || e_range || e_data) {
        CHECK((e_inval && rc == SEG_EINVAL) || (e_range && rc == SEG_ERANGE) ||
                  (e_data && rc == SEG_EDATA),
              "means gave %d (inval %d range %d data %d): %s", (int)rc, e_inval, e_range, e_data,
              err);
        CHECK(err[0] && out[0] == CANARY_DBL, "failed means: message or output");
        goto done;
    }
    CHECK(rc == SEG_OK, "means gave %d: %s", (int)rc, err);
    double m[2], abs_sum[2] = {0, 0}, maxabs = 0, minabs = INFINITY; /* minabs: of non-zeros */
    long double v[2];
    for (int a = 0; a < 2; a++) {
        long double s = 0, ss = 0;
        for (size_t i = 0; i < n[a]; i++)
            if (!isnan(x[a][i])) {
                s += x[a][i];
                abs_sum[a] += fabs(x[a][i]);
                maxabs = fabs(x[a][i]) > maxabs ? fabs(x[a][i]) : maxabs;
                if (x[a][i] != 0 && fabs(x[a][i]) < minabs)
                    minabs = fabs(x[a][i]);
            }
        m[a] = (double)(s / (long double)present[a]);
        for (size_t i = 0; i < n[a]; i++)
            if (!isnan(x[a][i]))
                ss += ((long double)x[a][i] - s / (long double)present[a]) *
                      ((long double)x[a][i] - s / (long double)present[a]);
        v[a] = ss / (long double)(present[a] - 1);
    }
    /* The library scales both arms by the larger magnitude, so a mean is
     * exact only to the scale of both arms. */
    double tol_a = 1e-13 * abs_sum[0] / (double)present[0] + 1e-300;
    double tol_b = 1e-13 * abs_sum[1] / (double)present[1] + 1e-300;
    tol_a = tol_b = tol_a > tol_b ? tol_a : tol_b;
    if (isfinite(abs_sum[0] + abs_sum[1])) {
        CHECK(near(out[SEG_AB_MEAN_A], m[0], tol_a) && near(out[SEG_AB_MEAN_B], m[1], tol_b),
              "means %.17g %.17g, want %.17g %.17g", out[SEG_AB_MEAN_A], out[SEG_AB_MEAN_B], m[0],
              m[1]);
    }
    double d = out[SEG_AB_MDIFF];
    int zero_var = 1; /* every present value of each arm equal */
    for (int a = 0; a < 2; a++) {
        double first = NAN;
        for (size_t i = 0; i < n[a]; i++)
            if (!isnan(x[a][i])) {
                zero_var &= isnan(first) || x[a][i] == first;
                first = x[a][i];
            }
    }
    /* Finite results need squares that neither overflow nor underflow: a
     * value of 1e-314 among zeros has a variance of 0 in doubles. */
    if (maxabs < 1e150 && minabs > 1e-150) {
        for (int i = 0; i < SEG_AB_N_MFIELDS; i++)
            if (!zero_var || i < SEG_AB_T)
                CHECK(isfinite(out[i]), "means field %d is %g", i, out[i]);
    }
    if (zero_var) {
        CHECK(isnan(out[SEG_AB_T]) && isnan(out[SEG_AB_DF]) && isnan(out[SEG_AB_T_P]) &&
                  out[SEG_AB_MDIFF_LO] == d && out[SEG_AB_MDIFF_HI] == d,
              "zero variances: t %g df %g p %g [%g, %g] diff %g", out[SEG_AB_T], out[SEG_AB_DF],
              out[SEG_AB_T_P], out[SEG_AB_MDIFF_LO], out[SEG_AB_MDIFF_HI], d);
        goto done;
    }
    double p = out[SEG_AB_T_P];
    /* Known (reported): t = 0 gave p = 1 + 2^-52 (df 40, 58). */
    if (skip_known() && p > 1 && p <= 1 + 4 * DBL_EPSILON)
        p = 1;
    CHECK(isnan(p) || (p >= 0 && p <= 1), "means p-value %.17g (t %.17g, df %.17g)", p,
          out[SEG_AB_T], out[SEG_AB_DF]);
    if (isfinite(out[SEG_AB_MDIFF_LO]) && isfinite(out[SEG_AB_MDIFF_HI]))
        CHECK(out[SEG_AB_MDIFF_LO] <= d && d <= out[SEG_AB_MDIFF_HI], "diff %g outside [%g, %g]", d,
              out[SEG_AB_MDIFF_LO], out[SEG_AB_MDIFF_HI]);
    if (maxabs < 1e100 && minabs > 1e-100) {
        long double ea = v[0] / (long double)present[0], eb = v[1] / (long double)present[1];
        double t = (double)(((long double)m[1] - m[0]) / sqrtl(ea + eb));
        double df = (double)((ea + eb) * (ea + eb) /
                             (ea * ea / (long double)(present[0] - 1) +
                              eb * eb / (long double)(present[1] - 1)));
        CHECK(near(out[SEG_AB_T], t, 1e-6 * fabs(t) + 1e-9), "t %.17g, want %.17g", out[SEG_AB_T],
              t);
        CHECK(near(out[SEG_AB_DF], df, 1e-6 * df), "df %.17g, want %.17g", out[SEG_AB_DF], df);
    }
done:
    free(x[0]);
    free(x[1]);
}

static void op_design(fz_reader *r)
{
    double base = gen_unit(r), mde = fz_u8(r) < 128 ? gen_unit(r) - 0.5 : gen_unit(r);
    double alpha = gen_unit(r), power = gen_unit(r);
    int64_t nn = CANARY_I32;
    int32_t rc = seg_ab_sample_size(base, mde, alpha, power, &nn);
    int ok = in_unit(base) && in_unit(base + mde) && mde != 0 && in_unit(alpha) && in_unit(power);
    /* qnorm() bisects erfc(), which has few bits left for subnormal tail
     * probabilities: no reference there (the library matches scipy). */
    int ref_ok = alpha / 2 > 1e-300 && power > 1e-300 && 1 - power > 1e-300;
    if (!ok) {
        CHECK(rc == SEG_ERANGE && nn == CANARY_I32, "sample_size(%g, %g, %g, %g) gave %d", base,
              mde, alpha, power, (int)rc);
    } else {
        double ref = ceil(ref_needed(base, mde, alpha, power));
        ref = ref < 1 ? 1 : ref;
        if (!ref_ok) {
            CHECK(rc == SEG_OK || rc == SEG_ERANGE, "sample_size gave %d", (int)rc);
        } else if (ref < 0x1p62 * 0.999) {
            CHECK(rc == SEG_OK && nn >= 1 && near((double)nn, ref, 1 + 1e-6 * ref),
                  "sample_size(%.17g, %.17g, %.17g, %.17g) = %lld (rc %d), want %.17g", base, mde,
                  alpha, power, (long long)nn, (int)rc, ref);
        } else if (ref > 0x1p62 * 1.001) {
            CHECK(rc == SEG_ERANGE, "sample_size %g above 2^62 gave %d", ref, (int)rc);
        }
    }

    uint8_t b = fz_u8(r);
    int64_t n = b < 128 ? (int64_t)(b % 64) - 1 : b < 200 ? (int64_t)fz_u32(r) : gen_count(r);
    double out = CANARY_DBL;
    rc = seg_ab_mde(base, n, alpha, power, &out);
    ok = in_unit(base) && n >= 2 && in_unit(alpha) && power >= 0.5 && power < 1;
    CHECK(rc == (ok ? SEG_OK : SEG_ERANGE), "mde(%g, %lld, %g, %g) gave %d", base, (long long)n,
          alpha, power, (int)rc);
    if (!ok) {
        CHECK(out == CANARY_DBL, "failed mde wrote its output");
        return;
    }
    if (isnan(out)) {
        /* Not detectable even with the largest lift. */
        double top = (1 - base) * (1 - 1e-9);
        CHECK(!ref_ok || top <= 0 || ref_needed(base, top, alpha, power) > (double)n * (1 - 1e-6),
              "mde NaN but a lift near %g needs only %g of %lld", top,
              ref_needed(base, top, alpha, power), (long long)n);
        return;
    }
    CHECK(out > 0 && base + out < 1 + 1e-12, "mde %g for base %g", out, base);
    if (ref_ok && out > 1e-6 && base + out < 1 - 1e-9) {
        double need = ref_needed(base, out, alpha, power);
        CHECK(near(need, (double)n, 2 + (double)n * (1e-6 + 4e-12 / out)),
              "mde(%g, %lld, %g, %g) = %.17g needs %.17g", base, (long long)n, alpha, power, out,
              need);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    switch (fz_u8(&r) % 6) {
    case 0:
        op_profile(&r);
        break;
    case 1:
        op_kmeans(&r);
        break;
    case 2:
        op_assign(&r);
        break;
    case 3:
        op_proportions(&r);
        break;
    case 4:
        op_means(&r);
        break;
    default:
        op_design(&r);
        break;
    }
    return 0;
}
