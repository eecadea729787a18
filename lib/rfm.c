/* SPDX-License-Identifier: MIT */
/* The RFM model: options, fitting thresholds, scoring. */
#include <math.h>
#include <string.h>

#include "quantile.h"
#include "rfm-private.h"

static const char *const dim_name[3] = {"recency", "frequency", "monetary"};

/* ---- options ---------------------------------------------------------- */

static const seg__rfm_param_info params[] = {
    {SEG_RFM_PARAM_R_BINS, "r_bins", 2, SEG_RFM_MAX_BINS, 5},
    {SEG_RFM_PARAM_F_BINS, "f_bins", 2, SEG_RFM_MAX_BINS, 5},
    {SEG_RFM_PARAM_M_BINS, "m_bins", 2, SEG_RFM_MAX_BINS, 5},
    {SEG_RFM_PARAM_R_BINNING, "r_binning", SEG_BINNING_R_COMPAT, SEG_BINNING_MEDIAN, SEG_BINNING_R_COMPAT},
    {SEG_RFM_PARAM_F_BINNING, "f_binning", SEG_BINNING_R_COMPAT, SEG_BINNING_MEDIAN, SEG_BINNING_R_COMPAT},
    {SEG_RFM_PARAM_M_BINNING, "m_binning", SEG_BINNING_R_COMPAT, SEG_BINNING_MEDIAN, SEG_BINNING_R_COMPAT},
    {SEG_RFM_PARAM_TIME_UNIT, "time_unit", SEG_TIME_DAYS, SEG_TIME_SECONDS, SEG_TIME_DAYS},
    {SEG_RFM_PARAM_FREQUENCY, "frequency", SEG_FREQUENCY_TRANSACTIONS, SEG_FREQUENCY_DAYS, SEG_FREQUENCY_TRANSACTIONS},
    {SEG_RFM_PARAM_MONETARY, "monetary", SEG_MONETARY_SUM, SEG_MONETARY_MEAN, SEG_MONETARY_SUM},
    {SEG_RFM_PARAM_NEGATIVE, "negative", SEG_NEGATIVE_NET, SEG_NEGATIVE_REJECT, SEG_NEGATIVE_NET},
    {SEG_RFM_PARAM_FUTURE, "future", SEG_FUTURE_REJECT, SEG_FUTURE_IGNORE, SEG_FUTURE_REJECT},
    {SEG_RFM_PARAM_MISSING, "missing", SEG_MISSING_SKIP, SEG_MISSING_REJECT, SEG_MISSING_SKIP},
};

const seg__rfm_param_info *seg__rfm_param_table(size_t *n)
{
    *n = sizeof params / sizeof params[0];
    return params;
}

const seg__rfm_param_info *seg__rfm_param_find(int32_t key)
{
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i].key == key)
            return &params[i];
    return NULL;
}

int32_t *seg__rfm_param_slot(seg_rfm *m, int32_t key)
{
    switch (key) {
    case SEG_RFM_PARAM_R_BINS: return &m->dim[SEG_RFM_R].bins;
    case SEG_RFM_PARAM_F_BINS: return &m->dim[SEG_RFM_F].bins;
    case SEG_RFM_PARAM_M_BINS: return &m->dim[SEG_RFM_M].bins;
    case SEG_RFM_PARAM_R_BINNING: return &m->dim[SEG_RFM_R].binning;
    case SEG_RFM_PARAM_F_BINNING: return &m->dim[SEG_RFM_F].binning;
    case SEG_RFM_PARAM_M_BINNING: return &m->dim[SEG_RFM_M].binning;
    case SEG_RFM_PARAM_TIME_UNIT: return &m->time_unit;
    case SEG_RFM_PARAM_FREQUENCY: return &m->frequency;
    case SEG_RFM_PARAM_MONETARY: return &m->monetary;
    case SEG_RFM_PARAM_NEGATIVE: return &m->negative;
    case SEG_RFM_PARAM_FUTURE: return &m->future;
    case SEG_RFM_PARAM_MISSING: return &m->missing;
    default: return NULL;
    }
}

