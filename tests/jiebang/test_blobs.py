import io

import pytest

from jiebang.blobs import BlobStore, BlobTooLarge


def test_blobs_are_content_addressed_and_verified(tmp_path):
    store = BlobStore(tmp_path)
    blob = store.put_bytes(b"hello")
    assert blob.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert store.path(blob.sha256).read_bytes() == b"hello"
    assert store.put_bytes(b"hello") == blob
    assert store.verify(blob.sha256)


def test_too_large_upload_leaves_nothing(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(BlobTooLarge):
        store.put_stream(io.BytesIO(b"x" * 5000), max_bytes=4096)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_interrupted_stream_leaves_nothing(tmp_path):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError("client went away")
            return b"x" * 1024

    store = BlobStore(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.put_stream(Broken())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_path_refuses_non_digests(tmp_path):
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path("../../etc/passwd")


def test_a_damaged_stored_blob_is_replaced_by_a_fresh_copy(tmp_path):
    store = BlobStore(tmp_path)
    blob = store.put_bytes(b"the real content")
    path = store.path(blob.sha256)
    path.chmod(0o644)
    path.write_bytes(b"truncated")
    assert store.put_bytes(b"the real content") == blob
    assert path.read_bytes() == b"the real content" and store.verify(blob.sha256)
