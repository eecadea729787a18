/* SPDX-License-Identifier: MIT */
/*
 * A small CSV reader for the libsegment examples (not part of the library).
 *
 * Reads RFC 4180 style files: fields separated by commas, records ended by LF
 * or CRLF, fields optionally in double quotes, a quote inside a quoted field
 * written as two quotes (""), commas and line breaks allowed inside quotes.
 * A UTF-8 byte order mark at the start of the file is skipped, and so are
 * completely empty lines. A quote inside an unquoted field, text after a
 * closing quote, or a quoted field still open at the end of the file is an
 * error naming the line.
 */
#ifndef EXAMPLES_CSV_H
#define EXAMPLES_CSV_H

#include <stddef.h>

/** Opaque reader. */
typedef struct csv_reader csv_reader;

/** Result of csv_next(). */
enum csv_result {
    CSV_ROW = 1,   /* a record was read */
    CSV_EOF = 0,   /* no more records */
    CSV_FAIL = -1  /* malformed input, read error or out of memory: see csv_error() */
};

/*
 * Opens `path` for reading. Returns NULL on failure and writes a message
 * (e.g. "cannot open 'x.csv': No such file or directory") to err[0..cap).
 */
csv_reader *csv_open(const char *path, char *err, size_t cap);

/* Closes the reader and frees it. NULL is a no-op. */
void csv_close(csv_reader *r);

/* Reads the next record. */
int csv_next(csv_reader *r);

/* Number of fields in the current record. */
size_t csv_nfields(const csv_reader *r);

/*
 * Field `i` of the current record, NUL-terminated, valid until the next
 * csv_next(). `len` (may be NULL) receives its length in bytes (the field
 * may itself contain NUL bytes if the file does). NULL if `i` is out of range.
 */
const char *csv_field(const csv_reader *r, size_t i, size_t *len);

/* Line number (1-based) on which the current record starts. */
long csv_line(const csv_reader *r);

/* Message describing the last CSV_FAIL ("" if none). */
const char *csv_error(const csv_reader *r);

#endif /* EXAMPLES_CSV_H */
