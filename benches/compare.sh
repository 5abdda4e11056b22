#!/usr/bin/env bash
# Runs runbook as the `engine` peer of the shared benchmark harness (../shared/bench), on the same
# workloads and mock API as Hurl, Ansible, Step CI and Tavern. Peers that are not installed are
# skipped (install them with the harness's own setup.sh); their figures from the harness's
# RESULTS.md are quoted in docs/performance.md.
#
#   benches/compare.sh                 # runbook only (W1, W2, W3)
#   benches/compare.sh engine hurl     # side by side, when hurl is installed
#
# The harness is copied to a scratch directory (../shared may be read-only) and its `engine` line
# is pointed at runbook's real command line (`--input`, not the harness's placeholder `--var`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
harness="${BENCH_HARNESS:-$root/../shared/bench}"
scratch="${BENCH_SCRATCH:-/tmp/runbook-bench}"
peers=("$@"); [[ ${#peers[@]} -gt 0 ]] || peers=(engine)

cargo build --release --quiet -p runbook-cli --manifest-path "$root/Cargo.toml"
python3 "$root/benches/gen_workloads.py"
rm -rf "$scratch" && cp -r "$harness" "$scratch" && chmod -R u+w "$scratch"
mkdir -p "$scratch/workloads/engine"
cp "$root"/benches/workloads/*.yaml "$scratch/workloads/engine/"
sed -i 's/--var "base_url=\$base" --var "api_key=\$BENCH_API_KEY" --var "api_secret=\$secret"/--input "base_url=$base" --input "api_key=$BENCH_API_KEY" --input "api_secret=$secret"/' "$scratch/run.sh"
grep -q -- '--input "base_url=' "$scratch/run.sh" || { echo "could not point the harness at runbook's CLI" >&2; exit 1; }

# Journals, locks and the audit log go to a scratch state directory (on the same disk as usual).
export RUNBOOK_STATE_DIR="$scratch/state"
export BENCH_ENGINE_BIN="$root/target/release/runbook"
cd "$scratch"
./run.sh verify "${peers[@]}"
./run.sh "${peers[@]}"
