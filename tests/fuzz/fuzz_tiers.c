/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: tier-set text (seg_tiers_load and everything on a
 * loaded set).
 *
 * The input is the text of a tier (or groups) file, loaded against the
 * fixed frame of fuzz_common.h. On failure: SEG_EPARSE or SEG_EVERSION with
 * a terminated message, *out untouched; err_cap 1, 0 and NULL agree. On
 * success:
 *   - seg_tiers_apply without prev: every label in -1..count-1, -1 only
 *     without a catch-all; the alternative frame (same data, other column
 *     types) gives the same labels;
 *   - with prev (labels derived from the input): the hysteresis contract of
 *     tiers.h (a row takes its `when` tier or stays in its previous one;
 *     moves up whenever its `when` tier is higher; takes the `when` tier
 *     when prev is unknown); an out-of-range prev is SEG_EDATA with the
 *     output untouched;
 *   - seg_tiers_gaps: next = tier-1 (or -1), gap column in range, counts
 *     >= -1 and never 0 (the row fails the next tier's condition),
 *     critical 0/1 and only with failing comparisons;
 *   - seg_tiers_unreachable for every tier: -1 or an earlier tier, and no
 *     row in a tier shown unreachable;
 *   - save, re-load (must succeed), save again: identical text, the same
 *     ids, names and labels. abort() otherwise.
 */
#include "fuzz_common.h"

#define ERR_CAP 512

static char *save_text(const seg_tiers *t, size_t *out_len)
{
    size_t len = 0;
    int32_t rc = seg_tiers_save(t, NULL, 0, &len);
    CHECK(rc == SEG_OK, "save (size query) gave %d", (int)rc);
    if (len > 0) {
        /* Too small a buffer: SEG_EBUFSZ, buffer untouched. */
        char probe = 'Q';
        size_t len2 = 0;
        rc = seg_tiers_save(t, &probe, 1, &len2);
        CHECK(rc == SEG_EBUFSZ && len2 == len && probe == 'Q',
              "save with cap 1 gave %d, len %zu (want %zu), buffer %s", (int)rc, len2, len,
              probe == 'Q' ? "untouched" : "written");
    }
    char *buf = fz_xmalloc(len + 1);
    size_t len3 = 0;
    rc = seg_tiers_save(t, buf, len + 1, &len3);
    CHECK(rc == SEG_OK && len3 == len, "save gave %d, len %zu (want %zu)", (int)rc, len3, len);
    CHECK(buf[len] == '\0' && strlen(buf) == len, "saved text has an embedded NUL or no NUL");
    *out_len = len;
    return buf;
}

static void apply_plain(const seg_tiers *t, const seg_frame *f, int32_t *out)
{
    char err[ERR_CAP];
    int32_t rc = seg_tiers_apply(t, f, NULL, out, err, sizeof err);
    CHECK(rc == SEG_OK, "apply gave %d: %s", (int)rc, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const seg_frame *f = fz_frame();
    char *text = fz_xmalloc(size);
    memcpy(text, data, size);

    char err[ERR_CAP];
    memset(err, 0xAA, sizeof err);
    seg_tiers *set = (seg_tiers *)(uintptr_t)0x1; /* canary: untouched on failure */
    int32_t rc = seg_tiers_load(&set, text, size, f, "fuzz", NULL, err, sizeof err);
    CHECK(rc == SEG_OK || rc == SEG_EPARSE || rc == SEG_EVERSION, "load returned %d", (int)rc);
    if (rc != SEG_OK)
        fz_check_msg(err, sizeof err, "load"); /* untouched on success */
    /* The same status with err_cap 1, 0 and no buffer: for every failure,
     * for one success in eight (three more loads of a set that compiles
     * are most of the time of this target, and a success writes no
     * message). */
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    if (rc != SEG_OK || seed % 8 == 0) {
        seg_tiers *s2 = NULL;
        char *one = fz_xmalloc(1);
        one[0] = 'Z';
        int32_t rc1 = seg_tiers_load(&s2, text, size, f, "fuzz", NULL, one, 1);
        CHECK(rc1 == rc, "err_cap 1 gives %d, err_cap %d gives %d", (int)rc1, ERR_CAP, (int)rc);
        CHECK(rc1 == SEG_OK || one[0] == '\0', "err_cap 1: buffer not emptied");
        seg_tiers_free(s2);
        s2 = NULL;
        one[0] = 'Z';
        int32_t rc0 = seg_tiers_load(&s2, text, size, f, "fuzz", NULL, one, 0);
        CHECK(rc0 == rc, "err_cap 0 gives %d", (int)rc0);
        CHECK(one[0] == 'Z', "err_cap 0: buffer written");
        seg_tiers_free(s2);
        s2 = NULL;
        int32_t rcn = seg_tiers_load(&s2, text, size, f, NULL, NULL, NULL, 0);
        CHECK(rcn == rc, "NULL err_buf gives %d", (int)rcn);
        seg_tiers_free(s2);
        free(one);
    }
    if (rc != SEG_OK) {
        CHECK(set == (seg_tiers *)(uintptr_t)0x1, "failure touched *out");
        CHECK(strncmp(err, "fuzz:", 5) == 0, "message without the source: '%s'", err);
        free(text);
        return 0;
    }

    const size_t n = seg_tiers_count(set);
    CHECK(n >= 1, "a loaded set with no tier");
    const int32_t ni = (int32_t)n;
    const int catch_all = seg_tiers_has_catch_all(set);
    CHECK(catch_all == 0 || catch_all == 1, "has_catch_all %d", catch_all);
    for (int32_t i = 0; i < ni; i++) {
        const char *id = seg_tiers_id(set, i), *name = seg_tiers_name(set, i);
        CHECK(id && name, "tier %d without id or name", (int)i);
        int32_t found = -1;
        CHECK(seg_tiers_find(set, id, &found) == SEG_OK && found == i, "find('%s') gave %d", id,
              (int)found);
    }
    CHECK(seg_tiers_id(set, ni) == NULL && seg_tiers_id(set, -1) == NULL, "id of a bad index");

    /* apply without prev */
    int32_t *tier = fz_xmalloc(FZ_ROWS * sizeof *tier);
    apply_plain(set, f, tier);
    for (size_t i = 0; i < FZ_ROWS; i++) {
        CHECK(tier[i] >= -1 && tier[i] < ni, "row %zu: tier %d of %zu", i, (int)tier[i], n);
        CHECK(!catch_all || tier[i] >= 0, "row %zu: no tier although there is a catch-all", i);
    }
    {
        int32_t *alt = fz_xmalloc(FZ_ROWS * sizeof *alt);
        apply_plain(set, fz_frame_alt(), alt);
        for (size_t i = 0; i < FZ_ROWS; i++)
            CHECK(alt[i] == tier[i], "row %zu: alternative frame gives %d, the frame %d", i,
                  (int)alt[i], (int)tier[i]);
        free(alt);
    }

    /* apply with prev: labels from the input bytes */
    {
        int32_t *prev = fz_xmalloc(FZ_ROWS * sizeof *prev);
        int32_t *out = fz_xmalloc(FZ_ROWS * sizeof *out);
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < FZ_ROWS; i++) {
            h = (h ^ (i < size ? data[i] : (uint8_t)i)) * 16777619u;
            prev[i] = (int32_t)((h >> 8) % (n + 1)) - 1;
        }
        rc = seg_tiers_apply(set, f, prev, out, err, sizeof err);
        CHECK(rc == SEG_OK, "apply with prev gave %d: %s", (int)rc, err);
        for (size_t i = 0; i < FZ_ROWS; i++) {
            int32_t w = tier[i], p = prev[i], o = out[i];
            CHECK(o >= -1 && o < ni, "row %zu: tier %d", i, (int)o);
            if (p == -1)
                CHECK(o == w, "row %zu: prev unknown, when-tier %d, got %d", i, (int)w, (int)o);
            else if (w != -1 && w < p)
                CHECK(o == w, "row %zu: when-tier %d above prev %d, got %d", i, (int)w, (int)p,
                      (int)o);
            else
                CHECK(o == w || o == p, "row %zu: prev %d, when-tier %d, got %d", i, (int)p,
                      (int)w, (int)o);
        }
        /* A prev label out of range: SEG_EDATA, nothing written. */
        size_t bad = h % FZ_ROWS;
        prev[bad] = (h & 1) ? ni : -2;
        for (size_t i = 0; i < FZ_ROWS; i++)
            out[i] = 12345;
        rc = seg_tiers_apply(set, f, prev, out, err, sizeof err);
        CHECK(rc == SEG_EDATA, "apply with prev[%zu] = %d gave %d", bad, (int)prev[bad], (int)rc);
        for (size_t i = 0; i < FZ_ROWS; i++)
            CHECK(out[i] == 12345, "failed apply wrote row %zu", i);
        free(prev);
        free(out);
    }

    /* gaps */
    {
        int32_t *next = fz_xmalloc(FZ_ROWS * sizeof *next);
        int32_t *col = fz_xmalloc(FZ_ROWS * sizeof *col);
        double *gap = fz_xmalloc(FZ_ROWS * sizeof *gap);
        int32_t *nf = fz_xmalloc(FZ_ROWS * sizeof *nf);
        uint8_t *crit = fz_xmalloc(FZ_ROWS);
        const int32_t ncol = (int32_t)seg_frame_n_columns(f);
        double critical = size ? (double)(data[0] % 5) / 10.0 : 0.1;
        rc = seg_tiers_gaps(set, f, tier, critical, next, col, gap, nf, crit, err, sizeof err);
        CHECK(rc == SEG_OK, "gaps gave %d: %s", (int)rc, err);
        for (size_t i = 0; i < FZ_ROWS; i++) {
            int32_t t = tier[i];
            if (t <= 0) {
                CHECK(next[i] == -1 && col[i] == -1 && isnan(gap[i]) && nf[i] == 0 && !crit[i],
                      "row %zu in tier %d: next %d col %d gap %g failing %d critical %u", i,
                      (int)t, (int)next[i], (int)col[i], gap[i], (int)nf[i], (unsigned)crit[i]);
                continue;
            }
            CHECK(next[i] == t - 1, "row %zu in tier %d: next %d", i, (int)t, (int)next[i]);
            CHECK(col[i] >= -1 && col[i] < ncol, "row %zu: gap column %d", i, (int)col[i]);
            CHECK(nf[i] >= -1, "row %zu: failing %d", i, (int)nf[i]);
            CHECK(crit[i] == 0 || crit[i] == 1, "row %zu: critical %u", i, (unsigned)crit[i]);
            if (nf[i] == -1)
                CHECK(col[i] == -1 && isnan(gap[i]) && !crit[i],
                      "row %zu: not analysable but col %d gap %g critical %u", i, (int)col[i],
                      gap[i], (unsigned)crit[i]);
            if (nf[i] == 0)
                CHECK(!crit[i] && col[i] == -1, "row %zu: no failing comparison but critical %u"
                      " / col %d", i, (unsigned)crit[i], (int)col[i]);
            if (nf[i] > 0)
                CHECK(col[i] >= 0, "row %zu: %d failing comparisons but no column", i, (int)nf[i]);
            /* Labels come from plain apply: a row in tier t fails tier
             * t-1's condition, so an analysable one has a failing
             * comparison. */
            CHECK(nf[i] != 0, "row %zu in tier %d passes every comparison of tier %d", i, (int)t,
                  (int)(t - 1));
        }
        /* Bad critical and a bad label. */
        rc = seg_tiers_gaps(set, f, tier, -1.0, next, col, gap, nf, crit, err, sizeof err);
        CHECK(rc == SEG_EINVAL, "gaps with critical -1 gave %d", (int)rc);
        rc = seg_tiers_gaps(set, f, tier, NAN, next, col, gap, nf, crit, err, sizeof err);
        CHECK(rc == SEG_EINVAL, "gaps with critical NaN gave %d", (int)rc);
        int32_t keep = tier[FZ_ROWS / 2];
        tier[FZ_ROWS / 2] = ni;
        rc = seg_tiers_gaps(set, f, tier, 0.1, NULL, NULL, NULL, NULL, NULL, err, sizeof err);
        CHECK(rc == SEG_EDATA, "gaps with tier %d gave %d", (int)ni, (int)rc);
        tier[FZ_ROWS / 2] = keep;
        rc = seg_tiers_gaps(set, f, tier, 0.1, NULL, NULL, NULL, NULL, NULL, NULL, 0);
        CHECK(rc == SEG_OK, "gaps with NULL outputs gave %d", (int)rc);
        free(next);
        free(col);
        free(gap);
        free(nf);
        free(crit);
    }

    /* unreachable */
    for (int32_t i = 0; i < ni; i++) {
        int32_t by = -7;
        rc = seg_tiers_unreachable(set, i, &by);
        CHECK(rc == SEG_OK, "unreachable(%d) gave %d", (int)i, (int)rc);
        CHECK(by >= -1 && by < i, "unreachable(%d) = %d", (int)i, (int)by);
        if (by >= 0)
            for (size_t r = 0; r < FZ_ROWS; r++)
                CHECK(tier[r] != i, "tier %d is unreachable (by %d) but row %zu is in it", (int)i,
                      (int)by, r);
    }
    {
        int32_t by = -7;
        CHECK(seg_tiers_unreachable(set, ni, &by) == SEG_ERANGE && by == -7,
              "unreachable(count) not SEG_ERANGE");
    }

    /* save -> load -> save */
    size_t len1 = 0, len2 = 0;
    char *s1 = save_text(set, &len1);
    seg_tiers *set2 = NULL;
    rc = seg_tiers_load(&set2, s1, len1, f, "saved", NULL, err, sizeof err);
    if (rc != SEG_OK) {
        fprintf(stderr, "saved text:\n");
        fz_print_escaped(stderr, s1, len1);
        fputc('\n', stderr);
    }
    CHECK(rc == SEG_OK, "re-loading the saved text gave %d: %s", (int)rc, err);
    char *s2 = save_text(set2, &len2);
    if (len1 != len2 || memcmp(s1, s2, len1) != 0) {
        fprintf(stderr, "first save:\n");
        fz_print_escaped(stderr, s1, len1);
        fprintf(stderr, "\nsecond save:\n");
        fz_print_escaped(stderr, s2, len2);
        fputc('\n', stderr);
    }
    CHECK(len1 == len2 && memcmp(s1, s2, len1) == 0, "save(load(save(x))) != save(x)");
    CHECK(seg_tiers_count(set2) == n && seg_tiers_is_group(set2) == seg_tiers_is_group(set) &&
              seg_tiers_has_catch_all(set2) == catch_all,
          "re-loaded set differs in count/kind/catch-all");
    for (int32_t i = 0; i < ni; i++)
        CHECK(strcmp(seg_tiers_id(set, i), seg_tiers_id(set2, i)) == 0 &&
                  strcmp(seg_tiers_name(set, i), seg_tiers_name(set2, i)) == 0,
              "tier %d: id/name differ after re-load", (int)i);
    {
        int32_t *t2 = fz_xmalloc(FZ_ROWS * sizeof *t2);
        apply_plain(set2, f, t2);
        for (size_t i = 0; i < FZ_ROWS; i++)
            CHECK(t2[i] == tier[i], "row %zu: re-loaded set gives %d, the set %d", i, (int)t2[i],
                  (int)tier[i]);
        free(t2);
    }
    free(s1);
    free(s2);
    seg_tiers_free(set2);
    free(tier);
    seg_tiers_free(set);
    free(text);
    return 0;
}
