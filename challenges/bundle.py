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

    def file(self, name: str) -> Path:
        return member_path(self.root, name)

    def entry(self, name: str) -> Path:
        """A file or a folder of the bundle (``test/``)."""
        return member_entry(self.root, name)


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
def open_bundle(path: Path, *, workdir: Path | None = None) -> Iterator[Bundle]:
    """Parse and check a bundle; a zip is extracted to a temporary folder (in ``workdir``:
    a bundle of gigabytes belongs on a disk, not in a tmpfs) for the duration."""
    path = Path(path)
    if path.is_dir():
        yield _read(path.resolve())
        return
    if not zipfile.is_zipfile(path):
        raise ChallengeBundleError([f"{path.name}: not a folder or a zip file"])
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
            raise ChallengeBundleError([f"the zip holds more than {MAX_BUNDLE_FILES} files"])
        if sum(m.file_size for m in members) > MAX_BUNDLE_BYTES:
            raise ChallengeBundleError(["the zip unpacks to more than 64 GiB"])
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
    problems = check_references(spec, root)
    if problems:
        raise ChallengeBundleError(problems)
    classes, data_problems = check_data(spec, root)
    if data_problems:
        raise ChallengeBundleError(data_problems)
    try:
        description = member_path(root, spec.description).read_text("utf-8")
    except UnicodeDecodeError:
        raise ChallengeBundleError(["description: the file is not UTF-8 text"]) from None
    terms = _terms(spec, root)
    return Bundle(spec=spec, root=root, description_md=description, classes=classes, terms=terms)


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
                [f"registration.terms.{lang}: {name!r} is not a file of the bundle"]
            ) from None
        except UnicodeDecodeError:
            raise ChallengeBundleError(
                [f"registration.terms.{lang}: the file is not UTF-8 text"]
            ) from None
        if not texts[lang]:
            raise ChallengeBundleError([f"registration.terms.{lang}: the file is empty"])
    return texts
