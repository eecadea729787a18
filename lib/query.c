/* SPDX-License-Identifier: MIT */
/* Audience queries: and/or/not over tags, run chunk by chunk. */
#include <stdio.h>
#include <string.h>

#include "lexer.h"
#include "tagset-private.h"
#include "segment/query.h"

#define W SEG__CHUNK_WORDS
#define MAX_DEPTH 256

enum { Q_TAG, Q_TRUE, Q_FALSE, Q_NOT, Q_AND, Q_OR, Q_ANDNOT };

typedef struct qop {
    int32_t op;
    int32_t ti; /* Q_TAG: registry index */
} qop;

struct seg_query {
    seg__alloc alloc;
    seg_tagreg *reg; /* a reference */
    qop *code;       /* postfix */
    size_t n, cap;
    size_t stack; /* deepest evaluation stack */
};

/* ---- compiling --------------------------------------------------------------- */

typedef struct qparser {
    seg__lexer lx;
    seg__token tok;
    seg_query *q;
    const char *source;
    char *err;
    size_t cap;
    int32_t rc;
    size_t sp, depth;
} qparser;

static void qerr(qparser *p, const seg__token *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void qerr(qparser *p, const seg__token *t, const char *fmt, ...)
{
    if (p->rc != SEG_OK)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    seg__errf(p->err, p->cap, "%s:%zu:%zu: %s", p->source, t->line, t->col, msg);
    p->rc = SEG_EPARSE;
}

static const char *describe(const qparser *p, const seg__token *t, char *buf, size_t cap)
{
    if (t->kind == SEG__TOK_END)
        return "end of query";
    size_t n = seg__utf8_prefix(p->lx.text + t->start, t->len, 40);
    snprintf(buf, cap, "'%.*s%s'", (int)n, p->lx.text + t->start, n < t->len ? "..." : "");
    return buf;
}

static void advance(qparser *p)
{
    p->tok = seg__lex_next(&p->lx);
    if (p->tok.kind != SEG__TOK_ERROR)
        return;
    char b[64];
    const char *c = p->lx.text + p->tok.start;
    if (p->tok.len == 1 && (*c == '&' || *c == '|'))
        qerr(p, &p->tok, "'%c' is not an operator: write '%s'", *c, *c == '&' ? "and" : "or");
    else if (p->lx.error[0] == '\'')
        qerr(p, &p->tok, "%s", p->lx.error);
    else
        qerr(p, &p->tok, "%s: %s", p->lx.error, describe(p, &p->tok, b, sizeof b));
}

static void emit(qparser *p, int32_t op, int32_t ti)
{
    if (p->rc != SEG_OK)
        return;
    seg_query *q = p->q;
    if (op == Q_AND && q->n > 0 && q->code[q->n - 1].op == Q_NOT) {
        q->code[q->n - 1].op = Q_ANDNOT; /* "a and not b" in one pass */
        p->sp--;
        return;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        qop *c = seg__realloc_array(&q->alloc, q->code, cap, sizeof *c);
        if (!c) {
            p->rc = SEG_ENOMEM;
            seg__errf(p->err, p->cap, "%s: out of memory", p->source);
            return;
        }
        q->code = c;
        q->cap = cap;
    }
    q->code[q->n].op = op;
    q->code[q->n++].ti = ti;
    if (op <= Q_FALSE) {
        if (++p->sp > q->stack)
            q->stack = p->sp;
    } else if (op != Q_NOT) {
        p->sp--;
    }
}

static int is_keyword(const qparser *p, const seg__token *t)
{
    static const char *const kw[] = {"and", "or", "not", "true", "false"};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
        if (seg__tok_is_word(&p->lx, t, kw[i]))
            return 1;
    return 0;
}

static void parse_or(qparser *p);

static void name(qparser *p)
{
    seg__token t = p->tok;
    char text[SEG_TAG_NAME_MAX + 2];
    size_t need = seg__tok_text(&p->lx, &t, text, sizeof text);
    size_t len = need - 1 < sizeof text - 1 ? need - 1 : sizeof text - 1;
    int32_t id = need <= sizeof text ? seg__tagreg_resolve(p->q->reg, text, len) : 0;
    if (!id) {
        char hint[1024] = "";
        seg__tagreg_hint(p->q->reg, text, hint, sizeof hint);
        size_t n = seg__utf8_prefix(text, len, 80);
        qerr(p, &t, "unknown tag '%.*s%s'%s", (int)n, text, n < len ? "..." : "", hint);
        return;
    }
    ptrdiff_t ti = seg__tagreg_index(p->q->reg, id);
    const seg__tag *tag = &p->q->reg->tags[ti];
    if (tag->status == SEG_TAG_DISABLED) {
        qerr(p, &t, "tag '%s' (id %d) is disabled", tag->name, (int)id);
        return;
    }
    emit(p, Q_TAG, (int32_t)ti);
    advance(p);
}

static void parse_unary(qparser *p)
{
    if (p->rc != SEG_OK)
        return;
    if (++p->depth > MAX_DEPTH) {
        qerr(p, &p->tok, "nesting too deep (more than %d levels)", MAX_DEPTH);
        return;
    }
    seg__token t = p->tok;
    char b[64];
    if (seg__tok_is_word(&p->lx, &t, "not")) {
        advance(p);
        parse_unary(p);
        emit(p, Q_NOT, 0);
    } else if (t.kind == SEG__TOK_LPAREN) {
        advance(p);
        parse_or(p);
        if (p->rc == SEG_OK && p->tok.kind != SEG__TOK_RPAREN)
            qerr(p, &p->tok, "expected ')' but found %s", describe(p, &p->tok, b, sizeof b));
        advance(p);
    } else if (seg__tok_is_word(&p->lx, &t, "true") || seg__tok_is_word(&p->lx, &t, "false")) {
        emit(p, seg__tok_is_word(&p->lx, &t, "true") ? Q_TRUE : Q_FALSE, 0);
        advance(p);
    } else if ((t.kind == SEG__TOK_IDENT && !is_keyword(p, &t)) || t.kind == SEG__TOK_STRING) {
        name(p);
    } else {
        qerr(p, &t, "expected a tag name, 'not' or '(' but found %s", describe(p, &t, b, sizeof b));
    }
    p->depth--;
}

static void parse_and(qparser *p)
{
    parse_unary(p);
    while (p->rc == SEG_OK && seg__tok_is_word(&p->lx, &p->tok, "and")) {
        advance(p);
        parse_unary(p);
        emit(p, Q_AND, 0);
    }
}

/* Nesting is counted in parse_unary, which every '(' and 'not' goes through. */
static void parse_or(qparser *p)
{
    parse_and(p);
    while (p->rc == SEG_OK && seg__tok_is_word(&p->lx, &p->tok, "or")) {
        advance(p);
        parse_and(p);
        emit(p, Q_OR, 0);
    }
}

SEG_API int32_t seg_query_compile(seg_query **out, const char *text, size_t len,
                                  const seg_tagreg *reg, const char *source,
                                  const seg_allocator *alloc, char *err_buf, size_t err_cap)
{
    if (!out || !text || !reg) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out ? "out" : !text ? "text" : "reg");
        return SEG_EINVAL;
    }
    if (!reg->frozen) {
        seg__errf(err_buf, err_cap, "the registry is not frozen");
        return SEG_ESTATE;
    }
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    seg_query *q = seg__malloc(&a, sizeof *q);
    if (!q) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    memset(q, 0, sizeof *q);
    q->alloc = a;
    q->reg = (seg_tagreg *)reg;
    qparser p;
    memset(&p, 0, sizeof p);
    p.q = q;
    p.source = source ? source : "query";
    p.err = err_buf;
    p.cap = err_cap;
    seg__lex_init(&p.lx, text, len, 0);
    p.lx.utf8_words = 1;
    advance(&p);
    if (p.rc == SEG_OK && p.tok.kind == SEG__TOK_END)
        qerr(&p, &p.tok, "empty query");
    parse_or(&p);
    if (p.rc == SEG_OK && p.tok.kind != SEG__TOK_END) {
        char b[64];
        qerr(&p, &p.tok, "unexpected %s after a complete query", describe(&p, &p.tok, b, sizeof b));
    }
    if (p.rc != SEG_OK) {
        seg__free(&a, q->code);
        seg__free(&a, q);
        return p.rc;
    }
    seg__tagreg_ref(q->reg);
    *out = q;
    return SEG_OK;
}

