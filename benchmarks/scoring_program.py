"""Scoring programs and folders of inputs at size (issue 13's performance targets).

    .venv/bin/python -m benchmarks.scoring_program                     # 5 GB inputs, full board
    .venv/bin/python -m benchmarks.scoring_program --quick             # 0.5 GB, smaller board
    .venv/bin/python -m benchmarks.scoring_program --sections overhead --runtimes runc,runsc

- **overhead**: one trivial scorer run through ``evaluator.scorer.run_scorer`` (the
  hardened recipe, the contract's mounts and limits, its verdict read) against a plain
  ``docker run --rm`` of it through the Docker SDK (same image, same mounts, no hardening),
  alternating, ``--runs`` each per runtime.
- **inputs**: a folder of ``--gb`` of random files, packed with ``challenges.folders.pack``
  into a blob; ``evaluator.inputs.ensure_inputs`` the first time (unpacking) against
  ``tar -x`` of the blob and ``cp -r`` of the folder (disk speed, same run), the second time
  (prepared already), and a participant run with the big /input against a tiny one.
- **boards**: ``benchmarks.boards`` at 10,000 teams / 500,000 submissions with one metric
  (the digits table) and with three (the detection example), side by side.

Everything is made in one temporary folder, databases and containers are named after one
nonce, and all of it is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import sandboxes
from benchmarks import boards
from benchmarks.pipeline_docker import LABEL
from benchmarks.postgres import SERVER, drop_database, make_database
from challenges import folders
from challenges.models import Challenge, ChallengeFile, FileRole
from evaluator import inputs, scorer
from evaluator.context import Context
from jiebang.settings import Settings, load_settings
from sandboxes import hardening

ITEMS = 1000
NAMES = ["acc", "err", "n"]
# Reads one small predictions file and the labels, writes scores.json: stdlib only, so the
# run is Docker and the interpreter starting.
SCORE_PY = """\
import json, os
env = os.environ
def rows(path):
    with open(path) as f:
        next(f)
        return dict(line.strip().split(",") for line in f)
pred = rows(env["JIEBANG_PREDICTIONS"] + "/predictions.csv")
truth = rows(env["JIEBANG_REFERENCE"] + "/labels.csv")
scores = {}
for side in ("public", "private"):
    ids = open(env["JIEBANG_SPLIT"] + "/" + side + ".txt").read().split()
    right = sum(pred.get(i) == truth[i] for i in ids) / len(ids)
    scores[side] = {"acc": right, "err": 1 - right, "n": len(ids)}
json.dump(scores, open(env["JIEBANG_SCORES"] + "/scores.json", "w"))
"""
PROBE = ["python3", "-c", "import os; open('/output/n', 'w').write(str(os.listdir('/input')))"]


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --- overhead -------------------------------------------------------------------------


def _scorer_folders(work: Path) -> dict[str, Path]:
    """The scorer's four read-only folders, as the worker prepares them."""
    made = {name: work / name for name in ("scoring", "predictions", "reference", "split")}
    for path in made.values():
        path.mkdir(parents=True)
    ids = [f"item-{i:04d}" for i in range(ITEMS)]
    (made["scoring"] / "score.py").write_text(SCORE_PY)
    guesses = "".join(f"{item},{i % 3 % 2}\n" for i, item in enumerate(ids))
    (made["predictions"] / "predictions.csv").write_text("id,prediction\n" + guesses)
    labels = "".join(f"{item},{i % 2}\n" for i, item in enumerate(ids))
    (made["reference"] / "labels.csv").write_text("id,label\n" + labels)
    (made["split"] / "public.txt").write_text("".join(f"{i}\n" for i in ids[::3]))
    private = [i for n, i in enumerate(ids) if n % 3]
    (made["split"] / "private.txt").write_text("".join(f"{i}\n" for i in private))
    for path in made.values():
        folders.read_only(path)
    return made


def _ours(client, image_id: str, runtime: str, made: dict[str, Path], work: Path, nonce: str):
    scored = scorer.run_scorer(
        client,
        image_id=image_id,
        limits=scorer.limits_of(None, runtime),
        scratch=work / "scratch",
        program=made["scoring"],
        predictions=made["predictions"],
        reference=made["reference"],
        split=made["split"],
        names=NAMES,
        labels={LABEL: nonce},
    )
    if scored.failure:
        raise RuntimeError(f"the scorer failed: {scored.code}: {scored.log[-2000:]}")
    return scored.public, scored.private


