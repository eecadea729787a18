/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: audience queries (seg_query_compile and the three ways
 * to run a query).
 *
 * Built once: a fixed registry (loaded from REGISTRY_TEXT: Chinese and
 * ASCII names, aliases, an exclusive group, rule tags, model tags, offline,
 * draft and disabled tags) and three tag sets of it: 70000 rows (two
 * chunks, the second partial), 65536 rows (exactly one chunk) and 0 rows.
 * The tags are written with every setter so that their chunks take every
 * storage form (empty, full, a list, exactly 4096 and 4097 rows, a bitmap,
 * bitmaps cleared back down to lists, rows at the chunk edges); a
 * reference bitset per tag, kept by the harness with the exclusive-group
 * rule applied, must equal what the set holds, and the memory a tag uses
 * must stay within tagset.h's bounds (checked at start-up).
 *
 * The input is the query text. Independently of the library the harness
 * lexes, parses (query.h / doc/tags.md grammar, `not` > `and` > `or`),
 * resolves names (its own normalisation, tags.h) and evaluates the query
 * on the reference bitsets. Then:
 *   - seg_query_compile with err_cap 512, 1, 0 and a NULL buffer agree; a
 *     failure is SEG_EPARSE with "fuzz:line:col: message", *out untouched;
 *     "unknown tag 'X'" lists exactly seg_tagreg_suggest's first three;
 *   - the library and the harness agree on accepting the text (except
 *     where the headers leave the lexis open: tabs/newlines, '#', escapes,
 *     upper-case keywords, deep nesting); U+3000 separates words;
 *   - on every set: count == ones in mask == rows of a full select ==
 *     total of a paged select (small limit, row_begin one past the last
 *     row), rows ascending and exactly the mask's, select from arbitrary
 *     row_begin gives the next matching rows; all equal the harness's
 *     evaluation; bad row_begin / n / registry are refused, outputs
 *     untouched;
 *   - "not (Q)" matches exactly the other rows; "(Q) and (Q)" and
 *     "(Q) or false" match the same rows (on the 70000-row set for every
 *     input, on the 65536-row set for one in four: speed).
 * Masks are compared as bytes with memcmp and rows walked a word at a time,
 * so the per-input cost is the library's, not the harness's loops.
 * abort() on any broken invariant.
 */
#include "fuzz_common.h"

#define ERR_CAP 512
#define BIG_ROWS 70000
#define CHUNK 65536
#define MAX_PAGES 6 /* then one select for the rest: each page evaluates a chunk */

/* ------------------------------------------------------------------------
 * The fixed registry
 * ---------------------------------------------------------------------- */

static const char REGISTRY_TEXT[] =
    "libsegment-tags 1\n"
    "# fixed registry of fuzz_query\n"
    "next_id 40\n"
    "tag 1 \"首购客户\"\n"
    "  alias \"客户首单\" \"first purchase\"\n"
    "  category \"生命周期/首购\"\n"
    "  group lifecycle\n"
    "tag 2 \"复购客户\"\n"
    "  alias \"repeat buyer\"\n"
    "  category \"生命周期/复购\"\n"
    "  group lifecycle\n"
    "tag 3 \"流失\"\n"
    "  alias \"churned\" \"流失客户\"\n"
    "  category \"生命周期/流失\"\n"
    "  group \"LifeCycle\"\n"
    "tag 4 \"VIP\"\n"
    "  alias \"贵宾\" \"vip客户\"\n"
    "  category \"服务/等级\"\n"
    "tag 5 \"理财偏好\"\n"
    "  alias \"wealth_pref\"\n"
    "tag 6 \"基金持有\"\n"
    "  alias \"fund holder\"\n"
    "  source derived\n"
    "tag 7 \"高频\"\n"
    "  category \"行为/交易\"\n"
    "  when txn_90d >= 10\n"
    "tag 8 \"停用标签\"\n"
    "  alias \"old_flag\"\n"
    "  status disabled\n"
    "tag 9 \"empty\"\n"
    "tag 10 \"all_rows\"\n"
    "  alias \"全部\"\n"
    "tag 11 \"sparse\"\n"
    "tag 12 \"dense\"\n"
    "tag 13 \"edge\"\n"
    "tag 14 \"list4096\"\n"
    "tag 15 \"list4097\"\n"
    "tag 16 \"seg_champions\"\n"
    "  alias \"冠军\"\n"
    "  kind model\n"
    "tag 17 \"seg_at_risk\"\n"
    "  kind model\n"
    "tag 18 \"offline tag\"\n"
    "  status offline\n"
    "tag 19 \"draft_tag\"\n"
    "  status draft\n"
    "tag 20 \"高价值\"\n"
    "  when vip == 1 and aum >= 1000000\n"
    "tag 21 \"chunk1_full\"\n"
    "tag 22 \"chunk0_full\"\n"
    "tag 23 \"shrunk\"\n"
    "tag 24 \"Ｆｕｌｌ Width\"\n"
    "tag 25 \"x\"\n"
    "  alias \"_\" \"a1\"\n"
    "tag 31 \"旧规则\"\n"
    "  status disabled\n"
    "  when txn_90d >= 15\n";

enum {
    T_FIRST = 1, T_REPEAT = 2, T_CHURN = 3, T_VIP = 4, T_WEALTH = 5, T_FUND = 6, T_FREQ = 7,
    T_DISABLED = 8, T_EMPTY = 9, T_ALL = 10, T_SPARSE = 11, T_DENSE = 12, T_EDGE = 13,
    T_L4096 = 14, T_L4097 = 15, T_CHAMP = 16, T_RISK = 17, T_OFFLINE = 18, T_DRAFT = 19,
    T_HIGHVAL = 20, T_C1FULL = 21, T_C0FULL = 22, T_SHRUNK = 23, T_FULLWIDTH = 24, T_X = 25,
    T_OLDRULE = 31, MAX_ID = 32
};

/* ------------------------------------------------------------------------
 * Bitsets
 * ---------------------------------------------------------------------- */

typedef struct bits {
    size_t n; /* rows */
    uint64_t *w;
} bits;

static size_t words(size_t n)
{
    return (n + 63) / 64;
}

