/* SPDX-License-Identifier: MIT */
/* Rule tags: compile each rule against the frame plus the tags it names,
 * evaluate it, and replace the tag's rows. */
#include <stdio.h>
#include <string.h>

#include "frame-private.h"
#include "rule-private.h"
#include "tagset-private.h"

#define W SEG__CHUNK_WORDS

/* A tag a rule names, as spelled in the rule. */
typedef struct tagref {
    char *name;
    int32_t id;
    size_t line, col;
} tagref;

typedef struct refs {
    const seg_tagreg *reg;
    const seg__alloc *alloc;
    tagref *v;
    size_t n, cap;
} refs;

static int32_t collect_ref(void *ctx, const char *name, size_t line, size_t col)
{
    refs *r = ctx;
    int32_t id = seg__tagreg_resolve(r->reg, name, strlen(name));
    if (!id)
        return SEG_OK;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].name, name) == 0)
            return SEG_OK;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        tagref *v = seg__realloc_array(r->alloc, r->v, cap, sizeof *v);
        if (!v)
            return SEG_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    char *copy = seg__strdup(r->alloc, name);
    if (!copy)
        return SEG_ENOMEM;
    r->v[r->n].name = copy;
    r->v[r->n].id = id;
    r->v[r->n].line = line;
    r->v[r->n++].col = col;
    return SEG_OK;
}

static void refs_free(refs *r)
{
    for (size_t i = 0; i < r->n; i++)
        seg__free(r->alloc, r->v[i].name);
    seg__free(r->alloc, r->v);
}

/* The whole tag as one bitmap of n_chunks * W words. */
static uint64_t *tag_bits(const seg_tagset *s, size_t ti)
{
    uint64_t *b = seg__malloc_array(&s->alloc, s->n_chunks ? s->n_chunks * W : 1, sizeof *b);
    if (!b)
        return NULL;
    for (size_t c = 0; c < s->n_chunks; c++) {
        uint64_t *dst = b + c * W;
        const uint64_t *w = seg__chunk_words(s, &s->chunks[ti * s->n_chunks + c], c, dst);
        if (w != dst)
            memcpy(dst, w, W * sizeof *dst);
    }
    return b;
}

typedef struct evalctx {
    seg_tagset *set;
    const seg_frame *frame;
    char *err;
    size_t cap;
    uint64_t **staged; /* per tag index: its new rows, once computed */
} evalctx;

