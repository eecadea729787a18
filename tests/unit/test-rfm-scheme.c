/* SPDX-License-Identifier: MIT */
/*
 * RFM segment schemes: the three built-ins pinned cell by cell against
 * tables written out here, custom schemes (first match wins, others id),
 * apply() on bad scores, and every bad argument.
 */
#include <segment/segment.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-alloc.h"
#include "test-main.h"

static seg_rfm_scheme *builtin(int32_t which)
{
    seg_rfm_scheme *s = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new_builtin(&s, which, NULL), SEG_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* lower_snake English identifier: [a-z][a-z0-9_]*. */
static int is_lower_snake(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* 1 if `msg` has `tok` as a whole word (ASCII case-insensitive; word
 * characters are letters, digits and '_'). */
static int has_token(const char *msg, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = msg; *p; p++) {
        if (p != msg && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)tok[i]))
            i++;
        if (i == n && !(isalnum((unsigned char)p[n]) || p[n] == '_'))
            return 1;
    }
    return 0;
}

/* The message names dimension `dim` (0 = R, 1 = F, 2 = M) and `row`. */
static void assert_names_dim_row(const char *msg, int dim, size_t row)
{
    static const char *const words[3] = {"recency", "frequency", "monetary"};
    static const char *const letters[3] = {"r", "f", "m"};
    static const char *const params[3] = {"r_score", "f_score", "m_score"};
    ck_assert_msg(seg_test_has_word(msg, words[dim]) || has_token(msg, letters[dim]) ||
                      has_token(msg, params[dim]),
                  "message \"%s\" does not name column %s", msg, words[dim]);
    ck_assert_msg(seg_test_names_row(msg, row), "message \"%s\" does not name row %zu", msg, row);
}

/* Checks a scheme's invariants: ids valid and unique, find() agrees, names
 * present, boxes inside 1..levels, others has no box. */
static void check_scheme_shape(const seg_rfm_scheme *s)
{
    size_t count = seg_rfm_scheme_count(s);
    int32_t others = seg_rfm_scheme_others(s);
    int32_t levels = seg_rfm_scheme_levels(s);
    ck_assert_uint_ge(count, 1);
    ck_assert_int_eq(others, (int32_t)count - 1);
    ck_assert_int_ge(levels, 2);
    ck_assert_int_le(levels, 10);
    for (int32_t i = 0; i < (int32_t)count; i++) {
        const char *id = seg_rfm_scheme_id(s, i);
        const char *name = seg_rfm_scheme_name(s, i);
        ck_assert_ptr_nonnull(id);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(is_lower_snake(id), "segment %d id \"%s\" is not lower_snake", (int)i, id);
        ck_assert_msg(name[0] != '\0', "segment %d has an empty display name", (int)i);
        for (int32_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(id, seg_rfm_scheme_id(s, j)) != 0, "id \"%s\" repeated", id);
        int32_t found = CANARY_I32;
        ck_assert_int_eq(seg_rfm_scheme_find(s, id, &found), SEG_OK);
        ck_assert_int_eq(found, i);
        int32_t b[6] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
        if (i == others) {
            ck_assert_int_eq(seg_rfm_scheme_box(s, i, b), SEG_ERANGE);
            for (int k = 0; k < 6; k++)
                ck_assert_int_eq(b[k], CANARY_I32);
        } else {
            ck_assert_int_eq(seg_rfm_scheme_box(s, i, b), SEG_OK);
            for (int k = 0; k < 6; k += 2) {
                ck_assert_int_ge(b[k], 1);
                ck_assert_int_le(b[k], b[k + 1]);
                ck_assert_int_le(b[k + 1], levels);
            }
        }
    }
    ck_assert_ptr_null(seg_rfm_scheme_id(s, (int32_t)count));
    ck_assert_ptr_null(seg_rfm_scheme_name(s, (int32_t)count));
}

/* Applies the scheme to every (R, F, M) cell of 1..levels; cell index is
 * ((r-1)*L + (f-1))*L + (m-1). */
static void apply_all_cells(const seg_rfm_scheme *s, int32_t *out)
{
    const int32_t L = seg_rfm_scheme_levels(s);
    const size_t n = (size_t)(L * L * L);
    int32_t *r = malloc(n * sizeof *r), *f = malloc(n * sizeof *f), *m = malloc(n * sizeof *m);
    ck_assert(r && f && m);
    size_t i = 0;
    for (int32_t a = 1; a <= L; a++)
        for (int32_t b = 1; b <= L; b++)
            for (int32_t c = 1; c <= L; c++, i++) {
                r[i] = a;
                f[i] = b;
                m[i] = c;
            }
    char err[256] = "";
    ck_assert_msg(seg_rfm_scheme_apply(s, r, f, m, n, out, err, sizeof err) == SEG_OK, "%s", err);
    free(r);
    free(f);
    free(m);
}

/* ========================================================================
 * SEG_SCHEME_RFM10
 * ====================================================================== */

