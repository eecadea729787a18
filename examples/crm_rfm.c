/* SPDX-License-Identifier: MIT */
/*
 * crm_rfm: a CRM's order export -> RFM segments, with libsegment in-process.
 *
 *   crm_rfm [--as-of YYYY-MM-DD] [--bins K] [--binning METHOD] [--scheme NAME]
 *           [--customer-level] [--scores OUT.csv] INPUT.csv
 *
 * The program is deliberately thin: it reads the CSV (examples/csv.c), maps
 * customer ids to dense indices, and hands arrays to the library:
 * seg_rfm_aggregate() -> seg_rfm_fit_score() -> seg_rfm_scheme_apply().
 * Run `crm_rfm --help` for the details.
 */
#include <segment/segment.h>

#include "csv.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "crm_rfm"
#define WINBACK_TOP 10
#define MAX_NUMBER_LEN 63 /* longest number accepted in the CSV, in bytes */

const char prog_name[] = PROG;

static const char usage_text[] =
    "Usage: crm_rfm [OPTIONS] INPUT.csv\n"
    "\n"
    "Scores customers by recency, frequency and monetary value (RFM) with\n"
    "libsegment and prints segment sizes, customer and revenue share per\n"
    "segment, and a top-10 win-back list.\n"
    "\n"
    "INPUT.csv has a header row. By default it is an order export with the\n"
    "columns customer_id, order_date (YYYY-MM-DD) and revenue, found by header\n"
    "name in any order; other columns are ignored. customer_id is any non-empty\n"
    "text. Quoted fields (\"...\", with \"\" for a quote) are understood.\n"
    "\n"
    "Options:\n"
    "  --as-of YYYY-MM-DD  analysis date; recency = analysis date - last order\n"
    "                      date, in days. Default: the day after the last order.\n"
    "                      An order dated after it is an error.\n"
    "  --bins K            bins (score levels) for R, F and M, 2..10 (default 5).\n"
    "                      The rfm10 and rfgrid schemes need 5.\n"
    "  --binning METHOD    r-compatible (default; as the R package rfm 0.3.0),\n"
    "                      rank, ties, mean or median (mean/median: 2 levels).\n"
    "  --scheme NAME       rfm10 (default; the rfm vignette's 10 segments plus\n"
    "                      Others), rfgrid (recency x frequency grid) or classic8\n"
    "                      (8 high/low classes). classic8 needs 2-level scores: if\n"
    "                      --binning is not mean or median, crm_rfm switches to\n"
    "                      median binning and says so on stderr.\n"
    "  --customer-level    INPUT.csv has one row per customer with the columns\n"
    "                      customer_id, recency_days, number_of_orders, revenue,\n"
    "                      used as they are (--as-of is then ignored).\n"
    "  --scores OUT.csv    also write one row per customer:\n"
    "                      customer_id,recency_days,frequency,monetary,\n"
    "                      r_score,f_score,m_score,rfm_score,segment\n"
    "                      (rfm_score = 100*R + 10*F + M; segment = display name).\n"
    "  -h, --help          print this help and exit.\n"
    "\n"
    "Customers are numbered and listed in byte order of customer_id (as R's\n"
    "dplyr group_by does), so results do not depend on the row order of\n"
    "INPUT.csv; --binning rank splits ties by customer_id.\n"
    "\n"
    "Win-back list: the 10 customers with the highest monetary value among\n"
    "those whose recency score is in the lower half (R <= K/2 with K recency\n"
    "levels: R 1-2 of 5, R 1 of 2), i.e. valuable customers who have lapsed;\n"
    "ties go to the higher frequency, then to the smaller customer_id.\n"
    "\n"
    "Exit status: 0 success, 1 bad input file or library error, 2 bad usage\n"
    "(unknown option, bad option value, incompatible options).\n";

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

struct options {
    const char *input;
    const char *scores_path;
    const char *as_of_text;
    int64_t as_of; /* days since 1970-01-01, valid if as_of_text != NULL */
    long bins;
    int bins_given;
    int32_t binning;
    const char *binning_name;
    int binning_given;
    int32_t scheme;
    const char *scheme_name;
    int customer_level;
};

struct name_value {
    const char *name;
    int32_t value;
};

static const struct name_value binning_names[] = {
    {"r-compatible", SEG_BINNING_R_COMPAT}, {"rank", SEG_BINNING_RANK},
    {"ties", SEG_BINNING_TIES},             {"mean", SEG_BINNING_MEAN},
    {"median", SEG_BINNING_MEDIAN},
};