/* Computes the rule of tag ti into e->staged[ti]. */
static int32_t eval_one(evalctx *e, size_t ti)
{
    seg_tagset *s = e->set;
    const seg__tag *t = &s->reg->tags[ti];
    const seg__alloc *a = &s->alloc;
    char srcbuf[32];
    const char *source = seg__tagreg_rule_source(s->reg, t, srcbuf, sizeof srcbuf);
    const char *text = t->text[SEG_TAG_RULE_TEXT];
    refs r = {s->reg, a, NULL, 0, 0};
    seg_frame *f = NULL;
    seg_rule *rule = NULL;
    uint64_t **tmp = NULL;
    uint64_t *out = NULL;
    int32_t rc = seg__rule_scan(text, strlen(text), collect_ref, &r, source, t->rule_line,
                                t->rule_col, a, e->err, e->cap);
    if (rc != SEG_OK)
        goto done;
    seg_allocator user = {sizeof user, a->malloc_fn, a->realloc_fn, a->free_fn, a->user_data};
    rc = seg_frame_new(&f, s->n_rows, &user);
    if (rc != SEG_OK)
        goto nomem;
    for (size_t i = 0; i < e->frame->n_cols; i++) {
        const seg__column *c = &e->frame->cols[i];
        rc = seg__frame_add_column(f, c->name, c->type, c->data, c->validity, c->dict, c->dict_len);
        if (rc != SEG_OK)
            goto nomem;
    }
    tmp = seg__calloc_array(a, r.n ? r.n : 1, sizeof *tmp);
    if (!tmp)
        goto nomem;
    for (size_t i = 0; i < r.n; i++) {
        size_t idx;
        if (seg_frame_find(e->frame, r.v[i].name, &idx) == SEG_OK) {
            seg__errf(e->err, e->cap, "%s:%zu:%zu: '%s' is both a frame column and a tag", source,
                      r.v[i].line, r.v[i].col, r.v[i].name);
            rc = SEG_EPARSE;
            goto done;
        }
        size_t dep = (size_t)seg__tagreg_index(s->reg, r.v[i].id);
        const uint64_t *bits = e->staged[dep];
        if (!bits) {
            tmp[i] = tag_bits(s, dep);
            if (!tmp[i])
                goto nomem;
            bits = tmp[i];
        }
        rc = seg__frame_add_column(f, r.v[i].name, SEG__TYPE_BITS, bits, NULL, NULL, 0);
        if (rc != SEG_OK)
            goto nomem;
    }
    rc = seg__rule_compile_at(&rule, text, strlen(text), f, source, t->rule_line, t->rule_col, a,
                              e->err, e->cap);
    if (rc != SEG_OK)
        goto done;
    out = seg__calloc_array(a, s->n_chunks ? s->n_chunks * W : 1, sizeof *out);
    if (!out)
        goto nomem;
    seg__rule_exec x;
    rc = seg__rule_exec_init(&x, rule, f, e->err, e->cap);
    if (rc != SEG_OK)
        goto done;
    for (size_t r0 = 0; r0 < s->n_rows; r0 += SEG__RULE_BLOCK) {
        size_t n = s->n_rows - r0 < SEG__RULE_BLOCK ? s->n_rows - r0 : SEG__RULE_BLOCK;
        const double *v = seg__rule_exec_block(&x, r0, n);
        uint64_t *o = out + r0 / 64;
        for (size_t i = 0; i < n; i++)
            o[i / 64] |= (uint64_t)(v[i] != 0.0) << (i % 64);
    }
    seg__rule_exec_fini(&x);
    e->staged[ti] = out;
    out = NULL;
    rc = SEG_OK;
    goto done;
nomem:
    seg__errf(e->err, e->cap, "out of memory");
    rc = SEG_ENOMEM;
done:
    seg__free(a, out);
    seg_rule_free(rule);
    seg_frame_free(f);
    for (size_t i = 0; tmp && i < r.n; i++)
        seg__free(a, tmp[i]);
    seg__free(a, tmp);
    refs_free(&r);
    return rc;
}

