"""Shared fixtures: settings on a temporary data folder, a real database, real Redis.

The database is SQLite by default; set JIEBANG_TEST_DATABASE_URL to a PostgreSQL
URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the same suite
there. The schema is made once per run by the Alembic migrations and emptied
between tests.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

import challenges.applicants
import challenges.proposal_models
import challenges.talk_models  # noqa: F401
import evaluator.models  # noqa: F401  (every table in Base.metadata)
import jiebang.audit
import jiebang.notifications
import jiebang.organizations
import jiebang.tokens  # noqa: F401
import leaderboards.models  # noqa: F401
from jiebang import migrate
from jiebang.blobs import BlobStore
from jiebang.db import Base, make_engine, make_sessionmaker
from jiebang.settings import Settings, load_settings

TEST_REDIS = os.environ.get("JIEBANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _postgres_database(base_url: str) -> tuple[str, str]:
    """A fresh database for this run on the given server."""
    name = f"jiebang_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name, name


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    base = os.environ.get("JIEBANG_TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        migrate.upgrade(make_engine(url))
        yield url
        return
    url, name = _postgres_database(base)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no schema at all, on the same kind of server as the suite's."""
    base = os.environ.get("JIEBANG_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url, name = _postgres_database(base)
    yield url
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def docker_host() -> str:
    """The engine the sandbox runs on, as the worker finds it: Jiebang's own
    (JIEBANG_DOCKER_HOST, by default unix:///run/jiebang/docker.sock), never the host's."""
    return load_settings().docker_host


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        env="test",
        data_dir=tmp_path / "instance",
        database_url=database_url,
        redis_url=TEST_REDIS,
        queue_name=f"test-{uuid.uuid4().hex[:8]}",
        secret_key="test-secret",
    )


@pytest.fixture
def engine(settings: Settings):
    engine = make_engine(settings.database_url)
    yield engine
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions):
    with sessions() as session:
        yield session


@pytest.fixture
def blobs(settings: Settings) -> BlobStore:
    return BlobStore(settings.blob_dir)


