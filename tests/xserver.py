"""A real X server (Xvfb) for tests that open windows, and screenshots of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


@contextmanager
def xvfb(width: int = 1280, height: int = 720) -> Iterator[str]:
    """Run Xvfb on a free display; yield its name (``":N"``)."""
    if shutil.which("Xvfb") is None:
        import pytest

        pytest.skip("Xvfb is not installed (Debian package xvfb)")
    n = _free_display()
    proc = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.05)
        yield f":{n}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def screenshot(display: str) -> np.ndarray:
    """The whole X screen as an (H, W, 3) uint8 array."""
    from PIL import ImageGrab

    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))


@contextmanager
def display_env(display: str) -> Iterator[None]:
    """Point this process's SDL/X clients at ``display`` for the duration."""
    old = {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEODRIVER")}
    os.environ["DISPLAY"] = display
    os.environ.pop("SDL_VIDEODRIVER", None)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
