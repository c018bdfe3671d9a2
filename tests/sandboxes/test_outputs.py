"""``check_output``: what a run leaves in /output is walked without following anything.

First on folders made here (every kind of entry, exact limits), then on what hostile
containers write under runc and gVisor.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
import time
from pathlib import Path

import pytest

import sandboxes
from sandboxes import Limits, OutputError, OutputSummary, check_output

# --- on folders made here ------------------------------------------------------------------


def _refused(root: Path, **limits) -> OutputError:
    with pytest.raises(OutputError) as caught:
        check_output(root, **limits)
    return caught.value


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "output"
    path.mkdir()
    return path


def test_a_normal_tree_is_counted(out):
    (out / "predictions.csv").write_bytes(b"id,prediction\n1,2\n")
    (out / "masks" / "a").mkdir(parents=True)
    (out / "masks" / "a" / "1.png").write_bytes(b"x" * 1000)
    (out / "masks" / "2.png").write_bytes(b"")
    (out / "空 folder é").mkdir()
    assert check_output(out) == OutputSummary(files=3, folders=3, bytes=18 + 1000)


def test_an_empty_output(out):
    assert check_output(out) == OutputSummary(files=0, folders=0, bytes=0)


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc", "missing", "."])
def test_a_link_is_refused_whatever_it_points_to(out, target):
    (out / "sub").mkdir()
    (out / "sub" / "link").symlink_to(target)
    error = _refused(out)
    assert (error.code, error.params) == ("output.link", {"path": "sub/link"})
    assert 'symbolic link, "sub/link"' in str(error)


def test_a_fifo_is_refused_and_never_opened(out):
    os.mkfifo(out / "pipe")  # opening it for reading would block forever
    error = _refused(out)
    assert (error.code, error.params) == ("output.special", {"path": "pipe"})


def test_a_socket_is_refused(out, monkeypatch):
    monkeypatch.chdir(out)  # a socket path must be short
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock")
        error = _refused(out)
    assert (error.code, error.params) == ("output.special", {"path": "sock"})


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device needs root")
def test_a_device_is_refused(out):
    os.mknod(out / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    assert _refused(out).code == "output.special"


def test_the_root_itself_must_be_a_folder_not_a_link(tmp_path, out):
    (tmp_path / "link").symlink_to(out)
    with pytest.raises(OSError):
        check_output(tmp_path / "link")


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")
def test_a_folder_a_worker_cannot_list_is_refused(out):
    (out / "locked").mkdir(mode=0o000)
    (out / "locked").chmod(0o000)  # root reads it anyway: check as a user who cannot
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        code = "none"
        try:
            os.chdir(out)  # before giving up root: the path's parents are root's only
            os.setgid(65534)
            os.setuid(65534)
            check_output(Path("."))
        except OutputError as exc:
            code = f"{exc.code} {exc.params['path']}"
        except BaseException as exc:
            code = repr(exc)
        finally:
            os.write(write, code.encode())
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        assert answer.read() == "output.unreadable_folder locked"


def test_files_and_folders_count_up_to_the_limit(out):
    for index in range(7):
        (out / f"f{index}").write_text("x")
    (out / "d1").mkdir()
    (out / "d1" / "d2").mkdir()
    (out / "d1" / "d2" / "f").write_text("x")
    assert check_output(out, max_files=10) == OutputSummary(files=8, folders=2, bytes=8)
    error = _refused(out, max_files=9)
    assert (error.code, error.params) == ("output.too_many_files", {"limit": 9})


def test_depth_is_allowed_up_to_the_limit(out):
    (out / "a" / "b").mkdir(parents=True)
    (out / "a" / "b" / "c").write_text("x")
    assert check_output(out, max_depth=3).files == 1
    error = _refused(out, max_depth=2)
    assert (error.code, error.params) == ("output.too_deep", {"path": "a/b/c", "limit": 2})


def _deep(root: Path, depth: int, name: str) -> None:
    """Folders ``depth`` deep, made relative to each other: the whole path may be
    longer than PATH_MAX."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)


