/* SPDX-License-Identifier: MIT */
/* The tag registry: tags, aliases, attributes, lookups and freezing. */
#include <stdio.h>
#include <string.h>

#include "rule-private.h"
#include "tagreg-private.h"

static const size_t text_max[SEG__TAG_FIELDS] = {
    0, SEG_TAG_TEXT_MAX, SEG_TAG_DESC_MAX, SEG_TAG_TEXT_MAX, SEG_TAG_NAME_MAX, SEG_TAG_TEXT_MAX,
};

static void set_err(seg_tagreg *reg, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_err(seg_tagreg *reg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seg__verrf(reg->err, sizeof reg->err, fmt, ap);
    va_end(ap);
}

/* ---- the name table ------------------------------------------------------ */

static size_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

int32_t seg__tagreg_lookup_key(const seg_tagreg *reg, const char *key)
{
    if (reg->cap_names == 0)
        return 0;
    size_t mask = reg->cap_names - 1;
    for (size_t i = hash_key(key) & mask;; i = (i + 1) & mask) {
        if (!reg->names[i].key)
            return 0;
        if (strcmp(reg->names[i].key, key) == 0)
            return reg->names[i].id;
    }
}

static void names_put(seg__tagname *tab, size_t cap, const char *key, int32_t id)
{
    size_t mask = cap - 1;
    size_t i = hash_key(key) & mask;
    while (tab[i].key)
        i = (i + 1) & mask;
    tab[i].key = key;
    tab[i].id = id;
}

/* Rebuilds the table with room for `extra` more names. */
static int names_rebuild(seg_tagreg *reg, size_t extra)
{
    size_t total = extra;
    for (size_t i = 0; i < reg->n; i++)
        total += 1 + reg->tags[i].n_aliases;
    size_t cap = 16;
    while (cap < total * 2)
        cap *= 2;
    seg__tagname *tab = seg__calloc_array(&reg->alloc, cap, sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < reg->n; i++) {
        const seg__tag *t = &reg->tags[i];
        names_put(tab, cap, t->key, t->id);
        for (size_t j = 0; j < t->n_aliases; j++)
            names_put(tab, cap, t->alias_keys[j], t->id);
    }
    seg__free(&reg->alloc, reg->names);
    reg->names = tab;
    reg->cap_names = cap;
    reg->n_names = total - extra;
    return 0;
}

/* Makes room for one more name, so the insertion that follows cannot fail. */
static int names_reserve(seg_tagreg *reg)
{
    if ((reg->n_names + 1) * 2 <= reg->cap_names)
        return 0;
    return names_rebuild(reg, 1);
}

static void names_add(seg_tagreg *reg, const char *key, int32_t id)
{
    names_put(reg->names, reg->cap_names, key, id);
    reg->n_names++;
}

/* ---- life cycle ---------------------------------------------------------- */

SEG_API int32_t seg_tagreg_new(seg_tagreg **out, const seg_allocator *alloc)
{
    if (!out)
        return SEG_EINVAL;
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, NULL, 0);
    if (rc != SEG_OK)
        return rc;
    return seg__tagreg_create(out, &a);
}

int32_t seg__tagreg_create(seg_tagreg **out, const seg__alloc *a)
{
    seg_tagreg *reg = seg__malloc(a, sizeof *reg);
    if (!reg)
        return SEG_ENOMEM;
    memset(reg, 0, sizeof *reg);
    reg->alloc = *a;
    atomic_init(&reg->refs, 1);
    reg->next_id = 1;
    *out = reg;
    return SEG_OK;
}

static void tag_fini(const seg__alloc *a, seg__tag *t)
{
    seg__free(a, t->name);
    seg__free(a, t->key);
    for (size_t j = 0; j < t->n_aliases; j++) {
        seg__free(a, t->aliases[j]);
        seg__free(a, t->alias_keys[j]);
    }
    seg__free(a, t->aliases);
    seg__free(a, t->alias_keys);
    for (int f = 0; f < SEG__TAG_FIELDS; f++)
        seg__free(a, t->text[f]);
    seg__free(a, t->group_key);
    seg__free(a, t->deps);
}

void seg__tagreg_destroy(seg_tagreg *reg)
{
    seg__alloc a = reg->alloc;
    for (size_t i = 0; i < reg->n; i++)
        tag_fini(&a, &reg->tags[i]);
    seg__free(&a, reg->tags);
    seg__free(&a, reg->names);
    seg__free(&a, reg->source);
    seg__free(&a, reg);
}

