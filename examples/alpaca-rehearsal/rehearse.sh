#!/usr/bin/env bash
# Rehearses runbooks/alpaca-live.yaml end to end against local stand-ins (no credentials, loopback
# only): an operator-assisted runbook answered from a file, so --allow-answers-file-on-live-run.
#   examples/alpaca-rehearsal/rehearse.sh [extra runbook args]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$here/standins.py" --port-file "$work/port" & server=$!
for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$work/port")"
runbook="${RUNBOOK_BIN:-$root/target/release/runbook}"
[[ -x "$runbook" ]] || { cargo build --release -q -p runbook-cli --manifest-path "$root/Cargo.toml"; }
export ALPACA_LIVE_API_KEY_ID=CURRENT-KEY-ID ALPACA_LIVE_API_SECRET_KEY=CURRENT-SECRET
export HEROKU_API_KEY=rehearsal-heroku-token INFISICAL_PROJECT_ID=proj-rehearsal
export INFISICAL_STANDIN_STORE="$work/infisical-store.env" RUNBOOK_STATE_DIR="${RUNBOOK_STATE_DIR:-$work/state}"
cd "$work"
"$runbook" run "$root/runbooks/alpaca-live.yaml" \
  --answers "$here/rehearsal.answers.yaml" --allow-answers-file-on-live-run \
  --input alpaca_base_url="$base" --input raxx_base_url="$base" --input heroku_api_url="$base" \
  --input infisical_bin="$here/infisical" --input snapshot_dir="$work/snapshots" \
  --input health_poll_interval=200ms --input health_timeout=10s "$@"
