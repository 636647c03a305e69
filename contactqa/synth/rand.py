"""Seeded randomness helpers.

Every random stream is derived from the run seed plus a stable label, so that
adding a draw in one part of the generator does not reshuffle everything else
and the same seed always gives byte-identical output.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Sequence, TypeVar

T = TypeVar("T")


def derive_seed(*parts: object) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


def weighted_choice(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]


def lognormal_clamped(rng: random.Random, median: float, sigma: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, rng.lognormvariate(math.log(median), sigma)))


def luhn_check_digit(body: str) -> str:
    """Check digit that makes body+digit pass the Luhn test."""
    total = 0
    # Walking from the right, the digit next to the (future) check digit is doubled.
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


# Issuer prefixes of the fictional bank's Visa and Mastercard ranges.
_CARD_BINS: tuple[str, ...] = ("440043", "440563", "516949", "400303", "535613", "427801")


def card_number(rng: random.Random) -> str:
    body = rng.choice(_CARD_BINS) + "".join(str(rng.randrange(10)) for _ in range(9))
    return body + luhn_check_digit(body)
