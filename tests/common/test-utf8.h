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
#include <string.h>

/* Decodes one code point strictly (no overlong forms, surrogates or values
 * above U+10FFFF) from s[0..n): its length in bytes, 0 when invalid. */
static inline size_t seg_test_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* 0 if `msg` is valid UTF-8 without C0 controls or DEL; else the 1-based
 * offset of the first offending byte. */
static inline size_t seg_test_msg_bad_at(const char *msg)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t n = strlen(msg);
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = seg_test_utf8_decode(s + i, n - i, &cp);
        if (k == 0 || cp < 0x20 || cp == 0x7f)
            return i + 1;
        i += k;
    }
    return 0;
}

#endif /* SEG_TEST_UTF8_H */
