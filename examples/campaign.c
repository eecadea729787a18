/* SPDX-License-Identifier: MIT */
/*
 * campaign: a marketing team's campaign tool over a customer CSV, using
 * libsegment in-process. Two modes:
 *
 *   campaign --salt S [--control 0.1] [--holdout Q] [--strata COLUMN]
 *            [--outcomes OUTCOMES.csv] [--out ASSIGN.csv] CUSTOMERS.csv
 *
 * assigns every customer to the control group (对照组) or the treatment
 * group (实验组) of an experiment, reproducibly from the customer id and the
 * salt (seg_ab_assign(), or seg_ab_assign_stratified() to balance the arms
 * within each tier or segment), keeps a global holdout out of every
 * campaign, and, once the campaign has run, evaluates it from the outcomes
 * (seg_ab_proportions(), seg_ab_means(), seg_ab_mde(), seg_ab_sample_size()).
 *
 *   campaign --cluster K --features COL,COL,... [--transform T[,T...]]
 *            [--seed N] [--n-init N] [--max-iter N] [--tol X] [--threads N]
 *            [--profile COL,COL,...] [--out CLUSTERS.csv] CUSTOMERS.csv
 *
 * finds K groups of customers the rules missed (聚类分群, seg_kmeans_fit(),
 * ordered by the centroid of the first feature, descending) and prints
 * their portraits (客群画像, seg_profile_compute()).
 *
 * The program only reads and writes files; everything else is the library.
 * Run `campaign --help` for the details.
 */
#include <segment/segment.h>

#include "csv.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "campaign"
#define MAX_NUMBER_LEN 79 /* longest number accepted in a CSV field, in bytes */
#define MAX_LIST 256      /* most names in --features / --profile */
#define NONE ((size_t)-1)

/* Fixed statistical settings of the evaluation. */
#define CONFIDENCE 0.95
#define ALPHA 0.05
#define POWER 0.80

const char prog_name[] = PROG;

static const char usage_text[] =
    "Usage: campaign --salt S [OPTIONS] CUSTOMERS.csv             (experiment)\n"
    "       campaign --cluster K --features COLS [OPTIONS] CUSTOMERS.csv (clusters)\n"
    "\n"
    "CUSTOMERS.csv has a header row with a customer_id column (any non-empty\n"
    "text, unique). Columns named by --features and --profile must hold numbers\n"
    "(an empty field is a missing value); a --strata column may hold any text;\n"
    "other columns are not used.\n"
    "\n"
    "Experiment (实验组 / 对照组): assigns every customer to the control or the\n"
    "treatment arm from its customer_id and the salt alone, with libsegment's\n"
    "documented hash (FNV-1a-64 + SplitMix64, include/segment/experiment.h), so\n"
    "any system can recompute it. Prints the arm sizes (per stratum with\n"
    "--strata) and writes the assignment; with --outcomes, evaluates the campaign.\n"
    "  --salt S              the experiment's salt (required): one salt per\n"
    "                        campaign; different salts give independent arms.\n"
    "  --control X           share of the control arm, 0 < X < 1 (default 0.1);\n"
    "                        the treatment arm gets the rest.\n"
    "  --holdout Q           global holdout share, 0 <= Q < 1 (default 0): the\n"
    "                        same customers, whatever the salt, are kept out of\n"
    "                        every campaign (arm 'holdout').\n"
    "  --strata COLUMN       balance the arms within each value of COLUMN (a\n"
    "                        tier, a segment; text or numbers, an empty field is\n"
    "                        a stratum of its own): control = round(n * X) of\n"
    "                        each stratum's n customers outside the holdout.\n"
    "                        Arms then depend on the whole customer file.\n"
    "  --outcomes FILE.csv   the campaign's outcomes: a header row with the\n"
    "                        columns customer_id and converted (0 or 1), and\n"
    "                        optionally one more column, a number (empty when\n"
    "                        missing) such as the amount spent or the AUM growth.\n"
    "                        A customer without a row counts as not converted,\n"
    "                        with a missing value. Prints per arm the customers,\n"
    "                        conversions and rate; treatment vs control: the\n"
    "                        absolute lift (percentage points) and the relative\n"
    "                        lift with 95% confidence intervals and the\n"
    "                        two-proportion z-test p-value; for the value column\n"
    "                        the difference in means with Welch's t-test; and the\n"
    "                        minimum detectable effect (alpha 0.05, power 80%)\n"
    "                        at the control's rate for the two arms' sizes (their\n"
    "                        harmonic mean, rounded down, as customers per arm).\n"
    "  --out FILE.csv        write the assignment there (customer_id,arm with arm\n"
    "                        control, treatment or holdout, in input order)\n"
    "                        instead of a final 'Assignment' section on stdout.\n"
    "\n";

/* (two strings: ISO C compilers need support only 4095 bytes in one) */
static const char usage_text2[] =
    "Clusters (聚类分群 and 客群画像): k-means over numeric columns, then the\n"
    "profile of every cluster.\n"
    "  --cluster K           number of clusters, 1..1024.\n"
    "  --features COLS       comma-separated numeric columns to cluster on.\n"
    "                        Clusters are numbered by the centroid of the first\n"
    "                        one, descending: cluster 0 has the highest.\n"
    "  --transform T[,T...]  none, log1p, zscore, minmax or robust: one for every\n"
    "                        feature, or one per feature (default none).\n"
    "  --seed N              random seed, 0..2^53 (default 1).\n"
    "  --n-init N            runs from different seeds, the best kept (default 4).\n"
    "  --max-iter N          iterations per run (default 300).\n"
    "  --tol X               convergence tolerance (default 0.0001).\n"
    "  --threads N           worker threads for the fit (default 1; the result\n"
    "                        is the same for any N).\n"
    "  --profile COLS        numeric columns to profile (default: the features).\n"
    "  --out FILE.csv        write customer_id,cluster there (cluster empty for a\n"
    "                        customer with a missing feature) instead of a final\n"
    "                        'Clusters' section on stdout.\n"
    "Prints the fit (inertia, iterations), the centroids in original units and\n"
    "per cluster the customers, their share, and the mean and median of every\n"
    "profiled column (missing values left out and counted).\n"
    "\n"
    "  -h, --help            print this help and exit.\n"
    "\n"
    "Exit status: 0 success, 1 bad input file or library error, 2 bad usage\n"
    "(unknown option, bad option value, missing argument).\n";

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

static const char *const transform_names[] = {"none", "log1p", "zscore", "minmax", "robust"};
static const int32_t transform_codes[] = {SEG_XF_NONE, SEG_XF_LOG1P, SEG_XF_ZSCORE,
                                          SEG_XF_MINMAX, SEG_XF_ROBUST};
#define N_TRANSFORMS (sizeof transform_codes / sizeof transform_codes[0])

/* A comma-separated list, split in place in a copy. */
struct list {
    char *text;
    char *items[MAX_LIST];
    size_t n;
};

struct options {
    const char *input;
    const char *out_path;
    /* experiment */
    const char *salt;
    const char *strata;
    const char *outcomes;
    double control, holdout;
    /* clusters */
    int32_t k; /* 0: experiment mode */
    struct list features, transforms, profile;
    double seed, n_init, max_iter, tol, threads;
    int32_t *xf; /* transform code per feature */
};

static void options_free(struct options *opt)
{
    free(opt->features.text);
    free(opt->transforms.text);
    free(opt->profile.text);
    free(opt->xf);
}

/* Splits `value` at commas into `list` (with `unique`, a name may appear
 * only once); returns EXIT_OK, EXIT_USAGE or EXIT_FAIL (out of memory). */
