/* SPDX-License-Identifier: MIT */
/**
 * @file rfm_scheme.h
 * @brief Segment schemes: named boxes over R, F, M scores.
 */
#ifndef SEGMENT_RFM_SCHEME_H
#define SEGMENT_RFM_SCHEME_H

#include <segment/common.h>

SEG_BEGIN_DECLS

/**
 * @defgroup rfm_scheme RFM segment schemes
 * @brief Map (R, F, M) scores to named segments, first matching box wins.
 *
 * A scheme is an ordered list of segments, each a box
 * `r_lo <= R <= r_hi and f_lo <= F <= f_hi and m_lo <= M <= m_hi` over
 * scores 1..`levels`. The first box that contains a row's scores gives its
 * segment; a row no box contains gets the "others" segment. Segment ids are
 * the box positions 0..n-1; the others segment has id n
 * (seg_rfm_scheme_others()). A row that was not scored (any score 0) gets
 * #SEG_SEGMENT_NONE.
 *
 * Each segment has an English identifier (ASCII letters, digits and `_`,
 * not starting with a digit, unique within the scheme including the others
 * segment) and a display name (valid UTF-8 without control characters).
 *
 * Built-in schemes (#seg_rfm_scheme_builtin):
 * - #SEG_SCHEME_RFM10: the rfm package vignette's ten segments over 1..5
 *   (Champions, Potential Loyalist, Loyal Customers, Promising, New
 *   Customers, Can't Lose Them, At Risk, Need Attention, About To Sleep,
 *   Lost) and "Others".
 * - #SEG_SCHEME_RFGRID: ten recency x frequency segments covering all 25
 *   (R, F) cells of 1..5 exactly once; monetary is not used.
 * - #SEG_SCHEME_CLASSIC8: the eight-class model over two levels (score 2 =
 *   high: recent, frequent, high spend), 重要价值客户 ... 一般挽留客户. Use it with
 *   a model whose three dimensions use #SEG_BINNING_MEAN,
 *   #SEG_BINNING_MEDIAN or two-bin #SEG_BINNING_FIXED.
 *
 * Thread safety: building (seg_rfm_scheme_new*, seg_rfm_scheme_add) is
 * single-threaded; every `const seg_rfm_scheme *` function may run from any
 * number of threads at once and reports detail only through `err_buf`.
 * @{
 */

/** @brief Opaque segment scheme. */
typedef struct seg_rfm_scheme seg_rfm_scheme;

/** @brief Built-in schemes for seg_rfm_scheme_new_builtin(). */
enum seg_rfm_scheme_builtin {
    SEG_SCHEME_RFM10 = 1,   /**< The rfm vignette's 10 segments plus "Others" (levels 5). */
    SEG_SCHEME_RFGRID = 2,  /**< Recency x frequency grid of 10 segments (levels 5). */
    SEG_SCHEME_CLASSIC8 = 3 /**< The 8-class high/low model (levels 2). */
};

/** @brief Segment id written for rows that were not scored. */
#define SEG_SEGMENT_NONE (-1)

/** @brief Longest identifier or display name, in bytes. */
#define SEG_SCHEME_NAME_MAX 255

/**
 * @brief Creates an empty scheme for scores 1..`levels`.
 * @param[out] out      Receives the scheme; untouched on failure.
 * @param levels        Highest score of each dimension, 2..10.
 * @param others_id     Identifier of the catch-all segment (e.g. "others").
 * @param others_name   Display name of the catch-all segment (e.g. "Others").
 * @param alloc         Memory hooks, or NULL.
 * @retval SEG_OK     Created; free with seg_rfm_scheme_free().
 * @retval SEG_EINVAL NULL pointer or a bad name.
 * @retval SEG_ERANGE `levels` outside 2..10.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_rfm_scheme_new(seg_rfm_scheme **out, int32_t levels, const char *others_id,
                                   const char *others_name, const seg_allocator *alloc);

/**
 * @brief Creates a built-in scheme.
 * @param[out] out Receives the scheme; untouched on failure.
 * @param which    A #seg_rfm_scheme_builtin value.
 * @param alloc    Memory hooks, or NULL.
 * @retval SEG_OK     Created.
 * @retval SEG_EINVAL NULL `out` or unknown `which`.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_rfm_scheme_new_builtin(seg_rfm_scheme **out, int32_t which,
                                           const seg_allocator *alloc);

/**
 * @brief Releases a scheme. NULL is a no-op.
 * @param scheme Scheme, or NULL.
 */
SEG_API void seg_rfm_scheme_free(seg_rfm_scheme *scheme);

