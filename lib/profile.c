/* SPDX-License-Identifier: MIT */
/* Segment profiles: per label (or label pair) counts and column statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame-private.h"
#include "quantile.h"
#include "segment/profile.h"

#define N_STATS 9
#define BLOCK 4096

struct seg_profile {
    seg__alloc alloc;
    size_t n_rows, n_groups, n_cols;
    int32_t *label, *label2; /* per group */
    int64_t *count;          /* per group */
    double *stat;            /* [group][column][N_STATS] */
    double *total;           /* [column][N_STATS] */
};

/* ---- grouping ---------------------------------------------------------------- */

/* Row keys: the label (pair) offset to start at 0. */
static uint64_t row_key(const int32_t *l1, const int32_t *l2, size_t i, int64_t min1,
                        int64_t min2, uint64_t r2)
{
    uint64_t a = (uint64_t)((int64_t)l1[i] - min1);
    return l2 ? a * r2 + (uint64_t)((int64_t)l2[i] - min2) : a;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return (size_t)x;
}

/* Assigns every row its group (groups in ascending key order) and fills
 * the groups' labels. */
static int32_t make_groups(seg_profile *p, const int32_t *l1, const int32_t *l2, size_t n,
                           int32_t *gi)
{
    const seg__alloc *a = &p->alloc;
    int64_t min1 = INT32_MAX, max1 = INT32_MIN, min2 = 0, max2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (l1[i] < min1) min1 = l1[i];
        if (l1[i] > max1) max1 = l1[i];
    }
    if (l2) {
        min2 = INT32_MAX;
        max2 = INT32_MIN;
        for (size_t i = 0; i < n; i++) {
            if (l2[i] < min2) min2 = l2[i];
            if (l2[i] > max2) max2 = l2[i];
        }
    }
    if (n == 0)
        return SEG_OK;
    uint64_t r1 = (uint64_t)(max1 - min1) + 1, r2 = l2 ? (uint64_t)(max2 - min2) + 1 : 1;
    uint64_t limit = n > 32768 ? 2 * (uint64_t)n : 65536;
    uint64_t *keys = NULL; /* distinct keys, ascending */
    size_t nk = 0;
    if (r1 <= limit / r2 && r1 * r2 <= limit) { /* direct table over the key range */
        size_t range = (size_t)(r1 * r2);
        int32_t *tab = seg__malloc_array(a, range, sizeof *tab);
        if (!tab)
            return SEG_ENOMEM;
        memset(tab, 0xff, range * sizeof *tab);
        for (size_t i = 0; i < n; i++)
            tab[row_key(l1, l2, i, min1, min2, r2)] = 0;
        for (size_t k = 0; k < range; k++)
            if (tab[k] == 0)
                nk++;
        keys = seg__malloc_array(a, nk, sizeof *keys);
        if (!keys) {
            seg__free(a, tab);
            return SEG_ENOMEM;
        }
        nk = 0;
        for (size_t k = 0; k < range; k++)
            if (tab[k] == 0) {
                keys[nk] = k;
                tab[k] = (int32_t)nk++;
            }
        for (size_t i = 0; i < n; i++)
            gi[i] = tab[row_key(l1, l2, i, min1, min2, r2)];
        seg__free(a, tab);
    } else { /* open addressing: key -> group, then renumbered in key order */
        size_t cap = 1024;
        size_t used = 0;
        uint64_t *hk = seg__malloc_array(a, cap, sizeof *hk);
        int32_t *hv = seg__malloc_array(a, cap, sizeof *hv);
        if (!hk || !hv)
            goto nomem_hash;
        memset(hv, 0xff, cap * sizeof *hv);
        for (size_t i = 0; i < n; i++) {
            uint64_t k = row_key(l1, l2, i, min1, min2, r2);
            size_t h = hash_u64(k) & (cap - 1);
            while (hv[h] >= 0 && hk[h] != k)
                h = (h + 1) & (cap - 1);
            if (hv[h] < 0) {
                hk[h] = k;
                hv[h] = (int32_t)used++;
                if (used * 2 > cap) { /* grow */
                    size_t ncap = cap * 2;
                    uint64_t *nk2 = seg__malloc_array(a, ncap, sizeof *nk2);
                    int32_t *nv = seg__malloc_array(a, ncap, sizeof *nv);
                    if (!nk2 || !nv) {
                        seg__free(a, nk2);
                        seg__free(a, nv);
                        goto nomem_hash;
                    }
                    memset(nv, 0xff, ncap * sizeof *nv);
                    for (size_t j = 0; j < cap; j++) {
                        if (hv[j] < 0)
                            continue;
                        size_t g = hash_u64(hk[j]) & (ncap - 1);
                        while (nv[g] >= 0)
                            g = (g + 1) & (ncap - 1);
                        nk2[g] = hk[j];
                        nv[g] = hv[j];
                    }
                    seg__free(a, hk);
                    seg__free(a, hv);
                    hk = nk2;
                    hv = nv;
                    cap = ncap;
                }
            }
        }
        keys = seg__malloc_array(a, used, sizeof *keys);
        if (!keys)
            goto nomem_hash;
        for (size_t j = 0; j < cap; j++)
            if (hv[j] >= 0)
                keys[nk++] = hk[j];
        qsort(keys, nk, sizeof *keys, cmp_u64);
        for (size_t j = 0; j < cap; j++) { /* the rank of each key */
            if (hv[j] < 0)
                continue;
            size_t lo = 0, hi = nk;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (keys[mid] < hk[j])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            hv[j] = (int32_t)lo;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k = row_key(l1, l2, i, min1, min2, r2);
            size_t h = hash_u64(k) & (cap - 1);
            while (hk[h] != k || hv[h] < 0)
                h = (h + 1) & (cap - 1);
            gi[i] = hv[h];
        }
        seg__free(a, hk);
        seg__free(a, hv);
        goto have_keys;
nomem_hash:
        seg__free(a, hk);
        seg__free(a, hv);
        seg__free(a, keys);
        return SEG_ENOMEM;
    }
