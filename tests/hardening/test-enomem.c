/* SPDX-License-Identifier: MIT */
/*
 * Allocation-failure sweep over every public call that allocates (issue 6).
 *
 * One table row per call (or variant); test_sweep() runs one loop for all,
 * with the failure-injecting allocator of tests/common/test-alloc.h. A
 * reference run (no failure) must succeed; its outputs and the observable
 * state of the handles are serialised. Then, plain and sticky, for N = 0,
 * 1, ...: fresh state, canary outputs, snapshot, the N-th allocation of the
 * call fails, call. No failure hit: SEG_OK with the reference result, done.
 * SEG_OK anyway: the reference result. Else SEG_ENOMEM, outputs and handles
 * as before the call, a message saying "memory" where the call has one, and
 * the same call again on the same handles (errors.md: a failed call leaves
 * the handle unchanged) gives the reference result. After each run,
 * everything is freed: no live block, no bad free. MUST rows must have given
 * SEG_ENOMEM; NODOC rows (the header does not list it) must never return it.
 *
 * The allocator reaches constructors and seg_ab_assign_stratified() as a
 * parameter; every other call allocates through the handle it works on, so
 * seg_tagset_eval_rules() compiles with the set's allocator and seg_query_*
 * run with the query's, never the registry's. Not listed, as they take no
 * allocator or were checked not to allocate: seg_tiers_migration(), the
 * other seg_ab_* functions, seg_tag_normalize(), seg_rfm_set_param,
 * _set_weights, _set_thresholds, seg_kmeans_set_param, _set_progress and
 * the getters. NODOC rows (scores, saves, predict, reset, freeze ...) do not
 * allocate and must succeed with every allocation failing. seg_kmeans_fit()
 * runs single-threaded (the test allocator is not thread-safe) on an
 * unfitted model (a failed fit leaves the model unfitted, kmeans.h).
 *
 * Each row prints "enomem: <call> ..." on stderr: allocations made, ENOMEM
 * results and failures injected.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define N_SMALL 400             /* rows of the frames of most calls */
#define N_BIG (65536 + 464)     /* two tag-set chunks */
#define N_PROF 40000            /* profile rows: groups above 4096 values, also two-way */
#define N_TX 600                /* RFM transactions */
#define N_CUST 120              /* RFM customers (110..119 have no purchase) */
#define TEXT_CAP 16384
#define AL(c) (&(c)->ta.base)

/* ------------------------------------------------------------------------
 * Data: columns of a bank's customers, transactions, texts.
 * ---------------------------------------------------------------------- */
static double g_aum[N_BIG], g_spend[N_BIG], g_online[N_BIG];
static int32_t g_txn[N_BIG], g_age[N_BIG], g_days[N_BIG], g_region[N_BIG];
static int64_t g_orders[N_BIG];
static const char *g_level[N_BIG];
static uint8_t g_days_valid[(N_BIG + 7) / 8];
static int32_t g_tier[N_BIG], g_lab2[N_BIG], g_prev[N_SMALL];
static int32_t g_sr[N_SMALL], g_sf[N_SMALL], g_sm[N_SMALL];
static char g_idbuf[N_SMALL][12];
static const char *g_ids[N_SMALL];
static int32_t tx_cust[N_TX];
static int64_t tx_time[N_TX], tx_minor[N_TX];
static double tx_amount[N_TX];
static double c_rec[N_CUST], c_freq[N_CUST], c_mon[N_CUST];
static int64_t g_rows[5000];
static uint8_t g_mask[N_BIG];
static int64_t g_row_repeat; /* a row holding 复购客户 */
static char g_rfm_text[TEXT_CAP], g_km_text[TEXT_CAP];
static const char *const k_regions[] = {"north", "south", "east", "west"};
static const char *const k_levels[] = {"gold", "silver", "platinum"};
#define TX_NOW 19400

static const char *const k_rules[] = {
    "(aum >= 5e4 and txn_90d between 1 and 20) or "
    "(spend_365d / (orders_365d + 1) > 800 and not is_missing(days_since_last_activity))",
    "level in (\"gold\", \"platinum\") and region != \"north\" or "
    "max(abs(age - 40), 0) < 5 and coalesce(online_share, 0) >= 0.5 # comment\n"
    "or `aum` * 2 <= min(spend_365d, 3000)",
};

static const char *const k_tiers[] = {
    "libsegment-tiers 1\n"
    "tier private_banking \"私人银行\" when aum >= 6000000\n"
    "tier wealth          \"财富客户\" when aum >= 500000 keep aum >= 450000\n"
    "tier gold            \"金卡客户\" when aum >= 50000 and txn_90d >= 1\n"
    "tier mass            \"大众客户\" otherwise\n",
    "# activity groups, no catch-all\n"
    "group active  \"活跃\" when days_since_last_activity <= 30\n"
    "group dormant \"沉默\" when days_since_last_activity <= 180\n"
    "group churned \"流失\" when days_since_last_activity > 180\n",
    "libsegment-tiers 1\n"
    "tier top    \"顶级\" when aum >= 1e6 and age between 30 and 60\n"
    "tier vipish \"贵宾\" when level in (\"gold\", \"platinum\") or coalesce(txn_90d, 0) > 25\n"
    "tier dup    \"重复\" when aum >= 2e6 and age between 35 and 50\n"
    "tier rest   \"其他\" otherwise\n",
};

static const char k_tags[] =
    "libsegment-tags 1\n"
    "next_id 40\n"
    "tag 1 \"新客\"\n  alias \"新客户\" \"new customer\"\n  category \"生命周期/新客\"\n"
    "  group lifecycle\n  owner \"crm-ops\"\n  desc \"注册 30 天内且尚未下单的客户\"\n"
    "tag 2 \"首购客户\"\n  alias \"客户首单\" \"first purchase\"\n  category \"生命周期/首购\"\n"
    "  group lifecycle\n"
    "tag 3 \"复购客户\"\n  alias \"复购\" \"repeat buyer\"\n  category \"生命周期/复购\"\n"
    "  group lifecycle\n"
    "tag 4 \"超级客户\"\n  alias \"super customer\"\n  category \"生命周期/超级\"\n"
    "  group lifecycle\n"
    "  when `复购客户` == 1 and orders_365d >= 12 and spend_365d >= 20000\n"
    "tag 10 \"高净值\"\n  alias \"HNW\"\n  category \"资产/规模\"\n  group \"资产层级\"\n"
    "  when aum >= 1000000\n"
    "tag 11 \"大众富裕\"\n  alias \"mass affluent\"\n  category \"资产/规模\"\n"
    "  group \"资产层级\"\n  when aum >= 100000\n"
    "tag 12 \"vip\"\n  alias \"VIP客户\" \"贵宾\"\n  category \"服务/等级\"\n"
    "tag 20 \"高频\"\n  alias \"frequent\"\n  category \"行为/交易/频次\"\n  when txn_90d >= 10\n"
    "tag 21 \"低频\"\n  category \"行为/交易/频次\"\n  when txn_90d <= 1\n"
    "tag 22 \"线上偏好\"\n  category \"行为/渠道\"\n  when online_share >= 0.7\n"
    "tag 23 \"理财偏好\"\n  alias \"理财\" \"wealth interest\"\n  category \"行为/偏好/理财\"\n"
    "tag 25 \"流失预警\"\n  alias \"churn risk\"\n  category \"风险/流失\"\n  kind model\n"
    "tag 26 \"重点维护\"\n  category \"运营/维护\"\n"
    "  when `高净值` == 1 and (`高频` == 1 or `理财偏好` == 1) and `流失预警` == 0\n"
    "tag 27 \"投诉客户\"\n  category \"服务/投诉\"\n  status offline\n"
    "tag 28 \"旧高频\"\n  category \"行为/交易/频次\"\n  status disabled\n  when txn_90d >= 20\n"
    "tag 30 \"银发客户\"\n  alias \"senior\"\n  category \"人口/年龄\"\n"
    "  when age >= 60 and vip == 0\n"
    "tag 31 \"价值高\"\n  category \"模型/价值\"\n  kind model\n  group \"价值分层\"\n"
    "tag 32 \"价值中\"\n  category \"模型/价值\"\n  kind model\n  group \"价值分层\"\n"
    "tag 33 \"价值低\"\n  category \"模型/价值\"\n  kind model\n  group \"价值分层\"\n";

