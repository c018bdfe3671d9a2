"""The proposal stage: upload and the PDF check, reviewers and their conflicts, scores,
totals with weights, ties at the cut-off, the final shortlist, privacy, eligibility."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from challenges import eligibility, proposals
from challenges.applicants import OrgRole, TeamOrganization
from challenges.policy import Action, can
from jiebang.audit import AuditEvent
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound

DUE = dt.datetime(2027, 1, 15, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BEFORE = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
AFTER = dt.datetime(2027, 1, 20, tzinfo=dt.UTC)

STAGE = {
    "due": "2027-01-15T00:00:00+08:00",
    "max_mb": 1,
    "shortlist": 2,
    "criteria": [
        {"name": "technical", "title": {"en": "Technical", "zh": "技术方案"}, "weight": 40},
        {"name": "team", "title": {"en": "Team", "zh": "团队"}, "weight": 30},
        {"name": "plan", "title": {"en": "Plan", "zh": "计划"}, "weight": 30},
    ],
}


def make_pdf(text: str = "Proposal") -> bytes:
    """A small real PDF: one page with one line of text, a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects[3] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


@pytest.fixture
def stage(world):
    """A challenge with a proposal stage, its sponsor member, three teams."""
    acme = world.org()
    sponsor = world.user("s@acme.example.com", "sponsor", org=acme)
    challenge = world.challenge(proposal=STAGE)
    teams = []
    for name in ("a", "b", "c"):
        member = world.user(f"{name}@team.example.com")
        teams.append(world.team(challenge, member, name=f"Team {name.upper()}"))
    return challenge, sponsor, teams


def member(team):
    return team.memberships[0].user


def upload(session, blobs, challenge, team, data=None, *, now=BEFORE, filename="p.pdf"):
    return proposals.upload(
        session,
        user=member(team),
        team=team,
        challenge=challenge,
        stream=io.BytesIO(make_pdf() if data is None else data),
        filename=filename,
        blobs=blobs,
        now=now,
    )


def full(value: int) -> dict:
    return {"technical": value, "team": value, "plan": value}


def test_schema_keeps_the_stage_and_refuses_a_due_date_after_close(world, tmp_path):
    from challenges.bundle import ChallengeBundleError, open_bundle
    from tests.conftest import write_bundle

    challenge = world.challenge(proposal=STAGE)
    assert challenge.proposal["shortlist"] == 2
    assert [c["name"] for c in challenge.proposal["criteria"]] == ["technical", "team", "plan"]
    late = {**STAGE, "due": "2027-04-01T00:00:00+08:00"}
    big = {**STAGE, "max_mb": 101}
    twice = {**STAGE, "criteria": STAGE["criteria"] + STAGE["criteria"][:1]}
    for name, stage_, words in [
        ("late", late, ("proposal.due", "closes_at")),
        ("big", big, ("proposal.max_mb", "100")),
        ("twice", twice, ("proposal.criteria", "technical")),
    ]:
        root = write_bundle(tmp_path / name, overrides={"proposal": stage_})
        with pytest.raises(ChallengeBundleError) as caught, open_bundle(root):
            pass
        said = [p.replace("'", "") for p in caught.value.problems]  # keys may be quoted
        assert any(all(w in p for w in words) for p in said), said


