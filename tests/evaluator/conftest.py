"""The world of the malicious-submission suite: hostile challenges, canaries, host checks.

Every hostile submission goes through the real evaluator path (``intake.submit``, then
``jobs.run_evaluation`` or a ``jiebang worker`` process) on challenges whose labels, split
secret, secret key and worker environment carry a canary (``JBCANARY-<nonce>-...``) that
must never reach what a team can see: the message, the log excerpt, the API's JSON.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import re
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
import yaml

import sandboxes
from challenges import service, teams
from challenges.bundle import open_bundle
from challenges.models import Challenge, FileRole
from evaluator.context import open_context
from evaluator.intake import submit
from evaluator.jobs import run_evaluation
from evaluator.models import Submission
from evaluator.worker import worker_name
from jiebang import accounts, tokens
from jiebang.accounts import User
from jiebang.db import Base
from jiebang.errors import NotFound
from jiebang.settings import load_settings
from sandboxes import owner

RUNTIMES = ("runc", "runsc")
TIME_LIMIT_S = 3
# Challenges by kind: "tight" for runs meant to hit the time limit, "roomy" for runs meant
# to end by themselves (a loaded CI machine must not turn them into timeouts).
KINDS = {
    "tight": {"time_limit_s": TIME_LIMIT_S},
    "roomy": {"time_limit_s": 20},
    "rmse": {"time_limit_s": 20, "metric": "rmse"},
    "image": {"time_limit_s": 6},
    "long": {"time_limit_s": 120},
}
MEMORY_MB = 384
CANARY = "JBCANARY"
PROGRAM = Path(__file__).with_name("hostile_main.py")
CGROUPS = Path("/sys/fs/cgroup/memory/jiebang")
ROWS = 40
NONCE_LABEL = "jiebang.test.nonce"


@dataclass
class Observation:
    """What one evaluated submission left: its row, what its team sees, what the host kept."""

    id: int
    status: str
    failure: str | None
    message: str
    log: str
    public: float | None
    private: float | None
    exit_code: int | None
    elapsed: float
    api: str
    containers_left: list[str]

    @property
    def report(self) -> dict:
        """The ``REPORT {...}`` line the hostile program printed first, if any."""
        match = re.search(r"^REPORT (\{.*\})$", self.log, re.M)
        return json.loads(match.group(1)) if match else {}

    @property
    def visible(self) -> str:
        return "\n".join((self.message, self.log, self.api))


@dataclass(frozen=True)
class HostState:
    """What this session's runs could leave on the host, by owner (other sessions may run)."""

    containers: frozenset[str]
    own_images: frozenset[str]
    base_id: str | None
    cgroups: frozenset[str]
    scratch: frozenset[str]
    mounts: frozenset[str]


