"""Reading the scoring marts for reports and emails.

Every query the report and the feedback emails need lives here, so the templates get
plain lists of dicts and never see SQL. Titles come in both languages from the marts;
`localize` picks the one the reader needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

REQUIRED_MARTS = (
    "dim_agents", "fct_criterion_results", "fct_contact_scores", "fct_agent_scores",
    "fct_monitoring_sample", "fct_error_summary",
)


class MartsMissingError(RuntimeError):
    """The warehouse has no scoring marts (dbt has not built them yet, or another schema name)."""


def check_identifier(name: str) -> str:
    """Schema names are put into SQL text, so only plain identifiers are accepted."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid schema name: {name!r} (letters, digits and _ only)")
    return name


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0])


def require_marts(con: duckdb.DuckDBPyConnection, warehouse_path: Path, schema: str) -> None:
    missing = [t for t in REQUIRED_MARTS if not table_exists(con, schema, t)]
    if missing:
        raise MartsMissingError(
            f"{warehouse_path}: schema {schema!r} has no table(s) {', '.join(missing)}. "
            "Build the marts first (`contactqa build`), or pass the schema dbt wrote them to."
        )


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def localize(row: dict[str, Any], field: str, language: str) -> str | None:
    """`criterion_title` + ru -> row['criterion_title_ru'], falling back to English."""
    value = row.get(f"{field}_{language}")
    return value if value else row.get(f"{field}_en")


_CYRILLIC_LETTER = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
_LATIN_LETTER = re.compile(r"[a-z]", re.IGNORECASE)


def in_language(text: str | None, language: str) -> str | None:
    """The reader's half of a bilingual text written "English / Русский" (the regulations and
    knowledge-base articles are): 'Greeting / Приветствие' -> 'Приветствие' for ru, 'Greeting'
    for any other language. Text in one language only comes back whole."""
    if not text or " / " not in text:
        return text
    parts = [part.strip() for part in text.split(" / ") if part.strip()]
    russian = [len(_CYRILLIC_LETTER.findall(p)) > len(_LATIN_LETTER.findall(p)) for p in parts]
    wanted = [p for p, is_russian in zip(parts, russian) if is_russian == (language == "ru")]
    return " ".join(wanted) if wanted and len(wanted) < len(parts) else text