void seg__rfm_error(seg_rfm *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
}

void seg__rfm_defaults(seg_rfm *m, const seg__alloc *a)
{
    memset(m, 0, sizeof *m);
    m->alloc = *a;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        *seg__rfm_param_slot(m, params[i].key) = (int32_t)params[i].def;
    m->w[0] = m->w[1] = m->w[2] = 1.0;
}

SEG_API int32_t seg_rfm_new(seg_rfm **out, const seg_allocator *alloc)
{
    seg__alloc a;
    if (!out)
        return SEG_EINVAL;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    seg_rfm *m = seg__malloc(&a, sizeof *m);
    if (!m)
        return SEG_ENOMEM;
    seg__rfm_defaults(m, &a);
    *out = m;
    return SEG_OK;
}

SEG_API void seg_rfm_free(seg_rfm *model)
{
    if (model) {
        seg__alloc a = model->alloc;
        seg__free(&a, model);
    }
}

SEG_API int32_t seg_rfm_set_param(seg_rfm *model, int32_t param, int64_t value)
{
    if (!model)
        return SEG_EINVAL;
    const seg__rfm_param_info *p = seg__rfm_param_find(param);
    if (!p) {
        seg__rfm_error(model, "unknown option key %d", (int)param);
        return SEG_EINVAL;
    }
    if (value < p->min || value > p->max) {
        seg__rfm_error(model, "option %s: value %lld outside %lld..%lld", p->name, (long long)value,
                       (long long)p->min, (long long)p->max);
        return SEG_ERANGE;
    }
    int32_t *slot = seg__rfm_param_slot(model, param);
    if (*slot != (int32_t)value) {
        *slot = (int32_t)value;
        /* A changed bins or binning option invalidates that dimension's fit. */
        if (param >= SEG_RFM_PARAM_R_BINS && param <= SEG_RFM_PARAM_M_BINS)
            model->dim[param - SEG_RFM_PARAM_R_BINS].fitted = 0;
        if (param >= SEG_RFM_PARAM_R_BINNING && param <= SEG_RFM_PARAM_M_BINNING)
            model->dim[param - SEG_RFM_PARAM_R_BINNING].fitted = 0;
    }
    model->err[0] = '\0';
    return SEG_OK;
}

SEG_API int32_t seg_rfm_get_param(const seg_rfm *model, int32_t param, int64_t *out)
{
    if (!model || !out)
        return SEG_EINVAL;
    if (!seg__rfm_param_find(param))
        return SEG_EINVAL;
    *out = *seg__rfm_param_slot((seg_rfm *)model, param);
    return SEG_OK;
}

SEG_API int32_t seg_rfm_param_bounds(int32_t param, int64_t *out_min, int64_t *out_max)
{
    const seg__rfm_param_info *p = seg__rfm_param_find(param);
    if (!p || !out_min || !out_max)
        return SEG_EINVAL;
    *out_min = p->min;
    *out_max = p->max;
    return SEG_OK;
}

SEG_API int32_t seg_rfm_set_weights(seg_rfm *model, double wr, double wf, double wm)
{
    if (!model)
        return SEG_EINVAL;
    if (!isfinite(wr) || !isfinite(wf) || !isfinite(wm)) {
        seg__rfm_error(model, "weights must be finite (got %g, %g, %g)", wr, wf, wm);
        return SEG_EINVAL;
    }
    model->w[0] = wr;
    model->w[1] = wf;
    model->w[2] = wm;
    model->err[0] = '\0';
    return SEG_OK;
}

const char *seg__rfm_check_thresholds(const double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]))
            return "threshold is not finite";
        if (i > 0 && !(t[i] > t[i - 1]))
            return "thresholds are not strictly increasing";
    }
    return NULL;
}

