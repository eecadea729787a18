/* SPDX-License-Identifier: MIT */
/*
 * The rule language (<segment/rule.h>, doc/rules.md): known answers worked
 * out by hand on small frames for every operator, precedence level and
 * function; three-valued logic with every kind of missing value (NaN,
 * validity bitmaps, NULL strings, negative dictionary codes); text columns;
 * sub-ranges and block boundaries; evaluation against other frames; every
 * class of compile error with its exact position and message; bad
 * arguments; allocation failures; threads; long and deeply nested rules.
 */
#include <segment/segment.h>

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-alloc.h"
#include "test-main.h"

#define CANARY_RULE ((seg_rule *)CANARY_PTR)

/* Copies s into buf with newlines, tabs and CRs shown as \n, \t, \r, so a
 * failure message stays on one TAP line. */
static const char *oneline(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 3 < cap; s++) {
        char e = *s == '\n' ? 'n' : *s == '\t' ? 't' : *s == '\r' ? 'r' : 0;
        if (e) {
            buf[o++] = '\\';
            buf[o++] = e;
        } else {
            buf[o++] = *s;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* ========================================================================
 * Helpers
 * ====================================================================== */

static seg_frame *new_frame(size_t n_rows)
{
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n_rows, NULL), SEG_OK);
    return f;
}

static seg_rule *compile_at(const seg_frame *f, const char *text, int line)
{
    seg_rule *r = NULL;
    char err[512] = "";
    int32_t rc = seg_rule_compile(&r, text, strlen(text), f, NULL, NULL, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "line %d: compile \"%s\" gave %d: %s", line, text, (int)rc, err);
    ck_assert_ptr_nonnull(r);
    return r;
}
#define COMPILE(f, text) compile_at((f), (text), __LINE__)

/* Evaluates all rows into a '0'/'1' string (caller frees). */
static char *eval_string(const seg_rule *r, const seg_frame *f, int line, const char *text)
{
    size_t n = seg_frame_n_rows(f);
    uint8_t *m = malloc(n + 1);
    char *s = malloc(n + 1);
    ck_assert(m && s);
    memset(m, CANARY_U8, n + 1);
    char err[256] = "";
    int32_t rc = seg_rule_eval(r, f, 0, n, m, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "line %d: eval \"%s\" gave %d: %s", line, text, (int)rc, err);
    ck_assert_msg(m[n] == CANARY_U8, "line %d: eval wrote past the end", line);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(m[i] == 0 || m[i] == 1, "line %d: \"%s\" row %zu: byte %u", line, text, i,
                      (unsigned)m[i]);
        s[i] = (char)('0' + m[i]);
    }
    s[n] = '\0';
    free(m);
    return s;
}

/* The rule's matches on every row of f, as '0'/'1' per row, must be `want`. */
static void expect_at(const seg_frame *f, const char *text, const char *want, int line)
{
    ck_assert_msg(strlen(want) == seg_frame_n_rows(f), "line %d: bad expectation", line);
    seg_rule *r = compile_at(f, text, line);
    char *got = eval_string(r, f, line, text);
    ck_assert_msg(strcmp(got, want) == 0, "line %d: rule \"%s\": matched %s, want %s", line, text,
                  got, want);
    free(got);
    seg_rule_free(r);
}
#define EXPECT(f, text, want) expect_at((f), (text), (want), __LINE__)

/* The numeric expression `expr` must have the value want[i] on row i
 * (NaN: missing). Checked through is_missing(expr) and (expr) == want[i]. */
static void expect_values_at(const seg_frame *f, const char *expr, const double *want, int line)
{
    size_t n = seg_frame_n_rows(f);
    char text[1024];
    snprintf(text, sizeof text, "is_missing(%s)", expr);
    seg_rule *r = compile_at(f, text, line);
    char *miss = eval_string(r, f, line, text);
    seg_rule_free(r);
    for (size_t i = 0; i < n; i++) {
        int want_missing = isnan(want[i]);
        ck_assert_msg(miss[i] == '0' + want_missing, "line %d: %s on row %zu: %s, want %s", line,
                      text, i, miss[i] == '1' ? "missing" : "present",
                      want_missing ? "missing" : "present");
        if (want_missing)
            continue;
        snprintf(text, sizeof text, "(%s) == %.17g", expr, want[i]);
        r = compile_at(f, text, line);
        char *eq = eval_string(r, f, line, text);
        seg_rule_free(r);
        ck_assert_msg(eq[i] == '1', "line %d: %s is not %.17g on row %zu", line, expr, want[i], i);
        free(eq);
    }
    free(miss);
}
#define EXPECT_VALUES(f, expr, ...)                                                  \
    do {                                                                             \
        static const double want_[] = __VA_ARGS__;                                   \
        ck_assert_uint_eq(sizeof want_ / sizeof *want_, seg_frame_n_rows(f));         \
        expect_values_at((f), (expr), want_, __LINE__);                              \
    } while (0)

/* ========================================================================
 * Arithmetic frame: a, b, c (doubles; a is NaN on the last row)
 * ====================================================================== */

static double g_a[7], g_b[7], g_c[7];

static seg_frame *arith_frame(void)
{
    static const double a[7] = {1, 2, 3, -4, 0, 10, 0};
    static const double b[7] = {2, 0, 3, 5, -1, 2.5, 1};
    static const double c[7] = {3, 4, -1, 2, 0, 0.5, 2};
    memcpy(g_a, a, sizeof a);
    memcpy(g_b, b, sizeof b);
    memcpy(g_c, c, sizeof c);
    g_a[6] = NAN;
    seg_frame *f = new_frame(7);
    ck_assert_int_eq(seg_frame_add_double(f, "a", g_a, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "b", g_b, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "c", g_c, NULL), SEG_OK);
    return f;
}

#define NA NAN

START_TEST(arithmetic_values)
{
    seg_frame *f = arith_frame();
    /* a = {1, 2, 3, -4, 0, 10, NA}, b = {2, 0, 3, 5, -1, 2.5, 1}, c = {3, 4, -1, 2, 0, 0.5, 2} */
    EXPECT_VALUES(f, "a", {1, 2, 3, -4, 0, 10, NA});
    EXPECT_VALUES(f, "a + b", {3, 2, 6, 1, -1, 12.5, NA});
    EXPECT_VALUES(f, "a - b", {-1, 2, 0, -9, 1, 7.5, NA});
    EXPECT_VALUES(f, "a * b", {2, 0, 9, -20, 0, 25, NA});
    /* division by zero is missing (row 1), 0 / -1 is zero (row 4) */
    EXPECT_VALUES(f, "a / b", {0.5, NA, 1, -0.8, 0, 4, NA});
    EXPECT_VALUES(f, "b / 0", {NA, NA, NA, NA, NA, NA, NA});
    EXPECT_VALUES(f, "b / (a - a)", {NA, NA, NA, NA, NA, NA, NA});
    EXPECT_VALUES(f, "-a", {-1, -2, -3, 4, 0, -10, NA});
    EXPECT_VALUES(f, "- -a", {1, 2, 3, -4, 0, 10, NA});
    EXPECT_VALUES(f, "b + -3.5", {-1.5, -3.5, -0.5, 1.5, -4.5, -1, -2.5});
    EXPECT_VALUES(f, "b - -3", {5, 3, 6, 8, 2, 5.5, 4});
    EXPECT_VALUES(f, "b * 1e3", {2000, 0, 3000, 5000, -1000, 2500, 1000});
    EXPECT_VALUES(f, "b * 2.5E-1", {0.5, 0, 0.75, 1.25, -0.25, 0.625, 0.25});
    EXPECT_VALUES(f, "b + .5", {2.5, 0.5, 3.5, 5.5, -0.5, 3, 1.5});
    EXPECT_VALUES(f, "b + 5.", {7, 5, 8, 10, 4, 7.5, 6});
    EXPECT_VALUES(f, "1 + 2 * 3 - 4 / 2", {5, 5, 5, 5, 5, 5, 5});
    seg_frame_free(f);
}
END_TEST

START_TEST(arithmetic_precedence)
{
    seg_frame *f = arith_frame();
    /* * binds tighter than +: a + (b * c), not (a + b) * c */
    EXPECT_VALUES(f, "a + b * c", {7, 2, 0, 6, 0, 11.25, NA});
    EXPECT_VALUES(f, "(a + b) * c", {9, 8, -6, 2, 0, 6.25, NA});
    EXPECT_VALUES(f, "b * c + a", {7, 2, 0, 6, 0, 11.25, NA});
    /* - and / are left-associative */
    EXPECT_VALUES(f, "a - b - c", {-4, -2, 1, -11, 1, 7, NA});
    EXPECT_VALUES(f, "a - (b - c)", {2, 6, -1, -7, 1, 8, NA});
    EXPECT_VALUES(f, "a / b * c", {1.5, NA, -1, -1.6, 0, 2, NA});
    EXPECT_VALUES(f, "c / 2 / 2", {0.75, 1, -0.25, 0.5, 0, 0.125, 0.5});
    /* unary minus binds tighter than binary minus: (-a) - b */
    EXPECT_VALUES(f, "-a - b", {-3, -2, -6, -1, 1, -12.5, NA});
    EXPECT_VALUES(f, "-(a - b)", {1, -2, 0, 9, -1, -7.5, NA});
    EXPECT_VALUES(f, "2 * -c", {-6, -8, 2, -4, 0, -1, -4});
    /* comparisons bind looser than arithmetic */
    EXPECT(f, "a + b * c > 6", "1000010");
    EXPECT(f, "a + 1 > b * 2", "0100110");
    seg_frame_free(f);
}
END_TEST

START_TEST(comparisons)
{
    seg_frame *f = arith_frame();
    /* a = {1, 2, 3, -4, 0, 10, NA}, b = {2, 0, 3, 5, -1, 2.5, 1} */
    EXPECT(f, "a == b", "0010000");
    EXPECT(f, "a != b", "1101110");
    EXPECT(f, "a < b", "1001000");
    EXPECT(f, "a <= b", "1011000");
    EXPECT(f, "a > b", "0100110");
    EXPECT(f, "a >= b", "0110110");
    /* constant on either side */
    EXPECT(f, "a >= 2", "0110010");
    EXPECT(f, "2 <= a", "0110010");
    EXPECT(f, "3 > a", "1101100");
    EXPECT(f, "a < 3", "1101100");
    EXPECT(f, "a == 0", "0000100");
    EXPECT(f, "0 == a", "0000100");
    EXPECT(f, "a != 0", "1111010");
    EXPECT(f, "a > -3.5", "1110110");
    EXPECT(f, "b == 2.5", "0000010");
    EXPECT(f, "b >= 1e-400", "1111011"); /* underflows to 0 */
    /* constants only */
    EXPECT(f, "1 < 2", "1111111");
    EXPECT(f, "2 < 1", "0000000");
    EXPECT(f, "1 != 1", "0000000");
    /* a missing side is unknown: neither the comparison nor its negation */
    EXPECT(f, "not (a < b)", "0110110");
    EXPECT(f, "not (a != b)", "0010000");
    /* 0 == -0 */
    EXPECT(f, "a * -1 == 0", "0000100");
    seg_frame_free(f);
}
END_TEST

