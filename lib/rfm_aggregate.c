/* SPDX-License-Identifier: MIT */
/* Transactions -> per-customer recency, frequency, monetary, tenure. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* madvise */
#endif
#include <float.h>
#include <math.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "rfm-private.h"

/* Rows to look ahead when prefetching a customer's totals. */
#define PREFETCH 16

/* One customer's running totals: 32 bytes, so one cache line holds two. */
typedef struct acc {
    int64_t last, first; /* purchase times, model unit */
    union {
        double d;
        int64_t i;
    } sum;
    uint32_t count; /* purchase rows */
    uint32_t pad;
} acc;

/* Random access over hundreds of megabytes thrashes the TLB with 4 KiB
 * pages: ask Linux for transparent huge pages on the inner part of a big
 * block. Only a hint; the memory stays the caller allocator's. */
static void hint_huge_pages(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (bytes < 4 * huge)
        return;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (e > b)
        madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* later - earlier for earlier <= later, exact over the whole int64 range
 * (the difference can exceed INT64_MAX; as unsigned it cannot overflow). */
static uint64_t span(int64_t earlier, int64_t later)
{
    return (uint64_t)later - (uint64_t)earlier;
}

static int64_t day_of(int64_t t, int32_t unit)
{
    if (unit == SEG_TIME_DAYS)
        return t;
    int64_t d = t / 86400;
    return (t % 86400 < 0) ? d - 1 : d;
}

static void sort_days(int64_t *x, size_t n)
{
    /* Shell sort: no allocation, fine for one customer's purchase days. */
    static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            int64_t v = x[i];
            size_t j = i;
            while (j >= gap && x[j - gap] > v) {
                x[j] = x[j - gap];
                j -= gap;
            }
            x[j] = v;
        }
    }
}

/* Counts distinct purchase days per customer into days[]: a counting sort
 * of purchase rows by customer, then a small sort per customer. */
static int32_t distinct_days(const seg_rfm *m, const int32_t *customer, const int64_t *time,
                             const double *amt_d, const int64_t *amt_i, size_t n_rows,
                             int64_t analysis, const acc *a, size_t n_cust, uint32_t *days)
{
    size_t total = 0;
    for (size_t c = 0; c < n_cust; c++)
        total += a[c].count;
    size_t *start = seg__malloc_array(&m->alloc, n_cust + 1, sizeof *start);
    int64_t *buf = seg__malloc_array(&m->alloc, total, sizeof *buf);
    if (!start || !buf) {
        seg__free(&m->alloc, start);
        seg__free(&m->alloc, buf);
        return SEG_ENOMEM;
    }
    size_t off = 0;
    for (size_t c = 0; c < n_cust; c++) {
        start[c] = off;
        off += a[c].count;
    }
    start[n_cust] = off;
    for (size_t i = 0; i < n_rows; i++) {
        int neg = amt_d ? amt_d[i] < 0 : amt_i[i] < 0;
        if (neg || time[i] > analysis)
            continue; /* not a purchase (validated earlier) */
        buf[start[customer[i]]++] = day_of(time[i], m->time_unit);
    }
    for (size_t c = 0; c < n_cust; c++) {
        size_t b = c ? start[c - 1] : 0, e = start[c];
        /* start[c] now points one past customer c's rows. */
        sort_days(buf + b, e - b);
        uint32_t k = 0;
        for (size_t i = b; i < e; i++)
            k += i == b || buf[i] != buf[i - 1];
        days[c] = k;
    }
    seg__free(&m->alloc, start);
    seg__free(&m->alloc, buf);
    return SEG_OK;
}

