/* SPDX-License-Identifier: MIT */
/* Order statistics and quantiles without a full sort. */
#ifndef SEG_QUANTILE_H
#define SEG_QUANTILE_H

#include <stddef.h>
#include <stdint.h>

#include "seg-private.h"

/* Finds the values at the 0-based sorted positions pos[0..m) (ascending,
 * repeats allowed, each < n) of x[0..n), reordering x in place. Expected
 * O(n log m); no allocation. x must hold no NaN. */
void seg__select(double *x, size_t n, const size_t *pos, size_t m, double *out);

/* The 1-based interpolation index of R's type-7 quantile at probability p
 * over n values: 1 + (n - 1) * p, computed as R computes it. */
double seg__type7_index(size_t n, double p);

/* R's type-7 quantile from the order statistics at floor(index) and
 * ceil(index) (1-based): (1 - h) * lo + h * hi, h = index - floor(index),
 * used only when index is fractional and hi != lo, as R does. */
double seg__type7_value(double index, double lo, double hi);

/* Same result as seg__select on a copy of x (left unchanged), at most 64
 * positions: a 16-bit radix histogram finds the buckets holding the
 * wanted positions, only those are gathered and selected in. Two passes
 * over x; scratch memory from `a`. Returns SEG_OK or SEG_ENOMEM. */
int32_t seg__order_stats(const seg__alloc *a, const double *x, size_t n, const size_t *pos,
                         size_t m, double *out);

/* Mean of finite values that never overflows (compensated). */
double seg__mean(const double *x, size_t n);

#endif /* SEG_QUANTILE_H */
