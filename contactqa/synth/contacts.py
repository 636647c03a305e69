"""Planning one agent's working day: when contacts happen, who calls about
what, the dialogue, its faults and its timing.

Each agent-day is a lazy generator yielding contacts in start order; the
orchestrator merges all agents of a day, so memory holds one pending contact
per agent, never the day.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Iterator

from .dialogues import (
    BANKS, INBOUND_TOPICS, OUTBOUND_TOPICS, DialogueSpec, PlannedAction, ScenarioSpec, TopicSpec, Turn,
    build_dialogue,
)
from .faults import SLOW_REPLY_MAX_S, SLOW_REPLY_MIN_S, draw_faults
from .options import GenerateOptions
from .people import Agent, Customer, customer, transliterate
from .phrases_en import MONTHS as MONTHS_EN
from .phrases_ru import MONTHS_GEN as MONTHS_RU
from .rand import card_number, lognormal_clamped, rng_for
from .textkit import Voice, asr_style, typed_style, word_count

WORK_START_H = 9
WORK_END_H = 21
# Relative contact volume by hour of day: a late-morning peak and an after-lunch one.
HOURLY_WEIGHTS: dict[int, float] = {
    9: 0.75, 10: 1.0, 11: 1.1, 12: 0.9, 13: 0.8, 14: 1.0, 15: 1.05, 16: 0.95, 17: 0.85, 18: 0.7, 19: 0.5, 20: 0.35,
}
REPEAT_CONTACT_RATE = 0.08
TG_CUSTOMER_BASE = 1_000_000_000  # Telegram customers live in their own index range
_INBOUND_BY_CODE = {t.code: t for t in INBOUND_TOPICS}
_INBOUND_CODES = frozenset(_INBOUND_BY_CODE)
# Stages whose wording the QA rules look for; ASR noise there stays recognisable.
_KEY_STAGES = frozenset({"opening", "closing", "ident_q", "ident_ok", "solution", "end", "anything_else"})


class DayClock:
    """Local wall clock of one day.

    The UTC offset is taken at noon: DST changes happen at night, outside
    the 09:00-21:00 working hours, so one offset holds for every contact.
    """

    def __init__(self, date: dt.date, tz: dt.tzinfo) -> None:
        self.date = date
        noon = dt.datetime.combine(date, dt.time(12), tzinfo=tz)
        offset = noon.utcoffset() or dt.timedelta(0)
        self.offset_s = int(offset.total_seconds())
        midnight_naive = dt.datetime.combine(date, dt.time(0))
        self.midnight_epoch = int((midnight_naive - dt.datetime(1970, 1, 1)).total_seconds()) - self.offset_s
        sign = "+" if self.offset_s >= 0 else "-"
        hh, mm = divmod(abs(self.offset_s) // 60, 60)
        self.offset_str = f"{sign}{hh:02d}:{mm:02d}"
        self._prefix = date.isoformat()

    def epoch(self, sec: float) -> int:
        return self.midnight_epoch + int(sec)

    def _hms(self, sec: float) -> str:
        s = int(sec)
        if s >= 86400:
            # A contact running past midnight (a late chat): fall back to real date arithmetic.
            return (dt.datetime.combine(self.date, dt.time(0)) + dt.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")
        h, rem = divmod(s, 3600)
        m, s2 = divmod(rem, 60)
        return f"{self._prefix} {h:02d}:{m:02d}:{s2:02d}"

    def local(self, sec: float) -> str:
        return self._hms(sec)

    def local_iso(self, sec: float) -> str:
        return self._hms(sec).replace(" ", "T")

    def iso(self, sec: float) -> str:
        return self.local_iso(sec) + self.offset_str


@dataclass
class TimedTurn:
    speaker: str
    text: str | list[object]
    stage: str
    fault: str | None
    start: float  # voice: ms from answer; chat: seconds since local midnight
    end: float


@dataclass
class ContactPlan:
    start_s: float
    agent: Agent
    channel: str  # voice | chat
    source: str  # asterisk | chat_jsonl | telegram
    direction: str
    language: str
    topic: TopicSpec
    scenario: ScenarioSpec
    customer: Customer
    faults: frozenset[str]
    disposition: str = "ANSWERED"
    answer_s: float | None = None
    end_s: float = 0.0
    turns: list[TimedTurn] = field(default_factory=list)
    actions: list[tuple[float, str, str]] = field(default_factory=list)  # (seconds since midnight, action, detail)
    tg_chat_index: int | None = None
    omit_fields: frozenset[str] = frozenset()
    pinned_turn: int | None = None  # Telegram: agent pins this message


@dataclass
class SharedState:
    """State shared by all agents of a run (deterministic: one thread, fixed merge order)."""

    opts: GenerateOptions
    english_prob: dict[str, float]  # per agent id: chance a contact is in English
    customer_pool: int
    tg_pool: int
    tg_prob: float
    tg_cap: int
    fault_rates: dict[str, float]
    tg_conversations: int = 0
    tg_used_today: set[int] = field(default_factory=set)
    recent: deque[tuple[int, int, str, str]] = field(default_factory=lambda: deque(maxlen=4000))


def _weighted_seconds(rng: random.Random, start_h: int, end_h: int, n: int) -> list[float]:
    hours = [h for h in range(start_h, end_h) if h in HOURLY_WEIGHTS]
    weights = [HOURLY_WEIGHTS[h] for h in hours]
    picks = rng.choices(hours, weights=weights, k=n)
    return sorted(h * 3600 + rng.uniform(0, 3600) for h in picks)


def _part_of_day(sec: float) -> str:
    if sec < 12 * 3600:
        return "morning"
    return "day" if sec < 18 * 3600 else "evening"


def _money(rng: random.Random, lang: str, lo: int, hi: int, step: int) -> tuple[str, int]:
    value = rng.randrange(lo, hi, step)
    text = f"{value:,}".replace(",", " " if lang == "ru" else ",")
    return text, value


def _context(rng: random.Random, plan: ContactPlan, clock: DayClock, opts: GenerateOptions) -> dict[str, str]:
    lang, cust, agent = plan.language, plan.customer, plan.agent
    bank = BANKS[lang]
    v = {k: rng.choice(vals) for k, vals in bank.values.items()}
    if lang == "ru":
        company, company_gen = opts.company_ru, opts.company_ru + "а"
    else:
        company = company_gen = opts.company_en
    cname = cust.name
    latin = lang == "en" and cname.origin != "en"
    first = transliterate(cname.first) if latin else cname.first
    last = transliterate(cname.last) if latin else cname.last
    if lang == "ru":
        formal = f"{cname.first} {cust.patronymic}" if cust.patronymic and rng.random() < 0.7 else cname.first
        full = f"{cname.last} {cname.first} {cust.patronymic}".strip()
    else:
        formal = ("Ms " if cname.female else "Mr ") + last
        full = f"{first} {last}"
    y, m, d = cust.birth_date
    if plan.channel == "chat":
        dob = f"{d:02d}.{m:02d}.{y}"
    elif lang == "ru":
        dob = f"{d} {MONTHS_RU[m - 1]} {y}" + (" года" if rng.random() < 0.5 else "")
    else:
        dob = f"{d} {MONTHS_EN[m - 1]} {y}"
    card = card_number(rng)
    groups = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    amount, _ = _money(rng, lang, 1_500, 250_000, 10)
    fee, _ = _money(rng, lang, 490, 2_990, 100)
    debt, debt_value = _money(rng, lang, 15_000, 900_000, 500)
    tariffs = bank.values["tariff"]
    new_tariff = rng.choice([t for t in tariffs if t != v["tariff"]])
    ticket = f"{rng.randrange(100_000, 1_000_000)}"
    due = clock.date + dt.timedelta(days=rng.randint(3, 14))
    pay_date = f"{due.day} {MONTHS_RU[due.month - 1]}" if lang == "ru" else f"{due.day} {MONTHS_EN[due.month - 1]}"
    ctx = dict(v)
    ctx.update(
        name=agent.name.spoken_first(lang), company=company, company_gen=company_gen,
        cust_first=first, cust_formal=formal, cust_full=full, dob=dob, iin=cust.iin,
        last4=card[-4:], card=groups if plan.channel == "voice" or rng.random() < 0.5 else card,
        amount=amount, fee=fee, debt=debt, new_tariff=new_tariff, ticket=ticket, pay_date=pay_date,
        house=str(rng.randint(1, 180)), flat=str(rng.randint(1, 240)),
    )
    ctx["detail:verify-identity"] = "method=" + rng.choice(("iin", "dob+codeword", "full_name+dob"))
    ctx["detail:unblock-card"] = f"card=*{card[-4:]}"
    ctx["detail:block-card"] = f"card=*{card[-4:]};reason=lost"
    ctx["detail:reissue-card"] = f"card=*{card[-4:]};delivery=" + rng.choice(("courier", "branch"))
    ctx["detail:create-ticket"] = f"ticket=TCK-{ticket}"
    ctx["detail:update-account"] = "field=address;city=" + (transliterate(v["city"]) if lang == "ru" else v["city"])
    ctx["detail:change-tariff"] = f"from={v['tariff']};to={new_tariff}"
    ctx["detail:lookup-balance"] = f"card=*{card[-4:]}"
    ctx["detail:promise-to-pay"] = f"amount={debt_value};currency=KZT;due={due.isoformat()}"
    ctx["detail:lookup-ticket"] = f"ticket=TCK-{ticket}"
    ctx["detail:close-ticket"] = f"ticket=TCK-{ticket};resolution=resolved"
    return ctx


def _voice_timing(rng: random.Random, turns: list[Turn]) -> list[tuple[float, float]]:
    """Utterance spans in ms from answer: ~2.5-3.5 words/s, gaps 0.3-3 s, holds under 10 s."""
    spans: list[tuple[float, float]] = []
    t = rng.uniform(300, 1500)
    prev_speaker = None
    for turn in turns:
        if spans:
            if turn.pause == "silence":
                gap = rng.uniform(45_000, 120_000)
            elif turn.pause == "hold":
                gap = rng.uniform(3_000, 8_500)
            elif turn.speaker == prev_speaker:
                gap = rng.uniform(300, 1_200)
            else:
                gap = rng.uniform(300, 1_800) if rng.random() < 0.85 else rng.uniform(1_800, 3_000)
            t = spans[-1][1] + gap
        rate = rng.uniform(2.5, 3.5)
        dur = word_count(turn.text) / rate * 1000 + rng.uniform(150, 500)
        spans.append((round(t), round(t + dur)))
        prev_speaker = turn.speaker
    return spans


def _chat_timing(rng: random.Random, turns: list[Turn], start_s: float, slow_reply: bool,
                 messenger: bool = False) -> list[float]:
    """Message times: agent replies 5-90 s (first within a minute), customers take their time.

    A slow reply is slow for its channel: 4.5-14.5 min in a live chat, 65-110 min in a messenger,
    whose service level allows an hour (the default scorecard's RESPONSE_TIME_MESSENGER).
    """
    slow_from, slow_to = ((65 * 60, 110 * 60) if messenger else (SLOW_REPLY_MIN_S + 30, SLOW_REPLY_MAX_S - 30))
    pending_flags = []
    pending = False
    for turn in turns:
        pending_flags.append(turn.speaker == "agent" and pending)
        if turn.speaker == "customer":
            pending = True
        elif turn.speaker == "agent":
            pending = False
    slow_idx = -1
    if slow_reply:
        candidates = [i for i, flag in enumerate(pending_flags) if flag]
        slow_idx = rng.choice(candidates)
    times: list[float] = []
    pending_since: float | None = None
    agent_spoke = False
    for i, turn in enumerate(turns):
        if i == 0:
            at = start_s
        else:
            prev, prev_at = turns[i - 1], times[-1]
            if turn.speaker in ("bot", "system"):
                delay = rng.uniform(1, 4)
            elif turn.speaker == "customer":
                if prev.speaker == "customer":
                    delay = rng.uniform(3, 20)
                else:
                    delay = lognormal_clamped(rng, 35, 0.7, 8, 200)
            elif i == slow_idx:
                # 4.5-14.5 min counted from the first unanswered message; customer bursts last < 25 s,
                # so counted from the last one it is still over 4 minutes.
                waited = prev_at - (pending_since if pending_since is not None else prev_at)
                delay = rng.uniform(slow_from, slow_to) - waited
            elif pending_since is not None:
                # Measured from the first unanswered customer message, however the pipeline counts.
                budget = (55 if not agent_spoke else 90) - (prev_at - pending_since)
                delay = rng.uniform(4, max(5, min(90, budget)))
            elif turn.pause == "hold":
                delay = rng.uniform(20, 80)
            else:
                delay = rng.uniform(3, 15)
            at = prev_at + delay
        if turn.speaker == "customer" and pending_since is None:
            pending_since = at
        elif turn.speaker == "agent":
            pending_since = None
            agent_spoke = True
        times.append(at)
    return times


_TG_LINKS = ("https://kenbank.kz/tariffs", "https://kenbank.kz/cards", "https://kenbank.kz/app", "https://kenbank.kz/branches")
_TG_HOTLINE = "+77273560000"


def _telegram_text(rng: random.Random, text: str, lang: str) -> str | list[object]:
    """Occasionally dress an agent message with the entities Telegram exports as lists."""
    roll = rng.random()
    if roll < 0.06:
        prefix = " Подробнее: " if lang == "ru" else " More here: "
        return [text + prefix, {"type": "link", "text": rng.choice(_TG_LINKS)}]
    if roll < 0.09:
        prefix = " Горячая линия: " if lang == "ru" else " Hotline: "
        return [text + prefix, {"type": "phone", "text": _TG_HOTLINE}]
    if roll < 0.14:
        words = text.split(" ")
        if len(words) >= 3:
            i = rng.randrange(1, len(words) - 1)
            return [" ".join(words[:i]) + " ", {"type": "bold", "text": words[i]}, " " + " ".join(words[i + 1 :])]
    return text


class AgentDayPlanner:
    def __init__(self, shared: SharedState, agent: Agent, day_index: int, clock: DayClock) -> None:
        self.shared = shared
        self.opts = shared.opts
        self.agent = agent
        self.day_index = day_index
        self.clock = clock
        self.rng = rng_for(self.opts.seed, "agent-day", agent.index, day_index)

    def plans(self) -> Iterator[ContactPlan]:
        rng, opts = self.rng, self.opts
        weekend = self.clock.date.weekday() >= 5
        start_h = rng.choice((10, 11) if weekend else (9, 9, 10, 11, 12))
        end_h = min(WORK_END_H, start_h + (7 if weekend else 9))
        busy_until = 0.0
        for slot in _weighted_seconds(rng, start_h, end_h, opts.contacts_per_agent_per_day):
            channel = "chat" if rng.random() < opts.chat_share else "voice"
            start = slot
            if channel == "voice" and busy_until + 15 > start:
                # A call can't start while the agent is still on the previous one, unless the day is overfull.
                wrapped = busy_until + rng.uniform(15, 90)
                if wrapped < WORK_END_H * 3600 - 120:
                    start = wrapped
            plan = self._plan(channel, start)
            if channel == "voice":
                busy_until = plan.end_s
            yield plan

    # choosing who and what ------------------------------------------------
    def _language(self) -> str:
        return "en" if self.rng.random() < self.shared.english_prob[self.agent.agent_id] else "ru"

    def _namesake(self, c: Customer) -> bool:
        # A customer sharing the agent's first name would blur whether the agent introduced themself.
        return c.name.first == self.agent.name.first

    def _customer_for(self, language: str, base: int, pool: int) -> Customer:
        rs = self.opts.russian_share
        for _ in range(64):
            c = customer(self.opts.seed, base + self.rng.randrange(pool), rs)
            if c.language == language and not self._namesake(c):
                return c
        return replace(c, language=language)

    def _topic(self, direction: str) -> TopicSpec:
        pool = OUTBOUND_TOPICS if direction == "outbound" else INBOUND_TOPICS
        return self.rng.choices(pool, weights=[t.weight for t in pool], k=1)[0]

    def _plan(self, channel: str, start: float) -> ContactPlan:
        rng, shared, opts = self.rng, self.shared, self.opts
        language = self._language()
        direction = "outbound" if channel == "voice" and rng.random() < opts.outbound_share else "inbound"
        topic = self._topic(direction)
        source = "asterisk" if channel == "voice" else "chat_jsonl"
        tg_index: int | None = None
        cust: Customer | None = None
        if channel == "chat" and shared.tg_conversations < shared.tg_cap and rng.random() < shared.tg_prob:
            for _ in range(8):
                idx = rng.randrange(shared.tg_pool)
                if idx in shared.tg_used_today:
                    continue
                candidate = customer(opts.seed, TG_CUSTOMER_BASE + idx, opts.russian_share)
                if candidate.language == language and not self._namesake(candidate):
                    tg_index, cust, source = idx, candidate, "telegram"
                    shared.tg_used_today.add(idx)
                    shared.tg_conversations += 1
                    break
        if cust is None and direction == "inbound" and shared.recent and rng.random() < REPEAT_CONTACT_RATE:
            # A customer coming back within days about the same thing.
            day, cidx, topic_code, lang = shared.recent[rng.randrange(len(shared.recent))]
            if lang == language and self.day_index - day <= 3 and topic_code in _INBOUND_CODES:
                repeat = customer(opts.seed, cidx, opts.russian_share)
                if not self._namesake(repeat):
                    cust = repeat
                    topic = _INBOUND_BY_CODE[topic_code]
        if cust is None:
            cust = self._customer_for(language, 0, shared.customer_pool)
        if source != "telegram":
            shared.recent.append((self.day_index, cust.index, topic.code, language))
        scenario = rng.choice(topic.scenarios)
        plan = ContactPlan(
            start_s=start, agent=self.agent, channel=channel, source=source, direction=direction,
            language=language, topic=topic, scenario=scenario, customer=cust, faults=frozenset(), tg_chat_index=tg_index,
        )
        faults = draw_faults(rng, channel, topic.code, shared.fault_rates)
        if channel == "voice" and self._unanswered(plan):
            plan.faults = frozenset()
            return plan
        plan.faults = faults
        if channel == "voice":
            self._fill_voice(plan)
        else:
            self._fill_chat(plan)
        return plan

    def _unanswered(self, plan: ContactPlan) -> bool:
        rng = self.rng
        rate = 0.05 if plan.direction == "inbound" else 0.12
        if rng.random() >= rate:
            return False
        if plan.direction == "inbound":
            plan.disposition, ring = "NO ANSWER", rng.uniform(10, 120)
        else:
            plan.disposition = rng.choices(("NO ANSWER", "BUSY", "FAILED"), weights=(0.7, 0.2, 0.1), k=1)[0]
            ring = {"NO ANSWER": rng.uniform(20, 45), "BUSY": rng.uniform(1, 5), "FAILED": rng.uniform(0, 2)}[plan.disposition]
        plan.answer_s = None
        plan.end_s = plan.start_s + ring
        return True

    # dialogue ---------------------------------------------------------------
    def _spec(self, plan: ContactPlan, extra_pairs: int, with_bot: bool, ctx: dict[str, str]) -> DialogueSpec:
        late = "identity_not_verified" in plan.faults and self.rng.random() < 0.3
        return DialogueSpec(
            language=plan.language, channel=plan.channel, direction=plan.direction, topic=plan.topic,
            scenario=plan.scenario, faults=plan.faults,
            voice=Voice(agent_female=plan.agent.female, customer_female=plan.customer.name.female),
            ctx=ctx, part_of_day=_part_of_day(plan.start_s), extra_pairs=extra_pairs, with_bot=with_bot,
            identity_logged_late=late,
        )

    def _protected(self, ctx: dict[str, str]) -> frozenset[str]:
        return frozenset({ctx["name"].lower(), ctx["cust_first"].lower()})

    def _fill_voice(self, plan: ContactPlan) -> None:
        rng = self.rng
        wait = lognormal_clamped(rng, 15, 0.8, 3, 90) if plan.direction == "inbound" else rng.uniform(5, 25)
        plan.answer_s = math.floor(plan.start_s + wait)
        target_talk = lognormal_clamped(rng, 170, 0.55, 60, 690)
        extra = max(0, min(10, round((target_talk - 75) / 18)))
        ctx = _context(rng, plan, self.clock, self.opts)
        dialogue = build_dialogue(self._spec(plan, extra, False, ctx), rng)
        protected = self._protected(ctx)
        texts: list[str] = []
        for turn in dialogue.turns:
            filler = 0.3 if turn.speaker == "customer" else 0.18
            key_stage = turn.stage in _KEY_STAGES
            turn.text = asr_style(turn.text, plan.language, rng, protected, slips=turn.fault is None,
                                  filler_rate=filler, generic_slips=not key_stage)
            texts.append(turn.text)
        spans = _voice_timing(rng, dialogue.turns)
        talk_ms = spans[-1][1] + rng.uniform(500, 3000)
        plan.end_s = plan.answer_s + math.ceil(talk_ms / 1000)
        plan.turns = [TimedTurn(t.speaker, t.text, t.stage, t.fault, s, e) for t, (s, e) in zip(dialogue.turns, spans)]
        # An action lands between the end of the turn that triggers it and the next turn.
        bounds = [(plan.answer_s + s / 1000, plan.answer_s + nxt / 1000)
                  for (_, s), nxt in zip(spans, [sp[0] for sp in spans[1:]] + [talk_ms])]
        self._place_actions(plan, dialogue.actions, bounds, late_at=float(plan.end_s))

    def _place_actions(self, plan: ContactPlan, actions: list[PlannedAction],
                       bounds: list[tuple[float, float]], late_at: float) -> None:
        late_verify = "identity_not_verified" in plan.faults
        for pa in actions:
            lo, hi = bounds[pa.turn_index]
            if late_verify and pa.action == "verify-identity":
                # The late variant: the check is logged only after the account was already changed.
                at = late_at
            else:
                at = lo + self.rng.uniform(0.1, 0.6) * max(0.0, hi - lo)
            plan.actions.append((at, pa.action, pa.detail))
        plan.actions.sort(key=lambda a: a[0])

    def _fill_chat(self, plan: ContactPlan) -> None:
        rng = self.rng
        telegram = plan.source == "telegram"
        extra = rng.choice((0, 0, 1, 1, 2, 3))
        ctx = _context(rng, plan, self.clock, self.opts)
        dialogue = build_dialogue(self._spec(plan, extra, not telegram, ctx), rng)
        protected = self._protected(ctx)
        angry = plan.topic.code == "complaint"
        for turn in dialogue.turns:
            if turn.speaker in ("agent", "customer"):
                # Typos only where they cannot blur what QA checks (greeting, name, ID questions, closing, evidence).
                typo_ok = turn.speaker == "customer" or turn.stage in ("clarify", "followup", "hold", "ack", "anything_else")
                turn.text = typed_style(turn.text, turn.speaker, rng, protected, angry=angry, allow_typos=typo_ok)
        times = _chat_timing(rng, dialogue.turns, plan.start_s, "slow_reply" in plan.faults, messenger=telegram)
        plan.end_s = times[-1]
        for turn, at in zip(dialogue.turns, times):
            text: str | list[object] = turn.text
            if telegram and turn.speaker == "agent" and turn.fault is None:
                text = _telegram_text(rng, turn.text, plan.language)
            plan.turns.append(TimedTurn(turn.speaker, text, turn.stage, turn.fault, at, at))
        bounds = list(zip(times, times[1:] + [times[-1] + rng.uniform(20, 60)]))
        self._place_actions(plan, dialogue.actions, bounds, late_at=times[-1] + rng.uniform(30, 120))
        plan.end_s = max(plan.end_s, max((a[0] for a in plan.actions), default=plan.end_s))
        if telegram:
            solution = [i for i, t in enumerate(plan.turns) if t.stage == "solution"]
            if solution and rng.random() < 0.05:
                plan.pinned_turn = solution[0]
        elif rng.random() < 0.15:
            plan.omit_fields = frozenset(rng.sample(("queue", "topic", "customer_id"), rng.randint(1, 3)))