START_TEST(between_and_in)
{
    seg_frame *f = arith_frame();
    /* inclusive at both ends */
    EXPECT(f, "a between 0 and 3", "1110100");
    EXPECT(f, "a between 1 and 2", "1100000");
    EXPECT(f, "a between 3 and 0", "0000000");
    EXPECT(f, "a between 10 and 10", "0000010");
    EXPECT(f, "a not between 0 and 3", "0001010");
    EXPECT(f, "not (a between 0 and 3)", "0001010");
    EXPECT(f, "a between -4 and -4", "0001000");
    EXPECT(f, "a between -4.5 and -3.5", "0001000");
    EXPECT(f, "a + 1 between 1 and 4", "1110100");
    EXPECT(f, "a between b and c", "0100100");
    EXPECT(f, "a between b - 1 and c + 1", "1100100");
    /* b between a and 0 is false on every row, also where a is missing
     * (unknown and false = false), so its negation is true everywhere */
    EXPECT(f, "b between a and 0", "0000000");
    EXPECT(f, "not (b between a and 0)", "1111111");
    /* b between a and 10: unknown on the last row; neither it nor its negation */
    EXPECT(f, "b between a and 10", "1011000");
    EXPECT(f, "b not between a and 10", "0100110");
    /* between binds tighter than and */
    EXPECT(f, "a between 0 and 3 and b > 1", "1010000");
    EXPECT(f, "b > 1 and a between 0 and 3", "1010000");

    EXPECT(f, "a in (1, 3, 10)", "1010010");
    EXPECT(f, "a not in (1, 3, 10)", "0101100");
    EXPECT(f, "not (a in (1, 3, 10))", "0101100");
    EXPECT(f, "a in (-4)", "0001000");
    EXPECT(f, "a in (-4, -4, 99)", "0001000");
    EXPECT(f, "b in (2.5)", "0000010");
    EXPECT(f, "b in (0.25e1, 1)", "0000011");
    EXPECT(f, "a + b in (3, 6)", "1010000");
    EXPECT(f, "a in (0)", "0000100");
    EXPECT(f, "a in (1, 2, 3, -4, 0, 10)", "1111110");
    EXPECT(f, "a not in (1, 2, 3, -4, 0, 10)", "0000000");
    EXPECT(f, "a in (-(-1), (2))", "1100000");
    seg_frame_free(f);
}
END_TEST

START_TEST(logic_precedence)
{
    seg_frame *f = arith_frame();
    /* a > 1 = {0,1,1,0,0,1,U}; b > 1 = {1,0,1,1,0,1,0}; c > 1 = {1,1,0,1,0,0,1} */
    EXPECT(f, "a > 1", "0110010");
    EXPECT(f, "b > 1", "1011010");
    EXPECT(f, "c > 1", "1101001");
    /* not binds tighter than and: (not a > 1) and b > 1 */
    EXPECT(f, "not a > 1 and b > 1", "1001000");
    EXPECT(f, "not (a > 1 and b > 1)", "1101101");
    EXPECT(f, "(not a > 1) and b > 1", "1001000");
    /* not binds looser than comparison: not (a == 1) */
    EXPECT(f, "not a == 1", "0111110");
    EXPECT(f, "not not a == 1", "1000000");
    /* and binds tighter than or */
    EXPECT(f, "a > 1 or b > 1 and c > 1", "1111010");
    EXPECT(f, "(a > 1 or b > 1) and c > 1", "1101000");
    EXPECT(f, "b > 1 and c > 1 or a > 1", "1111010");
    EXPECT(f, "a > 1 and b > 1 or c > 1", "1111011");
    EXPECT(f, "a > 1 and (b > 1 or c > 1)", "0110010");
    /* chains */
    EXPECT(f, "a > 1 or b > 1 or c > 1", "1111011");
    EXPECT(f, "a > 1 and b > 1 and c > 1", "0000000");
    EXPECT(f, "a > 0 and b > 0 and c > 0", "1000010");
    /* comments and newlines are whitespace */
    EXPECT(f, "a > 1 # first\n  or b > 1 # second\n", "1111010");
    EXPECT(f, "(((a > 1)))", "0110010");
    seg_frame_free(f);
}
END_TEST

START_TEST(functions)
{
    seg_frame *f = arith_frame();
    /* a = {1, 2, 3, -4, 0, 10, NA}, b = {2, 0, 3, 5, -1, 2.5, 1}, c = {3, 4, -1, 2, 0, 0.5, 2} */
    EXPECT_VALUES(f, "abs(a)", {1, 2, 3, 4, 0, 10, NA});
    EXPECT_VALUES(f, "abs(b - 3)", {1, 3, 0, 2, 4, 0.5, 2});
    EXPECT_VALUES(f, "abs(-2.5)", {2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5});
    EXPECT_VALUES(f, "min(a, b)", {1, 0, 3, -4, -1, 2.5, NA});
    EXPECT_VALUES(f, "max(a, b)", {2, 2, 3, 5, 0, 10, NA});
    EXPECT_VALUES(f, "min(a, b, c)", {1, 0, -1, -4, -1, 0.5, NA});
    EXPECT_VALUES(f, "max(a, b, c)", {3, 4, 3, 5, 0, 10, NA});
    /* a missing argument anywhere makes min/max missing */
    EXPECT_VALUES(f, "min(b, c, a)", {1, 0, -1, -4, -1, 0.5, NA});
    EXPECT_VALUES(f, "max(b, a, c)", {3, 4, 3, 5, 0, 10, NA});
    EXPECT_VALUES(f, "min(b, 1 / 0)", {NA, NA, NA, NA, NA, NA, NA});
    EXPECT_VALUES(f, "max(b, 1)", {2, 1, 3, 5, 1, 2.5, 1});
    EXPECT_VALUES(f, "min(b, 1, 0.5, 4)", {0.5, 0, 0.5, 0.5, -1, 0.5, 0.5});
    /* coalesce: first non-missing argument */
    EXPECT_VALUES(f, "coalesce(a, b)", {1, 2, 3, -4, 0, 10, 1});
    EXPECT_VALUES(f, "coalesce(a / b, c)", {0.5, 4, 1, -0.8, 0, 4, 2});
    EXPECT_VALUES(f, "coalesce(a / b, a, 7)", {0.5, 2, 1, -0.8, 0, 4, 7});
    EXPECT_VALUES(f, "coalesce(a, 1 / 0)", {1, 2, 3, -4, 0, 10, NA});
    EXPECT_VALUES(f, "coalesce(1 / 0, 1 / 0, -1)", {-1, -1, -1, -1, -1, -1, -1});
    /* nesting and arithmetic on results */
    EXPECT_VALUES(f, "max(abs(a), abs(b)) * 2", {4, 4, 6, 10, 2, 20, NA});
    EXPECT_VALUES(f, "coalesce(min(a, b), max(b, c)) + 1", {2, 1, 4, -3, 0, 3.5, 3});
    /* is_missing is a condition */
    EXPECT(f, "is_missing(a)", "0000001");
    EXPECT(f, "not is_missing(a)", "1111110");
    EXPECT(f, "is_missing(a / b)", "0100001");
    EXPECT(f, "is_missing(b)", "0000000");
    EXPECT(f, "is_missing(a) or a > 2", "0010011");
    EXPECT(f, "abs(a) >= 3", "0011010");
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Three-valued logic: all nine combinations, four kinds of missing
 * ====================================================================== */

/* Rows enumerate (P, Q) in T, F, U x T, F, U:
 * (T,T) (T,F) (T,U) (F,T) (F,F) (F,U) (U,T) (U,F) (U,U) */
static double g_pd[9], g_qd[9];
static const int64_t g_pi[9] = {1, 1, 1, 0, 0, 0, 99, 99, 99};
static const int32_t g_qi[9] = {1, 0, 77, 1, 0, 77, 1, 0, 77};
static unsigned char g_pi_valid[2], g_qi_valid[2], g_ps2_valid[2], g_qc2_valid[2];
static const char *const g_ps[9] = {"y", "y", "y", "n", "n", "n", NULL, NULL, NULL};
static const char *const g_ps2[9] = {"y", "y", "y", "n", "n", "n", "y", "n", "y"};
static const int32_t g_qc[9] = {0, 1, -1, 0, 1, -3, 0, 1, -1};
static const int32_t g_qc2[9] = {0, 1, 0, 0, 1, 1, 0, 1, 0};
static const char *const g_yn[2] = {"y", "n"};

static seg_frame *truth_frame(void)
{
    static const double pd[9] = {1, 1, 1, 0, 0, 0, 0, 0, 0};
    static const double qd[9] = {1, 0, 0, 1, 0, 0, 1, 0, 0};
    memcpy(g_pd, pd, sizeof pd);
    memcpy(g_qd, qd, sizeof qd);
    g_pd[6] = g_pd[7] = g_pd[8] = NAN;
    g_qd[2] = g_qd[5] = g_qd[8] = NAN;
    seg_test_bitmap("111111000", g_pi_valid);
    seg_test_bitmap("110110110", g_qi_valid);
    seg_test_bitmap("111111000", g_ps2_valid);
    seg_test_bitmap("110110110", g_qc2_valid);
    seg_frame *f = new_frame(9);
    ck_assert_int_eq(seg_frame_add_double(f, "pd", g_pd, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "qd", g_qd, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "pi", g_pi, g_pi_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "qi", g_qi, g_qi_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "ps", g_ps, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "ps2", g_ps2, g_ps2_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "qc", g_qc, g_yn, 2, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "qc2", g_qc2, g_yn, 2, g_qc2_valid), SEG_OK);
    return f;
}

static void truth_tables(const seg_frame *f, const char *p, const char *q, int line)
{
    char text[512];
    /* P itself and not P: T T T F F F U U U */
    expect_at(f, p, "111000000", line);
    snprintf(text, sizeof text, "not (%s)", p);
    expect_at(f, text, "000111000", line);
    snprintf(text, sizeof text, "not not (%s)", p);
    expect_at(f, text, "111000000", line);
    /* P and Q: T F U F F F U F U */
    snprintf(text, sizeof text, "(%s) and (%s)", p, q);
    expect_at(f, text, "100000000", line);
    snprintf(text, sizeof text, "not ((%s) and (%s))", p, q);
    expect_at(f, text, "010111010", line);
    /* Q and P: the same (commutative) */
    snprintf(text, sizeof text, "(%s) and (%s)", q, p);
    expect_at(f, text, "100000000", line);
    snprintf(text, sizeof text, "not ((%s) and (%s))", q, p);
    expect_at(f, text, "010111010", line);
    /* P or Q: T T T T F U T U U */
    snprintf(text, sizeof text, "(%s) or (%s)", p, q);
    expect_at(f, text, "111100100", line);
    snprintf(text, sizeof text, "not ((%s) or (%s))", p, q);
    expect_at(f, text, "000010000", line);
    snprintf(text, sizeof text, "(%s) or (%s)", q, p);
    expect_at(f, text, "111100100", line);
    snprintf(text, sizeof text, "not ((%s) or (%s))", q, p);
    expect_at(f, text, "000010000", line);
    /* De Morgan holds in three-valued logic too */
    snprintf(text, sizeof text, "not (%s) or not (%s)", p, q);
    expect_at(f, text, "010111010", line);
    snprintf(text, sizeof text, "not (%s) and not (%s)", p, q);
    expect_at(f, text, "000010000", line);
    /* P or not P is not always true: unknown rows stay unmatched */
    snprintf(text, sizeof text, "(%s) or not (%s)", p, p);
    expect_at(f, text, "111111000", line);
}

START_TEST(three_valued_doubles)
{
    seg_frame *f = truth_frame();
    truth_tables(f, "pd > 0", "qd > 0", __LINE__);
    truth_tables(f, "pd == 1", "qd >= 0.5", __LINE__);
    truth_tables(f, "pd between 1 and 2", "qd in (1)", __LINE__);
    EXPECT(f, "is_missing(pd)", "000000111");
    EXPECT(f, "is_missing(qd)", "001001001");
    seg_frame_free(f);
}
END_TEST

START_TEST(three_valued_integers_with_bitmaps)
{
    seg_frame *f = truth_frame();
    /* values under a clear validity bit (99, 77) are never seen */
    truth_tables(f, "pi > 0", "qi > 0", __LINE__);
    truth_tables(f, "pi != 0", "qi == 1", __LINE__);
    EXPECT(f, "pi == 99 or qi == 77", "000000000");
    EXPECT(f, "is_missing(pi)", "000000111");
    EXPECT(f, "is_missing(qi)", "001001001");
    EXPECT(f, "coalesce(qi, 5) == 5", "001001001");
    seg_frame_free(f);
}
END_TEST

START_TEST(three_valued_text)
{
    seg_frame *f = truth_frame();
    /* NULL strings and negative dictionary codes */
    truth_tables(f, "ps == \"y\"", "qc == \"y\"", __LINE__);
    truth_tables(f, "ps != \"n\"", "qc in (\"y\")", __LINE__);
    truth_tables(f, "ps not in (\"n\")", "\"y\" == qc", __LINE__);
    /* validity bitmaps on string and dictionary columns */
    truth_tables(f, "ps2 == \"y\"", "qc2 == \"y\"", __LINE__);
    truth_tables(f, "ps2 in (\"y\", \"x\")", "qc2 != \"n\"", __LINE__);
    /* mixed kinds */
    truth_tables(f, "ps == \"y\"", "qi > 0", __LINE__);
    truth_tables(f, "pd > 0", "qc2 == \"y\"", __LINE__);
    EXPECT(f, "is_missing(ps)", "000000111");
    EXPECT(f, "is_missing(qc)", "001001001");
    EXPECT(f, "is_missing(ps2)", "000000111");
    EXPECT(f, "is_missing(qc2)", "001001001");
    seg_frame_free(f);
}
END_TEST

START_TEST(missing_aum_worked_example)
{
    static double aum[4] = {2e6, 5e5, 0, 1e6};
    static const int32_t txn[4] = {3, 0, 1, 2};
    aum[2] = NAN;
    seg_frame *f = new_frame(4);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", aum, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn_90d", txn, NULL), SEG_OK);
    /* the customer with missing AUM matches neither */
    EXPECT(f, "aum >= 1e6", "1001");
    EXPECT(f, "not (aum >= 1e6)", "0100");
    EXPECT(f, "aum < 1e6", "0100");
    /* decide explicitly */
    EXPECT(f, "is_missing(aum) or aum >= 1e6", "1011");
    EXPECT(f, "coalesce(aum, 0) >= 1e6", "1001");
    EXPECT(f, "not (coalesce(aum, 0) >= 1e6)", "0110");
    /* tiering */
    EXPECT(f, "aum >= 500000 and txn_90d >= 1", "1001");
    EXPECT(f, "aum >= 500000 or txn_90d >= 1", "1111");
    EXPECT(f, "aum between 5e5 and 1e6", "0101");
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Integer columns
 * ====================================================================== */