void seg__tagreg_ref(seg_tagreg *reg)
{
    atomic_fetch_add_explicit(&reg->refs, 1, memory_order_relaxed);
}

SEG_API void seg_tagreg_free(seg_tagreg *reg)
{
    if (reg && atomic_fetch_sub_explicit(&reg->refs, 1, memory_order_acq_rel) == 1)
        seg__tagreg_destroy(reg);
}

SEG_API const char *seg_tagreg_last_error(const seg_tagreg *reg)
{
    return reg ? reg->err : "";
}

/* ---- lookups --------------------------------------------------------------- */

ptrdiff_t seg__tagreg_index(const seg_tagreg *reg, int32_t id)
{
    size_t lo = 0, hi = reg->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (reg->tags[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < reg->n && reg->tags[lo].id == id ? (ptrdiff_t)lo : -1;
}

static seg__tag *find_tag(const seg_tagreg *reg, int32_t id)
{
    ptrdiff_t i = seg__tagreg_index(reg, id);
    return i < 0 ? NULL : &reg->tags[i];
}

int32_t seg__tagreg_resolve(const seg_tagreg *reg, const char *name, size_t len)
{
    char key[SEG_TAG_NAME_MAX + 1];
    size_t klen;
    if (seg__tag_normalize(name, len, key, &klen))
        return 0;
    return seg__tagreg_lookup_key(reg, key);
}

/* Describes who holds `key`: "the name of tag 3 'vip'" or "an alias of ...". */
static void holder(const seg_tagreg *reg, int32_t id, const char *key, char *buf, size_t cap)
{
    const seg__tag *t = find_tag(reg, id);
    snprintf(buf, cap, "%s of tag %d '%s'", strcmp(t->key, key) == 0 ? "the name" : "an alias",
             (int)id, t->name);
}

/* Validates a name and writes its key; sets reg->err on failure. */
static int32_t make_key(seg_tagreg *reg, const char *what, const char *name, size_t len,
                        char *key, const seg__tag *for_tag)
{
    size_t klen;
    const char *why = seg__tag_normalize(name, len, key, &klen);
    if (why) {
        size_t n = seg__utf8_prefix(name, len, 60);
        set_err(reg, "%s '%.*s%s': %s", what, (int)n, name, n < len ? "..." : "", why);
        return SEG_EINVAL;
    }
    int32_t holder_id = seg__tagreg_lookup_key(reg, key);
    if (holder_id) {
        char h[SEG_TAG_NAME_MAX + 64];
        holder(reg, holder_id, key, h, sizeof h);
        if (for_tag)
            set_err(reg, "%s '%.*s' of tag %d '%s' is taken: it is %s", what, (int)len, name,
                    (int)for_tag->id, for_tag->name, h);
        else
            set_err(reg, "%s '%.*s' is taken: it is %s", what, (int)len, name, h);
        return SEG_EEXISTS;
    }
    return SEG_OK;
}

/* Copies name[0..len) without leading and trailing blanks, tabs as spaces
 * (the text form has no tabs in quoted strings). */
static char *trimmed_copy(const seg__alloc *a, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char *c = seg__malloc(a, len + 1);
    if (c) {
        for (size_t i = 0; i < len; i++)
            c[i] = s[i] == '\t' ? ' ' : s[i];
        c[len] = '\0';
    }
    return c;
}

static int32_t check_builder(seg_tagreg *reg)
{
    if (reg->frozen) {
        set_err(reg, "the registry is frozen");
        return SEG_ESTATE;
    }
    reg->err[0] = '\0';
    return SEG_OK;
}

/* ---- building ---------------------------------------------------------------- */

int32_t seg__tagreg_add(seg_tagreg *reg, int64_t id, const char *name, size_t len,
                        int32_t *out_id)
{
    if (id == 0)
        id = reg->next_id;
    if (id < 1 || id > SEG_TAG_ID_MAX) {
        set_err(reg, id < 1 ? "tag id %lld is not positive" : "tag id %lld is above 2147483647",
                (long long)id);
        return SEG_ERANGE;
    }
    if (find_tag(reg, (int32_t)id)) {
        set_err(reg, "tag id %d is taken by '%s'", (int)id, find_tag(reg, (int32_t)id)->name);
        return SEG_EEXISTS;
    }
    char key[SEG_TAG_NAME_MAX + 1];
    int32_t rc = make_key(reg, "name", name, len, key, NULL);
    if (rc != SEG_OK)
        return rc;
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        seg__tag *t = seg__realloc_array(&reg->alloc, reg->tags, cap, sizeof *t);
        if (!t)
            goto nomem;
        reg->tags = t;
        reg->cap = cap;
    }
    seg__tag t;
    memset(&t, 0, sizeof t);
    t.id = (int32_t)id;
    t.kind = SEG_TAG_FACT;
    t.source = SEG_TAG_MANUAL;
    t.status = SEG_TAG_ONLINE;
    t.rule_line = t.rule_col = 1;
    t.name = trimmed_copy(&reg->alloc, name, len);
    t.key = seg__strdup(&reg->alloc, key);
    if (!t.name || !t.key || names_reserve(reg) < 0) {
        tag_fini(&reg->alloc, &t);
        goto nomem;
    }
    size_t pos = reg->n;
    while (pos > 0 && reg->tags[pos - 1].id > id)
        pos--;
    memmove(&reg->tags[pos + 1], &reg->tags[pos], (reg->n - pos) * sizeof t);
    reg->tags[pos] = t;
    reg->n++;
    names_add(reg, reg->tags[pos].key, t.id);
    if (id >= reg->next_id)
        reg->next_id = id + 1;
    if (out_id)
        *out_id = (int32_t)id;
    return SEG_OK;
nomem:
    set_err(reg, "out of memory");
    return SEG_ENOMEM;
}

SEG_API int32_t seg_tagreg_add(seg_tagreg *reg, int32_t id, const char *name, int32_t *out_id)
{
    if (!reg || !name) {
        if (reg)
            set_err(reg, "name is NULL");
        return SEG_EINVAL;
    }
    int32_t rc = check_builder(reg);
    if (rc != SEG_OK)
        return rc;
    if (id < 0) {
        set_err(reg, "tag id %d is negative", (int)id);
        return SEG_ERANGE;
    }
    if (id == 0 && reg->next_id > SEG_TAG_ID_MAX) {
        set_err(reg, "no tag id left (ids are never reused)");
        return SEG_ERANGE;
    }
    return seg__tagreg_add(reg, id, name, strlen(name), out_id);
}

/* Room for one more alias of t (both arrays grow together); -1 when out of
 * memory, with t's aliases as they were. */
static int aliases_reserve(seg_tagreg *reg, seg__tag *t)
{
    if (t->n_aliases < t->cap_aliases)
        return 0;
    size_t cap = t->cap_aliases ? t->cap_aliases * 2 : 4;
    char **a = seg__realloc_array(&reg->alloc, t->aliases, cap, sizeof *a);
    if (!a)
        return -1;
    t->aliases = a;
    char **k = seg__realloc_array(&reg->alloc, t->alias_keys, cap, sizeof *k);
    if (!k)
        return -1;
    t->alias_keys = k;
    t->cap_aliases = cap;
    return 0;
}

int32_t seg__tagreg_add_alias(seg_tagreg *reg, seg__tag *t, const char *alias, size_t len)
{
    char key[SEG_TAG_NAME_MAX + 1];
    int32_t rc = make_key(reg, "alias", alias, len, key, t);
    if (rc != SEG_OK)
        return rc;
    if (aliases_reserve(reg, t) < 0)
        goto nomem;
    char *copy = trimmed_copy(&reg->alloc, alias, len);
    char *kcopy = seg__strdup(&reg->alloc, key);
    if (!copy || !kcopy || names_reserve(reg) < 0) {
        seg__free(&reg->alloc, copy);
        seg__free(&reg->alloc, kcopy);
        goto nomem;
    }
    t->aliases[t->n_aliases] = copy;
    t->alias_keys[t->n_aliases] = kcopy;
    t->n_aliases++;
    names_add(reg, kcopy, t->id);
    return SEG_OK;
nomem:
    set_err(reg, "out of memory");
    return SEG_ENOMEM;
}

static seg__tag *builder_tag(seg_tagreg *reg, int32_t id, int32_t *rc)
{
    *rc = check_builder(reg);
    if (*rc != SEG_OK)
        return NULL;
    seg__tag *t = find_tag(reg, id);
    if (!t) {
        set_err(reg, "no tag with id %d", (int)id);
        *rc = SEG_ENOTFOUND;
    }
    return t;
}

SEG_API int32_t seg_tagreg_add_alias(seg_tagreg *reg, int32_t id, const char *alias)
{
    if (!reg || !alias) {
        if (reg)
            set_err(reg, "alias is NULL");
        return SEG_EINVAL;
    }
    int32_t rc;
    seg__tag *t = builder_tag(reg, id, &rc);
    if (!t)
        return rc;
    return seg__tagreg_add_alias(reg, t, alias, strlen(alias));
}

SEG_API int32_t seg_tagreg_rename(seg_tagreg *reg, int32_t id, const char *new_name)
{
    if (!reg || !new_name) {
        if (reg)
            set_err(reg, "name is NULL");
        return SEG_EINVAL;
    }
    int32_t rc;
    seg__tag *t = builder_tag(reg, id, &rc);
    if (!t)
        return rc;
    size_t len = strlen(new_name);
    char key[SEG_TAG_NAME_MAX + 1];
    size_t klen;
    const char *why = seg__tag_normalize(new_name, len, key, &klen);
    if (why) {
        set_err(reg, "name '%.*s': %s", (int)seg__utf8_prefix(new_name, len, 60), new_name, why);
        return SEG_EINVAL;
    }
    int32_t h = seg__tagreg_lookup_key(reg, key);
    if (h && h != id) {
        char desc[SEG_TAG_NAME_MAX + 64];
        holder(reg, h, key, desc, sizeof desc);
        set_err(reg, "name '%s' is taken: it is %s", new_name, desc);
        return SEG_EEXISTS;
    }
    char *nkey = NULL;
    char *name = trimmed_copy(&reg->alloc, new_name, len);
    if (!name)
        goto nomem;
    if (strcmp(key, t->key) == 0) { /* the same name, spelled otherwise */
        seg__free(&reg->alloc, t->name);
        t->name = name;
        return SEG_OK;
    }
    /* The new name may be one of the tag's aliases: that alias goes and its
     * key (equal to the new one, and already in the name table) is kept.
     * Otherwise the new key is added. Either way the old name becomes the
     * first alias, keeping its table entry. */
    size_t own = t->n_aliases;
    for (size_t j = 0; j < t->n_aliases; j++)
        if (strcmp(t->alias_keys[j], key) == 0)
            own = j;
    if (own == t->n_aliases) {
        nkey = seg__strdup(&reg->alloc, key);
        if (!nkey || names_reserve(reg) < 0)
            goto nomem;
        if (aliases_reserve(reg, t) < 0)
            goto nomem;
        memmove(&t->aliases[1], &t->aliases[0], t->n_aliases * sizeof *t->aliases);
        memmove(&t->alias_keys[1], &t->alias_keys[0], t->n_aliases * sizeof *t->alias_keys);
        t->n_aliases++;
        names_add(reg, nkey, t->id);
    } else {
        nkey = t->alias_keys[own];
        seg__free(&reg->alloc, t->aliases[own]);
        memmove(&t->aliases[1], &t->aliases[0], own * sizeof *t->aliases);
        memmove(&t->alias_keys[1], &t->alias_keys[0], own * sizeof *t->alias_keys);
    }
    t->aliases[0] = t->name;
    t->alias_keys[0] = t->key;
    t->name = name;
    t->key = nkey;
    return SEG_OK;
nomem:
    seg__free(&reg->alloc, name);
    seg__free(&reg->alloc, nkey);
    set_err(reg, "out of memory");
    return SEG_ENOMEM;
}

/* ---- rule references ------------------------------------------------------------ */

typedef struct deps_ctx {
    const seg_tagreg *reg;
    seg__alloc alloc;
    int32_t *ids;
    size_t n, cap;
} deps_ctx;

static int32_t collect_dep(void *ctx, const char *name, size_t line, size_t col)
{
    deps_ctx *d = ctx;
    int32_t id = seg__tagreg_resolve(d->reg, name, strlen(name));
    if (!id)
        return SEG_OK; /* a frame column */
    for (size_t i = 0; i < d->n; i++)
        if (d->ids[i] == id)
            return SEG_OK;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        int32_t *p = seg__realloc_array(&d->alloc, d->ids, cap, sizeof *p);
        if (!p)
            return SEG_ENOMEM;
        d->ids = p;
        d->cap = cap;
    }
    d->ids[d->n++] = id;
    return SEG_OK;
}

