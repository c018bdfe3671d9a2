"""What a bundle's data must satisfy beyond the schema: the names exist, the ids agree.

Every file is read as a stream (``csv`` over an open file), never whole into memory, so
a bundle of many gigabytes is checked at disk speed.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from pathlib import Path

from challenges.bundle_files import ChallengeBundleError, member_entry, member_path
from challenges.metrics import METRICS, UnknownMetric, get_metric, sort_labels
from challenges.problems import from_missing, problem
from challenges.scenarios import catalog
from challenges.schema import ChallengeSpec

# Item ids become lines of /split/public.txt and file names a scorer may build from them.
MAX_ITEM_ID = 200
SCORER_ENTRY = "score.py"


def check_references(spec: ChallengeSpec, root: Path) -> list[str]:
    """Names that must exist, metrics that must be known or declared."""
    problems = []
    known = catalog().sector_slugs()
    if spec.scenario not in known:
        problems.append(problem("scenario", "checks.scenario", name=spec.scenario))
    if spec.scoring is None:
        try:
            get_metric(spec.metric)
        except UnknownMetric:
            known = ", ".join(sorted(METRICS))
            problems.append(
                problem("metric", "checks.unknown_metric", name=spec.metric, known=known)
            )
        declared = {spec.metric}
        hint = "checks.target_builtin"
    else:
        declared = {m.name for m in spec.scoring.metrics}
        if spec.metric not in declared:
            names = ", ".join(sorted(declared))
            problems.append(
                problem("metric", "checks.ranking_metric", name=spec.metric, declared=names)
            )
        hint = "checks.target_declared"
    for i, target in enumerate(spec.targets):
        if target.metric and target.metric not in declared:
            problems.append(problem(f"targets.{i}.metric", hint, name=target.metric))
    data = spec.data
    described = spec.description_files()
    files = [
        ("description" + (f".{k}" if k != "en" or len(described) > 1 else ""), n)
        for k, n in described.items()
    ]
    entries = [("data.test_inputs", data.test_inputs), ("data.test_labels", data.test_labels)]
    entries += [(f"data.train.{i}", n) for i, n in enumerate(data.train)]
    entries += [(f"data.extra_inputs.{i}", n) for i, n in enumerate(data.extra_inputs)]
    for key in ("items", "sample_inputs", "sample_labels", "sample_submission"):
        if getattr(data, key) is not None:
            (files if key == "items" else entries).append((f"data.{key}", getattr(data, key)))
    if spec.scoring is not None:
        entries.append(("scoring.program", spec.scoring.program))
    for key, name in files:
        try:
            member_path(root, name)
        except FileNotFoundError as exc:
            problems.append(from_missing(key, exc))
    for key, name in entries:
        try:
            member_entry(root, name)
        except FileNotFoundError as exc:
            problems.append(from_missing(key, exc))
    if not problems:
        problems += _public_apart_from_hidden(spec, root)
    if spec.scoring is not None and not problems:
        program = member_entry(root, spec.scoring.program)
        if not program.is_dir() or not (program / SCORER_ENTRY).is_file():
            problems.append(problem("scoring.program", "checks.scorer_entry", entry=SCORER_ENTRY))
    return problems


def _public_apart_from_hidden(spec: ChallengeSpec, root: Path) -> list[str]:
    """No public file (training data, the sample, the scoring program that `jiebang check`
    may publish) may be, hold or sit inside a hidden one (test inputs and labels), and the
    program may not carry a copy of a labels file."""
    data = spec.data
    hidden = [("data.test_inputs", data.test_inputs), ("data.test_labels", data.test_labels)]
    hidden += [(f"data.extra_inputs.{i}", n) for i, n in enumerate(data.extra_inputs)]
    public = [(f"data.train.{i}", n) for i, n in enumerate(data.train)]
    for key in ("sample_inputs", "sample_labels", "sample_submission"):
        if getattr(data, key) is not None:
            public.append((f"data.{key}", getattr(data, key)))
    if spec.scoring is not None:
        public.append(("scoring.program", spec.scoring.program))
    problems = []
    for pkey, pname in public:
        for hkey, hname in hidden:
            if _overlap(pname, hname):
                problems.append(
                    problem(pkey, "checks.overlap", name=pname, hidden_key=hkey, hidden=hname)
                )
    if spec.scoring is not None and not problems:
        labels = _digests(member_entry(root, data.test_labels))
        copies = sorted(
            name
            for name, digest in _named_digests(member_entry(root, spec.scoring.program))
            if digest in labels
        )
        if copies:
            problems.append(problem("scoring.program", "checks.labels_copy", name=copies[0]))
    return problems


def _overlap(a: str, b: str) -> bool:
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _named_digests(path: Path):
    """(relative name, sha256) of each file of a file or folder, read in blocks."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest = hashlib.sha256()
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        yield (file.name if file == path else str(file.relative_to(path))), digest.hexdigest()


