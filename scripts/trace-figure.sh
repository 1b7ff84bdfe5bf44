#!/usr/bin/env bash
# Makes the picture in docs/tracing.md from a real trace: the keystroke benchmark types back 12
# seeded spots of fixtures/workspace/src/lru-cache.ts (a keystroke every 150 ms, as a person
# types) against a real server on the shipped model and drafter; the server's traces of those
# requests go to bench/results/<date>-keystrokes-shipped-trace.jsonl and `slipstream trace` draws
# them to docs/figures/tracing-keystrokes.svg. Usage: bash scripts/trace-figure.sh [DATE]
# (after npm install). Timings depend on the machine and its load; the shapes are the point.
set -euo pipefail
cd "$(dirname "$0")/.."
day="${1:-$(date -u +%Y-%m-%d)}"
trace="bench/results/$day-keystrokes-shipped-trace.jsonl"
node bin/slipstream.js bench keystrokes --model fixtures/models/slipstream-code --drafter fixtures/models/slipstream-code-drafter \
  --spots 12 --interval-ms 150 --out "bench/results/$day-keystrokes-shipped-traced.json" --trace "$trace"
node bin/slipstream.js trace "$trace" --svg docs/figures/tracing-keystrokes.svg
