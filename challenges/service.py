"""Challenge services: create from a bundle or the web form, edit a draft, publish, close,
look up."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import yaml
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, lazyload

from challenges import folders, notices
from challenges.bundle import Bundle, ChallengeBundleError, open_bundle
from challenges.models import Challenge, ChallengeFile, FileRole, Status
from challenges.policy import Action, require
from challenges.problems import problem
from challenges.registration import fill_applicants
from challenges.sample_submission import dictionary_rows
from challenges.schema import is_safe_name
from challenges.split import new_secret
from jiebang import audit
from jiebang.accounts import User, get_org
from jiebang.blobs import Blob, BlobStore
from jiebang.db import utcnow
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound
from jiebang.paging import Page, page_of

PUBLIC_STATUSES = (Status.open, Status.closed, Status.judging, Status.awarded, Status.unclaimed)


def create_from_bundle(
    session: Session, *, bundle: Bundle, blobs: BlobStore, actor: User | None = None
) -> Challenge:
    """Store the bundle's files as blobs and the challenge as a draft."""
    spec = bundle.spec
    if session.scalar(select(Challenge.id).where(Challenge.slug == spec.slug)) is not None:
        raise Conflict("slug", "A challenge with slug %(slug)s exists already.", slug=spec.slug)
    org = get_org(session, spec.sponsor)
    if actor is not None:  # None: the operator's CLI
        require(session, actor, Action.create_challenge, org)
        if not org.approved:
            raise Forbidden(
                "sponsor",
                "The organization %(slug)s is not approved yet; an administrator approves it "
                "first.",
                slug=org.slug,
            )
    challenge = Challenge(
        slug=spec.slug, sponsor=org, split_secret=new_secret(), status=Status.draft.value
    )
    _fill(challenge, bundle, blobs)
    session.add(challenge)
    session.flush()
    audit.record(
        session,
        "challenge.created",
        actor_id=actor.id if actor else None,
        challenge_id=challenge.id,
        slug=challenge.slug,
        dataset_hash=challenge.dataset_hash,
    )
    return challenge


def _fill(challenge: Challenge, bundle: Bundle, blobs: BlobStore) -> None:
    """Copy every rule of the bundle onto the challenge and store its files as blobs."""
    spec = bundle.spec
    challenge.scenario = spec.scenario
    challenge.title_en, challenge.title_zh = spec.title.en, spec.title.zh
    challenge.summary_en, challenge.summary_zh = spec.summary.en, spec.summary.zh
    challenge.description_md = bundle.description_md
    challenge.description_md_zh = bundle.description_md_zh
    challenge.metric = spec.metric
    challenge.classes = bundle.classes
    challenge.targets = [t.model_dump(exclude_none=True) for t in spec.targets]
    challenge.prize_amount = spec.prize.amount
    challenge.prize_currency = spec.prize.currency
    challenge.prize_rule = spec.prize.rule
    challenge.opens_at, challenge.closes_at = spec.opens_at, spec.closes_at
    challenge.timezone = spec.timezone
    limits, resources = spec.limits, spec.resources
    challenge.daily_submissions = limits.daily_submissions
    challenge.total_submissions = limits.total_submissions
    challenge.final_selections = limits.final_selections
    challenge.team_size = limits.team_size
    challenge.running_submissions = limits.running_submissions
    challenge.cpus, challenge.memory_mb = resources.cpus, resources.memory_mb
    challenge.time_limit_s, challenge.runtime = resources.time_limit_s, resources.runtime
    challenge.public_fraction = spec.data.public_fraction
    challenge.show_logs = spec.show_logs
    challenge.scoring = (
        spec.scoring.model_dump(mode="json", exclude={"program"}) if spec.scoring else None
    )
    challenge.proposal = spec.proposal.model_dump(mode="json") if spec.proposal else None
    fill_applicants(challenge, spec, bundle.terms)
    data = spec.data
    files = [(FileRole.train, n) for n in data.train]
    files.append((FileRole.test_inputs, data.test_inputs))
    files += [(FileRole.extra_input, n) for n in data.extra_inputs]
    files.append((FileRole.test_labels, data.test_labels))
    optional = [(FileRole.items, data.items), (FileRole.sample_inputs, data.sample_inputs)]
    optional.append((FileRole.sample_labels, data.sample_labels))
    optional.append((FileRole.sample_submission, data.sample_submission))
    challenge.data_dictionary = dictionary_rows(spec)
    if spec.scoring is not None:
        optional.append((FileRole.scoring_program, spec.scoring.program))
    files += [(role, name) for role, name in optional if name is not None]
    challenge.files.clear()
    for role, name in files:
        path = bundle.entry(name)
        if path.is_dir():
            name, blob = name.rstrip("/") + "/", _put_folder(blobs, path)
        else:
            name, blob = name.rstrip("/"), blobs.put_path(path)
        challenge.files.append(
            ChallengeFile(role=role.value, name=name, sha256=blob.sha256, size=blob.size)
        )
    challenge.dataset_hash = dataset_hash(challenge)


