#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, native/build-fuzz) and runs each for SECONDS (default 60),
# one after another, starting from the committed seeds (native/fuzz/corpus) and regression inputs
# (native/fuzz/regressions) plus whatever earlier runs here added (native/build-fuzz/corpus).
# An input that crashes, leaks, breaks an ENGINE_ASSERT, takes over 10 s (a hang) or over 2 GB is
# saved to native/build-fuzz/artifacts/ and fails the run; turn it into a regression test by
# copying it to native/fuzz/regressions/<target>/. Prints one line per target: executions, time,
# corpus size, the slowest input's time and the peak RSS. Usage: native/fuzz/run.sh [SECONDS] [TARGET...]   (targets: fuzz-*.cpp names)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
build=native/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  cmake -S native -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DENGINE_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j 2 >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in native/fuzz/fuzz-*.cpp; do targets+=("$(basename "$f" .cpp | sed 's/^fuzz-//')"); done
fi
mkdir -p "$build/artifacts"
failed=0
printf '%-20s %12s %8s %8s %8s %8s %s\n' target executions seconds corpus slowest peak-MB result
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  cp -n native/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  cp -n native/fuzz/regressions/"$t"/* "$corpus"/ 2>/dev/null || true
  dict=native/fuzz/json.dict
  [ "$t" = safetensors-header ] && dict=native/fuzz/safetensors.dict
  log="$build/artifacts/$t.log"
  rc=0
  "$build/Release/fuzz-$t" "$corpus" -dict="$dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1 || rc=$?
  final_stat() { grep -o "stat::$1: *[0-9]*" "$log" | grep -o '[0-9]*$' || echo '?'; }
  execs=$(final_stat number_of_executed_units)
  slowest="$(final_stat slowest_unit_time_sec)s"
  peak=$(final_stat peak_rss_mb)
  size=$(ls "$corpus" | wc -l)
  if [ "$rc" -eq 0 ]; then result=ok; else result="FAILED (exit $rc, see $log)"; failed=1; fi
  printf '%-20s %12s %8s %8s %8s %8s %s\n' "$t" "$execs" "$seconds" "$size" "$slowest" "$peak" "$result"
  [ "$rc" -eq 0 ] || tail -40 "$log"
done
exit "$failed"
