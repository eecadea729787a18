/* SPDX-License-Identifier: MIT */
/**
 * @file kmeans.h
 * @brief k-means clustering (聚类分群) of customers over frame columns.
 */
#ifndef SEGMENT_KMEANS_H
#define SEGMENT_KMEANS_H

#include <segment/common.h>
#include <segment/frame.h>

SEG_BEGIN_DECLS

/**
 * @defgroup kmeans k-means clustering
 * @brief Groups the rules missed: k-means with per-feature transforms.
 *
 * A model has features (numeric frame columns, each with a transform fitted
 * with the model and stored in it) and parameters. seg_kmeans_fit() runs
 * k-means++ seeding and Lloyd iterations (or Hamerly's exact acceleration,
 * which gives the same result with fewer distance computations), `n_init`
 * times from seeds derived from the caller's seed, and keeps the run with
 * the lowest inertia. Results are bit-identical for the same seed, data,
 * parameters and build, whatever the thread count.
 *
 * **Seeding** (k-means++): the first centre is a row drawn uniformly; each
 * next one is the best, by resulting inertia, of 2 + floor(ln k) rows drawn
 * with probability proportional to the squared distance to the nearest
 * centre so far (the greedy variant scikit-learn uses). The random numbers
 * come from a SplitMix64 generator seeded with `seed + run`.
 *
 * **Iterations** stop after `max_iter`, or when the centres moved by a
 * total squared distance of at most `tol` times the mean per-feature
 * variance of the transformed data (scikit-learn's rule), or when no label
 * changed. An empty cluster takes the row farthest from its centre (that
 * row leaves its old cluster), so every cluster keeps at least one row.
 *
 * **Missing values**: a row with a missing value in any feature is left
 * out of fitting and gets label -1 from seg_kmeans_fit() and
 * seg_kmeans_predict().
 *
 * **Order.** With #SEG_KM_ORDER_BY set to a feature index, clusters are
 * renumbered by their centroid of that feature (in original units),
 * descending unless #SEG_KM_ORDER_ASC is 1: cluster 0 is then "the most
 * valuable", and labels stay comparable across refits. Otherwise clusters
 * are numbered by descending size, ties by first row.
 *
 * **Threads.** Building (add_feature, set_param) and fitting are done by one
 * thread at a time per model; #SEG_KM_THREADS lets the fit itself use up to
 * that many worker threads. A fitted model is immutable: seg_kmeans_predict()
 * and the other `const` functions may run from any number of threads.
 * @{
 */

/** @brief Opaque k-means model. */
typedef struct seg_kmeans seg_kmeans;

/** @name Feature transforms (fitted on the rows used for fitting)
 * @{ */
#define SEG_XF_NONE 0   /**< The value as is. */
#define SEG_XF_LOG1P 1  /**< log(1 + x); x must be > -1. */
#define SEG_XF_ZSCORE 2 /**< (x - mean) / std (population std; 1 when it is 0). */
#define SEG_XF_MINMAX 3 /**< (x - min) / (max - min) (1 when max == min). */
#define SEG_XF_ROBUST 4 /**< (x - median) / IQR (type-7 quartiles; 1 when the IQR is 0). */
/** @} */

/** @name Parameters (seg_kmeans_set_param())
 * @{ */
#define SEG_KM_K 1          /**< Clusters, 1..1024. Default 8. */
#define SEG_KM_N_INIT 2     /**< Runs from different seeds, 1..1000. Default 1. */
#define SEG_KM_MAX_ITER 3   /**< Iterations per run, 1..100000. Default 300. */
#define SEG_KM_TOL 4        /**< Convergence tolerance, >= 0. Default 1e-4. */
#define SEG_KM_SEED 5       /**< Random seed, an integer 0..2^53. Default 0. */
#define SEG_KM_THREADS 6    /**< Worker threads for fitting, 1..256. Default 1. */
#define SEG_KM_ALGORITHM 7  /**< #SEG_KM_LLOYD or #SEG_KM_HAMERLY (default). */
#define SEG_KM_ORDER_BY 8   /**< Feature index to order clusters by, or -1 (default); -1..255 when set, checked against the features by the fit. */
#define SEG_KM_ORDER_ASC 9  /**< 1: ascending order; 0 (default): descending. */
/** @} */

/** @name Algorithms
 * @{ */
#define SEG_KM_LLOYD 0   /**< Plain Lloyd iterations. */
#define SEG_KM_HAMERLY 1 /**< Hamerly's bounds: same result as Lloyd, fewer distances. */
/** @} */

