"""Rendering a file: sound and picture in sync, the original's command, bad input, interruption."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from audiofiles import truncate, write_audio
from ganterp_cli import run_ganterp
from signals import sections_with_gaps

from ganterp.live.analysis.inflection import seed_curve, seed_inflections
from ganterp.live.core.errors import AudioFileError
from ganterp.live.offline.plan import seed_alpha
from ganterp.live.offline.render import first_pass, render_file
from ganterp.live.settings.schema import Config
from ganterp.models.cppn import CppnGenerator

SR = 44100


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> tuple[Path, np.ndarray]:
    audio, _ = sections_with_gaps(SR, lengths=(2.5, 2.5), gap=0.8)
    stereo = np.stack([audio, 0.5 * audio], axis=1)
    return write_audio(tmp_path_factory.mktemp("m") / "music.wav", stereo, SR), audio


def _decode(path: Path) -> tuple[list[np.ndarray], np.ndarray, int, str, str]:
    with av.open(str(path)) as c:
        vcodec = c.streams.video[0].codec_context.name
        acodec = c.streams.audio[0].codec_context.name
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].rate
        sound = np.concatenate(
            [
                f.to_ndarray().reshape(-1, f.samples).T
                if f.format.is_planar
                else f.to_ndarray().reshape(f.samples, -1)
                for f in c.decode(audio=0)
            ]
        ).astype(np.float64)
    return frames, sound, rate, vcodec, acodec


def _lag_ms(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    n = min(a.shape[0], b.shape[0])
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    corr = np.fft.irfft(np.fft.rfft(a, 2 * n) * np.conj(np.fft.rfft(b, 2 * n)))
    lag = int(np.argmax(corr))
    lag = lag - 2 * n if lag > n else lag
    return 1000.0 * lag / rate


@pytest.mark.parametrize("analysis", ["live", "seed"])
def test_mp4_holds_the_input_sound_in_sync_and_the_right_frames(music, tmp_path, analysis):
    path, audio = music
    report = render_file(
        path,
        tmp_path / "v.mp4",
        Config(),
        generator=CppnGenerator(resolution=64),
        fps=24,
        size=(96, 64),
        analysis=analysis,
        batch=5,
    )
    duration = audio.shape[0] / SR
    assert report.path == tmp_path / "v.mp4" and not (tmp_path / "v.partial.mp4").exists()
    frames, sound, rate, vcodec, acodec = _decode(report.path)
    assert (vcodec, acodec) == ("h264", "aac")
    assert abs(len(frames) - round(duration * 24)) <= 1
    assert frames[0].shape == (64, 96, 3)
    assert frames[0][:, :10].max() < 30 and frames[0][:, 20:76].std() > 5  # letterboxed picture
    assert abs(sound.shape[0] / rate - duration) < 1 / 24
    with av.open(str(report.path)) as c:  # as the container states them
        durations = [
            float(st.duration * st.time_base) for st in (c.streams.video[0], c.streams.audio[0])
        ]
    assert abs(durations[0] - durations[1]) < 1 / 24, durations
    assert abs(_lag_ms(sound[:, 0], audio.astype(np.float64), rate)) <= 50.0
    assert report.generator_calls == -(-len(frames) // 5)
    assert len(report.inflections_s) == 1  # the one gap
    moved = np.abs(frames[0].astype(float) - frames[-1].astype(float)).mean()
    assert moved > 1.0


def test_avi_with_pcm_decodes(music, tmp_path) -> None:
    path, audio = music
    report = render_file(path, tmp_path / "v.avi", Config(), generator=CppnGenerator(resolution=64))
    frames, sound, rate, vcodec, acodec = _decode(report.path)
    assert (vcodec, acodec) == ("mjpeg", "pcm_s16le")
    assert abs(len(frames) - round(audio.shape[0] / SR * 30)) <= 1
    assert abs(_lag_ms(sound[:, 0], audio.astype(np.float64), rate)) <= 50.0


def test_streaming_seed_pass_equals_the_whole_file_algorithm(music) -> None:
    from ganterp.live.audio.decode import read_all

    path, _ = music
    streamed = first_pass(path, channel="left", threshold=0.01, absolute=0.08)
    decoded, _ = read_all(path)
    _, curve = seed_curve(decoded[:, 0].astype(np.float64), sample_rate=SR)
    np.testing.assert_allclose(streamed.curve, curve, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(streamed.points, seed_inflections(curve, threshold=0.01))


def test_seed_motion_reaches_each_category_at_its_inflection() -> None:
    curve = np.abs(np.sin(np.linspace(0, 9, 1000))) + 0.01
    points = np.array([0, 300, 700, 999])
    segment, alpha = seed_alpha(curve, points)
    assert list(segment[[0, 299, 300, 699, 700, 999]]) == [0, 0, 1, 1, 2, 2]
    assert alpha[0] == 0 and alpha[300] == 0 and alpha[700] == 0
    for a, b in ((0, 300), (300, 700)):
        assert np.all(np.diff(alpha[a:b]) >= 0) and alpha[b - 1] > 0.99
    # The speed follows the curve: more change, faster morph.
    steps = np.diff(alpha[0:300])
    assert np.corrcoef(steps, curve[0:299])[0, 1] > 0.99


def test_silence_renders_without_inflections(tmp_path) -> None:
    path = write_audio(tmp_path / "quiet.wav", np.zeros((SR * 2, 1), np.float32), SR)
    report = render_file(
        path, tmp_path / "q.mp4", Config(), generator=CppnGenerator(resolution=32), analysis="seed"
    )
    assert report.inflections_s == [] and report.frames == 60


def test_interruption_leaves_a_playable_partial_file_only(music, tmp_path) -> None:
    path, _ = music

    def stop(done: int, total: int) -> None:
        if done >= 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_file(
            path,
            tmp_path / "v.mp4",
            Config(),
            generator=CppnGenerator(resolution=32),
            batch=8,
            progress=stop,
        )
    assert not (tmp_path / "v.mp4").exists()
    frames, sound, *_ = _decode(tmp_path / "v.partial.mp4")
    assert len(frames) >= 20 and sound.shape[0] > 0  # the encoder's look-ahead may hold a few
    with pytest.raises(KeyboardInterrupt):
        render_file(
            path,
            tmp_path / "v.avi",
            Config(),
            generator=CppnGenerator(resolution=32),
            batch=8,
            progress=stop,
        )
    assert not list(tmp_path.glob("v*.avi"))


@pytest.mark.parametrize("codec", ["wav_u8", "wav_s24", "wav_f32", "flac", "mp3", "ogg"])
def test_formats_and_channels(tmp_path, codec) -> None:
    audio, _ = sections_with_gaps(22050, lengths=(3.0, 3.0), gap=0.8)
    steady = 0.3 * np.sin(2 * np.pi * 440 * np.arange(audio.shape[0]) / 22050)
    stereo = np.stack([audio, steady.astype(np.float32)], axis=1)
    from audiofiles import CODECS

    path = write_audio(tmp_path / f"a.{CODECS[codec][2]}", stereo, 22050, codec=codec)
    right = first_pass(path, channel="right", threshold=0.01, absolute=0.08)
    left = first_pass(path, channel="left", threshold=0.01, absolute=0.08)
    assert abs(left.samples / 22050 - 6.8) < 0.1
    assert len(left.points) == 3  # 0, the gap, the end
    assert len(right.points) == 2  # a steady tone has no inflection


def test_bad_inputs_are_one_line(tmp_path, music) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("not audio at all " * 100)
    broken = truncate(music[0], tmp_path / "cut.wav", 0.5)
    for bad in ("empty.wav", "text.mp3", "cut.wav", "missing.flac"):
        with pytest.raises(AudioFileError) as err:
            render_file(
                tmp_path / bad, tmp_path / "x.mp4", Config(), generator=CppnGenerator(resolution=32)
            )
        assert "\n" not in str(err.value) and bad in str(err.value)
        assert not list(tmp_path.glob("x*.mp4"))
    del broken


@pytest.mark.slow
def test_the_original_sample_command_runs(tmp_path) -> None:
    from ganterp.models.biggan.synthetic import write_tiny_model

    write_tiny_model(tmp_path / "cache" / "biggan-deep-512", 512, seed=1)
    audio, _ = sections_with_gaps(SR, lengths=(1.5, 1.5), gap=0.6)
    wav = write_audio(tmp_path / "song.wav", audio[:, None], SR)
    (tmp_path / "out").mkdir()
    proc = run_ganterp(
        "render",
        "--verbose",
        f"--wav_path={wav}",
        f"--output_dir={tmp_path / 'out'}",
        "--inflection_threshold=1e-2",
        "--video_file_name=song.avi",
        "--selected_categories=419,419,419,107,617,127,730,3",
        cwd=tmp_path,
        env={"GANTERP_MODELS": str(tmp_path / "cache")},
    )
    assert proc.returncode == 0, proc.stderr
    assert "seed analysis" in proc.stdout and "biggan-deep-512" in proc.stdout
    frames, sound, rate, vcodec, acodec = _decode(tmp_path / "out" / "song.avi")
    assert (vcodec, acodec) == ("mjpeg", "pcm_s16le")
    assert abs(len(frames) - round(audio.shape[0] / SR * 30)) <= 1  # a normal frame rate
    assert frames[0].shape == (512, 512, 3)
    assert abs(sound.shape[0] / rate - audio.shape[0] / SR) < 0.05


def test_render_command_errors(tmp_path, music) -> None:
    proc = run_ganterp("render", str(music[0]), cwd=tmp_path)
    assert proc.returncode == 2 and "-o OUT.mp4" in proc.stderr
    proc = run_ganterp("render", str(music[0]), "-o", "x.mov", cwd=tmp_path)
    assert proc.returncode == 2 and ".mp4 or .avi" in proc.stderr
    proc = run_ganterp("render", "-o", "x.mp4", cwd=tmp_path)
    assert proc.returncode == 2 and "which audio" in proc.stderr
    proc = run_ganterp(
        "render",
        str(music[0]),
        "-o",
        "x.mp4",
        "--resolution",
        "32",
        "--size",
        "64x48",
        "--fps",
        "12",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "real time" in proc.stdout and (tmp_path / "x.mp4").is_file()


def test_an_unusual_sample_rate_is_resampled_for_aac(tmp_path) -> None:
    rate = 37800
    tone = 0.4 * np.sin(2 * np.pi * 330 * np.arange(int(1.5 * rate)) / rate)
    path = write_audio(tmp_path / "odd.wav", tone.astype(np.float32)[:, None], rate)
    report = render_file(path, tmp_path / "o.mp4", Config(), generator=CppnGenerator(resolution=32))
    frames, sound, out_rate, *_ = _decode(report.path)
    assert out_rate == 48000
    assert abs(sound.shape[0] / out_rate - 1.5) < 1 / 30 and abs(len(frames) - 45) <= 1


def test_render_seed_pass_matches_an_independent_implementation(tmp_path) -> None:
    """The render's streaming pass makes the published algorithm's decisions, column for column."""
    from seed_reference import get_inflection_points, reference_curve

    from ganterp.live.audio.decode import read_all

    audio, _ = sections_with_gaps(SR, lengths=(4.0, 3.0, 5.0), gap=1.0)
    path = write_audio(tmp_path / "s.wav", audio[:, None], SR)
    decoded, _ = read_all(path)
    expected = get_inflection_points(
        reference_curve(decoded[:, 0].astype(np.float64), SR), 0.01, type="min"
    )
    got = first_pass(path, channel="mix", threshold=0.01, absolute=0.08).points
    assert len(expected) >= 4  # both gaps found, plus the two boundaries
    np.testing.assert_array_equal(got, expected)


def test_render_uses_its_own_frame_rate_limit_not_the_shows(tmp_path, music, capsys) -> None:
    from ganterp.live.cli.main import main

    assert main(["render", str(music[0]), "-o", str(tmp_path / "x.mp4"), "--fps", "500"]) == 2
    err = capsys.readouterr().err
    assert err == "ganterp: error: render: --fps must be above 0 and at most 240, not 500\n"
    assert "display" not in err and not list(tmp_path.glob("x*"))


def test_a_missing_file_or_folder_is_one_line_before_anything_starts(tmp_path, music, capsys):
    from ganterp.live.cli.main import main

    assert main(["render", str(tmp_path / "nosuch.mp3"), "-o", str(tmp_path / "x.mp4")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "nosuch.mp3" in err
    assert main(["render", str(music[0]), "-o", str(tmp_path / "no" / "x.mp4")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "folder" in err and "does not exist" in err
    report = str(tmp_path / "no" / "r.json")
    assert main(["render", str(music[0]), "-o", str(tmp_path / "x.mp4"), "--report", report]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--report" in err and not list(tmp_path.glob("x*"))


@pytest.mark.parametrize("choice", [["--generator", "cppn"], ["--set", "generator.name=cppn"]])
def test_an_explicit_generator_wins_over_the_originals_model(tmp_path, choice) -> None:
    audio, _ = sections_with_gaps(SR, lengths=(0.6, 0.6), gap=0.3)
    wav = write_audio(tmp_path / "song.wav", audio[:, None], SR)
    proc = run_ganterp(
        "render",
        f"--wav_path={wav}",
        f"--output_dir={tmp_path}",
        "--video_file_name=song.avi",
        *choice,
        "--resolution",
        "32",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "note: generator cppn instead of the original's biggan-deep-512" in proc.stdout
    frames = _decode(tmp_path / "song.avi")[0]
    assert frames and frames[0].shape == (32, 32, 3)


def test_a_render_is_720p_letterboxed_unless_told_and_takes_an_x264_preset(tmp_path, music):
    proc = run_ganterp(
        "render", str(music[0]), "-o", "d.mp4", "--resolution", "32", "--x264-preset",
        "ultrafast", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    frames, *_ = _decode(tmp_path / "d.mp4")
    assert frames[0].shape == (720, 1280, 3)
    picture, bars = frames[len(frames) // 2][:, 280:1000], frames[len(frames) // 2][:, :270]
    assert picture.std() > 5 and bars.max() < 30
    proc = run_ganterp("render", str(music[0]), "-o", "e.mp4", "--x264-preset", "x", cwd=tmp_path)
    assert proc.returncode == 2 and "--x264-preset" in proc.stderr and "ultrafast" in proc.stderr
    assert not list(tmp_path.glob("e*"))


def test_the_encoder_takes_the_cores_the_generator_leaves(monkeypatch) -> None:
    from ganterp.live.offline import render

    monkeypatch.setattr(render.os, "sched_getaffinity", lambda pid: set(range(2)), raising=False)
    assert render.encoder_threads(1) == 1 and render.encoder_threads(4) == 1
    monkeypatch.setattr(render.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert render.encoder_threads(2) == 14
