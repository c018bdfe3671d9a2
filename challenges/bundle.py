"""Reading a challenge bundle: a folder or zip with ``challenge.yaml`` and data files."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from challenges.metrics import UnknownMetric, get_metric, sort_labels
from challenges.scenarios import catalog
from challenges.schema import ChallengeSpec

MAX_BUNDLE_BYTES = 4 * 1024**3
MAX_BUNDLE_FILES = 1000


class ChallengeBundleError(ValueError):
    """What is wrong with a sponsor's challenge bundle, one line per problem, each naming
    the key or file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Bundle:
    spec: ChallengeSpec
    root: Path
    description_md: str
    classes: list[str] | None

    def file(self, name: str) -> Path:
        return member_path(self.root, name)


def member_path(root: Path, name: str) -> Path:
    """The regular file ``name`` inside the bundle folder ``root``.

    A name from challenge.yaml never reaches the filesystem unchecked: it must be
    relative, free of ``..``, reach no link on the way (checked per component with
    lstat, so a link cannot be followed out), and resolve inside ``root``. Raises
    ``FileNotFoundError`` with a message that names the file, whatever the reason.
    """
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or "\\" in name or ".." in parts:
        raise FileNotFoundError(f"{name!r} is not a file name inside the bundle folder")
    base = root.resolve()
    here = base
    for part in parts:
        here = here / part
        try:
            info = os.lstat(here)
        except OSError:
            raise FileNotFoundError(f"file {name!r} not found in the bundle folder") from None
        if stat.S_ISLNK(info.st_mode):
            raise FileNotFoundError(f"{name!r} is a link; put the file itself in the bundle")
    if not stat.S_ISREG(info.st_mode) or not here.resolve().is_relative_to(base):
        raise FileNotFoundError(f"file {name!r} not found in the bundle folder")
    return here


def _format_errors(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "challenge.yaml"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key; remove it or check its spelling"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{key}: {message}")
    return problems


