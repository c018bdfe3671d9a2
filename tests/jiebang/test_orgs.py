"""Applicant organizations and sponsor requests: every state and its edges."""

import datetime as dt

import pytest
from sqlalchemy import select

from jiebang import accounts, orgs
from jiebang import organizations as org_services
from jiebang.audit import AuditEvent
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound
from jiebang.notifications import Notification

HUAWEI = "914403001922038216"
TENCENT = "91440300708461136T"


def _user(session, email, role="participant", org=None):
    return accounts.create_user(session, email=email, password="long-enough", role=role, org=org)


def _events(session, kind):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def _register(session, user, **fields):
    values = {"kind": "enterprise", "name_en": "Huawei Technologies", "name_zh": "华为技术有限公司"}
    values["uscc"] = HUAWEI
    values.update(fields)
    return org_services.register_org(session, user=user, **values)


def test_registering_makes_a_pending_organization_with_its_first_member_its_admin(session):
    user = _user(session, "first@example.com")
    org = _register(session, user, uscc=" 9144 0300 1922 0382 16 ")
    assert org.verification == "pending" and not org.is_verified
    assert org.uscc == HUAWEI and org.kind == "enterprise" and org.slug == "huawei-technologies"
    assert org.display_name("zh") == "华为技术有限公司"
    assert org.display_name("en") == "Huawei Technologies"
    assert not org.approved and org.sponsor_request is None  # applying is not sponsoring
    assert user.org_id == org.id and user.org_admin
    assert len(_events(session, "org.registered")) == 1
    with pytest.raises(Forbidden, match="belong to an organization"):
        _register(session, user, uscc=TENCENT)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"uscc": ""}, "uscc"),  # an enterprise has a code
        ({"uscc": "914403001922038217"}, "uscc"),  # with the right check character
        ({"name_zh": ""}, "name_zh"),  # and a Chinese legal name
        ({"kind": "company"}, "kind"),
        ({"kind": "other", "name_en": "", "name_zh": "", "uscc": ""}, "name_en"),
    ],
)
def test_registration_says_what_to_fix(session, fields, field):
    user = _user(session, "first@example.com")
    with pytest.raises(Invalid) as caught:
        _register(session, user, **fields)
    assert caught.value.field == field
    assert user.org_id is None


def test_other_kinds_may_have_no_code_and_one_code_is_one_organization(session):
    foreign = _register(
        session,
        _user(session, "abroad@example.com"),
        kind="other",
        name_en="Fraunhofer IPA",
        name_zh="",
        uscc="",
    )
    assert foreign.uscc is None and foreign.display_name("zh") == "Fraunhofer IPA"
    _register(session, _user(session, "a@example.com"))
    with pytest.raises(Conflict, match="registered already") as caught:
        _register(session, _user(session, "b@example.com"), name_en="Huawei 2")
    assert caught.value.field == "uscc"


