/* SPDX-License-Identifier: MIT */
/* The RFM model as versioned text: seg_rfm_save and seg_rfm_load.
 *
 *   libsegment-rfm 1
 *   <option> <value>          one line per option, values by name
 *   weights <wr> <wf> <wm>
 *   <r|f|m>_thresholds <t1> ... only for fitted dimensions
 *   end
 *
 * Doubles are written with 17 significant digits, which strtod reads back
 * to the same bits. '#' starts a comment; blank lines are ignored. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfm-private.h"

#define FORMAT_VERSION 1

typedef struct enum_name {
    int32_t key;   /* option key */
    int32_t value; /* enum value */
    const char *name;
} enum_name;

static const enum_name enum_names[] = {
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_R_COMPAT, "r-compatible"},
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_RANK, "rank"},
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_TIES, "ties"},
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_FIXED, "fixed"},
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_MEAN, "mean"},
    {SEG_RFM_PARAM_R_BINNING, SEG_BINNING_MEDIAN, "median"},
    {SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_DAYS, "days"},
    {SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_SECONDS, "seconds"},
    {SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_TRANSACTIONS, "transactions"},
    {SEG_RFM_PARAM_FREQUENCY, SEG_FREQUENCY_DAYS, "days"},
    {SEG_RFM_PARAM_MONETARY, SEG_MONETARY_SUM, "sum"},
    {SEG_RFM_PARAM_MONETARY, SEG_MONETARY_MEAN, "mean"},
    {SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_NET, "net"},
    {SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_DROP, "drop"},
    {SEG_RFM_PARAM_NEGATIVE, SEG_NEGATIVE_REJECT, "reject"},
    {SEG_RFM_PARAM_FUTURE, SEG_FUTURE_REJECT, "reject"},
    {SEG_RFM_PARAM_FUTURE, SEG_FUTURE_IGNORE, "ignore"},
    {SEG_RFM_PARAM_MISSING, SEG_MISSING_SKIP, "skip"},
    {SEG_RFM_PARAM_MISSING, SEG_MISSING_REJECT, "reject"},
};

/* The three binning keys share one name table. */
static int32_t enum_key(int32_t key)
{
    return key == SEG_RFM_PARAM_F_BINNING || key == SEG_RFM_PARAM_M_BINNING
               ? SEG_RFM_PARAM_R_BINNING
               : key;
}

static const char *enum_to_name(int32_t key, int32_t value)
{
    key = enum_key(key);
    for (size_t i = 0; i < sizeof enum_names / sizeof *enum_names; i++)
        if (enum_names[i].key == key && enum_names[i].value == value)
            return enum_names[i].name;
    return NULL;
}

static int has_names(int32_t key)
{
    return enum_to_name(key, 1) != NULL;
}

static const char *const thr_key[3] = {"r_thresholds", "f_thresholds", "m_thresholds"};

SEG_API int32_t seg_rfm_save(const seg_rfm *model, char *buf, size_t cap, size_t *out_len)
{
    if (!model || !out_len)
        return SEG_EINVAL;
    char text[4096];
    size_t len = 0;
    /* The text is bounded (a fixed set of keys, at most 9 thresholds of at
     * most 24 characters per dimension): about 1.5 KB. PUT never writes
     * past the buffer; an overflow would be reported below. */
#define PUT(...)                                                                              \
    do {                                                                                      \
        size_t at_ = len < sizeof text ? len : sizeof text - 1;                                \
        int k_ = snprintf(text + at_, sizeof text - at_, __VA_ARGS__);                         \
        len += k_ > 0 ? (size_t)k_ : 0;                                                       \
    } while (0)
    PUT("libsegment-rfm %d\n", FORMAT_VERSION);
    size_t np;
    const seg__rfm_param_info *p = seg__rfm_param_table(&np);
    for (size_t i = 0; i < np; i++) {
        int32_t v = *seg__rfm_param_slot((seg_rfm *)model, p[i].key);
        if (has_names(p[i].key))
            PUT("%s %s\n", p[i].name, enum_to_name(p[i].key, v));
        else
            PUT("%s %d\n", p[i].name, (int)v);
    }
    PUT("weights %.17g %.17g %.17g\n", model->w[0], model->w[1], model->w[2]);
    for (int d = 0; d < 3; d++) {
        const seg__rfm_dim *dm = &model->dim[d];
        if (!dm->fitted)
            continue;
        PUT("%s", thr_key[d]);
        for (int j = 0; j < dm->n_thr; j++)
            PUT(" %.17g", dm->thr[j]);
        PUT("\n");
    }
    PUT("end\n");
#undef PUT
    if (len >= sizeof text)
        return SEG_ERROR; /* cannot happen with the current format */
    *out_len = len;
    if (!buf)
        return SEG_OK;
    if (cap < len + 1)
        return SEG_EBUFSZ;
    memcpy(buf, text, len + 1);
    return SEG_OK;
}

