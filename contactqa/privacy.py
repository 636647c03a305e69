"""Personal data: finding it, masking it, and the installation key that hides customers' numbers.

One module, so each of these has one definition that ingest, AutoQA and every output share.

**Finding** (`disclosures`, and the `find_*` functions AutoQA's sensitive_data rule uses): payment
card numbers, written in digits or read out in words (Russian, Kazakh, English, or digits and words
mixed), that pass Luhn AND start in a card network's issuer range with one of its lengths (Visa 4,
Mastercard 51-55 / 2221-2720, Amex 34/37, Mir 2200-2204, UnionPay 62, Maestro 50/56-69, JCB
3528-3589, Diners 300-305/36/38, Discover 6011/65); and Kazakhstan IINs with a valid check digit.
Ingest runs it on the ORIGINAL text and keeps the result (`raw.utterances.pii_kinds`), because the
stored text is masked; `card_numbers_shown` names what was disclosed, masked, from either text.

**One number, not neighbours.** A card is one run of 13-19 digits, or groups split by the same
separator throughout (4-4-4-4, 4-4-4-4-3, Amex 4-6-5, Diners 4-6-4, digits typed one or two at a
time); an IIN is 12 digits, 6-6, 4-4-4 or 3-3-3-3. Numbers that merely stand next to each other
("20190815123456 1234", "+7 701 123 45 67 1234") never join into one. Digits that are not personal
data are set apart before anything is looked for: links with or without a scheme
(``web.archive.org/web/20190815123456/...``, ``t.co/AbC123``), e-mail addresses, UUIDs, IBANs,
tokens mixing Latin letters and digits (``1Z999AA10123456784``), ids named as such (``order
#112-7743921-5521346``, ``заказ № 2019081512345678``, ``ticket 4000123456789``, IMEI, EAN ...) and
timestamps (``20190815123456``, ISO date-times, Unix time in s/ms/µs/ns). Finding and masking share
these definitions; only the checks differ (below).

**Masking** (`mask_pii`): what a reader sees instead of the data.
- e-mail addresses: ``a***@domain.kz`` (first character of the local part kept);
- payment card numbers in the shapes above and a network's range, or read out in words ->
  ``**** **** **** 6789`` (a security code read out after the card: ``**** **** **** 6789 ***``).
  Luhn validity is *not* required: speech recognition gets digits wrong, and a card-shaped number
  is sensitive anyway;
- national IDs (Kazakhstan IIN / BIN) in the shapes above (3-3-3-3 only with a plausible month, so
  ``150 000 000 000`` stays an amount) or read out -> ``************``;
- phone numbers: Kazakh/Russian numbers with a +7, 7 or 8 prefix in the usual spellings, 10-digit
  mobiles without it (``701 234 56 78``), numbers read out in words, and international numbers
  starting with ``+`` -> every digit but the last two starred, separators and the +7 / 8 prefix kept.
Left alone: amounts (``5 000 000 тенге``), dates, times, counts, short references, the last four
digits customers and agents legitimately mention (``карта на 6789``), and the links and ids above
(a phone number inside a link is still masked).
Text is masked before it is cut for display (`masked_excerpt`): a cut first could leave
``ИИН 87041230…``, which no longer looks like an IIN.

**Keyed hashing** (`keyed_hash`; `sources.base.customer_key` normalises a phone and calls it):
HMAC-SHA256 under a secret of this installation, so a key cannot be reversed by hashing every
possible phone number. The secret comes from `CONTACTQA_KEY`, else from the key file
(`CONTACTQA_KEY_FILE`, default ``~/.config/contactqa/key``), which is created on first use with 32
random bytes, mode 0600. Its fingerprint (`key_fingerprint`) is recorded in the warehouse, so a run
with a different key is refused instead of silently making keys that join nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "mask_pii", "masked_excerpt", "luhn_valid", "iin_valid", "card_issuer_known", "card_number_valid",
    "disclosures", "card_numbers_shown", "find_card_numbers", "find_national_ids", "find_spoken_card_numbers",
    "spoken_digit_runs", "keyed_hash", "key_fingerprint", "key_file", "key_location", "InstallationKeyError",
]

log = logging.getLogger(__name__)

# --- checksums ------------------------------------------------------------------------------------


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


def _month_plausible(digits: str) -> bool:
    # An IIN starts with the birth date (YYMMDD), a BIN with the registration month (YYMM).
    return 1 <= int(digits[2:4]) <= 12


def _is_national_id(digits: str) -> bool:
    return len(digits) == 12 and _month_plausible(digits) and iin_valid(digits)


# --- numbers read out in words ----------------------------------------------------------------------
# As speech recognition writes them: "четыре четыре ноль ноль", "сорок четыре ноль ноль",
# "төрт төрт нөл нөл", "four four oh", "double four", "семьсот один", "жеті жүз бір", "4400 двенадцать".

_UNITS = {
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "раз": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
    "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "нөл": 0, "нөль": 0, "бір": 1, "екі": 2, "үш": 3, "төрт": 4, "бес": 5, "алты": 6, "жеті": 7, "сегіз": 8,
    "тоғыз": 9,
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}
_TEENS = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15,
    "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {  # a ten, then maybe a unit: "сорок четыре" 44, Kazakh "он екі" 12, "қырық төрт" 44
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70,
    "восемьдесят": 80, "девяносто": 90,
    "он": 10, "жиырма": 20, "отыз": 30, "қырық": 40, "елу": 50, "алпыс": 60, "жетпіс": 70, "сексен": 80,
    "тоқсан": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_HUNDREDS = {  # then maybe tens and units: "семьсот один" 701; Kazakh "жеті жүз бір" is unit × жүз
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500, "шестьсот": 600,
    "семьсот": 700, "восемьсот": 800, "девятьсот": 900, "жүз": 100,
}
_KZ_HUNDRED = "жүз"
_REPEATS = {"double": 2, "triple": 3}
_NUMBER_WORDS = set(_UNITS) | set(_TEENS) | set(_TENS) | set(_HUNDREDS)

_TOKEN = re.compile(r"\d+|[^\W\d_]+")
# What may stand between the parts of one number: spaces, commas, dots, dashes (not ':' or '/',
# which make times and dates).
_RUN_GAP = re.compile(r"[\s,.\-–—]*")
_ANY_NUMBER_WORD = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(sorted(map(re.escape, _NUMBER_WORDS | set(_REPEATS)), key=len, reverse=True))
    + r")(?![^\W\d_])", re.IGNORECASE)


@dataclass
class _Run:
    """Consecutive numbers in a text, as one digit string, and where it stands."""

    digits: str
    start: int
    end: int
    words: int  # how many of its words were number words

    @property
    def spoken(self) -> bool:
        """Read out, not typed: two number words at least (one "one" or "oh" next to digits is just a word)."""
        return self.words >= 2


def _word(token: str) -> str:
    return token.lower().replace("ё", "е")


def _below_hundred(words: list[str], i: int, positive_only: bool = False) -> tuple[int, int] | None:
    word = words[i] if i < len(words) else ""
    if word in _TEENS:
        return _TEENS[word], i + 1
    if word in _TENS:
        if i + 1 < len(words) and _UNITS.get(words[i + 1], 0) > 0:
            return _TENS[word] + _UNITS[words[i + 1]], i + 2
        return _TENS[word], i + 1
    if word in _UNITS and (_UNITS[word] > 0 or not positive_only):
        return _UNITS[word], i + 1
    return None


def _group(words: list[str], i: int) -> tuple[str, int, bool] | None:
    """The digits of the number starting at word i, the index after it, and whether it was spoken."""
    word = words[i]
    if word.isdigit():
        return word, i + 1, False
    following = words[i + 1] if i + 1 < len(words) else ""
    if word in _REPEATS and following in _UNITS:
        return str(_UNITS[following]) * _REPEATS[word], i + 2, True
    hundreds = None
    if word in _HUNDREDS:
        hundreds, after = _HUNDREDS[word], i + 1
    elif _UNITS.get(word, 0) > 0 and following == _KZ_HUNDRED:
        hundreds, after = _UNITS[word] * 100, i + 2
    if hundreds is not None:
        rest = _below_hundred(words, after, positive_only=True)
        return (str(hundreds + rest[0]), rest[1], True) if rest else (str(hundreds), after, True)
    small = _below_hundred(words, i)
    return (str(small[0]), small[1], True) if small else None


def _number_runs(text: str) -> list[_Run]:
    """Every run of numbers (digits, number words or both) with only spaces and punctuation between them."""
    tokens = list(_TOKEN.finditer(text))
    words = [_word(t.group()) for t in tokens]
    runs: list[_Run] = []
    current: _Run | None = None
    i = 0
    while i < len(tokens):
        group = _group(words, i)
        if group is None:
            current = None
            i += 1
            continue
        digits, after, spoken = group
        start, end = tokens[i].start(), tokens[after - 1].end()
        said = after - i if spoken else 0
        if current is not None and _RUN_GAP.fullmatch(text, current.end, start):
            current.digits += digits
            current.end = end
            current.words += said
        else:
            current = _Run(digits, start, end, said)
            runs.append(current)
        i = after
    return runs


def spoken_digit_runs(text: str) -> list[str]:
    """Runs of digits said as words or written as digits, joined: "четыре четыре 00 сорок один" -> "440041"."""
    return [run.digits for run in _number_runs(text)]


# --- what a card number is --------------------------------------------------------------------------

# The issuer ranges (the first digits, ISO/IEC 7812 IINs) of the card networks, and their lengths.
# A number that passes Luhn but starts anywhere else is an id, not a card: 1 in 10 random numbers
# passes Luhn, so the range check is what keeps order numbers and timestamps from being "cards".
_CARD_RANGES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)), ("2221", "2720", (16,)),  # Mastercard
    ("34", "34", (15,)), ("37", "37", (15,)),  # American Express
    ("2200", "2204", (16, 17, 18, 19)),  # Mir
    ("62", "62", (16, 17, 18, 19)),  # UnionPay
    ("50", "50", tuple(range(12, 20))), ("56", "69", tuple(range(12, 20))),  # Maestro
    ("3528", "3589", (16, 17, 18, 19)),  # JCB
    ("300", "305", tuple(range(14, 20))), ("36", "36", tuple(range(14, 20))),  # Diners Club
    ("38", "38", tuple(range(14, 20))),
    ("6011", "6011", (16, 17, 18, 19)), ("65", "65", (16, 17, 18, 19)),  # Discover
)


def card_issuer_known(digits: str) -> bool:
    """True if `digits` start in a card network's issuer range and have one of its lengths."""
    return any(low <= digits[:len(low)] <= high and len(digits) in lengths for low, high, lengths in _CARD_RANGES)