def test_a_real_pdf_is_kept_and_a_reupload_replaces_it(session, blobs, stage):
    challenge, _sponsor, (a, _b, _c) = stage
    first = upload(session, blobs, challenge, a, filename='../../evil"name.PDF')
    assert first.filename == "evil_name.PDF"
    assert blobs.path(first.sha256).read_bytes() == make_pdf()
    old = first.sha256
    second = upload(session, blobs, challenge, a, make_pdf("Version 2"))
    assert second.id == first.id and second.sha256 != old
    events = session.query(AuditEvent).filter_by(kind="proposal.uploaded").all()
    assert [e.data.count(old) for e in events] == [1, 1]  # the first, then replaced


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 a zip", "Not a PDF: the file starts with 'PK??"),
        (b"\x89PNG\r\n\x1a\n....", "Not a PDF"),
        (make_pdf()[:-7], "%%EOF is missing"),
        (b"", "The file is empty"),
        (b"%PDF-3.0\n" + b"x" * 100 + b"%%EOF", "Not a PDF"),
    ],
)
def test_what_is_not_a_pdf_is_refused(session, blobs, stage, data, message):
    challenge, _sponsor, (a, _b, _c) = stage
    with pytest.raises(Invalid, match=message.replace("?", r"\?").replace("(", r"\(")):
        upload(session, blobs, challenge, a, data)
    assert proposals.proposal_of(session, a.id) is None
    assert not list((blobs.root / "tmp").glob("upload-*"))  # nothing left behind


def test_a_header_after_some_junk_and_pdf_2_are_pdfs(session, blobs, stage):
    challenge, _sponsor, (a, b, _c) = stage
    upload(session, blobs, challenge, a, b"\x00" * 500 + make_pdf())
    upload(session, blobs, challenge, b, b"%PDF-2.0\n1 0 obj<<>>endobj\n%%EOF\n")


def test_the_size_cap(session, blobs, stage):
    challenge, _sponsor, (a, _b, _c) = stage
    pdf = make_pdf()
    big = pdf[:-6] + b"%" + b" " * (1024 * 1024) + b"\n%%EOF\n"
    with pytest.raises(Invalid, match="over 1 MB"):
        upload(session, blobs, challenge, a, big)


def test_the_deadline_and_the_team(session, blobs, stage, world):
    challenge, _sponsor, (a, b, _c) = stage
    with pytest.raises(Forbidden, match="Proposals were due"):
        upload(session, blobs, challenge, a, now=DUE)
    with pytest.raises(NotFound):  # not the uploader's team
        proposals.upload(
            session, user=member(b), team=a, challenge=challenge,
            stream=io.BytesIO(make_pdf()), filename="x.pdf", blobs=blobs, now=BEFORE,
        )  # fmt: skip
    plain = world.challenge(slug="plain")
    other = world.team(plain, world.user("p@team.example.com"))
    with pytest.raises(NotFound, match="no proposal stage"):
        upload(session, blobs, plain, other)


def test_reviewer_conflicts(session, blobs, stage, world):
    challenge, sponsor, (a, b, _c) = stage
    upload(session, blobs, challenge, a)
    upload(session, blobs, challenge, b)
    with pytest.raises(Conflict, match="member of a team"):
        proposals.assign_reviewer(session, challenge=challenge, user=member(a), actor=sponsor)
    # Team B applies with a consortium partner, the university; its expert reviews A only.
    uni = world.org("uni")
    session.add(TeamOrganization(team_id=b.id, org_id=uni.id, role=OrgRole.lead.value))
    expert = world.user("expert@uni.example.com", org=uni)
    colleague = world.user("colleague@acme.example.com", "sponsor", org=world.org())
    proposals.assign_reviewer(session, challenge=challenge, user=expert, actor=sponsor)
    proposals.assign_reviewer(session, challenge=challenge, user=colleague, actor=sponsor)
    with pytest.raises(Conflict, match="already"):
        proposals.assign_reviewer(session, challenge=challenge, user=expert, actor=sponsor)
    proposals.score(
        session, challenge=challenge, team_id=a.id, reviewer=expert, scores=full(80), comments={}
    )
    with pytest.raises(NotFound):
        proposals.score(
            session, challenge=challenge, team_id=b.id, reviewer=expert, scores=full(80),
            comments={},
        )  # fmt: skip
    proposal_b = proposals.proposal_of(session, b.id)
    assert not can(session, expert, Action.see_proposal, proposal_b)
    assert can(session, colleague, Action.see_proposal, proposal_b)
    listed = proposals.reviewable(session, challenge=challenge, reviewer=expert)
    assert [p.team_id for p, _mine in listed] == [a.id]
    # A member of team A works for "lab": a reviewer from the lab sees only B's.
    lab = world.org("lab")
    member(a).org_id = lab.id
    labmate = world.user("labmate@lab.example.com", org=lab)
    proposals.assign_reviewer(session, challenge=challenge, user=labmate, actor=sponsor)
    listed = proposals.reviewable(session, challenge=challenge, reviewer=labmate)
    assert [p.team_id for p, _mine in listed] == [b.id]
    assert not can(session, labmate, Action.see_proposal, proposals.proposal_of(session, a.id))
    # Only the sponsor's members (or an administrator) assign.
    with pytest.raises(NotFound):
        proposals.assign_reviewer(
            session, challenge=challenge, user=world.user("x@y.example.com"), actor=member(a)
        )


