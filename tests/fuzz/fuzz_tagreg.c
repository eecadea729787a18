/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the tag registry text (seg_tagreg_load) and everything
 * done with a loaded registry: lookups, suggestions, category listing,
 * normalisation, rebuilding it through the setters, tag sets over it
 * (setters, exclusive groups, model labels, rule tags) and one-tag queries.
 *
 * The input is the text of a registry, loaded with source "fuzz". Failure:
 * SEG_EPARSE or SEG_EVERSION, "fuzz:line:col: message" inside the text,
 * *out untouched; err_cap 1, 0 and a NULL buffer agree. On success:
 *   - the registry is frozen; ids ascend; every name and alias finds its
 *     tag (also in normalised form); attributes are in range; a tag is of
 *     kind rule exactly when it has a rule; categories have 1..5 non-empty
 *     levels; unknown ids / fields / indices give NULL, 0 or SEG_EINVAL;
 *   - seg_tag_normalize against an independent implementation of the rules
 *     in tags.h (on every name, alias, group and every line of the input);
 *   - seg_tagreg_suggest against an independent edit distance (tags.h:
 *     code points, containment = 1, max(2, (len + 1) / 2), by distance then
 *     id); seg_tagreg_list against whole-level prefix matching (these on
 *     4 consecutive tags from a place the input's hash picks, and on the
 *     first 3 lines of the input);
 *   - save (size query, a too-small buffer is SEG_EBUFSZ and untouched),
 *     re-load, save again: identical text and an identical registry;
 *   - the same registry rebuilt with seg_tagreg_new/add/add_alias/set_text/
 *     set_code (plus renames to the first alias and back, and a removed
 *     placeholder for next_id) saves to the identical text; a frozen
 *     registry refuses every setter with SEG_ESTATE;
 *   - a tag set of 300 rows on the loaded registry (and, for one input in
 *     four, the same on the re-loaded registry):
 *     fact tags set and cleared (set, set_rows, set_mask, reset) against a
 *     reference that applies exclusive groups; model tags through
 *     seg_tagset_set_labels; rule tags one by one (the first 8) and all
 *     together through
 *     seg_tagset_eval_rules over a small frame (aum, txn_90d, x, y, age,
 *     city and the columns of examples/data/tags.txt): a failure leaves
 *     the set unchanged, a listed disabled or non-rule tag is SEG_ESTATE, a
 *     rule tag whose rule is a plain rule over the frame matches
 *     seg_rule_eval, no row holds two tags of a group;
 *     both sets (when run) agree on every status and bit; counts, co-occurrence and
 *     tests agree with the masks; empty and full tags store no bytes, no
 *     tag more than n/8 + 8 bytes (plus 16 per chunk);
 *   - a query naming one tag counts what the set holds (disabled: refused).
 * abort() on any broken invariant.
 */
#include "fuzz_common.h"

#define ERR_CAP 512
#define TR_ROWS 300
#define MAX_SET_TAGS 64 /* fact/model tags the tag-set part writes */
#define MAX_ORACLE_TAGS 64
#define ORACLE_TAGS 4    /* tags per input given the suggest / list oracles */
#define MAX_RULE_ONE 8   /* rule tags per input evaluated one at a time */

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

static size_t line_count(const char *t, size_t n)
{
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += t[i] == '\n';
    return k;
}

static size_t line_length(const char *t, size_t n, size_t line)
{
    size_t i = 0, cur = 1;
    while (i < n && cur < line) {
        if (t[i] == '\n')
            cur++;
        i++;
    }
    size_t b = i;
    while (i < n && t[i] != '\n')
        i++;
    return i - b;
}

static void check_position_message(const char *text, size_t len, const char *err,
                                   const char *source)
{
    unsigned long line = 0, col = 0;
    int used = 0;
    size_t sl = strlen(source);
    CHECK(strncmp(err, source, sl) == 0 && err[sl] == ':',
          "message does not start with '%s:': '%s'", source, err);
    CHECK(sscanf(err + sl + 1, "%lu:%lu: %n", &line, &col, &used) == 2 && used > 0,
          "message is not 'source:line:col: message': '%s'", err);
    CHECK(err[sl + 1 + (size_t)used] != '\0', "empty message after the position: '%s'", err);
    size_t lines = line_count(text, len);
    CHECK(line >= 1 && line <= lines, "line %lu outside 1..%zu: '%s'", line, lines, err);
    size_t ll = line_length(text, len, line);
    CHECK(col >= 1 && col <= ll + 1, "column %lu outside 1..%zu of line %lu: '%s'", col, ll + 1,
          line, err);
}

static uint32_t mix32(uint32_t h, uint32_t v)
{
    h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
    h *= 0x85ebca6bu;
    return h ^ (h >> 13);
}

/* seg_tag_normalize against fz_tag_key; returns 1 when the library
 * accepted the name (key in `key`, capacity strlen(name) + 1 at least). */
static int check_normalize(const char *name, char *key, size_t *key_len)
{
    size_t n = strlen(name);
    char *mine = fz_xmalloc(4 * n + 8);
    size_t mine_len = 0;
    int m = fz_tag_key(name, strlen(name), mine, &mine_len);

    size_t need = 0;
    int32_t rc = seg_tag_normalize(name, NULL, 0, &need);
    CHECK(rc == SEG_OK || rc == SEG_EINVAL, "normalize size query gave %d", (int)rc);
    if (m != FZ_NORM_UNSURE) {
        if (rc != (m == FZ_NORM_OK ? SEG_OK : SEG_EINVAL)) {
            fprintf(stderr, "name: \"");
            fz_print_escaped(stderr, name, n);
            fprintf(stderr, "\"\n");
        }
        CHECK(rc == (m == FZ_NORM_OK ? SEG_OK : SEG_EINVAL),
              "seg_tag_normalize gave %d, tags.h's rules say %s", (int)rc,
              m == FZ_NORM_OK ? "valid" : "invalid");
    }
    if (rc != SEG_OK) {
        free(mine);
        return 0;
    }
    CHECK(need <= n, "key of %zu bytes for a name of %zu", need, n);
    if (need > 0) {
        char probe[2] = {'Q', 'R'};
        size_t l2 = 0;
        rc = seg_tag_normalize(name, probe, need < 2 ? need : 1, &l2);
        CHECK(rc == SEG_EBUFSZ && probe[0] == 'Q' && probe[1] == 'R',
              "normalize with a too-small buffer gave %d (buffer %s)", (int)rc,
              probe[0] == 'Q' ? "untouched" : "written");
    }
    size_t got = 0;
    rc = seg_tag_normalize(name, key, need + 1, &got);
    CHECK(rc == SEG_OK && got == need && key[got] == '\0' && strlen(key) == got,
          "normalize gave %d, len %zu (size query %zu)", (int)rc, got, need);
    if (m != FZ_NORM_INVALID) {
        if (got != mine_len || memcmp(key, mine, got) != 0) {
            fprintf(stderr, "name: \"");
            fz_print_escaped(stderr, name, n);
            fprintf(stderr, "\"\nlibrary: \"");
            fz_print_escaped(stderr, key, got);
            fprintf(stderr, "\"\ntags.h:  \"");
            fz_print_escaped(stderr, mine, mine_len);
            fprintf(stderr, "\"\n");
        }
        CHECK(got == mine_len && memcmp(key, mine, got) == 0,
              "seg_tag_normalize differs from the rules of tags.h");
    }
    /* Idempotent. */
    {
        char *again = fz_xmalloc(got + 1);
        size_t l3 = 0;
        rc = seg_tag_normalize(key, again, got + 1, &l3);
        CHECK(rc == SEG_OK && l3 == got && memcmp(again, key, got) == 0,
              "normalize(normalize(x)) != normalize(x) (%d)", (int)rc);
        free(again);
    }
    free(mine);
    *key_len = got;
    return 1;
}

/* Code points of a NUL-terminated valid UTF-8 string; returns the count. */
static size_t to_cps(const char *s, uint32_t *cps, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, k = 0;
    while (i < n && k < cap) {
        uint32_t cp = 0;
        size_t l = seg_test_utf8_decode(p + i, n - i, &cp);
        CHECK(l > 0, "invalid UTF-8 in a key");
        cps[k++] = cp;
        i += l;
    }
    return k;
}

static size_t levenshtein(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t *row = fz_xmalloc((nb + 1) * sizeof *row);
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
    size_t d = row[nb];
    free(row);
    return d;
}

/* The normalised key of a name that the library accepted. */
static char *key_of(const char *name)
{
    size_t need = 0;
    int32_t rc = seg_tag_normalize(name, NULL, 0, &need);
    CHECK(rc == SEG_OK, "normalize('%s') gave %d for a registered name", name, (int)rc);
    char *k = fz_xmalloc(need + 1);
    CHECK(seg_tag_normalize(name, k, need + 1, &need) == SEG_OK, "normalize");
    return k;
}