static const struct {
    const char *name;
    int32_t b[6];
} k_rfm10[10] = {
    {"Champions", {5, 5, 5, 5, 5, 5}},
    {"Potential Loyalist", {3, 5, 3, 5, 2, 5}},
    {"Loyal Customers", {2, 4, 2, 4, 2, 4}},
    {"Promising", {3, 4, 1, 3, 3, 5}},
    {"New Customers", {4, 5, 1, 3, 1, 5}},
    {"Can't Lose Them", {1, 2, 3, 4, 4, 5}},
    {"At Risk", {1, 2, 2, 5, 4, 5}},
    {"Need Attention", {1, 3, 3, 5, 3, 5}},
    {"About To Sleep", {2, 3, 1, 3, 1, 4}},
    {"Lost", {1, 1, 1, 5, 1, 5}},
};

START_TEST(rfm10_metadata)
{
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFM10);
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 11);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 10);
    ck_assert_int_eq(seg_rfm_scheme_levels(s), 5);
    check_scheme_shape(s);
    for (int32_t i = 0; i < 10; i++) {
        ck_assert_str_eq(seg_rfm_scheme_name(s, i), k_rfm10[i].name);
        int32_t b[6];
        ck_assert_int_eq(seg_rfm_scheme_box(s, i, b), SEG_OK);
        for (int k = 0; k < 6; k++)
            ck_assert_msg(b[k] == k_rfm10[i].b[k], "%s bound %d: %d, want %d", k_rfm10[i].name,
                          k, (int)b[k], (int)k_rfm10[i].b[k]);
    }
    ck_assert_str_eq(seg_rfm_scheme_name(s, 10), "Others");
    ck_assert_str_eq(seg_rfm_scheme_last_error(s), "");
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(rfm10_all_cells)
{
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFM10);
    int32_t out[125];
    for (size_t i = 0; i < 125; i++)
        out[i] = CANARY_I32;
    apply_all_cells(s, out);
    size_t i = 0, n_others = 0;
    for (int32_t r = 1; r <= 5; r++)
        for (int32_t f = 1; f <= 5; f++)
            for (int32_t m = 1; m <= 5; m++, i++) {
                int32_t want = 10; /* others */
                for (int32_t k = 0; k < 10; k++) {
                    const int32_t *b = k_rfm10[k].b;
                    if (r >= b[0] && r <= b[1] && f >= b[2] && f <= b[3] && m >= b[4] &&
                        m <= b[5]) {
                        want = k;
                        break;
                    }
                }
                n_others += want == 10;
                ck_assert_msg(out[i] == want, "cell R%d F%d M%d: segment %d, want %d (%s)",
                              (int)r, (int)f, (int)m, (int)out[i], (int)want,
                              want == 10 ? "Others" : k_rfm10[want].name);
            }
    /* Hand-picked cells, so a wrong table above would also show. */
    ck_assert_int_eq(out[124], 0);                 /* 555 Champions */
    ck_assert_int_eq(out[(4 * 5 + 4) * 5 + 3], 1); /* 554 Potential Loyalist */
    ck_assert_int_eq(out[(1 * 5 + 1) * 5 + 1], 2); /* 222 Loyal Customers */
    ck_assert_int_eq(out[(2 * 5 + 0) * 5 + 2], 3); /* 313 Promising */
    ck_assert_int_eq(out[(3 * 5 + 0) * 5 + 0], 4); /* 411 New Customers */
    ck_assert_int_eq(out[(0 * 5 + 2) * 5 + 3], 5); /* 134 Can't Lose Them */
    ck_assert_int_eq(out[(0 * 5 + 1) * 5 + 4], 6); /* 125 At Risk */
    ck_assert_int_eq(out[(1 * 5 + 4) * 5 + 2], 7); /* 253 Need Attention */
    ck_assert_int_eq(out[(1 * 5 + 0) * 5 + 0], 8); /* 211 About To Sleep */
    ck_assert_int_eq(out[(0 * 5 + 0) * 5 + 0], 9); /* 111 Lost */
    ck_assert_int_eq(out[(1 * 5 + 0) * 5 + 4], 10); /* 215 Others */
    ck_assert_uint_gt(n_others, 0);
    seg_rfm_scheme_free(s);
}
END_TEST

/* ========================================================================
 * SEG_SCHEME_RFGRID
 * ====================================================================== */

static const struct {
    const char *id;
    int32_t r_lo, r_hi, f_lo, f_hi;
} k_rfgrid[10] = {
    {"hibernating", 1, 2, 1, 2},     {"at_risk", 1, 2, 3, 4},
    {"cant_loose", 1, 2, 5, 5},      {"about_to_sleep", 3, 3, 1, 2},
    {"need_attention", 3, 3, 3, 3},  {"loyal_customers", 3, 4, 4, 5},
    {"promising", 4, 4, 1, 1},       {"new_customers", 5, 5, 1, 1},
    {"potential_loyalists", 4, 5, 2, 3}, {"champions", 5, 5, 4, 5},
};

