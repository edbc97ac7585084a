#!/usr/bin/env bash
# make fuzz [FUZZ_SECONDS=60]: builds the libFuzzer targets (the fuzz preset: clang, ASan,
# UBSan) and runs each for N seconds on build/fuzz/corpus/<target> — a copy of
# fixtures/fuzz/<target>/ that keeps what earlier runs found — with fixtures/fuzz/<target>.dict.
# Prints one row per target (executions, exec/s, edges covered, features) and exits 1 if
# any target crashed, naming the input it wrote under build/fuzz/artifacts/<target>/.
#   usage: fuzz/run.sh [SECONDS] [TARGET...]
#   FUZZ_JOBS: build jobs (default: nproc); FUZZ_FRESH=1: start again from the seeds alone.
set -uo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2
build=build/fuzz
jobs=${FUZZ_JOBS:-$(nproc)}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in fuzz/*.cpp; do
    name=$(basename "$src" .cpp)
    [ "$name" = replay_main ] || targets+=("$name")
  done
fi

cmake --preset fuzz >/dev/null || exit 2
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
# Only the fuzz targets and the libraries they link: agentd and agentcheck are not needed.
cmake --build "$build" -j "$jobs" --target "${build_targets[@]}" || exit 2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rows=()
crashes=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  log=$build/logs/$t.log
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp -f fixtures/fuzz/"$t"/* "$corpus"/ 2>/dev/null
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -artifact_prefix="$artifacts/")
  [ -f fixtures/fuzz/"$t".dict ] && args+=(-dict=fixtures/fuzz/"$t".dict)
  echo "fuzz: $t for ${seconds}s (log: $log)"
  "$build/fuzz/fuzz_$t" "${args[@]}" "$corpus" >"$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ $status -ne 0 ]; then
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    kind=$(basename "${input:-crash-}" | cut -d- -f1) # crash, timeout, oom, leak
    result=$(tr '[:lower:]' '[:upper:]' <<<"$kind")
    crashes+=("$t: $kind ${input:-(no input written)} (see $log)")
  fi
  rows+=("$(printf '%-14s %12s %9s %7s %9s  %s' "$t" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$result")")
done

echo
printf '%-14s %12s %9s %7s %9s  %s\n' target executions exec/s cov features result
for r in "${rows[@]}"; do echo "$r"; done
if [ ${#crashes[@]} -gt 0 ]; then
  echo
  echo "fuzz: ${#crashes[@]} target(s) crashed:"
  for c in "${crashes[@]}"; do echo "  $c"; done
  echo "reproduce: build/fuzz/fuzz/fuzz_<target> <input>; keep it as fixtures/fuzz/<target>/crash-<what>"
  exit 1
fi