static const struct name_value scheme_names[] = {
    {"rfm10", SEG_SCHEME_RFM10},
    {"rfgrid", SEG_SCHEME_RFGRID},
    {"classic8", SEG_SCHEME_CLASSIC8},
};

static int lookup_name(const struct name_value *table, size_t n, const char *name,
                       int32_t *out)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) == 0) {
            *out = table[i].value;
            return 0;
        }
    }
    return -1;
}

/* Prints "crm_rfm: MSG 'ARG'" (ARG may be NULL) and the usage, on stderr. */
static void usage_error(const char *msg, const char *arg)
{
    print_error(msg, arg);
    fputs(usage_text, stderr);
}

/* ------------------------------------------------------------------------ */
/* Dates                                                                    */

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Leap years in 1..y (y >= 0). */
static long leaps_through(long y)
{
    return y / 4 - y / 100 + y / 400;
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d, 1 <= y. */
static int64_t days_from_civil(long y, int m, int d)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = (int64_t)365 * (y - 1970) + (leaps_through(y - 1) - leaps_through(1969));
    days += before[m - 1] + (m > 2 && is_leap(y)) + (d - 1);
    return days;
}

/* Inverse of days_from_civil() for years 1..9999. */
static void civil_from_days(int64_t days, long *y, int *m, int *d)
{
    long year = 1970 + (long)(days / 366); /* never past the true year for days >= 0 */
    int month;
    int64_t rest;

    if (days < 0)
        year = 1970 + (long)(days / 365) - 1;
    while (days_from_civil(year + 1, 1, 1) <= days)
        year++;
    while (days_from_civil(year, 1, 1) > days)
        year--;
    rest = days - days_from_civil(year, 1, 1);
    for (month = 1; month < 12 && rest >= days_in_month(year, month); month++)
        rest -= days_in_month(year, month);
    *y = year;
    *m = month;
    *d = (int)rest + 1;
}

static void format_date(int64_t days, char *buf, size_t cap)
{
    long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04ld-%02d-%02d", y, m, d);
}

static int digits(const char *s, size_t n, long *out)
{
    size_t i;
    long v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Strict YYYY-MM-DD, years 0001..9999. */
static int parse_date(const char *s, size_t len, int64_t *out)
{
    long y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (digits(s, 4, &y) != 0 || digits(s + 5, 2, &m) != 0 || digits(s + 8, 2, &d) != 0)
        return -1;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m))
        return -1;
    *out = days_from_civil(y, (int)m, (int)d);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Customer ids -> dense indices                                            */

