/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests of the tag registry (include/segment/tags.h): name
 * normalisation, adding, aliases, renaming and removing tags, attributes
 * and their defaults, categories and listing, suggestions, freezing (rule
 * cycles, rule syntax), the text format (canonical saving, round trips,
 * every syntax error with its position) and failing allocations. Every
 * expected value is worked out by hand in the comment next to it from the
 * contract in tags.h and the grammar in helper notes / doc/tags.md;
 * normalisation and suggestions are also cross-checked on random input
 * against small independent implementations written here.
 *
 * Columns in "tags:L:C:" prefixes are 1-based byte columns; the comment
 * next to each case spells out the count.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

/* ---- helpers --------------------------------------------------------------- */

/* `text` (first `len` bytes) with line ends shown as \n / \r, for one-line
 * failure messages (TAP takes one line per result). Not thread-safe. */
static const char *oneline(const char *text, size_t len)
{
    static char bufs[2][4096];
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

#define ASSERT_TEXT_EQ(a, b)                                                                   \
    do {                                                                                       \
        const char *a_ = (a), *b_ = (b);                                                       \
        ck_assert_msg(strcmp(a_, b_) == 0, "texts differ: \"%s\" vs \"%s\"", ONELINE(a_),      \
                      ONELINE(b_));                                                            \
    } while (0)

/* Asserts that `msg` contains `word` (ASCII case-insensitive). */
#define ASSERT_HAS(msg, word)                                                                  \
    do {                                                                                       \
        const char *m_ = (msg);                                                                \
        ck_assert_msg(m_ != NULL && seg_test_has_word(m_, (word)),                             \
                      "message \"%s\" lacks \"%s\"", m_ ? m_ : "(null)", (word));              \
    } while (0)

#define LAST(r) seg_tagreg_last_error(r)

static seg_tagreg *new_reg(void)
{
    seg_tagreg *r = NULL;
    ck_assert_int_eq(seg_tagreg_new(&r, NULL), SEG_OK);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* Adds a tag and returns its id. */
static int32_t add_ok(seg_tagreg *r, int32_t id, const char *name)
{
    int32_t got = CANARY_I32;
    int32_t rc = seg_tagreg_add(r, id, name, &got);
    ck_assert_msg(rc == SEG_OK, "add %d '%s': rc %d (%s)", (int)id, name, (int)rc, LAST(r));
    ck_assert_str_eq(LAST(r), "");
    if (id != 0)
        ck_assert_int_eq(got, id);
    return got;
}

static void alias_ok(seg_tagreg *r, int32_t id, const char *alias)
{
    int32_t rc = seg_tagreg_add_alias(r, id, alias);
    ck_assert_msg(rc == SEG_OK, "alias %d '%s': rc %d (%s)", (int)id, alias, (int)rc, LAST(r));
}

static void text_ok(seg_tagreg *r, int32_t id, int32_t field, const char *value)
{
    int32_t rc = seg_tagreg_set_text(r, id, field, value);
    ck_assert_msg(rc == SEG_OK, "set_text %d field %d '%s': rc %d (%s)", (int)id, (int)field,
                  value ? value : "(null)", (int)rc, LAST(r));
    ck_assert_str_eq(LAST(r), "");
}

static void code_ok(seg_tagreg *r, int32_t id, int32_t field, int32_t value)
{
    int32_t rc = seg_tagreg_set_code(r, id, field, value);
    ck_assert_msg(rc == SEG_OK, "set_code %d field %d %d: rc %d (%s)", (int)id, (int)field,
                  (int)value, (int)rc, LAST(r));
}

static int32_t code_of(const seg_tagreg *r, int32_t id, int32_t field)
{
    int32_t v = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_code(r, id, field, &v), SEG_OK);
    return v;
}

static int32_t find_id(const seg_tagreg *r, const char *name)
{
    int32_t id = CANARY_I32;
    int32_t rc = seg_tagreg_find(r, name, &id);
    ck_assert_msg(rc == SEG_OK, "find '%s': rc %d", name, (int)rc);
    return id;
}

static void assert_not_found(const seg_tagreg *r, const char *name)
{
    int32_t id = CANARY_I32;
    ck_assert_msg(seg_tagreg_find(r, name, &id) == SEG_ENOTFOUND, "'%s' was found", name);
    ck_assert_int_eq(id, CANARY_I32);
}

static seg_tagreg *load_ok(const char *text, size_t len)
{
    seg_tagreg *r = NULL;
    char err[512] = "";
    int32_t rc = seg_tagreg_load(&r, text, len, "t.txt", NULL, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load failed: %d %s; text: %s", (int)rc, err, oneline(text, len));
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 1);
    return r;
}

static seg_tagreg *load_str(const char *text)
{
    return load_ok(text, strlen(text));
}

/* Saved text, malloc'd. */
static char *save_str(const seg_tagreg *r)
{
    size_t need = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_save(r, NULL, 0, &need), SEG_OK);
    ck_assert_uint_ne(need, CANARY_SIZE);
    char *buf = malloc(need + 1);
    ck_assert_ptr_nonnull(buf);
    size_t len = 0;
    ck_assert_int_eq(seg_tagreg_save(r, buf, need + 1, &len), SEG_OK);
    ck_assert_uint_eq(len, need);
    ck_assert_uint_eq(strlen(buf), len);
    return buf;
}

static void assert_ids(const int32_t *got, size_t n, const int32_t *want, size_t wn,
                       const char *what)
{
    char g[256] = "", w[256] = "";
    for (size_t i = 0; i < n && strlen(g) < 200; i++)
        snprintf(g + strlen(g), sizeof g - strlen(g), "%d ", (int)got[i]);
    for (size_t i = 0; i < wn && strlen(w) < 200; i++)
        snprintf(w + strlen(w), sizeof w - strlen(w), "%d ", (int)want[i]);
    ck_assert_msg(n == wn, "%s: %zu ids [%s], expected %zu [%s]", what, n, g, wn, w);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: ids [%s], expected [%s]", what, g, w);
}

/* seg_tagreg_list into a canaried array; checks the ids. */
static void assert_list(const seg_tagreg *r, const char *prefix, const int32_t *want, size_t wn)
{
    int32_t ids[32];
    for (size_t i = 0; i < 32; i++)
        ids[i] = CANARY_I32;
    size_t n = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_list(r, prefix, ids, 32, &n), SEG_OK);
    char what[300];
    snprintf(what, sizeof what, "list '%s'", prefix);
    assert_ids(ids, n, want, wn, what);
    for (size_t i = n; i < 32; i++)
        ck_assert_int_eq(ids[i], CANARY_I32);
    /* counting only */
    size_t m = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_list(r, prefix, NULL, 0, &m), SEG_OK);
    ck_assert_uint_eq(m, wn);
}

static void assert_suggest(const seg_tagreg *r, const char *name, const int32_t *want, size_t wn)
{
    int32_t ids[32];
    for (size_t i = 0; i < 32; i++)
        ids[i] = CANARY_I32;
    size_t n = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_suggest(r, name, ids, 32, &n), SEG_OK);
    char what[300];
    snprintf(what, sizeof what, "suggest '%s'", name);
    assert_ids(ids, n, want, wn, what);
    for (size_t i = n; i < 32; i++)
        ck_assert_int_eq(ids[i], CANARY_I32);
}

#define N_OF(a) (sizeof(a) / sizeof *(a))
#define IDS(...) ((const int32_t[]){__VA_ARGS__}), N_OF(((const int32_t[]){__VA_ARGS__}))

/* ---- normalisation ------------------------------------------------------------ */

typedef struct norm_case {
    const char *in;
    const char *want;
} norm_case;

static const norm_case NORM[] = {
    /* The three spellings of one name from tags.h. */
    {"ＶＩＰ", "vip"}, /* U+FF36 U+FF29 U+FF30 -> VIP -> vip */
    {" Vip ", "vip"},
    {"VIP", "vip"},
    {"vip", "vip"},
    /* U+3000 (ideographic space) and U+00A0 (no-break space) are spaces:
     * trimmed at the ends, collapsed inside. */
    {"\u3000VIP\u3000", "vip"},
    {"\u00a0vip\u00a0", "vip"},
    {"VIP\u3000客户", "vip 客户"},
    {"VIP \u00a0\u3000  客户", "vip 客户"},
    {"  a    b  c  ", "a b c"},
    {"高\u3000频", "高 频"},
    {"高 频", "高 频"},
    /* Full-width punctuation and digits, U+FF01..U+FF5E, fold to ASCII
     * (then letters are lower-cased). */
    {"！＂＃（ＶＩＰ）～", "!\"#(vip)~"}, /* FF01 FF02 FF03 FF08 .. FF09 FF5E */
    {"１２３ＡＢＣａｂｃ", "123abcabc"},
    {"Ｖｉｐ＿Ｇｏｌｄ", "vip_gold"},   /* FF3F is '_' */
    {"ＶＩＰ会员！", "vip会员!"},
    /* Just outside the range: U+FF5F, U+FF60 and U+FF00 stay as they are. */
    {"｟x｠", "｟x｠"},
    {"\uff00", "\uff00"},
    /* Chinese is compared byte for byte. */
    {"首购客户", "首购客户"},
    {"客户首单", "客户首单"},
    {"客户已下单", "客户已下单"},
    /* No Unicode case folding: only ASCII letters are lower-cased. */
    {"ÉCOLE", "École"},
    {"ΩMEGA", "Ωmega"},
    /* Other spaces (U+2003 em space) are ordinary characters. */
    {"a\u2003b", "a\u2003b"},
    /* An ASCII name that needs nothing. */
    {"first purchase", "first purchase"},
};

START_TEST(normalize_known)
{
    const norm_case *c = &NORM[_i];
    size_t want_len = strlen(c->want);
    /* size query */
    size_t len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize(c->in, NULL, 0, &len), SEG_OK);
    ck_assert_msg(len == want_len, "case %d '%s': length %zu, expected %zu", _i, c->in, len,
                  want_len);
    /* exact fit */
    char buf[300];
    memset(buf, 'x', sizeof buf);
    len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize(c->in, buf, want_len + 1, &len), SEG_OK);
    ck_assert_uint_eq(len, want_len);
    ck_assert_msg(strcmp(buf, c->want) == 0, "case %d '%s': got '%s', expected '%s'", _i, c->in,
                  buf, c->want);
    ck_assert_int_eq(buf[want_len + 1], 'x');
    /* idempotent */
    char again[300];
    ck_assert_int_eq(seg_tag_normalize(buf, again, sizeof again, &len), SEG_OK);
    ck_assert_str_eq(again, c->want);
}
END_TEST

START_TEST(normalize_errors)
{
    static const char *const bad[] = {
        "",                          /* empty */
        "   ",                       /* empty after trimming */
        "\u3000",                    /* ideographic space alone */
        "\u00a0",                    /* no-break space alone */
        " \u3000\u00a0 \u3000",      /* mixed spaces */
        "\xff",                      /* never valid in UTF-8 */
        "ab" "\xc0\xaf" "cd",        /* overlong '/' */
        "ab" "\xe0\x80\xaf",         /* overlong 3-byte */
        "\xe4\xb8",                  /* truncated 中 */
        "x" "\xe4\xb8" "x",          /* truncated in the middle */
        "\xed\xa0\x80",              /* UTF-16 surrogate */
        "\xf4\x90\x80\x80",          /* above U+10FFFF */
        "\x80" "abc",                /* lone continuation byte */
        "\xf8\x88\x80\x80\x80",      /* 5-byte form */
        "a\x01" "b",                 /* control characters */
        "a\nb",
        "a\rb",
        "vip\x7f",                   /* DEL */
        "\x1b[0m",
    };
    for (size_t k = 0; k < N_OF(bad); k++) {
        char buf[64];
        memset(buf, 'x', sizeof buf);
        size_t len = CANARY_SIZE;
        ck_assert_msg(seg_tag_normalize(bad[k], buf, sizeof buf, &len) == SEG_EINVAL,
                      "case %zu accepted", k);
        ck_assert_uint_eq(len, CANARY_SIZE);
        for (size_t i = 0; i < sizeof buf; i++)
            ck_assert_int_eq(buf[i], 'x');
        ck_assert_int_eq(seg_tag_normalize(bad[k], NULL, 0, &len), SEG_EINVAL);
        ck_assert_uint_eq(len, CANARY_SIZE);
    }
    /* Length: 255 bytes is the most. */
    char name[400];
    memset(name, 'A', 255);
    name[255] = '\0';
    char buf[400];
    size_t len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize(name, buf, sizeof buf, &len), SEG_OK);
    ck_assert_uint_eq(len, 255);
    ck_assert_int_eq(buf[0], 'a');
    ck_assert_int_eq(buf[254], 'a');
    name[255] = 'A';
    name[256] = '\0';
    len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize(name, buf, sizeof buf, &len), SEG_EINVAL);
    ck_assert_uint_eq(len, CANARY_SIZE);
    /* 85 x 首 (3 bytes each) = 255 bytes; 86 = 258. */
    name[0] = '\0';
    for (int i = 0; i < 85; i++)
        strcat(name, "首");
    ck_assert_uint_eq(strlen(name), 255);
    ck_assert_int_eq(seg_tag_normalize(name, buf, sizeof buf, &len), SEG_OK);
    ck_assert_uint_eq(len, 255);
    strcat(name, "首");
    len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize(name, buf, sizeof buf, &len), SEG_EINVAL);
    ck_assert_uint_eq(len, CANARY_SIZE);

    /* NULL arguments */
    len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize(NULL, buf, sizeof buf, &len), SEG_EINVAL);
    ck_assert_uint_eq(len, CANARY_SIZE);
    ck_assert_int_eq(seg_tag_normalize("vip", buf, sizeof buf, NULL), SEG_EINVAL);

    /* Buffer too small: "ＶＩＰ" needs 3 bytes + NUL. buf untouched, the
     * need reported. */
    memset(buf, 'x', sizeof buf);
    len = CANARY_SIZE;
    ck_assert_int_eq(seg_tag_normalize("ＶＩＰ", buf, 3, &len), SEG_EBUFSZ);
    ck_assert_uint_eq(len, 3);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'x');
    ck_assert_int_eq(seg_tag_normalize("ＶＩＰ", buf, 0, &len), SEG_EBUFSZ);
    ck_assert_int_eq(seg_tag_normalize("ＶＩＰ", buf, 1, &len), SEG_EBUFSZ);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 'x');
    ck_assert_int_eq(seg_tag_normalize("ＶＩＰ", buf, 4, &len), SEG_OK);
    ck_assert_str_eq(buf, "vip");
    ck_assert_int_eq(buf[4], 'x');
}
END_TEST

