/* SPDX-License-Identifier: MIT */
/* k-means: transforms, k-means++ seeding, Lloyd iterations over blocks of
 * rows (partial sums combined in block order, so results do not depend on
 * the thread count), ordering, prediction. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "frame-private.h"
#include "kmeans-private.h"
#include "quantile.h"

#define BLK 256          /* rows per distance block (fits L1 with k distances) */
#define PART_ROWS 65536  /* rows per partial-sum block */

/* ---- random numbers -------------------------------------------------------- */

uint64_t seg__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *state)
{
    return (double)(seg__splitmix64(state) >> 11) * 0x1.0p-53;
}

/* ---- life cycle and parameters ---------------------------------------------- */

SEG_API int32_t seg_kmeans_new(seg_kmeans **out, const seg_allocator *alloc)
{
    if (!out)
        return SEG_EINVAL;
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    return seg__kmeans_create(out, &a);
}

int32_t seg__kmeans_create(seg_kmeans **out, const seg__alloc *a)
{
    seg_kmeans *km = seg__malloc(a, sizeof *km);
    if (!km)
        return SEG_ENOMEM;
    memset(km, 0, sizeof *km);
    km->alloc = *a;
    km->k = 8;
    km->n_init = 1;
    km->max_iter = 300;
    km->tol = 1e-4;
    km->threads = 1;
    km->algorithm = SEG_KM_HAMERLY;
    km->order_by = -1;
    *out = km;
    return SEG_OK;
}

void seg__kmeans_unfit(seg_kmeans *km)
{
    seg__free(&km->alloc, km->centers);
    seg__free(&km->alloc, km->sizes);
    km->centers = NULL;
    km->sizes = NULL;
    km->fitted = 0;
}

SEG_API void seg_kmeans_free(seg_kmeans *km)
{
    if (!km)
        return;
    seg__kmeans_unfit(km);
    for (size_t i = 0; i < km->nf; i++)
        seg__free(&km->alloc, km->f[i].name);
    seg__free(&km->alloc, km->f);
    seg__alloc a = km->alloc;
    seg__free(&a, km);
}

