/* SPDX-License-Identifier: MIT */
/*
 * Every shareable handle type, shared by 8 threads at once (doc/threading.md).
 *
 * The main thread builds one handle of each type over a 200,000-row frame:
 * the frame (double with NaN, int32 with a validity bitmap, int64, string
 * and dictionary columns), three compiled rules, a tier set (keep
 * conditions, catch-all) and a groups set, an RFM model fitted on
 * aggregated transactions and the built-in RFM10 scheme, a fitted k-means
 * model, the frozen tag registry of examples/data/tags.txt (a copy), a
 * frozen tag set (facts, model labels, rule tags), six compiled queries and
 * a profile.
 *
 * The worker calls, over its own 25,000 rows and in four rounds that cut
 * the range differently (whole; 4099-row pieces; cuts 1 row around each
 * 65536-row chunk border; 257-row pieces), every function documented safe
 * on a shared handle. Row outputs go to per-job arrays that must not depend
 * on the cutting; everything else (getters, saved texts, statuses and
 * err_buf messages of failing calls) to a per-round byte stream. Functions
 * that take a whole frame get zero-copy views of the pieces, built by the
 * worker. In round 0 the worker also runs whole-frame calls (compared with
 * the main thread's results) and builds handles of its own from the shared
 * ones (rule, query, tiers, tag set, profile).
 *
 * The main thread first runs the worker for each of the 8 ranges in turn
 * (the reference), then 8 threads run it at once after a barrier: every
 * output must be equal byte for byte, and a snapshot of every handle (saved
 * texts, last errors, tag masks, profile values...) must be the same before
 * and after. All handles use the counting test allocator behind a mutex
 * (test-alloc.c itself is not thread-safe: it keeps an unlocked list of
 * live blocks and plain counters).
 *
 * Not called on shared handles, as not documented safe there: the build
 * functions (frame add, set_param, set_weights, fit, fit_score, scheme and
 * tiers add, tagreg setters and freeze, tagset setters, eval_rules,
 * set_labels and freeze, kmeans add_feature, set_param, set_progress, fit).
 * The experiment functions take no handle.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define N_THREADS 8
#define N_ROWS 200000
#define N_ROUNDS 4
#define TAG_CHUNK 65536
#define N_RULES 3
#define N_QUERIES 6
#define N_NUM 10 /* numeric frame columns */
#define N_TEXT 2 /* string and dictionary columns */
#define N_COLS (N_NUM + N_TEXT)
#define MAX_TAGS 64
#define ERR_CAP 512

/* ---- thread-safe counting allocator ------------------------------------ */

static struct {
    seg_test_alloc ta;
    pthread_mutex_t mu;
    seg_allocator base;
} la;

static void *la_malloc(size_t n, void *u)
{
    (void)u;
    pthread_mutex_lock(&la.mu);
    void *p = seg_test_alloc_malloc_hook(n, &la.ta);
    pthread_mutex_unlock(&la.mu);
    return p;
}

static void *la_realloc(void *p, size_t n, void *u)
{
    (void)u;
    pthread_mutex_lock(&la.mu);
    void *q = seg_test_alloc_realloc_hook(p, n, &la.ta);
    pthread_mutex_unlock(&la.mu);
    return q;
}

static void la_free(void *p, void *u)
{
    (void)u;
    pthread_mutex_lock(&la.mu);
    seg_test_alloc_free_hook(p, &la.ta);
    pthread_mutex_unlock(&la.mu);
}

/* ---- inputs --------------------------------------------------------------- */

static const char *const cities[] = {"北京", "上海", "深圳", "杭州", "成都", "武汉"};
static const char *const channels[] = {"app", "web", "branch", "phone"};

static struct {
    double *aum, *spend, *online, *rec, *freq, *mon, *ten;
    int32_t *txn, *channel, *prev, *gprev;
    uint8_t *txn_valid, *has;
    int64_t *orders, *age;
    const char **city;
    size_t n_tx, *tx_first; /* transactions of customer c: tx_first[c] .. tx_first[c + 1] */
    int32_t *tx_cust;
    int64_t *tx_time, *tx_minor;
    double *tx_amount;
} d;

typedef struct col {
    const char *name;
    int32_t type;
    const void *data;
    const uint8_t *valid;
} col;

static col cols[N_COLS]; /* numeric columns first, in the order of the getters */

static const char *const rule_text[N_RULES] = {
    "aum >= 500000 and txn_90d >= 1",
    "city in (\"北京\", \"上海\") or channel == \"app\" and not is_missing(aum)",
    ("coalesce(spend_365d, 0) / max(orders_365d, 1) between 100 and 2000\n"
     "  or abs(age - 40) < 5 or is_missing(txn_90d)"),
};

static const char tiers_text[] =
    "libsegment-tiers 1\n"
    "# value tiers, first match wins\n"
    "tier private_banking \"私人银行\" when aum >= 6000000\n"
    "tier wealth   \"财富客户\" when aum >= 500000 keep aum >= 450000\n"
    "tier gold     \"金卡客户\" when aum >= 50000 and txn_90d >= 1 keep aum >= 40000\n"
    "tier active   \"活跃客户\" when txn_90d between 5 and 30 and orders_365d >= 3\n"
    "tier mass     \"大众客户\" otherwise\n";

static const char groups_text[] = /* no header line: it is optional */
    "group big_spender \"高消费\" when orders_365d >= 12 and spend_365d >= 2000\n"
    "group online      \"线上\" when online_share >= 0.7 and channel != \"branch\"\n"
    "group tier1_city  \"一线城市\" when city in (\"北京\", \"上海\", \"深圳\")\n"
    "group rest        \"其他\" otherwise\n";

/* The registry of examples/data/tags.txt (the crm example), without most
 * descriptions and owners: rule tags naming tags and columns, aliases,
 * exclusive groups, every kind, source and status. */
static const char tags_text[] =
    "libsegment-tags 1\n"
    "next_id 100\n"
    "tag 1 \"新客\"\n  alias \"新客户\" \"new customer\"\n  category \"生命周期/新客\"\n"
    "  group lifecycle\n  owner \"crm-ops\"\n  desc \"注册 30 天内且尚未下单的客户\"\n"
    "tag 2 \"首购客户\"\n  alias \"客户首单\" \"客户已下单\" \"first purchase\"\n"
    "  category \"生命周期/首购\"\n  group lifecycle\n"
    "tag 3 \"复购客户\"\n  alias \"复购\" \"repeat buyer\" \"二次购买\"\n"
    "  category \"生命周期/复购\"\n  group lifecycle\n"
    "tag 4 \"超级客户\"\n  alias \"super customer\" \"超级用户\"\n  category \"生命周期/超级\"\n"
    "  group lifecycle\n  when `复购客户` == 1 and orders_365d >= 12 and spend_365d >= 20000\n"
    "tag 10 \"高净值\"\n  alias \"高净值客户\" \"HNW\"\n  category \"资产/规模\"\n"
    "  group \"资产层级\"\n  when aum >= 1000000\n"
    "tag 11 \"大众富裕\"\n  alias \"mass affluent\" \"富裕客户\"\n  category \"资产/规模\"\n"
    "  group \"资产层级\"\n  when aum >= 100000\n"
    "tag 12 \"vip\"\n  alias \"VIP客户\" \"贵宾\"\n  category \"服务/等级\"\n  owner \"service\"\n"
    "tag 20 \"高频\"\n  alias \"高频交易\" \"frequent\"\n  category \"行为/交易/频次\"\n"
    "  when txn_90d >= 10\n"
    "tag 21 \"低频\"\n  alias \"low frequency\"\n  category \"行为/交易/频次\"\n"
    "  when txn_90d <= 1\n"
    "tag 22 \"线上偏好\"\n  alias \"online preferred\" \"数字化客户\"\n  category \"行为/渠道\"\n"
    "  when online_share >= 0.7\n"
    "tag 23 \"理财偏好\"\n  alias \"理财\" \"wealth interest\"\n  category \"行为/偏好/理财\"\n"
    "tag 24 \"基金持有\"\n  alias \"持有基金\" \"fund holder\"\n  category \"资产/产品/基金\"\n"
    "  source derived\n"
    "tag 25 \"流失预警\"\n  alias \"流失风险\" \"churn risk\"\n  category \"风险/流失\"\n"
    "  kind model\n"
    "tag 26 \"重点维护\"\n  alias \"key account\"\n  category \"运营/维护\"\n"
    "  when `高净值` == 1 and (`高频` == 1 or `理财偏好` == 1) and `流失预警` == 0\n"
    "tag 27 \"投诉客户\"\n  alias \"投诉\"\n  category \"服务/投诉\"\n  status offline\n"
    "tag 28 \"2019促销名单\"\n  alias \"老促销\"\n  category \"营销/历史\"\n  status disabled\n"
    "tag 29 \"信用卡潜客\"\n  alias \"card prospect\"\n  category \"营销/信用卡\"\n"
    "  status draft\n  when aum >= 50000 and age between 25 and 45 and VIP == 0\n"
    "tag 30 \"银发客户\"\n  alias \"老年客户\" \"senior\"\n  category \"人口/年龄\"\n"
    "  when age >= 60\n"
    "tag 31 \"旧高频\"\n  alias \"old frequent\"\n  category \"行为/交易/频次\"\n"
    "  status disabled\n  when txn_90d >= 20\n";

static const char *const query_text[N_QUERIES] = {
    "首购客户 and not 流失预警 and (理财偏好 or 基金持有)",
    "高净值 or ＶＩＰ or `key account`",
    "not 高频 and 大众富裕 # a comment",
    "true",
    "(复购 or 超级客户) and 线上偏好 and not 银发客户 or \"投诉\"",
    "新客 or 信用卡潜客",
};

static const char *const profile_cols[] = {"aum",          "txn_90d", "orders_365d", "spend_365d",
                                           "online_share", "recency", "monetary"};