/* Independent normaliser for strings made of the pieces below (valid UTF-8,
 * no control characters): decode, fold, lower-case, trim, collapse. */
static size_t ref_normalize(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    int pending_space = 0;
    while (*s) {
        uint32_t cp;
        size_t n;
        if (s[0] < 0x80) {
            cp = s[0];
            n = 1;
        } else if (s[0] < 0xe0) {
            cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
            n = 2;
        } else if (s[0] < 0xf0) {
            cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
            n = 3;
        } else {
            cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
                 ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
            n = 4;
        }
        if (cp >= 0xff01 && cp <= 0xff5e)
            cp -= 0xfee0;
        if (cp == 0x3000 || cp == 0xa0)
            cp = ' ';
        if (cp == ' ' || cp == '\t') {
            pending_space = o > 0;
            s += n;
            continue;
        }
        if (pending_space) {
            out[o++] = ' ';
            pending_space = 0;
        }
        if (cp < 0x80) {
            out[o++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        } else {
            memcpy(out + o, s, n);
            o += n;
        }
        s += n;
    }
    out[o] = '\0';
    return o;
}

static const char *const PIECES[] = {
    "a", "B", "z", "Q", "0", "9", "_", "-", " ", "  ", "\u3000", "\u00a0", "Ａ", "ｚ", "！", "～",
    "０", "｟", "首", "购", "é", "É", "\u2003", "\uff00", "Ω", "\xf0\x9f\x98\x80",
};

/* Tiny deterministic generator (xorshift) so failures reproduce. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

START_TEST(normalize_random_oracle)
{
    uint32_t seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        char in[128] = "", want[128], got[128];
        int pieces = (int)(rng_next(&seed) % 9);
        for (int p = 0; p < pieces; p++)
            strcat(in, PIECES[rng_next(&seed) % N_OF(PIECES)]);
        size_t wl = ref_normalize(in, want);
        size_t len = CANARY_SIZE;
        int32_t rc = seg_tag_normalize(in, got, sizeof got, &len);
        if (wl == 0) {
            ck_assert_msg(rc == SEG_EINVAL, "'%s' is empty after normalisation but gave %d", in,
                          (int)rc);
            ck_assert_uint_eq(len, CANARY_SIZE);
        } else {
            ck_assert_msg(rc == SEG_OK, "'%s': rc %d", in, (int)rc);
            ck_assert_msg(len == wl && strcmp(got, want) == 0, "'%s': got '%s', expected '%s'",
                          in, got, want);
        }
    }
}
END_TEST

/* ---- adding and finding ------------------------------------------------------- */

START_TEST(new_and_null_arguments)
{
    seg_tagreg *r = (seg_tagreg *)&r, *sentinel = r;
    ck_assert_int_eq(seg_tagreg_new(NULL, NULL), SEG_EINVAL);
    /* an allocator struct larger than this library knows, with a non-zero tail */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t extra;
    } big = {ta.base, 1};
    big.a.struct_size = (uint32_t)sizeof big;
    ck_assert_int_eq(seg_tagreg_new(&r, &big.a), SEG_EVERSION);
    ck_assert_ptr_eq(r, sentinel);
    ck_assert_uint_eq(ta.live, 0);
    /* the same struct with a zero tail is fine */
    big.extra = 0;
    ck_assert_int_eq(seg_tagreg_new(&r, &big.a), SEG_OK);
    ck_assert_uint_gt(ta.live, 0);
    seg_tagreg_free(r);
    ck_assert_uint_eq(ta.live, 0);

    r = new_reg();
    ck_assert_uint_eq(seg_tagreg_count(r), 0);
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 0);
    ck_assert_str_eq(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_id_at(r, 0), 0);

    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_add(NULL, 0, "a", &id), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_add(r, 0, NULL, &id), SEG_EINVAL);
    ck_assert_int_eq(id, CANARY_I32);
    ck_assert_int_eq(seg_tagreg_add_alias(NULL, 1, "a"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_rename(NULL, 1, "a"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_remove(NULL, 1), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_text(NULL, 1, SEG_TAG_OWNER, "a"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(NULL, 1, SEG_TAG_STATUS, SEG_TAG_DRAFT), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_freeze(NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_find(NULL, "a", &id), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_find(r, NULL, &id), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_find(r, "a", NULL), SEG_EINVAL);
    ck_assert_int_eq(id, CANARY_I32);
    size_t n = CANARY_SIZE;
    int32_t ids[4] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
    ck_assert_int_eq(seg_tagreg_suggest(NULL, "a", ids, 4, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_suggest(r, NULL, ids, 4, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_suggest(r, "a", ids, 4, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_suggest(r, "a", NULL, 4, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_list(NULL, "", ids, 4, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_list(r, NULL, ids, 4, &n), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_list(r, "", ids, 4, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_list(r, "", NULL, 4, &n), SEG_EINVAL);
    ck_assert_uint_eq(n, CANARY_SIZE);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ids[i], CANARY_I32);
    ck_assert_int_eq(seg_tagreg_code(NULL, 1, SEG_TAG_KIND, &id), SEG_EINVAL);
    size_t len = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_save(NULL, NULL, 0, &len), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_save(r, NULL, 0, NULL), SEG_EINVAL);
    ck_assert_uint_eq(len, CANARY_SIZE);

    /* empty registry: no tags, so no answers */
    ck_assert_int_eq(seg_tagreg_suggest(r, "vip", ids, 4, &n), SEG_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(seg_tagreg_list(r, "", ids, 4, &n), SEG_OK);
    ck_assert_uint_eq(n, 0);
    assert_not_found(r, "vip");
    /* An empty registry saves as the header and next_id 1. */
    char *s = save_str(r);
    ASSERT_TEXT_EQ(s, "libsegment-tags 1\nnext_id 1\n");
    free(s);
    seg_tagreg_free(r);

    /* NULL handles */
    seg_tagreg_free(NULL);
    ck_assert_uint_eq(seg_tagreg_count(NULL), 0);
    ck_assert_int_eq(seg_tagreg_is_frozen(NULL), 0);
    ck_assert_str_eq(seg_tagreg_last_error(NULL), "");
    ck_assert_int_eq(seg_tagreg_id_at(NULL, 0), 0);
    ck_assert_ptr_null(seg_tagreg_name(NULL, 1));
    ck_assert_uint_eq(seg_tagreg_alias_count(NULL, 1), 0);
    ck_assert_ptr_null(seg_tagreg_alias(NULL, 1, 0));
    ck_assert_ptr_null(seg_tagreg_text(NULL, 1, SEG_TAG_OWNER));
}
END_TEST

START_TEST(add_ids)
{
    seg_tagreg *r = new_reg();
    /* automatic ids 1, 2, 3 */
    ck_assert_int_eq(add_ok(r, 0, "首购客户"), 1);
    ck_assert_int_eq(add_ok(r, 0, "复购客户"), 2);
    int32_t dummy;
    ck_assert_int_eq(seg_tagreg_add(r, 0, "VIP", NULL), SEG_OK); /* out_id may be NULL */
    ck_assert_int_eq(find_id(r, "VIP"), 3);
    (void)dummy;
    /* explicit ids; automatic ones continue above the largest */
    ck_assert_int_eq(add_ok(r, 10, "高频"), 10);
    ck_assert_int_eq(add_ok(r, 0, "低频"), 11);
    ck_assert_int_eq(add_ok(r, 5, "流失"), 5);
    ck_assert_int_eq(add_ok(r, 0, "沉睡"), 12);
    ck_assert_uint_eq(seg_tagreg_count(r), 7);

    /* id taken: EEXISTS naming the holder */
    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_add(r, 10, "另一个", &id), SEG_EEXISTS);
    ck_assert_int_eq(id, CANARY_I32);
    ASSERT_HAS(LAST(r), "高频");
    ASSERT_HAS(LAST(r), "10");
    /* negative id */
    ck_assert_int_eq(seg_tagreg_add(r, -1, "负数", &id), SEG_ERANGE);
    ck_assert_str_ne(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_add(r, INT32_MIN, "负数", &id), SEG_ERANGE);
    ck_assert_int_eq(id, CANARY_I32);
    ck_assert_uint_eq(seg_tagreg_count(r), 7);
    /* invalid names */
    static const char *const bad[] = {"", "   ", "\u3000", "a\x01", "a\nb", "\xff", "\xe4\xb8"};
    for (size_t k = 0; k < N_OF(bad); k++) {
        ck_assert_msg(seg_tagreg_add(r, 0, bad[k], &id) == SEG_EINVAL, "bad name %zu", k);
        ck_assert_str_ne(LAST(r), "");
    }
    char longname[300];
    memset(longname, 'n', 256);
    longname[256] = '\0';
    ck_assert_int_eq(seg_tagreg_add(r, 0, longname, &id), SEG_EINVAL);
    longname[255] = '\0';
    ck_assert_int_eq(id, CANARY_I32);
    ck_assert_uint_eq(seg_tagreg_count(r), 7);
    /* failed adds used no id: the next automatic one is 13 */
    ck_assert_int_eq(add_ok(r, 0, longname), 13);
    ck_assert_str_eq(seg_tagreg_name(r, 13), longname);

    /* accessors */
    ck_assert_str_eq(seg_tagreg_name(r, 1), "首购客户");
    ck_assert_str_eq(seg_tagreg_name(r, 3), "VIP");
    ck_assert_ptr_null(seg_tagreg_name(r, 4));
    ck_assert_ptr_null(seg_tagreg_name(r, 0));
    ck_assert_ptr_null(seg_tagreg_name(r, -1));
    ck_assert_uint_eq(seg_tagreg_alias_count(r, 1), 0);
    ck_assert_ptr_null(seg_tagreg_alias(r, 1, 0));

    /* count + id_at: ascending id order whatever the order of adding */
    static const int32_t order[] = {1, 2, 3, 5, 10, 11, 12, 13};
    ck_assert_uint_eq(seg_tagreg_count(r), N_OF(order));
    for (size_t i = 0; i < N_OF(order); i++)
        ck_assert_int_eq(seg_tagreg_id_at(r, i), order[i]);
    ck_assert_int_eq(seg_tagreg_id_at(r, N_OF(order)), 0);
    ck_assert_int_eq(seg_tagreg_id_at(r, SIZE_MAX), 0);
    seg_tagreg_free(r);

    /* The largest id; after it no automatic id is left. */
    r = new_reg();
    ck_assert_int_eq(add_ok(r, SEG_TAG_ID_MAX, "max"), SEG_TAG_ID_MAX);
    id = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_add(r, 0, "more", &id), SEG_ERANGE);
    ck_assert_int_eq(id, CANARY_I32);
    ck_assert_str_ne(LAST(r), "");
    /* an explicit free id still works */
    ck_assert_int_eq(add_ok(r, 7, "seven"), 7);
    ck_assert_int_eq(seg_tagreg_add(r, 0, "more", &id), SEG_ERANGE);
    ck_assert_uint_eq(seg_tagreg_count(r), 2);
    ck_assert_int_eq(seg_tagreg_id_at(r, 0), 7);
    ck_assert_int_eq(seg_tagreg_id_at(r, 1), SEG_TAG_ID_MAX);
    seg_tagreg_free(r);
}
END_TEST

START_TEST(names_and_aliases)
{
    seg_tagreg *r = new_reg();
    int32_t first = add_ok(r, 0, "首购客户");   /* 1 */
    int32_t repeat = add_ok(r, 0, "复购客户");  /* 2 */
    int32_t vip = add_ok(r, 0, "VIP");          /* 3 */
    alias_ok(r, first, "客户首单");
    alias_ok(r, first, "ＦＩＲＳＴ  Purchase"); /* kept as written */
    alias_ok(r, vip, "贵宾");
    ck_assert_str_eq(LAST(r), "");
    ck_assert_uint_eq(seg_tagreg_alias_count(r, first), 2);
    ck_assert_str_eq(seg_tagreg_alias(r, first, 0), "客户首单");
    ck_assert_str_eq(seg_tagreg_alias(r, first, 1), "ＦＩＲＳＴ  Purchase");
    ck_assert_ptr_null(seg_tagreg_alias(r, first, 2));
    ck_assert_uint_eq(seg_tagreg_alias_count(r, 99), 0);
    ck_assert_ptr_null(seg_tagreg_alias(r, 99, 0));

    /* find by name, alias and normalised variants */
    ck_assert_int_eq(find_id(r, "首购客户"), first);
    ck_assert_int_eq(find_id(r, "客户首单"), first);
    ck_assert_int_eq(find_id(r, "\u3000客户首单 "), first);
    ck_assert_int_eq(find_id(r, "first purchase"), first);
    ck_assert_int_eq(find_id(r, " FIRST\u00a0PURCHASE"), first);
    ck_assert_int_eq(find_id(r, "复购客户"), repeat);
    ck_assert_int_eq(find_id(r, "vip"), vip);
    ck_assert_int_eq(find_id(r, " Vip "), vip);
    ck_assert_int_eq(find_id(r, "ＶＩＰ"), vip);
    ck_assert_int_eq(find_id(r, "贵宾"), vip);
    assert_not_found(r, "客户已下单");
    assert_not_found(r, "vi p");
    assert_not_found(r, "首购");       /* a part is not a name */
    assert_not_found(r, "firstpurchase");

    /* A new name equal to a name: EEXISTS naming the holder and the name. */
    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_add(r, 0, "ｖｉｐ", &id), SEG_EEXISTS);
    ck_assert_int_eq(id, CANARY_I32);
    ASSERT_HAS(LAST(r), "VIP");
    ck_assert_int_eq(seg_tagreg_add(r, 0, " vip ", &id), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "VIP");
    /* ... equal to an alias: names the alias's tag */
    ck_assert_int_eq(seg_tagreg_add(r, 0, "贵宾", &id), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "贵宾");
    ASSERT_HAS(LAST(r), "VIP");
    ck_assert_int_eq(seg_tagreg_add(r, 0, "First Purchase", &id), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "首购客户");
    ck_assert_int_eq(id, CANARY_I32);
    ck_assert_uint_eq(seg_tagreg_count(r), 3);

    /* An alias equal to another tag's name: names both (the alias and the
     * tag holding it). */
    ck_assert_int_eq(seg_tagreg_add_alias(r, repeat, "vip"), SEG_EEXISTS);
    ck_assert_msg(strstr(LAST(r), "'VIP'") != NULL, "message: %s", LAST(r));
    ck_assert_msg(strstr(LAST(r), "vip") != NULL, "message: %s", LAST(r));
    /* ... to another tag's alias */
    ck_assert_int_eq(seg_tagreg_add_alias(r, repeat, " 客户首单"), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "首购客户");
    ASSERT_HAS(LAST(r), "客户首单");
    /* ... to its own name or alias */
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, "Vip"), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "VIP");
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, "贵宾\u3000"), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "贵宾");
    /* invalid alias, unknown tag */
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, ""), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, " \u3000 "), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, "a\tb\x01"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_add_alias(r, vip, "\xc0\xaf"), SEG_EINVAL);
    ck_assert_str_ne(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_add_alias(r, 99, "新"), SEG_ENOTFOUND);
    ASSERT_HAS(LAST(r), "99");
    ck_assert_int_eq(seg_tagreg_add_alias(r, 0, "新"), SEG_ENOTFOUND);
    /* nothing changed */
    ck_assert_uint_eq(seg_tagreg_alias_count(r, repeat), 0);
    ck_assert_uint_eq(seg_tagreg_alias_count(r, vip), 1);
    ck_assert_uint_eq(seg_tagreg_alias_count(r, first), 2);
    assert_not_found(r, "新");
    /* a success clears the message */
    alias_ok(r, repeat, "复购");
    ck_assert_str_eq(LAST(r), "");
    ck_assert_int_eq(find_id(r, "复购"), repeat);
    seg_tagreg_free(r);
}
END_TEST

