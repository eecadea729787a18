/* SPDX-License-Identifier: MIT */
/*
 * Common API: status codes, version, allocator hooks.
 *
 * Besides the plain API this suite checks that every allocation a frame,
 * model or scheme makes goes through the caller's allocator (no block is
 * left behind, no block comes from the C library behind its back) and that
 * every allocation failure is reported as SEG_ENOMEM without a leak.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <segment/segment.h>

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-alloc.h"
#include "test-main.h"

/* ------------------------------------------------------------------------
 * Catching C library allocations made behind the allocator's back.
 *
 * On glibc the test executable defines malloc/calloc/realloc/free, which
 * interpose the C library's for the whole process (libsegment.so included)
 * and forward to glibc's __libc_* entry points. While `g_watch` is set they
 * count calls. The test allocator is pointed straight at __libc_malloc so
 * its own blocks are not counted. Not done under AddressSanitizer (which
 * owns malloc); under valgrind the interposition is itself replaced, which
 * the self-check detects, and the assertions are then skipped.
 * ---------------------------------------------------------------------- */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEG_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SEG_TEST_ASAN 1
#endif

#if defined(__GLIBC__) && !defined(SEG_TEST_ASAN)
#define SEG_TEST_INTERPOSE 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

static volatile int g_watch;
static volatile size_t g_stray;

void *malloc(size_t size)
{
    if (g_watch)
        g_stray++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    if (g_watch)
        g_stray++;
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
    if (g_watch)
        g_stray++;
    return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
    if (g_watch && ptr)
        g_stray++;
    __libc_free(ptr);
}

static void *raw_malloc(size_t size)
{
    return __libc_malloc(size);
}

static void raw_free(void *ptr)
{
    __libc_free(ptr);
}

static void watch_begin(void)
{
    g_stray = 0;
    g_watch = 1;
}

static size_t watch_end(void)
{
    g_watch = 0;
    return g_stray;
}

/* 1 if the interposition sees C library allocations in this process. */
static int watch_works(void)
{
    watch_begin();
    char *p = strdup("interposed?"); /* allocates inside libc */
    free(p);
    return watch_end() >= 2;
}
#endif

/* Test allocator that, when interposing, bypasses the counting malloc. */
static void alloc_init(seg_test_alloc *ta)
{
    seg_test_alloc_init(ta);
#ifdef SEG_TEST_INTERPOSE
    ta->raw_malloc = raw_malloc;
    ta->raw_free = raw_free;
#endif
}

/* Ceiling on allocation-failure loops, so a library that allocates without
 * end cannot hang the suite. */
#define MAX_FAIL_STEPS 100000

/* The allocator for step `step` of an allocation-failure loop (which must
 * end within MAX_FAIL_STEPS steps); no failure armed yet. */
static void alloc_init_step(seg_test_alloc *ta, size_t step)
{
    ck_assert_uint_lt(step, MAX_FAIL_STEPS);
    alloc_init(ta);
}

/* Makes allocation attempt `step` from now fail; with `sticky`, every later
 * attempt too. */
static void arm_failure(seg_test_alloc *ta, int sticky, size_t step)
{
    ta->sticky = sticky;
    seg_test_alloc_fail_next(ta, step);
}

/* After a constructor call (status `rc`, output `out`) in such a loop: 1 if
 * an allocation failed, after checking that the call said SEG_ENOMEM, left
 * the output at CANARY_PTR and freed every block; else 0, after checking
 * that it succeeded. */
static int constructor_failed(int32_t rc, const void *out, const seg_test_alloc *ta)
{
    if (ta->failures) {
        ck_assert_int_eq(rc, SEG_ENOMEM);
        ck_assert_ptr_eq(out, CANARY_PTR);
        ck_assert_uint_eq(ta->live, 0);
        return 1;
    }
    ck_assert_int_eq(rc, SEG_OK);
    return 0;
}

/* ------------------------------------------------------------------------
 * Small data set used by the model tests.
 * ---------------------------------------------------------------------- */
#define N_CUST 12
static const double k_recency[N_CUST] = {1, 3, 3, 7, 10, 15, 30, 30, 45, 60, 90, 200};
static const double k_frequency[N_CUST] = {12, 1, 5, 5, 2, 8, 1, 3, 3, 1, 2, 1};
static const double k_monetary[N_CUST] = {900, 20, 310.5, 120, 45, 700, 15, 80, 95, 10, 60, 5};
/* A second population for refits. */
static const double k_recency2[N_CUST] = {2, 4, 8, 16, 32, 64, 128, 5, 9, 17, 33, 65};
static const double k_frequency2[N_CUST] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const double k_monetary2[N_CUST] = {5, 50, 500, 5000, 7, 70, 700, 7000, 3, 30, 300, 3000};

#define N_TX 10
#define N_TX_CUST 4
static const int32_t k_tx_customer[N_TX] = {0, 1, 0, 2, 1, 0, 2, 2, 0, 1};
static const int64_t k_tx_time[N_TX] = {100, 101, 100, 90, 120, 110, 95, 95, 115, 80};
static const double k_tx_amount[N_TX] = {10, 20, 5.5, 7, 30, 1, 2, 3, -4, 8};
static const int64_t k_tx_amount_minor[N_TX] = {1000, 2000, 550, 700, 3000, 100, 200, 300, -400, 800};
#define TX_ANALYSIS_TIME 130

/* ========================================================================
 * Status codes
 * ====================================================================== */

static const struct {
    int32_t code;
    int32_t value;
} k_codes[] = {
    {SEG_OK, 0},          {SEG_ERROR, -1},     {SEG_EINVAL, -2},     {SEG_ENOMEM, -3},
    {SEG_ERANGE, -4},     {SEG_ENOTFOUND, -5}, {SEG_EEXISTS, -6},    {SEG_EBUFSZ, -7},
    {SEG_ESTATE, -8},     {SEG_EVERSION, -9},  {SEG_EDATA, -10},     {SEG_EPARSE, -11},
    {SEG_ECANCELED, -12},
};
#define N_CODES (sizeof k_codes / sizeof k_codes[0])

START_TEST(status_values_are_stable)
{
    for (size_t i = 0; i < N_CODES; i++)
        ck_assert_int_eq(k_codes[i].code, k_codes[i].value);
    /* Spelled out once more so a renumbering shows the exact name. */
    ck_assert_int_eq(SEG_OK, 0);
    ck_assert_int_eq(SEG_ERROR, -1);
    ck_assert_int_eq(SEG_EINVAL, -2);
    ck_assert_int_eq(SEG_ENOMEM, -3);
    ck_assert_int_eq(SEG_ERANGE, -4);
    ck_assert_int_eq(SEG_ENOTFOUND, -5);
    ck_assert_int_eq(SEG_EEXISTS, -6);
    ck_assert_int_eq(SEG_EBUFSZ, -7);
    ck_assert_int_eq(SEG_ESTATE, -8);
    ck_assert_int_eq(SEG_EVERSION, -9);
    ck_assert_int_eq(SEG_EDATA, -10);
    ck_assert_int_eq(SEG_EPARSE, -11);
    ck_assert_int_eq(SEG_ECANCELED, -12);
}
END_TEST

