/* SPDX-License-Identifier: MIT */
/*
 * Tests of tag sets (include/segment/tagset.h): creation and the registry
 * reference, single-row and bulk setters with every bad input, the four
 * chunk forms (empty, sorted list, bitmap, full) and the memory they cost,
 * exclusive groups in every setter, co-occurrence, rule tags evaluated over
 * a frame (dependency order, groups, disabled and draft rules, errors
 * pointing into the registry text), model tags from label arrays (tiers,
 * RFM segments), freezing, threads, and failing allocations.
 *
 * Expected values are worked out by hand in the comments next to them, or
 * computed by a naive byte-per-row model of the documented semantics
 * (`model` below), never by the library itself.
 *
 * Rows are split into chunks of 65536. BIG_N = 200003 rows gives three
 * full chunks and a last chunk of 3395 rows (196608..200002).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define CHUNK 65536
#define BIG_N ((size_t)200003)
#define BIG_CHUNKS ((size_t)4)
#define LAST_BEGIN ((size_t)3 * CHUNK) /* 196608 */
#define LAST_ROWS (BIG_N - LAST_BEGIN)  /* 3395 */
/* What a tag may cost besides its containers: tagset.h allows 16 bytes per chunk. */
#define DIR_BYTES(chunks) ((size_t)16 * (chunks))
/* Allowance for a sorted list's spare capacity (a few entries). */
#define LIST_SLACK 64

#define MAXT 16

/* ---- small helpers ------------------------------------------------------- */

/* A message naming a tag by its name or its id. */
#define ASSERT_TAG(msg, name, id)                                                              \
    ck_assert_msg(seg_test_has_word((msg), (name)) || seg_test_names_number((msg), (id)),      \
                  "message \"%s\" names neither '%s' nor %d", (msg), (name), (int)(id))
/* A message about a bad `value` argument (0/1 flag). */
#define ASSERT_VALUE(msg, v)                                                                   \
    ck_assert_msg(seg_test_has_word((msg), "value") || seg_test_names_number((msg), (v)),      \
                  "message \"%s\" does not name the value %d", (msg), (int)(v))

/* ---- registries ----------------------------------------------------------- */

static void reg_add(seg_tagreg *r, int32_t id, const char *name)
{
    int32_t got = CANARY_I32;
    int32_t rc = seg_tagreg_add(r, id, name, &got);
    ck_assert_msg(rc == SEG_OK, "add %d '%s': %d %s", (int)id, name, (int)rc,
                  seg_tagreg_last_error(r));
    ck_assert_int_eq(got, id);
}

static void reg_text(seg_tagreg *r, int32_t id, int32_t field, const char *value)
{
    int32_t rc = seg_tagreg_set_text(r, id, field, value);
    ck_assert_msg(rc == SEG_OK, "set_text %d %d '%s': %d %s", (int)id, (int)field, value,
                  (int)rc, seg_tagreg_last_error(r));
}

static seg_tagreg *load_reg(const char *text, const char *source, const seg_allocator *alloc)
{
    seg_tagreg *r = NULL;
    char err[512] = "";
    int32_t rc = seg_tagreg_load(&r, text, strlen(text), source, alloc, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load: %d %s", (int)rc, err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 1);
    return r;
}

/* The main registry, built through the API:
 *   1 vip
 *   2 新客   group lifecycle
 *   3 活跃   group lifecycle
 *   4 流失   group "Lifecycle" (the same group after normalisation)
 *   5 churn_risk
 *   7 high_value                (there is no tag 6)                      */
enum { T_VIP = 1, T_NEW = 2, T_ACTIVE = 3, T_LOST = 4, T_RISK = 5, T_HIGH = 7 };
#define MAIN_K 6
static const int32_t MAIN_IDS[MAIN_K] = {T_VIP, T_NEW, T_ACTIVE, T_LOST, T_RISK, T_HIGH};
static const int MAIN_GROUP[MAIN_K] = {0, 1, 1, 1, 0, 0};

static seg_tagreg *main_reg_unfrozen(const seg_allocator *alloc)
{
    seg_tagreg *r = NULL;
    ck_assert_int_eq(seg_tagreg_new(&r, alloc), SEG_OK);
    reg_add(r, T_VIP, "vip");
    reg_add(r, T_NEW, "新客");
    reg_add(r, T_ACTIVE, "活跃");
    reg_add(r, T_LOST, "流失");
    reg_add(r, T_RISK, "churn_risk");
    reg_add(r, T_HIGH, "high_value");
    reg_text(r, T_NEW, SEG_TAG_GROUP, "lifecycle");
    reg_text(r, T_ACTIVE, SEG_TAG_GROUP, "lifecycle");
    reg_text(r, T_LOST, SEG_TAG_GROUP, "Lifecycle");
    return r;
}

static seg_tagreg *main_reg(const seg_allocator *alloc)
{
    seg_tagreg *r = main_reg_unfrozen(alloc);
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    return r;
}

/* ---- tag-set wrappers ------------------------------------------------------ */

static seg_tagset *new_set(const seg_tagreg *reg, size_t n, const seg_allocator *alloc)
{
    seg_tagset *s = NULL;
    int32_t rc = seg_tagset_new(&s, reg, n, alloc);
    ck_assert_msg(rc == SEG_OK, "seg_tagset_new(%zu): %d", n, (int)rc);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(seg_tagset_n_rows(s), n);
    return s;
}

static void set_ok(seg_tagset *s, int32_t id, int64_t row, int32_t v)
{
    char err[256] = "";
    int32_t rc = seg_tagset_set(s, id, row, v, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "set tag %d row %lld = %d: %d %s", (int)id, (long long)row,
                  (int)v, (int)rc, err);
}

static void rows_ok(seg_tagset *s, int32_t id, const int64_t *rows, size_t n, int32_t v)
{
    char err[256] = "";
    int32_t rc = seg_tagset_set_rows(s, id, rows, n, v, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "set_rows tag %d (%zu rows) = %d: %d %s", (int)id, n, (int)v,
                  (int)rc, err);
}

static void mask_ok(seg_tagset *s, int32_t id, const uint8_t *mask, size_t n, int32_t v)
{
    char err[256] = "";
    int32_t rc = seg_tagset_set_mask(s, id, mask, n, v, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "set_mask tag %d = %d: %d %s", (int)id, (int)v, (int)rc, err);
}

static int32_t has(const seg_tagset *s, int32_t id, int64_t row)
{
    int32_t v = CANARY_I32;
    int32_t rc = seg_tagset_test(s, id, row, &v);
    ck_assert_msg(rc == SEG_OK, "test tag %d row %lld: %d", (int)id, (long long)row, (int)rc);
    ck_assert_msg(v == 0 || v == 1, "test tag %d row %lld gave %d", (int)id, (long long)row,
                  (int)v);
    return v;
}

static int64_t count_of(const seg_tagset *s, int32_t id)
{
    int64_t c = CANARY_I64;
    ck_assert_int_eq(seg_tagset_count(s, id, &c), SEG_OK);
    return c;
}

static size_t mem_of(const seg_tagset *s, int32_t id)
{
    size_t m = CANARY_SIZE;
    ck_assert_int_eq(seg_tagset_memory(s, id, &m), SEG_OK);
    ck_assert(m != CANARY_SIZE);
    return m;
}

/* get_mask into a malloc'd buffer. */
static uint8_t *mask_of(const seg_tagset *s, int32_t id)
{
    size_t n = seg_tagset_n_rows(s);
    uint8_t *m = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(seg_tagset_get_mask(s, id, m, n), SEG_OK);
    for (size_t i = 0; i < n; i++)
        if (m[i] != 0 && m[i] != 1) /* (ck_assert per row would be slow: a pipe write each) */
            ck_abort_msg("get_mask tag %d row %zu = %d", (int)id, i, m[i]);
    return m;
}

/* Asserts that tag `id` is held exactly on the `k` rows listed (ascending). */
static void expect_rows(const seg_tagset *s, int32_t id, const int64_t *rows, size_t k,
                        const char *what)
{
    size_t n = seg_tagset_n_rows(s);
    uint8_t *m = mask_of(s, id);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int want = j < k && (size_t)rows[j] == i;
        if (want)
            j++;
        ck_assert_msg(m[i] == want, "%s: tag %d row %zu: mask %d, expected %d", what, (int)id,
                      i, m[i], want);
        ck_assert_msg(has(s, id, (int64_t)i) == want, "%s: tag %d row %zu: test, expected %d",
                      what, (int)id, i, want);
    }
    ck_assert_uint_eq(j, k);
    ck_assert_msg(count_of(s, id) == (int64_t)k, "%s: tag %d count %lld, expected %zu", what,
                  (int)id, (long long)count_of(s, id), k);
    free(m);
}

#define EXPECT(s, id, what, ...)                                                               \
    do {                                                                                       \
        static const int64_t rows_[] = {__VA_ARGS__};                                          \
        expect_rows((s), (id), rows_, sizeof rows_ / sizeof *rows_, (what));                   \
    } while (0)
#define EXPECT_NONE(s, id, what) expect_rows((s), (id), NULL, 0, (what))

/* ---- the naive model -------------------------------------------------------- */

/* One byte per row and tag; setting a grouped tag clears the other tags of
 * its group on that row (tagset.h). */
typedef struct model {
    size_t n;
    int k;
    int32_t ids[MAXT];
    int group[MAXT];
    uint8_t *bits[MAXT];
} model;

static void model_init(model *m, size_t n, int k, const int32_t *ids, const int *group)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->k = k;
    for (int t = 0; t < k; t++) {
        m->ids[t] = ids[t];
        m->group[t] = group[t];
        m->bits[t] = calloc(n ? n : 1, 1);
        ck_assert_ptr_nonnull(m->bits[t]);
    }
}

static void model_free(model *m)
{
    for (int t = 0; t < m->k; t++)
        free(m->bits[t]);
}

static int model_idx(const model *m, int32_t id)
{
    for (int t = 0; t < m->k; t++)
        if (m->ids[t] == id)
            return t;
    ck_abort_msg("tag %d not in the model", (int)id);
    return -1;
}

static void model_put(model *m, int32_t id, size_t row, int v)
{
    int t = model_idx(m, id);
    if (v && m->group[t])
        for (int u = 0; u < m->k; u++)
            if (u != t && m->group[u] == m->group[t])
                m->bits[u][row] = 0;
    m->bits[t][row] = (uint8_t)(v != 0);
}

static int64_t model_count(const model *m, int32_t id)
{
    int t = model_idx(m, id);
    int64_t c = 0;
    for (size_t i = 0; i < m->n; i++)
        c += m->bits[t][i];
    return c;
}

static void model_check(const seg_tagset *s, const model *m, const char *what)
{
    uint8_t *got = malloc(m->n ? m->n : 1);
    ck_assert_ptr_nonnull(got);
    for (int t = 0; t < m->k; t++) {
        ck_assert_int_eq(seg_tagset_get_mask(s, m->ids[t], got, m->n), SEG_OK);
        int64_t c = 0;
        for (size_t i = 0; i < m->n; i++) {
            if (got[i] != m->bits[t][i])
                ck_abort_msg("%s: tag %d row %zu: mask %d, expected %d", what, (int)m->ids[t], i,
                             got[i], m->bits[t][i]);
            c += m->bits[t][i];
        }
        int64_t cs = count_of(s, m->ids[t]);
        ck_assert_msg(cs == c, "%s: tag %d count %lld, expected %lld", what, (int)m->ids[t],
                      (long long)cs, (long long)c);
    }
    free(got);
}

/* ---- snapshots, for "the set is unchanged" ------------------------------------ */

typedef struct snap {
    size_t n, k;
    int32_t ids[MAXT];
    uint8_t *masks;
    int64_t counts[MAXT];
    size_t mem[MAXT];
    size_t mem0;
} snap;

static void snap_take(snap *sn, const seg_tagset *s)
{
    const seg_tagreg *r = seg_tagset_registry(s);
    ck_assert_ptr_nonnull(r);
    sn->k = seg_tagreg_count(r);
    ck_assert(sn->k <= MAXT);
    sn->n = seg_tagset_n_rows(s);
    sn->masks = malloc(sn->k * sn->n + 1);
    ck_assert_ptr_nonnull(sn->masks);
    for (size_t t = 0; t < sn->k; t++) {
        sn->ids[t] = seg_tagreg_id_at(r, t);
        ck_assert_int_eq(seg_tagset_get_mask(s, sn->ids[t], sn->masks + t * sn->n, sn->n),
                         SEG_OK);
        sn->counts[t] = count_of(s, sn->ids[t]);
        sn->mem[t] = mem_of(s, sn->ids[t]);
    }
    sn->mem0 = mem_of(s, 0);
}

static void snap_check(const snap *sn, const seg_tagset *s, const char *what)
{
    uint8_t *m = malloc(sn->n ? sn->n : 1);
    ck_assert_ptr_nonnull(m);
    for (size_t t = 0; t < sn->k; t++) {
        ck_assert_int_eq(seg_tagset_get_mask(s, sn->ids[t], m, sn->n), SEG_OK);
        const uint8_t *want = sn->masks + t * sn->n;
        if (memcmp(m, want, sn->n) != 0) {
            size_t i = 0;
            while (m[i] == want[i])
                i++;
            ck_abort_msg("%s: tag %d changed at row %zu (%d, was %d)", what, (int)sn->ids[t], i,
                         m[i], want[i]);
        }
        ck_assert_msg(count_of(s, sn->ids[t]) == sn->counts[t], "%s: tag %d count changed",
                      what, (int)sn->ids[t]);
        size_t mem = mem_of(s, sn->ids[t]);
        ck_assert_msg(mem == sn->mem[t], "%s: tag %d memory %zu, was %zu", what,
                      (int)sn->ids[t], mem, sn->mem[t]);
    }
    size_t mem0 = mem_of(s, 0);
    ck_assert_msg(mem0 == sn->mem0, "%s: set memory %zu, was %zu", what, mem0, sn->mem0);
    free(m);
}

static void snap_free(snap *sn)
{
    free(sn->masks);
    sn->masks = NULL;
}

/* ============================================================================= */
/* ---- creation -------------------------------------------------------------- */

