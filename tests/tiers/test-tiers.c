/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests of tier sets (include/segment/tiers.h): loading and
 * saving the text format, every syntax error with its position, first-match
 * assignment with missing values, hysteresis (保级), gaps and the critical
 * flag (临界), coverage, migration, threads, and the RFM10 scheme written as
 * rule text. Every expected value is worked out by hand in the comment next
 * to it, from the semantics documented in tiers.h and rule.h.
 *
 * Frame used by most tests ("bank"), column indices in brackets:
 *   [0] aum          double (NaN = missing)
 *   [1] txn_90d      int32 with an optional validity bitmap
 *   [2] 月日均资产   double (the same values as aum)
 *   [3] channel      string (only in some frames)
 *
 * The value pyramid:
 *   0 private_banking  when aum >= 6000000
 *   1 wealth           when aum >= 500000 keep aum >= 450000
 *   2 gold             when aum >= 50000 and txn_90d >= 1
 *   3 mass             otherwise
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

static const char PYRAMID[] =
    "libsegment-tiers 1\n"
    "tier private_banking \"私人银行\" when aum >= 6000000\n"
    "tier wealth \"财富客户\" when aum >= 500000 keep aum >= 450000\n"
    "tier gold \"金卡客户\" when aum >= 50000 and txn_90d >= 1\n"
    "tier mass \"大众客户\" otherwise\n";

/* The same set, as people write it: no header, aligned columns, comments,
 * blank lines, a comment after a condition. The conditions' own text is
 * spelled as above, so the saved text is the same. */
static const char PYRAMID_LOOSE[] =
    "# Value tiers (分层) for the retail bank\n"
    "\n"
    "   # indented comment\n"
    "tier private_banking  \"私人银行\"   when aum >= 6000000   # top\n"
    "\n"
    "tier wealth           \"财富客户\"   when aum >= 500000 keep aum >= 450000\n"
    "tier gold             \"金卡客户\"   when aum >= 50000 and txn_90d >= 1\n"
    "\t\n"
    "tier mass             \"大众客户\"   otherwise   # everybody else\n"
    "# trailing comment without newline";

/* Windows line ends. */
static const char PYRAMID_CRLF[] =
    "libsegment-tiers 1\r\n"
    "tier private_banking \"私人银行\" when aum >= 6000000\r\n"
    "tier wealth \"财富客户\" when aum >= 500000 keep aum >= 450000\r\n"
    "\r\n"
    "tier gold \"金卡客户\" when aum >= 50000 and txn_90d >= 1\r\n"
    "tier mass \"大众客户\" otherwise\r\n";

/* The wealth tier over the backquoted UTF-8 column, which holds the same
 * values as aum, so the assignment is the same. */
static const char PYRAMID_UTF8_COLUMN[] =
    "libsegment-tiers 1\n"
    "tier private_banking \"私人银行\" when `月日均资产` >= 6000000\n"
    "tier wealth \"财富客户\" when `月日均资产` >= 500000 keep `月日均资产` >= 450000\n"
    "tier gold \"金卡客户\" when `月日均资产` >= 50000 and txn_90d >= 1\n"
    "tier mass \"大众客户\" otherwise\n";

/* ---- helpers --------------------------------------------------------------- */

static void clear_bit(uint8_t *bits, size_t i)
{
    bits[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* 16 channels (frames here have at most 16 rows when they use them). */
static const char *const CHANNELS[16] = {"web", "shop", "app",   "web", "phone", "app",
                                         "shop", "web", "web",   "shop", "app",  "web",
                                         "phone", "web", "app", "shop"};

/* A bank frame over the caller's arrays; `txn_valid` and `channel` may be
 * NULL (no bitmap / no channel column). */
static seg_frame *bank_frame(size_t n, const double *aum, const int32_t *txn,
                             const uint8_t *txn_valid, const char *const *channel)
{
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", aum, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn_90d", txn, txn_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "月日均资产", aum, NULL), SEG_OK);
    if (channel)
        ck_assert_int_eq(seg_frame_add_string(f, "channel", channel, NULL), SEG_OK);
    return f;
}

/* A 0-row frame with all four bank columns: the schema rules compile against. */
static seg_frame *bank_schema(void)
{
    static const char *const none[1] = {NULL};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn_90d", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "月日均资产", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "channel", none, NULL), SEG_OK);
    return f;
}

/* `text` (first `len` bytes) with line ends shown as \n / \r, for one-line
 * failure messages (TAP takes one line per result). Not thread-safe. */
static const char *oneline(const char *text, size_t len)
{
    static char bufs[2][2048];
    static int which;
    char *buf = bufs[which ^= 1];
    size_t o = 0;
    for (size_t i = 0; i < len && text[i] && o + 3 < sizeof bufs[0]; i++) {
        if (text[i] == '\n' || text[i] == '\r') {
            buf[o++] = '\\';
            buf[o++] = text[i] == '\n' ? 'n' : 'r';
        } else {
            buf[o++] = text[i];
        }
    }
    buf[o] = '\0';
    return buf;
}

#define ONELINE(s) oneline((s), strlen(s))

/* String equality for texts with line ends. */
#define ASSERT_TEXT_EQ(a, b)                                                                   \
    do {                                                                                       \
        const char *a_ = (a), *b_ = (b);                                                       \
        ck_assert_msg(strcmp(a_, b_) == 0, "texts differ: \"%s\" vs \"%s\"", ONELINE(a_),      \
                      ONELINE(b_));                                                            \
    } while (0)

static seg_tiers *load_ok(const char *text, size_t len, const seg_frame *schema)
{
    seg_tiers *t = NULL;
    char err[512] = "";
    int32_t rc = seg_tiers_load(&t, text, len, schema, "t.txt", NULL, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load failed: %d %s; text: %s", (int)rc, err, oneline(text, len));
    ck_assert_ptr_nonnull(t);
    return t;
}

static seg_tiers *load_str(const char *text, const seg_frame *schema)
{
    return load_ok(text, strlen(text), schema);
}

/* Saved text, malloc'd. */
static char *save_str(const seg_tiers *t)
{
    size_t need = 0;
    ck_assert_int_eq(seg_tiers_save(t, NULL, 0, &need), SEG_OK);
    char *buf = malloc(need + 1);
    ck_assert_ptr_nonnull(buf);
    size_t len = 0;
    ck_assert_int_eq(seg_tiers_save(t, buf, need + 1, &len), SEG_OK);
    ck_assert_uint_eq(len, need);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

static void apply_ok(const seg_tiers *t, const seg_frame *f, const int32_t *prev, int32_t *out)
{
    char err[512] = "";
    int32_t rc = seg_tiers_apply(t, f, prev, out, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "apply failed: %d %s", (int)rc, err);
}

static void assert_tiers(const int32_t *got, const int32_t *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: row %zu: tier %d, expected %d", what, i,
                      (int)got[i], (int)want[i]);
}

/* Rows for the pyramid: aum, txn_90d (txn missing where noted). */
#define PYR_N 13
static const double PYR_AUM[PYR_N] = {
    7e6,     /*  0: >= 6e6                          -> 0 private_banking */
    6e6,     /*  1: exactly 6e6                     -> 0 */
    5999999, /*  2: just below, >= 5e5              -> 1 wealth */
    500000,  /*  3: exactly 5e5 (txn 0)             -> 1 */
    499999,  /*  4: below 5e5, >= 5e4, txn 1        -> 2 gold */
    460000,  /*  5: in wealth's keep band, txn 3    -> 2 (no prev: keep irrelevant) */
    50000,   /*  6: exactly 5e4, txn 1              -> 2 */
    50000,   /*  7: 5e4 but txn 0                   -> 3 mass */
    49999,   /*  8: below 5e4, txn 9                -> 3 */
    NAN,     /*  9: missing aum: no comparison true -> 3 */
    1e6,     /* 10: txn missing, aum alone decides  -> 1 */
    60000,   /* 11: txn missing: gold unknown       -> 3 */
    -5,      /* 12: negative                        -> 3 */
};
static const int32_t PYR_TXN[PYR_N] = {0, 5, 0, 0, 1, 3, 1, 0, 9, 9, 77, 77, 2};
static const int32_t PYR_WANT[PYR_N] = {0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 1, 3, 3};

static seg_frame *pyramid_frame(uint8_t *valid)
{
    memset(valid, 0xff, 2);
    clear_bit(valid, 10);
    clear_bit(valid, 11);
    return bank_frame(PYR_N, PYR_AUM, PYR_TXN, valid, CHANNELS);
}

typedef struct gaps_out {
    int32_t next[32], col[32], nf[32];
    double gap[32];
    uint8_t crit[32];
} gaps_out;

static void gaps_canary(gaps_out *g)
{
    for (size_t i = 0; i < 32; i++) {
        g->next[i] = g->col[i] = g->nf[i] = CANARY_I32;
        g->gap[i] = CANARY_DBL;
        g->crit[i] = CANARY_U8;
    }
}

static void gaps_check_canary(const gaps_out *g)
{
    for (size_t i = 0; i < 32; i++) {
        ck_assert_int_eq(g->next[i], CANARY_I32);
        ck_assert_int_eq(g->col[i], CANARY_I32);
        ck_assert_int_eq(g->nf[i], CANARY_I32);
        ck_assert_msg(g->gap[i] == CANARY_DBL, "gap[%zu] overwritten", i);
        ck_assert_int_eq(g->crit[i], CANARY_U8);
    }
}

static void gaps_ok(const seg_tiers *t, const seg_frame *f, const int32_t *tier, double critical,
                    gaps_out *g)
{
    char err[256] = "";
    gaps_canary(g);
    int32_t rc = seg_tiers_gaps(t, f, tier, critical, g->next, g->col, g->gap, g->nf, g->crit, err,
                                sizeof err);
    ck_assert_msg(rc == SEG_OK, "gaps: %d %s", (int)rc, err);
}

/* One row's expected gap result; nf_any: don't check n_failing. */
#define NF_ANY INT32_MIN
static void expect_gap(const gaps_out *g, size_t i, int32_t next, int32_t col, double gap,
                       int32_t nf, int crit)
{
    ck_assert_msg(g->next[i] == next, "row %zu: next %d, expected %d", i, (int)g->next[i],
                  (int)next);
    ck_assert_msg(g->col[i] == col, "row %zu: column %d, expected %d", i, (int)g->col[i],
                  (int)col);
    if (isnan(gap))
        ck_assert_msg(isnan(g->gap[i]), "row %zu: gap %.17g, expected NaN", i, g->gap[i]);
    else
        ck_assert_msg(g->gap[i] == gap, "row %zu: gap %.17g, expected %.17g", i, g->gap[i], gap);
    if (nf != NF_ANY)
        ck_assert_msg(g->nf[i] == nf, "row %zu: n_failing %d, expected %d", i, (int)g->nf[i],
                      (int)nf);
    ck_assert_msg(g->crit[i] == crit, "row %zu: critical %d, expected %d", i, (int)g->crit[i],
                  crit);
}

/* ---- loading ----------------------------------------------------------------- */

START_TEST(load_pyramid_variants)
{
    uint8_t valid[2];
    seg_frame *f = pyramid_frame(valid);
    seg_frame *schema = bank_schema();
    const char *texts[] = {PYRAMID, PYRAMID_LOOSE, PYRAMID_CRLF, PYRAMID_UTF8_COLUMN};
    char *saved[4];
    for (int k = 0; k < 4; k++) {
        /* Compile against the 0-row schema, apply to the data frame. */
        seg_tiers *t = load_str(texts[k], schema);
        ck_assert_uint_eq(seg_tiers_count(t), 4);
        ck_assert_str_eq(seg_tiers_id(t, 0), "private_banking");
        ck_assert_str_eq(seg_tiers_id(t, 1), "wealth");
        ck_assert_str_eq(seg_tiers_id(t, 2), "gold");
        ck_assert_str_eq(seg_tiers_id(t, 3), "mass");
        ck_assert_str_eq(seg_tiers_name(t, 0), "私人银行");
        ck_assert_str_eq(seg_tiers_name(t, 1), "财富客户");
        ck_assert_str_eq(seg_tiers_name(t, 2), "金卡客户");
        ck_assert_str_eq(seg_tiers_name(t, 3), "大众客户");
        ck_assert_ptr_null(seg_tiers_id(t, 4));
        ck_assert_ptr_null(seg_tiers_id(t, -1));
        ck_assert_ptr_null(seg_tiers_name(t, 4));
        ck_assert_ptr_null(seg_tiers_name(t, -1));
        ck_assert_int_eq(seg_tiers_has_catch_all(t), 1);
        int32_t idx = -7;
        ck_assert_int_eq(seg_tiers_find(t, "gold", &idx), SEG_OK);
        ck_assert_int_eq(idx, 2);
        idx = -7;
        ck_assert_int_eq(seg_tiers_find(t, "Gold", &idx), SEG_ENOTFOUND);
        ck_assert_int_eq(idx, -7);
        ck_assert_int_eq(seg_tiers_find(t, NULL, &idx), SEG_EINVAL);
        ck_assert_int_eq(seg_tiers_find(t, "gold", NULL), SEG_EINVAL);
        ck_assert_int_eq(seg_tiers_find(NULL, "gold", &idx), SEG_EINVAL);
        ck_assert_str_eq(seg_tiers_last_error(t), "");

        int32_t out[PYR_N];
        apply_ok(t, f, NULL, out);
        assert_tiers(out, PYR_WANT, PYR_N, ONELINE(texts[k]));

        saved[k] = save_str(t);
        /* "always written when saving" */
        ck_assert_msg(strncmp(saved[k], "libsegment-tiers 1\n", 19) == 0, "saved: %s",
                      ONELINE(saved[k]));
        seg_tiers_free(t);
    }
    /* The first three are the same set with the same condition text. */
    ASSERT_TEXT_EQ(saved[0], saved[1]);
    ASSERT_TEXT_EQ(saved[0], saved[2]);
    /* The saved form of the original keeps its conditions verbatim. */
    ck_assert_ptr_nonnull(strstr(saved[0], "aum >= 500000"));
    ck_assert_ptr_nonnull(strstr(saved[0], "keep aum >= 450000"));
    ck_assert_ptr_nonnull(strstr(saved[0], "\"大众客户\" otherwise"));
    ck_assert_ptr_nonnull(strstr(saved[3], "`月日均资产` >= 500000"));
    for (int k = 0; k < 4; k++)
        free(saved[k]);
    seg_frame_free(schema);
    seg_frame_free(f);
}
END_TEST

/* save -> load -> save gives the same text and the same assignments, for
 * the pyramid, a groups file and names with escapes. */
START_TEST(save_load_roundtrip)
{
    uint8_t valid[2];
    seg_frame *f = pyramid_frame(valid);
    static const char *const texts[] = {
        PYRAMID,
        PYRAMID_UTF8_COLUMN,
        /* groups: the same format with the keyword 'group' */
        "group online \"线上\" when channel in (\"web\", \"app\")\n"
        "group big_shop \"Shop \\\"VIP\\\" \\\\ 大户\" when channel == \"shop\" and aum >= 1e6\n"
        "group rest \"其他\" otherwise\n",
        /* no catch-all, keep with 'or', parentheses, not, functions */
        "tier a \"A\" when (aum >= 1e6 or txn_90d >= 5) and not (channel == \"phone\") keep "
        "coalesce(aum, 0) >= 9e5\n"
        "tier b \"B\" when abs(aum - 50000) <= 10000 or is_missing(txn_90d)\n",
    };
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        seg_tiers *t1 = load_str(texts[k], f);
        char *s1 = save_str(t1);
        seg_tiers *t2 = load_str(s1, f);
        char *s2 = save_str(t2);
        ASSERT_TEXT_EQ(s1, s2);
        ck_assert_uint_eq(seg_tiers_count(t1), seg_tiers_count(t2));
        for (int32_t i = 0; i < (int32_t)seg_tiers_count(t1); i++) {
            ck_assert_str_eq(seg_tiers_id(t1, i), seg_tiers_id(t2, i));
            ck_assert_str_eq(seg_tiers_name(t1, i), seg_tiers_name(t2, i));
        }
        ck_assert_int_eq(seg_tiers_has_catch_all(t1), seg_tiers_has_catch_all(t2));
        int32_t o1[PYR_N], o2[PYR_N], prev[PYR_N];
        for (size_t i = 0; i < PYR_N; i++)
            prev[i] = (int32_t)(i % (seg_tiers_count(t1) + 1)) - 1;
        apply_ok(t1, f, NULL, o1);
        apply_ok(t2, f, NULL, o2);
        assert_tiers(o2, o1, PYR_N, ONELINE(s1));
        apply_ok(t1, f, prev, o1);
        apply_ok(t2, f, prev, o2);
        assert_tiers(o2, o1, PYR_N, ONELINE(s1));
        if (k == 2) {
            ck_assert_msg(strstr(s1, "\ngroup online ") != NULL, "groups saved as: %s",
                          ONELINE(s1));
            ck_assert_msg(strstr(s1, "tier ") == NULL, "groups saved as: %s", ONELINE(s1));
            ck_assert_str_eq(seg_tiers_name(t2, 1), "Shop \"VIP\" \\ 大户");
            /* rows: channel web,shop,app,web,phone,app,shop,web,web,shop,app,web,phone
             * (CHANNELS[0..12]): online = web/app rows;
             * big_shop = shop with aum >= 1e6: row 1 (shop, 6e6); row 6
             * (shop, 5e4) and row 9 (shop, NaN) are rest; phone rows rest. */
            static const int32_t want[PYR_N] = {0, 1, 0, 0, 2, 0, 2, 0, 0, 2, 0, 0, 2};
            apply_ok(t2, f, NULL, o2);
            assert_tiers(o2, want, PYR_N, "groups");
        }
        if (k == 3)
            ck_assert_int_eq(seg_tiers_has_catch_all(t1), 0);
        free(s1);
        free(s2);
        seg_tiers_free(t1);
        seg_tiers_free(t2);
    }
    seg_frame_free(f);
}
END_TEST