SEG_API int32_t seg_rfm_set_thresholds(seg_rfm *model, int32_t dim, const double *thresholds,
                                       size_t n_thresholds)
{
    if (!model)
        return SEG_EINVAL;
    if (dim < SEG_RFM_R || dim > SEG_RFM_M || !thresholds) {
        seg__rfm_error(model, "%s", !thresholds ? "thresholds is NULL" : "unknown dimension");
        return SEG_EINVAL;
    }
    if (n_thresholds < 1 || n_thresholds > SEG__RFM_MAX_THR) {
        seg__rfm_error(model, "%s: %zu thresholds, expected 1..%d", dim_name[dim], n_thresholds,
                       SEG__RFM_MAX_THR);
        return SEG_ERANGE;
    }
    for (size_t i = 0; i < n_thresholds; i++) {
        const char *why = seg__rfm_check_thresholds(thresholds, i + 1);
        if (why) {
            seg__rfm_error(model, "%s threshold %zu (%g): %s", dim_name[dim], i, thresholds[i], why);
            return SEG_EINVAL;
        }
    }
    seg__rfm_dim *d = &model->dim[dim];
    d->binning = SEG_BINNING_FIXED;
    d->bins = (int32_t)n_thresholds + 1;
    d->n_thr = (int32_t)n_thresholds;
    memcpy(d->thr, thresholds, n_thresholds * sizeof *thresholds);
    d->fitted = 1;
    model->err[0] = '\0';
    return SEG_OK;
}

SEG_API int32_t seg_rfm_is_fitted(const seg_rfm *model)
{
    return model && model->dim[0].fitted && model->dim[1].fitted && model->dim[2].fitted;
}

SEG_API int32_t seg_rfm_get_thresholds(const seg_rfm *model, int32_t dim, double *out, size_t cap,
                                       size_t *out_n)
{
    if (!model || !out_n || dim < SEG_RFM_R || dim > SEG_RFM_M)
        return SEG_EINVAL;
    const seg__rfm_dim *d = &model->dim[dim];
    if (!d->fitted)
        return SEG_ESTATE;
    *out_n = (size_t)d->n_thr;
    if (!out)
        return SEG_OK;
    if (cap < (size_t)d->n_thr)
        return SEG_EBUFSZ;
    memcpy(out, d->thr, (size_t)d->n_thr * sizeof *out);
    return SEG_OK;
}

SEG_API const char *seg_rfm_last_error(const seg_rfm *model)
{
    return model ? model->err : "";
}

/* ---- validation ------------------------------------------------------- */

/* Checks one input column. NaN is allowed under SKIP; Inf never. */
SEG__HOT static int32_t check_column(const double *x, size_t n, int dim, int32_t missing,
                                     char *err, size_t cap, int *has_nan)
{
    /* Fast path: OR together "exponent all ones" (NaN or Inf) as integers,
     * which vectorises; only a hit needs the slow scan below. */
    /* Adding one exponent unit carries into bit 63 only when the exponent
     * bits are all ones; plain 64-bit and/add/or vectorise on SSE2. */
    const uint64_t exp_mask = 0x7ff0000000000000u, exp_one = (uint64_t)1 << 52;
    uint64_t special = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &x[i], sizeof u);
        special |= (u & exp_mask) + exp_one;
    }
    if (!(special >> 63))
        return SEG_OK;
    *has_nan = 1; /* or an Inf, refused below */
    for (size_t i = 0; i < n; i++) {
        if (isinf(x[i])) {
            seg__errf(err, cap, "%s[%zu]: infinite value not allowed", dim_name[dim], i);
            return SEG_EDATA;
        }
        if (isnan(x[i]) && missing == SEG_MISSING_REJECT) {
            seg__errf(err, cap, "%s[%zu]: NaN not allowed (missing policy is reject)",
                      dim_name[dim], i);
            return SEG_EDATA;
        }
    }
    return SEG_OK;
}

/* Checks the three columns; *has_nan tells whether any NaN was seen. */
static int32_t check_inputs(const double *const col[3], size_t n, int32_t missing, char *err,
                            size_t cap, int *has_nan)
{
    *has_nan = 0;
    for (int d = 0; d < 3; d++) {
        int32_t rc = check_column(col[d], n, d, missing, err, cap, has_nan);
        if (rc != SEG_OK)
            return rc;
    }
    return SEG_OK;
}

/* ---- fitting ---------------------------------------------------------- */

