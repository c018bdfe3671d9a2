"""Every route against every role, from one table: who gets which answer.

The roles: nobody signed in; a participant in the challenge's team; a participant
outside it; a sponsor of the challenge's organization and one of another; the
judge assigned to it and a judge who is not; an administrator. Each route, page
and API, is asked by each of them on the open challenge ("parity") and, where it
matters, again once it has closed (and is being judged). Pages hide what a role
may not see with a 404 and send the anonymous to the log-in page (302); pages
that act answer with a redirect and a message (302). The API says 401 without a
token, 403 where the caller may know the object but not act, 404 where it is
hidden. A status other than the refusal (200, 201, or the 400/409 of a
precondition) shows the caller passed the permission check.

Every route of the app is in ``TABLE`` or in ``NOT_HERE`` with the reason, so a
new route cannot go untested.
"""

import io
import re

import pytest

import jiebang.audit
from evaluator.outcome import audit_fields
from jiebang import accounts

ROLES = (
    "anonymous",
    "member",
    "outsider",
    "sponsor",
    "other_sponsor",
    "judge",
    "other_judge",
    "admin",
)


def E(default: int, **answers: int) -> dict[str, int]:
    """Each role's status: ``default`` unless named."""
    unknown = set(answers) - set(ROLES)
    assert not unknown, unknown
    return {role: answers.get(role, default) for role in ROLES}


def page(default: int, **answers: int) -> dict[str, int]:
    """A page behind a log-in: the anonymous are sent to it."""
    return E(default, anonymous=302, **answers)


def api(default: int, **answers: int) -> dict[str, int]:
    """An API route behind a token."""
    return E(default, anonymous=401, **answers)


MANAGERS = {"sponsor": 200, "admin": 200}
READERS = {"member": 200, "sponsor": 200, "judge": 200, "admin": 200}  # a proposal's
OVERSEERS_AFTER_CLOSE = {"member": 200, "sponsor": 200, "judge": 200, "admin": 200}
EDIT = {"title_en": "x"}

