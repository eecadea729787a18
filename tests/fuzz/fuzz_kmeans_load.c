/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the k-means model text (seg_kmeans_load).
 *
 * The input is model text. A failure must be SEG_EPARSE or SEG_EVERSION
 * with a terminated "fuzz:line:col: message", *out untouched; err_cap 16
 * (a prefix of the message), 1 (""), 0 (untouched) and a NULL buffer must
 * give the same status. A loaded model is fitted; it is saved (size query,
 * a too-small buffer is SEG_EBUFSZ and untouched), the text re-loaded (must
 * succeed) and saved again: the two texts must be identical, and the two
 * models must agree on every parameter, the centroids, inertia, iterations
 * and sizes (bit for bit). Both models predict a fixed 50-row frame with
 * columns x, y, z, aum, txn_90d (SEG_ENOTFOUND accepted when a feature is
 * not among them) and a frame built from the model's own feature names:
 * labels in -1..k-1, -1 exactly with NaN distance, distances >= 0, the two
 * models and a second call agree bit for bit; a frame with an infinite
 * value is SEG_EDATA with the labels untouched. Changing a parameter of
 * the loaded model makes it unfitted.
 */
#include "fuzz_common.h"

#define ERR_CAP 512
#define KM_ROWS 50
#define KM_POOL 8 /* distinct data columns, shared by the per-model frame */

static const int32_t params[] = {SEG_KM_K,       SEG_KM_N_INIT,  SEG_KM_MAX_ITER,
                                 SEG_KM_TOL,     SEG_KM_SEED,    SEG_KM_THREADS,
                                 SEG_KM_ALGORITHM, SEG_KM_ORDER_BY, SEG_KM_ORDER_ASC};

/* ---- the fixed frames ------------------------------------------------------------- */

static double pool[KM_POOL][KM_ROWS];
static double col_x[KM_ROWS], col_y[KM_ROWS], col_aum[KM_ROWS], col_inf[KM_ROWS];
static int64_t col_z[KM_ROWS];
static int32_t col_txn[KM_ROWS];
static uint8_t txn_valid[(KM_ROWS + 7) / 8];
static const char *col_city[KM_ROWS];

static void fill_data(void)
{
    /* All above -1, so log1p models predict the pool columns. */
    static const double special[] = {0.0,   -0.0,   1.0, -0.5, 0.25, 3.0,    1e6,    1e300,
                                     -0.75, 5e-324, 2.5, 7.0,  12.0, -0.999, 1e-300, 100.0};
    const size_t ns = sizeof special / sizeof *special;
    uint64_t st = 987654321;
    for (size_t i = 0; i < KM_ROWS; i++) {
        uint64_t r = fz_lcg(&st);
        /* x: small values and specials (all > -1, so log1p models predict). */
        col_x[i] = (r % 5 == 0) ? special[r % ns] : (double)(r % 1000) / 10.0;
        /* y: NaN marks a missing value. */
        col_y[i] = (i % 7 == 3) ? NAN : (double)(fz_lcg(&st) % 200) - 0.5;
        col_z[i] = (int64_t)(fz_lcg(&st) % 50);
        if (i == 11)
            col_z[i] = INT64_MAX;
        col_aum[i] = (double)(fz_lcg(&st) % 8000000);
        col_txn[i] = (int32_t)(fz_lcg(&st) % 30);
        if (i % 6 != 5)
            txn_valid[i / 8] |= (uint8_t)(1u << (i % 8));
        for (size_t p = 0; p < KM_POOL; p++) {
            uint64_t q = fz_lcg(&st);
            pool[p][i] = (p == 1 && i % 9 == 4) ? NAN
                         : (q % 11 == 0)        ? special[q % ns]
                                                : (double)(q % 100000) / 100.0;
        }
        col_inf[i] = (i == 17) ? INFINITY : (double)i;
        col_city[i] = (i % 3) ? "上海" : NULL;
    }
}

static const seg_frame *fixed_frame(void)
{
    static seg_frame *f;
    if (f)
        return f;
    fill_data();
    FZ_OK(seg_frame_new(&f, KM_ROWS, NULL));
    FZ_OK(seg_frame_add_double(f, "x", col_x, NULL));
    FZ_OK(seg_frame_add_double(f, "y", col_y, NULL));
    FZ_OK(seg_frame_add_int64(f, "z", col_z, NULL));
    FZ_OK(seg_frame_add_double(f, "aum", col_aum, NULL));
    FZ_OK(seg_frame_add_int32(f, "txn_90d", col_txn, txn_valid));
    FZ_OK(seg_frame_add_string(f, "city", col_city, NULL)); /* not numeric */
    return f;
}

/* ---- helpers ------------------------------------------------------------------ */

