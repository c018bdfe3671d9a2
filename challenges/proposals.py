"""The proposal stage (申报书): upload, reviewers, scores, totals, the shortlist.

A challenge with a ``proposal`` block asks each team for a PDF by ``due``. Reviewers the
sponsor assigns score each proposal they may see on the sponsor's criteria; the sponsor
chooses at most ``shortlist`` teams, releases the comments teams may read, and makes the
shortlist final. From then on only shortlisted teams submit (``challenges.eligibility``).

Who sees what: every score only the sponsor's members and administrators; a reviewer
their own; a team whether it was shortlisted (once final) and the released comments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from challenges import proposal_notices
from challenges.applicants import OrgRole, RegStatus, TeamOrganization
from challenges.models import Challenge, Membership, Team
from challenges.policy import Action, can, is_member, is_reviewer, require
from challenges.proposal_models import Proposal, ProposalReviewer, ProposalScore, Shortlist
from challenges.proposal_pdf import MiB, check_pdf, clean_filename
from jiebang import audit
from jiebang.accounts import User
from jiebang.blobs import BlobStore, BlobTooLarge
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError


def stage(challenge: Challenge) -> dict | None:
    return challenge.proposal or None


def _stage_or_404(challenge: Challenge) -> dict:
    if not challenge.proposal:
        raise NotFound("proposal", "This challenge has no proposal stage.")
    return challenge.proposal


def due_of(challenge: Challenge) -> dt.datetime:
    return dt.datetime.fromisoformat(_stage_or_404(challenge)["due"])


def criteria_of(challenge: Challenge) -> list[dict]:
    return list(_stage_or_404(challenge)["criteria"])


def shortlist_size(challenge: Challenge) -> int:
    return int(_stage_or_404(challenge)["shortlist"])


def max_bytes(challenge: Challenge) -> int:
    return int(_stage_or_404(challenge).get("max_mb", 20)) * MiB


# --- teams ---------------------------------------------------------------------------


def team_refusal(session: Session, *, challenge: Challenge, team: Team) -> ServiceError | None:
    """A team of a challenge with registration takes part in the proposal stage unless its
    registration was refused or withdrawn."""
    if not getattr(challenge, "registration", None):
        return None
    from challenges.eligibility import registration_of  # eligibility asks this module too

    reg = registration_of(session, team.id)
    if reg is None or reg.status in (RegStatus.refused.value, RegStatus.withdrawn.value):
        return Forbidden(
            "registration",
            "Register your team for this challenge on its team page before you hand in a proposal.",
        )
    return None


def proposal_of(session: Session, team_id: int) -> Proposal | None:
    return session.scalar(select(Proposal).where(Proposal.team_id == team_id))


def upload(
    session: Session,
    *,
    user: User,
    team: Team,
    challenge: Challenge,
    stream: BinaryIO,
    filename: str | None,
    blobs: BlobStore,
    now: dt.datetime,
) -> Proposal:
    """Keep ``stream`` as the team's proposal, replacing an earlier one until the due date;
    a different file clears the reviewers' scores of the old one (they score it again)."""
    stage_ = _stage_or_404(challenge)
    require(session, user, Action.upload_proposal, team, now=now)
    if team.challenge_id != challenge.id:
        raise NotFound("team", "No team %(id)s in this challenge.", id=team.id)
    if now >= due_of(challenge):
        raise Forbidden(
            "proposal",
            "Proposals were due at %(due)s; the upload is closed.",
            due=stage_["due"],
        )
    if is_final(session, challenge):
        raise Forbidden("proposal", "The shortlist is final; proposals can no longer change.")
    if (refused := team_refusal(session, challenge=challenge, team=team)) is not None:
        raise refused
    limit = max_bytes(challenge)
    incoming = blobs.receive(max_bytes=limit)
    try:
        try:
            while chunk := stream.read(1024 * 1024):
                incoming.write(chunk)
        except BlobTooLarge:
            raise Invalid(
                "file", "The file is over %(mb)d MB; make it smaller.", mb=limit // MiB
            ) from None
        check_pdf(incoming, incoming.size, limit=limit)
        blob = incoming.keep()
    finally:
        incoming.close()
    proposal = proposal_of(session, team.id)
    replaced = proposal.sha256 if proposal is not None else None
    if proposal is None:
        proposal = Proposal(challenge_id=challenge.id, team_id=team.id)
        session.add(proposal)
    cleared = 0
    if replaced is not None and replaced != blob.sha256:
        # The reviewers scored the old text: their scores do not judge the new one.
        cleared = session.execute(
            delete(ProposalScore).where(ProposalScore.proposal_id == proposal.id)
        ).rowcount
    proposal.sha256, proposal.size = blob.sha256, blob.size
    proposal.filename, proposal.uploaded_by = clean_filename(filename), user.id
    proposal.uploaded_at = now
    session.flush()
    audit.record(
        session,
        "proposal.uploaded",
        actor_id=user.id,
        challenge_id=challenge.id,
        team_id=team.id,
        sha256=blob.sha256,
        size=blob.size,
        replaced=replaced,
        scores_cleared=cleared,
    )
    return proposal


