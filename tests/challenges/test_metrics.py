import math
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from challenges import metrics
from challenges.metrics import (
    METRICS,
    Metric,
    UnknownMetric,
    better,
    get_metric,
    positive_class,
    register,
    sort_labels,
)

LABELS_TRUE = np.array(["cat", "dog", "eel", "dog", "cat", "eel", "dog", "cat", "cat", "eel"])
LABELS_PRED = np.array(["cat", "dog", "dog", "dog", "eel", "eel", "cat", "cat", "fox", "eel"])
KNOWN_PRED = np.where(LABELS_PRED == "fox", "dog", LABELS_PRED)  # scikit-learn warns on "fox"
BINARY = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])
SCORES = np.array([0.1, 0.8, 0.35, 0.4, 0.9, 0.2, 0.65, 0.7, 0.3, 0.05])
CLASSES = ["cat", "dog", "eel"]
PROBS = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.6, 0.3],
        [0.2, 0.3, 0.5],
        [0.3, 0.4, 0.3],
        [0.5, 0.1, 0.4],
        [0.1, 0.1, 0.8],
        [0.3, 0.5, 0.2],
        [0.4, 0.3, 0.3],
        [0.2, 0.5, 0.3],
        [0.25, 0.25, 0.5],
    ]
)
Y_REG = np.array([3.0, -0.5, 2.0, 7.0, 4.2, 0.0, 1.5])
P_REG = np.array([2.5, 0.0, 2.0, 8.0, 4.0, -0.3, 1.0])


def _shuffled_columns() -> pd.DataFrame:
    """The class probabilities with columns in a different order than sorted."""
    return pd.DataFrame(PROBS, columns=CLASSES)[["eel", "cat", "dog"]]