static bits bits_new(size_t n, int fill)
{
    bits b;
    b.n = n;
    b.w = fz_xmalloc(words(n) * 8 + 8);
    memset(b.w, fill ? 0xFF : 0, words(n) * 8 + 8);
    if (fill && n % 64)
        b.w[n / 64] &= (UINT64_C(1) << (n % 64)) - 1;
    return b;
}

static int bits_get(const bits *b, size_t r)
{
    return (int)((b->w[r / 64] >> (r % 64)) & 1);
}

static void bits_put(bits *b, size_t r, int v)
{
    if (v)
        b->w[r / 64] |= UINT64_C(1) << (r % 64);
    else
        b->w[r / 64] &= ~(UINT64_C(1) << (r % 64));
}

/* The first set row >= r, or b->n. */
static size_t next_set(const bits *b, size_t r)
{
    if (r >= b->n)
        return b->n;
    size_t i = r / 64;
    uint64_t w = b->w[i] & (~UINT64_C(0) << (r % 64));
    while (!w) {
        if (++i >= words(b->n))
            return b->n;
        w = b->w[i];
    }
    size_t x = i * 64 + (size_t)__builtin_ctzll(w);
    return x < b->n ? x : b->n;
}

static size_t bits_count(const bits *b)
{
    size_t c = 0;
    for (size_t i = 0; i < words(b->n); i++)
        c += (size_t)__builtin_popcountll(b->w[i]);
    return c;
}

/* The bits as one byte per row (0/1, or 1/0 with `flip`), 8 rows per
 * step, so masks compare with memcmp instead of a loop per row. */
static void bits_bytes(const bits *b, uint8_t *out, int flip)
{
    static uint8_t spread[256][8];
    if (!spread[1][0])
        for (int v = 0; v < 256; v++)
            for (int k = 0; k < 8; k++)
                spread[v][k] = (uint8_t)((v >> k) & 1);
    for (size_t i = 0; i < words(b->n); i++) {
        uint64_t w = flip ? ~b->w[i] : b->w[i];
        size_t lim = b->n - i * 64 < 64 ? b->n - i * 64 : 64;
        for (size_t k = 0; k < lim; k += 8)
            memcpy(out + i * 64 + k, spread[(w >> k) & 0xFF], lim - k < 8 ? lim - k : 8);
    }
}

/* First row where two byte masks differ (n when equal). */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (memcmp(a, b, n) == 0)
        return n;
    size_t r = 0;
    while (a[r] == b[r])
        r++;
    return r;
}

/* ------------------------------------------------------------------------
 * The fixture
 * ---------------------------------------------------------------------- */

typedef struct fixture {
    seg_tagset *set;
    size_t n;
    bits ref[MAX_ID]; /* by tag id; unused ids stay empty */
} fixture;

typedef struct name_entry {
    char *key;
    int32_t id;
} name_entry;

static seg_tagreg *g_reg, *g_other_reg;
static seg_tagset *g_other_set;
static fixture g_fix[3];
static name_entry *g_names;
static size_t g_n_names;
static int32_t g_group_of[MAX_ID]; /* 1 for the lifecycle tags, else 0 */
static int32_t g_status[MAX_ID];
static int64_t *g_rows, *g_rows2; /* BIG_ROWS + 1 each */
static uint8_t *g_mask, *g_mask2, *g_want, *g_5a;

static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void ref_put(fixture *fx, int32_t id, size_t r, int v)
{
    bits_put(&fx->ref[id], r, v);
    if (v && g_group_of[id])
        for (int32_t u = 1; u < MAX_ID; u++)
            if (u != id && g_group_of[u] == g_group_of[id])
                bits_put(&fx->ref[u], r, 0);
}

static void set_rows(fixture *fx, int32_t id, const int64_t *rows, size_t n, int v)
{
    char err[ERR_CAP];
    int32_t rc = seg_tagset_set_rows(fx->set, id, rows, n, v, err, sizeof err);
    CHECK(rc == SEG_OK, "setup: set_rows(%d) gave %d: %s", (int)id, (int)rc, err);
    for (size_t i = 0; i < n; i++)
        ref_put(fx, id, (size_t)rows[i], v);
}

/* Sets tag `id` (value v) on the rows r where pred(r) holds, through
 * set_rows (several calls, unsorted) or set_mask. */
typedef int (*row_pred)(size_t r, size_t n);

static void set_where(fixture *fx, int32_t id, row_pred pred, int v, int use_mask)
{
    const size_t n = fx->n;
    if (use_mask) {
        uint8_t *m = fz_xmalloc(n + 1);
        for (size_t r = 0; r < n; r++)
            m[r] = pred(r, n) ? (uint8_t)(1 + r % 200) : 0;
        char err[ERR_CAP];
        int32_t rc = seg_tagset_set_mask(fx->set, id, m, n, v, err, sizeof err);
        CHECK(rc == SEG_OK, "setup: set_mask(%d) gave %d: %s", (int)id, (int)rc, err);
        for (size_t r = 0; r < n; r++)
            if (m[r])
                ref_put(fx, id, r, v);
        free(m);
        return;
    }
    int64_t *rows = fz_xmalloc((n + 1) * sizeof *rows);
    size_t k = 0;
    /* descending, to give the library unsorted input */
    for (size_t r = n; r-- > 0;)
        if (pred(r, n))
            rows[k++] = (int64_t)r;
    set_rows(fx, id, rows, k, v);
    free(rows);
}

static int p_first(size_t r, size_t n) { (void)n; return r % 5 == 0; }
static int p_repeat(size_t r, size_t n) { (void)n; return r % 7 == 0; }
static int p_churn(size_t r, size_t n) { (void)n; return r % 11 == 0; }
static int p_vip(size_t r, size_t n) { (void)n; return hash32((uint32_t)r) % 50 == 0; }
static int p_half(size_t r, size_t n) { (void)n; return hash32((uint32_t)r ^ 0xabcu) & 1; }
static int p_third(size_t r, size_t n) { (void)n; return hash32((uint32_t)r ^ 0x123u) % 3 == 0; }
static int p_13(size_t r, size_t n) { (void)n; return r % 13 == 0; }
static int p_all(size_t r, size_t n) { (void)r; (void)n; return 1; }
static int p_sparse(size_t r, size_t n) { (void)n; return r % 997 == 0; }
static int p_dense(size_t r, size_t n) { (void)n; return r % 1000 != 0; }
static int p_edge(size_t r, size_t n)
{
    return r == 0 || r == 1 || r == CHUNK - 2 || r == CHUNK - 1 || r == CHUNK ||
           r == CHUNK + 1 || r + 1 == n;
}
/* exactly 4096 rows in each chunk: every 16th row of the first, the first
 * 4096 rows of the second (a list at its largest) */
