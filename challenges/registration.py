"""Registration: a team applies with its organization(s), accepts the terms, and the
sponsor approves or refuses it (README, "Who may apply").

Services take a session and keyword arguments; the caller commits. What a registered
team may then do is read in ``challenges.eligibility``; who may join a team in
``challenges.team_rules``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import column, func, select, table, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges.announcements import clean_text
from challenges.applicant_schema import registration_json
from challenges.applicants import LIVE, OrgRole, Registration, RegStatus, TeamOrganization
from challenges.eligibility import registration_of, requires_registration
from challenges.models import Challenge, Membership, Status, Team
from challenges.policy import Action, require
from challenges.team_rules import (
    applicant_kind,
    frozen_refusal,
    listed_org_ids,
    registration_closes_at,
)
from jiebang import audit, notifications
from jiebang.accounts import Organization, User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound
from jiebang.notifications import N_, Kind

for _kind in (
    Kind(
        "registration.approved",
        N_("Registration approved: %(challenge)s"),
        N_("The sponsor approved your team %(team)s for %(challenge)s; you may now take part."),
        label=N_("Your team's registration is approved"),
        audience=N_("the team's members"),
    ),
    Kind(
        "registration.refused",
        N_("Registration refused: %(challenge)s"),
        N_("The sponsor refused your team %(team)s for %(challenge)s: %(reason)s"),
        label=N_("Your team's registration is refused"),
        audience=N_("the team's members"),
    ),
    Kind(
        "consortium.invited",
        N_("Confirm a consortium: %(challenge)s"),
        N_(
            "The team %(team)s names your organization %(org)s as a partner for "
            "%(challenge)s; an administrator of your organization confirms or declines."
        ),
        label=N_("A consortium names your organization as a partner"),
        audience=N_("organization administrators"),
    ),
):
    notifications.register(_kind)

REASON_MAX = 2_000  # a refusal's reason: the team reads it on its page and in a mail

# The awards table belongs to leaderboards, a layer above; the bar on earlier winners
# reads only which team won which challenge, by name, without importing it.
_AWARDS = table("awards", column("challenge_id"), column("team_id"), column("status"))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or utcnow()


def _challenge(session: Session, team: Team) -> Challenge:
    return session.get(Challenge, team.challenge_id)


def _params(challenge: Challenge, team: Team) -> dict:
    return {"challenge": {"en": challenge.title_en, "zh": challenge.title_zh}, "team": team.name}


def team_orgs(session: Session, team_id: int) -> list[TeamOrganization]:
    query = select(TeamOrganization).where(TeamOrganization.team_id == team_id)
    return list(session.scalars(query.order_by(TeamOrganization.id)))


def teams_and_orgs(
    session: Session, team_ids: list[int]
) -> tuple[dict[int, Team], dict[int, list[TeamOrganization]]]:
    """Many teams and their organizations in two queries (the registration lists; one
    query per team was an N+1)."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}, {}
    teams = {t.id: t for t in session.scalars(select(Team).where(Team.id.in_(ids)))}
    orgs: dict[int, list[TeamOrganization]] = {i: [] for i in ids}
    query = select(TeamOrganization).where(TeamOrganization.team_id.in_(ids))
    for row in session.scalars(query.order_by(TeamOrganization.id)):
        orgs[row.team_id].append(row)
    return teams, orgs


def _verified(org: Organization) -> bool:
    return bool(org.is_verified)


def _member_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(Membership.user_id).where(Membership.team_id == team_id)))


def _check_open(challenge: Challenge, now: dt.datetime) -> None:
    if challenge.status != Status.open.value or now >= challenge.closes_at:
        raise Forbidden("challenge", "Registration is only possible while the challenge is open.")
    closes = registration_closes_at(challenge)
    if closes is not None and now >= closes:
        raise Forbidden(
            "registration",
            "Registration for this challenge closed at %(at)s.",
            at=closes.isoformat(timespec="minutes"),
        )


def _check_org(session: Session, challenge: Challenge, org: Organization) -> None:
    """The rules every organization of a team meets."""
    rules = challenge.applicants or {}
    if org.id == challenge.sponsor_org_id:
        raise Forbidden(
            "organization",
            "%(org)s sponsors this challenge, so it cannot apply for it.",
            org=org.name,
        )
    if rules.get("verified") and not _verified(org):
        raise Forbidden(
            "organization",
            "%(org)s is not verified yet; this challenge takes verified organizations only.",
            org=org.name,
        )


