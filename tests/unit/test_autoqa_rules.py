"""AutoQA rules on hand-written dialogues in real speech, Russian and English."""

from datetime import datetime, timedelta

import pytest

from contactqa.autoqa.language import Utterance, compile_phrase, matches
from contactqa.autoqa.rules import Contact, evaluate
from contactqa.autoqa.sensitive import find_card_numbers, find_national_ids, iin_valid
from contactqa.privacy import luhn_valid
from contactqa.config import DEFAULT_PROJECT_FILE, load_project

SCORECARD = load_project(DEFAULT_PROJECT_FILE).scorecard()
CRITERIA = {c.id: c for c in SCORECARD.criteria()}


def call(*turns, channel="voice", names=("Айгерим", "Нурланова"), actions=None, disposition="answered"):
    utterances = [Utterance(i + 1, speaker, start, end, text) for i, (speaker, start, end, text) in enumerate(turns)]
    base = datetime(2026, 11, 2, 9)
    contact = Contact("c1", channel, "A001", names, "card_blocked", disposition, utterances)
    if actions is not None:
        contact.actions = [(base + timedelta(seconds=s), a) for s, a in actions]
        contact.has_action_log = True
    return contact


def result(criterion_id, contact):
    return evaluate(CRITERIA[criterion_id], contact)


@pytest.mark.parametrize("text", [
    "доброго дня, меня зовут айгерим",
    "ээ добрый ээ день слушаю вас",
    "здравствуйте банк слушает",
    "Good afternoon, you're speaking with Aigerim",
    "приветствую вас, это Айгерим",
])
def test_greeting_variants_pass(text):
    outcome = result("GREETING", call(("agent", 0, 2000, text), ("customer", 2500, 4000, "да")))
    assert outcome.result == "pass", outcome.detail
    assert outcome.quote == text


def test_no_greeting_fails_with_the_first_turn_as_evidence():
    outcome = result("GREETING", call(("agent", 0, 2000, "слушаю"), ("customer", 2500, 4000, "карта заблокирована"),
                                      ("agent", 4500, 6000, "назовите кодовое слово")))
    assert outcome.result == "fail"
    assert outcome.quote == "слушаю" and outcome.offset_ms == 0


def test_asr_slip_in_greeting_still_matches_fuzzily():
    phrase = compile_phrase("добрый день")
    assert matches(Utterance(1, "agent", 0, 1, "добрый дент меня зовут данияр"), phrase, 80)


def test_short_phrase_does_not_match_inside_words():
    assert not matches(Utterance(1, "agent", 0, 1, "this is the thing"), compile_phrase("hi"), 80)


def test_introduction_uses_the_agents_name_in_any_case():
    ok = call(("agent", 0, 2000, "добрый день, с вами Айгерим"))
    assert result("INTRODUCTION", ok).result == "pass"
    missing = call(("agent", 0, 2000, "добрый день, слушаю вас"), ("agent", 3000, 4000, "чем помочь"))
    assert result("INTRODUCTION", missing).result == "fail"


def test_forbidden_phrase_only_in_agent_speech():
    customer_rude = call(("agent", 0, 1000, "здравствуйте"), ("customer", 1500, 3000, "это не мои проблемы"))
    assert result("POLITENESS", customer_rude).result == "pass"
    agent_rude = call(("agent", 0, 1000, "здравствуйте"), ("agent", 1500, 3000, "ну это уже не мои проблемы, понимаете"))
    outcome = result("POLITENESS", agent_rude)
    assert outcome.result == "fail" and "не мои проблемы" in outcome.quote and outcome.offset_ms == 1500


def test_silence_over_limit_fails_with_offset():
    contact = call(("agent", 0, 2000, "минуту"), ("agent", 70_000, 72_000, "спасибо за ожидание"))
    outcome = result("SILENCE", contact)
    assert outcome.result == "fail" and outcome.offset_ms == 2000 and "68 s" in outcome.detail
    assert result("SILENCE", call(("agent", 0, 2000, "да"), ("customer", 5000, 6000, "да"))).result == "pass"


def test_voice_without_transcript_is_unverifiable_not_pass():
    assert result("GREETING", call()).result == "unverifiable"
    assert result("SILENCE", call()).result == "unverifiable"


def test_unanswered_call_is_not_applicable():
    assert result("GREETING", call(disposition="no_answer")).result == "na"


def test_chat_slow_reply():
    chat = call(("customer", 0, 0, "здравствуйте"), ("agent", 30_000, 30_000, "добрый день"),
                ("customer", 60_000, 60_000, "карта не работает"), ("agent", 460_000, 460_000, "проверила"),
                channel="chat")
    outcome = result("RESPONSE_TIME", chat)
    assert outcome.result == "fail" and outcome.quote == "проверила" and "400 s" in outcome.detail


def test_identity_must_come_before_account_change():
    before = call(actions=[(10, "verify-identity"), (60, "unblock-card")])
    after = call(actions=[(10, "unblock-card"), (60, "verify-identity")])
    none = call(actions=[(10, "unblock-card")])
    no_log = call()
    assert result("IDENTITY_VERIFIED", before).result == "pass"
    assert result("IDENTITY_VERIFIED", after).result == "fail"
    assert "without verify-identity" in result("IDENTITY_VERIFIED", none).detail
    assert result("IDENTITY_VERIFIED", no_log).result == "unverifiable"
    assert result("IDENTITY_VERIFIED", call(actions=[(5, "lookup-balance")])).result == "na"


def test_card_number_and_iin():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert find_card_numbers("номер карты 4111 1111 1111 1111, верно?") == ["4111 1111 1111 1111"]
    assert find_card_numbers("карта на 1111, сумма 25000 тенге") == []
    assert find_card_numbers("4111 1111 1111 1112") == []  # not Luhn-valid: a reference number, not a card
    assert not iin_valid("12345") and not iin_valid("abcdefghijkl")
    valid = next(f"9001013000{d:02d}" for d in range(100) if iin_valid(f"9001013000{d:02d}"))
    assert find_national_ids(f"ваш ИИН {valid}") == [valid]
    outcome = result("PII_DISCLOSURE", call(("agent", 0, 1000, "ваша карта 4111 1111 1111 1111")))
    assert outcome.result == "fail" and outcome.detail == "full card number disclosed"


def test_manual_criterion_is_left_to_the_evaluator():
    assert result("INFO_CORRECT", call(("agent", 0, 1, "да"))).result == "manual"


def test_adding_a_phrase_to_the_yaml_changes_the_result(tmp_path):
    from contactqa.config import Scorecard, load_model

    source = load_project(DEFAULT_PROJECT_FILE).resolve("scorecard.yml").read_text(encoding="utf-8")
    contact = call(("agent", 0, 1000, "салют, это айгерим"))
    assert result("GREETING", contact).result == "fail"
    edited = tmp_path / "scorecard.yml"
    edited.write_text(source.replace("ru: [здравствуйте,", "ru: [салют, здравствуйте,"), encoding="utf-8")
    greeting = next(c for c in load_model(Scorecard, edited).criteria() if c.id == "GREETING")
    assert evaluate(greeting, contact).result == "pass"
