#!/usr/bin/env bash
# CI stage "global install": packs this checkout (npm pack; `prepare` compiles the TypeScript into
# the tarball), installs the tarball with `npm install -g` into a temporary prefix (no
# devDependencies; the postinstall builds the engine from source), then runs the installed
# `slipstream serve --stdio` from / with no flags and checks it answers a non-empty completion from
# the shipped model (scripts/check-installed-cli.mjs). Leaves nothing behind.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
t0=$SECONDS
cd "$ROOT"
tgz="$(npm pack --pack-destination "$TMP" --loglevel=error | tail -1)"
echo "check-global-install: packed $tgz ($(du -h "$TMP/$tgz" | cut -f1)) in $((SECONDS - t0))s"
npm install -g --prefix "$TMP/prefix" --no-audit --no-fund --loglevel=error "$TMP/$tgz"
echo "check-global-install: installed into $TMP/prefix in $((SECONDS - t0))s"
# train-drafter runs the training recipe from the installed package: it must be there.
for f in training/slipstream_train/distill.py training/setup.sh scripts/apt-install-missing.sh; do
  test -f "$TMP/prefix/lib/node_modules/slipstream-lsp/$f" || { echo "check-global-install: $f is not in the package" >&2; exit 1; }
done
cd /
node "$ROOT/scripts/check-installed-cli.mjs" "$TMP/prefix/bin/slipstream"
echo "check-global-install: ok in $((SECONDS - t0))s"
