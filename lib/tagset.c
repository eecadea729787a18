/* SPDX-License-Identifier: MIT */
/* Tag sets: compressed per-tag bitmaps over chunks of 65536 rows. */
#include <stdlib.h>
#include <string.h>

#include "tagset-private.h"

#define W SEG__CHUNK_WORDS

/* ---- chunks ------------------------------------------------------------------- */

SEG__POPCNT size_t seg__popcount(const uint64_t *w, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)__builtin_popcountll(w[i]);
    return c;
}

SEG__POPCNT size_t seg__popcount_and(const uint64_t *a, const uint64_t *b, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)__builtin_popcountll(a[i] & b[i]);
    return c;
}

static void fill_full(uint64_t *w, size_t rows)
{
    size_t full = rows / 64;
    for (size_t i = 0; i < full; i++)
        w[i] = ~(uint64_t)0;
    for (size_t i = full; i < W; i++)
        w[i] = 0;
    if (rows % 64)
        w[full] = ((uint64_t)1 << (rows % 64)) - 1;
}

/* Words a bitmap of `rows` rows takes: the last chunk of a set may be short. */
static size_t chunk_words_for(size_t rows)
{
    return (rows + 63) / 64;
}

const uint64_t *seg__chunk_words(const seg_tagset *s, const seg__chunk *ch, size_t c,
                                 uint64_t *scratch)
{
    switch (ch->type) {
    case SEG__C_BITMAP: {
        size_t nw = chunk_words_for(seg__chunk_rows(s, c));
        if (nw == W)
            return ch->data;
        memcpy(scratch, ch->data, nw * sizeof *scratch); /* the last, partial chunk */
        memset(scratch + nw, 0, (W - nw) * sizeof *scratch);
        return scratch;
    }
    case SEG__C_FULL:
        fill_full(scratch, seg__chunk_rows(s, c));
        return scratch;
    default:
        memset(scratch, 0, W * sizeof *scratch);
        if (ch->type == SEG__C_ARRAY) {
            const uint16_t *a = ch->data;
            for (uint32_t i = 0; i < ch->card; i++)
                scratch[a[i] >> 6] |= (uint64_t)1 << (a[i] & 63);
        }
        return scratch;
    }
}

static size_t chunk_bytes(const seg_tagset *s, const seg__chunk *ch, size_t c)
{
    return ch->type == SEG__C_ARRAY ? ch->card * sizeof(uint16_t)
         : ch->type == SEG__C_BITMAP ? chunk_words_for(seg__chunk_rows(s, c)) * sizeof(uint64_t)
         : 0;
}

/* Builds the smallest chunk holding the bits w; -1 when out of memory.
 * A sorted list is used while it is smaller than the bitmap (at most
 * SEG__ARRAY_MAX rows for a whole chunk). */
static int chunk_make(const seg_tagset *s, const uint64_t *w, size_t rows, seg__chunk *out)
{
    size_t card = seg__popcount(w, W);
    size_t nw = chunk_words_for(rows);
    memset(out, 0, sizeof *out);
    out->card = (uint32_t)card;
    if (card == 0) {
        out->type = SEG__C_EMPTY;
    } else if (card == rows) {
        out->type = SEG__C_FULL;
    } else if (card * sizeof(uint16_t) <= nw * sizeof(uint64_t)) {
        uint16_t *a = seg__malloc_array(&s->alloc, card, sizeof *a);
        if (!a)
            return -1;
        size_t k = 0;
        for (size_t i = 0; i < W; i++)
            for (uint64_t x = w[i]; x; x &= x - 1)
                a[k++] = (uint16_t)(i * 64 + (size_t)__builtin_ctzll(x));
        out->type = SEG__C_ARRAY;
        out->data = a;
    } else {
        uint64_t *b = seg__malloc_array(&s->alloc, nw, sizeof *b);
        if (!b)
            return -1;
        memcpy(b, w, nw * sizeof *b);
        out->type = SEG__C_BITMAP;
        out->data = b;
    }
    return 0;
}