START_TEST(status_str_known_codes)
{
    for (size_t i = 0; i < N_CODES; i++) {
        const char *s = seg_status_str(k_codes[i].code);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(s[0] != '\0', "empty string for code %d", (int)k_codes[i].code);
        ck_assert_msg(strcmp(s, "unknown error") != 0, "code %d reads as unknown",
                      (int)k_codes[i].code);
        /* Static: the same pointer every time. */
        ck_assert_ptr_eq(s, seg_status_str(k_codes[i].code));
        for (size_t j = 0; j < i; j++) {
            const char *t = seg_status_str(k_codes[j].code);
            ck_assert_msg(strcmp(s, t) != 0, "codes %d and %d share \"%s\"",
                          (int)k_codes[i].code, (int)k_codes[j].code, s);
        }
    }
    ck_assert_str_eq(seg_status_str(SEG_OK), "success");
}
END_TEST

START_TEST(status_str_unknown_codes)
{
    const int32_t unknown[] = {1, 2, 100, -13, -14, -100, -1000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = seg_status_str(unknown[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, "unknown error");
    }
}
END_TEST

/* ========================================================================
 * Version
 * ====================================================================== */

/* Messages quote caller text (names, tokens, file lines). doc/errors.md
 * promises one line of valid UTF-8: control bytes and malformed UTF-8 in
 * that text come out as '?', and a message cut by err_cap does not end
 * inside a character. */
static void assert_clean(const char *what, const char *err, const char *want)
{
    size_t bad = seg_test_msg_bad_at(err);
    ck_assert_msg(bad == 0, "%s: byte %zu of \"%s\" is a control byte or bad UTF-8", what,
                  bad - 1, err);
    ck_assert_msg(strstr(err, want) != NULL, "%s: \"%s\" lacks \"%s\"", what, err, want);
}

START_TEST(messages_quote_bad_bytes)
{
    static const double amount[2] = {1, 2};
    static const int32_t labels[2] = {0, 1};
    char err[256];
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 2, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "amount", amount, NULL), SEG_OK);

    /* A column name the caller passes through: newline and a stray 0xff. */
    seg_profile *p = NULL;
    const char *cols[] = {"no\nsuch\xff"};
    ck_assert_int_eq(seg_profile_compute(&p, f, labels, NULL, cols, 1, 0, NULL, err, sizeof err),
                     SEG_ENOTFOUND);
    assert_clean("profile", err, "'no?such?'");

    /* A rule token: a control byte, then a lone byte of a 3-byte character. */
    static const char *const rules[] = {"amount > 1 and \x01", "amount > 1 and \xe6"};
    for (size_t i = 0; i < 2; i++) {
        seg_rule *r = NULL;
        ck_assert_int_eq(seg_rule_compile(&r, rules[i], strlen(rules[i]), f, "s", NULL, err,
                                          sizeof err),
                         SEG_EPARSE);
        assert_clean("rule", err, "s:1:16: unexpected character: '?'");
    }

    /* A model file key: BEL and a truncated 2-byte character. */
    seg_rfm *m = NULL;
    const char *model = "libsegment-rfm 1\n\a\xc3 1\n";
    ck_assert_int_eq(seg_rfm_load(&m, model, strlen(model), NULL, err, sizeof err), SEG_EPARSE);
    assert_clean("rfm load", err, "2:1: unknown key '?" "?'" /* no trigraph */);

    /* err_cap cuts inside a 3-byte character: the character goes whole. */
    const char *cn[] = {"月日均资产x"};
    const char *head = "columns[0]: no column '";
    size_t cap = strlen(head) + 3; /* room for two of the three bytes of 月 */
    memset(err, 'Z', sizeof err);
    ck_assert_int_eq(seg_profile_compute(&p, f, labels, NULL, cn, 1, 0, NULL, err, cap),
                     SEG_ENOTFOUND);
    ck_assert_str_eq(err, head);
    ck_assert_int_eq(err[cap], 'Z');
    ck_assert_ptr_null(p);
    seg_frame_free(f);
}
END_TEST

START_TEST(version_macros_consistent)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", SEG_VERSION_MAJOR, SEG_VERSION_MINOR,
             SEG_VERSION_PATCH);
    ck_assert_str_eq(SEG_VERSION_STRING, buf);
    ck_assert_int_eq(SEG_VERSION_NUMBER,
                     SEG_VERSION_MAJOR * 10000 + SEG_VERSION_MINOR * 100 + SEG_VERSION_PATCH);
    /* The formula only round-trips while minor and patch stay below 100. */
    ck_assert_int_ge(SEG_VERSION_MAJOR, 0);
    ck_assert_int_ge(SEG_VERSION_MINOR, 0);
    ck_assert_int_lt(SEG_VERSION_MINOR, 100);
    ck_assert_int_ge(SEG_VERSION_PATCH, 0);
    ck_assert_int_lt(SEG_VERSION_PATCH, 100);
#ifdef SEG_TEST_PROJECT_VERSION
    /* Independent source: meson's project() version. */
    ck_assert_str_eq(SEG_VERSION_STRING, SEG_TEST_PROJECT_VERSION);
#endif
}
END_TEST

START_TEST(version_runtime_matches_headers)
{
    ck_assert_uint_eq(seg_version_number(), (uint32_t)SEG_VERSION_NUMBER);
    const char *s = seg_version_string();
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, SEG_VERSION_STRING);
    ck_assert_ptr_eq(s, seg_version_string());
}
END_TEST

START_TEST(version_at_least)
{
    const int32_t ma = SEG_VERSION_MAJOR, mi = SEG_VERSION_MINOR, pa = SEG_VERSION_PATCH;
    ck_assert_int_eq(seg_version_at_least(0, 0, 0), 1);
    ck_assert_int_eq(seg_version_at_least(ma, mi, pa), 1);
    ck_assert_int_eq(seg_version_at_least(ma, mi, pa + 1), 0);
    ck_assert_int_eq(seg_version_at_least(ma, mi + 1, 0), 0);
    ck_assert_int_eq(seg_version_at_least(ma, mi + 1, pa), 0);
    ck_assert_int_eq(seg_version_at_least(ma + 1, 0, 0), 0);
    ck_assert_int_eq(seg_version_at_least(ma + 1, mi, pa), 0);
    if (pa > 0)
        ck_assert_int_eq(seg_version_at_least(ma, mi, pa - 1), 1);
    if (mi > 0) {
        ck_assert_int_eq(seg_version_at_least(ma, mi - 1, 0), 1);
        /* Compared part by part: x.(y-1).150 is older than x.y.0 (a plain
         * MAJOR*10000 + MINOR*100 + PATCH comparison gets this wrong). */
        ck_assert_msg(seg_version_at_least(ma, mi - 1, 150) == 1,
                      "seg_version_at_least(%d, %d, 150) = %d: %d.%d.%d is newer than %d.%d.150",
                      (int)ma, (int)(mi - 1), (int)seg_version_at_least(ma, mi - 1, 150),
                      (int)ma, (int)mi, (int)pa, (int)ma, (int)(mi - 1));
    }
    if (ma > 0) {
        ck_assert_int_eq(seg_version_at_least(ma - 1, 0, 0), 1);
        ck_assert_msg(seg_version_at_least(ma - 1, 150, 150) == 1,
                      "seg_version_at_least(%d, 150, 150) should be 1", (int)(ma - 1));
    }
}
END_TEST