START_TEST(rfgrid_metadata_and_coverage)
{
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFGRID);
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 11);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 10);
    ck_assert_int_eq(seg_rfm_scheme_levels(s), 5);
    check_scheme_shape(s);

    /* Each expected id exists with the expected box (M unused: 1..5). */
    int32_t seg_of[10];
    for (size_t k = 0; k < 10; k++) {
        int32_t id = CANARY_I32;
        ck_assert_msg(seg_rfm_scheme_find(s, k_rfgrid[k].id, &id) == SEG_OK, "no segment %s",
                      k_rfgrid[k].id);
        ck_assert_int_ge(id, 0);
        ck_assert_int_lt(id, 10);
        seg_of[k] = id;
        int32_t b[6];
        ck_assert_int_eq(seg_rfm_scheme_box(s, id, b), SEG_OK);
        ck_assert_int_eq(b[0], k_rfgrid[k].r_lo);
        ck_assert_int_eq(b[1], k_rfgrid[k].r_hi);
        ck_assert_int_eq(b[2], k_rfgrid[k].f_lo);
        ck_assert_int_eq(b[3], k_rfgrid[k].f_hi);
        ck_assert_int_eq(b[4], 1);
        ck_assert_int_eq(b[5], 5);
    }

    /* Coverage: every (R, F) cell lies in exactly one box. */
    for (int32_t r = 1; r <= 5; r++)
        for (int32_t f = 1; f <= 5; f++) {
            int hits = 0;
            for (int32_t k = 0; k < 10; k++) {
                int32_t b[6];
                ck_assert_int_eq(seg_rfm_scheme_box(s, k, b), SEG_OK);
                hits += r >= b[0] && r <= b[1] && f >= b[2] && f <= b[3];
            }
            ck_assert_msg(hits == 1, "cell R%d F%d is in %d boxes", (int)r, (int)f, hits);
        }

    /* Apply: every one of the 125 cells gets the expected non-others segment. */
    int32_t out[125];
    apply_all_cells(s, out);
    size_t i = 0;
    for (int32_t r = 1; r <= 5; r++)
        for (int32_t f = 1; f <= 5; f++)
            for (int32_t m = 1; m <= 5; m++, i++) {
                int32_t want = -100;
                for (size_t k = 0; k < 10; k++)
                    if (r >= k_rfgrid[k].r_lo && r <= k_rfgrid[k].r_hi && f >= k_rfgrid[k].f_lo &&
                        f <= k_rfgrid[k].f_hi)
                        want = seg_of[k];
                ck_assert_int_ne(out[i], 10);
                ck_assert_msg(out[i] == want, "cell R%d F%d M%d: %s, want %s", (int)r, (int)f,
                              (int)m, seg_rfm_scheme_id(s, out[i]), seg_rfm_scheme_id(s, want));
            }
    /* Spot checks by id. */
    ck_assert_str_eq(seg_rfm_scheme_id(s, out[(4 * 5 + 4) * 5 + 0]), "champions");
    ck_assert_str_eq(seg_rfm_scheme_id(s, out[(0 * 5 + 4) * 5 + 2]), "cant_loose");
    ck_assert_str_eq(seg_rfm_scheme_id(s, out[(2 * 5 + 2) * 5 + 4]), "need_attention");
    ck_assert_str_eq(seg_rfm_scheme_id(s, out[(4 * 5 + 0) * 5 + 1]), "new_customers");
    seg_rfm_scheme_free(s);
}
END_TEST

/* ========================================================================
 * SEG_SCHEME_CLASSIC8
 * ====================================================================== */

START_TEST(classic8_cells)
{
    static const struct {
        int32_t r, f, m;
        const char *name;
    } cells[8] = {
        {2, 2, 2, "重要价值客户"}, {2, 1, 2, "重要发展客户"}, {1, 2, 2, "重要保持客户"},
        {1, 1, 2, "重要挽留客户"}, {2, 2, 1, "一般价值客户"}, {2, 1, 1, "一般发展客户"},
        {1, 2, 1, "一般保持客户"}, {1, 1, 1, "一般挽留客户"},
    };
    seg_rfm_scheme *s = builtin(SEG_SCHEME_CLASSIC8);
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 9);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 8);
    ck_assert_int_eq(seg_rfm_scheme_levels(s), 2);
    check_scheme_shape(s);

    int32_t r[8], f[8], m[8], out[8];
    for (size_t i = 0; i < 8; i++) {
        r[i] = cells[i].r;
        f[i] = cells[i].f;
        m[i] = cells[i].m;
        out[i] = CANARY_I32;
    }
    char err[256] = "";
    ck_assert_msg(seg_rfm_scheme_apply(s, r, f, m, 8, out, err, sizeof err) == SEG_OK, "%s", err);
    for (size_t i = 0; i < 8; i++) {
        ck_assert_int_ge(out[i], 0);
        ck_assert_int_lt(out[i], 8); /* never others */
        ck_assert_msg(strcmp(seg_rfm_scheme_name(s, out[i]), cells[i].name) == 0,
                      "R%d F%d M%d is \"%s\", want \"%s\"", (int)r[i], (int)f[i], (int)m[i],
                      seg_rfm_scheme_name(s, out[i]), cells[i].name);
        for (size_t j = 0; j < i; j++)
            ck_assert_int_ne(out[i], out[j]);
    }
    /* High on all three (2 = recent, frequent, high spend) is important_value. */
    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_rfm_scheme_find(s, "important_value", &id), SEG_OK);
    ck_assert_int_eq(id, out[0]);
    ck_assert_str_eq(seg_rfm_scheme_name(s, id), "重要价值客户");
    int32_t b[6];
    ck_assert_int_eq(seg_rfm_scheme_box(s, id, b), SEG_OK);
    for (int k = 0; k < 6; k++)
        ck_assert_int_eq(b[k], 2);
    /* Every box is a single cell. */
    for (int32_t k = 0; k < 8; k++) {
        ck_assert_int_eq(seg_rfm_scheme_box(s, k, b), SEG_OK);
        ck_assert_int_eq(b[0], b[1]);
        ck_assert_int_eq(b[2], b[3]);
        ck_assert_int_eq(b[4], b[5]);
    }

    /* Five-level scores are refused, naming column and row, nothing written. */
    const int32_t r5[3] = {1, 5, 2}, f5[3] = {1, 1, 2}, m5[3] = {2, 2, 2};
    int32_t out5[3] = {CANARY_I32, CANARY_I32, CANARY_I32};
    err[0] = '\0';
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r5, f5, m5, 3, out5, err, sizeof err), SEG_EDATA);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(out5[i], CANARY_I32);
    assert_names_dim_row(err, 0, 1);
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(builtin_unknown)
{
    const int32_t bad[] = {0, 4, -1, 100, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seg_rfm_scheme *s = CANARY_PTR;
        ck_assert_int_eq(seg_rfm_scheme_new_builtin(&s, bad[i], NULL), SEG_EINVAL);
        ck_assert_ptr_eq(s, CANARY_PTR);
    }
    ck_assert_int_eq(seg_rfm_scheme_new_builtin(NULL, SEG_SCHEME_RFM10, NULL), SEG_EINVAL);
}
END_TEST