static void km_err(seg_kmeans *km, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void km_err(seg_kmeans *km, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(km->err, sizeof km->err, fmt, ap);
    va_end(ap);
}

SEG_API const char *seg_kmeans_last_error(const seg_kmeans *km)
{
    return km ? km->err : "";
}

SEG_API int32_t seg_kmeans_add_feature(seg_kmeans *km, const char *column, int32_t transform)
{
    if (!km)
        return SEG_EINVAL;
    km->err[0] = '\0';
    if (!column) {
        km_err(km, "column is NULL");
        return SEG_EINVAL;
    }
    const char *why = seg__check_name(column, SEG_FRAME_NAME_MAX);
    if (why) {
        km_err(km, "feature %zu: %s", km->nf, why);
        return SEG_EINVAL;
    }
    if (transform < SEG_XF_NONE || transform > SEG_XF_ROBUST) {
        km_err(km, "unknown transform %d", (int)transform);
        return SEG_EINVAL;
    }
    for (size_t i = 0; i < km->nf; i++)
        if (strcmp(km->f[i].name, column) == 0) {
            km_err(km, "column '%s' is already feature %zu", column, i);
            return SEG_EEXISTS;
        }
    if (km->nf >= SEG__KM_MAX_FEATURES) {
        km_err(km, "more than %d features", SEG__KM_MAX_FEATURES);
        return SEG_ERANGE;
    }
    if (km->nf == km->capf) {
        size_t cap = km->capf ? km->capf * 2 : 4;
        seg__kfeature *f = seg__realloc_array(&km->alloc, km->f, cap, sizeof *f);
        if (!f) {
            km_err(km, "out of memory");
            return SEG_ENOMEM;
        }
        km->f = f;
        km->capf = cap;
    }
    char *name = seg__strdup(&km->alloc, column);
    if (!name) {
        km_err(km, "out of memory");
        return SEG_ENOMEM;
    }
    seg__kmeans_unfit(km);
    memset(&km->f[km->nf], 0, sizeof km->f[km->nf]);
    km->f[km->nf].name = name;
    km->f[km->nf].xf = transform;
    km->f[km->nf].scale = 1;
    km->nf++;
    return SEG_OK;
}

static int whole(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

SEG_API int32_t seg_kmeans_set_param(seg_kmeans *km, int32_t param, double value)
{
    if (!km)
        return SEG_EINVAL;
    km->err[0] = '\0';
    int ok;
    const char *what; /* the parameter and its range, for the message */
    switch (param) {
    case SEG_KM_K: ok = whole(value, 1, 1024), what = "k: a whole number 1..1024"; break;
    case SEG_KM_N_INIT: ok = whole(value, 1, 1000), what = "n_init: a whole number 1..1000"; break;
    case SEG_KM_MAX_ITER:
        ok = whole(value, 1, 100000), what = "max_iter: a whole number 1..100000";
        break;
    case SEG_KM_TOL: ok = value >= 0 && isfinite(value), what = "tol: finite and >= 0"; break;
    case SEG_KM_SEED:
        ok = whole(value, 0, 9007199254740992.0), what = "seed: a whole number 0..2^53";
        break;
    case SEG_KM_THREADS: ok = whole(value, 1, 256), what = "threads: a whole number 1..256"; break;
    case SEG_KM_ALGORITHM:
        ok = value == SEG_KM_LLOYD || value == SEG_KM_HAMERLY;
        what = "algorithm: SEG_KM_LLOYD or SEG_KM_HAMERLY";
        break;
    case SEG_KM_ORDER_BY:
        ok = whole(value, -1, SEG__KM_MAX_FEATURES - 1);
        what = "order_by: -1 (by size) or a feature index";
        break;
    case SEG_KM_ORDER_ASC: ok = value == 0 || value == 1, what = "order_asc: 0 or 1"; break;
    default:
        km_err(km, "unknown parameter %d", (int)param);
        return SEG_EINVAL;
    }
    if (!ok) {
        km_err(km, "value %g is out of range for %s", value, what);
        return SEG_ERANGE;
    }
    seg__kmeans_unfit(km);
    switch (param) {
    case SEG_KM_K: km->k = (int32_t)value; break;
    case SEG_KM_N_INIT: km->n_init = (int32_t)value; break;
    case SEG_KM_MAX_ITER: km->max_iter = (int32_t)value; break;
    case SEG_KM_TOL: km->tol = value; break;
    case SEG_KM_SEED: km->seed = (uint64_t)value; break;
    case SEG_KM_THREADS: km->threads = (int32_t)value; break;
    case SEG_KM_ALGORITHM: km->algorithm = (int32_t)value; break;
    case SEG_KM_ORDER_BY: km->order_by = (int32_t)value; break;
    default: km->order_asc = (int32_t)value; break;
    }
    return SEG_OK;
}

SEG_API int32_t seg_kmeans_get_param(const seg_kmeans *km, int32_t param, double *out)
{
    if (!km || !out)
        return SEG_EINVAL;
    switch (param) {
    case SEG_KM_K: *out = km->k; break;
    case SEG_KM_N_INIT: *out = km->n_init; break;
    case SEG_KM_MAX_ITER: *out = km->max_iter; break;
    case SEG_KM_TOL: *out = km->tol; break;
    case SEG_KM_SEED: *out = (double)km->seed; break;
    case SEG_KM_THREADS: *out = km->threads; break;
    case SEG_KM_ALGORITHM: *out = km->algorithm; break;
    case SEG_KM_ORDER_BY: *out = km->order_by; break;
    case SEG_KM_ORDER_ASC: *out = km->order_asc; break;
    default: return SEG_EINVAL;
    }
    return SEG_OK;
}

SEG_API int32_t seg_kmeans_set_progress(seg_kmeans *km, seg_progress_fn fn, void *user)
{
    if (!km)
        return SEG_EINVAL;
    km->progress = fn;
    km->progress_user = user;
    return SEG_OK;
}

SEG_API int32_t seg_kmeans_is_fitted(const seg_kmeans *km)
{
    return km ? km->fitted : 0;
}

/* ---- data ----------------------------------------------------------------------- */

/* Finds the feature columns in a frame; writes a message and returns a status. */
int32_t seg__kmeans_bind(const seg_kmeans *km, const seg_frame *frame, const seg__column **cols,
                         char *err, size_t cap)
{
    for (size_t f = 0; f < km->nf; f++) {
        size_t idx;
        if (seg_frame_find(frame, km->f[f].name, &idx) != SEG_OK) {
            seg__errf(err, cap, "feature column '%s' is not in the frame", km->f[f].name);
            return SEG_ENOTFOUND;
        }
        cols[f] = &frame->cols[idx];
        int32_t t = cols[f]->type;
        if (t != SEG_TYPE_DOUBLE && t != SEG_TYPE_INT64 && t != SEG_TYPE_INT32) {
            seg__errf(err, cap, "feature column '%s' is not numeric", km->f[f].name);
            return SEG_ENOTFOUND;
        }
    }
    return SEG_OK;
}

static double value_at(const seg__column *c, size_t r)
{
    double v;
    seg__column_load(c, r, 1, &v);
    return v;
}

/* Checks every value: NaN is missing; infinities, and values <= -1 under
 * log1p, are errors. */
int32_t seg__kmeans_check(const seg_kmeans *km, const seg__column **cols, size_t n, char *err,
                          size_t cap)
{
    for (size_t f = 0; f < km->nf; f++)
        for (size_t r = 0; r < n; r++) {
            double v = value_at(cols[f], r);
            if (isinf(v) || (km->f[f].xf == SEG_XF_LOG1P && v <= -1)) {
                seg__errf(err, cap, "column '%s' row %zu: %s %g", km->f[f].name, r,
                          isinf(v) ? "infinite value" : "log1p needs values above -1, not", v);
                return SEG_EDATA;
            }
        }
    return SEG_OK;
}

static double apply_xf(const seg__kfeature *f, double v)
{
    if (f->xf == SEG_XF_LOG1P)
        return log1p(v);
    return (v - f->shift) / f->scale;
}

static double invert_xf(const seg__kfeature *f, double y)
{
    if (f->xf == SEG_XF_LOG1P)
        return expm1(y);
    return y * f->scale + f->shift;
}

/* Transformed value of feature f at frame row r (NaN when missing). */
double seg__kmeans_value(const seg_kmeans *km, const seg__column *const *cols, size_t f, size_t r)
{
    double v = value_at(cols[f], r);
    return isnan(v) ? v : apply_xf(&km->f[f], v);
}

/* ---- the fit ---------------------------------------------------------------------- */

typedef struct fitdata {
    const seg_kmeans *km;
    size_t n, nf, k;
    double **x; /* nf columns of n transformed values (complete rows only) */
} fitdata;

/* Squared distances of rows [r0, r0 + m) to every centre; nearest and its
 * distance into lab/best. */
SEG__HOT static void nearest(const fitdata *d, const double *centers, size_t r0, size_t m,
                             int32_t *lab, double *best)
{
    /* Local arrays, minimum by arithmetic select: the loops stay
     * branch-free blends in one lane width (labels as doubles). */
    double dist[BLK], bd[BLK], labd[BLK];
    for (size_t i = 0; i < m; i++) {
        bd[i] = INFINITY;
        labd[i] = 0;
    }
    for (size_t j = 0; j < d->k; j++) {
        const double *c = centers + j * d->nf;
        const double *x0 = d->x[0] + r0;
        double c0 = c[0];
        for (size_t i = 0; i < m; i++)
            dist[i] = (x0[i] - c0) * (x0[i] - c0);
        for (size_t f = 1; f < d->nf; f++) {
            const double *x = d->x[f] + r0;
            double cf = c[f];
            for (size_t i = 0; i < m; i++)
                dist[i] += (x[i] - cf) * (x[i] - cf);
        }
        double jd = (double)j;
        for (size_t i = 0; i < m; i++) {
            double b = bd[i];
            bd[i] = dist[i] < b ? dist[i] : b;
            labd[i] = dist[i] < b ? jd : labd[i];
        }
    }
    for (size_t i = 0; i < m; i++) {
        best[i] = bd[i];
        lab[i] = (int32_t)labd[i];
    }
}

/* Per partial block: centre sums, counts and inertia. */
typedef struct part {
    double *sum;   /* k * nf */
    int64_t *cnt;  /* k */
    double inertia;
    int64_t changed;
} part;

/* Hamerly's state: a lower bound per row on the distance to every centre
 * but its own, half the distance from each centre to the nearest other, and
 * how far the centres moved in the last update (largest, second largest,
 * and which centre moved the most). */
typedef struct hamerly {
    double *lower;
    double *half;
    double drift1, drift2;
    size_t drift_j;
} hamerly;

typedef struct worker {
    const fitdata *d;
    const double *centers;
    int32_t *labels;
    part *parts;
    size_t b0, b1; /* partial blocks [b0, b1) */
    hamerly *h;    /* NULL: Lloyd */
} worker;

/* Adds a block's rows to the per-cluster sums and counts. Rows go round
 * four copies of the sums, so consecutive rows of one cluster do not wait
 * for each other's stores; the copies are added at the end. (A masked,
 * vectorised form is slower for small k, and GCC 12 miscompiles its
 * int-compare-select-double variant when vectorising for AVX2.) */
#define ACC_COPIES 4
#define ACC_MAX 512 /* k * nf up to this uses the copies */

static void accumulate(const fitdata *d, size_t r0, size_t m, const int32_t *lab,
                       const double *best, part *p)
{
    size_t nf = d->nf, kn = d->k * nf;
    double in[ACC_COPIES] = {0};
    if (kn > ACC_MAX || d->k > ACC_MAX) {
        for (size_t i = 0; i < m; i++) {
            size_t j = (size_t)lab[i];
            p->cnt[j]++;
            in[0] += best[i];
            for (size_t f = 0; f < nf; f++)
                p->sum[j * nf + f] += d->x[f][r0 + i];
        }
        p->inertia += in[0];
        return;
    }
    double sum[ACC_COPIES][ACC_MAX];
    int64_t cnt[ACC_COPIES][ACC_MAX];
    for (size_t c = 0; c < ACC_COPIES; c++) {
        memset(sum[c], 0, kn * sizeof sum[c][0]);
        memset(cnt[c], 0, d->k * sizeof cnt[c][0]);
    }
    for (size_t i = 0; i < m; i++) {
        size_t c = i % ACC_COPIES, j = (size_t)lab[i];
        cnt[c][j]++;
        in[c] += best[i];
        for (size_t f = 0; f < nf; f++)
            sum[c][j * nf + f] += d->x[f][r0 + i];
    }
    p->inertia += (in[0] + in[1]) + (in[2] + in[3]);
    for (size_t q = 0; q < kn; q++)
        p->sum[q] += (sum[0][q] + sum[1][q]) + (sum[2][q] + sum[3][q]);
    for (size_t j = 0; j < d->k; j++)
        p->cnt[j] += (cnt[0][j] + cnt[1][j]) + (cnt[2][j] + cnt[3][j]);
}

static void assign_blocks(worker *w)
{
    const fitdata *d = w->d;
    int32_t lab[BLK];
    double best[BLK];
    for (size_t b = w->b0; b < w->b1; b++) {
        part *p = &w->parts[b];
        memset(p->sum, 0, d->k * d->nf * sizeof *p->sum);
        memset(p->cnt, 0, d->k * sizeof *p->cnt);
        p->inertia = 0;
        p->changed = 0;
        size_t end = (b + 1) * PART_ROWS < d->n ? (b + 1) * PART_ROWS : d->n;
        for (size_t r0 = b * PART_ROWS; r0 < end; r0 += BLK) {
            size_t m = end - r0 < BLK ? end - r0 : BLK;
            nearest(d, w->centers, r0, m, lab, best);
            accumulate(d, r0, m, lab, best, p);
            if (w->labels)
                for (size_t i = 0; i < m; i++) {
                    p->changed += w->labels[r0 + i] != lab[i];
                    w->labels[r0 + i] = lab[i];
                }
        }
    }
}

/* Hamerly's assignment of one row range: the exact distance to the own
 * centre always (it gives the inertia), all k only when the bounds cannot
 * rule the others out. Labels are Lloyd's, ties and boundary rounding aside. */
static void assign_blocks_hamerly(worker *w)
{
    const fitdata *d = w->d;
    const hamerly *h = w->h;
    size_t nf = d->nf, k = d->k;
    for (size_t b = w->b0; b < w->b1; b++) {
        part *p = &w->parts[b];
        memset(p->sum, 0, k * nf * sizeof *p->sum);
        memset(p->cnt, 0, k * sizeof *p->cnt);
        p->inertia = 0;
        p->changed = 0;
        size_t end = (b + 1) * PART_ROWS < d->n ? (b + 1) * PART_ROWS : d->n;
        for (size_t i = b * PART_ROWS; i < end; i++) {
            int32_t a = w->labels[i];
            double d2 = INFINITY;
            int full = a < 0;
            if (!full) {
                h->lower[i] -= (size_t)a == h->drift_j ? h->drift2 : h->drift1;
                const double *c = w->centers + (size_t)a * nf;
                d2 = 0;
                for (size_t f = 0; f < nf; f++) {
                    double t = d->x[f][i] - c[f];
                    d2 += t * t;
                }
                double m = h->half[a] > h->lower[i] ? h->half[a] : h->lower[i];
                full = !(m >= 0 && d2 <= m * m);
            }
            if (full) {
                double b1 = INFINITY, b2 = INFINITY;
                int32_t j1 = 0;
                for (size_t j = 0; j < k; j++) {
                    const double *c = w->centers + j * nf;
                    double s2 = 0;
                    for (size_t f = 0; f < nf; f++) {
                        double t = d->x[f][i] - c[f];
                        s2 += t * t;
                    }
                    if (s2 < b1) {
                        b2 = b1;
                        b1 = s2;
                        j1 = (int32_t)j;
                    } else if (s2 < b2) {
                        b2 = s2;
                    }
                }
                h->lower[i] = sqrt(b2);
                p->changed += a != j1;
                a = j1;
                d2 = b1;
                w->labels[i] = a;
            }
            p->cnt[a]++;
            p->inertia += d2;
            for (size_t f = 0; f < nf; f++)
                p->sum[(size_t)a * nf + f] += d->x[f][i];
        }
    }
}

static void *assign_thread(void *arg)
{
    worker *w = arg;
    if (w->h)
        assign_blocks_hamerly(w);
    else
        assign_blocks(w);
    return NULL;
}

/* One assignment pass over all rows with `threads` workers. */
static int32_t assign_all(const fitdata *d, const double *centers, int32_t *labels, part *parts,
                          size_t n_parts, int32_t threads, hamerly *h)
{
    size_t t = (size_t)threads < n_parts ? (size_t)threads : n_parts;
    if (t < 1)
        t = 1;
    worker w[256];
    pthread_t th[256];
    size_t started = 0;
    int32_t rc = SEG_OK;
    for (size_t i = 0; i < t; i++) {
        w[i].d = d;
        w[i].centers = centers;
        w[i].labels = labels;
        w[i].parts = parts;
        w[i].b0 = n_parts * i / t;
        w[i].b1 = n_parts * (i + 1) / t;
        w[i].h = h;
    }
    for (size_t i = 1; i < t; i++) {
        if (pthread_create(&th[i], NULL, assign_thread, &w[i]) != 0) {
            rc = SEG_ERROR;
            break;
        }
        started = i;
    }
    if (rc == SEG_OK)
        assign_thread(&w[0]);
    for (size_t i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    return rc;
}

/* The k-means++ greedy seeding into centers. */
static int32_t seed_centers(const fitdata *d, uint64_t *rng, double *centers, const seg__alloc *a)
{
    size_t n = d->n, nf = d->nf, k = d->k;
    size_t trials = 2 + (size_t)floor(log((double)k));
    double *closest = seg__malloc_array(a, n, sizeof *closest);
    double *cand = seg__malloc_array(a, n, sizeof *cand);
    double *best_d = seg__malloc_array(a, n, sizeof *best_d);
    if (!closest || !cand || !best_d) {
        seg__free(a, closest);
        seg__free(a, cand);
        seg__free(a, best_d);
        return SEG_ENOMEM;
    }
    size_t first = (size_t)(uniform(rng) * (double)n);
    if (first >= n)
        first = n - 1;
    for (size_t f = 0; f < nf; f++)
        centers[f] = d->x[f][first];
    double pot = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t f = 0; f < nf; f++) {
            double t = d->x[f][i] - centers[f];
            s += t * t;
        }
        closest[i] = s;
        pot += s;
    }
    for (size_t c = 1; c < k; c++) {
        double best_pot = INFINITY;
        size_t best_row = 0;
        for (size_t t = 0; t < trials; t++) {
            /* Draw a row with probability closest[i] / pot (a linear scan of
             * the running sum; all distances 0 means any row). */
            double target = uniform(rng) * pot, run = 0;
            size_t row = n - 1;
            if (pot > 0) {
                for (size_t i = 0; i < n; i++) {
                    run += closest[i];
                    if (run > target) {
                        row = i;
                        break;
                    }
                }
            } else {
                row = (size_t)(uniform(rng) * (double)n);
                if (row >= n)
                    row = n - 1;
            }
            double p = 0;
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t f = 0; f < nf; f++) {
                    double u = d->x[f][i] - d->x[f][row];
                    s += u * u;
                }
                cand[i] = s < closest[i] ? s : closest[i];
                p += cand[i];
            }
            if (p < best_pot) {
                best_pot = p;
                best_row = row;
                double *tmp = best_d;
                best_d = cand;
                cand = tmp;
            }
        }
        for (size_t f = 0; f < nf; f++)
            centers[c * nf + f] = d->x[f][best_row];
        double *tmp = closest;
        closest = best_d;
        best_d = tmp;
        pot = best_pot;
    }
    seg__free(a, closest);
    seg__free(a, cand);
    seg__free(a, best_d);
    return SEG_OK;
}

