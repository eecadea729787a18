/* SPDX-License-Identifier: MIT */
/**
 * @file frame.h
 * @brief Named, typed, zero-copy views over caller columns.
 */
#ifndef SEGMENT_FRAME_H
#define SEGMENT_FRAME_H

#include <segment/common.h>

SEG_BEGIN_DECLS

/**
 * @defgroup frame Frame
 * @brief A named, typed, zero-copy view over columns the caller holds.
 *
 * A frame has a fixed row count, set at creation, and any number of named
 * columns. Each column points at a caller array of that many values: the
 * frame does **not** copy the data (SQLite's `SQLITE_STATIC` semantics), so
 * the arrays, and any validity bitmaps, must stay valid and unchanged for as
 * long as the frame, or anything built from it, is in use. Column names are
 * copied.
 *
 * Missing values: a double is missing when it is NaN or when its validity
 * bit is clear; an integer is missing only when its validity bit is clear.
 * A validity bitmap uses Apache Arrow's layout: bit `i % 8` (least
 * significant first) of byte `i / 8` is 1 when row i is present. Pass NULL
 * for "no bitmap: every row present".
 *
 * Names are non-empty valid UTF-8 of at most #SEG_FRAME_NAME_MAX bytes
 * without control characters (U+0000..U+001F, U+007F), compared byte for
 * byte; a duplicate name is refused with #SEG_EEXISTS.
 *
 * Thread safety: building a frame (adding columns) is single-threaded. Once
 * the last column is added, every `const seg_frame *` function may be called
 * from any number of threads at once. Errors from the add functions leave
 * a message readable with seg_frame_last_error();
 * lookups on a built frame never write it.
 * @{
 */

/** @brief Opaque frame handle. */
typedef struct seg_frame seg_frame;

/** @brief Column types. Passed and returned as `int32_t`. */
enum seg_type {
    SEG_TYPE_DOUBLE = 1, /**< `double`; NaN or a clear validity bit is missing. */
    SEG_TYPE_INT64 = 2,  /**< `int64_t`; a clear validity bit is missing. */
    SEG_TYPE_INT32 = 3,  /**< `int32_t`; a clear validity bit is missing. */
    SEG_TYPE_STRING = 4, /**< `const char *` (UTF-8); NULL or a clear validity bit is missing. */
    SEG_TYPE_DICT = 5    /**< `int32_t` codes into a dictionary of strings; a negative code or a clear validity bit is missing. */
};

/** @brief Longest column name, in bytes, excluding the terminating NUL. */
#define SEG_FRAME_NAME_MAX 255

/**
 * @brief Creates an empty frame of `n_rows` rows.
 * @param[out] out   Receives the new frame; untouched on failure.
 * @param n_rows     Number of rows every column will have (may be 0).
 * @param alloc      Memory hooks, or NULL for the C library's.
 * @retval SEG_OK       Created; free with seg_frame_free().
 * @retval SEG_EINVAL   `out` is NULL.
 * @retval SEG_EVERSION `alloc` has an unknown size.
 * @retval SEG_ENOMEM   Out of memory.
 * @owned The caller owns `*out`.
 */
SEG_API int32_t seg_frame_new(seg_frame **out, size_t n_rows, const seg_allocator *alloc);

/**
 * @brief Releases a frame. NULL is a no-op.
 *
 * Objects built from the frame hold their own reference; the frame's memory
 * is released when the last of them is gone. The caller's arrays are never
 * freed by libsegment.
 * @param frame Frame to release, or NULL.
 */
SEG_API void seg_frame_free(seg_frame *frame);

