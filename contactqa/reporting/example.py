"""A small, hand-made warehouse with the scoring marts, for previewing templates.

Template authors can render the report and the feedback emails from it without
running the whole pipeline (`create_example_marts(path)` then `render_report(path, ...)`),
and the tests use it as their fixture. The tables have exactly the columns the dbt
marts have; the numbers are consistent with each other (contact scores follow the
criterion results, agent scores the contact scores) but are not produced by dbt.
Quotes deliberately hold personal data and markup, to show they come out masked and escaped.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from contactqa.reporting.data import check_identifier

MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "dim_agents": [
        ("agent_id", "VARCHAR"), ("full_name", "VARCHAR"), ("email", "VARCHAR"), ("team", "VARCHAR"),
        ("supervisor_email", "VARCHAR"), ("locale", "VARCHAR"), ("extension", "VARCHAR"),
    ],
    "fct_criterion_results": [
        ("contact_id", "VARCHAR"), ("criterion_id", "VARCHAR"), ("agent_id", "VARCHAR"),
        ("channel", "VARCHAR"), ("contact_started_at", "TIMESTAMP"), ("period", "VARCHAR"),
        ("section_id", "VARCHAR"), ("criterion_title_en", "VARCHAR"), ("criterion_title_ru", "VARCHAR"),
        ("weight", "DOUBLE"), ("is_critical", "BOOLEAN"), ("result", "VARCHAR"),
        ("result_source", "VARCHAR"), ("auto_result", "VARCHAR"), ("manual_result", "VARCHAR"),
        ("is_agreement", "BOOLEAN"), ("evidence_quote", "VARCHAR"), ("evidence_speaker", "VARCHAR"),
        ("evidence_offset_ms", "BIGINT"), ("evidence_detail", "VARCHAR"), ("regulation_ref", "VARCHAR"),
        ("error_code", "VARCHAR"), ("error_title_en", "VARCHAR"), ("error_title_ru", "VARCHAR"),
        ("error_group", "VARCHAR"), ("severity", "VARCHAR"), ("scorecard_version", "VARCHAR"),
    ],
    "fct_contact_scores": [
        ("contact_id", "VARCHAR"), ("agent_id", "VARCHAR"), ("team", "VARCHAR"), ("channel", "VARCHAR"),
        ("direction", "VARCHAR"), ("topic", "VARCHAR"), ("language", "VARCHAR"), ("started_at", "TIMESTAMP"),
        ("period", "VARCHAR"), ("scorecard_version", "VARCHAR"), ("points_possible", "DOUBLE"),
        ("points_earned", "DOUBLE"), ("score_pct", "DOUBLE"), ("has_critical_error", "BOOLEAN"),
        ("failed_criteria_count", "INTEGER"), ("unverifiable_criteria_count", "INTEGER"),
        ("pending_manual_count", "INTEGER"), ("deductions", "VARCHAR"), ("is_sampled", "BOOLEAN"),
    ],
    "fct_agent_scores": [
        ("agent_id", "VARCHAR"), ("period", "VARCHAR"), ("full_name", "VARCHAR"), ("email", "VARCHAR"),
        ("team", "VARCHAR"), ("supervisor_email", "VARCHAR"), ("locale", "VARCHAR"),
        ("contacts_scored", "INTEGER"), ("contacts_with_critical_error", "INTEGER"), ("score_pct", "DOUBLE"),
        ("score_ci_low_pct", "DOUBLE"), ("score_ci_high_pct", "DOUBLE"), ("failed_criteria_count", "INTEGER"),
    ],
    "fct_monitoring_sample": [
        ("contact_id", "VARCHAR"), ("agent_id", "VARCHAR"), ("channel", "VARCHAR"), ("period", "VARCHAR"),
        ("sample_reason", "VARCHAR"), ("sample_rank", "INTEGER"),
    ],
    "fct_error_summary": [
        ("period", "VARCHAR"), ("agent_id", "VARCHAR"), ("team", "VARCHAR"), ("error_code", "VARCHAR"),
        ("error_title_en", "VARCHAR"), ("error_title_ru", "VARCHAR"), ("error_group", "VARCHAR"),
        ("severity", "VARCHAR"), ("occurrences", "INTEGER"),
    ],
}

AGENTS = [
    # agent_id, full_name, email, team, supervisor_email, locale, extension
    ("A001", "Айгерим Нурланова", "aigerim.n@contactqa.local", "Cards", "sup.cards@contactqa.local", "ru", "1001"),
    ("A002", "Данияр Сеитов", "daniyar.s@contactqa.local", "Cards", "sup.cards@contactqa.local", "ru", "1002"),
    ("A003", "Emma Clarke", "emma.c@contactqa.local", "Cards", "sup.cards@contactqa.local", "en", "1003"),
    ("A004", "Ольга Ким", "olga.k@contactqa.local", "Loans", "sup.loans@contactqa.local", "ru", "2001"),
    ("A005", "James O'Neill", "james.o@contactqa.local", "Loans", "sup.loans@contactqa.local", "en", "2002"),
    ("A006", "Асель Жумабаева", "asel.z@contactqa.local", "Loans", "sup.loans@contactqa.local", "ru", "2003"),
]

# criterion_id, section, title_en, title_ru, weight, critical, regulation, error_code, error_en, error_ru, group, severity
CRITERIA = [
    ("GREETING", "opening", "The agent greets the customer", "Оператор поприветствовал клиента", 10, False,
     "SR-2.1", "OPEN-01", "No greeting", "Нет приветствия", "service", "non_critical"),
    ("INTRODUCTION", "opening", "The agent introduces themselves by name", "Оператор представился по имени", 10,
     False, "SR-2.2", "OPEN-02", "No self-introduction", "Оператор не представился", "service", "non_critical"),
    ("POLITENESS", "conduct", "No rude or forbidden phrases", "Нет грубых и запрещённых фраз", 15, True,
     "SR-3.1", "CONDUCT-01", "Rude or forbidden phrase", "Грубая или запрещённая фраза", "customer", "critical"),
    ("SILENCE", "conduct", "No unexplained silence over 30 seconds", "Нет необъяснённой паузы дольше 30 секунд",
     10, False, "SR-3.3", "CONDUCT-02", "Long unexplained silence", "Долгая пауза без объяснения", "customer",
     "non_critical"),
    ("IDENTITY_VERIFIED", "compliance", "Identity verified before any account change",
     "Личность клиента проверена до изменений по счёту", 15, True, "SR-4.1", "COMPL-01",
     "Account changed without identity check", "Изменения без проверки личности", "compliance", "critical"),
    ("PII_DISCLOSURE", "compliance", "No full card number or national ID disclosed",
     "Не раскрыт полный номер карты или ИИН", 15, True, "SR-4.2", "COMPL-02", "Sensitive data disclosed",
     "Раскрыты конфиденциальные данные", "compliance", "critical"),
    ("CLOSING", "closing", "The agent closes the contact politely", "Оператор корректно завершил контакт", 10,
     False, "SR-5.1", "CLOSE-01", "No proper closing", "Нет корректного завершения", "service", "non_critical"),
    ("INFO_CORRECT", "resolution", "The information given is correct and complete",
     "Информация предоставлена верно и полностью", 15, False, "SR-6.1", "RESOL-01",
     "Incorrect or incomplete information", "Неверная или неполная информация", "business", "non_critical"),
]

# Evidence for failures: criterion -> (speaker, quote, detail)
EVIDENCE = {
    "GREETING": ("agent", "Да, слушаю. Что у вас?", "no greeting in the first 2 turns"),
    "INTRODUCTION": ("agent", "Yes, what's the problem with the card?", "no introduction in the first 3 turns"),
    "POLITENESS": ("agent", "Я же вам уже сто раз объяснила, это не мои проблемы.", "forbidden phrase: «не мои проблемы»"),
    "SILENCE": ("system", "[silence 47 s]", "silence 47.2 s without a hold announcement"),
    "IDENTITY_VERIFIED": ("agent", "Хорошо, меняю номер телефона на +7 (701) 234-56-78.",
                          "account change at 02:10 before identity check"),
    "PII_DISCLOSURE": ("agent", "Ваша карта 4400 4300 1234 5678, ИИН 900101300123, верно?",
                       "full card number read out"),
    "CLOSING": ("agent", "Всё, до свидания.", "no offer of further help"),
    "INFO_CORRECT": ("agent", "Refund takes 5 business days, write to <script>alert('x')</script> support@bank.kz",
                     "contradicts KB article «Refund timelines»"),
}

# Failures every period has, so the examples always show masking and escaping at work.
FORCED_FAILURES = {("A002", 0): "PII_DISCLOSURE", ("A005", 1): "INFO_CORRECT", ("A006", 1): "IDENTITY_VERIFIED"}

TOPICS = ["card_block", "limit_change", "loan_payment", "refund", "pin_reset"]


def create_example_marts(
    path: str | Path, *, marts_schema: str = "marts", periods: tuple[str, ...] = ("2026-10", "2026-11"),
    seed: int = 7, with_ingest_tables: bool = True,
) -> Path:
    """Write the example marts (and a few ingest-run rows) into the DuckDB file at `path`."""
    check_identifier(marts_schema)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {marts_schema}")
        for table, columns in MART_COLUMNS.items():
            cols = ", ".join(f"{name} {kind}" for name, kind in columns)
            con.execute(f"CREATE OR REPLACE TABLE {marts_schema}.{table} ({cols})")
        _insert(con, f"{marts_schema}.dim_agents", AGENTS)

        skill = {"A001": 0.93, "A002": 0.80, "A003": 0.88, "A004": 0.95, "A005": 0.70, "A006": 0.85}
        crit_rows, contact_rows, sample_rows = [], [], []
        for period in periods:
            year, month = map(int, period.split("-"))
            for agent in AGENTS:
                agent_id, team = agent[0], agent[3]
                for n in range(rng.randint(5, 8)):
                    contact_id = f"{'V' if n % 3 else 'C'}-{period.replace('-', '')}-{agent_id}-{n + 1:02d}"
                    channel = "chat" if contact_id.startswith("C") else "voice"
                    started = datetime(year, month, 1 + rng.randint(0, 26), 8 + rng.randint(0, 9), rng.randint(0, 59))
                    possible = earned = 0.0
                    critical = False
                    failed, unverifiable, pending, deductions = 0, 0, 0, []
                    for c in CRITERIA:
                        cid, section, t_en, t_ru, weight, is_crit, reg, code, e_en, e_ru, group, sev = c
                        roll = rng.random()
                        if FORCED_FAILURES.get((agent_id, n)) == cid:
                            result = "fail"
                        elif cid == "SILENCE" and channel == "chat":
                            result = "na"
                        elif roll < (1 - (1 - skill[agent_id]) / 4 if is_crit else skill[agent_id]):
                            result = "pass"
                        elif roll > 0.985:
                            result = "unverifiable"
                        elif cid == "INFO_CORRECT" and roll > 0.97:
                            result = "manual_pending"
                        else:
                            result = "fail"
                        source = "manual" if cid == "INFO_CORRECT" and result in ("pass", "fail") else "auto"
                        speaker = quote = detail = None
                        offset = None
                        if result == "fail":
                            speaker, quote, detail = EVIDENCE[cid]
                            offset = rng.randint(3_000, 420_000)
                            failed += 1
                            critical = critical or is_crit
                            deductions.append(f"{cid} -{weight:g}" + (" (critical)" if is_crit else ""))
                        if result in ("pass", "fail"):
                            possible += weight
                            earned += weight if result == "pass" else 0
                        unverifiable += result == "unverifiable"
                        pending += result == "manual_pending"
                        crit_rows.append((
                            contact_id, cid, agent_id, channel, started, period, section, t_en, t_ru, float(weight),
                            is_crit, result, source, result if source == "auto" else "pass",
                            result if source == "manual" else None,
                            None if source == "auto" else result == "pass", quote, speaker, offset, detail, reg,
                            code if result == "fail" else None, e_en if result == "fail" else None,
                            e_ru if result == "fail" else None, group if result == "fail" else None,
                            sev if result == "fail" else None, "2026.11-1",
                        ))
                    score = None if possible == 0 else (0.0 if critical else round(100 * earned / possible, 1))
                    contact_rows.append([
                        contact_id, agent_id, team, channel, "inbound", rng.choice(TOPICS),
                        "ru" if agent[5] == "ru" else "en", started, period, "2026.11-1", possible, earned, score,
                        critical, failed, unverifiable, pending, "; ".join(deductions) or None, False,
                    ])
        # The monitoring sample: two random contacts per agent and period, plus every critical one.
        by_key: dict[tuple[str, str], list[list]] = {}
        for row in contact_rows:
            by_key.setdefault((row[1], row[8]), []).append(row)
        for (agent_id, period), rows in sorted(by_key.items()):
            rank = 0
            picked = rng.sample(rows, 2)
            for row in rows:
                reason = "critical_flag" if row[13] else ("random" if row in picked else None)
                if reason:
                    rank += 1
                    row[18] = True
                    sample_rows.append((row[0], agent_id, row[3], period, reason, rank))
        _insert(con, f"{marts_schema}.fct_criterion_results", crit_rows)
        _insert(con, f"{marts_schema}.fct_contact_scores", contact_rows)
        _insert(con, f"{marts_schema}.fct_monitoring_sample", sample_rows)
        _derive_agent_scores(con, marts_schema)
        con.execute(f"""
            INSERT INTO {marts_schema}.fct_error_summary
            SELECT r.period, r.agent_id, a.team, r.error_code, any_value(r.error_title_en), any_value(r.error_title_ru),
                   any_value(r.error_group), any_value(r.severity), count(*)::INTEGER
            FROM {marts_schema}.fct_criterion_results r JOIN {marts_schema}.dim_agents a USING (agent_id)
            WHERE r.result = 'fail' GROUP BY ALL
        """)
        if with_ingest_tables:
            _write_ingest_tables(con)
    finally:
        con.close()
    return path


def _derive_agent_scores(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    rows = con.execute(f"""
        SELECT c.agent_id, c.period, a.full_name, a.email, a.team, a.supervisor_email, a.locale,
               list(c.score_pct) FILTER (WHERE c.score_pct IS NOT NULL),
               count(*) FILTER (WHERE c.has_critical_error), sum(c.failed_criteria_count)
        FROM {schema}.fct_contact_scores c JOIN {schema}.dim_agents a USING (agent_id)
        GROUP BY ALL ORDER BY 1, 2
    """).fetchall()
    out = []
    for agent_id, period, name, email, team, sup, locale, scores, n_crit, n_failed in rows:
        n = len(scores)
        mean = sum(scores) / n
        sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1)) if n > 1 else 0.0
        half = 1.96 * sd / math.sqrt(n)
        out.append((agent_id, period, name, email, team, sup, locale, n, n_crit, round(mean, 1),
                    round(max(0.0, mean - half), 1), round(min(100.0, mean + half), 1), int(n_failed)))
    _insert(con, f"{schema}.fct_agent_scores", out)


def _write_ingest_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.quarantine (
        run_id VARCHAR, source VARCHAR, dataset VARCHAR, source_file VARCHAR, record_locator VARCHAR,
        raw_record VARCHAR, reasons VARCHAR, quarantined_at TIMESTAMP)""")
    con.execute("""CREATE TABLE IF NOT EXISTS raw.ingest_runs (
        run_id VARCHAR, source VARCHAR, files_seen BIGINT, files_new BIGINT, rows_read BIGINT,
        rows_loaded BIGINT, rows_quarantined BIGINT, top_reasons VARCHAR, started_at TIMESTAMP,
        finished_at TIMESTAMP)""")
    t0 = datetime(2026, 12, 1, 2, 0)
    runs = [
        ("r1", "asterisk", 3, 3, 1520, 1507, 13, "duration_s < 0 (9); agent_id not in directory (4)"),
        ("r1", "chats", 2, 2, 640, 640, 0, None),
        ("r1", "transcripts", 410, 410, 18230, 18211, 19, "offset_ms not increasing (19)"),
        ("r1", "evaluations", 1, 1, 96, 94, 2, "result not in pass|fail|na (2)"),
    ]
    _insert(con, "raw.ingest_runs", [(*r, t0, t0 + timedelta(seconds=42)) for r in runs])
    quarantined = (
        [("asterisk", "cdr", "Master-2026-11.csv", "duration_s < 0")] * 9
        + [("asterisk", "cdr", "Master-2026-11.csv", "agent_id not in directory")] * 4
        + [("transcripts", "utterances", "V-202611-A002-03.json", "offset_ms not increasing")] * 19
        + [("evaluations", "evaluations", "evaluations-2026-11.csv", "result not in pass|fail|na")] * 2
    )
    _insert(con, "raw.quarantine",
            [("r1", s, d, f, f"row {i + 2}", "{}", reason, t0) for i, (s, d, f, reason) in enumerate(quarantined)])


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: list, chunk: int = 200) -> None:
    # One statement per chunk of rows: DuckDB's executemany runs row by row and is slow.
    for start in range(0, len(data), chunk):
        part = data[start:start + chunk]
        width = len(part[0])
        placeholders = ", ".join("(" + ", ".join("?" * width) + ")" for _ in part)
        con.execute(f"INSERT INTO {table} VALUES {placeholders}", [v for row in part for v in row])