CASES = {
    "accuracy": (LABELS_TRUE, LABELS_PRED, skm.accuracy_score(LABELS_TRUE, LABELS_PRED)),
    "balanced_accuracy": (
        LABELS_TRUE,
        KNOWN_PRED,
        skm.balanced_accuracy_score(LABELS_TRUE, KNOWN_PRED),
    ),
    "f1_macro": (
        LABELS_TRUE,
        LABELS_PRED,
        skm.f1_score(LABELS_TRUE, LABELS_PRED, average="macro", zero_division=0),
    ),
    "f1_weighted": (
        LABELS_TRUE,
        LABELS_PRED,
        skm.f1_score(LABELS_TRUE, LABELS_PRED, average="weighted", zero_division=0),
    ),
    "roc_auc": (BINARY, SCORES, skm.roc_auc_score(BINARY, SCORES)),
    "log_loss": (BINARY, SCORES, skm.log_loss(BINARY, SCORES)),
    "rmse": (Y_REG, P_REG, skm.root_mean_squared_error(Y_REG, P_REG)),
    "mae": (Y_REG, P_REG, skm.mean_absolute_error(Y_REG, P_REG)),
    "r2": (Y_REG, P_REG, skm.r2_score(Y_REG, P_REG)),
}
DIRECTION = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1_macro": True,
    "f1_weighted": True,
    "roc_auc": True,
    "log_loss": False,
    "rmse": False,
    "mae": False,
    "r2": True,
}
KINDS = {
    "accuracy": "label",
    "balanced_accuracy": "label",
    "f1_macro": "label",
    "f1_weighted": "label",
    "roc_auc": "probability",
    "log_loss": "probability",
    "rmse": "regression",
    "mae": "regression",
    "r2": "regression",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_metric_equals_scikit_learn(name):
    y_true, y_pred, expected = CASES[name]
    metric = get_metric(name)
    assert metric.name == name
    assert metric.compute(y_true, y_pred) == pytest.approx(expected, rel=1e-12)
    assert isinstance(metric.compute(y_true, y_pred), float)


@pytest.mark.parametrize("name", sorted(DIRECTION))
def test_each_metric_has_its_direction_kind_and_titles(name):
    metric = get_metric(name)
    assert metric.higher_is_better is DIRECTION[name]
    assert metric.kind == KINDS[name]
    assert metric.title_en and metric.title_zh


def test_a_perfect_prediction_scores_best_in_each_direction():
    assert get_metric("accuracy").compute(LABELS_TRUE, LABELS_TRUE) == 1.0
    assert get_metric("rmse").compute(Y_REG, Y_REG) == 0.0
    perfect = get_metric("log_loss").compute(BINARY, BINARY.astype(float))
    assert perfect < get_metric("log_loss").compute(BINARY, SCORES)


def test_multi_class_roc_auc_is_one_vs_rest_macro_on_named_columns():
    expected = skm.roc_auc_score(LABELS_TRUE, PROBS, multi_class="ovr", average="macro")
    got = get_metric("roc_auc").compute(LABELS_TRUE, _shuffled_columns())
    assert got == pytest.approx(expected, rel=1e-12)


def test_multi_class_log_loss_uses_the_named_columns():
    expected = skm.log_loss(LABELS_TRUE, PROBS, labels=CLASSES)
    got = get_metric("log_loss").compute(LABELS_TRUE, _shuffled_columns())
    assert got == pytest.approx(expected, rel=1e-12)


def test_labels_compare_as_strings_whatever_their_type():
    accuracy = get_metric("accuracy")
    assert accuracy.compute(np.array([1, 0, 1, 2]), np.array(["1", "0", " 1", "2"])) == 1.0
    assert accuracy.compute(np.array([1.0, 0.0]), np.array(["1", "0"])) == 1.0
    assert accuracy.compute(np.array(["1", "0"]), np.array([1, 1])) == 0.5
    assert accuracy.compute(np.array(["01", "1"]), np.array(["1", "1"])) == 0.5
    as_ints = get_metric("f1_macro").compute(BINARY, 1 - BINARY)
    as_text = get_metric("f1_macro").compute(BINARY.astype(str), (1 - BINARY).astype(object))
    assert as_ints == as_text == 0.0


def test_binary_probabilities_with_text_labels_use_the_greater_label_as_positive():
    roc = get_metric("roc_auc")
    text = np.where(BINARY == 1, "yes", "no")
    assert roc.compute(text, SCORES) == pytest.approx(skm.roc_auc_score(BINARY, SCORES))
    assert roc.compute(BINARY.astype(str), SCORES) == roc.compute(BINARY, SCORES)
    numeric = np.where(BINARY == 1, "10", "2")  # as strings "2" > "10"; as numbers 10 > 2
    assert roc.compute(numeric, SCORES) == pytest.approx(skm.roc_auc_score(BINARY, SCORES))


def test_a_one_column_frame_names_the_positive_class_even_if_one_class_is_present():
    log_loss = get_metric("log_loss")
    only_negatives = np.array(["0", "0", "0"])
    p = np.array([0.1, 0.2, 0.3])
    got = log_loss.compute(only_negatives, pd.DataFrame({"1": p}))
    assert got == pytest.approx(skm.log_loss([0, 0, 0], p, labels=[0, 1]))
    with pytest.raises(ValueError, match="two classes"):
        log_loss.compute(only_negatives, p)


def test_class_columns_match_labels_of_another_type():
    frame = pd.DataFrame(PROBS, columns=[0, 1, 2])
    codes = pd.Categorical(LABELS_TRUE, categories=CLASSES).codes
    as_strings = get_metric("log_loss").compute(codes.astype(str), frame)
    as_ints = get_metric("log_loss").compute(codes, frame)
    assert as_strings == pytest.approx(as_ints)
    assert as_ints == pytest.approx(skm.log_loss(LABELS_TRUE, PROBS, labels=CLASSES))


def test_probabilities_for_a_class_without_a_column_are_refused():
    frame = pd.DataFrame(PROBS[:, :2], columns=["cat", "dog"])
    with pytest.raises(ValueError):
        get_metric("log_loss").compute(LABELS_TRUE, frame)


def test_sort_labels_and_positive_class():
    assert sort_labels(["b", "a", "c", "a"]) == ["a", "b", "c"]
    assert sort_labels(["10", "2", 1]) == ["1", "2", "10"]
    assert positive_class(["no", "yes"]) == "yes"
    assert positive_class([1, 0]) == "1"
    assert positive_class(["-1", "1"]) == "1"
    assert positive_class(["1.0", "0.0"]) == "1.0"  # text stays text
    assert positive_class([1.0, 0.0]) == "1"  # integral floats read as integers


def test_unknown_metric_lists_the_known_names():
    with pytest.raises(UnknownMetric) as caught:
        get_metric("acuracy")
    assert isinstance(caught.value, KeyError)
    for name in DIRECTION:
        assert name in str(caught.value)
    assert str(caught.value).startswith("unknown metric 'acuracy'")


def test_register_adds_a_metric_and_refuses_duplicates(monkeypatch):
    monkeypatch.setattr(metrics, "METRICS", dict(METRICS))
    max_error = Metric("max_error", False, "regression", lambda t, p: 0.0, "Max error", "最大误差")
    register(max_error)
    assert get_metric("max_error") is max_error
    with pytest.raises(ValueError, match="already registered"):
        register(max_error)
    with pytest.raises(ValueError, match="kind"):
        register(Metric("odd", True, "ranking", lambda t, p: 0.0, "Odd", "奇"))  # type: ignore[arg-type]
    assert "max_error" not in METRICS


def test_better_follows_the_direction_strictly():
    accuracy, rmse = get_metric("accuracy"), get_metric("rmse")
    assert better(accuracy, 0.9, 0.8) and not better(accuracy, 0.8, 0.9)
    assert better(rmse, 0.8, 0.9) and not better(rmse, 0.9, 0.8)
    assert not better(accuracy, 0.9, 0.9) and not better(rmse, 0.9, 0.9)


def test_better_never_prefers_a_missing_score():
    accuracy = get_metric("accuracy")
    assert not better(accuracy, math.nan, 0.1)
    assert not better(accuracy, None, 0.1)
    assert better(accuracy, 0.1, math.nan)
    assert better(accuracy, 0.1, None)
    assert not better(accuracy, math.nan, math.nan)


# --- the numpy fast paths give scikit-learn's results --------------------------------------

SEEDS = range(12)


def _codes(rng, n, k):
    """Class codes with some classes never true, and guesses that include classes that are
    never true (k and k + 1)."""
    present = rng.choice(k, size=rng.integers(1, k + 1), replace=False)
    truth = rng.choice(present, size=n).astype(np.int8)
    guess = rng.integers(0, k + 2, n)
    return truth, np.where(rng.random(n) < 0.4, truth, guess).astype(np.int32)


def _with_warnings(compute):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = compute()
    return value, sorted({str(w.message) for w in caught})


def _without_scikit_learn(monkeypatch, *names):
    """Make sure the fast path, not scikit-learn, computes the value being checked."""

    def refuse(*args, **kwargs):
        raise AssertionError("scikit-learn was called")

    for name in names:
        monkeypatch.setattr(metrics.skm, name, refuse)


@pytest.mark.parametrize("seed", SEEDS)
def test_label_metrics_equal_scikit_learn_on_random_codes(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    truth, guess = _codes(rng, int(rng.integers(1, 3000)), int(rng.integers(2, 9)))
    expected = {
        "accuracy": _with_warnings(lambda: skm.accuracy_score(truth, guess)),
        "f1_macro": _with_warnings(
            lambda: skm.f1_score(truth, guess, average="macro", zero_division=0)
        ),
        "f1_weighted": _with_warnings(
            lambda: skm.f1_score(truth, guess, average="weighted", zero_division=0)
        ),
        "balanced_accuracy": _with_warnings(lambda: skm.balanced_accuracy_score(truth, guess)),
    }
    _without_scikit_learn(monkeypatch, "accuracy_score", "f1_score", "balanced_accuracy_score")
    for name, (value, warned) in expected.items():
        got, warns = _with_warnings(lambda name=name: get_metric(name).compute(truth, guess))
        assert got == pytest.approx(value, abs=1e-12, rel=0), name
        assert warns == warned, name


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_equals_scikit_learn_on_random_scores_with_ties(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5000))
    truth = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(int)
    truth[:2] = [0, 1]
    cases = [
        np.round(rng.random(n), int(rng.integers(1, 4))),  # probabilities with many ties
        rng.random(n),
        np.round(rng.normal(size=n), 2),  # negative scores take the two-sort path
        np.where(rng.random(n) < 0.5, -0.0, 0.0) + np.round(rng.random(n), 1),
    ]
    expected = [skm.roc_auc_score(truth, p) for p in cases]
    _without_scikit_learn(monkeypatch, "roc_auc_score")
    for p, value in zip(cases, expected, strict=True):
        assert get_metric("roc_auc").compute(truth, p) == pytest.approx(value, abs=1e-12, rel=0)


def test_roc_auc_on_a_million_rows_equals_scikit_learn():
    rng = np.random.default_rng(99)
    truth = rng.integers(0, 2, 1_000_000)
    p = np.round(np.clip(0.3 * truth + 0.7 * rng.random(len(truth)), 0, 1), 3)
    got = get_metric("roc_auc").compute(truth, p)
    assert got == pytest.approx(skm.roc_auc_score(truth, p), abs=1e-12, rel=0)


def test_roc_auc_with_one_class_is_nan_with_scikit_learns_warning():
    from sklearn.exceptions import UndefinedMetricWarning

    one_class = np.zeros(5, int)
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(get_metric("roc_auc").compute(one_class, pd.DataFrame({1: SCORES[:5]})))


@pytest.mark.parametrize("seed", SEEDS)
def test_multi_class_probability_metrics_equal_scikit_learn(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(30, 3000)), int(rng.integers(3, 7))
    truth = rng.integers(0, k, n)
    truth[:k] = np.arange(k)
    p = np.round(rng.random((n, k)), 2) + 0.01
    p /= p.sum(axis=1, keepdims=True)
    p[0] = np.eye(k)[0]  # certain and right: log loss clips
    classes = list(range(k))
    expected = (
        skm.roc_auc_score(truth, p, multi_class="ovr", average="macro", labels=classes),
        skm.log_loss(truth, p, labels=classes),
    )
    _without_scikit_learn(monkeypatch, "roc_auc_score", "log_loss")
    frame = pd.DataFrame(p)
    got = get_metric("roc_auc").compute(truth, frame), get_metric("log_loss").compute(truth, frame)
    assert got == pytest.approx(expected, abs=1e-12, rel=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_log_loss_equals_scikit_learn(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5000))
    truth = rng.integers(0, 2, n)
    truth[:2] = [0, 1]
    p = np.round(rng.random(n), 3)
    p[:4] = [0.0, 1.0, 1.0, 0.0]  # certain and wrong, certain and right: clipped
    expected = skm.log_loss(truth, p, labels=[0, 1])
    _without_scikit_learn(monkeypatch, "log_loss")
    assert get_metric("log_loss").compute(truth, p) == pytest.approx(expected, abs=1e-12, rel=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_equal_scikit_learn(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=int(rng.integers(1, 5000))) * 10.0 ** rng.integers(-3, 4)
    p = y + rng.normal(size=len(y))
    expected = skm.root_mean_squared_error(y, p), skm.mean_absolute_error(y, p)
    _without_scikit_learn(monkeypatch, "root_mean_squared_error", "mean_absolute_error")
    got = get_metric("rmse").compute(y, p), get_metric("mae").compute(y, p)
    assert got == pytest.approx(expected, abs=1e-12, rel=1e-12)


def test_inputs_the_fast_paths_do_not_take_still_reach_scikit_learn():
    with pytest.raises(ValueError):  # NaN: scikit-learn refuses it
        get_metric("roc_auc").compute(BINARY, np.where(SCORES > 0.5, np.nan, SCORES))
    with pytest.raises(ValueError):
        get_metric("log_loss").compute(BINARY, SCORES + 1)
    with pytest.raises(ValueError):
        get_metric("rmse").compute(Y_REG, np.append(P_REG[:-1], np.inf))
    negative = np.array([-1, 0, 1, -1])  # not codes the scorer makes: scikit-learn decides
    assert get_metric("f1_macro").compute(negative, negative) == 1.0


def test_one_ranking_order_for_every_board():
    import datetime as dt

    from challenges.ranking import ranking_of

    t = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    rows = [(0.9, t, 3), (0.9, t, 2), (0.95, t + dt.timedelta(1), 9), (0.9, t - dt.timedelta(1), 7)]

    def challenge(metric, scoring=None):
        return SimpleNamespace(slug="c", metric=metric, scoring=scoring)

    up = sorted(rows, key=lambda r: ranking_of(challenge("accuracy")).sort_key(*r))
    assert [r[2] for r in up] == [9, 7, 2, 3]
    down = sorted(rows, key=lambda r: ranking_of(challenge("rmse")).sort_key(*r))
    assert [r[2] for r in down] == [7, 2, 3, 9]
    # A scoring program's declared direction ranks its boards.
    title = {"en": "WER", "zh": "词错误率"}
    wer = {"metrics": [{"name": "wer", "title": title, "higher_is_better": False}]}
    down = sorted(rows, key=lambda r: ranking_of(challenge("wer", wer)).sort_key(*r))
    assert [r[2] for r in down] == [7, 2, 3, 9]
    with pytest.raises(ValueError):
        ranking_of(challenge("bleu", wer))
