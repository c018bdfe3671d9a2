#!/usr/bin/env bash
# Set the machine up and play the whole story on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/jiebang demo "$@"
