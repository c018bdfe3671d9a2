#!/usr/bin/env bash
# Make this machine ready for Jiebang: system packages, Jiebang's own Docker engine (gVisor,
# no container networking; scripts/start-engine.sh), PostgreSQL and Redis up, a virtualenv
# with the project, the base image jiebang/python:3.11 and the scorer image
# jiebang/scoring:3.11 on that engine. The host's own
# Docker (/etc/docker/daemon.json, its dockerd and containers) is never touched.
# Safe to run again; it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v debootstrap >/dev/null; then
  echo "== installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
# The browser tests (tests/e2e/browser) drive Debian's Chromium; Playwright never
# downloads a browser. A CJK font lets Chinese pages render in its screenshots.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
  echo "== installing chromium fonts-wqy-microhei"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
echo "== Jiebang's Docker engine (unix:///run/jiebang/docker.sock; installs docker.io runsc)"
bash scripts/start-engine.sh

echo "== postgresql and redis"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done

echo "== python environment"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/pip install -q -e '.[dev]'

echo "== base image (on Jiebang's engine, JIEBANG_DOCKER_HOST)"
.venv/bin/jiebang sandbox build-base

echo "== scorer image jiebang/scoring:3.11 (base + metric libraries)"
# The wheels come from PyPI here, on the host, and only those not cached yet;
# no container ever downloads anything.
.venv/bin/python -c 'from sandboxes.scorer_image import download_wheels; download_wheels()'
.venv/bin/jiebang sandbox build-scorer --no-download
