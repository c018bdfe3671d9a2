"""Registration (issue 14): every rule edge, on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from challenges import eligibility, registration, teams
from challenges.applicants import RegStatus
from challenges.bundle import ChallengeBundleError, open_bundle
from jiebang import audit
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound
from tests.conftest import write_bundle

LATER = "2027-02-01T00:00:00+08:00"
EARLIER = "2026-11-15T00:00:00+08:00"  # before today's tests run: past


def consortia(**more) -> dict:
    return {"who": "consortia", "max_partners": 2, **more}


def reg(mode: str = "approval", **more) -> dict:
    return {"mode": mode, "closes_at": LATER, **more}


class Orgs:
    """Verified organizations with an administrator each."""

    def __init__(self, world) -> None:
        self.world = world

    def org(self, slug: str, *, verified: bool = True):
        org = self.world.org(slug)
        org.verification = "verified" if verified else "pending"
        return org

    def person(self, email: str, org, *, admin: bool = False):
        user = self.world.user(email, org=org)
        user.org_admin = admin
        return user


@pytest.fixture
def orgs(world) -> Orgs:
    return Orgs(world)


def _events(session, kind: str) -> list:
    from sqlalchemy import select

    return list(session.scalars(select(audit.AuditEvent).where(audit.AuditEvent.kind == kind)))


# -- the bundle keys -------------------------------------------------------------------------


def test_absent_keys_keep_todays_open_behaviour(world, now):
    challenge = world.challenge()
    assert challenge.registration is None and challenge.applicants is None
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    assert (
        eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now) is None
    )
    assert eligibility.may_download(world.session, challenge=challenge, user=None, now=now)
    with pytest.raises(Invalid):
        registration.apply(world.session, user=a, team=team)


def test_bundle_errors_name_the_key(tmp_path):
    cases = [
        (
            {"registration": reg(closes_at="2027-03-02T00:00:00+08:00")},
            ("registration:", "closes_at must be before"),
        ),
        (
            {"registration": reg(teams_freeze_at="2027-04-01T00:00:00+08:00")},
            ("registration:", "teams_freeze_at must be before"),
        ),
        ({"applicants": consortia()}, ("registration:", "apply by registration")),
        ({"applicants": {"who": "teams"}, "registration": reg()}, ("applicants.who",)),
        (
            {"applicants": consortia(per_organization={"limit": 3}), "registration": reg()},
            ("applicants:", "needs a round: tag"),
        ),
        ({"applicants": consortia(max_partners=0), "registration": reg()}, ("max_partners",)),
        ({"registration": {"mode": "invite"}}, ("registration.mode",)),
        ({"round": "Bad Tag"}, ("round:",)),
    ]
    for i, (overrides, fragments) in enumerate(cases):
        root = write_bundle(tmp_path / f"b{i}", overrides=overrides)
        with pytest.raises(ChallengeBundleError) as caught, open_bundle(root):
            pass
        assert all(f in str(caught.value) for f in fragments), (overrides, caught.value)


def test_terms_come_from_files_and_a_change_raises_the_version(world, tmp_path):
    terms = {"terms": {"en": "TERMS.md", "zh": "TERMS.zh.md"}}
    root = write_bundle(tmp_path / "t", overrides={"registration": reg(**terms)})
    with pytest.raises(ChallengeBundleError, match=r"registration\.terms\.en"), open_bundle(root):
        pass
    (root / "TERMS.md").write_text("Terms v1")
    (root / "TERMS.zh.md").write_text("条款 v1")
    from challenges import service

    world.org()
    with open_bundle(root) as bundle:
        item = service.create_from_bundle(world.session, bundle=bundle, blobs=world.blobs)
    assert (item.terms_en, item.terms_zh, item.terms_version) == ("Terms v1", "条款 v1", 1)
    assert item.registration["mode"] == "approval" and "terms" not in item.registration


# -- applying --------------------------------------------------------------------------------


def test_individuals_apply_and_wait_for_approval(world, now):
    challenge = world.challenge(registration=reg())
    a, b = world.user("a@example.com"), world.user("b@example.com")
    team = world.team(challenge, a, b)
    refused = eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now)
    assert refused is not None and refused.field == "registration"
    got = registration.apply(world.session, user=b, team=team)
    assert got.status == RegStatus.pending
    assert eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now)
    assert not eligibility.may_download(world.session, challenge=challenge, user=a, now=now)
    with pytest.raises(Conflict):
        registration.apply(world.session, user=a, team=team)
    outsider = world.user("c@example.com")
    with pytest.raises(Forbidden):
        registration.apply(world.session, user=outsider, team=team)


def test_open_registration_is_approved_at_once(world, now):
    challenge = world.challenge(registration=reg("open"))
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    assert registration.apply(world.session, user=a, team=team).status == RegStatus.approved
    assert (
        eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now) is None
    )
    assert eligibility.may_download(world.session, challenge=challenge, user=a, now=now)


def test_registration_deadline(world):
    challenge = world.challenge(registration=reg())
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    closes = dt.datetime(2027, 1, 31, 16, 0, tzinfo=dt.UTC)
    with pytest.raises(Forbidden, match="closed"):
        registration.apply(world.session, user=a, team=team, now=closes)
    registration.apply(world.session, user=a, team=team, now=closes - dt.timedelta(seconds=1))


def test_sponsor_approves_or_refuses_with_a_reason(world, now):
    challenge = world.challenge(registration=reg())
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    a, b = world.user("a@example.com"), world.user("b@example.com")
    ta, tb = world.team(challenge, a), world.team(challenge, b)
    registration.apply(world.session, user=a, team=ta)
    registration.apply(world.session, user=b, team=tb)
    with pytest.raises(NotFound):
        registration.decide(world.session, actor=a, team=tb, approve=True)
    registration.decide(world.session, actor=sponsor, team=ta, approve=True)
    with pytest.raises(Invalid, match="reason"):
        registration.decide(world.session, actor=sponsor, team=tb, approve=False, reason="")
    registration.decide(world.session, actor=sponsor, team=tb, approve=False, reason="Not eligible")
    assert eligibility.submit_refusal(world.session, challenge=challenge, team=ta, now=now) is None
    assert eligibility.submit_refusal(world.session, challenge=challenge, team=tb, now=now)
    assert eligibility.may_download(world.session, challenge=challenge, user=a, now=now)
    assert not eligibility.may_download(world.session, challenge=challenge, user=b, now=now)
    assert eligibility.may_download(world.session, challenge=challenge, user=sponsor, now=now)
    listed = registration.registrations(world.session, actor=sponsor, challenge=challenge)
    assert [r.status for r in listed] == ["approved", "refused"]
    assert [e.kind for e in _events(world.session, "registration.refused")]
    from sqlalchemy import select

    from jiebang.notifications import Notification

    kinds = world.session.scalars(select(Notification.kind).where(Notification.user_id == b.id))
    assert list(kinds) == ["registration.refused"]


def test_two_members_applying_at_once_register_the_team_once(world, sessions, monkeypatch):
    """The second member has seen no registration when the first one's commits: a clear
    Conflict, not a server error from the unique key."""
    from challenges.models import Team
    from jiebang.accounts import User

    challenge = world.challenge(registration=reg())
    a, b = world.user("a@example.com"), world.user("b@example.com")
    team = world.team(challenge, a)
    teams.join_team(world.session, user=b, team=team, join_code=team.join_code)
    world.session.commit()

    def apply_in(session, email):
        user = session.scalars(select(User).where(User.email == email)).one()
        registration.apply(session, user=user, team=session.get(Team, team.id))

    checked = registration._check_terms

    def the_other_applies_now(*args, **kwargs):  # after the lookup, before the insert
        monkeypatch.setattr(registration, "_check_terms", checked)
        with sessions() as other:
            apply_in(other, "b@example.com")
            other.commit()
        return checked(*args, **kwargs)

    monkeypatch.setattr(registration, "_check_terms", the_other_applies_now)
    with sessions() as mine:
        with pytest.raises(Conflict, match="applied already"):
            apply_in(mine, "a@example.com")
        mine.rollback()
    world.session.expire_all()
    assert registration.registration_of(world.session, team.id).status == "pending"
    assert len(_events(world.session, "registration.applied")) == 1


def test_two_decisions_at_once_record_one(world, sessions, monkeypatch):
    """Two of the sponsor's members approve the same registration at once: the second
    has checked it is pending when the first commits. One approval is recorded (one
    event, one notice); the other is told to reload."""
    from challenges.models import Team
    from jiebang.accounts import User

    challenge = world.challenge(registration=reg())
    world.user("s@example.com", role="sponsor", org=world.org())
    world.user("t@example.com", role="sponsor", org=world.org())
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    registration.apply(world.session, user=a, team=team)
    world.session.commit()

    def decide_in(session, email):
        actor = session.scalars(select(User).where(User.email == email)).one()
        registration.decide(session, actor=actor, team=session.get(Team, team.id), approve=True)

    checked = registration.clean_text

    def the_other_commits_now(*args, **kwargs):  # after the check, before the write
        monkeypatch.setattr(registration, "clean_text", checked)
        with sessions() as other:
            decide_in(other, "t@example.com")
            other.commit()
        return checked(*args, **kwargs)

    monkeypatch.setattr(registration, "clean_text", the_other_commits_now)
    with sessions() as mine:
        with pytest.raises(Conflict, match="meanwhile"):
            decide_in(mine, "s@example.com")
        mine.rollback()
    world.session.expire_all()
    assert registration.registration_of(world.session, team.id).status == "approved"
    assert len(_events(world.session, "registration.approved")) == 1


def test_withdrawn_or_refused_team_may_apply_again(world):
    challenge = world.challenge(registration=reg())
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    registration.apply(world.session, user=a, team=team)
    registration.withdraw(world.session, user=a, team=team)
    with pytest.raises(Conflict):
        registration.withdraw(world.session, user=a, team=team)
    registration.apply(world.session, user=a, team=team)
    registration.decide(world.session, actor=sponsor, team=team, approve=False, reason="Too late")
    assert registration.apply(world.session, user=a, team=team).status == "pending"


# -- terms -----------------------------------------------------------------------------------


def test_terms_versions_are_accepted_and_asked_again(world, now):
    challenge = world.challenge(registration=reg("open"))
    registration.amend_terms(world.session, challenge=challenge, en="v1", zh="一", actor=None)
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    with pytest.raises(Invalid, match="terms"):
        registration.apply(world.session, user=a, team=team)
    got = registration.apply(world.session, user=a, team=team, terms_version=1)
    assert (got.terms_version, got.terms_accepted_by) == (1, a.id)
    assert (
        eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now) is None
    )
    assert (
        registration.amend_terms(world.session, challenge=challenge, en="v2", zh="二", actor=None)
        == 2
    )
    refused = eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now)
    assert refused is not None and refused.field == "terms"
    assert not eligibility.may_download(world.session, challenge=challenge, user=a, now=now)
    with pytest.raises(Conflict, match="changed"):
        registration.accept_terms(world.session, user=a, team=team, version=1)
    registration.accept_terms(world.session, user=a, team=team, version=2)
    assert (
        eligibility.submit_refusal(world.session, challenge=challenge, team=team, now=now) is None
    )
    assert len(_events(world.session, "registration.terms_amended")) == 2
    # The same text again is no new version.
    assert (
        registration.amend_terms(world.session, challenge=challenge, en="v2", zh="二", actor=None)
        == 2
    )


# -- organizations and consortia -------------------------------------------------------------


def test_organizations_lead_must_be_verified_and_not_the_sponsor(world, orgs):
    challenge = world.challenge(applicants={"who": "organizations"}, registration=reg())
    unverified = orgs.org("beta", verified=False)
    b = orgs.person("b@beta.example.com", unverified)
    team = world.team(challenge, b)
    with pytest.raises(Forbidden, match="not verified"):
        registration.apply(world.session, user=b, team=team)
    loner = world.user("loner@example.com")
    with pytest.raises(Forbidden, match="organization"):
        world.team(challenge, loner)


def test_members_belong_to_the_teams_organizations(world, orgs):
    challenge = world.challenge(applicants={"who": "organizations"}, registration=reg())
    alpha, gamma = orgs.org("alpha"), orgs.org("gamma")
    a1, a2 = orgs.person("a1@alpha.example.com", alpha), orgs.person("a2@alpha.example.com", alpha)
    g = orgs.person("g@gamma.example.com", gamma)
    team = world.team(challenge, a1)
    registration.apply(world.session, user=a1, team=team)
    teams.join_team(world.session, user=a2, team=team, join_code=team.join_code)
    with pytest.raises(Forbidden, match="organizations"):
        teams.join_team(world.session, user=g, team=team, join_code=team.join_code)
    assert eligibility.team_org_ids(world.session, team.id) == {alpha.id}


def test_a_consortium_forms_and_applies(world, orgs):
    challenge = world.challenge(applicants=consortia(), registration=reg())
    alpha, beta, gamma, delta = (orgs.org(s) for s in ("alpha", "beta", "gamma", "delta"))
    lead = orgs.person("a@alpha.example.com", alpha)
    b_admin = orgs.person("admin@beta.example.com", beta, admin=True)
    b_member = orgs.person("m@beta.example.com", beta)
    team = world.team(challenge, lead)
    row = registration.add_partner(world.session, user=lead, team=team, org_slug="beta")
    registration.add_partner(world.session, user=lead, team=team, org_slug="gamma")
    with pytest.raises(Conflict, match="at most 2 partners"):
        registration.add_partner(world.session, user=lead, team=team, org_slug="delta")
    with pytest.raises(Conflict, match="already"):
        registration.add_partner(world.session, user=lead, team=team, org_slug="beta")
    # Unconfirmed partners keep the team from applying; they are not its organizations yet.
    assert eligibility.team_org_ids(world.session, team.id) == {alpha.id}
    with pytest.raises(Conflict, match="Gamma"):
        registration.apply(world.session, user=lead, team=team)
    assert registration.pending_invitations(world.session, user=b_admin) == [row]
    assert registration.pending_invitations(world.session, user=b_member) == []
    with pytest.raises(Forbidden):
        registration.confirm_partner(world.session, user=b_member, row=row)
    registration.confirm_partner(world.session, user=b_admin, row=row)
    registration.remove_partner(world.session, user=lead, team=team, org_id=gamma.id)
    teams.join_team(world.session, user=b_member, team=team, join_code=team.join_code)
    got = registration.apply(world.session, user=lead, team=team)
    assert got.status == "pending"
    assert eligibility.team_org_ids(world.session, team.id) == {alpha.id, beta.id}
    with pytest.raises(Conflict, match="Withdraw"):
        registration.add_partner(world.session, user=lead, team=team, org_slug="delta")
    assert delta.id not in eligibility.team_org_ids(world.session, team.id)
    assert _events(world.session, "registration.partner_confirmed")


def test_no_consortium_where_organizations_apply_alone(world, orgs):
    challenge = world.challenge(applicants={"who": "organizations"}, registration=reg())
    orgs.org("beta")
    lead = orgs.person("a@alpha.example.com", orgs.org("alpha"))
    team = world.team(challenge, lead)
    with pytest.raises(Invalid, match="consortia"):
        registration.add_partner(world.session, user=lead, team=team, org_slug="beta")


def test_the_sponsors_organization_is_never_a_partner(world, orgs):
    challenge = world.challenge(applicants=consortia(), registration=reg())
    world.org().verification = "verified"
    lead = orgs.person("a@alpha.example.com", orgs.org("alpha"))
    team = world.team(challenge, lead)
    with pytest.raises(Forbidden, match="sponsors this challenge"):
        registration.add_partner(world.session, user=lead, team=team, org_slug="acme")


def test_per_organization_cap_across_a_round(world, orgs):
    rules = {"who": "organizations", "per_organization": {"limit": 2, "across": "round"}}
    made = [
        world.challenge(slug=f"round-{i}", round="r1", applicants=rules, registration=reg("open"))
        for i in range(3)
    ]
    other = world.challenge(slug="other", round="r2", applicants=rules, registration=reg("open"))
    alpha = orgs.org("alpha")
    people = [orgs.person(f"p{i}@alpha.example.com", alpha) for i in range(4)]
    tms = [world.team(c, p) for c, p in zip([*made, other], people, strict=True)]
    registration.apply(world.session, user=people[0], team=tms[0])
    registration.apply(world.session, user=people[1], team=tms[1])
    with pytest.raises(Conflict, match="r1"):
        registration.apply(world.session, user=people[2], team=tms[2])
    registration.apply(world.session, user=people[3], team=tms[3])  # another round
    # A withdrawn registration frees its place.
    registration.withdraw(world.session, user=people[1], team=tms[1])
    registration.apply(world.session, user=people[2], team=tms[2])


def test_per_organization_cap_across_a_sponsor(world, orgs):
    rules = {"who": "organizations", "per_organization": {"limit": 1, "across": "sponsor"}}
    one = world.challenge(slug="one", applicants=rules, registration=reg("open"))
    two = world.challenge(slug="two", applicants=rules, registration=reg("open"))
    alpha = orgs.org("alpha")
    p, q = orgs.person("p@alpha.example.com", alpha), orgs.person("q@alpha.example.com", alpha)
    registration.apply(world.session, user=p, team=world.team(one, p))
    with pytest.raises(Conflict, match="this sponsor"):
        registration.apply(world.session, user=q, team=world.team(two, q))


def test_earlier_winners_of_the_round_are_barred(world, orgs):
    from leaderboards.models import Award

    rules = {"who": "organizations", "bar_round_winners": True}
    won = world.challenge(slug="won", round="r1", applicants=rules, registration=reg("open"))
    nxt = world.challenge(slug="next", round="r1", applicants=rules, registration=reg("open"))
    elsewhere = world.challenge(slug="else", round="r2", applicants=rules, registration=reg("open"))
    alpha = orgs.org("alpha")
    p, q, r = (orgs.person(f"{n}@alpha.example.com", alpha) for n in "pqr")
    winner = world.team(won, p)
    registration.apply(world.session, user=p, team=winner)
    world.session.add(Award(challenge_id=won.id, status="awarded", team_id=winner.id))
    world.session.flush()
    with pytest.raises(Forbidden, match="won a challenge of r1"):
        registration.apply(world.session, user=q, team=world.team(nxt, q))
    registration.apply(world.session, user=r, team=world.team(elsewhere, r))


# -- team freeze -----------------------------------------------------------------------------


def test_teams_freeze(world):
    challenge = world.challenge(registration=reg(teams_freeze_at=LATER))
    a, b, c = (world.user(f"{n}@example.com") for n in "abc")
    team = world.team(challenge, a, b)
    challenge.registration = {**challenge.registration, "teams_freeze_at": EARLIER}
    with pytest.raises(Forbidden, match="frozen"):
        teams.join_team(world.session, user=c, team=team, join_code=team.join_code)
    with pytest.raises(Forbidden, match="frozen"):
        teams.create_team(world.session, user=c, challenge=challenge, name="late")
    with pytest.raises(Forbidden, match="frozen"):
        teams.leave_team(world.session, user=b, team=team, has_submitted=False)


# -- judges ----------------------------------------------------------------------------------


def test_a_judge_of_one_of_the_teams_organizations_is_conflicted(world, orgs):
    challenge = world.challenge(applicants=consortia(), registration=reg())
    alpha, beta = orgs.org("alpha"), orgs.org("beta")
    lead = orgs.person("a@alpha.example.com", alpha)
    b_admin = orgs.person("admin@beta.example.com", beta, admin=True)
    judge = orgs.person("judge@beta.example.com", beta)
    team = world.team(challenge, lead)
    row = registration.add_partner(world.session, user=lead, team=team, org_slug="beta")
    assert not eligibility.conflicted(world.session, user=judge, team=team)  # not confirmed
    registration.confirm_partner(world.session, user=b_admin, row=row)
    assert eligibility.conflicted(world.session, user=judge, team=team)
    assert not eligibility.conflicted(world.session, user=world.user("x@example.com"), team=team)


# -- the layers above: intake and judging ----------------------------------------------------


def test_intake_refuses_a_team_that_is_not_approved(world, now):
    from evaluator.intake import check_may_submit

    challenge = world.challenge(registration=reg())
    sponsor = world.user("s@example.com", role="sponsor", org=world.org())
    a = world.user("a@example.com")
    team = world.team(challenge, a)
    with pytest.raises(Forbidden, match="registration"):
        check_may_submit(world.session, user=a, challenge=challenge, now=now)
    registration.apply(world.session, user=a, team=team)
    with pytest.raises(Forbidden, match="approval"):
        check_may_submit(world.session, user=a, challenge=challenge, now=now)
    registration.decide(world.session, actor=sponsor, team=team, approve=True)
    assert check_may_submit(world.session, user=a, challenge=challenge, now=now) == team.id


def test_a_judge_from_a_winning_consortium_may_not_judge_it(world, orgs):
    from challenges import lifecycle
    from evaluator.reruns import request_rerun
    from leaderboards.decision import record_verdict, rerun_winner
    from leaderboards.lifecycle import tick

    challenge = world.challenge(applicants=consortia(), registration=reg("open"))
    alpha, beta = orgs.org("alpha"), orgs.org("beta")
    lead = orgs.person("a@alpha.example.com", alpha)
    b_admin = orgs.person("admin@beta.example.com", beta, admin=True)
    team = world.team(challenge, lead)
    row = registration.add_partner(world.session, user=lead, team=team, org_slug="beta")
    registration.confirm_partner(world.session, user=b_admin, row=row)
    registration.apply(world.session, user=lead, team=team)
    admin = world.user("admin@example.com", "admin")
    insider = orgs.person("judge@beta.example.com", beta)
    insider.role = "judge"
    outsider = world.user("judge@example.com", "judge")
    lifecycle.assign_judge(world.session, challenge, judge=insider, actor=admin)
    lifecycle.assign_judge(world.session, challenge, judge=outsider, actor=admin)
    best = world.scored(team, public=0.95, private=0.96)
    assert tick(world.session, now=challenge.closes_at) == [challenge.slug]
    with pytest.raises(Forbidden, match="organization"):
        rerun_winner(world.session, challenge, judge=insider)
    rerun = request_rerun(world.session, original=best, judge=outsider)
    rerun.status, rerun.public_score, rerun.private_score = "scored", 0.95, 0.96
    world.session.flush()
    with pytest.raises(Forbidden, match="organization"):
        record_verdict(world.session, challenge, judge=insider, decision="approve")
    record_verdict(world.session, challenge, judge=outsider, decision="approve")
