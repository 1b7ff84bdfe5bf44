#!/usr/bin/env bash
# Builds the engine, its CLI and its C++ tests for ARM64 Linux (cross-compiled with Debian's
# g++-aarch64-linux-gnu; native/build-arm64, no CUDA module, no addon) and runs ctest there under
# qemu-aarch64: the kernels' reference path, which ARM64 runs (kernels.h, ENGINE_X86_PATHS), through
# every test and the fuzz targets' replays. Needs: apt install g++-aarch64-linux-gnu qemu-user.
# Usage: scripts/native-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "native-arm64: $tool not found (apt install g++-aarch64-linux-gnu qemu-user)" >&2; exit 1; }
done
build=native/build-arm64
if [ ! -f "$build/build.ninja" ]; then
  cmake -S native -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/native/cmake/aarch64-linux-gnu.cmake" -DENGINE_CUDA=OFF >/dev/null
fi
cmake --build "$build" -j 2 >/dev/null
aarch64-linux-gnu-readelf -h "$build/Release/engine-cli" | grep -q 'AArch64' || { echo "native-arm64: engine-cli is not an ARM64 binary" >&2; exit 1; }
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/Release/engine-cli" backends
ctest --test-dir "$build" -j 2 --output-on-failure