def card_number_valid(digits: str) -> bool:
    """A payment card number: a known network's range and length, and the Luhn checksum."""
    return card_issuer_known(digits) and luhn_valid(digits)


def _card_in(digits: str) -> str | None:
    """A valid card number inside a run of digits read out (every 13-19 window, longest first)."""
    for length in range(min(19, len(digits)), 12, -1):
        for i in range(len(digits) - length + 1):
            window = digits[i:i + length]
            if card_number_valid(window):
                return window
    return None


# --- where digits are not personal data -----------------------------------------------------------
# Links (with or without a scheme), e-mail addresses, UUIDs, IBANs, ids that mix letters and digits,
# ids named as such (order, ticket, tracking, заказ, заявка ...) and timestamps hold long digit runs
# that are not cards or IINs. They are found first and left out of everything below.

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'«»]+", re.IGNORECASE)
# A link without a scheme: web.archive.org/web/20190815123456/..., t.co/AbC123, kaspi.kz. The name
# before the top-level domain must hold a letter (checked in _links), so "4400.1234.5678.9013.Thanks" is no link.
_BARE_LINK = re.compile(
    r"(?<![\w@.\-/])(?P<host>(?:[a-z0-9][a-z0-9\-]*\.)+)[a-z]{2,24}(?![\w\-])(?::\d{1,5})?(?P<path>/[^\s<>\"'«»]*)?",
    re.IGNORECASE)