def _check_round(session: Session, challenge: Challenge, team: Team, org_id: int) -> None:
    """The per-organization cap across the round or the sponsor, and the bar on earlier
    winners of the round; ``org_id`` is one of the team's organizations."""
    rules = challenge.applicants or {}
    org = session.get(Organization, org_id)
    per = rules.get("per_organization")
    if per:
        if per.get("across") == "sponsor":
            same = Challenge.sponsor_org_id == challenge.sponsor_org_id
            where = "this sponsor"
        else:
            same = Challenge.round_tag == challenge.round_tag
            where = challenge.round_tag
        count = select(func.count(func.distinct(Registration.challenge_id))).where(
            Registration.status.in_(LIVE),
            Registration.team_id != team.id,
            Registration.team_id.in_(
                select(TeamOrganization.team_id).where(TeamOrganization.org_id == org_id)
            ),
            Registration.challenge_id.in_(select(Challenge.id).where(same)),
        )
        if session.scalar(count) >= per["limit"]:
            raise Conflict(
                "organization",
                "%(org)s applies for %(n)d challenges of %(round)s already, the most it may.",
                org=org.name,
                n=per["limit"],
                round=where,
            )
    if rules.get("bar_round_winners") and challenge.round_tag:
        won = (
            select(TeamOrganization.id)
            .join(_AWARDS, _AWARDS.c.team_id == TeamOrganization.team_id)
            .join(Challenge, Challenge.id == _AWARDS.c.challenge_id)
            .where(
                TeamOrganization.org_id == org_id,
                _AWARDS.c.status == "awarded",
                Challenge.round_tag == challenge.round_tag,
                Challenge.id != challenge.id,
            )
            .limit(1)
        )
        if session.scalar(won) is not None:
            raise Forbidden(
                "organization",
                "%(org)s won a challenge of %(round)s already; earlier winners of this round "
                "may not apply.",
                org=org.name,
                round=challenge.round_tag,
            )


def _ensure_lead(session: Session, *, user: User, team: Team, challenge: Challenge, now):
    """The team's lead organization: the applying member's own (set once)."""
    rows = team_orgs(session, team.id)
    lead = next((r for r in rows if r.role == OrgRole.lead.value), None)
    if lead is not None:
        return lead
    if user.org_id is None:
        raise Forbidden(
            "organization",
            "Apply on behalf of your organization: join or register it on the platform first.",
        )
    org = session.get(Organization, user.org_id)
    _check_org(session, challenge, org)
    lead = TeamOrganization(
        team_id=team.id,
        org_id=org.id,
        role=OrgRole.lead.value,
        added_by=user.id,
        confirmed_at=now,
        confirmed_by=user.id,
    )
    session.add(lead)
    session.flush()
    return lead


def _lock_orgs(session: Session, org_ids: list[int]) -> None:
    """Hold the organizations' row locks until the transaction ends, so that two teams of
    one organization cannot both pass its cap at once (in id order: no deadlock).

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks; a no-op write takes
    the database's write lock (as ``evaluator.intake.lock_team`` does).
    """
    if not org_ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Organization.id).where(Organization.id.in_(org_ids)).with_for_update()
        )
    else:
        session.execute(
            update(Organization).where(Organization.id.in_(org_ids)).values(slug=Organization.slug)
        )


def _check_members(session: Session, challenge: Challenge, team: Team) -> None:
    orgs = listed_org_ids(session, team.id)
    outsiders = session.scalars(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team.id)
        .where((User.org_id.is_(None)) | User.org_id.notin_(orgs))
    ).all()
    if outsiders:
        raise Conflict(
            "members",
            "Every member belongs to one of the team's organizations; these do not: %(names)s.",
            names=", ".join(sorted(outsiders)),
        )


