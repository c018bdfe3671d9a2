"""Who may do what: the one place that answers, for pages, the API, the CLI and services.

``can(session, user, action, target)`` says yes or no; ``require(...)`` raises the
refusal a caller sees. Each action has one rule, a function of the session, the
user (``None`` when anonymous) and the target, that returns ``None`` to allow or
the error to raise: ``NotFound`` where the object is hidden from the caller (its
existence must not leak), ``Forbidden`` where the caller may know it but not act.

Only who may act is decided here. Whether the action makes sense now (only a
draft can be edited, no re-run while one is under way) is a precondition checked
by the service that performs it, so every caller meets the same rule.

To add an action: a member of ``Action``, a rule, an entry in ``RULES``; then ask
``require`` in the service and ``can`` wherever a page or route needs to know.
To add a role: a member of ``jiebang.accounts.Role``; then read every rule below
and in ``jiebang.policy`` and say what the new role may do (rules name roles; none
matches on strings).

Administering accounts and organizations (``AccountAction``: roles, approving an
organization, seeing every organization's challenges) is ruled in ``jiebang.policy``,
since the services that need it sit below this package; its rules are part of
``RULES`` here, so ``can``/``require`` answer every action, of either enum.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeJudge, Membership, Status
from jiebang.accounts import Organization, Role, User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Forbidden, NotFound, ServiceError
from jiebang.policy import ACCOUNT_RULES, AccountAction, Rule, is_admin
from jiebang.policy import admins as _admins
from jiebang.policy import signed_in as _signed_in

PREVIEW = (Status.draft.value, Status.in_review.value)


class Action(enum.StrEnum):
    view_challenge = "view_challenge"  # a draft or one in review: its managers only
    create_challenge = "create_challenge"  # target: the Organization (None: any)
    manage_challenge = "manage_challenge"  # edit a draft, request review, the dashboard
    approve_challenge = "approve_challenge"
    close_challenge = "close_challenge"
    assign_judge = "assign_judge"
    oversee_challenge = "oversee_challenge"  # every submission, every log
    see_private_board = "see_private_board"
    see_judging = "see_judging"  # the provisional winner, re-runs, verdicts
    judge = "judge"  # re-run the winner, record a verdict
    compete = "compete"  # form or join a team
    see_submission = "see_submission"  # target: a submission
    see_logs = "see_logs"  # target: the challenge of a submission the user may see
    choose_final = "choose_final"  # target: a submission
    see_audit = "see_audit"
    dry_run = "dry_run"  # run a reference solution on the hidden data, see its results
    # Registration (challenges.registration): a team's members apply, the partner
    # organization's administrators confirm, the sponsor's members and administrators decide.
    register = "register"  # target: a team
    confirm_partner = "confirm_partner"  # target: a TeamOrganization
    manage_registrations = "manage_registrations"  # target: the challenge
    # Proposals (challenges.proposals): the sponsor's members and administrators manage the
    # stage and see every score; assigned reviewers score; a team hands in its own.
    manage_proposals = "manage_proposals"  # reviewers, totals, shortlist, released comments
    review_proposals = "review_proposals"  # score the proposals one may see
    upload_proposal = "upload_proposal"  # target: a team
    see_proposal = "see_proposal"  # target: a proposal
    # Talk (challenges.announcements, questions, corrections): the sponsor's members and
    # administrators announce, answer, hide and amend; outsiders ask.
    announce = "announce"
    ask_question = "ask_question"
    answer_question = "answer_question"  # answer, publicly or privately; hide abuse
    see_question = "see_question"  # target: a question
    amend_challenge = "amend_challenge"  # a published challenge's text, terms, deadline
    cancel_submission = "cancel_submission"  # target: a submission (still queued: the service)


class SubmissionLike(Protocol):
    """What the rules read of a submission (its model lives above this package)."""

    id: int
    team_id: int | None
    rerun_of_id: int | None
    dry_run: bool
    challenge: Challenge


def is_sponsor_of(user: User | None, challenge: Challenge) -> bool:
    return (
        user is not None and user.role == Role.sponsor and user.org_id == challenge.sponsor_org_id
    )


def is_judge(session: Session, *, user: User, challenge: Challenge) -> bool:
    """Assigned to judge this challenge."""
    query = select(ChallengeJudge.id).where(
        ChallengeJudge.challenge_id == challenge.id, ChallengeJudge.user_id == user.id
    )
    return session.scalar(query) is not None


def judges_any(session: Session, user: User | None) -> bool:
    """Judges some challenge: an account of role judge, or one assigned to a challenge
    (the assignment, not the role, makes a judge of that challenge)."""
    if user is None:
        return False
    if user.role == Role.judge:
        return True
    return (
        session.scalar(select(ChallengeJudge.id).where(ChallengeJudge.user_id == user.id).limit(1))
        is not None
    )


def is_member(session: Session, user: User, team_id: int) -> bool:
    query = select(Membership.id).where(
        Membership.team_id == team_id, Membership.user_id == user.id
    )
    return session.scalar(query) is not None


def _no_challenge(challenge: Challenge) -> NotFound:
    return NotFound("challenge", "No challenge %(slug)s.", slug=challenge.slug)


def _no_submission(sub: SubmissionLike) -> NotFound:
    return NotFound("submission", "No submission %(id)s among your teams'.", id=sub.id)


def _managers(session, user, challenge: Challenge, now):
    if is_admin(user) or is_sponsor_of(user, challenge):
        return None
    return _no_challenge(challenge)


def _dry_runners(session, user, challenge: Challenge, now):
    """The challenge's sponsor members and administrators, who test its scorer; a team
    never (a dry run scores on the hidden data). Whether the challenge still takes one
    (not after close, one at a time) is the service's precondition."""
    if is_admin(user) or is_sponsor_of(user, challenge):
        return None
    if challenge.status in PREVIEW:
        return _no_challenge(challenge)
    return Forbidden("dry_run", "Only the challenge's sponsor and administrators make dry runs.")


