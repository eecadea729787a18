/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests of audience queries (include/segment/query.h): the
 * boolean language (and / or / not / parentheses / true / false and their
 * precedence) on a 20-row tag set whose answers are worked out by hand in
 * the comments; names written bare (Chinese included), as aliases, in
 * normalised variants ("ＶＩＰ" finds "vip"), backquoted and double-quoted;
 * seg_query_select ordering, limits and paging; count and mask; a 200003-row
 * set whose tags take every storage form (empty, full, sorted list, bitmap)
 * in several chunks, including the partial last one; every syntax error
 * with its exact "query:LINE:COL: " position (byte columns, 1-based);
 * unknown tags with their "did you mean" suggestions; disabled tags;
 * registry and tag-set mismatches; outputs left untouched on failure
 * (canaries); eight threads sharing one query and one frozen set; and
 * allocation failures while compiling and running.
 *
 * The small registry ("shop"), id: name [aliases] {group} (status), and
 * the rows of the 20-row set holding each tag:
 *
 *    1 首购客户 [客户首单, first purchase] {lifecycle}  0 1 2 3 4 5
 *    2 复购客户 {lifecycle}                             6 7 8 9 10 11
 *    3 流失 [churned]                                   4 5 10 11 19
 *    4 理财偏好                                         0 2 4 6 8 10 12 14 16 18
 *    5 基金持有                                         0 3 5 9 15
 *    6 vip [贵宾]                                       1 2 3 7 13 17
 *    7 high value                                       2 3 5 7 11 13 17 19
 *    8 旧标签 [old_tag] (disabled)                      0
 *    9 offline_tag (offline: still queryable)           1 19
 *   10 android (a bare word that starts like 'and')     12 .. 19
 *   11 notify (starts like 'not'; on no row)            -
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"


/* ---- the small registry and set --------------------------------------------- */

#define SMALL_N 20

typedef struct tag_def {
    int32_t id;
    const char *name;
    const char *aliases[3];
    const char *group;
    int32_t status;
    const char *rows; /* SMALL_N characters, '1' where the row holds the tag */
} tag_def;

static const tag_def SHOP[] = {
    {1, "首购客户", {"客户首单", "first purchase", NULL}, "lifecycle", SEG_TAG_ONLINE,
     "11111100000000000000"},
    {2, "复购客户", {NULL}, "lifecycle", SEG_TAG_ONLINE, "00000011111100000000"},
    {3, "流失", {"churned", NULL}, NULL, SEG_TAG_ONLINE, "00001100001100000001"},
    {4, "理财偏好", {NULL}, NULL, SEG_TAG_ONLINE, "10101010101010101010"},
    {5, "基金持有", {NULL}, NULL, SEG_TAG_ONLINE, "10010100010000010000"},
    {6, "vip", {"贵宾", NULL}, NULL, SEG_TAG_ONLINE, "01110001000001000100"},
    {7, "high value", {NULL}, NULL, SEG_TAG_ONLINE, "00110101000101000101"},
    {8, "旧标签", {"old_tag", NULL}, NULL, SEG_TAG_DISABLED, "10000000000000000000"},
    {9, "offline_tag", {NULL}, NULL, SEG_TAG_OFFLINE, "01000000000000000001"},
    {10, "android", {NULL}, NULL, SEG_TAG_ONLINE, "00000000000011111111"},
    {11, "notify", {NULL}, NULL, SEG_TAG_ONLINE, "00000000000000000000"},
};
#define SHOP_N (sizeof SHOP / sizeof *SHOP)

/* Builds (and freezes) a registry from `defs`. */
static seg_tagreg *build_reg(const tag_def *defs, size_t n, const seg_allocator *alloc)
{
    seg_tagreg *reg = NULL;
    ck_assert_int_eq(seg_tagreg_new(&reg, alloc), SEG_OK);
    for (size_t i = 0; i < n; i++) {
        const tag_def *d = &defs[i];
        int32_t id = 0;
        int32_t rc = seg_tagreg_add(reg, d->id, d->name, &id);
        ck_assert_msg(rc == SEG_OK, "add %s: %d %s", d->name, (int)rc,
                      seg_tagreg_last_error(reg));
        ck_assert_int_eq(id, d->id);
        for (size_t k = 0; k < 3 && d->aliases[k]; k++) {
            rc = seg_tagreg_add_alias(reg, d->id, d->aliases[k]);
            ck_assert_msg(rc == SEG_OK, "alias %s: %d %s", d->aliases[k], (int)rc,
                          seg_tagreg_last_error(reg));
        }
        if (d->group)
            ck_assert_int_eq(seg_tagreg_set_text(reg, d->id, SEG_TAG_GROUP, d->group), SEG_OK);
        if (d->status != SEG_TAG_ONLINE)
            ck_assert_int_eq(seg_tagreg_set_code(reg, d->id, SEG_TAG_STATUS, d->status), SEG_OK);
    }
    int32_t rc = seg_tagreg_freeze(reg);
    ck_assert_msg(rc == SEG_OK, "freeze: %d %s", (int)rc, seg_tagreg_last_error(reg));
    return reg;
}

static seg_tagreg *shop_reg(void)
{
    return build_reg(SHOP, SHOP_N, NULL);
}

/* The 20-row set of the table above (each tag checked by its count). */
static seg_tagset *shop_set(const seg_tagreg *reg)
{
    seg_tagset *set = NULL;
    ck_assert_int_eq(seg_tagset_new(&set, reg, SMALL_N, NULL), SEG_OK);
    for (size_t i = 0; i < SHOP_N; i++) {
        int64_t rows[SMALL_N];
        size_t k = 0;
        for (size_t r = 0; r < SMALL_N; r++)
            if (SHOP[i].rows[r] == '1')
                rows[k++] = (int64_t)r;
        char err[256] = "";
        int32_t rc = seg_tagset_set_rows(set, SHOP[i].id, rows, k, 1, err, sizeof err);
        ck_assert_msg(rc == SEG_OK, "set_rows %s: %d %s", SHOP[i].name, (int)rc, err);
        int64_t cnt = -1;
        ck_assert_int_eq(seg_tagset_count(set, SHOP[i].id, &cnt), SEG_OK);
        ck_assert_msg(cnt == (int64_t)k, "tag %s: count %lld, expected %zu", SHOP[i].name,
                      (long long)cnt, k);
    }
    return set;
}

/* ---- helpers ----------------------------------------------------------------- */

static seg_query *compile_ok(const char *text, const seg_tagreg *reg)
{
    seg_query *q = NULL;
    char err[512] = "";
    int32_t rc = seg_query_compile(&q, text, strlen(text), reg, NULL, NULL, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "compile \"%s\": %d %s", text, (int)rc, err);
    ck_assert_ptr_nonnull(q);
    return q;
}

static int64_t count_ok(const seg_query *q, const seg_tagset *set)
{
    int64_t n = CANARY_I64;
    char err[256] = "";
    int32_t rc = seg_query_count(q, set, &n, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "count: %d %s", (int)rc, err);
    return n;
}

/* Parses "0 2 3" into rows; returns how many. */
static size_t parse_rows(const char *list, int64_t *rows, size_t cap)
{
    size_t n = 0;
    const char *p = list;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end = NULL;
        long v = strtol(p, &end, 10);
        ck_assert(end != p);
        ck_assert(n < cap);
        rows[n++] = v;
        p = end;
    }
    return n;
}

/* Checks one query on the small set against the hand-worked row list:
 * count, select (all at once, then one row per call), mask. */
static void expect_rows_q(const seg_query *q, const seg_tagset *set, const char *text,
                          const char *want_list)
{
    int64_t want[SMALL_N];
    size_t nw = parse_rows(want_list, want, SMALL_N);
    char err[256] = "";

    int64_t cnt = count_ok(q, set);
    ck_assert_msg(cnt == (int64_t)nw, "\"%s\": count %lld, expected %zu (rows %s)", text,
                  (long long)cnt, nw, want_list);

    int64_t got[SMALL_N + 4];
    for (size_t i = 0; i < SMALL_N + 4; i++)
        got[i] = CANARY_I64;
    size_t ng = CANARY_SIZE;
    int32_t rc = seg_query_select(q, set, 0, got, SMALL_N + 4, &ng, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "\"%s\": select: %d %s", text, (int)rc, err);
    ck_assert_msg(ng == nw, "\"%s\": select gave %zu rows, expected %zu", text, ng, nw);
    for (size_t i = 0; i < nw; i++)
        ck_assert_msg(got[i] == want[i], "\"%s\": select[%zu] = %lld, expected %lld (rows %s)",
                      text, i, (long long)got[i], (long long)want[i], want_list);
    for (size_t i = nw; i < SMALL_N + 4; i++)
        ck_assert_msg(got[i] == CANARY_I64, "\"%s\": select wrote past out_n at [%zu]", text, i);

    /* one row per call, paging with row_begin = last + 1 */
    int64_t begin = 0;
    for (size_t i = 0; i <= nw; i++) {
        int64_t one[2] = {CANARY_I64, CANARY_I64};
        ng = CANARY_SIZE;
        rc = seg_query_select(q, set, begin, one, 1, &ng, err, sizeof err);
        ck_assert_msg(rc == SEG_OK, "\"%s\": select from %lld: %d %s", text, (long long)begin,
                      (int)rc, err);
        ck_assert_int_eq(one[1], CANARY_I64);
        if (i == nw) {
            ck_assert_msg(ng == 0, "\"%s\": page after the last row gave %zu rows", text, ng);
            ck_assert_int_eq(one[0], CANARY_I64);
        } else {
            ck_assert_msg(ng == 1 && one[0] == want[i],
                          "\"%s\": page %zu from %lld: n %zu row %lld, expected %lld", text, i,
                          (long long)begin, ng, (long long)one[0], (long long)want[i]);
            begin = one[0] + 1;
        }
    }

    uint8_t mask[SMALL_N + 1];
    memset(mask, CANARY_U8, sizeof mask);
    rc = seg_query_mask(q, set, mask, SMALL_N, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "\"%s\": mask: %d %s", text, (int)rc, err);
    size_t k = 0;
    for (size_t r = 0; r < SMALL_N; r++) {
        uint8_t w = (k < nw && want[k] == (int64_t)r) ? 1 : 0;
        k += w;
        ck_assert_msg(mask[r] == w, "\"%s\": mask[%zu] = %u, expected %u", text, r,
                      (unsigned)mask[r], (unsigned)w);
    }
    ck_assert_int_eq(mask[SMALL_N], CANARY_U8);
}

