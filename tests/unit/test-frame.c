/* SPDX-License-Identifier: MIT */
/*
 * Frame: creation, typed columns, names (UTF-8 rules), lookups, value reads
 * with NaN and Arrow validity bitmaps, zero-copy, and every bad argument.
 */
#include <segment/segment.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-alloc.h"
#include "test-main.h"

/* Reads (value, missing) and asserts SEG_OK. */
static void read_ok(const seg_frame *f, size_t col, size_t row, double *v, int32_t *missing)
{
    *v = CANARY_DBL;
    *missing = CANARY_I32;
    int32_t rc = seg_frame_get_double(f, col, row, v, missing);
    ck_assert_msg(rc == SEG_OK, "get_double(%zu, %zu) gave %d", col, row, (int)rc);
    ck_assert_msg(*missing == 0 || *missing == 1, "missing flag %d", (int)*missing);
}

static void assert_value(const seg_frame *f, size_t col, size_t row, double want)
{
    double v;
    int32_t missing;
    read_ok(f, col, row, &v, &missing);
    ck_assert_msg(missing == 0, "col %zu row %zu reads missing", col, row);
    ck_assert_msg(v == want, "col %zu row %zu: %.17g, want %.17g", col, row, v, want);
}

static void assert_missing(const seg_frame *f, size_t col, size_t row)
{
    double v;
    int32_t missing;
    read_ok(f, col, row, &v, &missing);
    ck_assert_msg(missing == 1, "col %zu row %zu reads present (%.17g)", col, row, v);
    ck_assert_msg(isnan(v), "col %zu row %zu missing but value %.17g", col, row, v);
}

/* Column `col` has name `want_name` and type `want_type`. */
static void assert_column(const seg_frame *f, size_t col, const char *want_name,
                          int32_t want_type)
{
    const char *name = NULL;
    int32_t type = 0;
    ck_assert_int_eq(seg_frame_column_info(f, col, &name, &type), SEG_OK);
    ck_assert_str_eq(name, want_name);
    ck_assert_int_eq(type, want_type);
}

static seg_frame *new_frame(size_t n_rows)
{
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n_rows, NULL), SEG_OK);
    ck_assert_ptr_nonnull(f);
    return f;
}

/* ========================================================================
 * Creation, columns, lookups
 * ====================================================================== */