def test_an_admin_verifies_refuses_or_asks_for_changes_with_a_note(session):
    admin = _user(session, "admin@example.com", role="admin")
    owner = _user(session, "owner@example.com")
    org = _register(session, owner)
    with pytest.raises(Forbidden):
        org_services.review_org(session, org=org, actor=owner, decision="verify")
    with pytest.raises(Invalid, match="Say why"):
        org_services.review_org(session, org=org, actor=admin, decision="refuse")
    with pytest.raises(Invalid):
        org_services.review_org(session, org=org, actor=admin, decision="maybe")

    org_services.review_org(
        session, org=org, actor=admin, decision="request_changes", note="Licence name differs."
    )
    assert org.verification == "changes_requested" and org.review_note == "Licence name differs."
    with pytest.raises(Conflict, match="not waiting"):
        org_services.review_org(session, org=org, actor=admin, decision="verify")
    # The organization's admin edits and resubmits; it waits again.
    org_services.update_org(
        session,
        org=org,
        actor=owner,
        kind="enterprise",
        name_en="Huawei",
        name_zh="华为技术有限公司",
        uscc=HUAWEI,
    )
    assert org.verification == "pending" and org.name == "Huawei"
    org_services.review_org(session, org=org, actor=admin, decision="verify")
    assert org.is_verified and org.verified_by == admin.id and org.verified_at is not None
    with pytest.raises(Conflict, match="verified organization cannot be changed"):
        org_services.update_org(
            session,
            org=org,
            actor=owner,
            kind="enterprise",
            name_en="X",
            name_zh="X",
            uscc=HUAWEI,
        )
    kinds = [e.kind for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds[-3:] == ["org.changes_requested", "org.submitted", "org.verified"]
    with pytest.raises(Conflict, match="not waiting"):
        org_services.review_org(session, org=org, actor=admin, decision="verify")
    told = session.scalars(select(Notification).where(Notification.user_id == owner.id))
    assert sorted(n.kind for n in told) == ["org.changes_requested", "org.verified"]
    # A verified organization may be sent back; then it is open to edits again.
    org_services.review_org(
        session, org=org, actor=admin, decision="request_changes", note="Licence lapsed."
    )
    assert not org.is_verified and org.verified_at is None


def test_a_refused_organization_may_be_corrected_and_submitted_again(session):
    admin = _user(session, "admin@example.com", role="admin")
    owner = _user(session, "owner@example.com")
    org = _register(session, owner)
    org_services.review_org(session, org=org, actor=admin, decision="refuse", note="Not real.")
    assert org.verification == "refused" and org.verified_at is None
    member = _user(session, "member@example.com", org=org)
    with pytest.raises(Forbidden, match="administrator of this organization"):
        org_services.update_org(session, org=org, actor=member, kind="other", name_en="Y", uscc="")
    org_services.update_org(session, org=org, actor=owner, kind="other", name_en="Y", uscc="")
    assert org.verification == "pending" and org.uscc is None


def test_invitations_end_to_end(session):
    owner = _user(session, "owner@example.com")
    org = _register(session, owner)
    invitee = _user(session, "new@example.com")
    stranger = _user(session, "stranger@example.com")
    with pytest.raises(Forbidden):
        org_services.invite(session, org=org, actor=invitee, email="x@example.com")
    invitation, token = org_services.invite(session, org=org, actor=owner, email="New@Example.com")
    assert invitation.email == "new@example.com" and invitation.token_hash != token
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)
    note = session.scalar(select(Notification).where(Notification.user_id == invitee.id))
    assert note.kind == "org.invited" and note.link == f"/invitations/{token}"
    with pytest.raises(Forbidden, match=r"for new@example\.com"):
        org_services.accept(session, token=token, user=stranger)
    with pytest.raises(NotFound):
        org_services.accept(session, token="not-a-token", user=invitee)
    assert org_services.accept(session, token=token, user=invitee) is org
    assert invitee.org_id == org.id and not invitee.org_admin
    with pytest.raises(Conflict, match="used already"):
        org_services.accept(session, token=token, user=invitee)
    with pytest.raises(Conflict, match="member already"):
        org_services.invite(session, org=org, actor=owner, email="new@example.com")
    assert [e.kind for e in _events(session, "org.joined")] == ["org.joined"]


def test_one_organization_per_person_and_expired_or_withdrawn_invitations(session):
    owner = _user(session, "owner@example.com")
    org = _register(session, owner)
    other = _register(session, _user(session, "o2@example.com"), uscc=TENCENT, name_en="Tencent")
    busy = _user(session, "busy@example.com", org=other)
    _invitation, token = org_services.invite(session, org=org, actor=owner, email=busy.email)
    with pytest.raises(Conflict, match="one organization at most"):
        org_services.accept(session, token=token, user=busy)

    later = _user(session, "later@example.com")
    first, old_token = org_services.invite(session, org=org, actor=owner, email=later.email)
    second, new_token = org_services.invite(session, org=org, actor=owner, email=later.email)
    assert first.revoked_at is not None  # a new invitation replaces the open one
    with pytest.raises(Conflict, match="withdrawn"):
        org_services.accept(session, token=old_token, user=later)
    second.expires_at = second.created_at - dt.timedelta(seconds=1)
    with pytest.raises(Conflict, match="expired"):
        org_services.accept(session, token=new_token, user=later)
    third, _token = org_services.invite(session, org=org, actor=owner, email=later.email)
    org_services.revoke_invitation(session, invitation=third, actor=owner)
    with pytest.raises(Conflict, match="not open"):
        org_services.revoke_invitation(session, invitation=third, actor=owner)
    assert [i.email for i in org_services.open_invitations(session, org)] == [busy.email]


def test_admins_remove_members_and_name_admins_but_one_always_stays(session):
    owner = _user(session, "owner@example.com")
    org = _register(session, owner)
    member = _user(session, "m@example.com", org=org)
    with pytest.raises(Conflict, match="another administrator"):
        org_services.remove_member(session, org=org, member=owner, actor=owner)
    with pytest.raises(Conflict, match="another administrator"):
        org_services.set_org_admin(session, org=org, member=owner, actor=owner, admin=False)
    with pytest.raises(Forbidden):
        org_services.set_org_admin(session, org=org, member=member, actor=member, admin=True)
    org_services.set_org_admin(session, org=org, member=member, actor=owner, admin=True)
    assert member.org_admin
    org_services.remove_member(session, org=org, member=owner, actor=member)
    assert owner.org_id is None and not owner.org_admin
    with pytest.raises(NotFound):
        org_services.remove_member(session, org=org, member=owner, actor=member)