def test_a_tree_longer_than_path_max_is_walked_and_shown_short(out):
    name = "n" * 250
    _deep(out, 30, name)  # 7.5 KB of path: more than PATH_MAX (4096)
    assert check_output(out) == OutputSummary(files=0, folders=30, bytes=0)
    error = _refused(out, max_depth=20)
    assert error.code == "output.too_deep"
    shown = error.params["path"]
    assert len(shown) <= 201 and shown.startswith(name[:100]) and "…" in shown
    assert shown.endswith(name[:99])


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"a\nb.csv", "a\\nb.csv"),
        (b"\xff\xfe.csv", "\\xff\\xfe.csv"),
        (b"tab\there", "tab\\there"),
        (b"back\\slash", "back\\\\slash"),
        (b"del\x7f", "del\\x7f"),
        ("c1\x85".encode(), "c1\\x85"),
        ("line\u2028sep".encode(), "line\\u2028sep"),
        (b"esc\x1b[31mred", "esc\\x1b[31mred"),
    ],
)
def test_a_bad_name_is_refused_and_shown_escaped(out, name, shown):
    (out / "d").mkdir()
    with open(os.path.join(os.fsencode(out / "d"), name), "wb"):
        pass
    error = _refused(out)
    assert (error.code, error.params) == ("output.bad_name", {"path": f"d/{shown}", "limit": 255})
    assert "\n" not in str(error)


def test_a_bad_folder_name_is_refused_before_its_contents(out):
    (out / "a\rb").mkdir()
    (out / "a\rb" / "link").symlink_to("/etc/passwd")
    assert _refused(out).params["path"] == "a\\rb"


def test_names_longer_than_the_limit_are_refused(out):
    (out / ("é" * 6)).write_text("")  # 12 bytes
    assert check_output(out, max_name_bytes=12).files == 1
    assert _refused(out, max_name_bytes=11).code == "output.bad_name"


def test_printable_unicode_names_pass(out):
    for name in ("预测 结果.csv", "naïve-😀.txt", "-rf", ".hidden", "a'b\"c"):
        (out / name).write_text("x")
    assert check_output(out).files == 5


def test_100000_entries_take_well_under_a_second(out):
    # CPU time, not wall time: a loaded machine must not fail it (0.3 s here).
    for folder in range(100):
        sub = out / f"d{folder}"
        sub.mkdir()
        for index in range(999):
            (sub / f"{index}.txt").write_bytes(b"")
    started = time.process_time()
    summary = check_output(out)
    elapsed = time.process_time() - started
    assert summary == OutputSummary(files=99_900, folders=100, bytes=0)
    assert elapsed < 1.0
    (out / "one-more").write_bytes(b"")
    started = time.process_time()
    assert _refused(out).params == {"limit": 100_000}
    assert time.process_time() - started < 1.0


# --- what hostile containers leave -----------------------------------------------------------

FAST = {"memory_mb": 256, "time_limit_s": 60, "tmp_mb": 16, "output_mb": 8}


def _write(client, base_image, scratch_dir, runtime, code: str, **check) -> tuple:
    """Run ``code`` in the base image; (run result, summary or OutputError, check CPU s)."""
    with sandboxes.run(
        client,
        image_id=base_image,
        input_dir=None,
        limits=Limits(runtime=runtime, **FAST),
        scratch_dir=scratch_dir,
        command=["python", "-c", "import os, socket, errno\n" + code],
        labels={"jiebang.test.run": secrets.token_hex(6)},
    ) as result:
        assert not result.timed_out, result.log
        started = time.process_time()
        try:
            outcome = check_output(result.output_dir, **check)
        except OutputError as exc:
            outcome = exc
        elapsed = time.process_time() - started
    return result, outcome, elapsed