have_keys:
    p->n_groups = nk;
    p->label = seg__malloc_array(a, nk, sizeof *p->label);
    p->label2 = seg__malloc_array(a, nk, sizeof *p->label2);
    p->count = seg__calloc_array(a, nk, sizeof *p->count);
    if (!p->label || !p->label2 || !p->count) {
        seg__free(a, keys);
        return SEG_ENOMEM;
    }
    for (size_t g = 0; g < nk; g++) {
        p->label[g] = (int32_t)((int64_t)(keys[g] / r2) + min1);
        p->label2[g] = l2 ? (int32_t)((int64_t)(keys[g] % r2) + min2) : 0;
    }
    for (size_t i = 0; i < n; i++)
        p->count[gi[i]]++;
    seg__free(a, keys);
    return SEG_OK;
}

/* ---- statistics ------------------------------------------------------------------ */

/* Neumaier's compensated sum: s + c is the running total. Once the total
 * is infinite (an infinite value, or overflow) the correction stops, so
 * the result is that infinity (or NaN for +inf and -inf), not NaN. */
static void add(double *s, double *c, double v)
{
    double t = *s + v;
    if (isfinite(t))
        *c += fabs(*s) >= fabs(v) ? (*s - t) + v : (v - t) + *s;
    *s = t;
}

#define LANES 8

/* Compensated sum in 8 lanes: each lane runs Neumaier's update (written
 * without branches, so the loop vectorises), and the lanes are combined the
 * same way. With an infinite value or overflow the plain sum is returned. */