START_TEST(new_errors)
{
    seg_tagreg *r = main_reg_unfrozen(NULL);
    seg_tagset *s = CANARY_PTR, *sentinel = s;

    /* Not frozen. */
    ck_assert_int_eq(seg_tagreg_is_frozen(r), 0);
    ck_assert_int_eq(seg_tagset_new(&s, r, 10, NULL), SEG_ESTATE);
    ck_assert_ptr_eq(s, sentinel);
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);

    ck_assert_int_eq(seg_tagset_new(NULL, r, 10, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_new(&s, NULL, 10, NULL), SEG_EINVAL);
    ck_assert_ptr_eq(s, sentinel);

    /* At most 2^40 rows. */
    ck_assert_int_eq(seg_tagset_new(&s, r, ((size_t)1 << 40) + 1, NULL), SEG_ERANGE);
    ck_assert_ptr_eq(s, sentinel);
    ck_assert_int_eq(seg_tagset_new(&s, r, SIZE_MAX, NULL), SEG_ERANGE);
    ck_assert_ptr_eq(s, sentinel);

    /* Allocator of an unknown (larger) size with a non-zero tail. */
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    struct {
        seg_allocator a;
        uint64_t tail;
    } big;
    memset(&big, 0, sizeof big);
    big.a = ta.base;
    big.a.struct_size = (uint32_t)sizeof big;
    big.tail = 1;
    ck_assert_int_eq(seg_tagset_new(&s, r, 10, &big.a), SEG_EVERSION);
    ck_assert_ptr_eq(s, sentinel);
    ck_assert_uint_eq(ta.live, 0);
    /* ... and with an all-zero tail it is accepted. */
    big.tail = 0;
    ck_assert_int_eq(seg_tagset_new(&s, r, 10, &big.a), SEG_OK);
    ck_assert_ptr_ne(s, sentinel);
    ck_assert_uint_eq(seg_tagset_n_rows(s), 10);
    ck_assert_ptr_eq(seg_tagset_registry(s), r);
    for (int t = 0; t < MAIN_K; t++)
        ck_assert_int_eq(count_of(s, MAIN_IDS[t]), 0);
    seg_tagset_free(s);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);

    /* NULL handles. */
    ck_assert_uint_eq(seg_tagset_n_rows(NULL), 0);
    ck_assert_ptr_null(seg_tagset_registry(NULL));
    seg_tagset_free(NULL);
    seg_tagreg_free(r);
}
END_TEST

/* A set of 0 rows works: every count is 0, every row is out of range. */
START_TEST(zero_rows)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, 0, NULL);
    char err[256];
    uint8_t one = 1, out = CANARY_U8;
    for (int t = 0; t < MAIN_K; t++) {
        ck_assert_int_eq(count_of(s, MAIN_IDS[t]), 0);
        /* No chunk: no bytes (tagset.h: n/8 plus 16 bytes per chunk). */
        ck_assert_uint_eq(mem_of(s, MAIN_IDS[t]), 0);
    }
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, 0, 1, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, NULL, 0, 1, err, sizeof err), SEG_OK);
    int64_t row0 = 0;
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, &row0, 1, 1, err, sizeof err), SEG_EDATA);
    ck_assert_int_eq(seg_tagset_set_mask(s, T_VIP, &one, 0, 1, err, sizeof err), SEG_OK);
    ck_assert_int_eq(seg_tagset_get_mask(s, T_VIP, &out, 0), SEG_OK);
    ck_assert_int_eq(out, CANARY_U8);
    ck_assert_int_eq(seg_tagset_reset(s, T_VIP), SEG_OK);
    int64_t m[4] = {CANARY_I64, CANARY_I64, CANARY_I64, CANARY_I64};
    int32_t ids[2] = {T_VIP, T_NEW};
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 2, m, err, sizeof err), SEG_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(m[i], 0);
    int32_t v = CANARY_I32;
    ck_assert_int_eq(seg_tagset_test(s, T_VIP, 0, &v), SEG_ERANGE);
    ck_assert_int_eq(v, CANARY_I32);
    ck_assert_int_eq(count_of(s, T_VIP), 0);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Sets hold a reference to the registry: freeing the registry first keeps
 * it alive (the counting allocator still holds its blocks) until the last
 * set goes. */
START_TEST(registry_freed_first)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_tagreg *r = main_reg(&ta.base);
    size_t reg_live = ta.live;
    ck_assert_uint_gt(reg_live, 0);
    seg_tagset *a = new_set(r, 100, NULL);
    seg_tagset *b = new_set(r, 5, NULL);
    ck_assert_uint_eq(ta.live, reg_live); /* the sets use the C library */
    size_t frees = ta.frees;
    seg_tagreg_free(r);
    ck_assert_uint_eq(ta.live, reg_live); /* still referenced */
    ck_assert_uint_eq(ta.frees, frees);

    const seg_tagreg *ra = seg_tagset_registry(a);
    ck_assert_ptr_nonnull(ra);
    ck_assert_str_eq(seg_tagreg_name(ra, T_VIP), "vip");
    int32_t id = 0;
    ck_assert_int_eq(seg_tagreg_find(ra, "ＶＩＰ", &id), SEG_OK);
    ck_assert_int_eq(id, T_VIP);
    set_ok(a, T_VIP, 99, 1);
    set_ok(a, T_NEW, 99, 1);
    set_ok(a, T_ACTIVE, 99, 1); /* the group still works */
    ck_assert_int_eq(has(a, T_VIP, 99), 1);
    ck_assert_int_eq(has(a, T_NEW, 99), 0);
    ck_assert_int_eq(has(a, T_ACTIVE, 99), 1);
    seg_tagset_free(a);
    ck_assert_uint_eq(ta.live, reg_live); /* b still holds it */
    ck_assert_str_eq(seg_tagreg_name(seg_tagset_registry(b), T_LOST), "流失");
    set_ok(b, T_LOST, 4, 1);
    ck_assert_int_eq(count_of(b, T_LOST), 1);
    seg_tagset_free(b);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
}
END_TEST

/* ---- single rows ------------------------------------------------------------ */

START_TEST(set_and_test_single)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    char err[256];
    /* Chunk borders and the very last row. */
    set_ok(s, T_VIP, 0, 1);
    set_ok(s, T_VIP, CHUNK - 1, 1);
    set_ok(s, T_VIP, CHUNK, 1);
    set_ok(s, T_VIP, (int64_t)BIG_N - 1, 1);
    EXPECT(s, T_VIP, "four rows", 0, CHUNK - 1, CHUNK, (int64_t)BIG_N - 1);
    ck_assert_int_eq(has(s, T_VIP, 1), 0);
    ck_assert_int_eq(has(s, T_VIP, CHUNK - 2), 0);
    ck_assert_int_eq(has(s, T_VIP, CHUNK + 1), 0);
    ck_assert_int_eq(has(s, T_VIP, (int64_t)BIG_N - 2), 0);
    /* Setting again changes nothing; other tags are untouched. */
    set_ok(s, T_VIP, CHUNK, 1);
    ck_assert_int_eq(count_of(s, T_VIP), 4);
    for (int t = 1; t < MAIN_K; t++)
        ck_assert_int_eq(count_of(s, MAIN_IDS[t]), 0);
    /* Clearing a held row and a row not held. */
    set_ok(s, T_VIP, CHUNK - 1, 0);
    set_ok(s, T_VIP, 5, 0);
    EXPECT(s, T_VIP, "after clearing", 0, CHUNK, (int64_t)BIG_N - 1);

    /* Bad inputs: the exact status, a message naming the problem, no change. */
    ck_assert_int_eq(seg_tagset_set(NULL, T_VIP, 1, 1, err, sizeof err), SEG_EINVAL);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, 1, 2, err, sizeof err), SEG_EINVAL);
    ASSERT_VALUE(err, 2);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, 1, -1, err, sizeof err), SEG_EINVAL);
    ASSERT_VALUE(err, -1);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set(s, 6, 1, 1, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 6);
    ck_assert_int_eq(seg_tagset_set(s, 0, 1, 1, err, sizeof err), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_set(s, -3, 1, 1, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, -3);
    ck_assert_int_eq(seg_tagset_set(s, 123456, 1, 1, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 123456);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, -1, 1, err, sizeof err), SEG_ERANGE);
    SEG_ASSERT_NUM(err, -1);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, (int64_t)BIG_N, 1, err, sizeof err), SEG_ERANGE);
    SEG_ASSERT_NUM(err, (long long)BIG_N);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, INT64_MIN, 1, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, INT64_MAX, 0, err, sizeof err), SEG_ERANGE);
    /* NULL err_buf is fine. */
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, (int64_t)BIG_N, 1, NULL, 0), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, 7, 1, NULL, 0), SEG_OK);
    set_ok(s, T_VIP, 7, 0);
    /* A small err_buf is truncated and terminated, never overrun. */
    char small[16];
    memset(small, 'Z', sizeof small);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, (int64_t)BIG_N, 1, small, 6), SEG_ERANGE);
    ck_assert_uint_le(strlen(small), 5);
    for (size_t i = 6; i < sizeof small; i++)
        ck_assert_int_eq(small[i], 'Z');
    memset(small, 'Z', sizeof small);
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, (int64_t)BIG_N, 1, small, 0), SEG_ERANGE);
    ck_assert_int_eq(small[0], 'Z');
    EXPECT(s, T_VIP, "after bad calls", 0, CHUNK, (int64_t)BIG_N - 1);

    /* test(): bad inputs leave the output alone. */
    int32_t v = CANARY_I32;
    ck_assert_int_eq(seg_tagset_test(NULL, T_VIP, 0, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_test(s, T_VIP, 0, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_test(s, 6, 0, &v), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_test(s, 0, 0, &v), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_test(s, T_VIP, -1, &v), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_test(s, T_VIP, (int64_t)BIG_N, &v), SEG_ERANGE);
    ck_assert_int_eq(v, CANARY_I32);
    /* count(): likewise. */
    int64_t c = CANARY_I64;
    ck_assert_int_eq(seg_tagset_count(NULL, T_VIP, &c), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_count(s, T_VIP, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_count(s, 6, &c), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_count(s, 0, &c), SEG_ENOTFOUND);
    ck_assert_int_eq(c, CANARY_I64);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- set_rows ---------------------------------------------------------------- */

START_TEST(set_rows_small)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, 20, NULL);
    char err[256];
    /* Unsorted, with repeats. */
    static const int64_t a[] = {7, 3, 3, 19, 0, 7};
    rows_ok(s, T_VIP, a, 6, 1);
    EXPECT(s, T_VIP, "set 7 3 3 19 0 7", 0, 3, 7, 19);
    /* Clearing: listed rows only (12 is not held). */
    static const int64_t b[] = {3, 12, 3};
    rows_ok(s, T_VIP, b, 3, 0);
    EXPECT(s, T_VIP, "cleared 3 12 3", 0, 7, 19);
    /* n = 0 with or without rows. */
    rows_ok(s, T_VIP, NULL, 0, 1);
    rows_ok(s, T_VIP, a, 0, 0);
    EXPECT(s, T_VIP, "n = 0", 0, 7, 19);

    /* A bad row at position 7: EDATA naming the position; nothing
     * changed, not even the rows before it. */
    static const int64_t bad[] = {1, 2, 4, 5, 6, 8, 9, 25, 10};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, bad, 9, 1, err, sizeof err), SEG_EDATA);
    SEG_ASSERT_NUM(err, 7);
    EXPECT(s, T_VIP, "after bad row 25", 0, 7, 19);
    /* ... also when clearing. */
    static const int64_t bad_clear[] = {0, 7, 19, 20};
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, bad_clear, 4, 0, err, sizeof err),
                     SEG_EDATA);
    SEG_ASSERT_NUM(err, 3);
    EXPECT(s, T_VIP, "after bad clear", 0, 7, 19);
    /* Negative rows and extreme values, at positions 2 and 4. */
    static const int64_t neg[] = {11, 12, -5, 13};
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, neg, 4, 1, err, sizeof err), SEG_EDATA);
    SEG_ASSERT_NUM(err, 2);
    static const int64_t huge[] = {11, 12, 13, 14, INT64_MAX};
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, huge, 5, 1, err, sizeof err), SEG_EDATA);
    SEG_ASSERT_NUM(err, 4);
    static const int64_t tiny[] = {INT64_MIN};
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, tiny, 1, 1, err, sizeof err), SEG_EDATA);
    EXPECT(s, T_VIP, "after negative rows", 0, 7, 19);

    /* Argument errors. */
    ck_assert_int_eq(seg_tagset_set_rows(NULL, T_VIP, a, 6, 1, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, NULL, 3, 1, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_set_rows(s, T_VIP, a, 6, 2, err, sizeof err), SEG_EINVAL);
    ASSERT_VALUE(err, 2);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_rows(s, 6, a, 6, 1, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 6);
    EXPECT(s, T_VIP, "after argument errors", 0, 7, 19);
    for (int t = 1; t < MAIN_K; t++)
        EXPECT_NONE(s, MAIN_IDS[t], "other tags");
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Large lists in random order over every chunk, against the model. */
START_TEST(set_rows_large)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    model m;
    model_init(&m, BIG_N, MAIN_K, MAIN_IDS, MAIN_GROUP);
    uint64_t seed = 7;
    size_t n = 100000;
    int64_t *rows = malloc(n * sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    for (size_t i = 0; i < n; i++) {
        rows[i] = (int64_t)(seg_test_rng(&seed) % BIG_N);
        model_put(&m, T_RISK, (size_t)rows[i], 1);
    }
    rows_ok(s, T_RISK, rows, n, 1);
    model_check(s, &m, "100000 random rows");
    /* Repeats count once: fewer distinct rows than listed. */
    ck_assert_int_lt(model_count(&m, T_RISK), (int64_t)n);
    ck_assert_int_eq(count_of(s, T_RISK), model_count(&m, T_RISK));
    /* Clear 30000 random rows (some not held). */
    for (size_t i = 0; i < 30000; i++) {
        rows[i] = (int64_t)(seg_test_rng(&seed) % BIG_N);
        model_put(&m, T_RISK, (size_t)rows[i], 0);
    }
    rows_ok(s, T_RISK, rows, 30000, 0);
    model_check(s, &m, "30000 cleared");
    /* Chunk 2 in descending order: becomes full. */
    for (size_t i = 0; i < CHUNK; i++) {
        rows[i] = (int64_t)(3 * CHUNK - 1 - i);
        model_put(&m, T_HIGH, (size_t)rows[i], 1);
    }
    rows_ok(s, T_HIGH, rows, CHUNK, 1);
    model_check(s, &m, "chunk 2 full");
    ck_assert_int_eq(count_of(s, T_HIGH), CHUNK);
    ck_assert_int_eq(has(s, T_HIGH, 2 * CHUNK - 1), 0);
    ck_assert_int_eq(has(s, T_HIGH, 2 * CHUNK), 1);
    ck_assert_int_eq(has(s, T_HIGH, 3 * CHUNK - 1), 1);
    ck_assert_int_eq(has(s, T_HIGH, 3 * CHUNK), 0);
    free(rows);
    model_free(&m);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- set_mask, reset, get_mask -------------------------------------------------- */

START_TEST(set_mask_reset_get)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, 20, NULL);
    char err[256];
    set_ok(s, T_VIP, 10, 1); /* held before; its mask byte is 0 */
    uint8_t mask[20] = {0};
    mask[1] = 1;
    mask[2] = 2;
    mask[3] = 255;
    mask[19] = 0x80;
    mask_ok(s, T_VIP, mask, 20, 1);
    EXPECT(s, T_VIP, "mask 1 2 255 0x80", 1, 2, 3, 10, 19);
    /* Clearing with a mask touches only the non-zero rows. */
    uint8_t clr[20] = {0};
    clr[2] = 1;
    clr[10] = 7;
    clr[11] = 1; /* not held */
    mask_ok(s, T_VIP, clr, 20, 0);
    EXPECT(s, T_VIP, "cleared 2 10 11", 1, 3, 19);

    /* Errors: no change. */
    ck_assert_int_eq(seg_tagset_set_mask(NULL, T_VIP, mask, 20, 1, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_set_mask(s, T_VIP, NULL, 20, 1, err, sizeof err), SEG_EINVAL);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_mask(s, T_VIP, mask, 19, 1, err, sizeof err), SEG_EINVAL);
    SEG_ASSERT_NUM(err, 19);
    SEG_ASSERT_NUM(err, 20);
    ck_assert_int_eq(seg_tagset_set_mask(s, T_VIP, mask, 21, 1, err, sizeof err), SEG_EINVAL);
    SEG_ASSERT_NUM(err, 21);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_mask(s, T_VIP, mask, 20, 3, err, sizeof err), SEG_EINVAL);
    ASSERT_VALUE(err, 3);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_mask(s, 6, mask, 20, 1, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 6);
    EXPECT(s, T_VIP, "after errors", 1, 3, 19);

    /* get_mask errors leave the output alone. */
    uint8_t out[21];
    memset(out, CANARY_U8, sizeof out);
    ck_assert_int_eq(seg_tagset_get_mask(NULL, T_VIP, out, 20), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_get_mask(s, T_VIP, NULL, 20), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_get_mask(s, T_VIP, out, 19), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_get_mask(s, T_VIP, out, 21), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_get_mask(s, 6, out, 20), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_get_mask(s, 0, out, 20), SEG_ENOTFOUND);
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_int_eq(out[i], CANARY_U8);
    /* get_mask writes exactly n bytes. */
    ck_assert_int_eq(seg_tagset_get_mask(s, T_VIP, out, 20), SEG_OK);
    ck_assert_int_eq(out[20], CANARY_U8);
    ck_assert_int_eq(out[1] + out[3] + out[19], 3);

    /* reset clears one tag everywhere, and nothing else. */
    set_ok(s, T_RISK, 4, 1);
    ck_assert_int_eq(seg_tagset_reset(s, T_VIP), SEG_OK);
    EXPECT_NONE(s, T_VIP, "reset");
    EXPECT(s, T_RISK, "reset of another tag", 4);
    ck_assert_int_eq(seg_tagset_reset(s, T_VIP), SEG_OK); /* again: fine */
    ck_assert_int_eq(seg_tagset_reset(NULL, T_VIP), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_reset(s, 6), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_reset(s, 0), SEG_ENOTFOUND);
    EXPECT(s, T_RISK, "after reset errors", 4);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Random mixed operations of every setter on a big set, against the model. */
