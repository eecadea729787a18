/* SPDX-License-Identifier: MIT */
/*
 * Hardening (issue 6): table-driven bad-input sweep over every public
 * function of tags.h, tagset.h, query.h, profile.h, kmeans.h and
 * experiment.h, one Check tcase per header.
 *
 * Each row of a CASES_* table is one bad call (`R(fn, args...)`, which also
 * records the table line; failures name "line L.K", the K-th row written on
 * line L). The rows of one function run in one forked Check test; a failing
 * row is reported and the others still run. run_case() builds a fresh world
 * (registries, tag sets, a query, frames, a profile, k-means models, all on
 * a counting test allocator), snapshots its whole observable state, then for
 * the row:
 *   - fills every output (the *out handle pointers, whole int32 / int64 /
 *     double / byte / size_t / text buffers) with canaries and calls;
 *   - asserts the documented status (ANY_NEG where the header documents
 *     none), or the documented neutral value of a getter;
 *   - asserts a non-empty message naming the problem where the function
 *     has one: err_buf, or seg_tagreg_last_error() / seg_kmeans_last_error()
 *     of the handle (words of `.msg`: "a|b" = either, "#7" = the whole
 *     number 7, "@col:row" = SEG_ASSERT_NAMES);
 *   - asserts every output is still canary (SEG_EBUFSZ rows: *out_len holds
 *     the needed size);
 *   - asserts the world's snapshot is unchanged, that valid calls on every
 *     handle still give the right answers, and that nothing leaked.
 * err_buf functions run four times: a 256-byte buffer, NULL/0, err_cap 0
 * (the buffer must stay untouched) and err_cap 6 (a NUL-terminated prefix
 * of the full message, nothing written past the cap). Texts that "need not
 * be NUL-terminated" are passed as exact-size heap copies without a NUL.
 *
 * Functions covered (75; test_coverage checks each has a row):
 *  tags.h:   seg_tagreg_new load save free last_error add add_alias rename
 *            remove set_text set_code freeze is_frozen count id_at find
 *            suggest list name alias_count alias text code, seg_tag_normalize
 *  tagset.h: seg_tagset_new free n_rows registry freeze set test set_rows
 *            set_mask reset get_mask count cooccurrence memory eval_rules
 *            set_labels
 *  query.h:  seg_query_compile free count select mask
 *  profile.h: seg_profile_compute free n_groups n_columns group value total
 *  kmeans.h: seg_kmeans_new free add_feature set_param get_param
 *            set_progress fit is_fitted last_error predict centroids result
 *            inertia_curve silhouette save load
 *  experiment.h: seg_ab_hash assign assign_stratified proportions means
 *            sample_size mde
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define N 12          /* rows of the main frame and of the tag sets */
#define OUTN 64       /* elements of every output array */
#define BUFN 4096     /* bytes of the text output buffer */
#define ERRN 256      /* bytes of err_buf */
#define ANY_NEG INT64_MIN /* the header documents no code: any negative one */
#define RET_NULL (-1001)  /* a getter returned NULL */
#define RET_EMPTY (-1002) /* a getter returned "" */
#define RET_STR (-1003)   /* a getter returned a non-empty string */

/* ---- the functions ----------------------------------------------------- */

enum { HDR_TAGS, HDR_TAGSET, HDR_QUERY, HDR_PROFILE, HDR_KMEANS, HDR_EXPERIMENT, N_HDR };
/* Where a function reports detail: nowhere, err_buf, or the handle's last error. */
enum { CH_NONE, CH_ERRBUF, CH_LAST };

#define FUNCS(X)                                                                                 \
    X(TR_NEW, seg_tagreg_new, TAGS, NONE) X(TR_LOAD, seg_tagreg_load, TAGS, ERRBUF)              \
    X(TR_SAVE, seg_tagreg_save, TAGS, NONE) X(TR_FREE, seg_tagreg_free, TAGS, NONE)              \
    X(TR_LAST_ERROR, seg_tagreg_last_error, TAGS, NONE) X(TR_ADD, seg_tagreg_add, TAGS, LAST)    \
    X(TR_ADD_ALIAS, seg_tagreg_add_alias, TAGS, LAST)                                            \
    X(TR_RENAME, seg_tagreg_rename, TAGS, LAST) X(TR_REMOVE, seg_tagreg_remove, TAGS, LAST)      \
    X(TR_SET_TEXT, seg_tagreg_set_text, TAGS, LAST)                                              \
    X(TR_SET_CODE, seg_tagreg_set_code, TAGS, LAST) X(TR_FREEZE, seg_tagreg_freeze, TAGS, LAST)  \
    X(TR_IS_FROZEN, seg_tagreg_is_frozen, TAGS, NONE) X(TR_COUNT, seg_tagreg_count, TAGS, NONE)  \
    X(TR_ID_AT, seg_tagreg_id_at, TAGS, NONE) X(TR_FIND, seg_tagreg_find, TAGS, NONE)            \
    X(TR_SUGGEST, seg_tagreg_suggest, TAGS, NONE) X(TR_LIST, seg_tagreg_list, TAGS, NONE)        \
    X(TR_NAME, seg_tagreg_name, TAGS, NONE)                                                      \
    X(TR_ALIAS_COUNT, seg_tagreg_alias_count, TAGS, NONE)                                        \
    X(TR_ALIAS, seg_tagreg_alias, TAGS, NONE) X(TR_TEXT, seg_tagreg_text, TAGS, NONE)            \
    X(TR_CODE, seg_tagreg_code, TAGS, NONE) X(TAG_NORMALIZE, seg_tag_normalize, TAGS, NONE)      \
    X(TS_NEW, seg_tagset_new, TAGSET, NONE) X(TS_FREE, seg_tagset_free, TAGSET, NONE)            \
    X(TS_N_ROWS, seg_tagset_n_rows, TAGSET, NONE)                                                \
    X(TS_REGISTRY, seg_tagset_registry, TAGSET, NONE)                                            \
    X(TS_FREEZE, seg_tagset_freeze, TAGSET, NONE) X(TS_SET, seg_tagset_set, TAGSET, ERRBUF)      \
    X(TS_TEST, seg_tagset_test, TAGSET, NONE)                                                    \
    X(TS_SET_ROWS, seg_tagset_set_rows, TAGSET, ERRBUF)                                          \
    X(TS_SET_MASK, seg_tagset_set_mask, TAGSET, ERRBUF)                                          \
    X(TS_RESET, seg_tagset_reset, TAGSET, NONE)                                                  \
    X(TS_GET_MASK, seg_tagset_get_mask, TAGSET, NONE)                                            \
    X(TS_COUNT, seg_tagset_count, TAGSET, NONE)                                                  \
    X(TS_COOC, seg_tagset_cooccurrence, TAGSET, ERRBUF)                                          \
    X(TS_MEMORY, seg_tagset_memory, TAGSET, NONE)                                                \
    X(TS_EVAL, seg_tagset_eval_rules, TAGSET, ERRBUF)                                            \
    X(TS_SET_LABELS, seg_tagset_set_labels, TAGSET, ERRBUF)                                      \
    X(Q_COMPILE, seg_query_compile, QUERY, ERRBUF) X(Q_FREE, seg_query_free, QUERY, NONE)        \
    X(Q_COUNT, seg_query_count, QUERY, ERRBUF) X(Q_SELECT, seg_query_select, QUERY, ERRBUF)      \
    X(Q_MASK, seg_query_mask, QUERY, ERRBUF) X(PF_COMPUTE, seg_profile_compute, PROFILE, ERRBUF) \
    X(PF_FREE, seg_profile_free, PROFILE, NONE)                                                  \
    X(PF_N_GROUPS, seg_profile_n_groups, PROFILE, NONE)                                          \
    X(PF_N_COLUMNS, seg_profile_n_columns, PROFILE, NONE)                                        \
    X(PF_GROUP, seg_profile_group, PROFILE, NONE) X(PF_VALUE, seg_profile_value, PROFILE, NONE)  \
    X(PF_TOTAL, seg_profile_total, PROFILE, NONE) X(KM_NEW, seg_kmeans_new, KMEANS, NONE)        \
    X(KM_FREE, seg_kmeans_free, KMEANS, NONE)                                                    \
    X(KM_ADD_FEATURE, seg_kmeans_add_feature, KMEANS, LAST)                                      \
    X(KM_SET_PARAM, seg_kmeans_set_param, KMEANS, LAST)                                          \
    X(KM_GET_PARAM, seg_kmeans_get_param, KMEANS, NONE)                                          \
    X(KM_SET_PROGRESS, seg_kmeans_set_progress, KMEANS, LAST)                                    \
    X(KM_FIT, seg_kmeans_fit, KMEANS, LAST) X(KM_IS_FITTED, seg_kmeans_is_fitted, KMEANS, NONE)  \
    X(KM_LAST_ERROR, seg_kmeans_last_error, KMEANS, NONE)                                        \
    X(KM_PREDICT, seg_kmeans_predict, KMEANS, ERRBUF)                                            \
    X(KM_CENTROIDS, seg_kmeans_centroids, KMEANS, NONE)                                          \
    X(KM_RESULT, seg_kmeans_result, KMEANS, NONE)                                                \
    X(KM_CURVE, seg_kmeans_inertia_curve, KMEANS, ERRBUF)                                        \
    X(KM_SILHOUETTE, seg_kmeans_silhouette, KMEANS, ERRBUF)                                      \
    X(KM_SAVE, seg_kmeans_save, KMEANS, NONE) X(KM_LOAD, seg_kmeans_load, KMEANS, ERRBUF)        \
    X(AB_HASH, seg_ab_hash, EXPERIMENT, NONE) X(AB_ASSIGN, seg_ab_assign, EXPERIMENT, ERRBUF)    \
    X(AB_STRAT, seg_ab_assign_stratified, EXPERIMENT, ERRBUF)                                    \
    X(AB_PROP, seg_ab_proportions, EXPERIMENT, ERRBUF)                                           \
    X(AB_MEANS, seg_ab_means, EXPERIMENT, ERRBUF)                                                \
    X(AB_SAMPLE, seg_ab_sample_size, EXPERIMENT, NONE) X(AB_MDE, seg_ab_mde, EXPERIMENT, NONE)

#define X_ENUM(id, fn, hdr, ch) F_##id,
enum { FUNCS(X_ENUM) N_FN };
#define X_INFO(id, fn, hdr, ch) {#fn, HDR_##hdr, CH_##ch},
static const struct {
    const char *name;
    int hdr, ch;
} FN[N_FN] = {FUNCS(X_INFO)};

/* ---- a case ------------------------------------------------------------ */

/* Handles, frames and allocators a row can pick (0 = the function's default). */
enum { H_DEF, H_NULL, H_RB, H_RF, H_RO, H_RBAD, H_RCYC, H_RMAX, H_TS, H_TSF, H_TSO,
       H_KM, H_KMU, H_KME, H_KM1, H_KMO, H_KMC, H_K256 };
enum { FR_MAIN, FR_NULL, FR_SHORT, FR_INF, FR_NEG, FR_TEXT, FR_NOCOL, FR_TAG, FR_FEW, FR_HUGE,
       N_FR };
enum { A_TEST, A_SMALL, A_BIGTAIL, A_NOHOOK };
/* `.nul` bits: pass NULL for the k-th pointer parameter (handles and err_buf
 * not counted; call_*() lists them per function). */
#define P1 1u
#define P2 2u
#define P3 4u
#define P4 8u
#define P5 16u
/* `.fl` bits */
#define NEED 1u    /* SEG_EBUFSZ row: *out_len must hold the needed size */
#define CAPNEED 2u /* pass cap = the needed length (no room for the NUL) */

typedef struct bcase {
    int fn, line;
    int h, h2, fr, al; /* handle, second handle, frame, allocator */
    unsigned nul, fl;
    int64_t a, b, v, d; /* ids, rows, fields, values, counts */
    size_t n, m;       /* lengths, capacities, indices */
    double x, y, z, u; /* double arguments */
    const char *s;     /* a name, text or salt */
    const void *p, *q; /* input arrays; NULL = the function's valid default */
    int64_t want;      /* status (or a getter's neutral value) */
    const char *msg[3];
} bcase;

#define R(fn_, ...) {.fn = F_##fn_, .line = __LINE__, __VA_ARGS__}
#define COUNT(type, ...) (sizeof((const type[]){__VA_ARGS__}) / sizeof(type))
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define DBL(...) ((const double[]){__VA_ARGS__})
#define W(code) .want = SEG_##code                                  /* no message to check */
#define E(code, ...) .want = SEG_##code, .msg = {__VA_ARGS__}       /* status and message words */
#define ANYNEG(...) .want = ANY_NEG, .msg = {__VA_ARGS__}

/* Rows run in groups (all rows of one function in one forked test); a
 * failing row is recorded and the group goes on with the next row. */
static const bcase *cur; /* the row being run */
static int cur_k;        /* its position among the rows written on its line */
static jmp_buf row_jmp;
static char fails[3072];
static int n_fails;

__attribute__((format(printf, 1, 2))) static void failf(const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    for (char *p = m; *p; p++) /* keep the TAP stream one line per result */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '~';
    if (!cur)
        ck_abort_msg("%s", m);
    printf("# FAIL row at line %d.%d (%s): %s\n", cur->line, cur_k, FN[cur->fn].name, m);
    fflush(stdout);
    size_t l = strlen(fails);
    snprintf(fails + l, sizeof fails - l, " [line %d.%d: %s]", cur->line, cur_k, m);
    n_fails++;
    longjmp(row_jmp, 1);
}
#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond))                                                                           \
            failf(__VA_ARGS__);                                                                \
    } while (0)
#define OK(call) CHECK((call) == SEG_OK, "%s failed", #call)

/* Long inputs, filled by fill_long() before any test runs. */
static char long_name[257];          /* 256 bytes: SEG_TAG_NAME_MAX / SEG_FRAME_NAME_MAX + 1 */
static char long_cjk[3 * 86 + 1];    /* 258 bytes of 中 */
static char long_text[4098];         /* 4097 bytes: SEG_TAG_TEXT_MAX + 1 */
static char long_desc[65538];        /* 65537 bytes: SEG_TAG_DESC_MAX + 1 */
static char deep_query[2 * 257 + 8]; /* 257 nested parentheses around vip */
static char deep_not[4 * 257 + 8];   /* 257 nested `not` */
static const char *cols1025[1025];   /* 1025 distinct column names */
static char cols_text[1025][8];
static double w65[65];               /* 65 arm weights */

static void fill_long(void)
{
    memset(long_name, 'a', 256);
    for (int i = 0; i < 86; i++)
        memcpy(long_cjk + 3 * i, "\xe4\xb8\xad", 3);
    memset(long_text, 'x', 4097);
    memset(long_desc, 'd', 65537);
    char *p = deep_query;
    for (int i = 0; i < 257; i++)
        *p++ = '(';
    memcpy(p, "vip", 3);
    p += 3;
    for (int i = 0; i < 257; i++)
        *p++ = ')';
    p = deep_not;
    for (int i = 0; i < 257; i++, p += 4)
        memcpy(p, "not ", 4);
    memcpy(p, "vip", 4);
    for (int i = 0; i < 1025; i++) {
        snprintf(cols_text[i], sizeof cols_text[i], "c%d", i);
        cols1025[i] = cols_text[i];
    }
    for (int i = 0; i < 65; i++)
        w65[i] = 1;
}

/* ---- the world --------------------------------------------------------- */

/* rf: the frozen registry the tag sets and the query use. Line 14 holds the
 * rule of "high", line 16 that of "loyal". */
