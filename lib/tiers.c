/* SPDX-License-Identifier: MIT */
/* Tier sets: ordered rules, first match wins; hysteresis, gaps, coverage,
 * migration. The rules themselves are the rule language's (rule.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rule-private.h"
#include "segment/tiers.h"

typedef struct seg__tier {
    char *id, *name;
    char *when_text, *keep_text; /* NULL: otherwise / no keep */
    seg_rule *when, *keep;
} seg__tier;

struct seg_tiers {
    seg__alloc alloc;
    seg_frame *schema; /* a reference: seg_tiers_add compiles against its names and types */
    int32_t is_group;
    seg__tier *t;
    size_t n, cap;
    char err[SEG__ERR_LEN];
};

#define B SEG__RULE_BLOCK
#define ONE(c) ((c) ? 1.0 : 0.0)

static void tiers_error(seg_tiers *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void tiers_error(seg_tiers *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

static int32_t tiers_create(seg_tiers **out, const seg_frame *schema, int32_t is_group,
                            const seg__alloc *a)
{
    seg_tiers *s = seg__malloc(a, sizeof *s);
    if (!s)
        return SEG_ENOMEM;
    memset(s, 0, sizeof *s);
    s->alloc = *a;
    /* The reference count is the frame's only mutable part; holding one
     * lets the caller free the frame first (doc/ownership.md, rule 4). */
    s->schema = (seg_frame *)schema;
    seg__frame_ref(s->schema);
    s->is_group = is_group;
    *out = s;
    return SEG_OK;
}

SEG_API int32_t seg_tiers_new(seg_tiers **out, const seg_frame *schema, int32_t is_group,
                              const seg_allocator *alloc)
{
    if (!out || !schema || (is_group != 0 && is_group != 1))
        return SEG_EINVAL;
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    return tiers_create(out, schema, is_group, &a);
}

static void tier_release(const seg__alloc *a, seg__tier *t)
{
    seg__free(a, t->id);
    seg__free(a, t->name);
    seg__free(a, t->when_text);
    seg__free(a, t->keep_text);
    seg_rule_free(t->when);
    seg_rule_free(t->keep);
}

SEG_API void seg_tiers_free(seg_tiers *tiers)
{
    if (!tiers)
        return;
    seg__alloc a = tiers->alloc;
    for (size_t i = 0; i < tiers->n; i++)
        tier_release(&a, &tiers->t[i]);
    seg__free(&a, tiers->t);
    seg_frame_free(tiers->schema);
    seg__free(&a, tiers);
}

/* Copies text[0..len) as a NUL-terminated string. */
static char *dup_span(const seg__alloc *a, const char *text, size_t len)
{
    char *d = seg__malloc(a, len + 1);
    if (d) {
        memcpy(d, text, len);
        d[len] = '\0';
    }
    return d;
}

/* Adds a tier whose conditions are text spans at known file positions. */
static int32_t add_tier(seg_tiers *s, const char *id, const char *name, const char *when,
                        size_t when_len, size_t when_line, size_t when_col, const char *keep,
                        size_t keep_len, size_t keep_line, size_t keep_col, const char *source,
                        char *err, size_t cap)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->t[i].id, id) == 0) {
            char brief[SEG__BRIEF];
            seg__errf(err, cap, "'%s' already exists (tier %zu)", seg__brief(id, brief), i);
            return SEG_EEXISTS;
        }
    }
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 8;
        seg__tier *t = seg__realloc_array(&s->alloc, s->t, c, sizeof *t);
        if (!t) {
            seg__errf(err, cap, "%s: out of memory", source);
            return SEG_ENOMEM;
        }
        s->t = t;
        s->cap = c;
    }
    seg__tier t;
    memset(&t, 0, sizeof t);
    int32_t rc = SEG_OK;
    t.id = seg__strdup(&s->alloc, id);
    t.name = seg__strdup(&s->alloc, name);
    if (!t.id || !t.name)
        rc = SEG_ENOMEM;
    if (rc == SEG_OK && when) {
        t.when_text = dup_span(&s->alloc, when, when_len);
        rc = t.when_text ? seg__rule_compile_at(&t.when, when, when_len, s->schema, source,
                                                when_line, when_col, &s->alloc, err, cap)
                         : SEG_ENOMEM;
    }
    if (rc == SEG_OK && keep) {
        t.keep_text = dup_span(&s->alloc, keep, keep_len);
        rc = t.keep_text ? seg__rule_compile_at(&t.keep, keep, keep_len, s->schema, source,
                                                keep_line, keep_col, &s->alloc, err, cap)
                         : SEG_ENOMEM;
    }
    if (rc != SEG_OK) {
        if (rc == SEG_ENOMEM)
            seg__errf(err, cap, "%s: out of memory", source);
        tier_release(&s->alloc, &t);
        return rc;
    }
    s->t[s->n++] = t;
    return SEG_OK;
}