_ANY_EMAIL = re.compile(r"(?<![\w.+*\-])[\w.+*\-]+@(?:[\w\-]+\.)+[\w\-]{2,}")
# A UUID (Amazon Connect contact ids, message ids) is an id whatever digits it holds.
_UUID = re.compile(r"(?<![0-9a-f-])[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}(?![0-9a-f-])", re.IGNORECASE)
# KZ86125KZT5004100100, DE89 3704 0044 0532 0130 00
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])")
# Latin letters and digits in one token: 1Z999AA10123456784, RMA-2019081512, TCK-123456, a3f9e2...
_MIXED_ID = re.compile(
    r"(?<![\w\-/])(?=[\w\-/]*[A-Za-z])(?=[\w\-/]*\d)[A-Za-z0-9]+(?:[\-/_][A-Za-z0-9]+)*(?![\w\-/])")
_ID_WORDS = (
    r"order|ticket|booking|tracking|track|reference|ref|confirmation|case|claim|invoice|receipt|transaction"
    r"|txn|rma|parcel|shipment|package|waybill|awb|pnr|incident|request|application|contract|policy|complaint"
    r"|imei|iccid|ean|upc|sku|barcode|serial|артикул\w*|штрихкод\w*|серийн\w*"
    r"|(?:customer|client|user|member|session|message|chat|call|device)\s+id"
    r"|заказ\w*|заявк\w*|обращени\w*|тикет\w*|трек\w*|отслеживани\w*|накладн\w*|посылк\w*|отправлени\w*"
    r"|квитанци\w*|чек|чека|чеку|транзакци\w*|договор\w*|бронь|брони|бронировани\w*|полис\w*|жалоб\w*"
    r"|тапсырыс\w*|өтінім\w*")
