#!/usr/bin/env bash
# Installs those of the named Debian packages that are not installed yet (apt-get; sudo when not
# root) and says which it installed or that all were present. Usage: apt-install-missing.sh LABEL PKG...
set -euo pipefail
label="$1"
shift
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "$label: apt packages present ($*)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "$label: apt installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
