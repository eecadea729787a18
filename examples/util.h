/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the libsegment example programs (crm_rfm, bank_tiers,
 * crm_tags, campaign; not part of the library): messages on stderr,
 * command-line options, number parsing, byte-order comparison, aligned
 * terminal output, CSV output, reading files and tables of strings.
 *
 * Messages start with the program's name: each program defines
 *
 *     const char prog_name[] = "crm_rfm";
 */
#ifndef EXAMPLES_UTIL_H
#define EXAMPLES_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Exit statuses of the example programs. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/** The program's name, for messages (defined by each program). */
extern const char prog_name[];

/* ---- messages (stderr) -------------------------------------------------- */

/* Prints "PROG: MSG 'ARG'", or "PROG: MSG" when `arg` is NULL. */
void print_error(const char *msg, const char *arg);

/* print_error(), then "Run 'PROG --help' for usage." */
void error_hint(const char *msg, const char *arg);

/* Prints "PROG: out of memory"; returns EXIT_FAIL. */
int out_of_memory(void);

/* Prints "PROG: WHAT: STATUS: DETAIL" (": DETAIL" only when `detail` is
 * not NULL or empty) for a library status `rc`; returns EXIT_FAIL. */
int lib_error(const char *what, int32_t rc, const char *detail);

/* ---- command line ------------------------------------------------------- */

/* Whether the first `len` bytes of `arg` are exactly the option `name`. */
int option_is(const char *arg, size_t len, const char *name);

/*
 * The command line of every example, one argument at a time: "-h" and
 * "--help"; flags (options without a value); options with a value,
 * "--name=value" or "--name value"; operands (any argument that does not
 * start with '-', and "-" itself); after "--", every argument is an
 * operand. Initialise all fields in order (i = 1, only_operands = 0),
 * then call cmdline_next() until it returns ARG_END.
 */
struct cmdline {
    int argc;
    char **argv;
    const char *const *flags; /* options without a value */
    size_t n_flags;
    const char *const *with_value; /* options that take one */
    size_t n_with_value;
    /* Called with a message and the argument for ARG_BAD. */
    void (*usage_error)(const char *msg, const char *arg);
    int i;             /* the next argument */
    int only_operands; /* set after "--" */
};

enum { ARG_END, ARG_HELP, ARG_OPERAND, ARG_FLAG, ARG_OPTION, ARG_BAD };

/*
 * The next item of the command line. *arg is the argument as written (for
 * ARG_OPERAND, ARG_FLAG, ARG_OPTION and ARG_BAD); for ARG_OPTION,
 * *name_len is the length of the option's name in it (test it with
 * option_is()) and *value its value. ARG_BAD: an unknown option, or one
 * whose value is missing or empty; usage_error has been called.
 */
int cmdline_next(struct cmdline *c, const char **arg, size_t *name_len, const char **value);

/* ---- values ------------------------------------------------------------- */

/*
 * A finite decimal number in s[0..len) (digits, sign, '.', exponent; no
 * NUL), blanks and tabs around it allowed, at most `max_len` bytes once
 * they are trimmed. Returns 0 and sets *out, 1 for a blank field (*out
 * untouched), or -1.
 */
int parse_number(const char *s, size_t len, size_t max_len, double *out);

/*
 * Appends s[0..len) and a NUL to the text buffer *text (*text_len bytes
 * used of *text_cap; the buffer doubles as needed, from 16 KiB) and sets
 * *off to the offset of the copy. Returns 0, or -1 when out of memory (then
 * nothing changes).
 */
int text_append(char **text, size_t *text_len, size_t *text_cap, const char *s, size_t len,
                size_t *off);

/* memcmp order of two byte strings; a proper prefix sorts first. */
int compare_bytes(const char *a, size_t la, const char *b, size_t lb);

/* 100 * part / total, or 0 when total is 0. */
double percent(double part, double total);

/* ---- output ------------------------------------------------------------- */

/* Terminal columns taken by UTF-8 text: 2 for East Asian wide characters. */
size_t display_width(const char *s);

/* Writes `s` to stdout padded with spaces to `width` display columns. */
void print_left(const char *s, size_t width);

/* One CSV field: quoted (with "" for a quote) when it holds a comma, a
 * quote or a line break. */
void write_csv_text(FILE *fp, const char *s, size_t len);

/* A number with 15 significant digits (what a double holds reliably in
 * decimal, so 50000 - 14569.77 prints as 35430.23, not
 * 35430.229999999996); NaN as an empty field. */
void write_csv_double(FILE *fp, double v);

/* ---- files ---------------------------------------------------------------- */

/* Reads a whole file (at most max_bytes) into a NUL-terminated buffer the
 * caller frees; prints the reason and returns EXIT_FAIL on failure. */
int read_file(const char *path, long max_bytes, char **out, size_t *out_len);

/* ---- a table of distinct strings (ids, spellings) --------------------------- */

/* Strings numbered 0, 1, ... in the order they are added, with a hash index. */
struct strtab {
    char *text; /* the strings, each followed by a NUL */
    size_t text_len, text_cap;
    size_t *off, *len;
    size_t n, cap;
    size_t *slots; /* index + 1, or 0 for an empty slot */
    size_t n_slots;
};

/* Returned by strtab_find() and strtab_add() for "none" / out of memory. */
#define STRTAB_NONE ((size_t)-1)

void strtab_free(struct strtab *t);
/* String i (NUL-terminated) and, if len is not NULL, its length. */
const char *strtab_at(const struct strtab *t, size_t i, size_t *len);
/* Index of s[0..len), or STRTAB_NONE. */
size_t strtab_find(const struct strtab *t, const char *s, size_t len);
/* Adds s[0..len), which must not be in the table: its index, or
 * STRTAB_NONE when out of memory. */
size_t strtab_add(struct strtab *t, const char *s, size_t len);

#endif /* EXAMPLES_UTIL_H */
