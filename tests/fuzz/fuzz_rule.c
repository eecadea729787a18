/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the rule language (seg_rule_compile / seg_rule_eval).
 *
 * The input is the rule text. It is compiled against the fixed frame of
 * fuzz_common.h with a full error buffer, with err_cap 1, 0 and a NULL
 * buffer; all must agree on the status. A failure must be SEG_EPARSE with
 * "fuzz:line:col: message" inside the text's lines. A compiled rule is
 * evaluated over all rows and several sub-ranges (which must give the same
 * bytes as the full evaluation, doc/rules.md), over a frame with the same
 * data under other compatible column types (same result), and with a bad
 * range (SEG_EINVAL, output untouched). Wrapped as "not (R)" it must never
 * match where R does, and "not (not (R))" must match exactly where R does.
 */
#include "fuzz_common.h"

#define ERR_CAP 512

/* Lines in text (1 + newlines) and the byte length of line `line` (1-based). */
static size_t line_count(const char *t, size_t n)
{
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += t[i] == '\n';
    return k;
}

static size_t line_length(const char *t, size_t n, size_t line)
{
    size_t i = 0, cur = 1;
    while (i < n && cur < line) {
        if (t[i] == '\n')
            cur++;
        i++;
    }
    size_t b = i;
    while (i < n && t[i] != '\n')
        i++;
    return i - b;
}

static void check_parse_message(const char *text, size_t len, const char *err)
{
    unsigned long line = 0, col = 0;
    int used = 0;
    CHECK(strncmp(err, "fuzz:", 5) == 0, "message does not start with the source: '%s'", err);
    CHECK(sscanf(err + 5, "%lu:%lu: %n", &line, &col, &used) == 2 && used > 0,
          "message is not 'source:line:col: message': '%s'", err);
    CHECK(err[5 + used] != '\0', "empty message after the position: '%s'", err);
    size_t lines = line_count(text, len);
    CHECK(line >= 1 && line <= lines, "line %lu outside 1..%zu: '%s'", line, lines, err);
    size_t ll = line_length(text, len, line);
    CHECK(col >= 1 && col <= ll + 1, "column %lu outside 1..%zu of line %lu: '%s'", col, ll + 1,
          line, err);
}