START_TEST(random_ops_vs_model)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    model m;
    model_init(&m, BIG_N, MAIN_K, MAIN_IDS, MAIN_GROUP);
    uint64_t seed = 2024;
    int64_t *rows = malloc(70000 * sizeof *rows);
    uint8_t *mask = malloc(BIG_N);
    ck_assert_ptr_nonnull(rows);
    ck_assert_ptr_nonnull(mask);
    static const uint64_t dens[5] = {0, 10, 1000, 300000, 1000000}; /* per million */
    for (int op = 0; op < 300; op++) {
        int32_t id = MAIN_IDS[seg_test_rng(&seed) % MAIN_K];
        int32_t v = (seg_test_rng(&seed) % 3) != 0; /* more sets than clears */
        switch (seg_test_rng(&seed) % 5) {
        case 0: { /* single rows */
            for (int j = 0; j < 50; j++) {
                size_t row = (size_t)(seg_test_rng(&seed) % BIG_N);
                set_ok(s, id, (int64_t)row, v);
                model_put(&m, id, row, v);
            }
            break;
        }
        case 1: { /* a run of rows, shuffled (may fill a chunk) */
            size_t len = (size_t)(seg_test_rng(&seed) % 70000) + 1;
            size_t start = (size_t)(seg_test_rng(&seed) % BIG_N);
            if (start + len > BIG_N)
                len = BIG_N - start;
            for (size_t j = 0; j < len; j++)
                rows[j] = (int64_t)(start + j);
            for (size_t j = len; j > 1; j--) {
                size_t k = (size_t)(seg_test_rng(&seed) % j);
                int64_t t = rows[j - 1];
                rows[j - 1] = rows[k];
                rows[k] = t;
            }
            rows_ok(s, id, rows, len, v);
            for (size_t j = 0; j < len; j++)
                model_put(&m, id, (size_t)rows[j], v);
            break;
        }
        case 2: { /* scattered rows with repeats */
            size_t len = (size_t)(seg_test_rng(&seed) % 20000);
            for (size_t j = 0; j < len; j++)
                rows[j] = (int64_t)(seg_test_rng(&seed) % BIG_N);
            rows_ok(s, id, rows, len, v);
            for (size_t j = 0; j < len; j++)
                model_put(&m, id, (size_t)rows[j], v);
            break;
        }
        case 3: { /* a mask of some density */
            uint64_t d = dens[seg_test_rng(&seed) % 5];
            for (size_t i = 0; i < BIG_N; i++)
                mask[i] = (uint8_t)((seg_test_rng(&seed) % 1000000) < d ? 1 + i % 255 : 0);
            mask_ok(s, id, mask, BIG_N, v);
            for (size_t i = 0; i < BIG_N; i++)
                if (mask[i])
                    model_put(&m, id, i, v);
            break;
        }
        default: /* reset, rarely */
            if (seg_test_rng(&seed) % 4 == 0) {
                ck_assert_int_eq(seg_tagset_reset(s, id), SEG_OK);
                for (size_t i = 0; i < BIG_N; i++)
                    m.bits[model_idx(&m, id)][i] = 0;
            }
            break;
        }
        if (op % 25 == 24) {
            char what[64];
            snprintf(what, sizeof what, "after op %d", op);
            model_check(s, &m, what);
            /* Group invariant: at most one lifecycle tag per row. */
            for (size_t i = 0; i < BIG_N; i += 101)
                ck_assert_int_le(has(s, T_NEW, (int64_t)i) + has(s, T_ACTIVE, (int64_t)i) +
                                     has(s, T_LOST, (int64_t)i),
                                 1);
        }
    }
    model_check(s, &m, "end");
    /* Memory never exceeds the documented bound for a tag. */
    for (int t = 0; t < MAIN_K; t++) {
        size_t mem = mem_of(s, MAIN_IDS[t]);
        ck_assert_msg(mem <= BIG_N / 8 + (16 + 8) * BIG_CHUNKS,
                      "tag %d: %zu bytes, bound n/8 + 16/chunk (+8 rounding)", (int)MAIN_IDS[t],
                      mem);
    }
    free(rows);
    free(mask);
    model_free(&m);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- chunk forms and memory --------------------------------------------------- */

/* Within chunk 1 (rows 65536..131071) of a 200003-row set: empty -> one row
 * (list) -> 2001 rows (list) -> 4096 (the largest list) -> 5000 (bitmap) ->
 * 65536 (full) -> 65535 (bitmap) -> 1000 (list) -> empty. Counts, tests and
 * memory at each stage; chunks 0 and 2 stay empty. */
