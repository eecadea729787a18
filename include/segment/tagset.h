/* SPDX-License-Identifier: MIT */
/**
 * @file tagset.h
 * @brief Tag sets: which registered tags each of n customers holds.
 */
#ifndef SEGMENT_TAGSET_H
#define SEGMENT_TAGSET_H

#include <segment/common.h>
#include <segment/frame.h>
#include <segment/tags.h>

SEG_BEGIN_DECLS

/**
 * @defgroup tagset Tag sets
 * @brief Per-customer tags over a frozen registry, stored compressed.
 *
 * A tag set has a fixed number of rows (customers, in the caller's row
 * order) and one bitmap per tag of its registry. Rows are split into
 * chunks of 65536; each tag's chunk is stored in the smallest of four
 * forms: empty (no bytes), full (no bytes), a sorted list of 16-bit row
 * offsets (2 bytes per customer holding the tag, up to 4096 of them) or a
 * bitmap (8 KiB; the last chunk's bitmap is as long as its rows need,
 * in 64-bit words). A tag therefore never costs more than n/8 bytes plus
 * 8 bytes for rounding and 16 bytes per chunk, and a tag held by 0.1% of
 * customers about n/500.
 * seg_tagset_memory() reports the bytes in use.
 *
 * Tags are named by their registry id. Setting a tag that belongs to an
 * exclusive group clears the group's other tags on the same rows, in every
 * setter. Rows are `int64_t` indices 0..n_rows-1.
 *
 * Thread safety: any number of threads may call the `const seg_tagset *`
 * functions (tests, counts, queries) at once, provided none changes the
 * set meanwhile; changes are single-threaded. seg_tagset_freeze() turns
 * later changes into #SEG_ESTATE, to make a shared set's immutability
 * explicit. Every function reports detail through its `err_buf`.
 * Setters validate every input before changing anything: on failure the
 * set is unchanged.
 * @{
 */

/** @brief Opaque tag set. */
typedef struct seg_tagset seg_tagset;

/**
 * @brief Creates a tag set of `n_rows` rows with no tags set.
 * @param[out] out Receives the set; untouched on failure.
 * @param reg      A frozen registry; the set holds a reference to it.
 * @param n_rows   Number of customers (may be 0; at most 2^40).
 * @param alloc    Memory hooks, or NULL.
 * @retval SEG_OK       Created; free with seg_tagset_free().
 * @retval SEG_EINVAL   NULL `out` or `reg`.
 * @retval SEG_ESTATE   `reg` is not frozen.
 * @retval SEG_ERANGE   `n_rows` above 2^40.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_tagset_new(seg_tagset **out, const seg_tagreg *reg, size_t n_rows,
                               const seg_allocator *alloc);

/**
 * @brief Releases a tag set. NULL is a no-op.
 * @param set A set, or NULL.
 */
SEG_API void seg_tagset_free(seg_tagset *set);

/**
 * @brief Number of rows.
 * @param set A set, or NULL (gives 0).
 * @return The row count.
 * @threadsafe
 */
SEG_API size_t seg_tagset_n_rows(const seg_tagset *set);

/**
 * @brief The registry the set uses.
 * @param set A set.
 * @return The registry, or NULL for NULL `set`. @borrowed valid while the set lives.
 * @threadsafe
 */
SEG_API const seg_tagreg *seg_tagset_registry(const seg_tagset *set);

/**
 * @brief Makes the set read-only: later changes return #SEG_ESTATE.
 * @param set A set.
 * @retval SEG_OK     Frozen (again).
 * @retval SEG_EINVAL NULL `set`.
 */
SEG_API int32_t seg_tagset_freeze(seg_tagset *set);

/**
 * @brief Sets (value 1) or clears (value 0) one tag on one row.
 * @param set          A set.
 * @param tag_id       A registered tag.
 * @param row          0..n_rows-1.
 * @param value        1 or 0.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Done.
 * @retval SEG_EINVAL    NULL `set`, `value` not 0/1.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @retval SEG_ERANGE    `row` out of range.
 * @retval SEG_ESTATE    The set is frozen.
 * @retval SEG_ENOMEM    Out of memory (the set is unchanged).
 */