const char *seg__tagreg_rule_source(const seg_tagreg *reg, const seg__tag *t, char *buf,
                                    size_t cap)
{
    if (reg->source)
        return reg->source;
    snprintf(buf, cap, "tag %d", (int)t->id);
    return buf;
}

/* The tags the rule of t names (ids, deduplicated), or a parse error. */
static int32_t rule_deps(const seg_tagreg *reg, const seg__tag *t, int32_t **ids, size_t *n,
                         char *err, size_t cap)
{
    deps_ctx d = {reg, reg->alloc, NULL, 0, 0};
    char src[32];
    const char *text = t->text[SEG_TAG_RULE_TEXT];
    int32_t rc = seg__rule_scan(text, strlen(text), collect_dep, &d,
                                seg__tagreg_rule_source(reg, t, src, sizeof src), t->rule_line,
                                t->rule_col, &reg->alloc, err, cap);
    if (rc != SEG_OK) {
        seg__free(&reg->alloc, d.ids);
        return rc;
    }
    *ids = d.ids;
    *n = d.n;
    return SEG_OK;
}

SEG_API int32_t seg_tagreg_remove(seg_tagreg *reg, int32_t id)
{
    if (!reg)
        return SEG_EINVAL;
    int32_t rc;
    seg__tag *t = builder_tag(reg, id, &rc);
    if (!t)
        return rc;
    for (size_t i = 0; i < reg->n; i++) {
        const seg__tag *r = &reg->tags[i];
        if (r->id == id || !r->text[SEG_TAG_RULE_TEXT])
            continue;
        int32_t *ids = NULL;
        size_t n = 0;
        char err[8];
        rc = rule_deps(reg, r, &ids, &n, err, sizeof err);
        if (rc == SEG_ENOMEM) {
            set_err(reg, "out of memory");
            return rc;
        }
        int used = 0;
        for (size_t j = 0; j < n; j++)
            used |= ids[j] == id;
        seg__free(&reg->alloc, ids);
        if (used) {
            set_err(reg, "tag %d '%s' is used by the rule of tag %d '%s'", (int)id, t->name,
                    (int)r->id, r->name);
            return SEG_ESTATE;
        }
    }
    size_t pos = (size_t)(t - reg->tags);
    seg__tag gone = *t;
    memmove(&reg->tags[pos], &reg->tags[pos + 1], (reg->n - pos - 1) * sizeof gone);
    reg->n--;
    /* Refill the table in place: it only shrinks, so this cannot fail. */
    memset(reg->names, 0, reg->cap_names * sizeof *reg->names);
    reg->n_names = 0;
    for (size_t i = 0; i < reg->n; i++) {
        const seg__tag *x = &reg->tags[i];
        names_add(reg, x->key, x->id);
        for (size_t j = 0; j < x->n_aliases; j++)
            names_add(reg, x->alias_keys[j], x->id);
    }
    tag_fini(&reg->alloc, &gone);
    return SEG_OK;
}

