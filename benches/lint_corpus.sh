#!/usr/bin/env bash
# Lint throughput: generate 1,000 runbooks of 50 steps each (benches/gen_lint_corpus.py) and time
# `runbook lint` over the directory, with hyperfine when it is installed (else the shell's `time`,
# best of 5). Usage: benches/lint_corpus.sh [FILES] [STEPS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
files="${1:-1000}"
steps="${2:-50}"
bin="$root/target/release/runbook"
cargo build --release --quiet -p runbook-cli --manifest-path "$root/Cargo.toml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus"
python3 "$root/benches/gen_lint_corpus.py" --out "$corpus" --files "$files" --steps "$steps" >/dev/null
# The corpus must have no errors, or the timing measures error rendering instead. The shared
# generator's runbooks draw a few real warnings (unused captures, a side effect before any prompt):
# they are printed and timed like any lint output.
"$bin" lint "$corpus" | tail -n 1
echo "corpus: $files runbooks of $steps steps, $(du -sh "$corpus" | cut -f1), $(nproc) cores"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 2 --runs 10 "$bin lint $corpus"
else
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$bin" lint "$corpus" >/dev/null
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) ms"
  done | sort -n | head -n 1 | sed 's/^/best of 5: /'
fi