typedef struct {
    char *text; /* all ids, each followed by a NUL */
    size_t text_len, text_cap;
    size_t *off, *len; /* per customer */
    size_t n, cap;
    int32_t *slots; /* open addressing, -1 = empty */
    size_t n_slots; /* power of two */
} id_table;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static void ids_free(id_table *t)
{
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static const char *ids_get(const id_table *t, size_t i, size_t *len)
{
    if (len != NULL)
        *len = t->len[i];
    return t->text + t->off[i];
}

static int ids_rehash(id_table *t, size_t n_slots)
{
    int32_t *slots = malloc(n_slots * sizeof *slots);
    size_t i;
    if (slots == NULL)
        return -1;
    for (i = 0; i < n_slots; i++)
        slots[i] = -1;
    for (i = 0; i < t->n; i++) {
        size_t j = (size_t)hash_bytes(t->text + t->off[i], t->len[i]) & (n_slots - 1);
        while (slots[j] >= 0)
            j = (j + 1) & (n_slots - 1);
        slots[j] = (int32_t)i;
    }
    free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    return 0;
}

/* Finds or adds `s`. *out_idx gets its index, *out_new 1 if it was added.
 * Returns -1 on out of memory or too many customers. */
static int ids_intern(id_table *t, const char *s, size_t len, int32_t *out_idx, int *out_new)
{
    size_t j;

    if (t->n_slots == 0 && ids_rehash(t, 1024) != 0)
        return -1;
    j = (size_t)hash_bytes(s, len) & (t->n_slots - 1);
    while (t->slots[j] >= 0) {
        size_t k = (size_t)t->slots[j];
        if (t->len[k] == len && memcmp(t->text + t->off[k], s, len) == 0) {
            *out_idx = (int32_t)k;
            *out_new = 0;
            return 0;
        }
        j = (j + 1) & (t->n_slots - 1);
    }
    if (t->n >= (size_t)INT32_MAX)
        return -1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        size_t *p = realloc(t->off, cap * sizeof *p);
        if (p == NULL)
            return -1;
        t->off = p;
        p = realloc(t->len, cap * sizeof *p);
        if (p == NULL)
            return -1;
        t->len = p;
        t->cap = cap;
    }
    if (text_append(&t->text, &t->text_len, &t->text_cap, s, len, &t->off[t->n]) != 0)
        return -1;
    t->len[t->n] = len;
    t->slots[j] = (int32_t)t->n;
    *out_idx = (int32_t)t->n;
    *out_new = 1;
    t->n++;
    if (2 * t->n > t->n_slots && ids_rehash(t, t->n_slots * 2) != 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Input                                                                    */

/* Everything the program allocates, freed in one place. */
struct state {
    id_table ids;
    /* order rows */
    int32_t *row_customer;
    int64_t *row_day;
    double *row_amount;
    size_t n_rows, rows_cap;
    /* per customer */
    double *recency, *frequency, *monetary;
    uint8_t *has_purchase;
    int32_t *r, *f, *m, *cell, *segment;
    size_t n_customers;
    size_t *order; /* customer index (byte order of id) -> index in ids */
    int64_t analysis_day;
    seg_rfm *model;
    seg_rfm_scheme *scheme;
    csv_reader *csv;
    FILE *scores;
};

static void state_free(struct state *st)
{
    ids_free(&st->ids);
    free(st->row_customer);
    free(st->row_day);
    free(st->row_amount);
    free(st->recency);
    free(st->frequency);
    free(st->monetary);
    free(st->has_purchase);
    free(st->r);
    free(st->f);
    free(st->m);
    free(st->cell);
    free(st->segment);
    free(st->order);
    seg_rfm_free(st->model);
    seg_rfm_scheme_free(st->scheme);
    csv_close(st->csv);
    if (st->scores != NULL)
        fclose(st->scores);
}

struct sort_row {
    const char *id;
    size_t id_len;
    size_t idx;
};

static int compare_sort_rows(const void *pa, const void *pb)
{
    const struct sort_row *a = pa, *b = pb;
    return compare_bytes(a->id, a->id_len, b->id, b->id_len);
}

/*
 * Numbers customers in byte order of customer_id: fills st->order and
 * renumbers the order rows (or permutes the customer-level columns), so the
 * library sees the same indices whatever the row order of the file, and the
 * rank method splits ties by customer_id.
 */
static int renumber_customers(struct state *st, int customer_level)
{
    size_t n = st->ids.n, i;
    struct sort_row *rows = malloc(n * sizeof *rows);
    size_t *new_index = malloc(n * sizeof *new_index);
    double *tmp = customer_level ? malloc(n * sizeof *tmp) : NULL;

    st->order = malloc(n * sizeof *st->order);
    if (rows == NULL || new_index == NULL || st->order == NULL || (customer_level && tmp == NULL)) {
        free(rows);
        free(new_index);
        free(tmp);
        return -1;
    }
    for (i = 0; i < n; i++) {
        rows[i].id = ids_get(&st->ids, i, &rows[i].id_len);
        rows[i].idx = i;
    }
    qsort(rows, n, sizeof *rows, compare_sort_rows);
    for (i = 0; i < n; i++) {
        st->order[i] = rows[i].idx;
        new_index[rows[i].idx] = i;
    }
    if (customer_level) {
        double *cols[3];
        int c;
        cols[0] = st->recency;
        cols[1] = st->frequency;
        cols[2] = st->monetary;
        for (c = 0; c < 3; c++) {
            for (i = 0; i < n; i++)
                tmp[i] = cols[c][st->order[i]];
            memcpy(cols[c], tmp, n * sizeof *tmp);
        }
    } else {
        for (i = 0; i < st->n_rows; i++)
            st->row_customer[i] = (int32_t)new_index[st->row_customer[i]];
    }
    free(rows);
    free(new_index);
    free(tmp);
    return 0;
}

/* Reads the header and finds the `n` named columns. */
static int find_columns(csv_reader *csv, const char *path, const char *const *names, size_t n,
                        size_t *pos)
{
    size_t i, j, nf;
    int rc = csv_next(csv);

    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(csv));
        return EXIT_FAIL;
    }
    if (rc == CSV_EOF) {
        fprintf(stderr, PROG ": %s: the file is empty (expected a header row)\n", path);
        return EXIT_FAIL;
    }
    nf = csv_nfields(csv);
    for (i = 0; i < n; i++) {
        pos[i] = (size_t)-1;
        for (j = 0; j < nf; j++) {
            size_t len;
            const char *h = csv_field(csv, j, &len);
            if (len == strlen(names[i]) && memcmp(h, names[i], len) == 0) {
                pos[i] = j;
                break;
            }
        }
        if (pos[i] == (size_t)-1) {
            fprintf(stderr, PROG ": %s: missing column '%s' in the header (line %ld)\n", path,
                    names[i], csv_line(csv));
            return EXIT_FAIL;
        }
    }
    return EXIT_OK;
}