/* ---- loading ------------------------------------------------------------ */

typedef struct parser {
    const char *text;
    size_t len, pos;
    size_t line, line_start;
    char *err;
    size_t cap;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int32_t fail_at(parser *ps, size_t at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    seg__errf(ps->err, ps->cap, "%zu:%zu: %s", ps->line, at - ps->line_start + 1, msg);
    return SEG_EPARSE;
}

/* Splits the current line into up to max tokens (start offset, length);
 * advances to the next line. Returns the number of tokens, or -1 when the
 * line has too many. */
static int next_line(parser *ps, size_t *tok, size_t *tlen, int max)
{
    int n = 0;
    ps->line_start = ps->pos;
    size_t end = ps->pos;
    while (end < ps->len && ps->text[end] != '\n')
        end++;
    size_t i = ps->pos;
    while (i < end) {
        char c = ps->text[i];
        if (c == '#')
            break;
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < end && ps->text[i] != ' ' && ps->text[i] != '\t' && ps->text[i] != '\r' &&
               ps->text[i] != '#')
            i++;
        if (n == max)
            return -1;
        tok[n] = s;
        tlen[n] = i - s;
        n++;
    }
    ps->pos = end < ps->len ? end + 1 : end;
    return n;
}

static int tok_is(const parser *ps, size_t s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(ps->text + s, word, n) == 0;
}

