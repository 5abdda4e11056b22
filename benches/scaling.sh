#!/usr/bin/env bash
# Run time against the number of steps: runbooks of N `assert` steps (N = 10 .. 9,990; the YAML
# safety limit of 100,000 nodes stops at about 10,000), each run and linted with hyperfine. The
# run includes its lint (every run checks its runbook first), so `run - lint` is the engine's own
# time. Linear means the last column stays flat.
#
#   benches/scaling.sh [N ...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${SCALING_DIR:-/tmp/runbook-scaling}"
sizes=("$@"); [[ ${#sizes[@]} -gt 0 ]] || sizes=(10 100 1000 2000 5000 9990)
cargo build --release --quiet -p runbook-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/runbook"
rm -rf "$work" && mkdir -p "$work"
export RUNBOOK_STATE_DIR="$work/state"
printf '| steps | run (mean) | lint (mean) | run - lint | per step (run - lint) |\n|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  python3 - "$n" "$work/assert_$n.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
steps = "".join(f'  - id: a{i}\n    assert:\n      - that: "{i}"\n        equals: "{i}"\n' for i in range(n))
open(path, "w").write(f"id: scale-{n}\ntitle: Scale {n}\nsteps:\n{steps}")
PY
  runs=$(( n >= 5000 ? 5 : 10 ))
  hyperfine -N -w 1 -r "$runs" --export-json "$work/run_$n.json" "$bin run $work/assert_$n.yaml" >/dev/null
  hyperfine -N -w 1 -r "$runs" --export-json "$work/lint_$n.json" "$bin lint $work/assert_$n.yaml" >/dev/null
  python3 - "$n" "$work/run_$n.json" "$work/lint_$n.json" <<'PY'
import json, sys
n = int(sys.argv[1])
run = json.load(open(sys.argv[2]))["results"][0]["mean"]
lint = json.load(open(sys.argv[3]))["results"][0]["mean"]
print(f"| {n} | {run*1000:.1f} ms | {lint*1000:.1f} ms | {(run-lint)*1000:.1f} ms | {(run-lint)/n*1e6:.1f} us |")
PY
done
