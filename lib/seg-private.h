/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers shared by the library's sources. Never installed.
 * Names starting with seg__ are reserved for the library.
 */
#ifndef SEG_PRIVATE_H
#define SEG_PRIVATE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "segment/common.h"

/* A copy of the caller's allocator (or libc's), held by every handle. */
typedef struct seg__alloc {
    seg_malloc_fn malloc_fn;
    seg_realloc_fn realloc_fn;
    seg_free_fn free_fn;
    void *user_data;
} seg__alloc;

/* Validates and copies `user` (NULL selects libc). Returns SEG_OK,
 * SEG_EINVAL (a NULL hook) or SEG_EVERSION (unknown struct size), and then
 * writes "allocator: <why>" to err (which may be NULL). */
int32_t seg__alloc_init(seg__alloc *a, const seg_allocator *user, char *err, size_t cap);

void *seg__malloc(const seg__alloc *a, size_t size);
/* Returns NULL on overflow of n * size or on allocation failure. */
void *seg__malloc_array(const seg__alloc *a, size_t n, size_t size);
void *seg__calloc_array(const seg__alloc *a, size_t n, size_t size);
void *seg__realloc_array(const seg__alloc *a, void *p, size_t n, size_t size);
void seg__free(const seg__alloc *a, void *p);
char *seg__strdup(const seg__alloc *a, const char *s);

/* Hot loops are compiled twice, for AVX2 and for the baseline, and the
 * right one is picked once at load time (GCC/Clang on x86-64 with glibc's
 * ifunc). Results are identical: only lane width changes, never the order
 * of floating-point operations. */
#if defined(__x86_64__) && defined(__gnu_linux__) && defined(__GNUC__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SEG_NO_CLONES)
#define SEG__HOT __attribute__((target_clones("avx2", "default")))
#else
#define SEG__HOT
#endif

/* Bit counting: the POPCNT instruction where the CPU has it (x86-64 builds
 * target a baseline without it, where GCC's __builtin_popcountll is a
 * call). GCC only: clang 14 does not emit the plain symbol of an extern
 * function with target_clones, and inlines a bit-twiddling count anyway. */
#if defined(__x86_64__) && defined(__gnu_linux__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(SEG_NO_CLONES)
#define SEG__POPCNT __attribute__((target_clones("popcnt", "default")))
#else
#define SEG__POPCNT
#endif

/* Length of the per-handle error message buffer. */
#define SEG__ERR_LEN 256

/* Length of the longest prefix of s[0..len) of at most max bytes that
 * does not end inside a UTF-8 sequence. */
size_t seg__utf8_prefix(const char *s, size_t len, size_t max);

/* A name as quoted in messages: itself when shorter than SEG__BRIEF bytes,
 * else its first ~60 bytes (whole UTF-8 characters) and "...", in `buf`.
 * Keeps a 255-byte name from pushing the problem out of a 256-byte
 * message. */
#define SEG__BRIEF 72
const char *seg__brief(const char *name, char buf[SEG__BRIEF]);

/* printf into a caller buffer (NULL or cap 0: nothing). Always terminates;
 * a truncated message does not end inside a UTF-8 character; control bytes
 * and malformed UTF-8 (from quoted caller text) are replaced by '?'. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void seg__errf(char *buf, size_t cap, const char *fmt, ...);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
void seg__verrf(char *buf, size_t cap, const char *fmt, va_list ap);

/* Validates a name: non-empty, at most max bytes, valid UTF-8, no control
 * characters. Returns NULL when fine, else a static reason. */
const char *seg__check_name(const char *name, size_t max);

/* Length of the valid UTF-8 sequence at s (1..4; no overlongs, surrogates
 * or code points above U+10FFFF), or 0 if malformed or cut by `avail`. */
size_t seg__utf8_len(const unsigned char *s, size_t avail);

/* strlen(s), or max + 1 if s has no NUL within its first max + 1 bytes. */
size_t seg__strnlen(const char *s, size_t max);

/* 1 if `s` is an ASCII identifier [A-Za-z_][A-Za-z0-9_]*. */
int seg__is_identifier(const char *s);

#endif /* SEG_PRIVATE_H */