# The id after its name, with "number", "№", "#", ":" or "is" between: "order #112-7743921-5521346",
# "заказ № 2019081512345678", "tracking number is 1Z999AA10123456784". The id holds a digit.
_NAMED_ID = re.compile(
    rf"(?<!\w)(?:{_ID_WORDS})(?!\w)(?:\s*(?:number|num|no\.?|nr\.?|id|code|#|№|номер\w*|нөмірі|is|:|-)){{0,3}}\s*"
    r"[#№]?\s*(?=[A-Za-z\-/_]*\d)[A-Za-z0-9]+(?:[\-/_][A-Za-z0-9]+)*(?:[ \-]\d+)*",
    re.IGNORECASE)
_TIMESTAMP = re.compile(
    r"(?<!\d)(?:"
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d[0-5]\d(?:\d{3})?"  # 20190815123456
    r"|1[5-9]\d{8}(?:\d{3}){0,3}"  # Unix time in s, ms, µs or ns (2017-2033)
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?"  # ISO 8601
    r")(?!\d)")
_NOT_DATA_PATTERNS = (_URL, _ANY_EMAIL, _UUID, _IBAN, _MIXED_ID, _NAMED_ID, _TIMESTAMP)
_BLANK = "\x00"  # what stands for the text of a link or id: no digit, letter, space or separator


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    is_link: bool


def _links(text: str) -> list[_Span]:
    found = [_Span(m.start(), m.end(), True) for m in _URL.finditer(text)]
    for m in _BARE_LINK.finditer(text):
        name = m.group("host").rstrip(".").split(".")[-1]
        if m.group("path") or any(ch.isalpha() for ch in name):
            found.append(_Span(m.start(), m.end(), True))
    return found


def _not_data(text: str) -> list[_Span]:
    """Where the links and ids are (sorted, not overlapping): their digits are not personal data."""
    if not any(ch.isdigit() for ch in text):
        return []
    spans = _links(text)
    for pattern in _NOT_DATA_PATTERNS[1:]:
        spans += [_Span(m.start(), m.end(), False) for m in pattern.finditer(text)]
    merged: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = _Span(last.start, max(last.end, span.end), last.is_link or span.is_link)
        else:
            merged.append(span)
    return merged


def _without_ids(text: str) -> str:
    """The text with links and ids blanked out (same length, so positions hold)."""
    spans = _not_data(text)
    if not spans:
        return text
    out, last = [], 0
    for span in spans:
        out += [text[last:span.start], _BLANK * (span.end - span.start)]
        last = span.end
    return "".join(out) + text[last:]


