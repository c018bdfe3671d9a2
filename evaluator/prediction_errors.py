"""What can be wrong with a predictions or labels file, and the messages that say so.

Messages shown to teams say what to fix and never hold a label value; ``code`` and
``params`` let the web layer translate them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXAMPLES = 5


class PredictionError(ValueError):
    """What is wrong with a team's predictions file, shown to the team: it says what to fix
    and never holds a label value. ``code`` and ``params`` let the web layer translate it."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class LabelsError(ValueError):
    """The sponsor's labels file is unusable. Not the team's fault; never shown to teams."""


def at(name: str, line: int, code: str, text: str, **params: object) -> PredictionError:
    return PredictionError(code, f"{name} line {line} {text}.", file=name, line=line, **params)


def empty(name: str, line: int, column: str) -> PredictionError:
    return at(name, line, "empty", f'has an empty "{clip(column)}" value', column=column)


def ragged(name: str, line: int, got: int, width: int, text: bytes) -> PredictionError:
    if not text.strip():
        return at(name, line, "ragged", "is blank; remove blank lines", fields=0, expected=width)
    message = f"has {got} fields; every line needs {width}, like the header"
    return at(name, line, "ragged", message, fields=got, expected=width)


def bad_value(name: str, line: int, value: str, column: str, kind: str) -> PredictionError:
    what = "a probability between 0 and 1" if kind == "probability" else "a finite number"
    text = f'has {clip(value)} in column "{clip(column)}"; write {what}'
    return at(name, line, "bad_value", text, column=column, value=clip(value))


def not_a_file(name: str, kind: str, text: str) -> PredictionError:
    return PredictionError(
        "not_a_file", f"{name} is {text}; write it as a regular file.", file=name, kind=kind
    )


def too_large(name: str, size: int, limit: int) -> PredictionError:
    return PredictionError(
        "too_large",
        f"{name} is {size} bytes; the limit is {limit} bytes.",
        file=name,
        size=size,
        limit=limit,
    )


def not_csv(name: str) -> PredictionError:
    return PredictionError("csv", f"{name} could not be read as CSV.", file=name)


def repeats(ids: np.ndarray, duplicated: np.ndarray) -> np.ndarray:
    return pd.unique(ids[duplicated])


def repeated(ids: np.ndarray, duplicated: np.ndarray) -> str:
    found = repeats(ids, duplicated)
    return f"{len(found)} ids appear more than once, e.g. {examples(found)}"


def examples(ids: np.ndarray) -> str:
    return ", ".join(f'"{clip(str(i))}"' for i in ids[:EXAMPLES])


def id_error(name: str, problems: list[str], **counts: int) -> PredictionError:
    return PredictionError(
        "ids",
        f"{name}: {'; '.join(problems)}. Write exactly one row for each id in test.csv.",
        file=name,
        problems=problems,
        **counts,
    )


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
