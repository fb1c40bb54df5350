"""The README's main command, headless: it records the show and says where."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_headless_main_command_records_a_playable_mp4(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    # The README's command runs `ganterp live --input demo`; --seconds keeps the test short.
    proc = subprocess.run(
        [sys.executable, "-m", "ganterp.live", "live", "--input", "demo", "--seconds", "4"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running headless" in proc.stdout
    said = re.search(r"recording the show to (\S+\.mp4)", proc.stdout)
    assert said, proc.stdout
    path = Path(said.group(1))
    assert path.parent == tmp_path and path.is_file()
    assert f"to {path}" in proc.stdout.splitlines()[-1]
    assert not list(tmp_path.glob("*.partial.mp4"))

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert audio.codec_context.name == "aac"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0))
        rate = container.streams.audio[0].rate
    fps = 30
    assert abs(len(frames) - 4 * fps) <= 3, len(frames)
    assert abs(samples / rate - 4.0) < 0.15, samples / rate
    first, last = frames[0].astype(np.float32), frames[-1].astype(np.float32)
    assert first.mean() > 20 and first.std() > 10, "the first frame is blank"
    assert np.abs(first - last).mean() > 1.0, "the picture did not move"


def test_sigterm_ends_the_show_with_its_recording_finished(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganterp.live", "live", "--input", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # wait until the show has started recording
        lines.append(line)
        if "keys:" in line:
            break
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    text = "".join(lines) + out
    assert proc.returncode in (0, 130), text
    assert "Traceback" not in text
    assert not list(tmp_path.glob("*.partial.mp4")), text
    (path,) = tmp_path.glob("ganterp-show-*.mp4")
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 30, frames