SEG_API int32_t seg_tagset_eval_rules(seg_tagset *set, const seg_frame *frame,
                                      const int32_t *tag_ids, size_t n_ids, char *err_buf,
                                      size_t err_cap)
{
    if (!set || !frame) {
        seg__errf(err_buf, err_cap, "%s is NULL", !set ? "set" : "frame");
        return SEG_EINVAL;
    }
    if (frame->n_rows != set->n_rows) {
        seg__errf(err_buf, err_cap, "the frame has %zu rows, the tag set %zu", frame->n_rows,
                  set->n_rows);
        return SEG_EINVAL;
    }
    if (!tag_ids && n_ids > 0) {
        seg__errf(err_buf, err_cap, "tag_ids is NULL but n_ids is %zu", n_ids);
        return SEG_EINVAL;
    }
    int32_t rc = seg__tagset_writable(set, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    const seg_tagreg *reg = set->reg;
    const seg__alloc *a = &set->alloc;
    size_t nt = set->n_tags;
    uint8_t *sel = seg__calloc_array(a, nt ? nt : 1, 1);
    uint64_t **staged = seg__calloc_array(a, nt ? nt : 1, sizeof *staged);
    size_t *order = seg__malloc_array(a, nt ? nt : 1, sizeof *order);
    uint64_t **claimed = seg__calloc_array(a, nt ? nt : 1, sizeof *claimed); /* per group */
    uint64_t *buf = seg__malloc_array(a, 2 * W, sizeof *buf);
    seg__batch b = {NULL, 0, 0};
    size_t n_order = 0;
    if (!sel || !staged || !order || !claimed || !buf)
        goto nomem;
    if (tag_ids) {
        for (size_t i = 0; i < n_ids; i++) {
            ptrdiff_t ti = seg__tagreg_index(reg, tag_ids[i]);
            if (ti < 0) {
                seg__errf(err_buf, err_cap, "tag_ids[%zu] = %d is not a registered tag", i,
                          (int)tag_ids[i]);
                rc = SEG_ENOTFOUND;
                goto done;
            }
            const seg__tag *t = &reg->tags[ti];
            if (t->kind != SEG_TAG_RULE || t->status == SEG_TAG_DISABLED) {
                seg__errf(err_buf, err_cap, "tag_ids[%zu]: tag %d '%s' %s", i, (int)t->id, t->name,
                          t->kind != SEG_TAG_RULE ? "is not a rule tag" : "is disabled");
                rc = SEG_ESTATE;
                goto done;
            }
            sel[ti] = 1;
        }
    } else {
        for (size_t i = 0; i < nt; i++)
            sel[i] = reg->tags[i].kind == SEG_TAG_RULE && reg->tags[i].status != SEG_TAG_DISABLED;
    }
    /* Dependency order, ties by id: repeatedly take the first selected tag
     * whose selected dependencies are done (the registry has no cycles). */
    uint8_t *done_flag = seg__calloc_array(a, nt ? nt : 1, 1);
    if (!done_flag)
        goto nomem;
    for (;;) {
        size_t pick = nt;
        for (size_t i = 0; i < nt && pick == nt; i++) {
            if (!sel[i] || done_flag[i])
                continue;
            int ready = 1;
            for (size_t d = 0; d < reg->tags[i].n_deps && ready; d++) {
                size_t j = (size_t)seg__tagreg_index(reg, reg->tags[i].deps[d]);
                ready = !sel[j] || done_flag[j];
            }
            if (ready)
                pick = i;
        }
        if (pick == nt)
            break;
        done_flag[pick] = 1;
        order[n_order++] = pick;
    }
    seg__free(a, done_flag);
    evalctx e = {set, frame, err_buf, err_cap, staged};
    for (size_t k = 0; k < n_order; k++) {
        size_t ti = order[k];
        rc = eval_one(&e, ti);
        if (rc != SEG_OK)
            goto done;
        int32_t g = set->group[ti];
        if (g < 0)
            continue;
        if (!claimed[g]) {
            claimed[g] = seg__calloc_array(a, set->n_chunks ? set->n_chunks * W : 1, sizeof **claimed);
            if (!claimed[g])
                goto nomem;
        }
        uint64_t *m = staged[ti], *cl = claimed[g];
        for (size_t w = 0; w < set->n_chunks * W; w++) {
            m[w] &= ~cl[w];
            cl[w] |= m[w];
        }
    }
    for (size_t c = 0; c < set->n_chunks; c++) {
        for (size_t u = 0; u < nt; u++) {
            int32_t g = set->group[u];
            if (staged[u]) {
                if (seg__batch_put(set, &b, u, c, staged[u] + c * W, buf) < 0)
                    goto nomem;
            } else if (g >= 0 && claimed[g]) {
                const uint64_t *old = seg__chunk_words(set, &set->chunks[u * set->n_chunks + c], c, buf);
                uint64_t *nw = buf + W;
                const uint64_t *cl = claimed[g] + c * W;
                for (size_t w = 0; w < W; w++)
                    nw[w] = old[w] & ~cl[w];
                if (seg__batch_put(set, &b, u, c, nw, buf) < 0)
                    goto nomem;
            }
        }
    }
    seg__batch_commit(set, &b);
    rc = SEG_OK;
    goto done;
nomem:
    seg__errf(err_buf, err_cap, "out of memory");
    rc = SEG_ENOMEM;
done:
    seg__batch_abort(set, &b);
    for (size_t i = 0; staged && i < nt; i++)
        seg__free(a, staged[i]);
    for (size_t i = 0; claimed && i < nt; i++)
        seg__free(a, claimed[i]);
    seg__free(a, staged);
    seg__free(a, claimed);
    seg__free(a, sel);
    seg__free(a, order);
    seg__free(a, buf);
    return rc;
}