SEG__HOT static double sum_lanes(const double *x, size_t n, int squares, double mean)
{
    double l[LANES] = {0}, k[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t q = 0; q < LANES; q++) {
            double v = squares ? (x[i + q] - mean) * (x[i + q] - mean) : x[i + q];
            double t = l[q] + v;
            k[q] += fabs(l[q]) >= fabs(v) ? (l[q] - t) + v : (v - t) + l[q];
            l[q] = t;
        }
    double s = 0, c = 0, plain = 0;
    for (; i < n; i++) {
        double v = squares ? (x[i] - mean) * (x[i] - mean) : x[i];
        add(&s, &c, v);
        plain += v;
    }
    for (size_t q = 0; q < LANES; q++) {
        add(&s, &c, l[q]);
        add(&s, &c, k[q]);
        plain += l[q];
    }
    return isfinite(plain) ? s + c : plain;
}

/* The sum when the fast one is not finite. Infinite values decide it
 * (+inf, -inf, or NaN for both signs); otherwise values of magnitude
 * 2^500 and above are summed scaled by 2^-600 (exactly) and the rest as
 * they are, so the result overflows only when the true sum does:
 * {-DBL_MAX, -DBL_MAX, +inf} is +inf, {DBL_MAX, DBL_MAX, -DBL_MAX} is
 * DBL_MAX. Accumulates over several calls of wide_add. */
typedef struct wide_sum {
    double hs, hc, ls, lc;
    int pos_inf, neg_inf;
} wide_sum;

static void wide_add(wide_sum *w, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isinf(x[i]))
            *(x[i] > 0 ? &w->pos_inf : &w->neg_inf) = 1;
        else if (fabs(x[i]) >= 0x1p500)
            add(&w->hs, &w->hc, ldexp(x[i], -600));
        else
            add(&w->ls, &w->lc, x[i]);
    }
}

static double wide_value(const wide_sum *w)
{
    if (w->pos_inf || w->neg_inf)
        return w->pos_inf && w->neg_inf ? NAN : w->pos_inf ? INFINITY : -INFINITY;
    return ldexp(w->hs + w->hc, 600) + (w->ls + w->lc);
}

static double sum_of(const double *x, size_t n)
{
    double s = sum_lanes(x, n, 0, 0);
    if (!isfinite(s)) {
        wide_sum w = {0, 0, 0, 0, 0, 0};
        wide_add(&w, x, n);
        s = wide_value(&w);
    }
    return s;
}

/* Sum of squared deviations from `mean`. */
static double ssd_of(const double *x, size_t n, double mean)
{
    return sum_lanes(x, n, 1, mean);
}

SEG__HOT static void minmax_of(const double *x, size_t n, double *mn, double *mx)
{
    double lo[LANES], hi[LANES];
    for (size_t q = 0; q < LANES; q++) {
        lo[q] = INFINITY;
        hi[q] = -INFINITY;
    }
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t q = 0; q < LANES; q++) {
            lo[q] = x[i + q] < lo[q] ? x[i + q] : lo[q];
            hi[q] = x[i + q] > hi[q] ? x[i + q] : hi[q];
        }
    for (; i < n; i++) {
        lo[0] = x[i] < lo[0] ? x[i] : lo[0];
        hi[0] = x[i] > hi[0] ? x[i] : hi[0];
    }
    for (size_t q = 1; q < LANES; q++) {
        lo[0] = lo[q] < lo[0] ? lo[q] : lo[0];
        hi[0] = hi[q] > hi[0] ? hi[q] : hi[0];
    }
    *mn = lo[0];
    *mx = hi[0];
}

/* The median of x[0..n) (not reordered): quickselect on a copy for small
 * groups, the radix histogram of quantile.c for large ones. */
static int32_t median_of(const seg__alloc *a, double *x, size_t n, double *out_median)
{
    if (n == 0) {
        *out_median = NAN;
        return SEG_OK;
    }
    size_t pos[2] = {(n - 1) / 2, n / 2};
    double out[2];
    if (n <= 4096) {
        seg__select(x, n, pos, 2, out); /* reorders only this group's values */
    } else {
        int32_t rc = seg__order_stats(a, x, n, pos, 2, out);
        if (rc != SEG_OK)
            return rc;
    }
    *out_median = out[0] == out[1] ? out[0] : out[0] / 2 + out[1] / 2;
    return SEG_OK;
}

