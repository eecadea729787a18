/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets in this directory: a fixed frame with
 * every column type (and the columns the shipped examples use), a small
 * reader that turns fuzz bytes into numbers, and CHECK(), which aborts so
 * libFuzzer reports a broken invariant as a crash with the input saved.
 *
 * Header-only (static functions) so each target stays one translation unit.
 */
#ifndef SEGMENT_FUZZ_COMMON_H
#define SEGMENT_FUZZ_COMMON_H

#include <segment/segment.h>

#include "../common/test-utf8.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not every target uses every helper. */
#if defined(__GNUC__)
#define FZ_UNUSED __attribute__((unused))
#else
#define FZ_UNUSED
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the library promises: report and abort (libFuzzer then
 * prints the stack and writes the input as crash-*). */
#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "\nfuzz invariant failed at %s:%d: %s\n  ", __FILE__, __LINE__,   \
                    #cond);                                                                   \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* ------------------------------------------------------------------------
 * The fixed frame. FZ_ROWS > 2 blocks of 256 rows so evaluation crosses
 * block boundaries; values include missing ones of every kind, extremes,
 * ties and Chinese text.
 * ---------------------------------------------------------------------- */

#define FZ_ROWS 613

typedef struct fz_frame_data {
    double aum[FZ_ROWS], yuan[FZ_ROWS], share_d[FZ_ROWS], share_i[FZ_ROWS], share_l[FZ_ROWS];
    double gmv[FZ_ROWS], first_order[FZ_ROWS], x[FZ_ROWS];
    int32_t txn[FZ_ROWS], act[FZ_ROWS], quoted[FZ_ROWS], inter[FZ_ROWS], age[FZ_ROWS];
    int32_t r_score[FZ_ROWS], f_score[FZ_ROWS], m_score[FZ_ROWS];
    int32_t tier_code[FZ_ROWS], stage_code[FZ_ROWS], level_code[FZ_ROWS];
    int64_t cnt[FZ_ROWS], orders[FZ_ROWS], contact[FZ_ROWS];
    const char *city[FZ_ROWS], *channel[FZ_ROWS], *s[FZ_ROWS], *product[FZ_ROWS];
    uint8_t txn_valid[(FZ_ROWS + 7) / 8], cnt_valid[(FZ_ROWS + 7) / 8];
    uint8_t score_valid[(FZ_ROWS + 7) / 8];
} fz_frame_data;

FZ_UNUSED static uint64_t fz_lcg(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return *st >> 33;
}

static const char *const fz_tier_dict[] = {"gold", "silver", "金卡", "白金卡", "", "vip"};
static const char *const fz_stage_dict[] = {"vip", "new", "active", "dormant"};
static const char *const fz_level_dict[] = {"金卡", "白金卡", "普通"};
static const char *const fz_cities[] = {"上海", "北京", "深圳", "gold", "", "say \"hi\"",
                                        "C:\\temp"};
static const char *const fz_channels[] = {"mobile", "branch", "online"};

