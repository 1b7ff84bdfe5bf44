#!/usr/bin/env bash
# Installs what the training recipe needs (Debian packages only; idempotent): PyTorch and NumPy
# for Debian's /usr/bin/python3, pytest, and tcmalloc
# (the recipe preloads it: it makes training ~2.5x faster here) and OpenBLAS (without it torch falls
# back to the reference BLAS, ~50x slower here). Uses sudo when not root.
set -euo pipefail
PKGS="python3-torch python3-numpy python3-pytest libtcmalloc-minimal4 libopenblas0-pthread"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "training/setup.sh: all packages present ($PKGS)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "training/setup.sh: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
