"""A worker asked to stop, stops: real ``jiebang worker`` processes, stopped many times.

Idle, with RQ's scheduler holding its lock (and with that scheduler frozen), with Redis
gone or hung behind a proxy the test cuts, and in the middle of a run. Every stop must
end within its bound; the bounds are loose for a loaded 2-core machine (an idle worker
stops in about a second; README says 2 s), and a stop the watchdog had to end (exit
status 1) fails too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rq import Queue, Worker
from rq.utils import utcparse

from evaluator import queue
from evaluator.context import open_context
from evaluator.intake import submit_and_enqueue
from evaluator.models import State, Submission
from evaluator.worker import COLD_STOP_S, SCHEDULER_STOP_S, EvaluatorWorker

JIEBANG = str(Path(sys.executable).with_name("jiebang"))
IDLE_S = 5  # README promises 2 s; this leaves room for a loaded machine
UNREACHABLE_S = SCHEDULER_STOP_S + 5


class RedisProxy:
    """Redis behind a loopback TCP proxy the test controls: ``down`` drops every
    connection and every new one at once (Redis gone), ``stall`` keeps them open and
    forwards nothing (Redis hung), ``up`` forwards again."""

    def __init__(self, redis_url: str) -> None:
        target = urlsplit(redis_url)
        self.target = (target.hostname, target.port or 6379)
        self.db = target.path
        self.mode = "up"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._listener.getsockname()[1]}{self.db}"

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode == "down":
            with self._lock:
                dropped, self._open = self._open, []
            for sock in dropped:
                self._close(sock)

    def close(self) -> None:
        self.set("down")
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(0.1)
        while True:
            if self.mode == "stall":
                time.sleep(0.05)
                continue
            try:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
            except TimeoutError:
                continue
            except OSError:
                break
        self._close(source)
        self._close(sink)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


class Started:
    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc, self.log = proc, log

    @property
    def rq_name(self) -> str:
        for line in self.log.read_text().splitlines():
            if ": subscribing to channel rq:pubsub:" in line:
                return line.rsplit("rq:pubsub:", 1)[1].strip()
        raise AssertionError(f"no RQ worker name in the log:\n{self.log.read_text()}")

    def children(self) -> list[int]:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
            except (OSError, ValueError):
                continue
            if fields.get("PPid", "").strip() == str(self.proc.pid):
                found.append(int(status.parent.name))
        return found


class Workers:
    """``start(**env)`` starts a ``jiebang worker``; ``ready(...)`` waits until they listen;
    ``stop(w, bound)`` sends SIGTERM and returns how long the exit took."""

    def __init__(self, settings, tmp_path: Path, stop_gracefully) -> None:
        self.env = {
            **os.environ,
            "JIEBANG_ENV": "test",
            "JIEBANG_DATABASE_URL": settings.database_url,
            "JIEBANG_DATA_DIR": str(settings.data_dir),
            "JIEBANG_REDIS_URL": settings.redis_url,
            "JIEBANG_QUEUE_NAME": settings.queue_name,
            "JIEBANG_SECRET_KEY": "stop",
        }
        self.tmp, self.stop_gracefully = tmp_path, stop_gracefully
        self.started: list[Started] = []

    def start(self, **extra: str) -> Started:
        log = self.tmp / f"worker-{len(self.started)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [JIEBANG, "worker"], env={**self.env, **extra}, stdout=out, stderr=subprocess.STDOUT
            )
        self.started.append(Started(proc, log))
        return self.started[-1]

    def ready(self, *started: Started) -> None:
        deadline = time.monotonic() + 120  # starting is slow on a loaded machine
        for worker in started:
            while "SIGTERM stops it" not in worker.log.read_text():
                assert worker.proc.poll() is None, worker.log.read_text()
                assert time.monotonic() < deadline, worker.log.read_text()
                time.sleep(0.05)

    def stop(self, worker: Started, bound: float) -> float:
        took = self.stop_gracefully([(worker.proc, worker.log)], timeout=bound)
        assert worker.proc.returncode == 0, worker.log.read_text()[-6000:]
        return took[worker.proc.pid]


@pytest.fixture
def workers(settings, engine, tmp_path, redis_conn, stop_gracefully):
    pool = Workers(settings, tmp_path, stop_gracefully)
    yield pool
    stop_gracefully([(w.proc, w.log) for w in pool.started], timeout=60)


def _until_catching(pid: int, sig: int, within: float = 60) -> None:
    """Wait until process ``pid`` has a handler for ``sig`` (its SigCgt mask)."""
    deadline = time.monotonic() + within
    while True:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(
            next(ln for ln in status.splitlines() if ln.startswith("SigCgt:")).split()[1], 16
        )
        if caught & (1 << (sig - 1)):
            return
        assert time.monotonic() < deadline, f"process {pid} never caught signal {sig}"
        time.sleep(0.02)


def _gone(pids: list[int], within: float = 5) -> bool:
    deadline = time.monotonic() + within
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_listener_ends_at_once_after_reading_its_unsubscribe(settings, redis_conn):
    """The hang of issue 17, made certain: the command listener has read the reply to an
    UNSUBSCRIBE and waits for a subscription (RQ's own stop waited out its 60 s poll)."""

    class Watchdog:
        def __init__(self) -> None:
            self.armed: list[float] = []

        def arm(self, seconds: float) -> None:
            self.armed.append(seconds)

    watchdog = Watchdog()
    worker = EvaluatorWorker(
        [Queue(settings.queue_name, connection=redis_conn)],
        connection=redis_conn,
        watchdog=watchdog,
    )
    worker.subscribe()
    deadline = time.monotonic() + 10
    while not worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.pubsub.unsubscribe()
    while worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not worker.pubsub.subscribed  # the listener handled the reply
    start = time.monotonic()
    worker.teardown()
    assert time.monotonic() - start < 2
    assert not worker.pubsub_thread.is_alive()
    assert watchdog.armed  # a stop is always guarded


def test_idle_workers_stop_at_once_every_time(workers, settings, redis_conn):
    rq_queue = Queue(settings.queue_name, connection=redis_conn)
    took = []
    for waits in ((0, 0.7, 1.5), (0.2, 1.0, 2.5)):  # stopped at different moments of a poll
        started = [workers.start() for _ in waits]
        workers.ready(*started)
        children = [pid for w in started for pid in w.children()]
        assert len(children) == 1  # one scheduler, in whichever worker got the lock
        for worker, wait in zip(started, waits, strict=True):
            time.sleep(wait)
            took.append(workers.stop(worker, IDLE_S))
        assert _gone(children)
        assert Worker.all(queue=rq_queue) == []  # each said it was gone
    assert max(took) < IDLE_S, took


def test_the_scheduler_holding_its_lock_stops_with_its_worker(workers, settings, redis_conn):
    lock = f"rq:scheduler-lock:{settings.queue_name}"
    first = workers.start()
    workers.ready(first)
    (scheduler,) = first.children()
    assert redis_conn.exists(lock)
    assert workers.stop(first, IDLE_S) < IDLE_S
    assert _gone([scheduler])
    assert not redis_conn.exists(lock)  # released, so another worker's scheduler takes over

    # A scheduler that does not answer its SIGTERM (frozen here) is killed.
    second = workers.start()
    workers.ready(second)
    (frozen,) = second.children()
    # Frozen before it handles SIGTERM, the scheduler would simply die of it: freeze it
    # once it catches SIGTERM, as it does from its first loop on.
    _until_catching(frozen, signal.SIGTERM)
    os.kill(frozen, signal.SIGSTOP)
    assert workers.stop(second, SCHEDULER_STOP_S + IDLE_S) < SCHEDULER_STOP_S + IDLE_S
    assert _gone([frozen])
    assert "did not stop; killing it" in second.log.read_text()


@pytest.mark.parametrize("trouble", ["down", "stall"])
def test_a_worker_stops_while_redis_is_unreachable(workers, settings, trouble):
    proxy = RedisProxy(settings.redis_url)
    try:
        worker = workers.start(JIEBANG_REDIS_URL=proxy.url)
        workers.ready(worker)
        time.sleep(0.5)  # waiting for work (RQ quits if Redis fails it before)
        proxy.set(trouble)
        time.sleep(1.5)  # long enough for the worker to be in the middle of it
        assert workers.stop(worker, UNREACHABLE_S) < UNREACHABLE_S
    finally:
        proxy.close()


def test_a_worker_stops_at_once_after_redis_came_back(workers, settings, redis_conn):
    proxy = RedisProxy(settings.redis_url)
    try:
        worker = workers.start(JIEBANG_REDIS_URL=proxy.url)
        workers.ready(worker)
        name = worker.rq_name
        time.sleep(0.5)  # waiting for work (RQ quits if Redis fails it before)
        proxy.set("down")
        time.sleep(2)
        proxy.set("up")
        back = dt.datetime.now(dt.UTC)

        def recovered() -> bool:
            listening = f"rq:pubsub:{name}".encode() in redis_conn.pubsub_channels("rq:pubsub:*")
            beat = redis_conn.hget(f"rq:worker:{name}", "last_heartbeat")
            return listening and beat is not None and utcparse(beat.decode()) > back

        deadline = time.monotonic() + 60
        while not recovered():
            assert time.monotonic() < deadline, worker.log.read_text()[-4000:]
            time.sleep(0.2)
        assert workers.stop(worker, IDLE_S) < IDLE_S
    finally:
        proxy.close()


SLEEPY = (
    "import csv, os, time\n"
    "time.sleep(SLEEP)\n"
    "rows = list(csv.DictReader(open('/input/test.csv')))\n"
    "out = open(os.environ['JIEBANG_OUTPUT'] + '/predictions.csv', 'w')\n"
    "out.write('id,prediction\\n')\n"
    "out.writelines(f\"{r['id']},{int(r['x']) % 2}\\n\" for r in rows)\n"
)


def _submit_sleeping(world, session, settings, redis_conn, sleep: float) -> int:
    challenge = world.challenge(
        opens_at="2020-01-01T00:00:00+00:00",
        closes_at="2099-01-01T00:00:00+00:00",
        resources={"cpus": 0.5, "memory_mb": 256, "time_limit_s": 60},
    )
    user = world.user("sleepy@example.com")
    world.team(challenge, user)
    session.commit()
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", SLEEPY.replace("SLEEP", str(sleep)))
    data.seek(0)
    sub = submit_and_enqueue(
        session,
        redis=redis_conn,
        user=user,
        challenge=challenge,
        upload=data,
        kind="bundle",
        blobs=open_context(settings).blobs,
        settings=settings,
    )
    return sub.id


def _until_running(session, sub_id: int, worker: Started) -> float:
    deadline = time.monotonic() + 120
    while True:
        session.expire_all()
        if session.get(Submission, sub_id).status == State.running:
            return time.monotonic()
        assert time.monotonic() < deadline, worker.log.read_text()[-4000:]
        time.sleep(0.1)


@pytest.mark.docker
def test_a_worker_stopped_mid_run_finishes_it_then_exits(
    workers, world, session, settings, redis_conn
):
    sleep = 4
    sub_id = _submit_sleeping(world, session, settings, redis_conn, sleep)
    worker = workers.start()
    running_since = _until_running(session, sub_id, worker)
    time.sleep(1)
    # The run's own remaining time, then the stop's: scoring and the teardown.
    bound = sleep + IDLE_S + 10
    workers.stop(worker, bound)
    assert time.monotonic() - running_since < sleep + bound
    session.expire_all()
    assert session.get(Submission, sub_id).status == State.scored


@pytest.mark.docker
def test_a_second_signal_hands_the_run_back(workers, world, session, settings, redis_conn):
    import sandboxes

    sub_id = _submit_sleeping(world, session, settings, redis_conn, 50)
    worker = workers.start()
    _until_running(session, sub_id, worker)
    client = sandboxes.connect(settings.docker_host)
    label = {"label": [f"jiebang.namespace={settings.namespace}", f"jiebang.submission={sub_id}"]}
    deadline = time.monotonic() + 60
    while not client.containers.list(filters=label):
        assert time.monotonic() < deadline, worker.log.read_text()[-4000:]
        time.sleep(0.1)
    worker.proc.send_signal(signal.SIGTERM)  # finish the run...
    time.sleep(1.5)  # (RQ takes a second signal within 1 s for a repeat of the first)
    assert workers.stop(worker, COLD_STOP_S) < COLD_STOP_S  # ...no: stop now
    session.expire_all()
    row = session.get(Submission, sub_id)
    assert (row.status, row.attempts) == (State.queued, 1)  # back for any worker, at once
    assert queue.job_exists(redis_conn, settings.queue_name, sub_id, 2)
    assert client.containers.list(all=True, filters=label) == []


STUCK = """
import threading
from evaluator.context import open_context
from evaluator.recovery import Heartbeat
from evaluator.stopping import Watchdog

ctx = open_context()
with Heartbeat(ctx.sessions, ctx.settings, SUBMISSION, 1):
    Watchdog(ctx.sessions).arm(0.5)
    threading.Event().wait()  # a stop that never ends
"""


def test_the_watchdog_ends_a_stuck_stop_and_hands_the_run_back(
    workers, world, session, settings, redis_conn
):
    from evaluator.jobs import _claim

    sub_id = _submit_sleeping(world, session, settings, redis_conn, 1)
    assert _claim(open_context(settings), sub_id) == 1
    done = subprocess.run(
        [sys.executable, "-c", STUCK.replace("SUBMISSION", str(sub_id))],
        env=workers.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "every thread's stack" in done.stderr and 'File "<string>"' in done.stderr
    session.expire_all()
    assert session.get(Submission, sub_id).status == State.queued


def test_a_stop_that_hangs_is_reported_with_its_stacks(tmp_path, stop_gracefully):
    """What the test helpers do with a worker that outlives its stop: stacks and log."""
    log = tmp_path / "stuck.log"
    program = (
        "import faulthandler, signal, threading\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
        "def hang_here():\n"
        "    print('started', flush=True)\n"
        "    threading.Event().wait()\n"
        "hang_here()\n"
    )
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", program], stdout=out, stderr=subprocess.STDOUT
        )
    while "started" not in log.read_text():
        time.sleep(0.05)
    with pytest.raises(AssertionError, match="still running 1 s after SIGTERM") as failed:
        stop_gracefully([(proc, log)], timeout=1)
    assert "in hang_here" in str(failed.value)
    assert proc.poll() is not None
