"""The files ``benchmarks.csv_readers`` measures: large cases made deterministically, and the
test suite's small refusals and oddities."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    metric: str
    labels: str  # keys of the generated files
    predictions: str


CASES = [
    Case("label (accuracy)", "accuracy", "labels:classes", "classes"),
    Case("label, text ids and labels", "accuracy", "labels:text", "text"),
    Case("probability, binary (roc_auc)", "roc_auc", "labels:binary", "binary"),
    Case("probability, 5 class columns", "log_loss", "labels:multi", "multi"),
    Case("regression (rmse)", "rmse", "labels:regression", "regression"),
    Case("binary, rows shuffled", "roc_auc", "labels:binary", "shuffled"),
    Case("every field quoted", "rmse", "labels:regression", "quoted"),
    Case("BOM and CRLF", "accuracy", "labels:classes", "bom-crlf"),
    Case("a 1 MB line (one prediction)", "accuracy", "labels:classes", "long-line"),
    Case("a repeated id (last row)", "roc_auc", "labels:binary", "duplicate"),
    Case("1,000 ids missing", "roc_auc", "labels:binary", "missing"),
    Case("nan in the last row", "rmse", "labels:regression", "nan"),
    Case("inf in a class column", "log_loss", "labels:multi", "inf"),
    Case("not UTF-8 in the last row", "rmse", "labels:regression", "latin-1"),
]


def generate(folder: Path, n: int) -> dict[str, Path]:
    """Labels and predictions files of `n` rows, by key (``labels:`` and the labels' name)."""
    rng = np.random.default_rng(20241205)
    folder.mkdir(parents=True, exist_ok=True)
    ids = (10_000_000 + np.arange(n)).astype(str).astype(object)
    texts = np.array([f"row-{i:07d}" for i in range(n)], dtype=object)
    names = np.array([f"class-{c}" for c in range(10)], dtype=object)
    y_class = rng.integers(0, 5, n)
    guess = np.where(rng.random(n) < 0.7, y_class, rng.integers(0, 5, n))
    y_binary = rng.integers(0, 2, n)
    p = np.round(np.clip(0.35 * y_binary + 0.65 * rng.random(n), 0, 1), 4).astype(str)
    y_number = np.round(rng.normal(size=n), 4)
    estimate = np.round(y_number + 0.3 * rng.normal(size=n), 4).astype(str)
    multi = rng.random((n, 5)) + 2 * (y_class[:, None] == np.arange(5))
    multi = np.round(multi / multi.sum(axis=1, keepdims=True), 6)
    order = [3, 0, 4, 1, 2]  # class columns in another order than the labels'
    multi_columns = [multi[:, c].astype(str) for c in order]
    shuffled = rng.permutation(n)
    files: dict[str, Path] = {}

    def write(key: str, header: str, columns: list[np.ndarray], *, end: str = "\n") -> None:
        lines = map(",".join, zip(*columns, strict=True))
        path = folder / f"{key.replace(':', '-')}.csv"
        path.write_bytes((header + end + end.join(lines) + end).encode())
        files[key] = path

    def labels(key: str, column: np.ndarray, id_column: np.ndarray = ids) -> None:
        write(f"labels:{key}", "id,label", [id_column, column.astype(str)])

    labels("classes", y_class)
    labels("text", names[y_class], texts)
    labels("binary", y_binary)
    labels("multi", y_class)
    labels("regression", y_number)
    write("classes", "id,prediction", [ids, guess.astype(str)])
    write("text", "id,prediction", [texts, names[guess]])
    write("binary", "id,prediction", [ids, p])
    multi_header = "id," + ",".join(str(c) for c in order)
    write("multi", multi_header, [ids, *multi_columns])
    write("regression", "id,prediction", [ids, estimate])
    write("shuffled", "id,prediction", [ids[shuffled], p[shuffled]])
    quote = np.frompyfunc(lambda s: f'"{s}"', 1, 1)
    write("quoted", '"id","prediction"', [quote(ids), quote(estimate)])
    write("bom-crlf", "\ufeffid,prediction", [ids, guess.astype(str)], end="\r\n")
    long = guess.astype(str).astype(object)
    long[n // 2] = "x" * 1_000_000
    write("long-line", "id,prediction", [ids, long])
    repeated = ids.copy()
    repeated[-1] = ids[0]
    write("duplicate", "id,prediction", [repeated, p])
    write("missing", "id,prediction", [ids[:-1000], p[:-1000]])
    nan = estimate.astype(object)
    nan[-1] = "nan"
    write("nan", "id,prediction", [ids, nan])
    inf = [c.astype(object) for c in multi_columns]
    inf[2][-1] = "inf"
    write("inf", multi_header, [ids, *inf])
    write("latin-1", "id,prediction", [ids, estimate])
    path = files["latin-1"]
    path.write_bytes(path.read_bytes()[:-2] + b"\xe9\n")
    return files


# --- the test suite's cases, small ---------------------------------------------------------

_N = 40
_IDS = [f"r{i:03d}" for i in range(_N)]
_P = [f"{x:.4f}" for x in np.random.default_rng(5).random(_N)]
_BINARY = "id,label\n" + "".join(f"{i},{'ab'[(n * 7 // 3) % 2]}\n" for n, i in enumerate(_IDS))
_MULTI = "id,label\n" + "".join(f"{i},{'abc'[(n // 2) % 3]}\n" for n, i in enumerate(_IDS))
_NUMBERS = "id,label\n" + "".join(f"{i},1.0\n" for i in _IDS)


def _rows(rows: list[tuple[str, ...]], header: str = "id,prediction", end: str = "\n") -> bytes:
    return (header + end + "".join(",".join(r) + end for r in rows)).encode()


def _good() -> list[tuple[str, str]]:
    return list(zip(_IDS, _P, strict=True))


def _with(row: int, *values: str) -> bytes:
    rows = _good()
    rows[row] = values
    return _rows(rows)


def _lines(edit) -> bytes:
    lines = _rows(_good()).decode().splitlines()
    edit(lines)
    return ("\n".join(lines) + "\n").encode()


def _set(index: int, text: str):
    def edit(lines: list[str]) -> None:
        lines[index] = text

    return edit


def _swap_widths(lines: list[str]) -> None:
    lines[3], lines[6] = lines[3] + ",0.1", lines[6].split(",")[0]


_QUOTED_CRLF = "id,prediction\r\n" + "".join(f'"{i}",{p}\r\n' for i, p in _good()) + "\r\n\r\n"

SMALL: list[tuple[str, str, str, bytes]] = [
    ("good", "roc_auc", _BINARY, _rows(_good())),
    (
        "BOM, CRLF, quotes, trailing blank lines",
        "roc_auc",
        _BINARY,
        b"\xef\xbb\xbf" + _QUOTED_CRLF.encode(),
    ),
    ("rows in another order", "roc_auc", _BINARY, _rows(_good()[::-1])),
    (
        "ids and values with spaces",
        "roc_auc",
        _BINARY,
        _rows([(f" {i}\t", f" {p} ") for i, p in _good()]),
    ),
    (
        "label predictions stripped, unknown",
        "accuracy",
        _BINARY,
        _rows([(i, [" a", "b ", "zz"][n % 3]) for n, i in enumerate(_IDS)]),
    ),
    ("numeric-looking labels stay text", "accuracy", _BINARY, _rows([(i, "1.0") for i in _IDS])),
    (
        "3 classes, columns in another order",
        "log_loss",
        _MULTI,
        _rows([(i, "0.2", "0.5", "0.3") for i in _IDS], "id,c,a,b"),
    ),
    (
        "rows off by rounding",
        "log_loss",
        _MULTI,
        _rows([(i, "0.333", "0.333", "0.333") for i in _IDS], "id,a,b,c"),
    ),
    (
        "rows that do not sum to 1",
        "log_loss",
        _MULTI,
        _rows([(i, "0.5", "0.5", "0.5") for i in _IDS], "id,a,b,c"),
    ),
    ("wrong class column", "log_loss", _MULTI, _rows([(i, "0.5", "0.5") for i in _IDS], "id,a,bb")),
    ("3 ids missing", "roc_auc", _BINARY, _rows(_good()[:-3])),
    (
        "repeated ids",
        "roc_auc",
        _BINARY,
        _rows([*_good(), (_IDS[4], "0.5"), (_IDS[4], "0.5"), (_IDS[9], "0.1")]),
    ),
    (
        "7 unknown ids",
        "roc_auc",
        _BINARY,
        _rows([*_good(), *((f"zz{i}", "0.5") for i in range(7))]),
    ),
    (
        "every id problem at once",
        "roc_auc",
        _BINARY,
        _rows([*_good()[1:], ("r005", "0.2"), ("nope", "0.1")]),
    ),
    ("empty id", "roc_auc", _BINARY, _with(2, "", "0.5")),
    *(
        (f"probability {v!r}", "roc_auc", _BINARY, _with(5, _IDS[5], v))
        for v in [
            "nan",
            "inf",
            "-Infinity",
            "",
            "high",
            "0.5.1",
            "1.5",
            "-0.01",
            "NaN",
            "0x1p-2",
            "1_0",
        ]
    ),
    ("regression 1e999", "rmse", _NUMBERS, _with(3, _IDS[3], "1e999")),
    (
        "blank label prediction",
        "accuracy",
        _BINARY,
        _rows([(i, "  " if n == 6 else "a") for n, i in enumerate(_IDS)]),
    ),
    *(
        (f"header {h!r}", "roc_auc", _BINARY, _rows(_good(), h))
        for h in ["id,predictions", "prediction,id", "id", "id,prediction,extra", "ID,prediction"]
    ),
    *(
        (f"ragged line {t!r}", "roc_auc", _BINARY, _lines(_set(3, t)))
        for t in ["r002,0.5,0.1", "r002", "", '"r002",0.5,1', ",", " "]
    ),
    ("a long and a short line", "roc_auc", _BINARY, _lines(_swap_widths)),
    ("ragged among CRs", "rmse", _NUMBERS, b"id,prediction\r\nr000,1\r\nr001\r\nr002,1\r\n"),
    ("ragged among tabs", "rmse", _NUMBERS, b"id,prediction\nr000,1\nr001\t1\nr002,1\n"),
    (
        "bare CR line ends",
        "rmse",
        _NUMBERS,
        ("id,prediction\r" + "".join(f"{i},1\r" for i in _IDS)).encode(),
    ),
    ("a quoted newline in an id", "roc_auc", _BINARY, _with(3, '"r0\n03"', "0.5")),
    ("an unterminated quote", "roc_auc", _BINARY, _with(3, '"r003', "0.5")),
    ("not UTF-8", "roc_auc", _BINARY, _rows(_good()).replace(b"r003", b"r\xff03")),
    ("NUL byte", "roc_auc", _BINARY, _rows(_good()).replace(b"r003", b"r\x0003")),
    ("empty file", "roc_auc", _BINARY, b""),
    ("only a BOM and a space", "roc_auc", _BINARY, b"\xef\xbb\xbf \n"),
    ("only the header", "roc_auc", _BINARY, b"id,prediction\n"),
    ("a blank line among rows", "roc_auc", _BINARY, _lines(lambda lines: lines.insert(5, ""))),
]


def small_files(folder: Path) -> Iterator[tuple[Case, dict[str, Path]]]:
    folder.mkdir(parents=True, exist_ok=True)
    for n, (name, metric, labels, predictions) in enumerate(SMALL):
        (folder / f"labels-{n}.csv").write_text(labels)
        (folder / f"predictions-{n}.csv").write_bytes(predictions)
        files = {"l": folder / f"labels-{n}.csv", "p": folder / f"predictions-{n}.csv"}
        yield Case(name, metric, "l", "p"), files
