"""Leaderboards at size: 10,000 teams and 500,000 submissions on PostgreSQL.

    .venv/bin/python -m benchmarks.boards                       # 10,000 teams, 500,000 subs
    .venv/bin/python -m benchmarks.boards --teams 1000 --submissions 50000 --no-wrk

A fresh database on the server of ``--database`` is made, migrated and filled with COPY;
it is dropped at the end. Measured, medians of ``--runs``:

- the board query (``leaderboards.board.public_board``, and the private board after close);
- the leaderboard page and the board API through the Flask app in this process, on a cold
  cache (the board's cache entry removed before each request) and warm;
- requests a second to the public board API under gunicorn (2 workers), with wrk on
  loopback, when wrk is installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from redis import Redis
from sqlalchemy import select, text

from benchmarks.postgres import SERVER, drop_database, make_database


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _copy(conn, table: str, columns: list[str], rows) -> None:
    """COPY rows (tuples of already formatted text) into ``table``."""
    raw = conn.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(statement) as copy:
        buf = io.StringIO()
        for n, row in enumerate(rows, start=1):
            buf.write("\t".join(row))
            buf.write("\n")
            if n % 50_000 == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


def seed(
    settings, *, teams: int, submissions: int, seed: int = 1, three_metrics: bool = False
) -> str:
    """One open challenge with ``teams`` one-member teams and ``submissions`` rows;
    most are scored, some failed, a few are judges' re-runs. Returns the slug.

    ``three_metrics``: the challenge is the detection example (a scoring program declaring
    map50, map and recall) and every scored row carries all three on each side, as a
    scorer's result is recorded; else the digits table (one built-in metric, no metrics)."""
    from challenges import service
    from challenges.bundle import open_bundle
    from evaluator.models import State
    from jiebang import accounts
    from jiebang.blobs import BlobStore
    from jiebang.db import make_engine, make_sessionmaker, utcnow
    from web import demo

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    with tempfile.TemporaryDirectory() as tmp, sessions() as session:
        accounts.create_org(session, slug="example-logistics", name="Example Logistics")
        example = demo.EXAMPLES[2] if three_metrics else demo.DIGITS
        bundle_dir = demo.prepare_bundle(Path(tmp) / "bundle", now=utcnow(), example=example)
        with open_bundle(bundle_dir) as bundle:
            item = service.create_from_bundle(
                session, bundle=bundle, blobs=BlobStore(settings.blob_dir)
            )
        service.publish(session, item)
        session.commit()
        challenge_id, slug = item.id, item.slug

    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        base_user = conn.execute(text("SELECT coalesce(max(id), 0) FROM users")).scalar() + 1
        base_team = conn.execute(text("SELECT coalesce(max(id), 0) FROM teams")).scalar() + 1
        stamp = start.isoformat()
        _copy(
            conn,
            "users",
            ["id", "email", "name", "password_hash", "role", "active", "created_at"],
            (
                (
                    str(base_user + i),
                    f"u{i}@bench.example",
                    f"user {i}",
                    "x",
                    "participant",
                    "t",
                    stamp,
                )
                for i in range(teams)
            ),
        )
        _copy(
            conn,
            "teams",
            ["id", "challenge_id", "name", "name_key", "join_code", "created_by", "created_at"],
            (
                (
                    str(base_team + i),
                    str(challenge_id),
                    f"Team {i} 队",
                    f"team {i} 队",
                    uuid.uuid4().hex,
                    str(base_user + i),
                    stamp,
                )
                for i in range(teams)
            ),
        )
        _copy(
            conn,
            "memberships",
            ["team_id", "user_id", "challenge_id", "joined_at"],
            (
                (str(base_team + i), str(base_user + i), str(challenge_id), stamp)
                for i in range(teams)
            ),
        )
        team_of = rng.integers(0, teams, submissions)
        public = np.round(rng.beta(8, 2, submissions), 6)
        private = np.clip(public + rng.normal(0, 0.02, submissions), 0, 1)
        seconds = np.sort(rng.integers(0, 20 * 86400, submissions))
        roll = rng.random(submissions)
        runtime = rng.uniform(1, 90, submissions)
        memory = rng.uniform(50, 900, submissions)
        # mAP@0.5:0.95 below mAP@0.5, recall near it: plausible, varied JSON per row.
        strict = np.round(public * rng.uniform(0.5, 0.8, submissions), 6)
        recall = np.round(np.clip(public + rng.normal(0, 0.05, submissions), 0, 1), 6)

        def metrics(i: int, side: np.ndarray) -> str:
            if not three_metrics:
                return "\\N"
            values = {"map50": float(side[i]), "map": float(strict[i]), "recall": float(recall[i])}
            return json.dumps(values)

        def rows():
            for i in range(submissions):
                at = (start + dt.timedelta(seconds=int(seconds[i]))).isoformat()
                failed = roll[i] < 0.1
                status = State.failed.value if failed else State.scored.value
                pub = "\\N" if failed else repr(float(public[i]))
                priv = "\\N" if failed else repr(float(private[i]))
                team = int(team_of[i])
                yield (
                    str(challenge_id),
                    str(base_team + team),
                    str(base_user + team),
                    "image",
                    "0" * 64,
                    "1000",
                    status,
                    "crash" if failed else "\\N",
                    pub,
                    priv,
                    "\\N" if failed else metrics(i, public),
                    "\\N" if failed else metrics(i, private),
                    f"{runtime[i]:.3f}",
                    f"{memory[i]:.1f}",
                    "1",
                    "f" if roll[i] > 0.002 else "t",
                    at,
                    at,
                    at,
                    "",
                    "",
                    "",
                )

        _copy(
            conn,
            "submissions",
            [
                "challenge_id",
                "team_id",
                "user_id",
                "kind",
                "blob_sha256",
                "size",
                "status",
                "failure",
                "public_score",
                "private_score",
                "public_metrics",
                "private_metrics",
                "runtime_s",
                "peak_memory_mb",
                "attempts",
                "selected",
                "created_at",
                "started_at",
                "finished_at",
                "note",
                "message_code",  # none; message_params takes its default
                "log_excerpt",
            ],
            rows(),
        )
    # Rows made by COPY, not by workers: compute the teams' bests as the evaluator keeps them.
    from challenges.models import Challenge
    from evaluator import standings

    with sessions.begin() as session:
        standings.rebuild(session, session.get(Challenge, challenge_id))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return slug


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flush(redis: Redis, namespace: str) -> None:
    for key in redis.scan_iter(f"{namespace}:board*"):
        redis.delete(key)


