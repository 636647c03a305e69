"""Options of the synthetic contact-centre generator and their validation."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

# Fault codes exactly as the ground truth and the AutoQA benchmark name them.
FAULT_CODES: tuple[str, ...] = (
    "no_greeting",
    "no_introduction",
    "rude_phrase",
    "missing_closing",
    "long_silence",
    "slow_reply",
    "identity_not_verified",
    "card_number_disclosed",
)

# Defaults sit in the 8-12 % band: frequent enough that a small run exercises
# every rule, rare enough that most contacts stay clean.
DEFAULT_FAULT_RATES: dict[str, float] = {
    "no_greeting": 0.08,
    "no_introduction": 0.10,
    "rude_phrase": 0.08,
    "missing_closing": 0.10,
    "long_silence": 0.10,
    "slow_reply": 0.12,
    "identity_not_verified": 0.10,
    "card_number_disclosed": 0.08,
}

TRANSCRIPT_LAYOUTS: tuple[str, ...] = ("daily", "per_call")

# Telegram's result.json is one JSON document that a connector has to parse
# whole; past this many conversations the rest of the chats go to JSONL.
DEFAULT_TELEGRAM_MAX_CONVERSATIONS = 20_000


@dataclass(frozen=True)
class GenerateOptions:
    seed: int = 42
    agents: int = 20
    teams: int = 3
    days: int = 5
    contacts_per_agent_per_day: int = 8
    start_date: dt.date = dt.date(2026, 11, 2)
    timezone: str = "Asia/Almaty"
    chat_share: float = 0.35
    telegram_share: float = 0.3
    outbound_share: float = 0.2
    russian_share: float = 0.6
    transcript_layout: str = "daily"
    fault_rates: dict[str, float] | None = None
    telegram_max_conversations: int = DEFAULT_TELEGRAM_MAX_CONVERSATIONS
    company_ru: str = "КенБанк"
    company_en: str = "KenBank"
    email_domain: str = "kenbank.kz"

    @property
    def total_contacts(self) -> int:
        return self.agents * self.days * self.contacts_per_agent_per_day

    def effective_fault_rates(self) -> dict[str, float]:
        rates = dict(DEFAULT_FAULT_RATES)
        if self.fault_rates is not None:
            rates.update(self.fault_rates)
        return rates

    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def _is_share(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0.0 <= value <= 1.0
    )


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def validate_options(opts: GenerateOptions) -> None:
    """Raise ValueError naming the first bad option and why."""
    if not isinstance(opts.seed, int) or isinstance(opts.seed, bool):
        raise ValueError(f"seed must be an integer, got {opts.seed!r}")
    for name in ("agents", "teams", "days", "contacts_per_agent_per_day", "telegram_max_conversations"):
        value = getattr(opts, name)
        if not _is_positive_int(value):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if opts.teams > opts.agents:
        raise ValueError(f"teams ({opts.teams}) cannot exceed agents ({opts.agents}): every team needs an agent")
    if not isinstance(opts.start_date, dt.date) or isinstance(opts.start_date, dt.datetime):
        raise ValueError(f"start_date must be a datetime.date, got {opts.start_date!r}")
    for name in ("chat_share", "telegram_share", "outbound_share", "russian_share"):
        value = getattr(opts, name)
        if not _is_share(value):
            raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    if opts.transcript_layout not in TRANSCRIPT_LAYOUTS:
        raise ValueError(
            f"transcript_layout must be one of {', '.join(TRANSCRIPT_LAYOUTS)}, got {opts.transcript_layout!r}"
        )
    if not isinstance(opts.timezone, str) or not opts.timezone:
        raise ValueError(f"timezone must be an IANA zone name such as 'Asia/Almaty', got {opts.timezone!r}")
    try:
        zoneinfo.ZoneInfo(opts.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"timezone {opts.timezone!r} is not a known IANA time zone ({exc})") from None
    if opts.fault_rates is not None:
        if not isinstance(opts.fault_rates, dict):
            raise ValueError(f"fault_rates must be a dict fault_code -> probability, got {type(opts.fault_rates).__name__}")
        unknown = sorted(repr(k) for k in set(opts.fault_rates) - set(FAULT_CODES))
        if unknown:
            raise ValueError(
                f"unknown fault code(s) in fault_rates: {', '.join(unknown)}; "
                f"known codes: {', '.join(FAULT_CODES)}"
            )
        for code, rate in opts.fault_rates.items():
            if not _is_share(rate):
                raise ValueError(f"fault_rates[{code!r}] must be a probability between 0 and 1, got {rate!r}")
    try:
        opts.start_date + dt.timedelta(days=opts.days)
    except OverflowError:
        raise ValueError(f"start_date {opts.start_date} plus {opts.days} days is past the last representable date") from None


@dataclass
class GenerateSummary:
    contacts: int = 0
    voice_calls: int = 0
    # Generic JSONL chat conversations (Telegram ones are counted apart).
    chats: int = 0
    # Telegram conversations (contacts); a Telegram chat may hold several.
    telegram_chats: int = 0
    agents: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    landing_dir: Path = Path()
    ground_truth_path: Path = Path()
    answered_calls: int = 0
    telegram_dialogs: int = 0
