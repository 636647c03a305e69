"""Reading call recordings (WAV) and measuring who talks when, with WebRTC's voice activity detector.

Kept apart from the connector so the signal processing can be tested, benchmarked and reused
(e.g. by a future stereo-split or diarisation step) without the ingest machinery.

Pipeline per channel: samples -> 16-bit -> 8 or 16 kHz (8 and 16 kHz as they are; any other rate
resampled to 16 kHz) -> one speech/non-speech decision per 30 ms frame -> smoothing (short gaps
bridged, short bursts dropped) -> speech segments. The call's metrics come from the per-channel
frame masks: their union is talk, their intersection overtalk.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import webrtcvad

MIN_RATE_HZ, MAX_RATE_HZ = 8000, 48000
# webrtcvad also takes 32 and 48 kHz, but only downsamples them to 8 kHz inside, frame by frame and
# slower than one numpy pass to 16 kHz does (a 10-minute stereo 48 kHz call: 2.0 s -> under 1 s).
VAD_RATES_HZ = (8000, 16000)
RESAMPLE_TO_HZ = 16000
FRAME_MS = 30

# WAVE format tags (RFC 2361 / mmreg.h) we can name in a reject reason.
ENCODINGS = {
    0x0001: "PCM", 0x0002: "Microsoft ADPCM", 0x0003: "IEEE float", 0x0006: "A-law", 0x0007: "μ-law",
    0x0011: "IMA ADPCM", 0x0031: "GSM 6.10", 0x0050: "MPEG", 0x0055: "MP3", 0xFFFE: "extensible",
}
_PCM, _FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE

# What a file that is not a RIFF/WAVE usually is, by its first bytes.
_MAGIC = [(b"RF64", "an RF64 (over 4 GB) WAV, which is not supported"),
          (b"RIFX", "a big-endian RIFX WAV, which is not supported"),
          (b"OggS", "Ogg audio"), (b"fLaC", "FLAC audio"), (b"ID3", "MP3 audio"), (b"\xff\xfb", "MP3 audio"),
          (b"\xff\xf3", "MP3 audio"), (b"#!AMR", "AMR audio"), (b"FORM", "AIFF audio"),
          (b"\x1aE\xdf\xa3", "WebM/Matroska"), (b"PK\x03\x04", "a ZIP archive")]


class AudioError(ValueError):
    """A recording that cannot be measured; the message is the reason a QA lead reads in quarantine."""


@dataclass
class Recording:
    samples: np.ndarray  # int16, shape (channels, frames)
    sample_rate: int
    encoding: str  # "PCM 16-bit", "μ-law", ...
    notes: list[str] = field(default_factory=list)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate


@dataclass(frozen=True)
class VadSettings:
    mode: int = 2  # webrtcvad aggressiveness 0 (keeps most) .. 3 (drops most non-speech)
    min_speech_ms: int = 100  # shorter bursts are clicks or breaths, not talk
    min_silence_ms: int = 300  # shorter gaps are pauses inside an utterance
    floor_dbfs: float = -50.0  # frames quieter than this are never speech (line noise, comfort noise)

    def __post_init__(self) -> None:
        if self.mode not in (0, 1, 2, 3):
            raise ValueError(f"vad_mode must be 0, 1, 2 or 3, not {self.mode!r}")
        if self.min_speech_ms < 0 or self.min_silence_ms < 0:
            raise ValueError("min_speech_ms and min_silence_ms must not be negative")


@dataclass
class CallMetrics:
    duration_s: float
    total_talk_s: float
    non_talk_s: float
    longest_silence_s: float
    longest_silence_at_ms: int | None  # None when there is no gap between speech
    agent_talk_s: float | None = None
    customer_talk_s: float | None = None
    overtalk_s: float | None = None
    interruptions: int | None = None
    agent_segments_ms: list[tuple[int, int]] = field(default_factory=list)
    customer_segments_ms: list[tuple[int, int]] = field(default_factory=list)
    talk_segments_ms: list[tuple[int, int]] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------------


def read_wav(path: Path) -> Recording:
    """The recording's samples as 16-bit channels; AudioError says why a file cannot be read."""
    size = path.stat().st_size
    if size == 0:
        raise AudioError("empty file (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AudioError(_not_wav(head))
    try:
        with wave.open(str(path), "rb") as reader:
            channels, width, rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
            declared = reader.getnframes()
            _check_layout(channels, rate)
            if width not in (1, 2, 3, 4):
                raise AudioError(f"{width * 8}-bit PCM is not supported (8, 16, 24 or 32-bit)")
            raw = reader.readframes(declared)
        encoding, tag = f"PCM {width * 8}-bit", _PCM
    except wave.Error as exc:
        if not str(exc).startswith("unknown format"):
            raise AudioError(f"damaged WAV header: {exc}") from None
        # The stdlib reads PCM only; G.711, float and WAVE_FORMAT_EXTENSIBLE are decoded here.
        tag, channels, rate, width, raw, declared = _read_non_pcm(path)
        encoding = ENCODINGS[tag] if tag != _PCM else f"PCM {width * 8}-bit"
    except EOFError:
        raise AudioError("damaged WAV header: the file ends inside the header") from None
    except struct.error:
        raise AudioError("damaged WAV header: the fmt chunk is too short") from None
    frame_bytes = width * channels
    frames = len(raw) // frame_bytes
    if frames == 0:
        raise AudioError(f"the WAV has no audio frames (header only, {size} bytes)")
    notes = []
    if frames < declared:
        notes.append(f"header declares {declared} frames but the file holds {frames} "
                     f"(unfinished or truncated recording); measured what is there")
    samples = _to_int16(raw[: frames * frame_bytes], tag, width).reshape(frames, channels).T
    return Recording(np.ascontiguousarray(samples), rate, encoding, notes)


def _not_wav(head: bytes) -> str:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"not a WAV file: it is {what}"
    return f"not a WAV file: no RIFF/WAVE header (starts with {head[:12]!r})"


def _check_layout(channels: int, rate: int) -> None:
    if channels not in (1, 2):
        raise AudioError(f"{channels} audio channels: expected mono or stereo (agent and customer)")
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise AudioError(f"sample rate {rate} Hz is not supported ({MIN_RATE_HZ}–{MAX_RATE_HZ} Hz)")


def _read_non_pcm(path: Path) -> tuple[int, int, int, int, bytes, int]:
    """Walk the RIFF chunks for what `wave` refuses: (format tag, channels, rate, width, data, frames)."""
    data = path.read_bytes()
    pos, fmt, body, declared_bytes = 12, None, None, 0
    while pos + 8 <= len(data) and (fmt is None or body is None):
        chunk_id, chunk_size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        start = pos + 8
        if chunk_id == b"fmt ":
            fmt = data[start:start + chunk_size]
        elif chunk_id == b"data":
            body = data[start:start + chunk_size]
            declared_bytes = chunk_size
        pos = start + chunk_size + (chunk_size & 1)
    if fmt is None or len(fmt) < 16 or body is None:
        raise AudioError("damaged WAV header: fmt chunk and/or data chunk missing")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 26:
            raise AudioError("damaged WAV header: WAVE_FORMAT_EXTENSIBLE without its sub-format")
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if tag not in (_PCM, _FLOAT, _ALAW, _MULAW):
        name = ENCODINGS.get(tag)
        raise AudioError(f"WAV encoding {tag}{f' ({name})' if name else ''} is not supported: convert to PCM")
    _check_layout(channels, rate)
    if block_align == 0:
        raise AudioError("damaged WAV header: block size is 0")
    width = block_align // channels
    if (tag == _PCM and width not in (1, 2, 3, 4)) or (tag == _FLOAT and width not in (4, 8)) \
            or (tag in (_ALAW, _MULAW) and width != 1):
        raise AudioError(f"{ENCODINGS[tag]} with {bits}-bit samples in {width}-byte blocks is not supported")
    return tag, channels, rate, width, body, declared_bytes // block_align


def _g711_tables() -> tuple[np.ndarray, np.ndarray]:
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    mu = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 7)
    mu = np.where(u & 0x80, 0x84 - mu, mu - 0x84)
    a = codes ^ 0x55
    exponent, mantissa = (a >> 4) & 7, a & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    alaw = np.where(a & 0x80, magnitude, -magnitude)
    return mu.astype(np.int16), alaw.astype(np.int16)


