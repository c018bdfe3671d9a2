"""What is wrong with a challenge bundle or form, as codes with parameters (STYLE.md 18).

A ``Problem`` is a ``str`` -- ``"key: words"`` in English, so the CLI, the logs and older
callers read it as before -- that also keeps the bundle key it names, a code and the
parameters. The web layer chooses the words when it shows one, in the reader's language
(``web.problems``). A template's English below is its msgid (Babel extracts ``N_``);
names of keys and files sit between backticks, which the pages show as code.

A plain ``str`` problem (written before this module, or by code that has no code for it
yet) is shown as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

CODE = re.compile(r"`([^`]*)`")


def N_(text: str) -> str:  # the name Babel extracts by default
    return text


TEMPLATES: dict[str, str] = {
    # The bundle as a whole (challenges.bundle)
    "bundle.not_zip": N_("not a folder or a zip file"),
    "bundle.too_many_files": N_("the zip holds more than %(limit)s files"),
    "bundle.too_large": N_("the zip unpacks to more than %(limit)s"),
    "bundle.unsafe_path": N_("unsafe path in the zip (absolute, `..` or a link)"),
    "bundle.no_spec": N_("not found at the top of the bundle"),
    "bundle.bad_yaml": N_("not valid YAML (`%(detail)s`)"),
    "bundle.not_mapping": N_("must be a mapping of keys to values"),
    "bundle.not_utf8": N_("the file is not UTF-8 text"),
    "bundle.empty_file": N_("the file is empty"),
    "bundle.not_a_file": N_("`%(name)s` is not a file of the bundle"),
    "bundle.bad_name": N_("`%(name)s` is not a usable file name; rename the file"),
    # The schema (challenges.schema and pydantic's own checks)
    "schema.unknown_key": N_("unknown key; remove it or check its spelling"),
    "schema.missing": N_("required key is missing"),
    "schema.gt": N_("must be greater than %(limit)s"),
    "schema.ge": N_("must be at least %(limit)s"),
    "schema.lt": N_("must be less than %(limit)s"),
    "schema.le": N_("must be at most %(limit)s"),
    "schema.too_short": N_("needs at least %(limit)s item(s) or character(s)"),
    "schema.too_long": N_("holds more than %(limit)s items or characters"),
    "schema.pattern": N_("does not have the expected form `%(pattern)s`"),
    "schema.integer": N_("must be a whole number"),
    "schema.number": N_("must be a number"),
    "schema.finite": N_("must be a finite number"),
    "schema.boolean": N_("must be true or false"),
    "schema.datetime": N_("must be a date and time, e.g. `2026-12-01T00:00:00+08:00`"),
    "schema.one_of": N_("must be one of `%(expected)s`"),
    "schema.text": N_("must be text"),
    "schema.list": N_("must be a list"),
    "schema.mapping": N_("must be a mapping of keys to values"),
    "schema.invalid": N_("is not valid here (`%(detail)s`)"),
    "schema.target_kind": N_(
        "a target is one of `{metric: NAME, at_least: X}`, `{metric: NAME, at_most: X}`, "
        "`{max_runtime_s: S}` or `{max_memory_mb: M}`"
    ),
    "schema.target_bound": N_("a metric target needs exactly one of `at_least` or `at_most`"),
    "schema.sample_labels": N_("`sample_labels` needs `sample_inputs` (the sample they label)"),
    "schema.metric_name": N_(
        "`%(name)s`: a metric name is lower-case letters, digits and `_`, starting with a "
        "letter, at most 40 characters (e.g. `map50`)"
    ),
    "schema.image": N_(
        "`%(name)s` is not the name of a scorer image built on the workers, like "
        "`jiebang/scoring:3.11` (`jiebang/NAME:TAG`)"
    ),
    "schema.repeated_metrics": N_("each metric once; repeated: `%(names)s`"),
    "schema.path": N_(
        "`%(name)s` is not a file or folder inside the bundle folder (names of letters, "
        "digits, `.`, `_`, `-`, joined by `/`)"
    ),
    "schema.file_name": N_(
        "`%(name)s` is not a plain file name in the bundle folder (letters, digits, `.`, "
        "`_`, `-`, no folders)"
    ),
    "schema.time_zone_needed": N_("give a time zone, e.g. `%(example)s`"),
    "schema.unknown_zone": N_("unknown time zone `%(name)s`; use a name like `%(example)s`"),
    "schema.closes_before_opens": N_("closes_at must be after opens_at"),
    "schema.round_tag": N_(
        "`%(name)s`: a round tag is lower-case letters, digits, `.`, `_` and `-` "
        "(e.g. `miit-ai-2026`)"
    ),
    "schema.before_close": N_("%(field)s must be before closes_at"),
    "schema.apply_by_registration": N_(
        "applicants.who: organizations and consortia apply by registration; add "
        "registration: {mode: open} or {mode: approval}"
    ),
    "schema.round_needed": N_("%(field)s needs a round: tag"),
    "schema.criterion_name": N_(
        "`%(name)s`: a criterion name is lower-case letters, digits and `_`, starting with a "
        "letter, at most 40 characters (e.g. `technical`)"
    ),
    "schema.repeated_criteria": N_("each criterion once; repeated: `%(names)s`"),
    "schema.due_before_close": N_("proposal.due must be before closes_at (teams submit after it)"),
    # Names and data (challenges.bundle_files, challenges.bundle_checks)
    "files.not_found": N_("file `%(name)s` not found in the bundle folder"),
    "files.entry_not_found": N_("file or folder `%(name)s` not found in the bundle folder"),
    "files.special": N_("`%(name)s` is a link or a special file; put plain files in `%(folder)s`"),
    "files.bad_name": N_("`%(name)s` is not a name inside the bundle folder"),
    "files.link": N_("`%(name)s` is a link; put the file itself in the bundle"),
    "checks.scenario": N_("`%(name)s` is not a sector of the scenario catalog"),
    "checks.unknown_metric": N_("unknown metric `%(name)s`; known: `%(known)s`"),
    "checks.ranking_metric": N_(
        "`%(name)s` must be one of `scoring.metrics` (`%(declared)s`); it ranks the board"
    ),
    "checks.target_builtin": N_(
        "`%(name)s` is not reported; targets on other metrics need a scoring program that "
        "reports them"
    ),
    "checks.target_declared": N_("`%(name)s` is not reported; declare it under `scoring.metrics`"),
    "checks.overlap": N_(
        "`%(name)s` overlaps the hidden %(hidden_key)s `%(hidden)s`; keep hidden data out of "
        "public files and folders"
    ),
    "checks.scorer_entry": N_(
        "must be a folder with `%(entry)s` at its top (it runs as `python /scoring/score.py`)"
    ),
    "checks.labels_copy": N_(
        "`%(name)s` is a copy of a hidden data.test_labels file; the program reads the "
        "labels at /reference, keep them out of its folder"
    ),
    "checks.items_needed": N_(
        "required when `data.test_inputs` is not a CSV file with an `id` column"
    ),
    "checks.no_ids": N_("no item ids (an `id` column with one row per test item)"),
    "checks.repeated_ids": N_("ids must be unique"),
    "checks.bad_id": N_(
        "id `%(id)s` is empty, longer than %(limit)s characters or holds a control "
        "character, `/` or `\\`"
    ),
    "checks.labels_folder": N_(
        "the built-in scorer reads one CSV file (`id,label`); a folder of labels needs a "
        "scoring program (`scoring.program`)"
    ),
    "checks.sample_folder": N_("the built-in scorer reads one CSV file (`id,label`)"),
    "checks.no_rows": N_("the file has no rows"),
    "checks.ids_differ": N_("its ids must be exactly the ids of `%(other)s`"),
    "checks.one_class": N_("a classification metric needs two or more classes"),
    "checks.not_numeric": N_("a regression metric needs numeric labels"),
    "csv.not_utf8": N_("not a UTF-8 CSV file (`%(detail)s`)"),
    "csv.no_id": N_("needs an `id` column in its header"),
    "csv.no_column": N_("needs a `%(column)s` column in its header"),
    "csv.field_count": N_("line %(line)s has a wrong field count"),
    # The sample submission (challenges.sample_submission)
    "sample.not_csv": N_("`%(name)s` must be a CSV file, e.g. `sample_submission.csv`"),
    "sample.too_large": N_("keep the sample under 1 MB; a few rows show the format"),
    "sample.unreadable": N_("not a readable UTF-8 CSV file (`%(detail)s`)"),
    "sample.header": N_("the header must be `%(wanted)s` (what the scorer reads), not `%(got)s`"),
    "sample.first_id": N_("the first column must be `id`"),
    "sample.no_rows": N_("add a few rows that show the format"),
    "sample.too_many_rows": N_("at most %(limit)s rows; a few show the format"),
    "sample.test_ids": N_(
        "it lists test ids (%(ids)s); the test items stay hidden, so use made-up ids or "
        "those of the sample inputs"
    ),
}


class Problem(str):
    """One problem: ``"key: words"`` in English, with its key, code and parameters."""

    key: str
    code: str
    params: dict

    def __new__(cls, key: str, code: str, params: Mapping[str, object]) -> Problem:
        words = plain(render(code, params))
        text = f"{key}: {words}" if key else words
        made = super().__new__(cls, text)
        made.key, made.code, made.params = key, code, dict(params)
        return made


def problem(key: str, code: str, /, **params: object) -> Problem:
    return Problem(key, code, params)


class Bad(ValueError):
    """A schema validator's refusal (pydantic keeps it as the error's ``ctx["error"]``)."""

    def __init__(self, code: str, /, **params: object) -> None:
        self.code, self.params = code, params
        super().__init__(plain(render(code, params)))


class Missing(FileNotFoundError):
    """A bundle name that reaches no usable file, with the words' code."""

    def __init__(self, code: str, /, **params: object) -> None:
        self.code, self.params = code, params
        super().__init__(plain(render(code, params)))


def from_missing(key: str, exc: FileNotFoundError) -> str:
    if isinstance(exc, Missing):
        return problem(key, exc.code, **exc.params)
    return f"{key}: {exc}"


def plain(words: str) -> str:
    """Words for a terminal or a log: a name between backticks in single quotes."""
    return CODE.sub(r"'\1'", words)


def render(
    code: str, params: Mapping[str, object], translate: Callable[[str], str] = lambda t: t
) -> str:
    """The words of ``code`` (no key), translated by ``translate`` (English by default)."""
    template = TEMPLATES.get(code)
    if template is None:
        log.warning("no template for problem code %r", code)
        return code
    for words in (translate(template), template):  # a translation that does not fit: English
        try:
            return words % dict(params)
        except (KeyError, ValueError, TypeError):
            log.warning("problem %r does not fit its parameters %r", code, list(params))
    return code