#define N_PROFILE_COLS (sizeof profile_cols / sizeof profile_cols[0])

/* Tags tested row by row. */
static const int32_t test_tags[] = {1, 2, 3, 4, 10, 11, 23, 25, 26};
#define N_TEST_TAGS (sizeof test_tags / sizeof test_tags[0])

/* ---- shared handles and main-thread results ----------------------------- */

static seg_frame *frame;
static seg_rule *rules[N_RULES];
static seg_tiers *tiers, *groups;
static seg_rfm *rfm;
static seg_rfm_scheme *scheme;
static seg_kmeans *km;
static seg_tagreg *reg;
static seg_tagset *set;
static seg_query *queries[N_QUERIES];
static seg_profile *profile;

static int32_t *ref_tier, *ref_tierp, *ref_grp, *ref_grpp, *ref_km;
static double *ref_kd;
static uint8_t *ref_mask;  /* n_tags * N_ROWS */
static uint8_t *ref_qmask; /* N_QUERIES * N_ROWS */
static int32_t tag_ids[MAX_TAGS];
static size_t n_tags;

/* ---- byte streams -------------------------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
    size_t n_sec;
    size_t sec_at[96];
    const char *sec_name[96];
} buf;

static void put(buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

#define PUT(b, x) put((b), &(x), sizeof(x))

static void put_str(buf *b, const char *s)
{
    put(b, s ? s : "(null)", strlen(s ? s : "(null)") + 1);
}

static void sec(buf *b, const char *name)
{
    if (b->n_sec < sizeof b->sec_at / sizeof b->sec_at[0]) {
        b->sec_at[b->n_sec] = b->len;
        b->sec_name[b->n_sec++] = name;
    }
}

/* The section of `b` holding byte `at`. */
static const char *sec_of(const buf *b, size_t at)
{
    const char *name = "(start)";
    for (size_t i = 0; i < b->n_sec && b->sec_at[i] <= at; i++)
        name = b->sec_name[i];
    return name;
}

/* ---- row outputs --------------------------------------------------------- */

/* name, element size, elements per row (stored column after column) */
#define ROW_FIELDS(X)                                                                            \
    X(MATCH, 1, N_RULES)                                                                         \
    X(R, 4, 1) X(F, 4, 1) X(M, 4, 1) X(CELL, 4, 1) X(W, 8, 1) X(SEG, 4, 1)                       \
    X(TIER, 4, 1) X(TIERP, 4, 1) X(GRP, 4, 1) X(GRPP, 4, 1)                                      \
    X(GNEXT, 4, 1) X(GCOL, 4, 1) X(GAP, 8, 1) X(GNF, 4, 1) X(GCRIT, 1, 1)                        \
    X(KM, 4, 1) X(KD, 8, 1)                                                                      \
    X(AREC, 8, 1) X(AFREQ, 8, 1) X(AMON, 8, 1) X(ATEN, 8, 1) X(AHAS, 1, 1)                       \
    X(MREC, 8, 1) X(MFREQ, 8, 1) X(MMON, 8, 1) X(MTEN, 8, 1) X(MHAS, 1, 1)                       \
    X(FV, 8, N_NUM) X(FMISS, 4, N_NUM) X(FS, sizeof(char *), N_TEXT)                             \
    X(TEST, 4, N_TEST_TAGS) X(QSEL, 1, N_QUERIES)

#define X_ENUM(n, s, k) F_##n,
enum { ROW_FIELDS(X_ENUM) N_FIELDS };
#define X_SIZE(n, s, k) s,
static const size_t f_size[] = {ROW_FIELDS(X_SIZE)};
#define X_COUNT(n, s, k) k,
static const size_t f_count[] = {ROW_FIELDS(X_COUNT)};
#define X_NAME(n, s, k) #n,
static const char *const f_name[] = {ROW_FIELDS(X_NAME)};

static size_t row_bytes(void)
{
    size_t w = 0;
    for (int f = 0; f < N_FIELDS; f++)
        w += f_size[f] * f_count[f];
    return w;
}

/* Start of field `f` in a row buffer of `n` rows. */
static void *fld(unsigned char *rows, size_t n, int f)
{
    size_t off = 0;
    for (int g = 0; g < f; g++)
        off += f_size[g] * f_count[g] * n;
    return rows + off;
}

/* "" when equal, else the first field and (absolute) row that differ. */
static void rows_diff(const unsigned char *a, const unsigned char *b, size_t n, size_t lo,
                      char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '\0';
    for (int f = 0; f < N_FIELDS; f++) {
        size_t len = f_size[f] * f_count[f] * n;
        if (memcmp(a + off, b + off, len) != 0) {
            size_t i = 0;
            while (a[off + i] == b[off + i])
                i++;
            size_t e = i / f_size[f];
            snprintf(out, cap, "field %s[%zu] row %zu", f_name[f], e / n, lo + e % n);
            return;
        }
        off += len;
    }
}

/* ---- jobs ---------------------------------------------------------------- */

typedef struct job {
    size_t lo, hi;
    pthread_barrier_t *start;
    unsigned char *rows0, *rowsk; /* round 0, later rounds */
    buf misc[N_ROUNDS];
    long bad;
    char first[400];
} job;

static void miss(job *j, const char *fmt, ...)
{
    if (j->bad++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(j->first, sizeof j->first, fmt, ap);
        va_end(ap);
    }
}

/* A call that must succeed. */
static void ok(job *j, const char *what, int32_t st, const char *err)
{
    if (st != SEG_OK)
        miss(j, "rows %zu..%zu: %s: %s (%s)", j->lo, j->hi, what, seg_status_str(st),
             err ? err : "");
}

/* A call with an expected status; the status and message go to the stream. */
static void expect(job *j, buf *b, const char *what, int32_t st, int32_t want, const char *err)
{
    if (st != want)
        miss(j, "%s: %s, want %s (%s)", what, seg_status_str(st), seg_status_str(want),
             err ? err : "");
    else if (err && want != SEG_OK && err[0] == '\0')
        miss(j, "%s: empty err_buf", what);
    PUT(b, st);
    if (err)
        put_str(b, err);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

/* ---- frames ---------------------------------------------------------------- */

static int32_t add_col(seg_frame *f, const col *c, size_t a, const uint8_t *valid)
{
    switch (c->type) {
    case SEG_TYPE_DOUBLE:
        return seg_frame_add_double(f, c->name, (const double *)c->data + a, valid);
    case SEG_TYPE_INT32:
        return seg_frame_add_int32(f, c->name, (const int32_t *)c->data + a, valid);
    case SEG_TYPE_INT64:
        return seg_frame_add_int64(f, c->name, (const int64_t *)c->data + a, valid);
    case SEG_TYPE_STRING:
        return seg_frame_add_string(f, c->name, (const char *const *)c->data + a, valid);
    default:
        return seg_frame_add_dict(f, c->name, (const int32_t *)c->data + a, channels, 4, valid);
    }
}

/* A zero-copy view of rows a..b of the shared columns; `bits` (caller's,
 * (b - a + 7) / 8 bytes) receives the validity bits, which need not start
 * on a byte. NULL on failure. */
static seg_frame *make_view(size_t a, size_t b, uint8_t *bits)
{
    seg_frame *v = NULL;
    if (seg_frame_new(&v, b - a, &la.base) != SEG_OK)
        return NULL;
    for (size_t c = 0; c < N_COLS; c++) {
        const uint8_t *valid = NULL;
        if (cols[c].valid) { /* only txn_90d has one */
            memset(bits, 0, (b - a + 7) / 8);
            for (size_t i = 0; i < b - a; i++)
                if (cols[c].valid[(a + i) / 8] >> ((a + i) % 8) & 1)
                    bits[i / 8] |= (uint8_t)(1u << (i % 8));
            valid = bits;
        }
        if (add_col(v, &cols[c], a, valid) != SEG_OK) {
            seg_frame_free(v);
            return NULL;
        }
    }
    return v;
}

/* ---- snapshot of every shared handle (const calls only) ----------------- */

typedef int32_t (*saver)(const void *h, char *buf, size_t cap, size_t *len);
static int32_t sv_rfm(const void *h, char *p, size_t c, size_t *n)
{
    return seg_rfm_save(h, p, c, n);
}
static int32_t sv_tiers(const void *h, char *p, size_t c, size_t *n)
{
    return seg_tiers_save(h, p, c, n);
}
static int32_t sv_km(const void *h, char *p, size_t c, size_t *n)
{
    return seg_kmeans_save(h, p, c, n);
}
static int32_t sv_reg(const void *h, char *p, size_t c, size_t *n)
{
    return seg_tagreg_save(h, p, c, n);
}

/* Asks the size, checks EBUFSZ one byte short (buffer untouched), saves. */
static void put_saved(job *j, buf *b, const char *what, saver fn, const void *h)
{
    size_t len = CANARY_SIZE, len2 = CANARY_SIZE;
    int32_t st = fn(h, NULL, 0, &len);
    PUT(b, st);
    if (st != SEG_OK || len == CANARY_SIZE) {
        miss(j, "%s: size query %s", what, seg_status_str(st));
        return;
    }
    char *text = xcalloc(len + 1, 1);
    memset(text, CANARY_U8, len + 1);
    st = fn(h, text, len, &len2);
    if (st != SEG_EBUFSZ || len2 != len || (unsigned char)text[0] != CANARY_U8)
        miss(j, "%s: cap one short gave %s, len %zu/%zu", what, seg_status_str(st), len2, len);
    st = fn(h, text, len + 1, &len2);
    if (st != SEG_OK || len2 != len || text[len] != '\0' || strlen(text) != len)
        miss(j, "%s: save gave %s", what, seg_status_str(st));
    put(b, text, len + 1);
    free(text);
}

static void dump_frame(job *j, buf *b)
{
    sec(b, "frame");
    size_t nr = seg_frame_n_rows(frame), nc = seg_frame_n_columns(frame);
    PUT(b, nr);
    PUT(b, nc);
    for (size_t c = 0; c < nc + 1; c++) {
        const char *name = NULL;
        int32_t type = CANARY_I32;
        size_t idx = CANARY_SIZE;
        int32_t st = seg_frame_column_info(frame, c, &name, &type);
        PUT(b, st);
        if (c == nc) {
            if (st != SEG_ERANGE || type != CANARY_I32)
                miss(j, "column_info past the end: %s", seg_status_str(st));
            continue;
        }
        put_str(b, name);
        PUT(b, type);
        st = seg_frame_find(frame, name ? name : "", &idx);
        PUT(b, st);
        PUT(b, idx);
        if (st != SEG_OK || idx != c)
            miss(j, "frame_find(%s) = %s, %zu", name ? name : "(null)", seg_status_str(st), idx);
    }
    put_str(b, seg_frame_last_error(frame));
}

static void dump_rfm(job *j, buf *b)
{
    static const int32_t keys[] = {100, 101, 102, 110, 111, 112, 200, 201, 202, 203, 204, 205};
    sec(b, "rfm");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        int64_t v = CANARY_I32, lo = 0, hi = 0;
        int32_t st = seg_rfm_get_param(rfm, keys[k], &v);
        PUT(b, st);
        PUT(b, v);
        ok(j, "rfm_get_param", st, NULL);
        st = seg_rfm_param_bounds(keys[k], &lo, &hi);
        PUT(b, lo);
        PUT(b, hi);
        if (st != SEG_OK || v < lo || v > hi)
            miss(j, "rfm param %d = %lld outside %lld..%lld", keys[k], (long long)v, (long long)lo,
                 (long long)hi);
    }
    for (int32_t dim = 0; dim < 3; dim++) {
        double t[SEG_RFM_MAX_BINS];
        size_t nt = 0;
        int32_t st = seg_rfm_get_thresholds(rfm, dim, t, SEG_RFM_MAX_BINS, &nt);
        ok(j, "rfm_get_thresholds", st, NULL);
        PUT(b, nt);
        put(b, t, (nt <= SEG_RFM_MAX_BINS ? nt : 0) * sizeof *t);
    }
    int32_t fitted = seg_rfm_is_fitted(rfm);
    PUT(b, fitted);
    put_saved(j, b, "rfm_save", sv_rfm, rfm);
    put_str(b, seg_rfm_last_error(rfm));

    sec(b, "scheme");
    size_t count = seg_rfm_scheme_count(scheme);
    int32_t others = seg_rfm_scheme_others(scheme), levels = seg_rfm_scheme_levels(scheme);
    PUT(b, count);
    PUT(b, others);
    PUT(b, levels);
    for (int32_t s = 0; s <= (int32_t)count; s++) {
        const char *id = seg_rfm_scheme_id(scheme, s);
        put_str(b, id);
        put_str(b, seg_rfm_scheme_name(scheme, s));
        int32_t box[6] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
        int32_t st = seg_rfm_scheme_box(scheme, s, box);
        PUT(b, st);
        put(b, box, sizeof box);
        int32_t found = CANARY_I32;
        if (id) {
            st = seg_rfm_scheme_find(scheme, id, &found);
            if (st != SEG_OK || found != s)
                miss(j, "scheme_find(%s) = %s, %d", id, seg_status_str(st), found);
        }
    }
    put_str(b, seg_rfm_scheme_last_error(scheme));
}

