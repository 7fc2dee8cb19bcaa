#!/usr/bin/env bash
# Browser libraries the app serves itself (no CDN, nothing from another host):
# installs the exact versions of package-lock.json from the npm registry and copies
# the files the pages load into app/static/vendor/ (gitignored).
#
#   scripts/vendor_assets.sh        from the repository root or anywhere
#
# Needs node and npm. Pages that use a missing file still work (the statistics
# pages show their tables and a note instead of the charts).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v npm >/dev/null 2>&1; then
    echo "vendor_assets: npm not found (install Node.js 18+ and npm)" >&2
    exit 1
fi

npm ci --no-audit --no-fund

VENDOR="app/static/vendor"
mkdir -p "$VENDOR"
install -m 0644 node_modules/echarts/dist/echarts.min.js "$VENDOR/echarts.min.js"
echo "vendor_assets: $VENDOR/echarts.min.js ($(node -p "require('./node_modules/echarts/package.json').version"))"
