#!/usr/bin/env bash
# The main job: a hub on the embedded SQLite database, filled with demo data,
# with a demo site ready to enrol and a central admin account, served on
# http://127.0.0.1:${DEMO_PORT:-8080}. Set DEMO_NO_SERVE=1 to prepare and exit.
set -euo pipefail
cd "$(dirname "$0")/.."

hub=.venv/bin/imuno-hub
mkdir -p var/demo
db="sqlite:///$PWD/var/demo/central.sqlite"
rm -f var/demo/central.sqlite var/demo/central.sqlite-wal var/demo/central.sqlite-shm
export IMUNO_HUB_CSCA_KEY="$PWD/var/demo/csca-key.pem"
export IMUNO_HUB_SIGNER_KEY="$PWD/var/demo/hub-signer-key.pem"
rm -f "$IMUNO_HUB_CSCA_KEY" "$IMUNO_HUB_SIGNER_KEY"

$hub demo-data --db "$db" --citizens "${DEMO_CITIZENS:-20000}" --sites "${DEMO_SITES:-40}" --seed "${DEMO_SEED:-1}"
$hub cert init-csca --db "$db"
echo "demo-admin-password" | $hub users add admin --full-name "Demo Administrator" \
    --role central_admin --password-stdin --db "$db" >/dev/null
site=$($hub sites list --json --db "$db" | .venv/bin/python -c 'import json,sys; d=json.load(sys.stdin); items=d["items"] if isinstance(d,dict) else d; print(items[0]["code"])')
start=$(date -u +%F)
$hub schedule --start "$start" --days 3 --db "$db"

port=${DEMO_PORT:-8080}
cat <<TXT

imuno demo hub: http://127.0.0.1:$port  (OpenAPI: http://127.0.0.1:$port/docs)
  central admin: admin / demo-admin-password
TXT
$hub sites enrol-code "$site" --db "$db"
if [ "${DEMO_NO_SERVE:-0}" = 1 ]; then
    exit 0
fi
exec $hub serve --db "$db" --port "$port"