def _viewers(session, user, challenge: Challenge, now):
    if challenge.status not in PREVIEW:
        return None
    return _managers(session, user, challenge, now)


def _creators(session, user, org: Organization | None, now):
    if is_admin(user):
        return None
    if user is None or user.role != Role.sponsor:
        return Forbidden("bundle", "Only sponsors and administrators list challenges.")
    if org is not None and user.org_id != org.id:
        return Forbidden("sponsor", "You may only list challenges for your own organization.")
    return None


def _overseers(session, user, challenge: Challenge, now):
    """Administrators; after close also the sponsor's members and the assigned judges."""
    if is_admin(user):
        return None
    if user is None or not challenge.is_after_close(now):
        return _no_challenge(challenge)
    if is_sponsor_of(user, challenge) or is_judge(session, user=user, challenge=challenge):
        return None
    return _no_challenge(challenge)


def _private_board(session, user, challenge: Challenge, now):
    """Before close nobody; after close administrators, the sponsor's members and the
    assigned judges; everyone once the award is decided."""
    refused = Forbidden("board", "The private board is not available for this challenge.")
    if not challenge.is_after_close(now):
        return refused
    if challenge.is_decided():
        return None
    if is_admin(user) or (user is not None and is_sponsor_of(user, challenge)):
        return None
    if user is not None and is_judge(session, user=user, challenge=challenge):
        return None
    return refused


def _judges(*, admins: bool) -> Rule:
    def rule(session, user, challenge: Challenge, now):
        if admins and is_admin(user):
            return None
        if user is not None and is_judge(session, user=user, challenge=challenge):
            return None
        return Forbidden("judge", "Only a judge assigned to this challenge may do this.")

    return rule


