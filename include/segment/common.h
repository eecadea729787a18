/* SPDX-License-Identifier: MIT */
/**
 * @file common.h
 * @brief Status codes, the export macro and the per-handle allocator.
 *
 * Every other libsegment header includes this one.
 */
#ifndef SEGMENT_COMMON_H
#define SEGMENT_COMMON_H

#include <stddef.h>
#include <stdint.h>

/**
 * @defgroup common Common definitions
 * @brief Status codes, allocator hooks, export and linkage macros.
 * @{
 */

/**
 * @brief Marks a public function for export from the shared library.
 *
 * Defined only if not already defined, so binding generators can run
 * `cc -E -P -DSEG_API= include/segment/segment.h` for clean prototypes.
 */
#ifndef SEG_API
#if defined(_WIN32) && defined(SEG_BUILDING_LIBRARY)
#define SEG_API __declspec(dllexport)
#elif defined(_WIN32)
#define SEG_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define SEG_API __attribute__((visibility("default")))
#else
#define SEG_API
#endif
#endif

#ifdef __cplusplus
/** @brief Opens an `extern "C"` block when compiled as C++. */
#define SEG_BEGIN_DECLS extern "C" {
/** @brief Closes the block opened by #SEG_BEGIN_DECLS. */
#define SEG_END_DECLS }
#else
/** @brief Opens an `extern "C"` block when compiled as C++. */
#define SEG_BEGIN_DECLS
/** @brief Closes the block opened by #SEG_BEGIN_DECLS. */
#define SEG_END_DECLS
#endif

SEG_BEGIN_DECLS

/**
 * @brief Status codes returned by every fallible libsegment function.
 *
 * Functions return these as `int32_t`. Values are stable and never reused.
 * Treat any negative value you do not know as #SEG_ERROR.
 */
enum seg_status_code {
    SEG_OK = 0,           /**< Success. */
    SEG_ERROR = -1,       /**< Unspecified failure. */
    SEG_EINVAL = -2,      /**< Invalid argument: NULL pointer, zero count, unknown option value. */
    SEG_ENOMEM = -3,      /**< An allocation failed. */
    SEG_ERANGE = -4,      /**< A parameter is outside its documented bounds. */
    SEG_ENOTFOUND = -5,   /**< A named item (column, segment) does not exist. */
    SEG_EEXISTS = -6,     /**< A named item already exists. */
    SEG_EBUFSZ = -7,      /**< A caller buffer is too small; the needed size is reported. */
    SEG_ESTATE = -8,      /**< The call is not valid in the object's current state. */
    SEG_EVERSION = -9,    /**< Unknown struct size or file format version. */
    SEG_EDATA = -10,      /**< A value in caller data is not allowed (NaN, Inf, index out of range). */
    SEG_EPARSE = -11,     /**< Text input is malformed; the detail names line and column. */
    SEG_ECANCELED = -12   /**< A callback asked to stop. */
};

/**
 * @brief Name of a status code, as a static English string.
 * @param status A value returned by a libsegment function.
 * @return A static, NUL-terminated string (never NULL). Unknown codes give
 *         "unknown error".
 * @threadsafe
 */
SEG_API const char *seg_status_str(int32_t status);

/** @brief Allocation hook: like malloc(), plus the allocator's user data. */
typedef void *(*seg_malloc_fn)(size_t size, void *user_data);
/** @brief Reallocation hook: like realloc(), plus the allocator's user data. */
typedef void *(*seg_realloc_fn)(void *ptr, size_t size, void *user_data);
/** @brief Release hook: like free(), plus the allocator's user data. Must accept NULL. */
typedef void (*seg_free_fn)(void *ptr, void *user_data);

/**
 * @brief Memory hooks for one handle.
 *
 * Passed by pointer to constructors; the handle copies it, so the struct
 * itself need not outlive the call (the `user_data` it points to must
 * outlive the handle). Passing NULL instead of a pointer to this struct
 * selects the C library's malloc/realloc/free.
 *
 * Set `struct_size` to `sizeof(seg_allocator)`. Fields are only ever
 * appended; a larger size whose unknown tail is not all zero is refused
 * with #SEG_EVERSION. All three function pointers must be non-NULL.
 */
typedef struct seg_allocator {
    uint32_t struct_size;        /**< sizeof(seg_allocator) as the caller compiled it. */
    seg_malloc_fn malloc_fn;     /**< Allocates `size` bytes, or returns NULL. */
    seg_realloc_fn realloc_fn;   /**< Resizes a block, or returns NULL leaving it intact. */
    seg_free_fn free_fn;         /**< Releases a block; accepts NULL. */
    void *user_data;             /**< Passed unchanged to the three hooks. */
} seg_allocator;

/**
 * @brief Fills an allocator struct for callers that cannot use `sizeof`.
 *
 * Sets `struct_size` and the hooks. Useful from FFI layers.
 * @param[out] alloc     Struct to fill.
 * @param struct_size    Size of the struct as the caller knows it; must be at
 *                       least the size of the 1.0 layout.
 * @param malloc_fn      Allocation hook.
 * @param realloc_fn     Reallocation hook.
 * @param free_fn        Release hook.
 * @param user_data      Passed to the hooks.
 * @retval SEG_OK        Filled.
 * @retval SEG_EINVAL    `alloc` or a hook is NULL.
 * @retval SEG_EVERSION  `struct_size` is too small.
 * @threadsafe
 */
SEG_API int32_t seg_allocator_init(seg_allocator *alloc, uint32_t struct_size,
                                   seg_malloc_fn malloc_fn, seg_realloc_fn realloc_fn,
                                   seg_free_fn free_fn, void *user_data);

/** @} */

SEG_END_DECLS

#endif /* SEGMENT_COMMON_H */