static int32_t parse_double(parser *ps, size_t s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return fail_at(ps, s, "expected a number");
    memcpy(tmp, ps->text + s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    /* ERANGE with a finite non-zero result is a subnormal: exact, keep it. */
    if (*end != '\0' || !isfinite(v) || (errno == ERANGE && v == 0.0))
        return fail_at(ps, s, "'%s' is not a finite number", tmp);
    *out = v;
    return SEG_OK;
}

#define MAX_TOKENS (SEG__RFM_MAX_THR + 2)

static int32_t parse_model(parser *ps, seg_rfm *m)
{
    size_t tok[MAX_TOKENS], tl[MAX_TOKENS];
    int seen_header = 0, seen_end = 0;
    uint32_t seen = 0; /* bit per option, plus weights and thresholds */
    double thr[3][SEG__RFM_MAX_THR];
    int nthr[3] = {-1, -1, -1};
    size_t thr_at[3] = {0, 0, 0}, thr_line[3] = {0, 0, 0};
    size_t np;
    const seg__rfm_param_info *p = seg__rfm_param_table(&np);

    while (ps->pos < ps->len) {
        ps->line++;
        int n = next_line(ps, tok, tl, MAX_TOKENS);
        if (n < 0)
            return fail_at(ps, ps->line_start, "too many values on this line");
        if (n == 0)
            continue;
        if (seen_end)
            return fail_at(ps, tok[0], "text after 'end'");
        if (!seen_header) {
            if (!tok_is(ps, tok[0], tl[0], "libsegment-rfm") || n != 2)
                return fail_at(ps, tok[0], "expected 'libsegment-rfm 1' as the first line");
            if (!tok_is(ps, tok[1], tl[1], "1")) {
                fail_at(ps, tok[1], "unsupported format version '%.*s' (this library reads 1)",
                        (int)tl[1], ps->text + tok[1]);
                return SEG_EVERSION;
            }
            seen_header = 1;
            continue;
        }
        if (tok_is(ps, tok[0], tl[0], "end")) {
            if (n != 1)
                return fail_at(ps, tok[1], "unexpected value after 'end'");
            seen_end = 1;
            continue;
        }
        if (tok_is(ps, tok[0], tl[0], "weights")) {
            if (seen & (1u << 20))
                return fail_at(ps, tok[0], "duplicate 'weights'");
            if (n != 4)
                return fail_at(ps, tok[0], "'weights' needs three numbers");
            for (int k = 0; k < 3; k++) {
                int32_t rc = parse_double(ps, tok[k + 1], tl[k + 1], &m->w[k]);
                if (rc != SEG_OK)
                    return rc;
            }
            seen |= 1u << 20;
            continue;
        }
        int d;
        for (d = 0; d < 3; d++)
            if (tok_is(ps, tok[0], tl[0], thr_key[d]))
                break;
        if (d < 3) {
            if (nthr[d] >= 0)
                return fail_at(ps, tok[0], "duplicate '%s'", thr_key[d]);
            if (n < 2)
                return fail_at(ps, tok[0], "'%s' needs at least one number", thr_key[d]);
            if (n - 1 > SEG__RFM_MAX_THR)
                return fail_at(ps, tok[SEG__RFM_MAX_THR + 1], "'%s' has more than %d values",
                               thr_key[d], SEG__RFM_MAX_THR);
            for (int k = 1; k < n; k++) {
                int32_t rc = parse_double(ps, tok[k], tl[k], &thr[d][k - 1]);
                if (rc != SEG_OK)
                    return rc;
                if (k > 1 && thr[d][k - 1] < thr[d][k - 2])
                    return fail_at(ps, tok[k], "thresholds must not decrease");
            }
            nthr[d] = n - 1;
            thr_at[d] = tok[0];
            thr_line[d] = ps->line;
            continue;
        }
        size_t i;
        for (i = 0; i < np; i++)
            if (tok_is(ps, tok[0], tl[0], p[i].name))
                break;
        if (i == np)
            return fail_at(ps, tok[0], "unknown key '%.*s'", (int)tl[0], ps->text + tok[0]);
        if (seen & (1u << i))
            return fail_at(ps, tok[0], "duplicate '%s'", p[i].name);
        if (n != 2)
            return fail_at(ps, tok[0], "'%s' needs exactly one value", p[i].name);
        int64_t v = -1;
        if (has_names(p[i].key)) {
            for (int32_t e = (int32_t)p[i].min; e <= (int32_t)p[i].max; e++) {
                const char *nm = enum_to_name(p[i].key, e);
                if (nm && tok_is(ps, tok[1], tl[1], nm))
                    v = e;
            }
            if (v < 0)
                return fail_at(ps, tok[1], "unknown value '%.*s' for '%s'", (int)tl[1],
                               ps->text + tok[1], p[i].name);
        } else {
            double dv;
            int32_t rc = parse_double(ps, tok[1], tl[1], &dv);
            if (rc != SEG_OK)
                return rc;
            if (dv != floor(dv) || dv < (double)p[i].min || dv > (double)p[i].max)
                return fail_at(ps, tok[1], "'%s' must be an integer in %lld..%lld", p[i].name,
                               (long long)p[i].min, (long long)p[i].max);
            v = (int64_t)dv;
        }
        *seg__rfm_param_slot(m, p[i].key) = (int32_t)v;
        seen |= 1u << i;
    }
    if (!seen_header) {
        ps->line = ps->line ? ps->line : 1;
        return fail_at(ps, ps->line_start, "empty text: expected 'libsegment-rfm 1'");
    }
    if (!seen_end)
        return fail_at(ps, ps->pos, "missing 'end' line (truncated text?)");
    /* Thresholds are checked last, against the final options. */
    for (int d = 0; d < 3; d++) {
        seg__rfm_dim *dm = &m->dim[d];
        int want = dm->binning == SEG_BINNING_MEAN || dm->binning == SEG_BINNING_MEDIAN ? 1
                                                                                          : dm->bins - 1;
        if (nthr[d] < 0) {
            if (dm->binning == SEG_BINNING_FIXED) {
                ps->line = ps->line ? ps->line : 1;
                return fail_at(ps, ps->line_start, "fixed binning needs '%s'", thr_key[d]);
            }
            continue;
        }
        ps->line = thr_line[d];
        ps->line_start = thr_at[d];
        if (nthr[d] != want)
            return fail_at(ps, thr_at[d], "'%s' has %d values, the options need %d", thr_key[d],
                           nthr[d], want);
        if (dm->binning == SEG_BINNING_FIXED && seg__rfm_check_thresholds(thr[d], (size_t)want))
            return fail_at(ps, thr_at[d], "fixed thresholds must strictly increase");
        memcpy(dm->thr, thr[d], (size_t)want * sizeof(double));
        dm->n_thr = want;
        dm->fitted = 1;
    }
    return SEG_OK;
}

SEG_API int32_t seg_rfm_load(seg_rfm **out, const char *text, size_t len, const seg_allocator *alloc,
                             char *err_buf, size_t err_cap)
{
    if (!out || !text) {
        seg__errf(err_buf, err_cap, "%s is NULL", !out ? "out" : "text");
        return SEG_EINVAL;
    }
    seg__alloc a;
    int32_t rc = seg__alloc_init(&a, alloc, err_buf, err_cap);
    if (rc != SEG_OK)
        return rc;
    seg_rfm tmp;
    seg__rfm_defaults(&tmp, &a);
    parser ps = {text, len, 0, 0, 0, err_buf, err_cap};
    rc = parse_model(&ps, &tmp);
    if (rc != SEG_OK)
        return rc;
    seg_rfm *m = seg__malloc(&a, sizeof *m);
    if (!m) {
        seg__errf(err_buf, err_cap, "out of memory");
        return SEG_ENOMEM;
    }
    *m = tmp;
    *out = m;
    return SEG_OK;
}