static void dump_tiers(job *j, buf *b, const seg_tiers *t)
{
    sec(b, seg_tiers_is_group(t) ? "groups" : "tiers");
    size_t count = seg_tiers_count(t);
    int32_t catch_all = seg_tiers_has_catch_all(t), is_group = seg_tiers_is_group(t);
    PUT(b, count);
    PUT(b, catch_all);
    PUT(b, is_group);
    for (int32_t k = 0; k <= (int32_t)count; k++) {
        const char *id = seg_tiers_id(t, k);
        put_str(b, id);
        put_str(b, seg_tiers_name(t, k));
        int32_t by = CANARY_I32, found = CANARY_I32;
        int32_t st = seg_tiers_unreachable(t, k, &by);
        PUT(b, st);
        PUT(b, by);
        if (id && (seg_tiers_find(t, id, &found) != SEG_OK || found != k))
            miss(j, "tiers_find(%s) = %d", id, found);
    }
    put_saved(j, b, "tiers_save", sv_tiers, t);
    put_str(b, seg_tiers_last_error(t));
}

static void dump_kmeans(job *j, buf *b)
{
    sec(b, "kmeans");
    double k = 0;
    for (int32_t p = SEG_KM_K; p <= SEG_KM_ORDER_ASC; p++) {
        double v = CANARY_DBL;
        int32_t st = seg_kmeans_get_param(km, p, &v);
        ok(j, "kmeans_get_param", st, NULL);
        PUT(b, v);
        if (p == SEG_KM_K)
            k = v;
    }
    int32_t fitted = seg_kmeans_is_fitted(km);
    PUT(b, fitted);
    double cent[64], inertia = CANARY_DBL;
    int32_t iter = CANARY_I32;
    int64_t sizes[16];
    size_t nc = (size_t)k * 4;
    if (nc > 64 || k > 16) {
        miss(j, "kmeans k = %g", k);
        return;
    }
    ok(j, "kmeans_centroids", seg_kmeans_centroids(km, cent, nc), NULL);
    put(b, cent, nc * sizeof *cent);
    ok(j, "kmeans_result", seg_kmeans_result(km, &inertia, &iter, sizes), NULL);
    PUT(b, inertia);
    PUT(b, iter);
    put(b, sizes, (size_t)k * sizeof *sizes);
    put_saved(j, b, "kmeans_save", sv_km, km);
    put_str(b, seg_kmeans_last_error(km));
}

static void dump_tagreg(job *j, buf *b)
{
    static const char *const names[] = {"新客户", "ＶＩＰ", " Vip ",   "first purchase", "HNW",
                                        "hnw",    "key account", "高频交易", "2019促销名单", "不存在"};
    static const char *const misspelt[] = {"高频交", "复够客户", "vip客", "xyzzy", "fund holders"};
    static const char *const prefixes[] = {"", "行为", "行为/交易", " 生命周期 ", "资产/规模", "无"};
    sec(b, "tagreg");
    int32_t frozen = seg_tagreg_is_frozen(reg);
    size_t count = seg_tagreg_count(reg);
    PUT(b, frozen);
    PUT(b, count);
    for (size_t i = 0; i <= count; i++) {
        int32_t id = seg_tagreg_id_at(reg, i);
        PUT(b, id);
        put_str(b, seg_tagreg_name(reg, id));
        size_t na = seg_tagreg_alias_count(reg, id);
        PUT(b, na);
        for (size_t a = 0; a <= na; a++)
            put_str(b, seg_tagreg_alias(reg, id, a));
        for (int32_t f = SEG_TAG_CATEGORY; f <= SEG_TAG_RULE_TEXT; f++)
            put_str(b, seg_tagreg_text(reg, id, f));
        for (int32_t f = SEG_TAG_KIND; f <= SEG_TAG_STATUS; f++) {
            int32_t v = CANARY_I32;
            int32_t st = seg_tagreg_code(reg, id, f, &v);
            PUT(b, st);
            PUT(b, v);
        }
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int32_t id = CANARY_I32;
        int32_t st = seg_tagreg_find(reg, names[i], &id);
        PUT(b, st);
        PUT(b, id);
        char key[256];
        size_t len = 0;
        st = seg_tag_normalize(names[i], key, sizeof key, &len);
        PUT(b, st);
        put_str(b, st == SEG_OK ? key : "");
    }
    for (size_t i = 0; i < sizeof misspelt / sizeof misspelt[0]; i++) {
        int32_t ids[8] = {0};
        size_t n = CANARY_SIZE;
        int32_t st = seg_tagreg_suggest(reg, misspelt[i], ids, 8, &n);
        PUT(b, st);
        PUT(b, n);
        put(b, ids, sizeof ids);
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        int32_t ids[MAX_TAGS] = {0};
        size_t n = CANARY_SIZE;
        int32_t st = seg_tagreg_list(reg, prefixes[i], ids, MAX_TAGS, &n);
        PUT(b, st);
        PUT(b, n);
        put(b, ids, sizeof ids);
    }
    put_saved(j, b, "tagreg_save", sv_reg, reg);
    put_str(b, seg_tagreg_last_error(reg));
}

/* With `masks`, every tag's mask too (N_ROWS bytes each). */
static void dump_tagset(job *j, buf *b, int masks)
{
    char err[ERR_CAP] = "";
    sec(b, "tagset");
    size_t nr = seg_tagset_n_rows(set);
    int32_t same_reg = seg_tagset_registry(set) == reg;
    PUT(b, nr);
    PUT(b, same_reg);
    for (size_t i = 0; i <= n_tags; i++) {
        int32_t id = i < n_tags ? tag_ids[i] : 0; /* 0: the whole set's memory */
        int64_t count = CANARY_I32;
        size_t mem = CANARY_SIZE;
        if (id) {
            ok(j, "tagset_count", seg_tagset_count(set, id, &count), NULL);
            PUT(b, count);
        }
        ok(j, "tagset_memory", seg_tagset_memory(set, id, &mem), NULL);
        PUT(b, mem);
    }
    int64_t *co = xcalloc(n_tags * n_tags, sizeof *co);
    ok(j, "tagset_cooccurrence", seg_tagset_cooccurrence(set, tag_ids, n_tags, co, err, ERR_CAP),
       err);
    put(b, co, n_tags * n_tags * sizeof *co);
    free(co);
    if (masks) {
        uint8_t *m = xcalloc(N_ROWS, 1);
        for (size_t i = 0; i < n_tags; i++) {
            ok(j, "tagset_get_mask", seg_tagset_get_mask(set, tag_ids[i], m, N_ROWS), NULL);
            put(b, m, N_ROWS);
        }
        free(m);
    }
    sec(b, "query");
    for (size_t q = 0; q < N_QUERIES; q++) {
        int64_t n = CANARY_I32;
        ok(j, "query_count", seg_query_count(queries[q], set, &n, err, ERR_CAP), err);
        PUT(b, n);
    }
}