# --- reviewers -----------------------------------------------------------------------


def reviewers(session: Session, challenge: Challenge) -> list[ProposalReviewer]:
    query = select(ProposalReviewer).where(ProposalReviewer.challenge_id == challenge.id)
    return list(session.scalars(query.order_by(ProposalReviewer.id)))


def _in_a_team(session: Session, *, user: User, challenge: Challenge) -> bool:
    query = select(Membership.id).where(
        Membership.challenge_id == challenge.id, Membership.user_id == user.id
    )
    return session.scalar(query) is not None


def conflicted(session: Session, *, user: User, team: Team) -> bool:
    """The reviewer may not see or score this team's proposal: a member of the team, or a
    member of one of its organizations (its own or a consortium partner's)."""
    if is_member(session, user, team.id):
        return True
    from challenges.eligibility import team_org_ids

    if user.org_id is None:
        return False
    member_orgs = select(User.org_id).join(Membership, Membership.user_id == User.id)
    member_orgs = member_orgs.where(Membership.team_id == team.id, User.org_id.isnot(None))
    return user.org_id in team_org_ids(session, team.id) | set(session.scalars(member_orgs))


def _conflicted_teams(session: Session, *, user: User, challenge: Challenge) -> set[int]:
    """``conflicted`` for every team of the challenge at once: a few statements, however
    many teams."""
    mine = select(Membership.team_id).where(
        Membership.challenge_id == challenge.id, Membership.user_id == user.id
    )
    barred = set(session.scalars(mine))
    if user.org_id is None:
        return barred
    applying = (
        select(TeamOrganization.team_id)
        .join(Team, Team.id == TeamOrganization.team_id)
        .where(
            Team.challenge_id == challenge.id,
            TeamOrganization.org_id == user.org_id,
            (TeamOrganization.role == OrgRole.lead.value)
            | TeamOrganization.confirmed_at.isnot(None),
        )
    )
    members = (
        select(Membership.team_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.challenge_id == challenge.id, User.org_id == user.org_id)
    )
    return barred | set(session.scalars(applying)) | set(session.scalars(members))


def assign_reviewer(
    session: Session, *, challenge: Challenge, user: User, actor: User
) -> ProposalReviewer:
    _stage_or_404(challenge)
    require(session, actor, Action.manage_proposals, challenge)
    if not user.active:
        raise Invalid("reviewer", "%(email)s's account is inactive.", email=user.email)
    if _in_a_team(session, user=user, challenge=challenge):
        raise Conflict(
            "reviewer",
            "%(email)s is a member of a team in this challenge, so cannot review its proposals.",
            email=user.email,
        )
    if is_reviewer(session, user=user, challenge=challenge):
        raise Conflict("reviewer", "%(email)s reviews this challenge already.", email=user.email)
    row = ProposalReviewer(challenge_id=challenge.id, user_id=user.id, assigned_by=actor.id)
    session.add(row)
    session.flush()
    audit.record(
        session,
        "proposal.reviewer_assigned",
        actor_id=actor.id,
        challenge_id=challenge.id,
        reviewer_id=user.id,
    )
    proposal_notices.send(session, "proposal.reviewer_assigned", [user.id], challenge)
    return row


def unassign_reviewer(session: Session, *, challenge: Challenge, user_id: int, actor: User) -> None:
    """Remove a reviewer; the scores they gave go with them (they no longer count)."""
    require(session, actor, Action.manage_proposals, challenge)
    row = session.scalar(
        select(ProposalReviewer).where(
            ProposalReviewer.challenge_id == challenge.id, ProposalReviewer.user_id == user_id
        )
    )
    if row is None:
        raise NotFound("reviewer", "No reviewer %(id)s on this challenge.", id=user_id)
    if is_final(session, challenge):
        raise Conflict("reviewer", "The shortlist is final; its reviewers stay on record.")
    for score in _scores(session, challenge, reviewer_id=user_id):
        session.delete(score)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        "proposal.reviewer_removed",
        actor_id=actor.id,
        challenge_id=challenge.id,
        reviewer_id=user_id,
    )


