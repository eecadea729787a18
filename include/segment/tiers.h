/* SPDX-License-Identifier: MIT */
/**
 * @file tiers.h
 * @brief Tier sets: ordered rules, first match wins, with hysteresis and gaps.
 */
#ifndef SEGMENT_TIERS_H
#define SEGMENT_TIERS_H

#include <segment/common.h>
#include <segment/frame.h>

SEG_BEGIN_DECLS

/**
 * @defgroup tiers Tier sets and groups
 * @brief Value tiers (分层) and behavioural groups (分群) defined as rule text.
 *
 * A tier set is an ordered list of tiers. Each has an identifier, a display
 * name and a `when` condition in the rule language (rule.h, doc/rules.md);
 * the first tier whose condition is true for a row is that row's tier, and
 * a tier written `otherwise` matches every row (the catch-all). Tier 0 is
 * the first, highest tier. A set may also give a tier a `keep` condition
 * for hysteresis (保级): see seg_tiers_apply().
 *
 * The text format, one tier per line, `#` starting a comment:
 *
 *     libsegment-tiers 1
 *     tier private_banking "私人银行" when aum >= 6000000
 *     tier wealth          "财富客户" when aum >= 500000 keep aum >= 450000
 *     tier gold            "金卡客户" when aum >= 50000 and txn_90d >= 1
 *     tier mass            "大众客户" otherwise
 *
 * The first line is optional when loading and always written when saving.
 * A groups file is the same format with the keyword `group` instead of
 * `tier`; a file uses one keyword throughout. Identifiers are ASCII
 * (`[A-Za-z_][A-Za-z0-9_]*`), display names any UTF-8 in double quotes
 * (`\"` and `\\` escape). Columns in messages count bytes from 1, so a
 * position after non-ASCII text is its UTF-8 byte offset.
 *
 * Thread safety: loading and building (seg_tiers_load, seg_tiers_new,
 * seg_tiers_add) are single-threaded; every `const seg_tiers *` function
 * may run from many threads at once and reports detail only through its
 * `err_buf`.
 * @{
 */

/** @brief Opaque tier set. */
typedef struct seg_tiers seg_tiers;

/** @brief Tier index written for rows that match no tier (a set without catch-all). */
#define SEG_TIER_NONE (-1)

/**
 * @brief Loads a tier set from text, compiling its rules against `schema`.
 * @param[out] out     Receives the set; untouched on failure.
 * @param text         The text (UTF-8; need not be NUL-terminated).
 * @param len          Its length in bytes.
 * @param schema       Frame whose columns the rules use. The set keeps a
 *                     reference (for seg_tiers_add(), which reads only column
 *                     names and types), so the frame may be freed first.
 * @param source       Name for messages (e.g. "tiers.txt"), or NULL for "tiers".
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives "source:line:col: message" on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Loaded; free with seg_tiers_free().
 * @retval SEG_EINVAL   NULL `out`, `text` or `schema`.
 * @retval SEG_EPARSE   Malformed line, bad rule, duplicate identifier, no tier.
 * @retval SEG_EVERSION Unknown format version or allocator size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_tiers_load(seg_tiers **out, const char *text, size_t len,
                               const seg_frame *schema, const char *source,
                               const seg_allocator *alloc, char *err_buf, size_t err_cap);

/**
 * @brief Creates an empty tier set to build with seg_tiers_add().
 * @param[out] out Receives the set.
 * @param schema   Frame whose columns the rules will use. The set keeps a
 *                 reference (seg_tiers_add() reads its column names and
 *                 types), so the frame may be freed first.
 * @param is_group 1 for a groups set (saved with the keyword `group`), else 0.
 * @param alloc    Memory hooks, or NULL.
 * @retval SEG_OK       Created.
 * @retval SEG_EINVAL   NULL `out` or `schema`, or `is_group` not 0/1.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_tiers_new(seg_tiers **out, const seg_frame *schema, int32_t is_group,
                              const seg_allocator *alloc);

/**
 * @brief Appends a tier (it becomes the lowest so far).
 * @param tiers  Set being built.
 * @param id     Identifier, unique in the set.
 * @param name   Display name (UTF-8).
 * @param when   Condition in the rule language, or NULL for `otherwise`.
 * @param keep   Hysteresis condition, or NULL (then `when` is used).
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  NULL `tiers`, bad identifier or name, `keep` without `when`.
 * @retval SEG_EEXISTS The identifier is taken.
 * @retval SEG_EPARSE  A condition does not compile; seg_tiers_last_error() has "line:col: message".
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_tiers_add(seg_tiers *tiers, const char *id, const char *name,
                              const char *when, const char *keep);

/**
 * @brief Releases a tier set. NULL is a no-op.
 * @param tiers Set, or NULL.
 */