START_TEST(chunk_transitions)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    model m;
    model_init(&m, BIG_N, MAIN_K, MAIN_IDS, MAIN_GROUP);
    const int32_t t = T_VIP;
    const size_t base = CHUNK;
    const size_t dir = DIR_BYTES(BIG_CHUNKS);
    int64_t *rows = malloc(CHUNK * sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    size_t mem, mem_other[MAIN_K];
    for (int k = 0; k < MAIN_K; k++)
        mem_other[k] = mem_of(s, MAIN_IDS[k]);

    /* Empty: no container bytes. */
    mem = mem_of(s, t);
    ck_assert_msg(mem <= dir, "empty tag: %zu bytes", mem);
    size_t empty_mem = mem;

    /* One row: a list of one 2-byte offset. */
    set_ok(s, t, (int64_t)(base + 5), 1);
    model_put(&m, t, base + 5, 1);
    ck_assert_int_eq(count_of(s, t), 1);
    ck_assert_int_eq(has(s, t, (int64_t)(base + 5)), 1);
    ck_assert_int_eq(has(s, t, (int64_t)(base + 4)), 0);
    mem = mem_of(s, t);
    ck_assert_msg(mem >= empty_mem + 2 && mem <= dir + LIST_SLACK, "one row: %zu bytes", mem);
    ck_assert_msg(mem * 100 < BIG_N / 8, "one row: %zu bytes is not << n/8", mem);

    /* 2001 rows (offsets 16 i, i < 2000, and 5): still a list, about 4 KB,
     * well under a bitmap's 8 KiB. */
    for (size_t i = 0; i < 2000; i++) {
        rows[i] = (int64_t)(base + 16 * i);
        model_put(&m, t, base + 16 * i, 1);
    }
    rows_ok(s, t, rows, 2000, 1);
    ck_assert_int_eq(count_of(s, t), 2001);
    mem = mem_of(s, t);
    ck_assert_msg(mem >= 2 * 2001 && mem < 8192, "2001 rows: %zu bytes (list expected)", mem);
    model_check(s, &m, "2001 rows");

    /* 4096 rows (offsets 16 i for i < 4095, and 5): the largest list
     * (8192 bytes, like a bitmap). */
    for (size_t i = 0; i < 2095; i++) {
        rows[i] = (int64_t)(base + 16 * (2000 + i));
        model_put(&m, t, base + 16 * (2000 + i), 1);
    }
    rows_ok(s, t, rows, 2095, 1);
    ck_assert_int_eq(count_of(s, t), 4096);
    mem = mem_of(s, t);
    ck_assert_msg(mem >= 8192 && mem <= 8192 + dir + LIST_SLACK, "4096 rows: %zu bytes", mem);

    /* 5000 rows (904 more at offsets 16 i + 1): a list would take 10000
     * bytes; a bitmap takes 8192. */
    for (size_t i = 0; i < 904; i++) {
        rows[i] = (int64_t)(base + 16 * i + 1);
        model_put(&m, t, base + 16 * i + 1, 1);
    }
    rows_ok(s, t, rows, 904, 1);
    ck_assert_int_eq(count_of(s, t), 5000);
    mem = mem_of(s, t);
    ck_assert_msg(mem >= 8192 && mem <= 8192 + dir, "5000 rows: %zu bytes (bitmap expected)",
                  mem);
    model_check(s, &m, "5000 rows");

    /* The whole chunk by mask: full, no container bytes. */
    uint8_t *mask = calloc(BIG_N, 1);
    ck_assert_ptr_nonnull(mask);
    memset(mask + base, 1, CHUNK);
    mask_ok(s, t, mask, BIG_N, 1);
    for (size_t i = base; i < base + CHUNK; i++)
        model_put(&m, t, i, 1);
    ck_assert_int_eq(count_of(s, t), CHUNK);
    ck_assert_int_eq(has(s, t, (int64_t)base), 1);
    ck_assert_int_eq(has(s, t, (int64_t)(base + CHUNK - 1)), 1);
    ck_assert_int_eq(has(s, t, (int64_t)base - 1), 0);
    ck_assert_int_eq(has(s, t, (int64_t)(base + CHUNK)), 0);
    mem = mem_of(s, t);
    ck_assert_msg(mem <= dir, "full chunk: %zu bytes (no container expected)", mem);
    model_check(s, &m, "full chunk");

    /* Down by one: a bitmap again. */
    set_ok(s, t, (int64_t)(base + 100), 0);
    model_put(&m, t, base + 100, 0);
    ck_assert_int_eq(count_of(s, t), CHUNK - 1);
    ck_assert_int_eq(has(s, t, (int64_t)(base + 100)), 0);
    ck_assert_int_eq(has(s, t, (int64_t)(base + 101)), 1);
    mem = mem_of(s, t);
    ck_assert_msg(mem >= 8192 && mem <= 8192 + dir, "65535 rows: %zu bytes (bitmap)", mem);

    /* Down to 1000 rows (every 64th row below base + 64000): a list again. */
    size_t nc = 0;
    for (size_t i = 0; i < CHUNK; i++)
        if (!(i % 64 == 0 && i < 64000))
            rows[nc++] = (int64_t)(base + i);
    rows_ok(s, t, rows, nc, 0);
    for (size_t j = 0; j < nc; j++)
        model_put(&m, t, (size_t)rows[j], 0);
    ck_assert_int_eq(count_of(s, t), 1000);
    mem = mem_of(s, t);
    ck_assert_msg(mem >= 2000 && mem <= 2 * 2000 + dir + LIST_SLACK,
                  "1000 rows after a bitmap: %zu bytes (list expected)", mem);
    model_check(s, &m, "back to 1000 rows");

    /* Clearing the rest by mask: empty again, as little memory as at the start. */
    memset(mask, 0, BIG_N);
    memset(mask + base, 1, CHUNK);
    mask_ok(s, t, mask, BIG_N, 0);
    for (size_t i = base; i < base + CHUNK; i++)
        model_put(&m, t, i, 0);
    ck_assert_int_eq(count_of(s, t), 0);
    mem = mem_of(s, t);
    ck_assert_msg(mem <= dir && mem == empty_mem, "cleared: %zu bytes, empty was %zu", mem,
                  empty_mem);
    model_check(s, &m, "cleared");
    for (int k = 1; k < MAIN_K; k++)
        ck_assert_uint_eq(mem_of(s, MAIN_IDS[k]), mem_other[k]);
    free(mask);
    free(rows);
    model_free(&m);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* The last chunk has 3395 rows: it can be full, its rows end at
 * 200002, and all of a 200003-row mask counts exactly 200003. */
START_TEST(last_partial_chunk)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    const size_t dir = DIR_BYTES(BIG_CHUNKS);
    int64_t *rows = malloc(LAST_ROWS * sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    for (size_t i = 0; i < LAST_ROWS; i++)
        rows[i] = (int64_t)(BIG_N - 1 - i);
    rows_ok(s, T_VIP, rows, LAST_ROWS, 1);
    ck_assert_int_eq(count_of(s, T_VIP), (int64_t)LAST_ROWS);
    ck_assert_int_eq(has(s, T_VIP, (int64_t)BIG_N - 1), 1);
    ck_assert_int_eq(has(s, T_VIP, (int64_t)LAST_BEGIN), 1);
    ck_assert_int_eq(has(s, T_VIP, (int64_t)LAST_BEGIN - 1), 0);
    size_t mem = mem_of(s, T_VIP);
    ck_assert_msg(mem <= dir, "last chunk all set: %zu bytes (full expected)", mem);
    uint8_t *m = mask_of(s, T_VIP);
    for (size_t i = 0; i < BIG_N; i++)
        if (m[i] != (i >= LAST_BEGIN))
            ck_abort_msg("row %zu: %d", i, m[i]);
    free(m);
    /* One row less: 3394 rows. */
    set_ok(s, T_VIP, (int64_t)LAST_BEGIN + 7, 0);
    ck_assert_int_eq(count_of(s, T_VIP), (int64_t)LAST_ROWS - 1);
    ck_assert_int_eq(has(s, T_VIP, (int64_t)LAST_BEGIN + 7), 0);
    ck_assert_int_eq(has(s, T_VIP, (int64_t)LAST_BEGIN + 8), 1);
    /* Out of range just past the end. */
    char err[256];
    ck_assert_int_eq(seg_tagset_set(s, T_VIP, (int64_t)BIG_N, 1, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(count_of(s, T_VIP), (int64_t)LAST_ROWS - 1);

    /* A mask of all ones: every row, exactly n rows, no bytes. */
    uint8_t *ones = malloc(BIG_N);
    ck_assert_ptr_nonnull(ones);
    memset(ones, 1, BIG_N);
    mask_ok(s, T_RISK, ones, BIG_N, 1);
    ck_assert_int_eq(count_of(s, T_RISK), (int64_t)BIG_N);
    mem = mem_of(s, T_RISK);
    ck_assert_msg(mem <= dir, "all rows: %zu bytes (full chunks expected)", mem);
    int32_t ids[2] = {T_RISK, T_VIP};
    int64_t co[4];
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 2, co, err, sizeof err), SEG_OK);
    ck_assert_int_eq(co[0], (int64_t)BIG_N);
    ck_assert_int_eq(co[1], (int64_t)LAST_ROWS - 1);
    ck_assert_int_eq(co[2], (int64_t)LAST_ROWS - 1);
    ck_assert_int_eq(co[3], (int64_t)LAST_ROWS - 1);
    free(ones);
    free(rows);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* A set of 3395 rows is one partial chunk: a dense tag there costs about
 * n/8 = 424 bytes (tagset.h: never more than n/8 plus 16 bytes per chunk;
 * 8 more allowed for rounding to words), not a full 8 KiB bitmap and not a
 * 6.8 KB list. */
START_TEST(partial_chunk_dense_memory)
{
    seg_tagreg *r = main_reg(NULL);
    const size_t n = LAST_ROWS;
    seg_tagset *s = new_set(r, n, NULL);
    int64_t *rows = malloc(n * sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    for (size_t i = 0; i < n - 1; i++)
        rows[i] = (int64_t)(i + 1); /* all but row 0 */
    rows_ok(s, T_VIP, rows, n - 1, 1);
    ck_assert_int_eq(count_of(s, T_VIP), (int64_t)n - 1);
    size_t mem = mem_of(s, T_VIP);
    ck_assert_msg(mem <= n / 8 + 16 + 8, "3394 of 3395 rows: %zu bytes, bound %zu", mem,
                  n / 8 + 16 + 8);
    /* Every other row: 1698 rows (a 3396-byte list) */
    for (size_t i = 0; i < n; i += 2)
        rows[i / 2] = (int64_t)i;
    rows_ok(s, T_RISK, rows, (n + 1) / 2, 1);
    ck_assert_int_eq(count_of(s, T_RISK), (int64_t)(n + 1) / 2);
    mem = mem_of(s, T_RISK);
    ck_assert_msg(mem <= n / 8 + 16 + 8, "every other row: %zu bytes, bound %zu", mem,
                  n / 8 + 16 + 8);
    ck_assert_int_eq(has(s, T_RISK, (int64_t)n - 1), 1); /* 3394 is even */
    ck_assert_int_eq(has(s, T_RISK, (int64_t)n - 2), 0);
    /* All rows: full. */
    set_ok(s, T_VIP, 0, 1);
    ck_assert_int_eq(count_of(s, T_VIP), (int64_t)n);
    ck_assert_uint_le(mem_of(s, T_VIP), DIR_BYTES(1));
    free(rows);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Memory of typical tags on 200003 rows, and of the whole set. */
START_TEST(memory_bounds)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    const size_t dir = DIR_BYTES(BIG_CHUNKS);
    /* Empty set. */
    size_t sum = 0;
    for (int t = 0; t < MAIN_K; t++) {
        size_t m = mem_of(s, MAIN_IDS[t]);
        ck_assert_msg(m <= dir, "empty tag %d: %zu bytes", (int)MAIN_IDS[t], m);
        sum += m;
    }
    size_t m0 = mem_of(s, 0);
    ck_assert_msg(m0 >= sum && m0 <= sum + DIR_BYTES(BIG_CHUNKS * (MAIN_K + 1)) + 256,
                  "empty set: %zu bytes, tags %zu", m0, sum);

    /* 1 row. */
    set_ok(s, T_VIP, 123456, 1);
    size_t m1 = mem_of(s, T_VIP);
    ck_assert_msg(m1 <= dir + LIST_SLACK && m1 * 100 < BIG_N / 8, "1-row tag: %zu bytes", m1);

    /* 0.1%: every 1000th row, 201 rows, about n/500 = 400 bytes. */
    int64_t rows[201];
    for (size_t i = 0; i < 201; i++)
        rows[i] = (int64_t)(1000 * i);
    rows_ok(s, T_RISK, rows, 201, 1);
    size_t mr = mem_of(s, T_RISK);
    ck_assert_msg(mr >= 2 * 201 && mr <= 4 * 201 + dir + LIST_SLACK, "0.1%% tag: %zu bytes", mr);

    /* About half of the rows at random: bitmaps, at most n/8 + 16 per chunk
     * (+8 per chunk for word rounding). The last chunk's ~1700 rows must not
     * take a 3.4 KB list or an 8 KiB bitmap. */
    uint64_t seed = 5;
    uint8_t *mask = malloc(BIG_N);
    ck_assert_ptr_nonnull(mask);
    int64_t half = 0;
    for (size_t i = 0; i < BIG_N; i++) {
        mask[i] = (uint8_t)(seg_test_rng(&seed) & 1);
        half += mask[i];
    }
    mask_ok(s, T_HIGH, mask, BIG_N, 1);
    ck_assert_int_eq(count_of(s, T_HIGH), half);
    size_t mh = mem_of(s, T_HIGH);
    ck_assert_msg(mh >= 3 * 8192 && mh <= BIG_N / 8 + (16 + 8) * BIG_CHUNKS,
                  "dense tag: %zu bytes, bound %zu", mh, BIG_N / 8 + (16 + 8) * BIG_CHUNKS);

    /* Every row: full chunks. */
    memset(mask, 1, BIG_N);
    mask_ok(s, T_NEW, mask, BIG_N, 1);
    ck_assert_uint_le(mem_of(s, T_NEW), dir);

    /* Whole set: at least the tags, plus a small directory overhead. */
    sum = 0;
    for (int t = 0; t < MAIN_K; t++)
        sum += mem_of(s, MAIN_IDS[t]);
    m0 = mem_of(s, 0);
    ck_assert_msg(m0 >= sum && m0 <= sum + DIR_BYTES(BIG_CHUNKS * (MAIN_K + 1)) + 256,
                  "set: %zu bytes, tags %zu", m0, sum);
    ck_assert_uint_ge(m0, mh + mr + m1);

    /* Errors. */
    size_t out = CANARY_SIZE;
    ck_assert_int_eq(seg_tagset_memory(NULL, T_VIP, &out), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_memory(NULL, 0, &out), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_memory(s, T_VIP, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_memory(s, 6, &out), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_memory(s, -1, &out), SEG_ENOTFOUND);
    ck_assert_uint_eq(out, CANARY_SIZE);
    free(mask);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- exclusive groups ------------------------------------------------------------ */

START_TEST(groups_every_setter)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, 10, NULL);
    char err[256];
    /* Single rows: 新客 -> 活跃 -> 流失 on row 1 ("Lifecycle" is "lifecycle"). */
    set_ok(s, T_NEW, 1, 1);
    set_ok(s, T_NEW, 2, 1);
    set_ok(s, T_ACTIVE, 1, 1);
    EXPECT(s, T_NEW, "active on 1", 2);
    EXPECT(s, T_ACTIVE, "active on 1", 1);
    set_ok(s, T_LOST, 1, 1);
    EXPECT_NONE(s, T_ACTIVE, "lost on 1");
    EXPECT(s, T_LOST, "lost on 1", 1);
    EXPECT(s, T_NEW, "lost on 1", 2);
    /* A tag outside the group does not clear the group. */
    set_ok(s, T_VIP, 1, 1);
    EXPECT(s, T_LOST, "vip on 1", 1);
    /* Clearing a member does not bring the others back or touch them. */
    set_ok(s, T_LOST, 1, 0);
    set_ok(s, T_NEW, 2, 0);
    for (int t = 1; t <= 3; t++)
        EXPECT_NONE(s, MAIN_IDS[t], "cleared");
    EXPECT(s, T_VIP, "vip kept", 1);

    /* set_rows: 新客 on every row, then 活跃 on 2 5 5 7. */
    static const int64_t all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    rows_ok(s, T_NEW, all, 10, 1);
    static const int64_t act[] = {7, 5, 2, 5};
    rows_ok(s, T_ACTIVE, act, 4, 1);
    EXPECT(s, T_NEW, "rows", 0, 1, 3, 4, 6, 8, 9);
    EXPECT(s, T_ACTIVE, "rows", 2, 5, 7);
    /* Clearing 流失 with set_rows touches nothing else. */
    rows_ok(s, T_LOST, all, 10, 0);
    EXPECT(s, T_NEW, "rows clear", 0, 1, 3, 4, 6, 8, 9);
    EXPECT(s, T_ACTIVE, "rows clear", 2, 5, 7);

    /* set_mask: 流失 on rows 0 2 4. */
    uint8_t mask[10] = {1, 0, 9, 0, 1, 0, 0, 0, 0, 0};
    mask_ok(s, T_LOST, mask, 10, 1);
    EXPECT(s, T_NEW, "mask", 1, 3, 6, 8, 9);
    EXPECT(s, T_ACTIVE, "mask", 5, 7);
    EXPECT(s, T_LOST, "mask", 0, 2, 4);
    /* Clearing with a mask touches nothing else. */
    mask_ok(s, T_NEW, mask, 10, 0);
    EXPECT(s, T_LOST, "mask clear", 0, 2, 4);
    EXPECT(s, T_NEW, "mask clear", 1, 3, 6, 8, 9);
    /* A failed call does not clear the group either. */
    static const int64_t bad[] = {3, 10};
    ck_assert_int_eq(seg_tagset_set_rows(s, T_ACTIVE, bad, 2, 1, err, sizeof err), SEG_EDATA);
    EXPECT(s, T_NEW, "failed set_rows", 1, 3, 6, 8, 9);
    EXPECT(s, T_VIP, "vip untouched", 1);
    seg_tagset_free(s);

    /* Across chunks: a full 新客 broken by 100 活跃 rows over all chunks. */
    s = new_set(r, BIG_N, NULL);
    uint8_t *ones = malloc(BIG_N);
    ck_assert_ptr_nonnull(ones);
    memset(ones, 1, BIG_N);
    mask_ok(s, T_NEW, ones, BIG_N, 1);
    int64_t rows[100];
    for (size_t i = 0; i < 100; i++)
        rows[i] = (int64_t)(i * 2000 + 3);
    rows_ok(s, T_ACTIVE, rows, 100, 1);
    ck_assert_int_eq(count_of(s, T_NEW), (int64_t)BIG_N - 100);
    ck_assert_int_eq(count_of(s, T_ACTIVE), 100);
    ck_assert_int_eq(has(s, T_NEW, 198003), 0);
    ck_assert_int_eq(has(s, T_NEW, 198004), 1);
    ck_assert_int_eq(has(s, T_ACTIVE, 198003), 1);
    free(ones);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- co-occurrence ------------------------------------------------------------------ */

START_TEST(cooccurrence_known)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, 8, NULL);
    char err[256];
    /* vip {0,1,2,3}  新客 {0,1}  活跃 {2,4}  churn_risk {1,2,5,7}  high_value {} */
    static const int64_t vip[] = {0, 1, 2, 3}, nw[] = {0, 1}, act[] = {2, 4},
                         risk[] = {1, 2, 5, 7};
    rows_ok(s, T_VIP, vip, 4, 1);
    rows_ok(s, T_NEW, nw, 2, 1);
    rows_ok(s, T_ACTIVE, act, 2, 1);
    rows_ok(s, T_RISK, risk, 4, 1);
    const int32_t ids[6] = {T_VIP, T_NEW, T_ACTIVE, T_RISK, T_HIGH, T_VIP};
    /* Worked by hand:
     *          vip 新客 活跃 risk high vip
     *   vip     4   2    1    2    0    4     (活跃∩vip = {2}, risk∩vip = {1,2})
     *   新客     2   2    0    1    0    2     (risk∩新客 = {1})
     *   活跃     1   0    2    1    0    1     (risk∩活跃 = {2})
     *   risk    2   1    1    4    0    2
     *   high    0   0    0    0    0    0
     *   vip     4   2    1    2    0    4                                   */
    static const int64_t want[36] = {
        4, 2, 1, 2, 0, 4, /**/ 2, 2, 0, 1, 0, 2, /**/ 1, 0, 2, 1, 0, 1,
        2, 1, 1, 4, 0, 2, /**/ 0, 0, 0, 0, 0, 0, /**/ 4, 2, 1, 2, 0, 4,
    };
    int64_t out[37];
    for (int i = 0; i < 37; i++)
        out[i] = CANARY_I64;
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 6, out, err, sizeof err), SEG_OK);
    for (int i = 0; i < 36; i++)
        ck_assert_msg(out[i] == want[i], "(%d,%d): %lld, expected %lld", i / 6, i % 6,
                      (long long)out[i], (long long)want[i]);
    ck_assert_int_eq(out[36], CANARY_I64);
    /* k = 1. */
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids + 3, 1, out, err, sizeof err), SEG_OK);
    ck_assert_int_eq(out[0], 4);
    ck_assert_int_eq(out[1], 2); /* untouched from before */

    /* Errors leave the output alone. */
    for (int i = 0; i < 37; i++)
        out[i] = CANARY_I64;
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 0, out, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 1025, out, err, sizeof err), SEG_ERANGE);
    SEG_ASSERT_NUM(err, 1025);
    const int32_t bad[5] = {T_VIP, T_NEW, T_RISK, 6, T_HIGH};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_cooccurrence(s, bad, 5, out, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 3);
    const int32_t bad0[2] = {T_VIP, 0};
    ck_assert_int_eq(seg_tagset_cooccurrence(s, bad0, 2, out, err, sizeof err), SEG_ENOTFOUND);
    ck_assert_int_eq(seg_tagset_cooccurrence(NULL, ids, 2, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_cooccurrence(s, NULL, 2, out, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 2, NULL, err, sizeof err), SEG_EINVAL);
    for (int i = 0; i < 37; i++)
        ck_assert_int_eq(out[i], CANARY_I64);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Random tags on 200003 rows: co-occurrence equals a naive count over the
 * masks, for 7 ids with repeats and for k = 1024. */
START_TEST(cooccurrence_vs_naive)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    char err[256];
    uint64_t seed = 31;
    /* Densities: vip 50%; 新客, 活跃, 流失 30% each, set one after the
     * other (so later stages clear earlier ones); churn_risk 0.2%;
     * high_value all of chunk 1 plus every 7777th row. */
    uint8_t *mask = malloc(BIG_N);
    ck_assert_ptr_nonnull(mask);
    for (size_t i = 0; i < BIG_N; i++)
        mask[i] = (uint8_t)(seg_test_rng(&seed) & 1);
    mask_ok(s, T_VIP, mask, BIG_N, 1);
    for (int g = 0; g < 3; g++) {
        for (size_t i = 0; i < BIG_N; i++)
            mask[i] = (uint8_t)(seg_test_rng(&seed) % 10 < 3);
        mask_ok(s, MAIN_IDS[1 + g], mask, BIG_N, 1);
    }
    for (size_t i = 0; i < BIG_N; i++)
        mask[i] = (uint8_t)(seg_test_rng(&seed) % 500 == 0);
    mask_ok(s, T_RISK, mask, BIG_N, 1);
    for (size_t i = 0; i < BIG_N; i++)
        mask[i] = (uint8_t)((i >= CHUNK && i < 2 * CHUNK) || i % 7777 == 0);
    mask_ok(s, T_HIGH, mask, BIG_N, 1);
    free(mask);

    uint8_t *mk[MAIN_K];
    for (int t = 0; t < MAIN_K; t++)
        mk[t] = mask_of(s, MAIN_IDS[t]);
    int64_t pair[MAIN_K][MAIN_K];
    for (int a = 0; a < MAIN_K; a++)
        for (int b = 0; b < MAIN_K; b++) {
            int64_t c = 0;
            for (size_t i = 0; i < BIG_N; i++)
                c += mk[a][i] & mk[b][i];
            pair[a][b] = c;
        }
    /* The group holds: no row has two stages. */
    ck_assert_int_eq(pair[1][2], 0);
    ck_assert_int_eq(pair[1][3], 0);
    ck_assert_int_eq(pair[2][3], 0);
    /* 26 multiples of 7777 below n (0 .. 25 x 7777), 8 of them in chunk 1 (9 .. 16 x 7777). */
    ck_assert_int_eq(pair[5][5], CHUNK + 26 - 8);

    /* 7 ids with repeats (indices into MAIN_IDS). */
    const int sel[7] = {5, 0, 3, 0, 4, 1, 2};
    int32_t ids[7];
    for (int i = 0; i < 7; i++)
        ids[i] = MAIN_IDS[sel[i]];
    int64_t out[49];
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 7, out, err, sizeof err), SEG_OK);
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++)
            ck_assert_msg(out[i * 7 + j] == pair[sel[i]][sel[j]], "(%d,%d): %lld, naive %lld", i,
                          j, (long long)out[i * 7 + j], (long long)pair[sel[i]][sel[j]]);

    /* k = 1024, cycling through the six tags. */
    const size_t K = 1024;
    int32_t *kids = malloc(K * sizeof *kids);
    int64_t *kout = malloc(K * K * sizeof *kout);
    ck_assert_ptr_nonnull(kids);
    ck_assert_ptr_nonnull(kout);
    for (size_t i = 0; i < K; i++)
        kids[i] = MAIN_IDS[(i * 5) % MAIN_K];
    ck_assert_int_eq(seg_tagset_cooccurrence(s, kids, K, kout, err, sizeof err), SEG_OK);
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++)
            if (kout[i * K + j] != pair[(i * 5) % MAIN_K][(j * 5) % MAIN_K])
                ck_abort_msg("k=1024 (%zu,%zu): %lld", i, j, (long long)kout[i * K + j]);
    free(kids);
    free(kout);
    for (int t = 0; t < MAIN_K; t++)
        free(mk[t]);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- rule tags ----------------------------------------------------------------------- */

