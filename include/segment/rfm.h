/* SPDX-License-Identifier: MIT */
/**
 * @file rfm.h
 * @brief The RFM engine: aggregate transactions, fit thresholds, score.
 */
#ifndef SEGMENT_RFM_H
#define SEGMENT_RFM_H

#include <segment/common.h>

SEG_BEGIN_DECLS

/**
 * @defgroup rfm RFM engine
 * @brief Recency, frequency and monetary scores, fitted once, applied anywhere.
 *
 * A #seg_rfm model holds options (set with seg_rfm_set_param()), and after
 * seg_rfm_fit() the thresholds learnt from a population. The usual flow:
 *
 * 1. seg_rfm_new(), then seg_rfm_set_param() for bins and binning methods;
 * 2. seg_rfm_aggregate() turns transactions into per-customer recency,
 *    frequency and monetary values (or the caller already has them);
 * 3. seg_rfm_fit() learns thresholds (or seg_rfm_fit_score() fits and scores
 *    the same population in one call);
 * 4. seg_rfm_score() scores any number of rows, from any number of threads;
 * 5. a #seg_rfm_scheme (rfm_scheme.h) maps scores to named segments;
 * 6. seg_rfm_save() / seg_rfm_load() keep the fitted model as text.
 *
 * **Dimensions.** Recency is "days since the last purchase": lower is better,
 * so the most recent customers always get the highest recency score.
 * Frequency and monetary: higher is better. Scores run 1..k for a dimension
 * with k bins; 0 means "not scored": a row with a NaN in any of its three
 * inputs gets 0 for all three scores and the cell, and NaN as weighted
 * score (see #SEG_RFM_PARAM_MISSING). Row numbers in messages are 0-based
 * indices into the arrays passed.
 *
 * **Binning methods** (#seg_rfm_binning), per dimension:
 * - #SEG_BINNING_R_COMPAT (default): as the R package rfm 0.3.0. Thresholds
 *   t_j = quantile(x, j/k, type 7) + 1 for j = 1..k-1. A value's bin is
 *   1 + the number of thresholds <= x (bins are [t_{j-1}, t_j)). Equal values
 *   share a score.
 * - #SEG_BINNING_RANK: equal-count bins by rank, ties split by input order,
 *   exactly pandas `qcut(x.rank(method="first"), k, labels=False) + 1`
 *   (which differs from SQL NTILE in where the extra rows go when k does not
 *   divide n). Only seg_rfm_fit_score() scores by rank; seg_rfm_score()
 *   on new rows uses the fitted value thresholds t_j = the largest value
 *   with rank in bin j, bins (t_{j-1}, t_j], so a new value tied with a
 *   boundary takes the lower bin.
 * - #SEG_BINNING_TIES: tie-preserving quantiles. t_j = quantile(x, j/k,
 *   type 7); bin = 1 + the number of thresholds < x (bins (t_{j-1}, t_j],
 *   upper bound inclusive, first bin closed). Equal values share a score;
 *   heavy ties can leave bins empty, labels are never renumbered.
 * - #SEG_BINNING_FIXED: caller thresholds (seg_rfm_set_thresholds()),
 *   k-1 strictly increasing finite values, bins [t_{j-1}, t_j) as in R.
 * - #SEG_BINNING_MEAN, #SEG_BINNING_MEDIAN: two levels, split at the mean or
 *   the median; a value equal to the cut is "high" (score 2). For recency,
 *   high means recent: x <= cut scores 2. The bins parameter is ignored.
 *
 * For recency every method above is computed on the days value and the
 * bin is reversed: score = k + 1 - bin.
 *
 * **Errors and thread safety.** Building a model (seg_rfm_new,
 * seg_rfm_set_param, seg_rfm_set_weights, seg_rfm_set_thresholds,
 * seg_rfm_fit, seg_rfm_fit_score) is single-threaded and leaves detail in
 * seg_rfm_last_error(). Functions taking a `const seg_rfm *`
 * (seg_rfm_aggregate, seg_rfm_score, seg_rfm_get_*, seg_rfm_save) never
 * modify the model, may run on one model from any number of threads at
 * once, and report detail only through their optional `err_buf`.
 * On failure no caller output array is written.
 * @{
 */

