/* SPDX-License-Identifier: MIT */
/*
 * bank_tiers: a core-banking nightly batch that tiers customers with
 * libsegment in-process.
 *
 *   bank_tiers --rules TIERS.txt [--groups GROUPS.txt] [--prev PREV.csv]
 *              [--critical 0.10] [--aum-column NAME] [--out OUT.csv] CUSTOMERS.csv
 *
 * The tier rules live in text files (the .tiers files in examples/tiers),
 * not in the program. It reads the customer CSV (examples/csv.c) into double
 * columns, builds a seg_frame over them and hands everything to the library:
 * seg_tiers_load() -> seg_tiers_apply() (with last month's tiers for
 * hysteresis) -> seg_tiers_gaps() -> seg_tiers_migration(), plus the
 * coverage check (seg_tiers_unreachable(), seg_tiers_has_catch_all()).
 * Run `bank_tiers --help` for the details.
 */
#include <segment/segment.h>

#include "csv.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "bank_tiers"
#define MAX_PREV_WARNINGS 20
#define MAX_RULES_BYTES (16L * 1024 * 1024)
#define MAX_NUMBER_LEN 79 /* longest number accepted in the CSV, in bytes */

const char prog_name[] = PROG;

static const char usage_text[] =
    "Usage: bank_tiers --rules TIERS.txt [OPTIONS] CUSTOMERS.csv\n"
    "\n"
    "Assigns every customer a value tier (分层) from rules kept in a text file,\n"
    "optionally a behavioural group (分群), and reports tier sizes with AUM share,\n"
    "customers close to the next tier (critical, 临界), tier x group counts and,\n"
    "given last period's tiers, the migration matrix with upgrade, retention (保级)\n"
    "and downgrade rates.\n"
    "\n"
    "CUSTOMERS.csv has a header row with a customer_id column; every other column\n"
    "is read as numbers (an empty field is a missing value) and can be used by\n"
    "the rules under its header name (UTF-8 allowed; write `月日均资产` with\n"
    "backquotes in a rule). customer_id is any non-empty text, unique.\n"
    "\n"
    "Options:\n"
    "  --rules TIERS.txt    tier set in libsegment's text format (required), e.g.\n"
    "                       examples/tiers/value_pyramid.tiers. First match wins.\n"
    "  --groups GROUPS.txt  groups set (keyword `group`), applied without\n"
    "                       hysteresis; adds the tier x group (micro-segment) table.\n"
    "  --prev PREV.csv      last period's tiers: columns customer_id,tier (a tier\n"
    "                       id). Enables hysteresis (a tier's `keep` condition) and\n"
    "                       the migration matrix. A customer absent from PREV.csv,\n"
    "                       with an empty tier or with an unknown tier id (a\n"
    "                       warning naming the line) has no previous tier.\n"
    "  --critical X         relative distance for the critical flag (default 0.10):\n"
    "                       a customer is critical when every comparison of the\n"
    "                       next higher tier it fails is within X * |threshold|.\n"
    "  --aum-column NAME    column summed for the AUM share (default aum); when the\n"
    "                       column does not exist only sizes are shown.\n"
    "  --out OUT.csv        write one row per customer, in input order:\n"
    "                       customer_id,tier,group,next_tier,gap_column,gap,critical\n"
    "                       (ids; gap = threshold - value, %.15g, for the comparison\n"
    "                       of the next tier that is relatively furthest from passing,\n"
    "                       empty when not applicable or the value is missing;\n"
    "                       critical 1 or 0).\n"
    "  -h, --help           print this help and exit.\n"
    "\n"
    "A syntax error in a rules file is reported as FILE:LINE:COL: MESSAGE.\n"
    "\n"
    "Exit status: 0 success, 1 bad input file, bad rules or library error, 2 bad\n"
    "usage (unknown option, bad option value, missing argument).\n";

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

struct options {
    const char *input;
    const char *rules_path;
    const char *groups_path;
    const char *prev_path;
    const char *out_path;
    const char *aum_column;
    const char *critical_text;
    double critical;
};