/* ========================================================================
 * seg_allocator_init
 * ====================================================================== */

static void *dummy_malloc(size_t size, void *ud)
{
    (void)ud;
    return malloc(size);
}

static void *dummy_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return realloc(p, size);
}

static void dummy_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* seg_allocator followed by fields a newer header might add. */
typedef struct big_allocator {
    seg_allocator a;
    uint64_t tail[4];
} big_allocator;

static int bytes_all(const void *p, size_t n, unsigned char v)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return 0;
    return 1;
}

START_TEST(allocator_init_fills_fields)
{
    seg_allocator a;
    int ud = 0;
    memset(&a, 0xEE, sizeof a);
    ck_assert_int_eq(seg_allocator_init(&a, (uint32_t)sizeof a, dummy_malloc, dummy_realloc,
                                        dummy_free, &ud),
                     SEG_OK);
    ck_assert_uint_eq(a.struct_size, sizeof a);
    ck_assert(a.malloc_fn == dummy_malloc);
    ck_assert(a.realloc_fn == dummy_realloc);
    ck_assert(a.free_fn == dummy_free);
    ck_assert_ptr_eq(a.user_data, &ud);

    /* The filled struct is accepted by constructors. */
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 2, &a), SEG_OK);
    seg_frame_free(f);

    /* A caller compiled against a longer struct: the init call succeeds and
     * sets the hooks; with the unknown tail zero the result is usable. */
    big_allocator b;
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(seg_allocator_init(&b.a, (uint32_t)sizeof b, dummy_malloc, dummy_realloc,
                                        dummy_free, NULL),
                     SEG_OK);
    ck_assert(b.a.malloc_fn == dummy_malloc);
    ck_assert(b.a.realloc_fn == dummy_realloc);
    ck_assert(b.a.free_fn == dummy_free);
    ck_assert_ptr_null(b.a.user_data);
    ck_assert_uint_ge(b.a.struct_size, sizeof(seg_allocator));
    ck_assert_uint_le(b.a.struct_size, sizeof b);
    ck_assert(bytes_all(b.tail, sizeof b.tail, 0));
    f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, 2, &b.a), SEG_OK);
    seg_frame_free(f);
}
END_TEST

START_TEST(allocator_init_bad_args)
{
    seg_allocator a;
    const uint32_t sz = (uint32_t)sizeof a;

    ck_assert_int_eq(seg_allocator_init(NULL, sz, dummy_malloc, dummy_realloc, dummy_free, NULL),
                     SEG_EINVAL);

    memset(&a, 0xEE, sizeof a);
    ck_assert_int_eq(seg_allocator_init(&a, sz, NULL, dummy_realloc, dummy_free, NULL),
                     SEG_EINVAL);
    ck_assert(bytes_all(&a, sizeof a, 0xEE));
    ck_assert_int_eq(seg_allocator_init(&a, sz, dummy_malloc, NULL, dummy_free, NULL),
                     SEG_EINVAL);
    ck_assert(bytes_all(&a, sizeof a, 0xEE));
    ck_assert_int_eq(seg_allocator_init(&a, sz, dummy_malloc, dummy_realloc, NULL, NULL),
                     SEG_EINVAL);
    ck_assert(bytes_all(&a, sizeof a, 0xEE));

    const uint32_t small[] = {0, 1, 4, 8, (uint32_t)offsetof(seg_allocator, user_data),
                              (uint32_t)sizeof(seg_allocator) - 1};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        memset(&a, 0xEE, sizeof a);
        ck_assert_int_eq(
            seg_allocator_init(&a, small[i], dummy_malloc, dummy_realloc, dummy_free, NULL),
            SEG_EVERSION);
        ck_assert_msg(bytes_all(&a, sizeof a, 0xEE), "struct written for size %u",
                      (unsigned)small[i]);
    }
}
END_TEST

/* ========================================================================
 * Allocator struct validation in every constructor
 * ====================================================================== */

/* Calls every constructor that takes an allocator; checks each returns
 * `want` and, on failure, leaves its output alone. Frees successes. */
static void check_constructors(const seg_allocator *alloc, int32_t want, const char *what)
{
    seg_frame *f = CANARY_PTR;
    int32_t rc = seg_frame_new(&f, 3, alloc);
    ck_assert_msg(rc == want, "%s: seg_frame_new gave %d, want %d", what, (int)rc, (int)want);
    if (rc == SEG_OK)
        seg_frame_free(f);
    else
        ck_assert_ptr_eq(f, CANARY_PTR);

    seg_rfm *m = CANARY_PTR;
    rc = seg_rfm_new(&m, alloc);
    ck_assert_msg(rc == want, "%s: seg_rfm_new gave %d, want %d", what, (int)rc, (int)want);
    if (rc == SEG_OK)
        seg_rfm_free(m);
    else
        ck_assert_ptr_eq(m, CANARY_PTR);

    const int32_t builtins[] = {SEG_SCHEME_RFM10, SEG_SCHEME_RFGRID, SEG_SCHEME_CLASSIC8};
    for (size_t i = 0; i < 3; i++) {
        seg_rfm_scheme *s = CANARY_PTR;
        rc = seg_rfm_scheme_new_builtin(&s, builtins[i], alloc);
        ck_assert_msg(rc == want, "%s: seg_rfm_scheme_new_builtin(%d) gave %d, want %d", what,
                      (int)builtins[i], (int)rc, (int)want);
        if (rc == SEG_OK)
            seg_rfm_scheme_free(s);
        else
            ck_assert_ptr_eq(s, CANARY_PTR);
    }

    seg_rfm_scheme *s = CANARY_PTR;
    rc = seg_rfm_scheme_new(&s, 3, "others", "Others", alloc);
    ck_assert_msg(rc == want, "%s: seg_rfm_scheme_new gave %d, want %d", what, (int)rc, (int)want);
    if (rc == SEG_OK)
        seg_rfm_scheme_free(s);
    else
        ck_assert_ptr_eq(s, CANARY_PTR);

    /* seg_rfm_load: a valid saved model, so only the allocator can fail. */
    seg_rfm *src = NULL;
    ck_assert_int_eq(seg_rfm_new(&src, NULL), SEG_OK);
    size_t len = 0;
    ck_assert_int_eq(seg_rfm_save(src, NULL, 0, &len), SEG_OK);
    char *text = malloc(len + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(seg_rfm_save(src, text, len + 1, &len), SEG_OK);
    seg_rfm_free(src);
    m = CANARY_PTR;
    char err[256] = "";
    rc = seg_rfm_load(&m, text, len, alloc, err, sizeof err);
    ck_assert_msg(rc == want, "%s: seg_rfm_load gave %d (%s), want %d", what, (int)rc, err,
                  (int)want);
    if (rc == SEG_OK)
        seg_rfm_free(m);
    else
        ck_assert_ptr_eq(m, CANARY_PTR);
    free(text);
}

START_TEST(allocator_null_selects_libc)
{
    check_constructors(NULL, SEG_OK, "NULL allocator");
}
END_TEST

START_TEST(allocator_struct_too_small)
{
    const uint32_t small[] = {0, 1, 8, (uint32_t)offsetof(seg_allocator, free_fn),
                              (uint32_t)offsetof(seg_allocator, user_data),
                              (uint32_t)sizeof(seg_allocator) - 1};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        seg_test_alloc ta;
        alloc_init(&ta);
        ta.base.struct_size = small[i];
        char what[64];
        snprintf(what, sizeof what, "struct_size %u", (unsigned)small[i]);
        check_constructors(&ta.base, SEG_EVERSION, what);
        ck_assert_uint_eq(ta.attempts, 0);
    }
}
END_TEST

