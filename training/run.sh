#!/usr/bin/env bash
# Runs the training recipe with the CPU settings measured fastest on the project machine
# (docs/training.md, shared machine.md): tcmalloc preloaded, OpenBLAS on 2 threads with
# OPENBLAS_CORETYPE unset for this process only, torch intra-op threads 1 (set by the config).
# Usage: ./run.sh --config configs/full.json [--steps corpus,tokenizer,base,drafter,eval,export]
set -euo pipefail
cd "$(dirname "$0")"
TCMALLOC=$(ls /usr/lib/*/libtcmalloc_minimal.so.4 2>/dev/null | head -n1 || true)
if [ -n "$TCMALLOC" ]; then export LD_PRELOAD="$TCMALLOC${LD_PRELOAD:+:$LD_PRELOAD}"; fi
unset OPENBLAS_CORETYPE
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
exec /usr/bin/python3 -m slipstream_train.run "$@"