static void expect_rows(const seg_tagreg *reg, const seg_tagset *set, const char *text,
                        const char *want_list)
{
    seg_query *q = compile_ok(text, reg);
    expect_rows_q(q, set, text, want_list);
    seg_query_free(q);
}

#define ALL_ROWS "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19"

/* ---- the language ------------------------------------------------------------- */

START_TEST(single_tags)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    expect_rows(reg, set, "vip", "1 2 3 7 13 17");
    expect_rows(reg, set, "流失", "4 5 10 11 19");
    expect_rows(reg, set, "首购客户", "0 1 2 3 4 5");
    /* offline tags stay queryable */
    expect_rows(reg, set, "offline_tag", "1 19");
    /* 'android' and 'notify' are names, not 'and' / 'not' followed by text */
    expect_rows(reg, set, "android", "12 13 14 15 16 17 18 19");
    expect_rows(reg, set, "notify", "");
    expect_rows(reg, set, "not notify", ALL_ROWS);
    expect_rows(reg, set, "android and not notify", "12 13 14 15 16 17 18 19");
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

START_TEST(and_or_not)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    /* vip {1 2 3 7 13 17} and 理财偏好 {evens}: only 2 is both */
    expect_rows(reg, set, "vip and 理财偏好", "2");
    /* vip or 流失: the union */
    expect_rows(reg, set, "vip or 流失", "1 2 3 4 5 7 10 11 13 17 19");
    /* not vip: the other 14 rows */
    expect_rows(reg, set, "not vip", "0 4 5 6 8 9 10 11 12 14 15 16 18 19");
    expect_rows(reg, set, "not not vip", "1 2 3 7 13 17");
    expect_rows(reg, set, "not not not vip", "0 4 5 6 8 9 10 11 12 14 15 16 18 19");
    /* 理财偏好 and 基金持有 {0 3 5 9 15}: 0 */
    expect_rows(reg, set, "理财偏好 and 基金持有", "0");
    /* the two lifecycle tags never hold together */
    expect_rows(reg, set, "首购客户 and 复购客户", "");
    /* 首购 0-5, 复购 6-11, android 12-19: everybody */
    expect_rows(reg, set, "首购客户 or 复购客户 or android", ALL_ROWS);
    expect_rows(reg, set, "复购客户 or android", "6 7 8 9 10 11 12 13 14 15 16 17 18 19");
    /* and is associative: three-way intersections either way round */
    expect_rows(reg, set, "`high value` and vip and not 理财偏好", "3 7 13 17");
    expect_rows(reg, set, "not 理财偏好 and vip and `high value`", "3 7 13 17");
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

START_TEST(true_false)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    expect_rows(reg, set, "true", ALL_ROWS);
    expect_rows(reg, set, "false", "");
    expect_rows(reg, set, "not true", "");
    expect_rows(reg, set, "not false", ALL_ROWS);
    expect_rows(reg, set, "true and vip", "1 2 3 7 13 17");
    expect_rows(reg, set, "vip and false", "");
    expect_rows(reg, set, "false or vip", "1 2 3 7 13 17");
    expect_rows(reg, set, "vip or true", ALL_ROWS);
    expect_rows(reg, set, "(true)", ALL_ROWS);
    expect_rows(reg, set, "true and false or true", ALL_ROWS);
    /* and first: true or (false and false) */
    expect_rows(reg, set, "true or false and false", ALL_ROWS);
    expect_rows(reg, set, "(true or false) and false", "");
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

START_TEST(precedence)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    /* and binds tighter than or:
     *   vip or (high value and 流失) = {1 2 3 7 13 17} + {5 11 19}
     *   (vip or high value) and 流失 = {5 11 19} */
    expect_rows(reg, set, "vip or `high value` and 流失", "1 2 3 5 7 11 13 17 19");
    expect_rows(reg, set, "vip or (`high value` and 流失)", "1 2 3 5 7 11 13 17 19");
    expect_rows(reg, set, "(vip or `high value`) and 流失", "5 11 19");
    /* not binds tighter than and:
     *   (not vip) and 理财偏好 = evens without 2
     *   not (vip and 理财偏好) = everybody but 2 */
    expect_rows(reg, set, "not vip and 理财偏好", "0 4 6 8 10 12 14 16 18");
    expect_rows(reg, set, "not (vip and 理财偏好)",
                "0 1 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19");
    /* not binds tighter than or:
     *   (not 理财偏好) or vip = odds + {2}
     *   not (理财偏好 or vip) = odds without 1 3 7 13 17 */
    expect_rows(reg, set, "not 理财偏好 or vip", "1 2 3 5 7 9 11 13 15 17 19");
    expect_rows(reg, set, "not (理财偏好 or vip)", "5 9 11 15 19");
    /* a or b and c or d = a or (b and c) or d:
     *   基金持有 {0 3 5 9 15} + (high value and 流失 = {5 11 19}) + offline {1 19}
     * grouping left to right instead would give ((a or b) and c) or d = {1 5 11 19} */
    expect_rows(reg, set, "基金持有 or `high value` and 流失 or offline_tag", "0 1 3 5 9 11 15 19");
    expect_rows(reg, set, "(基金持有 or `high value`) and 流失 or offline_tag", "1 5 11 19");
    /* (not 流失 and not 理财偏好) or notify: odd rows outside 流失 */
    expect_rows(reg, set, "not 流失 and not 理财偏好 or notify", "1 3 7 9 13 15 17");
    /* (首购 or vip) and not (流失 or 理财偏好): {0..5,7,13,17} minus {4 5 10 11 19, evens} */
    expect_rows(reg, set, "(首购客户 or vip) and not (流失 or 理财偏好)", "1 3 7 13 17");
    /* redundant parentheses, no spaces around them */
    expect_rows(reg, set, "((((vip))))", "1 2 3 7 13 17");
    expect_rows(reg, set, "(理财偏好)and(基金持有)", "0");
    expect_rows(reg, set, "vip and(not 流失)", "1 2 3 7 13 17");
    expect_rows(reg, set, "not(vip)and 理财偏好", "0 4 6 8 10 12 14 16 18");
    /* whitespace of every kind between tokens, including a newline */
    expect_rows(reg, set, "  vip\tand\n理财偏好  ", "2");
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