/**
 * @brief Progress callback of a fit.
 * Called after every iteration.
 * @param user      The pointer given to seg_kmeans_set_progress().
 * @param run       Run index, 0..n_init-1.
 * @param iteration Iterations done in this run.
 * @param inertia   Inertia of this iteration's assignment step, measured
 *                  against the centres before their update (transformed
 *                  units; the final inertia is at most the last one reported).
 * @return 0 to continue; any other value cancels the fit (#SEG_ECANCELED).
 */
typedef int32_t (*seg_progress_fn)(void *user, int32_t run, int32_t iteration, double inertia);

/**
 * @brief Creates an unfitted model with default parameters and no features.
 * @param[out] out Receives the model.
 * @param alloc    Memory hooks, or NULL.
 * @retval SEG_OK       Created; free with seg_kmeans_free().
 * @retval SEG_EINVAL   NULL `out`.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_kmeans_new(seg_kmeans **out, const seg_allocator *alloc);

/**
 * @brief Releases a model. NULL is a no-op.
 * @param km A model, or NULL.
 */
SEG_API void seg_kmeans_free(seg_kmeans *km);

/**
 * @brief Adds a feature: a numeric frame column and its transform.
 * Changing features of a fitted model makes it unfitted.
 * @param km        A model.
 * @param column    Frame column name (valid name, at most #SEG_FRAME_NAME_MAX bytes).
 * @param transform #SEG_XF_NONE .. #SEG_XF_ROBUST.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  NULL argument, invalid name, unknown transform.
 * @retval SEG_EEXISTS The column is already a feature.
 * @retval SEG_ERANGE  More than 256 features.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_kmeans_add_feature(seg_kmeans *km, const char *column, int32_t transform);

/**
 * @brief Sets a parameter. Changing a parameter of a fitted model makes it unfitted.
 * @param km    A model.
 * @param param #SEG_KM_K .. #SEG_KM_ORDER_ASC.
 * @param value The value (integers as whole doubles).
 * @retval SEG_OK     Set.
 * @retval SEG_EINVAL NULL `km`, unknown parameter.
 * @retval SEG_ERANGE Value out of bounds or not whole where an integer is needed.
 */
SEG_API int32_t seg_kmeans_set_param(seg_kmeans *km, int32_t param, double value);

/**
 * @brief Reads a parameter.
 * @param km       A model.
 * @param param    A parameter.
 * @param[out] out Receives the value.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL NULL argument, unknown parameter.
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_get_param(const seg_kmeans *km, int32_t param, double *out);

/**
 * @brief Sets (or clears, with NULL) the progress callback of later fits.
 * @param km   A model.
 * @param fn   Callback, or NULL.
 * @param user Passed to the callback.
 * @retval SEG_OK     Set.
 * @retval SEG_EINVAL NULL `km`.
 */
SEG_API int32_t seg_kmeans_set_progress(seg_kmeans *km, seg_progress_fn fn, void *user);

/**
 * @brief Fits the transforms and the clusters on a frame.
 * On failure or cancellation the model is left unfitted (the previous fit
 * is gone too), nothing leaks, and `out_labels` is untouched.
 * @param km             A model with at least one feature.
 * @param frame          Frame holding the feature columns.
 * @param[out] out_labels Label per frame row (-1 for rows with a missing
 *                       feature), or NULL.
 * @retval SEG_OK        Fitted.
 * @retval SEG_EINVAL    NULL `km` or `frame`; no features.
 * @retval SEG_ENOTFOUND A feature column is missing or not numeric.
 * @retval SEG_EDATA     Fewer complete rows than clusters; an infinite value;
 *                       a value <= -1 for log1p (the message names column and row);
 *                       values so far apart that a transform's scale or a
 *                       squared distance overflows a double (about 1e154 in
 *                       transformed units; the message names the feature).
 * @retval SEG_ERANGE    #SEG_KM_ORDER_BY is not below the number of features.
 * @retval SEG_ECANCELED The progress callback asked to stop.
 * @retval SEG_ENOMEM    Out of memory.
 * @retval SEG_ERROR     A worker thread could not be started.
 * Details: seg_kmeans_last_error().
 */
SEG_API int32_t seg_kmeans_fit(seg_kmeans *km, const seg_frame *frame, int32_t *out_labels);

/**
 * @brief Whether the model is fitted.
 * @param km A model, or NULL (gives 0).
 * @return 1 or 0.
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_is_fitted(const seg_kmeans *km);

/**
 * @brief Message describing the last failed non-const call.
 * @param km A model, or NULL.
 * @return "" after a success; never NULL. @borrowed until the next non-const call.
 */
SEG_API const char *seg_kmeans_last_error(const seg_kmeans *km);