def _put_folder(blobs: BlobStore, folder: Path) -> Blob:
    incoming = blobs.receive()
    try:
        folders.pack(folder, incoming)
        return incoming.keep()
    finally:
        incoming.close()


def dataset_hash(challenge: Challenge) -> str:
    """One hash over everything the scorer and the containers see."""
    hidden = {FileRole.test_inputs.value, FileRole.extra_input.value, FileRole.test_labels.value}
    hidden |= {FileRole.items.value, FileRole.scoring_program.value}
    parts = sorted(f"{f.role}:{f.name}:{f.sha256}" for f in challenge.files if f.role in hidden)
    parts.append(f"split:{challenge.public_fraction}")
    if challenge.scoring:  # the scorer's image, metrics and limits decide scores too
        parts.append("scoring:" + json.dumps(challenge.scoring, sort_keys=True))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def publish(session: Session, challenge: Challenge, *, actor: User | None = None) -> Challenge:
    """Admin approval: the challenge becomes visible and, from ``opens_at``, takes submissions."""
    if actor is not None:
        require(session, actor, Action.approve_challenge, challenge)
    if challenge.status not in (Status.draft.value, Status.in_review.value):
        raise Invalid("status", "Only a draft or a challenge in review can be published.")
    challenge.status = Status.open.value
    challenge.published_at = utcnow()
    audit.record(
        session,
        "challenge.published",
        actor_id=actor.id if actor else None,
        challenge_id=challenge.id,
        slug=challenge.slug,
        dataset_hash=challenge.dataset_hash,
        closes_at=challenge.closes_at.isoformat(),
    )
    notices.approved(session, challenge)
    return challenge