START_TEST(rename_tags)
{
    seg_tagreg *r = new_reg();
    int32_t a = add_ok(r, 0, "首购客户");
    int32_t b = add_ok(r, 0, "复购客户");
    alias_ok(r, a, "客户首单");
    alias_ok(r, b, "回头客");

    /* The old name becomes the first alias. */
    ck_assert_int_eq(seg_tagreg_rename(r, a, "新客"), SEG_OK);
    ck_assert_str_eq(LAST(r), "");
    ck_assert_str_eq(seg_tagreg_name(r, a), "新客");
    ck_assert_uint_eq(seg_tagreg_alias_count(r, a), 2);
    ck_assert_str_eq(seg_tagreg_alias(r, a, 0), "首购客户");
    ck_assert_str_eq(seg_tagreg_alias(r, a, 1), "客户首单");
    ck_assert_int_eq(find_id(r, "新客"), a);
    ck_assert_int_eq(find_id(r, "首购客户"), a);
    ck_assert_int_eq(find_id(r, "客户首单"), a);

    /* Renaming to one of its own aliases: that alias stops being one, the
     * old name comes first. */
    ck_assert_int_eq(seg_tagreg_rename(r, a, "客户首单"), SEG_OK);
    ck_assert_str_eq(seg_tagreg_name(r, a), "客户首单");
    ck_assert_uint_eq(seg_tagreg_alias_count(r, a), 2);
    ck_assert_str_eq(seg_tagreg_alias(r, a, 0), "新客");
    ck_assert_str_eq(seg_tagreg_alias(r, a, 1), "首购客户");
    ck_assert_int_eq(find_id(r, "新客"), a);
    ck_assert_int_eq(find_id(r, "首购客户"), a);
    ck_assert_int_eq(find_id(r, "客户首单"), a);
    /* ... also when spelled differently from the alias */
    ck_assert_int_eq(seg_tagreg_rename(r, a, "\u3000首购客户"), SEG_OK);
    ck_assert_int_eq(find_id(r, "首购客户"), a);
    ck_assert_uint_eq(seg_tagreg_alias_count(r, a), 2);
    ck_assert_str_eq(seg_tagreg_alias(r, a, 0), "客户首单");
    ck_assert_str_eq(seg_tagreg_alias(r, a, 1), "新客");

    /* Another tag's name or alias: EEXISTS, nothing changes. */
    ck_assert_int_eq(seg_tagreg_rename(r, a, "复购客户"), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "复购客户");
    ck_assert_int_eq(seg_tagreg_rename(r, a, "回头客"), SEG_EEXISTS);
    ASSERT_HAS(LAST(r), "复购客户");
    ASSERT_HAS(LAST(r), "回头客");
    ck_assert_int_eq(seg_tagreg_rename(r, 99, "x"), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagreg_rename(r, a, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_rename(r, a, ""), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_rename(r, a, "a\x01"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_rename(r, a, "\xff"), SEG_EINVAL);
    ck_assert_int_eq(find_id(r, "首购客户"), a);
    ck_assert_uint_eq(seg_tagreg_alias_count(r, a), 2);
    ck_assert_str_eq(seg_tagreg_alias(r, a, 0), "客户首单");
    ck_assert_str_eq(seg_tagreg_alias(r, a, 1), "新客");
    ck_assert_uint_eq(seg_tagreg_alias_count(r, b), 1);
    ck_assert_str_eq(seg_tagreg_name(r, b), "复购客户");
    assert_not_found(r, "x");

    /* A rule naming the tag by its old name keeps resolving to it: tag b
     * cannot be removed while c's rule names 复购客户, even after b is
     * renamed (the old name is now its alias). */
    int32_t c = add_ok(r, 0, "忠诚");
    text_ok(r, c, SEG_TAG_RULE_TEXT, "`复购客户` == 1 and orders >= 5");
    ck_assert_int_eq(seg_tagreg_rename(r, b, "老客"), SEG_OK);
    ck_assert_int_eq(seg_tagreg_remove(r, b), SEG_ESTATE);
    ASSERT_HAS(LAST(r), "忠诚");
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    seg_tagreg_free(r);
}
END_TEST

START_TEST(remove_tags)
{
    seg_tagreg *r = new_reg();
    ck_assert_int_eq(add_ok(r, 0, "a1"), 1);
    ck_assert_int_eq(add_ok(r, 0, "a2"), 2);
    ck_assert_int_eq(add_ok(r, 0, "a3"), 3);
    alias_ok(r, 3, "third");
    /* removing the last tag does not give its id back */
    ck_assert_int_eq(seg_tagreg_remove(r, 3), SEG_OK);
    ck_assert_str_eq(LAST(r), "");
    ck_assert_ptr_null(seg_tagreg_name(r, 3));
    assert_not_found(r, "a3");
    assert_not_found(r, "third");
    ck_assert_uint_eq(seg_tagreg_count(r), 2);
    /* the name and alias are free again; the id grows */
    ck_assert_int_eq(add_ok(r, 0, "a3"), 4);
    ck_assert_int_eq(add_ok(r, 0, "third"), 5);
    ck_assert_int_eq(seg_tagreg_remove(r, 5), SEG_OK);
    ck_assert_int_eq(seg_tagreg_remove(r, 4), SEG_OK);
    ck_assert_int_eq(seg_tagreg_remove(r, 2), SEG_OK);
    ck_assert_int_eq(seg_tagreg_remove(r, 1), SEG_OK);
    ck_assert_uint_eq(seg_tagreg_count(r), 0);
    ck_assert_int_eq(seg_tagreg_id_at(r, 0), 0);
    ck_assert_int_eq(add_ok(r, 0, "again"), 6);
    /* unknown ids */
    ck_assert_int_eq(seg_tagreg_remove(r, 1), SEG_ENOTFOUND);
    ck_assert_str_ne(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_remove(r, 0), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagreg_remove(r, -3), SEG_ENOTFOUND);
    ck_assert_uint_eq(seg_tagreg_count(r), 1);
    /* the saved text keeps the next id: 7 although the only tag is 6 */
    char *s = save_str(r);
    ASSERT_TEXT_EQ(s, "libsegment-tags 1\nnext_id 7\ntag 6 \"again\"\n");
    free(s);
    seg_tagreg_free(r);

    /* Tags named by a rule. */
    r = new_reg();
    int32_t first = add_ok(r, 0, "首购客户");   /* 1 */
    int32_t value = add_ok(r, 0, "高价值");     /* 2: rule names 首购客户 */
    int32_t vip = add_ok(r, 0, "vip");          /* 3 */
    int32_t core = add_ok(r, 0, "核心客户");    /* 4: rule names vip by its alias */
    int32_t loyal = add_ok(r, 0, "忠诚客户");   /* 5: rule names vip as VIP */
    int32_t plain = add_ok(r, 0, "普通");       /* 6: rule names only columns */
    alias_ok(r, vip, "贵宾");
    text_ok(r, value, SEG_TAG_RULE_TEXT, "`首购客户` == 1 and aum > 100");
    text_ok(r, core, SEG_TAG_RULE_TEXT, "`贵宾` == 1");
    text_ok(r, loyal, SEG_TAG_RULE_TEXT, "orders >= 10 or VIP == 1");
    text_ok(r, plain, SEG_TAG_RULE_TEXT, "aum < 100 and orders < 2");

    ck_assert_int_eq(seg_tagreg_remove(r, first), SEG_ESTATE);
    ASSERT_HAS(LAST(r), "高价值");
    ck_assert_str_eq(seg_tagreg_name(r, first), "首购客户");
    ck_assert_uint_eq(seg_tagreg_count(r), 6);
    /* vip is named by two rules; the message names one of them */
    ck_assert_int_eq(seg_tagreg_remove(r, vip), SEG_ESTATE);
    ck_assert_msg(seg_test_has_word(LAST(r), "核心客户") || seg_test_has_word(LAST(r), "忠诚客户"),
                  "message: %s", LAST(r));
    ck_assert_int_eq(find_id(r, "贵宾"), vip);
    /* after the rule tag goes, the tag it named can go */
    ck_assert_int_eq(seg_tagreg_remove(r, value), SEG_OK);
    ck_assert_int_eq(seg_tagreg_remove(r, first), SEG_OK);
    /* clearing one rule is not enough for vip; turning loyal's rule into
     * one without vip is */
    text_ok(r, core, SEG_TAG_RULE_TEXT, NULL);
    ck_assert_int_eq(seg_tagreg_remove(r, vip), SEG_ESTATE);
    ASSERT_HAS(LAST(r), "忠诚客户");
    text_ok(r, loyal, SEG_TAG_RULE_TEXT, "orders >= 10");
    ck_assert_int_eq(seg_tagreg_remove(r, vip), SEG_OK);
    /* a rule tag itself can always be removed */
    ck_assert_int_eq(seg_tagreg_remove(r, plain), SEG_OK);
    ck_assert_uint_eq(seg_tagreg_count(r), 2);
    ck_assert_int_eq(seg_tagreg_id_at(r, 0), core);
    ck_assert_int_eq(seg_tagreg_id_at(r, 1), loyal);
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    seg_tagreg_free(r);
}
END_TEST

/* ---- attributes --------------------------------------------------------------- */

static const int32_t TEXT_FIELDS[] = {SEG_TAG_CATEGORY, SEG_TAG_DESCRIPTION, SEG_TAG_OWNER,
                                      SEG_TAG_GROUP, SEG_TAG_RULE_TEXT};

START_TEST(attribute_defaults_and_kinds)
{
    seg_tagreg *r = new_reg();
    int32_t t = add_ok(r, 0, "t");
    /* defaults: fact, manual, online, every text "" */
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_SOURCE), SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_STATUS), SEG_TAG_ONLINE);
    for (size_t k = 0; k < N_OF(TEXT_FIELDS); k++)
        ck_assert_str_eq(seg_tagreg_text(r, t, TEXT_FIELDS[k]), "");

    /* each text field reads back */
    text_ok(r, t, SEG_TAG_CATEGORY, "行为/交易/首单");
    text_ok(r, t, SEG_TAG_DESCRIPTION, "首次下单且未复购的客户 (see \"policy\")");
    text_ok(r, t, SEG_TAG_OWNER, "crm team");
    text_ok(r, t, SEG_TAG_GROUP, "lifecycle");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_CATEGORY), "行为/交易/首单");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_DESCRIPTION),
                     "首次下单且未复购的客户 (see \"policy\")");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_OWNER), "crm team");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_GROUP), "lifecycle");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_RULE_TEXT), "");
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);

    /* A rule makes a rule tag, source derived. */
    text_ok(r, t, SEG_TAG_RULE_TEXT, "txn_90d >= 10");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_RULE_TEXT), "txn_90d >= 10");
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_RULE);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_SOURCE), SEG_TAG_DERIVED);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_STATUS), SEG_TAG_ONLINE);
    /* The kind follows the rule: no fact or model while it has one. */
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_KIND, SEG_TAG_FACT), SEG_ESTATE);
    ck_assert_str_ne(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_KIND, SEG_TAG_MODEL), SEG_ESTATE);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_RULE);
    code_ok(r, t, SEG_TAG_KIND, SEG_TAG_RULE); /* no change, no contradiction */
    /* a rule tag may be declared manual */
    code_ok(r, t, SEG_TAG_SOURCE, SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_SOURCE), SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_RULE);
    /* Clearing the rule ("" or NULL) makes a fact again. */
    text_ok(r, t, SEG_TAG_RULE_TEXT, "");
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_RULE_TEXT), "");
    text_ok(r, t, SEG_TAG_RULE_TEXT, "aum > 1");
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_RULE);
    text_ok(r, t, SEG_TAG_RULE_TEXT, NULL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    /* A fact cannot be made a rule through the kind. */
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_KIND, SEG_TAG_RULE), SEG_ESTATE);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    /* model and back */
    code_ok(r, t, SEG_TAG_KIND, SEG_TAG_MODEL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_MODEL);
    code_ok(r, t, SEG_TAG_KIND, SEG_TAG_FACT);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    /* every status and source */
    static const int32_t statuses[] = {SEG_TAG_DRAFT, SEG_TAG_OFFLINE, SEG_TAG_DISABLED,
                                       SEG_TAG_ONLINE};
    for (size_t k = 0; k < N_OF(statuses); k++) {
        code_ok(r, t, SEG_TAG_STATUS, statuses[k]);
        ck_assert_int_eq(code_of(r, t, SEG_TAG_STATUS), statuses[k]);
    }
    code_ok(r, t, SEG_TAG_SOURCE, SEG_TAG_DERIVED);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_SOURCE), SEG_TAG_DERIVED);
    code_ok(r, t, SEG_TAG_SOURCE, SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_SOURCE), SEG_TAG_MANUAL);

    /* unknown values and fields */
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_KIND, 3), SEG_EINVAL);
    ck_assert_str_ne(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_KIND, -1), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_SOURCE, 2), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_STATUS, 4), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(r, t, SEG_TAG_STATUS, -1), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(r, t, 0, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(r, t, 4, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_code(r, 99, SEG_TAG_STATUS, SEG_TAG_DRAFT), SEG_ENOTFOUND);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_SOURCE), SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, t, SEG_TAG_STATUS), SEG_TAG_ONLINE);
    int32_t v = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_code(r, t, 0, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_code(r, t, 4, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_code(r, t, SEG_TAG_KIND, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_code(r, 99, SEG_TAG_KIND, &v), SEG_ENOTFOUND);
    ck_assert_int_eq(v, CANARY_I32);
    ck_assert_ptr_null(seg_tagreg_text(r, t, 0));
    ck_assert_ptr_null(seg_tagreg_text(r, t, 6));
    ck_assert_ptr_null(seg_tagreg_text(r, 99, SEG_TAG_OWNER));
    ck_assert_int_eq(seg_tagreg_set_text(r, t, 0, "x"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_text(r, t, 6, "x"), SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_set_text(r, 99, SEG_TAG_OWNER, "x"), SEG_ENOTFOUND);

    /* NULL and "" clear each text */
    for (size_t k = 0; k < N_OF(TEXT_FIELDS); k++) {
        if (TEXT_FIELDS[k] == SEG_TAG_RULE_TEXT)
            continue;
        text_ok(r, t, TEXT_FIELDS[k], (k & 1) ? NULL : "");
        ck_assert_str_eq(seg_tagreg_text(r, t, TEXT_FIELDS[k]), "");
    }
    seg_tagreg_free(r);
}
END_TEST

START_TEST(attribute_validation)
{
    seg_tagreg *r = new_reg();
    int32_t t = add_ok(r, 0, "t");
    /* Categories: 1..5 non-empty levels; spaces around levels removed. */
    text_ok(r, t, SEG_TAG_CATEGORY, " 行为 / 交易 / 首单 ");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_CATEGORY), "行为/交易/首单");
    text_ok(r, t, SEG_TAG_CATEGORY, "a/b/c/d/e");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_CATEGORY), "a/b/c/d/e");
    text_ok(r, t, SEG_TAG_CATEGORY, "单层");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_CATEGORY), "单层");
    static const char *const bad_cat[] = {
        "a/b/c/d/e/f", /* 6 levels */
        "a//b",        /* empty level */
        "/a",
        "a/",
        "/",
        " / ",
        "a/ /b",
        "a/\u3000/b",  /* a level of only an ideographic space */
        "a\nb",
        "a/\x01",
        "\xff/a",
    };
    for (size_t k = 0; k < N_OF(bad_cat); k++) {
        int32_t rc = seg_tagreg_set_text(r, t, SEG_TAG_CATEGORY, bad_cat[k]);
        ck_assert_msg(rc == SEG_EINVAL, "category %zu '%s': rc %d", k, ONELINE(bad_cat[k]),
                      (int)rc);
        ck_assert_str_ne(LAST(r), "");
        ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_CATEGORY), "单层");
    }
    ASSERT_HAS(LAST(r), "categor");

    /* One line without control characters, valid UTF-8, for every text. */
    static const char *const bad_text[] = {"a\nb", "a\tb", "a\rb", "\x01", "x\x7f", "\xff",
                                           "\xe4\xb8"};
    static const int32_t fields[] = {SEG_TAG_DESCRIPTION, SEG_TAG_OWNER, SEG_TAG_GROUP,
                                     SEG_TAG_RULE_TEXT};
    text_ok(r, t, SEG_TAG_DESCRIPTION, "d");
    text_ok(r, t, SEG_TAG_OWNER, "o");
    text_ok(r, t, SEG_TAG_GROUP, "g");
    for (size_t f = 0; f < N_OF(fields); f++) {
        for (size_t k = 0; k < N_OF(bad_text); k++) {
            int32_t rc = seg_tagreg_set_text(r, t, fields[f], bad_text[k]);
            ck_assert_msg(rc == SEG_EINVAL, "field %d text %zu: rc %d", (int)fields[f], k,
                          (int)rc);
        }
    }
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_DESCRIPTION), "d");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_OWNER), "o");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_GROUP), "g");
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_RULE_TEXT), "");
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);

    /* Limits: 4096 bytes for owner and rule text, 65536 for the
     * description, 255 for a group name. One more is SEG_ERANGE. */
    char *big = malloc(SEG_TAG_DESC_MAX + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'w', SEG_TAG_DESC_MAX + 1);
    big[SEG_TAG_TEXT_MAX] = '\0';
    text_ok(r, t, SEG_TAG_OWNER, big);
    ck_assert_uint_eq(strlen(seg_tagreg_text(r, t, SEG_TAG_OWNER)), SEG_TAG_TEXT_MAX);
    text_ok(r, t, SEG_TAG_RULE_TEXT, big); /* one long column name; checked at freeze */
    ck_assert_uint_eq(strlen(seg_tagreg_text(r, t, SEG_TAG_RULE_TEXT)), SEG_TAG_TEXT_MAX);
    text_ok(r, t, SEG_TAG_RULE_TEXT, NULL);
    big[SEG_TAG_TEXT_MAX] = 'w';
    big[SEG_TAG_TEXT_MAX + 1] = '\0';
    ck_assert_int_eq(seg_tagreg_set_text(r, t, SEG_TAG_OWNER, big), SEG_ERANGE);
    ck_assert_str_ne(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_set_text(r, t, SEG_TAG_RULE_TEXT, big), SEG_ERANGE);
    ck_assert_uint_eq(strlen(seg_tagreg_text(r, t, SEG_TAG_OWNER)), SEG_TAG_TEXT_MAX);
    ck_assert_str_eq(seg_tagreg_text(r, t, SEG_TAG_RULE_TEXT), "");
    ck_assert_int_eq(code_of(r, t, SEG_TAG_KIND), SEG_TAG_FACT);
    memset(big, 'w', SEG_TAG_DESC_MAX + 1);
    big[SEG_TAG_DESC_MAX] = '\0';
    text_ok(r, t, SEG_TAG_DESCRIPTION, big);
    ck_assert_uint_eq(strlen(seg_tagreg_text(r, t, SEG_TAG_DESCRIPTION)), SEG_TAG_DESC_MAX);
    big[SEG_TAG_DESC_MAX] = 'w';
    big[SEG_TAG_DESC_MAX + 1] = '\0';
    ck_assert_int_eq(seg_tagreg_set_text(r, t, SEG_TAG_DESCRIPTION, big), SEG_ERANGE);
    ck_assert_uint_eq(strlen(seg_tagreg_text(r, t, SEG_TAG_DESCRIPTION)), SEG_TAG_DESC_MAX);
    big[SEG_TAG_NAME_MAX] = '\0';
    text_ok(r, t, SEG_TAG_GROUP, big);
    big[SEG_TAG_NAME_MAX] = 'w';
    big[SEG_TAG_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(seg_tagreg_set_text(r, t, SEG_TAG_GROUP, big), SEG_ERANGE);
    ck_assert_uint_eq(strlen(seg_tagreg_text(r, t, SEG_TAG_GROUP)), SEG_TAG_NAME_MAX);
    free(big);
    seg_tagreg_free(r);
}
END_TEST

