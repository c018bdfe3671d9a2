"""The vectorised parser against the csv module's: quoting every field sends a file down the
csv path, so the same rows must come out of both."""

import numpy as np
import pandas as pd
import pytest

from challenges.metrics import get_metric
from evaluator.prediction_errors import PredictionError
from evaluator.predictions_csv import parse

LABEL_VALUES = ["a", " a", "b\t", "ccccccccc", "dé", "行列-with-more-than-16-bytes", "01", "1.0"]


def _file(path, header, rows, *, quoted=False, crlf=False):
    end = "\r\n" if crlf else "\n"

    def field(text):
        return '"' + text + '"' if quoted else text

    lines = [",".join(header)] + [",".join(map(field, row)) for row in rows]
    path.write_bytes((end.join(lines) + end).encode())
    return path


def _both(tmp_path, header, rows, kind, crlf=False):
    fast = parse(_file(tmp_path / "fast.csv", header, rows, crlf=crlf), header, kind, 1 << 30)
    slow = _file(tmp_path / "slow.csv", header, rows, quoted=True, crlf=crlf)
    return fast, parse(slow, header, kind, 1 << 30)


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_label_values_are_the_same_on_both_paths(tmp_path, seed, crlf):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    ids = [f"{' ' if i % 7 == 0 else ''}id-{i}" for i in range(n)]
    values = rng.choice(LABEL_VALUES, size=n)
    (fast, fast_ids), (slow, slow_ids) = _both(
        tmp_path, ["id", "prediction"], list(zip(ids, values, strict=True)), "label", crlf
    )
    assert fast_ids.array().tolist() == slow_ids.array().tolist() == [i.strip() for i in ids]
    assert list(fast["prediction"].cat.categories) == list(slow["prediction"].cat.categories)
    assert fast["prediction"].tolist() == slow["prediction"].tolist() == [v.strip() for v in values]


@pytest.mark.parametrize("seed", range(4))
def test_numbers_are_the_same_on_both_paths(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    p = rng.random((n, 3))
    p /= p.sum(axis=1, keepdims=True)
    rows = [(f"r{i}", *(repr(float(x)) for x in p[i])) for i in range(n)]
    header = ["id", "b", "a", "c"]
    (fast, fast_ids), (slow, slow_ids) = _both(tmp_path, header, rows, "probability")
    assert fast_ids.array().tolist() == slow_ids.array().tolist()
    pd.testing.assert_frame_equal(fast, slow)
    assert np.array_equal(fast.to_numpy(), p)  # repr() round-trips exactly


def test_a_very_long_label_value_takes_the_pandas_path(tmp_path):
    rows = [(f"r{i}", "yes" if i % 2 else "no") for i in range(20_000)]
    rows[5] = ("r5", "x" * 300)
    path = _file(tmp_path / "p.csv", ["id", "prediction"], rows)
    values, ids = parse(path, ["id", "prediction"], "label", 1 << 30)
    assert ids.count == 20_000 and values["prediction"].tolist()[4:7] == ["no", "x" * 300, "no"]


def test_blank_label_after_stripping_names_its_line(tmp_path):
    rows = [("a", "yes"), ("b", " \t"), ("c", "")]
    with pytest.raises(PredictionError) as caught:
        parse(
            _file(tmp_path / "p.csv", ["id", "prediction"], rows),
            ["id", "prediction"],
            "label",
            1 << 20,
        )
    assert caught.value.code == "empty" and caught.value.params["line"] == 3


@pytest.mark.parametrize(
    ("body", "line", "fields"),
    [
        ("a,1\nb, 2,3\nc,1\n", 3, 3),  # a space does not hide a comma
        ("a,1\r\nb\r\nc,1\r\n", 3, 1),
        ("a,1\nb\t1\nc,1\n", 3, 1),
    ],
)
def test_ragged_lines_are_found_among_spaces_tabs_and_crs(tmp_path, body, line, fields):
    path = tmp_path / "p.csv"
    path.write_text("id,prediction\n" + body, newline="")
    with pytest.raises(PredictionError) as caught:
        parse(path, ["id", "prediction"], "regression", 1 << 20)
    assert caught.value.code == "ragged"
    assert caught.value.params["line"] == line and caught.value.params["fields"] == fields


def test_labels_read_from_a_file_match_the_metric_classes(tmp_path):
    path = _file(tmp_path / "labels.csv", ["id", "label"], [("a", "b"), ("c", "a"), ("d", "b")])
    values, ids = parse(path, ["id", "label"], "label", 1 << 20)
    assert ids.array().tolist() == ["a", "c", "d"]
    assert values["label"].cat.codes.tolist() == [1, 0, 1]
    assert get_metric("accuracy").kind == "label"


def test_lines_ended_by_a_bare_cr_are_refused_not_a_crash(tmp_path):
    path = tmp_path / "predictions.csv"
    path.write_bytes(b"id,prediction\r1,0\r2,1\r")
    with pytest.raises(PredictionError) as caught:
        parse(path, ["id", "prediction"], "label", 1 << 20)
    assert caught.value.code == "csv"