static int p_4096(size_t r, size_t n)
{
    (void)n;
    return r < CHUNK ? r % 16 == 0 : r - CHUNK < 4096;
}
/* 4097 rows in each chunk: one more than a list holds */
static int p_4097(size_t r, size_t n) { return p_4096(r, n) || r == 1 || r == CHUNK + 4096; }
static int p_chunk1(size_t r, size_t n) { (void)n; return r >= CHUNK; }
static int p_chunk0(size_t r, size_t n) { (void)n; return r < CHUNK; }
static int p_not_100(size_t r, size_t n) { (void)n; return r % 100 != 0; }
static int p_3_of_100(size_t r, size_t n) { (void)n; return hash32((uint32_t)r ^ 0x777u) % 100 < 3; }
static int p_mod3_1(size_t r, size_t n) { (void)n; return r % 3 == 1; }
static int p_x(size_t r, size_t n) { (void)n; return (r / 3) % 2 == 0; }

static int32_t frame_txn(size_t r)
{
    return (int32_t)(hash32((uint32_t)r ^ 0x5eedu) % 20);
}

static double frame_aum(size_t r)
{
    if (r % 17 == 0)
        return NAN;
    return (double)(hash32((uint32_t)r ^ 0xa0au) % 3000000);
}

static void build_fixture(fixture *fx, size_t n)
{
    char err[ERR_CAP];
    fx->n = n;
    int32_t rc = seg_tagset_new(&fx->set, g_reg, n, NULL);
    CHECK(rc == SEG_OK, "setup: tagset_new(%zu) gave %d", n, (int)rc);
    for (int32_t id = 0; id < MAX_ID; id++)
        fx->ref[id] = bits_new(n, 0);

    set_where(fx, T_FIRST, p_first, 1, 0);
    set_where(fx, T_REPEAT, p_repeat, 1, 1);
    set_where(fx, T_CHURN, p_churn, 1, 0);
    set_where(fx, T_VIP, p_vip, 1, 0);
    set_where(fx, T_WEALTH, p_half, 1, 1);
    set_where(fx, T_FUND, p_third, 1, 0);
    set_where(fx, T_DISABLED, p_13, 1, 0);
    set_where(fx, T_ALL, p_all, 1, 1);
    set_where(fx, T_SPARSE, p_sparse, 1, 0);
    set_where(fx, T_DENSE, p_dense, 1, 1);
    set_where(fx, T_EDGE, p_edge, 1, 0);
    set_where(fx, T_L4096, p_4096, 1, 0);
    set_where(fx, T_L4097, p_4097, 1, 1);
    set_where(fx, T_C1FULL, p_chunk1, 1, 0);
    set_where(fx, T_C0FULL, p_chunk0, 1, 1);
    /* a bitmap cleared down to a list, then a list cleared to nothing in
     * the first chunk */
    set_where(fx, T_SHRUNK, p_all, 1, 1);
    set_where(fx, T_SHRUNK, p_not_100, 0, 1);
    set_where(fx, T_SHRUNK, p_chunk0, 0, 0);
    set_where(fx, T_SHRUNK, p_sparse, 1, 0);
    set_where(fx, T_OFFLINE, p_mod3_1, 1, 0);
    set_where(fx, T_DRAFT, p_3_of_100, 1, 1);
    set_where(fx, T_FULLWIDTH, p_13, 1, 1);
    set_where(fx, T_X, p_x, 1, 0);
    /* single-row setters at the edges */
    if (n > 0) {
        int32_t ids[] = {T_EMPTY, T_EMPTY, T_SPARSE, T_DENSE};
        int32_t vals[] = {1, 0, 1, 0};
        size_t rows[] = {n - 1, n - 1, n / 2, 0};
        for (size_t i = 0; i < 4; i++) {
            rc = seg_tagset_set(fx->set, ids[i], (int64_t)rows[i], vals[i], err, sizeof err);
            CHECK(rc == SEG_OK, "setup: set gave %d: %s", (int)rc, err);
            ref_put(fx, ids[i], rows[i], vals[i]);
        }
    }

    /* model tags: labels -1..2, label 0 maps to nothing */
    {
        int32_t *labels = fz_xmalloc((n + 1) * sizeof *labels);
        const int32_t map[3] = {0, T_CHAMP, T_RISK};
        for (size_t r = 0; r < n; r++)
            labels[r] = (int32_t)(hash32((uint32_t)r ^ 0xbeefu) % 4) - 1;
        rc = seg_tagset_set_labels(fx->set, labels, n, map, 3, err, sizeof err);
        CHECK(rc == SEG_OK, "setup: set_labels gave %d: %s", (int)rc, err);
        for (size_t r = 0; r < n; r++)
            if (labels[r] > 0)
                ref_put(fx, map[labels[r]], r, 1);
        free(labels);
    }

    /* rule tags over a frame */
    {
        int32_t *txn = fz_xmalloc((n + 1) * sizeof *txn);
        double *aum = fz_xmalloc((n + 1) * sizeof *aum);
        for (size_t r = 0; r < n; r++) {
            txn[r] = frame_txn(r);
            aum[r] = frame_aum(r);
        }
        seg_frame *f = NULL;
        FZ_OK(seg_frame_new(&f, n, NULL));
        FZ_OK(seg_frame_add_int32(f, "txn_90d", txn, NULL));
        FZ_OK(seg_frame_add_double(f, "aum", aum, NULL));
        rc = seg_tagset_eval_rules(fx->set, f, NULL, 0, err, sizeof err);
        CHECK(rc == SEG_OK, "setup: eval_rules gave %d: %s", (int)rc, err);
        for (size_t r = 0; r < n; r++) {
            ref_put(fx, T_FREQ, r, txn[r] >= 10);
            ref_put(fx, T_HIGHVAL, r, bits_get(&fx->ref[T_VIP], r) && aum[r] >= 1000000.0);
            /* 旧规则 is disabled: not evaluated, stays empty */
        }
        seg_frame_free(f);
        free(txn);
        free(aum);
    }

    /* The set holds what the reference says. */
    uint8_t *m = fz_xmalloc(n + 1);
    for (int32_t id = 1; id < MAX_ID; id++) {
        if (!seg_tagreg_name(g_reg, id))
            continue;
        rc = seg_tagset_get_mask(fx->set, id, m, n);
        CHECK(rc == SEG_OK, "setup: get_mask(%d) gave %d", (int)id, (int)rc);
        for (size_t r = 0; r < n; r++)
            CHECK(m[r] == bits_get(&fx->ref[id], r),
                  "setup: %zu rows: tag %d row %zu holds %u, the reference %d", n, (int)id, r,
                  (unsigned)m[r], bits_get(&fx->ref[id], r));
        int64_t cnt = -1;
        CHECK(seg_tagset_count(fx->set, id, &cnt) == SEG_OK &&
                  cnt == (int64_t)bits_count(&fx->ref[id]),
              "setup: count(%d) = %lld, reference %zu", (int)id, (long long)cnt,
              bits_count(&fx->ref[id]));
        size_t mem = 12345;
        CHECK(seg_tagset_memory(fx->set, id, &mem) == SEG_OK, "setup: memory(%d)", (int)id);
        /* Empty and full chunks store no bytes; 16 bytes per chunk is the
         * overhead tagset.h allows. */
        const size_t chunks = (n + CHUNK - 1) / CHUNK;
        if (cnt == 0 || (size_t)cnt == n)
            CHECK(mem <= 16 * chunks, "setup: tag %d held by %lld of %zu rows uses %zu bytes",
                  (int)id, (long long)cnt, n, mem);
        /* tagset.h: never more than n/8 + 8 bytes plus 16 per chunk; a list
         * is 2 bytes per row, so a tag held by few rows costs about that */
        CHECK(mem <= n / 8 + 8 + 16 * chunks, "setup: tag %d (%lld of %zu rows) uses %zu bytes",
              (int)id, (long long)cnt, n, mem);
        if ((size_t)cnt * 2 < n / 8)
            CHECK(mem <= (size_t)cnt * 2 + 16 * chunks,
                  "setup: tag %d held by %lld rows uses %zu bytes, not a list", (int)id,
                  (long long)cnt, mem);
        if (getenv("FUZZ_QUERY_VERBOSE"))
            fprintf(stderr, "rows %zu tag %2d %-16s count %6lld memory %zu\n", n, (int)id,
                    seg_tagreg_name(g_reg, id), (long long)cnt, mem);
    }
    free(m);
    CHECK(seg_tagset_freeze(fx->set) == SEG_OK, "setup: freeze");
}

