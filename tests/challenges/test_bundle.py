import zipfile

import pytest
import yaml

from challenges.bundle import ChallengeBundleError, open_bundle


def _edit(bundle_dir, **changes):
    spec = yaml.safe_load((bundle_dir / "challenge.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            spec.pop(key)
        else:
            spec[key] = value
    (bundle_dir / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    return bundle_dir


def _problems(path) -> list[str]:
    with pytest.raises(ChallengeBundleError) as caught, open_bundle(path):
        pass
    return caught.value.problems


def test_a_valid_bundle_reads(bundle_dir):
    with open_bundle(bundle_dir) as bundle:
        assert bundle.spec.slug == "parity"
        assert bundle.classes == ["0", "1"]
        assert "Predict x mod 2" in bundle.description_md
        assert bundle.spec.data.public_fraction == 0.5


def test_a_zipped_bundle_reads_with_or_without_a_top_folder(bundle_dir, tmp_path):
    for prefix in ("", "parity/"):
        archive = tmp_path / f"b{len(prefix)}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for f in bundle_dir.iterdir():
                z.write(f, prefix + f.name)
        with open_bundle(archive) as bundle:
            assert bundle.spec.title.zh == "奇偶"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"metric": "f2_score"}, "metric: unknown metric"),
        ({"slug": "Bad Slug!"}, "slug:"),
        ({"title": {"en": "Only English"}}, "title.zh: required key is missing"),
        ({"prize": None}, "prize: required key is missing"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"scenario": "space-mining"}, "scenario: 'space-mining' is not a sector"),
        ({"targets": [{"metric": "f1_macro"}]}, "targets.0: "),
        ({"targets": [{"max_runtime_s": -1}]}, "targets.0.max_runtime_s"),
        ({"targets": [{"metric": "f1_macro", "at_least": float("nan")}]}, "targets.0.at_least"),
        ({"closes_at": "2026-10-01T00:00:00+08:00"}, "closes_at must be after opens_at"),
        ({"opens_at": "2026-11-01T00:00:00"}, "opens_at: give a time zone"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
        ({"resources": {"runtime": "kata"}}, "resources.runtime"),
        ({"limits": {"daily_submissions": 0}}, "limits.daily_submissions"),
    ],
)
def test_errors_name_the_bad_key(bundle_dir, changes, expected):
    problems = _problems(_edit(bundle_dir, **changes))
    assert any(expected in p for p in problems), problems


def test_missing_files_and_unsafe_names_are_named(bundle_dir):
    (bundle_dir / "labels.csv").unlink()
    assert any(
        "data.test_labels: file or folder 'labels.csv' not found" in p
        for p in _problems(bundle_dir)
    )
    _edit(bundle_dir, data={"test_inputs": "../etc/passwd", "test_labels": "labels.csv"})
    assert any(p.startswith("data.test_inputs:") for p in _problems(bundle_dir))


def test_labels_must_cover_the_test_ids(bundle_dir):
    text = (bundle_dir / "labels.csv").read_text().splitlines()
    (bundle_dir / "labels.csv").write_text("\n".join(text[:-1]) + "\n")
    assert any("exactly the ids" in p for p in _problems(bundle_dir))


def test_duplicate_ids_and_missing_columns(bundle_dir):
    (bundle_dir / "test.csv").write_text("id,x\nr1,1\nr1,2\n")
    assert any("ids must be unique" in p for p in _problems(bundle_dir))
    (bundle_dir / "labels.csv").write_text("id,target\nr1,1\n")
    assert any("'label' column" in p for p in _problems(bundle_dir))


def test_not_yaml_and_not_a_mapping(bundle_dir):
    (bundle_dir / "challenge.yaml").write_text("slug: [unclosed\n")
    assert _problems(bundle_dir)[0].startswith("challenge.yaml: not valid YAML")
    (bundle_dir / "challenge.yaml").write_text("- a list\n")
    assert _problems(bundle_dir) == ["challenge.yaml: must be a mapping of keys to values"]


