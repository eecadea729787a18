/* SPDX-License-Identifier: MIT */
/* The rule language: parse -> typed tree -> a small register program
 * evaluated a block of rows at a time (see doc/rules.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frame-private.h"
#include "lexer.h"
#include "rule-private.h"

/* ---- tree ---------------------------------------------------------------- */

enum node_kind {
    N_NUM, N_STR, N_COL, N_NEG, N_ARITH, N_CMP, N_AND, N_OR, N_NOT, N_BETWEEN, N_IN, N_CALL
};
enum value_type { T_NUM = 1, T_BOOL = 2, T_STR = 3 };
enum func { F_ABS, F_MIN, F_MAX, F_COALESCE, F_IS_MISSING };

typedef struct node {
    int kind, type;
    int op;              /* arithmetic or comparison token kind; function id */
    int a, b, c;         /* child node indices (-1 = none) */
    int first, count;    /* N_IN, N_CALL: first argument node and count */
    int next;            /* next argument in its list, or -1 */
    double num;          /* N_NUM */
    int str;             /* N_STR: index into the string table */
    int col;             /* N_COL: index into the rule's column table */
    size_t line, colno;  /* position of the node's main token */
    size_t tstart, tlen; /* its text span */
} node;

typedef struct parser {
    seg__lexer lx;
    seg__token tok; /* current token */
    seg_rule *rule;
    const seg_frame *schema;
    node *nodes;
    int n_nodes, cap_nodes;
    int depth; /* nesting of parentheses, 'not' and unary minus */
    const char *source;
    size_t line0, col0; /* position of text[0] in the enclosing file */
    char *err;
    size_t err_cap;
    int32_t rc;
    seg__rule_name_fn name_cb; /* scan mode (no schema): reports column names */
    void *cb_ctx;
} parser;

static void perr(parser *p, const seg__token *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void perr(parser *p, const seg__token *t, const char *fmt, ...)
{
    if (p->rc != SEG_OK)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = p->line0 + t->line - 1;
    size_t col = t->line == 1 ? p->col0 + t->col - 1 : t->col;
    seg__errf(p->err, p->err_cap, "%s:%zu:%zu: %s", p->source, line, col, msg);
    p->rc = SEG_EPARSE;
}

/* Describes the token for messages: 'and', end of rule, ... */
static const char *tok_desc(const parser *p, const seg__token *t, char *buf, size_t cap)
{
    if (t->kind == SEG__TOK_END || t->kind == SEG__TOK_NEWLINE)
        return "end of rule";
    size_t n = seg__utf8_prefix(p->lx.text + t->start, t->len, 40);
    snprintf(buf, cap, "'%.*s%s'", (int)n, p->lx.text + t->start, n < t->len ? "..." : "");
    return buf;
}

static void advance(parser *p)
{
    p->tok = seg__lex_next(&p->lx);
    if (p->tok.kind == SEG__TOK_ERROR) {
        /* Quote the token unless the message already shows it. */
        char b[64];
        if (p->lx.error[0] == '\'')
            perr(p, &p->tok, "%s", p->lx.error);
        else
            perr(p, &p->tok, "%s: %s", p->lx.error, tok_desc(p, &p->tok, b, sizeof b));
    }
}

static int new_node(parser *p, int kind, const seg__token *at)
{
    if (p->rc != SEG_OK)
        return -1;
    if (p->n_nodes == p->cap_nodes) {
        int cap = p->cap_nodes ? p->cap_nodes * 2 : 32;
        if (cap > SEG__RULE_MAX_NODES) {
            perr(p, at, "rule is too long (more than %d terms)", SEG__RULE_MAX_NODES);
            return -1;
        }
        node *nn = seg__realloc_array(&p->rule->alloc, p->nodes, (size_t)cap, sizeof *nn);
        if (!nn) {
            p->rc = SEG_ENOMEM;
            seg__errf(p->err, p->err_cap, "%s: out of memory", p->source);
            return -1;
        }
        p->nodes = nn;
        p->cap_nodes = cap;
    }
    node *x = &p->nodes[p->n_nodes];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->a = x->b = x->c = x->next = x->first = -1;
    x->line = at->line;
    x->colno = at->col;
    x->tstart = at->start;
    x->tlen = at->len;
    return p->n_nodes++;
}

static int expect(parser *p, seg__tok_kind k, const char *what)
{
    if (p->rc != SEG_OK)
        return -1;
    if (p->tok.kind != k) {
        char b[64];
        perr(p, &p->tok, "expected %s but found %s", what, tok_desc(p, &p->tok, b, sizeof b));
        return -1;
    }
    advance(p);
    return 0;
}

static int parse_or(parser *p);
static int parse_add(parser *p);

/* Nesting deeper than this is refused rather than recursed into, so a
 * hostile rule cannot exhaust the stack (each level costs a few frames). */
#define MAX_DEPTH 256

static int enter(parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        perr(p, &p->tok, "nesting too deep (more than %d levels)", MAX_DEPTH);
        return -1;
    }
    return 0;
}

static const char *const func_names[] = {"abs", "min", "max", "coalesce", "is_missing"};