static void setup(void)
{
    char err[ERR_CAP];
    int32_t rc = seg_tagreg_load(&g_reg, REGISTRY_TEXT, sizeof REGISTRY_TEXT - 1, "registry",
                                 NULL, err, sizeof err);
    CHECK(rc == SEG_OK, "setup: registry gave %d: %s", (int)rc, err);
    for (int32_t id = 1; id < MAX_ID; id++) {
        g_status[id] = -1;
        if (seg_tagreg_name(g_reg, id))
            CHECK(seg_tagreg_code(g_reg, id, SEG_TAG_STATUS, &g_status[id]) == SEG_OK, "status");
    }
    g_group_of[T_FIRST] = g_group_of[T_REPEAT] = g_group_of[T_CHURN] = 1;
    CHECK(g_status[T_DISABLED] == SEG_TAG_DISABLED && g_status[T_OLDRULE] == SEG_TAG_DISABLED &&
              g_status[T_OFFLINE] == SEG_TAG_OFFLINE && g_status[T_DRAFT] == SEG_TAG_DRAFT,
          "setup: statuses");

    /* every name and alias under its key */
    g_names = fz_xmalloc(4 * MAX_ID * sizeof *g_names);
    for (size_t i = 0; i < seg_tagreg_count(g_reg); i++) {
        int32_t id = seg_tagreg_id_at(g_reg, i);
        size_t na = seg_tagreg_alias_count(g_reg, id);
        for (size_t k = 0; k <= na; k++) {
            const char *s = k == 0 ? seg_tagreg_name(g_reg, id) : seg_tagreg_alias(g_reg, id, k - 1);
            char *key = fz_xmalloc(4 * strlen(s) + 1);
            size_t kl = 0;
            CHECK(fz_tag_key(s, strlen(s), key, &kl) == FZ_NORM_OK, "setup: key of '%s'", s);
            g_names[g_n_names].key = key;
            g_names[g_n_names].id = id;
            g_n_names++;
        }
    }

    build_fixture(&g_fix[0], BIG_ROWS);
    build_fixture(&g_fix[1], CHUNK);
    build_fixture(&g_fix[2], 0);

    static const char other[] = "tag 1 \"首购客户\"\n";
    rc = seg_tagreg_load(&g_other_reg, other, sizeof other - 1, NULL, NULL, err, sizeof err);
    CHECK(rc == SEG_OK, "setup: other registry gave %d: %s", (int)rc, err);
    CHECK(seg_tagset_new(&g_other_set, g_other_reg, 10, NULL) == SEG_OK, "setup: other set");

    g_rows = fz_xmalloc((BIG_ROWS + 1) * sizeof *g_rows);
    g_rows2 = fz_xmalloc((BIG_ROWS + 1) * sizeof *g_rows2);
    g_mask = fz_xmalloc(BIG_ROWS + 1);
    g_mask2 = fz_xmalloc(BIG_ROWS + 1);
    g_want = fz_xmalloc(BIG_ROWS + 1);
    g_5a = fz_xmalloc(BIG_ROWS + 1);
    memset(g_5a, 0x5A, BIG_ROWS + 1);
}

/* ------------------------------------------------------------------------
 * The harness's own query language: lexer, parser, evaluator.
 * ---------------------------------------------------------------------- */

enum { TK_END, TK_LP, TK_RP, TK_AND, TK_OR, TK_NOT, TK_TRUE, TK_FALSE, TK_NAME, TK_BAD };

typedef struct lexer {
    const char *s;
    size_t n, i;
    int unsure; /* the headers leave this input's meaning open */
    int tok;
    const char *name; /* TK_NAME: raw bytes of the name */
    size_t name_len;
} lexer;

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c >= 0x80;
}