def measure_in_process(settings, slug: str, runs: int) -> list[tuple[str, float]]:
    """The board functions and the app's routes, in this process, cold and warm."""
    import evaluator.models  # noqa: F401  (every table known)
    from challenges.models import Challenge
    from evaluator.standings import bests_from_submissions
    from jiebang.db import make_engine, make_sessionmaker
    from leaderboards import board
    from web.app import create_app

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    redis = Redis.from_url(settings.redis_url)
    figures = []
    with sessions() as session:
        item = session.scalar(select(Challenge).where(Challenge.slug == slug))
        teams = board.public_board_size(session, item)
        assert teams > 0, "nothing to rank"
        middle = teams // 2 // 50 * 50  # the first row of the middle page of 50
        figures += [
            (
                "query: public board, one page of 50",
                median_ms(lambda: board.public_board(session, item, limit=50), runs),
            ),
            (
                f"query: public board, page {middle // 50 + 1} of {-(-teams // 50)}",
                median_ms(lambda: board.public_board(session, item, offset=middle, limit=50), runs),
            ),
            (
                "query: public board size",
                median_ms(lambda: board.public_board_size(session, item), runs),
            ),
            (
                "query: public board, every team",
                median_ms(lambda: board.public_board(session, item), runs),
            ),
            (
                "before: ranking every submission",
                median_ms(
                    lambda: session.execute(bests_from_submissions(item)).all(), max(3, runs // 3)
                ),
            ),
            (
                "query: private board, every team",
                median_ms(lambda: board.private_board(session, item), max(3, runs // 3)),
            ),
        ]
    engine.dispose()

    app = create_app(settings)
    client = app.test_client()

    def get(url: str, cold: bool):
        def run():
            if cold:
                _flush(redis, settings.namespace)
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    page = f"/challenges/{slug}/leaderboard"
    api = f"/api/v1/challenges/{slug}/leaderboard"
    get(page, cold=False)()  # first request: app and template warm-up
    middle = (teams + 99) // 100 // 2 + 1  # the middle page of 100 rows
    for name, url in [("page", page), (f"page {middle}", f"{page}?page={middle}"), ("API", api)]:
        figures.append((f"{name}: cold cache", median_ms(get(url, cold=True), runs)))
        get(url, cold=False)()
        figures.append((f"{name}: cached", median_ms(get(url, cold=False), runs)))
    _flush(redis, settings.namespace)
    return figures


def measure_wrk(
    settings, slug: str, seconds: int, workers: int, teams: int
) -> dict[str, tuple[float, float]]:
    """Requests a second to the public board API under gunicorn, with wrk on loopback."""
    port = _free_port()
    env = {
        **os.environ,
        "JIEBANG_DATABASE_URL": settings.database_url,
        "JIEBANG_REDIS_URL": settings.redis_url,
        "JIEBANG_DATA_DIR": str(settings.data_dir),
        "JIEBANG_QUEUE_NAME": settings.queue_name,
        "JIEBANG_SECRET_KEY": "benchmark-only",
    }
    gunicorn = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--log-level",
        "warning",
        "web.wsgi:app",
    ]
    server = subprocess.Popen(gunicorn, env=env)
    url = f"http://127.0.0.1:{port}/api/v1/challenges/{slug}/leaderboard"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer")
            time.sleep(0.3)
        results = {}
        middle = -(-teams // 50) // 2 + 1
        pages = [("API, first page", url), (f"API, page {middle}", f"{url}?page={middle}")]
        for label, target in pages:
            requests.get(target, timeout=5)  # cached from here on
            out = subprocess.run(
                ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", target],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if errors:
                raise RuntimeError(f"{errors.group(1)} failed responses under load")
            results[label] = (rps, float(p50.group(1)) * scale)
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=SERVER, help="a PostgreSQL server URL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--submissions", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument(
        "--three-metrics",
        action="store_true",
        help="the detection example: three metrics per submission (else the digits table)",
    )
    args = parser.parse_args()

    from jiebang import migrate
    from jiebang.db import make_engine
    from jiebang.settings import Settings

    url, name = make_database(args.database)
    tmp = Path(tempfile.mkdtemp(prefix="jiebang-boards-"))
    settings = Settings(
        database_url=url,
        redis_url=args.redis,
        data_dir=tmp,
        queue_name=f"bench-{uuid.uuid4().hex[:8]}",
        secret_key="benchmark-only",
    )
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        start = time.perf_counter()
        slug = seed(
            settings,
            teams=args.teams,
            submissions=args.submissions,
            three_metrics=args.three_metrics,
        )
        made = time.perf_counter() - start
        print(
            f"{args.teams:,} teams, {args.submissions:,} submissions on PostgreSQL "
            f"(made in {made:.1f} s); medians of {args.runs} runs, in ms\n"
        )
        for label, ms in measure_in_process(settings, slug, args.runs):
            print(f"{label:42} {ms:8.2f}")
        if args.no_wrk or shutil.which("wrk") is None:
            print("\n(wrk not run: install Debian's wrk for the load figures)")
            return
        print(
            f"\ngunicorn, {args.gunicorn_workers} workers x 4 threads; wrk -t2 -c16, "
            f"{args.wrk_seconds} s, cached board"
        )
        for label, (rps, p50) in measure_wrk(
            settings, slug, args.wrk_seconds, args.gunicorn_workers, args.teams
        ).items():
            print(f"{label:42} {rps:8.0f} req/s   median latency {p50:.2f} ms")
    finally:
        drop_database(args.database, name)
        shutil.rmtree(tmp, ignore_errors=True)
        _flush(Redis.from_url(args.redis), settings.namespace)


if __name__ == "__main__":
    main()
