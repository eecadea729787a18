/* SPDX-License-Identifier: MIT */
/**
 * @file rule.h
 * @brief The rule language: compile a condition once, evaluate it over frames.
 */
#ifndef SEGMENT_RULE_H
#define SEGMENT_RULE_H

#include <segment/common.h>
#include <segment/frame.h>

SEG_BEGIN_DECLS

/**
 * @defgroup rule Rule language
 * @brief Business conditions as text, compiled against a frame's schema.
 *
 * A rule is a boolean expression over frame columns, such as
 * `aum >= 500000 and txn_90d >= 1` or `` `月日均资产` between 5e4 and 5e5 ``.
 * doc/rules.md gives the grammar (EBNF) and the semantics; in short:
 * numbers, "strings", column names (ASCII identifiers, or any UTF-8 in
 * backquotes), `+ - * /`, `== != < <= > >=`, `and or not`, parentheses,
 * `x between a and b` (inclusive), `x in (v1, ...)`, and the functions
 * `abs`, `min`, `max`, `coalesce`, `is_missing`.
 *
 * **Missing values** follow three-valued logic: arithmetic with a missing
 * value is missing; a comparison with a missing value is *unknown*;
 * `not unknown` is unknown; `false and unknown` is false; `true or
 * unknown` is true. A row matches only when the rule is *true*, so a
 * customer with missing AUM matches neither `aum >= 1e6` nor
 * `not (aum >= 1e6)`. Use `is_missing(x)` or `coalesce(x, 0)` to decide
 * otherwise.
 *
 * **Compile, then evaluate.** seg_rule_compile() checks names and types
 * against a frame's columns and reports `source:line:col: message` with the
 * offending token (lines and columns count from 1; columns count bytes, so
 * after non-ASCII text they are UTF-8 byte offsets). The compiled rule is immutable: seg_rule_eval() may run
 * on it from any number of threads at once, over the frame it was compiled
 * against or any frame with the same column names and compatible types.
 * Evaluation runs block by block (256 rows), one tight loop per operator,
 * with no per-row allocation.
 * @{
 */

/** @brief Opaque compiled rule. */
typedef struct seg_rule seg_rule;

/**
 * @brief Compiles a rule against the columns of `schema`.
 * @param[out] out     Receives the rule; untouched on failure.
 * @param text         Rule text (UTF-8; need not be NUL-terminated).
 * @param len          Length of `text` in bytes.
 * @param schema       Frame whose column names and types the rule uses
 *                     (the rule keeps no reference to it).
 * @param source       Name used in messages (e.g. a file name), or NULL for "rule".
 * @param alloc        Memory hooks, or NULL.
 * @param[out] err_buf Receives "source:line:col: message" on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Compiled; free with seg_rule_free().
 * @retval SEG_EINVAL   NULL `out`, `text` or `schema`.
 * @retval SEG_EPARSE   Syntax error, unknown column or function, type error.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_rule_compile(seg_rule **out, const char *text, size_t len,
                                 const seg_frame *schema, const char *source,
                                 const seg_allocator *alloc, char *err_buf, size_t err_cap);

/**
 * @brief Releases a rule. NULL is a no-op.
 * @param rule Rule, or NULL.
 */
SEG_API void seg_rule_free(seg_rule *rule);

/**
 * @brief Evaluates a rule over rows `[row_begin, row_end)` of a frame.
 *
 * Writes `out_match[i - row_begin]` = 1 where the rule is true, else 0.
 * @param rule         A compiled rule.
 * @param frame        Frame holding every column the rule uses.
 * @param row_begin    First row.
 * @param row_end      One past the last row (<= seg_frame_n_rows()).
 * @param[out] out_match `row_end - row_begin` bytes.
 * @param[out] err_buf Receives a message on failure, or NULL.
 * @param err_cap      Size of `err_buf`.
 * @retval SEG_OK       Evaluated.
 * @retval SEG_EINVAL   NULL argument, or a bad row range.
 * @retval SEG_ENOTFOUND A column the rule uses is missing from `frame`, or has another type.
 * @retval SEG_ENOMEM   Out of memory for the evaluation registers.
 * @threadsafe
 */
SEG_API int32_t seg_rule_eval(const seg_rule *rule, const seg_frame *frame, size_t row_begin,
                              size_t row_end, uint8_t *out_match, char *err_buf, size_t err_cap);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_RULE_H */