SEG_API int32_t seg_tagset_set(seg_tagset *set, int32_t tag_id, int64_t row, int32_t value,
                               char *err_buf, size_t err_cap);

/**
 * @brief Whether a row holds a tag.
 * @param set        A set.
 * @param tag_id     A registered tag.
 * @param row        0..n_rows-1.
 * @param[out] out   Receives 1 or 0.
 * @retval SEG_OK        Read.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @retval SEG_ERANGE    `row` out of range.
 * @threadsafe
 */
SEG_API int32_t seg_tagset_test(const seg_tagset *set, int32_t tag_id, int64_t row,
                                int32_t *out);

/**
 * @brief Sets or clears a tag on the listed rows (any order, repeats allowed).
 * @param set          A set.
 * @param tag_id       A registered tag.
 * @param rows         `n` row indices.
 * @param n            Number of rows listed (0 is fine).
 * @param value        1 to set, 0 to clear.
 * @param[out] err_buf Receives a message on failure (a bad row is named by
 *                     its position in `rows`), or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Done.
 * @retval SEG_EINVAL    NULL `set`, NULL `rows` with `n` > 0, `value` not 0/1.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @retval SEG_EDATA     A row out of range (nothing changed).
 * @retval SEG_ESTATE    Frozen.
 * @retval SEG_ENOMEM    Out of memory (nothing changed).
 */
SEG_API int32_t seg_tagset_set_rows(seg_tagset *set, int32_t tag_id, const int64_t *rows,
                                    size_t n, int32_t value, char *err_buf, size_t err_cap);

/**
 * @brief Sets or clears a tag on every row whose byte in `mask` is non-zero.
 * Rows whose byte is 0 are left as they are.
 * @param set          A set.
 * @param tag_id       A registered tag.
 * @param mask         One byte per row.
 * @param n            Length of `mask`; must equal the row count.
 * @param value        1 to set, 0 to clear.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Done.
 * @retval SEG_EINVAL    NULL argument, `n` not the row count, `value` not 0/1.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @retval SEG_ESTATE    Frozen.
 * @retval SEG_ENOMEM    Out of memory (nothing changed).
 */
SEG_API int32_t seg_tagset_set_mask(seg_tagset *set, int32_t tag_id, const uint8_t *mask,
                                    size_t n, int32_t value, char *err_buf, size_t err_cap);

/**
 * @brief Clears a tag on every row.
 * @param set    A set.
 * @param tag_id A registered tag.
 * @retval SEG_OK        Done.
 * @retval SEG_EINVAL    NULL `set`.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @retval SEG_ESTATE    Frozen.
 */
SEG_API int32_t seg_tagset_reset(seg_tagset *set, int32_t tag_id);

/**
 * @brief Writes one byte per row: 1 where the row holds the tag, else 0.
 * @param set       A set.
 * @param tag_id    A registered tag.
 * @param[out] out  `n` bytes.
 * @param n         Must equal the row count.
 * @retval SEG_OK        Written.
 * @retval SEG_EINVAL    NULL argument, `n` not the row count.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @threadsafe
 */
SEG_API int32_t seg_tagset_get_mask(const seg_tagset *set, int32_t tag_id, uint8_t *out,
                                    size_t n);

/**
 * @brief Number of rows holding a tag.
 * @param set        A set.
 * @param tag_id     A registered tag.
 * @param[out] out   Receives the count.
 * @retval SEG_OK        Counted.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @threadsafe
 */
SEG_API int32_t seg_tagset_count(const seg_tagset *set, int32_t tag_id, int64_t *out);

