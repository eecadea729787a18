/* SPDX-License-Identifier: MIT */
/* The fitted k-means model as text: save and load (exact doubles). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kmeans-private.h"
#include "lexer.h"

static const char *const xf_names[] = {"none", "log1p", "zscore", "minmax", "robust"};
static const char *const algo_names[] = {"lloyd", "hamerly"};

static void put_num(char *buf, size_t cap, size_t *len, double v)
{
    char t[40];
    snprintf(t, sizeof t, " %.17g", v);
    seg__put_str(buf, cap, len, t);
}

static size_t render(const seg_kmeans *km, char *buf, size_t cap)
{
    size_t len = 0;
    char t[96];
    seg__put_str(buf, cap, &len, "libsegment-kmeans 1\n");
    snprintf(t, sizeof t, "k %d\nn_init %d\nmax_iter %d\n", (int)km->fitted_k, (int)km->n_init,
             (int)km->max_iter);
    seg__put_str(buf, cap, &len, t);
    seg__put_str(buf, cap, &len, "tol");
    put_num(buf, cap, &len, km->tol);
    snprintf(t, sizeof t, "\nseed %llu\nthreads %d\nalgorithm %s\norder_by %d\norder_asc %d\n",
             (unsigned long long)km->seed, (int)km->threads, algo_names[km->algorithm],
             (int)km->order_by, (int)km->order_asc);
    seg__put_str(buf, cap, &len, t);
    for (size_t f = 0; f < km->nf; f++) {
        seg__put_str(buf, cap, &len, "feature ");
        seg__put_quoted(buf, cap, &len, km->f[f].name);
        seg__put_str(buf, cap, &len, " ");
        seg__put_str(buf, cap, &len, xf_names[km->f[f].xf]);
        put_num(buf, cap, &len, km->f[f].shift);
        put_num(buf, cap, &len, km->f[f].scale);
        seg__put_str(buf, cap, &len, "\n");
    }
    seg__put_str(buf, cap, &len, "inertia");
    put_num(buf, cap, &len, km->inertia);
    snprintf(t, sizeof t, "\niterations %d\n", (int)km->iter);
    seg__put_str(buf, cap, &len, t);
    for (size_t j = 0; j < (size_t)km->fitted_k; j++) {
        snprintf(t, sizeof t, "cluster %lld", (long long)km->sizes[j]);
        seg__put_str(buf, cap, &len, t);
        for (size_t f = 0; f < km->nf; f++)
            put_num(buf, cap, &len, km->centers[j * km->nf + f]);
        seg__put_str(buf, cap, &len, "\n");
    }
    return len;
}

SEG_API int32_t seg_kmeans_save(const seg_kmeans *km, char *buf, size_t cap, size_t *out_len)
{
    if (!km || !out_len)
        return SEG_EINVAL;
    if (!km->fitted)
        return SEG_ESTATE;
    size_t need = render(km, NULL, 0);
    *out_len = need;
    if (!buf)
        return SEG_OK;
    if (cap <= need)
        return SEG_EBUFSZ;
    render(km, buf, cap);
    buf[need] = '\0';
    return SEG_OK;
}

/* ---- loading -------------------------------------------------------------------- */

typedef struct kload {
    seg__lexer lx;
    seg__token tok;
    const char *source;
    char *err;
    size_t cap;
    int32_t rc;
} kload;

static void kerr(kload *l, const seg__token *t, const char *msg)
{
    if (l->rc != SEG_OK)
        return;
    seg__errf(l->err, l->cap, "%s:%zu:%zu: %s", l->source, t->line, t->col, msg);
    l->rc = SEG_EPARSE;
}

static seg__token next(kload *l)
{
    seg__token t = seg__lex_next(&l->lx);
    if (t.kind == SEG__TOK_ERROR)
        kerr(l, &t, l->lx.error);
    return t;
}