/* The row farthest from the centre of its cluster (`centers`, labelled by
 * `labels`), among clusters of two or more rows (`sizes`); the first such
 * row on ties. d->n when no cluster has two rows. */
static size_t farthest_row(const fitdata *d, const double *centers, const int32_t *labels,
                           const int64_t *sizes)
{
    size_t nf = d->nf, row = d->n;
    double far = -1;
    for (size_t i = 0; i < d->n; i++) {
        size_t a = (size_t)labels[i];
        if (sizes[a] <= 1)
            continue;
        double s = 0;
        for (size_t f = 0; f < nf; f++) {
            double t = d->x[f][i] - centers[a * nf + f];
            s += t * t;
        }
        if (s > far) {
            far = s;
            row = i;
        }
    }
    return row;
}

/* Gives every empty cluster the row farthest from its centre. */
static void fix_empty(const fitdata *d, double *centers, const double *old, int64_t *cnt,
                      double *sum, const int32_t *labels)
{
    size_t nf = d->nf;
    for (size_t j = 0; j < d->k; j++) {
        if (cnt[j] > 0)
            continue;
        size_t row = farthest_row(d, old, labels, cnt);
        if (row == d->n)
            continue; /* fewer distinct rows than clusters: leave it */
        size_t a = (size_t)labels[row];
        cnt[a]--;
        cnt[j] = 1;
        for (size_t f = 0; f < nf; f++) {
            sum[a * nf + f] -= d->x[f][row];
            sum[j * nf + f] = d->x[f][row];
        }
    }
    for (size_t j = 0; j < d->k; j++)
        if (cnt[j] > 0)
            for (size_t f = 0; f < nf; f++)
                centers[j * nf + f] = sum[j * nf + f] / (double)cnt[j];
}