/* Statistics of one group's present values x[0..n), into out[N_STATS]
 * (the share is filled in later); median only when asked. */
static int32_t group_stats(const seg__alloc *a, double *x, size_t n, int64_t missing, int median,
                           double *out)
{
    double sum = sum_of(x, n), mn = NAN, mx = NAN;
    if (n)
        minmax_of(x, n, &mn, &mx);
    out[SEG_STAT_COUNT] = (double)n;
    out[SEG_STAT_MISSING] = (double)missing;
    out[SEG_STAT_SUM] = sum;
    out[SEG_STAT_MEAN] = n ? sum / (double)n : NAN;
    out[SEG_STAT_MIN] = mn;
    out[SEG_STAT_MAX] = mx;
    out[SEG_STAT_STD] = n >= 2 ? sqrt(ssd_of(x, n, out[SEG_STAT_MEAN]) / (double)(n - 1)) : NAN;
    out[SEG_STAT_MEDIAN] = NAN;
    return median ? median_of(a, x, n, &out[SEG_STAT_MEDIAN]) : SEG_OK;
}

/* Column c: present values scattered by group in one pass (each group's
 * region is as long as its rows; missing values are only counted), then
 * every statistic from each group's contiguous values. */
static int32_t profile_column(seg_profile *p, const seg__column *col, size_t c,
                              const int32_t *gi, int median, size_t *fill, int64_t *miss,
                              double *vals, double *buf)
{
    size_t n = p->n_rows, ng = p->n_groups;
    size_t o = 0;
    for (size_t k = 0; k < ng; k++) {
        fill[k] = o;
        miss[k] = 0;
        o += (size_t)p->count[k];
    }
    for (size_t r0 = 0; r0 < n; r0 += BLOCK) {
        size_t m = n - r0 < BLOCK ? n - r0 : BLOCK;
        seg__column_load(col, r0, m, buf);
        for (size_t i = 0; i < m; i++) {
            size_t g = (size_t)gi[r0 + i];
            if (isnan(buf[i]))
                miss[g]++;
            else
                vals[fill[g]++] = buf[i];
        }
    }
    /* Groups, then the column total (for the shares) and the totals. */
    double total_sum = 0, total_comp = 0, mn = INFINITY, mx = -INFINITY;
    int64_t total_n = 0, total_miss = 0;
    o = 0;
    for (size_t k = 0; k < ng; k++) {
        double *st = &p->stat[(k * p->n_cols + c) * N_STATS];
        size_t present = fill[k] - o;
        if (group_stats(&p->alloc, vals + o, present, miss[k], median, st) != SEG_OK)
            return SEG_ENOMEM;
        add(&total_sum, &total_comp, st[SEG_STAT_SUM]);
        if (present) {
            mn = st[SEG_STAT_MIN] < mn ? st[SEG_STAT_MIN] : mn;
            mx = st[SEG_STAT_MAX] > mx ? st[SEG_STAT_MAX] : mx;
        }
        total_n += (int64_t)present;
        total_miss += miss[k];
        o += (size_t)p->count[k];
    }
    double total = isfinite(total_sum) ? total_sum + total_comp : total_sum;
    if (!isfinite(total)) {
        wide_sum w = {0, 0, 0, 0, 0, 0};
        o = 0;
        for (size_t k = 0; k < ng; k++) {
            wide_add(&w, vals + o, fill[k] - o);
            o += (size_t)p->count[k];
        }
        total = wide_value(&w);
    }
    for (size_t k = 0; k < ng; k++) {
        double *st = &p->stat[(k * p->n_cols + c) * N_STATS];
        st[SEG_STAT_SHARE] = total != 0 ? st[SEG_STAT_SUM] / total : NAN;
    }
    double *t = &p->total[c * N_STATS];
    double mean = total_n ? total / (double)total_n : NAN;
    t[SEG_STAT_COUNT] = (double)total_n;
    t[SEG_STAT_MISSING] = (double)total_miss;
    t[SEG_STAT_SUM] = total;
    t[SEG_STAT_SHARE] = total != 0 ? 1.0 : NAN;
    t[SEG_STAT_MEAN] = mean;
    t[SEG_STAT_MIN] = total_n ? mn : NAN;
    t[SEG_STAT_MAX] = total_n ? mx : NAN;
    /* Deviation over all present values (scattered, not contiguous: the
     * groups' regions have gaps where values were missing). */
    double ss = 0, cc = 0;
    o = 0;
    for (size_t k = 0; k < ng; k++) {
        add(&ss, &cc, ssd_of(vals + o, fill[k] - o, mean));
        o += (size_t)p->count[k];
    }
    t[SEG_STAT_STD] = total_n >= 2 ? sqrt((isfinite(ss) ? ss + cc : ss) / (double)(total_n - 1))
                                   : NAN;
    t[SEG_STAT_MEDIAN] = NAN;
    if (!median || total_n == 0)
        return SEG_OK;
    /* The overall median: compact the values (gaps removed) and select. */
    size_t w = 0;
    o = 0;
    for (size_t k = 0; k < ng; k++) {
        size_t present = fill[k] - o;
        memmove(vals + w, vals + o, present * sizeof *vals);
        w += present;
        o += (size_t)p->count[k];
    }
    return median_of(&p->alloc, vals, w, &t[SEG_STAT_MEDIAN]);
}