/* Rows in bins 1..j of an equal-count split of n ranks into k bins, as
 * pandas 1.5 qcut(rank(method="first"), k) computes it with numpy 1.24's
 * linear quantile: edge = lerp(f + 1, f + 2, t) with v = (n-1) * j/k,
 * f = floor(v), t = v - f; ranks r <= edge fall in bins 1..j. */
static size_t rank_count(size_t n, int j, int k)
{
    double q = (double)j * (1.0 / (double)k);
    double v = q * (double)(n - 1);
    double f = floor(v), t = v - f;
    double a = f + 1.0, b = f + 2.0;
    double edge = t >= 0.5 ? b - (b - a) * (1.0 - t) : a + (b - a) * t;
    double c = floor(edge);
    if (c < 0)
        return 0;
    return c > (double)n ? n : (size_t)c;
}

/* Levels of a dimension once fitted with its binning method. */
static int dim_levels(const seg__rfm_dim *d)
{
    return d->binning == SEG_BINNING_MEAN || d->binning == SEG_BINNING_MEDIAN ? 2 : d->bins;
}

/* Computes thresholds for one dimension from the values x[0..n). */
static int32_t fit_dim(const seg__alloc *a, seg__rfm_dim *d, const double *x, size_t n)
{
    size_t pos[2 * SEG__RFM_MAX_THR] = {0};
    double val[2 * SEG__RFM_MAX_THR];
    double idx[SEG__RFM_MAX_THR];
    int k = dim_levels(d), nq = 0;
    size_t m = 0;
    switch (d->binning) {
    case SEG_BINNING_MEAN:
        d->thr[0] = seg__mean(x, n);
        d->n_thr = 1;
        d->fitted = 1;
        return SEG_OK;
    case SEG_BINNING_RANK:
        for (int j = 1; j < k; j++)
            pos[m++] = rank_count(n, j, k) - 1;
        break;
    default: /* R_COMPAT, TIES, MEDIAN: type-7 quantiles */
        nq = d->binning == SEG_BINNING_MEDIAN ? 1 : k - 1;
        for (int j = 0; j < nq; j++) {
            double p = d->binning == SEG_BINNING_MEDIAN ? 0.5 : (double)(j + 1) * (1.0 / (double)k);
            idx[j] = seg__type7_index(n, p);
            pos[m++] = (size_t)floor(idx[j]) - 1;
            pos[m++] = (size_t)ceil(idx[j]) - 1;
        }
        break;
    }
    /* seg__order_stats wants ascending positions; with n <= k several
     * quantiles share an interval and their (lo, hi) pairs interleave. */
    size_t order[2 * SEG__RFM_MAX_THR] = {0}, sorted[2 * SEG__RFM_MAX_THR] = {0};
    double got[2 * SEG__RFM_MAX_THR];
    for (size_t i = 0; i < m; i++) {
        size_t j = i;
        while (j > 0 && pos[order[j - 1]] > pos[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < m; i++)
        sorted[i] = pos[order[i]];
    int32_t rc = seg__order_stats(a, x, n, sorted, m, got);
    if (rc != SEG_OK)
        return rc;
    for (size_t i = 0; i < m; i++)
        val[order[i]] = got[i];
    if (d->binning == SEG_BINNING_RANK) {
        memcpy(d->thr, val, m * sizeof *val);
        d->n_thr = k - 1;
    } else {
        for (int j = 0; j < nq; j++) {
            double q = seg__type7_value(idx[j], val[2 * j], val[2 * j + 1]);
            d->thr[j] = d->binning == SEG_BINNING_R_COMPAT ? q + 1.0 : q;
        }
        d->n_thr = nq;
    }
    d->fitted = 1;
    return SEG_OK;
}

/* Fits every non-FIXED dimension into dims[] (a copy: the model is only
 * changed by the caller on success). *out_kept: rows used (no NaN). */
static int32_t fit_all(seg_rfm *m, const double *const col[3], size_t n, seg__rfm_dim dims[3],
                       size_t *out_kept)
{
    if (!col[0] || !col[1] || !col[2]) {
        seg__rfm_error(m, "%s is NULL", !col[0] ? "recency" : !col[1] ? "frequency" : "monetary");
        return SEG_EINVAL;
    }
    if (n == 0) {
        seg__rfm_error(m, "no rows to fit (n = 0)");
        return SEG_EINVAL;
    }
    int has_nan;
    int32_t rc = check_inputs(col, n, m->missing, m->err, sizeof m->err, &has_nan);
    if (rc != SEG_OK)
        return rc;
    memcpy(dims, m->dim, 3 * sizeof *dims);
    /* Rows with a NaN anywhere are left out: fit on a filtered copy. */
    double *buf = NULL;
    size_t kept = n;
    if (has_nan) {
        kept = 0;
        for (size_t i = 0; i < n; i++)
            kept += !isnan(col[0][i]) && !isnan(col[1][i]) && !isnan(col[2][i]);
        if (kept == 0) {
            seg__rfm_error(m, "every row has a missing value: nothing to fit");
            return SEG_EDATA;
        }
        buf = seg__malloc_array(&m->alloc, kept, sizeof *buf);
        if (!buf) {
            seg__rfm_error(m, "out of memory fitting %zu rows", n);
            return SEG_ENOMEM;
        }
    }
    for (int d = 0; d < 3 && rc == SEG_OK; d++) {
        if (dims[d].binning == SEG_BINNING_FIXED)
            continue;
        const double *x = col[d];
        if (buf) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (!isnan(col[0][i]) && !isnan(col[1][i]) && !isnan(col[2][i]))
                    buf[k++] = col[d][i];
            x = buf;
        }
        rc = fit_dim(&m->alloc, &dims[d], x, kept);
        if (rc == SEG_ENOMEM)
            seg__rfm_error(m, "out of memory fitting %s", dim_name[d]);
    }
    seg__free(&m->alloc, buf);
    *out_kept = kept;
    return rc;
}

SEG_API int32_t seg_rfm_fit(seg_rfm *model, const double *recency, const double *frequency,
                            const double *monetary, size_t n)
{
    if (!model)
        return SEG_EINVAL;
    const double *const col[3] = {recency, frequency, monetary};
    seg__rfm_dim dims[3];
    size_t kept;
    int32_t rc = fit_all(model, col, n, dims, &kept);
    if (rc != SEG_OK)
        return rc;
    memcpy(model->dim, dims, sizeof dims);
    model->err[0] = '\0';
    return SEG_OK;
}

/* ---- scoring ---------------------------------------------------------- */

#define BLOCK 1024

/* Whether a dimension's bins include their lower bound ([t_{j-1}, t_j))
 * or their upper bound ((t_{j-1}, t_j]). MEAN/MEDIAN put ties at the cut
 * in the "high" level, which for recency is the lower bin. */
static int lower_inclusive(const seg__rfm_dim *d, int dim)
{
    switch (d->binning) {
    case SEG_BINNING_R_COMPAT:
    case SEG_BINNING_FIXED: return 1;
    case SEG_BINNING_MEAN:
    case SEG_BINNING_MEDIAN: return dim != SEG_RFM_R;
    default: return 0;
    }
}

/* Rank state for seg_rfm_fit_score on RANK dimensions: rows tied with a
 * threshold are split by input order. */
typedef struct rank_state {
    size_t count[SEG__RFM_MAX_THR]; /* rows in bins 1..j+1 */
    size_t less[SEG__RFM_MAX_THR];  /* rows with value < thr[j] */
    size_t seen[SEG__RFM_MAX_THR];  /* tied rows met so far, by first equal j */
} rank_state;

/* b[i] = #{j < NT : t[j] <= x[i]} (or < when !incl). NT is a constant
 * at each call site below, so the loops unroll and vectorise. */
static inline void count_below(const double *restrict t, int nt, int incl,
                               const double *restrict x, size_t n, int32_t *restrict b)
{
    /* Counting in doubles keeps every lane the same width, so the loops
     * vectorise with plain SSE2; the count converts exactly. */
    if (incl) {
        for (size_t i = 0; i < n; i++) {
            double c = 0;
            for (int j = 0; j < nt; j++)
                c += t[j] <= x[i] ? 1.0 : 0.0;
            b[i] = (int32_t)c;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            double c = 0;
            for (int j = 0; j < nt; j++)
                c += t[j] < x[i] ? 1.0 : 0.0;
            b[i] = (int32_t)c;
        }
    }
}

static void count_below_any(const double *t, int nt, int incl, const double *x, size_t n,
                            int32_t *b)
{
    switch (nt) {
    case 1: count_below(t, 1, incl, x, n, b); break;
    case 2: count_below(t, 2, incl, x, n, b); break;
    case 3: count_below(t, 3, incl, x, n, b); break;
    case 4: count_below(t, 4, incl, x, n, b); break;
    case 5: count_below(t, 5, incl, x, n, b); break;
    case 6: count_below(t, 6, incl, x, n, b); break;
    case 7: count_below(t, 7, incl, x, n, b); break;
    case 8: count_below(t, 8, incl, x, n, b); break;
    default: count_below(t, SEG__RFM_MAX_THR, incl, x, n, b); break;
    }
}

/* Scores x[0..n) of one dimension into s[0..n): 1..k, 0 for NaN. */
static void score_dim(const seg__rfm_dim *d, int dim, const double *x, size_t n, int32_t *s,
                      rank_state *rk, const uint8_t *ok)
{
    const double *t = d->thr;
    int nt = d->n_thr;
    int32_t base = dim == SEG_RFM_R ? nt + 1 : 1, sign = dim == SEG_RFM_R ? -1 : 1;
    count_below_any(t, nt, lower_inclusive(d, dim), x, n, s);
    for (size_t i = 0; i < n; i++)
        s[i] = x[i] == x[i] ? base + sign * s[i] : 0;
    if (!rk)
        return;
    /* Ties with a threshold: the row's overall rank decides its bin. */
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (!ok[i])
            continue;
        int j0 = -1;
        for (int j = 0; j < nt; j++)
            if (t[j] == v) {
                j0 = j;
                break;
            }
        if (j0 < 0)
            continue;
        size_t rank = rk->less[j0] + rk->seen[j0]++;
        int32_t b = 1;
        for (int j = 0; j < nt; j++)
            b += rk->count[j] <= rank;
        s[i] = base + sign * (b - 1);
    }
}

