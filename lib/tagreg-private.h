/* SPDX-License-Identifier: MIT */
/* The tag registry's layout, shared by the registry, its text form, tag
 * sets and queries. */
#ifndef SEG_TAGREG_PRIVATE_H
#define SEG_TAGREG_PRIVATE_H

#include <stdatomic.h>

#include "seg-private.h"
#include "segment/tags.h"

/* Text attributes are stored in tag->text[field], field 1..SEG__TAG_FIELDS-1. */
#define SEG__TAG_FIELDS 6

typedef struct seg__tag {
    int32_t id;
    int32_t kind, source, status;
    char *name; /* as given, trimmed */
    char *key;  /* normalised */
    char **aliases, **alias_keys;
    size_t n_aliases, cap_aliases;
    char *text[SEG__TAG_FIELDS]; /* NULL when unset */
    char *group_key;             /* normalised group name, or NULL */
    size_t rule_line, rule_col;  /* where the rule text sits in `source` */
    int32_t *deps;               /* ids of the tags the rule names (frozen only) */
    size_t n_deps;
} seg__tag;

/* Name table entry: a normalised name or alias and its tag's id. */
typedef struct seg__tagname {
    const char *key;
    int32_t id;
} seg__tagname;

struct seg_tagreg {
    seg__alloc alloc;
    atomic_int refs; /* the caller's, plus one per tag set or query */
    int32_t frozen;
    seg__tag *tags; /* ascending id */
    size_t n, cap;
    int64_t next_id;
    seg__tagname *names; /* open addressing, power-of-two size */
    size_t n_names, cap_names;
    char *source; /* file the registry was loaded from, for rule messages */
    char err[SEG__ERR_LEN];
};

/* Normalises name[0..len) into out (room for len + 1 bytes), the way the
 * registry compares names. Returns NULL, or a static reason it is invalid. */
const char *seg__tag_normalize(const char *name, size_t len, char *out, size_t *out_len);

/* Decodes one UTF-8 sequence of valid text; returns its length. */
size_t seg__utf8_next(const char *s, uint32_t *cp);

/* Index of the tag with this id, or -1. */
ptrdiff_t seg__tagreg_index(const seg_tagreg *reg, int32_t id);

/* Id of the tag whose name or alias normalises to `key`, or 0. */
int32_t seg__tagreg_lookup_key(const seg_tagreg *reg, const char *key);

/* Resolves a name (normalising it); 0 when unknown or invalid. */
int32_t seg__tagreg_resolve(const seg_tagreg *reg, const char *name, size_t len);

/* Writes "; did you mean 'a', 'b'?" (or nothing) for an unknown name. */
void seg__tagreg_hint(const seg_tagreg *reg, const char *name, char *buf, size_t cap);

void seg__tagreg_ref(seg_tagreg *reg);

/* Registry built from the API: rule positions are line 1, column 1 of the
 * rule text, reported as "tag <id>". The source for rule messages. */
const char *seg__tagreg_rule_source(const seg_tagreg *reg, const seg__tag *t, char *buf,
                                    size_t cap);

/* seg_tagreg_new() with an allocator already checked (the loader checks
 * it itself, to report a bad one in its err_buf). */
int32_t seg__tagreg_create(seg_tagreg **out, const seg__alloc *a);
/* Builder steps shared by the API and the text loader; they write
 * reg->err on failure. */
int32_t seg__tagreg_add(seg_tagreg *reg, int64_t id, const char *name, size_t len,
                        int32_t *out_id);
int32_t seg__tagreg_add_alias(seg_tagreg *reg, seg__tag *t, const char *alias, size_t len);
int32_t seg__tagreg_set_text(seg_tagreg *reg, seg__tag *t, int32_t field, const char *value,
                             size_t len);
int32_t seg__tagreg_freeze(seg_tagreg *reg, char *err, size_t cap);
void seg__tagreg_destroy(seg_tagreg *reg);

#endif /* SEG_TAGREG_PRIVATE_H */
