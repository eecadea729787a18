/* SPDX-License-Identifier: MIT */
/* The RFM model's layout, shared by rfm.c, rfm_aggregate.c and rfm_text.c. */
#ifndef SEG_RFM_PRIVATE_H
#define SEG_RFM_PRIVATE_H

#include "seg-private.h"
#include "segment/rfm.h"

#define SEG__RFM_MAX_THR (SEG_RFM_MAX_BINS - 1)

typedef struct seg__rfm_dim {
    int32_t bins;    /* the bins option (MEAN/MEDIAN always use 2) */
    int32_t binning; /* enum seg_rfm_binning */
    int32_t fitted;  /* thresholds below are valid */
    int32_t n_thr;   /* number of thresholds: levels - 1 */
    double thr[SEG__RFM_MAX_THR];
} seg__rfm_dim;

struct seg_rfm {
    seg__alloc alloc;
    seg__rfm_dim dim[3];
    int32_t time_unit, frequency, monetary, negative, future, missing;
    double w[3];
    char err[SEG__ERR_LEN];
};

/* Option table shared by set/get/bounds and the text format. */
typedef struct seg__rfm_param_info {
    int32_t key;
    const char *name; /* key in the saved text */
    int64_t min, max, def;
} seg__rfm_param_info;

const seg__rfm_param_info *seg__rfm_param_find(int32_t key);
const seg__rfm_param_info *seg__rfm_param_table(size_t *n);
int32_t *seg__rfm_param_slot(seg_rfm *m, int32_t key);

/* Initialises a model's fields to the defaults. */
void seg__rfm_defaults(seg_rfm *m, const seg__alloc *a);

/* Checks a dimension's thresholds: count, finiteness, strict increase.
 * Returns NULL when fine, else a static reason. */
const char *seg__rfm_check_thresholds(const double *t, size_t n);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void seg__rfm_error(seg_rfm *m, const char *fmt, ...);

#endif /* SEG_RFM_PRIVATE_H */