static int32_t aggregate(const seg_rfm *m, const int32_t *customer, const int64_t *time,
                         const double *amt_d, const int64_t *amt_i, size_t n_rows, int64_t analysis,
                         size_t n_cust, double *out_r, double *out_f, double *out_m,
                         double *out_t, uint8_t *out_has, char *err, size_t cap)
{
    if (!m) {
        seg__errf(err, cap, "model is NULL");
        return SEG_EINVAL;
    }
    if (n_cust == 0 || n_cust > INT32_MAX) {
        seg__errf(err, cap, "n_customers = %zu, expected 1..%d", n_cust, INT32_MAX);
        return SEG_EINVAL;
    }
    if (n_rows > 0 && (!customer || !time || (!amt_d && !amt_i))) {
        seg__errf(err, cap, "%s is NULL", !customer ? "customer" : !time ? "time" : "amount");
        return SEG_EINVAL;
    }
    acc *a = seg__malloc_array(&m->alloc, n_cust, sizeof *a);
    if (!a) {
        seg__errf(err, cap, "out of memory for %zu customers", n_cust);
        return SEG_ENOMEM;
    }
    hint_huge_pages(a, n_cust * sizeof *a);
    for (size_t c = 0; c < n_cust; c++) {
        a[c].last = INT64_MIN;
        a[c].first = INT64_MAX;
        a[c].sum.i = 0; /* also 0.0 */
        a[c].count = 0;
    }
    const int32_t negative = m->negative, future_ignore = m->future == SEG_FUTURE_IGNORE;
    const uint32_t nc = (uint32_t)n_cust;
    int32_t rc = SEG_OK;
    for (size_t i = 0; i < n_rows; i++) {
        /* Customers are visited in random order: fetch ahead to overlap
         * the cache misses (prefetches never fault). */
        if (i + PREFETCH < n_rows) {
            uint32_t ahead = (uint32_t)customer[i + PREFETCH];
            __builtin_prefetch(&a[ahead < nc ? ahead : 0], 1);
        }
        int32_t c = customer[i];
        int64_t t = time[i];
        int bad = (uint32_t)c >= nc || t > analysis;
        acc *x = &a[bad ? 0 : c];
        if (amt_d) {
            double v = amt_d[i];
            /* Fast path: a valid purchase (finite, >= 0, not in the future). */
            if (!bad && v >= 0 && v <= DBL_MAX) {
                x->sum.d += v;
                x->count++;
                x->last = t > x->last ? t : x->last;
                x->first = t < x->first ? t : x->first;
                continue;
            }
        } else {
            int64_t v = amt_i[i];
            if (!bad && v >= 0 && x->sum.i <= INT64_MAX - v) {
                x->sum.i += v;
                x->count++;
                x->last = t > x->last ? t : x->last;
                x->first = t < x->first ? t : x->first;
                continue;
            }
        }
        /* Slow path: a bad index, a future row, a refund, NaN/Inf, overflow. */
        if ((uint32_t)c >= nc) {
            seg__errf(err, cap, "customer[%zu] = %d outside 0..%zu", i, (int)c, n_cust - 1);
            rc = SEG_EDATA;
            goto out;
        }
        if (t > analysis) {
            if (future_ignore)
                continue;
            seg__errf(err, cap, "time[%zu] = %lld is after the analysis time %lld", i,
                      (long long)t, (long long)analysis);
            rc = SEG_EDATA;
            goto out;
        }
        if (amt_d && !isfinite(amt_d[i])) {
            seg__errf(err, cap, "amount[%zu] is %s", i, isnan(amt_d[i]) ? "NaN" : "infinite");
            rc = SEG_EDATA;
            goto out;
        }
        int64_t vi = amt_d ? 0 : amt_i[i];
        if (!amt_d && vi >= 0) { /* a purchase whose sum overflows */
            seg__errf(err, cap, "customer %d: monetary sum overflows int64 at row %zu", (int)c, i);
            rc = SEG_ERANGE;
            goto out;
        }
        /* A refund. */
        if (negative == SEG_NEGATIVE_REJECT) {
            seg__errf(err, cap, "amount[%zu] is negative (refunds are rejected)", i);
            rc = SEG_EDATA;
            goto out;
        }
        if (negative == SEG_NEGATIVE_DROP)
            continue;
        if (amt_d) {
            x->sum.d += amt_d[i];
        } else {
            if (x->sum.i < INT64_MIN - vi) {
                seg__errf(err, cap, "customer %d: monetary sum overflows int64 at row %zu",
                          (int)c, i);
                rc = SEG_ERANGE;
                goto out;
            }
            x->sum.i += vi;
        }
    }

    uint32_t *days = NULL;
    if (out_f && m->frequency == SEG_FREQUENCY_DAYS) {
        days = seg__malloc_array(&m->alloc, n_cust, sizeof *days);
        if (!days || distinct_days(m, customer, time, amt_d, amt_i, n_rows, analysis, a, n_cust,
                                   days) != SEG_OK) {
            seg__free(&m->alloc, days);
            seg__errf(err, cap, "out of memory counting distinct days");
            rc = SEG_ENOMEM;
            goto out;
        }
    }

    /* Success: only now write the caller's arrays. */
    const double unit = m->time_unit == SEG_TIME_SECONDS ? 86400.0 : 1.0;
    const int mean = m->monetary == SEG_MONETARY_MEAN;
    for (size_t c = 0; c < n_cust; c++) {
        const acc *x = &a[c];
        int has = x->count > 0;
        double sum = amt_d ? x->sum.d : (double)x->sum.i;
        if (out_r)
            out_r[c] = has ? (double)span(x->last, analysis) / unit : NAN;
        if (out_t)
            out_t[c] = has ? (double)span(x->first, analysis) / unit : NAN;
        if (out_f)
            out_f[c] = days ? (double)days[c] : (double)x->count;
        if (out_m)
            out_m[c] = mean && has ? sum / (double)x->count : sum;
        if (out_has)
            out_has[c] = (uint8_t)has;
    }
    seg__free(&m->alloc, days);
out:
    seg__free(&m->alloc, a);
    return rc;
}

SEG_API int32_t seg_rfm_aggregate(const seg_rfm *model, const int32_t *customer, const int64_t *time,
                                  const double *amount, size_t n_rows, int64_t analysis_time,
                                  size_t n_customers, double *out_recency, double *out_frequency,
                                  double *out_monetary, double *out_tenure,
                                  uint8_t *out_has_purchase, char *err_buf, size_t err_cap)
{
    if (n_rows > 0 && !amount) {
        seg__errf(err_buf, err_cap, "amount is NULL");
        return SEG_EINVAL;
    }
    static const double none = 0.0;
    return aggregate(model, customer, time, amount ? amount : &none, NULL, n_rows,
                     analysis_time, n_customers, out_recency, out_frequency, out_monetary,
                     out_tenure, out_has_purchase, err_buf, err_cap);
}

SEG_API int32_t seg_rfm_aggregate_minor(const seg_rfm *model, const int32_t *customer,
                                        const int64_t *time, const int64_t *amount_minor,
                                        size_t n_rows, int64_t analysis_time, size_t n_customers,
                                        double *out_recency, double *out_frequency,
                                        double *out_monetary, double *out_tenure,
                                        uint8_t *out_has_purchase, char *err_buf, size_t err_cap)
{
    if (n_rows > 0 && !amount_minor) {
        seg__errf(err_buf, err_cap, "amount_minor is NULL");
        return SEG_EINVAL;
    }
    static const int64_t none = 0;
    return aggregate(model, customer, time, NULL, amount_minor ? amount_minor : &none, n_rows,
                     analysis_time, n_customers, out_recency, out_frequency, out_monetary,
                     out_tenure, out_has_purchase, err_buf, err_cap);
}