SEG_API void seg_tiers_free(seg_tiers *tiers);

/**
 * @brief Number of tiers.
 * @param tiers A set, or NULL (gives 0).
 * @return The count.
 * @threadsafe
 */
SEG_API size_t seg_tiers_count(const seg_tiers *tiers);

/**
 * @brief Identifier of tier `tier`.
 * @param tiers A set.
 * @param tier  0..count-1.
 * @return The identifier, or NULL for a bad index. @borrowed valid while the set lives.
 * @threadsafe
 */
SEG_API const char *seg_tiers_id(const seg_tiers *tiers, int32_t tier);

/**
 * @brief Display name of tier `tier`.
 * @param tiers A set.
 * @param tier  0..count-1.
 * @return The name, or NULL for a bad index. @borrowed valid while the set lives.
 * @threadsafe
 */
SEG_API const char *seg_tiers_name(const seg_tiers *tiers, int32_t tier);

/**
 * @brief Finds a tier by identifier.
 * @param tiers    A set.
 * @param id       Identifier.
 * @param[out] out Receives the tier index.
 * @retval SEG_OK        Found.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ENOTFOUND No such tier.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_find(const seg_tiers *tiers, const char *id, int32_t *out);

/**
 * @brief Writes the set as text that seg_tiers_load() reads back to the same set.
 * @param tiers        A set.
 * @param[out] buf     Receives the NUL-terminated text, or NULL to ask the size.
 * @param cap          Capacity of `buf`.
 * @param[out] out_len Receives the length excluding the NUL.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL `tiers` or `out_len`.
 * @retval SEG_EBUFSZ `cap` too small (`*out_len` tells the need; `buf` untouched).
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_save(const seg_tiers *tiers, char *buf, size_t cap, size_t *out_len);

/**
 * @brief Assigns a tier to every row of a frame.
 *
 * Without `prev`, a row's tier is the first tier whose `when` holds
 * (#SEG_TIER_NONE if none does). With `prev` (each row's previous tier
 * index, or #SEG_TIER_NONE when unknown), hysteresis applies: a row whose
 * `when`-tier is higher than its previous tier moves up; otherwise it stays
 * in its previous tier while that tier's `keep` condition (or, without
 * `keep`, its `when` condition) holds, and else takes its `when`-tier.
 * @param tiers        A set.
 * @param frame        Frame with the columns the rules use.
 * @param prev         Previous tier per row (`seg_frame_n_rows` values), or NULL.
 * @param[out] out_tier Tier per row.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Assigned.
 * @retval SEG_EINVAL   NULL argument.
 * @retval SEG_EDATA    A `prev` value outside -1..count-1; the message names the row.
 * @retval SEG_ENOTFOUND A column the rules use is missing from `frame`.
 * @retval SEG_ENOMEM   Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_apply(const seg_tiers *tiers, const seg_frame *frame,
                                const int32_t *prev, int32_t *out_tier, char *err_buf,
                                size_t err_cap);

/**
 * @brief For rows already tiered, the gap to the next higher tier.
 *
 * For row i in tier t > 0 the next tier is t - 1. Its `when` condition is
 * examined when it is a conjunction (`and`) of comparisons of the form
 * `column op constant` or `constant op column` (op one of `< <= > >= ==`)
 * and `column between a and b` (taken as `>= a` and `<= b`): for every such
 * comparison the row fails, the gap is `constant - value` (positive: the
 * column must rise by that much; negative: fall). The output reports the
 * failing comparison with the largest relative gap |gap| / max(|constant|, 1)
 * (a failing comparison on a missing value counts as the largest; on a tie
 * the first in rule order wins) and the number of failing comparisons. The row is *critical* (临界) when
 * every failing comparison is within `critical` relative distance
 * (|gap| <= critical * |constant|), at least one fails, and none fails on
 * a missing value. For a next tier whose condition is not such a conjunction
 * (it uses `or`, `not`, functions, arithmetic or text), no gap is reported
 * (column -1, gap NaN, count -1) and no row is critical. Rows in tier 0 or
 * #SEG_TIER_NONE get next tier -1, no gap and 0 failing comparisons.
 * @param tiers            A set.
 * @param frame            The frame the tiers were computed on.
 * @param tier             Tier per row (from seg_tiers_apply()).
 * @param critical         Relative distance for the critical flag, e.g. 0.10; >= 0.
 * @param[out] out_next    Next higher tier per row, or -1; or NULL.
 * @param[out] out_gap_column Frame column index of the reported gap, or -1; or NULL.
 * @param[out] out_gap     The reported gap, or NaN; or NULL.
 * @param[out] out_n_failing Failing comparisons (0.., or -1 when not analysable); or NULL.
 * @param[out] out_critical 1 or 0 per row; or NULL.
 * @param[out] err_buf     Receives a message on failure, or NULL.
 * @param err_cap          Size of `err_buf`.
 * @retval SEG_OK       Computed.
 * @retval SEG_EINVAL   NULL `tiers`, `frame` or `tier`; `critical` negative or NaN.
 * @retval SEG_EDATA    A tier value outside -1..count-1; the message names the row.
 * @retval SEG_ENOTFOUND A column the rules use is missing from `frame`.
 * @retval SEG_ENOMEM   Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_gaps(const seg_tiers *tiers, const seg_frame *frame,
                               const int32_t *tier, double critical, int32_t *out_next,
                               int32_t *out_gap_column, double *out_gap, int32_t *out_n_failing,
                               uint8_t *out_critical, char *err_buf, size_t err_cap);

/**
 * @brief Coverage check: whether a tier can never match.
 *
 * A tier is unreachable when an earlier tier matches every row it matches:
 * an earlier catch-all, or an earlier conjunction of comparisons with
 * constants (as analysed by seg_tiers_gaps(), `between` included) implied
 * by this tier's own (decided per column by interval containment). Unions of several earlier tiers are not considered, so a
 * result of -1 means "not shown unreachable".
 * @param tiers       A set.
 * @param tier        0..count-1.
 * @param[out] out_by Receives the earlier tier that always wins, or -1.
 * @retval SEG_OK     Decided.
 * @retval SEG_EINVAL NULL argument.
 * @retval SEG_ERANGE Bad tier index.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_unreachable(const seg_tiers *tiers, int32_t tier, int32_t *out_by);

/**
 * @brief Whether the set has a catch-all (`otherwise`) tier.
 * @param tiers A set, or NULL (gives 0).
 * @return 1 or 0.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_has_catch_all(const seg_tiers *tiers);

/**
 * @brief Whether the set is a groups set (keyword `group`) rather than tiers.
 * @param tiers A set, or NULL (gives 0).
 * @return 1 for groups, 0 for tiers.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_is_group(const seg_tiers *tiers);

/**
 * @brief Message describing the last failed build call on this set.
 * @param tiers A set, or NULL.
 * @return "" after a success; never NULL. @borrowed valid until the next
 *         non-const call on this set.
 */