# --- numbers shaped as cards or IINs ---------------------------------------------------------------
# A card is one run of 13-19 digits, or groups split by the same separator throughout: 4-4-4-4,
# 4-4-4-4-3, 4-6-5 (Amex), 4-6-4 (Diners), or digits read one or two at a time. An IIN: 12 digits,
# 6-6, 4-4-4, or 3-3-3-3 with a plausible month. Digits that only stand next to each other
# ("20190815123456 1234", "+7 701 123 45 67 1234") are different numbers, never one.

# Between digit groups: up to three spaces (no-break and narrow ones too), or one dot, dash or comma
# with maybe a space either side.
_SEP = r"(?:[ \u00a0\u202f\t]{1,3}|[ \u00a0\u202f]?[\-.–—,][ \u00a0\u202f]?)"
_DIGIT_GROUPS = re.compile(rf"(?<![\d+])\d+(?:{_SEP}\d+)*")
_GROUP = re.compile(r"\d+")
_CARD_SHAPES = ((4, 4, 4, 4, 3), (4, 4, 4, 4), (4, 6, 5), (4, 6, 4))
_IIN_SHAPES = ((6, 6), (4, 4, 4), (3, 3, 3, 3))
_SPACES = " \u00a0\u202f\t"


@dataclass(frozen=True)
class _Number:
    """A number shaped as a card ('card') or an IIN ('national_id'), and where it stands."""

    start: int
    end: int
    digits: str
    kind: str
    with_code: bool = False  # a card read out with its 3-digit security code (CVV) after it

    def masked(self) -> str:
        if self.kind == "national_id":
            return "*" * 12
        return _masked_card(self.digits) + (" ***" if self.with_code else "")

    def is_valid(self) -> bool:
        """A real card (network range, length, Luhn) or IIN (check digit), not just the shape of one."""
        if self.kind == "national_id":
            return _is_national_id(self.digits)
        return card_number_valid(self.digits)


def _separator(text: str) -> str:
    """What separates two groups, whatever the spacing: ' ', '-', '.' or ','."""
    mark = text.strip(_SPACES)
    return "-" if mark in ("–", "—") else (mark or " ")


def _shape_at(lengths: list[int], seps: list[str], i: int) -> tuple[int, str] | None:
    """The card or IIN shape that starts at group i (the group after it, and the kind), if one does."""
    n = len(lengths)

    def apart(j: int, sep: str) -> bool:
        # the groups i..j-1 are one number only if the groups around them are not part of it: a
        # neighbour joined by the same separator with 3 digits or more would make it longer
        before = i > 0 and seps[i - 1] == sep and lengths[i - 1] >= 3
        after = j < n and seps[j - 1] == sep and lengths[j] >= 3
        return not before and not after

    for shapes, kind in ((_CARD_SHAPES, "card"), (_IIN_SHAPES, "national_id")):
        for shape in shapes:
            j = i + len(shape)
            if tuple(lengths[i:j]) != shape or len(set(seps[i:j - 1])) != 1 or not apart(j, seps[i]):
                continue
            return j, kind
    if lengths[i] <= 2 and i + 1 < n and (i == 0 or seps[i - 1] != seps[i] or lengths[i - 1] != lengths[i]):
        # digits typed one or two at a time, as a number is read out: "4 4 0 0 1 2 ...", "44 00 12 ..."
        j = i + 1
        while j < n and lengths[j] == lengths[i] and seps[j - 1] == seps[i]:
            j += 1
        total = sum(lengths[i:j])
        if (13 <= total <= 19 or total == 12) and apart(j, seps[i]):
            return j, "card" if total >= 13 else "national_id"
    if 12 <= lengths[i] <= 19:
        decimal = i + 1 < n and seps[i] in (".", ",") and lengths[i + 1] <= 2  # an amount: 123456789012.50
        if not decimal:
            return i + 1, "card" if lengths[i] >= 13 else "national_id"
    return None