/** @brief Opaque RFM model. */
typedef struct seg_rfm seg_rfm;

/** @brief The three dimensions. Passed as `int32_t`. */
enum seg_rfm_dim {
    SEG_RFM_R = 0, /**< Recency (days since last purchase; lower is better). */
    SEG_RFM_F = 1, /**< Frequency (higher is better). */
    SEG_RFM_M = 2  /**< Monetary (higher is better). */
};

/** @brief Binning methods, values for the SEG_RFM_PARAM_*_BINNING keys. */
enum seg_rfm_binning {
    SEG_BINNING_R_COMPAT = 1, /**< R package rfm 0.3.0: type-7 quantiles plus one, [lower, upper). */
    SEG_BINNING_RANK = 2,     /**< Equal-count bins by rank, ties split by input order. */
    SEG_BINNING_TIES = 3,     /**< Type-7 quantiles, (lower, upper], equal values share a bin. */
    SEG_BINNING_FIXED = 4,    /**< Caller thresholds from seg_rfm_set_thresholds(). */
    SEG_BINNING_MEAN = 5,     /**< Two levels split at the mean. */
    SEG_BINNING_MEDIAN = 6    /**< Two levels split at the median. */
};

/** @brief Unit of transaction times and of the analysis time. */
enum seg_rfm_time_unit {
    SEG_TIME_DAYS = 1,   /**< Whole days since 1970-01-01. */
    SEG_TIME_SECONDS = 2 /**< Seconds since 1970-01-01T00:00:00Z; a day is 86400 s (UTC). */
};

/** @brief What frequency counts. */
enum seg_rfm_frequency_mode {
    SEG_FREQUENCY_TRANSACTIONS = 1, /**< Number of purchase rows. */
    SEG_FREQUENCY_DAYS = 2          /**< Number of distinct days with a purchase. */
};

/** @brief What monetary is. */
enum seg_rfm_monetary_mode {
    SEG_MONETARY_SUM = 1, /**< Sum of amounts (net of refunds under #SEG_NEGATIVE_NET). */
    SEG_MONETARY_MEAN = 2 /**< Sum of amounts divided by the number of purchase rows. */
};

/** @brief Policy for negative amounts (refunds). */
enum seg_rfm_negative_policy {
    SEG_NEGATIVE_NET = 1,   /**< Refunds reduce monetary but are not purchases (no effect on R, F, tenure). */
    SEG_NEGATIVE_DROP = 2,  /**< Rows with amount < 0 are ignored entirely. */
    SEG_NEGATIVE_REJECT = 3 /**< A negative amount is an error (#SEG_EDATA) naming the row. */
};

/** @brief Policy for transactions dated after the analysis time. */
enum seg_rfm_future_policy {
    SEG_FUTURE_REJECT = 1, /**< Such a row is an error (#SEG_EDATA) naming the row. */
    SEG_FUTURE_IGNORE = 2  /**< Such rows are skipped. */
};

/** @brief Policy for NaN inputs to fit and score. */
enum seg_rfm_missing_policy {
    SEG_MISSING_SKIP = 1,  /**< The row is left out of fitting and scores 0 (not scored). */
    SEG_MISSING_REJECT = 2 /**< NaN is an error (#SEG_EDATA) naming column and row. */
};

/**
 * @brief Option keys for seg_rfm_set_param() and seg_rfm_get_param().
 *
 * Values are stable; new options get new keys. Bounds are available from
 * seg_rfm_param_bounds().
 */
