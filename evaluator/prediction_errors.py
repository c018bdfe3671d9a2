"""What can be wrong with a predictions or labels file, and the messages that say so.

Messages shown to teams say what to fix and never hold a label value; they are codes
with parameters (:mod:`evaluator.messages`), put into words where they are shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluator import messages

EXAMPLES = 5


class PredictionError(ValueError):
    """What is wrong with a team's predictions file, shown to the team: it says what to fix
    and never holds a label value. ``code`` names the kind of problem; ``message_code`` and
    ``params`` are the message (:mod:`evaluator.messages`) the submission stores, so the
    web layer shows it in the reader's language. ``str()`` is its English."""

    def __init__(self, code: str, message_code: str, **params: object) -> None:
        super().__init__(messages.english(message_code, params))
        self.code = code
        self.message_code = message_code
        self.params = params


class LabelsError(ValueError):
    """The sponsor's labels file is unusable. Not the team's fault; never shown to teams."""


def at(name: str, line: int, code: str, message_code: str, **params: object) -> PredictionError:
    return PredictionError(code, message_code, file=name, line=line, **params)


def empty(name: str, line: int, column: str) -> PredictionError:
    return at(name, line, "empty", "output.empty_value", column=clip(column))


def ragged(name: str, line: int, got: int, width: int, text: bytes) -> PredictionError:
    if not text.strip():
        return at(name, line, "ragged", "output.blank_line", fields=0, expected=width)
    return at(name, line, "ragged", "output.ragged", fields=got, expected=width)


def bad_value(name: str, line: int, value: str, column: str, kind: str) -> PredictionError:
    message_code = "output.bad_probability" if kind == "probability" else "output.bad_number"
    return at(name, line, "bad_value", message_code, column=clip(column), value=clip(value))


def not_a_file(name: str, kind: str) -> PredictionError:
    """``kind``: symlink, directory, fifo, socket or device."""
    return PredictionError("not_a_file", f"output.{kind}", file=name, kind=kind)


def too_large(name: str, size: int, limit: int) -> PredictionError:
    return PredictionError("too_large", "output.too_large", file=name, size=size, limit=limit)


def not_csv(name: str) -> PredictionError:
    return PredictionError("csv", "output.not_csv", file=name)


def repeats(ids: np.ndarray, duplicated: np.ndarray) -> np.ndarray:
    return pd.unique(ids[duplicated])


def repeated(ids: np.ndarray, duplicated: np.ndarray) -> dict:
    found = repeats(ids, duplicated)
    return messages.message("output.repeated_ids", count=len(found), examples=examples(found))


def examples(ids: np.ndarray) -> str:
    return ", ".join(f'"{clip(str(i))}"' for i in ids[:EXAMPLES])


def id_error(name: str, problems: list[dict], **counts: int) -> PredictionError:
    """``problems``: messages (:func:`evaluator.messages.message`), shown one after another."""
    return PredictionError("ids", "output.ids", file=name, problems=problems, **counts)


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
