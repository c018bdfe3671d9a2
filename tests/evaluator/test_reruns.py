"""A judge's re-run reproduces a result only when every metric comes out the same."""

from types import SimpleNamespace

import pytest

from evaluator.reruns import TOLERANCE, reproduces


def _sub(status="scored", public=None, private=None):
    first = lambda m: None if m is None else next(iter(m.values()))  # noqa: E731
    return SimpleNamespace(
        status=status,
        is_final=status in ("scored", "failed"),
        public_score=first(public),
        private_score=first(private),
        public_metrics=public,
        private_metrics=private,
    )


ORIGINAL = _sub(public={"map50": 0.7, "recall": 0.9}, private={"map50": 0.68, "recall": 0.88})


@pytest.mark.parametrize(
    ("rerun", "expected"),
    [
        (_sub(public={"map50": 0.7, "recall": 0.9}, private={"map50": 0.68, "recall": 0.88}), True),
        (
            _sub(
                public={"map50": 0.7, "recall": 0.9 + TOLERANCE / 2},
                private={"map50": 0.68, "recall": 0.88},
            ),
            True,
        ),
        # The ranking metric agrees, another does not: no reproduction.
        (_sub(public={"map50": 0.7, "recall": 0.9}, private={"map50": 0.68, "recall": 0.5}), False),
        (
            _sub(public={"map50": 0.7, "recall": 0.2}, private={"map50": 0.68, "recall": 0.88}),
            False,
        ),
        (_sub(public={"map50": 0.7}, private={"map50": 0.68}), False),  # a metric missing
        (_sub("failed"), False),
        (_sub("running"), None),
        (None, None),
    ],
)
def test_every_metric_must_come_out_the_same(rerun, expected):
    assert reproduces(ORIGINAL, rerun) is expected
