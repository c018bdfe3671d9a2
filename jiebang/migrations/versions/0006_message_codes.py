"""submission messages as codes with parameters

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 02:00:00
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The English the platform wrote for these codes when this revision was written (a
# migration does not import the application, whose words may change later). Stored
# texts that match one become that code; any other text becomes `legacy`, shown as is.
KNOWN = {
    "run.timeout": "The run took longer than the %(limit_s)s s time limit and was stopped.",
    "run.memory": "The run used more than its %(limit_mb)s MB of memory and was stopped.",
    "run.not_executable": (
        "The container exited with code %(exit_code)s: its command is not an executable file. "
        "Check the image's ENTRYPOINT and CMD."
    ),
    "run.not_found": (
        "The container exited with code %(exit_code)s: its command was not found in the "
        "image. Check the image's ENTRYPOINT and CMD."
    ),
    "run.crash": (
        "The container exited with code %(exit_code)s before finishing. Check that it runs "
        "with no network, as user 10001, on a read-only filesystem."
    ),
    "run.not_started": "The container could not start: %(detail)s",
    "platform.retrying": "A platform problem interrupted the run; it will be retried.",
    "platform.gave_up": (
        "The platform could not run this submission after %(attempts)s attempts. It does not "
        "count against your quota; please submit it again."
    ),
}
NUMBERS = {"limit_s", "limit_mb", "exit_code", "attempts"}
LEGACY = "legacy"

submissions = sa.table(
    "submissions",
    sa.column("id", sa.Integer),
    sa.column("message", sa.Text),
    sa.column("message_code", sa.String),
    sa.column("message_params", sa.JSON),
)


def _pattern(template: str) -> re.Pattern:
    placeholder = re.compile(r"%\\\((\w+)\\\)s")
    escaped = placeholder.sub(r"(?P<\1>.+?)", re.escape(template))
    return re.compile(escaped + r"\Z", re.DOTALL)


PATTERNS = {code: _pattern(template) for code, template in KNOWN.items()}


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def coded(text: str) -> tuple[str, dict]:
    """The code and parameters of a stored English text."""
    if not text:
        return "", {}
    for code, pattern in PATTERNS.items():
        found = pattern.match(text)
        if found:
            params = found.groupdict()
            return code, {k: _number(v) if k in NUMBERS else v for k, v in params.items()}
    return LEGACY, {"text": text}


def worded(code: str, params: dict) -> str:
    """Back to English text, for a downgrade."""
    if not code:
        return ""
    if code == LEGACY:
        return str(params.get("text", ""))
    if code in KNOWN:
        try:
            return KNOWN[code] % params
        except (KeyError, TypeError, ValueError):
            pass
    # A code this revision does not know the words of: its code and parameters.
    return f"[{code}] {json.dumps(params, ensure_ascii=False)}" if params else f"[{code}]"


def upgrade() -> None:
    # Added with defaults: SQLite changes the table in place then, rather than rebuilding
    # it under the foreign keys that point at it.
    op.add_column(
        "submissions",
        sa.Column("message_code", sa.String(length=40), server_default="", nullable=False),
    )
    op.add_column(
        "submissions",
        sa.Column("message_params", sa.JSON(), server_default="{}", nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(submissions.c.id, submissions.c.message).where(submissions.c.message != "")
    ).all()
    for submission_id, text in rows:
        code, params = coded(text)
        bind.execute(
            submissions.update()
            .where(submissions.c.id == submission_id)
            .values(message_code=code, message_params=params)
        )
    _drop_message(bind)


def downgrade() -> None:
    op.add_column("submissions", sa.Column("message", sa.Text(), server_default="", nullable=False))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(submissions.c.id, submissions.c.message_code, submissions.c.message_params).where(
            submissions.c.message_code != ""
        )
    ).all()
    for submission_id, code, params in rows:
        bind.execute(
            submissions.update()
            .where(submissions.c.id == submission_id)
            .values(message=worded(code, params or {}))
        )
    if bind.dialect.name == "sqlite":  # in place: a batch rebuild trips the foreign keys
        op.execute("ALTER TABLE submissions DROP COLUMN message_params")
        op.execute("ALTER TABLE submissions DROP COLUMN message_code")
        return
    op.drop_column("submissions", "message_params")
    op.drop_column("submissions", "message_code")


def _drop_message(bind) -> None:
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE submissions DROP COLUMN message")
        return
    op.drop_column("submissions", "message")
