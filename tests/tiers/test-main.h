/* SPDX-License-Identifier: MIT */
/* Shared boilerplate for the tier-set Check suite: TAP runner, message
 * helpers, and a counting allocator that can be told to fail. */
#ifndef SEG_TEST_TIERS_MAIN_H
#define SEG_TEST_TIERS_MAIN_H

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segment/common.h>

/* Runs a suite with TAP output on stdout (meson's protocol: 'tap'). */
static inline int seg_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* 1 if `msg` contains `word` (case-insensitive). */
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

/* 1 if `msg` names the 0-based row `row` as "row <row>" or "[<row>]" (and
 * not as the prefix of a longer number). */
static inline int seg_test_names_row(const char *msg, size_t row)
{
    char want[2][48];
    snprintf(want[0], sizeof want[0], "row %zu", row);
    snprintf(want[1], sizeof want[1], "[%zu]", row);
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(want[k]);
        for (const char *p = msg; (p = strstr(p, want[k])) != NULL; p++)
            if (!isdigit((unsigned char)p[n]))
                return 1;
    }
    return 0;
}

/* A counting allocator: `budget` successful allocations left (-1 =
 * unlimited), `live` blocks not yet freed. */
typedef struct seg_test_budget {
    seg_allocator base;
    long budget;
    long live;
    long failures;
} seg_test_budget;

static inline void *seg_test_budget_malloc(size_t size, void *user)
{
    seg_test_budget *b = user;
    if (b->budget == 0) {
        b->failures++;
        return NULL;
    }
    void *p = malloc(size ? size : 1);
    if (p) {
        if (b->budget > 0)
            b->budget--;
        b->live++;
    }
    return p;
}

static inline void *seg_test_budget_realloc(void *ptr, size_t size, void *user)
{
    seg_test_budget *b = user;
    if (!ptr)
        return seg_test_budget_malloc(size, user);
    if (b->budget == 0) {
        b->failures++;
        return NULL;
    }
    void *p = realloc(ptr, size ? size : 1);
    if (p && b->budget > 0)
        b->budget--;
    return p;
}

static inline void seg_test_budget_free(void *ptr, void *user)
{
    seg_test_budget *b = user;
    if (ptr) {
        b->live--;
        free(ptr);
    }
}

static inline void seg_test_budget_init(seg_test_budget *b)
{
    memset(b, 0, sizeof *b);
    b->base.struct_size = (uint32_t)sizeof(seg_allocator);
    b->base.malloc_fn = seg_test_budget_malloc;
    b->base.realloc_fn = seg_test_budget_realloc;
    b->base.free_fn = seg_test_budget_free;
    b->base.user_data = b;
    b->budget = -1;
}

#endif /* SEG_TEST_TIERS_MAIN_H */