static void dump_profile(job *j, buf *b)
{
    sec(b, "profile");
    size_t ng = seg_profile_n_groups(profile), nc = seg_profile_n_columns(profile);
    PUT(b, ng);
    PUT(b, nc);
    for (size_t g = 0; g < ng; g++) {
        int32_t l1 = CANARY_I32, l2 = CANARY_I32;
        int64_t count = -1;
        double share = CANARY_DBL;
        ok(j, "profile_group", seg_profile_group(profile, g, &l1, &l2, &count, &share), NULL);
        PUT(b, l1);
        PUT(b, l2);
        PUT(b, count);
        PUT(b, share);
        for (size_t c = 0; c < nc; c++)
            for (int32_t s = SEG_STAT_COUNT; s <= SEG_STAT_MEDIAN; s++) {
                double v = CANARY_DBL;
                ok(j, "profile_value", seg_profile_value(profile, g, c, s, &v), NULL);
                PUT(b, v);
            }
    }
    for (size_t c = 0; c < nc; c++)
        for (int32_t s = SEG_STAT_COUNT; s <= SEG_STAT_MEDIAN; s++) {
            double v = CANARY_DBL;
            ok(j, "profile_total", seg_profile_total(profile, c, s, &v), NULL);
            PUT(b, v);
        }
}

/* Every const getter of every shared handle. */
static void snapshot(job *j, buf *b, int masks)
{
    dump_frame(j, b);
    dump_rfm(j, b);
    dump_tiers(j, b, tiers);
    dump_tiers(j, b, groups);
    dump_kmeans(j, b);
    dump_tagreg(j, b);
    dump_tagset(j, b, masks);
    dump_profile(j, b);
}

/* ---- the worker --------------------------------------------------------- */

/* End of the piece starting at `a` in round `round`. */
static size_t next_cut(const job *j, int round, size_t a)
{
    static const size_t step[N_ROUNDS] = {0, 4099, 0, 257};
    size_t hi = j->hi;
    if (round == 0)
        return hi;
    if (step[round])
        return a + step[round] < hi ? a + step[round] : hi;
    /* Round 2: cut one row before, at and after each chunk border, and in
     * the middle (so a range without a border still has a 1-row piece). */
    size_t mid = j->lo + (hi - j->lo) / 2, best = hi;
    size_t cand[2] = {mid, mid + 1};
    for (size_t k = 0; k < 2; k++)
        if (cand[k] > a && cand[k] < best)
            best = cand[k];
    for (size_t border = TAG_CHUNK; border < hi + 2; border += TAG_CHUNK)
        for (size_t c = border - 1; c <= border + 1; c++)
            if (c > a && c < best)
                best = c;
    return best;
}

/* All row-wise calls for rows a..b, into `rows` (the job's range). */
static void do_piece(job *j, int round, size_t a, size_t b, unsigned char *rows, uint8_t *bits,
                     int32_t *cust, int64_t *sel)
{
    static const size_t sel_limit[N_ROUNDS] = {SIZE_MAX, 1000, 64, 300};
    char err[ERR_CAP] = "";
    size_t n = j->hi - j->lo, o = a - j->lo, k = b - a;
    void *p[N_FIELDS];
    for (int f = 0; f < N_FIELDS; f++)
        p[f] = fld(rows, n, f);
#define OUT(f, type) ((type *)p[F_##f] + o)

    for (size_t r = 0; r < N_RULES; r++)
        ok(j, "rule_eval",
           seg_rule_eval(rules[r], frame, a, b, OUT(MATCH, uint8_t) + r * n, err, ERR_CAP), err);

    ok(j, "rfm_score",
       seg_rfm_score(rfm, d.rec + a, d.freq + a, d.mon + a, k, OUT(R, int32_t), OUT(F, int32_t),
                     OUT(M, int32_t), OUT(CELL, int32_t), OUT(W, double), err, ERR_CAP),
       err);
    ok(j, "rfm_scheme_apply",
       seg_rfm_scheme_apply(scheme, OUT(R, int32_t), OUT(F, int32_t), OUT(M, int32_t), k,
                            OUT(SEG, int32_t), err, ERR_CAP),
       err);

    /* Transactions of customers a..b, renumbered from 0. */
    size_t t0 = d.tx_first[a], t1 = d.tx_first[b];
    for (size_t t = t0; t < t1; t++)
        cust[t - t0] = d.tx_cust[t] - (int32_t)a;
    ok(j, "rfm_aggregate",
       seg_rfm_aggregate(rfm, cust, d.tx_time + t0, d.tx_amount + t0, t1 - t0, 18700, k,
                         OUT(AREC, double), OUT(AFREQ, double), OUT(AMON, double),
                         OUT(ATEN, double), OUT(AHAS, uint8_t), err, ERR_CAP),
       err);
    ok(j, "rfm_aggregate_minor",
       seg_rfm_aggregate_minor(rfm, cust, d.tx_time + t0, d.tx_minor + t0, t1 - t0, 18700, k,
                               OUT(MREC, double), OUT(MFREQ, double), OUT(MMON, double),
                               OUT(MTEN, double), OUT(MHAS, uint8_t), err, ERR_CAP),
       err);

    seg_frame *v = make_view(a, b, bits);
    if (!v) {
        miss(j, "view of rows %zu..%zu", a, b);
        return;
    }
    ok(j, "tiers_apply",
       seg_tiers_apply(tiers, v, NULL, OUT(TIER, int32_t), err, ERR_CAP), err);
    ok(j, "tiers_apply prev",
       seg_tiers_apply(tiers, v, d.prev + a, OUT(TIERP, int32_t), err, ERR_CAP), err);
    ok(j, "groups_apply", seg_tiers_apply(groups, v, NULL, OUT(GRP, int32_t), err, ERR_CAP), err);
    ok(j, "groups_apply prev",
       seg_tiers_apply(groups, v, d.gprev + a, OUT(GRPP, int32_t), err, ERR_CAP), err);
    ok(j, "tiers_gaps",
       seg_tiers_gaps(tiers, v, OUT(TIER, int32_t), 0.1, OUT(GNEXT, int32_t), OUT(GCOL, int32_t),
                      OUT(GAP, double), OUT(GNF, int32_t), OUT(GCRIT, uint8_t), err, ERR_CAP),
       err);
    ok(j, "kmeans_predict",
       seg_kmeans_predict(km, v, OUT(KM, int32_t), OUT(KD, double), err, ERR_CAP), err);
    seg_frame_free(v);

    for (size_t i = a; i < b; i++) {
        for (size_t c = 0; c < N_NUM; c++)
            ok(j, "frame_get_double",
               seg_frame_get_double(frame, c, i, OUT(FV, double) + c * n + (i - a),
                                    OUT(FMISS, int32_t) + c * n + (i - a)),
               NULL);
        for (size_t c = 0; c < N_TEXT; c++)
            ok(j, "frame_get_string",
               seg_frame_get_string(frame, N_NUM + c, i, OUT(FS, const char *) + c * n + (i - a)),
               NULL);
        for (size_t t = 0; t < N_TEST_TAGS; t++)
            ok(j, "tagset_test",
               seg_tagset_test(set, test_tags[t], (int64_t)i, OUT(TEST, int32_t) + t * n + (i - a)),
               NULL);
    }

    /* Page through the matches of each query from a on; mark those below b. */
    size_t limit = sel_limit[round] < k ? sel_limit[round] : k;
    for (size_t q = 0; q < N_QUERIES; q++) {
        int64_t begin = (int64_t)a;
        for (;;) {
            size_t got = CANARY_SIZE;
            int32_t st = seg_query_select(queries[q], set, begin, sel, limit, &got, err, ERR_CAP);
            if (st != SEG_OK || got > limit) {
                ok(j, "query_select", st == SEG_OK ? SEG_ERROR : st, err);
                break;
            }
            size_t m = 0;
            for (; m < got && sel[m] < (int64_t)b; m++) {
                if (sel[m] < begin || (m > 0 && sel[m] <= sel[m - 1]))
                    miss(j, "query_select: row %lld out of order", (long long)sel[m]);
                else
                    OUT(QSEL, uint8_t)[q * n + (size_t)sel[m] - a] = 1;
            }
            if (m < got || got < limit)
                break;
            begin = sel[got - 1] + 1;
        }
    }
#undef OUT
}