/* A column reference. Kept out of parse_primary (and out of line) so the
 * name buffer is not part of every recursive frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int parse_column(parser *p, const seg__token *t)
{
    int n = new_node(p, N_COL, t);
    if (n < 0)
        return -1;
    char name[SEG_FRAME_NAME_MAX + 1];
    size_t need = seg__tok_text(&p->lx, t, name, sizeof name);
    if (!p->schema) {
        if (need > sizeof name) {
            perr(p, t, "name is longer than %d bytes", SEG_FRAME_NAME_MAX);
            return -1;
        }
        size_t line = p->line0 + t->line - 1;
        size_t col = t->line == 1 ? p->col0 + t->col - 1 : t->col;
        int32_t rc = p->name_cb(p->cb_ctx, name, line, col);
        if (rc != SEG_OK) {
            p->rc = rc;
            if (rc == SEG_ENOMEM)
                seg__errf(p->err, p->err_cap, "%s: out of memory", p->source);
            return -1;
        }
        p->nodes[n].type = T_NUM;
        return n;
    }
    size_t idx;
    if (need > sizeof name || seg_frame_find(p->schema, name, &idx) != SEG_OK) {
        perr(p, t, "unknown column '%s'", name);
        return -1;
    }
    int c = seg__rule_add_column(p->rule, p->schema, idx);
    if (c < 0) {
        p->rc = SEG_ENOMEM;
        seg__errf(p->err, p->err_cap, "%s: out of memory", p->source);
        return -1;
    }
    p->nodes[n].col = c;
    p->nodes[n].type = seg__rule_column_is_string(p->rule, c) ? T_STR : T_NUM;
    return n;
}

static int parse_primary(parser *p)
{
    if (p->rc != SEG_OK)
        return -1;
    seg__token t = p->tok;
    char b[64];
    switch (t.kind) {
    case SEG__TOK_NUMBER: {
        int n = new_node(p, N_NUM, &t);
        if (n >= 0) {
            p->nodes[n].num = t.number;
            p->nodes[n].type = T_NUM;
        }
        advance(p);
        return n;
    }
    case SEG__TOK_STRING: {
        int n = new_node(p, N_STR, &t);
        if (n >= 0) {
            p->nodes[n].type = T_STR;
            p->nodes[n].str = seg__rule_add_string(p->rule, &p->lx, &t);
            if (p->nodes[n].str < 0) {
                p->rc = SEG_ENOMEM;
                seg__errf(p->err, p->err_cap, "%s: out of memory", p->source);
                return -1;
            }
        }
        advance(p);
        return n;
    }
    case SEG__TOK_LPAREN: {
        advance(p);
        if (enter(p) < 0)
            return -1;
        int e = parse_or(p);
        p->depth--;
        if (expect(p, SEG__TOK_RPAREN, "')'") < 0)
            return -1;
        return e;
    }
    case SEG__TOK_IDENT: {
        static const char *const reserved[] = {"and", "or", "not", "between", "in"};
        for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
            if (seg__tok_is_word(&p->lx, &t, reserved[i])) {
                perr(p, &t, "expected a value but found keyword '%s'", reserved[i]);
                return -1;
            }
        advance(p);
        if (!t.quoted && p->tok.kind == SEG__TOK_LPAREN) {
            int f = -1;
            for (size_t i = 0; i < sizeof func_names / sizeof *func_names; i++)
                if (seg__tok_is_word(&p->lx, &t, func_names[i]))
                    f = (int)i;
            if (f < 0) {
                perr(p, &t, "unknown function '%.*s' (known: abs, min, max, coalesce, is_missing)",
                     (int)t.len, p->lx.text + t.start);
                return -1;
            }
            advance(p);
            int n = new_node(p, N_CALL, &t);
            if (n < 0)
                return -1;
            int head = -1, tail = -1, na = 0;
            if (p->tok.kind != SEG__TOK_RPAREN) {
                for (;;) {
                    if (na == SEG__RULE_MAX_ARGS) {
                        perr(p, &p->tok, "too many arguments (at most %d)", SEG__RULE_MAX_ARGS);
                        return -1;
                    }
                    if (enter(p) < 0)
                        return -1;
                    int a = parse_add(p);
                    p->depth--;
                    if (p->rc != SEG_OK)
                        return -1;
                    if (tail < 0)
                        head = a;
                    else
                        p->nodes[tail].next = a;
                    tail = a;
                    na++;
                    if (p->tok.kind != SEG__TOK_COMMA)
                        break;
                    advance(p);
                }
            }
            if (expect(p, SEG__TOK_RPAREN, "')' or ','") < 0)
                return -1;
            p->nodes[n].op = f;
            p->nodes[n].first = head;
            p->nodes[n].count = na;
            return n;
        }
        return parse_column(p, &t);
    }
    default:
        perr(p, &t, "expected a value but found %s", tok_desc(p, &t, b, sizeof b));
        return -1;
    }
}

static int parse_unary(parser *p)
{
    if (p->rc == SEG_OK && p->tok.kind == SEG__TOK_MINUS) {
        seg__token t = p->tok;
        advance(p);
        if (enter(p) < 0)
            return -1;
        int a = parse_unary(p);
        p->depth--;
        if (a < 0)
            return -1;
        if (p->nodes[a].kind == N_NUM) { /* fold -3.5 into a constant */
            p->nodes[a].num = -p->nodes[a].num;
            return a;
        }
        int n = new_node(p, N_NEG, &t);
        if (n >= 0)
            p->nodes[n].a = a;
        return n;
    }
    return parse_primary(p);
}

static int binary(parser *p, int kind, int op, int a, int b, const seg__token *t)
{
    if (a < 0 || b < 0)
        return -1;
    int n = new_node(p, kind, t);
    if (n >= 0) {
        p->nodes[n].op = op;
        p->nodes[n].a = a;
        p->nodes[n].b = b;
    }
    return n;
}

static int parse_mul(parser *p)
{
    int a = parse_unary(p);
    while (p->rc == SEG_OK && (p->tok.kind == SEG__TOK_STAR || p->tok.kind == SEG__TOK_SLASH)) {
        seg__token t = p->tok;
        advance(p);
        a = binary(p, N_ARITH, t.kind, a, parse_unary(p), &t);
    }
    return a;
}

static int parse_add(parser *p)
{
    int a = parse_mul(p);
    while (p->rc == SEG_OK && (p->tok.kind == SEG__TOK_PLUS || p->tok.kind == SEG__TOK_MINUS)) {
        seg__token t = p->tok;
        advance(p);
        a = binary(p, N_ARITH, t.kind, a, parse_mul(p), &t);
    }
    return a;
}

