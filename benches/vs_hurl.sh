#!/usr/bin/env bash
# runbook and Hurl on the shared harness's W1-W3 in the same run (same mock, same machine, median
# of 5 after a warm-up, whole process), plus 50 bare `sh -c true` measured by the same tool as W3's
# yardstick; prints the ratios against the goals of issue 15.
#
#   benches/vs_hurl.sh                 # needs hurl (the harness's setup.sh installs it)
#
# The harness itself is run by benches/compare.sh (a scratch copy, runbook as its `engine` peer).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${BENCH_SCRATCH:-/tmp/runbook-bench}"
command -v hurl >/dev/null || { echo "hurl is not installed (run the harness's setup.sh)" >&2; exit 1; }

BENCH_SCRATCH="$scratch" "$root/benches/compare.sh" engine hurl
results="$(readlink -f "$scratch/results/latest")/results.jsonl"
python3 "$scratch/tools/measure.py" --runs 5 --warmup 1 --label "bare w3" --cwd "$scratch" \
  --log "$(dirname "$results")/logs/bare-w3.log" --jsonl "$results" \
  -- bash -c 'for i in $(seq 50); do sh -c true; done'
# W3 again with the state directory in memory (/dev/shm): every shell step's start record is
# still synced before it runs, but a sync there costs nothing, so this row is runbook's own cost
# and the difference to the disk row is what the disk's syncs cost.
shm="$(mktemp -d /dev/shm/runbook-w3.XXXXXX)"
RUNBOOK_STATE_DIR="$shm" python3 "$scratch/tools/measure.py" --runs 5 --warmup 1 \
  --label "shm w3" --cwd "$scratch" --log "$(dirname "$results")/logs/shm-w3.log" \
  --jsonl "$results" -- "$root/target/release/runbook" run workloads/engine/w3_shell.yaml \
  --input base_url=http://127.0.0.1:9 --input api_key=bench-key-id --input api_secret=bench-secret-key
rm -rf "$shm"

python3 - "$results" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        peer, w = r["label"].split()[:2]
        rows[(peer, w)] = r
def med(peer, w, key="wall_s"):
    r = rows.get((peer, w))
    return r[key]["median"] if r and r["ok"] else None
print("\n| workload | runbook wall (cpu, peak) | yardstick | ratio | goal |")
print("|---|---|---|---|---|")
for peer, w, name, other, goal in [
        ("engine", "w1", "W1 200 checked requests", "hurl", 0.8),
        ("engine", "w2", "W2 start-up, 1 request", "hurl", 0.7),
        ("engine", "w3", "W3 50 shell `true`", "bare", 1.2),
        ("shm", "w3", "W3, state in /dev/shm", "bare", 1.2)]:
    rb, ot = med(peer, w), med(other, w)
    if rb is None or ot is None:
        print(f"| {name} | {rb} | {other}: {ot} | - | <= {goal}x |")
        continue
    label = "hurl" if other == "hurl" else "50 x bare `sh -c true`"
    print(f"| {name} | {rb:.3f} s ({med(peer, w, 'cpu_s'):.3f} s, "
          f"{med(peer, w, 'peak_mib'):.1f} MiB) | {label} {ot:.3f} s | "
          f"**{rb / ot:.2f}x** | <= {goal}x |")
PY
