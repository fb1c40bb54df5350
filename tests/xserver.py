"""A real X server (Xvfb) for tests that open windows, and screenshots of it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import Popen

import numpy as np

from ganterp.live.bench.xserver import private_x_server, xvfb_available


@contextmanager
def xvfb(width: int = 1280, height: int = 720) -> Iterator[str]:
    """Run Xvfb with a ``width`` x ``height`` screen; yield its name (``":N"``)."""
    if not xvfb_available():
        import pytest

        pytest.skip("Xvfb is not installed (Debian package xvfb)")
    with private_x_server((width, height)) as server:
        yield server.name


def screenshot(display: str) -> np.ndarray:
    """The whole X screen as an (H, W, 3) uint8 array."""
    from PIL import ImageGrab

    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))


def start_show(display: str, args: list[str], timeout_s: float = 60.0) -> tuple[Popen, str]:
    """Start ``ganterp live ARGS`` on ``display``; return it once it has started.

    Returns
    -------
    proc : subprocess.Popen
        The show, its output (text) on ``proc.stdout``, stderr merged into it.
    line : str
        Its start-up line (the one that lists the keys).
    """
    env = {**os.environ, "DISPLAY": display}
    env.pop("SDL_VIDEODRIVER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganterp.live", "live", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    for line in proc.stdout:
        if "keys:" in line:
            return proc, line
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError(f"the show did not start: {proc.stdout.read()}")