/* After the last assignment: an empty cluster takes the row farthest from
 * its centre among clusters of two or more rows (first such row on ties),
 * until none is empty or no cluster can give a row; then centres are the
 * means of their rows and the inertia is recomputed. With fewer distinct
 * rows than clusters this splits duplicates, keeping the inertia. Returns
 * 1 if anything moved. */
static int refill_empty(const fitdata *d, double *centers, int32_t *labels, int64_t *sizes,
                        double *inertia, double *sum)
{
    size_t nf = d->nf, k = d->k;
    int moved = 0;
    for (size_t j = 0; j < k; j++) {
        if (sizes[j] > 0)
            continue;
        size_t row = farthest_row(d, centers, labels, sizes);
        if (row == d->n)
            break;
        sizes[labels[row]]--;
        sizes[j] = 1;
        labels[row] = (int32_t)j;
        for (size_t f = 0; f < nf; f++)
            centers[j * nf + f] = d->x[f][row];
        moved = 1;
    }
    if (!moved)
        return 0;
    memset(sum, 0, k * nf * sizeof *sum);
    for (size_t i = 0; i < d->n; i++)
        for (size_t f = 0; f < nf; f++)
            sum[(size_t)labels[i] * nf + f] += d->x[f][i];
    for (size_t j = 0; j < k; j++)
        if (sizes[j] > 0)
            for (size_t f = 0; f < nf; f++)
                centers[j * nf + f] = sum[j * nf + f] / (double)sizes[j];
    double in = 0;
    for (size_t i = 0; i < d->n; i++) {
        const double *c = centers + (size_t)labels[i] * nf;
        for (size_t f = 0; f < nf; f++) {
            double t = d->x[f][i] - c[f];
            in += t * t;
        }
    }
    *inertia = in;
    return 1;
}