SEG_API int32_t seg_profile_compute(seg_profile **out, const seg_frame *frame,
                                    const int32_t *labels, const int32_t *labels2,
                                    const char *const *columns, size_t n_columns, int32_t flags,
                                    const seg_allocator *alloc, char *err_buf, size_t err_cap)
{
    if (!out || !frame || !labels || (!columns && n_columns > 0)) {
        seg__errf(err_buf, err_cap, "%s is NULL",
                  !out ? "out" : !frame ? "frame" : !labels ? "labels" : "columns");
        return SEG_EINVAL;
    }
    if (n_columns > SEG_PROFILE_MAX_COLUMNS) {
        seg__errf(err_buf, err_cap, "n_columns = %zu is above %d", n_columns,
                  SEG_PROFILE_MAX_COLUMNS);
        return SEG_ERANGE;
    }
    if (flags & ~SEG_PROFILE_NO_MEDIAN) {
        seg__errf(err_buf, err_cap, "unknown flags 0x%x", (unsigned)flags);
        return SEG_EINVAL;
    }
    for (size_t c = 0; c < n_columns; c++) {
        size_t idx;
        if (!columns[c]) {
            seg__errf(err_buf, err_cap, "columns[%zu] is NULL", c);
            return SEG_EINVAL;
        }
        if (seg_frame_find(frame, columns[c], &idx) != SEG_OK) {
            seg__errf(err_buf, err_cap, "columns[%zu]: no column '%.*s' in the frame", c,
                      (int)seg__utf8_prefix(columns[c], strlen(columns[c]), 80), columns[c]);
            return SEG_ENOTFOUND;
        }
        int32_t type = frame->cols[idx].type;
        if (type != SEG_TYPE_DOUBLE && type != SEG_TYPE_INT64 && type != SEG_TYPE_INT32) {
            seg__errf(err_buf, err_cap, "column '%s' is text; a profile needs numbers", columns[c]);
            return SEG_EINVAL;
        }
        for (size_t d = 0; d < c; d++)
            if (strcmp(columns[d], columns[c]) == 0) {
                seg__errf(err_buf, err_cap, "column '%s' is named twice (columns[%zu] and [%zu])",
                          columns[c], d, c);
                return SEG_EINVAL;
            }
    }
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    seg_profile *p = seg__malloc(&a, sizeof *p);
    if (!p) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    memset(p, 0, sizeof *p);
    p->alloc = a;
    p->n_rows = frame->n_rows;
    p->n_cols = n_columns;
    size_t n = p->n_rows;
    int full = !(flags & SEG_PROFILE_NO_MEDIAN);
    int32_t *gi = seg__malloc_array(&a, n ? n : 1, sizeof *gi);
    double *buf = seg__malloc_array(&a, BLOCK, sizeof *buf);
    double *vals = NULL;
    int64_t *miss = NULL;
    size_t *fill = NULL;
    if (!gi || !buf)
        goto nomem;
    rc = make_groups(p, labels, labels2, n, gi);
    if (rc != SEG_OK)
        goto nomem;
    size_t ng = p->n_groups;
    p->stat = seg__calloc_array(&a, (ng ? ng : 1) * (n_columns ? n_columns : 1), N_STATS * sizeof *p->stat);
    p->total = seg__calloc_array(&a, n_columns ? n_columns : 1, N_STATS * sizeof *p->total);
    miss = seg__malloc_array(&a, ng ? ng : 1, sizeof *miss);
    fill = seg__malloc_array(&a, ng ? ng : 1, sizeof *fill);
    vals = seg__malloc_array(&a, n ? n : 1, sizeof *vals);
    if (!p->stat || !p->total || !miss || !fill || !vals)
        goto nomem;
    for (size_t c = 0; c < n_columns; c++) {
        size_t idx;
        seg_frame_find(frame, columns[c], &idx);
        if (profile_column(p, &frame->cols[idx], c, gi, full, fill, miss, vals, buf) != SEG_OK)
            goto nomem;
    }
    seg__free(&a, gi);
    seg__free(&a, buf);
    seg__free(&a, vals);
    seg__free(&a, miss);
    seg__free(&a, fill);
    *out = p;
    return SEG_OK;
nomem:
    seg__free(&a, gi);
    seg__free(&a, buf);
    seg__free(&a, vals);
    seg__free(&a, miss);
    seg__free(&a, fill);
    seg_profile_free(p);
    seg__errf(err_buf, err_cap, "out of memory");
    return SEG_ENOMEM;
}