static const char *check_id_name(const char *id, const char *name)
{
    if (!id || !name)
        return "identifier or name is NULL";
    if (!seg__is_identifier(id) || strlen(id) > 255)
        return "identifier must be ASCII letters, digits and '_', not starting with a digit";
    return seg__check_name(name, 255);
}

SEG_API int32_t seg_tiers_add(seg_tiers *tiers, const char *id, const char *name,
                              const char *when, const char *keep)
{
    if (!tiers)
        return SEG_EINVAL;
    const char *why = check_id_name(id, name);
    if (why || (keep && !when)) {
        tiers_error(tiers, "tier %zu: %s", tiers->n, why ? why : "'keep' needs a 'when' condition");
        return SEG_EINVAL;
    }
    char src[300];
    char brief[SEG__BRIEF];
    snprintf(src, sizeof src, "tier '%s'", seg__brief(id, brief));
    int32_t rc = add_tier(tiers, id, name, when, when ? strlen(when) : 0, 1, 1, keep,
                          keep ? strlen(keep) : 0, 1, 1, src, tiers->err, sizeof tiers->err);
    if (rc == SEG_OK)
        tiers->err[0] = '\0';
    return rc;
}

/* ---- text ------------------------------------------------------------------ */

/* Skips an optional first line "<magic> <version>" (after blank and
 * comment lines); only version 1 is known. */
SEG_API int32_t seg_tiers_load(seg_tiers **out, const char *text, size_t len,
                               const seg_frame *schema, const char *source,
                               const seg_allocator *alloc, char *err_buf, size_t err_cap)
{
    if (!out || !text || !schema) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out ? "out" : !text ? "text" : "schema");
        return SEG_EINVAL;
    }
    if (!source)
        source = "tiers";
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    seg_tiers *s;
    if ((rc = tiers_create(&s, schema, -1, &a)) != SEG_OK) {
        seg__errf(err_buf, err_cap, "%s: out of memory", source);
        return rc;
    }
    seg__lexer lx;
    seg__lex_init(&lx, text, len, 1);
    char id[256], name[1024];