enum seg_rfm_param {
    SEG_RFM_PARAM_R_BINS = 100,      /**< Bins for recency, 2..10 (default 5). */
    SEG_RFM_PARAM_F_BINS = 101,      /**< Bins for frequency, 2..10 (default 5). */
    SEG_RFM_PARAM_M_BINS = 102,      /**< Bins for monetary, 2..10 (default 5). */
    SEG_RFM_PARAM_R_BINNING = 110,   /**< #seg_rfm_binning for recency (default R_COMPAT). */
    SEG_RFM_PARAM_F_BINNING = 111,   /**< #seg_rfm_binning for frequency (default R_COMPAT). */
    SEG_RFM_PARAM_M_BINNING = 112,   /**< #seg_rfm_binning for monetary (default R_COMPAT). */
    SEG_RFM_PARAM_TIME_UNIT = 200,   /**< #seg_rfm_time_unit (default DAYS). */
    SEG_RFM_PARAM_FREQUENCY = 201,   /**< #seg_rfm_frequency_mode (default TRANSACTIONS). */
    SEG_RFM_PARAM_MONETARY = 202,    /**< #seg_rfm_monetary_mode (default SUM). */
    SEG_RFM_PARAM_NEGATIVE = 203,    /**< #seg_rfm_negative_policy (default NET). */
    SEG_RFM_PARAM_FUTURE = 204,      /**< #seg_rfm_future_policy (default REJECT). */
    SEG_RFM_PARAM_MISSING = 205      /**< #seg_rfm_missing_policy (default SKIP). */
};

/** @brief Largest number of bins per dimension. */
#define SEG_RFM_MAX_BINS 10

/**
 * @brief Creates a model with default options and no fitted thresholds.
 * @param[out] out Receives the model; untouched on failure.
 * @param alloc    Memory hooks, or NULL for the C library's.
 * @retval SEG_OK       Created; free with seg_rfm_free().
 * @retval SEG_EINVAL   `out` is NULL.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_rfm_new(seg_rfm **out, const seg_allocator *alloc);

/**
 * @brief Releases a model. NULL is a no-op.
 * @param model Model, or NULL.
 */
SEG_API void seg_rfm_free(seg_rfm *model);

/**
 * @brief Sets an option.
 *
 * Changing a bins or binning option drops that dimension's fitted
 * thresholds (refit before scoring). Other options keep the fit.
 * Setting a binning to #SEG_BINNING_FIXED requires thresholds from
 * seg_rfm_set_thresholds() before scoring.
 * @param model Model being built.
 * @param param A #seg_rfm_param key.
 * @param value The new value.
 * @retval SEG_OK     Set.
 * @retval SEG_EINVAL `model` NULL or unknown key.
 * @retval SEG_ERANGE Value outside seg_rfm_param_bounds() or not a known enum value.
 */
SEG_API int32_t seg_rfm_set_param(seg_rfm *model, int32_t param, int64_t value);

/**
 * @brief Reads an option.
 * @param model      A model.
 * @param param      A #seg_rfm_param key.
 * @param[out] out   Receives the value; untouched on failure.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL NULL pointer or unknown key.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_get_param(const seg_rfm *model, int32_t param, int64_t *out);

/**
 * @brief Smallest and largest accepted value of an option.
 * @param param        A #seg_rfm_param key.
 * @param[out] out_min Receives the minimum.
 * @param[out] out_max Receives the maximum.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL pointer or unknown key.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_param_bounds(int32_t param, int64_t *out_min, int64_t *out_max);

/**
 * @brief Sets the weights of the weighted score `wr*R + wf*F + wm*M`.
 *
 * Defaults are 1, 1, 1. Weights must be finite; they need not sum to 1.
 * @param model Model being built.
 * @param wr    Recency weight.
 * @param wf    Frequency weight.
 * @param wm    Monetary weight.
 * @retval SEG_OK     Set.
 * @retval SEG_EINVAL `model` NULL or a weight not finite.
 */
SEG_API int32_t seg_rfm_set_weights(seg_rfm *model, double wr, double wf, double wm);