def _competitors(session, user, challenge: Challenge, now):
    """Only outsiders compete: not the challenge's judges, not the members of its sponsor
    (whatever their role), not administrators (who see every board)."""
    if user is None:
        return Forbidden("team", "Join or create a team for this challenge before you submit.")
    if is_admin(user):
        return Forbidden(
            "team",
            "Administrators cannot take part in challenges; take part with an account "
            "that is not an administrator.",
        )
    if user.org_id is not None and user.org_id == challenge.sponsor_org_id:
        return Forbidden(
            "team", "You belong to the sponsor of this challenge, so you cannot take part in it."
        )
    if is_judge(session, user=user, challenge=challenge):
        return Conflict("team", "You judge this challenge, so you cannot take part in it.")
    if challenge.proposal and is_reviewer(session, user=user, challenge=challenge):
        return Conflict(
            "team", "You review this challenge's proposals, so you cannot take part in it."
        )
    return None


def _team_of_submission(session, user, sub: SubmissionLike, now):
    """The submission's own team (re-runs are the judges' own)."""
    if sub.team_id is None or sub.rerun_of_id is not None:  # a dry run; a judges' re-run
        return _no_submission(sub)
    if user is not None and is_member(session, user, sub.team_id):
        return None
    return _no_submission(sub)


def _submission_viewers(session, user, sub: SubmissionLike, now):
    if _team_of_submission(session, user, sub, now) is None:
        return None
    if sub.dry_run and _dry_runners(session, user, sub.challenge, now) is None:
        return None
    if _overseers(session, user, sub.challenge, now) is None:
        return None
    return _no_submission(sub)


def _log_readers(session, user, challenge: Challenge, now):
    """Run logs of a submission the user may see (ask ``see_submission`` first): its
    team's where the challenge shows logs; the overseers' always."""
    if challenge.show_logs or _overseers(session, user, challenge, now) is None:
        return None
    return Forbidden("log", "This challenge keeps its run logs confidential.")


class QuestionLike(Protocol):
    """What the rules read of a question (``challenges.talk_models.Question``)."""

    id: int
    asker_id: int
    team_id: int | None
    visibility: str
    answer: str | None
    challenge: Challenge


def _askers(session, user, challenge: Challenge, now):
    """Anyone signed in who does not answer: not the sponsor's members, not administrators."""
    if challenge.status in PREVIEW:
        return _no_challenge(challenge)
    if user is None:
        return Forbidden("question", "Log in to ask a question.")
    if is_admin(user) or (user.org_id is not None and user.org_id == challenge.sponsor_org_id):
        return Forbidden("question", "The sponsor and administrators answer questions here.")
    return None


def _question_readers(session, user, question: QuestionLike, now):
    """A question answered publicly: everyone; otherwise (unanswered, answered privately,
    hidden) its asker and the asker's team, the sponsor's members and administrators."""
    missing = NotFound("question", "No question %(id)s here.", id=question.id)
    challenge = question.challenge
    if question.visibility == "public" and question.answer is not None:
        return _viewers(session, user, challenge, now) and missing
    if _managers(session, user, challenge, now) is None:
        return None
    if user is None or question.visibility == "hidden":
        return missing
    if user.id == question.asker_id:
        return None
    if question.team_id is not None and is_member(session, user, question.team_id):
        return None
    return missing


def _staff(session, user, target, now):
    if user is not None and user.role in (Role.sponsor, Role.admin):
        return None
    if judges_any(session, user):
        return None
    return Forbidden("audit", "Only sponsors, judges and administrators.")


def is_reviewer(session: Session, *, user: User, challenge: Challenge) -> bool:
    """Assigned to review this challenge's proposals."""
    from challenges.proposal_models import ProposalReviewer

    query = select(ProposalReviewer.id).where(
        ProposalReviewer.challenge_id == challenge.id, ProposalReviewer.user_id == user.id
    )
    return session.scalar(query) is not None


def _proposal_reviewers(session, user, challenge: Challenge, now):
    if user is not None and is_reviewer(session, user=user, challenge=challenge):
        return None
    return Forbidden("reviewer", "Only a reviewer assigned to this challenge may do this.")


