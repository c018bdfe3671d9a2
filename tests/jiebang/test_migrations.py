import json

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from jiebang import migrate
from jiebang.db import Base, make_engine


def _org_and_challenge(conn, *, running_submissions: bool = True) -> None:
    """Organization 1 and its open challenge 1 ("old") as the early revisions stored
    them; ``running_submissions`` (2) exists from 0002 on."""
    running = ("running_submissions, ", "2, ") if running_submissions else ("", "")
    conn.execute(
        text(
            "INSERT INTO organizations (id, slug, name, approved, created_at) "
            "VALUES (1, 'acme', 'Acme', true, '2026-11-01 00:00:00')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO challenges (id, slug, sponsor_org_id, scenario, title_en, title_zh, "
            "summary_en, summary_zh, description_md, metric, targets, prize_amount, "
            "prize_currency, prize_rule, opens_at, closes_at, timezone, daily_submissions, "
            f"{running[0]}final_selections, team_size, cpus, memory_mb, time_limit_s, "
            "public_fraction, split_secret, dataset_hash, show_logs, status, created_at) "
            "VALUES (1, 'old', 1, 'logistics', 'Old', '旧', '', '', '', 'accuracy', '[]', 10, "
            "'CNY', 'winner-takes-all', '2026-11-01 00:00:00', '2027-01-01 00:00:00', "
            f"'Asia/Shanghai', 5, {running[1]}2, 5, 1, 512, 60, 0.3, 's', 'h', false, 'open', "
            "'2026-11-01 00:00:00')"
        )
    )


def _user(conn) -> None:
    """User 1, a participant."""
    conn.execute(
        text(
            "INSERT INTO users (id, email, name, password_hash, role, active, created_at) "
            "VALUES (1, 'a@example.com', 'A', 'x', 'participant', true, '2026-11-01')"
        )
    )