/* Failing calls on the shared handles: status, message, outputs untouched. */
static void do_errors(job *j, buf *b, uint8_t *bits)
{
    char err[ERR_CAP];
/* E: the call takes err_buf; EN: it has none. */
#define E(what, call, want)                                                                      \
    do {                                                                                         \
        err[0] = '\0';                                                                           \
        expect(j, b, what, (call), (want), err);                                                 \
    } while (0)
#define EN(what, call, want) expect(j, b, what, (call), (want), NULL)
    sec(b, "errors");
    uint8_t m8[4] = {CANARY_U8, CANARY_U8, CANARY_U8, CANARY_U8};
    int32_t i32[4] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
    double dbl[4] = {CANARY_DBL, CANARY_DBL, CANARY_DBL, CANARY_DBL};
    int64_t i64[4] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
    size_t sz = CANARY_SIZE;
    const char *str = CANARY_PTR;

    /* Small frames of the worker: one with an Inf, one without the columns. */
    static const double inf_aum[2] = {1000, INFINITY}, half[2] = {0.5, 0.5}, one[2] = {1, 1};
    static const int32_t txn2[2] = {1, 2};
    seg_frame *tiny = NULL, *other = NULL, *v = make_view(j->lo, j->lo + 4, bits);
    int32_t st = seg_frame_new(&tiny, 2, &la.base);
    if (st == SEG_OK)
        st = seg_frame_add_double(tiny, "aum", inf_aum, NULL);
    if (st == SEG_OK)
        st = seg_frame_add_int32(tiny, "txn_90d", txn2, NULL);
    if (st == SEG_OK)
        st = seg_frame_add_double(tiny, "online_share", half, NULL);
    if (st == SEG_OK)
        st = seg_frame_add_double(tiny, "spend_365d", one, NULL);
    if (st == SEG_OK)
        st = seg_frame_new(&other, 2, &la.base);
    if (st == SEG_OK)
        st = seg_frame_add_double(other, "x", one, NULL);
    if (st != SEG_OK || !v) {
        miss(j, "building the error frames: %s", seg_status_str(st));
        goto out;
    }

    E("rule_eval past the end", seg_rule_eval(rules[0], frame, 10, N_ROWS + 1, m8, err, ERR_CAP),
      SEG_EINVAL);
    E("rule_eval without columns", seg_rule_eval(rules[1], other, 0, 2, m8, err, ERR_CAP),
      SEG_ENOTFOUND);
    int32_t bad_prev[4] = {0, 1, 99, -1};
    E("tiers_apply bad prev", seg_tiers_apply(tiers, v, bad_prev, i32, err, ERR_CAP), SEG_EDATA);
    if (!seg_test_names_row(err, 2))
        miss(j, "tiers_apply message \"%s\" does not name row 2", err);
    E("groups_apply without columns", seg_tiers_apply(groups, other, NULL, i32, err, ERR_CAP),
      SEG_ENOTFOUND);
    int32_t ok_tier[4] = {0, 1, 2, 3}, bad_tier[4] = {0, 1, 42, 3};
    E("tiers_gaps negative critical",
      seg_tiers_gaps(tiers, v, ok_tier, -1, i32, i32, dbl, i32, m8, err, ERR_CAP), SEG_EINVAL);
    E("tiers_gaps bad tier",
      seg_tiers_gaps(tiers, v, bad_tier, 0.1, i32, i32, dbl, i32, m8, err, ERR_CAP), SEG_EDATA);

    static const double r2[2] = {1, INFINITY}, f2[2] = {1, 2}, m2[2] = {10, 20};
    E("rfm_score Inf", seg_rfm_score(rfm, r2, f2, m2, 2, i32, i32, i32, i32, dbl, err, ERR_CAP),
      SEG_EDATA);
    static const int32_t bad_cust[2] = {0, 7};
    static const int64_t tt[2] = {18000, 18001}, minor[2] = {100, 200};
    static const double amt[2] = {1, 2};
    E("rfm_aggregate bad customer",
      seg_rfm_aggregate(rfm, bad_cust, tt, amt, 2, 18700, 2, dbl, dbl, dbl, dbl, m8, err, ERR_CAP),
      SEG_EDATA);
    E("rfm_aggregate_minor future row",
      seg_rfm_aggregate_minor(rfm, txn2, tt, minor, 2, 17000, 3, dbl, dbl, dbl, dbl, m8, err,
                              ERR_CAP),
      SEG_EDATA);
    EN("rfm_get_param unknown", seg_rfm_get_param(rfm, 999, i64), SEG_EINVAL);
    EN("rfm_get_thresholds short", seg_rfm_get_thresholds(rfm, SEG_RFM_R, dbl, 1, &sz),
      SEG_EBUFSZ);
    PUT(b, sz);
    static const int32_t s9[2] = {1, 9}, s1[2] = {1, 1};
    E("scheme_apply score 9", seg_rfm_scheme_apply(scheme, s1, s9, s1, 2, i32, err, ERR_CAP),
      SEG_EDATA);
    EN("scheme_find unknown", seg_rfm_scheme_find(scheme, "no_such", i32), SEG_ENOTFOUND);
    EN("scheme_box others", seg_rfm_scheme_box(scheme, seg_rfm_scheme_others(scheme), i32),
      SEG_ERANGE);

    EN("tiers_find unknown", seg_tiers_find(tiers, "no_such", i32), SEG_ENOTFOUND);
    EN("tiers_unreachable bad", seg_tiers_unreachable(groups, 99, i32), SEG_ERANGE);

    E("kmeans_predict Inf", seg_kmeans_predict(km, tiny, i32, dbl, err, ERR_CAP), SEG_EDATA);
    E("kmeans_predict no features", seg_kmeans_predict(km, other, i32, dbl, err, ERR_CAP),
      SEG_ENOTFOUND);
    E("kmeans_silhouette sample 1", seg_kmeans_silhouette(km, v, 1, 1, dbl, err, ERR_CAP),
      SEG_ERANGE);
    EN("kmeans_centroids short", seg_kmeans_centroids(km, dbl, 1), SEG_EBUFSZ);
    EN("kmeans_get_param unknown", seg_kmeans_get_param(km, 99, dbl), SEG_EINVAL);

    EN("tagreg_find unknown", seg_tagreg_find(reg, "没有这个标签", i32), SEG_ENOTFOUND);
    EN("tagreg_code unknown tag", seg_tagreg_code(reg, 5, SEG_TAG_KIND, i32), SEG_ENOTFOUND);
    EN("tagreg_suggest NULL ids", seg_tagreg_suggest(reg, "高频", NULL, 3, &sz), SEG_EINVAL);
    EN("tagreg_save short", seg_tagreg_save(reg, (char *)m8, sizeof m8, &sz), SEG_EBUFSZ);
    EN("tag_normalize empty", seg_tag_normalize("  \xe3\x80\x80 ", NULL, 0, &sz), SEG_EINVAL);

    EN("tagset_test past the end", seg_tagset_test(set, 1, N_ROWS, i32), SEG_ERANGE);
    EN("tagset_test unknown tag", seg_tagset_test(set, 5, 0, i32), SEG_ENOTFOUND);
    EN("tagset_count unknown tag", seg_tagset_count(set, 999, i64), SEG_ENOTFOUND);
    EN("tagset_get_mask short", seg_tagset_get_mask(set, 1, m8, sizeof m8), SEG_EINVAL);
    static const int32_t co_ids[3] = {1, 2, 999};
    E("tagset_cooccurrence unknown", seg_tagset_cooccurrence(set, co_ids, 3, i64, err, ERR_CAP),
      SEG_ENOTFOUND);
    E("tagset_cooccurrence k 0", seg_tagset_cooccurrence(set, co_ids, 0, i64, err, ERR_CAP),
      SEG_ERANGE);
    EN("tagset_memory unknown", seg_tagset_memory(set, 999, &sz), SEG_ENOTFOUND);

    E("query_select past the end",
      seg_query_select(queries[0], set, N_ROWS + 1, i64, 4, &sz, err, ERR_CAP), SEG_ERANGE);
    E("query_mask short", seg_query_mask(queries[1], set, m8, sizeof m8, err, ERR_CAP),
      SEG_EINVAL);

    EN("profile_value bad stat", seg_profile_value(profile, 0, 0, 99, dbl), SEG_EINVAL);
    EN("profile_value bad group",
      seg_profile_value(profile, seg_profile_n_groups(profile), 0, SEG_STAT_MEAN, dbl), SEG_ERANGE);
    EN("profile_total bad column", seg_profile_total(profile, N_PROFILE_COLS, SEG_STAT_SUM, dbl),
      SEG_ERANGE);
    EN("profile_group bad group", seg_profile_group(profile, 9999, i32, i32, i64, dbl), SEG_ERANGE);

    EN("frame_get_double text", seg_frame_get_double(frame, N_NUM, 0, dbl, i32), SEG_EINVAL);
    EN("frame_get_double past the end", seg_frame_get_double(frame, 0, N_ROWS, dbl, i32),
      SEG_ERANGE);
    EN("frame_get_string number", seg_frame_get_string(frame, 0, 0, &str), SEG_EINVAL);
    EN("frame_find unknown", seg_frame_find(frame, "no_such", &sz), SEG_ENOTFOUND);

    /* Constructors reading a shared handle, with bad input. */
    seg_rule *rule = CANARY_PTR;
    seg_tiers *ts = CANARY_PTR;
    seg_query *qy = CANARY_PTR;
    static const char bad_rule[] = "aum >= and";
    static const char bad_tiers[] = "tier a \"A\" when no_such > 1\n";
    static const char bad_query[] = "高频交 and (vip";
    E("rule_compile bad", seg_rule_compile(&rule, bad_rule, sizeof bad_rule - 1, frame, "r.txt",
                                           &la.base, err, ERR_CAP),
      SEG_EPARSE);
    E("tiers_load bad", seg_tiers_load(&ts, bad_tiers, sizeof bad_tiers - 1, frame, "t.txt",
                                       &la.base, err, ERR_CAP),
      SEG_EPARSE);
    E("query_compile bad", seg_query_compile(&qy, bad_query, sizeof bad_query - 1, reg, "q.txt",
                                             &la.base, err, ERR_CAP),
      SEG_EPARSE);
    if (rule != CANARY_PTR || ts != CANARY_PTR || qy != CANARY_PTR)
        miss(j, "a failed constructor wrote its output");

    for (size_t i = 0; i < 4; i++)
        if (m8[i] != CANARY_U8 || i32[i] != CANARY_I32 || dbl[i] != CANARY_DBL ||
            i64[i] != CANARY_I32)
            miss(j, "a failed call wrote an output (element %zu)", i);
    if (str != CANARY_PTR)
        miss(j, "frame_get_string wrote its output on failure");
out:
    seg_frame_free(tiny);
    seg_frame_free(other);
    seg_frame_free(v);
#undef E
#undef EN
}

/* Round 0 only: whole-frame calls on the shared frame and set, compared with
 * the main thread's results, and handles the worker builds from shared ones. */