def _raw(client, image_id: str, runtime: str, made: dict[str, Path], work: Path, nonce: str):
    """``docker run --rm -v ...:ro -v scores:/scores IMAGE python /scoring/score.py``."""
    scores = Path(tempfile.mkdtemp(dir=work))
    scores.chmod(0o777)
    volumes = {str(path): {"bind": f"/{name}", "mode": "ro"} for name, path in made.items()}
    volumes[str(scores)] = {"bind": "/scores", "mode": "rw"}
    client.containers.run(
        image_id,
        scorer.COMMAND,
        environment=scorer.ENVIRONMENT,
        volumes=volumes,
        runtime=runtime,
        labels={LABEL: nonce},
        remove=True,
    )
    data = json.loads((scores / scorer.SCORES).read_text())
    shutil.rmtree(scores)
    return data["public"], data["private"]


def _hardened(client, image_id: str, runtime: str, made: dict[str, Path], work: Path, nonce: str):
    """The same recipe as ``run_scorer`` (``hardening.create_kwargs``), run through the SDK
    with nothing around it: no scratch tmpfs, cgroup, log or verdict. Splits the added
    time into the recipe's (Docker doing more) and the platform's own."""
    scores = Path(tempfile.mkdtemp(dir=work))
    scores.chmod(0o777)
    spec = hardening.Spec(
        image_id=image_id,
        image_config=client.api.inspect_image(image_id).get("Config") or {},
        input_dir=None,
        output_dir=scores,
        code_dir=None,
        command=scorer.COMMAND,
        labels={LABEL: nonce},
        output_at="/scores",
        mounts={f"/{name}": path for name, path in made.items()},
        environment=scorer.ENVIRONMENT,
    )
    kwargs = hardening.create_kwargs(spec, scorer.limits_of(None, runtime))
    container = client.containers.create(**{k: v for k, v in kwargs.items() if k != "detach"})
    try:
        container.start()
        container.wait()
    finally:
        container.remove(force=True)
    data = json.loads((scores / scorer.SCORES).read_text())
    shutil.rmtree(scores)
    return data["public"], data["private"]


def overhead(ctx: Context, work: Path, nonce: str, runtimes: list[str], runs: int) -> None:
    client = ctx.docker
    image_id, image = _scorer_image(client)
    made = _scorer_folders(work / "overhead")
    print(f"\n## scorer overhead: {image}, {ITEMS:,} predictions, {runs} runs each, seconds")
    print(
        f"{'runtime':8} {'raw docker run':>15} {'raw, hardened':>14} {'run_scorer':>11} "
        f"{'added':>8} {'of which recipe':>16}  target 0.3"
    )
    for runtime in runtimes:
        args = (client, image_id, runtime, made, work / "overhead", nonce)
        expected = _raw(*args)  # warm-up, and the answer both must give
        _ours(*args)
        _hardened(*args)
        raw, hard, ours, added, recipe = [], [], [], [], []
        for n in range(runs):
            order = [(_raw, raw), (_hardened, hard), (_ours, ours)]
            for fn, into in order[n % 3 :] + order[: n % 3]:
                elapsed, answer = timed(lambda fn=fn, args=args: fn(*args))
                if answer != tuple(expected):
                    raise RuntimeError(f"{fn.__name__} scored {answer}, not {expected}")
                into.append(elapsed)
            added.append(ours[-1] - raw[-1])
            recipe.append(hard[-1] - raw[-1])
        verdict = "met" if median(added) <= 0.3 else "MISSED"
        print(
            f"{runtime:8} {median(raw):15.3f} {median(hard):14.3f} {median(ours):11.3f} "
            f"{median(added):+8.3f} {median(recipe):+16.3f}  {verdict}"
        )
    print("(added: run_scorer - raw, of which recipe: hardened - raw; medians of per-round")
    print(" differences; the order of the three turns each round)")


def _scorer_image(client) -> tuple[str, str]:
    with contextlib.suppress(Exception):
        return client.images.get(scorer.SCORER_IMAGE).id, scorer.SCORER_IMAGE
    return inputs.base_image(client), sandboxes.BASE_IMAGE


# --- a large folder of inputs ---------------------------------------------------------