/* Returns EXIT_OK (with *help set for --help) or EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct options *opt, int *help)
{
    static const char *const with_value[] = {"--rules", "--groups",     "--prev",
                                             "--out",   "--aum-column", "--critical"};
    struct cmdline cmd = {argc, argv, NULL, 0, with_value,
                          sizeof with_value / sizeof with_value[0], error_hint, 1, 0};
    const char *arg, *value;
    size_t name_len;
    int kind;

    memset(opt, 0, sizeof *opt);
    opt->aum_column = "aum";
    opt->critical = 0.10;
    *help = 0;
    while ((kind = cmdline_next(&cmd, &arg, &name_len, &value)) != ARG_END) {
        if (kind == ARG_BAD)
            return EXIT_USAGE;
        if (kind == ARG_HELP) {
            *help = 1;
            return EXIT_OK;
        }
        if (kind == ARG_OPERAND) {
            if (opt->input != NULL) {
                error_hint("more than one CUSTOMERS.csv:", arg);
                return EXIT_USAGE;
            }
            opt->input = arg;
            continue;
        }
        if (option_is(arg, name_len, "--rules")) {
            opt->rules_path = value;
        } else if (option_is(arg, name_len, "--groups")) {
            opt->groups_path = value;
        } else if (option_is(arg, name_len, "--prev")) {
            opt->prev_path = value;
        } else if (option_is(arg, name_len, "--out")) {
            opt->out_path = value;
        } else if (option_is(arg, name_len, "--aum-column")) {
            opt->aum_column = value;
        } else {
            char *end;
            double v;
            errno = 0;
            v = strtod(value, &end);
            if (end == value || *end != '\0' || errno != 0 || !isfinite(v) || v < 0) {
                error_hint("--critical needs a number >= 0 (e.g. 0.10), got", value);
                return EXIT_USAGE;
            }
            opt->critical = v;
            opt->critical_text = value;
        }
    }
    if (opt->rules_path == NULL) {
        error_hint("missing --rules TIERS.txt", NULL);
        return EXIT_USAGE;
    }
    if (opt->input == NULL) {
        error_hint("missing CUSTOMERS.csv", NULL);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

struct column {
    char *name;
    size_t field; /* position in the CSV record */
    double *data;
};

struct state {
    /* customers, in input order */
    size_t n;
    char *id_text; /* ids, each followed by a NUL */
    size_t id_text_len, id_text_cap;
    size_t *id_off, *id_len;
    size_t *by_id; /* row indices sorted by id */
    struct column *cols;
    size_t n_cols;
    size_t id_field, n_fields;
    /* library objects */
    seg_frame *frame;
    seg_tiers *tiers, *groups;
    /* results */
    int32_t *prev, *tier, *group, *next, *gap_col, *n_failing;
    double *gap;
    uint8_t *critical;
    int64_t *migration;
    double *up, *stay, *down;
    csv_reader *csv;
    FILE *out;
};

static void state_free(struct state *st)
{
    size_t i;
    seg_tiers_free(st->tiers);
    seg_tiers_free(st->groups);
    seg_frame_free(st->frame);
    for (i = 0; i < st->n_cols; i++) {
        free(st->cols[i].name);
        free(st->cols[i].data);
    }
    free(st->cols);
    free(st->id_text);
    free(st->id_off);
    free(st->id_len);
    free(st->by_id);
    free(st->prev);
    free(st->tier);
    free(st->group);
    free(st->next);
    free(st->gap_col);
    free(st->n_failing);
    free(st->gap);
    free(st->critical);
    free(st->migration);
    free(st->up);
    free(st->stay);
    free(st->down);
    csv_close(st->csv);
    if (st->out != NULL)
        fclose(st->out);
}

/* ------------------------------------------------------------------------ */
/* Customer ids                                                             */

static const char *id_at(const struct state *st, size_t row, size_t *len)
{
    if (len != NULL)
        *len = st->id_len[row];
    return st->id_text + st->id_off[row];
}

/* qsort() has no context argument: the table being sorted. */
static const struct state *sort_state;

static int compare_rows_by_id(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    size_t la, lb;
    const char *sa = id_at(sort_state, a, &la), *sb = id_at(sort_state, b, &lb);
    int c = compare_bytes(sa, la, sb, lb);
    if (c != 0)
        return c;
    return a < b ? -1 : a > b;
}

/* Sorts the rows by id; reports the first duplicate id. */
static int index_ids(struct state *st, const char *path)
{
    size_t i;
    st->by_id = malloc(st->n * sizeof *st->by_id);
    if (st->by_id == NULL)
        return out_of_memory();
    for (i = 0; i < st->n; i++)
        st->by_id[i] = i;
    sort_state = st;
    qsort(st->by_id, st->n, sizeof *st->by_id, compare_rows_by_id);
    sort_state = NULL;
    for (i = 1; i < st->n; i++) {
        size_t la, lb;
        const char *a = id_at(st, st->by_id[i - 1], &la), *b = id_at(st, st->by_id[i], &lb);
        if (compare_bytes(a, la, b, lb) == 0) {
            fprintf(stderr, PROG ": %s: customer_id '%s' appears twice (data rows %zu and %zu)\n",
                    path, a, st->by_id[i - 1] + 1, st->by_id[i] + 1);
            return EXIT_FAIL;
        }
    }
    return EXIT_OK;
}