static char *save_text(const seg_kmeans *km, size_t *out_len)
{
    size_t len = 0;
    int32_t rc = seg_kmeans_save(km, NULL, 0, &len);
    CHECK(rc == SEG_OK && len > 0, "save (size query) gave %d, len %zu", (int)rc, len);
    char *probe = fz_xmalloc(len);
    memset(probe, 'Q', len);
    size_t len2 = 0;
    rc = seg_kmeans_save(km, probe, len, &len2); /* no room for the NUL */
    CHECK(rc == SEG_EBUFSZ, "save with cap len gave %d", (int)rc);
    for (size_t i = 0; i < len; i++)
        CHECK(probe[i] == 'Q', "save with a too-small buffer wrote byte %zu", i);
    free(probe);
    char *buf = fz_xmalloc(len + 1);
    rc = seg_kmeans_save(km, buf, len + 1, &len2);
    CHECK(rc == SEG_OK && len2 == len, "save gave %d, len %zu vs %zu", (int)rc, len2, len);
    CHECK(buf[len] == '\0' && strlen(buf) == len, "saved text not terminated / embedded NUL");
    CHECK(strncmp(buf, "libsegment-kmeans 1\n", 20) == 0, "saved text starts '%.24s'", buf);
    *out_len = len;
    return buf;
}

/* k and the number of features, read back from the saved text. */
static void shape(const char *text, int32_t *k, size_t *nf)
{
    const char *p = strstr(text, "\nk ");
    CHECK(p && sscanf(p, "\nk %d", k) == 1 && *k >= 1 && *k <= 1024, "no 'k' line in the text");
    *nf = 0;
    for (p = text; (p = strstr(p, "\nfeature \"")) != NULL; p++)
        (*nf)++;
    CHECK(*nf >= 1 && *nf <= 256, "%zu 'feature' lines in the saved text", *nf);
}

/* The feature names, unescaped from the saved text (\" and \\ only). */
static size_t feature_names(const char *text, char names[][SEG_FRAME_NAME_MAX + 1], size_t max)
{
    size_t n = 0;
    for (const char *p = text; n < max && (p = strstr(p, "\nfeature \"")) != NULL;) {
        p += 10;
        size_t o = 0;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            CHECK(o < SEG_FRAME_NAME_MAX, "saved feature name too long");
            names[n][o++] = *p++;
        }
        CHECK(*p == '"', "unterminated feature name in the saved text");
        names[n][o] = '\0';
        n++;
    }
    return n;
}

static void same_models(const seg_kmeans *a, const seg_kmeans *b, int32_t k, size_t nf)
{
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
        double va = -1, vb = -2;
        CHECK(seg_kmeans_get_param(a, params[i], &va) == SEG_OK &&
                  seg_kmeans_get_param(b, params[i], &vb) == SEG_OK &&
                  memcmp(&va, &vb, sizeof va) == 0,
              "param %d: %.17g vs %.17g after save/load", (int)params[i], va, vb);
    }
    double kp = 0;
    CHECK(seg_kmeans_get_param(a, SEG_KM_K, &kp) == SEG_OK && kp == k, "SEG_KM_K %g, text k %d",
          kp, (int)k);
    CHECK(seg_kmeans_is_fitted(a) == 1 && seg_kmeans_is_fitted(b) == 1, "loaded but not fitted");
    CHECK(seg_kmeans_last_error(a)[0] == '\0', "last_error after load: '%s'",
          seg_kmeans_last_error(a));

    const size_t need = (size_t)k * nf;
    double *ca = fz_xmalloc(need * sizeof *ca), *cb = fz_xmalloc(need * sizeof *cb);
    if (need > 0) {
        ca[0] = 42.0;
        CHECK(seg_kmeans_centroids(a, ca, need - 1) == SEG_EBUFSZ && ca[0] == 42.0,
              "centroids with cap %zu", need - 1);
    }
    CHECK(seg_kmeans_centroids(a, ca, need) == SEG_OK, "centroids failed");
    CHECK(seg_kmeans_centroids(b, cb, need) == SEG_OK, "centroids (reloaded) failed");
    CHECK(memcmp(ca, cb, need * sizeof *ca) == 0, "centroids differ after save/load");
    CHECK(seg_kmeans_centroids(a, NULL, need) == SEG_EINVAL, "centroids NULL out");
    free(ca);
    free(cb);

    double ia = -1, ib = -2;
    int32_t ta = -1, tb = -2;
    int64_t *sa = fz_xmalloc((size_t)k * sizeof *sa), *sb = fz_xmalloc((size_t)k * sizeof *sb);
    CHECK(seg_kmeans_result(a, &ia, &ta, sa) == SEG_OK, "result failed");
    CHECK(seg_kmeans_result(b, &ib, &tb, sb) == SEG_OK, "result (reloaded) failed");
    CHECK(seg_kmeans_result(a, NULL, NULL, NULL) == SEG_OK, "result with NULL outputs");
    CHECK(memcmp(&ia, &ib, sizeof ia) == 0 && ta == tb, "inertia/iterations differ");
    CHECK(isfinite(ia) && !(ia < 0), "inertia %g", ia);
    CHECK(ta >= 0 && ta <= 100000, "iterations %d", (int)ta);
    CHECK(memcmp(sa, sb, (size_t)k * sizeof *sa) == 0, "sizes differ after save/load");
    for (int32_t j = 0; j < k; j++)
        CHECK(sa[j] >= 0, "cluster %d size %lld", (int)j, (long long)sa[j]);
    free(sa);
    free(sb);
}

