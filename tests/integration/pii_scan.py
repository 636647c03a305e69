"""Find personal data left in clear: in every text column of a warehouse and in files written for people.

Written independently of contactqa.privacy on purpose (a bug there must not hide itself here):
  - card numbers: 13-19 digits, alone or in groups split by spaces, dashes or dots, passing Luhn,
    starting with a card network's digit (2-6);
  - Kazakhstan IINs: 12 digits, alone or grouped, with a plausible month and a valid check digit;
  - phone numbers: +7 / 8 / 7 followed by ten digits, in the usual spellings.
Hex digests (customer keys, content and file hashes) are not phone numbers and are skipped.
"""

from __future__ import annotations

import email
import html
import re
from email import policy
from pathlib import Path

import duckdb

_DIGIT_RUN = re.compile(r"(?<![\d])\d(?:(?:[ \u00a0\u202f]{1,3}|[ \u00a0]?[-.–][ \u00a0]?)?\d)*(?![\d])")
_PHONE = re.compile(r"(?<![\d+])(?:\+ ?7|8|7)[ \-]?\(?\d{3}\)?[ \-]?\d{3}[ \-]?\d{2}[ \-]?\d{2}(?!\d)")
_HEX_DIGEST = re.compile(r"[0-9a-f]{16,}")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iin(digits: str) -> bool:
    if len(digits) != 12 or not 1 <= int(digits[2:4]) <= 12:
        return False
    nums = [int(c) for c in digits]
    check = sum(w * n for w, n in zip(range(1, 12), nums)) % 11
    if check == 10:
        check = sum(w * n for w, n in zip([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2], nums)) % 11
    return check != 10 and check == nums[11]


def personal_data_in(text: str) -> list[str]:
    """Every full card number, IIN and +7 phone number in `text`, as written there."""
    if not text or _HEX_DIGEST.fullmatch(text):
        return []
    found = []
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits):
            found.append(f"card {match.group()!r}")
        elif _iin(digits):
            found.append(f"IIN {match.group()!r}")
    found += [f"phone {m.group()!r}" for m in _PHONE.finditer(text)]
    return found


def scan_warehouse(path: Path) -> dict[str, list[str]]:
    """'schema.table.column' -> what was found, over every VARCHAR column of every table in the file."""
    findings: dict[str, list[str]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("""
            SELECT c.table_schema, c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
            WHERE c.data_type = 'VARCHAR' AND t.table_type = 'BASE TABLE'
            ORDER BY 1, 2, 3""").fetchall()
        assert columns, f"no text columns in {path}"
        for schema, table, column in columns:
            values = con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
                                 f'WHERE "{column}" IS NOT NULL').fetchall()
            hits = [hit for (value,) in values for hit in personal_data_in(value)]
            if hits:
                findings[f"{schema}.{table}.{column}"] = hits
    return findings


def readable_text(path: Path) -> str:
    """What a person sees in a written file: an e-mail's decoded headers and parts, a page's text."""
    if path.suffix == ".eml":
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        # every header but the MIME structure (a multipart boundary is a random run of digits)
        parts = [f"{name}: {value}" for name, value in message.items() if not name.lower().startswith("content-")]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
        return html.unescape("\n".join(parts))
    return html.unescape(path.read_text(encoding="utf-8", errors="replace"))


def scan_files(folder: Path) -> dict[str, list[str]]:
    """File (relative to `folder`) -> what was found, over every file written under it."""
    findings: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hits = personal_data_in(readable_text(path))
        if hits:
            findings[str(path.relative_to(folder))] = hits
    return findings
