"""The world of the pipeline benchmark: a database, a queue, a challenge, an image, workers.

Everything is made fresh and named after one nonce, and ``open_world`` removes it all
again: the temporary folder (blobs, inputs, scratch, SQLite file, worker logs), the
PostgreSQL database, the queue's Redis keys, the image it built and any container its
workers or raw runs left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import select

import evaluator.models
import leaderboards.models  # noqa: F401
import sandboxes
from benchmarks import pipeline_docker
from benchmarks.postgres import SERVER, drop_database, make_database
from challenges import service, teams
from challenges.bundle import open_bundle
from challenges.models import Challenge
from evaluator import inputs, queue
from evaluator.context import Context
from evaluator.intake import submit, submit_and_enqueue
from evaluator.models import Submission
from jiebang import accounts, audit, migrate
from jiebang.db import make_engine
from jiebang.settings import Settings, load_settings
from sandboxes import hardening

JIEBANG = str(Path(sys.executable).with_name("jiebang"))
FINAL = tuple(s.value for s in evaluator.models.FINAL)


@dataclass
class WorkerProcess:
    proc: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def name(self) -> str:
        """What the evaluator writes into ``Submission.worker`` and container labels."""
        return f"{os.uname().nodename}:{self.proc.pid}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


@dataclass
class Row:
    id: int
    status: str
    attempts: int
    worker: str | None
    created: float
    started: float | None
    finished: float | None
    public_score: float | None


@dataclass
class World:
    nonce: str
    work: Path
    ctx: Context
    rows: int
    image_id: str = ""
    archive: Path = Path()
    challenges: dict[str, int] = field(default_factory=dict)
    user_id: int = 0
    workers: list[WorkerProcess] = field(default_factory=list)
    pythonpath: str | None = None  # where its workers import the code from
    owns_image: bool = True

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    # --- submissions ----------------------------------------------------------------

    def submit(self, runtime: str, *, enqueue: bool = True) -> tuple[int, float]:
        """One submission through the real intake; its id and when it was accepted.

        ``enqueue=False`` stores and commits it but leaves it off the queue (``enqueue``).
        """
        settings = self.settings
        with self.ctx.sessions() as session, self.archive.open("rb") as upload:
            kwargs = dict(
                user=session.get(accounts.User, self.user_id),
                challenge=session.get(Challenge, self.challenges[runtime]),
                upload=upload,
                kind="image",
                blobs=self.ctx.blobs,
                settings=settings,
            )
            if enqueue:
                sub = submit_and_enqueue(session, redis=self.ctx.redis, **kwargs)
            else:
                shared = queue.shared_layers(self.ctx.redis, settings.queue_name)
                sub = submit(session, shared_layers=shared, **kwargs)
                session.commit()
            return sub.id, time.time()

    def enqueue(self, ids: list[int]) -> None:
        for sub_id in ids:
            queue.enqueue_new(self.ctx.redis, sub_id, self.settings)

    def wait_one(self, sub_id: int, *, every: float = 0.005, timeout: float = 120) -> float:
        """When the row was first seen final (polled every ``every`` seconds)."""
        query = select(Submission.status).where(Submission.id == sub_id)
        deadline = time.monotonic() + timeout
        with self.ctx.sessions() as session:
            while time.monotonic() < deadline:
                if session.scalar(query) in FINAL:
                    return time.time()
                session.rollback()
                time.sleep(every)
        raise RuntimeError(f"submission {sub_id} not final after {timeout} s; see {self.work}")

    def count_final(self, ids: list[int]) -> int:
        with self.ctx.sessions() as session:
            return len(
                session.scalars(
                    select(Submission.id).where(
                        Submission.id.in_(ids), Submission.status.in_(FINAL)
                    )
                ).all()
            )

    def wait_all(self, ids: list[int], *, timeout: float = 1800) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.count_final(ids)
            if done == len(ids):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{len(ids) - done} submissions not final; see {self.work}")

    def fetch(self, ids: list[int]) -> list[Row]:
        columns = (
            Submission.id,
            Submission.status,
            Submission.attempts,
            Submission.worker,
            Submission.created_at,
            Submission.started_at,
            Submission.finished_at,
            Submission.public_score,
        )
        with self.ctx.sessions() as session:
            found = session.execute(select(*columns).where(Submission.id.in_(ids))).all()
        stamp = lambda value: value.timestamp() if value else None  # noqa: E731
        return [
            Row(r[0], r[1], r[2], r[3], stamp(r[4]), stamp(r[5]), stamp(r[6]), r[7]) for r in found
        ]

    def audited(self, ids: list[int]) -> Counter:
        """How many ``submission.scored`` audit events each submission has."""
        wanted, counts = set(ids), Counter()
        with self.ctx.sessions() as session:
            for challenge_id in self.challenges.values():
                for event in audit.events_for(session, challenge_id):
                    data = json.loads(event.data)
                    if event.kind == "submission.scored" and data["submission"] in wanted:
                        counts[data["submission"]] += 1
        return counts

    def watch_containers(self) -> contextlib.AbstractContextManager[Counter]:
        """Containers this world's workers create meanwhile, by submission id."""
        names = lambda: {w.name for w in self.workers}  # noqa: E731  (workers may start later)
        return pipeline_docker.watch_containers(
            self.settings.docker_host, lambda name: name in names()
        )

    # --- workers --------------------------------------------------------------------

    def publish_base_image(self) -> None:
        """What a worker publishes at start; intake needs it to accept thin archives."""
        client = self.ctx.docker
        queue.publish_base_image(
            self.ctx.redis,
            self.settings.queue_name,
            name=sandboxes.BASE_IMAGE,
            image_id=sandboxes.base_image_id(client),
            layers=sandboxes.base_layers(client),
        )

    def start_workers(self, count: int) -> list[WorkerProcess]:
        """``jiebang worker`` processes on the queue; returns once they listen."""
        env = dict(os.environ, **self.environment())
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        started = []
        for _ in range(count):
            log = self.work / f"worker-{len(self.workers)}.log"
            with log.open("w") as out:
                proc = subprocess.Popen(
                    [JIEBANG, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            started.append(WorkerProcess(proc, log))
        self.workers.extend(started)
        rq_queue = Queue(self.settings.queue_name, connection=self.ctx.redis)
        deadline = time.monotonic() + 120
        while len(Worker.all(queue=rq_queue)) < count:
            for worker in started:
                if worker.proc.poll() is not None:
                    raise RuntimeError(f"worker exited; see {worker.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start; see {self.work}")
            time.sleep(0.1)
        return started

    def stop_workers(self, workers: list[WorkerProcess] | None = None) -> None:
        workers = list(self.workers if workers is None else workers)
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.terminate()
        for worker in workers:
            try:
                worker.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()

    def environment(self) -> dict[str, str]:
        return {
            "JIEBANG_ENV": self.settings.env,
            "JIEBANG_DATA_DIR": str(self.settings.data_dir),
            "JIEBANG_DATABASE_URL": self.settings.database_url,
            "JIEBANG_REDIS_URL": self.settings.redis_url,
            "JIEBANG_QUEUE_NAME": self.settings.queue_name,
            "JIEBANG_SANDBOX_RUNTIME": self.settings.sandbox_runtime,
        }

    # --- the raw baseline -----------------------------------------------------------

    def input_dir(self) -> Path:
        """The folder the workers mount at /input (made as they make it)."""
        with self.ctx.sessions() as session:
            return inputs.ensure_inputs(self.ctx, session.get(Challenge, self.challenges["runc"]))

    def raw_run(self, runtime: str) -> float:
        """Seconds for one raw hardened ``docker run --rm`` on the workers' /input."""
        elapsed, lines = pipeline_docker.raw_run(
            self.ctx.docker,
            self.image_id,
            self.input_dir(),
            self.work / "raw",
            runtime=runtime,
            nonce=self.nonce,
            docker_host=self.settings.docker_host,
        )
        if lines != self.rows + 1:
            raise RuntimeError(f"raw run wrote {lines} lines, not {self.rows + 1}")
        return elapsed


# --- making and removing the world ---------------------------------------------------


def _database(kind: str, work: Path, nonce: str) -> tuple[str, str | None]:
    """(URL, PostgreSQL server URL to drop it from, or None for SQLite)."""
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.db'}", None
    server = kind if "://" in kind else SERVER
    return make_database(server, f"jiebang_bench_{nonce}")[0], server


def _drop_database(server: str, url: str) -> None:
    drop_database(server, url.rsplit("/", 1)[1])


def _bundle(root: Path, slug: str, rows: int, runtime: str) -> Path:
    root.mkdir(parents=True)
    ids = [f"r{i:06d}" for i in range(rows)]
    train = "".join(f"t{i},{i},{i % 2}\n" for i in range(10))
    (root / "train.csv").write_text("id,x,label\n" + train)
    (root / "test.csv").write_text("id,x\n" + "".join(f"{r},{i}\n" for i, r in enumerate(ids)))
    labels = "".join(f"{r},{i % 2}\n" for i, r in enumerate(ids))
    (root / "labels.csv").write_text("id,label\n" + labels)
    (root / "README.md").write_text("# Pipeline benchmark\n")
    spec = {
        "slug": slug,
        "title": {"en": "Benchmark", "zh": "基准"},
        "sponsor": "bench",
        "scenario": "manufacturing",
        "summary": {"en": "Predict parity.", "zh": "预测奇偶。"},
        "description": "README.md",
        "metric": "accuracy",
        "targets": [{"metric": "accuracy", "at_least": 0.9}],
        "prize": {"amount": 1, "currency": "CNY"},
        "opens_at": "2020-01-01T00:00:00+00:00",
        "closes_at": "2099-01-01T00:00:00+00:00",
        "limits": {"daily_submissions": 1000, "running_submissions": 1000, "team_size": 2},
        "resources": {"cpus": 1, "memory_mb": 512, "time_limit_s": 60, "runtime": runtime},
        "data": {"train": ["train.csv"], "test_inputs": "test.csv", "test_labels": "labels.csv"},
    }
    (root / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    return root


def _populate(world: World, runtimes: list[str]) -> None:
    with world.ctx.sessions() as session:
        accounts.create_org(session, slug="bench", name="Bench")
        user = accounts.create_user(session, email="bench@example.com", password="password123")
        for runtime in runtimes:
            slug = f"bench-{runtime}"
            root = _bundle(world.work / f"bundle-{runtime}", slug, world.rows, runtime)
            with open_bundle(root) as bundle:
                item = service.create_from_bundle(session, bundle=bundle, blobs=world.ctx.blobs)
            service.publish(session, item)
            # Beyond the schema's per-day caps: this one team submits thousands at once.
            item.daily_submissions = item.running_submissions = 10**7
            teams.create_team(session, user=user, challenge=item, name=f"bench {runtime}")
            session.flush()
            world.challenges[runtime] = item.id
        session.commit()
        world.user_id = user.id


@contextlib.contextmanager
def open_world(
    *,
    database: str,
    redis_url: str,
    runtimes: list[str],
    rows: int,
    like: World | None = None,
    pythonpath: str | None = None,
) -> Iterator[World]:
    """A fresh world; ``like``: another world whose image this one uses too (a second
    deployment with its own database and queue, e.g. of other code: ``pythonpath``)."""
    nonce = secrets.token_hex(4)
    work = Path(tempfile.mkdtemp(prefix=f"jiebang-pipeline-{nonce}-"))
    with contextlib.ExitStack() as cleanup:  # each step runs even if one before it fails
        # Last: the folder, unmounting anything a killed worker left mounted in it.
        cleanup.callback(sandboxes.remove_scratch_dir, work)
        (work / "raw").mkdir()
        url, server = _database(database, work, nonce)
        if server is not None:
            cleanup.callback(_drop_database, server, url)
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        settings = load_settings(
            env="development",
            data_dir=work / "instance",
            database_url=url,
            redis_url=redis_url,
            queue_name=f"bench-{nonce}",
        )
        world = World(
            nonce=nonce, work=work, ctx=Context(settings), rows=rows, pythonpath=pythonpath
        )
        cleanup.callback(_clean, world)
        if like is None:
            world.image_id, world.archive = pipeline_docker.build_image(
                world.ctx.docker, work, nonce, docker_host=settings.docker_host
            )
        else:
            world.image_id, world.archive, world.owns_image = like.image_id, like.archive, False
        world.publish_base_image()
        _populate(world, runtimes)
        yield world


def _clean(world: World) -> None:
    world.stop_workers()
    nonce = world.nonce
    client = world.ctx.docker
    names = {w.name for w in world.workers}
    for row in client.api.containers(all=True, filters={"label": hardening.LABEL}):
        labels = row.get("Labels") or {}
        if labels.get("jiebang.worker") in names or labels.get(pipeline_docker.LABEL) == nonce:
            client.api.remove_container(row["Id"], force=True, v=True)
    if world.image_id and world.owns_image:
        with contextlib.suppress(Exception):
            client.images.remove(world.image_id, force=True)
    redis: Redis = world.ctx.redis
    for key in redis.scan_iter(f"*{world.nonce}*"):
        redis.delete(key)
    # What RQ keeps of a stopped worker for a minute.
    for key in redis.scan_iter("rq:worker:*", _type="HASH"):
        if redis.hget(key, "queues") == world.settings.queue_name.encode():
            redis.srem("rq:workers", key)
            redis.delete(key)
    world.ctx.sessions.kw["bind"].dispose()
    client.close()
    redis.close()
