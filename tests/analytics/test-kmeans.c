/* SPDX-License-Identifier: MIT */
/*
 * Tests of k-means clustering (include/segment/kmeans.h): hand-built
 * well-separated cases with known labels, centroids and inertia; k = 1 and
 * every transform (fitted parameters checked through inertia, centroids in
 * original units and predicted distances); transforms that change the
 * partition; ordering (ORDER_BY / ORDER_ASC, default by size with ties by
 * first row); missing values; determinism (same seed, thread counts, Lloyd
 * vs Hamerly); n_init keeping the lowest inertia; empty clusters; predict
 * (one and many rows, 8 threads); the progress callback and cancellation;
 * save / load round trips; every bad input; the inertia curve; silhouette
 * against a naive O(n^2) computation; failing allocations.
 *
 * Expected values are worked out by hand in the comments next to them, or
 * computed here by a naive implementation of the documented semantics
 * (nearest centre, cluster means, silhouette), never by the library itself.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include <segment/segment.h>

#include "test-alloc.h"
#include "test-main.h"

#define NPARAMS 9

/* ---- small helpers --------------------------------------------------------- */

/* Uniform in (0, 1). */
static double rng_unit(uint64_t *s)
{
    return ((double)(seg_test_rng(s) >> 11) + 0.5) * 0x1.0p-53;
}

/* Standard normal (Box-Muller, one value per call). */
static double rng_normal(uint64_t *s)
{
    double u = rng_unit(s), v = rng_unit(s);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* |got - want| <= tol * max(1, |want|) */
#define ASSERT_NEAR(got, want, tol)                                                            \
    do {                                                                                       \
        double g_ = (got), w_ = (want), t_ = (tol);                                            \
        double s_ = fabs(w_) > 1 ? fabs(w_) : 1;                                               \
        ck_assert_msg(fabs(g_ - w_) <= t_ * s_, "%s = %.17g, expected %.17g (tol %g)", #got,   \
                      g_, w_, t_);                                                             \
    } while (0)

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* A frame of double columns: frame_d(n, "x", x, "y", y, NULL). */
static seg_frame *frame_d(size_t n, ...)
{
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, n, NULL), SEG_OK);
    va_list ap;
    va_start(ap, n);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const double *d = va_arg(ap, const double *);
        int32_t rc = seg_frame_add_double(f, name, d, NULL);
        ck_assert_msg(rc == SEG_OK, "add column %s: %d", name, (int)rc);
    }
    va_end(ap);
    return f;
}

static seg_kmeans *km_make(const seg_allocator *alloc, int32_t k)
{
    seg_kmeans *km = NULL;
    ck_assert_int_eq(seg_kmeans_new(&km, alloc), SEG_OK);
    ck_assert_ptr_nonnull(km);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
    ck_assert_int_eq(seg_kmeans_set_param(km, SEG_KM_K, k), SEG_OK);
    return km;
}

static void feat(seg_kmeans *km, const char *col, int32_t xf)
{
    int32_t rc = seg_kmeans_add_feature(km, col, xf);
    ck_assert_msg(rc == SEG_OK, "add_feature %s %d: %d %s", col, (int)xf, (int)rc,
                  seg_kmeans_last_error(km));
    ck_assert_str_eq(seg_kmeans_last_error(km), "");
}

static void param(seg_kmeans *km, int32_t p, double v)
{
    int32_t rc = seg_kmeans_set_param(km, p, v);
    ck_assert_msg(rc == SEG_OK, "set_param %d = %g: %d %s", (int)p, v, (int)rc,
                  seg_kmeans_last_error(km));
}

static double get_param(const seg_kmeans *km, int32_t p)
{
    double v = CANARY_DBL;
    ck_assert_int_eq(seg_kmeans_get_param(km, p, &v), SEG_OK);
    return v;
}

static void fit_ok(seg_kmeans *km, const seg_frame *f, int32_t *labels)
{
    int32_t rc = seg_kmeans_fit(km, f, labels);
    ck_assert_msg(rc == SEG_OK, "fit: %d %s", (int)rc, seg_kmeans_last_error(km));
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 1);
    ck_assert_str_eq(seg_kmeans_last_error(km), "");
}

static double inertia_of(const seg_kmeans *km)
{
    double v = CANARY_DBL;
    ck_assert_int_eq(seg_kmeans_result(km, &v, NULL, NULL), SEG_OK);
    return v;
}

static int32_t iter_of(const seg_kmeans *km)
{
    int32_t v = CANARY_I32;
    ck_assert_int_eq(seg_kmeans_result(km, NULL, &v, NULL), SEG_OK);
    return v;
}

static void sizes_of(const seg_kmeans *km, int64_t *out, size_t k)
{
    for (size_t i = 0; i < k; i++)
        out[i] = CANARY_I64;
    ck_assert_int_eq(seg_kmeans_result(km, NULL, NULL, out), SEG_OK);
}

static void centroids_of(const seg_kmeans *km, double *out, size_t cap)
{
    int32_t rc = seg_kmeans_centroids(km, out, cap);
    ck_assert_msg(rc == SEG_OK, "centroids: %d", (int)rc);
}

static void predict_ok(const seg_kmeans *km, const seg_frame *f, int32_t *labels, double *dist)
{
    char err[256] = "";
    int32_t rc = seg_kmeans_predict(km, f, labels, dist, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "predict: %d %s", (int)rc, err);
}

static void labels_eq(const int32_t *got, const int32_t *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: row %zu has label %d, expected %d", what, i,
                      (int)got[i], (int)want[i]);
}

static void fill_i32(int32_t *a, size_t n, int32_t v)
{
    for (size_t i = 0; i < n; i++)
        a[i] = v;
}

static void fill_dbl(double *a, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        a[i] = v;
}

static void assert_untouched_i32(const int32_t *a, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(a[i] == CANARY_I32, "%s: output [%zu] was written (%d)", what, i,
                      (int)a[i]);
}

static void assert_untouched_dbl(const double *a, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(same_bits(a[i], CANARY_DBL), "%s: output [%zu] was written (%g)", what,
                      i, a[i]);
}

/* 1 if the two label arrays induce the same partition (a bijection between
 * labels; -1 must match -1). */
static int same_partition(const int32_t *a, const int32_t *b, size_t n, int32_t k)
{
    int32_t map[1024], back[1024];
    for (int32_t i = 0; i < k; i++)
        map[i] = back[i] = -1;
    for (size_t i = 0; i < n; i++) {
        if (a[i] < 0 || b[i] < 0) {
            if (a[i] != b[i])
                return 0;
            continue;
        }
        if (a[i] >= k || b[i] >= k)
            return 0;
        if (map[a[i]] < 0 && back[b[i]] < 0) {
            map[a[i]] = b[i];
            back[b[i]] = a[i];
        }
        if (map[a[i]] != b[i] || back[b[i]] != a[i])
            return 0;
    }
    return 1;
}

/* ---- the hand-built case ------------------------------------------------------ */

/* Three tight blobs in 2-D, rows interleaved:
 *   A (5 rows): (0,0) (1,0) (0,1) (1,1) (0.5,0.5)   centroid (0.5, 0.5),   SS 4 * 0.5 = 2
 *   B (4 rows): (10,10) (11,10) (10,11) (11,11)       centroid (10.5, 10.5), SS 4 * 0.5 = 2
 *   C (3 rows): (20,0) (22,0) (21,0)                  centroid (21, 0),      SS 1 + 1 + 0 = 2
 * Inertia 6. Rows: B A C A B A C B A C A B. */
#define HN 12
static const double HX[HN] = {10, 0, 20, 1, 11, 0, 22, 10, 1, 21, 0.5, 11};
static const double HY[HN] = {10, 0, 0, 0, 10, 1, 0, 11, 1, 0, 0.5, 11};
static const char HBLOB[HN + 1] = "BACABACBACAB";
/* Default order, by descending size: A (5) = 0, B (4) = 1, C (3) = 2. */
static const int32_t H_BY_SIZE[HN] = {1, 0, 2, 0, 1, 0, 2, 1, 0, 2, 0, 1};

static const double BLOB_CX[3] = {0.5, 10.5, 21}; /* A, B, C */
static const double BLOB_CY[3] = {0.5, 10.5, 0};

/* Labels for a blob -> label map. */
static void hand_labels(int32_t *out, int32_t la, int32_t lb, int32_t lc)
{
    for (size_t i = 0; i < HN; i++)
        out[i] = HBLOB[i] == 'A' ? la : HBLOB[i] == 'B' ? lb : lc;
}

static seg_frame *hand_frame(void)
{
    return frame_d(HN, "x", HX, "y", HY, NULL);
}

static seg_kmeans *hand_model(const seg_allocator *alloc, int32_t k)
{
    seg_kmeans *km = km_make(alloc, k);
    feat(km, "x", SEG_XF_NONE);
    feat(km, "y", SEG_XF_NONE);
    return km;
}

/* Checks labels, centroids, sizes and inertia of a fit of the hand case
 * whose labels are la/lb/lc for blobs A/B/C. */
static void check_hand_fit(const seg_kmeans *km, const int32_t *labels, int32_t la, int32_t lb,
                           int32_t lc, const char *what)
{
    int32_t want[HN];
    hand_labels(want, la, lb, lc);
    labels_eq(labels, want, HN, what);
    double c[6];
    fill_dbl(c, 6, CANARY_DBL);
    centroids_of(km, c, 6);
    const int32_t lab[3] = {la, lb, lc};
    for (int b = 0; b < 3; b++) {
        ASSERT_NEAR(c[2 * lab[b]], BLOB_CX[b], 1e-12);
        ASSERT_NEAR(c[2 * lab[b] + 1], BLOB_CY[b], 1e-12);
    }
    int64_t sz[3];
    sizes_of(km, sz, 3);
    ck_assert_int_eq(sz[la], 5);
    ck_assert_int_eq(sz[lb], 4);
    ck_assert_int_eq(sz[lc], 3);
    ASSERT_NEAR(inertia_of(km), 6.0, 1e-12);
    int32_t it = iter_of(km);
    /* Seeded one centre per blob, the first iteration finds the blobs and
     * the next one changes nothing. */
    ck_assert_msg(it >= 1 && it <= 3, "%s: %d iterations", what, (int)it);
}

START_TEST(hand_three_blobs)
{
    seg_frame *f = hand_frame();
    for (int algo = 0; algo < 2; algo++) {
        for (uint64_t seed = 0; seed < 12; seed++) {
            seg_kmeans *km = hand_model(NULL, 3);
            param(km, SEG_KM_ALGORITHM, algo ? SEG_KM_HAMERLY : SEG_KM_LLOYD);
            param(km, SEG_KM_SEED, (double)seed);
            int32_t labels[HN];
            fill_i32(labels, HN, CANARY_I32);
            fit_ok(km, f, labels);
            char what[64];
            snprintf(what, sizeof what, "algorithm %d seed %d", algo, (int)seed);
            check_hand_fit(km, labels, 0, 1, 2, what);
            /* Predicting the training rows gives the fit's labels, and the
             * distances add up to the inertia. */
            int32_t pl[HN];
            double pd[HN];
            predict_ok(km, f, pl, pd);
            labels_eq(pl, labels, HN, what);
            double s = 0;
            for (size_t i = 0; i < HN; i++)
                s += pd[i];
            ASSERT_NEAR(s, 6.0, 1e-12);
            /* Rows 1 (0,0): 0.5, 10 (0.5,0.5): 0, 9 (21,0): 0, 2 (20,0): 1. */
            ASSERT_NEAR(pd[1], 0.5, 1e-12);
            ASSERT_NEAR(pd[10], 0.0, 1e-12);
            ASSERT_NEAR(pd[9], 0.0, 1e-12);
            ASSERT_NEAR(pd[2], 1.0, 1e-12);
            seg_kmeans_free(km);
        }
    }
    seg_frame_free(f);
}
END_TEST

START_TEST(hand_order_by)
{
    seg_frame *f = hand_frame();
    struct {
        int32_t by, asc, la, lb, lc;
    } cases[] = {
        /* x centroids: A 0.5, B 10.5, C 21; y centroids: A 0.5, B 10.5, C 0 */
        {0, 0, 2, 1, 0}, /* x descending: C, B, A */
        {0, 1, 0, 1, 2}, /* x ascending: A, B, C */
        {1, 0, 1, 0, 2}, /* y descending: B, A, C */
        {1, 1, 1, 2, 0}, /* y ascending: C, A, B */
        {-1, 0, 0, 1, 2}, /* by size: A 5, B 4, C 3 */
        {-1, 1, 0, 1, 2}, /* ORDER_ASC alone changes nothing */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (uint64_t seed = 0; seed < 6; seed++) {
            seg_kmeans *km = hand_model(NULL, 3);
            param(km, SEG_KM_ORDER_BY, cases[c].by);
            param(km, SEG_KM_ORDER_ASC, cases[c].asc);
            param(km, SEG_KM_SEED, (double)(seed * 1000003));
            ck_assert(get_param(km, SEG_KM_ORDER_BY) == cases[c].by);
            ck_assert(get_param(km, SEG_KM_ORDER_ASC) == cases[c].asc);
            int32_t labels[HN];
            fit_ok(km, f, labels);
            char what[64];
            snprintf(what, sizeof what, "order_by %d asc %d seed %d", (int)cases[c].by,
                     (int)cases[c].asc, (int)seed);
            check_hand_fit(km, labels, cases[c].la, cases[c].lb, cases[c].lc, what);
            /* predict uses the same numbering */
            int32_t pl[HN];
            predict_ok(km, f, pl, NULL);
            labels_eq(pl, labels, HN, what);
            seg_kmeans_free(km);
        }
    }
    seg_frame_free(f);
}
END_TEST

/* Equal sizes: ties go by first row. Blobs P (rows 0, 2), Q (rows 1, 4),
 * R (rows 3, 5): the cluster holding row 0 is 0, row 1's is 1, row 3's is 2. */