/* ---- attributes --------------------------------------------------------------- */

/* Length of a blank (space, tab, U+3000, U+00A0) at s[0..n), or 0. */
static size_t blank_at(const char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || s[0] == '\t'))
        return 1;
    if (n >= 2 && memcmp(s, "\xc2\xa0", 2) == 0)
        return 2;
    if (n >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
        return 3;
    return 0;
}

/* Length of a blank ending at s[n - 1], or 0. */
static size_t blank_before(const char *s, size_t n)
{
    if (n >= 1 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        return 1;
    if (n >= 2 && memcmp(s + n - 2, "\xc2\xa0", 2) == 0)
        return 2;
    if (n >= 3 && memcmp(s + n - 3, "\xe3\x80\x80", 3) == 0)
        return 3;
    return 0;
}

/* Checks a category path and writes it with its levels trimmed of blanks. */
static const char *check_category(const char *s, size_t len, char *out, size_t *out_len)
{
    size_t o = 0, levels = 0, i = 0;
    for (;;) {
        size_t j = i;
        while (j < len && s[j] != '/')
            j++;
        size_t a = i, b = j, k;
        while (a < b && (k = blank_at(s + a, b - a)) > 0)
            a += k;
        while (b > a && (k = blank_before(s + a, b - a)) > 0)
            b -= k;
        if (a == b)
            return "category has an empty level";
        if (++levels > SEG_TAG_CATEGORY_DEPTH)
            return "category has more than 5 levels";
        if (o)
            out[o++] = '/';
        memcpy(out + o, s + a, b - a);
        o += b - a;
        if (j == len)
            break;
        i = j + 1;
    }
    out[o] = '\0';
    *out_len = o;
    return NULL;
}

static const char *check_text(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return "text contains a control character or tab (it must be one line)";
        size_t n = seg__utf8_len(u + i, len - i);
        if (n == 0)
            return "text is not valid UTF-8";
        uint32_t cp;
        seg__utf8_next(s + i, &cp);
        if (cp >= 0x80 && cp <= 0x9f) /* C1 controls */
            return "text contains a control character or tab (it must be one line)";
        i += n;
    }
    return NULL;
}

