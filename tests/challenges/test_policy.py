"""The policy itself; tests/web/test_permissions.py walks it through every route."""

import pytest
from flask_login import AnonymousUserMixin

from challenges import policy
from challenges.policy import Action, can, require
from jiebang.errors import Forbidden, NotFound


def test_every_action_has_one_rule():
    from jiebang.policy import AccountAction

    # The account rules (jiebang.policy) are taken into the one table too.
    assert set(policy.RULES) == set(Action) | set(AccountAction)


def test_the_anonymous_user_and_none_are_one_caller(world, session):
    draft = world.challenge(publish=False)
    for nobody in (None, AnonymousUserMixin()):
        assert not can(session, nobody, Action.view_challenge, draft)
        assert not can(session, nobody, Action.see_audit)
        with pytest.raises(NotFound):  # a draft is hidden: its existence does not leak
            require(session, nobody, Action.manage_challenge, draft)


def test_refusals_hide_what_is_hidden_and_name_what_is_not(world, session):
    item = world.challenge()
    other = world.user("o@example.com", "sponsor", org=world.org("other"))
    member = world.user("m@example.com")
    team = world.team(item, member)
    sub = world.scored(team, public=0.5, private=0.5)
    rerun = world.scored(team, public=0.5, private=0.5, rerun_of=sub)
    with pytest.raises(NotFound):
        require(session, other, Action.manage_challenge, item)
    with pytest.raises(Forbidden, match="own organization"):
        require(session, other, Action.create_challenge, item.sponsor)
    with pytest.raises(NotFound):
        require(session, other, Action.see_submission, sub)
    assert can(session, member, Action.choose_final, sub)
    assert not can(session, member, Action.choose_final, rerun)  # re-runs are the judges'
    with pytest.raises(Forbidden):
        require(session, member, Action.close_challenge, item)