/* seg_tiers_new + seg_tiers_add builds the set the text describes. */
START_TEST(build_equals_text)
{
    seg_frame *schema = bank_schema();
    seg_tiers *loaded = load_str(PYRAMID, schema);
    seg_tiers *built = NULL;
    ck_assert_int_eq(seg_tiers_new(&built, schema, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_count(built), 0);
    ck_assert_int_eq(seg_tiers_add(built, "private_banking", "私人银行", "aum >= 6000000", NULL),
                     SEG_OK);
    ck_assert_int_eq(seg_tiers_add(built, "wealth", "财富客户", "aum >= 500000", "aum >= 450000"),
                     SEG_OK);
    ck_assert_int_eq(
        seg_tiers_add(built, "gold", "金卡客户", "aum >= 50000 and txn_90d >= 1", NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_has_catch_all(built), 0);
    ck_assert_int_eq(seg_tiers_add(built, "mass", "大众客户", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_has_catch_all(built), 1);
    ck_assert_str_eq(seg_tiers_last_error(built), "");
    char *a = save_str(loaded), *b = save_str(built);
    ASSERT_TEXT_EQ(a, b);
    free(a);
    free(b);

    /* The schema may go before the set: the set keeps no reference. */
    seg_frame_free(schema);
    uint8_t valid[2];
    seg_frame *f = pyramid_frame(valid);
    int32_t out[PYR_N];
    apply_ok(built, f, NULL, out);
    assert_tiers(out, PYR_WANT, PYR_N, "built");
    seg_frame_free(f);
    seg_tiers_free(built);
    seg_tiers_free(loaded);

    /* A groups set built by hand saves with 'group'. */
    schema = bank_schema();
    seg_tiers *g = NULL;
    ck_assert_int_eq(seg_tiers_new(&g, schema, 1, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_add(g, "online", "线上", "channel == \"web\"", NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_add(g, "rest", "其他", NULL, NULL), SEG_OK);
    char *s = save_str(g);
    ASSERT_TEXT_EQ(s, "libsegment-tiers 1\n"
                        "group online \"线上\" when channel == \"web\"\n"
                        "group rest \"其他\" otherwise\n");
    seg_tiers *g2 = load_str(s, schema);
    char *s2 = save_str(g2);
    ASSERT_TEXT_EQ(s, s2);
    free(s);
    free(s2);
    seg_tiers_free(g2);
    seg_tiers_free(g);
    seg_frame_free(schema);
}
END_TEST

START_TEST(build_errors)
{
    seg_frame *schema = bank_schema();
    seg_tiers *t = (seg_tiers *)&t, *sentinel = t;
    ck_assert_int_eq(seg_tiers_new(NULL, schema, 0, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_new(&t, NULL, 0, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_new(&t, schema, 2, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_new(&t, schema, -1, NULL), SEG_EINVAL);
    ck_assert_ptr_eq(t, sentinel);
    /* an allocator struct larger than this library knows, with a non-zero tail */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t extra;
    } big = {ta.base, 1};
    big.a.struct_size = (uint32_t)sizeof big;
    ck_assert_int_eq(seg_tiers_new(&t, schema, 0, &big.a), SEG_EVERSION);
    ck_assert_ptr_eq(t, sentinel);

    ck_assert_int_eq(seg_tiers_new(&t, schema, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_add(NULL, "a", "A", NULL, NULL), SEG_EINVAL);
    /* bad identifiers */
    ck_assert_int_eq(seg_tiers_add(t, "9a", "A", "aum > 1", NULL), SEG_EINVAL);
    ck_assert_str_ne(seg_tiers_last_error(t), "");
    ck_assert_int_eq(seg_tiers_add(t, "a-b", "A", "aum > 1", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_add(t, "", "A", "aum > 1", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_add(t, "金", "A", "aum > 1", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_add(t, NULL, "A", "aum > 1", NULL), SEG_EINVAL);
    /* bad names */
    ck_assert_int_eq(seg_tiers_add(t, "a", NULL, "aum > 1", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_add(t, "a", "", "aum > 1", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_add(t, "a", "tab\there", "aum > 1", NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_add(t, "a", "bad \xff utf8", "aum > 1", NULL), SEG_EINVAL);
    /* keep without when */
    ck_assert_int_eq(seg_tiers_add(t, "a", "A", NULL, "aum > 1"), SEG_EINVAL);
    ck_assert_uint_eq(seg_tiers_count(t), 0);

    ck_assert_int_eq(seg_tiers_add(t, "a", "A", "aum >= 10", NULL), SEG_OK);
    ck_assert_str_eq(seg_tiers_last_error(t), "");
    ck_assert_int_eq(seg_tiers_add(t, "a", "again", "aum >= 5", NULL), SEG_EEXISTS);
    ck_assert_str_ne(seg_tiers_last_error(t), "");
    /* A condition that does not compile: "line:col: message" with the
     * column of the unknown name: "aum >= 5 and balance > 1", balance at
     * byte 14 of line 1. */
    ck_assert_int_eq(seg_tiers_add(t, "b", "B", "aum >= 5 and balance > 1", NULL), SEG_EPARSE);
    ck_assert_msg(strstr(seg_tiers_last_error(t), "1:14: ") != NULL, "last_error: %s",
                  seg_tiers_last_error(t));
    ck_assert_msg(seg_test_has_word(seg_tiers_last_error(t), "balance"), "last_error: %s",
                  seg_tiers_last_error(t));
    /* in keep: "aum >=" ends early; the error points at its end or the operator */
    ck_assert_int_eq(seg_tiers_add(t, "b", "B", "aum >= 5", "aum >="), SEG_EPARSE);
    ck_assert_msg(strstr(seg_tiers_last_error(t), "1:") != NULL, "last_error: %s",
                  seg_tiers_last_error(t));
    ck_assert_int_eq(seg_tiers_add(t, "b", "B", "", NULL), SEG_EPARSE);
    ck_assert_int_eq(seg_tiers_add(t, "b", "B", "aum + 1", NULL), SEG_EPARSE); /* not a condition */
    ck_assert_uint_eq(seg_tiers_count(t), 1);
    ck_assert_int_eq(seg_tiers_add(t, "b", "B", "aum >= 5", NULL), SEG_OK);
    ck_assert_str_eq(seg_tiers_last_error(t), "");
    ck_assert_uint_eq(seg_tiers_count(t), 2);
    seg_tiers_free(t);
    seg_tiers_free(NULL);
    ck_assert_uint_eq(seg_tiers_count(NULL), 0);
    ck_assert_int_eq(seg_tiers_has_catch_all(NULL), 0);
    ck_assert_str_eq(seg_tiers_last_error(NULL), "");
    ck_assert_ptr_null(seg_tiers_id(NULL, 0));
    ck_assert_ptr_null(seg_tiers_name(NULL, 0));
    seg_frame_free(schema);
}
END_TEST

START_TEST(save_buffer)
{
    seg_frame *schema = bank_schema();
    seg_tiers *t = load_str(PYRAMID, schema);
    size_t need = 0;
    ck_assert_int_eq(seg_tiers_save(NULL, NULL, 0, &need), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_save(t, NULL, 0, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_save(t, NULL, 0, &need), SEG_OK);
    /* The canonical form of PYRAMID is PYRAMID itself (single spaces,
     * header, one line per tier, conditions verbatim). */
    ck_assert_uint_eq(need, strlen(PYRAMID));
    char buf[512];
    memset(buf, 'x', sizeof buf);
    size_t len = 12345;
    ck_assert_int_eq(seg_tiers_save(t, buf, need, &len), SEG_EBUFSZ); /* no room for NUL */
    ck_assert_uint_eq(len, need);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'x');
    ck_assert_int_eq(seg_tiers_save(t, buf, need + 1, &len), SEG_OK);
    ck_assert_uint_eq(len, need);
    ASSERT_TEXT_EQ(buf, PYRAMID);
    ck_assert_int_eq(buf[need + 1], 'x');
    seg_tiers_free(t);
    seg_frame_free(schema);
}
END_TEST

/* Text need not be NUL-terminated: only `len` bytes are read. */
START_TEST(load_len_bounds)
{
    seg_frame *schema = bank_schema();
    const char text[] = "tier a \"A\" when aum >= 5\ntier b \"B\" when garbage !! here\n";
    size_t first = strlen("tier a \"A\" when aum >= 5\n");
    seg_tiers *t = load_ok(text, first, schema);
    ck_assert_uint_eq(seg_tiers_count(t), 1);
    seg_tiers_free(t);
    /* cut in the middle of the condition: "aum >= 5" becomes "aum >=" */
    seg_tiers *u = (seg_tiers *)&u, *sentinel = u;
    char err[256] = "";
    ck_assert_int_eq(seg_tiers_load(&u, text, first - 3, schema, "t.txt", NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_ptr_eq(u, sentinel);
    ck_assert_msg(strncmp(err, "t.txt:1:", 8) == 0, "err: %s", err);
    /* no trailing newline is fine */
    t = load_ok(text, first - 1, schema);
    seg_tiers_free(t);
    seg_frame_free(schema);
}
END_TEST

START_TEST(load_null_and_messages)
{
    seg_frame *schema = bank_schema();
    seg_tiers *t = (seg_tiers *)&t, *sentinel = t;
    char err[256];
    strcpy(err, "untouched?");
    ck_assert_int_eq(seg_tiers_load(NULL, PYRAMID, strlen(PYRAMID), schema, NULL, NULL, err,
                                    sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_load(&t, NULL, 5, schema, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(
        seg_tiers_load(&t, PYRAMID, strlen(PYRAMID), NULL, NULL, NULL, err, sizeof err),
        SEG_EINVAL);
    ck_assert_ptr_eq(t, sentinel);
    /* NULL source: messages say "tiers" */
    const char *bad = "tier a \"A\" when aum >= 1\nbogus\n";
    ck_assert_int_eq(seg_tiers_load(&t, bad, strlen(bad), schema, NULL, NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_msg(strncmp(err, "tiers:2:1: ", 11) == 0, "err: %s", err);
    /* NULL err_buf is allowed */
    ck_assert_int_eq(seg_tiers_load(&t, bad, strlen(bad), schema, NULL, NULL, NULL, 0),
                     SEG_EPARSE);
    /* a short buffer is truncated, still NUL-terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(seg_tiers_load(&t, bad, strlen(bad), schema, NULL, NULL, small, sizeof small),
                     SEG_EPARSE);
    ck_assert_msg(memchr(small, '\0', sizeof small) != NULL, "not terminated");
    ck_assert_msg(strncmp(small, "tiers:2", 7) == 0, "small: %s", small);
    ck_assert_ptr_eq(t, sentinel);
    /* unknown allocator size */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t extra;
    } big = {ta.base, 7};
    big.a.struct_size = (uint32_t)sizeof big;
    ck_assert_int_eq(
        seg_tiers_load(&t, PYRAMID, strlen(PYRAMID), schema, NULL, &big.a, err, sizeof err),
        SEG_EVERSION);
    ck_assert_ptr_eq(t, sentinel);
    seg_frame_free(schema);
}
END_TEST

/* ---- syntax errors ------------------------------------------------------------ */

typedef struct bad_text {
    const char *text;
    int32_t rc;
    const char *prefix; /* exact start of the message */
    const char *word;   /* must occur in the message (case-insensitive) */
} bad_text;

static const bad_text BAD[] = {
    /* Missing display name: "tier gold when ...": 'when' (the token where
     * the name should be) is at column 11 (t=1, space=5, gold=6..9). */
    {"tier gold when aum >= 1\n", SEG_EPARSE, "t.txt:1:11: ", "display name"},
    /* Unquoted name: Gold at column 11. */
    {"tier gold Gold when aum >= 1\n", SEG_EPARSE, "t.txt:1:11: ", "display name"},
    /* Bad identifiers, at column 6: starting with a digit, backquoted,
     * non-ASCII (on line 2 after two spaces: column 8), a string. */
    {"tier 9gold \"G\" when aum >= 1\n", SEG_EPARSE, "t.txt:1:6: ", "identifier"},
    {"tier `gold` \"G\" otherwise\n", SEG_EPARSE, "t.txt:1:6: ", "identifier"},
    {"tier a \"A\" when aum >= 1\n  tier 金 \"B\" otherwise\n", SEG_EPARSE, "t.txt:2:8: ",
     "identifier"},
    {"tier \"gold\" \"G\" otherwise\n", SEG_EPARSE, "t.txt:1:6: ", "identifier"},
    {"tier\n", SEG_EPARSE, "t.txt:1:5: ", "identifier"},
    /* Duplicate id: points at the second definition, line 3 column 6. */
    {"tier a \"A\" when aum >= 10\ntier b \"B\" when aum >= 5\ntier a \"C\" otherwise\n",
     SEG_EPARSE, "t.txt:3:6: ", "'a'"},
    /* 'when' without a condition: points at 'when', column 12
     * (tier=1..4, a=6, "A"=8..10, when=12). A comment is no condition;
     * neither is a bare 'keep'. */
    {"tier a \"A\" when\n", SEG_EPARSE, "t.txt:1:12: ", "when"},
    {"tier a \"A\" when   # to do\ntier b \"B\" otherwise\n", SEG_EPARSE, "t.txt:1:12: ", "when"},
    {"tier a \"A\" when keep aum >= 1\n", SEG_EPARSE, "t.txt:1:12: ", "when"},
    /* 'keep' without a condition: 'keep' at column 26
     * (when=12..15, aum=17..19, >= 21..22, 1=24, keep=26). */
    {"tier a \"A\" when aum >= 1 keep\n", SEG_EPARSE, "t.txt:1:26: ", "keep"},
    {"tier a \"A\" when aum >= 1 keep # x\n", SEG_EPARSE, "t.txt:1:26: ", "keep"},
    /* Text after 'otherwise' (otherwise=12..20): aum at column 22. */
    {"tier a \"A\" otherwise aum\n", SEG_EPARSE, "t.txt:1:22: ", "otherwise"},
    {"tier a \"A\" otherwise keep aum >= 1\n", SEG_EPARSE, "t.txt:1:22: ", "otherwise"},
    /* Neither 'when' nor 'otherwise' after the name: 'if' at column 12. */
    {"tier a \"A\" if aum >= 1\n", SEG_EPARSE, "t.txt:1:12: ", "when"},
    {"tier a \"A\"\n", SEG_EPARSE, "t.txt:1:11: ", "when"},
    /* Unknown keyword at the start of a line. */
    {"tier a \"A\" when aum >= 1\nsegment b \"B\" otherwise\n", SEG_EPARSE, "t.txt:2:1: ", "tier"},
    {"when aum >= 1\n", SEG_EPARSE, "t.txt:1:1: ", "tier"},
    {"# c\n   tiers a \"A\" otherwise\n", SEG_EPARSE, "t.txt:2:4: ", "tier"},
    {"\"x\" a\n", SEG_EPARSE, "t.txt:1:1: ", "tier"},
    /* Mixing 'tier' and 'group': the first keyword of the other kind. */
    /* (the message names the keyword the file started with) */
    {"tier a \"A\" when aum >= 1\ngroup b \"B\" otherwise\n", SEG_EPARSE, "t.txt:2:1: ", "'tier'"},
    {"group a \"A\" when aum >= 1\n\n  tier b \"B\" otherwise\n", SEG_EPARSE, "t.txt:3:3: ",
     "'group'"},
    /* Errors inside a rule point into the file. Line 3,
     * "tier b "B" when aum >= 5 and balance >= 1": aum=17, 5=24, and=26..28,
     * balance=30. */
    {"# header comment\ntier a \"A\" when aum >= 10\ntier b \"B\" when aum >= 5 and balance >= 1\n",
     SEG_EPARSE, "t.txt:3:30: ", "balance"},
    /* The same with CRLF line ends and a blank line: still 3:30. */
    {"tier a \"A\" when aum >= 10\r\n\r\ntier b \"B\" when aum >= 5 and balance >= 1\r\n",
     SEG_EPARSE, "t.txt:3:30: ", "balance"},
    /* In keep, line 2: "tier b "B" when aum >= 5 keep bal >= 1": keep=26, bal=31. */
    {"tier a \"A\" when aum >= 10\ntier b \"B\" when aum >= 5 keep bal >= 1\n", SEG_EPARSE,
     "t.txt:2:31: ", "bal"},
    /* After a header line: line 2; unknown function 'sqrt' at column 17. */
    {"libsegment-tiers 1\ntier a \"A\" when sqrt(aum) >= 10\n", SEG_EPARSE, "t.txt:2:17: ",
     "sqrt"},
    /* '=' instead of '==': at column 21 (aum=17..19, '='=21). */
    {"tier a \"A\" when aum = 10\n", SEG_EPARSE, "t.txt:1:21: ", "=="},
    /* Unknown format version, at the version's column 18. */
    {"libsegment-tiers 2\ntier a \"A\" otherwise\n", SEG_EVERSION, "t.txt:1:18: ", "version"},
    {"# c\n\nlibsegment-tiers 10\ntier a \"A\" otherwise\n", SEG_EVERSION, "t.txt:3:18: ",
     "version"},
    /* No tier at all. */
    {"", SEG_EPARSE, "t.txt", "no tier"},
    {"# only\n\n   # comments\n\r\n", SEG_EPARSE, "t.txt", "no tier"},
    {"libsegment-tiers 1\n# nothing else\n", SEG_EPARSE, "t.txt", "no tier"},
    /* Unterminated strings: the display name's quote at column 8; in a
     * rule, "channel == "web": the quote at column 28. */
    {"tier a \"Abc when aum >= 1\n", SEG_EPARSE, "t.txt:1:8: ", "unterminated"},
    {"tier a \"A\" when channel == \"web\ntier b \"B\" otherwise\n", SEG_EPARSE, "t.txt:1:28: ",
     "unterminated"},
};

START_TEST(syntax_errors)
{
    const bad_text *b = &BAD[_i];
    seg_frame *schema = bank_schema();
    seg_tiers *t = (seg_tiers *)&t, *sentinel = t;
    char err[512] = "";
    int32_t rc = seg_tiers_load(&t, b->text, strlen(b->text), schema, "t.txt", NULL, err,
                                sizeof err);
    ck_assert_msg(rc == b->rc, "case %d: rc %d, expected %d (%s); text: %s", _i, (int)rc,
                  (int)b->rc, err, ONELINE(b->text));
    ck_assert_ptr_eq(t, sentinel);
    ck_assert_msg(strncmp(err, b->prefix, strlen(b->prefix)) == 0,
                  "case %d: message \"%s\" does not start with \"%s\"; text: %s", _i, err,
                  b->prefix, ONELINE(b->text));
    ck_assert_msg(seg_test_has_word(err, b->word),
                  "case %d: message \"%s\" lacks \"%s\"; text: %s", _i, err, b->word,
                  ONELINE(b->text));
    seg_frame_free(schema);
}
END_TEST

/* Failing allocations while loading: ENOMEM, output untouched, no leak;
 * and while applying. */
START_TEST(load_out_of_memory)
{
    seg_frame *schema = bank_schema();
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    ta.sticky = 1; /* after the first failure, every allocation fails */
    int ok = 0;
    for (long k = 0; k < 1000 && !ok; k++) {
        seg_test_alloc_fail_next(&ta, (size_t)k);
        seg_tiers *t = (seg_tiers *)&t, *sentinel = t;
        char err[256] = "";
        int32_t rc = seg_tiers_load(&t, PYRAMID, strlen(PYRAMID), schema, "t.txt", &ta.base, err,
                                    sizeof err);
        if (rc == SEG_OK) {
            ok = 1;
            ck_assert_uint_eq(seg_tiers_count(t), 4);
            seg_test_alloc_no_fail(&ta);
            uint8_t valid[2];
            seg_frame *f = pyramid_frame(valid);
            int32_t out[PYR_N], prev[PYR_N];
            for (size_t i = 0; i < PYR_N; i++)
                prev[i] = (int32_t)(i % 5) - 1;
            int applied = 0;
            for (long j = 0; j < 1000 && !applied; j++) {
                for (size_t i = 0; i < PYR_N; i++)
                    out[i] = CANARY_I32;
                seg_test_alloc_fail_next(&ta, (size_t)j);
                rc = seg_tiers_apply(t, f, prev, out, err, sizeof err);
                if (rc == SEG_OK) {
                    applied = 1;
                } else {
                    ck_assert_int_eq(rc, SEG_ENOMEM);
                    for (size_t i = 0; i < PYR_N; i++)
                        ck_assert_int_eq(out[i], CANARY_I32);
                }
            }
            ck_assert(applied);
            /* the same for gaps */
            int done = 0;
            for (long j = 0; j < 1000 && !done; j++) {
                gaps_out g;
                gaps_canary(&g);
                seg_test_alloc_fail_next(&ta, (size_t)j);
                rc = seg_tiers_gaps(t, f, PYR_WANT, 0.1, g.next, g.col, g.gap, g.nf, g.crit, err,
                                    sizeof err);
                if (rc == SEG_OK) {
                    done = 1;
                    ck_assert_int_eq(g.next[4], 1); /* row 4 is gold: next wealth */
                } else {
                    ck_assert_int_eq(rc, SEG_ENOMEM);
                    gaps_check_canary(&g);
                }
            }
            ck_assert(done);
            seg_test_alloc_no_fail(&ta);
            apply_ok(t, f, NULL, out);
            assert_tiers(out, PYR_WANT, PYR_N, "after ENOMEM");
            seg_frame_free(f);
            seg_tiers_free(t);
        } else {
            ck_assert_msg(rc == SEG_ENOMEM, "allocation %ld failing: rc %d (%s)", k, (int)rc,
                          err);
            ck_assert_ptr_eq(t, sentinel);
        }
        ck_assert_uint_eq(ta.live, 0);
    }
    ck_assert(ok);
    seg_frame_free(schema);
}
END_TEST

/* ---- apply --------------------------------------------------------------------- */

START_TEST(apply_first_match_and_none)
{
    uint8_t valid[2];
    seg_frame *f = pyramid_frame(valid);
    /* No catch-all; overlapping tiers: first match wins.
     *   hi  when aum >= 500000
     *   mid when aum >= 50000          (also true for hi rows)
     *   act when txn_90d >= 1          (also true for many above)
     * rows (aum, txn): 0 7e6 -> hi; 1 6e6 -> hi; 2 5999999 -> hi; 3 5e5 -> hi;
     * 4 499999 -> mid; 5 460000 -> mid; 6 50000 -> mid; 7 50000 -> mid;
     * 8 49999 txn 9 -> act; 9 NaN txn 9 -> act; 10 1e6 -> hi;
     * 11 60000 -> mid; 12 -5 txn 2 -> act. */
    seg_tiers *t = load_str("tier hi \"H\" when aum >= 500000\n"
                            "tier mid \"M\" when aum >= 50000\n"
                            "tier act \"A\" when txn_90d >= 1\n",
                            f);
    ck_assert_int_eq(seg_tiers_has_catch_all(t), 0);
    static const int32_t want[PYR_N] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 0, 1, 2};
    int32_t out[PYR_N];
    apply_ok(t, f, NULL, out);
    assert_tiers(out, want, PYR_N, "overlap");
    seg_tiers_free(t);

    /* Rows matching nothing get SEG_TIER_NONE:
     *   big when aum >= 1000000  and  busy when txn_90d >= 5
     * 0 7e6 -> big; 1 6e6 -> big; 2 5999999 -> big; 3 5e5 txn 0 -> none;
     * 4 499999 txn1 -> none; 5 txn3 -> none; 6,7 -> none; 8 txn 9 -> busy;
     * 9 NaN txn 9 -> busy; 10 1e6 (txn missing) -> big; 11 60000, txn missing -> none;
     * 12 -5 txn 2 -> none. */
    t = load_str("tier big \"B\" when aum >= 1000000\ntier busy \"U\" when txn_90d >= 5\n", f);
    static const int32_t want2[PYR_N] = {0, 0, 0, -1, -1, -1, -1, -1, 1, 1, 0, -1, -1};
    apply_ok(t, f, NULL, out);
    assert_tiers(out, want2, PYR_N, "none");
    ck_assert_int_eq(SEG_TIER_NONE, -1);
    seg_tiers_free(t);

    /* A catch-all first: everything is tier 0, the rest unreachable. */
    t = load_str("tier all \"All\" otherwise\ntier hi \"H\" when aum >= 1\n", f);
    apply_ok(t, f, NULL, out);
    for (size_t i = 0; i < PYR_N; i++)
        ck_assert_int_eq(out[i], 0);
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

/* Missing values never satisfy a comparison (NaN, validity bitmap on an
 * int and on a double column), not even under 'not'. */
START_TEST(apply_missing_values)
{
    enum { N = 6 };
    /* 0 NaN; 1 1e7 but its validity bit is clear; 2 1e7; 3 0; 4 NaN; 5 100 */
    double aum[N] = {NAN, 1e7, 1e7, 0, NAN, 100};
    int32_t txn[N] = {5, 5, 5, 5, 0, 0};
    uint8_t aum_valid[1] = {0xff}, txn_valid[1] = {0xff};
    clear_bit(aum_valid, 1);
    clear_bit(txn_valid, 3); /* row 3: txn missing */
    clear_bit(txn_valid, 5); /* row 5: txn missing */
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", aum, aum_valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn_90d", txn, txn_valid), SEG_OK);
    /*   rich    when aum >= 1e6
     *   poor    when not (aum >= 1e6)          (unknown for missing aum)
     *   lowtxn  when txn_90d < 3               (unknown for missing txn)
     *   notrans when not (txn_90d >= 3)
     *   rest    otherwise
     * 0: aum NaN: rich ?, poor ?, txn 5: lowtxn F, notrans F -> rest (4)
     * 1: aum invalid: same as row 0 -> 4
     * 2: 1e7 -> rich (0)
     * 3: aum 0 -> poor (1)
     * 4: aum NaN, txn 0 -> lowtxn (2)
     * 5: aum 100 -> poor (1) */
    seg_tiers *t = load_str("tier rich \"R\" when aum >= 1e6\n"
                            "tier poor \"P\" when not (aum >= 1e6)\n"
                            "tier lowtxn \"L\" when txn_90d < 3\n"
                            "tier notrans \"N\" when not (txn_90d >= 3)\n"
                            "tier rest \"Z\" otherwise\n",
                            f);
    static const int32_t want[N] = {4, 4, 0, 1, 2, 1};
    int32_t out[N];
    apply_ok(t, f, NULL, out);
    assert_tiers(out, want, N, "missing");
    seg_tiers_free(t);

    /* Row 3 (aum 0, txn missing) and row 5: txn never compares, in either
     * direction; only is_missing sees it.
     *   a when txn_90d >= 0 or txn_90d < 0  -> rows 0,1,2,4
     *   b when is_missing(txn_90d)          -> rows 3,5 */
    t = load_str("tier a \"A\" when txn_90d >= 0 or txn_90d < 0\n"
                 "tier b \"B\" when is_missing(txn_90d)\n",
                 f);
    static const int32_t want2[N] = {0, 0, 0, 1, 0, 1};
    apply_ok(t, f, NULL, out);
    assert_tiers(out, want2, N, "is_missing");
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

/* Expected pyramid tier for one row, written out from the definition. */
static int32_t pyramid_when(double aum, int32_t txn, int txn_missing)
{
    if (aum >= 6000000)
        return 0;
    if (aum >= 500000)
        return 1;
    if (aum >= 50000 && !txn_missing && txn >= 1)
        return 2;
    return 3;
}

/* Hysteresis on the pyramid: only wealth has a keep (aum >= 450000). */
static int32_t pyramid_hyst(double aum, int32_t txn, int txn_missing, int32_t prev)
{
    int32_t w = pyramid_when(aum, txn, txn_missing);
    if (prev < 0 || w < prev)
        return w;
    int holds;
    switch (prev) {
    case 0: holds = aum >= 6000000; break;
    case 1: holds = aum >= 450000; break; /* keep */
    case 2: holds = aum >= 50000 && !txn_missing && txn >= 1; break;
    default: holds = 1; break; /* mass: otherwise */
    }
    return holds ? prev : w;
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* An aum around the pyramid's thresholds, or exactly on one, or NaN. */
static double rnd_aum(uint64_t *s)
{
    static const double edges[] = {6000000, 500000, 450000, 50000};
    uint64_t r = rng_next(s);
    switch (r % 10) {
    case 0: return NAN;
    case 1:
    case 2: return edges[(r >> 8) % 4];
    case 3: return edges[(r >> 8) % 4] - 1;
    default: return (double)((r >> 16) % 8000000);
    }
}

START_TEST(apply_many_blocks)
{
    /* 3000 rows: three 1024-row blocks (the last partial). */
    enum { N = 3000 };
    static double aum[N];
    static int32_t txn[N], prev[N], out[N], want[N];
    static uint8_t valid[(N + 7) / 8];
    memset(valid, 0xff, sizeof valid);
    uint64_t s = 0x1234567;
    for (size_t i = 0; i < N; i++) {
        aum[i] = rnd_aum(&s);
        txn[i] = (int32_t)(rng_next(&s) % 3);
        if (i % 7 == 3)
            clear_bit(valid, i);
        prev[i] = (int32_t)(rng_next(&s) % 5) - 1;
    }
    seg_frame *f = bank_frame(N, aum, txn, valid, NULL);
    seg_tiers *t = load_str(PYRAMID, f);
    apply_ok(t, f, NULL, out);
    for (size_t i = 0; i < N; i++)
        want[i] = pyramid_when(aum[i], txn[i], i % 7 == 3);
    assert_tiers(out, want, N, "3000 rows");
    apply_ok(t, f, prev, out);
    for (size_t i = 0; i < N; i++)
        want[i] = pyramid_hyst(aum[i], txn[i], i % 7 == 3, prev[i]);
    assert_tiers(out, want, N, "3000 rows with prev");
    /* every tier occurs, and rows stayed by keep exist */
    int seen[4] = {0}, kept = 0;
    for (size_t i = 0; i < N; i++) {
        seen[out[i]]++;
        kept += prev[i] == 1 && out[i] == 1 && aum[i] < 500000;
    }
    ck_assert(seen[0] && seen[1] && seen[2] && seen[3] && kept);
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

START_TEST(apply_errors)
{
    uint8_t valid[2];
    seg_frame *f = pyramid_frame(valid);
    seg_tiers *t = load_str(PYRAMID, f);
    int32_t out[PYR_N], prev[PYR_N];
    char err[256];
    for (size_t i = 0; i < PYR_N; i++)
        prev[i] = 1;
#define RESET_OUT()                                                                            \
    for (size_t i_ = 0; i_ < PYR_N; i_++)                                                      \
    out[i_] = CANARY_I32
#define CHECK_OUT()                                                                            \
    for (size_t i_ = 0; i_ < PYR_N; i_++)                                                      \
    ck_assert_int_eq(out[i_], CANARY_I32)
    RESET_OUT();
    ck_assert_int_eq(seg_tiers_apply(NULL, f, NULL, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_apply(t, NULL, NULL, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_apply(t, f, NULL, NULL, err, sizeof err), SEG_EINVAL);
    CHECK_OUT();
    /* prev out of range: row 7 holds 4 (count is 4) */
    prev[7] = 4;
    ck_assert_int_eq(seg_tiers_apply(t, f, prev, out, err, sizeof err), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 7), "err: %s", err);
    ck_assert_msg(seg_test_has_word(err, "prev"), "err: %s", err);
    CHECK_OUT();
    /* row 12 holds -2 */
    prev[7] = 1;
    prev[12] = -2;
    ck_assert_int_eq(seg_tiers_apply(t, f, prev, out, NULL, 0), SEG_EDATA);
    ck_assert_int_eq(seg_tiers_apply(t, f, prev, out, err, sizeof err), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 12), "err: %s", err);
    CHECK_OUT();
    prev[12] = 1;
    /* A frame without txn_90d (gold's column): ENOTFOUND naming it, even
     * though rows 0..1 would be decided by aum alone. */
    seg_frame *g = NULL;
    ck_assert_int_eq(seg_frame_new(&g, PYR_N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(g, "aum", PYR_AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_apply(t, g, NULL, out, err, sizeof err), SEG_ENOTFOUND);
    ck_assert_msg(seg_test_has_word(err, "txn_90d"), "err: %s", err);
    CHECK_OUT();
    ck_assert_int_eq(seg_tiers_apply(t, g, prev, out, err, sizeof err), SEG_ENOTFOUND);
    CHECK_OUT();
    /* A frame where txn_90d has another kind (text): also refused. */
    seg_frame *h = NULL;
    ck_assert_int_eq(seg_frame_new(&h, PYR_N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(h, "aum", PYR_AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(h, "txn_90d", CHANNELS, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_apply(t, h, NULL, out, err, sizeof err), SEG_ENOTFOUND);
    ck_assert_msg(seg_test_has_word(err, "txn_90d"), "err: %s", err);
    CHECK_OUT();
    /* A frame with the columns in another order and an extra column works. */
    seg_frame *k = NULL;
    ck_assert_int_eq(seg_frame_new(&k, PYR_N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(k, "x", CHANNELS, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(k, "txn_90d", PYR_TXN, valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(k, "aum", PYR_AUM, NULL), SEG_OK);
    apply_ok(t, k, NULL, out);
    assert_tiers(out, PYR_WANT, PYR_N, "reordered frame");
    /* 0 rows */
    seg_frame *z = bank_schema();
    apply_ok(t, z, NULL, out);
    apply_ok(t, z, prev, out);
    seg_frame_free(z);
    seg_frame_free(k);
    seg_frame_free(h);
    seg_frame_free(g);
    seg_tiers_free(t);
    seg_frame_free(f);
#undef RESET_OUT
#undef CHECK_OUT
}
END_TEST

/* ---- hysteresis (保级) --------------------------------------------------------- */

START_TEST(hysteresis_pyramid)
{
    enum { N = 14 };
    static const double aum[N] = {460000, 440000, 440000, 7e6,    40000,     5e6, 460000,
                                  600000, 450000, 449999.99, NAN, 460000, 460000, 460000};
    static const int32_t txn[N] = {1, 1, 0, 0, 1, 0, 1, 0, 0, 5, 5, 1, 1, 1};
    static const int32_t prev[N] = {1, 1, 1, 3, 2, 0, -1, 3, 1, 1, 1, 2, 0, 3};
    /* Without prev (when-tiers):
     *  0 460000 txn1 -> gold 2      1 440000 txn1 -> 2     2 440000 txn0 -> 3
     *  3 7e6 -> 0                   4 40000 -> 3           5 5e6 -> 1
     *  6 460000 txn1 -> 2           7 600000 -> 1          8 450000 txn0 -> 3
     *  9 449999.99 txn5 -> 2       10 NaN -> 3            11 -> 2  12 -> 2  13 -> 2 */
    static const int32_t want_when[N] = {2, 2, 3, 0, 3, 1, 2, 1, 3, 2, 3, 2, 2, 2};
    /* With prev:
     *  0 prev wealth, when-tier gold lower, keep aum >= 450000 holds -> stays 1
     *  1 prev wealth, 440000 < 450000: keep fails -> its when-tier 2
     *  2 same but txn 0 -> when-tier 3
     *  3 prev mass, when-tier 0 higher -> rises to 0
     *  4 prev gold (no keep: its when, false at 40000) -> 3
     *  5 prev private_banking (no keep: aum >= 6e6 false) -> 1
     *  6 prev -1 (unknown): as without prev -> 2
     *  7 prev mass, when-tier 1 higher than prev -> 1
     *  8 prev wealth, aum exactly 450000: keep holds -> 1 (although when-tier 3)
     *  9 prev wealth, 449999.99: keep fails -> 2
     * 10 prev wealth, aum missing: keep unknown, not true -> 3
     * 11 prev gold = when-tier -> 2
     * 12 prev private_banking, 460000: PB's when fails -> when-tier 2 (wealth's
     *    keep would hold, but the row was not in wealth)
     * 13 prev mass, when-tier 2 higher -> 2 */
    static const int32_t want_prev[N] = {1, 2, 3, 0, 3, 1, 2, 1, 1, 2, 3, 2, 2, 2};
    seg_frame *f = bank_frame(N, aum, txn, NULL, NULL);
    seg_tiers *t = load_str(PYRAMID, f);
    int32_t out[N];
    apply_ok(t, f, NULL, out);
    assert_tiers(out, want_when, N, "when");
    apply_ok(t, f, prev, out);
    assert_tiers(out, want_prev, N, "prev");
    /* all prev = -1 gives the when-tiers */
    int32_t unknown[N];
    for (size_t i = 0; i < N; i++)
        unknown[i] = SEG_TIER_NONE;
    apply_ok(t, f, unknown, out);
    assert_tiers(out, want_when, N, "prev -1");
    /* prev equal to the when-tiers changes nothing */
    apply_ok(t, f, want_when, out);
    assert_tiers(out, want_when, N, "prev = when");
    /* and the independent row function agrees */
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(pyramid_hyst(aum[i], txn[i], 0, prev[i]), want_prev[i]);
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

START_TEST(hysteresis_no_catch_all)
{
    enum { N = 8 };
    static const double aum[N] = {950, 50, 950, 50, 950, 2000, 150, NAN};
    static const int32_t txn[N] = {0};
    static const int32_t prev[N] = {0, 0, 1, 1, -1, 1, 0, 0};
    /* vip when aum >= 1000 keep aum >= 900; std when aum >= 100 (no keep)
     * 0: 950, prev vip: when-tier std (1) lower, keep holds -> 0
     * 1: 50, prev vip: keep fails, when-tier NONE -> -1
     * 2: 950, prev std: when-tier 1 = prev -> 1
     * 3: 50, prev std: std's when fails -> -1
     * 4: 950, prev unknown -> 1
     * 5: 2000, prev std: rises -> 0
     * 6: 150, prev vip: keep fails -> 1
     * 7: NaN, prev vip: keep unknown -> -1 */
    static const int32_t want[N] = {0, -1, 1, -1, 1, 0, 1, -1};
    static const int32_t want_when[N] = {1, -1, 1, -1, 1, 0, 1, -1};
    seg_frame *f = bank_frame(N, aum, txn, NULL, NULL);
    seg_tiers *t = load_str("tier vip \"VIP\" when aum >= 1000 keep aum >= 900\n"
                            "tier std \"STD\" when aum >= 100\n",
                            f);
    int32_t out[N];
    apply_ok(t, f, prev, out);
    assert_tiers(out, want, N, "no catch-all, prev");
    apply_ok(t, f, NULL, out);
    assert_tiers(out, want_when, N, "no catch-all");
    seg_tiers_free(t);

    /* A keep that is narrower than the when (unusual but allowed): a row in
     * its previous tier whose when-tier is the same tier stays there; one
     * whose when-tier is lower and whose keep fails drops.
     *   top when aum >= 1000 keep aum >= 1500 ; low otherwise
     * prev top: 950 -> when low, keep fails -> 1; 2000 -> 0 (when-tier 0) */
    static const double aum2[2] = {950, 2000};
    static const int32_t txn2[2] = {0, 0}, prev2[2] = {0, 0}, want2[2] = {1, 0};
    seg_frame *g = bank_frame(2, aum2, txn2, NULL, NULL);
    t = load_str("tier top \"T\" when aum >= 1000 keep aum >= 1500\ntier low \"L\" otherwise\n", g);
    int32_t out2[2];
    apply_ok(t, g, prev2, out2);
    assert_tiers(out2, want2, 2, "narrow keep");
    seg_tiers_free(t);
    seg_frame_free(g);
    seg_frame_free(f);
}
END_TEST

/* ---- gaps and critical ------------------------------------------------------------ */

START_TEST(gaps_pyramid)
{
    enum { N = 10 };
    static const double aum[N] = {500000, 450000, 449999, 7e6,     40000,
                                  46000,  NAN,    46000,  5999999, 500000};
    static const int32_t txn[N] = {0, 1, 1, 0, 0, 5, 5, 0, 0, 1};
    uint8_t valid[2] = {0xff, 0xff};
    clear_bit(valid, 7); /* row 7: txn missing */
    /* Tiers (checked below): 0: 5e5 is wealth exactly -> 1; 1: 450000 txn1 -> gold 2;
     * 2: 449999 -> 2; 3: 7e6 -> 0; 4: 40000 -> 3; 5: 46000 -> 3; 6: NaN -> 3;
     * 7: 46000 txn missing -> 3; 8: 5999999 -> 1; 9: 500000 txn1 -> 1. */
    static const int32_t want_tier[N] = {1, 2, 2, 0, 3, 3, 3, 3, 1, 1};
    seg_frame *f = bank_frame(N, aum, txn, valid, NULL);
    seg_tiers *t = load_str(PYRAMID, f);
    int32_t tier[N];
    apply_ok(t, f, NULL, tier);
    assert_tiers(tier, want_tier, N, "gaps pyramid tiers");
    gaps_out g;
    gaps_ok(t, f, tier, 0.10, &g);
    /* 0: wealth -> next PB (aum >= 6e6): gap 6e6 - 5e5 = 5.5e6, aum (col 0);
     *    5.5e6 > 0.1 * 6e6 -> not critical. */
    expect_gap(&g, 0, 0, 0, 5500000, 1, 0);
    /* 1: gold -> next wealth (aum >= 500000): gap 50000 <= 0.1 * 500000 -> critical. */
    expect_gap(&g, 1, 1, 0, 50000, 1, 1);
    /* 2: gap 50001 > 50000 -> not critical. */
    expect_gap(&g, 2, 1, 0, 50001, 1, 0);
    /* 3: top tier: no next, no gap. */
    expect_gap(&g, 3, -1, -1, NAN, NF_ANY, 0);
    /* 4: mass -> gold (aum >= 50000 and txn_90d >= 1): aum fails by 10000
     *    (relative 10000/50000 = 0.2), txn by 1 (relative 1/max(1,1) = 1):
     *    the larger relative gap is txn's (col 1), gap 1; 2 failing; txn's
     *    1 > 0.1 * 1 -> not critical. */
    expect_gap(&g, 4, 2, 1, 1, 2, 0);
    /* 5: txn 5 passes; aum fails by 4000 <= 0.1 * 50000 -> critical. */
    expect_gap(&g, 5, 2, 0, 4000, 1, 1);
    /* 6: aum missing: its comparison fails with no gap -> NaN, not critical. */
    expect_gap(&g, 6, 2, 0, NAN, 1, 0);
    /* 7: aum fails by 4000 (rel 0.08), txn missing: two failing; a missing
     *    value has no size, so the reported gap is NaN; not critical. */
    ck_assert_int_eq(g.nf[7], 2);
    ck_assert(isnan(g.gap[7]));
    ck_assert_int_eq(g.crit[7], 0);
    ck_assert_int_eq(g.next[7], 2);
    ck_assert_int_eq(g.col[7], 1);
    /* 8: 1 short of 6e6: gap 1 <= 6e5 -> critical. */
    expect_gap(&g, 8, 0, 0, 1, 1, 1);
    expect_gap(&g, 9, 0, 0, 5500000, 1, 0);

    /* critical 0: only a zero gap would be critical; none here. */
    gaps_ok(t, f, tier, 0.0, &g);
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(g.crit[i], 0);
    /* critical 1.0: row 0 (5.5e6 <= 6e6) becomes critical; row 4's txn gap
     * 1 <= 1 and aum 10000 <= 50000 too. Missing values never. */
    gaps_ok(t, f, tier, 1.0, &g);
    static const uint8_t crit1[N] = {1, 1, 1, 0, 1, 1, 0, 0, 1, 1};
    for (size_t i = 0; i < N; i++)
        ck_assert_msg(g.crit[i] == crit1[i], "critical 1.0, row %zu: %d", i, g.crit[i]);

    /* Tiers given by the caller: -1 (none) -> no next, no gap. */
    int32_t given[N];
    for (size_t i = 0; i < N; i++)
        given[i] = SEG_TIER_NONE;
    given[1] = 3; /* 450000 txn 1 in mass: gold passes entirely -> 0 failing */
    gaps_ok(t, f, given, 0.1, &g);
    for (size_t i = 0; i < N; i++)
        if (i != 1)
            expect_gap(&g, i, -1, -1, NAN, NF_ANY, 0);
    ck_assert_int_eq(g.next[1], 2);
    ck_assert_int_eq(g.nf[1], 0);
    ck_assert_int_eq(g.col[1], -1);
    ck_assert(isnan(g.gap[1]));

    /* All outputs may be NULL. */
    ck_assert_int_eq(seg_tiers_gaps(t, f, tier, 0.1, NULL, NULL, NULL, NULL, NULL, NULL, 0),
                     SEG_OK);
    /* Each output alone gives the same values. */
    gaps_out h;
    gaps_canary(&h);
    ck_assert_int_eq(seg_tiers_gaps(t, f, tier, 0.1, NULL, NULL, h.gap, NULL, NULL, NULL, 0),
                     SEG_OK);
    gaps_ok(t, f, tier, 0.1, &g);
    for (size_t i = 0; i < N; i++)
        ck_assert(h.gap[i] == g.gap[i] || (isnan(h.gap[i]) && isnan(g.gap[i])));
    ck_assert(h.gap[N] == CANARY_DBL);
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

START_TEST(gaps_two_failing)
{
    enum { N = 7 };
    /* top when aum >= 100000 and txn_90d >= 10; low otherwise; critical 0.1 */
    static const double aum[N] = {20000, 95000, 95000, 95000, NAN, 95000, 95000};
    static const int32_t txn[N] = {9, 2, 9, 10, 9, 0, 8};
    uint8_t valid[1] = {0xff};
    clear_bit(valid, 5);
    seg_frame *f = bank_frame(N, aum, txn, valid, NULL);
    seg_tiers *t = load_str("tier top \"T\" when aum >= 100000 and txn_90d >= 10\n"
                            "tier low \"L\" otherwise\n",
                            f);
    int32_t tier[N];
    apply_ok(t, f, NULL, tier);
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(tier[i], 1);
    gaps_out g;
    gaps_ok(t, f, tier, 0.1, &g);
    /* 0: aum 80000 (rel 0.8), txn 1 (rel 0.1): aum reported; not critical. */
    expect_gap(&g, 0, 0, 0, 80000, 2, 0);
    /* 1: aum 5000 (rel 0.05), txn 8 (rel 0.8): txn reported. */
    expect_gap(&g, 1, 0, 1, 8, 2, 0);
    /* 2: aum 5000 <= 10000, txn 1 <= 0.1*10: both within -> critical; txn
     *    has the larger relative gap (0.1 > 0.05). */
    expect_gap(&g, 2, 0, 1, 1, 2, 1);
    /* 3: only aum fails: 5000, critical. */
    expect_gap(&g, 3, 0, 0, 5000, 1, 1);
    /* 4: aum missing and txn 1 short: gap NaN (the missing one), not critical. */
    expect_gap(&g, 4, 0, 0, NAN, 2, 0);
    /* 5: txn missing, aum 5000 short: gap NaN (txn), not critical. */
    expect_gap(&g, 5, 0, 1, NAN, 2, 0);
    /* 6: aum 5000 (0.05), txn 2 (0.2 > 0.1): txn; not critical (2 > 1). */
    expect_gap(&g, 6, 0, 1, 2, 2, 0);
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

/* Operators other than >=: negative gaps, zero gaps, equality, constant 0. */
START_TEST(gaps_operators)
{
    static const struct {
        const char *when;
        double aum;
        double critical;
        double gap;
        int crit;
    } cases[] = {
        /* aum <= 100 at 130: gap 100 - 130 = -30 (must fall); 30 > 0.1*100 */
        {"aum <= 100", 130, 0.1, -30, 0},
        /* ... within 0.3 * 100 = 30 */
        {"aum <= 100", 130, 0.3, -30, 1},
        /* aum > 100 at 100: fails with gap 0; 0 <= 0 * 100 -> critical even at 0 */
        {"aum > 100", 100, 0.0, 0, 1},
        /* aum < 100 at 100: gap 0 */
        {"aum < 100", 100, 0.0, 0, 1},
        {"aum < 100", 101, 0.0, -1, 0},
        {"aum < 100", 101, 0.01, -1, 1},
        /* aum == 100: from below and above */
        {"aum == 100", 90, 0.1, 10, 1},
        {"aum == 100", 111, 0.1, -11, 0},
        /* constant 0: relative distance is judged against |0|, so only a 0
         * gap could be critical */
        {"aum >= 0", -0.5, 0.1, 0.5, 0},
        {"aum >= 0", -0.5, 100, 0.5, 0},
        /* negative constant: aum >= -1000 at -1200: gap 200 <= 0.2 * 1000 */
        {"aum >= -1000", -1200, 0.2, 200, 1},
        {"aum >= -1000", -1200, 0.19, 200, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double aum[1] = {cases[c].aum};
        int32_t txn[1] = {0}, tier[1] = {1};
        seg_frame *f = bank_frame(1, aum, txn, NULL, NULL);
        char text[256];
        snprintf(text, sizeof text, "tier a \"A\" when %s\ntier b \"B\" otherwise\n",
                 cases[c].when);
        seg_tiers *t = load_str(text, f);
        int32_t out[1];
        apply_ok(t, f, NULL, out);
        ck_assert_msg(out[0] == 1, "%s at %g: tier %d", cases[c].when, cases[c].aum, (int)out[0]);
        gaps_out g;
        gaps_ok(t, f, tier, cases[c].critical, &g);
        ck_assert_msg(g.gap[0] == cases[c].gap && g.crit[0] == cases[c].crit && g.nf[0] == 1 &&
                          g.col[0] == 0 && g.next[0] == 0,
                      "%s at %g, critical %g: gap %.17g crit %d nf %d col %d (expected gap %g "
                      "crit %d)",
                      cases[c].when, cases[c].aum, cases[c].critical, g.gap[0], g.crit[0],
                      (int)g.nf[0], (int)g.col[0], cases[c].gap, cases[c].crit);
        seg_tiers_free(t);
        seg_frame_free(f);
    }
}
END_TEST

/* A next tier whose condition is not a conjunction of column-op-constant
 * comparisons gives no gap: column -1, gap NaN, n_failing -1, not critical. */
START_TEST(gaps_not_analysable)
{
    static const char *const whens[] = {
        "aum >= 100 or txn_90d >= 5",
        "abs(aum) >= 100",
        "not (aum < 100)",
        "aum * 2 >= 200",
        "aum + 0 >= 100",
        "aum != 5",
        "channel == \"web\"",
        "aum >= 100 and (txn_90d >= 1 or aum >= 1000)",
        "aum >= 100 and channel == \"web\"",
        "coalesce(aum, 0) >= 100",
        "max(aum, txn_90d) >= 100",
        "aum >= txn_90d",
        "aum in (1, 2, 3)",
        "is_missing(aum)",
    };
    double aum[2] = {50, 5};
    int32_t txn[2] = {0, 0}, tier[2] = {1, 1};
    static const char *const ch[2] = {"shop", "shop"};
    seg_frame *f = bank_frame(2, aum, txn, NULL, ch);
    for (size_t c = 0; c < sizeof whens / sizeof *whens; c++) {
        char text[256];
        snprintf(text, sizeof text, "tier a \"A\" when %s\ntier b \"B\" otherwise\n", whens[c]);
        seg_tiers *t = load_str(text, f);
        gaps_out g;
        gaps_ok(t, f, tier, 0.5, &g);
        for (size_t i = 0; i < 2; i++) {
            ck_assert_msg(g.next[i] == 0 && g.col[i] == -1 && isnan(g.gap[i]) && g.nf[i] == -1 &&
                              g.crit[i] == 0,
                          "'%s' row %zu: next %d col %d gap %g nf %d crit %d", whens[c], i,
                          (int)g.next[i], (int)g.col[i], g.gap[i], (int)g.nf[i], g.crit[i]);
        }
        ck_assert_int_eq(g.next[2], CANARY_I32);
        seg_tiers_free(t);
    }
    seg_frame_free(f);
}
END_TEST

START_TEST(gaps_errors)
{
    uint8_t valid[2];
    seg_frame *f = pyramid_frame(valid);
    seg_tiers *t = load_str(PYRAMID, f);
    int32_t tier[PYR_N];
    apply_ok(t, f, NULL, tier);
    gaps_out g;
    char err[256];
#define GAPS(tt, ff, tr, c) \
    seg_tiers_gaps((tt), (ff), (tr), (c), g.next, g.col, g.gap, g.nf, g.crit, err, sizeof err)
    gaps_canary(&g);
    ck_assert_int_eq(GAPS(NULL, f, tier, 0.1), SEG_EINVAL);
    ck_assert_int_eq(GAPS(t, NULL, tier, 0.1), SEG_EINVAL);
    ck_assert_int_eq(GAPS(t, f, NULL, 0.1), SEG_EINVAL);
    ck_assert_int_eq(GAPS(t, f, tier, -0.1), SEG_EINVAL);
    ck_assert_int_eq(GAPS(t, f, tier, -1e-300), SEG_EINVAL);
    ck_assert_int_eq(GAPS(t, f, tier, NAN), SEG_EINVAL);
    ck_assert_int_eq(GAPS(t, f, tier, -INFINITY), SEG_EINVAL);
    gaps_check_canary(&g);
    /* tier value out of range: row 9 holds 4 (count 4), then row 2 holds -2 */
    tier[9] = 4;
    ck_assert_int_eq(GAPS(t, f, tier, 0.1), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 9), "err: %s", err);
    gaps_check_canary(&g);
    tier[9] = 3;
    tier[2] = -2;
    ck_assert_int_eq(GAPS(t, f, tier, 0.1), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 2), "err: %s", err);
    gaps_check_canary(&g);
    tier[2] = 1;
    /* missing column */
    seg_frame *h = NULL;
    ck_assert_int_eq(seg_frame_new(&h, PYR_N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(h, "txn_90d", PYR_TXN, NULL), SEG_OK);
    ck_assert_int_eq(GAPS(t, h, tier, 0.1), SEG_ENOTFOUND);
    ck_assert_msg(seg_test_has_word(err, "aum"), "err: %s", err);
    gaps_check_canary(&g);
    /* an infinite critical is allowed: every finite gap is critical */
    ck_assert_int_eq(GAPS(t, f, tier, INFINITY), SEG_OK);
#undef GAPS
    seg_frame_free(h);
    seg_tiers_free(t);
    seg_frame_free(f);
}
END_TEST

/* ---- coverage -------------------------------------------------------------------- */

static int32_t unreachable_by(const char *text, int32_t tier)
{
    seg_frame *schema = bank_schema();
    seg_tiers *t = load_str(text, schema);
    int32_t by = -99;
    ck_assert_int_eq(seg_tiers_unreachable(t, tier, &by), SEG_OK);
    seg_tiers_free(t);
    seg_frame_free(schema);
    return by;
}

START_TEST(coverage)
{
    /* A tier after an 'otherwise' is unreachable by it; the otherwise
     * itself (after a when-tier) is reachable. */
    const char *a = "tier x \"X\" when aum >= 100\ntier all \"All\" otherwise\ntier y \"Y\" when "
                    "aum >= 5\ntier z \"Z\" otherwise\n";
    ck_assert_int_eq(unreachable_by(a, 0), -1);
    ck_assert_int_eq(unreachable_by(a, 1), -1);
    ck_assert_int_eq(unreachable_by(a, 2), 1);
    ck_assert_int_eq(unreachable_by(a, 3), 1);
    /* a stricter conjunction after a looser one */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 100\n"
                                    "tier y \"Y\" when aum >= 200 and txn_90d >= 1\n",
                                    1),
                     0);
    /* aum > 100 after aum >= 100: (100, inf) inside [100, inf) */
    ck_assert_int_eq(
        unreachable_by("tier x \"X\" when aum >= 100\ntier y \"Y\" when aum > 100\n", 1), 0);
    /* aum >= 100 after aum > 100: 100 itself reaches y */
    ck_assert_int_eq(
        unreachable_by("tier x \"X\" when aum > 100\ntier y \"Y\" when aum >= 100\n", 1), -1);
    /* the same condition twice */
    ck_assert_int_eq(
        unreachable_by("tier x \"X\" when aum >= 100\ntier y \"Y\" when aum >= 100\n", 1), 0);
    /* equality inside a range */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 100 and aum <= 200\n"
                                    "tier y \"Y\" when aum == 150\n",
                                    1),
                     0);
    /* [0, 10] is not inside [1, 5] */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum between 1 and 5\n"
                                    "tier y \"Y\" when aum >= 0 and aum <= 10\n",
                                    1),
                     -1);
    /* upper bounds: aum < 10 inside aum <= 10; not the other way */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum <= 10\ntier y \"Y\" when aum < 10\n", 1),
                     0);
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum < 10\ntier y \"Y\" when aum <= 10\n", 1),
                     -1);
    /* a column the earlier tier does not constrain: y is reachable */
    ck_assert_int_eq(
        unreachable_by("tier x \"X\" when aum >= 100\ntier y \"Y\" when txn_90d >= 5\n", 1), -1);
    /* the earlier tier needs txn_90d, which y does not constrain */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 100 and txn_90d >= 1\n"
                                    "tier y \"Y\" when aum >= 200\n",
                                    1),
                     -1);
    /* the first earlier tier that covers wins; a non-covering one in between */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when txn_90d >= 5\ntier w \"W\" when aum >= 50\n"
                                    "tier y \"Y\" when aum >= 200\n",
                                    2),
                     1);
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 100\ntier w \"W\" when aum >= 50\n"
                                    "tier y \"Y\" when aum >= 200\n",
                                    2),
                     0);
    /* the pyramid has nothing unreachable */
    for (int32_t k = 0; k < 4; k++)
        ck_assert_int_eq(unreachable_by(PYRAMID, k), -1);
    /* unions are not considered: [0,5) and [5,10] together cover [1,9] */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 0 and aum < 5\n"
                                    "tier w \"W\" when aum >= 5 and aum <= 10\n"
                                    "tier y \"Y\" when aum >= 1 and aum <= 9\n",
                                    2),
                     -1);

    seg_frame *schema = bank_schema();
    seg_tiers *t = load_str(PYRAMID, schema);
    int32_t by = 77;
    ck_assert_int_eq(seg_tiers_unreachable(NULL, 0, &by), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_unreachable(t, 0, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_unreachable(t, 4, &by), SEG_ERANGE);
    ck_assert_int_eq(seg_tiers_unreachable(t, -1, &by), SEG_ERANGE);
    ck_assert_int_eq(by, 77);
    ck_assert_int_eq(seg_tiers_has_catch_all(t), 1);
    seg_tiers_free(t);
    t = load_str("tier x \"X\" when aum >= 1\n", schema);
    ck_assert_int_eq(seg_tiers_has_catch_all(t), 0);
    seg_tiers_free(t);
    seg_frame_free(schema);
}
END_TEST

/* `x between a and b` is the interval [a, b]: inside [0, 10]. */
START_TEST(coverage_between)
{
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 0 and aum <= 10\n"
                                    "tier y \"Y\" when aum between 1 and 5\n",
                                    1),
                     0);
    /* [1, 5] and txn >= 2 inside [0, 10] and txn >= 1 */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 0 and aum <= 10 and txn_90d >= 1\n"
                                    "tier y \"Y\" when aum between 1 and 5 and txn_90d >= 2\n",
                                    1),
                     0);
    /* [1, 5] is not inside [2, 10] */
    ck_assert_int_eq(unreachable_by("tier x \"X\" when aum >= 2 and aum <= 10\n"
                                    "tier y \"Y\" when aum between 1 and 5\n",
                                    1),
                     -1);
}
END_TEST

/* ---- migration --------------------------------------------------------------------- */

START_TEST(migration_known)
{
    enum { N = 12 };
    /* row:   0  1  2  3  4  5  6  7  8   9  10 11 */
    static const int32_t from[N] = {0, 0, 0, 1, 1, 1, 1, 2, 2, -1, 0, 2};
    static const int32_t to[N] = {0, 1, 2, 0, 1, 1, 2, 2, 1, 0, -1, 2};
    /* Rows 9 and 10 have a -1 label: not counted.
     * from 0: 0->0, 0->1, 0->2          -> [1 1 1]; up 0, stay 1/3, down 2/3
     * from 1: 1->0, 1->1 x2, 1->2       -> [1 2 1]; up 1/4, stay 2/4, down 1/4
     * from 2: 2->2 x2, 2->1             -> [0 1 2]; up 1/3, stay 2/3, down 0 */
    static const int64_t want_m[9] = {1, 1, 1, 1, 2, 1, 0, 1, 2};
    const double up[3] = {0, 0.25, 1.0 / 3}, stay[3] = {1.0 / 3, 0.5, 2.0 / 3},
                 down[3] = {2.0 / 3, 0.25, 0};
    int64_t m[9];
    double u[3], s[3], d[3];
    char err[128];
    ck_assert_int_eq(seg_tiers_migration(from, to, N, 3, m, u, s, d, err, sizeof err), SEG_OK);
    for (size_t i = 0; i < 9; i++)
        ck_assert_msg(m[i] == want_m[i], "matrix[%zu] = %lld", i, (long long)m[i]);
    for (size_t k = 0; k < 3; k++) {
        ck_assert_double_eq_tol(u[k], up[k], 1e-15);
        ck_assert_double_eq_tol(s[k], stay[k], 1e-15);
        ck_assert_double_eq_tol(d[k], down[k], 1e-15);
    }
    /* Four tiers: tier 3 has no rows -> NaN rates, zero counts. */
    int64_t m4[16];
    double u4[4], s4[4], d4[4];
    ck_assert_int_eq(seg_tiers_migration(from, to, N, 4, m4, u4, s4, d4, NULL, 0), SEG_OK);
    static const int64_t want_m4[16] = {1, 1, 1, 0, 1, 2, 1, 0, 0, 1, 2, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < 16; i++)
        ck_assert_msg(m4[i] == want_m4[i], "matrix4[%zu] = %lld", i, (long long)m4[i]);
    ck_assert(isnan(u4[3]) && isnan(s4[3]) && isnan(d4[3]));
    ck_assert_double_eq_tol(s4[1], 0.5, 1e-15);
    /* NULL outputs are allowed; each alone gives the same */
    ck_assert_int_eq(seg_tiers_migration(from, to, N, 3, NULL, NULL, NULL, NULL, NULL, 0), SEG_OK);
    double s_only[3];
    ck_assert_int_eq(seg_tiers_migration(from, to, N, 3, NULL, NULL, s_only, NULL, NULL, 0),
                     SEG_OK);
    for (size_t k = 0; k < 3; k++)
        ck_assert_double_eq_tol(s_only[k], stay[k], 1e-15);
    /* n = 0 with NULL labels: all rates NaN, matrix zero */
    ck_assert_int_eq(seg_tiers_migration(NULL, NULL, 0, 3, m, u, s, d, NULL, 0), SEG_OK);
    for (size_t i = 0; i < 9; i++)
        ck_assert_int_eq(m[i], 0);
    ck_assert(isnan(u[0]) && isnan(s[1]) && isnan(d[2]));
    /* one tier */
    static const int32_t z[3] = {0, 0, -1};
    ck_assert_int_eq(seg_tiers_migration(z, z, 3, 1, m, u, s, d, NULL, 0), SEG_OK);
    ck_assert_int_eq(m[0], 2);
    ck_assert(u[0] == 0 && s[0] == 1 && d[0] == 0);
}
END_TEST

START_TEST(migration_errors)
{
    enum { N = 6 };
    int32_t from[N] = {0, 1, 2, 0, 1, 2}, to[N] = {0, 0, 0, 1, 1, 1};
    int64_t m[16];
    double u[4], s[4], d[4];
    char err[128];
#define MIG(nt) seg_tiers_migration(from, to, N, (nt), m, u, s, d, err, sizeof err)
#define RESET()                                                                                \
    do {                                                                                       \
        for (size_t i_ = 0; i_ < 16; i_++)                                                     \
            m[i_] = CANARY_I32;                                                                \
        for (size_t i_ = 0; i_ < 4; i_++)                                                      \
            u[i_] = s[i_] = d[i_] = CANARY_DBL;                                                \
    } while (0)
#define CHECK()                                                                                \
    do {                                                                                       \
        for (size_t i_ = 0; i_ < 16; i_++)                                                     \
            ck_assert(m[i_] == CANARY_I32);                                                    \
        for (size_t i_ = 0; i_ < 4; i_++)                                                      \
            ck_assert(u[i_] == CANARY_DBL && s[i_] == CANARY_DBL && d[i_] == CANARY_DBL);      \
    } while (0)
    RESET();
    ck_assert_int_eq(MIG(0), SEG_ERANGE);
    ck_assert_int_eq(MIG(-1), SEG_ERANGE);
    ck_assert_int_eq(MIG(1025), SEG_ERANGE);
    CHECK();
    /* labels 2 with n_tiers 2: from[2] is the first bad one */
    ck_assert_int_eq(MIG(2), SEG_EDATA);
    ck_assert_msg(seg_test_has_word(err, "from") && seg_test_names_row(err, 2), "err: %s", err);
    CHECK();
    /* a bad 'to' label: to[4] = 7 */
    to[4] = 7;
    ck_assert_int_eq(MIG(3), SEG_EDATA);
    ck_assert_msg(seg_test_has_word(err, "to") && seg_test_names_row(err, 4), "err: %s", err);
    CHECK();
    to[4] = -2;
    ck_assert_int_eq(MIG(3), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 4), "err: %s", err);
    CHECK();
    to[4] = 1;
    ck_assert_int_eq(seg_tiers_migration(NULL, to, N, 3, m, u, s, d, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tiers_migration(from, NULL, N, 3, m, u, s, d, err, sizeof err),
                     SEG_EINVAL);
    CHECK();
    ck_assert_int_eq(MIG(3), SEG_OK);
    /* 1024 tiers is allowed */
    int64_t *big = malloc(sizeof *big * 1024 * 1024);
    ck_assert_ptr_nonnull(big);
    from[0] = 1023;
    to[0] = 1000;
    ck_assert_int_eq(seg_tiers_migration(from, to, N, 1024, big, NULL, NULL, NULL, NULL, 0),
                     SEG_OK);
    ck_assert_int_eq(big[1023 * 1024 + 1000], 1);
    int64_t total = 0;
    for (size_t i = 0; i < 1024 * 1024; i++)
        total += big[i];
    ck_assert_int_eq(total, N);
    free(big);
#undef MIG
#undef RESET
#undef CHECK
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

enum { TH_N = 8, TH_ROWS = 40003, TH_ITER = 4 };

typedef struct th_job {
    const seg_tiers *t;
    const double *aum;
    const int32_t *txn, *prev;
    size_t begin, end;
    int32_t *out, *out_prev, *next, *col, *nf;
    double *gap;
    uint8_t *crit;
    int rc;
} th_job;

static void *th_run(void *arg)
{
    th_job *j = arg;
    size_t n = j->end - j->begin;
    seg_frame *f = NULL;
    j->rc = -100;
    if (seg_frame_new(&f, n, NULL) != SEG_OK ||
        seg_frame_add_double(f, "aum", j->aum + j->begin, NULL) != SEG_OK ||
        seg_frame_add_int32(f, "txn_90d", j->txn + j->begin, NULL) != SEG_OK) {
        seg_frame_free(f);
        return NULL;
    }
    for (int it = 0; it < TH_ITER; it++) {
        char err[128];
        int32_t rc = seg_tiers_apply(j->t, f, NULL, j->out + j->begin, err, sizeof err);
        if (rc == SEG_OK)
            rc = seg_tiers_apply(j->t, f, j->prev + j->begin, j->out_prev + j->begin, err,
                                 sizeof err);
        if (rc == SEG_OK)
            rc = seg_tiers_gaps(j->t, f, j->out_prev + j->begin, 0.1, j->next + j->begin,
                                j->col + j->begin, j->gap + j->begin, j->nf + j->begin,
                                j->crit + j->begin, err, sizeof err);
        if (rc != SEG_OK) {
            j->rc = rc;
            seg_frame_free(f);
            return NULL;
        }
    }
    j->rc = SEG_OK;
    seg_frame_free(f);
    return NULL;
}

START_TEST(threads_same_result)
{
    static double aum[TH_ROWS], gap1[TH_ROWS], gap8[TH_ROWS];
    static int32_t txn[TH_ROWS], prev[TH_ROWS];
    static int32_t out1[TH_ROWS], outp1[TH_ROWS], next1[TH_ROWS], col1[TH_ROWS], nf1[TH_ROWS];
    static int32_t out8[TH_ROWS], outp8[TH_ROWS], next8[TH_ROWS], col8[TH_ROWS], nf8[TH_ROWS];
    static uint8_t crit1[TH_ROWS], crit8[TH_ROWS];
    uint64_t s = 99;
    for (size_t i = 0; i < TH_ROWS; i++) {
        aum[i] = rnd_aum(&s);
        txn[i] = (int32_t)(rng_next(&s) % 3);
        prev[i] = (int32_t)(rng_next(&s) % 5) - 1;
    }
    seg_frame *schema = bank_schema();
    seg_tiers *t = load_str(PYRAMID, schema);
    seg_frame_free(schema);
    /* single-threaded, whole frame */
    th_job one = {t, aum, txn, prev, 0, TH_ROWS, out1, outp1, next1, col1, nf1, gap1, crit1, 0};
    th_run(&one);
    ck_assert_int_eq(one.rc, SEG_OK);
    for (size_t i = 0; i < TH_ROWS; i++) {
        ck_assert_int_eq(out1[i], pyramid_when(aum[i], txn[i], 0));
        ck_assert_int_eq(outp1[i], pyramid_hyst(aum[i], txn[i], 0, prev[i]));
    }
    /* eight threads, one slice each (slice borders not on 1024 rows) */
    pthread_t th[TH_N];
    th_job jobs[TH_N];
    for (size_t k = 0; k < TH_N; k++) {
        jobs[k] = one;
        jobs[k].begin = k * TH_ROWS / TH_N;
        jobs[k].end = (k + 1) * TH_ROWS / TH_N;
        jobs[k].out = out8;
        jobs[k].out_prev = outp8;
        jobs[k].next = next8;
        jobs[k].col = col8;
        jobs[k].nf = nf8;
        jobs[k].gap = gap8;
        jobs[k].crit = crit8;
        ck_assert_int_eq(pthread_create(&th[k], NULL, th_run, &jobs[k]), 0);
    }
    for (size_t k = 0; k < TH_N; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        ck_assert_int_eq(jobs[k].rc, SEG_OK);
    }
    for (size_t i = 0; i < TH_ROWS; i++) {
        ck_assert_int_eq(out8[i], out1[i]);
        ck_assert_int_eq(outp8[i], outp1[i]);
        ck_assert_int_eq(next8[i], next1[i]);
        ck_assert_int_eq(col8[i], col1[i]);
        ck_assert_int_eq(nf8[i], nf1[i]);
        ck_assert_int_eq(crit8[i], crit1[i]);
        ck_assert(gap8[i] == gap1[i] || (isnan(gap8[i]) && isnan(gap1[i])));
    }
    seg_tiers_free(t);
}
END_TEST

/* ---- custom RFM segments as rule text ------------------------------------------------- */

static const char RFM10_TEXT[] =
    "libsegment-tiers 1\n"
    "# SEG_SCHEME_RFM10 written as rules over scores 1..5 (a box is lo <= score <= hi;\n"
    "# a bound of 1 or 5 needs no comparison)\n"
    "tier champions \"Champions\" when r_score == 5 and f_score == 5 and m_score == 5\n"
    "tier potential_loyalist \"Potential Loyalist\" when r_score >= 3 and f_score >= 3 and "
    "m_score >= 2\n"
    "tier loyal_customers \"Loyal Customers\" when r_score between 2 and 4 and f_score between 2 "
    "and 4 and m_score between 2 and 4\n"
    "tier promising \"Promising\" when r_score between 3 and 4 and f_score <= 3 and m_score >= 3\n"
    "tier new_customers \"New Customers\" when r_score >= 4 and f_score <= 3\n"
    "tier cant_lose_them \"Can't Lose Them\" when r_score <= 2 and f_score between 3 and 4 and "
    "m_score >= 4\n"
    "tier at_risk \"At Risk\" when r_score <= 2 and f_score >= 2 and m_score >= 4\n"
    "tier need_attention \"Need Attention\" when r_score <= 3 and f_score >= 3 and m_score >= 3\n"
    "tier about_to_sleep \"About To Sleep\" when r_score between 2 and 3 and f_score <= 3 and "
    "m_score <= 4\n"
    "tier lost \"Lost\" when r_score == 1\n"
    "tier others \"Others\" otherwise\n";

START_TEST(rfm10_as_rules)
{
    /* The boxes the text encodes (r_lo, r_hi, f_lo, f_hi, m_lo, m_hi). */
    static const int32_t boxes[10][6] = {
        {5, 5, 5, 5, 5, 5}, {3, 5, 3, 5, 2, 5}, {2, 4, 2, 4, 2, 4}, {3, 4, 1, 3, 3, 5},
        {4, 5, 1, 3, 1, 5}, {1, 2, 3, 4, 4, 5}, {1, 2, 2, 5, 4, 5}, {1, 3, 3, 5, 3, 5},
        {2, 3, 1, 3, 1, 4}, {1, 1, 1, 5, 1, 5},
    };
    seg_rfm_scheme *sc = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new_builtin(&sc, SEG_SCHEME_RFM10, NULL), SEG_OK);
    ck_assert_uint_eq(seg_rfm_scheme_count(sc), 11);
    for (int32_t k = 0; k < 10; k++) {
        int32_t b[6];
        ck_assert_int_eq(seg_rfm_scheme_box(sc, k, b), SEG_OK);
        for (int j = 0; j < 6; j++)
            ck_assert_msg(b[j] == boxes[k][j], "built-in box %d bound %d: %d", (int)k, j,
                          (int)b[j]);
    }
    int32_t r[125], f[125], m[125], seg[125], tier[125];
    for (int i = 0; i < 125; i++) {
        r[i] = 1 + i / 25;
        f[i] = 1 + (i / 5) % 5;
        m[i] = 1 + i % 5;
    }
    seg_frame *fr = NULL;
    ck_assert_int_eq(seg_frame_new(&fr, 125, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fr, "r_score", r, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fr, "f_score", f, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fr, "m_score", m, NULL), SEG_OK);
    seg_tiers *t = load_str(RFM10_TEXT, fr);
    ck_assert_uint_eq(seg_tiers_count(t), 11);
    apply_ok(t, fr, NULL, tier);
    ck_assert_int_eq(seg_rfm_scheme_apply(sc, r, f, m, 125, seg, NULL, 0), SEG_OK);
    int used[11] = {0};
    for (int i = 0; i < 125; i++) {
        ck_assert_msg(tier[i] == seg[i], "R%d F%d M%d: rules %d (%s), scheme %d (%s)", (int)r[i],
                      (int)f[i], (int)m[i], (int)tier[i], seg_tiers_name(t, tier[i]), (int)seg[i],
                      seg_rfm_scheme_name(sc, seg[i]));
        /* and by the boxes, first match */
        int32_t want = 10;
        for (int k = 0; k < 10 && want == 10; k++)
            if (r[i] >= boxes[k][0] && r[i] <= boxes[k][1] && f[i] >= boxes[k][2] &&
                f[i] <= boxes[k][3] && m[i] >= boxes[k][4] && m[i] <= boxes[k][5])
                want = k;
        ck_assert_int_eq(tier[i], want);
        used[tier[i]]++;
    }
    /* Hand counts: champions is the one cell 555. Lost gets every R1 cell
     * the earlier boxes leave: R1 cells are 25; can't lose them takes
     * F3-4 M4-5 (4), at risk F2,5 M4-5 (4), need attention F3-5 M3 (3)
     * plus F5 M3..: F3-5 x M3 = 3 -> 25 - 4 - 4 - 3 = 14. */
    ck_assert_int_eq(used[0], 1);
    ck_assert_int_eq(used[9], 14);
    seg_tiers_free(t);
    seg_frame_free(fr);
    seg_rfm_scheme_free(sc);
}
END_TEST

static Suite *tiers_suite(void)
{
    Suite *s = suite_create("tiers");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, load_pyramid_variants);
    tcase_add_test(tc, save_load_roundtrip);
    tcase_add_test(tc, build_equals_text);
    tcase_add_test(tc, build_errors);
    tcase_add_test(tc, save_buffer);
    tcase_add_test(tc, load_len_bounds);
    tcase_add_test(tc, load_null_and_messages);
    tcase_add_loop_test(tc, syntax_errors, 0, (int)(sizeof BAD / sizeof *BAD));
    tcase_add_test(tc, load_out_of_memory);
    suite_add_tcase(s, tc);

    tc = tcase_create("apply");
    tcase_add_test(tc, apply_first_match_and_none);
    tcase_add_test(tc, apply_missing_values);
    tcase_add_test(tc, apply_many_blocks);
    tcase_add_test(tc, apply_errors);
    tcase_add_test(tc, hysteresis_pyramid);
    tcase_add_test(tc, hysteresis_no_catch_all);
    suite_add_tcase(s, tc);

    tc = tcase_create("gaps");
    tcase_add_test(tc, gaps_pyramid);
    tcase_add_test(tc, gaps_two_failing);
    tcase_add_test(tc, gaps_operators);
    tcase_add_test(tc, gaps_not_analysable);
    tcase_add_test(tc, gaps_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("coverage");
    tcase_add_test(tc, coverage);
    tcase_add_test(tc, coverage_between);
    tcase_add_test(tc, migration_known);
    tcase_add_test(tc, migration_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("more");
    tcase_add_test(tc, threads_same_result);
    tcase_add_test(tc, rfm10_as_rules);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(tiers_suite());
}
