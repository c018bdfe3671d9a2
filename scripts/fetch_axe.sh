#!/bin/sh
# axe-core (MPL-2.0) for the browser tests' accessibility checks (tests/e2e/browser/test_axe.py),
# installed from the npm registry into tests/e2e/browser/vendor/ (ignored by git). The tests run
# this themselves when the file is missing and npm is on the PATH.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
vendor="$here/tests/e2e/browser/vendor"
npm install --prefix "$vendor" --no-audit --no-fund --no-save --silent "axe-core@${AXE_VERSION:-4.14}"
test -s "$vendor/node_modules/axe-core/axe.min.js"
echo "axe-core $(node -p "require('$vendor/node_modules/axe-core/package.json').version") in $vendor"
