"""The public/private split of a challenge's test rows.

A row is public when HMAC-SHA256(secret, id), read as a big-endian 64-bit integer from the
first 8 bytes of the digest, is below ``fraction * 2**64``. It depends only on the row id and
the challenge's secret, so it is the same on every worker, in any row order, and teams
cannot predict it without the secret. The secret's UTF-8 bytes are the HMAC key; each id is
hashed as the UTF-8 bytes of ``str(id)``.

About 1 µs per id (1,000,000 ids ≈ 1 s), nearly all of it in the two SHA-256 computations
per id, which CPython's hashlib cannot batch (encoding the ids in bulk or moving the loop into
``map`` gains nothing measurable): compute the mask once per challenge and keep it, rather
than once per submission.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence

import numpy as np
import pandas as pd

_BLOCK = 64  # SHA-256 block size, the HMAC pad length


def new_secret() -> str:
    return secrets.token_hex(32)


def public_mask(
    ids: Sequence[str] | np.ndarray | pd.Series, secret: str, fraction: float
) -> np.ndarray:
    """Boolean array: True where the id's row is on the public board."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    if not secret:
        raise ValueError("the split secret must not be empty")
    values = ids.tolist() if isinstance(ids, np.ndarray | pd.Series) else list(ids)
    if fraction == 1.0:  # 2**64 does not fit in uint64
        return np.ones(len(values), dtype=bool)
    return _hmac_prefixes(secret.encode(), values) < np.uint64(math.ceil(fraction * 2**64))


def _hmac_prefixes(key: bytes, values: list) -> np.ndarray:
    # HMAC by hand (RFC 2104) on copies of the two pre-keyed hash states: hmac.digest()
    # re-derives them for every id and is twice as slow.
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy
    digests = []
    append = digests.append
    for value in values:
        h = inner()
        h.update(str(value).encode())
        o = outer()
        o.update(h.digest())
        append(o.digest())
    # Each digest is 32 bytes = four 8-byte words; the first word of each is the prefix.
    return np.frombuffer(b"".join(digests), dtype=">u8")[::4].astype(np.uint64)
