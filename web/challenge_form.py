"""The sponsor's challenge form: the fields of ``challenge.yaml`` on a web page.

Bounds, defaults and patterns are read from the schema (``challenges.schema``), so
the form refuses what a bundle would refuse, with messages in the reader's
language next to each field. The service then checks the result exactly as it
checks a bundle; what only that check finds is placed next to its field too.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from pydantic import BaseModel
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from challenges.metrics import METRICS
from challenges.models import Challenge
from challenges.scenarios import catalog
from challenges.schema import DEFAULT_TIMEZONE, SLUG, Data, Limits, Prize, Resources, Target
from web.challenge_spec import initial
from web.forms import Form
from web.i18n import lang

ZONES = (
    DEFAULT_TIMEZONE,
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


class Bounds:
    """The numeric bounds the schema declares for ``model.name``, with a clear message."""

    def __init__(self, model: type[BaseModel], name: str) -> None:
        self.low = self.high = None
        self.low_open = self.high_open = False
        for rule in model.model_fields[name].metadata:
            for attr, is_low, is_open in (("ge", 1, 0), ("gt", 1, 1), ("le", 0, 0), ("lt", 0, 1)):
                value = getattr(rule, attr, None)
                if value is None:
                    continue
                if is_low:
                    self.low, self.low_open = value, bool(is_open)
                else:
                    self.high, self.high_open = value, bool(is_open)

    def __call__(self, form, field) -> None:
        value = field.data
        if value is None:
            return
        too_low = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        too_high = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if too_low or too_high:
            raise ValidationError(self.describe())

    def describe(self) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            if self.low_open and self.high_open:
                return str(_l("Enter a number between %(low)s and %(high)s.", low=low, high=high))
            return str(_l("Enter a number from %(low)s to %(high)s.", low=low, high=high))
        if low is not None:
            if self.low_open:
                return str(_l("Enter a number greater than %(low)s.", low=low))
            return str(_l("Enter a number of at least %(low)s.", low=low))
        return str(_l("Enter a number of at most %(high)s.", high=high))


def _default(model: type[BaseModel], name: str):
    return model.model_fields[name].default


def _number(kind, label, model, name, *, required=True, **kwargs):
    first = InputRequired() if required else Optional()
    return kind(
        label, validators=[first, Bounds(model, name)], default=_default(model, name), **kwargs
    )


def _text(label, size=200, **kwargs):
    return StringField(label, validators=[DataRequired(), Length(max=size)], **kwargs)


class ChallengeForm(Form):
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(),
            Regexp(SLUG.pattern, message=_l("Use 3 to 64 lowercase letters, digits and '-'.")),
        ],
        description=_l("Part of the page address, e.g. port-container-damage. It cannot change."),
    )
    title_en = _text(_l("Title (English)"))
    title_zh = _text(_l("Title (Chinese)"))
    summary_en = TextAreaField(
        _l("Summary (English)"), validators=[DataRequired(), Length(max=500)]
    )
    summary_zh = TextAreaField(
        _l("Summary (Chinese)"), validators=[DataRequired(), Length(max=500)]
    )
    description = TextAreaField(
        _l("Description (Markdown)"),
        validators=[DataRequired(), Length(max=100_000)],
        description=_l("The background, the data and how results are used. Shown sanitized."),
    )
    description_zh = TextAreaField(
        _l("Description in Chinese (Markdown, optional)"),
        validators=[Length(max=100_000)],
        description=_l("Readers of Chinese see it; without it they see the description above."),
    )
    sponsor = SelectField(_l("Sponsoring organization"), choices=[])
    scenario = SelectField(_l("Scenario"), validators=[DataRequired()], choices=[])
    metric = SelectField(_l("Metric"), validators=[DataRequired()], choices=[])
    target_direction = SelectField(
        _l("Target score"),
        choices=[
            SelectChoice("at_least", _l("at least (≥)")),
            SelectChoice("at_most", _l("at most (≤)")),
        ],
    )
    target_value = FloatField(_l("Target value"), validators=[Optional()])
    max_runtime_s = FloatField(
        _l("Target: longest run time (s)"), validators=[Optional(), Bounds(Target, "max_runtime_s")]
    )
    max_memory_mb = FloatField(
        _l("Target: largest peak memory (MB)"),
        validators=[Optional(), Bounds(Target, "max_memory_mb")],
    )
    prize_amount = DecimalField(
        _l("Prize amount"), validators=[InputRequired(), Bounds(Prize, "amount")]
    )
    prize_currency = StringField(
        _l("Currency"),
        default=_default(Prize, "currency"),
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z]{3}$", message=_l("Three capital letters, e.g. CNY.")),
        ],
    )
    opens_at = DateTimeLocalField(
        _l("Opens"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    closes_at = DateTimeLocalField(
        _l("Closes"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    timezone = SelectField(
        _l("Time zone"), choices=[SelectChoice(z) for z in ZONES], default=ZONES[0]
    )
    daily_submissions = _number(
        IntegerField, _l("Submissions per team per day"), Limits, "daily_submissions"
    )
    total_submissions = _number(
        IntegerField,
        _l("Submissions per team in all (optional)"),
        Limits,
        "total_submissions",
        required=False,
    )
    final_selections = _number(
        IntegerField, _l("Final selections per team"), Limits, "final_selections"
    )
    team_size = _number(IntegerField, _l("Largest team"), Limits, "team_size")
    running_submissions = _number(
        IntegerField, _l("Submissions waiting or running at once"), Limits, "running_submissions"
    )
    cpus = _number(FloatField, _l("CPUs per run"), Resources, "cpus")
    memory_mb = _number(IntegerField, _l("Memory per run (MB)"), Resources, "memory_mb")
    time_limit_s = _number(IntegerField, _l("Time limit per run (s)"), Resources, "time_limit_s")
    runtime = SelectField(
        _l("Container runtime"),
        choices=[
            SelectChoice("", _l("platform default")),
            SelectChoice("runc"),
            SelectChoice("runsc", "runsc (gVisor)"),
        ],
    )
    public_fraction = _number(
        FloatField, _l("Share of test rows on the public board"), Data, "public_fraction"
    )
    show_logs = BooleanField(_l("Show teams their run logs"))
    train = MultipleFileField(_l("Training files (public downloads)"))
    test_inputs = FileField(
        _l("Test inputs (CSV with an id column; hidden)"),
        description=_l("Containers read it as /input/test.csv; nobody can download it."),
    )
    test_labels = FileField(
        _l("Test labels (CSV with id and label columns; hidden)"),
        description=_l("Only the scorer reads it."),
    )

    sample_submission = FileField(
        _l("Sample submission (CSV; public)"),
        description=_l(
            "A few rows in the format teams submit, with made-up ids: never the test ids."
        ),
    )
    dictionary = TextAreaField(
        _l("Data dictionary"),
        description=_l(
            "One column a line: column | type | English description | Chinese description"
        ),
        render_kw={"rows": 4},
    )

    # Who may apply (web.applicant_form; README "Who may apply").
    round_tag = StringField(
        _l("Round tag (optional)"),
        validators=[Optional(), Length(max=64)],
        description=_l("Groups challenges into a round, e.g. miit-ai-2026."),
    )
    applicants_who = SelectField(
        _l("Who may apply"),
        choices=[
            SelectChoice("individuals", _l("anyone, in teams")),
            SelectChoice("organizations", _l("organizations")),
            SelectChoice("consortia", _l("organizations and consortia")),
        ],
        default="individuals",
    )
    max_partners = IntegerField(
        _l("Partner organizations per consortium"),
        validators=[Optional(), NumberRange(min=1, max=50)],
        default=4,
    )
    registration_mode = SelectField(
        _l("Registration"),
        choices=[
            SelectChoice("", _l("none: teams take part at once")),
            SelectChoice("open", _l("open: approved at once")),
            SelectChoice("approval", _l("approval: the sponsor decides")),
        ],
        default="",
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    teams_freeze_at = DateTimeLocalField(
        _l("Teams freeze from (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    terms_en = TextAreaField(_l("Terms (English, markdown)"), render_kw={"rows": 4})
    terms_zh = TextAreaField(_l("Terms (Chinese, markdown)"), render_kw={"rows": 4})

    def validate_closes_at(self, field) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The challenge must close after it opens."))

    def validate_target_value(self, field) -> None:
        if field.data is not None and not -1e12 < field.data < 1e12:
            raise ValidationError(_l("Enter a number."))


def make_form(*, orgs, editing: Challenge | None, **kwargs) -> ChallengeForm:
    """The form with this reader's choices; prefilled from ``editing`` on a GET."""
    if editing is not None and "formdata" not in kwargs:
        kwargs["data"] = initial(editing)
    form = ChallengeForm(**kwargs)
    language = lang()
    form.scenario.choices = [
        SelectChoice(s.slug, s.name(language), optgroup=g.name(language))
        for g in catalog().groups
        for s in g.sectors
    ]
    form.metric.choices = [
        SelectChoice(m.name, f"{m.title_zh if language == 'zh' else m.title_en} ({m.name})")
        for m in METRICS.values()
    ]
    if editing is not None and editing.scoring is not None:  # the program's own metrics
        form.metric.choices = [
            SelectChoice(m.name, f"{m.title(language)} ({m.name})") for m in editing.metrics
        ]
    form.sponsor.choices = [SelectChoice(o.slug, o.name) for o in orgs]
    if editing is not None:
        form.slug.render_kw = {"readonly": True}
        form.slug.data = editing.slug
        form.sponsor.data = editing.sponsor.slug
    else:
        form.test_inputs.validators = [DataRequired()]
        form.test_labels.validators = [DataRequired()]
    return form
