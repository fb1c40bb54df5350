"""Decoding real files written by the tests (PyAV encoders) and real broken files."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from audiofiles import CODECS, PNG_BYTES, noise, sine, truncate, wav_bytes, write_audio

from ganterp.live.audio.decode import SUPPORTED_EXTENSIONS, AudioDecoder, AudioInfo, probe, read_all
from ganterp.live.core.errors import AudioFileError, AudioInputError

LOSSLESS_TOL = {
    "wav_u8": 1 / 64,
    "wav_s16": 2e-4,
    "wav_s24": 1e-6,
    "wav_s32": 1e-8,
    "wav_f32": 0.0,
    "wav_f64": 1e-7,
    "aiff_s16": 2e-4,
    "flac": 2e-4,
    "flac24": 1e-6,
    "oga_flac": 2e-4,
}


def _path(tmp_path: Path, codec: str, stem: str = "a") -> Path:
    return tmp_path / f"{stem}.{CODECS[codec][2]}"


def _dominant_freq(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


def _assert_one_line(exc: pytest.ExceptionInfo[BaseException], path: Path) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(path) in msg or path.name in msg
    return msg


# -- good files ---------------------------------------------------------------------------


@pytest.mark.parametrize("codec", sorted(LOSSLESS_TOL))
@pytest.mark.parametrize("channels", [1, 2])
def test_lossless_decodes_exactly(tmp_path: Path, codec: str, channels: int) -> None:
    sr = 22050
    x = noise(sr, 0.5, channels, seed=channels)
    path = write_audio(_path(tmp_path, codec), x, sr, codec)
    info = probe(path)
    assert isinstance(info, AudioInfo)
    assert (info.sample_rate, info.channels) == (sr, channels)
    assert info.duration_s == pytest.approx(0.5, abs=1e-3)
    y, rate = read_all(path)
    assert rate == sr
    assert y.dtype == np.float32
    assert y.shape == x.shape
    np.testing.assert_allclose(y, x, rtol=0, atol=LOSSLESS_TOL[codec])


@pytest.mark.parametrize("codec", ["mp3", "ogg", "opus", "m4a"])
@pytest.mark.parametrize("channels", [1, 2])
def test_lossy_decodes_the_tone(tmp_path: Path, codec: str, channels: int) -> None:
    if codec == "ogg" and channels == 1:
        pytest.skip("FFmpeg's own Vorbis encoder writes stereo only (mono Ogg: see oga_flac)")
    sr = 48000
    x = sine(sr, 1.0, channels, freq=500.0)
    path = write_audio(_path(tmp_path, codec), x, sr, codec)
    info = probe(path)
    assert (info.sample_rate, info.channels) == (sr, channels)
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    y, rate = read_all(path)
    assert rate == sr and y.shape[1] == channels and y.dtype == np.float32
    assert abs(len(y) - sr) < 0.05 * sr
    for k in range(channels):
        assert _dominant_freq(y[:, k], sr) == pytest.approx(500.0 * (k + 1), rel=0.03)
        assert np.sqrt(np.mean(y[2000:-2000, k] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


@pytest.mark.parametrize("sr", [8000, 11025, 32000, 44100, 96000])
def test_any_rate(tmp_path: Path, sr: int) -> None:
    x = sine(sr, 0.25, 1, freq=1000.0)
    path = write_audio(tmp_path / "r.wav", x, sr, "wav_f32")
    y, rate = read_all(path)
    assert rate == sr
    np.testing.assert_array_equal(y, x)


def test_more_than_two_channels(tmp_path: Path) -> None:
    x = noise(16000, 0.2, 4)
    path = write_audio(tmp_path / "quad.wav", x, 16000, "wav_f32")
    assert probe(path).channels == 4
    y, _ = read_all(path)
    np.testing.assert_array_equal(y, x)


def test_resamples_only_when_asked(tmp_path: Path) -> None:
    x = sine(44100, 1.0, 2, freq=440.0)
    path = write_audio(tmp_path / "s.flac", x, 44100, "flac")
    same, rate = read_all(path, sample_rate=44100)
    assert rate == 44100
    np.testing.assert_allclose(same, x, atol=2e-4)
    y, rate = read_all(path, sample_rate=48000)
    assert rate == 48000 and y.shape[1] == 2
    assert abs(len(y) - 48000) <= 64
    assert _dominant_freq(y[:, 0], 48000) == pytest.approx(440.0, abs=2)
    assert _dominant_freq(y[:, 1], 48000) == pytest.approx(880.0, abs=2)


def test_read_all_max_seconds(tmp_path: Path) -> None:
    x = noise(8000, 2.0, 1)
    path = write_audio(tmp_path / "n.wav", x, 8000, "wav_f32")
    y, _ = read_all(path, max_seconds=0.5)
    np.testing.assert_array_equal(y, x[:4000])


def test_decoder_streams_bounded_blocks_and_reads_exact_sizes(tmp_path: Path) -> None:
    sr = 16000
    x = noise(sr, 5.0, 2)
    path = write_audio(tmp_path / "long.flac", x, sr, "flac")
    with AudioDecoder(path) as dec:
        assert (dec.sample_rate, dec.channels) == (sr, 2)
        sizes = [b.shape[0] for b in dec]
    assert sum(sizes) == len(x)
    assert max(sizes) <= 16384  # never the whole file at once
    with AudioDecoder(path) as dec:
        parts = []
        while True:
            block = dec.read(1000)
            if block.shape[0] == 0:
                break
            assert block.shape == (min(1000, len(x) - dec.position + block.shape[0]), 2)
            parts.append(block)
        assert dec.position == len(x)
    np.testing.assert_allclose(np.concatenate(parts), x, atol=2e-4)


@pytest.mark.parametrize("codec", ["wav_s16", "flac", "mp3", "ogg"])
def test_rewind_repeats_the_same_samples(tmp_path: Path, codec: str) -> None:
    sr = 48000
    path = write_audio(_path(tmp_path, codec), noise(sr, 0.6, 2), sr, codec)
    with AudioDecoder(path) as dec:
        first = np.concatenate(list(dec))
        dec.rewind()
        again = np.concatenate(list(dec))
        dec.seek(0)
        third = dec.read(len(first))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, third)


@pytest.mark.parametrize("codec", ["wav_s16", "flac"])
def test_seek_is_sample_accurate_for_lossless(tmp_path: Path, codec: str) -> None:
    sr = 16000
    x = noise(sr, 3.0, 1)
    path = write_audio(_path(tmp_path, codec), x, sr, codec)
    with AudioDecoder(path) as dec:
        dec.seek(1.5)
        assert dec.position == 24000
        y = dec.read(1000)
    np.testing.assert_allclose(y, x[24000:25000], atol=2e-4)


# -- wrong extension ------------------------------------------------------------------------


def test_content_of_another_format_decodes_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    x = sine(44100, 0.5, 2)
    path = write_audio(tmp_path / "really_mp3.wav", x, 44100, "mp3")
    with caplog.at_level(logging.WARNING, logger="ganterp.live.audio.decode"):
        info = probe(path)
    assert info.container == "mp3"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    msg = warnings[0].getMessage()
    assert "\n" not in msg and "MP3" in msg and ".wav" in msg and "really_mp3.wav" in msg
    y, _ = read_all(path)
    assert abs(len(y) - 22050) < 100


def test_flac_named_ogg_is_fine(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_audio(tmp_path / "x.flac", noise(8000, 0.2, 1), 8000, "flac")
    with caplog.at_level(logging.WARNING):
        probe(path)
    assert not caplog.records


# -- broken files -------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioFileError) as exc:
        probe(path)
    assert "no such file" in _assert_one_line(exc, path)


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "dir.wav"
    path.mkdir()
    with pytest.raises(AudioFileError) as exc:
        AudioDecoder(path)
    assert "directory" in _assert_one_line(exc, path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(AudioFileError) as exc:
        read_all(path)
    assert "empty (0 bytes)" in _assert_one_line(exc, path)


@pytest.mark.parametrize("name", ["notes.txt", "song.mid", "noext"])
def test_unsupported_extension_lists_supported_ones(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"MThd whatever")
    with pytest.raises(AudioFileError) as exc:
        probe(path)
    msg = _assert_one_line(exc, path)
    assert "not a supported audio format" in msg
    for ext in SUPPORTED_EXTENSIONS:
        assert ext in msg


def test_text_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "text.wav"
    path.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioFileError) as exc:
        probe(path)
    assert "not an audio file" in _assert_one_line(exc, path)


def test_png_named_wav_has_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "image.wav"
    path.write_bytes(PNG_BYTES)
    with pytest.raises(AudioFileError) as exc:
        read_all(path)
    msg = _assert_one_line(exc, path)
    assert "not an audio file" in msg and "no audio stream" in msg


def test_wav_without_samples(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    path.write_bytes(wav_bytes(np.zeros((0, 2), np.float32), 8000))
    with pytest.raises(AudioFileError) as exc:
        probe(path)
    assert "contains no audio" in _assert_one_line(exc, path)


def test_streamed_wav_without_size_plays_what_is_there(tmp_path: Path) -> None:
    x = noise(8000, 0.5, 1)
    path = tmp_path / "stream.wav"
    path.write_bytes(wav_bytes(x, 8000, declared_data_bytes=0xFFFFFFFF))
    y, _ = read_all(path)
    np.testing.assert_allclose(y, x, atol=1e-4)


def test_handmade_truncated_wav(tmp_path: Path) -> None:
    x = noise(8000, 1.0, 2)
    path = tmp_path / "short.wav"
    path.write_bytes(wav_bytes(x, 8000, declared_data_bytes=8000 * 4 * 3))  # claims 3 s
    with pytest.raises(AudioFileError) as exc:
        AudioDecoder(path)
    msg = _assert_one_line(exc, path)
    assert "truncated" in msg and "3.00 s" in msg and "1.00 s" in msg


def test_errors_are_audio_input_errors(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError):
        probe(tmp_path / "nope.flac")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "locked.wav", noise(8000, 0.1, 1), 8000, "wav_s16")
    path.chmod(0)
    with pytest.raises(AudioFileError) as exc:
        probe(path)
    assert "permission" in _assert_one_line(exc, path)


def test_unreadable_file_as_seen_by_a_normal_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ganterp.live.audio.decode as decode

    path = write_audio(tmp_path / "locked.flac", noise(8000, 0.1, 1), 8000, "flac")
    monkeypatch.setattr(decode.os, "access", lambda *a, **k: False)
    with pytest.raises(AudioFileError) as exc:
        AudioDecoder(path)
    assert "permission denied" in _assert_one_line(exc, path)


# -- truncated files ----------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["wav_s16", "wav_s24", "wav_f32", "aiff_s16"])
@pytest.mark.parametrize("fraction", [0.3, 0.9, 0.999])
def test_truncated_pcm_found_up_front_from_the_header(
    tmp_path: Path, codec: str, fraction: float
) -> None:
    good = write_audio(_path(tmp_path, codec, "good"), noise(16000, 2.0, 2), 16000, codec)
    bad = truncate(good, _path(tmp_path, codec, "cut"), fraction)
    with pytest.raises(AudioFileError) as exc:
        probe(bad)
    msg = _assert_one_line(exc, bad)
    assert "truncated" in msg and "2.00 s" in msg


@pytest.mark.parametrize("codec", ["flac", "mp3", "ogg", "opus"])
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_compressed_found_by_probe(tmp_path: Path, codec: str, fraction: float) -> None:
    sr = 48000
    good = write_audio(_path(tmp_path, codec, "good"), noise(sr, 6.0, 2), sr, codec)
    probe(good)
    read_all(good)
    bad = truncate(good, _path(tmp_path, codec, "cut"), fraction)
    with pytest.raises(AudioFileError) as exc:
        probe(bad)
    assert "truncated" in _assert_one_line(exc, bad)
    with pytest.raises(AudioFileError):
        read_all(bad)


def test_truncated_mp3_found_while_decoding_without_probe_tail_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the probe's tail check off, decoding itself notices the early end."""
    import ganterp.live.audio.decode as decode

    sr = 44100
    good = write_audio(tmp_path / "good.mp3", noise(sr, 4.0, 1), sr, "mp3")
    bad = truncate(good, tmp_path / "cut.mp3", 0.5)
    monkeypatch.setattr(decode, "_check_tail", lambda *a, **k: None)
    with AudioDecoder(bad) as dec:
        got = 0
        with pytest.raises(AudioFileError) as exc:
            for block in dec:
                got += block.shape[0]
    assert got > sr  # what was there was delivered first
    msg = _assert_one_line(exc, bad)
    assert "truncated" in msg and "4.00 s" in msg


def test_truncated_m4a(tmp_path: Path) -> None:
    good = write_audio(tmp_path / "good.m4a", noise(44100, 2.0, 2), 44100, "m4a")
    bad = truncate(good, tmp_path / "cut.m4a", 0.6)
    with pytest.raises(AudioFileError) as exc:
        probe(bad)
    _assert_one_line(exc, bad)


def test_intact_files_of_every_codec_pass_the_truncation_checks(tmp_path: Path) -> None:
    for codec in CODECS:
        if codec == "wav_u8":
            continue  # noise at 8 bits is fine too, but slow to compare; covered above
        sr = 48000
        path = write_audio(_path(tmp_path, codec, codec), noise(sr, 3.0, 2), sr, codec)
        info = probe(path)
        y, _ = read_all(path)
        assert info.duration_s is not None
        assert len(y) >= (info.duration_s - 0.05) * sr, codec
