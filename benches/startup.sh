#!/usr/bin/env bash
# Start-up and lint speed with hyperfine (apt-get install hyperfine): `runbook --version`,
# `runbook lint` on one file and on the Alpaca runbook, and per-step engine overhead (W3: 50 shell
# steps running `true` against 1 such step; the difference over 49 is the cost of a step beyond the
# process it starts).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/release/runbook"
cargo build --release --quiet -p runbook-cli --manifest-path "$root/Cargo.toml"
python3 "$root/benches/gen_workloads.py"
state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
one="$state/one.yaml"
printf 'id: one\ntitle: one\nsteps:\n  - id: s1\n    shell: {command: "true"}\n' > "$one"
export RUNBOOK_STATE_DIR="$state/state"
hyperfine -N --warmup 20 --runs 200 \
  "$bin --version" \
  "$bin lint $root/examples/hello.yaml" \
  "$bin lint $root/runbooks/alpaca-live.yaml" \
  --export-markdown "$state/startup.md"
hyperfine -N --warmup 3 --runs 30 \
  "$bin run $one" \
  "$bin run $root/benches/workloads/w3_shell.yaml --input base_url=x --input api_key=x --input api_secret=x" \
  --export-markdown "$state/steps.md"
cat "$state/startup.md" "$state/steps.md"