#define FAIL(t, code, ...)                                                                   \
    do {                                                                                     \
        char m_[2048];                                                                       \
        seg__errf(m_, sizeof m_, __VA_ARGS__);                                               \
        seg__errf(err_buf, err_cap, "%s:%zu:%zu: %s", source, (t).line, (t).col, m_);        \
        rc = (code);                                                                         \
        goto fail;                                                                           \
    } while (0)
    rc = seg__lex_skip_header(&lx, "libsegment-tiers", source, err_buf, err_cap);
    if (rc != SEG_OK)
        goto fail;
    for (;;) {
        seg__token t = seg__lex_next(&lx);
        if (t.kind == SEG__TOK_END)
            break;
        if (t.kind == SEG__TOK_NEWLINE)
            continue;
        if (t.kind == SEG__TOK_ERROR)
            FAIL(t, SEG_EPARSE, "%s", lx.error);
        int is_group = seg__tok_is_word(&lx, &t, "group");
        if (!is_group && !seg__tok_is_word(&lx, &t, "tier"))
            FAIL(t, SEG_EPARSE, "expected 'tier' or 'group' at the start of a line, found '%.*s'",
                 (int)(t.len < 40 ? t.len : 40), text + t.start);
        if (s->is_group >= 0 && s->is_group != is_group)
            FAIL(t, SEG_EPARSE, "a set uses one keyword: this file started with '%s'",
                 s->is_group ? "group" : "tier");
        s->is_group = is_group;
        seg__token tid = seg__lex_next(&lx);
        if (tid.kind != SEG__TOK_IDENT || tid.quoted || tid.len > 255)
            FAIL(tid, SEG_EPARSE, "expected an identifier after '%s'", is_group ? "group" : "tier");
        seg__tok_text(&lx, &tid, id, sizeof id);
        for (size_t i = 0; i < s->n; i++)
            if (strcmp(s->t[i].id, id) == 0)
                FAIL(tid, SEG_EPARSE, "'%s' is defined twice (first as tier %zu)", id, i);
        seg__token tname = seg__lex_next(&lx);
        if (tname.kind == SEG__TOK_ERROR)
            FAIL(tname, SEG_EPARSE, "%s", lx.error);
        if (tname.kind != SEG__TOK_STRING)
            FAIL(tname, SEG_EPARSE, "expected a \"display name\" after '%s'", id);
        if (seg__tok_text(&lx, &tname, name, sizeof name) > 256)
            FAIL(tname, SEG_EPARSE, "display name is longer than 255 bytes");
        if (seg__check_name(name, 255))
            FAIL(tname, SEG_EPARSE, "bad display name: %s", seg__check_name(name, 255));
        seg__token kw = seg__lex_next(&lx);
        if (seg__tok_is_word(&lx, &kw, "otherwise")) {
            seg__token end = seg__lex_next(&lx);
            if (end.kind != SEG__TOK_NEWLINE && end.kind != SEG__TOK_END)
                FAIL(end, SEG_EPARSE, "nothing may follow 'otherwise'");
            rc = add_tier(s, id, name, NULL, 0, 0, 0, NULL, 0, 0, 0, source, err_buf, err_cap);
            if (rc != SEG_OK)
                goto fail;
            if (end.kind == SEG__TOK_END)
                break;
            continue;
        }
        if (!seg__tok_is_word(&lx, &kw, "when"))
            FAIL(kw, SEG_EPARSE, "expected 'when' or 'otherwise' after the display name");
        /* The condition runs to 'keep' or the end of the line; spans are
         * taken from token to token, so comments fall outside them. */
        seg__token first = {0}, last = {0}, kt = {0}, kfirst = {0}, klast = {0};
        int n_when = 0, n_keep = 0, has_keep = 0;
        for (;;) {
            seg__token x = seg__lex_next(&lx);
            if (x.kind == SEG__TOK_ERROR)
                FAIL(x, SEG_EPARSE, "%s", lx.error);
            if (x.kind == SEG__TOK_NEWLINE || x.kind == SEG__TOK_END)
                break;
            if (!has_keep && seg__tok_is_word(&lx, &x, "keep")) {
                has_keep = 1;
                kt = x;
                continue;
            }
            if (has_keep) {
                if (!n_keep++)
                    kfirst = x;
                klast = x;
            } else {
                if (!n_when++)
                    first = x;
                last = x;
            }
        }
        if (n_when == 0)
            FAIL(kw, SEG_EPARSE, "'when' needs a condition");
        if (has_keep && n_keep == 0)
            FAIL(kt, SEG_EPARSE, "'keep' needs a condition");
        rc = add_tier(s, id, name, text + first.start, last.start + last.len - first.start,
                      first.line, first.col, has_keep ? text + kfirst.start : NULL,
                      has_keep ? klast.start + klast.len - kfirst.start : 0, kfirst.line,
                      kfirst.col, source, err_buf, err_cap);
        if (rc != SEG_OK)
            goto fail;
    }
#undef FAIL
    if (s->n == 0) {
        seg__errf(err_buf, err_cap, "%s: no tier defined", source);
        rc = SEG_EPARSE;
        goto fail;
    }
    *out = s;
    return SEG_OK;
fail:
    seg_tiers_free(s);
    return rc;
}

/* ---- accessors and save ------------------------------------------------------ */

SEG_API size_t seg_tiers_count(const seg_tiers *tiers)
{
    return tiers ? tiers->n : 0;
}

SEG_API const char *seg_tiers_id(const seg_tiers *tiers, int32_t tier)
{
    return tiers && tier >= 0 && (size_t)tier < tiers->n ? tiers->t[tier].id : NULL;
}

SEG_API const char *seg_tiers_name(const seg_tiers *tiers, int32_t tier)
{
    return tiers && tier >= 0 && (size_t)tier < tiers->n ? tiers->t[tier].name : NULL;
}

SEG_API int32_t seg_tiers_find(const seg_tiers *tiers, const char *id, int32_t *out)
{
    if (!tiers || !id || !out)
        return SEG_EINVAL;
    for (size_t i = 0; i < tiers->n; i++) {
        if (strcmp(tiers->t[i].id, id) == 0) {
            *out = (int32_t)i;
            return SEG_OK;
        }
    }
    return SEG_ENOTFOUND;
}