static const char RF_TEXT[] = "libsegment-tags 1\n"
                              "next_id 20\n"
                              "tag 1 \"vip\"\n"
                              "  alias \"贵宾\" \"VIP客户\"\n"
                              "  category \"服务/等级\"\n"
                              "tag 2 \"new\"\n"
                              "  category \"生命周期/新客\"\n"
                              "  group life\n"
                              "tag 3 \"active\"\n"
                              "  category \"生命周期/活跃\"\n"
                              "  group life\n"
                              "tag 4 \"high\"\n"
                              "  category \"行为/交易\"\n"
                              "  when spend >= 100\n"
                              "tag 5 \"loyal\"\n"
                              "  when vip == 1 and orders >= 5\n"
                              "tag 6 \"old\"\n"
                              "  status disabled\n"
                              "tag 7 \"c0\"\n"
                              "  kind model\n"
                              "tag 8 \"c1\"\n"
                              "  kind model\n"
                              "tag 9 \"dead\"\n"
                              "  status disabled\n"
                              "  when spend > 0\n";
static const char RO_TEXT[] = "tag 1 \"vip\"\ntag 2 \"x\"\n";
static const char QUERY_TEXT[] = "(vip or high) and not active";
#define Q_COUNT_WANT 6 /* rows 0 1 3 7 9 11 */

static const double SPEND[N] = {5, 150, 20, 300, 0, 120, 80, 1000, 40, 101, 99, 250};
static const double SPEND_INF[N] = {5, 150, 20, 300, INFINITY, 120, 80, 1000, 40, 101, 99, 250};
static const double SPEND_NEG[N] = {5, 150, 20, -1, 0, 120, 80, 1000, 40, 101, 99, 250};
static const double SPEND_HUGE[N] = {5, 1e300, 20, -1e300, 0, 120, 80, 1000, 40, 101, 99, 250};
static const int64_t ORDERS[N] = {1, 5, 2, 9, 0, 4, 3, 12, 1, 6, 2, 7};
static const int32_t VIPCOL[N] = {0};
static const char *const CITY[N] = {"sh", "bj", "gz", "sz", "sh", "bj",
                                    "gz", "sz", "sh", "bj", "gz", "sz"};
static const double FEW_SPEND[2] = {1, NAN};
static const int64_t FEW_ORDERS[2] = {1, 2};
static const int32_t LABELS[N] = {0, 1, 0, 1, 2, 2, 0, 1, 2, 0, 1, 2};
static const char *const PF_COLS[2] = {"spend", "orders"};
static const int64_t TS_ROWS[5][6] = {{0, 3, 7}, {1, 2}, {4, 5}, {1, 3, 5, 7, 9, 11}, {0, 1}};
static const int32_t TS_TAGS[5] = {1, 2, 3, 4, 7};
static const size_t TS_NROWS[5] = {3, 2, 2, 6, 2};
static const char *const IDS[3] = {"c1", "c2", "c3"};
static const double W2[2] = {0.5, 0.5};
static const double MEANS_A[4] = {1, 2, 3, 4}, MEANS_B[4] = {2, 3, 5, 8};

typedef struct world {
    seg_allocator a_small, a_nohook;
    struct {
        seg_allocator a;
        uint64_t tail;
    } a_big;
    seg_tagreg *rb, *rf, *ro, *rbad, *rcyc, *rmax;
    seg_tagset *ts, *tsf, *tso;
    seg_query *q;
    seg_frame *fr[N_FR];
    seg_profile *pf;
    seg_kmeans *km, *kmu, *kme, *km1, *kmo, *kmc, *k256;
    int32_t km_labels[N];
    char *km_text;
    size_t km_len;
    uint8_t mask[N]; /* an all-ones mask */
    int progress_calls;
    seg_test_alloc ta; /* last: world_release() clears what comes before */
} world;

static int32_t cancel_fit(void *user, int32_t run, int32_t iteration, double inertia)
{
    (void)run, (void)iteration, (void)inertia;
    ((world *)user)->progress_calls++;
    return 1;
}

static seg_tagreg *load_reg(world *w, const char *text, const char *source)
{
    seg_tagreg *r = NULL;
    char err[ERRN] = "";
    int32_t rc = seg_tagreg_load(&r, text, strlen(text), source, &w->ta.base, err, sizeof err);
    CHECK(rc == SEG_OK, "loading %s: %d %s", source, (int)rc, err);
    return r;
}

static seg_tagreg *build_reg(world *w, const char *spec)
{
    /* spec: "id name [rule]" lines; "@id alias" adds an alias; "%id group" a group */
    seg_tagreg *r = NULL;
    OK(seg_tagreg_new(&r, &w->ta.base));
    char line[128];
    for (const char *p = spec; *p;) {
        size_t l = strcspn(p, "\n");
        memcpy(line, p, l);
        line[l] = 0;
        p += l + (p[l] == '\n');
        char *sp = strchr(line, ' '), *rest = strchr(sp + 1, ' ');
        if (rest)
            *rest++ = 0;
        int32_t id = (int32_t)strtol(line + (line[0] == '@' || line[0] == '%'), NULL, 10);
        if (line[0] == '@')
            OK(seg_tagreg_add_alias(r, id, sp + 1));
        else if (line[0] == '%')
            OK(seg_tagreg_set_text(r, id, SEG_TAG_GROUP, sp + 1));
        else {
            CHECK(seg_tagreg_add(r, id, sp + 1, NULL) == SEG_OK, "add %s: %s", sp + 1,
                  seg_tagreg_last_error(r));
            if (rest)
                OK(seg_tagreg_set_text(r, id, SEG_TAG_RULE_TEXT, rest));
        }
    }
    return r;
}

static seg_frame *frame(world *w, size_t n, const double *spend, const char *const *spend_s,
                        const int64_t *orders, const int32_t *vip)
{
    seg_frame *f = NULL;
    OK(seg_frame_new(&f, n, &w->ta.base));
    if (spend)
        OK(seg_frame_add_double(f, "spend", spend, NULL));
    if (spend_s)
        OK(seg_frame_add_string(f, "spend", spend_s, NULL));
    OK(seg_frame_add_int64(f, "orders", orders, NULL));
    if (vip)
        OK(seg_frame_add_int32(f, "vip", vip, NULL));
    if (spend && n == N && !vip)
        OK(seg_frame_add_string(f, "city", CITY, NULL));
    return f;
}

static seg_kmeans *model(world *w, int k, const char *feat2)
{
    seg_kmeans *m = NULL;
    OK(seg_kmeans_new(&m, &w->ta.base));
    OK(seg_kmeans_add_feature(m, "spend", feat2 ? SEG_XF_LOG1P : SEG_XF_NONE));
    if (feat2)
        OK(seg_kmeans_add_feature(m, feat2, SEG_XF_ZSCORE));
    OK(seg_kmeans_set_param(m, SEG_KM_K, k));
    OK(seg_kmeans_set_param(m, SEG_KM_SEED, 7));
    OK(seg_kmeans_set_param(m, SEG_KM_N_INIT, 2));
    return m;
}

static seg_tagset *tagset(world *w, const seg_tagreg *reg, int freeze)
{
    seg_tagset *s = NULL;
    char err[ERRN] = "";
    OK(seg_tagset_new(&s, reg, N, &w->ta.base));
    for (int t = 0; t < (reg == w->rf ? 5 : 1); t++)
        CHECK(seg_tagset_set_rows(s, TS_TAGS[t], TS_ROWS[t], TS_NROWS[t], 1, err, sizeof err) ==
                  SEG_OK,
              "set_rows: %s", err);
    if (freeze)
        OK(seg_tagset_freeze(s));
    return s;
}

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    seg_test_alloc_init(&w->ta);
    w->a_small = w->ta.base;
    w->a_small.struct_size = 4;
    w->a_nohook = w->ta.base;
    w->a_nohook.malloc_fn = NULL;
    w->a_big.a = w->ta.base;
    w->a_big.a.struct_size = (uint32_t)sizeof w->a_big;
    w->a_big.tail = 1;
    memset(w->mask, 1, sizeof w->mask);

    w->rb = build_reg(w, "1 vip\n@1 贵宾\n2 new\n%2 life\n3 active\n%3 life\n"
                         "4 high spend >= 100\n5 loyal vip == 1");
    w->rbad = build_reg(w, "1 a spend >>= 3");
    w->rcyc = build_reg(w, "1 a b == 1\n2 b a == 1");
    w->rmax = build_reg(w, "2147483647 max");
    w->rf = load_reg(w, RF_TEXT, "rf.txt");
    w->ro = load_reg(w, RO_TEXT, "ro.txt");
    w->ts = tagset(w, w->rf, 0);
    w->tsf = tagset(w, w->rf, 1);
    w->tso = tagset(w, w->ro, 0);
    char err[ERRN] = "";
    CHECK(seg_query_compile(&w->q, QUERY_TEXT, strlen(QUERY_TEXT), w->rf, NULL, &w->ta.base, err,
                            sizeof err) == SEG_OK,
          "query: %s", err);

    w->fr[FR_MAIN] = frame(w, N, SPEND, NULL, ORDERS, NULL);
    w->fr[FR_SHORT] = frame(w, N - 1, SPEND, NULL, ORDERS, NULL);
    w->fr[FR_INF] = frame(w, N, SPEND_INF, NULL, ORDERS, NULL);
    w->fr[FR_NEG] = frame(w, N, SPEND_NEG, NULL, ORDERS, NULL);
    w->fr[FR_TEXT] = frame(w, N, NULL, CITY, ORDERS, NULL);
    w->fr[FR_NOCOL] = frame(w, N, NULL, NULL, ORDERS, NULL);
    w->fr[FR_TAG] = frame(w, N, SPEND, NULL, ORDERS, VIPCOL);
    w->fr[FR_FEW] = frame(w, 2, FEW_SPEND, NULL, FEW_ORDERS, NULL);
    w->fr[FR_HUGE] = frame(w, N, SPEND_HUGE, NULL, ORDERS, NULL);
    CHECK(seg_profile_compute(&w->pf, w->fr[FR_MAIN], LABELS, NULL, PF_COLS, 2, 0, &w->ta.base,
                              err, sizeof err) == SEG_OK,
          "profile: %s", err);

    w->km = model(w, 2, "orders");
    CHECK(seg_kmeans_fit(w->km, w->fr[FR_MAIN], w->km_labels) == SEG_OK, "fit: %s",
          seg_kmeans_last_error(w->km));
    OK(seg_kmeans_save(w->km, NULL, 0, &w->km_len));
    w->km_text = malloc(w->km_len + 1);
    OK(seg_kmeans_save(w->km, w->km_text, w->km_len + 1, &w->km_len));
    w->km1 = model(w, 1, NULL);
    OK(seg_kmeans_fit(w->km1, w->fr[FR_MAIN], NULL));
    w->kmu = model(w, 2, "orders");
    OK(seg_kmeans_new(&w->kme, &w->ta.base));
    w->kmo = model(w, 2, "orders");
    OK(seg_kmeans_set_param(w->kmo, SEG_KM_ORDER_BY, 5));
    w->kmc = model(w, 2, "orders");
    OK(seg_kmeans_set_progress(w->kmc, cancel_fit, w));
    OK(seg_kmeans_new(&w->k256, &w->ta.base));
    for (int i = 0; i < 256; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        OK(seg_kmeans_add_feature(w->k256, name, SEG_XF_NONE));
    }
}

static void world_release(world *w)
{
    seg_tagreg *regs[] = {w->rb, w->rf, w->ro, w->rbad, w->rcyc, w->rmax};
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        seg_tagreg_free(regs[i]);
    seg_tagset_free(w->ts);
    seg_tagset_free(w->tsf);
    seg_tagset_free(w->tso);
    seg_query_free(w->q);
    seg_profile_free(w->pf);
    for (int i = 0; i < N_FR; i++)
        seg_frame_free(w->fr[i]);
    seg_kmeans *kms[] = {w->km, w->kmu, w->kme, w->km1, w->kmo, w->kmc, w->k256};
    for (size_t i = 0; i < sizeof kms / sizeof kms[0]; i++)
        seg_kmeans_free(kms[i]);
    free(w->km_text);
    memset(w, 0, offsetof(world, ta)); /* a second release is harmless */
}

static void world_fini(world *w)
{
    world_release(w);
    CHECK(w->ta.live == 0, "%zu blocks leaked", w->ta.live);
    CHECK(w->ta.bad_frees == 0, "%zu bad frees", w->ta.bad_frees);
}

/* ---- snapshot of everything observable, as text ------------------------ */

typedef struct sb {
    char *s;
    size_t len, cap;
} sb;