/**
 * @brief Gives one dimension caller thresholds and selects #SEG_BINNING_FIXED.
 *
 * `n_thresholds` strictly increasing finite values make
 * `n_thresholds + 1` bins (2..10): a value x falls in bin
 * 1 + #{j : t_j <= x}. For recency the score is reversed as usual. The bins
 * option of that dimension becomes `n_thresholds + 1`.
 * @param model        Model being built.
 * @param dim          A #seg_rfm_dim.
 * @param thresholds   The thresholds (copied).
 * @param n_thresholds 1..9.
 * @retval SEG_OK     Set; the dimension is ready to score.
 * @retval SEG_EINVAL NULL pointer, bad `dim`, threshold not finite or not strictly increasing.
 * @retval SEG_ERANGE `n_thresholds` outside 1..9.
 */
SEG_API int32_t seg_rfm_set_thresholds(seg_rfm *model, int32_t dim, const double *thresholds,
                                       size_t n_thresholds);

/**
 * @brief Learns thresholds from a population of customers.
 *
 * Dimensions with #SEG_BINNING_FIXED keep their thresholds (one without
 * thresholds stays unfitted; seg_rfm_score() then returns #SEG_ESTATE
 * until seg_rfm_set_thresholds() is called). Rows where any
 * input is NaN are left out (#SEG_MISSING_SKIP) or refused
 * (#SEG_MISSING_REJECT). Infinite values are always refused. On failure the
 * model keeps its previous thresholds.
 * @param model     Model being built.
 * @param recency   Days since the last purchase, `n` values.
 * @param frequency Frequency, `n` values.
 * @param monetary  Monetary value, `n` values.
 * @param n         Number of customers, at least 1 (after skipping missing rows).
 * @retval SEG_OK     Fitted.
 * @retval SEG_EINVAL NULL pointer or `n` is 0.
 * @retval SEG_EDATA  Inf (or NaN under REJECT) in a column, or no row left to fit; the message names column and row.
 * @retval SEG_ENOMEM Out of memory.
 */
SEG_API int32_t seg_rfm_fit(seg_rfm *model, const double *recency, const double *frequency,
                            const double *monetary, size_t n);

/**
 * @brief Fits on a population and scores that same population.
 *
 * Same as seg_rfm_fit() followed by seg_rfm_score(), except that
 * dimensions using #SEG_BINNING_RANK are scored by rank within the
 * population (exact equal-count bins), not by value thresholds.
 * Output arrays have `n` elements; any may be NULL. On failure no output
 * is written and the model keeps its previous thresholds.
 * @param model          Model being built.
 * @param recency        Days since the last purchase.
 * @param frequency      Frequency.
 * @param monetary       Monetary value.
 * @param n              Number of customers (at least 1).
 * @param[out] out_r     Recency scores 1..k, 0 when not scored; or NULL.
 * @param[out] out_f     Frequency scores; or NULL.
 * @param[out] out_m     Monetary scores; or NULL.
 * @param[out] out_cell  100*R + 10*F + M (0 when not scored); or NULL.
 * @param[out] out_weighted Weighted score (NaN when not scored); or NULL.
 * @retval SEG_OK     Fitted and scored.
 * @retval SEG_EINVAL NULL input or `n` is 0.
 * @retval SEG_ESTATE A #SEG_BINNING_FIXED dimension has no thresholds (nothing is changed).
 * @retval SEG_EDATA  Bad value; the message names column and row.
 * @retval SEG_ENOMEM Out of memory.
 */
SEG_API int32_t seg_rfm_fit_score(seg_rfm *model, const double *recency, const double *frequency,
                                  const double *monetary, size_t n, int32_t *out_r, int32_t *out_f,
                                  int32_t *out_m, int32_t *out_cell, double *out_weighted);