/* Distance of tags.h's seg_tagreg_suggest between two keys. */
static size_t suggest_distance(const char *q, const uint32_t *qc, size_t nq, const char *cand)
{
    size_t nc_cap = strlen(cand) + 1;
    uint32_t *cc = fz_xmalloc(nc_cap * sizeof *cc);
    size_t nc = to_cps(cand, cc, nc_cap);
    size_t d = levenshtein(qc, nq, cc, nc);
    free(cc);
    /* tags.h: containment counts as distance 1, an equal name as 0 */
    if (strcmp(cand, q) == 0)
        d = 0;
    else if (strstr(cand, q) != NULL || strstr(q, cand) != NULL)
        d = 1;
    return d;
}

/* seg_tagreg_suggest(name) against the definition in tags.h. */
static void check_suggest(const seg_tagreg *reg, const char *name)
{
    size_t cnt = seg_tagreg_count(reg);
    int32_t *ids = fz_xmalloc((cnt + 1) * sizeof *ids);
    size_t n = 12345;
    int32_t rc = seg_tagreg_suggest(reg, name, ids, cnt + 1, &n);
    size_t nlen = strlen(name);
    char *q = fz_xmalloc(4 * nlen + 8);
    size_t ql = 0;
    int m = fz_tag_key(name, strlen(name), q, &ql);
    if (rc != SEG_OK) {
        /* tags.h does not say what an invalid name gives; a valid one is
         * always SEG_OK. */
        CHECK(m != FZ_NORM_OK, "suggest('%s') gave %d", name, (int)rc);
        free(ids);
        free(q);
        return;
    }
    CHECK(n <= cnt, "suggest gave %zu of %zu tags", n, cnt);
    for (size_t i = 0; i < n; i++) {
        CHECK(seg_tagreg_name(reg, ids[i]) != NULL, "suggest gave unknown id %d", (int)ids[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(ids[j] != ids[i], "suggest gave id %d twice", (int)ids[i]);
    }
    /* A smaller capacity gives a prefix. */
    if (n > 1) {
        int32_t two[2] = {-7, -7};
        size_t n2 = 0;
        rc = seg_tagreg_suggest(reg, name, two, 1, &n2);
        CHECK(rc == SEG_OK && n2 == 1 && two[0] == ids[0] && two[1] == -7,
              "suggest with cap 1 gave %d, n %zu, id %d (want %d)", (int)rc, n2, (int)two[0],
              (int)ids[0]);
    }
    {
        size_t n0 = 99;
        rc = seg_tagreg_suggest(reg, name, NULL, 0, &n0);
        CHECK(rc == SEG_OK && n0 == 0, "suggest with cap 0 gave %d, n %zu", (int)rc, n0);
    }
    if (m == FZ_NORM_OK && cnt <= MAX_ORACLE_TAGS && ql <= 96) {
        uint32_t *qc = fz_xmalloc((ql + 1) * sizeof *qc);
        size_t nq = to_cps(q, qc, ql + 1);
        size_t limit = (nq + 1) / 2 > 2 ? (nq + 1) / 2 : 2;
        size_t *dist = fz_xmalloc(cnt * sizeof *dist);
        int32_t *want = fz_xmalloc((cnt + 1) * sizeof *want);
        size_t nw = 0;
        for (size_t t = 0; t < cnt; t++) {
            int32_t id = seg_tagreg_id_at(reg, t);
            char *k = key_of(seg_tagreg_name(reg, id));
            size_t best = suggest_distance(q, qc, nq, k);
            free(k);
            size_t na = seg_tagreg_alias_count(reg, id);
            for (size_t a = 0; a < na; a++) {
                k = key_of(seg_tagreg_alias(reg, id, a));
                size_t d = suggest_distance(q, qc, nq, k);
                free(k);
                if (d < best)
                    best = d;
            }
            dist[t] = best;
        }
        for (size_t d = 0; d <= limit; d++)
            for (size_t t = 0; t < cnt; t++)
                if (dist[t] == d)
                    want[nw++] = seg_tagreg_id_at(reg, t);
        int same = nw == n;
        for (size_t i = 0; same && i < n; i++)
            same = want[i] == ids[i];
        if (!same) {
            fprintf(stderr, "suggest(\"");
            fz_print_escaped(stderr, name, nlen);
            fprintf(stderr, "\"): library");
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, " %d", (int)ids[i]);
            fprintf(stderr, "; tags.h (limit %zu)", limit);
            for (size_t i = 0; i < nw; i++)
                fprintf(stderr, " %d", (int)want[i]);
            fprintf(stderr, "\n");
        }
        CHECK(same, "seg_tagreg_suggest differs from its definition in tags.h");
        free(qc);
        free(dist);
        free(want);
    }
    free(ids);
    free(q);
}

/* Levels of a category / prefix, each normalised; returns the level count,
 * -1 when a level is not a valid name, -2 when tags.h leaves it open (a
 * level the oracle cannot judge). */
static int category_levels(const char *cat, char keys[SEG_TAG_CATEGORY_DEPTH + 1][4 * 256 + 8])
{
    if (*cat == '\0')
        return 0;
    int nl = 0;
    const char *p = cat;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (nl > SEG_TAG_CATEGORY_DEPTH)
            return -1;
        if (l > 255)
            return -2;
        char raw[256];
        memcpy(raw, p, l);
        raw[l] = '\0';
        size_t kl = 0;
        int m = fz_tag_key(raw, strlen(raw), keys[nl], &kl);
        if (m != FZ_NORM_OK)
            return m == FZ_NORM_UNSURE ? -2 : -1;
        nl++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return nl;
}

static void check_list(const seg_tagreg *reg, const char *prefix)
{
    size_t cnt = seg_tagreg_count(reg);
    int32_t *ids = fz_xmalloc((cnt + 1) * sizeof *ids);
    size_t n = 0, n0 = 0;
    int32_t rc = seg_tagreg_list(reg, prefix, ids, cnt + 1, &n);
    int32_t rc0 = seg_tagreg_list(reg, prefix, NULL, 0, &n0);
    CHECK(rc == rc0, "list with and without a buffer: %d / %d", (int)rc, (int)rc0);
    if (rc != SEG_OK) {
        free(ids);
        return;
    }
    CHECK(n == n0 && n <= cnt, "list counted %zu / %zu of %zu tags", n, n0, cnt);
    for (size_t i = 1; i < n; i++)
        CHECK(ids[i - 1] < ids[i], "list not in id order");
    if (n > 1) {
        int32_t one[2] = {-7, -7};
        size_t n1 = 0;
        rc = seg_tagreg_list(reg, prefix, one, 1, &n1);
        CHECK(rc == SEG_OK && n1 == n && one[0] == ids[0] && one[1] == -7,
              "list with cap 1: %d, n %zu (want %zu), first %d", (int)rc, n1, n, (int)one[0]);
    }
    static char pk[SEG_TAG_CATEGORY_DEPTH + 1][4 * 256 + 8], ck[SEG_TAG_CATEGORY_DEPTH + 1][4 * 256 + 8];
    int np = category_levels(prefix, pk);
    int judge = np >= 0 && np <= SEG_TAG_CATEGORY_DEPTH;
    for (size_t t = 0; judge && t < cnt; t++) {
        const char *cat = seg_tagreg_text(reg, seg_tagreg_id_at(reg, t), SEG_TAG_CATEGORY);
        int nc = category_levels(cat, ck);
        CHECK(nc != -1, "stored category '%s' has an invalid level", cat);
        judge = nc >= 0;
    }
    if (judge) {
        size_t k = 0;
        for (size_t t = 0; t < cnt; t++) {
            int32_t id = seg_tagreg_id_at(reg, t);
            const char *cat = seg_tagreg_text(reg, id, SEG_TAG_CATEGORY);
            int nc = category_levels(cat, ck);
            int match = np <= nc;
            for (int l = 0; match && l < np; l++)
                match = strcmp(pk[l], ck[l]) == 0;
            if (match) {
                CHECK(k < n && ids[k] == id, "list('%s') misses tag %d (category '%s')", prefix,
                      (int)id, cat);
                k++;
            }
        }
        CHECK(k == n, "list('%s') gave %zu tags, whole-level matching %zu", prefix, n, k);
    }
    free(ids);
}

/* ------------------------------------------------------------------------
 * Save and compare
 * ---------------------------------------------------------------------- */

static char *save_text(const seg_tagreg *reg, size_t *out_len)
{
    size_t len = 0;
    int32_t rc = seg_tagreg_save(reg, NULL, 0, &len);
    CHECK(rc == SEG_OK, "save (size query) gave %d", (int)rc);
    CHECK(len > 0, "saved text is empty (the header is always written)");
    {
        char probe = 'Q';
        size_t len2 = 0;
        rc = seg_tagreg_save(reg, &probe, 1, &len2);
        CHECK(rc == SEG_EBUFSZ && len2 == len && probe == 'Q',
              "save with cap 1 gave %d, len %zu (want %zu), buffer %s", (int)rc, len2, len,
              probe == 'Q' ? "untouched" : "written");
        char *exact = fz_xmalloc(len);
        rc = seg_tagreg_save(reg, exact, len, &len2);
        CHECK(rc == SEG_EBUFSZ && len2 == len, "save with cap = length (no room for NUL) gave %d",
              (int)rc);
        free(exact);
    }
    char *buf = fz_xmalloc(len + 1);
    size_t len3 = 0;
    rc = seg_tagreg_save(reg, buf, len + 1, &len3);
    CHECK(rc == SEG_OK && len3 == len, "save gave %d, len %zu (want %zu)", (int)rc, len3, len);
    CHECK(buf[len] == '\0' && strlen(buf) == len, "saved text has an embedded NUL or no NUL");
    CHECK(strncmp(buf, "libsegment-tags 1\n", 18) == 0, "saved text without the header");
    *out_len = len;
    return buf;
}

static const char *nn(const char *s)
{
    return s ? s : "(null)";
}

static void check_same_registry(const seg_tagreg *a, const seg_tagreg *b, const char *what)
{
    size_t n = seg_tagreg_count(a);
    CHECK(seg_tagreg_count(b) == n, "%s: %zu tags, not %zu", what, seg_tagreg_count(b), n);
    CHECK(seg_tagreg_is_frozen(b) == 1, "%s: not frozen", what);
    for (size_t i = 0; i < n; i++) {
        int32_t id = seg_tagreg_id_at(a, i);
        CHECK(seg_tagreg_id_at(b, i) == id, "%s: id %zu is %d, not %d", what, i,
              (int)seg_tagreg_id_at(b, i), (int)id);
        CHECK(strcmp(nn(seg_tagreg_name(a, id)), nn(seg_tagreg_name(b, id))) == 0,
              "%s: tag %d name '%s' vs '%s'", what, (int)id, nn(seg_tagreg_name(a, id)),
              nn(seg_tagreg_name(b, id)));
        size_t na = seg_tagreg_alias_count(a, id);
        CHECK(seg_tagreg_alias_count(b, id) == na, "%s: tag %d alias count", what, (int)id);
        for (size_t k = 0; k < na; k++)
            CHECK(strcmp(nn(seg_tagreg_alias(a, id, k)), nn(seg_tagreg_alias(b, id, k))) == 0,
                  "%s: tag %d alias %zu", what, (int)id, k);
        for (int32_t f = SEG_TAG_CATEGORY; f <= SEG_TAG_RULE_TEXT; f++)
            CHECK(strcmp(nn(seg_tagreg_text(a, id, f)), nn(seg_tagreg_text(b, id, f))) == 0,
                  "%s: tag %d text %d '%s' vs '%s'", what, (int)id, (int)f,
                  nn(seg_tagreg_text(a, id, f)), nn(seg_tagreg_text(b, id, f)));
        for (int32_t f = SEG_TAG_KIND; f <= SEG_TAG_STATUS; f++) {
            int32_t va = -9, vb = -9;
            CHECK(seg_tagreg_code(a, id, f, &va) == SEG_OK &&
                      seg_tagreg_code(b, id, f, &vb) == SEG_OK && va == vb,
                  "%s: tag %d code %d: %d vs %d", what, (int)id, (int)f, (int)va, (int)vb);
        }
    }
}

/* ------------------------------------------------------------------------
 * Registry invariants
 * ---------------------------------------------------------------------- */

static void check_registry(const seg_tagreg *reg, const char *input, size_t size)
{
    const size_t n = seg_tagreg_count(reg);
    CHECK(seg_tagreg_is_frozen(reg) == 1, "a loaded registry is not frozen");
    CHECK(seg_tagreg_last_error(reg) != NULL, "last_error NULL");
    CHECK(seg_tagreg_id_at(reg, n) == 0 && seg_tagreg_id_at(reg, (size_t)-1) == 0,
          "id_at past the end is not 0");
    CHECK(seg_tagreg_name(reg, 0) == NULL && seg_tagreg_name(reg, -1) == NULL,
          "name of id 0 / -1 not NULL");
    CHECK(seg_tagreg_alias_count(reg, 0) == 0, "alias_count of id 0");
    {
        int32_t v = -77;
        CHECK(seg_tagreg_code(reg, 0, SEG_TAG_KIND, &v) == SEG_ENOTFOUND && v == -77,
              "code of id 0 not SEG_ENOTFOUND / touched");
    }
    int32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = seg_tagreg_id_at(reg, i);
        CHECK(id > prev, "id_at(%zu) = %d after %d", i, (int)id, (int)prev);
        prev = id;
        const char *name = seg_tagreg_name(reg, id);
        CHECK(name != NULL && strlen(name) <= SEG_TAG_NAME_MAX, "tag %d name", (int)id);
        char *key = fz_xmalloc(strlen(name) + 1);
        size_t kl = 0;
        CHECK(check_normalize(name, key, &kl), "registered name '%s' does not normalise", name);
        int32_t got = -1;
        CHECK(seg_tagreg_find(reg, name, &got) == SEG_OK && got == id, "find('%s') gave %d, not %d",
              name, (int)got, (int)id);
        got = -1;
        CHECK(seg_tagreg_find(reg, key, &got) == SEG_OK && got == id,
              "find(key '%s') gave %d, not %d", key, (int)got, (int)id);
        free(key);
        size_t na = seg_tagreg_alias_count(reg, id);
        for (size_t k = 0; k < na; k++) {
            const char *a = seg_tagreg_alias(reg, id, k);
            CHECK(a != NULL && strlen(a) <= SEG_TAG_NAME_MAX, "tag %d alias %zu", (int)id, k);
            char *ak = fz_xmalloc(strlen(a) + 1);
            CHECK(check_normalize(a, ak, &kl), "alias '%s' does not normalise", a);
            free(ak);
            got = -1;
            CHECK(seg_tagreg_find(reg, a, &got) == SEG_OK && got == id,
                  "find(alias '%s') gave %d, not %d", a, (int)got, (int)id);
        }
        CHECK(seg_tagreg_alias(reg, id, na) == NULL, "alias past the end not NULL");

        int32_t kind = -1, source = -1, status = -1;
        CHECK(seg_tagreg_code(reg, id, SEG_TAG_KIND, &kind) == SEG_OK && kind >= SEG_TAG_FACT &&
                  kind <= SEG_TAG_MODEL,
              "tag %d kind %d", (int)id, (int)kind);
        CHECK(seg_tagreg_code(reg, id, SEG_TAG_SOURCE, &source) == SEG_OK &&
                  (source == SEG_TAG_MANUAL || source == SEG_TAG_DERIVED),
              "tag %d source %d", (int)id, (int)source);
        CHECK(seg_tagreg_code(reg, id, SEG_TAG_STATUS, &status) == SEG_OK &&
                  status >= SEG_TAG_DRAFT && status <= SEG_TAG_DISABLED,
              "tag %d status %d", (int)id, (int)status);
        int32_t v = -77;
        CHECK(seg_tagreg_code(reg, id, 0, &v) == SEG_EINVAL && v == -77 &&
                  seg_tagreg_code(reg, id, 4, &v) == SEG_EINVAL && v == -77,
              "code with an unknown field not SEG_EINVAL / touched");
        CHECK(seg_tagreg_code(reg, id, SEG_TAG_KIND, NULL) == SEG_EINVAL, "code with NULL out");

        const char *cat = seg_tagreg_text(reg, id, SEG_TAG_CATEGORY);
        const char *desc = seg_tagreg_text(reg, id, SEG_TAG_DESCRIPTION);
        const char *owner = seg_tagreg_text(reg, id, SEG_TAG_OWNER);
        const char *group = seg_tagreg_text(reg, id, SEG_TAG_GROUP);
        const char *rule = seg_tagreg_text(reg, id, SEG_TAG_RULE_TEXT);
        CHECK(cat && desc && owner && group && rule, "tag %d: a NULL text attribute", (int)id);
        CHECK(seg_tagreg_text(reg, id, 0) == NULL && seg_tagreg_text(reg, id, 6) == NULL,
              "text with an unknown field not NULL");
        CHECK(strlen(cat) <= SEG_TAG_TEXT_MAX && strlen(owner) <= SEG_TAG_TEXT_MAX &&
                  strlen(rule) <= SEG_TAG_TEXT_MAX && strlen(desc) <= SEG_TAG_DESC_MAX &&
                  strlen(group) <= SEG_TAG_NAME_MAX,
              "tag %d: a text attribute over its limit", (int)id);
        CHECK((kind == SEG_TAG_RULE) == (rule[0] != '\0'),
              "tag %d: kind %d with rule text '%s'", (int)id, (int)kind, rule);
        if (*cat) {
            int levels = 1;
            const char *p = cat;
            for (;;) {
                const char *slash = strchr(p, '/');
                size_t l = slash ? (size_t)(slash - p) : strlen(p);
                CHECK(l > 0 && p[0] != ' ' && p[l - 1] != ' ',
                      "tag %d: category '%s' has an empty or padded level", (int)id, cat);
                if (!slash)
                    break;
                p = slash + 1;
                levels++;
            }
            CHECK(levels <= SEG_TAG_CATEGORY_DEPTH, "tag %d: category '%s' has %d levels",
                  (int)id, cat, levels);
        }
        if (*group) {
            char *gk = fz_xmalloc(strlen(group) + 1);
            CHECK(check_normalize(group, gk, &kl), "group '%s' does not normalise", group);
            free(gk);
        }
    }
    {
        size_t all = 0;
        CHECK(seg_tagreg_list(reg, "", NULL, 0, &all) == SEG_OK && all == n,
              "list(\"\") counted %zu of %zu tags", all, n);
        CHECK(seg_tagreg_list(reg, "", NULL, 1, &all) == SEG_EINVAL, "list NULL ids cap 1");
        size_t s = 0;
        CHECK(seg_tagreg_suggest(reg, "x", NULL, 1, &s) == SEG_EINVAL, "suggest NULL ids cap 1");
        int32_t idx = -5;
        CHECK(seg_tagreg_find(reg, NULL, &idx) == SEG_EINVAL && idx == -5, "find(NULL)");
    }

    /* Oracles on names, aliases, categories and the input's lines: on
     * ORACLE_TAGS consecutive tags from a place the input's hash picks
     * (suggest is O(tags^2); every tag is reached across inputs). */
    size_t oracle_tags = n < ORACLE_TAGS ? n : ORACLE_TAGS, start = 0;
    if (n > ORACLE_TAGS) {
        uint32_t hh = 2166136261u;
        for (size_t i = 0; i < size; i++)
            hh = (hh ^ (unsigned char)input[i]) * 16777619u;
        start = hh % n;
    }
    for (size_t j = 0; j < oracle_tags; j++) {
        int32_t id = seg_tagreg_id_at(reg, (start + j) % n);
        const char *name = seg_tagreg_name(reg, id);
        check_suggest(reg, name);
        if (seg_tagreg_alias_count(reg, id) > 0)
            check_suggest(reg, seg_tagreg_alias(reg, id, 0));
        /* the name missing its last code point, and with one appended */
        size_t l = strlen(name);
        char *mut = fz_xmalloc(l + 8);
        memcpy(mut, name, l + 1);
        size_t cut = l;
        while (cut > 0 && ((unsigned char)mut[cut - 1] & 0xC0) == 0x80)
            cut--;
        if (cut > 1) {
            mut[cut - 1] = '\0';
            check_suggest(reg, mut);
        }
        memcpy(mut, name, l);
        memcpy(mut + l, "q", 2);
        check_suggest(reg, mut);
        free(mut);

        const char *cat = seg_tagreg_text(reg, id, SEG_TAG_CATEGORY);
        check_list(reg, cat);
        const char *slash = strchr(cat, '/');
        if (slash) {
            char *first = fz_xmalloc((size_t)(slash - cat) + 1);
            memcpy(first, cat, (size_t)(slash - cat));
            first[slash - cat] = '\0';
            check_list(reg, first);
            free(first);
        }
    }
    check_list(reg, "");
    /* Each input line as a name, a suggestion query and a prefix. */
    size_t b = 0, lines = 0;
    while (b < size && lines < 24) {
        size_t e = b;
        while (e < size && input[e] != '\n' && input[e] != '\0')
            e++;
        char *line = fz_xmalloc(e - b + 1);
        memcpy(line, input + b, e - b);
        line[e - b] = '\0';
        char *k = fz_xmalloc(e - b + 1);
        size_t kl = 0;
        (void)check_normalize(line, k, &kl);
        free(k);
        if (lines < 3) {
            check_suggest(reg, line);
            check_list(reg, line);
        }
        free(line);
        lines++;
        b = e + 1;
    }
}