START_TEST(order_ties_by_first_row)
{
    static const double x[6] = {50, 0, 50, 100, 0, 100};
    static const double y[6] = {50, 0, 51, 0, 1, 1};
    static const int32_t want[6] = {0, 1, 0, 2, 1, 2};
    seg_frame *f = frame_d(6, "x", x, "y", y, NULL);
    for (uint64_t seed = 0; seed < 10; seed++) {
        seg_kmeans *km = km_make(NULL, 3);
        feat(km, "x", SEG_XF_NONE);
        feat(km, "y", SEG_XF_NONE);
        param(km, SEG_KM_SEED, (double)seed);
        int32_t labels[6];
        fit_ok(km, f, labels);
        labels_eq(labels, want, 6, "ties by first row");
        double c[6];
        centroids_of(km, c, 6);
        ASSERT_NEAR(c[0], 50, 1e-12);
        ASSERT_NEAR(c[1], 50.5, 1e-12);
        ASSERT_NEAR(c[2], 0, 1e-12);
        ASSERT_NEAR(c[3], 0.5, 1e-12);
        ASSERT_NEAR(c[4], 100, 1e-12);
        ASSERT_NEAR(c[5], 0.5, 1e-12);
        ASSERT_NEAR(inertia_of(km), 1.5, 1e-12); /* 3 pairs 1 apart: 3 * 2 * 0.25 */
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
}
END_TEST

/* ---- k = 1 and transforms ---------------------------------------------------------- */

/* D8 = {2,4,4,4,5,5,7,9}: mean 5, SS 32, population std 2, min 2, max 9,
 * median 4.5, type-7 quartiles 4 (position 1.75) and 5.5 (position 5.25):
 * IQR 1.5. (Type 6 would give 4 and 6.5: IQR 2.5.) */
static const double D8[8] = {2, 4, 4, 9, 5, 4, 7, 5}; /* the same values, unsorted */

typedef struct xf_case {
    int32_t xf;
    double inertia;   /* k = 1 */
    double centroid;  /* original units */
    double pred_x[3]; /* points to predict */
    double pred_d[3]; /* their squared distances */
} xf_case;

START_TEST(k1_transforms)
{
    const xf_case cases[] = {
        /* none: centre 5; (9-5)^2, (1-5)^2, (6-5)^2 */
        {SEG_XF_NONE, 32, 5, {9, 1, 6}, {16, 16, 1}},
        /* zscore: inertia n = 8 (population std 2); centre 0 = 5 */
        {SEG_XF_ZSCORE, 8, 5, {9, 1, 6}, {4, 4, 0.25}},
        /* minmax: (x-2)/7, centre 3/7; inertia 32/49; 16: ((14-3)/7)^2 */
        {SEG_XF_MINMAX, 32.0 / 49, 5, {9, 2, 16}, {16.0 / 49, 9.0 / 49, 121.0 / 49}},
        /* robust: (x-4.5)/1.5, centre 1/3; inertia 32/2.25; 9: (4/1.5)^2 */
        {SEG_XF_ROBUST, 32 / 2.25, 5, {9, 4.5, 5}, {64.0 / 9, 1.0 / 9, 0}},
    };
    seg_frame *f = frame_d(8, "v", D8, NULL);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int algo = 0; algo < 2; algo++) {
            seg_kmeans *km = km_make(NULL, 1);
            feat(km, "v", cases[c].xf);
            param(km, SEG_KM_ALGORITHM, algo);
            int32_t labels[8];
            fit_ok(km, f, labels);
            for (size_t i = 0; i < 8; i++)
                ck_assert_int_eq(labels[i], 0);
            ASSERT_NEAR(inertia_of(km), cases[c].inertia, 1e-12);
            double cen = CANARY_DBL;
            centroids_of(km, &cen, 1);
            ASSERT_NEAR(cen, cases[c].centroid, 1e-12);
            int64_t sz = CANARY_I64;
            sizes_of(km, &sz, 1);
            ck_assert_int_eq(sz, 8);
            seg_frame *p = frame_d(3, "v", cases[c].pred_x, NULL);
            int32_t pl[3];
            double pd[3];
            predict_ok(km, p, pl, pd);
            for (size_t i = 0; i < 3; i++) {
                ck_assert_int_eq(pl[i], 0);
                ASSERT_NEAR(pd[i], cases[c].pred_d[i], 1e-12);
            }
            seg_frame_free(p);
            seg_kmeans_free(km);
        }
    }
    seg_frame_free(f);
}
END_TEST

START_TEST(k1_log1p)
{
    /* log1p: centre m = mean(log1p(x)); centroid expm1(m); inertia
     * sum (log1p(x) - m)^2; predicted distance (log1p(x) - m)^2. */
    static const double v[6] = {0, 9, 99, 0.5, -0.5, 1e6};
    double m = 0, ss = 0;
    for (size_t i = 0; i < 6; i++)
        m += log1p(v[i]);
    m /= 6;
    for (size_t i = 0; i < 6; i++)
        ss += (log1p(v[i]) - m) * (log1p(v[i]) - m);
    seg_frame *f = frame_d(6, "spend", v, NULL);
    seg_kmeans *km = km_make(NULL, 1);
    feat(km, "spend", SEG_XF_LOG1P);
    fit_ok(km, f, NULL);
    ASSERT_NEAR(inertia_of(km), ss, 1e-12);
    double cen;
    centroids_of(km, &cen, 1);
    ASSERT_NEAR(cen, expm1(m), 1e-12);
    static const double px[4] = {0, 1000, -0.999, 7};
    seg_frame *p = frame_d(4, "spend", px, NULL);
    double pd[4];
    int32_t pl[4];
    predict_ok(km, p, pl, pd);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(pl[i], 0);
        ASSERT_NEAR(pd[i], (log1p(px[i]) - m) * (log1p(px[i]) - m), 1e-12);
    }
    seg_frame_free(p);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

