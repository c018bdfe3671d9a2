"""A refused bundle's problems in the reader's language (issue 15, friction 2): codes with
parameters (challenges.problems), words chosen when shown, names as <code>, never a raw
backtick; the API says the same in plain text."""

import io
import re
import zipfile

import pytest

from tests.conftest import write_bundle

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}

BAD = {
    "unknown and missing keys": {"colour": "red", "metric": None},
    "unknown scenario": {"scenario": "space-mining"},
    "closes before it opens": {"closes_at": "2026-10-01T00:00:00+08:00"},
    "no time zone": {"opens_at": "2026-11-01T00:00:00"},
    "a missing data file": {
        "data": {"train": ["train.csv"], "test_inputs": "nope.csv", "test_labels": "labels.csv"}
    },
    "a target of no kind": {"targets": [{"at_least": 0.5}]},
    "too little memory": {"resources": {"memory_mb": 1}},
    "a bad file name": {"description": "../secret.md"},
}


@pytest.fixture
def sponsor(client, world, session):
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    client.post("/login", data={"email": "s@example.com", "password": "password123"})


def _zip(folder) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    data.seek(0)
    return data


def _problems(page: str) -> list[str]:
    box = page.split('class="flash error"', 1)[1].split("</div>", 1)[0]
    return re.findall(r"<li>(.*?)</li>", box, re.S)


def _english_left(html: str) -> list[str]:
    """Runs of three or more English words outside <code>."""
    text = re.sub(r"<code>.*?</code>", " ", html)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.findall(r"[A-Za-z]{2,}(?:[ ,;']+[A-Za-z]{2,}){2,}", text)


def _upload(client, folder, headers):
    return client.post(
        "/sponsor/challenges",
        data={"bundle": (_zip(folder), "bundle.zip")},
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.mark.parametrize("case", list(BAD))
def test_a_refused_bundle_is_told_in_chinese(client, sponsor, tmp_path, case):
    folder = write_bundle(tmp_path / "bundle", overrides=BAD[case])
    response = _upload(client, folder, ZH)
    assert response.status_code == 400
    problems = _problems(response.get_data(as_text=True))
    assert problems, case
    for html in problems:
        assert "`" not in html, html
        assert re.search(r"[\u4e00-\u9fff]", html), f"{case}: no Chinese in {html!r}"
        assert not _english_left(html), f"{case}: English left in {html!r}"
    english = _problems(_upload(client, folder, EN).get_data(as_text=True))
    assert all("`" not in html for html in english)
    assert english != problems


def test_names_are_code_and_escaped(client, sponsor, tmp_path):
    folder = write_bundle(tmp_path / "bundle", overrides={"scenario": "<b>x`y</b>"})
    html = " ".join(_problems(_upload(client, folder, EN).get_data(as_text=True)))
    assert "<code>scenario</code>:" in html
    assert "<code>&lt;b&gt;x&#39;y&lt;/b&gt;</code>" in html and "<b>" not in html


def test_not_a_zip_in_chinese(client, sponsor):
    response = client.post(
        "/sponsor/challenges",
        data={"bundle": (io.BytesIO(b"junk"), "b.zip")},
        content_type="multipart/form-data",
        headers=ZH,
    )
    (html,) = _problems(response.get_data(as_text=True))
    assert "<code>bundle.zip</code>" in html or "<code>b.zip</code>" in html
    assert not _english_left(html) and re.search(r"[\u4e00-\u9fff]", html)


def test_the_api_tells_the_same_in_the_readers_language(
    client, world, session, token_for, tmp_path
):
    user = world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    folder = write_bundle(tmp_path / "bundle", overrides=BAD["unknown scenario"])
    answers = {}
    for name, headers in (("en", EN), ("zh", ZH)):
        response = client.post(
            "/api/v1/challenges",
            data={"bundle": (_zip(folder), "bundle.zip")},
            content_type="multipart/form-data",
            headers={**token_for(user), **headers},
        )
        assert response.status_code == 400
        answers[name] = response.get_json()["error"]["message"]
    assert answers["en"] == "scenario: 'space-mining' is not a sector of the scenario catalog"
    assert "`" not in answers["zh"] and "'space-mining'" in answers["zh"]
    assert re.search(r"[\u4e00-\u9fff]", answers["zh"])


def test_every_problem_has_chinese_words_that_fit(app):
    """Each code's Chinese exists, keeps every placeholder and pairs its backticks."""
    from flask_babel import gettext

    from challenges.problems import TEMPLATES

    with app.test_request_context(headers=ZH):
        wrong = []
        for code, template in TEMPLATES.items():
            words = gettext(template)
            placeholders = set(re.findall(r"%\(\w+\)s", template))
            fits = set(re.findall(r"%\(\w+\)s", words)) == placeholders
            if words == template or not fits or words.count("`") != template.count("`"):
                wrong.append(code)
    assert not wrong
