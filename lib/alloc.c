/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seg-private.h"

static void *libc_malloc(size_t size, void *ud) { (void)ud; return malloc(size); }
static void *libc_realloc(void *p, size_t size, void *ud) { (void)ud; return realloc(p, size); }
static void libc_free(void *p, void *ud) { (void)ud; free(p); }

/* The 0.1 layout: everything up to and including user_data. */
#define ALLOC_V1_SIZE (offsetof(seg_allocator, user_data) + sizeof(void *))

SEG_API int32_t seg_allocator_init(seg_allocator *alloc, uint32_t struct_size,
                                   seg_malloc_fn malloc_fn, seg_realloc_fn realloc_fn,
                                   seg_free_fn free_fn, void *user_data)
{
    if (!alloc || !malloc_fn || !realloc_fn || !free_fn)
        return SEG_EINVAL;
    if (struct_size < ALLOC_V1_SIZE)
        return SEG_EVERSION;
    size_t n = struct_size < sizeof *alloc ? struct_size : sizeof *alloc;
    memset(alloc, 0, n);
    alloc->struct_size = (uint32_t)n;
    alloc->malloc_fn = malloc_fn;
    alloc->realloc_fn = realloc_fn;
    alloc->free_fn = free_fn;
    alloc->user_data = user_data;
    return SEG_OK;
}

int32_t seg__alloc_init(seg__alloc *a, const seg_allocator *user, char *err, size_t cap)
{
    if (!user) {
        a->malloc_fn = libc_malloc;
        a->realloc_fn = libc_realloc;
        a->free_fn = libc_free;
        a->user_data = NULL;
        return SEG_OK;
    }
    if (user->struct_size < ALLOC_V1_SIZE) {
        seg__errf(err, cap, "allocator: struct_size %u is below %zu (use seg_allocator_init)",
                  (unsigned)user->struct_size, (size_t)ALLOC_V1_SIZE);
        return SEG_EVERSION;
    }
    if (user->struct_size > sizeof *user) {
        /* A newer caller: accept only if the fields we do not know are zero. */
        const unsigned char *tail = (const unsigned char *)user + sizeof *user;
        for (size_t i = 0; i < user->struct_size - sizeof *user; i++)
            if (tail[i]) {
                seg__errf(err, cap,
                          "allocator: struct_size %u has fields this library (%zu bytes) "
                          "does not know, and they are not zero",
                          (unsigned)user->struct_size, sizeof *user);
                return SEG_EVERSION;
            }
    }
    if (!user->malloc_fn || !user->realloc_fn || !user->free_fn) {
        seg__errf(err, cap, "allocator: %s is NULL",
                  !user->malloc_fn ? "malloc_fn" : !user->realloc_fn ? "realloc_fn" : "free_fn");
        return SEG_EINVAL;
    }
    a->malloc_fn = user->malloc_fn;
    a->realloc_fn = user->realloc_fn;
    a->free_fn = user->free_fn;
    a->user_data = user->user_data;
    return SEG_OK;
}

void *seg__malloc(const seg__alloc *a, size_t size)
{
    return a->malloc_fn(size ? size : 1, a->user_data);
}

void *seg__malloc_array(const seg__alloc *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return seg__malloc(a, n * size);
}

void *seg__calloc_array(const seg__alloc *a, size_t n, size_t size)
{
    void *p = seg__malloc_array(a, n, size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *seg__realloc_array(const seg__alloc *a, void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    return a->realloc_fn(p, bytes ? bytes : 1, a->user_data);
}

void seg__free(const seg__alloc *a, void *p)
{
    if (p)
        a->free_fn(p, a->user_data);
}

char *seg__strdup(const seg__alloc *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = seg__malloc(a, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

size_t seg__utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* Step back over continuation bytes to a character start. */
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

void seg__verrf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    if (!buf || cap == 0)
        return;
    int n = vsnprintf(buf, cap, fmt, ap);
    if (n < 0) {
        buf[0] = '\0';
        return;
    }
    size_t len = (size_t)n < cap ? (size_t)n : cap - 1;
    if ((size_t)n >= cap) {
        /* Truncated: drop a last character that lost some of its bytes. */
        size_t start = len;
        while (start > 0 && ((unsigned char)buf[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0) {
            unsigned char lead = (unsigned char)buf[start - 1];
            size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
            if (len - (start - 1) < need) {
                len = start - 1;
                buf[len] = '\0';
            }
        }
    }
    /* Messages quote the caller's text (names, rule tokens, file lines):
     * a control byte or malformed UTF-8 there becomes '?', so a message is
     * always one line of valid UTF-8, safe to log or hand to a binding. */
    unsigned char *s = (unsigned char *)buf;
    for (size_t i = 0; i < len;) {
        size_t k = seg__utf8_len(s + i, len - i);
        if (k == 0 || s[i] < 0x20 || s[i] == 0x7f) {
            s[i] = '?';
            k = 1;
        }
        i += k;
    }
}

const char *seg__brief(const char *name, char buf[SEG__BRIEF])
{
    size_t len = strlen(name);
    if (len < SEG__BRIEF)
        return name;
    size_t keep = seg__utf8_prefix(name, len, SEG__BRIEF - 12);
    memcpy(buf, name, keep);
    memcpy(buf + keep, "...", 4);
    return buf;
}

void seg__errf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(buf, cap, fmt, ap);
    va_end(ap);
}

const char *seg__check_name(const char *name, size_t max)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t len = strlen(name);
    if (len == 0)
        return "name is empty";
    if (len > max)
        return "name is too long";
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return "name contains a control character";
        size_t n = seg__utf8_len(s + i, len - i);
        if (n == 0)
            return "name is not valid UTF-8";
        i += n;
    }
    return NULL;
}

int seg__is_identifier(const char *s)
{
    if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

size_t seg__strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

/* Length of one UTF-8 sequence at s (1..4), or 0 if malformed. */
size_t seg__utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}
