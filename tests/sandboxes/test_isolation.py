"""What a submission can see and touch inside the sandbox, under runc and under gVisor.

One probe bundle per runtime records facts (network, filesystem, identity,
privileges, limits) into /output; each test below asserts one of them.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

import sandboxes

pytestmark = pytest.mark.docker

PROBE = r"""
import ctypes, json, os, resource, socket

facts = {}


def attempt(name, fn):
    try:
        fn()
        facts[name] = "ok"
    except Exception as exc:
        facts[name] = f"{type(exc).__name__}: {exc}"


def connect(host, port):
    return lambda: socket.create_connection((host, port), timeout=2).close()


def write(path):
    return lambda: open(path, "w").write("x")


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return line.split()[1]


libc = ctypes.CDLL(None, use_errno=True)
facts["uid"], facts["gid"], facts["groups"] = os.getuid(), os.getgid(), os.getgroups()
facts["cwd"] = os.getcwd()
raw = open("/proc/self/environ", "rb").read().split(b"\0")
facts["env"] = dict(item.decode().split("=", 1) for item in raw if item)
facts["interfaces"] = sorted(os.listdir("/sys/class/net"))
facts["cap_eff"] = status("CapEff")
facts["no_new_privs"] = libc.prctl(39, 0, 0, 0, 0)
facts["rlimits"] = {
    name: list(resource.getrlimit(getattr(resource, f"RLIMIT_{name.upper()}")))
    for name in ("nofile", "fsize", "core")
}
facts["input"] = sorted(os.listdir("/input"))
attempt("dns", lambda: socket.getaddrinfo("deb.debian.org", 80))
attempt("tcp", connect("1.1.1.1", 53))
attempt("metadata", connect("169.254.169.254", 80))
attempt("redis", connect("172.17.0.1", 6379))
attempt("ipv6", connect("2606:4700:4700::1111", 53))
attempt("raw_socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("write_root", write("/evil"))
attempt("write_etc", write("/etc/evil"))
attempt("write_var_tmp", write("/var/tmp/evil"))  # world-writable in the image
attempt("write_input", write("/input/evil"))
attempt("write_code", write("/code/evil"))
attempt("write_tmp", write("/tmp/fine"))
attempt("fill_tmp", lambda: open("/tmp/big", "wb").write(b"\0" * (32 * 1024 * 1024)))
attempt("setuid", lambda: os.setuid(0))
facts["mount"] = libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)
with open(os.path.join(os.environ["JIEBANG_OUTPUT"], "facts.json"), "w") as out:
    json.dump(facts, out)
"""

LIMITS = {"memory_mb": 256, "time_limit_s": 60, "tmp_mb": 16, "output_mb": 8, "nofile": 128}


@pytest.fixture(scope="session")
def probed(client, base_image, runtime, tmp_path_factory) -> dict[str, Any]:
    """Facts the probe bundle recorded under ``runtime``, plus the run's result."""
    root = tmp_path_factory.mktemp(f"probe-{runtime}")
    bundle = root / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("main.py", PROBE)
    code = sandboxes.extract_bundle(bundle, root / "code")
    inputs = root / "input"
    inputs.mkdir(mode=0o755)
    (inputs / "test.csv").write_text("id,x\n1,1\n")
    with sandboxes.run(
        client,
        image_id=base_image,
        input_dir=inputs,
        code_dir=code,
        command=["python", "/code/main.py"],
        limits=sandboxes.Limits(runtime=runtime, **LIMITS),
        scratch_dir=root / "scratch",
    ) as result:
        facts_file = result.output_dir / "facts.json"
        assert result.exit_code == 0, result.log
        facts = json.loads(facts_file.read_text())
    return {"facts": facts, "result": result}


def test_runs_as_uid_10001_in_tmp(probed):
    facts = probed["facts"]
    assert (facts["uid"], facts["gid"], facts["groups"], facts["cwd"]) == (
        10001,
        10001,
        [10001],
        "/tmp",
    )


def test_environment_holds_only_the_contract(probed):
    assert probed["facts"]["env"] == {
        "JIEBANG_INPUT": "/input",
        "JIEBANG_OUTPUT": "/output",
        "HOME": "/tmp",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": "sandbox",  # Docker always sets it; we pin it to a constant
    }


def test_inputs_are_visible(probed):
    assert probed["facts"]["input"] == ["test.csv"]


@pytest.mark.parametrize("attempt", ["dns", "tcp", "metadata", "redis", "ipv6", "raw_socket"])
def test_network_attempts_fail(probed, attempt):
    assert probed["facts"][attempt] != "ok"


def test_only_loopback_exists(probed):
    assert probed["facts"]["interfaces"] == ["lo"]


@pytest.mark.parametrize(
    "attempt", ["write_root", "write_etc", "write_var_tmp", "write_input", "write_code"]
)
def test_filesystem_is_read_only(probed, attempt):
    assert probed["facts"][attempt] != "ok"


def test_world_writable_image_dirs_are_read_only(probed):
    # Permissions would allow it; only the read-only root stops it.
    assert "Read-only file system" in probed["facts"]["write_var_tmp"]


def test_tmp_is_writable_but_capped(probed):
    assert probed["facts"]["write_tmp"] == "ok"
    assert probed["facts"]["fill_tmp"] != "ok"


def test_no_privileges(probed):
    facts = probed["facts"]
    assert facts["setuid"] != "ok"
    assert facts["mount"] == -1
    assert facts["no_new_privs"] == 1
    assert facts["cap_eff"] == "0000000000000000"


def test_ulimits_are_set(probed):
    assert probed["facts"]["rlimits"] == {
        "nofile": [128, 128],
        "fsize": [8 * 1024**2, 8 * 1024**2],
        "core": [0, 0],
    }


def test_probe_run_is_measured(probed):
    result = probed["result"]
    assert not result.timed_out and not result.oom_killed
    assert 0 < result.runtime_s < 30
    assert result.peak_memory_mb is not None and 1 < result.peak_memory_mb < 256


def test_output_dir_is_gone_after_the_run(probed):
    output = Path(probed["result"].output_dir)
    assert not output.exists()
    assert not output.parent.exists()