/* ------------------------------------------------------------------------
 * Rebuilding through the setters
 * ---------------------------------------------------------------------- */

static long saved_next_id(const char *text)
{
    const char *p = strstr(text, "\nnext_id ");
    CHECK(p != NULL, "saved text has no next_id line");
    return strtol(p + 9, NULL, 10);
}

static void check_rebuild(const seg_tagreg *reg, const char *saved, size_t saved_len)
{
    seg_tagreg *c = NULL;
    CHECK(seg_tagreg_new(&c, NULL) == SEG_OK && c != NULL, "seg_tagreg_new");
    CHECK(seg_tagreg_is_frozen(c) == 0, "a new registry is frozen");
    const size_t n = seg_tagreg_count(reg);
    int32_t max_id = n ? seg_tagreg_id_at(reg, n - 1) : 0;
    /* next_id: add a placeholder just below it and remove it. */
    long next = saved_next_id(saved);
    CHECK(next > max_id, "next_id %ld (max id %d)", next, (int)max_id);
    /* Beyond the last id + 1 the setters cannot reproduce it. */
    const int exact_next = next <= (long)SEG_TAG_ID_MAX + 1L;
    if (exact_next && next - 1 > max_id) {
        char dummy[64];
        int32_t got = 0;
        for (int k = 0;; k++) {
            snprintf(dummy, sizeof dummy, "fuzz placeholder %d", k);
            if (seg_tagreg_find(reg, dummy, &got) == SEG_ENOTFOUND)
                break;
        }
        int32_t rc = seg_tagreg_add(c, (int32_t)(next - 1), dummy, &got);
        CHECK(rc == SEG_OK && got == next - 1, "placeholder add gave %d: %s", (int)rc,
              seg_tagreg_last_error(c));
        rc = seg_tagreg_remove(c, got);
        CHECK(rc == SEG_OK, "placeholder remove gave %d: %s", (int)rc, seg_tagreg_last_error(c));
        CHECK(seg_tagreg_name(c, got) == NULL, "removed tag still named");
        CHECK(seg_tagreg_remove(c, got) == SEG_ENOTFOUND, "removing twice");
    }
    for (size_t i = 0; i < n; i++) {
        int32_t id = seg_tagreg_id_at(reg, i), got = -1;
        const char *name = seg_tagreg_name(reg, id);
        int32_t rc = seg_tagreg_add(c, id, name, &got);
        CHECK(rc == SEG_OK && got == id, "add(%d, '%s') gave %d: %s", (int)id, name, (int)rc,
              seg_tagreg_last_error(c));
        CHECK(seg_tagreg_last_error(c)[0] == '\0', "last_error not empty after a success");
        /* The same name again, under another id or as an alias. */
        rc = seg_tagreg_add(c, 0, name, NULL);
        CHECK((rc == SEG_EEXISTS || (rc == SEG_ERANGE && next > SEG_TAG_ID_MAX)) &&
                  seg_tagreg_last_error(c)[0] != '\0',
              "adding '%s' twice gave %d", name, (int)rc);
        rc = seg_tagreg_add(c, id, "fuzz-unused-name-\xe6\xa0\x87", NULL);
        CHECK(rc == SEG_EEXISTS || rc == SEG_OK, "adding id %d twice gave %d", (int)id, (int)rc);
        CHECK(rc == SEG_EEXISTS, "id %d added twice", (int)id);
        size_t na = seg_tagreg_alias_count(reg, id);
        for (size_t k = 0; k < na; k++) {
            const char *a = seg_tagreg_alias(reg, id, k);
            rc = seg_tagreg_add_alias(c, id, a);
            CHECK(rc == SEG_OK, "add_alias(%d, '%s') gave %d: %s", (int)id, a, (int)rc,
                  seg_tagreg_last_error(c));
        }
        if (na > 0) {
            rc = seg_tagreg_add_alias(c, id, seg_tagreg_alias(reg, id, 0));
            CHECK(rc == SEG_EEXISTS, "an alias added twice gave %d", (int)rc);
        }
        rc = seg_tagreg_add_alias(c, id, name);
        CHECK(rc == SEG_EEXISTS, "the tag's own name as alias gave %d", (int)rc);
        static const int32_t fields[] = {SEG_TAG_CATEGORY, SEG_TAG_DESCRIPTION, SEG_TAG_OWNER,
                                         SEG_TAG_GROUP, SEG_TAG_RULE_TEXT};
        for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
            const char *t = seg_tagreg_text(reg, id, fields[f]);
            if (*t) {
                rc = seg_tagreg_set_text(c, id, fields[f], t);
                CHECK(rc == SEG_OK, "set_text(%d, %d, '%s') gave %d: %s", (int)id,
                      (int)fields[f], t, (int)rc, seg_tagreg_last_error(c));
            }
        }
        int32_t kind = 0, source = 0, status = 0;
        seg_tagreg_code(reg, id, SEG_TAG_KIND, &kind);
        seg_tagreg_code(reg, id, SEG_TAG_SOURCE, &source);
        seg_tagreg_code(reg, id, SEG_TAG_STATUS, &status);
        int32_t ck = -1;
        CHECK(seg_tagreg_code(c, id, SEG_TAG_KIND, &ck) == SEG_OK &&
                  ck == (kind == SEG_TAG_RULE ? SEG_TAG_RULE : SEG_TAG_FACT),
              "kind after set_text: %d", (int)ck);
        if (kind == SEG_TAG_RULE) {
            int32_t cs = -1;
            CHECK(seg_tagreg_code(c, id, SEG_TAG_SOURCE, &cs) == SEG_OK && cs == SEG_TAG_DERIVED,
                  "setting a rule did not make the source derived");
            rc = seg_tagreg_set_code(c, id, SEG_TAG_KIND, SEG_TAG_FACT);
            CHECK(rc == SEG_ESTATE, "kind fact on a tag with a rule gave %d", (int)rc);
            rc = seg_tagreg_set_code(c, id, SEG_TAG_KIND, SEG_TAG_MODEL);
            CHECK(rc == SEG_ESTATE, "kind model on a tag with a rule gave %d", (int)rc);
        }
        if (kind == SEG_TAG_MODEL)
            CHECK(seg_tagreg_set_code(c, id, SEG_TAG_KIND, SEG_TAG_MODEL) == SEG_OK, "kind model");
        CHECK(seg_tagreg_set_code(c, id, SEG_TAG_SOURCE, source) == SEG_OK, "source");
        CHECK(seg_tagreg_set_code(c, id, SEG_TAG_STATUS, status) == SEG_OK, "status");
        CHECK(seg_tagreg_set_code(c, id, SEG_TAG_STATUS, 4) == SEG_EINVAL, "status 4");
        CHECK(seg_tagreg_set_code(c, id, 9, 0) == SEG_EINVAL, "field 9");
        CHECK(seg_tagreg_set_text(c, id, 9, "x") == SEG_EINVAL, "text field 9");
    }
    /* Renames to the first alias and back leave the tag as it was. */
    for (size_t i = 0; i < n; i++) {
        int32_t id = seg_tagreg_id_at(reg, i);
        size_t na = seg_tagreg_alias_count(reg, id);
        if (na == 0)
            continue;
        const char *name = seg_tagreg_name(reg, id), *a0 = seg_tagreg_alias(reg, id, 0);
        int32_t rc = seg_tagreg_rename(c, id, a0);
        CHECK(rc == SEG_OK, "rename(%d, '%s') gave %d: %s", (int)id, a0, (int)rc,
              seg_tagreg_last_error(c));
        CHECK(strcmp(seg_tagreg_name(c, id), a0) == 0 && seg_tagreg_alias_count(c, id) == na &&
                  strcmp(seg_tagreg_alias(c, id, 0), name) == 0,
              "after rename(%d, '%s'): name '%s', %zu aliases, first '%s'", (int)id, a0,
              seg_tagreg_name(c, id), seg_tagreg_alias_count(c, id),
              nn(seg_tagreg_alias(c, id, 0)));
        int32_t got = -1;
        CHECK(seg_tagreg_find(c, name, &got) == SEG_OK && got == id, "old name lost");
        rc = seg_tagreg_rename(c, id, name);
        CHECK(rc == SEG_OK, "rename back gave %d: %s", (int)rc, seg_tagreg_last_error(c));
        CHECK(strcmp(seg_tagreg_name(c, id), name) == 0 && seg_tagreg_alias_count(c, id) == na &&
                  strcmp(seg_tagreg_alias(c, id, 0), a0) == 0,
              "rename there and back changed tag %d", (int)id);
    }
    int32_t rc = seg_tagreg_freeze(c);
    CHECK(rc == SEG_OK, "freezing the rebuilt registry gave %d: %s", (int)rc,
          seg_tagreg_last_error(c));
    CHECK(seg_tagreg_freeze(c) == SEG_OK && seg_tagreg_is_frozen(c) == 1, "freeze twice");
    size_t len = 0;
    char *text = save_text(c, &len);
    if (exact_next && (len != saved_len || memcmp(text, saved, len) != 0)) {
        fprintf(stderr, "loaded registry saves:\n");
        fz_print_escaped(stderr, saved, saved_len);
        fprintf(stderr, "\nrebuilt registry saves:\n");
        fz_print_escaped(stderr, text, len);
        fputc('\n', stderr);
    }
    CHECK(!exact_next || (len == saved_len && memcmp(text, saved, len) == 0),
          "the registry rebuilt through the setters saves differently");
    check_same_registry(reg, c, "rebuilt");
    /* Frozen: every setter refuses, nothing changes. */
    if (n > 0) {
        int32_t id = seg_tagreg_id_at(c, 0);
        CHECK(seg_tagreg_add(c, 0, "fuzz frozen add", NULL) == SEG_ESTATE, "add when frozen");
        CHECK(seg_tagreg_add_alias(c, id, "fuzz frozen alias") == SEG_ESTATE, "alias frozen");
        CHECK(seg_tagreg_rename(c, id, "fuzz frozen rename") == SEG_ESTATE, "rename frozen");
        CHECK(seg_tagreg_remove(c, id) == SEG_ESTATE, "remove frozen");
        CHECK(seg_tagreg_set_text(c, id, SEG_TAG_OWNER, "x") == SEG_ESTATE, "set_text frozen");
        CHECK(seg_tagreg_set_code(c, id, SEG_TAG_STATUS, SEG_TAG_ONLINE) == SEG_ESTATE,
              "set_code frozen");
        size_t len2 = 0;
        char *text2 = save_text(c, &len2);
        CHECK(len2 == len && memcmp(text2, text, len) == 0, "refused setters changed the text");
        free(text2);
    }
    free(text);
    seg_tagreg_free(c);
}