/* c depends on b depends on a (through its alias, spelled in upper case),
 * in reverse id order; hi and mid are rule tags of one group with a fact
 * tag; dormant is disabled (and names a column no frame has); neg is a
 * draft. */
static const char RULES[] =
    "libsegment-tags 1\n"                /*  1 */
    "# rule tags for test-tagset\n"      /*  2 */
    "tag 1 \"c\"\n"                      /*  3 */
    "  when `b` == 1 and aum >= 100\n"   /*  4 */
    "tag 2 \"b\"\n"                      /*  5 */
    "  when HEAVY == 1 or vip == 1\n"    /*  6 */
    "tag 3 \"a\"\n"                      /*  7 */
    "  alias \"heavy\"\n"                /*  8 */
    "  when txn_90d >= 10\n"             /*  9 */
    "tag 4 \"vip\"\n"                    /* 10 */
    "tag 5 \"hi\"\n"                     /* 11 */
    "  group lvl\n"                      /* 12 */
    "  when txn_90d >= 20\n"             /* 13 */
    "tag 6 \"mid\"\n"                    /* 14 */
    "  group lvl\n"                      /* 15 */
    "  when txn_90d >= 5\n"              /* 16 */
    "tag 7 \"lvl_manual\"\n"             /* 17 */
    "  group lvl\n"                      /* 18 */
    "tag 8 \"dormant\"\n"                /* 19 */
    "  status disabled\n"                /* 20 */
    "  when nosuch > 1\n"                /* 21 */
    "tag 9 \"neg\"\n"                    /* 22 */
    "  status draft\n"                   /* 23 */
    "  when aum < 0\n";                  /* 24 */

enum { R_C = 1, R_B = 2, R_A = 3, R_VIP = 4, R_HI = 5, R_MID = 6, R_MAN = 7, R_DORM = 8, R_NEG = 9 };

#define RN 12
/* Row:                            0   1    2    3   4    5   6    7    8    9     10   11 */
static const int32_t R_TXN1[RN] = {0, 4, 5, 9, 10, 15, 19, 20, 25, 100, 12, 30};
static const int32_t R_TXN2[RN] = {50, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 30};
static const double R_AUM[RN] = {50, 500, 500, 50, 500, 50, 100, 100, -1, 99.5, NAN, 1000};
/* txn_90d is missing on row 11 (validity bit clear) in both frames. */

static seg_frame *rules_frame(const int32_t *txn, uint8_t *valid)
{
    seg_test_bitmap("111111111110", valid);
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, RN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn_90d", txn, valid), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", R_AUM, NULL), SEG_OK);
    return f;
}

static void eval_ok(seg_tagset *s, const seg_frame *f, const int32_t *ids, size_t n)
{
    char err[512] = "";
    int32_t rc = seg_tagset_eval_rules(s, f, ids, n, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "eval_rules: %d %s", (int)rc, err);
}

/* The F1 results, worked by hand (txn >= 10: rows 4..10; row 11 missing):
 *   a   = txn >= 10                    {4,5,6,7,8,9,10}
 *   b   = a or vip (vip = {1,5,10})    {1,4,5,6,7,8,9,10}
 *   c   = b and aum >= 100             {1,4,6,7}  (5: 50, 8: -1, 9: 99.5, 10: NaN)
 *   hi  = txn >= 20                    {7,8,9}
 *   mid = txn >= 5, minus hi rows      {2,3,4,5,6,10}
 *   lvl_manual {0,2,7,11} minus hi/mid {0,11}
 *   neg = aum < 0                      {8}
 *   dormant (disabled)                 {}                                    */
static void expect_f1(const seg_tagset *s, const char *what)
{
    EXPECT(s, R_A, what, 4, 5, 6, 7, 8, 9, 10);
    EXPECT(s, R_B, what, 1, 4, 5, 6, 7, 8, 9, 10);
    EXPECT(s, R_C, what, 1, 4, 6, 7);
    EXPECT(s, R_HI, what, 7, 8, 9);
    EXPECT(s, R_MID, what, 2, 3, 4, 5, 6, 10);
    EXPECT(s, R_MAN, what, 0, 11);
    EXPECT(s, R_NEG, what, 8);
    EXPECT_NONE(s, R_DORM, what);
    EXPECT(s, R_VIP, what, 1, 5, 10);
}

static seg_tagset *rules_set(const seg_tagreg *reg, const seg_allocator *alloc)
{
    seg_tagset *s = new_set(reg, RN, alloc);
    static const int64_t vip[] = {1, 5, 10}, man[] = {0, 2, 7, 11};
    rows_ok(s, R_VIP, vip, 3, 1);
    rows_ok(s, R_MAN, man, 4, 1);
    return s;
}

