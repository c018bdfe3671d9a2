"""The data page shows the sponsor's sample submission and data dictionary (issue 15, 12)."""

from challenges import service
from challenges.bundle import open_bundle
from tests.conftest import write_bundle

DATA = {
    "train": ["train.csv"],
    "test_inputs": "test.csv",
    "test_labels": "labels.csv",
    "public_fraction": 0.5,
    "sample_submission": "sample_submission.csv",
    "dictionary": [
        {"column": "x", "type": "integer", "description": {"en": "The number", "zh": "那个数字"}}
    ],
}


def test_the_data_page_shows_the_sample_and_the_dictionary(client, world, session, blobs, tmp_path):
    world.org("acme")
    root = write_bundle(tmp_path / "b", overrides={"data": DATA})
    (root / "sample_submission.csv").write_text("id,prediction\nexample-1,0\n")
    with open_bundle(root) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    service.publish(session, item)
    session.commit()
    page = client.get("/challenges/parity/data").get_data(as_text=True)
    assert "What to submit" in page and "sample_submission.csv" in page
    assert "Data dictionary" in page and "<code>x</code>" in page and "The number" in page
    download = client.get("/challenges/parity/data/sample_submission.csv")
    assert download.status_code == 200 and b"example-1" in download.data
    client.set_cookie("lang", "zh")
    zh = client.get("/challenges/parity/data").get_data(as_text=True)
    assert '<span lang="zh-CN">那个数字</span>' in zh and "The number" not in zh
