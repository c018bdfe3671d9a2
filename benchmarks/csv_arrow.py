"""The scoring path rebuilt on pyarrow, for ``benchmarks.csv_readers`` to measure against ours.

:func:`score` does what :func:`evaluator.scoring.score_predictions` does, with
``pyarrow.csv.read_csv`` (explicit column types, no nulls, no blank lines skipped) in place of
the numpy parser, and ``pyarrow.compute`` to strip ids, check values and join the ids to the
labels'. The file is read by the same :func:`evaluator.predictions_file.read_text` (a file's
safety is no CSV question), the header is checked by the same function, refusals are the same
:class:`PredictionError` codes and parameters, and the metric is the same code: only the
parsing, validation and matching differ. Where arrow refuses a file without saying the line
(conversion errors, rows of the wrong width when reading in parallel), the file is read again
as text, on one thread, to find it, as ours falls back to a slower path to name a line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from challenges.metrics import Metric
from evaluator import scoring
from evaluator.messages import message
from evaluator.prediction_errors import (
    PredictionError,
    at,
    bad_value,
    clip,
    empty,
    examples,
    id_error,
    ragged,
    repeated,
    repeats,
)
from evaluator.predictions_csv import _NUMBER, SUM_TOLERANCE, _check_header, _trimmed
from evaluator.predictions_file import read_text


def label_ids(labels: pd.DataFrame) -> pa.Array:
    """The labels' ids as an arrow array: made once per labels frame, as the worker would."""
    return pa.array(labels["id"].to_numpy(dtype=object), type=pa.string())


def score(
    path: Path, labels: pd.DataFrame, ids: pa.Array, *, metric: Metric, public: np.ndarray
) -> scoring.Scores:
    y_true, classes = scoring._truth(labels, metric)
    frame, found = parse(path, scoring._header(metric, classes), metric.kind, scoring.MAX_BYTES)
    order = align(path.name, found, ids)
    y_pred = scoring._predicted(frame, metric, classes)
    if order is not None:
        y_pred = y_pred[order]
    wrap = None
    if metric.kind == "probability":
        wrap = (lambda p: pd.DataFrame({1: p})) if y_pred.ndim == 1 else pd.DataFrame

    def side(rows: np.ndarray) -> float | None:
        if not len(rows):
            return None
        t, p = (y_true, y_pred) if len(rows) == len(y_true) else (y_true[rows], y_pred[rows])
        return metric.compute(t, wrap(p) if wrap else p)

    return scoring.Scores(
        public=side(np.flatnonzero(public)), private=side(np.flatnonzero(~public)), rows=len(labels)
    )


def parse(
    path: Path, header: list[str] | set[str], kind: str, max_bytes: int
) -> tuple[pd.DataFrame, pa.Array]:
    """(values, stripped ids), refusing what :func:`evaluator.predictions_csv.parse` refuses."""
    name = path.name
    data = read_text(path, max_bytes)
    end = data.find(b"\n")
    head, body = (data, b"") if end < 0 else (data[:end], data[end + 1 :])
    fields = [f.strip() for f in next(csv.reader([head.decode().rstrip("\r")]), [])]
    columns = _check_header(fields, header, name)
    body = _trimmed(body, name)
    numeric = kind != "label"
    types = {f: pa.string() for f in fields} | dict.fromkeys(
        columns, pa.float64() if numeric else pa.string()
    )
    try:
        table = _read(body, fields, types, threads=True)
    except pa.ArrowInvalid:
        raise _locate(body, fields, columns, kind, name) from None
    ids = pc.utf8_trim_whitespace(table.column(0).combine_chunks())
    if not pc.all(pc.greater(pc.binary_length(ids), 0)).as_py():
        raise _locate(body, fields, columns, kind, name)
    if not numeric:
        return _labels(table.column(columns[0]).combine_chunks(), columns[0], body, name), ids
    values = np.column_stack([table.column(c).to_numpy() for c in columns])
    bad = ~np.isfinite(values)
    if kind == "probability":
        with np.errstate(invalid="ignore"):
            bad |= (values < 0) | (values > 1)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise bad_value(name, int(row) + 2, str(values[row, col]), columns[col], kind)
    if len(columns) > 1:
        sums = values.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
        if len(off):
            raise at(name, int(off[0]) + 2, "bad_sum", "output.bad_sum", sum=float(sums[off[0]]))
    return pd.DataFrame(values, columns=columns), ids


