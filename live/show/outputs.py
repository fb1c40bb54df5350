"""Building a show's video outputs (NDI, …) from its settings.

Everything that can be checked is checked before the show starts (a missing
extra, a bad size), with one line; the sinks themselves are made once the audio
source exists, because an output may send its sound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType

from ganterp.live.audio.source import AudioSource
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import ConfigError
from ganterp.live.display.window import parse_size
from ganterp.live.settings.schema import Config
from ganterp.live.video.ndi import NdiOutput, load_cyndilib
from ganterp.live.video.sink import Sink, ThreadedSink

log = logging.getLogger("ganterp")


def ndi_size(config: Config, display_size: tuple[int, int]) -> tuple[int, int]:
    """The NDI frame size: ``ndi.size``, else the display's.

    Raises
    ------
    ConfigError
        When ``ndi.size`` is not WIDTHxHEIGHT.
    """
    if not config.ndi.size:
        return display_size
    try:
        return parse_size(config.ndi.size)
    except ValueError as exc:
        raise ConfigError(f"ndi.size: {exc}") from None


def make_sinks_factory(
    config: Config,
    *,
    clock: Clock,
    display_size: tuple[int, int],
    ndi: dict[str, ModuleType] | None = None,
) -> Callable[[AudioSource], list[Sink]]:
    """Return a function that makes the show's outputs once its source exists.

    NDI is made whenever ``cyndilib`` can be imported, switched on or off by
    ``ndi.enabled`` (so OSC and presets can switch it during the show).

    Parameters
    ----------
    config : Config
        The settings.
    clock : Clock
        The show's clock.
    display_size : (int, int)
        The display's width and height, pixels (the default output size).
    ndi : dict, optional
        The ``cyndilib`` modules (default: imported when NDI is asked for).

    Raises
    ------
    ConfigError
        When NDI is asked for and cannot be had, or a setting is malformed.
    """
    n = config.ndi
    size = ndi_size(config, display_size)
    fps = n.fps or config.display.fps
    modules = ndi
    if modules is None:
        try:
            modules = load_cyndilib()
        except ConfigError:
            if n.enabled:
                raise
            modules = None  # NDI cannot be switched on in this show
    NdiOutput.check(size, n.pixel_format)

    def factory(source: AudioSource) -> list[Sink]:
        sinks: list[Sink] = []
        if modules is not None:
            output = NdiOutput(
                n.name,
                size=size,
                clock=clock,
                fps=fps,
                pixel_format=n.pixel_format,
                groups=n.groups,
                audio=source.ring if n.audio else None,
                ndi=modules,
            )
            sinks.append(
                ThreadedSink(output.label, output, clock=clock, fps=n.fps, enabled=n.enabled)
            )
        return sinks

    return factory