static int parse_cmp(parser *p)
{
    int a = parse_add(p);
    if (p->rc != SEG_OK)
        return -1;
    seg__token t = p->tok;
    switch (t.kind) {
    case SEG__TOK_EQ: case SEG__TOK_NE: case SEG__TOK_LT:
    case SEG__TOK_LE: case SEG__TOK_GT: case SEG__TOK_GE:
        advance(p);
        return binary(p, N_CMP, t.kind, a, parse_add(p), &t);
    default:
        break;
    }
    int negate = 0;
    if (seg__tok_is_word(&p->lx, &t, "not")) {
        /* "x not in (...)" / "x not between a and b" */
        advance(p);
        negate = 1;
        if (!seg__tok_is_word(&p->lx, &p->tok, "in") && !seg__tok_is_word(&p->lx, &p->tok, "between")) {
            char b[64];
            perr(p, &p->tok, "expected 'in' or 'between' after 'not' but found %s",
                 tok_desc(p, &p->tok, b, sizeof b));
            return -1;
        }
        t = p->tok;
    }
    int n = -1;
    if (seg__tok_is_word(&p->lx, &t, "between")) {
        advance(p);
        int lo = parse_add(p);
        if (p->rc != SEG_OK)
            return -1;
        if (!seg__tok_is_word(&p->lx, &p->tok, "and")) {
            char b[64];
            perr(p, &p->tok, "expected 'and' in 'between ... and ...' but found %s",
                 tok_desc(p, &p->tok, b, sizeof b));
            return -1;
        }
        advance(p);
        int hi = parse_add(p);
        n = new_node(p, N_BETWEEN, &t);
        if (n < 0)
            return -1;
        p->nodes[n].a = a;
        p->nodes[n].b = lo;
        p->nodes[n].c = hi;
    } else if (seg__tok_is_word(&p->lx, &t, "in")) {
        advance(p);
        if (expect(p, SEG__TOK_LPAREN, "'(' after 'in'") < 0)
            return -1;
        n = new_node(p, N_IN, &t);
        if (n < 0)
            return -1;
        int head = -1, tail = -1, k = 0;
        for (;;) {
            if (k == SEG__RULE_MAX_ARGS) {
                perr(p, &p->tok, "too many values in the list (at most %d)", SEG__RULE_MAX_ARGS);
                return -1;
            }
            int it = parse_unary(p);
            if (p->rc != SEG_OK)
                return -1;
            if (tail < 0)
                head = it;
            else
                p->nodes[tail].next = it;
            tail = it;
            k++;
            if (p->tok.kind != SEG__TOK_COMMA)
                break;
            advance(p);
        }
        if (expect(p, SEG__TOK_RPAREN, "')' or ','") < 0)
            return -1;
        p->nodes[n].a = a;
        p->nodes[n].first = head;
        p->nodes[n].count = k;
    } else {
        return a;
    }
    if (negate) {
        int m = new_node(p, N_NOT, &t);
        if (m >= 0)
            p->nodes[m].a = n;
        return m;
    }
    return n;
}

static int parse_not(parser *p)
{
    if (p->rc == SEG_OK && seg__tok_is_word(&p->lx, &p->tok, "not")) {
        seg__token t = p->tok;
        advance(p);
        if (enter(p) < 0)
            return -1;
        int a = parse_not(p);
        p->depth--;
        if (a < 0)
            return -1;
        int n = new_node(p, N_NOT, &t);
        if (n >= 0)
            p->nodes[n].a = a;
        return n;
    }
    return parse_cmp(p);
}

static int parse_and(parser *p)
{
    int a = parse_not(p);
    while (p->rc == SEG_OK && seg__tok_is_word(&p->lx, &p->tok, "and")) {
        seg__token t = p->tok;
        advance(p);
        a = binary(p, N_AND, 0, a, parse_not(p), &t);
    }
    return a;
}

static int parse_or(parser *p)
{
    int a = parse_and(p);
    while (p->rc == SEG_OK && seg__tok_is_word(&p->lx, &p->tok, "or")) {
        seg__token t = p->tok;
        advance(p);
        a = binary(p, N_OR, 0, a, parse_and(p), &t);
    }
    return a;
}

/* ---- rule tables ---------------------------------------------------------- */

int seg__rule_add_column(seg_rule *r, const seg_frame *schema, size_t frame_col)
{
    const char *name;
    int32_t type;
    seg_frame_column_info(schema, frame_col, &name, &type);
    for (int32_t i = 0; i < r->n_cols; i++)
        if (strcmp(r->cols[i].name, name) == 0)
            return i;
    if (r->n_cols == r->cap_cols) {
        int32_t cap = r->cap_cols ? r->cap_cols * 2 : 8;
        seg__rule_col *c = seg__realloc_array(&r->alloc, r->cols, (size_t)cap, sizeof *c);
        if (!c)
            return -1;
        r->cols = c;
        r->cap_cols = cap;
    }
    char *copy = seg__strdup(&r->alloc, name);
    if (!copy)
        return -1;
    r->cols[r->n_cols].name = copy;
    r->cols[r->n_cols].is_string = type == SEG_TYPE_STRING || type == SEG_TYPE_DICT;
    return r->n_cols++;
}

int seg__rule_column_is_string(const seg_rule *r, int c)
{
    return r->cols[c].is_string;
}

int seg__rule_add_string(seg_rule *r, const seg__lexer *lx, const seg__token *t)
{
    if (r->n_strs == r->cap_strs) {
        int32_t cap = r->cap_strs ? r->cap_strs * 2 : 8;
        char **s = seg__realloc_array(&r->alloc, r->strs, (size_t)cap, sizeof *s);
        if (!s)
            return -1;
        r->strs = s;
        r->cap_strs = cap;
    }
    size_t need = seg__tok_text(lx, t, NULL, 0);
    char *copy = seg__malloc(&r->alloc, need);
    if (!copy)
        return -1;
    seg__tok_text(lx, t, copy, need);
    r->strs[r->n_strs] = copy;
    return r->n_strs++;
}

/* ---- type checking ---------------------------------------------------------- */

static const char *type_name(int t)
{
    return t == T_NUM ? "a number" : t == T_BOOL ? "a condition" : "text";
}