def _numbers(text: str) -> list[_Number]:
    """Every number in `text` shaped as a card or an IIN (links and ids should be blanked out first)."""
    found: list[_Number] = []
    for chunk in _DIGIT_GROUPS.finditer(text):
        groups = list(_GROUP.finditer(text, chunk.start(), chunk.end()))
        lengths = [g.end() - g.start() for g in groups]
        seps = [_separator(text[a.end():b.start()]) for a, b in zip(groups, groups[1:])]
        i = 0
        while i < len(groups):
            shape = _shape_at(lengths, seps, i)
            if shape is None:
                i += 1
                continue
            j, kind = shape
            digits = "".join(g.group() for g in groups[i:j])
            if kind == "national_id" and lengths[i:j] == [3, 3, 3, 3] and not _month_plausible(digits):
                i += 1  # 150 000 000 000 is an amount
                continue
            if kind == "national_id" and max(lengths[i:j]) <= 2 and not _is_national_id(digits):
                i += 1  # "10 20 30 40 50 60" is a list of numbers unless it is a real IIN
                continue
            # 4-4-4-4 and then 3 digits that do not make a 19-digit card: a card and its CVV
            with_code = j - i == 5 and not card_number_valid(digits) and card_number_valid(digits[:16])
            found.append(_Number(groups[i].start(), groups[j - 1].end(), digits[:16] if with_code else digits, kind,
                                 with_code))
            i = j
    return found


# --- finding --------------------------------------------------------------------------------------


def find_card_numbers(text: str) -> list[str]:
    """Card numbers written in digits (one run, or consistent groups) that are real: network range, length, Luhn."""
    return [text[n.start:n.end] for n in _numbers(_without_ids(text)) if n.kind == "card" and n.is_valid()]


def _spoken_cards(clean: str) -> list[str]:
    return [hit for run in _number_runs(clean) if run.spoken and (hit := _card_in(run.digits))]


def find_spoken_card_numbers(text: str) -> list[str]:
    """Card numbers read out in words, or in words and digits mixed: the digit shapes cannot see them."""
    return _spoken_cards(_without_ids(text))


def _national_ids(clean: str) -> list[_Number]:
    found = [n for n in _numbers(clean) if n.kind == "national_id" and n.is_valid()]
    seen = {n.digits for n in found}
    for run in _number_runs(clean):
        if run.spoken and run.digits not in seen and _is_national_id(run.digits):
            found.append(_Number(run.start, run.end, run.digits, "national_id"))
            seen.add(run.digits)
    return found


def find_national_ids(text: str) -> list[str]:
    """IINs with a valid check digit: 12 digits in one run, grouped (870 412 300 129) or read out."""
    return [text[n.start:n.end] for n in _national_ids(_without_ids(text))]


def disclosures(text: str | None) -> list[str]:
    """What `text` discloses in full, as AutoQA's sensitive_data rule judges it: 'card_number', 'national_id'."""
    if not text or not (any(ch.isdigit() for ch in text) or _ANY_NUMBER_WORD.search(text)):
        return []
    clean = _without_ids(text)
    kinds = []
    if any(n.kind == "card" and n.is_valid() for n in _numbers(clean)) or _spoken_cards(clean):
        kinds.append("card_number")
    if _national_ids(clean):
        kinds.append("national_id")
    return kinds


_MASKED_CARD = re.compile(r"\*{4} \*{4} \*{4} \d{4}")


def card_numbers_shown(text: str | None) -> list[str]:
    """The card numbers `text` discloses as a reader may see them: "**** **** **** 9013".

    Text that still holds the numbers gives them masked; text masked at ingest (which stores what
    was disclosed as `pii_kinds`) gives the masked numbers it holds.
    """
    if not text:
        return []
    clean = _without_ids(text)
    found = [_masked_card(n.digits) for n in _numbers(clean) if n.kind == "card" and n.is_valid()]
    found += [_masked_card(hit) for hit in _spoken_cards(clean)]
    return list(dict.fromkeys(found or _MASKED_CARD.findall(text)))


# A mask an earlier version wrote into the digits of a link or an id ("web.archive.org/web/**** ****
# **** 3456/http://…", "order=**** **** **** 1234&"): glued to the link's characters, not standing as
# a number of its own.
_MASK_IN_LINK = re.compile(r"(?<=[/=?&#:.\-_])\*{4} \*{4} \*{4} \d{4}|\*{4} \*{4} \*{4} \d{4}(?=[/?&=#.\-_]\S)")