/**
 * @brief Nearest cluster of every row of a frame.
 * @param km              A fitted model.
 * @param frame           Frame holding the feature columns (any row count).
 * @param[out] out_labels Label per row (-1 for rows with a missing feature).
 * @param[out] out_dist   Squared distance to the centre in transformed units
 *                        (NaN for such rows), or NULL.
 * @param[out] err_buf    Receives a message on failure, or NULL.
 * @param err_cap         Size of `err_buf`.
 * @retval SEG_OK        Predicted.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ESTATE    The model is not fitted.
 * @retval SEG_ENOTFOUND A feature column is missing or not numeric.
 * @retval SEG_EDATA     An infinite value, or <= -1 under log1p.
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_predict(const seg_kmeans *km, const seg_frame *frame,
                                   int32_t *out_labels, double *out_dist, char *err_buf,
                                   size_t err_cap);

/**
 * @brief Centroids in original units (the inverse transform of the centres).
 * @param km       A fitted model.
 * @param[out] out k * n_features values, row-major by cluster.
 * @param cap      Capacity of `out` in values.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL argument.
 * @retval SEG_ESTATE Not fitted.
 * @retval SEG_EBUFSZ `cap` below k * n_features (`out` untouched).
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_centroids(const seg_kmeans *km, double *out, size_t cap);

/**
 * @brief Results of the fit.
 * @param km                A fitted model.
 * @param[out] out_inertia  Sum of squared distances to the centres (transformed units); or NULL.
 * @param[out] out_iter     Iterations of the kept run; or NULL.
 * @param[out] out_sizes    k cluster sizes; or NULL.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL NULL `km`.
 * @retval SEG_ESTATE Not fitted.
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_result(const seg_kmeans *km, double *out_inertia, int32_t *out_iter,
                                  int64_t *out_sizes);

/**
 * @brief Inertia for each k in [k_min, k_max] (the elbow curve).
 * Fits a private copy of the model's features and parameters for each k;
 * the model itself is not changed and need not be fitted.
 * @param km               A model with features.
 * @param frame            The data.
 * @param k_min            First k, >= 1.
 * @param k_max            Last k, k_min..1024.
 * @param[out] out_inertia k_max - k_min + 1 values.
 * @param[out] err_buf     Receives a message on failure, or NULL.
 * @param err_cap          Size of `err_buf`.
 * @retval SEG_OK Computed; other codes as seg_kmeans_fit().
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_inertia_curve(const seg_kmeans *km, const seg_frame *frame,
                                         int32_t k_min, int32_t k_max, double *out_inertia,
                                         char *err_buf, size_t err_cap);

/**
 * @brief Mean silhouette coefficient of the fitted clusters on a sample.
 * Rows (complete ones) are sampled without replacement with a SplitMix64
 * generator seeded with `seed`; distances are Euclidean in transformed
 * units and computed within the sample (as scikit-learn's silhouette_score
 * with sample_size). O(sample^2) time.
 * @param km           A fitted model with k >= 2.
 * @param frame        The data.
 * @param sample       Rows to sample, 2..100000 (all complete rows if fewer).
 * @param seed         Sampling seed.
 * @param[out] out     Receives the mean silhouette in [-1, 1].
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK      Computed.
 * @retval SEG_EINVAL  NULL argument.
 * @retval SEG_ESTATE  Not fitted, or k < 2.
 * @retval SEG_ERANGE  `sample` out of range.
 * @retval SEG_ENOTFOUND A feature column is missing or not numeric.
 * @retval SEG_EDATA   An infinite value or <= -1 under log1p; fewer than 2 complete rows.
 * @retval SEG_ENOMEM  Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_silhouette(const seg_kmeans *km, const seg_frame *frame, size_t sample,
                                      uint64_t seed, double *out, char *err_buf, size_t err_cap);

/**
 * @brief Writes the fitted model as versioned text (exact: doubles as %.17g).
 * @param km           A fitted model.
 * @param[out] buf     Receives the text, or NULL to ask the size.
 * @param cap          Capacity of `buf`.
 * @param[out] out_len Receives the length excluding the NUL.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL `km` or `out_len`.
 * @retval SEG_ESTATE Not fitted.
 * @retval SEG_EBUFSZ `cap` too small (`buf` untouched).
 * @threadsafe
 */
SEG_API int32_t seg_kmeans_save(const seg_kmeans *km, char *buf, size_t cap, size_t *out_len);

/**
 * @brief Loads a fitted model saved by seg_kmeans_save().
 * @param[out] out     Receives the model.
 * @param text         The text.
 * @param len          Its length.
 * @param source       Name for messages, or NULL for "kmeans".
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives "source:line:col: message" on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Loaded (fitted).
 * @retval SEG_EINVAL   NULL argument.
 * @retval SEG_EPARSE   Malformed text.
 * @retval SEG_EVERSION Unknown format version.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_kmeans_load(seg_kmeans **out, const char *text, size_t len, const char *source,
                                const seg_allocator *alloc, char *err_buf, size_t err_cap);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_KMEANS_H */
