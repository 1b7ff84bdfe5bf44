#!/usr/bin/env bash
# Runs the benchmarks of the shipped model and drafter (fixtures/models/slipstream-code*) and writes
# their outputs to bench/results/<date>-*.{json,txt}: the C++ forward cost curve, plain decoding vs
# ReDrafter over the (beams, beam length) grid with 1 and 2 threads, and the keystroke benchmark
# through a real server. Usage: bash bench/run-shipped.sh [DATE]   (after npm install)
set -euo pipefail
cd "$(dirname "$0")/.."
day="${1:-$(date -u +%Y-%m-%d)}"
out=bench/results
mkdir -p "$out"
model=fixtures/models/slipstream-code
drafter=fixtures/models/slipstream-code-drafter
native/build/Release/engine-cli forward-curve "$model" --threads 1 | tee "$out/$day-forward-curve-shipped-t1.txt"
for t in 1 2; do
  node bin/slipstream.js bench redrafter --model "$model" --drafter "$drafter" --sweep --threads "$t" --max-tokens 64 \
    --out "$out/$day-redrafter-shipped-t$t.json" | tee "$out/$day-redrafter-shipped-t$t.txt"
done
node bin/slipstream.js bench keystrokes --model "$model" --out "$out/$day-keystrokes-shipped.json" | tee "$out/$day-keystrokes-shipped.txt"