/* ------------------------------------------------------------------------
 * The tag-set part
 * ---------------------------------------------------------------------- */

typedef struct tr_frame_data {
    double aum[TR_ROWS], x[TR_ROWS], spend[TR_ROWS], online[TR_ROWS];
    int32_t txn[TR_ROWS], age[TR_ROWS], orders[TR_ROWS];
    int64_t y[TR_ROWS];
    const char *city[TR_ROWS];
    uint8_t txn_valid[(TR_ROWS + 7) / 8];
} tr_frame_data;

static const seg_frame *tr_frame(void)
{
    static tr_frame_data d;
    static seg_frame *f;
    static const char *const cities[] = {"上海", "北京", "gold", ""};
    if (f)
        return f;
    uint64_t st = 777;
    for (size_t i = 0; i < TR_ROWS; i++) {
        uint64_t r = fz_lcg(&st);
        d.aum[i] = (r % 13 == 0) ? NAN : (double)(r % 2000000);
        d.x[i] = (double)(fz_lcg(&st) % 100) / 10.0 - 5.0;
        d.txn[i] = (int32_t)(fz_lcg(&st) % 25);
        d.age[i] = 18 + (int32_t)(fz_lcg(&st) % 60);
        d.y[i] = (int64_t)(fz_lcg(&st) % 1000) - 500;
        d.city[i] = (i % 7 == 0) ? NULL : cities[fz_lcg(&st) % 4];
        d.orders[i] = (int32_t)(fz_lcg(&st) % 30);
        d.spend[i] = (i % 17 == 0) ? NAN : (double)(fz_lcg(&st) % 50000);
        d.online[i] = (double)(fz_lcg(&st) % 101) / 100.0;
        if (i % 11 != 0)
            d.txn_valid[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    FZ_OK(seg_frame_new(&f, TR_ROWS, NULL));
    FZ_OK(seg_frame_add_double(f, "aum", d.aum, NULL));
    FZ_OK(seg_frame_add_int32(f, "txn_90d", d.txn, d.txn_valid));
    FZ_OK(seg_frame_add_double(f, "x", d.x, NULL));
    FZ_OK(seg_frame_add_int64(f, "y", d.y, NULL));
    FZ_OK(seg_frame_add_int32(f, "age", d.age, NULL));
    FZ_OK(seg_frame_add_string(f, "city", d.city, NULL));
    /* the columns of examples/data/tags.txt's rules */
    FZ_OK(seg_frame_add_int32(f, "orders_365d", d.orders, NULL));
    FZ_OK(seg_frame_add_double(f, "spend_365d", d.spend, NULL));
    FZ_OK(seg_frame_add_double(f, "online_share", d.online, NULL));
    return f;
}

typedef struct tr_tag {
    int32_t id, kind, status;
    int group; /* index of the group key, or -1 */
} tr_tag;

typedef struct tr_ctx {
    const seg_tagreg *reg;
    size_t n;      /* tags */
    tr_tag *tags;  /* n */
    uint8_t *ref;  /* n * TR_ROWS: the reference the setters are checked against */
    char **groups; /* distinct normalised group keys */
    size_t n_groups;
} tr_ctx;

static void ctx_init(tr_ctx *c, const seg_tagreg *reg)
{
    memset(c, 0, sizeof *c);
    c->reg = reg;
    c->n = seg_tagreg_count(reg);
    c->tags = fz_xmalloc((c->n + 1) * sizeof *c->tags);
    c->ref = fz_xmalloc(c->n * TR_ROWS + 1);
    memset(c->ref, 0, c->n * TR_ROWS + 1);
    c->groups = fz_xmalloc((c->n + 1) * sizeof *c->groups);
    for (size_t t = 0; t < c->n; t++) {
        tr_tag *g = &c->tags[t];
        g->id = seg_tagreg_id_at(reg, t);
        seg_tagreg_code(reg, g->id, SEG_TAG_KIND, &g->kind);
        seg_tagreg_code(reg, g->id, SEG_TAG_STATUS, &g->status);
        g->group = -1;
        const char *grp = seg_tagreg_text(reg, g->id, SEG_TAG_GROUP);
        if (*grp) {
            char *k = key_of(grp);
            for (size_t j = 0; j < c->n_groups; j++)
                if (strcmp(c->groups[j], k) == 0)
                    g->group = (int)j;
            if (g->group < 0) {
                g->group = (int)c->n_groups;
                c->groups[c->n_groups++] = k;
            } else {
                free(k);
            }
        }
    }
}

static void ctx_free(tr_ctx *c)
{
    for (size_t j = 0; j < c->n_groups; j++)
        free(c->groups[j]);
    free(c->groups);
    free(c->tags);
    free(c->ref);
}

/* Reference: set/clear tag t on one row with exclusive groups. */
static void ref_put(tr_ctx *c, size_t t, size_t row, int value)
{
    c->ref[t * TR_ROWS + row] = (uint8_t)value;
    if (value && c->tags[t].group >= 0)
        for (size_t u = 0; u < c->n; u++)
            if (u != t && c->tags[u].group == c->tags[t].group)
                c->ref[u * TR_ROWS + row] = 0;
}

static uint8_t *snapshot(const seg_tagset *set, const tr_ctx *c)
{
    uint8_t *m = fz_xmalloc(c->n * TR_ROWS + 1);
    for (size_t t = 0; t < c->n; t++) {
        int32_t rc = seg_tagset_get_mask(set, c->tags[t].id, m + t * TR_ROWS, TR_ROWS);
        CHECK(rc == SEG_OK, "get_mask(%d) gave %d", (int)c->tags[t].id, (int)rc);
        for (size_t r = 0; r < TR_ROWS; r++)
            CHECK(m[t * TR_ROWS + r] <= 1, "get_mask byte %u", (unsigned)m[t * TR_ROWS + r]);
    }
    return m;
}

static void check_against_ref(const seg_tagset *set, const tr_ctx *c, const char *after)
{
    uint8_t *m = snapshot(set, c);
    for (size_t t = 0; t < c->n; t++)
        for (size_t r = 0; r < TR_ROWS; r++)
            CHECK(m[t * TR_ROWS + r] == c->ref[t * TR_ROWS + r],
                  "after %s: tag %d row %zu is %u, expected %u", after, (int)c->tags[t].id, r,
                  (unsigned)m[t * TR_ROWS + r], (unsigned)c->ref[t * TR_ROWS + r]);
    free(m);
}

static void check_groups(const tr_ctx *c, const uint8_t *m, const char *after)
{
    for (size_t r = 0; r < TR_ROWS; r++)
        for (size_t t = 0; t < c->n; t++) {
            if (c->tags[t].group < 0 || !m[t * TR_ROWS + r])
                continue;
            for (size_t u = t + 1; u < c->n; u++)
                CHECK(!(c->tags[u].group == c->tags[t].group && m[u * TR_ROWS + r]),
                      "after %s: row %zu holds tags %d and %d of group '%s'", after, r,
                      (int)c->tags[t].id, (int)c->tags[u].id, c->groups[c->tags[t].group]);
        }
}

/* Counts, one-tag test, co-occurrence and memory against the masks. */
static void check_reads(const seg_tagset *set, const tr_ctx *c, const uint8_t *m)
{
    size_t k = c->n < 24 ? c->n : 24;
    for (size_t t = 0; t < c->n; t++) {
        int64_t cnt = -1, want = 0;
        for (size_t r = 0; r < TR_ROWS; r++)
            want += m[t * TR_ROWS + r];
        CHECK(seg_tagset_count(set, c->tags[t].id, &cnt) == SEG_OK && cnt == want,
              "count(%d) = %lld, mask has %lld", (int)c->tags[t].id, (long long)cnt,
              (long long)want);
        /* Empty and full chunks store no bytes; 16 bytes per chunk is the
         * overhead tagset.h allows (one chunk here). */
        size_t mem = 12345;
        CHECK(seg_tagset_memory(set, c->tags[t].id, &mem) == SEG_OK, "memory(tag)");
        CHECK((want != 0 && want != TR_ROWS) || mem <= 16,
              "tag %d held by %lld of %d rows uses %zu bytes", (int)c->tags[t].id,
              (long long)want, TR_ROWS, mem);
        /* ... and no tag more than n/8 + 8 + 16 per chunk */
        CHECK(mem <= TR_ROWS / 8 + 8 + 16, "tag %d held by %lld of %d rows uses %zu bytes",
              (int)c->tags[t].id, (long long)want, TR_ROWS, mem);
        int32_t v = -1;
        size_t r = (size_t)(t * 37) % TR_ROWS;
        CHECK(seg_tagset_test(set, c->tags[t].id, (int64_t)r, &v) == SEG_OK &&
                  v == m[t * TR_ROWS + r],
              "test(%d, %zu) = %d", (int)c->tags[t].id, r, (int)v);
    }
    size_t mem = 0;
    CHECK(seg_tagset_memory(set, 0, &mem) == SEG_OK, "memory(0)");
    if (k > 0) {
        int32_t *ids = fz_xmalloc(k * sizeof *ids);
        int64_t *co = fz_xmalloc(k * k * sizeof *co);
        for (size_t i = 0; i < k; i++)
            ids[i] = c->tags[(i * 7) % c->n].id;
        char err[ERR_CAP];
        int32_t rc = seg_tagset_cooccurrence(set, ids, k, co, err, sizeof err);
        CHECK(rc == SEG_OK, "cooccurrence gave %d: %s", (int)rc, err);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) {
                size_t ti = (i * 7) % c->n, tj = (j * 7) % c->n;
                int64_t want = 0;
                for (size_t r = 0; r < TR_ROWS; r++)
                    want += m[ti * TR_ROWS + r] & m[tj * TR_ROWS + r];
                CHECK(co[i * k + j] == want, "cooccurrence(%zu, %zu) = %lld, masks %lld", i, j,
                      (long long)co[i * k + j], (long long)want);
            }
        free(ids);
        free(co);
    }
}

/* Rows of tag t from the input's hash: about one in three. */
static size_t pick_rows(uint32_t h, size_t salt, int64_t *rows)
{
    size_t n = 0;
    for (size_t r = 0; r < TR_ROWS; r++)
        if (mix32(h, (uint32_t)(salt * 1000 + r)) % 3 == 0)
            rows[n++] = (int64_t)r;
    return n;
}

/* The results of one run over a set: statuses and final masks. */
typedef struct tr_run {
    int32_t status[512];
    size_t n_status;
    uint8_t *masks;
} tr_run;

static void record(tr_run *run, int32_t rc)
{
    if (run->n_status < sizeof run->status / sizeof *run->status)
        run->status[run->n_status++] = rc;
}

/* Does rule tag t's rule compile against the frame alone (no tag names)?
 * Then writes its plain evaluation to `out`. */
static size_t g_plain_checked; /* for FUZZ_TAGREG_VERBOSE */

static int plain_rule(const tr_ctx *c, size_t t, uint8_t *out)
{
    const char *text = seg_tagreg_text(c->reg, c->tags[t].id, SEG_TAG_RULE_TEXT);
    seg_rule *rule = NULL;
    if (seg_rule_compile(&rule, text, strlen(text), tr_frame(), NULL, NULL, NULL, 0) != SEG_OK)
        return 0;
    g_plain_checked++;
    char err[ERR_CAP];
    int32_t rc = seg_rule_eval(rule, tr_frame(), 0, TR_ROWS, out, err, sizeof err);
    CHECK(rc == SEG_OK, "seg_rule_eval gave %d: %s", (int)rc, err);
    seg_rule_free(rule);
    return 1;
}

static seg_tagset *new_set(const seg_tagreg *reg)
{
    seg_tagset *set = NULL;
    int32_t rc = seg_tagset_new(&set, reg, TR_ROWS, NULL);
    CHECK(rc == SEG_OK && set != NULL, "tagset_new gave %d", (int)rc);
    return set;
}

/* Runs the tag-set checks on `set` (of c->reg) and frees it. */
static void exercise_set(tr_ctx *c, seg_tagset *set, uint32_t h, tr_run *run,
                         const char *source, const char *text, size_t text_len)
{
    const seg_frame *f = tr_frame();
    char err[ERR_CAP];
    int32_t rc;
    CHECK(seg_tagset_n_rows(set) == TR_ROWS && seg_tagset_registry(set) == c->reg,
          "n_rows / registry");
    int64_t *rows = fz_xmalloc(TR_ROWS * sizeof *rows);
    uint8_t *mask = fz_xmalloc(TR_ROWS);

    /* Fact tags: set_rows, clear some with set, set_mask, reset one. */
    size_t written = 0;
    for (size_t t = 0; t < c->n && written < MAX_SET_TAGS; t++) {
        if (c->tags[t].kind != SEG_TAG_FACT)
            continue;
        written++;
        int32_t id = c->tags[t].id;
        size_t nr = pick_rows(h, t, rows);
        rc = seg_tagset_set_rows(set, id, rows, nr, 1, err, sizeof err);
        CHECK(rc == SEG_OK, "set_rows(%d) gave %d: %s", (int)id, (int)rc, err);
        for (size_t i = 0; i < nr; i++)
            ref_put(c, t, (size_t)rows[i], 1);
        size_t r = mix32(h, (uint32_t)t) % TR_ROWS;
        rc = seg_tagset_set(set, id, (int64_t)r, 0, err, sizeof err);
        CHECK(rc == SEG_OK, "set(%d, %zu, 0) gave %d", (int)id, r, (int)rc);
        ref_put(c, t, r, 0);
        r = (r * 7 + 3) % TR_ROWS;
        rc = seg_tagset_set(set, id, (int64_t)r, 1, err, sizeof err);
        CHECK(rc == SEG_OK, "set(%d, %zu, 1) gave %d", (int)id, r, (int)rc);
        ref_put(c, t, r, 1);
        if ((h >> (t % 32)) & 1) {
            for (size_t i = 0; i < TR_ROWS; i++)
                mask[i] = (uint8_t)(mix32(h ^ 0x55u, (uint32_t)(t * 977 + i)) % 5 == 0 ? 1 + i % 3 : 0);
            int32_t v = (int32_t)((h >> 3) & 1);
            rc = seg_tagset_set_mask(set, id, mask, TR_ROWS, v, err, sizeof err);
            CHECK(rc == SEG_OK, "set_mask(%d) gave %d: %s", (int)id, (int)rc, err);
            for (size_t i = 0; i < TR_ROWS; i++)
                if (mask[i])
                    ref_put(c, t, i, v);
        }
        if (t % 9 == 5) {
            CHECK(seg_tagset_reset(set, id) == SEG_OK, "reset(%d)", (int)id);
            memset(c->ref + t * TR_ROWS, 0, TR_ROWS);
        }
        /* Bad inputs change nothing. */
        int64_t bad[2] = {0, TR_ROWS};
        CHECK(seg_tagset_set_rows(set, id, bad, 2, 1, err, sizeof err) == SEG_EDATA,
              "set_rows with row n_rows");
        bad[1] = -1;
        CHECK(seg_tagset_set_rows(set, id, bad, 2, 1, err, sizeof err) == SEG_EDATA,
              "set_rows with row -1");
        CHECK(seg_tagset_set(set, id, TR_ROWS, 1, err, sizeof err) == SEG_ERANGE, "set row n");
        CHECK(seg_tagset_set(set, id, 0, 2, err, sizeof err) == SEG_EINVAL, "set value 2");
        CHECK(seg_tagset_set_mask(set, id, mask, TR_ROWS - 1, 1, err, sizeof err) == SEG_EINVAL,
              "set_mask short");
    }
    check_against_ref(set, c, "the fact setters");

    /* Model tags through set_labels: label 0 maps to nothing, label k to the
     * k-th model tag. */
    {
        int32_t map[MAX_SET_TAGS + 1];
        size_t nl = 1;
        map[0] = 0;
        for (size_t t = 0; t < c->n && nl <= MAX_SET_TAGS; t++)
            if (c->tags[t].kind == SEG_TAG_MODEL)
                map[nl++] = c->tags[t].id;
        int32_t *labels = fz_xmalloc(TR_ROWS * sizeof *labels);
        for (size_t i = 0; i < TR_ROWS; i++)
            labels[i] = (int32_t)(mix32(h, (uint32_t)(i + 7777)) % (nl + 1)) - 1;
        /* a label out of range: SEG_EDATA, nothing changed */
        int32_t keep = labels[TR_ROWS / 3];
        labels[TR_ROWS / 3] = (int32_t)nl;
        rc = seg_tagset_set_labels(set, labels, TR_ROWS, map, (int32_t)nl, err, sizeof err);
        CHECK(rc == SEG_EDATA, "set_labels with label %zu gave %d", nl, (int)rc);
        labels[TR_ROWS / 3] = keep;
        check_against_ref(set, c, "a refused set_labels");
        rc = seg_tagset_set_labels(set, labels, TR_ROWS, map, (int32_t)nl, err, sizeof err);
        CHECK(rc == SEG_OK, "set_labels gave %d: %s", (int)rc, err);
        for (size_t k = 1; k < nl; k++) {
            size_t t = 0;
            while (c->tags[t].id != map[k])
                t++;
            memset(c->ref + t * TR_ROWS, 0, TR_ROWS);
        }
        for (size_t i = 0; i < TR_ROWS; i++)
            if (labels[i] > 0) {
                size_t t = 0;
                while (c->tags[t].id != map[labels[i]])
                    t++;
                ref_put(c, t, i, 1);
            }
        check_against_ref(set, c, "set_labels");
        free(labels);
    }

    /* Rule tags one at a time, then all. */
    size_t n_rule = 0;
    for (size_t t = 0; t < c->n; t++) {
        if (c->tags[t].kind != SEG_TAG_RULE)
            continue;
        if (n_rule++ >= MAX_RULE_ONE)
            break;
        int32_t id = c->tags[t].id;
        uint8_t *before = snapshot(set, c);
        memset(err, 0, sizeof err);
        rc = seg_tagset_eval_rules(set, f, &id, 1, err, sizeof err);
        record(run, rc);
        if (c->tags[t].status == SEG_TAG_DISABLED)
            CHECK(rc == SEG_ESTATE, "eval_rules on disabled tag %d gave %d", (int)id, (int)rc);
        else
            CHECK(rc == SEG_OK || rc == SEG_EPARSE, "eval_rules(%d) gave %d: %s", (int)id,
                  (int)rc, err);
        uint8_t *after = snapshot(set, c);
        if (rc != SEG_OK) {
            fz_check_msg(err, sizeof err, "eval_rules");
            if (rc == SEG_EPARSE)
                check_position_message(text, text_len, err, source);
            CHECK(memcmp(before, after, c->n * TR_ROWS) == 0,
                  "a failed eval_rules(%d) changed the set", (int)id);
        } else {
            check_groups(c, after, "eval_rules(one)");
            /* Only the tag and (cleared) members of its group change. */
            for (size_t u = 0; u < c->n; u++) {
                if (u == t)
                    continue;
                int same_group = c->tags[u].group >= 0 && c->tags[u].group == c->tags[t].group;
                for (size_t r = 0; r < TR_ROWS; r++) {
                    uint8_t b = before[u * TR_ROWS + r], a = after[u * TR_ROWS + r];
                    CHECK(a == b || (same_group && b == 1 && a == 0 && after[t * TR_ROWS + r]),
                          "eval_rules(%d) changed tag %d on row %zu (%u -> %u)", (int)id,
                          (int)c->tags[u].id, r, (unsigned)b, (unsigned)a);
                }
            }
            uint8_t *plain = fz_xmalloc(TR_ROWS);
            if (plain_rule(c, t, plain))
                for (size_t r = 0; r < TR_ROWS; r++)
                    CHECK(after[t * TR_ROWS + r] == plain[r],
                          "rule tag %d row %zu: %u, its rule alone gives %u", (int)id, r,
                          (unsigned)after[t * TR_ROWS + r], (unsigned)plain[r]);
            free(plain);
        }
        free(before);
        free(after);
    }
    {
        uint8_t *before = snapshot(set, c);
        memset(err, 0, sizeof err);
        rc = seg_tagset_eval_rules(set, f, NULL, 0, err, sizeof err);
        record(run, rc);
        CHECK(rc == SEG_OK || rc == SEG_EPARSE, "eval_rules(all) gave %d: %s", (int)rc, err);
        uint8_t *after = snapshot(set, c);
        if (rc != SEG_OK) {
            fz_check_msg(err, sizeof err, "eval_rules");
            check_position_message(text, text_len, err, source);
            CHECK(memcmp(before, after, c->n * TR_ROWS) == 0,
                  "a failed eval_rules(all) changed the set");
        } else {
            check_groups(c, after, "eval_rules(all)");
            for (size_t t = 0; t < c->n; t++) {
                int evaluated = c->tags[t].kind == SEG_TAG_RULE &&
                                c->tags[t].status != SEG_TAG_DISABLED;
                int grouped = c->tags[t].group >= 0;
                if (!evaluated) {
                    /* Not a rule (or disabled): unchanged, except cleared
                     * by a rule tag of its group. */
                    for (size_t r = 0; r < TR_ROWS; r++) {
                        uint8_t b = before[t * TR_ROWS + r], a = after[t * TR_ROWS + r];
                        CHECK(a == b || (grouped && b == 1 && a == 0),
                              "eval_rules(all) changed non-evaluated tag %d row %zu",
                              (int)c->tags[t].id, r);
                    }
                    continue;
                }
                uint8_t *plain = fz_xmalloc(TR_ROWS);
                if (plain_rule(c, t, plain)) {
                    /* The first evaluated rule tag of a group (in id order)
                     * takes exactly its rule's rows; later ones a subset. */
                    int first = 1;
                    for (size_t u = 0; u < t && grouped; u++)
                        if (c->tags[u].group == c->tags[t].group &&
                            c->tags[u].kind == SEG_TAG_RULE &&
                            c->tags[u].status != SEG_TAG_DISABLED)
                            first = 0;
                    for (size_t r = 0; r < TR_ROWS; r++) {
                        uint8_t a = after[t * TR_ROWS + r];
                        if (first)
                            CHECK(a == plain[r], "rule tag %d row %zu: %u, its rule gives %u",
                                  (int)c->tags[t].id, r, (unsigned)a, (unsigned)plain[r]);
                        else
                            CHECK(!a || plain[r], "rule tag %d row %zu set, its rule is false",
                                  (int)c->tags[t].id, r);
                    }
                }
                free(plain);
            }
        }
        /* Listing a non-rule tag or an unknown id. */
        for (size_t t = 0; t < c->n; t++)
            if (c->tags[t].kind != SEG_TAG_RULE) {
                CHECK(seg_tagset_eval_rules(set, f, &c->tags[t].id, 1, err, sizeof err) ==
                          SEG_ESTATE,
                      "eval_rules on non-rule tag %d", (int)c->tags[t].id);
                break;
            }
        int32_t unknown = !c->n ? 1 : c->tags[c->n - 1].id < SEG_TAG_ID_MAX ? c->tags[c->n - 1].id + 1 : 0;
        if (unknown > 0)
            CHECK(seg_tagset_eval_rules(set, f, &unknown, 1, err, sizeof err) == SEG_ENOTFOUND,
                  "eval_rules on unknown id %d", (int)unknown);
        uint8_t *final = snapshot(set, c);
        CHECK(memcmp(final, after, c->n * TR_ROWS) == 0, "refused eval_rules changed the set");
        check_groups(c, final, "all setters");
        check_reads(set, c, final);
        run->masks = final;
        free(before);
        free(after);
    }

    /* One-tag queries. */
    for (size_t t = 0; t < c->n && t < MAX_SET_TAGS; t++) {
        const char *name = seg_tagreg_name(c->reg, c->tags[t].id);
        if (strchr(name, '`'))
            continue;
        size_t l = strlen(name);
        char *q = fz_xmalloc(l + 3);
        q[0] = '`';
        memcpy(q + 1, name, l);
        q[l + 1] = '`';
        q[l + 2] = '\0';
        seg_query *query = NULL;
        rc = seg_query_compile(&query, q, l + 2, c->reg, NULL, NULL, err, sizeof err);
        if (c->tags[t].status == SEG_TAG_DISABLED) {
            CHECK(rc == SEG_EPARSE, "query naming disabled tag %d gave %d", (int)c->tags[t].id,
                  (int)rc);
        } else {
            CHECK(rc == SEG_OK, "query %s gave %d: %s", q, (int)rc, err);
            int64_t cnt = -1, want = -2;
            CHECK(seg_query_count(query, set, &cnt, err, sizeof err) == SEG_OK &&
                      seg_tagset_count(set, c->tags[t].id, &want) == SEG_OK && cnt == want,
                  "query %s counts %lld, the tag %lld", q, (long long)cnt, (long long)want);
        }
        seg_query_free(query);
        free(q);
    }

    CHECK(seg_tagset_freeze(set) == SEG_OK, "tagset freeze");
    if (c->n > 0) {
        CHECK(seg_tagset_set(set, c->tags[0].id, 0, 1, err, sizeof err) == SEG_ESTATE,
              "set on a frozen set");
        CHECK(seg_tagset_eval_rules(set, f, NULL, 0, err, sizeof err) == SEG_ESTATE,
              "eval_rules on a frozen set");
    }
    free(rows);
    free(mask);
    seg_tagset_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_xmalloc(size);
    memcpy(text, data, size);

    char err[ERR_CAP];
    memset(err, 0xAA, sizeof err);
    seg_tagreg *reg = (seg_tagreg *)(uintptr_t)0x1; /* canary */
    int32_t rc = seg_tagreg_load(&reg, text, size, "fuzz", NULL, err, sizeof err);
    CHECK(rc == SEG_OK || rc == SEG_EPARSE || rc == SEG_EVERSION, "load returned %d", (int)rc);
    if (rc != SEG_OK)
        fz_check_msg(err, sizeof err, "load");
    {
        seg_tagreg *r2 = NULL;
        char *one = fz_xmalloc(1);
        one[0] = 'Z';
        int32_t rc1 = seg_tagreg_load(&r2, text, size, "fuzz", NULL, one, 1);
        CHECK(rc1 == rc, "err_cap 1 gives %d, err_cap %d gives %d", (int)rc1, ERR_CAP, (int)rc);
        CHECK(rc1 == SEG_OK || one[0] == '\0', "err_cap 1: buffer not emptied");
        seg_tagreg_free(r2);
        r2 = NULL;
        one[0] = 'Z';
        int32_t rc0 = seg_tagreg_load(&r2, text, size, "fuzz", NULL, one, 0);
        CHECK(rc0 == rc, "err_cap 0 gives %d", (int)rc0);
        CHECK(one[0] == 'Z', "err_cap 0: buffer written");
        seg_tagreg_free(r2);
        r2 = NULL;
        int32_t rcn = seg_tagreg_load(&r2, text, size, NULL, NULL, NULL, 0);
        CHECK(rcn == rc, "NULL err_buf gives %d", (int)rcn);
        seg_tagreg_free(r2);
        free(one);
    }
    if (rc != SEG_OK) {
        CHECK(reg == (seg_tagreg *)(uintptr_t)0x1, "failure touched *out");
        check_position_message(text, size, err, "fuzz");
        /* Every line is still a name to normalise. */
        size_t b = 0, lines = 0;
        while (b < size && lines < 24) {
            size_t e = b;
            while (e < size && text[e] != '\n' && text[e] != '\0')
                e++;
            char *line = fz_xmalloc(e - b + 1);
            memcpy(line, text + b, e - b);
            line[e - b] = '\0';
            char *k = fz_xmalloc(e - b + 1);
            size_t kl = 0;
            (void)check_normalize(line, k, &kl);
            free(k);
            free(line);
            lines++;
            b = e + 1;
        }
        free(text);
        return 0;
    }

    check_registry(reg, text, size);

    /* save -> load -> save */
    size_t len1 = 0, len2 = 0;
    char *s1 = save_text(reg, &len1);
    seg_tagreg *reg2 = NULL;
    rc = seg_tagreg_load(&reg2, s1, len1, "saved", NULL, err, sizeof err);
    if (rc != SEG_OK) {
        fprintf(stderr, "saved text:\n");
        fz_print_escaped(stderr, s1, len1);
        fputc('\n', stderr);
    }
    CHECK(rc == SEG_OK, "re-loading the saved text gave %d: %s", (int)rc, err);
    char *s2 = save_text(reg2, &len2);
    if (len1 != len2 || memcmp(s1, s2, len1) != 0) {
        fprintf(stderr, "first save:\n");
        fz_print_escaped(stderr, s1, len1);
        fprintf(stderr, "\nsecond save:\n");
        fz_print_escaped(stderr, s2, len2);
        fputc('\n', stderr);
    }
    CHECK(len1 == len2 && memcmp(s1, s2, len1) == 0, "save(load(save(x))) != save(x)");
    check_same_registry(reg, reg2, "re-loaded");

    check_rebuild(reg, s1, len1);

    /* Tag sets on both registries: same statuses, same bits. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    tr_ctx c1, c2;
    tr_run run1, run2;
    memset(&run1, 0, sizeof run1);
    memset(&run2, 0, sizeof run2);
    ctx_init(&c1, reg);
    ctx_init(&c2, reg2);
    /* The second run (on the re-loaded registry) for one input in four:
     * it doubles the cost of the most expensive part. */
    int both = (h & 3) == 0;
    seg_tagset *set1 = new_set(reg), *set2 = both ? new_set(reg2) : NULL;
    /* The set holds its own reference: release the caller's first. */
    seg_tagreg_free(reg);
    exercise_set(&c1, set1, h, &run1, "fuzz", text, size);
    if (both) {
        exercise_set(&c2, set2, h, &run2, "saved", s1, len1);
        CHECK(run1.n_status == run2.n_status, "runs differ in length");
        for (size_t i = 0; i < run1.n_status; i++)
            CHECK(run1.status[i] == run2.status[i],
                  "eval_rules call %zu: %d on the loaded registry, %d on the re-loaded one", i,
                  (int)run1.status[i], (int)run2.status[i]);
        CHECK(memcmp(run1.masks, run2.masks, c1.n * TR_ROWS) == 0,
              "tag sets on the loaded and the re-loaded registry differ");
    }
    if (getenv("FUZZ_TAGREG_VERBOSE")) {
        fprintf(stderr, "%zu tags, eval_rules statuses:", c1.n);
        for (size_t i = 0; i < run1.n_status; i++)
            fprintf(stderr, " %d", (int)run1.status[i]);
        fprintf(stderr, "; rule tags checked against seg_rule_eval: %zu\n", g_plain_checked);
    }
    free(run1.masks);
    free(run2.masks);
    ctx_free(&c1);
    ctx_free(&c2);

    free(s1);
    free(s2);
    seg_tagreg_free(reg2);
    free(text);
    return 0;
}