/* U+3000 at the lexer's position */
static int is_ideo_space(const lexer *L)
{
    return L->i + 3 <= L->n && (unsigned char)L->s[L->i] == 0xE3 &&
           (unsigned char)L->s[L->i + 1] == 0x80 && (unsigned char)L->s[L->i + 2] == 0x80;
}

static int ieq(const char *a, size_t n, const char *kw)
{
    if (strlen(kw) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 'a' - 'A');
        if (c != kw[i])
            return 0;
    }
    return 1;
}

static void lex(lexer *L)
{
    for (;;) {
        if (L->i >= L->n) {
            L->tok = TK_END;
            return;
        }
        char c = L->s[L->i];
        if (c == ' ') {
            L->i++;
            continue;
        }
        /* query.h: the ideographic space U+3000 separates words like a space */
        if (is_ideo_space(L)) {
            L->i += 3;
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r') {
            /* whitespace in all likelihood, but query.h does not say */
            L->unsure = 1;
            L->i++;
            continue;
        }
        break;
    }
    unsigned char c = (unsigned char)L->s[L->i];
    if (c == '(' || c == ')') {
        L->tok = c == '(' ? TK_LP : TK_RP;
        L->i++;
        return;
    }
    if (c == '`' || c == '"') {
        size_t b = ++L->i;
        while (L->i < L->n && (unsigned char)L->s[L->i] != c) {
            if (c == '"' && L->s[L->i] == '\\')
                L->unsure = 1; /* escapes: not stated for queries */
            if (L->s[L->i] == '\n')
                L->unsure = 1;
            L->i++;
        }
        if (L->i >= L->n) {
            L->tok = TK_BAD; /* unterminated */
            return;
        }
        L->name = L->s + b;
        L->name_len = L->i - b;
        L->i++;
        L->tok = TK_NAME;
        return;
    }
    if (is_word_byte(c)) {
        size_t b = L->i;
        while (L->i < L->n && is_word_byte((unsigned char)L->s[L->i]) && !is_ideo_space(L))
            L->i++;
        const char *w = L->s + b;
        size_t l = L->i - b;
        static const char *const kw[] = {"and", "or", "not", "true", "false"};
        static const int kt[] = {TK_AND, TK_OR, TK_NOT, TK_TRUE, TK_FALSE};
        for (int k = 0; k < 5; k++) {
            if (l == strlen(kw[k]) && memcmp(w, kw[k], l) == 0) {
                L->tok = kt[k];
                return;
            }
            if (ieq(w, l, kw[k]))
                L->unsure = 1; /* AND, Not: keywords or names? */
        }
        if (c >= '0' && c <= '9') {
            L->tok = TK_BAD; /* a word may not start with a digit */
            return;
        }
        L->name = w;
        L->name_len = l;
        L->tok = TK_NAME;
        return;
    }
    if (c == '#')
        L->unsure = 1; /* comments: not stated for queries */
    L->tok = TK_BAD;
}

/* Parse tree. */
typedef struct node {
    int op; /* TK_AND, TK_OR, TK_NOT, TK_TRUE, TK_FALSE, TK_NAME */
    int32_t id;
    struct node *a, *b;
} node;

typedef struct parser {
    lexer L;
    int failed;
    int depth, max_depth;
    size_t terms;
} parser;

static node *mk(int op, node *a, node *b, int32_t id)
{
    node *n = fz_xmalloc(sizeof *n);
    n->op = op;
    n->a = a;
    n->b = b;
    n->id = id;
    return n;
}

static void free_node(node *n)
{
    /* iterative on the right spine, recursive on the left (bounded by the
     * parser's depth) */
    while (n) {
        node *next = n->b;
        free_node(n->a);
        free(n);
        n = next;
    }
}

static int32_t resolve(const char *s, size_t n)
{
    char *key = fz_xmalloc(4 * n + 8);
    size_t kl = 0;
    int m = fz_tag_key(s, n, key, &kl);
    int32_t id = 0;
    if (m != FZ_NORM_INVALID)
        for (size_t i = 0; i < g_n_names; i++)
            if (strcmp(g_names[i].key, key) == 0)
                id = g_names[i].id;
    free(key);
    return m == FZ_NORM_UNSURE ? -1 : id;
}

static node *p_or(parser *P);

static node *p_unary(parser *P)
{
    if (P->failed)
        return NULL;
    if (++P->depth > P->max_depth)
        P->max_depth = P->depth;
    if (P->depth > 1000) {
        P->failed = 1;
        P->L.unsure = 1;
        P->depth--;
        return NULL;
    }
    node *r = NULL;
    switch (P->L.tok) {
    case TK_NOT:
        lex(&P->L);
        r = p_unary(P);
        r = r ? mk(TK_NOT, r, NULL, 0) : NULL;
        break;
    case TK_LP:
        lex(&P->L);
        r = p_or(P);
        if (!P->failed && P->L.tok == TK_RP) {
            lex(&P->L);
        } else {
            P->failed = 1;
            free_node(r);
            r = NULL;
        }
        break;
    case TK_TRUE:
    case TK_FALSE:
        r = mk(P->L.tok, NULL, NULL, 0);
        lex(&P->L);
        break;
    case TK_NAME: {
        P->terms++;
        int32_t id = resolve(P->L.name, P->L.name_len);
        if (id < 0)
            P->L.unsure = 1;
        if (id <= 0 || g_status[id] == SEG_TAG_DISABLED) {
            P->failed = 1;
        } else {
            r = mk(TK_NAME, NULL, NULL, id);
            lex(&P->L);
        }
        break;
    }
    default:
        P->failed = 1;
    }
    P->depth--;
    return r;
}

static node *p_and(parser *P)
{
    node *l = p_unary(P);
    while (!P->failed && P->L.tok == TK_AND) {
        lex(&P->L);
        node *r = p_unary(P);
        if (!r) {
            free_node(l);
            return NULL;
        }
        l = mk(TK_AND, l, r, 0);
    }
    if (P->failed) {
        free_node(l);
        return NULL;
    }
    return l;
}

static node *p_or(parser *P)
{
    node *l = p_and(P);
    while (!P->failed && P->L.tok == TK_OR) {
        lex(&P->L);
        node *r = p_and(P);
        if (!r) {
            free_node(l);
            return NULL;
        }
        l = mk(TK_OR, l, r, 0);
    }
    if (P->failed) {
        free_node(l);
        return NULL;
    }
    return l;
}

