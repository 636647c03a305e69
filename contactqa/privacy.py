"""Personal data: finding it, masking it, and the installation key that hides customers' numbers.

One module, so each of these has one definition that ingest, AutoQA and every output share.

**Finding** (`disclosures`, and the `find_*` functions AutoQA's sensitive_data rule uses): payment
card numbers that pass Luhn, written in digits or read out in words (Russian, Kazakh, English, or
digits and words mixed), and Kazakhstan IINs with a valid check digit. Ingest runs it on the
ORIGINAL text and keeps the result (`raw.utterances.pii_kinds`), because the stored text is masked.

**Masking** (`mask_pii`): what a reader sees instead of the data.
- e-mail addresses: ``a***@domain.kz`` (first character of the local part kept);
- payment card numbers: 13-19 digits as one run or in groups (split by spaces, dots or dashes;
  Amex 4-6-5 too), or read out in words -> ``**** **** **** 6789``. Luhn validity is *not*
  required: speech recognition gets digits wrong, and a card-shaped number is sensitive anyway;
- national IDs (Kazakhstan IIN / BIN): 12 digits, contiguous or grouped 6-6, 4-4-4, 3-3-3-3 (the
  last with a plausible month, so ``150 000 000 000`` stays an amount) or read out -> ``************``;
- phone numbers: Kazakh/Russian numbers with a +7, 7 or 8 prefix in the usual spellings, 10-digit
  mobiles without it (``701 234 56 78``), numbers read out in words, and international numbers
  starting with ``+`` -> every digit but the last two starred, separators and the +7 / 8 prefix kept.
Left alone: amounts (``5 000 000 тенге``), dates, times, counts, short references, the last four
digits customers and agents legitimately mention (``карта на 6789``), and the digits of links
(``https://web.archive.org/web/20231114093012/...``), apart from phone numbers in them, and UUIDs.
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
    "mask_pii", "masked_excerpt", "luhn_valid", "iin_valid", "disclosures", "find_card_numbers",
    "find_national_ids", "find_spoken_card_numbers", "spoken_digit_runs", "keyed_hash", "key_fingerprint",
    "key_file", "key_location", "InstallationKeyError",
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
    spoken: bool  # at least one part was a word


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
        if current is not None and _RUN_GAP.fullmatch(text, current.end, start):
            current.digits += digits
            current.end = end
            current.spoken = current.spoken or spoken
        else:
            current = _Run(digits, start, end, spoken)
            runs.append(current)
        i = after
    return runs


def spoken_digit_runs(text: str) -> list[str]:
    """Runs of digits said as words or written as digits, joined: "четыре четыре 00 сорок один" -> "440041"."""
    return [run.digits for run in _number_runs(text)]


def _card_in(digits: str) -> str | None:
    """A Luhn-valid card number inside a run of digits (every 13-19 window, longest first)."""
    for length in range(min(19, len(digits)), 12, -1):
        for i in range(len(digits) - length + 1):
            window = digits[i:i + length]
            if window[0] in "2345689" and luhn_valid(window):
                return window
    return None


# --- finding --------------------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'«»]+", re.IGNORECASE)
# A UUID (Amazon Connect contact ids, message ids) is an id whatever digits it holds.
_UUID = re.compile(r"(?<![0-9a-f-])[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}(?![0-9a-f-])", re.IGNORECASE)
_NOT_DATA = re.compile(f"{_URL.pattern}|{_UUID.pattern}", re.IGNORECASE)
_CARD_DIGITS = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
_IIN_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _without_urls(text: str) -> str:
    """The text with links and UUIDs blanked out (same length, so positions hold): their digits are not data."""
    if "://" not in text and "www." not in text and "-" not in text:
        return text
    return _NOT_DATA.sub(lambda m: " " * len(m.group()), text)


def find_card_numbers(text: str) -> list[str]:
    """Card numbers written in digits (one run, or groups split by spaces or dashes) that pass Luhn."""
    found = []
    for match in _CARD_DIGITS.finditer(_without_urls(text)):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append(match.group())
    return found


def find_spoken_card_numbers(text: str) -> list[str]:
    """Card numbers read out in words, mixed with digits, or split by dots or commas: the digit regex cannot see them."""
    return [hit for run in _number_runs(_without_urls(text)) if (hit := _card_in(run.digits))]


def find_national_ids(text: str) -> list[str]:
    """IINs with a valid check digit: 12 digits in one run, grouped (870 412 300 129) or read out."""
    clean = _without_urls(text)
    found = [m.group() for m in _IIN_DIGITS.finditer(clean) if _is_national_id(m.group())]
    seen = {re.sub(r"\D", "", f) for f in found}
    for run in _number_runs(clean):
        if run.digits not in seen and _is_national_id(run.digits):
            found.append(clean[run.start:run.end])
            seen.add(run.digits)
    return found


def disclosures(text: str | None) -> list[str]:
    """What `text` discloses in full, as AutoQA's sensitive_data rule judges it: 'card_number', 'national_id'."""
    if not text or not (any(ch.isdigit() for ch in text) or _ANY_NUMBER_WORD.search(text)):
        return []
    kinds = []
    if find_card_numbers(text) or find_spoken_card_numbers(text):
        kinds.append("card_number")
    if find_national_ids(text):
        kinds.append("national_id")
    return kinds


# --- masking --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@((?:[\w-]+\.)+[\w-]{2,})", re.UNICODE)