START_TEST(eval_rules_all)
{
    seg_tagreg *r = load_reg(RULES, NULL, NULL);
    seg_tagset *s = rules_set(r, NULL);
    uint8_t v1[2], v2[2];
    seg_frame *f1 = rules_frame(R_TXN1, v1);
    seg_frame *f2 = rules_frame(R_TXN2, v2);
    eval_ok(s, f1, NULL, 0);
    expect_f1(s, "F1");
    /* Again: the same (idempotent). */
    eval_ok(s, f1, NULL, 0);
    expect_f1(s, "F1 again");

    /* F2 (txn 50 on row 0, 10 on row 3, else 0): rows where a rule is now
     * false lose its tag.
     *   a = {0,3}; b = a or vip = {0,1,3,5,10}; c = b and aum >= 100 = {1}
     *   hi = {0}; mid = {3}; lvl_manual {0,11} loses row 0 to hi -> {11}
     * With id order instead of dependency order, c and b would use the F1
     * values of b and a. */
    eval_ok(s, f2, NULL, 0);
    EXPECT(s, R_A, "F2", 0, 3);
    EXPECT(s, R_B, "F2", 0, 1, 3, 5, 10);
    EXPECT(s, R_C, "F2", 1);
    EXPECT(s, R_HI, "F2", 0);
    EXPECT(s, R_MID, "F2", 3);
    EXPECT(s, R_MAN, "F2", 11);
    EXPECT(s, R_NEG, "F2", 8);
    EXPECT(s, R_VIP, "F2", 1, 5, 10);
    EXPECT_NONE(s, R_DORM, "F2");

    /* vip is a fact: changing it changes b and c at the next evaluation.
     * F2 with vip on row 4 only: b = {0,3,4}, c = {4}. */
    ck_assert_int_eq(seg_tagset_reset(s, R_VIP), SEG_OK);
    set_ok(s, R_VIP, 4, 1);
    eval_ok(s, f2, NULL, 0);
    EXPECT(s, R_B, "F2 vip 4", 0, 3, 4);
    EXPECT(s, R_C, "F2 vip 4", 4);
    seg_frame_free(f1);
    seg_frame_free(f2);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Only the listed tags change; tags not listed are used as the set holds them. */
START_TEST(eval_rules_listed)
{
    seg_tagreg *r = load_reg(RULES, NULL, NULL);
    seg_tagset *s = rules_set(r, NULL);
    uint8_t v1[2], v2[2];
    seg_frame *f1 = rules_frame(R_TXN1, v1);
    seg_frame *f2 = rules_frame(R_TXN2, v2);
    eval_ok(s, f1, NULL, 0);

    /* A non-NULL empty list computes nothing. */
    const int32_t none[1] = {R_B};
    eval_ok(s, f2, none, 0);
    expect_f1(s, "empty list");

    /* b alone over F2 uses a as held (F1's {4..10}), so b keeps its F1
     * value; a and c do not change. */
    const int32_t only_b[1] = {R_B};
    eval_ok(s, f2, only_b, 1);
    expect_f1(s, "b alone");

    /* a alone over F2: a = {0,3}; b and c keep their values. */
    const int32_t only_a[1] = {R_A};
    eval_ok(s, f2, only_a, 1);
    EXPECT(s, R_A, "a alone", 0, 3);
    EXPECT(s, R_B, "a alone", 1, 4, 5, 6, 7, 8, 9, 10);
    EXPECT(s, R_C, "a alone", 1, 4, 6, 7);

    /* c and b, listed c first: b is computed first (from the held a),
     * b = {0,1,3,5,10}, then c = {1}. */
    const int32_t cb[2] = {R_C, R_B};
    eval_ok(s, f2, cb, 2);
    EXPECT(s, R_B, "c b", 0, 1, 3, 5, 10);
    EXPECT(s, R_C, "c b", 1);
    EXPECT(s, R_A, "c b", 0, 3);

    /* mid alone over F1: mid gets every txn >= 5 row {2..10} and clears hi
     * there (the group); lvl_manual {0,11} is not on those rows. */
    eval_ok(s, f1, NULL, 0);
    const int32_t only_mid[1] = {R_MID};
    eval_ok(s, f1, only_mid, 1);
    EXPECT(s, R_MID, "mid alone", 2, 3, 4, 5, 6, 7, 8, 9, 10);
    EXPECT_NONE(s, R_HI, "mid alone");
    EXPECT(s, R_MAN, "mid alone", 0, 11);
    /* hi alone: hi {7,8,9}, clearing mid there. */
    const int32_t only_hi[1] = {R_HI};
    eval_ok(s, f1, only_hi, 1);
    EXPECT(s, R_HI, "hi alone", 7, 8, 9);
    EXPECT(s, R_MID, "hi alone", 2, 3, 4, 5, 6, 10);

    /* A draft rule tag may be listed. */
    const int32_t only_neg[1] = {R_NEG};
    eval_ok(s, f1, only_neg, 1);
    EXPECT(s, R_NEG, "neg", 8);
    seg_frame_free(f1);
    seg_frame_free(f2);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* Registry text with a rule naming an unknown column on line 5:
 *   "  when txn_90d >= 10 and zzz > 1"
 *    ^col 1  ^8              ^26                                          */
static const char BAD_RULES[] =
    "libsegment-tags 1\n"
    "tag 1 \"ok\"\n"
    "  when txn_90d >= 1\n"
    "tag 2 \"bad\"\n"
    "  when txn_90d >= 10 and zzz > 1\n"
    "tag 3 \"typed\"\n"
    "  when channel >= 3\n"
    "tag 4 \"fact\"\n";

START_TEST(eval_rules_errors)
{
    uint8_t v1[2];
    seg_frame *f1 = rules_frame(R_TXN1, v1);
    char err[512];

    /* Unknown column: EPARSE at the rule's place in the registry text. */
    seg_tagreg *r = load_reg(BAD_RULES, NULL, NULL);
    seg_tagset *s = new_set(r, RN, NULL);
    set_ok(s, 4, 3, 1);
    snap sn;
    snap_take(&sn, s);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, NULL, 0, err, sizeof err), SEG_EPARSE);
    /* bad (zzz) or typed (no column channel in this frame) is reported */
    ck_assert_msg(seg_test_has_word(err, "zzz") || seg_test_has_word(err, "channel"),
                  "message \"%s\" names no unknown column", err);
    snap_check(&sn, s, "unknown column"); /* ok was not set either */
    const int32_t only_bad[1] = {2};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, only_bad, 1, err, sizeof err), SEG_EPARSE);
    SEG_ASSERT_PREFIX(err, "tags:5:26: ");
    SEG_ASSERT_WORD(err, "unknown column 'zzz'");
    snap_check(&sn, s, "unknown column, listed");
    /* A type error (text column compared with a number), line 7. */
    const char *ch[RN] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    seg_frame *fc = NULL;
    ck_assert_int_eq(seg_frame_new(&fc, RN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fc, "txn_90d", R_TXN1, v1), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(fc, "channel", ch, NULL), SEG_OK);
    const int32_t only_typed[1] = {3};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, fc, only_typed, 1, err, sizeof err), SEG_EPARSE);
    SEG_ASSERT_PREFIX(err, "tags:7:");
    snap_check(&sn, s, "type error");
    /* Without the bad tags, ok computes (txn >= 1: all but rows 0, 11). */
    const int32_t only_ok[1] = {1};
    eval_ok(s, f1, only_ok, 1);
    EXPECT(s, 1, "ok", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    seg_tagset_free(s);
    seg_tagreg_free(r);
    snap_free(&sn);

    /* The same text with a source name. */
    seg_tagreg *rs = NULL;
    err[0] = '\0';
    ck_assert_int_eq(seg_tagreg_load(&rs, BAD_RULES, strlen(BAD_RULES), "reg.txt", NULL, err,
                                     sizeof err),
                     SEG_OK);
    s = new_set(rs, RN, NULL);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, only_bad, 1, err, sizeof err), SEG_EPARSE);
    SEG_ASSERT_PREFIX(err, "reg.txt:5:26: ");
    SEG_ASSERT_WORD(err, "zzz");
    seg_tagset_free(s);
    seg_tagreg_free(rs);

    /* Argument and state errors on the RULES registry. */
    r = load_reg(RULES, NULL, NULL);
    s = rules_set(r, NULL);
    snap_take(&sn, s);
    ck_assert_int_eq(seg_tagset_eval_rules(NULL, f1, NULL, 0, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_eval_rules(s, NULL, NULL, 0, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, NULL, 2, err, sizeof err), SEG_EINVAL);
    /* A frame of another row count. */
    seg_frame *f11 = NULL;
    ck_assert_int_eq(seg_frame_new(&f11, RN - 1, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f11, "txn_90d", R_TXN1, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f11, "aum", R_AUM, NULL), SEG_OK);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f11, NULL, 0, err, sizeof err), SEG_EINVAL);
    SEG_ASSERT_NUM(err, RN - 1);
    SEG_ASSERT_NUM(err, RN);
    /* Listed: a disabled rule tag, a fact, an unknown id (at position 1). */
    const int32_t dorm[2] = {R_A, R_DORM};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, dorm, 2, err, sizeof err), SEG_ESTATE);
    ASSERT_TAG(err, "dormant", R_DORM);
    const int32_t fact[1] = {R_MAN};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, fact, 1, err, sizeof err), SEG_ESTATE);
    ASSERT_TAG(err, "lvl_manual", R_MAN);
    const int32_t unknown[2] = {R_A, 42};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, unknown, 2, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 42);
    snap_check(&sn, s, "argument errors");
    snap_free(&sn);
    seg_frame_free(f11);
    seg_tagset_free(s);
    seg_tagreg_free(r);

    /* A frame column named like a tag a rule uses. */
    static const char CLASH[] = "tag 1 \"heavy_user\"\n"
                                "  when txn_90d >= 10\n"
                                "tag 2 \"big\"\n"
                                "  when heavy_user == 1 and aum >= 100\n"
                                "tag 3 \"vip\"\n";
    r = load_reg(CLASH, NULL, NULL);
    s = new_set(r, RN, NULL);
    int32_t hu[RN] = {0};
    seg_frame *fx = NULL;
    ck_assert_int_eq(seg_frame_new(&fx, RN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fx, "txn_90d", R_TXN1, v1), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(fx, "aum", R_AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fx, "heavy_user", hu, NULL), SEG_OK);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, fx, NULL, 0, err, sizeof err), SEG_EPARSE);
    SEG_ASSERT_WORD(err, "heavy_user");
    EXPECT_NONE(s, 1, "clash");
    EXPECT_NONE(s, 2, "clash");
    seg_frame_free(fx);
    /* A column named like a tag no rule uses is fine (vip). */
    fx = NULL;
    ck_assert_int_eq(seg_frame_new(&fx, RN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fx, "txn_90d", R_TXN1, v1), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(fx, "aum", R_AUM, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(fx, "vip", hu, NULL), SEG_OK);
    eval_ok(s, fx, NULL, 0);
    EXPECT(s, 1, "no clash", 4, 5, 6, 7, 8, 9, 10);
    EXPECT(s, 2, "no clash", 4, 6, 7);
    seg_frame_free(fx);
    seg_tagset_free(s);
    seg_tagreg_free(r);
    seg_frame_free(fc);
    seg_frame_free(f1);
}
END_TEST

/* Rule tags of a registry built through the API, over many rows (every
 * chunk form): v = i % 100, w = i % 2. */
START_TEST(eval_rules_built_big)
{
    seg_tagreg *r = NULL;
    ck_assert_int_eq(seg_tagreg_new(&r, NULL), SEG_OK);
    reg_add(r, 10, "half");
    reg_add(r, 11, "all");
    reg_add(r, 12, "none");
    reg_add(r, 13, "odd_half");
    reg_add(r, 14, "高频");
    reg_add(r, 15, "uses_cn");
    reg_text(r, 10, SEG_TAG_RULE_TEXT, "v >= 50");
    reg_text(r, 11, SEG_TAG_RULE_TEXT, "v >= 0");
    reg_text(r, 12, SEG_TAG_RULE_TEXT, "v < 0");
    reg_text(r, 13, SEG_TAG_RULE_TEXT, "half == 1 and w == 1");
    reg_text(r, 15, SEG_TAG_RULE_TEXT, "`高频` == 1 and v == 99");
    int32_t kind = -1;
    ck_assert_int_eq(seg_tagreg_code(r, 10, SEG_TAG_KIND, &kind), SEG_OK);
    ck_assert_int_eq(kind, SEG_TAG_RULE);
    ck_assert_int_eq(seg_tagreg_freeze(r), SEG_OK);
    int32_t *v = malloc(BIG_N * sizeof *v);
    int64_t *w = malloc(BIG_N * sizeof *w);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(w);
    for (size_t i = 0; i < BIG_N; i++) {
        v[i] = (int32_t)(i % 100);
        w[i] = (int64_t)(i % 2);
    }
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, BIG_N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "v", v, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "w", w, NULL), SEG_OK);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    /* 高频 (a fact) on rows 99, 199, 299 and 1000. */
    static const int64_t hf[] = {299, 99, 1000, 199};
    rows_ok(s, 14, hf, 4, 1);
    eval_ok(s, f, NULL, 0);
    uint8_t *half = mask_of(s, 10), *all = mask_of(s, 11), *none = mask_of(s, 12),
            *odd = mask_of(s, 13), *cn = mask_of(s, 15);
    int64_t nh = 0, no = 0;
    for (size_t i = 0; i < BIG_N; i++) {
        int h = i % 100 >= 50;
        if (half[i] != h || all[i] != 1 || none[i] != 0 || odd[i] != (h && i % 2 == 1) ||
            cn[i] != (i == 99 || i == 199 || i == 299))
            ck_abort_msg("row %zu: half %d all %d none %d odd_half %d uses_cn %d", i, half[i],
                         all[i], none[i], odd[i], cn[i]);
        nh += h;
        no += h && i % 2 == 1;
    }
    ck_assert_int_eq(count_of(s, 10), nh);
    ck_assert_int_eq(count_of(s, 11), (int64_t)BIG_N);
    ck_assert_int_eq(count_of(s, 12), 0);
    ck_assert_int_eq(count_of(s, 13), no);
    ck_assert_int_eq(nh, 100000); /* 2000 hundreds x 50; rows 200000..200002 have v < 50 */
    ck_assert_uint_le(mem_of(s, 11), DIR_BYTES(BIG_CHUNKS));
    free(half);
    free(all);
    free(none);
    free(odd);
    free(cn);
    seg_tagset_free(s);
    seg_frame_free(f);
    free(v);
    free(w);
    seg_tagreg_free(r);
}
END_TEST

/* ---- model tags from labels ------------------------------------------------------------ */

static const char LABEL_TAGS[] = "libsegment-tags 1\n"
                                 "tag 1 \"private_banking\"\n"
                                 "  kind model\n"
                                 "  group tier\n"
                                 "tag 2 \"wealth\"\n"
                                 "  kind model\n"
                                 "  group tier\n"
                                 "tag 3 \"gold\"\n"
                                 "  kind model\n"
                                 "  group tier\n"
                                 "tag 4 \"manual_tier\"\n"
                                 "  group tier\n"
                                 "tag 5 \"vip\"\n"
                                 "tag 6 \"rfm_best\"\n"
                                 "  kind model\n"
                                 "tag 7 \"rfm_risk\"\n"
                                 "  kind model\n"
                                 "tag 8 \"rfm_lost\"\n"
                                 "  kind model\n";

/* The value pyramid without its catch-all: some rows get no tier (-1). */
static const char PYRAMID3[] =
    "libsegment-tiers 1\n"
    "tier private_banking \"私人银行\" when aum >= 6000000\n"
    "tier wealth \"财富客户\" when aum >= 500000\n"
    "tier gold \"金卡客户\" when aum >= 50000 and txn_90d >= 1\n";

START_TEST(set_labels_tiers)
{
    seg_tagreg *r = load_reg(LABEL_TAGS, "labels.tags", NULL);
    const size_t n = 8;
    static const double aum[8] = {7e6, 6e5, 6e4, 100, 5e5, NAN, 6e4, 7e6};
    static const int32_t txn[8] = {0, 0, 1, 1, 0, 0, 0, 5};
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "aum", aum, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "txn_90d", txn, NULL), SEG_OK);
    seg_tiers *tiers = NULL;
    char err[512] = "";
    ck_assert_int_eq(seg_tiers_load(&tiers, PYRAMID3, strlen(PYRAMID3), f, NULL, NULL, err,
                                    sizeof err),
                     SEG_OK);
    int32_t labels[8];
    ck_assert_int_eq(seg_tiers_apply(tiers, f, NULL, labels, err, sizeof err), SEG_OK);
    /* By hand: 7e6 -> 0; 6e5 -> 1; 6e4 txn 1 -> 2; 100 -> none; 5e5 -> 1;
     * NaN -> none; 6e4 txn 0 -> none; 7e6 -> 0. */
    static const int32_t want_labels[8] = {0, 1, 2, -1, 1, -1, -1, 0};
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(labels[i], want_labels[i]);

    seg_tagset *s = new_set(r, n, NULL);
    /* A previous model run left wealth on rows 3 and 5; manual_tier (a fact
     * in the group) is on rows 0 and 6; vip on row 0. */
    static const int64_t w_prev[] = {3, 5}, man[] = {0, 6}, vip[] = {0};
    rows_ok(s, 2, w_prev, 2, 1);
    rows_ok(s, 4, man, 2, 1);
    rows_ok(s, 5, vip, 1, 1);
    const int32_t map[3] = {1, 2, 3};
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, 3, err, sizeof err), SEG_OK);
    /* private_banking {0,7}; wealth {1,4} (3 and 5 cleared); gold {2};
     * manual_tier loses row 0 to private_banking, keeps 6 (no tier);
     * vip untouched. */
    EXPECT(s, 1, "tiers", 0, 7);
    EXPECT(s, 2, "tiers", 1, 4);
    EXPECT(s, 3, "tiers", 2);
    EXPECT(s, 4, "tiers", 6);
    EXPECT(s, 5, "tiers", 0);

    /* Second run, gold unmapped (0): labels {2,2,1,0,-1,-1,2,1}.
     * Mapped tags 1 and 2 are cleared first; gold (not named) is not, but
     * loses row 2 to wealth (the group). Label-2 rows get nothing. */
    const int32_t labels2[8] = {2, 2, 1, 0, -1, -1, 2, 1};
    const int32_t map2[3] = {1, 2, 0};
    ck_assert_int_eq(seg_tagset_set_labels(s, labels2, n, map2, 3, err, sizeof err), SEG_OK);
    EXPECT(s, 1, "run 2", 3);
    EXPECT(s, 2, "run 2", 2, 7);
    EXPECT_NONE(s, 3, "run 2");
    EXPECT(s, 4, "run 2", 6);
    EXPECT(s, 5, "run 2", 0);

    /* Several labels to one tag, and a large label space: labels 0..65535,
     * only 7 and 65535 mapped (both to wealth). */
    int32_t *bigmap = calloc(65536, sizeof *bigmap);
    ck_assert_ptr_nonnull(bigmap);
    bigmap[7] = 2;
    bigmap[65535] = 2;
    const int32_t labels3[8] = {65535, 7, 0, -1, 8, 7, 65534, -1};
    ck_assert_int_eq(seg_tagset_set_labels(s, labels3, n, bigmap, 65536, err, sizeof err),
                     SEG_OK);
    EXPECT(s, 2, "65536 labels", 0, 1, 5);
    EXPECT(s, 1, "65536 labels", 3); /* private_banking not mapped: kept */
    free(bigmap);
    seg_tagset_free(s);
    seg_tiers_free(tiers);
    seg_frame_free(f);
    seg_tagreg_free(r);
}
END_TEST

