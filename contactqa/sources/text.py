"""Reading export files whose encoding nobody wrote down.

Russian Windows tools save CP1251 or UTF-8 with a BOM; telephony exports are UTF-8.
A file is decoded, never crashed on: undecodable bytes become U+FFFD, and how many bytes were
replaced is counted, so the ingest ledger and the run summary can say so.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DecodedText:
    text: str
    encoding: str
    problem: str | None = None  # e.g. "3 undecodable byte(s) for utf-8, replaced with U+FFFD (first at line 12)"
    bytes_replaced: int = 0
    detected: bool = True  # False when the source's `encoding` named it


def decode_bytes(data: bytes, encoding: str | None = None) -> DecodedText:
    if encoding:
        decoded = _decode_reporting(data, encoding)
        decoded.detected = False
        return decoded
    if data.startswith(codecs.BOM_UTF8):
        return _decode_reporting(data[len(codecs.BOM_UTF8):], "utf-8-sig")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8 throughout. A UTF-8 file with a few damaged bytes: nearly all its high bytes still make
    # valid sequences (CP1251 text read as UTF-8 makes almost none), and reading it as CP1251 would turn
    # every Cyrillic letter into two wrong ones without a word. Else CP1251 if the bytes look like
    # Cyrillic text, else UTF-8 with the bad bytes reported.
    high = [b for b in data if b >= 0x80]
    as_utf8 = _decode_reporting(data, "utf-8")
    if as_utf8.bytes_replaced * 10 <= len(high):
        return as_utf8
    cyrillic = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8))
    if high and cyrillic / len(high) > 0.6:
        return _decode_reporting(data, "cp1251")
    return as_utf8


# The decode error handler below counts into this, per thread (ingest may run in a worker thread).
_tally = threading.local()


def _replace_counting(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    if _tally.first is None:
        _tally.first = exc.start
    _tally.bytes += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("contactqa-replace-counting", _replace_counting)


def _decode_reporting(data: bytes, encoding: str) -> DecodedText:
    _tally.bytes, _tally.first = 0, None
    text = data.decode(encoding, errors="contactqa-replace-counting")
    if not _tally.bytes:
        return DecodedText(text, encoding)
    line = data.count(b"\n", 0, _tally.first) + 1
    return DecodedText(text, encoding, f"{_tally.bytes} undecodable byte(s) for {encoding}, replaced with U+FFFD "
                                       f"(first at line {line})", bytes_replaced=_tally.bytes)


def read_text(path: Path, encoding: str | None = None) -> DecodedText:
    return decode_bytes(path.read_bytes(), encoding)