# Between digit groups: up to three spaces (no-break and narrow ones too), or one dot or dash with
# maybe a space either side.
_SEP = r"(?:[ \u00a0\u202f\t]{1,3}|[ \u00a0]?[\-.–][ \u00a0]?)"
_CARD = re.compile(
    rf"(?<![\d+])(?:"
    rf"\d{{4}}{_SEP}?\d{{6}}{_SEP}?\d{{4,5}}"  # Amex 4-6-5 (and 4-6-4 Diners)
    rf"|(?:\d{{4}}{_SEP}?){{3}}\d{{1,4}}(?:{_SEP}?\d{{1,3}})?"  # 4-4-4-4(-3), and 13-19 in a run
    rf")(?![\d])"
)
_SPACE = r"(?:[ \u00a0\u202f]|[ \u00a0]?-[ \u00a0]?)"
_IIN = re.compile(
    rf"(?<![\d+])(?:\d{{12}}|\d{{6}}{_SEP}\d{{6}}|\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{4}})(?!\d|[.,:]\d)"
)
# 3-3-3-3 is also how amounts are grouped: only with a plausible month, and not inside a longer grouping.
_IIN_THREES = re.compile(
    rf"(?<![\d+])(?<!\d[ \u00a0\u202f])\d{{3}}{_SPACE}\d{{3}}{_SPACE}\d{{3}}{_SPACE}\d{{3}}(?!\d|[.,:]\d|[ \u00a0\u202f]\d)"
)

# Kazakh / Russian: +7, 7 or 8, an area / operator code of 3 digits (maybe in brackets),
# then the 7-digit subscriber number with any single separators between its digits.
_PHONE_KZ_RU = re.compile(
    r"(?<![\w+])(?P<prefix>\+\s?7|8|7)[\s\-]?\(?\d{3}\)?[\s\-]?(?:\d[\s\-]?){6}\d(?![\d])"
)
# A mobile without the trunk prefix: 10 digits, Kazakh (7xx) or Russian (9xx) operator code first.
_PHONE_LOCAL = re.compile(r"(?<![\w+])\(?[79]\d{2}\)?[\s\-]?\d{3}[\s\-]?\d{2}[\s\-]?\d{2}(?!\d|[.,]\d)")
# International: a leading +, country code, then groups; 8 to 15 digits in total (E.164).
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s\-.]?\(?\d{1,4}\)?){1,5}(?![\d])")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _mask_email(m: re.Match[str]) -> str:
    return f"{m.group(1)}***@{m.group(2)}"


def _masked_card(digits: str) -> str:
    return f"**** **** **** {digits[-4:]}"


def _mask_card(m: re.Match[str]) -> str:
    digits = _digits(m.group(0))
    return _masked_card(digits) if 13 <= len(digits) <= 19 else m.group(0)


def _mask_iin(m: re.Match[str]) -> str:
    return "*" * 12


def _mask_iin_threes(m: re.Match[str]) -> str:
    return "*" * 12 if _month_plausible(_digits(m.group(0))) else m.group(0)


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
    """What a run of numbers becomes, or None to leave it to the digit patterns."""
    digits = run.digits
    if run.spoken and len(digits) >= 10:  # a number read out this long is an identifier, whatever it is
        if len(digits) >= 13:
            return _masked_card(digits)
        if len(digits) == 12:
            return "*" * 12
        return "*" * (len(digits) - 2) + digits[-2:]
    if len(digits) >= 13 and _card_in(digits):  # digits split where the patterns do not look (commas)
        return _masked_card(digits)
    if _is_national_id(digits):
        return "*" * 12
    return None


_DIGITS_APART = re.compile(r"\d[\s,.\-–—]+\d")


def _mask_runs(text: str) -> str:
    if not _ANY_NUMBER_WORD.search(text) and not _DIGITS_APART.search(text):
        return text  # no number words, and no digits a run could join
    out, last = [], 0
    for run in _number_runs(text):
        masked = _masked_run(run)
        if masked is not None:
            out += [text[last:run.start], masked]
            last = run.end
    return "".join(out) + text[last:] if out else text


def _mask_outside_links(text: str) -> str:
    text = _mask_runs(text)
    text = _CARD.sub(_mask_card, text)
    text = _IIN.sub(_mask_iin, text)
    text = _IIN_THREES.sub(_mask_iin_threes, text)
    text = _PHONE_KZ_RU.sub(_mask_kz_ru_phone, text)
    text = _PHONE_LOCAL.sub(_mask_phone, text)
    return _PHONE_INTL.sub(_mask_phone, text)


def _mask_link(url: str) -> str:
    # A link's long numbers are ids and timestamps; a phone number in it (wa.me/7701...) is still one.
    return _PHONE_INTL.sub(_mask_phone, _PHONE_KZ_RU.sub(_mask_kz_ru_phone, url))


def mask_pii(text: str | None) -> str:
    """Return `text` with card numbers, phones, national IDs and e-mails masked.

    Order matters: e-mails first (their local parts may hold digits), then numbers read out or
    split unusually (whole runs), then cards (longest digit runs), IINs, phones. Links keep their
    digits apart from phone numbers; UUIDs are left whole.
    """
    if not text:
        return "" if text is None else text
    if not any(ch.isdigit() for ch in text) and "@" not in text and not _ANY_NUMBER_WORD.search(text):
        return text  # the common case for dialogue lines: nothing to look for
    text = _EMAIL.sub(_mask_email, text)
    out, last = [], 0
    for kept in _NOT_DATA.finditer(text):
        link_or_id = kept.group()
        out += [_mask_outside_links(text[last:kept.start()]),
                link_or_id if _UUID.fullmatch(link_or_id) else _mask_link(link_or_id)]
        last = kept.end()
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
