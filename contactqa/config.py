"""The configuration the QA team and the data engineer own, as validated models.

One project file (contactqa.yml) names the warehouse, the sources to pull and the
QA team's files: scorecard, error catalogue, sampling plan and routing. Every
error names the file, the key and the problem, so a YAML typo never ends in a
bare traceback.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

REPO_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = REPO_DIR / "config"
DEFAULT_PROJECT_FILE = DEFAULT_CONFIG_DIR / "contactqa.yml"

CHANNELS = ("voice", "chat", "email")
SPEAKERS = ("agent", "customer", "system", "bot")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or invalid; the message says where and why."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: invalid configuration\n{listed}")


class KeyedError(ValueError):
    """A model-level check's problem at a key path of its own (pydantic would place it at the top level)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as 'Asia/Almaty' or 'UTC')")
    return value


# --- scorecard ---------------------------------------------------------------------------

PhraseSet = dict[str, list[str]]  # language code -> phrases ("*" = any language)


AGENT_NAME_SLOT = "{agent_first_name}"  # the one placeholder a phrase may hold


class RequiredPhraseRule(_Strict):
    """The agent must say one of the phrases, optionally within the first/last N agent turns.

    `not_within_first_turns` keeps the opening out of a later window: a turn among the agent's first N
    never counts (a "thanks for reaching out" that opens a short chat is not its closing). Phrases may
    name the agent with {agent_first_name}; `bare_name_within_first_turns` also lets the name said on
    its own count there, and `company_names` are never taken for the agent's name.
    """

    type: Literal["required_phrase"]
    phrases: PhraseSet
    speaker: Literal["agent", "any"] = "agent"
    within_first_turns: int | None = Field(default=None, ge=1)
    within_last_turns: int | None = Field(default=None, ge=1)
    not_within_first_turns: int | None = Field(default=None, ge=1)
    bare_name_within_first_turns: int | None = Field(default=None, ge=1)
    company_names: list[str] = []
    fuzzy_threshold: int = Field(default=88, ge=50, le=100)
    skip_if_disposition: list[str] = []

    @field_validator("phrases")
    @classmethod
    def _known_placeholders(cls, phrases: PhraseSet) -> PhraseSet:
        for texts in phrases.values():
            for text in texts:
                unknown = sorted(set(re.findall(r"\{[^{}]*\}", text)) - {AGENT_NAME_SLOT})
                if unknown:
                    raise ValueError(f"phrase {text!r}: unknown placeholder {', '.join(unknown)} "
                                     f"(the only one is {AGENT_NAME_SLOT})")
        return phrases

    @model_validator(mode="after")
    def _windows_agree(self) -> "RequiredPhraseRule":
        if self.within_first_turns and self.within_last_turns:
            raise ValueError("give within_first_turns or within_last_turns, not both")
        if self.not_within_first_turns and self.within_first_turns:
            raise ValueError("not_within_first_turns excludes the turns within_first_turns looks at: give one of them")
        if self.bare_name_within_first_turns:
            if self.not_within_first_turns:
                raise ValueError("bare_name_within_first_turns looks at the first turns, which not_within_first_turns "
                                 "excludes: give one of them")
            if self.within_first_turns and self.bare_name_within_first_turns > self.within_first_turns:
                raise ValueError(f"bare_name_within_first_turns ({self.bare_name_within_first_turns}) cannot exceed "
                                 f"within_first_turns ({self.within_first_turns})")
        return self

    def names_the_agent(self) -> bool:
        """Does the rule need the agent's name (a phrase with the placeholder, or the bare name)?"""
        return bool(self.bare_name_within_first_turns) or any(
            AGENT_NAME_SLOT in text for texts in self.phrases.values() for text in texts)


class ForbiddenPhraseRule(_Strict):
    """None of the phrases may appear in the agent's speech."""

    type: Literal["forbidden_phrase"]
    phrases: PhraseSet
    fuzzy_threshold: int = Field(default=92, ge=50, le=100)