SEG_API int32_t seg_tiers_has_catch_all(const seg_tiers *tiers)
{
    if (!tiers)
        return 0;
    for (size_t i = 0; i < tiers->n; i++)
        if (!tiers->t[i].when)
            return 1;
    return 0;
}

SEG_API int32_t seg_tiers_is_group(const seg_tiers *tiers)
{
    return tiers && tiers->is_group > 0;
}

SEG_API const char *seg_tiers_last_error(const seg_tiers *tiers)
{
    return tiers ? tiers->err : "";
}

/* Appends to buf when it fits; always counts. */
/* Renders the set into buf (if it fits) and returns the full length. */
static size_t render(const seg_tiers *s, char *buf, size_t cap)
{
    size_t len = 0;
    const char *kw = s->is_group > 0 ? "group " : "tier ";
    seg__put_str(buf, cap, &len, "libsegment-tiers 1\n");
    for (size_t i = 0; i < s->n; i++) {
        const seg__tier *t = &s->t[i];
        seg__put_str(buf, cap, &len, kw);
        seg__put_str(buf, cap, &len, t->id);
        seg__put_str(buf, cap, &len, " ");
        seg__put_quoted(buf, cap, &len, t->name);
        if (!t->when_text) {
            seg__put_str(buf, cap, &len, " otherwise\n");
            continue;
        }
        seg__put_str(buf, cap, &len, " when ");
        seg__put_str(buf, cap, &len, t->when_text);
        if (t->keep_text) {
            seg__put_str(buf, cap, &len, " keep ");
            seg__put_str(buf, cap, &len, t->keep_text);
        }
        seg__put_str(buf, cap, &len, "\n");
    }
    return len;
}

SEG_API int32_t seg_tiers_save(const seg_tiers *tiers, char *buf, size_t cap, size_t *out_len)
{
    if (!tiers || !out_len)
        return SEG_EINVAL;
    size_t len = render(tiers, NULL, 0);
    *out_len = len;
    if (!buf)
        return SEG_OK;
    if (cap < len + 1)
        return SEG_EBUFSZ;
    render(tiers, buf, cap);
    buf[len] = '\0';
    return SEG_OK;
}

/* ---- apply ------------------------------------------------------------------- */

/* Every rule of the set bound to one frame for one call. */
typedef struct set_exec {
    const seg_tiers *s;
    seg__rule_exec *when, *keep; /* per tier; rule == NULL for none */
} set_exec;

static void set_exec_fini(set_exec *x)
{
    if (x->when && x->keep)
        for (size_t i = 0; i < x->s->n; i++) {
            seg__rule_exec_fini(&x->when[i]);
            seg__rule_exec_fini(&x->keep[i]);
        }
    seg__free(&x->s->alloc, x->when);
    seg__free(&x->s->alloc, x->keep);
}

static int32_t set_exec_init(set_exec *x, const seg_tiers *s, const seg_frame *f, int with_keep,
                             char *err, size_t cap)
{
    x->s = s;
    x->when = seg__calloc_array(&s->alloc, s->n, sizeof *x->when);
    x->keep = seg__calloc_array(&s->alloc, s->n, sizeof *x->keep);
    if (!x->when || !x->keep) {
        set_exec_fini(x);
        seg__errf(err, cap, "out of memory");
        return SEG_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        const seg__tier *t = &s->t[i];
        int32_t rc = SEG_OK;
        if (t->when)
            rc = seg__rule_exec_init(&x->when[i], t->when, f, err, cap);
        if (rc == SEG_OK && with_keep && t->keep)
            rc = seg__rule_exec_init(&x->keep[i], t->keep, f, err, cap);
        if (rc != SEG_OK) {
            set_exec_fini(x);
            return rc;
        }
    }
    return SEG_OK;
}

/* Assigns rows [r0, r0 + len). Tiers are held as doubles (-1 = none yet)
 * so the first-match update is arithmetic and vectorises:
 * w += [w < 0] * match * (k + 1). */