static int split_list(const char *option, const char *value, int unique, struct list *list)
{
    size_t len = strlen(value), i, k;
    char *p;

    free(list->text);
    list->text = malloc(len + 1);
    list->n = 0;
    if (list->text == NULL)
        return out_of_memory();
    memcpy(list->text, value, len + 1);
    p = list->text;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0') {
            error_hint("empty name in the list of", option);
            return EXIT_USAGE;
        }
        if (list->n == MAX_LIST) {
            error_hint("too many names (at most 256) in", option);
            return EXIT_USAGE;
        }
        list->items[list->n++] = p;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    for (i = 0; unique && i < list->n; i++)
        for (k = 0; k < i; k++)
            if (strcmp(list->items[i], list->items[k]) == 0) {
                char msg[80];
                snprintf(msg, sizeof msg, "column named twice in %s:", option);
                error_hint(msg, list->items[i]);
                return EXIT_USAGE;
            }
    return EXIT_OK;
}

/* A number in [lo, hi] (or (lo, hi) etc. per the flags) from an option. */
static int parse_real(const char *option, const char *value, double lo, int lo_open, double hi,
                      int hi_open, const char *what, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(value, &end);
    if (end == value || *end != '\0' || errno != 0 || !isfinite(v) || v < lo ||
        (lo_open && v == lo) || v > hi || (hi_open && v == hi)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s needs %s, got", option, what);
        error_hint(msg, value);
        return EXIT_USAGE;
    }
    *out = v;
    return EXIT_OK;
}

/* A whole number in [lo, hi] from an option. */
static int parse_whole(const char *option, const char *value, double lo, double hi,
                       double *out)
{
    char *end;
    double v;
    char msg[160];

    errno = 0;
    v = strtod(value, &end);
    if (value[0] >= '0' && value[0] <= '9' && *end == '\0' && errno == 0 && v >= lo &&
        v <= hi && v == floor(v)) {
        *out = v;
        return EXIT_OK;
    }
    snprintf(msg, sizeof msg, "%s needs a whole number from %.0f to %.0f, got", option, lo, hi);
    error_hint(msg, value);
    return EXIT_USAGE;
}

/* Returns EXIT_OK (with *help set for --help) or EXIT_USAGE (EXIT_FAIL when
 * out of memory). */
