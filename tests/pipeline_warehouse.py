"""The test suite's warehouse, built once per session through the real pipeline.

A small centre, landed and scored exactly as production does it: the synthetic generator writes
the exports (4 agents in 2 teams, 31 Oct - 2 Nov 2026, Asia/Almaty), a few planted export files
add what the report and email tests must see handled, and then ingest (GX, quarantine) → AutoQA →
knowledge matching → dbt build make the marts. Nothing here writes a mart row, so the tests read
the columns and numbers the dbt models produce and cannot drift from them.

What the planted exports add (see `_plant_exports`):
  - 3 Nov: the Russian-locale agent (named in Cyrillic) reads out a card number, an IIN and a +7
    phone (PII_DISCLOSURE fails, quoting it);
  - 3 Nov: the English agent's rude reply carries `<script>` markup and an e-mail address
    (POLITENESS fails, quoting it); an evaluator confirms that, judges the manual criterion and
    overturns AutoQA's pass on CLOSING;
  - an evaluations row GX quarantines (result 'maybe') and a chat line that is not JSON;
  - one contact of 29 September, so feedback has more closed months than its lookback.
The English agent's surname becomes O'Neill in every export, to show names are escaped.

Dates as of AS_OF (5 Nov 2026, close_after_days 3): September and October are closed (October closed
on 4 Nov), November is open (it closes on 4 Dec); week 44 (26 Oct - 1 Nov) closed on 5 Nov, week 45
(2 - 8 Nov) is open until 12 Nov.

Tests that only read use `PipelineWarehouse.path`; a test that writes takes `copy_to()` and, to change
what the marts say, adds the real input (`add_evaluation`) and rebuilds them with dbt (`rebuild`).
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from contactqa.autoqa.engine import run_autoqa
from contactqa.autoqa.knowledge import index_documents, match_contacts
from contactqa.config import DEFAULT_CONFIG_DIR, Project, load_project, write_project_file
from contactqa.ingest import ingest_source
from contactqa.marts import project_vars, run_dbt_build
from contactqa.synth import GenerateOptions, generate
from contactqa.warehouse import column_names, connect

TIMEZONE = "Asia/Almaty"
CLOSE_AFTER_DAYS = 3
AS_OF = date(2026, 11, 5)
RUN_ID = "run-test-centre"
SYNTH = GenerateOptions(seed=7, agents=4, teams=2, days=3, contacts_per_agent_per_day=6,
                        start_date=date(2026, 10, 31), timezone=TIMEZONE)

# The planted text, exactly as the exports carry it; tests check none of it reaches a reader unmasked.
CARD = "4400 4300 1234 5671"  # Luhn-valid, so AutoQA flags it
IIN = "900101300126"  # a valid Kazakh IIN
PHONE = "+7 (701) 234-56-78"
MARKUP = "<script>alert('x')</script>"
MAILBOX = "support@bank.kz"
APOSTROPHE_SURNAME = "O'Neill"

PII_CONTACT = "chat-20261103-900001"  # the Russian-locale agent discloses card, IIN and phone
MARKUP_CONTACT = "chat-20261103-900002"  # the English agent's rude reply with markup and an e-mail
SEPTEMBER_CONTACT = "chat-20260929-900003"
OVERRIDE_EVALUATION = "EV-PLANTED-1"  # on MARKUP_CONTACT: CLOSING failed where AutoQA passed it


@dataclass(frozen=True)
class PipelineWarehouse:
    """The built centre: its warehouse file (treat it as read-only), its project and who said what."""

    path: Path
    project: Project
    russian_agent: str  # agent_id of the Russian-locale agent named in Cyrillic: PII_CONTACT is theirs
    english_agent: str  # agent_id of the English agent (surname O'Neill): MARKUP_CONTACT is theirs
    dbt_dir: Path  # dbt's target/ and logs/, shared by rebuilds so dbt parses the project once

    def copy_to(self, folder: Path) -> Path:
        """A private copy of the warehouse, for a test that writes to it (the send ledger, a rebuild)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.path.name
        shutil.copyfile(self.path, target)
        return target

    def rebuild(self, warehouse: Path, as_of: date) -> None:
        """`dbt build` of a copy, as the nightly build after new input does it (the models only: the
        session build already ran dbt's data tests on the same models)."""
        build_marts(warehouse, self.project, as_of, self.dbt_dir, data_tests=False)

    def agents(self) -> list[dict]:
        """marts.dim_agents, in agent_id order."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            cur = con.execute("SELECT * FROM marts.dim_agents ORDER BY agent_id")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]


def sql(warehouse: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def build_pipeline_warehouse(root: Path) -> PipelineWarehouse:
    """Generate the exports under `root`, then ingest → AutoQA → knowledge → dbt build (~35 s)."""
    generate(root, SYNTH)
    landing = root / "landing"
    russian, english = _plant_exports(landing)
    project = _write_project(root)
    warehouse = project.warehouse_path
    for source in project.config.sources:  # in the project's order: the directory first
        ingest_source(warehouse, project, source, RUN_ID)
    summary = run_autoqa(warehouse, project.scorecards(), project.error_catalogue(), RUN_ID, timezone=TIMEZONE,
                         close_after_days=CLOSE_AFTER_DAYS, as_of=AS_OF)
    with connect(warehouse) as con:
        index_documents(con, project.resolve(project.config.regulations_dir), project.resolve(project.config.kb_dir))
        match_contacts(con, summary.scorecard_version)
    dbt_dir = root / "dbt"
    build_marts(warehouse, project, AS_OF, dbt_dir)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CHECKPOINT")  # everything in the one file, so a copy of it is complete
    return PipelineWarehouse(warehouse, project, russian, english, dbt_dir)


def build_marts(warehouse: Path, project: Project, as_of: date, dbt_dir: Path, *, data_tests: bool = True) -> None:
    result = run_dbt_build(warehouse, vars=project_vars(project, as_of.isoformat()), work_dir=dbt_dir,
                           data_tests=data_tests)
    assert result.success, "dbt build failed:\n" + "\n".join(result.failures)


def add_evaluation(warehouse: Path, *, evaluation_id: str, contact_id: str, evaluator_id: str, criterion_id: str,
                   result: str, evaluated_at: datetime, comment: str | None = None) -> None:
    """An evaluator's verdict on one criterion, as ingest lands it from the evaluations export
    (`evaluated_at` in UTC). The marts show it after the next `rebuild`."""
    row = {"evaluation_id": evaluation_id, "contact_id": contact_id, "evaluator_id": evaluator_id,
           "criterion_id": criterion_id, "result": result, "comment": comment, "evaluated_at": evaluated_at,
           "is_reference": False, "source_file": f"evaluations-{evaluation_id}.csv", "record_locator": "line 2"}
    names = column_names("evaluations")
    with connect(warehouse) as con:
        con.execute(f"INSERT INTO raw.evaluations VALUES ({', '.join('?' * len(names))})",
                    [row.get(name) for name in names])


# --- the exports ----------------------------------------------------------------------------------

def _write_project(root: Path) -> Project:
    """The repo's default configuration (scorecard, catalogue, sampling plan, regulations, KB), pointed at
    the generated landing folder."""
    default = load_project(DEFAULT_CONFIG_DIR / "contactqa.yml")
    data = default.config.model_dump(mode="json")
    data.update(warehouse="warehouse/contactqa.duckdb", output_dir="output", timezone=TIMEZONE,
                close_after_days=CLOSE_AFTER_DAYS)
    data["scorecard"] = [str(path) for path in default.scorecard_paths()]
    for key in ("error_catalogue", "sampling", "routing", "regulations_dir", "kb_dir"):
        data[key] = str(default.resolve(data[key]))
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    write_project_file(root / "contactqa.yml", data)
    project = load_project(root / "contactqa.yml")
    project.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return project


def _plant_exports(landing: Path) -> tuple[str, str]:
    """Add the planted export files; returns (Russian-locale agent, English agent)."""
    with (landing / "directory" / "agents.csv").open(encoding="utf-8", newline="") as fh:
        agents = list(csv.DictReader(fh))
    russian = next(a for a in agents if a["locale"] == "ru" and not a["full_name"].isascii())
    english = next(a for a in agents if a["locale"] == "en" and a["full_name"].isascii())
    other = next(a for a in agents if a["agent_id"] not in (russian["agent_id"], english["agent_id"]))
    # The English agent's surname, everywhere the exports spell the name (directory, CDR, Telegram).
    renamed = f"{english['full_name'].split()[0]} {APOSTROPHE_SURNAME}"
    for path in landing.rglob("*"):
        if path.is_file() and english["full_name"] in (text := path.read_text(encoding="utf-8")):
            path.write_text(text.replace(english["full_name"], renamed), encoding="utf-8")

    ru_first, en_first = russian["full_name"].split()[0], english["full_name"].split()[0]
    chats = [
        (PII_CONTACT, russian["agent_id"], "2026-11-03T15:10:00+05:00", "cards", [
            ("customer", 0, f"Здравствуйте, карту заблокировали. Мой номер {PHONE}."),
            ("agent", 40, f"Здравствуйте, меня зовут {ru_first}, сейчас проверю."),
            ("agent", 95, f"Ваша карта {CARD}, ИИН {IIN}, телефон {PHONE}, верно?"),
            ("customer", 130, "Да, всё верно."),
            ("agent", 170, "Карта разблокируется в течение часа. Спасибо за обращение, всего доброго!"),
        ]),
        (MARKUP_CONTACT, english["agent_id"], "2026-11-03T16:20:00+05:00", "billing", [
            ("customer", 0, "hello, I was charged twice this month, my email is anna.k@mail.kz"),
            ("agent", 35, f"Hello, my name is {en_first}, let me check."),
            ("customer", 90, "any news?"),
            ("agent", 120, f"That's not my problem, write to {MARKUP} {MAILBOX}"),
            ("agent", 150, "Thank you for contacting us, have a nice day."),
        ]),
        (SEPTEMBER_CONTACT, other["agent_id"], "2026-09-29T11:00:00+05:00", "billing", [
            ("customer", 0, "Здравствуйте, когда придёт выписка?"),
            ("agent", 30, f"Добрый день, меня зовут {other['full_name'].split()[0]}. Выписка приходит 1-го числа."),
            ("customer", 70, "Спасибо."),
            ("agent", 95, "Спасибо за обращение, всего доброго!"),
        ]),
    ]
    lines = []
    for contact_id, agent_id, started, queue, messages in chats:
        start = datetime.fromisoformat(started)
        for sender, seconds, text in messages:
            sent_at = start + timedelta(seconds=seconds)
            lines.append(json.dumps({"conversation_id": contact_id, "agent_id": agent_id, "sender": sender,
                                     "sent_at": sent_at.isoformat(), "text": text, "queue": queue},
                                    ensure_ascii=False))
    lines.append('{"conversation_id": "chat-20261103-900009", "sender": "agent", "text": "cut off')  # not JSON
    (landing / "chats" / "jsonl" / "chats-planted.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    evaluations = [
        # the evaluator agrees with AutoQA on the rudeness, judges the manual criterion and overturns CLOSING
        (OVERRIDE_EVALUATION, MARKUP_CONTACT, "E02", "POLITENESS", "fail", "rude reply"),
        (OVERRIDE_EVALUATION, MARKUP_CONTACT, "E02", "INFO_CORRECT", "fail", "no refund timeline given"),
        (OVERRIDE_EVALUATION, MARKUP_CONTACT, "E02", "CLOSING", "fail", "a closing after a rude reply"),
        ("EV-PLANTED-2", PII_CONTACT, "E03", "INFO_CORRECT", "maybe", "unsure"),  # quarantined by GX
    ]
    csv_lines = ["evaluation_id,contact_id,evaluator_id,criterion_id,result,points,comment,evaluated_at,"
                 "calibration_session_id,is_reference"]
    csv_lines += [f"{e},{c},{who},{k},{r},,{note},2026-11-04T10:00:00+05:00,,false"
                  for e, c, who, k, r, note in evaluations]
    (landing / "evaluations" / "evaluations-planted.csv").write_text("\n".join(csv_lines) + "\n", encoding="utf-8")
    return russian["agent_id"], english["agent_id"]

