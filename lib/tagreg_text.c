/* SPDX-License-Identifier: MIT */
/* The registry's text form: load and save (grammar in doc/tags.md). */
#include <stdio.h>
#include <string.h>

#include "lexer.h"
#include "tagreg-private.h"

typedef struct loader {
    seg__lexer lx;
    seg_tagreg *reg;
    const char *source;
    char *err;
    size_t cap;
    int32_t rc;
    /* The tag being read and what its lines said. */
    seg__tag *tag;
    int32_t tag_id;
    seg__token tag_tok;
    int seen[8];           /* single-valued attributes given, by keyword index */
    int32_t kind, source_v, status;
    seg__token kind_tok;
} loader;

static void lerr(loader *l, const seg__token *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void lerr(loader *l, const seg__token *t, const char *fmt, ...)
{
    if (l->rc != SEG_OK)
        return;
    char msg[SEG__ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    seg__errf(l->err, l->cap, "%s:%zu:%zu: %s", l->source, t->line, t->col, msg);
    l->rc = SEG_EPARSE;
}

/* Reports a failed builder call (its message is in reg->err) at token t. */
static void builder_err(loader *l, const seg__token *t, int32_t rc)
{
    lerr(l, t, "%s", l->reg->err);
    if (rc == SEG_ENOMEM)
        l->rc = SEG_ENOMEM;
}

static const char *describe(const loader *l, const seg__token *t, char *buf, size_t cap)
{
    if (t->kind == SEG__TOK_NEWLINE || t->kind == SEG__TOK_END)
        return "end of line";
    size_t n = seg__utf8_prefix(l->lx.text + t->start, t->len, 40);
    snprintf(buf, cap, "'%.*s%s'", (int)n, l->lx.text + t->start, n < t->len ? "..." : "");
    return buf;
}

static seg__token next(loader *l)
{
    seg__token t = seg__lex_next(&l->lx);
    if (t.kind == SEG__TOK_ERROR)
        lerr(l, &t, "%s", l->lx.error);
    return t;
}

static void end_of_line(loader *l, const char *after)
{
    if (l->rc != SEG_OK)
        return;
    seg__token t = next(l);
    if (t.kind != SEG__TOK_NEWLINE && t.kind != SEG__TOK_END) {
        char b[64];
        lerr(l, &t, "unexpected %s after %s", describe(l, &t, b, sizeof b), after);
    }
}

/* Reads a positive integer token up to max; returns -1 after an error. */
static int64_t integer(loader *l, const char *what, int64_t max, seg__token *tok)
{
    seg__token t = next(l);
    *tok = t;
    if (l->rc != SEG_OK)
        return -1;
    const char *s = l->lx.text + t.start;
    int digits = t.kind == SEG__TOK_NUMBER;
    for (size_t i = 0; digits && i < t.len; i++)
        digits = s[i] >= '0' && s[i] <= '9';
    if (!digits || t.number < 1 || t.number > (double)max) {
        char b[64];
        lerr(l, &t, "%s must be an integer from 1 to %lld, not %s", what, (long long)max,
             describe(l, &t, b, sizeof b));
        return -1;
    }
    return (int64_t)t.number;
}

static int expect_string(loader *l, seg__token *t, const char *what)
{
    *t = next(l);
    if (l->rc != SEG_OK)
        return -1;
    if (t->kind != SEG__TOK_STRING) {
        char b[64];
        lerr(l, t, "expected %s in double quotes but found %s", what, describe(l, t, b, sizeof b));
        return -1;
    }
    return 0;
}

/* The content of a string token, in a buffer from the registry's allocator. */
static char *token_text(loader *l, const seg__token *t)
{
    size_t need = seg__tok_text(&l->lx, t, NULL, 0);
    char *s = seg__malloc(&l->reg->alloc, need);
    if (!s) {
        lerr(l, t, "out of memory");
        l->rc = SEG_ENOMEM;
        return NULL;
    }
    seg__tok_text(&l->lx, t, s, need);
    return s;
}

static const char *const kinds[] = {"fact", "rule", "model"};
static const char *const sources[] = {"manual", "derived"};
static const char *const statuses[] = {"draft", "online", "offline", "disabled"};

static int32_t word_value(loader *l, const char *what, const char *const *words, int32_t n,
                          seg__token *out)
{
    seg__token t = next(l);
    if (l->rc != SEG_OK)
        return -1;
    for (int32_t i = 0; i < n; i++)
        if (seg__tok_is_word(&l->lx, &t, words[i])) {
            *out = t;
            return i;
        }
    char b[64], list[64];
    size_t o = 0;
    for (int32_t i = 0; i < n; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", words[i]);
    lerr(l, &t, "%s must be one of %s, not %s", what, list, describe(l, &t, b, sizeof b));
    return -1;
}

/* Checks and applies what the lines of the current tag said. */
static void finish_tag(loader *l)
{
    if (!l->tag || l->rc != SEG_OK)
        return;
    seg__tag *t = l->tag;
    int has_rule = t->text[SEG_TAG_RULE_TEXT] != NULL;
    if (l->kind >= 0) {
        if (l->kind == SEG_TAG_RULE && !has_rule)
            lerr(l, &l->kind_tok, "tag %d is of kind rule but has no 'when' line", (int)t->id);
        else if (l->kind != SEG_TAG_RULE && has_rule)
            lerr(l, &l->kind_tok, "tag %d has a 'when' line, so its kind is rule, not %s",
                 (int)t->id, kinds[l->kind]);
        else
            t->kind = l->kind;
    }
    if (l->source_v >= 0)
        t->source = l->source_v;
    else
        t->source = t->kind == SEG_TAG_FACT ? SEG_TAG_MANUAL : SEG_TAG_DERIVED;
    if (l->status >= 0)
        t->status = l->status;
    l->tag = NULL;
}

enum { A_CATEGORY, A_DESC, A_OWNER, A_GROUP, A_KIND, A_SOURCE, A_STATUS, A_WHEN };

static void text_attr(loader *l, const seg__token *kw, int32_t field)
{
    seg__token t;
    if (field == SEG_TAG_GROUP) {
        t = next(l);
        if (l->rc == SEG_OK && t.kind != SEG__TOK_STRING && !(t.kind == SEG__TOK_IDENT && !t.quoted)) {
            char b[64];
            lerr(l, &t, "expected a group name but found %s", describe(l, &t, b, sizeof b));
        }
    } else if (expect_string(l, &t, "a text") < 0) {
        return;
    }
    if (l->rc != SEG_OK)
        return;
    char *s = token_text(l, &t);
    if (!s)
        return;
    int32_t rc = seg__tagreg_set_text(l->reg, l->tag, field, s, strlen(s));
    seg__free(&l->reg->alloc, s);
    if (rc != SEG_OK)
        builder_err(l, &t, rc);
    (void)kw;
    end_of_line(l, "the value");
}

static void when_attr(loader *l, const seg__token *kw)
{
    const char *s = l->lx.text;
    size_t a = kw->start + kw->len, e;
    while (a < l->lx.len && (s[a] == ' ' || s[a] == '\t'))
        a++;
    e = a;
    while (e < l->lx.len && s[e] != '\n')
        e++;
    size_t b = e;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
        b--;
    seg__token at = *kw;
    at.col = a - l->lx.line_start + 1;
    if (a == b) {
        lerr(l, &at, "'when' needs a rule");
        return;
    }
    /* Tabs outside strings are spaces to the rule language; store spaces. */
    char *rule = seg__malloc(&l->reg->alloc, b - a + 1);
    if (!rule) {
        lerr(l, &at, "out of memory");
        l->rc = SEG_ENOMEM;
        return;
    }
    for (size_t i = a; i < b; i++)
        rule[i - a] = s[i] == '\t' ? ' ' : s[i];
    rule[b - a] = '\0';
    int32_t rc = seg__tagreg_set_text(l->reg, l->tag, SEG_TAG_RULE_TEXT, rule, b - a);
    seg__free(&l->reg->alloc, rule);
    if (rc != SEG_OK) {
        builder_err(l, &at, rc);
        return;
    }
    l->tag->rule_line = kw->line;
    l->tag->rule_col = at.col;
    l->lx.pos = e; /* the newline is the next token */
}

static void parse_line(loader *l, const seg__token *kw, int64_t *next_id, seg__token *next_tok)
{
    static const char *const attrs[] = {"category", "desc", "owner", "group",
                                        "kind", "source", "status", "when"};
    char b[64];
    if (kw->kind != SEG__TOK_IDENT || kw->quoted) {
        lerr(l, kw, "expected a keyword (tag, alias, category, ...) but found %s",
             describe(l, kw, b, sizeof b));
        return;
    }
    if (seg__tok_is_word(&l->lx, kw, "next_id")) {
        if (*next_id) {
            lerr(l, kw, "second 'next_id' line");
            return;
        }
        *next_id = integer(l, "next_id", (int64_t)SEG_TAG_ID_MAX + 1, next_tok);
        end_of_line(l, "the id");
        return;
    }
    if (seg__tok_is_word(&l->lx, kw, "tag")) {
        finish_tag(l);
        seg__token id_tok, name;
        int64_t id = integer(l, "a tag id", SEG_TAG_ID_MAX, &id_tok);
        if (id < 0 || expect_string(l, &name, "the tag's name") < 0)
            return;
        char *s = token_text(l, &name);
        if (!s)
            return;
        int32_t out_id;
        int32_t rc = seg__tagreg_add(l->reg, id, s, strlen(s), &out_id);
        seg__free(&l->reg->alloc, s);
        if (rc != SEG_OK) {
            builder_err(l, rc == SEG_EEXISTS && strstr(l->reg->err, "tag id") ? &id_tok : &name, rc);
            return;
        }
        l->tag = &l->reg->tags[seg__tagreg_index(l->reg, out_id)];
        l->tag_tok = *kw;
        memset(l->seen, 0, sizeof l->seen);
        l->kind = l->source_v = l->status = -1;
        end_of_line(l, "the tag's name");
        return;
    }
    int is_alias = seg__tok_is_word(&l->lx, kw, "alias");
    int a = -1;
    for (int i = 0; i < 8; i++)
        if (seg__tok_is_word(&l->lx, kw, attrs[i]))
            a = i;
    if (!is_alias && a < 0) {
        lerr(l, kw, "unknown keyword %s", describe(l, kw, b, sizeof b));
        return;
    }
    if (!l->tag) {
        lerr(l, kw, "'%.*s' line before the first 'tag' line", (int)kw->len, l->lx.text + kw->start);
        return;
    }
    if (is_alias) {
        seg__token t;
        if (expect_string(l, &t, "an alias") < 0)
            return;
        for (;;) {
            char *s = token_text(l, &t);
            if (!s)
                return;
            int32_t rc = seg__tagreg_add_alias(l->reg, l->tag, s, strlen(s));
            seg__free(&l->reg->alloc, s);
            if (rc != SEG_OK) {
                builder_err(l, &t, rc);
                return;
            }
            t = next(l);
            if (l->rc != SEG_OK || t.kind == SEG__TOK_NEWLINE || t.kind == SEG__TOK_END)
                return;
            if (t.kind != SEG__TOK_STRING) {
                lerr(l, &t, "expected an alias in double quotes but found %s",
                     describe(l, &t, b, sizeof b));
                return;
            }
        }
    }
    if (l->seen[a]) {
        lerr(l, kw, "second '%s' line for tag %d", attrs[a], (int)l->tag->id);
        return;
    }
    l->seen[a] = 1;
    switch (a) {
    case A_CATEGORY: text_attr(l, kw, SEG_TAG_CATEGORY); break;
    case A_DESC: text_attr(l, kw, SEG_TAG_DESCRIPTION); break;
    case A_OWNER: text_attr(l, kw, SEG_TAG_OWNER); break;
    case A_GROUP: text_attr(l, kw, SEG_TAG_GROUP); break;
    case A_KIND:
        l->kind = word_value(l, "kind", kinds, 3, &l->kind_tok);
        end_of_line(l, "the kind");
        break;
    case A_SOURCE: {
        seg__token t;
        l->source_v = word_value(l, "source", sources, 2, &t);
        end_of_line(l, "the source");
        break;
    }
    case A_STATUS: {
        seg__token t;
        l->status = word_value(l, "status", statuses, 4, &t);
        end_of_line(l, "the status");
        break;
    }
    default: when_attr(l, kw); break;
    }
}

SEG_API int32_t seg_tagreg_load(seg_tagreg **out, const char *text, size_t len,
                                const char *source, const seg_allocator *alloc, char *err_buf,
                                size_t err_cap)
{
    if (!out || !text) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out ? "out" : "text");
        return SEG_EINVAL;
    }
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    seg_tagreg *reg;
    rc = seg__tagreg_create(&reg, &a);
    if (rc != SEG_OK) {
        seg__errf(err_buf, err_cap, "out of memory");
        return rc;
    }
    loader l;
    memset(&l, 0, sizeof l);
    l.reg = reg;
    l.source = source ? source : "tags";
    l.err = err_buf;
    l.cap = err_cap;
    reg->source = seg__strdup(&reg->alloc, l.source);
    if (!reg->source) {
        seg__errf(err_buf, err_cap, "out of memory");
        seg__tagreg_destroy(reg);
        return SEG_ENOMEM;
    }
    seg__lex_init(&l.lx, text, len, 1);
    l.rc = seg__lex_skip_header(&l.lx, "libsegment-tags", l.source, err_buf, err_cap);
    int64_t next_id = 0;
    seg__token next_tok;
    memset(&next_tok, 0, sizeof next_tok);
    while (l.rc == SEG_OK) {
        seg__token t = next(&l);
        if (l.rc != SEG_OK || t.kind == SEG__TOK_END)
            break;
        if (t.kind == SEG__TOK_NEWLINE)
            continue;
        parse_line(&l, &t, &next_id, &next_tok);
    }
    finish_tag(&l);
    if (l.rc == SEG_OK && next_id) {
        int32_t max = reg->n ? reg->tags[reg->n - 1].id : 0;
        if (next_id <= max)
            lerr(&l, &next_tok, "next_id %lld is not above the largest tag id %d",
                 (long long)next_id, (int)max);
        else
            reg->next_id = next_id;
    }
    if (l.rc == SEG_OK)
        l.rc = seg__tagreg_freeze(reg, err_buf, err_cap);
    if (l.rc != SEG_OK) {
        seg__tagreg_destroy(reg);
        return l.rc;
    }
    *out = reg;
    return SEG_OK;
}

/* ---- saving ---------------------------------------------------------------------- */

static size_t render(const seg_tagreg *reg, char *buf, size_t cap)
{
    size_t len = 0;
    char num[32];
    seg__put_str(buf, cap, &len, "libsegment-tags 1\n");
    snprintf(num, sizeof num, "next_id %lld\n", (long long)reg->next_id);
    seg__put_str(buf, cap, &len, num);
    for (size_t i = 0; i < reg->n; i++) {
        const seg__tag *t = &reg->tags[i];
        snprintf(num, sizeof num, "tag %d ", (int)t->id);
        seg__put_str(buf, cap, &len, num);
        seg__put_quoted(buf, cap, &len, t->name);
        seg__put_str(buf, cap, &len, "\n");
        if (t->n_aliases) {
            seg__put_str(buf, cap, &len, "  alias");
            for (size_t j = 0; j < t->n_aliases; j++) {
                seg__put_str(buf, cap, &len, " ");
                seg__put_quoted(buf, cap, &len, t->aliases[j]);
            }
            seg__put_str(buf, cap, &len, "\n");
        }
        if (t->text[SEG_TAG_CATEGORY]) {
            seg__put_str(buf, cap, &len, "  category ");
            seg__put_quoted(buf, cap, &len, t->text[SEG_TAG_CATEGORY]);
            seg__put_str(buf, cap, &len, "\n");
        }
        if (t->kind == SEG_TAG_MODEL)
            seg__put_str(buf, cap, &len, "  kind model\n");
        int32_t def = t->kind == SEG_TAG_FACT ? SEG_TAG_MANUAL : SEG_TAG_DERIVED;
        if (t->source != def) {
            seg__put_str(buf, cap, &len, "  source ");
            seg__put_str(buf, cap, &len, sources[t->source]);
            seg__put_str(buf, cap, &len, "\n");
        }
        if (t->status != SEG_TAG_ONLINE) {
            seg__put_str(buf, cap, &len, "  status ");
            seg__put_str(buf, cap, &len, statuses[t->status]);
            seg__put_str(buf, cap, &len, "\n");
        }
        if (t->text[SEG_TAG_GROUP] && seg__is_identifier(t->text[SEG_TAG_GROUP])) {
            seg__put_str(buf, cap, &len, "  group ");
            seg__put_str(buf, cap, &len, t->text[SEG_TAG_GROUP]);
            seg__put_str(buf, cap, &len, "\n");
        }
        static const struct {
            int32_t field;
            const char *line;
        } rest[] = {{SEG_TAG_GROUP, "  group "},
                    {SEG_TAG_OWNER, "  owner "},
                    {SEG_TAG_DESCRIPTION, "  desc "}};
        for (size_t k = 0; k < sizeof rest / sizeof *rest; k++) {
            if (!t->text[rest[k].field] ||
                (rest[k].field == SEG_TAG_GROUP && seg__is_identifier(t->text[SEG_TAG_GROUP])))
                continue;
            seg__put_str(buf, cap, &len, rest[k].line);
            seg__put_quoted(buf, cap, &len, t->text[rest[k].field]);
            seg__put_str(buf, cap, &len, "\n");
        }
        if (t->text[SEG_TAG_RULE_TEXT]) {
            seg__put_str(buf, cap, &len, "  when ");
            seg__put_str(buf, cap, &len, t->text[SEG_TAG_RULE_TEXT]);
            seg__put_str(buf, cap, &len, "\n");
        }
    }
    return len;
}

SEG_API int32_t seg_tagreg_save(const seg_tagreg *reg, char *buf, size_t cap, size_t *out_len)
{
    if (!reg || !out_len)
        return SEG_EINVAL;
    size_t need = render(reg, NULL, 0);
    *out_len = need;
    if (!buf)
        return SEG_OK;
    if (cap <= need)
        return SEG_EBUFSZ;
    render(reg, buf, cap);
    buf[need] = '\0';
    return SEG_OK;
}
