"""Pipeline benchmark: a trivial submission from accepted upload to ``scored``.

    .venv/bin/python -m benchmarks.pipeline                       # every section, a few minutes
    .venv/bin/python -m benchmarks.pipeline --sections overhead --rounds 40 --database postgresql

Real ``jiebang worker`` processes, real Redis, a real database (a SQLite file, or a
fresh PostgreSQL database), the real Docker engine. The submission is an image built
here FROM the base image that writes 1,000 predictions; it is loaded already (as after
its first upload), so each run measures the platform, not ``docker load``.

overhead    an idle worker; rounds alternate a raw hardened ``docker run --rm`` (the
            evaluator's own recipe as CLI flags) with a submission, accepted -> seen scored
throughput  chunks of submissions to two workers, in turn with chunks of raw runs on two
            parallel streams
scale       the same with 1, 2, 3, 4 workers: who ran what, and how busy the CPUs were
memory      one worker's RSS after every 100 submissions (idle between batches)

Every submission must be scored once: status, ``attempts == 1``, one
``submission.scored`` audit event and one container created (Docker's event stream).
``--compare DIR`` adds a second deployment (own database and queue, same image) whose
workers import the code from DIR, e.g. a copy from before a change, measured in the same
rounds. Timings are not asserted: the machines are shared.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.pipeline_world import World, open_world
from evaluator.models import State


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]  # total, idle + iowait


def _busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    return 1 - (after[1] - before[1]) / max(after[0] - before[0], 1)


def overhead(worlds: dict[str, World], runtime: str, rounds: int) -> None:
    """Rounds of one raw run and one submission per deployment, in turn; medians."""
    raw_world = worlds["platform"]
    times: dict[str, list[float]] = {"raw": [], **{k: [] for k in worlds}}
    parts: dict[str, list[tuple[float, float, float]]] = {k: [] for k in worlds}
    for index in range(rounds + 2):  # two warm-up rounds, not counted
        order = ["raw", *worlds]
        if index % 2:
            order.reverse()  # drift on a shared machine hits every side alike
        for name in order:
            if name == "raw":
                elapsed = raw_world.raw_run(runtime)
            else:
                world = worlds[name]
                sub_id, accepted = world.submit(runtime)
                seen = world.wait_one(sub_id)
                (row,) = world.fetch([sub_id])
                if row.status != State.scored:
                    raise RuntimeError(f"submission {sub_id} {row.status}; see {world.work}")
                elapsed = seen - accepted
                if index >= 2:
                    parts[name].append(
                        (row.started - accepted, row.finished - row.started, seen - row.finished)
                    )
            if index >= 2:
                times[name].append(elapsed)
    print(f"\n{runtime}: {rounds} rounds, medians in seconds")
    print(f"{'':<24}{'median':>8}{'overhead':>10}{'queue':>8}{'worker':>8}{'commit':>8}")
    print(f"{'raw docker run --rm':<24}{_median(times['raw']):>8.3f}")
    for name, world in worlds.items():
        paired = [p - r for p, r in zip(times[name], times["raw"], strict=True)]
        queue, work, commit = (_median(list(c)) for c in zip(*parts[name], strict=True))
        print(
            f"{_label(name, world):<24}{_median(times[name]):>8.3f}{_median(paired):>10.3f}"
            f"{queue:>8.3f}{work:>8.3f}{commit:>8.3f}"
        )
    print("overhead: median of (platform - raw) per round; queue: accepted -> claimed;")
    print("worker: claimed -> finished_at; commit: finished_at -> seen scored (polled, 5 ms)")


def _label(name: str, world: World) -> str:
    return "platform" if name == "platform" else f"platform ({Path(world.pythonpath).name})"


def _platform_chunk(world: World, runtime: str, count: int) -> dict:
    """Store ``count`` submissions, enqueue them at once, wait; their rate and CPU use."""
    ids = [world.submit(runtime, enqueue=False)[0] for _ in range(count)]
    before = _cpu_times()
    world.enqueue(ids)
    world.wait_all(ids)
    busy = _busy(before, _cpu_times())
    rows = world.fetch(ids)
    first, last = min(r.started for r in rows), max(r.finished for r in rows)
    return {"ids": ids, "rows": rows, "per_min": count / (last - first) * 60, "cpu": busy}


def _raw_chunk(world: World, runtime: str, count: int, streams: int) -> dict:
    """Raw runs a minute with ``streams`` parallel streams of ``count`` runs in all."""
    share = [count // streams + (i < count % streams) for i in range(streams)]
    before = _cpu_times()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(streams) as pool:
        futures = [
            pool.submit(lambda n: [world.raw_run(runtime) for _ in range(n)], n) for n in share
        ]
        for future in futures:
            future.result()  # a failed raw run fails the benchmark
    elapsed = time.perf_counter() - started
    return {"per_min": count / elapsed * 60, "cpu": _busy(before, _cpu_times())}


def _check(world: World, chunks: list[dict], created, workers) -> dict:
    """Each submission scored, on its first attempt, audited once, run in one container."""
    ids = [i for c in chunks for i in c["ids"]]
    rows = [r for c in chunks for r in c["rows"]]
    audited = world.audited(ids)
    found = [
        f"{sum(r.status != 'scored' for r in rows)} not scored",
        f"{sum(r.public_score != 1.0 for r in rows)} with a public score other than 1.0",
        f"{sum(r.attempts != 1 for r in rows)} with attempts != 1",
        f"{sum(audited[i] != 1 for i in ids)} without exactly one audit event",
        f"{sum(created[i] != 1 for i in ids)} without exactly one container",
    ]
    problems = [p for p in found if not p.startswith("0 ")]
    verdict = f"{len(ids)} each scored once" if not problems else "FAILED: " + ", ".join(problems)
    shares = sorted((sum(r.worker == w.name for r in rows) for w in workers), reverse=True)
    return {"verdict": verdict, "shares": shares}


def _alternate(worlds: dict[str, World], runtime: str, *, workers: int, chunks: int, chunk: int):
    """Chunks of raw runs and of submissions in turn; the workers stay up throughout."""
    pools = {name: world.start_workers(workers) for name, world in worlds.items()}
    results: dict[str, list] = {"raw": [], **{name: [] for name in worlds}}
    with contextlib.ExitStack() as stack:
        created = {name: stack.enter_context(w.watch_containers()) for name, w in worlds.items()}
        for index in range(chunks):
            order = ["raw", *worlds]
            for name in order[index % len(order) :] + order[: index % len(order)]:
                if name == "raw":
                    result = _raw_chunk(worlds["platform"], runtime, chunk, workers)
                else:
                    result = _platform_chunk(worlds[name], runtime, chunk)
                results[name].append(result)
        for name, world in worlds.items():
            world.stop_workers(pools[name])
    checks = {
        name: _check(world, results[name], created[name], pools[name])
        for name, world in worlds.items()
    }
    return results, checks


def _rate(chunks: list[dict]) -> float:
    return _median([c["per_min"] for c in chunks])


def throughput(worlds: dict[str, World], runtime: str, count: int, workers: int, chunk: int):
    chunks = max(1, count // chunk)
    results, checks = _alternate(worlds, runtime, workers=workers, chunks=chunks, chunk=chunk)
    raw = _rate(results["raw"])
    print(f"\n{runtime}: {workers} workers, {chunks} chunks of {chunk} in turn; medians a minute")
    print(f"{f'raw docker run --rm, {workers} streams':<36}{raw:6.0f}")
    for name, world in worlds.items():
        rate = _rate(results[name])
        print(
            f"{f'{_label(name, world)}, {workers} workers':<36}{rate:6.0f}  ({rate / raw:.0%} "
            f"of raw); shares {checks[name]['shares']}; {checks[name]['verdict']}"
        )


def scale(world: World, runtime: str, count: int, most: int, chunks: int = 2) -> None:
    chunk = max(1, count // chunks)
    print(f"\n{runtime}: {chunks} chunks of {chunk} per line, in turn with raw runs; medians")
    print(f"{'workers':>7}{'a minute':>10}{'raw':>7}{'ratio':>7}{'CPU busy':>10}  shares")
    for workers in range(1, most + 1):
        results, checks = _alternate(
            {"platform": world}, runtime, workers=workers, chunks=chunks, chunk=chunk
        )
        rate, raw = _rate(results["platform"]), _rate(results["raw"])
        cpu = _median([c["cpu"] for c in results["platform"]])
        check = checks["platform"]
        print(
            f"{workers:>7}{rate:>10.0f}{raw:>7.0f}{rate / raw:>7.0%}{cpu:>10.0%}  "
            f"{check['shares']}  {check['verdict']}"
        )


def memory(world: World, runtime: str, count: int, every: int = 100) -> None:
    (worker,) = world.start_workers(1)
    for _ in range(5):  # warm: caches filled, first-use imports done
        world.wait_one(world.submit(runtime)[0])
    samples = [(0, worker.rss_kib())]
    done = 0
    while done < count:
        ids = [world.submit(runtime)[0] for _ in range(min(every, count - done))]
        world.wait_all(ids)
        done += len(ids)
        samples.append((done, worker.rss_kib()))
    world.stop_workers([worker])
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]

    def slope(first: int) -> str:
        if len(xs) - first < 3:
            return "n/a"
        return f"{statistics.linear_regression(xs[first:], ys[first:]).slope * every:+.0f}"

    print(f"\n{runtime}: one worker's RSS after every {every} submissions, MiB")
    print("  ".join(f"{n}: {kib / 1024:.1f}" for n, kib in samples))
    print(
        f"first {ys[0] / 1024:.1f} MiB, last {ys[-1] / 1024:.1f} MiB; least-squares slope "
        f"{slope(0)} KiB per {every} submissions, {slope(len(xs) // 2)} over the second half"
    )
    url = world.settings.database_url
    if url.startswith("sqlite:///"):
        size = Path(url.removeprefix("sqlite:///")).stat().st_size
        print(f"SQLite file {size / 1024**2:.1f} MiB (each connection caches up to 2 MiB of it)")


def profile(worlds: dict[str, World], runtime: str, count: int, rounds: int) -> None:
    """Each deployment's steps, timed in a process of its own code (``pipeline_profile``)."""
    root = Path(__file__).resolve().parents[1]
    found: dict[str, list[dict]] = {name: [] for name in worlds}
    for _ in range(rounds):
        for name, world in worlds.items():
            ids = [world.submit(runtime, enqueue=False)[0] for _ in range(count + 2)]
            tree = world.pythonpath or str(root)
            env = dict(os.environ, **world.environment(), PYTHONPATH=tree)
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.pipeline_profile", *map(str, ids)],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.splitlines()[-1])
            if result["statuses"] != [State.scored]:
                raise RuntimeError(f"profile runs ended {result['statuses']}")
            found[name].append(result)

    def mean(name: str, step: str, index: int = 1) -> float:
        return statistics.fmean(r["steps"].get(step, [0, 0])[index] for r in found[name])

    steps = {step for results in found.values() for r in results for step in r["steps"]}
    order = sorted(steps, key=lambda step: -mean("platform", step))
    names = list(worlds)
    print(f"\n{runtime}: {rounds} x {count} jobs in one process each; mean ms per job")
    print(f"{'step':<52}" + "".join(f"{_label(n, worlds[n]):>24}" for n in names))
    job = "".join(f"{statistics.fmean(r['job_ms'] for r in found[n]):>24.1f}" for n in names)
    print(f"{'run_evaluation, whole job':<52}{job}")
    for step in order:
        if max(mean(n, step) for n in names) < 0.05:
            continue
        cells = "".join(f"{mean(n, step):>15.1f} ({mean(n, step, 0):.0f} calls)" for n in names)
        print(f"{step:<52}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline")
    parser.add_argument("--sections", default="overhead,profile,throughput,scale,memory")
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql or a URL")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--runtimes", default="runc,runsc", help="for the overhead section")
    parser.add_argument("--rounds", type=int, default=20, help="overhead: rounds per runtime")
    parser.add_argument("--profile", type=int, default=20, help="profile: jobs per round")
    parser.add_argument("--throughput", type=int, default=200, help="submissions")
    parser.add_argument("--chunk", type=int, default=50, help="throughput: chunk size")
    parser.add_argument("--workers", type=int, default=2, help="throughput: workers")
    parser.add_argument("--scale", type=int, default=60, help="submissions per worker count")
    parser.add_argument("--max-workers", type=int, default=4)
    parser.add_argument("--memory", type=int, default=500, help="submissions")
    parser.add_argument("--rows", type=int, default=1000, help="test rows (predictions)")
    parser.add_argument("--compare", metavar="DIR", help="also a deployment of the code in DIR")
    args = parser.parse_args(argv)
    sections = args.sections.split(",")
    runtimes = args.runtimes.split(",")
    options = dict(
        database=args.database,
        redis_url=args.redis_url,
        runtimes=sorted({"runc", *runtimes}),
        rows=args.rows,
    )
    with contextlib.ExitStack() as stack:
        world = stack.enter_context(open_world(**options))
        worlds = {"platform": world}
        if args.compare:
            other = open_world(**options, like=world, pythonpath=str(Path(args.compare).resolve()))
            worlds["compare"] = stack.enter_context(other)
        print(
            f"database {world.settings.database_url.split(':')[0]}, {args.rows} predictions, "
            f"platform default runtime {world.settings.sandbox_runtime}; work in {world.work}"
        )
        if "overhead" in sections:
            for each in worlds.values():
                each.start_workers(1)
            for runtime in runtimes:
                overhead(worlds, runtime, args.rounds)
            for each in worlds.values():
                each.stop_workers()
        if "profile" in sections:
            profile(worlds, "runc", args.profile, rounds=3)
        if "throughput" in sections:
            throughput(worlds, "runc", args.throughput, args.workers, args.chunk)
        if "scale" in sections:
            scale(world, "runc", args.scale, args.max_workers)
        if "memory" in sections:
            memory(world, "runc", args.memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
