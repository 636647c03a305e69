"""Voice activity on synthetic calls: speech-like audio at known times, measured back from real WAV files."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from contactqa.sources.audio import (ALAW_TABLE, MULAW_TABLE, AudioError, VadSettings, measure, read_wav,
                                     resample, smooth)

AGENT, CUSTOMER = 0, 1
# (side, start_s, end_s): the agent opens, the customer answers and is cut in on once, 40 s of dead air,
# the agent comes back and the customer talks over the end of it.
CALL = [(AGENT, 0.0, 5.0), (CUSTOMER, 5.5, 9.0), (AGENT, 7.5, 8.5), (AGENT, 49.0, 52.0), (CUSTOMER, 50.5, 53.0)]
CALL_S = 56.0
TRUTH = {"agent_talk_s": 9.0, "customer_talk_s": 6.0, "total_talk_s": 12.5, "overtalk_s": 2.5,
         "longest_silence_s": 40.0, "longest_silence_at_ms": 9000, "interruptions": 2}


def speech(rng: np.random.Generator, seconds: float, rate: int, f0: float) -> np.ndarray:
    """Voiced speech stand-in: a gliding pitch with its harmonics, a moving formant, and syllables of
    120-280 ms with short pauses between some words (which must not split an utterance)."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    pitch = f0 * (1 + 0.12 * np.sin(2 * np.pi * 0.9 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    formant = 650 + 450 * np.sin(2 * np.pi * 3.1 * t + rng.uniform(0, 6))
    voiced = np.zeros(n)
    for k in range(1, int(min(3600, rate / 2 - 200) / f0)):
        gain = 1 / k + 2 * np.exp(-((k * pitch - formant) / 200) ** 2) + 0.7 * np.exp(-((k * pitch - 2400) / 300) ** 2)
        voiced += gain * np.sin(k * phase)
    envelope = np.zeros(n)
    at = 0.0
    while at < seconds:
        syllable = rng.uniform(0.12, 0.28)
        a, b = int(at * rate), min(n, int((at + syllable) * rate))
        envelope[a:b] = np.sin(np.linspace(0, np.pi, b - a)) ** 0.7 * rng.uniform(0.6, 1.0)
        at += syllable + (rng.uniform(0.05, 0.22) if rng.random() < 0.35 else 0.0)
    return 0.1 * voiced * envelope / np.sqrt(np.mean(voiced ** 2) * 0.5)  # about -20 dBFS while talking


def synth_call(rate: int, layout=CALL, seconds: float = CALL_S, noise_dbfs: float = -50.0, seed: int = 7
               ) -> np.ndarray:
    """(2, frames) floats in [-1, 1]: channel 0 the agent, 1 the customer, each over its own line noise."""
    rng = np.random.default_rng(seed)
    channels = rng.normal(0, 10 ** (noise_dbfs / 20), (2, int(seconds * rate)))
    for side, start, end in layout:
        voice = speech(rng, end - start, rate, 120.0 if side == AGENT else 210.0)
        i = int(start * rate)
        channels[side, i:i + len(voice)] += voice
    return np.clip(channels, -1, 1)


def pcm_bytes(signal: np.ndarray, width: int) -> bytes:
    frames = np.atleast_2d(signal).T
    if width == 1:
        return (np.rint(frames * 127) + 128).astype(np.uint8).tobytes()
    full = 2 ** (8 * width - 1) - 1
    ints = np.rint(frames * full).astype("<i8").reshape(-1, 1)
    return ints.view(np.uint8).reshape(-1, 8)[:, :width].tobytes()


def write_pcm(path: Path, signal: np.ndarray, rate: int, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(np.atleast_2d(signal).shape[0])
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(pcm_bytes(signal, width))
    return path


def write_riff(path: Path, tag: int, channels: int, rate: int, bits: int, data: bytes, *,
               block_align: int | None = None, subformat: int | None = None) -> Path:
    """A WAV the stdlib cannot write: any format tag, optionally as WAVE_FORMAT_EXTENSIBLE."""
    block_align = block_align or channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if subformat else tag, channels, rate, rate * block_align, block_align, bits)
    if subformat:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", subformat) + guid_tail
    else:
        fmt += b"\x00\x00"  # cbSize
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body + (b"\x00" if len(data) % 2 else b""))
    return path


def g711_encode(signal: np.ndarray, table: np.ndarray) -> bytes:
    """Nearest G.711 code for each sample (interleaved), by search in the decoder's table."""
    order = np.argsort(table, kind="stable")
    values = table[order].astype(np.int32)
    target = np.rint(np.atleast_2d(signal).T.reshape(-1) * 32767).astype(np.int32)
    pos = np.clip(np.searchsorted(values, target), 1, len(values) - 1)
    nearer = np.where(target - values[pos - 1] < values[pos] - target, pos - 1, pos)
    return order[nearer].astype(np.uint8).tobytes()