SEG_API void seg_query_free(seg_query *query)
{
    if (!query)
        return;
    seg__alloc a = query->alloc;
    seg_tagreg_free(query->reg);
    seg__free(&a, query->code);
    seg__free(&a, query);
}

/* ---- running ----------------------------------------------------------------- */

/* A chunk's intermediate result: no rows, every row, a bitmap, or a
 * sorted list of row offsets (kept as long as it is cheaper than words). */
enum { S_EMPTY, S_FULL, S_WORDS, S_LIST };

typedef struct slot {
    int state;
    const uint64_t *w;    /* S_WORDS */
    const uint16_t *list; /* S_LIST */
    size_t n;             /* S_LIST length */
    uint64_t *buf;        /* this stack position's buffer (W words) */
} slot;

typedef struct runner {
    const seg_query *q;
    const seg_tagset *set;
    slot *st;
    uint64_t *mem;
    uint64_t *spare; /* results are written here, then swapped into the slot */
} runner;

static int32_t runner_init(runner *r, const seg_query *q, const seg_tagset *set, char *err,
                           size_t cap)
{
    if (!q || !set) {
        seg__errf(err, cap, "%s is NULL", !q ? "query" : "set");
        return SEG_EINVAL;
    }
    if (set->reg != q->reg) {
        seg__errf(err, cap, "the tag set uses another registry than the query");
        return SEG_EINVAL;
    }
    r->q = q;
    r->set = set;
    r->st = seg__malloc_array(&q->alloc, q->stack, sizeof *r->st);
    r->mem = seg__malloc_array(&q->alloc, (q->stack + 1) * W, sizeof *r->mem);
    if (!r->st || !r->mem) {
        seg__free(&q->alloc, r->st);
        seg__free(&q->alloc, r->mem);
        seg__errf(err, cap, "out of memory");
        return SEG_ENOMEM;
    }
    for (size_t i = 0; i < q->stack; i++)
        r->st[i].buf = r->mem + i * W;
    r->spare = r->mem + q->stack * W;
    return SEG_OK;
}

