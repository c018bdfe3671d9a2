from challenges.targets import check_targets, meets_all

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
