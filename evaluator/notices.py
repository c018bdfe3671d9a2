"""A submission's final outcome, told to its team (site and mail, ``jiebang.notify``).

Dry runs (no team) and judges' re-runs tell nobody. The reason is the submission's own
stored message (code and parameters), so the notification words it exactly as the
submission page does, in each reader's language.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from challenges.notices import about, team_members
from evaluator.models import State, Submission
from jiebang.notifications import notify


def submission_final(session: Session, sub: Submission) -> None:
    if sub.dry_run or sub.team_id is None or sub.rerun_of_id is not None:
        return
    if sub.status == State.scored.value:
        score = "—" if sub.public_score is None else f"{sub.public_score:.6g}"
        kind, more = "submission.scored", {"score": score}
    elif sub.status == State.failed.value:
        reason = {"code": sub.message_code, "params": sub.message_params or {}}
        kind, more = "submission.failed", {"failure": {"word": sub.failure}, "reason": reason}
    else:
        return
    notify(
        session,
        kind=kind,
        user_ids=team_members(session, sub.team_id),
        params=about(sub.challenge, submission=sub.id, **more),
        link=f"/submissions/{sub.id}",
    )
