/* SPDX-License-Identifier: MIT */
/* The one lexer of libsegment's text formats: rule expressions, tier
 * sets and (later) tag queries share its tokens and its positions. */
#ifndef SEG_LEXER_H
#define SEG_LEXER_H

#include <stddef.h>
#include <stdint.h>

typedef enum seg__tok_kind {
    SEG__TOK_END,     /* end of input (or of the current line in line mode) */
    SEG__TOK_NUMBER,  /* 500000, 0.6, 1e6 (sign is an operator) */
    SEG__TOK_STRING,  /* "text" with \" and \\ escapes */
    SEG__TOK_IDENT,   /* ASCII identifier or `any UTF-8` */
    SEG__TOK_LPAREN, SEG__TOK_RPAREN, SEG__TOK_COMMA,
    SEG__TOK_PLUS, SEG__TOK_MINUS, SEG__TOK_STAR, SEG__TOK_SLASH,
    SEG__TOK_EQ, SEG__TOK_NE, SEG__TOK_LT, SEG__TOK_LE, SEG__TOK_GT, SEG__TOK_GE,
    SEG__TOK_NEWLINE, /* only in line mode */
    SEG__TOK_ERROR    /* a malformed token; message in the lexer */
} seg__tok_kind;

typedef struct seg__token {
    seg__tok_kind kind;
    size_t start, len; /* byte span in the text (for strings: including quotes) */
    size_t line, col;  /* 1-based position of the first byte */
    int quoted;        /* identifier written in backquotes */
    double number;     /* value of a NUMBER */
} seg__token;

typedef struct seg__lexer {
    const char *text;
    size_t len, pos;
    size_t line, line_start; /* line_start: offset of the current line's first byte */
    int line_mode;           /* report newlines as tokens */
    int utf8_words;          /* bare words may contain non-ASCII characters (tag
                              * queries); U+3000 counts as a space */
    const char *error;       /* static message for SEG__TOK_ERROR */
} seg__lexer;

/* Starts lexing text[0..len); positions count from line 1, column 1.
 * '#' starts a comment that runs to the end of the line. */
void seg__lex_init(seg__lexer *lx, const char *text, size_t len, int line_mode);

/* Reads the next token. */
seg__token seg__lex_next(seg__lexer *lx);

/* Whether an identifier token (unquoted) spells the keyword kw. */
int seg__tok_is_word(const seg__lexer *lx, const seg__token *t, const char *kw);

/* Copies an identifier's name (backquotes removed) or a string's content
 * (escapes resolved) into buf; returns the needed size including NUL. */
size_t seg__tok_text(const seg__lexer *lx, const seg__token *t, char *buf, size_t cap);

/* Skips blank and comment lines and an optional "<magic> 1" first line;
 * another version is SEG_EVERSION with "source:line:col: ...". */
int32_t seg__lex_skip_header(seg__lexer *lx, const char *magic, const char *source, char *err,
                             size_t cap);

/* Text writers: append to buf while it fits (leaving room for a NUL) and
 * count the full length in *len either way. */
void seg__put(char *buf, size_t cap, size_t *len, const char *s, size_t n);
void seg__put_str(char *buf, size_t cap, size_t *len, const char *s);
/* Writes s in double quotes, escaping '"' and '\\'. */
void seg__put_quoted(char *buf, size_t cap, size_t *len, const char *s);

#endif /* SEG_LEXER_H */
