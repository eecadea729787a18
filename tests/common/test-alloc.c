/* SPDX-License-Identifier: MIT */
/* A counting, failure-injecting seg_allocator for tests (see test-alloc.h). */
#include "test-alloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Header in front of every block: keeps the payload aligned for any type,
 * records the size, and links the live blocks so frees can be checked. */
typedef struct seg_test_block {
    struct seg_test_block *prev;
    struct seg_test_block *next;
    size_t size;
} block_info;

typedef union block_header {
    block_info info;
    max_align_t align;
} block_header;

static block_info **list_head(seg_test_alloc *ta)
{
    return &ta->blocks_;
}

static void link_block(seg_test_alloc *ta, block_header *h, size_t size)
{
    block_info **head = list_head(ta);
    h->info.size = size;
    h->info.prev = NULL;
    h->info.next = *head;
    if (*head)
        (*head)->prev = &h->info;
    *head = &h->info;
    ta->live++;
    ta->live_bytes += size;
    if (ta->live > ta->peak_live)
        ta->peak_live = ta->live;
}

static void unlink_block(seg_test_alloc *ta, block_header *h)
{
    block_info **head = list_head(ta);
    if (h->info.prev)
        h->info.prev->next = h->info.next;
    else
        *head = h->info.next;
    if (h->info.next)
        h->info.next->prev = h->info.prev;
    ta->live--;
    ta->live_bytes -= h->info.size;
}

/* The header of `ptr` if this allocator handed it out and it is live. */
static block_header *find_block(seg_test_alloc *ta, void *ptr)
{
    block_info **head = list_head(ta);
    for (block_info *b = *head; b; b = b->next) {
        block_header *h = (block_header *)(void *)b;
        if ((void *)(h + 1) == ptr)
            return h;
    }
    return NULL;
}

/* Counts an attempt; returns 1 if it must fail. */
static int attempt_fails(seg_test_alloc *ta)
{
    int64_t n = (int64_t)ta->attempts++;
    int fail = 0;
    if (ta->fail_at >= 0) {
        if (n == ta->fail_at)
            fail = 1;
        else if (ta->sticky && n > ta->fail_at)
            fail = 1;
    }
    if (fail)
        ta->failures++;
    return fail;
}

void *seg_test_alloc_malloc_hook(size_t size, void *user_data)
{
    seg_test_alloc *ta = user_data;
    if (attempt_fails(ta))
        return NULL;
    if (size > SIZE_MAX - sizeof(block_header))
        return NULL;
    block_header *h = ta->raw_malloc(sizeof(block_header) + size);
    if (!h)
        return NULL;
    /* Poison fresh memory so code that reads before writing shows up. */
    memset(h + 1, 0xA5, size);
    link_block(ta, h, size);
    ta->mallocs++;
    return h + 1;
}

void *seg_test_alloc_realloc_hook(void *ptr, size_t size, void *user_data)
{
    seg_test_alloc *ta = user_data;
    if (ptr == NULL)
        return seg_test_alloc_malloc_hook(size, user_data);
    block_header *h = find_block(ta, ptr);
    if (!h) {
        ta->bad_frees++;
        return NULL;
    }
    if (attempt_fails(ta))
        return NULL; /* the old block stays valid */
    if (size > SIZE_MAX - sizeof(block_header))
        return NULL;
    /* Always move the block: catches callers that keep the old pointer. */
    block_header *n = ta->raw_malloc(sizeof(block_header) + size);
    if (!n)
        return NULL;
    size_t old = h->info.size;
    memcpy(n + 1, h + 1, old < size ? old : size);
    if (size > old)
        memset((unsigned char *)(n + 1) + old, 0xA5, size - old);
    unlink_block(ta, h);
    ta->raw_free(h);
    link_block(ta, n, size);
    ta->reallocs++;
    return n + 1;
}

void seg_test_alloc_free_hook(void *ptr, void *user_data)
{
    seg_test_alloc *ta = user_data;
    if (ptr == NULL)
        return;
    block_header *h = find_block(ta, ptr);
    if (!h) {
        ta->bad_frees++;
        return;
    }
    unlink_block(ta, h);
    memset(h + 1, 0x5A, h->info.size); /* poison: use after free reads garbage */
    ta->raw_free(h);
    ta->frees++;
}

static void *libc_malloc(size_t size)
{
    return malloc(size);
}

static void libc_free(void *ptr)
{
    free(ptr);
}

void seg_test_alloc_init(seg_test_alloc *ta)
{
    memset(ta, 0, sizeof *ta);
    ta->base.struct_size = (uint32_t)sizeof(seg_allocator);
    ta->base.malloc_fn = seg_test_alloc_malloc_hook;
    ta->base.realloc_fn = seg_test_alloc_realloc_hook;
    ta->base.free_fn = seg_test_alloc_free_hook;
    ta->base.user_data = ta;
    ta->fail_at = -1;
    ta->raw_malloc = libc_malloc;
    ta->raw_free = libc_free;
}

void seg_test_alloc_fail_next(seg_test_alloc *ta, size_t n)
{
    ta->fail_at = (int64_t)(ta->attempts + n);
    ta->failures = 0;
}

void seg_test_alloc_no_fail(seg_test_alloc *ta)
{
    ta->fail_at = -1;
}
