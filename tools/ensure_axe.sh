#!/bin/sh
# Install axe-core (pinned in tests/support/axe/package-lock.json) for the web chat's browser tests,
# unless it is already there. The tests serve axe.min.js to the page themselves: no CDN.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/tests/support/axe/node_modules/axe-core/axe.min.js" ]; then
    npm ci --prefix "$root/tests/support/axe" --no-audit --no-fund
fi