def _make_folder(root: Path, total: int, file_bytes: int) -> int:
    """``total`` bytes of random files of ``file_bytes``, 1,000 a folder; the file count.
    Slices of one random buffer at shifting offsets: incompressible, no holes, fast."""
    block = os.urandom(64 << 20)
    view = memoryview(block)
    count = max(1, total // file_bytes)
    for i in range(count):
        folder = root / f"part-{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        start = (i * 7919 * 4096) % (len(block) - file_bytes)
        with open(folder / f"item-{i:06d}.bin", "wb") as f:
            f.write(view[start : start + file_bytes])
    return count


def _challenge(ctx: Context, folder: Path, slug: str) -> Challenge:
    """An unsaved challenge whose test inputs are ``folder``, packed into a blob."""
    incoming = ctx.blobs.receive()
    try:
        folders.pack(folder, incoming)
        blob = incoming.keep()
    finally:
        incoming.close()
    size = ctx.blobs.path(blob.sha256).stat().st_size
    inputs_file = ChallengeFile(
        role=FileRole.test_inputs.value, name="test/", sha256=blob.sha256, size=size
    )
    return Challenge(slug=slug, dataset_hash=blob.sha256, files=[inputs_file])


def _synced(fn) -> float:
    """Seconds for ``fn`` and then ``sync``: what reached the disk, not the page cache."""
    start = time.perf_counter()
    fn()
    os.sync()
    return time.perf_counter() - start


def _participant_run(ctx: Context, input_dir: Path, work: Path, runtime: str, nonce: str) -> float:
    limits = sandboxes.Limits(cpus=1, memory_mb=512, time_limit_s=60, runtime=runtime)
    start = time.perf_counter()
    with sandboxes.run(
        ctx.docker,
        image_id=inputs.base_image(ctx.docker),
        limits=limits,
        scratch_dir=work / "scratch",
        input_dir=input_dir,
        command=PROBE,
        labels={LABEL: nonce},
    ) as result:
        if result.exit_code != 0:
            raise RuntimeError(f"participant run: exit {result.exit_code}: {result.log[-2000:]}")
    return time.perf_counter() - start


def large_inputs(
    ctx: Context,
    work: Path,
    nonce: str,
    runtimes: list[str],
    runs: int,
    gb: float,
    file_kb: int,
    unpacks: int,
) -> None:
    total = int(gb * 1e9)
    free = shutil.disk_usage(work).free
    if free < 3.5 * total:
        raise SystemExit(
            f"{work} has {free / 1e9:.1f} GB free; the inputs section needs about "
            f"{3.5 * total / 1e9:.1f} GB (folder, blob, one copy at a time): use --gb or --dir"
        )
    source = work / "inputs-source"
    made, count = timed(lambda: _make_folder(source, total, file_kb * 1024))
    os.sync()
    packed, big = timed(lambda: _challenge(ctx, source, "big"))
    tiny_dir = work / "tiny-source"
    tiny_dir.mkdir()
    (tiny_dir / "item-000000.bin").write_bytes(os.urandom(file_kb * 1024))
    tiny = _challenge(ctx, tiny_dir, "tiny")
    os.sync()
    mb = total / 1e6
    print(
        f"\n## a folder of test inputs: {count:,} files of {file_kb} KiB, {mb:,.0f} MB "
        f"(made in {made:.1f} s, packed in {packed:.1f} s: {mb / packed:,.0f} MB/s)"
    )
    blob = ctx.blobs.path(big.dataset_hash)
    copies = work / "copies"

    def ensure() -> None:
        inputs.ensure_inputs(ctx, big)

    def untar() -> None:
        copies.mkdir()
        _run(["tar", "-xf", str(blob), "-C", str(copies)])

    def copy() -> None:
        _run(["cp", "-r", str(source), str(copies)])

    # Each unpacks the whole folder again (the prepared copy removed in between), in turn:
    # on a shared virtual disk one write of 5 GB can take twice as long as the next.
    cases = [("ensure_inputs, first time (unpack)", ensure), ("tar -x of the blob", untar)]
    cases.append(("cp -r of the folder", copy))
    seconds: dict[str, list[float]] = {label: [] for label, _ in cases}
    prepared = ctx.settings.data_dir / "inputs" / big.dataset_hash
    for n in range(unpacks):
        for label, fn in cases[n % 3 :] + cases[: n % 3]:
            seconds[label].append(_synced(fn))
            shutil.rmtree(prepared if fn is ensure else copies)
    prepared = inputs.ensure_inputs(ctx, big)
    second = median([timed(ensure)[0] for _ in range(runs)])
    print(f"each followed by sync, in the time; {unpacks} each, in turn     median s    MB/s  all")
    for label, times in seconds.items():
        every = " ".join(f"{t:.1f}" for t in times)
        print(f"{label:52} {median(times):9.2f} {mb / median(times):7,.0f}  {every}")
    print(f"{'ensure_inputs, second time':52} {second * 1e3:9.3f} ms (median of {runs})")

    small = inputs.ensure_inputs(ctx, tiny)
    print(f"\none participant run, {runs} each, alternating; seconds")
    print(f"{'runtime':8} {'tiny /input':>12} {'big /input':>11} {'difference':>11}")
    for runtime in runtimes:
        _participant_run(ctx, prepared, work, runtime, nonce)  # warm-up
        times: dict[str, list[float]] = {"tiny": [], "big": []}
        for n in range(runs):
            order = [("tiny", small), ("big", prepared)]
            for name, folder in order if n % 2 else reversed(order):
                times[name].append(_participant_run(ctx, folder, work, runtime, nonce))
        diff = median([b - t for b, t in zip(times["big"], times["tiny"], strict=True)])
        print(
            f"{runtime:8} {median(times['tiny']):12.3f} {median(times['big']):11.3f} {diff:+11.3f}"
        )


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True)


