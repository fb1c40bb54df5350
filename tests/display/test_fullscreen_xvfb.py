"""The full-screen show at 1920x1080 on a real X server (Xvfb), drawn through OpenGL.

Screenshots show what a projector would: the picture fills the screen's height
with its aspect kept, moves with the music, and the HUD's text stays in its panel.
The F key leaves full screen and comes back with no window manager to help.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time

import numpy as np
import pytest
from audiofiles import write_audio
from signals import sections_with_gaps
from test_keys_xvfb import _key, _wait_size, _window
from xserver import screenshot, start_show, xvfb

pytestmark = [pytest.mark.x11, pytest.mark.slow]

SR = 48000
W, H = 1920, 1080
LEFT, RIGHT = (W - H) // 2, (W + H) // 2  # the square picture's columns


def _check_full_screen(shot: np.ndarray, label: str) -> None:
    """The picture fills the height between black bars, the HUD in its top-left panel."""
    shot = shot.astype(np.float32)
    below_hud = shot[600:, LEFT + 2 : RIGHT - 2]
    assert below_hud.mean() > 20 and below_hud.std() > 15, f"{label}: blank"
    assert np.abs(below_hud[..., 0] - below_hud[..., 2]).mean() > 5, f"{label}: grey"
    # Top to bottom: the picture's first and last rows are picture, not bars.
    assert shot[:3, 800 : RIGHT - 2].mean() > 5 and shot[-3:, LEFT + 2 : RIGHT - 2].mean() > 5
    assert shot[:, RIGHT + 2 :].max() == 0, f"{label}: the right bar is not black"
    assert shot[600:, : LEFT - 2].max() == 0, f"{label}: the left bar is not black"
    panel = shot[:560, : LEFT - 2]
    assert (panel > 150).sum() > 500, f"{label}: no HUD text"
    rows = np.flatnonzero(panel.max(axis=(1, 2)) > 0)
    assert rows.size and rows[0] < 40, f"{label}: the HUD is not in the top-left corner"


@pytest.mark.skipif(
    shutil.which("xdotool") is None or shutil.which("xwininfo") is None,
    reason="xdotool and xwininfo are not installed (Debian packages xdotool, x11-utils)",
)
def test_the_full_screen_show_fills_a_1080p_screen_and_f_toggles_without_a_wm(tmp_path):
    audio, _ = sections_with_gaps(SR, lengths=(10.0, 10.0))
    wav = write_audio(tmp_path / "sections.wav", audio, SR)
    with xvfb(W, H) as display:
        proc, start = start_show(
            display, ["--fullscreen", "--hud", "--input", str(wav), "--seconds", "40"]
        )
        try:
            assert "OpenGL, llvmpipe" in start, start  # drawn by Mesa's GL on Xvfb
            time.sleep(2.0)
            assert _window(display)[1:] == (0, 0, W, H)  # the whole screen, at 0,0
            shots = []
            for _ in range(3):
                shots.append(screenshot(display))
                time.sleep(1.5)
            for k, shot in enumerate(shots):
                _check_full_screen(shot, f"shot {k}")
            below = (slice(600, None), slice(LEFT + 2, RIGHT - 2))
            moved = [
                np.abs(a[below].astype(np.float32) - b[below].astype(np.float32)).mean()
                for a, b in itertools.pairwise(shots)
            ]
            assert min(moved) > 0.5, moved  # it moves with the music

            _key(display, "f")
            _wait_size(display, (1280, 720))  # to the window...
            time.sleep(1.5)
            _, x, y, w, h = _window(display)
            window = screenshot(display)[y : y + h, x : x + w].astype(np.float32)
            assert window[400:, 280 + 2 : 1000 - 2].mean() > 20  # the picture, scaled to it
            assert window[400:, : 280 - 2].max() == 0 and window[:, 1000 + 2 :].max() == 0
            time.sleep(1.0)  # let the new window settle before the next key
            _key(display, "f")
            _wait_size(display, (W, H))  # ... and back to the whole screen
            assert _window(display)[1:3] == (0, 0)
            time.sleep(1.5)
            _check_full_screen(screenshot(display), "back to full screen")

            _key(display, "q")
            out, _ = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, out
    if os.environ.get("GANTERP_SAVE_SHOTS"):
        from PIL import Image

        for k, shot in enumerate(shots):
            Image.fromarray(shot).save(tmp_path / f"fullscreen-{k}.png")
        print(tmp_path)