@pytest.mark.docker
@pytest.mark.parametrize(
    ("code", "error", "path"),
    [
        ("os.symlink('/etc/passwd', '/output/predictions.csv')", "link", "predictions.csv"),
        ("os.mkdir('/output/d'); os.symlink('/etc', '/output/d/etc')", "link", "d/etc"),
        ("os.makedirs('/output/' + '/'.join(['d'] * 40))", "too_deep", "/".join(["d"] * 33)),
        ("open('/output/a\\nb.csv', 'w').close()", "bad_name", "a\\nb.csv"),
        ("open(b'/output/\\xff\\xfe.csv', 'w').close()", "bad_name", "\\xff\\xfe.csv"),
    ],
    ids=["link_to_passwd", "link_to_folder", "40_deep", "newline", "not_utf8"],
)
def test_hostile_output_is_refused(client, base_image, scratch_dir, runtime, code, error, path):
    result, outcome, _ = _write(client, base_image, scratch_dir, runtime, code)
    assert result.exit_code == 0, result.log
    assert isinstance(outcome, OutputError)
    assert (outcome.code, outcome.params["path"]) == (f"output.{error}", path)


@pytest.mark.docker
@pytest.mark.parametrize(
    "code",
    [
        "os.mkfifo('/output/pipe')",
        "s = socket.socket(socket.AF_UNIX); s.bind('/output/pipe')",
    ],
    ids=["fifo", "socket"],
)
def test_pipes_and_sockets_never_reach_a_reader(client, base_image, scratch_dir, runtime, code):
    result, outcome, _ = _write(client, base_image, scratch_dir, runtime, code)
    assert result.exit_code == 0, result.log
    if runtime == "runsc":
        # gVisor keeps them inside its own kernel: the host's folder never holds them.
        assert outcome == OutputSummary(files=0, folders=0, bytes=0)
    else:
        assert isinstance(outcome, OutputError)
        assert (outcome.code, outcome.params) == ("output.special", {"path": "pipe"})


MILLION = """
count = 0
try:
    while count < 1_000_000:
        open(f"/output/{count}", "w").close()
        count += 1
except OSError as exc:
    print("stopped", count, errno.errorcode[exc.errno])
"""


@pytest.mark.docker
def test_a_million_files_stop_at_the_inode_cap(client, base_image, scratch_dir, runtime):
    result, outcome, elapsed = _write(client, base_image, scratch_dir, runtime, MILLION)
    assert result.exit_code == 0, result.log
    status, count, reason = result.log.split()
    assert (status, reason) == ("stopped", "ENOSPC")
    # 8 MiB of tmpfs holds 8 * 256 inodes, its root one of them.
    assert 0 < int(count) <= 8 * 256
    assert outcome == OutputSummary(files=int(count), folders=0, bytes=0)
    assert elapsed < 1.0
    _, refused, _ = _write(
        client, base_image, scratch_dir, runtime, MILLION, max_files=int(count) - 1
    )
    assert refused.code == "output.too_many_files"


HUGE = """
written = 0
try:
    with open("/output/huge.bin", "wb") as f:
        while written < 1 << 30:
            f.write(b"x" * (1 << 20)); f.flush(); written += 1 << 20
except OSError as exc:
    print("stopped", errno.errorcode[exc.errno])
"""


@pytest.mark.docker
def test_a_huge_file_stops_at_the_cap_and_is_counted(client, base_image, scratch_dir, runtime):
    result, outcome, _ = _write(client, base_image, scratch_dir, runtime, HUGE)
    assert result.log.split()[0] == "stopped" and result.log.split()[1] in ("ENOSPC", "EFBIG")
    assert outcome.files == 1 and 0 < outcome.bytes <= 8 * 1024**2


TREE = """
os.makedirs("/output/masks/val")
for index in range(5):
    with open(f"/output/masks/val/{index}.png", "wb") as f:
        f.write(b"p" * 100)
with open("/output/predictions.csv", "w") as f:
    f.write("id,prediction\\n1,0\\n")
os.mkdir("/output/empty")
"""


@pytest.mark.docker
def test_a_normal_output_passes(client, base_image, scratch_dir, runtime):
    result, outcome, _ = _write(client, base_image, scratch_dir, runtime, TREE)
    assert result.exit_code == 0, result.log
    assert outcome == OutputSummary(files=6, folders=3, bytes=500 + 18)
