"""A bank's question, answered end to end: after ingest → AutoQA → dbt → reports → feedback e-mails, is
there a full card number, IIN or phone number anywhere — in any table of any schema of the warehouse,
or in any file written for people?

The centre is the synthetic generator's (it injects `card_number_disclosed` faults with real
Luhn-valid numbers; customers give their IIN; CDRs carry +7 numbers), plus exports planted with
every other form: cards read out in words or split by dots, IINs grouped 3-3-3-3, 10-digit
phones, a broken line and an unknown agent's message (both quarantined), an evaluator's comment
and an action log detail. The scanner (pii_scan.py) is independent of contactqa.privacy.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from contactqa import privacy
from contactqa.autoqa.engine import run_autoqa
from contactqa.autoqa.knowledge import index_documents, match_contacts
from contactqa.config import DEFAULT_CONFIG_DIR, load_project, write_project_file
from contactqa.delivery import send_feedback
from contactqa.ingest import ingest_source
from contactqa.marts import project_vars, run_dbt_build
from contactqa.reporting import render_report
from contactqa.synth import GenerateOptions, generate
from contactqa.warehouse import connect
from pii_scan import personal_data_in, scan_files, scan_warehouse

pytestmark = pytest.mark.slow

TIMEZONE = "Asia/Almaty"
AS_OF = date(2026, 11, 5)  # October (31 Oct here) and week 44 are closed: their feedback goes out
SYNTH = GenerateOptions(seed=11, agents=4, teams=2, days=3, contacts_per_agent_per_day=6,
                        start_date=date(2026, 10, 31), timezone=TIMEZONE,
                        fault_rates={"card_number_disclosed": 0.35})

CARD, IIN = "4400 1234 5678 9013", "870412300129"  # Luhn-valid; a valid IIN
PLANTED_CONTACT = "chat-20261031-990001"


def _plant(landing: Path) -> str:
    """Exports with the forms the generator does not write; returns the agent who discloses them."""
    with (landing / "directory" / "agents.csv").open(encoding="utf-8", newline="") as handle:
        agent = next(csv.DictReader(handle))["agent_id"]
    start = datetime.fromisoformat("2026-10-31T11:00:00+05:00")
    turns = [
        ("customer", f"Здравствуйте, мой номер 7012345678, ИИН {IIN[:3]} {IIN[3:6]} {IIN[6:9]} {IIN[9:]}"),
        ("agent", "Добрый день, меня зовут оператор, проверяю."),
        ("agent", "Ваша карта четыре четыре ноль ноль один два три четыре пять шесть семь восемь девять ноль "
                  "один три, верно?"),
        ("agent", f"Карта 4400.1234.5678.9013, ИИН {IIN}, телефон +7 (701) 234-56-78. Карта төрт төрт нөл нөл "
                  "бір екі үш төрт бес алты жеті сегіз тоғыз нөл бір үш."),
        ("agent", "Спасибо за обращение, всего доброго!"),
    ]
    lines = [json.dumps({"conversation_id": PLANTED_CONTACT, "agent_id": agent, "sender": sender,
                         "sent_at": (start + timedelta(seconds=40 * i)).isoformat(), "text": text,
                         "queue": "cards", "customer_id": "+7 701 999 88 77"}, ensure_ascii=False)
             for i, (sender, text) in enumerate(turns)]
    lines.append(json.dumps({"conversation_id": "chat-20261031-990002", "agent_id": "A404", "sender": "agent",
                             "sent_at": start.isoformat(), "text": f"карта {CARD}, ИИН {IIN}"}, ensure_ascii=False))
    lines.append(f'{{"conversation_id": "chat-20261031-990003", "text": "карта {CARD} +7 701 234 56 78')  # not JSON
    (landing / "chats" / "jsonl" / "chats-planted.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (landing / "evaluations" / "evaluations-planted.csv").write_text(
        "evaluation_id,contact_id,evaluator_id,criterion_id,result,points,comment,evaluated_at,"
        "calibration_session_id,is_reference\n"
        f"EV-PLANTED,{PLANTED_CONTACT},E02,PII_DISCLOSURE,fail,0,назвал карту {CARD} и ИИН {IIN},"
        "2026-11-01T10:00:00+05:00,,false\n", encoding="utf-8")
    (landing / "actions" / "actions-planted.csv").write_text(
        "contact_id,agent_id,at,action,detail\n"
        f"{PLANTED_CONTACT},{agent},2026-10-31T11:01:00+05:00,lookup-balance,card={CARD}\n", encoding="utf-8")
    return agent


def _project(root: Path):
    default = load_project(DEFAULT_CONFIG_DIR / "contactqa.yml")
    data = default.config.model_dump(mode="json")
    data.update(warehouse="warehouse/contactqa.duckdb", output_dir="output", timezone=TIMEZONE, close_after_days=3)
    data["scorecard"] = [str(path) for path in default.scorecard_paths()]
    for key in ("error_catalogue", "sampling", "routing", "regulations_dir", "kb_dir"):
        data[key] = str(default.resolve(data[key]))
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    write_project_file(root / "contactqa.yml", data)
    return load_project(root / "contactqa.yml")


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    root = tmp_path_factory.mktemp("pii-centre")
    mp = pytest.MonkeyPatch()
    mp.setenv(privacy.KEY_FILE_ENV, str(root / "key" / "key"))  # this centre's own installation key
    mp.delenv(privacy.KEY_ENV, raising=False)
    try:
        summary = generate(root, SYNTH)
        agent = _plant(root / "landing")
        project = _project(root)
        warehouse = project.warehouse_path
        for source in project.config.sources:
            ingest_source(warehouse, project, source, "run-pii")
        autoqa = run_autoqa(warehouse, project.scorecards(), project.error_catalogue(), "run-pii",
                            timezone=TIMEZONE, close_after_days=3, as_of=AS_OF)
        with connect(warehouse) as con:
            index_documents(con, project.resolve(project.config.regulations_dir),
                            project.resolve(project.config.kb_dir))
            match_contacts(con, autoqa.scorecard_version)
        build = run_dbt_build(warehouse, vars=project_vars(project, AS_OF.isoformat()), work_dir=root / "dbt")
        assert build.success, "\n".join(build.failures)
        reports = [render_report(warehouse, project.output_dir / "reports", language=language,
                                 templates_dir=project.templates_dir, timezone=TIMEZONE)
                   for language in project.config.report_languages]
        feedback = send_feedback(warehouse, project.delivery_settings(), as_of=AS_OF)
        yield summary, project, agent, reports, feedback
    finally:
        mp.undo()


def sql(project, query):
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute(query).fetchall()


def test_the_exports_really_carry_personal_data(centre):
    # the scanner finds what was planted and generated: a clean result below means something
    summary, project, *_ = centre
    found = scan_files(project.resolve("landing"))
    kinds = {hit.split()[0] for hits in found.values() for hit in hits}
    assert kinds == {"card", "IIN", "phone"}, found
    faults = list(csv.DictReader(summary.ground_truth_path.open(encoding="utf-8")))
    assert sum(f["fault_code"] == "card_number_disclosed" for f in faults) >= 5


def test_no_table_of_the_warehouse_holds_a_full_card_iin_or_phone(centre):
    _, project, *_ = centre
    schemas = {s for (s,) in sql(project, "SELECT DISTINCT table_schema FROM information_schema.tables")}
    assert {"raw", "autoqa", "marts"} <= schemas
    assert scan_warehouse(project.warehouse_path) == {}


def test_no_report_or_email_written_shows_one(centre):
    _, project, _, reports, feedback = centre
    assert len(reports) == len(project.config.report_languages) and feedback.written > 0
    written = sorted(p.suffix for p in project.output_dir.rglob("*") if p.is_file())
    assert ".html" in written and ".eml" in written
    assert scan_files(project.output_dir) == {}


def test_disclosures_are_still_caught_and_quoted_masked(centre):
    summary, project, agent, _, _ = centre
    injected = {f["contact_id"] for f in csv.DictReader(summary.ground_truth_path.open(encoding="utf-8"))
                if f["fault_code"] == "card_number_disclosed"}
    failed = dict(sql(project, "SELECT contact_id, evidence_quote FROM autoqa.findings "
                               "WHERE criterion_id = 'PII_DISCLOSURE' AND result = 'fail'"))
    assert injected <= set(failed), f"missed: {sorted(injected - set(failed))}"
    assert failed[PLANTED_CONTACT] == "Ваша карта **** **** **** 9013, верно?"
    assert all(personal_data_in(quote) == [] for quote in failed.values())
    # the mart the report and the e-mails read carries the same masked quote
    rows = sql(project, f"SELECT agent_id, evidence_quote FROM marts.fct_criterion_results "
                        f"WHERE contact_id = '{PLANTED_CONTACT}' AND criterion_id = 'PII_DISCLOSURE'")
    assert rows and all(a == agent and "**** 9013" in q for a, q in rows if q)
