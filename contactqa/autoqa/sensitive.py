"""Sensitive data an agent must never say or write in full: card numbers, national IDs, passwords.

Cards and IINs are found by contactqa.privacy (one definition for AutoQA, ingest's `pii_kinds` and
masking: a card is one number in a network's issuer range that passes Luhn, never digits of a link,
an id or a timestamp); passwords, which only AutoQA looks for, here.
"""

from __future__ import annotations

import re

from contactqa.privacy import (  # noqa: F401  (AutoQA's detectors, re-exported where rules look for them)
    card_numbers_shown, disclosures, find_card_numbers, find_national_ids, find_spoken_card_numbers, iin_valid,
    spoken_digit_runs,
)

_PASSWORD = re.compile(
    r"(?:пароль|password|passcode|код доступа|pin|пин[- ]?код)\s*(?:is|это|:|—|-)?\s*[«\"']?"
    r"(?P<secret>(?=\S*\d)(?=\S*[A-Za-zА-Яа-я])\S{4,}|\d{4,})",
    re.IGNORECASE)


def find_passwords(text: str) -> list[str]:
    """A password, PIN or access code stated outright ("ваш пароль Qwerty123", "your PIN is 4821")."""
    return [m.group("secret") for m in _PASSWORD.finditer(text)]