static const char *const k_queries[] = {
    "首购客户 and not 流失预警 and (理财偏好 or 高频)",
    "`super customer` or (高净值 and not 低频) # comment\n or ＶＩＰ or \"churn risk\" and 价值高",
};

static uint64_t g_rng = 0x9E3779B97F4A7C15u;
static double unif(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * 0x1.0p-53;
}

static void die_unless(int32_t rc, const char *what)
{
    if (rc != SEG_OK) {
        fprintf(stderr, "data setup failed: %s: %s\n", what, seg_status_str(rc));
        exit(EXIT_FAILURE);
    }
}

/* Fills the data and makes the texts of the load calls (C library malloc). */
static void make_data(void)
{
    for (size_t i = 0; i < N_BIG; i++) {
        double u = unif();
        g_aum[i] = i % 37 == 5 ? NAN : floor(exp(6 + 10 * u) * 100) / 100;
        g_txn[i] = (int32_t)(unif() * unif() * 40);
        g_orders[i] = (int64_t)(unif() * unif() * 30);
        g_spend[i] = floor(unif() * 400000) / 10;
        g_online[i] = i % 53 == 1 ? NAN : floor(unif() * 1000) / 1000;
        g_age[i] = 18 + (int32_t)(unif() * 68);
        g_days[i] = (int32_t)(unif() * unif() * 400);
        if (i % 29 != 3)
            g_days_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        g_level[i] = i % 11 == 0 ? NULL : k_levels[(size_t)(unif() * 3)];
        g_region[i] = i % 13 == 0 ? -1 : (int32_t)(unif() * 4);
        double t = unif();
        g_tier[i] = i % 97 == 0 ? -1 : t < 0.05 ? 0 : t < 0.2 ? 1 : t < 0.5 ? 2 : 3;
        g_lab2[i] = (int32_t)(i % 3);
        if (i < N_SMALL) {
            g_prev[i] = (int32_t)(unif() * 5) - 1;
            g_sr[i] = i % 41 == 0 ? 0 : 1 + (int32_t)(unif() * 5);
            g_sf[i] = 1 + (int32_t)(unif() * 5);
            g_sm[i] = 1 + (int32_t)(unif() * 5);
            snprintf(g_idbuf[i], sizeof g_idbuf[i], "C%05zu", i);
            g_ids[i] = g_idbuf[i];
        }
        if (g_orders[i] >= 2 && g_orders[i] < 12 && i % 5 != 1 && i % 97 != 5 && !g_row_repeat)
            g_row_repeat = (int64_t)i;
    }
    for (size_t i = 0; i < 5000; i++)
        g_rows[i] = (int64_t)((i * 7919 + (i % 5 == 0 ? 3 : 0)) % N_BIG);
    for (size_t t = 0; t < N_TX; t++) {
        int last = t >= N_TX - 5;
        tx_cust[t] = last ? (int32_t)(110 + (N_TX - 1 - t)) : (int32_t)((t * 7 + t / 13) % 110);
        tx_time[t] = 19000 + (int64_t)(unif() * 365);
        tx_minor[t] = 500 + (int64_t)(unif() * 50000);
        if (last || t % 17 == 4)
            tx_minor[t] = -tx_minor[t] / 2;
        tx_amount[t] = (double)tx_minor[t] / 100;
    }
    seg_rfm *m = NULL;
    die_unless(seg_rfm_new(&m, NULL), "rfm");
    die_unless(seg_rfm_aggregate(m, tx_cust, tx_time, tx_amount, N_TX, TX_NOW, N_CUST, c_rec,
                                 c_freq, c_mon, NULL, NULL, NULL, 0),
               "aggregate");
    die_unless(seg_rfm_set_param(m, SEG_RFM_PARAM_R_BINNING, SEG_BINNING_TIES), "param");
    die_unless(seg_rfm_set_weights(m, 3, 2, 1), "weights");
    die_unless(seg_rfm_fit(m, c_rec, c_freq, c_mon, N_CUST), "fit");
    size_t len;
    die_unless(seg_rfm_save(m, g_rfm_text, sizeof g_rfm_text, &len), "rfm save");
    seg_rfm_free(m);
}

/* ------------------------------------------------------------------------
 * The context of one call: handles, inputs, canary-filled outputs.
 * ---------------------------------------------------------------------- */
enum { H_NONE, H_FRAME, H_RFM, H_SCHEME, H_RULE, H_TIERS, H_REG, H_SET, H_QUERY, H_PROF, H_KM };

typedef struct ctx {
    seg_test_alloc ta;
    int arg;
    size_t n; /* elements of the output arrays in use */
    seg_frame *fr;
    seg_rfm *rfm;
    seg_rfm_scheme *sch;
    seg_rule *rule;
    seg_tiers *tiers;
    seg_tagreg *reg;
    seg_tagset *set;
    seg_query *q;
    seg_profile *prof;
    seg_kmeans *km;
    int32_t tin[N_BIG];
    /* outputs */
    int32_t o32[5][N_BIG];
    double od[4][N_BIG];
    uint8_t o8[N_BIG];
    int64_t o64[N_BIG];
    size_t osz;
    int32_t oid;
    int64_t o64s;
    double dsc;
    char text[TEXT_CAP];
    char err[512];
} ctx;

static ctx g_c;

/* Sets every handle to NULL, or the one a constructor writes to the canary. */
static void clear_handles(ctx *c)
{
    c->fr = NULL; c->rfm = NULL; c->sch = NULL; c->rule = NULL; c->tiers = NULL;
    c->reg = NULL; c->set = NULL; c->q = NULL; c->prof = NULL; c->km = NULL;
}

static void set_canary(ctx *c, int h)
{
    switch (h) {
    case H_FRAME: c->fr = CANARY_PTR; break;
    case H_RFM: c->rfm = CANARY_PTR; break;
    case H_SCHEME: c->sch = CANARY_PTR; break;
    case H_RULE: c->rule = CANARY_PTR; break;
    case H_TIERS: c->tiers = CANARY_PTR; break;
    case H_REG: c->reg = CANARY_PTR; break;
    case H_SET: c->set = CANARY_PTR; break;
    case H_QUERY: c->q = CANARY_PTR; break;
    case H_PROF: c->prof = CANARY_PTR; break;
    case H_KM: c->km = CANARY_PTR; break;
    default: break;
    }
}

/* 1 for a handle to use or free (not NULL, not the canary). */
static int real(const void *h) { return h != NULL && h != CANARY_PTR; }

/* Output arrays a call writes: bits 0-4 o32[k], 5-8 od[k], 9 o8, 10 o64. */
#define O_I(k) (1u << (k))
#define O_D(k) (1u << (5 + (k)))
#define O_U8 (1u << 9)
#define O_I64 (1u << 10)

static void fill_outputs(ctx *c, unsigned outs)
{
    for (int k = 0; k < 5; k++)
        for (size_t i = 0; (outs & O_I(k)) && i < c->n; i++)
            c->o32[k][i] = CANARY_I32;
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; (outs & O_D(k)) && i < c->n; i++)
            c->od[k][i] = CANARY_DBL;
    if (outs & O_U8)
        memset(c->o8, CANARY_U8, c->n);
    for (size_t i = 0; (outs & O_I64) && i < c->n; i++)
        c->o64[i] = CANARY_I64;
    c->osz = CANARY_SIZE;
    c->oid = CANARY_I32;
    c->o64s = CANARY_I64;
    c->dsc = CANARY_DBL;
    memset(c->text, CANARY_U8, sizeof c->text);
    c->err[0] = '\0';
}

/* ---- serialised state -------------------------------------------------- */
typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            ck_abort_msg("out of memory in the test");
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_str(buf *b, const char *s) { put(b, s ? s : "(null)", strlen(s ? s : "(null)") + 1); }

static void put_i(buf *b, int64_t v) { put(b, &v, sizeof v); }

static void put_d(buf *b, double v) { put(b, &v, sizeof v); }

/* Writes a marker and returns 1 when `h` is not a handle to describe. */
static int untouched(buf *b, const void *h)
{
    if (real(h))
        return 0;
    put_str(b, h ? "<canary>" : "<null>");
    return 1;
}

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3u;
    return h;
}

static void put_saved(buf *b, int32_t rc, const char *text, size_t len)
{
    put_i(b, rc);
    if (rc == SEG_OK)
        put(b, text, len + 1);
}

