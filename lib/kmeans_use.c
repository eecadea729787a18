/* SPDX-License-Identifier: MIT */
/* Using a fitted k-means model: prediction, centroids, k and silhouette. */
#include <math.h>
#include <string.h>

#include "kmeans-private.h"

/* Nearest centre of one transformed row y; its squared distance in *d2. */
static int32_t nearest_row(const seg_kmeans *km, const double *y, double *d2)
{
    int32_t best = 0;
    double bd = INFINITY;
    for (int32_t j = 0; j < km->fitted_k; j++) {
        const double *c = km->centers + (size_t)j * km->nf;
        double s = 0;
        for (size_t f = 0; f < km->nf; f++)
            s += (y[f] - c[f]) * (y[f] - c[f]);
        if (s < bd) {
            bd = s;
            best = j;
        }
    }
    *d2 = bd;
    return best;
}

/* Transformed features of row r into y; 0 when a value is missing. */
static int row_features(const seg_kmeans *km, const seg__column *const *cols, size_t r, double *y)
{
    for (size_t f = 0; f < km->nf; f++) {
        y[f] = seg__kmeans_value(km, cols, f, r);
        if (isnan(y[f]))
            return 0;
    }
    return 1;
}

SEG_API int32_t seg_kmeans_predict(const seg_kmeans *km, const seg_frame *frame,
                                   int32_t *out_labels, double *out_dist, char *err_buf,
                                   size_t err_cap)
{
    if (!km || !frame || !out_labels) {
        seg__errf(err_buf, err_cap, "%s is NULL", !km ? "km" : !frame ? "frame" : "out_labels");
        return SEG_EINVAL;
    }
    if (!km->fitted) {
        seg__errf(err_buf, err_cap, "the model is not fitted");
        return SEG_ESTATE;
    }
    const seg__column *cols[SEG__KM_MAX_FEATURES];
    int32_t rc = seg__kmeans_bind(km, frame, cols, err_buf, err_cap);
    if (rc == SEG_OK)
        rc = seg__kmeans_check(km, cols, frame->n_rows, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    double y[SEG__KM_MAX_FEATURES];
    for (size_t r = 0; r < frame->n_rows; r++) {
        double d2 = NAN;
        int32_t lab = -1;
        if (row_features(km, cols, r, y))
            lab = nearest_row(km, y, &d2);
        out_labels[r] = lab;
        if (out_dist)
            out_dist[r] = d2;
    }
    return SEG_OK;
}

SEG_API int32_t seg_kmeans_centroids(const seg_kmeans *km, double *out, size_t cap)
{
    if (!km || !out)
        return SEG_EINVAL;
    if (!km->fitted)
        return SEG_ESTATE;
    size_t need = (size_t)km->fitted_k * km->nf;
    if (cap < need)
        return SEG_EBUFSZ;
    for (size_t j = 0; j < (size_t)km->fitted_k; j++)
        for (size_t f = 0; f < km->nf; f++) {
            const seg__kfeature *ft = &km->f[f];
            double y = km->centers[j * km->nf + f];
            out[j * km->nf + f] = ft->xf == SEG_XF_LOG1P ? expm1(y) : y * ft->scale + ft->shift;
        }
    return SEG_OK;
}

SEG_API int32_t seg_kmeans_result(const seg_kmeans *km, double *out_inertia, int32_t *out_iter,
                                  int64_t *out_sizes)
{
    if (!km)
        return SEG_EINVAL;
    if (!km->fitted)
        return SEG_ESTATE;
    if (out_inertia)
        *out_inertia = km->inertia;
    if (out_iter)
        *out_iter = km->iter;
    if (out_sizes)
        memcpy(out_sizes, km->sizes, (size_t)km->fitted_k * sizeof *out_sizes);
    return SEG_OK;
}

SEG_API int32_t seg_kmeans_inertia_curve(const seg_kmeans *km, const seg_frame *frame,
                                         int32_t k_min, int32_t k_max, double *out_inertia,
                                         char *err_buf, size_t err_cap)
{
    if (!km || !frame || !out_inertia) {
        seg__errf(err_buf, err_cap, "%s is NULL", !km ? "km" : !frame ? "frame" : "out_inertia");
        return SEG_EINVAL;
    }
    if (km->nf == 0) {
        seg__errf(err_buf, err_cap, "the model has no features");
        return SEG_EINVAL;
    }
    if (k_min < 1 || k_max < k_min || k_max > 1024) {
        seg__errf(err_buf, err_cap, "k range %d..%d is not within 1..1024", (int)k_min, (int)k_max);
        return SEG_ERANGE;
    }
    /* A private model with the same features and parameters. */
    seg_kmeans tmp = *km;
    tmp.fitted = 0;
    tmp.centers = NULL;
    tmp.sizes = NULL;
    tmp.progress = NULL;
    tmp.err[0] = '\0';
    tmp.f = seg__malloc_array(&km->alloc, km->nf, sizeof *tmp.f);
    if (!tmp.f) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    memcpy(tmp.f, km->f, km->nf * sizeof *tmp.f); /* names are borrowed */
    double *res = seg__malloc_array(&km->alloc, (size_t)(k_max - k_min + 1), sizeof *res);
    int32_t rc = res ? SEG_OK : SEG_ENOMEM;
    for (int32_t k = k_min; k <= k_max && rc == SEG_OK; k++) {
        tmp.k = k;
        rc = seg__kmeans_fit(&tmp, frame, NULL);
        if (rc == SEG_OK)
            res[k - k_min] = tmp.inertia;
        else
            seg__errf(err_buf, err_cap, "k = %d: %s", (int)k, tmp.err);
        seg__kmeans_unfit(&tmp);
    }
    if (rc == SEG_ENOMEM && res)
        seg__errf(err_buf, err_cap, "out of memory");
    else if (!res)
        seg__errf(err_buf, err_cap, "out of memory");
    if (rc == SEG_OK)
        memcpy(out_inertia, res, (size_t)(k_max - k_min + 1) * sizeof *res);
    seg__free(&km->alloc, res);
    seg__free(&km->alloc, tmp.f);
    return rc;
}

SEG_API int32_t seg_kmeans_silhouette(const seg_kmeans *km, const seg_frame *frame, size_t sample,
                                      uint64_t seed, double *out, char *err_buf, size_t err_cap)
{
    if (!km || !frame || !out) {
        seg__errf(err_buf, err_cap, "%s is NULL", !km ? "km" : !frame ? "frame" : "out");
        return SEG_EINVAL;
    }
    if (!km->fitted || km->fitted_k < 2) {
        seg__errf(err_buf, err_cap, km->fitted ? "the silhouette needs k >= 2"
                                               : "the model is not fitted");
        return SEG_ESTATE;
    }
    if (sample < 2 || sample > 100000) {
        seg__errf(err_buf, err_cap, "sample = %zu is outside 2..100000", sample);
        return SEG_ERANGE;
    }
    const seg__column *cols[SEG__KM_MAX_FEATURES];
    int32_t rc = seg__kmeans_bind(km, frame, cols, err_buf, err_cap);
    if (rc == SEG_OK)
        rc = seg__kmeans_check(km, cols, frame->n_rows, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    const seg__alloc *a = &km->alloc;
    size_t n = frame->n_rows, nf = km->nf, nc = 0, k = (size_t)km->fitted_k;
    size_t *rows = seg__malloc_array(a, n ? n : 1, sizeof *rows);
    double y[SEG__KM_MAX_FEATURES];
    if (!rows) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    for (size_t r = 0; r < n; r++)
        if (row_features(km, cols, r, y))
            rows[nc++] = r;
    size_t m = sample < nc ? sample : nc;
    if (m < 2) {
        seg__free(a, rows);
        seg__errf(err_buf, err_cap, "fewer than 2 complete rows");
        return SEG_EDATA;
    }
    uint64_t st = seed;
    for (size_t i = 0; i < m && m < nc; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)((double)(seg__splitmix64(&st) >> 11) * 0x1.0p-53 * (double)(nc - i));
        if (j >= nc)
            j = nc - 1;
        size_t t = rows[i];
        rows[i] = rows[j];
        rows[j] = t;
    }
    double *x = seg__malloc_array(a, m * nf, sizeof *x);
    int32_t *lab = seg__malloc_array(a, m, sizeof *lab);
    double *sumd = seg__malloc_array(a, k, sizeof *sumd);
    int64_t *cnt = seg__calloc_array(a, k, sizeof *cnt);
    if (!x || !lab || !sumd || !cnt) {
        rc = SEG_ENOMEM;
        seg__errf(err_buf, err_cap, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++) {
        double d2;
        row_features(km, cols, rows[i], x + i * nf);
        lab[i] = nearest_row(km, x + i * nf, &d2);
        cnt[lab[i]]++;
    }
    double total = 0;
    for (size_t i = 0; i < m; i++) {
        memset(sumd, 0, k * sizeof *sumd);
        for (size_t j = 0; j < m; j++) {
            double s = 0;
            for (size_t f = 0; f < nf; f++) {
                double t = x[i * nf + f] - x[j * nf + f];
                s += t * t;
            }
            sumd[lab[j]] += sqrt(s);
        }
        size_t own = (size_t)lab[i];
        if (cnt[own] <= 1)
            continue; /* a singleton scores 0 */
        double ai = sumd[own] / (double)(cnt[own] - 1), bi = INFINITY;
        for (size_t c = 0; c < k; c++)
            if (c != own && cnt[c] > 0 && sumd[c] / (double)cnt[c] < bi)
                bi = sumd[c] / (double)cnt[c];
        double mx = ai > bi ? ai : bi;
        if (isfinite(bi) && mx > 0)
            total += (bi - ai) / mx;
    }
    *out = total / (double)m;
    rc = SEG_OK;
done:
    seg__free(a, rows);
    seg__free(a, x);
    seg__free(a, lab);
    seg__free(a, sumd);
    seg__free(a, cnt);
    return rc;
}
