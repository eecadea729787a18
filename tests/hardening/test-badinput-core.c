/* SPDX-License-Identifier: MIT */
/*
 * Hardening (issue 6): a table-driven bad-input sweep over every public
 * function of common.h, version.h, frame.h, rfm.h, rfm_scheme.h, rule.h and
 * tiers.h. Each case is one row: a label, the call (an op number the
 * header's runner switches on) with the one bad argument, the documented
 * status, and a word the message must contain. For every row the sweep
 *
 *   1. builds fresh handles (so a last-error message can only come from
 *      this call) with a counting allocator,
 *   2. fills every output the call could write, *out handles included, and
 *      the err_buf with canaries and keeps a copy,
 *   3. makes the call and asserts the status the header documents,
 *   4. asserts that no output byte changed, that err_buf holds a
 *      NUL-terminated message within err_cap (nothing past it) naming the
 *      problem (column, row, parameter), or that the handle's last error
 *      does,
 *   5. checks that every fixture handle still gives the right answers, and
 *   6. frees everything and asserts that no block leaked.
 * A sweep runs all its rows and then fails once, listing every failed row.
 * Known library bugs are asserted, not skipped (see the report of issue 6).
 *
 * Functions covered (68), per header:
 *   common.h     seg_status_str seg_allocator_init
 *   version.h    seg_version_number seg_version_string seg_version_at_least
 *   frame.h      seg_frame_new seg_frame_free seg_frame_add_double
 *                seg_frame_add_int64 seg_frame_add_int32 seg_frame_add_string
 *                seg_frame_add_dict seg_frame_get_string seg_frame_n_rows
 *                seg_frame_n_columns seg_frame_find seg_frame_column_info
 *                seg_frame_get_double seg_frame_last_error
 *   rfm.h        seg_rfm_new seg_rfm_free seg_rfm_set_param seg_rfm_get_param
 *                seg_rfm_param_bounds seg_rfm_set_weights seg_rfm_set_thresholds
 *                seg_rfm_fit seg_rfm_fit_score seg_rfm_score
 *                seg_rfm_get_thresholds seg_rfm_is_fitted seg_rfm_aggregate
 *                seg_rfm_aggregate_minor seg_rfm_save seg_rfm_load
 *                seg_rfm_last_error
 *   rfm_scheme.h seg_rfm_scheme_new seg_rfm_scheme_new_builtin
 *                seg_rfm_scheme_free seg_rfm_scheme_add seg_rfm_scheme_count
 *                seg_rfm_scheme_others seg_rfm_scheme_levels seg_rfm_scheme_id
 *                seg_rfm_scheme_name seg_rfm_scheme_find seg_rfm_scheme_box
 *                seg_rfm_scheme_apply seg_rfm_scheme_last_error
 *   rule.h       seg_rule_compile seg_rule_free seg_rule_eval
 *   tiers.h      seg_tiers_load seg_tiers_new seg_tiers_add seg_tiers_free
 *                seg_tiers_count seg_tiers_id seg_tiers_name seg_tiers_find
 *                seg_tiers_save seg_tiers_apply seg_tiers_gaps
 *                seg_tiers_unreachable seg_tiers_has_catch_all
 *                seg_tiers_is_group seg_tiers_last_error seg_tiers_migration
 * Functions without a failure status (getters returning a neutral value,
 * the *_free functions) are covered by the "neutral" test of their header.
 */
#include <segment/segment.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-alloc.h"
#include "test-main.h"

/* ---- the case row ----------------------------------------------------------- */

/* Special counts (fields b, k): 0 = the fixture's default. */
#define N0 (-1)   /* a count of 0 */
#define NMAX (-2) /* SIZE_MAX: a count that overflows any size computation */
#define NSHORT (-3) /* one byte less than needed */

/* Special err_cap values (field cap): 0 = ERR_CAP. */
#define CAP0 (-1)    /* err_buf given, err_cap 0: nothing may be written */
#define CAPNULL (-2) /* err_buf NULL with a capacity */

#define AT(i) ((i) + 1) /* a row index stored so that 0 means "none" */

typedef struct bad {
    const char *what;  /* label printed on failure */
    int op;            /* the call; each header's runner switches on it */
    int32_t want;      /* documented status */
    const char *word;  /* the message must contain it; NULL: the call has no message channel */
    int null;          /* 1-based position of the pointer argument passed as NULL; 0: none */
    int h;             /* which fixture handle (or variant) to use */
    int64_t a, b, k;   /* integer arguments, meaning per op; b, k counts (N0, NMAX, NSHORT) */
    int at, at2;       /* AT(row) of an input element replaced by v (v2) or x; 0: none */
    int64_t v, v2;     /* replacement integer values */
    double x;          /* floating argument or replacement value */
    const char *s, *s2, *s3, *s4; /* string arguments */
    int cap;           /* err_cap: 0 = ERR_CAP, CAP0, CAPNULL, or a small capacity */
    int row;           /* AT(row) the message must name (SEG_ASSERT_NAMES with word); 0: none */
    const char *nword; /* a word the message must NOT contain, or NULL */
} bad;

static size_t count_of(int64_t b, size_t dflt)
{
    return b == 0 ? dflt : b == N0 ? 0 : b == NMAX ? SIZE_MAX : (size_t)b;
}

/* ---- canaried outputs -------------------------------------------------------- */

#define NR 16
#define ERR_CAP 256

typedef struct outs {
    int32_t i32[5][NR];
    double dbl[5][NR];
    uint8_t u8[NR];
    int64_t i64[NR * NR];
    size_t sz[2];
    const char *str;
    int32_t ty;
    seg_frame *frame;
    seg_rfm *rfm;
    seg_rfm_scheme *scheme;
    seg_rule *rule;
    seg_tiers *tiers;
    seg_allocator alloc;
    char text[4096];
} outs;

static outs OUT, SNAP;
static char ERR[ERR_CAP + 64];
static char *g_err; /* err_buf passed to the call */
static size_t g_cap; /* err_cap passed to the call */
#define E g_err, g_cap

static seg_test_alloc TA; /* every handle of a case is built with it */

static void arm(const bad *c)
{
    memset(&OUT, 0x3C, sizeof OUT); /* padding too, so whole-struct memcmp works */
    for (int d = 0; d < 5; d++)
        for (int i = 0; i < NR; i++) {
            OUT.i32[d][i] = CANARY_I32;
            OUT.dbl[d][i] = CANARY_DBL;
        }
    memset(OUT.u8, CANARY_U8, sizeof OUT.u8);
    for (int i = 0; i < NR * NR; i++)
        OUT.i64[i] = (int64_t)CANARY_I32;
    OUT.sz[0] = OUT.sz[1] = CANARY_SIZE;
    OUT.str = CANARY_PTR;
    OUT.ty = CANARY_I32;
    OUT.frame = CANARY_PTR;
    OUT.rfm = CANARY_PTR;
    OUT.scheme = CANARY_PTR;
    OUT.rule = CANARY_PTR;
    OUT.tiers = CANARY_PTR;
    memset(&OUT.alloc, CANARY_U8, sizeof OUT.alloc);
    memset(OUT.text, CANARY_U8, sizeof OUT.text);
    memcpy(&SNAP, &OUT, sizeof OUT);
    memset(ERR, CANARY_U8, sizeof ERR);
    g_err = c->cap == CAPNULL ? NULL : ERR;
    g_cap = c->cap == 0 || c->cap == CAPNULL ? ERR_CAP : c->cap == CAP0 ? 0 : (size_t)c->cap;
}

/* Name of the output field holding byte `at` of OUT, for failure messages. */
static const char *out_field(size_t at)
{
    static const struct {
        size_t off;
        const char *name;
    } f[] = {
        {offsetof(outs, i32), "int32 array"}, {offsetof(outs, dbl), "double array"},
        {offsetof(outs, u8), "uint8 array"},  {offsetof(outs, i64), "int64 array"},
        {offsetof(outs, sz), "size_t"},       {offsetof(outs, str), "string pointer"},
        {offsetof(outs, ty), "type"},         {offsetof(outs, frame), "*out frame"},
        {offsetof(outs, rfm), "*out model"},  {offsetof(outs, scheme), "*out scheme"},
        {offsetof(outs, rule), "*out rule"},  {offsetof(outs, tiers), "*out tiers"},
        {offsetof(outs, alloc), "allocator"}, {offsetof(outs, text), "text buffer"},
    };
    const char *name = "?";
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (at >= f[i].off)
            name = f[i].name;
    return name;
}

/* The checks of one row are not fatal: a sweep runs every row, collects
 * the failures and reports them together (one process per sweep keeps the
 * ASan run short; run with SEG_BADINPUT_TRACE=1 to log each row to stderr
 * before its call, to find a row that crashes). */
static char FAIL[600];
#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            snprintf(FAIL, sizeof FAIL, __VA_ARGS__);      \
            return FAIL;                                   \
        }                                                  \
    } while (0)

/* Checks status, untouched outputs and the message of one row; NULL when
 * all hold, else what failed. `msg` is where the call reports detail
 * (g_err or a last-error string), NULL when it has no channel. */
static const char *expect(const bad *c, int32_t rc, const char *msg)
{
    CHECK(rc == c->want, "status %d (%s), want %d (%s)", (int)rc, seg_status_str(rc),
          (int)c->want, seg_status_str(c->want));
    const unsigned char *o = (const unsigned char *)&OUT, *s = (const unsigned char *)&SNAP;
    for (size_t i = 0; i < sizeof OUT; i++)
        CHECK(o[i] == s[i], "output written on failure (%s, byte %zu)", out_field(i), i);
    size_t lim = g_err ? g_cap : 0;
    for (size_t i = lim; i < sizeof ERR; i++)
        CHECK((uint8_t)ERR[i] == CANARY_U8, "err_buf written at %zu, err_cap %zu", i, lim);
    int in_err = msg != NULL && msg == g_err;
    if (in_err && g_cap > 0) {
        CHECK(memchr(ERR, '\0', g_cap) != NULL, "err_buf not written or not NUL-terminated");
        if (g_cap < ERR_CAP) /* truncated to exactly err_cap - 1 bytes */
            CHECK(strlen(ERR) == g_cap - 1, "err_cap %zu gave \"%s\"", g_cap, ERR);
    }
    if (msg && (!in_err || g_cap == ERR_CAP))
        CHECK(*msg != '\0', "failed without a message");
    if (msg && (!in_err || g_cap > 0)) {
        size_t at = seg_test_msg_bad_at(msg);
        CHECK(at == 0, "message byte %zu is a control byte or bad UTF-8", at - 1);
    }
    if (c->word) {
        CHECK(msg != NULL, "no message channel (test bug)");
        CHECK(seg_test_has_word(msg, c->word), "message \"%.100s\" lacks \"%s\"", msg, c->word);
        if (c->row) /* as SEG_ASSERT_NAMES */
            CHECK(seg_test_names_row(msg, (size_t)(c->row - 1)),
                  "message \"%.100s\" does not name row %d", msg, c->row - 1);
    }
    if (c->nword && msg)
        CHECK(!seg_test_has_word(msg, c->nword), "message \"%.100s\" contains \"%s\"", msg,
              c->nword);
    return NULL;
}

typedef int32_t (*runner_fn)(const bad *c, const char **msg);

/* Runs rows t[0..n): per row fresh fixtures, canaries, the call, the
 * checks, the fixture's known answers (fatal: a broken handle stops the
 * sweep) and no leak; then fails once listing every failed row. */
static void sweep(const bad *t, size_t n, void (*open)(void), runner_fn run,
                  void (*verify)(void), void (*close)(void))
{
    static char report[8192];
    size_t len = 0, failed = 0;
    int trace = getenv("SEG_BADINPUT_TRACE") != NULL;
    report[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const bad *c = &t[i];
        seg_test_alloc_init(&TA);
        open();
        arm(c);
        if (trace)
            fprintf(stderr, "row: %s\n", c->what);
        const char *msg = NULL;
        int32_t rc = run(c, &msg);
        const char *why = expect(c, rc, msg);
        verify();
        close();
        if (!why && (TA.live != 0 || TA.bad_frees != 0)) {
            snprintf(FAIL, sizeof FAIL, "%zu blocks leaked, %zu bad frees", TA.live, TA.bad_frees);
            why = FAIL;
        }
        if (why) {
            failed++;
            int k = snprintf(report + len, sizeof report - len, " [%s: %s]", c->what, why);
            len += k > 0 && (size_t)k < sizeof report - len ? (size_t)k : 0;
        }
    }
    ck_assert_msg(failed == 0, "%zu of %zu rows failed:%s", failed, n, report);
}