static int parse_args(int argc, char **argv, struct options *opt, int *help)
{
    static const char *const with_value[] = {
        "--salt",    "--control",  "--holdout",  "--strata",  "--outcomes",
        "--out",     "--cluster",  "--features", "--transform", "--seed",
        "--n-init",  "--max-iter", "--tol",      "--threads", "--profile"};
    int rc, exp_opt = 0, cl_opt = 0;
    struct cmdline cmd = {argc, argv, NULL, 0, with_value,
                          sizeof with_value / sizeof with_value[0], error_hint, 1, 0};
    const char *arg, *value;
    size_t name_len;
    int kind;
    const char *first_exp = NULL, *first_cl = NULL;
    size_t f, t;

    memset(opt, 0, sizeof *opt);
    opt->control = 0.1;
    opt->seed = 1;
    opt->n_init = 4;
    opt->max_iter = 300;
    opt->tol = 1e-4;
    opt->threads = 1;
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
        rc = EXIT_OK;
        if (option_is(arg, name_len, "--out")) {
            opt->out_path = value;
        } else if (option_is(arg, name_len, "--salt") || option_is(arg, name_len, "--control") ||
                   option_is(arg, name_len, "--holdout") ||
                   option_is(arg, name_len, "--strata") ||
                   option_is(arg, name_len, "--outcomes")) {
            exp_opt = 1;
            if (first_exp == NULL)
                first_exp = arg;
            if (option_is(arg, name_len, "--salt")) {
                opt->salt = value;
            } else if (option_is(arg, name_len, "--control")) {
                rc = parse_real("--control", value, 0, 1, 1, 1, "a share 0 < X < 1 (e.g. 0.1)",
                                &opt->control);
            } else if (option_is(arg, name_len, "--holdout")) {
                rc = parse_real("--holdout", value, 0, 0, 1, 1,
                                "a share 0 <= Q < 1 (e.g. 0.05)", &opt->holdout);
            } else if (option_is(arg, name_len, "--strata")) {
                opt->strata = value;
            } else {
                opt->outcomes = value;
            }
        } else {
            cl_opt = 1;
            if (first_cl == NULL)
                first_cl = arg;
            if (option_is(arg, name_len, "--cluster")) {
                double k = 0;
                rc = parse_whole("--cluster", value, 1, 1024, &k);
                opt->k = (int32_t)k;
            } else if (option_is(arg, name_len, "--features")) {
                rc = split_list("--features", value, 1, &opt->features);
            } else if (option_is(arg, name_len, "--transform")) {
                rc = split_list("--transform", value, 0, &opt->transforms);
            } else if (option_is(arg, name_len, "--profile")) {
                rc = split_list("--profile", value, 1, &opt->profile);
            } else if (option_is(arg, name_len, "--seed")) {
                rc = parse_whole("--seed", value, 0, 9007199254740992.0, &opt->seed);
            } else if (option_is(arg, name_len, "--n-init")) {
                rc = parse_whole("--n-init", value, 1, 1000, &opt->n_init);
            } else if (option_is(arg, name_len, "--max-iter")) {
                rc = parse_whole("--max-iter", value, 1, 100000, &opt->max_iter);
            } else if (option_is(arg, name_len, "--threads")) {
                rc = parse_whole("--threads", value, 1, 256, &opt->threads);
            } else {
                rc = parse_real("--tol", value, 0, 0, HUGE_VAL, 0, "a number >= 0", &opt->tol);
            }
        }
        if (rc != EXIT_OK)
            return rc;
    }
    if (exp_opt && cl_opt) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s (an experiment option) cannot be combined with", first_exp);
        error_hint(msg, first_cl);
        return EXIT_USAGE;
    }
    if (cl_opt) {
        if (opt->k == 0) {
            error_hint("missing --cluster K (the cluster options need it)", NULL);
            return EXIT_USAGE;
        }
        if (opt->features.n == 0) {
            error_hint("missing --features COLS (the columns to cluster on)", NULL);
            return EXIT_USAGE;
        }
        if (opt->transforms.n > 1 && opt->transforms.n != opt->features.n) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "--transform needs one transform or one per feature (%zu), got",
                     opt->features.n);
            error_hint(msg, opt->transforms.text);
            return EXIT_USAGE;
        }
        opt->xf = malloc(opt->features.n * sizeof *opt->xf);
        if (opt->xf == NULL)
            return out_of_memory();
        for (f = 0; f < opt->features.n; f++) {
            const char *name = opt->transforms.n == 0   ? "none"
                               : opt->transforms.n == 1 ? opt->transforms.items[0]
                                                        : opt->transforms.items[f];
            for (t = 0; t < N_TRANSFORMS; t++)
                if (strcmp(name, transform_names[t]) == 0)
                    break;
            if (t == N_TRANSFORMS) {
                error_hint("unknown transform (none, log1p, zscore, minmax, robust):", name);
                return EXIT_USAGE;
            }
            opt->xf[f] = transform_codes[t];
        }
    } else {
        if (opt->salt == NULL) {
            error_hint("missing --salt S (or --cluster K for clusters)", NULL);
            return EXIT_USAGE;
        }
    }
    if (opt->input == NULL) {
        error_hint("missing CUSTOMERS.csv", NULL);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* A table of distinct strings with a hash index: strings are numbered      */
/* 0, 1, ... in the order they are added.                                   */


/* ------------------------------------------------------------------------ */
/* State                                                                    */

/* A column of CUSTOMERS.csv other than customer_id, read as numbers. */
struct column {
    char *name;
    size_t field;     /* position in the CSV record */
    double *data;     /* NaN: missing */
    long bad_line;    /* first line with a field that is not a number, or 0 */
    char *bad_value;  /* that field */
};

/* One stratum: a distinct value of the --strata column. */
struct stratum {
    size_t key;      /* index in state.strata_keys */
    size_t first;    /* row where it first appears */
    double number;   /* its value when the column is numeric */
    int empty;       /* the empty field */
};

struct state {
    size_t n;             /* customers, in input order */
    struct strtab ids;    /* row i has id i */
    const char **id_ptr;  /* id of every row, for the library */
    struct column *cols;
    size_t n_cols, n_fields, id_field;
    /* --strata */
    size_t strata_col;          /* the column, in cols */
    char *strata_text;          /* the field of every row */
    size_t strata_text_len, strata_text_cap, *strata_off;
    struct strtab strata_keys;  /* distinct values, in order of first appearance */
    struct stratum *strata;     /* sorted for the report */
    size_t n_strata;
    int32_t *stratum;           /* per row: index in strata */
    int strata_numeric;
    /* experiment */
    int32_t *arm;
    int8_t *converted;          /* -1: no row in OUTCOMES.csv */
    double *value;
    char *value_name;
    size_t n_outcome_rows;
    /* clusters */
    seg_frame *frame;
    seg_kmeans *km;
    seg_profile *profile;
    int32_t *labels;
    csv_reader *csv;
    FILE *out;
};

static void state_free(struct state *st)
{
    size_t k;
    seg_profile_free(st->profile);
    seg_kmeans_free(st->km);
    seg_frame_free(st->frame);
    strtab_free(&st->ids);
    free(st->id_ptr);
    for (k = 0; k < st->n_cols; k++) {
        free(st->cols[k].name);
        free(st->cols[k].data);
        free(st->cols[k].bad_value);
    }
    free(st->cols);
    free(st->strata_text);
    free(st->strata_off);
    strtab_free(&st->strata_keys);
    free(st->strata);
    free(st->stratum);
    free(st->arm);
    free(st->converted);
    free(st->value);
    free(st->value_name);
    free(st->labels);
    csv_close(st->csv);
    if (st->out != NULL && st->out != stdout)
        fclose(st->out);
}

static size_t find_column(const struct state *st, const char *name)
{
    size_t k;
    for (k = 0; k < st->n_cols; k++)
        if (strcmp(st->cols[k].name, name) == 0)
            return k;
    return NONE;
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
    st->id_field = NONE;
    st->cols = calloc(nf, sizeof *st->cols);
    if (st->cols == NULL)
        return out_of_memory();
    for (j = 0; j < nf; j++) {
        size_t len;
        const char *h = csv_field(st->csv, j, &len);
        if (len == 11 && memcmp(h, "customer_id", 11) == 0) {
            if (st->id_field != NONE) {
                fprintf(stderr, PROG ": %s:%ld: two customer_id columns in the header\n", path,
                        csv_line(st->csv));
                return EXIT_FAIL;
            }
            st->id_field = j;
            continue;
        }
        if (strlen(h) != len || len == 0) {
            fprintf(stderr, PROG ": %s:%ld: header field %zu is empty or contains a NUL byte\n",
                    path, csv_line(st->csv), j + 1);
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
    if (st->id_field == NONE) {
        fprintf(stderr, PROG ": %s:%ld: missing column 'customer_id' in the header\n", path,
                csv_line(st->csv));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int read_customers(struct state *st, const struct options *opt)
{
    const char *path = opt->input;
    size_t cap = 0, k;
    int rc;
    char err[512];

    st->strata_col = NONE;
    st->csv = csv_open(path, err, sizeof err);
    if (st->csv == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    rc = read_header(st, path);
    if (rc != EXIT_OK)
        return rc;
    if (opt->strata != NULL) {
        st->strata_col = find_column(st, opt->strata);
        if (st->strata_col == NONE) {
            fprintf(stderr, PROG ": %s: no column '%s' (--strata) in the header%s\n", path,
                    opt->strata,
                    strcmp(opt->strata, "customer_id") == 0 ? " other than the id" : "");
            return EXIT_FAIL;
        }
    }
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t len, row;
        const char *id;
        long line = csv_line(st->csv);

        if (csv_nfields(st->csv) != st->n_fields) {
            fprintf(stderr, PROG ": %s:%ld: %zu fields, the header has %zu\n", path, line,
                    csv_nfields(st->csv), st->n_fields);
            return EXIT_FAIL;
        }
        id = csv_field(st->csv, st->id_field, &len);
        if (len == 0 || strlen(id) != len) {
            fprintf(stderr, PROG ": %s:%ld: bad customer_id '%s' (expected non-empty text)\n",
                    path, line, id);
            return EXIT_FAIL;
        }
        if (strtab_find(&st->ids, id, len) != NONE) {
            fprintf(stderr, PROG ": %s:%ld: customer_id '%s' appears twice\n", path, line, id);
            return EXIT_FAIL;
        }
        row = strtab_add(&st->ids, id, len);
        if (row == NONE)
            return out_of_memory();
        if (row == cap) {
            cap = cap ? cap * 2 : 1024;
            for (k = 0; k < st->n_cols; k++) {
                double *p = realloc(st->cols[k].data, cap * sizeof *p);
                if (p == NULL)
                    return out_of_memory();
                st->cols[k].data = p;
            }
            if (st->strata_col != NONE) {
                size_t *p = realloc(st->strata_off, cap * sizeof *p);
                if (p == NULL)
                    return out_of_memory();
                st->strata_off = p;
            }
        }
        for (k = 0; k < st->n_cols; k++) {
            struct column *c = &st->cols[k];
            size_t vlen;
            const char *v = csv_field(st->csv, c->field, &vlen);
            int status = parse_number(v, vlen, MAX_NUMBER_LEN, &c->data[row]);
            if (status > 0) {
                c->data[row] = NAN; /* an empty or blank field is a missing value */
            } else if (status < 0) {
                c->data[row] = NAN;
                if (c->bad_line == 0) { /* an error only if the column is used as numbers */
                    c->bad_line = line;
                    c->bad_value = malloc(vlen + 1);
                    if (c->bad_value == NULL)
                        return out_of_memory();
                    memcpy(c->bad_value, v, vlen + 1);
                }
            }
            if (k == st->strata_col) {
                if (strlen(v) != vlen) {
                    fprintf(stderr, PROG ": %s:%ld: column '%s' contains a NUL byte\n", path,
                            line, c->name);
                    return EXIT_FAIL;
                }
                if (text_append(&st->strata_text, &st->strata_text_len, &st->strata_text_cap, v,
                                vlen, &st->strata_off[row]) != 0)
                    return out_of_memory();
            }
        }
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    csv_close(st->csv);
    st->csv = NULL;
    st->n = st->ids.n;
    if (st->n == 0) {
        fprintf(stderr, PROG ": %s: no data rows after the header\n", path);
        return EXIT_FAIL;
    }
    st->id_ptr = malloc(st->n * sizeof *st->id_ptr);
    if (st->id_ptr == NULL)
        return out_of_memory();
    for (k = 0; k < st->n; k++)
        st->id_ptr[k] = strtab_at(&st->ids, k, NULL);
    return EXIT_OK;
}

/* A column used as numbers: it must exist and hold only numbers. */
static int numeric_column(const struct state *st, const char *path, const char *name,
                          const char *option)
{
    size_t k = find_column(st, name);
    if (k == NONE) {
        fprintf(stderr, PROG ": %s: no column '%s' (%s) in the header\n", path, name, option);
        return EXIT_FAIL;
    }
    if (st->cols[k].bad_line != 0) {
        fprintf(stderr,
                PROG ": %s:%ld: column '%s' (%s): bad value '%s' (expected a number, or an "
                     "empty field for a missing value)\n",
                path, st->cols[k].bad_line, name, option, st->cols[k].bad_value);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Strata                                                                   */

static const struct state *sort_state; /* qsort() has no context argument */

static int compare_strata(const void *pa, const void *pb)
{
    const struct stratum *a = pa, *b = pb;
    if (a->empty != b->empty)
        return a->empty - b->empty; /* the empty field last */
    if (sort_state->strata_numeric && a->number != b->number)
        return a->number < b->number ? -1 : 1;
    {
        const struct strtab *t = &sort_state->strata_keys;
        int c = compare_bytes(strtab_at(t, a->key, NULL), t->len[a->key],
                              strtab_at(t, b->key, NULL), t->len[b->key]);
        return c != 0 ? c : (a->first < b->first ? -1 : a->first > b->first);
    }
}

/* The display text of a stratum: its field where it first appears. */
static const char *stratum_text(const struct state *st, size_t s)
{
    return st->strata[s].empty ? "(empty)"
                               : st->strata_text + st->strata_off[st->strata[s].first];
}

/*
 * Numbers the distinct values of the --strata column. A column whose every
 * non-empty field is a number groups by value (so 1 and 1.0 are one
 * stratum) and sorts numerically; any other column groups by the exact text
 * and sorts by bytes. The empty field is a stratum of its own, last.
 */
static int build_strata(struct state *st)
{
    const struct column *c = &st->cols[st->strata_col];
    size_t i, s, *code = NULL, *rank = NULL;
    char key[64];

    st->strata_numeric = c->bad_line == 0;
    st->stratum = malloc(st->n * sizeof *st->stratum);
    code = malloc(st->n * sizeof *code);
    if (st->stratum == NULL || code == NULL) {
        free(code);
        return out_of_memory();
    }
    for (i = 0; i < st->n; i++) {
        const char *text = st->strata_text + st->strata_off[i];
        const char *k = text;
        size_t klen = strlen(text), idx;
        int empty = isnan(c->data[i]) && st->strata_numeric;

        if (!st->strata_numeric) {
            /* a blank field counts as empty, as for numbers */
            size_t a = 0;
            while (text[a] == ' ' || text[a] == '\t')
                a++;
            empty = text[a] == '\0';
        }
        if (empty) {
            k = "";
            klen = 0;
        } else if (st->strata_numeric) {
            klen = (size_t)snprintf(key, sizeof key, "%.17g", c->data[i]);
            k = key;
        }
        idx = strtab_find(&st->strata_keys, k, klen);
        if (idx == NONE) {
            struct stratum *p;
            idx = strtab_add(&st->strata_keys, k, klen);
            if (idx == NONE) {
                free(code);
                return out_of_memory();
            }
            p = realloc(st->strata, st->strata_keys.cap * sizeof *p);
            if (p == NULL) {
                free(code);
                return out_of_memory();
            }
            st->strata = p;
            p[idx].key = idx;
            p[idx].first = i;
            p[idx].number = st->strata_numeric ? c->data[i] : 0;
            p[idx].empty = empty;
        }
        code[i] = idx;
    }
    st->n_strata = st->strata_keys.n;
    if (st->n_strata > (size_t)INT32_MAX) {
        free(code);
        fprintf(stderr, PROG ": too many strata\n");
        return EXIT_FAIL;
    }
    sort_state = st;
    qsort(st->strata, st->n_strata, sizeof *st->strata, compare_strata);
    sort_state = NULL;
    rank = malloc(st->n_strata * sizeof *rank);
    if (rank == NULL) {
        free(code);
        return out_of_memory();
    }
    for (s = 0; s < st->n_strata; s++)
        rank[st->strata[s].key] = s;
    for (i = 0; i < st->n; i++)
        st->stratum[i] = (int32_t)rank[code[i]];
    free(rank);
    free(code);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Experiment                                                               */

enum { ARM_CONTROL = 0, ARM_TREATMENT = 1 };

static const char *arm_name(int32_t arm)
{
    return arm == ARM_CONTROL ? "control" : arm == ARM_TREATMENT ? "treatment" : "holdout";
}

/* 0 control, 1 treatment, 2 holdout. */
static size_t arm_slot(int32_t arm)
{
    return arm == SEG_ARM_HOLDOUT ? 2 : (size_t)arm;
}

static int assign_arms(struct state *st, const struct options *opt)
{
    double weights[2];
    char err[512];
    int32_t rc;

    weights[ARM_CONTROL] = opt->control;
    weights[ARM_TREATMENT] = 1.0 - opt->control;
    st->arm = malloc(st->n * sizeof *st->arm);
    if (st->arm == NULL)
        return out_of_memory();
    err[0] = '\0';
    if (st->stratum != NULL)
        rc = seg_ab_assign_stratified(st->id_ptr, st->stratum, st->n, opt->salt, weights, 2,
                                      opt->holdout, NULL, st->arm, err, sizeof err);
    else
        rc = seg_ab_assign(st->id_ptr, st->n, opt->salt, weights, 2, opt->holdout, st->arm, err,
                           sizeof err);
    if (rc != SEG_OK)
        return lib_error("assigning arms", rc, err);
    return EXIT_OK;
}

/* A cell of a table: text, left- or right-aligned. */
#define MAX_CELL 64

struct table {
    char (*cells)[MAX_CELL];
    size_t n_cols, n_rows, cap_rows;
    size_t *width;
    int failed;
};

static int table_init(struct table *t, size_t n_cols)
{
    memset(t, 0, sizeof *t);
    t->n_cols = n_cols;
    t->width = calloc(n_cols, sizeof *t->width);
    return t->width == NULL ? -1 : 0;
}

static void table_free(struct table *t)
{
    free(t->cells);
    free(t->width);
}

/* Starts a row; returns its first cell. */
static char (*table_row(struct table *t))[MAX_CELL]
{
    if (t->failed)
        return NULL;
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
        char(*p)[MAX_CELL] = realloc(t->cells, cap * t->n_cols * sizeof *p);
        if (p == NULL) {
            t->failed = 1;
            return NULL;
        }
        t->cells = p;
        t->cap_rows = cap;
    }
    memset(t->cells + t->n_rows * t->n_cols, 0, t->n_cols * sizeof *t->cells);
    return t->cells + t->n_rows++ * t->n_cols;
}

/* Sets a cell of the last row, printf-style (cut at MAX_CELL - 1 bytes). */
#if defined(__GNUC__)
static void table_set(struct table *t, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

static void table_set(struct table *t, size_t col, const char *fmt, ...)
{
    va_list ap;
    if (t->failed || t->n_rows == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(t->cells[(t->n_rows - 1) * t->n_cols + col], MAX_CELL, fmt, ap);
    va_end(ap);
}

/* Prints the table: the first column left-aligned, the others right-aligned,
 * two spaces apart, with `indent` leading spaces. */
static int table_print(struct table *t, size_t indent)
{
    size_t r, c;
    if (t->failed)
        return out_of_memory();
    for (r = 0; r < t->n_rows; r++)
        for (c = 0; c < t->n_cols; c++) {
            size_t w = display_width(t->cells[r * t->n_cols + c]);
            if (w > t->width[c])
                t->width[c] = w;
        }
    for (r = 0; r < t->n_rows; r++) {
        printf("%*s", (int)indent, "");
        for (c = 0; c < t->n_cols; c++) {
            const char *s = t->cells[r * t->n_cols + c];
            size_t w = display_width(s);
            if (c == 0)
                print_left(s, c + 1 < t->n_cols ? t->width[c] : 0);
            else
                printf("  %*s%s", (int)(t->width[c] - w), "", s);
        }
        printf("\n");
    }
    return EXIT_OK;
}

static int print_arm_sizes(const struct state *st, const struct options *opt)
{
    size_t count[3] = {0, 0, 0}, i, s;
    struct table t;
    static const int32_t arms[3] = {ARM_CONTROL, ARM_TREATMENT, SEG_ARM_HOLDOUT};

    for (i = 0; i < st->n; i++)
        count[arm_slot(st->arm[i])]++;
    printf("\nArm sizes:\n");
    if (table_init(&t, 3) != 0)
        return out_of_memory();
    table_row(&t);
    table_set(&t, 0, "Arm");
    table_set(&t, 1, "Customers");
    table_set(&t, 2, "Share");
    for (s = 0; s < 3; s++) {
        if (s == 2 && opt->holdout == 0 && count[2] == 0)
            break;
        table_row(&t);
        table_set(&t, 0, "%s", arm_name(arms[s]));
        table_set(&t, 1, "%zu", count[s]);
        table_set(&t, 2, "%.2f%%", percent((double)count[s], (double)st->n));
    }
    table_row(&t);
    table_set(&t, 0, "Total");
    table_set(&t, 1, "%zu", st->n);
    table_set(&t, 2, "%.2f%%", 100.0);
    if (table_print(&t, 0) != EXIT_OK) {
        table_free(&t);
        return EXIT_FAIL;
    }
    table_free(&t);

    if (st->stratum != NULL) {
        size_t *m = calloc(st->n_strata * 3, sizeof *m);
        if (m == NULL)
            return out_of_memory();
        for (i = 0; i < st->n; i++)
            m[(size_t)st->stratum[i] * 3 + arm_slot(st->arm[i])]++;
        printf("\nArm sizes by stratum (column '%s', %zu strata; control share among the "
               "customers outside the holdout):\n",
               opt->strata, st->n_strata);
        if (table_init(&t, 6) != 0) {
            free(m);
            return out_of_memory();
        }
        table_row(&t);
        table_set(&t, 0, "Stratum");
        table_set(&t, 1, "Customers");
        table_set(&t, 2, "control");
        table_set(&t, 3, "treatment");
        table_set(&t, 4, "holdout");
        table_set(&t, 5, "Control share");
        for (s = 0; s < st->n_strata; s++) {
            size_t *r = m + s * 3, total = r[0] + r[1] + r[2];
            table_row(&t);
            table_set(&t, 0, "%s", stratum_text(st, s));
            table_set(&t, 1, "%zu", total);
            table_set(&t, 2, "%zu", r[0]);
            table_set(&t, 3, "%zu", r[1]);
            table_set(&t, 4, "%zu", r[2]);
            if (r[0] + r[1] > 0)
                table_set(&t, 5, "%.2f%%", percent((double)r[0], (double)(r[0] + r[1])));
            else
                table_set(&t, 5, "-");
        }
        free(m);
        if (table_print(&t, 0) != EXIT_OK) {
            table_free(&t);
            return EXIT_FAIL;
        }
        table_free(&t);
    }
    return EXIT_OK;
}

/* ---- OUTCOMES.csv ---- */

static int read_outcomes(struct state *st, const struct options *opt)
{
    const char *path = opt->outcomes;
    size_t pos_id = NONE, pos_conv = NONE, pos_value = NONE, j, nf, i;
    int rc;
    char err[512];

    st->converted = malloc(st->n * sizeof *st->converted);
    st->value = malloc(st->n * sizeof *st->value);
    if (st->converted == NULL || st->value == NULL)
        return out_of_memory();
    for (i = 0; i < st->n; i++) {
        st->converted[i] = -1;
        st->value[i] = NAN;
    }
    st->csv = csv_open(path, err, sizeof err);
    if (st->csv == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    rc = csv_next(st->csv);
    if (rc != CSV_ROW) {
        if (rc == CSV_FAIL)
            fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        else
            fprintf(stderr, PROG ": %s: the file is empty (expected a header row)\n", path);
        return EXIT_FAIL;
    }
    nf = csv_nfields(st->csv);
    for (j = 0; j < nf; j++) {
        size_t len;
        const char *h = csv_field(st->csv, j, &len);
        if (len == 11 && memcmp(h, "customer_id", 11) == 0 && pos_id == NONE) {
            pos_id = j;
        } else if (len == 9 && memcmp(h, "converted", 9) == 0 && pos_conv == NONE) {
            pos_conv = j;
        } else if (pos_value == NONE && len > 0 && strlen(h) == len) {
            pos_value = j;
            st->value_name = malloc(len + 1);
            if (st->value_name == NULL)
                return out_of_memory();
            memcpy(st->value_name, h, len + 1);
        } else {
            fprintf(stderr,
                    PROG ": %s:%ld: unexpected column %zu '%s' in the header (expected "
                         "customer_id,converted and at most one value column)\n",
                    path, csv_line(st->csv), j + 1, h);
            return EXIT_FAIL;
        }
    }
    if (pos_id == NONE || pos_conv == NONE) {
        fprintf(stderr, PROG ": %s:%ld: missing column '%s' in the header\n", path,
                csv_line(st->csv), pos_id == NONE ? "customer_id" : "converted");
        return EXIT_FAIL;
    }
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t lid, lconv, row;
        long line = csv_line(st->csv);
        const char *id, *conv;
        double c = 0;

        if (csv_nfields(st->csv) != nf) {
            fprintf(stderr, PROG ": %s:%ld: %zu fields, the header has %zu\n", path, line,
                    csv_nfields(st->csv), nf);
            return EXIT_FAIL;
        }
        id = csv_field(st->csv, pos_id, &lid);
        conv = csv_field(st->csv, pos_conv, &lconv);
        row = strtab_find(&st->ids, id, lid);
        if (row == NONE) {
            fprintf(stderr, PROG ": %s:%ld: unknown customer '%s' (not in %s)\n", path, line, id,
                    opt->input);
            return EXIT_FAIL;
        }
        if (st->converted[row] != -1) {
            fprintf(stderr, PROG ": %s:%ld: customer '%s' appears twice\n", path, line, id);
            return EXIT_FAIL;
        }
        if (parse_number(conv, lconv, MAX_NUMBER_LEN, &c) != 0 || (c != 0 && c != 1)) {
            fprintf(stderr, PROG ": %s:%ld: converted must be 0 or 1, got '%s'\n", path, line,
                    conv);
            return EXIT_FAIL;
        }
        st->converted[row] = (int8_t)c;
        if (pos_value != NONE) {
            size_t lv;
            const char *v = csv_field(st->csv, pos_value, &lv);
            int status = parse_number(v, lv, MAX_NUMBER_LEN, &st->value[row]);
            if (status > 0) {
                st->value[row] = NAN;
            } else if (status < 0) {
                fprintf(stderr,
                        PROG ": %s:%ld: column '%s': bad value '%s' (expected a number, or an "
                             "empty field for a missing value)\n",
                        path, line, st->value_name, v);
                return EXIT_FAIL;
            }
        }
        st->n_outcome_rows++;
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    csv_close(st->csv);
    st->csv = NULL;
    return EXIT_OK;
}

/* "+1.23" followed by `suffix`, or "-" for NaN. */
static const char *signed_fixed(char *buf, size_t cap, double v, int decimals,
                                const char *suffix)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%+.*f%s", decimals, v, suffix);
    return buf;
}

static void print_p(double p)
{
    if (isnan(p))
        printf("-");
    else
        printf("%.3g", p);
}

static int evaluate(struct state *st)
{
    size_t n[3] = {0, 0, 0}, conv[3] = {0, 0, 0}, vn[3] = {0, 0, 0}, absent = 0, i, s;
    double vsum[3] = {0, 0, 0};
    double prop[SEG_AB_N_FIELDS], mean[SEG_AB_N_MFIELDS];
    char err[512], a[40], b[40], c[40];
    struct table t;
    int32_t rc;
    static const int32_t arms[3] = {ARM_CONTROL, ARM_TREATMENT, SEG_ARM_HOLDOUT};

    for (i = 0; i < st->n; i++) {
        size_t k = arm_slot(st->arm[i]);
        n[k]++;
        if (st->converted[i] < 0)
            absent++;
        conv[k] += st->converted[i] == 1;
        if (!isnan(st->value[i])) {
            vn[k]++;
            vsum[k] += st->value[i];
        }
    }
    printf("\nEvaluation: %zu outcome rows; %zu customers without a row (not converted%s)\n",
           st->n_outcome_rows, absent, st->value_name != NULL ? ", no value" : "");
    if (table_init(&t, st->value_name != NULL ? 6 : 4) != 0)
        return out_of_memory();
    table_row(&t);
    table_set(&t, 0, "Arm");
    table_set(&t, 1, "Customers");
    table_set(&t, 2, "Converted");
    table_set(&t, 3, "Rate");
    if (st->value_name != NULL) {
        table_set(&t, 4, "Values");
        table_set(&t, 5, "Mean %s", st->value_name);
    }
    for (s = 0; s < 3; s++) {
        if (s == 2 && n[2] == 0)
            break;
        table_row(&t);
        table_set(&t, 0, "%s", arm_name(arms[s]));
        table_set(&t, 1, "%zu", n[s]);
        table_set(&t, 2, "%zu", conv[s]);
        if (n[s] > 0)
            table_set(&t, 3, "%.2f%%", 100.0 * (double)conv[s] / (double)n[s]);
        else
            table_set(&t, 3, "-");
        if (st->value_name != NULL) {
            table_set(&t, 4, "%zu", vn[s]);
            if (vn[s] > 0)
                table_set(&t, 5, "%.2f", vsum[s] / (double)vn[s]);
            else
                table_set(&t, 5, "-");
        }
    }
    if (table_print(&t, 0) != EXIT_OK) {
        table_free(&t);
        return EXIT_FAIL;
    }
    table_free(&t);

    if (n[0] == 0 || n[1] == 0) {
        printf("\nNo comparison: the %s arm is empty.\n", n[0] == 0 ? "control" : "treatment");
        return EXIT_OK;
    }

    /* Conversion: treatment (B) vs control (A). */
    err[0] = '\0';
    rc = seg_ab_proportions((int64_t)n[0], (int64_t)conv[0], (int64_t)n[1], (int64_t)conv[1],
                            CONFIDENCE, prop, err, sizeof err);
    if (rc != SEG_OK)
        return lib_error("comparing conversion rates", rc, err);
    printf("\nConversion, treatment vs control (two-proportion z-test, pooled; 95%% CI):\n");
    printf("  Absolute lift: %s (95%% CI %s to %s)\n",
           signed_fixed(a, sizeof a, 100.0 * prop[SEG_AB_DIFF], 2, " pp"),
           signed_fixed(b, sizeof b, 100.0 * prop[SEG_AB_DIFF_LO], 2, " pp"),
           signed_fixed(c, sizeof c, 100.0 * prop[SEG_AB_DIFF_HI], 2, " pp"));
    printf("  Relative lift: %s (95%% CI %s to %s)\n",
           signed_fixed(a, sizeof a, 100.0 * prop[SEG_AB_LIFT], 1, "%"),
           signed_fixed(b, sizeof b, 100.0 * prop[SEG_AB_LIFT_LO], 1, "%"),
           signed_fixed(c, sizeof c, 100.0 * prop[SEG_AB_LIFT_HI], 1, "%"));
    printf("  z = %.3f, p = ", prop[SEG_AB_STAT]);
    print_p(prop[SEG_AB_P]);
    printf("\n");

    /* Value: Welch's t-test. */
    if (st->value_name != NULL) {
        printf("\nValue '%s', treatment vs control (Welch's t-test; 95%% CI):\n",
               st->value_name);
        if (vn[0] < 2 || vn[1] < 2) {
            printf("  not computed: fewer than 2 values in the %s arm\n",
                   vn[0] < 2 ? "control" : "treatment");
        } else {
            double *va = malloc(n[0] * sizeof *va), *vb = malloc(n[1] * sizeof *vb);
            size_t ia = 0, ib = 0;
            if (va == NULL || vb == NULL) {
                free(va);
                free(vb);
                return out_of_memory();
            }
            for (i = 0; i < st->n; i++) {
                if (st->arm[i] == ARM_CONTROL)
                    va[ia++] = st->value[i]; /* NaN: skipped by the library */
                else if (st->arm[i] == ARM_TREATMENT)
                    vb[ib++] = st->value[i];
            }
            err[0] = '\0';
            rc = seg_ab_means(va, ia, vb, ib, CONFIDENCE, mean, err, sizeof err);
            free(va);
            free(vb);
            if (rc != SEG_OK)
                return lib_error("comparing means", rc, err);
            printf("  Difference in means: %s (95%% CI %s to %s)\n",
                   signed_fixed(a, sizeof a, mean[SEG_AB_MDIFF], 2, ""),
                   signed_fixed(b, sizeof b, mean[SEG_AB_MDIFF_LO], 2, ""),
                   signed_fixed(c, sizeof c, mean[SEG_AB_MDIFF_HI], 2, ""));
            if (isnan(mean[SEG_AB_T])) {
                printf("  t = -, df = -, p = - (both variances are 0)\n");
            } else {
                printf("  t = %.3f, df = %.1f, p = ", mean[SEG_AB_T], mean[SEG_AB_DF]);
                print_p(mean[SEG_AB_T_P]);
                printf("\n");
            }
        }
    }

    /* Minimum detectable effect at the control's rate for these arm sizes. */
    {
        double base = prop[SEG_AB_RATE_A], mde = NAN, diff = prop[SEG_AB_DIFF];
        int64_t per_arm = (int64_t)floor(2.0 * (double)n[0] * (double)n[1] /
                                         ((double)n[0] + (double)n[1]));
        printf("\nMinimum detectable effect (alpha 0.05 two-sided, power 80%%), base rate "
               "%.2f%% (control), %lld customers per arm (harmonic mean of %zu and %zu):\n",
               100.0 * base, (long long)per_arm, n[0], n[1]);
        if (base <= 0 || base >= 1 || per_arm < 2) {
            printf("  not computed: needs a control rate strictly between 0%% and 100%% and "
                   "at least 2 customers per arm\n");
        } else {
            rc = seg_ab_mde(base, per_arm, ALPHA, POWER, &mde);
            if (rc != SEG_OK)
                return lib_error("computing the minimum detectable effect", rc, NULL);
            if (isnan(mde))
                printf("  MDE: - (no lift is detectable with so few customers)\n");
            else
                printf("  MDE: %s (relative %s)\n",
                       signed_fixed(a, sizeof a, 100.0 * mde, 2, " pp"),
                       signed_fixed(b, sizeof b, 100.0 * mde / base, 1, "%"));
            if (diff != 0 && base + diff > 0 && base + diff < 1) {
                int64_t need = 0;
                rc = seg_ab_sample_size(base, diff, ALPHA, POWER, &need);
                if (rc == SEG_OK)
                    printf("  Customers per arm to detect the observed lift (%s): %lld\n",
                           signed_fixed(a, sizeof a, 100.0 * diff, 2, " pp"), (long long)need);
                else if (rc == SEG_ERANGE)
                    printf("  Customers per arm to detect the observed lift (%s): more "
                           "than 2^62\n",
                           signed_fixed(a, sizeof a, 100.0 * diff, 2, " pp"));
                else
                    return lib_error("computing the sample size", rc, NULL);
            }
        }
    }
    return EXIT_OK;
}

/* Opens --out, or stdout with a section title. */
static int open_output(struct state *st, const char *path, const char *title)
{
    if (path == NULL) {
        printf("\n%s:\n", title);
        st->out = stdout;
        return EXIT_OK;
    }
    st->out = fopen(path, "wb");
    if (st->out == NULL) {
        fprintf(stderr, PROG ": cannot open the --out file '%s': %s\n", path, strerror(errno));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int close_output(struct state *st, const char *path)
{
    int failed;
    if (st->out == stdout) {
        st->out = NULL;
        return EXIT_OK;
    }
    failed = ferror(st->out);
    if (fclose(st->out) != 0)
        failed = 1;
    st->out = NULL;
    if (failed) {
        fprintf(stderr, PROG ": %s: write error\n", path);
        return EXIT_FAIL;
    }
    printf("\nWrote %zu rows to %s\n", st->n, path);
    return EXIT_OK;
}

static int write_assignment(struct state *st, const char *path)
{
    size_t i;
    int rc = open_output(st, path, "Assignment");
    if (rc != EXIT_OK)
        return rc;
    fputs("customer_id,arm\n", st->out);
    for (i = 0; i < st->n; i++) {
        const char *id = strtab_at(&st->ids, i, NULL);
        write_csv_text(st->out, id, st->ids.len[i]);
        fprintf(st->out, ",%s\n", arm_name(st->arm[i]));
    }
    return close_output(st, path);
}

static int run_experiment(struct state *st, const struct options *opt)
{
    int rc;

    if (opt->strata != NULL) {
        rc = build_strata(st);
        if (rc != EXIT_OK)
            return rc;
    }
    rc = assign_arms(st, opt);
    if (rc != EXIT_OK)
        return rc;
    if (opt->outcomes != NULL) {
        rc = read_outcomes(st, opt);
        if (rc != EXIT_OK)
            return rc;
    }
    printf("Customers: %s: %zu customers\n", opt->input, st->n);
    printf("Experiment: salt '%s'; control %g%%, treatment %g%%; global holdout %g%%", opt->salt,
           100.0 * opt->control, 100.0 * (1.0 - opt->control), 100.0 * opt->holdout);
    if (opt->strata != NULL)
        printf("; stratified by '%s'\n", opt->strata);
    else
        printf("\n");
    rc = print_arm_sizes(st, opt);
    if (rc == EXIT_OK && opt->outcomes != NULL)
        rc = evaluate(st);
    if (rc == EXIT_OK)
        rc = write_assignment(st, opt->out_path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Clusters                                                                 */

static int build_frame(struct state *st, const char *path)
{
    size_t k;
    int32_t rc = seg_frame_new(&st->frame, st->n, NULL);
    if (rc != SEG_OK)
        return lib_error("creating the frame", rc, NULL);
    for (k = 0; k < st->n_cols; k++) {
        if (st->cols[k].bad_line != 0)
            continue; /* not numbers: not in the frame */
        rc = seg_frame_add_double(st->frame, st->cols[k].name, st->cols[k].data, NULL);
        if (rc != SEG_OK) {
            fprintf(stderr, PROG ": %s: column '%s': %s: %s\n", path, st->cols[k].name,
                    seg_status_str(rc), seg_frame_last_error(st->frame));
            return EXIT_FAIL;
        }
    }
    return EXIT_OK;
}

/* A number for the cluster tables: two decimals from 1 up, three
 * significant digits below (0.00123), "-" for NaN. */
static void format_number(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else if (v == 0 || fabs(v) >= 1)
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "%.3g", v);
}

static int fit_clusters(struct state *st, const struct options *opt)
{
    size_t f;
    int32_t rc;

    rc = seg_kmeans_new(&st->km, NULL);
    if (rc != SEG_OK)
        return lib_error("creating the model", rc, NULL);
    for (f = 0; f < opt->features.n; f++) {
        rc = seg_kmeans_add_feature(st->km, opt->features.items[f], opt->xf[f]);
        if (rc != SEG_OK)
            return lib_error("adding a feature", rc, seg_kmeans_last_error(st->km));
    }
    if ((rc = seg_kmeans_set_param(st->km, SEG_KM_K, opt->k)) != SEG_OK ||
        (rc = seg_kmeans_set_param(st->km, SEG_KM_N_INIT, opt->n_init)) != SEG_OK ||
        (rc = seg_kmeans_set_param(st->km, SEG_KM_MAX_ITER, opt->max_iter)) != SEG_OK ||
        (rc = seg_kmeans_set_param(st->km, SEG_KM_TOL, opt->tol)) != SEG_OK ||
        (rc = seg_kmeans_set_param(st->km, SEG_KM_SEED, opt->seed)) != SEG_OK ||
        (rc = seg_kmeans_set_param(st->km, SEG_KM_THREADS, opt->threads)) != SEG_OK ||
        (rc = seg_kmeans_set_param(st->km, SEG_KM_ORDER_BY, 0)) != SEG_OK)
        return lib_error("setting the k-means parameters", rc, seg_kmeans_last_error(st->km));
    st->labels = malloc(st->n * sizeof *st->labels);
    if (st->labels == NULL)
        return out_of_memory();
    rc = seg_kmeans_fit(st->km, st->frame, st->labels);
    if (rc != SEG_OK)
        return lib_error("clustering", rc, seg_kmeans_last_error(st->km));
    return EXIT_OK;
}

static int print_fit(const struct state *st, const struct options *opt)
{
    size_t nf = opt->features.n, f, i, missing = 0;
    int32_t k = opt->k, c, iter = 0, rc;
    double inertia = 0, *cent = malloc((size_t)k * nf * sizeof *cent);
    int64_t *sizes = malloc((size_t)k * sizeof *sizes);
    struct table t;
    char buf[MAX_CELL];

    if (cent == NULL || sizes == NULL) {
        free(cent);
        free(sizes);
        return out_of_memory();
    }
    rc = seg_kmeans_result(st->km, &inertia, &iter, sizes);
    if (rc == SEG_OK)
        rc = seg_kmeans_centroids(st->km, cent, (size_t)k * nf);
    if (rc != SEG_OK) {
        free(cent);
        free(sizes);
        return lib_error("reading the fit", rc, NULL);
    }
    for (i = 0; i < st->n; i++)
        missing += st->labels[i] < 0;
    printf("Customers: %s: %zu customers\n", opt->input, st->n);
    printf("k-means: k = %d; features", (int)k);
    for (f = 0; f < nf; f++) {
        size_t x;
        for (x = 0; x < N_TRANSFORMS && transform_codes[x] != opt->xf[f]; x++)
            ;
        printf("%s %s (%s)", f ? "," : "", opt->features.items[f], transform_names[x]);
    }
    printf("; seed %.0f, %.0f runs, max_iter %.0f, tol %g\n", opt->seed, opt->n_init,
           opt->max_iter, opt->tol);
    printf("Fitted on %zu customers (%zu with a missing feature get no cluster); inertia %.6g "
           "(transformed units), %d iterations\n",
           st->n - missing, missing, inertia, (int)iter);
    printf("Clusters are numbered by the centroid of '%s', descending.\n",
           opt->features.items[0]);

    printf("\nCentroids (original units):\n");
    if (table_init(&t, 2 + nf) != 0) {
        free(cent);
        free(sizes);
        return out_of_memory();
    }
    table_row(&t);
    table_set(&t, 0, "Cluster");
    table_set(&t, 1, "Customers");
    for (f = 0; f < nf; f++)
        table_set(&t, 2 + f, "%s", opt->features.items[f]);
    for (c = 0; c < k; c++) {
        table_row(&t);
        table_set(&t, 0, "%d", (int)c);
        table_set(&t, 1, "%lld", (long long)sizes[c]);
        for (f = 0; f < nf; f++) {
            format_number(buf, sizeof buf, cent[(size_t)c * nf + f]);
            table_set(&t, 2 + f, "%s", buf);
        }
    }
    free(cent);
    free(sizes);
    rc = table_print(&t, 0);
    table_free(&t);
    return rc;
}

static int print_profiles(struct state *st, const struct options *opt)
{
    const struct list *cols = opt->profile.n > 0 ? &opt->profile : &opt->features;
    size_t nc = cols->n, g, j, ng, *missing_cols = NULL, n_miss = 0, width, pos;
    char err[512], buf[MAX_CELL];
    struct table t;
    int32_t rc, first = 0;
    double v;

    err[0] = '\0';
    rc = seg_profile_compute(&st->profile, st->frame, st->labels, NULL,
                             (const char *const *)cols->items, nc, 0, NULL, err, sizeof err);
    if (rc != SEG_OK)
        return lib_error("computing the profiles", rc, err);
    ng = seg_profile_n_groups(st->profile);
    if (ng == 0 || seg_profile_group(st->profile, 0, &first, NULL, NULL, NULL) != SEG_OK)
        return lib_error("reading the profiles", SEG_ERROR, "no groups");

    /* A "missing" column for every profiled column with a missing value. */
    missing_cols = calloc(nc, sizeof *missing_cols);
    if (missing_cols == NULL)
        return out_of_memory();
    for (j = 0; j < nc; j++) {
        if (seg_profile_total(st->profile, j, SEG_STAT_MISSING, &v) != SEG_OK) {
            free(missing_cols);
            return lib_error("reading the profiles", SEG_ERROR, NULL);
        }
        missing_cols[j] = v > 0;
        n_miss += v > 0;
    }
    width = 3 + 2 * nc + n_miss;
    printf("\nProfiles (seg_profile_compute; per column the mean and median of the present "
           "values):\n");
    if (table_init(&t, width) != 0) {
        free(missing_cols);
        return out_of_memory();
    }
    table_row(&t);
    table_set(&t, 0, "Cluster");
    table_set(&t, 1, "Customers");
    table_set(&t, 2, "Share");
    for (j = 0, pos = 3; j < nc; j++) {
        table_set(&t, pos++, "%s mean", cols->items[j]);
        table_set(&t, pos++, "%s median", cols->items[j]);
        if (missing_cols[j])
            table_set(&t, pos++, "%s missing", cols->items[j]);
    }
    /* The clusters 0..k-1, then the customers without a cluster (label -1,
     * the profile's first group when present), then all customers. */
    for (g = 0; g <= ng; g++) {
        size_t grp = g;
        int32_t label = 0;
        int64_t count = 0;
        double share = 0;
        int total = g == ng;

        if (!total) {
            /* groups are in ascending label order: move label -1 (if any,
             * the first group) after the clusters */
            grp = first < 0 ? (g + 1) % ng : g;
            if (seg_profile_group(st->profile, grp, &label, NULL, &count, &share) != SEG_OK) {
                free(missing_cols);
                table_free(&t);
                return lib_error("reading the profiles", SEG_ERROR, NULL);
            }
        }
        table_row(&t);
        if (total)
            table_set(&t, 0, "all");
        else if (label < 0)
            table_set(&t, 0, "none");
        else
            table_set(&t, 0, "%d", (int)label);
        table_set(&t, 1, "%lld", total ? (long long)st->n : (long long)count);
        table_set(&t, 2, "%.2f%%", total ? 100.0 : 100.0 * share);
        for (j = 0, pos = 3; j < nc; j++) {
            static const int32_t stats[3] = {SEG_STAT_MEAN, SEG_STAT_MEDIAN, SEG_STAT_MISSING};
            size_t s;
            for (s = 0; s < (missing_cols[j] ? 3u : 2u); s++) {
                rc = total ? seg_profile_total(st->profile, j, stats[s], &v)
                           : seg_profile_value(st->profile, grp, j, stats[s], &v);
                if (rc != SEG_OK) {
                    free(missing_cols);
                    table_free(&t);
                    return lib_error("reading the profiles", rc, NULL);
                }
                if (s == 2)
                    snprintf(buf, sizeof buf, "%.0f", v);
                else
                    format_number(buf, sizeof buf, v);
                table_set(&t, pos++, "%s", buf);
            }
        }
    }
    free(missing_cols);
    rc = table_print(&t, 0);
    table_free(&t);
    return rc;
}

static int write_clusters(struct state *st, const char *path)
{
    size_t i;
    int rc = open_output(st, path, "Clusters");
    if (rc != EXIT_OK)
        return rc;
    fputs("customer_id,cluster\n", st->out);
    for (i = 0; i < st->n; i++) {
        write_csv_text(st->out, strtab_at(&st->ids, i, NULL), st->ids.len[i]);
        if (st->labels[i] >= 0)
            fprintf(st->out, ",%d\n", (int)st->labels[i]);
        else
            fputs(",\n", st->out);
    }
    return close_output(st, path);
}

static int run_clusters(struct state *st, const struct options *opt)
{
    size_t f;
    int rc;

    for (f = 0; f < opt->features.n; f++) {
        rc = numeric_column(st, opt->input, opt->features.items[f], "--features");
        if (rc != EXIT_OK)
            return rc;
    }
    for (f = 0; f < opt->profile.n; f++) {
        rc = numeric_column(st, opt->input, opt->profile.items[f], "--profile");
        if (rc != EXIT_OK)
            return rc;
    }
    rc = build_frame(st, opt->input);
    if (rc == EXIT_OK)
        rc = fit_clusters(st, opt);
    if (rc == EXIT_OK)
        rc = print_fit(st, opt);
    if (rc == EXIT_OK)
        rc = print_profiles(st, opt);
    if (rc == EXIT_OK)
        rc = write_clusters(st, opt->out_path);
    return rc;
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
    if (rc != EXIT_OK || help) {
        if (rc == EXIT_OK) {
            fputs(usage_text, stdout);
            fputs(usage_text2, stdout);
        }
        options_free(&opt);
        return rc;
    }
    rc = read_customers(&st, &opt);
    if (rc == EXIT_OK)
        rc = opt.k > 0 ? run_clusters(&st, &opt) : run_experiment(&st, &opt);
    if (rc == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        perror(PROG ": writing the report");
        rc = EXIT_FAIL;
    }
    state_free(&st);
    options_free(&opt);
    return rc;
}
