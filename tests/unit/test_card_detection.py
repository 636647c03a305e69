"""Card and IIN detection on digits people really write: links, ids, timestamps, phones and amounts are
not cards (issue 9: 179 of 1,025 real chats were failed as "full card number disclosed"), while real
cards of every network and separator style, typed or read out, still are — and are masked."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from contactqa.privacy import (
    card_issuer_known, card_number_valid, card_numbers_shown, disclosures, find_card_numbers, find_national_ids,
    find_spoken_card_numbers, luhn_valid, mask_pii,
)

SET = yaml.safe_load((Path(__file__).parent / "card_detection.yml").read_text(encoding="utf-8"))
CARD_MASK = "**** **** ****"


def _case_id(case: dict) -> str:
    return f"{case['lang']}: {case['why']}"


def test_the_measurement_set_is_large_and_varied():
    assert len(SET["not_cards"]) >= 100 and len(SET["disclosed"]) >= 30
    for section in ("not_cards", "disclosed"):
        assert {case["lang"] for case in SET[section]} == {"ru", "kk", "en"}
    assert len({case["text"] for case in SET["not_cards"]}) == len(SET["not_cards"])


def test_no_false_alarm_on_the_measurement_set():
    # the figure issue 9 asks for, in one line: zero card or IIN detections over every ordinary message
    alarms = [case["text"] for case in SET["not_cards"] if disclosures(case["text"])]
    assert alarms == [], f"{len(alarms)} of {len(SET['not_cards'])} ordinary messages flagged"


@pytest.mark.parametrize("case", SET["not_cards"], ids=_case_id)
def test_ordinary_digits_are_not_a_card_or_an_iin(case):
    text = case["text"]
    assert disclosures(text) == []
    assert find_card_numbers(text) == [] and find_spoken_card_numbers(text) == [] and find_national_ids(text) == []
    # nor does masking turn an id, a link or a timestamp into a card number
    assert mask_pii(text).count(CARD_MASK) == text.count(CARD_MASK)


@pytest.mark.parametrize("case", SET["disclosed"], ids=_case_id)
def test_every_card_and_iin_is_found_masked_and_named(case):
    text = case["text"]
    assert disclosures(text) == case["kinds"]
    masked = mask_pii(text)
    assert disclosures(masked) == []
    shown = case.get("shown", [])
    # what a finding names: from the original text, and from the masked text ingest stores
    assert card_numbers_shown(text) == shown
    assert card_numbers_shown(masked) == shown
    for card in shown:
        assert card in masked


@pytest.mark.parametrize("prefix, length", [
    ("1", 16), ("7", 16), ("8", 16), ("9", 16), ("0", 16),  # no network starts here (phones, ids, timestamps)
    ("2100", 16), ("2721", 16), ("2205", 16),  # around Mir and the Mastercard 2-series
    ("37", 16), ("34", 14),  # Amex is 15 digits
    ("51", 19), ("4", 15), ("4", 17),  # Mastercard 16; Visa 13, 16 or 19
    ("3527", 16), ("3590", 16), ("306", 14), ("39", 16),  # around JCB and Diners
])
def test_a_luhn_valid_number_outside_every_card_range_is_not_a_card(prefix, length):
    number = _luhn_number(prefix, length)
    assert luhn_valid(number) and not card_issuer_known(number) and not card_number_valid(number)
    assert disclosures(f"номер {number}") == [] and find_card_numbers(f"card {number}") == []


@pytest.mark.parametrize("prefix, length", [
    ("4", 13), ("4", 16), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15), ("37", 15),
    ("2200", 16), ("2204", 19), ("62", 17), ("50", 16), ("56", 16), ("69", 19), ("3528", 16), ("3589", 19),
    ("300", 14), ("305", 16), ("36", 14), ("38", 16), ("6011", 16), ("65", 19),
])
def test_every_network_range_is_a_card(prefix, length):
    number = _luhn_number(prefix, length)
    assert card_number_valid(number) and disclosures(f"card {number}") == ["card_number"]


def test_a_card_must_be_one_number_not_neighbours():
    # the brief's example: a timestamp and a 4-digit number are two numbers, whatever their digits say
    assert disclosures("20190815123456 1234") == []
    # a phone next to a number does not merge into a 16-digit run
    assert disclosures("+7 701 123 45 67 4400") == [] and disclosures("+7 701 123 4567 44001") == []
    # groups must share one separator
    assert disclosures("4795 4220-5879.1580") == []
    # five groups of four are not a card, nor is any four of them
    assert disclosures("4795 4220 5879 1580 4400") == []
    assert disclosures("4795 4220 5879 1580") == ["card_number"]


def test_a_link_without_a_scheme_keeps_its_digits_and_masks_nothing():
    text = "web.archive.org/web/20190815123456/https://kenbank.kz/cards/4795422058791580"
    assert disclosures(text) == [] and mask_pii(text) == text
    # a phone number in a link is still masked
    assert mask_pii("wa.me/77011234567") == "wa.me/7********67"


def test_a_card_after_an_id_is_still_a_card():
    text = "order #112-7743921-5521346, paid with 4795 4220 5879 1580"
    assert disclosures(text) == ["card_number"]
    assert mask_pii(text) == "order #112-7743921-5521346, paid with **** **** **** 1580"


def _luhn_number(prefix: str, length: int) -> str:
    rng = random.Random(f"{prefix}/{length}")
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))
