"""Strict parsing of a predictions or labels CSV file: its header, rows and values.

Parsing is vectorised: numpy finds the row structure, the ids and label values in the raw
bytes, and pandas' C parser reads numbers. Files with quoted fields or bare ``\\r`` line ends
take a slower path through the csv module. Memory use is a small multiple of the file size.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluator.ids import Ids, packed_words
from evaluator.messages import message
from evaluator.prediction_errors import (
    PredictionError,
    at,
    bad_value,
    clip,
    empty,
    not_csv,
    ragged,
)
from evaluator.predictions_file import read_text

SUM_TOLERANCE = 0.01
_NUMBER = re.compile(r"[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)", re.I)
_NEWLINE, _COMMA, _CR = ord("\n"), ord(","), ord("\r")


def parse(
    path: Path, header: list[str] | set[str], kind: str, max_bytes: int
) -> tuple[pd.DataFrame, Ids]:
    """Read, check and parse one file: (values, ids). `header` is the exact header, or for
    multi-class probabilities the set of class columns that must follow ``id``. Values are
    floats, or for `kind` "label" a categorical of stripped str."""
    name = path.name
    data = read_text(path, max_bytes)
    end = data.find(b"\n")
    head, body = (data, b"") if end < 0 else (data[:end], data[end + 1 :])
    try:
        fields = [f.strip() for f in next(csv.reader([head.decode().rstrip("\r")]), [])]
    except csv.Error:  # e.g. lines ended by a bare "\r": the whole file is one "line"
        raise not_csv(name) from None
    columns = _check_header(fields, header, name)
    body = _trimmed(body, name)
    if b'"' in body or (b"\r" in body and body.count(b"\r") != body.count(b"\r\n")):
        ids, lines = _rows_csv(body, len(fields), name)
        values = _values(body, fields, columns, kind, lines, name)
    else:
        rows = _rows_fast(body, len(fields), name)
        ids, values = rows.ids, None
        if kind == "label" and len(columns) == 1:
            values = _labels_fast(rows, columns[0], name)
        if values is None:
            values = _values(body, fields, columns, kind, None, name)
    if len(values) != ids.count:  # pandas and the csv module disagree on some quoting
        raise not_csv(name)
    return values, ids


def _check_header(fields: list[str], header: list[str] | set[str], name: str) -> list[str]:
    if isinstance(header, list):
        if fields != header:
            raise PredictionError(
                "header",
                "output.header",
                file=name,
                expected=",".join(header),
                found=clip(",".join(fields)),
            )
        return header[1:]
    columns = fields[1:]
    unknown = [c for c in columns if c not in header]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    missing = len(header - set(columns))
    if fields[:1] == ["id"] and not (unknown or repeated or missing):
        return columns
    problems = [] if fields[:1] == ["id"] else [message("output.first_column")]
    if unknown:
        problems.append(message("output.unknown_columns", names=_names(unknown)))
    if repeated:
        problems.append(message("output.repeated_columns", names=_names(repeated)))
    if missing:
        problems.append(message("output.missing_columns", count=missing))
    raise PredictionError(
        "header", "output.class_header", file=name, classes=len(header), problems=problems
    )


def _names(columns: list[str]) -> str:
    return ", ".join(f'"{clip(c)}"' for c in columns[:5])


def _trimmed(body: bytes, name: str) -> bytes:
    """The rows, ending in exactly one line end (trailing blank lines are dropped)."""
    end = len(body)
    while end and body[end - 1] in b"\r\n":
        end -= 1
    if not end:
        raise PredictionError("no_rows", "output.no_rows", file=name)
    return body if body[end:] in (b"\n", b"\r\n") else body[:end] + b"\n"


@dataclass
class _Rows:
    """What the fast path found: the ids, and where each line's last field lies."""

    ids: Ids
    raw: np.ndarray
    last_commas: np.ndarray
    newlines: np.ndarray


def _rows_fast(body: bytes, width: int, name: str) -> _Rows:
    """The ids, after checking every line has `width` fields (no quotes in `body`)."""
    raw = np.frombuffer(body, dtype=np.uint8)
    separators = np.flatnonzero(raw <= _COMMA)  # one pass; ',' and '\n' are both below '-'
    kinds = raw[separators]
    is_separator = (kinds == _NEWLINE) | (kinds == _COMMA)
    if not is_separator.all():  # spaces, tabs, \r and the like
        separators, kinds = separators[is_separator], kinds[is_separator]
    is_newline = kinds == _NEWLINE
    n = int(np.count_nonzero(is_newline))
    # n lines of `width` separators, each ending in its newline: every line has width - 1 commas
    if len(separators) != n * width or not is_newline[width - 1 :: width].all():
        newlines, commas = separators[is_newline], separators[~is_newline]
        fields = np.bincount(np.searchsorted(newlines, commas), minlength=n) + 1
        row = int(np.flatnonzero(fields != width)[0])
        start = int(newlines[row - 1]) + 1 if row else 0
        raise ragged(name, row + 2, int(fields[row]), width, body[start : newlines[row]])
    grid = separators.reshape(n, width)
    newlines, id_ends = grid[:, -1], grid[:, 0]
    starts = np.empty(n, dtype=np.int64)
    starts[0], starts[1:] = 0, newlines[:-1] + 1
    lengths = id_ends - starts
    if not lengths.all():
        raise empty(name, int(np.argmin(lengths)) + 2, "id")
    words = packed_words(raw, starts, lengths)
    if words is not None and not (
        (b" " in body or b"\t" in body) and np.isin(words.view(np.uint8), (32, 9)).any()
    ):
        ids = Ids(n, words=words, lengths=lengths)
    else:  # ids to strip, or one very long id
        spans = zip(starts.tolist(), id_ends.tolist(), strict=True)
        text = [body[s:e].decode().strip() for s, e in spans]
        if not all(text):
            raise empty(name, text.index("") + 2, "id")
        ids = Ids.of_strings(np.array(text, dtype=object))
    return _Rows(ids, raw, grid[:, -2], newlines)


