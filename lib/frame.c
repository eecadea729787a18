/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "frame-private.h"
#include "segment/frame.h"

static void frame_set_error(seg_frame *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void frame_set_error(seg_frame *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
}

SEG_API int32_t seg_frame_new(seg_frame **out, size_t n_rows, const seg_allocator *alloc)
{
    seg__alloc a;
    if (!out)
        return SEG_EINVAL;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    seg_frame *f = seg__malloc(&a, sizeof *f);
    if (!f)
        return SEG_ENOMEM;
    memset(f, 0, sizeof *f);
    f->alloc = a;
    f->n_rows = n_rows;
    f->refs = 1;
    *out = f;
    return SEG_OK;
}

void seg__frame_ref(seg_frame *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

static void frame_destroy(seg_frame *f)
{
    for (size_t i = 0; i < f->n_cols; i++)
        seg__free(&f->alloc, f->cols[i].name);
    seg__free(&f->alloc, f->cols);
    seg__alloc a = f->alloc;
    seg__free(&a, f);
}

SEG_API void seg_frame_free(seg_frame *frame)
{
    if (!frame)
        return;
    if (atomic_fetch_sub_explicit(&frame->refs, 1, memory_order_acq_rel) == 1)
        frame_destroy(frame);
}

static int32_t frame_add(seg_frame *f, const char *name, int32_t type, const void *data,
                         const uint8_t *validity, const char *const *dict, size_t dict_len)
{
    if (!f)
        return SEG_EINVAL;
    if (!name) {
        frame_set_error(f, "column name is NULL");
        return SEG_EINVAL;
    }
    const char *why = seg__check_name(name, SEG_FRAME_NAME_MAX);
    if (why) {
        frame_set_error(f, "column %zu: %s", f->n_cols, why);
        return SEG_EINVAL;
    }
    char brief[SEG__BRIEF];
    const char *q = seg__brief(name, brief);
    if (!data && f->n_rows > 0) {
        frame_set_error(f, "column '%s': data is NULL but the frame has %zu rows", q,
                        f->n_rows);
        return SEG_EINVAL;
    }
    if (type == SEG_TYPE_DICT) {
        if (!dict && dict_len > 0) {
            frame_set_error(f, "column '%s': dictionary is NULL", q);
            return SEG_EINVAL;
        }
        for (size_t e = 0; e < dict_len; e++) {
            if (!dict[e]) {
                frame_set_error(f, "column '%s': dictionary entry %zu is NULL", q, e);
                return SEG_EDATA;
            }
        }
        const int32_t *codes = data;
        for (size_t i = 0; i < f->n_rows; i++) {
            if (codes[i] >= 0 && (size_t)codes[i] >= dict_len) {
                frame_set_error(f, "column '%s' row %zu: code %d outside the dictionary of %zu",
                                q, i, (int)codes[i], dict_len);
                return SEG_EDATA;
            }
        }
    }
    size_t idx;
    if (seg_frame_find(f, name, &idx) == SEG_OK) {
        frame_set_error(f, "column '%s' already exists (column %zu)", q, idx);
        return SEG_EEXISTS;
    }
    if (f->n_cols == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        seg__column *c = seg__realloc_array(&f->alloc, f->cols, cap, sizeof *c);
        if (!c) {
            frame_set_error(f, "column '%s': out of memory", q);
            return SEG_ENOMEM;
        }
        f->cols = c;
        f->cap = cap;
    }
    char *copy = seg__strdup(&f->alloc, name);
    if (!copy) {
        frame_set_error(f, "column '%s': out of memory", q);
        return SEG_ENOMEM;
    }
    seg__column *c = &f->cols[f->n_cols++];
    c->name = copy;
    c->type = type;
    c->data = data;
    c->validity = validity;
    c->dict = dict;
    c->dict_len = dict_len;
    f->err[0] = '\0';
    return SEG_OK;
}

/* Loads rows [r0, r0 + n) of a numeric (or internal bit) column as
 * doubles; a clear validity bit gives NaN. */
void seg__column_load(const seg__column *c, size_t r0, size_t n, double *out)
{
    switch (c->type) {
    case SEG_TYPE_DOUBLE: memcpy(out, (const double *)c->data + r0, n * sizeof *out); break;
    case SEG_TYPE_INT64:
        for (size_t i = 0; i < n; i++)
            out[i] = (double)((const int64_t *)c->data)[r0 + i];
        break;
    case SEG__TYPE_BITS: {
        const uint64_t *w = c->data;
        for (size_t i = 0; i < n; i++)
            out[i] = (double)((w[(r0 + i) / 64] >> ((r0 + i) % 64)) & 1);
        break;
    }
    default:
        for (size_t i = 0; i < n; i++)
            out[i] = (double)((const int32_t *)c->data)[r0 + i];
        break;
    }
    if (c->validity)
        for (size_t i = 0; i < n; i++)
            if (!seg__frame_valid(c, r0 + i))
                out[i] = NAN;
}

int32_t seg__frame_add_column(seg_frame *f, const char *name, int32_t type, const void *data,
                              const uint8_t *validity, const char *const *dict, size_t dict_len)
{
    return frame_add(f, name, type, data, validity, dict, dict_len);
}

SEG_API int32_t seg_frame_add_double(seg_frame *frame, const char *name, const double *data,
                                     const uint8_t *validity)
{
    return frame_add(frame, name, SEG_TYPE_DOUBLE, data, validity, NULL, 0);
}

SEG_API int32_t seg_frame_add_int64(seg_frame *frame, const char *name, const int64_t *data,
                                    const uint8_t *validity)
{
    return frame_add(frame, name, SEG_TYPE_INT64, data, validity, NULL, 0);
}

SEG_API int32_t seg_frame_add_int32(seg_frame *frame, const char *name, const int32_t *data,
                                    const uint8_t *validity)
{
    return frame_add(frame, name, SEG_TYPE_INT32, data, validity, NULL, 0);
}

SEG_API int32_t seg_frame_add_string(seg_frame *frame, const char *name, const char *const *data,
                                     const uint8_t *validity)
{
    return frame_add(frame, name, SEG_TYPE_STRING, data, validity, NULL, 0);
}

SEG_API int32_t seg_frame_add_dict(seg_frame *frame, const char *name, const int32_t *codes,
                                   const char *const *dict, size_t dict_len,
                                   const uint8_t *validity)
{
    return frame_add(frame, name, SEG_TYPE_DICT, codes, validity, dict, dict_len);
}

SEG_API size_t seg_frame_n_rows(const seg_frame *frame)
{
    return frame ? frame->n_rows : 0;
}

SEG_API size_t seg_frame_n_columns(const seg_frame *frame)
{
    return frame ? frame->n_cols : 0;
}

SEG_API int32_t seg_frame_find(const seg_frame *frame, const char *name, size_t *out_index)
{
    if (!frame || !name || !out_index)
        return SEG_EINVAL;
    for (size_t i = 0; i < frame->n_cols; i++) {
        if (strcmp(frame->cols[i].name, name) == 0) {
            *out_index = i;
            return SEG_OK;
        }
    }
    return SEG_ENOTFOUND;
}

SEG_API int32_t seg_frame_column_info(const seg_frame *frame, size_t index, const char **out_name,
                                      int32_t *out_type)
{
    if (!frame)
        return SEG_EINVAL;
    if (index >= frame->n_cols)
        return SEG_ERANGE;
    if (out_name)
        *out_name = frame->cols[index].name;
    if (out_type)
        *out_type = frame->cols[index].type;
    return SEG_OK;
}

SEG_API int32_t seg_frame_get_double(const seg_frame *frame, size_t column, size_t row,
                                     double *out_value, int32_t *out_missing)
{
    if (!frame || !out_value)
        return SEG_EINVAL;
    if (column >= frame->n_cols || row >= frame->n_rows)
        return SEG_ERANGE;
    const seg__column *c = &frame->cols[column];
    if (c->type == SEG_TYPE_STRING || c->type == SEG_TYPE_DICT)
        return SEG_EINVAL;
    double v;
    seg__column_load(c, row, 1, &v);
    int missing = isnan(v);
    *out_value = missing ? NAN : v;
    if (out_missing)
        *out_missing = missing;
    return SEG_OK;
}

SEG_API int32_t seg_frame_get_string(const seg_frame *frame, size_t column, size_t row,
                                     const char **out_value)
{
    if (!frame || !out_value)
        return SEG_EINVAL;
    if (column >= frame->n_cols || row >= frame->n_rows)
        return SEG_ERANGE;
    const seg__column *c = &frame->cols[column];
    if (c->type != SEG_TYPE_STRING && c->type != SEG_TYPE_DICT)
        return SEG_EINVAL;
    const char *s = NULL;
    if (seg__frame_valid(c, row)) {
        if (c->type == SEG_TYPE_STRING) {
            s = ((const char *const *)c->data)[row];
        } else {
            int32_t code = ((const int32_t *)c->data)[row];
            s = code >= 0 ? c->dict[code] : NULL;
        }
    }
    *out_value = s;
    return SEG_OK;
}

SEG_API const char *seg_frame_last_error(const seg_frame *frame)
{
    return frame ? frame->err : "";
}
