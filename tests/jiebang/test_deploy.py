"""The deployment files name only settings, commands and paths the app really has.

docker-compose.yml, docker-compose.host.yml and the Dockerfile are read as text here;
the stacks themselves were run by hand (README, "Scale-out").
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jiebang.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.host.yml")
APP_IMAGE = "jiebang/app:latest"
BASE_IMAGE = "jiebang/python:3.11"
# ${NAME}, ${NAME:-default}, ${NAME:?message} (the forms Compose interpolates).
_VARIABLE = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


def _interpolate(value: str) -> str:
    """Defaults where the file gives one, a placeholder where the operator must set it."""
    return _VARIABLE.sub(lambda m: m.group(3) if m.group(2) == ":-" else "x", value)


def _compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text("utf-8"))


def _app_services(name: str) -> dict[str, dict]:
    services = _compose(name)["services"]
    return {k: v for k, v in services.items() if v.get("image") == APP_IMAGE}


def _mounts(service: dict) -> list[dict]:
    """Every volume as {source, target, propagation}, short or long syntax."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *_ = _interpolate(volume).split(":")
            mounts.append({"source": source, "target": target, "propagation": None})
        else:
            mounts.append(
                {
                    "source": _interpolate(volume["source"]),
                    "target": _interpolate(volume["target"]),
                    "propagation": (volume.get("bind") or {}).get("propagation"),
                }
            )
    return mounts


def _app_service_cases():
    return [
        pytest.param(name, service, id=f"{name}:{service}")
        for name in COMPOSE_FILES
        for service in _app_services(name)
    ]


def test_every_compose_file_runs_web_and_worker_on_the_app_image():
    for name in COMPOSE_FILES:
        assert {"migrate", "web", "worker"} <= set(_app_services(name)), name


@pytest.mark.parametrize(("name", "service"), _app_service_cases())
def test_compose_sets_only_settings_the_app_reads(name, service):
    known = {f"JIEBANG_{field.upper()}" for field in Settings.model_fields}
    environment = _app_services(name)[service]["environment"]
    named = {key for key in environment if key.startswith("JIEBANG_")}
    assert named, "no JIEBANG_* setting at all"
    assert named <= known, f"not settings of jiebang/settings.py: {sorted(named - known)}"
    assert environment["JIEBANG_ENV"] == "production"
    for required in ("JIEBANG_DATABASE_URL", "JIEBANG_REDIS_URL", "JIEBANG_SECRET_KEY"):
        assert required in environment


@pytest.mark.parametrize(("name", "service"), _app_service_cases())
def test_data_dir_is_mounted_at_the_same_path_inside_and_out(name, service):
    # Workers hand paths under it to Jiebang's Docker engine as bind mounts.
    spec = _app_services(name)[service]
    data_dir = _interpolate(spec["environment"]["JIEBANG_DATA_DIR"])
    assert os.path.isabs(data_dir)
    assert {"source": data_dir, "target": data_dir} in [
        {"source": m["source"], "target": m["target"]} for m in _mounts(spec)
    ]


@pytest.mark.parametrize(("name", "service"), _app_service_cases())
def test_commands_exist(name, service):
    command = _app_services(name)[service]["command"]
    if command[0] == "gunicorn":
        module, _, attribute = command[-1].partition(":")
        assert (module, attribute) == ("web.wsgi", "app")
        assert importlib.util.find_spec(module) is not None
        return
    assert command[0] == "jiebang"
    import web.cli  # noqa: F401  (fills the lazy command table)
    from jiebang.cli import cli

    words = [w for w in command[1:] if not w.startswith("-")]
    result = CliRunner().invoke(cli, [*words, "--help"], prog_name="jiebang")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_worker_drives_jiebangs_own_engine_safely(name):
    worker = _app_services(name)["worker"]
    data_dir = _interpolate(worker["environment"]["JIEBANG_DATA_DIR"])
    mounts = {m["target"]: m for m in _mounts(worker)}
    # Jiebang's engine (scripts/start-engine.sh), by the setting's default path; never the
    # host's own engine, which has container networking.
    docker_host = worker["environment"]["JIEBANG_DOCKER_HOST"]
    assert docker_host == Settings.model_fields["docker_host"].default
    socket_dir = os.path.dirname(docker_host.removeprefix("unix://"))
    assert mounts[socket_dir]["source"] == socket_dir == "/run/jiebang"
    assert "/var/run/docker.sock" not in (ROOT / name).read_text("utf-8")
    # The engine must see the tmpfs a worker mounts on each run's /output.
    assert mounts[data_dir]["propagation"] == "rshared"
    assert "SYS_ADMIN" in worker["cap_add"] and worker["user"] == "root"
    # Owner tokens (pid + start time) must mean the same to every worker's reaper.
    assert worker["pid"] == "host"
    # Peak memory is read from the runs' parent cgroups.
    assert mounts["/sys/fs/cgroup"]["source"] == "/sys/fs/cgroup"


def test_web_is_not_root():
    for name in COMPOSE_FILES:
        assert "user" not in _app_services(name)["web"], name
    assert re.search(r"^USER 10002", (ROOT / "Dockerfile").read_text("utf-8"), re.M)


def test_dockerfile_needs_no_registry():
    text = (ROOT / "Dockerfile").read_text("utf-8")
    stages: set[str] = set()
    for image, _, alias in re.findall(r"^FROM\s+(\S+)(\s+AS\s+(\S+))?", text, re.M | re.I):
        assert image == BASE_IMAGE or image in stages, image
        if alias:
            stages.add(alias)
    assert "--no-index" in text


def test_build_script_is_strict_and_executable():
    script = ROOT / "scripts" / "build-app-image.sh"
    assert "set -euo pipefail" in script.read_text("utf-8").splitlines()[:12]
    assert os.access(script, os.X_OK)
    assert "--network none" in script.read_text("utf-8")
