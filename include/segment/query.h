/* SPDX-License-Identifier: MIT */
/**
 * @file query.h
 * @brief Audience queries (圈人): boolean expressions over tags.
 */
#ifndef SEGMENT_QUERY_H
#define SEGMENT_QUERY_H

#include <segment/common.h>
#include <segment/tags.h>
#include <segment/tagset.h>

SEG_BEGIN_DECLS

/**
 * @defgroup query Audience queries
 * @brief Select customers by tags: `首购客户 and not 流失 and (理财偏好 or 基金持有)`.
 *
 * A query is `and`, `or`, `not` and parentheses over tag names. A name is
 * a canonical tag name or an alias, resolved by the registry (so
 * "ＶＩＰ" finds "vip"). It is written bare when it is one word (letters,
 * digits, `_` and any non-ASCII character other than the ideographic space
 * U+3000, which separates words like a space; not starting with a digit, and
 * not one of the words `and`, `or`, `not`, `true`, `false`), or in
 * backquotes or double quotes otherwise (`` `first purchase` ``).
 * `true` and `false` are every row and no row. Precedence: `not` binds
 * tighter than `and`, which binds tighter than `or`. Keywords are lower
 * case (`AND` is a name); spaces, tabs and newlines separate words; `#`
 * starts a comment to the end of the line; in a double-quoted name `\"`
 * and `\\` stand for `"` and `\`. Nesting (parentheses and `not`) is
 * limited to 256 levels. doc/tags.md has the grammar.
 *
 * Compile once against a registry, run on any tag set of that registry.
 * Runs are exact and go chunk by chunk (65536 rows) through the
 * compressed storage; a compiled query is immutable and may run from any
 * number of threads at once.
 * @{
 */

/** @brief Opaque compiled audience query. */
typedef struct seg_query seg_query;

/**
 * @brief Compiles a query against a frozen registry.
 * An unknown name is an error that names it and suggests the closest
 * registered names; a tag with status #SEG_TAG_DISABLED is refused.
 * @param[out] out     Receives the query; untouched on failure.
 * @param text         Query text (UTF-8; need not be NUL-terminated).
 * @param len          Its length in bytes.
 * @param reg          A frozen registry; the query holds a reference to it.
 * @param source       Name for messages, or NULL for "query".
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives "source:line:col: message" on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Compiled; free with seg_query_free().
 * @retval SEG_EINVAL   NULL `out`, `text` or `reg`.
 * @retval SEG_ESTATE   `reg` is not frozen.
 * @retval SEG_EPARSE   Syntax error, unknown or disabled tag.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_query_compile(seg_query **out, const char *text, size_t len,
                                  const seg_tagreg *reg, const char *source,
                                  const seg_allocator *alloc, char *err_buf, size_t err_cap);

/**
 * @brief Releases a query. NULL is a no-op.
 * @param query A query, or NULL.
 */
SEG_API void seg_query_free(seg_query *query);

/**
 * @brief Number of rows of `set` matching the query.
 * @param query        A query.
 * @param set          A tag set of the query's registry.
 * @param[out] out     Receives the count.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK     Counted.
 * @retval SEG_EINVAL NULL argument, or `set` uses another registry.
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_query_count(const seg_query *query, const seg_tagset *set, int64_t *out,
                                char *err_buf, size_t err_cap);

/**
 * @brief The matching rows, in ascending order, from `row_begin` on.
 * Writes at most `limit` rows; to page through a large audience, call
 * again with `row_begin` one past the last row returned.
 * @param query        A query.
 * @param set          A tag set of the query's registry.
 * @param row_begin    First row to consider (0 for all; may equal n_rows).
 * @param[out] out_rows Receives up to `limit` row indices.
 * @param limit        Capacity of `out_rows` (0 only counts nothing and returns).
 * @param[out] out_n   Receives how many rows were written.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL argument (NULL `out_rows` is fine with `limit` 0),
 *                    or `set` uses another registry.
 * @retval SEG_ERANGE `row_begin` negative or above n_rows.
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_query_select(const seg_query *query, const seg_tagset *set, int64_t row_begin,
                                 int64_t *out_rows, size_t limit, size_t *out_n, char *err_buf,
                                 size_t err_cap);

/**
 * @brief Writes one byte per row: 1 where the row matches, else 0.
 * @param query        A query.
 * @param set          A tag set of the query's registry.
 * @param[out] out     `n` bytes.
 * @param n            Must equal the row count.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK     Written.
 * @retval SEG_EINVAL NULL argument, `n` not the row count, or another registry.
 * @retval SEG_ENOMEM Out of memory.
 * @threadsafe
 */
SEG_API int32_t seg_query_mask(const seg_query *query, const seg_tagset *set, uint8_t *out,
                               size_t n, char *err_buf, size_t err_cap);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_QUERY_H */