def stale_card_masks(text: str | None) -> bool:
    """Does `text`, masked by an earlier version, hold card masks only where a link's or an id's digits
    were (which this version does not take for a card number)? Then its `card_number` disclosure,
    recorded at ingest, was a false alarm: nothing else in the text is a card."""
    if not text or not _MASKED_CARD.search(text):
        return False
    if _MASKED_CARD.sub("", _MASK_IN_LINK.sub("", text)) != _MASK_IN_LINK.sub("", text):
        return False  # a mask standing on its own: a card the agent really gave
    return not card_numbers_shown(_MASK_IN_LINK.sub(" ", text))


# --- masking --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@((?:[\w-]+\.)+[\w-]{2,})", re.UNICODE)

# Kazakh / Russian: +7, 7 or 8, an area / operator code of 3 digits (maybe in brackets),
# then the 7-digit subscriber number with any single separators between its digits.
_PHONE_KZ_RU = re.compile(
    r"(?<![\w+])(?P<prefix>\+\s?7|8|7)[\s\-]?\(?\d{3}\)?[\s\-]?(?:\d[\s\-]?){6}\d(?![\d])"
)
# A mobile without the trunk prefix: 10 digits, Kazakh (7xx) or Russian (9xx) operator code first.
_PHONE_LOCAL = re.compile(r"(?<![\w+])\(?[79]\d{2}\)?[\s\-]?\d{3}[\s\-]?\d{2}[\s\-]?\d{2}(?!\d|[.,]\d)")
# International: a leading +, country code, then groups; 8 to 15 digits in total (E.164).
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s\-.]?\(?\d{1,4}\)?){1,5}(?![\d])")


def _mask_email(m: re.Match[str]) -> str:
    return f"{m.group(1)}***@{m.group(2)}"


def _masked_card(digits: str) -> str:
    return f"**** **** **** {digits[-4:]}"


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


def _masked_run(run: _Run) -> str | None:
    """What a number read out becomes, or None to leave it to the digit shapes."""
    digits = run.digits
    if not run.spoken or len(digits) < 10:
        return None
    # a number read out this long is an identifier, whatever it is
    if len(digits) >= 13:
        return _masked_card(digits)
    if len(digits) == 12:
        return "*" * 12
    return "*" * (len(digits) - 2) + digits[-2:]


def _mask_runs(text: str) -> str:
    if not _ANY_NUMBER_WORD.search(text):
        return text  # nothing read out
    out, last = [], 0
    for run in _number_runs(text):
        masked = _masked_run(run)
        if masked is not None:
            out += [text[last:run.start], masked]
            last = run.end
    return "".join(out) + text[last:] if out else text


def _mask_shapes(text: str) -> str:
    # Luhn is not required here: speech recognition gets digits wrong, and a card-shaped number in a
    # network's range is sensitive anyway. Outside every range it is an IMEI, a barcode, an id.
    out, last = [], 0
    for number in _numbers(text):
        if number.kind == "card" and not card_issuer_known(number.digits):
            continue
        out += [text[last:number.start], number.masked()]
        last = number.end
    return "".join(out) + text[last:] if out else text


def _mask_outside_links(text: str) -> str:
    text = _mask_shapes(_mask_runs(text))
    text = _PHONE_KZ_RU.sub(_mask_kz_ru_phone, text)
    text = _PHONE_LOCAL.sub(_mask_phone, text)
    return _PHONE_INTL.sub(_mask_phone, text)


def _mask_link(url: str) -> str:
    # A link's long numbers are ids and timestamps; a phone number in it (wa.me/7701...) is still one.
    return _PHONE_INTL.sub(_mask_phone, _PHONE_KZ_RU.sub(_mask_kz_ru_phone, url))


def mask_pii(text: str | None) -> str:
    """Return `text` with card numbers, phones, national IDs and e-mails masked.

    Order matters: e-mails first (their local parts may hold digits), then links and ids are set
    apart (links keep their digits apart from phone numbers; ids, IBANs and timestamps are left
    whole), then numbers read out, then the card and IIN shapes, then phones.
    """
    if not text:
        return "" if text is None else text
    if not any(ch.isdigit() for ch in text) and "@" not in text and not _ANY_NUMBER_WORD.search(text):
        return text  # the common case for dialogue lines: nothing to look for
    text = _EMAIL.sub(_mask_email, text)
    out, last = [], 0
    for span in _not_data(text):
        kept = text[span.start:span.end]
        out += [_mask_outside_links(text[last:span.start]), _mask_link(kept) if span.is_link else kept]
        last = span.end
    out.append(_mask_outside_links(text[last:]))
    return "".join(out)