static void node_err(parser *p, const node *x, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void node_err(parser *p, const node *x, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    seg__token t;
    memset(&t, 0, sizeof t);
    t.line = x->line;
    t.col = x->colno;
    size_t n = seg__utf8_prefix(p->lx.text + x->tstart, x->tlen, 40);
    perr(p, &t, "%s (at '%.*s%s')", msg, (int)n, p->lx.text + x->tstart, n < x->tlen ? "..." : "");
}

static int want(parser *p, int n, int type, const char *ctx)
{
    if (p->rc != SEG_OK)
        return 0;
    if (p->nodes[n].type != type) {
        node_err(p, &p->nodes[n], "%s needs %s, found %s", ctx, type_name(type),
                 type_name(p->nodes[n].type));
        return 0;
    }
    return 1;
}

static void check(parser *p, int n)
{
    node *x = &p->nodes[n];
    if (p->rc != SEG_OK || x->type)
        return; /* constants and columns are typed at parse time */
    switch (x->kind) {
    case N_NEG:
        check(p, x->a);
        want(p, x->a, T_NUM, "'-'");
        x->type = T_NUM;
        break;
    case N_ARITH:
        check(p, x->a);
        check(p, x->b);
        want(p, x->a, T_NUM, "arithmetic");
        want(p, x->b, T_NUM, "arithmetic");
        x->type = T_NUM;
        break;
    case N_CMP: {
        check(p, x->a);
        check(p, x->b);
        if (p->rc != SEG_OK)
            break;
        int ta = p->nodes[x->a].type, tb = p->nodes[x->b].type;
        if (ta == T_STR || tb == T_STR) {
            int col = ta == T_STR && p->nodes[x->a].kind == N_COL ? x->a : x->b;
            int lit = col == x->a ? x->b : x->a;
            if (x->op != SEG__TOK_EQ && x->op != SEG__TOK_NE)
                node_err(p, x, "text compares only with == and !=");
            else if (ta != tb)
                node_err(p, x, "cannot compare %s with %s", type_name(ta), type_name(tb));
            else if (p->nodes[col].kind != N_COL || p->nodes[lit].kind != N_STR)
                node_err(p, x, "text compares a text column with a \"string\"");
            else
                x->a = col, x->b = lit;
        } else {
            want(p, x->a, T_NUM, "a comparison");
            want(p, x->b, T_NUM, "a comparison");
        }
        x->type = T_BOOL;
        break;
    }
    case N_AND:
    case N_OR:
        check(p, x->a);
        check(p, x->b);
        want(p, x->a, T_BOOL, x->kind == N_AND ? "'and'" : "'or'");
        want(p, x->b, T_BOOL, x->kind == N_AND ? "'and'" : "'or'");
        x->type = T_BOOL;
        break;
    case N_NOT:
        check(p, x->a);
        want(p, x->a, T_BOOL, "'not'");
        x->type = T_BOOL;
        break;
    case N_BETWEEN:
        check(p, x->a);
        check(p, x->b);
        check(p, x->c);
        want(p, x->a, T_NUM, "'between'");
        want(p, x->b, T_NUM, "'between'");
        want(p, x->c, T_NUM, "'between'");
        x->type = T_BOOL;
        break;
    case N_IN: {
        check(p, x->a);
        if (p->rc != SEG_OK)
            break;
        int ta = p->nodes[x->a].type;
        if (ta == T_STR && p->nodes[x->a].kind != N_COL) {
            node_err(p, x, "'in' needs a column or a number on its left");
            break;
        }
        for (int i = x->first; i >= 0 && p->rc == SEG_OK; i = p->nodes[i].next) {
            node *it = &p->nodes[i];
            int ok = ta == T_STR ? it->kind == N_STR : it->kind == N_NUM;
            if (!ok)
                node_err(p, it, "'in' lists hold %s constants", ta == T_STR ? "\"string\"" : "number");
        }
        want(p, x->a, ta == T_STR ? T_STR : T_NUM, "'in'");
        x->type = T_BOOL;
        break;
    }
    case N_CALL: {
        int na = x->count;
        const char *fn = func_names[x->op];
        if ((x->op == F_ABS || x->op == F_IS_MISSING) && na != 1) {
            node_err(p, x, "%s() takes one argument, %d given", fn, na);
            break;
        }
        if ((x->op == F_MIN || x->op == F_MAX || x->op == F_COALESCE) && na < 2) {
            node_err(p, x, "%s() takes at least two arguments, %d given", fn, na);
            break;
        }
        for (int a = x->first; a >= 0 && p->rc == SEG_OK; a = p->nodes[a].next) {
            check(p, a);
            if (x->op == F_IS_MISSING && p->nodes[a].type == T_STR && p->nodes[a].kind == N_COL)
                continue;
            want(p, a, T_NUM, fn);
        }
        x->type = x->op == F_IS_MISSING ? T_BOOL : T_NUM;
        break;
    }
    default:
        break;
    }
}

/* ---- code generation ------------------------------------------------------ */

typedef struct gen {
    parser *p;
    seg_rule *r;
    int32_t cap_code, cap_konst;
    int want_f; /* for the instruction being emitted */
} gen;

static int emit(gen *g, seg__instr in)
{
    seg_rule *r = g->r;
    in.want_f = g->want_f;
    if (r->n_code == g->cap_code) {
        int32_t cap = g->cap_code ? g->cap_code * 2 : 32;
        seg__instr *c = seg__realloc_array(&r->alloc, r->code, (size_t)cap, sizeof *c);
        if (!c)
            return -1;
        r->code = c;
        g->cap_code = cap;
    }
    r->code[r->n_code++] = in;
    if (in.dst + 1 > r->n_slots)
        r->n_slots = in.dst + 1;
    return 0;
}

static int add_konst(gen *g, double v)
{
    seg_rule *r = g->r;
    if (r->n_konst == g->cap_konst) {
        int32_t cap = g->cap_konst ? g->cap_konst * 2 : 16;
        double *k = seg__realloc_array(&r->alloc, r->konst, (size_t)cap, sizeof *k);
        if (!k)
            return -1;
        r->konst = k;
        g->cap_konst = cap;
    }
    r->konst[r->n_konst] = v;
    return r->n_konst++;
}

static seg__instr ins(int op, int dst)
{
    seg__instr i;
    memset(&i, 0, sizeof i);
    i.op = op;
    i.dst = dst;
    i.a = i.b = -1;
    return i;
}

static int flip_cmp(int op)
{
    switch (op) {
    case SEG__TOK_LT: return SEG__TOK_GT;
    case SEG__TOK_LE: return SEG__TOK_GE;
    case SEG__TOK_GT: return SEG__TOK_LT;
    case SEG__TOK_GE: return SEG__TOK_LE;
    default: return op;
    }
}

/* Emits code leaving node n's value in slot `s`; returns 0 or -1 (ENOMEM).
 * want_f: whether the consumer reads the "definitely false" flags (only
 * under a 'not', directly or through and/or); they are skipped otherwise. */
static int gen_node_f(gen *g, int n, int s, int want_f);

static int gen_node(gen *g, int n, int s)
{
    return gen_node_f(g, n, s, 1);
}

static int gen_node_f(gen *g, int n, int s, int want_f)
{
#define EMIT(i) (g->want_f = want_f, emit(g, (i)))
    const node *x = &g->p->nodes[n];
    const node *nd = g->p->nodes;
    seg__instr i;
    switch (x->kind) {
    case N_NUM:
        i = ins(OP_CONST, s);
        i.k = x->num;
        return EMIT(i);
    case N_COL:
        i = ins(OP_LOAD, s);
        i.col = x->col;
        return EMIT(i);
    case N_NEG:
        if (gen_node(g, x->a, s) < 0)
            return -1;
        i = ins(OP_NEG, s);
        i.a = s;
        return EMIT(i);
    case N_ARITH:
        if (gen_node(g, x->a, s) < 0 || gen_node(g, x->b, s + 1) < 0)
            return -1;
        i = ins(x->op == SEG__TOK_PLUS ? OP_ADD : x->op == SEG__TOK_MINUS ? OP_SUB
                : x->op == SEG__TOK_STAR ? OP_MUL : OP_DIV, s);
        i.a = s;
        i.b = s + 1;
        return EMIT(i);
    case N_CMP:
        if (nd[x->a].type == T_STR) { /* col == "x" / col != "x" */
            int k = g->p->nodes[x->b].str;
            i = ins(OP_STR_IN, s);
            i.col = nd[x->a].col;
            i.first = k;
            i.n = 1;
            if (EMIT(i) < 0)
                return -1;
            if (x->op == SEG__TOK_NE) {
                i = ins(OP_NOT, s);
                i.a = s;
                return EMIT(i);
            }
            return 0;
        }
        if (nd[x->b].kind == N_NUM || nd[x->a].kind == N_NUM) {
            int konst_right = nd[x->b].kind == N_NUM;
            int v = konst_right ? x->a : x->b;
            if (gen_node(g, v, s) < 0)
                return -1;
            i = ins(OP_CMPK, s);
            i.a = s;
            i.cmp = konst_right ? x->op : flip_cmp(x->op);
            i.k = konst_right ? nd[x->b].num : nd[x->a].num;
            return EMIT(i);
        }
        if (gen_node(g, x->a, s) < 0 || gen_node(g, x->b, s + 1) < 0)
            return -1;
        i = ins(OP_CMP, s);
        i.a = s;
        i.b = s + 1;
        i.cmp = x->op;
        return EMIT(i);
    case N_AND:
    case N_OR:
        if (gen_node_f(g, x->a, s, want_f) < 0 || gen_node_f(g, x->b, s + 1, want_f) < 0)
            return -1;
        i = ins(x->kind == N_AND ? OP_AND : OP_OR, s);
        i.a = s;
        i.b = s + 1;
        return EMIT(i);
    case N_NOT:
        if (gen_node(g, x->a, s) < 0)
            return -1;
        i = ins(OP_NOT, s);
        i.a = s;
        return EMIT(i);
    case N_BETWEEN: {
        /* lo <= x and x <= hi, x evaluated once per bound */
        if (gen_node(g, x->a, s) < 0)
            return -1;
        int bounds[2] = {x->b, x->c};
        int ops[2] = {SEG__TOK_GE, SEG__TOK_LE};
        for (int k = 0; k < 2; k++) {
            int dst = s + 1 + k;
            if (nd[bounds[k]].kind == N_NUM) {
                i = ins(OP_CMPK, dst);
                i.a = s;
                i.k = nd[bounds[k]].num;
            } else {
                if (gen_node(g, bounds[k], s + 3) < 0)
                    return -1;
                i = ins(OP_CMP, dst);
                i.a = s;
                i.b = s + 3;
            }
            i.cmp = ops[k];
            if (EMIT(i) < 0)
                return -1;
        }
        i = ins(OP_AND, s);
        i.a = s + 1;
        i.b = s + 2;
        return EMIT(i);
    }
    case N_IN:
        if (nd[x->a].type == T_STR) {
            int first = nd[x->first].str;
            /* string constants of one list are consecutive in the table */
            i = ins(OP_STR_IN, s);
            i.col = nd[x->a].col;
            i.first = first;
            i.n = x->count;
            return EMIT(i);
        } else {
            if (gen_node(g, x->a, s) < 0)
                return -1;
            int first = g->r->n_konst;
            for (int k = x->first; k >= 0; k = nd[k].next)
                if (add_konst(g, nd[k].num) < 0)
                    return -1;
            i = ins(OP_INK, s);
            i.a = s;
            i.first = first;
            i.n = x->count;
            return EMIT(i);
        }
    case N_CALL: {
        int a0 = x->first;
        if (x->op == F_IS_MISSING && nd[a0].type == T_STR) {
            i = ins(OP_STR_MISS, s);
            i.col = nd[a0].col;
            return EMIT(i);
        }
        if (gen_node(g, a0, s) < 0)
            return -1;
        if (x->op == F_ABS || x->op == F_IS_MISSING) {
            i = ins(x->op == F_ABS ? OP_ABS : OP_ISMISS, s);
            i.a = s;
            return EMIT(i);
        }
        int op = x->op == F_MIN ? OP_MIN : x->op == F_MAX ? OP_MAX : OP_COALESCE;
        for (int k = nd[a0].next; k >= 0; k = nd[k].next) {
            if (gen_node(g, k, s + 1) < 0)
                return -1;
            i = ins(op, s);
            i.a = s;
            i.b = s + 1;
            if (EMIT(i) < 0)
                return -1;
        }
        return 0;
    }
    default:
        return -1;
    }
}
#undef EMIT

/* Appends one "column op constant" comparison to r->simple. */
static int add_simple(seg_rule *r, int *cap, int col, int op, double k)
{
    if (r->n_simple == *cap) {
        int c2 = *cap ? *cap * 2 : 8;
        seg__simple_cmp *s = seg__realloc_array(&r->alloc, r->simple, (size_t)c2, sizeof *s);
        if (!s)
            return -1;
        r->simple = s;
        *cap = c2;
    }
    r->simple[r->n_simple].col = col;
    r->simple[r->n_simple].cmp = op;
    r->simple[r->n_simple].k = k;
    r->n_simple++;
    return 0;
}

/* Records the top-level conjuncts of the form "column op constant"
 * ("column between a and b" counts as ">= a" and "<= b"); any other
 * conjunct clears all_simple. Returns -1 when out of memory. */
static int collect_simple(parser *p, seg_rule *r, int n, int *cap)
{
    const node *x = &p->nodes[n];
    if (x->kind == N_AND)
        return collect_simple(p, r, x->a, cap) < 0 || collect_simple(p, r, x->b, cap) < 0 ? -1 : 0;
    if (x->kind == N_BETWEEN && p->nodes[x->a].kind == N_COL && p->nodes[x->b].kind == N_NUM &&
        p->nodes[x->c].kind == N_NUM) {
        int col = p->nodes[x->a].col;
        if (add_simple(r, cap, col, SEG__TOK_GE, p->nodes[x->b].num) < 0 ||
            add_simple(r, cap, col, SEG__TOK_LE, p->nodes[x->c].num) < 0)
            return -1;
        return 0;
    }
    if (x->kind == N_CMP && x->op != SEG__TOK_NE && p->nodes[x->a].type == T_NUM) {
        const node *a = &p->nodes[x->a], *b = &p->nodes[x->b];
        if (a->kind == N_COL && b->kind == N_NUM)
            return add_simple(r, cap, a->col, x->op, b->num);
        if (b->kind == N_COL && a->kind == N_NUM)
            return add_simple(r, cap, b->col, flip_cmp(x->op), a->num);
    }
    r->all_simple = 0;
    return 0;
}

/* ---- compile ----------------------------------------------------------------- */

SEG_API void seg_rule_free(seg_rule *rule)
{
    if (!rule)
        return;
    seg__alloc a = rule->alloc;
    for (int32_t i = 0; i < rule->n_cols; i++)
        seg__free(&a, rule->cols[i].name);
    for (int32_t i = 0; i < rule->n_strs; i++)
        seg__free(&a, rule->strs[i]);
    seg__free(&a, rule->cols);
    seg__free(&a, rule->strs);
    seg__free(&a, rule->konst);
    seg__free(&a, rule->code);
    seg__free(&a, rule->simple);
    seg__free(&a, rule);
}

static int32_t compile(seg_rule **out, const char *text, size_t len, const seg_frame *schema,
                       seg__rule_name_fn name_cb, void *cb_ctx, const char *source,
                       size_t line0, size_t col0, const seg__alloc *a, char *err, size_t cap)
{
    seg_rule *r = seg__malloc(a, sizeof *r);
    if (!r) {
        seg__errf(err, cap, "%s: out of memory", source);
        return SEG_ENOMEM;
    }
    memset(r, 0, sizeof *r);
    r->alloc = *a;
    r->all_simple = 1;
    parser p;
    memset(&p, 0, sizeof p);
    p.rule = r;
    p.schema = schema;
    p.source = source;
    p.line0 = line0;
    p.col0 = col0;
    p.err = err;
    p.err_cap = cap;
    p.name_cb = name_cb;
    p.cb_ctx = cb_ctx;
    seg__lex_init(&p.lx, text, len, 0);
    advance(&p);
    int root = -1;
    if (p.rc == SEG_OK && p.tok.kind == SEG__TOK_END)
        perr(&p, &p.tok, "empty rule");
    else
        root = parse_or(&p);
    if (p.rc == SEG_OK && p.tok.kind != SEG__TOK_END) {
        char b[64];
        perr(&p, &p.tok, "unexpected %s after a complete rule", tok_desc(&p, &p.tok, b, sizeof b));
    }
    if (p.rc == SEG_OK && !schema) { /* scan mode: syntax and names only */
        seg__free(a, p.nodes);
        seg_rule_free(r);
        return SEG_OK;
    }
    if (p.rc == SEG_OK)
        check(&p, root);
    if (p.rc == SEG_OK && p.nodes[root].type != T_BOOL)
        node_err(&p, &p.nodes[root], "a rule must be a condition, this is %s",
                 type_name(p.nodes[root].type));
    if (p.rc == SEG_OK) {
        gen g = {&p, r, 0, 0, 0};
        int scap = 0;
        if (gen_node_f(&g, root, 0, 0) < 0 || collect_simple(&p, r, root, &scap) < 0) {
            p.rc = SEG_ENOMEM;
            seg__errf(err, cap, "%s: out of memory", source);
        }
        r->result = 0;
    }
    seg__free(a, p.nodes);
    if (p.rc != SEG_OK) {
        seg_rule_free(r);
        return p.rc;
    }
    *out = r;
    return SEG_OK;
}

int32_t seg__rule_compile_at(seg_rule **out, const char *text, size_t len,
                             const seg_frame *schema, const char *source, size_t line0,
                             size_t col0, const seg__alloc *a, char *err, size_t cap)
{
    return compile(out, text, len, schema, NULL, NULL, source, line0, col0, a, err, cap);
}

int32_t seg__rule_scan(const char *text, size_t len, seg__rule_name_fn name_cb, void *ctx,
                       const char *source, size_t line0, size_t col0, const seg__alloc *a,
                       char *err, size_t cap)
{
    return compile(NULL, text, len, NULL, name_cb, ctx, source, line0, col0, a, err, cap);
}

SEG_API int32_t seg_rule_compile(seg_rule **out, const char *text, size_t len,
                                 const seg_frame *schema, const char *source,
                                 const seg_allocator *alloc, char *err_buf, size_t err_cap)
{
    if (!out || !text || !schema) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out ? "out" : !text ? "text" : "schema");
        return SEG_EINVAL;
    }
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    return seg__rule_compile_at(out, text, len, schema, source ? source : "rule", 1, 1, &a,
                                err_buf, err_cap);
}

