"""Between the challenge form and the challenge: the form's first values from a draft,
the ``challenge.yaml`` keys and files from a filled form, and the service's problems
placed back next to the fields they concern."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from werkzeug.utils import secure_filename

from challenges.models import Challenge, FileRole
from web import applicant_form
from web.problems import message_html, words_html

TEST_NAME, LABELS_NAME = "test.csv", "labels.csv"
LIMITS = (
    "daily_submissions",
    "total_submissions",
    "final_selections",
    "team_size",
    "running_submissions",
)


def _local(value: dt.datetime, zone: str) -> dt.datetime:
    return value.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)


def initial(item: Challenge) -> dict:
    data = {
        "title_en": item.title_en,
        "title_zh": item.title_zh,
        "summary_en": item.summary_en,
        "summary_zh": item.summary_zh,
        "description": item.description_md,
        "description_zh": item.description_md_zh,
        "scenario": item.scenario,
        "metric": item.metric,
        "prize_amount": item.prize_amount,
        "prize_currency": item.prize_currency,
        "opens_at": _local(item.opens_at, item.timezone),
        "closes_at": _local(item.closes_at, item.timezone),
        "timezone": item.timezone,
        "runtime": item.runtime or "",
        "show_logs": item.show_logs,
        "dictionary": dictionary_text(item.data_dictionary),
    }
    for name in (*LIMITS, "cpus", "memory_mb", "time_limit_s", "public_fraction"):
        data[name] = getattr(item, name)
    data.update(applicant_form.initial(item))
    for target in item.targets:
        if "metric" in target and target["metric"] != item.metric:
            continue  # the form edits the ranking metric's target; the others are kept
        if "metric" in target:
            direction = "at_least" if "at_least" in target else "at_most"
            data["target_direction"], data["target_value"] = direction, target[direction]
        else:
            data.update(target)
    return data


def to_spec(form, *, sponsor: str, keep: Challenge | None) -> tuple[dict, dict, dict]:
    """(spec, files, where): the ``challenge.yaml`` keys, the uploads by file name, and
    which form field each key or file name belongs to (for placing problems)."""
    zone = zoneinfo.ZoneInfo(form.timezone.data)
    where = {
        "data.train": "train",
        "data.test_inputs": "test_inputs",
        "data.test_labels": "test_labels",
        "data.sample_submission": "sample_submission",
        "data.dictionary": "dictionary",
    }
    targets = []
    if form.target_value.data is not None:
        targets.append(
            {"metric": form.metric.data, form.target_direction.data: form.target_value.data}
        )
        where[f"targets.{len(targets) - 1}"] = "target_value"
    for name in ("max_runtime_s", "max_memory_mb"):
        if getattr(form, name).data is not None:
            targets.append({name: getattr(form, name).data})
            where[f"targets.{len(targets) - 1}"] = name
    files, train = {}, []
    for upload in form.train.data or []:
        if not getattr(upload, "filename", ""):
            continue
        name = secure_filename(upload.filename) or "train.csv"
        if name in (TEST_NAME, LABELS_NAME) or name in files:
            name = f"train-{len(files) + 1}-{name}"
        files[name], where[name] = upload.stream, "train"
        train.append(name)
    if not train and keep is not None:
        train = [f.name for f in keep.files_with(FileRole.train)]
    hidden = {}
    for field, role, fresh in (
        ("test_inputs", FileRole.test_inputs, TEST_NAME),
        ("test_labels", FileRole.test_labels, LABELS_NAME),
    ):
        upload = getattr(form, field).data
        if getattr(upload, "filename", ""):
            files[fresh], hidden[field] = upload.stream, fresh
        elif keep is not None and keep.files_with(role):
            hidden[field] = keep.files_with(role)[0].name
        else:
            hidden[field] = fresh
        where[hidden[field]] = field
    extra = [f.name for f in keep.files_with(FileRole.extra_input)] if keep else []
    sample = _sample_submission(form, files, where, keep)
    spec = {
        "slug": form.slug.data,
        "title": {"en": form.title_en.data, "zh": form.title_zh.data},
        "sponsor": sponsor,
        "scenario": form.scenario.data,
        "summary": {"en": form.summary_en.data, "zh": form.summary_zh.data},
        "metric": form.metric.data,
        "targets": targets,
        "prize": {"amount": str(form.prize_amount.data), "currency": form.prize_currency.data},
        "opens_at": form.opens_at.data.replace(tzinfo=zone).isoformat(),
        "closes_at": form.closes_at.data.replace(tzinfo=zone).isoformat(),
        "timezone": form.timezone.data,
        "limits": {name: getattr(form, name).data for name in LIMITS},
        "resources": {
            "cpus": form.cpus.data,
            "memory_mb": form.memory_mb.data,
            "time_limit_s": form.time_limit_s.data,
            "runtime": form.runtime.data or None,
        },
        "data": {
            "train": train,
            "test_inputs": hidden["test_inputs"],
            "test_labels": hidden["test_labels"],
            "extra_inputs": extra,
            "public_fraction": form.public_fraction.data,
            "sample_submission": sample,
            "dictionary": parse_dictionary(form.dictionary.data),
        },
        "show_logs": bool(form.show_logs.data),
    }
    if keep is not None:
        _keep_unformed(spec, keep)
    spec.update(applicant_form.to_spec(form, zone=zone, keep=keep, files=files, where=where))
    return spec, files, where


SAMPLE_NAME = "sample_submission.csv"

# What a bundle may say that the form has no fields for: kept as stored on each edit.
UNFORMED_FILES = (
    ("items", FileRole.items),
    ("sample_inputs", FileRole.sample_inputs),
    ("sample_labels", FileRole.sample_labels),
)


def _keep_unformed(spec: dict, keep: Challenge) -> None:
    """The stored proposal stage, scoring program and items/sample files stay as the
    bundle gave them: the form edits the rest and must not drop these."""
    if keep.proposal:
        spec["proposal"] = keep.proposal
    others = [t for t in keep.targets if t.get("metric") not in (None, spec["metric"])]
    spec["targets"] = [*spec["targets"], *others]
    for key, role in UNFORMED_FILES:
        stored = keep.file_with(role)
        if stored is not None:
            spec["data"][key] = stored.name
    program = keep.file_with(FileRole.scoring_program)
    if keep.scoring is not None and program is not None:
        spec["scoring"] = {**keep.scoring, "program": program.name}


def _sample_submission(form, files: dict, where: dict, keep: Challenge | None) -> str | None:
    """The sample submission's name: a fresh upload, else the stored one (None: none)."""
    upload = form.sample_submission.data
    if getattr(upload, "filename", ""):
        files[SAMPLE_NAME], where[SAMPLE_NAME] = upload.stream, "sample_submission"
        return SAMPLE_NAME
    stored = keep.file_with(FileRole.sample_submission) if keep is not None else None
    return stored.name if stored is not None else None


