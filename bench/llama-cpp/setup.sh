#!/usr/bin/env bash
# Installs llama.cpp on demand, outside the project's node_modules (nothing is added to
# package.json): node-llama-cpp from npm into .bench-deps/llama-cpp/, then builds llama.cpp from the
# source the package bundles (llama/gitRelease.bundle) with -march=native and at most 2 jobs.
# What it builds, by argument:
#   bench   llama-bench, and bench/llama-cpp/llama-engine-bench.cpp linked against the same static
#           libraries (for bench/llama-cpp/compare.ts); the default
#   server  llama-server (for test/remote, the remote engine tests), without its web UI: no npm
#           build of the UI and no download of prebuilt UI assets; the server answers the API only
#   all     both
# Rerun after editing llama-engine-bench.cpp: the llama.cpp build is kept, the tool is relinked.
#   bash bench/llama-cpp/setup.sh          # ~5 min on 2 cores; a rerun only builds what changed
#   bash bench/llama-cpp/setup.sh server   # ~7 min on 2 cores (what CI runs)
# LLAMA_ISA=avx2 or LLAMA_ISA=avxvnni builds for that instruction set instead of -march=native (GGML
# AVX, AVX2, FMA, F16C, BMI2, and AVX_VNNI for avxvnni), into build-<isa>/: llama.cpp as it runs on
# a CPU without AVX-512 (compare.ts --isa runs our engine capped the same way).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PREFIX="$ROOT/.bench-deps/llama-cpp"
VERSION="${NODE_LLAMA_CPP_VERSION:-3.22.1}"
JOBS="${JOBS:-2}"
WHAT="${1:-bench}"
case "$WHAT" in
  bench) TARGETS=(llama-bench) ;;
  server) TARGETS=(llama-server) ;;
  all) TARGETS=(llama-bench llama-server) ;;
  *) echo "usage: bash bench/llama-cpp/setup.sh [bench|server|all]" >&2; exit 2 ;;
esac
mkdir -p "$PREFIX"
PKG="$PREFIX/node_modules/node-llama-cpp"
if [ ! -f "$PKG/package.json" ] || [ "${FORCE:-0}" = 1 ]; then
  [ -f "$PREFIX/package.json" ] || echo '{ "name": "bench-llama-cpp", "private": true }' > "$PREFIX/package.json"
  # Only the package, for its bundled source: no prebuilt binaries (optional deps; the linux-x64
  # one has no llama-bench) and no postinstall download/build: the source build below replaces them.
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --prefix "$PREFIX" --no-audit --no-fund --omit=optional \
    "node-llama-cpp@$VERSION"
fi
BUNDLE="$PKG/llama/gitRelease.bundle"
[ -f "$BUNDLE" ] || { echo "setup: $BUNDLE missing: this node-llama-cpp has no bundled llama.cpp source" >&2; exit 1; }
echo "llama.cpp release bundled by node-llama-cpp $VERSION: $(cat "$PKG/llama/llama.cpp.info.json" | tr -d '\n ')"
if [ ! -d "$PREFIX/src/.git" ] || [ "${FORCE:-0}" = 1 ]; then
  rm -rf "$PREFIX/src"
  git clone -q "$BUNDLE" "$PREFIX/src"
fi
ISA="${LLAMA_ISA:-native}"
case "$ISA" in
  native) B="$PREFIX/build"; GGML_ISA=(-DGGML_NATIVE=ON); MARCH=(-march=native) ;;
  avx2) B="$PREFIX/build-avx2"; GGML_ISA=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
    MARCH=(-mavx2 -mfma -mf16c -mbmi2) ;;
  avxvnni) B="$PREFIX/build-avxvnni"; GGML_ISA=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=ON)
    MARCH=(-mavx2 -mfma -mf16c -mbmi2 -mavxvnni) ;;
  *) echo "setup: LLAMA_ISA must be native, avx2 or avxvnni" >&2; exit 2 ;;
esac
[ "${FORCE:-0}" = 1 ] && rm -rf "$B"
# Configuring again is cheap and a no-op when nothing changed; the build steps below only
# compile what their targets need. LLAMA_BUILD_UI=OFF and LLAMA_USE_PREBUILT_UI=OFF: the server is
# built with an empty asset table (no npm, no network).
# Compiler output (llama.cpp's AVX-512 code warns a lot) goes to the logs; a failure shows their tail.
run_logged() {
  local log="$1"; shift
  "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; echo "setup: failed, see $log" >&2; exit 1; }
}
run_logged "$B-config.log" cmake -S "$PREFIX/src" -B "$B" -DCMAKE_BUILD_TYPE=Release "${GGML_ISA[@]}" \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DGGML_OPENMP=ON
run_logged "$B.log" cmake --build "$B" --target "${TARGETS[@]}" -j "$JOBS"
if [ "$WHAT" != server ]; then
  # llama-engine-bench compiles in the engine's bandwidth probe (native/src/backends/cpu/membench.cpp,
  # self-contained) so both programs' decode is set against the same roofline measurement.
  g++ -O2 -std=c++17 "${MARCH[@]}" -I "$PREFIX/src/include" -I "$PREFIX/src/ggml/include" -I "$ROOT/native/src" \
    "$ROOT/bench/llama-cpp/llama-engine-bench.cpp" "$ROOT/native/src/backends/cpu/membench.cpp" -o "$B/bin/llama-engine-bench" \
    "$B/src/libllama.a" "$B/ggml/src/libggml.a" "$B/ggml/src/libggml-cpu.a" "$B/ggml/src/libggml-base.a" -fopenmp -lpthread -ldl
  # llama-logits: all-row logits of a token sequence (bench/llama-cpp/quant-accuracy.ts)
  g++ -O2 -std=c++17 "${MARCH[@]}" -I "$PREFIX/src/include" -I "$PREFIX/src/ggml/include" \
    "$ROOT/bench/llama-cpp/llama-logits.cpp" -o "$B/bin/llama-logits" \
    "$B/src/libllama.a" "$B/ggml/src/libggml.a" "$B/ggml/src/libggml-cpu.a" "$B/ggml/src/libggml-base.a" -fopenmp -lpthread -ldl
fi
echo "built ${TARGETS[*]}$([ "$WHAT" != server ] && echo ' llama-engine-bench llama-logits') in $B/bin (llama.cpp $(git -C "$PREFIX/src" rev-parse --short HEAD), ${MARCH[*]})"