/* ========================================================================
 * apply(): unscored rows, bad scores, n = 0, error buffer
 * ====================================================================== */

START_TEST(apply_unscored_rows)
{
    const int32_t which[3] = {SEG_SCHEME_RFM10, SEG_SCHEME_RFGRID, SEG_SCHEME_CLASSIC8};
    for (size_t w = 0; w < 3; w++) {
        seg_rfm_scheme *s = builtin(which[w]);
        /* Rows: any zero -> NONE, otherwise a real segment. */
        const int32_t r[6] = {0, 1, 1, 0, 0, 1};
        const int32_t f[6] = {1, 0, 1, 0, 1, 1};
        const int32_t m[6] = {1, 1, 0, 0, 0, 1};
        int32_t out[6];
        for (size_t i = 0; i < 6; i++)
            out[i] = CANARY_I32;
        char err[128] = "";
        ck_assert_msg(seg_rfm_scheme_apply(s, r, f, m, 6, out, err, sizeof err) == SEG_OK, "%s",
                      err);
        for (size_t i = 0; i < 5; i++)
            ck_assert_int_eq(out[i], SEG_SEGMENT_NONE);
        ck_assert_int_ge(out[5], 0);
        ck_assert_int_lt(out[5], (int32_t)seg_rfm_scheme_count(s));
        ck_assert_int_eq(SEG_SEGMENT_NONE, -1);
        seg_rfm_scheme_free(s);
    }
}
END_TEST

/* Runs apply on one bad value and checks the whole contract. */
static void check_bad_score(const seg_rfm_scheme *s, int dim, size_t row, int32_t value)
{
    int32_t col[3][6];
    for (size_t i = 0; i < 6; i++)
        col[0][i] = col[1][i] = col[2][i] = 1;
    col[dim][row] = value;
    int32_t out[6];
    for (size_t i = 0; i < 6; i++)
        out[i] = CANARY_I32;
    char err[256];
    memset(err, 'Z', sizeof err);
    err[sizeof err - 1] = '\0';
    int32_t rc = seg_rfm_scheme_apply(s, col[0], col[1], col[2], 6, out, err, sizeof err);
    ck_assert_msg(rc == SEG_EDATA, "dim %d row %zu value %d: rc %d", dim, row, (int)value,
                  (int)rc);
    for (size_t i = 0; i < 6; i++)
        ck_assert_msg(out[i] == CANARY_I32, "out[%zu] written on failure", i);
    ck_assert_ptr_nonnull(memchr(err, '\0', sizeof err));
    ck_assert_msg(err[0] != 'Z' && err[0] != '\0', "no message");
    assert_names_dim_row(err, dim, row);
    /* No error buffer: same status, no crash. */
    ck_assert_int_eq(seg_rfm_scheme_apply(s, col[0], col[1], col[2], 6, out, NULL, 0), SEG_EDATA);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, col[0], col[1], col[2], 6, out, NULL, 64),
                     SEG_EDATA);
    for (size_t i = 0; i < 6; i++)
        ck_assert_int_eq(out[i], CANARY_I32);
}

