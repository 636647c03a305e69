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
    assert outcome.result == "fail" and outcome.detail.startswith("full card number disclosed")


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


# --- rule types beyond the phrases ------------------------------------------------------------

def outbound(at_utc: datetime, **kw):
    contact = call(("agent", 0, 2000, "добрый день, это Айгерим из банка, разговор записывается"), **kw)
    contact.direction, contact.started_at, contact.has_customer = "outbound", at_utc, True
    return contact


def test_calling_hours_in_the_customers_local_time():
    # 16:30 UTC is 21:30 in Almaty on a Monday: allowed until 22:00; 17:30 UTC is 22:30: not allowed.
    assert result("CALLING_HOURS", outbound(datetime(2026, 11, 2, 16, 30))).result == "pass"
    late = result("CALLING_HOURS", outbound(datetime(2026, 11, 2, 17, 30)))
    assert late.result == "fail" and "22:30" in late.detail
    # Saturday 20:30 local: weekends end at 20:00.
    assert result("CALLING_HOURS", outbound(datetime(2026, 11, 7, 15, 30))).result == "fail"
    inbound = call(("agent", 0, 1, "да"))
    assert result("CALLING_HOURS", inbound).result == "na"


def test_collection_call_frequency():
    contact = outbound(datetime(2026, 11, 2, 6))
    contact.topic = "collections"
    contact.outbound_same_day, contact.outbound_same_week = 2, 2
    assert result("CALL_FREQUENCY", contact).result == "fail"
    contact.outbound_same_day, contact.outbound_same_week = 1, 3
    assert "a week" in result("CALL_FREQUENCY", contact).detail
    contact.outbound_same_week = 2
    assert result("CALL_FREQUENCY", contact).result == "pass"
    contact.topic = "callback"
    assert result("CALL_FREQUENCY", contact).result == "na"


def test_recording_notice_by_agent_or_ivr():
    spoken = outbound(datetime(2026, 11, 2, 6))
    assert result("RECORDING_NOTICE", spoken).result == "pass"
    silent = call(("agent", 0, 1000, "добрый день, это Айгерим"))
    silent.direction = "outbound"
    assert result("RECORDING_NOTICE", silent).result == "fail"
    ivr = call(("agent", 0, 1000, "добрый день"))
    ivr.direction, ivr.queue = "inbound", "cards"
    outcome = result("RECORDING_NOTICE", ivr)
    assert outcome.result == "pass" and "IVR" in outcome.detail


def test_silence_from_the_recording_when_there_is_no_transcript():
    contact = call()
    contact.metrics = {"metrics_source": "vad", "longest_silence_s": 52.0, "longest_silence_at_ms": 61000,
                       "non_talk_s": 80.0, "interruptions": 4}
    outcome = result("SILENCE", contact)
    assert outcome.result == "fail" and outcome.offset_ms == 61000 and "from the recording" in outcome.detail
    assert result("INTERRUPTIONS", contact).result == "fail"
    contact.hold_s = 240
    assert "on hold 240 s" in result("SILENCE", contact).detail


def test_interruptions_from_transcript_timings():
    contact = call(("customer", 0, 5000, "я хотела спросить про"), ("agent", 3000, 6000, "да-да понятно"),
                   ("customer", 6500, 9000, "так вот"), ("agent", 8000, 9500, "секунду"),
                   ("customer", 10000, 14000, "и ещё"), ("agent", 13000, 15000, "ага"))
    outcome = result("INTERRUPTIONS", contact)
    assert outcome.result == "fail" and outcome.offset_ms == 3000 and "3 time(s)" in outcome.detail


def test_required_information_per_topic():
    told = call(("agent", 0, 1, "перевыпуск оформлен, новая карта будет готова через пять рабочих дней"))
    told.topic = "card_reissue"
    assert result("INFO_COMPLETE", told).result == "pass"
    untold = call(("agent", 0, 1, "перевыпуск оформлен, старая карта работает до конца месяца"))
    untold.topic = "card_reissue"
    outcome = result("INFO_COMPLETE", untold)
    assert outcome.result == "fail" and "term" in outcome.detail
    other = call(("agent", 0, 1, "да"))
    other.topic = "billing"
    assert result("INFO_COMPLETE", other).result == "na"


def test_required_actions_missing_out_of_order_and_late():
    def with_actions(actions, topic="card_reissue"):
        contact = call(actions=actions)
        contact.topic, contact.ended_at = topic, datetime(2026, 11, 2, 9, 5)
        return contact
    assert result("ACTIONS_DONE", with_actions([(10, "verify-identity"), (60, "reissue-card")])).result == "pass"
    assert "missing reissue-card" in result("ACTIONS_DONE", with_actions([(10, "verify-identity")])).detail
    assert "out of order" in result("ACTIONS_DONE", with_actions([(10, "reissue-card"), (60, "verify-identity")])).detail
    assert "late" in result("ACTIONS_DONE", with_actions([(10, "verify-identity"), (2000, "reissue-card")])).detail


