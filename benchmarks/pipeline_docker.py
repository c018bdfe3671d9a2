"""The Docker side of the pipeline benchmark: the trivial image, raw runs, container events."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import docker

import sandboxes
from sandboxes import hardening

LABEL = "jiebang.bench"
# The trivial submission: read /input/test.csv, write one prediction per id. No imports
# beyond os, so the run is Docker and the interpreter starting, not the program.
SOLVE = """\
import os
with open(os.path.join(os.environ["JIEBANG_INPUT"], "test.csv")) as f:
    next(f)
    ids = [line.split(",", 1)[0] for line in f]
with open(os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv"), "w") as out:
    out.write("id,prediction\\n")
    out.writelines(f"{i},{n % 2}\\n" for n, i in enumerate(ids))
"""
DOCKERFILE = """\
FROM {base}
LABEL {label}={nonce}
COPY solve.py /app/solve.py
CMD ["python3", "/app/solve.py"]
"""


def build_image(
    client: docker.DockerClient, work: Path, nonce: str, *, docker_host: str
) -> tuple[str, Path]:
    """The trivial image, built FROM the base image with no network; its id and a thin
    ``docker save`` archive of it. The image stays loaded, as after a first upload."""
    context = work / "image"
    context.mkdir()
    (context / "solve.py").write_text(SOLVE)
    (context / "Dockerfile").write_text(
        DOCKERFILE.format(base=sandboxes.BASE_IMAGE, label=LABEL, nonce=nonce)
    )
    tag = f"jiebang-bench-{nonce}:latest"
    image, _ = client.images.build(path=str(context), tag=tag, network_mode="none", rm=True)
    full, thin = work / "full.tar", work / "thin.tar"
    subprocess.run(["docker", "-H", docker_host, "save", "-o", str(full), tag], check=True)
    sandboxes.thin_archive(full, thin, set(sandboxes.base_layers(client)))
    full.unlink()
    return image.id, thin


def raw_run(
    client: docker.DockerClient,
    image_id: str,
    input_dir: Path,
    work: Path,
    *,
    runtime: str,
    nonce: str,
    docker_host: str,
) -> tuple[float, int]:
    """Seconds for one raw hardened ``docker run --rm`` writing to a fresh /output under
    ``work``, and the lines it wrote; labelled with ``nonce``, so a leftover can be found."""
    output = Path(tempfile.mkdtemp(dir=work))
    os.chown(output, 10001, 10001)
    spec = hardening.Spec(
        image_id=image_id,
        image_config=client.api.inspect_image(image_id).get("Config") or {},
        input_dir=input_dir,
        output_dir=output,
        code_dir=None,
        command=None,
        labels={LABEL: nonce},
    )
    limits = sandboxes.Limits(cpus=1, memory_mb=512, time_limit_s=60, runtime=runtime)
    command = [
        "docker",
        "-H",
        docker_host,
        "run",
        *cli_flags(hardening.create_kwargs(spec, limits)),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    predictions = output / "predictions.csv"
    lines = predictions.read_bytes().count(b"\n") if predictions.is_file() else 0
    shutil.rmtree(output)
    if done.returncode != 0:
        raise RuntimeError(f"raw run: exit {done.returncode}: {done.stderr!r}")
    return elapsed, lines


def cli_flags(kwargs: dict) -> list[str]:
    """docker-py ``containers.create`` arguments as ``docker run`` flags, one for one.

    An argument this does not know is an error: the baseline must be the same recipe.
    """
    kwargs = dict(kwargs)
    flags = ["--rm"]
    simple = {
        "runtime": "--runtime",
        "network_mode": "--network",
        "user": "--user",
        "working_dir": "--workdir",
        "hostname": "--hostname",
        "mem_limit": "--memory",
        "memswap_limit": "--memory-swap",
        "pids_limit": "--pids-limit",
        "ipc_mode": "--ipc",
        "oom_score_adj": "--oom-score-adj",
        "cgroup_parent": "--cgroup-parent",
    }
    for key, flag in simple.items():
        if key in kwargs:
            flags += [flag, str(kwargs.pop(key))]
    for key, flag in (("read_only", "--read-only"), ("init", "--init")):
        if kwargs.pop(key):
            flags.append(flag)
    assert kwargs.pop("detach") is True
    flags += ["--cpus", str(kwargs.pop("nano_cpus") / 1e9)]
    flags += [f"--cap-drop={c}" for c in kwargs.pop("cap_drop")]
    flags += [f"--security-opt={s}" for s in kwargs.pop("security_opt")]
    flags += [f"--tmpfs={path}:{opts}" for path, opts in kwargs.pop("tmpfs").items()]
    flags += [f"--ulimit={u.name}={u.soft}:{u.hard}" for u in kwargs.pop("ulimits")]
    flags += [f"--env={k}={v}" for k, v in kwargs.pop("environment").items()]
    flags += [f"--label={k}={v}" for k, v in kwargs.pop("labels").items()]
    if kwargs.pop("healthcheck") == {"test": ["NONE"]}:
        flags.append("--no-healthcheck")
    log = kwargs.pop("log_config")
    flags += [f"--log-driver={log.type}", *(f"--log-opt={k}={v}" for k, v in log.config.items())]
    for mount in kwargs.pop("mounts"):
        readonly = ",readonly" if mount["ReadOnly"] else ""
        flags.append(f"--mount=type={mount['Type']},src={mount['Source']},dst={mount['Target']}")
        flags[-1] += readonly
    if "entrypoint" in kwargs:
        flags += ["--entrypoint", kwargs.pop("entrypoint")[0]]
    image, command = kwargs.pop("image"), kwargs.pop("command", [])
    if kwargs:
        raise ValueError(f"no docker run flag for {sorted(kwargs)}")
    return [*flags, image, *command]


@contextlib.contextmanager
def watch_containers(docker_host: str, ours: Callable[[str], bool]) -> Iterator[Counter]:
    """Sandbox containers created meanwhile by workers ``ours`` accepts, by submission id.

    Docker's event stream, subscribed to live (the daemon keeps only its last 256
    events), filtered by the labels the evaluator puts on every run.
    """
    counts: Counter = Counter()
    client = sandboxes.connect(docker_host)
    stream = client.events(
        decode=True,
        filters={"type": "container", "event": "create", "label": f"{hardening.LABEL}=1"},
    )

    def collect() -> None:
        with contextlib.suppress(Exception):  # the stream ends by being closed
            for event in stream:
                attrs = event.get("Actor", {}).get("Attributes", {})
                if ours(attrs.get("jiebang.worker", "")):
                    counts[int(attrs["jiebang.submission"])] += 1

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    try:
        yield counts
    finally:
        time.sleep(0.5)  # events still in flight
        stream.close()
        thread.join(timeout=5)
        client.close()
