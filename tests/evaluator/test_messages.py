"""Stored messages: every code has English words (and Chinese), and parameters survive."""

import re
from pathlib import Path

import pytest
from babel.support import Translations

import evaluator
import sandboxes
from evaluator import messages
from evaluator.models import Submission
from evaluator.outcome import plain
from evaluator.predictions_file import _KINDS
from evaluator.scoring import PredictionError, read_predictions

PLACEHOLDER = re.compile(r"%\((\w+)\)")
CODE = re.compile(r"""["']((?:run|platform|output|archive|bundle|sandbox)\.[a-z_]+)["']""")
TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


def test_every_code_the_evaluator_writes_has_a_template():
    written = set()
    for package in (evaluator, sandboxes):
        for source in Path(package.__file__).parent.glob("*.py"):
            if source.name != "messages.py":
                written |= set(CODE.findall(source.read_text()))
    written |= {f"output.{kind}" for _test, kind in _KINDS} | {"output.device"}
    assert len(written) > 70
    assert written - set(messages.TEMPLATES) == set()


@pytest.mark.parametrize("code", sorted(messages.TEMPLATES))
def test_each_template_fills_in_both_languages(code):
    template = messages.TEMPLATES[code]
    params = {name: 7 for name in PLACEHOLDER.findall(template)}
    english = messages.english(code, params)
    assert "%(" not in english and english != code
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        zh = Translations(f).gettext
    chinese = messages.render(code, params, zh)
    assert chinese != english and "%(" not in chinese
    assert "7" in chinese or not params


def test_an_unknown_code_or_missing_parameter_still_says_something():
    assert messages.english("", {}) == ""
    assert messages.english("legacy", {"text": "old words"}) == "old words"
    assert messages.english("no.such_code", {}) == "no.such_code"
    assert "time limit" in messages.english("run.timeout", {})  # the untranslated template


def test_a_prediction_error_is_its_stored_message(tmp_path):
    from challenges.metrics import get_metric

    path = tmp_path / "predictions.csv"
    path.write_text("id,prediction\na,1\na,2\n")
    with pytest.raises(PredictionError) as caught:
        read_predictions(path, metric=get_metric("accuracy"), classes=["1", "2"])
    exc = caught.value
    stored = plain(exc.params)
    assert exc.message_code == "output.ids"
    assert messages.english(exc.message_code, stored) == str(exc)
    assert '1 ids appear more than once, e.g. "a"' in str(exc)


def test_parameters_survive_the_database(world, session, sessions):
    challenge = world.challenge()
    team = world.team(challenge, world.user("m@example.com"))
    params = {
        "file": "predictions.csv",
        "line": 3,
        "sum": 1.25,
        "problems": [messages.message("output.missing_ids", count=2, examples='"a", "b"')],
    }
    sub = world.failed(team, "output.ids", **params)
    session.commit()
    with sessions() as other:
        again = other.get(Submission, sub.id)
        assert (again.message_code, again.message_params) == ("output.ids", params)
        assert again.message.startswith('predictions.csv: 2 test ids are missing, e.g. "a", "b".')


def test_a_refused_upload_keeps_its_code_and_words(tmp_path):
    from evaluator.outcome import rejected

    path = tmp_path / "b.zip"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(sandboxes.CodeBundleError) as caught:
        sandboxes.check_bundle(path)
    exc = caught.value
    assert exc.code == "bundle.not_zip"
    outcome = rejected(exc)
    assert outcome.message_code == "bundle.not_zip"
    assert outcome.message == str(exc) and "The upload is not a zip file: zip the" in str(exc)
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        zh = Translations(f).gettext
    chinese = messages.render(outcome.message_code, outcome.message_params, zh)
    assert chinese.startswith("上传的文件不是 zip 文件：请压缩文件夹里的内容")


def test_a_container_that_could_not_start_says_so_by_code():
    from sandboxes.runner import START_ERROR

    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        zh = Translations(f).gettext
    params = plain({"detail": messages.message("sandbox.not_started")})
    assert messages.english("run.not_started", params).endswith(START_ERROR)
    assert "Docker 无法启动容器" in messages.render("run.not_started", params, zh)