/* Returns the tree, or NULL when the harness refuses the text. */
static node *parse(const char *s, size_t n, int *unsure, int *depth)
{
    parser P;
    memset(&P, 0, sizeof P);
    P.L.s = s;
    P.L.n = n;
    lex(&P.L);
    node *t = p_or(&P);
    if (t && P.L.tok != TK_END) {
        free_node(t);
        t = NULL;
    }
    /* The rest of the text may still hold what makes it unsure. */
    while (P.L.tok != TK_END && !P.L.unsure) {
        if (P.L.tok == TK_BAD) {
            if (P.L.i < P.L.n && P.L.s[P.L.i] == '#')
                P.L.unsure = 1;
            P.L.i++;
        }
        lex(&P.L);
    }
    /* Limits on nesting and length are the library's business (query.h
     * states none): deep or long queries are not judged. */
    *unsure = P.L.unsure || P.max_depth > 100 || P.terms > 1000;
    *depth = P.max_depth;
    return t;
}

/* Evaluates the tree on a fixture's reference; left-deep chains of and/or
 * are walked iteratively. */
static bits eval(const node *t, const fixture *fx)
{
    switch (t->op) {
    case TK_TRUE:
        return bits_new(fx->n, 1);
    case TK_FALSE:
        return bits_new(fx->n, 0);
    case TK_NAME: {
        bits b = bits_new(fx->n, 0);
        memcpy(b.w, fx->ref[t->id].w, words(fx->n) * 8);
        return b;
    }
    case TK_NOT: {
        bits b = eval(t->a, fx);
        for (size_t i = 0; i < words(fx->n); i++)
            b.w[i] = ~b.w[i];
        if (fx->n % 64)
            b.w[fx->n / 64] &= (UINT64_C(1) << (fx->n % 64)) - 1;
        return b;
    }
    default: {
        bits l = eval(t->a, fx), r = eval(t->b, fx);
        for (size_t i = 0; i < words(fx->n); i++)
            l.w[i] = t->op == TK_AND ? (l.w[i] & r.w[i]) : (l.w[i] | r.w[i]);
        free(r.w);
        return l;
    }
    }
}

/* ------------------------------------------------------------------------
 * Checks on the library
 * ---------------------------------------------------------------------- */

static size_t line_count(const char *t, size_t n)
{
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += t[i] == '\n';
    return k;
}

/* The end of an unknown-tag message for the name x[0..xl): "'; did you mean
 * 'A', 'B'?" from seg_tagreg_suggest, or "'" without suggestions. 0 when
 * suggest refuses the name. `want` holds 4 * ERR_CAP bytes. */
static int suggest_ending(const char *x, size_t xl, char *want)
{
    char *name = fz_xmalloc(xl + 1);
    memcpy(name, x, xl);
    name[xl] = '\0';
    int32_t ids[3] = {0, 0, 0};
    size_t ns = 0;
    int32_t rc = seg_tagreg_suggest(g_reg, name, ids, 3, &ns);
    free(name);
    if (rc != SEG_OK)
        return 0;
    want[0] = '\0';
    if (ns == 0) {
        strcat(want, "'");
        return 1;
    }
    strcat(want, "'; did you mean ");
    for (size_t i = 0; i < ns; i++) {
        if (i)
            strcat(want, ", ");
        strcat(want, "'");
        strncat(want, seg_tagreg_name(g_reg, ids[i]), 300);
        strcat(want, "'");
    }
    strcat(want, "?");
    return 1;
}

static void check_message(const char *text, size_t len, const char *err)
{
    unsigned long line = 0, col = 0;
    int used = 0;
    CHECK(strncmp(err, "fuzz:", 5) == 0, "message without the source: '%s'", err);
    CHECK(sscanf(err + 5, "%lu:%lu: %n", &line, &col, &used) == 2 && used > 0,
          "message is not 'source:line:col: message': '%s'", err);
    CHECK(err[5 + used] != '\0', "empty message: '%s'", err);
    CHECK(line >= 1 && line <= line_count(text, len), "line %lu: '%s'", line, err);
    CHECK(col >= 1 && col <= len + 1, "column %lu of a %zu-byte query: '%s'", col, len, err);

    /* "unknown tag 'X'; did you mean 'A', 'B'?" lists suggest(X)'s first 3.
     * X is the caller's text and may itself hold quotes or "'; did you
     * mean": each quote after it is tried as the end of X, and the message
     * is right when one split gives X's own suggestions. */
    const char *body = err + 5 + used; /* after "fuzz:line:col: " */
    if (strncmp(body, "unknown tag '", 13) != 0)
        return; /* another message (it may quote text saying "unknown tag '") */
    const char *x = body + 13;
    int cut = strlen(err) == ERR_CAP - 1;
    for (const char *end = strchr(x, '\''); end; end = strchr(end + 1, '\'')) {
        size_t xl = (size_t)(end - x);
        if (xl >= 3 && memcmp(end - 3, "...", 3) == 0)
            return; /* maybe shortened (names of 80+ bytes): not comparable */
        if (memchr(x, '?', xl))
            return; /* maybe a control byte or bad UTF-8 of the name, as '?' */
        char want[4 * ERR_CAP];
        if (!suggest_ending(x, xl, want))
            return; /* not a name suggest() takes */
        /* a message cut by err_cap is compared as far as it goes */
        size_t have = strlen(end), wl = strlen(want);
        if (cut ? memcmp(end, want, have < wl ? have : wl) == 0
                : (have == wl && memcmp(end, want, wl) == 0))
            return;
    }
    CHECK(cut, "unknown-tag message '%s': no end of the name gives its suggestions", err);
}

