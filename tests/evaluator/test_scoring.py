import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from challenges.metrics import get_metric
from evaluator.scoring import (
    LabelsError,
    PredictionError,
    Scores,
    read_labels,
    read_predictions,
    score_predictions,
)

N = 40
IDS = [f"r{i:03d}" for i in range(N)]
# Label values that appear nowhere else, so a leak into a message is easy to see.
SECRET_CLASSES = ["kestrel", "osprey"]
TRUTH = np.array([SECRET_CLASSES[(i * 7 // 3) % 2] for i in range(N)])
PUBLIC = np.array([i % 3 == 0 for i in range(N)])
RNG = np.random.default_rng(5)
P = np.round(RNG.random(N), 4)


@pytest.fixture
def binary_labels(tmp_path) -> Path:
    return _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(IDS, TRUTH, strict=True)))


def _csv(header, rows) -> str:
    return "\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n"


def _write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _score(path, labels_path, metric="roc_auc", public=PUBLIC, **kw) -> Scores:
    m = get_metric(metric)
    return score_predictions(
        path, read_labels(labels_path, metric=m), metric=m, public=public, **kw
    )


def _refused(path, labels_path, metric="roc_auc", **kw) -> PredictionError:
    with pytest.raises(PredictionError) as caught:
        _score(path, labels_path, metric, **kw)
    for secret in SECRET_CLASSES:
        assert secret not in str(caught.value)
    return caught.value


def _probabilities(tmp_path, rows=None, name="predictions.csv") -> Path:
    rows = list(zip(IDS, P, strict=True)) if rows is None else rows
    return _write(tmp_path / name, _csv(["id", "prediction"], rows))


def _by_hand(metric, truth, pred, mask):
    return metric(truth[mask], pred[mask]), metric(truth[~mask], pred[~mask])


# --- good files ----------------------------------------------------------------------------


def test_public_and_private_rows_are_scored_separately(tmp_path, binary_labels):
    scores = _score(_probabilities(tmp_path), binary_labels)
    positive = (TRUTH == "osprey").astype(int)  # the greater label
    public, private = _by_hand(skm.roc_auc_score, positive, P, PUBLIC)
    assert scores == Scores(public=pytest.approx(public), private=pytest.approx(private), rows=N)
    assert scores.public != pytest.approx(scores.private)


def test_row_order_does_not_matter(tmp_path, binary_labels):
    order = np.random.default_rng(1).permutation(N)
    rows = [(IDS[i], P[i]) for i in order]
    shuffled = _score(_probabilities(tmp_path, rows), binary_labels, "log_loss")
    assert shuffled == _score(_probabilities(tmp_path), binary_labels, "log_loss")
    positive = (TRUTH == "osprey").astype(int)
    public, _ = _by_hand(lambda t, p: skm.log_loss(t, p, labels=[0, 1]), positive, P, PUBLIC)
    assert shuffled.public == pytest.approx(public)


def test_long_ids_in_any_order(tmp_path):
    ids = [f"{'x' * 70}-{i}" for i in range(N)]  # too long for the fast matcher
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(ids, TRUTH, strict=True)))
    order = np.random.default_rng(2).permutation(N)
    rows = [(ids[i], TRUTH[i]) for i in order]
    path = _write(tmp_path / "predictions.csv", _csv(["id", "prediction"], rows))
    assert _score(path, labels, "accuracy") == Scores(1.0, 1.0, N)


def test_label_predictions_compare_as_stripped_strings(tmp_path):
    labels = _write(
        tmp_path / "labels.csv", _csv(["id", "label"], [(i, n % 3) for n, i in enumerate(IDS)])
    )
    pred = [(f" {i} ", f" {n % 3}\t") if n % 2 else (i, str(n % 3)) for n, i in enumerate(IDS)]
    path = _write(tmp_path / "predictions.csv", _csv(["id", "prediction"], pred))
    assert _score(path, labels, "f1_macro") == Scores(1.0, 1.0, N)