static void do_whole(job *j, buf *b, const unsigned char *rows, uint8_t *bits)
{
    char err[ERR_CAP] = "";
    size_t n = j->hi - j->lo;
    int32_t *lab = xcalloc(N_ROWS, sizeof *lab);
    double *dist = xcalloc(N_ROWS, sizeof *dist);
    uint8_t *mask = xcalloc(N_ROWS, 1);

    struct {
        const seg_tiers *t;
        const int32_t *prev, *want;
        const char *what;
    } ap[] = {{tiers, NULL, ref_tier, "tiers"},
              {tiers, d.prev, ref_tierp, "tiers prev"},
              {groups, NULL, ref_grp, "groups"},
              {groups, d.gprev, ref_grpp, "groups prev"}};
    /* One of the four applications per worker, k-means on every other
     * one (to keep the run short under ThreadSanitizer). */
    size_t k = j->lo * N_THREADS / N_ROWS % 4;
    ok(j, ap[k].what, seg_tiers_apply(ap[k].t, frame, ap[k].prev, lab, err, ERR_CAP), err);
    if (memcmp(lab, ap[k].want, N_ROWS * sizeof *lab))
        miss(j, "whole-frame %s differ from the main thread's", ap[k].what);
    if (k % 2 == 0) {
        ok(j, "kmeans_predict", seg_kmeans_predict(km, frame, lab, dist, err, ERR_CAP), err);
        if (memcmp(lab, ref_km, N_ROWS * sizeof *lab) ||
            memcmp(dist, ref_kd, N_ROWS * sizeof *dist))
            miss(j, "whole-frame k-means labels differ from the main thread's");
    }
    for (size_t i = 0; i < n_tags; i++) {
        ok(j, "tagset_get_mask", seg_tagset_get_mask(set, tag_ids[i], mask, N_ROWS), NULL);
        if (memcmp(mask, ref_mask + i * N_ROWS, N_ROWS))
            miss(j, "mask of tag %d differs from the main thread's", tag_ids[i]);
    }
    for (size_t q = 0; q < N_QUERIES; q++) {
        ok(j, "query_mask", seg_query_mask(queries[q], set, mask, N_ROWS, err, ERR_CAP), err);
        if (memcmp(mask, ref_qmask + q * N_ROWS, N_ROWS))
            miss(j, "mask of query %zu differs from the main thread's", q);
    }

    /* Handles of the worker's own, built from the shared ones. */
    sec(b, "own handles");
    seg_rule *rule = NULL;
    seg_query *qy = NULL;
    seg_tiers *ts = NULL;
    seg_tagset *own = NULL;
    seg_profile *pr = NULL;
    seg_frame *v = make_view(j->lo, j->hi, bits);
    if (!v) {
        miss(j, "view of rows %zu..%zu", j->lo, j->hi);
        goto out;
    }
    ok(j, "rule_compile",
       seg_rule_compile(&rule, rule_text[2], strlen(rule_text[2]), frame, NULL, &la.base, err,
                        ERR_CAP),
       err);
    if (rule) {
        ok(j, "own rule_eval", seg_rule_eval(rule, frame, j->lo, j->hi, mask, err, ERR_CAP), err);
        if (memcmp(mask, (const uint8_t *)fld((unsigned char *)rows, n, F_MATCH) + 2 * n, n))
            miss(j, "a rule compiled by the worker matches differently");
    }
    ok(j, "query_compile",
       seg_query_compile(&qy, query_text[0], strlen(query_text[0]), reg, NULL, &la.base, err,
                         ERR_CAP),
       err);
    if (qy) {
        int64_t c0 = -1, c1 = -2;
        ok(j, "own query_count", seg_query_count(qy, set, &c0, err, ERR_CAP), err);
        ok(j, "query_count", seg_query_count(queries[0], set, &c1, err, ERR_CAP), err);
        if (c0 != c1)
            miss(j, "a query compiled by the worker counts %lld, not %lld", (long long)c0,
                 (long long)c1);
    }
    ok(j, "tiers_load",
       seg_tiers_load(&ts, tiers_text, strlen(tiers_text), v, "tiers.txt", &la.base, err, ERR_CAP),
       err);
    if (ts)
        put_saved(j, b, "own tiers_save", sv_tiers, ts);

    /* A tag set of the worker's rows over the shared registry. */
    ok(j, "tagset_new", seg_tagset_new(&own, reg, n, &la.base), NULL);
    if (own) {
        ok(j, "own eval_rules", seg_tagset_eval_rules(own, v, NULL, 0, err, ERR_CAP), err);
        for (size_t i = 0; i < n_tags; i++) {
            ok(j, "own get_mask", seg_tagset_get_mask(own, tag_ids[i], mask, n), NULL);
            put(b, mask, n);
        }
    }
    ok(j, "profile_compute",
       seg_profile_compute(&pr, v, (const int32_t *)fld((unsigned char *)rows, n, F_TIER),
                           (const int32_t *)fld((unsigned char *)rows, n, F_GRP), profile_cols,
                           N_PROFILE_COLS, 0, &la.base, err, ERR_CAP),
       err);
    for (size_t g = 0; pr && g < seg_profile_n_groups(pr); g++)
        for (size_t c = 0; c < N_PROFILE_COLS; c++)
            for (int32_t st = SEG_STAT_COUNT; st <= SEG_STAT_MEDIAN; st++) {
                double val = CANARY_DBL;
                ok(j, "own profile_value", seg_profile_value(pr, g, c, st, &val), NULL);
                PUT(b, val);
            }
    double sil = CANARY_DBL, curve[3] = {0};
    ok(j, "kmeans_silhouette",
       seg_kmeans_silhouette(km, v, 128, (uint64_t)j->lo, &sil, err, ERR_CAP), err);
    PUT(b, sil);
    ok(j, "kmeans_silhouette shared frame",
       seg_kmeans_silhouette(km, frame, 200, 99, &sil, err, ERR_CAP), err);
    PUT(b, sil);
    seg_frame_free(v);
    v = make_view(j->lo, j->lo + 2000, bits);
    if (v) {
        ok(j, "kmeans_inertia_curve",
           seg_kmeans_inertia_curve(km, v, 1, 3, curve, err, ERR_CAP), err);
        put(b, curve, sizeof curve);
    }
    int64_t mig[25];
    double up[5], stay[5], down[5];
    const int32_t *tier = (const int32_t *)fld((unsigned char *)rows, n, F_TIER);
    ok(j, "tiers_migration",
       seg_tiers_migration(d.prev + j->lo, tier, n, 5, mig, up, stay, down, err, ERR_CAP), err);
    put(b, mig, sizeof mig);
    put(b, stay, sizeof stay);
out:
    seg_frame_free(v);
    seg_rule_free(rule);
    seg_query_free(qy);
    seg_tiers_free(ts);
    seg_tagset_free(own);
    seg_profile_free(pr);
    free(lab);
    free(dist);
    free(mask);
}

static void *worker(void *arg)
{
    job *j = arg;
    size_t n = j->hi - j->lo;
    uint8_t *bits = xcalloc(n / 8 + 2, 1);
    int32_t *cust = xcalloc(d.tx_first[j->hi] - d.tx_first[j->lo], sizeof *cust);
    int64_t *sel = xcalloc(n, sizeof *sel);
    if (j->start)
        pthread_barrier_wait(j->start);
    for (int round = 0; round < N_ROUNDS; round++) {
        unsigned char *rows = round == 0 ? j->rows0 : j->rowsk;
        buf *b = &j->misc[round];
        /* Every field is written by the calls except the query marks. */
        memset(fld(rows, n, F_QSEL), 0, n * N_QUERIES);
        for (size_t a = j->lo; a < j->hi;) {
            size_t e = next_cut(j, round, a);
            do_piece(j, round, a, e, rows, bits, cust, sel);
            a = e;
        }
        snapshot(j, b, 0);
        do_errors(j, b, bits);
        if (round == 0)
            do_whole(j, b, rows, bits);
        char where[128];
        if (round > 0) {
            rows_diff(j->rows0, rows, n, j->lo, where, sizeof where);
            if (where[0])
                miss(j, "round %d (cut differently) differs from round 0: %s", round, where);
        }
    }
    free(bits);
    free(cust);
    free(sel);
    return NULL;
}

/* ---- building the shared handles ----------------------------------------- */

static uint64_t rng_state = 20240601;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rnd(void)
{
    return (double)(rnd64() >> 11) / 9007199254740992.0;
}