static const char *const field_names[SEG__TAG_FIELDS] = {"", "category", "description", "owner",
                                                          "group", "rule"};

int32_t seg__tagreg_set_text(seg_tagreg *reg, seg__tag *t, int32_t field, const char *value,
                             size_t len)
{
    if (field < 1 || field >= SEG__TAG_FIELDS) {
        set_err(reg, "unknown text field %d", (int)field);
        return SEG_EINVAL;
    }
    char *copy = NULL, *gkey = NULL;
    while (len && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len > 0) {
        if (len > text_max[field]) {
            set_err(reg, "%s is longer than %zu bytes", field_names[field], text_max[field]);
            return SEG_ERANGE;
        }
        const char *why = check_text(value, len);
        if (why) {
            set_err(reg, "%s: %s", field_names[field], why);
            return SEG_EINVAL;
        }
        copy = seg__malloc(&reg->alloc, len + 1);
        if (!copy)
            goto nomem;
        if (field == SEG_TAG_CATEGORY) {
            size_t n;
            why = check_category(value, len, copy, &n);
            if (why) {
                seg__free(&reg->alloc, copy);
                set_err(reg, "category '%.*s': %s", (int)seg__utf8_prefix(value, len, 80), value,
                        why);
                return SEG_EINVAL;
            }
        } else {
            memcpy(copy, value, len);
            copy[len] = '\0';
        }
        if (field == SEG_TAG_GROUP) {
            gkey = seg__malloc(&reg->alloc, len + 1);
            size_t n;
            if (!gkey)
                goto nomem;
            const char *why2 = seg__tag_normalize(value, len, gkey, &n);
            if (why2) {
                set_err(reg, "group '%s': %s", copy, why2);
                seg__free(&reg->alloc, copy);
                seg__free(&reg->alloc, gkey);
                return SEG_EINVAL;
            }
        }
    }
    seg__free(&reg->alloc, t->text[field]);
    t->text[field] = copy;
    if (field == SEG_TAG_GROUP) {
        seg__free(&reg->alloc, t->group_key);
        t->group_key = gkey;
    }
    if (field == SEG_TAG_RULE_TEXT) {
        if (copy) {
            if (t->kind != SEG_TAG_RULE && t->source == SEG_TAG_MANUAL)
                t->source = SEG_TAG_DERIVED;
            t->kind = SEG_TAG_RULE;
        } else if (t->kind == SEG_TAG_RULE) {
            t->kind = SEG_TAG_FACT;
        }
    }
    return SEG_OK;
nomem:
    seg__free(&reg->alloc, copy);
    seg__free(&reg->alloc, gkey);
    set_err(reg, "out of memory");
    return SEG_ENOMEM;
}

