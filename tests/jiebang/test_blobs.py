import hashlib
import io
import os
import time

import pytest

from jiebang.blobs import Blob, BlobStore, BlobTooLarge


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


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_incoming_is_hashed_as_written_and_kept_in_place(tmp_path):
    store = BlobStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 17)
    incoming = store.receive()
    for start in range(0, len(data), 65536):
        incoming.write(data[start : start + 65536])
    incoming.seek(0)  # what werkzeug does with a finished part
    inode = os.stat(incoming.name).st_ino
    blob = store.put_stream(incoming, max_bytes=len(data))
    assert blob == Blob(hashlib.sha256(data).hexdigest(), len(data))
    # The same file, renamed: nothing was copied.
    assert os.stat(store.path(blob.sha256)).st_ino == inode
    assert store.path(blob.sha256).read_bytes() == data and store.verify(blob.sha256)
    assert _files(tmp_path) == [store.path(blob.sha256)]
    assert incoming.closed


def test_an_incoming_blob_not_kept_is_removed_on_close(tmp_path):
    store = BlobStore(tmp_path)
    incoming = store.receive()
    incoming.write(b"half an upload")
    assert len(_files(tmp_path)) == 1
    incoming.close()
    incoming.close()
    assert _files(tmp_path) == []


def test_an_incoming_blob_over_the_cap_is_refused_and_removed(tmp_path):
    store = BlobStore(tmp_path)
    incoming = store.receive(max_bytes=10)
    incoming.write(b"x" * 10)
    with pytest.raises(BlobTooLarge):
        incoming.write(b"y")
    incoming.close()
    late = store.receive()
    late.write(b"x" * 11)
    with pytest.raises(BlobTooLarge):
        store.put_stream(late, max_bytes=10)  # the kind's cap, known only after the form
    assert late.closed and _files(tmp_path) == []


def test_an_incoming_blob_is_written_in_one_pass(tmp_path):
    incoming = BlobStore(tmp_path).receive()
    incoming.write(b"abc")
    incoming.seek(0)
    assert incoming.read() == b"abc"
    with pytest.raises(ValueError):
        incoming.write(b"d")  # the hash could no longer cover what is on disk
    incoming.close()


def test_put_stream_hashes_what_it_copies(tmp_path):
    store = BlobStore(tmp_path)
    data = os.urandom(2 * 1024 * 1024 + 5)
    reader_only = type("R", (), {"read": io.BytesIO(data).read})()
    assert store.put_stream(io.BytesIO(data)).sha256 == hashlib.sha256(data).hexdigest()
    assert store.put_stream(reader_only).sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(BlobTooLarge):
        store.put_stream(io.BytesIO(data), max_bytes=len(data) - 1)
    assert _files(tmp_path) == [store.path(hashlib.sha256(data).hexdigest())]


def test_sweep_tmp_removes_only_abandoned_uploads(tmp_path):
    store = BlobStore(tmp_path)
    assert store.sweep_tmp() == 0  # no tmp folder yet
    old, fresh = store.receive(), store.receive()
    old.write(b"from a process that died")
    fresh.write(b"still arriving")
    stale = time.time() - 7 * 3600
    os.utime(old.name, (stale, stale))
    other = tmp_path / "tmp" / "not-an-upload"
    other.write_bytes(b"")
    os.utime(other, (stale, stale))
    old_name = old.name
    assert store.sweep_tmp() == 1
    assert not os.path.exists(old_name) and os.path.exists(fresh.name) and other.exists()
    old.close()  # the file is gone already; closing is still clean
    fresh.close()
