"""The whole engine in-process, headless: threads, faults, commands, recording."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from audiofiles import write_audio
from displays import KeepFrames
from signals import sections_with_gaps

from ganterp.live.audio.file_source import FileSource
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.commands import Blackout, JumpToCategory, NextCategory, SetSetting
from ganterp.live.core.errors import AudioInputError
from ganterp.live.display.window import HeadlessDisplay, Quit
from ganterp.live.settings.schema import Config
from ganterp.live.show.show import Show
from ganterp.live.video.record import Recorder
from ganterp.models.base import check_cancel
from ganterp.models.cppn import CppnGenerator

pytestmark = pytest.mark.slow
SR = 48000


def _config(seconds: float, fps: float = 30.0) -> Config:
    c = Config()
    return replace(
        c,
        display=replace(c.display, headless=True, fps=fps),
        show=replace(c.show, seconds=seconds),
        trajectory=replace(c.trajectory, morph_s=0.5),
    )


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> tuple[Path, np.ndarray, list[tuple[float, float]]]:
    audio, gaps = sections_with_gaps(SR, lengths=(4.0, 3.0))
    path = write_audio(tmp_path_factory.mktemp("music") / "sections.wav", audio, SR)
    return path, audio, gaps


class Flaky:
    """A generator that fails on some calls, or is slow, to prove the show survives it.

    A slow call waits ``delay_s`` in ``steps`` equal parts, asking ``cancel`` before each.
    """

    def __init__(
        self, inner, fail: set[int] | None = None, delay_s: float = 0.0, steps: int = 1
    ) -> None:
        self.inner = inner
        self.fail = fail or set()
        self.delay_s = delay_s
        self.steps = steps
        self.calls = 0
        self.painting = threading.Event()
        for name in (
            "name",
            "z_dim",
            "num_classes",
            "resolution",
            "class_names",
            "device",
            "dtype",
            "status",
            "warnings",
        ):
            setattr(self, name, getattr(inner, name))

    def __call__(
        self, z: torch.Tensor, y: torch.Tensor, truncation: float, *, cancel=None
    ) -> torch.Tensor:
        self.calls += 1
        self.painting.set()
        try:
            for _ in range(self.steps if self.delay_s else 0):
                check_cancel(cancel)
                time.sleep(self.delay_s / self.steps)
        finally:
            self.painting.clear()
        if self.calls in self.fail:
            raise RuntimeError(f"injected failure on call {self.calls}")
        return self.inner(z, y, truncation, cancel=cancel)


def _show(path: Path, generator, config: Config, **kw) -> tuple[Show, KeepFrames]:
    clock = MonotonicClock()
    display = KeepFrames()
    show = Show(
        config,
        source=FileSource(path, clock=clock),
        generator=generator,
        display=display,
        clock=clock,
        **kw,
    )
    return show, display


def test_show_runs_to_the_end_of_the_file_and_follows_the_sections(music):
    path, _, _ = music
    show, display = _show(path, CppnGenerator(resolution=64), _config(0.0), categories=[1, 980])
    report = show.run()
    assert 7.9 < report.seconds < 10.0  # the file is 8 s; the show ends with it
    assert report.frames_presented == display.presented
    assert report.display_fps == pytest.approx(30, rel=0.1)
    assert report.keyframes > 50
    assert report.generator_errors == 0 and report.control_errors == 0
    assert report.inflections >= 1
    assert report.onsets > 10
    assert report.source_state in ("ended", "stopped")
    assert display.last is not None and display.last.std() > 10


def test_generator_failures_keep_the_last_frame_and_the_show_going(music):
    path, _, _ = music
    flaky = Flaky(CppnGenerator(resolution=64), fail=set(range(6, 14)))
    show, display = _show(path, flaky, _config(5.0))
    report = show.run()
    seen = display.frames
    assert report.generator_errors == 8
    assert report.frames_presented >= 0.9 * 5.0 * 30  # the display never stopped
    assert report.keyframes >= 20  # it recovered once the failures ended
    assert all(frame.std() > 10 for frame in seen), "a blank frame was shown"


def test_display_keeps_its_rate_and_moves_while_the_generator_is_slow(music):
    path, _, _ = music
    slow = Flaky(CppnGenerator(resolution=64), delay_s=0.25)
    show, display = _show(path, slow, _config(3.0))
    report = show.run()
    frames = display.frames
    assert report.keyframes_per_s < 5
    assert report.display_fps > 27  # 30 wanted: it does not wait for the generator
    # Between keyframes the cross-fade keeps the picture moving: most consecutive
    # frames differ although only ~4 keyframes a second arrive.
    moving = sum(np.abs(a.astype(int) - b).mean() > 0.05 for a, b in pairwise(frames))
    assert moving > 0.5 * len(frames)


def test_commands_and_quit_from_another_thread(music):
    path, _, _ = music
    show, _ = _show(path, CppnGenerator(resolution=32), _config(0.0), categories=[5, 6, 7])

    def operator():
        time.sleep(1.0)
        show.send(NextCategory())
        time.sleep(0.5)
        show.quit()

    threading.Thread(target=operator, daemon=True).start()
    report = show.run()
    assert report.seconds < 3.0
    state, _ = show.state.get()
    assert state is not None and state.target is not None
    assert state.target.category == 6


def test_a_command_drops_the_stale_keyframe_in_progress(music):
    path, _, _ = music
    slow = Flaky(CppnGenerator(resolution=32), delay_s=0.4, steps=40)
    show, _ = _show(path, slow, _config(4.0), categories=[5, 6, 7], trace=True)
    sent: list[float] = []

    def operator():
        time.sleep(1.5)
        slow.painting.wait(timeout=5.0)  # a keyframe for the old category is in progress
        time.sleep(0.05)
        sent.append(show.clock.now())
        show.send(JumpToCategory(900))

    threading.Thread(target=operator, daemon=True).start()
    report = show.run()
    assert report.keyframes_cancelled >= 1 and report.generator_errors == 0
    shown = next(p.time_s for p in report.trace if p.time_s >= sent[0] and p.category == 900)
    # One keyframe (0.4 s) and a display frame, not the rest of the stale one first (0.75 s).
    assert shown - sent[0] < 0.6


def test_a_command_is_shown_without_waiting_for_the_next_tick(music):
    path, _, _ = music
    # Two frames a second, a command every 0.45 s: waiting for the next tick would
    # delay the commands by a sweep of phases 0.05 s apart over the 0.5 s period,
    # so only two of ten would be shown within 0.1 s. Shown at once, all are; a
    # machine that stalls the whole process for a moment may delay two or three.
    show, _ = _show(path, CppnGenerator(resolution=32), _config(5.5, fps=2.0), trace=True)
    categories = tuple(range(900, 910))
    sent: list[float] = []

    def operator():
        for category in categories:
            time.sleep(0.45)
            sent.append(show.clock.now())
            show.send(JumpToCategory(category))

    threading.Thread(target=operator, daemon=True).start()
    report = show.run()
    delays = np.array(
        [
            next(p.time_s for p in report.trace if p.time_s >= t and p.category == category) - t
            for t, category in zip(sent, categories, strict=True)
        ]
    )
    assert (delays < 0.1).sum() >= 7, delays
    assert np.median(delays) < 0.05, delays


def test_a_stream_of_commands_cannot_race_the_display(music):
    path, _, _ = music
    slow = Flaky(CppnGenerator(resolution=32), delay_s=0.03, steps=10)
    show, _ = _show(path, slow, _config(4.0, fps=10.0), trace=True)

    def fader():  # a MIDI fader on a setting that repaints, 200 moves a second
        for i in range(800):
            show.send(SetSetting("trajectory", "truncation", 0.3 + 0.001 * (i % 100)))
            time.sleep(0.005)

    threading.Thread(target=fader, daemon=True).start()
    report = show.run()
    intervals = np.diff([p.time_s for p in report.trace])
    assert report.keyframes_cancelled > 10  # the fader kept making keyframes stale
    # Never closer than half a period, except to catch up after a late frame.
    close = intervals < 0.5 / 10.0 - 0.003
    for i in np.flatnonzero(close):
        before = i - 1
        while before >= 0 and close[before]:  # a run of catch-up frames
            before -= 1
        assert before >= 0 and intervals[before] > 1.0 / 10.0, intervals
    # At most four early frames a second beyond the display's rate.
    assert report.display_fps < 10.0 + 4.0 + 0.5


def test_the_quit_key_ends_the_show_without_waiting_for_a_tick(music):
    path, _, _ = music
    # One frame a second: the key is read at a frame, and the show ends right after it.
    show, display = _show(path, CppnGenerator(resolution=32), _config(0.0, fps=1.0))
    display.actions.append(Quit())
    report = show.run()
    assert report.frames_presented == 1 and report.seconds < 0.5


def test_recording_holds_the_input_audio_in_sync(music, tmp_path):
    path, audio, _ = music
    out = tmp_path / "show.mp4"
    clock = MonotonicClock()
    config = _config(3.0)
    show = Show(
        config,
        source=FileSource(path, clock=clock),
        generator=CppnGenerator(resolution=64),
        display=HeadlessDisplay(),
        clock=clock,
        recorder_factory=lambda source: Recorder(
            out, ring=source.ring, clock=clock, fps=30, size=128
        ),
    )
    report = show.run()
    rec = report.recording
    assert rec is not None and rec.path == out and out.is_file()
    assert abs(rec.video_s - report.seconds) < 0.1
    with av.open(str(out)) as container:
        decoded = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])
        rate = container.streams.audio[0].rate
    with av.open(str(out)) as container:
        n_video = sum(1 for _ in container.decode(video=0))
    assert rate == SR
    assert abs(decoded.shape[0] / SR - report.seconds) < 0.15
    assert abs(n_video - round(report.seconds * 30)) <= 1
    # The recorded audio is the input's first seconds (AAC adds a small delay).
    n = min(decoded.shape[0], SR * 2)
    ref = audio[:n]
    corr = np.correlate(decoded[: n + SR // 10], ref[: n - SR // 10], mode="valid")
    lag = int(np.argmax(corr)) / SR
    assert lag < 0.05, lag
    peak = corr.max() / (np.linalg.norm(ref[: n - SR // 10]) * np.linalg.norm(decoded[:n]))
    assert peak > 0.8


class Clumsy(HeadlessDisplay):
    """A display whose present() fails now and then."""

    def __init__(self) -> None:
        super().__init__((320, 180))
        self.calls = 0

    def present(self, frame, hud):
        self.calls += 1
        if self.calls % 10 == 0:
            raise RuntimeError("injected display failure")
        super().present(frame, hud)


def test_display_errors_are_counted_and_survived(music):
    path, _, _ = music
    clock = MonotonicClock()
    display = Clumsy()
    show = Show(
        _config(2.0),
        source=FileSource(path, clock=clock),
        generator=CppnGenerator(resolution=32),
        display=display,
        clock=clock,
    )
    report = show.run()
    assert report.seconds == pytest.approx(2.0, abs=0.2)
    assert report.display_errors >= 5
    assert display.presented >= 40


def test_blackout_sent_as_a_command_fades_the_picture(music):
    path, _, _ = music
    clock = MonotonicClock()
    display = HeadlessDisplay((320, 180))
    show = Show(
        _config(2.0),
        source=FileSource(path, clock=clock),
        generator=CppnGenerator(resolution=32),
        display=display,
        clock=clock,
    )
    threading.Timer(0.2, lambda: show.send(Blackout(True))).start()
    show.run()
    assert display.last is not None and display.last.max() == 0


def test_an_interrupted_show_reports_its_length_and_keeps_its_recording(music, tmp_path):
    path, _, _ = music
    clock = MonotonicClock()
    out = tmp_path / "interrupted.mp4"
    started = time.monotonic()

    def ctrl_c() -> bool:
        if time.monotonic() - started > 1.5:
            raise KeyboardInterrupt
        return False

    show = Show(
        _config(0.0),
        source=FileSource(path, clock=clock),
        generator=CppnGenerator(resolution=32),
        display=HeadlessDisplay(),
        clock=clock,
        recorder_factory=lambda source: Recorder(out, ring=source.ring, clock=clock, size=64),
        stop_when=ctrl_c,
    )
    with pytest.raises(KeyboardInterrupt):
        show.run()
    report = show.report
    assert 1.0 < report.seconds < 3.0
    assert report.frames_presented > 20 and report.display_fps > 20
    assert report.recording is not None and out.is_file()
    assert abs(report.recording.video_s - report.seconds) < 0.1
    assert abs(report.recording.audio_s - report.seconds) < 0.1


def test_a_show_that_cannot_start_leaves_no_recording(tmp_path):
    class Broken(FileSource):
        def start(self) -> None:
            raise AudioInputError("the input cannot be opened")

    audio = np.zeros(SR, dtype=np.float32)
    wav = write_audio(tmp_path / "silence.wav", audio, SR)
    out = tmp_path / "never.mp4"
    out.write_bytes(b"an earlier recording")
    clock = MonotonicClock()
    show = Show(
        _config(1.0),
        source=Broken(wav, clock=clock),
        generator=CppnGenerator(resolution=32),
        display=HeadlessDisplay(),
        clock=clock,
        recorder_factory=lambda source: Recorder(out, ring=source.ring, clock=clock, size=64),
    )
    with pytest.raises(AudioInputError):
        show.run()
    assert out.read_bytes() == b"an earlier recording"
    assert not list(tmp_path.glob("*.partial.mp4"))