/**
 * @brief Scores rows with the fitted thresholds.
 *
 * Safe to call from many threads on one model. Rows may be one (a real-time
 * event) or many. `n` = 0 is a successful no-op. Output arrays have `n`
 * elements; any may be NULL. On failure nothing is written.
 * @param model          A fitted model.
 * @param recency        Days since the last purchase.
 * @param frequency      Frequency.
 * @param monetary       Monetary value.
 * @param n              Number of rows.
 * @param[out] out_r     Recency scores 1..k, 0 when not scored; or NULL.
 * @param[out] out_f     Frequency scores; or NULL.
 * @param[out] out_m     Monetary scores; or NULL.
 * @param[out] out_cell  100*R + 10*F + M (0 when not scored); or NULL.
 * @param[out] out_weighted Weighted score (NaN when not scored); or NULL.
 * @param[out] err_buf   Receives a message on failure, or NULL.
 * @param err_cap        Size of `err_buf` in bytes.
 * @retval SEG_OK     Scored.
 * @retval SEG_EINVAL NULL model or input with `n` > 0.
 * @retval SEG_ESTATE A dimension has no thresholds (not fitted).
 * @retval SEG_EDATA  Inf (or NaN under REJECT); the message names column and row.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_score(const seg_rfm *model, const double *recency, const double *frequency,
                              const double *monetary, size_t n, int32_t *out_r, int32_t *out_f,
                              int32_t *out_m, int32_t *out_cell, double *out_weighted,
                              char *err_buf, size_t err_cap);

/**
 * @brief Reads a dimension's fitted thresholds.
 *
 * Writes k-1 values for k bins (1 for MEAN and MEDIAN: the cut). Their
 * meaning depends on the binning method (see the group description).
 * @param model          A model whose dimension is fitted.
 * @param dim            A #seg_rfm_dim.
 * @param[out] out       Receives the thresholds, or NULL to ask the count.
 * @param cap            Capacity of `out`.
 * @param[out] out_n     Receives the number of thresholds.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL `model`/`out_n` or bad `dim`.
 * @retval SEG_ESTATE The dimension is not fitted.
 * @retval SEG_EBUFSZ `cap` too small (`*out_n` tells the need; `out` untouched).
 * @threadsafe
 */
SEG_API int32_t seg_rfm_get_thresholds(const seg_rfm *model, int32_t dim, double *out, size_t cap,
                                       size_t *out_n);