/**
 * @brief Appends a segment (a box of scores); it gets the next id.
 *
 * Bounds are inclusive, 1 <= lo <= hi <= levels. Adding moves the others
 * segment's id up by one.
 * @param scheme  Scheme being built.
 * @param id      English identifier, unique in the scheme.
 * @param name    Display name (UTF-8).
 * @param r_lo    Lowest recency score.
 * @param r_hi    Highest recency score.
 * @param f_lo    Lowest frequency score.
 * @param f_hi    Highest frequency score.
 * @param m_lo    Lowest monetary score.
 * @param m_hi    Highest monetary score.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  NULL pointer or bad identifier/name.
 * @retval SEG_ERANGE  A bound outside 1..levels or lo > hi.
 * @retval SEG_EEXISTS The identifier is taken.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_rfm_scheme_add(seg_rfm_scheme *scheme, const char *id, const char *name,
                                   int32_t r_lo, int32_t r_hi, int32_t f_lo, int32_t f_hi,
                                   int32_t m_lo, int32_t m_hi);

/**
 * @brief Number of segments including the others segment.
 * @param scheme A scheme, or NULL (gives 0).
 * @return Box count + 1.
 * @threadsafe
 */
SEG_API size_t seg_rfm_scheme_count(const seg_rfm_scheme *scheme);

/**
 * @brief Id of the others segment (= number of boxes).
 * @param scheme A scheme, or NULL (gives -1).
 * @return The id.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_scheme_others(const seg_rfm_scheme *scheme);

/**
 * @brief Highest score the scheme expects per dimension.
 * @param scheme A scheme, or NULL (gives 0).
 * @return 2..10.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_scheme_levels(const seg_rfm_scheme *scheme);

/**
 * @brief English identifier of a segment.
 * @param scheme  A scheme.
 * @param segment A segment id, 0..seg_rfm_scheme_count()-1.
 * @return The identifier, or NULL for a bad id. @borrowed valid while the scheme lives.
 * @threadsafe
 */
SEG_API const char *seg_rfm_scheme_id(const seg_rfm_scheme *scheme, int32_t segment);

/**
 * @brief Display name of a segment.
 * @param scheme  A scheme.
 * @param segment A segment id, 0..seg_rfm_scheme_count()-1.
 * @return The name, or NULL for a bad id. @borrowed valid while the scheme lives.
 * @threadsafe
 */
SEG_API const char *seg_rfm_scheme_name(const seg_rfm_scheme *scheme, int32_t segment);

/**
 * @brief Finds a segment by identifier.
 * @param scheme       A scheme.
 * @param id           Identifier.
 * @param[out] out     Receives the segment id.
 * @retval SEG_OK       Found.
 * @retval SEG_EINVAL   NULL pointer.
 * @retval SEG_ENOTFOUND No such identifier.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_scheme_find(const seg_rfm_scheme *scheme, const char *id, int32_t *out);

/**
 * @brief Reads the box of segment `segment` (not the others segment).
 * @param scheme     A scheme.
 * @param segment    0..box count - 1.
 * @param[out] out_bounds Six values: r_lo, r_hi, f_lo, f_hi, m_lo, m_hi.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL pointer.
 * @retval SEG_ERANGE Bad segment id.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_scheme_box(const seg_rfm_scheme *scheme, int32_t segment,
                                   int32_t *out_bounds);

/**
 * @brief Assigns a segment to each row of scores.
 *
 * A row with any score 0 (not scored) gets #SEG_SEGMENT_NONE. A score
 * outside 0..levels is #SEG_EDATA naming column and row (for example,
 * 5-level scores given to the 2-level classic scheme). `n` = 0 is a
 * successful no-op.
 * @param scheme       A scheme.
 * @param r            Recency scores.
 * @param f            Frequency scores.
 * @param m            Monetary scores.
 * @param n            Number of rows.
 * @param[out] out_segment Segment ids, `n` elements.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK     Assigned.
 * @retval SEG_EINVAL NULL pointer with `n` > 0.
 * @retval SEG_EDATA  A score out of range; nothing written.
 * @threadsafe
 */
SEG_API int32_t seg_rfm_scheme_apply(const seg_rfm_scheme *scheme, const int32_t *r,
                                     const int32_t *f, const int32_t *m, size_t n,
                                     int32_t *out_segment, char *err_buf, size_t err_cap);

/**
 * @brief Message describing the last failed build call on this scheme.
 * @param scheme A scheme, or NULL.
 * @return "" after a success; never NULL. @borrowed valid until the next
 *         non-const call on this scheme.
 */
SEG_API const char *seg_rfm_scheme_last_error(const seg_rfm_scheme *scheme);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_RFM_SCHEME_H */