SEG_API void seg_profile_free(seg_profile *profile)
{
    if (!profile)
        return;
    seg__alloc a = profile->alloc;
    seg__free(&a, profile->label);
    seg__free(&a, profile->label2);
    seg__free(&a, profile->count);
    seg__free(&a, profile->stat);
    seg__free(&a, profile->total);
    seg__free(&a, profile);
}

SEG_API size_t seg_profile_n_groups(const seg_profile *profile)
{
    return profile ? profile->n_groups : 0;
}

SEG_API size_t seg_profile_n_columns(const seg_profile *profile)
{
    return profile ? profile->n_cols : 0;
}

SEG_API int32_t seg_profile_group(const seg_profile *profile, size_t group, int32_t *out_label,
                                  int32_t *out_label2, int64_t *out_count, double *out_share)
{
    if (!profile)
        return SEG_EINVAL;
    if (group >= profile->n_groups)
        return SEG_ERANGE;
    if (out_label)
        *out_label = profile->label[group];
    if (out_label2)
        *out_label2 = profile->label2[group];
    if (out_count)
        *out_count = profile->count[group];
    if (out_share)
        *out_share = (double)profile->count[group] / (double)profile->n_rows;
    return SEG_OK;
}

SEG_API int32_t seg_profile_value(const seg_profile *profile, size_t group, size_t column,
                                  int32_t stat, double *out)
{
    if (!profile || !out || stat < 0 || stat >= N_STATS)
        return SEG_EINVAL;
    if (group >= profile->n_groups || column >= profile->n_cols)
        return SEG_ERANGE;
    *out = profile->stat[(group * profile->n_cols + column) * N_STATS + (size_t)stat];
    return SEG_OK;
}

SEG_API int32_t seg_profile_total(const seg_profile *profile, size_t column, int32_t stat,
                                  double *out)
{
    if (!profile || !out || stat < 0 || stat >= N_STATS)
        return SEG_EINVAL;
    if (column >= profile->n_cols)
        return SEG_ERANGE;
    *out = profile->total[column * N_STATS + (size_t)stat];
    return SEG_OK;
}
