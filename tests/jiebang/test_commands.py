"""The core commands run in-process against the suite's database."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jiebang.accounts import User
from jiebang.cli import cli


@pytest.fixture
def run(settings, engine):
    env = {
        "JIEBANG_DATABASE_URL": settings.database_url,
        "JIEBANG_DATA_DIR": str(settings.data_dir),
        "JIEBANG_REDIS_URL": settings.redis_url,
    }
    return lambda *args: CliRunner().invoke(cli, list(args), env=env)


def test_users_create_refuses_what_sign_up_refuses(run, session):
    """The CLI made accounts at addresses the web form refused (``@x.test``)."""
    reserved = run("users", "create", "--email", "x@x.test", "--password", "password123")
    assert reserved.exit_code != 0
    assert "x.test, a reserved domain" in reserved.output
    bad = run("users", "create", "--email", "not-an-address", "--password", "password123")
    assert bad.exit_code != 0 and "name@example.com" in bad.output
    hidden = run(
        "users", "create", "--email", "ok@example.com", "--password", "password123",
        "--name", "Ad\u202emin",
    )  # fmt: skip
    assert hidden.exit_code != 0 and "U+202E" in hidden.output
    assert session.scalars(select(User)).all() == []
    made = run("users", "create", "--email", "Ok@Example.com", "--password", "password123")
    assert made.exit_code == 0, made.output
    assert "<ok@example.com>" in made.output


def test_orgs_create_refuses_hidden_characters_in_names(run):
    hidden = run("orgs", "create", "--slug", "acme", "--name", "Acme\u200b")
    assert hidden.exit_code != 0 and "U+200B" in hidden.output
    assert run("orgs", "create", "--slug", "acme", "--name", " Acme  Group ").exit_code == 0


def test_orgs_create_with_a_kind_a_chinese_name_and_a_checked_code(run, session):
    from jiebang.accounts import get_org

    wrong = run(
        "orgs", "create", "--slug", "hw", "--name", "Huawei", "--uscc", "914403001922038217"
    )
    assert wrong.exit_code != 0 and "check character" in wrong.output
    made = run(
        "orgs", "create", "--slug", "hw", "--name", "Huawei", "--name-zh", "华为技术有限公司",
        "--kind", "enterprise", "--uscc", "914403001922038216",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    org = get_org(session, "hw")
    assert (org.kind, org.name_zh, org.uscc) == (
        "enterprise",
        "华为技术有限公司",
        "914403001922038216",
    )
    assert org.approved and not org.is_verified