static void runner_fini(runner *r)
{
    seg__free(&r->q->alloc, r->st);
    seg__free(&r->q->alloc, r->mem);
}

/* Makes the spare buffer slot a's own and returns it. */
static uint64_t *take_spare(runner *r, slot *a)
{
    uint64_t *o = r->spare;
    r->spare = a->buf;
    a->buf = o;
    return o;
}

static int has(const uint64_t *w, uint16_t i)
{
    return (int)((w[i >> 6] >> (i & 63)) & 1);
}

/* Words of a slot (a list is spread into `into`). */
static const uint64_t *words_of(const slot *a, uint64_t *into)
{
    if (a->state == S_WORDS)
        return a->w;
    memset(into, 0, W * sizeof *into);
    for (size_t i = 0; i < a->n; i++)
        into[a->list[i] >> 6] |= (uint64_t)1 << (a->list[i] & 63);
    return into;
}

/* a = a and b (neg: a and not b), for a and b each a list or words. */
static void and_slots(runner *r, slot *a, const slot *b, int neg)
{
    if (a->state == S_LIST) { /* filter the list: the result is no longer */
        uint16_t *o = (uint16_t *)take_spare(r, a);
        size_t k = 0;
        if (b->state == S_WORDS) {
            for (size_t i = 0; i < a->n; i++)
                if (has(b->w, a->list[i]) != neg)
                    o[k++] = a->list[i];
        } else {
            size_t j = 0;
            for (size_t i = 0; i < a->n; i++) {
                while (j < b->n && b->list[j] < a->list[i])
                    j++;
                if ((j < b->n && b->list[j] == a->list[i]) != neg)
                    o[k++] = a->list[i];
            }
        }
        a->list = o;
        a->n = k;
        a->state = k ? S_LIST : S_EMPTY;
        return;
    }
    if (b->state == S_LIST && !neg) { /* words and list: filter the list */
        const uint64_t *aw = a->w; /* stays intact: the swap only moves buffers */
        uint16_t *o = (uint16_t *)take_spare(r, a);
        size_t k = 0;
        for (size_t i = 0; i < b->n; i++)
            if (has(aw, b->list[i]))
                o[k++] = b->list[i];
        a->list = o;
        a->n = k;
        a->state = k ? S_LIST : S_EMPTY;
        return;
    }
    uint64_t *o = take_spare(r, a);
    if (b->state == S_LIST) { /* words and not list: clear the listed rows */
        memcpy(o, a->w, W * sizeof *o);
        for (size_t i = 0; i < b->n; i++)
            o[b->list[i] >> 6] &= ~((uint64_t)1 << (b->list[i] & 63));
    } else if (neg) {
        for (size_t k = 0; k < W; k++)
            o[k] = a->w[k] & ~b->w[k];
    } else {
        for (size_t k = 0; k < W; k++)
            o[k] = a->w[k] & b->w[k];
    }
    a->w = o;
}