def test_wrong_and_unknown_labels_count_as_wrong(tmp_path, binary_labels):
    guesses = ["kestrel"] * (N - 4) + ["eagle"] * 4
    path = _write(
        tmp_path / "predictions.csv", _csv(["id", "prediction"], zip(IDS, guesses, strict=True))
    )
    scores = _score(path, binary_labels, "f1_macro")
    expected = _by_hand(
        lambda t, p: skm.f1_score(t, p, average="macro", zero_division=0),
        TRUTH,
        np.array(guesses),
        PUBLIC,
    )
    assert (scores.public, scores.private) == pytest.approx(expected)


def test_multi_class_probabilities_in_any_column_order(tmp_path):
    classes = ["cat", "dog", "eel"]
    truth = np.array([classes[(i + i // 3) % 3] for i in range(N)])  # all on each side
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(IDS, truth, strict=True)))
    probs = RNG.random((N, 3))
    probs /= probs.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(probs, columns=classes).assign(id=IDS)[["id", "eel", "cat", "dog"]]
    frame.to_csv(tmp_path / "predictions.csv", index=False)
    for metric, by_hand in (
        ("log_loss", lambda t, p: skm.log_loss(t, p, labels=classes)),
        ("roc_auc", lambda t, p: skm.roc_auc_score(t, p, multi_class="ovr", labels=classes)),
    ):
        scores = _score(tmp_path / "predictions.csv", labels, metric)
        assert (scores.public, scores.private) == pytest.approx(
            _by_hand(by_hand, truth, probs, PUBLIC)
        )
    read = read_predictions(
        tmp_path / "predictions.csv", metric=get_metric("log_loss"), classes=classes
    )
    assert list(read.columns) == ["id", "eel", "cat", "dog"] and len(read) == N


def test_multi_class_rows_off_by_rounding_are_rescaled(tmp_path):
    classes = ["a", "b", "c"]
    truth = np.array([classes[(i // 2) % 3] for i in range(N)])
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(IDS, truth, strict=True)))
    path = _write(
        tmp_path / "p.csv", _csv(["id", *classes], [(i, 0.333, 0.333, 0.333) for i in IDS])
    )
    scores = _score(path, labels, "log_loss")
    assert scores.public == pytest.approx(np.log(3))
    bad = _write(tmp_path / "p.csv", _csv(["id", *classes], [(i, 0.5, 0.5, 0.5) for i in IDS]))
    error = _refused(bad, labels, "log_loss")
    assert error.code == "bad_sum" and "line 2" in str(error)


def test_regression(tmp_path):
    truth = np.round(RNG.normal(size=N), 3)
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(IDS, truth, strict=True)))
    pred = np.round(truth + RNG.normal(size=N) * 0.1, 3)
    path = _write(
        tmp_path / "predictions.csv", _csv(["id", "prediction"], zip(IDS, pred, strict=True))
    )
    for metric, by_hand in (("rmse", skm.root_mean_squared_error), ("r2", skm.r2_score)):
        scores = _score(path, labels, metric)
        assert (scores.public, scores.private) == pytest.approx(
            _by_hand(by_hand, truth, pred, PUBLIC)
        )


def test_a_side_without_rows_is_none(tmp_path, binary_labels):
    path = _probabilities(tmp_path)
    assert _score(path, binary_labels, public=np.zeros(N, bool)).public is None
    everything = _score(path, binary_labels, public=np.ones(N, bool))
    assert everything.private is None
    assert everything.public == pytest.approx(skm.roc_auc_score(TRUTH == "osprey", P))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_a_side_where_the_metric_is_undefined_is_nan(tmp_path):
    truth = ["kestrel" if i % 3 == 0 else SECRET_CLASSES[i % 2] for i in range(N)]
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(IDS, truth, strict=True)))
    scores = _score(_probabilities(tmp_path), labels)  # the public rows hold one class only
    assert np.isnan(scores.public) and 0 <= scores.private <= 1


