/* SPDX-License-Identifier: MIT */
/*
 * crm_tags: a CRM that keeps one tag vocabulary (客户标签) for every system
 * and selects audiences (圈人) with it, using libsegment in-process.
 *
 *   crm_tags --registry TAGS.txt [--assign ASSIGN.csv] [--frame CUSTOMERS.csv]
 *            [--count] [--list-limit N] QUERY
 *
 * The vocabulary lives in a text file (examples/data/tags.txt): canonical
 * names, aliases, categories, exclusive groups and the rules of the rule
 * tags. The program only reads files and links them to the library:
 * seg_tagreg_load() -> seg_query_compile() -> seg_tagreg_find() for every
 * tag spelling in ASSIGN.csv -> seg_tagset_set_rows() once per tag ->
 * seg_tagset_eval_rules() over a frame of CUSTOMERS.csv -> seg_tagset_count()
 * and seg_query_count() / seg_query_select(). Run `crm_tags --help` for the
 * details.
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

#define PROG "crm_tags"
#define MAX_REGISTRY_BYTES (16L * 1024 * 1024)
#define MAX_NUMBER_LEN 79 /* longest number accepted in CUSTOMERS.csv, in bytes */
#define MAX_SUGGESTIONS 3
#define MAX_WARNINGS 20
#define NONE ((size_t)-1)

const char prog_name[] = PROG;

static const char usage_text[] =
    "Usage: crm_tags --registry TAGS.txt [OPTIONS] QUERY\n"
    "\n"
    "Unifies customer tags under one registry and selects the customers that\n"
    "match QUERY, an audience query over tag names such as\n"
    "  '高净值 and not 流失预警 and (理财偏好 or `first purchase`)'\n"
    "(and, or, not, parentheses, true, false; a name is a tag's canonical name\n"
    "or any alias, compared after normalisation, so ＶＩＰ, VIP and vip are one).\n"
    "\n"
    "Options:\n"
    "  --registry TAGS.txt     tag registry in libsegment's text format (required),\n"
    "                          e.g. examples/data/tags.txt.\n"
    "  --assign ASSIGN.csv     manual tags: a header row with the columns customer_id\n"
    "                          and tag (others are ignored), then one row per\n"
    "                          (customer, tag). A tag may be written as its name or\n"
    "                          any alias; every spelling other than the canonical\n"
    "                          name is reported as 'alias -> canonical (id N)'.\n"
    "                          Rows naming a disabled tag are skipped with a\n"
    "                          warning; naming a rule tag is an error (its rule\n"
    "                          decides). Tags are set in ascending id order, so a\n"
    "                          customer given two tags of one exclusive group keeps\n"
    "                          the one with the higher id.\n"
    "  --frame CUSTOMERS.csv   customers: a header row, the customer id in the first\n"
    "                          column, numbers in the others (an empty field is a\n"
    "                          missing value). Its columns feed the rule tags, which\n"
    "                          are evaluated after the manual tags are set. With\n"
    "                          --frame, every customer of ASSIGN.csv must be in it;\n"
    "                          without it, the customers are the ids of ASSIGN.csv in\n"
    "                          order of first appearance and rule tags stay empty.\n"
    "  --count                 print only the number of matching customers, not\n"
    "                          their ids.\n"
    "  --list-limit N          list at most N matching ids (default 20).\n"
    "  -h, --help              print this help and exit.\n"
    "\n"
    "At least one of --assign and --frame is needed. The report gives the tag\n"
    "spellings used, then every tag of the registry with its category, kind,\n"
    "status, number of customers and share, then the query's result.\n"
    "\n"
    "Exit status: 0 success, 1 bad registry, bad query, bad input file or library\n"
    "error, 2 bad usage (unknown option, bad option value, missing argument).\n";

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

struct options {
    const char *registry_path;
    const char *assign_path;
    const char *frame_path;
    const char *query;
    int count_only;
    size_t list_limit;
};