/* Predicts `frame` with both models; checks labels, distances, agreement. */
static void predict_both(const seg_kmeans *a, const seg_kmeans *b, const seg_frame *frame,
                         int32_t k, int may_miss)
{
    enum { N = KM_ROWS };
    int32_t la[N], lb[N], lc[N];
    double da[N], db[N];
    char err[ERR_CAP];
    for (int i = 0; i < N; i++)
        la[i] = -77;
    int32_t rc = seg_kmeans_predict(a, frame, la, da, err, sizeof err);
    int32_t rcb = seg_kmeans_predict(b, frame, lb, db, NULL, 0);
    CHECK(rc == rcb, "predict %d vs %d (reloaded)", (int)rc, (int)rcb);
    if (rc != SEG_OK) {
        CHECK(may_miss && (rc == SEG_ENOTFOUND || rc == SEG_EDATA), "predict gave %d: %s",
              (int)rc, err);
        fz_check_msg(err, sizeof err, "predict");
        for (int i = 0; i < N; i++)
            CHECK(la[i] == -77, "failed predict wrote label %d", i);
        return;
    }
    CHECK(seg_kmeans_predict(a, frame, lc, NULL, NULL, 0) == SEG_OK, "predict without dist");
    for (int i = 0; i < N; i++) {
        CHECK(la[i] >= -1 && la[i] < k, "row %d: label %d outside -1..%d", i, (int)la[i],
              (int)k - 1);
        CHECK(la[i] == lb[i] && memcmp(&da[i], &db[i], sizeof da[i]) == 0,
              "row %d: %d/%.17g vs reloaded %d/%.17g", i, (int)la[i], da[i], (int)lb[i], db[i]);
        CHECK(lc[i] == la[i], "row %d: label %d without dist, %d with", i, (int)lc[i],
              (int)la[i]);
        if (la[i] < 0)
            CHECK(isnan(da[i]), "row %d: label -1, distance %g", i, da[i]);
        else
            CHECK(!isnan(da[i]) && da[i] >= 0, "row %d: label %d, distance %g", i, (int)la[i],
                  da[i]);
    }
}

/* A frame with the model's own feature names over the pool (plus one with
 * an infinite value in the first feature: SEG_EDATA, labels untouched). */
static void predict_own(const seg_kmeans *a, const seg_kmeans *b, const char *text, int32_t k)
{
    static char names[256][SEG_FRAME_NAME_MAX + 1];
    size_t n = feature_names(text, names, 256);
    seg_frame *f = NULL, *g = NULL;
    FZ_OK(seg_frame_new(&f, KM_ROWS, NULL));
    FZ_OK(seg_frame_new(&g, KM_ROWS, NULL));
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        ok = seg_frame_add_double(f, names[i], pool[i % KM_POOL], NULL) == SEG_OK;
        if (ok)
            ok = seg_frame_add_double(g, names[i], i == 0 ? col_inf : pool[i % KM_POOL],
                                      NULL) == SEG_OK;
    }
    if (ok) { /* every name was accepted by the model, so the frame takes it too */
        predict_both(a, b, f, k, 0);
        int32_t lab[KM_ROWS];
        for (int i = 0; i < KM_ROWS; i++)
            lab[i] = -77;
        char err[ERR_CAP];
        int32_t rc = seg_kmeans_predict(a, g, lab, NULL, err, sizeof err);
        CHECK(rc == SEG_EDATA, "predict with an infinite value gave %d", (int)rc);
        for (int i = 0; i < KM_ROWS; i++)
            CHECK(lab[i] == -77, "predict SEG_EDATA wrote label %d", i);
    }
    CHECK(ok, "a feature name the model accepted was refused by the frame: '%s'",
          names[0]);
    seg_frame_free(f);
    seg_frame_free(g);
}

/* ---- the target --------------------------------------------------------------- */