# --- boards with three metrics --------------------------------------------------------


def three_metric_boards(redis_url: str, teams: int, submissions: int, runs: int) -> None:
    figures = {}
    for three in (False, True):
        url, name = make_database(SERVER)
        tmp = Path(tempfile.mkdtemp(prefix="jiebang-boards-"))
        settings = Settings(
            database_url=url,
            redis_url=redis_url,
            data_dir=tmp,
            queue_name=f"bench-{uuid.uuid4().hex[:8]}",
            secret_key="benchmark-only",
        )
        try:
            from jiebang import migrate
            from jiebang.db import make_engine

            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            slug = boards.seed(settings, teams=teams, submissions=submissions, three_metrics=three)
            if three:
                _check_metrics(settings, slug)
            figures[three] = boards.measure_in_process(settings, slug, runs)
        finally:
            drop_database(SERVER, name)
            shutil.rmtree(tmp, ignore_errors=True)
            from redis import Redis

            boards._flush(Redis.from_url(redis_url), settings.namespace)
    print(
        f"\n## boards: {teams:,} teams, {submissions:,} submissions on PostgreSQL; "
        f"medians of {runs} runs, ms"
    )
    print(f"{'':42} {'1 metric':>9} {'3 metrics':>10} {'ratio':>6}")
    for (label, one), (_, three) in zip(figures[False], figures[True], strict=True):
        print(f"{label:42} {one:9.2f} {three:10.2f} {three / one:5.2f}x")


def _check_metrics(settings: Settings, slug: str) -> None:
    """The three-metric board really carries three metrics per entry."""
    from sqlalchemy import select

    import evaluator.models  # noqa: F401  (every table known)
    from jiebang.db import make_engine, make_sessionmaker
    from leaderboards import board

    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        item = session.scalar(select(Challenge).where(Challenge.slug == slug))
        entry = board.public_board(session, item, limit=1)[0]
        if sorted(entry.metrics) != ["map", "map50", "recall"]:
            raise RuntimeError(f"board entry metrics: {entry.metrics}")
    engine.dispose()


# --- the run --------------------------------------------------------------------------


def _clean(ctx: Context, nonce: str) -> None:
    client = ctx.docker
    for row in client.api.containers(all=True, filters={"label": f"{LABEL}={nonce}"}):
        client.api.remove_container(row["Id"], force=True, v=True)
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default="overhead,inputs,boards")
    parser.add_argument("--quick", action="store_true", help="0.5 GB, 2,000 teams, fewer runs")
    parser.add_argument("--runs", type=int, help="runs of each case (20; quick 8)")
    parser.add_argument("--runtimes", default="runc,runsc")
    parser.add_argument("--gb", type=float, help="size of the input folder (5; quick 0.5)")
    parser.add_argument("--file-kb", type=int, default=256, help="size of each input file")
    parser.add_argument("--unpacks", type=int, default=3, help="unpacks of each kind")
    parser.add_argument("--dir", help="where to make the data (default: a temporary folder)")
    parser.add_argument("--teams", type=int)
    parser.add_argument("--submissions", type=int)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    runs = args.runs or (8 if args.quick else 20)
    gb = args.gb or (0.5 if args.quick else 5.0)
    runtimes = args.runtimes.split(",")
    sections = args.sections.split(",")

    nonce = secrets.token_hex(4)
    work = Path(tempfile.mkdtemp(prefix=f"jiebang-scoring-{nonce}-", dir=args.dir))
    ctx = Context(load_settings(data_dir=work / "instance", redis_url=args.redis))
    try:
        if "overhead" in sections:
            overhead(ctx, work, nonce, runtimes, runs)
        if "inputs" in sections:
            large_inputs(ctx, work, nonce, runtimes, runs, gb, args.file_kb, args.unpacks)
    finally:
        _clean(ctx, nonce)
        sandboxes.remove_scratch_dir(work)  # root removes read-only folders too
    if "boards" in sections:
        teams = args.teams or (2000 if args.quick else 10_000)
        subs = args.submissions or (100_000 if args.quick else 500_000)
        three_metric_boards(args.redis, teams, subs, 5 if args.quick else 15)


if __name__ == "__main__":
    main()