START_TEST(allocator_struct_larger)
{
    /* Zero tail: accepted, and the hooks are used. */
    big_allocator b;
    seg_test_alloc ta;
    alloc_init(&ta);
    memset(&b, 0, sizeof b);
    b.a = ta.base;
    b.a.struct_size = (uint32_t)sizeof b;
    check_constructors(&b.a, SEG_OK, "larger struct, zero tail");
    ck_assert_uint_gt(ta.mallocs, 0);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);

    /* Only part of the tail declared: still the zero-tail case. */
    b.a.struct_size = (uint32_t)(sizeof(seg_allocator) + sizeof(uint64_t));
    b.tail[1] = 0xFFFF; /* beyond struct_size: must be ignored */
    check_constructors(&b.a, SEG_OK, "larger struct, undeclared garbage");
    b.tail[1] = 0;

    /* A non-zero byte anywhere in the declared tail: refused. */
    const size_t positions[] = {0, 7, 8, sizeof b.tail - 1};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        memset(b.tail, 0, sizeof b.tail);
        ((unsigned char *)b.tail)[positions[i]] = 1;
        b.a.struct_size = (uint32_t)sizeof b;
        size_t before = ta.attempts;
        char what[64];
        snprintf(what, sizeof what, "non-zero tail byte %zu", positions[i]);
        check_constructors(&b.a, SEG_EVERSION, what);
        ck_assert_uint_eq(ta.attempts, before);
    }
}
END_TEST

START_TEST(allocator_struct_null_hook)
{
    for (int which = 0; which < 3; which++) {
        seg_test_alloc ta;
        alloc_init(&ta);
        if (which == 0)
            ta.base.malloc_fn = NULL;
        else if (which == 1)
            ta.base.realloc_fn = NULL;
        else
            ta.base.free_fn = NULL;
        char what[64];
        snprintf(what, sizeof what, "NULL hook %d", which);
        check_constructors(&ta.base, SEG_EINVAL, what);
        ck_assert_uint_eq(ta.attempts, 0);
    }
}
END_TEST

/* ========================================================================
 * The allocator is really used, and only it
 * ====================================================================== */

/* Everything a model can do, with its allocator. Returns the first failing
 * status (or SEG_OK); no Check assertion inside so it can run while the
 * interposed malloc is counting. */
static int32_t exercise_model(const seg_allocator *alloc, seg_rfm **out_model)
{
    seg_rfm *m = NULL;
    int32_t rc = seg_rfm_new(&m, alloc);
    if (rc != SEG_OK)
        return rc;
    int32_t r[N_CUST], f[N_CUST], mm[N_CUST], cell[N_CUST];
    double w[N_CUST];
    double rec[N_TX_CUST], freq[N_TX_CUST], mon[N_TX_CUST], ten[N_TX_CUST];
    uint8_t has[N_TX_CUST];
    char err[256];
    size_t n = 0;
    double th[SEG_RFM_MAX_BINS];
    if ((rc = seg_rfm_set_param(m, SEG_RFM_PARAM_R_BINS, 4)) != SEG_OK ||
        (rc = seg_rfm_set_param(m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_TIES)) != SEG_OK ||
        (rc = seg_rfm_set_param(m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK)) != SEG_OK ||
        (rc = seg_rfm_set_weights(m, 1, 2, 3)) != SEG_OK ||
        (rc = seg_rfm_fit(m, k_recency, k_frequency, k_monetary, N_CUST)) != SEG_OK ||
        (rc = seg_rfm_fit_score(m, k_recency2, k_frequency2, k_monetary2, N_CUST, r, f, mm, cell,
                                w)) != SEG_OK ||
        (rc = seg_rfm_score(m, k_recency, k_frequency, k_monetary, N_CUST, r, f, mm, cell, w, err,
                            sizeof err)) != SEG_OK ||
        (rc = seg_rfm_get_thresholds(m, SEG_RFM_R, th, SEG_RFM_MAX_BINS, &n)) != SEG_OK ||
        (rc = seg_rfm_set_param(m, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS)) != SEG_OK ||
        (rc = seg_rfm_aggregate(m, k_tx_customer, k_tx_time, k_tx_amount, N_TX, TX_ANALYSIS_TIME,
                                N_TX_CUST, rec, freq, mon, ten, has, err, sizeof err)) != SEG_OK ||
        (rc = seg_rfm_aggregate_minor(m, k_tx_customer, k_tx_time, k_tx_amount_minor, N_TX,
                                      TX_ANALYSIS_TIME, N_TX_CUST, rec, freq, mon, ten, has, err,
                                      sizeof err)) != SEG_OK ||
        (rc = seg_rfm_save(m, NULL, 0, &n)) != SEG_OK) {
        seg_rfm_free(m);
        return rc;
    }
    *out_model = m;
    return SEG_OK;
}

static int32_t exercise_frame(const seg_allocator *alloc, seg_frame **out_frame)
{
    static const double d[3] = {1, 2, 3};
    static const int64_t i64[3] = {4, 5, 6};
    static const int32_t i32[3] = {7, 8, 9};
    static const uint8_t valid[1] = {0x05};
    seg_frame *f = NULL;
    int32_t rc = seg_frame_new(&f, 3, alloc);
    if (rc != SEG_OK)
        return rc;
    char name[32];
    for (int i = 0; i < 20 && rc == SEG_OK; i++) {
        snprintf(name, sizeof name, "column_%d", i);
        if (i % 3 == 0)
            rc = seg_frame_add_double(f, name, d, i % 2 ? valid : NULL);
        else if (i % 3 == 1)
            rc = seg_frame_add_int64(f, name, i64, i % 2 ? valid : NULL);
        else
            rc = seg_frame_add_int32(f, name, i32, i % 2 ? valid : NULL);
    }
    if (rc == SEG_OK)
        rc = seg_frame_add_double(f, "column_0", d, NULL) == SEG_EEXISTS ? SEG_OK : SEG_ERROR;
    if (rc != SEG_OK) {
        seg_frame_free(f);
        return rc;
    }
    *out_frame = f;
    return SEG_OK;
}