__attribute__((format(printf, 2, 3))) static void sbf(sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = 2 * (b->len + (size_t)n + 1);
        b->s = realloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void snap_reg(sb *b, const char *name, const seg_tagreg *r)
{
    size_t len = 0;
    OK(seg_tagreg_save(r, NULL, 0, &len));
    char *t = malloc(len + 1);
    OK(seg_tagreg_save(r, t, len + 1, &len));
    sbf(b, "reg %s frozen %d count %zu\n%s", name, (int)seg_tagreg_is_frozen(r),
        seg_tagreg_count(r), t);
    free(t);
}

static void snap_set(sb *b, const char *name, const seg_tagset *s)
{
    const seg_tagreg *r = seg_tagset_registry(s);
    size_t mem = 0;
    OK(seg_tagset_memory(s, 0, &mem));
    sbf(b, "set %s rows %zu mem %zu\n", name, seg_tagset_n_rows(s), mem);
    for (size_t i = 0; i < seg_tagreg_count(r); i++) {
        int32_t id = seg_tagreg_id_at(r, i);
        uint8_t m[N];
        int64_t cnt = -1;
        OK(seg_tagset_get_mask(s, id, m, N));
        OK(seg_tagset_count(s, id, &cnt));
        sbf(b, " tag %d count %lld:", (int)id, (long long)cnt);
        for (int j = 0; j < N; j++)
            sbf(b, "%d", m[j]);
        sbf(b, "\n");
    }
}

static void snap_km(sb *b, const char *name, const seg_kmeans *km)
{
    sbf(b, "km %s fitted %d params", name, (int)seg_kmeans_is_fitted(km));
    for (int p = SEG_KM_K; p <= SEG_KM_ORDER_ASC; p++) {
        double v = 0;
        OK(seg_kmeans_get_param(km, p, &v));
        sbf(b, " %a", v);
    }
    sbf(b, "\n");
    if (!seg_kmeans_is_fitted(km))
        return;
    size_t len = 0;
    OK(seg_kmeans_save(km, NULL, 0, &len));
    char *t = malloc(len + 1);
    OK(seg_kmeans_save(km, t, len + 1, &len));
    double inertia = 0;
    int32_t iter = 0;
    int64_t sizes[8];
    OK(seg_kmeans_result(km, &inertia, &iter, sizes));
    sbf(b, "%s inertia %a iter %d\n", t, inertia, (int)iter);
    free(t);
}

static char *snapshot(world *w)
{
    sb b = {0};
    snap_reg(&b, "rb", w->rb);
    snap_reg(&b, "rf", w->rf);
    snap_reg(&b, "ro", w->ro);
    snap_reg(&b, "rbad", w->rbad);
    snap_reg(&b, "rcyc", w->rcyc);
    snap_reg(&b, "rmax", w->rmax);
    snap_set(&b, "ts", w->ts);
    snap_set(&b, "tsf", w->tsf);
    snap_set(&b, "tso", w->tso);
    int64_t qn = -1;
    uint8_t qm[N];
    OK(seg_query_count(w->q, w->ts, &qn, NULL, 0));
    OK(seg_query_mask(w->q, w->ts, qm, N, NULL, 0));
    sbf(&b, "query %lld:", (long long)qn);
    for (int j = 0; j < N; j++)
        sbf(&b, "%d", qm[j]);
    sbf(&b, "\nprofile %zu x %zu\n", seg_profile_n_groups(w->pf), seg_profile_n_columns(w->pf));
    for (size_t g = 0; g < seg_profile_n_groups(w->pf); g++) {
        int32_t l = 0, l2 = 0;
        int64_t cnt = 0;
        double share = 0, v = 0;
        OK(seg_profile_group(w->pf, g, &l, &l2, &cnt, &share));
        sbf(&b, " group %d %d %lld %a:", (int)l, (int)l2, (long long)cnt, share);
        for (size_t c = 0; c < seg_profile_n_columns(w->pf); c++)
            for (int s = SEG_STAT_COUNT; s <= SEG_STAT_MEDIAN; s++) {
                OK(seg_profile_value(w->pf, g, c, s, &v));
                sbf(&b, " %a", v);
            }
        sbf(&b, "\n");
    }
    snap_km(&b, "km", w->km);
    snap_km(&b, "kmu", w->kmu);
    snap_km(&b, "kme", w->kme);
    snap_km(&b, "km1", w->km1);
    snap_km(&b, "kmo", w->kmo);
    snap_km(&b, "kmc", w->kmc);
    snap_km(&b, "k256", w->k256);
    return b.s;
}

static void snap_same(const char *before, const char *after)
{
    if (strcmp(before, after) == 0)
        return;
    size_t i = 0;
    while (before[i] == after[i])
        i++;
    size_t from = i > 60 ? i - 60 : 0;
    failf("the world changed at byte %zu: before ...%.120s after ...%.120s", i,
          before + from, after + from);
}

/* Valid calls on every handle still give the right answers. */
static void sanity(world *w)
{
    int32_t id = 0, v = -1;
    int64_t cnt = -1;
    char err[ERRN] = "";
    OK(seg_tagreg_find(w->rb, "ＶＩＰ", &id));
    CHECK(id == 1 && seg_tagreg_count(w->rb) == 5, "rb lost its tags");
    CHECK(seg_tagreg_add(w->rb, 0, "sanity", &id) == SEG_OK && id == 6, "rb add: %s",
          seg_tagreg_last_error(w->rb));
    CHECK(strcmp(seg_tagreg_last_error(w->rb), "") == 0, "last error not cleared by a success");
    CHECK(seg_tagreg_freeze(w->rb) == SEG_OK, "rb freeze: %s", seg_tagreg_last_error(w->rb));
    CHECK(seg_tagreg_add(w->rmax, 7, "seven", NULL) == SEG_OK, "rmax add");
    CHECK(!seg_tagreg_is_frozen(w->rbad) && !seg_tagreg_is_frozen(w->rcyc), "rbad/rcyc frozen");
    OK(seg_tagreg_find(w->rf, "贵宾", &id));
    CHECK(id == 1 && strcmp(seg_tagreg_name(w->rf, 4), "high") == 0, "rf lookups");
    OK(seg_query_count(w->q, w->ts, &cnt, err, sizeof err));
    CHECK(cnt == Q_COUNT_WANT, "query count %lld", (long long)cnt);
    OK(seg_tagset_count(w->tsf, 4, &cnt));
    CHECK(cnt == 6, "tsf count of high %lld", (long long)cnt);
    OK(seg_tagset_set(w->ts, 3, 1, 1, err, sizeof err)); /* active on row 1 clears new */
    OK(seg_tagset_test(w->ts, 2, 1, &v));
    CHECK(v == 0, "exclusive group broken");
    OK(seg_tagset_count(w->ts, 1, &cnt));
    CHECK(cnt == 3, "ts count of vip %lld", (long long)cnt);
    double d = 0;
    OK(seg_profile_value(w->pf, 0, 0, SEG_STAT_COUNT, &d));
    CHECK(d == 4 && seg_profile_n_groups(w->pf) == 3, "profile values");
    int32_t lab[N];
    OK(seg_kmeans_predict(w->km, w->fr[FR_MAIN], lab, NULL, err, sizeof err));
    CHECK(memcmp(lab, w->km_labels, sizeof lab) == 0, "predict differs from the fit");
    CHECK(seg_kmeans_fit(w->kmu, w->fr[FR_MAIN], NULL) == SEG_OK, "kmu fit: %s",
          seg_kmeans_last_error(w->kmu));
}

/* ---- outputs ----------------------------------------------------------- */

typedef struct outs {
    seg_tagreg *reg;
    seg_tagset *set;
    seg_query *q;
    seg_profile *pf;
    seg_kmeans *km;
    int32_t i32[OUTN];
    int64_t i64[OUTN];
    double dbl[OUTN];
    uint8_t u8[OUTN];
    size_t sz[2];
    char buf[BUFN];
} outs;

static void outs_fill(outs *o)
{
    o->reg = CANARY_PTR;
    o->set = CANARY_PTR;
    o->q = CANARY_PTR;
    o->pf = CANARY_PTR;
    o->km = CANARY_PTR;
    for (int i = 0; i < OUTN; i++) {
        o->i32[i] = CANARY_I32;
        o->i64[i] = CANARY_I64;
        o->dbl[i] = CANARY_DBL;
        o->u8[i] = CANARY_U8;
    }
    o->sz[0] = o->sz[1] = CANARY_SIZE;
    memset(o->buf, CANARY_U8, BUFN);
}

static void outs_check(const outs *o)
{
    const void *p[] = {o->reg, o->set, o->q, o->pf, o->km};
    for (int i = 0; i < 5; i++)
        CHECK(p[i] == CANARY_PTR, "*out handle %d written on failure", i);
    for (int i = 0; i < OUTN; i++) {
        CHECK(o->i32[i] == CANARY_I32, "int32 output [%d] written: %d", i, (int)o->i32[i]);
        CHECK(o->i64[i] == CANARY_I64, "int64 output [%d] written: %lld", i,
              (long long)o->i64[i]);
        CHECK(o->dbl[i] == CANARY_DBL, "double output [%d] written: %g", i, o->dbl[i]);
        CHECK(o->u8[i] == CANARY_U8, "byte output [%d] written: %d", i, o->u8[i]);
    }
    CHECK(o->sz[0] == CANARY_SIZE && o->sz[1] == CANARY_SIZE, "size output written: %zu %zu",
          o->sz[0], o->sz[1]);
    for (int i = 0; i < BUFN; i++)
        CHECK(o->buf[i] == (char)CANARY_U8, "text output [%d] written", i);
}

/* An exact-size heap copy without a NUL, so ASan sees reads past `len`. */
static char *exact(const char *s, size_t len)
{
    char *t = malloc(len ? len : 1);
    memcpy(t, s, len);
    return t;
}

static const seg_allocator *alloc_of(world *w, int al)
{
    return al == A_SMALL ? &w->a_small
           : al == A_BIGTAIL ? &w->a_big.a
           : al == A_NOHOOK  ? &w->a_nohook
                             : &w->ta.base;
}

static seg_tagreg *reg_of(world *w, int h, seg_tagreg *def)
{
    seg_tagreg *r[] = {def, NULL, w->rb, w->rf, w->ro, w->rbad, w->rcyc, w->rmax};
    CHECK(h >= 0 && h < (int)(sizeof r / sizeof r[0]), "not a registry: %d", h);
    return r[h];
}

static seg_tagset *set_of(world *w, int h)
{
    return h == H_NULL ? NULL : h == H_TSF ? w->tsf : h == H_TSO ? w->tso : w->ts;
}

static seg_kmeans *km_of(world *w, int h)
{
    switch (h) {
    case H_NULL: return NULL;
    case H_KMU: return w->kmu;
    case H_KME: return w->kme;
    case H_KM1: return w->km1;
    case H_KMO: return w->kmo;
    case H_KMC: return w->kmc;
    case H_K256: return w->k256;
    default: return w->km;
    }
}

static int64_t str_ret(const char *s)
{
    return !s ? RET_NULL : !*s ? RET_EMPTY : RET_STR;
}

#define NUL(k) (c->nul & (k))
#define PTR(k, v) (NUL(k) ? NULL : (v))
#define ARR(k, type, def) (NUL(k) ? NULL : c->p ? (const type *)c->p : (def))

/* Names no registry or frame accepts, and names only tag registries refuse. */
#define BAD_UTF8_LIT(X)                                                                        \
    X("\xff") X("\xc3") X("ab\xe4\xb8") X("\xe4\xb8" "A") X("\xc0\xaf") X("\xed\xa0\x80")      \
    X("\xf4\x90\x80\x80") X("a\x01" "b") X("a\x7f") X("a\nb") X("")
#define BAD_UTF8(X) BAD_UTF8_LIT(X) X(long_name) X(long_cjk)
#define BAD_TAG_LIT(X) X("  \t ") X("\xe3\x80\x80") X("\xc2\xa0 ") X("a\xc2\x85")
#define BAD_TAGNAME(X) BAD_UTF8(X) BAD_TAG_LIT(X)

/* ==== tags.h ============================================================ */

static int64_t call_tags(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    seg_tagreg *rb = reg_of(w, c->h, w->rb), *rf = reg_of(w, c->h, w->rf);
    size_t len = c->s ? (c->n ? c->n : strlen(c->s)) : 0;
    switch (c->fn) {
    case F_TR_NEW: /* P1 out */
        return seg_tagreg_new(PTR(P1, &o->reg), alloc_of(w, c->al));
    case F_TR_LOAD: { /* P1 out, P2 text, P3 source (NULL allowed); .n = len when not strlen */
        char *t = exact(c->s, len);
        int32_t rc = seg_tagreg_load(PTR(P1, &o->reg), PTR(P2, t), len, PTR(P3, "t.txt"),
                                     alloc_of(w, c->al), err, cap);
        free(t);
        return rc;
    }
    case F_TR_SAVE: /* P1 buf, P2 out_len; cap .m */
        return seg_tagreg_save(rf, PTR(P1, o->buf), c->m, PTR(P2, &o->sz[0]));
    case F_TR_FREE:
        seg_tagreg_free(NULL);
        return SEG_OK;
    case F_TR_LAST_ERROR: return str_ret(seg_tagreg_last_error(NULL));
    case F_TR_ADD: /* P1 name */
        return seg_tagreg_add(rb, (int32_t)c->a, PTR(P1, c->s), o->i32);
    case F_TR_ADD_ALIAS: return seg_tagreg_add_alias(rb, (int32_t)c->a, PTR(P1, c->s));
    case F_TR_RENAME: return seg_tagreg_rename(rb, (int32_t)c->a, PTR(P1, c->s));
    case F_TR_REMOVE: return seg_tagreg_remove(rb, (int32_t)c->a);
    case F_TR_SET_TEXT: return seg_tagreg_set_text(rb, (int32_t)c->a, (int32_t)c->b, c->s);
    case F_TR_SET_CODE:
        return seg_tagreg_set_code(rb, (int32_t)c->a, (int32_t)c->b, (int32_t)c->m);
    case F_TR_FREEZE: return seg_tagreg_freeze(rb);
    case F_TR_IS_FROZEN: return seg_tagreg_is_frozen(NULL);
    case F_TR_COUNT: return (int64_t)seg_tagreg_count(NULL);
    case F_TR_ID_AT: return seg_tagreg_id_at(rf, c->m);
    case F_TR_FIND: /* P1 name, P2 out_id */
        return seg_tagreg_find(rf, PTR(P1, c->s), PTR(P2, o->i32));
    case F_TR_SUGGEST: /* P1 name, P2 out_ids, P3 out_n; cap .m */
        return seg_tagreg_suggest(rf, PTR(P1, c->s), PTR(P2, o->i32), c->m, PTR(P3, &o->sz[0]));
    case F_TR_LIST: /* P1 prefix, P2 out_ids, P3 out_n; cap .m */
        return seg_tagreg_list(rf, PTR(P1, c->s), PTR(P2, o->i32), c->m, PTR(P3, &o->sz[0]));
    case F_TR_NAME: return str_ret(seg_tagreg_name(rf, (int32_t)c->a));
    case F_TR_ALIAS_COUNT: return (int64_t)seg_tagreg_alias_count(rf, (int32_t)c->a);
    case F_TR_ALIAS: return str_ret(seg_tagreg_alias(rf, (int32_t)c->a, c->m));
    case F_TR_TEXT: return str_ret(seg_tagreg_text(rf, (int32_t)c->a, (int32_t)c->b));
    case F_TR_CODE: /* P1 out */
        return seg_tagreg_code(rf, (int32_t)c->a, (int32_t)c->b, PTR(P1, o->i32));
    case F_TAG_NORMALIZE: /* P1 name, P2 buf, P3 out_len; cap .m */
        return seg_tag_normalize(PTR(P1, c->s), PTR(P2, o->buf), c->m, PTR(P3, &o->sz[0]));
    }
    failf("no caller");
    return 0;
}

#define ADD_BAD(s_) R(TR_ADD, .a = 0, .s = s_, E(EINVAL, "name")),
#define ALIAS_BAD(s_) R(TR_ADD_ALIAS, .a = 2, .s = s_, E(EINVAL, "alias")),
#define RENAME_BAD(s_) R(TR_RENAME, .a = 2, .s = s_, E(EINVAL, "name")),
#define NORM_BAD(s_) R(TAG_NORMALIZE, .s = s_, .m = BUFN, W(EINVAL)),
#define LD(text, ...) R(TR_LOAD, .s = text, E(EPARSE, __VA_ARGS__)),
#define LOAD_BAD(s_) LD("tag 1 \"" s_ "\"\n", "t.txt:1:")
#define TXT(field, s_, code, word) R(TR_SET_TEXT, .a = 1, .b = field, .s = s_, E(code, word)),

static const bcase CASES_TAGS[] = {
    R(TR_NEW, .nul = P1, W(EINVAL)),
    R(TR_NEW, .al = A_SMALL, W(EVERSION)),
    R(TR_NEW, .al = A_BIGTAIL, W(EVERSION)),
    R(TR_NEW, .al = A_NOHOOK, .want = ANY_NEG),

    R(TR_LOAD, .s = RO_TEXT, .nul = P1, E(EINVAL, "out")),
    R(TR_LOAD, .s = RO_TEXT, .nul = P2, E(EINVAL, "text")),
    R(TR_LOAD, .s = RO_TEXT, .al = A_SMALL, E(EVERSION, "alloc")),
    R(TR_LOAD, .s = RO_TEXT, .al = A_BIGTAIL, E(EVERSION, "alloc")),
    R(TR_LOAD, .s = RO_TEXT, .al = A_NOHOOK, ANYNEG("alloc")),
    R(TR_LOAD, .s = "libsegment-tags 2\n", E(EVERSION, "t.txt:1:", "version")),
    LD("tag 1 \"a\"\ntag 1 \"b\"\n", "t.txt:2:", "#1", "'a'")
    LD("tag 1 \"a\"\ntag 2 \"b\"\n alias \"Ａ\"\n", "t.txt:3:", "'a'")
    LD("tag 1 \"a\"\ntag 2 \"A\"\n", "t.txt:2:", "'a'")
    LD("tag 1 \"a\"\n alias \"a \"\n", "t.txt:2:")
    LD("tag 1 \"a\"\n category \"x//y\"\n", "t.txt:2:", "category")
    LD("tag 1 \"a\"\n category \"1/2/3/4/5/6\"\n", "t.txt:2:", "category")
    LD("tag 1 \"a\"\n kind rule\n", "t.txt:2:", "when")
    LD("tag 1 \"a\"\n kind fact\n when x > 1\n", "t.txt:")
    LD("tag 1 \"a\"\n kind wizard\n", "t.txt:2:")
    LD("tag 1 \"a\"\n status gone\n", "t.txt:2:")
    LD("tag 1 \"a\"\n when b == 1\ntag 2 \"b\"\n when a == 1\n", "t.txt:", "cycle", "'a'")
    LD("tag 1 \"a\"\n when x >>= 1\n", "t.txt:2:")
    LD("tag 0 \"a\"\n", "t.txt:1:")
    LD("tag -1 \"a\"\n", "t.txt:1:")
    LD("tag 2147483648 \"a\"\n", "t.txt:1:")
    LD("tag 99999999999999999999 \"a\"\n", "t.txt:1:")
    LD("next_id 3\ntag 5 \"a\"\n", "next_id")
    LD("alias \"x\"\n", "t.txt:1:")
    LD("tag 1 \"a\"\n owner \"x\"\n owner \"y\"\n", "t.txt:3:")
    LD("tag 1 \"a\"\n colour red\n", "t.txt:2:")
    LD("tag 1 \"a\" extra\n", "t.txt:1:")
    LD("tag 1 \"a\n", "t.txt:1:")
    R(TR_LOAD, .s = "tag 1 \"vip\"\n", .n = 9, E(EPARSE, "t.txt:1:")),
    LD("tag 1 \"a\"\n desc \"x\ty\"\n", "t.txt:2:")
    R(TR_LOAD, .s = "tag 1 \"a\"\x00\n", .n = 11, E(EPARSE, "t.txt:1:")),
    R(TR_LOAD, .s = "tag 1 \"a\"\n", .nul = P3, .n = 5, E(EPARSE, "tags:1:")),
    BAD_UTF8_LIT(LOAD_BAD)
    BAD_TAG_LIT(LOAD_BAD)

    R(TR_SAVE, .h = H_NULL, .m = BUFN, W(EINVAL)),
    R(TR_SAVE, .nul = P2, .m = BUFN, W(EINVAL)),
    R(TR_SAVE, .nul = P1 | P2, W(EINVAL)),
    R(TR_SAVE, .fl = NEED | CAPNEED, W(EBUFSZ)),
    R(TR_SAVE, .h = H_RB, .fl = NEED | CAPNEED, W(EBUFSZ)),
    R(TR_SAVE, .fl = NEED, .m = 1, W(EBUFSZ)),
    R(TR_SAVE, .h = H_RO, .fl = NEED, .m = 1, W(EBUFSZ)),

    R(TR_FREE, W(OK)),
    R(TR_LAST_ERROR, .want = RET_EMPTY),

    R(TR_ADD, .h = H_NULL, .s = "x", W(EINVAL)),
    R(TR_ADD, .nul = P1, E(EINVAL, "name")),
    BAD_TAGNAME(ADD_BAD)
    R(TR_ADD, .a = -1, .s = "x", E(ERANGE, "id", "#-1")),
    R(TR_ADD, .a = INT32_MIN, .s = "x", E(ERANGE, "id")),
    R(TR_ADD, .h = H_RMAX, .a = 0, .s = "x", E(ERANGE, "id")),
    R(TR_ADD, .a = 1, .s = "x", E(EEXISTS, "#1", "vip")),
    R(TR_ADD, .a = 0, .s = "VIP", E(EEXISTS, "vip", "#1")),
    R(TR_ADD, .a = 0, .s = "ＶＩＰ", E(EEXISTS, "vip")),
    R(TR_ADD, .a = 0, .s = " vip\t", E(EEXISTS, "vip")),
    R(TR_ADD, .a = 9, .s = "贵宾", E(EEXISTS, "贵宾", "vip")),
    R(TR_ADD, .h = H_RF, .a = 0, .s = "fresh", E(ESTATE, "frozen")),

    R(TR_ADD_ALIAS, .h = H_NULL, .a = 1, .s = "x", W(EINVAL)),
    R(TR_ADD_ALIAS, .a = 1, .nul = P1, E(EINVAL, "alias")),
    BAD_TAGNAME(ALIAS_BAD)
    R(TR_ADD_ALIAS, .a = 99, .s = "x", E(ENOTFOUND, "#99")),
    R(TR_ADD_ALIAS, .a = 0, .s = "x", E(ENOTFOUND, "#0")),
    R(TR_ADD_ALIAS, .a = -5, .s = "x", E(ENOTFOUND, "#-5")),
    R(TR_ADD_ALIAS, .a = 1, .s = "New", E(EEXISTS, "new", "#2")),
    R(TR_ADD_ALIAS, .a = 1, .s = "vip", E(EEXISTS, "vip")),
    R(TR_ADD_ALIAS, .a = 1, .s = "贵宾", E(EEXISTS, "贵宾")),
    R(TR_ADD_ALIAS, .a = 2, .s = "贵宾", E(EEXISTS, "贵宾", "vip")),
    R(TR_ADD_ALIAS, .h = H_RF, .a = 1, .s = "fresh", E(ESTATE, "frozen")),

    R(TR_RENAME, .h = H_NULL, .a = 1, .s = "x", W(EINVAL)),
    R(TR_RENAME, .a = 1, .nul = P1, E(EINVAL, "name")),
    BAD_TAGNAME(RENAME_BAD)
    R(TR_RENAME, .a = 99, .s = "x", E(ENOTFOUND, "#99")),
    R(TR_RENAME, .a = 2, .s = "ACTIVE", E(EEXISTS, "active", "#3")),
    R(TR_RENAME, .a = 2, .s = "贵宾", E(EEXISTS, "贵宾", "vip")),
    R(TR_RENAME, .h = H_RF, .a = 1, .s = "fresh", E(ESTATE, "frozen")),

    R(TR_REMOVE, .h = H_NULL, .a = 1, W(EINVAL)),
    R(TR_REMOVE, .a = 99, E(ENOTFOUND, "#99")),
    R(TR_REMOVE, .a = 0, E(ENOTFOUND, "#0")),
    R(TR_REMOVE, .a = 1, E(ESTATE, "loyal")),
    R(TR_REMOVE, .h = H_RCYC, .a = 2, E(ESTATE, "'a'")),
    R(TR_REMOVE, .h = H_RF, .a = 2, E(ESTATE, "frozen")),

    R(TR_SET_TEXT, .h = H_NULL, .a = 1, .b = SEG_TAG_OWNER, .s = "x", W(EINVAL)),
    TXT(0, "x", EINVAL, "field")
    TXT(6, "x", EINVAL, "field")
    TXT(-1, "x", EINVAL, "field")
    TXT(INT32_MAX, "x", EINVAL, "field")
    TXT(SEG_TAG_CATEGORY, "a//b", EINVAL, "category")
    TXT(SEG_TAG_CATEGORY, "/a", EINVAL, "category")
    TXT(SEG_TAG_CATEGORY, "a/ /b", EINVAL, "category")
    TXT(SEG_TAG_CATEGORY, "1/2/3/4/5/6", EINVAL, "category")
    TXT(SEG_TAG_CATEGORY, "a\xff", EINVAL, "category")
    TXT(SEG_TAG_CATEGORY, long_text, ERANGE, "category")
    TXT(SEG_TAG_OWNER, long_text, ERANGE, "owner")
    TXT(SEG_TAG_OWNER, "a\nb", EINVAL, "owner")
    TXT(SEG_TAG_OWNER, "\xc0\xaf", EINVAL, "owner")
    TXT(SEG_TAG_DESCRIPTION, long_desc, ERANGE, "desc")
    TXT(SEG_TAG_DESCRIPTION, "a\x01", EINVAL, "desc")
    TXT(SEG_TAG_DESCRIPTION, "a\xed\xa0\x80", EINVAL, "desc")
    TXT(SEG_TAG_GROUP, long_name, ERANGE, "group")
    TXT(SEG_TAG_GROUP, "\xff", EINVAL, "group")
    TXT(SEG_TAG_GROUP, "\xe3\x80\x80", EINVAL, "group")
    TXT(SEG_TAG_RULE_TEXT, long_text, ERANGE, "rule")
    TXT(SEG_TAG_RULE_TEXT, "x >\n1", EINVAL, "rule")
    R(TR_SET_TEXT, .a = 99, .b = SEG_TAG_OWNER, .s = "x", E(ENOTFOUND, "#99")),
    R(TR_SET_TEXT, .h = H_RF, .a = 1, .b = SEG_TAG_OWNER, .s = "x", E(ESTATE, "frozen")),

    R(TR_SET_CODE, .h = H_NULL, .a = 1, .b = SEG_TAG_STATUS, .m = 0, W(EINVAL)),
    R(TR_SET_CODE, .a = 1, .b = 0, .m = 0, E(EINVAL, "field")),
    R(TR_SET_CODE, .a = 1, .b = 4, .m = 0, E(EINVAL, "field")),
    R(TR_SET_CODE, .a = 1, .b = SEG_TAG_KIND, .m = 3, E(EINVAL, "kind", "#3")),
    R(TR_SET_CODE, .a = 1, .b = SEG_TAG_KIND, .m = (size_t)-1, E(EINVAL, "value", "#-1")),
    R(TR_SET_CODE, .a = 1, .b = SEG_TAG_SOURCE, .m = 2, E(EINVAL, "source", "#2")),
    R(TR_SET_CODE, .a = 1, .b = SEG_TAG_STATUS, .m = 4, E(EINVAL, "status", "#4")),
    R(TR_SET_CODE, .a = 1, .b = SEG_TAG_STATUS, .m = (size_t)INT32_MIN,
       E(EINVAL, "value", "#-2147483648")),
    R(TR_SET_CODE, .a = 1, .b = SEG_TAG_KIND, .m = SEG_TAG_RULE, E(ESTATE, "rule")),
    R(TR_SET_CODE, .a = 4, .b = SEG_TAG_KIND, .m = SEG_TAG_FACT, E(ESTATE, "rule")),
    R(TR_SET_CODE, .a = 4, .b = SEG_TAG_KIND, .m = SEG_TAG_MODEL, E(ESTATE, "rule")),
    R(TR_SET_CODE, .a = 99, .b = SEG_TAG_STATUS, .m = 0, E(ENOTFOUND, "#99")),
    R(TR_SET_CODE, .h = H_RF, .a = 1, .b = SEG_TAG_STATUS, .m = 0, E(ESTATE, "frozen")),

    R(TR_FREEZE, .h = H_NULL, W(EINVAL)),
    R(TR_FREEZE, .h = H_RBAD, E(EPARSE, "'a'|tag 1")),
    R(TR_FREEZE, .h = H_RCYC, E(EPARSE, "cycle", "'a'", "'b'")),

    R(TR_IS_FROZEN, .want = 0),
    R(TR_COUNT, .want = 0),
    R(TR_ID_AT, .h = H_NULL, .m = 0, .want = 0),
    R(TR_ID_AT, .m = 9, .want = 0),
    R(TR_ID_AT, .m = SIZE_MAX, .want = 0),

    R(TR_FIND, .h = H_NULL, .s = "vip", W(EINVAL)),
    R(TR_FIND, .nul = P1, W(EINVAL)),
    R(TR_FIND, .s = "vip", .nul = P2, W(EINVAL)),
    R(TR_FIND, .s = "vipp", W(ENOTFOUND)),
    R(TR_FIND, .s = "\xff", .want = ANY_NEG),
    R(TR_FIND, .s = "", .want = ANY_NEG),
    R(TR_FIND, .s = long_name, .want = ANY_NEG),

    R(TR_SUGGEST, .h = H_NULL, .s = "vip", .m = 4, W(EINVAL)),
    R(TR_SUGGEST, .nul = P1, .m = 4, W(EINVAL)),
    R(TR_SUGGEST, .s = "vip", .nul = P2, .m = 4, W(EINVAL)),
    R(TR_SUGGEST, .s = "vip", .nul = P3, .m = 4, W(EINVAL)),

    R(TR_LIST, .h = H_NULL, .s = "", .m = 4, W(EINVAL)),
    R(TR_LIST, .nul = P1, .m = 4, W(EINVAL)),
    R(TR_LIST, .s = "", .nul = P2, .m = 4, W(EINVAL)),
    R(TR_LIST, .s = "", .nul = P3, .m = 4, W(EINVAL)),

    R(TR_NAME, .h = H_NULL, .a = 1, .want = RET_NULL),
    R(TR_NAME, .a = 99, .want = RET_NULL),
    R(TR_NAME, .a = 0, .want = RET_NULL),
    R(TR_NAME, .a = -1, .want = RET_NULL),
    R(TR_ALIAS_COUNT, .h = H_NULL, .a = 1, .want = 0),
    R(TR_ALIAS_COUNT, .a = 99, .want = 0),
    R(TR_ALIAS, .h = H_NULL, .a = 1, .want = RET_NULL),
    R(TR_ALIAS, .a = 1, .m = 2, .want = RET_NULL),
    R(TR_ALIAS, .a = 1, .m = SIZE_MAX, .want = RET_NULL),
    R(TR_ALIAS, .a = 99, .m = 0, .want = RET_NULL),
    R(TR_TEXT, .h = H_NULL, .a = 1, .b = SEG_TAG_CATEGORY, .want = RET_NULL),
    R(TR_TEXT, .a = 99, .b = SEG_TAG_CATEGORY, .want = RET_NULL),
    R(TR_TEXT, .a = 1, .b = 0, .want = RET_NULL),
    R(TR_TEXT, .a = 1, .b = 6, .want = RET_NULL),

    R(TR_CODE, .h = H_NULL, .a = 1, .b = SEG_TAG_KIND, W(EINVAL)),
    R(TR_CODE, .a = 1, .b = SEG_TAG_KIND, .nul = P1, W(EINVAL)),
    R(TR_CODE, .a = 1, .b = 0, W(EINVAL)),
    R(TR_CODE, .a = 1, .b = 4, W(EINVAL)),
    R(TR_CODE, .a = 99, .b = SEG_TAG_KIND, W(ENOTFOUND)),
    R(TR_CODE, .a = -1, .b = SEG_TAG_KIND, W(ENOTFOUND)),

    R(TAG_NORMALIZE, .nul = P1, .m = BUFN, W(EINVAL)),
    R(TAG_NORMALIZE, .s = "vip", .nul = P3, .m = BUFN, W(EINVAL)),
    R(TAG_NORMALIZE, .s = "ＶＩＰ", .fl = NEED | CAPNEED, W(EBUFSZ)),
    R(TAG_NORMALIZE, .s = "ＶＩＰ", .fl = NEED, .m = 1, W(EBUFSZ)),
    R(TAG_NORMALIZE, .s = "  Vip  ", .fl = NEED, .m = 0, W(EBUFSZ)),
    BAD_TAGNAME(NORM_BAD)
};

/* ==== tagset.h ========================================================== */

static int64_t call_tagset(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    seg_tagset *set = set_of(w, c->h);
    static const int32_t COOC[3] = {1, 2, 3}, TOL[3] = {7, 8, 0};
    switch (c->fn) {
    case F_TS_NEW: /* P1 out; .h: the registry */
        return seg_tagset_new(PTR(P1, &o->set), reg_of(w, c->h, w->rf), c->n, alloc_of(w, c->al));
    case F_TS_FREE:
        seg_tagset_free(NULL);
        return SEG_OK;
    case F_TS_N_ROWS: return (int64_t)seg_tagset_n_rows(NULL);
    case F_TS_REGISTRY: return seg_tagset_registry(NULL) ? RET_STR : RET_NULL;
    case F_TS_FREEZE: return seg_tagset_freeze(NULL);
    case F_TS_SET: /* tag .a, row .b, value .v */
        return seg_tagset_set(set, (int32_t)c->a, c->b, (int32_t)c->v, err, cap);
    case F_TS_TEST: /* P1 out */
        return seg_tagset_test(set, (int32_t)c->a, c->b, PTR(P1, o->i32));
    case F_TS_SET_ROWS: /* P1 rows */
        return seg_tagset_set_rows(set, (int32_t)c->a, ARR(P1, int64_t, TS_ROWS[0]), c->n,
                                   (int32_t)c->v, err, cap);
    case F_TS_SET_MASK: /* P1 mask */
        return seg_tagset_set_mask(set, (int32_t)c->a, ARR(P1, uint8_t, w->mask), c->n,
                                   (int32_t)c->v, err, cap);
    case F_TS_RESET: return seg_tagset_reset(set, (int32_t)c->a);
    case F_TS_GET_MASK: /* P1 out */
        return seg_tagset_get_mask(set, (int32_t)c->a, PTR(P1, o->u8), c->n);
    case F_TS_COUNT: /* P1 out */
        return seg_tagset_count(set, (int32_t)c->a, PTR(P1, o->i64));
    case F_TS_COOC: /* P1 tag_ids, P2 out; k .n */
        return seg_tagset_cooccurrence(set, ARR(P1, int32_t, COOC), c->n, PTR(P2, o->i64), err,
                                       cap);
    case F_TS_MEMORY: /* P1 out */
        return seg_tagset_memory(set, (int32_t)c->a, PTR(P1, &o->sz[0]));
    case F_TS_EVAL: /* P1 tag_ids (default NULL: all); .n n_ids */
        return seg_tagset_eval_rules(set, w->fr[c->fr], ARR(P1, int32_t, NULL), c->n, err, cap);
    case F_TS_SET_LABELS: /* P1 labels, P2 tag_of_label; .a n_labels */
        return seg_tagset_set_labels(set, ARR(P1, int32_t, LABELS), c->n,
                                     NUL(P2) ? NULL : c->q ? c->q : TOL, (int32_t)c->a, err, cap);
    }
    failf("no caller");
    return 0;
}

#define ROWS(...) .p = (const int64_t[]){__VA_ARGS__}, .n = COUNT(int64_t, __VA_ARGS__)
#define IDS32(...) .p = I32(__VA_ARGS__), .n = COUNT(int32_t, __VA_ARGS__)
#define LAB(row, bad) .p = (const int32_t[N]){[row] = bad}, .n = N

static const bcase CASES_TAGSET[] = {
    R(TS_NEW, .nul = P1, .n = N, W(EINVAL)),
    R(TS_NEW, .h = H_NULL, .n = N, W(EINVAL)),
    R(TS_NEW, .h = H_RB, .n = N, W(ESTATE)),
    R(TS_NEW, .h = H_RBAD, .n = N, W(ESTATE)),
    R(TS_NEW, .n = ((size_t)1 << 40) + 1, W(ERANGE)),
    R(TS_NEW, .n = SIZE_MAX, W(ERANGE)),
    R(TS_NEW, .n = N, .al = A_SMALL, W(EVERSION)),
    R(TS_NEW, .n = N, .al = A_BIGTAIL, W(EVERSION)),
    R(TS_NEW, .n = N, .al = A_NOHOOK, .want = ANY_NEG),
    R(TS_FREE, W(OK)),
    R(TS_N_ROWS, .want = 0),
    R(TS_REGISTRY, .want = RET_NULL),
    R(TS_FREEZE, W(EINVAL)),

    R(TS_SET, .h = H_NULL, .a = 1, .b = 0, .v = 1, E(EINVAL, "set")),
    R(TS_SET, .a = 1, .b = 0, .v = 2, E(EINVAL, "value", "#2")),
    R(TS_SET, .a = 1, .b = 0, .v = -1, E(EINVAL, "value", "#-1")),
    R(TS_SET, .a = 1, .b = 0, .v = INT32_MIN, E(EINVAL, "value")),
    R(TS_SET, .a = 99, .b = 0, .v = 1, E(ENOTFOUND, "#99")),
    R(TS_SET, .a = 0, .b = 0, .v = 1, E(ENOTFOUND, "#0")),
    R(TS_SET, .a = -1, .b = 0, .v = 1, E(ENOTFOUND, "#-1")),
    R(TS_SET, .h = H_TSO, .a = 5, .b = 0, .v = 1, E(ENOTFOUND, "#5")),
    R(TS_SET, .a = 1, .b = -1, .v = 1, E(ERANGE, "row", "#-1")),
    R(TS_SET, .a = 1, .b = N, .v = 1, E(ERANGE, "row", "#12")),
    R(TS_SET, .a = 1, .b = INT64_MAX, .v = 0, E(ERANGE, "row")),
    R(TS_SET, .a = 1, .b = INT64_MIN, .v = 0, E(ERANGE, "row")),
    R(TS_SET, .h = H_TSF, .a = 1, .b = 0, .v = 1, E(ESTATE, "frozen")),

    R(TS_TEST, .h = H_NULL, .a = 1, .b = 0, W(EINVAL)),
    R(TS_TEST, .a = 1, .b = 0, .nul = P1, W(EINVAL)),
    R(TS_TEST, .a = 99, .b = 0, W(ENOTFOUND)),
    R(TS_TEST, .a = 0, .b = 0, W(ENOTFOUND)),
    R(TS_TEST, .a = 1, .b = -1, W(ERANGE)),
    R(TS_TEST, .a = 1, .b = N, W(ERANGE)),
    R(TS_TEST, .a = 1, .b = INT64_MIN, W(ERANGE)),
    R(TS_TEST, .a = 1, .b = INT64_MAX, W(ERANGE)),

    R(TS_SET_ROWS, .h = H_NULL, .a = 1, ROWS(0), .v = 1, E(EINVAL, "set")),
    R(TS_SET_ROWS, .a = 1, .nul = P1, .n = 2, .v = 1, E(EINVAL, "rows")),
    R(TS_SET_ROWS, .a = 1, ROWS(0), .v = 2, E(EINVAL, "value", "#2")),
    R(TS_SET_ROWS, .a = 1, ROWS(0), .v = -1, E(EINVAL, "value")),
    R(TS_SET_ROWS, .a = 99, ROWS(0), .v = 1, E(ENOTFOUND, "#99")),
    R(TS_SET_ROWS, .a = 1, ROWS(0, 5, N), .v = 1, E(EDATA, "#2", "#12")),
    R(TS_SET_ROWS, .a = 1, ROWS(-1, 0), .v = 1, E(EDATA, "#0", "#-1")),
    R(TS_SET_ROWS, .a = 2, ROWS(1, 2, 3, INT64_MAX), .v = 0, E(EDATA, "#3")),
    R(TS_SET_ROWS, .a = 2, ROWS(6, INT64_MIN), .v = 1, E(EDATA, "#1")),
    R(TS_SET_ROWS, .h = H_TSF, .a = 1, ROWS(0), .v = 1, E(ESTATE, "frozen")),

    R(TS_SET_MASK, .h = H_NULL, .a = 1, .n = N, .v = 1, E(EINVAL, "set")),
    R(TS_SET_MASK, .a = 1, .nul = P1, .n = N, .v = 1, E(EINVAL, "mask")),
    R(TS_SET_MASK, .a = 1, .n = N - 1, .v = 1, E(EINVAL, "#11", "#12")),
    R(TS_SET_MASK, .a = 1, .n = N + 1, .v = 1, E(EINVAL, "#13", "#12")),
    R(TS_SET_MASK, .a = 1, .n = 0, .v = 1, E(EINVAL, "#0")),
    R(TS_SET_MASK, .a = 1, .n = SIZE_MAX, .v = 1, E(EINVAL, "#12")),
    R(TS_SET_MASK, .a = 1, .n = N, .v = 2, E(EINVAL, "value")),
    R(TS_SET_MASK, .a = 99, .n = N, .v = 1, E(ENOTFOUND, "#99")),
    R(TS_SET_MASK, .h = H_TSF, .a = 1, .n = N, .v = 0, E(ESTATE, "frozen")),

    R(TS_RESET, .h = H_NULL, .a = 1, W(EINVAL)),
    R(TS_RESET, .a = 99, W(ENOTFOUND)),
    R(TS_RESET, .a = 0, W(ENOTFOUND)),
    R(TS_RESET, .h = H_TSF, .a = 1, W(ESTATE)),

    R(TS_GET_MASK, .h = H_NULL, .a = 1, .n = N, W(EINVAL)),
    R(TS_GET_MASK, .a = 1, .nul = P1, .n = N, W(EINVAL)),
    R(TS_GET_MASK, .a = 1, .n = N - 1, W(EINVAL)),
    R(TS_GET_MASK, .a = 1, .n = N + 1, W(EINVAL)),
    R(TS_GET_MASK, .a = 1, .n = 0, W(EINVAL)),
    R(TS_GET_MASK, .a = 1, .n = SIZE_MAX, W(EINVAL)),
    R(TS_GET_MASK, .a = 99, .n = N, W(ENOTFOUND)),
    R(TS_GET_MASK, .h = H_TSO, .a = 4, .n = N, W(ENOTFOUND)),

    R(TS_COUNT, .h = H_NULL, .a = 1, W(EINVAL)),
    R(TS_COUNT, .a = 1, .nul = P1, W(EINVAL)),
    R(TS_COUNT, .a = 99, W(ENOTFOUND)),
    R(TS_COUNT, .a = 0, W(ENOTFOUND)),
    R(TS_COUNT, .a = INT32_MIN, W(ENOTFOUND)),

    R(TS_COOC, .h = H_NULL, .n = 3, E(EINVAL, "set")),
    R(TS_COOC, .nul = P1, .n = 3, E(EINVAL, "tag_ids")),
    R(TS_COOC, .nul = P2, .n = 3, E(EINVAL, "out")),
    R(TS_COOC, .n = 0, E(ERANGE, "k", "#0")),
    R(TS_COOC, .n = 1025, E(ERANGE, "k", "#1025")),
    R(TS_COOC, .n = SIZE_MAX, E(ERANGE, "k")),
    R(TS_COOC, .n = ((size_t)1 << 32) + 3, E(ERANGE, "k")),
    R(TS_COOC, IDS32(1, 99, 2), E(ENOTFOUND, "#99", "#1")),
    R(TS_COOC, IDS32(1, 2, 0), E(ENOTFOUND, "#0", "#2")),
    R(TS_COOC, .h = H_TSO, IDS32(1, 2, 3), E(ENOTFOUND, "#3", "#2")),

    R(TS_MEMORY, .h = H_NULL, .a = 1, W(EINVAL)),
    R(TS_MEMORY, .a = 0, .nul = P1, W(EINVAL)),
    R(TS_MEMORY, .a = 99, W(ENOTFOUND)),
    R(TS_MEMORY, .a = -1, W(ENOTFOUND)),

    R(TS_EVAL, .h = H_NULL, E(EINVAL, "set")),
    R(TS_EVAL, .fr = FR_NULL, E(EINVAL, "frame")),
    R(TS_EVAL, .nul = P1, .n = 2, E(EINVAL, "tag_ids")),
    R(TS_EVAL, .fr = FR_SHORT, E(EINVAL, "#11", "#12")),
    R(TS_EVAL, .fr = FR_FEW, IDS32(4), E(EINVAL, "#2", "#12")),
    R(TS_EVAL, IDS32(4, 99), E(ENOTFOUND, "#99")),
    R(TS_EVAL, IDS32(1), E(ESTATE, "vip")),
    R(TS_EVAL, IDS32(4, 7), E(ESTATE, "c0")),
    R(TS_EVAL, IDS32(9), E(ESTATE, "dead", "disabled")),
    R(TS_EVAL, .h = H_TSF, E(ESTATE, "frozen")),
    R(TS_EVAL, .fr = FR_NOCOL, E(EPARSE, "rf.txt:14:", "spend")),
    R(TS_EVAL, .fr = FR_NOCOL, IDS32(4), E(EPARSE, "rf.txt:14:", "spend")),
    R(TS_EVAL, .fr = FR_TEXT, IDS32(4), E(EPARSE, "rf.txt:14:")),
    R(TS_EVAL, .fr = FR_TAG, E(EPARSE, "rf.txt:16:", "vip")),

    R(TS_SET_LABELS, .h = H_NULL, .n = N, .a = 3, E(EINVAL, "set")),
    R(TS_SET_LABELS, .nul = P1, .n = N, .a = 3, E(EINVAL, "labels")),
    R(TS_SET_LABELS, .nul = P2, .n = N, .a = 3, E(EINVAL, "tag_of_label")),
    R(TS_SET_LABELS, .n = N - 1, .a = 3, E(EINVAL, "#11", "#12")),
    R(TS_SET_LABELS, .n = 0, .a = 3, E(EINVAL, "#0", "#12")),
    R(TS_SET_LABELS, .n = SIZE_MAX, .a = 3, E(EINVAL, "#12")),
    R(TS_SET_LABELS, .n = N, .a = 0, E(ERANGE, "n_labels", "#0")),
    R(TS_SET_LABELS, .n = N, .a = -1, E(ERANGE, "n_labels", "#-1")),
    R(TS_SET_LABELS, .n = N, .a = 65537, E(ERANGE, "n_labels", "#65537")),
    R(TS_SET_LABELS, .n = N, .a = INT32_MIN, E(ERANGE, "n_labels")),
    R(TS_SET_LABELS, .n = N, .a = 3, .q = I32(7, 99, 0), E(ENOTFOUND, "label", "#1", "#99")),
    R(TS_SET_LABELS, .n = N, .a = 3, .q = I32(7, 8, -3), E(ENOTFOUND, "label", "#2", "#-3")),
    R(TS_SET_LABELS, .h = H_TSO, .n = N, .a = 3, E(ENOTFOUND, "label", "#7")),
    R(TS_SET_LABELS, LAB(5, 3), .a = 3, E(EDATA, "@label:5", "#3")),
    R(TS_SET_LABELS, LAB(0, -2), .a = 3, E(EDATA, "@label:0", "#-2")),
    R(TS_SET_LABELS, LAB(11, INT32_MAX), .a = 3, E(EDATA, "@label:11")),
    R(TS_SET_LABELS, .h = H_TSF, .n = N, .a = 3, E(ESTATE, "frozen")),
};

/* ==== query.h =========================================================== */

static int64_t call_query(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    const seg_query *q = c->h == H_NULL ? NULL : w->q;
    const seg_tagset *set = set_of(w, c->h2);
    switch (c->fn) {
    case F_Q_COMPILE: { /* P1 out, P2 text, P3 source (NULL allowed); .h registry; .n len */
        size_t len = c->n ? c->n : strlen(c->s);
        char *t = exact(c->s, len);
        int32_t rc = seg_query_compile(PTR(P1, &o->q), PTR(P2, t), len, reg_of(w, c->h, w->rf),
                                       PTR(P3, "q.txt"), alloc_of(w, c->al), err, cap);
        free(t);
        return rc;
    }
    case F_Q_FREE:
        seg_query_free(NULL);
        return SEG_OK;
    case F_Q_COUNT: /* P1 out */
        return seg_query_count(q, set, PTR(P1, o->i64), err, cap);
    case F_Q_SELECT: /* P1 out_rows, P2 out_n; .b row_begin, .m limit */
        return seg_query_select(q, set, c->b, PTR(P1, o->i64), c->m, PTR(P2, &o->sz[0]), err, cap);
    case F_Q_MASK: /* P1 out */
        return seg_query_mask(q, set, PTR(P1, o->u8), c->n, err, cap);
    }
    failf("no caller");
    return 0;
}

#define QBAD(text, ...) R(Q_COMPILE, .s = text, E(EPARSE, __VA_ARGS__)),

static const bcase CASES_QUERY[] = {
    R(Q_COMPILE, .s = "vip", .nul = P1, E(EINVAL, "out")),
    R(Q_COMPILE, .s = "vip", .nul = P2, E(EINVAL, "text")),
    R(Q_COMPILE, .s = "vip", .h = H_NULL, E(EINVAL, "reg")),
    R(Q_COMPILE, .s = "vip", .h = H_RB, E(ESTATE, "frozen")),
    R(Q_COMPILE, .s = "vip", .al = A_SMALL, E(EVERSION, "alloc")),
    R(Q_COMPILE, .s = "vip", .al = A_BIGTAIL, E(EVERSION, "alloc")),
    R(Q_COMPILE, .s = "vip", .al = A_NOHOOK, ANYNEG("alloc")),
    R(Q_COMPILE, .s = "vip and", .nul = P3, E(EPARSE, "query:1:")),
    QBAD("vip and", "q.txt:1:")
    QBAD("vip and\n  (new or", "q.txt:2:")
    QBAD("(vip", "q.txt:1:")
    QBAD("vip)", "q.txt:1:4")
    QBAD("vip or or new", "q.txt:1:8")
    QBAD("and vip", "q.txt:1:1")
    QBAD("not", "q.txt:1:")
    QBAD("vip new", "q.txt:1:5")
    QBAD("", "q.txt:1:")
    QBAD("  # only a comment\n", "q.txt:")
    QBAD("vipp", "q.txt:1:1", "vipp", "vip")
    QBAD("vip and `贵 宾`", "q.txt:1:9", "贵 宾")
    QBAD("AND", "q.txt:1:1", "AND")
    QBAD("old", "q.txt:1:1", "old", "disabled")
    QBAD("vip or\n\"dead\"", "q.txt:2:1", "dead", "disabled")
    QBAD("`vip", "q.txt:1:1")
    QBAD("\"vip", "q.txt:1:1")
    QBAD("\"v\\ip\"", "q.txt:1:")
    QBAD("``", "q.txt:1:1")
    QBAD("1vip", "q.txt:1:1")
    QBAD("vip & new", "q.txt:1:5")
    QBAD("\xff", "q.txt:1:1")
    QBAD("vip and \xe4\xb8", "q.txt:1:9")
    QBAD("vip\x01", "q.txt:1:4")
    QBAD(deep_query, "q.txt:1:", "256")
    QBAD(deep_not, "q.txt:1:", "256")
    R(Q_COMPILE, .s = "vip\0", .n = 4, E(EPARSE, "q.txt:1:4")),
    R(Q_COMPILE, .s = "vip and new", .n = 7, E(EPARSE, "q.txt:1:")),
    R(Q_COMPILE, .s = "`vip`", .n = 4, E(EPARSE, "q.txt:1:1")),

    R(Q_FREE, W(OK)),

    R(Q_COUNT, .h = H_NULL, E(EINVAL, "query")),
    R(Q_COUNT, .h2 = H_NULL, E(EINVAL, "set")),
    R(Q_COUNT, .nul = P1, E(EINVAL, "out")),
    R(Q_COUNT, .h2 = H_TSO, E(EINVAL, "registry")),

    R(Q_SELECT, .h = H_NULL, .m = OUTN, E(EINVAL, "query")),
    R(Q_SELECT, .h2 = H_NULL, .m = OUTN, E(EINVAL, "set")),
    R(Q_SELECT, .nul = P1, .m = 5, E(EINVAL, "out_rows")),
    R(Q_SELECT, .nul = P2, .m = OUTN, E(EINVAL, "out_n")),
    R(Q_SELECT, .h2 = H_TSO, .m = OUTN, E(EINVAL, "registry")),
    R(Q_SELECT, .b = -1, .m = OUTN, E(ERANGE, "row_begin", "#-1")),
    R(Q_SELECT, .b = N + 1, .m = OUTN, E(ERANGE, "row_begin", "#13")),
    R(Q_SELECT, .b = INT64_MAX, .m = OUTN, E(ERANGE, "row_begin")),
    R(Q_SELECT, .b = INT64_MIN, .m = 0, E(ERANGE, "row_begin")),

    R(Q_MASK, .h = H_NULL, .n = N, E(EINVAL, "query")),
    R(Q_MASK, .h2 = H_NULL, .n = N, E(EINVAL, "set")),
    R(Q_MASK, .nul = P1, .n = N, E(EINVAL, "out")),
    R(Q_MASK, .n = N - 1, E(EINVAL, "#11", "#12")),
    R(Q_MASK, .n = N + 1, E(EINVAL, "#13", "#12")),
    R(Q_MASK, .n = 0, E(EINVAL, "#0", "#12")),
    R(Q_MASK, .n = SIZE_MAX, E(EINVAL, "#12")),
    R(Q_MASK, .h2 = H_TSO, .n = N, E(EINVAL, "registry")),
};

/* ==== profile.h ========================================================= */

static int64_t call_profile(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    const seg_profile *pf = c->h == H_NULL ? NULL : w->pf;
    switch (c->fn) {
    case F_PF_COMPUTE: /* P1 out, P2 labels, P3 columns; .n n_columns, .a flags */
        return seg_profile_compute(PTR(P1, &o->pf), w->fr[c->fr], ARR(P2, int32_t, LABELS), NULL,
                                   NUL(P3) ? NULL : c->q ? c->q : PF_COLS, c->n, (int32_t)c->a,
                                   alloc_of(w, c->al), err, cap);
    case F_PF_FREE:
        seg_profile_free(NULL);
        return SEG_OK;
    case F_PF_N_GROUPS: return (int64_t)seg_profile_n_groups(NULL);
    case F_PF_N_COLUMNS: return (int64_t)seg_profile_n_columns(NULL);
    case F_PF_GROUP: /* .m group */
        return seg_profile_group(pf, c->m, &o->i32[0], &o->i32[1], &o->i64[0], &o->dbl[0]);
    case F_PF_VALUE: /* .m group, .n column, .a stat; P1 out */
        return seg_profile_value(pf, c->m, c->n, (int32_t)c->a, PTR(P1, o->dbl));
    case F_PF_TOTAL: /* .n column, .a stat; P1 out */
        return seg_profile_total(pf, c->n, (int32_t)c->a, PTR(P1, o->dbl));
    }
    failf("no caller");
    return 0;
}

#define COLS(...) .q = (const char *const[]){__VA_ARGS__}, .n = COUNT(char *const, __VA_ARGS__)

static const bcase CASES_PROFILE[] = {
    R(PF_COMPUTE, .n = 2, .nul = P1, E(EINVAL, "out")),
    R(PF_COMPUTE, .n = 2, .fr = FR_NULL, E(EINVAL, "frame")),
    R(PF_COMPUTE, .n = 2, .nul = P2, E(EINVAL, "labels")),
    R(PF_COMPUTE, .n = 2, .nul = P3, E(EINVAL, "columns")),
    R(PF_COMPUTE, COLS("spend", "orders", "spend"), E(EINVAL, "spend", "twice|duplicate")),
    R(PF_COMPUTE, COLS("orders", "city"), E(EINVAL, "city")),
    R(PF_COMPUTE, COLS("spend", "nope"), E(ENOTFOUND, "nope")),
    R(PF_COMPUTE, COLS("Spend"), E(ENOTFOUND, "Spend")),
    R(PF_COMPUTE, COLS("spend", NULL), ANYNEG("#1|column")),
    R(PF_COMPUTE, COLS("\xff"), ANYNEG("column")),
    R(PF_COMPUTE, COLS(""), ANYNEG("column")),
    R(PF_COMPUTE, .q = cols1025, .n = 1025, E(ERANGE, "#1025", "#1024")),
    R(PF_COMPUTE, .q = cols1025, .n = SIZE_MAX, E(ERANGE, "#1024")),
    R(PF_COMPUTE, .n = 2, .a = 2, E(EINVAL, "flag")),
    R(PF_COMPUTE, .n = 2, .a = -1, E(EINVAL, "flag")),
    R(PF_COMPUTE, .n = 2, .al = A_SMALL, E(EVERSION, "alloc")),
    R(PF_COMPUTE, .n = 2, .al = A_BIGTAIL, E(EVERSION, "alloc")),
    R(PF_COMPUTE, .n = 2, .al = A_NOHOOK, ANYNEG("alloc")),
    R(PF_FREE, W(OK)),
    R(PF_N_GROUPS, .want = 0),
    R(PF_N_COLUMNS, .want = 0),
    R(PF_GROUP, .h = H_NULL, W(EINVAL)),
    R(PF_GROUP, .m = 3, W(ERANGE)),
    R(PF_GROUP, .m = SIZE_MAX, W(ERANGE)),
    R(PF_VALUE, .h = H_NULL, .a = SEG_STAT_SUM, W(EINVAL)),
    R(PF_VALUE, .a = SEG_STAT_SUM, .nul = P1, W(EINVAL)),
    R(PF_VALUE, .a = -1, W(EINVAL)),
    R(PF_VALUE, .a = SEG_STAT_MEDIAN + 1, W(EINVAL)),
    R(PF_VALUE, .m = 3, .a = SEG_STAT_SUM, W(ERANGE)),
    R(PF_VALUE, .n = 2, .a = SEG_STAT_SUM, W(ERANGE)),
    R(PF_VALUE, .m = SIZE_MAX, .n = SIZE_MAX, .a = SEG_STAT_MEAN, W(ERANGE)),
    R(PF_TOTAL, .h = H_NULL, .a = SEG_STAT_SUM, W(EINVAL)),
    R(PF_TOTAL, .a = SEG_STAT_SUM, .nul = P1, W(EINVAL)),
    R(PF_TOTAL, .a = INT32_MIN, W(EINVAL)),
    R(PF_TOTAL, .a = SEG_STAT_MEDIAN + 1, W(EINVAL)),
    R(PF_TOTAL, .n = 2, .a = SEG_STAT_SUM, W(ERANGE)),
    R(PF_TOTAL, .n = SIZE_MAX, .a = SEG_STAT_COUNT, W(ERANGE)),
};

/* ==== kmeans.h ========================================================== */

static int64_t call_kmeans(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    seg_kmeans *km = km_of(w, c->h);
    const seg_frame *fr = w->fr[c->fr];
    switch (c->fn) {
    case F_KM_NEW: /* P1 out */
        return seg_kmeans_new(PTR(P1, &o->km), alloc_of(w, c->al));
    case F_KM_FREE:
        seg_kmeans_free(NULL);
        return SEG_OK;
    case F_KM_ADD_FEATURE: /* P1 column; .a transform */
        return seg_kmeans_add_feature(km, PTR(P1, c->s), (int32_t)c->a);
    case F_KM_SET_PARAM: return seg_kmeans_set_param(km, (int32_t)c->a, c->x);
    case F_KM_GET_PARAM: /* P1 out */
        return seg_kmeans_get_param(km, (int32_t)c->a, PTR(P1, o->dbl));
    case F_KM_SET_PROGRESS: return seg_kmeans_set_progress(NULL, cancel_fit, w);
    case F_KM_FIT: return seg_kmeans_fit(km, fr, o->i32);
    case F_KM_IS_FITTED: return seg_kmeans_is_fitted(NULL);
    case F_KM_LAST_ERROR: return str_ret(seg_kmeans_last_error(NULL));
    case F_KM_PREDICT: /* P1 out_labels */
        return seg_kmeans_predict(km, fr, PTR(P1, o->i32), o->dbl, err, cap);
    case F_KM_CENTROIDS: /* P1 out; .m cap */
        return seg_kmeans_centroids(km, PTR(P1, o->dbl), c->m);
    case F_KM_RESULT: return seg_kmeans_result(km, &o->dbl[0], &o->i32[0], o->i64);
    case F_KM_CURVE: /* .a k_min, .b k_max; P1 out */
        return seg_kmeans_inertia_curve(km, fr, (int32_t)c->a, (int32_t)c->b, PTR(P1, o->dbl),
                                        err, cap);
    case F_KM_SILHOUETTE: /* .n sample; P1 out */
        return seg_kmeans_silhouette(km, fr, c->n, 7, PTR(P1, o->dbl), err, cap);
    case F_KM_SAVE: /* P1 buf, P2 out_len; .m cap */
        return seg_kmeans_save(km, PTR(P1, o->buf), c->m, PTR(P2, &o->sz[0]));
    case F_KM_LOAD: { /* P1 out, P2 text (default: the saved km), P3 source; .n len */
        const char *src = c->s ? c->s : w->km_text;
        size_t len = c->n ? c->n : c->s ? strlen(c->s) : w->km_len;
        char *t = exact(src, len);
        int32_t rc = seg_kmeans_load(PTR(P1, &o->km), PTR(P2, t), len, PTR(P3, "k.txt"),
                                     alloc_of(w, c->al), err, cap);
        free(t);
        return rc;
    }
    }
    failf("no caller");
    return 0;
}

#define FEAT_BAD(s_) R(KM_ADD_FEATURE, .s = s_, .a = SEG_XF_NONE, E(EINVAL, "column|name")),
/* The message names the parameter as "<name>:" and its range. */
#define PAR(param, value, word)                                                                \
    R(KM_SET_PARAM, .a = param, .x = value, .want = SEG_ERANGE, .msg = {word ":"}),

static const bcase CASES_KMEANS[] = {
    R(KM_NEW, .nul = P1, W(EINVAL)),
    R(KM_NEW, .al = A_SMALL, W(EVERSION)),
    R(KM_NEW, .al = A_BIGTAIL, W(EVERSION)),
    R(KM_NEW, .al = A_NOHOOK, .want = ANY_NEG),
    R(KM_FREE, W(OK)),

    R(KM_ADD_FEATURE, .h = H_NULL, .s = "x", W(EINVAL)),
    R(KM_ADD_FEATURE, .nul = P1, E(EINVAL, "column")),
    BAD_UTF8(FEAT_BAD)
    R(KM_ADD_FEATURE, .s = "x", .a = -1, E(EINVAL, "transform", "#-1")),
    R(KM_ADD_FEATURE, .s = "x", .a = SEG_XF_ROBUST + 1, E(EINVAL, "transform", "#5")),
    R(KM_ADD_FEATURE, .s = "spend", .a = SEG_XF_NONE, E(EEXISTS, "spend")),
    R(KM_ADD_FEATURE, .h = H_KMU, .s = "orders", .a = SEG_XF_ROBUST, E(EEXISTS, "orders")),
    R(KM_ADD_FEATURE, .h = H_K256, .s = "f256", E(ERANGE, "#256")),

    R(KM_SET_PARAM, .h = H_NULL, .a = SEG_KM_K, .x = 3, W(EINVAL)),
    R(KM_SET_PARAM, .a = 0, .x = 3, E(EINVAL, "param", "#0")),
    R(KM_SET_PARAM, .a = SEG_KM_ORDER_ASC + 1, .x = 0, E(EINVAL, "param", "#10")),
    R(KM_SET_PARAM, .a = -1, .x = 0, E(EINVAL, "param", "#-1")),
    PAR(SEG_KM_K, 0, "k") PAR(SEG_KM_K, 1025, "k") PAR(SEG_KM_K, 2.5, "k")
    PAR(SEG_KM_K, NAN, "k") PAR(SEG_KM_K, INFINITY, "k") PAR(SEG_KM_K, -INFINITY, "k")
    PAR(SEG_KM_K, -1, "k") PAR(SEG_KM_K, 4294967298.0, "k")
    PAR(SEG_KM_N_INIT, 0, "n_init") PAR(SEG_KM_N_INIT, 1001, "n_init")
    PAR(SEG_KM_N_INIT, NAN, "n_init")
    PAR(SEG_KM_MAX_ITER, 0, "max_iter") PAR(SEG_KM_MAX_ITER, 100001, "max_iter")
    PAR(SEG_KM_MAX_ITER, 1e300, "max_iter")
    PAR(SEG_KM_TOL, -1, "tol") PAR(SEG_KM_TOL, -1e-300, "tol") PAR(SEG_KM_TOL, NAN, "tol")
    PAR(SEG_KM_TOL, -INFINITY, "tol")
    PAR(SEG_KM_SEED, -1, "seed") PAR(SEG_KM_SEED, 0.5, "seed")
    PAR(SEG_KM_SEED, 9007199254740994.0, "seed")
    PAR(SEG_KM_SEED, NAN, "seed") PAR(SEG_KM_SEED, INFINITY, "seed")
    PAR(SEG_KM_THREADS, 0, "threads") PAR(SEG_KM_THREADS, 257, "threads")
    PAR(SEG_KM_THREADS, 1.5, "threads")
    PAR(SEG_KM_ALGORITHM, 2, "algorithm") PAR(SEG_KM_ALGORITHM, -1, "algorithm")
    PAR(SEG_KM_ALGORITHM, 0.5, "algorithm")
    PAR(SEG_KM_ORDER_BY, -2, "order_by") PAR(SEG_KM_ORDER_BY, 256, "order_by")
    PAR(SEG_KM_ORDER_BY, 0.5, "order_by")
    PAR(SEG_KM_ORDER_BY, NAN, "order_by")
    PAR(SEG_KM_ORDER_ASC, 2, "order_asc") PAR(SEG_KM_ORDER_ASC, -1, "order_asc")
    PAR(SEG_KM_ORDER_ASC, NAN, "order_asc")

    R(KM_GET_PARAM, .h = H_NULL, .a = SEG_KM_K, W(EINVAL)),
    R(KM_GET_PARAM, .a = SEG_KM_K, .nul = P1, W(EINVAL)),
    R(KM_GET_PARAM, .a = 0, W(EINVAL)),
    R(KM_GET_PARAM, .a = SEG_KM_ORDER_ASC + 1, W(EINVAL)),
    R(KM_GET_PARAM, .a = INT32_MIN, W(EINVAL)),
    R(KM_SET_PROGRESS, .h = H_NULL, W(EINVAL)),

    R(KM_FIT, .h = H_NULL, W(EINVAL)),
    R(KM_FIT, .fr = FR_NULL, E(EINVAL, "frame")),
    R(KM_FIT, .h = H_KME, E(EINVAL, "feature")),
    R(KM_FIT, .fr = FR_NOCOL, E(ENOTFOUND, "spend")),
    R(KM_FIT, .h = H_KMU, .fr = FR_TEXT, E(ENOTFOUND, "spend")),
    R(KM_FIT, .fr = FR_INF, E(EDATA, "@spend:4")),
    R(KM_FIT, .h = H_KMU, .fr = FR_NEG, E(EDATA, "@spend:3")),
    R(KM_FIT, .h = H_KMU, .fr = FR_FEW, E(EDATA, "#1", "#2")),
    R(KM_FIT, .h = H_KM1, .fr = FR_HUGE, E(EDATA, "spend")),
    R(KM_FIT, .h = H_KMO, E(ERANGE, "order_by", "#5")),
    R(KM_FIT, .h = H_KMC, E(ECANCELED, "cancel")),

    R(KM_IS_FITTED, .want = 0),
    R(KM_LAST_ERROR, .want = RET_EMPTY),

    R(KM_PREDICT, .h = H_NULL, E(EINVAL, "km|model")),
    R(KM_PREDICT, .fr = FR_NULL, E(EINVAL, "frame")),
    R(KM_PREDICT, .nul = P1, E(EINVAL, "out_labels")),
    R(KM_PREDICT, .h = H_KMU, E(ESTATE, "fitted")),
    R(KM_PREDICT, .h = H_KME, E(ESTATE, "fitted")),
    R(KM_PREDICT, .fr = FR_NOCOL, E(ENOTFOUND, "spend")),
    R(KM_PREDICT, .fr = FR_TEXT, E(ENOTFOUND, "spend")),
    R(KM_PREDICT, .fr = FR_INF, E(EDATA, "@spend:4")),
    R(KM_PREDICT, .fr = FR_NEG, E(EDATA, "@spend:3")),

    R(KM_CENTROIDS, .h = H_NULL, .m = OUTN, W(EINVAL)),
    R(KM_CENTROIDS, .nul = P1, .m = OUTN, W(EINVAL)),
    R(KM_CENTROIDS, .h = H_KMU, .m = OUTN, W(ESTATE)),
    R(KM_CENTROIDS, .m = 3, W(EBUFSZ)),
    R(KM_CENTROIDS, .m = 0, W(EBUFSZ)),
    R(KM_RESULT, .h = H_NULL, W(EINVAL)),
    R(KM_RESULT, .h = H_KMU, W(ESTATE)),
    R(KM_RESULT, .h = H_KME, W(ESTATE)),

    R(KM_CURVE, .h = H_NULL, .a = 1, .b = 3, E(EINVAL, "km|model")),
    R(KM_CURVE, .fr = FR_NULL, .a = 1, .b = 3, E(EINVAL, "frame")),
    R(KM_CURVE, .nul = P1, .a = 1, .b = 3, E(EINVAL, "out_inertia")),
    R(KM_CURVE, .a = 0, .b = 3, E(ERANGE, "k_min|k range", "#0")),
    R(KM_CURVE, .a = -1, .b = 3, E(ERANGE, "k_min|k range", "#-1")),
    R(KM_CURVE, .a = 3, .b = 2, E(ERANGE, "k_max|k range", "#2")),
    R(KM_CURVE, .a = 1, .b = 1025, E(ERANGE, "k_max|k range", "#1025")),
    R(KM_CURVE, .a = INT32_MIN, .b = INT32_MAX, E(ERANGE, "k_min|k range")),
    R(KM_CURVE, .h = H_KME, .a = 1, .b = 3, E(EINVAL, "feature")),
    R(KM_CURVE, .fr = FR_NOCOL, .a = 1, .b = 3, E(ENOTFOUND, "spend")),
    R(KM_CURVE, .fr = FR_INF, .a = 1, .b = 3, E(EDATA, "@spend:4")),
    R(KM_CURVE, .h = H_KMU, .fr = FR_FEW, .a = 1, .b = 2, E(EDATA, "#2")),
    R(KM_CURVE, .h = H_KMO, .a = 1, .b = 3, E(ERANGE, "order_by")),

    R(KM_SILHOUETTE, .h = H_NULL, .n = 100, E(EINVAL, "km|model")),
    R(KM_SILHOUETTE, .fr = FR_NULL, .n = 100, E(EINVAL, "frame")),
    R(KM_SILHOUETTE, .nul = P1, .n = 100, E(EINVAL, "out")),
    R(KM_SILHOUETTE, .h = H_KMU, .n = 100, E(ESTATE, "fitted")),
    R(KM_SILHOUETTE, .h = H_KM1, .n = 100, E(ESTATE, "k")),
    R(KM_SILHOUETTE, .n = 0, E(ERANGE, "sample", "#0")),
    R(KM_SILHOUETTE, .n = 1, E(ERANGE, "sample", "#1")),
    R(KM_SILHOUETTE, .n = 100001, E(ERANGE, "sample", "#100001")),
    R(KM_SILHOUETTE, .n = SIZE_MAX, E(ERANGE, "sample")),
    R(KM_SILHOUETTE, .fr = FR_NOCOL, .n = 100, E(ENOTFOUND, "spend")),
    R(KM_SILHOUETTE, .fr = FR_INF, .n = 100, E(EDATA, "@spend:4")),
    R(KM_SILHOUETTE, .fr = FR_NEG, .n = 100, E(EDATA, "@spend:3")),
    R(KM_SILHOUETTE, .fr = FR_FEW, .n = 100, E(EDATA, "#2|two")),

    R(KM_SAVE, .h = H_NULL, .m = BUFN, W(EINVAL)),
    R(KM_SAVE, .nul = P2, .m = BUFN, W(EINVAL)),
    R(KM_SAVE, .h = H_KMU, .m = BUFN, W(ESTATE)),
    R(KM_SAVE, .h = H_KME, .nul = P1, W(ESTATE)),
    R(KM_SAVE, .fl = NEED | CAPNEED, W(EBUFSZ)),
    R(KM_SAVE, .fl = NEED, .m = 1, W(EBUFSZ)),
    R(KM_SAVE, .h = H_KM1, .fl = NEED, .m = 0, W(EBUFSZ)),

    R(KM_LOAD, .nul = P1, E(EINVAL, "out")),
    R(KM_LOAD, .nul = P2, E(EINVAL, "text")),
    R(KM_LOAD, .al = A_SMALL, E(EVERSION, "alloc")),
    R(KM_LOAD, .al = A_BIGTAIL, E(EVERSION, "alloc")),
    R(KM_LOAD, .al = A_NOHOOK, ANYNEG("alloc")),
    R(KM_LOAD, .s = "", E(EPARSE, "k.txt:1:")),
    R(KM_LOAD, .s = "hello\n", E(EPARSE, "k.txt:1:")),
    R(KM_LOAD, .s = "hello\n", .nul = P3, E(EPARSE, "kmeans:1:")),
    R(KM_LOAD, .s = "\xff\xfe", E(EPARSE, "k.txt:1:")),
    R(KM_LOAD, .s = "libsegment-kmeans 2\n", E(EVERSION, "k.txt:1:", "version")),
    R(KM_LOAD, .s = "libsegment-kmeans 1\nk 0\n", E(EPARSE, "k.txt:2:")),
    R(KM_LOAD, .s = "libsegment-kmeans 1\nk 1025\n", E(EPARSE, "k.txt:2:")),
    R(KM_LOAD, .n = 30, E(EPARSE, "k.txt:")),
    R(KM_LOAD, .n = 1, E(EPARSE, "k.txt:1:")),
};

/* ==== experiment.h ====================================================== */

static int64_t call_experiment(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    (void)w;
    switch (c->fn) {
    case F_AB_HASH: /* NULL salt and id with length 0 are the empty strings */
        return seg_ab_hash(NULL, 0, NULL, 0) == UINT64_C(0x25fc6dd36ce04b20) &&
               seg_ab_hash(NULL, 0, "c1", 2) == seg_ab_hash("", 0, "c1", 2) &&
               seg_ab_hash("s", 1, NULL, 0) == seg_ab_hash("s", 1, "", 0);
    case F_AB_ASSIGN: /* P1 ids, P2 salt, P3 weights, P4 out_arm; .n n, .a n_arms, .x holdout */
        return seg_ab_assign(ARR(P1, char *const, IDS), c->n, PTR(P2, c->s),
                             NUL(P3) ? NULL : c->q ? c->q : W2, (int32_t)c->a, c->x,
                             PTR(P4, o->i32), err, cap);
    case F_AB_STRAT: /* P1 ids, P2 strata, P3 salt, P4 weights, P5 out_arm */
        return seg_ab_assign_stratified(ARR(P1, char *const, IDS), PTR(P2, LABELS), c->n,
                                        PTR(P3, c->s), NUL(P4) ? NULL : c->q ? c->q : W2,
                                        (int32_t)c->a, c->x, alloc_of(w, c->al), PTR(P5, o->i32),
                                        err, cap);
    case F_AB_PROP: /* n_a .a, conv_a .b, n_b .v, conv_b .d, confidence .x; P1 out */
        return seg_ab_proportions(c->a, c->b, c->v, c->d, c->x, PTR(P1, o->dbl), err, cap);
    case F_AB_MEANS: /* P1 a, P2 b, P3 out; .n n_a, .m n_b, .x confidence */
        return seg_ab_means(ARR(P1, double, MEANS_A), c->n, NUL(P2) ? NULL : c->q ? c->q : MEANS_B,
                            c->m, c->x, PTR(P3, o->dbl), err, cap);
    case F_AB_SAMPLE: /* base .x, mde .y, alpha .z, power .u; P1 out_n */
        return seg_ab_sample_size(c->x, c->y, c->z, c->u, PTR(P1, o->i64));
    case F_AB_MDE: /* base .x, n .a, alpha .z, power .u; P1 out_mde */
        return seg_ab_mde(c->x, c->a, c->z, c->u, PTR(P1, o->dbl));
    }
    failf("no caller");
    return 0;
}

#define AS(...) R(AB_ASSIGN, .n = 3, .s = "exp", __VA_ARGS__)
#define ST(...) R(AB_STRAT, .n = 3, .s = "exp", __VA_ARGS__)
#define ARMS(err_, ...) AS(__VA_ARGS__, E(ERANGE, err_)), ST(__VA_ARGS__, E(ERANGE, err_)),
#define WEIGHTS(...) .q = DBL(__VA_ARGS__), .a = COUNT(double, __VA_ARGS__)
#define PROP(na, ca, nb, cb, conf, word)                                                       \
    R(AB_PROP, .a = na, .b = ca, .v = nb, .d = cb, .x = conf, E(ERANGE, word)),
#define SAMPLE(b_, m_, a_, p_) R(AB_SAMPLE, .x = b_, .y = m_, .z = a_, .u = p_, W(ERANGE)),
#define MDE(b_, n_, a_, p_) R(AB_MDE, .x = b_, .a = n_, .z = a_, .u = p_, W(ERANGE)),
#define NULL_IDS (const char *const[]){"c1", NULL, "c3"}

static const bcase CASES_EXPERIMENT[] = {
    R(AB_HASH, .want = 1),

    AS(.a = 2, .nul = P1, E(EINVAL, "ids")),
    AS(.a = 2, .nul = P2, E(EINVAL, "salt")),
    AS(.a = 2, .nul = P3, E(EINVAL, "weights")),
    AS(.a = 2, .nul = P4, E(EINVAL, "out_arm")),
    R(AB_ASSIGN, .n = 3, .s = "", .a = 2, E(EINVAL, "salt")),
    AS(.a = 2, .p = NULL_IDS, E(EINVAL, "#1")),
    ST(.a = 2, .nul = P1, E(EINVAL, "ids")),
    ST(.a = 2, .nul = P2, E(EINVAL, "strata")),
    ST(.a = 2, .nul = P3, E(EINVAL, "salt")),
    ST(.a = 2, .nul = P4, E(EINVAL, "weights")),
    ST(.a = 2, .nul = P5, E(EINVAL, "out_arm")),
    R(AB_STRAT, .n = 3, .s = "", .a = 2, E(EINVAL, "salt")),
    ST(.a = 2, .p = NULL_IDS, E(EINVAL, "#1")),
    ST(.a = 2, .al = A_SMALL, E(EVERSION, "alloc")),
    ST(.a = 2, .al = A_BIGTAIL, E(EVERSION, "alloc")),
    ST(.a = 2, .al = A_NOHOOK, ANYNEG("alloc")),
    ARMS("n_arms", .a = 0)
    ARMS("n_arms", .a = -1)
    ARMS("n_arms", .a = 65, .q = w65)
    ARMS("n_arms", .a = INT32_MAX, .q = w65)
    ARMS("weight", WEIGHTS(1, -1))
    ARMS("weight", WEIGHTS(0, 0))
    ARMS("weight", WEIGHTS(NAN, 1))
    ARMS("weight", WEIGHTS(1, INFINITY))
    ARMS("weight", WEIGHTS(1, -0.0, -1e-300))
    ARMS("weight", WEIGHTS(1e308, 1e308))
    ARMS("holdout", .a = 2, .x = -0.1)
    ARMS("holdout", .a = 2, .x = 1)
    ARMS("holdout", .a = 2, .x = NAN)
    ARMS("holdout", .a = 2, .x = INFINITY)

    R(AB_PROP, .a = 100, .b = 10, .v = 100, .d = 12, .x = 0.95, .nul = P1, E(EINVAL, "out")),
    PROP(0, 0, 100, 12, 0.95, "n_a")
    PROP(-1, 0, 100, 12, 0.95, "n_a")
    PROP(INT64_MIN, 0, 100, 12, 0.95, "n_a")
    PROP(100, -1, 100, 12, 0.95, "conv_a")
    PROP(100, 101, 100, 12, 0.95, "conv_a")
    PROP(100, 10, 0, 0, 0.95, "n_b")
    PROP(100, 10, 100, 101, 0.95, "conv_b")
    PROP(100, 10, 100, INT64_MIN, 0.95, "conv_b")
    PROP(100, 10, 100, 12, 0, "confidence")
    PROP(100, 10, 100, 12, 1, "confidence")
    PROP(100, 10, 100, 12, -0.5, "confidence")
    PROP(100, 10, 100, 12, NAN, "confidence")
    PROP(100, 10, 100, 12, INFINITY, "confidence")

    R(AB_MEANS, .n = 4, .m = 4, .x = 0.95, .nul = P1, E(EINVAL, "a")),
    R(AB_MEANS, .n = 4, .m = 4, .x = 0.95, .nul = P2, E(EINVAL, "b")),
    R(AB_MEANS, .n = 4, .m = 4, .x = 0.95, .nul = P3, E(EINVAL, "out")),
    R(AB_MEANS, .n = 0, .m = 4, .x = 0.95, .nul = P1, E(EINVAL, "a")),
    R(AB_MEANS, .n = 4, .m = 0, .x = 0.95, .nul = P2, E(EINVAL, "b")),
    R(AB_MEANS, .n = 0, .m = 4, .x = 0.95, E(ERANGE, "a", "#0")),
    R(AB_MEANS, .n = 4, .m = 0, .x = 0.95, E(ERANGE, "b", "#0")),
    R(AB_MEANS, .n = 1, .m = 4, .x = 0.95, E(ERANGE, "#2")),
    R(AB_MEANS, .n = 4, .m = 1, .x = 0.95, E(ERANGE, "#2")),
    R(AB_MEANS, .p = DBL(1, NAN, NAN, NAN), .n = 4, .m = 4, .x = 0.95, E(ERANGE, "#2")),
    R(AB_MEANS, .p = DBL(1, 2, INFINITY, 4), .n = 4, .m = 4, .x = 0.95, E(EDATA, "a", "#2")),
    R(AB_MEANS, .q = DBL(-INFINITY, 2, 3, 4), .n = 4, .m = 4, .x = 0.95, E(EDATA, "b", "#0")),
    R(AB_MEANS, .n = 4, .m = 4, .x = 0, E(ERANGE, "confidence")),
    R(AB_MEANS, .n = 4, .m = 4, .x = 1, E(ERANGE, "confidence")),
    R(AB_MEANS, .n = 4, .m = 4, .x = NAN, E(ERANGE, "confidence")),

    R(AB_SAMPLE, .x = 0.1, .y = 0.02, .z = 0.05, .u = 0.8, .nul = P1, W(EINVAL)),
    SAMPLE(0, 0.02, 0.05, 0.8) SAMPLE(1, 0.02, 0.05, 0.8) SAMPLE(NAN, 0.02, 0.05, 0.8)
    SAMPLE(-INFINITY, 0.02, 0.05, 0.8) SAMPLE(INFINITY, 0.02, 0.05, 0.8)
    SAMPLE(0.1, 0, 0.05, 0.8) SAMPLE(0.1, NAN, 0.05, 0.8) SAMPLE(0.5, 0.5, 0.05, 0.8)
    SAMPLE(0.5, -0.6, 0.05, 0.8) SAMPLE(0.1, INFINITY, 0.05, 0.8)
    SAMPLE(0.1, 0.02, 0, 0.8) SAMPLE(0.1, 0.02, 1, 0.8) SAMPLE(0.1, 0.02, NAN, 0.8)
    SAMPLE(0.1, 0.02, 0.05, 0) SAMPLE(0.1, 0.02, 0.05, 1) SAMPLE(0.1, 0.02, 0.05, NAN)
    SAMPLE(0.1, 0.02, 0.05, -INFINITY) SAMPLE(0.5, 1e-12, 0.05, 0.8)

    R(AB_MDE, .x = 0.1, .a = 1000, .z = 0.05, .u = 0.8, .nul = P1, W(EINVAL)),
    MDE(0, 1000, 0.05, 0.8) MDE(1, 1000, 0.05, 0.8) MDE(NAN, 1000, 0.05, 0.8)
    MDE(INFINITY, 1000, 0.05, 0.8)
    MDE(0.1, 1, 0.05, 0.8) MDE(0.1, 0, 0.05, 0.8) MDE(0.1, -5, 0.05, 0.8)
    MDE(0.1, INT64_MIN, 0.05, 0.8)
    MDE(0.1, 1000, 0, 0.8) MDE(0.1, 1000, 1, 0.8) MDE(0.1, 1000, NAN, 0.8)
    MDE(0.1, 1000, 0.05, 0) MDE(0.1, 1000, 0.05, 1) MDE(0.1, 1000, 0.05, NAN)
};

/* ==== running the rows ================================================== */

static int64_t call(const bcase *c, world *w, outs *o, char *err, size_t cap)
{
    switch (FN[c->fn].hdr) {
    case HDR_TAGS: return call_tags(c, w, o, err, cap);
    case HDR_TAGSET: return call_tagset(c, w, o, err, cap);
    case HDR_QUERY: return call_query(c, w, o, err, cap);
    case HDR_PROFILE: return call_profile(c, w, o, err, cap);
    case HDR_KMEANS: return call_kmeans(c, w, o, err, cap);
    case HDR_EXPERIMENT: return call_experiment(c, w, o, err, cap);
    }
    failf("no caller");
    return 0;
}

/* The length a SEG_EBUFSZ row must report. */
static size_t need_of(const bcase *c, world *w)
{
    size_t len = 0;
    if (c->fn == F_TR_SAVE)
        OK(seg_tagreg_save(reg_of(w, c->h, w->rf), NULL, 0, &len));
    else if (c->fn == F_TAG_NORMALIZE)
        OK(seg_tag_normalize(c->s, NULL, 0, &len));
    else if (c->fn == F_KM_SAVE)
        OK(seg_kmeans_save(km_of(w, c->h), NULL, 0, &len));
    else
        failf("NEED on a function without a size query");
    return len;
}

/* `num` as a whole number in `msg` ("1" is not in "12" or "-1"). */
static int has_num(const char *msg, const char *num)
{
    size_t n = strlen(num);
    for (const char *p = msg; (p = strstr(p, num)) != NULL; p++) {
        int glued = p > msg && (isdigit((unsigned char)p[-1]) || (num[0] != '-' && p[-1] == '-'));
        if (!glued && !isdigit((unsigned char)p[n]))
            return 1;
    }
    return 0;
}

static void check_words(const char *msg, const char *spec)
{
    if (spec[0] == '@') { /* "@column:row" */
        char col[64];
        size_t l = strcspn(spec + 1, ":");
        memcpy(col, spec + 1, l);
        col[l] = 0;
        SEG_ASSERT_NAMES(msg, col, strtoul(spec + 2 + l, NULL, 10));
        return;
    }
    for (const char *p = spec;;) {
        char alt[128];
        size_t l = strcspn(p, "|");
        memcpy(alt, p, l);
        alt[l] = 0;
        if (alt[0] == '#' ? has_num(msg, alt + 1) : seg_test_has_word(msg, alt))
            return;
        if (!p[l])
            break;
        p += l + 1;
    }
    failf("message \"%s\" lacks %s", msg, spec);
}

/* The message a CH_LAST function left on its handle (NULL: no handle). */
static const char *last_msg(const bcase *c, world *w)
{
    if (FN[c->fn].hdr == HDR_TAGS) {
        seg_tagreg *r = reg_of(w, c->h, w->rb);
        return r ? seg_tagreg_last_error(r) : NULL;
    }
    seg_kmeans *km = km_of(w, c->h);
    return km ? seg_kmeans_last_error(km) : NULL;
}

/* State of the row being run, static so that a failed row can be cleaned up. */
static world row_w;
static outs row_o;
static char *before, *after;

static void row_cleanup(void)
{
    free(before);
    free(after);
    before = after = NULL;
    outs *o = &row_o;
    if (o->reg != CANARY_PTR) /* handles a wrongly successful call made */
        seg_tagreg_free(o->reg);
    if (o->set != CANARY_PTR)
        seg_tagset_free(o->set);
    if (o->q != CANARY_PTR)
        seg_query_free(o->q);
    if (o->pf != CANARY_PTR)
        seg_profile_free(o->pf);
    if (o->km != CANARY_PTR)
        seg_kmeans_free(o->km);
    outs_fill(o);
    world_release(&row_w);
    cur = NULL;
}

static void run_case(const bcase *c)
{
    static const size_t caps[4] = {ERRN, 0, 0, 6};
    const int ch = FN[c->fn].ch;
    char full[ERRN] = "";
    int64_t r0 = 0;
    world *w = &row_w;
    outs *o = &row_o;
    cur = c;
    world_init(w);
    before = snapshot(w);
    for (int v = 0; v < (ch == CH_ERRBUF ? 4 : 1); v++) {
        bcase cc = *c;
        size_t need = (c->fl & NEED) ? need_of(c, w) : 0;
        if (c->fl & CAPNEED)
            cc.m = need;
        outs_fill(o);
        char err[ERRN];
        memset(err, CANARY_U8, sizeof err);
        int64_t r = call(&cc, w, o, v == 1 ? NULL : err, caps[v]);
        /* 1. the documented status or value */
        if (c->want == ANY_NEG)
            CHECK(r < 0, "returned %lld, want a negative status", (long long)r);
        else
            CHECK(r == c->want, "returned %lld (%s), want %lld (%s) [%s]", (long long)r,
                  seg_status_str((int32_t)r), (long long)c->want,
                  seg_status_str((int32_t)c->want), ch == CH_ERRBUF && v == 0 ? err : "");
        CHECK(v == 0 || r == r0, "err_buf variant %d returned %lld, not %lld", v, (long long)r,
              (long long)r0);
        r0 = r;
        /* 2. the message */
        const char *msg = ch == CH_LAST ? last_msg(c, w) : NULL;
        if (ch == CH_ERRBUF && v == 0) {
            CHECK(memchr(err, 0, ERRN) != NULL, "err_buf not NUL-terminated");
            msg = strcpy(full, err);
        } else if (ch == CH_ERRBUF && v >= 2) {
            size_t l = strnlen(err, caps[v]);
            CHECK(caps[v] == 0 || l < caps[v], "err_buf of %zu bytes not NUL-terminated", caps[v]);
            CHECK(caps[v] == 0 || (strncmp(err, full, l) == 0 && l == strnlen(full, caps[v] - 1)),
                  "err_cap %zu gave \"%s\", not a prefix of \"%s\"", caps[v], err, full);
            for (size_t i = caps[v]; i < ERRN; i++)
                CHECK(err[i] == (char)CANARY_U8, "err_buf[%zu] written past err_cap %zu", i,
                      caps[v]);
        }
        if (v == 0 && getenv("SEG_BADINPUT_VERBOSE"))
            printf("# line %d %s -> %lld: %s\n", c->line, FN[c->fn].name, (long long)r,
                   msg ? msg : "");
        fflush(stdout);
        if (msg) {
            CHECK(*msg, "empty message");
            size_t at = seg_test_msg_bad_at(msg);
            CHECK(at == 0, "message byte %zu is a control byte or bad UTF-8", at - 1);
            for (int k = 0; k < 3 && c->msg[k]; k++)
                check_words(msg, c->msg[k]);
        }
        /* 3. the outputs */
        if (c->fl & NEED) {
            CHECK(o->sz[0] == need, "SEG_EBUFSZ reported %zu, needed %zu", o->sz[0], need);
            o->sz[0] = CANARY_SIZE;
        }
        outs_check(o);
        /* 4. the world */
        if (c->fn == F_KM_FIT && km_of(w, c->h)) {
            seg_kmeans *km = km_of(w, c->h);
            CHECK(!seg_kmeans_is_fitted(km), "a failed fit left the model fitted");
            if (km == w->km || km == w->km1)
                OK(seg_kmeans_fit(km, w->fr[FR_MAIN], NULL)); /* the same model again */
        }
        after = snapshot(w);
        snap_same(before, after);
        free(after);
        after = NULL;
    }
    free(before);
    before = NULL;
    sanity(w);
    world_fini(w);
    cur = NULL;
}

/* All rows of function `fn`; a failing row does not stop the others. */
static void run_group(const bcase *rows, size_t n, int fn)
{
    volatile int ran = 0;
    fails[0] = 0;
    n_fails = 0;
    for (volatile size_t i = 0; i < n; i++) {
        if (rows[i].fn != fn)
            continue;
        ran++;
        cur_k = 1;
        for (size_t j = 0; j < i; j++)
            cur_k += rows[j].line == rows[i].line;
        if (setjmp(row_jmp) == 0)
            run_case(&rows[i]);
        row_cleanup();
    }
    ck_assert_msg(n_fails == 0, "%s: %d of %d rows failed:%s", FN[fn].name, n_fails, ran, fails);
}

#define TABLES(X)                                                                              \
    X(tags, CASES_TAGS) X(tagset, CASES_TAGSET) X(query, CASES_QUERY) X(profile, CASES_PROFILE) \
    X(kmeans, CASES_KMEANS) X(experiment, CASES_EXPERIMENT)
#define X_TEST(name, rows)                                                                     \
    START_TEST(test_##name)                                                                    \
    {                                                                                          \
        run_group(rows, sizeof rows / sizeof rows[0], _i);                                     \
    }                                                                                          \
    END_TEST
TABLES(X_TEST)

#define X_TABLE(name, rows) {#name, rows, sizeof rows / sizeof rows[0]},
static const struct {
    const char *name;
    const bcase *rows;
    size_t n;
} TAB[] = {TABLES(X_TABLE)};
#define N_TAB (sizeof TAB / sizeof TAB[0])

/* Every function has a row in its header's table; message words only where
 * there is a message. */
START_TEST(test_coverage)
{
    int seen[N_FN] = {0};
    size_t rows = 0;
    for (size_t t = 0; t < N_TAB; t++)
        for (size_t i = 0; i < TAB[t].n; i++) {
            const bcase *c = &TAB[t].rows[i];
            cur = c;
            seen[c->fn]++;
            rows++;
            CHECK(FN[c->fn].hdr == (int)t, "row in the %s table", TAB[t].name);
            int has_msg = FN[c->fn].ch == CH_ERRBUF ||
                          (FN[c->fn].ch == CH_LAST && c->h != H_NULL);
            CHECK(has_msg || !c->msg[0], "message words for a call without a message");
        }
    cur = NULL;
    for (int f = 0; f < N_FN; f++)
        CHECK(FN[f].hdr >= (int)N_TAB || seen[f] > 0, "%s has no row", FN[f].name);
    printf("# %zu rows over %d functions\n", rows, (int)N_FN);
}
END_TEST

int main(void)
{
    fill_long();
#define X_PTR(name, rows) test_##name,
    const TTest *tests[] = {TABLES(X_PTR)};
    Suite *s = suite_create("badinput-tags");
    TCase *tc = tcase_create("coverage");
    tcase_add_test(tc, test_coverage);
    suite_add_tcase(s, tc);
    for (size_t t = 0; t < N_TAB; t++) {
        tc = tcase_create(TAB[t].name);
        tcase_set_timeout(tc, 300);
        int first = N_FN, end = 0; /* FUNCS lists each header's functions together */
        for (int f = 0; f < N_FN; f++)
            if (FN[f].hdr == (int)t) {
                first = f < first ? f : first;
                end = f + 1;
            }
        tcase_add_loop_test(tc, tests[t], first, end);
        suite_add_tcase(s, tc);
    }
    return seg_test_run(s);
}