static void run_checks(const seg_query *q, const fixture *fx, const bits *want, uint32_t h)
{
    char err[ERR_CAP];
    const size_t n = fx->n;
    int64_t cnt = -1;
    int32_t rc = seg_query_count(q, fx->set, &cnt, err, sizeof err);
    CHECK(rc == SEG_OK, "count gave %d: %s", (int)rc, err);
    const size_t wc = bits_count(want);
    CHECK(cnt == (int64_t)wc, "%zu rows: count %lld, the query's meaning gives %zu", n,
          (long long)cnt, wc);

    /* mask */
    memset(g_mask, 0x5A, BIG_ROWS + 1);
    rc = seg_query_mask(q, fx->set, g_mask, n, err, sizeof err);
    CHECK(rc == SEG_OK, "mask gave %d: %s", (int)rc, err);
    CHECK(g_mask[n] == 0x5A, "mask wrote past n");
    /* g_want: the expected mask as bytes (equal masks: the ones are the count) */
    bits_bytes(want, g_want, 0);
    size_t r0 = first_diff(g_mask, g_want, n);
    CHECK(r0 == n, "%zu rows: mask row %zu is %u, expected %u", n, r0,
          (unsigned)(r0 < n ? g_mask[r0] : 0), (unsigned)(r0 < n ? g_want[r0] : 0));
    if (n > 0) {
        memset(g_mask2, 0x5A, n);
        rc = seg_query_mask(q, fx->set, g_mask2, n - 1, err, sizeof err);
        CHECK(rc == SEG_EINVAL, "mask with n - 1 gave %d", (int)rc);
        r0 = first_diff(g_mask2, g_5a, n);
        CHECK(r0 == n, "refused mask wrote row %zu", r0);
    }

    /* full select */
    size_t got = 12345;
    g_rows[n > 0 ? n : 0] = -77;
    rc = seg_query_select(q, fx->set, 0, g_rows, n > 0 ? n : 1, &got, err, sizeof err);
    CHECK(rc == SEG_OK, "select gave %d: %s", (int)rc, err);
    CHECK(got == wc, "select gave %zu rows, count %zu", got, wc);
    {
        size_t k = 0; /* the set bits, a word at a time */
        for (size_t i = 0; i < words(n); i++)
            for (uint64_t w = want->w[i]; w; w &= w - 1) {
                size_t r = i * 64 + (size_t)__builtin_ctzll(w);
                CHECK(g_rows[k] == (int64_t)r, "select row %zu is %lld, expected %zu", k,
                      (long long)g_rows[k], r);
                k++;
            }
    }

    /* paged select with a small limit */
    const size_t limit = 1 + h % 61;
    int64_t begin = 0;
    size_t total = 0, pages = 0;
    for (;;) {
        size_t m = 9999;
        int64_t page[64];
        page[limit < 64 ? limit : 63] = -99;
        rc = seg_query_select(q, fx->set, begin, page, limit, &m, err, sizeof err);
        CHECK(rc == SEG_OK, "select from %lld gave %d: %s", (long long)begin, (int)rc, err);
        CHECK(m <= limit, "select wrote %zu rows with limit %zu", m, limit);
        CHECK(limit >= 64 || page[limit] == -99, "select wrote past its limit");
        for (size_t i = 0; i < m; i++) {
            CHECK(total + i < wc && page[i] == g_rows[total + i],
                  "page %zu row %zu is %lld, expected %lld", pages, i, (long long)page[i],
                  total + i < wc ? (long long)g_rows[total + i] : -1LL);
        }
        total += m;
        pages++;
        if (m < limit) {
            /* a short page means the audience ended */
            CHECK(total == wc, "short page after %zu of %zu rows", total, wc);
            break;
        }
        begin = page[m - 1] + 1;
        if (pages >= MAX_PAGES) {
            size_t rest = 0;
            rc = seg_query_select(q, fx->set, begin, g_rows2, BIG_ROWS, &rest, err, sizeof err);
            CHECK(rc == SEG_OK, "select rest gave %d", (int)rc);
            for (size_t i = 0; i < rest; i++)
                CHECK(total + i < wc && g_rows2[i] == g_rows[total + i], "rest row %zu", i);
            total += rest;
            CHECK(total == wc, "pages gave %zu rows, count %zu", total, wc);
            break;
        }
    }

    /* select from arbitrary starts, including the chunk edge and n */
    int64_t starts[5] = {(int64_t)(h % (n + 1)), CHUNK - 1, CHUNK, (int64_t)n,
                         (int64_t)((h >> 8) % (n + 1))};
    for (int s = 0; s < 5; s++) {
        int64_t b = starts[s];
        if (b > (int64_t)n)
            continue;
        size_t lim = 1 + (h >> (3 * s)) % 7, m = 999;
        int64_t page[8];
        rc = seg_query_select(q, fx->set, b, page, lim, &m, err, sizeof err);
        CHECK(rc == SEG_OK, "select from %lld gave %d", (long long)b, (int)rc);
        size_t k = 0;
        for (size_t r = next_set(want, (size_t)b); r < n && k < lim; r = next_set(want, r + 1)) {
            CHECK(k < m && page[k] == (int64_t)r, "select from %lld: row %zu is %lld, want %zu",
                  (long long)b, k, k < m ? (long long)page[k] : -1LL, r);
            k++;
        }
        CHECK(k == m, "select from %lld gave %zu rows, expected %zu", (long long)b, m, k);
    }
    {
        size_t m = 77;
        rc = seg_query_select(q, fx->set, 0, NULL, 0, &m, err, sizeof err);
        CHECK(rc == SEG_OK && m == 0, "select with limit 0 gave %d, %zu rows", (int)rc, m);
        int64_t one = -5;
        m = 77;
        rc = seg_query_select(q, fx->set, (int64_t)n + 1, &one, 1, &m, err, sizeof err);
        CHECK(rc == SEG_ERANGE && one == -5, "select from n + 1 gave %d", (int)rc);
        rc = seg_query_select(q, fx->set, -1, &one, 1, &m, err, sizeof err);
        CHECK(rc == SEG_ERANGE && one == -5, "select from -1 gave %d", (int)rc);
        rc = seg_query_select(q, fx->set, 0, NULL, 1, &m, err, sizeof err);
        CHECK(rc == SEG_EINVAL, "select with NULL rows and limit 1 gave %d", (int)rc);
    }
}

static seg_query *compile(const char *text, size_t len, char *err, size_t cap, int32_t *rc)
{
    seg_query *q = NULL;
    *rc = seg_query_compile(&q, text, len, g_reg, "fuzz", NULL, err, cap);
    return *rc == SEG_OK ? q : NULL;
}

