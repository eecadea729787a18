/* SPDX-License-Identifier: MIT */
/* A small CSV reader for the libsegment examples; see csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader {
    FILE *fp;
    char *path;
    int pending[3]; /* bytes read ahead while looking for a BOM, in order */
    int n_pending;
    int pending_pos;
    long line;        /* current physical line, 1-based */
    long record_line; /* line on which the current record starts */
    char *buf;        /* fields of the current record, each NUL-terminated */
    size_t buf_len, buf_cap;
    size_t *starts, *lens;
    size_t n_fields, fields_cap;
    char err[256];
};

static int next_byte(csv_reader *r)
{
    if (r->pending_pos < r->n_pending)
        return r->pending[r->pending_pos++];
    return getc(r->fp);
}

static int peek_byte(csv_reader *r)
{
    int c = next_byte(r);
    if (c == EOF)
        return EOF;
    if (r->pending_pos > 0 && r->pending_pos <= r->n_pending) {
        r->pending[--r->pending_pos] = c;
        return c;
    }
    return ungetc(c, r->fp);
}

static int put_byte(csv_reader *r, char c)
{
    if (r->buf_len == r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap * 2 : 256;
        char *p = realloc(r->buf, cap);
        if (p == NULL) {
            snprintf(r->err, sizeof r->err, "%s: out of memory", r->path);
            return -1;
        }
        r->buf = p;
        r->buf_cap = cap;
    }
    r->buf[r->buf_len++] = c;
    return 0;
}

static int begin_field(csv_reader *r)
{
    if (r->n_fields == r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        size_t *s = realloc(r->starts, cap * sizeof *s);
        if (s == NULL)
            goto oom;
        r->starts = s;
        s = realloc(r->lens, cap * sizeof *s);
        if (s == NULL)
            goto oom;
        r->lens = s;
        r->fields_cap = cap;
    }
    r->starts[r->n_fields] = r->buf_len;
    r->lens[r->n_fields] = 0;
    r->n_fields++;
    return 0;
oom:
    snprintf(r->err, sizeof r->err, "%s: out of memory", r->path);
    return -1;
}

static int end_field(csv_reader *r)
{
    size_t i = r->n_fields - 1;
    r->lens[i] = r->buf_len - r->starts[i];
    return put_byte(r, '\0');
}

csv_reader *csv_open(const char *path, char *err, size_t cap)
{
    csv_reader *r;
    int c;
    size_t n;

    r = calloc(1, sizeof *r);
    if (r == NULL) {
        if (cap > 0)
            snprintf(err, cap, "out of memory");
        return NULL;
    }
    n = strlen(path);
    r->path = malloc(n + 1);
    if (r->path == NULL) {
        free(r);
        if (cap > 0)
            snprintf(err, cap, "out of memory");
        return NULL;
    }
    memcpy(r->path, path, n + 1);
    r->fp = fopen(path, "rb");
    if (r->fp == NULL) {
        if (cap > 0)
            snprintf(err, cap, "cannot open '%s': %s", path, strerror(errno));
        free(r->path);
        free(r);
        return NULL;
    }
    r->line = 1;
    /* Skip a UTF-8 byte order mark; keep anything else read ahead. */
    while (r->n_pending < 3) {
        static const int bom[3] = {0xEF, 0xBB, 0xBF};
        c = getc(r->fp);
        if (c == EOF)
            break;
        r->pending[r->n_pending++] = c;
        if (c != bom[r->n_pending - 1])
            break;
    }
    if (r->n_pending == 3 && r->pending[0] == 0xEF && r->pending[1] == 0xBB &&
        r->pending[2] == 0xBF)
        r->n_pending = 0;
    return r;
}

void csv_close(csv_reader *r)
{
    if (r == NULL)
        return;
    if (r->fp != NULL)
        fclose(r->fp);
    free(r->buf);
    free(r->starts);
    free(r->lens);
    free(r->path);
    free(r);
}

/* Reads one quoted field's contents after the opening quote. Returns the
 * byte that ended the field (',', '\n' or EOF) or -2 on error. */
static int read_quoted(csv_reader *r)
{
    long open_line = r->line;
    int c;

    for (;;) {
        c = next_byte(r);
        if (c == EOF) {
            if (ferror(r->fp))
                snprintf(r->err, sizeof r->err, "%s: read error", r->path);
            else
                snprintf(r->err, sizeof r->err,
                         "%s:%ld: quoted field not closed before the end of the file", r->path,
                         open_line);
            return -2;
        }
        if (c == '\n')
            r->line++;
        if (c != '"') {
            if (put_byte(r, (char)c) != 0)
                return -2;
            continue;
        }
        c = next_byte(r);
        if (c == '"') {
            if (put_byte(r, '"') != 0)
                return -2;
            continue;
        }
        if (c == '\r' && peek_byte(r) == '\n')
            c = next_byte(r);
        if (c == ',' || c == '\n' || c == EOF)
            return c;
        snprintf(r->err, sizeof r->err, "%s:%ld: unexpected character after a closing quote",
                 r->path, r->line);
        return -2;
    }
}

/* Reads an unquoted field, first byte `c` already read. Same returns. */
static int read_plain(csv_reader *r, int c)
{
    for (;;) {
        if (c == EOF) {
            if (ferror(r->fp)) {
                snprintf(r->err, sizeof r->err, "%s: read error", r->path);
                return -2;
            }
            return EOF;
        }
        if (c == '\r' && peek_byte(r) == '\n')
            c = next_byte(r);
        if (c == ',' || c == '\n')
            return c;
        if (c == '"') {
            snprintf(r->err, sizeof r->err,
                     "%s:%ld: a quote inside an unquoted field (quote the whole field and "
                     "double the quote)",
                     r->path, r->line);
            return -2;
        }
        if (put_byte(r, (char)c) != 0)
            return -2;
        c = next_byte(r);
    }
}

int csv_next(csv_reader *r)
{
    int c, end;

    r->buf_len = 0;
    r->n_fields = 0;
    r->err[0] = '\0';

    /* Skip empty lines. */
    for (;;) {
        c = next_byte(r);
        if (c == '\r' && peek_byte(r) == '\n')
            c = next_byte(r);
        if (c != '\n')
            break;
        r->line++;
    }
    if (c == EOF) {
        if (ferror(r->fp)) {
            snprintf(r->err, sizeof r->err, "%s: read error", r->path);
            return CSV_FAIL;
        }
        return CSV_EOF;
    }
    r->record_line = r->line;
    for (;;) {
        if (begin_field(r) != 0)
            return CSV_FAIL;
        if (c == '"')
            end = read_quoted(r);
        else
            end = read_plain(r, c);
        if (end == -2 || end_field(r) != 0)
            return CSV_FAIL;
        if (end == '\n') {
            r->line++;
            return CSV_ROW;
        }
        if (end == EOF)
            return CSV_ROW;
        c = next_byte(r); /* end == ',': first byte of the next field */
    }
}

size_t csv_nfields(const csv_reader *r)
{
    return r->n_fields;
}

const char *csv_field(const csv_reader *r, size_t i, size_t *len)
{
    if (i >= r->n_fields)
        return NULL;
    if (len != NULL)
        *len = r->lens[i];
    return r->buf + r->starts[i];
}

long csv_line(const csv_reader *r)
{
    return r->record_line;
}

const char *csv_error(const csv_reader *r)
{
    return r->err;
}