def add_partner(
    session: Session, *, user: User, team: Team, org_slug: str, now: dt.datetime | None = None
) -> TeamOrganization:
    """Name a partner organization of a consortium; one of its administrators confirms."""
    now = _now(now)
    challenge = _challenge(session, team)
    require(session, user, Action.register, team)
    if applicant_kind(challenge) != "consortia":
        raise Invalid("partners", "This challenge takes no consortia; apply on your own.")
    _check_open(challenge, now)
    if (refused := frozen_refusal(challenge, now)) is not None:
        raise refused
    reg = registration_of(session, team.id)
    if reg is not None and reg.status in LIVE:
        raise Conflict(
            "partners", "Withdraw the registration before you change the team's organizations."
        )
    lead = _ensure_lead(session, user=user, team=team, challenge=challenge, now=now)
    org = session.scalar(select(Organization).where(Organization.slug == org_slug.strip()))
    if org is None:
        raise NotFound("organization", "No organization %(slug)s.", slug=org_slug)
    if org.id in listed_org_ids(session, team.id):
        raise Conflict("partners", "%(org)s is in this consortium already.", org=org.name)
    partners = len(team_orgs(session, team.id)) - 1
    limit = (challenge.applicants or {}).get("max_partners", 4)
    if partners >= limit:
        raise Conflict(
            "partners",
            "A consortium of this challenge has at most %(n)d partners besides its lead.",
            n=limit,
        )
    _check_org(session, challenge, org)
    row = TeamOrganization(
        team_id=team.id, org_id=org.id, role=OrgRole.partner.value, added_by=user.id
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "registration.partner_added",
        actor_id=user.id,
        challenge_id=challenge.id,
        team=team.id,
        org=org.id,
        lead=lead.org_id,
    )
    admins = session.scalars(
        select(User.id).where(User.org_id == org.id, User.org_admin.is_(True))
    ).all()
    notifications.notify(
        session,
        kind="consortium.invited",
        user_ids=admins,
        params={
            **_params(challenge, team),
            "org": {"en": org.display_name("en"), "zh": org.display_name("zh")},
        },
        link="/consortium-invitations",
    )
    return row


def pending_invitations(session: Session, *, user: User) -> list[TeamOrganization]:
    """The consortium invitations an organization administrator may confirm."""
    if user.org_id is None or not user.org_admin:
        return []
    query = select(TeamOrganization).where(
        TeamOrganization.org_id == user.org_id,
        TeamOrganization.role == OrgRole.partner.value,
        TeamOrganization.confirmed_at.is_(None),
    )
    return list(session.scalars(query.order_by(TeamOrganization.id)))


def confirm_partner(
    session: Session,
    *,
    user: User,
    row: TeamOrganization,
    accept: bool = True,
    now: dt.datetime | None = None,
) -> TeamOrganization | None:
    """An administrator of the partner organization confirms (or declines: the row goes)."""
    now = _now(now)
    require(session, user, Action.confirm_partner, row)
    team = session.get(Team, row.team_id)
    challenge = _challenge(session, team)
    if row.confirmed_at is not None:
        raise Conflict("partners", "This partnership is confirmed already.")
    if accept:
        _check_open(challenge, now)
        if (refused := frozen_refusal(challenge, now)) is not None:
            raise refused
        _check_round(session, challenge, team, row.org_id)
        row.confirmed_at, row.confirmed_by = now, user.id
    else:
        session.delete(row)
    session.flush()
    audit.record(
        session,
        "registration.partner_confirmed" if accept else "registration.partner_declined",
        actor_id=user.id,
        challenge_id=challenge.id,
        team=team.id,
        org=row.org_id,
    )
    return row if accept else None


def remove_partner(
    session: Session, *, user: User, team: Team, org_id: int, now: dt.datetime | None = None
) -> None:
    now = _now(now)
    challenge = _challenge(session, team)
    require(session, user, Action.register, team)
    if (refused := frozen_refusal(challenge, now)) is not None:
        raise refused
    reg = registration_of(session, team.id)
    if reg is not None and reg.status in LIVE:
        raise Conflict(
            "partners", "Withdraw the registration before you change the team's organizations."
        )
    row = session.scalar(
        select(TeamOrganization).where(
            TeamOrganization.team_id == team.id,
            TeamOrganization.org_id == org_id,
            TeamOrganization.role == OrgRole.partner.value,
        )
    )
    if row is None:
        raise NotFound("partners", "That organization is not a partner of this team.")
    session.delete(row)
    session.flush()
    audit.record(
        session,
        "registration.partner_removed",
        actor_id=user.id,
        challenge_id=challenge.id,
        team=team.id,
        org=org_id,
    )