def masked_excerpt(text: str | None, limit: int) -> str:
    """`text` masked, then cut to at most `limit` characters (with "…" when cut).

    Masking comes first so a number across the cut is masked whole; only a window a little longer
    than `limit` is masked, so a 10 MB record costs no more than a short one.
    """
    if not text:
        return "" if text is None else text
    window = text[:limit + 512]
    masked = mask_pii(window)
    if len(masked) <= limit and len(window) == len(text):
        return masked
    return masked[:max(limit - 1, 0)] + "…"


# --- the installation key -------------------------------------------------------------------------

KEY_ENV = "CONTACTQA_KEY"
KEY_FILE_ENV = "CONTACTQA_KEY_FILE"
DEFAULT_KEY_FILE = "~/.config/contactqa/key"
MIN_KEY_LENGTH = 32  # characters; a generated key has 64 (32 random bytes in hex)


class InstallationKeyError(ValueError):
    """The installation key is missing, unreadable or too weak to protect customers' numbers."""


_keys: dict[tuple[str | None, str], str] = {}
_warned_new_key = False


def key_file() -> Path:
    """Where the installation key is kept: $CONTACTQA_KEY_FILE, else ~/.config/contactqa/key."""
    return Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE).expanduser()


def key_location() -> str:
    """Where the key in use comes from, for messages: $CONTACTQA_KEY or the key file's path."""
    return f"${KEY_ENV}" if os.environ.get(KEY_ENV) is not None else str(key_file())


def _checked(key: str, source: str) -> str:
    key = key.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise InstallationKeyError(
            f"the installation key from {source} is {'empty' if not key else 'too short'}: it needs at least "
            f"{MIN_KEY_LENGTH} characters (unset {KEY_ENV} to use the key file {key_file()}, which is created "
            f"with 32 random bytes on first use)")
    return key


def _create_key_file(path: Path) -> str | None:
    """Write a new random key to `path` (0600, its folder 0700); None if another process was first."""
    global _warned_new_key
    folder_existed = path.parent.exists()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not folder_existed:
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    key = secrets.token_hex(32)
    # Written whole to a private temporary file, then linked into place: a second process either
    # finds no key file or a complete one, never an empty one, and never overwrites the first key.
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        os.link(tmp, path)
    except FileExistsError:
        return None
    finally:
        os.unlink(tmp)
    if not _warned_new_key:
        _warned_new_key = True
        log.warning(
            "contactqa created a new installation key in %s (fingerprint %s). It turns phone numbers into "
            "customer keys: back it up now, apart from the warehouse's backups (or keep it in your secret "
            "store and set %s). If it is lost or changed, old and new customer keys no longer join, and "
            "ingest refuses to run on this warehouse until the old key is restored.", path, _fingerprint(key), KEY_ENV)
    return key


def _read_key() -> str:
    env_key = os.environ.get(KEY_ENV)
    if env_key is not None:
        return _checked(env_key, f"${KEY_ENV}")
    path = key_file()
    cache_key = (None, str(path))
    if cache_key in _keys:
        return _keys[cache_key]
    key = None if path.exists() else _create_key_file(path)
    if key is None:
        try:
            key = path.read_text(encoding="ascii")
            mode = path.stat().st_mode
        except (OSError, UnicodeDecodeError) as exc:
            raise InstallationKeyError(f"cannot read the installation key file {path}: {exc}") from None
        key = _checked(key, f"the key file {path}")
        if mode & 0o077:
            log.warning("the installation key file %s can be read by other users (mode %o): chmod 600 it",
                        path, mode & 0o777)
    _keys[cache_key] = key
    return key


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def key_fingerprint() -> str:
    """The installation key's short name (8 hex of its sha256): recorded in the warehouse, never the key."""
    return _fingerprint(_read_key())


def keyed_hash(value: str, length: int = 20) -> str:
    """HMAC-SHA256 of `value` under the installation key, as `length` hex characters."""
    return hmac.new(_read_key().encode(), value.encode(), hashlib.sha256).hexdigest()[:length]
