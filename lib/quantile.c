/* SPDX-License-Identifier: MIT */
#include <float.h>
#include <math.h>
#include <string.h>

#include "quantile.h"
#include "seg-private.h"

static void insertion_sort(double *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

/* In-place heapsort: the no-allocation fallback for deep recursion
 * (glibc's qsort may call malloc, which would bypass the allocator). */
static void sift_down(double *x, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && x[c + 1] > x[c])
            c++;
        if (!(x[c] > x[root]))
            return;
        double t = x[c];
        x[c] = x[root];
        x[root] = t;
        root = c;
    }
}

static void heap_sort(double *x, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(x, i, n);
    for (size_t end = n; end-- > 1;) {
        double t = x[0];
        x[0] = x[end];
        x[end] = t;
        sift_down(x, 0, end);
    }
}

static double median3(double a, double b, double c)
{
    if (a < b) {
        if (b < c) return b;
        return a < c ? c : a;
    }
    if (a < c) return a;
    return b < c ? c : b;
}

/* Selects the absolute positions pos[0..m) (all inside [lo, hi)) of x.
 * depth bounds the recursion: past it the range is sorted outright, so
 * adversarial input costs O(n log n) at worst rather than O(n^2). */
static void select_rec(double *x, size_t lo, size_t hi, const size_t *pos, size_t m, double *out,
                       int depth)
{
    while (m > 0) {
        size_t n = hi - lo;
        double *v = x + lo;
        if (n <= 32 || depth <= 0) {
            if (n <= 32)
                insertion_sort(v, n);
            else
                heap_sort(v, n);
            for (size_t i = 0; i < m; i++)
                out[i] = x[pos[i]];
            return;
        }
        depth--;
        double p = median3(median3(v[0], v[n / 8], v[n / 4]),
                           median3(v[3 * n / 8], v[n / 2], v[5 * n / 8]),
                           median3(v[3 * n / 4], v[7 * n / 8], v[n - 1]));
        /* Three-way partition: [lo, lt) < p, [lt, gt) == p, [gt, hi) > p. */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            double e = x[i];
            if (e < p) {
                x[i++] = x[lt];
                x[lt++] = e;
            } else if (e > p) {
                x[i] = x[--gt];
                x[gt] = e;
            } else {
                i++;
            }
        }
        size_t a = 0;
        while (a < m && pos[a] < lt)
            a++;
        size_t b = a;
        while (b < m && pos[b] < gt)
            out[b++] = p;
        select_rec(x, lo, lt, pos, a, out, depth);
        lo = gt;
        pos += b;
        out += b;
        m -= b;
    }
}

void seg__select(double *x, size_t n, const size_t *pos, size_t m, double *out)
{
    int depth = 2;
    for (size_t k = n; k > 1; k >>= 1)
        depth += 2;
    select_rec(x, 0, n, pos, m, out, depth);
}

double seg__type7_index(size_t n, double p)
{
    return 1.0 + (double)(n > 0 ? n - 1 : 0) * p;
}

double seg__type7_value(double index, double lo, double hi)
{
    double f = floor(index);
    if (index > f && hi != lo) {
        double h = index - f;
        double q = (1.0 - h) * lo + h * hi;
        /* Mathematically between lo and hi; near +-DBL_MAX the rounded sum
         * can overflow, so keep it finite. */
        return q > DBL_MAX ? DBL_MAX : q < -DBL_MAX ? -DBL_MAX : q;
    }
    return lo;
}

/* Compensated (Neumaier) sum of x[i] * scale: accurate and independent
 * of blocking. */
static double scaled_sum(const double *x, size_t n, double scale)
{
    double s = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i] * scale, t = s + v;
        c += fabs(s) >= fabs(v) ? (s - t) + v : (v - t) + s;
        s = t;
    }
    return s + c;
}

double seg__mean(const double *x, size_t n)
{
    double m = scaled_sum(x, n, 1.0) / (double)n;
    /* A sum of values near DBL_MAX overflows: average scaled terms instead. */
    return isfinite(m) ? m : scaled_sum(x, n, 1.0 / (double)n);
}

/* ---- radix-histogram order statistics ----------------------------------- */

#define RADIX_BITS 16
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)
#define NO_SLOT 0xff

/* Maps a double to an unsigned key with the same order (-0 just before +0). */
static inline uint64_t order_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

/* Largest value range handled by counting (4 MiB of counts). */
#define COUNT_RANGE ((size_t)1 << 20)