/* Evaluates chunk c. The result is EMPTY, FULL, a list, or words whose
 * bits past the chunk's rows are 0. */
SEG__HOT static slot run_chunk(runner *r, size_t c)
{
    const seg_tagset *s = r->set;
    slot *st = r->st;
    size_t sp = 0;
    for (size_t i = 0; i < r->q->n; i++) {
        const qop *op = &r->q->code[i];
        switch (op->op) {
        case Q_TAG: {
            const seg__chunk *ch = &s->chunks[(size_t)op->ti * s->n_chunks + c];
            slot *a = &st[sp++];
            switch (ch->type) {
            case SEG__C_EMPTY: a->state = S_EMPTY; break;
            case SEG__C_FULL: a->state = S_FULL; break;
            case SEG__C_ARRAY:
                a->state = S_LIST;
                a->list = ch->data;
                a->n = ch->card;
                break;
            default:
                a->state = S_WORDS;
                a->w = seg__chunk_words(s, ch, c, a->buf);
                break;
            }
            break;
        }
        case Q_TRUE: st[sp++].state = S_FULL; break;
        case Q_FALSE: st[sp++].state = S_EMPTY; break;
        case Q_NOT: {
            slot *a = &st[sp - 1];
            if (a->state == S_EMPTY || a->state == S_FULL) {
                a->state = a->state == S_FULL ? S_EMPTY : S_FULL;
                break;
            }
            uint64_t *o = take_spare(r, a);
            if (a->state == S_LIST) {
                for (size_t k = 0; k < W; k++)
                    o[k] = ~(uint64_t)0;
                for (size_t k = 0; k < a->n; k++)
                    o[a->list[k] >> 6] &= ~((uint64_t)1 << (a->list[k] & 63));
            } else {
                for (size_t k = 0; k < W; k++)
                    o[k] = ~a->w[k];
            }
            a->w = o;
            a->state = S_WORDS;
            break;
        }
        case Q_ANDNOT: { /* a and not b */
            slot *a = &st[sp - 2], *b = &st[sp - 1];
            sp--;
            if (a->state == S_EMPTY || b->state == S_FULL) {
                a->state = S_EMPTY;
            } else if (b->state == S_EMPTY) {
                /* a stays */
            } else if (a->state == S_FULL) {
                uint64_t *o = take_spare(r, a);
                const uint64_t *bw = words_of(b, o);
                for (size_t k = 0; k < W; k++)
                    o[k] = ~bw[k];
                a->w = o;
                a->state = S_WORDS;
            } else {
                and_slots(r, a, b, 1);
            }
            break;
        }
        case Q_AND: {
            slot *a = &st[sp - 2], *b = &st[sp - 1];
            sp--;
            if (a->state == S_EMPTY || b->state == S_EMPTY) {
                a->state = S_EMPTY;
            } else if (b->state == S_FULL) {
                /* a stays */
            } else if (a->state == S_FULL) {
                slot keep = *a;
                *a = *b; /* b's buffer becomes a's; a's goes to b's position */
                b->buf = keep.buf;
            } else {
                and_slots(r, a, b, 0);
            }
            break;
        }
        default: { /* Q_OR */
            slot *a = &st[sp - 2], *b = &st[sp - 1];
            sp--;
            if (a->state == S_FULL || b->state == S_FULL) {
                a->state = S_FULL;
            } else if (b->state == S_EMPTY) {
                /* a stays */
            } else if (a->state == S_EMPTY) {
                slot keep = *a;
                *a = *b;
                b->buf = keep.buf;
            } else {
                uint64_t *o = take_spare(r, a);
                const slot *x = a->state == S_WORDS ? a : b, *y = x == a ? b : a;
                if (x->state == S_WORDS) {
                    if (y->state == S_WORDS)
                        for (size_t k = 0; k < W; k++)
                            o[k] = x->w[k] | y->w[k];
                    else
                        memcpy(o, x->w, W * sizeof *o);
                } else {
                    memset(o, 0, W * sizeof *o);
                    for (size_t k = 0; k < x->n; k++)
                        o[x->list[k] >> 6] |= (uint64_t)1 << (x->list[k] & 63);
                }
                if (y->state == S_LIST)
                    for (size_t k = 0; k < y->n; k++)
                        o[y->list[k] >> 6] |= (uint64_t)1 << (y->list[k] & 63);
                a->w = o;
                a->state = S_WORDS;
            }
            break;
        }
        }
    }
    slot res = st[0];
    size_t rows = seg__chunk_rows(s, c);
    if (res.state == S_WORDS && rows < SEG__CHUNK_ROWS) {
        uint64_t *o = r->spare;
        memcpy(o, res.w, W * sizeof *o);
        for (size_t k = rows / 64 + 1; k < W; k++)
            o[k] = 0;
        if (rows % 64)
            o[rows / 64] &= ((uint64_t)1 << (rows % 64)) - 1;
        else
            o[rows / 64] = 0;
        res.w = o;
    }
    return res;
}