SEG_API const char *seg_tiers_last_error(const seg_tiers *tiers);

/**
 * @brief Tier migration between two label arrays (e.g. last month and this month).
 *
 * Counts transitions from `from[i]` to `to[i]` into an `n_tiers` x `n_tiers`
 * row-major matrix (row = from). With tiers ordered (0 highest), per
 * from-tier: upgrade rate = share moving to a lower index, retention (保级率)
 * = share staying, downgrade rate = share moving to a higher index. Rows
 * where either label is #SEG_TIER_NONE are not counted; a from-tier with no
 * rows gets NaN rates.
 * @param from           Earlier labels, `n` values in -1..n_tiers-1.
 * @param to             Later labels, `n` values.
 * @param n              Number of rows.
 * @param n_tiers        Number of tiers, 1..1024.
 * @param[out] out_matrix n_tiers * n_tiers counts; or NULL.
 * @param[out] out_up    n_tiers upgrade rates; or NULL.
 * @param[out] out_stay  n_tiers retention rates; or NULL.
 * @param[out] out_down  n_tiers downgrade rates; or NULL.
 * @param[out] err_buf   Receives a message on failure, or NULL.
 * @param err_cap        Size of `err_buf`.
 * @retval SEG_OK     Counted.
 * @retval SEG_EINVAL NULL labels with `n` > 0.
 * @retval SEG_ERANGE `n_tiers` outside 1..1024.
 * @retval SEG_EDATA  A label outside -1..n_tiers-1; the message names array and row.
 * @threadsafe
 */
SEG_API int32_t seg_tiers_migration(const int32_t *from, const int32_t *to, size_t n,
                                    int32_t n_tiers, int64_t *out_matrix, double *out_up,
                                    double *out_stay, double *out_down, char *err_buf,
                                    size_t err_cap);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_TIERS_H */