def test_joining_or_leaving_a_sponsor_changes_the_participant_role(session):
    org = accounts.create_org(session, slug="port", name="Port")  # approved
    owner = _user(session, "owner@example.com", role="sponsor", org=org)
    owner.org_admin = True
    newcomer = _user(session, "n@example.com")
    _invitation, token = org_services.invite(session, org=org, actor=owner, email=newcomer.email)
    org_services.accept(session, token=token, user=newcomer)
    assert newcomer.role == "sponsor"
    org_services.remove_member(session, org=org, member=newcomer, actor=owner)
    assert newcomer.role == "participant"


def test_sponsor_requests_are_approved_refused_or_sent_back_with_a_note(session):
    admin = _user(session, "admin@example.com", role="admin")
    user = _user(session, "u@example.com")
    org = orgs.request_org(session, user=user, slug="port", name="Port Group")
    assert org.sponsor_request == "pending" and user.org_admin and not org.approved
    with pytest.raises(Forbidden):
        orgs.decide_sponsoring(session, org=org, actor=user, decision="refuse", note="n")
    with pytest.raises(Invalid, match="Say why"):
        orgs.decide_sponsoring(session, org=org, actor=admin, decision="request_changes")
    orgs.decide_sponsoring(
        session, org=org, actor=admin, decision="request_changes", note="Give the full name."
    )
    assert org.sponsor_request == "changes_requested" and org.sponsor_note == "Give the full name."
    with pytest.raises(Conflict, match="no sponsor request waiting"):
        orgs.decide_sponsoring(session, org=org, actor=admin, decision="refuse", note="n")
    orgs.request_sponsoring(session, org=org, actor=user, name="Port Group Co., Ltd.")
    assert org.sponsor_request == "pending" and org.name == "Port Group Co., Ltd."
    with pytest.raises(Conflict, match="waits for an administrator"):
        orgs.request_sponsoring(session, org=org, actor=user)
    orgs.decide_sponsoring(session, org=org, actor=admin, decision="refuse", note="Not a company.")
    assert org.sponsor_request == "refused" and user.role == "participant"
    orgs.request_sponsoring(session, org=org, actor=user)
    orgs.decide_sponsoring(session, org=org, actor=admin, decision="approve")
    assert org.approved and org.sponsor_request == "approved" and org.sponsor_note == ""
    assert user.role == "sponsor"
    assert org.verification == "unverified"  # sponsoring needs no verification
    with pytest.raises(Conflict, match="sponsor already"):
        orgs.request_sponsoring(session, org=org, actor=user)
    kinds = {e.kind for e in session.scalars(select(AuditEvent))}
    assert {"org.sponsor_changes_requested", "org.sponsor_refused", "org.approved"} <= kinds


def test_an_applicant_organization_may_also_ask_to_sponsor(session):
    owner = _user(session, "owner@example.com")
    org = _register(session, owner)
    orgs.request_sponsoring(session, org=org, actor=owner)
    assert org.sponsor_request == "pending" and org.verification == "pending"


def test_the_first_member_administers_however_the_organization_got_it(session):
    admin = _user(session, "admin@example.com", role="admin")
    org = accounts.create_org(session, slug="port", name="Port")
    first = _user(session, "first@example.com", role="sponsor", org=org)
    second = _user(session, "second@example.com", role="sponsor", org=org)
    assert first.org_admin and not second.org_admin
    empty = accounts.create_org(session, slug="lab", name="Lab")
    orgs.set_org(session, user=second, org=empty, actor=admin)
    assert second.org_id == empty.id and second.org_admin
    orgs.set_org(session, user=second, org=org, actor=admin)
    assert not second.org_admin  # the organization has its administrator
    orgs.set_org(session, user=first, org=None, actor=admin)
    assert first.org_id is None and not first.org_admin


def test_the_unique_index_settles_two_registrations_of_one_code(session, monkeypatch):
    """As if both passed the check before either wrote: the index refuses the second."""
    _register(session, _user(session, "a@example.com"))
    monkeypatch.setattr(org_services, "_code_taken", lambda *args: False)
    late = _user(session, "b@example.com")
    with pytest.raises(Conflict, match="registered already"):
        _register(session, late, name_en="Huawei again")
    assert late.org_id is None
    session.flush()  # the session goes on: the first organization stays
    assert session.scalar(select(accounts.Organization.uscc)) == HUAWEI