/* "prefix" + text + "suffix" */
static char *wrap(const char *pre, const char *text, size_t len, const char *post, size_t *out)
{
    size_t a = strlen(pre), c = strlen(post);
    char *w = fz_xmalloc(a + len + c + 1);
    memcpy(w, pre, a);
    memcpy(w + a, text, len);
    memcpy(w + a + len, post, c);
    w[a + len + c] = '\0'; /* (the text itself may hold NULs: use *out) */
    *out = a + len + c;
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    char *text = fz_xmalloc(size);
    memcpy(text, data, size);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;

    char err[ERR_CAP];
    memset(err, 0xAA, sizeof err);
    seg_query *q = (seg_query *)(uintptr_t)0x1;
    int32_t rc = seg_query_compile(&q, text, size, g_reg, "fuzz", NULL, err, sizeof err);
    CHECK(rc == SEG_OK || rc == SEG_EPARSE, "compile returned %d", (int)rc);
    {
        seg_query *q2 = NULL;
        char *one = fz_xmalloc(1);
        one[0] = 'Z';
        int32_t rc1 = seg_query_compile(&q2, text, size, g_reg, "fuzz", NULL, one, 1);
        CHECK(rc1 == rc, "err_cap 1 gives %d, err_cap %d gives %d", (int)rc1, ERR_CAP, (int)rc);
        CHECK(rc1 == SEG_OK || one[0] == '\0', "err_cap 1: buffer not emptied");
        seg_query_free(q2);
        q2 = NULL;
        one[0] = 'Z';
        int32_t rc0 = seg_query_compile(&q2, text, size, g_reg, "fuzz", NULL, one, 0);
        CHECK(rc0 == rc && one[0] == 'Z', "err_cap 0 gives %d / wrote", (int)rc0);
        seg_query_free(q2);
        q2 = NULL;
        int32_t rcn = seg_query_compile(&q2, text, size, g_reg, NULL, NULL, NULL, 0);
        CHECK(rcn == rc, "NULL err_buf gives %d", (int)rcn);
        seg_query_free(q2);
        free(one);
    }

    int unsure = 0, depth = 0;
    node *tree = parse(text, size, &unsure, &depth);
    if (!unsure && (rc == SEG_OK) != (tree != NULL)) {
        fprintf(stderr, "query: \"");
        fz_print_escaped(stderr, text, size);
        fprintf(stderr, "\"\n");
    }
    CHECK(unsure || (rc == SEG_OK) == (tree != NULL),
          "the library %s the query, the grammar of query.h %s it (%s)",
          rc == SEG_OK ? "accepts" : "refuses", tree ? "accepts" : "refuses",
          rc == SEG_OK ? "" : err);

    if (rc != SEG_OK) {
        CHECK(q == (seg_query *)(uintptr_t)0x1, "failure touched *out");
        fz_check_msg(err, sizeof err, "compile");
        check_message(text, size, err);
        free_node(tree);
        free(text);
        return 0;
    }
    CHECK(q != NULL && q != (seg_query *)(uintptr_t)0x1, "compile OK without a query");

    for (int f = 0; f < 3; f++) {
        const fixture *fx = &g_fix[f];
        bits want;
        if (tree) {
            want = eval(tree, fx);
        } else {
            /* The harness could not judge the text: take the library's
             * mask as the meaning and check the rest is consistent. */
            want = bits_new(fx->n, 0);
            CHECK(seg_query_mask(q, fx->set, g_mask, fx->n, err, sizeof err) == SEG_OK, "mask");
            for (size_t r = 0; r < fx->n; r++)
                bits_put(&want, r, g_mask[r]);
        }
        run_checks(q, fx, &want, h + (uint32_t)f);

        /* not (Q); (Q) and (Q); (Q) or false: on the two-chunk set always,
         * on the one-chunk set for one input in four (speed). */
        if ((f == 0 || (f == 1 && (h & 3) == 0)) && depth < 100) {
            bits_bytes(&want, g_want, 0);
            static const char *const pre[] = {"not (", "(", "("};
            static const char *const post[] = {")", ") and (", ") or false"};
            for (int k = 0; k < 3; k++) {
                size_t wl = 0;
                char *w = k == 1 ? NULL : wrap(pre[k], text, size, post[k], &wl);
                if (k == 1) {
                    size_t l1 = 0;
                    char *half = wrap("(", text, size, ") and (", &l1);
                    char *w2 = wrap("", text, size, ")", &wl);
                    w = fz_xmalloc(l1 + wl + 1);
                    memcpy(w, half, l1);
                    memcpy(w + l1, w2, wl);
                    wl += l1;
                    free(half);
                    free(w2);
                }
                int32_t rw = 0;
                seg_query *qw = compile(w, wl, err, sizeof err, &rw);
                if (qw) {
                    memset(g_mask2, 0, fx->n + 1);
                    CHECK(seg_query_mask(qw, fx->set, g_mask2, fx->n, err, sizeof err) == SEG_OK,
                          "mask of the wrapped query");
                    if (k == 0)
                        bits_bytes(&want, g_want, 1); /* the complement */
                    size_t r = first_diff(g_mask2, g_want, fx->n);
                    CHECK(r == fx->n, "%s...%s: row %zu is %u, the query alone gives %d",
                          pre[k], post[k], r, (unsigned)(r < fx->n ? g_mask2[r] : 0),
                          r < fx->n ? bits_get(&want, r) : -1);
                    if (k == 0)
                        bits_bytes(&want, g_want, 0);
                    seg_query_free(qw);
                } else if (!unsure) {
                    CHECK(0, "%s Q %s refused although Q compiles: %s", pre[k], post[k], err);
                }
                free(w);
            }
        }
        free(want.w);
    }

    /* another registry's set is refused */
    {
        int64_t c = -3;
        size_t m = 5;
        int64_t row = -3;
        uint8_t b[10];
        memset(b, 0x33, sizeof b);
        CHECK(seg_query_count(q, g_other_set, &c, err, sizeof err) == SEG_EINVAL && c == -3,
              "count on another registry's set");
        CHECK(seg_query_select(q, g_other_set, 0, &row, 1, &m, err, sizeof err) == SEG_EINVAL &&
                  row == -3,
              "select on another registry's set");
        CHECK(seg_query_mask(q, g_other_set, b, 10, err, sizeof err) == SEG_EINVAL && b[0] == 0x33,
              "mask on another registry's set");
    }
    seg_query_free(q);
    free_node(tree);
    free(text);
    return 0;
}
