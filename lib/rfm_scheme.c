/* SPDX-License-Identifier: MIT */
/* Segment schemes: ordered boxes over (R, F, M) scores, first match wins. */
#include <string.h>

#include "seg-private.h"
#include "segment/rfm_scheme.h"

typedef struct seg__box {
    char *id, *name;
    int32_t lo[3], hi[3];
} seg__box;

struct seg_rfm_scheme {
    seg__alloc alloc;
    int32_t levels;
    size_t n, cap;
    seg__box *boxes;
    char *others_id, *others_name;
    char err[SEG__ERR_LEN];
};

static const char *const dim_name[3] = {"r_score", "f_score", "m_score"};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void scheme_error(seg_rfm_scheme *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

/* Validates an identifier and a display name; NULL when fine. */
static const char *check_names(const char *id, const char *name)
{
    if (!id || !name)
        return "identifier or name is NULL";
    if (!seg__is_identifier(id) || strlen(id) > SEG_SCHEME_NAME_MAX)
        return "identifier must be ASCII letters, digits and '_', not starting with a digit";
    const char *why = seg__check_name(name, SEG_SCHEME_NAME_MAX);
    return why;
}

SEG_API int32_t seg_rfm_scheme_new(seg_rfm_scheme **out, int32_t levels, const char *others_id,
                                   const char *others_name, const seg_allocator *alloc)
{
    seg__alloc a;
    if (!out || check_names(others_id, others_name))
        return SEG_EINVAL;
    if (levels < 2 || levels > 10)
        return SEG_ERANGE;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    seg_rfm_scheme *s = seg__malloc(&a, sizeof *s);
    if (!s)
        return SEG_ENOMEM;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    s->levels = levels;
    s->others_id = seg__strdup(&a, others_id);
    s->others_name = seg__strdup(&a, others_name);
    if (!s->others_id || !s->others_name) {
        seg_rfm_scheme_free(s);
        return SEG_ENOMEM;
    }
    *out = s;
    return SEG_OK;
}

SEG_API void seg_rfm_scheme_free(seg_rfm_scheme *scheme)
{
    if (!scheme)
        return;
    seg__alloc a = scheme->alloc;
    for (size_t i = 0; i < scheme->n; i++) {
        seg__free(&a, scheme->boxes[i].id);
        seg__free(&a, scheme->boxes[i].name);
    }
    seg__free(&a, scheme->boxes);
    seg__free(&a, scheme->others_id);
    seg__free(&a, scheme->others_name);
    seg__free(&a, scheme);
}

SEG_API int32_t seg_rfm_scheme_add(seg_rfm_scheme *scheme, const char *id, const char *name,
                                   int32_t r_lo, int32_t r_hi, int32_t f_lo, int32_t f_hi,
                                   int32_t m_lo, int32_t m_hi)
{
    if (!scheme)
        return SEG_EINVAL;
    const char *why = check_names(id, name);
    if (why) {
        scheme_error(scheme, "segment %zu: %s", scheme->n, why);
        return SEG_EINVAL;
    }
    char brief[SEG__BRIEF];
    const char *q = seg__brief(id, brief);
    const int32_t lo[3] = {r_lo, f_lo, m_lo}, hi[3] = {r_hi, f_hi, m_hi};
    for (int d = 0; d < 3; d++) {
        if (lo[d] < 1 || hi[d] > scheme->levels || lo[d] > hi[d]) {
            scheme_error(scheme, "segment '%s': %s bounds %d..%d outside 1..%d or reversed", q,
                         dim_name[d], (int)lo[d], (int)hi[d], (int)scheme->levels);
            return SEG_ERANGE;
        }
    }
    int32_t existing;
    if (seg_rfm_scheme_find(scheme, id, &existing) == SEG_OK) {
        scheme_error(scheme, "segment '%s' already exists (id %d)", q, (int)existing);
        return SEG_EEXISTS;
    }
    if (scheme->n == scheme->cap) {
        size_t cap = scheme->cap ? scheme->cap * 2 : 16;
        seg__box *b = seg__realloc_array(&scheme->alloc, scheme->boxes, cap, sizeof *b);
        if (!b) {
            scheme_error(scheme, "segment '%s': out of memory", q);
            return SEG_ENOMEM;
        }
        scheme->boxes = b;
        scheme->cap = cap;
    }
    seg__box *b = &scheme->boxes[scheme->n];
    b->id = seg__strdup(&scheme->alloc, id);
    b->name = seg__strdup(&scheme->alloc, name);
    if (!b->id || !b->name) {
        seg__free(&scheme->alloc, b->id);
        seg__free(&scheme->alloc, b->name);
        scheme_error(scheme, "segment '%s': out of memory", q);
        return SEG_ENOMEM;
    }
    memcpy(b->lo, lo, sizeof lo);
    memcpy(b->hi, hi, sizeof hi);
    scheme->n++;
    scheme->err[0] = '\0';
    return SEG_OK;
}

/* ---- built-in schemes -------------------------------------------------- */

typedef struct builtin_box {
    const char *id, *name;
    int8_t r_lo, r_hi, f_lo, f_hi, m_lo, m_hi;
} builtin_box;

/* The rfm package vignette's segments, in its order. */
static const builtin_box rfm10[] = {
    {"champions", "Champions", 5, 5, 5, 5, 5, 5},
    {"potential_loyalist", "Potential Loyalist", 3, 5, 3, 5, 2, 5},
    {"loyal_customers", "Loyal Customers", 2, 4, 2, 4, 2, 4},
    {"promising", "Promising", 3, 4, 1, 3, 3, 5},
    {"new_customers", "New Customers", 4, 5, 1, 3, 1, 5},
    {"cant_lose_them", "Can't Lose Them", 1, 2, 3, 4, 4, 5},
    {"at_risk", "At Risk", 1, 2, 2, 5, 4, 5},
    {"need_attention", "Need Attention", 1, 3, 3, 5, 3, 5},
    {"about_to_sleep", "About To Sleep", 2, 3, 1, 3, 1, 4},
    {"lost", "Lost", 1, 1, 1, 5, 1, 5},
};

/* Recency x frequency grid: every (R, F) cell of 1..5 in exactly one box. */
static const builtin_box rfgrid[] = {
    {"hibernating", "Hibernating", 1, 2, 1, 2, 1, 5},
    {"at_risk", "At Risk", 1, 2, 3, 4, 1, 5},
    {"cant_loose", "Can't Lose", 1, 2, 5, 5, 1, 5},
    {"about_to_sleep", "About To Sleep", 3, 3, 1, 2, 1, 5},
    {"need_attention", "Need Attention", 3, 3, 3, 3, 1, 5},
    {"loyal_customers", "Loyal Customers", 3, 4, 4, 5, 1, 5},
    {"promising", "Promising", 4, 4, 1, 1, 1, 5},
    {"new_customers", "New Customers", 5, 5, 1, 1, 1, 5},
    {"potential_loyalists", "Potential Loyalists", 4, 5, 2, 3, 1, 5},
    {"champions", "Champions", 5, 5, 4, 5, 1, 5},
};

/* The eight-class model over two levels: 2 = high (recent, frequent, big spender). */
static const builtin_box classic8[] = {
    {"important_value", "重要价值客户", 2, 2, 2, 2, 2, 2},
    {"important_develop", "重要发展客户", 2, 2, 1, 1, 2, 2},
    {"important_retain", "重要保持客户", 1, 1, 2, 2, 2, 2},
    {"important_recover", "重要挽留客户", 1, 1, 1, 1, 2, 2},
    {"general_value", "一般价值客户", 2, 2, 2, 2, 1, 1},
    {"general_develop", "一般发展客户", 2, 2, 1, 1, 1, 1},
    {"general_retain", "一般保持客户", 1, 1, 2, 2, 1, 1},
    {"general_recover", "一般挽留客户", 1, 1, 1, 1, 1, 1},
};

SEG_API int32_t seg_rfm_scheme_new_builtin(seg_rfm_scheme **out, int32_t which,
                                           const seg_allocator *alloc)
{
    const builtin_box *t;
    size_t n;
    int32_t levels = 5;
    switch (which) {
    case SEG_SCHEME_RFM10: t = rfm10; n = sizeof rfm10 / sizeof *rfm10; break;
    case SEG_SCHEME_RFGRID: t = rfgrid; n = sizeof rfgrid / sizeof *rfgrid; break;
    case SEG_SCHEME_CLASSIC8: t = classic8; n = sizeof classic8 / sizeof *classic8; levels = 2; break;
    default: return SEG_EINVAL;
    }
    if (!out)
        return SEG_EINVAL;
    seg_rfm_scheme *s;
    int32_t rc = seg_rfm_scheme_new(&s, levels, "others", "Others", alloc);
    if (rc != SEG_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = seg_rfm_scheme_add(s, t[i].id, t[i].name, t[i].r_lo, t[i].r_hi, t[i].f_lo, t[i].f_hi,
                                t[i].m_lo, t[i].m_hi);
        if (rc != SEG_OK) {
            seg_rfm_scheme_free(s);
            return rc;
        }
    }
    *out = s;
    return SEG_OK;
}

/* ---- queries ------------------------------------------------------------ */

SEG_API size_t seg_rfm_scheme_count(const seg_rfm_scheme *scheme)
{
    return scheme ? scheme->n + 1 : 0;
}

SEG_API int32_t seg_rfm_scheme_others(const seg_rfm_scheme *scheme)
{
    return scheme ? (int32_t)scheme->n : -1;
}

SEG_API int32_t seg_rfm_scheme_levels(const seg_rfm_scheme *scheme)
{
    return scheme ? scheme->levels : 0;
}

SEG_API const char *seg_rfm_scheme_id(const seg_rfm_scheme *scheme, int32_t segment)
{
    if (!scheme || segment < 0 || (size_t)segment > scheme->n)
        return NULL;
    return (size_t)segment == scheme->n ? scheme->others_id : scheme->boxes[segment].id;
}

SEG_API const char *seg_rfm_scheme_name(const seg_rfm_scheme *scheme, int32_t segment)
{
    if (!scheme || segment < 0 || (size_t)segment > scheme->n)
        return NULL;
    return (size_t)segment == scheme->n ? scheme->others_name : scheme->boxes[segment].name;
}

SEG_API int32_t seg_rfm_scheme_find(const seg_rfm_scheme *scheme, const char *id, int32_t *out)
{
    if (!scheme || !id || !out)
        return SEG_EINVAL;
    for (size_t i = 0; i < scheme->n; i++) {
        if (strcmp(scheme->boxes[i].id, id) == 0) {
            *out = (int32_t)i;
            return SEG_OK;
        }
    }
    if (strcmp(scheme->others_id, id) == 0) {
        *out = (int32_t)scheme->n;
        return SEG_OK;
    }
    return SEG_ENOTFOUND;
}

SEG_API int32_t seg_rfm_scheme_box(const seg_rfm_scheme *scheme, int32_t segment,
                                   int32_t *out_bounds)
{
    if (!scheme || !out_bounds)
        return SEG_EINVAL;
    if (segment < 0 || (size_t)segment >= scheme->n)
        return SEG_ERANGE;
    const seg__box *b = &scheme->boxes[segment];
    for (int d = 0; d < 3; d++) {
        out_bounds[2 * d] = b->lo[d];
        out_bounds[2 * d + 1] = b->hi[d];
    }
    return SEG_OK;
}

SEG_API int32_t seg_rfm_scheme_apply(const seg_rfm_scheme *scheme, const int32_t *r,
                                     const int32_t *f, const int32_t *m, size_t n,
                                     int32_t *out_segment, char *err_buf, size_t err_cap)
{
    if (!scheme) {
        seg__errf(err_buf, err_cap, "scheme is NULL");
        return SEG_EINVAL;
    }
    if (n == 0)
        return SEG_OK;
    if (!r || !f || !m || !out_segment) {
        seg__errf(err_buf, err_cap, "%s is NULL",
                  !r ? "r" : !f ? "f" : !m ? "m" : "out_segment");
        return SEG_EINVAL;
    }
    const int32_t *const col[3] = {r, f, m};
    int32_t lv = scheme->levels;
    /* Validate first so that nothing is written on failure. */
    for (int d = 0; d < 3; d++) {
        for (size_t i = 0; i < n; i++) {
            if (col[d][i] < 0 || col[d][i] > lv) {
                seg__errf(err_buf, err_cap, "%s[%zu] = %d outside 0..%d (the scheme's levels)",
                          dim_name[d], i, (int)col[d][i], (int)lv);
                return SEG_EDATA;
            }
        }
    }
    /* A lookup table over all cells: one load per row. */
    int32_t table[11 * 11 * 11];
    int32_t stride = lv + 1;
    for (int32_t a = 0; a <= lv; a++)
        for (int32_t b = 0; b <= lv; b++)
            for (int32_t c = 0; c <= lv; c++) {
                int32_t seg = (int32_t)scheme->n;
                if (!a || !b || !c) {
                    seg = SEG_SEGMENT_NONE;
                } else {
                    for (size_t i = 0; i < scheme->n; i++) {
                        const seg__box *x = &scheme->boxes[i];
                        if (a >= x->lo[0] && a <= x->hi[0] && b >= x->lo[1] && b <= x->hi[1] &&
                            c >= x->lo[2] && c <= x->hi[2]) {
                            seg = (int32_t)i;
                            break;
                        }
                    }
                }
                table[(a * stride + b) * stride + c] = seg;
            }
    for (size_t i = 0; i < n; i++)
        out_segment[i] = table[(r[i] * stride + f[i]) * stride + m[i]];
    return SEG_OK;
}

SEG_API const char *seg_rfm_scheme_last_error(const seg_rfm_scheme *scheme)
{
    return scheme ? scheme->err : "";
}