def test_bom_crlf_quotes_and_trailing_blank_lines_are_accepted(tmp_path, binary_labels):
    expected = _score(_probabilities(tmp_path), binary_labels)
    text = (
        "id,prediction\r\n"
        + "".join(f'"{i}",{p}\r\n' for i, p in zip(IDS, P, strict=True))
        + "\r\n\r\n"
    )
    path = _write(tmp_path / "predictions.csv", b"\xef\xbb\xbf" + text.encode())
    assert _score(path, binary_labels) == expected
    no_final_newline = _probabilities(tmp_path).read_text().rstrip("\n")
    assert (
        _score(_write(tmp_path / "p2.csv", "\ufeff" + no_final_newline), binary_labels) == expected
    )


def test_read_labels_and_read_predictions_types(tmp_path, binary_labels):
    labels = read_labels(binary_labels, metric=get_metric("accuracy"))
    assert labels["id"].dtype == object and labels["id"].tolist() == IDS
    assert list(labels["label"].cat.categories) == SECRET_CLASSES
    read = read_predictions(
        _probabilities(tmp_path), metric=get_metric("roc_auc"), classes=SECRET_CLASSES
    )
    assert read["id"].tolist() == IDS and read["prediction"].to_numpy() == pytest.approx(P)


def test_numeric_looking_labels_stay_text(tmp_path):
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], [("a", "01"), ("b", "1")]))
    path = _write(tmp_path / "p.csv", _csv(["id", "prediction"], [("a", "1"), ("b", "1.0")]))
    assert _score(path, labels, "accuracy", public=np.array([True, False])) == Scores(0.0, 0.0, 2)


def test_bad_labels_files_are_not_the_teams_fault(tmp_path):
    dup = _write(tmp_path / "labels.csv", _csv(["id", "label"], [("a", "x"), ("a", "y")]))
    with pytest.raises(LabelsError, match="not unique"):
        read_labels(dup, metric=get_metric("accuracy"))
    one_class = _write(tmp_path / "labels.csv", _csv(["id", "label"], [("a", "x"), ("b", "x")]))
    with pytest.raises(LabelsError, match="two classes"):
        read_labels(one_class, metric=get_metric("roc_auc"))
    header = _write(tmp_path / "labels.csv", _csv(["id", "truth"], [("a", "x")]))
    with pytest.raises(LabelsError) as caught:
        read_labels(header, metric=get_metric("accuracy"))
    assert not isinstance(caught.value, PredictionError)


# --- ids -----------------------------------------------------------------------------------


def test_missing_ids_are_counted_and_named(tmp_path, binary_labels):
    rows = list(zip(IDS, P, strict=True))[:-3]
    error = _refused(_probabilities(tmp_path, rows), binary_labels)
    assert error.code == "ids"
    assert "3 test ids are missing" in str(error) and '"r037"' in str(error)


def test_duplicate_ids_are_counted_and_named(tmp_path, binary_labels):
    rows = [*zip(IDS, P, strict=True), (IDS[4], 0.5), (IDS[4], 0.5), (IDS[9], 0.1)]
    error = _refused(_probabilities(tmp_path, rows), binary_labels)
    assert "2 ids appear more than once" in str(error)
    assert '"r004"' in str(error) and '"r009"' in str(error)
    with pytest.raises(PredictionError, match="more than once"):
        read_predictions(
            _probabilities(tmp_path, rows), metric=get_metric("roc_auc"), classes=SECRET_CLASSES
        )


def test_extra_ids_are_counted_and_at_most_five_named(tmp_path, binary_labels):
    rows = [*zip(IDS, P, strict=True), *((f"zz{i}", 0.5) for i in range(7))]
    error = _refused(_probabilities(tmp_path, rows), binary_labels)
    assert "7 ids are not test ids" in str(error)
    assert '"zz4"' in str(error) and '"zz5"' not in str(error)