/* ---- evaluation ---------------------------------------------------------------- */

#define B SEG__RULE_BLOCK


/* A register slot holds B numbers, then B "definitely true" and B
 * "definitely false" flags for three-valued booleans. Flags are doubles
 * (0.0 or 1.0) rather than bytes: compares, and/or/not then stay in one
 * vector width and every loop below vectorises with plain SSE2. Numbers
 * and flags never share memory, so an instruction may write the slot it
 * reads. */
#define SLOT_BYTES (24 * B)
#define NUM(slot) ((double *)(slot))
#define T(slot) ((double *)(slot) + B)
#define F(slot) ((double *)(slot) + 2 * B)
#define ONE(c) ((c) ? 1.0 : 0.0)

/* One loop per comparison operator, so each vectorises. b == NULL
 * compares with the constant k. A missing value on either side makes the
 * result unknown (t = f = 0): every ordered comparison with NaN is false,
 * and "not equal" is spelled as "less or greater" for the same reason. */
#define CMP_LOOP(TRUE_IF, FALSE_IF)                                                    \
    do {                                                                               \
        if (!want_f) {                                                                 \
            if (b) {                                                                   \
                for (size_t i = 0; i < n; i++) {                                       \
                    double x = a[i], y = b[i];                                         \
                    t[i] = TRUE_IF;                                                    \
                }                                                                      \
            } else {                                                                   \
                for (size_t i = 0; i < n; i++) {                                       \
                    double x = a[i], y = k;                                            \
                    t[i] = TRUE_IF;                                                    \
                }                                                                      \
            }                                                                          \
        } else if (b) {                                                                \
            for (size_t i = 0; i < n; i++) {                                           \
                double x = a[i], y = b[i];                                             \
                t[i] = TRUE_IF;                                                        \
                f[i] = FALSE_IF;                                                       \
            }                                                                          \
        } else {                                                                       \
            for (size_t i = 0; i < n; i++) {                                           \
                double x = a[i], y = k;                                                \
                t[i] = TRUE_IF;                                                        \
                f[i] = FALSE_IF;                                                       \
            }                                                                          \
        }                                                                              \
    } while (0)

