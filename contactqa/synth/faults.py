"""Which agent faults a contact can carry, drawing them, and spotting them again.

The spotting helpers are the generator's own definition of "physically
present": tests use them to prove every ground-truth fault can be seen in the
files and that fault-free contacts are clean. They are not the AutoQA rules.
"""

from __future__ import annotations

import random
import re
from typing import Iterable, Mapping

from .options import FAULT_CODES
from .rand import luhn_valid

# Topics whose solution changes the account, so the agent must identify the customer first.
IDENTITY_TOPICS: frozenset[str] = frozenset({"card_blocked", "address_change", "card_reissue", "collections"})

# Both channels; long_silence and slow_reply belong to one channel each.
_COMMON_FAULTS: tuple[str, ...] = ("no_greeting", "no_introduction", "rude_phrase", "missing_closing", "card_number_disclosed")

# Thresholds shared by the injector and the checks.
LONG_SILENCE_MIN_S = 45.0
LONG_SILENCE_MAX_S = 120.0
NORMAL_GAP_MAX_S = 10.0
SLOW_REPLY_MIN_S = 240.0
SLOW_REPLY_MAX_S = 900.0
NORMAL_REPLY_MAX_S = 120.0


def applicable_faults(channel: str, topic: str) -> tuple[str, ...]:
    codes = list(_COMMON_FAULTS)
    codes.append("long_silence" if channel == "voice" else "slow_reply")
    if topic in IDENTITY_TOPICS:
        codes.append("identity_not_verified")
    return tuple(c for c in FAULT_CODES if c in codes)


def draw_faults(rng: random.Random, channel: str, topic: str, rates: Mapping[str, float]) -> frozenset[str]:
    # One draw per known code in a fixed order, applicable or not, keeps the
    # random stream aligned whatever the channel and topic.
    applicable = applicable_faults(channel, topic)
    chosen = set()
    for code in FAULT_CODES:
        roll = rng.random()
        if code in applicable and roll < rates.get(code, 0.0):
            chosen.add(code)
    return frozenset(chosen)


# --- spotting ----------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d){12,18}")


def find_card_numbers(text: str) -> list[str]:
    """Luhn-valid 16-digit numbers, written plain or in groups with spaces or dashes."""
    found: list[str] = []
    for m in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        # A run may hold a card number next to other digits; try every 16-window.
        for i in range(0, len(digits) - 15):
            window = digits[i : i + 16]
            if luhn_valid(window):
                found.append(window)
                break
    return found


# Stems of the rude phrase bank, lowercase and stripped of punctuation, as they
# survive ASR styling; a fault-free agent never says any of them.
RUDE_MARKERS: tuple[str, ...] = (
    "не мои проблемы", "не моя проблема", "уже объяснял", "уже три раза", "не понимаете",
    "вообще слушаете", "ищите сами", "десять раз", "сколько можно", "некогда с вами",
    "сами виноваты", "ваши проблемы", "читайте договор", "что вы от меня хотите", "не обязан",
    "успокойтесь", "уже писал", "читайте внимательнее",
    "not my problem", "calm down", "whatever", "already told you", "even listening", "how many times",
    "figure it out yourself", "don't have time for this", "your problem", "read the contract",
    "explained this three times", "already wrote that", "read my messages",
)

_PUNCT = re.compile(r"[^\w\s'-]+")


def normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def has_rude_marker(texts: Iterable[str]) -> bool:
    joined = " | ".join(normalise(t) for t in texts)
    return any(marker in joined for marker in RUDE_MARKERS)