typedef struct score_out {
    int32_t *r, *f, *m, *cell;
    double *weighted;
} score_out;

/* Scores rows block by block. Each output is written by its own loop so
 * that every loop vectorises; rows with a NaN (only possible when
 * may_miss) are zeroed in all three scores first. */
SEG__HOT static void score_rows(const seg_rfm *m, const double *const col[3], size_t n,
                                const score_out *o, rank_state *rk[3], int may_miss)
{
    int32_t s[3][BLOCK];
    uint8_t ok[BLOCK];
    for (size_t base = 0; base < n; base += BLOCK) {
        size_t len = n - base < BLOCK ? n - base : BLOCK;
        if (rk)
            for (size_t i = 0; i < len; i++)
                ok[i] = !isnan(col[0][base + i]) && !isnan(col[1][base + i]) &&
                        !isnan(col[2][base + i]);
        for (int d = 0; d < 3; d++)
            score_dim(&m->dim[d], d, col[d] + base, len, s[d], rk ? rk[d] : NULL, ok);
        int32_t *r = s[0], *f = s[1], *v = s[2];
        if (may_miss) {
            for (size_t i = 0; i < len; i++) {
                int32_t keep = -(int32_t)((r[i] != 0) & (f[i] != 0) & (v[i] != 0));
                r[i] &= keep;
                f[i] &= keep;
                v[i] &= keep;
            }
        }
        if (o->r)
            memcpy(o->r + base, r, len * sizeof *r);
        if (o->f)
            memcpy(o->f + base, f, len * sizeof *f);
        if (o->m)
            memcpy(o->m + base, v, len * sizeof *v);
        if (o->cell) {
            int32_t *c = o->cell + base;
            for (size_t i = 0; i < len; i++)
                c[i] = 100 * r[i] + 10 * f[i] + v[i];
        }
        if (o->weighted) {
            double *w = o->weighted + base;
            const double w0 = m->w[0], w1 = m->w[1], w2 = m->w[2];
            for (size_t i = 0; i < len; i++)
                w[i] = w0 * r[i] + w1 * f[i] + w2 * v[i];
            if (may_miss)
                for (size_t i = 0; i < len; i++)
                    if (r[i] == 0)
                        w[i] = NAN;
        }
    }
}