/* Fetches field `pos` of the current record; an error if the record is short. */
static const char *get_field(csv_reader *csv, const char *path, size_t pos, size_t *len)
{
    const char *s = csv_field(csv, pos, len);
    if (s == NULL)
        fprintf(stderr, PROG ": %s:%ld: only %zu fields, expected at least %zu\n", path,
                csv_line(csv), csv_nfields(csv), pos + 1);
    return s;
}

static int bad_value(csv_reader *csv, const char *path, const char *column, const char *value,
                     const char *expected)
{
    fprintf(stderr, PROG ": %s:%ld: bad %s '%s' (expected %s)\n", path, csv_line(csv), column,
            value, expected);
    return EXIT_FAIL;
}

static int grow_rows(struct state *st)
{
    size_t cap = st->rows_cap ? st->rows_cap * 2 : 4096;
    void *p;
    p = realloc(st->row_customer, cap * sizeof *st->row_customer);
    if (p == NULL)
        return -1;
    st->row_customer = p;
    p = realloc(st->row_day, cap * sizeof *st->row_day);
    if (p == NULL)
        return -1;
    st->row_day = p;
    p = realloc(st->row_amount, cap * sizeof *st->row_amount);
    if (p == NULL)
        return -1;
    st->row_amount = p;
    st->rows_cap = cap;
    return 0;
}

static int alloc_customers(struct state *st, size_t n)
{
    st->n_customers = n;
    if (st->recency == NULL)
        st->recency = malloc(n * sizeof *st->recency);
    if (st->frequency == NULL)
        st->frequency = malloc(n * sizeof *st->frequency);
    if (st->monetary == NULL)
        st->monetary = malloc(n * sizeof *st->monetary);
    st->has_purchase = malloc(n * sizeof *st->has_purchase);
    st->r = malloc(n * sizeof *st->r);
    st->f = malloc(n * sizeof *st->f);
    st->m = malloc(n * sizeof *st->m);
    st->cell = malloc(n * sizeof *st->cell);
    st->segment = malloc(n * sizeof *st->segment);
    if (st->recency == NULL || st->frequency == NULL || st->monetary == NULL ||
        st->has_purchase == NULL || st->r == NULL || st->f == NULL || st->m == NULL ||
        st->cell == NULL || st->segment == NULL)
        return -1;
    return 0;
}

static int read_orders(struct state *st, const struct options *opt)
{
    static const char *const cols[3] = {"customer_id", "order_date", "revenue"};
    size_t pos[3];
    int rc;
    int64_t last_day = INT64_MIN;
    const char *path = opt->input;

    rc = find_columns(st->csv, path, cols, 3, pos);
    if (rc != EXIT_OK)
        return rc;
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t lid, ldate, lrev;
        const char *id = get_field(st->csv, path, pos[0], &lid);
        const char *date = id ? get_field(st->csv, path, pos[1], &ldate) : NULL;
        const char *rev = date ? get_field(st->csv, path, pos[2], &lrev) : NULL;
        int32_t idx;
        int64_t day;
        double amount;
        int added;

        if (rev == NULL)
            return EXIT_FAIL;
        if (lid == 0)
            return bad_value(st->csv, path, "customer_id", id, "a non-empty id");
        if (parse_date(date, ldate, &day) != 0)
            return bad_value(st->csv, path, "order_date", date, "a date YYYY-MM-DD");
        if (parse_number(rev, lrev, MAX_NUMBER_LEN, &amount) != 0)
            return bad_value(st->csv, path, "revenue", rev, "a finite number");
        if (opt->as_of_text != NULL && day > opt->as_of) {
            fprintf(stderr, PROG ": %s:%ld: order_date %s is after the analysis date %s\n", path,
                    csv_line(st->csv), date, opt->as_of_text);
            return EXIT_FAIL;
        }
        if (ids_intern(&st->ids, id, lid, &idx, &added) != 0)
            return out_of_memory();
        if (st->n_rows == st->rows_cap && grow_rows(st) != 0)
            return out_of_memory();
        st->row_customer[st->n_rows] = idx;
        st->row_day[st->n_rows] = day;
        st->row_amount[st->n_rows] = amount;
        st->n_rows++;
        if (day > last_day)
            last_day = day;
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    if (st->n_rows == 0) {
        fprintf(stderr, PROG ": %s: no data rows after the header\n", path);
        return EXIT_FAIL;
    }
    st->analysis_day = opt->as_of_text != NULL ? opt->as_of : last_day + 1;
    if (renumber_customers(st, 0) != 0 || alloc_customers(st, st->ids.n) != 0)
        return out_of_memory();
    return EXIT_OK;
}