START_TEST(chinese_and_aliases)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    /* The example: 首购 {0..5} without 流失 {4 5} = {0 1 2 3}, and
     * 理财偏好 or 基金持有 = {0 2 3 4 5 6 8 9 10 12 14 15 16 18}: {0 2 3}. */
    expect_rows(reg, set, "首购客户 and not 流失 and (理财偏好 or 基金持有)", "0 2 3");
    /* the same through aliases */
    expect_rows(reg, set, "客户首单 and not churned and (理财偏好 or 基金持有)", "0 2 3");
    expect_rows(reg, set, "`first purchase` and not 流失 and (理财偏好 or 基金持有)", "0 2 3");
    /* aliases of one tag */
    expect_rows(reg, set, "客户首单", "0 1 2 3 4 5");
    expect_rows(reg, set, "\"first purchase\"", "0 1 2 3 4 5");
    expect_rows(reg, set, "churned", "4 5 10 11 19");
    expect_rows(reg, set, "贵宾", "1 2 3 7 13 17");
    /* normalised variants: case, full-width ASCII (bare: non-ASCII is a
     * word character), inner and outer spaces, ideographic space U+3000 and
     * no-break space U+00A0 inside quotes (a tab would be a control
     * character, not allowed in names) */
    expect_rows(reg, set, "VIP", "1 2 3 7 13 17");
    expect_rows(reg, set, "Vip", "1 2 3 7 13 17");
    expect_rows(reg, set, "ＶＩＰ", "1 2 3 7 13 17");
    expect_rows(reg, set, "ｖｉｐ and not 理财偏好", "1 3 7 13 17");
    expect_rows(reg, set, "\" vip \"", "1 2 3 7 13 17");
    expect_rows(reg, set, "`First   PURCHASE`", "0 1 2 3 4 5");
    expect_rows(reg, set, "\"ＦＩＲＳＴ　ＰＵＲＣＨＡＳＥ\"", "0 1 2 3 4 5");
    expect_rows(reg, set, "`High Value`", "2 3 5 7 11 13 17 19");
    expect_rows(reg, set, "\"high value\"", "2 3 5 7 11 13 17 19");
    expect_rows(reg, set, "`high\xe3\x80\x80value`", "2 3 5 7 11 13 17 19");
    expect_rows(reg, set, "\"high\xc2\xa0value\"", "2 3 5 7 11 13 17 19");
    expect_rows(reg, set, "\"  high \xc2\xa0 value\xe3\x80\x80\"", "2 3 5 7 11 13 17 19");
    /* quoted names need not contain spaces; bare ASCII with digits and _ */
    expect_rows(reg, set, "`vip` or \"流失\"", "1 2 3 4 5 7 10 11 13 17 19");
    expect_rows(reg, set, "OFFLINE_TAG", "1 19");
    /* a tag and its alias in one query */
    expect_rows(reg, set, "vip and not 贵宾", "");
    expect_rows(reg, set, "首购客户 and `first purchase` and 客户首单", "0 1 2 3 4 5");
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* Tags named like keywords are reachable only when quoted. */
START_TEST(keyword_named_tags)
{
    static const tag_def defs[] = {
        {1, "true", {NULL}, NULL, SEG_TAG_ONLINE, "1100"},
        {2, "not", {NULL}, NULL, SEG_TAG_ONLINE, "0010"},
        {3, "and or", {NULL}, NULL, SEG_TAG_ONLINE, "0001"},
    };
    seg_tagreg *reg = build_reg(defs, 3, NULL);
    seg_tagset *set = NULL;
    ck_assert_int_eq(seg_tagset_new(&set, reg, 4, NULL), SEG_OK);
    const int64_t r1[] = {0, 1}, r2[] = {2}, r3[] = {3};
    ck_assert_int_eq(seg_tagset_set_rows(set, 1, r1, 2, 1, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_tagset_set_rows(set, 2, r2, 1, 1, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_tagset_set_rows(set, 3, r3, 1, 1, NULL, 0), SEG_OK);
    struct {
        const char *q;
        int64_t want;
    } cases[] = {
        {"true", 4},            /* the keyword: every row */
        {"`true`", 2},          /* the tag */
        {"\"true\"", 2},
        {"not `true`", 2},
        {"`not`", 1},
        {"not `not`", 3},
        {"`and or` or `not`", 2},
        {"\"and or\" and true", 1},
        {"not true or `true`", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        seg_query *q = compile_ok(cases[i].q, reg);
        int64_t n = count_ok(q, set);
        ck_assert_msg(n == cases[i].want, "\"%s\": %lld rows, expected %lld", cases[i].q,
                      (long long)n, (long long)cases[i].want);
        seg_query_free(q);
    }
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* `len` bounds the text: bytes after it are not read. */
START_TEST(text_length)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    const char text[] = "vip and 理财偏好 garbage ) (";
    seg_query *q = NULL;
    char err[256] = "";
    size_t len = strlen("vip and 理财偏好");
    ck_assert_int_eq(seg_query_compile(&q, text, len, reg, NULL, NULL, err, sizeof err), SEG_OK);
    expect_rows_q(q, set, "vip and 理财偏好 (len-bounded)", "2");
    seg_query_free(q);
    /* a prefix that cuts the name short: 'vip and 理财' is an unknown tag */
    q = (seg_query *)CANARY_PTR;
    ck_assert_int_eq(seg_query_compile(&q, text, len - 6, reg, NULL, NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_ptr_eq(q, CANARY_PTR);
    ck_assert_msg(strncmp(err, "query:1:9: unknown tag '理财'", strlen("query:1:9: unknown tag '理财'")) == 0,
                  "err: %s", err);
    /* a text that is not NUL-terminated at all */
    char raw[3] = {'v', 'i', 'p'};
    q = NULL;
    ck_assert_int_eq(seg_query_compile(&q, raw, 3, reg, NULL, NULL, err, sizeof err), SEG_OK);
    ck_assert_int_eq(count_ok(q, set), 6);
    seg_query_free(q);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* ---- select, count, mask -------------------------------------------------------- */

START_TEST(select_paging)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    /* not 流失: every row but 4 5 10 11 19 (15 rows) */
    seg_query *q = compile_ok("not 流失", reg);
    char err[256];
    int64_t out[8];
    size_t n;
    static const int64_t pages[4][4] = {
        {0, 1, 2, 3}, {6, 7, 8, 9}, {12, 13, 14, 15}, {16, 17, 18, -1}};
    int64_t begin = 0;
    for (int p = 0; p < 4; p++) {
        for (int i = 0; i < 8; i++)
            out[i] = CANARY_I64;
        n = CANARY_SIZE;
        ck_assert_int_eq(seg_query_select(q, set, begin, out, 4, &n, err, sizeof err), SEG_OK);
        size_t want_n = p < 3 ? 4 : 3;
        ck_assert_uint_eq(n, want_n);
        for (size_t i = 0; i < want_n; i++)
            ck_assert_int_eq(out[i], pages[p][i]);
        for (size_t i = want_n; i < 8; i++)
            ck_assert_int_eq(out[i], CANARY_I64);
        begin = out[n - 1] + 1;
    }
    ck_assert_int_eq(begin, 19);
    /* from 19 (which is in 流失): nothing left */
    n = CANARY_SIZE;
    out[0] = CANARY_I64;
    ck_assert_int_eq(seg_query_select(q, set, 19, out, 4, &n, err, sizeof err), SEG_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(out[0], CANARY_I64);
    /* row_begin inside a run: from 5 the first is 6; from 18 just 18 */
    n = CANARY_SIZE;
    ck_assert_int_eq(seg_query_select(q, set, 5, out, 1, &n, err, sizeof err), SEG_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0], 6);
    ck_assert_int_eq(seg_query_select(q, set, 18, out, 8, &n, err, sizeof err), SEG_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0], 18);
    /* row_begin == n_rows: OK, nothing */
    out[0] = CANARY_I64;
    n = CANARY_SIZE;
    ck_assert_int_eq(seg_query_select(q, set, SMALL_N, out, 8, &n, err, sizeof err), SEG_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(out[0], CANARY_I64);
    /* limit 0: nothing written, NULL out_rows allowed */
    n = CANARY_SIZE;
    ck_assert_int_eq(seg_query_select(q, set, 0, NULL, 0, &n, err, sizeof err), SEG_OK);
    ck_assert_uint_eq(n, 0);
    n = CANARY_SIZE;
    ck_assert_int_eq(seg_query_select(q, set, 0, out, 0, &n, err, sizeof err), SEG_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(out[0], CANARY_I64);
    /* row_begin above n_rows or negative: SEG_ERANGE, outputs untouched */
    const int64_t bad_begin[] = {SMALL_N + 1, -1, INT64_MAX, INT64_MIN, 1000000};
    for (size_t b = 0; b < sizeof bad_begin / sizeof *bad_begin; b++) {
        for (int i = 0; i < 8; i++)
            out[i] = CANARY_I64;
        n = CANARY_SIZE;
        strcpy(err, "");
        ck_assert_int_eq(seg_query_select(q, set, bad_begin[b], out, 8, &n, err, sizeof err),
                         SEG_ERANGE);
        ck_assert_uint_eq(n, CANARY_SIZE);
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(out[i], CANARY_I64);
        ck_assert_msg(err[0] != '\0', "no message for row_begin %lld", (long long)bad_begin[b]);
    }
    /* a limit larger than the audience */
    int64_t big[64];
    n = CANARY_SIZE;
    ck_assert_int_eq(seg_query_select(q, set, 0, big, 64, &n, NULL, 0), SEG_OK);
    ck_assert_uint_eq(n, 15);
    ck_assert_int_eq(big[14], 18);
    seg_query_free(q);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* An empty set (0 rows): every query matches nothing. */
START_TEST(zero_rows)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = NULL;
    ck_assert_int_eq(seg_tagset_new(&set, reg, 0, NULL), SEG_OK);
    const char *qs[] = {"true", "not vip", "false", "vip"};
    for (size_t i = 0; i < 4; i++) {
        seg_query *q = compile_ok(qs[i], reg);
        ck_assert_int_eq(count_ok(q, set), 0);
        int64_t out[2] = {CANARY_I64, CANARY_I64};
        size_t n = CANARY_SIZE;
        ck_assert_int_eq(seg_query_select(q, set, 0, out, 2, &n, NULL, 0), SEG_OK);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(out[0], CANARY_I64);
        n = CANARY_SIZE;
        ck_assert_int_eq(seg_query_select(q, set, 1, out, 2, &n, NULL, 0), SEG_ERANGE);
        ck_assert_uint_eq(n, CANARY_SIZE);
        uint8_t m = CANARY_U8;
        ck_assert_int_eq(seg_query_mask(q, set, &m, 0, NULL, 0), SEG_OK);
        ck_assert_int_eq(m, CANARY_U8);
        seg_query_free(q);
    }
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* ---- across chunks ----------------------------------------------------------------- */

/* 200003 rows: chunks 0..65535, 65536..131071, 131072..196607 and the
 * partial 196608..200002 (3395 rows).
 *   x: chunk 0 {0, 7, 65535} (list); chunk 1 every third row from 65536
 *      (21846 rows: bitmap); chunks 2 and 3 full. 90780 rows.
 *   y: chunk 0 full; chunk 1 empty; chunk 2 every second row (32768:
 *      bitmap); chunk 3 {196608, 200002}. 98306 rows.
 *   z: every 16th row of chunk 0 (4096: the longest list); chunk 1 every
 *      16th row plus 65537 (4097: one past the list limit). 8193 rows.
 *   w: on no row.
 * Hand counts:
 *   x and y  = 3 + 0 + 32768 + 2 = 32773
 *   not x    = 200003 - 90780 = 109223
 *   not y    = 200003 - 98306 = 101697 (3393 of them in the last chunk)
 *   x or y   = 90780 + 98306 - 32773 = 156313
 *   not (x or y) = the rows of chunk 1 off x = 65536 - 21846 = 43690
 *   z and not y  = chunk 1's z = 4097
 *   not x and not y and not z = 43690 - (z in chunk 1 off x: 4097 - 1366) = 40959
 *     (x and z in chunk 1: offsets divisible by 48, 0..65520: 1366)
 *   (x or z) and not (y and z) = (90780 + 8193 - 1367) - 4096 = 93510
 */
#define BIG_N 200003

typedef struct big_data {
    uint8_t *x, *y, *z;
} big_data;

static const tag_def BIG_TAGS[] = {
    {1, "x", {NULL}, NULL, SEG_TAG_ONLINE, NULL},
    {2, "y", {NULL}, NULL, SEG_TAG_ONLINE, NULL},
    {3, "z", {NULL}, NULL, SEG_TAG_ONLINE, NULL},
    {4, "w", {NULL}, NULL, SEG_TAG_ONLINE, NULL},
};

static void big_fill(big_data *d)
{
    d->x = calloc(BIG_N, 1);
    d->y = calloc(BIG_N, 1);
    d->z = calloc(BIG_N, 1);
    ck_assert(d->x && d->y && d->z);
    d->x[0] = d->x[7] = d->x[65535] = 1;
    for (size_t r = 65536; r < 131072; r += 3)
        d->x[r] = 1;
    for (size_t r = 131072; r < BIG_N; r++)
        d->x[r] = 1;
    for (size_t r = 0; r < 65536; r++)
        d->y[r] = 1;
    for (size_t r = 131072; r < 196608; r += 2)
        d->y[r] = 1;
    d->y[196608] = d->y[200002] = 1;
    for (size_t r = 0; r < 131072; r += 16)
        d->z[r] = 1;
    d->z[65537] = 1;
}

static void big_free(big_data *d)
{
    free(d->x);
    free(d->y);
    free(d->z);
}

/* Sets a tag from a byte array in pieces: rows listed one by one in some
 * chunks, by mask in others, so both setters cross chunk borders. */
static void big_set_tag(seg_tagset *set, int32_t id, const uint8_t *m)
{
    char err[256] = "";
    uint8_t *part = calloc(BIG_N, 1);
    int64_t *rows = malloc(sizeof *rows * BIG_N);
    ck_assert(part && rows);
    size_t k = 0;
    for (size_t r = 0; r < BIG_N; r++) {
        if (!m[r])
            continue;
        if ((r / 65536) % 2 == 0)
            rows[k++] = (int64_t)r;
        else
            part[r] = 1;
    }
    /* listed rows in descending order: any order is allowed */
    for (size_t i = 0; i < k / 2; i++) {
        int64_t t = rows[i];
        rows[i] = rows[k - 1 - i];
        rows[k - 1 - i] = t;
    }
    int32_t rc = seg_tagset_set_rows(set, id, rows, k, 1, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "set_rows: %d %s", (int)rc, err);
    rc = seg_tagset_set_mask(set, id, part, BIG_N, 1, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "set_mask: %d %s", (int)rc, err);
    free(part);
    free(rows);
}

static seg_tagset *big_set(const seg_tagreg *reg, const big_data *d)
{
    seg_tagset *set = NULL;
    ck_assert_int_eq(seg_tagset_new(&set, reg, BIG_N, NULL), SEG_OK);
    big_set_tag(set, 1, d->x);
    big_set_tag(set, 2, d->y);
    big_set_tag(set, 3, d->z);
    /* set and clear again: row 100001 of x (not in x: 100001 - 65536 = 34465
     * is not divisible by 3), and w on the last row */
    const int64_t r1 = 100001, r2 = BIG_N - 1;
    ck_assert_int_eq(seg_tagset_set_rows(set, 1, &r1, 1, 1, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_tagset_set_rows(set, 1, &r1, 1, 0, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_tagset_set_rows(set, 4, &r2, 1, 1, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_tagset_reset(set, 4), SEG_OK);
    int64_t c = -1;
    ck_assert_int_eq(seg_tagset_count(set, 1, &c), SEG_OK);
    ck_assert_int_eq(c, 90780);
    ck_assert_int_eq(seg_tagset_count(set, 2, &c), SEG_OK);
    ck_assert_int_eq(c, 98306);
    ck_assert_int_eq(seg_tagset_count(set, 3, &c), SEG_OK);
    ck_assert_int_eq(c, 8193);
    ck_assert_int_eq(seg_tagset_count(set, 4, &c), SEG_OK);
    ck_assert_int_eq(c, 0);
    return set;
}

typedef struct big_case {
    const char *q;
    int64_t count; /* worked out by hand (see above) */
} big_case;

static const big_case BIG_CASES[] = {
    {"x", 90780},
    {"not x", 109223},
    {"y", 98306},
    {"not y", 101697},
    {"z", 8193},
    {"x and y", 32773},
    {"x or y", 156313},
    {"not (x or y)", 43690},
    {"not x and not y", 43690},
    {"x and z", 1367},
    {"z and not y", 4097},
    {"not x and not y and not z", 40959},
    {"(x or z) and not (y and z)", 93510},
    {"true", BIG_N},
    {"not false", BIG_N},
    {"false", 0},
    {"w", 0},
    {"not w", BIG_N},
    {"not w and not x", 109223},
    {"x or not x", BIG_N},
    {"y and not y", 0},
};
#define BIG_CASES_N (sizeof BIG_CASES / sizeof *BIG_CASES)

/* The naive per-row answer of BIG_CASES[i]. */
static int big_eval(size_t i, const big_data *d, size_t r)
{
    int x = d->x[r], y = d->y[r], z = d->z[r], w = 0;
    switch (i) {
    case 0: return x;
    case 1: return !x;
    case 2: return y;
    case 3: return !y;
    case 4: return z;
    case 5: return x && y;
    case 6: return x || y;
    case 7: return !(x || y);
    case 8: return !x && !y;
    case 9: return x && z;
    case 10: return z && !y;
    case 11: return !x && !y && !z;
    case 12: return (x || z) && !(y && z);
    case 13: return 1;
    case 14: return 1;
    case 15: return 0;
    case 16: return w;
    case 17: return !w;
    case 18: return !w && !x;
    case 19: return 1;
    case 20: return 0;
    default: ck_abort_msg("no case %zu", i); return 0;
    }
}

START_TEST(across_chunks)
{
    big_data d;
    big_fill(&d);
    seg_tagreg *reg = build_reg(BIG_TAGS, 4, NULL);
    seg_tagset *set = big_set(reg, &d);
    ck_assert_int_eq(seg_tagset_freeze(set), SEG_OK);
    uint8_t *mask = malloc(BIG_N + 1);
    int64_t *want = malloc(sizeof *want * BIG_N);
    int64_t *got = malloc(sizeof *got * (BIG_N + 1));
    ck_assert(mask && want && got);
    char err[256] = "";
    for (size_t i = 0; i < BIG_CASES_N; i++) {
        const char *text = BIG_CASES[i].q;
        size_t nw = 0;
        for (size_t r = 0; r < BIG_N; r++)
            if (big_eval(i, &d, r))
                want[nw++] = (int64_t)r;
        ck_assert_msg((int64_t)nw == BIG_CASES[i].count, "naive \"%s\": %zu vs hand %lld", text,
                      nw, (long long)BIG_CASES[i].count);
        seg_query *q = compile_ok(text, reg);
        int64_t c = count_ok(q, set);
        ck_assert_msg(c == BIG_CASES[i].count, "\"%s\": count %lld, expected %lld", text,
                      (long long)c, (long long)BIG_CASES[i].count);
        /* mask */
        memset(mask, CANARY_U8, BIG_N + 1);
        int32_t rc = seg_query_mask(q, set, mask, BIG_N, err, sizeof err);
        ck_assert_msg(rc == SEG_OK, "\"%s\": mask %d %s", text, (int)rc, err);
        for (size_t r = 0; r < BIG_N; r++)
            ck_assert_msg(mask[r] == big_eval(i, &d, r), "\"%s\": mask[%zu] = %u", text, r,
                          (unsigned)mask[r]);
        ck_assert_int_eq(mask[BIG_N], CANARY_U8);
        /* select: everything at once (limit above the count), then pages of
         * a prime length that do not line up with chunks */
        size_t n = CANARY_SIZE;
        got[BIG_N] = CANARY_I64;
        rc = seg_query_select(q, set, 0, got, BIG_N + 1, &n, err, sizeof err);
        ck_assert_msg(rc == SEG_OK, "\"%s\": select %d %s", text, (int)rc, err);
        ck_assert_msg(n == nw, "\"%s\": select gave %zu rows, expected %zu", text, n, nw);
        ck_assert_msg(memcmp(got, want, nw * sizeof *got) == 0, "\"%s\": select rows differ",
                      text);
        size_t pos = 0;
        int64_t begin = 0;
        for (int guard = 0; guard < 1000; guard++) {
            rc = seg_query_select(q, set, begin, got, 7919, &n, err, sizeof err);
            ck_assert_msg(rc == SEG_OK, "\"%s\": page from %lld: %d %s", text, (long long)begin,
                          (int)rc, err);
            ck_assert_msg(pos + n <= nw, "\"%s\": too many rows paging", text);
            ck_assert_msg(n == 0 || memcmp(got, want + pos, n * sizeof *got) == 0,
                          "\"%s\": page from %lld (position %zu) differs", text,
                          (long long)begin, pos);
            pos += n;
            if (n < 7919)
                break;
            begin = got[n - 1] + 1;
        }
        ck_assert_msg(pos == nw, "\"%s\": paging gave %zu rows, expected %zu", text, pos, nw);
        /* pages starting exactly at chunk borders and near the end */
        const int64_t starts[] = {65535, 65536, 65537, 131071, 131072, 196607, 196608, 199999,
                                  200002, BIG_N};
        for (size_t s = 0; s < sizeof starts / sizeof *starts; s++) {
            size_t first = 0;
            while (first < nw && want[first] < starts[s])
                first++;
            size_t expect_n = nw - first < 5 ? nw - first : 5;
            rc = seg_query_select(q, set, starts[s], got, 5, &n, err, sizeof err);
            ck_assert_msg(rc == SEG_OK, "\"%s\": select from %lld: %d %s", text,
                          (long long)starts[s], (int)rc, err);
            ck_assert_msg(n == expect_n, "\"%s\": select from %lld gave %zu rows, expected %zu",
                          text, (long long)starts[s], n, expect_n);
            for (size_t k = 0; k < n; k++)
                ck_assert_msg(got[k] == want[first + k],
                              "\"%s\": select from %lld: [%zu] = %lld, expected %lld", text,
                              (long long)starts[s], k, (long long)got[k],
                              (long long)want[first + k]);
        }
        n = CANARY_SIZE;
        ck_assert_int_eq(seg_query_select(q, set, BIG_N + 1, got, 5, &n, err, sizeof err),
                         SEG_ERANGE);
        ck_assert_uint_eq(n, CANARY_SIZE);
        seg_query_free(q);
    }
    /* a few starts worked out by hand (limit 5) */
    struct {
        const char *q;
        int64_t begin;
        size_t n;
        int64_t rows[5];
    } hand[] = {
        {"x", 65535, 5, {65535, 65536, 65539, 65542, 65545}},
        {"y", 131071, 5, {131072, 131074, 131076, 131078, 131080}},
        {"z", 65521, 5, {65536, 65537, 65552, 65568, 65584}},
        /* 200002 holds y: four rows, then the end */
        {"not y", 199998, 4, {199998, 199999, 200000, 200001}},
        /* x is full from 131072 to the end */
        {"not x", 131072, 0, {0}},
        /* 131070 = 65536 + 65534 (not a multiple of 3) is off x and y;
         * 131071 = 65536 + 3 * 21845 is on x; nothing after */
        {"not x and not y", 131070, 1, {131070}},
        {"not x and not y", 131071, 0, {0}},
        {"x and y", 196000, 5, {196000, 196002, 196004, 196006, 196008}},
    };
    for (size_t h = 0; h < sizeof hand / sizeof *hand; h++) {
        seg_query *q = compile_ok(hand[h].q, reg);
        int64_t out[5];
        size_t n = CANARY_SIZE;
        ck_assert_int_eq(seg_query_select(q, set, hand[h].begin, out, 5, &n, NULL, 0), SEG_OK);
        ck_assert_msg(n == hand[h].n, "\"%s\" from %lld: %zu rows, expected %zu", hand[h].q,
                      (long long)hand[h].begin, n, hand[h].n);
        for (size_t k = 0; k < n; k++)
            ck_assert_int_eq(out[k], hand[h].rows[k]);
        seg_query_free(q);
    }
    free(mask);
    free(want);
    free(got);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
    big_free(&d);
}
END_TEST

/* Tags set only in the last, partial chunk; `not` must stop at n_rows. */
START_TEST(last_chunk_only)
{
    seg_tagreg *reg = build_reg(BIG_TAGS, 4, NULL);
    const size_t sizes[] = {65536, 65537, 131071, 131073, BIG_N};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        seg_tagset *set = NULL;
        ck_assert_int_eq(seg_tagset_new(&set, reg, n, NULL), SEG_OK);
        /* x on the last row only; y on every row of the last chunk */
        const int64_t last = (int64_t)n - 1;
        ck_assert_int_eq(seg_tagset_set_rows(set, 1, &last, 1, 1, NULL, 0), SEG_OK);
        uint8_t *m = calloc(n, 1);
        ck_assert_ptr_nonnull(m);
        size_t chunk0 = (n - 1) / 65536 * 65536;
        for (size_t r = chunk0; r < n; r++)
            m[r] = 1;
        ck_assert_int_eq(seg_tagset_set_mask(set, 2, m, n, 1, NULL, 0), SEG_OK);
        free(m);
        size_t in_last = n - chunk0;
        struct {
            const char *q;
            int64_t want;
        } cases[] = {
            {"x", 1},
            {"not x", (int64_t)n - 1},
            {"y", (int64_t)in_last},
            {"not y", (int64_t)chunk0},
            {"not y and not x", (int64_t)chunk0},
            {"not (x or y)", (int64_t)chunk0},
            {"y and not x", (int64_t)in_last - 1},
            {"true", (int64_t)n},
            {"not w", (int64_t)n},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            seg_query *q = compile_ok(cases[i].q, reg);
            int64_t c = count_ok(q, set);
            ck_assert_msg(c == cases[i].want, "n %zu \"%s\": count %lld, expected %lld", n,
                          cases[i].q, (long long)c, (long long)cases[i].want);
            /* the last match of `not x` is n - 2, of `y` n - 1 */
            int64_t out[4];
            size_t got = CANARY_SIZE;
            ck_assert_int_eq(seg_query_select(q, set, last - 1, out, 4, &got, NULL, 0), SEG_OK);
            for (size_t k = 0; k < got; k++)
                ck_assert_msg(out[k] < (int64_t)n, "n %zu \"%s\": row %lld past the end", n,
                              cases[i].q, (long long)out[k]);
            ck_assert_uint_le(got, 2);
            seg_query_free(q);
        }
        seg_tagset_free(set);
    }
    seg_tagreg_free(reg);
}
END_TEST

/* ---- syntax errors --------------------------------------------------------------------- */

typedef struct bad_query {
    const char *text;
    const char *prefix; /* exact start of the message */
    const char *word;   /* must occur in the message (case-insensitive), or NULL */
} bad_query;

/* Columns are 1-based byte columns: 首购客户 and 流失 are 12 and 6 bytes. The
 * error is reported at the token where the problem is found; a missing
 * token at the end is reported one past the last byte. */
static const bad_query BADQ[] = {
    /* empty query: at the end of the text */
    {"", "query:1:1: ", "empty"},
    {"   ", "query:1:4: ", "empty"},
    /* a name missing at the end: "vip and" is 7 bytes, so column 8 */
    {"vip and", "query:1:8: ", "end"},
    {"not", "query:1:4: ", "end"},
    {"vip or not", "query:1:11: ", "end"},
    {"(", "query:1:2: ", "end"},
    /* missing ')': "(vip" ends at 4 */
    {"(vip", "query:1:5: ", "')'"},
    {"((vip)", "query:1:7: ", "')'"},
    {"(vip or 流失 and (android)", "query:1:29: ", "')'"},
    /* "(vip or 流失 xx": ( 1, vip 2-4, or 6-7, 流失 9-14, xx 16 */
    {"(vip or 流失 xx", "query:1:16: ", "')'"},
    /* ')' where a name is expected */
    {"()", "query:1:2: ", "')'"},
    {"vip and ()", "query:1:10: ", "')'"},
    /* trailing tokens after a complete query */
    {"vip)", "query:1:4: ", "')'"},
    {"vip 流失", "query:1:5: ", "流失"},
    {"vip and 流失 (android)", "query:1:16: ", "'('"},
    {"(vip) (流失)", "query:1:7: ", "'('"},
    {"true false", "query:1:6: ", "false"},
    {"vip not 流失", "query:1:5: ", "not"},
    /* uppercase keywords are names: after 'vip' the name 'AND' is left over */
    {"vip AND 流失", "query:1:5: ", "AND"},
    /* keywords where a name is expected */
    {"and vip", "query:1:1: ", "'and'"},
    {"or", "query:1:1: ", "'or'"},
    {"vip or or 流失", "query:1:8: ", "'or'"},
    {"vip and not and 流失", "query:1:13: ", "'and'"},
    {"首购客户 and or 流失", "query:1:18: ", "'or'"},
    {"not or vip", "query:1:5: ", "'or'"},
    /* tokens of other languages */
    {"vip & 流失", "query:1:5: ", "&"},
    {"vip | 流失", "query:1:5: ", "|"},
    {"vip, 流失", "query:1:4: ", ","},
    {"vip == 1", "query:1:5: ", "=="},
    {"!vip", "query:1:1: ", "!"},
    {"vip and -流失", "query:1:9: ", "-"},
    {"123", "query:1:1: ", "123"},
    {"vip or 42", "query:1:8: ", "42"},
    {"vip and \xff", "query:1:9: ", NULL},
    /* quoting problems */
    {"`first purchase", "query:1:1: ", "unterminated"},
    {"vip or \"first purchase", "query:1:8: ", "unterminated"},
    {"``", "query:1:1: ", NULL},
    {"vip or \"\"", "query:1:8: ", NULL},
    {"\"vip\\q\"", "query:1:1: ", "escape"},
    /* positions count lines: line 2, column 5 */
    {"vip\nand bogus", "query:2:5: ", "unknown tag 'bogus'"},
    {"vip or\n\n  (流失", "query:3:10: ", "')'"},
};
#define BADQ_N (sizeof BADQ / sizeof *BADQ)

START_TEST(syntax_errors)
{
    const bad_query *b = &BADQ[_i];
    seg_tagreg *reg = shop_reg();
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_query *q = (seg_query *)CANARY_PTR;
    char err[512];
    memset(err, 'x', sizeof err);
    int32_t rc = seg_query_compile(&q, b->text, strlen(b->text), reg, NULL, &ta.base, err,
                                   sizeof err);
    ck_assert_msg(rc == SEG_EPARSE, "case %d \"%s\": rc %d, expected SEG_EPARSE (%s)", _i,
                  b->text, (int)rc, rc == SEG_OK ? "compiled" : err);
    ck_assert_ptr_eq(q, CANARY_PTR);
    ck_assert_msg(memchr(err, '\0', sizeof err) != NULL, "case %d: message not terminated", _i);
    ck_assert_msg(strncmp(err, b->prefix, strlen(b->prefix)) == 0,
                  "case %d \"%s\": message \"%s\" does not start with \"%s\"", _i, b->text, err,
                  b->prefix);
    if (b->word)
        ck_assert_msg(seg_test_has_word(err, b->word), "case %d \"%s\": message \"%s\" lacks \"%s\"",
                      _i, b->text, err, b->word);
    ck_assert_msg(strlen(err) > strlen(b->prefix), "case %d: no message after the position", _i);
    /* nothing leaks on the error path */
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    seg_tagreg_free(reg);
}
END_TEST

/* Unknown tags: the whole message, with suggestions worked out from the
 * documented closeness (code point edit distance of normalised names, a
 * name containing the unknown one counts 1, limit max(2, (len + 1) / 2),
 * order by distance then id, at most 3). */
typedef struct unknown_case {
    const char *text;
    const char *message;
    int32_t ids[3]; /* what seg_tagreg_suggest must give for the name */
    size_t n_ids;
    const char *name;
} unknown_case;

static const unknown_case UNKNOWN[] = {
    /* 8 code points: limit 4; every registered name is 8 or more away */
    {"zzzzzzzz", "query:1:1: unknown tag 'zzzzzzzz'", {0}, 0, "zzzzzzzz"},
    /* 理财偏 (3 code points, limit 2) is inside 理财偏好 (distance 1); the
     * nearest other names are 3 away. 理财偏 starts at byte 18. */
    {"首购客户 and 理财偏", "query:1:18: unknown tag '理财偏'; did you mean '理财偏好'?", {4}, 1,
     "理财偏"},
    /* 购客户 is inside 首购客户 and 复购客户 (1 each; ids 1, 2); 客户首单 is 3 away */
    {"not 购客户", "query:1:5: unknown tag '购客户'; did you mean '首购客户', '复购客户'?", {1, 2},
     2, "购客户"},
    /* 'v' (limit 2) is inside vip and 'high value' (1; ids 6, 7); 流失 is 2
     * away (id 3); everything else 3 or more */
    {"vip and (v or 流失)", "query:1:10: unknown tag 'v'; did you mean 'vip', 'high value', '流失'?",
     {6, 7, 3}, 3, "v"},
    /* letters glued to Chinese make one word, which contains 理财偏好 and 基金持有 */
    {"理财偏好and基金持有",
     "query:1:1: unknown tag '理财偏好and基金持有'; did you mean '理财偏好', '基金持有'?", {4, 5},
     2, "理财偏好and基金持有"},
    /* quoted: the message shows the name without its quotes */
    {"`high valu` or vip", "query:1:1: unknown tag 'high valu'; did you mean 'high value'?", {7},
     1, "high valu"},
    {"vip or \"churn\"", "query:1:8: unknown tag 'churn'; did you mean '流失'?", {3}, 1, "churn"},
};
#define UNKNOWN_N (sizeof UNKNOWN / sizeof *UNKNOWN)

START_TEST(unknown_tags)
{
    const unknown_case *u = &UNKNOWN[_i];
    seg_tagreg *reg = shop_reg();
    /* the registry's own suggestions first, so a mismatch there is told apart */
    int32_t ids[8];
    size_t n = CANARY_SIZE;
    ck_assert_int_eq(seg_tagreg_suggest(reg, u->name, ids, 8, &n), SEG_OK);
    ck_assert_msg(n == u->n_ids, "suggest(%s): %zu ids, expected %zu", u->name, n, u->n_ids);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(ids[k] == u->ids[k], "suggest(%s)[%zu] = %d, expected %d", u->name, k,
                      (int)ids[k], (int)u->ids[k]);
    seg_query *q = (seg_query *)CANARY_PTR;
    char err[512] = "";
    int32_t rc = seg_query_compile(&q, u->text, strlen(u->text), reg, NULL, NULL, err, sizeof err);
    ck_assert_msg(rc == SEG_EPARSE, "\"%s\": rc %d", u->text, (int)rc);
    ck_assert_ptr_eq(q, CANARY_PTR);
    ck_assert_msg(strcmp(err, u->message) == 0, "\"%s\": message \"%s\", expected \"%s\"",
                  u->text, err, u->message);
    seg_tagreg_free(reg);
}
END_TEST

START_TEST(source_and_buffers)
{
    seg_tagreg *reg = shop_reg();
    seg_query *q = (seg_query *)CANARY_PTR;
    char err[256];
    /* a source name replaces "query" */
    ck_assert_int_eq(seg_query_compile(&q, "zzzzzzzz", 8, reg, "audience.q", NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_str_eq(err, "audience.q:1:1: unknown tag 'zzzzzzzz'");
    ck_assert_int_eq(seg_query_compile(&q, "vip or", 6, reg, "圈人", NULL, err, sizeof err),
                     SEG_EPARSE);
    ck_assert_msg(strncmp(err, "圈人:1:7: ", strlen("圈人:1:7: ")) == 0, "err: %s", err);
    /* NULL err_buf is fine */
    ck_assert_int_eq(seg_query_compile(&q, "vip or", 6, reg, NULL, NULL, NULL, 0), SEG_EPARSE);
    ck_assert_int_eq(seg_query_compile(&q, "vip or", 6, reg, NULL, NULL, NULL, 100), SEG_EPARSE);
    /* a short buffer is truncated and terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(seg_query_compile(&q, "vip or", 6, reg, NULL, NULL, small, sizeof small),
                     SEG_EPARSE);
    ck_assert_msg(memchr(small, '\0', sizeof small) != NULL, "not terminated");
    ck_assert_msg(strncmp(small, "query:1", 7) == 0, "small: %.8s", small);
    /* capacity 1: just the terminator */
    small[0] = 'x';
    ck_assert_int_eq(seg_query_compile(&q, "vip or", 6, reg, NULL, NULL, small, 1), SEG_EPARSE);
    ck_assert_int_eq(small[0], '\0');
    /* capacity 0: the buffer is not touched */
    small[0] = 'x';
    ck_assert_int_eq(seg_query_compile(&q, "vip or", 6, reg, NULL, NULL, small, 0), SEG_EPARSE);
    ck_assert_int_eq(small[0], 'x');
    ck_assert_ptr_eq(q, CANARY_PTR);
    seg_tagreg_free(reg);
}
END_TEST

/* Disabled tags are refused by name and by alias; the message names the
 * tag and says why. */
START_TEST(disabled_tag)
{
    seg_tagreg *reg = shop_reg();
    struct {
        const char *text;
        const char *prefix;
    } cases[] = {
        {"旧标签", "query:1:1: "},
        {"vip or 旧标签", "query:1:8: "},
        {"not old_tag", "query:1:5: "},
        {"vip and (`OLD_TAG` or 流失)", "query:1:10: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        seg_query *q = (seg_query *)CANARY_PTR;
        char err[512] = "";
        int32_t rc = seg_query_compile(&q, cases[i].text, strlen(cases[i].text), reg, NULL, NULL,
                                       err, sizeof err);
        ck_assert_msg(rc == SEG_EPARSE, "\"%s\": rc %d", cases[i].text, (int)rc);
        ck_assert_ptr_eq(q, CANARY_PTR);
        ck_assert_msg(strncmp(err, cases[i].prefix, strlen(cases[i].prefix)) == 0,
                      "\"%s\": message \"%s\" does not start with \"%s\"", cases[i].text, err,
                      cases[i].prefix);
        ck_assert_msg(seg_test_has_word(err, "disabled"), "\"%s\": message \"%s\" lacks 'disabled'",
                      cases[i].text, err);
        ck_assert_msg(strstr(err, "旧标签") != NULL, "\"%s\": message \"%s\" does not name 旧标签",
                      cases[i].text, err);
    }
    seg_tagreg_free(reg);
}
END_TEST

/* ---- argument and state errors -------------------------------------------------------- */

START_TEST(compile_errors)
{
    seg_tagreg *reg = shop_reg();
    seg_query *q = (seg_query *)CANARY_PTR;
    char err[256];
    ck_assert_int_eq(seg_query_compile(NULL, "vip", 3, reg, NULL, NULL, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_query_compile(&q, NULL, 3, reg, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_compile(&q, NULL, 0, reg, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_compile(&q, "vip", 3, NULL, NULL, NULL, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_ptr_eq(q, CANARY_PTR);

    /* a registry being built is refused */
    seg_tagreg *open = NULL;
    ck_assert_int_eq(seg_tagreg_new(&open, NULL), SEG_OK);
    ck_assert_int_eq(seg_tagreg_add(open, 1, "vip", NULL), SEG_OK);
    strcpy(err, "");
    ck_assert_int_eq(seg_query_compile(&q, "vip", 3, open, NULL, NULL, err, sizeof err),
                     SEG_ESTATE);
    ck_assert_ptr_eq(q, CANARY_PTR);
    ck_assert_msg(seg_test_has_word(err, "frozen"), "err: %s", err);
    /* ... and accepted once frozen */
    ck_assert_int_eq(seg_tagreg_freeze(open), SEG_OK);
    q = NULL;
    ck_assert_int_eq(seg_query_compile(&q, "vip", 3, open, NULL, NULL, err, sizeof err), SEG_OK);
    seg_query_free(q);
    seg_tagreg_free(open);

    /* an allocator of unknown size */
    q = (seg_query *)CANARY_PTR;
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t extra;
    } big = {ta.base, 7};
    big.a.struct_size = (uint32_t)sizeof big;
    ck_assert_int_eq(seg_query_compile(&q, "vip", 3, reg, NULL, &big.a, err, sizeof err),
                     SEG_EVERSION);
    ck_assert_ptr_eq(q, CANARY_PTR);
    ck_assert_uint_eq(ta.live, 0);
    seg_query_free(NULL);
    seg_tagreg_free(reg);
}
END_TEST

START_TEST(run_errors)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    seg_query *q = compile_ok("vip or 流失", reg);
    /* a second registry, equal to the first, with its own set */
    seg_tagreg *reg2 = shop_reg();
    seg_tagset *set2 = shop_set(reg2);
    char err[256];
    int64_t cnt = CANARY_I64;
    int64_t rows[4] = {CANARY_I64, CANARY_I64, CANARY_I64, CANARY_I64};
    size_t n = CANARY_SIZE;
    uint8_t mask[SMALL_N];
    memset(mask, CANARY_U8, sizeof mask);

    /* NULL arguments */
    ck_assert_int_eq(seg_query_count(NULL, set, &cnt, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_count(q, NULL, &cnt, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_count(q, set, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_select(NULL, set, 0, rows, 4, &n, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_select(q, NULL, 0, rows, 4, &n, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_select(q, set, 0, NULL, 4, &n, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_select(q, set, 0, rows, 4, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_mask(NULL, set, mask, SMALL_N, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_mask(q, NULL, mask, SMALL_N, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_mask(q, set, NULL, SMALL_N, err, sizeof err), SEG_EINVAL);
    /* mask length not the row count */
    ck_assert_int_eq(seg_query_mask(q, set, mask, SMALL_N - 1, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_mask(q, set, mask, SMALL_N + 1, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_query_mask(q, set, mask, 0, err, sizeof err), SEG_EINVAL);

    /* a set of another registry, even an equal one */
    strcpy(err, "");
    ck_assert_int_eq(seg_query_count(q, set2, &cnt, err, sizeof err), SEG_EINVAL);
    ck_assert_msg(seg_test_has_word(err, "registry"), "err: %s", err);
    strcpy(err, "");
    ck_assert_int_eq(seg_query_select(q, set2, 0, rows, 4, &n, err, sizeof err), SEG_EINVAL);
    ck_assert_msg(seg_test_has_word(err, "registry"), "err: %s", err);
    strcpy(err, "");
    ck_assert_int_eq(seg_query_mask(q, set2, mask, SMALL_N, err, sizeof err), SEG_EINVAL);
    ck_assert_msg(seg_test_has_word(err, "registry"), "err: %s", err);
    /* NULL err_buf is fine */
    ck_assert_int_eq(seg_query_count(q, set2, &cnt, NULL, 0), SEG_EINVAL);

    /* every output untouched */
    ck_assert_int_eq(cnt, CANARY_I64);
    ck_assert_uint_eq(n, CANARY_SIZE);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(rows[i], CANARY_I64);
    for (size_t i = 0; i < SMALL_N; i++)
        ck_assert_int_eq(mask[i], CANARY_U8);

    /* the same query text compiled on the second registry works there */
    seg_query *q2 = compile_ok("vip or 流失", reg2);
    ck_assert_int_eq(count_ok(q2, set2), 11);
    ck_assert_int_eq(count_ok(q, set), 11);
    seg_query_free(q2);
    seg_query_free(q);
    seg_tagset_free(set2);
    seg_tagreg_free(reg2);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* Queries and sets keep their registry alive; a query runs on every set
 * of its registry, and a set changed after compiling is seen as it is. */
START_TEST(lifetimes)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_tagreg *reg = build_reg(SHOP, SHOP_N, &ta.base);
    seg_query *q = NULL;
    char err[256] = "";
    const char *text = "首购客户 and not 流失 and (理财偏好 or 基金持有)";
    ck_assert_int_eq(seg_query_compile(&q, text, strlen(text), reg, NULL, &ta.base, err,
                                       sizeof err),
                     SEG_OK);
    seg_tagset *set = shop_set(reg);
    seg_tagreg_free(reg); /* the query and the set still hold it */
    expect_rows_q(q, set, text, "0 2 3");
    /* change the set after compiling: 流失 on row 2, 基金持有 on row 1 */
    const int64_t r2 = 2, r1 = 1;
    ck_assert_int_eq(seg_tagset_set_rows(set, 3, &r2, 1, 1, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_tagset_set_rows(set, 5, &r1, 1, 1, NULL, 0), SEG_OK);
    expect_rows_q(q, set, text, "0 1 3");
    /* exclusive group: 复购客户 on row 0 clears 首购客户 there */
    const int64_t r0 = 0;
    ck_assert_int_eq(seg_tagset_set_rows(set, 2, &r0, 1, 1, NULL, 0), SEG_OK);
    expect_rows_q(q, set, text, "1 3");
    /* a second, fresh set of the same registry */
    seg_tagset *fresh = NULL;
    ck_assert_int_eq(seg_tagset_new(&fresh, seg_tagset_registry(set), 7, NULL), SEG_OK);
    ck_assert_int_eq(count_ok(q, fresh), 0);
    seg_tagset_free(set);
    ck_assert_int_eq(count_ok(q, fresh), 0);
    seg_tagset_free(fresh);
    seg_query_free(q);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------- */

#define TH_N 8
#define TH_ITER 3
#define TH_PAGE 4099

typedef struct th_job {
    const seg_query *q;
    const seg_tagset *set;
    int64_t count;
    uint8_t *mask;
    int64_t *rows;
    size_t n_rows;
    int32_t rc;
} th_job;

static void *th_run(void *arg)
{
    th_job *j = arg;
    j->rc = -100;
    for (int it = 0; it < TH_ITER; it++) {
        char err[128];
        int32_t rc = seg_query_count(j->q, j->set, &j->count, err, sizeof err);
        if (rc == SEG_OK)
            rc = seg_query_mask(j->q, j->set, j->mask, BIG_N, err, sizeof err);
        size_t pos = 0;
        int64_t begin = 0;
        while (rc == SEG_OK) {
            size_t n = 0;
            rc = seg_query_select(j->q, j->set, begin, j->rows + pos, TH_PAGE, &n, err, sizeof err);
            if (rc != SEG_OK)
                break;
            pos += n;
            if (n < TH_PAGE)
                break;
            begin = j->rows[pos - 1] + 1;
        }
        if (rc != SEG_OK) {
            j->rc = rc;
            return NULL;
        }
        j->n_rows = pos;
    }
    j->rc = SEG_OK;
    return NULL;
}

START_TEST(threads_same_result)
{
    big_data d;
    big_fill(&d);
    seg_tagreg *reg = build_reg(BIG_TAGS, 4, NULL);
    seg_tagset *set = big_set(reg, &d);
    ck_assert_int_eq(seg_tagset_freeze(set), SEG_OK);
    seg_query *q = compile_ok("(x or z) and not (y and z) or not w and not x and not y", reg);
    th_job one = {q, set, -1, malloc(BIG_N), malloc(sizeof(int64_t) * (BIG_N + TH_PAGE)), 0, 0};
    ck_assert(one.mask && one.rows);
    th_run(&one);
    ck_assert_int_eq(one.rc, SEG_OK);
    /* (x or z) and not (y and z) = 93510 rows; not x and not y = 43690,
     * 2731 of them z rows already counted: 93510 + 43690 - 2731 = 134469 */
    ck_assert_int_eq(one.count, 134469);
    ck_assert_uint_eq(one.n_rows, 134469);
    for (size_t r = 0, k = 0; r < BIG_N; r++) {
        int x = d.x[r], y = d.y[r], z = d.z[r];
        int w = ((x || z) && !(y && z)) || (!x && !y);
        ck_assert_msg(one.mask[r] == w, "mask[%zu]", r);
        if (w) {
            ck_assert_msg(one.rows[k] == (int64_t)r, "rows[%zu] = %lld, expected %zu", k,
                          (long long)one.rows[k], r);
            k++;
        }
    }
    pthread_t th[TH_N];
    th_job jobs[TH_N];
    for (size_t k = 0; k < TH_N; k++) {
        jobs[k] = one;
        jobs[k].count = -1;
        jobs[k].mask = malloc(BIG_N);
        jobs[k].rows = malloc(sizeof(int64_t) * (BIG_N + TH_PAGE));
        ck_assert(jobs[k].mask && jobs[k].rows);
        ck_assert_int_eq(pthread_create(&th[k], NULL, th_run, &jobs[k]), 0);
    }
    for (size_t k = 0; k < TH_N; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        ck_assert_int_eq(jobs[k].rc, SEG_OK);
        ck_assert_int_eq(jobs[k].count, one.count);
        ck_assert_uint_eq(jobs[k].n_rows, one.n_rows);
        ck_assert(memcmp(jobs[k].mask, one.mask, BIG_N) == 0);
        ck_assert(memcmp(jobs[k].rows, one.rows, one.n_rows * sizeof(int64_t)) == 0);
        free(jobs[k].mask);
        free(jobs[k].rows);
    }
    free(one.mask);
    free(one.rows);
    seg_query_free(q);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
    big_free(&d);
}
END_TEST

/* ---- allocation failures -------------------------------------------------------------------- */

START_TEST(compile_out_of_memory)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    const char *text =
        "首购客户 and not 流失 and (理财偏好 or \"基金持有\") or ＶＩＰ and not `high value` "
        "or (not (churned or android) and not notify and offline_tag) or false";
    /* 首购 {0 2 3} + vip without high value {1} + (offline {1 19} off 流失
     * and android: {1}) = {0 1 2 3} */
    const char *want = "0 1 2 3";
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    ta.sticky = 1;
    int ok = 0;
    for (long k = 0; k < 2000 && !ok; k++) {
        seg_test_alloc_fail_next(&ta, (size_t)k);
        seg_query *q = (seg_query *)CANARY_PTR;
        char err[256] = "";
        int32_t rc =
            seg_query_compile(&q, text, strlen(text), reg, NULL, &ta.base, err, sizeof err);
        if (rc == SEG_OK) {
            ok = 1;
            seg_test_alloc_no_fail(&ta);
            expect_rows_q(q, set, text, want);
            /* runs may allocate scratch through the query's allocator:
             * each either works or fails cleanly with outputs untouched */
            for (long j = 0; j < 200; j++) {
                seg_test_alloc_fail_next(&ta, (size_t)j);
                int64_t cnt = CANARY_I64;
                int32_t r1 = seg_query_count(q, set, &cnt, err, sizeof err);
                ck_assert(r1 == SEG_OK || r1 == SEG_ENOMEM);
                ck_assert(r1 == SEG_OK ? cnt == 4 : cnt == CANARY_I64);
                seg_test_alloc_fail_next(&ta, (size_t)j);
                int64_t rows[8];
                for (int i = 0; i < 8; i++)
                    rows[i] = CANARY_I64;
                size_t n = CANARY_SIZE;
                int32_t r2 = seg_query_select(q, set, 0, rows, 8, &n, err, sizeof err);
                ck_assert(r2 == SEG_OK || r2 == SEG_ENOMEM);
                if (r2 == SEG_OK) {
                    ck_assert_uint_eq(n, 4);
                    ck_assert_int_eq(rows[3], 3);
                } else {
                    ck_assert_uint_eq(n, CANARY_SIZE);
                    for (int i = 0; i < 8; i++)
                        ck_assert_int_eq(rows[i], CANARY_I64);
                }
                seg_test_alloc_fail_next(&ta, (size_t)j);
                uint8_t mask[SMALL_N];
                memset(mask, CANARY_U8, sizeof mask);
                int32_t r3 = seg_query_mask(q, set, mask, SMALL_N, err, sizeof err);
                ck_assert(r3 == SEG_OK || r3 == SEG_ENOMEM);
                if (r3 == SEG_OK) {
                    ck_assert_int_eq(mask[3], 1);
                    ck_assert_int_eq(mask[4], 0);
                } else {
                    for (size_t i = 0; i < SMALL_N; i++)
                        ck_assert_int_eq(mask[i], CANARY_U8);
                }
                if (r1 == SEG_OK && r2 == SEG_OK && r3 == SEG_OK)
                    break;
            }
            seg_test_alloc_no_fail(&ta);
            seg_query_free(q);
        } else {
            ck_assert_msg(rc == SEG_ENOMEM, "allocation %ld failing: rc %d (%s)", k, (int)rc, err);
            ck_assert_ptr_eq(q, CANARY_PTR);
        }
        ck_assert_msg(ta.live == 0, "allocation %ld failing: %zu blocks leaked", k, ta.live);
        ck_assert_uint_eq(ta.bad_frees, 0);
    }
    ck_assert(ok);
    /* the loop made at least one allocation fail */
    ck_assert_uint_gt(ta.mallocs + ta.reallocs, 0);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

/* Deep nesting and long flat queries: no crash, right answers or a clean
 * SEG_EPARSE. */
static char *repeat3(const char *head, size_t k, const char *mid, const char *tail)
{
    size_t nh = strlen(head), nm = strlen(mid), nt = strlen(tail);
    char *s = malloc(nh * k + nm + nt * k + 1);
    if (!s)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < k; i++, o += nh)
        memcpy(s + o, head, nh);
    memcpy(s + o, mid, nm);
    o += nm;
    for (size_t i = 0; i < k; i++, o += nt)
        memcpy(s + o, tail, nt);
    s[o] = '\0';
    return s;
}

START_TEST(nesting)
{
    seg_tagreg *reg = shop_reg();
    seg_tagset *set = shop_set(reg);
    /* modest nesting works: 50 parentheses, 60 nots (even: vip itself) */
    char *t = repeat3("(", 50, "vip", ")");
    seg_query *q = compile_ok(t, reg);
    ck_assert_int_eq(count_ok(q, set), 6);
    seg_query_free(q);
    free(t);
    t = repeat3("not ", 60, "vip", "");
    q = compile_ok(t, reg);
    ck_assert_int_eq(count_ok(q, set), 6);
    seg_query_free(q);
    free(t);
    /* a long flat query: 5000 terms; vip or ... or 流失 */
    t = repeat3("vip or ", 5000, "流失", "");
    q = compile_ok(t, reg);
    ck_assert_int_eq(count_ok(q, set), 11);
    seg_query_free(q);
    free(t);
    t = repeat3("not 流失 and ", 5000, "true", "");
    q = compile_ok(t, reg);
    ck_assert_int_eq(count_ok(q, set), 15);
    seg_query_free(q);
    free(t);
    /* 100000 levels: either right or refused cleanly, never a crash */
    const char *heads[] = {"(", "not not ", "(not not "};
    const char *tails[] = {")", "", ")"};
    for (int k = 0; k < 3; k++) {
        t = repeat3(heads[k], 100000, "vip", tails[k]);
        seg_query *d = (seg_query *)CANARY_PTR;
        char err[256] = "";
        int32_t rc = seg_query_compile(&d, t, strlen(t), reg, NULL, NULL, err, sizeof err);
        if (rc == SEG_OK) {
            ck_assert_int_eq(count_ok(d, set), 6);
            seg_query_free(d);
        } else {
            ck_assert_int_eq(rc, SEG_EPARSE);
            ck_assert_ptr_eq(d, CANARY_PTR);
            ck_assert_msg(strncmp(err, "query:1:", 8) == 0, "err: %s", err);
        }
        free(t);
    }
    seg_tagset_free(set);
    seg_tagreg_free(reg);
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("language");
    tcase_add_test(tc, single_tags);
    tcase_add_test(tc, and_or_not);
    tcase_add_test(tc, true_false);
    tcase_add_test(tc, precedence);
    tcase_add_test(tc, chinese_and_aliases);
    tcase_add_test(tc, keyword_named_tags);
    tcase_add_test(tc, text_length);
    tcase_add_test(tc, nesting);
    suite_add_tcase(s, tc);

    tc = tcase_create("run");
    tcase_add_test(tc, select_paging);
    tcase_add_test(tc, zero_rows);
    tcase_add_test(tc, across_chunks);
    tcase_add_test(tc, last_chunk_only);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, syntax_errors, 0, (int)BADQ_N);
    tcase_add_loop_test(tc, unknown_tags, 0, (int)UNKNOWN_N);
    tcase_add_test(tc, source_and_buffers);
    tcase_add_test(tc, disabled_tag);
    tcase_add_test(tc, compile_errors);
    tcase_add_test(tc, run_errors);
    tcase_add_test(tc, lifetimes);
    suite_add_tcase(s, tc);

    tc = tcase_create("more");
    tcase_add_test(tc, threads_same_result);
    tcase_add_test(tc, compile_out_of_memory);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(query_suite());
}
