#!/usr/bin/env bash
# Start Jiebang's own Docker engine, the one the sandbox runs on: a dockerd with its own
# config (deploy/jiebang-dockerd.json: no container networking, gVisor as `runsc`), socket,
# data root, exec root, pid file and containerd namespace, beside whatever engine the host
# already runs. The host's /etc/docker/daemon.json and the host's dockerd are never read,
# changed, restarted or stopped; if the host has no dockerd, only ours runs.
# Safe to run again: an engine that already answers with this config is left as it is.
#   bash scripts/start-engine.sh            # start (or check) it
#   bash scripts/start-engine.sh --stop     # stop it (ours only, found by its pid file)
#   bash scripts/start-engine.sh --command  # print the dockerd command line and exit
# The locations can be moved with JIEBANG_DOCKER_HOST (a unix:// socket) and
# JIEBANG_ENGINE_{CONFIG,DATA_ROOT,EXEC_ROOT,PIDFILE,LOG,NAMESPACE}; the defaults are those
# of deploy/jiebang-dockerd.service.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST_URL=${JIEBANG_DOCKER_HOST:-unix:///run/jiebang/docker.sock}
case "$HOST_URL" in
  unix:///*) SOCK=${HOST_URL#unix://} ;;
  *) echo "JIEBANG_DOCKER_HOST must be a unix:///... socket here, not $HOST_URL" >&2; exit 2 ;;
esac
CONFIG=${JIEBANG_ENGINE_CONFIG:-/etc/jiebang/dockerd.json}
DATA_ROOT=${JIEBANG_ENGINE_DATA_ROOT:-/var/lib/jiebang/docker}
EXEC_ROOT=${JIEBANG_ENGINE_EXEC_ROOT:-/run/jiebang/exec}
PIDFILE=${JIEBANG_ENGINE_PIDFILE:-/run/jiebang/docker.pid}
LOG=${JIEBANG_ENGINE_LOG:-/var/log/jiebang-dockerd.log}
NAMESPACE=${JIEBANG_ENGINE_NAMESPACE:-jiebang}
UNIT=jiebang-dockerd.service
# A network namespace of its own (unshare --net; only a loopback, down): a dockerd with
# "bridge": "none" deletes any interface called docker0 as it starts, which would cut the
# host engine's containers off; in there it finds none, and it can change no interface,
# route, iptables rule or sysctl of the host. The socket is a file, reachable from the host.
# Its own containerd namespaces: when the host runs a system containerd
# (/run/containerd/containerd.sock), both engines share it without seeing each other's
# containers; otherwise this dockerd starts a containerd of its own under EXEC_ROOT.
COMMAND=(/usr/bin/unshare --net -- /usr/sbin/dockerd --config-file "$CONFIG"
  --host "unix://$SOCK" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE"
  --containerd-namespace "$NAMESPACE" --containerd-plugins-namespace "$NAMESPACE-plugins")

case "${1:-}" in
  "" | --stop) ;;
  --command) echo "${COMMAND[@]}"; exit 0 ;;
  *) echo "usage: $0 [--stop | --command]" >&2; exit 2 ;;
esac

engine() { docker -H "unix://$SOCK" "$@"; }
answers() { engine info >/dev/null 2>&1; }
# Configured as it must be: no default bridge network, runsc with --network=none.
conforms() {
  ! engine network inspect bridge >/dev/null 2>&1 &&
    engine info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc":{[^}]*"--network=none"'
}
# The pid in our pid file, only if that process is a dockerd serving our socket.
our_pid() {
  local pid cmd
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  case "$cmd" in
    *dockerd\ *" --host unix://$SOCK "*) echo "$pid" ;;
    *) return 1 ;;
  esac
}
under_systemd() {
  [ -d /run/systemd/system ] && [ "$SOCK" = /run/jiebang/docker.sock ] &&
    systemctl cat "$UNIT" >/dev/null 2>&1
}
wait_until() { # seconds, command...
  local n=$1
  shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 1; done
  "$@"
}
# Gone, or a zombie that its parent has yet to reap (it holds nothing any more).
gone() { ! [ -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

start() {
  if under_systemd; then
    systemctl start "$UNIT"
  else
    # setsid: the engine must outlive the shell (and process group) that started it.
    setsid -f "${COMMAND[@]}" >>"$LOG" 2>&1 </dev/null
  fi
  wait_until 60 answers || {
    echo "Jiebang's dockerd did not start; the end of $LOG:" >&2
    tail -20 "$LOG" >&2
    exit 1
  }
}

# Ours only, found by our pid file, never by name: the host's dockerd must live on.
stop() {
  if under_systemd && systemctl is-active --quiet "$UNIT"; then
    systemctl stop "$UNIT"
    return
  fi
  local pid
  pid=$(our_pid) || return 0
  kill -TERM "$pid"
  wait_until 60 gone "$pid" || { echo "Jiebang's dockerd ($pid) did not stop" >&2; exit 1; }
}

if [ "${1:-}" = "--stop" ]; then
  stop
  exit 0
fi

if ! command -v dockerd >/dev/null || ! command -v runsc >/dev/null; then
  # Debian's docker.io would start the host's own docker.service (and containerd) as it
  # installs: a policy-rc.d that denies every start keeps this from bringing up an engine
  # we did not ask for. One that is already there is left as it is.
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io runsc >/dev/null
  if [ -n "$made_policy" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi

mkdir -p "$(dirname "$SOCK")" "$(dirname "$PIDFILE")" "$(dirname "$CONFIG")" "$(dirname "$LOG")"
changed=0
if ! cmp -s deploy/jiebang-dockerd.json "$CONFIG"; then
  install -m 644 deploy/jiebang-dockerd.json "$CONFIG"
  changed=1
fi

if answers; then
  if [ "$changed" = 1 ] || ! conforms; then
    echo "restarting Jiebang's dockerd for $CONFIG"
    stop
    start
  fi
elif our_pid >/dev/null; then
  # Starting, or busy: give it time rather than start a second one on the same paths.
  wait_until 60 answers || { echo "Jiebang's dockerd ($(our_pid)) does not answer; see $LOG" >&2; exit 1; }
else
  start
fi

conforms || {
  echo "the engine at unix://$SOCK is not configured as $CONFIG says (bridge, runsc)" >&2
  exit 1
}
echo "Jiebang's engine: unix://$SOCK ($(engine version --format '{{.Server.Version}}'))"
