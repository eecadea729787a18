/* SPDX-License-Identifier: MIT */
/**
 * @file profile.h
 * @brief Segment profiles (客群画像): size and per-column statistics per label.
 */
#ifndef SEGMENT_PROFILE_H
#define SEGMENT_PROFILE_H

#include <segment/common.h>
#include <segment/frame.h>

SEG_BEGIN_DECLS

/**
 * @defgroup profile Segment profiles
 * @brief Per segment: how many customers, and what their columns look like.
 *
 * Give a label per row (a tier, a group, an RFM segment, a cluster: any
 * int32 values, any number of distinct ones) and the numeric frame columns
 * to describe. The profile has one *group* per distinct label, in
 * ascending label order, or, with a second label array, one group per
 * distinct (label, label2) pair present in the data, in ascending order of
 * the pair (a two-way table such as tier x group). Per group it holds the
 * row count and its share of all rows, and per column the statistics
 * #SEG_STAT_COUNT .. #SEG_STAT_MEDIAN. seg_profile_total() gives the same
 * statistics over all rows.
 *
 * **Missing values** (NaN, or a clear validity bit) are counted per group
 * and column (#SEG_STAT_MISSING) and left out of every other statistic, as
 * pandas does. A group with no present value has sum 0 and NaN for mean,
 * min, max, standard deviation and median; the standard deviation needs
 * two present values (it is the sample standard deviation, ddof = 1).
 * Sums and means are computed with compensated summation, so they do not
 * depend on row order beyond the last bits. An infinite value makes the
 * sum and mean infinite (NaN with both signs) and the deviation NaN. A sum
 * of finite values is infinite only if the true sum exceeds the double
 * range (partial sums may overflow without harm), and then so is the mean.
 *
 * **Cost.** Per column, one pass scatters the present values by group (a
 * counting sort; 8 bytes per row of working memory, reused for every
 * column); every statistic then comes from each group's contiguous values:
 * compensated sums in 8 lanes, a two-pass standard deviation, and the
 * exact median by selection (a 16-bit radix histogram for groups above
 * 4096 values). #SEG_PROFILE_NO_MEDIAN skips the medians (NaN), the most
 * expensive part.
 *
 * A profile is immutable once computed; its functions may run from any
 * number of threads at once.
 * @{
 */

/** @brief Opaque computed profile. */
typedef struct seg_profile seg_profile;

/** @name Statistics (seg_profile_value(), seg_profile_total())
 * @{ */
#define SEG_STAT_COUNT 0   /**< Present (non-missing) values. */
#define SEG_STAT_MISSING 1 /**< Missing values. */
#define SEG_STAT_SUM 2     /**< Sum of present values. */
#define SEG_STAT_SHARE 3   /**< Sum as a share of the column's total sum (NaN when that is 0). */
#define SEG_STAT_MEAN 4    /**< Mean of present values. */
#define SEG_STAT_MIN 5     /**< Smallest present value. */
#define SEG_STAT_MAX 6     /**< Largest present value. */
#define SEG_STAT_STD 7     /**< Sample standard deviation (ddof = 1). */
#define SEG_STAT_MEDIAN 8  /**< Median (mean of the two middle values for an even count). */
/** @} */

/** @brief Flag for seg_profile_compute(): skip the medians (they are NaN). */
#define SEG_PROFILE_NO_MEDIAN 1

/** @brief Most columns one profile describes. */
#define SEG_PROFILE_MAX_COLUMNS 1024

/**
 * @brief Computes the profile of `frame` by label.
 * @param[out] out     Receives the profile; untouched on failure.
 * @param frame        Frame with the columns to describe.
 * @param labels       One label per frame row.
 * @param labels2      A second label per row for a two-way table, or NULL.
 * @param columns      Names of numeric frame columns (double, int64, int32).
 * @param n_columns    0..#SEG_PROFILE_MAX_COLUMNS (0 gives sizes only).
 * @param flags        0 or #SEG_PROFILE_NO_MEDIAN.
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Computed; free with seg_profile_free().
 * @retval SEG_EINVAL    NULL `out`, `frame` or `labels`; NULL `columns` with
 *                       `n_columns` > 0; a column named twice; a text column;
 *                       unknown flags.
 * @retval SEG_ENOTFOUND A column is not in the frame (the message names it).
 * @retval SEG_ERANGE    `n_columns` above the limit.
 * @retval SEG_EVERSION  `alloc` has an unknown size.
 * @retval SEG_ENOMEM    Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_profile_compute(seg_profile **out, const seg_frame *frame,
                                    const int32_t *labels, const int32_t *labels2,
                                    const char *const *columns, size_t n_columns, int32_t flags,
                                    const seg_allocator *alloc, char *err_buf, size_t err_cap);

/**
 * @brief Releases a profile. NULL is a no-op.
 * @param profile A profile, or NULL.
 */
SEG_API void seg_profile_free(seg_profile *profile);

/**
 * @brief Number of groups (distinct labels or label pairs).
 * @param profile A profile, or NULL (gives 0).
 * @return The count.
 * @threadsafe
 */
SEG_API size_t seg_profile_n_groups(const seg_profile *profile);

/**
 * @brief Number of columns described.
 * @param profile A profile, or NULL (gives 0).
 * @return The count.
 * @threadsafe
 */
SEG_API size_t seg_profile_n_columns(const seg_profile *profile);

/**
 * @brief Label(s) and size of group `group`.
 * @param profile         A profile.
 * @param group           0..n_groups-1.
 * @param[out] out_label  Receives the label; or NULL.
 * @param[out] out_label2 Receives the second label (0 without labels2); or NULL.
 * @param[out] out_count  Receives the number of rows; or NULL.
 * @param[out] out_share  Receives count / all rows; or NULL.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL NULL `profile`.
 * @retval SEG_ERANGE Bad group index.
 * @threadsafe
 */
SEG_API int32_t seg_profile_group(const seg_profile *profile, size_t group, int32_t *out_label,
                                  int32_t *out_label2, int64_t *out_count, double *out_share);

/**
 * @brief One statistic of one column in one group.
 * @param profile   A profile.
 * @param group     0..n_groups-1.
 * @param column    0..n_columns-1, in the order given to seg_profile_compute().
 * @param stat      #SEG_STAT_COUNT .. #SEG_STAT_MEDIAN.
 * @param[out] out  Receives the value (counts as doubles).
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL NULL argument, unknown `stat`.
 * @retval SEG_ERANGE Bad group or column index.
 * @threadsafe
 */
SEG_API int32_t seg_profile_value(const seg_profile *profile, size_t group, size_t column,
                                  int32_t stat, double *out);

/**
 * @brief One statistic of one column over all rows.
 * @param profile   A profile.
 * @param column    0..n_columns-1.
 * @param stat      #SEG_STAT_COUNT .. #SEG_STAT_MEDIAN.
 * @param[out] out  Receives the value.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL NULL argument, unknown `stat`.
 * @retval SEG_ERANGE Bad column index.
 * @threadsafe
 */
SEG_API int32_t seg_profile_total(const seg_profile *profile, size_t column, int32_t stat,
                                  double *out);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_PROFILE_H */