FZ_UNUSED static void fz_fill(fz_frame_data *d)
{
    static const double special[] = {0.0,     -0.0,      1.0,     -1.0,    500000.0,
                                     450000.0, 6000000.0, 50000.0, 1e308,  -1e308,
                                     5e-324,   NAN,       INFINITY, -INFINITY, 9007199254740993.0,
                                     0.6,      0.4,       2.5e-3};
    uint64_t st = 12345;
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < FZ_ROWS; i++) {
        uint64_t r = fz_lcg(&st);
        d->aum[i] = (r % 7 == 0) ? special[r % (sizeof special / sizeof *special)]
                                 : (double)(r % 8000000);
        d->yuan[i] = (r % 11 == 0) ? NAN : (double)(fz_lcg(&st) % 1000000) / 3.0;
        d->share_d[i] = (double)(fz_lcg(&st) % 101) / 100.0;
        d->share_i[i] = (double)(fz_lcg(&st) % 101) / 100.0;
        d->share_l[i] = (i % 13 == 0) ? NAN : (double)(fz_lcg(&st) % 101) / 100.0;
        d->gmv[i] = (double)(fz_lcg(&st) % 20000);
        d->first_order[i] = (i % 5 == 0) ? NAN : (double)(fz_lcg(&st) % 1000);
        d->x[i] = special[fz_lcg(&st) % (sizeof special / sizeof *special)];
        d->txn[i] = (int32_t)(fz_lcg(&st) % 20) - (i % 17 == 0 ? 5 : 0);
        if (i % 9 == 0)
            d->txn[i] = (i % 2) ? INT32_MAX : INT32_MIN;
        d->act[i] = (int32_t)(fz_lcg(&st) % 400);
        d->quoted[i] = (int32_t)(fz_lcg(&st) % 2);
        d->inter[i] = (int32_t)(fz_lcg(&st) % 5);
        d->age[i] = 18 + (int32_t)(fz_lcg(&st) % 60);
        d->r_score[i] = 1 + (int32_t)(fz_lcg(&st) % 5);
        d->f_score[i] = 1 + (int32_t)(fz_lcg(&st) % 5);
        d->m_score[i] = 1 + (int32_t)(fz_lcg(&st) % 5);
        d->tier_code[i] = (int32_t)(fz_lcg(&st) % 7) - 1; /* -1: missing */
        d->stage_code[i] = (int32_t)(fz_lcg(&st) % 4);
        d->level_code[i] = (int32_t)(fz_lcg(&st) % 4) - 1;
        d->cnt[i] = (int64_t)(fz_lcg(&st) % 100) - 50;
        if (i % 31 == 0)
            d->cnt[i] = (i % 2) ? INT64_MAX : INT64_MIN;
        d->orders[i] = (int64_t)(fz_lcg(&st) % 15);
        d->contact[i] = (int64_t)(fz_lcg(&st) % 800);
        size_t c = fz_lcg(&st) % (sizeof fz_cities / sizeof *fz_cities + 1);
        d->city[i] = c < sizeof fz_cities / sizeof *fz_cities ? fz_cities[c] : NULL;
        d->channel[i] = (i % 10 == 3) ? NULL : fz_channels[fz_lcg(&st) % 3];
        d->s[i] = (i % 4 == 0) ? NULL : fz_cities[fz_lcg(&st) % 3];
        d->product[i] = (i % 6 == 0) ? "consumer_loan" : "deposit";
        if (fz_lcg(&st) % 5 != 0)
            d->txn_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        if (fz_lcg(&st) % 7 != 0)
            d->cnt_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        if (i % 23 != 0)
            d->score_valid[i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

#define FZ_OK(call)                                                                           \
    do {                                                                                      \
        int32_t rc_ = (call);                                                                 \
        CHECK(rc_ == SEG_OK, "frame setup: %s gave %d", #call, (int)rc_);                     \
    } while (0)

/* The frame every rule/tiers target compiles against. Built once. */
FZ_UNUSED static const seg_frame *fz_frame(void)
{
    static fz_frame_data d;
    static seg_frame *f;
    if (f)
        return f;
    fz_fill(&d);
    FZ_OK(seg_frame_new(&f, FZ_ROWS, NULL));
    FZ_OK(seg_frame_add_double(f, "aum", d.aum, NULL));
    FZ_OK(seg_frame_add_int32(f, "txn_90d", d.txn, d.txn_valid));
    FZ_OK(seg_frame_add_int64(f, "cnt", d.cnt, d.cnt_valid));
    FZ_OK(seg_frame_add_string(f, "city", d.city, NULL));
    FZ_OK(seg_frame_add_dict(f, "tier", d.tier_code, fz_tier_dict, 6, NULL));
    FZ_OK(seg_frame_add_double(f, "月日均资产", d.yuan, NULL));
    FZ_OK(seg_frame_add_dict(f, "客户等级", d.level_code, fz_level_dict, 3, NULL));
    FZ_OK(seg_frame_add_dict(f, "stage", d.stage_code, fz_stage_dict, 4, NULL));
    FZ_OK(seg_frame_add_string(f, "channel", d.channel, NULL));
    FZ_OK(seg_frame_add_string(f, "s", d.s, NULL));
    FZ_OK(seg_frame_add_string(f, "product", d.product, NULL));
    FZ_OK(seg_frame_add_double(f, "x", d.x, NULL));
    FZ_OK(seg_frame_add_int32(f, "age", d.age, NULL));
    /* The columns the files in examples/tiers use, so those seeds compile. */
    FZ_OK(seg_frame_add_int32(f, "days_since_last_activity", d.act, NULL));
    FZ_OK(seg_frame_add_double(f, "deposit_share", d.share_d, NULL));
    FZ_OK(seg_frame_add_double(f, "investment_share", d.share_i, NULL));
    FZ_OK(seg_frame_add_double(f, "loan_share", d.share_l, NULL));
    FZ_OK(seg_frame_add_int64(f, "order_count", d.orders, NULL));
    FZ_OK(seg_frame_add_double(f, "gmv_365d", d.gmv, NULL));
    FZ_OK(seg_frame_add_double(f, "days_since_first_order", d.first_order, NULL));
    FZ_OK(seg_frame_add_int32(f, "quoted", d.quoted, NULL));
    FZ_OK(seg_frame_add_int32(f, "interactions", d.inter, NULL));
    FZ_OK(seg_frame_add_int64(f, "days_since_first_contact", d.contact, NULL));
    FZ_OK(seg_frame_add_int32(f, "r_score", d.r_score, d.score_valid));
    FZ_OK(seg_frame_add_int32(f, "f_score", d.f_score, NULL));
    FZ_OK(seg_frame_add_int32(f, "m_score", d.m_score, NULL));
    return f;
}

/* The same data as fz_frame(), columns in reverse order and with other but
 * compatible types (int32 <-> int64 <-> double with NaN for missing,
 * string <-> dictionary, a validity bit clear over a non-NULL string).
 * doc/rules.md: a rule evaluates over any frame with the same column names
 * and compatible kinds, so results must be identical. */
FZ_UNUSED static const seg_frame *fz_frame_alt(void)
{
    static fz_frame_data d;
    static double txn_d[FZ_ROWS], cnt_d[FZ_ROWS], f_d[FZ_ROWS];
    static int64_t age64[FZ_ROWS], r64[FZ_ROWS];
    static int32_t orders32[FZ_ROWS], city_code[FZ_ROWS], channel_code[FZ_ROWS];
    static const char *tier_s[FZ_ROWS], *stage_s[FZ_ROWS], *level_s[FZ_ROWS], *s_s[FZ_ROWS];
    static uint8_t s_valid[(FZ_ROWS + 7) / 8];
    static seg_frame *f;
    if (f)
        return f;
    fz_fill(&d);
    const size_t n_cities = sizeof fz_cities / sizeof *fz_cities;
    for (size_t i = 0; i < FZ_ROWS; i++) {
        int tv = (d.txn_valid[i / 8] >> (i % 8)) & 1, cv = (d.cnt_valid[i / 8] >> (i % 8)) & 1;
        txn_d[i] = tv ? (double)d.txn[i] : NAN;
        cnt_d[i] = cv ? (double)d.cnt[i] : NAN;
        f_d[i] = (double)d.f_score[i];
        age64[i] = d.age[i];
        r64[i] = d.r_score[i];
        orders32[i] = (int32_t)d.orders[i];
        city_code[i] = -1;
        for (size_t k = 0; k < n_cities; k++)
            if (d.city[i] && d.city[i] == fz_cities[k])
                city_code[i] = (int32_t)k;
        channel_code[i] = -7;
        for (int k = 0; k < 3; k++)
            if (d.channel[i] && d.channel[i] == fz_channels[k])
                channel_code[i] = k;
        tier_s[i] = d.tier_code[i] < 0 ? NULL : fz_tier_dict[d.tier_code[i]];
        stage_s[i] = fz_stage_dict[d.stage_code[i]];
        level_s[i] = d.level_code[i] < 0 ? NULL : fz_level_dict[d.level_code[i]];
        s_s[i] = d.s[i] ? d.s[i] : "上海"; /* missing through the bitmap only */
        if (d.s[i])
            s_valid[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    FZ_OK(seg_frame_new(&f, FZ_ROWS, NULL));
    FZ_OK(seg_frame_add_int32(f, "m_score", d.m_score, NULL));
    FZ_OK(seg_frame_add_double(f, "f_score", f_d, NULL));
    FZ_OK(seg_frame_add_int64(f, "r_score", r64, d.score_valid));
    FZ_OK(seg_frame_add_int64(f, "days_since_first_contact", d.contact, NULL));
    FZ_OK(seg_frame_add_int32(f, "interactions", d.inter, NULL));
    FZ_OK(seg_frame_add_int32(f, "quoted", d.quoted, NULL));
    FZ_OK(seg_frame_add_double(f, "days_since_first_order", d.first_order, NULL));
    FZ_OK(seg_frame_add_double(f, "gmv_365d", d.gmv, NULL));
    FZ_OK(seg_frame_add_int32(f, "order_count", orders32, NULL));
    FZ_OK(seg_frame_add_double(f, "loan_share", d.share_l, NULL));
    FZ_OK(seg_frame_add_double(f, "investment_share", d.share_i, NULL));
    FZ_OK(seg_frame_add_double(f, "deposit_share", d.share_d, NULL));
    FZ_OK(seg_frame_add_int32(f, "days_since_last_activity", d.act, NULL));
    FZ_OK(seg_frame_add_int64(f, "age", age64, NULL));
    FZ_OK(seg_frame_add_double(f, "x", d.x, NULL));
    FZ_OK(seg_frame_add_string(f, "product", d.product, NULL));
    FZ_OK(seg_frame_add_string(f, "s", s_s, s_valid));
    FZ_OK(seg_frame_add_dict(f, "channel", channel_code, fz_channels, 3, NULL));
    FZ_OK(seg_frame_add_string(f, "stage", stage_s, NULL));
    FZ_OK(seg_frame_add_string(f, "客户等级", level_s, NULL));
    FZ_OK(seg_frame_add_double(f, "月日均资产", d.yuan, NULL));
    FZ_OK(seg_frame_add_string(f, "tier", tier_s, NULL));
    FZ_OK(seg_frame_add_dict(f, "city", city_code, fz_cities, n_cities, NULL));
    FZ_OK(seg_frame_add_double(f, "cnt", cnt_d, NULL));
    FZ_OK(seg_frame_add_double(f, "txn_90d", txn_d, NULL));
    FZ_OK(seg_frame_add_double(f, "aum", d.aum, NULL));
    return f;
}

/* ------------------------------------------------------------------------
 * Byte reader: takes values from the front of the input; past the end it
 * yields zeros (so every input is usable).
 * ---------------------------------------------------------------------- */

typedef struct fz_reader {
    const uint8_t *p;
    size_t n;
} fz_reader;

FZ_UNUSED static void fz_bytes(fz_reader *r, void *out, size_t k)
{
    size_t take = k < r->n ? k : r->n;
    memcpy(out, r->p, take);
    memset((uint8_t *)out + take, 0, k - take);
    r->p += take;
    r->n -= take;
}

FZ_UNUSED static uint8_t fz_u8(fz_reader *r)
{
    uint8_t v;
    fz_bytes(r, &v, 1);
    return v;
}

FZ_UNUSED static uint32_t fz_u32(fz_reader *r)
{
    uint32_t v;
    fz_bytes(r, &v, sizeof v);
    return v;
}

FZ_UNUSED static uint64_t fz_u64(fz_reader *r)
{
    uint64_t v;
    fz_bytes(r, &v, sizeof v);
    return v;
}

/* An integer in lo..hi (inclusive). */
FZ_UNUSED static int64_t fz_range(fz_reader *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    uint32_t v = fz_u32(r);
    return lo + (int64_t)(span ? v % span : v);
}

/* A double: raw bits (NaN payloads, Inf, subnormals, huge) or a small
 * value from a table / a small integer, chosen by a selector byte. */
FZ_UNUSED static double fz_double(fz_reader *r)
{
    static const double table[] = {0.0,  -0.0, 1.0,      -1.0,      0.5,     2.0,      3.0,
                                   10.0, 1e6,  1e300,    -1e300,    1.7976931348623157e308,
                                   -1.7976931348623157e308, 4.9406564584124654e-324, NAN,
                                   INFINITY, -INFINITY, 9007199254740993.0};
    uint8_t sel = fz_u8(r);
    switch (sel >> 6) {
    case 0: {
        double v;
        uint64_t bits = fz_u64(r);
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    case 1:
        return table[sel % (sizeof table / sizeof *table)];
    default:
        return (double)(int32_t)(fz_u8(r) % 64) - (sel & 1 ? 8.0 : 0.0);
    }
}

/* A copy of a region with room for canaries: ASan sees exact-size heap
 * blocks, so any write past `n` elements is reported. */
FZ_UNUSED static void *fz_xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    CHECK(p != NULL, "malloc(%zu)", bytes);
    return p;
}

/* Prints bytes escaped, for messages. */
FZ_UNUSED static void fz_print_escaped(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == '"')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
}

/* An error message must be NUL-terminated inside the buffer and be one
 * line of valid UTF-8 (caller bytes that are not are quoted as '?'). */
FZ_UNUSED static void fz_check_msg(const char *buf, size_t cap, const char *what)
{
    if (cap == 0)
        return;
    CHECK(memchr(buf, '\0', cap) != NULL, "%s: message not NUL-terminated", what);
    size_t bad = seg_test_msg_bad_at(buf);
    CHECK(bad == 0, "%s: byte %zu of the message is a control byte or malformed UTF-8: '%s'",
          what, bad - 1, buf);
}

/* ------------------------------------------------------------------------
 * Tag names: the normalisation rules of tags.h, written independently of
 * the library (fuzz_tagreg, fuzz_query).
 * ---------------------------------------------------------------------- */

FZ_UNUSED static size_t fz_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

enum { FZ_NORM_OK = 0, FZ_NORM_INVALID = 1, FZ_NORM_UNSURE = 2 };

/* The key of the name s[0..n) into out (capacity n + 1: normalising never
 * lengthens a name).
 * FZ_NORM_INVALID: invalid UTF-8, a C0 control other than tab, or empty
 * after normalisation. FZ_NORM_UNSURE: what tags.h leaves open (a tab, DEL,
 * a C1 control, more than SEG_TAG_NAME_MAX bytes); `out` still holds the
 * key such a name would have if accepted. */
FZ_UNUSED static int fz_tag_key(const char *s, size_t n, char *out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    int unsure = n > SEG_TAG_NAME_MAX, pending_space = 0;
    while (i < n) {
        uint32_t cp = 0;
        size_t k = seg_test_utf8_decode(p + i, n - i, &cp);
        if (k == 0)
            return FZ_NORM_INVALID;
        i += k;
        if (cp < 0x20 && cp != '\t')
            return FZ_NORM_INVALID;
        if (cp == '\t' || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            unsure = 1;
        if (cp >= 0xFF01 && cp <= 0xFF5E)
            cp -= 0xFEE0; /* full-width ASCII */
        else if (cp == 0x3000 || cp == 0xA0)
            cp = ' ';
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        if (cp == ' ' || cp == '\t') {
            pending_space = o > 0;
            continue;
        }
        if (pending_space)
            out[o++] = ' ';
        pending_space = 0;
        o += fz_utf8_encode(cp, out + o);
    }
    out[o] = '\0';
    *out_len = o;
    if (o == 0)
        return FZ_NORM_INVALID;
    return unsure ? FZ_NORM_UNSURE : FZ_NORM_OK;
}

#endif /* SEGMENT_FUZZ_COMMON_H */