def _check_terms(challenge: Challenge, version: int | None) -> None:
    if challenge.terms_version and version != challenge.terms_version:
        raise Invalid(
            "terms",
            "Read and accept the challenge's terms (version %(version)d) to register.",
            version=challenge.terms_version,
        )


def apply(
    session: Session,
    *,
    user: User,
    team: Team,
    terms_version: int | None = None,
    now: dt.datetime | None = None,
) -> Registration:
    """Register ``team``: its organizations (the applying member's as the lead), every
    rule of the challenge, the terms accepted in their current version. On ``open``
    registration it is approved at once; on ``approval`` the sponsor decides."""
    now = _now(now)
    challenge = _challenge(session, team)
    require(session, user, Action.register, team)
    if not requires_registration(challenge):
        raise Invalid("registration", "This challenge asks for no registration.")
    _check_open(challenge, now)
    reg = registration_of(session, team.id)
    if reg is not None and reg.status in LIVE:
        raise Conflict("registration", "Your team is registered already.")
    approval = (challenge.registration or {}).get("mode") == "approval"
    if not approval and reg is not None and reg.status == RegStatus.refused.value:
        # Open registration approves at once: registering again would undo the refusal.
        raise Forbidden(
            "registration",
            "The sponsor refused your team's registration (%(reason)s); on this challenge "
            "it cannot register again.",
            reason=reg.reason,
        )
    _check_terms(challenge, terms_version)
    kind = applicant_kind(challenge)
    if kind != "individuals":
        _ensure_lead(session, user=user, team=team, challenge=challenge, now=now)
        rows = team_orgs(session, team.id)
        waiting = [r.org.name for r in rows if r.confirmed_at is None]
        if waiting:
            raise Conflict(
                "partners",
                "Waiting for these partners to confirm: %(orgs)s; or remove them.",
                orgs=", ".join(waiting),
            )
        _lock_orgs(session, sorted(r.org_id for r in rows))
        for row in rows:
            _check_org(session, challenge, row.org)
            _check_round(session, challenge, team, row.org_id)
        _check_members(session, challenge, team)
    if reg is None:
        reg = Registration(team_id=team.id, challenge_id=challenge.id)
        session.add(reg)
    reg.status = RegStatus.pending.value if approval else RegStatus.approved.value
    reg.reason, reg.decided_at, reg.decided_by = "", None if approval else now, None
    reg.submitted_at, reg.submitted_by = now, user.id
    if challenge.terms_version:
        reg.terms_version, reg.terms_accepted_at = challenge.terms_version, now
        reg.terms_accepted_by = user.id
    try:
        # Two members may apply for a new team at once; the unique key on team decides.
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "registration", "Your team has applied already; reload to see its registration."
        ) from None
    audit.record(
        session,
        "registration.applied",
        actor_id=user.id,
        challenge_id=challenge.id,
        team=team.id,
        orgs=sorted(listed_org_ids(session, team.id)),
        terms_version=reg.terms_version,
        status=reg.status,
    )
    return reg


def accept_terms(
    session: Session, *, user: User, team: Team, version: int, now: dt.datetime | None = None
) -> Registration:
    """Accept the terms again after they changed (``amend_terms``)."""
    now = _now(now)
    challenge = _challenge(session, team)
    require(session, user, Action.register, team)
    reg = registration_of(session, team.id)
    if reg is None or reg.status not in LIVE:
        raise Conflict("registration", "Register your team first; you accept the terms then.")
    if not challenge.terms_version:
        raise Invalid("terms", "This challenge has no terms to accept.")
    if version != challenge.terms_version:
        raise Conflict(
            "terms",
            "The terms changed while you read them; read version %(version)d and accept it.",
            version=challenge.terms_version,
        )
    reg.terms_version, reg.terms_accepted_at, reg.terms_accepted_by = version, now, user.id
    session.flush()
    audit.record(
        session,
        "registration.terms_accepted",
        actor_id=user.id,
        challenge_id=challenge.id,
        team=team.id,
        terms_version=version,
    )
    return reg


def withdraw(
    session: Session, *, user: User, team: Team, now: dt.datetime | None = None
) -> Registration:
    challenge = _challenge(session, team)
    require(session, user, Action.register, team)
    reg = registration_of(session, team.id)
    if reg is None or reg.status not in LIVE:
        raise Conflict("registration", "Your team has no registration to withdraw.")
    reg.status, reg.decided_at, reg.decided_by = RegStatus.withdrawn.value, _now(now), user.id
    session.flush()
    audit.record(
        session, "registration.withdrawn", actor_id=user.id, challenge_id=challenge.id, team=team.id
    )
    return reg


