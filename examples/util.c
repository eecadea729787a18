/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libsegment example programs; see util.h. */
#include "util.h"

#include <segment/segment.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

void print_error(const char *msg, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "%s: %s '%s'\n", prog_name, msg, arg);
    else
        fprintf(stderr, "%s: %s\n", prog_name, msg);
}

void error_hint(const char *msg, const char *arg)
{
    print_error(msg, arg);
    fprintf(stderr, "Run '%s --help' for usage.\n", prog_name);
}

int out_of_memory(void)
{
    fprintf(stderr, "%s: out of memory\n", prog_name);
    return EXIT_FAIL;
}

int lib_error(const char *what, int32_t rc, const char *detail)
{
    if (detail != NULL && detail[0] != '\0')
        fprintf(stderr, "%s: %s: %s: %s\n", prog_name, what, seg_status_str(rc), detail);
    else
        fprintf(stderr, "%s: %s: %s\n", prog_name, what, seg_status_str(rc));
    return EXIT_FAIL;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */

int option_is(const char *arg, size_t len, const char *name)
{
    return strlen(name) == len && strncmp(arg, name, len) == 0;
}

/* For argv[*i], an option that must be one of names[0..n_names), each of
 * which takes a value, written "--name=value" or "--name value" (then *i
 * moves past the value): sets *name_len and *value. An unknown option or a
 * missing value calls usage_error and returns EXIT_USAGE. */
static int option_value(int argc, char **argv, int *i, const char *const *names,
                        size_t n_names, void (*usage_error)(const char *msg, const char *arg),
                        size_t *name_len, const char **value)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    size_t k;
    int known = 0;

    for (k = 0; k < n_names; k++)
        if (option_is(arg, len, names[k]))
            known = 1;
    if (!known) {
        usage_error("unknown option", arg);
        return EXIT_USAGE;
    }
    if (eq != NULL) {
        *value = eq + 1;
    } else if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        usage_error("missing value for option", arg);
        return EXIT_USAGE;
    }
    *name_len = len;
    return EXIT_OK;
}