START_TEST(transform_degenerate_scales)
{
    /* A constant column: std 0, max == min, IQR 0 all give scale 1, so a
     * predicted point 2 away lies at squared distance 4. */
    static const double c4[4] = {3, 3, 3, 3};
    static const double px[2] = {5, 3};
    const int32_t xfs[3] = {SEG_XF_ZSCORE, SEG_XF_MINMAX, SEG_XF_ROBUST};
    seg_frame *f = frame_d(4, "c", c4, NULL);
    seg_frame *p = frame_d(2, "c", px, NULL);
    for (int t = 0; t < 3; t++) {
        seg_kmeans *km = km_make(NULL, 1);
        feat(km, "c", xfs[t]);
        fit_ok(km, f, NULL);
        ASSERT_NEAR(inertia_of(km), 0, 1e-15);
        double cen;
        centroids_of(km, &cen, 1);
        ASSERT_NEAR(cen, 3, 1e-15);
        double pd[2];
        int32_t pl[2];
        predict_ok(km, p, pl, pd);
        ASSERT_NEAR(pd[0], 4, 1e-12);
        ASSERT_NEAR(pd[1], 0, 1e-15);
        seg_kmeans_free(km);
    }
    seg_frame_free(p);
    seg_frame_free(f);

    /* IQR 0 but not constant: {5 x7, 9}: quartiles at 1.75 and 5.25 are
     * both 5, so the scale is 1 and the inertia is the raw SS: mean 5.5,
     * 7 * 0.25 + 3.5^2 = 14. */
    static const double q[8] = {5, 5, 9, 5, 5, 5, 5, 5};
    f = frame_d(8, "q", q, NULL);
    seg_kmeans *km = km_make(NULL, 1);
    feat(km, "q", SEG_XF_ROBUST);
    fit_ok(km, f, NULL);
    ASSERT_NEAR(inertia_of(km), 14, 1e-12);
    seg_kmeans_free(km);
    seg_frame_free(f);

    /* Ten values 1..9, 100: type-7 quartiles 3.25 and 7.75, IQR 4.5; mean
     * 14.5, SS 10285 - 10 * 14.5^2 = 8182.5. */
    static const double r[10] = {100, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    f = frame_d(10, "r", r, NULL);
    km = km_make(NULL, 1);
    feat(km, "r", SEG_XF_ROBUST);
    fit_ok(km, f, NULL);
    ASSERT_NEAR(inertia_of(km), 8182.5 / (4.5 * 4.5), 1e-12);
    double cen;
    centroids_of(km, &cen, 1);
    ASSERT_NEAR(cen, 14.5, 1e-12);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

/* Values near DBL_MAX (found by fuzz_analytics). A z-score of {±1e300}
 * has standard deviation 1e300, which the sum of squares cannot hold: the
 * scale must still come out finite (and the model save and load). A spread
 * whose scale does overflow, and raw values whose squared distances do, are
 * SEG_EDATA naming the feature, with the model left unfitted. */
START_TEST(values_near_dbl_max)
{
    static const double big[4] = {1e300, -1e300, 1e300, -1e300};
    seg_frame *f = frame_d(4, "big", big, NULL);
    seg_kmeans *km = km_make(NULL, 2);
    feat(km, "big", SEG_XF_ZSCORE);
    fit_ok(km, f, NULL);
    ASSERT_NEAR(inertia_of(km), 0, 1e-15);
    double cen[2];
    centroids_of(km, cen, 2);
    ck_assert(fabs(cen[0]) == 1e300 && cen[0] == -cen[1]);
    size_t need = 0;
    ck_assert_int_eq(seg_kmeans_save(km, NULL, 0, &need), SEG_OK);
    char *text = malloc(need + 1);
    ck_assert_int_eq(seg_kmeans_save(km, text, need + 1, &need), SEG_OK);
    seg_kmeans *back = NULL;
    ck_assert_int_eq(seg_kmeans_load(&back, text, need, "t", NULL, NULL, 0), SEG_OK);
    seg_kmeans_free(back);
    free(text);
    seg_kmeans_free(km);
    seg_frame_free(f);

    /* {±DBL_MAX, 1, 2}: the z-score (sd DBL_MAX / sqrt 2) and the IQR
     * (DBL_MAX / 2) are finite, the min-max range is not; untransformed,
     * the squared distances overflow, also for ±1e200. */
    static const double apart[4] = {DBL_MAX, -DBL_MAX, 1, 2};
    static const double raw[4] = {1e200, -1e200, 1, 2};
    const struct {
        const double *x;
        int32_t xf, rc;
    } cases[] = {{apart, SEG_XF_ZSCORE, SEG_OK}, {apart, SEG_XF_ROBUST, SEG_OK},
                 {apart, SEG_XF_MINMAX, SEG_EDATA}, {apart, SEG_XF_NONE, SEG_EDATA},
                 {raw, SEG_XF_NONE, SEG_EDATA}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        f = frame_d(4, "wide", cases[t].x, NULL);
        km = km_make(NULL, 2);
        feat(km, "wide", cases[t].xf);
        int32_t lab[4] = {CANARY_I32, CANARY_I32, CANARY_I32, CANARY_I32};
        int32_t rc = seg_kmeans_fit(km, f, lab);
        ck_assert_msg(rc == cases[t].rc, "case %zu: %d", t, (int)rc);
        if (rc == SEG_OK) {
            /* Ends of the line alone, and {1, 2} together. */
            ck_assert(lab[0] != lab[1] && lab[2] == lab[3]);
            ck_assert(isfinite(inertia_of(km)));
        } else {
            ck_assert(seg_test_has_word(seg_kmeans_last_error(km), "wide"));
            ck_assert(seg_test_has_word(seg_kmeans_last_error(km), "overflow"));
            ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
            for (size_t i = 0; i < 4; i++)
                ck_assert_int_eq(lab[i], CANARY_I32);
        }
        seg_kmeans_free(km);
        seg_frame_free(f);
    }
}
END_TEST

/* Transforms are fitted on the rows used for fitting: row 8 has a = 1000
 * but b missing, so a's z-score uses D8 alone (mean 5, std 2). */
START_TEST(transform_fitted_on_complete_rows)
{
    double a[9], b[9];
    for (size_t i = 0; i < 8; i++) {
        a[i] = D8[i];
        b[i] = 0;
    }
    a[8] = 1000;
    b[8] = NAN;
    seg_frame *f = frame_d(9, "a", a, "b", b, NULL);
    const int32_t xfs[4] = {SEG_XF_ZSCORE, SEG_XF_MINMAX, SEG_XF_ROBUST, SEG_XF_LOG1P};
    const double want[4] = {8, 32.0 / 49, 32 / 2.25, -1};
    for (int t = 0; t < 4; t++) {
        seg_kmeans *km = km_make(NULL, 1);
        feat(km, "a", xfs[t]);
        feat(km, "b", SEG_XF_ZSCORE);
        int32_t labels[9];
        fill_i32(labels, 9, CANARY_I32);
        fit_ok(km, f, labels);
        for (size_t i = 0; i < 8; i++)
            ck_assert_int_eq(labels[i], 0);
        ck_assert_int_eq(labels[8], -1);
        double w = want[t];
        if (w < 0) {
            double m = 0;
            w = 0;
            for (size_t i = 0; i < 8; i++)
                m += log1p(D8[i]) / 8;
            for (size_t i = 0; i < 8; i++)
                w += (log1p(D8[i]) - m) * (log1p(D8[i]) - m);
        }
        ASSERT_NEAR(inertia_of(km), w, 1e-12);
        double c[2];
        centroids_of(km, c, 2);
        if (xfs[t] != SEG_XF_LOG1P)
            ASSERT_NEAR(c[0], 5, 1e-12);
        ASSERT_NEAR(c[1], 0, 1e-15);
        int64_t sz;
        sizes_of(km, &sz, 1);
        ck_assert_int_eq(sz, 8);
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
}
END_TEST

/* log1p changes the partition of {0, 1, 2, 999, 1999, 2999}, k = 2:
 *  raw: the only stable split is {0,1,2,999} | {1999,2999}: means 250.5
 *       and 2499, SS 747005 + 500000 = 1247005;
 *  log1p: {0,1,2} | {999,1999,2999}; the log values of the second group
 *       are those of the first plus ln 1000, so the inertia is twice the
 *       SS of {0, ln 2, ln 3}; centroids expm1(mean) = cbrt(1*2*3) - 1 and
 *       cbrt(1000*2000*3000) - 1. Sizes tie 3/3: row 0's cluster is 0. */
START_TEST(log1p_changes_partition)
{
    static const double v[6] = {0, 1, 2, 999, 1999, 2999};
    seg_frame *f = frame_d(6, "m", v, NULL);

    seg_kmeans *km = km_make(NULL, 2);
    feat(km, "m", SEG_XF_NONE);
    param(km, SEG_KM_N_INIT, 5);
    int32_t labels[6];
    fit_ok(km, f, labels);
    static const int32_t raw_want[6] = {0, 0, 0, 0, 1, 1};
    labels_eq(labels, raw_want, 6, "raw");
    ASSERT_NEAR(inertia_of(km), 1247005, 1e-12);
    double c[2];
    centroids_of(km, c, 2);
    ASSERT_NEAR(c[0], 250.5, 1e-12);
    ASSERT_NEAR(c[1], 2499, 1e-12);
    seg_kmeans_free(km);

    km = km_make(NULL, 2);
    feat(km, "m", SEG_XF_LOG1P);
    param(km, SEG_KM_N_INIT, 5);
    fit_ok(km, f, labels);
    static const int32_t log_want[6] = {0, 0, 0, 1, 1, 1};
    labels_eq(labels, log_want, 6, "log1p");
    double m = (log(2.0) + log(3.0)) / 3;
    double ss = m * m + (log(2.0) - m) * (log(2.0) - m) + (log(3.0) - m) * (log(3.0) - m);
    ASSERT_NEAR(inertia_of(km), 2 * ss, 1e-12);
    centroids_of(km, c, 2);
    ASSERT_NEAR(c[0], cbrt(6.0) - 1, 1e-12);
    ASSERT_NEAR(c[1], cbrt(6e9) - 1, 1e-12);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

/* x in {0, 1000}, y in {0, 5}, two rows of each combination. Raw, k = 2
 * splits by x (inertia 50 against 2e6). With x min-max scaled to {0, 1},
 * z-scored to {-1, 1} or robust-scaled ((x - 500) / 1000) the y split wins
 * (inertia 2, 8, 2 against 50). Row 0 is (0, 0): its cluster is 0. */
START_TEST(scaling_changes_partition)
{
    static const double x[8] = {0, 1000, 0, 1000, 0, 1000, 1000, 0};
    static const double y[8] = {0, 0, 5, 5, 0, 5, 0, 5};
    static const int32_t by_x[8] = {0, 1, 0, 1, 0, 1, 1, 0};
    static const int32_t by_y[8] = {0, 0, 1, 1, 0, 1, 0, 1};
    seg_frame *f = frame_d(8, "x", x, "y", y, NULL);
    const int32_t xfs[4] = {SEG_XF_NONE, SEG_XF_MINMAX, SEG_XF_ZSCORE, SEG_XF_ROBUST};
    const double inert[4] = {50, 2, 8, 2};
    for (int t = 0; t < 4; t++) {
        seg_kmeans *km = km_make(NULL, 2);
        feat(km, "x", xfs[t]);
        feat(km, "y", SEG_XF_NONE);
        param(km, SEG_KM_N_INIT, 4);
        int32_t labels[8];
        fit_ok(km, f, labels);
        labels_eq(labels, t == 0 ? by_x : by_y, 8, t == 0 ? "raw" : "scaled x");
        ASSERT_NEAR(inertia_of(km), inert[t], 1e-12);
        double c[4];
        centroids_of(km, c, 4);
        if (t == 0) {
            ASSERT_NEAR(c[0], 0, 1e-12);
            ASSERT_NEAR(c[1], 2.5, 1e-12);
            ASSERT_NEAR(c[2], 1000, 1e-12);
            ASSERT_NEAR(c[3], 2.5, 1e-12);
        } else {
            ASSERT_NEAR(c[0], 500, 1e-12);
            ASSERT_NEAR(c[1], 0, 1e-12);
            ASSERT_NEAR(c[2], 500, 1e-12);
            ASSERT_NEAR(c[3], 5, 1e-12);
        }
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
}
END_TEST

/* ---- missing values ---------------------------------------------------------------- */

/* The hand blobs doubled to integers (A (0,0) (2,0) (0,2) (2,2) (1,1) ...,
 * inertia 4 * 6 = 24) plus rows with a missing value in some feature and
 * wild values in the others, which must not move anything:
 *   row 12: x NaN,              y 1e9
 *   row 13: x 1e9,              y (int64) validity bit clear
 *   row 14: x validity bit clear (value 1e9), y 5
 *   row 15: both missing
 *   row 16: z (int32) missing, x 0, y 0
 * Features x (double, bitmap), y (int64, bitmap), z (int32, bitmap, all 7). */
START_TEST(missing_values)
{
    enum { N = 17 };
    double x[N];
    int64_t y[N];
    int32_t z[N];
    for (size_t i = 0; i < HN; i++) {
        x[i] = 2 * HX[i];
        y[i] = (int64_t)(2 * HY[i]);
    }
    x[12] = NAN;
    y[12] = 1000000000;
    x[13] = 1e9;
    y[13] = -77;
    x[14] = 1e9;
    y[14] = 5;
    x[15] = NAN;
    y[15] = 3;
    x[16] = 0;
    y[16] = 0;
    for (size_t i = 0; i < N; i++)
        z[i] = 7;
    z[16] = 1000000;
    unsigned char vx[3], vy[3], vz[3];
    seg_test_bitmap("11111111111111011", vx);
    seg_test_bitmap("11111111111110111", vy);
    seg_test_bitmap("11111111111111110", vz);
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, N, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(f, "x", x, vx), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int64(f, "y", y, vy), SEG_OK);
    ck_assert_int_eq(seg_frame_add_int32(f, "z", z, vz), SEG_OK);

    for (int algo = 0; algo < 2; algo++) {
        seg_kmeans *km = km_make(NULL, 3);
        feat(km, "x", SEG_XF_NONE);
        feat(km, "y", SEG_XF_NONE);
        feat(km, "z", SEG_XF_ZSCORE);
        param(km, SEG_KM_ALGORITHM, algo);
        int32_t labels[N];
        fill_i32(labels, N, CANARY_I32);
        fit_ok(km, f, labels);
        labels_eq(labels, H_BY_SIZE, HN, "complete rows");
        for (size_t i = HN; i < N; i++)
            ck_assert_msg(labels[i] == -1, "row %zu: label %d", i, (int)labels[i]);
        ASSERT_NEAR(inertia_of(km), 24, 1e-12);
        double c[9];
        centroids_of(km, c, 9);
        for (int b = 0; b < 3; b++) {
            ASSERT_NEAR(c[3 * b], 2 * BLOB_CX[b], 1e-12);
            ASSERT_NEAR(c[3 * b + 1], 2 * BLOB_CY[b], 1e-12);
            ASSERT_NEAR(c[3 * b + 2], 7, 1e-12);
        }
        int64_t sz[3];
        sizes_of(km, sz, 3);
        ck_assert_int_eq(sz[0], 5);
        ck_assert_int_eq(sz[1], 4);
        ck_assert_int_eq(sz[2], 3);

        int32_t pl[N];
        double pd[N];
        predict_ok(km, f, pl, pd);
        labels_eq(pl, labels, N, "predict");
        for (size_t i = HN; i < N; i++)
            ck_assert_msg(isnan(pd[i]), "row %zu: distance %g", i, pd[i]);
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
}
END_TEST

/* ---- generated data ----------------------------------------------------------------- */

typedef struct gdata {
    size_t n;
    double *col[3];
    int32_t *truth;
} gdata;

/* n rows of k Gaussian blobs in 3-D. Centres: sep * (corner of a cube)
 * for the first 8 blobs when `grid`, else uniform in [0, sep]^3. */
static gdata gen_blobs(size_t n, int32_t k, double sep, double sd, int grid, uint64_t seed)
{
    gdata g;
    g.n = n;
    for (int j = 0; j < 3; j++)
        g.col[j] = malloc(n * sizeof(double));
    g.truth = malloc(n * sizeof(int32_t));
    uint64_t s = seed;
    double cen[64][3];
    for (int32_t c = 0; c < k; c++)
        for (int j = 0; j < 3; j++)
            cen[c][j] = grid ? sep * (double)((c >> j) & 1) + (c >> 3) * 3 * sep
                             : sep * rng_unit(&s);
    for (size_t i = 0; i < n; i++) {
        int32_t c = (int32_t)(seg_test_rng(&s) % (uint64_t)k);
        g.truth[i] = c;
        for (int j = 0; j < 3; j++)
            g.col[j][i] = cen[c][j] + sd * rng_normal(&s);
    }
    return g;
}

static void gdata_free(gdata *g)
{
    for (int j = 0; j < 3; j++)
        free(g->col[j]);
    free(g->truth);
}

static seg_frame *gframe(const gdata *g)
{
    return frame_d(g->n, "a", g->col[0], "b", g->col[1], "c", g->col[2], NULL);
}

static seg_kmeans *gmodel(const seg_allocator *alloc, int32_t k, int32_t xf)
{
    seg_kmeans *km = km_make(alloc, k);
    feat(km, "a", xf);
    feat(km, "b", xf);
    feat(km, "c", xf);
    return km;
}

/* Everything a fit produced, for bitwise comparisons. */
typedef struct fitres {
    int32_t k;
    size_t n;
    int32_t *labels;
    double cen[1024 * 3];
    double inertia;
    int32_t iter;
    int64_t sizes[1024];
} fitres;

static fitres *fit_capture(seg_kmeans *km, const seg_frame *f)
{
    fitres *r = calloc(1, sizeof *r);
    r->n = seg_frame_n_rows(f);
    r->k = (int32_t)get_param(km, SEG_KM_K);
    r->labels = malloc((r->n ? r->n : 1) * sizeof(int32_t));
    fit_ok(km, f, r->labels);
    centroids_of(km, r->cen, (size_t)r->k * 3);
    ck_assert_int_eq(seg_kmeans_result(km, &r->inertia, &r->iter, r->sizes), SEG_OK);
    return r;
}

static void fitres_free(fitres *r)
{
    if (r) {
        free(r->labels);
        free(r);
    }
}

static void fitres_same(const fitres *a, const fitres *b, const char *what)
{
    ck_assert_int_eq(a->k, b->k);
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_msg(memcmp(a->labels, b->labels, a->n * sizeof(int32_t)) == 0,
                  "%s: labels differ", what);
    ck_assert_msg(memcmp(a->cen, b->cen, (size_t)a->k * 3 * sizeof(double)) == 0,
                  "%s: centroids differ", what);
    ck_assert_msg(same_bits(a->inertia, b->inertia), "%s: inertia %.17g vs %.17g", what,
                  a->inertia, b->inertia);
    ck_assert_msg(a->iter == b->iter, "%s: iterations %d vs %d", what, (int)a->iter,
                  (int)b->iter);
    ck_assert_msg(memcmp(a->sizes, b->sizes, (size_t)a->k * sizeof(int64_t)) == 0,
                  "%s: sizes differ", what);
}

/* Checks that a converged fit on raw features (XF_NONE) is a Lloyd fixed
 * point, computed naively: every row's label is its nearest centroid, each
 * centroid is the mean of its rows, the sizes count them and the inertia
 * is the sum of squared distances. */
static void check_fixed_point(const gdata *g, const fitres *r)
{
    int32_t k = r->k;
    double *sum = calloc((size_t)k * 3, sizeof(double));
    int64_t *cnt = calloc((size_t)k, sizeof(int64_t));
    double inertia = 0;
    size_t ties = 0;
    for (size_t i = 0; i < g->n; i++) {
        double best = INFINITY, second = INFINITY;
        int32_t bl = -1;
        for (int32_t c = 0; c < k; c++) {
            double d = 0;
            for (int j = 0; j < 3; j++) {
                double t = g->col[j][i] - r->cen[3 * c + j];
                d += t * t;
            }
            if (d < best) {
                second = best;
                best = d;
                bl = c;
            } else if (d < second) {
                second = d;
            }
        }
        if (second - best <= 1e-9 * (1 + best)) {
            ties++; /* too close to call in floating point */
        } else {
            ck_assert_msg(r->labels[i] == bl, "row %zu: label %d, nearest centroid %d", i,
                          (int)r->labels[i], (int)bl);
        }
        int32_t l = r->labels[i];
        ck_assert(l >= 0 && l < k);
        cnt[l]++;
        double d = 0;
        for (int j = 0; j < 3; j++) {
            sum[3 * l + j] += g->col[j][i];
            double t = g->col[j][i] - r->cen[3 * l + j];
            d += t * t;
        }
        inertia += d;
    }
    ck_assert_uint_le(ties, g->n / 1000 + 1);
    for (int32_t c = 0; c < k; c++) {
        ck_assert_int_eq(cnt[c], r->sizes[c]);
        ck_assert_int_gt(cnt[c], 0);
        for (int j = 0; j < 3; j++)
            ASSERT_NEAR(r->cen[3 * c + j], sum[3 * c + j] / (double)cnt[c], 1e-9);
    }
    ASSERT_NEAR(r->inertia, inertia, 1e-9);
    /* default order: descending size */
    for (int32_t c = 1; c < k; c++)
        ck_assert_int_ge(r->sizes[c - 1], r->sizes[c]);
    free(sum);
    free(cnt);
}

START_TEST(fixed_point_overlapping)
{
    gdata g = gen_blobs(20000, 8, 20, 3, 0, 7);
    seg_frame *f = gframe(&g);
    for (int algo = 0; algo < 2; algo++) {
        seg_kmeans *km = gmodel(NULL, 8, SEG_XF_NONE);
        param(km, SEG_KM_ALGORITHM, algo);
        param(km, SEG_KM_TOL, 0);
        param(km, SEG_KM_MAX_ITER, 100000);
        param(km, SEG_KM_SEED, 99);
        fitres *r = fit_capture(km, f);
        check_fixed_point(&g, r);
        fitres_free(r);
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

START_TEST(determinism_same_seed)
{
    gdata g = gen_blobs(30000, 8, 20, 3, 0, 11);
    seg_frame *f = gframe(&g);
    for (int algo = 0; algo < 2; algo++) {
        for (int xf = SEG_XF_NONE; xf <= SEG_XF_ROBUST; xf += 2) { /* none, zscore, robust */
            fitres *ref = NULL;
            for (int rep = 0; rep < 2; rep++) {
                seg_kmeans *km = gmodel(NULL, 8, xf);
                param(km, SEG_KM_ALGORITHM, algo);
                param(km, SEG_KM_SEED, 123456789);
                param(km, SEG_KM_N_INIT, 2);
                fitres *r = fit_capture(km, f);
                /* a refit of the same model gives the same again */
                fitres *r2 = fit_capture(km, f);
                fitres_same(r, r2, "refit");
                fitres_free(r2);
                if (!ref)
                    ref = r;
                else {
                    fitres_same(ref, r, "same seed");
                    fitres_free(r);
                }
                seg_kmeans_free(km);
            }
            fitres_free(ref);
        }
    }
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

START_TEST(determinism_threads)
{
    gdata g = gen_blobs(40000, 8, 20, 3, 0, 12);
    seg_frame *f = gframe(&g);
    const int32_t threads[] = {2, 3, 4, 256};
    for (int algo = 0; algo < 2; algo++) {
        seg_kmeans *km = gmodel(NULL, 8, SEG_XF_ZSCORE);
        param(km, SEG_KM_ALGORITHM, algo);
        param(km, SEG_KM_SEED, 5);
        param(km, SEG_KM_N_INIT, 2);
        param(km, SEG_KM_THREADS, 1);
        fitres *ref = fit_capture(km, f);
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
            param(km, SEG_KM_THREADS, threads[t]);
            ck_assert(get_param(km, SEG_KM_THREADS) == threads[t]);
            fitres *r = fit_capture(km, f);
            char what[64];
            snprintf(what, sizeof what, "algorithm %d, %d threads vs 1", algo, (int)threads[t]);
            fitres_same(ref, r, what);
            fitres_free(r);
        }
        fitres_free(ref);
        seg_kmeans_free(km);
    }
    /* More threads than rows. */
    seg_frame *h = hand_frame();
    seg_kmeans *km = hand_model(NULL, 3);
    param(km, SEG_KM_THREADS, 256);
    int32_t labels[HN];
    fit_ok(km, h, labels);
    check_hand_fit(km, labels, 0, 1, 2, "256 threads, 12 rows");
    seg_kmeans_free(km);
    seg_frame_free(h);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* Well separated (8 blobs on the corners of a cube of side 100, sd 1):
 * Lloyd and Hamerly find the generating partition and the same labels. */
START_TEST(lloyd_vs_hamerly)
{
    gdata g = gen_blobs(50000, 8, 100, 1, 1, 13);
    seg_frame *f = gframe(&g);
    for (uint64_t seed = 0; seed < 3; seed++) {
        fitres *r[2];
        for (int algo = 0; algo < 2; algo++) {
            seg_kmeans *km = gmodel(NULL, 8, SEG_XF_NONE);
            param(km, SEG_KM_ALGORITHM, algo);
            param(km, SEG_KM_SEED, (double)seed);
            param(km, SEG_KM_N_INIT, 3);
            ck_assert(get_param(km, SEG_KM_ALGORITHM) == algo);
            r[algo] = fit_capture(km, f);
            ck_assert_msg(same_partition(r[algo]->labels, g.truth, g.n, 8),
                          "algorithm %d seed %d: not the generating partition", algo, (int)seed);
            seg_kmeans_free(km);
        }
        labels_eq(r[1]->labels, r[0]->labels, g.n, "hamerly vs lloyd");
        for (int c = 0; c < 24; c++)
            ASSERT_NEAR(r[1]->cen[c], r[0]->cen[c], 1e-12);
        ASSERT_NEAR(r[1]->inertia, r[0]->inertia, 1e-12);
        ck_assert(memcmp(r[0]->sizes, r[1]->sizes, 8 * sizeof(int64_t)) == 0);
        check_fixed_point(&g, r[0]);
        fitres_free(r[0]);
        fitres_free(r[1]);
    }
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* Labels stay comparable across refits: with ORDER_BY, any seed gives the
 * same numbering of the same clusters. */
START_TEST(order_stable_across_seeds)
{
    gdata g = gen_blobs(5000, 6, 100, 1, 1, 14);
    for (int j = 0; j < 3; j++) /* log1p needs values above -1 */
        for (size_t i = 0; i < g.n; i++)
            g.col[j][i] += 10;
    seg_frame *f = gframe(&g);
    int32_t *ref = malloc(g.n * sizeof *ref), *lab = malloc(g.n * sizeof *lab);
    for (uint64_t seed = 0; seed < 8; seed++) {
        seg_kmeans *km = gmodel(NULL, 6, SEG_XF_LOG1P);
        param(km, SEG_KM_ORDER_BY, 2);
        param(km, SEG_KM_ORDER_ASC, 0);
        param(km, SEG_KM_SEED, (double)(seed * 7919));
        fit_ok(km, f, seed ? lab : ref);
        if (seed)
            labels_eq(lab, ref, g.n, "order_by across seeds");
        double c[18];
        centroids_of(km, c, 18);
        for (int k = 1; k < 6; k++)
            ck_assert_msg(c[3 * k + 2] <= c[3 * (k - 1) + 2], "centroid c of %d above %d", k,
                          k - 1);
        seg_kmeans_free(km);
    }
    free(ref);
    free(lab);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* ---- n_init -------------------------------------------------------------------------- */

/* Run r of a fit uses the generator seeded with seed + r, i.e. the same
 * run as a single-run fit with seed + r: n_init = 6 keeps the lowest
 * inertia of those six. */
START_TEST(n_init_keeps_lowest)
{
    gdata g = gen_blobs(600, 10, 10, 3, 0, 15); /* a mush: runs disagree */
    seg_frame *f = gframe(&g);
    const double seed = 1000;
    for (int algo = 0; algo < 2; algo++) {
        fitres *single[6];
        int best = 0, distinct = 0;
        for (int r = 0; r < 6; r++) {
            seg_kmeans *km = gmodel(NULL, 7, SEG_XF_NONE);
            param(km, SEG_KM_ALGORITHM, algo);
            param(km, SEG_KM_SEED, seed + r);
            single[r] = fit_capture(km, f);
            if (single[r]->inertia < single[best]->inertia)
                best = r;
            if (r && !same_bits(single[r]->inertia, single[0]->inertia))
                distinct = 1;
            seg_kmeans_free(km);
        }
        ck_assert_msg(distinct, "the runs all reach one inertia: the test proves nothing");
        seg_kmeans *km = gmodel(NULL, 7, SEG_XF_NONE);
        param(km, SEG_KM_ALGORITHM, algo);
        param(km, SEG_KM_SEED, seed);
        param(km, SEG_KM_N_INIT, 6);
        ck_assert(get_param(km, SEG_KM_N_INIT) == 6);
        fitres *all = fit_capture(km, f);
        fitres_same(single[best], all, "n_init 6 vs the best single run");
        fitres_free(all);
        /* n_init = 3 only sees seeds 1000..1002 */
        int best3 = 0;
        for (int r = 1; r < 3; r++)
            if (single[r]->inertia < single[best3]->inertia)
                best3 = r;
        param(km, SEG_KM_N_INIT, 3);
        all = fit_capture(km, f);
        fitres_same(single[best3], all, "n_init 3");
        fitres_free(all);
        for (int r = 0; r < 6; r++)
            fitres_free(single[r]);
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* ---- empty clusters -------------------------------------------------------------------- */

/* k above the number of distinct points: every cluster keeps a row, the
 * inertia is 0 and every row sits on its centroid. */
START_TEST(empty_clusters)
{
    static const double x[8] = {1, 5, 1, 9, 5, 1, 9, 5};
    static const double y[8] = {2, 6, 2, 1, 6, 2, 1, 6};
    seg_frame *f = frame_d(8, "x", x, "y", y, NULL);
    for (int algo = 0; algo < 2; algo++) {
        for (int32_t k = 3; k <= 8; k++) {
            for (uint64_t seed = 0; seed < 4; seed++) {
                seg_kmeans *km = km_make(NULL, k);
                feat(km, "x", SEG_XF_NONE);
                feat(km, "y", SEG_XF_NONE);
                param(km, SEG_KM_ALGORITHM, algo);
                param(km, SEG_KM_SEED, (double)seed);
                int32_t labels[8];
                fit_ok(km, f, labels);
                ck_assert_msg(inertia_of(km) == 0, "k %d: inertia %g", (int)k, inertia_of(km));
                int64_t sz[8];
                sizes_of(km, sz, (size_t)k);
                int64_t total = 0;
                for (int32_t c = 0; c < k; c++) {
                    ck_assert_msg(sz[c] >= 1, "k %d: cluster %d is empty", (int)k, (int)c);
                    total += sz[c];
                }
                ck_assert_int_eq(total, 8);
                double c[16];
                centroids_of(km, c, (size_t)k * 2);
                int64_t cnt[8] = {0};
                for (size_t i = 0; i < 8; i++) {
                    ck_assert(labels[i] >= 0 && labels[i] < k);
                    cnt[labels[i]]++;
                    ck_assert(c[2 * labels[i]] == x[i] && c[2 * labels[i] + 1] == y[i]);
                }
                for (int32_t j = 0; j < k; j++)
                    ck_assert_int_eq(cnt[j], sz[j]);
                seg_kmeans_free(km);
            }
        }
    }
    seg_frame_free(f);

    /* all rows equal */
    static const double same[5] = {4, 4, 4, 4, 4};
    f = frame_d(5, "x", same, NULL);
    seg_kmeans *km = km_make(NULL, 3);
    feat(km, "x", SEG_XF_ZSCORE);
    int32_t labels[5];
    fit_ok(km, f, labels);
    ck_assert(inertia_of(km) == 0);
    int64_t sz[3];
    sizes_of(km, sz, 3);
    ck_assert(sz[0] >= 1 && sz[1] >= 1 && sz[2] >= 1 && sz[0] + sz[1] + sz[2] == 5);
    double c[3];
    centroids_of(km, c, 3);
    ck_assert(c[0] == 4 && c[1] == 4 && c[2] == 4);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

/* ---- predict ----------------------------------------------------------------------- */

START_TEST(predict_rows)
{
    seg_frame *f = hand_frame();
    seg_kmeans *km = hand_model(NULL, 3);
    param(km, SEG_KM_ORDER_BY, 0); /* C 0, B 1, A 2 */
    fit_ok(km, f, NULL);

    /* one row, columns in another order, an extra column */
    static const double one_y[1] = {9}, one_x[1] = {12}, extra[1] = {1e300};
    seg_frame *p = frame_d(1, "other", extra, "y", one_y, "x", one_x, NULL);
    int32_t l = CANARY_I32;
    double d = CANARY_DBL;
    predict_ok(km, p, &l, &d);
    ck_assert_int_eq(l, 1); /* B (10.5, 10.5): 1.5^2 + 1.5^2 = 4.5 */
    ASSERT_NEAR(d, 4.5, 1e-12);
    l = CANARY_I32;
    char err[8];
    ck_assert_int_eq(seg_kmeans_predict(km, p, &l, NULL, NULL, 0), SEG_OK);
    ck_assert_int_eq(l, 1);
    ck_assert_int_eq(seg_kmeans_predict(km, p, &l, NULL, err, sizeof err), SEG_OK);
    seg_frame_free(p);

    /* many rows, some missing */
    static const double mx[6] = {100, -3, 21, NAN, 5, 5.25};
    static const double my[6] = {0, -4, 1, 0, 5, 5.25};
    /* 100,0 -> C (79^2); -3,-4 -> A (3.5^2 + 4.5^2 = 32.5); 21,1 -> C (1);
     * 5,5 -> A (4.5^2 * 2 = 40.5; B is 5.5^2 * 2 = 60.5);
     * 5.25,5.25 -> A (4.75^2 * 2 = 45.125; B 5.25^2 * 2 = 55.125) */
    p = frame_d(6, "x", mx, "y", my, NULL);
    int32_t pl[6];
    double pd[6];
    predict_ok(km, p, pl, pd);
    static const int32_t want[6] = {0, 2, 0, -1, 2, 2};
    static const double wd[6] = {6241, 32.5, 1, NAN, 40.5, 45.125};
    labels_eq(pl, want, 6, "predict");
    for (size_t i = 0; i < 6; i++) {
        if (i == 3)
            ck_assert(isnan(pd[i]));
        else
            ASSERT_NEAR(pd[i], wd[i], 1e-12);
    }
    /* out_dist NULL */
    fill_i32(pl, 6, CANARY_I32);
    ck_assert_int_eq(seg_kmeans_predict(km, p, pl, NULL, NULL, 0), SEG_OK);
    labels_eq(pl, want, 6, "predict without distances");
    seg_frame_free(p);

    /* zero rows */
    seg_frame *z = NULL;
    ck_assert_int_eq(seg_frame_new(&z, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(z, "x", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(z, "y", NULL, NULL), SEG_OK);
    l = CANARY_I32;
    ck_assert_int_eq(seg_kmeans_predict(km, z, &l, &d, NULL, 0), SEG_OK);
    ck_assert_int_eq(l, CANARY_I32);
    seg_frame_free(z);

    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

/* 8 threads predicting over the same fitted model at once, mixed with the
 * other const calls. */
typedef struct pjob {
    const seg_kmeans *km;
    const seg_frame *f;
    size_t n;
    const int32_t *want_l;
    const double *want_d;
    const char *want_text;
    size_t text_len;
    int bad;
} pjob;

static void *pjob_run(void *arg)
{
    pjob *j = arg;
    int32_t *l = malloc(j->n * sizeof *l);
    double *d = malloc(j->n * sizeof *d);
    char *text = malloc(j->text_len + 1);
    for (int rep = 0; rep < 6 && !j->bad; rep++) {
        char err[128];
        if (seg_kmeans_predict(j->km, j->f, l, d, err, sizeof err) != SEG_OK)
            j->bad = 1;
        else if (memcmp(l, j->want_l, j->n * sizeof *l) || memcmp(d, j->want_d, j->n * sizeof *d))
            j->bad = 2;
        size_t len = 0;
        if (seg_kmeans_save(j->km, text, j->text_len + 1, &len) != SEG_OK || len != j->text_len ||
            memcmp(text, j->want_text, len))
            j->bad = 3;
        double c[24], in;
        if (seg_kmeans_centroids(j->km, c, 24) != SEG_OK ||
            seg_kmeans_result(j->km, &in, NULL, NULL) != SEG_OK || !seg_kmeans_is_fitted(j->km))
            j->bad = 4;
    }
    free(l);
    free(d);
    free(text);
    return NULL;
}

START_TEST(predict_threads)
{
    gdata g = gen_blobs(60000, 8, 20, 3, 0, 16);
    seg_frame *f = gframe(&g);
    seg_kmeans *km = gmodel(NULL, 8, SEG_XF_ZSCORE);
    param(km, SEG_KM_MAX_ITER, 20);
    fit_ok(km, f, NULL);
    int32_t *l = malloc(g.n * sizeof *l);
    double *d = malloc(g.n * sizeof *d);
    predict_ok(km, f, l, d);
    size_t len = 0;
    ck_assert_int_eq(seg_kmeans_save(km, NULL, 0, &len), SEG_OK);
    char *text = malloc(len + 1);
    ck_assert_int_eq(seg_kmeans_save(km, text, len + 1, &len), SEG_OK);
    enum { TH = 8 };
    pthread_t th[TH];
    pjob jobs[TH];
    for (int t = 0; t < TH; t++) {
        jobs[t] = (pjob){km, f, g.n, l, d, text, len, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, pjob_run, &jobs[t]), 0);
    }
    for (int t = 0; t < TH; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_msg(jobs[t].bad == 0, "thread %d: failure %d", t, jobs[t].bad);
    }
    free(text);
    free(l);
    free(d);
    seg_kmeans_free(km);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* ---- progress and cancellation ------------------------------------------------------ */

typedef struct prog {
    int32_t run[4096];
    int32_t iter[4096];
    double inertia[4096];
    int n;
    int cancel_run, cancel_iter; /* return 1 there (-1: never) */
    int calls_after_cancel;
    int canceled;
} prog;

static int32_t prog_fn(void *user, int32_t run, int32_t iteration, double inertia)
{
    prog *p = user;
    if (p->canceled)
        p->calls_after_cancel++;
    if (p->n < 4096) {
        p->run[p->n] = run;
        p->iter[p->n] = iteration;
        p->inertia[p->n] = inertia;
    }
    p->n++;
    if (run == p->cancel_run && iteration == p->cancel_iter) {
        p->canceled = 1;
        return 7;
    }
    return 0;
}

START_TEST(progress_counts)
{
    gdata g = gen_blobs(3000, 8, 12, 3, 0, 17); /* a mush: the runs end apart */
    seg_frame *f = gframe(&g);
    for (int algo = 0; algo < 2; algo++) {
        seg_kmeans *km = gmodel(NULL, 5, SEG_XF_NONE);
        param(km, SEG_KM_ALGORITHM, algo);
        param(km, SEG_KM_N_INIT, 4);
        param(km, SEG_KM_TOL, 0);
        param(km, SEG_KM_MAX_ITER, 100000);
        prog *p = calloc(1, sizeof *p);
        p->cancel_run = -1;
        ck_assert_int_eq(seg_kmeans_set_progress(km, prog_fn, p), SEG_OK);
        fit_ok(km, f, NULL);
        ck_assert_int_gt(p->n, 0);
        ck_assert_int_lt(p->n, 4096);
        /* runs 0..3 in order, iterations 1, 2, ... within each */
        double last[4];
        int32_t iters[4] = {0, 0, 0, 0};
        for (int i = 0; i < p->n; i++) {
            int32_t r = p->run[i];
            ck_assert(r >= 0 && r < 4);
            if (i)
                ck_assert(r == p->run[i - 1] || r == p->run[i - 1] + 1);
            else
                ck_assert_int_eq(r, 0);
            ck_assert_int_eq(p->iter[i], iters[r] + 1);
            /* Lloyd never increases the inertia */
            if (iters[r])
                ck_assert_msg(p->inertia[i] <= last[r] * (1 + 1e-12),
                              "run %d iteration %d: inertia %.17g after %.17g", (int)r,
                              (int)p->iter[i], p->inertia[i], last[r]);
            iters[r] = p->iter[i];
            last[r] = p->inertia[i];
        }
        ck_assert_int_eq(p->run[p->n - 1], 3);
        /* The reported inertia is that of the iteration's assignment step
         * (with the centres it started from, as scikit-learn's verbose
         * output), so a run's final inertia is at most its last report, and
         * the kept run's at most the lowest last report. Each run reports
         * once per iteration it counts. */
        double lowest = last[0];
        int32_t iter_range[2] = {iters[0], iters[0]};
        for (int r = 1; r < 4; r++) {
            lowest = last[r] < lowest ? last[r] : lowest;
            iter_range[0] = iters[r] < iter_range[0] ? iters[r] : iter_range[0];
            iter_range[1] = iters[r] > iter_range[1] ? iters[r] : iter_range[1];
        }
        ck_assert_msg(inertia_of(km) <= lowest * (1 + 1e-12), "inertia %.17g, lowest report %.17g",
                      inertia_of(km), lowest);
        ck_assert(inertia_of(km) > 0.9 * lowest);
        ck_assert(iter_of(km) >= iter_range[0] && iter_of(km) <= iter_range[1]);

        /* max_iter 2: at most two calls per run, out_iter <= 2 */
        param(km, SEG_KM_MAX_ITER, 2);
        memset(p, 0, sizeof *p);
        p->cancel_run = -1;
        fit_ok(km, f, NULL);
        ck_assert_int_le(p->n, 8);
        ck_assert_int_ge(p->n, 4);
        for (int i = 0; i < p->n; i++)
            ck_assert(p->iter[i] >= 1 && p->iter[i] <= 2);
        ck_assert(iter_of(km) >= 1 && iter_of(km) <= 2);

        /* cleared: no more calls */
        ck_assert_int_eq(seg_kmeans_set_progress(km, NULL, NULL), SEG_OK);
        memset(p, 0, sizeof *p);
        fit_ok(km, f, NULL);
        ck_assert_int_eq(p->n, 0);
        free(p);
        seg_kmeans_free(km);
    }
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

START_TEST(progress_cancel)
{
    gdata g = gen_blobs(4000, 6, 20, 3, 0, 18);
    seg_frame *f = gframe(&g);
    const struct {
        int run, iter, threads, algo;
    } cases[] = {{0, 1, 1, 0}, {1, 2, 1, 1}, {2, 3, 4, 0}, {1, 1, 3, 1}, {0, 2, 2, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        seg_test_alloc ta;
        seg_test_alloc_init(&ta);
        /* The test allocator is single-threaded: only count the model's
         * blocks when the fit runs on one thread. */
        int counted = cases[c].threads == 1;
        seg_kmeans *km = gmodel(counted ? &ta.base : NULL, 6, SEG_XF_ZSCORE);
        param(km, SEG_KM_N_INIT, 3);
        param(km, SEG_KM_TOL, 0);
        param(km, SEG_KM_THREADS, cases[c].threads);
        param(km, SEG_KM_ALGORITHM, cases[c].algo);
        int32_t *labels = malloc(g.n * sizeof *labels);
        /* A previous fit, which the canceled one must discard. */
        fit_ok(km, f, NULL);
        prog *p = calloc(1, sizeof *p);
        p->cancel_run = cases[c].run;
        p->cancel_iter = cases[c].iter;
        ck_assert_int_eq(seg_kmeans_set_progress(km, prog_fn, p), SEG_OK);
        fill_i32(labels, g.n, CANARY_I32);
        int32_t rc = seg_kmeans_fit(km, f, labels);
        ck_assert_msg(rc == SEG_ECANCELED, "case %zu: rc %d", c, (int)rc);
        ck_assert_int_eq(p->canceled, 1);
        ck_assert_int_eq(p->calls_after_cancel, 0);
        ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
        ck_assert_str_ne(seg_kmeans_last_error(km), "");
        assert_untouched_i32(labels, g.n, "canceled fit");
        double in = CANARY_DBL;
        ck_assert_int_eq(seg_kmeans_result(km, &in, NULL, NULL), SEG_ESTATE);
        ck_assert(same_bits(in, CANARY_DBL));
        size_t live_after_cancel = ta.live;
        /* Unfitted again, a second cancel holds exactly the same blocks. */
        memset(p, 0, sizeof *p);
        p->cancel_run = cases[c].run;
        p->cancel_iter = cases[c].iter;
        ck_assert_int_eq(seg_kmeans_fit(km, f, labels), SEG_ECANCELED);
        if (counted)
            ck_assert_uint_eq(ta.live, live_after_cancel);
        /* and a fit that is let through works */
        p->cancel_run = -1;
        p->canceled = 0;
        fit_ok(km, f, labels);
        for (size_t i = 0; i < g.n; i++)
            ck_assert(labels[i] >= 0 && labels[i] < 6);
        seg_kmeans_free(km);
        if (counted) {
            ck_assert_uint_eq(ta.live, 0);
            ck_assert_uint_eq(ta.bad_frees, 0);
        }
        free(p);
        free(labels);
    }
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* ---- save / load ------------------------------------------------------------------- */

static char *save_text(const seg_kmeans *km, size_t *out_len)
{
    size_t len = CANARY_SIZE;
    ck_assert_int_eq(seg_kmeans_save(km, NULL, 0, &len), SEG_OK);
    ck_assert(len > 0 && len != CANARY_SIZE);
    char *buf = malloc(len + 2);
    buf[len + 1] = 'Z';
    size_t len2 = CANARY_SIZE;
    ck_assert_int_eq(seg_kmeans_save(km, buf, len + 1, &len2), SEG_OK);
    ck_assert_uint_eq(len2, len);
    ck_assert_int_eq(buf[len], '\0');
    ck_assert_uint_eq(strlen(buf), len);
    ck_assert_int_eq(buf[len + 1], 'Z');
    *out_len = len;
    return buf;
}

static seg_kmeans *load_ok(const char *text, size_t len, const seg_allocator *alloc)
{
    seg_kmeans *km = NULL;
    char err[512] = "";
    int32_t rc = seg_kmeans_load(&km, text, len, "test", alloc, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "load: %d %s", (int)rc, err);
    ck_assert_ptr_nonnull(km);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 1);
    return km;
}

static void same_model(const seg_kmeans *a, const seg_kmeans *b, const seg_frame *f, int nf)
{
    for (int32_t p = 1; p <= NPARAMS; p++)
        ck_assert_msg(same_bits(get_param(a, p), get_param(b, p)), "param %d: %.17g vs %.17g",
                      (int)p, get_param(a, p), get_param(b, p));
    int32_t k = (int32_t)get_param(a, SEG_KM_K);
    size_t nc = (size_t)k * (size_t)nf;
    double *ca = malloc(nc * sizeof *ca), *cb = malloc(nc * sizeof *cb);
    centroids_of(a, ca, nc);
    centroids_of(b, cb, nc);
    ck_assert_msg(memcmp(ca, cb, nc * sizeof *ca) == 0, "centroids differ");
    double ia, ib;
    int32_t ta, tb;
    int64_t *sa = malloc((size_t)k * sizeof *sa), *sb = malloc((size_t)k * sizeof *sb);
    ck_assert_int_eq(seg_kmeans_result(a, &ia, &ta, sa), SEG_OK);
    ck_assert_int_eq(seg_kmeans_result(b, &ib, &tb, sb), SEG_OK);
    ck_assert(same_bits(ia, ib));
    ck_assert_int_eq(ta, tb);
    ck_assert(memcmp(sa, sb, (size_t)k * sizeof *sa) == 0);
    size_t n = seg_frame_n_rows(f);
    int32_t *la = malloc(n * sizeof *la), *lb = malloc(n * sizeof *lb);
    double *da = malloc(n * sizeof *da), *db = malloc(n * sizeof *db);
    predict_ok(a, f, la, da);
    predict_ok(b, f, lb, db);
    ck_assert_msg(memcmp(la, lb, n * sizeof *la) == 0, "predicted labels differ");
    ck_assert_msg(memcmp(da, db, n * sizeof *da) == 0, "predicted distances differ");
    free(ca);
    free(cb);
    free(sa);
    free(sb);
    free(la);
    free(lb);
    free(da);
    free(db);
}

START_TEST(save_load_round_trip)
{
    /* Every transform, odd values (%.17g matters), missing rows, an order. */
    gdata g = gen_blobs(5000, 5, 20, 3, 0, 19);
    for (size_t i = 0; i < g.n; i++) {
        g.col[0][i] = exp(g.col[0][i] / 7) * 3.3333333333333335;
        g.col[1][i] *= 0.1;
    }
    g.col[2][17] = NAN;
    double *d4 = malloc(g.n * sizeof *d4);
    for (size_t i = 0; i < g.n; i++)
        d4[i] = g.col[0][i] * 1e-7 + g.col[2][i];
    seg_frame *f = frame_d(g.n, "a", g.col[0], "b", g.col[1], "c", g.col[2], "d d 客户", d4, NULL);
    seg_kmeans *km = km_make(NULL, 5);
    feat(km, "a", SEG_XF_LOG1P);
    feat(km, "b", SEG_XF_ZSCORE);
    feat(km, "c", SEG_XF_ROBUST);
    feat(km, "d d 客户", SEG_XF_MINMAX);
    param(km, SEG_KM_ORDER_BY, 3);
    param(km, SEG_KM_ORDER_ASC, 1);
    param(km, SEG_KM_SEED, 9007199254740992.0);
    param(km, SEG_KM_TOL, 1e-7);
    param(km, SEG_KM_N_INIT, 2);
    param(km, SEG_KM_THREADS, 2);
    param(km, SEG_KM_ALGORITHM, SEG_KM_LLOYD);
    param(km, SEG_KM_MAX_ITER, 77);
    fit_ok(km, f, NULL);

    size_t len;
    char *t1 = save_text(km, &len);
    /* EBUFSZ: one byte short, buffer untouched, size reported */
    char *small = malloc(len + 1);
    memset(small, 'Q', len + 1);
    size_t got = CANARY_SIZE;
    ck_assert_int_eq(seg_kmeans_save(km, small, len, &got), SEG_EBUFSZ);
    for (size_t i = 0; i <= len; i++)
        ck_assert_int_eq(small[i], 'Q');
    ck_assert_uint_eq(got, len);
    ck_assert_int_eq(seg_kmeans_save(km, small, 0, &got), SEG_EBUFSZ);
    ck_assert_int_eq(small[0], 'Q');
    free(small);

    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_kmeans *km2 = load_ok(t1, len, &ta.base);
    same_model(km, km2, f, 4);
    size_t len2;
    char *t2 = save_text(km2, &len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_msg(memcmp(t1, t2, len) == 0, "save(load(save(m))) differs");
    /* a loaded model refits */
    seg_kmeans *km3 = load_ok(t2, len2, NULL);
    fit_ok(km3, f, NULL);
    same_model(km, km3, f, 4);
    /* the text need not be NUL-terminated: a copy with junk after it */
    char *junk = malloc(len + 5);
    memcpy(junk, t1, len);
    memcpy(junk + len, "\x01\xff#x", 5);
    seg_kmeans *km4 = load_ok(junk, len, NULL);
    same_model(km, km4, f, 4);
    free(junk);
    seg_kmeans_free(km4);
    seg_kmeans_free(km3);
    seg_kmeans_free(km2);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    free(t1);
    free(t2);
    seg_kmeans_free(km);
    seg_frame_free(f);
    free(d4);
    gdata_free(&g);
}
END_TEST

START_TEST(load_errors)
{
    seg_kmeans *km = CANARY_PTR, *sentinel = km;
    char err[256];
    /* NULL arguments */
    ck_assert_int_eq(seg_kmeans_load(NULL, "x", 1, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_load(&km, NULL, 1, NULL, NULL, err, sizeof err), SEG_EINVAL);
    ck_assert_ptr_eq(km, sentinel);
    /* not a model */
    const char *bad[] = {"", "hello", "\n\n", "kmeans\n", "{}", "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(err, "untouched");
        int32_t rc = seg_kmeans_load(&km, bad[i], strlen(bad[i]), NULL, NULL, err, sizeof err);
        ck_assert_msg(rc == SEG_EPARSE, "'%s': rc %d (%s)", bad[i], (int)rc, err);
        ck_assert_ptr_eq(km, sentinel);
        SEG_ASSERT_PREFIX(err, "kmeans:");
        ck_assert_msg(isdigit((unsigned char)err[7]), "no line number in \"%s\"", err);
        rc = seg_kmeans_load(&km, bad[i], strlen(bad[i]), "model.txt", NULL, err, sizeof err);
        ck_assert_int_eq(rc, SEG_EPARSE);
        SEG_ASSERT_PREFIX(err, "model.txt:");
        /* err_buf NULL */
        rc = seg_kmeans_load(&km, bad[i], strlen(bad[i]), NULL, NULL, NULL, 0);
        ck_assert_int_eq(rc, SEG_EPARSE);
        ck_assert_ptr_eq(km, sentinel);
    }

    /* A real model, then damaged copies of it. */
    seg_frame *f = hand_frame();
    seg_kmeans *m = hand_model(NULL, 3);
    param(m, SEG_KM_ORDER_BY, 1);
    fit_ok(m, f, NULL);
    size_t len;
    char *text = save_text(m, &len);
    /* every strict prefix that ends a line is refused (the model is incomplete) */
    for (size_t cut = 0; cut + 1 < len; cut++) {
        if (cut && text[cut - 1] != '\n')
            continue;
        int32_t rc = seg_kmeans_load(&km, text, cut, NULL, NULL, err, sizeof err);
        ck_assert_msg(rc == SEG_EPARSE, "prefix of %zu bytes: rc %d", cut, (int)rc);
        ck_assert_ptr_eq(km, sentinel);
    }
    /* any single byte replaced by a control character is refused or loads a
     * model (never crashes); an unchanged length round-trips */
    for (size_t pos = 0; pos < len; pos++) {
        char *c = malloc(len);
        memcpy(c, text, len);
        c[pos] = '\x07';
        seg_kmeans *x = NULL;
        int32_t rc = seg_kmeans_load(&x, c, len, NULL, NULL, err, sizeof err);
        if (rc == SEG_OK)
            seg_kmeans_free(x);
        else
            ck_assert_msg(rc == SEG_EPARSE || rc == SEG_EVERSION, "byte %zu: rc %d", pos,
                          (int)rc);
        free(c);
    }
    free(text);
    seg_kmeans_free(m);
    seg_frame_free(f);

    /* Lines of a model with two features (format: a header line, one line
     * per parameter, one per feature, inertia, iterations, one per cluster):
     * each replacement is refused with the line it is on. */
    static const double lx[6] = {0, 1, 10, 11, 20, 21}, ly[6] = {0, 0, 5, 5, 0, 1};
    f = frame_d(6, "x", lx, "y", ly, NULL);
    m = km_make(NULL, 3);
    feat(m, "x", SEG_XF_LOG1P);
    feat(m, "y", SEG_XF_ROBUST);
    fit_ok(m, f, NULL);
    text = save_text(m, &len);
    ck_assert_msg(strncmp(text, "libsegment-kmeans 1\n", 20) == 0, "header: %.30s", text);
    const struct {
        int line;
        const char *with;
        int32_t rc;
    } edits[] = {
        {1, "libsegment-kmeans 2", SEG_EVERSION},
        {1, "libsegment-kmeans 999999", SEG_EVERSION},
        {1, "libsegment-kmeans x", SEG_EVERSION},
        {1, "libsegment-kmean 1", SEG_EPARSE},
        {2, "k 0", SEG_EPARSE},
        {2, "k 1025", SEG_EPARSE},
        {2, "k 2", SEG_EPARSE},   /* three cluster lines follow (the error is on the third) */
        {2, "k 4", SEG_EPARSE},   /* one missing (the error is at the end) */
        {2, "k 3.5", SEG_EPARSE},
        {2, "k", SEG_EPARSE},
        {2, "k 3 3", SEG_EPARSE},
        {3, "n_init 0", SEG_EPARSE},
        {4, "max_iter 100001", SEG_EPARSE},
        {5, "tol -1", SEG_EPARSE},
        {5, "tol abc", SEG_EPARSE},
        {5, "tol nan", SEG_EPARSE},
        {6, "seed -1", SEG_EPARSE},
        {7, "threads 0", SEG_EPARSE},
        {8, "algorithm elkan", SEG_EPARSE},
        {9, "order_by 2", SEG_EPARSE}, /* two features */
        {9, "order_by -2", SEG_EPARSE},
        {10, "order_asc 2", SEG_EPARSE},
        {11, "feature \"x\" sqrt 0 1", SEG_EPARSE},
        {12, "feature \"x\" log1p 0 1", SEG_EPARSE}, /* a duplicate of line 11 */
        {11, "feature \"\" log1p 0 1", SEG_EPARSE},
        {11, "feature \"x log1p 0 1", SEG_EPARSE},
        {11, "feature \"x\" log1p 0", SEG_EPARSE},
        {12, "feature \"y\" robust 0.5 inf", SEG_EPARSE},
        {13, "inertia -1", SEG_EPARSE},
        {13, "inertia nan", SEG_EPARSE},
        {14, "iterations -1", SEG_EPARSE},
        {15, "cluster -2 0.34657359027997264 -0.125", SEG_EPARSE},
        {15, "cluster 2 0.34657359027997264", SEG_EPARSE},
        {15, "cluster 2 0.34657359027997264 -0.125 7", SEG_EPARSE},
        {15, "cluster 2 nan -0.125", SEG_EPARSE},
        {15, "cluster 2 1e999 -0.125", SEG_EPARSE},
        {16, "cluster two 2.4414009612931853 1.125", SEG_EPARSE},
        {17, "flavour vanilla", SEG_EPARSE},
    };
    char wrong_line[2048] = "", wrong_rc[2048] = "";
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        /* rebuild the text with line edits[e].line replaced */
        char *c = malloc(len + 256);
        size_t o = 0;
        int line = 1;
        for (size_t i = 0; i < len;) {
            size_t j = i;
            while (j < len && text[j] != '\n')
                j++;
            if (line == edits[e].line) {
                o += (size_t)sprintf(c + o, "%s", edits[e].with);
            } else {
                memcpy(c + o, text + i, j - i);
                o += j - i;
            }
            if (j < len)
                c[o++] = '\n';
            i = j + 1;
            line++;
        }
        ck_assert_msg(line > edits[e].line, "the model text has only %d lines", line - 1);
        char want[32];
        snprintf(want, sizeof want, "kmeans:%d:", edits[e].line);
        strcpy(err, "");
        int32_t rc = seg_kmeans_load(&km, c, o, NULL, NULL, err, sizeof err);
        if (rc != edits[e].rc) {
            if (rc == SEG_OK)
                seg_kmeans_free(km);
            km = sentinel;
            if (strlen(wrong_rc) < 1500)
                snprintf(wrong_rc + strlen(wrong_rc), sizeof wrong_rc - strlen(wrong_rc),
                         "\n  line %d as '%s': rc %d, expected %d (%s)", edits[e].line,
                         edits[e].with, (int)rc, (int)edits[e].rc, err);
            free(c);
            continue;
        }
        ck_assert_ptr_eq(km, sentinel);
        if (rc == SEG_EPARSE && strncmp(edits[e].with, "k ", 2) != 0 &&
            strncmp(err, want, strlen(want)) != 0 && strlen(wrong_line) < 1500)
            snprintf(wrong_line + strlen(wrong_line), sizeof wrong_line - strlen(wrong_line),
                     "\n  '%s' on line %d: \"%s\"", edits[e].with, edits[e].line, err);
        SEG_ASSERT_PREFIX(err, "kmeans:");
        free(c);
    }
    ck_assert_msg(wrong_rc[0] == '\0', "damaged models not refused as expected:%s", wrong_rc);
    ck_assert_msg(wrong_line[0] == '\0', "errors not located on their line:%s", wrong_line);
    free(text);
    seg_kmeans_free(m);
    seg_frame_free(f);
}
END_TEST

/* ---- bad inputs ------------------------------------------------------------------------ */

START_TEST(new_and_params)
{
    ck_assert_int_eq(seg_kmeans_new(NULL, NULL), SEG_EINVAL);
    seg_allocator bad = {0};
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    bad = ta.base;
    bad.struct_size = 3;
    seg_kmeans *km = CANARY_PTR, *sentinel = km;
    ck_assert_int_eq(seg_kmeans_new(&km, &bad), SEG_EVERSION);
    ck_assert_ptr_eq(km, sentinel);

    km = NULL;
    ck_assert_int_eq(seg_kmeans_new(&km, NULL), SEG_OK);
    /* defaults */
    ck_assert(get_param(km, SEG_KM_K) == 8);
    ck_assert(get_param(km, SEG_KM_N_INIT) == 1);
    ck_assert(get_param(km, SEG_KM_MAX_ITER) == 300);
    ck_assert(get_param(km, SEG_KM_TOL) == 1e-4);
    ck_assert(get_param(km, SEG_KM_SEED) == 0);
    ck_assert(get_param(km, SEG_KM_THREADS) == 1);
    ck_assert(get_param(km, SEG_KM_ALGORITHM) == SEG_KM_HAMERLY);
    ck_assert(get_param(km, SEG_KM_ORDER_BY) == -1);
    ck_assert(get_param(km, SEG_KM_ORDER_ASC) == 0);
    ck_assert_int_eq(seg_kmeans_is_fitted(NULL), 0);
    ck_assert_str_eq(seg_kmeans_last_error(NULL), "");
    ck_assert_str_eq(seg_kmeans_last_error(km), "");

    /* get_param */
    double v = CANARY_DBL;
    ck_assert_int_eq(seg_kmeans_get_param(NULL, SEG_KM_K, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_get_param(km, SEG_KM_K, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_get_param(km, 0, &v), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_get_param(km, 10, &v), SEG_EINVAL);
    ck_assert(same_bits(v, CANARY_DBL));

    /* set_param: unknown parameters */
    ck_assert_int_eq(seg_kmeans_set_param(NULL, SEG_KM_K, 3), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_set_param(km, 0, 3), SEG_EINVAL);
    ck_assert_str_ne(seg_kmeans_last_error(km), "");
    ck_assert_int_eq(seg_kmeans_set_param(km, 10, 3), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_set_param(km, -1, 3), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_set_param(km, SEG_KM_K, 1025), SEG_ERANGE);
    ck_assert_msg(seg_test_names_number(seg_kmeans_last_error(km), 1025), "message \"%s\"",
                  seg_kmeans_last_error(km));

    /* bounds: each bad value is ERANGE and leaves the value; each good one sticks */
    const struct {
        int32_t p;
        double bad[6];
        int nbad;
        double good[4];
        int ngood;
    } cases[] = {
        {SEG_KM_K, {0, 1025, 2.5, NAN, -1, INFINITY}, 6, {1, 1024, 2, 8}, 4},
        {SEG_KM_N_INIT, {0, 1001, 1.5, NAN, -3, 0}, 5, {1, 1000, 10, 1}, 4},
        {SEG_KM_MAX_ITER, {0, 100001, 7.25, NAN, -1, 0}, 5, {1, 100000, 300, 300}, 4},
        {SEG_KM_TOL, {-1e-300, -1, NAN, 0, 0, 0}, 3, {0, 1e-4, 0.5, 1e-4}, 4},
        {SEG_KM_SEED, {-1, 9007199254740994.0, 0.5, NAN, INFINITY, 1e300}, 6,
         {0, 9007199254740992.0, 12345, 0}, 4},
        {SEG_KM_THREADS, {0, 257, 1.5, NAN, -1, 0}, 5, {256, 1, 4, 1}, 4},
        {SEG_KM_ALGORITHM, {-1, 2, 0.5, NAN, 0, 0}, 4, {SEG_KM_LLOYD, SEG_KM_HAMERLY, 1, 1}, 4},
        {SEG_KM_ORDER_BY, {-2, 256, 0.5, NAN, -1.5, 0}, 5, {0, -1, 255, -1}, 4},
        {SEG_KM_ORDER_ASC, {-1, 2, 0.5, NAN, 0, 0}, 4, {1, 0, 1, 0}, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int g = 0; g < cases[c].ngood; g++) {
            param(km, cases[c].p, cases[c].good[g]);
            ck_assert(get_param(km, cases[c].p) == cases[c].good[g]);
        }
        double keep = get_param(km, cases[c].p);
        for (int b = 0; b < cases[c].nbad; b++) {
            int32_t rc = seg_kmeans_set_param(km, cases[c].p, cases[c].bad[b]);
            ck_assert_msg(rc == SEG_ERANGE, "param %d = %g: rc %d", (int)cases[c].p,
                          cases[c].bad[b], (int)rc);
            ck_assert_str_ne(seg_kmeans_last_error(km), "");
            ck_assert(same_bits(get_param(km, cases[c].p), keep));
        }
    }
    ck_assert_int_eq(seg_kmeans_set_progress(NULL, prog_fn, NULL), SEG_EINVAL);
    seg_kmeans_free(km);
    seg_kmeans_free(NULL);
}
END_TEST

START_TEST(add_feature_errors)
{
    seg_kmeans *km = km_make(NULL, 2);
    ck_assert_int_eq(seg_kmeans_add_feature(NULL, "x", SEG_XF_NONE), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_add_feature(km, NULL, SEG_XF_NONE), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_add_feature(km, "", SEG_XF_NONE), SEG_EINVAL);
    ck_assert_str_ne(seg_kmeans_last_error(km), "");
    ck_assert_int_eq(seg_kmeans_add_feature(km, "a\x01" "b", SEG_XF_NONE), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_add_feature(km, "a\x7f", SEG_XF_NONE), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_add_feature(km, "\xff\xfe", SEG_XF_NONE), SEG_EINVAL);
    char longname[300];
    memset(longname, 'n', 256);
    longname[256] = '\0';
    ck_assert_int_eq(seg_kmeans_add_feature(km, longname, SEG_XF_NONE), SEG_EINVAL);
    longname[255] = '\0';
    feat(km, longname, SEG_XF_NONE); /* 255 bytes: fine */
    ck_assert_int_eq(seg_kmeans_add_feature(km, "x", -1), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_add_feature(km, "x", 5), SEG_EINVAL);
    SEG_ASSERT_WORD(seg_kmeans_last_error(km), "transform");
    feat(km, "x", SEG_XF_ROBUST);
    ck_assert_int_eq(seg_kmeans_add_feature(km, "x", SEG_XF_NONE), SEG_EEXISTS);
    SEG_ASSERT_WORD(seg_kmeans_last_error(km), "x");
    ck_assert_int_eq(seg_kmeans_add_feature(km, longname, SEG_XF_LOG1P), SEG_EEXISTS);
    seg_kmeans_free(km);

    /* 256 features, not 257 */
    km = km_make(NULL, 2);
    char name[16];
    for (int i = 0; i < 256; i++) {
        snprintf(name, sizeof name, "f%d", i);
        feat(km, name, i % 5);
    }
    ck_assert_int_eq(seg_kmeans_add_feature(km, "f256", SEG_XF_NONE), SEG_ERANGE);
    ck_assert_str_ne(seg_kmeans_last_error(km), "");
    /* ... and the model with 256 features fits */
    enum { N = 4 };
    double *cols = malloc(256 * N * sizeof *cols);
    seg_frame *f = NULL;
    ck_assert_int_eq(seg_frame_new(&f, N, NULL), SEG_OK);
    for (int i = 0; i < 256; i++) {
        for (int r = 0; r < N; r++)
            cols[i * N + r] = (r < 2 ? 0 : 100) + r + i;
        snprintf(name, sizeof name, "f%d", i);
        ck_assert_int_eq(seg_frame_add_double(f, name, cols + i * N, NULL), SEG_OK);
    }
    int32_t labels[N];
    fit_ok(km, f, labels);
    ck_assert(labels[0] == labels[1] && labels[2] == labels[3] && labels[0] != labels[2]);
    seg_frame_free(f);
    free(cols);
    seg_kmeans_free(km);
}
END_TEST

/* A fit error: status, message words, the model unfitted (even after a
 * previous fit) and the labels untouched. */
static void fit_fails(seg_kmeans *km, const seg_frame *good, const seg_frame *bad, int32_t want,
                      const char *word, long row)
{
    fit_ok(km, good, NULL);
    size_t n = seg_frame_n_rows(bad);
    int32_t *labels = malloc((n ? n : 1) * sizeof *labels);
    fill_i32(labels, n ? n : 1, CANARY_I32);
    int32_t rc = seg_kmeans_fit(km, bad, labels);
    const char *msg = seg_kmeans_last_error(km);
    ck_assert_msg(rc == want, "fit: rc %d, expected %d (%s)", (int)rc, (int)want, msg);
    ck_assert_str_ne(msg, "");
    if (word && row >= 0)
        SEG_ASSERT_NAMES(msg, word, (size_t)row);
    else if (word)
        SEG_ASSERT_WORD(msg, word);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
    assert_untouched_i32(labels, n ? n : 1, "failed fit");
    free(labels);
}

START_TEST(fit_errors)
{
    seg_frame *good = hand_frame();
    /* NULLs and no features */
    seg_kmeans *km = km_make(NULL, 3);
    int32_t lab[HN];
    fill_i32(lab, HN, CANARY_I32);
    ck_assert_int_eq(seg_kmeans_fit(NULL, good, lab), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_fit(km, NULL, lab), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_fit(km, good, lab), SEG_EINVAL);
    SEG_ASSERT_WORD(seg_kmeans_last_error(km), "feature");
    assert_untouched_i32(lab, HN, "no features");
    seg_kmeans_free(km);

    /* unknown column, text columns */
    static const char *names[HN] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    static const int32_t codes[HN] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    static const char *dict[2] = {"p", "q"};
    seg_frame *tf = NULL;
    ck_assert_int_eq(seg_frame_new(&tf, HN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(tf, "x", HX, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(tf, "y", HY, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(tf, "name", names, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_dict(tf, "tier", codes, dict, 2, NULL), SEG_OK);
    const char *missing[3] = {"nope", "name", "tier"};
    for (int i = 0; i < 3; i++) {
        km = hand_model(NULL, 3);
        feat(km, missing[i], SEG_XF_NONE);
        seg_frame *g2 = NULL;
        ck_assert_int_eq(seg_frame_new(&g2, HN, NULL), SEG_OK);
        ck_assert_int_eq(seg_frame_add_double(g2, "x", HX, NULL), SEG_OK);
        ck_assert_int_eq(seg_frame_add_double(g2, "y", HY, NULL), SEG_OK);
        ck_assert_int_eq(seg_frame_add_double(g2, missing[i], HX, NULL), SEG_OK);
        fit_fails(km, g2, tf, SEG_ENOTFOUND, missing[i], -1);
        seg_frame_free(g2);
        seg_kmeans_free(km);
    }

    /* infinite values and log1p domain: the message names column and row */
    double x[HN], y[HN];
    memcpy(x, HX, sizeof x);
    memcpy(y, HY, sizeof y);
    const struct {
        int col, row;
        double v;
        int32_t xf;
    } dcases[] = {
        {0, 7, INFINITY, SEG_XF_NONE},  {1, 0, -INFINITY, SEG_XF_ZSCORE},
        {1, 11, INFINITY, SEG_XF_LOG1P}, {0, 5, -1, SEG_XF_LOG1P},
        {1, 3, -1.5, SEG_XF_LOG1P},      {0, 10, -1e300, SEG_XF_LOG1P},
        {0, 4, INFINITY, SEG_XF_ROBUST}, {1, 9, -INFINITY, SEG_XF_MINMAX},
    };
    for (size_t c = 0; c < sizeof dcases / sizeof dcases[0]; c++) {
        memcpy(x, HX, sizeof x);
        memcpy(y, HY, sizeof y);
        (dcases[c].col ? y : x)[dcases[c].row] = dcases[c].v;
        seg_frame *bad = frame_d(HN, "x", x, "yy", y, NULL);
        seg_frame *ok = frame_d(HN, "x", HX, "yy", HY, NULL);
        km = km_make(NULL, 3);
        feat(km, "x", dcases[c].col ? SEG_XF_NONE : dcases[c].xf);
        feat(km, "yy", dcases[c].col ? dcases[c].xf : SEG_XF_NONE);
        fit_fails(km, ok, bad, SEG_EDATA, dcases[c].col ? "yy" : "x", dcases[c].row);
        /* predict on a fitted model refuses the same row */
        fit_ok(km, ok, NULL);
        int32_t pl[HN];
        fill_i32(pl, HN, CANARY_I32);
        double pd[HN];
        fill_dbl(pd, HN, CANARY_DBL);
        char err[256] = "";
        ck_assert_int_eq(seg_kmeans_predict(km, bad, pl, pd, err, sizeof err), SEG_EDATA);
        SEG_ASSERT_NAMES(err, dcases[c].col ? "yy" : "x", (size_t)dcases[c].row);
        assert_untouched_i32(pl, HN, "predict");
        assert_untouched_dbl(pd, HN, "predict");
        ck_assert_int_eq(seg_kmeans_is_fitted(km), 1);
        seg_kmeans_free(km);
        seg_frame_free(bad);
        seg_frame_free(ok);
    }
    /* just above -1 is fine under log1p */
    memcpy(x, HX, sizeof x);
    x[2] = -0.9999999;
    seg_frame *edge = frame_d(HN, "x", x, "y", HY, NULL);
    km = km_make(NULL, 3);
    feat(km, "x", SEG_XF_LOG1P);
    feat(km, "y", SEG_XF_NONE);
    fit_ok(km, edge, NULL);
    seg_kmeans_free(km);
    seg_frame_free(edge);

    /* fewer complete rows than k: k = 13 on 12 rows; k = 3 with 10 rows missing;
     * an empty frame */
    km = hand_model(NULL, 13);
    seg_kmeans *k12 = hand_model(NULL, 12);
    fit_ok(k12, good, lab);
    ASSERT_NEAR(inertia_of(k12), 0, 1e-15);
    seg_kmeans_free(k12);
    param(km, SEG_KM_K, 12);
    fit_ok(km, good, NULL);
    param(km, SEG_KM_K, 13);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
    fill_i32(lab, HN, CANARY_I32);
    ck_assert_int_eq(seg_kmeans_fit(km, good, lab), SEG_EDATA);
    ck_assert_str_ne(seg_kmeans_last_error(km), "");
    assert_untouched_i32(lab, HN, "k > rows");
    seg_kmeans_free(km);

    memcpy(x, HX, sizeof x);
    for (int i = 0; i < 10; i++)
        x[i] = NAN;
    seg_frame *sparse = frame_d(HN, "x", x, "y", HY, NULL);
    km = hand_model(NULL, 3);
    fit_fails(km, good, sparse, SEG_EDATA, NULL, -1);
    /* the message gives both counts: 2 complete rows, 3 clusters */
    ck_assert_msg(seg_test_names_number(seg_kmeans_last_error(km), 2) &&
                      seg_test_names_number(seg_kmeans_last_error(km), 3),
                  "message \"%s\" lacks the counts", seg_kmeans_last_error(km));
    param(km, SEG_KM_K, 2); /* two complete rows: enough for k = 2 */
    fit_ok(km, sparse, lab);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(lab[i], -1);
    ck_assert(lab[10] >= 0 && lab[11] >= 0 && lab[10] != lab[11]);
    seg_kmeans_free(km);
    seg_frame_free(sparse);

    seg_frame *empty = NULL;
    ck_assert_int_eq(seg_frame_new(&empty, 0, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(empty, "x", NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(empty, "y", NULL, NULL), SEG_OK);
    km = hand_model(NULL, 1);
    fit_fails(km, good, empty, SEG_EDATA, NULL, -1);
    seg_kmeans_free(km);
    seg_frame_free(empty);

    /* ORDER_BY beyond the features: refused by set_param or by fit */
    km = hand_model(NULL, 3);
    int32_t rc = seg_kmeans_set_param(km, SEG_KM_ORDER_BY, 2);
    if (rc == SEG_OK) {
        fill_i32(lab, HN, CANARY_I32);
        rc = seg_kmeans_fit(km, good, lab);
        ck_assert_msg(rc == SEG_EINVAL || rc == SEG_ERANGE, "order_by 2 of 2 features: rc %d",
                      (int)rc);
        ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
        assert_untouched_i32(lab, HN, "order_by");
    } else {
        ck_assert_int_eq(rc, SEG_ERANGE);
    }
    seg_kmeans_free(km);

    seg_frame_free(tf);
    seg_frame_free(good);
}
END_TEST

/* Changing features or parameters of a fitted model unfits it. */
START_TEST(changes_unfit)
{
    seg_frame *f = hand_frame();
    seg_kmeans *km = hand_model(NULL, 3);
    const int32_t ps[] = {SEG_KM_K, SEG_KM_N_INIT, SEG_KM_MAX_ITER, SEG_KM_TOL, SEG_KM_SEED,
                          SEG_KM_THREADS, SEG_KM_ALGORITHM, SEG_KM_ORDER_BY, SEG_KM_ORDER_ASC};
    const double vals[] = {2, 3, 50, 0.01, 77, 2, SEG_KM_LLOYD, 1, 1};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        fit_ok(km, f, NULL);
        param(km, ps[i], vals[i]);
        ck_assert_msg(seg_kmeans_is_fitted(km) == 0, "param %d kept the fit", (int)ps[i]);
        double c[6];
        fill_dbl(c, 6, CANARY_DBL);
        ck_assert_int_eq(seg_kmeans_centroids(km, c, 6), SEG_ESTATE);
        assert_untouched_dbl(c, 6, "centroids");
    }
    fit_ok(km, f, NULL);
    static const double z[HN] = {0};
    seg_frame *f2 = frame_d(HN, "x", HX, "y", HY, "z", z, NULL);
    feat(km, "z", SEG_XF_NONE);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
    fit_ok(km, f2, NULL);
    seg_frame_free(f2);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

START_TEST(unfitted_and_buffers)
{
    seg_frame *f = hand_frame();
    seg_kmeans *km = hand_model(NULL, 3);
    int32_t l[HN];
    double d[HN], c[6], in = CANARY_DBL, s = CANARY_DBL;
    int32_t it = CANARY_I32;
    int64_t sz[3] = {CANARY_I64, CANARY_I64, CANARY_I64};
    char err[256];
    size_t len = CANARY_SIZE;
    fill_i32(l, HN, CANARY_I32);
    fill_dbl(d, HN, CANARY_DBL);
    fill_dbl(c, 6, CANARY_DBL);
    /* not fitted */
    strcpy(err, "");
    ck_assert_int_eq(seg_kmeans_predict(km, f, l, d, err, sizeof err), SEG_ESTATE);
    ck_assert_str_ne(err, "");
    ck_assert_int_eq(seg_kmeans_centroids(km, c, 6), SEG_ESTATE);
    ck_assert_int_eq(seg_kmeans_result(km, &in, &it, sz), SEG_ESTATE);
    ck_assert_int_eq(seg_kmeans_save(km, NULL, 0, &len), SEG_ESTATE);
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 100, 1, &s, err, sizeof err), SEG_ESTATE);
    assert_untouched_i32(l, HN, "predict");
    assert_untouched_dbl(d, HN, "predict");
    assert_untouched_dbl(c, 6, "centroids");
    ck_assert(same_bits(in, CANARY_DBL) && it == CANARY_I32 && sz[0] == CANARY_I64);
    ck_assert(same_bits(s, CANARY_DBL));
    ck_assert_uint_eq(len, CANARY_SIZE);

    fit_ok(km, f, NULL);
    /* NULL arguments */
    ck_assert_int_eq(seg_kmeans_predict(NULL, f, l, d, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_predict(km, NULL, l, d, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_predict(km, f, NULL, d, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_centroids(NULL, c, 6), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_centroids(km, NULL, 6), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_result(NULL, &in, NULL, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_result(km, NULL, NULL, NULL), SEG_OK);
    ck_assert_int_eq(seg_kmeans_save(NULL, NULL, 0, &len), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_save(km, NULL, 0, NULL), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_silhouette(NULL, f, 10, 1, &s, NULL, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_silhouette(km, NULL, 10, 1, &s, NULL, 0), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 10, 1, NULL, NULL, 0), SEG_EINVAL);
    assert_untouched_i32(l, HN, "predict");
    assert_untouched_dbl(d, HN, "predict");
    /* EBUFSZ: k * n_features = 6 */
    ck_assert_int_eq(seg_kmeans_centroids(km, c, 5), SEG_EBUFSZ);
    ck_assert_int_eq(seg_kmeans_centroids(km, c, 0), SEG_EBUFSZ);
    assert_untouched_dbl(c, 6, "centroids");
    double c7[7];
    fill_dbl(c7, 7, CANARY_DBL);
    centroids_of(km, c7, 7);
    ck_assert(same_bits(c7[6], CANARY_DBL));
    /* predict: a missing or text feature column */
    seg_frame *nox = frame_d(HN, "y", HY, "X", HX, NULL);
    ck_assert_int_eq(seg_kmeans_predict(km, nox, l, d, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_WORD(err, "x");
    assert_untouched_i32(l, HN, "predict");
    static const char *txt[HN] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "1", "1", "1"};
    seg_frame *tf = NULL;
    ck_assert_int_eq(seg_frame_new(&tf, HN, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_string(tf, "x", txt, NULL), SEG_OK);
    ck_assert_int_eq(seg_frame_add_double(tf, "y", HY, NULL), SEG_OK);
    ck_assert_int_eq(seg_kmeans_predict(km, tf, l, d, err, sizeof err), SEG_ENOTFOUND);
    SEG_ASSERT_WORD(err, "x");
    /* the message is truncated to err_cap and NUL-terminated */
    char small[6];
    memset(small, 'Q', sizeof small);
    ck_assert_int_eq(seg_kmeans_predict(km, nox, l, d, small, 5), SEG_ENOTFOUND);
    ck_assert(strlen(small) <= 4);
    ck_assert_int_eq(small[5], 'Q');
    ck_assert_int_eq(seg_kmeans_predict(km, nox, l, d, small, 0), SEG_ENOTFOUND);
    ck_assert_int_eq(small[5], 'Q');
    assert_untouched_i32(l, HN, "predict");
    /* the failed predicts leave the model fitted and last_error alone */
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 1);
    ck_assert_str_eq(seg_kmeans_last_error(km), "");
    seg_frame_free(tf);
    seg_frame_free(nox);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

/* ---- inertia curve ------------------------------------------------------------------- */

START_TEST(inertia_curve)
{
    gdata g = gen_blobs(3000, 5, 100, 1, 1, 20);
    seg_frame *f = gframe(&g);
    seg_kmeans *km = gmodel(NULL, 3, SEG_XF_ZSCORE);
    param(km, SEG_KM_N_INIT, 3);
    param(km, SEG_KM_SEED, 31);
    param(km, SEG_KM_ORDER_BY, 1);
    double curve[8];
    char err[256] = "";
    fill_dbl(curve, 8, CANARY_DBL);
    /* the model need not be fitted, and stays unfitted */
    int32_t rc = seg_kmeans_inertia_curve(km, f, 1, 7, curve, err, sizeof err);
    ck_assert_msg(rc == SEG_OK, "curve: %d %s", (int)rc, err);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
    ck_assert(same_bits(curve[7], CANARY_DBL));
    ck_assert(get_param(km, SEG_KM_K) == 3);
    for (int32_t k = 1; k <= 7; k++) {
        seg_kmeans *one = gmodel(NULL, k, SEG_XF_ZSCORE);
        param(one, SEG_KM_N_INIT, 3);
        param(one, SEG_KM_SEED, 31);
        fit_ok(one, f, NULL);
        ck_assert_msg(same_bits(curve[k - 1], inertia_of(one)), "k %d: curve %.17g, fit %.17g",
                      (int)k, curve[k - 1], inertia_of(one));
        seg_kmeans_free(one);
        if (k > 1) /* five blobs: steep down to 5, then flat-ish, never up */
            ck_assert_msg(curve[k - 1] <= curve[k - 2] * (1 + 1e-12), "k %d: %.17g > %.17g",
                          (int)k, curve[k - 1], curve[k - 2]);
    }
    for (int k = 1; k < 5; k++)
        ck_assert(curve[k] < curve[k - 1] * 0.75);
    ck_assert(curve[5] > curve[4] * 0.5); /* the elbow at 5 */

    /* a fitted model keeps its fit */
    fit_ok(km, f, NULL);
    double in = inertia_of(km);
    double c2[3];
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 3, 5, c2, err, sizeof err), SEG_OK);
    ck_assert_int_eq(seg_kmeans_is_fitted(km), 1);
    ck_assert(same_bits(inertia_of(km), in));
    ck_assert(same_bits(c2[0], curve[2]) && same_bits(c2[2], curve[4]));
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 4, 4, c2, NULL, 0), SEG_OK);
    ck_assert(same_bits(c2[0], curve[3]));

    /* bad input */
    fill_dbl(curve, 8, CANARY_DBL);
    ck_assert_int_eq(seg_kmeans_inertia_curve(NULL, f, 1, 2, curve, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, NULL, 1, 2, curve, err, sizeof err), SEG_EINVAL);
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 1, 2, NULL, err, sizeof err), SEG_EINVAL);
    strcpy(err, "");
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 0, 2, curve, err, sizeof err), SEG_ERANGE);
    ck_assert_str_ne(err, "");
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 3, 2, curve, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 1, 1025, curve, err, sizeof err),
                     SEG_ERANGE);
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, -1, 2, curve, err, sizeof err), SEG_ERANGE);
    assert_untouched_dbl(curve, 8, "curve");
    seg_frame *h = hand_frame(); /* 12 rows */
    seg_kmeans *hm = hand_model(NULL, 2);
    ck_assert_int_eq(seg_kmeans_inertia_curve(hm, h, 10, 13, curve, err, sizeof err), SEG_EDATA);
    assert_untouched_dbl(curve, 8, "curve");
    ck_assert_int_eq(seg_kmeans_inertia_curve(hm, h, 1, 3, curve, err, sizeof err), SEG_OK);
    ASSERT_NEAR(curve[2], 6, 1e-12);
    seg_frame *nox = frame_d(HN, "y", HY, NULL);
    fill_dbl(curve, 8, CANARY_DBL);
    strcpy(err, "");
    ck_assert_int_eq(seg_kmeans_inertia_curve(hm, nox, 1, 3, curve, err, sizeof err),
                     SEG_ENOTFOUND);
    SEG_ASSERT_WORD(err, "x");
    assert_untouched_dbl(curve, 8, "curve");
    seg_kmeans *nofeat = km_make(NULL, 2);
    ck_assert_int_eq(seg_kmeans_inertia_curve(nofeat, h, 1, 3, curve, err, sizeof err),
                     SEG_EINVAL);
    seg_kmeans_free(nofeat);
    seg_frame_free(nox);
    seg_kmeans_free(hm);
    seg_frame_free(h);
    seg_kmeans_free(km);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* ---- silhouette --------------------------------------------------------------------- */

/* Naive mean silhouette over n points of dimension d (row-major), labels
 * 0..k-1; scikit-learn's definition: s = (b - a) / max(a, b), 0 for a
 * point alone in its cluster. */
static double naive_silhouette(const double *pts, size_t n, int d, const int32_t *lab, int32_t k)
{
    double *sum = malloc((size_t)k * sizeof *sum);
    int64_t *cnt = calloc((size_t)k, sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        cnt[lab[i]]++;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        for (int32_t c = 0; c < k; c++)
            sum[c] = 0;
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (int t = 0; t < d; t++) {
                double v = pts[i * (size_t)d + t] - pts[j * (size_t)d + t];
                s += v * v;
            }
            sum[lab[j]] += sqrt(s);
        }
        int32_t own = lab[i];
        if (cnt[own] == 1)
            continue;
        double a = sum[own] / (double)(cnt[own] - 1);
        double b = INFINITY;
        for (int32_t c = 0; c < k; c++)
            if (c != own && cnt[c] > 0 && sum[c] / (double)cnt[c] < b)
                b = sum[c] / (double)cnt[c];
        double m = a > b ? a : b;
        total += m > 0 ? (b - a) / m : 0;
    }
    free(sum);
    free(cnt);
    return total / (double)n;
}

START_TEST(silhouette_vs_naive)
{
    /* 300 rows of 3 overlapping blobs, one far outlier (a cluster of its
     * own: silhouette 0), 7 rows with a missing value; x z-scored (the
     * transform is computed here), y raw. */
    enum { N = 300 };
    gdata g = gen_blobs(N, 3, 12, 2.5, 0, 21);
    double *x = g.col[0], *y = g.col[1];
    x[100] = 500;
    y[100] = 500;
    for (int i = 0; i < 7; i++)
        (i % 2 ? x : y)[40 * i + 3] = NAN;
    seg_frame *f = frame_d(N, "x", x, "y", y, NULL);
    seg_kmeans *km = km_make(NULL, 4);
    feat(km, "x", SEG_XF_ZSCORE);
    feat(km, "y", SEG_XF_NONE);
    param(km, SEG_KM_N_INIT, 3);
    int32_t lab[N];
    fit_ok(km, f, lab);
    int64_t sz[4];
    sizes_of(km, sz, 4);
    ck_assert_int_eq(sz[3], 1); /* the outlier, last by size */
    ck_assert_int_eq(lab[100], 3);

    double m = 0, v = 0;
    size_t nc = 0;
    for (size_t i = 0; i < N; i++)
        if (!isnan(x[i]) && !isnan(y[i])) {
            m += x[i];
            nc++;
        }
    m /= (double)nc;
    for (size_t i = 0; i < N; i++)
        if (!isnan(x[i]) && !isnan(y[i]))
            v += (x[i] - m) * (x[i] - m);
    double sd = sqrt(v / (double)nc);
    ck_assert_uint_eq(nc, N - 7);
    double *pts = malloc(nc * 2 * sizeof *pts);
    int32_t *pl = malloc(nc * sizeof *pl);
    size_t j = 0;
    for (size_t i = 0; i < N; i++) {
        if (lab[i] < 0)
            continue;
        pts[2 * j] = (x[i] - m) / sd;
        pts[2 * j + 1] = y[i];
        pl[j++] = lab[i];
    }
    ck_assert_uint_eq(j, nc);
    double want = naive_silhouette(pts, nc, 2, pl, 4);

    /* a sample of at least the complete rows: all of them */
    const size_t samples[] = {nc, nc + 1, N, 100000};
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        for (uint64_t seed = 0; seed < 3; seed++) {
            double got = CANARY_DBL;
            char err[256] = "";
            int32_t rc = seg_kmeans_silhouette(km, f, samples[s], seed * 0x9E3779B97F4A7C15ull,
                                               &got, err, sizeof err);
            ck_assert_msg(rc == SEG_OK, "silhouette: %d %s", (int)rc, err);
            ASSERT_NEAR(got, want, 1e-12);
        }
    }
    ck_assert(want > 0 && want < 1);

    /* a real sample: in range, the same for the same seed, near the full value */
    double s1, s2, s3;
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 150, 42, &s1, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 150, 42, &s2, NULL, 0), SEG_OK);
    ck_assert(same_bits(s1, s2));
    ck_assert(s1 >= -1 && s1 <= 1);
    ck_assert_msg(fabs(s1 - want) < 0.1, "sample of 150: %g, all rows %g", s1, want);
    int differs = 0;
    for (uint64_t seed = 43; seed < 48; seed++) {
        ck_assert_int_eq(seg_kmeans_silhouette(km, f, 150, seed, &s3, NULL, 0), SEG_OK);
        differs |= !same_bits(s3, s1);
    }
    ck_assert_msg(differs, "the seed does not change the sample");

    /* bad input */
    double out = CANARY_DBL;
    char err[256];
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 1, 1, &out, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 0, 1, &out, err, sizeof err), SEG_ERANGE);
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 100001, 1, &out, err, sizeof err), SEG_ERANGE);
    ck_assert_str_ne(err, "");
    seg_frame *nox = frame_d(N, "y", y, NULL);
    ck_assert_int_eq(seg_kmeans_silhouette(km, nox, 100, 1, &out, err, sizeof err),
                     SEG_ENOTFOUND);
    ck_assert(same_bits(out, CANARY_DBL));
    seg_frame_free(nox);
    seg_kmeans *k1 = km_make(NULL, 1);
    feat(k1, "x", SEG_XF_NONE);
    fit_ok(k1, f, NULL);
    strcpy(err, "");
    ck_assert_int_eq(seg_kmeans_silhouette(k1, f, 100, 1, &out, err, sizeof err), SEG_ESTATE);
    ck_assert_str_ne(err, "");
    ck_assert(same_bits(out, CANARY_DBL));
    seg_kmeans_free(k1);

    free(pts);
    free(pl);
    seg_kmeans_free(km);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

START_TEST(silhouette_hand)
{
    /* Two clusters on a line: {0, 1} and {10, 11} (k = 2).
     * Point 0: a = 1, b = (10 + 11) / 2 = 10.5: s = 9.5 / 10.5
     * Point 1: a = 1, b = (9 + 10) / 2 = 9.5:   s = 8.5 / 9.5
     * and symmetrically for 11 and 10. Mean (9.5/10.5 + 8.5/9.5) / 2. */
    static const double v[4] = {0, 10, 1, 11};
    seg_frame *f = frame_d(4, "v", v, NULL);
    seg_kmeans *km = km_make(NULL, 2);
    feat(km, "v", SEG_XF_NONE);
    fit_ok(km, f, NULL);
    double s = CANARY_DBL;
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 4, 0, &s, NULL, 0), SEG_OK);
    ASSERT_NEAR(s, (9.5 / 10.5 + 8.5 / 9.5) / 2, 1e-14);
    seg_kmeans_free(km);
    seg_frame_free(f);
}
END_TEST

/* ---- failing allocations -------------------------------------------------------------- */

START_TEST(oom_fit)
{
    gdata g = gen_blobs(2000, 4, 20, 2, 0, 22);
    g.col[1][5] = NAN;
    seg_frame *f = gframe(&g);
    /* the reference, through the C library's allocator */
    seg_kmeans *ref = gmodel(NULL, 4, SEG_XF_ROBUST);
    param(ref, SEG_KM_N_INIT, 2);
    param(ref, SEG_KM_ORDER_BY, 0);
    param(ref, SEG_KM_ALGORITHM, _i % 2);
    fitres *want = fit_capture(ref, f);
    seg_kmeans_free(ref);

    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    seg_kmeans *km = gmodel(&ta.base, 4, SEG_XF_ROBUST);
    param(km, SEG_KM_N_INIT, 2);
    param(km, SEG_KM_ORDER_BY, 0);
    param(km, SEG_KM_ALGORITHM, _i % 2);
    ta.sticky = _i >= 2;
    int32_t *labels = malloc(g.n * sizeof *labels);
    size_t fails = 0;
    int done = 0;
    for (size_t k = 0; k < 100000 && !done; k++) {
        /* a previous fit, which a failure discards */
        if (k % 3 == 0)
            fit_ok(km, f, NULL);
        size_t live = ta.live;
        int was_fitted = seg_kmeans_is_fitted(km);
        fill_i32(labels, g.n, CANARY_I32);
        seg_test_alloc_fail_next(&ta, k);
        int32_t rc = seg_kmeans_fit(km, f, labels);
        int failed = ta.failures > 0;
        seg_test_alloc_no_fail(&ta);
        if (rc == SEG_OK && !failed) {
            done = 1;
            break;
        }
        if (rc == SEG_OK)
            continue; /* coped without the block */
        ck_assert_msg(rc == SEG_ENOMEM, "allocation %zu failing: rc %d (%s)", k, (int)rc,
                      seg_kmeans_last_error(km));
        ck_assert_str_ne(seg_kmeans_last_error(km), "");
        ck_assert_int_eq(seg_kmeans_is_fitted(km), 0);
        assert_untouched_i32(labels, g.n, "failed fit");
        if (!was_fitted)
            ck_assert_msg(ta.live == live, "allocation %zu failing: %zu blocks live, %zu before",
                          k, ta.live, live);
        else
            ck_assert_uint_le(ta.live, live);
        fails++;
    }
    ck_assert(done);
    ck_assert_uint_gt(fails, 0);
    fitres *got = malloc(sizeof *got);
    got->k = 4;
    got->n = g.n;
    got->labels = labels;
    centroids_of(km, got->cen, 12);
    ck_assert_int_eq(seg_kmeans_result(km, &got->inertia, &got->iter, got->sizes), SEG_OK);
    fitres_same(want, got, "after the allocation failures");
    fitres_free(got);
    fitres_free(want);
    seg_kmeans_free(km);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* new, add_feature, load, predict, inertia_curve, silhouette. */
START_TEST(oom_other)
{
    seg_test_alloc ta;
    seg_test_alloc_init(&ta);
    ta.sticky = 1;
    seg_frame *f = hand_frame();

    /* new + add_feature + set_param */
    int ok = 0;
    for (size_t k = 0; k < 1000 && !ok; k++) {
        seg_kmeans *km = CANARY_PTR, *sentinel = km;
        seg_test_alloc_fail_next(&ta, k);
        int32_t rc = seg_kmeans_new(&km, &ta.base);
        if (rc != SEG_OK) {
            seg_test_alloc_no_fail(&ta);
            ck_assert_int_eq(rc, SEG_ENOMEM);
            ck_assert_ptr_eq(km, sentinel);
            ck_assert_uint_eq(ta.live, 0);
            continue;
        }
        rc = seg_kmeans_add_feature(km, "x", SEG_XF_NONE);
        if (rc == SEG_OK)
            rc = seg_kmeans_add_feature(km, "y", SEG_XF_MINMAX);
        if (rc == SEG_OK)
            rc = seg_kmeans_set_param(km, SEG_KM_K, 3);
        seg_test_alloc_no_fail(&ta);
        if (rc == SEG_OK) {
            ok = 1;
            fit_ok(km, f, NULL);
        } else {
            ck_assert_int_eq(rc, SEG_ENOMEM);
            ck_assert_str_ne(seg_kmeans_last_error(km), "");
        }
        seg_kmeans_free(km);
        ck_assert_uint_eq(ta.live, 0);
    }
    ck_assert(ok);

    /* load */
    seg_kmeans *src = hand_model(NULL, 3);
    fit_ok(src, f, NULL);
    size_t len;
    char *text = save_text(src, &len);
    ok = 0;
    for (size_t k = 0; k < 1000 && !ok; k++) {
        seg_kmeans *km = CANARY_PTR, *sentinel = km;
        char err[256] = "";
        seg_test_alloc_fail_next(&ta, k);
        int32_t rc = seg_kmeans_load(&km, text, len, NULL, &ta.base, err, sizeof err);
        seg_test_alloc_no_fail(&ta);
        if (rc == SEG_OK) {
            ok = 1;
            same_model(src, km, f, 2);
            seg_kmeans_free(km);
        } else {
            ck_assert_msg(rc == SEG_ENOMEM, "load, allocation %zu failing: rc %d (%s)", k,
                          (int)rc, err);
            ck_assert_ptr_eq(km, sentinel);
        }
        ck_assert_uint_eq(ta.live, 0);
    }
    ck_assert(ok);
    free(text);

    /* the const calls on a model in the counting allocator */
    seg_kmeans *km = hand_model(&ta.base, 3);
    fit_ok(km, f, NULL);
    size_t base = ta.live;
    int32_t want_l[HN];
    double want_d[HN], want_curve[4], want_sil;
    predict_ok(km, f, want_l, want_d);
    ck_assert_int_eq(seg_kmeans_inertia_curve(km, f, 1, 4, want_curve, NULL, 0), SEG_OK);
    ck_assert_int_eq(seg_kmeans_silhouette(km, f, 100, 3, &want_sil, NULL, 0), SEG_OK);
    ck_assert_uint_eq(ta.live, base);
    for (int op = 0; op < 3; op++) {
        ok = 0;
        for (size_t k = 0; k < 100000 && !ok; k++) {
            int32_t l[HN];
            double d[HN], curve[4], sil = CANARY_DBL;
            fill_i32(l, HN, CANARY_I32);
            fill_dbl(d, HN, CANARY_DBL);
            fill_dbl(curve, 4, CANARY_DBL);
            char err[256] = "";
            seg_test_alloc_fail_next(&ta, k);
            int32_t rc = op == 0   ? seg_kmeans_predict(km, f, l, d, err, sizeof err)
                         : op == 1 ? seg_kmeans_inertia_curve(km, f, 1, 4, curve, err, sizeof err)
                                   : seg_kmeans_silhouette(km, f, 100, 3, &sil, err, sizeof err);
            int failed = ta.failures > 0;
            seg_test_alloc_no_fail(&ta);
            ck_assert_uint_eq(ta.live, base);
            ck_assert_int_eq(seg_kmeans_is_fitted(km), 1);
            if (rc == SEG_OK) {
                ok = !failed;
                if (op == 0) {
                    labels_eq(l, want_l, HN, "predict");
                    ck_assert(memcmp(d, want_d, sizeof d) == 0);
                } else if (op == 1) {
                    ck_assert(memcmp(curve, want_curve, sizeof curve) == 0);
                } else {
                    ck_assert(same_bits(sil, want_sil));
                }
                continue;
            }
            ck_assert_msg(rc == SEG_ENOMEM, "op %d, allocation %zu failing: rc %d (%s)", op, k,
                          (int)rc, err);
            ck_assert_str_ne(err, "");
            assert_untouched_i32(l, HN, "predict");
            assert_untouched_dbl(d, HN, "predict");
            assert_untouched_dbl(curve, 4, "curve");
            ck_assert(same_bits(sil, CANARY_DBL));
        }
        ck_assert(ok);
    }
    seg_kmeans_free(km);
    seg_kmeans_free(src);
    ck_assert_uint_eq(ta.live, 0);
    ck_assert_uint_eq(ta.bad_frees, 0);
    seg_frame_free(f);
}
END_TEST

/* ---- real data ------------------------------------------------------------------------ */

/* cdnow_customers_summary_with_transactions.csv (ID,x,t_x,T,zbar): 2357
 * customers. Features x, t_x, zbar with log1p then the fit is checked to
 * be a Lloyd fixed point computed here in log space. */
START_TEST(real_cdnow)
{
    const char *dir = getenv("SEG_SHARED_DATA");
    if (!dir)
        dir = "../shared/data";
    char path[4096];
    snprintf(path, sizeof path, "%s/cdnow_customers_summary_with_transactions.csv", dir);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "# skipping real_cdnow: %s not readable\n", path);
        return;
    }
    enum { CAP = 4000 };
    gdata g;
    g.n = 0;
    for (int j = 0; j < 3; j++)
        g.col[j] = malloc(CAP * sizeof(double));
    g.truth = malloc(CAP * sizeof(int32_t));
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp)); /* header */
    while (fgets(line, sizeof line, fp) && g.n < CAP) {
        double id, x, tx, T, z;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf", &id, &x, &tx, &T, &z) != 5)
            continue;
        g.col[0][g.n] = x;
        g.col[1][g.n] = tx;
        g.col[2][g.n] = z;
        g.n++;
    }
    fclose(fp);
    ck_assert_uint_eq(g.n, 2357);
    seg_frame *f = gframe(&g);
    seg_kmeans *km = gmodel(NULL, 4, SEG_XF_LOG1P);
    param(km, SEG_KM_TOL, 0);
    param(km, SEG_KM_N_INIT, 4);
    param(km, SEG_KM_MAX_ITER, 100000);
    fitres *r = fit_capture(km, f);
    /* in log space */
    gdata lg = g;
    double *lc[3];
    for (int j = 0; j < 3; j++) {
        lc[j] = malloc(g.n * sizeof(double));
        for (size_t i = 0; i < g.n; i++)
            lc[j][i] = log1p(g.col[j][i]);
        lg.col[j] = lc[j];
    }
    fitres lr = *r;
    for (int c = 0; c < 12; c++)
        lr.cen[c] = log1p(r->cen[c]);
    check_fixed_point(&lg, &lr);
    for (int j = 0; j < 3; j++)
        free(lc[j]);
    fitres_free(r);
    seg_kmeans_free(km);
    seg_frame_free(f);
    gdata_free(&g);
}
END_TEST

/* ---- suite ---------------------------------------------------------------------------- */

static Suite *kmeans_suite(void)
{
    Suite *s = suite_create("kmeans");
    TCase *tc = tcase_create("hand");
    tcase_add_test(tc, hand_three_blobs);
    tcase_add_test(tc, hand_order_by);
    tcase_add_test(tc, order_ties_by_first_row);
    tcase_add_test(tc, k1_transforms);
    tcase_add_test(tc, k1_log1p);
    tcase_add_test(tc, transform_degenerate_scales);
    tcase_add_test(tc, values_near_dbl_max);
    tcase_add_test(tc, transform_fitted_on_complete_rows);
    tcase_add_test(tc, log1p_changes_partition);
    tcase_add_test(tc, scaling_changes_partition);
    tcase_add_test(tc, missing_values);
    tcase_add_test(tc, empty_clusters);
    tcase_add_test(tc, silhouette_hand);
    suite_add_tcase(s, tc);

    tc = tcase_create("fit");
    tcase_add_test(tc, fixed_point_overlapping);
    tcase_add_test(tc, determinism_same_seed);
    tcase_add_test(tc, determinism_threads);
    tcase_add_test(tc, lloyd_vs_hamerly);
    tcase_add_test(tc, order_stable_across_seeds);
    tcase_add_test(tc, n_init_keeps_lowest);
    tcase_add_test(tc, real_cdnow);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);

    tc = tcase_create("use");
    tcase_add_test(tc, predict_rows);
    tcase_add_test(tc, predict_threads);
    tcase_add_test(tc, progress_counts);
    tcase_add_test(tc, progress_cancel);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, load_errors);
    tcase_add_test(tc, inertia_curve);
    tcase_add_test(tc, silhouette_vs_naive);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, new_and_params);
    tcase_add_test(tc, add_feature_errors);
    tcase_add_test(tc, fit_errors);
    tcase_add_test(tc, changes_unfit);
    tcase_add_test(tc, unfitted_and_buffers);
    tcase_add_loop_test(tc, oom_fit, 0, 4);
    tcase_add_test(tc, oom_other);
    tcase_set_timeout(tc, 240);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return seg_test_run(kmeans_suite());
}