# --- scores --------------------------------------------------------------------------


def _scores(session, challenge: Challenge, *, reviewer_id: int | None = None):
    query = select(ProposalScore).join(Proposal).where(Proposal.challenge_id == challenge.id)
    if reviewer_id is not None:
        query = query.where(ProposalScore.reviewer_id == reviewer_id)
    return list(session.scalars(query.order_by(ProposalScore.id)))


def get_proposal(session: Session, *, challenge: Challenge, team_id: int, user: User) -> Proposal:
    """The team's proposal if ``user`` may see it (else a 404, as for no proposal)."""
    proposal = session.scalar(
        select(Proposal).where(Proposal.challenge_id == challenge.id, Proposal.team_id == team_id)
    )
    if proposal is None:
        raise NotFound("proposal", "No proposal of team %(id)s.", id=team_id)
    require(session, user, Action.see_proposal, proposal)
    return proposal


def score(
    session: Session,
    *,
    challenge: Challenge,
    team_id: int,
    reviewer: User,
    scores: dict[str, int],
    comments: dict[str, str],
) -> list[ProposalScore]:
    """Record (or replace) a reviewer's scores: every criterion, each 0 to 100."""
    require(session, reviewer, Action.review_proposals, challenge)
    proposal = get_proposal(session, challenge=challenge, team_id=team_id, user=reviewer)
    if is_final(session, challenge):
        raise Conflict("score", "The shortlist is final; scores can no longer change.")
    names = [c["name"] for c in criteria_of(challenge)]
    unknown = sorted(set(scores) - set(names))
    if unknown:
        raise Invalid("score", "Unknown criterion %(name)s.", name=", ".join(unknown))
    for name in names:
        value = scores.get(name)
        if value is None:
            raise Invalid(name, "Score every criterion; %(name)s has no score.", name=name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise Invalid(name, "A score is a whole number from 0 to 100 (%(name)s).", name=name)
    mine = {
        s.criterion: s
        for s in session.scalars(
            select(ProposalScore).where(
                ProposalScore.proposal_id == proposal.id,
                ProposalScore.reviewer_id == reviewer.id,
            )
        )
    }
    rows = []
    for name in names:
        row = mine.get(name) or ProposalScore(
            proposal_id=proposal.id, reviewer_id=reviewer.id, criterion=name
        )
        row.score, row.comment = scores[name], (comments.get(name) or "").strip()[:4000]
        row.released = False  # a changed comment is released again, or not
        session.add(row)
        rows.append(row)
    session.flush()
    audit.record(
        session,
        "proposal.scored",
        actor_id=reviewer.id,
        challenge_id=challenge.id,
        team_id=team_id,
        scores={n: scores[n] for n in names},
    )
    return rows


def scores_of(session: Session, *, challenge: Challenge, team_id: int, user: User):
    """The scores of one proposal ``user`` may read: all for the sponsor and administrators,
    a reviewer's own for a reviewer."""
    proposal = get_proposal(session, challenge=challenge, team_id=team_id, user=user)
    query = select(ProposalScore).where(ProposalScore.proposal_id == proposal.id)
    if not _sees_all(session, user, challenge):
        require(session, user, Action.review_proposals, challenge)  # a team reads none
        query = query.where(ProposalScore.reviewer_id == user.id)
    return list(session.scalars(query.order_by(ProposalScore.reviewer_id, ProposalScore.id)))


def _sees_all(session, user, challenge) -> bool:
    return can(session, user, Action.manage_proposals, challenge)


def assigned_challenges(session: Session, user: User) -> list[Challenge]:
    """The challenges whose proposals ``user`` reviews, newest due date first."""
    query = select(Challenge).join(ProposalReviewer, ProposalReviewer.challenge_id == Challenge.id)
    query = query.where(ProposalReviewer.user_id == user.id).order_by(Challenge.closes_at.desc())
    return list(session.scalars(query))


def reviewable(
    session: Session, *, challenge: Challenge, reviewer: User
) -> list[tuple[Proposal, dict[str, ProposalScore]]]:
    """The proposals this reviewer may score (conflicts left out), each with the
    reviewer's own scores by criterion."""
    require(session, reviewer, Action.review_proposals, challenge)
    query = select(Proposal).where(Proposal.challenge_id == challenge.id).order_by(Proposal.id)
    barred = _conflicted_teams(session, user=reviewer, challenge=challenge)
    found = [p for p in session.scalars(query) if p.team_id not in barred]
    mine: dict[int, dict[str, ProposalScore]] = {}
    for row in _scores(session, challenge, reviewer_id=reviewer.id):
        mine.setdefault(row.proposal_id, {})[row.criterion] = row
    return [(p, mine.get(p.id, {})) for p in found]


# --- totals and the shortlist --------------------------------------------------------


@dataclass
class Total:
    team_id: int
    team_name: str
    proposal: Proposal
    total: float | None  # None: no reviewer scored it yet
    reviewers: int
    per_reviewer: dict[int, float] = field(default_factory=dict)
    rank: int | None = None
    tied_at_cutoff: bool = False


def totals(session: Session, *, challenge: Challenge, user: User) -> list[Total]:
    """Every proposal's total, best first: each reviewer's weighted mean over the criteria
    (Σ weight·score / Σ weight), then the mean over the reviewers who scored it. Ranks
    share a place on equal totals (rounded to 1e-9); unscored proposals come last, by team
    id. Where the place at the cut-off (``shortlist``) is shared, every team in that
    place is marked ``tied_at_cutoff``: the sponsor chooses among them."""
    require(session, user, Action.manage_proposals, challenge)
    weights = {c["name"]: float(c["weight"]) for c in criteria_of(challenge)}
    proposals = list(session.scalars(select(Proposal).where(Proposal.challenge_id == challenge.id)))
    current = {r.user_id for r in reviewers(session, challenge)}
    sums: dict[tuple[int, int], list[float]] = {}
    for s in _scores(session, challenge):
        if s.reviewer_id in current and s.criterion in weights:
            acc = sums.setdefault((s.proposal_id, s.reviewer_id), [0.0, 0.0])
            acc[0] += weights[s.criterion] * s.score
            acc[1] += weights[s.criterion]
    result = []
    for p in proposals:
        per = {r: acc[0] / acc[1] for (pid, r), acc in sums.items() if pid == p.id and acc[1]}
        total = sum(per.values()) / len(per) if per else None
        result.append(Total(p.team_id, p.team.name, p, total, len(per), per))
    result.sort(key=lambda t: (t.total is None, -(t.total or 0.0), t.team_id))
    place, previous = 0, None
    for i, t in enumerate(result, start=1):
        if t.total is None:
            break
        key = round(t.total, 9)
        if key != previous:
            place, previous = i, key
        t.rank = place
    cut = shortlist_size(challenge)
    if len(result) > cut and result[cut - 1].total is not None:
        edge = result[cut - 1].rank
        # The place at the cut-off is shared with a team below it: a tie to resolve.
        if result[cut].rank == edge:
            for t in result:
                t.tied_at_cutoff = t.rank == edge
    return result


def is_final(session: Session, challenge: Challenge) -> bool:
    query = select(Shortlist.id).where(Shortlist.challenge_id == challenge.id)
    return session.scalar(query) is not None


def choose(
    session: Session, *, challenge: Challenge, team_ids: list[int], actor: User
) -> list[int]:
    """The sponsor's choice of shortlisted teams (replaceable until final): at most
    ``shortlist`` teams that handed in a proposal. Never more, ties or not."""
    require(session, actor, Action.manage_proposals, challenge)
    if is_final(session, challenge):
        raise Conflict("shortlist", "The shortlist is final already.")
    chosen = sorted(set(team_ids))
    cut = shortlist_size(challenge)
    if len(chosen) > cut:
        raise Invalid(
            "shortlist",
            "At most %(n)d teams go on the shortlist; you chose %(chosen)d. Where teams tie "
            "at the cut-off, choose among them.",
            n=cut,
            chosen=len(chosen),
        )
    proposals = {
        p.team_id: p
        for p in session.scalars(select(Proposal).where(Proposal.challenge_id == challenge.id))
    }
    missing = [t for t in chosen if t not in proposals]
    if missing:
        raise Invalid(
            "shortlist",
            "Team %(id)s handed in no proposal, so it cannot be shortlisted.",
            id=missing[0],
        )
    for team_id, p in proposals.items():
        p.shortlisted = team_id in chosen
    session.flush()
    audit.record(
        session,
        "proposal.shortlist_chosen",
        actor_id=actor.id,
        challenge_id=challenge.id,
        team_ids=chosen,
    )
    return chosen


def finalize(session: Session, *, challenge: Challenge, actor: User, now: dt.datetime) -> Shortlist:
    """Make the shortlist final: after the due date, once chosen. Teams are told; scores
    and the choice no longer change; only shortlisted teams submit."""
    require(session, actor, Action.manage_proposals, challenge)
    if is_final(session, challenge):
        raise Conflict("shortlist", "The shortlist is final already.")
    if now < due_of(challenge):
        raise Conflict(
            "shortlist",
            "Proposals are due at %(due)s; make the shortlist final after that.",
            due=challenge.proposal["due"],
        )
    proposals = list(session.scalars(select(Proposal).where(Proposal.challenge_id == challenge.id)))
    chosen = [p.team_id for p in proposals if p.shortlisted]
    if not chosen:
        raise Invalid("shortlist", "Choose at least one team for the shortlist first.")
    if len(chosen) > shortlist_size(challenge):  # choose() refuses it; a guard all the same
        raise Invalid("shortlist", "Too many teams on the shortlist.")
    for p in proposals:
        p.shortlisted = bool(p.shortlisted)
    row = Shortlist(challenge_id=challenge.id, decided_by=actor.id, decided_at=now)
    session.add(row)
    session.flush()
    audit.record(
        session,
        "proposal.shortlist_final",
        actor_id=actor.id,
        challenge_id=challenge.id,
        team_ids=sorted(chosen),
    )
    for p in proposals:
        members = [m.user_id for m in p.team.memberships]
        kind = "proposal.shortlisted" if p.shortlisted else "proposal.not_shortlisted"
        proposal_notices.send(session, kind, members, challenge, team=p.team.name)
    return row


def release(
    session: Session, *, challenge: Challenge, score_ids: list[int], released: bool, actor: User
) -> int:
    """Let teams read (or no longer read) these reviewers' comments; never their scores
    or names. Returns how many changed."""
    require(session, actor, Action.manage_proposals, challenge)
    wanted = set(score_ids)
    changed = 0
    for s in _scores(session, challenge):
        if s.id in wanted and s.released != released:
            s.released, changed = released, changed + 1
    session.flush()
    audit.record(
        session,
        "proposal.comments_released" if released else "proposal.comments_withdrawn",
        actor_id=actor.id,
        challenge_id=challenge.id,
        score_ids=sorted(wanted),
    )
    return changed


# --- what a team sees ----------------------------------------------------------------


@dataclass
class TeamView:
    proposal: Proposal | None
    due: dt.datetime
    open: bool
    final: bool
    shortlisted: bool | None  # None until final
    comments: list[tuple[str, str]]  # (criterion name, comment), released only


def team_view(session: Session, *, challenge: Challenge, team: Team, user: User, now) -> TeamView:
    require(session, user, Action.upload_proposal, team, now=now)
    proposal = proposal_of(session, team.id)
    final = is_final(session, challenge)
    comments: list[tuple[str, str]] = []
    if proposal is not None:
        query = select(ProposalScore).where(
            ProposalScore.proposal_id == proposal.id,
            ProposalScore.released.is_(True),
            ProposalScore.comment != "",
        )
        comments = [(s.criterion, s.comment) for s in session.scalars(query.order_by("id"))]
    due = due_of(challenge)
    return TeamView(
        proposal=proposal,
        due=due,
        open=now < due and not final,
        final=final,
        shortlisted=bool(proposal and proposal.shortlisted) if final else None,
        comments=comments,
    )


def shortlist_refusal(session: Session, *, challenge: Challenge, team: Team) -> ServiceError | None:
    """For ``eligibility.submit_refusal``: with a proposal stage, only teams on the final
    shortlist submit."""
    if not challenge.proposal:
        return None
    if not is_final(session, challenge):
        return Forbidden(
            "shortlist",
            "This challenge takes submissions only from shortlisted teams; the shortlist "
            "is not decided yet.",
        )
    proposal = proposal_of(session, team.id)
    if proposal is None or not proposal.shortlisted:
        return Forbidden(
            "shortlist",
            "Your team was not shortlisted for this challenge, so it cannot submit.",
        )
    return None