def assert_close_to_truth(metrics, tolerance: float = 0.3) -> None:
    assert metrics.agent_talk_s == pytest.approx(TRUTH["agent_talk_s"], abs=tolerance)
    assert metrics.customer_talk_s == pytest.approx(TRUTH["customer_talk_s"], abs=tolerance)
    assert metrics.total_talk_s == pytest.approx(TRUTH["total_talk_s"], abs=tolerance)
    assert metrics.overtalk_s == pytest.approx(TRUTH["overtalk_s"], abs=tolerance)
    assert metrics.longest_silence_s == pytest.approx(TRUTH["longest_silence_s"], abs=0.5)
    assert metrics.longest_silence_at_ms == pytest.approx(TRUTH["longest_silence_at_ms"], abs=300)
    assert metrics.interruptions == TRUTH["interruptions"]
    assert metrics.non_talk_s == pytest.approx(CALL_S - metrics.total_talk_s, abs=0.001)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 22050])
def test_stereo_call_talk_silence_overtalk_and_interruptions_match_the_script(tmp_path, rate):
    recording = read_wav(write_pcm(tmp_path / "call.wav", synth_call(rate), rate))
    metrics = measure(recording)
    assert (recording.sample_rate, recording.channels, metrics.duration_s) == (rate, 2, CALL_S)
    assert_close_to_truth(metrics)
    # Pauses between words stay inside their utterance: one segment per scripted turn.
    assert len(metrics.agent_segments_ms) == 3 and len(metrics.customer_segments_ms) == 2


def test_agent_channel_option_swaps_the_sides(tmp_path):
    recording = read_wav(write_pcm(tmp_path / "call.wav", synth_call(8000), 8000))
    swapped = measure(recording, agent_channel=1)
    assert swapped.agent_talk_s == pytest.approx(TRUTH["customer_talk_s"], abs=0.3)
    assert swapped.customer_talk_s == pytest.approx(TRUTH["agent_talk_s"], abs=0.3)


def test_mono_gives_total_talk_and_silence_only(tmp_path):
    mono = synth_call(16000).sum(axis=0) / 2
    metrics = measure(read_wav(write_pcm(tmp_path / "mono.wav", mono, 16000)))
    assert metrics.total_talk_s == pytest.approx(TRUTH["total_talk_s"], abs=0.3)
    assert metrics.longest_silence_s == pytest.approx(40.0, abs=0.5)
    assert metrics.longest_silence_at_ms == pytest.approx(9000, abs=300)
    assert (metrics.agent_talk_s, metrics.customer_talk_s, metrics.overtalk_s, metrics.interruptions) == (
        None, None, None, None)


def test_stereo_with_identical_channels_is_measured_as_mono(tmp_path):
    mono = synth_call(8000).sum(axis=0) / 2
    recording = read_wav(write_pcm(tmp_path / "dup.wav", np.stack([mono, mono]), 8000))
    metrics = measure(recording)
    assert metrics.agent_talk_s is None and metrics.total_talk_s == pytest.approx(12.5, abs=0.3)
    assert any("identical" in note for note in recording.notes)


