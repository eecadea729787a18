/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "seg-private.h"

void seg__lex_init(seg__lexer *lx, const char *text, size_t len, int line_mode)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->line_start = 0;
    lx->line_mode = line_mode;
    lx->utf8_words = 0;
    lx->error = NULL;
}

static int is_ident_start(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static seg__token make(const seg__lexer *lx, seg__tok_kind k, size_t start)
{
    seg__token t;
    memset(&t, 0, sizeof t);
    t.kind = k;
    t.start = start;
    t.len = lx->pos - start;
    t.line = lx->line;
    t.col = start - lx->line_start + 1;
    return t;
}

static seg__token error_at(seg__lexer *lx, size_t start, const char *msg)
{
    lx->error = msg;
    seg__token t = make(lx, SEG__TOK_ERROR, start);
    if (t.len == 0 && start < lx->len)
        t.len = 1;
    return t;
}

seg__token seg__lex_next(seg__lexer *lx)
{
    const char *s = lx->text;
    for (;;) {
        if (lx->pos >= lx->len)
            return make(lx, SEG__TOK_END, lx->pos);
        char c = s[lx->pos];
        if (c == '#') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        if (c == '\n') {
            size_t start = lx->pos++;
            if (lx->line_mode) {
                seg__token t = make(lx, SEG__TOK_NEWLINE, start);
                lx->line++;
                lx->line_start = lx->pos;
                return t;
            }
            lx->line++;
            lx->line_start = lx->pos;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->pos++;
            continue;
        }
        if (lx->utf8_words && lx->len - lx->pos >= 3 && memcmp(s + lx->pos, "\xe3\x80\x80", 3) == 0) {
            lx->pos += 3; /* U+3000 IDEOGRAPHIC SPACE */
            continue;
        }
        break;
    }
    size_t start = lx->pos;
    char c = s[lx->pos];
    if (is_digit(c) || (c == '.' && lx->pos + 1 < lx->len && is_digit(s[lx->pos + 1]))) {
        size_t i = lx->pos;
        while (i < lx->len && is_digit(s[i]))
            i++;
        if (i < lx->len && s[i] == '.') {
            i++;
            while (i < lx->len && is_digit(s[i]))
                i++;
        }
        if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < lx->len && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < lx->len && is_digit(s[j])) {
                while (j < lx->len && is_digit(s[j]))
                    j++;
                i = j;
            } else {
                lx->pos = j;
                return error_at(lx, start, "malformed exponent in number");
            }
        }
        if (i < lx->len && (is_ident_start(s[i]) || s[i] == '.')) {
            lx->pos = i + 1;
            return error_at(lx, start, "malformed number");
        }
        char tmp[64];
        size_t n = i - start;
        lx->pos = i;
        if (n >= sizeof tmp)
            return error_at(lx, start, "number is too long");
        memcpy(tmp, s + start, n);
        tmp[n] = '\0';
        errno = 0;
        double v = strtod(tmp, NULL);
        if (errno == ERANGE && fabs(v) > 1.0)
            return error_at(lx, start, "number is out of range");
        seg__token t = make(lx, SEG__TOK_NUMBER, start);
        t.number = v;
        return t;
    }
    if (is_ident_start(c) || (lx->utf8_words && (unsigned char)c >= 0x80)) {
        while (lx->pos < lx->len) {
            unsigned char b = (unsigned char)s[lx->pos];
            if (is_ident_start((char)b) || is_digit((char)b)) {
                lx->pos++;
                continue;
            }
            if (!lx->utf8_words || b < 0x80)
                break;
            if (lx->len - lx->pos >= 3 && memcmp(s + lx->pos, "\xe3\x80\x80", 3) == 0)
                break;
            size_t n = seg__utf8_len((const unsigned char *)s + lx->pos, lx->len - lx->pos);
            if (n == 0) {
                lx->pos++;
                return error_at(lx, start, "invalid UTF-8");
            }
            lx->pos += n;
        }
        return make(lx, SEG__TOK_IDENT, start);
    }
    if (c == '`' || c == '"') {
        char q = c;
        lx->pos++;
        while (lx->pos < lx->len && s[lx->pos] != q) {
            if (s[lx->pos] == '\n')
                return error_at(lx, start, q == '"' ? "unterminated string" : "unterminated `name`");
            if (q == '"' && s[lx->pos] == '\\') {
                if (lx->pos + 1 >= lx->len ||
                    (s[lx->pos + 1] != '"' && s[lx->pos + 1] != '\\')) {
                    /* Include the bad escape in the token the message quotes. */
                    size_t e = lx->pos + 1 < lx->len && s[lx->pos + 1] != '\n'
                                   ? seg__utf8_len((const unsigned char *)s + lx->pos + 1,
                                              lx->len - lx->pos - 1)
                                   : 0;
                    lx->pos += 1 + e;
                    return error_at(lx, start, "unknown escape in string (use \\\" or \\\\)");
                }
                lx->pos += 2;
                continue;
            }
            size_t n = seg__utf8_len((const unsigned char *)s + lx->pos, lx->len - lx->pos);
            if (n == 0 || (unsigned char)s[lx->pos] < 0x20)
                return error_at(lx, start, "invalid UTF-8 or control character");
            lx->pos += n;
        }
        if (lx->pos >= lx->len)
            return error_at(lx, start, q == '"' ? "unterminated string" : "unterminated `name`");
        lx->pos++;
        if (q == '`' && lx->pos - start == 2)
            return error_at(lx, start, "empty `name`");
        seg__token t = make(lx, q == '"' ? SEG__TOK_STRING : SEG__TOK_IDENT, start);
        t.quoted = q == '`';
        return t;
    }
    lx->pos++;
    char d = lx->pos < lx->len ? s[lx->pos] : '\0';
    switch (c) {
    case '(': return make(lx, SEG__TOK_LPAREN, start);
    case ')': return make(lx, SEG__TOK_RPAREN, start);
    case ',': return make(lx, SEG__TOK_COMMA, start);
    case '+': return make(lx, SEG__TOK_PLUS, start);
    case '-': return make(lx, SEG__TOK_MINUS, start);
    case '*': return make(lx, SEG__TOK_STAR, start);
    case '/': return make(lx, SEG__TOK_SLASH, start);
    case '=':
        if (d == '=') { lx->pos++; return make(lx, SEG__TOK_EQ, start); }
        return error_at(lx, start, "'=' is not an operator: write '=='");
    case '!':
        if (d == '=') { lx->pos++; return make(lx, SEG__TOK_NE, start); }
        return error_at(lx, start, "'!' is not an operator: write 'not' or '!='");
    case '<':
        if (d == '=') { lx->pos++; return make(lx, SEG__TOK_LE, start); }
        return make(lx, SEG__TOK_LT, start);
    case '>':
        if (d == '=') { lx->pos++; return make(lx, SEG__TOK_GE, start); }
        return make(lx, SEG__TOK_GT, start);
    default: {
        size_t n = seg__utf8_len((const unsigned char *)s + start, lx->len - start);
        lx->pos = start + (n ? n : 1);
        return error_at(lx, start, n > 1 ? "unexpected character (quote non-ASCII names in backquotes)"
                                         : "unexpected character");
    }
    }
}

