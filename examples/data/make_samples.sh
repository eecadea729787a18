#!/bin/sh
# Regenerates the sample data in this directory from the shared copies of the
# R package rfm 0.3.0 example data (see README.md here for provenance).
#
#   sh examples/data/make_samples.sh [SHARED_DATA_DIR]
#
# SHARED_DATA_DIR defaults to ../shared/data relative to the repository root.
# Fields are copied byte for byte (quotes included): the source files contain
# no commas or quotes inside fields, which the awk below checks.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../../shared/data}

# pick COLS (comma-separated header names, quoted as in the source) from FILE,
# keeping row order; MAXROWS limits the data rows (0 = all).
pick() {
    awk -F, -v cols="$2" -v maxrows="$3" '
    NR == 1 {
        nf = NF
        for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); idx[h] = i }
        n = split(cols, want, ",")
        for (j = 1; j <= n; j++) {
            if (!(want[j] in idx)) { print "missing column " want[j] > "/dev/stderr"; exit 2 }
            pos[j] = idx[want[j]]
        }
    }
    NR > 1 && maxrows > 0 && NR - 1 > maxrows { exit 0 }
    {
        if (NF != nf) { print "line " NR ": field count " NF " != " nf > "/dev/stderr"; exit 2 }
        line = $pos[1]
        for (j = 2; j <= n; j++) line = line "," $pos[j]
        print line
    }' "$1"
}

pick "$src/rfm_data_orders.csv" customer_id,order_date,revenue 0 > "$here/orders.csv"
pick "$src/rfm_data_customer.csv" customer_id,recency_days,number_of_orders,revenue 2000 > "$here/customers.csv"