static void compare(int cmp, const double *restrict a, const double *restrict b, double k,
                    size_t n, double *restrict t, double *restrict f, int want_f)
{
    switch (cmp) {
    case SEG__TOK_EQ: CMP_LOOP(ONE(x == y), ONE(x < y) + ONE(x > y)); break;
    case SEG__TOK_NE: CMP_LOOP(ONE(x < y) + ONE(x > y), ONE(x == y)); break;
    case SEG__TOK_LT: CMP_LOOP(ONE(x < y), ONE(x >= y)); break;
    case SEG__TOK_LE: CMP_LOOP(ONE(x <= y), ONE(x > y)); break;
    case SEG__TOK_GT: CMP_LOOP(ONE(x > y), ONE(x <= y)); break;
    default: CMP_LOOP(ONE(x >= y), ONE(x < y)); break;
    }
}
#undef CMP_LOOP

SEG__HOT static void run_block(const seg_rule *r, const seg__rule_bound *bd, size_t r0,
                               size_t n, unsigned char *slots, const double **num)
{
    for (int32_t pc = 0; pc < r->n_code; pc++) {
        const seg__instr *in = &r->code[pc];
        unsigned char *ds = slots + (size_t)in->dst * SLOT_BYTES;
        unsigned char *as = in->a >= 0 ? slots + (size_t)in->a * SLOT_BYTES : ds;
        unsigned char *bs = in->b >= 0 ? slots + (size_t)in->b * SLOT_BYTES : ds;
        /* Numeric operands are read through num[]: a plain double column
         * is used in place, without a copy. */
        double *d = NUM(ds);
        const double *a = in->a >= 0 ? num[in->a] : d, *b = in->b >= 0 ? num[in->b] : d;
        num[in->dst] = d;
        switch (in->op) {
        case OP_LOAD: {
            const seg__column *c = bd[in->col].c;
            if (c->type == SEG_TYPE_DOUBLE && !c->validity)
                num[in->dst] = (const double *)c->data + r0;
            else
                seg__column_load(c, r0, n, d);
            break;
        }
        case OP_CONST: for (size_t i = 0; i < n; i++) d[i] = in->k; break;
        case OP_NEG: for (size_t i = 0; i < n; i++) d[i] = -a[i]; break;
        case OP_ADD: for (size_t i = 0; i < n; i++) d[i] = a[i] + b[i]; break;
        case OP_SUB: for (size_t i = 0; i < n; i++) d[i] = a[i] - b[i]; break;
        case OP_MUL: for (size_t i = 0; i < n; i++) d[i] = a[i] * b[i]; break;
        case OP_DIV: /* x / 0 is missing, not infinite */
            for (size_t i = 0; i < n; i++) d[i] = b[i] != 0 ? a[i] / b[i] : NAN;
            break;
        case OP_ABS: for (size_t i = 0; i < n; i++) d[i] = fabs(a[i]); break;
        case OP_MIN:
            for (size_t i = 0; i < n; i++) d[i] = a[i] != a[i] || b[i] != b[i] ? NAN : (a[i] < b[i] ? a[i] : b[i]);
            break;
        case OP_MAX:
            for (size_t i = 0; i < n; i++) d[i] = a[i] != a[i] || b[i] != b[i] ? NAN : (a[i] > b[i] ? a[i] : b[i]);
            break;
        case OP_COALESCE: for (size_t i = 0; i < n; i++) d[i] = a[i] == a[i] ? a[i] : b[i]; break;
        case OP_CMP: compare(in->cmp, a, b, 0, n, T(ds), F(ds), in->want_f); break;
        case OP_CMPK: compare(in->cmp, a, NULL, in->k, n, T(ds), F(ds), in->want_f); break;
        case OP_AND: { /* false if either is false, true if both are true */
            const double *ta = T(as), *fa = F(as), *tb = T(bs), *fb = F(bs);
            double *td = T(ds), *fd = F(ds);
            if (!in->want_f) {
                for (size_t i = 0; i < n; i++)
                    td[i] = ta[i] * tb[i];
                break;
            }
            for (size_t i = 0; i < n; i++) {
                double t = ta[i] * tb[i], f = fa[i] + fb[i] - fa[i] * fb[i];
                td[i] = t;
                fd[i] = f;
            }
            break;
        }
        case OP_OR: { /* true if either is true, false if both are false */
            const double *ta = T(as), *fa = F(as), *tb = T(bs), *fb = F(bs);
            double *td = T(ds), *fd = F(ds);
            if (!in->want_f) {
                for (size_t i = 0; i < n; i++)
                    td[i] = ta[i] + tb[i] - ta[i] * tb[i];
                break;
            }
            for (size_t i = 0; i < n; i++) {
                double t = ta[i] + tb[i] - ta[i] * tb[i], f = fa[i] * fb[i];
                td[i] = t;
                fd[i] = f;
            }
            break;
        }
        case OP_NOT: {
            const double *ta = T(as), *fa = F(as);
            double *td = T(ds), *fd = F(ds);
            for (size_t i = 0; i < n; i++) {
                double t = fa[i], f = ta[i];
                td[i] = t;
                fd[i] = f;
            }
            break;
        }
        case OP_ISMISS: {
            double *td = T(ds), *fd = F(ds);
            for (size_t i = 0; i < n; i++) {
                double x = a[i];
                td[i] = ONE(x != x);
                fd[i] = ONE(x == x);
            }
            break;
        }
        case OP_INK: {
            double *td = T(ds), *fd = F(ds);
            const double *set = r->konst + in->first;
            for (size_t i = 0; i < n; i++) {
                double x = a[i], hit = 0;
                for (int32_t k = 0; k < in->n; k++)
                    hit += ONE(x == set[k]);
                double t = ONE(hit > 0);
                td[i] = t;
                fd[i] = ONE(x == x) - t;
            }
            break;
        }
        case OP_STR_IN:
        case OP_STR_MISS: {
            const seg__rule_bound *bc = &bd[in->col];
            const seg__column *c = bc->c;
            double *td = T(ds), *fd = F(ds);
            for (size_t i = 0; i < n; i++) {
                size_t row = r0 + i;
                int present = seg__frame_valid(c, row);
                uint8_t hit = 0;
                if (c->type == SEG_TYPE_DICT) {
                    int32_t code = ((const int32_t *)c->data)[row];
                    present &= code >= 0;
                    if (present && in->op == OP_STR_IN)
                        hit = bc->str_match[(size_t)code * (size_t)r->n_code + (size_t)pc];
                } else {
                    const char *s = ((const char *const *)c->data)[row];
                    present &= s != NULL;
                    if (present && in->op == OP_STR_IN)
                        for (int32_t k = 0; k < in->n && !hit; k++)
                            hit = strcmp(s, r->strs[in->first + k]) == 0;
                }
                if (in->op == OP_STR_MISS) {
                    td[i] = ONE(!present);
                    fd[i] = ONE(present);
                } else {
                    td[i] = ONE(present && hit);
                    fd[i] = ONE(present && !hit);
                }
            }
            break;
        }
        default: break;
        }
    }
}

