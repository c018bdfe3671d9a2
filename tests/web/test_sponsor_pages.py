"""The sponsor's challenge form (the same rules as a bundle), editing drafts, the dashboard."""

import io

import pytest

from challenges.models import Challenge

FORM = {
    "slug": "port-damage",
    "title_en": "Container damage",
    "title_zh": "集装箱箱损识别",
    "summary_en": "Find damaged containers.",
    "summary_zh": "识别受损集装箱。",
    "description": "# Port\n\nDetect damage.<script>alert(1)</script>",
    "scenario": "transport",
    "metric": "f1_macro",
    "target_direction": "at_least",
    "target_value": "0.9",
    "max_runtime_s": "60",
    "max_memory_mb": "",
    "prize_amount": "50000",
    "prize_currency": "CNY",
    "opens_at": "2026-12-01T09:00",
    "closes_at": "2027-03-01T18:00",
    "timezone": "Asia/Shanghai",
    "daily_submissions": "4",
    "total_submissions": "",
    "final_selections": "2",
    "team_size": "3",
    "running_submissions": "2",
    "cpus": "1",
    "memory_mb": "1024",
    "time_limit_s": "120",
    "runtime": "",
    "public_fraction": "0.4",
}


@pytest.fixture
def sponsor(client, world, session):
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    client.post("/login", data={"email": "s@example.com", "password": "password123"})


def _files(folder, **override):
    files = {
        "train": [(io.BytesIO((folder / "train.csv").read_bytes()), "train data.csv")],
        "test_inputs": (io.BytesIO((folder / "test.csv").read_bytes()), "x.csv"),
        "test_labels": (io.BytesIO((folder / "labels.csv").read_bytes()), "y.csv"),
    }
    files.update(override)
    return files


def _post(client, path, data, lang="en"):
    return client.post(
        path,
        data=data,
        content_type="multipart/form-data",
        headers={"Accept-Language": lang},
    )


def test_a_sponsor_creates_a_draft_through_the_form(client, sponsor, session, bundle_dir):
    assert client.get("/sponsor/challenges/new").status_code == 200
    response = _post(client, "/sponsor/challenges/new", {**FORM, **_files(bundle_dir)})
    assert response.status_code == 302, response.get_data(as_text=True)
    item = session.query(Challenge).one()
    assert (item.slug, item.status, item.sponsor.slug) == ("port-damage", "draft", "acme")
    assert item.targets == [{"metric": "f1_macro", "at_least": 0.9}, {"max_runtime_s": 60.0}]
    assert item.opens_at.isoformat() == "2026-12-01T01:00:00+00:00"  # 09:00 in Shanghai
    assert item.team_size == 3 and item.public_fraction == 0.4 and item.classes == ["0", "1"]
    assert sorted(f.name for f in item.files) == ["labels.csv", "test.csv", "train_data.csv"]
    preview = client.get("/challenges/port-damage").get_data(as_text=True)
    assert "Detect damage" in preview and "<script>alert" not in preview
    dashboard = client.get("/sponsor/challenges/port-damage").get_data(as_text=True)
    assert "Request review" in dashboard and "<svg" in dashboard


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "The challenge must close after it opens."), ("zh", "截止时间必须晚于开始时间")],
)
def test_mistakes_are_shown_next_to_their_fields(
    client, sponsor, session, bundle_dir, lang, expected
):
    bad = {**FORM, "slug": "Bad Slug", "closes_at": "2026-11-01T00:00", "daily_submissions": "0"}
    response = _post(client, "/sponsor/challenges/new", {**bad, **_files(bundle_dir)}, lang)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="closes_at-error"' in page and expected in page
    assert 'id="slug-error"' in page and 'id="daily_submissions-error"' in page
    assert 'aria-invalid="true"' in page
    assert session.query(Challenge).count() == 0