/* Spreads the low 8 bits of b into 8 bytes of 0 or 1, bit i into the
 * byte at address i (a little-endian store). */
static uint64_t spread8(unsigned b)
{
    uint64_t x = b;
    x = (x | x << 28) & 0x0000000f0000000fu;
    x = (x | x << 14) & 0x0003000300030003u;
    return (x | x << 7) & 0x0101010101010101u;
}

SEG_API int32_t seg_query_count(const seg_query *query, const seg_tagset *set, int64_t *out,
                                char *err_buf, size_t err_cap)
{
    if (!out) {
        seg__errf(err_buf, err_cap, "out is NULL");
        return SEG_EINVAL;
    }
    runner r;
    int32_t rc = runner_init(&r, query, set, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    int64_t n = 0;
    for (size_t c = 0; c < set->n_chunks; c++) {
        slot s = run_chunk(&r, c);
        if (s.state == S_FULL)
            n += (int64_t)seg__chunk_rows(set, c);
        else if (s.state == S_LIST)
            n += (int64_t)s.n;
        else if (s.state == S_WORDS)
            n += (int64_t)seg__popcount(s.w, W);
    }
    runner_fini(&r);
    *out = n;
    return SEG_OK;
}

SEG_API int32_t seg_query_select(const seg_query *query, const seg_tagset *set, int64_t row_begin,
                                 int64_t *out_rows, size_t limit, size_t *out_n, char *err_buf,
                                 size_t err_cap)
{
    if (!out_n || (!out_rows && limit > 0)) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out_n ? "out_n" : "out_rows");
        return SEG_EINVAL;
    }
    if (!query || !set) {
        seg__errf(err_buf, err_cap, "%s is NULL", !query ? "query" : "set");
        return SEG_EINVAL;
    }
    if (row_begin < 0 || (uint64_t)row_begin > set->n_rows) {
        seg__errf(err_buf, err_cap, "row_begin %lld is outside 0..%zu", (long long)row_begin,
                  set->n_rows);
        return SEG_ERANGE;
    }
    runner r;
    int32_t rc = runner_init(&r, query, set, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    size_t n = 0;
    for (size_t c = (size_t)row_begin / SEG__CHUNK_ROWS; c < set->n_chunks && n < limit; c++) {
        slot s = run_chunk(&r, c);
        if (s.state == S_EMPTY)
            continue;
        size_t base = c * SEG__CHUNK_ROWS, rows = seg__chunk_rows(set, c);
        size_t first = (size_t)row_begin > base ? (size_t)row_begin - base : 0;
        if (s.state == S_FULL) {
            for (size_t i = first; i < rows && n < limit; i++)
                out_rows[n++] = (int64_t)(base + i);
            continue;
        }
        if (s.state == S_LIST) {
            for (size_t i = 0; i < s.n && n < limit; i++)
                if (s.list[i] >= first)
                    out_rows[n++] = (int64_t)(base + s.list[i]);
            continue;
        }
        for (size_t k = first / 64; k < W && n < limit; k++) {
            uint64_t x = s.w[k];
            if (k == first / 64)
                x &= ~(uint64_t)0 << (first % 64);
            for (; x && n < limit; x &= x - 1)
                out_rows[n++] = (int64_t)(base + k * 64 + (size_t)__builtin_ctzll(x));
        }
    }
    runner_fini(&r);
    *out_n = n;
    return SEG_OK;
}

