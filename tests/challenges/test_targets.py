import math

from hypothesis import given
from hypothesis import strategies as st

from challenges.targets import check_targets, meets_all, targets_test

TARGETS = [{"metric": "f1_macro", "at_least": 0.9}, {"max_runtime_s": 60}, {"max_memory_mb": 512}]


def _check(score, runtime=10.0, memory=100.0, targets=TARGETS):
    return check_targets(
        targets, scores={"f1_macro": score, "rmse": score}, runtime_s=runtime, peak_memory_mb=memory
    )


def test_every_target_must_hold():
    assert meets_all(_check(0.95))
    assert meets_all(_check(0.9))
    assert not meets_all(_check(0.89))
    assert not meets_all(_check(0.95, runtime=60.5))
    assert not meets_all(_check(0.95, memory=513))


def test_unmeasured_never_counts_as_met():
    assert not meets_all(_check(None))
    assert not meets_all(_check(float("nan")))
    assert not meets_all(_check(0.95, memory=None))


def test_at_most_for_errors():
    targets = [{"metric": "rmse", "at_most": 1.5}]
    assert meets_all(_check(1.5, targets=targets))
    assert not meets_all(_check(1.6, targets=targets))
    assert [c.description for c in _check(1.0, targets=targets)] == ["rmse ≤ 1.5"]


def test_no_targets_means_met():
    assert meets_all(_check(0.1, targets=[]))


NUMBER = st.one_of(st.floats(0, 1), st.just(math.nan))
BOUNDS = st.one_of(
    st.builds(lambda v: {"metric": "f1_macro", "at_least": v}, NUMBER),
    st.builds(lambda v: {"metric": "f1_macro", "at_most": v}, NUMBER),
    st.builds(lambda v: {"metric": "rmse", "at_most": v}, NUMBER),
    st.builds(lambda v: {"max_runtime_s": v}, st.one_of(st.integers(1, 100), st.just(math.nan))),
    st.builds(lambda v: {"max_memory_mb": v}, st.one_of(st.integers(1, 1000), st.just(math.nan))),
)
MEASURE = st.one_of(st.none(), st.just(math.nan), st.floats(0, 1000, allow_nan=False))


@given(
    targets=st.lists(BOUNDS, max_size=5),
    score=st.one_of(st.none(), st.just(math.nan), st.floats(0, 1)),
    runtime=MEASURE,
    memory=MEASURE,
)
def test_the_fast_test_agrees_with_every_check(targets, score, runtime, memory):
    slow = meets_all(
        check_targets(targets, scores={"f1_macro": score}, runtime_s=runtime, peak_memory_mb=memory)
    )
    assert targets_test(targets, "f1_macro")(score, runtime, memory) is slow