/* (No ck_assert in the state functions: each one costs a pipe write.) */
static void st_frame(ctx *c, buf *b)
{
    if (untouched(b, c->fr))
        return;
    size_t nr = seg_frame_n_rows(c->fr), nc = seg_frame_n_columns(c->fr);
    put_i(b, (int64_t)nr);
    put_i(b, (int64_t)nc);
    for (size_t j = 0; j < nc; j++) {
        const char *name = NULL, *s = NULL;
        int32_t type = 0, miss = 0;
        double v = 0;
        put_i(b, seg_frame_column_info(c->fr, j, &name, &type));
        put_str(b, name);
        for (size_t r = 0; r < nr; r++) {
            if (type == SEG_TYPE_STRING || type == SEG_TYPE_DICT) {
                put_i(b, seg_frame_get_string(c->fr, j, r, &s));
                put_str(b, s ? s : "<missing>");
            } else {
                put_i(b, seg_frame_get_double(c->fr, j, r, &v, &miss));
                put_d(b, miss ? -1e300 : v);
            }
        }
    }
}

static void st_rfm(ctx *c, buf *b)
{
    if (untouched(b, c->rfm))
        return;
    static char t[TEXT_CAP];
    size_t len = 0;
    put_saved(b, seg_rfm_save(c->rfm, t, sizeof t, &len), t, len);
    put_i(b, seg_rfm_is_fitted(c->rfm));
}

static void st_scheme(ctx *c, buf *b)
{
    if (untouched(b, c->sch))
        return;
    size_t n = seg_rfm_scheme_count(c->sch);
    put_i(b, (int64_t)n);
    put_i(b, seg_rfm_scheme_levels(c->sch));
    put_i(b, seg_rfm_scheme_others(c->sch));
    for (int32_t s = 0; s < (int32_t)n; s++) {
        int32_t box[6] = {0};
        put_str(b, seg_rfm_scheme_id(c->sch, s));
        put_str(b, seg_rfm_scheme_name(c->sch, s));
        put_i(b, seg_rfm_scheme_box(c->sch, s, box));
        put(b, box, sizeof box);
    }
}

static void st_rule(ctx *c, buf *b)
{
    if (untouched(b, c->rule))
        return;
    static uint8_t m[N_SMALL];
    put_i(b, seg_rule_eval(c->rule, c->fr, 0, N_SMALL, m, NULL, 0));
    put(b, m, sizeof m);
}

static void st_tiers(ctx *c, buf *b)
{
    if (untouched(b, c->tiers))
        return;
    static char t[TEXT_CAP];
    static int32_t out[N_SMALL];
    size_t len = 0;
    put_saved(b, seg_tiers_save(c->tiers, t, sizeof t, &len), t, len);
    put_i(b, (int64_t)seg_tiers_count(c->tiers));
    put_i(b, seg_tiers_has_catch_all(c->tiers));
    put_i(b, seg_tiers_is_group(c->tiers));
    if (seg_tiers_count(c->tiers) > 0) {
        put_i(b, seg_tiers_apply(c->tiers, c->fr, g_prev, out, NULL, 0));
        put(b, out, sizeof out);
    }
}

static void st_reg(ctx *c, buf *b)
{
    if (untouched(b, c->reg))
        return;
    static char t[TEXT_CAP];
    size_t len = 0;
    put_saved(b, seg_tagreg_save(c->reg, t, sizeof t, &len), t, len);
    put_i(b, seg_tagreg_is_frozen(c->reg));
    put_i(b, (int64_t)seg_tagreg_count(c->reg));
}

static void st_set(ctx *c, buf *b)
{
    if (untouched(b, c->set))
        return;
    const seg_tagreg *reg = seg_tagset_registry(c->set);
    size_t n = seg_tagset_n_rows(c->set);
    static uint8_t m[N_BIG];
    put_i(b, (int64_t)n);
    for (size_t i = 0; i < seg_tagreg_count(reg); i++) {
        int32_t id = seg_tagreg_id_at(reg, i);
        int64_t cnt = -1;
        put_i(b, id);
        put_i(b, seg_tagset_count(c->set, id, &cnt));
        put_i(b, cnt);
        put_i(b, seg_tagset_get_mask(c->set, id, m, n));
        put_i(b, (int64_t)fnv(m, n));
    }
}

static void st_query(ctx *c, buf *b)
{
    if (untouched(b, c->q))
        return;
    static uint8_t m[N_BIG];
    int64_t cnt = -1;
    put_i(b, seg_query_count(c->q, c->set, &cnt, NULL, 0));
    put_i(b, cnt);
    put_i(b, seg_query_mask(c->q, c->set, m, N_BIG, NULL, 0));
    put_i(b, (int64_t)fnv(m, N_BIG));
}

static void st_profile(ctx *c, buf *b)
{
    if (untouched(b, c->prof))
        return;
    size_t ng = seg_profile_n_groups(c->prof), nc = seg_profile_n_columns(c->prof);
    put_i(b, (int64_t)ng);
    put_i(b, (int64_t)nc);
    for (size_t g = 0; g <= ng; g++) {
        int32_t l1 = 0, l2 = 0;
        int64_t cnt = 0;
        double share = 0;
        if (g < ng) {
            put_i(b, seg_profile_group(c->prof, g, &l1, &l2, &cnt, &share));
            put_i(b, l1);
            put_i(b, l2);
            put_i(b, cnt);
            put_d(b, share);
        }
        for (size_t j = 0; j < nc; j++)
            for (int32_t s = SEG_STAT_COUNT; s <= SEG_STAT_MEDIAN; s++) {
                double v = 0;
                put_i(b, g < ng ? seg_profile_value(c->prof, g, j, s, &v)
                                : seg_profile_total(c->prof, j, s, &v));
                put_d(b, v);
            }
    }
}

static void st_km(ctx *c, buf *b)
{
    if (untouched(b, c->km))
        return;
    static char t[TEXT_CAP];
    size_t len = 0;
    put_i(b, seg_kmeans_is_fitted(c->km));
    for (int32_t p = SEG_KM_K; p <= SEG_KM_ORDER_ASC; p++) {
        double v = 0;
        put_i(b, seg_kmeans_get_param(c->km, p, &v));
        put_d(b, v);
    }
    if (seg_kmeans_is_fitted(c->km)) {
        put_saved(b, seg_kmeans_save(c->km, t, sizeof t, &len), t, len);
    } else if (real(c->fr)) {
        /* The features of an unfitted model show in what a fit would give. */
        double in[2] = {0, 0};
        put_i(b, seg_kmeans_inertia_curve(c->km, c->fr, 2, 3, in, NULL, 0));
        put(b, in, sizeof in);
    }
}

/* ------------------------------------------------------------------------
 * Setups: fresh state built through the test allocator.
 * ---------------------------------------------------------------------- */
static void ok(int32_t rc, const char *what)
{
    if (rc != SEG_OK) /* not ck_assert: also used before the tests run */
        ck_abort_msg("setup: %s: %s", what, seg_status_str(rc));
}