int32_t seg__rule_exec_init(seg__rule_exec *x, const seg_rule *rule, const seg_frame *frame,
                            char *err, size_t cap)
{
    memset(x, 0, sizeof *x);
    x->rule = rule;
    x->bd = x->local;
    if (rule->n_cols > (int32_t)(sizeof x->local / sizeof *x->local)) {
        x->bd = seg__calloc_array(&rule->alloc, (size_t)rule->n_cols, sizeof *x->bd);
        if (!x->bd) {
            seg__errf(err, cap, "out of memory for evaluation");
            return SEG_ENOMEM;
        }
    }
    int32_t rc = SEG_OK;
    for (int32_t i = 0; i < rule->n_cols && rc == SEG_OK; i++) {
        size_t idx;
        if (seg_frame_find(frame, rule->cols[i].name, &idx) != SEG_OK) {
            seg__errf(err, cap, "column '%s' used by the rule is not in the frame",
                      rule->cols[i].name);
            rc = SEG_ENOTFOUND;
            break;
        }
        x->bd[i].c = &frame->cols[idx];
        x->bd[i].frame_col = idx;
        int is_str = x->bd[i].c->type == SEG_TYPE_STRING || x->bd[i].c->type == SEG_TYPE_DICT;
        if (is_str != rule->cols[i].is_string) {
            seg__errf(err, cap, "column '%s' is %s in the frame but was %s at compile time",
                      rule->cols[i].name, is_str ? "text" : "numeric",
                      is_str ? "numeric" : "text");
            rc = SEG_ENOTFOUND;
            break;
        }
        /* Dictionary columns: decide each string test once per entry. */
        const seg__column *c = x->bd[i].c;
        if (c->type != SEG_TYPE_DICT)
            continue;
        x->bd[i].str_match = seg__calloc_array(&rule->alloc, c->dict_len ? c->dict_len : 1,
                                               (size_t)rule->n_code);
        if (!x->bd[i].str_match) {
            seg__errf(err, cap, "out of memory for evaluation");
            rc = SEG_ENOMEM;
            break;
        }
        for (int32_t pc = 0; pc < rule->n_code; pc++) {
            const seg__instr *in = &rule->code[pc];
            if (in->op != OP_STR_IN || in->col != i)
                continue;
            for (size_t e = 0; e < c->dict_len; e++)
                for (int32_t k = 0; k < in->n; k++)
                    if (strcmp(c->dict[e], rule->strs[in->first + k]) == 0)
                        x->bd[i].str_match[e * (size_t)rule->n_code + (size_t)pc] = 1;
        }
    }
    if (rc == SEG_OK) {
        x->slots = seg__malloc_array(&rule->alloc, (size_t)rule->n_slots, SLOT_BYTES);
        x->num = seg__malloc_array(&rule->alloc, (size_t)rule->n_slots, sizeof *x->num);
        if (!x->slots || !x->num) {
            seg__errf(err, cap, "out of memory for evaluation");
            rc = SEG_ENOMEM;
        }
    }
    if (rc != SEG_OK)
        seg__rule_exec_fini(x);
    return rc;
}