int seg__tok_is_word(const seg__lexer *lx, const seg__token *t, const char *kw)
{
    if (t->kind != SEG__TOK_IDENT || t->quoted)
        return 0;
    size_t n = strlen(kw);
    return t->len == n && memcmp(lx->text + t->start, kw, n) == 0;
}

size_t seg__tok_text(const seg__lexer *lx, const seg__token *t, char *buf, size_t cap)
{
    const char *s = lx->text + t->start;
    size_t n = t->len;
    if (t->kind == SEG__TOK_STRING || t->quoted) {
        s++;
        n -= 2;
    }
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (t->kind == SEG__TOK_STRING && c == '\\' && i + 1 < n)
            c = s[++i];
        if (out + 1 < cap)
            buf[out] = c;
        out++;
    }
    if (cap)
        buf[out < cap ? out : cap - 1] = '\0';
    return out + 1;
}

int32_t seg__lex_skip_header(seg__lexer *lx, const char *magic, const char *source, char *err,
                           size_t cap)
{
    size_t pos = 0, line = 1, n = strlen(magic);
    const char *t = lx->text;
    for (;;) { /* blank or comment lines */
        size_t e = pos;
        while (e < lx->len && (t[e] == ' ' || t[e] == '\t' || t[e] == '\r'))
            e++;
        if (e < lx->len && (t[e] == '\n' || t[e] == '#')) {
            while (e < lx->len && t[e] != '\n')
                e++;
            if (e >= lx->len)
                return SEG_OK;
            pos = e + 1;
            line++;
            continue;
        }
        pos = e;
        break;
    }
    if (lx->len - pos < n || memcmp(t + pos, magic, n) != 0)
        return SEG_OK; /* no header */
    size_t e = pos + n;
    while (e < lx->len && (t[e] == ' ' || t[e] == '\t'))
        e++;
    size_t v = e;
    while (e < lx->len && t[e] != '\n' && t[e] != '\r' && t[e] != ' ' && t[e] != '\t' && t[e] != '#')
        e++;
    if (e - v != 1 || t[v] != '1') {
        seg__errf(err, cap, "%s:%zu:%zu: unsupported format version '%.*s' (this library reads 1)",
                  source, line, v - pos + 1, (int)(e - v < 20 ? e - v : 20), t + v);
        return SEG_EVERSION;
    }
    while (e < lx->len && t[e] != '\n')
        e++;
    lx->pos = e < lx->len ? e + 1 : e;
    lx->line = line + 1;
    lx->line_start = lx->pos;
    return SEG_OK;
}

void seg__put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (buf && *len + n < cap)
        memcpy(buf + *len, s, n);
    *len += n;
}

void seg__put_str(char *buf, size_t cap, size_t *len, const char *s)
{
    seg__put(buf, cap, len, s, strlen(s));
}

void seg__put_quoted(char *buf, size_t cap, size_t *len, const char *s)
{
    seg__put(buf, cap, len, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            seg__put(buf, cap, len, "\\", 1);
        seg__put(buf, cap, len, s, 1);
    }
    seg__put(buf, cap, len, "\"", 1);
}
