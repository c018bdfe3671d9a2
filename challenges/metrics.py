"""The metrics registry: every score on a leaderboard is computed through here, as
scikit-learn computes it.

For the inputs the scorer passes (integer class codes, finite floats) the common metrics run
as short numpy computations (``metric_kernels``) that give scikit-learn's result up to float
rounding, many times faster; tests compare the two on random data. Other inputs go to
scikit-learn itself.

Labels are compared as strings, because hidden labels are read from CSV as text: ``1``,
``1.0`` and ``" 1"`` all mean the class ``"1"``. Arrays where both sides are integers are
compared as they are (same result, much faster) — the scorer passes integer class codes.

Probability metrics (``roc_auc``, ``log_loss``) take ``y_pred`` as either

- a 1-D array: the probability of the positive class, where ``y_true`` has exactly two
  classes and the positive one is the greater (:func:`positive_class`);
- a DataFrame with one column named after a class: that class is the positive one;
- a DataFrame with one column per class, named after the class: two columns are scored as a
  binary problem on the positive class's column, three or more one-vs-rest, macro-averaged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from sklearn import metrics as skm

from challenges import metric_kernels as k
from challenges.metric_kernels import Compute, label_str, positive_class, sort_labels

Kind = Literal["label", "probability", "regression"]
__all__ = ["Compute", "label_str", "positive_class", "sort_labels"]


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    kind: Kind  # what the `prediction` column holds
    compute: Compute  # (y_true, y_pred) -> score
    title_en: str
    title_zh: str


class UnknownMetric(KeyError):
    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(sorted(METRICS))
        super().__init__(f"unknown metric {name!r}; known metrics: {known}")

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> None:
    if metric.kind not in get_args(Kind):
        raise ValueError(f"metric {metric.name!r}: unknown kind {metric.kind!r}")
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is already registered")
    METRICS[metric.name] = metric


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetric(name) from None


@dataclass(frozen=True)
class Declared:
    """A metric a challenge reports: its built-in metric, or one its scoring program
    declares (``scoring.metrics``). Boards show one column each."""

    name: str
    higher_is_better: bool
    title_en: str
    title_zh: str

    def title(self, lang: str) -> str:
        return self.title_zh if lang.startswith("zh") else self.title_en


def declared_metrics(metric: str, scoring: dict | None) -> list[Declared]:
    """What a challenge reports, in board order. ``scoring`` is the stored scoring block
    (``Challenge.scoring``); None means the built-in scorer of ``metric``."""
    if not scoring:
        m = get_metric(metric)
        return [Declared(m.name, m.higher_is_better, m.title_en, m.title_zh)]
    return [
        Declared(
            d["name"], bool(d.get("higher_is_better", True)), d["title"]["en"], d["title"]["zh"]
        )
        for d in scoring["metrics"]
    ]


def better(metric: Metric, a: float | None, b: float | None) -> bool:
    """True if score `a` is strictly better than `b`. None or NaN is never better than
    anything, and any real score is better than None or NaN."""
    if a is None or math.isnan(a):
        return False
    if b is None or math.isnan(b):
        return True
    return a > b if metric.higher_is_better else a < b


# --- the registry --------------------------------------------------------------------------


for _metric in (
    Metric("accuracy", True, "label", k.on_labels(k.accuracy), "Accuracy", "准确率"),
    Metric(
        "balanced_accuracy",
        True,
        "label",
        k.on_labels(k.balanced_accuracy),
        "Balanced accuracy",
        "平衡准确率",
    ),
    Metric("f1_macro", True, "label", k.on_labels(k.f1("macro")), "Macro F1", "宏平均 F1"),
    Metric("f1_weighted", True, "label", k.on_labels(k.f1("weighted")), "Weighted F1", "加权 F1"),
    Metric("roc_auc", True, "probability", k.roc_auc, "ROC AUC", "ROC 曲线下面积"),
    Metric("log_loss", False, "probability", k.log_loss, "Log loss", "对数损失"),
    Metric(
        "rmse", False, "regression", k.on_numbers(k.rmse), "Root mean squared error", "均方根误差"
    ),
    Metric("mae", False, "regression", k.on_numbers(k.mae), "Mean absolute error", "平均绝对误差"),
    Metric("r2", True, "regression", k.on_numbers(skm.r2_score), "R²", "决定系数 R²"),
):
    register(_metric)