/* Row of customer `id`, or (size_t)-1. */
static size_t find_id(const struct state *st, const char *id, size_t len)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, lm;
        const char *m = id_at(st, st->by_id[mid], &lm);
        int c = compare_bytes(m, lm, id, len);
        if (c == 0)
            return st->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

static int add_id(struct state *st, const char *id, size_t len, size_t row)
{
    if (text_append(&st->id_text, &st->id_text_len, &st->id_text_cap, id, len,
                    &st->id_off[row]) != 0)
        return -1;
    st->id_len[row] = len;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading CUSTOMERS.csv                                                    */

static int read_header(struct state *st, const char *path)
{
    size_t j, k, nf;
    int rc = csv_next(st->csv);

    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    if (rc == CSV_EOF) {
        fprintf(stderr, PROG ": %s: the file is empty (expected a header row)\n", path);
        return EXIT_FAIL;
    }
    nf = csv_nfields(st->csv);
    st->n_fields = nf;
    st->id_field = (size_t)-1;
    st->cols = calloc(nf, sizeof *st->cols);
    if (st->cols == NULL)
        return out_of_memory();
    for (j = 0; j < nf; j++) {
        size_t len;
        const char *h = csv_field(st->csv, j, &len);
        if (len == 11 && memcmp(h, "customer_id", 11) == 0) {
            if (st->id_field != (size_t)-1) {
                fprintf(stderr, PROG ": %s:%ld: two customer_id columns in the header\n", path,
                        csv_line(st->csv));
                return EXIT_FAIL;
            }
            st->id_field = j;
            continue;
        }
        if (strlen(h) != len) {
            fprintf(stderr, PROG ": %s:%ld: header field %zu contains a NUL byte\n", path,
                    csv_line(st->csv), j + 1);
            return EXIT_FAIL;
        }
        for (k = 0; k < st->n_cols; k++) {
            if (strcmp(st->cols[k].name, h) == 0) {
                fprintf(stderr, PROG ": %s:%ld: column '%s' appears twice in the header\n", path,
                        csv_line(st->csv), h);
                return EXIT_FAIL;
            }
        }
        st->cols[st->n_cols].name = malloc(len + 1);
        if (st->cols[st->n_cols].name == NULL)
            return out_of_memory();
        memcpy(st->cols[st->n_cols].name, h, len + 1);
        st->cols[st->n_cols].field = j;
        st->n_cols++;
    }
    if (st->id_field == (size_t)-1) {
        fprintf(stderr, PROG ": %s:%ld: missing column 'customer_id' in the header\n", path,
                csv_line(st->csv));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int grow_rows(struct state *st, size_t cap)
{
    size_t k;
    void *p;
    p = realloc(st->id_off, cap * sizeof *st->id_off);
    if (p == NULL)
        return -1;
    st->id_off = p;
    p = realloc(st->id_len, cap * sizeof *st->id_len);
    if (p == NULL)
        return -1;
    st->id_len = p;
    for (k = 0; k < st->n_cols; k++) {
        p = realloc(st->cols[k].data, cap * sizeof *st->cols[k].data);
        if (p == NULL)
            return -1;
        st->cols[k].data = p;
    }
    return 0;
}

static int read_customers(struct state *st, const char *path)
{
    size_t cap = 0, k;
    int rc;
    char err[512];

    st->csv = csv_open(path, err, sizeof err);
    if (st->csv == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    rc = read_header(st, path);
    if (rc != EXIT_OK)
        return rc;
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t len;
        const char *id;

        if (csv_nfields(st->csv) != st->n_fields) {
            fprintf(stderr, PROG ": %s:%ld: %zu fields, the header has %zu\n", path,
                    csv_line(st->csv), csv_nfields(st->csv), st->n_fields);
            return EXIT_FAIL;
        }
        id = csv_field(st->csv, st->id_field, &len);
        if (len == 0 || strlen(id) != len) {
            fprintf(stderr, PROG ": %s:%ld: bad customer_id '%s' (expected non-empty text)\n",
                    path, csv_line(st->csv), id);
            return EXIT_FAIL;
        }
        if (st->n == cap) {
            cap = cap ? cap * 2 : 1024;
            if (grow_rows(st, cap) != 0)
                return out_of_memory();
        }
        if (add_id(st, id, len, st->n) != 0)
            return out_of_memory();
        for (k = 0; k < st->n_cols; k++) {
            size_t vlen;
            const char *v = csv_field(st->csv, st->cols[k].field, &vlen);
            double *cell = &st->cols[k].data[st->n];
            int status = parse_number(v, vlen, MAX_NUMBER_LEN, cell);
            if (status > 0) {
                *cell = NAN; /* an empty or blank field is a missing value */
            } else if (status < 0) {
                fprintf(stderr,
                        PROG ": %s:%ld: column '%s': bad value '%s' (expected a number, or an "
                             "empty field for a missing value)\n",
                        path, csv_line(st->csv), st->cols[k].name, v);
                return EXIT_FAIL;
            }
        }
        st->n++;
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    csv_close(st->csv);
    st->csv = NULL;
    if (st->n == 0) {
        fprintf(stderr, PROG ": %s: no data rows after the header\n", path);
        return EXIT_FAIL;
    }
    return index_ids(st, path);
}

static int build_frame(struct state *st, const char *path)
{
    size_t k;
    int32_t rc = seg_frame_new(&st->frame, st->n, NULL);
    if (rc != SEG_OK)
        return lib_error("creating the frame", rc, NULL);
    for (k = 0; k < st->n_cols; k++) {
        rc = seg_frame_add_double(st->frame, st->cols[k].name, st->cols[k].data, NULL);
        if (rc != SEG_OK) {
            fprintf(stderr, PROG ": %s: column '%s': %s: %s\n", path, st->cols[k].name,
                    seg_status_str(rc), seg_frame_last_error(st->frame));
            return EXIT_FAIL;
        }
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                    */

/* Reads a whole file; *out is malloc'ed (NUL-terminated for convenience). */

/* Loads a tier or groups set; a bad file prints the library's
 * "FILE:LINE:COL: message" alone on stderr. */
static int load_set(struct state *st, const char *path, seg_tiers **out)
{
    char *text = NULL;
    size_t len = 0;
    char err[1024];
    int32_t rc;
    int ec = read_file(path, MAX_RULES_BYTES, &text, &len);

    if (ec != EXIT_OK)
        return ec;
    err[0] = '\0';
    rc = seg_tiers_load(out, text, len, st->frame, path, NULL, err, sizeof err);
    free(text);
    if (rc != SEG_OK) {
        if (err[0] != '\0')
            fprintf(stderr, "%s\n", err);
        else
            fprintf(stderr, "%s: %s\n", path, seg_status_str(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* PREV.csv                                                                 */

static int read_prev(struct state *st, const char *path, const char *rules_path)
{
    size_t pos_id = (size_t)-1, pos_tier = (size_t)-1, j, nf, i;
    size_t n_unknown_tier = 0, n_unknown_customer = 0, n_empty = 0, n_rows = 0;
    uint8_t *seen;
    int rc;
    char err[512];

    st->prev = malloc(st->n * sizeof *st->prev);
    seen = calloc(st->n, 1);
    if (st->prev == NULL || seen == NULL) {
        free(seen);
        return out_of_memory();
    }
    for (i = 0; i < st->n; i++)
        st->prev[i] = SEG_TIER_NONE;
    st->csv = csv_open(path, err, sizeof err);
    if (st->csv == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        free(seen);
        return EXIT_FAIL;
    }
    rc = csv_next(st->csv);
    if (rc != CSV_ROW) {
        if (rc == CSV_FAIL)
            fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        else
            fprintf(stderr, PROG ": %s: the file is empty (expected a header row)\n", path);
        free(seen);
        return EXIT_FAIL;
    }
    nf = csv_nfields(st->csv);
    for (j = 0; j < nf; j++) {
        size_t len;
        const char *h = csv_field(st->csv, j, &len);
        if (len == 11 && memcmp(h, "customer_id", 11) == 0 && pos_id == (size_t)-1)
            pos_id = j;
        else if (len == 4 && memcmp(h, "tier", 4) == 0 && pos_tier == (size_t)-1)
            pos_tier = j;
    }
    if (pos_id == (size_t)-1 || pos_tier == (size_t)-1) {
        fprintf(stderr, PROG ": %s:%ld: missing column '%s' in the header\n", path,
                csv_line(st->csv), pos_id == (size_t)-1 ? "customer_id" : "tier");
        free(seen);
        return EXIT_FAIL;
    }
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t lid, ltier, row;
        const char *id = csv_field(st->csv, pos_id, &lid);
        const char *tier = csv_field(st->csv, pos_tier, &ltier);
        int32_t t;

        if (id == NULL || tier == NULL) {
            fprintf(stderr, PROG ": %s:%ld: only %zu fields, expected at least %zu\n", path,
                    csv_line(st->csv), csv_nfields(st->csv),
                    (pos_id > pos_tier ? pos_id : pos_tier) + 1);
            free(seen);
            return EXIT_FAIL;
        }
        n_rows++;
        row = find_id(st, id, lid);
        if (row == (size_t)-1) {
            n_unknown_customer++;
            continue;
        }
        if (seen[row]) {
            fprintf(stderr, PROG ": %s:%ld: customer_id '%s' appears twice\n", path,
                    csv_line(st->csv), id);
            free(seen);
            return EXIT_FAIL;
        }
        seen[row] = 1;
        if (ltier == 0) {
            n_empty++;
            continue;
        }
        if (strlen(tier) != ltier || seg_tiers_find(st->tiers, tier, &t) != SEG_OK) {
            if (n_unknown_tier < MAX_PREV_WARNINGS)
                fprintf(stderr,
                        PROG ": warning: %s:%ld: unknown tier '%s' for customer '%s' (not in "
                             "%s); no previous tier\n",
                        path, csv_line(st->csv), tier, id, rules_path);
            n_unknown_tier++;
            continue;
        }
        st->prev[row] = t;
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        free(seen);
        return EXIT_FAIL;
    }
    csv_close(st->csv);
    st->csv = NULL;
    if (n_unknown_tier > MAX_PREV_WARNINGS)
        fprintf(stderr, PROG ": warning: %s: %zu rows with an unknown tier in all\n", path,
                n_unknown_tier);
    {
        size_t absent = 0;
        for (i = 0; i < st->n; i++)
            absent += !seen[i];
        printf("Previous tiers: %s: %zu rows; %zu customers absent, %zu with an empty tier, "
               "%zu with an unknown tier; %zu rows for customers not in this run (ignored)\n",
               path, n_rows, absent, n_empty, n_unknown_tier, n_unknown_customer);
    }
    free(seen);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Computation                                                              */

static int compute(struct state *st, const struct options *opt)
{
    size_t n = st->n;
    int32_t nt = (int32_t)seg_tiers_count(st->tiers);
    char err[512];
    int32_t rc;

    st->tier = malloc(n * sizeof *st->tier);
    st->next = malloc(n * sizeof *st->next);
    st->gap_col = malloc(n * sizeof *st->gap_col);
    st->n_failing = malloc(n * sizeof *st->n_failing);
    st->gap = malloc(n * sizeof *st->gap);
    st->critical = malloc(n);
    if (st->tier == NULL || st->next == NULL || st->gap_col == NULL || st->n_failing == NULL ||
        st->gap == NULL || st->critical == NULL)
        return out_of_memory();
    err[0] = '\0';
    rc = seg_tiers_apply(st->tiers, st->frame, st->prev, st->tier, err, sizeof err);
    if (rc != SEG_OK)
        return lib_error("assigning tiers", rc, err);
    rc = seg_tiers_gaps(st->tiers, st->frame, st->tier, opt->critical, st->next, st->gap_col,
                        st->gap, st->n_failing, st->critical, err, sizeof err);
    if (rc != SEG_OK)
        return lib_error("computing gaps", rc, err);
    if (st->groups != NULL) {
        st->group = malloc(n * sizeof *st->group);
        if (st->group == NULL)
            return out_of_memory();
        rc = seg_tiers_apply(st->groups, st->frame, NULL, st->group, err, sizeof err);
        if (rc != SEG_OK)
            return lib_error("assigning groups", rc, err);
    }
    if (st->prev != NULL) {
        st->migration = malloc((size_t)nt * (size_t)nt * sizeof *st->migration);
        st->up = malloc((size_t)nt * sizeof *st->up);
        st->stay = malloc((size_t)nt * sizeof *st->stay);
        st->down = malloc((size_t)nt * sizeof *st->down);
        if (st->migration == NULL || st->up == NULL || st->stay == NULL || st->down == NULL)
            return out_of_memory();
        rc = seg_tiers_migration(st->prev, st->tier, n, nt, st->migration, st->up, st->stay,
                                 st->down, err, sizeof err);
        if (rc != SEG_OK)
            return lib_error("counting migrations", rc, err);
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */

static const char *label_id(const seg_tiers *set, int32_t k)
{
    return k == SEG_TIER_NONE ? "(none)" : seg_tiers_id(set, k);
}

static const char *label_name(const seg_tiers *set, int32_t k)
{
    return k == SEG_TIER_NONE ? "-" : seg_tiers_name(set, k);
}

/* Widest id and name of a set, "(none)" included. */
static void set_widths(const seg_tiers *set, size_t min_id, size_t *id_w, size_t *name_w)
{
    int32_t k, n = (int32_t)seg_tiers_count(set);
    *id_w = min_id > 6 ? min_id : 6;
    *name_w = 4;
    for (k = 0; k < n; k++) {
        size_t a = display_width(seg_tiers_id(set, k)), b = display_width(seg_tiers_name(set, k));
        if (a > *id_w)
            *id_w = a;
        if (b > *name_w)
            *name_w = b;
    }
}

static void print_coverage(const seg_tiers *set, const char *path, const char *what,
                           const int32_t *labels, size_t n)
{
    int32_t k, nt = (int32_t)seg_tiers_count(set);
    int problems = 0;
    size_t none = 0, i;

    printf("Coverage of %s (%s, %d %ss):\n", path, what, (int)nt, what);
    for (k = 0; k < nt; k++) {
        int32_t by = -1;
        if (seg_tiers_unreachable(set, k, &by) == SEG_OK && by >= 0) {
            printf("  warning: %s '%s' can never match: %s '%s' (earlier) matches every "
                   "customer it would\n",
                   what, seg_tiers_id(set, k), what, seg_tiers_id(set, by));
            problems++;
        }
    }
    if (!seg_tiers_has_catch_all(set)) {
        for (i = 0; i < n; i++)
            none += labels[i] == SEG_TIER_NONE;
        printf("  warning: no 'otherwise' %s: a customer that matches no rule gets no %s "
               "(%zu customers in this run)\n",
               what, what, none);
        problems++;
    }
    if (problems == 0)
        printf("  ok: no %s is shadowed by an earlier one, and an 'otherwise' %s catches the "
               "rest\n",
               what, what);
}

static int print_tier_sizes(const struct state *st, const struct options *opt)
{
    int32_t nt = (int32_t)seg_tiers_count(st->tiers), k;
    size_t slots = (size_t)nt + 1, i, id_w, name_w, aum_idx, n_missing_aum = 0;
    size_t *count = calloc(slots, sizeof *count), *crit = calloc(slots, sizeof *crit);
    double *aum = calloc(slots, sizeof *aum), total_aum = 0.0, total_crit = 0.0;
    const double *aum_data = NULL;

    if (count == NULL || crit == NULL || aum == NULL) {
        free(count);
        free(crit);
        free(aum);
        return out_of_memory();
    }
    if (seg_frame_find(st->frame, opt->aum_column, &aum_idx) == SEG_OK) {
        for (i = 0; i < st->n_cols; i++)
            if (strcmp(st->cols[i].name, opt->aum_column) == 0)
                aum_data = st->cols[i].data;
    }
    for (i = 0; i < st->n; i++) {
        size_t s = st->tier[i] == SEG_TIER_NONE ? (size_t)nt : (size_t)st->tier[i];
        count[s]++;
        crit[s] += st->critical[i];
        total_crit += st->critical[i];
        if (aum_data != NULL) {
            if (isnan(aum_data[i])) {
                n_missing_aum++;
            } else {
                aum[s] += aum_data[i];
                total_aum += aum_data[i];
            }
        }
    }
    set_widths(st->tiers, 5, &id_w, &name_w);

    printf("\nTier sizes");
    if (aum_data != NULL)
        printf(" and AUM share (column '%s'", opt->aum_column);
    if (aum_data != NULL && n_missing_aum > 0)
        printf("; %zu customers with a missing value count as 0", n_missing_aum);
    if (aum_data != NULL)
        printf(")");
    else
        printf(" (no column '%s', so no AUM share)", opt->aum_column);
    printf(":\n");
    print_left("Tier", id_w);
    printf("  ");
    print_left("Name", name_w);
    printf("  %9s  %7s", "Customers", "Share");
    if (aum_data != NULL)
        printf("  %18s  %7s", "AUM", "AUM %");
    printf("  %8s\n", "Critical");
    for (k = 0; k <= nt; k++) {
        int32_t t = k == nt ? SEG_TIER_NONE : k;
        if (k == nt && count[k] == 0)
            break;
        print_left(label_id(st->tiers, t), id_w);
        printf("  ");
        print_left(label_name(st->tiers, t), name_w);
        printf("  %9zu  %6.1f%%", count[k], percent((double)count[k], (double)st->n));
        if (aum_data != NULL)
            printf("  %18.2f  %6.1f%%", aum[k], percent(aum[k], total_aum));
        printf("  %8zu\n", crit[k]);
    }
    print_left("Total", id_w);
    printf("  ");
    print_left("", name_w);
    printf("  %9zu  %6.1f%%", st->n, 100.0);
    if (aum_data != NULL)
        printf("  %18.2f  %6.1f%%", total_aum, total_aum != 0.0 ? 100.0 : 0.0);
    printf("  %8.0f\n", total_crit);
    printf("Critical (临界): customers whose every failing comparison of the next higher "
           "tier is within %g%% of its threshold.\n",
           100.0 * opt->critical);
    free(count);
    free(crit);
    free(aum);
    return EXIT_OK;
}

static int print_micro_segments(const struct state *st)
{
    int32_t nt = (int32_t)seg_tiers_count(st->tiers), ng = (int32_t)seg_tiers_count(st->groups);
    size_t rows = (size_t)nt + 1, cols = (size_t)ng + 1, i, id_w, name_w;
    size_t *m = calloc(rows * cols, sizeof *m);
    size_t *col_w = calloc(cols, sizeof *col_w);
    int32_t t, g;
    int any_tier_none = 0, any_group_none = 0;

    if (m == NULL || col_w == NULL) {
        free(m);
        free(col_w);
        return out_of_memory();
    }
    for (i = 0; i < st->n; i++) {
        size_t r = st->tier[i] == SEG_TIER_NONE ? (size_t)nt : (size_t)st->tier[i];
        size_t c = st->group[i] == SEG_TIER_NONE ? (size_t)ng : (size_t)st->group[i];
        m[r * cols + c]++;
        any_tier_none |= r == (size_t)nt;
        any_group_none |= c == (size_t)ng;
    }
    set_widths(st->tiers, 11, &id_w, &name_w);
    printf("\nMicro-segments (tier x group), customers:\n");
    print_left("tier\\group", id_w);
    for (g = 0; g <= ng; g++) {
        const char *label = g == ng ? "(none)" : seg_tiers_id(st->groups, g);
        if (g == ng && !any_group_none)
            break;
        col_w[g] = display_width(label) > 6 ? display_width(label) : 6;
        printf("  %*s", (int)col_w[g], label);
    }
    printf("  %7s\n", "Total");
    for (t = 0; t <= nt; t++) {
        size_t total = 0;
        if (t == nt && !any_tier_none)
            break;
        print_left(label_id(st->tiers, t == nt ? SEG_TIER_NONE : t), id_w);
        for (g = 0; g <= ng; g++) {
            if (g == ng && !any_group_none)
                break;
            printf("  %*zu", (int)col_w[g], m[(size_t)t * cols + (size_t)g]);
            total += m[(size_t)t * cols + (size_t)g];
        }
        printf("  %7zu\n", total);
    }
    print_left("Total", id_w);
    for (g = 0; g <= ng; g++) {
        size_t total = 0;
        if (g == ng && !any_group_none)
            break;
        for (t = 0; t <= nt; t++)
            total += m[(size_t)t * cols + (size_t)g];
        printf("  %*zu", (int)col_w[g], total);
    }
    printf("  %7zu\n", st->n);
    printf("Groups:");
    for (g = 0; g < ng; g++)
        printf(" %s = %s%s", seg_tiers_id(st->groups, g), seg_tiers_name(st->groups, g),
               g + 1 < ng ? "," : "\n");
    free(m);
    free(col_w);
    return EXIT_OK;
}

static void print_rate(double v)
{
    if (isnan(v))
        printf("  %9s", "-");
    else
        printf("  %8.1f%%", 100.0 * v);
}

static int print_migration(const struct state *st)
{
    int32_t nt = (int32_t)seg_tiers_count(st->tiers), a, b;
    size_t id_w, name_w, i, counted = 0, no_prev = 0, no_tier = 0;
    size_t *col_w = calloc((size_t)nt, sizeof *col_w);

    if (col_w == NULL)
        return out_of_memory();
    for (i = 0; i < st->n; i++) {
        if (st->prev[i] == SEG_TIER_NONE)
            no_prev++;
        else if (st->tier[i] == SEG_TIER_NONE)
            no_tier++;
        else
            counted++;
    }
    set_widths(st->tiers, 9, &id_w, &name_w);
    printf("\nMigration (rows: previous tier, columns: this run), %zu customers; not counted: "
           "%zu without a previous tier, %zu in no tier now:\n",
           counted, no_prev, no_tier);
    print_left("prev\\now", id_w);
    for (b = 0; b < nt; b++) {
        size_t w = display_width(seg_tiers_id(st->tiers, b));
        col_w[b] = w > 6 ? w : 6;
        printf("  %*s", (int)col_w[b], seg_tiers_id(st->tiers, b));
    }
    printf("  %7s  %9s  %9s  %9s\n", "Total", "Upgrade", "Retention", "Downgrade");
    for (a = 0; a < nt; a++) {
        int64_t total = 0;
        print_left(seg_tiers_id(st->tiers, a), id_w);
        for (b = 0; b < nt; b++) {
            int64_t c = st->migration[(size_t)a * (size_t)nt + (size_t)b];
            printf("  %*lld", (int)col_w[b], (long long)c);
            total += c;
        }
        printf("  %7lld", (long long)total);
        print_rate(st->up[a]);
        print_rate(st->stay[a]);
        print_rate(st->down[a]);
        printf("\n");
    }
    printf("Upgrade: share of a previous tier now in a higher tier; retention (保级率): "
           "still in it; downgrade: now lower.\n");
    free(col_w);
    return EXIT_OK;
}

static void write_csv_id(FILE *fp, const seg_tiers *set, int32_t k)
{
    const char *s = set != NULL && k != SEG_TIER_NONE ? seg_tiers_id(set, k) : NULL;
    if (s != NULL)
        fputs(s, fp);
}

static int write_out(struct state *st, const char *path)
{
    size_t i;
    int failed;

    st->out = fopen(path, "wb");
    if (st->out == NULL) {
        fprintf(stderr, PROG ": cannot open the --out file '%s': %s\n", path, strerror(errno));
        return EXIT_FAIL;
    }
    fputs("customer_id,tier,group,next_tier,gap_column,gap,critical\n", st->out);
    for (i = 0; i < st->n; i++) {
        size_t len;
        const char *id = id_at(st, i, &len);
        write_csv_text(st->out, id, len);
        putc(',', st->out);
        write_csv_id(st->out, st->tiers, st->tier[i]);
        putc(',', st->out);
        if (st->group != NULL)
            write_csv_id(st->out, st->groups, st->group[i]);
        putc(',', st->out);
        write_csv_id(st->out, st->tiers, st->next[i] < 0 ? SEG_TIER_NONE : st->next[i]);
        putc(',', st->out);
        if (st->gap_col[i] >= 0) {
            const char *name = NULL;
            if (seg_frame_column_info(st->frame, (size_t)st->gap_col[i], &name, NULL) == SEG_OK)
                write_csv_text(st->out, name, strlen(name));
        }
        putc(',', st->out);
        write_csv_double(st->out, st->gap[i]);
        fprintf(st->out, ",%d\n", st->critical[i] ? 1 : 0);
    }
    failed = ferror(st->out);
    if (fclose(st->out) != 0)
        failed = 1;
    st->out = NULL;
    if (failed) {
        fprintf(stderr, PROG ": %s: write error\n", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */

int main(int argc, char **argv)
{
    struct options opt;
    struct state st;
    int help, rc;

    memset(&st, 0, sizeof st);
    rc = parse_args(argc, argv, &opt, &help);
    if (rc != EXIT_OK)
        return rc;
    if (help) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }

    rc = read_customers(&st, opt.input);
    if (rc == EXIT_OK)
        rc = build_frame(&st, opt.input);
    if (rc == EXIT_OK)
        rc = load_set(&st, opt.rules_path, &st.tiers);
    if (rc == EXIT_OK && opt.groups_path != NULL)
        rc = load_set(&st, opt.groups_path, &st.groups);
    if (rc != EXIT_OK)
        goto done;

    printf("%s: %zu customers, %zu numeric columns\n", opt.input, st.n, st.n_cols);
    printf("Tiers: %s (%zu tiers)%s%s\n", opt.rules_path, seg_tiers_count(st.tiers),
           opt.groups_path != NULL ? "; groups: " : "",
           opt.groups_path != NULL ? opt.groups_path : "");
    if (opt.prev_path != NULL) {
        rc = read_prev(&st, opt.prev_path, opt.rules_path);
        if (rc != EXIT_OK)
            goto done;
    } else {
        printf("No --prev: no hysteresis, no migration matrix.\n");
    }
    rc = compute(&st, &opt);
    if (rc != EXIT_OK)
        goto done;

    printf("\n");
    print_coverage(st.tiers, opt.rules_path, "tier", st.tier, st.n);
    if (st.groups != NULL)
        print_coverage(st.groups, opt.groups_path, "group", st.group, st.n);
    rc = print_tier_sizes(&st, &opt);
    if (rc == EXIT_OK && st.groups != NULL)
        rc = print_micro_segments(&st);
    if (rc == EXIT_OK && st.prev != NULL)
        rc = print_migration(&st);
    if (rc != EXIT_OK)
        goto done;
    if (opt.out_path != NULL) {
        rc = write_out(&st, opt.out_path);
        if (rc != EXIT_OK)
            goto done;
        printf("\nWrote %zu rows to %s\n", st.n, opt.out_path);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror(PROG ": writing the report");
        rc = EXIT_FAIL;
    }
done:
    state_free(&st);
    return rc;
}