/* A frame of `n` rows over the data; `ncols` of the 9 columns. */
static void mk_frame(ctx *c, size_t n, int ncols)
{
    seg_frame *f = NULL;
    ok(seg_frame_new(&f, n, AL(c)), "frame");
    const char *const what = "frame column";
    int k = 0;
    if (k++ < ncols) ok(seg_frame_add_double(f, "aum", g_aum, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_int32(f, "txn_90d", g_txn, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_int32(f, "age", g_age, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_double(f, "online_share", g_online, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_int64(f, "orders_365d", g_orders, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_double(f, "spend_365d", g_spend, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_int32(f, "days_since_last_activity", g_days, g_days_valid), what);
    if (k++ < ncols) ok(seg_frame_add_string(f, "level", g_level, NULL), what);
    if (k++ < ncols) ok(seg_frame_add_dict(f, "region", g_region, k_regions, 4, NULL), what);
    c->fr = f;
}

static void su_small(ctx *c) { mk_frame(c, N_SMALL, 9); c->n = N_SMALL; }
static void su_frame4(ctx *c) { mk_frame(c, N_SMALL, 4); }
static void su_prof(ctx *c) { mk_frame(c, N_PROF, 9); }

static void su_rfm(ctx *c)
{
    ok(seg_rfm_new(&c->rfm, AL(c)), "rfm");
    c->n = N_CUST;
    if (c->arg == 1) { /* distinct days, mean, refunds dropped */
        ok(seg_rfm_set_param(c->rfm, SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS), "param");
        ok(seg_rfm_set_param(c->rfm, SEG_RFM_PARAM_MONETARY, SEG_MONETARY_MEAN), "param");
        ok(seg_rfm_set_param(c->rfm, SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_DROP), "param");
    }
}

/* Rank, ties and R-compatible binnings (arg 2: median, mean and fixed),
 * weights, and a previous fit on the first 50 customers (a failed fit must
 * keep it). */
static void su_rfm_fitted(ctx *c)
{
    static const double cut[] = {100.0};
    su_rfm(c);
    ok(seg_rfm_set_param(c->rfm, SEG_RFM_PARAM_R_BINNING,
                         c->arg == 2 ? SEG_BINNING_MEDIAN : SEG_BINNING_RANK), "param");
    ok(seg_rfm_set_param(c->rfm, SEG_RFM_PARAM_F_BINNING,
                         c->arg == 2 ? SEG_BINNING_MEAN : SEG_BINNING_TIES), "param");
    ok(c->arg == 2 ? seg_rfm_set_thresholds(c->rfm, SEG_RFM_M, cut, 1)
                   : seg_rfm_set_param(c->rfm, SEG_RFM_PARAM_M_BINS, 4), "param");
    ok(seg_rfm_set_weights(c->rfm, 3, 2, 1), "weights");
    ok(seg_rfm_fit(c->rfm, c_rec, c_freq, c_mon, 50), "prefit");
}

static void su_scheme3(ctx *c)
{
    ok(seg_rfm_scheme_new(&c->sch, 5, "others", "其他客户", AL(c)), "scheme");
    ok(seg_rfm_scheme_add(c->sch, "champions", "重要价值", 4, 5, 4, 5, 4, 5), "box");
    ok(seg_rfm_scheme_add(c->sch, "loyal", "忠诚客户", 3, 5, 3, 5, 1, 5), "box");
    ok(seg_rfm_scheme_add(c->sch, "new", "新客户", 5, 5, 1, 1, 1, 5), "box");
}

static void su_rfm10(ctx *c)
{
    ok(seg_rfm_scheme_new_builtin(&c->sch, SEG_SCHEME_RFM10, AL(c)), "builtin");
    c->n = N_SMALL;
}

static void su_rule(ctx *c)
{
    su_small(c);
    const char *t = k_rules[c->arg];
    ok(seg_rule_compile(&c->rule, t, strlen(t), c->fr, "r.rule", AL(c), NULL, 0), "rule");
}

static void su_tiers(ctx *c)
{
    su_small(c);
    const char *t = k_tiers[c->arg];
    ok(seg_tiers_load(&c->tiers, t, strlen(t), c->fr, "t.tiers", AL(c), NULL, 0), "tiers");
}

static void su_gaps(ctx *c)
{
    su_tiers(c);
    ok(seg_tiers_apply(c->tiers, c->fr, NULL, c->tin, NULL, 0), "apply");
}

static void su_tiers2(ctx *c)
{
    su_small(c);
    ok(seg_tiers_new(&c->tiers, c->fr, 0, AL(c)), "tiers");
    ok(seg_tiers_add(c->tiers, "private_banking", "私人银行", "aum >= 6000000", NULL), "add");
    ok(seg_tiers_add(c->tiers, "gold", "金卡客户", "aum >= 50000 and txn_90d >= 1", NULL), "add");
}

/* An unfrozen registry built through the setters. */
static const struct {
    int32_t id;
    const char *name, *alias, *category, *group, *rule;
} k_build[] = {
    {1, "新客", "新客户", "生命周期/新客", "lifecycle", NULL},
    {2, "首购客户", "first purchase", "生命周期/首购", "lifecycle", NULL},
    {3, "复购客户", "复购", "生命周期/复购", "lifecycle", NULL},
    {10, "高净值", "HNW", "资产/规模", NULL, "aum >= 1000000"},
    {20, "高频", "frequent", "行为/交易", NULL, "txn_90d >= 10"},
    {26, "重点维护", NULL, "运营/维护", NULL, "`高净值` == 1 and `高频` == 1"},
};

static void su_reg_build(ctx *c)
{
    ok(seg_tagreg_new(&c->reg, AL(c)), "tagreg");
    for (size_t i = 0; i < sizeof k_build / sizeof k_build[0]; i++) {
        int32_t id = k_build[i].id;
        ok(seg_tagreg_add(c->reg, id, k_build[i].name, NULL), "add");
        if (k_build[i].alias)
            ok(seg_tagreg_add_alias(c->reg, id, k_build[i].alias), "alias");
        ok(seg_tagreg_set_text(c->reg, id, SEG_TAG_CATEGORY, k_build[i].category), "category");
        if (k_build[i].group)
            ok(seg_tagreg_set_text(c->reg, id, SEG_TAG_GROUP, k_build[i].group), "group");
        if (k_build[i].rule)
            ok(seg_tagreg_set_text(c->reg, id, SEG_TAG_RULE_TEXT, k_build[i].rule), "rule");
    }
}

static void su_reg_loaded(ctx *c)
{
    ok(seg_tagreg_load(&c->reg, k_tags, strlen(k_tags), "tags.txt", AL(c), NULL, 0), "load");
    c->n = 64;
}

/* Rows holding each fact tag (mask of all N_BIG rows). */
static int fact_holds(int32_t tag, size_t i)
{
    switch (tag) {
    case 1: return i % 97 == 5;              /* sparse: row lists */
    case 2: return i % 5 == 1;               /* same group as 1 and 3 */
    case 3: return g_orders[i] >= 2;         /* dense: bitmaps */
    case 12: return i % 500 == 7;
    case 23: return i % 3 == 0;
    case 25: return i % 1000 < 3;
    default: return i >= 65536;              /* 27: the whole second chunk */
    }
}

/* Registry, frame, tag set of `n` rows with the facts and, with `eval`,
 * every rule tag computed. */
static void mk_set(ctx *c, size_t n, int eval)
{
    static const int32_t facts[] = {1, 2, 3, 12, 23, 25, 27};
    su_reg_loaded(c);
    mk_frame(c, n, 9);
    c->n = n;
    ok(seg_tagset_new(&c->set, c->reg, n, AL(c)), "tagset");
    for (size_t k = 0; k < sizeof facts / sizeof facts[0]; k++) {
        for (size_t i = 0; i < n; i++)
            g_mask[i] = (uint8_t)fact_holds(facts[k], i);
        ok(seg_tagset_set_mask(c->set, facts[k], g_mask, n, 1, NULL, 0), "facts");
    }
    if (eval)
        ok(seg_tagset_eval_rules(c->set, c->fr, NULL, 0, NULL, 0), "eval_rules");
    for (size_t i = 0; i < n; i++)
        g_mask[i] = (uint8_t)(i % 7 == 0);
}

static void su_set(ctx *c) { mk_set(c, N_BIG, 1); }
static void su_set_small(ctx *c) { mk_set(c, N_SMALL, 1); } /* rule compiles dominate */

static void su_query(ctx *c)
{
    su_set(c);
    const char *t = k_queries[c->arg];
    ok(seg_query_compile(&c->q, t, strlen(t), c->reg, "q", AL(c), NULL, 0), "query");
}

static void su_km(ctx *c)
{
    su_small(c);
    ok(seg_kmeans_new(&c->km, AL(c)), "kmeans");
    ok(seg_kmeans_add_feature(c->km, "aum", SEG_XF_LOG1P), "feature");
    ok(seg_kmeans_add_feature(c->km, "txn_90d", SEG_XF_ZSCORE), "feature");
    ok(seg_kmeans_set_param(c->km, SEG_KM_K, 4), "k");
    ok(seg_kmeans_set_param(c->km, SEG_KM_N_INIT, 2), "n_init");
    ok(seg_kmeans_set_param(c->km, SEG_KM_SEED, 7), "seed");
    if (c->arg == 2)
        return; /* for seg_kmeans_add_feature() */
    ok(seg_kmeans_add_feature(c->km, "online_share", SEG_XF_MINMAX), "feature");
    ok(seg_kmeans_add_feature(c->km, "age", SEG_XF_ROBUST), "feature");
    if (c->arg == 1) {
        ok(seg_kmeans_set_param(c->km, SEG_KM_ALGORITHM, SEG_KM_LLOYD), "algorithm");
        ok(seg_kmeans_set_param(c->km, SEG_KM_N_INIT, 3), "n_init");
        ok(seg_kmeans_set_param(c->km, SEG_KM_ORDER_BY, 0), "order");
    }
}

static void su_km_fitted(ctx *c)
{
    su_km(c);
    ok(seg_kmeans_fit(c->km, c->fr, NULL), "fit");
}

/* ------------------------------------------------------------------------
 * The calls.
 * ---------------------------------------------------------------------- */
#define ERR c->err, sizeof c->err

/* frame.h */
static int32_t ru_frame_new(ctx *c) { return seg_frame_new(&c->fr, N_SMALL, AL(c)); }
static int32_t ru_frame_add(ctx *c)
{
    seg_frame *f = c->fr;
    switch (c->arg) {
    case SEG_TYPE_DOUBLE: return seg_frame_add_double(f, "spend_365d", g_spend, NULL);
    case SEG_TYPE_INT64: return seg_frame_add_int64(f, "orders_365d", g_orders, NULL);
    case SEG_TYPE_INT32: return seg_frame_add_int32(f, "days", g_days, g_days_valid);
    case SEG_TYPE_STRING: return seg_frame_add_string(f, "等级", g_level, NULL);
    default: return seg_frame_add_dict(f, "region", g_region, k_regions, 4, NULL);
    }
}

/* rfm.h */
static int32_t ru_rfm_new(ctx *c) { return seg_rfm_new(&c->rfm, AL(c)); }
static int32_t ru_rfm_load(ctx *c)
{
    return seg_rfm_load(&c->rfm, g_rfm_text, strlen(g_rfm_text), AL(c), ERR);
}
static int32_t ru_rfm_aggregate(ctx *c)
{
    return seg_rfm_aggregate(c->rfm, tx_cust, tx_time, tx_amount, N_TX, TX_NOW, N_CUST,
                             c->od[0], c->od[1], c->od[2], c->od[3], c->o8, ERR);
}
static int32_t ru_rfm_aggregate_minor(ctx *c)
{
    return seg_rfm_aggregate_minor(c->rfm, tx_cust, tx_time, tx_minor, N_TX, TX_NOW, N_CUST,
                                   c->od[0], c->od[1], c->od[2], c->od[3], c->o8, ERR);
}
static int32_t ru_rfm_fit(ctx *c) { return seg_rfm_fit(c->rfm, c_rec, c_freq, c_mon, N_CUST); }
static int32_t ru_rfm_fit_score(ctx *c)
{
    return seg_rfm_fit_score(c->rfm, c_rec, c_freq, c_mon, N_CUST, c->o32[0], c->o32[1],
                             c->o32[2], c->o32[3], c->od[0]);
}
static int32_t ru_rfm_score(ctx *c)
{
    return seg_rfm_score(c->rfm, c_rec, c_freq, c_mon, N_CUST, c->o32[0], c->o32[1], c->o32[2],
                         c->o32[3], c->od[0], ERR);
}
static int32_t ru_rfm_save(ctx *c) { return seg_rfm_save(c->rfm, c->text, TEXT_CAP, &c->osz); }

/* rfm_scheme.h */
static int32_t ru_sch_new(ctx *c) { return seg_rfm_scheme_new(&c->sch, 5, "others", "其他客户", AL(c)); }
static int32_t ru_sch_builtin(ctx *c) { return seg_rfm_scheme_new_builtin(&c->sch, c->arg, AL(c)); }
static int32_t ru_sch_add(ctx *c) { return seg_rfm_scheme_add(c->sch, "at_risk", "流失风险", 1, 2, 3, 5, 1, 5); }
static int32_t ru_sch_apply(ctx *c)
{
    return seg_rfm_scheme_apply(c->sch, g_sr, g_sf, g_sm, N_SMALL, c->o32[0], ERR);
}

/* rule.h */
static int32_t ru_rule_compile(ctx *c)
{
    const char *t = k_rules[c->arg];
    return seg_rule_compile(&c->rule, t, strlen(t), c->fr, "r.rule", AL(c), ERR);
}
static int32_t ru_rule_eval(ctx *c) { return seg_rule_eval(c->rule, c->fr, 0, N_SMALL, c->o8, ERR); }

/* tiers.h */
static int32_t ru_tiers_load(ctx *c)
{
    const char *t = k_tiers[c->arg];
    return seg_tiers_load(&c->tiers, t, strlen(t), c->fr, "t.tiers", AL(c), ERR);
}
static int32_t ru_tiers_new(ctx *c) { return seg_tiers_new(&c->tiers, c->fr, 1, AL(c)); }
static int32_t ru_tiers_add(ctx *c)
{
    if (c->arg == 0)
        return seg_tiers_add(c->tiers, "wealth", "财富客户", "aum >= 500000", "aum >= 450000");
    return seg_tiers_add(c->tiers, "mass", "大众客户", NULL, NULL);
}
static int32_t ru_tiers_apply(ctx *c) { return seg_tiers_apply(c->tiers, c->fr, g_prev, c->o32[0], ERR); }
static int32_t ru_tiers_gaps(ctx *c)
{
    return seg_tiers_gaps(c->tiers, c->fr, c->tin, 0.1, c->o32[0], c->o32[1], c->od[0],
                          c->o32[2], c->o8, ERR);
}
static int32_t ru_tiers_unreachable(ctx *c) { return seg_tiers_unreachable(c->tiers, 2, &c->oid); }
static int32_t ru_tiers_save(ctx *c) { return seg_tiers_save(c->tiers, c->text, TEXT_CAP, &c->osz); }

/* tags.h */
static int32_t ru_reg_new(ctx *c) { return seg_tagreg_new(&c->reg, AL(c)); }
static int32_t ru_reg_load(ctx *c)
{
    return seg_tagreg_load(&c->reg, k_tags, strlen(k_tags), "tags.txt", AL(c), ERR);
}
static int32_t ru_reg_add(ctx *c) { return seg_tagreg_add(c->reg, 0, "理财偏好", &c->oid); }
static int32_t ru_reg_alias(ctx *c) { return seg_tagreg_add_alias(c->reg, 20, "高频交易"); }
static int32_t ru_reg_rename(ctx *c) { return seg_tagreg_rename(c->reg, 10, "高净值客户"); }
static int32_t ru_reg_remove(ctx *c) { return seg_tagreg_remove(c->reg, 2); }
static int32_t ru_reg_set_text(ctx *c)
{
    static const char *const v[] = {NULL, "行为/新 / 客", "首次注册 30 天内", "crm-ops",
                                    "频次层级", "orders_365d >= 2 and `新客` == 0"};
    return seg_tagreg_set_text(c->reg, c->arg == SEG_TAG_GROUP ? 20 : 3, c->arg, v[c->arg]);
}
static int32_t ru_reg_set_code(ctx *c)
{
    return seg_tagreg_set_code(c->reg, 1, c->arg, c->arg == SEG_TAG_KIND ? SEG_TAG_MODEL
                                                                         : SEG_TAG_OFFLINE);
}
static int32_t ru_reg_freeze(ctx *c) { return seg_tagreg_freeze(c->reg); }
static int32_t ru_reg_suggest(ctx *c)
{
    return seg_tagreg_suggest(c->reg, c->arg ? "vip客" : "高频率", c->o32[0], 16, &c->osz);
}
static int32_t ru_reg_list(ctx *c) { return seg_tagreg_list(c->reg, "行为/交易", c->o32[0], 16, &c->osz); }
static int32_t ru_reg_save(ctx *c) { return seg_tagreg_save(c->reg, c->text, TEXT_CAP, &c->osz); }

/* tagset.h */
static int32_t ru_set_new(ctx *c) { return seg_tagset_new(&c->set, c->reg, N_BIG, AL(c)); }
static int32_t ru_set_one(ctx *c)
{
    if (c->arg == 0) /* vip: none yet in the second chunk */
        return seg_tagset_set(c->set, 12, 65600, 1, ERR);
    return seg_tagset_set(c->set, 1, g_row_repeat, 1, ERR); /* clears 复购客户 (group) */
}
static int32_t ru_set_rows(ctx *c) { return seg_tagset_set_rows(c->set, 12, g_rows, 5000, 1, ERR); }
static int32_t ru_set_mask(ctx *c) { return seg_tagset_set_mask(c->set, 2, g_mask, N_BIG, 1, ERR); }
static int32_t ru_set_reset(ctx *c) { return seg_tagset_reset(c->set, 23); }
static int32_t ru_set_labels(ctx *c)
{
    static const int32_t map[] = {31, 32, 33, 0};
    return seg_tagset_set_labels(c->set, g_tier, N_BIG, map, 4, ERR);
}
static int32_t ru_set_eval(ctx *c)
{
    static const int32_t ids[] = {26, 4};
    return seg_tagset_eval_rules(c->set, c->fr, c->arg ? ids : NULL, c->arg ? 2 : 0, ERR);
}
static int32_t ru_set_cooc(ctx *c)
{
    static const int32_t ids[] = {1, 2, 3, 4, 10, 11, 12, 20, 23, 26, 3};
    return seg_tagset_cooccurrence(c->set, ids, 11, c->o64, ERR);
}
static int32_t ru_set_freeze(ctx *c) { return seg_tagset_freeze(c->set); }

/* query.h */
static int32_t ru_q_compile(ctx *c)
{
    const char *t = k_queries[c->arg];
    return seg_query_compile(&c->q, t, strlen(t), c->reg, "q", AL(c), ERR);
}
static int32_t ru_q_count(ctx *c) { return seg_query_count(c->q, c->set, &c->o64s, ERR); }
static int32_t ru_q_select(ctx *c)
{
    return seg_query_select(c->q, c->set, c->arg ? 65000 : 0, c->o64, 4000, &c->osz, ERR);
}
static int32_t ru_q_mask(ctx *c) { return seg_query_mask(c->q, c->set, c->o8, N_BIG, ERR); }

/* profile.h */
static int32_t ru_profile(ctx *c)
{
    static const char *const cols[] = {"aum", "txn_90d", "orders_365d",
                                       "days_since_last_activity", "spend_365d", "age"};
    return seg_profile_compute(&c->prof, c->fr, g_tier, c->arg == 1 ? g_lab2 : NULL,
                               c->arg == 2 ? cols + 4 : cols, c->arg == 2 ? 2 : 4,
                               c->arg == 2 ? SEG_PROFILE_NO_MEDIAN : 0, AL(c), ERR);
}

/* kmeans.h */
static int32_t ru_km_new(ctx *c) { return seg_kmeans_new(&c->km, AL(c)); }
static int32_t ru_km_add(ctx *c) { return seg_kmeans_add_feature(c->km, "online_share", SEG_XF_MINMAX); }
static int32_t ru_km_fit(ctx *c) { return seg_kmeans_fit(c->km, c->fr, c->o32[0]); }
static int32_t ru_km_predict(ctx *c) { return seg_kmeans_predict(c->km, c->fr, c->o32[0], c->od[0], ERR); }
static int32_t ru_km_silhouette(ctx *c) { return seg_kmeans_silhouette(c->km, c->fr, 300, 11, &c->dsc, ERR); }
static int32_t ru_km_curve(ctx *c) { return seg_kmeans_inertia_curve(c->km, c->fr, 2, 5, c->od[0], ERR); }
static int32_t ru_km_save(ctx *c) { return seg_kmeans_save(c->km, c->text, TEXT_CAP, &c->osz); }
static int32_t ru_km_load(ctx *c)
{
    return seg_kmeans_load(&c->km, g_km_text, strlen(g_km_text), "km.txt", AL(c), ERR);
}

/* experiment.h */
static int32_t ru_ab_strat(ctx *c)
{
    static const double w[] = {0.2, 0.5, 0.3};
    return seg_ab_assign_stratified(g_ids, g_tier, N_SMALL, "spring-2024", w, 3,
                                    c->arg ? 0.1 : 0.0, AL(c), c->o32[0], ERR);
}

/* ------------------------------------------------------------------------
 * The table.
 * ---------------------------------------------------------------------- */
enum { M_NONE, M_ERR, M_FRAME, M_RFM, M_SCHEME, M_TIERS, M_REG, M_KM };

typedef struct call {
    const char *header; /* one tcase per header */
    const char *name;
    int arg;
    void (*setup)(ctx *c);
    int32_t (*run)(ctx *c);
    void (*state)(ctx *c, buf *b); /* handles whose state the call may change */
    unsigned outs;                 /* output arrays (scalars are always checked) */
    int ctor;                      /* H_*: the handle a constructor writes */
    int msg;                       /* M_*: where the failure message goes */
    int flags;                     /* MUST, NODOC */
} call;

/* The call must allocate here, so SEG_ENOMEM must show. */
#define MUST 1
/* The header does not list SEG_ENOMEM for the call, so it must not return it. */
#define NODOC 2
#define I0123D0 (O_I(0) | O_I(1) | O_I(2) | O_I(3) | O_D(0))
#define AGG (O_D(0) | O_D(1) | O_D(2) | O_D(3) | O_U8)

static const call k_calls[] = {
    {"frame", "seg_frame_new", 0, NULL, ru_frame_new, st_frame, 0, H_FRAME, M_NONE, MUST},
    {"frame", "seg_frame_add_double", SEG_TYPE_DOUBLE, su_frame4, ru_frame_add, st_frame, 0, 0, M_FRAME, MUST},
    {"frame", "seg_frame_add_int64", SEG_TYPE_INT64, su_frame4, ru_frame_add, st_frame, 0, 0, M_FRAME, MUST},
    {"frame", "seg_frame_add_int32", SEG_TYPE_INT32, su_frame4, ru_frame_add, st_frame, 0, 0, M_FRAME, MUST},
    {"frame", "seg_frame_add_string", SEG_TYPE_STRING, su_frame4, ru_frame_add, st_frame, 0, 0, M_FRAME, MUST},
    {"frame", "seg_frame_add_dict", SEG_TYPE_DICT, su_frame4, ru_frame_add, st_frame, 0, 0, M_FRAME, MUST},

    {"rfm", "seg_rfm_new", 0, NULL, ru_rfm_new, st_rfm, 0, H_RFM, M_NONE, MUST},
    {"rfm", "seg_rfm_load", 0, NULL, ru_rfm_load, st_rfm, 0, H_RFM, M_ERR, MUST},
    {"rfm", "seg_rfm_aggregate", 0, su_rfm, ru_rfm_aggregate, st_rfm, AGG, 0, M_ERR, MUST},
    {"rfm", "seg_rfm_aggregate (days, mean, drop)", 1, su_rfm, ru_rfm_aggregate, st_rfm, AGG, 0, M_ERR, MUST},
    {"rfm", "seg_rfm_aggregate_minor (days)", 1, su_rfm, ru_rfm_aggregate_minor, st_rfm, AGG, 0, M_ERR, MUST},
    {"rfm", "seg_rfm_fit", 0, su_rfm_fitted, ru_rfm_fit, st_rfm, 0, 0, M_RFM, MUST},
    {"rfm", "seg_rfm_fit (median, mean, fixed)", 2, su_rfm_fitted, ru_rfm_fit, st_rfm, 0, 0, M_RFM, MUST},
    {"rfm", "seg_rfm_fit_score", 0, su_rfm_fitted, ru_rfm_fit_score, st_rfm, I0123D0, 0, M_RFM, MUST},
    {"rfm", "seg_rfm_score", 0, su_rfm_fitted, ru_rfm_score, st_rfm, I0123D0, 0, M_ERR, NODOC},
    {"rfm", "seg_rfm_save", 0, su_rfm_fitted, ru_rfm_save, st_rfm, 0, 0, M_NONE, NODOC},

    {"rfm_scheme", "seg_rfm_scheme_new", 0, NULL, ru_sch_new, st_scheme, 0, H_SCHEME, M_NONE, MUST},
    {"rfm_scheme", "seg_rfm_scheme_new_builtin (RFM10)", SEG_SCHEME_RFM10, NULL, ru_sch_builtin, st_scheme, 0, H_SCHEME, M_NONE, MUST},
    {"rfm_scheme", "seg_rfm_scheme_new_builtin (RFGRID)", SEG_SCHEME_RFGRID, NULL, ru_sch_builtin, st_scheme, 0, H_SCHEME, M_NONE, MUST},
    {"rfm_scheme", "seg_rfm_scheme_new_builtin (CLASSIC8)", SEG_SCHEME_CLASSIC8, NULL, ru_sch_builtin, st_scheme, 0, H_SCHEME, M_NONE, MUST},
    {"rfm_scheme", "seg_rfm_scheme_add", 0, su_scheme3, ru_sch_add, st_scheme, 0, 0, M_SCHEME, MUST},
    {"rfm_scheme", "seg_rfm_scheme_apply", 0, su_rfm10, ru_sch_apply, st_scheme, O_I(0), 0, M_ERR, NODOC},

    {"rule", "seg_rule_compile (numeric)", 0, su_small, ru_rule_compile, st_rule, 0, H_RULE, M_ERR, MUST},
    {"rule", "seg_rule_compile (text, functions)", 1, su_small, ru_rule_compile, st_rule, 0, H_RULE, M_ERR, MUST},
    {"rule", "seg_rule_eval (numeric)", 0, su_rule, ru_rule_eval, NULL, O_U8, 0, M_ERR, MUST},
    {"rule", "seg_rule_eval (text, functions)", 1, su_rule, ru_rule_eval, NULL, O_U8, 0, M_ERR, MUST},

    {"tiers", "seg_tiers_load (pyramid, keep)", 0, su_small, ru_tiers_load, st_tiers, 0, H_TIERS, M_ERR, MUST},
    {"tiers", "seg_tiers_load (groups)", 1, su_small, ru_tiers_load, st_tiers, 0, H_TIERS, M_ERR, MUST},
    {"tiers", "seg_tiers_load (text, between)", 2, su_small, ru_tiers_load, st_tiers, 0, H_TIERS, M_ERR, MUST},
    {"tiers", "seg_tiers_new", 0, su_small, ru_tiers_new, st_tiers, 0, H_TIERS, M_NONE, MUST},
    {"tiers", "seg_tiers_add (when, keep)", 0, su_tiers2, ru_tiers_add, st_tiers, 0, 0, M_TIERS, MUST},
    {"tiers", "seg_tiers_add (otherwise)", 1, su_tiers2, ru_tiers_add, st_tiers, 0, 0, M_TIERS, MUST},
    {"tiers", "seg_tiers_apply (hysteresis)", 0, su_tiers, ru_tiers_apply, NULL, O_I(0), 0, M_ERR, MUST},
    {"tiers", "seg_tiers_apply (text rules)", 2, su_tiers, ru_tiers_apply, NULL, O_I(0), 0, M_ERR, MUST},
    {"tiers", "seg_tiers_gaps", 0, su_gaps, ru_tiers_gaps, NULL, O_I(0) | O_I(1) | O_I(2) | O_D(0) | O_U8, 0, M_ERR, MUST},
    {"tiers", "seg_tiers_unreachable", 2, su_tiers, ru_tiers_unreachable, NULL, 0, 0, M_NONE, NODOC},
    {"tiers", "seg_tiers_save", 0, su_tiers, ru_tiers_save, NULL, 0, 0, M_NONE, 0},

    {"tags", "seg_tagreg_new", 0, NULL, ru_reg_new, st_reg, 0, H_REG, M_NONE, MUST},
    {"tags", "seg_tagreg_load", 0, NULL, ru_reg_load, st_reg, 0, H_REG, M_ERR, MUST},
    {"tags", "seg_tagreg_add", 0, su_reg_build, ru_reg_add, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_add_alias", 0, su_reg_build, ru_reg_alias, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_rename", 0, su_reg_build, ru_reg_rename, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_remove", 0, su_reg_build, ru_reg_remove, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_set_text (category)", SEG_TAG_CATEGORY, su_reg_build, ru_reg_set_text, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_set_text (description)", SEG_TAG_DESCRIPTION, su_reg_build, ru_reg_set_text, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_set_text (owner)", SEG_TAG_OWNER, su_reg_build, ru_reg_set_text, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_set_text (group)", SEG_TAG_GROUP, su_reg_build, ru_reg_set_text, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_set_text (rule)", SEG_TAG_RULE_TEXT, su_reg_build, ru_reg_set_text, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_set_code (kind)", SEG_TAG_KIND, su_reg_build, ru_reg_set_code, st_reg, 0, 0, M_REG, NODOC},
    {"tags", "seg_tagreg_set_code (status)", SEG_TAG_STATUS, su_reg_build, ru_reg_set_code, st_reg, 0, 0, M_REG, NODOC},
    {"tags", "seg_tagreg_freeze", 0, su_reg_build, ru_reg_freeze, st_reg, 0, 0, M_REG, MUST},
    {"tags", "seg_tagreg_suggest (edit distance)", 0, su_reg_loaded, ru_reg_suggest, NULL, O_I(0), 0, M_NONE, MUST},
    {"tags", "seg_tagreg_suggest (contained)", 1, su_reg_loaded, ru_reg_suggest, NULL, O_I(0), 0, M_NONE, MUST},
    {"tags", "seg_tagreg_list", 0, su_reg_loaded, ru_reg_list, NULL, O_I(0), 0, M_NONE, NODOC},
    {"tags", "seg_tagreg_save", 0, su_reg_build, ru_reg_save, NULL, 0, 0, M_NONE, NODOC},

    {"tagset", "seg_tagset_new", 0, su_reg_loaded, ru_set_new, st_set, 0, H_SET, M_NONE, MUST},
    {"tagset", "seg_tagset_set (empty chunk)", 0, su_set, ru_set_one, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_set (group clears)", 1, su_set, ru_set_one, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_set_rows", 0, su_set, ru_set_rows, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_set_mask", 0, su_set, ru_set_mask, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_reset", 0, su_set, ru_set_reset, st_set, 0, 0, M_NONE, NODOC},
    {"tagset", "seg_tagset_set_labels", 0, su_set, ru_set_labels, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_eval_rules (all)", 0, su_set_small, ru_set_eval, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_eval_rules (listed)", 1, su_set_small, ru_set_eval, st_set, 0, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_cooccurrence", 0, su_set, ru_set_cooc, NULL, O_I64, 0, M_ERR, MUST},
    {"tagset", "seg_tagset_freeze", 0, su_set, ru_set_freeze, st_set, 0, 0, M_NONE, NODOC},

    {"query", "seg_query_compile (aliases)", 0, su_set, ru_q_compile, st_query, 0, H_QUERY, M_ERR, MUST},
    {"query", "seg_query_compile (quoted, normalised)", 1, su_set, ru_q_compile, st_query, 0, H_QUERY, M_ERR, MUST},
    {"query", "seg_query_count", 0, su_query, ru_q_count, NULL, 0, 0, M_ERR, MUST},
    {"query", "seg_query_select (from 0)", 0, su_query, ru_q_select, NULL, O_I64, 0, M_ERR, MUST},
    {"query", "seg_query_select (second chunk)", 1, su_query, ru_q_select, NULL, O_I64, 0, M_ERR, MUST},
    {"query", "seg_query_mask", 1, su_query, ru_q_mask, NULL, O_U8, 0, M_ERR, MUST},

    {"profile", "seg_profile_compute (labels)", 0, su_prof, ru_profile, st_profile, 0, H_PROF, M_ERR, MUST},
    {"profile", "seg_profile_compute (two-way)", 1, su_prof, ru_profile, st_profile, 0, H_PROF, M_ERR, MUST},
    {"profile", "seg_profile_compute (no median)", 2, su_prof, ru_profile, st_profile, 0, H_PROF, M_ERR, MUST},

    {"kmeans", "seg_kmeans_new", 0, su_small, ru_km_new, st_km, 0, H_KM, M_NONE, MUST},
    {"kmeans", "seg_kmeans_add_feature", 2, su_km, ru_km_add, st_km, 0, 0, M_KM, MUST},
    {"kmeans", "seg_kmeans_fit (hamerly)", 0, su_km, ru_km_fit, st_km, O_I(0), 0, M_KM, MUST},
    {"kmeans", "seg_kmeans_fit (lloyd, ordered)", 1, su_km, ru_km_fit, st_km, O_I(0), 0, M_KM, MUST},
    {"kmeans", "seg_kmeans_predict", 0, su_km_fitted, ru_km_predict, NULL, O_I(0) | O_D(0), 0, M_ERR, NODOC},
    {"kmeans", "seg_kmeans_silhouette", 0, su_km_fitted, ru_km_silhouette, NULL, 0, 0, M_ERR, MUST},
    {"kmeans", "seg_kmeans_inertia_curve", 0, su_km, ru_km_curve, st_km, O_D(0), 0, M_ERR, MUST},
    {"kmeans", "seg_kmeans_save", 0, su_km_fitted, ru_km_save, NULL, 0, 0, M_NONE, NODOC},
    {"kmeans", "seg_kmeans_load", 0, su_small, ru_km_load, st_km, 0, H_KM, M_ERR, MUST},

    {"experiment", "seg_ab_assign_stratified", 0, su_small, ru_ab_strat, NULL, O_I(0), 0, M_ERR, MUST},
    {"experiment", "seg_ab_assign_stratified (holdout)", 1, su_small, ru_ab_strat, NULL, O_I(0), 0, M_ERR, MUST},
};
#define N_CALLS (sizeof k_calls / sizeof k_calls[0])

/* ------------------------------------------------------------------------
 * The sweep.
 * ---------------------------------------------------------------------- */
static const char *message(ctx *c, int m)
{
    switch (m) {
    case M_ERR: return c->err;
    case M_FRAME: return seg_frame_last_error(c->fr);
    case M_RFM: return seg_rfm_last_error(c->rfm);
    case M_SCHEME: return seg_rfm_scheme_last_error(c->sch);
    case M_TIERS: return seg_tiers_last_error(c->tiers);
    case M_REG: return seg_tagreg_last_error(c->reg);
    case M_KM: return seg_kmeans_last_error(c->km);
    default: return NULL;
    }
}

static void begin(ctx *c, const call *k)
{
    clear_handles(c);
    seg_test_alloc_init(&c->ta);
    c->arg = k->arg;
    c->n = 0;
    if (k->setup)
        k->setup(c);
    set_canary(c, k->ctor);
    if (k->outs & O_I64)
        c->n = c->n > 121 ? c->n : 121;
    fill_outputs(c, k->outs);
}

/* Frees every handle; checks that nothing leaked. */
static void end(ctx *c, const call *k, const char *when)
{
    if (real(c->q)) seg_query_free(c->q);
    if (real(c->set)) seg_tagset_free(c->set);
    if (real(c->reg)) seg_tagreg_free(c->reg);
    if (real(c->prof)) seg_profile_free(c->prof);
    if (real(c->km)) seg_kmeans_free(c->km);
    if (real(c->tiers)) seg_tiers_free(c->tiers);
    if (real(c->rule)) seg_rule_free(c->rule);
    if (real(c->sch)) seg_rfm_scheme_free(c->sch);
    if (real(c->rfm)) seg_rfm_free(c->rfm);
    if (real(c->fr)) seg_frame_free(c->fr);
    ck_assert_msg(c->ta.live == 0, "%s, %s: %zu blocks (%zu bytes) leaked", k->name, when,
                  c->ta.live, c->ta.live_bytes);
    ck_assert_msg(c->ta.bad_frees == 0, "%s, %s: %zu bad frees", k->name, when, c->ta.bad_frees);
}

/* Outputs (canary-filled arrays and scalars) and the state of the handles. */
static void snap(ctx *c, const call *k, buf *b)
{
    b->len = 0;
    for (int j = 0; j < 5; j++)
        if (k->outs & O_I(j))
            put(b, c->o32[j], c->n * sizeof c->o32[j][0]);
    for (int j = 0; j < 4; j++)
        if (k->outs & O_D(j))
            put(b, c->od[j], c->n * sizeof c->od[j][0]);
    if (k->outs & O_U8)
        put(b, c->o8, c->n);
    if (k->outs & O_I64)
        put(b, c->o64, c->n * sizeof c->o64[0]);
    put(b, &c->osz, sizeof c->osz);
    put(b, &c->oid, sizeof c->oid);
    put(b, &c->o64s, sizeof c->o64s);
    put(b, &c->dsc, sizeof c->dsc);
    put(b, c->text, sizeof c->text);
    if (k->state)
        k->state(c, b);
}

static void assert_same(const buf *a, const buf *b, const call *k, const char *what, size_t n,
                        int sticky)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->p[i] == b->p[i])
        i++;
    ck_assert_msg(a->len == b->len && i == a->len,
                  "%s, allocation %zu failing%s: %s (first difference at byte %zu of %zu/%zu)",
                  k->name, n, sticky ? " (sticky)" : "", what, i, a->len, b->len);
}

typedef struct stats {
    size_t enomem, ok_after_failure, injected;
} stats;

static void sweep(const call *k, int sticky, const buf *ref, stats *st)
{
    ctx *c = &g_c;
    static buf before, after;
    for (size_t n = 0;; n++) {
        begin(c, k);
        snap(c, k, &before);
        c->ta.sticky = sticky;
        seg_test_alloc_fail_next(&c->ta, n);
        int32_t rc = k->run(c);
        size_t hit = c->ta.failures;
        seg_test_alloc_no_fail(&c->ta);
        c->ta.sticky = 0;
        st->injected += hit;
        snap(c, k, &after);
        if (!hit) {
            ck_assert_msg(rc == SEG_OK, "%s: %s without a failed allocation", k->name,
                          seg_status_str(rc));
            assert_same(ref, &after, k, "result differs from the reference", n, sticky);
            end(c, k, "no failure");
            return;
        }
        if (rc == SEG_OK) {
            st->ok_after_failure++;
            assert_same(ref, &after, k, "SEG_OK after a failed allocation, with another result",
                        n, sticky);
        } else {
            st->enomem++;
            ck_assert_msg(rc == SEG_ENOMEM, "%s, allocation %zu failing%s: %s, not SEG_ENOMEM",
                          k->name, n, sticky ? " (sticky)" : "", seg_status_str(rc));
            ck_assert_msg(!(k->flags & NODOC),
                          "%s returns SEG_ENOMEM (allocation %zu failing%s), which its header "
                          "does not list", k->name, n, sticky ? ", sticky" : "");
            assert_same(&before, &after, k, "outputs or handle changed by a failed call", n,
                        sticky);
            const char *m = message(c, k->msg);
            ck_assert_msg(!m || seg_test_has_word(m, "memory"),
                          "%s, allocation %zu failing%s: message \"%s\" does not say memory",
                          k->name, n, sticky ? " (sticky)" : "", m);
            /* The same call again, on the same handles, without failure. */
            rc = k->run(c);
            ck_assert_msg(rc == SEG_OK, "%s: retry after ENOMEM (allocation %zu%s): %s", k->name,
                          n, sticky ? ", sticky" : "", seg_status_str(rc));
            snap(c, k, &after);
            assert_same(ref, &after, k, "retry after ENOMEM gives another result", n, sticky);
        }
        end(c, k, "after a failure");
    }
}

START_TEST(test_sweep)
{
    const call *k = &k_calls[_i];
    ctx *c = &g_c;
    static buf ref;
    stats st[2];
    memset(st, 0, sizeof st);
    clock_t t0 = clock();

    begin(c, k);
    size_t a0 = c->ta.attempts;
    int32_t rc = k->run(c);
    size_t attempts = c->ta.attempts - a0;
    ck_assert_msg(rc == SEG_OK, "%s: reference call: %s: %s", k->name, seg_status_str(rc), c->err);
    snap(c, k, &ref);
    end(c, k, "reference");

    for (int sticky = 0; sticky < 2; sticky++)
        sweep(k, sticky, &ref, &st[sticky]);
    fprintf(stderr,
            "enomem: %-40s %4zu allocations; ENOMEM %4zu + %4zu sticky; OK after failure %zu + "
            "%zu; failures injected %zu; %.2f s\n",
            k->name, attempts, st[0].enomem, st[1].enomem, st[0].ok_after_failure,
            st[1].ok_after_failure, st[0].injected + st[1].injected,
            (double)(clock() - t0) / CLOCKS_PER_SEC);
    if (k->flags & MUST)
        ck_assert_msg(st[0].enomem > 0 && st[1].enomem > 0,
                      "%s: no allocation failure ever gave SEG_ENOMEM (%zu allocations)", k->name,
                      attempts);
}
END_TEST

/* The saved model that seg_kmeans_load() reads, made before the tests run. */
static void make_km_text(void)
{
    ctx *c = &g_c;
    clear_handles(c);
    seg_test_alloc_init(&c->ta);
    c->arg = 0;
    su_km_fitted(c);
    size_t len;
    die_unless(seg_kmeans_save(c->km, g_km_text, sizeof g_km_text, &len), "kmeans save");
    seg_kmeans_free(c->km);
    seg_frame_free(c->fr);
}

int main(void)
{
    make_data();
    make_km_text();
    Suite *s = suite_create("enomem");
    for (size_t i = 0; i < N_CALLS;) {
        size_t j = i;
        while (j < N_CALLS && strcmp(k_calls[j].header, k_calls[i].header) == 0)
            j++;
        TCase *tc = tcase_create(k_calls[i].header);
        tcase_add_loop_test(tc, test_sweep, (int)i, (int)j);
        suite_add_tcase(s, tc);
        i = j;
    }
    return seg_test_run(s);
}
