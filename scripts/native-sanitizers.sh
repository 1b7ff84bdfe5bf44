#!/usr/bin/env bash
# Builds the engine and its C++ tests with AddressSanitizer + UndefinedBehaviorSanitizer (clang,
# -O1 -g, every report fatal; native/build-asan, no CUDA module, no addon) and runs ctest there:
# the tests and the fuzz targets' seed and regression replays. Leaks are reported too (ASan's
# leak checker runs at exit). Usage: scripts/native-sanitizers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=native/build-asan
if [ ! -f "$build/build.ninja" ]; then
  cmake -S native -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DENGINE_SANITIZE=ON >/dev/null
fi
cmake --build "$build" -j 2 >/dev/null
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$build" --output-on-failure
