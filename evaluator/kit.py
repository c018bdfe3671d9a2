"""The check kit: what `jiebang check` needs to run a submission as the worker would,
on a team's own machine, against a challenge's public sample.

A kit is a plain tar:

- ``kit.json``: the challenge's slug, ranking metric, declared metrics, the resources of a
  participant run and of the scorer, the scorer image's tag, the label classes of a
  built-in classification metric (``manifest``);
- ``sample/``: the sample inputs as a container sees them at /input (a file as
  ``sample/test.csv``, as the worker names a test file; a folder's contents);
- ``reference/`` (only when the sponsor ships sample labels): the sample labels, as the
  scorer sees its reference (a folder's contents, or the one file under its own name);
- ``scoring/`` (only then, and only for a scoring-program challenge): the program.

It is written as a stream straight from the blobs (``stream``): a sample of gigabytes
never sits in memory. Nothing hidden goes in: no test inputs, test labels or split secret.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from challenges import folders
from challenges.metrics import get_metric
from challenges.models import Challenge, FileRole

MANIFEST, SAMPLE, REFERENCE, SCORING = "kit.json", "sample", "reference", "scoring"
TEST_FILE = "test.csv"  # the name the worker gives a file of test inputs under /input
FORMAT = 1
CHUNK = 1024 * 1024
BLOCK = 512
# A scorer's resources when the bundle names none: the worker's defaults (evaluator.scorer).
SCORER_DEFAULTS = {"cpus": 1.0, "memory_mb": 2048, "time_limit_s": 300}


class KitError(ValueError):
    """The file given as a kit is not one."""


@dataclass(frozen=True)
class Part:
    """A blob placed in the kit: a folder's contents under ``prefix``, or a file at
    ``prefix + name``."""

    prefix: str
    name: str
    blob: Path
    folder: bool


def scorer_resources(scoring: dict | None) -> dict:
    """The scorer's cpus, memory_mb and time_limit_s: the bundle's, else the defaults."""
    given = (scoring or {}).get("resources") or {}
    return {
        "cpus": float(given.get("cpus", SCORER_DEFAULTS["cpus"])),
        "memory_mb": int(given.get("memory_mb", SCORER_DEFAULTS["memory_mb"])),
        "time_limit_s": float(given.get("time_limit_s", SCORER_DEFAULTS["time_limit_s"])),
    }


def manifest(challenge: Challenge) -> dict:
    """kit.json: what the check needs to know besides the files."""
    program = bool(challenge.scoring)
    builtin = None if program else get_metric(challenge.metric)
    return {
        "format": FORMAT,
        "slug": challenge.slug,
        "metric": challenge.metric,
        "metrics": [
            {
                "name": m.name,
                "title": {"en": m.title_en, "zh": m.title_zh},
                "higher_is_better": m.higher_is_better,
            }
            for m in challenge.metrics
        ],
        "scoring_program": program,
        "scoring_image": (challenge.scoring or {}).get("image") if program else None,
        "resources": {
            "run": {
                "cpus": float(challenge.cpus),
                "memory_mb": int(challenge.memory_mb),
                "time_limit_s": float(challenge.time_limit_s),
            },
            "scorer": scorer_resources(challenge.scoring) if program else None,
        },
        "classes": challenge.classes if builtin and builtin.kind != "regression" else None,
        "public_fraction": float(challenge.public_fraction),
        "reference": challenge.file_with(FileRole.sample_labels) is not None,
    }


def parts(challenge: Challenge, blob_path) -> list[Part] | None:
    """The blobs of the kit, in order; None when the challenge ships no sample inputs.
    ``blob_path`` maps a sha256 to its file."""
    sample = challenge.file_with(FileRole.sample_inputs)
    if sample is None:
        return None

    def part(prefix: str, f, name: str) -> Part:
        return Part(f"{prefix}/", "" if f.is_folder else name, blob_path(f.sha256), f.is_folder)

    found = [part(SAMPLE, sample, TEST_FILE)]
    labels = challenge.file_with(FileRole.sample_labels)
    if labels is not None:
        found.append(part(REFERENCE, labels, Path(labels.name).name))
        program = challenge.file_with(FileRole.scoring_program)
        if challenge.scoring and program is not None:
            found.append(part(SCORING, program, "score.py"))
    return found


def stream(manifest_json: bytes, found: list[Part]) -> Iterator[bytes]:
    """The kit's tar, piece by piece, read from the blobs as it goes."""
    yield from _member(MANIFEST, len(manifest_json), _Bytes(manifest_json))
    for part in found:
        yield _header(part.prefix, 0, folder=True)
        if not part.folder:
            with open(part.blob, "rb") as f:
                size = Path(part.blob).stat().st_size
                yield from _member(part.prefix + part.name, size, f)
            continue
        with open(part.blob, "rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
            for entry in tar:  # a folders.pack blob: regular files and folders only
                name = part.prefix + entry.name.strip("/")
                if entry.isdir():
                    yield _header(name + "/", 0, folder=True)
                elif entry.isreg():
                    yield from _member(name, entry.size, tar.extractfile(entry))
    yield b"\0" * (2 * BLOCK)


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, n: int) -> bytes:
        piece = self.data[self.at : self.at + n]
        self.at += len(piece)
        return piece


def _header(name: str, size: int, *, folder: bool = False) -> bytes:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    info.type = tarfile.DIRTYPE if folder else tarfile.REGTYPE
    info.mode = 0o755 if folder else 0o644
    info.size = size
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _member(name: str, size: int, source: BinaryIO) -> Iterator[bytes]:
    yield _header(name, size)
    left = size
    while left > 0:
        chunk = source.read(min(CHUNK, left))
        if not chunk:
            raise OSError(f"{name}: the blob is shorter than its {size} bytes")
        left -= len(chunk)
        yield chunk
    if size % BLOCK:
        yield b"\0" * (BLOCK - size % BLOCK)


@dataclass(frozen=True)
class Kit:
    """A kit unpacked on the team's machine."""

    root: Path
    info: dict

    @property
    def sample(self) -> Path:
        return self.root / SAMPLE

    @property
    def reference(self) -> Path | None:
        return self.root / REFERENCE if self.info.get("reference") else None

    @property
    def scoring(self) -> Path | None:
        path = self.root / SCORING
        return path if self.info.get("scoring_program") and path.is_dir() else None

    @property
    def metric_names(self) -> list[str]:
        return [m["name"] for m in self.info["metrics"]]


def unpack(kit_file: Path, dest: Path) -> Kit:
    """Unpack a kit (links, devices and paths outside ``dest`` refused) and read kit.json;
    the sample, reference and program are made readable by the sandbox's user, unwritable."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(kit_file, mode="r:") as tar:
            tar.extractall(dest, filter="data")
        info = json.loads((dest / MANIFEST).read_text("utf-8"))
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise KitError(f"{kit_file} is not a check kit ({exc})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT or not (dest / SAMPLE).is_dir():
        raise KitError(f"{kit_file} is not a check kit of format {FORMAT}")
    for name in (SAMPLE, REFERENCE, SCORING):
        if (dest / name).is_dir():
            folders.read_only(dest / name)
    return Kit(dest, info)
