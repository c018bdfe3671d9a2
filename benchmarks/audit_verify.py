"""`jiebang audit verify` at size: the chain and the live state checked against it.

    .venv/bin/python -m benchmarks.audit_verify                    # 50,000 then 500,000
    .venv/bin/python -m benchmarks.audit_verify --sizes 20000 --teams 1000

For each size a fresh PostgreSQL database is made, migrated and filled as the boards
benchmark fills it (``benchmarks.boards.seed``: 90% scored, some failed, 0.2% selected),
then given the audit events the platform would have written for those rows: each
submission received, its result, its selection; they are chained as ``audit.record``
chains them and written with COPY. The challenge is then closed, which freezes its
private board (a ``board.frozen`` event with the board's digest). Measured in a fresh
process, so that its peak memory is the check's own: the chain check
(``audit.verify``), the state check (``leaderboards.verify.verify_state``) and the
process's peak resident memory before and after. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select, text

from benchmarks.boards import _copy, seed
from benchmarks.postgres import SERVER, drop_database, make_database

EVENT_COLUMNS = ["at", "kind", "actor_id", "challenge_id", "data", "prev_hash", "hash"]


def _payload(data: dict) -> str:
    """The event's data as ``audit.record`` writes it."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def add_events(settings) -> int:
    """The events the platform writes for every submission row, chained from the log's
    current head and COPYed in; returns how many."""
    from evaluator.models import Submission
    from evaluator.outcome import audit_fields
    from jiebang import audit
    from jiebang.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        _count, prev = audit.head(session)
    written = 0

    def events():
        nonlocal prev, written
        with sessions() as session:
            # Plain rows, not ORM objects (5 times faster): audit_fields reads attributes.
            query = select(*Submission.__table__.c, Submission.rerun_of_id.label("rerun_of_id"))
            query = query.order_by(Submission.id).execution_options(yield_per=10_000)
            for sub in session.execute(query):
                at = sub.created_at.replace(microsecond=0)
                received = dict(
                    submission=sub.id,
                    team=sub.team_id,
                    kind=sub.kind,
                    sha256=sub.blob_sha256,
                    size=sub.size,
                )
                result = audit_fields(sub)
                result.pop("challenge_id")  # a column of the event, not its data
                chain = [
                    ("submission.received", sub.user_id, received),
                    (f"submission.{sub.status}", None, result),
                ]
                if sub.selected:
                    chain.append(
                        (
                            "submission.selected",
                            sub.user_id,
                            dict(submission=sub.id, team=sub.team_id),
                        )
                    )
                for kind, actor, data in chain:
                    payload = _payload(data)
                    digest = audit._digest(prev, kind, at, actor, sub.challenge_id, payload)
                    yield (
                        at.isoformat(),
                        kind,
                        "\\N" if actor is None else str(actor),
                        str(sub.challenge_id),
                        payload,
                        prev,
                        digest,
                    )
                    prev = digest
                    written += 1

    with engine.begin() as conn:
        _copy(conn, "audit_events", EVENT_COLUMNS, events())
    engine.dispose()
    return written


def close(settings, slug: str) -> str:
    """Close the challenge now: its private board is frozen and its digest recorded."""
    from challenges import service
    from jiebang.db import make_engine, make_sessionmaker
    from leaderboards.lifecycle import close_now

    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine).begin() as session:
        status = close_now(session, service.get_challenge(session, slug))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return status


def measure(url: str) -> dict:
    """In this process (a fresh one): the chain check, then the state check."""
    import evaluator.models  # noqa: F401  (every table known)
    from jiebang import audit
    from jiebang.db import make_engine, make_sessionmaker
    from leaderboards.verify import verify_state

    def peak_mb() -> float:
        # VmHWM, not getrusage: Linux carries ru_maxrss across exec, so a child would
        # report its parent's peak.
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024

    engine = make_engine(url)
    figures = {}
    with make_sessionmaker(engine)() as session:
        session.execute(text("SELECT 1"))
        figures["rss_before_mb"] = peak_mb()
        start = time.perf_counter()
        chain = audit.verify(session)
        figures["chain_s"] = time.perf_counter() - start
        figures["rss_after_chain_mb"] = peak_mb()
        start = time.perf_counter()
        state = verify_state(session)
        figures["state_s"] = time.perf_counter() - start
        figures["rss_after_state_mb"] = peak_mb()
    engine.dispose()
    figures |= {"events": chain.events, "chain_ok": chain.ok, "disagreements": state.count}
    figures["first"] = state.first[:3]
    return figures


def run_size(args, submissions: int) -> dict:
    from jiebang import migrate
    from jiebang.db import make_engine
    from jiebang.settings import Settings

    url, name = make_database(args.database)
    tmp = Path(tempfile.mkdtemp(prefix="jiebang-audit-"))
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
        slug = seed(settings, teams=args.teams, submissions=submissions)
        add_events(settings)
        status = close(settings, slug)
        made = time.perf_counter() - start
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.audit_verify", "--measure", url],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(child.stdout)
        return figures | {"made_s": made, "status": status, "submissions": submissions}
    finally:
        drop_database(args.database, name)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,500000", help="submissions, comma-separated")
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--database", default=SERVER, help="a PostgreSQL server's URL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print(
        f"jiebang audit verify on PostgreSQL, {args.teams:,} teams; "
        "seconds, and the checking process's peak resident memory (MB)\n"
    )
    header = "submissions   events   chain s   state s   RSS before   after chain   after state"
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        f = run_size(args, size)
        print(
            f"{f['submissions']:>11,} {f['events']:>8,} {f['chain_s']:>9.2f} {f['state_s']:>9.2f}"
            f" {f['rss_before_mb']:>12.0f} {f['rss_after_chain_mb']:>13.0f}"
            f" {f['rss_after_state_mb']:>13.0f}"
            f"   (made in {f['made_s']:.0f} s; challenge {f['status']};"
            f" {f['disagreements']} disagreements)",
            flush=True,
        )
        if not f["chain_ok"] or f["disagreements"]:
            sys.exit(f"the untouched database did not verify: {f['first']}")


if __name__ == "__main__":
    main()