SEG_API int32_t seg_tagreg_set_text(seg_tagreg *reg, int32_t id, int32_t field, const char *value)
{
    if (!reg)
        return SEG_EINVAL;
    int32_t rc;
    seg__tag *t = builder_tag(reg, id, &rc);
    if (!t)
        return rc;
    rc = seg__tagreg_set_text(reg, t, field, value ? value : "", value ? strlen(value) : 0);
    if (rc == SEG_OK && field == SEG_TAG_RULE_TEXT)
        t->rule_line = t->rule_col = 1;
    return rc;
}

SEG_API int32_t seg_tagreg_set_code(seg_tagreg *reg, int32_t id, int32_t field, int32_t value)
{
    if (!reg)
        return SEG_EINVAL;
    int32_t rc;
    seg__tag *t = builder_tag(reg, id, &rc);
    if (!t)
        return rc;
    switch (field) {
    case SEG_TAG_KIND:
        if (value < SEG_TAG_FACT || value > SEG_TAG_MODEL)
            break;
        if ((value == SEG_TAG_RULE) != (t->text[SEG_TAG_RULE_TEXT] != NULL)) {
            set_err(reg, value == SEG_TAG_RULE
                             ? "tag %d: set a rule text to make it a rule tag"
                             : "tag %d has a rule: clear it before changing the kind",
                    (int)id);
            return SEG_ESTATE;
        }
        t->kind = value;
        return SEG_OK;
    case SEG_TAG_SOURCE:
        if (value != SEG_TAG_MANUAL && value != SEG_TAG_DERIVED)
            break;
        t->source = value;
        return SEG_OK;
    case SEG_TAG_STATUS:
        if (value < SEG_TAG_DRAFT || value > SEG_TAG_DISABLED)
            break;
        t->status = value;
        return SEG_OK;
    default:
        set_err(reg, "unknown field %d", (int)field);
        return SEG_EINVAL;
    }
    set_err(reg, "tag %d: value %d is not valid for %s", (int)id, (int)value,
            field == SEG_TAG_KIND     ? "kind (SEG_TAG_FACT, SEG_TAG_RULE or SEG_TAG_MODEL)"
            : field == SEG_TAG_SOURCE ? "source (SEG_TAG_MANUAL or SEG_TAG_DERIVED)"
                                      : "status (SEG_TAG_DRAFT .. SEG_TAG_DISABLED)");
    return SEG_EINVAL;
}

