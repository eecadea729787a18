/* SPDX-License-Identifier: MIT */
/* The tag set's compressed storage, shared by tag sets, rule tags and queries. */
#ifndef SEG_TAGSET_PRIVATE_H
#define SEG_TAGSET_PRIVATE_H

#include "tagreg-private.h"
#include "segment/tagset.h"

#define SEG__CHUNK_ROWS 65536
#define SEG__CHUNK_WORDS 1024 /* 64-bit words per chunk bitmap */
#define SEG__ARRAY_MAX 4096   /* a sorted list beyond this costs more than a bitmap */

enum { SEG__C_EMPTY, SEG__C_FULL, SEG__C_ARRAY, SEG__C_BITMAP };

/* One tag over one chunk of 65536 rows. */
typedef struct seg__chunk {
    void *data;    /* uint16_t offsets (ARRAY) or uint64_t words (BITMAP) */
    uint32_t card; /* rows holding the tag */
    uint8_t type;
} seg__chunk;

struct seg_tagset {
    seg__alloc alloc;
    seg_tagreg *reg; /* a reference */
    size_t n_rows, n_chunks, n_tags;
    seg__chunk *chunks; /* tag-major: chunks[tag_index * n_chunks + chunk] */
    int32_t *group;     /* per tag index: group number, or -1 */
    int32_t frozen;
};

/* Rows in chunk c. */
static inline size_t seg__chunk_rows(const struct seg_tagset *s, size_t c)
{
    size_t r = s->n_rows - c * SEG__CHUNK_ROWS;
    return r < SEG__CHUNK_ROWS ? r : SEG__CHUNK_ROWS;
}

/* The chunk's bits as 1024 words: the stored bitmap itself, or `scratch`
 * filled (bits past the chunk's rows are 0). */
const uint64_t *seg__chunk_words(const struct seg_tagset *s, const seg__chunk *ch, size_t c,
                                 uint64_t *scratch);

/* Set bits in w[0..n), and in a[i] & b[i] over i < n. */
size_t seg__popcount(const uint64_t *w, size_t n);
size_t seg__popcount_and(const uint64_t *a, const uint64_t *b, size_t n);

/* Index of a tag id in the set (its registry index), or -1 with a message. */
ptrdiff_t seg__tagset_tag(const struct seg_tagset *s, int32_t id, char *err, size_t cap);

/* Changes to a set are staged, then committed at once, so that a call
 * failing for lack of memory leaves the set as it was. */
typedef struct seg__change {
    size_t slot; /* index into chunks[] */
    seg__chunk ch;
} seg__change;

typedef struct seg__batch {
    seg__change *v;
    size_t n, cap;
} seg__batch;

/* Stages "tag ti's chunk c becomes the bits w" (nothing when unchanged).
 * Returns -1 when out of memory. */
int seg__batch_put(struct seg_tagset *s, seg__batch *b, size_t ti, size_t c, const uint64_t *w,
                   uint64_t *scratch);
void seg__batch_commit(struct seg_tagset *s, seg__batch *b);
void seg__batch_abort(struct seg_tagset *s, seg__batch *b);

/* Checks the common arguments of a change: not frozen. */
int32_t seg__tagset_writable(const struct seg_tagset *s, char *err, size_t cap);

#endif /* SEG_TAGSET_PRIVATE_H */
