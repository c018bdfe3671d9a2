"""Reading a challenge bundle: a folder or zip with ``challenge.yaml`` and data files or folders."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

__all__ = ["Bundle", "ChallengeBundleError", "member_entry", "member_path", "open_bundle"]

from challenges.bundle_checks import check_data, check_references
from challenges.bundle_files import ChallengeBundleError, member_entry, member_path
from challenges.problems import Bad, problem
from challenges.sample_submission import check_sample_submission
from challenges.schema import ChallengeSpec

# Folders of images, audio or documents: many files and many gigabytes. The zip is
# unpacked (and every file checked) on disk, never in memory.
MAX_BUNDLE_BYTES = 64 * 1024**3
MAX_BUNDLE_FILES = 2_000_000


@dataclass(frozen=True)
class Bundle:
    spec: ChallengeSpec
    root: Path
    description_md: str
    classes: list[str] | None
    # registration.terms read from their files: {"en": ..., "zh": ...}; None without terms.
    terms: dict[str, str] | None = None
    description_md_zh: str = ""  # description.zh read from its file; "" without one

    def file(self, name: str) -> Path:
        return member_path(self.root, name)

    def entry(self, name: str) -> Path:
        """A file or a folder of the bundle (``test/``)."""
        return member_entry(self.root, name)


# pydantic's own error types, and the code and parameters (from its ``ctx``) of each.
PYDANTIC_CODES = {
    "extra_forbidden": ("schema.unknown_key", ()),
    "missing": ("schema.missing", ()),
    "greater_than": ("schema.gt", ("gt",)),
    "greater_than_equal": ("schema.ge", ("ge",)),
    "less_than": ("schema.lt", ("lt",)),
    "less_than_equal": ("schema.le", ("le",)),
    "string_too_short": ("schema.too_short", ("min_length",)),
    "too_short": ("schema.too_short", ("min_length",)),
    "string_too_long": ("schema.too_long", ("max_length",)),
    "too_long": ("schema.too_long", ("max_length",)),
    "string_pattern_mismatch": ("schema.pattern", ("pattern",)),
    "int_parsing": ("schema.integer", ()),
    "int_type": ("schema.integer", ()),
    "int_from_float": ("schema.integer", ()),
    "float_parsing": ("schema.number", ()),
    "float_type": ("schema.number", ()),
    "decimal_parsing": ("schema.number", ()),
    "decimal_type": ("schema.number", ()),
    "finite_number": ("schema.finite", ()),
    "bool_parsing": ("schema.boolean", ()),
    "bool_type": ("schema.boolean", ()),
    "datetime_parsing": ("schema.datetime", ()),
    "datetime_type": ("schema.datetime", ()),
    "datetime_from_date_parsing": ("schema.datetime", ()),
    "literal_error": ("schema.one_of", ("expected",)),
    "string_type": ("schema.text", ()),
    "list_type": ("schema.list", ()),
    "dict_type": ("schema.mapping", ()),
    "model_type": ("schema.mapping", ()),
    "model_attributes_type": ("schema.mapping", ()),
}


def _format_errors(error: ValidationError) -> list[str]:
    """One problem per error, as a code: a validator's own (``Bad``) or pydantic's type."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "challenge.yaml"
        ctx = item.get("ctx") or {}
        if isinstance(ctx.get("error"), Bad):
            problems.append(problem(key, ctx["error"].code, **ctx["error"].params))
        elif item["type"] in PYDANTIC_CODES:
            code, names = PYDANTIC_CODES[item["type"]]
            # gt, ge, lt, le and the lengths are the template's "limit".
            params = {
                name if name in ("expected", "pattern") else "limit": ctx.get(name, "?")
                for name in names
            }
            problems.append(problem(key, code, **params))
        else:
            detail = item["msg"].removeprefix("Value error, ")
            problems.append(problem(key, "schema.invalid", detail=detail))
    return problems


@contextmanager
def open_bundle(path: Path, *, workdir: Path | None = None) -> Iterator[Bundle]:
    """Parse and check a bundle; a zip is extracted to a temporary folder (in ``workdir``:
    a bundle of gigabytes belongs on a disk, not in a tmpfs) for the duration."""
    path = Path(path)
    if path.is_dir():
        yield _read(path.resolve())
        return
    if not zipfile.is_zipfile(path):
        raise ChallengeBundleError([problem(path.name, "bundle.not_zip")])
    tmp = Path(tempfile.mkdtemp(prefix="jiebang-bundle-", dir=workdir))
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
            raise ChallengeBundleError(
                [problem("", "bundle.too_many_files", limit=f"{MAX_BUNDLE_FILES:,}")]
            )
        if sum(m.file_size for m in members) > MAX_BUNDLE_BYTES:
            raise ChallengeBundleError([problem("", "bundle.too_large", limit="64 GiB")])
        for member in members:
            name = member.filename
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            if name.startswith("/") or ".." in Path(name).parts or is_link:
                raise ChallengeBundleError([problem(name, "bundle.unsafe_path")])
        archive.extractall(dest)


def _read(root: Path) -> Bundle:
    try:
        spec_path = member_path(root, "challenge.yaml")
    except FileNotFoundError:
        raise ChallengeBundleError([problem("challenge.yaml", "bundle.no_spec")]) from None
    try:
        raw = yaml.safe_load(spec_path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ChallengeBundleError(
            [problem("challenge.yaml", "bundle.bad_yaml", detail=str(exc))]
        ) from None
    if not isinstance(raw, dict):
        raise ChallengeBundleError([problem("challenge.yaml", "bundle.not_mapping")])
    try:
        spec = ChallengeSpec.model_validate(raw)
    except ValidationError as exc:
        raise ChallengeBundleError(_format_errors(exc)) from None
    problems = check_references(spec, root)
    if problems:
        raise ChallengeBundleError(problems)
    classes, data_problems = check_data(spec, root)
    if not data_problems:
        data_problems = check_sample_submission(spec, root, classes)
    if data_problems:
        raise ChallengeBundleError(data_problems)
    described = {}
    for lang, name in spec.description_files().items():
        try:
            described[lang] = member_path(root, name).read_text("utf-8")
        except UnicodeDecodeError:
            raise ChallengeBundleError([problem("description", "bundle.not_utf8")]) from None
    terms = _terms(spec, root)
    return Bundle(
        spec=spec,
        root=root,
        description_md=described["en"],
        classes=classes,
        terms=terms,
        description_md_zh=described.get("zh", ""),
    )


def _terms(spec: ChallengeSpec, root: Path) -> dict[str, str] | None:
    """The registration terms' texts, from their files in the bundle."""
    if spec.registration is None or spec.registration.terms is None:
        return None
    texts = {}
    for lang in ("en", "zh"):
        name = getattr(spec.registration.terms, lang)
        try:
            texts[lang] = member_path(root, name).read_text("utf-8").strip()
        except FileNotFoundError:
            raise ChallengeBundleError(
                [problem(f"registration.terms.{lang}", "bundle.not_a_file", name=name)]
            ) from None
        except UnicodeDecodeError:
            raise ChallengeBundleError(
                [problem(f"registration.terms.{lang}", "bundle.not_utf8")]
            ) from None
        if not texts[lang]:
            raise ChallengeBundleError([problem(f"registration.terms.{lang}", "bundle.empty_file")])
    return texts
