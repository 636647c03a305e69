"""Sensitive data an agent must never say or write in full: card numbers, national IDs."""

from __future__ import annotations

import re

from contactqa.privacy import luhn_valid

_CARD = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")


def iin_valid(digits: str) -> bool:
    """Kazakhstan IIN/BIN check digit (weights 1..11, then 3..11,1,2 when the first pass gives 10)."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    nums = [int(c) for c in digits]
    check = sum(w * n for w, n in zip(range(1, 12), nums[:11])) % 11
    if check == 10:
        weights = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        check = sum(w * n for w, n in zip(weights, nums[:11])) % 11
        if check == 10:
            return False
    return check == nums[11]


def find_card_numbers(text: str) -> list[str]:
    found = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(match.group())
    return found


def find_national_ids(text: str) -> list[str]:
    return [m.group() for m in _IIN.finditer(text) if iin_valid(m.group())]