# (state, method, url, request keywords, each role's status). State "open": the
# challenge is open; "closed": an administrator closed it and it is being judged.
# Rows run in order, roles in ROLES order; none changes what a later row tests.
TABLE = [
    # Public pages and reads
    ("open", "GET", "/", {}, E(200)),
    ("open", "GET", "/challenges", {}, E(302)),
    ("open", "GET", "/scenarios", {}, E(200)),
    ("open", "GET", "/scenarios/manufacturing", {}, E(200)),
    ("open", "GET", "/winners", {}, E(200)),
    ("open", "GET", "/healthz", {}, E(200)),
    ("open", "GET", "/challenges/parity", {}, E(200)),
    ("open", "GET", "/challenges/parity/data", {}, E(200)),
    ("open", "GET", "/challenges/parity/data/train.csv", {}, E(200)),
    ("open", "GET", "/challenges/parity/data/test.csv", {}, E(404)),  # hidden inputs: never
    ("open", "GET", "/challenges/parity/rules", {}, E(200)),
    ("open", "GET", "/challenges/parity/leaderboard", {}, E(200)),
    ("open", "GET", "/challenges/parity/team", {}, page(200)),
    # A draft: a preview for its managers, nothing for anyone else.
    ("open", "GET", "/challenges/draft", {}, E(404, **MANAGERS)),
    ("open", "GET", "/challenges/draft/leaderboard", {}, E(404, **MANAGERS)),
    ("open", "GET", "/api/v1/challenges", {}, E(200)),
    ("open", "GET", "/api/v1/challenges/parity", {}, E(200)),
    ("open", "GET", "/api/v1/challenges/draft", {}, E(404)),
    ("open", "GET", "/api/v1/challenges/parity/leaderboard", {}, E(200)),
    ("open", "GET", "/api/v1/challenges/parity/leaderboard?board=private", {}, E(403)),
    ("open", "GET", "/api/v1/challenges/parity/award", {}, E(200)),
    # No kit: these bundles ship no sample inputs. Who may fetch a draft's kit (its
    # sponsor, with a token): tests/web/test_check.py.
    ("open", "GET", "/api/v1/challenges/parity/check-kit", {}, E(404)),
    ("open", "GET", "/api/v1/challenges/draft/check-kit", {}, E(404)),
    ("open", "GET", "/api/v1/winners", {}, E(200)),
    ("open", "GET", "/api/v1/base-images", {}, E(200)),
    ("open", "GET", "/api/v1/openapi.json", {}, E(200)),
    ("open", "GET", "/api/v1/audit/head", {}, api(200, member=403, outsider=403)),
    # Teams
    ("open", "GET", "/api/v1/challenges/parity/submissions", {}, api(200)),
    ("open", "POST", "/api/v1/teams/{team}/join", {"json": {"join_code": "wrong"}}, api(403)),
    ("open", "POST", "/api/v1/teams/{team}/leave", {}, api(404, member=409)),  # it submitted
    ("open", "POST", "/challenges/parity/leave", {}, page(404, member=302)),
    ("open", "POST", "/challenges/parity/join", {"data": {"join_code": "wrong"}}, E(302)),
    ("open", "POST", "/challenges/parity/teams", {"data": {"name": ""}}, E(302)),
    # Who may compete (in a second challenge, so this one's teams stay as they are;
    # the judge judges both): outsiders, sponsors of other organizations, judges of
    # other challenges.
    (
        "open",
        "POST",
        "/api/v1/challenges/second/teams",
        {"json": {"name": "{role}"}},
        api(201, sponsor=403, judge=409, admin=403),
    ),
    # Submissions
    ("open", "POST", "/api/v1/challenges/parity/submissions", {}, api(403, member=400)),
    ("open", "POST", "/challenges/parity/submissions", {}, E(302)),
    ("open", "GET", "/submissions", {}, page(200)),
    ("open", "GET", "/submissions/{sub}", {}, page(404, member=200, admin=200)),
    ("open", "GET", "/submissions/{sub}/status", {}, page(404, member=200, admin=200)),
    ("open", "GET", "/api/v1/submissions/{sub}", {}, api(404, member=200, admin=200)),
    ("open", "POST", "/api/v1/submissions/{sub}/select", {}, api(404, member=200)),
    ("open", "DELETE", "/api/v1/submissions/{sub}/select", {}, api(404, member=200)),
    ("open", "POST", "/submissions/{sub}/select", {}, E(302)),
    ("open", "POST", "/submissions/{sub}/unselect", {}, E(302)),
    # The queue (issue 15, "queue"): only the team cancels, and only a queued submission
    # ({sub} is scored: 409 over the API, a message on the page, shows the member passed).
    ("open", "POST", "/api/v1/submissions/{sub}/cancel", {}, api(404, member=409)),
    ("open", "POST", "/submissions/{sub}/cancel", {}, page(404, member=302, admin=302)),
    ("open", "GET", "/challenges/parity/leaderboard.csv", {}, E(200)),
    ("open", "GET", "/challenges/draft/leaderboard.csv", {}, E(404, **MANAGERS)),
    ("open", "GET", "/api/v1/docs", {}, E(200)),  # the API reference (Swagger UI)
    # The client: join by code alone (a wrong code: 403 for all); a draft replaced by a
    # bundle, by its managers only (no file: 400 shows they passed; parity is no draft).
    ("open", "POST", "/api/v1/teams/join", {"json": {"join_code": "wrong"}}, api(403)),
    ("open", "PUT", "/api/v1/challenges/draft", {"data": {}}, api(404, sponsor=400, admin=400)),
    ("open", "PUT", "/api/v1/challenges/parity", {"data": {}}, api(404, sponsor=400, admin=400)),
    # Receipts: as the submission; the keys that check them, for anyone; the award's
    # receipts once a team is awarded (none here).
    ("open", "GET", "/submissions/{sub}/receipt", {}, page(404, member=200, admin=200)),
    ("open", "GET", "/api/v1/submissions/{sub}/receipt", {}, api(404, member=200, admin=200)),
    ("open", "GET", "/api/v1/keys", {}, E(200)),
    ("open", "GET", "/keys", {}, E(200)),
    ("open", "GET", "/challenges/parity/award/receipts/{sub}", {}, E(404)),
    # Sponsors
    # Anyone signed in: sponsors see their challenges, the others how to become one.
    ("open", "GET", "/sponsor", {}, page(200)),
    (
        "open",
        "GET",
        "/sponsor/challenges/new",
        {},
        page(404, sponsor=200, other_sponsor=200, admin=200),
    ),
    (
        "open",
        "POST",
        "/sponsor/challenges/new",
        {"data": {}},
        page(404, sponsor=400, other_sponsor=400, admin=400),
    ),
    (
        "open",
        "POST",
        "/sponsor/challenges",
        {"data": {}},
        page(404, sponsor=400, other_sponsor=400, admin=400),
    ),
    ("open", "GET", "/sponsor/challenges/draft", {}, page(404, **MANAGERS)),
    ("open", "GET", "/sponsor/challenges/draft/edit", {}, page(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/sponsor/challenges/draft/edit",
        {"data": EDIT},
        page(404, sponsor=400, admin=400),
    ),
    ("open", "GET", "/sponsor/challenges/parity", {}, page(404, **MANAGERS)),
    # Only a draft is edited: the managers are told so (a redirect), others see nothing.
    ("open", "GET", "/sponsor/challenges/parity/edit", {}, page(404, sponsor=302, admin=302)),
    ("open", "POST", "/sponsor/challenges/parity/review", {}, page(404, sponsor=302, admin=302)),
    (
        "open",
        "POST",
        "/api/v1/challenges",
        {"data": {"bundle": "zip"}},
        api(403, sponsor=400, other_sponsor=400, admin=400),
    ),
    ("open", "POST", "/api/v1/challenges/parity/review", {}, api(404, sponsor=400, admin=400)),
    # Dry runs: the sponsor's members and administrators, a draft's hidden from the rest
    # (no file sent: 400 shows the caller passed).
    ("open", "GET", "/api/v1/challenges/draft/dry-runs", {}, api(404, **MANAGERS)),
    ("open", "GET", "/api/v1/challenges/parity/dry-runs", {}, api(403, **MANAGERS)),
    (
        "open",
        "POST",
        "/api/v1/challenges/draft/dry-runs",
        {"data": {}},
        api(404, sponsor=400, admin=400),
    ),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/dry-runs",
        {"data": {}},
        api(403, sponsor=400, admin=400),
    ),
    (
        "open",
        "POST",
        "/sponsor/challenges/draft/dry-runs",
        {"data": {}},
        page(404, sponsor=302, admin=302),
    ),
    (
        "open",
        "POST",
        "/sponsor/challenges/parity/dry-runs",
        {"data": {}},
        page(404, sponsor=302, admin=302),
    ),
    # Administrators
    ("open", "GET", "/admin", {}, page(404, admin=200)),
    (
        "open",
        "POST",
        "/admin/challenges/parity/approve",
        {"data": {"confirm": "yes"}},
        page(404, admin=302),
    ),
    (
        "open",
        "POST",
        "/admin/challenges/parity/judges",
        {"data": {"email": "judge@x.org"}},
        page(404, admin=302),
    ),
    ("open", "POST", "/admin/orgs", {"data": {"slug": "", "name": ""}}, page(404, admin=302)),
    ("open", "POST", "/admin/orgs/{other_org}/approve", {}, page(404, admin=302)),
    ("open", "POST", "/admin/users/{member_id}", {"data": "{member_form}"}, page(404, admin=302)),
    ("open", "POST", "/api/v1/challenges/parity/approve", {}, api(403, admin=400)),
    ("open", "POST", "/api/v1/challenges/nothing/approve", {}, api(403, admin=404)),  # no probing
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/judges",
        {"json": {"email": "judge@x.org"}},
        api(403, admin=409),
    ),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/judges",
        {"json": {"email": "no@x.org"}},
        api(403, admin=404),
    ),  # no probing of emails
    # The admin's review (issue 15, "roles"): parity is open, so the precondition answers.
    (
        "open",
        "POST",
        "/admin/challenges/parity/review",
        {"data": {"decision": "refuse", "comment": "Not this way."}},
        page(404, admin=302),
    ),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/review-decision",
        {"json": {"decision": "refuse", "comment": "Not this way."}},
        api(403, admin=400),
    ),
    # Judges assigned by administrators (issue 15, "roles"): any active account; refusals
    # say why (a judge of the challenge already: 409 over the API, a message on the page).
    (
        "open",
        "POST",
        "/admin/challenges/parity/judges/{member_id}/remove",
        {},
        page(404, admin=302),
    ),  # not a judge of it: said on the page
    (
        "open",
        "DELETE",
        "/api/v1/challenges/parity/judges/outsider@x.org",
        {},
        api(403, admin=404),
    ),  # the outsider judges nothing
    # Judges, before close
    ("open", "GET", "/judge", {}, page(404, judge=200, other_judge=200, admin=200)),
    # The judging view opens at close, on the page as over the API (the page once showed
    # it before): the judge and the administrator are told so (a redirect), others see nothing.
    ("open", "GET", "/judge/parity", {}, page(404, judge=302, admin=302)),
    ("open", "POST", "/judge/parity/rerun", {}, page(404, judge=302)),
    (
        "open",
        "POST",
        "/judge/parity/verdict",
        {"data": {"decision": "approve", "confirm": "yes"}},
        page(404, judge=302),
    ),
    ("open", "GET", "/api/v1/challenges/parity/judging", {}, api(403)),
    ("open", "POST", "/api/v1/challenges/parity/reruns", {}, api(403, judge=400)),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/verdicts",
        {"json": {"decision": "approve"}},
        api(403, judge=400),
    ),
    # Talk (issue 15, "talk"): announcements, questions and answers, amendments. The
    # sponsor's members and administrators announce, answer, hide and amend; everyone
    # else signed in asks. The amendments' bodies fail after the permission check (an
    # earlier deadline: 400), so the challenge stays as it is for the rows after.
    ("open", "GET", "/challenges/parity/announcements", {}, E(200)),
    ("open", "GET", "/challenges/draft/announcements", {}, E(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/challenges/parity/announcements",
        {"data": {"title_en": ""}},
        E(404, sponsor=400, admin=400),
    ),
    ("open", "GET", "/challenges/parity/questions", {}, E(200)),
    ("open", "GET", "/challenges/draft/questions", {}, E(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/challenges/parity/questions",
        {"data": {"text": ""}},
        page(400, sponsor=404, admin=404),
    ),
    (
        "open",
        "POST",
        "/challenges/parity/questions/{question}/answer",
        {"data": {"answer": ""}},
        page(404, sponsor=302, admin=302),
    ),
    (
        "open",
        "POST",
        "/challenges/parity/questions/{abuse}/hide",
        {},
        page(404, sponsor=302, admin=302),
    ),
    ("open", "GET", "/challenges/parity/changes", {}, E(200)),
    ("open", "GET", "/challenges/parity/amend", {}, page(404, sponsor=200, admin=200)),
    (
        "open",
        "POST",
        "/challenges/parity/amend",
        {"data": {"reason": ""}},
        page(404, sponsor=400, admin=400),
    ),
    ("open", "GET", "/api/v1/challenges/parity/announcements", {}, E(200)),
    ("open", "GET", "/api/v1/challenges/draft/announcements", {}, E(404)),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/announcements",
        {"json": {"title_en": "t", "body_en": "b"}},
        api(404, sponsor=201, admin=201),
    ),
    ("open", "GET", "/api/v1/challenges/parity/questions", {}, E(200)),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/questions",
        {"json": {"text": "q"}},
        api(201, sponsor=403, admin=403),
    ),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/questions/{question}/answer",
        {"json": {"answer": "a", "public": False}},
        api(404, sponsor=200, admin=200),
    ),
    ("open", "GET", "/api/v1/challenges/parity/revisions", {}, E(200)),
    (
        "open",
        "POST",
        "/api/v1/challenges/parity/amend",
        {"json": {"changes": {"closes_at": "2000-01-01T00:00:00+00:00"}, "reason": "r"}},
        api(404, sponsor=400, admin=400),
    ),
    # Closing: the administrator (the last role) closes it; the board freezes.
    ("open", "POST", "/api/v1/challenges/parity/close", {}, api(403, admin=200)),
    # After close the private board and every submission open to the overseers.
    ("closed", "GET", "/challenges/parity/leaderboard", {}, E(200)),
    (
        "closed",
        "GET",
        "/api/v1/challenges/parity/leaderboard?board=private",
        {},
        E(403, sponsor=200, judge=200, admin=200),
    ),
    ("closed", "GET", "/submissions/{sub}", {}, page(404, **OVERSEERS_AFTER_CLOSE)),
    ("closed", "GET", "/submissions/{sub}/status", {}, page(404, **OVERSEERS_AFTER_CLOSE)),
    ("closed", "GET", "/api/v1/submissions/{sub}", {}, api(404, **OVERSEERS_AFTER_CLOSE)),
    ("closed", "GET", "/submissions/{sub}/receipt", {}, page(404, **OVERSEERS_AFTER_CLOSE)),
    (
        "closed",
        "GET",
        "/api/v1/submissions/{sub}/receipt",
        {},
        api(404, **OVERSEERS_AFTER_CLOSE),
    ),
    ("closed", "POST", "/api/v1/submissions/{sub}/select", {}, api(404, member=403)),
    ("closed", "GET", "/sponsor/challenges/parity", {}, page(404, **MANAGERS)),
    # No dry run after close (the precondition, before the upload); the old ones stay.
    (
        "closed",
        "POST",
        "/api/v1/challenges/parity/dry-runs",
        {"data": {}},
        api(403, sponsor=409, admin=409),
    ),
    ("closed", "GET", "/api/v1/challenges/parity/dry-runs", {}, api(403, **MANAGERS)),
    ("closed", "POST", "/api/v1/challenges/parity/close", {}, api(403, admin=400)),
    (
        "closed",
        "POST",
        "/admin/challenges/parity/close",
        {"data": {"confirm": "yes"}},
        page(404, admin=302),
    ),
    ("closed", "POST", "/api/v1/challenges/parity/teams", {"json": {"name": "Late"}}, api(403)),
    ("closed", "POST", "/api/v1/challenges/parity/submissions", {}, api(403)),
    # A draft stays the sponsor's: another organization cannot send it for review.
    ("closed", "POST", "/api/v1/challenges/draft/review", {}, api(404, sponsor=200, admin=400)),
    # Judging: the assigned judge acts; an administrator watches.
    ("closed", "GET", "/judge/parity", {}, page(404, judge=200, admin=200)),
    ("closed", "GET", "/api/v1/challenges/parity/judging", {}, api(403, judge=200, admin=200)),
    (
        "closed",
        "POST",
        "/api/v1/challenges/parity/verdicts",
        {"json": {"decision": "approve"}},
        api(403, judge=400),
    ),  # not before a re-run reproduces
    (
        "closed",
        "POST",
        "/judge/parity/verdict",
        {"data": {"decision": "approve", "confirm": "yes"}},
        page(404, judge=302),
    ),
    ("closed", "POST", "/api/v1/challenges/parity/reruns", {}, api(403, judge=201)),
    ("closed", "POST", "/judge/parity/rerun", {}, page(404, judge=302)),  # one under way
    # Registration (issue 14, "registration"): "reg" asks for it; the member's team there
    # has not registered. Rows that act fail a precondition (a message, a 400/409) except
    # the one API apply, after which the page's apply is a conflict.
    ("open", "GET", "/challenges/reg/data/train.csv", {}, E(403, sponsor=200, admin=200)),
    ("open", "GET", "/challenges/reg/registration", {}, page(302, member=200)),
    ("open", "GET", "/challenges/parity/registration", {}, page(404)),  # asks for none
    (
        "open",
        "POST",
        "/challenges/reg/registration/partners",
        {"data": {"org": "other"}},
        page(404, member=302),
    ),
    (
        "open",
        "POST",
        "/challenges/reg/registration/partners/{other_org}/remove",
        {},
        page(404, member=302),
    ),
    (
        "open",
        "POST",
        "/challenges/reg/registration/terms",
        {"data": {"accept": "1", "terms_version": "1"}},
        page(404, member=302),
    ),
    ("open", "POST", "/challenges/reg/registration/withdraw", {}, page(404, member=302)),
    ("open", "GET", "/api/v1/challenges/reg/registration", {}, api(404, member=200)),
    (
        "open",
        "POST",
        "/api/v1/challenges/reg/registration/terms",
        {"json": {"version": 1}},
        api(404, member=409),
    ),
    (
        "open",
        "POST",
        "/api/v1/challenges/reg/registration/partners",
        {"json": {"org": "other"}},
        api(404, member=400),
    ),
    ("open", "DELETE", "/api/v1/challenges/reg/registration", {}, api(404, member=409)),
    ("open", "POST", "/api/v1/challenges/reg/registration", {"json": {}}, api(404, member=201)),
    ("open", "POST", "/challenges/reg/registration", {"data": {}}, page(404, member=302)),
    ("open", "GET", "/challenges/reg/registrations", {}, page(404, **MANAGERS)),
    ("open", "GET", "/challenges/reg/registrations.csv", {}, page(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/challenges/reg/registrations/{reg_team}/decision",
        {"data": {"decision": "refuse", "reason": ""}},
        page(404, sponsor=302, admin=302),
    ),
    ("open", "GET", "/api/v1/challenges/reg/registrations", {}, api(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/api/v1/challenges/reg/registrations/{reg_team}/decision",
        {"json": {"decision": "refuse"}},
        api(404, sponsor=400, admin=400),
    ),
    ("open", "GET", "/consortium-invitations", {}, page(200)),
    ("open", "POST", "/consortium-invitations/{other_org}", {"data": {"accept": "1"}}, E(302)),
    ("open", "GET", "/api/v1/consortium-invitations", {}, api(200)),
    (
        "open",
        "POST",
        "/api/v1/consortium-invitations/{other_org}",
        {"json": {"accept": True}},
        api(404),
    ),
    # Proposals (challenges.proposals) on "stage": the member's team handed one in; the
    # judge reviews it (a reviewer, not as judge); "spare" reviews too, until removed.
    ("open", "GET", "/challenges/stage/proposal", {}, page(302, member=200)),  # no team: sent to it
    ("open", "POST", "/challenges/stage/proposal", {"data": {}}, page(404, member=302)),
    ("open", "GET", "/challenges/stage/proposals/{stage_team}/file", {}, page(404, **READERS)),
    ("open", "GET", "/challenges/parity/proposal", {}, page(404)),  # no proposal stage
    ("open", "GET", "/challenges/stage/proposals", {}, page(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/challenges/stage/proposals/reviewers",
        {"data": {"email": "nobody@x.org"}},
        page(404, sponsor=302, admin=302),
    ),
    (
        "open",
        "POST",
        "/challenges/stage/proposals/reviewers/{member_id}/remove",
        {},
        page(404, sponsor=302, admin=302),
    ),
    (
        "open",
        "POST",
        "/challenges/stage/proposals/shortlist",
        {},
        page(404, sponsor=302, admin=302),
    ),
    ("open", "POST", "/challenges/stage/proposals/release", {}, page(404, sponsor=302, admin=302)),
    ("open", "GET", "/review", {}, page(200)),
    ("open", "GET", "/review/stage", {}, page(404, judge=200)),
    ("open", "POST", "/review/stage/{stage_team}", {"data": {}}, page(404, judge=302)),
    ("open", "GET", "/api/v1/challenges/stage/proposal", {}, api(404, member=200)),
    ("open", "POST", "/api/v1/challenges/stage/proposal", {}, api(404, member=400)),
    ("open", "GET", "/api/v1/challenges/stage/proposals", {}, api(403, judge=200, **MANAGERS)),
    (
        "open",
        "GET",
        "/api/v1/challenges/stage/proposals/{stage_team}/file",
        {},
        api(404, **READERS),
    ),
    (
        "open",
        "GET",
        "/api/v1/challenges/stage/proposals/{stage_team}/scores",
        {},
        api(404, member=403, judge=200, **MANAGERS),
    ),
    (
        "open",
        "PUT",
        "/api/v1/challenges/stage/proposals/{stage_team}/scores",
        {"json": {}},
        api(403, judge=400),
    ),
    ("open", "GET", "/api/v1/challenges/stage/reviewers", {}, api(404, **MANAGERS)),
    (
        "open",
        "POST",
        "/api/v1/challenges/stage/reviewers",
        {"json": {}},
        api(404, sponsor=400, admin=400),
    ),
    ("open", "GET", "/api/v1/challenges/stage/shortlist", {}, api(404, **MANAGERS)),
    (
        "open",
        "PUT",
        "/api/v1/challenges/stage/shortlist",
        {"json": {}},
        api(404, sponsor=400, admin=400),
    ),
    (
        "open",
        "POST",
        "/api/v1/challenges/stage/proposals/comments",
        {"json": {}},
        api(404, sponsor=400, admin=400),
    ),
    # The sponsor removes "spare"; the administrator, asking next, finds no such reviewer.
    ("open", "DELETE", "/api/v1/challenges/stage/reviewers/{spare_id}", {}, api(404, sponsor=200)),
]

# Organizations (issue 14, "orgs"): one's own organization and its administrators
# (each sponsor is the first member of its organization, so it administers it; a
# plain member's refusals: tests/jiebang/test_orgs.py), the platform's
# administrators, and the way to become a sponsor (issue 15, friction 3).
TABLE += [
    ("open", "GET", "/organization", {}, page(200)),
    ("open", "GET", "/organization/new", {}, page(200, sponsor=302, other_sponsor=302)),
    ("open", "POST", "/organization/new", {"data": {}}, page(400, sponsor=302, other_sponsor=302)),
    (
        "open",
        "POST",
        "/organization",
        {"data": {"kind": "enterprise", "name_en": "X"}},
        page(404, sponsor=400, other_sponsor=400),
    ),  # no Chinese legal name: 400 shows the caller passed
    (
        "open",
        "POST",
        "/organization/invitations",
        {"data": {"email": "admin@x.org"}},
        page(404, sponsor=200, other_sponsor=200),
    ),  # the page with the link
    ("open", "POST", "/organization/invitations/999999/revoke", {}, page(404)),
    ("open", "POST", "/organization/members/{member_id}/remove", {}, page(404)),  # not theirs
    ("open", "POST", "/organization/members/{member_id}/admin", {}, page(404)),
    ("open", "GET", "/invitations/not-a-token", {}, E(404)),
    ("open", "POST", "/invitations/not-a-token", {}, E(302)),  # log in; or told it is not valid
    ("open", "POST", "/sponsor/request", {"data": {"slug": "", "name": ""}}, E(302)),
    ("open", "GET", "/admin/orgs", {}, page(404, admin=200)),
    (
        "open",
        "POST",
        "/admin/orgs/{other_org}/verify",
        {"data": {"decision": "verify"}},
        page(404, admin=302),
    ),  # it waits for nothing: said on the page
    (
        "open",
        "POST",
        "/admin/orgs/{other_org}/sponsor",
        {"data": {"decision": "refuse", "note": "n"}},
        page(404, admin=302),
    ),
    ("open", "GET", "/api/v1/organizations/mine", {}, api(200)),
    (
        "open",
        "POST",
        "/api/v1/organizations",
        {"json": {"kind": "other"}},
        api(400, sponsor=403, other_sponsor=403),
    ),  # no name: 400 shows the caller passed
    (
        "open",
        "POST",
        "/api/v1/organizations/{other_org}/invitations",
        {"json": {"email": "not-an-address"}},
        api(403, other_sponsor=400, admin=400),
    ),
    (
        "open",
        "POST",
        "/api/v1/admin/organizations/{other_org}/verify",
        {"json": {"decision": "verify"}},
        api(403, admin=409),
    ),
]

# Notifications (issue 15, "notify"): everyone signed in has their own; the unsubscribe
# link works without login but only with a signed token (a bad one: 404).
TABLE += [
    ("open", "GET", "/notifications", {}, page(200)),
    ("open", "POST", "/notifications/read", {}, page(302)),
    ("open", "GET", "/notifications/settings", {}, page(200)),
    ("open", "POST", "/notifications/settings", {"data": {"language": "en"}}, page(302)),
    ("open", "GET", "/notifications/unsubscribe/not-a-token", {}, E(404)),
    ("open", "POST", "/notifications/unsubscribe/not-a-token", {}, E(404)),
    ("open", "GET", "/api/v1/notifications", {}, api(200)),
    ("open", "POST", "/api/v1/notifications/read", {"json": {}}, api(200)),
]

# Routes not in the table, and why.
NOT_HERE = {
    ("GET", "/static/<path:filename>"): "files",
    ("GET", "/lang/<code>"): "a cookie, for anyone",
    ("GET", "/login"): "accounts: tests/web/test_auth.py",
    ("POST", "/login"): "accounts: tests/web/test_auth.py",
    ("POST", "/logout"): "accounts: tests/web/test_auth.py",
    ("GET", "/register"): "accounts: tests/web/test_auth.py",
    ("POST", "/register"): "accounts: tests/web/test_auth.py",
    ("GET", "/profile"): "one's own account: tests/web/test_profile.py",
    ("POST", "/profile/organization"): "one's own account: tests/web/test_profile.py",
    ("POST", "/profile/password"): "one's own account: tests/web/test_profile.py",
    ("POST", "/profile/tokens"): "one's own account: tests/web/test_profile.py",
    ("POST", "/profile/tokens/<id:token_id>/revoke"): "one's own account",
    ("GET", "/api/v1/tokens"): "one's own tokens: tests/web/test_api.py",
    ("POST", "/api/v1/tokens"): "one's own tokens: tests/web/test_api.py",
    ("DELETE", "/api/v1/tokens/<id:token_id>"): "one's own tokens: tests/web/test_api.py",
}


def _proposal_stage(world, session, member, users):
    """The challenge "stage" with a proposal stage: the member's team handed one in, the
    judge and a spare account review it."""
    import io

    from challenges import proposals
    from jiebang.db import utcnow
    from tests.challenges.test_proposals import STAGE, make_pdf

    stage = world.challenge(
        slug="stage",
        proposal={**STAGE, "due": "2098-01-01T00:00:00+08:00"},
        opens_at="2020-01-01T00:00:00+08:00",
        closes_at="2099-01-01T00:00:00+08:00",
    )
    team = world.team(stage, member, name="Staged")
    proposals.upload(
        session, user=member, team=team, challenge=stage, stream=io.BytesIO(make_pdf()),
        filename="p.pdf", blobs=world.blobs, now=utcnow(),
    )  # fmt: skip
    spare = world.user("spare@x.org")
    for reviewer in (users["judge"], spare):
        proposals.assign_reviewer(session, challenge=stage, user=reviewer, actor=users["sponsor"])
    return team, spare


@pytest.fixture
def cast(world, session, published, token_for):
    """The open challenge with a team and its scored submission, a second open one, a
    draft of the same sponsor, and one user of each role."""
    from challenges.lifecycle import assign_judge

    second = world.challenge(
        slug="second", opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00"
    )
    world.challenge(slug="draft", publish=False)
    reg = world.challenge(
        slug="reg",
        registration={"mode": "approval"},
        opens_at="2020-01-01T00:00:00+08:00",
        closes_at="2099-01-01T00:00:00+08:00",
    )
    other = world.org("other")
    member = world.user("member@x.org")
    team = world.team(published, member, name="Members")
    reg_team = world.team(reg, member, name="Registering")
    sub = world.scored(team, public=0.95, private=0.97)
    # Its event, as the worker writes it: the receipt is built from it.
    jiebang.audit.record(session, "submission.scored", **audit_fields(sub))
    admin = world.user("admin@x.org", "admin")
    users = {
        "member": member,
        "outsider": world.user("outsider@x.org"),
        "sponsor": world.user("sponsor@x.org", "sponsor", org=published.sponsor),
        "other_sponsor": world.user("other-sponsor@x.org", "sponsor", org=other),
        "judge": world.user("judge@x.org", "judge"),
        "other_judge": world.user("other-judge@x.org", "judge"),
        "admin": admin,
    }
    assign_judge(session, published, judge=users["judge"], actor=admin)
    assign_judge(session, second, judge=users["judge"], actor=admin)
    stage_team, spare = _proposal_stage(world, session, member, users)
    from challenges import questions  # talk: one question to answer, one to hide

    asked = questions.ask(session, challenge=published, user=member, text="May we?")
    abuse = questions.ask(session, challenge=published, user=member, text="Abuse")
    session.commit()
    values = {
        "question": asked.id,
        "abuse": abuse.id,
        "sub": sub.id,
        "team": team.id,
        "reg_team": reg_team.id,
        "other_org": other.id,
        "member_id": member.id,
        "stage_team": stage_team.id,
        "spare_id": spare.id,
        "member_form": {"role": "participant", "org": "", "active": "on"},
    }
    tokens = {"anonymous": {}} | {role: token_for(user) for role, user in users.items()}
    return users, tokens, values


def _client(app, user):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as cookie:
            cookie["_user_id"] = user.get_id()
            cookie["_fresh"] = True
    return client


def _request(client, method, url, kwargs, headers, values, role):
    url = re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), url)
    kwargs = dict(kwargs)
    if kwargs.get("data") == "{member_form}":
        kwargs["data"] = values["member_form"]
    if "json" in kwargs and kwargs["json"].get("name") == "{role}":
        kwargs["json"] = {"name": f"Team of {role}"}
    if kwargs.get("data") == {"bundle": "zip"}:
        kwargs["data"] = {"bundle": (io.BytesIO(b"not a zip"), "b.zip")}
    if method == "POST" and url.endswith("/submissions") and url.startswith("/api/"):
        kwargs = {
            "data": b"not an image",
            "content_type": "application/octet-stream",
            "query_string": {"kind": "bundle"},
        }
    if url.startswith("/api/"):
        return client.open(url, method=method, headers=headers, **kwargs)
    return client.open(url, method=method, **kwargs)


