"""QA evaluators' manual evaluations and one calibration session.

Humans mostly agree with ground truth but not always (~93 %), and disagree
with each other more in calibration, which is what calibration is for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .faults import IDENTITY_TOPICS

CRITERIA: tuple[str, ...] = (
    "GREETING", "INTRODUCTION", "POLITENESS", "SILENCE", "RESPONSE_TIME",
    "IDENTITY_VERIFIED", "PII_DISCLOSURE", "CLOSING", "INFO_CORRECT",
)
# The default scorecard's weights: evaluators give the full weight for a pass and 0 for a fail (points
# count as partial credit, so anything else would be read as a deduction).
POINTS: dict[str, int] = {
    "GREETING": 10, "INTRODUCTION": 10, "POLITENESS": 15, "SILENCE": 10, "RESPONSE_TIME": 10,
    "RESPONSE_TIME_MESSENGER": 10,
    "IDENTITY_VERIFIED": 15, "PII_DISCLOSURE": 15, "CLOSING": 10, "INFO_CORRECT": 15,
}
CRITERION_FAULT: dict[str, str] = {
    "GREETING": "no_greeting", "INTRODUCTION": "no_introduction", "POLITENESS": "rude_phrase",
    "SILENCE": "long_silence", "RESPONSE_TIME": "slow_reply", "RESPONSE_TIME_MESSENGER": "slow_reply",
    "IDENTITY_VERIFIED": "identity_not_verified",
    "PII_DISCLOSURE": "card_number_disclosed", "CLOSING": "missing_closing",
}
# Topics where identification is expected at all (the rest score N/A).
IDENTITY_EXPECTED = IDENTITY_TOPICS | {"tariff_change"}

EVALUATORS: tuple[tuple[str, str], ...] = (("E01", "ru"), ("E02", "ru"), ("E03", "ru"), ("E04", "en"))
REFERENCE_EVALUATOR: tuple[str, str] = ("QA-LEAD", "ru")

EVALUATION_COLUMNS: tuple[str, ...] = (
    "evaluation_id", "contact_id", "evaluator_id", "criterion_id", "result", "points", "comment",
    "evaluated_at", "calibration_session_id", "is_reference",
)

FAIL_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "ru": {
        "GREETING": ("Нет приветствия", "Не поздоровался", "Начал без приветствия"),
        "INTRODUCTION": ("Не представился", "Имя не названо"),
        "POLITENESS": ("Грубость", "Некорректная фраза", "Неуважительный тон"),
        "SILENCE": ("Долгая пауза без предупреждения", "Тишина больше минуты"),
        "RESPONSE_TIME": ("Долгий ответ клиенту", "Ответ через несколько минут"),
        "RESPONSE_TIME_MESSENGER": ("Ответ в мессенджере больше часа", "Клиент ждал ответа больше часа"),
        "IDENTITY_VERIFIED": ("Нет идентификации", "Не проверил личность до изменений"),
        "PII_DISCLOSURE": ("Озвучен полный номер карты", "Раскрыт номер карты"),
        "CLOSING": ("Нет завершения", "Не попрощался"),
        "INFO_CORRECT": ("Неполная информация", "Неточно по срокам"),
    },
    "en": {
        "GREETING": ("No greeting", "Skipped the greeting"),
        "INTRODUCTION": ("Did not introduce self", "No name given"),
        "POLITENESS": ("Rude remark", "Unprofessional tone"),
        "SILENCE": ("Long unexplained silence", "Dead air over a minute"),
        "RESPONSE_TIME": ("Slow reply", "Customer waited minutes"),
        "RESPONSE_TIME_MESSENGER": ("Messenger reply over an hour", "Customer waited over an hour"),
        "IDENTITY_VERIFIED": ("No ID check", "Changed account before verifying"),
        "PII_DISCLOSURE": ("Full card number disclosed",),
        "CLOSING": ("No closing", "No goodbye"),
        "INFO_CORRECT": ("Incomplete info", "Timeline not quite right"),
    },
}
PASS_COMMENTS: dict[str, tuple[str, ...]] = {"ru": ("ок", "Хорошо", "Без замечаний"), "en": ("ok", "Good", "Fine")}


@dataclass(frozen=True)
class EvaluatedContact:
    contact_id: str
    channel: str
    topic: str
    faults: frozenset[str]
    ended_epoch: float
    source: str = ""  # the export it came from: asterisk, chat_jsonl, telegram


def criteria_for(channel: str, source: str = "") -> tuple[str, ...]:
    """What an evaluator scores on a contact: a Telegram chat is under the messenger service level."""
    criteria = tuple(c for c in CRITERIA if not (c == "SILENCE" and channel != "voice")
                     and not (c == "RESPONSE_TIME" and channel == "voice"))
    if source == "telegram":
        criteria = tuple("RESPONSE_TIME_MESSENGER" if c == "RESPONSE_TIME" else c for c in criteria)
    return criteria


def true_result(criterion: str, contact: EvaluatedContact) -> str:
    if criterion == "IDENTITY_VERIFIED" and contact.topic not in IDENTITY_EXPECTED:
        return "na"
    fault = CRITERION_FAULT.get(criterion)
    return "fail" if fault and fault in contact.faults else "pass"


def score_rows(
    rng: random.Random,
    evaluation_id: str,
    contact: EvaluatedContact,
    evaluator: tuple[str, str],
    evaluated_at: str,
    slip_rate: float,
    calibration_session_id: str = "",
    is_reference: bool = False,
) -> list[list[object]]:
    evaluator_id, lang = evaluator
    rows: list[list[object]] = []
    for criterion in criteria_for(contact.channel, contact.source):
        result = true_result(criterion, contact)
        if result != "na" and rng.random() < slip_rate:
            result = "fail" if result == "pass" else "pass"
        if result == "fail":
            comment = rng.choice(FAIL_COMMENTS[lang][criterion])
        elif result == "pass" and rng.random() < 0.05:
            comment = rng.choice(PASS_COMMENTS[lang])
        else:
            comment = ""
        points: object = POINTS[criterion] if result == "pass" else (0 if result == "fail" else "")
        rows.append([
            evaluation_id, contact.contact_id, evaluator_id, criterion, result, points, comment,
            evaluated_at, calibration_session_id, "true" if is_reference else "false",
        ])
    return rows