START_TEST(create_and_add_columns)
{
    static const double d[5] = {1.5, -2.25, 0, 1e300, -0.0};
    static const int64_t i64[5] = {0, -1, INT64_MAX, INT64_MIN, 9007199254740992LL};
    static const int32_t i32[5] = {7, INT32_MIN, INT32_MAX, -3, 0};

    seg_frame *f = new_frame(5);
    ck_assert_uint_eq(seg_frame_n_rows(f), 5);
    ck_assert_uint_eq(seg_frame_n_columns(f), 0);
    ck_assert_str_eq(seg_frame_last_error(f), "");

    ck_assert_int_eq(seg_frame_add_double(f, "amount", d, NULL), SEG_OK);
    ck_assert_uint_eq(seg_frame_n_columns(f), 1);
    ck_assert_int_eq(seg_frame_add_int64(f, "customer_id", i64, NULL), SEG_OK);
    ck_assert_uint_eq(seg_frame_n_columns(f), 2);
    ck_assert_int_eq(seg_frame_add_int32(f, "days", i32, NULL), SEG_OK);
    ck_assert_uint_eq(seg_frame_n_columns(f), 3);
    ck_assert_uint_eq(seg_frame_n_rows(f), 5);
    ck_assert_str_eq(seg_frame_last_error(f), "");

    assert_column(f, 0, "amount", SEG_TYPE_DOUBLE);
    assert_column(f, 1, "customer_id", SEG_TYPE_INT64);
    assert_column(f, 2, "days", SEG_TYPE_INT32);

    /* Each output may be NULL on its own. */
    const char *name = NULL;
    ck_assert_int_eq(seg_frame_column_info(f, 1, &name, NULL), SEG_OK);
    ck_assert_str_eq(name, "customer_id");
    int32_t type = 0;
    ck_assert_int_eq(seg_frame_column_info(f, 2, NULL, &type), SEG_OK);
    ck_assert_int_eq(type, SEG_TYPE_INT32);
    ck_assert_int_eq(seg_frame_column_info(f, 0, NULL, NULL), SEG_OK);

    size_t idx = CANARY_SIZE;
    ck_assert_int_eq(seg_frame_find(f, "amount", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(seg_frame_find(f, "customer_id", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(seg_frame_find(f, "days", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 2);

    /* Values: doubles as given, integers converted. */
    for (size_t r = 0; r < 5; r++) {
        assert_value(f, 0, r, d[r]);
        assert_value(f, 1, r, (double)i64[r]);
        assert_value(f, 2, r, (double)i32[r]);
    }
    double v;
    int32_t missing;
    read_ok(f, 0, 4, &v, &missing);
    ck_assert(signbit(v)); /* -0.0 kept */
    read_ok(f, 1, 4, &v, &missing);
    ck_assert_double_eq(v, 9007199254740992.0); /* 2^53 exact */
    read_ok(f, 2, 1, &v, &missing);
    ck_assert_double_eq(v, -2147483648.0);

    /* out_missing may be NULL. */
    v = CANARY_DBL;
    ck_assert_int_eq(seg_frame_get_double(f, 2, 0, &v, NULL), SEG_OK);
    ck_assert_double_eq(v, 7.0);

    seg_frame_free(f);
}
END_TEST

START_TEST(find_missing_and_case)
{
    static const double d[2] = {1, 2};
    static const double e[2] = {3, 4};
    seg_frame *f = new_frame(2);
    ck_assert_int_eq(seg_frame_add_double(f, "Amount", d, NULL), SEG_OK);
    /* Names compare byte for byte: a different case is a different name. */
    ck_assert_int_eq(seg_frame_add_double(f, "amount", e, NULL), SEG_OK);
    ck_assert_uint_eq(seg_frame_n_columns(f), 2);

    size_t idx = CANARY_SIZE;
    ck_assert_int_eq(seg_frame_find(f, "amount", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(seg_frame_find(f, "Amount", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 0);

    const char *absent[] = {"AMOUNT", "amoun", "amounts", "", " amount", "x"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        idx = CANARY_SIZE;
        ck_assert_int_eq(seg_frame_find(f, absent[i], &idx), SEG_ENOTFOUND);
        ck_assert_uint_eq(idx, CANARY_SIZE);
    }
    /* Lookups never write the build error. */
    ck_assert_str_eq(seg_frame_last_error(f), "");
    seg_frame_free(f);
}
END_TEST

START_TEST(duplicate_name_refused)
{
    static const double d[3] = {1, 2, 3};
    static const int64_t i64[3] = {4, 5, 6};
    static const int32_t i32[3] = {7, 8, 9};
    seg_frame *f = new_frame(3);
    ck_assert_int_eq(seg_frame_add_double(f, "spend", d, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "visits", i32, NULL), SEG_OK);

    /* Same name, any type: refused, frame unchanged, message names it. */
    ck_assert_int_eq(seg_frame_add_double(f, "spend", d, NULL), SEG_EEXISTS);
    ck_assert_uint_eq(seg_frame_n_columns(f), 2);
    ck_assert_msg(strstr(seg_frame_last_error(f), "spend") != NULL, "message \"%s\"",
                  seg_frame_last_error(f));

    ck_assert_int_eq(seg_frame_add_int64(f, "visits", i64, NULL), SEG_EEXISTS);
    ck_assert_uint_eq(seg_frame_n_columns(f), 2);
    ck_assert_msg(strstr(seg_frame_last_error(f), "visits") != NULL, "message \"%s\"",
                  seg_frame_last_error(f));

    ck_assert_int_eq(seg_frame_add_int32(f, "spend", i32, NULL), SEG_EEXISTS);
    ck_assert_uint_eq(seg_frame_n_columns(f), 2);

    /* The original columns are intact. */
    assert_column(f, 0, "spend", SEG_TYPE_DOUBLE);
    assert_column(f, 1, "visits", SEG_TYPE_INT32);
    assert_value(f, 0, 2, 3.0);
    assert_value(f, 1, 0, 7.0);
    size_t idx = CANARY_SIZE;
    const char *name = NULL;
    int32_t type = 0;
    ck_assert_int_eq(seg_frame_column_info(f, 2, &name, &type), SEG_ERANGE);

    /* A success afterwards clears the message. */
    ck_assert_int_eq(seg_frame_add_int64(f, "orders", i64, NULL), SEG_OK);
    ck_assert_str_eq(seg_frame_last_error(f), "");
    ck_assert_int_eq(seg_frame_find(f, "orders", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 2);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Names
 * ====================================================================== */

/* Tries a bad name with all three add functions: SEG_EINVAL, a message,
 * nothing added. */
static void assert_bad_name(seg_frame *f, const char *name, const char *label)
{
    static const double d[2] = {1, 2};
    static const int64_t i64[2] = {1, 2};
    static const int32_t i32[2] = {1, 2};
    size_t cols = seg_frame_n_columns(f);
    int32_t rc = seg_frame_add_double(f, name, d, NULL);
    ck_assert_msg(rc == SEG_EINVAL, "%s: add_double gave %d", label, (int)rc);
    ck_assert_msg(seg_frame_last_error(f)[0] != '\0', "%s: no message", label);
    rc = seg_frame_add_int64(f, name, i64, NULL);
    ck_assert_msg(rc == SEG_EINVAL, "%s: add_int64 gave %d", label, (int)rc);
    ck_assert_msg(seg_frame_last_error(f)[0] != '\0', "%s: no message", label);
    rc = seg_frame_add_int32(f, name, i32, NULL);
    ck_assert_msg(rc == SEG_EINVAL, "%s: add_int32 gave %d", label, (int)rc);
    ck_assert_msg(seg_frame_last_error(f)[0] != '\0', "%s: no message", label);
    ck_assert_uint_eq(seg_frame_n_columns(f), cols);
    size_t idx = CANARY_SIZE;
    ck_assert_int_eq(seg_frame_find(f, name, &idx), SEG_ENOTFOUND);
    ck_assert_uint_eq(idx, CANARY_SIZE);
}

START_TEST(bad_names)
{
    seg_frame *f = new_frame(2);
    char longest[SEG_FRAME_NAME_MAX + 2];
    memset(longest, 'n', SEG_FRAME_NAME_MAX + 1);
    longest[SEG_FRAME_NAME_MAX + 1] = '\0'; /* 256 bytes: one too many */

    assert_bad_name(f, "", "empty");
    assert_bad_name(f, longest, "SEG_FRAME_NAME_MAX + 1 bytes");
    assert_bad_name(f, "\xff", "byte 0xff");
    assert_bad_name(f, "ab\xfe", "byte 0xfe");
    assert_bad_name(f, "\xc0\xaf", "overlong '/'");
    assert_bad_name(f, "\xe0\x80\xaf", "overlong 3-byte '/'");
    assert_bad_name(f, "\xed\xa0\x80", "lone surrogate U+D800");
    assert_bad_name(f, "x\xed\xbf\xbf", "lone surrogate U+DFFF");
    assert_bad_name(f, "\x80", "lone continuation byte");
    assert_bad_name(f, "\xe6\x9c", "truncated 3-byte sequence");
    assert_bad_name(f, "a\xe6\x9c" "b", "truncated sequence mid-name");
    assert_bad_name(f, "\xf4\x90\x80\x80", "above U+10FFFF");
    assert_bad_name(f, "\xf8\x88\x80\x80\x80", "5-byte form");
    assert_bad_name(f, "a\tb", "tab");
    assert_bad_name(f, "a\nb", "newline");
    assert_bad_name(f, "\x01", "U+0001");
    assert_bad_name(f, "x\x1f", "U+001F");
    assert_bad_name(f, "del\x7f", "DEL");

    /* 256 bytes of 2-byte characters plus nothing: 128 x U+00E9. */
    char long_utf8[2 * 128 + 1];
    for (size_t i = 0; i < 128; i++) {
        long_utf8[2 * i] = (char)0xC3;
        long_utf8[2 * i + 1] = (char)0xA9;
    }
    long_utf8[256] = '\0';
    assert_bad_name(f, long_utf8, "256 bytes of UTF-8");

    ck_assert_uint_eq(seg_frame_n_columns(f), 0);
    seg_frame_free(f);
}
END_TEST

START_TEST(good_names)
{
    static const double d[2] = {10, 20};
    seg_frame *f = new_frame(2);
    char longest[SEG_FRAME_NAME_MAX + 1];
    memset(longest, 'n', SEG_FRAME_NAME_MAX);
    longest[SEG_FRAME_NAME_MAX] = '\0'; /* exactly 255 bytes */
    /* 255 bytes of 3-byte characters (85 x U+6708 "月"). */
    char long_cjk[3 * 85 + 1];
    for (size_t i = 0; i < 85; i++) {
        long_cjk[3 * i] = (char)0xE6;
        long_cjk[3 * i + 1] = (char)0x9C;
        long_cjk[3 * i + 2] = (char)0x88;
    }
    long_cjk[255] = '\0';

    const char *names[] = {
        "月日均资产",         /* CJK */
        "a",                  /* shortest */
        longest,              /* longest ASCII */
        long_cjk,             /* longest multi-byte */
        "Straße café",        /* Latin-1 range, space inside */
        "\xf0\x9f\x92\xb0",   /* U+1F4B0, 4 bytes */
        "\xef\xbf\xbd",       /* U+FFFD */
        "\xed\x9f\xbf",       /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",       /* U+E000, just above */
        "\xf4\x8f\xbf\xbf",   /* U+10FFFF, the last code point */
        "with space",
        "sum(amount)",
    };
    const size_t n = sizeof names / sizeof names[0];
    for (size_t i = 0; i < n; i++) {
        int32_t rc = seg_frame_add_double(f, names[i], d, NULL);
        ck_assert_msg(rc == SEG_OK, "name %zu refused: %d (%s)", i, (int)rc,
                      seg_frame_last_error(f));
        ck_assert_str_eq(seg_frame_last_error(f), "");
    }
    ck_assert_uint_eq(seg_frame_n_columns(f), n);
    for (size_t i = 0; i < n; i++) {
        size_t idx = CANARY_SIZE;
        ck_assert_int_eq(seg_frame_find(f, names[i], &idx), SEG_OK);
        ck_assert_uint_eq(idx, i);
        const char *got = NULL;
        ck_assert_int_eq(seg_frame_column_info(f, i, &got, NULL), SEG_OK);
        ck_assert_str_eq(got, names[i]);
    }
    seg_frame_free(f);
}
END_TEST

START_TEST(names_are_copied)
{
    static const int32_t v[1] = {42};
    seg_frame *f = new_frame(1);
    char name[16];
    strcpy(name, "visits");
    ck_assert_int_eq(seg_frame_add_int32(f, name, v, NULL), SEG_OK);
    strcpy(name, "XXXXXX");
    size_t idx = CANARY_SIZE;
    ck_assert_int_eq(seg_frame_find(f, "visits", &idx), SEG_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(seg_frame_find(f, "XXXXXX", &idx), SEG_ENOTFOUND);
    const char *got = NULL;
    ck_assert_int_eq(seg_frame_column_info(f, 0, &got, NULL), SEG_OK);
    ck_assert_str_eq(got, "visits");
    ck_assert_ptr_ne(got, name);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Values: missing, validity, zero-copy
 * ====================================================================== */

START_TEST(nan_is_missing)
{
    const double d[4] = {1.0, NAN, -NAN, 4.0};
    seg_frame *f = new_frame(4);
    ck_assert_int_eq(seg_frame_add_double(f, "x", d, NULL), SEG_OK);
    assert_value(f, 0, 0, 1.0);
    assert_missing(f, 0, 1);
    assert_missing(f, 0, 2);
    assert_value(f, 0, 3, 4.0);
    /* Infinity is a value, not missing. */
    const double inf[2] = {INFINITY, -INFINITY};
    seg_frame *g = new_frame(2);
    ck_assert_int_eq(seg_frame_add_double(g, "inf", inf, NULL), SEG_OK);
    assert_value(g, 0, 0, INFINITY);
    assert_value(g, 0, 1, -INFINITY);
    seg_frame_free(g);
    seg_frame_free(f);
}
END_TEST

START_TEST(validity_bitmap)
{
    /* 3 rows, bitmap 0x05 = 0b101: rows 0 and 2 present, row 1 missing. */
    const double d[3] = {1.5, 2.5, 3.5};
    const int64_t i64[3] = {10, 20, 30};
    const int32_t i32[3] = {-1, -2, -3};
    const uint8_t bits[1] = {0x05};
    seg_frame *f = new_frame(3);
    ck_assert_int_eq(seg_frame_add_double(f, "d", d, bits), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "l", i64, bits), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "i", i32, bits), SEG_OK);
    assert_value(f, 0, 0, 1.5);
    assert_missing(f, 0, 1); /* a clear bit hides a perfectly good double */
    assert_value(f, 0, 2, 3.5);
    assert_value(f, 1, 0, 10);
    assert_missing(f, 1, 1);
    assert_value(f, 1, 2, 30);
    assert_value(f, 2, 0, -1);
    assert_missing(f, 2, 1);
    assert_value(f, 2, 2, -3);
    seg_frame_free(f);

    /* 11 rows over two bytes. 0x5A = 0b01011010: rows 1, 3, 4, 6 present;
     * 0x06 = 0b110: rows 9, 10 present, row 8 missing. Bits past row 10 are
     * set but must be ignored. */
    double d11[11];
    int64_t l11[11];
    int32_t i11[11];
    for (int i = 0; i < 11; i++) {
        d11[i] = 100.0 + i;
        l11[i] = 200 + i;
        i11[i] = 300 + i;
    }
    d11[3] = NAN; /* present bit but NaN: missing */
    const uint8_t bits11[2] = {0x5A, 0xFE};
    const int present[11] = {0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1};
    f = new_frame(11);
    ck_assert_int_eq(seg_frame_add_double(f, "d", d11, bits11), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "l", l11, bits11), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "i", i11, bits11), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "all", i11, NULL), SEG_OK);
    for (size_t r = 0; r < 11; r++) {
        if (present[r] && r != 3)
            assert_value(f, 0, r, 100.0 + (double)r);
        else
            assert_missing(f, 0, r);
        if (present[r]) {
            assert_value(f, 1, r, 200.0 + (double)r);
            assert_value(f, 2, r, 300.0 + (double)r);
        } else {
            assert_missing(f, 1, r);
            assert_missing(f, 2, r);
        }
        assert_value(f, 3, r, 300.0 + (double)r); /* no bitmap: all present */
    }
    seg_frame_free(f);
}
END_TEST

START_TEST(zero_copy)
{
    double d[3] = {1, 2, 3};
    int64_t l[3] = {4, 5, 6};
    int32_t i[3] = {7, 8, 9};
    uint8_t bits[1] = {0x07};
    seg_frame *f = new_frame(3);
    ck_assert_int_eq(seg_frame_add_double(f, "d", d, bits), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "l", l, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "i", i, NULL), SEG_OK);
    assert_value(f, 0, 1, 2);
    d[1] = 42.25;
    l[2] = -77;
    i[0] = 1000;
    assert_value(f, 0, 1, 42.25);
    assert_value(f, 1, 2, -77);
    assert_value(f, 2, 0, 1000);
    /* The bitmap is borrowed too. */
    bits[0] = 0x05;
    assert_missing(f, 0, 1);
    d[2] = NAN;
    assert_missing(f, 0, 2);
    seg_frame_free(f);
}
END_TEST

START_TEST(zero_rows)
{
    seg_frame *f = new_frame(0);
    ck_assert_uint_eq(seg_frame_n_rows(f), 0);
    ck_assert_int_eq(seg_frame_add_double(f, "d", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "l", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "i", NULL, NULL), SEG_OK);
    const double d[1] = {1};
    ck_assert_int_eq(seg_frame_add_double(f, "with_data", d, NULL), SEG_OK);
    ck_assert_uint_eq(seg_frame_n_columns(f), 4);
    double v = CANARY_DBL;
    int32_t missing = CANARY_I32;
    ck_assert_int_eq(seg_frame_get_double(f, 0, 0, &v, &missing), SEG_ERANGE);
    ck_assert_double_eq(v, CANARY_DBL);
    ck_assert_int_eq(missing, CANARY_I32);
    seg_frame_free(f);
}
END_TEST

START_TEST(null_data_with_rows)
{
    seg_frame *f = new_frame(2);
    const uint8_t bits[1] = {0x03};
    ck_assert_int_eq(seg_frame_add_double(f, "d", NULL, NULL), SEG_EINVAL);
    ck_assert_str_ne(seg_frame_last_error(f), "");
    ck_assert_int_eq(seg_frame_add_int64(f, "l", NULL, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_frame_add_int32(f, "i", NULL, bits), SEG_EINVAL);
    ck_assert_uint_eq(seg_frame_n_columns(f), 0);
    size_t idx = CANARY_SIZE;
    ck_assert_int_eq(seg_frame_find(f, "d", &idx), SEG_ENOTFOUND);
    seg_frame_free(f);
}
END_TEST

/* ========================================================================
 * Out of range and NULL arguments
 * ====================================================================== */

START_TEST(out_of_range_untouched)
{
    const double d[3] = {1, 2, 3};
    const int32_t i[3] = {4, 5, 6};
    seg_frame *f = new_frame(3);
    ck_assert_int_eq(seg_frame_add_double(f, "d", d, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "i", i, NULL), SEG_OK);

    const size_t bad[][2] = {{0, 3}, {1, 3}, {2, 0}, {2, 3}, {0, SIZE_MAX}, {SIZE_MAX, 0},
                             {1, 1000}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        double v = CANARY_DBL;
        int32_t missing = CANARY_I32;
        ck_assert_int_eq(seg_frame_get_double(f, bad[k][0], bad[k][1], &v, &missing),
                         SEG_ERANGE);
        ck_assert_double_eq(v, CANARY_DBL);
        ck_assert_int_eq(missing, CANARY_I32);
        ck_assert_int_eq(seg_frame_get_double(f, bad[k][0], bad[k][1], &v, NULL), SEG_ERANGE);
        ck_assert_double_eq(v, CANARY_DBL);
    }

    const char *name = CANARY_PTR;
    int32_t type = CANARY_I32;
    ck_assert_int_eq(seg_frame_column_info(f, 2, &name, &type), SEG_ERANGE);
    ck_assert_int_eq(seg_frame_column_info(f, SIZE_MAX, &name, &type), SEG_ERANGE);
    ck_assert_ptr_eq(name, CANARY_PTR);
    ck_assert_int_eq(type, CANARY_I32);
    /* Last valid indices still work. */
    assert_value(f, 1, 2, 6);
    seg_frame_free(f);
}
END_TEST

START_TEST(null_arguments)
{
    const double d[2] = {1, 2};
    const int64_t l[2] = {1, 2};
    const int32_t i[2] = {1, 2};

    /* seg_frame_new */
    ck_assert_int_eq(seg_frame_new(NULL, 3, NULL), SEG_EINVAL);

    /* Adds on a NULL frame. */
    ck_assert_int_eq(seg_frame_add_double(NULL, "x", d, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_frame_add_int64(NULL, "x", l, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_frame_add_int32(NULL, "x", i, NULL), SEG_EINVAL);

    seg_frame *f = new_frame(2);
    /* NULL name. */
    ck_assert_int_eq(seg_frame_add_double(f, NULL, d, NULL), SEG_EINVAL);
    ck_assert_str_ne(seg_frame_last_error(f), "");
    ck_assert_int_eq(seg_frame_add_int64(f, NULL, l, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_frame_add_int32(f, NULL, i, NULL), SEG_EINVAL);
    ck_assert_uint_eq(seg_frame_n_columns(f), 0);
    ck_assert_int_eq(seg_frame_add_double(f, "x", d, NULL), SEG_OK);

    /* Lookups. */
    size_t idx = CANARY_SIZE;
    ck_assert_int_eq(seg_frame_find(NULL, "x", &idx), SEG_EINVAL);
    ck_assert_int_eq(seg_frame_find(f, NULL, &idx), SEG_EINVAL);
    ck_assert_uint_eq(idx, CANARY_SIZE);
    ck_assert_int_eq(seg_frame_find(f, "x", NULL), SEG_EINVAL);

    const char *name = CANARY_PTR;
    int32_t type = CANARY_I32;
    ck_assert_int_eq(seg_frame_column_info(NULL, 0, &name, &type), SEG_EINVAL);
    ck_assert_ptr_eq(name, CANARY_PTR);
    ck_assert_int_eq(type, CANARY_I32);

    double v = CANARY_DBL;
    int32_t missing = CANARY_I32;
    ck_assert_int_eq(seg_frame_get_double(NULL, 0, 0, &v, &missing), SEG_EINVAL);
    ck_assert_double_eq(v, CANARY_DBL);
    ck_assert_int_eq(missing, CANARY_I32);
    ck_assert_int_eq(seg_frame_get_double(f, 0, 0, NULL, &missing), SEG_EINVAL);
    ck_assert_int_eq(missing, CANARY_I32);

    ck_assert_uint_eq(seg_frame_n_rows(NULL), 0);
    ck_assert_uint_eq(seg_frame_n_columns(NULL), 0);
    const char *msg = seg_frame_last_error(NULL);
    ck_assert_ptr_nonnull(msg);
    ck_assert_str_eq(msg, "");
    seg_frame_free(NULL);
    seg_frame_free(f);
}
END_TEST

START_TEST(large_row_count)
{
    /* A frame is only a view: a huge row count costs nothing until read. */
    const size_t n = (size_t)1 << 20;
    int32_t *data = malloc(n * sizeof *data);
    uint8_t *bits = malloc((n + 7) / 8);
    ck_assert_ptr_nonnull(data);
    ck_assert_ptr_nonnull(bits);
    for (size_t r = 0; r < n; r++)
        data[r] = (int32_t)(r * 7);
    memset(bits, 0xFF, (n + 7) / 8);
    bits[(n - 1) / 8] = 0x7F; /* last row missing */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n, &ta.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "big", data, bits), SEG_OK);
    ck_assert_uint_lt(ta.live_bytes, 64 * 1024); /* no copy of the 4 MiB column */
    assert_value(f, 0, n - 2, (double)((n - 2) * 7));
    assert_missing(f, 0, n - 1);
    double v = CANARY_DBL;
    ck_assert_int_eq(seg_frame_get_double(f, 0, n, &v, NULL), SEG_ERANGE);
    ck_assert_double_eq(v, CANARY_DBL);
    seg_frame_free(f);
    ck_assert_uint_eq(ta.live, 0);
    free(bits);
    free(data);
}
END_TEST

START_TEST(many_columns)
{
    /* Enough columns to make any internal array grow several times. */
    static const double d[2] = {0.5, 1.5};
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 2, &ta.base), SEG_OK);
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "c%03d", i);
        ck_assert_int_eq(seg_frame_add_double(f, name, d, NULL), SEG_OK);
    }
    ck_assert_uint_eq(seg_frame_n_columns(f), 300);
    for (int i = 0; i < 300; i += 37) {
        snprintf(name, sizeof name, "c%03d", i);
        size_t idx = CANARY_SIZE;
        ck_assert_int_eq(seg_frame_find(f, name, &idx), SEG_OK);
        ck_assert_uint_eq(idx, (size_t)i);
        const char *got = NULL;
        ck_assert_int_eq(seg_frame_column_info(f, idx, &got, NULL), SEG_OK);
        ck_assert_str_eq(got, name);
    }
    ck_assert_int_eq(seg_frame_add_double(f, "c299", d, NULL), SEG_EEXISTS);
    seg_frame_free(f);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("columns");
    tcase_add_test(tc, create_and_add_columns);
    tcase_add_test(tc, find_missing_and_case);
    tcase_add_test(tc, duplicate_name_refused);
    tcase_add_test(tc, many_columns);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_test(tc, bad_names);
    tcase_add_test(tc, good_names);
    tcase_add_test(tc, names_are_copied);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_test(tc, nan_is_missing);
    tcase_add_test(tc, validity_bitmap);
    tcase_add_test(tc, zero_copy);
    tcase_add_test(tc, zero_rows);
    tcase_add_test(tc, large_row_count);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, null_data_with_rows);
    tcase_add_test(tc, out_of_range_untouched);
    tcase_add_test(tc, null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(frame_suite());
}