def test_every_route_is_in_the_table(app):
    listed = {(m, re.sub(r"\?.*", "", u)) for _s, m, u, _k, _e in TABLE}
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) in NOT_HERE:
                continue
            pattern = re.sub(r"<[^>]+>", "[^/]+", rule.rule) + "$"
            if not any(m == method and re.match(pattern, u) for m, u in listed):
                missing.append((method, rule.rule))
    assert missing == []


def test_each_role_against_each_route(app, cast, redis_conn):
    users, tokens, values = cast
    clients = {role: _client(app, users.get(role)) for role in ROLES}
    wrong = []
    for state, method, url, kwargs, expected in TABLE:
        if state == "closed":
            status = clients["anonymous"].get("/api/v1/challenges/parity").get_json()["status"]
            assert status == "judging"
        for role in ROLES:
            response = _request(clients[role], method, url, kwargs, tokens[role], values, role)
            if response.status_code != expected[role]:
                wrong.append((state, method, url, role, expected[role], response.status_code))
    assert wrong == []


def _bundle_for(bundle_dir, sponsor: str) -> io.BytesIO:
    import zipfile

    import yaml

    spec = yaml.safe_load((bundle_dir / "challenge.yaml").read_text())
    (bundle_dir / "challenge.yaml").write_text(yaml.safe_dump({**spec, "sponsor": sponsor}))
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for f in bundle_dir.iterdir():
            z.write(f, f.name)
    data.seek(0)
    return data