SEG_API int32_t seg_query_mask(const seg_query *query, const seg_tagset *set, uint8_t *out,
                               size_t n, char *err_buf, size_t err_cap)
{
    if (!out || !set || n != set->n_rows) {
        seg__errf(err_buf, err_cap, !out ? "out is NULL" : !set ? "set is NULL"
                                         : "out has %zu bytes, the set %zu rows",
                  n, set ? set->n_rows : 0);
        return SEG_EINVAL;
    }
    runner r;
    int32_t rc = runner_init(&r, query, set, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    for (size_t c = 0; c < set->n_chunks; c++) {
        slot s = run_chunk(&r, c);
        size_t rows = seg__chunk_rows(set, c);
        uint8_t *o = out + c * SEG__CHUNK_ROWS;
        if (s.state != S_WORDS) {
            memset(o, s.state == S_FULL, rows);
            for (size_t i = 0; s.state == S_LIST && i < s.n; i++)
                o[s.list[i]] = 1;
            continue;
        }
        size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        for (; i + 8 <= rows; i += 8) {
            uint64_t v = spread8((unsigned)(s.w[i / 64] >> (i % 64)) & 0xffu);
            memcpy(o + i, &v, 8);
        }
#endif
        for (; i < rows; i++)
            o[i] = (uint8_t)((s.w[i / 64] >> (i % 64)) & 1);
    }
    runner_fini(&r);
    return SEG_OK;
}
