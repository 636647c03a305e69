"""mask_pii: what must be hidden, and the ordinary numbers that must stay readable."""

from pathlib import Path

import pytest
import yaml

from contactqa.privacy import disclosures, luhn_valid, mask_pii, masked_excerpt


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Моя карта 4400 4300 1234 5678, верно?", "Моя карта **** **** **** 5678, верно?"),
        ("card 4111-1111-1111-1111 please", "card **** **** **** 1111 please"),
        ("номер 4111111111111111.", "номер **** **** **** 1111."),
        ("Amex 3782 822463 10005", "Amex **** **** **** 0005"),
        ("19 digits 4289 1614 3361 4364 506 ok", "19 digits **** **** **** 4506 ok"),
        # a card and its security code read out after it: the card's last four stay, the code is hidden
        ("card 6011 0009 9013 9424 123 ok", "card **** **** **** 9424 *** ok"),
        ("13 digits 4222222222222", "13 digits **** **** **** 2222"),
    ],
)
def test_card_numbers_keep_only_last_four(text, expected):
    assert mask_pii(text) == expected


def test_a_card_number_with_a_wrong_checksum_is_masked_too():
    # speech recognition gets digits wrong; a card-shaped number is sensitive regardless
    assert not luhn_valid("4400430012345679")
    assert mask_pii("карта 4400 4300 1234 5679") == "карта **** **** **** 5679"
    assert luhn_valid("4111111111111111")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("звоните +7 (701) 234-56-78", "звоните +7 (***) ***-**-78"),
        ("мой номер 8 701 234 56 78.", "мой номер 8 *** *** ** 78."),
        ("тел. 87012345678", "тел. 8********78"),
        ("тел. +77012345678", "тел. +7********78"),
        ("8-701-234-56-78, спасибо", "8-***-***-**-78, спасибо"),
        ("+7 495 123 4567", "+7 *** *** **67"),
        ("call me on +44 20 7946 0958", "call me on +** ** **** **58"),
        ("US +1 (415) 555-0132", "US +* (***) ***-**32"),
    ],
)
def test_phone_numbers_keep_only_last_two_digits(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ИИН 900101300123", "ИИН ************"),
        ("мой ИИН: 900101 300123.", "мой ИИН: ************."),
        ("IIN 9001-0130-0123", "IIN ************"),
    ],
)
def test_kazakh_iin_is_fully_hidden(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("пишите на ivan.petrov@mail.kz", "пишите на i***@mail.kz"),
        ("email: John.Smith+bank@example.co.uk.", "email: J***@example.co.uk."),
        ("a@b.kz", "a***@b.kz"),
    ],
)
def test_emails_keep_first_letter_and_domain(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Сумма платежа 5000 тенге",
        "Переведите 5 000 000 тенге до 15.03.2026",
        "Возврат в течение 5 рабочих дней",
        "Звонок был в 10:30, перезвоню в 14:45",
        "Карта заканчивается на 6789, верно?",
        "The refund of $1,250.00 arrives within 3-5 business days",
        "Заявка № 1234567 от 12.03.2024",
        "Ставка +7% годовых, лимит 150 000,50",
        "В 8 часов 30 минут",
        "Период 2026-11, версия 2026.11-1",
        "",
    ],
)
def test_ordinary_numbers_are_left_alone(text):
    assert mask_pii(text) == text


def test_everything_in_one_utterance():
    text = ("Клиент: карта 4400 4300 1234 5678, ИИН 900101300123, телефон +7 701 234 56 78, "
            "почта aigerim@mail.kz, сумма 5000 тенге.")
    masked = mask_pii(text)
    assert masked == ("Клиент: карта **** **** **** 5678, ИИН ************, телефон +7 *** *** ** 78, "
                      "почта a***@mail.kz, сумма 5000 тенге.")


def test_none_becomes_empty_and_text_without_digits_is_unchanged():
    assert mask_pii(None) == ""
    assert mask_pii("Добрый день, меня зовут Айгерим") == "Добрый день, меня зовут Айгерим"


# --- the corpus: every form of personal data contact-centre text carries, and its look-alikes ---

CORPUS = yaml.safe_load((Path(__file__).parent / "pii_masking.yml").read_text(encoding="utf-8"))


def _case_id(case):
    return f"{case['lang']}: {case['why']}"


@pytest.mark.parametrize("case", CORPUS["masked"], ids=_case_id)
def test_corpus_personal_data_is_masked(case):
    assert mask_pii(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", CORPUS["kept"], ids=_case_id)
def test_corpus_look_alikes_are_left_alone(case):
    assert mask_pii(case["text"]) == case["text"]


@pytest.mark.parametrize("case", CORPUS["masked"] + CORPUS["kept"], ids=_case_id)
def test_corpus_disclosures_are_found_in_the_original_and_gone_after_masking(case):
    # ingest stores `disclosures(original)` as pii_kinds next to the masked text; AutoQA's detectors
    # must find nothing left in what is stored
    assert disclosures(case["text"]) == case.get("kinds", [])
    assert disclosures(mask_pii(case["text"])) == []


def test_corpus_covers_russian_kazakh_and_english():
    for section in ("masked", "kept"):
        assert {case["lang"] for case in CORPUS[section]} == {"ru", "kk", "en"}


def test_text_is_masked_before_it_is_cut():
    text = ("Проверяю данные клиента. " * 12)[:288] + "ИИН 870412300129, всё верно"
    assert text.index("870412300129") == 292  # a cut at 300 leaves "ИИН 87041230"
    excerpt = masked_excerpt(text, 300)
    assert "8704" not in excerpt and "ИИН *******…" in excerpt
    assert len(excerpt) <= 300 and excerpt.endswith("…")
    assert masked_excerpt("короткий текст, карта 4400 1234 5678 9013", 300) == "короткий текст, карта **** **** **** 9013"
    assert masked_excerpt("я" * 10_000_000 + " 4400 1234 5678 9013", 10_000) == "я" * 9_999 + "…"
