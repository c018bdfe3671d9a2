"""The organization API: one's own, registering, invitations, an administrator's decision."""

from jiebang import accounts
from jiebang import organizations as services

TENCENT = "91440300708461136T"


def test_register_invite_and_verify_over_the_api(client, world, session, token_for):
    owner = world.user("owner@example.com")
    admin = world.user("admin@example.com", "admin")
    world.user("colleague@example.com")
    session.commit()
    mine = client.get("/api/v1/organizations/mine", headers=token_for(owner, "read"))
    assert mine.get_json() == {"organization": None, "org_admin": False}
    headers = token_for(owner)
    bad = client.post(
        "/api/v1/organizations",
        json={"kind": "enterprise", "name_zh": "腾讯", "uscc": "91440300708461136U"},
        headers=headers,
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "uscc"
    assert "check character" in bad.get_json()["error"]["message"]
    made = client.post(
        "/api/v1/organizations",
        json={
            "kind": "enterprise",
            "name_zh": "深圳市腾讯计算机系统有限公司",
            "name_en": "Shenzhen Tencent Computer Systems",
            "uscc": "９１４４０３００７０８４６１１３６ｔ",
        },
        headers=headers,
    )
    assert made.status_code == 201
    body = made.get_json()
    assert body["uscc"] == TENCENT and body["verification"] == "pending"
    assert body["sponsor"] is False and body["sponsor_request"] is None
    mine = client.get("/api/v1/organizations/mine", headers=headers).get_json()
    assert mine["org_admin"] is True and mine["organization"]["id"] == body["id"]

    invited = client.post(
        f"/api/v1/organizations/{body['id']}/invitations",
        json={"email": "colleague@example.com"},
        headers=headers,
    )
    assert invited.status_code == 201
    url = invited.get_json()["accept_url"]
    assert "/invitations/" in url
    colleague = accounts.get_user_by_email(session, "colleague@example.com")
    org = services.accept(session, token=url.rsplit("/", 1)[1], user=colleague)
    session.commit()
    assert org.id == body["id"]

    refused = client.post(
        f"/api/v1/admin/organizations/{body['id']}/verify",
        json={"decision": "verify"},
        headers=headers,
    )
    assert refused.status_code == 403
    decided = client.post(
        f"/api/v1/admin/organizations/{body['id']}/verify",
        json={"decision": "request_changes"},
        headers=token_for(admin),
    )
    assert decided.status_code == 400 and decided.get_json()["error"]["field"] == "note"
    decided = client.post(
        f"/api/v1/admin/organizations/{body['id']}/verify",
        json={"decision": "verify"},
        headers=token_for(admin),
    )
    assert decided.status_code == 200
    assert decided.get_json()["verification"] == "verified"
    assert decided.get_json()["verified_at"]


def test_a_read_token_cannot_register(client, world, session, token_for):
    owner = world.user("owner@example.com")
    session.commit()
    answer = client.post(
        "/api/v1/organizations",
        json={"kind": "other", "name_en": "Lab"},
        headers=token_for(owner, "read"),
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "insufficient_scope"