def test_migrations_create_every_table_and_are_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_match_the_migrations(database_url):
    """A model change without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrations_run_forward_on_a_database_with_data(empty_database_url):
    """Each revision applies to a database that already holds rows of the one before."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        _org_and_challenge(conn, running_submissions=False)
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        _user(conn)
        conn.execute(
            text(
                "INSERT INTO teams (id, challenge_id, name, join_code, created_by, created_at) "
                "VALUES (1, 1, 'Team A', 'code', 1, '2026-11-01')"
            )
        )
        for sid, status, score, minute in [
            (1, "scored", 0.5, 1),
            (2, "scored", 0.7, 2),
            (3, "scored", 0.7, 3),  # the same best, later: not the team's entry
            (4, "failed", None, 4),
            (5, "scored", None, 5),
        ]:
            conn.execute(
                text(
                    "INSERT INTO submissions (id, challenge_id, team_id, user_id, kind, "
                    "blob_sha256, size, note, status, message, public_score, log_excerpt, "
                    "attempts, selected, created_at) VALUES (:id, 1, 1, 1, 'image', 'h', 1, '', "
                    ":status, '', :score, '', 1, false, :at)"
                ),
                {"id": sid, "status": status, "score": score, "at": f"2026-11-02 00:0{minute}:00"},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT slug, running_submissions FROM challenges")).one()
        assert tuple(row) == ("old", 2)
        assert conn.execute(text("SELECT count(*) FROM organizations")).scalar() == 1
        best = conn.execute(text("SELECT team_id, submission_id, score, entries FROM team_bests"))
        assert [tuple(r) for r in best] == [(1, 2, 0.7, 3)]
        assert conn.execute(text("SELECT count(*) FROM board_versions")).scalar() == 0
    engine.dispose()


def test_0005_keys_existing_team_names_and_keeps_sessions(empty_database_url):
    """Teams named alike before 0005 keep their names and get distinct keys."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        _org_and_challenge(conn)
        _user(conn)
        for team_id, name in [(1, "Team A"), (2, "team\u00a0a"), (3, "Ｂｌｕｅ")]:
            conn.execute(
                text(
                    "INSERT INTO teams (id, challenge_id, name, join_code, created_by, "
                    "created_at) VALUES (:id, 1, :name, :code, 1, '2026-11-01')"
                ),
                {"id": team_id, "name": name, "code": f"code{team_id}"},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT id, name, name_key FROM teams ORDER BY id")).all()
        assert [tuple(k) for k in keys] == [
            (1, "Team A", "team a"),
            (2, "team\u00a0a", "team a#2"),
            (3, "Ｂｌｕｅ", "blue"),
        ]
        assert conn.execute(text("SELECT session_generation FROM users")).scalar() == 0
    engine.dispose()


def _downgrade(engine, revision: str) -> None:
    from alembic import command

    config = migrate.alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0006_turns_stored_messages_into_codes_and_back(empty_database_url):
    """Known English texts become their codes; any other text is kept as `legacy`."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0005")
    messages = {
        1: "",
        2: "The run took longer than the 3 s time limit and was stopped.",
        3: (
            "The container exited with code 3 before finishing. Check that it runs with no "
            "network, as user 10001, on a read-only filesystem."
        ),
        4: 'predictions.csv line 2 has an empty "prediction" value.',
        5: "The container could not start: Docker could not start the container: no /input",
    }
    with engine.begin() as conn:
        _org_and_challenge(conn)
        _user(conn)
        conn.execute(
            text(
                "INSERT INTO teams (id, challenge_id, name, name_key, join_code, created_by, "
                "created_at) VALUES (1, 1, 'Team A', 'team a', 'c', 1, '2026-11-01')"
            )
        )
        for sid, message in messages.items():
            conn.execute(
                text(
                    "INSERT INTO submissions (id, challenge_id, team_id, user_id, kind, "
                    "blob_sha256, size, note, status, failure, message, log_excerpt, attempts, "
                    "selected, created_at) VALUES (:id, 1, 1, 1, 'image', 'h', 1, '', 'failed', "
                    "'crash', :message, '', 1, false, '2026-11-02 00:00:00')"
                ),
                {"id": sid, "message": message},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("submissions")}
        assert "message" not in columns
        stored = conn.execute(
            text("SELECT id, message_code, message_params FROM submissions ORDER BY id")
        ).all()
    params = {sid: p if isinstance(p, dict) else json.loads(p) for sid, _, p in stored}
    assert {sid: code for sid, code, _ in stored} == {
        1: "",
        2: "run.timeout",
        3: "run.crash",
        4: "legacy",
        5: "run.not_started",
    }
    assert params[1] == {}
    assert params[2] == {"limit_s": 3}
    assert params[3] == {"exit_code": 3}
    assert params[4] == {"text": messages[4]}
    assert params[5] == {"detail": "Docker could not start the container: no /input"}
    from evaluator.messages import english

    for sid, code, _ in stored:
        assert english(code, params[sid]) == messages[sid]  # the words are unchanged

    _downgrade(engine, "0005")
    with engine.connect() as conn:
        back = dict(conn.execute(text("SELECT id, message FROM submissions")).all())
        columns = {c["name"] for c in inspect(conn).get_columns("submissions")}
    assert back == messages
    assert "message_code" not in columns and "message_params" not in columns
    migrate.upgrade(engine)  # and forward again
    engine.dispose()


