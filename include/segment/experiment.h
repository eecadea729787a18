/* SPDX-License-Identifier: MIT */
/**
 * @file experiment.h
 * @brief A/B tests: deterministic arms, control groups, and their evaluation.
 */
#ifndef SEGMENT_EXPERIMENT_H
#define SEGMENT_EXPERIMENT_H

#include <segment/common.h>

SEG_BEGIN_DECLS

/**
 * @defgroup experiment Experiments (实验组 / 对照组)
 * @brief Assign customers to arms reproducibly and test what a campaign did.
 *
 * **The hash.** An arm is a function of the customer id and the
 * experiment's salt only, so any system can recompute it:
 *
 *     h = FNV-1a-64(salt bytes, one 0x00 byte, id bytes)
 *         (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
 *     h = h ^ (h >> 30); h = h * 0xbf58476d1ce4e5b9;      (mod 2^64)
 *     h = h ^ (h >> 27); h = h * 0x94d049bb133111eb;
 *     h = h ^ (h >> 31)
 *     u = (h >> 11) * 2^-53                               (in [0, 1))
 *
 * (FNV-1a followed by the SplitMix64 finaliser, so that ids differing in
 * one character land far apart.) Arms are the consecutive intervals of
 * [0, 1) given by the cumulative weights: with W = w_0 + ... + w_{n-1}
 * and bound_a = (w_0 + ... + w_a) / W (sums added left to right in double
 * precision), arm a is the first arm with u < bound_a; the bound of the
 * last arm with a positive weight is exactly 1, so an arm of weight 0 is
 * never chosen. Different salts give independent assignments.
 *
 * **Global holdout.** With a holdout share q > 0, a customer whose
 * u computed with the fixed salt `"libsegment-global-holdout"` is below q
 * gets #SEG_ARM_HOLDOUT in every experiment, whatever its salt; the others
 * are split by the weights as above. The holdout is thus the same set of
 * customers for every campaign. (An experiment must not use that fixed salt
 * itself with a holdout: its customers would all have u >= q, skewing arms.)
 *
 * **Stratified assignment** balances arms exactly within each stratum (a
 * tier, a segment): the stratum's m customers (holdout excluded) are
 * ordered by u (equal u by id bytes, then input position), and arm a takes
 * positions [floor(m * bound_{a-1} + 0.5), floor(m * bound_a + 0.5)), so arm
 * sizes differ from the weights by less than one customer per stratum. The price: a customer's arm then depends on
 * who else is in the stratum, so it is stable across runs only for the
 * same population; plain assignment is stable for any population.
 *
 * **Evaluation.** Conversion rates use the two-proportion z-test with the
 * pooled standard error, and a Wald confidence interval for the absolute
 * lift (unpooled standard error); the relative lift's interval comes from
 * the delta method on log(p_b / p_a). Continuous outcomes use Welch's
 * t-test with the Welch-Satterthwaite degrees of freedom. Sample size and
 * minimum detectable effect follow the normal approximation for two
 * proportions. All p-values are two-sided.
 *
 * Every function here is pure (no handle, no global state) and may run
 * from any number of threads at once.
 * @{
 */

/** @brief Arm written for customers in the global holdout. */
#define SEG_ARM_HOLDOUT (-1)

/** @brief Most arms of one experiment. */
#define SEG_AB_MAX_ARMS 64

/**
 * @brief The documented 64-bit hash of (salt, id).
 * @param salt     Salt bytes (may be NULL when `salt_len` is 0).
 * @param salt_len Length of the salt.
 * @param id       Id bytes (may be NULL when `id_len` is 0).
 * @param id_len   Length of the id.
 * @return The hash `h` of the description above.
 * @threadsafe
 */
SEG_API uint64_t seg_ab_hash(const char *salt, size_t salt_len, const char *id, size_t id_len);

