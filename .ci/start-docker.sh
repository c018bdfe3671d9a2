#!/usr/bin/env bash
# Install (if missing) and start a Docker engine configured as SANDBOX.md says:
# no container networking at all, and gVisor registered as the `runsc` runtime.
set -euo pipefail
if ! command -v dockerd >/dev/null || ! command -v runsc >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io runsc debootstrap >/dev/null
fi
mkdir -p /etc/docker
want='{"bridge": "none", "iptables": false, "ip-masq": false, "runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}}}'
if [ "$(cat /etc/docker/daemon.json 2>/dev/null)" != "$want" ]; then
  echo "$want" > /etc/docker/daemon.json
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    pkill dockerd || true
    sleep 2
  fi
fi
if ! docker info >/dev/null 2>&1; then
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
