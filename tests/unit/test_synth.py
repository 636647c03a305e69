"""The synthetic contact centre: formats, determinism, and ground truth that is really in the data."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contactqa.synth import FAULT_CODES, GenerateOptions, generate
from contactqa.synth.faults import (
    IDENTITY_TOPICS, LONG_SILENCE_MIN_S, NORMAL_GAP_MAX_S, NORMAL_REPLY_MAX_S, SLOW_REPLY_MIN_S,
    applicable_faults, find_card_numbers, has_rude_marker, normalise,
)
from contactqa.synth.people import ENGLISH_FIRST, transliterate
from contactqa.synth.rand import luhn_valid

SMALL = GenerateOptions(seed=7, agents=6, teams=2, days=3, contacts_per_agent_per_day=10,
                        start_date=dt.date(2026, 11, 6), chat_share=0.45, telegram_share=0.5)
MEDIUM = GenerateOptions(seed=11, agents=16, teams=3, days=4, contacts_per_agent_per_day=12,
                         chat_share=0.5, telegram_share=0.5, russian_share=0.6,
                         fault_rates={code: 0.2 for code in FAULT_CODES})

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
ACCOUNT_ACTIONS = {"unblock-card", "block-card", "reissue-card", "update-account", "promise-to-pay"}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth-small")
    generate(out, SMALL)
    return out


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("synth-medium")
    summary = generate(out, MEDIUM)
    return out, summary, load(out)


# --- loading everything back, the way a connector would ------------------------


@dataclass
class Contact:
    contact_id: str
    channel: str
    source: str
    agent_id: str
    direction: str
    language: str
    topic: str
    scenario: str
    faults: set[str]
    cdr: dict[str, str] | None = None
    # (speaker, start_s, end_s, text) in time order
    turns: list[tuple[str, float, float, str]] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)  # (at, action)

    def agent_texts(self) -> list[str]:
        return [t[3] for t in self.turns if t[0] == "agent"]


CDR_COLUMNS = ["accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
               "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield"]


def read_cdr(out: Path) -> list[dict[str, str]]:
    rows = []
    for path in sorted((out / "landing/telephony/cdr").glob("Master-*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            rows.extend(dict(zip(CDR_COLUMNS, r)) for r in csv.reader(fh))
    return rows


def read_telegram(out: Path) -> dict:  # type: ignore[type-arg]
    with open(out / "landing/chats/telegram/result.json", encoding="utf-8") as fh:
        return json.load(fh)


def tg_text(text: object) -> str:
    if isinstance(text, str):
        return text
    return "".join(p if isinstance(p, str) else p["text"] for p in text)  # type: ignore[union-attr]


def load(out: Path) -> dict[str, Contact]:
    contacts: dict[str, Contact] = {}
    with open(out / "ground_truth/contacts.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            contacts[r["contact_id"]] = Contact(
                r["contact_id"], r["channel"], r["source_system"], r["agent_id"], r["direction"], r["language"],
                r["topic"], r["scenario"], set(filter(None, r["fault_codes"].split(";"))),
            )
    for row in read_cdr(out):
        contacts[row["uniqueid"]].cdr = row
    for path in sorted((out / "landing/telephony/transcripts").glob("*.jsonl")):
        for line in open(path, encoding="utf-8"):
            doc = json.loads(line)
            contacts[doc["call_id"]].turns = [
                (u["speaker"], u["start_ms"] / 1000, u["end_ms"] / 1000, u["text"]) for u in doc["utterances"]
            ]
    for path in sorted((out / "landing/chats/jsonl").glob("*.jsonl")):
        for line in open(path, encoding="utf-8"):
            msg = json.loads(line)
            at = dt.datetime.fromisoformat(msg["sent_at"]).timestamp()
            contacts[msg["conversation_id"]].turns.append((msg["sender"], at, at, msg["text"]))
    agents = {r["agent_id"]: r for r in csv.DictReader(open(out / "landing/directory/agents.csv", encoding="utf-8"))}
    by_name = {a["full_name"]: a["agent_id"] for a in agents.values()}
    for chat in read_telegram(out)["chats"]["list"]:
        current, last_at = None, None
        for msg in chat["messages"]:
            at = float(msg["date_unixtime"])
            if msg["type"] != "message":
                continue
            # The documented rule: a new conversation starts after a 4-hour gap.
            if last_at is None or at - last_at > 4 * 3600:
                current = f"tg-{chat['id']}-{msg['id']}"
            last_at = at
            speaker = "agent" if msg["from"] in by_name else "customer"
            contacts[current].turns.append((speaker, at, at, tg_text(msg["text"])))
    for path in sorted((out / "landing/actions").glob("*.csv")):
        for r in csv.DictReader(open(path, encoding="utf-8")):
            contacts[r["contact_id"]].actions.append((r["at"], r["action"]))
    return contacts


# --- options -------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"agents": 0}, "agents must be a positive integer"),
        ({"days": -1}, "days must be a positive integer"),
        ({"contacts_per_agent_per_day": 2.5}, "contacts_per_agent_per_day"),
        ({"teams": 9, "agents": 3}, "teams"),
        ({"chat_share": 1.5}, "chat_share"),
        ({"russian_share": -0.1}, "russian_share"),
        ({"timezone": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"transcript_layout": "weekly"}, "transcript_layout"),
        ({"fault_rates": {"no_greting": 0.1}}, "unknown fault code"),
        ({"fault_rates": {"rude_phrase": 2}}, "rude_phrase"),
    ],
)
def test_bad_options_raise_clear_value_error(tmp_path: Path, changes: dict, message: str) -> None:  # type: ignore[type-arg]
    opts = GenerateOptions(**{**SMALL.__dict__, **changes})
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, opts)
    assert not (tmp_path / "landing").exists()


# --- determinism -----------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(small: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, SMALL)
    assert _tree(again) == _tree(small)
    other = tmp_path / "other"
    generate(other, GenerateOptions(**{**SMALL.__dict__, "seed": 8}))
    first_day = "landing/telephony/cdr/Master-2026-11-06.csv"
    assert _tree(other)[first_day] != _tree(small)[first_day]


def test_summary_counts_and_layout(tmp_path: Path) -> None:
    seen: list[int] = []
    opts = GenerateOptions(**{**SMALL.__dict__, "agents": 20, "days": 6})
    summary = generate(tmp_path, opts, progress=seen.append)
    assert summary.contacts == opts.total_contacts == summary.voice_calls + summary.chats + summary.telegram_chats
    assert seen and seen[-1] == summary.contacts and seen == sorted(seen)
    assert summary.agents == 20
    assert summary.landing_dir == tmp_path / "landing"
    assert summary.ground_truth_path == tmp_path / "ground_truth" / "faults.csv"
    assert all(p.exists() for p in summary.files)
    for day in range(6):
        date = (opts.start_date + dt.timedelta(days=day)).isoformat()
        for rel in (f"telephony/cdr/Master-{date}.csv", f"telephony/transcripts/{date}.jsonl",
                    f"chats/jsonl/chats-{date}.jsonl", f"actions/actions-{date}.csv"):
            assert (summary.landing_dir / rel).exists(), rel
    gt = list(csv.DictReader(open(tmp_path / "ground_truth/faults.csv", encoding="utf-8")))
    assert sum(summary.faults_injected.values()) == len(gt)
    assert not (tmp_path / ".synth-tmp").exists()


# --- Asterisk CDR ------------------------------------------------------------------


def test_cdr_is_asterisk_cdr_csv(small: Path) -> None:
    contacts = load(small)
    rows = []
    for path in sorted((small / "landing/telephony/cdr").glob("Master-*.csv")):
        raw = path.read_text(encoding="utf-8")
        assert not raw.startswith('"accountcode"')
        for line in raw.splitlines():
            assert line.startswith('"') and line.endswith('"')
        with open(path, encoding="utf-8", newline="") as fh:
            day_rows = list(csv.reader(fh))
        assert all(len(r) == 18 for r in day_rows)
        ends = [r[11] for r in day_rows]
        assert ends == sorted(ends), "Asterisk posts CDRs at hang-up: rows are in end order"
        rows.extend(dict(zip(CDR_COLUMNS, r)) for r in day_rows)
    assert rows
    assert len({r["uniqueid"] for r in rows}) == len(rows)
    fmt = "%Y-%m-%d %H:%M:%S"
    unanswered = 0
    for r in rows:
        assert re.fullmatch(r"\d{10}\.\d+", r["uniqueid"])
        start, end = dt.datetime.strptime(r["start"], fmt), dt.datetime.strptime(r["end"], fmt)
        assert 9 <= start.hour < 21
        assert int(r["duration"]) == (end - start).total_seconds()
        assert r["amaflags"] == "DOCUMENTATION"
        assert r["userfield"] == contacts[r["uniqueid"]].topic
        if r["disposition"] == "ANSWERED":
            answer = dt.datetime.strptime(r["answer"], fmt)
            assert start <= answer <= end
            assert int(r["billsec"]) == (end - answer).total_seconds() > 0
        else:
            unanswered += 1
            assert r["disposition"] in {"NO ANSWER", "BUSY", "FAILED"}
            assert r["answer"] == "" and r["billsec"] == "0"
        # uniqueid carries the call's start as epoch seconds
        offset = dt.timedelta(hours=5)  # Asia/Almaty
        assert int(r["uniqueid"].split(".")[0]) == int((start - offset).replace(tzinfo=dt.timezone.utc).timestamp())
        if r["lastapp"] == "Queue":
            assert r["dcontext"] == "from-trunk" and r["channel"].startswith("PJSIP/trunk-")
            assert re.fullmatch(r"\+?7\d{10}", r["src"]) and r["clid"].endswith(f"<{r['src']}>")
            assert r["lastdata"].startswith(r["accountcode"] + ",")
        else:
            assert r["lastapp"] == "Dial" and r["dcontext"] == "from-internal"
            assert r["dstchannel"].startswith("PJSIP/trunk-") and r["lastdata"] == f"PJSIP/{r['dst']}@trunk,60"
    assert 0 < unanswered < len(rows) * 0.2


def test_transcripts_exist_exactly_for_answered_calls(small: Path) -> None:
    answered = {r["uniqueid"]: r for r in read_cdr(small) if r["disposition"] == "ANSWERED"}
    docs = [json.loads(l) for p in sorted((small / "landing/telephony/transcripts").glob("*.jsonl")) for l in open(p, encoding="utf-8")]
    assert {d["call_id"] for d in docs} == set(answered)
    assert len(docs) == len(answered)
    for d in docs:
        row = answered[d["call_id"]]
        assert d["language"] in {"ru", "en"}
        assert d["started_at"] == row["answer"].replace(" ", "T") + "+05:00"
        assert d["duration_ms"] == int(row["billsec"]) * 1000
        prev_end = 0
        for u in d["utterances"]:
            assert u["speaker"] in {"agent", "customer"}
            assert prev_end <= u["start_ms"] < u["end_ms"] <= d["duration_ms"]
            words = len(u["text"].split())
            if words >= 6:  # speech rate ~2.5-3.5 words/s; very short turns are dominated by onset time
                assert 2.0 <= words / ((u["end_ms"] - u["start_ms"]) / 1000) <= 3.6
            prev_end = u["end_ms"]


def test_per_call_transcript_layout(tmp_path: Path) -> None:
    opts = GenerateOptions(**{**SMALL.__dict__, "transcript_layout": "per_call", "days": 1})
    generate(tmp_path, opts)
    answered = {r["uniqueid"] for r in read_cdr(tmp_path) if r["disposition"] == "ANSWERED"}
    files = list((tmp_path / "landing/telephony/transcripts/2026-11-06").glob("*.json"))
    assert {f.stem for f in files} == answered
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert doc["call_id"] == files[0].stem and doc["utterances"]


# --- chats ----------------------------------------------------------------------------


def test_generic_chat_jsonl(small: Path) -> None:
    msgs = [json.loads(l) for p in sorted((small / "landing/chats/jsonl").glob("*.jsonl")) for l in open(p, encoding="utf-8")]
    assert msgs
    senders = {m["sender"] for m in msgs}
    assert {"agent", "customer"} <= senders <= {"agent", "customer", "bot", "system"}
    assert "system" in senders or "bot" in senders
    for m in msgs:
        assert m["conversation_id"].startswith("chat-") and re.fullmatch(r"A\d{3,}", m["agent_id"])
        assert ISO_WITH_OFFSET.match(m["sent_at"]) and m["sent_at"].endswith("+05:00")
        assert isinstance(m["text"], str) and m["text"]
    with_all = [m for m in msgs if {"queue", "topic", "customer_id"} <= m.keys()]
    assert 0 < len(with_all) < len(msgs), "queue/topic/customer_id are optional and omitted on some conversations"


def test_telegram_export_shape(medium) -> None:  # type: ignore[no-untyped-def]
    out, summary, contacts = medium
    export = read_telegram(out)
    assert set(export) >= {"about", "chats"} and set(export["chats"]) == {"about", "list"}
    chats = export["chats"]["list"]
    assert len(chats) == summary.telegram_dialogs > 0
    agents = {r["full_name"] for r in csv.DictReader(open(out / "landing/directory/agents.csv", encoding="utf-8"))}
    kinds: set[str] = set()
    ids: list[int] = []
    for chat in chats:
        assert chat["type"] == "personal_chat" and isinstance(chat["id"], int)
        prev = None
        for m in chat["messages"]:
            assert isinstance(m["id"], int) and m["type"] in {"message", "service"}
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", m["date"])
            assert isinstance(m["date_unixtime"], str) and m["date_unixtime"].isdigit()
            local = dt.datetime.fromtimestamp(int(m["date_unixtime"]), dt.timezone(dt.timedelta(hours=5)))
            assert local.strftime("%Y-%m-%dT%H:%M:%S") == m["date"]
            assert prev is None or m["id"] > prev
            prev = m["id"]
            ids.append(m["id"])
            kinds.add(type(m["text"]).__name__)
            assert isinstance(m["text_entities"], list)
            if m["type"] == "service":
                kinds.add("service:" + m["action"])
                assert m["actor"] in agents
                continue
            if isinstance(m["text"], list):
                for piece in m["text"]:
                    if isinstance(piece, dict):
                        kinds.add("entity:" + piece["type"])
                assert [e["text"] for e in m["text_entities"]] == [p if isinstance(p, str) else p["text"] for p in m["text"]]
            if m["from"] is None:
                kinds.add("deleted")
            assert m["from_id"].startswith("user")
            if m["from"] not in agents:
                assert m["from_id"] == f"user{chat['id']}"
    assert len(ids) == len(set(ids))
    assert {"str", "list"} <= kinds and any(k.startswith("entity:") for k in kinds)
    assert "service:pin_message" in kinds
    # Every Telegram conversation in ground truth is found again by the 4-hour rule, and only those.
    tg_truth = {c.contact_id for c in contacts.values() if c.source == "telegram"}
    assert tg_truth and all(contacts[cid].turns for cid in tg_truth)
    assert len(tg_truth) == summary.telegram_chats


def test_telegram_is_capped_and_the_rest_goes_to_jsonl(tmp_path: Path) -> None:
    opts = GenerateOptions(**{**SMALL.__dict__, "chat_share": 1.0, "telegram_share": 1.0, "telegram_max_conversations": 25})
    summary = generate(tmp_path, opts)
    assert 0 < summary.telegram_chats <= 25
    assert summary.chats == summary.contacts - summary.telegram_chats


# --- directory, actions, evaluations ----------------------------------------------------


def test_agent_directory(small: Path) -> None:
    rows = list(csv.DictReader(open(small / "landing/directory/agents.csv", encoding="utf-8")))
    assert list(rows[0]) == ["agent_id", "full_name", "email", "team", "supervisor_email", "locale", "extension"]
    assert [r["agent_id"] for r in rows] == [f"A{i:03d}" for i in range(1, 7)]
    assert [r["extension"] for r in rows] == [str(1001 + i) for i in range(6)]
    for r in rows:
        assert r["email"].isascii() and re.fullmatch(r"[a-z.\-0-9]+@kenbank\.kz", r["email"])
        assert r["supervisor_email"].isascii() and r["locale"] in {"ru", "en"}
    assert len({r["full_name"] for r in rows}) == len(rows)
    teams = defaultdict(set)
    for r in rows:
        teams[r["team"]].add(r["supervisor_email"])
    assert len(teams) == 2 and all(len(s) == 1 for s in teams.values())


def test_actions_lie_within_their_contact(medium) -> None:  # type: ignore[no-untyped-def]
    out, _, contacts = medium
    n = 0
    for c in contacts.values():
        for at, action in c.actions:
            n += 1
            assert ISO_WITH_OFFSET.match(at)
            moment = dt.datetime.fromisoformat(at).timestamp()
            if c.channel == "voice":
                start = dt.datetime.strptime(c.cdr["answer"], "%Y-%m-%d %H:%M:%S").replace(  # type: ignore[index]
                    tzinfo=dt.timezone(dt.timedelta(hours=5))).timestamp()
                end = start + int(c.cdr["billsec"])  # type: ignore[index]
            else:
                start, end = c.turns[0][1], c.turns[-1][1] + 130
            assert start <= moment <= end, (c.contact_id, action)
        if c.scenario == "unanswered":
            assert not c.actions
    assert n


def test_evaluations_and_calibration(medium) -> None:  # type: ignore[no-untyped-def]
    out, _, contacts = medium
    rows = list(csv.DictReader(open(out / "landing/evaluations/evaluations.csv", encoding="utf-8")))
    assert list(rows[0]) == ["evaluation_id", "contact_id", "evaluator_id", "criterion_id", "result", "points",
                             "comment", "evaluated_at", "calibration_session_id", "is_reference"]
    criteria = {"GREETING", "INTRODUCTION", "POLITENESS", "SILENCE", "RESPONSE_TIME", "RESPONSE_TIME_MESSENGER",
                "IDENTITY_VERIFIED", "PII_DISCLOSURE", "CLOSING", "INFO_CORRECT"}
    assert {r["criterion_id"] for r in rows} == criteria
    truth_map = {"GREETING": "no_greeting", "INTRODUCTION": "no_introduction", "POLITENESS": "rude_phrase",
                 "SILENCE": "long_silence", "RESPONSE_TIME": "slow_reply", "RESPONSE_TIME_MESSENGER": "slow_reply",
                 "PII_DISCLOSURE": "card_number_disclosed",
                 "CLOSING": "missing_closing", "IDENTITY_VERIFIED": "identity_not_verified"}
    agree = total = 0
    for r in rows:
        c = contacts[r["contact_id"]]
        assert r["result"] in {"pass", "fail", "na"}
        assert c.scenario != "unanswered"
        assert not (r["criterion_id"] == "SILENCE" and c.channel != "voice")
        assert not (r["criterion_id"] == "RESPONSE_TIME" and (c.channel != "chat" or c.source == "telegram"))
        assert not (r["criterion_id"] == "RESPONSE_TIME_MESSENGER" and c.source != "telegram")
        assert ISO_WITH_OFFSET.match(r["evaluated_at"])
        assert (r["points"] == "") == (r["result"] == "na")
        if r["criterion_id"] in truth_map and r["result"] != "na" and not r["calibration_session_id"]:
            total += 1
            agree += (r["result"] == "fail") == (truth_map[r["criterion_id"]] in c.faults)
    assert total and 0.85 <= agree / total < 1.0
    cal = [r for r in rows if r["calibration_session_id"]]
    assert {r["calibration_session_id"] for r in cal} == {"CAL-2026-11-01"}
    assert len({r["contact_id"] for r in cal}) == 5
    per_contact = defaultdict(set)
    for r in cal:
        per_contact[r["contact_id"]].add((r["evaluator_id"], r["is_reference"]))
    for evaluators in per_contact.values():
        assert evaluators == {("E01", "false"), ("E02", "false"), ("E03", "false"), ("E04", "false"), ("QA-LEAD", "true")}
    by_item = defaultdict(set)
    for r in cal:
        by_item[(r["contact_id"], r["criterion_id"])].add(r["result"])
    assert any(len(results) > 1 for results in by_item.values()), "calibration shows some disagreement"


# --- faults are physically in the data ----------------------------------------------


GREETING_STEMS = ("добр", "здра", "привет", "hello", "hi", "morning", "mourning", "afternoon", "evening", "welcome", "thank")
CLOSING_MARKERS = ("свидания", "всего доброго", "всего хорошего", "хорошего", "за обращение",
                   "спасибо что", "за звонок", "рада была", "рад был", "bye", "goodbye", "have a",
                   "for calling", "thanks for contacting", "thanks for reaching",
                   "take care", "glad i could help")
IDENT_MARKERS = ("иин", "рождения", "кодовое", "фамилию", "фио", "идентиф", "личност",
                 "date of birth", "security word", "iin", "verify")


def _words(text: str) -> list[str]:
    return normalise(text).split()


def _has_greeting(text: str) -> bool:
    return any(w.startswith(GREETING_STEMS) for w in _words(text)) or "good day" in normalise(text)


def _spoken_names(full_name: str) -> set[str]:
    first = full_name.split()[0]
    names = {first.lower(), transliterate(first).lower()}
    names |= {cyr.lower() for latin, _, cyr in ENGLISH_FIRST if latin == first}
    return names


def _reply_delays(c: Contact) -> list[tuple[float, bool]]:
    """(seconds from the first unanswered customer message to the agent's reply, is_first_agent_message)."""
    out, pending, agent_seen = [], None, False
    for speaker, at, _, _ in c.turns:
        if speaker == "customer" and pending is None:
            pending = at
        elif speaker == "agent":
            if pending is not None:
                out.append((at - pending, not agent_seen))
            pending, agent_seen = None, True
    return out


def check_contact(c: Contact, agent_names: dict[str, str]) -> None:
    if c.scenario == "unanswered":
        assert not c.faults and not c.turns
        return
    agent_text = " | ".join(normalise(t) for t in c.agent_texts())
    all_text = " | ".join(t[3] for t in c.turns)
    assert c.faults <= set(applicable_faults(c.channel, c.topic))

    cards = find_card_numbers(" | ".join(c.agent_texts()))
    if "card_number_disclosed" in c.faults:
        assert cards and all(luhn_valid(n) and len(n) == 16 for n in cards)
    else:
        assert not find_card_numbers(all_text), c.contact_id

    assert has_rude_marker(c.agent_texts()) == ("rude_phrase" in c.faults), c.contact_id

    opening = next(t for t in c.agent_texts())
    assert _has_greeting(opening) == ("no_greeting" not in c.faults), (c.contact_id, opening)

    names = _spoken_names(agent_names[c.agent_id])
    said_name = any(w in names for w in _words(" ".join(c.agent_texts())))
    assert said_name == ("no_introduction" not in c.faults), c.contact_id

    last_agent = " ".join(normalise(t) for t in c.agent_texts()[-2:])
    closed = any(m in last_agent for m in CLOSING_MARKERS)
    if "missing_closing" in c.faults:
        assert not closed, (c.contact_id, last_agent)
    else:
        assert any(m in normalise(c.agent_texts()[-1]) for m in CLOSING_MARKERS), c.contact_id

    if c.channel == "voice":
        gaps = [b[1] - a[2] for a, b in zip(c.turns, c.turns[1:])]
        if "long_silence" in c.faults:
            assert any(LONG_SILENCE_MIN_S <= g <= 120 for g in gaps)
        else:
            assert max(gaps) < NORMAL_GAP_MAX_S, c.contact_id
    else:
        delays = _reply_delays(c)
        if "slow_reply" in c.faults:
            # slow for its channel: a live chat's limits are minutes, a messenger's an hour
            assert any(SLOW_REPLY_MIN_S <= d <= 15 * 60 for d, _ in delays) or (
                c.source == "telegram" and any(60 * 60 < d <= 110 * 60 for d, _ in delays)), (c.contact_id, delays)
        else:
            assert all(d <= (60 if first else NORMAL_REPLY_MAX_S) for d, first in delays), (c.contact_id, delays)

    if c.topic in IDENTITY_TOPICS:
        names_in_order = [a for _, a in sorted(c.actions)]
        account = [i for i, a in enumerate(names_in_order) if a in ACCOUNT_ACTIONS]
        verify = [i for i, a in enumerate(names_in_order) if a == "verify-identity"]
        assert account
        verified_first = bool(verify) and verify[0] < account[0]
        asked = any(m in agent_text for m in IDENT_MARKERS)
        if "identity_not_verified" in c.faults:
            assert not verified_first and not asked, c.contact_id
        else:
            assert verified_first and asked, c.contact_id


def test_every_fault_is_visible_and_clean_contacts_are_clean(medium) -> None:  # type: ignore[no-untyped-def]
    out, summary, contacts = medium
    agents = {r["agent_id"]: r["full_name"] for r in csv.DictReader(open(out / "landing/directory/agents.csv", encoding="utf-8"))}
    gt = list(csv.DictReader(open(out / "ground_truth/faults.csv", encoding="utf-8")))
    assert {r["fault_code"] for r in gt} == set(FAULT_CODES)
    for r in gt:
        assert r["fault_code"] in contacts[r["contact_id"]].faults
        assert r["channel"] == contacts[r["contact_id"]].channel
    for c in contacts.values():
        check_contact(c, agents)
    assert any(not c.faults and c.scenario != "unanswered" for c in contacts.values())


@pytest.mark.parametrize("rate, russian_share", [(1.0, 0.5), (0.0, 0.5), (0.3, 0.0), (0.3, 1.0)])
def test_faults_stay_visible_at_extreme_settings(tmp_path: Path, rate: float, russian_share: float) -> None:
    opts = GenerateOptions(seed=2, agents=6, teams=2, days=2, contacts_per_agent_per_day=10, chat_share=0.5,
                           telegram_share=0.5, russian_share=russian_share, fault_rates={c: rate for c in FAULT_CODES})
    generate(tmp_path, opts)
    contacts = load(tmp_path)
    agents = {r["agent_id"]: r["full_name"] for r in csv.DictReader(open(tmp_path / "landing/directory/agents.csv", encoding="utf-8"))}
    for c in contacts.values():
        check_contact(c, agents)
        if c.scenario != "unanswered":
            assert c.language == ("ru" if russian_share == 1.0 else "en" if russian_share == 0.0 else c.language)
            if rate == 1.0:
                assert c.faults == set(applicable_faults(c.channel, c.topic))


def test_fault_rates_are_roughly_respected(medium) -> None:  # type: ignore[no-untyped-def]
    _, _, contacts = medium
    applicable: dict[str, int] = defaultdict(int)
    injected: dict[str, int] = defaultdict(int)
    for c in contacts.values():
        if c.scenario == "unanswered":
            continue
        for code in applicable_faults(c.channel, c.topic):
            applicable[code] += 1
            injected[code] += code in c.faults
    for code in FAULT_CODES:
        rate = injected[code] / applicable[code]
        assert 0.12 <= rate <= 0.28, (code, rate, applicable[code])


def test_default_fault_rates_and_variety(small: Path) -> None:
    contacts = load(small)
    assert {c.language for c in contacts.values()} == {"ru", "en"}
    assert {c.source for c in contacts.values()} == {"asterisk", "chat_jsonl", "telegram"}
    assert {c.direction for c in contacts.values()} == {"inbound", "outbound"}
    openings = {c.agent_texts()[0] for c in contacts.values() if c.turns}
    assert len(openings) > 0.8 * len([c for c in contacts.values() if c.turns]), "openings are varied"


# --- streaming --------------------------------------------------------------------------


_CHILD = """
import resource, sys, datetime
from pathlib import Path
from contactqa.synth import GenerateOptions, generate
n_days = int(sys.argv[2])
generate(Path(sys.argv[1]), GenerateOptions(seed=3, agents=100, teams=5, days=n_days, contacts_per_agent_per_day=50))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_stays_flat_as_the_run_grows(tmp_path: Path) -> None:
    """Peak RSS of a 5,000-contact run and a 30,000-contact run differ by little: nothing accumulates."""
    import subprocess
    import sys

    peaks = []
    for days in (1, 6):
        res = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / f"run{days}"), str(days)],
                             capture_output=True, text=True, check=True)
        peaks.append(int(res.stdout.strip().splitlines()[-1]))  # KiB on Linux
    assert peaks[1] - peaks[0] < 25_000, peaks
