/* SPDX-License-Identifier: MIT */
/* Tag names: normalisation, and suggestions for unknown names. */
#include <stdio.h>
#include <string.h>

#include "tagreg-private.h"

size_t seg__utf8_next(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : 2;
    uint32_t c = u[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (u[i] & 0x3f);
    *cp = c;
    return n;
}

const char *seg__tag_normalize(const char *name, size_t len, char *out, size_t *out_len)
{
    if (len > SEG_TAG_NAME_MAX)
        return "name is longer than 255 bytes";
    const unsigned char *s = (const unsigned char *)name;
    size_t o = 0, i = 0;
    int space = 0;
    while (i < len) {
        size_t n = seg__utf8_len(s + i, len - i);
        if (n == 0)
            return "name is not valid UTF-8";
        uint32_t cp;
        seg__utf8_next(name + i, &cp);
        i += n;
        if ((cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
            return "name contains a control character";
        if (cp >= 0xff01 && cp <= 0xff5e)
            cp -= 0xfee0; /* full-width ASCII */
        if (cp == '\t' || cp == 0x3000 || cp == 0xa0)
            cp = ' ';
        if (cp == ' ') {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        if (cp < 0x80) {
            out[o++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        } else {
            memcpy(out + o, name + i - n, n);
            o += n;
        }
    }
    if (o == 0)
        return "name is empty";
    out[o] = '\0';
    *out_len = o;
    return NULL;
}

SEG_API int32_t seg_tag_normalize(const char *name, char *buf, size_t cap, size_t *out_len)
{
    if (!name || !out_len)
        return SEG_EINVAL;
    size_t len = seg__strnlen(name, SEG_TAG_NAME_MAX + 1);
    char key[SEG_TAG_NAME_MAX + 1];
    size_t n;
    if (seg__tag_normalize(name, len, key, &n))
        return SEG_EINVAL;
    *out_len = n;
    if (!buf)
        return SEG_OK;
    if (cap <= n)
        return SEG_EBUFSZ;
    memcpy(buf, key, n + 1);
    return SEG_OK;
}

/* ---- suggestions -------------------------------------------------------- */

static size_t code_points(const char *s, uint32_t *out)
{
    size_t n = 0;
    while (*s)
        s += seg__utf8_next(s, &out[n++]);
    return n;
}

/* Levenshtein distance over code points, or 1 when one contains the other. */
static size_t distance(const uint32_t *a, size_t na, const char *key, const char *needle)
{
    if (strcmp(key, needle) == 0)
        return 0;
    if (strstr(key, needle) || strstr(needle, key))
        return 1;
    uint32_t b[SEG_TAG_NAME_MAX + 1];
    size_t nb = code_points(key, b);
    size_t row[SEG_TAG_NAME_MAX + 2];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

typedef struct cand {
    size_t dist;
    int32_t id;
} cand;

SEG_API int32_t seg_tagreg_suggest(const seg_tagreg *reg, const char *name, int32_t *out_ids,
                                   size_t cap, size_t *out_n)
{
    if (!reg || !name || !out_n || (!out_ids && cap > 0))
        return SEG_EINVAL;
    char key[SEG_TAG_NAME_MAX + 1];
    size_t klen;
    size_t len = seg__strnlen(name, SEG_TAG_NAME_MAX + 1);
    if (seg__tag_normalize(name, len, key, &klen)) {
        *out_n = 0;
        return SEG_OK;
    }
    uint32_t a[SEG_TAG_NAME_MAX + 1];
    size_t na = code_points(key, a);
    size_t limit = na < 4 ? 2 : (na + 1) / 2;
    cand *best = NULL;
    if (reg->n > 0) {
        best = seg__malloc_array(&reg->alloc, reg->n, sizeof *best);
        if (!best)
            return SEG_ENOMEM;
    }
    size_t nc = 0;
    for (size_t i = 0; i < reg->n; i++) {
        const seg__tag *t = &reg->tags[i];
        size_t d = distance(a, na, t->key, key);
        for (size_t j = 0; j < t->n_aliases; j++) {
            size_t e = distance(a, na, t->alias_keys[j], key);
            if (e < d)
                d = e;
        }
        if (d <= limit) {
            /* Insertion keeps (distance, id) order; tags come in id order. */
            size_t k = nc++;
            while (k > 0 && best[k - 1].dist > d) {
                best[k] = best[k - 1];
                k--;
            }
            best[k].dist = d;
            best[k].id = t->id;
        }
    }
    size_t w = nc < cap ? nc : cap;
    for (size_t i = 0; i < w; i++)
        out_ids[i] = best[i].id;
    *out_n = w;
    seg__free(&reg->alloc, best);
    return SEG_OK;
}

void seg__tagreg_hint(const seg_tagreg *reg, const char *name, char *buf, size_t cap)
{
    int32_t ids[3];
    size_t n = 0;
    if (cap)
        buf[0] = '\0';
    if (seg_tagreg_suggest(reg, name, ids, 3, &n) != SEG_OK || n == 0)
        return;
    size_t o = (size_t)snprintf(buf, cap, "; did you mean ");
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s'%s'", i ? ", " : "",
                              seg_tagreg_name(reg, ids[i]));
    if (o < cap)
        snprintf(buf + o, cap - o, "?");
}