/* Returns EXIT_OK (with *help set for --help) or EXIT_USAGE. */
static int parse_args(int argc, char **argv, struct options *opt, int *help)
{
    static const char *const with_value[] = {"--registry", "--assign", "--frame",
                                             "--list-limit"};
    static const char *const flags[] = {"--count"};
    struct cmdline cmd = {argc, argv, flags, sizeof flags / sizeof flags[0], with_value,
                          sizeof with_value / sizeof with_value[0], error_hint, 1, 0};
    const char *arg, *value;
    size_t name_len;
    int kind;

    memset(opt, 0, sizeof *opt);
    opt->list_limit = 20;
    *help = 0;
    while ((kind = cmdline_next(&cmd, &arg, &name_len, &value)) != ARG_END) {
        if (kind == ARG_BAD)
            return EXIT_USAGE;
        if (kind == ARG_HELP) {
            *help = 1;
            return EXIT_OK;
        }
        if (kind == ARG_OPERAND) {
            if (opt->query != NULL) {
                error_hint("more than one QUERY (quote the query):", arg);
                return EXIT_USAGE;
            }
            opt->query = arg;
            continue;
        }
        if (kind == ARG_FLAG) { /* --count */
            opt->count_only = 1;
            continue;
        }
        if (option_is(arg, name_len, "--registry")) {
            opt->registry_path = value;
        } else if (option_is(arg, name_len, "--assign")) {
            opt->assign_path = value;
        } else if (option_is(arg, name_len, "--frame")) {
            opt->frame_path = value;
        } else {
            char *end;
            unsigned long long v;
            errno = 0;
            v = strtoull(value, &end, 10);
            if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
                v > (unsigned long long)INT64_MAX) {
                error_hint("--list-limit needs a whole number >= 0, got", value);
                return EXIT_USAGE;
            }
            opt->list_limit = v > (unsigned long long)SIZE_MAX ? SIZE_MAX : (size_t)v;
        }
    }
    if (opt->registry_path == NULL) {
        error_hint("missing --registry TAGS.txt", NULL);
        return EXIT_USAGE;
    }
    if (opt->assign_path == NULL && opt->frame_path == NULL) {
        error_hint("no customers: give --assign ASSIGN.csv, --frame CUSTOMERS.csv or both",
                   NULL);
        return EXIT_USAGE;
    }
    if (opt->query == NULL) {
        error_hint("missing QUERY", NULL);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* A table of distinct strings (customer ids, tag spellings) with a hash    */
/* index: strings are numbered 0, 1, ... in the order they are added.       */


/* ------------------------------------------------------------------------ */
/* State                                                                    */

struct column {
    char *name;
    double *data;
};

/* One distinct way a tag was written in ASSIGN.csv. */
struct spelling {
    int32_t tag;  /* registry id */
    int disabled; /* the tag is disabled: its rows are skipped */
};

/* One (customer, tag) row of ASSIGN.csv. */
struct assignment {
    int32_t tag;
    int64_t row;
};

struct state {
    seg_tagreg *reg;
    seg_query *query;
    seg_tagset *set;
    seg_frame *frame;
    struct strtab ids;       /* customers: row i has id i */
    struct column *cols;     /* numeric columns of CUSTOMERS.csv */
    size_t n_cols;
    struct strtab spell;     /* tag spellings in ASSIGN.csv, in order of first use */
    struct spelling *spellings;
    struct assignment *assign;
    size_t n_assign, assign_cap;
    size_t n_assign_rows, n_disabled_rows;
    int64_t *rows;           /* scratch: rows of one tag, then query results */
    csv_reader *csv;
};

static void state_free(struct state *st)
{
    size_t k;
    seg_query_free(st->query);
    seg_tagset_free(st->set);
    seg_tagreg_free(st->reg);
    seg_frame_free(st->frame);
    strtab_free(&st->ids);
    for (k = 0; k < st->n_cols; k++) {
        free(st->cols[k].name);
        free(st->cols[k].data);
    }
    free(st->cols);
    strtab_free(&st->spell);
    free(st->spellings);
    free(st->assign);
    free(st->rows);
    csv_close(st->csv);
}

/* ------------------------------------------------------------------------ */
/* Registry and query                                                       */

/* Reads a whole file; *out is malloc'ed and NUL-terminated. */

/* A bad registry prints the library's "FILE:LINE:COL: message" alone. */
static int load_registry(struct state *st, const char *path)
{
    char *text = NULL, err[1024];
    size_t len = 0;
    int32_t rc;
    int ec = read_file(path, MAX_REGISTRY_BYTES, &text, &len);

    if (ec != EXIT_OK)
        return ec;
    err[0] = '\0';
    rc = seg_tagreg_load(&st->reg, text, len, path, NULL, err, sizeof err);
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

static int compile_query(struct state *st, const char *text)
{
    char err[1024];
    int32_t rc;

    err[0] = '\0';
    rc = seg_query_compile(&st->query, text, strlen(text), st->reg, "query", NULL, err,
                           sizeof err);
    if (rc == SEG_EPARSE) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    if (rc != SEG_OK)
        return lib_error("compiling the query", rc, err);
    return EXIT_OK;
}

/* Writes "; did you mean 'A', 'B'?" for the tags close to `name`, or nothing. */
static void print_suggestions(const seg_tagreg *reg, const char *name)
{
    int32_t ids[MAX_SUGGESTIONS];
    size_t n = 0, k;

    if (seg_tagreg_suggest(reg, name, ids, MAX_SUGGESTIONS, &n) != SEG_OK || n == 0)
        return;
    fputs("; did you mean ", stderr);
    for (k = 0; k < n; k++)
        fprintf(stderr, "%s'%s'", k > 0 ? ", " : "", seg_tagreg_name(reg, ids[k]));
    fputs("?", stderr);
}

/* ------------------------------------------------------------------------ */
/* CUSTOMERS.csv                                                            */

static int read_frame_header(struct state *st, const char *path)
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
    st->cols = calloc(nf, sizeof *st->cols);
    if (st->cols == NULL)
        return out_of_memory();
    for (j = 1; j < nf; j++) {
        size_t len;
        const char *h = csv_field(st->csv, j, &len);
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
        st->n_cols++;
    }
    return EXIT_OK;
}

static int read_frame(struct state *st, const char *path)
{
    size_t cap = 0, k, nf;
    int rc;
    char err[512];

    st->csv = csv_open(path, err, sizeof err);
    if (st->csv == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_FAIL;
    }
    rc = read_frame_header(st, path);
    if (rc != EXIT_OK)
        return rc;
    nf = st->n_cols + 1;
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t len, row;
        const char *id = csv_field(st->csv, 0, &len);

        if (csv_nfields(st->csv) != nf) {
            fprintf(stderr, PROG ": %s:%ld: %zu fields, the header has %zu\n", path,
                    csv_line(st->csv), csv_nfields(st->csv), nf);
            return EXIT_FAIL;
        }
        if (len == 0 || strlen(id) != len) {
            fprintf(stderr, PROG ": %s:%ld: bad customer id '%s' (expected non-empty text)\n",
                    path, csv_line(st->csv), id);
            return EXIT_FAIL;
        }
        if (strtab_find(&st->ids, id, len) != NONE) {
            fprintf(stderr, PROG ": %s:%ld: customer '%s' appears twice\n", path,
                    csv_line(st->csv), id);
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
        }
        for (k = 0; k < st->n_cols; k++) {
            size_t vlen;
            const char *v = csv_field(st->csv, k + 1, &vlen);
            int status = parse_number(v, vlen, MAX_NUMBER_LEN, &st->cols[k].data[row]);
            if (status > 0) {
                st->cols[k].data[row] = NAN; /* empty: missing */
            } else if (status < 0) {
                fprintf(stderr,
                        PROG ": %s:%ld: column '%s': bad value '%s' (expected a number, or an "
                             "empty field for a missing value)\n",
                        path, csv_line(st->csv), st->cols[k].name, v);
                return EXIT_FAIL;
            }
        }
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    csv_close(st->csv);
    st->csv = NULL;
    if (st->ids.n == 0) {
        fprintf(stderr, PROG ": %s: no data rows after the header\n", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int build_frame(struct state *st, const char *path)
{
    size_t k;
    int32_t rc = seg_frame_new(&st->frame, st->ids.n, NULL);
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
/* ASSIGN.csv                                                               */

/* The tag of a spelling seen for the first time on this line, checked. */
static int resolve_spelling(struct state *st, const char *path, long line, const char *tag,
                            struct spelling *out)
{
    int32_t id = 0, kind = 0, status = 0;

    if (seg_tagreg_find(st->reg, tag, &id) != SEG_OK) {
        fprintf(stderr, PROG ": %s:%ld: unknown tag '%s'", path, line, tag);
        print_suggestions(st->reg, tag);
        fputs("\n", stderr);
        return EXIT_FAIL;
    }
    if (seg_tagreg_code(st->reg, id, SEG_TAG_KIND, &kind) != SEG_OK ||
        seg_tagreg_code(st->reg, id, SEG_TAG_STATUS, &status) != SEG_OK) {
        fprintf(stderr, PROG ": %s:%ld: cannot read tag '%s'\n", path, line, tag);
        return EXIT_FAIL;
    }
    if (kind == SEG_TAG_RULE) {
        fprintf(stderr,
                PROG ": %s:%ld: tag '%s' (%s, id %d) is a rule tag: its rule decides who has "
                     "it, it cannot be assigned\n",
                path, line, tag, seg_tagreg_name(st->reg, id), (int)id);
        return EXIT_FAIL;
    }
    out->tag = id;
    out->disabled = status == SEG_TAG_DISABLED;
    return EXIT_OK;
}

static int add_assignment(struct state *st, int32_t tag, size_t row)
{
    if (st->n_assign == st->assign_cap) {
        size_t cap = st->assign_cap ? st->assign_cap * 2 : 1024;
        struct assignment *p = realloc(st->assign, cap * sizeof *p);
        if (p == NULL)
            return -1;
        st->assign = p;
        st->assign_cap = cap;
    }
    st->assign[st->n_assign].tag = tag;
    st->assign[st->n_assign].row = (int64_t)row;
    st->n_assign++;
    return 0;
}

static int read_assign(struct state *st, const char *path, const char *frame_path)
{
    size_t pos_id = NONE, pos_tag = NONE, j, nf;
    int rc;
    char err[512];

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
        if (len == 11 && memcmp(h, "customer_id", 11) == 0 && pos_id == NONE)
            pos_id = j;
        else if (len == 3 && memcmp(h, "tag", 3) == 0 && pos_tag == NONE)
            pos_tag = j;
    }
    if (pos_id == NONE || pos_tag == NONE) {
        fprintf(stderr, PROG ": %s:%ld: missing column '%s' in the header\n", path,
                csv_line(st->csv), pos_id == NONE ? "customer_id" : "tag");
        return EXIT_FAIL;
    }
    while ((rc = csv_next(st->csv)) == CSV_ROW) {
        size_t lid, ltag, row, sp;
        const char *id = csv_field(st->csv, pos_id, &lid);
        const char *tag = csv_field(st->csv, pos_tag, &ltag);
        long line = csv_line(st->csv);

        if (id == NULL || tag == NULL) {
            fprintf(stderr, PROG ": %s:%ld: only %zu fields, expected at least %zu\n", path,
                    line, csv_nfields(st->csv), (pos_id > pos_tag ? pos_id : pos_tag) + 1);
            return EXIT_FAIL;
        }
        if (lid == 0 || strlen(id) != lid) {
            fprintf(stderr, PROG ": %s:%ld: bad customer id '%s' (expected non-empty text)\n",
                    path, line, id);
            return EXIT_FAIL;
        }
        if (ltag == 0 || strlen(tag) != ltag) {
            fprintf(stderr, PROG ": %s:%ld: empty or bad tag for customer '%s'\n", path, line,
                    id);
            return EXIT_FAIL;
        }
        st->n_assign_rows++;

        sp = strtab_find(&st->spell, tag, ltag);
        if (sp == NONE) {
            struct spelling one, *p;
            rc = resolve_spelling(st, path, line, tag, &one);
            if (rc != EXIT_OK)
                return rc;
            sp = strtab_add(&st->spell, tag, ltag);
            if (sp == NONE)
                return out_of_memory();
            p = realloc(st->spellings, st->spell.cap * sizeof *p);
            if (p == NULL)
                return out_of_memory();
            st->spellings = p;
            p[sp] = one;
        }

        row = strtab_find(&st->ids, id, lid);
        if (row == NONE && frame_path != NULL) {
            fprintf(stderr, PROG ": %s:%ld: unknown customer '%s' (not in %s)\n", path, line,
                    id, frame_path);
            return EXIT_FAIL;
        }
        if (row == NONE && (row = strtab_add(&st->ids, id, lid)) == NONE)
            return out_of_memory();

        if (st->spellings[sp].disabled) {
            if (st->n_disabled_rows < MAX_WARNINGS)
                fprintf(stderr, PROG ": warning: %s:%ld: tag '%s' is disabled; row skipped\n",
                        path, line, tag);
            st->n_disabled_rows++;
            continue;
        }
        if (add_assignment(st, st->spellings[sp].tag, row) != 0)
            return out_of_memory();
    }
    if (rc == CSV_FAIL) {
        fprintf(stderr, PROG ": %s\n", csv_error(st->csv));
        return EXIT_FAIL;
    }
    csv_close(st->csv);
    st->csv = NULL;
    if (st->n_disabled_rows > MAX_WARNINGS)
        fprintf(stderr, PROG ": warning: %s: %zu rows with a disabled tag skipped in all\n",
                path, st->n_disabled_rows);
    if (st->ids.n == 0) {
        fprintf(stderr, PROG ": %s: no data rows after the header\n", path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int compare_assignments(const void *pa, const void *pb)
{
    const struct assignment *a = pa, *b = pb;
    if (a->tag != b->tag)
        return a->tag < b->tag ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

/* One seg_tagset_set_rows() per tag, in ascending id order. */
static int set_manual_tags(struct state *st)
{
    size_t i = 0, k;
    char err[512];

    if (st->n_assign > 0) /* qsort's array must not be NULL, even for 0 items */
        qsort(st->assign, st->n_assign, sizeof *st->assign, compare_assignments);
    st->rows = malloc((st->n_assign ? st->n_assign : 1) * sizeof *st->rows);
    if (st->rows == NULL)
        return out_of_memory();
    while (i < st->n_assign) {
        int32_t tag = st->assign[i].tag, rc;
        size_t n = 0;
        for (k = i; k < st->n_assign && st->assign[k].tag == tag; k++)
            st->rows[n++] = st->assign[k].row;
        err[0] = '\0';
        rc = seg_tagset_set_rows(st->set, tag, st->rows, n, 1, err, sizeof err);
        if (rc != SEG_OK) {
            char what[300];
            snprintf(what, sizeof what, "setting tag '%s'", seg_tagreg_name(st->reg, tag));
            return lib_error(what, rc, err);
        }
        i = k;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Report                                                                   */

static const char *kind_name(int32_t kind)
{
    return kind == SEG_TAG_RULE ? "rule" : kind == SEG_TAG_MODEL ? "model" : "fact";
}

static const char *status_name(int32_t status)
{
    static const char *const names[] = {"draft", "online", "offline", "disabled"};
    return status >= 0 && status <= 3 ? names[status] : "?";
}

/* One line per spelling that is not the canonical name: by tag id, then in
 * order of first use. */
static void print_spellings(const struct state *st)
{
    size_t i, k, n_tags = seg_tagreg_count(st->reg), n_alias = 0;
    for (i = 0; i < st->spell.n; i++)
        n_alias += strcmp(strtab_at(&st->spell, i, NULL),
                          seg_tagreg_name(st->reg, st->spellings[i].tag)) != 0;
    printf("Tag spellings: %zu distinct, %zu of them not the canonical name%s\n", st->spell.n,
           n_alias, n_alias ? ":" : "");
    for (k = 0; k < n_tags; k++) {
        int32_t id = seg_tagreg_id_at(st->reg, k);
        const char *name = seg_tagreg_name(st->reg, id);
        for (i = 0; i < st->spell.n; i++) {
            const char *s = strtab_at(&st->spell, i, NULL);
            if (st->spellings[i].tag == id && strcmp(s, name) != 0)
                printf("%s -> %s (id %d)\n", s, name, (int)id);
        }
    }
}

/* Every tag in id order: name, category, kind, status, customers, share. */
static int print_counts(const struct state *st, int have_frame)
{
    size_t n_tags = seg_tagreg_count(st->reg), i, name_w = 3, cat_w = 8;
    double n = (double)st->ids.n;

    for (i = 0; i < n_tags; i++) {
        int32_t id = seg_tagreg_id_at(st->reg, i);
        size_t w = display_width(seg_tagreg_name(st->reg, id));
        size_t c = display_width(seg_tagreg_text(st->reg, id, SEG_TAG_CATEGORY));
        name_w = w > name_w ? w : name_w;
        cat_w = c > cat_w ? c : cat_w;
    }
    printf("\nTags (%zu customers):\n", st->ids.n);
    printf("%6s  ", "Id");
    print_left("Tag", name_w);
    printf("  ");
    print_left("Category", cat_w);
    printf("  %-5s  %-8s  %9s  %6s\n", "Kind", "Status", "Customers", "Share");
    for (i = 0; i < n_tags; i++) {
        int32_t id = seg_tagreg_id_at(st->reg, i), kind = 0, status = 0;
        const char *cat = seg_tagreg_text(st->reg, id, SEG_TAG_CATEGORY);
        int64_t count = 0;
        int32_t rc;

        if (seg_tagreg_code(st->reg, id, SEG_TAG_KIND, &kind) != SEG_OK ||
            seg_tagreg_code(st->reg, id, SEG_TAG_STATUS, &status) != SEG_OK)
            return lib_error("reading the registry", SEG_ERROR, NULL);
        rc = seg_tagset_count(st->set, id, &count);
        if (rc != SEG_OK)
            return lib_error("counting tags", rc, NULL);
        printf("%6d  ", (int)id);
        print_left(seg_tagreg_name(st->reg, id), name_w);
        printf("  ");
        print_left(cat != NULL && cat[0] != '\0' ? cat : "-", cat_w);
        printf("  %-5s  %-8s", kind_name(kind), status_name(status));
        if (status == SEG_TAG_DISABLED || (kind == SEG_TAG_RULE && !have_frame))
            printf("  %9s  %6s\n", "-", "-"); /* never populated */
        else
            printf("  %9lld  %5.1f%%\n", (long long)count, percent((double)count, n));
    }
    if (!have_frame)
        printf("No --frame: rule tags are not evaluated ('-').\n");
    return EXIT_OK;
}

static int print_query(struct state *st, const struct options *opt)
{
    int64_t count = 0;
    size_t want, got = 0, i;
    char err[512];
    int32_t rc;

    err[0] = '\0';
    rc = seg_query_count(st->query, st->set, &count, err, sizeof err);
    if (rc != SEG_OK)
        return lib_error("counting the audience", rc, err);
    printf("\nQuery: %s\n", opt->query);
    printf("Matching customers: %lld of %zu (%.1f%%)\n", (long long)count, st->ids.n,
           percent((double)count, (double)st->ids.n));
    if (opt->count_only)
        return EXIT_OK;
    want = (uint64_t)count < (uint64_t)opt->list_limit ? (size_t)count : opt->list_limit;
    free(st->rows);
    st->rows = malloc((want ? want : 1) * sizeof *st->rows);
    if (st->rows == NULL)
        return out_of_memory();
    err[0] = '\0';
    rc = seg_query_select(st->query, st->set, 0, st->rows, want, &got, err, sizeof err);
    if (rc != SEG_OK)
        return lib_error("selecting the audience", rc, err);
    for (i = 0; i < got; i++) {
        if (st->rows[i] < 0 || (size_t)st->rows[i] >= st->ids.n)
            return lib_error("selecting the audience", SEG_ERANGE, "row out of range");
        printf("  %s\n", strtab_at(&st->ids, (size_t)st->rows[i], NULL));
    }
    if ((int64_t)got < count)
        printf("(%zu of %lld listed; --list-limit N lists more)\n", got, (long long)count);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */

static void print_registry_summary(const seg_tagreg *reg, const char *path)
{
    size_t n = seg_tagreg_count(reg), i, by_kind[3] = {0, 0, 0}, disabled = 0;
    for (i = 0; i < n; i++) {
        int32_t id = seg_tagreg_id_at(reg, i), kind = 0, status = 0;
        seg_tagreg_code(reg, id, SEG_TAG_KIND, &kind);
        seg_tagreg_code(reg, id, SEG_TAG_STATUS, &status);
        if (kind >= 0 && kind <= 2)
            by_kind[kind]++;
        disabled += status == SEG_TAG_DISABLED;
    }
    printf("Registry: %s: %zu tags (%zu fact, %zu rule, %zu model; %zu disabled)\n", path, n,
           by_kind[SEG_TAG_FACT], by_kind[SEG_TAG_RULE], by_kind[SEG_TAG_MODEL], disabled);
}

int main(int argc, char **argv)
{
    struct options opt;
    struct state st;
    char err[1024];
    int help, rc;
    int32_t lrc;

    memset(&st, 0, sizeof st);
    rc = parse_args(argc, argv, &opt, &help);
    if (rc != EXIT_OK)
        return rc;
    if (help) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }

    rc = load_registry(&st, opt.registry_path);
    if (rc == EXIT_OK)
        rc = compile_query(&st, opt.query);
    if (rc == EXIT_OK && opt.frame_path != NULL)
        rc = read_frame(&st, opt.frame_path);
    if (rc == EXIT_OK && opt.frame_path != NULL)
        rc = build_frame(&st, opt.frame_path);
    if (rc == EXIT_OK && opt.assign_path != NULL)
        rc = read_assign(&st, opt.assign_path, opt.frame_path);
    if (rc != EXIT_OK)
        goto done;

    lrc = seg_tagset_new(&st.set, st.reg, st.ids.n, NULL);
    if (lrc != SEG_OK) {
        rc = lib_error("creating the tag set", lrc, NULL);
        goto done;
    }
    rc = set_manual_tags(&st);
    if (rc != EXIT_OK)
        goto done;
    if (st.frame != NULL) {
        err[0] = '\0';
        lrc = seg_tagset_eval_rules(st.set, st.frame, NULL, 0, err, sizeof err);
        if (lrc == SEG_EPARSE && err[0] != '\0') {
            fprintf(stderr, "%s\n", err); /* TAGS.txt:LINE:COL: message */
            rc = EXIT_FAIL;
            goto done;
        }
        if (lrc != SEG_OK) {
            rc = lib_error("evaluating the rule tags", lrc, err);
            goto done;
        }
    }

    print_registry_summary(st.reg, opt.registry_path);
    if (opt.frame_path != NULL)
        printf("Customers: %s: %zu customers, %zu numeric columns\n", opt.frame_path, st.ids.n,
               st.n_cols);
    if (opt.assign_path != NULL) {
        printf("Assignments: %s: %zu rows, %zu skipped (disabled tag)%s\n", opt.assign_path,
               st.n_assign_rows, st.n_disabled_rows,
               opt.frame_path == NULL ? "; customers taken from this file" : "");
        print_spellings(&st);
    }
    rc = print_counts(&st, st.frame != NULL);
    if (rc == EXIT_OK)
        rc = print_query(&st, &opt);
    if (rc == EXIT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        perror(PROG ": writing the report");
        rc = EXIT_FAIL;
    }
done:
    state_free(&st);
    return rc;
}