int cmdline_next(struct cmdline *c, const char **arg, size_t *name_len, const char **value)
{
    const char *a;
    size_t k;

    for (;;) {
        if (c->i >= c->argc)
            return ARG_END;
        a = c->argv[c->i++];
        *arg = a;
        if (c->only_operands || a[0] != '-' || a[1] == '\0')
            return ARG_OPERAND;
        if (strcmp(a, "--") != 0)
            break;
        c->only_operands = 1;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
        return ARG_HELP;
    for (k = 0; k < c->n_flags; k++)
        if (strcmp(a, c->flags[k]) == 0)
            return ARG_FLAG;
    c->i--; /* option_value() reads argv[i] and moves past its value */
    if (option_value(c->argc, c->argv, &c->i, c->with_value, c->n_with_value, c->usage_error,
                     name_len, value) != EXIT_OK)
        return ARG_BAD;
    c->i++;
    if ((*value)[0] == '\0') {
        c->usage_error("empty value for option", a);
        return ARG_BAD;
    }
    return ARG_OPTION;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

int parse_number(const char *s, size_t len, size_t max_len, double *out)
{
    char tmp[128];
    char *end;
    size_t i;
    double v;

    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 1;
    if (len > max_len || len >= sizeof tmp)
        return -1;
    for (i = 0; i < len; i++)
        if (s[i] == '\0' || strchr("0123456789+-.eE", s[i]) == NULL)
            return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int text_append(char **text, size_t *text_len, size_t *text_cap, const char *s, size_t len,
                size_t *off)
{
    while (*text_cap - *text_len < len + 1) {
        size_t cap = *text_cap ? *text_cap * 2 : 16384;
        char *p = realloc(*text, cap);
        if (p == NULL)
            return -1;
        *text = p;
        *text_cap = cap;
    }
    memcpy(*text + *text_len, s, len);
    (*text)[*text_len + len] = '\0';
    *off = *text_len;
    *text_len += len + 1;
    return 0;
}

int compare_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

double percent(double part, double total)
{
    return total != 0.0 ? 100.0 * part / total : 0.0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */

size_t display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    while (*p != '\0') {
        unsigned long cp;
        int extra, i;
        if (*p < 0x80) {
            cp = *p;
            extra = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1Fu;
            extra = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0Fu;
            extra = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            cp = *p & 0x07u;
            extra = 3;
        } else {
            p++;
            w++;
            continue;
        }
        p++;
        for (i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++)
            cp = (cp << 6) | (*p & 0x3Fu);
        if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
            (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
            (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
            (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD))
            w += 2;
        else
            w += 1;
    }
    return w;
}

void print_left(const char *s, size_t width)
{
    size_t w = display_width(s);
    fputs(s, stdout);
    while (w++ < width)
        putchar(' ');
}

void write_csv_text(FILE *fp, const char *s, size_t len)
{
    size_t i;
    int quote = 0;
    for (i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = 1;
    if (!quote) {
        fwrite(s, 1, len, fp);
        return;
    }
    putc('"', fp);
    for (i = 0; i < len; i++) {
        if (s[i] == '"')
            putc('"', fp);
        putc(s[i], fp);
    }
    putc('"', fp);
}

void write_csv_double(FILE *fp, double v)
{
    if (!isnan(v))
        fprintf(fp, "%.15g", v);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

int read_file(const char *path, long max_bytes, char **out, size_t *out_len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (fp == NULL) {
        fprintf(stderr, "%s: cannot open '%s': %s\n", prog_name, path, strerror(errno));
        return EXIT_FAIL;
    }
    for (;;) {
        size_t got;
        if (cap - len < 4096) {
            char *p;
            cap = cap ? cap * 2 : 8192;
            if (cap > (size_t)max_bytes) {
                fprintf(stderr, "%s: %s: larger than %ld bytes\n", prog_name, path, max_bytes);
                free(buf);
                fclose(fp);
                return EXIT_FAIL;
            }
            p = realloc(buf, cap);
            if (p == NULL) {
                free(buf);
                fclose(fp);
                return out_of_memory();
            }
            buf = p;
        }
        got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        fprintf(stderr, "%s: reading '%s': %s\n", prog_name, path, strerror(errno));
        free(buf);
        fclose(fp);
        return EXIT_FAIL;
    }
    fclose(fp);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* A table of distinct strings with a hash index                           */

void strtab_free(struct strtab *t)
{
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->slots);
}

static size_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211u;
    }
    return (size_t)(h ^ (h >> 29));
}

const char *strtab_at(const struct strtab *t, size_t i, size_t *len)
{
    if (len != NULL)
        *len = t->len[i];
    return t->text + t->off[i];
}

/* Index of s[0..len), or STRTAB_NONE. */
size_t strtab_find(const struct strtab *t, const char *s, size_t len)
{
    size_t h;
    if (t->n_slots == 0)
        return STRTAB_NONE;
    for (h = hash_bytes(s, len) & (t->n_slots - 1);; h = (h + 1) & (t->n_slots - 1)) {
        size_t k = t->slots[h];
        if (k == 0)
            return STRTAB_NONE;
        if (t->len[k - 1] == len && memcmp(t->text + t->off[k - 1], s, len) == 0)
            return k - 1;
    }
}

/* Adds s[0..len), which must not be in the table; returns its index, or
 * STRTAB_NONE when out of memory. */
size_t strtab_add(struct strtab *t, const char *s, size_t len)
{
    size_t h, i;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        size_t *p = realloc(t->off, cap * sizeof *p);
        if (p == NULL)
            return STRTAB_NONE;
        t->off = p;
        p = realloc(t->len, cap * sizeof *p);
        if (p == NULL)
            return STRTAB_NONE;
        t->len = p;
        t->cap = cap;
    }
    if (2 * (t->n + 1) > t->n_slots) { /* keep the load under one half */
        size_t n_slots = t->n_slots ? t->n_slots * 2 : 2048;
        size_t *slots = calloc(n_slots, sizeof *slots);
        if (slots == NULL)
            return STRTAB_NONE;
        for (i = 0; i < t->n; i++) {
            for (h = hash_bytes(t->text + t->off[i], t->len[i]) & (n_slots - 1); slots[h] != 0;
                 h = (h + 1) & (n_slots - 1))
                ;
            slots[h] = i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->n_slots = n_slots;
    }
    if (text_append(&t->text, &t->text_len, &t->text_cap, s, len, &t->off[t->n]) != 0)
        return STRTAB_NONE;
    t->len[t->n] = len;
    for (h = hash_bytes(s, len) & (t->n_slots - 1); t->slots[h] != 0; h = (h + 1) & (t->n_slots - 1))
        ;
    t->slots[h] = t->n + 1;
    return t->n++;
}
