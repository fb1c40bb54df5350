"""The window's keys, pressed for real (xdotool) on a real X server (Xvfb)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import numpy as np
import pytest
from audiofiles import write_audio
from xserver import screenshot, start_show, xvfb

pytestmark = [pytest.mark.x11, pytest.mark.slow]

SR = 48000


def _window(display: str) -> tuple[str, int, int, int, int]:
    """The show window's id, x, y, width and height (found by its title)."""
    env = {**os.environ, "DISPLAY": display}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tree = subprocess.run(
            ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True, timeout=10
        ).stdout
        found = re.search(r'(0x[0-9a-f]+) "ganterp":.*?(\d+)x(\d+)\+(-?\d+)\+(-?\d+)', tree)
        if found:
            wid, w, h, x, y = found.groups()
            return wid, int(x), int(y), int(w), int(h)
        time.sleep(0.1)
    raise AssertionError("no window titled 'ganterp'")


def _key(display: str, key: str) -> None:
    """Press a key in the show's window (found afresh: full screen re-creates it)."""
    env = {**os.environ, "DISPLAY": display}
    for attempt in range(3):
        wid = _window(display)[0]
        done = subprocess.run(
            ["xdotool", "windowfocus", "--sync", wid, "key", key],
            env=env,
            timeout=10,
            capture_output=True,
        )
        if done.returncode == 0:
            return
        time.sleep(0.3 * (attempt + 1))
    raise AssertionError(f"could not press {key}: {done.stderr!r}")


def _wait_size(display: str, size: tuple[int, int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while _window(display)[3:] != size:
        assert time.monotonic() < deadline, f"window is {_window(display)[3:]}, not {size}"
        time.sleep(0.1)


@pytest.mark.skipif(
    shutil.which("xdotool") is None or shutil.which("xwininfo") is None,
    reason="xdotool and xwininfo are not installed (Debian packages xdotool, x11-utils)",
)
def test_keys_toggle_hud_fullscreen_blackout_and_quit(tmp_path):
    # Quiet input: the picture moves only when a key moves it.
    wav = write_audio(tmp_path / "quiet.wav", np.zeros(SR * 60, dtype=np.float32), SR)
    with xvfb(1280, 720) as display:
        proc, _ = start_show(
            display,
            [
                "--windowed",
                "--size",
                "640x360",
                "--input",
                str(wav),
                "--categories",
                "1,980",
                "--seconds",
                "40",
                "--set",
                "trajectory.morph_s=0.3",
                "--set",
                "trajectory.drift=0",
                "--set",
                "trajectory.motion_speed=0",
                "--set",
                "trajectory.breathe=0",
            ],
        )
        try:
            time.sleep(2.0)
            _, x, y, w, h = _window(display)
            assert (w, h) == (640, 360)
            before = screenshot(display).astype(np.float32)
            window = before[y : y + h, x : x + w]
            # A square picture in the middle of the 16:9 window, black bars beside it.
            assert window[:, 140:500].mean() > 20
            outside = np.ones(before.shape[:2], bool)
            outside[y : y + h, x : x + w] = False
            assert before[outside].max() == 0

            _key(display, "h")
            time.sleep(0.5)
            hud = screenshot(display).astype(np.float32)[y : y + h, x : x + w]
            # The HUD panel covers the window's left bar, black without it.
            assert window[20:200, 10:130].mean() < 1
            assert hud[20:200, 10:130].mean() > 5

            _key(display, "space")
            time.sleep(2.0)
            after = screenshot(display).astype(np.float32)[y : y + h, x : x + w]
            picture = (slice(240, 360), slice(140, 500))  # below the HUD panel
            moved = np.abs(after[picture] - hud[picture]).mean()
            still = np.abs(hud[picture] - window[picture]).mean()
            assert moved > 10 * max(still, 0.5), (moved, still)

            _key(display, "b")
            time.sleep(1.6)
            black = screenshot(display).astype(np.float32)[y : y + h, x : x + w]
            # Faded to black below the HUD panel (the HUD stays, saying "blackout").
            assert black[250:, :].max() == 0
            assert black[20:200, 10:200].mean() > 5

            _key(display, "f")
            # Full screen: the window takes the screen's size. (Where it is put and
            # when it is repainted is a window manager's business; Xvfb has none.)
            _wait_size(display, (1280, 720))
            time.sleep(1.0)  # let the new window settle before the next key
            _key(display, "f")
            _wait_size(display, (640, 360))  # and back to the window

            _key(display, "q")
            out, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, out
    assert "ganterp: " in out and " s, " in out  # the report was printed
