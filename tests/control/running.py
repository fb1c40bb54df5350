"""A whole show running on its own thread, built like the real one, for control tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from displays import KeepFrames

from ganterp.live.audio.file_source import FileSource
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.settings.schema import Config
from ganterp.live.show.build import make_control_surfaces, preset_loader
from ganterp.live.show.show import Show
from ganterp.models.cppn import CppnGenerator


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 4.0) -> None:
    """Poll ``condition`` until it holds, or fail saying ``what`` was awaited."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def running_show(music: Path, **sections) -> Iterator[Show]:
    """Run a headless cppn show on ``music`` (looped); ``sections`` replace settings.

    ``sections`` maps a section name to a dict of settings, e.g.
    ``control={"osc_port": 9000}``.
    """
    c = Config()
    config = replace(
        c,
        audio=replace(c.audio, input=str(music), loop=True),
        display=replace(c.display, headless=True, fps=30.0),
        show=replace(c.show, seconds=60.0),
    )
    for name, values in sections.items():
        config = replace(config, **{name: replace(getattr(config, name), **values)})
    clock = MonotonicClock()
    show = Show(
        config,
        source=FileSource(music, clock=clock, loop=True),
        generator=CppnGenerator(resolution=32),
        display=KeepFrames(),
        clock=clock,
        apply_preset=preset_loader(config),
        surfaces=make_control_surfaces(config),
    )
    thread = threading.Thread(target=show.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: bool(show.surfaces) and show.state.get()[0] is not None, "the show")
        yield show
    finally:
        show.quit()
        thread.join(timeout=10)
