"""Id columns, and matching a predictions file's ids to the labels' ids.

Ids are packed as 64-bit words, one zero-padded row of words per id, plus each id's length:
two id columns are equal when their words and lengths are, and a shuffled column is matched
by 64-bit keys of its rows. Neither needs a Python string per id. Columns that would pack into
much more memory than their text (one very long id), or with an id that holds a newline, are
matched as strings, and so are ids that hold a NUL byte (files with one are refused): without
them, equal zero-padded words mean equal ids.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from challenges.metrics import label_str
from evaluator.messages import message
from evaluator.prediction_errors import examples, id_error, repeated, repeats

NEWLINE = ord("\n")
# Masks that keep the first k bytes (in memory order) of a 64-bit word, k = 0..8.
_KEEP = ((np.arange(8) < np.arange(9)[:, None]) * np.uint8(255)).view(np.uint64).ravel()


@dataclass
class Ids:
    """One id column: packed (`words`, `lengths`), as strings, or both."""

    count: int
    words: np.ndarray | None = None  # (count, k) uint64: each id's bytes, zero-padded
    lengths: np.ndarray | None = None
    strings: np.ndarray | None = None  # object array of str
    _packable: bool = True
    _sorted: tuple[np.ndarray, np.ndarray] | None = None  # see sorted_keys()

    @classmethod
    def of_strings(cls, strings: np.ndarray) -> Ids:
        return cls(len(strings), strings=strings)

    def packed(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.words is None and self._packable:
            self._packable = False
            assert self.strings is not None
            blob = ("\n".join(self.strings) + "\n").encode()
            raw = np.frombuffer(blob, dtype=np.uint8)
            ends = np.flatnonzero(raw == NEWLINE)
            if len(ends) == self.count and b"\0" not in blob:  # see the module's docstring
                starts = np.concatenate(([0], ends[:-1] + 1))
                self.words = packed_words(raw, starts, ends - starts)
                self.lengths = ends - starts
        return None if self.words is None else (self.words, self.lengths)

    def sorted_keys(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(short keys in order, the row of each), or None when two ids share a short key.
        Kept: the labels' ids are matched against many files."""
        if self._sorted is None:
            packed = self.packed()
            if packed is None:
                return None
            order = np.sort(_tagged(keys(*packed)))
            short = order & _short_mask(self.count)
            unique = not (short[1:] == short[:-1]).any()
            rows = (order & ~_short_mask(self.count)).astype(np.intp)
            self._sorted = (short, rows) if unique else (short[:0], rows[:0])
        return self._sorted if len(self._sorted[0]) == self.count else None

    def array(self) -> np.ndarray:
        if self.strings is None:
            assert self.words is not None
            rows = self.words.view(np.uint8)
            flat = np.hstack([rows, np.full((self.count, 1), NEWLINE, np.uint8)]).ravel()
            ids = flat[flat != 0].tobytes().decode().split("\n")  # ids from files hold no NUL
            ids.pop()
            self.strings = np.array(ids, dtype=object)
        return self.strings


