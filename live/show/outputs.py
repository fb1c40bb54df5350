"""Building a show's video outputs (NDI, …) from its settings.

Everything that can be checked is checked before the show starts (a missing
extra, a bad size), with one line; the sinks themselves are made once the audio
source exists, because an output may send its sound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ganterp.live.audio.source import AudioSource
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import ConfigError
from ganterp.live.display.window import parse_size
from ganterp.live.settings.schema import Config
from ganterp.live.video.frame_share import SpoutOutput, SyphonOutput, VirtualCameraOutput
from ganterp.live.video.ndi import NdiOutput, load_cyndilib
from ganterp.live.video.sink import Output, Sink, ThreadedSink

log = logging.getLogger("ganterp")


def output_size(text: str, key: str, display_size: tuple[int, int]) -> tuple[int, int]:
    """An output's frame size: ``text`` (WIDTHxHEIGHT), else the display's.

    Raises
    ------
    ConfigError
        When ``text`` is not WIDTHxHEIGHT (``key`` names the setting).
    """
    if not text:
        return display_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _library(load: Callable[[], Any], asked: bool, given: Any) -> Any:
    """The library an output needs: ``given``, else loaded; None when not asked and absent."""
    if given is not None:
        return given
    try:
        return load()
    except ConfigError:
        if asked:
            raise
        return None  # it cannot be switched on in this show


def make_sinks_factory(
    config: Config,
    *,
    clock: Clock,
    display_size: tuple[int, int],
    ndi: dict[str, ModuleType] | None = None,
    libraries: dict[str, Any] | None = None,
) -> Callable[[AudioSource], list[Sink]]:
    """Return a function that makes the show's outputs once its source exists.

    Each output (NDI, Syphon, Spout, the virtual camera) is made whenever its
    library can be imported, switched on or off by its ``enabled`` setting (so
    OSC and presets can switch it during the show).

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
    libraries : dict, optional
        Stand-ins for ``"syphon"``, ``"spout"`` and ``"camera"`` (default: the
        platform's libraries, imported when there).

    Raises
    ------
    ConfigError
        When NDI is asked for and cannot be had, or a setting is malformed.
    """
    n = config.ndi
    size = output_size(n.size, "ndi.size", display_size)
    fps = n.fps or config.display.fps
    modules = _library(load_cyndilib, n.enabled, ndi)
    NdiOutput.check(size, n.pixel_format)
    libs = libraries or {}
    shares: list[tuple[str, bool, Callable[[Any], Output]]] = []
    sy, sp, cam = config.syphon, config.spout, config.virtual_camera
    lib = _library(SyphonOutput.load, sy.enabled, libs.get("syphon"))
    if lib is not None:
        sy_size = output_size(sy.size, "syphon.size", display_size)
        shares.append(
            (
                "syphon",
                sy.enabled,
                lambda _s, lib=lib: SyphonOutput(sy.name, size=sy_size, library=lib),
            )
        )
    lib = _library(SpoutOutput.load, sp.enabled, libs.get("spout"))
    if lib is not None:
        sp_size = output_size(sp.size, "spout.size", display_size)
        shares.append(
            (
                "spout",
                sp.enabled,
                lambda _s, lib=lib: SpoutOutput(sp.name, size=sp_size, library=lib),
            )
        )
    lib = _library(VirtualCameraOutput.load, cam.enabled, libs.get("camera"))
    if lib is not None:
        cam_size = output_size(cam.size, "virtual_camera.size", display_size)
        shares.append(
            (
                "virtual_camera",
                cam.enabled,
                lambda _s, lib=lib: VirtualCameraOutput(
                    cam.device, size=cam_size, fps=cam.fps, library=lib
                ),
            )
        )
    for _, _, make in shares:
        make(None)  # a bad size is found now, before the show

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
                ThreadedSink(
                    output.label,
                    output,
                    clock=clock,
                    fps=n.fps,
                    enabled=n.enabled,
                    switch="ndi.enabled",
                )
            )
        for section, enabled, make in shares:
            share = make(source)
            sinks.append(
                ThreadedSink(
                    share.label,
                    share,
                    clock=clock,
                    fps=cam.fps if section == "virtual_camera" else 0.0,
                    enabled=enabled,
                    switch=f"{section}.enabled",
                )
            )
        return sinks

    return factory
