/* SPDX-License-Identifier: MIT */
/*
 * The library promises that every error message is one line of valid UTF-8
 * (doc/errors.md): bytes of caller text that are control characters or
 * malformed UTF-8 are quoted as '?'. This check is written independently of
 * lib/ (no library helper), for the Check suites and the fuzz targets.
 */
#ifndef SEG_TEST_UTF8_H
#define SEG_TEST_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 0 if `msg` is valid UTF-8 (shortest forms, no surrogates, at most
 * U+10FFFF) without C0 controls or DEL; else the 1-based offset of the
 * first offending byte. */
static inline size_t seg_test_msg_bad_at(const char *msg)
{
    const unsigned char *s = (const unsigned char *)msg;
    for (size_t i = 0; s[i];) {
        unsigned c = s[i];
        if (c < 0x20 || c == 0x7f)
            return i + 1;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0)
            return i + 1;
        uint32_t cp = c & (0x7fu >> n);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) /* also stops at the NUL */
                return i + 1;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i + 1;
        i += n;
    }
    return 0;
}

#endif /* SEG_TEST_UTF8_H */
