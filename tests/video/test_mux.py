"""live.video.mux: the one muxer behind the recorder and the render writer."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from ganterp.live.core.errors import RecordError
from ganterp.live.video.fit import FrameFitter
from ganterp.live.video.mux import Muxer


def _frames(n: int, size: int = 64) -> list[np.ndarray]:
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    return [
        np.stack([np.roll(ramp, 4 * k)[None, :].repeat(size, 0)] * 3, axis=-1).astype(np.uint8)
        for k in range(n)
    ]


def _contents(path: Path) -> tuple[int, float, int, float]:
    """Video frames, video seconds, audio channels, audio seconds."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        samples = sum(f.samples for f in c.decode(a))
        channels, rate = a.codec_context.channels, a.codec_context.sample_rate
    return frames, frames / 30.0, channels, samples / rate


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_picture_and_sound_end_together_under_the_final_name(tmp_path, suffix) -> None:
    out = tmp_path / f"v{suffix}"
    mux = Muxer(out, fps=30.0, size=(64, 64), audio_rate=48000, audio_channels=2)
    assert mux.partial.name == f"v.partial{suffix}" and not out.exists()
    tone = 0.3 * np.sin(np.arange(48000 * 2) / 48000 * 2 * np.pi * 440.0)
    stereo = np.stack([tone, -tone], axis=1).astype(np.float32)
    for k, image in enumerate(_frames(60)):
        mux.write_video(image)
        mux.write_audio(stereo[k * 1600 : (k + 1) * 1600])
    assert mux.audio_received == 60 * 1600
    mux.finish()
    assert mux.publish() == out and out.exists() and not mux.partial.exists()
    frames, video_s, channels, audio_s = _contents(out)
    assert frames == 60 and channels == 2
    assert abs(audio_s - video_s) < 1.0 / 30.0 + 0.03  # AAC's priming aside, a frame or less


def test_extra_channels_are_dropped_and_a_mono_file_gets_their_mean(tmp_path) -> None:
    mux = Muxer(tmp_path / "m.mp4", fps=30.0, size=(32, 32), audio_rate=48000, audio_channels=1)
    mux.write_video(_frames(1, 32)[0])
    block = np.ones((4096, 3), dtype=np.float32) * np.array([0.2, 0.4, 0.6], dtype=np.float32)
    mux.write_audio(block)
    assert mux._pending.shape[1] == 1 and mux.audio_samples == 4096
    mux.finish()
    mux.publish()
    with av.open(str(tmp_path / "m.mp4")) as c:
        audio = np.concatenate([f.to_ndarray().ravel() for f in c.decode(c.streams.audio[0])])
    assert np.median(np.abs(audio[2048:4096])) == pytest.approx(0.4, abs=0.02)


def test_a_fragmented_file_plays_even_if_it_is_never_finished(tmp_path) -> None:
    mux = Muxer(tmp_path / "r.mp4", fps=30.0, size=(64, 64), fragmented=True, threads=1)
    for image in _frames(90):
        mux.write_video(image)
    mux.close_quietly()  # the program died: no finish, no rename
    assert not (tmp_path / "r.mp4").exists()
    with av.open(str(mux.partial)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) > 0


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("v.mkv", {}, r"v\.mkv: the video must be a \.mp4 or \.avi file"),
        ("v.avi", {"suffixes": (".mp4",)}, r"must be a \.mp4 file"),
        ("nodir/v.mp4", {}, r"folder .*nodir does not exist"),
        ("v.mp4", {"audio_rate": 37800}, r"AAC cannot carry 37800 Hz"),
        ("v.mp4", {"preset": "ludicrous"}, r"H\.264 preset must be one of ultrafast, "),
    ],
)
def test_bad_paths_and_rates_are_one_line_errors_and_leave_nothing(
    tmp_path, name, kwargs, message
) -> None:
    with pytest.raises(RecordError, match=message) as err:
        Muxer(tmp_path / name, fps=30.0, size=(64, 64), **kwargs)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_discard_leaves_no_file(tmp_path) -> None:
    mux = Muxer(tmp_path / "d.mp4", fps=30.0, size=(64, 64))
    mux.write_video(_frames(1)[0])
    mux.discard()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("suffix", "fps"), [(".mp4", 24.0), (".mp4", 29.97), (".avi", 30.0)])
def test_fitted_frames_are_written_at_the_videos_rate(tmp_path, suffix, fps) -> None:
    mux = Muxer(tmp_path / f"f{suffix}", fps=fps, size=(96, 64), preset="ultrafast")
    fitter = FrameFitter((mux.width, mux.height), mux.pix_fmt)
    for image in _frames(48, 32):
        mux.write_frame(fitter.fit(image))
    mux.finish()
    with av.open(str(mux.publish())) as c:
        v = c.streams.video[0]
        times = [float(f.pts * f.time_base) for f in c.decode(v)]
        assert (v.codec_context.width, v.codec_context.height) == (96, 64)
    assert len(times) == 48
    np.testing.assert_allclose(np.diff(times), 1.0 / fps, atol=1e-3)


def test_a_frame_of_another_size_or_format_is_refused(tmp_path) -> None:
    mux = Muxer(tmp_path / "w.mp4", fps=30.0, size=(64, 64))
    with pytest.raises(ValueError, match="frame is 96x64 yuv420p, the video 64x64 yuv420p"):
        mux.write_frame(FrameFitter((96, 64), "yuv420p").fit(_frames(1, 32)[0]))
    with pytest.raises(ValueError, match="yuvj420p"):
        mux.write_frame(FrameFitter((64, 64), "yuvj420p").fit(_frames(1, 32)[0]))
    assert mux.frames == 0
    mux.discard()
