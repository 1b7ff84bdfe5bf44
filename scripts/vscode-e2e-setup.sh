#!/usr/bin/env bash
# Installs what the VS Code end-to-end test (test/vscode/) needs, idempotently, following
# /work/shared/docs/vscode-e2e.md: Debian's chromium, libkrb5-dev and ripgrep (apt, only when
# missing; sudo when not root), then code-server 4.100.3 (VS Code 1.100.3, the newest on node 20)
# and playwright-core into a separate prefix (.e2e/, git-ignored; never the root package.json).
# Nothing is downloaded at test time. Override the prefix with SLIPSTREAM_E2E_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${SLIPSTREAM_E2E_DIR:-$ROOT/.e2e}"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
RIPGREP_CACHE=vscode-ripgrep-cache-1.15.11   # what @vscode/ripgrep 1.15.11 (in code-server 4.100.3) looks for
t0=$SECONDS

# 1. Debian packages: the browser, kerberos headers (code-server's kerberos module builds from
#    source) and rg (seeds @vscode/ripgrep's download cache below).
bash "$(dirname "$0")/apt-install-missing.sh" vscode-e2e-setup chromium libkrb5-dev ripgrep
echo "vscode-e2e-setup: apt done at $((SECONDS - t0))s"

# 2. npm packages into $B, unless the right versions are already there.
installed_version() { node -p "require('$B/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ "$(installed_version code-server)" = "$CODE_SERVER_VERSION" ] && [ "$(installed_version playwright-core)" = "$PLAYWRIGHT_VERSION" ] \
   && [ -x "$B/node_modules/.bin/code-server" ]; then
  echo "vscode-e2e-setup: code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION present in $B"
else
  mkdir -p "$B/tmp/$RIPGREP_CACHE"
  [ -f "$B/package.json" ] || echo '{ "name": "slipstream-e2e-tools", "private": true }' > "$B/package.json"
  # @vscode/ripgrep's postinstall would fetch rg from GitHub; give it Debian's rg 13.0.0 (same version) instead.
  tar czf "$B/tmp/$RIPGREP_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  echo "vscode-e2e-setup: npm installing code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION into $B"
  # unsafe_perm: code-server's postinstall refuses root otherwise; yes: node-pty's postinstall runs npx node-gyp.
  TMPDIR="$B/tmp" npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --prefix "$B" --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
fi
echo "vscode-e2e-setup: npm done at $((SECONDS - t0))s"

# 3. Smoke check, with code-server's config and data kept inside $B.
mkdir -p "$B/home"
v=$(HOME="$B/home" XDG_CONFIG_HOME="$B/home/.config" XDG_DATA_HOME="$B/home/.local/share" TMPDIR="$B/tmp" \
  "$B/node_modules/.bin/code-server" --version | grep -E '^[0-9]+\.[0-9]+' | head -1)
echo "vscode-e2e-setup: code-server $v; chromium at $(command -v chromium)"
echo "vscode-e2e-setup: ready in $((SECONDS - t0))s"