def _digests(path: Path) -> set[str]:
    return {digest for _name, digest in _named_digests(path)}


def check_data(spec: ChallengeSpec, root: Path) -> tuple[list[str] | None, list[str]]:
    """(the label classes of a built-in classification metric, problems)."""
    if spec.scoring is None:
        return _check_builtin(spec, root)
    return None, _check_items(spec, root)


def _check_items(spec: ChallengeSpec, root: Path) -> list[str]:
    """A scoring program's items: ``data.items``, or the ``id`` column of a CSV test input."""
    data = spec.data
    if data.items is not None:
        key, path = "data.items", member_path(root, data.items)
    else:
        inputs = member_entry(root, data.test_inputs)
        if inputs.is_dir() or inputs.suffix.lower() != ".csv":
            return [problem("data.items", "checks.items_needed")]
        key, path = "data.test_inputs", inputs
    ids, _ = _read_ids_and_column(path, None)
    return _item_problems(key, ids)


def _item_problems(key: str, ids: list[str], *, strict: bool = True) -> list[str]:
    """Unique ids; ``strict``: also usable as lines of the split files and as file names
    (the built-in scorer never needs that, and its older bundles keep working)."""
    problems = []
    if strict and not ids:
        problems.append(problem(key, "checks.no_ids"))
    if len(set(ids)) != len(ids):
        problems.append(problem(key, "checks.repeated_ids"))
    bad = next((i for i in ids if not _usable_id(i)), None) if strict else None
    if bad is not None:
        problems.append(problem(key, "checks.bad_id", id=bad[:40], limit=MAX_ITEM_ID))
    return problems


def _usable_id(item: str) -> bool:
    if not item or len(item) > MAX_ITEM_ID or "/" in item or "\\" in item or item in {".", ".."}:
        return False
    return not any(unicodedata.category(c).startswith("C") for c in item)


def _check_builtin(spec: ChallengeSpec, root: Path) -> tuple[list[str] | None, list[str]]:
    """The built-in scorer: labels ``id,label``; the inputs (a CSV with ids, or a folder with
    ``data.items``) cover exactly the labels' ids."""
    data = spec.data
    labels_path = member_entry(root, data.test_labels)
    if labels_path.is_dir():
        return None, [problem("data.test_labels", "checks.labels_folder")]
    labels, values = _read_ids_and_column(labels_path, "label")
    problems = []
    inputs_path = member_entry(root, data.test_inputs)
    if data.items is not None:
        key, inputs = "data.items", _read_ids_and_column(member_path(root, data.items), None)[0]
    elif inputs_path.is_dir():
        key, inputs = "data.test_labels", labels  # the labels name the items
    else:
        key, inputs = "data.test_inputs", _read_ids_and_column(inputs_path, None)[0]
    if not inputs:
        problems.append(problem(key, "checks.no_rows"))
    problems += _item_problems("data.test_labels", labels, strict=False)
    if key != "data.test_labels" and len(set(inputs)) != len(inputs):
        problems.append(problem(key, "checks.repeated_ids"))
    if set(inputs) != set(labels):
        problems.append(problem("data.test_labels", "checks.ids_differ", other=key))
    if data.sample_labels is not None:
        sample = member_entry(root, data.sample_labels)
        if sample.is_dir():
            problems.append(problem("data.sample_labels", "checks.sample_folder"))
        else:
            _read_ids_and_column(sample, "label")
    metric = get_metric(spec.metric)
    classes = None
    if metric.kind in {"label", "probability"}:
        classes = sort_labels(values)
        if len(classes) < 2:
            problems.append(problem("data.test_labels", "checks.one_class"))
    else:
        try:
            [float(v) for v in values]
        except ValueError:
            problems.append(problem("data.test_labels", "checks.not_numeric"))
    return classes, problems


def _read_ids_and_column(path: Path, column: str | None) -> tuple[list[str], list[str]]:
    try:
        return _read_csv_ids(path, column)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ChallengeBundleError([problem(path.name, "csv.not_utf8", detail=str(exc))]) from None


def _read_csv_ids(path: Path, column: str | None) -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if "id" not in header:
            raise ChallengeBundleError([problem(path.name, "csv.no_id")])
        if column is not None and column not in header:
            raise ChallengeBundleError([problem(path.name, "csv.no_column", column=column)])
        id_at = header.index("id")
        col_at = header.index(column) if column else None
        ids, values = [], []
        for row in reader:
            if len(row) != len(header):
                raise ChallengeBundleError(
                    [problem(path.name, "csv.field_count", line=reader.line_num)]
                )
            ids.append(row[id_at].strip())
            if col_at is not None:
                values.append(row[col_at].strip())
    return ids, values