START_TEST(apply_bad_scores)
{
    seg_rfm_scheme *s5 = builtin(SEG_SCHEME_RFM10);
    check_bad_score(s5, 0, 2, 6);
    check_bad_score(s5, 1, 0, -1);
    check_bad_score(s5, 2, 5, 99);
    check_bad_score(s5, 2, 3, INT32_MIN);
    check_bad_score(s5, 0, 4, INT32_MAX);
    seg_rfm_scheme_free(s5);

    seg_rfm_scheme *s2 = builtin(SEG_SCHEME_CLASSIC8);
    check_bad_score(s2, 0, 1, 5);
    check_bad_score(s2, 1, 3, 3);
    check_bad_score(s2, 2, 0, -2);
    seg_rfm_scheme_free(s2);

    /* A bad score is refused even on a row with another score 0. */
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFGRID);
    const int32_t r[2] = {1, 0}, f[2] = {1, 7}, m[2] = {1, 1};
    int32_t out[2] = {CANARY_I32, CANARY_I32};
    char err[256] = "";
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r, f, m, 2, out, err, sizeof err), SEG_EDATA);
    ck_assert_int_eq(out[0], CANARY_I32);
    ck_assert_int_eq(out[1], CANARY_I32);
    assert_names_dim_row(err, 1, 1);
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(apply_err_buf_capacity)
{
    seg_rfm_scheme *s = builtin(SEG_SCHEME_CLASSIC8);
    const int32_t r[2] = {1, 9}, f[2] = {1, 1}, m[2] = {1, 1};
    int32_t out[2];
    char buf[32];

    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r, f, m, 2, out, buf, 0), SEG_EDATA);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'Z');

    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r, f, m, 2, out, buf, 1), SEG_EDATA);
    ck_assert_int_eq(buf[0], '\0');
    for (size_t i = 1; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'Z');

    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r, f, m, 2, out, buf, 8), SEG_EDATA);
    ck_assert_uint_eq(strlen(buf), 7); /* truncated, terminated */
    for (size_t i = 8; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'Z');
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(apply_zero_rows)
{
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFM10);
    const int32_t r[1] = {5}, f[1] = {5}, m[1] = {5};
    int32_t out[1] = {CANARY_I32};
    char err[64] = "";
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r, f, m, 0, out, err, sizeof err), SEG_OK);
    ck_assert_int_eq(out[0], CANARY_I32);
    /* With n = 0 the arrays may be NULL. */
    ck_assert_int_eq(seg_rfm_scheme_apply(s, NULL, NULL, NULL, 0, NULL, NULL, 0), SEG_OK);
    seg_rfm_scheme_free(s);
}
END_TEST

/* ========================================================================
 * Custom schemes
 * ====================================================================== */

START_TEST(custom_first_match_and_others)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_rfm_scheme *s = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 3, "others", "Others", &ta.base), SEG_OK);
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 1);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 0);
    ck_assert_int_eq(seg_rfm_scheme_levels(s), 3);
    ck_assert_str_eq(seg_rfm_scheme_id(s, 0), "others");
    ck_assert_str_eq(seg_rfm_scheme_name(s, 0), "Others");
    ck_assert_str_eq(seg_rfm_scheme_last_error(s), "");

    /* No boxes: every scored row is others. */
    const int32_t r1[2] = {1, 3}, f1[2] = {2, 3}, m1[2] = {3, 1};
    int32_t o1[2] = {CANARY_I32, CANARY_I32};
    ck_assert_int_eq(seg_rfm_scheme_apply(s, r1, f1, m1, 2, o1, NULL, 0), SEG_OK);
    ck_assert_int_eq(o1[0], 0);
    ck_assert_int_eq(o1[1], 0);

    /* Two overlapping boxes: the first added wins. */
    ck_assert_int_eq(seg_rfm_scheme_add(s, "low_m", "Low spend", 1, 3, 1, 3, 1, 1), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 1);
    ck_assert_int_eq(seg_rfm_scheme_add(s, "everyone", "Everyone ✓", 1, 3, 1, 3, 1, 3), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_add(s, "top", "Top", 3, 3, 3, 3, 3, 3), SEG_OK); /* shadowed */
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 4);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 3);
    ck_assert_str_eq(seg_rfm_scheme_id(s, 3), "others");
    ck_assert_str_eq(seg_rfm_scheme_name(s, 1), "Everyone ✓");
    ck_assert_str_eq(seg_rfm_scheme_last_error(s), "");
    check_scheme_shape(s);

    int32_t b[6];
    ck_assert_int_eq(seg_rfm_scheme_box(s, 0, b), SEG_OK);
    const int32_t want_b[6] = {1, 3, 1, 3, 1, 1};
    for (int k = 0; k < 6; k++)
        ck_assert_int_eq(b[k], want_b[k]);

    int32_t out[27];
    apply_all_cells(s, out);
    for (size_t i = 0; i < 27; i++) {
        const int32_t m = (int32_t)(i % 3) + 1;
        ck_assert_int_eq(out[i], m == 1 ? 0 : 1); /* never "top", never others */
    }

    /* A narrower scheme with gaps: cells outside every box are others. */
    seg_rfm_scheme *g = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new(&g, 4, "rest", "Rest", NULL), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_add(g, "corner", "Corner", 4, 4, 4, 4, 4, 4), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_add(g, "slab", "Slab", 1, 2, 1, 4, 2, 3), SEG_OK);
    int32_t og[64];
    apply_all_cells(g, og);
    size_t i = 0;
    for (int32_t r = 1; r <= 4; r++)
        for (int32_t f = 1; f <= 4; f++)
            for (int32_t m = 1; m <= 4; m++, i++) {
                int32_t want = 2;
                if (r == 4 && f == 4 && m == 4)
                    want = 0;
                else if (r <= 2 && m >= 2 && m <= 3)
                    want = 1;
                ck_assert_int_eq(og[i], want);
            }
    seg_rfm_scheme_free(g);

    seg_rfm_scheme_free(s);
    ck_assert_uint_eq(ta.live, 0);
}
END_TEST