def decide(
    session: Session,
    *,
    actor: User,
    team: Team,
    approve: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Registration:
    """The sponsor's members and administrators approve a registration, or refuse it
    (pending or approved) with a reason the team reads."""
    now = _now(now)
    challenge = _challenge(session, team)
    require(session, actor, Action.manage_registrations, challenge)
    reg = registration_of(session, team.id)
    if reg is None or reg.status not in LIVE:
        raise NotFound("registration", "Team %(id)s has no registration to decide.", id=team.id)
    reason = clean_text(reason, field="reason", high=REASON_MAX, required=False)
    if approve:
        if reg.status != RegStatus.pending.value:
            raise Conflict("registration", "This registration is approved already.")
        status = RegStatus.approved.value
    else:
        if len(reason) < 5:
            raise Invalid("reason", "Give the team the reason for the refusal.")
        status = RegStatus.refused.value
    # One decision wins: the row changes only from the state this decision was made on,
    # so two at once (two tabs, two sponsors' members) cannot both be recorded.
    decided = session.execute(
        update(Registration)
        .where(Registration.id == reg.id, Registration.status == reg.status)
        .values(status=status, reason=reason, decided_at=now, decided_by=actor.id)
        .execution_options(synchronize_session=False)
    )
    if decided.rowcount != 1:
        raise Conflict("registration", "Someone decided this registration meanwhile; reload.")
    session.refresh(reg)
    audit.record(
        session,
        "registration.approved" if approve else "registration.refused",
        actor_id=actor.id,
        challenge_id=challenge.id,
        team=team.id,
        reason=reason,
    )
    notifications.notify(
        session,
        kind="registration.approved" if approve else "registration.refused",
        user_ids=_member_ids(session, team.id),
        params={**_params(challenge, team), "reason": reason},
        link=f"/challenges/{challenge.slug}/team",
    )
    return reg


def registrations(session: Session, *, actor: User, challenge: Challenge) -> list[Registration]:
    """Every registration of a challenge, for its sponsor and administrators."""
    require(session, actor, Action.manage_registrations, challenge)
    query = select(Registration).where(Registration.challenge_id == challenge.id)
    return list(session.scalars(query.order_by(Registration.submitted_at, Registration.id)))


def amend_terms(
    session: Session, *, challenge: Challenge, en: str, zh: str, actor: User | None
) -> int:
    """New terms: the version goes up, and every registered team accepts them again before
    it submits or downloads (``eligibility``). Returns the new version."""
    en, zh = en.strip(), zh.strip()
    if not en or not zh:
        raise Invalid("terms", "Give the terms in both English and Chinese.")
    if (en, zh) == (challenge.terms_en, challenge.terms_zh):
        return challenge.terms_version
    challenge.terms_en, challenge.terms_zh = en, zh
    challenge.terms_version = (challenge.terms_version or 0) + 1
    session.flush()
    audit.record(
        session,
        "registration.terms_amended",
        actor_id=actor.id if actor else None,
        challenge_id=challenge.id,
        terms_version=challenge.terms_version,
    )
    return challenge.terms_version


def fill_applicants(challenge: Challenge, spec, terms: dict[str, str] | None) -> None:
    """Copy ``round``, ``applicants`` and ``registration`` of a bundle onto the challenge;
    new terms raise the terms' version."""
    challenge.round_tag = spec.round
    challenge.applicants = spec.applicants.model_dump(mode="json") if spec.applicants else None
    challenge.registration = registration_json(spec.registration)
    if terms and (terms["en"], terms["zh"]) != (challenge.terms_en, challenge.terms_zh):
        challenge.terms_en, challenge.terms_zh = terms["en"], terms["zh"]
        challenge.terms_version = (challenge.terms_version or 0) + 1


def get_partner_row(session: Session, row_id: int) -> TeamOrganization:
    row = session.get(TeamOrganization, row_id)
    if row is None or row.role != OrgRole.partner.value:
        raise NotFound("invitation", "No consortium invitation %(id)s.", id=row_id)
    return row
