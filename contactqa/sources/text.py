"""Reading export files whose encoding nobody wrote down.

Russian Windows tools save CP1251 or UTF-8 with a BOM; telephony exports are UTF-8.
A file is decoded, never crashed on: undecodable bytes become U+FFFD and are reported.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DecodedText:
    text: str
    encoding: str
    problem: str | None = None  # e.g. "3 undecodable bytes (first at line 12)"


def decode_bytes(data: bytes, encoding: str | None = None) -> DecodedText:
    if encoding:
        return _decode_reporting(data, encoding)
    if data.startswith(codecs.BOM_UTF8):
        return _decode_reporting(data[len(codecs.BOM_UTF8):], "utf-8-sig")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Not UTF-8: CP1251 if the bytes look like Cyrillic text, else UTF-8 with the bad bytes reported.
    high = [b for b in data if b >= 0x80]
    cyrillic = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8))
    if high and cyrillic / len(high) > 0.6:
        return _decode_reporting(data, "cp1251")
    decoded = _decode_reporting(data, "utf-8")
    if decoded.problem is None:  # unreachable in practice; keeps the type honest
        decoded.problem = str(utf8_error)
    return decoded


def _decode_reporting(data: bytes, encoding: str) -> DecodedText:
    try:
        return DecodedText(data.decode(encoding), encoding)
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        bad = text.count("\ufffd")
        first = text.find("\ufffd")
        line = text.count("\n", 0, first) + 1
        return DecodedText(text, encoding, f"{bad} undecodable byte(s) for {encoding}, replaced with U+FFFD "
                                           f"(first at line {line})")


def read_text(path: Path, encoding: str | None = None) -> DecodedText:
    return decode_bytes(path.read_bytes(), encoding)