/* Evaluates [b, e) and checks it equals full[b..e). */
static void eval_range(const seg_rule *r, const seg_frame *f, const uint8_t *full, size_t b,
                       size_t e)
{
    uint8_t *m = fz_xmalloc(e - b);
    char err[ERR_CAP];
    int32_t rc = seg_rule_eval(r, f, b, e, m, err, sizeof err);
    CHECK(rc == SEG_OK, "eval rows %zu..%zu gave %d: %s", b, e, (int)rc, err);
    for (size_t i = b; i < e; i++)
        CHECK(m[i - b] == full[i], "rows %zu..%zu: row %zu gives %u, the full evaluation %u", b,
              e, i, (unsigned)m[i - b], (unsigned)full[i]);
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const seg_frame *f = fz_frame();
    const char *text = (const char *)data;
    /* An exact-size copy, so a read past `size` is an ASan report even
     * when libFuzzer's buffer happens to be larger. */
    char *copy = fz_xmalloc(size);
    memcpy(copy, data, size);
    text = copy;

    char err[ERR_CAP];
    memset(err, 0xAA, sizeof err);
    seg_rule *rule = NULL;
    int32_t rc = seg_rule_compile(&rule, text, size, f, "fuzz", NULL, err, sizeof err);
    CHECK(rc == SEG_OK || rc == SEG_EPARSE, "compile returned %d", (int)rc);
    if (rc != SEG_OK)
        fz_check_msg(err, sizeof err, "compile"); /* untouched on success */
    if (rc == SEG_OK)
        CHECK(rule != NULL, "SEG_OK without a rule");
    else {
        CHECK(rule == NULL, "failure touched *out");
        check_parse_message(text, size, err);
    }

    /* Same status with err_cap 1, err_cap 0 and no buffer; tiny buffers
     * are exact-size heap blocks so an overflow is an ASan report. */
    {
        seg_rule *r2 = NULL;
        char *one = fz_xmalloc(1);
        one[0] = 'Z';
        int32_t rc1 = seg_rule_compile(&r2, text, size, f, "fuzz", NULL, one, 1);
        CHECK(rc1 == rc, "err_cap 1 gives %d, err_cap %d gives %d", (int)rc1, ERR_CAP, (int)rc);
        CHECK(rc1 == SEG_OK || one[0] == '\0', "err_cap 1: buffer not emptied");
        seg_rule_free(r2);
        r2 = NULL;
        one[0] = 'Z';
        int32_t rc0 = seg_rule_compile(&r2, text, size, f, "fuzz", NULL, one, 0);
        CHECK(rc0 == rc, "err_cap 0 gives %d, err_cap %d gives %d", (int)rc0, ERR_CAP, (int)rc);
        CHECK(one[0] == 'Z', "err_cap 0: buffer written");
        seg_rule_free(r2);
        r2 = NULL;
        int32_t rcn = seg_rule_compile(&r2, text, size, f, NULL, NULL, NULL, 0);
        CHECK(rcn == rc, "NULL err_buf gives %d, with a buffer %d", (int)rcn, (int)rc);
        seg_rule_free(r2);
        free(one);
        if (rc != SEG_OK && strlen(err) < ERR_CAP - 1) {
            /* A 16-byte buffer receives the message's first 15 bytes. */
            char *small = fz_xmalloc(16);
            int32_t rcs = seg_rule_compile(&r2, text, size, f, "fuzz", NULL, small, 16);
            CHECK(rcs == rc, "err_cap 16 gives %d", (int)rcs);
            CHECK(memchr(small, '\0', 16) != NULL, "err_cap 16: not terminated");
            CHECK(strncmp(small, err, 15) == 0 && strlen(small) == (strlen(err) < 15 ? strlen(err) : 15),
                  "err_cap 16 gives '%s', the full message is '%s'", small, err);
            free(small);
        }
    }

    if (rc != SEG_OK) {
        free(copy);
        return 0;
    }

    /* Evaluate all rows. */
    uint8_t *full = fz_xmalloc(FZ_ROWS);
    rc = seg_rule_eval(rule, f, 0, FZ_ROWS, full, err, sizeof err);
    CHECK(rc == SEG_OK, "eval over all rows gave %d: %s", (int)rc, err);
    for (size_t i = 0; i < FZ_ROWS; i++)
        CHECK(full[i] == 0 || full[i] == 1, "row %zu: byte %u", i, (unsigned)full[i]);

    /* Sub-ranges, one of them picked from the input. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    size_t b = h % FZ_ROWS, e = b + (h >> 16) % (FZ_ROWS - b + 1);
    eval_range(rule, f, full, b, e);
    eval_range(rule, f, full, 255, 513);
    eval_range(rule, f, full, 1, 2);
    eval_range(rule, f, full, FZ_ROWS - 1, FZ_ROWS);
    eval_range(rule, f, full, FZ_ROWS, FZ_ROWS);

    /* A bad range is refused and the output untouched. */
    {
        uint8_t canary[4] = {7, 7, 7, 7};
        rc = seg_rule_eval(rule, f, 0, FZ_ROWS + 1, canary, err, sizeof err);
        CHECK(rc == SEG_EINVAL, "rows 0..%d gave %d", FZ_ROWS + 1, (int)rc);
        rc = seg_rule_eval(rule, f, 3, 2, canary, err, sizeof err);
        CHECK(rc == SEG_EINVAL, "rows 3..2 gave %d", (int)rc);
        CHECK(canary[0] == 7 && canary[1] == 7, "failed eval wrote its output");
    }

    /* The same data under other compatible column types. */
    {
        const seg_frame *alt = fz_frame_alt();
        uint8_t *m = fz_xmalloc(FZ_ROWS);
        rc = seg_rule_eval(rule, alt, 0, FZ_ROWS, m, err, sizeof err);
        CHECK(rc == SEG_OK, "eval over the alternative frame gave %d: %s", (int)rc, err);
        for (size_t i = 0; i < FZ_ROWS; i++)
            CHECK(m[i] == full[i], "row %zu: alternative frame gives %u, the frame %u", i,
                  (unsigned)m[i], (unsigned)full[i]);
        free(m);
    }

    /* Three-valued logic: "not (R)" never matches where R does, and
     * "not (not (R))" matches exactly where R does (this drives the
     * "definitely false" flags, which plain R may skip). Newlines keep a
     * trailing comment in R from swallowing the parenthesis. Wrapping may
     * pass a nesting or length limit: then it must be SEG_EPARSE. */
    {
        static const char *const pre[2] = {"not (\n", "not (not (\n"};
        static const char *const post[2] = {"\n)", "\n))"};
        for (int k = 0; k < 2; k++) {
            size_t lp = strlen(pre[k]), lq = strlen(post[k]);
            char *w = fz_xmalloc(lp + size + lq);
            memcpy(w, pre[k], lp);
            memcpy(w + lp, text, size);
            memcpy(w + lp + size, post[k], lq);
            seg_rule *wr = NULL;
            rc = seg_rule_compile(&wr, w, lp + size + lq, f, "fuzz", NULL, err, sizeof err);
            CHECK(rc == SEG_OK || rc == SEG_EPARSE, "wrapped rule gave %d", (int)rc);
            if (rc == SEG_OK) {
                uint8_t *m = fz_xmalloc(FZ_ROWS);
                rc = seg_rule_eval(wr, f, 0, FZ_ROWS, m, err, sizeof err);
                CHECK(rc == SEG_OK, "eval of the wrapped rule gave %d: %s", (int)rc, err);
                for (size_t i = 0; i < FZ_ROWS; i++) {
                    if (k == 0)
                        CHECK(!(m[i] && full[i]), "row %zu matches both R and not (R)", i);
                    else
                        CHECK(m[i] == full[i], "row %zu: not (not (R)) gives %u, R gives %u", i,
                              (unsigned)m[i], (unsigned)full[i]);
                }
                free(m);
                seg_rule_free(wr);
            } else {
                CHECK(strstr(err, "nesting too deep") || strstr(err, "too long"),
                      "R compiles but %s does not: %s", k ? "not (not (R))" : "not (R)", err);
            }
            free(w);
        }
    }

    free(full);
    seg_rule_free(rule);
    free(copy);
    return 0;
}
