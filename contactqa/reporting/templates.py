"""The project's one jinja2 Environment: reports, feedback emails and worksheets use it.

Templates live in `reports/<language>/` (one folder per language, `en` is the fallback)
with shared pieces in `reports/common/`. A centre overrides any template by putting a
file with the same relative path into its own folder (`templates_dir`, or the
`CONTACTQA_TEMPLATES_DIR` environment variable); that folder is searched first.

Autoescaping is on for HTML, XML and .eml templates (`report.html.j2` counts as HTML).
Filters:
  mask            personal data masked (contactqa.privacy.mask_pii), then escaped
  number(d=0)     1,234.5 / 1 234,5 by the template's language
  pct(d=1)        a 0-100 value as a percentage: 87.5% / 87,5 %
  share(d=1)      a 0-1 fraction as a percentage
  date / datetime UTC timestamps: 2026-11-03 14:05 / 03.11.2026 14:05
  mmss            an offset in milliseconds as m:ss (h:mm:ss past an hour)
  period_name     2026-11 -> November 2026 / ноябрь 2026; 2026-W45 -> week 45 of 2026 (2 Nov – 8 Nov)
The language a filter formats for is the `language` variable of the template context.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound, pass_context, pass_eval_context
from markupsafe import Markup, escape

from contactqa.privacy import mask_pii

REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "reports"
FALLBACK_LANGUAGE = "en"
OVERRIDE_ENV_VAR = "CONTACTQA_TEMPLATES_DIR"

_ESCAPED_SUFFIXES = (".html", ".htm", ".xml", ".eml", ".svg")

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
    "ru": ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
           "октябрь", "ноябрь", "декабрь"],
}
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: the Russian thousands separator


def _autoescape(template_name: str | None) -> bool:
    if template_name is None:
        return True
    name = template_name.lower().removesuffix(".j2").removesuffix(".jinja")
    return name.endswith(_ESCAPED_SUFFIXES)


def normalize_language(language: str | None) -> str:
    """'ru_RU', 'RU-ru', ' ru ' -> 'ru'; empty -> the fallback language."""
    if not language:
        return FALLBACK_LANGUAGE
    return language.strip().replace("_", "-").split("-")[0].lower() or FALLBACK_LANGUAGE


def _lang(ctx: Any) -> str:
    return normalize_language(ctx.get("language")) if ctx is not None else FALLBACK_LANGUAGE


def format_number(value: Any, digits: int = 0, language: str = FALLBACK_LANGUAGE) -> str:
    if value is None:
        return "—"
    text = f"{float(value):,.{digits}f}"
    if language == "ru":
        text = text.replace(",", NNBSP).replace(".", ",")
    return text


def format_pct(value: Any, digits: int = 1, language: str = FALLBACK_LANGUAGE) -> str:
    if value is None:
        return "—"
    number = format_number(value, digits, language)
    return f"{number}{NBSP}%" if language == "ru" else f"{number}%"


@pass_context
def _number(ctx: Any, value: Any, digits: int = 0) -> str:
    return format_number(value, digits, _lang(ctx))


@pass_context
def _pct(ctx: Any, value: Any, digits: int = 1) -> str:
    return format_pct(value, digits, _lang(ctx))


@pass_context
def _share(ctx: Any, value: Any, digits: int = 1) -> str:
    return format_pct(None if value is None else float(value) * 100, digits, _lang(ctx))


@pass_context
def _date(ctx: Any, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%d.%m.%Y" if _lang(ctx) == "ru" else "%Y-%m-%d")


@pass_context
def _datetime(ctx: Any, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) and isinstance(value, date):
        return _date(ctx, value)
    return value.strftime("%d.%m.%Y %H:%M" if _lang(ctx) == "ru" else "%Y-%m-%d %H:%M")


def format_mmss(offset_ms: Any) -> str:
    if offset_ms is None:
        return "—"
    seconds = int(offset_ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@pass_context
def _period_name(ctx: Any, period: Any) -> str:
    if not period:
        return "—"
    if "-W" in str(period):
        return _week_name(str(period), _lang(ctx))
    try:
        year, month = str(period).split("-")[:2]
        return f"{_MONTHS[_lang(ctx) if _lang(ctx) in _MONTHS else 'en'][int(month) - 1]} {year}"
    except (ValueError, IndexError):
        return str(period)


def _week_name(key: str, language: str) -> str:
    """2026-W45 -> 'week 45 of 2026 (2 Nov – 8 Nov)' / '02.11–08.11.2026 (неделя 45)'."""
    try:
        year, week = key.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        sunday = date.fromisocalendar(int(year), int(week), 7)
    except ValueError:
        return key
    if language == "ru":  # dates first: reads right after «за» and «—» alike
        return f"{monday:%d.%m}–{sunday:%d.%m.%Y} (неделя {int(week)})"
    short = [m[:3] for m in _MONTHS["en"]]  # not %b: that follows the process locale
    return f"week {int(week)} of {year} ({monday.day} {short[monday.month - 1]} – {sunday.day} {short[sunday.month - 1]})"


@pass_eval_context
def _mask(eval_ctx: Any, value: Any) -> str | Markup:
    masked = mask_pii(None if value is None else str(value))
    # In HTML the masked text is escaped here, so `|mask|safe` can never let markup through;
    # in plain-text templates (emails' text part) it stays as it is.
    return escape(masked) if eval_ctx.autoescape else masked


@lru_cache(maxsize=8)
def _environment(search_path: tuple[str, ...]) -> Environment:
    env = Environment(
        loader=FileSystemLoader(list(search_path)),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        mask=_mask, number=_number, pct=_pct, share=_share, date=_date, datetime=_datetime,
        mmss=format_mmss, period_name=_period_name,
    )
    env.globals["mask_pii"] = mask_pii
    return env


def environment(templates_dir: str | Path | None = None) -> Environment:
    """The shared Environment; `templates_dir` (or $CONTACTQA_TEMPLATES_DIR) overrides templates."""
    override = templates_dir or os.environ.get(OVERRIDE_ENV_VAR) or None
    path = [str(Path(override).expanduser().resolve())] if override else []
    path.append(str(REPO_TEMPLATES))
    return _environment(tuple(path))


def get_template(name: str, language: str | None, templates_dir: str | Path | None = None) -> tuple[Template, str]:
    """The template `name` in `language`'s folder (or the English one); returns it and the language used."""
    lang = normalize_language(language)
    env = environment(templates_dir)
    candidates = [f"{lang}/{name}"] if lang == FALLBACK_LANGUAGE else [f"{lang}/{name}", f"{FALLBACK_LANGUAGE}/{name}"]
    try:
        template = env.select_template(candidates)
    except TemplateNotFound as exc:
        raise TemplateNotFound(
            f"no template {name!r} for language {lang!r} in {', '.join(env.loader.searchpath)}"  # type: ignore[attr-defined]
        ) from exc
    return template, template.name.split("/")[0] if template.name else lang


def render(name: str, language: str | None, context: dict[str, Any], templates_dir: str | Path | None = None) -> str:
    template, used = get_template(name, language, templates_dir)
    return template.render({**context, "language": used})