def close(
    session: Session,
    challenge: Challenge,
    *,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> Challenge:
    """Close before ``closes_at``: an administrator's decision (``actor=None``: the CLI)."""
    if actor is not None:
        require(session, actor, Action.close_challenge, challenge)
    if challenge.status != Status.open.value:
        raise Invalid("status", "Only an open challenge can be closed.")
    now = now or utcnow()
    challenge.status = Status.closed.value
    if challenge.closes_at > now:
        challenge.closes_at = now
    audit.record(
        session,
        "challenge.closed",
        actor_id=actor.id if actor else None,
        challenge_id=challenge.id,
        slug=challenge.slug,
        at=now.isoformat(),
    )
    notices.closed(session, challenge)
    return challenge


def get_challenge(session: Session, slug: str, *, public_only: bool = False) -> Challenge:
    # Files load when first used (most pages and the board API never use them).
    query = select(Challenge).where(Challenge.slug == slug).options(lazyload(Challenge.files))
    challenge = session.scalar(query)
    if challenge is None or (public_only and challenge.status not in PUBLIC_STATUSES):
        raise NotFound("challenge", "No challenge %(slug)s.", slug=slug)
    return challenge


def list_public(
    session: Session,
    *,
    scenario: str | None = None,
    sectors: Iterable[str] | None = None,
    search: str | None = None,
) -> list[Challenge]:
    """Published challenges, latest deadline first; ``search`` looks in the titles and
    summaries of both languages, ``sectors`` keeps those filed under any of them."""
    query = public_query(scenario=scenario, sectors=sectors, search=search)
    return list(session.scalars(query))


def public_page(session: Session, *, scenario: str | None = None, page: int, per_page: int) -> Page:
    """One page of ``list_public``, cut in SQL (with a count)."""
    query = public_query(scenario=scenario).options(lazyload(Challenge.files))
    return page_of(session, query, page=page, per_page=per_page)


def public_query(
    *,
    scenario: str | None = None,
    sectors: Iterable[str] | None = None,
    search: str | None = None,
) -> Select:
    """The query of ``list_public``, ordered (latest deadline, then slug: a total order)."""
    query = select(Challenge).where(Challenge.status.in_([s.value for s in PUBLIC_STATUSES]))
    if scenario:
        query = query.where(Challenge.scenario == scenario)
    if sectors is not None:
        query = query.where(Challenge.scenario.in_(list(sectors)))
    if search and search.strip():
        words = search.strip()[:100].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{words}%"
        c = Challenge
        columns = (c.title_en, c.title_zh, c.summary_en, c.summary_zh)
        query = query.where(or_(*(col.ilike(pattern, escape="\\") for col in columns)))
    return query.order_by(Challenge.closes_at.desc(), Challenge.slug)


def create_from_form(
    session: Session,
    *,
    spec: dict,
    description_md: str,
    files: Mapping[str, BinaryIO],
    blobs: BlobStore,
    actor: User,
    description_md_zh: str = "",
) -> Challenge:
    """A draft from the sponsor's web form, checked exactly as a bundle is.

    ``spec`` has the keys of ``challenge.yaml`` (plain values); ``files`` maps the
    data file names that ``spec["data"]`` uses to their contents. Problems raise
    ``ChallengeBundleError`` naming the key, like a bundle's.
    """
    with _staged(spec, description_md, files, blobs=blobs, zh=description_md_zh) as bundle:
        return create_from_bundle(session, bundle=bundle, blobs=blobs, actor=actor)


def check_editable(challenge: Challenge) -> None:
    """The precondition of ``update_draft``; the edit page asks it before showing the form."""
    if challenge.status != Status.draft.value:
        raise Invalid(
            "status",
            "Only a draft can be edited; this challenge is %(status)s.",
            status=challenge.status,
        )


def update_draft(
    session: Session,
    *,
    challenge: Challenge,
    spec: dict,
    description_md: str,
    files: Mapping[str, BinaryIO],
    blobs: BlobStore,
    actor: User,
    description_md_zh: str = "",
) -> Challenge:
    """Change a draft from the web form. Data files named in ``spec`` but not given in
    ``files`` keep their stored contents. The slug and the sponsor stay."""
    require(session, actor, Action.manage_challenge, challenge)
    check_editable(challenge)
    spec = {**spec, "slug": challenge.slug, "sponsor": challenge.sponsor.slug}
    staged = _staged(spec, description_md, files, blobs=blobs, keep=challenge, zh=description_md_zh)
    with staged as bundle:
        _fill(challenge, bundle, blobs)
    session.flush()
    audit.record(
        session,
        "challenge.updated",
        actor_id=actor.id,
        challenge_id=challenge.id,
        slug=challenge.slug,
        dataset_hash=challenge.dataset_hash,
    )
    return challenge


RESERVED_NAMES = frozenset({"challenge.yaml", "README.md", "README.zh.md"})


@contextmanager
def _staged(
    spec: dict,
    description_md: str,
    files: Mapping[str, BinaryIO],
    *,
    blobs: BlobStore,
    keep: Challenge | None = None,
    zh: str = "",
) -> Iterator[Bundle]:
    """Lay the form out as a bundle folder and open it, so one set of rules applies."""
    with tempfile.TemporaryDirectory(prefix="jiebang-form-") as tmp:
        root = Path(tmp)
        for name, stream in files.items():
            if not is_safe_name(name) or name in RESERVED_NAMES:
                raise ChallengeBundleError([problem("data", "bundle.bad_name", name=name)])
            with open(root / name, "wb") as out:
                shutil.copyfileobj(stream, out)
        for stored in keep.files if keep is not None else ():
            if stored.name in files or stored.name in RESERVED_NAMES:
                continue
            if stored.is_folder:  # one tar blob (challenges.folders): a folder again
                folders.unpack(blobs.path(stored.sha256), root / stored.name.rstrip("/"))
            else:
                shutil.copyfile(blobs.path(stored.sha256), root / stored.name)
        (root / "README.md").write_text(description_md, "utf-8")
        description: str | dict = "README.md"
        if zh.strip():  # the Chinese description (optional): its own file, as in a bundle
            (root / "README.zh.md").write_text(zh, "utf-8")
            description = {"en": "README.md", "zh": "README.zh.md"}
        text = yaml.safe_dump({**spec, "description": description}, allow_unicode=True)
        (root / "challenge.yaml").write_text(text, "utf-8")
        with open_bundle(root) as bundle:
            yield bundle