def _proposal_team(session, user, team, now):
    """The team's own members (a team's proposal, its stage's result)."""
    if user is not None and is_member(session, user, team.id):
        return None
    return NotFound("team", "No team %(id)s among yours.", id=team.id)


def _proposal_readers(session, user, proposal, now):
    """The team, the sponsor's members, administrators, and the assigned reviewers who
    have no conflict with the team (its member, or of one of its organizations)."""
    from challenges.proposals import conflicted

    challenge = session.get(Challenge, proposal.challenge_id)
    if _managers(session, user, challenge, now) is None:
        return None
    if user is not None and is_member(session, user, proposal.team_id):
        return None
    if (
        user is not None
        and is_reviewer(session, user=user, challenge=challenge)
        and not conflicted(session, user=user, team=proposal.team)
    ):
        return None
    return NotFound("proposal", "No proposal of team %(id)s.", id=proposal.team_id)


def _team_members(session, user, team, now):
    """The team's own members (target: a team)."""
    if user is not None and is_member(session, user, team.id):
        return None
    return Forbidden("team", "Only the team's members may do this.")


def _partner_admins(session, user, row, now):
    """An administrator of the organization a consortium names (target: its TeamOrganization)."""
    if user is not None and user.org_id == row.org_id and getattr(user, "org_admin", False):
        return None
    return Forbidden(
        "organization", "Only an administrator of the partner organization confirms it."
    )


RULES: dict[Action | AccountAction, Rule] = {
    **ACCOUNT_RULES,
    Action.view_challenge: _viewers,
    Action.create_challenge: _creators,
    Action.manage_challenge: _managers,
    Action.approve_challenge: _admins(
        lambda: Forbidden("status", "Only an administrator may publish a challenge.")
    ),
    Action.close_challenge: _admins(
        lambda: Forbidden("status", "Only an administrator may close a challenge early.")
    ),
    Action.assign_judge: _admins(
        lambda: Forbidden("judge", "Only an administrator may assign judges.")
    ),
    Action.oversee_challenge: _overseers,
    Action.see_private_board: _private_board,
    Action.see_judging: _judges(admins=True),
    Action.judge: _judges(admins=False),
    Action.compete: _competitors,
    Action.see_submission: _submission_viewers,
    Action.see_logs: _log_readers,
    Action.choose_final: _team_of_submission,
    Action.see_audit: _staff,
    Action.dry_run: _dry_runners,
    Action.register: _team_members,
    Action.confirm_partner: _partner_admins,
    Action.manage_registrations: _managers,
    Action.manage_proposals: _managers,
    Action.review_proposals: _proposal_reviewers,
    Action.upload_proposal: _proposal_team,
    Action.see_proposal: _proposal_readers,
    Action.announce: _managers,
    Action.ask_question: _askers,
    Action.answer_question: _managers,
    Action.see_question: _question_readers,
    Action.amend_challenge: _managers,
    Action.cancel_submission: _team_of_submission,
}


def refusal(
    session: Session,
    user: User | None,
    action: Action | AccountAction,
    target: Any = None,
    *,
    now: dt.datetime | None = None,
) -> ServiceError | None:
    """What stands in the way of ``user`` doing ``action`` on ``target``; None if nothing."""
    return RULES[action](session, _signed_in(user), target, now or utcnow())


def can(
    session: Session,
    user: User | None,
    action: Action | AccountAction,
    target: Any = None,
    *,
    now: dt.datetime | None = None,
) -> bool:
    return refusal(session, user, action, target, now=now) is None


def require(
    session: Session,
    user: User | None,
    action: Action | AccountAction,
    target: Any = None,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Raise the refusal (``NotFound`` for what the user may not know of, else
    ``Forbidden``) unless ``user`` may do ``action`` on ``target``."""
    if (refused := refusal(session, user, action, target, now=now)) is not None:
        raise refused
