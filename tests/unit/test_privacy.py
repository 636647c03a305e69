"""mask_pii: what must be hidden, and the ordinary numbers that must stay readable."""

import pytest

from contactqa.privacy import luhn_valid, mask_pii


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Моя карта 4400 4300 1234 5678, верно?", "Моя карта **** **** **** 5678, верно?"),
        ("card 4111-1111-1111-1111 please", "card **** **** **** 1111 please"),
        ("номер 4111111111111111.", "номер **** **** **** 1111."),
        ("Amex 3782 822463 10005", "Amex **** **** **** 0005"),
        ("19 digits 6011 0009 9013 9424 123 ok", "19 digits **** **** **** 4123 ok"),
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
