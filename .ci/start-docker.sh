#!/usr/bin/env bash
# Kept for old instructions: starts Jiebang's own Docker engine (scripts/start-engine.sh).
# It no longer rewrites /etc/docker/daemon.json or restarts the host's dockerd.
set -euo pipefail
exec bash "$(dirname "$0")/../scripts/start-engine.sh" "$@"