/* Order statistics of integer-valued x in [lo, lo + range) by counting. */
static int32_t count_stats(const seg__alloc *a, const double *x, size_t n, double lo, size_t range,
                           const size_t *pos, size_t m, double *out)
{
    /* Four interleaved tables for small ranges: runs of equal values (the
     * norm for frequencies) would otherwise serialise on one counter. */
    size_t ways = range <= 65536 ? 4 : 1;
    uint32_t *cnt = seg__calloc_array(a, range * ways, sizeof *cnt);
    if (!cnt)
        return SEG_ENOMEM;
    if (ways == 4) {
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
            cnt[(size_t)(x[i] - lo)]++;
            cnt[range + (size_t)(x[i + 1] - lo)]++;
            cnt[2 * range + (size_t)(x[i + 2] - lo)]++;
            cnt[3 * range + (size_t)(x[i + 3] - lo)]++;
        }
        for (; i < n; i++)
            cnt[(size_t)(x[i] - lo)]++;
        for (size_t v = 0; v < range; v++)
            cnt[v] += cnt[range + v] + cnt[2 * range + v] + cnt[3 * range + v];
    } else {
        for (size_t i = 0; i < n; i++)
            cnt[(size_t)(x[i] - lo)]++;
    }
    size_t v = 0, cum = cnt[0];
    for (size_t k = 0; k < m; k++) {
        while (cum <= pos[k])
            cum += cnt[++v];
        out[k] = lo + (double)v;
    }
    seg__free(a, cnt);
    return SEG_OK;
}

int32_t seg__order_stats(const seg__alloc *a, const double *x, size_t n, const size_t *pos,
                         size_t m, double *out)
{
    if (m == 0)
        return SEG_OK;
    /* Integer values over a small range (days, counts) are the common
     * case for recency and frequency: one counting pass answers exactly
     * (from 4097 values on; fewer are selected below). */
    double lo = x[0], hi = x[0];
    int integral = 1;
    for (size_t b = 0; b < n && integral; b += 4096) { /* stop at the first fraction */
        size_t e = n - b < 4096 ? n : b + 4096;
        for (size_t i = b; i < e; i++) {
            double v = x[i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            /* int32 round trip: vectorises (cvttpd2dq); wider integers
             * than that are not a small range anyway. 0.5 keeps the cast
             * defined for values out of range. */
            double c = v >= -2e9 && v <= 2e9 ? v : 0.5;
            integral &= v == (double)(int32_t)c;
        }
    }
    if (integral && hi - lo < (double)COUNT_RANGE && n > 4096 && n <= UINT32_MAX)
        return count_stats(a, x, n, lo, (size_t)(hi - lo) + 1, pos, m, out);
    if (n > UINT32_MAX || m > 64 || n <= 4096) {
        /* Counts would overflow the histogram, or a few thousand values
         * are selected faster than a 320 KB histogram is cleared: copy and
         * select instead. */
        double *copy = seg__malloc_array(a, n, sizeof *copy);
        if (!copy)
            return SEG_ENOMEM;
        memcpy(copy, x, n * sizeof *copy);
        seg__select(copy, n, pos, m, out);
        seg__free(a, copy);
        return SEG_OK;
    }
    uint32_t *hist = seg__calloc_array(a, RADIX_SIZE, sizeof *hist);
    uint8_t *slot_of = seg__malloc_array(a, RADIX_SIZE, 1);
    if (!hist || !slot_of) {
        seg__free(a, hist);
        seg__free(a, slot_of);
        return SEG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        hist[order_key(x[i]) >> (64 - RADIX_BITS)]++;

    /* Which bucket holds each wanted position, and its rank inside. */
    size_t bucket_start[64], bucket_len[64], local[64];
    int slot[64];
    size_t n_slots = 0, total = 0;
    memset(slot_of, NO_SLOT, RADIX_SIZE);
    size_t b = 0, cum = 0;
    for (size_t k = 0; k < m; k++) {
        while (cum + hist[b] <= pos[k])
            cum += hist[b++];
        if (slot_of[b] == NO_SLOT) {
            slot_of[b] = (uint8_t)n_slots;
            bucket_start[n_slots] = total;
            bucket_len[n_slots] = hist[b];
            total += hist[b];
            n_slots++;
        }
        slot[k] = slot_of[b];
        local[k] = pos[k] - cum;
    }
    seg__free(a, hist);
    double *buf = seg__malloc_array(a, total, sizeof *buf);
    if (!buf) {
        seg__free(a, slot_of);
        return SEG_ENOMEM;
    }
    size_t fill[64];
    for (size_t s = 0; s < n_slots; s++)
        fill[s] = bucket_start[s];
    for (size_t i = 0; i < n; i++) {
        uint8_t s = slot_of[order_key(x[i]) >> (64 - RADIX_BITS)];
        if (s != NO_SLOT)
            buf[fill[s]++] = x[i];
    }
    seg__free(a, slot_of);
    /* Select within each gathered bucket; positions of one bucket are
     * consecutive in pos[] because buckets are visited in order. */
    for (size_t k = 0; k < m;) {
        size_t e = k;
        while (e < m && slot[e] == slot[k])
            e++;
        size_t s = (size_t)slot[k];
        seg__select(buf + bucket_start[s], bucket_len[s], local + k, e - k, out + k);
        k = e;
    }
    seg__free(a, buf);
    return SEG_OK;
}
