"""Measurement helpers: the polling fallback for peak memory, timestamps, log excerpts."""

from __future__ import annotations

import time

import pytest

from sandboxes import monitor


@pytest.mark.docker
def test_memory_poller_follows_a_running_container(client, base_image):
    code = "import time\nb = bytearray(60 * 1024 * 1024)\ntime.sleep(1.5)"
    container = client.containers.run(
        base_image, ["python", "-c", code], detach=True, network_mode="none"
    )
    try:
        container.reload()
        poller = monitor.MemoryPoller(container.id, container.attrs["State"]["Pid"]).start()
        container.wait(timeout=30)
        peak = poller.stop()
    finally:
        container.remove(force=True)
    assert peak is not None and peak > 60 * 1024**2


def test_memory_poller_without_a_cgroup_reports_none():
    poller = monitor.MemoryPoller("0" * 64, None).start()
    time.sleep(0.15)
    assert poller.stop() is None


def test_seconds_between_docker_timestamps():
    started, finished = "2026-01-01T00:00:00.123456789Z", "2026-01-01T00:00:02.623456789Z"
    assert monitor.seconds_between(started, finished) == pytest.approx(2.5)
    assert monitor.seconds_between("0001-01-01T00:00:00Z", "garbage") is None


def test_log_excerpt_keeps_the_tail_within_both_caps():
    raw = b"".join(b"line %d\n" % i for i in range(100))
    text, cut = monitor.log_excerpt(raw, max_bytes=1000, max_lines=10)
    assert cut and text.splitlines() == [f"line {i}" for i in range(90, 100)]
    text, cut = monitor.log_excerpt(raw, max_bytes=14, max_lines=10)
    assert cut and text == "ne 98\nline 99\n"
    assert monitor.log_excerpt(b"ok\n\xff", max_bytes=10, max_lines=10) == ("ok\n\ufffd", False)
