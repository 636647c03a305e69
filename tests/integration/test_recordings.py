"""Call recordings connector: contact ids from file names, every bad file a clear reject, end-to-end ingest."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import duckdb
import numpy as np
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source
from contactqa.sources.base import IngestContext
from contactqa.sources.recordings import parse

DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Aigerim Nurlanova,aigerim@bank.kz,Cards,sup.cards@bank.kz,ru,1001\n"
             "A002,John Smith,john.smith@bank.kz,Billing,sup.billing@bank.kz,en,1002\n")
CDR = "\n".join([
    '"cards","77011234567","700","from-trunk","""Client"" <77011234567>","PJSIP/trunk-0000001a","PJSIP/1001-0000001b",'
    '"Queue","cards,tT,,,300","2026-11-02 10:00:00","2026-11-02 10:00:12","2026-11-02 10:05:12",312,300,"ANSWERED",'
    '"DOCUMENTATION","1762059600.1","card_blocked"',
    '"collections","1002","87015550000","from-internal","""John"" <1002>","PJSIP/1002-0000001e",'
    '"PJSIP/trunk-0000001f","Dial","PJSIP/87015550000@trunk,60","2026-11-02 12:00:00","2026-11-02 12:00:05",'
    '"2026-11-02 12:03:05",185,180,"ANSWERED","DOCUMENTATION","1762066800.3","collections"',
]) + "\n"


