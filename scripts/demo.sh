#!/usr/bin/env bash
# The main job: a hub on the embedded SQLite database, filled with demo data,
# with a demo site ready to enrol and a central admin account, served on
# http://127.0.0.1:${DEMO_PORT:-8080}; then a demo site (its store in var/demo/site)
# enrols with the one-time code, syncs its roster and a demo nurse, and the site
# client opens (without a display it says so and exits; the hub keeps serving).
# Set DEMO_NO_SERVE=1 to prepare everything and exit.
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
# The invitations go to files here (a real hub gives --smtp/--sms-url instead).
rm -rf var/demo/outbox
$hub notify send --folder var/demo/outbox --until-empty --limit 5000 --db "$db"

port=${DEMO_PORT:-8080}
hub_url="http://127.0.0.1:$port"
cat <<TXT

imuno demo hub: $hub_url  (OpenAPI: $hub_url/docs)
  central admin: admin / demo-admin-password
  invitations sent: var/demo/outbox/{sms,email}/
TXT
code=$($hub sites enrol-code "$site" --json --db "$db" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["code"])')
echo "  one-time enrolment code for site $site: $code"

# A demo nurse for the site, created at the hub; it reaches the site with the first sync.
echo "demo-nurse-password" | $hub site-users add "$site" sestra --role nurse \
    --full-name "Demo Sestra" --password-stdin --db "$db" >/dev/null
echo "  site nurse:    sestra / demo-nurse-password"

# The hub serves in the background while the demo site enrols and syncs over HTTP.
$hub serve --db "$db" --port "$port" >var/demo/hub.log 2>&1 &
hub_pid=$!
trap 'kill "$hub_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if .venv/bin/python -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" \
        "$hub_url/healthz" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$hub_pid" 2>/dev/null; then
        echo "The hub did not start; its log (var/demo/hub.log):" >&2
        tail -n 20 var/demo/hub.log >&2
        exit 1
    fi
    sleep 0.2
done

# The demo site client: its own store and key under var/demo/site.
export IMUNO_SITE_DATA_DIR="$PWD/var/demo/site"
rm -rf "$IMUNO_SITE_DATA_DIR"
site_cli=.venv/bin/imuno-site
$site_cli enrol --hub "$hub_url" --code "$code" --no-sync
$site_cli sync

if [ "${DEMO_NO_SERVE:-0}" = 1 ]; then
    exit 0
fi

# Open the client window. Without a desktop it says so and exits; `make` exports
# QT_QPA_PLATFORM=offscreen for the tests, which must not reach the window here.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    env -u QT_QPA_PLATFORM $site_cli || true
else
    $site_cli || true
fi

echo "The hub keeps serving on $hub_url (log: var/demo/hub.log); press Ctrl+C to stop it."
wait "$hub_pid"
