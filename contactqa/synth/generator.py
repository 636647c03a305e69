"""Orchestration: day by day, merge the agents' contacts in start order, give
them their system identifiers and hand them to the writers."""

from __future__ import annotations

import datetime as dt
import heapq
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .contacts import AgentDayPlanner, ContactPlan, DayClock, SharedState
from .dialogues import QUEUE_NUMBERS
from .evaluations import EVALUATION_COLUMNS, EVALUATORS, REFERENCE_EVALUATOR, EvaluatedContact, score_rows
from .options import FAULT_CODES, GenerateOptions, GenerateSummary, validate_options
from .people import Agent, build_directory
from .rand import rng_for
from .writers import (
    CdrDayWriter, CsvFile, JsonlDayWriter, TelegramExportWriter, TranscriptWriter, telegram_text_entities,
)

AGENT_COLUMNS = ("agent_id", "full_name", "email", "team", "supervisor_email", "locale", "extension")
ACTION_COLUMNS = ("contact_id", "agent_id", "at", "action", "detail")
GT_FAULT_COLUMNS = ("contact_id", "channel", "fault_code")
GT_CONTACT_COLUMNS = ("contact_id", "channel", "source_system", "agent_id", "direction", "language", "topic", "scenario", "fault_codes")

EVALUATION_SHARE = 0.05
HUMAN_SLIP_RATE = 0.07
CALIBRATION_SIZE = 5
PROGRESS_EVERY = 1000


@dataclass
class _Counters:
    call_seq: int = 0
    pjsip_seq: int = 0x1A
    tg_message_id: int = 1000
    chat_seq: int = 0
    evaluation_seq: int = 0


@dataclass
class _Calibration:
    picks: list[EvaluatedContact] = field(default_factory=list)
    fallback: list[EvaluatedContact] = field(default_factory=list)


def _english_probabilities(agents: list[Agent], russian_share: float) -> dict[str, float]:
    """Per-agent chance of an English contact so the run's English share matches 1 - russian_share."""
    english_only = [a for a in agents if a.name.origin == "en"]
    bilingual = [a for a in agents if a.locale == "en" and a.name.origin != "en"]
    wanted = (1.0 - russian_share) * len(agents) - len(english_only)
    p_bilingual = min(1.0, max(0.0, wanted / len(bilingual))) if bilingual else 0.0
    probs: dict[str, float] = {}
    for a in agents:
        if a.name.origin == "en":
            probs[a.agent_id] = 1.0
        elif a.locale == "en":
            probs[a.agent_id] = p_bilingual
        else:
            probs[a.agent_id] = 0.0
    return probs


