import gc

import numpy as np
import pandas as pd
import pytest

from challenges.metrics import get_metric
from evaluator import ids as ids_module
from evaluator.ids import Ids, align, label_ids, packed_words
from evaluator.prediction_errors import PredictionError
from evaluator.scoring import read_labels, score_predictions


def _random_ids(rng, n):
    alphabet = [*"abcXYZ019-_.", "é", "行", "🙂"]
    return ["".join(rng.choice(alphabet, size=int(rng.integers(1, 30)))) + str(i) for i in range(n)]


def _packed_from_text(strings):
    """Pack ids the way the file parser does: from their bytes in a larger buffer."""
    encoded = [s.encode() for s in strings]
    blob = b",".join(encoded)
    raw = np.frombuffer(blob, dtype=np.uint8)
    lengths = np.array([len(e) for e in encoded])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    return Ids(len(strings), words=packed_words(raw, starts, lengths), lengths=lengths)


@pytest.mark.parametrize("seed", range(5))
def test_packed_ids_round_trip_and_match_ids_packed_from_strings(seed):
    rng = np.random.default_rng(seed)
    strings = _random_ids(rng, int(rng.integers(1, 500)))
    from_text = _packed_from_text(strings)
    assert from_text.array().tolist() == strings
    from_strings = Ids.of_strings(np.array(strings, dtype=object))
    assert align("p.csv", from_text, from_strings) is None
    order = rng.permutation(len(strings))
    shuffled = _packed_from_text([strings[i] for i in order])
    found = align("p.csv", shuffled, from_strings)
    assert found is not None and shuffled.array()[found].tolist() == strings


def test_ids_of_eight_bytes_at_the_very_end_of_the_buffer():
    raw = np.frombuffer(b"abcdefgh", dtype=np.uint8)
    words = packed_words(raw, np.array([0, 5]), np.array([8, 3]))
    assert Ids(2, words=words, lengths=np.array([8, 3])).array().tolist() == ["abcdefgh", "fgh"]


def test_one_very_long_id_is_not_packed():
    raw = np.frombuffer(b"a" * 10_000, dtype=np.uint8)
    starts, lengths = np.arange(0, 9000, 3), np.full(3000, 2)
    lengths[-1] = 1000
    assert packed_words(raw, starts, lengths) is None


def test_ids_that_hold_a_newline_are_matched_as_strings():
    labels = Ids.of_strings(np.array(["a\nb", "c"], dtype=object))
    assert labels.packed() is None
    found = Ids.of_strings(np.array(["c", "a\nb"], dtype=object))
    assert align("p.csv", found, labels).tolist() == [1, 0]
    with pytest.raises(PredictionError, match="missing"):
        align("p.csv", Ids.of_strings(np.array(["c", "x"], dtype=object)), labels)


def _labels_file(tmp_path, ids):
    path = tmp_path / "labels.csv"
    path.write_text("id,label\n" + "".join(f"{i},{n % 2}\n" for n, i in enumerate(ids)))
    return read_labels(path, metric=get_metric("accuracy"))


def test_the_labels_ids_are_packed_once_per_frame(tmp_path):
    labels = _labels_file(tmp_path, [f"r{i}" for i in range(10)])
    first = label_ids(labels)
    assert first.words is not None and label_ids(labels) is first


def test_changing_the_labels_ids_is_noticed(tmp_path):
    labels = _labels_file(tmp_path, [f"r{i}" for i in range(10)])
    label_ids(labels)
    labels.loc[3, "id"] = "changed"
    assert label_ids(labels).array()[3] == "changed"
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("id,prediction\n" + "".join(f"r{i},0\n" for i in range(10)))
    with pytest.raises(PredictionError) as caught:
        score_predictions(
            predictions, labels, metric=get_metric("accuracy"), public=np.ones(10, bool)
        )
    assert caught.value.params["missing"] == 1 and caught.value.params["unknown"] == 1
    labels["id"] = [f"r{i}" for i in range(10)]
    scores = score_predictions(
        predictions, labels, metric=get_metric("accuracy"), public=np.ones(10, bool)
    )
    assert scores.public == 0.5


def test_a_labels_frame_that_is_gone_leaves_nothing_behind(tmp_path):
    labels = _labels_file(tmp_path, ["a", "b"])
    key = id(labels)
    assert key in ids_module._LABEL_IDS
    del labels
    gc.collect()
    assert key not in ids_module._LABEL_IDS


def test_labels_built_by_hand_are_packed_from_their_strings():
    labels = pd.DataFrame({"id": [10, 2, 33], "label": ["x", "y", "x"]})
    assert label_ids(labels).array().tolist() == ["10", "2", "33"]
    assert label_ids(labels).words is not None


def test_ids_that_hold_a_nul_byte_are_matched_as_strings():
    labels = Ids.of_strings(np.array(["a\0", "a", "b"], dtype=object))
    assert labels.packed() is None
    found = Ids.of_strings(np.array(["a", "b", "a\0"], dtype=object))
    assert align("p.csv", found, labels).tolist() == [2, 0, 1]