def test_no_challenge_is_listed_for_an_unapproved_organization(
    app, world, session, token_for, bundle_dir
):
    """Page and API once differed: the page refused a sponsor whose organization waits
    for approval, the API took the bundle (and an administrator's upload took one for
    any organization). Now the service refuses it, whoever asks and however."""
    pending = accounts.create_org(session, slug="pending", name="Pending", approved=False)
    sponsor = world.user("sponsor@x.org", "sponsor", org=pending)
    admin = world.user("admin@x.org", "admin")
    world.org("acme")
    session.commit()
    for user in (sponsor, admin):
        sent = _client(app, None).post(
            "/api/v1/challenges",
            data={"bundle": (_bundle_for(bundle_dir, "pending"), "b.zip")},
            headers=token_for(user),
        )
        assert sent.status_code == 403, sent.get_json()
        assert "not approved" in sent.get_json()["error"]["message"]
        uploaded = _client(app, user).post(
            "/sponsor/challenges", data={"bundle": (_bundle_for(bundle_dir, "pending"), "b.zip")}
        )
        assert uploaded.status_code == 400 and "not approved" in uploaded.get_data(as_text=True)
    pending.approved = True
    session.commit()
    sent = _client(app, None).post(
        "/api/v1/challenges",
        data={"bundle": (_bundle_for(bundle_dir, "pending"), "b.zip")},
        headers=token_for(sponsor),
    )
    assert sent.status_code == 201


def test_the_judging_view_opens_at_close_on_the_page_as_over_the_api(
    app, world, session, published, token_for
):
    """One question, ``judging_state``, for both: before close the API refused the
    assigned judge while the page showed the view; now both refuse, with the same words."""
    from challenges.lifecycle import assign_judge

    admin = world.user("admin@x.org", "admin")
    judge = world.user("judge@x.org", "judge")
    assign_judge(session, published, judge=judge, actor=admin)
    session.commit()
    for user in (judge, admin):
        api = _client(app, None).get("/api/v1/challenges/parity/judging", headers=token_for(user))
        assert api.status_code == 403
        said = api.get_json()["error"]["message"]
        assert said == "The private board opens to judges when the challenge closes."
        page = _client(app, user).get("/judge/parity", follow_redirects=True)
        assert page.request.path == "/judge"
        assert said in page.get_data(as_text=True)