def test_all_id_problems_are_reported_together(tmp_path, binary_labels):
    rows = [*list(zip(IDS, P, strict=True))[1:], ("r005", 0.2), ("nope", 0.1)]
    refused = _refused(_probabilities(tmp_path, rows), binary_labels)
    assert refused.params | {"problems": None} == {
        "file": "predictions.csv",
        "problems": None,
        "repeated": 1,
        "unknown": 1,
        "missing": 1,
    }
    error = str(refused)
    assert "1 ids appear more than once" in error
    assert "1 ids are not test ids" in error
    assert "1 test ids are missing" in error and '"r000"' in error


def test_empty_id_is_refused(tmp_path, binary_labels):
    rows = list(zip(IDS, P, strict=True))
    rows[2] = ("", 0.5)
    error = _refused(_probabilities(tmp_path, rows), binary_labels)
    assert error.code == "empty" and "line 4" in str(error)


# --- malformed files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("nan", "bad_value"),
        ("inf", "bad_value"),
        ("-Infinity", "bad_value"),
        ("", "empty"),
        ("high", "not_a_number"),
        ("0.5.1", "not_a_number"),
        ("1.5", "bad_value"),
        ("-0.01", "bad_value"),
    ],
)
def test_bad_probability_values_name_their_line(tmp_path, binary_labels, value, code):
    rows = list(zip(IDS, P, strict=True))
    rows[5] = (IDS[5], value)
    error = _refused(_probabilities(tmp_path, rows), binary_labels)
    assert error.code == code
    assert error.params["line"] == 7 and "line 7" in str(error)


def test_non_finite_regression_values_are_refused(tmp_path):
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], [(i, 1.0) for i in IDS]))
    rows = [(i, "1e999" if n == 3 else 1.0) for n, i in enumerate(IDS)]
    error = _refused(_write(tmp_path / "p.csv", _csv(["id", "prediction"], rows)), labels, "rmse")
    assert error.code == "bad_value" and "line 5" in str(error)


def test_empty_label_prediction_is_refused(tmp_path, binary_labels):
    rows = [(i, "  " if n == 6 else "osprey") for n, i in enumerate(IDS)]
    path = _write(tmp_path / "p.csv", _csv(["id", "prediction"], rows))
    error = _refused(path, binary_labels, "accuracy")
    assert error.code == "empty" and "line 8" in str(error)


@pytest.mark.parametrize(
    "header", ["id,predictions", "prediction,id", "id", "id,prediction,extra", "ID,prediction"]
)
def test_wrong_header_is_refused(tmp_path, binary_labels, header):
    text = _probabilities(tmp_path).read_text().split("\n", 1)[1]
    error = _refused(_write(tmp_path / "p.csv", header + "\n" + text), binary_labels)
    assert error.code == "header" and '"id,prediction"' in str(error)


