/* SPDX-License-Identifier: MIT */
/* The compiled rule, shared by rule.c and the parts built on rules. */
#ifndef SEG_RULE_PRIVATE_H
#define SEG_RULE_PRIVATE_H

#include "frame-private.h"
#include "lexer.h"
#include "seg-private.h"
#include "segment/frame.h"
#include "segment/rule.h"

#define SEG__RULE_MAX_NODES 4096
#define SEG__RULE_MAX_ARGS 256
#define SEG__RULE_BLOCK 256

enum seg__op {
    OP_LOAD, OP_CONST, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_CMP, OP_CMPK, OP_AND, OP_OR, OP_NOT, OP_INK, OP_ABS, OP_MIN, OP_MAX,
    OP_COALESCE, OP_ISMISS, OP_STR_IN, OP_STR_MISS
};

typedef struct seg__instr {
    int32_t op, cmp;   /* cmp: token kind of the comparison */
    int32_t want_f;    /* boolean results: whether the "definitely false" flags are used */
    int32_t dst, a, b; /* register slots */
    int32_t col;       /* rule column */
    double k;          /* constant */
    int32_t first, n;  /* OP_INK: konst table; OP_STR_IN: string table */
} seg__instr;

typedef struct seg__rule_col {
    char *name;
    int32_t is_string;
} seg__rule_col;

/* A comparison "column op constant" that is a top-level conjunct of the
 * rule: what tiering reports gaps for. */
typedef struct seg__simple_cmp {
    int32_t col;   /* rule column */
    int32_t cmp;   /* token kind: < <= > >= == */
    double k;
} seg__simple_cmp;

struct seg_rule {
    seg__alloc alloc;
    seg__rule_col *cols;
    int32_t n_cols, cap_cols;
    char **strs;
    int32_t n_strs, cap_strs;
    double *konst;
    int32_t n_konst;
    seg__instr *code;
    int32_t n_code;
    int32_t n_slots;
    int32_t result; /* slot holding the final boolean */
    seg__simple_cmp *simple;
    int32_t n_simple;
    int32_t all_simple; /* the rule is exactly the conjunction of simple[] */
};

/* A rule bound to one frame for one evaluation call: column bindings and
 * register memory. Not shared between threads; the rule itself is. */
typedef struct seg__rule_bound {
    const struct seg__column *c;
    size_t frame_col;   /* the column's index in the frame */
    uint8_t *str_match; /* dictionary columns: [entry][instruction] matches */
} seg__rule_bound;

typedef struct seg__rule_exec {
    const seg_rule *rule;
    seg__rule_bound *bd;
    seg__rule_bound local[16];
    unsigned char *slots;
    const double **num; /* per slot: where its numbers are (slot or column) */
    double scratch[SEG__RULE_BLOCK];
} seg__rule_exec;

int32_t seg__rule_exec_init(seg__rule_exec *x, const seg_rule *rule, const seg_frame *frame,
                            char *err, size_t cap);
/* Evaluates rows [r0, r0 + n), n <= SEG__RULE_BLOCK; returns n values,
 * 1.0 where the rule is true and 0.0 elsewhere, valid until the next call. */
const double *seg__rule_exec_block(seg__rule_exec *x, size_t r0, size_t n);
/* Loads rule column `col` for rows [r0, r0 + n) as doubles (NaN = missing). */
const double *seg__rule_exec_column(seg__rule_exec *x, int32_t col, size_t r0, size_t n);
void seg__rule_exec_fini(seg__rule_exec *x);

/* Parser callbacks: add a column (deduplicated) or a string constant;
 * return the index or -1 when out of memory. */
int seg__rule_add_column(seg_rule *r, const seg_frame *schema, size_t frame_col);
int seg__rule_column_is_string(const seg_rule *r, int c);
int seg__rule_add_string(seg_rule *r, const seg__lexer *lx, const seg__token *t);

/* Compiles text that sits at (line0, col0) of `source`, so messages point
 * into the enclosing file (a tier set, say). */
int32_t seg__rule_compile_at(seg_rule **out, const char *text, size_t len,
                             const seg_frame *schema, const char *source, size_t line0,
                             size_t col0, const seg__alloc *a, char *err, size_t cap);

/* Parses a rule without a schema: checks its syntax (not its types) and
 * calls name_cb for every column name it uses, with the name's position
 * in `source`. A status other than SEG_OK from the callback stops the scan
 * and is returned. */
typedef int32_t (*seg__rule_name_fn)(void *ctx, const char *name, size_t line, size_t col);
int32_t seg__rule_scan(const char *text, size_t len, seg__rule_name_fn name_cb, void *ctx,
                       const char *source, size_t line0, size_t col0, const seg__alloc *a,
                       char *err, size_t cap);

#endif /* SEG_RULE_PRIVATE_H */