/* ---- categories, groups, iteration ------------------------------------------- */

START_TEST(categories_and_groups)
{
    seg_tagreg *r = new_reg();
    ck_assert_int_eq(add_ok(r, 0, "新客"), 1);
    ck_assert_int_eq(add_ok(r, 0, "活跃"), 2);
    ck_assert_int_eq(add_ok(r, 0, "流失"), 3);
    ck_assert_int_eq(add_ok(r, 0, "大额交易"), 4);
    ck_assert_int_eq(add_ok(r, 0, "首单"), 5);
    ck_assert_int_eq(add_ok(r, 0, "高频"), 6);
    ck_assert_int_eq(add_ok(r, 0, "无类"), 7);
    ck_assert_int_eq(add_ok(r, 0, "贵宾"), 8);
    text_ok(r, 1, SEG_TAG_CATEGORY, "生命周期/新客");
    text_ok(r, 2, SEG_TAG_CATEGORY, "生命周期/活跃");
    text_ok(r, 3, SEG_TAG_CATEGORY, "生命周期");
    text_ok(r, 4, SEG_TAG_CATEGORY, "行为/交易额");
    text_ok(r, 5, SEG_TAG_CATEGORY, "行为/交易/首单");
    text_ok(r, 6, SEG_TAG_CATEGORY, "行为/交易");
    text_ok(r, 8, SEG_TAG_CATEGORY, " 价值 / ＶＩＰ ");
    ck_assert_str_eq(seg_tagreg_text(r, 8, SEG_TAG_CATEGORY), "价值/ＶＩＰ");
    /* exclusive groups: one attribute per tag, compared like names */
    text_ok(r, 1, SEG_TAG_GROUP, "lifecycle");
    text_ok(r, 2, SEG_TAG_GROUP, "LifeCycle");
    text_ok(r, 3, SEG_TAG_GROUP, "生命周期");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_GROUP), "lifecycle");
    ck_assert_str_eq(seg_tagreg_text(r, 2, SEG_TAG_GROUP), "LifeCycle");
    ck_assert_str_eq(seg_tagreg_text(r, 3, SEG_TAG_GROUP), "生命周期");
    text_ok(r, 3, SEG_TAG_GROUP, "lifecycle"); /* replaces: at most one group */
    ck_assert_str_eq(seg_tagreg_text(r, 3, SEG_TAG_GROUP), "lifecycle");
    ck_assert_str_eq(seg_tagreg_text(r, 4, SEG_TAG_GROUP), "");
    ck_assert_int_eq(seg_tagreg_set_text(r, 4, SEG_TAG_GROUP, "a\x01"), SEG_EINVAL);
    ck_assert_str_eq(seg_tagreg_text(r, 4, SEG_TAG_GROUP), "");

    /* Whole levels: 行为/交易 is 5 and 6, not 4 (交易额). */
    assert_list(r, "行为/交易", IDS(5, 6));
    assert_list(r, "行为", IDS(4, 5, 6));
    assert_list(r, "行为/交易额", IDS(4));
    assert_list(r, "行为/交", NULL, 0);
    assert_list(r, "行", NULL, 0);
    assert_list(r, "行为/交易/首单", IDS(5));
    assert_list(r, "行为/交易/首单/更多", NULL, 0);
    assert_list(r, "生命周期", IDS(1, 2, 3));
    /* levels normalised like names */
    assert_list(r, " 生命周期 / 新客 ", IDS(1));
    assert_list(r, "生命周期\u3000/新客", IDS(1));
    assert_list(r, "价值/vip", IDS(8));
    assert_list(r, "价值/ VIP", IDS(8));
    assert_list(r, "价值", IDS(8));
    assert_list(r, "价", NULL, 0);
    assert_list(r, "其他", NULL, 0);
    /* empty prefix: every tag, also the one without category */
    assert_list(r, "", IDS(1, 2, 3, 4, 5, 6, 7, 8));

    /* more matches than room: the first cap written, the full count told */
    int32_t ids[3] = {CANARY_I32, CANARY_I32, CANARY_I32};
    size_t n = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_list(r, "行为", ids, 2, &n), SEG_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ids[0], 4);
    ck_assert_int_eq(ids[1], 5);
    ck_assert_int_eq(ids[2], CANARY_I32);

    /* a removed tag is not listed; ids stay in ascending order */
    ck_assert_int_eq(seg_tagreg_remove(r, 5), SEG_OK);
    assert_list(r, "行为", IDS(4, 6));
    ck_assert_int_eq(add_ok(r, 0, "复购"), 9);
    text_ok(r, 9, SEG_TAG_CATEGORY, "行为/交易/复购");
    assert_list(r, "行为/交易", IDS(6, 9));
    static const int32_t order[] = {1, 2, 3, 4, 6, 7, 8, 9};
    ck_assert_uint_eq(seg_tagreg_count(r), N_OF(order));
    for (size_t i = 0; i < N_OF(order); i++)
        ck_assert_int_eq(seg_tagreg_id_at(r, i), order[i]);
    ck_assert_int_eq(seg_tagreg_id_at(r, N_OF(order)), 0);

    /* still the same after freezing */
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    assert_list(r, "行为/交易", IDS(6, 9));
    assert_list(r, "", IDS(1, 2, 3, 4, 6, 7, 8, 9));
    seg_tagreg_free(r);
}
END_TEST

/* ---- suggestions -------------------------------------------------------------- */

/* The registry for suggestions:
 *   1 首购客户  aliases 客户首单, first purchase
 *   2 复购客户
 *   3 vip      alias 贵宾
 *   4 高频
 *   5 vips
 *   6 vip_gold
 */
static seg_tagreg *suggest_reg(void)
{
    seg_tagreg *r = new_reg();
    ck_assert_int_eq(add_ok(r, 0, "首购客户"), 1);
    ck_assert_int_eq(add_ok(r, 0, "复购客户"), 2);
    ck_assert_int_eq(add_ok(r, 0, "vip"), 3);
    ck_assert_int_eq(add_ok(r, 0, "高频"), 4);
    ck_assert_int_eq(add_ok(r, 0, "vips"), 5);
    ck_assert_int_eq(add_ok(r, 0, "vip_gold"), 6);
    alias_ok(r, 1, "客户首单");
    alias_ok(r, 1, "first purchase");
    alias_ok(r, 3, "贵宾");
    return r;
}

