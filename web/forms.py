"""Web forms (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from jiebang import accounts
from jiebang.errors import ServiceError
from web.errors import translate


def valid_email(_form, field) -> None:
    """The platform's one address check (``accounts.validate_email``), with its words."""
    try:
        accounts.validate_email(field.data or "")
    except ServiceError as exc:
        raise ValidationError(translate(exc)) from None


class Form(FlaskForm):
    """Every form of the site: no field may hold a NUL character (PostgreSQL refuses it
    in text; the user is told which field instead of meeting a server error)."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for item in self:
            if isinstance(item.data, str) and "\x00" in item.data:
                item.errors = [*item.errors, _l("Remove the NUL character from this field.")]
                ok = False
        return ok


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), valid_email])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RegisterForm(Form):
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[DataRequired(), valid_email])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8)])
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))],
    )


class TeamForm(Form):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(min=2, max=100)])


class JoinForm(Form):
    join_code = StringField(_l("Join code"), validators=[DataRequired(), Length(max=32)])


class SubmitForm(Form):
    kind = RadioField(
        _l("Kind"),
        choices=[
            # The server decides from the file (a zip is a code bundle), as the client does.
            SelectChoice("auto", _l("Detect from the file")),
            SelectChoice("image", _l("Image archive (docker save)")),
            SelectChoice("bundle", _l("Code bundle (zip)")),
        ],
        default="auto",
    )
    file = FileField(_l("File"), validators=[FileRequired()])
    note = StringField(_l("Note"), validators=[Length(max=200)])


class TokenForm(Form):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Where you will use it, e.g. laptop or CI."),
    )
    days = SelectField(
        _l("Valid for"),
        choices=[
            SelectChoice("30", _l("30 days")),
            SelectChoice("90", _l("90 days")),
            SelectChoice("365", _l("one year")),
        ],
        default="90",
    )


class OrgRequestForm(Form):
    slug = StringField(
        _l("Short name (slug)"),
        validators=[
            DataRequired(),
            Regexp(
                r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$",
                message=_l("Use 3 to 64 lowercase letters, digits and '-'."),
            ),
        ],
    )
    name = StringField(_l("Organization name"), validators=[DataRequired(), Length(max=200)])


class VerdictForm(Form):
    decision = RadioField(
        _l("Verdict"),
        choices=[
            SelectChoice("approve", _l("Approve: award the prize")),
            SelectChoice("disqualify", _l("Disqualify: move on to the next eligible team")),
        ],
        validators=[DataRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])