@contextmanager
def open_bundle(path: Path) -> Iterator[Bundle]:
    """Parse and check a bundle; a zip is extracted to a temporary folder for the duration."""
    path = Path(path)
    if path.is_dir():
        yield _read(path.resolve())
        return
    if not zipfile.is_zipfile(path):
        raise ChallengeBundleError([f"{path.name}: not a folder or a zip file"])
    tmp = Path(tempfile.mkdtemp(prefix="jiebang-bundle-"))
    try:
        _extract(path, tmp)
        entries = [p for p in tmp.iterdir()]
        # Accept a zip whose files sit in one top folder, as zipping a folder makes.
        top = entries[0] if len(entries) == 1 else None
        root = top if top is not None and top.is_dir() and not top.is_symlink() else tmp
        yield _read(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _extract(path: Path, dest: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_BUNDLE_FILES:
            raise ChallengeBundleError([f"the zip holds more than {MAX_BUNDLE_FILES} files"])
        if sum(m.file_size for m in members) > MAX_BUNDLE_BYTES:
            raise ChallengeBundleError(["the zip unpacks to more than 4 GiB"])
        for member in members:
            name = member.filename
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            if name.startswith("/") or ".." in Path(name).parts or is_link:
                raise ChallengeBundleError(
                    [f"{name}: unsafe path in the zip (absolute, '..' or a link)"]
                )
        archive.extractall(dest)


def _read(root: Path) -> Bundle:
    try:
        spec_path = member_path(root, "challenge.yaml")
    except FileNotFoundError:
        raise ChallengeBundleError(["challenge.yaml: not found at the top of the bundle"]) from None
    try:
        raw = yaml.safe_load(spec_path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ChallengeBundleError([f"challenge.yaml: not valid YAML ({exc})"]) from None
    if not isinstance(raw, dict):
        raise ChallengeBundleError(["challenge.yaml: must be a mapping of keys to values"])
    try:
        spec = ChallengeSpec.model_validate(raw)
    except ValidationError as exc:
        raise ChallengeBundleError(_format_errors(exc)) from None
    problems = _check_references(spec, root)
    if problems:
        raise ChallengeBundleError(problems)
    classes, data_problems = _check_data(spec, root)
    if data_problems:
        raise ChallengeBundleError(data_problems)
    try:
        description = member_path(root, spec.description).read_text("utf-8")
    except UnicodeDecodeError:
        raise ChallengeBundleError(["description: the file is not UTF-8 text"]) from None
    return Bundle(spec=spec, root=root, description_md=description, classes=classes)


def _check_references(spec: ChallengeSpec, root: Path) -> list[str]:
    problems = []
    known = catalog().sector_slugs()
    if spec.scenario not in known:
        problems.append(f"scenario: {spec.scenario!r} is not a sector of the scenario catalog")
    try:
        get_metric(spec.metric)
    except UnknownMetric as exc:
        problems.append(f"metric: {exc.args[0]}")
    for i, target in enumerate(spec.targets):
        # Submissions are scored on the challenge's metric only, so targets use it too.
        if target.metric and target.metric != spec.metric:
            problems.append(
                f"targets.{i}.metric: use the challenge's metric {spec.metric!r}; "
                "targets on other metrics are not supported yet"
            )
    named = [("description", spec.description), ("data.test_inputs", spec.data.test_inputs)]
    named.append(("data.test_labels", spec.data.test_labels))
    named += [(f"data.train.{i}", n) for i, n in enumerate(spec.data.train)]
    named += [(f"data.extra_inputs.{i}", n) for i, n in enumerate(spec.data.extra_inputs)]
    for key, name in named:
        try:
            member_path(root, name)
        except FileNotFoundError as exc:
            problems.append(f"{key}: {exc}")
    return problems


def _read_ids_and_column(path: Path, column: str | None) -> tuple[list[str], list[str]]:
    try:
        return _read_csv_ids(path, column)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ChallengeBundleError([f"{path.name}: not a UTF-8 CSV file ({exc})"]) from None


def _read_csv_ids(path: Path, column: str | None) -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if "id" not in header:
            raise ChallengeBundleError([f"{path.name}: needs an 'id' column in its header"])
        if column is not None and column not in header:
            raise ChallengeBundleError([f"{path.name}: needs a {column!r} column in its header"])
        id_at = header.index("id")
        col_at = header.index(column) if column else None
        ids, values = [], []
        for row in reader:
            if len(row) != len(header):
                raise ChallengeBundleError(
                    [f"{path.name}: line {reader.line_num} has a wrong field count"]
                )
            ids.append(row[id_at].strip())
            if col_at is not None:
                values.append(row[col_at].strip())
    return ids, values


def _check_data(spec: ChallengeSpec, root: Path) -> tuple[list[str] | None, list[str]]:
    """The test inputs and labels must cover the same unique ids."""
    inputs, _ = _read_ids_and_column(member_path(root, spec.data.test_inputs), None)
    labels, values = _read_ids_and_column(member_path(root, spec.data.test_labels), "label")
    problems = []
    if not inputs:
        problems.append("data.test_inputs: the file has no rows")
    for key, ids in (("data.test_inputs", inputs), ("data.test_labels", labels)):
        if len(set(ids)) != len(ids):
            problems.append(f"{key}: ids must be unique")
    if set(inputs) != set(labels):
        problems.append("data.test_labels: its ids must be exactly the ids of data.test_inputs")
    metric = get_metric(spec.metric)
    classes = None
    if metric.kind in {"label", "probability"}:
        classes = sort_labels(values)
        if len(classes) < 2:
            problems.append("data.test_labels: a classification metric needs two or more classes")
    else:
        try:
            [float(v) for v in values]
        except ValueError:
            problems.append("data.test_labels: a regression metric needs numeric labels")
    return classes, problems
