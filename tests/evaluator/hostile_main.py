"""A hostile submission: ``main.py`` of every malicious bundle in the suite.

It runs inside the sandbox (Debian's python3, standard library only). The case
is read from ``/code/case.json`` (bundles) or ``argv[1]`` (the hostile image).
Each case prints one ``REPORT {json}`` line to the log before it does its
worst, so the tests can check what it saw and what it could do.
"""

import ctypes
import ctypes.util
import errno
import json
import os
import signal
import socket
import sys
import threading
import time

INPUT = os.environ.get("JIEBANG_INPUT", "/input")
OUTPUT = os.environ.get("JIEBANG_OUTPUT", "/output")
PREDICTIONS = os.path.join(OUTPUT, "predictions.csv")
# Built at run time, so this file itself never holds the needle.
NEEDLE = "JB" + "CANARY"
LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def report(**facts):
    print("REPORT " + json.dumps(facts, sort_keys=True), flush=True)


def attempt(fn):
    """'ok' if ``fn`` ran, else what stopped it."""
    try:
        result = fn()
    except BaseException as exc:  # anything that stops it counts as a failure
        return f"{type(exc).__name__}: {exc}"
    if isinstance(result, int) and result < 0:
        return f"errno {errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno())}"
    return "ok"


def isolated(fn):
    """``attempt(fn)`` in a child process, so what it changes (namespaces, root) stays there."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        os.write(write, attempt(fn).encode()[:4000])
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        result = pipe.read().decode()
    os.waitpid(child, 0)
    return result or "child died"


def put(path, text, mode="w"):
    """A function that writes ``text`` to ``path``."""

    def run():
        with open(path, mode) as f:
            f.write(text)

    return run


def get(path):
    """A function that reads a byte of ``path``."""

    def run():
        with open(path, "rb") as f:
            return f.read(1)

    return run


def rows():
    with open(os.path.join(INPUT, "test.csv")) as f:
        next(f)
        return [line.strip().split(",") for line in f if line.strip()]


def predictions(predict=lambda row: int(row[1]) % 2):
    return "id,prediction\n" + "".join(f"{row[0]},{predict(row)}\n" for row in rows())


def write_predictions(text=None):
    with open(PREDICTIONS, "w") as out:
        out.write(predictions() if text is None else text)


def forever():
    while True:
        time.sleep(3600)


# --- cases ---------------------------------------------------------------------------------


def well(params):
    write_predictions()
    report(done=True)


def spin(params):
    report(pid=os.getpid())
    if os.fork() == 0:
        while True:
            pass
    while True:
        pass


def sleep(params):
    report(sleeping=True)
    forever()


def pause(params):
    report(pausing=True)
    signal.pause()


def sigstop(params):
    report(init=attempt(lambda: os.kill(1, signal.SIGSTOP)))
    os.kill(os.getpid(), signal.SIGSTOP)
    forever()


def sigterm(params):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    if os.fork() == 0:
        os.setsid()  # a daemon of its own session, still ignoring everything
        forever()
    report(ignoring=True)
    forever()


def forkbomb(params):
    report(bomb="fork")
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)


def threadbomb(params):
    started = 0
    try:
        while started < 100_000:
            threading.Thread(target=forever, daemon=True).start()
            started += 1
    except RuntimeError as exc:
        report(threads=started, stopped=str(exc))
    forever()


def membomb(params):
    report(bomb="memory")
    hoard = []
    while True:
        hoard.append(bytearray(8 * 1024 * 1024))


def _fill(path, chunk, limit):
    written = 0
    try:
        with open(path, "wb") as f:
            while written < limit:
                f.write(chunk)
                f.flush()
                written += len(chunk)
    except OSError as exc:
        return written, errno.errorcode.get(exc.errno, exc.errno)
    return written, None


def fill_tmp(params):
    total, error, index = 0, None, 0
    while error is None and total < 8 << 30:
        written, error = _fill(f"/tmp/fill{index}", b"\0" * (1 << 20), 32 << 20)
        total, index = total + written, index + 1
    for name in os.listdir("/tmp"):
        os.remove(os.path.join("/tmp", name))
    write_predictions()
    report(written=total, error=error)


def fill_output_big(params):
    written, error = _fill(os.path.join(OUTPUT, "big"), b"\0" * (1 << 20), 8 << 30)
    report(written=written, error=error)


def fill_output_many(params):
    """Empty files: no blocks, only inodes."""
    count, error, started = 0, None, time.monotonic()
    try:
        while count < 1_000_000 and time.monotonic() - started < 1:
            os.close(os.open(os.path.join(OUTPUT, f"f{count}"), os.O_CREAT | os.O_WRONLY))
            count += 1
    except OSError as exc:
        error = errno.errorcode.get(exc.errno, exc.errno)
    report(files=count, error=error)


def write_fs(params):
    targets = ["/pwned", "/etc/passwd", "/etc/pwned", "/input/test.csv", "/input/pwned"]
    targets += ["/code/main.py", "/code/pwned", "/var/tmp/pwned", "/usr/lib/pwned"]
    facts = {path: attempt(put(path, "pwned", "a")) for path in targets}
    facts["rename_input"] = attempt(lambda: os.rename("/input/test.csv", "/tmp/x"))
    facts["chmod_input"] = attempt(lambda: os.chmod("/input/test.csv", 0o777))
    write_predictions()
    report(**facts)


def stdout_flood(params):
    report(flood="lines")
    chunk = ("y" * 1023 + "\n") * 64
    while True:
        sys.stdout.write(chunk)


def endless_line(params):
    report(flood="one line")
    chunk = "z" * 65536
    while True:
        sys.stdout.write(chunk)


def network(params):
    def connect(family, address):
        def run():
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(address)

        return run

    facts = {
        "dns": attempt(lambda: socket.getaddrinfo("deb.debian.org", 80)),
        "external": attempt(connect(socket.AF_INET, ("1.1.1.1", 53))),
        "redis": attempt(connect(socket.AF_INET, ("127.0.0.1", 6379))),
        "metadata": attempt(connect(socket.AF_INET, ("169.254.169.254", 80))),
        "ipv6_external": attempt(connect(socket.AF_INET6, ("2606:4700:4700::1111", 53))),
        "ipv6_loopback_redis": attempt(connect(socket.AF_INET6, ("::1", 6379))),
        "raw": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
        "packet": attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)),
        "udp": attempt(
            lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("1.1.1.1", 53))
        ),
        "docker_sock": attempt(
            lambda: socket.socket(socket.AF_UNIX).connect("/var/run/docker.sock")
        ),
        # Jiebang's own engine, the one that runs this container.
        "jiebang_docker_sock": attempt(
            lambda: socket.socket(socket.AF_UNIX).connect("/run/jiebang/docker.sock")
        ),
    }
    for host in params.get("hosts", []):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for port in (6379, 22, 2375, 5432):
            facts[f"host {host}:{port}"] = attempt(connect(family, (host, port)))
    facts["interfaces"] = sorted(os.listdir("/sys/class/net"))
    write_predictions()
    report(**facts)


def _read(path, limit=1 << 20):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return b""


def search(params):
    """Look for the canary (and a control string) everywhere a submission can read."""
    deadline = time.monotonic() + 1.5
    needles = {NEEDLE: [], params["control"]: []}
    scanned = 0

    def scan(where, data):
        for needle, found in needles.items():
            at = data.find(needle.encode())
            if at >= 0 and len(found) < 5:
                found.append(f"{where}: {data[max(at - 20, 0) : at + 60]!r}")

    scan("environ", "\n".join(f"{k}={v}" for k, v in os.environ.items()).encode())
    for pid in os.listdir("/proc"):
        if pid.isdigit() or pid == "self":
            for name in ("environ", "cmdline", "mountinfo", "status"):
                scan(f"/proc/{pid}/{name}", _read(f"/proc/{pid}/{name}"))
    roots = ["/input", "/code", "/output", "/tmp", "/etc", "/run", "/var", "/root", "/home"]
    roots += ["/dev/shm", "/mnt", "/srv", "/opt", "/sys/fs/cgroup", "/"]
    seen = set()
    for root in roots:
        for directory, dirs, files in os.walk(root):
            if directory == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "usr", "dev")]
            for name in files:
                path = os.path.join(directory, name)
                if path in seen or time.monotonic() > deadline:
                    continue
                seen.add(path)
                if "label" in name.lower():
                    needles[NEEDLE].append(f"file named {path}")
                scan(path, _read(path))
                scanned += 1
    found = needles[NEEDLE]
    # Whatever was found also goes into the predictions: a leak would move the score.
    secret = found[0].replace(",", " ") if found else None
    write_predictions(predictions(lambda row: secret or int(row[1]) % 2))
    report(scanned=scanned, found=found, control=len(needles[params["control"]]))


def privileges(params):
    def syscall(number, *args):
        return lambda: LIBC.syscall(number, *args)

    def ptrace(pid):
        def run():
            if LIBC.ptrace(16, pid, None, None) < 0:  # PTRACE_ATTACH
                return -1
            time.sleep(0.1)
            return LIBC.ptrace(17, pid, None, None)  # PTRACE_DETACH: let it run on

        return run

    def unshare(flag):
        return lambda: LIBC.unshare(flag)

    facts = {
        "setuid": isolated(lambda: os.setuid(0)),
        "setgid": isolated(lambda: os.setgid(0)),
        "setgroups": isolated(lambda: os.setgroups([0])),
        "mount": isolated(lambda: LIBC.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        "unshare_user": isolated(unshare(0x10000000)),
        "unshare_mount": isolated(unshare(0x00020000)),
        "unshare_net": isolated(unshare(0x40000000)),
        "ptrace_host": isolated(ptrace(params.get("host_pid", 1))),
        "ptrace_init": isolated(ptrace(1)),
        "chroot": isolated(lambda: os.chroot("/tmp")),
        "sethostname": isolated(lambda: socket.sethostname("pwned")),
        "mknod": isolated(lambda: os.mknod("/tmp/disk", 0o600 | 0o020000, os.makedev(8, 0))),
        "kmsg": isolated(get("/dev/kmsg")),
        "sysrq": isolated(put("/proc/sysrq-trigger", "h")),
        "core_pattern": isolated(put("/proc/sys/kernel/core_pattern", "|/x")),
        "bpf": isolated(syscall(321, 0, None, 0)),
        "init_module": isolated(syscall(175, None, 0, b"")),
        "reboot": isolated(lambda: LIBC.reboot(0x4321FEDC)),
    }
    write_predictions()
    report(uid=os.getuid(), euid=os.geteuid(), **facts)


def core(params):
    child = os.fork()
    if child == 0:
        os.abort()
    _, status = os.waitpid(child, 0)
    cores = [
        os.path.join(d, n)
        for d in ("/tmp", OUTPUT, os.getcwd())
        for n in os.listdir(d)
        if n.startswith("core")
    ]
    report(child_signal=os.WTERMSIG(status), dumped=os.WCOREDUMP(status), cores=cores)
    os.abort()


def out_symlink(params):
    os.symlink(params["target"], PREDICTIONS)
    report(link=params["target"])


def out_fifo(params):
    os.mkfifo(PREDICTIONS)
    report(fifo=True)


def out_dir(params):
    os.mkdir(PREDICTIONS)
    report(directory=True)


def out_huge(params):
    facts = {"truncate": attempt(lambda: os.truncate(_touch(), 5 << 30))}
    line = predictions().encode()
    written, error = _fill(PREDICTIONS, line * (1 + (1 << 20) // len(line)), 5 << 30)
    report(written=written, error=error, **facts)


def _touch():
    open(PREDICTIONS, "w").close()
    return PREDICTIONS


def out_text(params):
    write_predictions(params["text"])
    report(custom=True)


def _environ():
    with open("/proc/self/environ", "rb") as f:
        return [item for item in f.read().split(b"\0") if item]


def image_config(params):
    time.sleep(1.5)  # the image's HEALTHCHECK (interval 1 s) would have run by now
    facts = {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "cwd": os.getcwd(),
        "health": os.path.exists(os.path.join(OUTPUT, "health")),
        "volume": os.path.ismount("/data"),
        "volume_write": attempt(put("/data/x", "x")),
        # As the process got it: Python itself adds LC_CTYPE to os.environ (PEP 538).
        "env": sorted(item.split(b"=")[0].decode() for item in _environ()),
    }
    write_predictions()
    report(**facts)
    sigterm(params)


CASES = {
    f.__name__: f
    for f in (
        well,
        spin,
        sleep,
        pause,
        sigstop,
        sigterm,
        forkbomb,
        threadbomb,
        membomb,
        fill_tmp,
        fill_output_big,
        fill_output_many,
        write_fs,
        stdout_flood,
        endless_line,
        network,
        search,
        privileges,
        core,
        out_symlink,
        out_fifo,
        out_dir,
        out_huge,
        out_text,
        image_config,
    )
}


def main():
    if len(sys.argv) > 1:
        params = {"case": sys.argv[1], "control": "r001,"}
    else:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "case.json")) as f:
            params = json.load(f)
    CASES[params["case"]](params)


if __name__ == "__main__":
    main()