START_TEST(suggest_known)
{
    seg_tagreg *r = suggest_reg();
    for (int frozen = 0; frozen < 2; frozen++) {
        /* "首购" (2 code points, limit max(2, 1) = 2):
         *   首购客户 contains it: 1 -> tag 1
         *   复购客户: substitute 首, insert 客户: 3; 客户首单: 3 -> tag 2 out
         *   vip: 3, 贵宾: 2 substitutions = 2 -> tag 3 at 2
         *   高频: 2 -> tag 4 at 2;  vips 4, vip_gold 8 -> out
         * distance then id: 1, 3, 4. */
        assert_suggest(r, "首购", IDS(1, 3, 4));
        /* "vipp" (4, limit 2): vip contained: 1 (tag 3); vips: 1 substitution
         * (tag 5); vip_gold: 5; every other name 4 or more. */
        assert_suggest(r, "vipp", IDS(3, 5));
        assert_suggest(r, "VIPP", IDS(3, 5));
        assert_suggest(r, "ＶＩＰＰ", IDS(3, 5));
        /* "vip" (3, limit 2): vip itself, vips and vip_gold contain it: 1. */
        assert_suggest(r, "ＶＩＰ", IDS(3, 5, 6));
        /* "高频客户" (4, limit 2): 高频 is contained: 1 (tag 4); 首购客户 and
         * 复购客户: 2 substitutions (tags 1, 2); 客户首单: 4; 贵宾: 4. */
        assert_suggest(r, "高频客户", IDS(4, 1, 2));
        /* "purchase" (8, limit 4): contained in the alias first purchase. */
        assert_suggest(r, "purchase", IDS(1));
        /* "firstpurchase" (13, limit 7): one insertion from the alias. */
        assert_suggest(r, "firstpurchase", IDS(1));
        /* nothing close: "zzzzzzzz" (8, limit 4) is 8 edits from every
         * name of 8 or fewer code points and 14 from first purchase */
        assert_suggest(r, "zzzzzzzz", NULL, 0);

        /* cap: the best first */
        int32_t ids[3] = {CANARY_I32, CANARY_I32, CANARY_I32};
        size_t n = CANARY_SIZE;
        ck_assert_int_eq(seg_tagreg_suggest(r, "首购", ids, 1, &n), SEG_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(ids[0], 1);
        ck_assert_int_eq(ids[1], CANARY_I32);
        ck_assert_int_eq(seg_tagreg_suggest(r, "高频客户", ids, 2, &n), SEG_OK);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(ids[0], 4);
        ck_assert_int_eq(ids[1], 1);
        ck_assert_int_eq(ids[2], CANARY_I32);
        n = CANARY_SIZE;
        ck_assert_int_eq(seg_tagreg_suggest(r, "首购", NULL, 0, &n), SEG_OK);
        ck_assert_uint_eq(n, 0);
        if (!frozen)
            ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    }
    seg_tagreg_free(r);
}
END_TEST

/* Independent suggestion oracle over code points of normalised names. */
static size_t to_cps(const char *s, uint32_t *cp)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (p[0] < 0x80) {
            cp[n++] = p[0];
            p += 1;
        } else if (p[0] < 0xe0) {
            cp[n++] = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
            p += 2;
        } else if (p[0] < 0xf0) {
            cp[n++] = ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
                      (p[2] & 0x3f);
            p += 3;
        } else {
            cp[n++] = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
                      ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
            p += 4;
        }
    }
    return n;
}

static size_t levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    static size_t d[300][300];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[na][nb];
}

static size_t ref_distance(const char *query_key, const char *name)
{
    char key[600];
    ref_normalize(name, key);
    /* An equal name is distance 0; "a registered name containing `name` (or
     * contained in it) counts as distance 1". */
    if (strcmp(key, query_key) == 0)
        return 0;
    if (strstr(key, query_key) || strstr(query_key, key))
        return 1;
    uint32_t a[300], b[300];
    size_t na = to_cps(query_key, a), nb = to_cps(key, b);
    return levenshtein(a, na, b, nb);
}

START_TEST(suggest_random_oracle)
{
    static const char *const names[][3] = {
        {"首购客户", "客户首单", "first purchase"},
        {"复购客户", NULL, NULL},
        {"vip", "贵宾", NULL},
        {"高频", NULL, NULL},
        {"vips", NULL, NULL},
        {"vip_gold", NULL, NULL},
        {"沉睡客户", "sleeping", NULL},
        {"流失", "churned", "lost"},
        {"a", NULL, NULL},
        {"客", NULL, NULL},
    };
    static const char *const alphabet[] = {"v", "i", "p", "s", "g", "o", "l", "d", "_", "首",
                                           "购", "客", "户", "高", "频", "流", "失", "a",
                                           "c", "h", "u", "r", "n", "e", "Ａ", "Ｖ", " "};
    seg_tagreg *r = new_reg();
    for (size_t t = 0; t < N_OF(names); t++) {
        int32_t id = add_ok(r, 0, names[t][0]);
        ck_assert_int_eq(id, (int32_t)t + 1);
        for (int k = 1; k < 3; k++)
            if (names[t][k])
                alias_ok(r, id, names[t][k]);
    }
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    uint32_t seed = 777;
    for (int iter = 0; iter < 3000; iter++) {
        char q[128] = "";
        int len = 1 + (int)(rng_next(&seed) % 7);
        for (int p = 0; p < len; p++)
            strcat(q, alphabet[rng_next(&seed) % N_OF(alphabet)]);
        char key[128];
        if (ref_normalize(q, key) == 0)
            continue;
        uint32_t cps[128];
        size_t qlen = to_cps(key, cps);
        size_t limit = (qlen + 1) / 2 > 2 ? (qlen + 1) / 2 : 2;
        /* want: tags by (distance, id) within the limit */
        int32_t want[16];
        size_t dist[16], wn = 0;
        for (size_t t = 0; t < N_OF(names); t++) {
            size_t best = SIZE_MAX;
            for (int k = 0; k < 3; k++)
                if (names[t][k]) {
                    size_t d = ref_distance(key, names[t][k]);
                    if (d < best)
                        best = d;
                }
            if (best <= limit) {
                size_t at = wn;
                while (at > 0 && dist[at - 1] > best) {
                    want[at] = want[at - 1];
                    dist[at] = dist[at - 1];
                    at--;
                }
                want[at] = (int32_t)t + 1;
                dist[at] = best;
                wn++;
            }
        }
        int32_t got[16];
        size_t n = CANARY_SIZE;
        ck_assert_int_eq(seg_tagreg_suggest(r, q, got, 16, &n), SEG_OK);
        char what[200];
        snprintf(what, sizeof what, "suggest '%s'", q);
        assert_ids(got, n, want, wn, what);
    }
    seg_tagreg_free(r);
}
END_TEST

/* ---- freezing ------------------------------------------------------------------- */

START_TEST(freeze_makes_immutable)
{
    seg_tagreg *r = new_reg();
    int32_t a = add_ok(r, 0, "首购客户");
    int32_t b = add_ok(r, 0, "高频");
    alias_ok(r, a, "客户首单");
    text_ok(r, b, SEG_TAG_RULE_TEXT, "txn_90d >= 10 and `客户首单` == 1");
    char *before = save_str(r);
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 1);
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK); /* again: nothing */
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 1);

    int32_t id = CANARY_I32;
    ck_assert_int_eq(seg_tagreg_add(r, 0, "new", &id), SEG_ESTATE);
    ck_assert_int_eq(id, CANARY_I32);
    ASSERT_HAS(LAST(r), "frozen");
    ck_assert_int_eq(seg_tagreg_add(r, 9, "new", &id), SEG_ESTATE);
    ck_assert_int_eq(seg_tagreg_add_alias(r, a, "别名"), SEG_ESTATE);
    ASSERT_HAS(LAST(r), "frozen");
    ck_assert_int_eq(seg_tagreg_rename(r, a, "新名"), SEG_ESTATE);
    ck_assert_int_eq(seg_tagreg_remove(r, a), SEG_ESTATE);
    ck_assert_int_eq(seg_tagreg_remove(r, b), SEG_ESTATE);
    ASSERT_HAS(LAST(r), "frozen");
    for (size_t k = 0; k < N_OF(TEXT_FIELDS); k++) {
        ck_assert_int_eq(seg_tagreg_set_text(r, b, TEXT_FIELDS[k], "x"), SEG_ESTATE);
        ck_assert_int_eq(seg_tagreg_set_text(r, b, TEXT_FIELDS[k], NULL), SEG_ESTATE);
    }
    ck_assert_int_eq(seg_tagreg_set_code(r, a, SEG_TAG_STATUS, SEG_TAG_DRAFT), SEG_ESTATE);
    ck_assert_int_eq(seg_tagreg_set_code(r, a, SEG_TAG_SOURCE, SEG_TAG_DERIVED), SEG_ESTATE);
    ck_assert_int_eq(seg_tagreg_set_code(r, a, SEG_TAG_KIND, SEG_TAG_MODEL), SEG_ESTATE);
    ASSERT_HAS(LAST(r), "frozen");
    /* nothing changed, reading still works */
    char *after = save_str(r);
    ASSERT_TEXT_EQ(before, after);
    ck_assert_int_eq(find_id(r, "客户首单"), a);
    ck_assert_str_eq(seg_tagreg_text(r, b, SEG_TAG_RULE_TEXT), "txn_90d >= 10 and `客户首单` == 1");
    ck_assert_int_eq(code_of(r, b, SEG_TAG_KIND), SEG_TAG_RULE);
    free(before);
    free(after);
    seg_tagreg_free(r);
}
END_TEST

START_TEST(freeze_cycles_and_rule_errors)
{
    /* a when b, b when a */
    seg_tagreg *r = new_reg();
    int32_t alpha = add_ok(r, 0, "alpha");
    int32_t beta = add_ok(r, 0, "beta");
    int32_t gamma = add_ok(r, 0, "gamma");
    text_ok(r, alpha, SEG_TAG_RULE_TEXT, "beta == 1");
    text_ok(r, beta, SEG_TAG_RULE_TEXT, "alpha == 1 and aum > 5");
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_EPARSE);
    ASSERT_HAS(LAST(r), "alpha");
    ASSERT_HAS(LAST(r), "beta");
    ASSERT_HAS(LAST(r), "cycle");
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 0);
    /* still being built: fix it and freeze */
    text_ok(r, beta, SEG_TAG_RULE_TEXT, "gamma == 1 and aum > 5");
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    ck_assert_str_eq(LAST(r), "");
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 1);
    (void)gamma;
    seg_tagreg_free(r);

    /* a three-cycle through an alias and a normalised spelling, entered
     * from a tag outside the cycle: x -> y -> z -> x, w -> x */
    r = new_reg();
    int32_t w = add_ok(r, 0, "wtag");
    int32_t x = add_ok(r, 0, "xtag");
    int32_t y = add_ok(r, 0, "ytag");
    int32_t z = add_ok(r, 0, "ztag");
    alias_ok(r, y, "乙");
    text_ok(r, w, SEG_TAG_RULE_TEXT, "xtag == 1");
    text_ok(r, x, SEG_TAG_RULE_TEXT, "`乙` == 1");
    text_ok(r, y, SEG_TAG_RULE_TEXT, "ZTAG == 1 or aum > 1");
    text_ok(r, z, SEG_TAG_RULE_TEXT, "`ＸＴＡＧ` == 1");
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_EPARSE);
    ASSERT_HAS(LAST(r), "xtag");
    ASSERT_HAS(LAST(r), "ytag");
    ASSERT_HAS(LAST(r), "ztag");
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 0);
    /* a chain is fine */
    text_ok(r, z, SEG_TAG_RULE_TEXT, "aum > 100");
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    seg_tagreg_free(r);

    /* a tag naming itself */
    r = new_reg();
    int32_t s = add_ok(r, 0, "selfish");
    text_ok(r, s, SEG_TAG_RULE_TEXT, "selfish == 1");
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_EPARSE);
    ASSERT_HAS(LAST(r), "selfish");
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 0);
    seg_tagreg_free(r);

    /* Rule syntax errors are found at freeze; the message names the tag
     * and the problem. */
    static const struct {
        const char *rule, *word;
    } bad[] = {
        {"aum = 10", "=="},          /* '=' instead of '==' */
        {"sqrt(aum) > 1", "sqrt"},   /* unknown function */
        {"aum >= 1 and", "and"},     /* ends early (the message may name 'and' or the end) */
        {"(aum > 1", ")"},
        {"name == \"abc", "unterminated"},
    };
    for (size_t k = 0; k < N_OF(bad); k++) {
        r = new_reg();
        add_ok(r, 0, "fine");
        int32_t t = add_ok(r, 0, "broken_rule");
        text_ok(r, t, SEG_TAG_RULE_TEXT, bad[k].rule);
        ck_assert_msg(seg_tagreg_freeze(r) == SEG_EPARSE, "rule '%s' froze", bad[k].rule);
        ck_assert_int_eq(seg_tagreg_is_frozen(r), 0);
        const char *m = LAST(r);
        ck_assert_msg(seg_test_has_word(m, "broken_rule") || seg_test_has_word(m, "tag 2"),
                      "rule '%s': message does not name the tag: %s", bad[k].rule, m);
        if (k != 2)
            ASSERT_HAS(m, bad[k].word);
        text_ok(r, t, SEG_TAG_RULE_TEXT, "aum > 1");
        ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
        seg_tagreg_free(r);
    }
}
END_TEST

/* ---- text ----------------------------------------------------------------------- */

/* A registry in its canonical text: what save writes (header, next_id,
 * tags in id order, attributes in the documented order, defaults left out).
 *  1 fact with aliases, category, group, owner, desc
 *  2 fact in the same group
 *  3 rule (source derived by default)
 *  4 fact, offline, a desc with escapes, a full-width alias
 *  5 model (derived by default)
 *  6 rule declared manual, draft, naming tags 1 and 4 (the latter by a
 *    normalised spelling of its name)
 *  7 fact declared derived, disabled
 *  8 rule in a group whose name is not an identifier, naming tag 3
 * next_id 20 is above the default 9. */
static const char SAMPLE[] =
    "libsegment-tags 1\n"
    "next_id 20\n"
    "tag 1 \"首购客户\"\n"
    "  alias \"客户首单\" \"客户已下单\" \"first purchase\"\n"
    "  category \"生命周期/首购\"\n"
    "  group lifecycle\n"
    "  owner \"crm\"\n"
    "  desc \"首次下单且未复购的客户\"\n"
    "tag 2 \"复购客户\"\n"
    "  category \"生命周期/复购\"\n"
    "  group lifecycle\n"
    "tag 3 \"高频\"\n"
    "  category \"行为/交易\"\n"
    "  when txn_90d >= 10\n"
    "tag 4 \"VIP\"\n"
    "  alias \"贵宾\" \"ＶＩＰ客户\"\n"
    "  category \"价值\"\n"
    "  status offline\n"
    "  owner \"wealth team\"\n"
    "  desc \"AUM above 5M, see \\\"policy 7\\\" in C:\\\\docs\"\n"
    "tag 5 \"rfm_champions\"\n"
    "  category \"模型/RFM\"\n"
    "  kind model\n"
    "tag 6 \"manual rule\"\n"
    "  source manual\n"
    "  status draft\n"
    "  when `首购客户` == 1 and vip == 0\n"
    "tag 7 \"legacy\"\n"
    "  source derived\n"
    "  status disabled\n"
    "tag 8 \"价值客户\"\n"
    "  group \"价值分层\"\n"
    "  when `高频` == 1 or aum >= 500000\n";