SEG_API int32_t seg_rfm_score(const seg_rfm *model, const double *recency, const double *frequency,
                              const double *monetary, size_t n, int32_t *out_r, int32_t *out_f,
                              int32_t *out_m, int32_t *out_cell, double *out_weighted,
                              char *err_buf, size_t err_cap)
{
    if (!model) {
        seg__errf(err_buf, err_cap, "model is NULL");
        return SEG_EINVAL;
    }
    if (n == 0)
        return SEG_OK;
    if (!recency || !frequency || !monetary) {
        seg__errf(err_buf, err_cap, "%s is NULL",
                  !recency ? "recency" : !frequency ? "frequency" : "monetary");
        return SEG_EINVAL;
    }
    for (int d = 0; d < 3; d++) {
        if (!model->dim[d].fitted) {
            seg__errf(err_buf, err_cap, "%s has no thresholds: fit the model first", dim_name[d]);
            return SEG_ESTATE;
        }
    }
    const double *const col[3] = {recency, frequency, monetary};
    int has_nan;
    int32_t rc = check_inputs(col, n, model->missing, err_buf, err_cap, &has_nan);
    if (rc != SEG_OK)
        return rc;
    score_out o = {out_r, out_f, out_m, out_cell, out_weighted};
    score_rows(model, col, n, &o, NULL, has_nan);
    return SEG_OK;
}