class SilenceRule(_Strict):
    """Voice: the longest silence (and optionally total non-talk and hold time) within limits.

    Measured from the transcript's timings, else the recording's (voice activity detection or
    Contact Lens), else the CDR's hold time — whichever exists.
    """

    type: Literal["max_silence"]
    max_seconds: float = Field(gt=0)
    max_total_non_talk_seconds: float | None = Field(default=None, gt=0)
    max_hold_seconds: float | None = Field(default=None, gt=0)


class RequiredInformationRule(_Strict):
    """Completeness of the answer: for a topic, every fact the agent must state (each a phrase set)."""

    type: Literal["required_information"]
    topics: dict[str, dict[str, PhraseSet]]  # topic -> fact name -> phrases per language
    fuzzy_threshold: int = Field(default=88, ge=50, le=100)


class RecordingNoticeRule(_Strict):
    """The customer was told the call is recorded: by the IVR of the listed queues, or said in the call."""

    type: Literal["recording_notice"]
    phrases: PhraseSet
    within_first_turns: int = Field(default=3, ge=1)
    announced_by_ivr_queues: list[str] = []
    fuzzy_threshold: int = Field(default=88, ge=50, le=100)


class CallingHoursRule(_Strict):
    """Outbound calls only within the permitted local hours of the customer."""

    type: Literal["calling_hours"]
    earliest: str = Field(pattern=r"^\d{2}:\d{2}$")  # "09:00"
    latest: str = Field(pattern=r"^\d{2}:\d{2}$")  # "20:00"
    weekend_earliest: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    weekend_latest: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    customer_timezone: str = "Asia/Almaty"

    _tz = field_validator("customer_timezone")(classmethod(lambda cls, v: _check_timezone(v)))


class ContactFrequencyRule(_Strict):
    """Outbound calls to one customer: at most N a day and M a week (debt-collection style limits)."""

    type: Literal["contact_frequency"]
    max_per_day: int | None = Field(default=None, ge=1)
    max_per_week: int | None = Field(default=None, ge=1)


class InterruptionsRule(_Strict):
    """The agent talks over the customer at most N times (from timings or the recording)."""

    type: Literal["interruptions"]
    max_count: int = Field(ge=0)


class RequiredActionsRule(_Strict):
    """Per topic, the actions that must appear in the action log, in this order, optionally in time."""

    type: Literal["required_actions"]
    topics: dict[str, list[str]]
    max_seconds_after_end: float | None = Field(default=None, ge=0)


class ResolutionRule(_Strict):
    """First-contact resolution: no repeat contact by the customer on the same topic within N days,
    and the contact was not transferred or abandoned."""

    type: Literal["resolution"]
    repeat_within_days: float = Field(default=3, gt=0)
    failing_dispositions: list[str] = ["transferred", "abandoned"]


class ResponseTimeRule(_Strict):
    """Chat: the first agent reply and every reply to a waiting customer within limits."""

    type: Literal["response_time"]
    first_reply_max_seconds: float = Field(gt=0)
    max_customer_wait_seconds: float = Field(gt=0)


class ActionOrderRule(_Strict):
    """For the listed topics' account actions, `required_before` must appear in the action log first."""

    type: Literal["action_order"]
    required_before: str
    guarded_actions: list[str] = Field(min_length=1)


class SensitiveDataRule(_Strict):
    """The agent must not say or write a full card number, national ID or password."""

    type: Literal["sensitive_data"]
    detect: list[Literal["card_number", "national_id", "password"]] = ["card_number", "national_id", "password"]


class ManualRule(_Strict):
    """Only a human evaluator can judge this criterion."""

    type: Literal["manual"]