SEG__HOT static void apply_block(const seg_tiers *tiers, set_exec *x, const int32_t *prev,
                                 size_t r0, size_t len, int32_t *out)
{
    size_t nt = tiers->n;
    int32_t catch_all = SEG_TIER_NONE;
    double w[B];
    for (size_t i = 0; i < len; i++)
        w[i] = -1.0;
    for (size_t k = 0; k < nt; k++) {
        double kk = (double)k + 1.0;
        if (!tiers->t[k].when) {
            /* Resolved in the integer pass below: a loop here does not
             * vectorise (gcc keeps a data-dependent branch per row). */
            catch_all = (int32_t)k;
            break;
        }
        const double *m = seg__rule_exec_block(&x->when[k], r0, len);
        for (size_t i = 0; i < len; i++)
            w[i] += ONE(w[i] < 0) * m[i] * kk;
    }
    for (size_t i = 0; i < len; i++) {
        int32_t v = (int32_t)w[i];
        out[i] = v < 0 ? catch_all : v;
    }
    if (prev) {
        /* Rows that would drop below their previous tier stay while that
         * tier's keep (or when) condition holds. As unsigned, -1 (no tier)
         * ranks below every tier. Branch-free so that the loops vectorise. */
        const int32_t *p = prev + r0;
        for (size_t k = 0; k < nt; k++) {
            const seg__tier *t = &tiers->t[k];
            int32_t kk = (int32_t)k;
            int32_t any = 0;
            for (size_t i = 0; i < len; i++)
                any |= (p[i] == kk) & ((uint32_t)out[i] > (uint32_t)kk);
            if (!any)
                continue;
            const double *m = !t->when ? NULL
                              : t->keep ? seg__rule_exec_block(&x->keep[k], r0, len)
                                        : seg__rule_exec_block(&x->when[k], r0, len);
            if (!m) {
                for (size_t i = 0; i < len; i++)
                    out[i] = ((p[i] == kk) & ((uint32_t)out[i] > (uint32_t)kk)) ? kk : out[i];
            } else {
                for (size_t i = 0; i < len; i++)
                    out[i] = ((p[i] == kk) & ((uint32_t)out[i] > (uint32_t)kk) & (m[i] != 0))
                                 ? kk
                                 : out[i];
            }
        }
    }
}

