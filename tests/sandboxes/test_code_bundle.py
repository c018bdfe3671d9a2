"""Code bundles: a zip with main.py at its root, unpacked safely for uid 10001."""

from __future__ import annotations

import stat
import zipfile

import pytest

from sandboxes import BundleInfo, CodeBundleError, check_bundle, extract_bundle

MAIN = b"print('hello')\n"


def test_valid_bundle_is_described(make_zip):
    path = make_zip({"main.py": MAIN, "lib/util.py": b"X = 1\n", "lib/": b""})
    assert check_bundle(path) == BundleInfo(files=2, size=len(MAIN) + 6)


def test_bundle_without_main_is_refused(make_zip):
    with pytest.raises(CodeBundleError, match=r"no main\.py"):
        check_bundle(make_zip({"solution.py": MAIN}))


def test_main_in_a_folder_gets_a_precise_hint(make_zip):
    with pytest.raises(CodeBundleError, match=r"at project/main\.py.*zip the folder's contents"):
        check_bundle(make_zip({"project/main.py": MAIN}))


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "bundle.zip"
    path.write_text("main.py")
    with pytest.raises(CodeBundleError, match="not a zip file"):
        check_bundle(path)


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/cron.d/x", "C:evil.py"])
def test_zip_slip_is_refused(make_zip, name):
    with pytest.raises(CodeBundleError, match="unsafe file name"):
        check_bundle(make_zip({"main.py": MAIN, name: b"x"}))


def test_symlink_is_refused(make_zip):
    path = make_zip({"main.py": MAIN}, links={"labels.csv": "/data/labels.csv"})
    with pytest.raises(CodeBundleError, match=r"labels\.csv in the bundle is a symbolic link"):
        check_bundle(path)


def test_ratio_bomb_is_refused(make_zip):
    # 20 MiB of zeros deflate about 1000 to 1: under the size cap, over the ratio cap.
    path = make_zip({"main.py": MAIN, "pad.bin": b"\0" * (20 * 1024**2)})
    with pytest.raises(CodeBundleError, match="more than 100 to 1"):
        check_bundle(path)
    assert check_bundle(path, max_ratio=5000).size > 20 * 1024**2


def test_small_compressible_files_are_fine(make_zip):
    assert check_bundle(make_zip({"main.py": MAIN, "zeros.csv": b"0,0\n" * 50_000})).files == 2


def test_too_many_files_are_refused(make_zip):
    files = {"main.py": MAIN} | {f"pkg/m{i}.py": b"" for i in range(10)}
    assert check_bundle(make_zip(files), max_files=11).files == 11
    with pytest.raises(CodeBundleError, match="11 files; the limit is 10"):
        check_bundle(make_zip(files, name="many.zip"), max_files=10)


def test_total_size_is_capped(make_zip):
    path = make_zip({"main.py": MAIN, "data.bin": bytes(range(256)) * 8192})
    with pytest.raises(CodeBundleError, match="limit is 1 MiB"):
        check_bundle(path, max_bytes=1024 * 1024)


def test_encrypted_member_is_refused(make_zip, tmp_path):
    path = make_zip({"main.py": MAIN})
    raw = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit in the local and central headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.index(signature) + offset
        raw[at] |= 0x1
    path.write_bytes(bytes(raw))
    with pytest.raises(CodeBundleError, match="encrypted"):
        check_bundle(path)


def test_extract_makes_world_readable_files(make_zip, tmp_path):
    path = make_zip({"main.py": MAIN, "lib/util.py": b"X = 1\n"})
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("run.sh")
        info.external_attr = (stat.S_IFREG | 0o4700) << 16  # setuid, owner-only
        archive.writestr(info, "#!/bin/sh\n")
    dest = extract_bundle(path, tmp_path / "code")
    assert (dest / "main.py").read_bytes() == MAIN
    assert (dest / "lib" / "util.py").read_text() == "X = 1\n"
    for item in [dest, *dest.rglob("*")]:
        mode = stat.S_IMODE(item.stat().st_mode)
        assert mode == (0o755 if item.is_dir() else 0o644), item


def test_extract_needs_a_fresh_directory(make_zip, tmp_path):
    (tmp_path / "code").mkdir()
    with pytest.raises(FileExistsError):
        extract_bundle(make_zip({"main.py": MAIN}), tmp_path / "code")


def test_extract_checks_names_again(make_zip, tmp_path):
    with pytest.raises(CodeBundleError, match="unsafe file name"):
        extract_bundle(make_zip({"main.py": MAIN, "../x.py": b""}), tmp_path / "code")
    assert not (tmp_path / "x.py").exists()


def test_a_zip_that_lies_about_its_sizes_is_refused(make_zip):
    path = make_zip({"main.py": MAIN, "data.bin": bytes(4 * 1024**2)})
    raw = bytearray(path.read_bytes())
    # Claim data.bin is 1000 bytes in both headers: no cap or ratio check would fire.
    for signature, size_at, name_at, header in ((b"PK\3\4", 22, 26, 30), (b"PK\1\2", 24, 28, 46)):
        at = raw.find(signature)
        while at >= 0:
            length = int.from_bytes(raw[at + name_at : at + name_at + 2], "little")
            if raw[at + header : at + header + length] == b"data.bin":
                raw[at + size_at : at + size_at + 4] = (1000).to_bytes(4, "little")
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))
    with pytest.raises(CodeBundleError, match="damaged"):
        check_bundle(path)


def test_entries_are_counted_before_the_directory_is_parsed(make_zip, tmp_path):
    from sandboxes.code_bundle import _count_entries

    files = {"main.py": MAIN} | {f"d{i}/": b"" for i in range(30)}
    path = make_zip(files)
    assert _count_entries(path, stop_after=1000) == 31
    assert _count_entries(path, stop_after=5) == 5
    prefixed = tmp_path / "prefixed.zip"  # data before the zip, as self-extractors have
    prefixed.write_bytes(b"#!/bin/sh\nexit 0\n" * 10 + path.read_bytes())
    assert _count_entries(prefixed, stop_after=1000) == 31
    # Folders count there too, with a margin: 1100 of them are too many for 10 files.
    many = make_zip({"main.py": MAIN} | {f"d{i}/": b"" for i in range(1100)}, name="many.zip")
    with pytest.raises(CodeBundleError, match="more than 1020 files and folders; the limit is 10 "):
        check_bundle(many, max_files=10)