MULAW_TABLE, ALAW_TABLE = _g711_tables()


def _to_int16(raw: bytes, tag: int, width: int) -> np.ndarray:
    """Interleaved samples as int16; wider PCM keeps its top 16 bits (plenty for voice activity)."""
    octets = np.frombuffer(raw, dtype=np.uint8)
    if tag == _MULAW:
        return MULAW_TABLE[octets]
    if tag == _ALAW:
        return ALAW_TABLE[octets]
    if tag == _FLOAT:
        values = np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8")
        return (np.clip(np.nan_to_num(values), -1.0, 1.0) * 32767).astype(np.int16)
    if width == 1:  # 8-bit WAV is unsigned
        return ((octets.astype(np.int16) - 128) << 8).astype(np.int16)
    if width == 2:
        return np.frombuffer(raw, dtype="<i2")
    # 24/32-bit little-endian: the two most significant bytes are a little-endian int16.
    return np.ascontiguousarray(octets.reshape(-1, width)[:, width - 2:]).view("<i2").reshape(-1)


# --- voice activity ------------------------------------------------------------------------------------


def resample(channels: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear-interpolation resampling of (channels, frames) int16; a moving average first when
    shrinking, against aliasing.

    Crude next to a polyphase filter, but good enough for a detector that looks at band energies
    below 4 kHz (webrtcvad itself works at 8 kHz internally, with its own half-band filter).
    """
    if rate == target:
        return channels
    if rate % target == 0:  # 32 or 48 kHz to 16 kHz: average each block of samples
        factor = rate // target
        usable = channels.shape[1] // factor * factor
        total = channels[:, 0:usable:factor].astype(np.float32)
        for phase in range(1, factor):
            total += channels[:, phase:usable:factor]
        total *= 1.0 / factor
        return np.rint(total, out=total).astype(np.int16)
    signal = channels.astype(np.float32)
    width = int(round(rate / target))
    if width > 1:
        averaged = signal.copy()
        for shift in range(1, width):
            averaged[:, :-shift] += signal[:, shift:]
        averaged *= 1.0 / width
        signal = averaged
    length = signal.shape[1]
    position = np.arange(length * target // rate, dtype=np.float64) * (rate / target)
    index = position.astype(np.intp)
    frac = (position - index).astype(np.float32)
    following = np.minimum(index + 1, length - 1)
    out = np.empty((signal.shape[0], len(index)), dtype=np.int16)
    for row, channel in enumerate(signal):
        here = channel[index]
        here += (channel[following] - here) * frac
        np.rint(here, out=here)
        out[row] = np.clip(here, -32768, 32767)
    return out


def vad_rate(rate: int) -> int:
    return rate if rate in VAD_RATES_HZ else RESAMPLE_TO_HZ


def speech_frames(channel: np.ndarray, rate: int, settings: VadSettings) -> np.ndarray:
    """One smoothed speech decision per FRAME_MS frame of an int16 channel already at a VAD rate."""
    length = rate * FRAME_MS // 1000
    count = len(channel) // length
    frames = channel[: count * length].reshape(count, length)
    power = np.einsum("ij,ij->i", frames.astype(np.float32), frames.astype(np.float32)) / length
    floor = (32768.0 * 10 ** (settings.floor_dbfs / 20)) ** 2
    vad = webrtcvad.Vad(settings.mode)
    buffer = memoryview(frames.tobytes())
    step = length * 2
    # Every frame goes through the detector, quiet ones too: it adapts its noise model on them.
    speech = np.fromiter((vad.is_speech(buffer[i:i + step], rate) for i in range(0, count * step, step)),
                         dtype=bool, count=count)
    speech &= power >= floor
    return smooth(speech, _frames(settings.min_speech_ms), _frames(settings.min_silence_ms))


def _frames(ms: int) -> int:
    return -(-ms // FRAME_MS)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and (exclusive) end indexes of the True runs of a boolean array."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def smooth(mask: np.ndarray, min_speech: int, min_silence: int) -> np.ndarray:
    """Bridge gaps shorter than `min_silence` frames, then drop runs shorter than `min_speech` frames."""
    starts, ends = runs(mask)
    if len(starts) > 1:
        keep = (starts[1:] - ends[:-1]) >= min_silence
        starts = np.concatenate((starts[:1], starts[1:][keep]))
        ends = np.concatenate((ends[:-1][keep], ends[-1:]))
    long_enough = (ends - starts) >= min_speech
    return _mask(starts[long_enough], ends[long_enough], len(mask))


def _mask(starts: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    marks = np.zeros(length + 1, dtype=np.int32)
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends, -1)
    return np.cumsum(marks[:-1]) > 0


def _segments_ms(mask: np.ndarray) -> list[tuple[int, int]]:
    starts, ends = runs(mask)
    return [(int(s) * FRAME_MS, int(e) * FRAME_MS) for s, e in zip(starts, ends)]


def measure(recording: Recording, settings: VadSettings = VadSettings(), agent_channel: int = 0) -> CallMetrics:
    """Talk, silence and overtalk of a call; per side only for stereo (one party per channel)."""
    rate = vad_rate(recording.sample_rate)
    channels = recording.samples
    if recording.channels == 2 and np.array_equal(channels[0], channels[1]):
        recording.notes.append("both channels are identical (mono saved as stereo): measured as mono")
        channels = channels[:1]
    # One detector per channel: each adapts to its own line's noise.
    masks = [speech_frames(ch, rate, settings) for ch in resample(channels, recording.sample_rate, rate)]
    frame_s = FRAME_MS / 1000
    duration = recording.duration_s
    talk = np.logical_or.reduce(masks)
    total_talk = min(float(talk.sum()) * frame_s, duration)
    silence_s, silence_at_ms = _longest_silence(talk, duration)
    metrics = CallMetrics(
        duration_s=round(duration, 3), total_talk_s=round(total_talk, 3),
        non_talk_s=round(duration - total_talk, 3), longest_silence_s=round(silence_s, 3),
        longest_silence_at_ms=silence_at_ms, talk_segments_ms=_segments_ms(talk))
    if len(masks) == 2:
        agent, customer = masks[agent_channel], masks[1 - agent_channel]
        metrics.agent_talk_s = round(min(float(agent.sum()) * frame_s, duration), 3)
        metrics.customer_talk_s = round(min(float(customer.sum()) * frame_s, duration), 3)
        metrics.overtalk_s = round(min(float((agent & customer).sum()) * frame_s, duration), 3)
        metrics.interruptions = _interruptions(agent, customer) + _interruptions(customer, agent)
        metrics.agent_segments_ms, metrics.customer_segments_ms = _segments_ms(agent), _segments_ms(customer)
    return metrics


def _longest_silence(talk: np.ndarray, duration: float) -> tuple[float, int | None]:
    """The longest gap between the first and the last speech (lead-in and tail do not count).

    A recording with no speech at all is dead air from start to end: reported as one silence
    as long as the call, so silence rules catch it instead of seeing no silence.
    """
    starts, ends = runs(talk)
    if len(starts) == 0:
        return duration, 0
    if len(starts) == 1:
        return 0.0, None
    gaps = starts[1:] - ends[:-1]
    longest = int(np.argmax(gaps))
    return float(gaps[longest]) * FRAME_MS / 1000, int(ends[longest]) * FRAME_MS


def _interruptions(speaker: np.ndarray, other: np.ndarray) -> int:
    """Times `speaker` starts talking while `other` already is (not when both start together)."""
    starts, _ = runs(speaker)
    starts = starts[starts > 0]
    return int(np.count_nonzero(other[starts] & other[starts - 1]))