/* A finite number, with an optional leading minus. */
static double number(kload *l)
{
    seg__token t = next(l);
    double sign = 1;
    if (l->rc == SEG_OK && t.kind == SEG__TOK_MINUS) {
        sign = -1;
        t = next(l);
    }
    if (l->rc != SEG_OK)
        return NAN;
    if (t.kind != SEG__TOK_NUMBER || !isfinite(t.number)) {
        kerr(l, &t, "expected a number");
        return NAN;
    }
    return sign * t.number;
}

/* An integer in [lo, hi]; errors point at the line's keyword (l->tok). */
static int64_t integer(kload *l, int64_t lo, int64_t hi)
{
    double v = number(l);
    if (l->rc == SEG_OK && !(v >= (double)lo && v <= (double)hi && v == floor(v))) {
        kerr(l, &l->tok, "value out of range, or not a whole number");
        return lo;
    }
    return l->rc == SEG_OK ? (int64_t)v : lo;
}

static int32_t word(kload *l, const char *const *words, int32_t n)
{
    seg__token t = next(l);
    for (int32_t i = 0; l->rc == SEG_OK && i < n; i++)
        if (seg__tok_is_word(&l->lx, &t, words[i]))
            return i;
    kerr(l, &t, "unknown word");
    return 0;
}

static void eol(kload *l)
{
    seg__token t = next(l);
    if (l->rc == SEG_OK && t.kind != SEG__TOK_NEWLINE && t.kind != SEG__TOK_END)
        kerr(l, &t, "unexpected text at the end of the line");
}

