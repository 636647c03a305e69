"""Scenarios and the assembly of a dialogue from stage phrase banks.

A dialogue is built in the neutral written form of the phrase banks; the
channel then dresses it (ASR output for calls, typing for chats) and times it.
Faults are decided before assembly and shape it: a stage is left out (no
greeting, no introduction, no identification, no closing), or a turn is added
(a rude line, a full card number), or a pause is marked for the timer (a long
silence, a slow reply).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

from . import phrases_en, phrases_ru
from .faults import IDENTITY_TOPICS
from .textkit import Voice, capitalize_sentences, render


@dataclass(frozen=True)
class ScenarioSpec:
    name: str  # "<topic>/<variant>", written to ground truth
    action: str | None  # the account action the solution performs
    lookup: str | None = None  # a read-only action done while checking


@dataclass(frozen=True)
class TopicSpec:
    code: str
    queue: str
    direction: str
    # "required": the solution changes the account; "optional": agents sometimes check anyway.
    identity: str
    scenarios: tuple[ScenarioSpec, ...]
    weight: float


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("billing", "billing", "inbound", "optional",
              (ScenarioSpec("billing/charge", None, "lookup-balance"), ScenarioSpec("billing/balance", None, "lookup-balance")), 0.24),
    TopicSpec("card_blocked", "cards", "inbound", "required",
              (ScenarioSpec("card_blocked/unblock", "unblock-card"), ScenarioSpec("card_blocked/lost", "block-card")), 0.20),
    TopicSpec("card_reissue", "cards", "inbound", "required",
              (ScenarioSpec("card_reissue/expired", "reissue-card"), ScenarioSpec("card_reissue/damaged", "reissue-card")), 0.12),
    TopicSpec("complaint", "complaints", "inbound", "none",
              (ScenarioSpec("complaint/branch", "create-ticket"), ScenarioSpec("complaint/app", "create-ticket")), 0.14),
    TopicSpec("address_change", "accounts", "inbound", "required", (ScenarioSpec("address_change/move", "update-account"),), 0.12),
    TopicSpec("tariff_change", "billing", "inbound", "required", (ScenarioSpec("tariff_change/upgrade", "change-tariff"),), 0.18),
    TopicSpec("collections", "collections", "outbound", "required", (ScenarioSpec("collections/overdue", "promise-to-pay"),), 0.6),
    TopicSpec("callback", "callback", "outbound", "none",
              (ScenarioSpec("callback/complaint_result", "close-ticket", "lookup-ticket"),), 0.4),
)
TOPIC_BY_CODE: dict[str, TopicSpec] = {t.code: t for t in TOPICS}
INBOUND_TOPICS: tuple[TopicSpec, ...] = tuple(t for t in TOPICS if t.direction == "inbound")
OUTBOUND_TOPICS: tuple[TopicSpec, ...] = tuple(t for t in TOPICS if t.direction == "outbound")

# Queue numbers callers dial (the CDR dst) and queue names (accountcode).
QUEUE_NUMBERS: dict[str, str] = {"cards": "700", "billing": "701", "accounts": "702", "complaints": "703"}


@dataclass
class _Bank:
    common: Mapping[str, tuple[str, ...]]
    pairs: Mapping[str, tuple[tuple[str, str], ...]]
    problem: Mapping[str, tuple[str, ...]]
    clarify: Mapping[str, tuple[tuple[str, str], ...]]
    solution: Mapping[str, tuple[str, ...]]
    followup: Mapping[str, tuple[tuple[str, str], ...]]
    extra: Mapping[str, tuple[tuple[str, str], ...]]
    values: Mapping[str, tuple[str, ...]]


def _bank(module) -> _Bank:  # type: ignore[no-untyped-def]
    return _Bank(module.COMMON, module.PAIRS, module.PROBLEM, module.CLARIFY, module.SOLUTION,
                 module.FOLLOWUP, module.EXTRA, module.VALUES)


BANKS: dict[str, _Bank] = {"ru": _bank(phrases_ru), "en": _bank(phrases_en)}


def _for_channel(templates: tuple[str, ...], channel: str) -> tuple[str, ...]:
    """Drop templates marked for the other channel and strip the marks."""
    own, other = ("v:", "c:") if channel == "voice" else ("c:", "v:")
    return tuple(t[2:] if t.startswith(own) else t for t in templates if not t.startswith(other))


_CHANNEL_CACHE: dict[tuple[int, str], tuple[str, ...]] = {}


def _templates(templates: tuple[str, ...], channel: str) -> tuple[str, ...]:
    key = (id(templates), channel)
    cached = _CHANNEL_CACHE.get(key)
    if cached is None:
        cached = _CHANNEL_CACHE[key] = _for_channel(templates, channel)
    return cached


@dataclass
class Turn:
    speaker: str  # agent | customer | bot | system
    text: str
    stage: str
    fault: str | None = None  # the fault this turn is evidence of
    # Pause before this turn, for the timer: "normal", "hold" (after a hold notice),
    # "silence" (long_silence) or "slow" (slow_reply).
    pause: str = "normal"


@dataclass
class PlannedAction:
    turn_index: int
    action: str
    detail: str


@dataclass
class Dialogue:
    turns: list[Turn]
    actions: list[PlannedAction]
    identity_asked: bool


@dataclass(frozen=True)
class DialogueSpec:
    language: str
    channel: str  # voice | chat
    direction: str
    topic: TopicSpec
    scenario: ScenarioSpec
    faults: frozenset[str]
    voice: Voice
    ctx: Mapping[str, str]
    part_of_day: str  # morning | day | evening
    extra_pairs: int  # padding exchanges, to reach the drawn call length
    with_bot: bool  # chats: a bot/system message sequence precedes the agent
    # Action log only: verify-identity logged after the account change (identity_not_verified variant).
    identity_logged_late: bool = False


class _Builder:
    def __init__(self, spec: DialogueSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.bank = BANKS[spec.language]
        self.turns: list[Turn] = []
        self.actions: list[PlannedAction] = []

    # rendering ----------------------------------------------------------
    def text(self, templates: tuple[str, ...], capitalize: bool = True) -> str:
        chosen = self.rng.choice(_templates(templates, self.spec.channel))
        return render(chosen, self.rng, self.spec.ctx, self.spec.voice, capitalize)

    def common(self, key: str, capitalize: bool = True) -> str:
        return self.text(self.bank.common[key], capitalize)

    def one(self, template: str) -> str:
        return render(template, self.rng, self.spec.ctx, self.spec.voice)

    def add(self, speaker: str, text: str, stage: str, fault: str | None = None, pause: str = "normal") -> int:
        self.turns.append(Turn(speaker, text, stage, fault, pause))
        return len(self.turns) - 1

    def act(self, turn_index: int, action: str, detail: str) -> None:
        self.actions.append(PlannedAction(turn_index, action, detail))

    # stages -------------------------------------------------------------
    def greeting_word(self) -> str:
        key = {"morning": "greet_morning", "day": "greet_day", "evening": "greet_evening"}[self.spec.part_of_day]
        return self.common(key, capitalize=False)

    def _join(self, parts: list[tuple[str, str]]) -> str:
        out = ""
        for i, (kind, piece) in enumerate(parts):
            if i == 0:
                out = piece
                continue
            if kind == "G":
                # Banks capitalise greetings for when they open a turn; mid-sentence they are lowercase.
                piece = piece[:1].lower() + piece[1:]
            prev_kind = parts[i - 1][0]
            if prev_kind == "G":
                sep = self.rng.choice((", ", ", ", "! ", ". ")) if self.spec.channel == "chat" else ", "
            else:
                sep = self.rng.choice((", ", ", ", ". "))
            if out.endswith(("?", "!", ".")):
                sep = " "
            out += sep + piece
        if not out.endswith(("?", "!", ".")):
            out += "."
        return capitalize_sentences(out)

    def opening_inbound(self, problem_known: bool) -> str:
        greet_ok = "no_greeting" not in self.spec.faults
        intro_ok = "no_introduction" not in self.spec.faults
        pieces: dict[str, str] = {}
        if greet_ok:
            pieces["G"] = self.greeting_word()
        if self.rng.random() < 0.7:
            warm = greet_ok and self.rng.random() < 0.25
            pieces["CO"] = self.common("company_warm" if warm else "company_plain", capitalize=False)
        if intro_ok:
            pieces["I"] = self.common("intro", capitalize=False)
        pieces["O"] = self.common("offer_after_problem" if problem_known else "offer", capitalize=False)
        if not greet_ok and not intro_ok and self.rng.random() < 0.5:
            pieces = {"O": self.common("no_greet_terse", capitalize=False)}
        order = self.rng.choice(
            (("G", "CO", "I", "O"), ("CO", "G", "I", "O"), ("G", "I", "CO", "O"), ("G", "I", "O", "CO"),
             ("I", "CO", "G", "O"), ("CO", "I", "G", "O"), ("G", "CO", "I", "O"))
        )
        parts = [(k, pieces[k]) for k in order if k in pieces]
        # A company name tacked on after the offer reads wrong; keep the offer last.
        parts = [p for p in parts if p[0] != "O"] + [p for p in parts if p[0] == "O"]
        return self._join(parts)

    def opening_outbound(self) -> str:
        greet_ok = "no_greeting" not in self.spec.faults
        intro_ok = "no_introduction" not in self.spec.faults
        pieces: dict[str, str] = {}
        if greet_ok:
            pieces["G"] = self.greeting_word()
        if intro_ok:
            pieces["I"] = self.common("out_intro", capitalize=False)
        pieces["CO"] = self.common("out_company", capitalize=False)
        pieces["ASK"] = self.common("out_ask", capitalize=False)
        order = self.rng.choice((("G", "I", "CO", "ASK"), ("G", "CO", "I", "ASK"), ("I", "CO", "G", "ASK")))
        opening = self._join([(k, pieces[k]) for k in order if k in pieces])
        if self.spec.channel == "voice":
            # Said after the customer confirms who they are would be more natural, but keeping it in the
            # opening keeps the turn structure (and every other fault's placement) unchanged.
            opening = self._join([("O", opening), ("RN", self.common("out_recording_notice", capitalize=False))])
        return opening

    def pairs(self, pool: tuple[tuple[str, str], ...], n: int, ask_first: str = "agent") -> None:
        answer = "customer" if ask_first == "agent" else "agent"
        # Banks list a topic's exchanges in the order a conversation takes them.
        chosen = sorted(self.rng.sample(range(len(pool)), min(n, len(pool))))
        for q, a in (pool[i] for i in chosen):
            self.add(ask_first, self.one(q), "clarify" if ask_first == "agent" else "followup")
            self.add(answer, self.one(a), "clarify" if ask_first == "agent" else "followup")

    def build(self) -> Dialogue:
        spec, rng, bank = self.spec, self.rng, self.bank
        faults = spec.faults
        topic, scenario = spec.topic, spec.scenario
        identity_asked = (
            topic.identity == "required" and not ("identity_not_verified" in faults and topic.code in IDENTITY_TOPICS)
        ) or (topic.identity == "optional" and rng.random() < 0.35)

        # --- opening and the reason for the contact ---
        if spec.direction == "outbound":
            if spec.channel == "voice":
                self.add("customer", self.common("cust_pickup"), "pickup")
            self.add("agent", self.opening_outbound(), "opening")
            self.add("customer", self.common("cust_confirm"), "confirm")
            if scenario.lookup:
                self.act(len(self.turns), scenario.lookup, spec.ctx["detail:" + scenario.lookup])
            self.add("agent", self.text(bank.problem[scenario.name]), "purpose")
            self.add("customer", self.common("cust_purpose_ack"), "purpose_ack")
        else:
            problem_first = spec.channel == "chat" and rng.random() < 0.6
            if spec.channel == "chat":
                if spec.with_bot and rng.random() < 0.5:
                    self.add("bot", self.common("bot_welcome"), "bot")
                if problem_first:
                    greet = self.common("cust_greet") + ". " if rng.random() < 0.5 else ""
                    self.add("customer", capitalize_sentences(greet + self.text(bank.problem[scenario.name])), "problem")
                else:
                    self.add("customer", self.common("cust_hi_chat"), "hello")
                if spec.with_bot:
                    self.add("system", self.common("system_connect"), "system")
                    if rng.random() < 0.5:
                        self.add("system", self.common("system_joined"), "system")
            self.add("agent", self.opening_inbound(problem_first), "opening")
            if not problem_first:
                greet = self.common("cust_greet") + ", " if rng.random() < 0.55 else ""
                problem = self.text(bank.problem[scenario.name], capitalize=not greet)
                self.add("customer", capitalize_sentences(greet + problem), "problem")

        # --- identification ---
        if identity_asked:
            q, a = rng.choice(bank.pairs["ident"])
            self.add("agent", self.one(q), "ident_q")
            self.add("customer", self.one(a), "ident_a")
            ok = self.add("agent", self.common("ident_ok"), "ident_ok")
            if not spec.identity_logged_late:
                self.act(ok, "verify-identity", spec.ctx["detail:verify-identity"])

        # --- understanding the case, padded to the drawn length ---
        clarify = bank.clarify.get(scenario.name) or bank.clarify.get(topic.code, ())
        self.pairs(clarify, rng.randint(1, 2))
        if spec.extra_pairs:
            # Topic talk first; small talk about the app or the phone only tops up, and sparingly.
            topical = bank.extra.get(scenario.name) or bank.extra.get(topic.code, ())
            n_topical = min(spec.extra_pairs, len(topical))
            self.pairs(topical, n_topical)
            self.pairs(bank.pairs["generic_extra"], min(2, spec.extra_pairs - n_topical))

        rude_before_solution = "rude_phrase" in faults and rng.random() < 0.5
        if rude_before_solution:
            self.rude()

        # --- checking and the solution ---
        silence_here = "long_silence" in faults
        if not silence_here and rng.random() < 0.65:
            self.add("agent", self.common("hold"), "hold")
            pause = "hold"
        else:
            pause = "silence" if silence_here else "normal"
        if scenario.lookup and spec.direction == "inbound":
            self.act(len(self.turns), scenario.lookup, spec.ctx["detail:" + scenario.lookup])
        back = self.common("back_from_hold") + " " if pause == "hold" and rng.random() < 0.5 else ""
        card_fault = "card_number_disclosed" in faults
        if card_fault and rng.random() < 0.5:
            self.add("agent", back + self.common("card_disclose"), "card", fault="card_number_disclosed", pause=pause)
            pause, back = "normal", ""
            self.add("customer", self.one(rng.choice(("Да.", "Угу.", "Да, она.") if spec.language == "ru" else ("Yes.", "Mm-hm.", "That's it."))), "ack")
            card_fault = False
        sol = self.add("agent", back + self.text(bank.solution[scenario.name]), "solution", pause=pause)
        if scenario.action:
            self.act(sol, scenario.action, spec.ctx["detail:" + scenario.action])
        if card_fault:
            self.add("agent", self.common("card_disclose"), "card", fault="card_number_disclosed")

        if "rude_phrase" in faults and not rude_before_solution:
            self.rude()
        elif rng.random() < 0.5:
            self.pairs(bank.followup.get(topic.code, ()), 1, ask_first="customer")

        # --- wrapping up ---
        self.add("customer", self.common("cust_ack"), "ack")
        if rng.random() < 0.8:
            self.add("agent", self.common("anything_else"), "anything_else")
            self.add("customer", self.common("no_more"), "no_more")
        if "missing_closing" in faults:
            # The agent just stops: a bare acknowledgement at most, no thanks, no goodbye.
            if rng.random() < 0.4:
                self.add("customer", self.common("cust_bye"), "bye")
            if rng.random() < 0.6:
                self.add("agent", self.common("no_closing_end"), "end")
        else:
            named = "no_introduction" not in faults and rng.random() < 0.2
            self.add("agent", self.common("closing_named" if named else "closing"), "closing")
            if rng.random() < 0.6:
                self.add("customer", self.common("cust_bye"), "bye")
        if spec.identity_logged_late and "identity_not_verified" in faults and scenario.action:
            last_agent = max(i for i, t in enumerate(self.turns) if t.speaker == "agent")
            self.act(last_agent, "verify-identity", spec.ctx["detail:verify-identity"])
        if spec.channel == "chat" and spec.with_bot and rng.random() < 0.4:
            self.add("system", self.common("system_closed"), "system")
        return Dialogue(self.turns, self.actions, identity_asked)

    def rude(self) -> None:
        self.add("customer", self.common("pushback"), "pushback")
        self.add("agent", self.common("rude"), "rude", fault="rude_phrase")


def build_dialogue(spec: DialogueSpec, rng: random.Random) -> Dialogue:
    return _Builder(spec, rng).build()