def speech(rng: np.random.Generator, seconds: float, rate: int, f0: float) -> np.ndarray:
    """Harmonics of a gliding pitch, in syllables with short pauses (see tests/unit/test_audio.py)."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.12 * np.sin(2 * np.pi * 0.9 * t))) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, int(3400 / f0)))
    envelope = np.zeros(n)
    at = 0.0
    while at < seconds:
        syllable = rng.uniform(0.12, 0.28)
        a, b = int(at * rate), min(n, int((at + syllable) * rate))
        envelope[a:b] = np.sin(np.linspace(0, np.pi, b - a)) ** 0.7
        at += syllable + (rng.uniform(0.05, 0.22) if rng.random() < 0.35 else 0.0)
    return 0.1 * voiced * envelope / np.sqrt(np.mean(voiced ** 2) * 0.5)


def write_call(path: Path, rate: int, layout: list[tuple[int, float, float]], seconds: float, *,
               mono: bool = False, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    channels = rng.normal(0, 0.003, (2, int(seconds * rate)))  # about -50 dBFS of line noise
    for side, start, end in layout:
        voice = speech(rng, end - start, rate, 120.0 if side == 0 else 210.0)
        channels[side, int(start * rate):int(start * rate) + len(voice)] += voice
    signal = channels.mean(axis=0, keepdims=True) if mono else channels
    with wave.open(str(path), "wb") as out:
        out.setnchannels(signal.shape[0])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.rint(np.clip(signal.T, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def write_riff(path: Path, tag: int, channels: int, rate: int, bits: int, data: bytes, block_align: int) -> Path:
    fmt = struct.pack("<HHIIHHH", tag, channels, rate, rate * block_align, block_align, bits, 0)
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def header_only(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
    return path


def raw(data: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return make


# file -> how it is made, and the reason quarantine must show
BAD_FILES = {
    "zero.wav": (raw(b""), "empty file (0 bytes)"),
    "header-only.wav": (header_only, "the WAV has no audio frames (header only, 44 bytes)"),
    "notes.wav": (raw(b"call notes, not audio\n"),
                  "not a WAV file: no RIFF/WAVE header (starts with b'call notes, ')"),
    "mp3-renamed.wav": (raw(b"ID3\x04\x00" + bytes(200)), "not a WAV file: it is MP3 audio"),
    "gsm.wav": (lambda p: write_riff(p, 0x31, 1, 8000, 0, bytes(650), 65),
                "WAV encoding 49 (GSM 6.10) is not supported: convert to PCM"),
    "adpcm.wav": (lambda p: write_riff(p, 0x11, 1, 8000, 4, bytes(512), 256),
                  "WAV encoding 17 (IMA ADPCM) is not supported: convert to PCM"),
    "pcm64.wav": (lambda p: write_riff(p, 1, 1, 8000, 64, bytes(800), 8),
                  "64-bit PCM is not supported (8, 16, 24 or 32-bit)"),
    "surround.wav": (lambda p: write_riff(p, 1, 6, 8000, 16, bytes(1200), 12),
                     "6 audio channels: expected mono or stereo (agent and customer)"),
    "hifi.wav": (lambda p: write_riff(p, 1, 1, 96000, 16, bytes(800), 2),
                 "sample rate 96000 Hz is not supported (8000–48000 Hz)"),
    "cut-header.wav": (raw(b"RIFF\x24\x03\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"),
                       "damaged WAV header: the file ends inside the header"),
}


@pytest.mark.parametrize("file_name", sorted(BAD_FILES))
def test_a_bad_file_is_one_record_rejected_with_its_reason(tmp_path, file_name):
    make, reason = BAD_FILES[file_name]
    path = make(tmp_path / file_name)
    parsed = parse(path, str(path), IngestContext())
    assert parsed.records_read == 1 and parsed.tables == {}
    assert [(r.locator, r.reason) for r in parsed.rejects] == [("file", reason)]
    assert file_name in parsed.rejects[0].raw  # quarantine keeps the name, size and first bytes


@pytest.mark.parametrize(("file_name", "options", "contact_id"), [
    ("1762059600.1.wav", {}, "1762059600.1"),
    ("in-700-77011234567-20261102-100012-1762059600.1.wav", {}, "1762059600.1"),  # FreePBX
    ("call_42.wav", {}, "call_42"),
    ("2026-11-02_CALL-8812_agent1001.wav", {"contact_id_pattern": r"CALL-(?P<contact_id>\d+)"}, "8812"),
])
def test_contact_id_comes_from_the_file_name(tmp_path, file_name, options, contact_id):
    path = write_call(tmp_path / file_name, 8000, [(0, 0.5, 2.0)], 3.0)
    parsed = parse(path, str(path), IngestContext(options=options))
    [row] = parsed.tables["call_metrics"]
    assert row["contact_id"] == contact_id and row["metrics_source"] == "vad" and row["recording_uri"] == str(path)


def test_a_name_the_pattern_does_not_match_is_rejected(tmp_path):
    path = write_call(tmp_path / "random.wav", 8000, [(0, 0.5, 2.0)], 3.0)
    parsed = parse(path, str(path), IngestContext(options={"contact_id_pattern": r"CALL-(?P<contact_id>\d+)"}))
    assert [r.reason for r in parsed.rejects] == [
        r"file name 'random.wav' does not match contact_id_pattern 'CALL-(?P<contact_id>\d+)'"]


@pytest.mark.parametrize(("options", "message"), [
    ({"contact_id_pattern": r"CALL-(\d+)"}, r"needs a named group \(\?P<contact_id>"),
    ({"contact_id_pattern": r"CALL-(?P<contact_id>\d+"}, "is not a valid regex"),
    ({"agent_channel": 2}, "agent_channel must be 0 or 1"),
    ({"vad_mode": 7}, "vad_mode must be 0, 1, 2 or 3"),
    ({"vad_mode": "loud"}, "^recordings source: vad_mode must be a number, not .loud.$"),
    ({"agent_chanel": 1}, "unknown option.*agent_chanel"),
])
def test_a_bad_option_stops_with_a_clear_error(tmp_path, options, message):
    path = write_call(tmp_path / "1.1.wav", 8000, [(0, 0.5, 2.0)], 3.0)
    with pytest.raises(ValueError, match=message):
        parse(path, str(path), IngestContext(options=options))


@pytest.fixture()
def project(tmp_path: Path):
    landing = tmp_path / "landing"
    for folder in ("directory", "cdr", "recordings"):
        (landing / folder).mkdir(parents=True)
    (landing / "directory/agents.csv").write_text(DIRECTORY, encoding="utf-8")
    (landing / "cdr/Master.csv").write_text(CDR, encoding="utf-8")
    recordings = landing / "recordings"
    # Stereo, agent on the left: agent 0-4 s, customer 4.5-8 s, 20 s of dead air, agent 28-30 s
    # with the customer cutting in at 29 s.
    write_call(recordings / "1762059600.1.wav", 8000,
               [(0, 0.0, 4.0), (1, 4.5, 8.0), (0, 28.0, 30.0), (1, 29.0, 31.0)], 33.0)
    write_call(recordings / "out-87015550000-1002-20261102-120000-1762066800.3.wav", 16000,
               [(0, 1.0, 3.0), (1, 6.0, 8.0)], 10.0, mono=True)
    write_call(recordings / "1762099999.9.wav", 8000, [(0, 0.0, 2.0)], 3.0)  # no CDR row
    (recordings / "1762059600.2.wav").write_bytes(b"")
    write_riff(recordings / "1762066800.4.wav", 0x31, 1, 8000, 0, bytes(650), 65)
    sources = [
        {"name": "directory", "type": "agent_directory", "location": "landing/directory", "glob": "*.csv"},
        {"name": "asterisk", "type": "asterisk_cdr", "location": "landing/cdr", "glob": "*.csv",
         "timezone": "Asia/Almaty"},
        {"name": "recordings", "type": "recordings", "location": "landing/recordings", "glob": "*.wav",
         "options": {"vad_mode": 2, "agent_channel": 0}},
    ]
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": sources})
    return load_project(tmp_path / "contactqa.yml")


def query(project, sql):
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_recordings_ingest_end_to_end(project):
    summaries = {s.name: ingest_source(project.warehouse_path, project, s, "run-1") for s in project.config.sources}
    recordings = summaries["recordings"]
    assert (recordings.files_new, recordings.rows_read, recordings.rows_loaded, recordings.rows_quarantined) == (
        5, 5, 2, 3)
    for outcome in recordings.files:
        assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined == 1, outcome

    rows = {r[0]: r[1:] for r in query(project, """
        SELECT contact_id, metrics_source, sample_rate_hz, audio_channels, duration_s, agent_talk_s, customer_talk_s,
               total_talk_s, longest_silence_s, longest_silence_at_ms, non_talk_s, overtalk_s, interruptions
        FROM raw.call_metrics""")}
    assert set(rows) == {"1762059600.1", "1762066800.3"}
    source, rate, channels, duration, agent, customer, total, silence, silence_at, non_talk, overtalk, cut_ins = (
        rows["1762059600.1"])
    assert (source, rate, channels, duration) == ("vad", 8000, 2, 33.0)
    assert agent == pytest.approx(6.0, abs=0.3) and customer == pytest.approx(5.5, abs=0.3)
    assert total == pytest.approx(10.5, abs=0.3) and non_talk == pytest.approx(33.0 - total)
    assert silence == pytest.approx(20.0, abs=0.5) and silence_at == pytest.approx(8000, abs=300)
    assert overtalk == pytest.approx(1.0, abs=0.3) and cut_ins == 1
    mono = rows["1762066800.3"]
    assert mono[1:3] == (16000, 1) and mono[6] == pytest.approx(4.0, abs=0.3)
    assert mono[4] is None and mono[5] is None and mono[10] is None and mono[11] is None
    assert mono[7] == pytest.approx(3.0, abs=0.3) and mono[8] == pytest.approx(3000, abs=300)

    reasons = {Path(f).name: r for f, r in query(
        project, "SELECT source_file, reasons FROM raw.quarantine WHERE source = 'recordings'")}
    assert reasons["1762059600.2.wav"] == "empty file (0 bytes)"
    assert reasons["1762066800.4.wav"] == "WAV encoding 49 (GSM 6.10) is not supported: convert to PCM"
    assert reasons["1762099999.9.wav"].startswith(
        "no CDR row for this recording (load the CDR first): contact_id='1762099999.9'")
    ledger = query(project, "SELECT rows_read, rows_loaded, rows_quarantined, status FROM raw.ingest_ledger "
                            "WHERE source = 'recordings' ORDER BY source_file")
    assert sorted(ledger) == sorted([(1, 1, 0, "loaded")] * 2 + [(1, 0, 1, "quarantined")] * 3)

    again = ingest_source(project.warehouse_path, project, project.config.sources[2], "run-2")
    assert again.files_new == 0
    assert query(project, "SELECT count(*) FROM raw.call_metrics") == [(2,)]