int seg__batch_put(seg_tagset *s, seg__batch *b, size_t ti, size_t c, const uint64_t *w,
                   uint64_t *scratch)
{
    size_t slot = ti * s->n_chunks + c;
    const uint64_t *old = seg__chunk_words(s, &s->chunks[slot], c, scratch);
    if (memcmp(old, w, W * sizeof *w) == 0)
        return 0;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        seg__change *v = seg__realloc_array(&s->alloc, b->v, cap, sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    if (chunk_make(s, w, seg__chunk_rows(s, c), &b->v[b->n].ch) < 0)
        return -1;
    b->v[b->n++].slot = slot;
    return 0;
}

void seg__batch_commit(seg_tagset *s, seg__batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        seg__chunk *ch = &s->chunks[b->v[i].slot];
        seg__free(&s->alloc, ch->data);
        *ch = b->v[i].ch;
    }
    seg__free(&s->alloc, b->v);
    memset(b, 0, sizeof *b);
}

void seg__batch_abort(seg_tagset *s, seg__batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        seg__free(&s->alloc, b->v[i].ch.data);
    seg__free(&s->alloc, b->v);
    memset(b, 0, sizeof *b);
}

/* ---- life cycle --------------------------------------------------------------- */

typedef struct gkey {
    const char *key;
    size_t index;
} gkey;

