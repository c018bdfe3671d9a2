"""Reading a team's predictions safely and scoring them against the hidden labels.

Files (UTF-8, optionally with a BOM, comma-separated, one header line):

- labels (trusted, from the sponsor): ``id,label``;
- predictions (untrusted, written by the team's container): ``id,prediction``, or, for a
  probability metric on three or more classes, ``id`` plus one column per class named after
  the class, in any order. For a binary probability metric ``prediction`` is the probability
  of the positive class: the greater label, see :func:`challenges.metrics.positive_class`.

The predictions must hold exactly the label ids, each once. Ids and label predictions are
compared after stripping surrounding whitespace; a predicted label that is no class simply
counts as wrong. Multi-class probability rows must sum to 1 within ``SUM_TOLERANCE`` and are
rescaled to sum to exactly 1 before scoring.

The work is split: :mod:`evaluator.predictions_file` reads a file safely,
:mod:`evaluator.predictions_csv` parses it strictly, :mod:`evaluator.ids` matches its ids to
the labels', and the metric itself comes from :mod:`challenges.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from challenges.metrics import Metric, label_str, positive_class
from evaluator.ids import align, label_ids, remember
from evaluator.prediction_errors import LabelsError, PredictionError, id_error, repeated, repeats
from evaluator.predictions_csv import SUM_TOLERANCE, parse

__all__ = [
    "MAX_BYTES",
    "SUM_TOLERANCE",
    "LabelsError",
    "PredictionError",
    "Scores",
    "read_labels",
    "read_predictions",
    "score_predictions",
]

MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Scores:
    public: float | None  # None when that side has no rows; NaN when the metric is undefined
    private: float | None
    rows: int
    # A probability metric given only two distinct values (hard 0/1 labels, most likely):
    # scored as asked, and the team is told what that costs them.
    two_values: bool = False


def read_labels(path: Path, *, metric: Metric, max_bytes: int = 1 << 34) -> pd.DataFrame:
    """The trusted ``id,label`` file: ``id`` (str, object dtype) and ``label`` (float for
    regression metrics, otherwise categorical with str categories)."""
    kind = "regression" if metric.kind == "regression" else "label"
    try:
        values, ids = parse(path, ["id", "label"], kind, max_bytes)
    except PredictionError as exc:
        raise LabelsError(f"labels file {path}: {exc}") from None
    frame = _with_ids(values, ids.array())
    if not pd.Index(frame["id"]).is_unique:
        raise LabelsError(f"labels file {path}: ids are not unique")
    if metric.kind == "probability" and len(frame["label"].cat.categories) < 2:
        raise LabelsError(f"labels file {path}: {metric.name} needs at least two classes")
    remember(frame, ids)  # packed from the file already: scoring need not pack them again
    return frame


def read_predictions(
    path: Path,
    *,
    metric: Metric,
    classes: Sequence[str] | None,
    max_bytes: int = MAX_BYTES,
) -> pd.DataFrame:
    """The team's predictions, validated, in file order: ``id`` (str) and ``prediction``
    (categorical of stripped str for label metrics, float otherwise), or one float column per
    class. `classes` (the label classes) is needed for probability metrics."""
    values, found = parse(path, _header(metric, classes), metric.kind, max_bytes)
    ids = found.array()
    duplicated = pd.Index(ids).duplicated()
    if duplicated.any():
        raise id_error(
            path.name, [repeated(ids, duplicated)], repeated=len(repeats(ids, duplicated))
        )
    return _with_ids(values, ids)


def score_predictions(
    predictions_path: Path,
    labels: pd.DataFrame,
    *,
    metric: Metric,
    public: np.ndarray,
    max_bytes: int = MAX_BYTES,
) -> Scores:
    """Score the public and the private rows separately. `labels` is what
    :func:`read_labels` returns; `public` is a bool mask aligned with its rows."""
    public = np.asarray(public, dtype=bool)
    if public.shape != (len(labels),):
        raise ValueError("the public mask must have one entry per label row")
    y_true, classes = _truth(labels, metric)
    frame, ids = parse(predictions_path, _header(metric, classes), metric.kind, max_bytes)
    order = align(predictions_path.name, ids, label_ids(labels))
    y_pred = _predicted(frame, metric, classes)
    if order is not None:
        y_pred = y_pred[order]
    if metric.kind == "probability":
        wrap = (lambda p: pd.DataFrame({1: p})) if y_pred.ndim == 1 else pd.DataFrame
    else:
        wrap = None

    def side(rows: np.ndarray) -> float | None:
        if not len(rows):
            return None
        t, p = (y_true, y_pred) if len(rows) == len(y_true) else (y_true[rows], y_pred[rows])
        return metric.compute(t, wrap(p) if wrap else p)

    return Scores(
        public=side(np.flatnonzero(public)),
        private=side(np.flatnonzero(~public)),
        rows=len(labels),
        two_values=metric.kind == "probability" and _two_values(y_pred),
    )


def _two_values(p: np.ndarray) -> bool:
    """At most two distinct values (two passes, no sort: cheap on a million rows)."""
    if p.size == 0:
        return False
    low, high = p.min(), p.max()
    return bool(((p == low) | (p == high)).all())


def _with_ids(values: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    values.insert(0, "id", pd.Series(ids, dtype=object))
    return values


def _truth(labels: pd.DataFrame, metric: Metric) -> tuple[np.ndarray, list[str] | None]:
    """(y_true, classes): floats and None for regression, else integer class codes."""
    if metric.kind == "regression":
        return labels["label"].to_numpy(dtype=np.float64), None
    column = labels["label"]
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = pd.Series(pd.Categorical([label_str(v) for v in column]))
    classes = [str(c) for c in column.cat.categories]
    codes = column.cat.codes.to_numpy()
    if metric.kind != "probability":
        return codes, classes
    if len(classes) < 2:
        raise LabelsError(f"{metric.name} needs at least two classes in the labels")
    if len(classes) == 2:  # scored as 0/1 against the positive class's probability
        return (codes == classes.index(positive_class(classes))).astype(np.int8), classes
    return codes, classes


def _header(metric: Metric, classes: Sequence[str] | None) -> list[str] | set[str]:
    if metric.kind != "probability":
        return ["id", "prediction"]
    if classes is None or len(classes) < 2:
        raise ValueError(f"{metric.name} needs the label classes (at least two)")
    if len(classes) == 2:
        return ["id", "prediction"]
    return {label_str(c) for c in classes}


def _predicted(frame: pd.DataFrame, metric: Metric, classes: list[str] | None) -> np.ndarray:
    if metric.kind == "label":
        predicted = frame["prediction"].array
        codes = {c: i for i, c in enumerate(classes or [])}
        for c in predicted.categories:  # other labels are wrong answers, each its own class
            codes.setdefault(c, len(codes))
        return np.asarray([codes[c] for c in predicted.categories], np.int32)[predicted.codes]
    if metric.kind == "regression" or len(classes or []) == 2:
        return frame["prediction"].to_numpy(dtype=np.float64)
    p = frame[[label_str(c) for c in classes or []]].to_numpy(dtype=np.float64)
    return p / p.sum(axis=1, keepdims=True)