START_TEST(integer_columns)
{
    static const int64_t i64[10] = {0, 7, -5, 9007199254740991LL, 9007199254740992LL, 3, 3,
                                    -9007199254740992LL, 99, 4};
    static const int32_t i32[10] = {10, 20, -30, 40, INT32_MIN, INT32_MAX, 0, 5, 6, 7};
    static const int32_t plain[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    static double d[10] = {1.5, 0, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5};
    static unsigned char v64[2], v32[2], vd[2];
    d[1] = NAN;
    /* bits across the byte boundary: rows 1 and 8 of i64 are missing */
    seg_test_bitmap("1011111101", v64);
    seg_test_bitmap("1111111110", v32);
    seg_test_bitmap("1111011111", vd);
    seg_frame *f = new_frame(10);
    ck_assert_int_eq(seg_frame_add_int64(f, "i64", i64, v64), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "i32", i32, v32), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "plain", plain, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "d", d, vd), SEG_OK);

    EXPECT(f, "i64 == 7", "0000000000");
    EXPECT(f, "i64 == 99", "0000000000");
    EXPECT(f, "is_missing(i64)", "0100000010");
    EXPECT(f, "i64 > 0", "0001111001");
    EXPECT(f, "not (i64 > 0)", "1010000100");
    /* exact up to 2^53 */
    EXPECT(f, "i64 == 9007199254740991", "0001000000");
    EXPECT(f, "i64 > 9007199254740991", "0000100000");
    EXPECT(f, "i64 == -9007199254740992", "0000000100");
    EXPECT(f, "i64 in (3, 4, 99)", "0000011001");
    EXPECT(f, "i64 not in (3, 4, 99)", "1011100100");
    EXPECT(f, "i64 between -5 and 3", "1010011000");
    EXPECT(f, "i32 < 0", "0010100000");
    EXPECT(f, "i32 == -2147483648", "0000100000");
    EXPECT(f, "i32 == 2147483647", "0000010000");
    EXPECT(f, "is_missing(i32)", "0000000001");
    EXPECT(f, "i32 + i64 > 0", "1001111000");
    EXPECT(f, "is_missing(plain)", "0000000000");
    EXPECT(f, "plain >= 8", "0000000011");
    EXPECT(f, "plain / 2 == 2.5", "0000010000");
    /* a double is missing when NaN or when its validity bit is clear */
    EXPECT(f, "d > 5", "0000011111");
    EXPECT(f, "is_missing(d)", "0100100000");
    EXPECT(f, "d == 4.5", "0000000000");
    EXPECT_VALUES(f, "coalesce(i64, i32)",
                  {0, 20, -5, 9007199254740991.0, 9007199254740992.0, 3, 3, -9007199254740992.0, 6, 4});
    EXPECT_VALUES(f, "coalesce(d, i32)", {1.5, 20, 2.5, 3.5, -2147483648.0, 5.5, 6.5, 7.5, 8.5, 9.5});
    EXPECT_VALUES(f, "i32 * 2 - plain", {20, 39, -62, 77, -4294967300.0, 4294967289.0, -6, 3, 4, NA});
    EXPECT_VALUES(f, "i32 / plain", {NA, 20, -15, 40.0 / 3, -536870912, 2147483647.0 / 5, 0, 5.0 / 7, 0.75, NA});
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Text columns
 * ====================================================================== */