/**
 * @brief Assigns each id to an arm (or the global holdout).
 * @param ids          `n` NUL-terminated customer ids (UTF-8 or any bytes).
 * @param n            Number of customers.
 * @param salt         The experiment's salt (NUL-terminated, non-empty).
 * @param weights      `n_arms` non-negative weights with a positive sum
 *                     (e.g. {0.1, 0.9} for a 10% control arm 0).
 * @param n_arms       1..#SEG_AB_MAX_ARMS.
 * @param holdout      Global holdout share, 0 <= holdout < 1.
 * @param[out] out_arm `n` arms (0..n_arms-1 or #SEG_ARM_HOLDOUT).
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK     Assigned.
 * @retval SEG_EINVAL NULL argument (NULL `ids` is fine with `n` 0), empty
 *                    salt, a NULL id (the message names its index).
 * @retval SEG_ERANGE `n_arms`, a weight or `holdout` out of range.
 * @threadsafe
 */
SEG_API int32_t seg_ab_assign(const char *const *ids, size_t n, const char *salt,
                              const double *weights, int32_t n_arms, double holdout,
                              int32_t *out_arm, char *err_buf, size_t err_cap);

/**
 * @brief Assigns arms balanced within each stratum (see above).
 * @param ids          `n` customer ids.
 * @param strata       `n` stratum labels (any int32 values).
 * @param n            Number of customers.
 * @param salt         The experiment's salt.
 * @param weights      `n_arms` weights.
 * @param n_arms       1..#SEG_AB_MAX_ARMS.
 * @param holdout      Global holdout share, 0 <= holdout < 1.
 * @param alloc        Memory hooks for the working memory, or NULL.
 * @param[out] out_arm `n` arms.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Assigned.
 * @retval SEG_EINVAL   As seg_ab_assign(); NULL `strata` with `n` > 0.
 * @retval SEG_ERANGE   As seg_ab_assign().
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory (16 bytes per customer are needed).
 * @threadsafe
 */
SEG_API int32_t seg_ab_assign_stratified(const char *const *ids, const int32_t *strata, size_t n,
                                         const char *salt, const double *weights, int32_t n_arms,
                                         double holdout, const seg_allocator *alloc,
                                         int32_t *out_arm, char *err_buf, size_t err_cap);

/** @name Fields of a proportions result (seg_ab_proportions())
 * @{ */
#define SEG_AB_RATE_A 0   /**< Conversion rate of arm A (control). */
#define SEG_AB_RATE_B 1   /**< Conversion rate of arm B (treatment). */
#define SEG_AB_DIFF 2     /**< Absolute lift rate_b - rate_a. */
#define SEG_AB_DIFF_LO 3  /**< Lower confidence bound of the absolute lift. */
#define SEG_AB_DIFF_HI 4  /**< Upper confidence bound of the absolute lift. */
#define SEG_AB_LIFT 5     /**< Relative lift rate_b / rate_a - 1 (NaN when rate_a is 0). */
#define SEG_AB_LIFT_LO 6  /**< Lower bound of the relative lift (NaN when a rate is 0). */
#define SEG_AB_LIFT_HI 7  /**< Upper bound of the relative lift. */
#define SEG_AB_STAT 8     /**< The z statistic (pooled). */
#define SEG_AB_P 9        /**< Two-sided p-value. */
#define SEG_AB_N_FIELDS 10 /**< Number of fields: the length of the output array. */
/** @} */

/**
 * @brief Compares two conversion rates (two-proportion z-test).
 * @param n_a        Customers in arm A (control), > 0.
 * @param conv_a     Converted customers in A, 0..n_a.
 * @param n_b        Customers in arm B, > 0.
 * @param conv_b     Converted in B, 0..n_b.
 * @param confidence Confidence level of the intervals, in (0, 1), e.g. 0.95.
 * @param[out] out   #SEG_AB_N_FIELDS values, indexed by SEG_AB_RATE_A etc.
 *                   When both rates are 0 or both 1 the statistic is 0
 *                   and the p-value 1.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap    Size of `err_buf`.
 * @retval SEG_OK     Computed.
 * @retval SEG_EINVAL NULL `out`.
 * @retval SEG_ERANGE A count or the confidence out of range.
 * @threadsafe
 */
SEG_API int32_t seg_ab_proportions(int64_t n_a, int64_t conv_a, int64_t n_b, int64_t conv_b,
                                   double confidence, double *out, char *err_buf, size_t err_cap);