def _read(body: bytes, fields: list[str], types: dict, *, threads: bool) -> pa.Table:
    return pacsv.read_csv(
        pa.py_buffer(body),
        read_options=pacsv.ReadOptions(column_names=fields, use_threads=threads),
        parse_options=pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=b'"' in body),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
            check_utf8=False,  # read_text checked it, naming the line
        ),
    )


def _labels(column: pa.Array, name_of: str, body: bytes, name: str) -> pd.DataFrame:
    """A categorical of stripped strings with sorted categories, as ours makes."""
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(column))
    dictionary = encoded.dictionary
    if not pc.all(pc.greater(pc.binary_length(dictionary), 0)).as_py():
        raise _locate(body, ["id", name_of], [name_of], "label", name)
    order = pc.sort_indices(dictionary)
    rank = np.empty(len(dictionary), dtype=np.int32)
    rank[order.to_numpy()] = np.arange(len(dictionary), dtype=np.int32)
    codes = rank[encoded.indices.to_numpy()]
    categories = dictionary.take(order).to_pylist()
    labels = pd.Categorical.from_codes(codes, categories=categories, validate=False)
    return pd.DataFrame({name_of: labels})


def _locate(
    body: bytes, fields: list[str], columns: list[str], kind: str, name: str
) -> PredictionError:
    """The first problem, with its line: the file read again as text, on one thread."""
    lines = body.split(b"\n")
    try:
        table = _read(body, fields, dict.fromkeys(fields, pa.string()), threads=False)
    except pa.ArrowInvalid as exc:
        text = str(exc)
        row = int(text.split("Row #", 1)[1].split(":", 1)[0]) if "Row #" in text else 0
        got = int(text.rsplit("got ", 1)[1].split(":", 1)[0]) if "got " in text else 0
        return ragged(name, row + 1, got, len(fields), lines[row - 1] if row else b"")
    rows = table.to_pylist()
    for row, values in enumerate(rows):
        line = row + 2
        if not values["id"].strip():
            if not lines[row].strip(b"\r"):  # a blank line reads as a row of empty fields
                return ragged(name, line, 0, len(fields), b"")
            return empty(name, line, "id")
        for column in columns:
            value = values[column].strip()
            if not value:
                return empty(name, line, column)
            if kind != "label" and not _NUMBER.fullmatch(value):
                return at(
                    name,
                    line,
                    "not_a_number",
                    "output.not_a_number",
                    column=clip(column),
                    value=clip(value),
                )
            if kind != "label" and math.isnan(float(value)):
                return bad_value(name, line, value, column, kind)
    return PredictionError("csv", "output.not_csv", file=name)


def align(name: str, found: pa.Array, labels: pa.Array) -> np.ndarray | None:
    """The predictions row of each label row, or None when in the same order."""
    if len(found) == len(labels) and found.equals(labels):
        return None
    order = pc.index_in(labels, value_set=found)
    if len(found) == len(labels) and order.null_count == 0:
        return order.to_numpy()  # labels are unique: every row of found is used once
    ids = np.asarray(found.to_numpy(zero_copy_only=False), dtype=object)
    known = pc.is_in(found, value_set=labels).to_numpy(zero_copy_only=False)
    duplicated = pd.Index(ids, dtype=object).duplicated()
    wrong = pd.unique(ids[~known])
    missing = np.asarray(labels.filter(pc.is_null(order)).to_pylist(), dtype=object)
    problems = []
    if duplicated.any():
        problems.append(repeated(ids, duplicated))
    if len(wrong):
        problems.append(message("output.unknown_ids", count=len(wrong), examples=examples(wrong)))
    if len(missing):
        problems.append(
            message("output.missing_ids", count=len(missing), examples=examples(missing))
        )
    counts = {"repeated": len(repeats(ids, duplicated)), "unknown": len(wrong)}
    raise id_error(name, problems, **counts, missing=len(missing))