START_TEST(custom_levels_bounds)
{
    const int32_t bad[] = {1, 11, 0, -1, 100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seg_rfm_scheme *s = CANARY_PTR;
        ck_assert_int_eq(seg_rfm_scheme_new(&s, bad[i], "others", "Others", NULL), SEG_ERANGE);
        ck_assert_ptr_eq(s, CANARY_PTR);
    }
    for (int32_t levels = 2; levels <= 10; levels++) {
        seg_rfm_scheme *s = NULL;
        ck_assert_int_eq(seg_rfm_scheme_new(&s, levels, "others", "Others", NULL), SEG_OK);
        ck_assert_int_eq(seg_rfm_scheme_levels(s), levels);
        /* The full range box is accepted, one past it is not. */
        ck_assert_int_eq(
            seg_rfm_scheme_add(s, "all", "All", 1, levels, 1, levels, 1, levels), SEG_OK);
        ck_assert_int_eq(
            seg_rfm_scheme_add(s, "over", "Over", 1, levels + 1, 1, levels, 1, levels),
            SEG_ERANGE);
        /* Scores up to `levels` are accepted, levels + 1 is not. */
        const int32_t top[1] = {levels}, over[1] = {levels + 1};
        int32_t out[1] = {CANARY_I32};
        ck_assert_int_eq(seg_rfm_scheme_apply(s, top, top, top, 1, out, NULL, 0), SEG_OK);
        ck_assert_int_eq(out[0], 0);
        out[0] = CANARY_I32;
        ck_assert_int_eq(seg_rfm_scheme_apply(s, top, over, top, 1, out, NULL, 0), SEG_EDATA);
        ck_assert_int_eq(out[0], CANARY_I32);
        seg_rfm_scheme_free(s);
    }
}
END_TEST

/* A failed add leaves the scheme as it was and a message. */
static void assert_add_fails(seg_rfm_scheme *s, int32_t want, const char *id, const char *name,
                             int32_t r_lo, int32_t r_hi, int32_t f_lo, int32_t f_hi,
                             int32_t m_lo, int32_t m_hi, const char *label)
{
    size_t count = seg_rfm_scheme_count(s);
    int32_t others = seg_rfm_scheme_others(s);
    int32_t rc = seg_rfm_scheme_add(s, id, name, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi);
    ck_assert_msg(rc == want, "%s: rc %d, want %d", label, (int)rc, (int)want);
    ck_assert_uint_eq(seg_rfm_scheme_count(s), count);
    ck_assert_int_eq(seg_rfm_scheme_others(s), others);
    const char *msg = seg_rfm_scheme_last_error(s);
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(msg[0] != '\0', "%s: no message", label);
}