static int32_t exercise_schemes(const seg_allocator *alloc, seg_rfm_scheme **out)
{
    const int32_t builtins[] = {SEG_SCHEME_RFM10, SEG_SCHEME_RFGRID, SEG_SCHEME_CLASSIC8};
    for (size_t i = 0; i < 3; i++) {
        int32_t rc = seg_rfm_scheme_new_builtin(&out[i], builtins[i], alloc);
        if (rc != SEG_OK)
            return rc;
    }
    int32_t rc = seg_rfm_scheme_new(&out[3], 4, "rest", "The rest", alloc);
    if (rc != SEG_OK)
        return rc;
    char id[32];
    for (int i = 0; i < 30 && rc == SEG_OK; i++) {
        snprintf(id, sizeof id, "box_%d", i);
        rc = seg_rfm_scheme_add(out[3], id, "盒子", 1 + i % 4, 4, 1, 4, 1, 1 + i % 4);
    }
    if (rc != SEG_OK)
        return rc;
    /* Valid for every scheme above (the smallest has levels 2). */
    const int32_t r[3] = {1, 2, 0}, f[3] = {2, 1, 1}, m[3] = {1, 2, 2};
    int32_t seg[3];
    char err[128];
    for (size_t i = 0; i < 4 && rc == SEG_OK; i++)
        rc = seg_rfm_scheme_apply(out[i], r, f, m, 3, seg, err, sizeof err);
    return rc;
}

START_TEST(allocator_used_and_balanced)
{
    seg_test_alloc ta;
    alloc_init(&ta);

    seg_frame *frame = NULL;
    ck_assert_int_eq(exercise_frame(&ta.base, &frame), SEG_OK);
    ck_assert_uint_gt(ta.live, 0);
    seg_frame_free(frame);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.live_bytes, 0);

    size_t before = ta.mallocs;
    seg_rfm *model = NULL;
    ck_assert_int_eq(exercise_model(&ta.base, &model), SEG_OK);
    ck_assert_uint_gt(ta.mallocs, before);
    ck_assert_uint_gt(ta.live, 0);
    seg_rfm_free(model);
    ck_assert_uint_eq(ta.live, 0);

    before = ta.mallocs;
    seg_rfm_scheme *s[4] = {NULL, NULL, NULL, NULL};
    ck_assert_int_eq(exercise_schemes(&ta.base, s), SEG_OK);
    ck_assert_uint_gt(ta.mallocs, before);
    for (size_t i = 0; i < 4; i++)
        seg_rfm_scheme_free(s[i]);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.live_bytes, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    ck_assert_uint_eq(ta.failures, 0);
}
END_TEST