def _rows_csv(body: bytes, width: int, name: str) -> tuple[Ids, np.ndarray]:
    """The ids and each row's line number, for files with quotes or bare ``\\r``."""
    reader = csv.reader(io.StringIO(body.decode(), newline=""))
    ids, lines = [], []
    try:
        for row in reader:
            line = reader.line_num + 1
            if len(row) != width:
                raise ragged(name, line, len(row), width, ",".join(row).encode())
            ids.append(row[0].strip())
            if not ids[-1]:
                raise empty(name, line, "id")
            lines.append(line)
    except csv.Error as exc:
        raise at(name, reader.line_num + 1, "csv", "output.csv_line", detail=str(exc)) from None
    return Ids.of_strings(np.array(ids, dtype=object)), np.array(lines)


def _labels_fast(rows: _Rows, column: str, name: str) -> pd.DataFrame | None:
    """The label column, told apart by its bytes; None when a value is very long."""
    starts = rows.last_commas + 1
    ends = rows.newlines - (rows.raw[rows.newlines - 1] == _CR)
    words = packed_words(rows.raw, starts, ends - starts)
    if words is None:
        return None
    # Values hold no NUL byte, so zero-padded words tell them apart.
    codes = pd.factorize(words[:, 0])[0]
    for j in range(1, words.shape[1]):
        word_codes, uniques = pd.factorize(words[:, j])
        codes = pd.factorize(codes * len(uniques) + word_codes)[0]
    # Codes number the values in order of first appearance, so the running maximum of the
    # codes steps up exactly at each value's first row.
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    spans = zip(starts[first].tolist(), ends[first].tolist(), strict=True)
    uniques = [rows.raw[s:e].tobytes().decode() for s, e in spans]
    return _label_column(codes, uniques, column, lambda row: row + 2, name)


def _values(
    body: bytes,
    fields: list[str],
    columns: list[str],
    kind: str,
    lines: np.ndarray | None,
    name: str,
) -> pd.DataFrame:
    def read(names: list[str], dtype: object) -> pd.DataFrame:
        return pd.read_csv(
            io.BytesIO(body),
            header=None,
            names=fields,
            usecols=names,
            index_col=False,
            dtype=dict.fromkeys(names, dtype),
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )

    def line(row: int) -> int:
        return int(lines[row]) if lines is not None else int(row) + 2

    numeric = kind != "label"
    try:
        # Labels as object, not "category": pandas would turn "01" and "1.0" into 1.0.
        frame = read(columns, np.float64 if numeric else object)
    except ValueError:
        for column in columns if numeric else []:  # find the line pandas refused
            for row, text in enumerate(read([column], object)[column].tolist()):
                value = text.strip()
                if not value:
                    raise empty(name, line(row), column) from None
                if not _NUMBER.fullmatch(value):
                    raise at(
                        name,
                        line(row),
                        "not_a_number",
                        "output.not_a_number",
                        column=clip(column),
                        value=clip(value),
                    ) from None
                if math.isnan(float(value)):
                    raise bad_value(name, line(row), value, column, kind) from None
        raise not_csv(name) from None
    frame = frame[columns]
    if not numeric:
        column = frame.columns[0]
        codes, uniques = pd.factorize(frame[column].to_numpy(dtype=object))
        return _label_column(codes, list(uniques), column, line, name)
    values = frame.to_numpy()
    bad = ~np.isfinite(values)
    if kind == "probability":
        with np.errstate(invalid="ignore"):
            bad |= (values < 0) | (values > 1)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise bad_value(name, line(row), str(values[row, col]), columns[col], kind)
    if len(columns) > 1:
        sums = values.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
        if len(off):
            raise at(
                name,
                line(off[0]),
                "bad_sum",
                "output.bad_sum",
                sum=float(sums[off[0]]),
            )
    return frame


def _label_column(
    codes: np.ndarray, uniques: list[str], column: str, line: Callable[[int], int], name: str
) -> pd.DataFrame:
    """The label column as a categorical of stripped strings, from each row's code into
    `uniques` (the distinct values as written)."""
    stripped = [u.strip() for u in uniques]
    if "" in stripped:
        blank = [i for i, u in enumerate(stripped) if not u]
        raise empty(name, line(int(np.flatnonzero(np.isin(codes, blank))[0])), column)
    categories = sorted(set(stripped))
    index = {c: i for i, c in enumerate(categories)}
    remap = np.array([index[u] for u in stripped], dtype=np.int32)
    labels = pd.Categorical.from_codes(remap[codes], categories=categories, validate=False)
    return pd.DataFrame({column: labels})
