"""A private X server (Xvfb) of a given size, for measuring the display at that size."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class XServer:
    """A running X server.

    Attributes
    ----------
    name : str
        Its display name, e.g. ``":3"`` (what ``DISPLAY`` is set to).
    pid : int
        Its process id (to read how much CPU it uses).
    size : tuple of int
        The screen's ``(width, height)``, pixels.
    """

    name: str
    pid: int
    size: tuple[int, int]


@contextmanager
def use_display(name: str) -> Iterator[None]:
    """Point this process's SDL and X clients at the X display ``name`` for the block.

    SDL reads ``DISPLAY`` when a window opens; its video driver choice is cleared so
    that it picks X. Both variables are restored afterwards.

    Parameters
    ----------
    name : str
        The display, e.g. ``":3"``.
    """
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEODRIVER")}
    os.environ["DISPLAY"] = name
    os.environ.pop("SDL_VIDEODRIVER", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def xvfb_available() -> bool:
    """Whether Xvfb is installed (Debian package ``xvfb``)."""
    return shutil.which("Xvfb") is not None


@contextmanager
def private_x_server(size: tuple[int, int], timeout_s: float = 10.0) -> Iterator[XServer]:
    """Run Xvfb with one screen of ``size`` on a free display number, for the ``with`` block.

    Parameters
    ----------
    size : tuple of int
        The screen's ``(width, height)``, pixels (24-bit colour).
    timeout_s : float
        How long to wait for it to start, seconds.

    Yields
    ------
    XServer
        The server; it is stopped when the block ends.

    Raises
    ------
    RuntimeError
        When Xvfb is missing or does not start in time.
    """
    if not xvfb_available():
        raise RuntimeError("Xvfb is not installed (Debian package xvfb)")
    read_end, write_end = os.pipe()
    w, h = size
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{w}x{h}x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + timeout_s
        while not number.endswith(b"\n"):  # Xvfb writes its display number when ready
            left = deadline - time.monotonic()
            ready, _, _ = select.select([read_end], [], [], max(0.0, left))
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:
                raise RuntimeError(f"Xvfb did not start at {w}x{h}")
            number += chunk
        yield XServer(name=f":{int(number)}", pid=proc.pid, size=size)
    finally:
        os.close(read_end)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