/* Half the distance from each centre to its nearest other centre. */
static void half_distances(const double *c, size_t k, size_t nf, double *half)
{
    for (size_t j = 0; j < k; j++) {
        double best = INFINITY;
        for (size_t q = 0; q < k; q++) {
            if (q == j)
                continue;
            double s2 = 0;
            for (size_t f = 0; f < nf; f++) {
                double t = c[j * nf + f] - c[q * nf + f];
                s2 += t * t;
            }
            best = s2 < best ? s2 : best;
        }
        half[j] = k > 1 ? sqrt(best) / 2 : INFINITY;
    }
}

/* One run: seeding, Lloyd (or Hamerly) iterations, final assignment. */
static int32_t run_once(seg_kmeans *km, const fitdata *d, int32_t run, double tol_abs,
                        double *centers, int32_t *labels, double *out_inertia, int32_t *out_iter,
                        int64_t *sizes)
{
    const seg__alloc *a = &km->alloc;
    size_t k = d->k, nf = d->nf;
    size_t n_parts = (d->n + PART_ROWS - 1) / PART_ROWS;
    uint64_t rng = km->seed + (uint64_t)run;
    int32_t rc = seed_centers(d, &rng, centers, a);
    if (rc != SEG_OK)
        return rc;
    part *parts = seg__calloc_array(a, n_parts, sizeof *parts);
    double *psum = seg__malloc_array(a, n_parts * k * nf, sizeof *psum);
    int64_t *pcnt = seg__malloc_array(a, n_parts * k, sizeof *pcnt);
    double *sum = seg__malloc_array(a, k * nf, sizeof *sum);
    double *old = seg__malloc_array(a, k * nf, sizeof *old);
    int64_t *cnt = seg__malloc_array(a, k, sizeof *cnt);
    hamerly hs = {NULL, NULL, 0, 0, 0}, *h = NULL;
    if (km->algorithm == SEG_KM_HAMERLY) {
        hs.lower = seg__calloc_array(a, d->n, sizeof *hs.lower);
        hs.half = seg__malloc_array(a, k, sizeof *hs.half);
        h = &hs;
    }
    if (!parts || !psum || !pcnt || !sum || !old || !cnt || (h && (!hs.lower || !hs.half))) {
        rc = SEG_ENOMEM;
        goto done;
    }
    for (size_t b = 0; b < n_parts; b++) {
        parts[b].sum = psum + b * k * nf;
        parts[b].cnt = pcnt + b * k;
    }
    for (size_t i = 0; i < d->n; i++)
        labels[i] = -1;
    int32_t it = 0;
    for (;;) {
        if (h)
            half_distances(centers, k, nf, hs.half);
        rc = assign_all(d, centers, labels, parts, n_parts, km->threads, h);
        if (rc != SEG_OK)
            goto done;
        int64_t changed = 0;
        double inertia = 0;
        memset(sum, 0, k * nf * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t b = 0; b < n_parts; b++) { /* block order: thread-independent */
            changed += parts[b].changed;
            inertia += parts[b].inertia;
            for (size_t j = 0; j < k; j++) {
                cnt[j] += parts[b].cnt[j];
                for (size_t f = 0; f < nf; f++)
                    sum[j * nf + f] += parts[b].sum[j * nf + f];
            }
        }
        if (it > 0 && changed == 0) /* strict convergence: the centres stand */
            break;
        if (it == km->max_iter)
            break;
        memcpy(old, centers, k * nf * sizeof *old);
        fix_empty(d, centers, old, cnt, sum, labels);
        it++;
        double shift = 0;
        hs.drift1 = hs.drift2 = 0;
        for (size_t j = 0; j < k; j++) {
            double m = 0;
            for (size_t f = 0; f < nf; f++) {
                double t = centers[j * nf + f] - old[j * nf + f];
                m += t * t;
            }
            shift += m;
            m = sqrt(m);
            if (m > hs.drift1) {
                hs.drift2 = hs.drift1;
                hs.drift1 = m;
                hs.drift_j = j;
            } else if (m > hs.drift2) {
                hs.drift2 = m;
            }
        }
        if (km->progress && km->progress(km->progress_user, run, it, inertia) != 0) {
            rc = SEG_ECANCELED;
            goto done;
        }
        if (shift <= tol_abs) {
            /* Converged: one more assignment with the final centres. */
            if (h)
                half_distances(centers, k, nf, hs.half);
            rc = assign_all(d, centers, labels, parts, n_parts, km->threads, h);
            if (rc != SEG_OK)
                goto done;
            break;
        }
    }
    double inertia = 0;
    memset(sizes, 0, k * sizeof *sizes);
    for (size_t b = 0; b < n_parts; b++) {
        inertia += parts[b].inertia;
        for (size_t j = 0; j < k; j++)
            sizes[j] += parts[b].cnt[j];
    }
    /* If it moves rows, it updates centres, sizes and inertia to match. */
    refill_empty(d, centers, labels, sizes, &inertia, sum);
    *out_inertia = inertia;
    *out_iter = it;
done:
    seg__free(a, parts);
    seg__free(a, psum);
    seg__free(a, pcnt);
    seg__free(a, sum);
    seg__free(a, old);
    seg__free(a, cnt);
    seg__free(a, hs.lower);
    seg__free(a, hs.half);
    return rc;
}