@pytest.fixture
def redis_conn(settings: Settings):
    conn = Redis.from_url(settings.redis_url)
    yield conn
    for key in conn.scan_iter(f"*{settings.queue_name}*"):
        conn.delete(key)


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def write_bundle(root: Path, *, rows: int = 40, overrides: dict | None = None) -> Path:
    """A small valid challenge bundle: binary labels, f1_macro, open around 2026-11-22."""
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    ids = [f"r{i:03d}" for i in range(rows)]
    (root / "train.csv").write_text(
        "id,x,label\n" + "".join(f"t{i},{i},{i % 2}\n" for i in range(10))
    )
    (root / "test.csv").write_text("id,x\n" + "".join(f"{r},{i}\n" for i, r in enumerate(ids)))
    (root / "labels.csv").write_text(
        "id,label\n" + "".join(f"{r},{i % 2}\n" for i, r in enumerate(ids))
    )
    (root / "README.md").write_text("# Test challenge\n\nPredict x mod 2.\n")
    spec = {
        "slug": "parity",
        "title": {"en": "Parity", "zh": "奇偶"},
        "sponsor": "acme",
        "scenario": "manufacturing",
        "summary": {"en": "Predict parity.", "zh": "预测奇偶。"},
        "description": "README.md",
        "metric": "f1_macro",
        "targets": [{"metric": "f1_macro", "at_least": 0.9}, {"max_runtime_s": 60}],
        "prize": {"amount": 1000, "currency": "CNY"},
        "opens_at": "2026-11-01T00:00:00+08:00",
        "closes_at": "2027-03-01T00:00:00+08:00",
        "limits": {
            "daily_submissions": 3,
            "final_selections": 2,
            "team_size": 2,
            "running_submissions": 5,
        },
        "resources": {"cpus": 1, "memory_mb": 512, "time_limit_s": 30},
        "data": {
            "train": ["train.csv"],
            "test_inputs": "test.csv",
            "test_labels": "labels.csv",
            "public_fraction": 0.5,
        },
    }
    for key, value in (overrides or {}).items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    (root / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    return root


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle")


class World:
    """Small factories over one session: an org, users, a published challenge, teams."""

    def __init__(self, session, blobs: BlobStore, tmp: Path) -> None:
        self.session, self.blobs, self.tmp = session, blobs, tmp

    def org(self, slug: str = "acme"):
        from jiebang import accounts

        try:
            return accounts.get_org(self.session, slug)
        except Exception:
            return accounts.create_org(self.session, slug=slug, name=slug.title())

    def user(self, email: str, role: str = "participant", org=None):
        from jiebang import accounts

        return accounts.create_user(
            self.session, email=email, password="password123", role=role, org=org
        )

    def challenge(self, *, publish: bool = True, **overrides):
        from challenges import service
        from challenges.bundle import open_bundle

        self.org()
        root = write_bundle(self.tmp / f"bundle-{uuid.uuid4().hex[:6]}", overrides=overrides)
        with open_bundle(root) as bundle:
            item = service.create_from_bundle(self.session, bundle=bundle, blobs=self.blobs)
        if publish:
            service.publish(self.session, item)
        self.session.flush()
        return item

    def team(self, challenge, *members, name: str | None = None):
        from challenges import teams

        team = teams.create_team(
            self.session, user=members[0], challenge=challenge, name=name or f"team {members[0].id}"
        )
        for member in members[1:]:
            teams.join_team(self.session, user=member, team=team, join_code=team.join_code)
        return team

    def _submission(self, team, **fields):
        """A submission row of ``team`` by its first member, for ``fields`` to finish."""
        from evaluator.models import Submission

        sub = Submission(
            challenge_id=team.challenge_id,
            team_id=team.id,
            user_id=team.memberships[0].user_id,
            kind="bundle",
            blob_sha256="0" * 64,
            size=1,
            **fields,
        )
        self.session.add(sub)
        return sub

    def scored(
        self,
        team,
        *,
        public,
        private,
        at=None,
        runtime=1.0,
        memory=100.0,
        selected=False,
        rerun_of=None,
    ):
        """A scored submission row as the evaluator would leave it, standings included."""
        from evaluator import standings

        sub = self._submission(
            team,
            status="scored",
            public_score=public,
            private_score=private,
            runtime_s=runtime,
            peak_memory_mb=memory,
            created_at=at or dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC),
            selected=selected,
            rerun_of_id=rerun_of.id if rerun_of else None,
        )
        self.session.flush()
        standings.note_scored(self.session, sub)
        return sub

    def failed(self, team, code: str, *, failure: str | None = None, **params):
        """A failed submission row whose stored message is ``code`` with ``params``."""
        sub = self._submission(team, status="failed", failure=failure)
        sub.tell(code, **params)
        self.session.flush()
        return sub


@pytest.fixture
def world(session, blobs, tmp_path) -> World:
    return World(session, blobs, tmp_path)


def stop_processes(procs: list[tuple[subprocess.Popen, Path | None]], timeout: float = 30) -> dict:
    """SIGTERM each process, then wait for all of them, ``timeout`` seconds in all; returns
    each one's time to exit (by pid). One that is still alive by then is asked for its
    threads' stacks (``jiebang worker`` writes them to its log on SIGUSR1), killed, and
    reported with the end of its log, so a hang says where it hung."""
    start = time.monotonic()
    for proc, _ in procs:
        if proc.poll() is None:
            proc.terminate()
    took, hung = {}, []
    for proc, log in procs:
        try:
            proc.wait(timeout=max(0.0, start + timeout - time.monotonic()))
            took[proc.pid] = time.monotonic() - start
        except subprocess.TimeoutExpired:
            hung.append((proc, log))
    for proc, _ in hung:
        proc.send_signal(signal.SIGUSR1)
    time.sleep(1 if hung else 0)  # for the stacks to be written
    reports = []
    for proc, log in hung:
        proc.kill()
        proc.wait()
        tail = log.read_text(errors="replace")[-12000:] if log and log.exists() else "(no log)"
        reports.append(f"{' '.join(map(str, proc.args))} (PID {proc.pid}), log {log}:\n{tail}")
    if reports:
        raise AssertionError(
            f"still running {timeout:.0f} s after SIGTERM:\n\n" + "\n\n".join(reports)
        )
    return took


@pytest.fixture(scope="session")
def stop_gracefully():
    """``stop_gracefully([(proc, log_path), ...], timeout)``: see ``stop_processes``."""
    return stop_processes