def test_scores_are_bounded_and_complete(session, blobs, stage, world):
    challenge, sponsor, (a, _b, _c) = stage
    upload(session, blobs, challenge, a)
    expert = world.user("expert@x.example.com")
    proposals.assign_reviewer(session, challenge=challenge, user=expert, actor=sponsor)
    for bad, message in [
        ({"technical": 101, "team": 1, "plan": 1}, "0 to 100"),
        ({"technical": -1, "team": 1, "plan": 1}, "0 to 100"),
        ({"technical": 50.5, "team": 1, "plan": 1}, "whole number"),
        ({"technical": 50, "team": 1}, "plan has no score"),
        ({**full(5), "style": 3}, "Unknown criterion style"),
    ]:
        with pytest.raises(Invalid, match=message):
            proposals.score(
                session, challenge=challenge, team_id=a.id, reviewer=expert, scores=bad,
                comments={},
            )  # fmt: skip
    outsider = world.user("outsider@x.example.com")
    with pytest.raises(Forbidden, match="reviewer assigned"):
        proposals.score(
            session, challenge=challenge, team_id=a.id, reviewer=outsider, scores=full(5),
            comments={},
        )  # fmt: skip
    rows = proposals.score(
        session, challenge=challenge, team_id=a.id, reviewer=expert,
        scores={"technical": 0, "team": 100, "plan": 50}, comments={"plan": " Tighten it. "},
    )  # fmt: skip
    assert [(r.criterion, r.score, r.comment) for r in rows] == [
        ("technical", 0, ""), ("team", 100, ""), ("plan", 50, "Tighten it."),
    ]  # fmt: skip


def _scored(session, blobs, stage, world, table):
    """Upload for each team, two reviewers, scores from ``table``: {team index: (r1, r2)}."""
    challenge, sponsor, teams = stage
    experts = [world.user(f"r{i}@x.example.com") for i in (1, 2)]
    for expert in experts:
        proposals.assign_reviewer(session, challenge=challenge, user=expert, actor=sponsor)
    for index, per_reviewer in table.items():
        upload(session, blobs, challenge, teams[index])
        for expert, scores in zip(experts, per_reviewer, strict=True):
            if scores is not None:
                proposals.score(
                    session, challenge=challenge, team_id=teams[index].id, reviewer=expert,
                    scores=scores, comments={"technical": f"note {index}"},
                )  # fmt: skip
    return experts


def test_totals_weigh_criteria_then_average_reviewers(session, blobs, stage, world):
    challenge, sponsor, (a, b, c) = stage
    _scored(session, blobs, stage, world, {
        0: ({"technical": 100, "team": 0, "plan": 0}, {"technical": 0, "team": 100, "plan": 100}),
        1: (full(50), None),
        2: (None, None),
    })  # fmt: skip
    rows = proposals.totals(session, challenge=challenge, user=sponsor)
    by_team = {r.team_id: r for r in rows}
    # A: reviewer 1 (100·40 + 0 + 0) / 100 = 40, reviewer 2 (0 + 100·30 + 100·30) / 100 = 60.
    assert sorted(by_team[a.id].per_reviewer.values()) == pytest.approx([40.0, 60.0])
    assert by_team[a.id].total == pytest.approx(50.0) and by_team[a.id].reviewers == 2
    assert by_team[b.id].total == 50.0 and by_team[b.id].reviewers == 1
    assert by_team[c.id].total is None and rows[-1].team_id == c.id  # unscored: last
    assert by_team[a.id].rank == by_team[b.id].rank == 1 and by_team[c.id].rank is None


