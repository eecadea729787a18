/* SPDX-License-Identifier: MIT */
/*
 * A counting, failure-injecting seg_allocator for tests.
 *
 *     seg_test_alloc ta;
 *     seg_test_alloc_init(&ta);
 *     seg_frame_new(&frame, 3, &ta.base);      // every block goes through ta
 *     ...
 *     seg_frame_free(frame);
 *     ck_assert_uint_eq(ta.live, 0);           // nothing leaked
 *
 * Failure injection: seg_test_alloc_fail_next(&ta, n) makes the n-th
 * allocation attempt from now (0 = the very next one) return NULL. An
 * attempt is a call of the malloc or realloc hook; a failed realloc leaves
 * its block intact, as the contract requires. With `sticky` set, every
 * attempt after the first failure fails too.
 *
 * Live blocks are kept in a list, so the helper also catches frees and
 * reallocs of pointers it never handed out or already freed (`bad_frees`;
 * such pointers are left alone). realloc always moves the block, and fresh
 * or freed memory is poisoned. The struct must not move while handles use
 * it (the allocator's user_data points at it).
 */
#ifndef SEG_TEST_ALLOC_H
#define SEG_TEST_ALLOC_H

#include <segment/common.h>
#include <stddef.h>
#include <stdint.h>

typedef struct seg_test_alloc {
    seg_allocator base;     /* pass &ta.base to libsegment constructors */

    /* Counters. */
    size_t live;            /* blocks allocated and not yet freed */
    size_t live_bytes;      /* sum of their requested sizes */
    size_t peak_live;       /* highest `live` seen */
    size_t attempts;        /* malloc + realloc hook calls (including failed ones) */
    size_t mallocs;         /* successful malloc hook calls */
    size_t reallocs;        /* successful realloc hook calls */
    size_t frees;           /* free hook calls with a non-NULL pointer */
    size_t failures;        /* attempts that were made to fail */
    size_t bad_frees;       /* frees/reallocs of pointers this allocator never returned */

    /* Failure injection. */
    int64_t fail_at;        /* attempt number (compared with `attempts`) to fail; -1 = never */
    int sticky;             /* 1: after the first failure, fail every later attempt */

    /* Backing store; defaults to the C library's malloc/free. A test may
     * point these elsewhere (e.g. to bypass an interposed malloc). */
    void *(*raw_malloc)(size_t size);
    void (*raw_free)(void *ptr);

    struct seg_test_block *blocks_; /* private: list of live blocks */
} seg_test_alloc;

/* Zeroes the counters, disables failure injection, fills `base` with the
 * hooks and the C library as backing store. */
void seg_test_alloc_init(seg_test_alloc *ta);

/* Makes the n-th allocation attempt from now fail (n = 0: the next one).
 * Clears `failures`. */
void seg_test_alloc_fail_next(seg_test_alloc *ta, size_t n);

/* Stops injecting failures (counters are kept). */
void seg_test_alloc_no_fail(seg_test_alloc *ta);

/* The three hooks, for tests that build their own seg_allocator around a
 * seg_test_alloc (user_data must point at it). */
void *seg_test_alloc_malloc_hook(size_t size, void *user_data);
void *seg_test_alloc_realloc_hook(void *ptr, size_t size, void *user_data);
void seg_test_alloc_free_hook(void *ptr, void *user_data);

#endif /* SEG_TEST_ALLOC_H */