def parse_dictionary(text: str | None) -> list[dict]:
    """``column | type | English | Chinese`` lines as ``data.dictionary`` entries; a line
    with parts missing keeps them missing, so the schema names what is absent."""
    entries = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", 3)]
        column, kind, en, zh = [*parts, "", "", "", ""][:4]
        description = {k: v for k, v in (("en", en), ("zh", zh)) if v}
        entries.append({"column": column, "type": kind, "description": description})
    return entries


def dictionary_text(rows: list[dict] | None) -> str:
    return "\n".join(
        f"{r['column']} | {r['type']} | {r['description']['en']} | {r['description']['zh']}"
        for r in rows or []
    )


def place_problems(form, problems: list[str], where: dict) -> list:
    """Put each ``key: message`` next to its field, in the reader's language; return those
    that fit no field (as HTML)."""
    fields = {name: name for name in form._fields}
    fields.update({"title.en": "title_en", "title.zh": "title_zh", "summary.en": "summary_en"})
    fields.update({"summary.zh": "summary_zh", "prize.amount": "prize_amount"})
    fields.update({"prize.currency": "prize_currency", "description.zh": "description_zh"})
    fields.update(where)
    rest = []
    for problem in problems:
        key, message = message_html(problem)
        parts = key.split(".")
        candidates = [".".join(parts[:i]) for i in range(len(parts), 0, -1)] + [parts[-1]]
        target = next((fields[c] for c in candidates if key and c in fields), None)
        if target is None:
            rest.append(words_html(problem))
        else:
            getattr(form, target).errors.append(message)
    return rest