START_TEST(allocator_per_handle)
{
    /* Two handles with two allocators: each only touches its own. */
    seg_test_alloc a, b;
    alloc_init(&a);
    alloc_init(&b);
    seg_rfm *ma = NULL, *mb = NULL;
    ck_assert_int_eq(seg_rfm_new(&ma, &a.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_new(&mb, &b.base), SEG_OK);
    ck_assert_int_eq(seg_rfm_fit(ma, k_recency, k_frequency, k_monetary, N_CUST), SEG_OK);
    size_t b_attempts = b.attempts;
    ck_assert_int_eq(seg_rfm_fit(ma, k_recency2, k_frequency2, k_monetary2, N_CUST), SEG_OK);
    ck_assert_uint_eq(b.attempts, b_attempts);

    /* const calls use the model's allocator: make `a` fail everything and
     * check `b`'s model still aggregates (b's hooks are the only ones it
     * may use). */
    ck_assert_int_eq(seg_rfm_set_param(mb, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS), SEG_OK);
    a.sticky = 1;
    seg_test_alloc_fail_next(&a, 0);
    double freq[N_TX_CUST];
    char err[256] = "";
    ck_assert_int_eq(seg_rfm_aggregate(mb, k_tx_customer, k_tx_time, k_tx_amount, N_TX,
                                       TX_ANALYSIS_TIME, N_TX_CUST, NULL, freq, NULL, NULL, NULL,
                                       err, sizeof err),
                     SEG_OK);
    ck_assert_uint_eq(a.failures, 0);
    seg_test_alloc_no_fail(&a);

    seg_rfm_free(ma);
    ck_assert_uint_eq(a.live, 0);
    ck_assert_uint_gt(b.live, 0);
    seg_rfm_free(mb);
    ck_assert_uint_eq(b.live, 0);
    ck_assert_uint_eq(a.bad_frees + b.bad_frees, 0);

    /* The allocator struct need not outlive the constructor call. */
    seg_test_alloc c;
    alloc_init(&c);
    seg_allocator *copy = malloc(sizeof *copy);
    ck_assert_ptr_nonnull(copy);
    *copy = c.base;
    seg_frame *fr = NULL;
    ck_assert_int_eq(seg_frame_new(&fr, 2, copy), SEG_OK);
    memset(copy, 0, sizeof *copy);
    free(copy);
    const double d[2] = {1, 2};
    ck_assert_int_eq(seg_frame_add_double(fr, "x", d, NULL), SEG_OK);
    seg_frame_free(fr);
    ck_assert_uint_eq(c.live, 0);
    ck_assert_uint_gt(c.frees, 0);
}
END_TEST

START_TEST(no_c_library_allocation_behind_the_hooks)
{
#ifndef SEG_TEST_INTERPOSE
    return; /* not glibc, or under AddressSanitizer */
#else
    if (!watch_works())
        return; /* malloc replaced by a tool (valgrind): cannot observe */

    /* Sanity: with the C library's allocator the library is seen allocating,
     * so the watch really can fail. */
    watch_begin();
    seg_frame *f0 = NULL;
    int32_t rc0 = seg_frame_new(&f0, 3, NULL);
    seg_frame_free(f0);
    size_t stray0 = watch_end();
    ck_assert_int_eq(rc0, SEG_OK);
    ck_assert_uint_gt(stray0, 0);

    seg_test_alloc ta;
    alloc_init(&ta);

    watch_begin();
    seg_frame *frame = NULL;
    int32_t rc = exercise_frame(&ta.base, &frame);
    seg_frame_free(frame);
    size_t stray = watch_end();
    ck_assert_int_eq(rc, SEG_OK);
    ck_assert_msg(stray == 0, "frame: %zu C library allocation calls", stray);

    watch_begin();
    seg_rfm *model = NULL;
    rc = exercise_model(&ta.base, &model);
    seg_rfm_free(model);
    stray = watch_end();
    ck_assert_int_eq(rc, SEG_OK);
    ck_assert_msg(stray == 0, "model: %zu C library allocation calls", stray);

    watch_begin();
    seg_rfm_scheme *s[4] = {NULL, NULL, NULL, NULL};
    rc = exercise_schemes(&ta.base, s);
    for (size_t i = 0; i < 4; i++)
        seg_rfm_scheme_free(s[i]);
    stray = watch_end();
    ck_assert_int_eq(rc, SEG_OK);
    ck_assert_msg(stray == 0, "schemes: %zu C library allocation calls", stray);

    /* Load (parser) too. */
    seg_rfm *src = NULL;
    ck_assert_int_eq(exercise_model(NULL, &src), SEG_OK);
    size_t len = 0;
    ck_assert_int_eq(seg_rfm_save(src, NULL, 0, &len), SEG_OK);
    char *text = malloc(len + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(seg_rfm_save(src, text, len + 1, &len), SEG_OK);
    seg_rfm_free(src);
    char err[256] = "";
    watch_begin();
    seg_rfm *loaded = NULL;
    rc = seg_rfm_load(&loaded, text, len, &ta.base, err, sizeof err);
    seg_rfm_free(loaded);
    stray = watch_end();
    free(text);
    ck_assert_msg(rc == SEG_OK, "load: %s", err);
    ck_assert_msg(stray == 0, "load: %zu C library allocation calls", stray);

    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
#endif
}
END_TEST

/* ========================================================================
 * Allocation failures: fail the N-th allocation for N = 0, 1, 2, ...
 * In one-shot mode only that attempt fails; in sticky mode every later
 * attempt fails as well (exercises cleanup paths after a failure).
 * ====================================================================== */

/* Adds column `i` of alloc_fail_frame's 4-row frame: double, int64 and
 * int32 in turn (row 3 holds 4, 8 and 12), odd columns with a validity
 * bitmap. */
static int32_t add_test_column(seg_frame *f, int i, const char *name)
{
    static const double d[4] = {1, 2, 3, 4};
    static const int64_t i64[4] = {5, 6, 7, 8};
    static const int32_t i32[4] = {9, 10, 11, 12};
    static const uint8_t valid[1] = {0x0B};
    const uint8_t *v = i % 2 ? valid : NULL;
    if (i % 3 == 0)
        return seg_frame_add_double(f, name, d, v);
    if (i % 3 == 1)
        return seg_frame_add_int64(f, name, i64, v);
    return seg_frame_add_int32(f, name, i32, v);
}

/* Builds a frame and adds columns; on a failed add, checks the frame is
 * unchanged, then retries without failures. */
START_TEST(alloc_fail_frame)
{
    const int sticky = _i;
    int done = 0;
    for (size_t step = 0; !done; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        arm_failure(&ta, sticky, step);

        seg_frame *f = CANARY_PTR;
        int32_t rc = seg_frame_new(&f, 4, &ta.base);
        if (constructor_failed(rc, f, &ta))
            continue;

        char name[32];
        for (int i = 0; i < 12; i++) {
            snprintf(name, sizeof name, "col%d_%s", i, i % 2 ? "名前" : "x");
            size_t before_cols = seg_frame_n_columns(f);
            size_t before_failures = ta.failures;
            rc = add_test_column(f, i, name);
            if (ta.failures != before_failures) {
                ck_assert_msg(rc == SEG_ENOMEM, "step %zu add %d: rc %d", step, i, (int)rc);
                ck_assert_uint_eq(seg_frame_n_columns(f), before_cols);
                size_t idx = 12345;
                ck_assert_int_eq(seg_frame_find(f, name, &idx), SEG_ENOTFOUND);
                ck_assert_uint_eq(idx, 12345);
                ck_assert_str_ne(seg_frame_last_error(f), "");
                /* Unchanged and usable: the same add now succeeds. */
                seg_test_alloc_no_fail(&ta);
                rc = add_test_column(f, i, name);
            }
            ck_assert_msg(rc == SEG_OK, "step %zu add %d: rc %d", step, i, (int)rc);
            ck_assert_uint_eq(seg_frame_n_columns(f), before_cols + 1);
        }
        /* Every column reads back whatever the failure history. */
        for (size_t c = 0; c < 12; c++) {
            double v = 0;
            int32_t miss = -1;
            ck_assert_int_eq(seg_frame_get_double(f, c, 3, &v, &miss), SEG_OK);
            ck_assert_int_eq(miss, 0);
            const double want = c % 3 == 0 ? 4 : c % 3 == 1 ? 8 : 12;
            ck_assert_double_eq(v, want);
        }
        if (ta.failures == 0)
            done = 1;
        seg_frame_free(f);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
    }
}
END_TEST

START_TEST(alloc_fail_rfm_new)
{
    const int sticky = _i;
    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        arm_failure(&ta, sticky, step);
        seg_rfm *m = CANARY_PTR;
        int32_t rc = seg_rfm_new(&m, &ta.base);
        if (constructor_failed(rc, m, &ta))
            continue;
        seg_rfm_free(m);
        ck_assert_uint_eq(ta.live, 0);
        break;
    }
}
END_TEST

START_TEST(alloc_fail_scheme_builtin)
{
    const int sticky = _i;
    const int32_t builtins[] = {SEG_SCHEME_RFM10, SEG_SCHEME_RFGRID, SEG_SCHEME_CLASSIC8};
    for (size_t b = 0; b < 3; b++) {
        size_t failed_steps = 0;
        for (size_t step = 0;; step++) {
            seg_test_alloc ta;
            alloc_init_step(&ta, step);
            arm_failure(&ta, sticky, step);
            seg_rfm_scheme *s = CANARY_PTR;
            int32_t rc = seg_rfm_scheme_new_builtin(&s, builtins[b], &ta.base);
            if (ta.failures) {
                ck_assert_msg(rc == SEG_ENOMEM, "builtin %d step %zu: rc %d", (int)builtins[b],
                              step, (int)rc);
                ck_assert_ptr_eq(s, CANARY_PTR);
                ck_assert_uint_eq(ta.live, 0);
                failed_steps++;
                continue;
            }
            ck_assert_int_eq(rc, SEG_OK);
            ck_assert_uint_eq(seg_rfm_scheme_count(s), b == 2 ? 9 : 11);
            seg_rfm_scheme_free(s);
            ck_assert_uint_eq(ta.live, 0);
            ck_assert_uint_eq(ta.bad_frees, 0);
            break;
        }
        ck_assert_uint_gt(failed_steps, 0); /* it does allocate */
    }
}
END_TEST

START_TEST(alloc_fail_scheme_custom)
{
    const int sticky = _i;
    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        arm_failure(&ta, sticky, step);
        seg_rfm_scheme *s = CANARY_PTR;
        int32_t rc = seg_rfm_scheme_new(&s, 5, "others", "其他", &ta.base);
        if (constructor_failed(rc, s, &ta))
            continue;
        char id[32];
        for (int i = 0; i < 20; i++) {
            snprintf(id, sizeof id, "seg_%d", i);
            size_t before_count = seg_rfm_scheme_count(s);
            size_t before_failures = ta.failures;
            rc = seg_rfm_scheme_add(s, id, "Segment ünï", 1 + i % 5, 5, 1, 5 - i % 5, 1, 5);
            if (ta.failures != before_failures) {
                ck_assert_msg(rc == SEG_ENOMEM, "step %zu add %d: rc %d", step, i, (int)rc);
                ck_assert_uint_eq(seg_rfm_scheme_count(s), before_count);
                ck_assert_int_eq(seg_rfm_scheme_others(s), (int32_t)before_count - 1);
                int32_t found = 777;
                ck_assert_int_eq(seg_rfm_scheme_find(s, id, &found), SEG_ENOTFOUND);
                ck_assert_int_eq(found, 777);
                ck_assert_str_ne(seg_rfm_scheme_last_error(s), "");
                seg_test_alloc_no_fail(&ta);
                rc = seg_rfm_scheme_add(s, id, "Segment ünï", 1 + i % 5, 5, 1, 5 - i % 5, 1, 5);
            }
            ck_assert_int_eq(rc, SEG_OK);
            ck_assert_uint_eq(seg_rfm_scheme_count(s), before_count + 1);
            ck_assert_int_eq(seg_rfm_scheme_find(s, id, &(int32_t){0}), SEG_OK);
        }
        ck_assert_str_eq(seg_rfm_scheme_name(s, seg_rfm_scheme_others(s)), "其他");
        int done = ta.failures == 0;
        seg_rfm_scheme_free(s);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
        if (done)
            break;
    }
}
END_TEST