static const char *const g_s[8] = {"gold", "silver", NULL, "金卡", "Gold", "gol", "a\"b", "c\\d"};
static const char *const g_dict[5] = {"gold", "silver", "金卡", "普通", "unused"};
static const int32_t g_d[8] = {0, 1, -1, 2, 3, -7, 0, 2};
static const int32_t g_dv[8] = {0, 1, 1, 2, 3, 4, 0, 2};
static const double g_n[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static unsigned char g_sv_valid[1], g_dv_valid[1];

static seg_frame *text_frame(void)
{
    seg_test_bitmap("10111111", g_sv_valid);
    seg_test_bitmap("11011111", g_dv_valid);
    seg_frame *f = new_frame(8);
    ck_assert_int_eq(seg_frame_add_string(f, "s", g_s, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "s_v", g_s, g_sv_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "d", g_d, g_dict, 5, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "d_v", g_dv, g_dict, 5, g_dv_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "n", g_n, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "客户等级", g_s, NULL), SEG_OK);
    return f;
}

START_TEST(string_columns)
{
    seg_frame *f = text_frame();
    /* s = {gold, silver, NULL, 金卡, Gold, gol, a"b, c\d} */
    EXPECT(f, "s == \"gold\"", "10000000");
    EXPECT(f, "\"gold\" == s", "10000000");
    EXPECT(f, "s != \"gold\"", "01011111");
    EXPECT(f, "\"gold\" != s", "01011111");
    EXPECT(f, "not (s == \"gold\")", "01011111");
    EXPECT(f, "s == \"Gold\"", "00001000"); /* case-sensitive */
    EXPECT(f, "s == \"gol\"", "00000100");  /* whole string, not a prefix */
    EXPECT(f, "s == \"\"", "00000000");
    EXPECT(f, "s in (\"gold\", \"金卡\")", "10010000");
    EXPECT(f, "s not in (\"gold\", \"金卡\")", "01001111");
    EXPECT(f, "s == \"金卡\"", "00010000");
    EXPECT(f, "s == \"a\\\"b\"", "00000010");
    EXPECT(f, "s == \"c\\\\d\"", "00000001");
    EXPECT(f, "s == \"#\" or s == \"gold\" # a comment", "10000000");
    EXPECT(f, "is_missing(s)", "00100000");
    EXPECT(f, "not is_missing(s)", "11011111");
    EXPECT(f, "`客户等级` == \"金卡\"", "00010000");
    /* validity bitmap hides row 1 ("silver") */
    EXPECT(f, "s_v == \"silver\"", "00000000");
    EXPECT(f, "s_v != \"silver\"", "10011111");
    EXPECT(f, "is_missing(s_v)", "01100000");
    EXPECT(f, "s == \"gold\" or n > 7", "10000001");
    EXPECT(f, "s != \"gold\" and n <= 4", "01010000");
    seg_frame_free(f);
}
END_TEST

START_TEST(dictionary_columns)
{
    seg_frame *f = text_frame();
    /* d = {gold, silver, -, 金卡, 普通, -, gold, 金卡} (codes -1 and -7 missing) */
    EXPECT(f, "d == \"gold\"", "10000010");
    EXPECT(f, "\"gold\" == d", "10000010");
    EXPECT(f, "d != \"gold\"", "01011001");
    EXPECT(f, "d in (\"金卡\", \"普通\")", "00011001");
    EXPECT(f, "d not in (\"金卡\", \"普通\")", "11000010");
    EXPECT(f, "d == \"unused\"", "00000000");
    EXPECT(f, "d != \"unused\"", "11011011");
    EXPECT(f, "d == \"nope\"", "00000000");
    EXPECT(f, "d in (\"nope\", \"silver\")", "01000000");
    EXPECT(f, "is_missing(d)", "00100100");
    /* d_v = {gold, silver, (silver hidden), 金卡, 普通, unused, gold, 金卡} */
    EXPECT(f, "d_v == \"silver\"", "01000000");
    EXPECT(f, "d_v != \"silver\"", "10011111");
    EXPECT(f, "d_v == \"unused\"", "00000100");
    EXPECT(f, "is_missing(d_v)", "00100000");
    /* several tests on one column in one rule, mixed with string columns */
    EXPECT(f, "d == \"gold\" and s == \"gold\"", "10000000");
    EXPECT(f, "d == \"gold\" or s == \"gold\"", "10000010");
    EXPECT(f, "not (s == \"gold\") and d in (\"金卡\")", "00010001");
    EXPECT(f, "d == \"gold\" or d == \"金卡\" or d_v == \"unused\"", "10010111");
    EXPECT(f, "d in (\"gold\") and not (d != \"gold\")", "10000010");
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Blocks and sub-ranges
 * ====================================================================== */

#define BIG_N 2500

static double g_bx[BIG_N];
static int32_t g_bk[BIG_N];
static int32_t g_bt[BIG_N];
static const char *g_bs[BIG_N];
static unsigned char g_bk_valid[(BIG_N + 7) / 8];
static const char *const g_bt_dict[3] = {"A", "B", "金"};
static const char *const g_bs_names[4] = {"A", "B", NULL, "金"};

static seg_frame *big_frame(void)
{
    uint32_t s = 12345;
    memset(g_bk_valid, 0, sizeof g_bk_valid);
    for (size_t i = 0; i < BIG_N; i++) {
        s = s * 1103515245u + 12345u;
        g_bx[i] = i % 7 == 3 ? NAN : (double)((s >> 8) % 1000) / 1000.0;
        g_bk[i] = (int32_t)(i % 5);
        if (i % 11 != 0)
            g_bk_valid[i / 8] |= (unsigned char)(1u << (i % 8));
        g_bt[i] = (int32_t)((i * 7) % 4) - 1;
        g_bs[i] = g_bs_names[(i * 3 + i / 13) % 4];
    }
    seg_frame *f = new_frame(BIG_N);
    ck_assert_int_eq(seg_frame_add_double(f, "x", g_bx, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "k", g_bk, g_bk_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "t", g_bt, g_bt_dict, 3, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "s", g_bs, NULL), SEG_OK);
    return f;
}

#define BIG_RULE "x > 0.5 and k in (1, 3) or t == \"金\" and not (s == \"B\")"

/* Three-valued: 1 true, 0 false, -1 unknown. */
static int tv_and(int a, int b) { return (a == 0 || b == 0) ? 0 : (a == 1 && b == 1) ? 1 : -1; }
static int tv_or(int a, int b) { return (a == 1 || b == 1) ? 1 : (a == 0 && b == 0) ? 0 : -1; }
static int tv_not(int a) { return a < 0 ? a : !a; }

static int big_expected(size_t i)
{
    int kmiss = i % 11 == 0;
    int c1 = isnan(g_bx[i]) ? -1 : g_bx[i] > 0.5;
    int c2 = kmiss ? -1 : (g_bk[i] == 1 || g_bk[i] == 3);
    int c3 = g_bt[i] < 0 ? -1 : strcmp(g_bt_dict[g_bt[i]], "金") == 0;
    int c4 = g_bs[i] == NULL ? -1 : strcmp(g_bs[i], "B") == 0;
    return tv_or(tv_and(c1, c2), tv_and(c3, tv_not(c4))) == 1;
}

START_TEST(blocks_and_subranges)
{
    seg_frame *f = big_frame();
    seg_rule *r = COMPILE(f, BIG_RULE);
    uint8_t *full = malloc(BIG_N);
    uint8_t *part = malloc(BIG_N + 16);
    ck_assert(full && part);
    char err[256] = "";
    ck_assert_int_eq(seg_rule_eval(r, f, 0, BIG_N, full, err, sizeof err), SEG_OK);
    size_t hits = 0;
    for (size_t i = 0; i < BIG_N; i++) {
        ck_assert_msg(full[i] == big_expected(i), "row %zu: %u, want %d (x=%g k=%d t=%d s=%s)", i,
                      (unsigned)full[i], big_expected(i), g_bx[i], (int)g_bk[i], (int)g_bt[i],
                      g_bs[i] ? g_bs[i] : "NULL");
        hits += full[i];
    }
    ck_assert_msg(hits > 200 && hits < 2300, "degenerate data: %zu hits", hits);

    static const size_t ranges[][2] = {
        {0, BIG_N}, {0, 1}, {0, 1023}, {0, 1024}, {0, 1025}, {1, 1025}, {1000, 1030},
        {1023, 2049}, {1024, 2048}, {2047, 2049}, {2048, BIG_N}, {BIG_N - 1, BIG_N},
        {7, 7}, {BIG_N, BIG_N}, {5, 2000}, {333, 2444},
    };
    for (size_t k = 0; k < sizeof ranges / sizeof *ranges; k++) {
        size_t b = ranges[k][0], e = ranges[k][1];
        memset(part, CANARY_U8, BIG_N + 16);
        ck_assert_int_eq(seg_rule_eval(r, f, b, e, part, err, sizeof err), SEG_OK);
        for (size_t i = b; i < e; i++)
            ck_assert_msg(part[i - b] == full[i], "range [%zu, %zu) row %zu: %u vs full %u", b, e,
                          i, (unsigned)part[i - b], (unsigned)full[i]);
        for (size_t i = e - b; i < BIG_N + 16; i++)
            ck_assert_msg(part[i] == CANARY_U8, "range [%zu, %zu) wrote byte %zu", b, e, i);
    }
    /* block-by-block windows of every small size around the boundaries */
    for (size_t b = 1018; b <= 1030; b++)
        for (size_t e = b; e <= b + 1100 && e <= BIG_N; e += 97) {
            ck_assert_int_eq(seg_rule_eval(r, f, b, e, part, err, sizeof err), SEG_OK);
            ck_assert_msg(memcmp(part, full + b, e - b) == 0, "range [%zu, %zu) differs", b, e);
        }
    seg_rule_free(r);
    free(full);
    free(part);
    seg_frame_free(f);
}
END_TEST

START_TEST(blocks_arithmetic_and_functions)
{
    /* a rule whose every operator crosses block boundaries */
    seg_frame *f = big_frame();
    seg_rule *r = COMPILE(f, "coalesce(x, k / 10) * 2 - min(k, 3) between -1.5 and abs(k - 2) "
                             "or max(x, 0.25) / (k - 2) > 1");
    uint8_t *m = malloc(BIG_N);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, BIG_N, m, NULL, 0), SEG_OK);
    for (size_t i = 0; i < BIG_N; i++) {
        double x = g_bx[i];
        double k = i % 11 == 0 ? NAN : g_bk[i];
        double co = !isnan(x) ? x : k / 10;
        double lhs = co * 2 - (isnan(k) ? NAN : (k < 3 ? k : 3));
        double hi = fabs(k - 2);
        int b1 = (isnan(lhs)) ? -1 : lhs >= -1.5;
        int b2 = (isnan(lhs) || isnan(hi)) ? -1 : lhs <= hi;
        double mx = isnan(x) ? NAN : (x > 0.25 ? x : 0.25);
        double den = k - 2;
        double q = den != 0 ? mx / den : NAN;
        int c = isnan(q) ? -1 : q > 1;
        int want = tv_or(tv_and(b1, b2), c) == 1;
        ck_assert_msg(m[i] == want, "row %zu: %u, want %d (x=%g k=%g)", i, (unsigned)m[i], want, x, k);
    }
    free(m);
    seg_rule_free(r);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Evaluating against other frames
 * ====================================================================== */

START_TEST(other_frames)
{
    static const double a_aum[3] = {100, 50, 200};
    static const char *const a_tier[3] = {"gold", "gold", "silver"};
    static const int64_t a_n[3] = {1, 2, 3};
    seg_frame *a = new_frame(3);
    ck_assert_int_eq(seg_frame_add_double(a, "aum", a_aum, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(a, "tier", a_tier, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(a, "n", a_n, NULL), SEG_OK);
    const char *text = "aum >= 100 and tier in (\"gold\") or n == 2";
    seg_rule *r = COMPILE(a, text);
    char *got = eval_string(r, a, __LINE__, text);
    ck_assert_str_eq(got, "110");
    free(got);
    /* the rule keeps no reference to its schema */
    seg_frame_free(a);

    /* other types (int32 for double, dict for string, double for int64),
     * other row count, other column order, extra columns */
    static const int32_t b_aum[5] = {100, 99, 1000, 0, 150};
    static const int32_t b_tier[5] = {0, 0, 1, -1, 1};
    static const char *const b_dict[2] = {"gold", "silver"};
    static double b_n[5] = {0, 0, 2, 2, 0};
    static const double b_extra[5] = {0};
    b_n[4] = NAN;
    seg_frame *b = new_frame(5);
    ck_assert_int_eq(seg_frame_add_double(b, "extra", b_extra, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(b, "n", b_n, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(b, "tier", b_tier, b_dict, 2, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(b, "aum", b_aum, NULL), SEG_OK);
    got = eval_string(r, b, __LINE__, text);
    ck_assert_str_eq(got, "10110");
    free(got);

    /* a column missing, or numeric vs text swapped: SEG_ENOTFOUND, output untouched */
    static const double c_num[5] = {0};
    static const char *const c_str[5] = {"gold", "gold", "gold", "gold", "gold"};
    struct {
        const char *missing_name;
        int tier_numeric, aum_text;
    } cases[] = {{"tier", 0, 0}, {"aum", 0, 0}, {"n", 0, 0}, {NULL, 1, 0}, {NULL, 0, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        seg_frame *c = new_frame(5);
        const char *names[3] = {"aum", "tier", "n"};
        for (int j = 0; j < 3; j++) {
            if (cases[k].missing_name && strcmp(cases[k].missing_name, names[j]) == 0)
                continue;
            int text_col = j == 1 ? !cases[k].tier_numeric : (j == 0 && cases[k].aum_text);
            if (text_col)
                ck_assert_int_eq(seg_frame_add_string(c, names[j], c_str, NULL), SEG_OK);
            else
                ck_assert_int_eq(seg_frame_add_double(c, names[j], c_num, NULL), SEG_OK);
        }
        uint8_t out[6];
        memset(out, CANARY_U8, sizeof out);
        char err[256] = "";
        int32_t rc = seg_rule_eval(r, c, 0, 5, out, err, sizeof err);
        ck_assert_msg(rc == SEG_ENOTFOUND, "case %zu: rc %d (%s)", k, (int)rc, err);
        for (size_t i = 0; i < sizeof out; i++)
            ck_assert_msg(out[i] == CANARY_U8, "case %zu: out[%zu] written", k, i);
        const char *bad = cases[k].missing_name ? cases[k].missing_name
                          : cases[k].tier_numeric ? "tier" : "aum";
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", bad);
        ck_assert_msg(strstr(err, quoted) != NULL, "case %zu: message \"%s\" lacks %s", k, err,
                      quoted);
        seg_frame_free(c);
    }
    seg_rule_free(r);
    seg_frame_free(b);
}
END_TEST

START_TEST(rule_without_columns)
{
    static const double x[3] = {1, 2, 3};
    seg_frame *f = new_frame(3);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
    seg_rule *r = COMPILE(f, "1 + 1 == 2 and not is_missing(1 / 2)");
    seg_frame *g = new_frame(4); /* no columns at all */
    uint8_t out[4] = {9, 9, 9, 9};
    ck_assert_int_eq(seg_rule_eval(r, g, 0, 4, out, NULL, 0), SEG_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(out[i], 1);
    seg_rule_free(r);
    r = COMPILE(f, "is_missing(1 / 0) and 3 between 3 and 3 and 2 in (1, 2)");
    memset(out, 9, sizeof out);
    ck_assert_int_eq(seg_rule_eval(r, g, 1, 3, out, NULL, 0), SEG_OK);
    ck_assert_uint_eq(out[0], 1);
    ck_assert_uint_eq(out[1], 1);
    ck_assert_uint_eq(out[2], 9);
    seg_rule_free(r);
    seg_frame_free(g);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Compile errors
 * ====================================================================== */

static seg_frame *schema_frame(void)
{
    static const double aum[2] = {1, 2};
    static const int64_t txn[2] = {1, 2};
    static const char *const tier[2] = {"gold", NULL};
    static const int32_t codes[2] = {0, -1};
    static const char *const dict[1] = {"a"};
    seg_frame *f = new_frame(2);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", aum, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "txn_90d", txn, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "tier", tier, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "stage", codes, dict, 1, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "月日均资产", aum, NULL), SEG_OK);
    return f;
}

typedef struct err_case {
    const char *text;
    const char *source; /* NULL: the default "rule" */
    int line, col;
    const char *message; /* substring of the message after "source:line:col: " */
    const char *token;   /* substring naming the offending token, or NULL */
} err_case;

/* Compiles c->text and checks code, position, message; returns NULL when
 * fine, else a description (static buffer). */
static const char *check_error(const seg_frame *f, const err_case *c)
{
    static char why[1024];
    seg_rule *r = CANARY_RULE;
    char err[512];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    int32_t rc = seg_rule_compile(&r, c->text, strlen(c->text), f, c->source, NULL, err, sizeof err);
    if (rc != SEG_EPARSE) {
        snprintf(why, sizeof why, "rc %d (%s), want SEG_EPARSE", (int)rc, rc == SEG_OK ? "ok" : err);
        if (rc == SEG_OK)
            seg_rule_free(r);
        return why;
    }
    if (r != CANARY_RULE)
        return "out was written on failure";
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s:%d:%d: ", c->source ? c->source : "rule", c->line, c->col);
    if (strncmp(err, prefix, strlen(prefix)) != 0) {
        snprintf(why, sizeof why, "message \"%s\" does not start with \"%s\"", err, prefix);
        return why;
    }
    const char *body = err + strlen(prefix);
    if (!strstr(body, c->message)) {
        snprintf(why, sizeof why, "message \"%s\" lacks \"%s\"", err, c->message);
        return why;
    }
    if (c->token && !strstr(body, c->token)) {
        snprintf(why, sizeof why, "message \"%s\" does not quote the offending token %s", err,
                 c->token);
        return why;
    }
    return NULL;
}

static void check_errors(const err_case *cases, size_t n)
{
    seg_frame *f = schema_frame();
    char report[8192] = "";
    size_t bad = 0;
    for (size_t k = 0; k < n; k++) {
        const char *why = check_error(f, &cases[k]);
        if (why) {
            char t1[256], t2[1024];
            bad++;
            size_t len = strlen(report);
            snprintf(report + len, sizeof report - len, " | [%s]: %s",
                     oneline(cases[k].text, t1, sizeof t1), oneline(why, t2, sizeof t2));
        }
    }
    seg_frame_free(f);
    ck_assert_msg(bad == 0, "%zu of %zu error cases wrong:%s", bad, n, report);
}

START_TEST(errors_names_and_functions)
{
    static const err_case cases[] = {
        {"zzz > 1", NULL, 1, 1, "unknown column", "'zzz'"},
        {"aum > 1 and Aum > 1", NULL, 1, 13, "unknown column", "'Aum'"},
        {"`aum ` > 1", NULL, 1, 1, "unknown column", "'aum '"},
        {"`月日均` > 1", NULL, 1, 1, "unknown column", "'月日均'"},
        {"aum > 1 and `and` > 1", NULL, 1, 13, "unknown column", "'and'"},
        {"foo(aum) > 1", NULL, 1, 1, "unknown function", "'foo'"},
        {"ABS(aum) > 1", NULL, 1, 1, "unknown function", "'ABS'"},
        {"aum (1) > 1", NULL, 1, 1, "unknown function", "'aum'"},
        {"abs(aum, 1) > 1", NULL, 1, 1, "abs() takes one argument, 2 given", "'abs'"},
        {"abs() > 1", NULL, 1, 1, "abs() takes one argument, 0 given", "'abs'"},
        {"is_missing(aum, 1)", NULL, 1, 1, "is_missing() takes one argument, 2 given", "'is_missing'"},
        {"is_missing()", NULL, 1, 1, "is_missing() takes one argument, 0 given", "'is_missing'"},
        {"min(aum) > 1", NULL, 1, 1, "min() takes at least two arguments, 1 given", "'min'"},
        {"aum > 1 or max() > 1", NULL, 1, 12, "max() takes at least two arguments, 0 given", "'max'"},
        {"coalesce(aum) > 1", NULL, 1, 1, "coalesce() takes at least two arguments, 1 given", "'coalesce'"},
        {"and", NULL, 1, 1, "expected a value but found keyword 'and'", "'and'"},
        {"aum > 1 or or", NULL, 1, 12, "expected a value but found keyword 'or'", "'or'"},
        {"aum > between", NULL, 1, 7, "keyword 'between'", "'between'"},
    };
    check_errors(cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(errors_types)
{
    static const err_case cases[] = {
        /* text compared with < */
        {"tier < \"gold\"", NULL, 1, 6, "text compares only with == and !=", "'<'"},
        {"stage >= \"a\"", NULL, 1, 7, "text compares only with == and !=", "'>='"},
        {"aum < tier", NULL, 1, 5, "text compares only with == and !=", "'<'"},
        /* text column compared with a number */
        {"tier == 1", NULL, 1, 6, "cannot compare text with a number", "'=='"},
        {"stage != 0", NULL, 1, 7, "cannot compare text with a number", "'!='"},
        /* number compared with a string */
        {"aum == \"x\"", NULL, 1, 5, "cannot compare a number with text", "'=='"},
        /* two columns or two strings */
        {"tier == tier", NULL, 1, 6, "text compares a text column with a \"string\"", "'=='"},
        {"\"a\" == \"b\"", NULL, 1, 5, "text compares a text column with a \"string\"", "'=='"},
        /* not a condition */
        {"aum + 1", NULL, 1, 5, "a rule must be a condition, this is a number", "'+'"},
        {"aum", NULL, 1, 1, "a rule must be a condition, this is a number", "'aum'"},
        {"tier", NULL, 1, 1, "a rule must be a condition, this is text", "'tier'"},
        {"\"gold\"", NULL, 1, 1, "a rule must be a condition, this is text", "'\"gold\"'"},
        {"abs(aum)", NULL, 1, 1, "a rule must be a condition, this is a number", "'abs'"},
        {"not aum", NULL, 1, 5, "'not' needs a condition, found a number", "'aum'"},
        {"aum > 1 and txn_90d", NULL, 1, 13, "'and' needs a condition, found a number", "'txn_90d'"},
        {"txn_90d or aum > 1", NULL, 1, 1, "'or' needs a condition, found a number", "'txn_90d'"},
        {"aum between 1 and 2 and 3", NULL, 1, 25, "'and' needs a condition, found a number", "'3'"},
        /* conditions where numbers are needed */
        {"(aum > 1) == (aum > 2)", NULL, 1, 6, "a comparison needs a number, found a condition", "'>'"},
        {"(aum > 1) + 1 > 0", NULL, 1, 6, "arithmetic needs a number, found a condition", "'>'"},
        {"-(aum > 1) > 0", NULL, 1, 7, "'-' needs a number, found a condition", "'>'"},
        {"tier + 1 > 0", NULL, 1, 1, "arithmetic needs a number, found text", "'tier'"},
        {"min(aum, tier) > 1", NULL, 1, 10, "min needs a number, found text", "'tier'"},
        {"coalesce(tier, 1) > 0", NULL, 1, 10, "coalesce needs a number, found text", "'tier'"},
        {"is_missing(\"a\")", NULL, 1, 12, "is_missing needs a number, found text", "'\"a\"'"},
        {"aum between tier and 3", NULL, 1, 13, "'between' needs a number, found text", "'tier'"},
        {"tier between 1 and 3", NULL, 1, 1, "'between' needs a number, found text", "'tier'"},
        /* in lists */
        {"aum in (1, txn_90d)", NULL, 1, 12, "'in' lists hold number constants", "'txn_90d'"},
        {"aum in (2, \"a\")", NULL, 1, 12, "'in' lists hold number constants", "'\"a\"'"},
        {"aum in (1 + 1)", NULL, 1, 11, "expected ')' or ','", "'+'"},
        {"tier in (\"a\", 2)", NULL, 1, 15, "'in' lists hold \"string\" constants", "'2'"},
        {"tier in (\"a\", stage)", NULL, 1, 15, "'in' lists hold \"string\" constants", "'stage'"},
        {"\"a\" in (\"a\")", NULL, 1, 5, "'in' needs a column or a number on its left", "'in'"},
    };
    check_errors(cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(errors_syntax)
{
    static const err_case cases[] = {
        {"", NULL, 1, 1, "empty rule", NULL},
        {"   # only a comment", NULL, 1, 20, "empty rule", NULL},
        {"\n\n  ", NULL, 3, 3, "empty rule", NULL},
        {"aum = 1", NULL, 1, 5, "'=' is not an operator: write '=='", "'='"},
        {"! aum > 1", NULL, 1, 1, "'!' is not an operator: write 'not' or '!='", "'!'"},
        {"!", NULL, 1, 1, "'!' is not an operator: write 'not' or '!='", "'!'"},
        {"aum ! 1", NULL, 1, 5, "'!' is not an operator", "'!'"},
        {"aum > 1 aum", NULL, 1, 9, "unexpected 'aum' after a complete rule", "'aum'"},
        {"aum > 1 < 2", NULL, 1, 9, "unexpected '<' after a complete rule", "'<'"},
        {"aum > 1 AND aum < 3", NULL, 1, 9, "unexpected 'AND' after a complete rule", "'AND'"},
        {"aum > 1)", NULL, 1, 8, "unexpected ')' after a complete rule", "')'"},
        {"(aum > 1", NULL, 1, 9, "expected ')' but found end of rule", NULL},
        {"((aum > 1) or (aum < 0)", NULL, 1, 24, "expected ')' but found end of rule", NULL},
        {"abs(aum > 1", NULL, 1, 9, "expected ')' or ','", "'>'"},
        {"min(aum, 1", NULL, 1, 11, "expected ')' or ',' but found end of rule", NULL},
        {"aum between 1 or 2", NULL, 1, 15, "expected 'and' in 'between ... and ...'", "'or'"},
        {"aum between 1, 2", NULL, 1, 14, "expected 'and' in 'between ... and ...'", "','"},
        {"aum between 1 and", NULL, 1, 18, "expected a value but found end of rule", NULL},
        {"aum not > 1", NULL, 1, 9, "expected 'in' or 'between' after 'not'", "'>'"},
        {"aum in ()", NULL, 1, 9, "expected a value", "')'"},
        {"aum in (1,)", NULL, 1, 11, "expected a value", "')'"},
        {"aum in 1", NULL, 1, 8, "expected '(' after 'in'", "'1'"},
        {"aum in (1, 2", NULL, 1, 13, "expected ')' or ',' but found end of rule", NULL},
        {"aum > 1 and", NULL, 1, 12, "expected a value but found end of rule", NULL},
        {"aum > +1", NULL, 1, 7, "expected a value", "'+'"},
        {"aum > ", NULL, 1, 7, "expected a value but found end of rule", NULL},
        {"> 1", NULL, 1, 1, "expected a value", "'>'"},
        /* positions on later lines, and the source name */
        {"aum > 1 and\n txn_90d > 1 and\n   zzz > 3", NULL, 3, 4, "unknown column", "'zzz'"},
        {"aum > 1 or\n\tzzz > 2", NULL, 2, 2, "unknown column", "'zzz'"},
        {"aum > 1 # zzz > 1\n  and foo > 2", NULL, 2, 7, "unknown column", "'foo'"},
        {"aum > 1 or\r\n  foo > 2", NULL, 2, 3, "unknown column", "'foo'"},
        {"tier == \"x\" and\n\n  aum = 3", "tiers/gold.rule", 3, 7, "'=' is not an operator", "'='"},
        {"zzz > 1", "tiers.txt", 1, 1, "unknown column", "'zzz'"},
        {"zzz > 1", "", 1, 1, "unknown column", "'zzz'"},
        /* columns count bytes: 月日均资产 is 15 bytes */
        {"`月日均资产` > 1 and zzz > 1", NULL, 1, 27, "unknown column", "'zzz'"},
    };
    check_errors(cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(errors_lexical)
{
    /* Tokens the lexer cannot read: the message must give the position and
     * quote the offending text (rule.h: "reports source:line:col: message
     * with the offending token"). */
    static const err_case cases[] = {
        {"tier == \"gold", NULL, 1, 9, "unterminated string", "\"gold"},
        {"tier == \"gold\n\"", NULL, 1, 9, "unterminated string", "\"gold"},
        {"`abc > 1", NULL, 1, 1, "unterminated `name`", "`abc"},
        {"`` > 1", NULL, 1, 1, "empty `name`", "``"},
        {"tier == \"a\\q\"", NULL, 1, 9, "unknown escape in string", "\\q"},
        {"tier == \"a\\", NULL, 1, 9, "unknown escape in string", "\"a\\"},
        {"aum > 1e", NULL, 1, 7, "malformed exponent in number", "1e"},
        {"aum > 1e+", NULL, 1, 7, "malformed exponent in number", "1e+"},
        {"aum > 1.2.3", NULL, 1, 7, "malformed number", "1.2."},
        {"aum > 123abc", NULL, 1, 7, "malformed number", "123a"},
        {"aum > 0x10", NULL, 1, 7, "malformed number", "0x"},
        {"aum > 1e400", NULL, 1, 7, "number is out of range", "1e400"},
        {"aum @ 1", NULL, 1, 5, "unexpected character", "@"},
        {"aum > 1 and 金 > 1", NULL, 1, 13, "unexpected character (quote non-ASCII names in backquotes)", "金"},
        {"aum > 1 and\n  $x > 1", NULL, 2, 3, "unexpected character", "$"},
        {"tier == \"tab\there\"", NULL, 1, 9, "invalid UTF-8 or control character", "\"tab"},
        {"tier == \"\xff\"", NULL, 1, 9, "invalid UTF-8 or control character", NULL},
    };
    check_errors(cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(error_buffer_and_text_length)
{
    seg_frame *f = schema_frame();
    seg_rule *r = CANARY_RULE;
    /* NULL err_buf: code only */
    ck_assert_int_eq(seg_rule_compile(&r, "zzz > 1", 7, f, NULL, NULL, NULL, 0), SEG_EPARSE);
    ck_assert_int_eq(seg_rule_compile(&r, "zzz > 1", 7, f, NULL, NULL, NULL, 100), SEG_EPARSE);
    ck_assert_ptr_eq(r, CANARY_RULE);
    /* a small buffer is truncated and terminated, nothing written past it */
    char buf[128];
    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(seg_rule_compile(&r, "zzz > 1", 7, f, NULL, NULL, buf, 8), SEG_EPARSE);
    ck_assert_str_eq(buf, "rule:1:");
    for (size_t i = 8; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'Z');
    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(seg_rule_compile(&r, "zzz > 1", 7, f, NULL, NULL, buf, 1), SEG_EPARSE);
    ck_assert_int_eq(buf[0], '\0');
    ck_assert_int_eq(buf[1], 'Z');
    /* cap 0: nothing written */
    memset(buf, 'Z', sizeof buf);
    ck_assert_int_eq(seg_rule_compile(&r, "zzz > 1", 7, f, NULL, NULL, buf, 0), SEG_EPARSE);
    ck_assert_int_eq(buf[0], 'Z');
    ck_assert_ptr_eq(r, CANARY_RULE);

    /* only len bytes are read: the text need not be NUL-terminated */
    const char *text = "aum > 1 and zzz > 1";
    r = NULL;
    ck_assert_int_eq(seg_rule_compile(&r, text, 7, f, NULL, NULL, NULL, 0), SEG_OK);
    seg_rule_free(r);
    char *exact = malloc(7);
    ck_assert_ptr_nonnull(exact);
    memcpy(exact, "aum > 1", 7); /* no NUL: valgrind/ASan catch an overread */
    r = NULL;
    ck_assert_int_eq(seg_rule_compile(&r, exact, 7, f, NULL, NULL, NULL, 0), SEG_OK);
    uint8_t m[2];
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 2, m, NULL, 0), SEG_OK);
    ck_assert_uint_eq(m[0], 0);
    ck_assert_uint_eq(m[1], 1);
    seg_rule_free(r);
    memcpy(exact, "aum > 1", 6); /* "aum > " cut before the number */
    r = CANARY_RULE;
    ck_assert_int_eq(seg_rule_compile(&r, exact, 6, f, NULL, NULL, buf, sizeof buf), SEG_EPARSE);
    ck_assert_str_eq(buf, "rule:1:7: expected a value but found end of rule");
    memcpy(exact, "\"gold\"", 6); /* string cut before the closing quote */
    ck_assert_int_eq(seg_rule_compile(&r, exact, 5, f, NULL, NULL, buf, sizeof buf), SEG_EPARSE);
    ck_assert_ptr_eq(r, CANARY_RULE);
    free(exact);
    /* a NUL byte inside the text is not the end */
    ck_assert_int_eq(seg_rule_compile(&r, "aum > 1\0 x", 10, f, NULL, NULL, buf, sizeof buf),
                     SEG_EPARSE);
    ck_assert_ptr_eq(r, CANARY_RULE);
    ck_assert_msg(strncmp(buf, "rule:1:8: ", 10) == 0, "message \"%s\"", buf);
    /* len 0 with a non-NULL text is an empty rule, not EINVAL */
    ck_assert_int_eq(seg_rule_compile(&r, "aum > 1", 0, f, NULL, NULL, buf, sizeof buf), SEG_EPARSE);
    ck_assert_str_eq(buf, "rule:1:1: empty rule");
    ck_assert_ptr_eq(r, CANARY_RULE);
    seg_frame_free(f);
}
END_TEST

START_TEST(verbatim_messages)
{
    /* exact messages quoted in doc/rules.md */
    static const char *const cases[][2] = {
        {"zzz > 1", "rule:1:1: unknown column 'zzz'"},
        {"aum >= 1e6 and txn_90 >= 1", "rule:1:16: unknown column 'txn_90'"},
        {"tier < \"gold\"", "rule:1:6: text compares only with == and != (at '<')"},
        {"aum + 1", "rule:1:5: a rule must be a condition, this is a number (at '+')"},
        {"aum = 1", "rule:1:5: '=' is not an operator: write '=='"},
        {"aum between 1 or 2", "rule:1:15: expected 'and' in 'between ... and ...' but found 'or'"},
        {"min(aum) > 1", "rule:1:1: min() takes at least two arguments, 1 given (at 'min')"},
        {"avg(aum) > 1",
         "rule:1:1: unknown function 'avg' (known: abs, min, max, coalesce, is_missing)"},
        {"(aum > 1", "rule:1:9: expected ')' but found end of rule"},
        {"not aum", "rule:1:5: 'not' needs a condition, found a number (at 'aum')"},
        {"aum in (1, txn_90d)", "rule:1:12: 'in' lists hold number constants (at 'txn_90d')"},
    };
    seg_frame *f = schema_frame();
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        seg_rule *r = CANARY_RULE;
        char err[256] = "";
        ck_assert_int_eq(seg_rule_compile(&r, cases[k][0], strlen(cases[k][0]), f, NULL, NULL, err,
                                          sizeof err),
                         SEG_EPARSE);
        ck_assert_str_eq(err, cases[k][1]);
    }
    seg_rule *r = CANARY_RULE;
    char err[256] = "";
    const char *t = "aum >= 1e6 and\n  stage == \"vip\" and\n  tier < 3";
    ck_assert_int_eq(seg_rule_compile(&r, t, strlen(t), f, "gold.rule", NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_str_eq(err, "gold.rule:3:8: text compares only with == and != (at '<')");
    seg_frame_free(f);
}
END_TEST

/* 1 if s is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
        else return 0;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        p += n;
    }
    return 1;
}

START_TEST(messages_are_valid_utf8)
{
    /* Messages quote tokens; a long non-ASCII token must not be cut in the
     * middle of a character (the message goes to logs, JSON, ...). */
    static const double v[2] = {1, 2};
    static const char *const names[2] = {"x", "y"};
    const char *col = "a月月月月月月月月月月月月月月"; /* 1 + 14 * 3 bytes */
    seg_frame *f = new_frame(2);
    ck_assert_int_eq(seg_frame_add_double(f, col, v, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "s", names, NULL), SEG_OK);
    const char *cases[] = {
        "not `a月月月月月月月月月月月月月月`",                 /* type error at a column */
        "`a月月月月月月月月月月月月月月` > 1 \"a月月月月月月月月月月月月月月\"", /* trailing token */
        "`a月月月月月月月月月月月月月月` > 1 or s < \"a月月月月月月月月月月月月月月\"",
        "`b月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月"
        "月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月月"
        "月月月月月月月月` > 1",                                     /* unknown column, long name */
        "s == \"x\" and `a月月月月月月月月月月月月月月` in (1, \"月月\")",
    };
    char report[4096] = "";
    size_t bad = 0;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        seg_rule *r = CANARY_RULE;
        char err[512] = "";
        int32_t rc = seg_rule_compile(&r, cases[k], strlen(cases[k]), f, NULL, NULL, err, sizeof err);
        ck_assert_msg(rc == SEG_EPARSE, "case %zu: rc %d", k, (int)rc);
        if (!valid_utf8(err)) {
            bad++;
            size_t len = strlen(report);
            snprintf(report + len, sizeof report - len, " | case %zu: \"%s\"", k, err);
        }
    }
    seg_frame_free(f);
    ck_assert_msg(bad == 0, "%zu messages are not valid UTF-8:%s", bad, report);
}
END_TEST

/* ========================================================================
 * Bad arguments
 * ====================================================================== */

START_TEST(null_arguments)
{
    seg_frame *f = schema_frame();
    seg_rule *r = CANARY_RULE;
    char err[128];
    ck_assert_int_eq(seg_rule_compile(NULL, "aum > 1", 7, f, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_compile(&r, NULL, 7, f, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_ptr_eq(r, CANARY_RULE);
    ck_assert_int_eq(seg_rule_compile(&r, NULL, 0, f, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_ptr_eq(r, CANARY_RULE);
    ck_assert_int_eq(seg_rule_compile(&r, "aum > 1", 7, NULL, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_ptr_eq(r, CANARY_RULE);
    ck_assert_int_eq(seg_rule_compile(&r, "aum > 1", 7, NULL, NULL, NULL, NULL, 0), SEG_EINVAL);
    ck_assert_ptr_eq(r, CANARY_RULE);

    /* allocator of an unknown size */
    seg_allocator big[2];
    memset(big, 0, sizeof big);
    ck_assert_int_eq(seg_allocator_init(&big[0], sizeof big[0], seg_test_alloc_malloc_hook,
                                        seg_test_alloc_realloc_hook, seg_test_alloc_free_hook, NULL),
                     SEG_OK);
    big[0].struct_size = sizeof big[0] + 8;
    ((unsigned char *)big)[sizeof big[0] + 2] = 1; /* a non-zero unknown tail */
    ck_assert_int_eq(seg_rule_compile(&r, "aum > 1", 7, f, NULL, big, err, sizeof err), SEG_EVERSION);
    ck_assert_ptr_eq(r, CANARY_RULE);

    seg_rule_free(NULL);

    r = NULL;
    ck_assert_int_eq(seg_rule_compile(&r, "aum > 1", 7, f, NULL, NULL, err, sizeof err), SEG_OK);
    uint8_t out[3];
    memset(out, CANARY_U8, sizeof out);
    ck_assert_int_eq(seg_rule_eval(NULL, f, 0, 2, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(r, NULL, 0, 2, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 2, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(NULL, NULL, 0, 2, NULL, NULL, 0), SEG_EINVAL);
    /* row ranges out of bounds */
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 3, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(r, f, 2, 1, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(r, f, 3, 3, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(r, f, 1, SIZE_MAX, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_rule_eval(r, f, SIZE_MAX, 1, out, err, sizeof err), SEG_EINVAL);
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_uint_eq(out[i], CANARY_U8);
    /* empty ranges are fine and write nothing */
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 0, out, err, sizeof err), SEG_OK);
    ck_assert_int_eq(seg_rule_eval(r, f, 2, 2, out, err, sizeof err), SEG_OK);
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_uint_eq(out[i], CANARY_U8);
    ck_assert_int_eq(seg_rule_eval(r, f, 1, 2, out, NULL, 0), SEG_OK);
    ck_assert_uint_eq(out[0], 1);
    ck_assert_uint_eq(out[1], CANARY_U8);
    seg_rule_free(r);
    seg_frame_free(f);
}
END_TEST

START_TEST(zero_row_frames)
{
    seg_frame *f = new_frame(0);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "tier", NULL, NULL, 0, NULL), SEG_OK);
    seg_rule *r = COMPILE(f, "aum > 1 or tier == \"x\"");
    uint8_t out = CANARY_U8;
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 0, &out, NULL, 0), SEG_OK);
    ck_assert_uint_eq(out, CANARY_U8);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 1, &out, NULL, 0), SEG_EINVAL);
    seg_rule_free(r);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Allocation failures
 * ====================================================================== */

START_TEST(allocation_failures)
{
    seg_frame *f = text_frame();
    const char *text = "n > 2 and s in (\"gold\", \"金卡\") or d == \"gold\" and d_v != \"x\" "
                       "or n in (1, 2, 3) or coalesce(n, 1) between 0 and min(n, 4)";
    seg_rule *ref = COMPILE(f, text);
    char *want = eval_string(ref, f, __LINE__, text);
    seg_rule_free(ref);

    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    int compiled = 0;
    char silent[512] = ""; /* failure points that gave SEG_ENOMEM without a message */
    for (size_t k = 0; k < 500 && !compiled; k++) {
        seg_test_alloc_fail_next(&ta, k);
        seg_rule *r = CANARY_RULE;
        char err[256] = "";
        int32_t rc = seg_rule_compile(&r, text, strlen(text), f, NULL, &ta.base, err, sizeof err);
        seg_test_alloc_no_fail(&ta);
        if (rc == SEG_OK) {
            compiled = 1;
            seg_rule_free(r);
            break;
        }
        ck_assert_msg(rc == SEG_ENOMEM, "fail at %zu: rc %d (%s)", k, (int)rc, err);
        ck_assert_msg(r == CANARY_RULE, "fail at %zu: out written", k);
        ck_assert_msg(ta.live == 0, "fail at %zu: %zu blocks leaked", k, ta.live);
        if (err[0] == '\0') {
            size_t len = strlen(silent);
            snprintf(silent + len, sizeof silent - len, " compile#%zu", k);
        }
    }
    ck_assert_msg(compiled, "never compiled");
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);

    /* evaluation allocates its registers through the rule's allocator */
    seg_rule *r = NULL;
    ck_assert_int_eq(seg_rule_compile(&r, text, strlen(text), f, NULL, &ta.base, NULL, 0), SEG_OK);
    size_t n = seg_frame_n_rows(f);
    int evaluated = 0;
    for (size_t k = 0; k < 100 && !evaluated; k++) {
        size_t live0 = ta.live;
        uint8_t out[8];
        memset(out, CANARY_U8, sizeof out);
        char err[256] = "";
        seg_test_alloc_fail_next(&ta, k);
        int32_t rc = seg_rule_eval(r, f, 0, n, out, err, sizeof err);
        seg_test_alloc_no_fail(&ta);
        ck_assert_msg(ta.live == live0, "eval fail at %zu: %zu blocks leaked", k, ta.live - live0);
        if (rc == SEG_OK) {
            evaluated = 1;
            for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(out[i], (unsigned)(want[i] - '0'));
            break;
        }
        ck_assert_msg(rc == SEG_ENOMEM, "eval fail at %zu: rc %d", k, (int)rc);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(out[i] == CANARY_U8, "eval fail at %zu: output written", k);
        if (err[0] == '\0') {
            size_t len = strlen(silent);
            snprintf(silent + len, sizeof silent - len, " eval#%zu", k);
        }
    }
    ck_assert(evaluated);
    seg_rule_free(r);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    free(want);
    seg_frame_free(f);
    /* err_buf "receives a message on failure" (rule.h) */
    ck_assert_msg(silent[0] == '\0', "SEG_ENOMEM without a message at allocation attempts:%s",
                  silent);
}
END_TEST

/* ========================================================================
 * Threads
 * ====================================================================== */

typedef struct thread_arg {
    const seg_rule *rule;
    const seg_frame *frame;
    const uint8_t *want;
    int id;
    int failures;
    int32_t last_rc;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *t = p;
    uint8_t *out = malloc(BIG_N);
    if (!out) {
        t->failures = -1;
        return NULL;
    }
    for (int rep = 0; rep < 40; rep++) {
        size_t b = (size_t)((t->id * 131 + rep * 517) % 1500);
        size_t e = rep % 3 == 0 ? BIG_N : b + (size_t)((rep * 389 + t->id * 61) % (BIG_N - b + 1));
        int32_t rc = seg_rule_eval(t->rule, t->frame, b, e, out, NULL, 0);
        if (rc != SEG_OK) {
            t->failures++;
            t->last_rc = rc;
            continue;
        }
        if (memcmp(out, t->want + b, e - b) != 0)
            t->failures++;
    }
    free(out);
    return NULL;
}

START_TEST(threads_share_one_rule)
{
    seg_frame *f = big_frame();
    seg_rule *r = COMPILE(f, BIG_RULE " or coalesce(x, k) * 3 between 1 and min(k, 2.5)");
    uint8_t *want = malloc(BIG_N);
    ck_assert_ptr_nonnull(want);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, BIG_N, want, NULL, 0), SEG_OK);
    pthread_t th[8];
    thread_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (thread_arg){r, f, want, i, 0, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(args[i].failures == 0, "thread %d: %d failures (rc %d)", i, args[i].failures,
                      (int)args[i].last_rc);
    }
    free(want);
    seg_rule_free(r);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Long and deep rules
 * ====================================================================== */

/* Appends to a growing buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

START_TEST(long_rules)
{
    static double x[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = i;
    seg_frame *f = new_frame(1000);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);

    /* 500 or terms: x == 0 or x == 2 or ... or x == 998 */
    sbuf b = {0};
    char term[64];
    for (int i = 0; i < 500; i++) {
        snprintf(term, sizeof term, "%sx == %d", i ? " or " : "", 2 * i);
        sb_add(&b, term);
    }
    seg_rule *r = COMPILE(f, b.p);
    uint8_t m[1000];
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 1000, m, NULL, 0), SEG_OK);
    for (int i = 0; i < 1000; i++)
        ck_assert_msg(m[i] == (i % 2 == 0), "or-rule row %d: %u", i, (unsigned)m[i]);
    seg_rule_free(r);

    /* 500 and terms: x != 1 and x != 3 and ... */
    b.len = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(term, sizeof term, "%sx != %d", i ? " and " : "", 2 * i + 1);
        sb_add(&b, term);
    }
    r = COMPILE(f, b.p);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 1000, m, NULL, 0), SEG_OK);
    for (int i = 0; i < 1000; i++)
        ck_assert_msg(m[i] == (i % 2 == 0), "and-rule row %d: %u", i, (unsigned)m[i]);
    seg_rule_free(r);

    /* right-nested: x == 0 or (x == 2 or (x == 4 or ...)) over 200 levels */
    b.len = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(term, sizeof term, "x == %d or (", 2 * i);
        sb_add(&b, term);
    }
    sb_add(&b, "x == 400");
    for (int i = 0; i < 200; i++)
        sb_add(&b, ")");
    r = COMPILE(f, b.p);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 1000, m, NULL, 0), SEG_OK);
    for (int i = 0; i < 1000; i++)
        ck_assert_msg(m[i] == (i % 2 == 0 && i <= 400), "nested-rule row %d: %u", i, (unsigned)m[i]);
    seg_rule_free(r);

    /* a list of 256 values */
    b.len = 0;
    sb_add(&b, "x in (");
    for (int i = 0; i < 256; i++) {
        snprintf(term, sizeof term, "%s%d", i ? ", " : "", 3 * i);
        sb_add(&b, term);
    }
    sb_add(&b, ")");
    r = COMPILE(f, b.p);
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 1000, m, NULL, 0), SEG_OK);
    for (int i = 0; i < 1000; i++)
        ck_assert_msg(m[i] == (i % 3 == 0 && i < 768), "in-rule row %d: %u", i, (unsigned)m[i]);
    seg_rule_free(r);
    free(b.p);
    seg_frame_free(f);
}
END_TEST

START_TEST(many_columns)
{
    /* more columns in one rule than fit the evaluator's fixed table (64) */
    enum { NC = 70, NR = 3 };
    static double data[NC][NR];
    seg_frame *f = new_frame(NR);
    sbuf b = {0};
    char name[32], term[64];
    for (int c = 0; c < NC; c++) {
        for (int r = 0; r < NR; r++)
            data[c][r] = r == 0 ? 1 : (r == 1 ? (c == 69 ? 0 : 1) : 0);
        snprintf(name, sizeof name, "c%d", c);
        ck_assert_int_eq(seg_frame_add_double(f, name, data[c], NULL), SEG_OK);
        snprintf(term, sizeof term, "%sc%d == 1", c ? " and " : "", c);
        sb_add(&b, term);
    }
    EXPECT(f, b.p, "100");
    /* and a column missing from another frame is reported */
    seg_rule *r = COMPILE(f, b.p);
    seg_frame *g = new_frame(NR);
    for (int c = 0; c < NC - 1; c++) {
        snprintf(name, sizeof name, "c%d", c);
        ck_assert_int_eq(seg_frame_add_double(g, name, data[c], NULL), SEG_OK);
    }
    uint8_t out[NR] = {7, 7, 7};
    char err[256] = "";
    ck_assert_int_eq(seg_rule_eval(r, g, 0, NR, out, err, sizeof err), SEG_ENOTFOUND);
    ck_assert_msg(strstr(err, "'c69'") != NULL, "message \"%s\"", err);
    ck_assert_uint_eq(out[0], 7);
    seg_rule_free(r);
    seg_frame_free(g);
    free(b.p);
    seg_frame_free(f);
}
END_TEST

START_TEST(too_many_list_values)
{
    seg_frame *f = schema_frame();
    sbuf b = {0};
    char term[32];
    sb_add(&b, "aum in (");
    for (int i = 0; i < 300; i++) {
        snprintf(term, sizeof term, "%s%d", i ? "," : "", i % 10);
        sb_add(&b, term);
    }
    sb_add(&b, ")");
    seg_rule *r = CANARY_RULE;
    char err[256] = "";
    int32_t rc = seg_rule_compile(&r, b.p, b.len, f, NULL, NULL, err, sizeof err);
    /* 256 values fit (long_rules); the 257th is at byte 8 + 2 * 256 */
    ck_assert_msg(rc == SEG_EPARSE, "rc %d", (int)rc);
    ck_assert_str_eq(err, "rule:1:521: too many values in the list (at most 256)");
    ck_assert_ptr_eq(r, CANARY_RULE);
    free(b.p);
    seg_frame_free(f);
}
END_TEST

/* Compiles a pathological rule: any outcome but a crash is acceptable,
 * and a failure must be a clean SEG_EPARSE with a positioned message. */
static void pathological(const char *text, size_t len)
{
    seg_frame *f = schema_frame();
    seg_rule *r = CANARY_RULE;
    char err[256] = "";
    int32_t rc = seg_rule_compile(&r, text, len, f, NULL, NULL, err, sizeof err);
    ck_assert_msg(rc == SEG_OK || rc == SEG_EPARSE || rc == SEG_ENOMEM, "rc %d (%s)", (int)rc, err);
    if (rc == SEG_OK) {
        uint8_t out[2];
        ck_assert_int_eq(seg_rule_eval(r, f, 0, 2, out, NULL, 0), SEG_OK);
        seg_rule_free(r);
    } else {
        ck_assert_ptr_eq(r, CANARY_RULE);
        ck_assert_msg(strncmp(err, "rule:", 5) == 0, "message \"%s\"", err);
    }
    seg_frame_free(f);
}

static char *repeat(const char *head, size_t n, const char *mid, const char *tail, size_t n_tail,
                    size_t *len)
{
    size_t hl = strlen(head), ml = strlen(mid), tl = strlen(tail);
    char *s = malloc(hl * n + ml + tl * n_tail + 1);
    ck_assert_ptr_nonnull(s);
    char *p = s;
    for (size_t i = 0; i < n; i++, p += hl)
        memcpy(p, head, hl);
    memcpy(p, mid, ml);
    p += ml;
    for (size_t i = 0; i < n_tail; i++, p += tl)
        memcpy(p, tail, tl);
    *p = '\0';
    *len = (size_t)(p - s);
    return s;
}

START_TEST(deep_parentheses)
{
    size_t len;
    char *s = repeat("(", 10000, "aum > 1", ")", 10000, &len);
    pathological(s, len);
    free(s);
}
END_TEST

START_TEST(deep_parentheses_unclosed)
{
    size_t len;
    char *s = repeat("(", 100000, "", "", 0, &len);
    pathological(s, len);
    free(s);
}
END_TEST

START_TEST(deep_not_chain)
{
    size_t len;
    char *s = repeat("not ", 100000, "aum > 1", "", 0, &len);
    pathological(s, len);
    free(s);
}
END_TEST

START_TEST(deep_minus_chain)
{
    size_t len;
    char *s = repeat("- ", 100000, "1 < aum", "", 0, &len);
    pathological(s, len);
    free(s);
}
END_TEST

START_TEST(deep_nesting_moderate)
{
    /* Nesting up to the documented limit (256 levels) compiles; the
     * generated rule uses 250. Deeper is refused (deep_* tests). */
    size_t len;
    char *s = repeat("(", 250, "aum > 1", ")", 250, &len);
    seg_frame *f = schema_frame();
    seg_rule *r = NULL;
    char err[256] = "";
    ck_assert_msg(seg_rule_compile(&r, s, len, f, NULL, NULL, err, sizeof err) == SEG_OK, "%s", err);
    uint8_t out[2];
    ck_assert_int_eq(seg_rule_eval(r, f, 0, 2, out, NULL, 0), SEG_OK);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 1);
    seg_rule_free(r);
    free(s);
    seg_frame_free(f);
}
END_TEST

START_TEST(too_many_terms)
{
    /* 3000 or terms: either compiles and is right, or is refused cleanly */
    static double x[4] = {0, 1, 2, 7000};
    seg_frame *f = new_frame(4);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, NULL), SEG_OK);
    sbuf b = {0};
    char term[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(term, sizeof term, "%sx == %d", i ? " or " : "", 2 * i);
        sb_add(&b, term);
    }
    seg_rule *r = CANARY_RULE;
    char err[256] = "";
    int32_t rc = seg_rule_compile(&r, b.p, b.len, f, NULL, NULL, err, sizeof err);
    if (rc == SEG_OK) {
        uint8_t m[4];
        ck_assert_int_eq(seg_rule_eval(r, f, 0, 4, m, NULL, 0), SEG_OK);
        ck_assert(m[0] == 1 && m[1] == 0 && m[2] == 1 && m[3] == 0);
        seg_rule_free(r);
    } else {
        ck_assert_int_eq(rc, SEG_EPARSE);
        ck_assert_ptr_eq(r, CANARY_RULE);
        ck_assert_msg(strstr(err, "rule is too long") != NULL, "message \"%s\"", err);
    }
    free(b.p);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Suite
 * ====================================================================== */

static Suite *rule_suite(void)
{
    Suite *s = suite_create("rule");
    TCase *tc = tcase_create("operators");
    tcase_add_test(tc, arithmetic_values);
    tcase_add_test(tc, arithmetic_precedence);
    tcase_add_test(tc, comparisons);
    tcase_add_test(tc, between_and_in);
    tcase_add_test(tc, logic_precedence);
    tcase_add_test(tc, functions);
    suite_add_tcase(s, tc);

    tc = tcase_create("missing");
    tcase_add_test(tc, three_valued_doubles);
    tcase_add_test(tc, three_valued_integers_with_bitmaps);
    tcase_add_test(tc, three_valued_text);
    tcase_add_test(tc, missing_aum_worked_example);
    tcase_add_test(tc, integer_columns);
    suite_add_tcase(s, tc);

    tc = tcase_create("text");
    tcase_add_test(tc, string_columns);
    tcase_add_test(tc, dictionary_columns);
    suite_add_tcase(s, tc);

    tc = tcase_create("frames");
    tcase_add_test(tc, blocks_and_subranges);
    tcase_add_test(tc, blocks_arithmetic_and_functions);
    tcase_add_test(tc, other_frames);
    tcase_add_test(tc, rule_without_columns);
    tcase_add_test(tc, zero_row_frames);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, errors_names_and_functions);
    tcase_add_test(tc, errors_types);
    tcase_add_test(tc, errors_syntax);
    tcase_add_test(tc, errors_lexical);
    tcase_add_test(tc, error_buffer_and_text_length);
    tcase_add_test(tc, verbatim_messages);
    tcase_add_test(tc, messages_are_valid_utf8);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, allocation_failures);
    tcase_add_test(tc, threads_share_one_rule);
    suite_add_tcase(s, tc);

    tc = tcase_create("long");
    tcase_add_test(tc, long_rules);
    tcase_add_test(tc, many_columns);
    tcase_add_test(tc, too_many_list_values);
    tcase_add_test(tc, too_many_terms);
    tcase_add_test(tc, deep_nesting_moderate);
    suite_add_tcase(s, tc);

    /* Tagged, so a valgrind run without fork can leave it out
     * (CK_EXCLUDE_TAGS=deep): a stack overflow kills the process. */
    tc = tcase_create("deep");
    tcase_set_tags(tc, "deep");
    tcase_add_test(tc, deep_parentheses);
    tcase_add_test(tc, deep_parentheses_unclosed);
    tcase_add_test(tc, deep_not_chain);
    tcase_add_test(tc, deep_minus_chain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(rule_suite());
}