@pytest.mark.parametrize("encoding", ["pcm8", "pcm24", "pcm32", "float32", "extensible24", "mulaw", "alaw"])
def test_every_supported_encoding_measures_the_same_call(tmp_path, encoding):
    rate, call = 8000, synth_call(8000)
    path = tmp_path / f"{encoding}.wav"
    if encoding.startswith("pcm"):
        write_pcm(path, call, rate, width=int(encoding[3:]) // 8)
    elif encoding == "float32":
        write_riff(path, 3, 2, rate, 32, np.ascontiguousarray(call.T, dtype="<f4").tobytes())
    elif encoding == "extensible24":
        write_riff(path, 1, 2, rate, 24, pcm_bytes(call, 3), subformat=1)
    else:
        table = MULAW_TABLE if encoding == "mulaw" else ALAW_TABLE
        write_riff(path, 7 if encoding == "mulaw" else 6, 2, rate, 8, g711_encode(call, table))
    recording = read_wav(path)
    assert recording.samples.dtype == np.int16 and recording.samples.shape == (2, int(CALL_S * rate))
    assert_close_to_truth(measure(recording))


def test_24_bit_samples_keep_their_top_16_bits(tmp_path):
    samples = np.array([-0x800000, -0x400000, 0, 0x123456, 0x7FFFFF], dtype="<i4")
    path = tmp_path / "ramp.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(3)
        out.setframerate(8000)
        out.writeframes(samples.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    assert read_wav(path).samples[0].tolist() == [-0x8000, -0x4000, 0, 0x1234, 0x7FFF]


def test_g711_tables_decode_the_standard_values():
    assert (MULAW_TABLE[0xFF], MULAW_TABLE[0x7F], MULAW_TABLE[0x00], MULAW_TABLE[0x80]) == (0, 0, -32124, 32124)
    assert (ALAW_TABLE[0xD5], ALAW_TABLE[0x55], ALAW_TABLE[0xAA], ALAW_TABLE[0x2A]) == (8, -8, 32256, -32256)


def test_leading_and_trailing_silence_do_not_count_as_the_longest_silence(tmp_path):
    layout = [(AGENT, 45.0, 48.0), (CUSTOMER, 53.0, 56.0)]  # 45 s lead-in, 5 s gap, 44 s tail
    metrics = measure(read_wav(write_pcm(tmp_path / "c.wav", synth_call(8000, layout, 100.0), 8000)))
    assert metrics.longest_silence_s == pytest.approx(5.0, abs=0.3)
    assert metrics.longest_silence_at_ms == pytest.approx(48000, abs=300)
    assert metrics.interruptions == 0 and metrics.overtalk_s == 0


def test_a_call_with_no_speech_is_one_silence_as_long_as_the_call(tmp_path):
    metrics = measure(read_wav(write_pcm(tmp_path / "dead.wav", synth_call(8000, [], 30.0), 8000)))
    assert (metrics.total_talk_s, metrics.longest_silence_s, metrics.longest_silence_at_ms) == (0, 30.0, 0)
    assert metrics.non_talk_s == 30.0 and metrics.agent_talk_s == 0


def test_short_clicks_are_not_talk_and_short_pauses_do_not_split_talk():
    frames = np.zeros(60, dtype=bool)
    frames[5:7] = True  # a 60 ms click
    frames[20:30] = frames[35:45] = True  # two utterances 150 ms apart
    kept = smooth(frames, min_speech=4, min_silence=10)
    assert not kept[5:7].any() and kept[20:45].all() and kept.sum() == 25


def test_resampling_keeps_length_and_a_tone():
    t = np.arange(44100) / 44100
    tone = (np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16)[None, :]
    out = resample(tone, 44100, 16000)
    assert out.shape == (1, 16000)
    spectrum = np.abs(np.fft.rfft(out[0].astype(float)))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins over one second


def test_header_longer_than_the_data_is_measured_with_a_note(tmp_path):
    path = write_pcm(tmp_path / "cut.wav", synth_call(8000, [(AGENT, 1.0, 3.0)], 5.0), 8000)
    path.write_bytes(path.read_bytes()[:-8000])  # the recorder died before finishing the file
    recording = read_wav(path)
    assert recording.duration_s == pytest.approx(4.75)  # 8000 bytes = 2000 stereo 16-bit frames
    assert "header declares 40000 frames but the file holds 38000" in recording.notes[0]


def test_unreadable_files_raise_audio_error_with_the_reason(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"^empty file \(0 bytes\)$"):
        read_wav(path)


def test_vad_settings_reject_an_unknown_mode():
    with pytest.raises(ValueError, match="vad_mode must be 0, 1, 2 or 3"):
        VadSettings(mode=5)


@pytest.mark.skipif(not Path("/usr/bin/espeak-ng").exists(), reason="espeak-ng is not installed")
def test_synthesised_voice_is_found_between_silences(tmp_path):
    import subprocess

    spoken = tmp_path / "spoken.wav"
    subprocess.run(["/usr/bin/espeak-ng", "-w", str(spoken), "Good afternoon, you are speaking to Aigerim. "
                    "How can I help you today?"], check=True, timeout=30)
    voice = read_wav(spoken)  # espeak-ng writes 22.05 kHz mono: the resampling path
    seconds = voice.duration_s
    padded = np.zeros((1, voice.samples.shape[1] + 2 * voice.sample_rate), dtype=np.int16)
    padded[0, voice.sample_rate:voice.sample_rate + voice.samples.shape[1]] = voice.samples[0]
    metrics = measure(read_wav(write_pcm(tmp_path / "padded.wav", padded / 32768, voice.sample_rate)))
    assert 0.6 * seconds <= metrics.total_talk_s <= seconds + 0.3
    assert metrics.talk_segments_ms[0][0] == pytest.approx(1000, abs=300)
