#!/usr/bin/env bash
# Installs what the training recipe needs (Debian packages only; idempotent): PyTorch and NumPy
# for Debian's /usr/bin/python3, pytest, and tcmalloc
# (the recipe preloads it: it makes training ~2.5x faster here) and OpenBLAS (without it torch falls
# back to the reference BLAS, ~50x slower here). Uses sudo when not root.
set -euo pipefail
bash "$(dirname "$0")/../scripts/apt-install-missing.sh" training/setup.sh \
  python3-torch python3-numpy python3-pytest libtcmalloc-minimal4 libopenblas0-pthread
