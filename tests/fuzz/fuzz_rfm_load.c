/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the RFM model text (seg_rfm_load).
 *
 * The input is model text. A failure must be SEG_EPARSE or SEG_EVERSION
 * with a terminated "line:col: message", *out untouched, and err_cap 1, 0
 * and NULL must agree. A loaded model is saved, the text re-loaded (must
 * succeed) and saved again: the two texts must be identical and the two
 * models must agree on every option, weight and threshold (bit for bit,
 * rfm.h). A fitted model scores a fixed set of rows: scores 0..k, cell =
 * 100R + 10F + M, weighted = wr*R + wf*F + wm*M, 0/NaN exactly on rows with
 * a NaN, SEG_EDATA for Inf; scores must not rise with recency nor fall
 * with frequency or monetary (every binning is monotone).
 */
#include "fuzz_common.h"

#define ERR_CAP 512

static const int32_t keys[] = {
    SEG_RFM_PARAM_R_BINS,   SEG_RFM_PARAM_F_BINS,    SEG_RFM_PARAM_M_BINS,
    SEG_RFM_PARAM_R_BINNING, SEG_RFM_PARAM_F_BINNING, SEG_RFM_PARAM_M_BINNING,
    SEG_RFM_PARAM_TIME_UNIT, SEG_RFM_PARAM_FREQUENCY, SEG_RFM_PARAM_MONETARY,
    SEG_RFM_PARAM_NEGATIVE,  SEG_RFM_PARAM_FUTURE,    SEG_RFM_PARAM_MISSING};

static char *save_text(const seg_rfm *m, size_t *out_len)
{
    size_t len = 0;
    int32_t rc = seg_rfm_save(m, NULL, 0, &len);
    CHECK(rc == SEG_OK && len > 0, "save (size query) gave %d, len %zu", (int)rc, len);
    char probe = 'Q';
    size_t len2 = 0;
    rc = seg_rfm_save(m, &probe, 1, &len2);
    CHECK(rc == SEG_EBUFSZ && len2 == len && probe == 'Q', "save with cap 1 gave %d", (int)rc);
    char *buf = fz_xmalloc(len + 1);
    rc = seg_rfm_save(m, buf, len + 1, &len2);
    CHECK(rc == SEG_OK && len2 == len, "save gave %d", (int)rc);
    CHECK(buf[len] == '\0' && strlen(buf) == len, "saved text not terminated / embedded NUL");
    CHECK(strncmp(buf, "libsegment-rfm 1\n", 17) == 0, "saved text starts '%.20s'", buf);
    *out_len = len;
    return buf;
}

/* Levels of a dimension of a model: 2 for MEAN/MEDIAN, else its bins. */
static int32_t levels(const seg_rfm *m, int d)
{
    int64_t binning = 0, bins = 0;
    CHECK(seg_rfm_get_param(m, SEG_RFM_PARAM_R_BINNING + d, &binning) == SEG_OK, "get binning");
    CHECK(seg_rfm_get_param(m, SEG_RFM_PARAM_R_BINS + d, &bins) == SEG_OK, "get bins");
    return binning == SEG_BINNING_MEAN || binning == SEG_BINNING_MEDIAN ? 2 : (int32_t)bins;
}

static void same_models(const seg_rfm *a, const seg_rfm *b)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        int64_t va = -1, vb = -2;
        CHECK(seg_rfm_get_param(a, keys[i], &va) == SEG_OK &&
                  seg_rfm_get_param(b, keys[i], &vb) == SEG_OK && va == vb,
              "option %d: %lld vs %lld after save/load", (int)keys[i], (long long)va,
              (long long)vb);
    }
    CHECK(seg_rfm_is_fitted(a) == seg_rfm_is_fitted(b), "is_fitted differs after save/load");
    for (int32_t d = 0; d < 3; d++) {
        double ta[SEG_RFM_MAX_BINS], tb[SEG_RFM_MAX_BINS];
        size_t na = 0, nb = 0;
        int32_t ra = seg_rfm_get_thresholds(a, d, ta, SEG_RFM_MAX_BINS, &na);
        int32_t rb = seg_rfm_get_thresholds(b, d, tb, SEG_RFM_MAX_BINS, &nb);
        CHECK(ra == rb, "dim %d: get_thresholds %d vs %d", (int)d, (int)ra, (int)rb);
        if (ra != SEG_OK)
            continue;
        CHECK(na == nb && memcmp(ta, tb, na * sizeof *ta) == 0,
              "dim %d: thresholds differ after save/load", (int)d);
    }
}