class Marts:
    """Queries over the scoring marts for one period (or all periods when `period` is None)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, period: str | None, language: str,
                 period_type: str = "month"):
        self.con = con
        self.s = check_identifier(schema)
        self.period = period
        self.language = language
        if period and "-W" in period:
            period_type = "week"  # a week key names its own type
        self.period_type = period_type
        # Contacts and criterion results carry both keys of their local start: `period` (the month)
        # and `period_week` (the ISO week); agent scores have one row per period_type x period.
        self.contact_period = "period_week" if period_type == "week" else "period"

    # `(? IS NULL OR period = ?)` keeps one SQL text for "one period" and "every period".
    def _p(self, column: str = "period") -> str:
        return f"(CAST(? AS VARCHAR) IS NULL OR {column} = ?)"

    def _pp(self) -> list[Any]:
        return [self.period, self.period]

    def periods(self) -> list[str]:
        found = [r["period"] for r in rows(
            self.con, f"""SELECT DISTINCT period FROM {self.s}.fct_agent_scores
                          WHERE period_type = ? AND {self._p()} ORDER BY 1""",
            [self.period_type, *self._pp()])]
        return found

    def period_status(self) -> dict[str, dict[str, Any]]:
        """period -> its first and last local day, the day it closes and whether it is closed."""
        if not table_exists(self.con, self.s, "dim_periods"):
            return {}
        found = rows(self.con, f"""
            SELECT period, starts_on, ends_on, closes_on, is_closed, as_of_date FROM {self.s}.dim_periods
            WHERE period_type = ? AND {self._p()}""", [self.period_type, *self._pp()])
        return {r["period"]: r for r in found}

    def rescores(self) -> list[dict[str, Any]]:
        """Periods rescored on purpose (`contactqa rescore`): what, when, with which version, why."""
        if not table_exists(self.con, "autoqa", "rescores"):
            return []
        return rows(self.con, f"""
            SELECT rescore_id, period, scorecard_version, reason, contacts_rescored, requested_at
            FROM autoqa.rescores WHERE {self._p()} ORDER BY requested_at""", self._pp())

    def volumes(self) -> dict[str, Any]:
        """Contacts offered, answered and not: only answered contacts are scored."""
        return rows(self.con, f"""
            SELECT count(*) AS offered,
                   count(*) FILTER (WHERE contact_status = 'answered') AS answered,
                   count(*) FILTER (WHERE contact_status = 'unanswered') AS unanswered,
                   count(*) FILTER (WHERE contact_status = 'abandoned') AS abandoned,
                   count(*) FILTER (WHERE contact_status = 'no_agent_turn') AS no_agent_turn
            FROM {self.s}.fct_contact_scores WHERE {self._p(self.contact_period)}""", self._pp())[0]

    def headline(self) -> dict[str, Any]:
        h = rows(self.con, f"""
            SELECT count(*) FILTER (WHERE score_pct IS NOT NULL) AS contacts_scored,
                   avg(score_pct) AS avg_score_pct,
                   avg(CASE WHEN has_critical_error THEN 1.0 ELSE 0.0 END)
                       FILTER (WHERE score_pct IS NOT NULL) AS critical_share,
                   count(*) FILTER (WHERE has_critical_error) AS contacts_with_critical_error,
                   count(*) FILTER (WHERE unverifiable_criteria_count > 0) AS contacts_with_unverifiable,
                   count(*) FILTER (WHERE pending_manual_count > 0) AS contacts_pending_manual,
                   count(DISTINCT agent_id) AS agents,
                   count(*) FILTER (WHERE channel = 'voice') AS voice_contacts,
                   count(*) FILTER (WHERE channel = 'chat') AS chat_contacts,
                   string_agg(DISTINCT scorecard_version, ', ' ORDER BY scorecard_version) AS scorecard_versions
            FROM {self.s}.fct_contact_scores WHERE {self._p(self.contact_period)}""", self._pp())[0]
        h["sample_size"] = self.con.execute(
            f"SELECT count(*) FROM {self.s}.fct_monitoring_sample WHERE is_sampled AND {self._p(self.contact_period)}",
            self._pp()).fetchone()[0]
        return h

    def agent_scores(self) -> list[dict[str, Any]]:
        return rows(self.con, f"""
            SELECT s.*, coalesce(s.team, '—') AS team_label
            FROM {self.s}.fct_agent_scores s WHERE s.period_type = ? AND {self._p('s.period')}
            ORDER BY s.period, team_label, s.score_pct DESC NULLS LAST, s.full_name""",
            [self.period_type, *self._pp()])

    def team_averages(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Contact-weighted team average per period: what an agent is compared with."""
        found = rows(self.con, f"""
            SELECT {self.contact_period} AS period, coalesce(team, '—') AS team, avg(score_pct) AS score_pct,
                   count(*) FILTER (WHERE score_pct IS NOT NULL) AS contacts_scored,
                   count(DISTINCT agent_id) AS agents,
                   count(*) FILTER (WHERE has_critical_error) AS contacts_with_critical_error
            FROM {self.s}.fct_contact_scores WHERE {self._p(self.contact_period)} GROUP BY ALL""", self._pp())
        return {(r["period"], r["team"]): r for r in found}

    def period_averages(self) -> dict[str, float | None]:
        found = rows(self.con, f"""
            SELECT {self.contact_period} AS period, avg(score_pct) AS score_pct FROM {self.s}.fct_contact_scores
            WHERE {self._p(self.contact_period)} GROUP BY ALL""", self._pp())
        return {r["period"]: r["score_pct"] for r in found}

    def errors(self, by: str) -> list[dict[str, Any]]:
        if by == "code":
            keys = "error_code, any_value(error_title_en) AS error_title_en, " \
                   "any_value(error_title_ru) AS error_title_ru, any_value(error_group) AS error_group, " \
                   "any_value(severity) AS severity"
            group = "error_code"
        elif by in ("group", "severity"):
            column = "error_group" if by == "group" else "severity"
            keys, group = f"{column} AS key", column
        else:
            raise ValueError(by)
        found = rows(self.con, f"""
            SELECT {keys}, sum(occurrences)::BIGINT AS occurrences,
                   count(DISTINCT agent_id) AS agents
            FROM {self.s}.fct_error_summary WHERE {self._p()}
            GROUP BY {group} ORDER BY occurrences DESC, {group}""", self._pp())
        total = sum(r["occurrences"] for r in found) or 1
        for r in found:
            r["share"] = r["occurrences"] / total
            if by == "code":
                r["title"] = localize(r, "error_title", self.language)
        return found

    def criterion_pass_rates(self) -> list[dict[str, Any]]:
        found = rows(self.con, f"""
            SELECT criterion_id, any_value(section_id) AS section_id,
                   any_value(criterion_title_en) AS criterion_title_en,
                   any_value(criterion_title_ru) AS criterion_title_ru,
                   bool_or(is_critical) AS is_critical, any_value(regulation_ref) AS regulation_ref,
                   max(weight) AS weight,
                   count(*) FILTER (WHERE result = 'pass') AS passed,
                   count(*) FILTER (WHERE result = 'fail') AS failed,
                   count(*) FILTER (WHERE result = 'na') AS not_applicable,
                   count(*) FILTER (WHERE result = 'unverifiable') AS unverifiable,
                   count(*) FILTER (WHERE result = 'manual_pending') AS pending,
                   count(*) FILTER (WHERE result_source = 'manual' AND is_agreement IS NOT NULL) AS reviewed,
                   count(*) FILTER (WHERE result_source = 'manual' AND is_agreement) AS agreed
            FROM {self.s}.fct_criterion_results WHERE {self._p(self.contact_period)}
            GROUP BY criterion_id ORDER BY min(section_id), criterion_id""", self._pp())
        agreement: dict[str, list[dict[str, Any]]] = {}
        for a in self.rule_agreement():
            agreement.setdefault(a["criterion_id"], []).append(a)
        for r in found:
            judged = r["passed"] + r["failed"]
            r["pass_rate"] = r["passed"] / judged if judged else None
            r["agreement_rate"] = r["agreed"] / r["reviewed"] if r["reviewed"] else None
            r["title"] = localize(r, "criterion_title", self.language)
            # AutoQA's pass/fail against the evaluators' (fct_rule_agreement), per rule type
            r["rule_agreement"] = agreement.get(r["criterion_id"], [])
        return found

    def monitoring_sample(self) -> list[dict[str, Any]]:
        return rows(self.con, f"""
            SELECT m.{self.contact_period} AS period, m.contact_id, m.agent_id,
                   coalesce(a.full_name, m.agent_id) AS full_name, coalesce(c.team, a.team) AS team, m.channel,
                   m.started_at, m.started_at_local, c.topic, m.sample_type, m.sample_status, m.sample_reason,
                   m.triggers, m.replaces_contact_id, m.assigned_evaluator_id, m.is_evaluated,
                   m.sample_rank, c.score_pct, c.human_score_pct, c.has_critical_error, c.failed_criteria_count,
                   c.pending_manual_count, c.unverifiable_criteria_count, c.deductions
            FROM {self.s}.fct_monitoring_sample m
            LEFT JOIN {self.s}.fct_contact_scores c USING (contact_id)
            LEFT JOIN {self.s}.dim_agents a ON a.agent_id = m.agent_id
            WHERE {self._p('m.' + self.contact_period)}
            ORDER BY period, m.sample_type, full_name, m.channel, m.sample_rank, m.contact_id""", self._pp())

    def findings(self, *, agent_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Failed criteria with their evidence, critical ones first.

        Each carries the clause it breaks (`clause_title`, `clause_text`, in the reader's language;
        None when the regulations were not indexed) and the knowledge-base article the finding
        cites (`kb_article_id`, `kb_article_title`; None when no article is relevant to it).
        Marts built before findings cited their own article fall back to the contact's best one.
        """
        if table_exists(self.con, self.s, "fct_finding_knowledge"):
            knowledge = (f"LEFT JOIN {self.s}.fct_finding_knowledge k "
                         "ON k.contact_id = r.contact_id AND k.criterion_id = r.criterion_id")
        elif table_exists(self.con, self.s, "fct_contact_knowledge"):
            knowledge = f"LEFT JOIN {self.s}.fct_contact_knowledge k ON k.contact_id = r.contact_id AND k.rank = 1"
        else:
            knowledge = ""
        found = rows(self.con, f"""
            SELECT r.*, coalesce(a.full_name, r.agent_id) AS full_name, a.team,
                   {'k.article_id' if knowledge else 'NULL'} AS kb_article_id,
                   {'k.title' if knowledge else 'NULL'} AS kb_article_title_both
            FROM {self.s}.fct_criterion_results r
            LEFT JOIN {self.s}.dim_agents a ON a.agent_id = r.agent_id
            {knowledge}
            WHERE r.result = 'fail' AND {self._p('r.' + self.contact_period)}
              AND (CAST(? AS VARCHAR) IS NULL OR r.agent_id = ?)
            ORDER BY (r.is_critical OR r.severity = 'critical') DESC, (r.evidence_quote IS NULL),
                     r.contact_started_at DESC, r.contact_id, r.criterion_id
            {'LIMIT ' + str(int(limit)) if limit else ''}""", [*self._pp(), agent_id, agent_id])
        for r in found:
            r["criterion_title"] = localize(r, "criterion_title", self.language)
            r["error_title"] = localize(r, "error_title", self.language)
            # marts built before the regulations were indexed have no clause columns
            r.setdefault("regulation_title", None)
            r.setdefault("regulation_text", None)
            r["clause_title"] = in_language(r["regulation_title"], self.language)
            r["clause_text"] = in_language(r["regulation_text"], self.language)
            r["kb_article_title"] = in_language(r.pop("kb_article_title_both"), self.language)
        return found

    def rule_agreement(self) -> list[dict[str, Any]]:
        """How often each automatic rule agreed with the evaluators in the period(s): counts added
        over periods, percentages recomputed from them. Empty when the mart is not built yet."""
        if not table_exists(self.con, self.s, "fct_rule_agreement"):
            return []
        found = rows(self.con, f"""
            SELECT criterion_id, rule_type, any_value(criterion_title_en) AS criterion_title_en,
                   any_value(criterion_title_ru) AS criterion_title_ru, bool_or(is_critical) AS is_critical,
                   sum(n_compared)::BIGINT AS n_compared, sum(both_fail)::BIGINT AS both_fail,
                   sum(auto_fail_human_pass)::BIGINT AS auto_fail_human_pass,
                   sum(auto_pass_human_fail)::BIGINT AS auto_pass_human_fail, sum(both_pass)::BIGINT AS both_pass
            FROM {self.s}.fct_rule_agreement WHERE {self._p()}
            GROUP BY criterion_id, rule_type HAVING sum(n_compared) > 0
            ORDER BY criterion_id, rule_type""", self._pp())
        for r in found:
            flagged = r["both_fail"] + r["auto_fail_human_pass"]
            failed_by_humans = r["both_fail"] + r["auto_pass_human_fail"]
            r["agreement"] = (r["both_fail"] + r["both_pass"]) / r["n_compared"]
            r["precision"] = r["both_fail"] / flagged if flagged else None
            r["recall"] = r["both_fail"] / failed_by_humans if failed_by_humans else None
            r["title"] = localize(r, "criterion_title", self.language)
        return found

    def agent_contacts(self, agent_id: str) -> list[dict[str, Any]]:
        return rows(self.con, f"""
            SELECT contact_id, channel, started_at, topic, score_pct, has_critical_error,
                   failed_criteria_count, unverifiable_criteria_count, pending_manual_count, deductions, is_sampled
            FROM {self.s}.fct_contact_scores WHERE agent_id = ? AND {self._p(self.contact_period)}
            ORDER BY started_at, contact_id""", [agent_id, *self._pp()])

    def agent_criterion_results(self, agent_id: str) -> list[dict[str, Any]]:
        """Every criterion result of the agent's contacts: what a feedback revision compares."""
        return rows(self.con, f"""
            SELECT contact_id, criterion_id, result, result_source, points_earned, points_possible,
                   evaluator_id, evaluation_id
            FROM {self.s}.fct_criterion_results WHERE agent_id = ? AND {self._p(self.contact_period)}
            ORDER BY contact_id, criterion_id""", [agent_id, *self._pp()])

    def data_quality(self) -> dict[str, Any]:
        """Ingest totals and the commonest quarantine reasons; absent tables mean 'no data'."""
        result: dict[str, Any] = {"available": False, "sources": [], "top_reasons": [], "totals": None}
        if table_exists(self.con, "raw", "ingest_runs"):
            result["sources"] = rows(self.con, """
                SELECT source, count(DISTINCT run_id) AS runs, sum(files_new) AS files_new,
                       sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
                       sum(rows_quarantined) AS rows_quarantined, max(finished_at) AS last_run_at
                FROM raw.ingest_runs GROUP BY source ORDER BY source""")
            if result["sources"]:
                totals = {k: sum(s[k] or 0 for s in result["sources"])
                          for k in ("files_new", "rows_read", "rows_loaded", "rows_quarantined")}
                totals["quarantined_share"] = (
                    totals["rows_quarantined"] / totals["rows_read"] if totals["rows_read"] else None)
                totals["last_run_at"] = max((s["last_run_at"] for s in result["sources"] if s["last_run_at"]),
                                            default=None)
                result["totals"] = totals
                result["available"] = True
        if table_exists(self.con, "raw", "quarantine"):
            result["top_reasons"] = rows(self.con, """
                SELECT source, dataset, reasons, count(*) AS rows_quarantined,
                       count(DISTINCT source_file) AS files, min(source_file) AS example_file
                FROM raw.quarantine GROUP BY ALL ORDER BY rows_quarantined DESC, reasons LIMIT 8""")
            result["available"] = result["available"] or bool(result["top_reasons"])
        return result


# --- what the feedback run needs across periods -------------------------------------------------

def agent_score_periods(con: duckdb.DuckDBPyConnection, schema: str) -> list[tuple[str, str]]:
    """(period_type, period) of every period with agent scores: what feedback could go out for."""
    s = check_identifier(schema)
    return [(t, p) for t, p in con.execute(
        f"SELECT DISTINCT period_type, period FROM {s}.fct_agent_scores ORDER BY 1, 2").fetchall()]


def agent_scores_for(con: duckdb.DuckDBPyConnection, schema: str, period: str) -> list[dict[str, Any]]:
    """Every agent's row of one period; week and month keys never collide ('2026-W45', '2026-11')."""
    s = check_identifier(schema)
    return rows(con, f"SELECT * FROM {s}.fct_agent_scores WHERE period = ? ORDER BY agent_id", [period])


def period_close_dates(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, Any]:
    """period -> closes_on as the marts' build computed it (empty before dim_periods exists)."""
    s = check_identifier(schema)
    if not table_exists(con, s, "dim_periods"):
        return {}
    return dict(con.execute(f"SELECT period, closes_on FROM {s}.dim_periods").fetchall())
