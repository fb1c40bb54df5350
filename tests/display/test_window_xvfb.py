"""The show in a real pygame window on a real X server (Xvfb), seen through screenshots."""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest
from audiofiles import write_audio
from signals import sections_with_gaps
from xserver import screenshot, start_show, xvfb

pytestmark = [pytest.mark.x11, pytest.mark.slow]

SR = 48000


@pytest.fixture(scope="module")
def x_display():
    with xvfb(1280, 720) as name:
        yield name


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))


def _frame_area(shot: np.ndarray) -> np.ndarray:
    """The square picture in the middle of the 16:9 window (the bars are black)."""
    return shot[:, 280:1000].astype(np.float32)


def test_window_shows_a_picture_that_follows_the_music(x_display, tmp_path):
    audio, _ = sections_with_gaps(SR, lengths=(6.0, 6.0))
    wav = write_audio(tmp_path / "sections.wav", audio, SR)
    proc, _ = start_show(
        x_display,
        [
            "--windowed",
            "--size",
            "1280x720",
            "--input",
            str(wav),
            "--categories",
            "1,980",
            "--set",
            "trajectory.morph_s=0.4",
            # Slow audio motion: the picture moves within a section, the category step is
            # what is compared with it.
            "--set",
            "trajectory.motion_speed=0.05",
            "--seconds",
            "11",
        ],
    )
    t0 = time.monotonic()  # the show has started
    try:
        shots = {}
        for label, at in (("a1", 2.5), ("a2", 4.0), ("a3", 5.0), ("b", 10.0)):
            _sleep_until(t0 + at)
            shots[label] = _frame_area(screenshot(x_display))
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    for label, shot in shots.items():
        # Not blank: bright, coloured, structured.
        assert shot.mean() > 20, f"{label} is nearly black"
        assert shot.std() > 15, f"{label} is flat"
        assert np.abs(shot[..., 0] - shot[..., 2]).mean() > 5, f"{label} has no colour"
    steady = np.abs(shots["a1"] - shots["a2"]).mean()
    steady2 = np.abs(shots["a2"] - shots["a3"]).mean()
    across = np.abs(shots["a3"] - shots["b"]).mean()
    assert steady > 0.2, "the picture is frozen during the music"
    assert across > 2.5 * max(steady, steady2), (steady, steady2, across)
    found = re.search(r"(\d+) inflections", out)
    assert found and int(found.group(1)) >= 1, out
    if os.environ.get("GANTERP_SAVE_SHOTS"):
        from PIL import Image

        for label, shot in shots.items():
            Image.fromarray(shot.astype(np.uint8)).save(tmp_path / f"{label}.png")
        print(tmp_path, steady, steady2, across)