/* Saved text of a model, malloc'ed. */
static char *save_text(const seg_rfm *m, size_t *out_len)
{
    size_t len = 0;
    ck_assert_int_eq(seg_rfm_save(m, NULL, 0, &len), SEG_OK);
    char *text = malloc(len + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(seg_rfm_save(m, text, len + 1, &len), SEG_OK);
    if (out_len)
        *out_len = len;
    return text;
}

static void set_mixed_binning(seg_rfm *m)
{
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_R_BINNING, SEG_BINNING_R_COMPAT), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_TIES), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_M_BINS, 3), SEG_OK);
}

START_TEST(alloc_fail_fit)
{
    const int sticky = _i;

    /* Reference: a clean fit on each population. */
    seg_rfm *ref = NULL;
    ck_assert_int_eq(seg_rfm_new(&ref, NULL), SEG_OK);
    set_mixed_binning(ref);
    ck_assert_int_eq(seg_rfm_fit(ref, k_recency, k_frequency, k_monetary, N_CUST), SEG_OK);
    char *text_a = save_text(ref, NULL);
    ck_assert_int_eq(seg_rfm_fit(ref, k_recency2, k_frequency2, k_monetary2, N_CUST), SEG_OK);
    char *text_b = save_text(ref, NULL);
    seg_rfm_free(ref);
    ck_assert_str_ne(text_a, text_b);

    /* First fit of a fresh model. */
    size_t failed_steps = 0;
    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        seg_rfm *m = NULL;
        ck_assert_int_eq(seg_rfm_new(&m, &ta.base), SEG_OK);
        set_mixed_binning(m);
        size_t live0 = ta.live;
        arm_failure(&ta, sticky, step);
        int32_t rc = seg_rfm_fit(m, k_recency, k_frequency, k_monetary, N_CUST);
        int failed = ta.failures != 0;
        seg_test_alloc_no_fail(&ta);
        if (failed) {
            failed_steps++;
            ck_assert_msg(rc == SEG_ENOMEM, "step %zu: rc %d", step, (int)rc);
            ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
            ck_assert_str_ne(seg_rfm_last_error(m), "");
            ck_assert_uint_eq(ta.live, live0);
            /* Still usable: a retry fits. */
            ck_assert_int_eq(seg_rfm_fit(m, k_recency, k_frequency, k_monetary, N_CUST), SEG_OK);
        } else {
            ck_assert_int_eq(rc, SEG_OK);
        }
        char *t = save_text(m, NULL);
        ck_assert_str_eq(t, text_a);
        free(t);
        seg_rfm_free(m);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
        if (!failed)
            break;
    }
    ck_assert_uint_gt(failed_steps, 0); /* fitting quantiles needs scratch memory */

    /* Refit: on failure the previous thresholds stay. */
    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        seg_rfm *m = NULL;
        ck_assert_int_eq(seg_rfm_new(&m, &ta.base), SEG_OK);
        set_mixed_binning(m);
        ck_assert_int_eq(seg_rfm_fit(m, k_recency, k_frequency, k_monetary, N_CUST), SEG_OK);
        size_t live0 = ta.live;
        arm_failure(&ta, sticky, step);
        int32_t rc = seg_rfm_fit(m, k_recency2, k_frequency2, k_monetary2, N_CUST);
        int failed = ta.failures != 0;
        seg_test_alloc_no_fail(&ta);
        char *t = save_text(m, NULL);
        if (failed) {
            ck_assert_msg(rc == SEG_ENOMEM, "step %zu: rc %d", step, (int)rc);
            ck_assert_uint_eq(ta.live, live0);
            ck_assert_int_eq(seg_rfm_is_fitted(m), 1);
            ck_assert_str_eq(t, text_a);
        } else {
            ck_assert_int_eq(rc, SEG_OK);
            ck_assert_str_eq(t, text_b);
        }
        free(t);
        seg_rfm_free(m);
        ck_assert_uint_eq(ta.live, 0);
        if (!failed)
            break;
    }
    free(text_a);
    free(text_b);
}
END_TEST

START_TEST(alloc_fail_fit_score)
{
    const int sticky = _i;
    int32_t want_r[N_CUST], want_f[N_CUST], want_m[N_CUST], want_c[N_CUST];
    double want_w[N_CUST];
    seg_rfm *ref = NULL;
    ck_assert_int_eq(seg_rfm_new(&ref, NULL), SEG_OK);
    set_mixed_binning(ref);
    ck_assert_int_eq(seg_rfm_fit_score(ref, k_recency, k_frequency, k_monetary, N_CUST, want_r,
                                       want_f, want_m, want_c, want_w),
                     SEG_OK);
    seg_rfm_free(ref);

    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        seg_rfm *m = NULL;
        ck_assert_int_eq(seg_rfm_new(&m, &ta.base), SEG_OK);
        set_mixed_binning(m);
        size_t live0 = ta.live;
        int32_t r[N_CUST], f[N_CUST], mm[N_CUST], c[N_CUST];
        double w[N_CUST];
        for (size_t i = 0; i < N_CUST; i++) {
            r[i] = f[i] = mm[i] = c[i] = CANARY_I32;
            w[i] = CANARY_DBL;
        }
        arm_failure(&ta, sticky, step);
        int32_t rc = seg_rfm_fit_score(m, k_recency, k_frequency, k_monetary, N_CUST, r, f, mm, c,
                                       w);
        int failed = ta.failures != 0;
        seg_test_alloc_no_fail(&ta);
        if (failed) {
            ck_assert_msg(rc == SEG_ENOMEM, "step %zu: rc %d", step, (int)rc);
            ck_assert_int_eq(seg_rfm_is_fitted(m), 0);
            ck_assert_uint_eq(ta.live, live0);
            for (size_t i = 0; i < N_CUST; i++) {
                ck_assert_int_eq(r[i], CANARY_I32);
                ck_assert_int_eq(f[i], CANARY_I32);
                ck_assert_int_eq(mm[i], CANARY_I32);
                ck_assert_int_eq(c[i], CANARY_I32);
                ck_assert_double_eq(w[i], CANARY_DBL);
            }
        } else {
            ck_assert_int_eq(rc, SEG_OK);
            for (size_t i = 0; i < N_CUST; i++) {
                ck_assert_int_eq(r[i], want_r[i]);
                ck_assert_int_eq(f[i], want_f[i]);
                ck_assert_int_eq(mm[i], want_m[i]);
                ck_assert_int_eq(c[i], want_c[i]);
                ck_assert_double_eq(w[i], want_w[i]);
            }
        }
        seg_rfm_free(m);
        ck_assert_uint_eq(ta.live, 0);
        if (!failed)
            break;
    }
}
END_TEST

/* seg_rfm_aggregate (amounts as doubles) or, with `minor`,
 * seg_rfm_aggregate_minor (integer minor units) of the k_tx_* transactions;
 * out[0..3] are recency, frequency, monetary and tenure. */