class _Run:
    def __init__(self, out_dir: Path, opts: GenerateOptions, progress: Callable[[int], None] | None) -> None:
        self.out = out_dir
        self.opts = opts
        self.progress = progress
        self.landing = out_dir / "landing"
        self.gt_dir = out_dir / "ground_truth"
        self.summary = GenerateSummary(
            faults_injected={code: 0 for code in FAULT_CODES}, landing_dir=self.landing,
            ground_truth_path=self.gt_dir / "faults.csv",
        )
        self.counters = _Counters()
        self.calibration = _Calibration()
        self.eval_rng = rng_for(opts.seed, "evaluations")
        self.export_rng = rng_for(opts.seed, "telegram-export")
        self.agents, self.teams = build_directory(opts.seed, opts.agents, opts.teams, opts.russian_share, opts.email_domain)
        self.summary.agents = len(self.agents)
        total = opts.total_contacts
        expected_chats = total * opts.chat_share
        tg_cap = min(opts.telegram_max_conversations, max(0, round(expected_chats * opts.telegram_share * 1.2) + 5))
        tg_expected = min(expected_chats * opts.telegram_share, opts.telegram_max_conversations)
        # A Telegram chat has at most one conversation a day: spread the chats over ~2.5 visits each.
        tg_pool = max(1, math.ceil(tg_expected / max(1.0, min(opts.days, 2.5)) * 1.3))
        tg_prob = min(opts.telegram_share, opts.telegram_max_conversations / expected_chats) if expected_chats else 0.0
        self.shared = SharedState(
            opts=opts, english_prob=_english_probabilities(self.agents, opts.russian_share),
            customer_pool=max(200, total), tg_pool=tg_pool, tg_prob=tg_prob, tg_cap=tg_cap,
            fault_rates=opts.effective_fault_rates(),
        )
        self.calibration_prob = min(1.0, 10.0 / max(1, opts.agents * opts.contacts_per_agent_per_day))

    # --- files -------------------------------------------------------------
    def _add_file(self, path: Path) -> None:
        self.summary.files.append(path)

    def _open_global(self) -> None:
        d = self.landing
        self.evaluations = CsvFile(d / "evaluations" / "evaluations.csv", EVALUATION_COLUMNS)
        self.gt_faults = CsvFile(self.gt_dir / "faults.csv", GT_FAULT_COLUMNS)
        self.gt_contacts = CsvFile(self.gt_dir / "contacts.csv", GT_CONTACT_COLUMNS)
        self.transcripts = TranscriptWriter(d / "telephony" / "transcripts", self.opts.transcript_layout, self._add_file)
        self.telegram = TelegramExportWriter(
            d / "chats" / "telegram" / "result.json", self.out / ".synth-tmp" / "telegram", self.shared.tg_pool
        )
        directory = CsvFile(d / "directory" / "agents.csv", AGENT_COLUMNS)
        for a in self.agents:
            directory.row([a.agent_id, a.full_name, a.email, a.team, a.supervisor_email, a.locale, a.extension])
        directory.close()
        self._add_file(directory.path)

    def _open_day(self, date: dt.date) -> None:
        d = self.landing
        self.cdr = CdrDayWriter(d / "telephony" / "cdr" / f"Master-{date.isoformat()}.csv")
        self.chats = JsonlDayWriter(d / "chats" / "jsonl" / f"chats-{date.isoformat()}.jsonl")
        self.actions = CsvFile(d / "actions" / f"actions-{date.isoformat()}.csv", ACTION_COLUMNS)
        self.transcripts.start_day(date)
        for path in (self.cdr.path, self.chats.path, self.actions.path):
            self._add_file(path)

    def _close_day(self) -> None:
        self.cdr.close()
        self.chats.close()
        self.actions.close()
        self.transcripts.end_day()

    # --- the run -------------------------------------------------------------
    def run(self) -> GenerateSummary:
        self._open_global()
        tz = self.opts.tz()
        written = 0
        for day_index in range(self.opts.days):
            date = self.opts.start_date + dt.timedelta(days=day_index)
            clock = DayClock(date, tz)
            self.shared.tg_used_today.clear()
            self._open_day(date)
            planners = [AgentDayPlanner(self.shared, a, day_index, clock).plans() for a in self.agents]
            for plan in heapq.merge(*planners, key=lambda p: p.start_s):
                self.cdr.release_until(clock.epoch(plan.start_s))
                self._write_contact(plan, clock)
                written += 1
                if self.progress is not None and written % PROGRESS_EVERY == 0:
                    self.progress(written)
            self._close_day()
        self._write_calibration()
        self.telegram.finish(
            about="Here is the data you requested. Remember: Telegram is ad free, it doesn't sell your data.",
            personal_information={
                "user_id": 7_700_000_001, "first_name": self.opts.company_en, "last_name": "Support",
                "phone_number": "+7 727 356 0000", "username": "@" + self.opts.company_en.lower() + "_support",
                "bio": "Official support account",
            },
        )
        shutil.rmtree(self.out / ".synth-tmp", ignore_errors=True)
        self.summary.telegram_dialogs = self.telegram.chat_count
        self._add_file(self.telegram.path)
        for f in (self.evaluations, self.gt_faults, self.gt_contacts):
            f.close()
            self._add_file(f.path)
        if self.progress is not None:
            self.progress(written)
        return self.summary

    def _write_contact(self, plan: ContactPlan, clock: DayClock) -> None:
        if plan.channel == "voice":
            contact_id = self._write_voice(plan, clock)
            self.summary.voice_calls += 1
        elif plan.source == "telegram":
            contact_id = self._write_telegram(plan, clock)
            self.summary.telegram_chats += 1
        else:
            contact_id = self._write_chat(plan, clock)
            self.summary.chats += 1
        self.summary.contacts += 1
        for at, action, detail in plan.actions:
            self.actions.row([contact_id, plan.agent.agent_id, clock.iso(at), action, detail])
        codes = [c for c in FAULT_CODES if c in plan.faults]
        for code in codes:
            self.gt_faults.row([contact_id, plan.channel, code])
            self.summary.faults_injected[code] += 1
        scenario = plan.scenario.name if plan.disposition == "ANSWERED" else "unanswered"
        self.gt_contacts.row([
            contact_id, plan.channel, plan.source, plan.agent.agent_id, plan.direction, plan.language,
            plan.topic.code, scenario, ";".join(codes),
        ])
        if plan.disposition == "ANSWERED":
            self._maybe_evaluate(plan, contact_id, clock)

    # --- voice -------------------------------------------------------------------
    def _write_voice(self, plan: ContactPlan, clock: DayClock) -> str:
        c = self.counters
        c.call_seq += 1
        start_epoch = clock.epoch(plan.start_s)
        uniqueid = f"{start_epoch}.{c.call_seq}"
        trunk = f"PJSIP/trunk-{c.pjsip_seq:08x}"
        agent_chan = f"PJSIP/{plan.agent.extension}-{c.pjsip_seq + 1:08x}"
        c.pjsip_seq += 2
        cust = plan.customer
        queue = plan.topic.queue
        if plan.direction == "inbound":
            # Kazakhstan carriers rarely pass a caller name: most CLIDs repeat the number.
            name = cust.name.full if self._cnam(cust.index) else cust.cli
            row = dict(
                accountcode=queue, src=cust.cli, dst=QUEUE_NUMBERS[queue], dcontext="from-trunk",
                clid=f'"{name}" <{cust.cli}>', channel=trunk, dstchannel=agent_chan, lastapp="Queue",
                lastdata=f"{queue},tT,,,300",
            )
        else:
            row = dict(
                accountcode=queue, src=plan.agent.extension, dst=cust.phone, dcontext="from-internal",
                clid=f'"{plan.agent.full_name}" <{plan.agent.extension}>', channel=agent_chan, dstchannel=trunk,
                lastapp="Dial", lastdata=f"PJSIP/{cust.phone}@trunk,60",
            )
        end_epoch = clock.epoch(plan.end_s)
        answered = plan.answer_s is not None
        row.update(
            start=clock.local(plan.start_s),
            answer=clock.local(plan.answer_s) if answered else "",  # type: ignore[arg-type]
            end=clock.local(plan.end_s),
            duration=end_epoch - start_epoch,
            billsec=end_epoch - clock.epoch(plan.answer_s) if answered else 0,  # type: ignore[arg-type]
            disposition=plan.disposition, amaflags="DOCUMENTATION", uniqueid=uniqueid, userfield=plan.topic.code,
        )
        self.cdr.add(end_epoch, row)
        if answered:
            self.summary.answered_calls += 1
            self.transcripts.write({
                "call_id": uniqueid,
                "language": plan.language,
                "started_at": clock.iso(plan.answer_s),  # type: ignore[arg-type]
                "duration_ms": (end_epoch - clock.epoch(plan.answer_s)) * 1000,  # type: ignore[arg-type]
                "utterances": [
                    {"speaker": t.speaker, "start_ms": int(t.start), "end_ms": int(t.end), "text": t.text} for t in plan.turns
                ],
            })
        return uniqueid

    def _cnam(self, customer_index: int) -> bool:
        return customer_index % 5 == 0

    # --- chats -------------------------------------------------------------------
    def _write_chat(self, plan: ContactPlan, clock: DayClock) -> str:
        self.counters.chat_seq += 1
        conv_id = f"chat-{clock.date.strftime('%Y%m%d')}-{self.counters.chat_seq:06d}"
        for t in plan.turns:
            msg: dict[str, object] = {
                "conversation_id": conv_id, "agent_id": plan.agent.agent_id, "sender": t.speaker,
                "sent_at": clock.iso(t.start), "text": t.text,
            }
            if "queue" not in plan.omit_fields:
                msg["queue"] = plan.topic.queue
            if "topic" not in plan.omit_fields:
                msg["topic"] = plan.topic.code
            if "customer_id" not in plan.omit_fields:
                msg["customer_id"] = plan.customer.customer_id
            self.chats.write(msg)
        return conv_id

    def _write_telegram(self, plan: ContactPlan, clock: DayClock) -> str:
        cust, agent = plan.customer, plan.agent
        chat_index = plan.tg_chat_index
        assert chat_index is not None
        chat_id = cust.tg_chat_id
        chat_name = None if cust.tg_deleted else cust.tg_display_name
        first_id = self.counters.tg_message_id
        ids: list[int] = []
        for i, t in enumerate(plan.turns):
            msg_id = self.counters.tg_message_id
            self.counters.tg_message_id += 1
            ids.append(msg_id)
            if t.speaker == "agent":
                sender, sender_id = agent.full_name, f"user{agent.tg_user_id}"
            else:
                sender, sender_id = (None if cust.tg_deleted else cust.tg_display_name), f"user{chat_id}"
            msg: dict[str, object] = {
                "id": msg_id, "type": "message", "date": clock.local_iso(t.start),
                "date_unixtime": str(clock.epoch(t.start)), "from": sender, "from_id": sender_id,
            }
            rng = self.export_rng
            if t.speaker == "agent" and i > 0 and rng.random() < 0.03:
                edited = t.start + rng.uniform(10, 120)
                msg["edited"] = clock.local_iso(edited)
                msg["edited_unixtime"] = str(clock.epoch(edited))
            if i > 0 and plan.turns[i - 1].speaker != t.speaker and rng.random() < 0.05:
                msg["reply_to_message_id"] = ids[i - 1]
            msg["text"] = t.text
            msg["text_entities"] = telegram_text_entities(t.text)
            self.telegram.add(chat_index, chat_name, chat_id, msg)
            if plan.pinned_turn == i:
                pin_id = self.counters.tg_message_id
                self.counters.tg_message_id += 1
                at = t.start + 3
                self.telegram.add(chat_index, chat_name, chat_id, {
                    "id": pin_id, "type": "service", "date": clock.local_iso(at), "date_unixtime": str(clock.epoch(at)),
                    "actor": agent.full_name, "actor_id": f"user{agent.tg_user_id}", "action": "pin_message",
                    "message_id": msg_id, "text": "", "text_entities": [],
                })
        return f"tg-{chat_id}-{first_id}"

    # --- evaluations -----------------------------------------------------------------
    def _next_evaluation_id(self) -> str:
        self.counters.evaluation_seq += 1
        return f"EV-{self.counters.evaluation_seq:07d}"

    def _maybe_evaluate(self, plan: ContactPlan, contact_id: str, clock: DayClock) -> None:
        rng = self.eval_rng
        record = EvaluatedContact(contact_id, plan.channel, plan.topic.code, plan.faults, clock.epoch(plan.end_s),
                                  plan.source)
        cal = self.calibration
        if len(cal.fallback) < CALIBRATION_SIZE:
            cal.fallback.append(record)
        roll_cal = rng.random()
        if len(cal.picks) < CALIBRATION_SIZE and roll_cal < self.calibration_prob:
            # Calibration is more useful on contacts with something to argue about.
            if plan.faults or len(cal.picks) >= 2:
                cal.picks.append(record)
        if rng.random() >= EVALUATION_SHARE:
            return
        evaluator = rng.choice(EVALUATORS)
        when = self._evaluation_time(rng, clock.epoch(plan.end_s))
        for row in score_rows(rng, self._next_evaluation_id(), record, evaluator, when, HUMAN_SLIP_RATE):
            self.evaluations.row(row)

    def _evaluation_time(self, rng, after_epoch: float) -> str:  # type: ignore[no-untyped-def]
        tz = self.opts.tz()
        base = dt.datetime.fromtimestamp(after_epoch, tz) + dt.timedelta(days=rng.randint(1, 4))
        moment = base.replace(hour=rng.randint(9, 17), minute=rng.randrange(60), second=rng.randrange(60))
        return moment.isoformat()

    def _write_calibration(self) -> None:
        cal = self.calibration
        picks = list(cal.picks)
        for rec in cal.fallback:
            if len(picks) >= CALIBRATION_SIZE:
                break
            if rec.contact_id not in {p.contact_id for p in picks}:
                picks.append(rec)
        if not picks:
            return
        session = f"CAL-{self.opts.start_date:%Y-%m}-01"
        rng = rng_for(self.opts.seed, "calibration")
        tz = self.opts.tz()
        day = self.opts.start_date + dt.timedelta(days=self.opts.days + 1)
        for rec in picks:
            for evaluator in (*EVALUATORS, REFERENCE_EVALUATOR):
                reference = evaluator == REFERENCE_EVALUATOR
                when = dt.datetime.combine(day, dt.time(15, rng.randrange(60), rng.randrange(60)), tzinfo=tz).isoformat()
                slip = 0.02 if reference else 0.12
                for row in score_rows(rng, self._next_evaluation_id(), rec, evaluator, when, slip, session, reference):
                    self.evaluations.row(row)


def generate(out_dir: Path, opts: GenerateOptions, progress: Callable[[int], None] | None = None) -> GenerateSummary:
    """Write a synthetic contact centre under out_dir; see the package docstring for the layout."""
    validate_options(opts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _Run(out_dir, opts, progress).run()

