#!/usr/bin/env bash
# Peak memory (max RSS from /usr/bin/time) of runs that handle large things:
#   - one GET of a tiny body: the process's own memory, for reference;
#   - one GET of a 10 MiB JSON body of small values (293,000 objects), with a capture;
#   - six such GETs in one run;
#   - one such GET with a `$..*` capture of every value, which no template reads;
#   - one such GET whose body its own `assert` reads through one plain path (`outputs.body.data.0.i`);
#   - one such GET whose body a later step reads through plain paths (`steps.big1.outputs.body...`);
#   - six such GETs, each read by a later step;
#   - one such GET whose list a later step reads only for its `length`: every item is counted, as `null`;
#   - one such GET whose list a later step reads whole (a comparison): the list is built as a tree;
#   - one such GET answered with a status the step does not expect (the run fails; its message
#     quotes the start of the body);
#   - `runbook runs` and `runbook show` over one journal of about 60 MB.
# A local Python server on 127.0.0.1 serves the body. Prints MiB and the ratio to the body's size.
#
#   benches/memory.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${MEMORY_DIR:-/tmp/runbook-memory}"
cargo build --release --quiet -p runbook-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/runbook"
rm -rf "$work" && mkdir -p "$work"
export RUNBOOK_STATE_DIR="$work/state"

python3 - "$work/body.json" <<'PY'
import json, sys
parts, size, i = [], 0, 0
while size < 10 * 1024 * 1024 - 100:
    s = json.dumps({"i": i, "s": f"v{i}", "b": i % 2 == 0}, separators=(",", ":"))
    parts.append(s); size += len(s) + 1; i += 1
open(sys.argv[1], "w").write('{"data":[' + ",".join(parts) + "]}")
PY
cat > "$work/serve.py" <<'PY'
import http.server, sys
body = open(sys.argv[1], "rb").read()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        sent = b'{"data":[{"i":0}]}' if self.path == "/tiny" else body
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(sent)))
        self.end_headers()
        self.wfile.write(sent)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$work/serve.py" "$work/body.json" "$work/port" & server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$work/port")/body"
body_mib=$(python3 -c "import os; print(os.path.getsize('$work/body.json') / 1048576)")

runbook() {  # runbook FILE STEPS MODE (MODE: "", star, own, later, list, whole or refused)
  { printf 'id: memory\ntitle: Memory\nsteps:\n'
    for k in $(seq "$2"); do
      printf '  - id: big%s\n    http:\n      url: "%s"\n      max_response_bytes: 20000000\n' "$k" "$url"
      if [[ "$3" == refused ]]; then printf '      expect_status: 201\n'; continue; fi
      printf '      capture:\n        first: "$.data[0].i"\n'
      case "$3" in
        star) printf '        every: {jsonpath: "$..*", all: true}\n' ;;
        own) printf '      assert:\n        - {that: "{{outputs.body.data.0.i}}", equals: 0}\n' ;;
      esac
    done
    if [[ "$3" == later ]]; then
      printf '  - id: check\n    assert:\n'
      for k in $(seq "$2"); do
        printf '      - {that: "{{steps.big%s.outputs.body.data.1.s}}", equals: "v1"}\n' "$k"
        printf '      - {that: "{{steps.big%s.outputs.body.data.2.b}}", equals: true}\n' "$k"
      done
    fi
    if [[ "$3" == list ]]; then
      printf '  - id: check\n    assert:\n'
      printf '      - {that: "{{length steps.big1.outputs.body.data}}", greater_than: 0}\n'
    fi
    if [[ "$3" == whole ]]; then
      printf '  - id: check\n    assert:\n'
      printf '      - {that: "{{steps.big1.outputs.body.data}}", not_equals: "x"}\n'
    fi; } > "$1"
}
runbook "$work/one.yaml" 1 ""; runbook "$work/six.yaml" 6 ""; runbook "$work/star.yaml" 1 star
runbook "$work/own.yaml" 1 own; runbook "$work/later.yaml" 1 later; runbook "$work/six_later.yaml" 6 later
runbook "$work/list.yaml" 1 list; runbook "$work/whole.yaml" 1 whole
runbook "$work/refused.yaml" 1 refused
sed "s|/body\"|/tiny\"|" "$work/one.yaml" > "$work/tiny.yaml"

# Peak RSS moves from run to run by whole 2 MiB pages: mimalloc asks for transparent huge pages
# (MADV_HUGEPAGE) and the kernel grants them or not. Each row is 5 runs: median, and the range.
peak() {  # peak LABEL CMD...: prints a table row
  local label="$1"; shift
  local runs=() kib secs
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%M %e" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { echo "| $label | FAILED: $(tail -1 "$work/err") |"; return; }
    read -r kib secs < "$work/time"
    runs+=("$kib")
  done
  python3 -c "
import statistics
k = sorted([$(IFS=,; echo "${runs[*]}")])
m = statistics.median(k) / 1024
print(f'| $label | {m:.0f} MiB ({k[0]/1024:.0f}-{k[-1]/1024:.0f}) | {m/$body_mib:.1f}x | $secs s |')"
}
printf '\nbody: %.1f MiB of JSON\n\n| run | peak RSS, median of 5 (range) | / body | wall |\n|---|---|---|---|\n' "$body_mib"
peak "one step, a tiny response (the process itself)" "$bin" run "$work/tiny.yaml"
peak "one 10 MiB response" "$bin" run "$work/one.yaml"
peak "six 10 MiB responses" "$bin" run "$work/six.yaml"
peak 'one response, `$..*` capture' "$bin" run "$work/star.yaml"
peak "one response, its own assert reads one path" "$bin" run "$work/own.yaml"
peak "one response, a later step reads two paths" "$bin" run "$work/later.yaml"
peak "six responses, a later step reads two paths of each" "$bin" run "$work/six_later.yaml"
peak "one response, a later step reads the length of its list" "$bin" run "$work/list.yaml"
peak "one response, a later step reads its list whole (a comparison)" "$bin" run "$work/whole.yaml"
# This run fails by design (exit 1); the shell turns that into success and a crash into failure.
peak "one response with a status the step does not expect (the run fails)" \
  sh -c '"$@"; test $? -eq 1' sh "$bin" run "$work/refused.yaml"

# A journal of about 60 MB: 2,000 shell steps, each printing 30,000 bytes (kept whole: under 64 KiB).
{ printf 'id: long-journal\ntitle: Long journal\nsteps:\n'
  for k in $(seq 2000); do printf '  - id: s%s\n    shell: {command: "yes a | head -c 30000"}\n' "$k"; done; } > "$work/journal.yaml"
"$bin" run "$work/journal.yaml" >/dev/null
journal=$(ls -S "$work"/state/runs/*/journal.jsonl | head -1)
run_id=$(basename "$(dirname "$journal")")
printf '\njournal: %s MB\n\n| command | peak RSS | wall |\n|---|---|---|\n' "$(( $(stat -c %s "$journal") / 1000000 ))"
for cmd in "runs" "show $run_id" "show $run_id --output json"; do
  # shellcheck disable=SC2086
  /usr/bin/time -f "%M %e" -o "$work/time" "$bin" $cmd >/dev/null
  read -r kib secs < "$work/time"
  echo "| runbook $cmd | $(( kib / 1024 )) MiB | $secs s |"
done