static void make_data(void)
{
    d.aum = xcalloc(N_ROWS, sizeof(double));
    d.spend = xcalloc(N_ROWS, sizeof(double));
    d.online = xcalloc(N_ROWS, sizeof(double));
    d.rec = xcalloc(N_ROWS, sizeof(double));
    d.freq = xcalloc(N_ROWS, sizeof(double));
    d.mon = xcalloc(N_ROWS, sizeof(double));
    d.ten = xcalloc(N_ROWS, sizeof(double));
    d.txn = xcalloc(N_ROWS, sizeof(int32_t));
    d.channel = xcalloc(N_ROWS, sizeof(int32_t));
    d.prev = xcalloc(N_ROWS, sizeof(int32_t));
    d.gprev = xcalloc(N_ROWS, sizeof(int32_t));
    d.txn_valid = xcalloc(N_ROWS / 8 + 1, 1);
    d.has = xcalloc(N_ROWS, 1);
    d.orders = xcalloc(N_ROWS, sizeof(int64_t));
    d.age = xcalloc(N_ROWS, sizeof(int64_t));
    d.city = xcalloc(N_ROWS, sizeof(char *));
    d.tx_first = xcalloc(N_ROWS + 1, sizeof(size_t));
    d.tx_cust = xcalloc(N_ROWS * 5, sizeof(int32_t));
    d.tx_time = xcalloc(N_ROWS * 5, sizeof(int64_t));
    d.tx_minor = xcalloc(N_ROWS * 5, sizeof(int64_t));
    d.tx_amount = xcalloc(N_ROWS * 5, sizeof(double));
    for (size_t i = 0; i < N_ROWS; i++) {
        d.aum[i] = i % 503 == 7 ? NAN : floor(exp(rnd() * 15.8) * 100) / 100;
        d.txn[i] = (int32_t)(rnd() * rnd() * 30);
        if (i % 211 != 3)
            d.txn_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        d.orders[i] = (int64_t)(rnd() * rnd() * 40);
        d.spend[i] = i % 307 == 11 ? NAN : floor(rnd() * rnd() * 500000) / 10;
        d.online[i] = floor(rnd() * 1000) / 1000;
        d.age[i] = 18 + (int64_t)(rnd() * 72);
        d.city[i] = i % 101 == 13 ? NULL : cities[rnd64() % 6];
        d.channel[i] = i % 89 == 5 ? -1 : (int32_t)(rnd64() % 4);
        /* Transactions, grouped by customer; every 11th customer has none,
         * some have only refunds. */
        size_t k = i % 11 == 3 ? 0 : 1 + rnd64() % 5;
        d.tx_first[i] = d.n_tx;
        for (size_t t = 0; t < k; t++, d.n_tx++) {
            d.tx_cust[d.n_tx] = (int32_t)i;
            d.tx_time[d.n_tx] = 18000 + (int64_t)(rnd64() % 700);
            d.tx_minor[d.n_tx] = (int64_t)(rnd64() % 500000) - (i % 37 == 0 ? 600000 : 0);
            d.tx_amount[d.n_tx] = (double)d.tx_minor[d.n_tx] / 100;
        }
    }
    d.tx_first[N_ROWS] = d.n_tx;

    const col c[N_COLS] = {
        {"aum", SEG_TYPE_DOUBLE, d.aum, NULL},
        {"txn_90d", SEG_TYPE_INT32, d.txn, d.txn_valid},
        {"orders_365d", SEG_TYPE_INT64, d.orders, NULL},
        {"spend_365d", SEG_TYPE_DOUBLE, d.spend, NULL},
        {"online_share", SEG_TYPE_DOUBLE, d.online, NULL},
        {"age", SEG_TYPE_INT64, d.age, NULL},
        {"recency", SEG_TYPE_DOUBLE, d.rec, NULL},
        {"frequency", SEG_TYPE_DOUBLE, d.freq, NULL},
        {"monetary", SEG_TYPE_DOUBLE, d.mon, NULL},
        {"tenure", SEG_TYPE_DOUBLE, d.ten, NULL},
        {"city", SEG_TYPE_STRING, d.city, NULL},
        {"channel", SEG_TYPE_DICT, d.channel, NULL},
    };
    memcpy(cols, c, sizeof c);
}