/** @name Fields of a means result (seg_ab_means())
 * @{ */
#define SEG_AB_MEAN_A 0   /**< Mean of arm A. */
#define SEG_AB_MEAN_B 1   /**< Mean of arm B. */
#define SEG_AB_MDIFF 2    /**< mean_b - mean_a. */
#define SEG_AB_MDIFF_LO 3 /**< Lower confidence bound of the difference. */
#define SEG_AB_MDIFF_HI 4 /**< Upper confidence bound. */
#define SEG_AB_T 5        /**< Welch's t statistic. */
#define SEG_AB_DF 6       /**< Welch-Satterthwaite degrees of freedom. */
#define SEG_AB_T_P 7      /**< Two-sided p-value. */
#define SEG_AB_N_MFIELDS 8 /**< Number of fields. */
/** @} */

/**
 * @brief Compares two means with Welch's t-test (e.g. AUM growth per arm).
 * NaN values are skipped (counted as missing).
 * @param a          Outcomes of arm A.
 * @param n_a        Their number (at least 2 present values).
 * @param b          Outcomes of arm B.
 * @param n_b        Their number (at least 2 present values).
 * @param confidence Confidence level, in (0, 1).
 * @param[out] out   #SEG_AB_N_MFIELDS values. When both variances are 0
 *                   the statistic, degrees of freedom and p-value are NaN
 *                   and the interval is [diff, diff].
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap    Size of `err_buf`.
 * @retval SEG_OK     Computed.
 * @retval SEG_EINVAL NULL argument (also with a count of 0).
 * @retval SEG_ERANGE Fewer than 2 present values in an arm; bad confidence.
 * @retval SEG_EDATA  An infinite value (the message names arm and index).
 * @threadsafe
 */
SEG_API int32_t seg_ab_means(const double *a, size_t n_a, const double *b, size_t n_b,
                             double confidence, double *out, char *err_buf, size_t err_cap);

/**
 * @brief Customers per arm needed to detect an absolute lift of `mde`.
 * n = (z_{1-alpha/2} * sqrt(2 p (1-p)) + z_{power} * sqrt(p1 (1-p1) + p2 (1-p2)))^2 / mde^2
 * with p1 = `base_rate`, p2 = p1 + mde, p = (p1 + p2) / 2 (equal arms),
 * rounded up, and at least 1 (with power below 0.5 the bracket can turn
 * negative; the formula is applied as written).
 * @param base_rate   Expected control conversion rate, in (0, 1).
 * @param mde         Absolute lift to detect, with base_rate + mde in (0, 1), mde != 0.
 * @param alpha       Significance level, in (0, 1).
 * @param power       Power, in (0, 1).
 * @param[out] out_n  Receives the customers per arm.
 * @retval SEG_OK     Computed.
 * @retval SEG_EINVAL NULL `out_n`.
 * @retval SEG_ERANGE An argument out of range, or a result above 2^62.
 * @threadsafe
 */
SEG_API int32_t seg_ab_sample_size(double base_rate, double mde, double alpha, double power,
                                   int64_t *out_n);

/**
 * @brief Smallest absolute lift detectable with `n` customers per arm.
 * Solves seg_ab_sample_size() for the lift (a positive one), by bisection
 * to 1e-12. The power must be at least 0.5: below it the sample size is
 * not monotone in the lift, so "the smallest detectable lift" has no
 * single answer.
 * @param base_rate   Control conversion rate, in (0, 1).
 * @param n           Customers per arm, >= 2.
 * @param alpha       Significance level, in (0, 1).
 * @param power       Power, in [0.5, 1).
 * @param[out] out_mde Receives the lift; NaN when even base_rate -> 1 is not detectable.
 * @retval SEG_OK     Computed.
 * @retval SEG_EINVAL NULL `out_mde`.
 * @retval SEG_ERANGE An argument out of range.
 * @threadsafe
 */
SEG_API int32_t seg_ab_mde(double base_rate, int64_t n, double alpha, double power,
                           double *out_mde);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_EXPERIMENT_H */