static int32_t aggregate_tx(const seg_rfm *m, int minor, double out[][N_TX_CUST], uint8_t *has,
                            char *err, size_t err_cap)
{
    if (minor)
        return seg_rfm_aggregate_minor(m, k_tx_customer, k_tx_time, k_tx_amount_minor, N_TX,
                                       TX_ANALYSIS_TIME, N_TX_CUST, out[0], out[1], out[2],
                                       out[3], has, err, err_cap);
    return seg_rfm_aggregate(m, k_tx_customer, k_tx_time, k_tx_amount, N_TX, TX_ANALYSIS_TIME,
                             N_TX_CUST, out[0], out[1], out[2], out[3], has, err, err_cap);
}

/* seg_rfm_aggregate / _minor with the model's allocator failing. */
static void aggregate_fail_loop(int sticky, int64_t frequency_mode, int minor)
{
    double want[5][N_TX_CUST];
    uint8_t want_has[N_TX_CUST];
    char err[256] = "";
    seg_rfm *ref = NULL;
    ck_assert_int_eq(seg_rfm_new(&ref, NULL), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_param(ref, SEG_RFM_PARAM_FREQUENCY, frequency_mode), SEG_OK);
    int32_t rc = aggregate_tx(ref, minor, want, want_has, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "reference aggregate: %s", err);
    seg_rfm_free(ref);
    /* Customer 3 has no rows. */
    ck_assert_int_eq(want_has[3], 0);
    ck_assert_int_eq(want_has[0], 1);

    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        seg_rfm *m = NULL;
        ck_assert_int_eq(seg_rfm_new(&m, &ta.base), SEG_OK);
        ck_assert_int_eq(seg_rfm_set_param(m, SEG_RFM_PARAM_FREQUENCY, frequency_mode), SEG_OK);
        size_t live0 = ta.live;
        double out[5][N_TX_CUST];
        uint8_t has[N_TX_CUST];
        for (size_t k = 0; k < 5; k++)
            for (size_t i = 0; i < N_TX_CUST; i++)
                out[k][i] = CANARY_DBL;
        memset(has, CANARY_U8, sizeof has);
        arm_failure(&ta, sticky, step);
        rc = aggregate_tx(m, minor, out, has, err, sizeof err);
        int failed = ta.failures != 0;
        seg_test_alloc_no_fail(&ta);
        ck_assert_uint_eq(ta.live, live0); /* no scratch block left over */
        if (failed) {
            ck_assert_msg(rc == SEG_ENOMEM, "step %zu: rc %d", step, (int)rc);
            for (size_t k = 0; k < 4; k++)
                for (size_t i = 0; i < N_TX_CUST; i++)
                    ck_assert_double_eq(out[k][i], CANARY_DBL);
            for (size_t i = 0; i < N_TX_CUST; i++)
                ck_assert_int_eq(has[i], CANARY_U8);
        } else {
            ck_assert_msg(rc == SEG_OK, "step %zu: %s", step, err);
            for (size_t k = 0; k < 4; k++)
                for (size_t i = 0; i < N_TX_CUST; i++) {
                    if (isnan(want[k][i]))
                        ck_assert(isnan(out[k][i]));
                    else
                        ck_assert_double_eq(out[k][i], want[k][i]);
                }
            ck_assert_mem_eq(has, want_has, sizeof has);
        }
        seg_rfm_free(m);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
        if (!failed)
            break;
    }
}

START_TEST(alloc_fail_aggregate)
{
    aggregate_fail_loop(_i, SEG_FREQUENCY_TRANSACTIONS, 0);
    aggregate_fail_loop(_i, SEG_FREQUENCY_DAYS, 0);
    aggregate_fail_loop(_i, SEG_FREQUENCY_TRANSACTIONS, 1);
    aggregate_fail_loop(_i, SEG_FREQUENCY_DAYS, 1);
}
END_TEST

START_TEST(alloc_fail_load)
{
    const int sticky = _i;
    seg_rfm *src = NULL;
    ck_assert_int_eq(seg_rfm_new(&src, NULL), SEG_OK);
    set_mixed_binning(src);
    const double fixed[2] = {2.5, 10};
    ck_assert_int_eq(seg_rfm_set_thresholds(src, SEG_RFM_F, fixed, 2), SEG_OK);
    ck_assert_int_eq(seg_rfm_set_weights(src, 0.5, 0.25, 0.125), SEG_OK);
    ck_assert_int_eq(seg_rfm_fit(src, k_recency, k_frequency, k_monetary, N_CUST), SEG_OK);
    size_t len = 0;
    char *text = save_text(src, &len);
    seg_rfm_free(src);

    size_t failed_steps = 0;
    for (size_t step = 0;; step++) {
        seg_test_alloc ta;
        alloc_init_step(&ta, step);
        arm_failure(&ta, sticky, step);
        seg_rfm *m = CANARY_PTR;
        char err[256] = "";
        int32_t rc = seg_rfm_load(&m, text, len, &ta.base, err, sizeof err);
        if (ta.failures) {
            failed_steps++;
            ck_assert_msg(rc == SEG_ENOMEM, "step %zu: rc %d (%s)", step, (int)rc, err);
            ck_assert_ptr_eq(m, CANARY_PTR);
            ck_assert_uint_eq(ta.live, 0);
            ck_assert_uint_eq(ta.bad_frees, 0);
            continue;
        }
        ck_assert_msg(rc == SEG_OK, "step %zu: %s", step, err);
        char *again = save_text(m, NULL);
        ck_assert_str_eq(again, text);
        free(again);
        seg_rfm_free(m);
        ck_assert_uint_eq(ta.live, 0);
        break;
    }
    ck_assert_uint_gt(failed_steps, 0);
    free(text);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");

    TCase *tc = tcase_create("status");
    tcase_add_test(tc, status_values_are_stable);
    tcase_add_test(tc, status_str_known_codes);
    tcase_add_test(tc, status_str_unknown_codes);
    tcase_add_test(tc, messages_quote_bad_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("version");
    tcase_add_test(tc, version_macros_consistent);
    tcase_add_test(tc, version_runtime_matches_headers);
    tcase_add_test(tc, version_at_least);
    suite_add_tcase(s, tc);

    tc = tcase_create("allocator");
    tcase_add_test(tc, allocator_init_fills_fields);
    tcase_add_test(tc, allocator_init_bad_args);
    tcase_add_test(tc, allocator_null_selects_libc);
    tcase_add_test(tc, allocator_struct_too_small);
    tcase_add_test(tc, allocator_struct_larger);
    tcase_add_test(tc, allocator_struct_null_hook);
    tcase_add_test(tc, allocator_used_and_balanced);
    tcase_add_test(tc, allocator_per_handle);
    tcase_add_test(tc, no_c_library_allocation_behind_the_hooks);
    suite_add_tcase(s, tc);

    /* Loop index: 0 = one-shot failure, 1 = sticky failure. */
    tc = tcase_create("alloc_failure");
    tcase_add_loop_test(tc, alloc_fail_frame, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_rfm_new, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_scheme_builtin, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_scheme_custom, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_fit, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_fit_score, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_aggregate, 0, 2);
    tcase_add_loop_test(tc, alloc_fail_load, 0, 2);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return seg_test_run(common_suite());
}