/* ---- freezing ------------------------------------------------------------------ */

/* Depth-first search for a cycle over rule references, without recursion. */
static int32_t check_cycles(seg_tagreg *reg, char *err, size_t cap)
{
    size_t n = reg->n;
    uint8_t *color = seg__calloc_array(&reg->alloc, n ? n : 1, 1);
    size_t *stack = seg__malloc_array(&reg->alloc, n ? n : 1, sizeof *stack);
    size_t *next = seg__calloc_array(&reg->alloc, n ? n : 1, sizeof *next);
    int32_t rc = SEG_OK;
    if (!color || !stack || !next) {
        seg__errf(err, cap, "out of memory");
        rc = SEG_ENOMEM;
        goto done;
    }
    for (size_t s = 0; s < n && rc == SEG_OK; s++) {
        if (color[s])
            continue;
        size_t sp = 0;
        stack[sp++] = s;
        color[s] = 1;
        while (sp && rc == SEG_OK) {
            size_t v = stack[sp - 1];
            const seg__tag *t = &reg->tags[v];
            if (next[v] == t->n_deps) {
                color[v] = 2;
                sp--;
                continue;
            }
            size_t w = (size_t)seg__tagreg_index(reg, t->deps[next[v]++]);
            if (color[w] == 0) {
                color[w] = 1;
                stack[sp++] = w;
            } else if (color[w] == 1) { /* back edge: the cycle is stack[k..] */
                size_t k = sp;
                while (stack[k - 1] != w)
                    k--;
                char path[SEG__ERR_LEN];
                size_t o = 0;
                for (size_t i = k - 1; i < sp && o < sizeof path; i++)
                    o += (size_t)snprintf(path + o, sizeof path - o, "'%s' -> ",
                                          reg->tags[stack[i]].name);
                if (o < sizeof path)
                    snprintf(path + o, sizeof path - o, "'%s'", reg->tags[w].name);
                const seg__tag *c = &reg->tags[w];
                char src[32];
                seg__errf(err, cap, "%s:%zu:%zu: rules name each other in a cycle: %s",
                          seg__tagreg_rule_source(reg, c, src, sizeof src), c->rule_line,
                          c->rule_col, path);
                rc = SEG_EPARSE;
            }
        }
    }
done:
    seg__free(&reg->alloc, color);
    seg__free(&reg->alloc, stack);
    seg__free(&reg->alloc, next);
    return rc;
}

int32_t seg__tagreg_freeze(seg_tagreg *reg, char *err, size_t cap)
{
    if (reg->frozen)
        return SEG_OK;
    int32_t rc = SEG_OK;
    for (size_t i = 0; i < reg->n && rc == SEG_OK; i++) {
        seg__tag *t = &reg->tags[i];
        seg__free(&reg->alloc, t->deps);
        t->deps = NULL;
        t->n_deps = 0;
        if (t->text[SEG_TAG_RULE_TEXT])
            rc = rule_deps(reg, t, &t->deps, &t->n_deps, err, cap);
    }
    if (rc == SEG_OK)
        rc = check_cycles(reg, err, cap);
    if (rc == SEG_OK)
        reg->frozen = 1;
    return rc;
}

SEG_API int32_t seg_tagreg_freeze(seg_tagreg *reg)
{
    if (!reg)
        return SEG_EINVAL;
    reg->err[0] = '\0';
    return seg__tagreg_freeze(reg, reg->err, sizeof reg->err);
}

SEG_API int32_t seg_tagreg_is_frozen(const seg_tagreg *reg)
{
    return reg ? reg->frozen : 0;
}

