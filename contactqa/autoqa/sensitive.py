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


# Spoken numbers as ASR writes them: "четыре четыре ноль ноль", "сорок четыре ноль ноль", "four four oh".
_UNITS = {
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "раз": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
    "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}
_TEENS = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15,
    "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70,
    "восемьдесят": 80, "девяносто": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_WORD = re.compile(r"\d+|[a-zа-яё]+", re.IGNORECASE)


def spoken_digit_runs(text: str) -> list[str]:
    """Runs of digits said as words or written as digits, joined: "четыре четыре 00 сорок один" -> "440041"."""
    runs, current = [], []
    words = [w.lower().replace("ё", "е") for w in _WORD.findall(text)]
    i = 0
    while i < len(words):
        word = words[i]
        if word.isdigit():
            current.append(word)
        elif word in _UNITS:
            current.append(str(_UNITS[word]))
        elif word in _TEENS:
            current.append(str(_TEENS[word]))
        elif word in _TENS:
            if i + 1 < len(words) and words[i + 1] in _UNITS and _UNITS[words[i + 1]] > 0:
                current.append(str(_TENS[word] + _UNITS[words[i + 1]]))
                i += 1
            else:
                current.append(str(_TENS[word]))
        else:
            if current:
                runs.append("".join(current))
            current = []
        i += 1
    if current:
        runs.append("".join(current))
    return runs


def find_spoken_card_numbers(text: str) -> list[str]:
    """Card numbers read out in words (or mixed words and digits), which the digit regex cannot see."""
    found = []
    for run in spoken_digit_runs(text):
        for length in range(19, 12, -1):  # a card number inside a longer run: try every window
            hit = next((run[i:i + length] for i in range(len(run) - length + 1) if luhn_valid(run[i:i + length])
                        and run[i] in "2345689"), None)
            if hit:
                found.append(hit)
                break
    return found


_PASSWORD = re.compile(
    r"(?:пароль|password|passcode|код доступа|pin|пин[- ]?код)\s*(?:is|это|:|—|-)?\s*[«\"']?"
    r"(?P<secret>(?=\S*\d)(?=\S*[A-Za-zА-Яа-я])\S{4,}|\d{4,})",
    re.IGNORECASE)


def find_passwords(text: str) -> list[str]:
    """A password, PIN or access code stated outright ("ваш пароль Qwerty123", "your PIN is 4821")."""
    return [m.group("secret") for m in _PASSWORD.finditer(text)]