START_TEST(custom_add_errors)
{
    seg_rfm_scheme *s = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 5, "others", "Others", NULL), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_add(s, "first", "First", 1, 5, 1, 5, 1, 5), SEG_OK);

    /* Bounds: 0 and levels + 1 in each of the six positions, and lo > hi
     * in each dimension. */
    for (int pos = 0; pos < 6; pos++) {
        const int32_t values[2] = {0, 6};
        for (int v = 0; v < 2; v++) {
            int32_t b[6] = {1, 5, 1, 5, 1, 5};
            b[pos] = values[v];
            char label[64];
            snprintf(label, sizeof label, "bound %d = %d", pos, (int)values[v]);
            assert_add_fails(s, SEG_ERANGE, "box", "Box", b[0], b[1], b[2], b[3], b[4], b[5],
                             label);
        }
    }
    for (int dim = 0; dim < 3; dim++) {
        int32_t b[6] = {1, 5, 1, 5, 1, 5};
        b[2 * dim] = 4;
        b[2 * dim + 1] = 3;
        char label[64];
        snprintf(label, sizeof label, "dimension %d lo > hi", dim);
        assert_add_fails(s, SEG_ERANGE, "box", "Box", b[0], b[1], b[2], b[3], b[4], b[5], label);
    }
    assert_add_fails(s, SEG_ERANGE, "box", "Box", -1, 5, 1, 5, 1, 5, "negative");

    /* Duplicate identifiers, including the others identifier. */
    assert_add_fails(s, SEG_EEXISTS, "first", "Another", 1, 1, 1, 1, 1, 1, "duplicate");
    ck_assert_str_eq(seg_rfm_scheme_name(s, 0), "First");
    assert_add_fails(s, SEG_EEXISTS, "others", "Others again", 1, 1, 1, 1, 1, 1,
                     "others identifier");

    /* Bad identifiers. */
    char long_id[SEG_SCHEME_NAME_MAX + 2];
    memset(long_id, 'a', SEG_SCHEME_NAME_MAX + 1);
    long_id[SEG_SCHEME_NAME_MAX + 1] = '\0';
    const char *bad_ids[] = {"9x", "a b", "", "a-b", "a.b", "caf\xc3\xa9", "x\n", "\xff", long_id};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "bad identifier %zu", i);
        assert_add_fails(s, SEG_EINVAL, bad_ids[i], "Name", 1, 1, 1, 1, 1, 1, label);
    }

    /* Bad display names. */
    char long_name[SEG_SCHEME_NAME_MAX + 2];
    memset(long_name, 'N', SEG_SCHEME_NAME_MAX + 1);
    long_name[SEG_SCHEME_NAME_MAX + 1] = '\0';
    const char *bad_names[] = {"\xff", "Bad \xc0\xaf", "\xed\xa0\x80", "trunc \xe6\x9c",
                               long_name};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "bad display name %zu", i);
        assert_add_fails(s, SEG_EINVAL, "fine_id", bad_names[i], 1, 1, 1, 1, 1, 1, label);
    }

    /* NULLs. */
    assert_add_fails(s, SEG_EINVAL, NULL, "Name", 1, 1, 1, 1, 1, 1, "NULL id");
    assert_add_fails(s, SEG_EINVAL, "fine_id", NULL, 1, 1, 1, 1, 1, 1, "NULL name");
    ck_assert_int_eq(seg_rfm_scheme_add(NULL, "x", "X", 1, 1, 1, 1, 1, 1), SEG_EINVAL);

    /* Nothing above was half-added; longest valid names work; success
     * clears the message. */
    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_rfm_scheme_find(s, "fine_id", &id), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_rfm_scheme_find(s, "box", &id), SEG_ENOTFOUND);
    ck_assert_int_eq(id, CANARY_I32);
    long_id[SEG_SCHEME_NAME_MAX] = '\0';
    long_name[SEG_SCHEME_NAME_MAX] = '\0';
    ck_assert_int_eq(seg_rfm_scheme_add(s, long_id, long_name, 2, 3, 2, 3, 2, 3), SEG_OK);
    ck_assert_str_eq(seg_rfm_scheme_last_error(s), "");
    ck_assert_int_eq(seg_rfm_scheme_add(s, "Mixed_Case9", "Can't Lose Them", 1, 1, 1, 1, 1, 1),
                     SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_add(s, "fine_id", "重要价值客户 💰", 2, 2, 2, 2, 2, 2),
                     SEG_OK);
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 5);
    ck_assert_int_eq(seg_rfm_scheme_find(s, long_id, &id), SEG_OK);
    ck_assert_int_eq(id, 1);
    ck_assert_str_eq(seg_rfm_scheme_name(s, 1), long_name);
    ck_assert_int_eq(seg_rfm_scheme_find(s, "fine_id", &id), SEG_OK);
    ck_assert_int_eq(id, 3);
    ck_assert_str_eq(seg_rfm_scheme_name(s, 3), "重要价值客户 💰");
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(custom_new_errors)
{
    seg_rfm_scheme *s = CANARY_PTR;
    ck_assert_int_eq(seg_rfm_scheme_new(NULL, 5, "others", "Others", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 5, NULL, "Others", NULL), SEG_EINVAL);
    ck_assert_ptr_eq(s, CANARY_PTR);
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 5, "others", NULL, NULL), SEG_EINVAL);
    ck_assert_ptr_eq(s, CANARY_PTR);
    const char *bad_ids[] = {"", "9x", "a b", "oth-ers"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        ck_assert_int_eq(seg_rfm_scheme_new(&s, 5, bad_ids[i], "Others", NULL), SEG_EINVAL);
        ck_assert_ptr_eq(s, CANARY_PTR);
    }
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 5, "others", "\xc0\xaf", NULL), SEG_EINVAL);
    ck_assert_ptr_eq(s, CANARY_PTR);

    /* Non-ASCII display name for others is fine. */
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 2, "others", "其他客户", NULL), SEG_OK);
    ck_assert_str_eq(seg_rfm_scheme_name(s, 0), "其他客户");
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(many_boxes)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_rfm_scheme *s = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new(&s, 10, "others", "Others", &ta.base), SEG_OK);
    char id[32];
    /* 100 boxes, one per (R, F) cell: box k covers R = k/10+1,
     * F = k%10+1, M = 1..10. */
    for (int32_t k = 0; k < 100; k++) {
        snprintf(id, sizeof id, "cell_%d", (int)k);
        ck_assert_int_eq(seg_rfm_scheme_add(s, id, id, k / 10 + 1, k / 10 + 1, k % 10 + 1,
                                            k % 10 + 1, 1, 10),
                         SEG_OK);
    }
    ck_assert_uint_eq(seg_rfm_scheme_count(s), 101);
    ck_assert_int_eq(seg_rfm_scheme_others(s), 100);
    int32_t out[1000];
    apply_all_cells(s, out);
    for (size_t i = 0; i < 1000; i++) {
        const int32_t r = (int32_t)(i / 100), f = (int32_t)(i / 10 % 10);
        ck_assert_int_eq(out[i], r * 10 + f);
    }
    int32_t found = CANARY_I32;
    ck_assert_int_eq(seg_rfm_scheme_find(s, "cell_57", &found), SEG_OK);
    ck_assert_int_eq(found, 57);
    ck_assert_str_eq(seg_rfm_scheme_name(s, 57), "cell_57");
    seg_rfm_scheme_free(s);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
}
END_TEST

