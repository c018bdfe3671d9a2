"""Metric kernels: numpy computations equal to scikit-learn's, and label helpers.

For the inputs the scorer passes (integer class codes, finite floats) the common metrics run
here as short numpy computations that give scikit-learn's result up to float rounding, many
times faster; tests compare the two on random data. Other inputs go to scikit-learn itself.
The registry that names them is ``challenges.metrics``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

Compute = Callable[[np.ndarray, "np.ndarray | pd.DataFrame"], float]


# --- labels as strings ---------------------------------------------------------------------


def label_str(value: object) -> str:
    """The canonical text of one label: stripped, integral floats without ``.0``."""
    if isinstance(value, bytes):
        value = value.decode()
    elif isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    return str(value).strip()


def sort_labels(labels: Iterable[object]) -> list[str]:
    """Class labels as strings in order: numerically when every label is a number
    (so ``"2" < "10"``), otherwise as strings."""
    keys = sorted({label_str(v) for v in labels})
    try:
        numbers = [float(k) for k in keys]
    except ValueError:
        return keys
    if any(math.isnan(x) for x in numbers):
        return keys
    return [k for _, k in sorted(zip(numbers, keys, strict=True))]


def positive_class(classes: Iterable[object]) -> str:
    """The positive class of a binary problem: the greater label in :func:`sort_labels`
    order, e.g. ``1`` of ``0/1``, ``yes`` of ``no/yes``, ``pos`` of ``neg/pos``."""
    return sort_labels(classes)[-1]


def _strings(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iu":
        return values.astype(str).astype(object)
    return np.array([label_str(v) for v in values.tolist()], dtype=object)


def _label_pair(y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("labels must be one-dimensional")
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return a, b
    return _strings(a), _strings(b)


# --- probabilities -------------------------------------------------------------------------


def _distinct(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind in "iu" and y.size:
        low, high = int(y.min()), int(y.max())
        if high - low <= 1:  # 0/1 codes: both extremes occur, nothing else can
            return np.unique([low, high]).astype(y.dtype)
    return pd.unique(y)


def _binary(y: np.ndarray, positive: object, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if _distinct(y).size > 2:
        raise ValueError("binary probabilities given, but y_true has more than two classes")
    return (y == positive).astype(np.int8), np.asarray(p, dtype=np.float64)


def _probabilities(
    y_true: object, y_pred: np.ndarray | pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, list | None]:
    """(y, scores, classes): binary gives 0/1 `y`, 1-D scores and classes None; multi-class
    gives `y`, one score column per class and the classes sorted as scikit-learn sorts them."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError("y_true must be one-dimensional")
    if not isinstance(y_pred, pd.DataFrame):  # 1-D: the positive class's probability
        p = np.asarray(y_pred, dtype=np.float64)
        if p.ndim != 1:
            raise ValueError("pass a 1-D array or a DataFrame with one column per class")
        if y.dtype.kind not in "iu":
            y = _strings(y)
        present = _distinct(y)
        if present.size != 2:
            raise ValueError(
                "a 1-D probability array needs exactly two classes in y_true; "
                "pass a DataFrame with a column named after the positive class"
            )
        positive = max(present) if y.dtype.kind in "iu" else positive_class(present)
        return (*_binary(y, positive, p), None)

    names = list(y_pred.columns)
    if y.dtype.kind in "iu" and all(isinstance(c, int | np.integer) for c in names):
        keys: list = [int(c) for c in names]
        positive = max(keys)
    else:
        y = _strings(y)
        keys = [label_str(c) for c in names]
        positive = positive_class(keys)
    if len(set(keys)) != len(keys):
        raise ValueError("probability columns must name distinct classes")
    if len(keys) > 1 and not pd.Series(y).isin(keys).all():
        raise ValueError("y_true holds a class that has no probability column")
    if len(keys) <= 2:
        column = keys.index(keys[0] if len(keys) == 1 else positive)
        return (*_binary(y, keys[column], y_pred.iloc[:, column].to_numpy()), None)
    order = sorted(range(len(keys)), key=keys.__getitem__)
    scores = y_pred.iloc[:, order].to_numpy(dtype=np.float64)
    return y, scores, [keys[i] for i in order]


def roc_auc(y_true: np.ndarray, y_pred: np.ndarray | pd.DataFrame) -> float:
    y, scores, classes = _probabilities(y_true, y_pred)
    if classes is None:
        if _finite(scores) and len(y) == len(scores):
            return _binary_auc(y == 1, scores)
        return float(skm.roc_auc_score(y, scores))
    if (
        y.dtype.kind in "iu"
        and _finite(scores)
        and len(y) == len(scores)
        and np.allclose(1, scores.sum(axis=1))  # else scikit-learn refuses them
    ):  # one-vs-rest, macro-averaged
        return float(np.mean([_binary_auc(y == c, scores[:, i]) for i, c in enumerate(classes)]))
    return float(skm.roc_auc_score(y, scores, multi_class="ovr", average="macro", labels=classes))