/* Fits the transforms of every feature on the complete rows. */
static int32_t fit_transforms(seg_kmeans *km, const seg__column **cols, const uint8_t *complete,
                              size_t n_rows, size_t n)
{
    double *v = seg__malloc_array(&km->alloc, n, sizeof *v);
    if (!v)
        return SEG_ENOMEM;
    for (size_t f = 0; f < km->nf; f++) {
        seg__kfeature *ft = &km->f[f];
        ft->shift = 0;
        ft->scale = 1;
        if (ft->xf == SEG_XF_NONE || ft->xf == SEG_XF_LOG1P)
            continue;
        size_t m = 0;
        for (size_t r = 0; r < n_rows; r++)
            if (complete[r])
                v[m++] = value_at(cols[f], r);
        if (ft->xf == SEG_XF_ZSCORE) {
            /* Deviations are divided by the largest one before squaring, so
             * values near DBL_MAX still give their (finite) deviation. */
            double mean = seg__mean(v, m), big = 0, ss = 0;
            for (size_t i = 0; i < m; i++)
                big = fmax(big, fabs(v[i] - mean));
            if (big > 0 && isfinite(big))
                for (size_t i = 0; i < m; i++)
                    ss += ((v[i] - mean) / big) * ((v[i] - mean) / big);
            double sd = big > 0 ? big * sqrt(ss / (double)m) : 0;
            ft->shift = mean;
            ft->scale = sd > 0 ? sd : 1;
        } else if (ft->xf == SEG_XF_MINMAX) {
            double lo = v[0], hi = v[0];
            for (size_t i = 1; i < m; i++) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
            ft->shift = lo;
            ft->scale = hi > lo ? hi - lo : 1;
        } else { /* robust: median and IQR, type-7 */
            double i25 = seg__type7_index(m, 0.25), i50 = seg__type7_index(m, 0.5),
                   i75 = seg__type7_index(m, 0.75);
            size_t pos[6] = {(size_t)floor(i25) - 1, (size_t)ceil(i25) - 1,
                             (size_t)floor(i50) - 1, (size_t)ceil(i50) - 1,
                             (size_t)floor(i75) - 1, (size_t)ceil(i75) - 1};
            double o[6];
            seg__select(v, m, pos, 6, o);
            double q25 = seg__type7_value(i25, o[0], o[1]), q50 = seg__type7_value(i50, o[2], o[3]),
                   q75 = seg__type7_value(i75, o[4], o[5]);
            ft->shift = q50;
            ft->scale = q75 > q25 ? q75 - q25 : 1;
        }
        if (!isfinite(ft->shift) || !isfinite(ft->scale)) {
            seg__free(&km->alloc, v);
            km_err(km, "feature '%s': the values are too far apart for its transform (the "
                       "scale overflows a double)", ft->name);
            return SEG_EDATA;
        }
    }
    seg__free(&km->alloc, v);
    return SEG_OK;
}

