#!/usr/bin/env bash
# Set the machine up, then run every check CI runs: ruff, the layering contract,
# and the test suite on SQLite and again on PostgreSQL (the sandbox, malicious-
# submission and browser suites, which test no database behaviour, run once).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== layering (import-linter)"
.venv/bin/lint-imports
echo "== tests on SQLite"
.venv/bin/pytest -q "$@"
echo "== tests on PostgreSQL"
JIEBANG_TEST_DATABASE_URL=${JIEBANG_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
  .venv/bin/pytest -q --ignore=tests/sandboxes --ignore=tests/e2e/browser \
  --ignore=tests/evaluator/test_malicious.py --ignore=tests/evaluator/test_malicious_uploads.py \
  --ignore=tests/evaluator/test_malicious_workers.py "$@"