/**
 * @brief Adds a column of doubles.
 * @param frame    Frame being built.
 * @param name     Column name (UTF-8, copied).
 * @param data     `n_rows` values, borrowed for the frame's lifetime. May be
 *                 NULL only when the frame has 0 rows.
 * @param validity Arrow validity bitmap of `(n_rows + 7) / 8` bytes, or NULL.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  `frame` or `name` NULL, `data` NULL with rows, bad name.
 * @retval SEG_EEXISTS A column of that name exists.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_frame_add_double(seg_frame *frame, const char *name, const double *data,
                                     const uint8_t *validity);

/**
 * @brief Adds a column of 64-bit integers. See seg_frame_add_double().
 * @param frame    Frame being built.
 * @param name     Column name (UTF-8, copied).
 * @param data     `n_rows` values, borrowed for the frame's lifetime.
 * @param validity Arrow validity bitmap, or NULL.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  `frame` or `name` NULL, `data` NULL with rows, bad name.
 * @retval SEG_EEXISTS A column of that name exists.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_frame_add_int64(seg_frame *frame, const char *name, const int64_t *data,
                                    const uint8_t *validity);

/**
 * @brief Adds a column of 32-bit integers. See seg_frame_add_double().
 * @param frame    Frame being built.
 * @param name     Column name (UTF-8, copied).
 * @param data     `n_rows` values, borrowed for the frame's lifetime.
 * @param validity Arrow validity bitmap, or NULL.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  `frame` or `name` NULL, `data` NULL with rows, bad name.
 * @retval SEG_EEXISTS A column of that name exists.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_frame_add_int32(seg_frame *frame, const char *name, const int32_t *data,
                                    const uint8_t *validity);

/**
 * @brief Adds a column of strings (text compared by equality in rules).
 * @param frame    Frame being built.
 * @param name     Column name (UTF-8, copied).
 * @param data     `n_rows` pointers to NUL-terminated UTF-8, borrowed for the
 *                 frame's lifetime (the pointers and the strings). A NULL
 *                 pointer is a missing value.
 * @param validity Arrow validity bitmap, or NULL.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  `frame` or `name` NULL, `data` NULL with rows, bad name.
 * @retval SEG_EEXISTS A column of that name exists.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_frame_add_string(seg_frame *frame, const char *name, const char *const *data,
                                     const uint8_t *validity);

/**
 * @brief Adds a dictionary-coded string column (pandas Categorical, Arrow dictionary).
 *
 * Row i holds `dict[codes[i]]`; a negative code is a missing value. Codes
 * are checked once here, so a code >= `dict_len` is refused.
 * @param frame    Frame being built.
 * @param name     Column name (UTF-8, copied).
 * @param codes    `n_rows` codes, borrowed for the frame's lifetime.
 * @param dict     `dict_len` NUL-terminated UTF-8 strings, borrowed likewise.
 * @param dict_len Number of dictionary entries.
 * @param validity Arrow validity bitmap, or NULL.
 * @retval SEG_OK      Added.
 * @retval SEG_EINVAL  NULL `frame`, `name`, `codes` (with rows) or `dict` (with entries), bad name.
 * @retval SEG_EDATA   A code >= `dict_len` or a NULL dictionary entry; the message names the row.
 * @retval SEG_EEXISTS A column of that name exists.
 * @retval SEG_ENOMEM  Out of memory.
 */
SEG_API int32_t seg_frame_add_dict(seg_frame *frame, const char *name, const int32_t *codes,
                                   const char *const *dict, size_t dict_len,
                                   const uint8_t *validity);

/**
 * @brief Reads one value of a string or dictionary column.
 * @param frame          A frame.
 * @param column         Column index.
 * @param row            Row index.
 * @param[out] out_value Receives the string, or NULL when missing.
 *                       @borrowed: the caller's own string.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL `frame` or `out_value` is NULL, or the column is not text.
 * @retval SEG_ERANGE `column` or `row` is out of range.
 * @threadsafe
 */
SEG_API int32_t seg_frame_get_string(const seg_frame *frame, size_t column, size_t row,
                                     const char **out_value);

/**
 * @brief Number of rows, fixed at creation. 0 for a NULL frame.
 * @param frame A frame.
 * @return The row count.
 * @threadsafe
 */
SEG_API size_t seg_frame_n_rows(const seg_frame *frame);

/**
 * @brief Number of columns added so far. 0 for a NULL frame.
 * @param frame A frame.
 * @return The column count.
 * @threadsafe
 */
SEG_API size_t seg_frame_n_columns(const seg_frame *frame);

/**
 * @brief Finds a column by name.
 * @param frame      A frame.
 * @param name       Exact column name.
 * @param[out] out_index Receives the column index; untouched on failure.
 * @retval SEG_OK       Found.
 * @retval SEG_EINVAL   A pointer is NULL.
 * @retval SEG_ENOTFOUND No column has that name.
 * @threadsafe
 */
SEG_API int32_t seg_frame_find(const seg_frame *frame, const char *name, size_t *out_index);

/**
 * @brief Describes column `index`.
 * @param frame          A frame.
 * @param index          Column index, 0 .. seg_frame_n_columns() - 1.
 * @param[out] out_name  Receives the name, or pass NULL. @borrowed valid while the frame lives.
 * @param[out] out_type  Receives a #seg_type value, or pass NULL.
 * @retval SEG_OK     Described.
 * @retval SEG_EINVAL `frame` is NULL.
 * @retval SEG_ERANGE `index` is out of range.
 * @threadsafe
 */
SEG_API int32_t seg_frame_column_info(const seg_frame *frame, size_t index, const char **out_name,
                                      int32_t *out_type);

/**
 * @brief Reads one value as a double.
 *
 * Integers are converted (exactly up to 2^53). A missing value reads as NaN
 * with `*out_missing` = 1. Text columns are refused (seg_frame_get_string()).
 * @param frame            A frame.
 * @param column           Column index.
 * @param row              Row index.
 * @param[out] out_value   Receives the value, or NaN when missing.
 * @param[out] out_missing Receives 1 when missing, else 0; may be NULL.
 * @retval SEG_OK     Read.
 * @retval SEG_EINVAL `frame` or `out_value` is NULL, or the column is text.
 * @retval SEG_ERANGE `column` or `row` is out of range.
 * @threadsafe
 */
SEG_API int32_t seg_frame_get_double(const seg_frame *frame, size_t column, size_t row,
                                     double *out_value, int32_t *out_missing);

/**
 * @brief Message describing the last failed build call on this frame.
 * @param frame A frame, or NULL.
 * @return "" after a success, a message after a failure; never NULL.
 *         @borrowed valid until the next call on this frame.
 */
SEG_API const char *seg_frame_last_error(const seg_frame *frame);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_FRAME_H */