SEG_API int32_t seg_kmeans_load(seg_kmeans **out, const char *text, size_t len, const char *source,
                                const seg_allocator *alloc, char *err_buf, size_t err_cap)
{
    if (!out || !text) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out ? "out" : "text");
        return SEG_EINVAL;
    }
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    seg_kmeans *km;
    rc = seg__kmeans_create(&km, &a);
    if (rc != SEG_OK) {
        seg__errf(err_buf, err_cap, "out of memory");
        return rc;
    }
    kload l;
    memset(&l, 0, sizeof l);
    l.source = source ? source : "kmeans";
    l.err = err_buf;
    l.cap = err_cap;
    seg__lex_init(&l.lx, text, len, 1);
    l.rc = seg__lex_skip_header(&l.lx, "libsegment-kmeans", l.source, err_buf, err_cap);
    int64_t k = -1, clusters = 0;
    int have_inertia = 0;
    seg__token order_tok;
    memset(&order_tok, 0, sizeof order_tok);
    while (l.rc == SEG_OK) {
        seg__token t = next(&l);
        l.tok = t;
        if (l.rc != SEG_OK || t.kind == SEG__TOK_END)
            break;
        if (t.kind == SEG__TOK_NEWLINE)
            continue;
        if (seg__tok_is_word(&l.lx, &t, "k")) {
            if (k >= 0) {
                kerr(&l, &t, "second 'k' line");
                break;
            }
            k = integer(&l, 1, 1024);
        } else if (seg__tok_is_word(&l.lx, &t, "n_init")) {
            km->n_init = (int32_t)integer(&l, 1, 1000);
        } else if (seg__tok_is_word(&l.lx, &t, "max_iter")) {
            km->max_iter = (int32_t)integer(&l, 1, 100000);
        } else if (seg__tok_is_word(&l.lx, &t, "tol")) {
            km->tol = number(&l);
            if (l.rc == SEG_OK && km->tol < 0)
                kerr(&l, &t, "tol must not be negative");
        } else if (seg__tok_is_word(&l.lx, &t, "seed")) {
            km->seed = (uint64_t)integer(&l, 0, (int64_t)9007199254740992);
        } else if (seg__tok_is_word(&l.lx, &t, "threads")) {
            km->threads = (int32_t)integer(&l, 1, 256);
        } else if (seg__tok_is_word(&l.lx, &t, "algorithm")) {
            km->algorithm = word(&l, algo_names, 2);
        } else if (seg__tok_is_word(&l.lx, &t, "order_by")) {
            order_tok = t;
            km->order_by = (int32_t)integer(&l, -1, SEG__KM_MAX_FEATURES - 1);
        } else if (seg__tok_is_word(&l.lx, &t, "order_asc")) {
            km->order_asc = (int32_t)integer(&l, 0, 1);
        } else if (seg__tok_is_word(&l.lx, &t, "feature")) {
            if (clusters) {
                kerr(&l, &t, "'feature' line after the clusters");
                break;
            }
            seg__token nt = next(&l);
            if (l.rc == SEG_OK && nt.kind != SEG__TOK_STRING)
                kerr(&l, &nt, "expected the column name in double quotes");
            if (l.rc != SEG_OK)
                break;
            char name[SEG_FRAME_NAME_MAX + 2];
            if (seg__tok_text(&l.lx, &nt, name, sizeof name) > SEG_FRAME_NAME_MAX + 1) {
                kerr(&l, &nt, "column name is too long");
                break;
            }
            int32_t xf = word(&l, xf_names, 5);
            double shift = number(&l), scale = number(&l);
            if (l.rc != SEG_OK)
                break;
            rc = seg_kmeans_add_feature(km, name, xf);
            if (rc != SEG_OK) {
                kerr(&l, &nt, km->err);
                if (rc == SEG_ENOMEM)
                    l.rc = SEG_ENOMEM;
                break;
            }
            if (xf >= SEG_XF_ZSCORE && !(scale > 0)) {
                kerr(&l, &nt, "the scale of a feature must be positive");
                break;
            }
            if (xf < SEG_XF_ZSCORE && (shift != 0 || scale != 1)) {
                kerr(&l, &nt, "a none or log1p feature has shift 0 and scale 1");
                break;
            }
            km->f[km->nf - 1].shift = shift;
            km->f[km->nf - 1].scale = scale;
        } else if (seg__tok_is_word(&l.lx, &t, "inertia")) {
            km->inertia = number(&l);
            if (l.rc == SEG_OK && km->inertia < 0)
                kerr(&l, &t, "inertia must not be negative");
            have_inertia = 1;
        } else if (seg__tok_is_word(&l.lx, &t, "iterations")) {
            km->iter = (int32_t)integer(&l, 0, 100000);
        } else if (seg__tok_is_word(&l.lx, &t, "cluster")) {
            if (k < 0 || km->nf == 0 || clusters >= k) {
                kerr(&l, &t, k < 0 ? "'cluster' before 'k'" : km->nf == 0
                                   ? "'cluster' before any 'feature'" : "more clusters than k");
                break;
            }
            if (!km->centers) { /* the features are known now */
                km->centers = seg__calloc_array(&km->alloc, (size_t)k * km->nf,
                                                sizeof *km->centers);
                km->sizes = seg__calloc_array(&km->alloc, (size_t)k, sizeof *km->sizes);
                if (!km->centers || !km->sizes) {
                    l.rc = SEG_ENOMEM;
                    seg__errf(err_buf, err_cap, "out of memory");
                    break;
                }
            }
            km->sizes[clusters] = integer(&l, 0, INT64_MAX / 2);
            for (size_t f = 0; f < km->nf && l.rc == SEG_OK; f++)
                km->centers[(size_t)clusters * km->nf + f] = number(&l);
            clusters++;
        } else {
            kerr(&l, &t, "unknown keyword");
        }
        eol(&l);
    }
    if (l.rc == SEG_OK && (k < 0 || clusters != k || km->nf == 0 || !have_inertia)) {
        seg__token end = l.tok;
        end.line = l.lx.line;
        end.col = 1;
        kerr(&l, &end, k < 0 ? "no 'k' line" : km->nf == 0 ? "no 'feature' line"
                       : !have_inertia ? "no 'inertia' line" : "fewer 'cluster' lines than k");
    }
    if (l.rc == SEG_OK && km->order_by >= (int32_t)km->nf)
        kerr(&l, &order_tok, "order_by is not a feature index");
    if (l.rc != SEG_OK) {
        seg_kmeans_free(km);
        return l.rc;
    }
    km->k = km->fitted_k = (int32_t)k;
    km->fitted = 1;
    *out = km;
    return SEG_OK;
}