Rule = Annotated[
    RequiredPhraseRule | ForbiddenPhraseRule | SilenceRule | ResponseTimeRule | ActionOrderRule
    | SensitiveDataRule | ManualRule | RequiredInformationRule | RecordingNoticeRule | CallingHoursRule
    | ContactFrequencyRule | InterruptionsRule | RequiredActionsRule | ResolutionRule,
    Field(discriminator="type"),
]
RULE_TYPES = ("required_phrase", "forbidden_phrase", "max_silence", "response_time", "action_order",
              "sensitive_data", "manual", "required_information", "recording_notice", "calling_hours",
              "contact_frequency", "interruptions", "required_actions", "resolution")


class Title(_Strict):
    en: str
    ru: str


class Criterion(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    title: Title
    weight: float = Field(ge=0)
    critical: bool = False
    channels: list[Literal["voice", "chat", "email"]] = ["voice", "chat"]
    regulation: str | None = None
    error_code: str
    topics: list[str] | None = Field(default=None, min_length=1)  # None = every topic
    # The queues it applies to (None = every queue), or the queues it never applies to. A contact's
    # queue is the one its export names; Telegram exports name none, so such a contact's queue is its
    # source type (telegram).
    queues: list[str] | None = Field(default=None, min_length=1)
    exclude_queues: list[str] = []
    rule: Rule

    @field_validator("topics", "queues", "exclude_queues")
    @classmethod
    def _names_listed_once(cls, names: list[str] | None) -> list[str] | None:
        for name in names or []:
            if not name.strip():
                raise ValueError("an empty name in the list")
        repeated = sorted({name for name in names or [] if names.count(name) > 1})
        if repeated:
            raise ValueError(f"listed twice: {', '.join(repeated)}")
        return names

    @model_validator(mode="after")
    def _queues_or_excluded(self) -> "Criterion":
        if self.queues is not None and self.exclude_queues:
            raise ValueError("give queues (the only queues it applies to) or exclude_queues (every queue but "
                             "these), not both")
        return self


class Section(_Strict):
    id: str
    title: Title
    criteria: list[Criterion] = Field(min_length=1)


class Scorecard(_Strict):
    version: str
    name: str
    # The first local day whose contacts this version checks; None = from the beginning. A contact is
    # checked by the version in force on its day, and keeps that version once its period is closed.
    effective_from: date | None = None
    # What a failed critical criterion does: `contact` scores the contact 0; `section` scores its
    # section 0 (and the contact loses that section's points); `separate` leaves the score alone and
    # reports the critical-error rate beside it.
    critical_effect: Literal["contact", "section", "separate"] = "contact"
    sections: list[Section] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Scorecard":
        seen: dict[str, str] = {}
        for i, section in enumerate(self.sections):
            for j, criterion in enumerate(section.criteria):
                key = f"sections[{i}].criteria[{j}].id"
                if criterion.id in seen:
                    raise KeyedError(key, f"criterion id {criterion.id!r} is used twice (first at {seen[criterion.id]})")
                seen[criterion.id] = key
        return self

    def criteria(self) -> list[Criterion]:
        return [c for s in self.sections for c in s.criteria]

    def section_of(self, criterion_id: str) -> Section:
        return next(s for s in self.sections if any(c.id == criterion_id for c in s.criteria))


# --- error catalogue, sampling, routing ------------------------------------------------

class ErrorCode(_Strict):
    code: str
    title: Title
    group: Literal["customer", "business", "compliance", "service"]
    severity: Literal["critical", "non_critical"]


class ErrorCatalogue(_Strict):
    errors: list[ErrorCode] = Field(min_length=1)

    def codes(self) -> set[str]:
        return {e.code for e in self.errors}


class SamplingTriggers(_Strict):
    """What makes a contact worth a targeted look, beside the random sample."""

    autoqa_critical: bool = True  # AutoQA failed a critical criterion
    repeat_contact: bool = True  # the customer came back on the same topic (resolution rule failed)
    long_silence_seconds: float | None = Field(default=60, gt=0)  # longest silence at least this
    complaint_topics: list[str] = ["complaint"]
    low_csat_max: int | None = Field(default=2, ge=0)  # CSAT at or below this, where the CDR has one


class TargetedPicks(_Strict):
    enabled: bool = True
    cap_per_agent: int = Field(default=3, ge=0)  # per agent x period: targeted picks never crowd the random ones
    triggers: SamplingTriggers = SamplingTriggers()


class SamplingExclusions(_Strict):
    """Contacts the plan never samples (they are still counted and still checked by AutoQA)."""

    min_talk_seconds: float = Field(default=0, ge=0)  # calls shorter than this (a wrong number, a hang-up)
    queues: list[str] = []  # test or internal queues
    customer_numbers: list[str] = []  # internal and test numbers, written as dialled (+7 701 000 00 00)


class Evaluator(_Strict):
    id: str
    team: str | None = None  # with `avoid_own_team`, never assigned this team's agents


class SampleAssignment(_Strict):
    evaluators: list[Evaluator] = []
    avoid_own_team: bool = False


class SamplingPlan(_Strict):
    """The monitoring plan (seed skill 1.1): who is sampled, how many, and who evaluates them."""

    seed: int = 20261101
    period: Literal["week", "month"] = "month"  # quotas are per agent x this period x channel
    quotas: dict[Literal["voice", "chat", "email"], int] = {"voice": 2, "chat": 2}
    spread_over_days: bool = True  # stratify the random picks by day: no day gets two before every day has one
    margin_of_error_pct: float = Field(default=10, gt=0, le=50)  # sufficiency: +/- score points at 95%
    targeted: TargetedPicks = TargetedPicks()
    exclusions: SamplingExclusions = SamplingExclusions()
    assignment: SampleAssignment = SampleAssignment()
    # Older plan files: one quota for every channel, and whether critical AutoQA failures are added.
    per_agent_per_channel: int | None = Field(default=None, ge=0)
    include_critical: bool | None = None

    @model_validator(mode="after")
    def _legacy_keys(self) -> "SamplingPlan":
        if any(q < 0 for q in self.quotas.values()):
            raise ValueError("quotas must be 0 or more")
        return self

    def quota(self, channel: str) -> int:
        if self.per_agent_per_channel is not None:
            return self.per_agent_per_channel
        return self.quotas.get(channel, 0)  # type: ignore[call-overload]

    def critical_trigger(self) -> bool:
        if self.include_critical is not None:
            return self.include_critical
        return self.targeted.triggers.autoqa_critical


class SmtpSettings(_Strict):
    host: str
    port: int = 587
    user: str | None = None
    password_env: str = "CONTACTQA_SMTP_PASSWORD"  # the secret comes from the environment, never a file
    starttls: bool = True
    ssl: bool = False
    # The server's certificate must chain to a trusted CA and name `host`: the system's CAs, or this
    # private CA's certificate (PEM; relative to the project file).
    ca_file: str | None = None
    # A user and password over a connection without TLS would cross the network readable: refused
    # unless this says so (a relay on the same host, say).
    allow_plaintext_login: bool = False

    @model_validator(mode="after")
    def _no_plaintext_password(self) -> "SmtpSettings":
        if self.user and not (self.starttls or self.ssl) and not self.allow_plaintext_login:
            raise ValueError(f"user {self.user!r} would log in without TLS, sending the password in clear text: "
                             "set starttls: true (or ssl: true), or allow_plaintext_login: true if that is wanted")
        return self


class Routing(_Strict):
    sender: str = "qa@contactqa.local"
    cc_supervisor: bool = True
    default_language: Literal["en", "ru"] = "en"
    smtp: SmtpSettings | None = None
    # Feedback goes out per closed period of these types (agents get one email per closed month by default).
    feedback_periods: list[Literal["week", "month"]] = Field(default=["month"], min_length=1)
    # How many of the latest closed periods a run may send for the first time: a new installation on a
    # year of history emails the last month, not twelve. Revisions of periods already sent always go.
    feedback_lookback: int = Field(default=1, ge=1)


# --- sources and the project file ---------------------------------------------------------

SourceType = Literal[
    "agent_directory", "asterisk_cdr", "asterisk_cdr_custom", "freeswitch_cdr", "mapped_cdr", "transcripts",
    "contact_lens", "recordings", "chat_jsonl", "chat_csv", "telegram", "agent_actions", "evaluations",
]


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    type: SourceType
    location: str  # a folder (relative to the project file) or an fsspec URL (sftp://, s3://, https://)
    glob: str = "*"
    # The zone the export's local times are in. Left out, the project's `timezone` (ProjectConfig fills it in).
    timezone: str = "UTC"
    encoding: str | None = None  # None = detect (UTF-8, UTF-8 with BOM, CP1251)
    # The connector's options: each source type declares the ones it takes (contactqa.sources.base.known_options);
    # validate_all names an unknown one with the nearest known name.
    options: dict[str, Any] = {}

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))


