"""The messages a submission shows its team: a code, parameters, and the words per code.

A submission stores ``message_code`` and ``message_params`` (JSON), never the words: the
web layer picks the words when it shows them, in the reader's language
(``web.errors.translate_message``). Each code's English template below is the msgid
(Babel extracts the ``N_`` calls); its ``%(name)s`` placeholders are filled from the
parameters. A parameter may itself be a message (``{"code": ..., "params": ...}``) or a
list of them, translated the same way and joined with ``SEPARATOR``.

``LEGACY`` holds a text written before messages were codes (``{"text": ...}``), shown as
it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sandboxes.messages import MESSAGES as REFUSALS

log = logging.getLogger(__name__)


def N_(text: str) -> str:  # the name Babel extracts by default
    """Marks a msgid for extraction; translated later, where it is shown."""
    return text


LEGACY = "legacy"
SEPARATOR = N_("; ")

TEMPLATES: dict[str, str] = {
    # The run (evaluator.outcome)
    "run.timeout": N_("The run took longer than the %(limit_s)s s time limit and was stopped."),
    "run.memory": N_("The run used more than its %(limit_mb)s MB of memory and was stopped."),
    "run.not_started": N_("The container could not start: %(detail)s"),
    "run.not_executable": N_(
        "The container exited with code %(exit_code)s: its command is not an executable file. "
        "Check the image's ENTRYPOINT and CMD."
    ),
    "run.not_found": N_(
        "The container exited with code %(exit_code)s: its command was not found in the "
        "image. Check the image's ENTRYPOINT and CMD."
    ),
    "run.crash": N_(
        "The container exited with code %(exit_code)s before finishing. Check that it runs "
        "with no network, as user 10001, on a read-only filesystem."
    ),
    "run.error": N_("The container exited with code %(exit_code)s after an error: %(error)s"),
    "run.error_hidden": N_(
        "The container exited with code %(exit_code)s after a Python %(error)s. Run logs are "
        "hidden in this challenge because its inputs are confidential, so only the error's "
        "kind is shown; run your submission on the sample with jiebang check to read it all."
    ),
    "run.crash_hidden": N_(
        "The container exited with code %(exit_code)s after an error. Run logs are hidden in "
        "this challenge because its inputs are confidential; run your submission on the "
        "sample with jiebang check to read the whole log."
    ),
    # The queue (evaluator.queueing)
    "queue.cancelled": N_(
        "Cancelled by the team before it ran; it does not count against the team's quota."
    ),
    # The platform (evaluator.recovery)
    "platform.retrying": N_("A platform problem interrupted the run; it will be retried."),
    "platform.gave_up": N_(
        "The platform could not run this submission after %(attempts)s attempts. It does not "
        "count against your quota; please submit it again."
    ),
    # The predictions file (evaluator.prediction_errors)
    "output.missing": N_("%(file)s was not found: write your predictions to %(file)s."),
    "output.unreadable": N_("%(file)s could not be opened: write it as a readable file."),
    "output.symlink": N_("%(file)s is a symbolic link; write it as a regular file."),
    "output.directory": N_("%(file)s is a directory; write it as a regular file."),
    "output.fifo": N_("%(file)s is a named pipe (FIFO); write it as a regular file."),
    "output.socket": N_("%(file)s is a socket; write it as a regular file."),
    "output.device": N_("%(file)s is a device; write it as a regular file."),
    "output.too_large": N_("%(file)s is %(size)s bytes; the limit is %(limit)s bytes."),
    "output.empty_file": N_("%(file)s is empty."),
    "output.no_rows": N_("%(file)s has a header but no rows."),
    "output.not_csv": N_("%(file)s could not be read as CSV."),
    "output.binary": N_("%(file)s line %(line)s holds a NUL byte."),
    "output.encoding": N_("%(file)s line %(line)s is not UTF-8 text; save the file as UTF-8."),
    "output.csv_line": N_("%(file)s line %(line)s is not valid CSV (%(detail)s)."),
    "output.empty_value": N_('%(file)s line %(line)s has an empty "%(column)s" value.'),
    "output.blank_line": N_("%(file)s line %(line)s is blank; remove blank lines."),
    "output.ragged": N_(
        "%(file)s line %(line)s has %(fields)s fields; every line needs %(expected)s, "
        "like the header."
    ),
    "output.not_a_number": N_(
        '%(file)s line %(line)s has "%(value)s" in column "%(column)s", which is not a number.'
    ),
    "output.bad_number": N_(
        '%(file)s line %(line)s has %(value)s in column "%(column)s"; write a finite number.'
    ),
    "output.bad_probability": N_(
        '%(file)s line %(line)s has %(value)s in column "%(column)s"; write a probability '
        "between 0 and 1."
    ),
    "output.bad_sum": N_(
        "%(file)s line %(line)s has probabilities that sum to %(sum).6g; each row must sum to 1."
    ),
    "output.header": N_(
        'The first line of %(file)s must be exactly "%(expected)s"; it is "%(found)s".'
    ),
    "output.class_header": N_(
        'The first line of %(file)s must be "id" and then one column per class (%(classes)s '
        "columns, named as the challenge names the classes): %(problems)s."
    ),
    "output.first_column": N_('the first column must be "id"'),
    "output.unknown_columns": N_("unknown columns: %(names)s"),
    "output.repeated_columns": N_("repeated columns: %(names)s"),
    "output.missing_columns": N_("%(count)s class columns are missing"),
    "output.ids": N_("%(file)s: %(problems)s. Write exactly one row for each test id."),
    "output.repeated_ids": N_("%(count)s ids appear more than once, e.g. %(examples)s"),
    "output.unknown_ids": N_("%(count)s ids are not test ids, e.g. %(examples)s"),
    "output.missing_ids": N_("%(count)s test ids are missing, e.g. %(examples)s"),
    # Notes on a scored submission (evaluator.outcome)
    "score.two_values": N_(
        "Scored, but your predictions hold only two distinct values: %(metric)s rewards "
        "probabilities, and hard 0/1 answers usually score worse than the probabilities "
        "your model can give."
    ),
    # The sponsor's scoring program (evaluator.scorer)
    "scoring.refused": N_("The scoring program could not use your output: %(message)s"),
    "scoring.failed": N_(
        "The challenge's scoring program failed on this submission. This is not your doing "
        "and does not count against your quota; the sponsor has been told."
    ),
}


# Uploads refused (sandboxes.ArchiveError, CodeBundleError): sandboxes keeps their words.
TEMPLATES.update(REFUSALS)


def message(code: str, **params: object) -> dict:
    """A message as a parameter of another: ``{"code": ..., "params": ...}``."""
    return {"code": code, "params": params}


class Words(str):
    """A message as a ``str`` (its English) that keeps its code and parameters: a
    ``ServiceError`` parameter the web layer translates (``web.errors.translate``)."""

    code: str
    params: dict

    def __new__(cls, code: str, params: Mapping[str, object]) -> Words:
        words = super().__new__(cls, english(code, params))
        words.code, words.params = code, dict(params)
        return words


def legacy(text: str) -> tuple[str, dict]:
    return (LEGACY, {"text": text}) if text else ("", {})


def render(
    code: str | None,
    params: Mapping[str, object] | None,
    translate: Callable[[str], str] = lambda text: text,
) -> str:
    """The words of a message; ``translate`` maps a template to the reader's language
    (the identity gives English). An empty code is no message: ""."""
    params = params or {}
    if not code:
        return ""
    if code == LEGACY:
        return str(params.get("text", ""))
    template = TEMPLATES.get(code)
    if template is None:
        log.warning("no template for message code %r", code)
        return code
    values = _Values({name: _value(value, translate) for name, value in params.items()})
    for words in (translate(template), template):  # a translation that does not fit: English
        try:
            return words % values
        except (ValueError, TypeError):
            log.warning("message %r does not fit its parameters %r", code, list(params))
    return code


def english(code: str | None, params: Mapping[str, object] | None) -> str:
    return render(code, params)


class _Values(dict):
    """A parameter that is missing (a message stored by an older version) shows as "?"."""

    def __missing__(self, name: str) -> str:
        log.warning("message parameter %r is missing", name)
        return "?"


def _value(value: object, translate: Callable[[str], str]) -> object:
    if _is_message(value):
        return render(value["code"], value.get("params"), translate)
    if isinstance(value, list) and value and all(_is_message(v) for v in value):
        return translate(SEPARATOR).join(_value(v, translate) for v in value)
    return value


def _is_message(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("code"), str)
