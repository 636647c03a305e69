"""Call recordings (WAV): talk, silence and overtalk measured from the audio, one row per file.

A voice contact without a transcript can still be checked against silence and hold rules:
webrtcvad finds speech per channel (see contactqa.sources.audio), and the row in call_metrics
(metrics_source 'vad') says how long each side talked, the longest silence between the first and
the last speech and where it starts, and how much the two sides talked over each other.

Stereo recordings carry one party per channel (Asterisk MixMonitor with r()/t() mixed to
stereo, most recorders' "dual channel" mode): channel 0 is the agent unless `agent_channel: 1`.
Mono recordings give total talk and silence only; per-side talk and overtalk stay empty.

The contact id comes from the file name: by default its stem (`1762059600.1.wav` ->
`1762059600.1`), or the Asterisk uniqueid that ends a FreePBX-style name
(`in-700-77011234567-20261102-100012-1762059600.1.wav` -> `1762059600.1`). Other layouts set
`contact_id_pattern`, a regex with a named group `contact_id` searched in the file name.

Options (all optional):
  contact_id_pattern  regex with (?P<contact_id>...), searched in the file name
  agent_channel       0 or 1 (default 0): which stereo channel is the agent
  vad_mode            webrtcvad aggressiveness 0..3 (default 2; 3 drops more noise, and some quiet speech)
  min_speech_ms       shorter speech bursts are ignored as clicks or breaths (default 100)
  min_silence_ms      shorter gaps do not split an utterance (default 300)
  speech_floor_dbfs   frames quieter than this are never speech (default -50)
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from contactqa.quality import window
from contactqa.sources.audio import AudioError, VadSettings, measure, read_wav
from contactqa.sources.base import IngestContext, ParsedFile, connector

METRICS_SOURCE = "vad"
LOCATOR = "file"
OPTIONS = {
    "contact_id_pattern": "a regex with (?P<contact_id>...), searched in the file name",
    "agent_channel": "which stereo channel is the agent: 0 (default) or 1",
    "vad_mode": "webrtcvad aggressiveness 0..3 (default 2)",
    "min_speech_ms": "shorter speech bursts are ignored (default 100)",
    "min_silence_ms": "shorter gaps do not split an utterance (default 300)",
    "speech_floor_dbfs": "frames quieter than this are never speech (default -50)",
}
RECORD_UNIT = "recording"
_UNIQUEID_TAIL = re.compile(r"(?:^|[-_])(?P<contact_id>\d{9,11}\.\d+)$")


@connector("recordings")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    # A bad option is the project's mistake, not the file's: it stops the run (ValueError, naming the
    # option) instead of quarantining every recording and marking them all as ingested.
    settings, agent_channel, pattern = _options(ctx.options)
    parsed = ParsedFile(name, primary="call_metrics")
    parsed.records_read = 1
    contact_id = _contact_id(path.name, pattern)
    if contact_id is None:
        parsed.reject(LOCATOR, _describe(path),
                      f"file name {path.name!r} does not match contact_id_pattern '{pattern.pattern}'")
        return parsed
    try:
        recording = read_wav(path)
        metrics = measure(recording, settings, agent_channel)
    except AudioError as exc:
        parsed.reject(LOCATOR, _describe(path), str(exc))
        return parsed
    except OSError:
        raise  # unreadable now (permissions, a vanished mount): retry later, do not mark it ingested
    except Exception as exc:  # noqa: BLE001 - one odd file must not stop a night's recordings
        parsed.reject(LOCATOR, _describe(path), f"could not measure the recording ({type(exc).__name__}: {exc})")
        return parsed
    parsed.notes.extend(f"{path.name}: {note}" for note in recording.notes)
    parsed.add("call_metrics", {
        "contact_id": contact_id,
        "metrics_source": METRICS_SOURCE,
        "recording_uri": name,
        "sample_rate_hz": recording.sample_rate,
        "audio_channels": recording.channels,
        "duration_s": metrics.duration_s,
        "agent_talk_s": metrics.agent_talk_s,
        "customer_talk_s": metrics.customer_talk_s,
        "total_talk_s": metrics.total_talk_s,
        "longest_silence_s": metrics.longest_silence_s,
        "longest_silence_at_ms": metrics.longest_silence_at_ms,
        "non_talk_s": metrics.non_talk_s,
        "overtalk_s": metrics.overtalk_s,
        "interruptions": metrics.interruptions,
        "record_locator": LOCATOR,
    })
    return parsed


def _contact_id(file_name: str, pattern: re.Pattern[str] | None) -> str | None:
    if pattern is not None:
        match = pattern.search(file_name)
        return match.group("contact_id") if match and match.group("contact_id") else None
    stem = Path(file_name).stem
    match = _UNIQUEID_TAIL.search(stem)
    return match.group("contact_id") if match else stem


def _options(options: dict[str, Any]) -> tuple[VadSettings, int, re.Pattern[str] | None]:
    unknown = sorted(set(options) - set(OPTIONS) - set(window.OPTIONS))  # the window's: every source takes them
    if unknown:
        raise ValueError(f"recordings source: unknown option(s) {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(OPTIONS))}")
    agent_channel = _number(options, "agent_channel", 0, int)
    if agent_channel not in (0, 1):
        raise ValueError(f"recordings source: agent_channel must be 0 or 1, not {options['agent_channel']!r}")
    numbers = dict(mode=_number(options, "vad_mode", 2, int),
                   min_speech_ms=_number(options, "min_speech_ms", 100, int),
                   min_silence_ms=_number(options, "min_silence_ms", 300, int),
                   floor_dbfs=_number(options, "speech_floor_dbfs", -50.0, float))
    try:
        settings = VadSettings(**numbers)
    except ValueError as exc:
        raise ValueError(f"recordings source: {exc}") from None
    pattern = options.get("contact_id_pattern")
    return settings, agent_channel, _compile(str(pattern)) if pattern else None


def _number(options: dict[str, Any], key: str, default: Any, kind: type) -> Any:
    value = options.get(key, default)
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"recordings source: {key} must be a number, not {value!r}") from None


@lru_cache(maxsize=8)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"recordings source: contact_id_pattern {pattern!r} is not a valid regex ({exc})") from None
    if "contact_id" not in compiled.groupindex:
        raise ValueError(f"recordings source: contact_id_pattern {pattern!r} needs a named group "
                         f"(?P<contact_id>...)")
    return compiled


def _describe(path: Path) -> str:
    """What quarantine keeps of a file that is not a row: its size and first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
        return f"{path.name}: {path.stat().st_size} bytes, starts {head!r}"
    except OSError as exc:
        return f"{path.name}: unreadable ({exc})"