/* ========================================================================
 * Lookups and NULL arguments
 * ====================================================================== */

START_TEST(lookups_and_bad_ids)
{
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFM10);
    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_rfm_scheme_find(s, "no_such_segment", &id), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_rfm_scheme_find(s, "", &id), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_rfm_scheme_find(s, "Champions", &id), SEG_ENOTFOUND); /* a name, not an id */
    ck_assert_int_eq(id, CANARY_I32);
    ck_assert_int_eq(seg_rfm_scheme_find(s, NULL, &id), SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_scheme_find(s, seg_rfm_scheme_id(s, 3), NULL), SEG_EINVAL);
    ck_assert_int_eq(id, CANARY_I32);

    const int32_t bad[] = {-1, 11, 12, INT32_MAX, INT32_MIN, SEG_SEGMENT_NONE};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_ptr_null(seg_rfm_scheme_id(s, bad[i]));
        ck_assert_ptr_null(seg_rfm_scheme_name(s, bad[i]));
        int32_t b[6] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
        ck_assert_int_eq(seg_rfm_scheme_box(s, bad[i], b), SEG_ERANGE);
        for (int k = 0; k < 6; k++)
            ck_assert_int_eq(b[k], CANARY_I32);
    }
    int32_t b[6] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
    ck_assert_int_eq(seg_rfm_scheme_box(s, 10, b), SEG_ERANGE); /* others has no box */
    ck_assert_int_eq(b[0], CANARY_I32);
    ck_assert_int_eq(seg_rfm_scheme_box(s, 0, NULL), SEG_EINVAL);
    ck_assert_str_eq(seg_rfm_scheme_last_error(s), "");
    seg_rfm_scheme_free(s);
}
END_TEST

START_TEST(null_arguments)
{
    ck_assert_uint_eq(seg_rfm_scheme_count(NULL), 0);
    ck_assert_int_eq(seg_rfm_scheme_others(NULL), -1);
    ck_assert_int_eq(seg_rfm_scheme_levels(NULL), 0);
    ck_assert_ptr_null(seg_rfm_scheme_id(NULL, 0));
    ck_assert_ptr_null(seg_rfm_scheme_name(NULL, 0));
    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_rfm_scheme_find(NULL, "champions", &id), SEG_EINVAL);
    ck_assert_int_eq(id, CANARY_I32);
    int32_t b[6] = {CANARY_I32, 0, 0, 0, 0, 0};
    ck_assert_int_eq(seg_rfm_scheme_box(NULL, 0, b), SEG_EINVAL);
    ck_assert_int_eq(b[0], CANARY_I32);
    const char *msg = seg_rfm_scheme_last_error(NULL);
    ck_assert_ptr_nonnull(msg);
    ck_assert_str_eq(msg, "");
    seg_rfm_scheme_free(NULL);

    const int32_t one[2] = {1, 1};
    int32_t out[2] = {CANARY_I32, CANARY_I32};
    char err[64] = "";
    ck_assert_int_eq(seg_rfm_scheme_apply(NULL, one, one, one, 2, out, err, sizeof err),
                     SEG_EINVAL);
    seg_rfm_scheme *s = builtin(SEG_SCHEME_RFM10);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, NULL, one, one, 2, out, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, one, NULL, one, 2, out, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, one, one, NULL, 2, out, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_rfm_scheme_apply(s, one, one, one, 2, NULL, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(out[0], CANARY_I32);
    ck_assert_int_eq(out[1], CANARY_I32);
    /* And the good call works. */
    ck_assert_int_eq(seg_rfm_scheme_apply(s, one, one, one, 2, out, err, sizeof err), SEG_OK);
    ck_assert_int_eq(out[0], 9); /* Lost */
    ck_assert_int_eq(out[1], 9);
    seg_rfm_scheme_free(s);
}
END_TEST

static Suite *scheme_suite(void)
{
    Suite *s = suite_create("rfm_scheme");
    TCase *tc = tcase_create("builtin");
    tcase_add_test(tc, rfm10_metadata);
    tcase_add_test(tc, rfm10_all_cells);
    tcase_add_test(tc, rfgrid_metadata_and_coverage);
    tcase_add_test(tc, classic8_cells);
    tcase_add_test(tc, builtin_unknown);
    suite_add_tcase(s, tc);

    tc = tcase_create("apply");
    tcase_add_test(tc, apply_unscored_rows);
    tcase_add_test(tc, apply_bad_scores);
    tcase_add_test(tc, apply_err_buf_capacity);
    tcase_add_test(tc, apply_zero_rows);
    suite_add_tcase(s, tc);

    tc = tcase_create("custom");
    tcase_add_test(tc, custom_first_match_and_others);
    tcase_add_test(tc, custom_levels_bounds);
    tcase_add_test(tc, custom_add_errors);
    tcase_add_test(tc, custom_new_errors);
    tcase_add_test(tc, many_boxes);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, lookups_and_bad_ids);
    tcase_add_test(tc, null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(scheme_suite());
}
