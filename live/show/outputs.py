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
from ganterp.live.video.fit import check_frame_size
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
    display_size: Callable[[], tuple[int, int]],
    ndi: dict[str, ModuleType] | None = None,
    libraries: dict[str, Any] | None = None,
) -> Callable[[AudioSource], list[Sink]]:
    """Return a function that makes the show's outputs once its source exists.

    Each output (NDI, Syphon, Spout, the virtual camera) is made whenever its
    library can be imported, switched on or off by its ``enabled`` setting (so
    OSC and presets can switch it during the show). Everything that can be
    checked is checked now, before the window opens.

    Parameters
    ----------
    config : Config
        The settings.
    clock : Clock
        The show's clock.
    display_size : callable
        ``display_size() -> (width, height)``: the display's size in pixels, the
        size of an output whose own is empty; asked when the show starts (a full
        screen's size is known only once its window is open).
    ndi : dict, optional
        The ``cyndilib`` modules (default: imported when NDI is asked for).
    libraries : dict, optional
        Stand-ins for ``"syphon"``, ``"spout"`` and ``"camera"`` (default: the
        platform's libraries, imported when there).

    Raises
    ------
    ConfigError
        When an output is asked for and cannot be had, or a setting is malformed.
    """
    n, sy, sp, cam = config.ndi, config.syphon, config.spout, config.virtual_camera
    libs = libraries or {}
    for text, key in (
        (n.size, "ndi.size"),
        (sy.size, "syphon.size"),
        (sp.size, "spout.size"),
        (cam.size, "virtual_camera.size"),
    ):
        if text:
            check_frame_size(output_size(text, key, (0, 0)), key)
    NdiOutput.check_pixel_format(n.pixel_format)
    modules = _library(load_cyndilib, n.enabled, ndi)
    syphon = _library(SyphonOutput.load, sy.enabled, libs.get("syphon"))
    spout = _library(SpoutOutput.load, sp.enabled, libs.get("spout"))
    camera = _library(VirtualCameraOutput.load, cam.enabled, libs.get("camera"))

    def factory(source: AudioSource) -> list[Sink]:
        shown = display_size()
        # (setting section, on at start, frames/s at most (0: every frame), the output)
        outputs: list[tuple[str, bool, float, Output]] = []
        if modules is not None:
            ndi_out = NdiOutput(
                n.name,
                size=output_size(n.size, "ndi.size", shown),
                clock=clock,
                fps=n.fps or config.display.fps,
                pixel_format=n.pixel_format,
                groups=n.groups,
                audio=source.ring if n.audio else None,
                ndi=modules,
            )
            outputs.append(("ndi", n.enabled, n.fps, ndi_out))
        if syphon is not None:
            size = output_size(sy.size, "syphon.size", shown)
            outputs.append(
                ("syphon", sy.enabled, 0.0, SyphonOutput(sy.name, size=size, library=syphon))
            )
        if spout is not None:
            size = output_size(sp.size, "spout.size", shown)
            outputs.append(
                ("spout", sp.enabled, 0.0, SpoutOutput(sp.name, size=size, library=spout))
            )
        if camera is not None:
            size = output_size(cam.size, "virtual_camera.size", shown)
            camera_out = VirtualCameraOutput(cam.device, size=size, fps=cam.fps, library=camera)
            outputs.append(("virtual_camera", cam.enabled, cam.fps, camera_out))
        return [
            ThreadedSink(
                output.label,
                output,
                clock=clock,
                fps=fps,
                enabled=enabled,
                switch=f"{section}.enabled",
            )
            for section, enabled, fps, output in outputs
        ]

    return factory
