"""Jiebang's own Docker engine runs beside the host's and never touches it.

scripts/start-engine.sh is read as text, then run for real: again on the engine the
suite uses (nothing may change) and on throw-away paths (a fresh start, then a stop),
while the host's /etc/docker and the host's dockerd, where there is one, are watched.
The whole story with a host engine and a networked container on it was also run by
hand (README.md, "Jiebang's Docker engine").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
import pytest

import sandboxes
from jiebang.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "start-engine.sh"
CONFIG = ROOT / "deploy" / "jiebang-dockerd.json"
UNIT = ROOT / "deploy" / "jiebang-dockerd.service"
DEFAULT = "unix:///run/jiebang/docker.sock"
HOST_ENGINE = "unix:///var/run/docker.sock"
HOST_PIDFILE = Path("/var/run/docker.pid")
# Every script that prepares a machine for Jiebang.
SCRIPTS = ("scripts/start-engine.sh", "scripts/setup.sh", ".ci/start-docker.sh")


def _script(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIEBANG_")}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _code(path: str) -> str:
    """The script without its comments: what it does, not what it says."""
    lines = (ROOT / path).read_text("utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def test_the_config_has_no_container_networking_and_registers_gvisor():
    config = json.loads(CONFIG.read_text("utf-8"))
    assert config["bridge"] == "none"
    assert config["iptables"] is False and config["ip-masq"] is False
    assert config["runtimes"]["runsc"]["runtimeArgs"] == ["--network=none"]
    # dockerd would otherwise create /etc/docker/key.json, in the host engine's folder.
    assert not config["deprecated-key-path"].startswith("/etc/docker/")


def test_one_engine_by_default_everywhere():
    assert Settings.model_fields["docker_host"].default == DEFAULT
    assert sandboxes.DEFAULT_DOCKER_HOST == DEFAULT
    assert f"--host {DEFAULT} " in _script("--command").stdout


def test_the_engine_runs_in_a_network_namespace_of_its_own():
    # A dockerd with "bridge": "none" deletes any docker0 as it starts: the host's, with
    # every container on it, unless it cannot see it.
    assert _script("--command").stdout.startswith("/usr/bin/unshare --net -- /usr/sbin/dockerd ")


def test_the_systemd_unit_runs_what_the_script_runs():
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", UNIT.read_text("utf-8"), re.M)
    assert exec_start.split() == _script("--command").stdout.split()


@pytest.mark.parametrize("path", SCRIPTS)
def test_no_script_touches_the_hosts_engine(path):
    code = _code(path)
    assert "set -euo pipefail" in code
    for word in ("daemon.json", "/etc/docker", "pkill", "killall", "docker.service"):
        assert word not in code, word
    assert "/var/run/docker" not in code and "/run/docker" not in code
    # Every docker or dockerd call names Jiebang's socket (or runs the engine itself).
    for call in re.findall(r"(?:^|[\s(;|&])(docker\s+\S+)", code):
        assert call.split()[1] == "-H", call


def test_the_app_image_is_built_on_jiebangs_engine():
    code = _code("scripts/build-app-image.sh")
    assert f"ENGINE=${{JIEBANG_DOCKER_HOST:-{DEFAULT}}}" in code
    assert 'docker() { command docker -H "$ENGINE" "$@"; }' in code


# --- live: the engine the suite uses, and a throw-away one ------------------------------


def _etc_docker() -> dict[str, tuple[int, str]]:
    """Every file under /etc/docker: its mtime and content digest."""
    root = Path("/etc/docker")
    if not root.exists():
        return {}
    return {
        str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _bridges() -> dict[str, int]:
    """The host's bridges (docker0, the host engine's, among them) by name: their ifindex."""
    net = Path("/sys/class/net")
    return {
        p.name: int((p / "ifindex").read_text()) for p in net.iterdir() if (p / "bridge").is_dir()
    }


def _host_client() -> docker.DockerClient | None:
    try:  # "auto" asks the engine its version at once
        return docker.DockerClient(base_url=HOST_ENGINE, version="auto", timeout=10)
    except docker.errors.DockerException:
        return None


def _host_state(client: docker.DockerClient | None) -> dict:
    """The host's engine as far as we may see it: its pid and running containers' networks."""
    if client is None:
        return {"engine": None}
    running = {
        c.id: {
            name: n.get("IPAddress") for name, n in c.attrs["NetworkSettings"]["Networks"].items()
        }
        for c in client.containers.list()
    }
    pid = HOST_PIDFILE.read_text().strip() if HOST_PIDFILE.exists() else None
    return {"engine": client.info()["ID"], "pid": pid, "running": running}


@contextlib.contextmanager
def _watched_host():
    """Fails the test if the host's /etc/docker or the host's engine changed meanwhile.

    Where the host runs an engine that has the base image, a container with the
    engine's default (networked) setup runs on it meanwhile and must keep running with
    its address."""
    client = _host_client()
    canary = None
    if client is not None:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.get(sandboxes.BASE_IMAGE)
            canary = client.containers.run(
                sandboxes.BASE_IMAGE,
                ["python3", "-c", "import time; time.sleep(600)"],
                detach=True,
                labels={"jiebang.test": "host-canary"},
            )
    etc, host, bridges = _etc_docker(), _host_state(client), _bridges()
    try:
        yield
        assert _etc_docker() == etc, "/etc/docker changed"
        assert _bridges().items() >= bridges.items(), "a bridge of the host was removed"
        after = _host_state(client)
        assert after["engine"] == host["engine"]
        if client is not None:
            assert after["pid"] == host["pid"], "the host's dockerd was restarted"
            for cid, networks in host["running"].items():
                assert after["running"].get(cid) == networks, f"host container {cid[:12]}"
        if canary is not None:
            canary.reload()
            assert canary.status == "running"
            assert canary.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    finally:
        if canary is not None:
            canary.remove(force=True)
        if client is not None:
            client.close()


def _conforms(client: docker.DockerClient) -> None:
    runtimes = client.info()["Runtimes"]
    assert runtimes["runsc"]["runtimeArgs"] == ["--network=none"]
    assert client.networks.list(names=["bridge"]) == []


@pytest.mark.docker
def test_the_suites_engine_has_no_networking_and_runs_gvisor(docker_host):
    client = sandboxes.connect(docker_host)
    try:
        _conforms(client)
        # With no bridge, even a container that asks for nothing has only loopback.
        out = client.containers.run(
            sandboxes.BASE_IMAGE,
            ["python3", "-c", "import socket; print([n for _, n in socket.if_nameindex()])"],
            remove=True,
            runtime="runsc",
        )
        assert out.decode().strip() == "['lo']"
    finally:
        client.close()


@pytest.mark.docker
def test_running_the_script_again_changes_nothing(docker_host):
    if docker_host != DEFAULT:
        pytest.skip(f"the suite uses {docker_host}, not the engine the script starts")
    before = _default_engine_pid()
    with _watched_host():
        done = _script()
    assert done.returncode == 0, done.stderr
    assert "restarting" not in done.stdout
    assert _default_engine_pid() == before


@pytest.mark.docker
def test_a_fresh_engine_starts_beside_the_others_and_stops_alone(docker_host):
    # Short paths: containerd's sockets live under the exec root (108 bytes at most).
    work = Path(tempfile.mkdtemp(prefix="jbe-", dir="/tmp"))
    env = {
        "JIEBANG_DOCKER_HOST": f"unix://{work}/docker.sock",
        "JIEBANG_ENGINE_CONFIG": str(work / "dockerd.json"),
        "JIEBANG_ENGINE_DATA_ROOT": str(work / "data"),
        "JIEBANG_ENGINE_EXEC_ROOT": str(work / "exec"),
        "JIEBANG_ENGINE_PIDFILE": str(work / "docker.pid"),
        "JIEBANG_ENGINE_LOG": str(work / "dockerd.log"),
        "JIEBANG_ENGINE_NAMESPACE": f"jiebang-test-{secrets.token_hex(4)}",
    }
    suites = sandboxes.connect(docker_host)
    suites_pid = _default_engine_pid() if docker_host == DEFAULT else None
    try:
        with _watched_host():
            started = _script(**env)
            assert started.returncode == 0, started.stderr + _tail(work / "dockerd.log")
            fresh = sandboxes.connect(env["JIEBANG_DOCKER_HOST"])
            try:
                _conforms(fresh)
                assert fresh.info()["DockerRootDir"] == str(work / "data")
            finally:
                fresh.close()
            assert (work / "dockerd.json").read_bytes() == CONFIG.read_bytes()
            pid = (work / "docker.pid").read_text().strip()
            assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
            stopped = _script("--stop", **env)
            assert stopped.returncode == 0, stopped.stderr
            status = Path(f"/proc/{pid}/status")
            assert not status.exists() or "(zombie)" in status.read_text()
        # The suite's engine served on throughout, the same process.
        assert suites.ping()
        if suites_pid is not None:
            assert _default_engine_pid() == suites_pid
    finally:
        _script("--stop", **env)
        suites.close()
        _unmount_below(work)
        shutil.rmtree(work, ignore_errors=True)


def _default_engine_pid() -> str:
    return Path("/run/jiebang/docker.pid").read_text().strip()


def _tail(path: Path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-20:]) if path.exists() else ""


def _unmount_below(root: Path) -> None:
    """A dockerd killed mid-start can leave its overlay2 home bind-mounted."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for target in sorted((m for m in mounts if m.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "-l", target], check=False)