def packed_words(raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """(n, k) uint64 holding raw[start : start + length] of each row, zero-padded to 8k bytes;
    None when that would take more than about twice the memory of `raw`."""
    longest = int(lengths.max()) if len(lengths) else 0
    k = max(1, -(-longest // 8))
    if len(starts) * k * 8 > 2 * len(raw) + (1 << 16):
        return None
    if len(raw) < 8 or (len(starts) and int(starts.max()) + 8 * k > len(raw)):
        raw = np.concatenate([raw, np.zeros(8 * k, np.uint8)])
    # Every 8-byte window of raw as one (unaligned) word: a row's word j starts at start + 8j.
    windows = np.ndarray((len(raw) - 7,), dtype=np.uint64, buffer=raw, strides=(1,))
    words = np.empty((len(starts), k), dtype=np.uint64)
    for j in range(k):
        words[:, j] = windows[starts + 8 * j]
        if (lengths < 8 * (j + 1)).any():
            words[:, j] &= _KEEP[np.clip(lengths - 8 * j, 0, 8)]
    return words


def strings_of(column: pd.Series) -> np.ndarray:
    """A labels frame's ids as an object array of str."""
    if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
        return column.to_numpy(dtype=object)
    return np.array([label_str(v) for v in column], dtype=object)


# --- the labels' ids, packed once per labels frame -----------------------------------------

# id(frame) -> (weak reference to the frame, its id column when packed, the packed ids).
_LABEL_IDS: dict[int, tuple[weakref.ref, pd.Series, Ids]] = {}


def remember(labels: pd.DataFrame, ids: Ids) -> None:
    """Keep `ids` (the ids of `labels`, packed or not) for :func:`label_ids`."""
    if not _copy_on_write():
        return
    key = id(labels)
    ref = weakref.ref(labels, lambda _, key=key: _LABEL_IDS.pop(key, None))
    _LABEL_IDS[key] = (ref, labels["id"], ids)


def label_ids(labels: pd.DataFrame) -> Ids:
    """The ids of a labels frame, packed.

    Packing a million ids costs about as much as matching them, and a worker scores many
    submissions against the same frame, so the result is kept per frame. The frame is known by
    identity and its id column by the memory that holds it. That is safe because of pandas'
    copy-on-write (always on from pandas 3): the column kept here shares that memory, so
    writing to the frame's column moves it to new memory and is never mistaken for the old.
    """
    column = labels["id"]
    entry = _LABEL_IDS.get(id(labels))
    if entry is not None and entry[0]() is labels and _same_memory(column, entry[1]):
        ids = entry[2]
    else:
        ids = Ids.of_strings(strings_of(column))
        remember(labels, ids)
    ids.packed()
    return ids


def _same_memory(a: pd.Series, b: pd.Series) -> bool:
    x, y = a.to_numpy(), b.to_numpy()
    return x.dtype == y.dtype and x.__array_interface__ == y.__array_interface__


def _copy_on_write() -> bool:
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.get_option("mode.copy_on_write") is True


# --- matching ------------------------------------------------------------------------------


def align(name: str, found: Ids, labels: Ids) -> np.ndarray | None:
    """The predictions row for each label row, or None when they are in the same order.
    Raises :class:`PredictionError` naming missing, unknown and repeated ids."""
    if found.count == labels.count:
        a, b = found.packed(), labels.packed()
        if a is not None and b is not None:
            if _equal(a, b):  # the common case
                return None
            order = hash_join(found, labels)
            if order is not None:
                return order
        elif np.array_equal(found.array(), labels.array()):
            return None
    ids, label_strings = found.array(), labels.array()
    positions = pd.Index(label_strings, dtype=object).get_indexer(ids)
    extra = positions < 0
    present = np.zeros(len(label_strings), dtype=bool)
    present[positions[~extra]] = True
    if len(ids) == len(label_strings) and present.all():  # a permutation: no repeats possible
        order = np.empty(len(label_strings), dtype=np.intp)
        order[positions] = np.arange(len(positions))
        return order
    problems = []
    duplicated = pd.Index(ids, dtype=object).duplicated()
    wrong, missing = pd.unique(ids[extra]), label_strings[~present]
    if duplicated.any():
        problems.append(repeated(ids, duplicated))
    if len(wrong):
        problems.append(message("output.unknown_ids", count=len(wrong), examples=examples(wrong)))
    if len(missing):
        problems.append(
            message("output.missing_ids", count=len(missing), examples=examples(missing))
        )
    counts = {"repeated": len(repeats(ids, duplicated)), "unknown": len(wrong)}
    raise id_error(name, problems, **counts, missing=len(missing))


def _equal(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    return a[0].shape == b[0].shape and np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])


def hash_join(found: Ids, labels: Ids) -> np.ndarray | None:
    """Match two equally long packed id columns by 64-bit keys of their ids, then check every
    match byte by byte. None when it cannot tell (other ids, a key collision): the caller
    then matches the strings themselves."""
    a, b = found.packed(), labels.packed()
    if a is None or b is None or a[0].shape != b[0].shape:
        return None
    by_label = labels.sorted_keys()
    if by_label is not None:
        # Sort values, not indices (several times faster): each key carries its row.
        tagged = np.sort(_tagged(keys(*a)))
        if not np.array_equal(tagged & _short_mask(found.count), by_label[0]):
            return None
        order = np.empty(found.count, dtype=np.intp)
        order[by_label[1]] = (tagged & ~_short_mask(found.count)).astype(np.intp)
    else:  # two label ids share a short key: sort the full keys
        label_keys, found_keys = keys(*b), keys(*a)
        label_rows, found_rows = np.argsort(label_keys), np.argsort(found_keys)
        sorted_keys = label_keys[label_rows]
        if (
            not np.array_equal(sorted_keys, found_keys[found_rows])
            or (sorted_keys[1:] == sorted_keys[:-1]).any()
        ):
            return None
        order = np.empty(found.count, dtype=np.intp)
        order[label_rows] = found_rows
    if not np.array_equal(np.take(a[0], order, axis=0), b[0]):  # no NUL: words decide
        return None
    return order


def _short_mask(count: int) -> np.uint64:
    """The key bits left once the low bits hold a row number below `count`."""
    return ~np.uint64((1 << max(1, (count - 1).bit_length())) - 1)


def _tagged(key: np.ndarray) -> np.ndarray:
    """Each key with its row number in the low bits."""
    return (key & _short_mask(len(key))) | np.arange(len(key), dtype=np.uint64)


def keys(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit key for each packed id, its bits well mixed (the low bits are dropped)."""
    result = words[:, 0] ^ lengths.astype(np.uint64)
    for j in range(1, words.shape[1]):
        result = result * np.uint64(0x9E3779B97F4A7C15) ^ words[:, j]
    # MurmurHash3's finaliser: a bijection, so distinct keys stay distinct.
    for multiplier in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
        result ^= result >> np.uint64(33)
        result *= np.uint64(multiplier)
    return result ^ (result >> np.uint64(33))