static int32_t load(seg_kmeans **out, const char *text, size_t len, char *err, size_t cap)
{
    return seg_kmeans_load(out, text, len, "fuzz", NULL, err, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const seg_frame *frame = fixed_frame();
    char *text = fz_xmalloc(size);
    memcpy(text, data, size);

    char err[ERR_CAP];
    memset(err, 0xAA, sizeof err);
    seg_kmeans *km = (seg_kmeans *)(uintptr_t)0x1;
    int32_t rc = load(&km, text, size, err, sizeof err);
    CHECK(rc == SEG_OK || rc == SEG_EPARSE || rc == SEG_EVERSION, "load returned %d", (int)rc);
    if (rc != SEG_OK) {
        fz_check_msg(err, sizeof err, "load");
        CHECK(km == (seg_kmeans *)(uintptr_t)0x1, "failure touched *out");
        unsigned long line = 0, col = 0;
        CHECK(sscanf(err, "fuzz:%lu:%lu: ", &line, &col) == 2 && line >= 1 && col >= 1,
              "message is not 'fuzz:line:col: message': '%s'", err);
    }
    {
        /* Other buffer sizes: same status; 16 gives a prefix of the message. */
        seg_kmeans *m2 = NULL;
        char *small = fz_xmalloc(16);
        memset(small, 'Z', 16);
        int32_t rc16 = load(&m2, text, size, small, 16);
        CHECK(rc16 == rc, "err_cap 16 gives %d, err_cap %d gives %d", (int)rc16, ERR_CAP,
              (int)rc);
        if (rc != SEG_OK) {
            fz_check_msg(small, 16, "load (cap 16)");
            /* Truncation may drop a partial UTF-8 character (up to 3 bytes). */
            const size_t want = strlen(err) < 15 ? strlen(err) : 15;
            CHECK(strncmp(small, err, strlen(small)) == 0 && strlen(small) <= want &&
                      strlen(small) + 3 >= want,
                  "cap 16 message '%s' is not a prefix of '%s'", small, err);
        }
        seg_kmeans_free(m2);
        m2 = NULL;
        small[0] = 'Z';
        int32_t rc1 = load(&m2, text, size, small, 1);
        CHECK(rc1 == rc, "err_cap 1 gives %d", (int)rc1);
        CHECK(rc1 == SEG_OK || small[0] == '\0', "err_cap 1: buffer not emptied");
        seg_kmeans_free(m2);
        m2 = NULL;
        small[0] = 'Z';
        int32_t rc0 = load(&m2, text, size, small, 0);
        CHECK(rc0 == rc, "err_cap 0 gives %d", (int)rc0);
        CHECK(small[0] == 'Z', "err_cap 0: buffer written");
        seg_kmeans_free(m2);
        m2 = NULL;
        int32_t rcn = load(&m2, text, size, NULL, 0);
        CHECK(rcn == rc, "NULL err_buf gives %d", (int)rcn);
        seg_kmeans_free(m2);
        free(small);
    }
    if (rc != SEG_OK) {
        free(text);
        return 0;
    }

    /* save -> load -> save */
    size_t len1 = 0, len2 = 0;
    char *t1 = save_text(km, &len1);
    seg_kmeans *km2 = NULL;
    rc = load(&km2, t1, len1, err, sizeof err);
    CHECK(rc == SEG_OK, "re-loading the saved text gave %d: %s\n--- text ---\n%s", (int)rc,
          err, t1);
    char *t2 = save_text(km2, &len2);
    CHECK(len1 == len2 && memcmp(t1, t2, len1) == 0,
          "save -> load -> save changed the text:\n--- first ---\n%s--- second ---\n%s", t1, t2);

    int32_t k = 0;
    size_t nf = 0;
    shape(t1, &k, &nf);
    same_models(km, km2, k, nf);
    predict_both(km, km2, frame, k, 1);
    predict_own(km, km2, t1, k);

    /* A parameter change makes the loaded model unfitted. */
    double thr = 0;
    CHECK(seg_kmeans_get_param(km2, SEG_KM_THREADS, &thr) == SEG_OK, "get threads");
    CHECK(seg_kmeans_set_param(km2, SEG_KM_THREADS, thr) == SEG_OK, "set threads %g", thr);
    CHECK(seg_kmeans_is_fitted(km2) == 0, "set_param left the model fitted");
    size_t l3 = 0;
    CHECK(seg_kmeans_save(km2, NULL, 0, &l3) == SEG_ESTATE, "save of an unfitted model");
    int32_t lab[KM_ROWS];
    CHECK(seg_kmeans_predict(km2, frame, lab, NULL, NULL, 0) == SEG_ESTATE,
          "predict of an unfitted model");

    free(t1);
    free(t2);
    seg_kmeans_free(km);
    seg_kmeans_free(km2);
    free(text);
    return 0;
}