def test_zip_slip_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escape.txt", "x")
    assert "unsafe path" in _problems(archive)[0]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_not_a_bundle(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01")
    assert "not a folder or a zip" in _problems(junk)[0]


@pytest.mark.parametrize(
    "name",
    [
        "/proc/self/environ",
        "../labels.csv",
        "sub/../../etc/passwd",
        ".",
        "C:\\Windows\\win.ini",
    ],
)
def test_a_description_outside_the_bundle_is_refused(bundle_dir, name):
    # The attack: ``description: /proc/self/environ`` was joined to the bundle
    # folder, and the draft's preview showed the web host's secret key.
    problems = _problems(_edit(bundle_dir, description=name))
    assert any(p.startswith("description:") for p in problems), problems


@pytest.mark.parametrize("key", ["description", "test_inputs", "train"])
def test_a_link_in_the_bundle_is_never_followed(bundle_dir, tmp_path, key):
    secret = tmp_path / "secret.txt"
    secret.write_text("id,label\nSECRET,1\n")
    (bundle_dir / "link.csv").symlink_to(secret)
    if key == "description":
        changes = {"description": "link.csv"}
    else:
        spec = yaml.safe_load((bundle_dir / "challenge.yaml").read_text())
        spec["data"][key] = ["link.csv"] if key == "train" else "link.csv"
        changes = {"data": spec["data"]}
    problems = _problems(_edit(bundle_dir, **changes))
    assert any("link.csv" in p and "link" in p for p in problems), problems


def test_a_linked_folder_inside_the_bundle_is_not_a_way_out(bundle_dir, tmp_path):
    from challenges.bundle import member_path

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.csv").write_text("id\n1\n")
    (bundle_dir / "data").symlink_to(outside)
    with pytest.raises(FileNotFoundError, match="link"):
        member_path(bundle_dir, "data/x.csv")
    assert member_path(bundle_dir, "test.csv") == bundle_dir.resolve() / "test.csv"


def test_a_zip_whose_top_entry_is_a_link_is_read_from_its_own_folder(bundle_dir, tmp_path):
    archive = tmp_path / "only-link.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("top")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc")
    assert any("unsafe path" in p for p in _problems(archive))


def test_a_label_file_that_is_not_utf8_is_named(bundle_dir):
    (bundle_dir / "labels.csv").write_bytes(b"id,label\n\xff\xfe,1\n")
    assert any(p.startswith("labels.csv: not a UTF-8 CSV") for p in _problems(bundle_dir))


@pytest.mark.parametrize(
    "image",
    [
        "sha256:" + "a" * 64,
        "a" * 64,
        "abcd",  # Docker matches an id prefix against every image, a team's included
        "scoring:3.11",
        "jiebang/scoring",  # a tag is required
        "jiebang/scoring@sha256:" + "a" * 64,
        "registry.example.com/jiebang/scoring:1",
    ],
)
def test_a_scorer_image_is_named_in_full_never_by_id(image):
    from pydantic import ValidationError

    from challenges.schema import Scoring

    metrics = [{"name": "acc", "title": {"en": "Accuracy", "zh": "准确率"}}]
    with pytest.raises(ValidationError, match="scorer image"):
        Scoring(program="scoring/", image=image, metrics=metrics)
    assert Scoring(program="scoring/", image="jiebang/scoring:3.11", metrics=metrics).image


def test_public_files_never_hold_hidden_ones(tmp_path):
    """Review finding F4: labels kept in the scoring folder reached the public check kit;
    `train: [reference/]` and `sample_inputs: test/` loaded."""
    from challenges.bundle import ChallengeBundleError, open_bundle
    from tests.evaluator.scorer_world import write_bundle

    def problems(edit) -> str:
        root = write_bundle(tmp_path / f"b{len(list(tmp_path.iterdir()))}", slug="overlap")
        spec = yaml.safe_load((root / "challenge.yaml").read_text())
        edit(root, spec)
        (root / "challenge.yaml").write_text(yaml.safe_dump(spec))
        with pytest.raises(ChallengeBundleError) as caught, open_bundle(root):
            pass
        return "; ".join(caught.value.problems)

    def train_reference(root, spec):
        spec["data"]["train"] = ["reference/"]

    def sample_is_test(root, spec):
        spec["data"]["sample_inputs"] = "test/"

    def labels_in_program(root, spec):
        (root / "scoring" / "reference").mkdir()
        (root / "scoring" / "reference" / "truth.json").write_bytes(
            (root / "reference" / "truth.json").read_bytes()
        )

    def labels_inside_program(root, spec):
        spec["data"]["test_labels"] = "scoring/"

    assert "overlaps the hidden data.test_labels" in problems(train_reference)
    assert "overlaps the hidden data.test_inputs" in problems(sample_is_test)
    assert "is a copy of a hidden data.test_labels file" in problems(labels_in_program)
    assert "scoring.program: 'scoring/' overlaps" in problems(labels_inside_program)
