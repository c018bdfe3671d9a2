"""A mail's subject is one line whatever a sponsor typed (security review: a title with
a line break made the message refuse its Subject, and the mail never went out)."""

from __future__ import annotations

from jiebang import mail
from jiebang.settings import load_settings


def test_a_subject_with_line_breaks_is_one_line(tmp_path):
    settings = load_settings(data_dir=tmp_path, public_url="https://x.example/")
    message = mail.build(
        settings,
        mail.Mail(
            to="a@example.org",
            subject="Announcement on X: Hi\r\nBcc: evil@example.org\u2028more",
            text="t",
            html="<p>h</p>",
        ),
    )
    assert message["Subject"] == "Announcement on X: Hi Bcc: evil@example.org more"
    assert message["Bcc"] is None
    assert b"\nBcc:" not in bytes(message)