SEG_API int32_t seg_tiers_apply(const seg_tiers *tiers, const seg_frame *frame,
                                const int32_t *prev, int32_t *out_tier, char *err_buf,
                                size_t err_cap)
{
    if (!tiers || !frame || !out_tier) {
        seg__errf(err_buf, err_cap, "%s is NULL", !tiers ? "tiers" : !frame ? "frame" : "out_tier");
        return SEG_EINVAL;
    }
    size_t n = seg_frame_n_rows(frame), nt = tiers->n;
    if (prev) {
        uint32_t bad = 0; /* a reduction first: it vectorises, the search does not */
        for (size_t i = 0; i < n; i++)
            bad |= (uint32_t)prev[i] + 1u > (uint32_t)nt;
        for (size_t i = 0; bad && i < n; i++) {
            if (prev[i] < -1 || prev[i] >= (int32_t)nt) {
                seg__errf(err_buf, err_cap, "prev[%zu] = %d outside -1..%lld (%zu tiers)", i,
                          (int)prev[i], (long long)nt - 1, nt);
                return SEG_EDATA;
            }
        }
    }
    set_exec x;
    int32_t rc = set_exec_init(&x, tiers, frame, prev != NULL, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    /* Results are written block by block: nothing can fail from here on. */
    for (size_t r0 = 0; r0 < n; r0 += B)
        apply_block(tiers, &x, prev, r0, n - r0 < B ? n - r0 : B, out_tier + r0);
    set_exec_fini(&x);
    return SEG_OK;
}

/* ---- gaps ---------------------------------------------------------------------- */

SEG_API int32_t seg_tiers_gaps(const seg_tiers *tiers, const seg_frame *frame,
                               const int32_t *tier, double critical, int32_t *out_next,
                               int32_t *out_gap_column, double *out_gap, int32_t *out_n_failing,
                               uint8_t *out_critical, char *err_buf, size_t err_cap)
{
    if (!tiers || !frame || !tier) {
        seg__errf(err_buf, err_cap, "%s is NULL", !tiers ? "tiers" : !frame ? "frame" : "tier");
        return SEG_EINVAL;
    }
    if (!(critical >= 0)) {
        seg__errf(err_buf, err_cap, "critical must be >= 0");
        return SEG_EINVAL;
    }
    size_t n = seg_frame_n_rows(frame), nt = tiers->n;
    for (size_t i = 0; i < n; i++) {
        if (tier[i] < -1 || tier[i] >= (int32_t)nt) {
            seg__errf(err_buf, err_cap, "tier[%zu] = %d outside -1..%lld (%zu tiers)", i,
                      (int)tier[i], (long long)nt - 1, nt);
            return SEG_EDATA;
        }
    }
    set_exec x;
    int32_t rc = set_exec_init(&x, tiers, frame, 0, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    for (size_t r0 = 0; r0 < n; r0 += B) {
        size_t len = n - r0 < B ? n - r0 : B;
        for (size_t i = 0; i < len; i++) {
            int32_t t = tier[r0 + i];
            if (out_next) out_next[r0 + i] = t > 0 ? t - 1 : -1;
            if (out_gap_column) out_gap_column[r0 + i] = -1;
            if (out_gap) out_gap[r0 + i] = NAN;
            if (out_n_failing) out_n_failing[r0 + i] = t > 0 ? -1 : 0;
            if (out_critical) out_critical[r0 + i] = 0;
        }
        for (size_t k = 0; k + 1 < nt; k++) {
            /* Rows in tier k + 1 look up at tier k. */
            const seg_rule *r = tiers->t[k].when;
            int any = 0;
            for (size_t i = 0; i < len && !any; i++)
                any = tier[r0 + i] == (int32_t)(k + 1);
            if (!any || !r || !r->all_simple)
                continue;
            double best[B];
            int32_t bcol[B], nfail[B];
            uint8_t crit[B];
            for (size_t i = 0; i < len; i++) {
                best[i] = -1;
                bcol[i] = -1;
                nfail[i] = 0;
                crit[i] = 1;
            }
            double gapv[B];
            for (int32_t c = 0; c < r->n_simple; c++) {
                const seg__simple_cmp *sc = &r->simple[c];
                const double *v = seg__rule_exec_column(&x.when[k], sc->col, r0, len);
                double scale = fabs(sc->k) > 1 ? fabs(sc->k) : 1;
                for (size_t i = 0; i < len; i++) {
                    if (tier[r0 + i] != (int32_t)(k + 1))
                        continue;
                    double xv = v[i];
                    int pass;
                    switch (sc->cmp) {
                    case SEG__TOK_LT: pass = xv < sc->k; break;
                    case SEG__TOK_LE: pass = xv <= sc->k; break;
                    case SEG__TOK_GT: pass = xv > sc->k; break;
                    case SEG__TOK_GE: pass = xv >= sc->k; break;
                    default: pass = xv == sc->k; break;
                    }
                    if (pass)
                        continue;
                    nfail[i]++;
                    double g = sc->k - xv; /* NaN when the value is missing */
                    double rel = g == g ? fabs(g) / scale : INFINITY;
                    if (!(g == g) || fabs(g) > critical * fabs(sc->k))
                        crit[i] = 0;
                    if (rel > best[i]) {
                        best[i] = rel;
                        bcol[i] = (int32_t)x.when[k].bd[sc->col].frame_col;
                        gapv[i] = g;
                    }
                }
            }
            for (size_t i = 0; i < len; i++) {
                if (tier[r0 + i] != (int32_t)(k + 1))
                    continue;
                if (out_gap_column) out_gap_column[r0 + i] = bcol[i];
                if (out_gap) out_gap[r0 + i] = bcol[i] >= 0 ? gapv[i] : NAN;
                if (out_n_failing) out_n_failing[r0 + i] = nfail[i];
                if (out_critical) out_critical[r0 + i] = (uint8_t)(nfail[i] > 0 && crit[i]);
            }
        }
    }
    set_exec_fini(&x);
    return SEG_OK;
}

/* ---- coverage -------------------------------------------------------------------- */

/* The set of values a conjunction of simple comparisons allows for one
 * column: an interval with open or closed ends. */
typedef struct interval {
    double lo, hi;
    int lo_open, hi_open;
} interval;

static interval column_interval(const seg_rule *r, int32_t col)
{
    interval v = {-INFINITY, INFINITY, 0, 0};
    for (int32_t i = 0; i < r->n_simple; i++) {
        const seg__simple_cmp *c = &r->simple[i];
        if (c->col != col)
            continue;
        double k = c->k;
        int lo = c->cmp == SEG__TOK_GT || c->cmp == SEG__TOK_GE || c->cmp == SEG__TOK_EQ;
        int hi = c->cmp == SEG__TOK_LT || c->cmp == SEG__TOK_LE || c->cmp == SEG__TOK_EQ;
        if (lo && (k > v.lo || (k == v.lo && c->cmp == SEG__TOK_GT))) {
            v.lo = k;
            v.lo_open = c->cmp == SEG__TOK_GT;
        }
        if (hi && (k < v.hi || (k == v.hi && c->cmp == SEG__TOK_LT))) {
            v.hi = k;
            v.hi_open = c->cmp == SEG__TOK_LT;
        }
    }
    return v;
}

/* Whether interval a lies inside b. */
static int inside(interval a, interval b)
{
    int lo_ok = a.lo > b.lo || (a.lo == b.lo && (a.lo_open || !b.lo_open));
    int hi_ok = a.hi < b.hi || (a.hi == b.hi && (a.hi_open || !b.hi_open));
    return lo_ok && hi_ok;
}

/* Whether every row satisfying rule a satisfies rule b (both simple). */
static int implies(const seg_rule *a, const seg_rule *b)
{
    for (int32_t i = 0; i < b->n_simple; i++) {
        const char *name = b->cols[b->simple[i].col].name;
        int32_t ca = -1;
        for (int32_t j = 0; j < a->n_cols; j++)
            if (strcmp(a->cols[j].name, name) == 0)
                ca = j;
        if (ca < 0)
            return 0; /* a does not constrain the column b needs */
        if (!inside(column_interval(a, ca), column_interval(b, b->simple[i].col)))
            return 0;
    }
    return 1;
}

SEG_API int32_t seg_tiers_unreachable(const seg_tiers *tiers, int32_t tier, int32_t *out_by)
{
    if (!tiers || !out_by)
        return SEG_EINVAL;
    if (tier < 0 || (size_t)tier >= tiers->n)
        return SEG_ERANGE;
    const seg_rule *me = tiers->t[tier].when;
    for (int32_t j = 0; j < tier; j++) {
        const seg_rule *earlier = tiers->t[j].when;
        if (!earlier || (me && earlier->all_simple && me->all_simple && implies(me, earlier))) {
            *out_by = j;
            return SEG_OK;
        }
    }
    *out_by = -1;
    return SEG_OK;
}

/* ---- migration --------------------------------------------------------------------- */

SEG_API int32_t seg_tiers_migration(const int32_t *from, const int32_t *to, size_t n,
                                    int32_t n_tiers, int64_t *out_matrix, double *out_up,
                                    double *out_stay, double *out_down, char *err_buf,
                                    size_t err_cap)
{
    if (n > 0 && (!from || !to)) {
        seg__errf(err_buf, err_cap, "%s is NULL", !from ? "from" : "to");
        return SEG_EINVAL;
    }
    if (n_tiers < 1 || n_tiers > 1024) {
        seg__errf(err_buf, err_cap, "n_tiers = %d outside 1..1024", (int)n_tiers);
        return SEG_ERANGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (from[i] < -1 || from[i] >= n_tiers || to[i] < -1 || to[i] >= n_tiers) {
            int bad_from = from[i] < -1 || from[i] >= n_tiers;
            seg__errf(err_buf, err_cap, "%s[%zu] = %d outside -1..%d", bad_from ? "from" : "to",
                      i, (int)(bad_from ? from[i] : to[i]), (int)n_tiers - 1);
            return SEG_EDATA;
        }
    }
    int64_t moves[1024][3]; /* up, stay, down per from-tier */
    memset(moves, 0, (size_t)n_tiers * sizeof *moves);
    if (out_matrix)
        memset(out_matrix, 0, (size_t)n_tiers * (size_t)n_tiers * sizeof *out_matrix);
    for (size_t i = 0; i < n; i++) {
        int32_t a = from[i], b = to[i];
        if (a < 0 || b < 0)
            continue;
        moves[a][b < a ? 0 : b == a ? 1 : 2]++;
        if (out_matrix)
            out_matrix[(size_t)a * (size_t)n_tiers + (size_t)b]++;
    }
    for (int32_t k = 0; k < n_tiers; k++) {
        int64_t tot = moves[k][0] + moves[k][1] + moves[k][2];
        double d = tot ? (double)tot : NAN;
        if (out_up) out_up[k] = (double)moves[k][0] / d;
        if (out_stay) out_stay[k] = (double)moves[k][1] / d;
        if (out_down) out_down[k] = (double)moves[k][2] / d;
    }
    return SEG_OK;
}