def test_first_contact_resolution():
    contact = call(("agent", 0, 1, "да"))
    contact.has_customer = True
    contact.next_same_topic_after_s, contact.next_same_topic_contact_id = 26 * 3600, "c2"
    outcome = result("FIRST_CONTACT_RESOLUTION", contact)
    assert outcome.result == "fail" and "c2" in outcome.detail
    contact.next_same_topic_after_s = 5 * 86400
    assert result("FIRST_CONTACT_RESOLUTION", contact).result == "pass"
    transferred = call(("agent", 0, 1, "да"), disposition="transferred")
    assert result("FIRST_CONTACT_RESOLUTION", transferred).result == "fail"


def test_spoken_card_number_and_password():
    spoken = call(("agent", 0, 1, "номер карты четыре один один один один один один один один один один один один один один один"))
    assert result("PII_DISCLOSURE", spoken).result == "fail"
    password = call(("agent", 0, 1, "ваш временный пароль Qwe12345, смените его при входе"))
    assert result("PII_DISCLOSURE", password).detail == "password or PIN disclosed"
    safe = call(("agent", 0, 1, "никому не сообщайте пароль и код из смс, сумма двадцать пять тысяч"))
    assert result("PII_DISCLOSURE", safe).result == "pass"


def test_sensitive_data_fails_on_the_disclosure_ingest_recorded_quoting_the_masked_text():
    # Ingest stores turns masked and keeps what the original disclosed in pii_kinds.
    contact = call(("agent", 0, 2000, "Добрый день, меня зовут Айгерим"))
    contact.utterances.append(Utterance(2, "customer", 3000, 4000, "Моя карта **** **** **** 9013",
                                        pii_kinds=("card_number",)))  # a customer may say their own card
    assert result("PII_DISCLOSURE", contact).result == "pass"
    contact.utterances.append(Utterance(3, "agent", 5000, 9000, "Ваша карта **** **** **** 9013, ИИН ************?",
                                        pii_kinds=("card_number", "national_id")))
    outcome = result("PII_DISCLOSURE", contact)
    assert (outcome.result, outcome.speaker, outcome.offset_ms) == ("fail", "agent", 5000)
    assert outcome.detail.startswith("full card number disclosed")
    assert outcome.quote == "Ваша карта **** **** **** 9013, ИИН ************?"
    iin_only = call(("agent", 0, 2000, "ИИН ************, верно?"))
    iin_only.utterances[0].pii_kinds = ("national_id",)
    assert result("PII_DISCLOSURE", iin_only).detail == "full national ID (IIN) disclosed"


def test_a_link_an_earlier_version_masked_as_a_card_is_no_longer_a_disclosure():
    """Before 2026.12 ingest took an archive link's digits for a card: it stored the link masked and
    `card_number` in pii_kinds, and every such chat failed critically. Rechecked (`contactqa rescore`),
    those turns pass; a mask that stands as a number of its own still fails."""
    link = call(("agent", 0, 2000, "Старые условия тут: https://web.archive.org/web/**** **** **** 3456/"
                                   "https://kenbank.kz/tariffs, новые — в приложении."))
    link.utterances[0].pii_kinds = ("card_number",)
    assert result("PII_DISCLOSURE", link).result == "pass"
    tracking = call(("agent", 0, 2000, "Track it here: parcel.kz/track?id=**** **** **** 1234&lang=en"))
    tracking.utterances[0].pii_kinds = ("card_number",)
    assert result("PII_DISCLOSURE", tracking).result == "pass"
    both = call(("agent", 0, 2000, "Условия: web.archive.org/web/**** **** **** 3456/x, а ваша карта **** **** **** 9013"))
    both.utterances[0].pii_kinds = ("card_number",)
    assert result("PII_DISCLOSURE", both).detail.startswith("full card number disclosed")


def test_spoken_and_dotted_card_numbers_fail_the_contact():
    for text in ("продиктую номер карты: четыре четыре ноль ноль один два три четыре пять шесть семь восемь "
                 "девять ноль один три", "ваша карта 4400.1234.5678.9013", "карта төрт төрт нөл нөл бір екі үш "
                 "төрт бес алты жеті сегіз тоғыз нөл бір үш"):
        assert result("PII_DISCLOSURE", call(("agent", 0, 1, text))).detail.startswith("full card number disclosed"), text


def test_an_evidence_quote_is_masked_before_it_is_cut():
    text = ("Проверяю данные клиента. " * 12)[:288] + "ИИН 870412300129, всё верно"  # the IIN spans char 300
    outcome = result("PII_DISCLOSURE", call(("agent", 0, 1000, text)))
    assert outcome.result == "fail" and outcome.detail == "full national ID (IIN) disclosed"
    assert "8704" not in outcome.quote and "ИИН *******…" in outcome.quote
    assert outcome.quote.endswith("…") and len(outcome.quote) <= 300