static int cmp_gkey(const void *a, const void *b)
{
    const gkey *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

SEG_API int32_t seg_tagset_new(seg_tagset **out, const seg_tagreg *reg, size_t n_rows,
                               const seg_allocator *alloc)
{
    if (!out || !reg)
        return SEG_EINVAL;
    if (!reg->frozen)
        return SEG_ESTATE;
    if (n_rows > ((size_t)1 << 40))
        return SEG_ERANGE;
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    seg_tagset *s = seg__malloc(&a, sizeof *s);
    if (!s)
        return SEG_ENOMEM;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    s->n_rows = n_rows;
    s->n_chunks = (n_rows + SEG__CHUNK_ROWS - 1) / SEG__CHUNK_ROWS;
    s->n_tags = reg->n;
    size_t slots = s->n_tags * s->n_chunks;
    s->chunks = seg__calloc_array(&a, slots ? slots : 1, sizeof *s->chunks);
    s->group = seg__malloc_array(&a, s->n_tags ? s->n_tags : 1, sizeof *s->group);
    gkey *g = seg__malloc_array(&a, s->n_tags ? s->n_tags : 1, sizeof *g);
    if (!s->chunks || !s->group || !g) {
        seg__free(&a, g);
        seg__free(&a, s->chunks);
        seg__free(&a, s->group);
        seg__free(&a, s);
        return SEG_ENOMEM;
    }
    /* Number the exclusive groups: sort the grouped tags by group key. */
    size_t ng = 0;
    for (size_t i = 0; i < s->n_tags; i++) {
        s->group[i] = -1;
        if (reg->tags[i].group_key) {
            g[ng].key = reg->tags[i].group_key;
            g[ng++].index = i;
        }
    }
    qsort(g, ng, sizeof *g, cmp_gkey);
    int32_t num = -1;
    for (size_t i = 0; i < ng; i++) {
        if (i == 0 || strcmp(g[i].key, g[i - 1].key) != 0)
            num++;
        s->group[g[i].index] = num;
    }
    seg__free(&a, g);
    s->reg = (seg_tagreg *)reg;
    seg__tagreg_ref(s->reg);
    *out = s;
    return SEG_OK;
}

SEG_API void seg_tagset_free(seg_tagset *set)
{
    if (!set)
        return;
    seg__alloc a = set->alloc;
    for (size_t i = 0; i < set->n_tags * set->n_chunks; i++)
        seg__free(&a, set->chunks[i].data);
    seg__free(&a, set->chunks);
    seg__free(&a, set->group);
    seg_tagreg_free(set->reg);
    seg__free(&a, set);
}

SEG_API size_t seg_tagset_n_rows(const seg_tagset *set)
{
    return set ? set->n_rows : 0;
}

SEG_API const seg_tagreg *seg_tagset_registry(const seg_tagset *set)
{
    return set ? set->reg : NULL;
}

SEG_API int32_t seg_tagset_freeze(seg_tagset *set)
{
    if (!set)
        return SEG_EINVAL;
    set->frozen = 1;
    return SEG_OK;
}

ptrdiff_t seg__tagset_tag(const seg_tagset *s, int32_t id, char *err, size_t cap)
{
    ptrdiff_t i = seg__tagreg_index(s->reg, id);
    if (i < 0)
        seg__errf(err, cap, "no tag with id %d in the registry", (int)id);
    return i;
}

int32_t seg__tagset_writable(const seg_tagset *s, char *err, size_t cap)
{
    if (s->frozen) {
        seg__errf(err, cap, "the tag set is frozen");
        return SEG_ESTATE;
    }
    return SEG_OK;
}

/* ---- changes --------------------------------------------------------------------- */

/* Sets (value 1) or clears (0) tag ti on the rows of mask, for chunks
 * [c0, c1) (mask holds their words, chunk c at (c - c0) * W). Setting
 * clears the tag's exclusive group on the same rows. */
static int32_t apply_mask(seg_tagset *s, size_t ti, int32_t value, const uint64_t *mask,
                          size_t c0, size_t c1, char *err, size_t cap)
{
    uint64_t *buf = seg__malloc_array(&s->alloc, 3 * W, sizeof *buf);
    if (!buf) {
        seg__errf(err, cap, "out of memory");
        return SEG_ENOMEM;
    }
    uint64_t *a = buf, *nw = buf + W, *cmp = buf + 2 * W;
    seg__batch b = {NULL, 0, 0};
    int32_t g = value ? s->group[ti] : -1;
    for (size_t c = c0; c < c1; c++) {
        const uint64_t *m = mask + (c - c0) * W;
        uint64_t any = 0;
        for (size_t i = 0; i < W; i++)
            any |= m[i];
        if (!any)
            continue;
        for (size_t u = 0; u < s->n_tags; u++) {
            if (u != ti && (g < 0 || s->group[u] != g))
                continue;
            const uint64_t *old = seg__chunk_words(s, &s->chunks[u * s->n_chunks + c], c, a);
            if (u == ti && value)
                for (size_t i = 0; i < W; i++)
                    nw[i] = old[i] | m[i];
            else
                for (size_t i = 0; i < W; i++)
                    nw[i] = old[i] & ~m[i];
            if (seg__batch_put(s, &b, u, c, nw, cmp) < 0) {
                seg__batch_abort(s, &b);
                seg__free(&s->alloc, buf);
                seg__errf(err, cap, "out of memory");
                return SEG_ENOMEM;
            }
        }
    }
    seg__batch_commit(s, &b);
    seg__free(&s->alloc, buf);
    return SEG_OK;
}

static int32_t check_change(seg_tagset *set, int32_t tag_id, int32_t value, ptrdiff_t *ti,
                            char *err, size_t cap)
{
    if (!set) {
        seg__errf(err, cap, "set is NULL");
        return SEG_EINVAL;
    }
    if (value != 0 && value != 1) {
        seg__errf(err, cap, "value %d is not 0 or 1", (int)value);
        return SEG_EINVAL;
    }
    *ti = seg__tagset_tag(set, tag_id, err, cap);
    if (*ti < 0)
        return SEG_ENOTFOUND;
    return seg__tagset_writable(set, err, cap);
}

SEG_API int32_t seg_tagset_set(seg_tagset *set, int32_t tag_id, int64_t row, int32_t value,
                               char *err_buf, size_t err_cap)
{
    ptrdiff_t ti;
    int32_t rc = check_change(set, tag_id, value, &ti, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    if (row < 0 || (uint64_t)row >= set->n_rows) {
        seg__errf(err_buf, err_cap, "row %lld is outside 0..%zu", (long long)row,
                  set->n_rows ? set->n_rows - 1 : 0);
        return SEG_ERANGE;
    }
    uint64_t m[W];
    memset(m, 0, sizeof m);
    size_t c = (size_t)row / SEG__CHUNK_ROWS, off = (size_t)row % SEG__CHUNK_ROWS;
    m[off / 64] = (uint64_t)1 << (off % 64);
    return apply_mask(set, (size_t)ti, value, m, c, c + 1, err_buf, err_cap);
}

SEG_API int32_t seg_tagset_test(const seg_tagset *set, int32_t tag_id, int64_t row, int32_t *out)
{
    if (!set || !out)
        return SEG_EINVAL;
    ptrdiff_t ti = seg__tagset_tag(set, tag_id, NULL, 0);
    if (ti < 0)
        return SEG_ENOTFOUND;
    if (row < 0 || (uint64_t)row >= set->n_rows)
        return SEG_ERANGE;
    size_t c = (size_t)row / SEG__CHUNK_ROWS, off = (size_t)row % SEG__CHUNK_ROWS;
    const seg__chunk *ch = &set->chunks[(size_t)ti * set->n_chunks + c];
    int32_t v = 0;
    switch (ch->type) {
    case SEG__C_FULL: v = 1; break;
    case SEG__C_BITMAP: v = (int32_t)((((const uint64_t *)ch->data)[off / 64] >> (off % 64)) & 1); break;
    case SEG__C_ARRAY: {
        const uint16_t *a = ch->data;
        size_t lo = 0, hi = ch->card;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (a[mid] < off)
                lo = mid + 1;
            else
                hi = mid;
        }
        v = lo < ch->card && a[lo] == off;
        break;
    }
    default: break;
    }
    *out = v;
    return SEG_OK;
}

SEG_API int32_t seg_tagset_set_rows(seg_tagset *set, int32_t tag_id, const int64_t *rows,
                                    size_t n, int32_t value, char *err_buf, size_t err_cap)
{
    ptrdiff_t ti;
    int32_t rc = check_change(set, tag_id, value, &ti, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    if (!rows && n > 0) {
        seg__errf(err_buf, err_cap, "rows is NULL but n is %zu", n);
        return SEG_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i] < 0 || (uint64_t)rows[i] >= set->n_rows) {
            seg__errf(err_buf, err_cap, "rows[%zu] = %lld is outside 0..%zu", i,
                      (long long)rows[i], set->n_rows ? set->n_rows - 1 : 0);
            return SEG_EDATA;
        }
    if (n == 0)
        return SEG_OK;
    uint64_t *mask = seg__calloc_array(&set->alloc, set->n_chunks * W, sizeof *mask);
    if (!mask) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        mask[(size_t)rows[i] / 64] |= (uint64_t)1 << ((size_t)rows[i] % 64);
    rc = apply_mask(set, (size_t)ti, value, mask, 0, set->n_chunks, err_buf, err_cap);
    seg__free(&set->alloc, mask);
    return rc;
}

/* Packs 64 bytes into 64 bits (bit i = byte i is non-zero), 8 bytes at a
 * time: fold each byte's bits into its lowest, then gather the 8 lowest
 * bits with one multiplication. */
SEG__HOT static uint64_t pack64(const uint8_t *m)
{
    uint64_t out = 0;
    for (size_t k = 0; k < 8; k++) {
        uint64_t x = 0;
        for (size_t b = 0; b < 8; b++) /* byte-order independent load */
            x |= (uint64_t)m[k * 8 + b] << (8 * b);
        x |= x >> 4;
        x |= x >> 2;
        x |= x >> 1;
        x &= 0x0101010101010101u;
        out |= ((x * 0x0102040810204080u) >> 56) << (8 * k);
    }
    return out;
}

SEG_API int32_t seg_tagset_set_mask(seg_tagset *set, int32_t tag_id, const uint8_t *mask,
                                    size_t n, int32_t value, char *err_buf, size_t err_cap)
{
    ptrdiff_t ti;
    int32_t rc = check_change(set, tag_id, value, &ti, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    if (!mask || n != set->n_rows) {
        seg__errf(err_buf, err_cap, !mask ? "mask is NULL" : "mask has %zu bytes, the set %zu rows",
                  n, set->n_rows);
        return SEG_EINVAL;
    }
    if (n == 0)
        return SEG_OK;
    uint64_t *bits = seg__calloc_array(&set->alloc, set->n_chunks * W, sizeof *bits);
    if (!bits) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    size_t full = n / 64;
    for (size_t w = 0; w < full; w++)
        bits[w] = pack64(mask + w * 64);
    for (size_t i = full * 64; i < n; i++)
        bits[full] |= (uint64_t)(mask[i] != 0) << (i % 64);
    rc = apply_mask(set, (size_t)ti, value, bits, 0, set->n_chunks, err_buf, err_cap);
    seg__free(&set->alloc, bits);
    return rc;
}

SEG_API int32_t seg_tagset_reset(seg_tagset *set, int32_t tag_id)
{
    ptrdiff_t ti;
    int32_t rc = check_change(set, tag_id, 0, &ti, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    for (size_t c = 0; c < set->n_chunks; c++) {
        seg__chunk *ch = &set->chunks[(size_t)ti * set->n_chunks + c];
        seg__free(&set->alloc, ch->data);
        memset(ch, 0, sizeof *ch);
    }
    return SEG_OK;
}

SEG_API int32_t seg_tagset_get_mask(const seg_tagset *set, int32_t tag_id, uint8_t *out,
                                    size_t n)
{
    if (!set || !out || n != set->n_rows)
        return SEG_EINVAL;
    ptrdiff_t ti = seg__tagset_tag(set, tag_id, NULL, 0);
    if (ti < 0)
        return SEG_ENOTFOUND;
    uint64_t scratch[W];
    for (size_t c = 0; c < set->n_chunks; c++) {
        const uint64_t *w = seg__chunk_words(set, &set->chunks[(size_t)ti * set->n_chunks + c], c,
                                             scratch);
        size_t rows = seg__chunk_rows(set, c);
        uint8_t *o = out + c * SEG__CHUNK_ROWS;
        for (size_t i = 0; i < rows; i++)
            o[i] = (uint8_t)((w[i / 64] >> (i % 64)) & 1);
    }
    return SEG_OK;
}

/* ---- counts ------------------------------------------------------------------------ */

SEG_API int32_t seg_tagset_count(const seg_tagset *set, int32_t tag_id, int64_t *out)
{
    if (!set || !out)
        return SEG_EINVAL;
    ptrdiff_t ti = seg__tagset_tag(set, tag_id, NULL, 0);
    if (ti < 0)
        return SEG_ENOTFOUND;
    int64_t n = 0;
    for (size_t c = 0; c < set->n_chunks; c++)
        n += set->chunks[(size_t)ti * set->n_chunks + c].card;
    *out = n;
    return SEG_OK;
}

SEG_API int32_t seg_tagset_cooccurrence(const seg_tagset *set, const int32_t *tag_ids, size_t k,
                                        int64_t *out, char *err_buf, size_t err_cap)
{
    if (!set || !tag_ids || !out) {
        seg__errf(err_buf, err_cap, "%s is NULL", !set ? "set" : !tag_ids ? "tag_ids" : "out");
        return SEG_EINVAL;
    }
    if (k < 1 || k > 1024) {
        seg__errf(err_buf, err_cap, "k = %zu is outside 1..1024", k);
        return SEG_ERANGE;
    }
    size_t *ti = seg__malloc_array(&set->alloc, k, sizeof *ti);
    if (!ti) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        ptrdiff_t x = seg__tagreg_index(set->reg, tag_ids[i]);
        if (x < 0) {
            seg__errf(err_buf, err_cap, "tag_ids[%zu] = %d is not a registered tag", i,
                      (int)tag_ids[i]);
            seg__free(&set->alloc, ti);
            return SEG_ENOTFOUND;
        }
        ti[i] = (size_t)x;
    }
    uint64_t *words = seg__malloc_array(&set->alloc, k * W, sizeof *words);
    const uint64_t **wp = seg__malloc_array(&set->alloc, k, sizeof *wp);
    int64_t *acc = seg__calloc_array(&set->alloc, k * k, sizeof *acc);
    if (!words || !wp || !acc) {
        seg__free(&set->alloc, words);
        seg__free(&set->alloc, wp);
        seg__free(&set->alloc, acc);
        seg__free(&set->alloc, ti);
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    for (size_t c = 0; c < set->n_chunks; c++) {
        for (size_t i = 0; i < k; i++)
            wp[i] = seg__chunk_words(set, &set->chunks[ti[i] * set->n_chunks + c], c,
                                     words + i * W);
        for (size_t i = 0; i < k; i++) {
            const seg__chunk *ci = &set->chunks[ti[i] * set->n_chunks + c];
            acc[i * k + i] += ci->card;
            if (ci->type == SEG__C_EMPTY)
                continue;
            for (size_t j = i + 1; j < k; j++) {
                const seg__chunk *cj = &set->chunks[ti[j] * set->n_chunks + c];
                size_t both = 0;
                if (cj->type == SEG__C_EMPTY)
                    continue;
                if (ci->type == SEG__C_FULL) {
                    both = cj->card;
                } else if (cj->type == SEG__C_FULL) {
                    both = ci->card;
                } else {
                    both = seg__popcount_and(wp[i], wp[j], W);
                }
                acc[i * k + j] += (int64_t)both;
            }
        }
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            acc[j * k + i] = acc[i * k + j];
    memcpy(out, acc, k * k * sizeof *out);
    seg__free(&set->alloc, words);
    seg__free(&set->alloc, wp);
    seg__free(&set->alloc, acc);
    seg__free(&set->alloc, ti);
    return SEG_OK;
}

SEG_API int32_t seg_tagset_memory(const seg_tagset *set, int32_t tag_id, size_t *out)
{
    if (!set || !out)
        return SEG_EINVAL;
    size_t t0 = 0, t1 = set->n_tags;
    if (tag_id != 0) {
        ptrdiff_t ti = seg__tagset_tag(set, tag_id, NULL, 0);
        if (ti < 0)
            return SEG_ENOTFOUND;
        t0 = (size_t)ti;
        t1 = t0 + 1;
    }
    size_t bytes = (t1 - t0) * set->n_chunks * sizeof(seg__chunk);
    for (size_t t = t0; t < t1; t++)
        for (size_t c = 0; c < set->n_chunks; c++)
            bytes += chunk_bytes(set, &set->chunks[t * set->n_chunks + c], c);
    *out = bytes;
    return SEG_OK;
}

/* ---- model tags --------------------------------------------------------------------- */

SEG_API int32_t seg_tagset_set_labels(seg_tagset *set, const int32_t *labels, size_t n,
                                      const int32_t *tag_of_label, int32_t n_labels,
                                      char *err_buf, size_t err_cap)
{
    if (!set || !labels || !tag_of_label) {
        seg__errf(err_buf, err_cap, "%s is NULL", !set ? "set" : !labels ? "labels" : "tag_of_label");
        return SEG_EINVAL;
    }
    if (n != set->n_rows) {
        seg__errf(err_buf, err_cap, "labels has %zu values, the set %zu rows", n, set->n_rows);
        return SEG_EINVAL;
    }
    if (n_labels < 1 || n_labels > 65536) {
        seg__errf(err_buf, err_cap, "n_labels = %d is outside 1..65536", (int)n_labels);
        return SEG_ERANGE;
    }
    int32_t rc = seg__tagset_writable(set, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < -1 || labels[i] >= n_labels) {
            seg__errf(err_buf, err_cap, "labels[%zu] = %d is outside -1..%d", i, (int)labels[i],
                      (int)n_labels - 1);
            return SEG_EDATA;
        }
    /* pos[label] = slot of its tag among the distinct mapped tags, or -1. */
    int32_t *pos = seg__malloc_array(&set->alloc, (size_t)n_labels, sizeof *pos);
    size_t *mt = seg__malloc_array(&set->alloc, (size_t)n_labels, sizeof *mt);
    int32_t *slot_of = seg__malloc_array(&set->alloc, set->n_tags ? set->n_tags : 1, sizeof *slot_of);
    uint64_t *buf = NULL;
    seg__batch b = {NULL, 0, 0};
    if (!pos || !mt || !slot_of)
        goto nomem;
    for (size_t t = 0; t < set->n_tags; t++)
        slot_of[t] = -1;
    size_t k = 0;
    for (int32_t l = 0; l < n_labels; l++) {
        pos[l] = -1;
        if (tag_of_label[l] == 0)
            continue;
        ptrdiff_t ti = seg__tagreg_index(set->reg, tag_of_label[l]);
        if (ti < 0) {
            seg__errf(err_buf, err_cap, "tag_of_label[%d] = %d is not a registered tag", (int)l,
                      (int)tag_of_label[l]);
            rc = SEG_ENOTFOUND;
            goto done;
        }
        if (slot_of[ti] < 0) {
            slot_of[ti] = (int32_t)k;
            mt[k++] = (size_t)ti;
        }
        pos[l] = slot_of[ti];
    }
    buf = seg__malloc_array(&set->alloc, (k + 2) * W, sizeof *buf);
    if (!buf)
        goto nomem;
    uint64_t *nw = buf + k * W, *cmp = buf + (k + 1) * W;
    for (size_t c = 0; c < set->n_chunks; c++) {
        memset(buf, 0, k * W * sizeof *buf);
        size_t r0 = c * SEG__CHUNK_ROWS, rows = seg__chunk_rows(set, c);
        for (size_t i = 0; i < rows; i++) {
            int32_t l = labels[r0 + i];
            if (l >= 0 && pos[l] >= 0)
                buf[(size_t)pos[l] * W + i / 64] |= (uint64_t)1 << (i % 64);
        }
        for (size_t p = 0; p < k; p++)
            if (seg__batch_put(set, &b, mt[p], c, buf + p * W, cmp) < 0)
                goto nomem;
        /* Other members of the mapped tags' groups lose the rows given a tag. */
        for (size_t u = 0; u < set->n_tags; u++) {
            if (set->group[u] < 0 || slot_of[u] >= 0)
                continue;
            int touched = 0;
            const uint64_t *old = NULL;
            for (size_t p = 0; p < k; p++) {
                if (set->group[mt[p]] != set->group[u])
                    continue;
                if (!touched) {
                    old = seg__chunk_words(set, &set->chunks[u * set->n_chunks + c], c, cmp);
                    memcpy(nw, old, W * sizeof *nw);
                    touched = 1;
                }
                for (size_t w = 0; w < W; w++)
                    nw[w] &= ~buf[p * W + w];
            }
            if (touched && seg__batch_put(set, &b, u, c, nw, cmp) < 0)
                goto nomem;
        }
    }
    seg__batch_commit(set, &b);
    rc = SEG_OK;
    goto done;
nomem:
    seg__batch_abort(set, &b);
    seg__errf(err_buf, err_cap, "out of memory");
    rc = SEG_ENOMEM;
done:
    seg__free(&set->alloc, buf);
    seg__free(&set->alloc, pos);
    seg__free(&set->alloc, mt);
    seg__free(&set->alloc, slot_of);
    return rc;
}
