/* SPDX-License-Identifier: MIT */
/*
 * link-smoke: the smallest consumer of an installed libsegment. test-install.sh
 * builds it with nothing but `pkg-config --cflags --libs libsegment` (and
 * again with --static) against a staged install, then runs it.
 *
 * Checks that the headers and the library agree on the version, that a model
 * can be built, fitted, scored, saved and reloaded, and that a scheme maps
 * the scores. Prints one line and exits 0, or names the failed step and
 * exits 1.
 */
#include <segment/segment.h>

#include <stdio.h>
#include <string.h>

#define N 10

static int fail(const char *step, int32_t rc)
{
    fprintf(stderr, "link-smoke: %s: %s (%d)\n", step, seg_status_str(rc), (int)rc);
    return 1;
}

int main(void)
{
    /* Ten customers; customer i has recency 10 - i days, frequency i + 1,
     * monetary 100 * (i + 1): customer 9 is the best on every dimension. */
    double r[N], f[N], m[N];
    int32_t sr[N], sf[N], sm[N], seg[N];
    seg_rfm *model = NULL, *copy = NULL;
    seg_rfm_scheme *scheme = NULL;
    char text[4096], err[256];
    size_t len = 0;
    int32_t rc, champions = -1;
    int i, status = 1;

    if (seg_version_number() < SEG_VERSION_NUMBER ||
        strcmp(seg_version_string(), SEG_VERSION_STRING) != 0) {
        fprintf(stderr, "link-smoke: headers %s, library %s\n", SEG_VERSION_STRING,
                seg_version_string());
        return 1;
    }
    for (i = 0; i < N; i++) {
        r[i] = 10.0 - i;
        f[i] = i + 1.0;
        m[i] = 100.0 * (i + 1);
    }
    if ((rc = seg_rfm_new(&model, NULL)) != SEG_OK)
        return fail("seg_rfm_new", rc);
    if ((rc = seg_rfm_fit_score(model, r, f, m, N, sr, sf, sm, NULL, NULL)) != SEG_OK) {
        fail("seg_rfm_fit_score", rc);
        goto out;
    }
    /* Higher is better on all three, and recency is reversed: customer 9
     * scores the top bin everywhere, customer 0 the bottom one. */
    if (sr[N - 1] != 5 || sf[N - 1] != 5 || sm[N - 1] != 5 || sr[0] != 1 || sf[0] != 1 ||
        sm[0] != 1) {
        fprintf(stderr, "link-smoke: unexpected scores %d%d%d / %d%d%d\n", (int)sr[0],
                (int)sf[0], (int)sm[0], (int)sr[N - 1], (int)sf[N - 1], (int)sm[N - 1]);
        goto out;
    }
    if ((rc = seg_rfm_save(model, text, sizeof text, &len)) != SEG_OK) {
        fail("seg_rfm_save", rc);
        goto out;
    }
    if (strncmp(text, "libsegment-rfm 1", 16) != 0) {
        fprintf(stderr, "link-smoke: saved text starts \"%.20s\"\n", text);
        goto out;
    }
    if ((rc = seg_rfm_load(&copy, text, len, NULL, err, sizeof err)) != SEG_OK) {
        fprintf(stderr, "link-smoke: seg_rfm_load: %s\n", err);
        goto out;
    }
    if ((rc = seg_rfm_scheme_new_builtin(&scheme, SEG_SCHEME_RFM10, NULL)) != SEG_OK) {
        fail("seg_rfm_scheme_new_builtin", rc);
        goto out;
    }
    if ((rc = seg_rfm_scheme_apply(scheme, sr, sf, sm, N, seg, err, sizeof err)) != SEG_OK) {
        fprintf(stderr, "link-smoke: seg_rfm_scheme_apply: %s\n", err);
        goto out;
    }
    if ((rc = seg_rfm_scheme_find(scheme, "champions", &champions)) != SEG_OK) {
        fail("seg_rfm_scheme_find(champions)", rc);
        goto out;
    }
    if (seg[N - 1] != champions) {
        fprintf(stderr, "link-smoke: a 555 customer is in segment %s, not champions\n",
                seg_rfm_scheme_id(scheme, seg[N - 1]) ? seg_rfm_scheme_id(scheme, seg[N - 1])
                                                       : "(none)");
        goto out;
    }
    printf("link-smoke: libsegment %s OK (%u-byte model text)\n", seg_version_string(),
           (unsigned)len);
    status = 0;
out:
    seg_rfm_scheme_free(scheme);
    seg_rfm_free(copy);
    seg_rfm_free(model);
    return status;
}