void seg__rule_exec_fini(seg__rule_exec *x)
{
    if (!x->rule)
        return;
    const seg__alloc *a = &x->rule->alloc;
    if (x->bd) {
        for (int32_t i = 0; i < x->rule->n_cols; i++)
            seg__free(a, x->bd[i].str_match);
        if (x->bd != x->local)
            seg__free(a, x->bd);
    }
    seg__free(a, x->slots);
    seg__free(a, x->num);
    memset(x, 0, sizeof *x);
}

const double *seg__rule_exec_block(seg__rule_exec *x, size_t r0, size_t n)
{
    run_block(x->rule, x->bd, r0, n, x->slots, x->num);
    return T(x->slots + (size_t)x->rule->result * SLOT_BYTES);
}

const double *seg__rule_exec_column(seg__rule_exec *x, int32_t col, size_t r0, size_t n)
{
    double *d = x->scratch;
    seg__column_load(x->bd[col].c, r0, n, d);
    return d;
}

SEG_API int32_t seg_rule_eval(const seg_rule *rule, const seg_frame *frame, size_t row_begin,
                              size_t row_end, uint8_t *out_match, char *err_buf, size_t err_cap)
{
    if (!rule || !frame || (!out_match && row_end > row_begin)) {
        seg__errf(err_buf, err_cap, "%s is NULL", !rule ? "rule" : !frame ? "frame" : "out_match");
        return SEG_EINVAL;
    }
    if (row_begin > row_end || row_end > frame->n_rows) {
        seg__errf(err_buf, err_cap, "rows %zu..%zu outside the frame's %zu rows", row_begin,
                  row_end, frame->n_rows);
        return SEG_EINVAL;
    }
    seg__rule_exec x;
    int32_t rc = seg__rule_exec_init(&x, rule, frame, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    for (size_t r0 = row_begin; r0 < row_end; r0 += B) {
        size_t n = row_end - r0 < B ? row_end - r0 : B;
        const double *t = seg__rule_exec_block(&x, r0, n);
        uint8_t *o = out_match + (r0 - row_begin);
        for (size_t i = 0; i < n; i++)
            o[i] = (uint8_t)t[i];
    }
    seg__rule_exec_fini(&x);
    return SEG_OK;
}
