"""The three example challenges end to end, with real processes: a sponsor lists them
from the web form and the CLI, an administrator approves them on the admin page, teams
form and submit from the web and the CLI, a real worker runs every submission in Docker
(and the detection challenge's scoring program in its own sandbox), and the API boards
show every metric.

The images are built once per module (seconds: the layers are cached on the engine).
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

import sandboxes
from jiebang.accounts import Role
from jiebang.tokens import issue_token
from web import demo

pytestmark = [pytest.mark.docker, pytest.mark.slow]
DIGITS, IMAGES, DAMAGE = demo.EXAMPLES
assert (DIGITS.slug, IMAGES.slug, DAMAGE.slug) == (
    "handwritten-digits",
    "digit-images",
    "container-damage",
)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    """Each example's bundle folder, open from an hour ago for 30 days."""
    root = tmp_path_factory.mktemp("tasks")
    return {
        e.slug: demo.prepare_bundle(root / e.folder, now=demo.utcnow(), example=e)
        for e in demo.EXAMPLES
    }


@pytest.fixture(scope="module")
def archives(bundles, docker_host, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """`docker save` archives of the submissions that go up as images, by (slug, name);
    the base and scorer images made first if this engine lacks them."""
    from sandboxes.scorer_image import build_scorer_image, download_wheels

    client = sandboxes.connect(docker_host)
    if sandboxes.base_image_id(client) is None:
        sandboxes.build_base_image(client)
    download_wheels()  # nothing to do once scripts/setup.sh has filled the cache
    build_scorer_image(client)  # a no-op when its recipe is up to date
    work = tmp_path_factory.mktemp("archives")
    found = {}
    for example, names in ((DAMAGE, ("good", "weak")), (IMAGES, ("good",)), (DIGITS, ("good",))):
        built = demo.build_submission_archives(
            client, bundles[example.slug], work, names=names, example=example
        )
        found |= {(example.slug, name): path for name, path in built.items()}
    return found


def _code_bundle(dest: Path, example: demo.Example, name: str, bundle: Path) -> Path:
    """An example submission as a code bundle: its main.py (reading its files next to
    itself, /code/ rather than the image's /app/) and the bundle files it trains on."""
    main = (demo.example_dir(example) / "submissions" / name / "main.py").read_text()
    with zipfile.ZipFile(dest, "w") as archive:
        archive.writestr("main.py", main.replace("/app/", "/code/"))
        for wanted in example.build_files:
            paths = (
                sorted((bundle / wanted).rglob("*")) if wanted.endswith("/") else [bundle / wanted]
            )
            for path in paths:
                archive.write(path, path.relative_to(bundle).as_posix())
    return dest


def _code_folder(dest: Path, example: demo.Example, name: str, bundle: Path) -> Path:
    with zipfile.ZipFile(_code_bundle(dest.with_suffix(".zip"), example, name, bundle)) as z:
        z.extractall(dest)
    return dest


def _web_team(user, slug: str, name: str) -> None:
    made = user.post(f"/challenges/{slug}/team", f"/challenges/{slug}/teams", {"name": name})
    assert made.ok and "join code" in made.text.lower(), made.text[-2000:]


def _web_submit(user, slug: str, kind: str, path: Path, note: str) -> int:
    """The team page's upload form, as posted without scripts: the answer is the
    submission's page."""
    done = user.post(
        f"/challenges/{slug}/team",
        f"/challenges/{slug}/submissions",
        {"kind": kind, "note": note},
        files={"file": path},
    )
    assert done.ok, done.text[-2000:]
    found = re.search(r"/submissions/(\d+)$", done.url)
    assert found, f"the upload did not lead to a submission's page: {done.url}"
    return int(found.group(1))


def _cli_submit(client_run, token: str, slug: str, target: str, **extra: str) -> dict:
    done = client_run(token, "submit", slug, target, "--wait", "--json", ok=False, **extra)
    assert done.stderr.startswith("submission ") or "\nsubmission " in done.stderr, done.stderr
    return json.loads(done.stdout)  # --json: only the API's JSON on stdout


def _people(world, session) -> dict[str, str]:
    """The example organization, its sponsor, an administrator and six participants,
    made in the database the server uses (19 CLI processes took 40 s); API tokens by
    email, with the scopes `jiebang users token` gives."""
    org = world.org("example-logistics")
    found = {"sponsor@example.com": world.user("sponsor@example.com", "sponsor", org=org)}
    found["admin@example.com"] = world.user("admin@example.com", "admin")
    for name in ("port", "weak", "pipe", "pixel", "tree", "svm"):
        found[f"{name}@example.com"] = world.user(f"{name}@example.com")
    session.flush()
    tokens = {
        email: issue_token(
            session, user=user, scope="submit" if user.role == Role.participant else "manage"
        )
        for email, user in found.items()
    }
    session.commit()
    return tokens


def test_three_kinds_of_challenge_from_the_web_and_the_cli(
    api, client_run, web_user, world, session, bundles, archives, tmp_path
):
    tokens = _people(world, session)

    # The sponsor lists digit-images with the page's bundle form, the other two with
    # `jiebang challenges push`; each is sent for review, then approved by an admin.
    sponsor = web_user("sponsor@example.com")
    zipped = shutil.make_archive(str(tmp_path / "digit-images"), "zip", bundles[IMAGES.slug])
    listed = sponsor.post("/sponsor", "/sponsor/challenges", {}, files={"bundle": Path(zipped)})
    assert listed.ok and "digit-images" in listed.text, listed.text[-2000:]
    review = sponsor.post("/sponsor", f"/sponsor/challenges/{IMAGES.slug}/review", {})
    assert review.ok
    for example in (DAMAGE, DIGITS):
        pushed = client_run(
            tokens["sponsor@example.com"], "challenges", "push", str(bundles[example.slug])
        )
        assert f"uploaded {example.slug} (draft)" in pushed.stdout
        sent = api.post(f"/api/v1/challenges/{example.slug}/review", tokens["sponsor@example.com"])
        assert sent.status_code == 200, sent.text
    admin = web_user("admin@example.com")
    for example in demo.EXAMPLES:
        assert api.get(f"/api/v1/challenges/{example.slug}").status_code == 404  # not yet
        approved = admin.post(
            "/admin", f"/admin/challenges/{example.slug}/approve", {"confirm": "yes"}
        )
        assert approved.ok
        assert api.get(f"/api/v1/challenges/{example.slug}").json()["status"] == "open"

    # Teams: three on the detection challenge, two on each other; formed on the team
    # page or with `jiebang teams create`.
    web = {email: web_user(f"{email}@example.com") for email in ("weak", "pipe", "pixel", "tree")}
    _web_team(web["weak"], DAMAGE.slug, DAMAGE.teams["weak"])
    _web_team(web["pipe"], DAMAGE.slug, DAMAGE.teams["broken"])
    _web_team(web["pixel"], IMAGES.slug, IMAGES.teams["good"])
    _web_team(web["tree"], DIGITS.slug, DIGITS.teams["baseline"])
    for email, example, name in (
        ("port", DAMAGE, "good"),
        ("weak", IMAGES, "weak"),
        ("svm", DIGITS, "good"),
    ):
        made = client_run(
            tokens[f"{email}@example.com"], "teams", "create", example.slug, example.teams[name]
        )
        assert "join code" in made.stdout

    # From the CLI, each waiting for its result (an archive, a folder), alongside the
    # uploads from the web: image archives and code bundles through the team page's form.
    work = tmp_path / "uploads"
    work.mkdir()
    folder = _code_folder(work / "images-weak", IMAGES, "weak", bundles[IMAGES.slug])
    from_cli = {
        "damage-good": ("port", DAMAGE.slug, archives[(DAMAGE.slug, "good")]),
        "images-weak": ("weak", IMAGES.slug, folder),
        "digits-good": ("svm", DIGITS.slug, archives[(DIGITS.slug, "good")]),
    }
    with ThreadPoolExecutor(len(from_cli)) as pool:
        waiting = {
            key: pool.submit(
                _cli_submit, client_run, tokens[f"{who}@example.com"], slug, str(target)
            )
            for key, (who, slug, target) in from_cli.items()
        }
        ids = {
            "damage-weak": _web_submit(
                web["weak"], DAMAGE.slug, "image", archives[(DAMAGE.slug, "weak")], "weak"
            ),
            "damage-broken": _web_submit(
                web["pipe"],
                DAMAGE.slug,
                "bundle",
                _code_bundle(work / "broken.zip", DAMAGE, "broken", bundles[DAMAGE.slug]),
                "broken",
            ),
            "images-good": _web_submit(
                web["pixel"], IMAGES.slug, "image", archives[(IMAGES.slug, "good")], "good"
            ),
            "digits-baseline": _web_submit(
                web["tree"],
                DIGITS.slug,
                "bundle",
                _code_bundle(work / "baseline.zip", DIGITS, "baseline", bundles[DIGITS.slug]),
                "baseline",
            ),
        }
        cli_results = {key: future.result() for key, future in waiting.items()}
    port = cli_results["damage-good"]
    owners = {
        "damage-weak": "weak",
        "damage-broken": "pipe",
        "images-good": "pixel",
        "digits-baseline": "tree",
    }
    results = {key: api.wait(ids[key], tokens[f"{owners[key]}@example.com"]) for key in ids}
    results |= cli_results
    for key in set(results) - {"damage-broken"}:
        assert results[key]["status"] == "scored", (key, results[key])

    # Detection: three metric columns per entry, ranked by mAP@0.5, targets on two of them.
    board = api.get(f"/api/v1/challenges/{DAMAGE.slug}/leaderboard").json()
    assert board["metric"] == "map50"
    entries = board["entries"]
    assert [e["team"] for e in entries] == [DAMAGE.teams["good"], DAMAGE.teams["weak"]]
    for entry in entries:
        assert set(entry["metrics"]) == {"map50", "map", "recall"}
        assert entry["score"] == entry["metrics"]["map50"]
    good, weak = (e["metrics"] for e in entries)
    assert good["map50"] >= 0.6 and good["recall"] >= 0.5
    assert good["map50"] > weak["map50"] and good["map"] > weak["map"]
    assert [e["meets_targets"] for e in entries] == [True, False]
    assert results["damage-good"]["public_metrics"] == good
    # Their titles in the reader's language; the CLI's board prints every metric too.
    for lang, recall in (("en", "Recall (AR@100)"), ("zh-CN", "召回率 (AR@100)")):
        detail = requests.get(
            f"{api.url}/api/v1/challenges/{DAMAGE.slug}",
            headers={"Accept-Language": lang},
            timeout=30,
        ).json()
        assert [m["name"] for m in detail["metrics"]] == ["map50", "map", "recall"]
        assert detail["metrics"][2]["title"] == recall
    printed = client_run(tokens["port@example.com"], "leaderboard", DAMAGE.slug).stdout
    head, first_row, _second = printed.splitlines()
    assert head.split() == ["rank", "team", "map50", "map", "recall", "targets"]
    assert first_row.split()[-4:] == [f"{good[m]:.4f}" for m in ("map50", "map", "recall")] + [
        "yes"
    ]

    # The broken detections: refused by the scoring program, in its own words.
    broken = results["damage-broken"]
    assert broken["status"] == "failed" and broken["failure"] == "bad_output", broken
    assert "detections.json is not valid JSON" in broken["message"], broken["message"]
    # The scoring program's log: the overseers' to read, never the team's. Before the
    # close that is the administrators; after it the sponsor too.
    teams_of = {ids["damage-broken"]: "pipe@example.com", port["id"]: "port@example.com"}

    def views(email: str) -> dict[int, dict]:
        return {
            sub: api.get(f"/api/v1/submissions/{sub}", tokens[email]).json() for sub in teams_of
        }

    # (The detection template prints nothing when all goes well: "" is a log, None is none.)
    assert all(view["scorer_log"] is not None for view in views("admin@example.com").values())
    assert (
        api.get(f"/api/v1/submissions/{port['id']}", tokens["sponsor@example.com"]).status_code
        == 404
    )
    closed = api.post(f"/api/v1/challenges/{DAMAGE.slug}/close", tokens["admin@example.com"])
    assert closed.status_code == 200, closed.text
    for sub, view in views("sponsor@example.com").items():
        assert view["scorer_log"] is not None, view
        assert (
            api.get(f"/api/v1/submissions/{sub}", tokens[teams_of[sub]]).json()["scorer_log"]
            is None
        )
    assert broken["scorer_log"] is None

    # The image folder and the table: one built-in metric each, good ahead of the rest.
    for example, metric, first, second in (
        (IMAGES, "accuracy", "good", "weak"),
        (DIGITS, "f1_macro", "good", "baseline"),
    ):
        entries = api.get(f"/api/v1/challenges/{example.slug}/leaderboard").json()["entries"]
        assert [e["team"] for e in entries] == [example.teams[first], example.teams[second]]
        assert [e["meets_targets"] for e in entries] == [True, False]
        for entry in entries:
            assert entry["metrics"] == {metric: entry["score"]}
