"""Masking of personal data in free text (transcripts, chat messages, evidence quotes).

Reports, worksheets and emails pass every piece of customer-facing text through
`mask_pii` before it is shown. What is masked:

- e-mail addresses: ``a***@domain.kz`` (first character of the local part kept);
- payment card numbers: 13-19 digits written as one run or in groups of four
  (Amex 4-6-5 too) -> ``**** **** **** 6789``. Luhn validity is *not* required:
  speech recognition often gets one digit wrong, and a card-shaped number in a
  transcript is sensitive whether or not its checksum holds;
- national IDs (Kazakhstan IIN / BIN): 12 digits, contiguous or grouped -> ``************``;
- phone numbers: Kazakh/Russian numbers with a +7, 7 or 8 prefix in the usual
  spellings (``+7 (701) 234-56-78``, ``8 701 234 5678``, ``87012345678``) and
  international numbers starting with ``+`` -> every digit but the last two starred,
  separators and the +7 / 8 prefix kept (``+7 (***) ***-**-78``).

What is deliberately left alone: amounts (``5000 тенге``, ``5 000 000``), dates,
times, counts (``5 рабочих дней``), short references and the "last four digits"
customers and agents legitimately mention (``карта на 6789``).

Order matters: e-mails first (their local parts may hold digits), then cards
(longest digit runs), then IINs, then phones.
"""

from __future__ import annotations

import re

__all__ = ["mask_pii", "luhn_valid"]

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@((?:[\w-]+\.)+[\w-]{2,})", re.UNICODE)

_SEP = r"[ \u00a0\-]"  # a single space, no-break space or dash between digit groups
_CARD = re.compile(
    rf"(?<![\d+])(?:"
    rf"\d{{4}}{_SEP}?\d{{6}}{_SEP}?\d{{4,5}}"  # Amex 4-6-5 (and 4-6-4 Diners)
    rf"|(?:\d{{4}}{_SEP}?){{3}}\d{{1,4}}(?:{_SEP}?\d{{1,3}})?"  # 4-4-4-4(-3), and 13-19 in a run
    rf")(?![\d])"
)

_IIN = re.compile(
    rf"(?<![\d+])(?:\d{{12}}|\d{{6}}{_SEP}\d{{6}}|\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{4}})(?!\d|[.,:]\d)"
)

# Kazakh / Russian: +7, 7 or 8, an area / operator code of 3 digits (maybe in brackets),
# then the 7-digit subscriber number with any single separators between its digits.
_PHONE_KZ_RU = re.compile(
    r"(?<![\w+])(?P<prefix>\+\s?7|8|7)[\s\-]?\(?\d{3}\)?[\s\-]?(?:\d[\s\-]?){6}\d(?![\d])"
)
# International: a leading +, country code, then groups; 8 to 15 digits in total (E.164).
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s\-.]?\(?\d{1,4}\)?){1,5}(?![\d])")


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn checksum (payment cards do)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _mask_email(m: re.Match[str]) -> str:
    return f"{m.group(1)}***@{m.group(2)}"


def _mask_card(m: re.Match[str]) -> str:
    digits = _digits(m.group(0))
    if not 13 <= len(digits) <= 19:
        return m.group(0)
    return f"**** **** **** {digits[-4:]}"


def _mask_iin(m: re.Match[str]) -> str:
    return "*" * 12


def _star_all_but_last(text: str, keep: int) -> str:
    total = sum(ch.isdigit() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def _mask_phone(m: re.Match[str]) -> str:
    text = m.group(0)
    if not 8 <= sum(ch.isdigit() for ch in text) <= 15:
        return text
    return _star_all_but_last(text, 2)


def _mask_kz_ru_phone(m: re.Match[str]) -> str:
    # The +7 / 8 trunk prefix identifies no one and tells the reader it was a phone number.
    prefix, rest = m.group("prefix"), m.group(0)[len(m.group("prefix")):]
    return prefix + _star_all_but_last(rest, 2)


def mask_pii(text: str | None) -> str:
    """Return `text` with card numbers, phones, national IDs and e-mails masked."""
    if not text:
        return "" if text is None else text
    if not any(ch.isdigit() for ch in text) and "@" not in text:
        return text  # the common case for dialogue lines: nothing to look for
    text = _EMAIL.sub(_mask_email, text)
    text = _CARD.sub(_mask_card, text)
    text = _IIN.sub(_mask_iin, text)
    text = _PHONE_KZ_RU.sub(_mask_kz_ru_phone, text)
    text = _PHONE_INTL.sub(_mask_phone, text)
    return text