class Hostile:
    """Challenges per runtime, their teams and tokens; submit, evaluate and observe."""

    def __init__(self, settings, nonce: str) -> None:
        self.settings, self.nonce = settings, nonce
        self.ctx = open_context(settings)
        self.sessions = self.ctx.sessions
        self.client: docker.DockerClient = self.ctx.docker
        from web.app import create_app  # only here: the web layer is not this suite's subject

        self.api = create_app(settings).test_client()
        self.canaries = {k: f"{CANARY}-{nonce}-{k}" for k in ("label", "split", "key", "env")}
        self._challenges: dict[str, tuple[int, int, str]] = {}
        self._baselines: dict[str, Observation] = {}
        self.worker_names = {worker_name()}

    # --- the world --------------------------------------------------------------------

    def challenge(self, kind: str, runtime: str) -> str:
        """The key of a published hostile challenge of ``kind`` (see KINDS), made once."""
        key = f"{kind}-{runtime}"
        if key not in self._challenges:
            limits = dict(KINDS[kind])
            metric = limits.pop("metric", "f1_macro")
            self._challenges[key] = self._make_challenge(key, runtime, metric, limits)
        return key

    def _make_challenge(self, key, runtime, metric, limits):
        root = self.settings.data_dir.parent / f"bundle-{key}"
        slug, canary = f"{key}-{self.nonce}", self.canaries["label"]
        _write_challenge(root, slug=slug, metric=metric, runtime=runtime, canary=canary, **limits)
        with self.sessions() as session:
            try:
                accounts.get_org(session, "acme")
            except NotFound:
                accounts.create_org(session, slug="acme", name="Acme")
            with open_bundle(root) as bundle:
                item = service.create_from_bundle(session, bundle=bundle, blobs=self.ctx.blobs)
            service.publish(session, item)
            item.split_secret = self.canaries["split"]
            user = accounts.create_user(
                session, email=f"{key}-{self.nonce}@example.com", password="password123"
            )
            teams.create_team(session, user=user, challenge=item, name=f"team {key}")
            token = tokens.issue_token(session, user=user)
            session.commit()
            return item.id, user.id, token

    def labels_path(self, key: str) -> Path:
        with self.sessions() as session:
            item = session.get(Challenge, self._challenges[key][0])
            return self.ctx.blobs.path(item.files_with(FileRole.test_labels)[0].sha256)

    # --- submissions ------------------------------------------------------------------

    def bundle(self, case: str, **params) -> bytes:
        """A zip of the hostile program that runs ``case``."""
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w") as archive:
            archive.writestr("main.py", PROGRAM.read_text())
            archive.writestr("case.json", json.dumps({"case": case, "control": "r001,", **params}))
        return data.getvalue()

    def submit(self, key: str, upload: bytes | Path, kind: str = "bundle") -> int:
        """The real intake; raises what it raises (e.g. Invalid for a refused upload)."""
        challenge_id, user_id, _ = self._challenges[key]
        stream = upload.open("rb") if isinstance(upload, Path) else io.BytesIO(upload)
        with self.sessions() as session, stream:
            sub = submit(
                session,
                user=session.get(User, user_id),
                challenge=session.get(Challenge, challenge_id),
                upload=stream,
                kind=kind,
                blobs=self.ctx.blobs,
                settings=self.settings,
            )
            session.commit()
            return sub.id

    def evaluate(self, sub_id: int) -> Observation:
        started = time.monotonic()
        run_evaluation(self.ctx, sub_id)
        return self.observe(sub_id, time.monotonic() - started)

    def evaluate_all(self, sub_ids: list[int], *, threads: int = 4) -> dict[int, Observation]:
        """Evaluate in parallel, as several workers of one host would."""
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            futures = {pool.submit(self.evaluate, i): i for i in sub_ids}
            # A run that never returns is a failure of the time limit itself.
            return {futures[f]: f.result(timeout=600) for f in futures}

    def observe(self, sub_id: int, elapsed: float = 0.0) -> Observation:
        with self.sessions() as session:
            sub = session.get(Submission, sub_id)
            token = next(t for c, u, t in self._challenges.values() if u == sub.user_id)
        response = self.api.get(
            f"/api/v1/submissions/{sub_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        # By worker too: other test sessions on this host number their submissions alike.
        labels = [f"jiebang.submission={sub_id}", f"jiebang.worker={sub.worker}"]
        left = self.containers(labels)
        return Observation(
            id=sub_id,
            status=sub.status,
            failure=sub.failure,
            message=sub.message or "",
            log=sub.log_excerpt or "",
            public=sub.public_score,
            private=sub.private_score,
            exit_code=sub.exit_code,
            elapsed=elapsed,
            api=response.get_data(as_text=True),
            containers_left=left,
        )

    def time_limit(self, key: str) -> int:
        return KINDS[key.rsplit("-", 1)[0]]["time_limit_s"]

    def baseline(self, key: str) -> Observation:
        """The well-behaved program, evaluated alone."""
        if key not in self._baselines:
            self._baselines[key] = self.evaluate(self.submit(key, self.bundle("well")))
        return self._baselines[key]

    # --- the host ---------------------------------------------------------------------

    def containers(self, labels: list[str], *, running: bool = False) -> list[str]:
        """Ids of the containers with all ``labels`` (listing without inspecting: no races)."""
        rows = self.client.api.containers(all=not running, filters={"label": labels})
        return [row["Id"] for row in rows]

    def own_images(self) -> list[str]:
        """Images labelled with this world's nonce (or a nonce derived from it)."""
        rows = self.client.api.images(all=True, filters={"label": NONCE_LABEL})
        mine = [r for r in rows if (r.get("Labels") or {})[NONCE_LABEL].startswith(self.nonce)]
        return [row["Id"] for row in mine]

    def host_state(self) -> HostState:
        names = "|".join(re.escape(n.split(":")[-1]) for n in self.worker_names)
        ours = re.compile(rf"^{owner.RUN_PREFIX}({names})-")
        containers = {
            row["Id"]
            for row in self.client.api.containers(all=True, filters={"label": "jiebang.sandbox"})
            if row["Labels"].get("jiebang.worker") in self.worker_names
        }
        images = self.own_images()
        try:
            base = self.client.images.get(sandboxes.BASE_IMAGE).id
        except docker.errors.ImageNotFound:
            base = None
        cgroups = {p.name for p in CGROUPS.iterdir()} if CGROUPS.is_dir() else set()
        scratch = self.settings.scratch_dir
        data_dir = str(self.settings.data_dir)
        mounts = {
            line.split(" ")[4]
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split(" ")[4].startswith(data_dir)
        }
        return HostState(
            containers=frozenset(containers),
            own_images=frozenset(images),
            base_id=base,
            cgroups=frozenset(n for n in cgroups if ours.match(n)),
            scratch=frozenset(p.name for p in scratch.iterdir())
            if scratch.is_dir()
            else frozenset(),
            mounts=frozenset(mounts),
        )

    def assert_restored(self, before: HostState, *, loaded: set[str] = frozenset()) -> None:
        """Containers, images, cgroups, scratch dirs and mounts are back to ``before``."""
        after = self.host_state()
        assert after.containers <= before.containers, "sandbox containers left behind"
        assert after.own_images - before.own_images <= set(loaded), "unexpected new images"
        assert after.base_id == before.base_id, "the base image tag moved"
        assert after.cgroups <= before.cgroups, "run cgroups left behind"
        assert after.scratch <= before.scratch, "scratch directories left behind"
        assert after.mounts <= before.mounts, "mounts left behind"

    def cleanup(self) -> None:
        with self.sessions.kw["bind"].begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        for image_id in self.own_images():
            self.client.images.remove(image_id, force=True)
        shutil.rmtree(self.settings.blob_dir, ignore_errors=True)
        for key in self.ctx.redis.scan_iter(f"*{self.settings.queue_name}*"):
            self.ctx.redis.delete(key)


def _write_challenge(root: Path, *, slug, metric, runtime, canary, **resources) -> None:
    """A challenge bundle; for label metrics the last row's hidden label is the canary."""
    root.mkdir(parents=True)
    ids = [f"r{i:03d}" for i in range(ROWS)]
    if metric == "f1_macro":
        labels = [str(i % 2) for i in range(ROWS - 1)] + [canary]
    else:
        labels = [f"{i * 0.5}" for i in range(ROWS)]
    (root / "train.csv").write_text(
        "id,x,label\n" + "".join(f"t{i},{i},{i % 2}\n" for i in range(9))
    )
    (root / "test.csv").write_text("id,x\n" + "".join(f"{r},{i}\n" for i, r in enumerate(ids)))
    (root / "labels.csv").write_text(
        "id,label\n" + "".join(f"{r},{v}\n" for r, v in zip(ids, labels, strict=True))
    )
    (root / "README.md").write_text("# Hostile\n")
    spec = {
        "slug": slug,
        "title": {"en": "Hostile", "zh": "恶意"},
        "sponsor": "acme",
        "scenario": "manufacturing",
        "summary": {"en": "Hostile submissions.", "zh": "恶意提交。"},
        "description": "README.md",
        "metric": metric,
        "targets": [{"max_runtime_s": 60}],
        "prize": {"amount": 1, "currency": "CNY"},
        "opens_at": "2020-01-01T00:00:00+00:00",
        "closes_at": "2099-01-01T00:00:00+00:00",
        "limits": {"daily_submissions": 1000, "running_submissions": 100, "team_size": 2},
        "resources": {
            "cpus": 1,
            "memory_mb": MEMORY_MB,
            "runtime": runtime,
            **resources,
        },
        "data": {
            "train": ["train.csv"],
            "test_inputs": "test.csv",
            "test_labels": "labels.csv",
            "public_fraction": 0.5,
        },
        "show_logs": True,
    }
    (root / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))


@pytest.fixture(scope="module")
def hostile(database_url, tmp_path_factory):
    """A hostile world for one test module; the worker's environment carries a canary too."""
    nonce = secrets.token_hex(4)
    settings = load_settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("hostile") / "instance",
        database_url=database_url,
        redis_url=os.environ.get("JIEBANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        queue_name=f"test-hostile-{nonce}",
        secret_key=f"{CANARY}-{nonce}-key",
        max_prediction_bytes=1024 * 1024,
    )
    world = Hostile(settings, nonce)
    saved = os.environ.get("AWS_SECRET_ACCESS_KEY")
    os.environ["AWS_SECRET_ACCESS_KEY"] = world.canaries["env"]
    try:
        yield world
    finally:
        if saved is None:
            os.environ.pop("AWS_SECRET_ACCESS_KEY", None)
        else:
            os.environ["AWS_SECRET_ACCESS_KEY"] = saved
        world.cleanup()
