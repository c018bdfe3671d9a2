import hmac

import numpy as np
import pandas as pd
import pytest

from challenges.split import new_secret, public_mask

SECRET = "3f9a" * 16
IDS = [f"row-{i}" for i in range(10_000)]


def _by_definition(ids, secret: str, fraction: float) -> np.ndarray:
    def prefix(i):
        digest = hmac.digest(secret.encode(), str(i).encode(), "sha256")
        return int.from_bytes(digest[:8], "big")

    return np.array([prefix(i) < fraction * 2**64 for i in ids])


def test_mask_is_the_hmac_rule():
    ids = [*IDS[:500], "", "ünïcode-行", "x" * 200]
    mask = public_mask(ids, SECRET, 0.3)
    assert mask.dtype == bool and mask.shape == (len(ids),)
    assert np.array_equal(mask, _by_definition(ids, SECRET, 0.3))


def test_long_secrets_follow_hmac_too():
    long_secret = "k" * 100  # longer than a SHA-256 block: HMAC hashes the key first
    assert np.array_equal(
        public_mask(IDS[:300], long_secret, 0.5), _by_definition(IDS[:300], long_secret, 0.5)
    )


def test_mask_is_deterministic_and_independent_of_row_order():
    first = public_mask(IDS, SECRET, 0.3)
    assert np.array_equal(first, public_mask(IDS, SECRET, 0.3))
    order = np.random.default_rng(7).permutation(len(IDS))
    shuffled = np.array(IDS, dtype=object)[order]
    assert np.array_equal(public_mask(shuffled, SECRET, 0.3), first[order])


def test_accepts_lists_arrays_and_series_alike():
    expected = public_mask(IDS[:100], SECRET, 0.4)
    assert np.array_equal(public_mask(np.array(IDS[:100]), SECRET, 0.4), expected)
    assert np.array_equal(public_mask(pd.Series(IDS[:100]), SECRET, 0.4), expected)
    assert np.array_equal(
        public_mask(range(50), SECRET, 0.4), public_mask([str(i) for i in range(50)], SECRET, 0.4)
    )


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.9])
def test_fraction_is_roughly_right_on_10000_ids(fraction):
    share = public_mask(IDS, SECRET, fraction).mean()
    assert abs(share - fraction) < 0.02  # 4 standard deviations at most


def test_larger_fractions_only_add_rows():
    small, large = public_mask(IDS, SECRET, 0.2), public_mask(IDS, SECRET, 0.6)
    assert not (small & ~large).any()


def test_different_secrets_give_different_splits():
    a = public_mask(IDS, SECRET, 0.5)
    b = public_mask(IDS, "another secret", 0.5)
    assert 0.4 < (a != b).mean() < 0.6  # independent halves disagree on about half


def test_fraction_bounds():
    assert not public_mask(IDS[:100], SECRET, 0.0).any()
    assert public_mask(IDS[:100], SECRET, 1.0).all()
    assert public_mask([], SECRET, 0.3).shape == (0,)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            public_mask(IDS[:10], SECRET, bad)
    with pytest.raises(ValueError):
        public_mask(IDS[:10], "", 0.3)


def test_new_secret_is_64_hex_characters_and_fresh():
    secret = new_secret()
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert secret != new_secret()
