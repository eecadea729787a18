/* SPDX-License-Identifier: MIT */
/* Shared boilerplate for the unit suites: TAP runner and message helpers. */
#ifndef SEG_TEST_UNIT_MAIN_H
#define SEG_TEST_UNIT_MAIN_H

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a suite with TAP output on stdout (meson's protocol: 'tap');
 * returns EXIT_SUCCESS when every case passed. */
static inline int seg_unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* 1 if `msg` contains `word` (ASCII case-insensitive). */
static inline int seg_unit_contains(const char *msg, const char *word)
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

/* 1 if `msg` names the 0-based row `row` as "row <row>" or "[<row>]" with
 * <row> a whole number (so row 1 does not match "row 12"). */
static inline int seg_unit_names_row(const char *msg, size_t row)
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

#endif /* SEG_TEST_UNIT_MAIN_H */