def test_what_only_the_bundle_check_finds_is_placed_too(client, sponsor, session, bundle_dir):
    wrong = io.BytesIO(b"id,label\nr000,0\nzzz,1\n")
    response = _post(
        client,
        "/sponsor/challenges/new",
        {**FORM, **_files(bundle_dir, test_labels=(wrong, "y.csv"))},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="test_labels-error"' in page
    assert "exactly the ids" in page
    missing = _post(
        client, "/sponsor/challenges/new", {**FORM, **_files(bundle_dir, test_inputs=None)}
    )
    assert missing.status_code == 400 and 'id="test_inputs-error"' in missing.get_data(as_text=True)


def test_only_drafts_are_edited_and_files_are_kept(client, sponsor, session, bundle_dir):
    _post(client, "/sponsor/challenges/new", {**FORM, **_files(bundle_dir)})
    item = session.query(Challenge).one()
    before = {f.name: f.sha256 for f in item.files}
    form = client.get("/sponsor/challenges/port-damage/edit").get_data(as_text=True)
    assert 'value="Container damage"' in form and 'value="2026-12-01T09:00"' in form
    changed = {**FORM, "title_en": "Container damage 2", "team_size": "4"}
    response = _post(client, "/sponsor/challenges/port-damage/edit", changed)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert item.title_en == "Container damage 2" and item.team_size == 4
    assert {f.name: f.sha256 for f in item.files} == before
    client.post("/sponsor/challenges/port-damage/review")
    session.expire_all()
    assert item.status == "in_review"
    refused = client.get("/sponsor/challenges/port-damage/edit")
    assert refused.status_code == 302
    _post(client, "/sponsor/challenges/port-damage/edit", {**changed, "title_en": "Sneaky"})
    session.expire_all()
    assert item.title_en == "Container damage 2"


def test_other_sponsors_cannot_see_or_edit(client, world, session, bundle_dir):
    world.challenge(publish=False)
    world.user("x@example.com", "sponsor", org=world.org("other"))
    session.commit()
    client.post("/login", data={"email": "x@example.com", "password": "password123"})
    assert client.get("/sponsor/challenges/parity").status_code == 404
    assert client.get("/sponsor/challenges/parity/edit").status_code == 404
    assert "parity" not in client.get("/sponsor").get_data(as_text=True)


def test_dashboard_counts_and_charts(client, world, session, sponsor):
    import datetime as dt

    item = world.challenge(
        opens_at="2020-01-01T00:00:00+00:00", closes_at="2099-01-01T00:00:00+00:00"
    )
    one = world.team(item, world.user("a@example.com"), world.user("b@example.com"), name="One")
    two = world.team(item, world.user("c@example.com"), name="Two")
    at = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)
    world.scored(one, public=0.5, private=0.5, at=at)
    world.scored(one, public=0.8, private=0.8, at=at + dt.timedelta(days=1))
    world.scored(two, public=0.95, private=0.9, at=at + dt.timedelta(days=1))
    session.commit()
    page = client.get("/sponsor/challenges/parity").get_data(as_text=True)
    assert "<strong>2</strong> teams" in page and "<strong>3</strong> participants" in page
    assert "<strong>3</strong> submissions" in page
    # Ten histogram bars, in the drawing for a desktop and in the one for a phone.
    assert page.count('<rect class="bar"') >= 2 and page.count('<rect class="bar alt"') == 20
    assert "11-20" in page and "11-21" in page  # days in the challenge's time zone


def test_a_bundle_cannot_read_files_of_the_web_host(client, sponsor, session, bundle_dir, tmp_path):
    # The attack: ``description: /proc/self/environ`` in challenge.yaml made a draft
    # whose preview showed the web host's environment, secret key included.
    import zipfile

    import yaml

    spec = yaml.safe_load((bundle_dir / "challenge.yaml").read_text())
    spec.update(description="/proc/self/environ", sponsor="acme")
    (bundle_dir / "challenge.yaml").write_text(yaml.safe_dump(spec))
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in bundle_dir.iterdir():
            z.write(f, f.name)
    response = client.post(
        "/sponsor/challenges",
        data={"bundle": (io.BytesIO(archive.read_bytes()), "evil.zip")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "<code>description</code>:" in page
    assert "PATH=" not in page and session.query(Challenge).count() == 0