class ProjectConfig(_Strict):
    warehouse: str = "warehouse/contactqa.duckdb"
    output_dir: str = "output"
    timezone: str = "UTC"  # the centre's: weeks and months are local, reports show local times
    close_after_days: int = Field(default=3, ge=0)  # a period stays open this many days after its last day
    # One scorecard file, or several versions each with its `effective_from`.
    scorecard: str | list[str] = str(DEFAULT_CONFIG_DIR / "scorecard.yml")
    error_catalogue: str = str(DEFAULT_CONFIG_DIR / "error_catalogue.yml")
    sampling: str = str(DEFAULT_CONFIG_DIR / "sampling.yml")
    routing: str = str(DEFAULT_CONFIG_DIR / "routing.yml")
    regulations_dir: str = str(DEFAULT_CONFIG_DIR / "regulations")
    kb_dir: str = str(DEFAULT_CONFIG_DIR / "kb")  # knowledge-base articles (Markdown), matched to contacts
    report_languages: list[Literal["en", "ru"]] = ["en", "ru"]
    templates_dir: str | None = None  # the centre's own templates, searched before reports/
    sources: list[Source] = []

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))

    @model_validator(mode="before")
    @classmethod
    def _sources_default_to_the_project_timezone(cls, data: Any) -> Any:
        """A source without `timezone` has its times in the centre's zone, not UTC: an export's local
        times are the centre's unless the file says otherwise."""
        if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
            return data
        zone = data.get("timezone", "UTC")
        try:
            _check_timezone(zone)
        except (ValueError, TypeError):
            return data  # reported at `timezone`; the sources keep their own default
        sources = [{**s, "timezone": zone} if isinstance(s, dict) and s.get("timezone") is None else s
                   for s in data["sources"]]
        return {**data, "sources": sources}

    @model_validator(mode="after")
    def _unique_sources(self) -> "ProjectConfig":
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return self