static int read_customers(struct state *st, const struct options *opt)
{
    static const char *const cols[4] = {"customer_id", "recency_days", "number_of_orders",
                                        "revenue"};
    size_t pos[4];
    size_t cap = 0;
    int rc;
    const char *path = opt->input;

    rc = find_columns(st->csv, path, cols, 4, pos);
    if (rc != EXIT_OK)
        return rc;
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        const char *field[4];
        size_t len[4];
        double v[3];
        size_t i;
        int32_t idx;
        int added;

        for (i = 0; i < 4; i++) {
            field[i] = get_field(st->csv, path, pos[i], &len[i]);
            if (field[i] == NULL)
                return EXIT_FAIL;
        }
        if (len[0] == 0)
            return bad_value(st->csv, path, "customer_id", field[0], "a non-empty id");
        for (i = 1; i < 4; i++) {
            if (parse_number(field[i], len[i], MAX_NUMBER_LEN, &v[i - 1]) != 0 ||
                (i < 3 && v[i - 1] < 0))
                return bad_value(st->csv, path, cols[i], field[i],
                                 i < 3 ? "a finite number >= 0" : "a finite number");
        }
        if (ids_intern(&st->ids, field[0], len[0], &idx, &added) != 0)
            return out_of_memory();
        if (!added) {
            fprintf(stderr, PROG ": %s:%ld: customer_id '%s' appears twice\n", path,
                    csv_line(st->csv), field[0]);
            return EXIT_FAIL;
        }
        if ((size_t)idx == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            double *p;
            p = realloc(st->recency, ncap * sizeof *p);
            if (p == NULL)
                return out_of_memory();
            st->recency = p;
            p = realloc(st->frequency, ncap * sizeof *p);
            if (p == NULL)
                return out_of_memory();
            st->frequency = p;
            p = realloc(st->monetary, ncap * sizeof *p);
            if (p == NULL)
                return out_of_memory();
            st->monetary = p;
            cap = ncap;
        }
        st->recency[idx] = v[0];
        st->frequency[idx] = v[1];
        st->monetary[idx] = v[2];
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    if (st->ids.n == 0) {
        fprintf(stderr, PROG ": %s: no data rows after the header\n", path);
        return EXIT_FAIL;
    }
    if (renumber_customers(st, 1) != 0 || alloc_customers(st, st->ids.n) != 0)
        return out_of_memory();
    memset(st->has_purchase, 1, st->n_customers);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Library calls                                                            */

static int build_model(struct state *st, const struct options *opt)
{
    static const int32_t bins_keys[3] = {SEG_RFM_PARAM_R_BINS, SEG_RFM_PARAM_F_BINS,
                                         SEG_RFM_PARAM_M_BINS};
    static const int32_t binning_keys[3] = {SEG_RFM_PARAM_R_BINNING, SEG_RFM_PARAM_F_BINNING,
                                            SEG_RFM_PARAM_M_BINNING};
    int32_t rc;
    int i;

    rc = seg_rfm_new(&st->model, NULL);
    if (rc != SEG_OK)
        return lib_error("creating the RFM model", rc, NULL);
    for (i = 0; i < 3; i++) {
        rc = seg_rfm_set_param(st->model, bins_keys[i], opt->bins);
        if (rc != SEG_OK)
            return lib_error("setting --bins", rc, seg_rfm_last_error(st->model));
        rc = seg_rfm_set_param(st->model, binning_keys[i], opt->binning);
        if (rc != SEG_OK)
            return lib_error("setting --binning", rc, seg_rfm_last_error(st->model));
    }
    rc = seg_rfm_set_param(st->model, SEG_RFM_PARAM_TIME_UNIT, SEG_TIME_DAYS);
    if (rc != SEG_OK)
        return lib_error("setting the time unit", rc, seg_rfm_last_error(st->model));
    return EXIT_OK;
}

static int run_analysis(struct state *st, const struct options *opt)
{
    char err[512];
    int32_t rc;

    err[0] = '\0';
    if (!opt->customer_level) {
        rc = seg_rfm_aggregate(st->model, st->row_customer, st->row_day, st->row_amount,
                               st->n_rows, st->analysis_day, st->n_customers, st->recency,
                               st->frequency, st->monetary, NULL, st->has_purchase, err,
                               sizeof err);
        if (rc != SEG_OK)
            return lib_error("aggregating orders", rc, err);
    }
    rc = seg_rfm_fit_score(st->model, st->recency, st->frequency, st->monetary, st->n_customers,
                           st->r, st->f, st->m, st->cell, NULL);
    if (rc != SEG_OK)
        return lib_error("fitting and scoring", rc, seg_rfm_last_error(st->model));
    rc = seg_rfm_scheme_apply(st->scheme, st->r, st->f, st->m, st->n_customers, st->segment, err,
                              sizeof err);
    if (rc != SEG_OK)
        return lib_error("assigning segments", rc, err);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */

static const char *segment_label(const struct state *st, int32_t seg)
{
    const char *name = seg == SEG_SEGMENT_NONE ? NULL : seg_rfm_scheme_name(st->scheme, seg);
    return name != NULL ? name : "(not scored)";
}

static int print_summary(const struct state *st, const struct options *opt)
{
    size_t n_seg = seg_rfm_scheme_count(st->scheme);
    size_t *count = calloc(n_seg + 1, sizeof *count); /* last slot: not scored */
    double *revenue = calloc(n_seg + 1, sizeof *revenue);
    double total_revenue = 0.0;
    size_t i, width = strlen("Segment"), not_scored;
    char date[40];

    if (count == NULL || revenue == NULL) {
        free(count);
        free(revenue);
        return out_of_memory();
    }
    for (i = 0; i < st->n_customers; i++) {
        size_t slot = st->segment[i] == SEG_SEGMENT_NONE ? n_seg : (size_t)st->segment[i];
        count[slot]++;
        revenue[slot] += st->monetary[i];
        total_revenue += st->monetary[i];
    }
    not_scored = count[n_seg];
    for (i = 0; i <= n_seg; i++) {
        size_t w = display_width(segment_label(st, i < n_seg ? (int32_t)i : SEG_SEGMENT_NONE));
        if (w > width)
            width = w;
    }

    if (opt->customer_level) {
        printf("%s: %zu customers (customer-level input)\n", opt->input, st->n_customers);
    } else {
        format_date(st->analysis_day, date, sizeof date);
        printf("%s: %zu customers, %zu orders, analysis date %s%s\n", opt->input,
               st->n_customers, st->n_rows, date,
               opt->as_of_text != NULL ? "" : " (the day after the last order)");
    }
    printf("Scheme %s, %ld levels per score, %s binning\n\n", opt->scheme_name,
           opt->binning == SEG_BINNING_MEAN || opt->binning == SEG_BINNING_MEDIAN ? 2L : opt->bins,
           opt->binning_name);

    print_left("Segment", width);
    printf("  %9s  %7s  %14s  %7s\n", "Customers", "Share", "Revenue", "Share");
    for (i = 0; i <= n_seg; i++) {
        if (i == n_seg && not_scored == 0)
            break;
        print_left(segment_label(st, i < n_seg ? (int32_t)i : SEG_SEGMENT_NONE), width);
        printf("  %9zu  %6.1f%%  %14.2f  %6.1f%%\n", count[i],
               percent((double)count[i], (double)st->n_customers), revenue[i],
               percent(revenue[i], total_revenue));
    }
    print_left("Total", width);
    printf("  %9zu  %6.1f%%  %14.2f  %6.1f%%\n", st->n_customers, 100.0, total_revenue,
           total_revenue != 0.0 ? 100.0 : 0.0);
    free(count);
    free(revenue);
    return EXIT_OK;
}

struct winback_row {
    double monetary, frequency;
    const char *id;
    size_t id_len;
    size_t idx;
};

static int compare_winback(const void *pa, const void *pb)
{
    const struct winback_row *a = pa, *b = pb;
    if (a->monetary != b->monetary)
        return a->monetary > b->monetary ? -1 : 1;
    if (a->frequency != b->frequency)
        return a->frequency > b->frequency ? -1 : 1;
    return compare_bytes(a->id, a->id_len, b->id, b->id_len);
}

static int print_winback(const struct state *st, const struct options *opt)
{
    long r_levels =
        opt->binning == SEG_BINNING_MEAN || opt->binning == SEG_BINNING_MEDIAN ? 2 : opt->bins;
    long r_max = r_levels / 2;
    struct winback_row *rows = malloc(st->n_customers * sizeof *rows);
    size_t n = 0, i, shown, id_width = strlen("customer_id"), seg_width = strlen("segment");

    if (rows == NULL)
        return out_of_memory();
    for (i = 0; i < st->n_customers; i++) {
        if (st->r[i] >= 1 && st->r[i] <= r_max) {
            rows[n].monetary = st->monetary[i];
            rows[n].frequency = st->frequency[i];
            rows[n].id = ids_get(&st->ids, st->order[i], &rows[n].id_len);
            rows[n].idx = i;
            n++;
        }
    }
    qsort(rows, n, sizeof *rows, compare_winback);
    shown = n < WINBACK_TOP ? n : WINBACK_TOP;
    for (i = 0; i < shown; i++) {
        size_t w = display_width(rows[i].id);
        size_t ws = display_width(segment_label(st, st->segment[rows[i].idx]));
        if (w > id_width)
            id_width = w;
        if (ws > seg_width)
            seg_width = ws;
    }

    printf("\nWin-back list: the %d customers with the highest monetary value among those\n"
           "with recency score R <= %ld (of %ld), i.e. valuable customers who have lapsed;\n"
           "ties: higher frequency first, then customer_id. %zu customers qualify.\n\n",
           WINBACK_TOP, r_max, r_levels, n);
    if (shown == 0) {
        printf("(nobody qualifies)\n");
        free(rows);
        return EXIT_OK;
    }
    printf("%4s  ", "rank");
    print_left("customer_id", id_width);
    printf("  ");
    print_left("segment", seg_width);
    printf("  %12s  %9s  %12s  %4s\n", "recency_days", "frequency", "monetary", "RFM");
    for (i = 0; i < shown; i++) {
        size_t k = rows[i].idx;
        printf("%4zu  ", i + 1);
        print_left(rows[i].id, id_width);
        printf("  ");
        print_left(segment_label(st, st->segment[k]), seg_width);
        printf("  %12.15g  %9.15g  %12.2f  %4d\n", st->recency[k], st->frequency[k],
               st->monetary[k], (int)st->cell[k]);
    }
    free(rows);
    return EXIT_OK;
}

static int write_scores(struct state *st, const char *path)
{
    size_t i;
    int failed;

    st->scores = fopen(path, "wb");
    if (st->scores == NULL) {
        fprintf(stderr, PROG ": cannot open the --scores file '%s': %s\n", path,
                strerror(errno));
        return EXIT_FAIL;
    }
    fputs("customer_id,recency_days,frequency,monetary,r_score,f_score,m_score,rfm_score,"
          "segment\n",
          st->scores);
    for (i = 0; i < st->n_customers; i++) {
        size_t id_len;
        const char *id = ids_get(&st->ids, st->order[i], &id_len);
        write_csv_text(st->scores, id, id_len);
        putc(',', st->scores);
        write_csv_double(st->scores, st->recency[i]);
        putc(',', st->scores);
        write_csv_double(st->scores, st->frequency[i]);
        putc(',', st->scores);
        write_csv_double(st->scores, st->monetary[i]);
        fprintf(st->scores, ",%d,%d,%d,%d,", (int)st->r[i], (int)st->f[i], (int)st->m[i],
                (int)st->cell[i]);
        if (st->segment[i] != SEG_SEGMENT_NONE) {
            const char *name = seg_rfm_scheme_name(st->scheme, st->segment[i]);
            write_csv_text(st->scores, name, strlen(name));
        }
        putc('\n', st->scores);
    }
    failed = ferror(st->scores);
    if (fclose(st->scores) != 0)
        failed = 1;
    st->scores = NULL;
    if (failed) {
        fprintf(stderr, PROG ": %s: write error\n", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */

/* Returns EXIT_OK, or an exit status (EXIT_OK with *help set for --help). */
static int parse_args(int argc, char **argv, struct options *opt, int *help)
{
    static const char *const flags[] = {"--customer-level"};
    static const char *const with_value[] = {"--as-of", "--bins", "--binning", "--scheme",
                                             "--scores"};
    struct cmdline cmd = {argc, argv, flags, sizeof flags / sizeof flags[0], with_value,
                          sizeof with_value / sizeof with_value[0], usage_error, 1, 0};
    const char *arg, *value;
    size_t name_len;
    int kind;
    int64_t lo = 2, hi = 10;

    memset(opt, 0, sizeof *opt);
    opt->bins = 5;
    opt->binning = SEG_BINNING_R_COMPAT;
    opt->binning_name = "r-compatible";
    opt->scheme = SEG_SCHEME_RFM10;
    opt->scheme_name = "rfm10";
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
                usage_error("more than one input file:", arg);
                return EXIT_USAGE;
            }
            opt->input = arg;
            continue;
        }
        if (kind == ARG_FLAG) { /* --customer-level */
            opt->customer_level = 1;
            continue;
        }
        if (option_is(arg, name_len, "--as-of")) {
            if (parse_date(value, strlen(value), &opt->as_of) != 0) {
                error_hint("--as-of needs a date YYYY-MM-DD, got", value);
                return EXIT_USAGE;
            }
            opt->as_of_text = value;
        } else if (option_is(arg, name_len, "--bins")) {
            char *end;
            long v = strtol(value, &end, 10);
            (void)seg_rfm_param_bounds(SEG_RFM_PARAM_R_BINS, &lo, &hi);
            if (end == value || *end != '\0' || v < lo || v > hi) {
                char msg[96];
                snprintf(msg, sizeof msg, "--bins must be an integer from %lld to %lld, got",
                         (long long)lo, (long long)hi);
                error_hint(msg, value);
                return EXIT_USAGE;
            }
            opt->bins = v;
            opt->bins_given = 1;
        } else if (option_is(arg, name_len, "--binning")) {
            if (lookup_name(binning_names, sizeof binning_names / sizeof binning_names[0], value,
                            &opt->binning) != 0) {
                error_hint("--binning must be r-compatible, rank, ties, mean or median, got",
                           value);
                return EXIT_USAGE;
            }
            opt->binning_name = value;
            opt->binning_given = 1;
        } else if (option_is(arg, name_len, "--scheme")) {
            if (lookup_name(scheme_names, sizeof scheme_names / sizeof scheme_names[0], value,
                            &opt->scheme) != 0) {
                error_hint("--scheme must be rfm10, rfgrid or classic8, got", value);
                return EXIT_USAGE;
            }
            opt->scheme_name = value;
        } else {
            opt->scores_path = value;
        }
    }
    if (opt->input == NULL) {
        usage_error("missing INPUT.csv", NULL);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Checks that the scores the model gives suit the scheme. */
static int check_levels(struct state *st, struct options *opt)
{
    int32_t levels = seg_rfm_scheme_levels(st->scheme);
    int two_level = opt->binning == SEG_BINNING_MEAN || opt->binning == SEG_BINNING_MEDIAN;

    if (levels == 2) {
        if (!two_level) {
            fprintf(stderr,
                    PROG ": note: --scheme %s needs 2-level scores; using --binning median "
                         "instead of %s\n",
                    opt->scheme_name, opt->binning_name);
            opt->binning = SEG_BINNING_MEDIAN;
            opt->binning_name = "median";
        } else if (opt->bins_given) {
            fprintf(stderr, PROG ": note: --bins is ignored with --binning %s (2 levels)\n",
                    opt->binning_name);
        }
        return EXIT_OK;
    }
    if (two_level) {
        fprintf(stderr,
                PROG ": --binning %s gives 2-level scores but --scheme %s needs %d levels "
                     "(use --scheme classic8 with mean/median)\n",
                opt->binning_name, opt->scheme_name, (int)levels);
        return EXIT_USAGE;
    }
    if (opt->bins != levels) {
        fprintf(stderr,
                PROG ": --scheme %s needs %d levels per score, so --bins must be %d "
                     "(got %ld)\n",
                opt->scheme_name, (int)levels, (int)levels, opt->bins);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct options opt;
    struct state st;
    char err[512];
    int help, rc;
    int32_t src;

    memset(&st, 0, sizeof st);
    rc = parse_args(argc, argv, &opt, &help);
    if (rc != EXIT_OK)
        return rc;
    if (help) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (opt.customer_level && opt.as_of_text != NULL)
        fprintf(stderr, PROG ": note: --as-of is ignored with --customer-level (recency_days "
                        "is given)\n");

    src = seg_rfm_scheme_new_builtin(&st.scheme, opt.scheme, NULL);
    if (src != SEG_OK) {
        rc = lib_error("creating the segment scheme", src, NULL);
        goto done;
    }
    rc = check_levels(&st, &opt);
    if (rc != EXIT_OK)
        goto done;

    st.csv = csv_open(opt.input, err, sizeof err);
    if (st.csv == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        rc = EXIT_FAIL;
        goto done;
    }
    rc = opt.customer_level ? read_customers(&st, &opt) : read_orders(&st, &opt);
    if (rc != EXIT_OK)
        goto done;
    csv_close(st.csv);
    st.csv = NULL;

    rc = build_model(&st, &opt);
    if (rc == EXIT_OK)
        rc = run_analysis(&st, &opt);
    if (rc == EXIT_OK && opt.scores_path != NULL)
        rc = write_scores(&st, opt.scores_path);
    if (rc == EXIT_OK)
        rc = print_summary(&st, &opt);
    if (rc == EXIT_OK)
        rc = print_winback(&st, &opt);
    if (rc == EXIT_OK && fflush(stdout) != 0) {
        perror(PROG ": writing the report");
        rc = EXIT_FAIL;
    }
done:
    state_free(&st);
    return rc;
}
