"""A submission's stored message is a code; pages and the API say it in the reader's language."""

import pytest

from evaluator.messages import message
from evaluator.models import Submission


def _failed(world, session, published, code, **params):
    team = world.team(published, world.user("p@example.com"), name="Told Team")
    sub = world.failed(team, code, failure="timeout", **params)
    session.commit()
    return sub


def _login(client):
    client.post("/login", data={"email": "p@example.com", "password": "password123"})


def test_a_failure_reads_in_chinese_and_in_english(client, world, session, published, token_for):
    sub = _failed(world, session, published, "run.timeout", limit_s=3)
    _login(client)
    zh = client.get(f"/submissions/{sub.id}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "运行超过了 3 秒的时间限制，已被终止。" in zh.get_data(as_text=True)
    en = client.get(f"/submissions/{sub.id}", headers={"Accept-Language": "en"})
    assert "The run took longer than the 3 s time limit" in en.get_data(as_text=True)

    headers = token_for(session.get(type(sub.user), sub.user_id))
    api = client.get(f"/api/v1/submissions/{sub.id}", headers={**headers, "Accept-Language": "en"})
    body = api.get_json()
    assert body["message"] == "The run took longer than the 3 s time limit and was stopped."
    assert body["message_code"] == "run.timeout"
    api = client.get(f"/api/v1/submissions/{sub.id}", headers={**headers, "Accept-Language": "zh"})
    assert api.get_json()["message"] == "运行超过了 3 秒的时间限制，已被终止。"
    status = client.get(f"/submissions/{sub.id}/status", headers={"Accept-Language": "zh"})
    assert status.get_json()["message"] == "运行超过了 3 秒的时间限制，已被终止。"


def test_nested_messages_are_translated_and_joined(client, world, session, published):
    problems = [
        message("output.repeated_ids", count=2, examples='"r4", "r9"'),
        message("output.missing_ids", count=1, examples='"r0"'),
    ]
    sub = _failed(
        world, session, published, "output.ids", file="predictions.csv", problems=problems
    )
    _login(client)
    zh = client.get(f"/submissions/{sub.id}/status", headers={"Accept-Language": "zh"})
    assert zh.get_json()["message"] == (
        'predictions.csv：2 个 id 出现了不止一次，例如 "r4", "r9"；'
        '缺少 1 个测试 id，例如 "r0"。请为每个测试 id 恰好写一行。'
    )
    session.expire_all()
    assert session.get(Submission, sub.id).message == (
        'predictions.csv: 2 ids appear more than once, e.g. "r4", "r9"; 1 test ids are '
        'missing, e.g. "r0". Write exactly one row for each test id.'
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_legacy_text_is_shown_as_it_was(client, world, session, published, lang):
    sub = _failed(world, session, published, "legacy", text="Something from before.")
    _login(client)
    page = client.get(f"/submissions/{sub.id}", headers={"Accept-Language": lang})
    assert "Something from before." in page.get_data(as_text=True)


def test_a_refused_upload_reads_in_the_readers_language(
    client, world, session, published, token_for, make_bundle_zip, redis_conn
):
    user = world.user("p@example.com")
    world.team(published, user, name="Told Team")
    session.commit()
    headers = token_for(user)

    def refusal(lang):
        response = client.post(
            "/api/v1/challenges/parity/submissions",
            data={"kind": "image", "file": (make_bundle_zip(), "b.zip")},
            content_type="multipart/form-data",
            headers={**headers, "Accept-Language": lang},
        )
        assert response.status_code == 400
        return response.get_json()["error"]["message"]

    assert (
        refusal("zh")
        == "上传的文件不是 Docker 镜像归档：请用 `docker save IMAGE -o image.tar` 生成。"
    )
    assert refusal("en") == (
        "The upload is not a Docker image archive: make it with `docker save IMAGE -o image.tar`."
    )