/* RFM10 segments of every score combination (and unscored rows) mapped to
 * three tags: champions and potential_loyalist -> rfm_best, cant_lose_them
 * and at_risk -> rfm_risk, lost -> rfm_lost, the rest nothing. Checked row by
 * row against the mapping applied naively. */
START_TEST(set_labels_rfm)
{
    seg_tagreg *r = load_reg(LABEL_TAGS, NULL, NULL);
    seg_rfm_scheme *sc = NULL;
    ck_assert_int_eq(seg_rfm_scheme_new_builtin(&sc, SEG_SCHEME_RFM10, NULL), SEG_OK);
    int32_t seg_of[5];
    const char *names[5] = {"champions", "potential_loyalist", "cant_lose_them", "at_risk",
                            "lost"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(seg_rfm_scheme_find(sc, names[i], &seg_of[i]), SEG_OK);
    int32_t map[11] = {0};
    map[seg_of[0]] = 6;
    map[seg_of[1]] = 6;
    map[seg_of[2]] = 7;
    map[seg_of[3]] = 7;
    map[seg_of[4]] = 8;
    enum { N = 130 };
    int32_t rr[N], ff[N], mm[N], seg[N];
    for (int i = 0; i < 125; i++) {
        rr[i] = 1 + i / 25;
        ff[i] = 1 + (i / 5) % 5;
        mm[i] = 1 + i % 5;
    }
    for (int i = 125; i < N; i++) { /* unscored: a 0 score gives no segment */
        rr[i] = i % 2 ? 0 : 3;
        ff[i] = 2;
        mm[i] = i % 2 ? 4 : 0;
    }
    char err[256];
    ck_assert_int_eq(seg_rfm_scheme_apply(sc, rr, ff, mm, N, seg, err, sizeof err), SEG_OK);
    for (int i = 125; i < N; i++)
        ck_assert_int_eq(seg[i], SEG_SEGMENT_NONE);
    seg_tagset *s = new_set(r, N, NULL);
    set_ok(s, 8, 125, 1); /* a stale "lost" on an unscored row */
    ck_assert_int_eq(seg_tagset_set_labels(s, seg, N, map, 11, err, sizeof err), SEG_OK);
    int64_t cnt[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        int32_t want = seg[i] >= 0 ? map[seg[i]] : 0;
        for (int32_t id = 6; id <= 8; id++) {
            ck_assert_msg(has(s, id, i) == (want == id), "row %d (R%d F%d M%d, segment %d): tag %d",
                          i, (int)rr[i], (int)ff[i], (int)mm[i], (int)seg[i], (int)id);
            cnt[id - 6] += want == id;
        }
    }
    /* lost takes 14 of the 25 R1 cells (hand count in test-tiers.c). */
    ck_assert_int_eq(cnt[2], 14);
    ck_assert_int_eq(count_of(s, 8), 14);
    ck_assert_int_eq(count_of(s, 6), cnt[0]);
    ck_assert_int_eq(count_of(s, 7), cnt[1]);
    ck_assert_int_gt(cnt[0], 1);
    seg_tagset_free(s);
    seg_rfm_scheme_free(sc);
    seg_tagreg_free(r);
}
END_TEST

START_TEST(set_labels_errors)
{
    seg_tagreg *r = load_reg(LABEL_TAGS, NULL, NULL);
    const size_t n = 10;
    seg_tagset *s = new_set(r, n, NULL);
    set_ok(s, 1, 0, 1);
    set_ok(s, 2, 9, 1);
    set_ok(s, 5, 3, 1);
    snap sn;
    snap_take(&sn, s);
    char err[256];
    int32_t labels[10] = {0, 1, 2, -1, 0, 1, 2, -1, 0, 1};
    const int32_t map[3] = {1, 2, 3};

    /* A label out of range names the row. */
    labels[5] = 3;
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, 3, err, sizeof err), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 5), "message \"%s\" does not name row 5", err);
    labels[5] = 1;
    labels[6] = -2;
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, 3, err, sizeof err), SEG_EDATA);
    ck_assert_msg(seg_test_names_row(err, 6), "message \"%s\" does not name row 6", err);
    labels[6] = INT32_MIN;
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, 3, err, sizeof err), SEG_EDATA);
    labels[6] = 2;
    snap_check(&sn, s, "bad labels");

    /* A mapped tag that is not registered: the message gives the label (4). */
    const int32_t badmap[5] = {1, 2, 3, 0, 99};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, badmap, 5, err, sizeof err),
                     SEG_ENOTFOUND);
    SEG_ASSERT_NUM(err, 4);
    const int32_t negmap[3] = {1, -5, 3};
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, negmap, 3, err, sizeof err),
                     SEG_ENOTFOUND);

    /* Counts and pointers. */
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, 0, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, -1, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, map, 65537, err, sizeof err),
                     SEG_ERANGE);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n - 1, map, 3, err, sizeof err),
                     SEG_EINVAL);
    SEG_ASSERT_NUM(err, (long long)n - 1);
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n + 1, map, 3, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_set_labels(NULL, labels, n, map, 3, err, sizeof err),
                     SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_set_labels(s, NULL, n, map, 3, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, n, NULL, 3, err, sizeof err), SEG_EINVAL);
    snap_check(&sn, s, "argument errors");
    snap_free(&sn);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- freeze -------------------------------------------------------------------------- */

START_TEST(freeze_set)
{
    seg_tagreg *r = load_reg(RULES, NULL, NULL);
    seg_tagset *s = rules_set(r, NULL);
    uint8_t v1[2];
    seg_frame *f1 = rules_frame(R_TXN1, v1);
    eval_ok(s, f1, NULL, 0);
    ck_assert_int_eq(seg_tagset_freeze(NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_tagset_freeze(s), SEG_OK);
    ck_assert_int_eq(seg_tagset_freeze(s), SEG_OK);
    snap sn;
    snap_take(&sn, s);
    char err[256];
    static const int64_t rows[] = {0, 2};
    uint8_t mask[RN] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    int32_t labels[RN] = {0};
    const int32_t map[1] = {R_VIP};
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set(s, R_VIP, 0, 1, err, sizeof err), SEG_ESTATE);
    SEG_ASSERT_WORD(err, "frozen");
    ck_assert_int_eq(seg_tagset_set(s, R_VIP, 1, 0, err, sizeof err), SEG_ESTATE);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_rows(s, R_VIP, rows, 2, 1, err, sizeof err), SEG_ESTATE);
    SEG_ASSERT_WORD(err, "frozen");
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_mask(s, R_VIP, mask, RN, 0, err, sizeof err), SEG_ESTATE);
    SEG_ASSERT_WORD(err, "frozen");
    ck_assert_int_eq(seg_tagset_reset(s, R_VIP), SEG_ESTATE);
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_eval_rules(s, f1, NULL, 0, err, sizeof err), SEG_ESTATE);
    SEG_ASSERT_WORD(err, "frozen");
    err[0] = '\0';
    ck_assert_int_eq(seg_tagset_set_labels(s, labels, RN, map, 1, err, sizeof err), SEG_ESTATE);
    SEG_ASSERT_WORD(err, "frozen");
    snap_check(&sn, s, "frozen");
    /* Reads still work. */
    expect_f1(s, "frozen reads");
    int32_t ids[2] = {R_A, R_B};
    int64_t co[4];
    ck_assert_int_eq(seg_tagset_cooccurrence(s, ids, 2, co, err, sizeof err), SEG_OK);
    ck_assert_int_eq(co[1], 7); /* a is inside b */
    snap_free(&sn);
    seg_frame_free(f1);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------- */

#define TH_N 8
#define TH_ITER 3

typedef struct th_job {
    const seg_tagset *set;
    size_t offset;
    const int64_t *counts; /* MAIN_K */
    const int64_t *cooc;   /* MAIN_K x MAIN_K */
    const uint8_t *masks;  /* MAIN_K x BIG_N */
    long mismatches;
    int32_t rc;
} th_job;

static void *th_run(void *arg)
{
    th_job *j = arg;
    j->mismatches = 0;
    j->rc = SEG_OK;
    uint8_t *buf = malloc(BIG_N);
    if (!buf) {
        j->rc = SEG_ENOMEM;
        return NULL;
    }
    for (int it = 0; it < TH_ITER; it++) {
        for (int t = 0; t < MAIN_K; t++) {
            int64_t c = -1;
            int32_t rc = seg_tagset_count(j->set, MAIN_IDS[t], &c);
            if (rc != SEG_OK)
                j->rc = rc;
            j->mismatches += c != j->counts[t];
        }
        int64_t co[MAIN_K * MAIN_K];
        char err[128];
        int32_t rc = seg_tagset_cooccurrence(j->set, MAIN_IDS, MAIN_K, co, err, sizeof err);
        if (rc != SEG_OK)
            j->rc = rc;
        for (int i = 0; i < MAIN_K * MAIN_K; i++)
            j->mismatches += co[i] != j->cooc[i];
        for (size_t row = j->offset; row < BIG_N; row += 61) {
            for (int t = 0; t < MAIN_K; t++) {
                int32_t v = -1;
                rc = seg_tagset_test(j->set, MAIN_IDS[t], (int64_t)row, &v);
                if (rc != SEG_OK)
                    j->rc = rc;
                j->mismatches += v != j->masks[(size_t)t * BIG_N + row];
            }
        }
        int t = (int)((j->offset + (size_t)it) % MAIN_K);
        rc = seg_tagset_get_mask(j->set, MAIN_IDS[t], buf, BIG_N);
        if (rc != SEG_OK)
            j->rc = rc;
        j->mismatches += memcmp(buf, j->masks + (size_t)t * BIG_N, BIG_N) != 0;
        size_t mem = 0;
        rc = seg_tagset_memory(j->set, 0, &mem);
        if (rc != SEG_OK || mem == 0)
            j->mismatches++;
    }
    free(buf);
    return NULL;
}

START_TEST(threads_read_only)
{
    seg_tagreg *r = main_reg(NULL);
    seg_tagset *s = new_set(r, BIG_N, NULL);
    uint64_t seed = 77;
    uint8_t *mask = malloc(BIG_N);
    ck_assert_ptr_nonnull(mask);
    /* Every chunk form: sparse, dense, full chunk, empty. */
    static const uint64_t dens[MAIN_K] = {500000, 300000, 300000, 1000, 30, 0};
    for (int t = 0; t < MAIN_K; t++) {
        for (size_t i = 0; i < BIG_N; i++)
            mask[i] = (uint8_t)((seg_test_rng(&seed) % 1000000) < dens[t]);
        if (t == 5)
            memset(mask + 2 * CHUNK, 1, CHUNK);
        mask_ok(s, MAIN_IDS[t], mask, BIG_N, 1);
    }
    free(mask);
    ck_assert_int_eq(seg_tagset_freeze(s), SEG_OK);
    /* Single-threaded answers. */
    int64_t counts[MAIN_K], cooc[MAIN_K * MAIN_K];
    uint8_t *masks = malloc((size_t)MAIN_K * BIG_N);
    ck_assert_ptr_nonnull(masks);
    for (int t = 0; t < MAIN_K; t++) {
        counts[t] = count_of(s, MAIN_IDS[t]);
        ck_assert_int_eq(seg_tagset_get_mask(s, MAIN_IDS[t], masks + (size_t)t * BIG_N, BIG_N),
                         SEG_OK);
        int64_t c = 0;
        for (size_t i = 0; i < BIG_N; i++)
            c += masks[(size_t)t * BIG_N + i];
        ck_assert_int_eq(c, counts[t]);
    }
    char err[128];
    ck_assert_int_eq(seg_tagset_cooccurrence(s, MAIN_IDS, MAIN_K, cooc, err, sizeof err), SEG_OK);
    ck_assert_int_eq(counts[5], CHUNK);
    pthread_t th[TH_N];
    th_job jobs[TH_N];
    for (size_t k = 0; k < TH_N; k++) {
        jobs[k] = (th_job){s, k * 7, counts, cooc, masks, 0, -100};
        ck_assert_int_eq(pthread_create(&th[k], NULL, th_run, &jobs[k]), 0);
    }
    for (size_t k = 0; k < TH_N; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        ck_assert_int_eq(jobs[k].rc, SEG_OK);
        ck_assert_msg(jobs[k].mismatches == 0, "thread %zu: %ld mismatches", k,
                      jobs[k].mismatches);
    }
    free(masks);
    seg_tagset_free(s);
    seg_tagreg_free(r);
}
END_TEST

/* ---- failing allocations --------------------------------------------------------------- */

/* Calls `op` with the k-th allocation failing (k = 0, 1, ...; in `sticky`
 * mode every later one fails too) until it succeeds. Each failure must be
 * SEG_ENOMEM with the set, its counts and its memory unchanged and no block
 * more or less alive. Returns the number of failures seen. */