def test_wrong_class_columns_do_not_name_the_classes(tmp_path):
    classes = ["cat", "dog", "eel"]
    truth = [classes[(i // 2) % 3] for i in range(N)]
    labels = _write(tmp_path / "labels.csv", _csv(["id", "label"], zip(IDS, truth, strict=True)))
    path = _write(tmp_path / "p.csv", _csv(["id", "cat", "dgo"], [(i, 0.5, 0.5) for i in IDS]))
    error = _refused(path, labels, "log_loss")
    assert error.code == "header" and '"dgo"' in str(error) and "2 class columns" in str(error)
    assert "eel" not in str(error)


@pytest.mark.parametrize(
    ("line", "fields"), [("r002,0.5,0.1", 3), ("r002", 1), ("", 0), ('"r002",0.5,1', 3)]
)
def test_ragged_rows_are_refused_with_their_line(tmp_path, binary_labels, line, fields):
    lines = _probabilities(tmp_path).read_text().splitlines()
    lines[3] = line
    error = _refused(_write(tmp_path / "p.csv", "\n".join(lines) + "\n"), binary_labels)
    assert error.code == "ragged" and "line 4" in str(error)
    if fields:
        assert f"has {fields} fields" in str(error)


def test_not_utf8_is_refused(tmp_path, binary_labels):
    text = _probabilities(tmp_path).read_bytes().replace(b"r003", b"r\xff03")
    error = _refused(_write(tmp_path / "p.csv", text), binary_labels)
    assert error.code == "encoding" and "line 5" in str(error)


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty"), (b"\xef\xbb\xbf \n", "empty"), (b"id,prediction\n", "no_rows")],
)
def test_empty_files_are_refused(tmp_path, binary_labels, content, code):
    assert _refused(_write(tmp_path / "p.csv", content), binary_labels).code == code


# --- the file itself -----------------------------------------------------------------------


def test_missing_file(tmp_path, binary_labels):
    error = _refused(tmp_path / "predictions.csv", binary_labels)
    assert error.code == "missing" and "predictions.csv" in str(error)


def test_symlink_to_the_labels_is_refused_without_reading_it(tmp_path, binary_labels):
    link = tmp_path / "out" / "predictions.csv"
    link.parent.mkdir()
    link.symlink_to(binary_labels)
    error = _refused(link, binary_labels)
    assert error.code == "not_a_file" and error.params["kind"] == "symlink"
    assert str(binary_labels) not in str(error) and "labels" not in str(error)


def test_fifo_is_refused_without_blocking(tmp_path, binary_labels):
    fifo = tmp_path / "predictions.csv"
    os.mkfifo(fifo)
    outcome = {}

    def attempt():
        try:
            _score(fifo, binary_labels)
        except PredictionError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "reading a FIFO blocked"
    assert outcome["error"].code == "not_a_file" and outcome["error"].params["kind"] == "fifo"


def test_directory_is_refused(tmp_path, binary_labels):
    (tmp_path / "predictions.csv").mkdir()
    error = _refused(tmp_path / "predictions.csv", binary_labels)
    assert error.code == "not_a_file" and "directory" in str(error)


def test_device_is_refused(binary_labels):
    error = _refused(Path("/dev/null"), binary_labels)
    assert error.code == "not_a_file" and error.params["kind"] == "device"


def test_oversize_is_refused_before_reading(tmp_path, binary_labels):
    path = _probabilities(tmp_path)
    size = path.stat().st_size
    assert _score(path, binary_labels, max_bytes=size).rows == N
    error = _refused(path, binary_labels, max_bytes=size - 1)
    assert error.code == "too_large" and str(size) in str(error)
    assert error.params == {"file": "predictions.csv", "size": size, "limit": size - 1}


def test_public_mask_must_match_the_labels(tmp_path, binary_labels):
    with pytest.raises(ValueError, match="one entry per label row"):
        _score(_probabilities(tmp_path), binary_labels, public=PUBLIC[:-1])


def test_labels_built_by_hand_with_numbers_work_too(tmp_path):
    labels = pd.DataFrame({"id": np.arange(N), "label": [i % 2 for i in range(N)]})
    rows = [(i, (i + 1) % 2 if i == 0 else i % 2) for i in range(N)]
    path = _write(tmp_path / "p.csv", _csv(["id", "prediction"], rows))
    metric = get_metric("accuracy")
    scores = score_predictions(path, labels, metric=metric, public=PUBLIC)
    assert scores == Scores(public=pytest.approx(1 - 1 / PUBLIC.sum()), private=1.0, rows=N)


def test_a_long_line_and_a_short_line_do_not_cancel_out(tmp_path, binary_labels):
    lines = _probabilities(tmp_path).read_text().splitlines()
    lines[3], lines[6] = lines[3] + ",0.1", lines[6].split(",")[0]  # same number of commas
    error = _refused(_write(tmp_path / "p.csv", "\n".join(lines) + "\n"), binary_labels)
    assert error.code == "ragged" and error.params["line"] == 4


def test_shuffled_ids_are_matched_exactly_even_if_keys_collide(
    tmp_path, binary_labels, monkeypatch
):
    import evaluator.ids as ids

    real_keys = ids.keys

    def colliding(rows, lengths):
        return real_keys(rows, lengths) & np.uint64(1)  # nearly every key collides

    monkeypatch.setattr(ids, "keys", colliding)
    order = np.random.default_rng(3).permutation(N)
    shuffled = _probabilities(tmp_path, [(IDS[i], P[i]) for i in order], name="shuffled.csv")
    assert _score(shuffled, binary_labels) == _score(_probabilities(tmp_path), binary_labels)


def test_shuffled_ids_are_matched_when_only_the_short_keys_collide(
    tmp_path, binary_labels, monkeypatch
):
    import evaluator.ids as ids

    real_keys = ids.keys

    def short_ones_collide(rows, lengths):  # 12-bit keys: unique here, their top bits not
        return real_keys(rows, lengths) >> np.uint64(52)

    monkeypatch.setattr(ids, "keys", short_ones_collide)
    order = np.random.default_rng(5).permutation(N)
    shuffled = _probabilities(tmp_path, [(IDS[i], P[i]) for i in order], name="shuffled.csv")
    found = ids.Ids.of_strings(np.array([IDS[i] for i in order], dtype=object))
    labels = ids.Ids.of_strings(np.array(IDS, dtype=object))
    assert labels.sorted_keys() is None
    assert ids.hash_join(found, labels).tolist() == np.argsort(order).tolist()
    assert _score(shuffled, binary_labels) == _score(_probabilities(tmp_path), binary_labels)


def test_the_fast_matcher_finds_the_order_itself():
    from evaluator.ids import Ids, hash_join

    def column(strings):
        return Ids.of_strings(np.array(strings, dtype=object))

    ids = np.array([f"id-{i}" * (i % 5 + 1) for i in range(200)], dtype=object)
    shuffled = ids[np.random.default_rng(4).permutation(len(ids))]
    order = hash_join(column(shuffled), column(ids))
    assert order is not None and shuffled[order].tolist() == ids.tolist()
    assert hash_join(column([*ids[:-1], "elsewhere"]), column(ids)) is None
    assert hash_join(column([*ids[:-1], ids[0]]), column(ids)) is None  # a repeat


def test_hard_labels_for_a_probability_metric_are_noticed(tmp_path, binary_labels):
    """ROC AUC scored hard 0/1 answers without a word (issue 15, friction 13)."""
    hard = _probabilities(tmp_path, [(r, i % 2) for i, r in enumerate(IDS)], name="hard.csv")
    assert _score(hard, binary_labels).two_values is True
    assert _score(_probabilities(tmp_path), binary_labels).two_values is False
    constant = _probabilities(tmp_path, [(i, 0.5) for i in IDS], name="constant.csv")
    assert _score(constant, binary_labels).two_values is True
    labels = tmp_path / "labels.csv"
    label_metric = _write(
        tmp_path / "l.csv", _csv(["id", "prediction"], zip(IDS, TRUTH, strict=True))
    )
    assert _score(label_metric, labels, metric="accuracy").two_values is False


def test_the_notice_reaches_the_team_on_a_scored_submission(tmp_path, binary_labels):
    import sandboxes
    from evaluator.outcome import classify_run

    out = tmp_path / "out"
    out.mkdir()
    _probabilities(out, [(r, i % 2) for i, r in enumerate(IDS)])
    run = sandboxes.RunResult(0, False, False, 0.5, 10.0, "", False, out)
    metric = get_metric("roc_auc")
    outcome = classify_run(
        run,
        metric=metric,
        labels=read_labels(binary_labels, metric=metric),
        public=PUBLIC,
        limits=sandboxes.Limits(),
        max_bytes=1 << 20,
    )
    assert outcome.status == "scored" and outcome.message_code == "score.two_values"
    assert "only two distinct values" in outcome.message
