"""The show and its outputs: a sink that fails or stalls costs the show nothing and is shown."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
from audiofiles import write_audio
from signals import sections_with_gaps

from ganterp.live.audio.file_source import FileSource
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.commands import SetSetting
from ganterp.live.display.window import HeadlessDisplay
from ganterp.live.settings.schema import Config
from ganterp.live.show.show import Show
from ganterp.live.video.sink import ThreadedSink
from ganterp.models.cppn import CppnGenerator

pytestmark = pytest.mark.slow
SR = 48000
FPS = 30.0
SECONDS = 10.5


class Raises:
    """An output whose every send fails."""

    label = "raises"

    def open(self) -> None:
        pass

    def send(self, now: float, image: np.ndarray) -> None:
        _ = image.sum()  # paints the frame, as a real output would
        raise ConnectionResetError("receiver went away")

    def detail(self) -> str:
        return ""

    def close(self) -> None:
        pass


class Blocks:
    """An output whose first send blocks for 10 s, then works."""

    label = "blocks"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent = 0

    def open(self) -> None:
        pass

    def send(self, now: float, image: np.ndarray) -> None:
        if self.sent == 0:
            self.release.wait(10.0)
        self.sent += 1

    def detail(self) -> str:
        return f"{self.sent} through"

    def close(self) -> None:
        self.release.set()


class KeepWarnings(HeadlessDisplay):
    def __init__(self) -> None:
        super().__init__((320, 180))
        self.warnings: set[str] = set()

    def present(self, frame, hud):
        if hud is not None:
            self.warnings.update(hud.warnings)
        super().present(frame, hud)


def _run(path, sinks=None) -> tuple:
    c = Config()
    config = replace(
        c,
        display=replace(c.display, headless=True, fps=FPS, hud=True),
        show=replace(c.show, seconds=SECONDS),
    )
    clock = MonotonicClock()
    display = KeepWarnings()
    made: list = []

    def factory(source):
        made.extend(sinks(clock) if sinks else [])
        return made

    show = Show(
        config,
        source=FileSource(path, clock=clock),
        generator=CppnGenerator(resolution=128),
        display=display,
        clock=clock,
        sinks=factory,
    )
    return show.run(), display, made


def test_a_sink_that_raises_or_blocks_for_10_s_leaves_the_frame_rate_and_is_reported(tmp_path):
    audio, _ = sections_with_gaps(SR, lengths=(6.0, 6.0))
    path = write_audio(tmp_path / "music.wav", audio, SR)
    plain, _, _ = _run(path)
    blocks = Blocks()
    report, display, _ = _run(
        path,
        lambda clock: [
            ThreadedSink("raiser", Raises(), clock=clock, retry_s=0.5),
            ThreadedSink("blocker", blocks, clock=clock, stall_s=1.0),
        ],
    )
    # Side by side: the show's own rate, with and without the troubled outputs.
    assert report.display_fps >= 0.95 * plain.display_fps, (report.display_fps, plain.display_fps)
    assert report.display_errors == 0
    # Both troubles were on the HUD while they lasted...
    assert any(
        w.startswith("raiser: retrying") and "receiver went away" in w for w in display.warnings
    )
    assert any(w.startswith("blocker: stalled") for w in display.warnings)
    # ...and in the report: the raiser kept failing, the blocker came back and dropped
    # the frames it could not take, one at a time.
    final = {s.name: s for s in report.outputs}
    assert final["raiser"].errors >= 5 and final["raiser"].sent == 0
    assert blocks.sent > 0 and final["blocker"].dropped >= 0.9 * FPS * 9
    assert final["blocker"].state == "stopped"


class Counts:
    """An output that counts what it gets and whether it is open."""

    label = "counts"

    def __init__(self) -> None:
        self.sent = 0
        self.open_now = False

    def open(self) -> None:
        self.open_now = True

    def send(self, now: float, image: np.ndarray) -> None:
        self.sent += 1

    def detail(self) -> str:
        return "1 receiver"

    def close(self) -> None:
        self.open_now = False


def test_a_setting_switches_an_output_off_and_on_during_the_show_and_status_says_so(tmp_path):
    audio, _ = sections_with_gaps(SR, lengths=(3.0, 3.0))
    path = write_audio(tmp_path / "music.wav", audio, SR)
    c = Config()
    config = replace(
        c,
        display=replace(c.display, headless=True, fps=FPS),
        show=replace(c.show, seconds=4.5),
        ndi=replace(c.ndi, enabled=True),
    )
    clock = MonotonicClock()
    out = Counts()
    sink = ThreadedSink("NDI test", out, clock=clock, switch="ndi.enabled")
    show = Show(
        config,
        source=FileSource(path, clock=clock),
        generator=CppnGenerator(resolution=64),
        display=HeadlessDisplay(),
        clock=clock,
        sinks=lambda source: [sink],
    )
    seen: list[tuple] = []

    def operate() -> None:
        import time

        time.sleep(1.5)
        seen.append(("on", out.open_now, tuple(show.status()[8:])))
        show.send(SetSetting("ndi", "enabled", False))  # what /ganterp/set/ndi/enabled 0 sends
        time.sleep(1.0)
        seen.append(("off", out.open_now, tuple(show.status()[8:]), out.sent))
        time.sleep(0.5)
        seen.append(("still off", out.sent))
        show.send(SetSetting("ndi", "enabled", True))
        time.sleep(1.0)
        seen.append(("on again", out.open_now, tuple(show.status()[8:])))

    operator = threading.Thread(target=operate)
    operator.start()
    show.run()
    operator.join()
    assert seen[0] == ("on", True, ("NDI test", "running", "1 receiver"))
    assert seen[1][:3] == ("off", False, ("NDI test", "off", ""))
    assert seen[2][1] == seen[1][3]  # nothing sent while off
    assert seen[3] == ("on again", True, ("NDI test", "running", "1 receiver"))