def _binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic: the share of (positive, negative) pairs where
    the positive scores higher, a tie counting half. Equal to the area under scikit-learn's
    ROC curve, computed exactly in integers and then divided once."""
    n_positive = int(np.count_nonzero(positive))
    n_negative = len(positive) - n_positive
    if not n_positive or not n_negative:
        warnings.warn(
            "Only one class is present in y_true. ROC AUC score is not defined in that case.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return math.nan
    scores = np.asarray(scores, dtype=np.float64)
    twice = _twice_u(positive, scores) if scores.min() >= 0 else _twice_u_any(positive, scores)
    return twice / (2 * n_positive * n_negative)


def _twice_u(positive: np.ndarray, scores: np.ndarray) -> int:
    """Twice the Mann-Whitney U of non-negative scores, from one sort: such floats order as
    their bit patterns, which leave the top bit free to carry the class below the score."""
    keys = (scores.view(np.uint64) << np.uint64(1)) | positive
    keys.sort()
    values = keys >> np.uint64(1)  # -0.0 and 0.0 both become 0
    bounds = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate(([0], bounds, [len(keys)]))  # runs of equal scores
    negatives = np.concatenate(([0], np.cumsum((keys & np.uint64(1)) == 0)))
    before, through = negatives[bounds[:-1]], negatives[bounds[1:]]
    positives = np.diff(bounds) - (through - before)
    # Each positive in a run counts the negatives below the run twice and those in it once.
    return int(positives @ (before + through))


def _twice_u_any(positive: np.ndarray, scores: np.ndarray) -> int:
    above, below = np.sort(scores[positive]), np.sort(scores[~positive])
    return int(np.searchsorted(below, above, "left").sum()) + int(
        np.searchsorted(below, above, "right").sum()
    )


def log_loss(y_true: np.ndarray, y_pred: np.ndarray | pd.DataFrame) -> float:
    y, scores, classes = _probabilities(y_true, y_pred)
    true_class = _true_class_probability(y, scores, classes)
    if true_class is None:
        return float(skm.log_loss(y, scores, labels=[0, 1] if classes is None else classes))
    eps = np.finfo(np.float64).eps  # scikit-learn clips to [eps, 1 - eps]
    return float(np.mean(-np.log(np.clip(true_class, eps, 1 - eps))))


def _true_class_probability(
    y: np.ndarray, scores: np.ndarray, classes: list | None
) -> np.ndarray | None:
    """Each row's probability of its true class, or None for inputs scikit-learn refuses or
    warns about (or that are not integer classes)."""
    if len(y) != len(scores) or not len(y) or not _finite(scores):
        return None
    if scores.min() < 0 or scores.max() > 1:
        return None
    if classes is None:
        return np.where(y == 1, scores, 1 - scores)
    if y.dtype.kind not in "iu" or not all(isinstance(c, int) for c in classes):
        return None
    if not np.isclose(scores.sum(axis=1), 1, rtol=math.sqrt(np.finfo(np.float64).eps)).all():
        return None
    known = np.asarray(classes)
    column = np.minimum(np.searchsorted(known, y), len(known) - 1)
    if not np.array_equal(known[column], y):
        return None
    return scores[np.arange(len(y)), column]


def _finite(values: np.ndarray) -> bool:
    return values.dtype.kind == "f" and bool(np.isfinite(values).all())


# --- labels --------------------------------------------------------------------------------


def _counts(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The confusion matrix of small non-negative integer codes (true in rows), or None."""
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu" or a.shape != b.shape or not a.size:
        return None
    k = max(int(a.max()), int(b.max())) + 1
    if min(int(a.min()), int(b.min())) < 0 or k > 1 << 11:
        return None
    pairs = a.astype(np.intp) * k + b.astype(np.intp)
    return np.bincount(pairs, minlength=k * k).reshape(k, k)


def accuracy(a: np.ndarray, b: np.ndarray) -> float:
    if a.dtype.kind in "iu" and b.dtype.kind in "iu" and a.shape == b.shape and a.size:
        return np.count_nonzero(a == b) / a.size
    return float(skm.accuracy_score(a, b))


def f1(average: str) -> Callable[[np.ndarray, np.ndarray], float]:
    def f1(a: np.ndarray, b: np.ndarray) -> float:
        counts = _counts(a, b)
        if counts is None:
            return float(skm.f1_score(a, b, average=average, zero_division=0.0))
        true, predicted = counts.sum(axis=1), counts.sum(axis=0)
        seen = (true + predicted) > 0  # scikit-learn's labels: those in either array
        scores = 2 * np.diag(counts)[seen] / (true + predicted)[seen]
        return float(np.average(scores, weights=true[seen] if average == "weighted" else None))

    return f1


def balanced_accuracy(a: np.ndarray, b: np.ndarray) -> float:
    counts = _counts(a, b)
    if counts is None:
        return float(skm.balanced_accuracy_score(a, b))
    true, predicted = counts.sum(axis=1), counts.sum(axis=0)
    if ((true == 0) & (predicted > 0)).any():  # as scikit-learn, which then leaves it out
        warnings.warn("y_pred contains classes not in y_true", stacklevel=3)
    present = true > 0
    return float(np.mean(np.diag(counts)[present] / true[present]))


# --- numbers -------------------------------------------------------------------------------


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    if a.ndim == 1 and a.shape == b.shape and a.size and _finite(a) and _finite(b):
        return float(np.sqrt(np.mean((a - b) ** 2)))
    return float(skm.root_mean_squared_error(a, b))


def mae(a: np.ndarray, b: np.ndarray) -> float:
    if a.ndim == 1 and a.shape == b.shape and a.size and _finite(a) and _finite(b):
        return float(np.mean(np.abs(b - a)))
    return float(skm.mean_absolute_error(a, b))


def on_labels(function: Callable[[np.ndarray, np.ndarray], float]) -> Compute:
    def compute(y_true: np.ndarray, y_pred: np.ndarray | pd.DataFrame) -> float:
        return float(function(*_label_pair(y_true, y_pred)))

    return compute


def on_numbers(function: Callable[..., float]) -> Compute:
    def compute(y_true: np.ndarray, y_pred: np.ndarray | pd.DataFrame) -> float:
        a = np.asarray(y_true, dtype=np.float64)
        b = np.asarray(y_pred, dtype=np.float64)
        return float(function(a, b))

    return compute
