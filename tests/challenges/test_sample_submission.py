"""The sponsor's sample submission and data dictionary (issue 15, friction 12)."""

import pytest

from challenges.bundle import ChallengeBundleError, open_bundle
from challenges.models import PUBLIC_ROLES, FileRole
from tests.conftest import write_bundle

DATA = {
    "train": ["train.csv"],
    "test_inputs": "test.csv",
    "test_labels": "labels.csv",
    "public_fraction": 0.5,
    "sample_submission": "sample_submission.csv",
    "dictionary": [
        {"column": "id", "type": "text", "description": {"en": "Row id", "zh": "行编号"}},
        {"column": "x", "type": "integer", "description": {"en": "The number", "zh": "数字"}},
    ],
}


def _bundle(tmp_path, sample: str, **data):
    root = write_bundle(tmp_path / "b", overrides={"data": {**DATA, **data}})
    (root / "sample_submission.csv").write_text(sample)
    return root


def _problems(root) -> str:
    with pytest.raises(ChallengeBundleError) as caught, open_bundle(root):
        pass
    return "; ".join(caught.value.problems)


def test_a_sample_with_made_up_ids_and_a_dictionary_is_stored(tmp_path, world, session, blobs):
    from challenges import service

    world.org("acme")
    root = _bundle(tmp_path, "id,prediction\nexample-1,0\nexample-2,1\n")
    with open_bundle(root) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    sample = item.file_with(FileRole.sample_submission)
    assert sample is not None and sample.name == "sample_submission.csv"
    assert FileRole.sample_submission.value in PUBLIC_ROLES
    assert item.data_dictionary[1] == {
        "column": "x",
        "type": "integer",
        "description": {"en": "The number", "zh": "数字"},
    }


def test_a_sample_may_not_list_test_ids(tmp_path):
    said = _problems(_bundle(tmp_path, "id,prediction\nr001,0\nexample,1\n"))
    assert "data.sample_submission" in said and "test ids (r001)" in said


def test_the_header_is_what_the_scorer_reads(tmp_path):
    said = _problems(_bundle(tmp_path, "id,label\nexample,1\n"))
    assert "the header must be" in said and "id,prediction" in said


def test_an_empty_sample_and_a_bad_dictionary_are_refused(tmp_path):
    assert "add a few rows" in _problems(_bundle(tmp_path, "id,prediction\n"))
    bad = [{"column": "x", "type": "integer", "description": {"en": "No Chinese"}}]
    said = _problems(_bundle(tmp_path / "2", "id,prediction\ne,1\n", dictionary=bad))
    assert "data.dictionary.0.description.zh" in said
