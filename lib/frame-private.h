/* SPDX-License-Identifier: MIT */
/* The frame's layout, shared with the parts that evaluate over frames. */
#ifndef SEG_FRAME_PRIVATE_H
#define SEG_FRAME_PRIVATE_H

#include <stdatomic.h>

#include "seg-private.h"

typedef struct seg__column {
    char *name;
    int32_t type;            /* enum seg_type */
    const void *data;        /* borrowed caller array */
    const uint8_t *validity; /* borrowed Arrow bitmap or NULL */
    const char *const *dict; /* SEG_TYPE_DICT: borrowed dictionary */
    size_t dict_len;
} seg__column;

/* Whether row i of column c passes its validity bitmap. */
static inline int seg__frame_valid(const seg__column *c, size_t i)
{
    return !c->validity || ((c->validity[i / 8] >> (i % 8)) & 1);
}

struct seg_frame {
    seg__alloc alloc;
    size_t n_rows;
    size_t n_cols, cap;
    seg__column *cols;
    atomic_int refs; /* objects built from the frame hold a reference */
    char err[SEG__ERR_LEN];
};

/* An internal column type: one bit per row in 64-bit words (bit i % 64 of
 * word i / 64), read as 1.0 or 0.0, never missing. Tag sets hand tags to
 * rules this way; it never appears in a caller's frame. */
#define SEG__TYPE_BITS 100

/* Adds a column of any type, SEG__TYPE_BITS included (the checks of the
 * public add functions apply). */
int32_t seg__frame_add_column(struct seg_frame *f, const char *name, int32_t type,
                              const void *data, const uint8_t *validity,
                              const char *const *dict, size_t dict_len);

/* Rows [r0, r0 + n) of a numeric or bit column as doubles, NaN = missing. */
void seg__column_load(const seg__column *c, size_t r0, size_t n, double *out);

/* Takes a reference; release it with seg_frame_free(). */
void seg__frame_ref(struct seg_frame *f);

#endif /* SEG_FRAME_PRIVATE_H */
