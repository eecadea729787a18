/* SPDX-License-Identifier: MIT */
/*
 * Shared boilerplate for every Check suite (unit, rfm, rule, tiers): the TAP
 * runner, message helpers, canary values and a validity-bitmap builder.
 * The counting, failure-injecting allocator is test-alloc.h next to this
 * file (compile test-alloc.c into the suite to use it).
 */
#ifndef SEG_TEST_MAIN_H
#define SEG_TEST_MAIN_H

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-utf8.h"

/* Runs a suite with TAP output on stdout (meson's protocol: 'tap');
 * returns EXIT_SUCCESS when every case passed. */
static inline int seg_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- messages ---------------------------------------------------------- */

/* 1 if `msg` contains `word` (ASCII case-insensitive). */
static inline int seg_test_has_word(const char *msg, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = msg; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)word[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* 1 if `msg` names the 0-based row index `row` (the index into the caller's
 * arrays) as "row <row>" or "[<row>]", with <row> a whole number (so row 1
 * does not match "row 12"). */
static inline int seg_test_names_row(const char *msg, size_t row)
{
    char want[2][48];
    snprintf(want[0], sizeof want[0], "row %zu", row);
    snprintf(want[1], sizeof want[1], "[%zu]", row);
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(want[k]);
        for (const char *p = msg; (p = strstr(p, want[k])) != NULL; p++) {
            if (!isdigit((unsigned char)p[n]))
                return 1;
        }
    }
    return 0;
}

/* 1 if `msg` contains the decimal number `v` not glued to other digits
 * (12 is not named by "123" or "112"). */
static inline int seg_test_names_number(const char *msg, long long v)
{
    char want[32];
    snprintf(want, sizeof want, "%lld", v);
    size_t n = strlen(want);
    for (const char *p = msg; (p = strstr(p, want)) != NULL; p++) {
        int before = p > msg && isdigit((unsigned char)p[-1]);
        if (!before && !isdigit((unsigned char)p[n]))
            return 1;
    }
    return 0;
}

/* Asserts that `msg` contains `word` (ASCII case-insensitive). */
#define SEG_ASSERT_WORD(msg, word)                                                              \
    ck_assert_msg(seg_test_has_word((msg), (word)), "message \"%s\" lacks \"%s\"", (msg),      \
                  (word))

/* Asserts that `msg` starts with `prefix` (e.g. "source:line:col: "). */
#define SEG_ASSERT_PREFIX(msg, prefix)                                                          \
    ck_assert_msg(strncmp((msg), (prefix), strlen(prefix)) == 0,                               \
                  "message \"%s\" does not start with \"%s\"", (msg), (prefix))

/* Asserts that `msg` names the whole number `v`. */
#define SEG_ASSERT_NUM(msg, v)                                                                  \
    ck_assert_msg(seg_test_names_number((msg), (long long)(v)),                                \
                  "message \"%s\" does not name %lld", (msg), (long long)(v))

/* Asserts that `msg` names both `column` and the 0-based `row`. */
#define SEG_ASSERT_NAMES(msg, column, row)                                                     \
    do {                                                                                       \
        const char *m_ = (msg);                                                                \
        ck_assert_msg(seg_test_has_word(m_, (column)), "message \"%s\" lacks column \"%s\"", \
                      m_, (column));                                                           \
        ck_assert_msg(seg_test_names_row(m_, (row)), "message \"%s\" does not name row %zu",   \
                      m_, (size_t)(row));                                                      \
    } while (0)

/* ---- canaries ---------------------------------------------------------- */

/* Values stored in caller outputs before a call that must leave them
 * untouched. None is a value the library could legitimately write, and the
 * byte values differ from test-alloc's poison bytes (0xA5 fresh, 0x5A
 * freed), so an output filled from uninitialised or freed memory does not
 * pass for untouched. */
#define CANARY_I32 ((int32_t)0x5EED5EED)
#define CANARY_I64 ((int64_t)0x5EED5EED5EED5EEDLL)
#define CANARY_DBL (-12345.5)
#define CANARY_U8 ((uint8_t)0xC7)
#define CANARY_SIZE ((size_t)0xC0FFEE)

/* A pointer that is neither NULL nor anything the library hands out. */
static inline void *seg_test_canary_ptr(void)
{
    static char obj;
    return &obj;
}
#define CANARY_PTR (seg_test_canary_ptr())

/* ---- inputs ------------------------------------------------------------ */

/* Deterministic pseudo-random numbers (splitmix64): the same sequence on
 * every platform, so generated test data is reproducible. */
static inline uint64_t seg_test_rng(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Arrow validity bitmap from a string of '1' (present) and '0' (missing):
 * bit i % 8 of byte i / 8, least significant first. `out` must hold
 * (strlen(bits) + 7) / 8 bytes. */
static inline void seg_test_bitmap(const char *bits, unsigned char *out)
{
    size_t n = strlen(bits);
    memset(out, 0, (n + 7) / 8);
    for (size_t i = 0; i < n; i++)
        if (bits[i] == '1')
            out[i / 8] |= (unsigned char)(1u << (i % 8));
}

#endif /* SEG_TEST_MAIN_H */