/**
 * @brief Co-occurrence counts of `k` tags.
 * Writes the `k` x `k` row-major matrix whose entry (i, j) is the number
 * of rows holding both `tag_ids[i]` and `tag_ids[j]` (the diagonal holds
 * the per-tag counts).
 * @param set          A set.
 * @param tag_ids      `k` registered tags (repeats allowed).
 * @param k            1..1024.
 * @param[out] out     `k * k` counts.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Counted.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ERANGE    `k` outside 1..1024.
 * @retval SEG_ENOTFOUND An unknown tag id (the message gives its position).
 * @retval SEG_ENOMEM    Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_tagset_cooccurrence(const seg_tagset *set, const int32_t *tag_ids, size_t k,
                                        int64_t *out, char *err_buf, size_t err_cap);

/**
 * @brief Bytes of memory the set's tag storage uses.
 * @param set       A set.
 * @param tag_id    A registered tag, or 0 for the whole set (tag storage
 *                  plus chunk directories).
 * @param[out] out  Receives the byte count.
 * @retval SEG_OK        Read.
 * @retval SEG_EINVAL    NULL argument.
 * @retval SEG_ENOTFOUND Unknown tag id.
 * @threadsafe
 */
SEG_API int32_t seg_tagset_memory(const seg_tagset *set, int32_t tag_id, size_t *out);

/**
 * @brief Recomputes rule tags from a frame of the same rows.
 * Each rule tag listed (or every rule tag of the registry whose status is
 * not #SEG_TAG_DISABLED, when `tag_ids` is NULL) is compiled against
 * `frame` plus the tags its rule names, then evaluated: rows where the rule
 * is true get the tag, all others lose it. Tags are computed in dependency
 * order, so a rule naming another rule tag listed here sees its new value;
 * tags not listed are used as the set holds them. Within an exclusive
 * group, a row matching several rule tags gets the first in id order, and
 * the group's other tags are cleared on the rows a rule tag sets. A frame
 * column and a tag must not share a name a rule uses. Rule errors point
 * into the registry text ("tags.txt:12:9: unknown column 'aum'").
 * @param set          A set.
 * @param frame        Frame with `n_rows` rows and the columns the rules use.
 * @param tag_ids      Rule tags to compute, or NULL for all.
 * @param n_ids        Length of `tag_ids`.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Computed.
 * @retval SEG_EINVAL    NULL `set` or `frame`; a row count that differs; NULL
 *                       `tag_ids` with `n_ids` > 0.
 * @retval SEG_ENOTFOUND An unknown tag id.
 * @retval SEG_ESTATE    The set is frozen, or a listed tag is not a rule tag or is disabled.
 * @retval SEG_EPARSE    A rule does not compile against the frame (unknown
 *                       column, type error, a name both a column and a tag).
 * @retval SEG_ENOMEM    Out of memory (the set is unchanged).
 */
SEG_API int32_t seg_tagset_eval_rules(seg_tagset *set, const seg_frame *frame,
                                      const int32_t *tag_ids, size_t n_ids, char *err_buf,
                                      size_t err_cap);

/**
 * @brief Recomputes model tags from a label array (RFM segment, tier, cluster).
 * The mapping: a row with label `L` in 0..n_labels-1 gets tag
 * `tag_of_label[L]` (no tag when that entry is 0); a row with label
 * #SEG_TIER_NONE (-1) gets none. Every tag the mapping names is first
 * cleared on all rows, so the call replaces the previous model run. Several
 * labels may map to one tag. Exclusive groups apply as in every setter.
 * @param set          A set.
 * @param labels       `n` labels, each -1..n_labels-1.
 * @param n            Must equal the row count.
 * @param tag_of_label `n_labels` tag ids or 0.
 * @param n_labels     1..65536.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK        Set.
 * @retval SEG_EINVAL    NULL argument; `n` not the row count.
 * @retval SEG_ERANGE    `n_labels` outside 1..65536.
 * @retval SEG_ENOTFOUND A mapped tag id is not registered (the message gives the label).
 * @retval SEG_EDATA     A label outside -1..n_labels-1 (the message names the row).
 * @retval SEG_ESTATE    Frozen.
 * @retval SEG_ENOMEM    Out of memory (the set is unchanged).
 */
SEG_API int32_t seg_tagset_set_labels(seg_tagset *set, const int32_t *labels, size_t n,
                                      const int32_t *tag_of_label, int32_t n_labels,
                                      char *err_buf, size_t err_cap);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_TAGSET_H */