SEG_API int32_t seg_rfm_fit_score(seg_rfm *model, const double *recency, const double *frequency,
                                  const double *monetary, size_t n, int32_t *out_r, int32_t *out_f,
                                  int32_t *out_m, int32_t *out_cell, double *out_weighted)
{
    if (!model)
        return SEG_EINVAL;
    const double *const col[3] = {recency, frequency, monetary};
    seg__rfm_dim dims[3];
    size_t kept;
    int32_t rc = fit_all(model, col, n, dims, &kept);
    if (rc != SEG_OK)
        return rc;
    for (int d = 0; d < 3; d++) {
        if (!dims[d].fitted) { /* a FIXED dimension still without thresholds */
            seg__rfm_error(model, "%s uses fixed binning but has no thresholds", dim_name[d]);
            return SEG_ESTATE;
        }
    }
    memcpy(model->dim, dims, sizeof dims);
    model->err[0] = '\0';

    rank_state states[3], *rk[3] = {NULL, NULL, NULL};
    int any_rank = 0;
    for (int d = 0; d < 3; d++) {
        const seg__rfm_dim *dm = &model->dim[d];
        if (dm->binning != SEG_BINNING_RANK)
            continue;
        rank_state *st = &states[d];
        memset(st, 0, sizeof *st);
        for (int j = 0; j < dm->n_thr; j++)
            st->count[j] = rank_count(kept, j + 1, dm->n_thr + 1);
        rk[d] = st;
        any_rank = 1;
    }
    if (any_rank) {
        /* Count rows below each threshold among the rows that are scored. */
        for (size_t i = 0; i < n; i++) {
            if (isnan(col[0][i]) || isnan(col[1][i]) || isnan(col[2][i]))
                continue;
            for (int d = 0; d < 3; d++)
                if (rk[d])
                    for (int j = 0; j < model->dim[d].n_thr; j++)
                        rk[d]->less[j] += col[d][i] < model->dim[d].thr[j];
        }
    }
    score_out o = {out_r, out_f, out_m, out_cell, out_weighted};
    score_rows(model, col, n, &o, any_rank ? rk : NULL, kept < n);
    return SEG_OK;
}