static void check_sample(const seg_tagreg *r)
{
    ck_assert_uint_eq(seg_tagreg_count(r), 8);
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(seg_tagreg_id_at(r, i), (int32_t)i + 1);
    ck_assert_str_eq(seg_tagreg_name(r, 1), "首购客户");
    ck_assert_uint_eq(seg_tagreg_alias_count(r, 1), 3);
    ck_assert_str_eq(seg_tagreg_alias(r, 1, 0), "客户首单");
    ck_assert_str_eq(seg_tagreg_alias(r, 1, 1), "客户已下单");
    ck_assert_str_eq(seg_tagreg_alias(r, 1, 2), "first purchase");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_CATEGORY), "生命周期/首购");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_GROUP), "lifecycle");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_OWNER), "crm");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_DESCRIPTION), "首次下单且未复购的客户");
    ck_assert_int_eq(code_of(r, 1, SEG_TAG_KIND), SEG_TAG_FACT);
    ck_assert_int_eq(code_of(r, 1, SEG_TAG_SOURCE), SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, 1, SEG_TAG_STATUS), SEG_TAG_ONLINE);
    ck_assert_str_eq(seg_tagreg_text(r, 2, SEG_TAG_GROUP), "lifecycle");
    ck_assert_str_eq(seg_tagreg_text(r, 3, SEG_TAG_RULE_TEXT), "txn_90d >= 10");
    ck_assert_int_eq(code_of(r, 3, SEG_TAG_KIND), SEG_TAG_RULE);
    ck_assert_int_eq(code_of(r, 3, SEG_TAG_SOURCE), SEG_TAG_DERIVED);
    ck_assert_str_eq(seg_tagreg_name(r, 4), "VIP");
    ck_assert_str_eq(seg_tagreg_alias(r, 4, 1), "ＶＩＰ客户");
    ck_assert_int_eq(code_of(r, 4, SEG_TAG_STATUS), SEG_TAG_OFFLINE);
    ck_assert_str_eq(seg_tagreg_text(r, 4, SEG_TAG_DESCRIPTION),
                     "AUM above 5M, see \"policy 7\" in C:\\docs");
    ck_assert_int_eq(code_of(r, 5, SEG_TAG_KIND), SEG_TAG_MODEL);
    ck_assert_int_eq(code_of(r, 5, SEG_TAG_SOURCE), SEG_TAG_DERIVED);
    ck_assert_str_eq(seg_tagreg_text(r, 5, SEG_TAG_RULE_TEXT), "");
    ck_assert_int_eq(code_of(r, 6, SEG_TAG_KIND), SEG_TAG_RULE);
    ck_assert_int_eq(code_of(r, 6, SEG_TAG_SOURCE), SEG_TAG_MANUAL);
    ck_assert_int_eq(code_of(r, 6, SEG_TAG_STATUS), SEG_TAG_DRAFT);
    ck_assert_str_eq(seg_tagreg_text(r, 6, SEG_TAG_RULE_TEXT), "`首购客户` == 1 and vip == 0");
    ck_assert_str_eq(seg_tagreg_text(r, 6, SEG_TAG_CATEGORY), "");
    ck_assert_int_eq(code_of(r, 7, SEG_TAG_KIND), SEG_TAG_FACT);
    ck_assert_int_eq(code_of(r, 7, SEG_TAG_SOURCE), SEG_TAG_DERIVED);
    ck_assert_int_eq(code_of(r, 7, SEG_TAG_STATUS), SEG_TAG_DISABLED);
    ck_assert_str_eq(seg_tagreg_text(r, 8, SEG_TAG_GROUP), "价值分层");
    ck_assert_int_eq(code_of(r, 8, SEG_TAG_KIND), SEG_TAG_RULE);
    ck_assert_int_eq(find_id(r, "客户已下单"), 1);
    ck_assert_int_eq(find_id(r, "ｖｉｐ客户"), 4);
    ck_assert_int_eq(find_id(r, "Manual  Rule"), 6);
}

START_TEST(text_round_trip)
{
    seg_tagreg *r = load_str(SAMPLE);
    check_sample(r);
    /* canonical text saves as itself */
    char *s1 = save_str(r);
    ASSERT_TEXT_EQ(s1, SAMPLE);
    /* load again, save again: byte-identical */
    seg_tagreg *r2 = load_str(s1);
    check_sample(r2);
    char *s2 = save_str(r2);
    ck_assert_uint_eq(strlen(s1), strlen(s2));
    ck_assert_int_eq(memcmp(s1, s2, strlen(s1)), 0);
    free(s1);
    free(s2);
    seg_tagreg_free(r2);
    /* tags referenced by rules cannot be removed -- but a loaded registry
     * is frozen, so nothing can */
    ck_assert_int_eq(seg_tagreg_remove(r, 7), SEG_ESTATE);
    seg_tagreg_free(r);

    /* The same registry built through the API saves to the same text. */
    seg_tagreg *b = new_reg();
    ck_assert_int_eq(add_ok(b, 0, "首购客户"), 1);
    alias_ok(b, 1, "客户首单");
    alias_ok(b, 1, "客户已下单");
    alias_ok(b, 1, "first purchase");
    text_ok(b, 1, SEG_TAG_DESCRIPTION, "首次下单且未复购的客户");
    text_ok(b, 1, SEG_TAG_OWNER, "crm");
    text_ok(b, 1, SEG_TAG_GROUP, "lifecycle");
    text_ok(b, 1, SEG_TAG_CATEGORY, "生命周期 / 首购");
    ck_assert_int_eq(add_ok(b, 0, "复购客户"), 2);
    text_ok(b, 2, SEG_TAG_CATEGORY, "生命周期/复购");
    text_ok(b, 2, SEG_TAG_GROUP, "lifecycle");
    ck_assert_int_eq(add_ok(b, 0, "高频"), 3);
    text_ok(b, 3, SEG_TAG_RULE_TEXT, "txn_90d >= 10");
    text_ok(b, 3, SEG_TAG_CATEGORY, "行为/交易");
    ck_assert_int_eq(add_ok(b, 0, "VIP"), 4);
    alias_ok(b, 4, "贵宾");
    alias_ok(b, 4, "ＶＩＰ客户");
    text_ok(b, 4, SEG_TAG_CATEGORY, "价值");
    code_ok(b, 4, SEG_TAG_STATUS, SEG_TAG_OFFLINE);
    text_ok(b, 4, SEG_TAG_OWNER, "wealth team");
    text_ok(b, 4, SEG_TAG_DESCRIPTION, "AUM above 5M, see \"policy 7\" in C:\\docs");
    ck_assert_int_eq(add_ok(b, 0, "rfm_champions"), 5);
    code_ok(b, 5, SEG_TAG_KIND, SEG_TAG_MODEL);
    code_ok(b, 5, SEG_TAG_SOURCE, SEG_TAG_DERIVED);
    text_ok(b, 5, SEG_TAG_CATEGORY, "模型/RFM");
    /* ids 6..8 via a detour: 19 taken and removed leaves next_id at 20 */
    ck_assert_int_eq(add_ok(b, 19, "temporary"), 19);
    ck_assert_int_eq(add_ok(b, 6, "manual rule"), 6);
    code_ok(b, 6, SEG_TAG_STATUS, SEG_TAG_DRAFT);
    text_ok(b, 6, SEG_TAG_RULE_TEXT, "`首购客户` == 1 and vip == 0");
    code_ok(b, 6, SEG_TAG_SOURCE, SEG_TAG_MANUAL);
    ck_assert_int_eq(add_ok(b, 7, "legacy"), 7);
    code_ok(b, 7, SEG_TAG_SOURCE, SEG_TAG_DERIVED);
    code_ok(b, 7, SEG_TAG_STATUS, SEG_TAG_DISABLED);
    ck_assert_int_eq(add_ok(b, 8, "价值客户"), 8);
    text_ok(b, 8, SEG_TAG_GROUP, "价值分层");
    text_ok(b, 8, SEG_TAG_RULE_TEXT, "`高频` == 1 or aum >= 500000");
    ck_assert_int_eq(seg_tagreg_remove(b, 19), SEG_OK);
    char *sb = save_str(b); /* not frozen: saving works too */
    ASSERT_TEXT_EQ(sb, SAMPLE);
    ck_assert_int_eq(seg_tagreg_freeze(b), SEG_OK);
    char *sf = save_str(b);
    ASSERT_TEXT_EQ(sf, SAMPLE);
    free(sb);
    free(sf);
    seg_tagreg_free(b);
}
END_TEST

/* The same kind of registry as people write it: no header, comments,
 * blank lines, odd indentation (tabs), ids out of order, attributes in any
 * order, defaults spelled out, aliases on two lines, spaces in the
 * category, CRLF line ends in part, next_id last, no newline at the end.
 * A `when` takes the rest of its line, so the comment after tag 3's rule
 * stays with it (the rule language has the same comments). */
static const char LOOSE[] =
    "# Tag registry for the shop\n"
    "   # indented comment\n"
    "\n"
    "tag 3 \"高频\"     # ids need not be in order\n"
    "    when   txn_90d >= 10     # ten or more\n"
    "  category   \" 行为 / 交易 \"\n"
    "tag 1 \"首购客户\"\r\n"
    "  desc \"首次下单且未复购的客户\"\r\n"
    "  alias \"客户首单\"\r\n"
    "\r\n"
    "  alias \"客户已下单\" \"first purchase\"\n"
    "\towner \"crm\"\n"
    "  group lifecycle\n"
    "  category \"生命周期/首购\"\n"
    "  kind fact\n"
    "  source manual\n"
    "  status online\n"
    "tag 2 \"复购客户\"\n"
    "\tgroup lifecycle\t# same group\n"
    "  category \"生命周期/复购\"\n"
    "tag 5 \"rfm_champions\"\n"
    "  kind model\n"
    "  source derived\n"
    "  category \"模型/RFM\"\n"
    "tag 6 \"triple\"\n"
    "  kind rule\n"
    "  source derived\n"
    "  when `首购客户` == 1\n"
    "next_id 12";

static const char LOOSE_CANONICAL[] =
    "libsegment-tags 1\n"
    "next_id 12\n"
    "tag 1 \"首购客户\"\n"
    "  alias \"客户首单\" \"客户已下单\" \"first purchase\"\n"
    "  category \"生命周期/首购\"\n"
    "  group lifecycle\n"
    "  owner \"crm\"\n"
    "  desc \"首次下单且未复购的客户\"\n"
    "tag 2 \"复购客户\"\n"
    "  category \"生命周期/复购\"\n"
    "  group lifecycle\n"
    "tag 3 \"高频\"\n"
    "  category \"行为/交易\"\n"
    "  when txn_90d >= 10     # ten or more\n"
    "tag 5 \"rfm_champions\"\n"
    "  category \"模型/RFM\"\n"
    "  kind model\n"
    "tag 6 \"triple\"\n"
    "  when `首购客户` == 1\n";

START_TEST(text_canonical)
{
    seg_tagreg *r = load_str(LOOSE);
    ck_assert_uint_eq(seg_tagreg_count(r), 5);
    ck_assert_str_eq(seg_tagreg_text(r, 3, SEG_TAG_CATEGORY), "行为/交易");
    /* the rule is the rest of the line (a comment is part of the rule
     * language), without the spaces around it */
    ck_assert_str_eq(seg_tagreg_text(r, 3, SEG_TAG_RULE_TEXT), "txn_90d >= 10     # ten or more");
    ck_assert_str_eq(seg_tagreg_text(r, 6, SEG_TAG_RULE_TEXT), "`首购客户` == 1");
    char *s = save_str(r);
    ASSERT_TEXT_EQ(s, LOOSE_CANONICAL);
    free(s);
    seg_tagreg_free(r);
    /* the canonical text is a fixed point */
    r = load_str(LOOSE_CANONICAL);
    s = save_str(r);
    ASSERT_TEXT_EQ(s, LOOSE_CANONICAL);
    free(s);
    seg_tagreg_free(r);

    /* Only `len` bytes are read: the text need not be NUL-terminated, and a
     * cut ends the registry there. */
    const char two[] = "tag 1 \"a\"\ntag 2 \"b\"\n  when garbage !!\n";
    size_t first = strlen("tag 1 \"a\"\ntag 2 \"b\"\n");
    r = load_ok(two, first);
    ck_assert_uint_eq(seg_tagreg_count(r), 2);
    s = save_str(r);
    ASSERT_TEXT_EQ(s, "libsegment-tags 1\nnext_id 3\ntag 1 \"a\"\ntag 2 \"b\"\n");
    free(s);
    seg_tagreg_free(r);
    r = load_ok(two, first - 1); /* without the last newline */
    ck_assert_uint_eq(seg_tagreg_count(r), 2);
    seg_tagreg_free(r);

    /* An empty text is an empty registry. */
    r = load_ok("", 0);
    ck_assert_uint_eq(seg_tagreg_count(r), 0);
    s = save_str(r);
    ASSERT_TEXT_EQ(s, "libsegment-tags 1\nnext_id 1\n");
    free(s);
    seg_tagreg_free(r);

    /* The largest id loads, saves and loads back to the same text. */
    r = load_str("tag 2147483647 \"max\"\n");
    ck_assert_int_eq(seg_tagreg_id_at(r, 0), SEG_TAG_ID_MAX);
    s = save_str(r);
    seg_tagreg *r2 = load_str(s);
    char *s2 = save_str(r2);
    ASSERT_TEXT_EQ(s, s2);
    ck_assert_str_eq(seg_tagreg_name(r2, SEG_TAG_ID_MAX), "max");
    free(s);
    free(s2);
    seg_tagreg_free(r);
    seg_tagreg_free(r2);

    /* Spaces and a CR after a rule are not part of it. */
    r = load_str("tag 1 \"a\"\n  when x > 1   \ntag 2 \"b\"\r\n  when  y > 2 \r\n");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_RULE_TEXT), "x > 1");
    ck_assert_str_eq(seg_tagreg_text(r, 2, SEG_TAG_RULE_TEXT), "y > 2");
    seg_tagreg_free(r);

    /* A rule may name a tag defined further down. */
    r = load_str("tag 1 \"a\"\n  when b == 1\ntag 2 \"b\"\n");
    ck_assert_int_eq(code_of(r, 1, SEG_TAG_KIND), SEG_TAG_RULE);
    seg_tagreg_free(r);

    /* A group written as a quoted string is the same group. */
    r = load_str("tag 1 \"a\"\n  group \"lifecycle\"\n");
    ck_assert_str_eq(seg_tagreg_text(r, 1, SEG_TAG_GROUP), "lifecycle");
    seg_tagreg_free(r);
}
END_TEST