/* The fitted model must score these rows sanely. */
static void score_some(const seg_rfm *m, const uint8_t *data, size_t size)
{
    enum { N = 24 };
    double r[N], f[N], v[N];
    static const double base[] = {0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 365.0, 1e6, -1.0,
                                  0.5, 1e300, -1e300, 4.9e-324, -0.0};
    const size_t nb = sizeof base / sizeof *base;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    for (int i = 0; i < N; i++) {
        h = h * 1103515245u + 12345u;
        r[i] = base[(h >> 8) % nb];
        f[i] = base[(h >> 12) % nb];
        v[i] = base[(h >> 16) % nb];
    }
    int64_t missing = 0;
    CHECK(seg_rfm_get_param(m, SEG_RFM_PARAM_MISSING, &missing) == SEG_OK, "get missing");
    const int nan_row = (int)(h % N);
    const int with_nan = (h >> 20) & 1;
    if (with_nan)
        f[nan_row] = NAN;

    int32_t sr[N], sf[N], sm[N], cell[N];
    double w[N];
    char err[ERR_CAP];
    int32_t rc = seg_rfm_score(m, r, f, v, N, sr, sf, sm, cell, w, err, sizeof err);
    if (with_nan && missing == SEG_MISSING_REJECT) {
        CHECK(rc == SEG_EDATA, "NaN under reject gave %d", (int)rc);
        return;
    }
    CHECK(rc == SEG_OK, "score gave %d: %s", (int)rc, err);
    const int32_t k[3] = {levels(m, 0), levels(m, 1), levels(m, 2)};
    double wt[3] = {1, 1, 1};
    /* Weights are only readable through the saved text. */
    {
        size_t len = 0;
        char *t = save_text(m, &len);
        const char *p = strstr(t, "\nweights ");
        CHECK(p && sscanf(p, "\nweights %lf %lf %lf", &wt[0], &wt[1], &wt[2]) == 3,
              "no weights line in the saved text");
        free(t);
    }
    for (int i = 0; i < N; i++) {
        if (with_nan && i == nan_row) {
            CHECK(sr[i] == 0 && sf[i] == 0 && sm[i] == 0 && cell[i] == 0 && isnan(w[i]),
                  "row %d with NaN: %d %d %d cell %d weighted %g", i, (int)sr[i], (int)sf[i],
                  (int)sm[i], (int)cell[i], w[i]);
            continue;
        }
        CHECK(sr[i] >= 1 && sr[i] <= k[0] && sf[i] >= 1 && sf[i] <= k[1] && sm[i] >= 1 &&
                  sm[i] <= k[2],
              "row %d (%g, %g, %g): scores %d %d %d outside 1..%d/%d/%d", i, r[i], f[i], v[i],
              (int)sr[i], (int)sf[i], (int)sm[i], (int)k[0], (int)k[1], (int)k[2]);
        CHECK(cell[i] == 100 * sr[i] + 10 * sf[i] + sm[i], "row %d: cell %d", i, (int)cell[i]);
        double want = wt[0] * sr[i] + wt[1] * sf[i] + wt[2] * sm[i];
        double mag = fabs(wt[0] * sr[i]) + fabs(wt[1] * sf[i]) + fabs(wt[2] * sm[i]);
        /* Tolerance for contraction into fma; overflow only needs to agree. */
        CHECK(w[i] == want || (!isfinite(w[i]) && !isfinite(want)) ||
                  (!isfinite(mag) && !isnan(w[i])) || fabs(w[i] - want) <= 1e-12 * (mag + 1.0),
              "row %d: weighted %.17g, want %.17g", i, w[i], want);
    }
    /* Monotone: recency down, frequency and monetary up. */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            if (with_nan && (i == nan_row || j == nan_row))
                continue;
            if (r[i] < r[j])
                CHECK(sr[i] >= sr[j], "recency %g scores %d, %g scores %d", r[i], (int)sr[i],
                      r[j], (int)sr[j]);
            if (f[i] < f[j])
                CHECK(sf[i] <= sf[j], "frequency %g scores %d, %g scores %d", f[i], (int)sf[i],
                      f[j], (int)sf[j]);
            if (v[i] < v[j])
                CHECK(sm[i] <= sm[j], "monetary %g scores %d, %g scores %d", v[i], (int)sm[i],
                      v[j], (int)sm[j]);
        }
    /* Inf is refused, nothing written. */
    r[0] = INFINITY;
    sr[0] = -99;
    rc = seg_rfm_score(m, r, f, v, N, sr, NULL, NULL, NULL, NULL, err, sizeof err);
    CHECK(rc == SEG_EDATA && sr[0] == -99, "Inf recency gave %d", (int)rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_xmalloc(size);
    memcpy(text, data, size);
    char err[ERR_CAP];
    memset(err, 0xAA, sizeof err);
    seg_rfm *m = (seg_rfm *)(uintptr_t)0x1;
    int32_t rc = seg_rfm_load(&m, text, size, NULL, err, sizeof err);
    CHECK(rc == SEG_OK || rc == SEG_EPARSE || rc == SEG_EVERSION, "load returned %d", (int)rc);
    if (rc != SEG_OK)
        fz_check_msg(err, sizeof err, "load"); /* untouched on success */
    {
        seg_rfm *m2 = NULL;
        char *one = fz_xmalloc(1);
        one[0] = 'Z';
        int32_t rc1 = seg_rfm_load(&m2, text, size, NULL, one, 1);
        CHECK(rc1 == rc, "err_cap 1 gives %d, err_cap %d gives %d", (int)rc1, ERR_CAP, (int)rc);
        CHECK(rc1 == SEG_OK || one[0] == '\0', "err_cap 1: buffer not emptied");
        seg_rfm_free(m2);
        m2 = NULL;
        one[0] = 'Z';
        int32_t rc0 = seg_rfm_load(&m2, text, size, NULL, one, 0);
        CHECK(rc0 == rc, "err_cap 0 gives %d", (int)rc0);
        CHECK(one[0] == 'Z', "err_cap 0: buffer written");
        seg_rfm_free(m2);
        m2 = NULL;
        int32_t rcn = seg_rfm_load(&m2, text, size, NULL, NULL, 0);
        CHECK(rcn == rc, "NULL err_buf gives %d", (int)rcn);
        seg_rfm_free(m2);
        free(one);
    }
    if (rc != SEG_OK) {
        CHECK(m == (seg_rfm *)(uintptr_t)0x1, "failure touched *out");
        unsigned long line = 0, col = 0;
        CHECK(sscanf(err, "%lu:%lu: ", &line, &col) == 2 && line >= 1 && col >= 1,
              "message is not 'line:col: message': '%s'", err);
        free(text);
        return 0;
    }

    size_t len1 = 0, len2 = 0;
    char *s1 = save_text(m, &len1);
    seg_rfm *m2 = NULL;
    rc = seg_rfm_load(&m2, s1, len1, NULL, err, sizeof err);
    if (rc != SEG_OK) {
        fprintf(stderr, "saved text:\n");
        fz_print_escaped(stderr, s1, len1);
        fputc('\n', stderr);
    }
    CHECK(rc == SEG_OK, "re-loading the saved text gave %d: %s", (int)rc, err);
    char *s2 = save_text(m2, &len2);
    if (len1 != len2 || memcmp(s1, s2, len1) != 0) {
        fprintf(stderr, "first save:\n");
        fz_print_escaped(stderr, s1, len1);
        fprintf(stderr, "\nsecond save:\n");
        fz_print_escaped(stderr, s2, len2);
        fputc('\n', stderr);
    }
    CHECK(len1 == len2 && memcmp(s1, s2, len1) == 0, "save(load(save(x))) != save(x)");
    same_models(m, m2);

    /* Thresholds of a fitted dimension: finite and not decreasing. */
    for (int32_t d = 0; d < 3; d++) {
        double t[SEG_RFM_MAX_BINS];
        size_t nt = 0;
        if (seg_rfm_get_thresholds(m, d, t, SEG_RFM_MAX_BINS, &nt) != SEG_OK)
            continue;
        int32_t k = levels(m, d);
        CHECK(nt == (size_t)(k - 1), "dim %d: %zu thresholds for %d levels", (int)d, nt, (int)k);
        for (size_t j = 0; j < nt; j++)
            CHECK(isfinite(t[j]) && (j == 0 || t[j] >= t[j - 1]), "dim %d: threshold %zu = %g",
                  (int)d, j, t[j]);
    }
    if (seg_rfm_is_fitted(m))
        score_some(m, data, size);
    else {
        double x = 1.0;
        int32_t s = -5;
        rc = seg_rfm_score(m, &x, &x, &x, 1, &s, NULL, NULL, NULL, NULL, NULL, 0);
        CHECK(rc == SEG_ESTATE && s == -5, "unfitted model scores with %d", (int)rc);
    }

    free(s1);
    free(s2);
    seg_rfm_free(m2);
    seg_rfm_free(m);
    free(text);
    return 0;
}