def test_0007_gives_existing_scores_their_metric_by_name_and_back(empty_database_url):
    """A built-in scorer reports one metric: stored scores become that metric's values."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0006")
    with engine.begin() as conn:
        _org_and_challenge(conn)
        _user(conn)
        conn.execute(
            text(
                "INSERT INTO teams (id, challenge_id, name, name_key, join_code, created_by, "
                "created_at) VALUES (1, 1, 'Team A', 'team a', 'c', 1, '2026-11-01')"
            )
        )
        for sid, public, private in ((1, 0.5, 0.25), (2, None, None), (3, 0.75, None)):
            conn.execute(
                text(
                    "INSERT INTO submissions (id, challenge_id, team_id, user_id, kind, "
                    "blob_sha256, size, note, status, message_code, message_params, "
                    "public_score, private_score, log_excerpt, attempts, selected, created_at) "
                    "VALUES (:id, 1, 1, 1, 'image', 'h', 1, '', 'scored', '', '{}', :pub, "
                    ":priv, '', 1, false, '2026-11-02 00:00:00')"
                ),
                {"id": sid, "pub": public, "priv": private},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, public_metrics, private_metrics, scorer_log FROM submissions")
        ).all()
        scoring = conn.execute(text("SELECT scoring FROM challenges")).scalar()
    as_dict = lambda v: v if v is None or isinstance(v, dict) else json.loads(v)  # noqa: E731
    found = {sid: (as_dict(pub), as_dict(priv), log) for sid, pub, priv, log in rows}
    assert found == {
        1: ({"accuracy": 0.5}, {"accuracy": 0.25}, ""),
        2: (None, None, ""),
        3: ({"accuracy": 0.75}, None, ""),
    }
    assert scoring is None  # the built-in scorer
    _downgrade(engine, "0006")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("submissions")}
    assert "public_metrics" not in columns and "scorer_log" not in columns


def test_0008_adds_dry_run_and_lets_a_dry_run_have_no_team(empty_database_url):
    """Existing submissions are not dry runs; a row with no team fits after 0008 (SQLite
    included: its NOT NULL is dropped without a table copy) and goes on the way back."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0007")
    insert = (
        "INSERT INTO submissions (id, challenge_id, team_id, user_id, kind, blob_sha256, size, "
        "note, status, message_code, message_params, log_excerpt, attempts, selected, "
        "created_at{extra}) VALUES (:id, 1, :team, 1, 'image', 'h', 1, '', 'queued', '', '{{}}', "
        "'', 0, false, '2026-11-02 00:00:00'{values})"
    )
    with engine.begin() as conn:
        _org_and_challenge(conn)
        _user(conn)
        conn.execute(
            text(
                "INSERT INTO teams (id, challenge_id, name, name_key, join_code, created_by, "
                "created_at) VALUES (1, 1, 'Team A', 'team a', 'c', 1, '2026-11-01')"
            )
        )
        conn.execute(text(insert.format(extra="", values="")), {"id": 1, "team": 1})
        conn.execute(text("INSERT INTO team_bests VALUES (1, 1, 1, 0.5, '2026-11-02', 1, 1, 1)"))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(insert.format(extra=", dry_run", values=", true")), {"id": 2, "team": None}
        )
        rows = conn.execute(text("SELECT id, team_id, dry_run FROM submissions ORDER BY id"))
        assert [(i, t, bool(d)) for i, t, d in rows] == [(1, 1, False), (2, None, True)]
    with engine.connect() as conn:  # a new connection reads the changed schema
        team_id = next(
            c for c in inspect(conn).get_columns("submissions") if c["name"] == "team_id"
        )
        assert team_id["nullable"] is True
        # The foreign keys still hold: a team that does not exist is refused.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(insert.format(extra="", values="")), {"id": 3, "team": 99})
    _downgrade(engine, "0007")
    with engine.connect() as conn:
        columns = {c["name"]: c for c in inspect(conn).get_columns("submissions")}
        ids = [r[0] for r in conn.execute(text("SELECT id FROM submissions"))]
    assert "dry_run" not in columns and columns["team_id"]["nullable"] is False
    assert ids == [1]  # the dry run went; the team's submission stayed
    migrate.upgrade(engine)  # and forward again
    engine.dispose()


def test_0009o_gives_existing_organizations_a_kind_a_sponsor_request_and_an_admin(
    empty_database_url,
):
    """Organizations from before are kind "other", unverified; approved ones keep
    sponsoring (request "approved"), the others wait ("pending"); each one's first
    member administers it."""
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0008")
    with engine.begin() as conn:
        _org_and_challenge(conn)
        conn.execute(
            text(
                "INSERT INTO organizations (id, slug, name, approved, created_at) "
                "VALUES (2, 'new', 'New', false, '2026-11-01 00:00:00')"
            )
        )
        for user_id, org_id in ((1, 1), (2, 1), (3, 2), (4, None)):
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, role, org_id, active, "
                    "created_at) VALUES (:id, :email, 'U', 'x', 'participant', :org, true, "
                    "'2026-11-01')"
                ),
                {"id": user_id, "email": f"u{user_id}@example.com", "org": org_id},
            )
    migrate.upgrade(engine, "0009o")
    with engine.connect() as conn:
        orgs = conn.execute(
            text(
                "SELECT id, kind, verification, sponsor_request, uscc, name_zh "
                "FROM organizations ORDER BY id"
            )
        ).all()
        admins = conn.execute(text("SELECT id, org_admin FROM users ORDER BY id")).all()
    assert [tuple(r) for r in orgs] == [
        (1, "other", "unverified", "approved", None, ""),
        (2, "other", "unverified", "pending", None, ""),
    ]
    assert [(i, bool(a)) for i, a in admins] == [(1, True), (2, False), (3, True), (4, False)]
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one code, one organization
        conn.execute(text("UPDATE organizations SET uscc = '91350100M000100Y43'"))
    _downgrade(engine, "0008")
    with engine.connect() as conn:
        assert "kind" not in {c["name"] for c in inspect(conn).get_columns("organizations")}
        assert "org_invitations" not in inspect(conn).get_table_names()
    migrate.upgrade(engine, "0009o")
    engine.dispose()