#define N_OF(table) (sizeof table / sizeof *table)
#define SWEEP(table, prefix) \
    sweep(table, N_OF(table), prefix##_open, prefix##_run, prefix##_verify, prefix##_close)

/* Labels of generated rows. */
static char LABELS[128][96];

/* The pointer argument at position k, or NULL for the case that nulls it. */
#define P(k, p) (c->null == (k) ? NULL : (p))

#define EQ(expr, want)                                                                    \
    ck_assert_msg((long long)(expr) == (long long)(want), "%s = %lld, want %lld", #expr, \
                  (long long)(expr), (long long)(want))
#define ISNULL(expr) ck_assert_msg((expr) == NULL, "%s is not NULL", #expr)
#define EMPTY(expr) ck_assert_msg(strcmp((expr), "") == 0, "%s is \"%s\"", #expr, (expr))

/* ---- long and malformed inputs ------------------------------------------------ */

static char NAME255[256], NAME256[257], ID255[256], ID256[257], LONGCOL[300], LONG_ID_TIERS[400],
    LONG_NAME_TIERS[400], DEEP_RULE[700], LONG_RULE[5000 * 12 + 16];

static void init_strings(void)
{
    memset(NAME255, 'n', 255);
    memset(NAME256, 'n', 256);
    memset(ID255, 'i', 255);
    memset(ID256, 'i', 256);
    snprintf(LONGCOL, sizeof LONGCOL, "`%s` > 1", NAME256);
    snprintf(LONG_ID_TIERS, sizeof LONG_ID_TIERS, "tier %s \"X\" otherwise\n", ID256);
    snprintf(LONG_NAME_TIERS, sizeof LONG_NAME_TIERS, "tier a \"%s\" otherwise\n", NAME256);
    /* 300 nested parentheses (the limit is 256 levels); 5000 'and' terms (4096). */
    memset(DEEP_RULE, '(', 300);
    memcpy(DEEP_RULE + 300, "aum > 1", 7);
    memset(DEEP_RULE + 307, ')', 300);
    size_t n = (size_t)snprintf(LONG_RULE, sizeof LONG_RULE, "aum > 1");
    for (int i = 1; i < 5000; i++)
        n += (size_t)snprintf(LONG_RULE + n, sizeof LONG_RULE - n, " and aum > 1");
}

/* Names every name-taking function must refuse (frame columns, scheme and
 * tier display names): the header's rules, one violation each. */
static const struct bad_name {
    const char *label, *name, *word;
} BAD_NAMES[] = {
    {"empty name", "", "empty"},
    {"256-byte name", NAME256, "long"},
    {"0xFF byte", "a\xff", "UTF-8"},
    {"overlong NUL", "a\xc0\x80", "UTF-8"},
    {"UTF-16 surrogate", "\xed\xa0\x80", "UTF-8"},
    {"truncated sequence", "\xe4\xb8", "UTF-8"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "UTF-8"},
    {"lone continuation byte", "\x80", "UTF-8"},
    {"control U+0001", "a\x01", "control"},
    {"tab", "a\tb", "control"},
    {"DEL", "a\x7f", "control"},
};
#define N_BAD_NAMES (sizeof BAD_NAMES / sizeof *BAD_NAMES)

/* Identifiers every identifier-taking function must refuse. */
static const char *const BAD_IDS[] = {"", "1abc", "a-b", "a b", "caf\xc3\xa9", ID256};
#define N_BAD_IDS (sizeof BAD_IDS / sizeof *BAD_IDS)

/* ==== common.h and version.h ================================================ */

#define HOOKS seg_test_alloc_malloc_hook, seg_test_alloc_realloc_hook, seg_test_alloc_free_hook
enum { OP_ALLOC_INIT = 1 };

static void common_open(void) {}
static void common_close(void) {}
static void common_verify(void)
{
    /* seg_allocator_init still fills a struct that constructors accept. */
    seg_allocator a;
    EQ(seg_allocator_init(&a, sizeof a, HOOKS, &TA), SEG_OK);
    seg_frame *f = NULL;
    EQ(seg_frame_new(&f, 2, &a), SEG_OK);
    EQ(seg_frame_n_rows(f), 2);
    seg_frame_free(f);
}

static int32_t common_run(const bad *c, const char **msg)
{
    (void)msg;
    return seg_allocator_init(P(1, &OUT.alloc), (uint32_t)c->a, P(2, seg_test_alloc_malloc_hook),
                              P(3, seg_test_alloc_realloc_hook), P(4, seg_test_alloc_free_hook), &TA);
}

#define AS ((int64_t)sizeof(seg_allocator))
static const bad COMMON[] = {
    {"allocator_init: alloc NULL", OP_ALLOC_INIT, SEG_EINVAL, NULL, .null = 1, .a = AS},
    {"allocator_init: malloc_fn NULL", OP_ALLOC_INIT, SEG_EINVAL, NULL, .null = 2, .a = AS},
    {"allocator_init: realloc_fn NULL", OP_ALLOC_INIT, SEG_EINVAL, NULL, .null = 3, .a = AS},
    {"allocator_init: free_fn NULL", OP_ALLOC_INIT, SEG_EINVAL, NULL, .null = 4, .a = AS},
    {"allocator_init: struct_size 0", OP_ALLOC_INIT, SEG_EVERSION, NULL, .a = 0},
    {"allocator_init: struct_size 4", OP_ALLOC_INIT, SEG_EVERSION, NULL, .a = 4},
    {"allocator_init: struct_size one short", OP_ALLOC_INIT, SEG_EVERSION, NULL, .a = AS - 1},
};

START_TEST(test_common)
{
    SWEEP(COMMON, common);
}
END_TEST

/* Every constructor (op 0..7) x every bad allocator (a): refused, *out left
 * alone and, when the constructor has an err_buf, a message about it. */
enum { BA_SMALL, BA_TAIL, BA_NULL_HOOK, BA_N };
#define N_CTORS 8

static seg_frame *ctor_schema;
static void ctor_open(void)
{
    static const double aum[2] = {1, 2};
    ck_assert_int_eq(seg_frame_new(&ctor_schema, 2, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(ctor_schema, "aum", aum, NULL), SEG_OK);
}
static void ctor_close(void) { seg_frame_free(ctor_schema); }

static int32_t ctor_run(const bad *c, const char **msg)
{
    struct {
        seg_allocator a;
        uint64_t extra;
    } big;
    memset(&big, 0, sizeof big);
    big.a = TA.base;
    if (c->a == BA_SMALL)
        big.a.struct_size = (uint32_t)sizeof(seg_allocator) - 1;
    if (c->a == BA_TAIL) {
        big.a.struct_size = (uint32_t)sizeof big;
        big.extra = 1;
    }
    if (c->a == BA_NULL_HOOK)
        big.a.realloc_fn = NULL;
    const seg_allocator *al = &big.a;
    if (c->op == 2 || c->op == 5 || c->op == 6) /* the parsers have an err_buf */
        *msg = g_err;
    switch (c->op) {
    case 0: return seg_frame_new(&OUT.frame, 2, al);
    case 1: return seg_rfm_new(&OUT.rfm, al);
    case 2: return seg_rfm_load(&OUT.rfm, "libsegment-rfm 1\nend\n", 21, al, E);
    case 3: return seg_rfm_scheme_new(&OUT.scheme, 5, "others", "Others", al);
    case 4: return seg_rfm_scheme_new_builtin(&OUT.scheme, SEG_SCHEME_RFM10, al);
    case 5: return seg_rule_compile(&OUT.rule, "aum > 1", 7, ctor_schema, NULL, al, E);
    case 6: return seg_tiers_load(&OUT.tiers, "tier a \"A\" otherwise", 20, ctor_schema, NULL, al, E);
    default: return seg_tiers_new(&OUT.tiers, ctor_schema, 0, al);
    }
}

START_TEST(test_constructors_bad_allocator)
{
    static const int32_t want[BA_N] = {SEG_EVERSION, SEG_EVERSION, SEG_EINVAL};
    static const char *const label[BA_N] = {"struct_size too small", "unknown non-zero tail",
                                            "NULL hook"};
    static const char *const ctor[N_CTORS] = {"frame_new", "rfm_new", "rfm_load", "scheme_new",
                                              "scheme_new_builtin", "rule_compile", "tiers_load",
                                              "tiers_new"};
    bad t[BA_N * N_CTORS];
    for (int i = 0; i < BA_N * N_CTORS; i++) {
        int k = i / N_CTORS, op = i % N_CTORS, parser = op == 2 || op == 5 || op == 6;
        snprintf(LABELS[i], sizeof LABELS[i], "%s: allocator %s", ctor[op], label[k]);
        bad c = {LABELS[i], op, want[k], parser ? "alloc" : NULL, .a = k};
        t[i] = c;
    }
    sweep(t, N_OF(t), ctor_open, ctor_run, common_verify, ctor_close);
}
END_TEST

START_TEST(test_common_neutral)
{
    /* Every known code has its own name; any other value is "unknown error". */
    for (int32_t s = SEG_ECANCELED; s <= SEG_OK; s++) {
        const char *n = seg_status_str(s);
        ck_assert_ptr_nonnull(n);
        ck_assert_msg(*n && strcmp(n, "unknown error") != 0, "code %d: \"%s\"", (int)s, n);
        for (int32_t t = SEG_ECANCELED; t < s; t++)
            ck_assert_msg(strcmp(n, seg_status_str(t)) != 0, "codes %d and %d share a name",
                          (int)s, (int)t);
    }
    static const int32_t unknown[] = {1, 2, SEG_ECANCELED - 1, -100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++)
        ck_assert_str_eq(seg_status_str(unknown[i]), "unknown error");
}
END_TEST

START_TEST(test_version)
{
    EQ(seg_version_number(), SEG_VERSION_NUMBER);
    ck_assert_str_eq(seg_version_string(), SEG_VERSION_STRING);
    static const struct {
        int32_t major, minor, patch, want;
    } at_least[] = {
        {SEG_VERSION_MAJOR, SEG_VERSION_MINOR, SEG_VERSION_PATCH, 1},
        {SEG_VERSION_MAJOR, SEG_VERSION_MINOR, SEG_VERSION_PATCH + 1, 0},
        {SEG_VERSION_MAJOR, SEG_VERSION_MINOR, INT32_MAX, 0},
        {SEG_VERSION_MAJOR, SEG_VERSION_MINOR, -1, 1},
        {SEG_VERSION_MAJOR, SEG_VERSION_MINOR, INT32_MIN, 1},
        {SEG_VERSION_MAJOR, SEG_VERSION_MINOR + 1, INT32_MIN, 0},
        {SEG_VERSION_MAJOR, INT32_MAX, 0, 0},
        {SEG_VERSION_MAJOR, -1, INT32_MAX, 1},
        {SEG_VERSION_MAJOR, 100, 0, 0}, /* would pass if compared as packed numbers */
        {SEG_VERSION_MAJOR + 1, INT32_MIN, INT32_MIN, 0},
        {INT32_MAX, 0, 0, 0},
        {-1, INT32_MAX, INT32_MAX, 1},
        {INT32_MIN, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof at_least / sizeof *at_least; i++)
        ck_assert_msg(seg_version_at_least(at_least[i].major, at_least[i].minor,
                                           at_least[i].patch) == at_least[i].want,
                      "at_least(%d, %d, %d) != %d", (int)at_least[i].major,
                      (int)at_least[i].minor, (int)at_least[i].patch, (int)at_least[i].want);
}
END_TEST

/* ==== frame.h =============================================================== */

/* The frame fixture, 4 rows: [0] aum double, [1] txn int32, [2] id int64,
 * [3] channel string, [4] grade dict. */
static const double AUM[4] = {100, NAN, 5e5, 7e6};
static const int32_t TXN[4] = {0, 1, 2, 3};
static const int64_t IDS[4] = {10, 11, 12, 13};
static const char *const CHAN[4] = {"web", NULL, "app", "shop"};
static const int32_t CODES[4] = {0, -1, 1, 0};
static const int32_t CODES_BAD[4] = {0, 1, 2, 0};         /* row 2 outside a 2-entry dict */
static const int32_t CODES_HUGE[4] = {0, INT32_MAX, 0, 0}; /* row 1 */
static const char *const DICT[2] = {"gold", "silver"};
static const char *const DICT_NULL[2] = {"gold", NULL};

static int32_t make_frame(seg_frame **out, const seg_allocator *a)
{
    seg_frame *f;
    int32_t rc = seg_frame_new(&f, 4, a);
    if (rc != SEG_OK)
        return rc;
    ck_assert_int_eq(seg_frame_add_double(f, "aum", AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn", TXN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "id", IDS, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(f, "channel", CHAN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(f, "grade", CODES, DICT, 2, NULL), SEG_OK);
    EMPTY(seg_frame_last_error(f));
    *out = f;
    return SEG_OK;
}

/* Reads every column back: the fixture's known answer. */
static void check_frame(const seg_frame *f)
{
    static const char *const names[5] = {"aum", "txn", "id", "channel", "grade"};
    static const int32_t types[5] = {SEG_TYPE_DOUBLE, SEG_TYPE_INT32, SEG_TYPE_INT64,
                                      SEG_TYPE_STRING, SEG_TYPE_DICT};
    EQ(seg_frame_n_rows(f), 4);
    EQ(seg_frame_n_columns(f), 5);
    for (size_t i = 0; i < 5; i++) {
        const char *nm = NULL;
        int32_t ty = 0;
        size_t idx = 99;
        EQ(seg_frame_column_info(f, i, &nm, &ty), SEG_OK);
        ck_assert_str_eq(nm, names[i]);
        EQ(ty, types[i]);
        EQ(seg_frame_find(f, names[i], &idx), SEG_OK);
        EQ(idx, i);
    }
    double v = 0;
    int32_t miss = -1;
    EQ(seg_frame_get_double(f, 0, 2, &v, &miss), SEG_OK);
    ck_assert(v == 5e5 && miss == 0);
    EQ(seg_frame_get_double(f, 0, 1, &v, &miss), SEG_OK);
    ck_assert(isnan(v) && miss == 1);
    EQ(seg_frame_get_double(f, 2, 3, &v, NULL), SEG_OK);
    ck_assert(v == 13);
    const char *s = NULL;
    EQ(seg_frame_get_string(f, 3, 2, &s), SEG_OK);
    ck_assert_str_eq(s, "app");
    EQ(seg_frame_get_string(f, 4, 2, &s), SEG_OK);
    ck_assert_str_eq(s, "silver");
    EQ(seg_frame_get_string(f, 4, 1, &s), SEG_OK);
    ISNULL(s);
}

static struct {
    seg_frame *f;
} fx;

static void frame_open(void) { ck_assert_int_eq(make_frame(&fx.f, &TA.base), SEG_OK); }
static void frame_close(void) { seg_frame_free(fx.f); }
static void frame_verify(void)
{
    check_frame(fx.f);
    /* The frame still takes a column after the failure. */
    double d[4] = {1, 2, 3, 4};
    EQ(seg_frame_add_double(fx.f, "after", d, NULL), SEG_OK);
    EMPTY(seg_frame_last_error(fx.f));
    EQ(seg_frame_n_columns(fx.f), 6);
}

enum { OP_F_NEW = 1, OP_F_ADD, OP_F_FIND, OP_F_INFO, OP_F_GETD, OP_F_GETS };

static int32_t frame_run(const bad *c, const char **msg)
{
    seg_frame *f = P(1, fx.f);
    size_t col = (size_t)c->a, row = (size_t)c->b;
    switch (c->op) {
    case OP_F_NEW: return seg_frame_new(P(1, &OUT.frame), count_of(c->b, 4), &TA.base);
    case OP_F_ADD: {
        /* a = type, s = name; null: 1 frame, 2 name, 3 data, 4 dict; h: 1 NULL dict
         * entry, 2 code outside the dict, 3 code INT32_MAX. */
        const char *name = P(2, c->s);
        *msg = f ? seg_frame_last_error(f) : NULL;
        switch (c->a) {
        case SEG_TYPE_DOUBLE: return seg_frame_add_double(f, name, P(3, AUM), NULL);
        case SEG_TYPE_INT64: return seg_frame_add_int64(f, name, P(3, IDS), NULL);
        case SEG_TYPE_INT32: return seg_frame_add_int32(f, name, P(3, TXN), NULL);
        case SEG_TYPE_STRING: return seg_frame_add_string(f, name, P(3, CHAN), NULL);
        default:
            return seg_frame_add_dict(f, name,
                                      P(3, c->h == 2 ? CODES_BAD : c->h == 3 ? CODES_HUGE : CODES),
                                      P(4, c->h == 1 ? DICT_NULL : DICT), 2, NULL);
        }
    }
    case OP_F_FIND: return seg_frame_find(f, P(2, c->s), P(3, &OUT.sz[0]));
    case OP_F_INFO: return seg_frame_column_info(f, col, &OUT.str, &OUT.ty);
    case OP_F_GETD: return seg_frame_get_double(f, col, row, P(2, &OUT.dbl[0][0]), &OUT.i32[0][0]);
    default: return seg_frame_get_string(f, col, row, P(2, &OUT.str));
    }
}

static const bad FRAME[] = {
    {"new: out NULL", OP_F_NEW, SEG_EINVAL, NULL, .null = 1},
    {"new: out NULL, SIZE_MAX rows", OP_F_NEW, SEG_EINVAL, NULL, .null = 1, .b = NMAX},
    {"add: name NULL", OP_F_ADD, SEG_EINVAL, "name", .a = SEG_TYPE_DOUBLE, .null = 2},
    {"add_dict: dict NULL with entries", OP_F_ADD, SEG_EINVAL, "dictionary", .a = SEG_TYPE_DICT, .s = "codes", .null = 4},
    {"add_dict: NULL dict entry", OP_F_ADD, SEG_EDATA, "entry 1", .a = SEG_TYPE_DICT, .s = "codes", .h = 1},
    {"add_dict: code outside the dict", OP_F_ADD, SEG_EDATA, "codes", .a = SEG_TYPE_DICT, .s = "codes", .h = 2, .row = AT(2)},
    {"add_dict: code INT32_MAX", OP_F_ADD, SEG_EDATA, "codes", .a = SEG_TYPE_DICT, .s = "codes", .h = 3, .row = AT(1)},
    {"add: 255-byte name, data NULL", OP_F_ADD, SEG_EINVAL, "data", .a = SEG_TYPE_INT64, .s = NAME255, .null = 3},
    {"find: frame NULL", OP_F_FIND, SEG_EINVAL, NULL, .null = 1, .s = "aum"},
    {"find: name NULL", OP_F_FIND, SEG_EINVAL, NULL, .null = 2},
    {"find: out NULL", OP_F_FIND, SEG_EINVAL, NULL, .null = 3, .s = "aum"},
    {"find: unknown name", OP_F_FIND, SEG_ENOTFOUND, NULL, .s = "nope"},
    {"find: case differs", OP_F_FIND, SEG_ENOTFOUND, NULL, .s = "AUM"},
    {"find: empty name", OP_F_FIND, SEG_ENOTFOUND, NULL, .s = ""},
    {"find: invalid UTF-8", OP_F_FIND, SEG_ENOTFOUND, NULL, .s = "\xff"},
    {"find: prefix of a name", OP_F_FIND, SEG_ENOTFOUND, NULL, .s = "au"},
    {"column_info: frame NULL", OP_F_INFO, SEG_EINVAL, NULL, .null = 1},
    {"column_info: index = n_columns", OP_F_INFO, SEG_ERANGE, NULL, .a = 5},
    {"column_info: index SIZE_MAX", OP_F_INFO, SEG_ERANGE, NULL, .a = -1},
    {"get_double: frame NULL", OP_F_GETD, SEG_EINVAL, NULL, .null = 1},
    {"get_double: out_value NULL", OP_F_GETD, SEG_EINVAL, NULL, .null = 2},
    {"get_double: column out of range", OP_F_GETD, SEG_ERANGE, NULL, .a = 5},
    {"get_double: column SIZE_MAX", OP_F_GETD, SEG_ERANGE, NULL, .a = -1},
    {"get_double: row = n_rows", OP_F_GETD, SEG_ERANGE, NULL, .b = 4},
    {"get_double: row SIZE_MAX", OP_F_GETD, SEG_ERANGE, NULL, .b = -1},
    {"get_double: string column", OP_F_GETD, SEG_EINVAL, NULL, .a = 3},
    {"get_double: dict column", OP_F_GETD, SEG_EINVAL, NULL, .a = 4},
    {"get_string: frame NULL", OP_F_GETS, SEG_EINVAL, NULL, .null = 1, .a = 3},
    {"get_string: out_value NULL", OP_F_GETS, SEG_EINVAL, NULL, .null = 2, .a = 3},
    {"get_string: column out of range", OP_F_GETS, SEG_ERANGE, NULL, .a = 5},
    {"get_string: row = n_rows", OP_F_GETS, SEG_ERANGE, NULL, .a = 3, .b = 4},
    {"get_string: row SIZE_MAX", OP_F_GETS, SEG_ERANGE, NULL, .a = 4, .b = -1},
    {"get_string: double column", OP_F_GETS, SEG_EINVAL, NULL, .a = 0},
    {"get_string: int64 column", OP_F_GETS, SEG_EINVAL, NULL, .a = 2},
};

START_TEST(test_frame)
{
    SWEEP(FRAME, frame);
}
END_TEST

/* Every add function x every bad name, two duplicates, a NULL frame and NULL data. */
#define FRAME_NAME_ROWS (N_BAD_NAMES + 4)
START_TEST(test_frame_add_names)
{
    static const int32_t types[5] = {SEG_TYPE_DOUBLE, SEG_TYPE_INT64, SEG_TYPE_INT32,
                                     SEG_TYPE_STRING, SEG_TYPE_DICT};
    static const char *const lab[4] = {"duplicate name", "duplicate of another column",
                                       "frame NULL", "data NULL with rows"};
    static const char *const nm[4] = {"aum", "channel", "x", "x"};
    static const char *const wd[4] = {"aum", "channel", NULL, "data"};
    bad t[FRAME_NAME_ROWS * 5];
    for (size_t r = 0; r < N_OF(t); r++) {
        size_t i = r % FRAME_NAME_ROWS, j = i - N_BAD_NAMES;
        int32_t type = types[r / FRAME_NAME_ROWS];
        snprintf(LABELS[r], sizeof LABELS[r], "add type %d: %s", (int)type,
                 i < N_BAD_NAMES ? BAD_NAMES[i].label : lab[j]);
        bad c = {LABELS[r], OP_F_ADD, SEG_EINVAL, NULL, .a = type};
        if (i < N_BAD_NAMES) {
            c.s = BAD_NAMES[i].name;
            c.word = BAD_NAMES[i].word;
        } else {
            c.s = nm[j];
            c.word = wd[j];
            c.want = j < 2 ? SEG_EEXISTS : SEG_EINVAL;
            c.null = j == 2 ? 1 : j == 3 ? 3 : 0;
        }
        t[r] = c;
    }
    sweep(t, N_OF(t), frame_open, frame_run, frame_verify, frame_close);
}
END_TEST

START_TEST(test_frame_neutral)
{
    EQ(seg_frame_n_rows(NULL), 0);
    EQ(seg_frame_n_columns(NULL), 0);
    EMPTY(seg_frame_last_error(NULL));
    seg_frame_free(NULL);
    /* The boundary: a 255-byte name is accepted, 256 is not (above). */
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, NAME255, NULL, NULL), SEG_OK);
    /* An error, then a success: the message is cleared. */
    ck_assert_int_eq(seg_frame_add_double(f, "", NULL, NULL), SEG_EINVAL);
    ck_assert(*seg_frame_last_error(f) != '\0');
    ck_assert_int_eq(seg_frame_add_double(f, "ok", NULL, NULL), SEG_OK);
    EMPTY(seg_frame_last_error(f));
    seg_frame_free(f);
}
END_TEST

/* ==== rfm.h ================================================================= */

/* Population: recency 1..10, frequency 1..10, monetary 10..100. R-compatible
 * thresholds (k = 5): quantile(x, j/5, type 7) + 1 = 3.8 5.6 7.4 9.2 for
 * 1..10, and 29 47 65 83 for 10..100. */
static const double POP_R[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const double POP_M[10] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
static const double THR_RF[4] = {3.8, 5.6, 7.4, 9.2}, THR_M[4] = {29, 47, 65, 83};

/* Probe rows and their scores: recency 1 -> bin 1 -> 5, 10 -> 1, 5 -> 4;
 * frequency 10 -> 5, 1 -> 1, 5 -> 2; monetary 100 -> 5, 10 -> 1, 50 -> 3. */
static const double PR_R[3] = {1, 10, 5}, PR_F[3] = {10, 1, 5}, PR_M[3] = {100, 10, 50};
static const int32_t PR_CELL[3] = {555, 111, 423};

/* Transactions: customer 0 buys 1 at t=10 and 3 at t=30, customer 1 buys 2
 * at t=20 and 4 at t=35; analysis time 40. */
static const int32_t TX_C[4] = {0, 1, 0, 1};
static const int64_t TX_T[4] = {10, 20, 30, 35};
static const double TX_A[4] = {1, 2, 3, 4};
static const int64_t TX_AI[4] = {1, 2, 3, 4};

static struct {
    seg_rfm *m;  /* h 0: fitted on the population, default options */
    seg_rfm *u;  /* h 1: new, not fitted */
    seg_rfm *mr; /* h 2: missing and negative REJECT, fitted */
    seg_rfm *uf; /* h 3: recency binning FIXED without thresholds */
} rx;

static seg_rfm *rfm_h(int h) { return h == 1 ? rx.u : h == 2 ? rx.mr : h == 3 ? rx.uf : rx.m; }

static void rfm_open(void)
{
    ck_assert_int_eq(seg_rfm_new(&rx.m, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_new(&rx.u, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_new(&rx.mr, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_new(&rx.uf, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(rx.mr, SEG_RFM_PARAM_MISSING, SEG_MISSING_REJECT), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(rx.mr, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_REJECT), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(rx.uf, SEG_RFM_PARAM_R_BINNING, SEG_BINNING_FIXED), SEG_OK);
    ck_assert_int_eq(seg_rfm_fit(rx.m, POP_R, POP_R, POP_M, 10), SEG_OK);
    ck_assert_int_eq(seg_rfm_fit(rx.mr, POP_R, POP_R, POP_M, 10), SEG_OK);
}

static void rfm_close(void)
{
    seg_rfm_free(rx.m);
    seg_rfm_free(rx.u);
    seg_rfm_free(rx.mr);
    seg_rfm_free(rx.uf);
}

static const struct {
    int32_t key;
    const char *name; /* as in the text format (doc/rfm.md) */
    int64_t def;
} PARAMS[] = {
    {SEG_RFM_PARAM_R_BINS, "r_bins", 5},       {SEG_RFM_PARAM_F_BINS, "f_bins", 5},
    {SEG_RFM_PARAM_M_BINS, "m_bins", 5},       {SEG_RFM_PARAM_R_BINNING, "r_binning", 1},
    {SEG_RFM_PARAM_F_BINNING, "f_binning", 1}, {SEG_RFM_PARAM_M_BINNING, "m_binning", 1},
    {SEG_RFM_PARAM_TIME_UNIT, "time_unit", 1}, {SEG_RFM_PARAM_FREQUENCY, "frequency", 1},
    {SEG_RFM_PARAM_MONETARY, "monetary", 1},   {SEG_RFM_PARAM_NEGATIVE, "negative", 1},
    {SEG_RFM_PARAM_FUTURE, "future", 1},       {SEG_RFM_PARAM_MISSING, "missing", 1},
};
#define N_PARAMS (sizeof PARAMS / sizeof *PARAMS)

static void rfm_verify(void)
{
    /* m: options, thresholds and scores as fitted. */
    for (size_t i = 0; i < N_PARAMS; i++) {
        int64_t v = -1;
        EQ(seg_rfm_get_param(rx.m, PARAMS[i].key, &v), SEG_OK);
        ck_assert_msg(v == PARAMS[i].def, "%s = %lld", PARAMS[i].name, (long long)v);
    }
    for (int32_t d = 0; d < 3; d++) {
        double t[9];
        size_t n = 0;
        EQ(seg_rfm_get_thresholds(rx.m, d, t, 9, &n), SEG_OK);
        EQ(n, 4);
        for (size_t j = 0; j < 4; j++)
            ck_assert_msg(fabs(t[j] - (d == 2 ? THR_M : THR_RF)[j]) < 1e-9, "dim %d thr %zu = %g",
                          (int)d, j, t[j]);
    }
    int32_t r[3], f[3], m[3], cell[3];
    double w[3];
    EQ(seg_rfm_score(rx.m, PR_R, PR_F, PR_M, 3, r, f, m, cell, w, NULL, 0), SEG_OK);
    for (int i = 0; i < 3; i++) {
        EQ(cell[i], PR_CELL[i]);
        EQ(100 * r[i] + 10 * f[i] + m[i], PR_CELL[i]);
        ck_assert_msg(w[i] == r[i] + f[i] + m[i], "weighted %g", w[i]); /* weights 1, 1, 1 */
    }
    EQ(seg_rfm_is_fitted(rx.m), 1);
    EQ(seg_rfm_is_fitted(rx.u), 0);
    EQ(seg_rfm_is_fitted(rx.mr), 1);
    EQ(seg_rfm_is_fitted(rx.uf), 0);
    /* The aggregate's known answer, both amount types. */
    for (int minor = 0; minor < 2; minor++) {
        double rec[2], fr[2], mon[2], ten[2];
        uint8_t has[2];
        int32_t rc = minor ? seg_rfm_aggregate_minor(rx.m, TX_C, TX_T, TX_AI, 4, 40, 2, rec, fr,
                                                     mon, ten, has, NULL, 0)
                           : seg_rfm_aggregate(rx.m, TX_C, TX_T, TX_A, 4, 40, 2, rec, fr, mon,
                                               ten, has, NULL, 0);
        EQ(rc, SEG_OK);
        ck_assert(rec[0] == 10 && rec[1] == 5 && fr[0] == 2 && fr[1] == 2);
        ck_assert(mon[0] == 4 && mon[1] == 6 && ten[0] == 30 && ten[1] == 20);
        ck_assert(has[0] == 1 && has[1] == 1);
    }
}

enum {
    OP_M_NEW = 1, OP_M_SETP, OP_M_GETP, OP_M_BOUNDS, OP_M_WEIGHTS, OP_M_SETT, OP_M_FIT,
    OP_M_FITSCORE, OP_M_SCORE, OP_M_GETT, OP_M_AGG, OP_M_AGGI, OP_M_SAVE, OP_M_LOAD
};

/* Three columns of n values, element `at` of column a replaced by x. */
static void rfm_inputs(const bad *c, const double *src[3], double col[3][10], size_t n)
{
    for (int d = 0; d < 3; d++)
        memcpy(col[d], src[d], n * sizeof(double));
    if (c->at)
        col[c->a][c->at - 1] = c->x;
}

static int32_t rfm_run(const bad *c, const char **msg)
{
    seg_rfm *m = P(1, rfm_h(c->h));
    double col[3][10];
    switch (c->op) {
    case OP_M_NEW: return seg_rfm_new(P(1, &OUT.rfm), &TA.base);
    case OP_M_SETP:
        *msg = m ? seg_rfm_last_error(m) : NULL;
        return seg_rfm_set_param(m, (int32_t)c->a, c->v);
    case OP_M_GETP: return seg_rfm_get_param(m, (int32_t)c->a, P(2, &OUT.i64[0]));
    case OP_M_BOUNDS: return seg_rfm_param_bounds((int32_t)c->a, P(1, &OUT.i64[0]), P(2, &OUT.i64[1]));
    case OP_M_WEIGHTS: {
        double w[3] = {1, 2, 3};
        w[c->a] = c->x;
        *msg = m ? seg_rfm_last_error(m) : NULL;
        return seg_rfm_set_weights(m, w[0], w[1], w[2]);
    }
    case OP_M_SETT: {
        double t[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        if (c->at)
            t[c->at - 1] = c->x;
        *msg = m ? seg_rfm_last_error(m) : NULL;
        return seg_rfm_set_thresholds(m, (int32_t)c->a, P(2, t), count_of(c->b, 3));
    }
    case OP_M_FIT:
    case OP_M_FITSCORE: {
        const double *src[3] = {POP_R, POP_R, POP_M};
        size_t n = count_of(c->b, 10);
        rfm_inputs(c, src, col, n < 10 ? n : 10);
        *msg = m ? seg_rfm_last_error(m) : NULL;
        if (c->op == OP_M_FIT)
            return seg_rfm_fit(m, P(2, col[0]), P(3, col[1]), P(4, col[2]), n);
        return seg_rfm_fit_score(m, P(2, col[0]), P(3, col[1]), P(4, col[2]), n, OUT.i32[0],
                                 OUT.i32[1], OUT.i32[2], OUT.i32[3], OUT.dbl[0]);
    }
    case OP_M_SCORE: {
        const double *src[3] = {PR_R, PR_F, PR_M};
        size_t n = count_of(c->b, 3);
        rfm_inputs(c, src, col, n < 3 ? n : 3);
        *msg = g_err;
        return seg_rfm_score(m, P(2, col[0]), P(3, col[1]), P(4, col[2]), n, OUT.i32[0],
                             OUT.i32[1], OUT.i32[2], OUT.i32[3], OUT.dbl[0], E);
    }
    case OP_M_GETT: {
        int32_t rc = seg_rfm_get_thresholds(m, (int32_t)c->a, OUT.dbl[0], count_of(c->b, 9),
                                            P(2, &OUT.sz[0]));
        if (rc == SEG_EBUFSZ) { /* documented: *out_n tells the need */
            EQ(OUT.sz[0], 4);
            OUT.sz[0] = CANARY_SIZE;
        }
        return rc;
    }
    case OP_M_AGG:
    case OP_M_AGGI: {
        /* a: 0 customer, 1 time, 2 amount poisoned at `at` (and `at2`); b n_rows, k n_customers */
        int32_t cu[4];
        int64_t tm[4], ai[4];
        double ad[4];
        memcpy(cu, TX_C, sizeof cu);
        memcpy(tm, TX_T, sizeof tm);
        memcpy(ad, TX_A, sizeof ad);
        memcpy(ai, TX_AI, sizeof ai);
        int ats[2] = {c->at, c->at2};
        int64_t vs[2] = {c->v, c->v2};
        for (int j = 0; j < 2; j++) {
            if (!ats[j])
                continue;
            size_t i = (size_t)ats[j] - 1;
            if (c->a == 0) cu[i] = (int32_t)vs[j];
            if (c->a == 1) tm[i] = vs[j];
            if (c->a == 2) { ad[i] = c->x; ai[i] = vs[j]; }
        }
        size_t n = count_of(c->b, 4), nc = count_of(c->k, 2);
        *msg = g_err;
        if (c->op == OP_M_AGG)
            return seg_rfm_aggregate(m, P(2, cu), P(3, tm), P(4, ad), n, 40, nc, OUT.dbl[0],
                                     OUT.dbl[1], OUT.dbl[2], OUT.dbl[3], OUT.u8, E);
        return seg_rfm_aggregate_minor(m, P(2, cu), P(3, tm), P(4, ai), n, 40, nc, OUT.dbl[0],
                                       OUT.dbl[1], OUT.dbl[2], OUT.dbl[3], OUT.u8, E);
    }
    case OP_M_SAVE: {
        size_t need = 0;
        ck_assert_int_eq(seg_rfm_save(rx.m, NULL, 0, &need), SEG_OK);
        size_t cap = c->b == NSHORT ? need : count_of(c->b, sizeof OUT.text);
        int32_t rc = seg_rfm_save(m, OUT.text, cap, P(2, &OUT.sz[0]));
        if (rc == SEG_EBUFSZ) { /* documented: *out_len tells the need */
            EQ(OUT.sz[0], need);
            OUT.sz[0] = CANARY_SIZE;
        }
        return rc;
    }
    default: {
        const char *text = c->s ? c->s : "";
        *msg = g_err;
        return seg_rfm_load(P(1, &OUT.rfm), P(2, text), count_of(c->b, strlen(text)), &TA.base, E);
    }
    }
}

#define RFM_HDR "libsegment-rfm 1\n"
static const bad RFM[] = {
    {"new: out NULL", OP_M_NEW, SEG_EINVAL, NULL, .null = 1},
    {"set_param: model NULL", OP_M_SETP, SEG_EINVAL, NULL, .null = 1, .a = SEG_RFM_PARAM_R_BINS, .v = 5},
    {"set_param: key 0", OP_M_SETP, SEG_EINVAL, "key", .a = 0, .v = 5},
    {"set_param: key 99", OP_M_SETP, SEG_EINVAL, "key", .a = 99, .v = 5},
    {"set_param: key 103", OP_M_SETP, SEG_EINVAL, "key", .a = 103, .v = 5},
    {"set_param: key 206", OP_M_SETP, SEG_EINVAL, "key", .a = 206, .v = 1},
    {"set_param: key -1", OP_M_SETP, SEG_EINVAL, "key", .a = -1, .v = 1},
    {"set_param: key INT32_MIN", OP_M_SETP, SEG_EINVAL, "key", .a = INT32_MIN, .v = 1},
    {"set_param: key INT32_MAX", OP_M_SETP, SEG_EINVAL, "key", .a = INT32_MAX, .v = 1},
    {"set_param: unfitted model, bad key", OP_M_SETP, SEG_EINVAL, "key", .h = 1, .a = 1},
    {"get_param: model NULL", OP_M_GETP, SEG_EINVAL, NULL, .null = 1, .a = SEG_RFM_PARAM_R_BINS},
    {"get_param: out NULL", OP_M_GETP, SEG_EINVAL, NULL, .null = 2, .a = SEG_RFM_PARAM_R_BINS},
    {"get_param: key 0", OP_M_GETP, SEG_EINVAL, NULL, .a = 0},
    {"get_param: key 113", OP_M_GETP, SEG_EINVAL, NULL, .a = 113},
    {"get_param: key INT32_MIN", OP_M_GETP, SEG_EINVAL, NULL, .a = INT32_MIN},
    {"param_bounds: out_min NULL", OP_M_BOUNDS, SEG_EINVAL, NULL, .null = 1, .a = SEG_RFM_PARAM_R_BINS},
    {"param_bounds: out_max NULL", OP_M_BOUNDS, SEG_EINVAL, NULL, .null = 2, .a = SEG_RFM_PARAM_R_BINS},
    {"param_bounds: key 0", OP_M_BOUNDS, SEG_EINVAL, NULL, .a = 0},
    {"param_bounds: key 207", OP_M_BOUNDS, SEG_EINVAL, NULL, .a = 207},
    {"param_bounds: key -100", OP_M_BOUNDS, SEG_EINVAL, NULL, .a = -100},
    {"set_weights: model NULL", OP_M_WEIGHTS, SEG_EINVAL, NULL, .null = 1, .a = 0, .x = 1},
    {"set_weights: wr NaN", OP_M_WEIGHTS, SEG_EINVAL, "weight", .a = 0, .x = NAN},
    {"set_weights: wf +Inf", OP_M_WEIGHTS, SEG_EINVAL, "weight", .a = 1, .x = INFINITY},
    {"set_weights: wm -Inf", OP_M_WEIGHTS, SEG_EINVAL, "weight", .a = 2, .x = -INFINITY},
    {"set_weights: wm NaN", OP_M_WEIGHTS, SEG_EINVAL, "weight", .a = 2, .x = NAN},
    {"set_thresholds: model NULL", OP_M_SETT, SEG_EINVAL, NULL, .null = 1},
    {"set_thresholds: thresholds NULL", OP_M_SETT, SEG_EINVAL, "thresholds", .null = 2},
    {"set_thresholds: dim -1", OP_M_SETT, SEG_EINVAL, "dimension", .a = -1},
    {"set_thresholds: dim 3", OP_M_SETT, SEG_EINVAL, "dimension", .a = 3},
    {"set_thresholds: dim INT32_MIN", OP_M_SETT, SEG_EINVAL, "dimension", .a = INT32_MIN},
    {"set_thresholds: n 0", OP_M_SETT, SEG_ERANGE, "recency", .b = N0},
    {"set_thresholds: n 10", OP_M_SETT, SEG_ERANGE, "frequency", .a = 1, .b = 10},
    {"set_thresholds: n SIZE_MAX", OP_M_SETT, SEG_ERANGE, "monetary", .a = 2, .b = NMAX},
    {"set_thresholds: NaN", OP_M_SETT, SEG_EINVAL, "threshold 1", .at = AT(1), .x = NAN},
    {"set_thresholds: +Inf", OP_M_SETT, SEG_EINVAL, "threshold 2", .at = AT(2), .x = INFINITY},
    {"set_thresholds: -Inf first", OP_M_SETT, SEG_EINVAL, "threshold 0", .at = AT(0), .x = -INFINITY},
    {"set_thresholds: equal", OP_M_SETT, SEG_EINVAL, "increasing", .at = AT(1), .x = 1},
    {"set_thresholds: decreasing", OP_M_SETT, SEG_EINVAL, "increasing", .at = AT(2), .x = 0.5},
    {"set_thresholds: on FIXED dim, NaN", OP_M_SETT, SEG_EINVAL, "recency", .h = 3, .at = AT(0), .x = NAN},
    {"fit: model NULL", OP_M_FIT, SEG_EINVAL, NULL, .null = 1},
    {"fit: recency NULL", OP_M_FIT, SEG_EINVAL, "recency", .null = 2},
    {"fit: frequency NULL", OP_M_FIT, SEG_EINVAL, "frequency", .null = 3},
    {"fit: monetary NULL", OP_M_FIT, SEG_EINVAL, "monetary", .null = 4},
    {"fit: monetary NULL, n SIZE_MAX", OP_M_FIT, SEG_EINVAL, "monetary", .null = 4, .b = NMAX},
    {"fit: n 0", OP_M_FIT, SEG_EINVAL, "n = 0", .b = N0},
    {"fit: +Inf recency", OP_M_FIT, SEG_EDATA, "recency", .a = 0, .at = AT(3), .x = INFINITY, .row = AT(3)},
    {"fit: -Inf frequency", OP_M_FIT, SEG_EDATA, "frequency", .a = 1, .at = AT(9), .x = -INFINITY, .row = AT(9)},
    {"fit: +Inf monetary", OP_M_FIT, SEG_EDATA, "monetary", .a = 2, .at = AT(0), .x = INFINITY, .row = AT(0)},
    {"fit: NaN under REJECT", OP_M_FIT, SEG_EDATA, "monetary", .h = 2, .a = 2, .at = AT(4), .x = NAN, .row = AT(4)},
    {"fit: every row NaN", OP_M_FIT, SEG_EDATA, "missing", .b = 1, .a = 0, .at = AT(0), .x = NAN},
    {"fit: unfitted model, Inf", OP_M_FIT, SEG_EDATA, "recency", .h = 1, .a = 0, .at = AT(1), .x = INFINITY, .row = AT(1)},
    {"fit_score: model NULL", OP_M_FITSCORE, SEG_EINVAL, NULL, .null = 1},
    {"fit_score: recency NULL", OP_M_FITSCORE, SEG_EINVAL, "recency", .null = 2},
    {"fit_score: frequency NULL", OP_M_FITSCORE, SEG_EINVAL, "frequency", .null = 3},
    {"fit_score: monetary NULL", OP_M_FITSCORE, SEG_EINVAL, "monetary", .null = 4},
    {"fit_score: n 0", OP_M_FITSCORE, SEG_EINVAL, "n = 0", .b = N0},
    {"fit_score: recency NULL, n SIZE_MAX", OP_M_FITSCORE, SEG_EINVAL, "recency", .null = 2, .b = NMAX},
    {"fit_score: Inf frequency", OP_M_FITSCORE, SEG_EDATA, "frequency", .a = 1, .at = AT(5), .x = INFINITY, .row = AT(5)},
    {"fit_score: NaN under REJECT", OP_M_FITSCORE, SEG_EDATA, "recency", .h = 2, .a = 0, .at = AT(7), .x = NAN, .row = AT(7)},
    {"fit_score: FIXED without thresholds", OP_M_FITSCORE, SEG_ESTATE, "recency", .h = 3},
    {"score: model NULL", OP_M_SCORE, SEG_EINVAL, "model", .null = 1},
    {"score: recency NULL", OP_M_SCORE, SEG_EINVAL, "recency", .null = 2},
    {"score: frequency NULL", OP_M_SCORE, SEG_EINVAL, "frequency", .null = 3},
    {"score: monetary NULL", OP_M_SCORE, SEG_EINVAL, "monetary", .null = 4},
    {"score: recency NULL, n SIZE_MAX", OP_M_SCORE, SEG_EINVAL, "recency", .null = 2, .b = NMAX},
    {"score: not fitted", OP_M_SCORE, SEG_ESTATE, "fit", .h = 1},
    {"score: FIXED dim without thresholds", OP_M_SCORE, SEG_ESTATE, "recency", .h = 3},
    {"score: Inf recency", OP_M_SCORE, SEG_EDATA, "recency", .a = 0, .at = AT(2), .x = INFINITY, .row = AT(2)},
    {"score: -Inf monetary", OP_M_SCORE, SEG_EDATA, "monetary", .a = 2, .at = AT(1), .x = -INFINITY, .row = AT(1)},
    {"score: NaN under REJECT", OP_M_SCORE, SEG_EDATA, "frequency", .h = 2, .a = 1, .at = AT(2), .x = NAN, .row = AT(2)},
    {"score: err_cap 1", OP_M_SCORE, SEG_ESTATE, NULL, .h = 1, .cap = 1},
    {"score: err_cap 8", OP_M_SCORE, SEG_EDATA, NULL, .a = 0, .at = AT(0), .x = INFINITY, .cap = 8},
    {"score: err_cap 0", OP_M_SCORE, SEG_ESTATE, NULL, .h = 1, .cap = CAP0},
    {"score: err_buf NULL", OP_M_SCORE, SEG_EINVAL, NULL, .null = 2, .cap = CAPNULL},
    {"get_thresholds: model NULL", OP_M_GETT, SEG_EINVAL, NULL, .null = 1},
    {"get_thresholds: out_n NULL", OP_M_GETT, SEG_EINVAL, NULL, .null = 2},
    {"get_thresholds: dim -1", OP_M_GETT, SEG_EINVAL, NULL, .a = -1},
    {"get_thresholds: dim 3", OP_M_GETT, SEG_EINVAL, NULL, .a = 3},
    {"get_thresholds: not fitted", OP_M_GETT, SEG_ESTATE, NULL, .h = 1},
    {"get_thresholds: FIXED without thresholds", OP_M_GETT, SEG_ESTATE, NULL, .h = 3, .a = 0},
    {"get_thresholds: cap 3 < 4", OP_M_GETT, SEG_EBUFSZ, NULL, .b = 3},
    {"get_thresholds: cap 0", OP_M_GETT, SEG_EBUFSZ, NULL, .a = 2, .b = N0},
    {"aggregate: model NULL", OP_M_AGG, SEG_EINVAL, "model", .null = 1},
    {"aggregate: customer NULL", OP_M_AGG, SEG_EINVAL, "customer", .null = 2},
    {"aggregate: time NULL", OP_M_AGG, SEG_EINVAL, "time", .null = 3},
    {"aggregate: amount NULL", OP_M_AGG, SEG_EINVAL, "amount", .null = 4},
    {"aggregate: customer NULL, n_rows SIZE_MAX", OP_M_AGG, SEG_EINVAL, "customer", .null = 2, .b = NMAX},
    {"aggregate: n_customers 0", OP_M_AGG, SEG_EINVAL, "n_customers", .k = N0},
    {"aggregate: n_customers INT32_MAX + 1", OP_M_AGG, SEG_EINVAL, "n_customers", .k = (int64_t)INT32_MAX + 1},
    {"aggregate: n_customers SIZE_MAX", OP_M_AGG, SEG_EINVAL, "n_customers", .k = NMAX},
    {"aggregate: customer -1", OP_M_AGG, SEG_EDATA, "customer", .a = 0, .at = AT(2), .v = -1, .row = AT(2)},
    {"aggregate: customer = n_customers", OP_M_AGG, SEG_EDATA, "customer", .a = 0, .at = AT(3), .v = 2, .row = AT(3)},
    {"aggregate: customer INT32_MIN", OP_M_AGG, SEG_EDATA, "customer", .a = 0, .at = AT(0), .v = INT32_MIN, .row = AT(0)},
    {"aggregate: future row", OP_M_AGG, SEG_EDATA, "time", .a = 1, .at = AT(1), .v = 41, .row = AT(1)},
    {"aggregate: future row INT64_MAX", OP_M_AGG, SEG_EDATA, "time", .a = 1, .at = AT(3), .v = INT64_MAX, .row = AT(3)},
    {"aggregate: NaN amount", OP_M_AGG, SEG_EDATA, "amount", .a = 2, .at = AT(2), .x = NAN, .row = AT(2)},
    {"aggregate: +Inf amount", OP_M_AGG, SEG_EDATA, "amount", .a = 2, .at = AT(0), .x = INFINITY, .row = AT(0)},
    {"aggregate: -Inf amount", OP_M_AGG, SEG_EDATA, "amount", .a = 2, .at = AT(3), .x = -INFINITY, .row = AT(3)},
    {"aggregate: refund under REJECT", OP_M_AGG, SEG_EDATA, "amount", .h = 2, .a = 2, .at = AT(1), .x = -1, .row = AT(1)},
    {"aggregate: err_cap 1", OP_M_AGG, SEG_EDATA, NULL, .a = 2, .at = AT(2), .x = NAN, .cap = 1},
    {"aggregate: err_cap 0", OP_M_AGG, SEG_EINVAL, NULL, .k = N0, .cap = CAP0},
    {"aggregate: err_buf NULL", OP_M_AGG, SEG_EDATA, NULL, .a = 0, .at = AT(0), .v = 7, .cap = CAPNULL},
    {"aggregate_minor: model NULL", OP_M_AGGI, SEG_EINVAL, "model", .null = 1},
    {"aggregate_minor: customer NULL", OP_M_AGGI, SEG_EINVAL, "customer", .null = 2},
    {"aggregate_minor: time NULL", OP_M_AGGI, SEG_EINVAL, "time", .null = 3},
    {"aggregate_minor: amount_minor NULL", OP_M_AGGI, SEG_EINVAL, "amount", .null = 4},
    {"aggregate_minor: n_customers 0", OP_M_AGGI, SEG_EINVAL, "n_customers", .k = N0},
    {"aggregate_minor: n_customers 2^31", OP_M_AGGI, SEG_EINVAL, "n_customers", .k = (int64_t)INT32_MAX + 1},
    {"aggregate_minor: customer 5", OP_M_AGGI, SEG_EDATA, "customer", .a = 0, .at = AT(1), .v = 5, .row = AT(1)},
    {"aggregate_minor: future row", OP_M_AGGI, SEG_EDATA, "time", .a = 1, .at = AT(2), .v = 1000, .row = AT(2)},
    {"aggregate_minor: refund under REJECT", OP_M_AGGI, SEG_EDATA, "amount", .h = 2, .a = 2, .at = AT(3), .v = -5, .row = AT(3)},
    {"aggregate_minor: sum overflows", OP_M_AGGI, SEG_ERANGE, "customer 0", .a = 2, .at = AT(2), .v = INT64_MAX, .row = AT(2)},
    {"aggregate_minor: refunds overflow", OP_M_AGGI, SEG_ERANGE, "customer 1", .a = 2, .at = AT(1), .v = INT64_MIN, .at2 = AT(3), .v2 = -1, .row = AT(3)},
    {"save: model NULL", OP_M_SAVE, SEG_EINVAL, NULL, .null = 1},
    {"save: out_len NULL", OP_M_SAVE, SEG_EINVAL, NULL, .null = 2},
    {"save: cap one short", OP_M_SAVE, SEG_EBUFSZ, NULL, .b = NSHORT},
    {"save: cap 0", OP_M_SAVE, SEG_EBUFSZ, NULL, .b = N0},
    {"save: cap 1", OP_M_SAVE, SEG_EBUFSZ, NULL, .b = 1},
    {"load: out NULL", OP_M_LOAD, SEG_EINVAL, "out", .null = 1, .s = RFM_HDR "end\n"},
    {"load: text NULL", OP_M_LOAD, SEG_EINVAL, "text", .null = 2},
    {"load: empty", OP_M_LOAD, SEG_EPARSE, "empty", .s = ""},
    {"load: garbage", OP_M_LOAD, SEG_EPARSE, "1:1", .s = "hello world\n"},
    {"load: version 2", OP_M_LOAD, SEG_EVERSION, "1:16", .s = "libsegment-rfm 2\nend\n"},
    {"load: r_bins 11", OP_M_LOAD, SEG_EPARSE, "2:8", .s = RFM_HDR "r_bins 11\nend\n"},
    {"load: r_bins 2.5", OP_M_LOAD, SEG_EPARSE, "r_bins", .s = RFM_HDR "r_bins 2.5\nend\n"},
    {"load: unknown key", OP_M_LOAD, SEG_EPARSE, "2:1", .s = RFM_HDR "bogus 1\nend\n"},
    {"load: invalid UTF-8 key", OP_M_LOAD, SEG_EPARSE, "2:1", .s = RFM_HDR "\xff\xfe 1\nend\n"},
    {"load: unknown enum value", OP_M_LOAD, SEG_EPARSE, "2:9", .s = RFM_HDR "missing maybe\nend\n"},
    {"load: duplicate key", OP_M_LOAD, SEG_EPARSE, "3:1", .s = RFM_HDR "r_bins 5\nr_bins 5\nend\n"},
    {"load: NaN weight", OP_M_LOAD, SEG_EPARSE, "2:9", .s = RFM_HDR "weights nan 1 1\nend\n"},
    {"load: Inf threshold", OP_M_LOAD, SEG_EPARSE, "2:20", .s = RFM_HDR "r_thresholds 1 2 3 inf\nend\n"},
    {"load: 1e999 weight", OP_M_LOAD, SEG_EPARSE, "1e999", .s = RFM_HDR "weights 1 1e999 1\nend\n"},
    {"load: threshold count", OP_M_LOAD, SEG_EPARSE, "2:1", .s = RFM_HDR "r_thresholds 1 2\nend\n"},
    {"load: too many values", OP_M_LOAD, SEG_EPARSE, "too many", .s = RFM_HDR "r_thresholds 1 2 3 4 5 6 7 8 9 10 11 12\nend\n"},
    {"load: fixed without thresholds", OP_M_LOAD, SEG_EPARSE, "r_thresholds", .s = RFM_HDR "r_binning fixed\nend\n"},
    {"load: no end", OP_M_LOAD, SEG_EPARSE, "end", .s = RFM_HDR "r_bins 5\n"},
    {"load: len cuts off 'end'", OP_M_LOAD, SEG_EPARSE, "end", .s = RFM_HDR "end\n", .b = 17},
    {"load: text after end", OP_M_LOAD, SEG_EPARSE, "3:1", .s = RFM_HDR "end\nr_bins 5\n"},
    {"load: NUL inside len", OP_M_LOAD, SEG_EPARSE, "2:", .s = RFM_HDR "\0end\n", .b = 22},
    {"load: err_cap 1", OP_M_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = 1},
    {"load: err_cap 5", OP_M_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = 5},
    {"load: err_cap 0", OP_M_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = CAP0},
    {"load: err_buf NULL", OP_M_LOAD, SEG_EVERSION, NULL, .s = "libsegment-rfm 9\nend\n", .cap = CAPNULL},
};

START_TEST(test_rfm)
{
    SWEEP(RFM, rfm);
}
END_TEST

/* Every option x values just outside its bounds (and far outside, and one
 * that only fits after truncation to int32): SEG_ERANGE naming the option. */
#define PARAM_VALUES 5
START_TEST(test_rfm_param_bounds)
{
    bad t[N_PARAMS * PARAM_VALUES];
    for (size_t r = 0; r < N_OF(t); r++) {
        size_t i = r / PARAM_VALUES;
        int64_t lo = 0, hi = 0;
        ck_assert_int_eq(seg_rfm_param_bounds(PARAMS[i].key, &lo, &hi), SEG_OK);
        ck_assert(lo <= PARAMS[i].def && PARAMS[i].def <= hi);
        if (i < 3) /* bins: 2..10 documented */
            ck_assert(lo == 2 && hi == SEG_RFM_MAX_BINS);
        const int64_t vals[PARAM_VALUES] = {lo - 1, hi + 1, INT64_MIN, INT64_MAX,
                                            ((int64_t)1 << 32) + PARAMS[i].def};
        int64_t v = vals[r % PARAM_VALUES];
        snprintf(LABELS[r], sizeof LABELS[r], "set_param %s = %lld", PARAMS[i].name, (long long)v);
        bad c = {LABELS[r], OP_M_SETP, SEG_ERANGE, PARAMS[i].name, .a = PARAMS[i].key, .v = v};
        t[r] = c;
    }
    sweep(t, N_OF(t), rfm_open, rfm_run, rfm_verify, rfm_close);
}
END_TEST

START_TEST(test_rfm_neutral)
{
    EQ(seg_rfm_is_fitted(NULL), 0);
    EMPTY(seg_rfm_last_error(NULL));
    seg_rfm_free(NULL);
    seg_rfm *m = NULL;
    ck_assert_int_eq(seg_rfm_new(&m, NULL), SEG_OK);
    EMPTY(seg_rfm_last_error(m));
    ck_assert_int_eq(seg_rfm_set_param(m, 0, 1), SEG_EINVAL);
    ck_assert(*seg_rfm_last_error(m) != '\0');
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_R_BINS, 4), SEG_OK);
    EMPTY(seg_rfm_last_error(m));
    /* A failed fit keeps the previous fit; a changed binning drops it. */
    ck_assert_int_eq(seg_rfm_fit(m, POP_R, POP_R, POP_M, 10), SEG_OK);
    double inf[10];
    memcpy(inf, POP_M, sizeof inf);
    inf[9] = INFINITY;
    ck_assert_int_eq(seg_rfm_fit(m, POP_R, POP_R, inf, 10), SEG_EDATA);
    EQ(seg_rfm_is_fitted(m), 1);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_TIES), SEG_OK);
    EQ(seg_rfm_is_fitted(m), 0);
    char err[ERR_CAP] = "";
    ck_assert_int_eq(seg_rfm_score(m, PR_R, PR_F, PR_M, 3, NULL, NULL, NULL, NULL, NULL, err,
                                   sizeof err),
                     SEG_ESTATE);
    ck_assert_msg(seg_test_has_word(err, "frequency"), "\"%s\"", err);
    /* n = 0 is a successful no-op even unfitted (documented). */
    ck_assert_int_eq(seg_rfm_score(m, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0),
                     SEG_OK);
    seg_rfm_free(m);
}
END_TEST

/* ==== rfm_scheme.h ========================================================== */

static struct {
    seg_rfm_scheme *s; /* h 0: the built-in RFM10 */
    seg_rfm_scheme *c; /* h 1: levels 3, one box "top" = (3, 3, 3), others "rest" */
} sx;

static void scheme_open(void)
{
    ck_assert_int_eq(seg_rfm_scheme_new_builtin(&sx.s, SEG_SCHEME_RFM10, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_new(&sx.c, 3, "rest", "Rest", &TA.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_add(sx.c, "top", "Top", 3, 3, 3, 3, 3, 3), SEG_OK);
    EMPTY(seg_rfm_scheme_last_error(sx.c));
}

static void scheme_close(void)
{
    seg_rfm_scheme_free(sx.s);
    seg_rfm_scheme_free(sx.c);
}

static void scheme_verify(void)
{
    EQ(seg_rfm_scheme_count(sx.s), 11);
    EQ(seg_rfm_scheme_others(sx.s), 10);
    EQ(seg_rfm_scheme_levels(sx.s), 5);
    ck_assert_str_eq(seg_rfm_scheme_id(sx.s, 0), "champions");
    ck_assert_str_eq(seg_rfm_scheme_name(sx.s, 10), "Others");
    int32_t id = -9, box[6];
    EQ(seg_rfm_scheme_find(sx.s, "lost", &id), SEG_OK);
    EQ(id, 9);
    EQ(seg_rfm_scheme_box(sx.s, 3, box), SEG_OK); /* promising 3..4, 1..3, 3..5 */
    ck_assert(box[0] == 3 && box[1] == 4 && box[2] == 1 && box[3] == 3 && box[4] == 3 && box[5] == 5);
    const int32_t r[3] = {5, 1, 0}, f[3] = {5, 1, 5}, m[3] = {5, 1, 5};
    int32_t seg[3];
    EQ(seg_rfm_scheme_apply(sx.s, r, f, m, 3, seg, NULL, 0), SEG_OK);
    ck_assert(seg[0] == 0 && seg[1] == 9 && seg[2] == SEG_SEGMENT_NONE);
    EQ(seg_rfm_scheme_count(sx.c), 2);
    EQ(seg_rfm_scheme_levels(sx.c), 3);
    EQ(seg_rfm_scheme_find(sx.c, "rest", &id), SEG_OK);
    EQ(id, 1);
    const int32_t r3[2] = {3, 1};
    EQ(seg_rfm_scheme_apply(sx.c, r3, r3, r3, 2, seg, NULL, 0), SEG_OK);
    ck_assert(seg[0] == 0 && seg[1] == 1);
    /* The custom scheme still takes a box. */
    EQ(seg_rfm_scheme_add(sx.c, "low", "Low", 1, 1, 1, 3, 1, 3), SEG_OK);
    EQ(seg_rfm_scheme_others(sx.c), 2);
}

enum { OP_S_NEW = 1, OP_S_BUILTIN, OP_S_ADD, OP_S_FIND, OP_S_BOX, OP_S_APPLY };

/* Boxes for seg_rfm_scheme_add on the 3-level scheme (field a). */
static const int32_t BOXES[][6] = {
    {1, 3, 1, 3, 1, 3}, {0, 3, 1, 3, 1, 3}, {1, 4, 1, 3, 1, 3}, {3, 2, 1, 3, 1, 3},
    {1, 3, 0, 3, 1, 3}, {1, 3, 1, 4, 1, 3}, {1, 3, 2, 1, 1, 3}, {1, 3, 1, 3, -1, 3},
    {1, 3, 1, 3, 1, INT32_MAX}, {1, 3, 1, 3, 3, 2}, {INT32_MIN, INT32_MAX, 1, 3, 1, 3},
};

static int32_t scheme_run(const bad *c, const char **msg)
{
    seg_rfm_scheme *s = P(1, c->h ? sx.c : sx.s);
    switch (c->op) {
    case OP_S_NEW:
        return seg_rfm_scheme_new(P(1, &OUT.scheme), c->a ? (int32_t)c->a : 5, P(2, c->s ? c->s : "others"),
                                  P(3, c->s2 ? c->s2 : "Others"), &TA.base);
    case OP_S_BUILTIN: return seg_rfm_scheme_new_builtin(P(1, &OUT.scheme), (int32_t)c->a, &TA.base);
    case OP_S_ADD: {
        const int32_t *b = BOXES[c->a];
        *msg = s ? seg_rfm_scheme_last_error(s) : NULL;
        return seg_rfm_scheme_add(s, P(2, c->s ? c->s : "mid"), P(3, c->s2 ? c->s2 : "Mid"), b[0],
                                  b[1], b[2], b[3], b[4], b[5]);
    }
    case OP_S_FIND: return seg_rfm_scheme_find(s, P(2, c->s), P(3, &OUT.i32[0][0]));
    case OP_S_BOX: return seg_rfm_scheme_box(s, (int32_t)c->a, P(2, OUT.i32[0]));
    default: {
        int32_t col[3][3] = {{5, 1, 0}, {5, 1, 5}, {5, 1, 5}};
        if (c->at)
            col[c->a][c->at - 1] = (int32_t)c->v;
        *msg = g_err;
        return seg_rfm_scheme_apply(s, P(2, col[0]), P(3, col[1]), P(4, col[2]),
                                    count_of(c->b, 3), P(5, OUT.i32[0]), E);
    }
    }
}

static const bad SCHEME[] = {
    {"new: out NULL", OP_S_NEW, SEG_EINVAL, NULL, .null = 1},
    {"new: others_id NULL", OP_S_NEW, SEG_EINVAL, NULL, .null = 2},
    {"new: others_name NULL", OP_S_NEW, SEG_EINVAL, NULL, .null = 3},
    {"new: levels 1", OP_S_NEW, SEG_ERANGE, NULL, .a = 1},
    {"new: levels 11", OP_S_NEW, SEG_ERANGE, NULL, .a = 11},
    {"new: levels -1", OP_S_NEW, SEG_ERANGE, NULL, .a = -1},
    {"new: levels INT32_MIN", OP_S_NEW, SEG_ERANGE, NULL, .a = INT32_MIN},
    {"new: levels INT32_MAX", OP_S_NEW, SEG_ERANGE, NULL, .a = INT32_MAX},
    {"new_builtin: out NULL", OP_S_BUILTIN, SEG_EINVAL, NULL, .null = 1, .a = SEG_SCHEME_RFM10},
    {"new_builtin: which 0", OP_S_BUILTIN, SEG_EINVAL, NULL, .a = 0},
    {"new_builtin: which 4", OP_S_BUILTIN, SEG_EINVAL, NULL, .a = 4},
    {"new_builtin: which -1", OP_S_BUILTIN, SEG_EINVAL, NULL, .a = -1},
    {"new_builtin: which INT32_MAX", OP_S_BUILTIN, SEG_EINVAL, NULL, .a = INT32_MAX},
    {"add: scheme NULL", OP_S_ADD, SEG_EINVAL, NULL, .null = 1, .h = 1},
    {"add: id NULL", OP_S_ADD, SEG_EINVAL, "identifier", .null = 2, .h = 1},
    {"add: name NULL", OP_S_ADD, SEG_EINVAL, "name", .null = 3, .h = 1},
    {"add: r_lo 0", OP_S_ADD, SEG_ERANGE, "r_score", .h = 1, .a = 1},
    {"add: r_hi > levels", OP_S_ADD, SEG_ERANGE, "r_score", .h = 1, .a = 2},
    {"add: r reversed", OP_S_ADD, SEG_ERANGE, "r_score", .h = 1, .a = 3},
    {"add: f_lo 0", OP_S_ADD, SEG_ERANGE, "f_score", .h = 1, .a = 4},
    {"add: f_hi > levels", OP_S_ADD, SEG_ERANGE, "f_score", .h = 1, .a = 5},
    {"add: f reversed", OP_S_ADD, SEG_ERANGE, "f_score", .h = 1, .a = 6},
    {"add: m_lo -1", OP_S_ADD, SEG_ERANGE, "m_score", .h = 1, .a = 7},
    {"add: m_hi INT32_MAX", OP_S_ADD, SEG_ERANGE, "m_score", .h = 1, .a = 8},
    {"add: m reversed", OP_S_ADD, SEG_ERANGE, "m_score", .h = 1, .a = 9},
    {"add: r INT32_MIN..INT32_MAX", OP_S_ADD, SEG_ERANGE, "r_score", .h = 1, .a = 10},
    {"add: duplicate id", OP_S_ADD, SEG_EEXISTS, "top", .h = 1, .s = "top"},
    {"add: id of the others segment", OP_S_ADD, SEG_EEXISTS, "rest", .h = 1, .s = "rest"},
    {"add: 255-byte id, r_lo 0", OP_S_ADD, SEG_ERANGE, "r_score", .h = 1, .a = 1, .s = ID255},
    {"add: duplicate id in RFM10", OP_S_ADD, SEG_EEXISTS, "lost", .s = "lost"},
    {"find: scheme NULL", OP_S_FIND, SEG_EINVAL, NULL, .null = 1, .s = "lost"},
    {"find: id NULL", OP_S_FIND, SEG_EINVAL, NULL, .null = 2},
    {"find: out NULL", OP_S_FIND, SEG_EINVAL, NULL, .null = 3, .s = "lost"},
    {"find: unknown id", OP_S_FIND, SEG_ENOTFOUND, NULL, .s = "nope"},
    {"find: display name, not id", OP_S_FIND, SEG_ENOTFOUND, NULL, .s = "Lost"},
    {"find: empty id", OP_S_FIND, SEG_ENOTFOUND, NULL, .s = ""},
    {"find: invalid UTF-8", OP_S_FIND, SEG_ENOTFOUND, NULL, .s = "\xc3"},
    {"box: scheme NULL", OP_S_BOX, SEG_EINVAL, NULL, .null = 1},
    {"box: out NULL", OP_S_BOX, SEG_EINVAL, NULL, .null = 2},
    {"box: segment -1", OP_S_BOX, SEG_ERANGE, NULL, .a = -1},
    {"box: the others segment", OP_S_BOX, SEG_ERANGE, NULL, .a = 10},
    {"box: segment 11", OP_S_BOX, SEG_ERANGE, NULL, .a = 11},
    {"box: segment INT32_MIN", OP_S_BOX, SEG_ERANGE, NULL, .a = INT32_MIN},
    {"box: segment INT32_MAX", OP_S_BOX, SEG_ERANGE, NULL, .a = INT32_MAX},
    {"apply: scheme NULL", OP_S_APPLY, SEG_EINVAL, "scheme", .null = 1},
    {"apply: r NULL", OP_S_APPLY, SEG_EINVAL, "r is NULL", .null = 2},
    {"apply: f NULL", OP_S_APPLY, SEG_EINVAL, "f is NULL", .null = 3},
    {"apply: m NULL", OP_S_APPLY, SEG_EINVAL, "m is NULL", .null = 4},
    {"apply: out_segment NULL", OP_S_APPLY, SEG_EINVAL, "out_segment", .null = 5},
    {"apply: r NULL, n SIZE_MAX", OP_S_APPLY, SEG_EINVAL, "r is NULL", .null = 2, .b = NMAX},
    {"apply: r score -1", OP_S_APPLY, SEG_EDATA, "r_score", .a = 0, .at = AT(2), .v = -1, .row = AT(2)},
    {"apply: f score 6 > levels", OP_S_APPLY, SEG_EDATA, "f_score", .a = 1, .at = AT(0), .v = 6, .row = AT(0)},
    {"apply: m score INT32_MAX", OP_S_APPLY, SEG_EDATA, "m_score", .a = 2, .at = AT(1), .v = INT32_MAX, .row = AT(1)},
    {"apply: m score INT32_MIN", OP_S_APPLY, SEG_EDATA, "m_score", .a = 2, .at = AT(2), .v = INT32_MIN, .row = AT(2)},
    {"apply: 5-level scores on a 3-level scheme", OP_S_APPLY, SEG_EDATA, "r_score", .h = 1, .row = AT(0)},
    {"apply: err_cap 1", OP_S_APPLY, SEG_EDATA, NULL, .a = 0, .at = AT(0), .v = 9, .cap = 1},
    {"apply: err_cap 6", OP_S_APPLY, SEG_EINVAL, NULL, .null = 5, .cap = 6},
    {"apply: err_cap 0", OP_S_APPLY, SEG_EDATA, NULL, .a = 0, .at = AT(0), .v = 9, .cap = CAP0},
    {"apply: err_buf NULL", OP_S_APPLY, SEG_EINVAL, NULL, .null = 1, .cap = CAPNULL},
};

START_TEST(test_scheme)
{
    SWEEP(SCHEME, scheme);
}
END_TEST

/* Bad identifiers and display names, for new (others) and add. */
#define NAME_ROWS (N_BAD_IDS + N_BAD_NAMES)
static bad name_case(int op, size_t i, int h, const char *fn, char *label)
{
    int is_id = i < N_BAD_IDS;
    snprintf(label, sizeof LABELS[0], "%s: bad %s %zu", fn, is_id ? "identifier" : "name",
             is_id ? i : i - N_BAD_IDS);
    bad c = {label, op, SEG_EINVAL, NULL, .h = h};
    if (is_id)
        c.s = BAD_IDS[i];
    else
        c.s2 = BAD_NAMES[i - N_BAD_IDS].name;
    c.word = is_id ? "identifier" : BAD_NAMES[i - N_BAD_IDS].word;
    return c;
}

START_TEST(test_scheme_names)
{
    bad t[2 * NAME_ROWS];
    for (size_t r = 0; r < N_OF(t); r++) {
        int add = r >= NAME_ROWS;
        t[r] = name_case(add ? OP_S_ADD : OP_S_NEW, r % NAME_ROWS, 1, add ? "add" : "new",
                         LABELS[r]);
        if (!add)
            t[r].word = NULL; /* no handle, no message */
    }
    sweep(t, N_OF(t), scheme_open, scheme_run, scheme_verify, scheme_close);
}
END_TEST

START_TEST(test_scheme_neutral)
{
    EQ(seg_rfm_scheme_count(NULL), 0);
    EQ(seg_rfm_scheme_others(NULL), -1);
    EQ(seg_rfm_scheme_levels(NULL), 0);
    ISNULL(seg_rfm_scheme_id(NULL, 0));
    ISNULL(seg_rfm_scheme_name(NULL, 0));
    EMPTY(seg_rfm_scheme_last_error(NULL));
    seg_rfm_scheme_free(NULL);
    seg_test_alloc_init(&TA);
    scheme_open();
    static const int32_t bad_ids[] = {-1, 11, 12, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        ISNULL(seg_rfm_scheme_id(sx.s, bad_ids[i]));
        ISNULL(seg_rfm_scheme_name(sx.s, bad_ids[i]));
    }
    ck_assert_str_eq(seg_rfm_scheme_id(sx.s, 10), "others"); /* the boundary: others is valid */
    ck_assert_int_eq(seg_rfm_scheme_add(sx.c, "", "X", 1, 1, 1, 1, 1, 1), SEG_EINVAL);
    ck_assert(*seg_rfm_scheme_last_error(sx.c) != '\0');
    ck_assert_int_eq(seg_rfm_scheme_add(sx.c, "x", "X", 1, 1, 1, 1, 1, 1), SEG_OK);
    EMPTY(seg_rfm_scheme_last_error(sx.c));
    scheme_close();
    ck_assert_uint_eq(TA.live, 0);
}
END_TEST

/* ==== rule.h ================================================================ */

static const char *const AUM_TEXT[4] = {"1", "2", "3", "4"};

static struct {
    seg_frame *f;      /* h 0: the frame fixture */
    seg_frame *noaum;  /* h 1: no column aum */
    seg_frame *straum; /* h 2: aum is text */
    seg_rule *r;       /* aum >= 500000 */
} ux;

static void rule_open(void)
{
    ck_assert_int_eq(make_frame(&ux.f, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_new(&ux.noaum, 4, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(ux.noaum, "aum2", AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_new(&ux.straum, 4, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(ux.straum, "aum", AUM_TEXT, NULL), SEG_OK);
    ck_assert_int_eq(seg_rule_compile(&ux.r, "aum >= 500000", 13, ux.f, NULL, &TA.base, NULL, 0),
                     SEG_OK);
}

static void rule_close(void)
{
    seg_rule_free(ux.r);
    seg_frame_free(ux.f);
    seg_frame_free(ux.noaum);
    seg_frame_free(ux.straum);
}

static void rule_verify(void)
{
    uint8_t m[4] = {9, 9, 9, 9};
    EQ(seg_rule_eval(ux.r, ux.f, 0, 4, m, NULL, 0), SEG_OK);
    ck_assert(m[0] == 0 && m[1] == 0 && m[2] == 1 && m[3] == 1); /* NaN is not a match */
    EQ(seg_rule_eval(ux.r, ux.f, 1, 3, m, NULL, 0), SEG_OK);
    ck_assert(m[0] == 0 && m[1] == 1);
    check_frame(ux.f);
}

enum { OP_R_COMPILE = 1, OP_R_EVAL };

static int32_t rule_run(const bad *c, const char **msg)
{
    *msg = g_err;
    if (c->op == OP_R_COMPILE) {
        const char *text = c->s ? c->s : "aum > 1";
        return seg_rule_compile(P(1, &OUT.rule), P(2, text), count_of(c->b, strlen(text)),
                                P(3, ux.f), c->s2, &TA.base, E);
    }
    seg_frame *f = c->h == 1 ? ux.noaum : c->h == 2 ? ux.straum : ux.f;
    return seg_rule_eval(P(1, ux.r), P(2, f), (size_t)c->a, count_of(c->b, 4), P(3, OUT.u8), E);
}

static const bad RULE[] = {
    {"compile: out NULL", OP_R_COMPILE, SEG_EINVAL, "out", .null = 1},
    {"compile: text NULL", OP_R_COMPILE, SEG_EINVAL, "text", .null = 2},
    {"compile: schema NULL", OP_R_COMPILE, SEG_EINVAL, "schema", .null = 3},
    {"compile: empty", OP_R_COMPILE, SEG_EPARSE, "empty", .s = ""},
    {"compile: blanks only", OP_R_COMPILE, SEG_EPARSE, "empty", .s = "   \t "},
    {"compile: len 0", OP_R_COMPILE, SEG_EPARSE, "empty", .s = "aum > 1", .b = N0},
    {"compile: len cuts the rule", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "aum >= 1", .b = 5},
    {"compile: NUL inside len", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "aum\0> 1", .b = 7},
    {"compile: missing operand", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "aum >="},
    {"compile: source named", OP_R_COMPILE, SEG_EPARSE, "x.rules:1:5", .s = "aum ) 1", .s2 = "x.rules"},
    {"compile: unknown column", OP_R_COMPILE, SEG_EPARSE, "nope", .s = "nope > 1"},
    {"compile: unknown function", OP_R_COMPILE, SEG_EPARSE, "foo", .s = "foo(aum) > 1"},
    {"compile: not a condition", OP_R_COMPILE, SEG_EPARSE, "condition", .s = "aum + 1"},
    {"compile: text vs number", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "channel > 1"},
    {"compile: number vs text", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "aum == \"x\""},
    {"compile: trailing token", OP_R_COMPILE, SEG_EPARSE, "rule:1:10", .s = "aum >= 1 aum"},
    {"compile: invalid UTF-8 column", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "`a\xff` > 1"},
    {"compile: invalid UTF-8 string", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "channel == \"\xc3\""},
    {"compile: 256-byte column name", OP_R_COMPILE, SEG_EPARSE, "unknown column", .s = LONGCOL},
    {"compile: unterminated string", OP_R_COMPILE, SEG_EPARSE, "rule:1:12", .s = "channel == \"web"},
    {"compile: number out of range", OP_R_COMPILE, SEG_EPARSE, "range", .s = "aum > 1e999"},
    {"compile: number too long", OP_R_COMPILE, SEG_EPARSE, "long",
     .s = "aum > 1234567890123456789012345678901234567890123456789012345678901234567890"},
    {"compile: 300 nested parentheses", OP_R_COMPILE, SEG_EPARSE, "nesting", .s = DEEP_RULE},
    {"compile: 5000 terms", OP_R_COMPILE, SEG_EPARSE, "too long", .s = LONG_RULE},
    {"compile: unbalanced parenthesis", OP_R_COMPILE, SEG_EPARSE, "rule:1:", .s = "(aum > 1"},
    {"compile: err_cap 1", OP_R_COMPILE, SEG_EPARSE, NULL, .s = "nope > 1", .cap = 1},
    {"compile: err_cap 9", OP_R_COMPILE, SEG_EPARSE, NULL, .s = "nope > 1", .cap = 9},
    {"compile: err_cap 0", OP_R_COMPILE, SEG_EPARSE, NULL, .s = "nope > 1", .cap = CAP0},
    {"compile: err_buf NULL", OP_R_COMPILE, SEG_EINVAL, NULL, .null = 2, .cap = CAPNULL},
    {"eval: rule NULL", OP_R_EVAL, SEG_EINVAL, "rule", .null = 1},
    {"eval: frame NULL", OP_R_EVAL, SEG_EINVAL, "frame", .null = 2},
    {"eval: out_match NULL", OP_R_EVAL, SEG_EINVAL, "out_match", .null = 3},
    {"eval: begin > end", OP_R_EVAL, SEG_EINVAL, "rows", .a = 3, .b = 2},
    {"eval: end > n_rows", OP_R_EVAL, SEG_EINVAL, "rows", .b = 5},
    {"eval: end SIZE_MAX", OP_R_EVAL, SEG_EINVAL, "rows", .b = NMAX},
    {"eval: begin SIZE_MAX", OP_R_EVAL, SEG_EINVAL, "rows", .a = -1, .b = NMAX},
    {"eval: column missing from frame", OP_R_EVAL, SEG_ENOTFOUND, "aum", .h = 1},
    {"eval: column is text in frame", OP_R_EVAL, SEG_ENOTFOUND, "aum", .h = 2},
    {"eval: err_cap 1", OP_R_EVAL, SEG_ENOTFOUND, NULL, .h = 1, .cap = 1},
    {"eval: err_cap 0", OP_R_EVAL, SEG_EINVAL, NULL, .b = 5, .cap = CAP0},
    {"eval: err_buf NULL", OP_R_EVAL, SEG_ENOTFOUND, NULL, .h = 2, .cap = CAPNULL},
};

START_TEST(test_rule)
{
    SWEEP(RULE, rule);
}
END_TEST

START_TEST(test_rule_neutral)
{
    seg_rule_free(NULL);
    /* An empty range evaluates nothing, even with out_match NULL. */
    seg_test_alloc_init(&TA);
    rule_open();
    EQ(seg_rule_eval(ux.r, ux.f, 2, 2, NULL, NULL, 0), SEG_OK);
    EQ(seg_rule_eval(ux.r, ux.f, 4, 4, NULL, NULL, 0), SEG_OK);
    rule_close();
    ck_assert_uint_eq(TA.live, 0);
}
END_TEST

/* ==== tiers.h =============================================================== */

/* Tier frame, 5 rows: aum {7e6, 6e5, 6e4, 100, NaN}, txn_90d {1, 0, 1, 1, 0}.
 * The pyramid gives {0, 1, 2, 3, 3}. */
static const double T_AUM[5] = {7e6, 6e5, 6e4, 100, NAN};
static const int32_t T_TXN[5] = {1, 0, 1, 1, 0};
static const char *const T_AUM_TEXT[5] = {"a", "b", "c", "d", "e"};
static const char PYRAMID[] = "libsegment-tiers 1\n"
                              "tier private_banking \"Private\" when aum >= 6000000\n"
                              "tier wealth \"Wealth\" when aum >= 500000 keep aum >= 450000\n"
                              "tier gold \"Gold\" when aum >= 50000 and txn_90d >= 1\n"
                              "tier mass \"Mass\" otherwise\n";

static struct {
    seg_frame *f;      /* k 0 */
    seg_frame *notxn;  /* k 1: no txn_90d */
    seg_frame *straum; /* k 2: aum is text */
    seg_tiers *t;      /* h 0: the pyramid, loaded */
    seg_tiers *e;      /* h 1: new, no tier */
    seg_tiers *b;      /* h 2: new + add: top (aum >= 1e6), rest (otherwise) */
} tx;

static seg_tiers *tiers_h(int h) { return h == 1 ? tx.e : h == 2 ? tx.b : tx.t; }
static seg_frame *tiers_f(int64_t k) { return k == 1 ? tx.notxn : k == 2 ? tx.straum : tx.f; }

static void tiers_open(void)
{
    ck_assert_int_eq(seg_frame_new(&tx.f, 5, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(tx.f, "aum", T_AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(tx.f, "txn_90d", T_TXN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_new(&tx.notxn, 5, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(tx.notxn, "aum", T_AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_new(&tx.straum, 5, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(tx.straum, "aum", T_AUM_TEXT, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(tx.straum, "txn_90d", T_TXN, NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_load(&tx.t, PYRAMID, strlen(PYRAMID), tx.f, NULL, &TA.base, NULL, 0),
                     SEG_OK);
    ck_assert_int_eq(seg_tiers_new(&tx.e, tx.f, 0, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_tiers_new(&tx.b, tx.f, 1, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_tiers_add(tx.b, "top", "Top", "aum >= 1000000", NULL), SEG_OK);
    ck_assert_int_eq(seg_tiers_add(tx.b, "rest", "Rest", NULL, NULL), SEG_OK);
    EMPTY(seg_tiers_last_error(tx.b));
}

static void tiers_close(void)
{
    seg_tiers_free(tx.t);
    seg_tiers_free(tx.e);
    seg_tiers_free(tx.b);
    seg_frame_free(tx.f);
    seg_frame_free(tx.notxn);
    seg_frame_free(tx.straum);
}

static void tiers_verify(void)
{
    static const char *const ids[4] = {"private_banking", "wealth", "gold", "mass"};
    EQ(seg_tiers_count(tx.t), 4);
    for (int32_t i = 0; i < 4; i++) {
        int32_t at = -9;
        ck_assert_str_eq(seg_tiers_id(tx.t, i), ids[i]);
        EQ(seg_tiers_find(tx.t, ids[i], &at), SEG_OK);
        EQ(at, i);
    }
    ck_assert_str_eq(seg_tiers_name(tx.t, 3), "Mass");
    int32_t out[5], by = -9;
    EQ(seg_tiers_apply(tx.t, tx.f, NULL, out, NULL, 0), SEG_OK);
    ck_assert(out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 3 && out[4] == 3);
    /* Hysteresis: row 3 was wealth but fails keep (100 < 450000) -> mass;
     * row 1 was private banking, fails keep (when) -> wealth. */
    const int32_t prev[5] = {-1, 0, 2, 1, -1};
    EQ(seg_tiers_apply(tx.t, tx.f, prev, out, NULL, 0), SEG_OK);
    ck_assert(out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 3 && out[4] == 3);
    /* Gaps: row 2 (gold, 6e4) to wealth (>= 5e5) is 440000, not critical at 0.1. */
    const int32_t tier[5] = {0, 1, 2, 3, 3};
    int32_t next[5], gcol[5], nf[5];
    double gap[5];
    uint8_t crit[5];
    EQ(seg_tiers_gaps(tx.t, tx.f, tier, 0.1, next, gcol, gap, nf, crit, NULL, 0), SEG_OK);
    ck_assert(next[0] == -1 && next[2] == 1 && gcol[2] == 0 && gap[2] == 440000 && nf[2] == 1);
    ck_assert(crit[2] == 0);
    EQ(seg_tiers_unreachable(tx.t, 3, &by), SEG_OK);
    EQ(by, -1);
    EQ(seg_tiers_has_catch_all(tx.t), 1);
    EQ(seg_tiers_is_group(tx.t), 0);
    EQ(seg_tiers_count(tx.e), 0);
    EQ(seg_tiers_apply(tx.e, tx.f, NULL, out, NULL, 0), SEG_OK);
    ck_assert(out[0] == SEG_TIER_NONE && out[4] == SEG_TIER_NONE);
    EQ(seg_tiers_count(tx.b), 2);
    EQ(seg_tiers_is_group(tx.b), 1);
    EQ(seg_tiers_apply(tx.b, tx.f, NULL, out, NULL, 0), SEG_OK);
    ck_assert(out[0] == 0 && out[1] == 1 && out[4] == 1);
    size_t len = 0;
    EQ(seg_tiers_save(tx.t, NULL, 0, &len), SEG_OK);
    EQ(len, strlen(PYRAMID));
    /* The built set still takes a tier. */
    EQ(seg_tiers_add(tx.b, "late", "Late", "txn_90d >= 1", NULL), SEG_OK);
    EQ(seg_tiers_unreachable(tx.b, 2, &by), SEG_OK);
    EQ(by, 1); /* after the catch-all */
}

enum {
    OP_T_LOAD = 1, OP_T_NEW, OP_T_ADD, OP_T_FIND, OP_T_SAVE, OP_T_APPLY, OP_T_GAPS,
    OP_T_UNREACH, OP_T_MIGR
};

static int32_t tiers_run(const bad *c, const char **msg)
{
    seg_tiers *s = P(1, tiers_h(c->h));
    switch (c->op) {
    case OP_T_LOAD: {
        const char *text = c->s ? c->s : PYRAMID;
        *msg = g_err;
        return seg_tiers_load(P(1, &OUT.tiers), P(2, text), count_of(c->b, strlen(text)),
                              P(3, tx.f), c->s2, &TA.base, E);
    }
    case OP_T_NEW: return seg_tiers_new(P(1, &OUT.tiers), P(2, tx.f), (int32_t)c->a, &TA.base);
    case OP_T_ADD:
        *msg = s ? seg_tiers_last_error(s) : NULL;
        return seg_tiers_add(s, P(2, c->s ? c->s : "mid"), P(3, c->s2 ? c->s2 : "Mid"), c->s3,
                             c->s4);
    case OP_T_FIND: return seg_tiers_find(s, P(2, c->s), P(3, &OUT.i32[0][0]));
    case OP_T_SAVE: {
        size_t need = 0;
        ck_assert_int_eq(seg_tiers_save(tx.t, NULL, 0, &need), SEG_OK);
        size_t cap = c->b == NSHORT ? need : count_of(c->b, sizeof OUT.text);
        int32_t rc = seg_tiers_save(s, OUT.text, cap, P(2, &OUT.sz[0]));
        if (rc == SEG_EBUFSZ) { /* documented: *out_len tells the need */
            EQ(OUT.sz[0], need);
            OUT.sz[0] = CANARY_SIZE;
        }
        return rc;
    }
    case OP_T_APPLY:
    case OP_T_GAPS: {
        /* a: 1 = pass labels (prev for apply, always for gaps), poisoned at `at` with v */
        int32_t lab[5];
        static const int32_t prev0[5] = {-1, 0, 2, 1, -1}, tier0[5] = {0, 1, 2, 3, 3};
        memcpy(lab, c->op == OP_T_APPLY ? prev0 : tier0, sizeof lab);
        if (c->at)
            lab[c->at - 1] = (int32_t)c->v;
        const int32_t *labels = c->op == OP_T_GAPS || c->a ? lab : NULL;
        *msg = g_err;
        if (c->op == OP_T_APPLY)
            return seg_tiers_apply(s, P(2, tiers_f(c->k)), labels, P(3, OUT.i32[0]), E);
        return seg_tiers_gaps(s, P(2, tiers_f(c->k)), P(3, labels), c->x, OUT.i32[0], OUT.i32[1],
                              OUT.dbl[0], OUT.i32[2], OUT.u8, E);
    }
    case OP_T_UNREACH: return seg_tiers_unreachable(s, (int32_t)c->a, P(2, &OUT.i32[0][0]));
    default: {
        int32_t from[5] = {0, 1, 2, -1, 2}, to[5] = {0, 0, 2, 1, -1};
        int32_t *poisoned = c->a ? to : from;
        if (c->at)
            poisoned[c->at - 1] = (int32_t)c->v;
        *msg = g_err;
        return seg_tiers_migration(P(1, from), P(2, to), count_of(c->b, 5),
                                   c->h ? (int32_t)c->k : 3, OUT.i64, OUT.dbl[0], OUT.dbl[1],
                                   OUT.dbl[2], E);
    }
    }
}

#define SIZE_MAX_TEXT "18446744073709551615"
static const bad TIERS[] = {
    {"load: out NULL", OP_T_LOAD, SEG_EINVAL, "out", .null = 1},
    {"load: text NULL", OP_T_LOAD, SEG_EINVAL, "text", .null = 2},
    {"load: schema NULL", OP_T_LOAD, SEG_EINVAL, "schema", .null = 3},
    {"load: empty", OP_T_LOAD, SEG_EPARSE, "no tier", .s = ""},
    {"load: comments only", OP_T_LOAD, SEG_EPARSE, "no tier", .s = "# nothing\n\n"},
    {"load: header only", OP_T_LOAD, SEG_EPARSE, "no tier", .s = "libsegment-tiers 1\n"},
    {"load: len 0", OP_T_LOAD, SEG_EPARSE, "no tier", .b = N0},
    {"load: version 2", OP_T_LOAD, SEG_EVERSION, "version", .s = "libsegment-tiers 2\ntier a \"A\" otherwise\n"},
    {"load: bad keyword", OP_T_LOAD, SEG_EPARSE, "tiers:1:1", .s = "tear a \"A\" otherwise\n"},
    {"load: source named", OP_T_LOAD, SEG_EPARSE, "t.txt:2:1", .s = "tier a \"A\" when aum > 1\nx\n", .s2 = "t.txt"},
    {"load: identifier starts with a digit", OP_T_LOAD, SEG_EPARSE, "identifier", .s = "tier 1a \"A\" otherwise\n"},
    {"load: 256-byte identifier", OP_T_LOAD, SEG_EPARSE, "identifier", .s = LONG_ID_TIERS},
    {"load: duplicate identifier", OP_T_LOAD, SEG_EPARSE, "tiers:2:6", .s = "tier a \"A\" when aum > 1\ntier a \"B\" otherwise\n"},
    {"load: no display name", OP_T_LOAD, SEG_EPARSE, "display name", .s = "tier a otherwise\n"},
    {"load: 256-byte display name", OP_T_LOAD, SEG_EPARSE, "255", .s = LONG_NAME_TIERS},
    {"load: invalid UTF-8 display name", OP_T_LOAD, SEG_EPARSE, "tiers:1:8", .s = "tier a \"\xff\" otherwise\n"},
    {"load: control char in display name", OP_T_LOAD, SEG_EPARSE, "control", .s = "tier a \"a\x01\" otherwise\n"},
    {"load: unterminated display name", OP_T_LOAD, SEG_EPARSE, "tiers:1:8", .s = "tier a \"A otherwise\n"},
    {"load: neither when nor otherwise", OP_T_LOAD, SEG_EPARSE, "when", .s = "tier a \"A\" if aum > 1\n"},
    {"load: when without condition", OP_T_LOAD, SEG_EPARSE, "condition", .s = "tier a \"A\" when\n"},
    {"load: keep without condition", OP_T_LOAD, SEG_EPARSE, "keep", .s = "tier a \"A\" when aum > 1 keep\n"},
    {"load: text after otherwise", OP_T_LOAD, SEG_EPARSE, "otherwise", .s = "tier a \"A\" otherwise aum\n"},
    {"load: unknown column", OP_T_LOAD, SEG_EPARSE, "tiers:1:17", .s = "tier a \"A\" when nope > 1\n"},
    {"load: bad keep", OP_T_LOAD, SEG_EPARSE, "tiers:1:35", .s = "tier a \"A\" when aum > 1 keep aum >\n"},
    {"load: tier and group mixed", OP_T_LOAD, SEG_EPARSE, "tiers:2:1", .s = "tier a \"A\" otherwise\ngroup b \"B\" otherwise\n"},
    {"load: err_cap 1", OP_T_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = 1},
    {"load: err_cap 7", OP_T_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = 7},
    {"load: err_cap 0", OP_T_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = CAP0},
    {"load: err_buf NULL", OP_T_LOAD, SEG_EPARSE, NULL, .s = "x", .cap = CAPNULL},
    {"new: out NULL", OP_T_NEW, SEG_EINVAL, NULL, .null = 1},
    {"new: schema NULL", OP_T_NEW, SEG_EINVAL, NULL, .null = 2},
    {"new: is_group 2", OP_T_NEW, SEG_EINVAL, NULL, .a = 2},
    {"new: is_group -1", OP_T_NEW, SEG_EINVAL, NULL, .a = -1},
    {"new: is_group INT32_MIN", OP_T_NEW, SEG_EINVAL, NULL, .a = INT32_MIN},
    {"add: tiers NULL", OP_T_ADD, SEG_EINVAL, NULL, .null = 1, .h = 2},
    {"add: id NULL", OP_T_ADD, SEG_EINVAL, "identifier", .null = 2, .h = 2},
    {"add: name NULL", OP_T_ADD, SEG_EINVAL, "name", .null = 3, .h = 2},
    {"add: keep without when", OP_T_ADD, SEG_EINVAL, "keep", .h = 2, .s4 = "aum > 1"},
    {"add: duplicate id", OP_T_ADD, SEG_EEXISTS, "top", .h = 2, .s = "top", .s3 = "aum > 1"},
    {"add: duplicate catch-all id", OP_T_ADD, SEG_EEXISTS, "rest", .h = 2, .s = "rest"},
    {"add: when unknown column", OP_T_ADD, SEG_EPARSE, "1:1", .h = 2, .s3 = "nope > 1"},
    {"add: when names the column", OP_T_ADD, SEG_EPARSE, "nope", .h = 2, .s3 = "nope > 1"},
    {"add: when incomplete", OP_T_ADD, SEG_EPARSE, "1:", .h = 2, .s3 = "aum >="},
    {"add: when empty", OP_T_ADD, SEG_EPARSE, "empty", .h = 2, .s3 = ""},
    {"add: keep type error", OP_T_ADD, SEG_EPARSE, "1:", .h = 2, .s3 = "aum > 1", .s4 = "aum == \"x\""},
    {"add: 255-byte id, unknown column", OP_T_ADD, SEG_EPARSE, "nope", .h = 2, .s = ID255, .s3 = "nope > 1"},
    {"add: when invalid UTF-8", OP_T_ADD, SEG_EPARSE, "1:", .h = 2, .s3 = "`\xff` > 1"},
    {"find: tiers NULL", OP_T_FIND, SEG_EINVAL, NULL, .null = 1, .s = "gold"},
    {"find: id NULL", OP_T_FIND, SEG_EINVAL, NULL, .null = 2},
    {"find: out NULL", OP_T_FIND, SEG_EINVAL, NULL, .null = 3, .s = "gold"},
    {"find: unknown id", OP_T_FIND, SEG_ENOTFOUND, NULL, .s = "platinum"},
    {"find: display name, not id", OP_T_FIND, SEG_ENOTFOUND, NULL, .s = "Gold"},
    {"find: empty set", OP_T_FIND, SEG_ENOTFOUND, NULL, .h = 1, .s = "gold"},
    {"save: tiers NULL", OP_T_SAVE, SEG_EINVAL, NULL, .null = 1},
    {"save: out_len NULL", OP_T_SAVE, SEG_EINVAL, NULL, .null = 2},
    {"save: cap one short", OP_T_SAVE, SEG_EBUFSZ, NULL, .b = NSHORT},
    {"save: cap 0", OP_T_SAVE, SEG_EBUFSZ, NULL, .b = N0},
    {"apply: tiers NULL", OP_T_APPLY, SEG_EINVAL, "tiers", .null = 1},
    {"apply: frame NULL", OP_T_APPLY, SEG_EINVAL, "frame", .null = 2},
    {"apply: out_tier NULL", OP_T_APPLY, SEG_EINVAL, "out_tier", .null = 3},
    {"apply: prev -2", OP_T_APPLY, SEG_EDATA, "prev", .a = 1, .at = AT(3), .v = -2, .row = AT(3)},
    {"apply: prev = count", OP_T_APPLY, SEG_EDATA, "prev", .a = 1, .at = AT(4), .v = 4, .row = AT(4)},
    {"apply: prev INT32_MIN", OP_T_APPLY, SEG_EDATA, "prev", .a = 1, .at = AT(0), .v = INT32_MIN, .row = AT(0)},
    {"apply: prev INT32_MAX", OP_T_APPLY, SEG_EDATA, "prev", .a = 1, .at = AT(2), .v = INT32_MAX, .row = AT(2)},
    {"apply: empty set, prev 0", OP_T_APPLY, SEG_EDATA, "prev", .h = 1, .a = 1, .row = AT(1), .nword = SIZE_MAX_TEXT},
    {"apply: column missing", OP_T_APPLY, SEG_ENOTFOUND, "txn_90d", .k = 1},
    {"apply: column is text", OP_T_APPLY, SEG_ENOTFOUND, "aum", .k = 2},
    {"apply: err_cap 1", OP_T_APPLY, SEG_ENOTFOUND, NULL, .k = 1, .cap = 1},
    {"apply: err_cap 0", OP_T_APPLY, SEG_EDATA, NULL, .a = 1, .at = AT(0), .v = 9, .cap = CAP0},
    {"apply: err_buf NULL", OP_T_APPLY, SEG_EINVAL, NULL, .null = 3, .cap = CAPNULL},
    {"gaps: tiers NULL", OP_T_GAPS, SEG_EINVAL, "tiers", .null = 1, .x = 0.1},
    {"gaps: frame NULL", OP_T_GAPS, SEG_EINVAL, "frame", .null = 2, .x = 0.1},
    {"gaps: tier NULL", OP_T_GAPS, SEG_EINVAL, "tier", .null = 3, .x = 0.1},
    {"gaps: critical -0.1", OP_T_GAPS, SEG_EINVAL, "critical", .x = -0.1},
    {"gaps: critical NaN", OP_T_GAPS, SEG_EINVAL, "critical", .x = NAN},
    {"gaps: critical -Inf", OP_T_GAPS, SEG_EINVAL, "critical", .x = -INFINITY},
    {"gaps: tier -2", OP_T_GAPS, SEG_EDATA, "tier", .at = AT(1), .v = -2, .x = 0.1, .row = AT(1)},
    {"gaps: tier = count", OP_T_GAPS, SEG_EDATA, "tier", .at = AT(4), .v = 4, .x = 0.1, .row = AT(4)},
    {"gaps: tier INT32_MIN", OP_T_GAPS, SEG_EDATA, "tier", .at = AT(0), .v = INT32_MIN, .row = AT(0)},
    {"gaps: empty set", OP_T_GAPS, SEG_EDATA, "tier", .h = 1, .row = AT(0), .nword = SIZE_MAX_TEXT},
    {"gaps: column missing", OP_T_GAPS, SEG_ENOTFOUND, "txn_90d", .k = 1, .x = 0.1},
    {"gaps: column is text", OP_T_GAPS, SEG_ENOTFOUND, "aum", .k = 2, .x = 0.1},
    {"gaps: err_cap 1", OP_T_GAPS, SEG_EINVAL, NULL, .x = NAN, .cap = 1},
    {"gaps: err_buf NULL", OP_T_GAPS, SEG_EDATA, NULL, .at = AT(0), .v = 7, .cap = CAPNULL},
    {"unreachable: tiers NULL", OP_T_UNREACH, SEG_EINVAL, NULL, .null = 1},
    {"unreachable: out_by NULL", OP_T_UNREACH, SEG_EINVAL, NULL, .null = 2},
    {"unreachable: tier -1", OP_T_UNREACH, SEG_ERANGE, NULL, .a = -1},
    {"unreachable: tier = count", OP_T_UNREACH, SEG_ERANGE, NULL, .a = 4},
    {"unreachable: tier INT32_MAX", OP_T_UNREACH, SEG_ERANGE, NULL, .a = INT32_MAX},
    {"unreachable: tier INT32_MIN", OP_T_UNREACH, SEG_ERANGE, NULL, .a = INT32_MIN},
    {"unreachable: empty set", OP_T_UNREACH, SEG_ERANGE, NULL, .h = 1, .a = 0},
    {"migration: from NULL", OP_T_MIGR, SEG_EINVAL, "from", .null = 1},
    {"migration: to NULL", OP_T_MIGR, SEG_EINVAL, "to", .null = 2},
    {"migration: from NULL, n SIZE_MAX", OP_T_MIGR, SEG_EINVAL, "from", .null = 1, .b = NMAX},
    {"migration: n_tiers 0", OP_T_MIGR, SEG_ERANGE, "n_tiers", .h = 1, .k = 0},
    {"migration: n_tiers -1", OP_T_MIGR, SEG_ERANGE, "n_tiers", .h = 1, .k = -1},
    {"migration: n_tiers 1025", OP_T_MIGR, SEG_ERANGE, "n_tiers", .h = 1, .k = 1025},
    {"migration: n_tiers INT32_MIN", OP_T_MIGR, SEG_ERANGE, "n_tiers", .h = 1, .k = INT32_MIN},
    {"migration: n_tiers INT32_MAX", OP_T_MIGR, SEG_ERANGE, "n_tiers", .h = 1, .k = INT32_MAX},
    {"migration: from -2", OP_T_MIGR, SEG_EDATA, "from", .a = 0, .at = AT(1), .v = -2, .row = AT(1)},
    {"migration: to = n_tiers", OP_T_MIGR, SEG_EDATA, "to", .a = 1, .at = AT(2), .v = 3, .row = AT(2)},
    {"migration: to INT32_MAX", OP_T_MIGR, SEG_EDATA, "to", .a = 1, .at = AT(4), .v = INT32_MAX, .row = AT(4)},
    {"migration: labels 2 with n_tiers 2", OP_T_MIGR, SEG_EDATA, "from", .h = 1, .k = 2, .row = AT(2)},
    {"migration: err_cap 1", OP_T_MIGR, SEG_ERANGE, NULL, .h = 1, .k = 0, .cap = 1},
    {"migration: err_cap 0", OP_T_MIGR, SEG_EINVAL, NULL, .null = 2, .cap = CAP0},
    {"migration: err_buf NULL", OP_T_MIGR, SEG_EDATA, NULL, .a = 0, .at = AT(0), .v = 5, .cap = CAPNULL},
};

START_TEST(test_tiers)
{
    SWEEP(TIERS, tiers);
}
END_TEST

/* Bad identifiers and display names given to seg_tiers_add. */
START_TEST(test_tiers_names)
{
    bad t[NAME_ROWS];
    for (size_t r = 0; r < N_OF(t); r++) {
        t[r] = name_case(OP_T_ADD, r, 2, "add", LABELS[r]);
        t[r].s3 = "aum > 1";
    }
    sweep(t, N_OF(t), tiers_open, tiers_run, tiers_verify, tiers_close);
}
END_TEST

START_TEST(test_tiers_neutral)
{
    EQ(seg_tiers_count(NULL), 0);
    ISNULL(seg_tiers_id(NULL, 0));
    ISNULL(seg_tiers_name(NULL, 0));
    EQ(seg_tiers_has_catch_all(NULL), 0);
    EQ(seg_tiers_is_group(NULL), 0);
    EMPTY(seg_tiers_last_error(NULL));
    seg_tiers_free(NULL);
    seg_test_alloc_init(&TA);
    tiers_open();
    static const int32_t bad_idx[] = {-1, 4, 5, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_idx / sizeof *bad_idx; i++) {
        ISNULL(seg_tiers_id(tx.t, bad_idx[i]));
        ISNULL(seg_tiers_name(tx.t, bad_idx[i]));
    }
    ISNULL(seg_tiers_id(tx.e, 0));
    ck_assert_int_eq(seg_tiers_add(tx.b, "1", "X", NULL, NULL), SEG_EINVAL);
    ck_assert(*seg_tiers_last_error(tx.b) != '\0');
    ck_assert_int_eq(seg_tiers_add(tx.b, "x", "X", NULL, NULL), SEG_OK);
    EMPTY(seg_tiers_last_error(tx.b));
    /* n = 0 labels may be NULL. */
    ck_assert_int_eq(seg_tiers_migration(NULL, NULL, 0, 3, NULL, NULL, NULL, NULL, NULL, 0), SEG_OK);
    tiers_close();
    ck_assert_uint_eq(TA.live, 0);
}
END_TEST

/* A loaded set is built like any other (doc/threading.md lists
 * seg_tiers_add among the build calls, tiers.h documents no state error):
 * a tier added to it must be compiled and behave as its condition says,
 * or, if the library refuses, fail with a message and change nothing. */
START_TEST(test_tiers_add_after_load)
{
    seg_test_alloc_init(&TA);
    tiers_open();
    static const char one[] = "tier top \"Top\" when aum >= 1000000\n";
    seg_tiers *s = NULL;
    ck_assert_int_eq(seg_tiers_load(&s, one, strlen(one), tx.f, NULL, &TA.base, NULL, 0), SEG_OK);
    int32_t rc = seg_tiers_add(s, "low", "Low", "aum >= 100", NULL);
    int32_t out[5];
    if (rc == SEG_OK) {
        EQ(seg_tiers_count(s), 2);
        EQ(seg_tiers_has_catch_all(s), 0); /* 'low' has a condition */
        EQ(seg_tiers_apply(s, tx.f, NULL, out, NULL, 0), SEG_OK);
        ck_assert_msg(out[0] == 0 && out[1] == 1 && out[2] == 1 && out[3] == 1 &&
                          out[4] == SEG_TIER_NONE,
                      "tiers %d %d %d %d %d", (int)out[0], (int)out[1], (int)out[2],
                      (int)out[3], (int)out[4]);
    } else {
        ck_assert_int_lt(rc, 0); /* no code documented */
        ck_assert(*seg_tiers_last_error(s) != '\0');
        EQ(seg_tiers_count(s), 1);
    }
    seg_tiers_free(s);
    tiers_close();
    ck_assert_uint_eq(TA.live, 0);
}
END_TEST

/* seg_tiers_new documents "no reference kept" to its schema: freeing the
 * schema frame right after must not break later seg_tiers_add calls. */
START_TEST(test_tiers_add_after_schema_freed)
{
    seg_test_alloc_init(&TA);
    seg_frame *schema = NULL;
    ck_assert_int_eq(seg_frame_new(&schema, 5, &TA.base), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(schema, "aum", T_AUM, NULL), SEG_OK);
    seg_tiers *s = NULL;
    ck_assert_int_eq(seg_tiers_new(&s, schema, 0, &TA.base), SEG_OK);
    seg_frame_free(schema);
    int32_t rc = seg_tiers_add(s, "top", "Top", "aum >= 1000000", NULL);
    ck_assert_int_eq(rc, SEG_OK);
    seg_tiers_free(s);
    ck_assert_uint_eq(TA.live, 0);
}
END_TEST

/* ============================================================================ */

static Suite *badinput_suite(void)
{
    Suite *s = suite_create("badinput-core");
    /* START_TEST makes each test a pointer variable: not a constant initialiser. */
    const struct {
        const char *tcase;
        const TTest *test;
    } tests[] = {
        {"common", test_common},         {"common", test_constructors_bad_allocator},
        {"common", test_common_neutral}, {"version", test_version},
        {"frame", test_frame},           {"frame", test_frame_add_names},
        {"frame", test_frame_neutral},   {"rfm", test_rfm},
        {"rfm", test_rfm_param_bounds},  {"rfm", test_rfm_neutral},
        {"rfm_scheme", test_scheme},     {"rfm_scheme", test_scheme_names},
        {"rfm_scheme", test_scheme_neutral}, {"rule", test_rule},
        {"rule", test_rule_neutral},     {"tiers", test_tiers},
        {"tiers", test_tiers_names},     {"tiers", test_tiers_neutral},
        {"tiers", test_tiers_add_after_load}, {"tiers", test_tiers_add_after_schema_freed},
    };
    TCase *tc = NULL;
    for (size_t i = 0; i < N_OF(tests); i++) {
        if (!tc || strcmp(tests[i].tcase, tests[i - 1].tcase) != 0) {
            tc = tcase_create(tests[i].tcase);
            tcase_set_timeout(tc, 120);
            suite_add_tcase(s, tc);
        }
        tcase_add_test(tc, tests[i].test);
    }
    return s;
}

int main(void)
{
    init_strings();
    return seg_test_run(badinput_suite());
}