typedef int32_t (*oom_op)(seg_tagset *s, void *ctx, char *err, size_t cap);

static long oom_loop(seg_test_alloc *ta, seg_tagset *s, oom_op op, void *ctx, int sticky,
                     const char *what)
{
    ta->sticky = sticky;
    long fails = 0;
    for (size_t k = 0; k < 100000; k++) {
        snap sn;
        snap_take(&sn, s);
        size_t live = ta->live;
        char err[256] = "";
        seg_test_alloc_fail_next(ta, k);
        int32_t rc = op(s, ctx, err, sizeof err);
        int failed = ta->failures > 0;
        seg_test_alloc_no_fail(ta);
        if (rc == SEG_OK) {
            snap_free(&sn);
            if (!failed) { /* every allocation it made succeeded: done */
                ta->sticky = 0;
                return fails;
            }
            /* It coped without the failed block (a fallback path). The
             * operations used here are idempotent, so go on: the next
             * attempts start from the new state (and the caller checks it). */
            continue;
        }
        ck_assert_msg(rc == SEG_ENOMEM, "%s: allocation %zu failing: rc %d (%s)", what, k,
                      (int)rc, err);
        char w[128];
        snprintf(w, sizeof w, "%s, allocation %zu failing", what, k);
        snap_check(&sn, s, w);
        snap_free(&sn);
        ck_assert_msg(ta->live == live, "%s: %zu blocks live after the failure, %zu before", w,
                      ta->live, live);
        fails++;
    }
    ck_abort_msg("%s: never succeeded", what);
    return fails;
}

typedef struct rows_ctx {
    int32_t id;
    const int64_t *rows;
    size_t n;
    int32_t value;
} rows_ctx;

static int32_t op_set_rows(seg_tagset *s, void *ctx, char *err, size_t cap)
{
    rows_ctx *c = ctx;
    return seg_tagset_set_rows(s, c->id, c->rows, c->n, c->value, err, cap);
}

typedef struct mask_ctx {
    int32_t id;
    const uint8_t *mask;
    int32_t value;
} mask_ctx;

static int32_t op_set_mask(seg_tagset *s, void *ctx, char *err, size_t cap)
{
    mask_ctx *c = ctx;
    return seg_tagset_set_mask(s, c->id, c->mask, seg_tagset_n_rows(s), c->value, err, cap);
}

static int32_t op_set_one(seg_tagset *s, void *ctx, char *err, size_t cap)
{
    rows_ctx *c = ctx;
    return seg_tagset_set(s, c->id, c->rows[0], c->value, err, cap);
}

typedef struct eval_ctx {
    const seg_frame *frame;
    const int32_t *ids;
    size_t n;
} eval_ctx;

static int32_t op_eval(seg_tagset *s, void *ctx, char *err, size_t cap)
{
    eval_ctx *c = ctx;
    return seg_tagset_eval_rules(s, c->frame, c->ids, c->n, err, cap);
}

typedef struct labels_ctx {
    const int32_t *labels;
    const int32_t *map;
    int32_t n_labels;
} labels_ctx;

static int32_t op_labels(seg_tagset *s, void *ctx, char *err, size_t cap)
{
    labels_ctx *c = ctx;
    return seg_tagset_set_labels(s, c->labels, seg_tagset_n_rows(s), c->map, c->n_labels, err,
                                 cap);
}

/* A big set in every chunk form, through the counting allocator. */
static seg_tagset *oom_big_set(const seg_tagreg *r, seg_test_alloc *ta, model *m)
{
    seg_tagset *s = new_set(r, BIG_N, &ta->base);
    model_init(m, BIG_N, MAIN_K, MAIN_IDS, MAIN_GROUP);
    uint8_t *mask = calloc(BIG_N, 1);
    ck_assert_ptr_nonnull(mask);
    /* vip: a few rows in chunk 0, all of chunk 1, every 3rd row of chunk 2. */
    for (size_t i = 0; i < BIG_N; i++)
        mask[i] = (uint8_t)((i < CHUNK && i % 1000 == 0) || (i >= CHUNK && i < 2 * CHUNK) ||
                            (i >= 2 * CHUNK && i < 3 * CHUNK && i % 3 == 0));
    mask_ok(s, T_VIP, mask, BIG_N, 1);
    for (size_t i = 0; i < BIG_N; i++)
        if (mask[i])
            model_put(m, T_VIP, i, 1);
    /* 新客: every 5th row everywhere. */
    for (size_t i = 0; i < BIG_N; i++)
        mask[i] = (uint8_t)(i % 5 == 0);
    mask_ok(s, T_NEW, mask, BIG_N, 1);
    for (size_t i = 0; i < BIG_N; i += 5)
        model_put(m, T_NEW, i, 1);
    free(mask);
    return s;
}

START_TEST(oom_setters)
{
    seg_tagreg *r = main_reg(NULL);
    for (int sticky = 0; sticky <= 1; sticky++) {
        seg_test_alloc ta;
        seg_test_alloc_init(&ta);
        model m;
        seg_tagset *s = oom_big_set(r, &ta, &m);

        /* set_rows of 活跃 (clears 新客 there): 5000 rows in chunk 0 (list ->
         * bitmap), rows in chunks 2 and 3, in random order. */
        int64_t *rows = malloc(6000 * sizeof *rows);
        ck_assert_ptr_nonnull(rows);
        uint64_t seed = 3;
        for (size_t i = 0; i < 5000; i++)
            rows[i] = (int64_t)(i * 13);
        for (size_t i = 5000; i < 6000; i++)
            rows[i] = (int64_t)(2 * CHUNK + seg_test_rng(&seed) % (BIG_N - 2 * CHUNK));
        for (size_t i = 6000; i > 1; i--) {
            size_t k = (size_t)(seg_test_rng(&seed) % i);
            int64_t t = rows[i - 1];
            rows[i - 1] = rows[k];
            rows[k] = t;
        }
        rows_ctx rc = {T_ACTIVE, rows, 6000, 1};
        long f1 = oom_loop(&ta, s, op_set_rows, &rc, sticky, "set_rows");
        ck_assert_int_gt(f1, 0);
        for (size_t i = 0; i < 6000; i++)
            model_put(&m, T_ACTIVE, (size_t)rows[i], 1);
        model_check(s, &m, "after set_rows");

        /* set_mask clearing vip on part of the full chunk 1 (full -> bitmap)
         * and in chunk 0. */
        uint8_t *mask = calloc(BIG_N, 1);
        ck_assert_ptr_nonnull(mask);
        for (size_t i = 0; i < 2 * CHUNK; i += 7)
            mask[i] = 1;
        mask_ctx mc = {T_VIP, mask, 0};
        long f2 = oom_loop(&ta, s, op_set_mask, &mc, sticky, "set_mask clear");
        ck_assert_int_gt(f2, 0);
        for (size_t i = 0; i < BIG_N; i++)
            if (mask[i])
                model_put(&m, T_VIP, i, 0);
        model_check(s, &m, "after set_mask clear");

        /* set_mask setting 流失 on every 4th row (clears 新客 and 活跃 there). */
        for (size_t i = 0; i < BIG_N; i++)
            mask[i] = (uint8_t)(i % 4 == 0);
        mask_ctx mc2 = {T_LOST, mask, 1};
        long f3 = oom_loop(&ta, s, op_set_mask, &mc2, sticky, "set_mask group");
        ck_assert_int_gt(f3, 0);
        for (size_t i = 0; i < BIG_N; i += 4)
            model_put(&m, T_LOST, i, 1);
        model_check(s, &m, "after set_mask group");

        /* A single row in an empty chunk of an empty tag. */
        int64_t one = 150000;
        rows_ctx oc = {T_HIGH, &one, 1, 1};
        oom_loop(&ta, s, op_set_one, &oc, sticky, "set");
        model_put(&m, T_HIGH, 150000, 1);
        model_check(s, &m, "after set");

        free(mask);
        free(rows);
        model_free(&m);
        seg_tagset_free(s);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
    }
    seg_tagreg_free(r);
}
END_TEST

START_TEST(oom_eval_and_labels)
{
    for (int sticky = 0; sticky <= 1; sticky++) {
        seg_test_alloc ta;
        seg_test_alloc_init(&ta);
        /* The registry through the same allocator too. */
        seg_tagreg *r = load_reg(RULES, NULL, &ta.base);
        seg_tagset *s = rules_set(r, &ta.base);
        uint8_t v1[2], v2[2];
        seg_frame *f1 = rules_frame(R_TXN1, v1);
        seg_frame *f2 = rules_frame(R_TXN2, v2);
        eval_ok(s, f1, NULL, 0);
        expect_f1(s, "before");
        eval_ctx ec = {f2, NULL, 0};
        long fails = oom_loop(&ta, s, op_eval, &ec, sticky, "eval_rules");
        ck_assert_int_gt(fails, 0);
        EXPECT(s, R_A, "F2 after OOM", 0, 3);
        EXPECT(s, R_B, "F2 after OOM", 0, 1, 3, 5, 10);
        EXPECT(s, R_C, "F2 after OOM", 1);
        EXPECT(s, R_HI, "F2 after OOM", 0);
        EXPECT(s, R_MID, "F2 after OOM", 3);
        EXPECT(s, R_MAN, "F2 after OOM", 11);
        const int32_t cb[2] = {R_C, R_B};
        eval_ctx ec2 = {f1, cb, 2};
        oom_loop(&ta, s, op_eval, &ec2, sticky, "eval_rules listed");
        /* b from the held a {0,3} and vip {1,5,10}; c = b and aum >= 100. */
        EXPECT(s, R_B, "listed after OOM", 0, 1, 3, 5, 10);
        EXPECT(s, R_C, "listed after OOM", 1);
        seg_frame_free(f1);
        seg_frame_free(f2);
        seg_tagset_free(s);
        seg_tagreg_free(r);
        ck_assert_uint_eq(ta.live, 0);

        /* set_labels on a big set (the mapping's tags in several forms). */
        r = load_reg(LABEL_TAGS, NULL, NULL);
        s = new_set(r, BIG_N, &ta.base);
        int32_t *labels = malloc(BIG_N * sizeof *labels);
        ck_assert_ptr_nonnull(labels);
        for (size_t i = 0; i < BIG_N; i++)
            labels[i] = i < CHUNK ? 0 : (int32_t)(i % 4) - 1; /* chunk 0 all private_banking */
        const int32_t map[3] = {1, 2, 3};
        labels_ctx lc = {labels, map, 3};
        static const int64_t man[] = {5, 70000, 199999};
        rows_ok(s, 4, man, 3, 1); /* manual_tier: loses 5 (label 0) and 199999 (label 2) */
        set_ok(s, 2, 3, 1);       /* stale wealth on row 3 */
        fails = oom_loop(&ta, s, op_labels, &lc, sticky, "set_labels");
        ck_assert_int_gt(fails, 0);
        int64_t want[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < BIG_N; i++)
            if (labels[i] >= 0)
                want[labels[i]]++;
        ck_assert_int_eq(count_of(s, 1), want[0]);
        ck_assert_int_eq(count_of(s, 2), want[1]);
        ck_assert_int_eq(count_of(s, 3), want[2]);
        EXPECT(s, 4, "manual after labels", 70000); /* 70000 % 4 = 0: label -1 */
        ck_assert_int_eq(has(s, 2, 3), 0);
        ck_assert_int_eq(has(s, 1, 3), 1);
        free(labels);
        seg_tagset_free(s);
        seg_tagreg_free(r);
        ck_assert_uint_eq(ta.live, 0);
        ck_assert_uint_eq(ta.bad_frees, 0);
    }
}
END_TEST

START_TEST(oom_new)
{
    seg_tagreg *r = main_reg(NULL);
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    ta.sticky = 1;
    int ok = 0;
    for (size_t k = 0; k < 1000 && !ok; k++) {
        seg_tagset *s = CANARY_PTR, *sentinel = s;
        seg_test_alloc_fail_next(&ta, k);
        int32_t rc = seg_tagset_new(&s, r, BIG_N, &ta.base);
        seg_test_alloc_no_fail(&ta);
        if (rc == SEG_OK) {
            ok = 1;
            set_ok(s, T_VIP, 5, 1);
            ck_assert_int_eq(count_of(s, T_VIP), 1);
            seg_tagset_free(s);
        } else {
            ck_assert_msg(rc == SEG_ENOMEM, "allocation %zu failing: rc %d", k, (int)rc);
            ck_assert_ptr_eq(s, sentinel);
        }
        ck_assert_uint_eq(ta.live, 0);
    }
    ck_assert(ok);
    ck_assert_uint_eq(ta.bad_frees, 0);
    seg_tagreg_free(r);
}
END_TEST

/* ---- suite ---------------------------------------------------------------------------- */

static Suite *tagset_suite(void)
{
    Suite *s = suite_create("tagset");
    TCase *tc = tcase_create("basic");
    tcase_add_test(tc, new_errors);
    tcase_add_test(tc, zero_rows);
    tcase_add_test(tc, registry_freed_first);
    tcase_add_test(tc, set_and_test_single);
    tcase_add_test(tc, set_rows_small);
    tcase_add_test(tc, set_rows_large);
    tcase_add_test(tc, set_mask_reset_get);
    tcase_add_test(tc, random_ops_vs_model);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("storage");
    tcase_add_test(tc, chunk_transitions);
    tcase_add_test(tc, last_partial_chunk);
    tcase_add_test(tc, partial_chunk_dense_memory);
    tcase_add_test(tc, memory_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("groups");
    tcase_add_test(tc, groups_every_setter);
    tcase_add_test(tc, cooccurrence_known);
    tcase_add_test(tc, cooccurrence_vs_naive);
    suite_add_tcase(s, tc);

    tc = tcase_create("rules");
    tcase_add_test(tc, eval_rules_all);
    tcase_add_test(tc, eval_rules_listed);
    tcase_add_test(tc, eval_rules_errors);
    tcase_add_test(tc, eval_rules_built_big);
    suite_add_tcase(s, tc);

    tc = tcase_create("labels");
    tcase_add_test(tc, set_labels_tiers);
    tcase_add_test(tc, set_labels_rfm);
    tcase_add_test(tc, set_labels_errors);
    tcase_add_test(tc, freeze_set);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads_oom");
    tcase_add_test(tc, threads_read_only);
    tcase_add_test(tc, oom_setters);
    tcase_add_test(tc, oom_eval_and_labels);
    tcase_add_test(tc, oom_new);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(tagset_suite());
}
