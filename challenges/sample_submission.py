"""A challenge's sample submission and data dictionary (issue 15, friction 12).

``data.sample_submission`` is a public CSV that shows the predictions' format with a few
rows. Its ids must not be test ids: the test inputs reach only participants' containers,
and a downloadable list of them would leak which items are scored. So the sample uses
made-up ids or ids of the public sample inputs; a test id in it is refused. With the
built-in scorer its header must be what the scorer reads: ``id,prediction``, or ``id``
and one column per class for a multi-class probability metric. A scoring program reads
its own format, so then only ``id`` first is asked.

``data.dictionary`` documents the data's columns for the data page:
``[{column, type, description: {en, zh}}]``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from challenges.bundle_files import member_entry
from challenges.metrics import get_metric
from challenges.problems import problem

MAX_BYTES = 1_000_000
MAX_ROWS = 1000
KEY = "data.sample_submission"


def expected_header(spec, classes: list[str] | None) -> list[str] | None:
    """The columns the built-in scorer reads; None for a scoring program."""
    if spec.scoring is not None:
        return None
    if get_metric(spec.metric).kind == "probability" and classes and len(classes) > 2:
        return ["id", *classes]
    return ["id", "prediction"]


def check_sample_submission(spec, root: Path, classes: list[str] | None) -> list[str]:
    """Problems with ``data.sample_submission`` (codes, as the bundle's checks)."""
    name = spec.data.sample_submission
    if name is None:
        return []
    path = member_entry(root, name)
    if path.is_dir() or path.suffix.lower() != ".csv":
        return [problem(KEY, "sample.not_csv", name=name)]
    if path.stat().st_size > MAX_BYTES:
        return [problem(KEY, "sample.too_large")]
    try:
        header, ids = _read(path)
    except (UnicodeDecodeError, csv.Error, ValueError) as exc:
        return [problem(KEY, "sample.unreadable", detail=str(exc))]
    problems = []
    wanted = expected_header(spec, classes)
    if wanted is not None and header != wanted:
        got = ",".join(header)
        problems.append(problem(KEY, "sample.header", wanted=",".join(wanted), got=got))
    elif not header or header[0] != "id":
        problems.append(problem(KEY, "sample.first_id"))
    if not ids:
        problems.append(problem(KEY, "sample.no_rows"))
    if len(ids) > MAX_ROWS:
        problems.append(problem(KEY, "sample.too_many_rows", limit=MAX_ROWS))
    leaked = sorted(set(ids) & _test_ids(spec, root))
    if leaked:
        problems.append(problem(KEY, "sample.test_ids", ids=", ".join(leaked[:3])))
    return problems


def _read(path: Path) -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        ids = []
        for row in reader:
            if len(row) != len(header):
                raise ValueError(f"line {reader.line_num} has {len(row)} fields")
            ids.append(row[0].strip())
            if len(ids) > MAX_ROWS:
                break
        return header, ids


def _test_ids(spec, root: Path) -> set[str]:
    """Every id the hidden data names: the items, a CSV test input's, the labels'."""
    data = spec.data
    found: set[str] = set()
    for name in (data.items, data.test_inputs, data.test_labels):
        if name is None:
            continue
        path = member_entry(root, name)
        if path.is_dir() or path.suffix.lower() != ".csv":
            continue
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f)
                header = next(reader, [])
                if "id" in header:
                    at = header.index("id")
                    found |= {row[at].strip() for row in reader if len(row) > at}
        except (UnicodeDecodeError, csv.Error):
            continue  # the data's own checks report it
    return found


def dictionary_rows(spec) -> list[dict] | None:
    """The dictionary as stored on the challenge (None when the bundle has none)."""
    rows = [entry.model_dump() for entry in spec.data.dictionary]
    return rows or None
