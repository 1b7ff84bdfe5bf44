#!/usr/bin/env bash
# engine-ab.sh: compares two builds of engine-cli (before / after a change) on one model, in one run:
# `engine-cli bench` alternately A, B, A, B, ... for ROUNDS pairs (the machine is shared and noisy,
# so both see the same stretches of time), then prints each run's prefill-512 and decode tok/s
# (engine-cli's best-of-3 / best-of-5) and the medians and median per-pair ratios B / A.
# Usage: bench/engine-ab.sh A_CLI B_CLI MODEL_DIR [ROUNDS=5] [THREADS=2] [N=32]
set -euo pipefail
A=$1 B=$2 MODEL=$3 ROUNDS=${4:-5} THREADS=${5:-2} N=${6:-32}
run() { "$1" bench "$MODEL" --n "$N" --threads "$THREADS" 2>/dev/null | sed -n 's/^prefill 512: \([0-9.]*\) tok\/s; decode: \([0-9.]*\) tok\/s.*/\1 \2/p'; }
rows=()
for ((r = 1; r <= ROUNDS; r++)); do
  a=$(run "$A"); b=$(run "$B")
  echo "pair $r: A prefill/decode $a   B prefill/decode $b"
  rows+=("$a $b")
done
printf '%s\n' "${rows[@]}" | awk '
  function median(v, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
  { n++; ap[n] = $1; ad[n] = $2; bp[n] = $3; bd[n] = $4; rp[n] = $3 / $1; rd[n] = $4 / $2 }
  END {
    printf "median A: prefill %.1f tok/s, decode %.1f tok/s\n", median(ap, n), median(ad, n)
    printf "median B: prefill %.1f tok/s, decode %.1f tok/s\n", median(bp, n), median(bd, n)
    printf "median of per-pair ratios B/A: prefill %.3f, decode %.3f (%d pairs)\n", median(rp, n), median(rd, n), n
  }'