#define OKB(call)                                                                                \
    do {                                                                                         \
        int32_t st_ = (call);                                                                    \
        ck_assert_msg(st_ == SEG_OK, "%s: %s (%s)", #call, seg_status_str(st_), err);           \
    } while (0)

static void build_handles(void)
{
    char err[ERR_CAP] = "";
    const seg_allocator *A = &la.base;

    /* RFM: aggregate the transactions, then fit on the result. */
    OKB(seg_rfm_new(&rfm, A));
    OKB(seg_rfm_set_param(rfm, SEG_RFM_PARAM_F_BINNING, SEG_BINNING_TIES));
    OKB(seg_rfm_set_param(rfm, SEG_RFM_PARAM_M_BINNING, SEG_BINNING_RANK));
    OKB(seg_rfm_set_param(rfm, SEG_RFM_PARAM_R_BINS, 4));
    OKB(seg_rfm_set_weights(rfm, 0.5, 0.3, 0.2));
    OKB(seg_rfm_aggregate(rfm, d.tx_cust, d.tx_time, d.tx_amount, d.n_tx, 18700, N_ROWS, d.rec,
                          d.freq, d.mon, d.ten, d.has, err, ERR_CAP));
    OKB(seg_rfm_fit(rfm, d.rec, d.freq, d.mon, N_ROWS));
    OKB(seg_rfm_scheme_new_builtin(&scheme, SEG_SCHEME_RFM10, A));

    OKB(seg_frame_new(&frame, N_ROWS, A));
    for (size_t c = 0; c < N_COLS; c++)
        OKB(add_col(frame, &cols[c], 0, cols[c].valid));
    for (size_t r = 0; r < N_RULES; r++)
        OKB(seg_rule_compile(&rules[r], rule_text[r], strlen(rule_text[r]), frame, "rules.txt", A,
                             err, ERR_CAP));
    OKB(seg_tiers_load(&tiers, tiers_text, strlen(tiers_text), frame, "tiers.txt", A, err,
                       ERR_CAP));
    OKB(seg_tiers_load(&groups, groups_text, strlen(groups_text), frame, "groups.txt", A, err,
                       ERR_CAP));
    ck_assert(seg_tiers_has_catch_all(tiers) && seg_tiers_has_catch_all(groups));
    ck_assert(seg_tiers_is_group(groups) && !seg_tiers_is_group(tiers));
    for (size_t i = 0; i < N_ROWS; i++) {
        d.prev[i] = (int32_t)(rnd64() % (seg_tiers_count(tiers) + 1)) - 1;
        d.gprev[i] = (int32_t)(rnd64() % (seg_tiers_count(groups) + 1)) - 1;
    }

    /* k-means, fitted on the first 40,000 rows. */
    uint8_t *fit_bits = xcalloc(40000 / 8, 1);
    seg_frame *fit_rows = make_view(0, 40000, fit_bits);
    ck_assert_ptr_nonnull(fit_rows);
    OKB(seg_kmeans_new(&km, A));
    OKB(seg_kmeans_add_feature(km, "aum", SEG_XF_LOG1P));
    OKB(seg_kmeans_add_feature(km, "txn_90d", SEG_XF_ZSCORE));
    OKB(seg_kmeans_add_feature(km, "online_share", SEG_XF_MINMAX));
    OKB(seg_kmeans_add_feature(km, "spend_365d", SEG_XF_ROBUST));
    OKB(seg_kmeans_set_param(km, SEG_KM_K, 5));
    OKB(seg_kmeans_set_param(km, SEG_KM_N_INIT, 2));
    OKB(seg_kmeans_set_param(km, SEG_KM_MAX_ITER, 100));
    OKB(seg_kmeans_set_param(km, SEG_KM_SEED, 42));
    OKB(seg_kmeans_set_param(km, SEG_KM_THREADS, 2));
    OKB(seg_kmeans_set_param(km, SEG_KM_ORDER_BY, 0));
    OKB(seg_kmeans_fit(km, fit_rows, NULL));
    seg_frame_free(fit_rows);
    free(fit_bits);

    /* Main-thread whole-frame results. */
    ref_tier = xcalloc(N_ROWS, sizeof(int32_t));
    ref_tierp = xcalloc(N_ROWS, sizeof(int32_t));
    ref_grp = xcalloc(N_ROWS, sizeof(int32_t));
    ref_grpp = xcalloc(N_ROWS, sizeof(int32_t));
    ref_km = xcalloc(N_ROWS, sizeof(int32_t));
    ref_kd = xcalloc(N_ROWS, sizeof(double));
    OKB(seg_tiers_apply(tiers, frame, NULL, ref_tier, err, ERR_CAP));
    OKB(seg_tiers_apply(tiers, frame, d.prev, ref_tierp, err, ERR_CAP));
    OKB(seg_tiers_apply(groups, frame, NULL, ref_grp, err, ERR_CAP));
    OKB(seg_tiers_apply(groups, frame, d.gprev, ref_grpp, err, ERR_CAP));
    OKB(seg_kmeans_predict(km, frame, ref_km, ref_kd, err, ERR_CAP));
    OKB(seg_profile_compute(&profile, frame, ref_tier, ref_grp, profile_cols, N_PROFILE_COLS, 0,
                            A, err, ERR_CAP));

    /* The registry, and a tag set with every storage form. */
    OKB(seg_tagreg_load(&reg, tags_text, strlen(tags_text), "tags.txt", A, err, ERR_CAP));
    n_tags = seg_tagreg_count(reg);
    ck_assert_uint_le(n_tags, MAX_TAGS);
    for (size_t i = 0; i < n_tags; i++)
        tag_ids[i] = seg_tagreg_id_at(reg, i);

    OKB(seg_tagset_new(&set, reg, N_ROWS, A));
    int64_t *rows = xcalloc(N_ROWS, sizeof *rows);
    uint8_t *mask = xcalloc(N_ROWS, 1);
    size_t nr = 0;
    for (size_t i = 0; i < N_ROWS; i += 97)
        rows[nr++] = (int64_t)i;
    OKB(seg_tagset_set_rows(set, 1, rows, nr, 1, err, ERR_CAP)); /* lists */
    for (size_t i = 0; i < N_ROWS; i++)
        mask[i] = d.freq[i] == 1;
    OKB(seg_tagset_set_mask(set, 2, mask, N_ROWS, 1, err, ERR_CAP)); /* bitmaps */
    for (size_t i = 0; i < N_ROWS; i++)
        mask[i] = d.freq[i] >= 2;
    OKB(seg_tagset_set_mask(set, 3, mask, N_ROWS, 1, err, ERR_CAP));
    for (size_t i = 17; i < N_ROWS; i += 5000)
        OKB(seg_tagset_set(set, 12, (int64_t)i, 1, err, ERR_CAP));
    nr = 0;
    for (size_t i = TAG_CHUNK; i < 2 * TAG_CHUNK; i++) /* a full chunk */
        rows[nr++] = (int64_t)i;
    for (size_t i = 5; i < N_ROWS; i += 1013)
        rows[nr++] = (int64_t)i;
    OKB(seg_tagset_set_rows(set, 23, rows, nr, 1, err, ERR_CAP));
    for (size_t i = 0; i < N_ROWS; i++)
        mask[i] = i % 3 == 0;
    OKB(seg_tagset_set_mask(set, 24, mask, N_ROWS, 1, err, ERR_CAP));
    static const int32_t churn_of_cluster[5] = {0, 0, 0, 0, 25};
    OKB(seg_tagset_set_labels(set, ref_km, N_ROWS, churn_of_cluster, 5, err, ERR_CAP));
    nr = 0;
    for (size_t i = 1; i < N_ROWS; i += 4999)
        rows[nr++] = (int64_t)i;
    OKB(seg_tagset_set_rows(set, 27, rows, nr, 1, err, ERR_CAP));
    OKB(seg_tagset_eval_rules(set, frame, NULL, 0, err, ERR_CAP));
    OKB(seg_tagset_freeze(set));
    free(rows);
    free(mask);

    ref_mask = xcalloc(n_tags * N_ROWS, 1);
    for (size_t i = 0; i < n_tags; i++)
        OKB(seg_tagset_get_mask(set, tag_ids[i], ref_mask + i * N_ROWS, N_ROWS));
    ref_qmask = xcalloc((size_t)N_QUERIES * N_ROWS, 1);
    for (size_t q = 0; q < N_QUERIES; q++) {
        OKB(seg_query_compile(&queries[q], query_text[q], strlen(query_text[q]), reg, "query", A,
                              err, ERR_CAP));
        OKB(seg_query_mask(queries[q], set, ref_qmask + q * N_ROWS, N_ROWS, err, ERR_CAP));
    }
}

/* The inputs are not degenerate: every path the workers take has rows. */
static void check_inputs(void)
{
    size_t tier_n[8] = {0}, grp_n[8] = {0}, km_n[8] = {0}, none_seg = 0, nan_rec = 0;
    int32_t *r = xcalloc(N_ROWS, 4), *f = xcalloc(N_ROWS, 4), *m = xcalloc(N_ROWS, 4);
    int32_t *s = xcalloc(N_ROWS, 4);
    ck_assert_int_eq(
        seg_rfm_score(rfm, d.rec, d.freq, d.mon, N_ROWS, r, f, m, NULL, NULL, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_rfm_scheme_apply(scheme, r, f, m, N_ROWS, s, NULL, 0), SEG_OK);
    for (size_t i = 0; i < N_ROWS; i++) {
        tier_n[ref_tier[i] + 1]++;
        grp_n[ref_grp[i] + 1]++;
        km_n[ref_km[i] + 1]++;
        nan_rec += isnan(d.rec[i]) != 0;
        none_seg += s[i] == SEG_SEGMENT_NONE;
    }
    free(r);
    free(f);
    free(m);
    free(s);
    ck_assert_uint_eq(tier_n[0], 0); /* catch-all */
    for (size_t t = 1; t <= 5; t++)
        ck_assert_uint_gt(tier_n[t], 500);
    for (size_t g = 1; g <= 4; g++)
        ck_assert_uint_gt(grp_n[g], 500);
    ck_assert_uint_gt(km_n[0], 300); /* missing features */
    for (size_t k = 1; k <= 5; k++)
        ck_assert_uint_gt(km_n[k], 1000);
    ck_assert_uint_gt(nan_rec, 10000);
    ck_assert_uint_eq(none_seg, nan_rec);
    ck_assert_uint_eq(seg_profile_n_groups(profile), 20);
    for (size_t i = 0; i < n_tags; i++) {
        int64_t c = 0;
        ck_assert_int_eq(seg_tagset_count(set, tag_ids[i], &c), SEG_OK);
        int32_t status = 0;
        ck_assert_int_eq(seg_tagreg_code(reg, tag_ids[i], SEG_TAG_STATUS, &status), SEG_OK);
        if (status != SEG_TAG_DISABLED && tag_ids[i] != 29 && tag_ids[i] != 26)
            ck_assert_msg(c > 0, "tag %d is on no row", tag_ids[i]);
    }
    for (size_t q = 0; q < N_QUERIES; q++) {
        size_t c = 0;
        for (size_t i = 0; i < N_ROWS; i++)
            c += ref_qmask[q * N_ROWS + i];
        ck_assert_msg(q == 3 ? c == N_ROWS : c > 0 && c < N_ROWS, "query %zu: %zu rows", q, c);
    }
}

static void free_handles(void)
{
    seg_frame_free(frame);
    for (size_t r = 0; r < N_RULES; r++)
        seg_rule_free(rules[r]);
    seg_tiers_free(tiers);
    seg_tiers_free(groups);
    seg_rfm_free(rfm);
    seg_rfm_scheme_free(scheme);
    seg_kmeans_free(km);
    for (size_t q = 0; q < N_QUERIES; q++)
        seg_query_free(queries[q]);
    seg_tagset_free(set);
    seg_tagreg_free(reg);
    seg_profile_free(profile);
    void *all[] = {d.aum,      d.spend,   d.online,  d.rec,      d.freq,    d.mon,    d.ten,
                   d.txn,      d.channel, d.prev,    d.gprev,    d.txn_valid, d.has,  d.orders,
                   d.age,      (void *)d.city, d.tx_first, d.tx_cust, d.tx_time, d.tx_minor,
                   d.tx_amount, ref_tier, ref_tierp, ref_grp,    ref_grpp,  ref_km,   ref_kd,
                   ref_mask,   ref_qmask};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_jobs(job *jobs, pthread_barrier_t *start)
{
    size_t width = row_bytes();
    for (size_t t = 0; t < N_THREADS; t++) {
        jobs[t].lo = (size_t)N_ROWS * t / N_THREADS;
        jobs[t].hi = (size_t)N_ROWS * (t + 1) / N_THREADS;
        jobs[t].start = start;
        jobs[t].rows0 = xcalloc(jobs[t].hi - jobs[t].lo, width);
        jobs[t].rowsk = xcalloc(jobs[t].hi - jobs[t].lo, width);
    }
    if (!start) {
        for (size_t t = 0; t < N_THREADS; t++)
            worker(&jobs[t]);
        return;
    }
    pthread_t th[N_THREADS];
    for (size_t t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
    for (size_t t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
}

static void free_jobs(job *jobs)
{
    for (size_t t = 0; t < N_THREADS; t++) {
        free(jobs[t].rows0);
        free(jobs[t].rowsk);
        for (int r = 0; r < N_ROUNDS; r++)
            free(jobs[t].misc[r].p);
    }
}

static void assert_same_buf(const buf *want, const buf *got, const char *what)
{
    size_t n = want->len < got->len ? want->len : got->len, i = 0;
    while (i < n && want->p[i] == got->p[i])
        i++;
    ck_assert_msg(want->len == got->len && i == n,
                  "%s: differs at byte %zu of %zu/%zu, in section %s", what, i, want->len,
                  got->len, sec_of(want, i));
}

START_TEST(test_shared_handles)
{
    pthread_mutex_init(&la.mu, NULL);
    seg_test_alloc_init(&la.ta);
    ck_assert_int_eq(seg_allocator_init(&la.base, sizeof la.base, la_malloc, la_realloc, la_free,
                                        NULL),
                     SEG_OK);
    double t0 = now();
    make_data();
    build_handles();
    check_inputs();
    job main_job = {0};
    buf before = {0}, after = {0};
    snapshot(&main_job, &before, 1);
    ck_assert_msg(main_job.bad == 0, "snapshot: %s", main_job.first);

    /* The reference: the same work, one range after the other. */
    static job ref[N_THREADS], thr[N_THREADS];
    double t1 = now();
    run_jobs(ref, NULL);
    for (size_t t = 0; t < N_THREADS; t++)
        ck_assert_msg(ref[t].bad == 0, "single-threaded, rows %zu..%zu: %ld failures; first: %s",
                      ref[t].lo, ref[t].hi, ref[t].bad, ref[t].first);

    /* The same, 8 threads at once. */
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    double t2 = now();
    run_jobs(thr, &start);
    double t3 = now();
    pthread_barrier_destroy(&start);
    for (size_t t = 0; t < N_THREADS; t++) {
        ck_assert_msg(thr[t].bad == 0, "thread %zu (rows %zu..%zu): %ld failures; first: %s", t,
                      thr[t].lo, thr[t].hi, thr[t].bad, thr[t].first);
        char where[128];
        rows_diff(ref[t].rows0, thr[t].rows0, thr[t].hi - thr[t].lo, thr[t].lo, where,
                  sizeof where);
        ck_assert_msg(where[0] == '\0', "thread %zu: row outputs differ from the reference: %s",
                      t, where);
        for (int r = 0; r < N_ROUNDS; r++) {
            char what[64];
            snprintf(what, sizeof what, "thread %zu round %d", t, r);
            assert_same_buf(&ref[t].misc[r], &thr[t].misc[r], what);
        }
    }

    /* Every handle is as it was. */
    snapshot(&main_job, &after, 1);
    ck_assert_msg(main_job.bad == 0, "snapshot after: %s", main_job.first);
    assert_same_buf(&before, &after, "handles after the threads");
    ck_assert_uint_eq(la.ta.bad_frees, 0);

    free(before.p);
    free(after.p);
    free_jobs(ref);
    free_jobs(thr);
    free_handles();
    ck_assert_uint_eq(la.ta.live, 0);
    ck_assert_uint_eq(la.ta.bad_frees, 0);
    ck_assert_uint_gt(la.ta.mallocs, 1000);
    fprintf(stderr, "# build %.2f s, single-threaded %.2f s, %d threads %.2f s, %zu allocations\n",
            t1 - t0, t2 - t1, N_THREADS, t3 - t2, la.ta.mallocs);
    pthread_mutex_destroy(&la.mu);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shared-threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_shared_handles);
    suite_add_tcase(s, tc);
    return seg_test_run(s);
}
