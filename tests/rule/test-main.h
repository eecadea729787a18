/* SPDX-License-Identifier: MIT */
/* Shared boilerplate for the rule-language Check suite: TAP runner and helpers. */
#ifndef SEG_TEST_RULE_MAIN_H
#define SEG_TEST_RULE_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif /* SEG_TEST_RULE_MAIN_H */
