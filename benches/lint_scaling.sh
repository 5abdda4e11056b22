#!/bin/sh
# Lint time against input size: must be linear.
#
#   benches/lint_scaling.sh [RUNBOOK_BINARY]
#
# 1. The lint corpus of the shared harness: 1,000 runbooks of 50 steps (one `runbook lint DIR`).
# 2. One generated runbook of 1k, 10k and 50k steps (same generator, `--single`).
# 3. Files of references to unknown long names, 1 MB and 3.9 MB (benches/gen_unknown_refs.py): the
#    did-you-mean work that used to be quadratic.
#
# Prints wall and CPU time per case and per 1,000 steps / per MB, so a superlinear case stands
# out. Needs python3 and the harness (../shared/bench, or BENCH_DIR). Benchmarks, never timed tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runbook=${1:-$root/target/release/runbook}
bench_dir=${BENCH_DIR:-$root/../shared/bench}
work=${LINT_SCALING_DIR:-/tmp/runbook-lint-scaling}
mkdir -p "$work"

[ -d "$work/corpus" ] || python3 "$bench_dir/gen_lint_corpus.py" --out "$work/corpus" --files 1000 --steps 50 >/dev/null
for steps in 1000 10000 50000; do
    [ -f "$work/single_$steps.yaml" ] || python3 "$bench_dir/gen_lint_corpus.py" --single "$steps" --out "$work/single_$steps.yaml" >/dev/null
done
for bytes in 1000000 3900000; do
    [ -f "$work/unknown_$bytes.yaml" ] || python3 "$here/gen_unknown_refs.py" "$bytes" "$work/unknown_$bytes.yaml"
done

# One measurement: best wall time of 3 runs, and its CPU time (user + system), in seconds.
measure() {
    best=""
    for _ in 1 2 3; do
        /usr/bin/time -o "$work/time" -f "%e %U %S" "$runbook" lint "$@" >/dev/null 2>&1 || true
        out=$(tail -1 "$work/time")
        wall=$(echo "$out" | cut -d' ' -f1)
        cpu=$(echo "$out" | awk '{ printf "%.2f", $2 + $3 }')
        if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc)" = 1 ]; then best=$wall; best_cpu=$cpu; fi
    done
    echo "$best $best_cpu"
}

printf '%-34s %10s %8s %8s %14s\n' case size wall_s cpu_s "cpu per unit"
set -- $(measure "$work/corpus")
printf '%-34s %10s %8s %8s %11.2f ms/file\n' "corpus 1000 x 50 steps" "$(du -sh "$work/corpus" | cut -f1)" "$1" "$2" "$(echo "$2 * 1000 / 1000" | bc -l)"
for steps in 1000 10000 50000; do
    file="$work/single_$steps.yaml"
    set -- $(measure "$file")
    printf '%-34s %10s %8s %8s %11.2f ms/1k steps\n' "one runbook, $steps steps" "$(du -h "$file" | cut -f1)" "$1" "$2" "$(echo "$2 * 1000 * 1000 / $steps" | bc -l)"
done
for bytes in 1000000 3900000; do
    file="$work/unknown_$bytes.yaml"
    set -- $(measure "$file")
    printf '%-34s %10s %8s %8s %11.2f s/MB\n' "unknown long references" "$(du -h "$file" | cut -f1)" "$1" "$2" "$(echo "$2 * 1000000 / $bytes" | bc -l)"
done