START_TEST(save_buffer)
{
    seg_tagreg *r = load_str(SAMPLE);
    size_t need = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_save(r, NULL, 0, &need), SEG_OK);
    ck_assert_uint_eq(need, strlen(SAMPLE));
    char *buf = malloc(need + 16);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 'x', need + 16);
    size_t len = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_save(r, buf, need, &len), SEG_EBUFSZ); /* no room for NUL */
    ck_assert_uint_eq(len, need);
    for (size_t i = 0; i < need + 16; i++)
        ck_assert_int_eq(buf[i], 'x');
    len = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_save(r, buf, 10, &len), SEG_EBUFSZ);
    ck_assert_uint_eq(len, need);
    ck_assert_int_eq(seg_tagreg_save(r, buf, 0, &len), SEG_EBUFSZ);
    for (size_t i = 0; i < need + 16; i++)
        ck_assert_int_eq(buf[i], 'x');
    ck_assert_int_eq(seg_tagreg_save(r, buf, need + 1, &len), SEG_OK);
    ck_assert_uint_eq(len, need);
    ASSERT_TEXT_EQ(buf, SAMPLE);
    ck_assert_int_eq(buf[need + 1], 'x');
    free(buf);
    seg_tagreg_free(r);
}
END_TEST

START_TEST(load_null_and_messages)
{
    seg_tagreg *r = (seg_tagreg *)&r, *sentinel = r;
    char err[256];
    ck_assert_int_eq(seg_tagreg_load(NULL, SAMPLE, strlen(SAMPLE), NULL, NULL, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_tagreg_load(&r, NULL, 5, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_ptr_eq(r, sentinel);
    /* source names the text in messages; NULL gives "tags" */
    const char *bad = "tag 1 \"a\"\nbogus\n";
    ck_assert_int_eq(seg_tagreg_load(&r, bad, strlen(bad), "shop.tags", NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_msg(strncmp(err, "shop.tags:2:1: ", 15) == 0, "err: %s", err);
    ck_assert_int_eq(seg_tagreg_load(&r, bad, strlen(bad), NULL, NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_msg(strncmp(err, "tags:2:1: ", 10) == 0, "err: %s", err);
    /* NULL err_buf is allowed */
    ck_assert_int_eq(seg_tagreg_load(&r, bad, strlen(bad), NULL, NULL, NULL, 0), SEG_EPARSE);
    /* a short buffer is truncated, still NUL-terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(seg_tagreg_load(&r, bad, strlen(bad), NULL, NULL, small, sizeof small),
                     SEG_EPARSE);
    ck_assert_msg(memchr(small, '\0', sizeof small) != NULL, "not terminated");
    ck_assert_msg(strncmp(small, "tags:2:", 7) == 0, "small: %.8s", small);
    ck_assert_ptr_eq(r, sentinel);
    /* unknown allocator size */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t extra;
    } big = {ta.base, 7};
    big.a.struct_size = (uint32_t)sizeof big;
    ck_assert_int_eq(seg_tagreg_load(&r, SAMPLE, strlen(SAMPLE), NULL, &big.a, err, sizeof err),
                     SEG_EVERSION);
    ck_assert_ptr_eq(r, sentinel);
    ck_assert_uint_eq(ta.live, 0);
    /* with the counting allocator: everything goes through it */
    ck_assert_int_eq(seg_tagreg_load(&r, SAMPLE, strlen(SAMPLE), NULL, &ta.base, err, sizeof err),
                     SEG_OK);
    ck_assert_uint_gt(ta.live, 0);
    seg_tagreg_free(r);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
}
END_TEST

/* ---- syntax errors -------------------------------------------------------------- */

typedef struct bad_text {
    const char *text;
    int32_t rc;
    const char *prefix;  /* exact start of the message */
    const char *prefix2; /* an equally valid start where the contract allows two, or NULL */
    const char *word;    /* must occur in the message (case-insensitive), or NULL */
    const char *word2;
} bad_text;

/* Column counts: "tag 1 \"a\"" has tag=1..3, id=5, name=7..9.
 * "  alias \"x\"" has alias=3..7, string=9. "  category \"x\"": category=3..10,
 * string=12. "  kind fact": kind=3..6, value=8. "  status x" / "  source x":
 * keyword 3..8, value 10. "  group g": group=3..7, value=9. "  when r":
 * when=3..6, rule from 8. "next_id 3": value at 9. */
static const bad_text BAD[] = {
    /* attribute before any tag: the attribute */
    {"alias \"x\"\n", SEG_EPARSE, "tags:1:1: ", NULL, "tag", NULL},
    {"# c\n  category \"a\"\ntag 1 \"a\"\n", SEG_EPARSE, "tags:2:3: ", NULL, "tag", NULL},
    {"next_id 5\n  when x > 1\ntag 1 \"a\"\n", SEG_EPARSE, "tags:2:3: ", NULL, "tag", NULL},
    /* a single-valued attribute twice in one tag: the second one */
    {"tag 1 \"a\"\n  category \"x\"\n  category \"y\"\n", SEG_EPARSE, "tags:3:3: ", NULL,
     "category", NULL},
    {"tag 1 \"a\"\n  desc \"x\"\n  owner \"o\"\n  desc \"y\"\n", SEG_EPARSE, "tags:4:3: ", NULL,
     "desc", NULL},
    {"tag 1 \"a\"\n  owner \"x\"\n  owner \"x\"\n", SEG_EPARSE, "tags:3:3: ", NULL, "owner", NULL},
    {"tag 1 \"a\"\n  group g\n  group h\n", SEG_EPARSE, "tags:3:3: ", NULL, "group", NULL},
    {"tag 1 \"a\"\n  kind model\n  kind model\n", SEG_EPARSE, "tags:3:3: ", NULL, "kind", NULL},
    {"tag 1 \"a\"\n  status draft\n  status online\n", SEG_EPARSE, "tags:3:3: ", NULL, "status",
     NULL},
    {"tag 1 \"a\"\n  source manual\n  source manual\n", SEG_EPARSE, "tags:3:3: ", NULL, "source",
     NULL},
    {"tag 1 \"a\"\n  when x > 1\n  when x > 2\n", SEG_EPARSE, "tags:3:3: ", NULL, "when", NULL},
    /* kind rule without when: the value 'rule' */
    {"tag 1 \"a\"\n  kind rule\ntag 2 \"b\"\n", SEG_EPARSE, "tags:2:8: ", NULL, "when", NULL},
    {"tag 1 \"a\"\n  kind rule\n", SEG_EPARSE, "tags:2:8: ", NULL, "when", NULL},
    /* kind fact / model with when: the kind's value, before or after 'when' */
    {"tag 1 \"a\"\n  kind fact\n  when x > 1\n", SEG_EPARSE, "tags:2:8: ", NULL, "kind", "fact"},
    {"tag 1 \"a\"\n  when x > 1\n  kind model\n", SEG_EPARSE, "tags:3:8: ", NULL, "kind",
     "model"},
    /* duplicate id: the second id */
    {"tag 7 \"a\"\ntag 7 \"b\"\n", SEG_EPARSE, "tags:2:5: ", NULL, "7", "id"},
    {"tag 7 \"a\"\ntag 3 \"b\"\n\n  tag 7 \"c\"\n", SEG_EPARSE, "tags:4:7: ", NULL, "7", "id"},
    /* a name or alias taken: the string; the message names both */
    {"tag 1 \"VIP\"\ntag 2 \"ｖｉｐ\"\n", SEG_EPARSE, "tags:2:7: ", NULL, "VIP", "ｖｉｐ"},
    {"tag 1 \"alpha\"\n  alias \"贵宾\"\ntag 2 \"beta\"\n  alias \"x\" \"贵宾\"\n", SEG_EPARSE,
     "tags:4:13: ", NULL, "alpha", "贵宾"},
    {"tag 1 \"alpha\"\ntag 2 \"beta\"\n  alias \"ALPHA\"\n", SEG_EPARSE, "tags:3:9: ", NULL,
     "alpha", "alias"},
    {"tag 1 \"alpha\"\n  alias \"贵宾\"\ntag 2 \"贵宾 \"\n", SEG_EPARSE, "tags:3:7: ", NULL,
     "alpha", "贵宾"},
    /* an alias equal to the tag's own name */
    {"tag 1 \"alpha\"\n  alias \"ALPHA\"\n", SEG_EPARSE, "tags:2:9: ", NULL, "alpha", NULL},
    /* a bad name: empty after normalisation, too long */
    {"tag 1 \"\u3000 \"\n", SEG_EPARSE, "tags:1:7: ", NULL, "name", NULL},
    {"tag 1 \"a\"\n  alias \"ok\" \"\"\n", SEG_EPARSE, "tags:2:14: ", NULL, NULL, NULL},
    /* bad category: the string */
    {"tag 1 \"a\"\n  category \"x//y\"\n", SEG_EPARSE, "tags:2:12: ", NULL, "category", NULL},
    {"tag 1 \"a\"\n  category \"a/b/c/d/e/f\"\n", SEG_EPARSE, "tags:2:12: ", NULL, "category",
     NULL},
    {"tag 1 \"a\"\n  category \"a/\"\n", SEG_EPARSE, "tags:2:12: ", NULL, "category", NULL},
    /* id out of range or not an integer: the id */
    {"tag 0 \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    {"tag -1 \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    {"tag 2147483648 \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    {"tag 99999999999999999999 \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    {"tag 1.5 \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    {"tag x \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    {"tag \"a\"\n", SEG_EPARSE, "tags:1:5: ", NULL, "id", NULL},
    /* next_id not above every id: its value */
    {"next_id 3\ntag 3 \"a\"\n", SEG_EPARSE, "tags:1:9: ", NULL, "next_id", NULL},
    {"tag 5 \"a\"\ntag 2 \"b\"\nnext_id 2\n", SEG_EPARSE, "tags:3:9: ", NULL, "next_id", NULL},
    {"next_id -1\n", SEG_EPARSE, "tags:1:9: ", NULL, "next_id", NULL},
    {"next_id x\n", SEG_EPARSE, "tags:1:9: ", NULL, "next_id", NULL},
    /* unknown keyword: the keyword */
    {"tag 1 \"a\"\n  colour \"red\"\n", SEG_EPARSE, "tags:2:3: ", NULL, "colour", NULL},
    {"tags 1 \"a\"\n", SEG_EPARSE, "tags:1:1: ", NULL, "tags", NULL},
    {"\"a\"\n", SEG_EPARSE, "tags:1:1: ", NULL, NULL, NULL},
    {"tag 1 \"a\"\n  Kind fact\n", SEG_EPARSE, "tags:2:3: ", NULL, "Kind", NULL},
    /* unknown value of kind, status, source, group: the value */
    {"tag 1 \"a\"\n  kind bogus\n", SEG_EPARSE, "tags:2:8: ", NULL, "bogus", NULL},
    {"tag 1 \"a\"\n  status live\n", SEG_EPARSE, "tags:2:10: ", NULL, "live", NULL},
    {"tag 1 \"a\"\n  source auto\n", SEG_EPARSE, "tags:2:10: ", NULL, "auto", NULL},
    {"tag 1 \"a\"\n  group 5\n", SEG_EPARSE, "tags:2:9: ", NULL, "group", NULL},
    {"tag 1 \"a\"\n  desc unquoted\n", SEG_EPARSE, "tags:2:8: ", NULL, "unquoted", "quotes"},
    /* missing tokens: where the token should be (end of line or text) */
    {"tag\n", SEG_EPARSE, "tags:1:4: ", NULL, "id", NULL},
    {"tag 1\n", SEG_EPARSE, "tags:1:6: ", NULL, "name", NULL},
    {"tag 1", SEG_EPARSE, "tags:1:6: ", NULL, "name", NULL},
    {"tag 1 a\n", SEG_EPARSE, "tags:1:7: ", NULL, "name", NULL},
    {"tag 1 `a`\n", SEG_EPARSE, "tags:1:7: ", NULL, "name", NULL},
    {"tag 1 \"a\"\n  alias\n", SEG_EPARSE, "tags:2:8: ", NULL, "alias", NULL},
    {"tag 1 \"a\"\n  category\n", SEG_EPARSE, "tags:2:11: ", NULL, "quotes", "end of line"},
    {"tag 1 \"a\"\n  kind\n", SEG_EPARSE, "tags:2:7: ", NULL, "kind", NULL},
    {"tag 1 \"a\"\n  group # none\n", SEG_EPARSE, "tags:2:15: ", NULL, "group", NULL},
    {"tag 1 \"a\"\n  owner", SEG_EPARSE, "tags:2:8: ", NULL, "quotes", NULL},
    {"next_id\n", SEG_EPARSE, "tags:1:8: ", NULL, "next_id", NULL},
    /* 'when' without a rule: the end of the line, where the rule should be
     * (after a comment: the line end at column 17) */
    {"tag 1 \"a\"\n  when\n", SEG_EPARSE, "tags:2:7: ", NULL, "rule", NULL},
    {"tag 1 \"a\"\n  when   # later\n", SEG_EPARSE, "tags:2:17: ", NULL, "rule", NULL},
    /* extra tokens: the first extra one */
    {"tag 1 \"a\" \"b\"\n", SEG_EPARSE, "tags:1:11: ", NULL, NULL, NULL},
    {"tag 1 \"a\"\n  category \"x\" \"y\"\n", SEG_EPARSE, "tags:2:16: ", NULL, NULL, NULL},
    {"tag 1 \"a\"\n  kind fact rule\n", SEG_EPARSE, "tags:2:13: ", NULL, NULL, NULL},
    {"tag 1 \"a\"\n  group g h\n", SEG_EPARSE, "tags:2:11: ", NULL, NULL, NULL},
    {"tag 1 \"a\"\n  desc \"x\" 5\n", SEG_EPARSE, "tags:2:12: ", NULL, NULL, NULL},
    {"next_id 5 6\n", SEG_EPARSE, "tags:1:11: ", NULL, NULL, NULL},
    {"tag 1 \"a\"\n  alias \"x\" y\n", SEG_EPARSE, "tags:2:13: ", NULL, NULL, NULL},
    /* lexical errors: the token */
    {"tag 1 \"abc\n", SEG_EPARSE, "tags:1:7: ", NULL, "unterminated", NULL},
    {"tag 1 \"a\"\n  desc \"x\n", SEG_EPARSE, "tags:2:8: ", NULL, "unterminated", NULL},
    /* the same with CRLF line ends */
    {"tag 1 \"a\"\r\n\r\n  kind bogus\r\n", SEG_EPARSE, "tags:3:8: ", NULL, "bogus", NULL},
    /* rule syntax errors: at their position in the file. "  when x = 1":
     * x=8, '='=10. "  when sqrt(x) > 1": sqrt=8. */
    {"tag 1 \"a\"\n  when x = 1\n", SEG_EPARSE, "tags:2:10: ", NULL, "==", NULL},
    {"tag 1 \"a\"\n  category \"c\"\n  when aum > 1 and sqrt(x) > 1\n", SEG_EPARSE,
     "tags:3:20: ", NULL, "sqrt", NULL},
    {"tag 1 \"a\"\r\n  when x = 1\r\n", SEG_EPARSE, "tags:2:10: ", NULL, "==", NULL},
    /* rule cycles: at the rule text ("  when alpha == 1": alpha at 8); a
     * cycle is reported at the rule of its first tag in id order, and the
     * message lists the tags. The last case is x -> y -> z -> w -> x, with
     * y naming 乙 (an alias of zed, defined further down: no cycle) and w
     * naming x as `X`. */
    {"tag 1 \"alpha\"\n  when alpha == 1\n", SEG_EPARSE, "tags:2:8: ", NULL, "alpha", "cycle"},
    {"tag 1 \"alpha\"\n  when beta == 1\ntag 2 \"beta\"\n  when alpha == 1\n", SEG_EPARSE,
     "tags:2:8: ", NULL, "alpha", "beta"},
    {"tag 1 \"x\"\n  when y == 1\ntag 2 \"y\"\n  when `乙` == 1 and z == 0\ntag 3 \"zed\"\n"
     "  alias \"乙\"\n  when aum > 1\ntag 4 \"w\"\n  when `X` == 1\ntag 5 \"z\"\n  when w == 1\n",
     SEG_EPARSE, "tags:2:8: ", NULL, "'w'", "'z'"},
    /* format version: only 1; the version's column (17) */
    {"libsegment-tags 2\ntag 1 \"a\"\n", SEG_EVERSION, "tags:1:17: ", NULL, "version", NULL},
    {"# c\n\nlibsegment-tags 10\ntag 1 \"a\"\n", SEG_EVERSION, "tags:3:17: ", NULL, "version",
     NULL},
};

START_TEST(syntax_errors)
{
    const bad_text *b = &BAD[_i];
    seg_tagreg *r = (seg_tagreg *)&r, *sentinel = r;
    char err[512] = "";
    int32_t rc = seg_tagreg_load(&r, b->text, strlen(b->text), NULL, NULL, err, sizeof err);
    ck_assert_msg(rc == b->rc, "case %d: rc %d, expected %d (%s); text: %s", _i, (int)rc,
                  (int)b->rc, err, ONELINE(b->text));
    ck_assert_ptr_eq(r, sentinel);
    int at = strncmp(err, b->prefix, strlen(b->prefix)) == 0 ||
             (b->prefix2 && strncmp(err, b->prefix2, strlen(b->prefix2)) == 0);
    ck_assert_msg(at, "case %d: message \"%s\" does not start with \"%s\"%s%s; text: %s", _i, err,
                  b->prefix, b->prefix2 ? " or " : "", b->prefix2 ? b->prefix2 : "",
                  ONELINE(b->text));
    if (b->word)
        ck_assert_msg(seg_test_has_word(err, b->word),
                      "case %d: message \"%s\" lacks \"%s\"; text: %s", _i, err, b->word,
                      ONELINE(b->text));
    if (b->word2)
        ck_assert_msg(seg_test_has_word(err, b->word2),
                      "case %d: message \"%s\" lacks \"%s\"; text: %s", _i, err, b->word2,
                      ONELINE(b->text));
}
END_TEST

/* ---- failing allocations ------------------------------------------------------ */

/* Loads SAMPLE with the k-th allocation failing (only it, or every one from
 * it on with `sticky`), for k = 0, 1, ... until a load succeeds without a
 * failure: each failed load is ENOMEM, leaves the output alone and frees
 * everything; a successful one gives the whole registry. */
static void load_oom(int sticky)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    ta.sticky = sticky;
    int done = 0;
    long k;
    for (k = 0; k < 20000 && !done; k++) {
        seg_test_alloc_fail_next(&ta, (size_t)k);
        seg_tagreg *r = (seg_tagreg *)&r, *sentinel = r;
        char err[256] = "";
        int32_t rc = seg_tagreg_load(&r, SAMPLE, strlen(SAMPLE), "t.txt", &ta.base, err,
                                     sizeof err);
        if (rc == SEG_OK) {
            seg_test_alloc_no_fail(&ta);
            check_sample(r);
            char *s = save_str(r);
            ASSERT_TEXT_EQ(s, SAMPLE);
            free(s);
            seg_tagreg_free(r);
            done = ta.failures == 0;
        } else {
            ck_assert_msg(rc == SEG_ENOMEM, "allocation %ld failing: rc %d (%s)", k, (int)rc,
                          err);
            ck_assert_msg(ta.failures > 0, "allocation %ld: rc %d without a failure", k, (int)rc);
            ck_assert_ptr_eq(r, sentinel);
            ck_assert_msg(seg_test_has_word(err, "memory"), "allocation %ld: message: %s", k,
                          err);
        }
        ck_assert_msg(ta.live == 0, "allocation %ld failing: %zu blocks leaked", k, ta.live);
        ck_assert_uint_eq(ta.bad_frees, 0);
    }
    ck_assert(done);
    ck_assert_int_gt(k, 5); /* a real load allocates more than a handful of times */
}

START_TEST(load_out_of_memory)
{
    load_oom(0);
}
END_TEST

START_TEST(load_out_of_memory_sticky)
{
    load_oom(1);
}
END_TEST

/* One step of the build sequence. On ENOMEM, the registry must be as it
 * was (same saved text, same count, not frozen if it was not) and the
 * message must say so; then the step is retried without failures and must
 * succeed. Returns how many ENOMEMs were seen. */
typedef struct build_ctx {
    seg_test_alloc *ta;
    seg_tagreg *r;
    int enomem;
    long k;
} build_ctx;

static char *snapshot(const seg_tagreg *r)
{
    return save_str(r);
}

#define STEP(ctx, call)                                                                        \
    do {                                                                                       \
        char *before_ = snapshot((ctx)->r);                                                    \
        size_t count_ = seg_tagreg_count((ctx)->r);                                            \
        int32_t frozen_ = seg_tagreg_is_frozen((ctx)->r);                                      \
        int32_t rc_ = (call);                                                                  \
        if (rc_ == SEG_ENOMEM) {                                                               \
            (ctx)->enomem++;                                                                   \
            char *after_ = snapshot((ctx)->r);                                                 \
            ck_assert_msg(strcmp(before_, after_) == 0, "k=%ld: %s changed the registry",      \
                          (ctx)->k, #call);                                                    \
            free(after_);                                                                      \
            ck_assert_uint_eq(seg_tagreg_count((ctx)->r), count_);                             \
            ck_assert_int_eq(seg_tagreg_is_frozen((ctx)->r), frozen_);                         \
            ck_assert_msg(seg_test_has_word(LAST((ctx)->r), "memory"), "k=%ld: %s: %s",        \
                          (ctx)->k, #call, LAST((ctx)->r));                                    \
            seg_test_alloc_no_fail((ctx)->ta);                                                 \
            rc_ = (call);                                                                      \
        }                                                                                      \
        ck_assert_msg(rc_ == SEG_OK, "k=%ld: %s: rc %d (%s)", (ctx)->k, #call, (int)rc_,       \
                      LAST((ctx)->r));                                                         \
        free(before_);                                                                         \
    } while (0)

/* Builds (a part of) the sample registry and more; returns the saved text. */
static char *build_sequence(build_ctx *c)
{
    seg_tagreg *r = (seg_tagreg *)&r, *sentinel = r;
    int32_t rc = seg_tagreg_new(&r, &c->ta->base);
    if (rc == SEG_ENOMEM) {
        c->enomem++;
        ck_assert_ptr_eq(r, sentinel);
        ck_assert_uint_eq(c->ta->live, 0);
        seg_test_alloc_no_fail(c->ta);
        rc = seg_tagreg_new(&r, &c->ta->base);
    }
    ck_assert_int_eq(rc, SEG_OK);
    c->r = r;
    int32_t id = CANARY_I32;
    STEP(c, seg_tagreg_add(r, 0, "首购客户", &id));
    STEP(c, seg_tagreg_add(r, 0, "复购客户", &id));
    STEP(c, seg_tagreg_add(r, 0, "高频", &id));
    STEP(c, seg_tagreg_add(r, 10, "VIP", &id));
    for (int i = 0; i < 20; i++) { /* enough tags to grow the tables */
        char name[32];
        snprintf(name, sizeof name, "filler %d", i);
        STEP(c, seg_tagreg_add(r, 0, name, &id));
    }
    STEP(c, seg_tagreg_add_alias(r, 1, "客户首单"));
    STEP(c, seg_tagreg_add_alias(r, 1, "客户已下单"));
    STEP(c, seg_tagreg_add_alias(r, 1, "first purchase"));
    STEP(c, seg_tagreg_add_alias(r, 10, "贵宾"));
    STEP(c, seg_tagreg_set_text(r, 1, SEG_TAG_CATEGORY, "生命周期/首购"));
    STEP(c, seg_tagreg_set_text(r, 1, SEG_TAG_GROUP, "lifecycle"));
    STEP(c, seg_tagreg_set_text(r, 2, SEG_TAG_GROUP, "lifecycle"));
    STEP(c, seg_tagreg_set_text(r, 1, SEG_TAG_DESCRIPTION, "首次下单且未复购的客户"));
    STEP(c, seg_tagreg_set_text(r, 1, SEG_TAG_OWNER, "crm"));
    STEP(c, seg_tagreg_set_text(r, 3, SEG_TAG_RULE_TEXT, "txn_90d >= 10 and `客户首单` == 1"));
    STEP(c, seg_tagreg_set_text(r, 3, SEG_TAG_RULE_TEXT, "txn_90d >= 10 and `首购客户` == 1"));
    STEP(c, seg_tagreg_set_text(r, 11, SEG_TAG_RULE_TEXT, "VIP == 1 or aum > 5"));
    STEP(c, seg_tagreg_set_code(r, 10, SEG_TAG_STATUS, SEG_TAG_OFFLINE));
    STEP(c, seg_tagreg_rename(r, 2, "复购"));
    STEP(c, seg_tagreg_rename(r, 10, "贵宾"));
    STEP(c, seg_tagreg_add(r, 0, "tmp", &id));
    STEP(c, seg_tagreg_remove(r, id));
    STEP(c, seg_tagreg_remove(r, 12));
    STEP(c, seg_tagreg_freeze(r));
    /* const calls that may allocate */
    int32_t ids[8] = {0};
    size_t n = 0;
    size_t *np = &n;
    for (int i = 0; i < 8; i++)
        ids[i] = CANARY_I32;
    rc = seg_tagreg_suggest(r, "首购", ids, 8, np);
    if (rc == SEG_ENOMEM) {
        c->enomem++;
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(ids[i], CANARY_I32);
        seg_test_alloc_no_fail(c->ta);
        rc = seg_tagreg_suggest(r, "首购", ids, 8, np);
    }
    ck_assert_int_eq(rc, SEG_OK);
    ck_assert_uint_ge(n, 1);
    ck_assert_int_eq(ids[0], 1);
    char *s = snapshot(r);
    seg_tagreg_free(r);
    c->r = NULL;
    return s;
}

START_TEST(build_out_of_memory)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    build_ctx c = {&ta, NULL, 0, -1};
    char *want = build_sequence(&c);
    ck_assert_int_eq(c.enomem, 0);
    ck_assert_uint_eq(ta.live, 0);
    int done = 0;
    long k;
    for (k = 0; k < 20000 && !done; k++) {
        c.enomem = 0;
        c.k = k;
        seg_test_alloc_fail_next(&ta, (size_t)k);
        char *got = build_sequence(&c);
        ASSERT_TEXT_EQ(got, want);
        free(got);
        ck_assert_msg(ta.live == 0, "allocation %ld failing: %zu blocks leaked", k, ta.live);
        ck_assert_uint_eq(ta.bad_frees, 0);
        /* every failed allocation surfaced as exactly one ENOMEM */
        ck_assert_msg((size_t)c.enomem == ta.failures, "k=%ld: %d ENOMEM for %zu failures", k,
                      c.enomem, ta.failures);
        done = ta.failures == 0;
        seg_test_alloc_no_fail(&ta);
    }
    ck_assert(done);
    ck_assert_int_gt(k, 10);
    free(want);
}
END_TEST

/* ---- suite --------------------------------------------------------------------- */

static Suite *tagreg_suite(void)
{
    Suite *s = suite_create("tagreg");
    TCase *tc = tcase_create("names");
    tcase_add_loop_test(tc, normalize_known, 0, (int)N_OF(NORM));
    tcase_add_test(tc, normalize_errors);
    tcase_add_test(tc, normalize_random_oracle);
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_add_test(tc, new_and_null_arguments);
    tcase_add_test(tc, add_ids);
    tcase_add_test(tc, names_and_aliases);
    tcase_add_test(tc, rename_tags);
    tcase_add_test(tc, remove_tags);
    tcase_add_test(tc, attribute_defaults_and_kinds);
    tcase_add_test(tc, attribute_validation);
    tcase_add_test(tc, categories_and_groups);
    tcase_add_test(tc, suggest_known);
    tcase_add_test(tc, suggest_random_oracle);
    tcase_add_test(tc, freeze_makes_immutable);
    tcase_add_test(tc, freeze_cycles_and_rule_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("text");
    tcase_add_test(tc, text_round_trip);
    tcase_add_test(tc, text_canonical);
    tcase_add_test(tc, save_buffer);
    tcase_add_test(tc, load_null_and_messages);
    tcase_add_loop_test(tc, syntax_errors, 0, (int)N_OF(BAD));
    suite_add_tcase(s, tc);

    tc = tcase_create("memory");
    tcase_add_test(tc, load_out_of_memory);
    tcase_add_test(tc, load_out_of_memory_sticky);
    tcase_add_test(tc, build_out_of_memory);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(tagreg_suite());
}
