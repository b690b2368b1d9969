#!/usr/bin/env bash
# Runs every benchmark at its documented default size and prints the figures.
# `make bench` starts the PostgreSQL test cluster and exports IMUNO_BENCH_PG_URL.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
status=0
for bench in bench/*.py; do
    echo "=== $bench"
    $py "$bench" || { echo "!!! $bench failed"; status=1; }
done
exit $status
