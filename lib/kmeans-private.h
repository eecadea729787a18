/* SPDX-License-Identifier: MIT */
/* The k-means model, shared by the fit, its uses and its text form. */
#ifndef SEG_KMEANS_PRIVATE_H
#define SEG_KMEANS_PRIVATE_H

#include "frame-private.h"
#include "seg-private.h"
#include "segment/kmeans.h"

#define SEG__KM_MAX_FEATURES 256

/* A feature: y = log1p(x) for SEG_XF_LOG1P, else y = (x - shift) / scale. */
typedef struct seg__kfeature {
    char *name;
    int32_t xf;
    double shift, scale;
} seg__kfeature;

struct seg_kmeans {
    seg__alloc alloc;
    seg__kfeature *f;
    size_t nf, capf;
    int32_t k, n_init, max_iter, threads, algorithm, order_by, order_asc;
    double tol;
    uint64_t seed;
    seg_progress_fn progress;
    void *progress_user;
    /* The fit. */
    int32_t fitted, fitted_k, iter;
    double *centers; /* fitted_k * nf, transformed units, in label order */
    int64_t *sizes;
    double inertia;
    char err[SEG__ERR_LEN];
};

uint64_t seg__splitmix64(uint64_t *state);
/* seg_kmeans_new() with an allocator already checked (the loader checks
 * it itself, to report a bad one in its err_buf). */
int32_t seg__kmeans_create(seg_kmeans **out, const seg__alloc *a);
void seg__kmeans_unfit(seg_kmeans *km);
int32_t seg__kmeans_fit(seg_kmeans *km, const seg_frame *frame, int32_t *out_labels);
int32_t seg__kmeans_bind(const seg_kmeans *km, const seg_frame *frame, const seg__column **cols,
                         char *err, size_t cap);
int32_t seg__kmeans_check(const seg_kmeans *km, const seg__column **cols, size_t n, char *err,
                          size_t cap);
/* Transformed value of feature f at row r; NaN when missing. */
double seg__kmeans_value(const seg_kmeans *km, const seg__column *const *cols, size_t f, size_t r);

#endif /* SEG_KMEANS_PRIVATE_H */