# --- loading ----------------------------------------------------------------------------------

def _format_location(loc: tuple[Any, ...], data: Any) -> str:
    """Turn pydantic's location into a YAML key path a person can find: sections[0].criteria[2].weight."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in RULE_TYPES and parts and parts[-1] == ".rule":
            continue  # the discriminator's branch name is noise for the reader
        else:
            parts.append(f".{item}")
    return "".join(parts).lstrip(".") or "(top level)"


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(path, ["file not found"])
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None


def load_model(model: type[BaseModel], path: Path) -> Any:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            keyed = (err.get("ctx") or {}).get("error")
            key = keyed.key if isinstance(keyed, KeyedError) else _format_location(err["loc"], data)
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key (check the spelling)"
            elif err["type"] == "list_type" and isinstance(err.get("input"), (str, int, float)):
                message += f" (got {err['input']!r}: write a list, e.g. [{err['input']}])"
            problems.append(f"{key}: {message}")
        raise ConfigError(path, problems) from None


class Project:
    """A loaded project: the project file plus the QA team's files, with paths resolved."""

    def __init__(self, config: ProjectConfig, path: Path):
        self.config = config
        self.path = path
        self.base_dir = path.parent

    def resolve(self, value: str) -> Path:
        expanded = Path(os.path.expandvars(os.path.expanduser(value)))
        return expanded if expanded.is_absolute() else (self.base_dir / expanded).resolve()

    @property
    def warehouse_path(self) -> Path:
        override = os.environ.get("CONTACTQA_WAREHOUSE")
        return Path(override) if override else self.resolve(self.config.warehouse)

    @property
    def output_dir(self) -> Path:
        return self.resolve(self.config.output_dir)

    @property
    def templates_dir(self) -> Path | None:
        return self.resolve(self.config.templates_dir) if self.config.templates_dir else None

    def scorecard_paths(self) -> list[Path]:
        files = self.config.scorecard if isinstance(self.config.scorecard, list) else [self.config.scorecard]
        return [self.resolve(f) for f in files]

    def scorecards(self) -> list[Scorecard]:
        """Every configured scorecard version, oldest `effective_from` first."""
        loaded = [(load_model(Scorecard, path), path) for path in self.scorecard_paths()]
        seen: dict[str, Path] = {}
        for card, path in loaded:
            if card.version in seen:
                raise ConfigError(path, [f"version: {card.version!r} is also the version of {seen[card.version]}"])
            seen[card.version] = path
        undated = [path for card, path in loaded if card.effective_from is None]
        if len(loaded) > 1 and undated:
            raise ConfigError(undated[0], ["effective_from: required when the project lists several scorecards"])
        return [card for card, _ in sorted(loaded, key=lambda cp: cp[0].effective_from or date.min)]

    def scorecard(self) -> Scorecard:
        """The newest scorecard version (the one new contacts are checked by)."""
        return self.scorecards()[-1]

    def error_catalogue(self) -> ErrorCatalogue:
        return load_model(ErrorCatalogue, self.resolve(self.config.error_catalogue))

    def sampling(self) -> SamplingPlan:
        return load_model(SamplingPlan, self.resolve(self.config.sampling))

    def routing(self) -> Routing:
        return load_model(Routing, self.resolve(self.config.routing))

    def delivery_settings(self):
        """Routing as the email sender needs it; the SMTP password comes from the environment."""
        from contactqa.delivery import DeliverySettings

        routing = self.routing()
        smtp = routing.smtp
        return DeliverySettings(
            outbox_dir=self.output_dir / "outbox", sender=routing.sender, cc_supervisor=routing.cc_supervisor,
            default_language=routing.default_language,
            smtp_host=smtp.host if smtp else None, smtp_port=smtp.port if smtp else 587,
            smtp_user=smtp.user if smtp else None,
            smtp_password=os.environ.get(smtp.password_env) if smtp else None,
            smtp_starttls=smtp.starttls if smtp else True, smtp_ssl=smtp.ssl if smtp else False,
            smtp_ca_file=self.resolve(smtp.ca_file) if smtp and smtp.ca_file else None,
            smtp_allow_plaintext_login=smtp.allow_plaintext_login if smtp else False,
            # which periods go out and when they count as closed; contact times shown in the centre's zone
            timezone=self.config.timezone, close_after_days=self.config.close_after_days,
            feedback_periods=list(routing.feedback_periods), lookback=routing.feedback_lookback,
        )

    def validate_all(self) -> list[str]:
        """Load every file the project names and cross-check them; returns a line per file checked."""
        from contactqa.autoqa.knowledge import regulation_clauses  # the parser that indexes them

        checked = [f"project: {self.path}"]
        catalogue = self.error_catalogue()
        clauses, clause_problems = regulation_clauses(self.resolve(self.config.regulations_dir))
        self.scorecards()  # the versions agree with each other
        for path in self.scorecard_paths():
            scorecard = load_model(Scorecard, path)
            since = f", in force from {scorecard.effective_from}" if scorecard.effective_from else ""
            checked.append(f"scorecard: {path} (version {scorecard.version}{since}, "
                           f"{len(scorecard.criteria())} criteria, critical effect: {scorecard.critical_effect})")
            unknown = [f"sections: criterion {c.id}: error_code {c.error_code!r} is not in the error catalogue"
                       for c in scorecard.criteria() if c.error_code not in catalogue.codes()]
            unknown += self._unknown_clauses(scorecard, clauses, clause_problems)
            if unknown:
                raise ConfigError(path, unknown)
        checked.append(f"error catalogue: {self.config.error_catalogue} ({len(catalogue.errors)} codes)")
        checked.append(f"regulations: {self.resolve(self.config.regulations_dir)} ({len(clauses)} clauses)")
        notes = self._default_notes()
        checked.append(f"sampling plan: {self.config.sampling}" + (f" — {notes['sampling']}" if "sampling" in notes else ""))
        checked.append(f"routing: {self.config.routing}" + (f" — {notes['routing']}" if "routing" in notes else ""))
        from contactqa.sources.base import option_problems

        problems = [f"sources[{i}].options: source {source.name!r} ({source.type}): {problem}"
                    for i, source in enumerate(self.config.sources)
                    for problem in option_problems(source.type, source.options)]
        if problems:
            raise ConfigError(self.path, problems)
        for source in self.config.sources:
            from contactqa.sources.remote import is_remote

            where = source.location if is_remote(source.location) else self.resolve(source.location)
            checked.append(f"source {source.name}: {source.type} from {where}/{source.glob}, "
                           f"local times in {source.timezone}")
        return checked


    def _unknown_clauses(self, scorecard: Scorecard, clauses: list[str], problems: list[str]) -> list[str]:
        """A cited clause the regulations do not define: its failures would cite a clause with no title."""
        folder = self.resolve(self.config.regulations_dir)
        known = ", ".join(clauses) or "none — " + ("; ".join(problems) or f"{folder} has no '## <clause id> <title>' sections")
        found = []
        for i, section in enumerate(scorecard.sections):
            for j, criterion in enumerate(section.criteria):
                if criterion.regulation is not None and criterion.regulation not in clauses:
                    why = "".join(f"; {p}" for p in problems if criterion.regulation in p)
                    found.append(f"sections[{i}].criteria[{j}].regulation: clause {criterion.regulation!r} is not in "
                                 f"{folder}/*.md{why} (known clauses: {known})")
        return found

    def _default_notes(self) -> dict[str, str]:
        notes = {}
        sampling = self.sampling()
        if "seed" not in sampling.model_fields_set:
            notes["sampling"] = (f"no seed given: the default seed {sampling.seed} is used (write `seed:` to keep "
                                 "the sample reproducible whatever the default becomes)")
        routing = self.routing()
        if "sender" not in routing.model_fields_set:
            notes["routing"] = f"no sender given: the default sender {routing.sender} is used"
        return notes

    def defaults_used(self) -> list[str]:
        """What the QA files left to a default that a reader should know about (seed, sender), one line each."""
        files = {"sampling": f"sampling plan {self.resolve(self.config.sampling)}",
                 "routing": f"routing {self.resolve(self.config.routing)}"}
        return [f"{files[key]}: {note}" for key, note in self._default_notes().items()]


def load_project(path: Path | str | None = None) -> Project:
    path = Path(path) if path else Path(os.environ.get("CONTACTQA_CONFIG", DEFAULT_PROJECT_FILE))
    return Project(load_model(ProjectConfig, path), path.resolve())


def write_project_file(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

