#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL cluster for the test suite and print
# its SQLAlchemy URL on stdout. Installs PostgreSQL with apt where it is missing.
#
# The cluster lives under ${IMUNO_PG_DIR:-/tmp/imuno-pg-test}, listens on
# 127.0.0.1:${IMUNO_PG_PORT:-55432}, runs with fsync off (test data only) and is
# left running so the next `make test` reuses it in milliseconds.
set -euo pipefail

dir=${IMUNO_PG_DIR:-/tmp/imuno-pg-test}
port=${IMUNO_PG_PORT:-55432}
url="postgresql+psycopg://imuno:imuno@127.0.0.1:${port}/postgres"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL is not installed: installing it with apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# PostgreSQL refuses to run as root; run it as the postgres user when we are root.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "$url"
    exit 0
fi

if [ ! -f "$dir/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    pwfile=$(mktemp)
    echo imuno > "$pwfile"
    chmod 644 "$pwfile"
    as_pg "$bindir/initdb" -D "$dir" -U imuno --pwfile="$pwfile" -A scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >&2
    rm -f "$pwfile"
fi

as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >&2
echo "$url"