def test_a_new_file_clears_the_scores_of_the_old_one(session, blobs, stage, world):
    """Reviewers scored version 1; the team hands in version 2 before the due date: the
    old scores no longer count, and the reviewers score again. The same file again
    keeps them."""
    challenge, sponsor, (a, _b, _c) = stage
    _scored(session, blobs, stage, world, {0: (full(90), full(80))})
    upload(session, blobs, challenge, a)  # the same bytes: nothing to score again
    row = next(r for r in proposals.totals(session, challenge=challenge, user=sponsor))
    assert row.total == pytest.approx(85.0) and row.reviewers == 2
    upload(session, blobs, challenge, a, make_pdf("Version 2"))
    row = next(r for r in proposals.totals(session, challenge=challenge, user=sponsor))
    assert row.total is None and row.reviewers == 0
    last = session.query(AuditEvent).filter_by(kind="proposal.uploaded").all()[-1]
    assert '"scores_cleared":6' in last.data


def test_a_tie_at_the_cut_off_is_shown_and_never_shortlists_more(session, blobs, stage, world):
    challenge, sponsor, (a, b, c) = stage  # shortlist: 2
    _scored(session, blobs, stage, world, {
        0: (full(90), full(90)), 1: (full(70), full(70)), 2: (full(70), full(70)),
    })  # fmt: skip
    rows = proposals.totals(session, challenge=challenge, user=sponsor)
    assert [(r.team_id, r.rank, r.tied_at_cutoff) for r in rows] == [
        (a.id, 1, False), (b.id, 2, True), (c.id, 2, True),
    ]  # fmt: skip
    with pytest.raises(Invalid, match="At most 2 teams"):
        proposals.choose(session, challenge=challenge, team_ids=[a.id, b.id, c.id], actor=sponsor)
    assert proposals.choose(session, challenge=challenge, team_ids=[a.id, c.id], actor=sponsor)
    with pytest.raises(Conflict, match="due at"):
        proposals.finalize(session, challenge=challenge, actor=sponsor, now=BEFORE)
    proposals.finalize(session, challenge=challenge, actor=sponsor, now=AFTER)
    assert eligibility.submit_refusal(session, challenge=challenge, team=a, now=AFTER) is None
    assert eligibility.submit_refusal(session, challenge=challenge, team=c, now=AFTER) is None
    refused = eligibility.submit_refusal(session, challenge=challenge, team=b, now=AFTER)
    assert isinstance(refused, Forbidden) and "not shortlisted" in refused.message
    with pytest.raises(Conflict, match="final already"):
        proposals.choose(session, challenge=challenge, team_ids=[b.id], actor=sponsor)
    with pytest.raises(Conflict, match="scores can no longer change"):
        proposals.score(
            session, challenge=challenge, team_id=a.id,
            reviewer=proposals.reviewers(session, challenge)[0].user, scores=full(1), comments={},
        )  # fmt: skip
    kinds = [e.kind for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "proposal.shortlist_chosen" in kinds and "proposal.shortlist_final" in kinds


def test_no_tie_when_the_next_team_is_below(session, blobs, stage, world):
    challenge, sponsor, _teams = stage
    _scored(session, blobs, stage, world, {
        0: (full(90), None), 1: (full(90), None), 2: (full(70), None),
    })  # fmt: skip
    rows = proposals.totals(session, challenge=challenge, user=sponsor)
    assert [r.tied_at_cutoff for r in rows] == [False, False, False]
    assert [r.rank for r in rows] == [1, 1, 3]


def test_nobody_submits_before_the_shortlist_is_final(session, blobs, stage):
    challenge, sponsor, (a, _b, _c) = stage
    upload(session, blobs, challenge, a)
    proposals.choose(session, challenge=challenge, team_ids=[a.id], actor=sponsor)
    refused = eligibility.submit_refusal(session, challenge=challenge, team=a, now=AFTER)
    assert isinstance(refused, Forbidden) and "not decided yet" in refused.message


def test_a_team_without_a_proposal_is_not_shortlisted(session, blobs, stage):
    challenge, sponsor, (a, b, _c) = stage
    upload(session, blobs, challenge, a)
    with pytest.raises(Invalid, match="handed in no proposal"):
        proposals.choose(session, challenge=challenge, team_ids=[b.id], actor=sponsor)
    with pytest.raises(Invalid, match="at least one team"):
        proposals.finalize(session, challenge=challenge, actor=sponsor, now=AFTER)


def test_privacy_of_scores_and_comments(session, blobs, stage, world):
    challenge, sponsor, (a, b, _c) = stage
    r1, r2 = _scored(session, blobs, stage, world, {0: (full(80), full(60)), 1: (full(10), None)})
    # A reviewer reads their own scores; the sponsor every score; a team none.
    mine = proposals.scores_of(session, challenge=challenge, team_id=a.id, user=r1)
    assert {s.reviewer_id for s in mine} == {r1.id}
    every = proposals.scores_of(session, challenge=challenge, team_id=a.id, user=sponsor)
    assert {s.reviewer_id for s in every} == {r1.id, r2.id}
    with pytest.raises(NotFound):
        proposals.totals(session, challenge=challenge, user=r1)
    with pytest.raises(NotFound):
        proposals.totals(session, challenge=challenge, user=member(a))
    assert not can(session, member(b), Action.see_proposal, proposals.proposal_of(session, a.id))
    # The team sees released comments only, and its result only once final.
    view = proposals.team_view(session, challenge=challenge, team=a, user=member(a), now=BEFORE)
    assert view.comments == [] and view.shortlisted is None
    released = [s.id for s in every if s.reviewer_id == r1.id and s.criterion == "technical"]
    proposals.release(
        session, challenge=challenge, score_ids=released, released=True, actor=sponsor
    )
    proposals.choose(session, challenge=challenge, team_ids=[a.id], actor=sponsor)
    view = proposals.team_view(session, challenge=challenge, team=a, user=member(a), now=BEFORE)
    assert view.comments == [("technical", "note 0")] and view.shortlisted is None
    proposals.finalize(session, challenge=challenge, actor=sponsor, now=AFTER)
    view = proposals.team_view(session, challenge=challenge, team=a, user=member(a), now=AFTER)
    assert view.shortlisted is True and view.final and not view.open
    other = proposals.team_view(session, challenge=challenge, team=b, user=member(b), now=AFTER)
    assert other.shortlisted is False and other.comments == []


def test_removing_a_reviewer_drops_their_scores_from_the_totals(session, blobs, stage, world):
    challenge, sponsor, _teams = stage
    _r1, r2 = _scored(session, blobs, stage, world, {0: (full(80), full(60))})
    proposals.unassign_reviewer(session, challenge=challenge, user_id=r2.id, actor=sponsor)
    rows = proposals.totals(session, challenge=challenge, user=sponsor)
    assert rows[0].total == 80.0 and rows[0].reviewers == 1
    kinds = {e.kind for e in session.query(AuditEvent)}
    assert {"proposal.reviewer_assigned", "proposal.reviewer_removed", "proposal.scored"} <= kinds


def test_a_reviewer_cannot_join_a_team_of_the_challenge(session, blobs, stage, world):
    from challenges import teams

    challenge, sponsor, (a, _b, _c) = stage
    expert = world.user("expert@x.example.com")
    proposals.assign_reviewer(session, challenge=challenge, user=expert, actor=sponsor)
    with pytest.raises(Conflict, match="review this challenge's proposals"):
        teams.join_team(session, user=expert, team=a, join_code=a.join_code)