/* The message for data whose squared distances overflow (feature f first). */
static int32_t too_far_apart(seg_kmeans *km, size_t f)
{
    km_err(km, "feature '%s'%s: the values are too far apart: squared distances overflow a "
               "double (rescale, or use a log1p or zscore transform)",
           km->f[f].name, km->nf > 1 ? " (or another feature)" : "");
    return SEG_EDATA;
}

/* Cluster order: by a feature's centroid (original units) or by size. */
typedef struct okey {
    double v;
    int64_t size, first;
    int32_t j;
} okey;

/* Whether x comes before y. */
static int okey_before(const okey *x, const okey *y, int asc)
{
    if (x->v != y->v)
        return asc ? x->v < y->v : x->v > y->v;
    if (x->size != y->size)
        return x->size > y->size;
    return x->first < y->first;
}

int32_t seg__kmeans_fit(seg_kmeans *km, const seg_frame *frame, int32_t *out_labels)
{
    const seg__alloc *a = &km->alloc;
    size_t n_rows = frame->n_rows, nf = km->nf, k = (size_t)km->k;
    const seg__column *cols[SEG__KM_MAX_FEATURES];
    int32_t rc = seg__kmeans_bind(km, frame, cols, km->err, sizeof km->err);
    if (rc == SEG_OK)
        rc = seg__kmeans_check(km, cols, n_rows, km->err, sizeof km->err);
    if (rc != SEG_OK)
        return rc;
    if (km->order_by >= (int32_t)nf) {
        km_err(km, "order_by %d is not a feature index (there are %zu)", (int)km->order_by, nf);
        return SEG_ERANGE;
    }
    uint8_t *complete = seg__malloc(a, n_rows ? n_rows : 1);
    if (!complete)
        goto nomem0;
    size_t n = 0;
    for (size_t r = 0; r < n_rows; r++) {
        int ok = 1;
        for (size_t f = 0; f < nf && ok; f++)
            ok = !isnan(value_at(cols[f], r));
        complete[r] = (uint8_t)ok;
        n += (size_t)ok;
    }
    if (n < k) {
        seg__free(a, complete);
        km_err(km, "%zu complete rows for %zu clusters", n, k);
        return SEG_EDATA;
    }
    fitdata d = {km, n, nf, k, NULL};
    double *xs = NULL, *centers = NULL, *best_c = NULL;
    int32_t *labels = NULL, *best_l = NULL;
    int64_t *sizes = NULL, *best_s = NULL;
    d.x = seg__calloc_array(a, nf, sizeof *d.x);
    xs = seg__malloc_array(a, n * nf, sizeof *xs);
    centers = seg__malloc_array(a, k * nf, sizeof *centers);
    best_c = seg__malloc_array(a, k * nf, sizeof *best_c);
    labels = seg__malloc_array(a, n, sizeof *labels);
    best_l = seg__malloc_array(a, n, sizeof *best_l);
    sizes = seg__malloc_array(a, k, sizeof *sizes);
    best_s = seg__malloc_array(a, k, sizeof *best_s);
    if (!d.x || !xs || !centers || !best_c || !labels || !best_l || !sizes || !best_s)
        goto nomem;
    rc = fit_transforms(km, cols, complete, n_rows, n);
    if (rc != SEG_OK)
        goto fail;
    double mean_var = 0;
    for (size_t f = 0; f < nf; f++) {
        d.x[f] = xs + f * n;
        size_t m = 0;
        for (size_t r = 0; r < n_rows; r++)
            if (complete[r])
                d.x[f][m++] = apply_xf(&km->f[f], value_at(cols[f], r));
        double mu = seg__mean(d.x[f], n), ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (d.x[f][i] - mu) * (d.x[f][i] - mu);
        mean_var += ss / (double)n;
        if (!isfinite(mean_var)) {
            rc = too_far_apart(km, f);
            goto fail;
        }
    }
    mean_var /= (double)nf;
    double best_inertia = INFINITY;
    int32_t best_iter = 0;
    for (int32_t run = 0; run < km->n_init; run++) {
        double inertia;
        int32_t iter;
        rc = run_once(km, &d, run, km->tol * mean_var, centers, labels, &inertia, &iter, sizes);
        if (rc != SEG_OK)
            goto fail;
        if (!isfinite(inertia)) {
            rc = too_far_apart(km, 0);
            goto fail;
        }
        if (run == 0 || inertia < best_inertia) {
            best_inertia = inertia;
            best_iter = iter;
            memcpy(best_c, centers, k * nf * sizeof *best_c);
            memcpy(best_l, labels, n * sizeof *best_l);
            memcpy(best_s, sizes, k * sizeof *best_s);
        }
    }
    /* Renumber: okeys sorted give the new order; map old -> new. */
    okey ok[1024];
    for (size_t j = 0; j < k; j++) {
        ok[j].j = (int32_t)j;
        ok[j].size = best_s[j];
        ok[j].first = INT64_MAX;
        ok[j].v = km->order_by >= 0
                      ? invert_xf(&km->f[km->order_by], best_c[j * nf + (size_t)km->order_by])
                      : 0;
    }
    for (size_t i = n; i-- > 0;)
        ok[best_l[i]].first = (int64_t)i;
    for (size_t j = 1; j < k; j++) { /* insertion sort: k <= 1024 */
        okey x = ok[j];
        size_t q = j;
        while (q > 0 && okey_before(&x, &ok[q - 1], km->order_asc)) {
            ok[q] = ok[q - 1];
            q--;
        }
        ok[q] = x;
    }
    int32_t newof[1024];
    for (size_t j = 0; j < k; j++) {
        newof[ok[j].j] = (int32_t)j;
        memcpy(centers + j * nf, best_c + (size_t)ok[j].j * nf, nf * sizeof *centers);
        sizes[j] = best_s[ok[j].j];
    }
    seg__kmeans_unfit(km);
    km->centers = centers;
    km->sizes = sizes;
    centers = NULL;
    sizes = NULL;
    km->inertia = best_inertia;
    km->iter = best_iter;
    km->fitted_k = (int32_t)k;
    km->fitted = 1;
    if (out_labels) {
        size_t i = 0;
        for (size_t r = 0; r < n_rows; r++)
            out_labels[r] = complete[r] ? newof[best_l[i++]] : -1;
    }
    rc = SEG_OK;
    goto done;
nomem:
    rc = SEG_ENOMEM;
fail:
    if (rc == SEG_ENOMEM)
        km_err(km, "out of memory");
    else if (rc == SEG_ECANCELED)
        km_err(km, "the progress callback cancelled the fit");
    else if (rc == SEG_ERROR)
        km_err(km, "could not start a worker thread");
    seg__kmeans_unfit(km);
done:
    seg__free(a, complete);
    seg__free(a, d.x);
    seg__free(a, xs);
    seg__free(a, centers);
    seg__free(a, best_c);
    seg__free(a, labels);
    seg__free(a, best_l);
    seg__free(a, sizes);
    seg__free(a, best_s);
    return rc;
nomem0:
    km_err(km, "out of memory");
    return SEG_ENOMEM;
}

SEG_API int32_t seg_kmeans_fit(seg_kmeans *km, const seg_frame *frame, int32_t *out_labels)
{
    if (!km)
        return SEG_EINVAL;
    km->err[0] = '\0';
    seg__kmeans_unfit(km); /* kmeans.h: any failure leaves the model unfitted */
    if (!frame) {
        km_err(km, "frame is NULL");
        return SEG_EINVAL;
    }
    if (km->nf == 0) {
        km_err(km, "the model has no features (seg_kmeans_add_feature)");
        return SEG_EINVAL;
    }
    return seg__kmeans_fit(km, frame, out_labels);
}