/**
 * @brief Whether all three dimensions have thresholds.
 * @param model A model, or NULL.
 * @return 1 if seg_rfm_score() can run, else 0.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_is_fitted(const seg_rfm *model);

/**
 * @brief Aggregates transactions (amounts as doubles) into per-customer R, F, M.
 *
 * Times use the model's #SEG_RFM_PARAM_TIME_UNIT. For customer c:
 * - recency = (analysis_time - last purchase time) in days (fractional
 *   when times are seconds);
 * - frequency = purchase rows, or distinct purchase days
 *   (#SEG_RFM_PARAM_FREQUENCY);
 * - monetary = sum of amounts, or that sum / purchase rows
 *   (#SEG_RFM_PARAM_MONETARY);
 * - tenure = (analysis_time - first purchase time) in days;
 * - has_purchase = 1 if c has at least one purchase row.
 *
 * A purchase row has amount >= 0. Refunds follow #SEG_RFM_PARAM_NEGATIVE,
 * rows after the analysis time #SEG_RFM_PARAM_FUTURE. A customer without
 * purchases is flagged (has_purchase = 0) with recency and tenure NaN,
 * frequency 0 and monetary the net of its refunds (0 if none): it is never
 * given invented values. Rows need not be sorted: counts, times and
 * integer sums do not depend on row order; double sums are accumulated in
 * row order, so the last bits of a monetary value can depend on it (use
 * seg_rfm_aggregate_minor() for exact, order-independent money).
 *
 * Outputs have `n_customers` elements each; any may be NULL. On failure
 * nothing is written.
 * @param model            Model whose options apply (not modified).
 * @param customer         Customer index per row, 0..n_customers-1.
 * @param time             Time per row, in the model's time unit.
 * @param amount           Amount per row; NaN and Inf are refused.
 * @param n_rows           Number of rows (0 is allowed: nobody purchased).
 * @param analysis_time    The "as of" time, same unit.
 * @param n_customers      Number of customers, 1..INT32_MAX.
 * @param[out] out_recency      Days since last purchase; or NULL.
 * @param[out] out_frequency    Frequency; or NULL.
 * @param[out] out_monetary     Monetary; or NULL.
 * @param[out] out_tenure       Days since first purchase; or NULL.
 * @param[out] out_has_purchase 1 or 0; or NULL.
 * @param[out] err_buf     Receives a message on failure, or NULL.
 * @param err_cap          Size of `err_buf`.
 * @retval SEG_OK     Aggregated.
 * @retval SEG_EINVAL NULL model, NULL input with `n_rows` > 0, `n_customers` 0 or too large.
 * @retval SEG_EDATA  Index out of range, NaN/Inf amount, refused refund or future row; the message names column and row.
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_aggregate(const seg_rfm *model, const int32_t *customer, const int64_t *time,
                                  const double *amount, size_t n_rows, int64_t analysis_time,
                                  size_t n_customers, double *out_recency, double *out_frequency,
                                  double *out_monetary, double *out_tenure,
                                  uint8_t *out_has_purchase, char *err_buf, size_t err_cap);

/**
 * @brief Same as seg_rfm_aggregate(), with amounts as int64 minor units (e.g. cents).
 *
 * Sums are exact in 64-bit integers; an overflow is #SEG_ERANGE naming the
 * customer. Monetary is written in the same minor units, as a double
 * (exact while |sum| < 2^53).
 * @param model            Model whose options apply.
 * @param customer         Customer index per row.
 * @param time             Time per row.
 * @param amount_minor     Amount per row in minor units.
 * @param n_rows           Number of rows.
 * @param analysis_time    The "as of" time.
 * @param n_customers      Number of customers.
 * @param[out] out_recency      Or NULL.
 * @param[out] out_frequency    Or NULL.
 * @param[out] out_monetary     Or NULL.
 * @param[out] out_tenure       Or NULL.
 * @param[out] out_has_purchase Or NULL.
 * @param[out] err_buf     Or NULL.
 * @param err_cap          Size of `err_buf`.
 * @retval SEG_OK     Aggregated.
 * @retval SEG_EINVAL As seg_rfm_aggregate().
 * @retval SEG_EDATA  As seg_rfm_aggregate().
 * @retval SEG_ERANGE A customer's sum overflows int64.
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_aggregate_minor(const seg_rfm *model, const int32_t *customer,
                                        const int64_t *time, const int64_t *amount_minor,
                                        size_t n_rows, int64_t analysis_time, size_t n_customers,
                                        double *out_recency, double *out_frequency,
                                        double *out_monetary, double *out_tenure,
                                        uint8_t *out_has_purchase, char *err_buf, size_t err_cap);

/**
 * @brief Writes the model (options, weights, thresholds) as versioned text.
 *
 * The text starts with `libsegment-rfm 1`. Doubles are written so that
 * seg_rfm_load() restores them bit for bit.
 * @param model        A model.
 * @param[out] buf     Receives the NUL-terminated text, or NULL to ask the size.
 * @param cap          Capacity of `buf` in bytes.
 * @param[out] out_len Receives the text length excluding the NUL.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL `model` or `out_len`.
 * @retval SEG_EBUFSZ `cap` < length + 1 (`*out_len` tells the need; `buf` untouched).
 * @threadsafe
 */
SEG_API int32_t seg_rfm_save(const seg_rfm *model, char *buf, size_t cap, size_t *out_len);

/**
 * @brief Creates a model from text written by seg_rfm_save().
 * @param[out] out     Receives the model; untouched on failure.
 * @param text         The text (need not be NUL-terminated).
 * @param len          Its length in bytes.
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives "line:col: message" on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Loaded.
 * @retval SEG_EINVAL   NULL `out` or `text`.
 * @retval SEG_EPARSE   Malformed text.
 * @retval SEG_EVERSION Unknown format version or allocator size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_rfm_load(seg_rfm **out, const char *text, size_t len, const seg_allocator *alloc,
                             char *err_buf, size_t err_cap);

/**
 * @brief Message describing the last failed build call on this model.
 * @param model A model, or NULL.
 * @return "" after a success; never NULL. @borrowed valid until the next
 *         non-const call on this model.
 */
SEG_API const char *seg_rfm_last_error(const seg_rfm *model);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_RFM_H */