/* ---- reading ----------------------------------------------------------------- */

SEG_API size_t seg_tagreg_count(const seg_tagreg *reg)
{
    return reg ? reg->n : 0;
}

SEG_API int32_t seg_tagreg_id_at(const seg_tagreg *reg, size_t index)
{
    return reg && index < reg->n ? reg->tags[index].id : 0;
}

SEG_API int32_t seg_tagreg_find(const seg_tagreg *reg, const char *name, int32_t *out_id)
{
    if (!reg || !name || !out_id)
        return SEG_EINVAL;
    int32_t id = seg__tagreg_resolve(reg, name, seg__strnlen(name, SEG_TAG_NAME_MAX + 1));
    if (!id)
        return SEG_ENOTFOUND;
    *out_id = id;
    return SEG_OK;
}

SEG_API const char *seg_tagreg_name(const seg_tagreg *reg, int32_t id)
{
    const seg__tag *t = reg ? find_tag(reg, id) : NULL;
    return t ? t->name : NULL;
}

SEG_API size_t seg_tagreg_alias_count(const seg_tagreg *reg, int32_t id)
{
    const seg__tag *t = reg ? find_tag(reg, id) : NULL;
    return t ? t->n_aliases : 0;
}

SEG_API const char *seg_tagreg_alias(const seg_tagreg *reg, int32_t id, size_t index)
{
    const seg__tag *t = reg ? find_tag(reg, id) : NULL;
    return t && index < t->n_aliases ? t->aliases[index] : NULL;
}

SEG_API const char *seg_tagreg_text(const seg_tagreg *reg, int32_t id, int32_t field)
{
    const seg__tag *t = reg ? find_tag(reg, id) : NULL;
    if (!t || field < 1 || field >= SEG__TAG_FIELDS)
        return NULL;
    return t->text[field] ? t->text[field] : "";
}

SEG_API int32_t seg_tagreg_code(const seg_tagreg *reg, int32_t id, int32_t field, int32_t *out)
{
    if (!reg || !out)
        return SEG_EINVAL;
    if (field != SEG_TAG_KIND && field != SEG_TAG_SOURCE && field != SEG_TAG_STATUS)
        return SEG_EINVAL;
    const seg__tag *t = find_tag(reg, id);
    if (!t)
        return SEG_ENOTFOUND;
    *out = field == SEG_TAG_KIND ? t->kind : field == SEG_TAG_SOURCE ? t->source : t->status;
    return SEG_OK;
}

static int level_eq(const char *a, size_t na, const char *b, size_t nb)
{
    char ka[SEG_TAG_NAME_MAX + 1], kb[SEG_TAG_NAME_MAX + 1];
    size_t la, lb;
    if (na <= SEG_TAG_NAME_MAX && nb <= SEG_TAG_NAME_MAX && !seg__tag_normalize(a, na, ka, &la) &&
        !seg__tag_normalize(b, nb, kb, &lb))
        return la == lb && memcmp(ka, kb, la) == 0;
    return na == nb && memcmp(a, b, na) == 0;
}

/* Whether category c (stored with trimmed levels) starts with the levels of
 * prefix p; levels compare like names, empty prefix levels are skipped. */
static int category_matches(const char *c, const char *p)
{
    for (;;) {
        while (*p == '/' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return 1;
        size_t pl = strcspn(p, "/");
        size_t q = pl;
        while (q && (p[q - 1] == ' ' || p[q - 1] == '\t'))
            q--;
        if (!*c)
            return 0;
        size_t cl = strcspn(c, "/");
        if (!level_eq(p, q, c, cl))
            return 0;
        p += pl;
        c += cl;
        if (*c == '/')
            c++;
    }
}

SEG_API int32_t seg_tagreg_list(const seg_tagreg *reg, const char *prefix, int32_t *out_ids,
                                size_t cap, size_t *out_n)
{
    if (!reg || !prefix || !out_n || (!out_ids && cap > 0))
        return SEG_EINVAL;
    size_t n = 0;
    for (size_t i = 0; i < reg->n; i++) {
        const seg__tag *t = &reg->tags[i];
        const char *c = t->text[SEG_TAG_CATEGORY] ? t->text[SEG_TAG_CATEGORY] : "";
        if (!category_matches(c, prefix))
            continue;
        if (n < cap)
            out_ids[n] = t->id;
        n++;
    }
    *out_n = n;
    return SEG_OK;
}
