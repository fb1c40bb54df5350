"""Building a show's parts from its settings.

Everything a show needs is made here and handed over, so the engine itself
never reads settings files, opens devices by name or picks a generator.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ganterp.live.audio.devices import DeviceInfo, resolve_device
from ganterp.live.audio.file_source import FileSource
from ganterp.live.audio.jack_source import JackSource
from ganterp.live.audio.mic import MicSource
from ganterp.live.audio.source import AudioSource
from ganterp.live.control.midi import MidiControl, MidiIn, MidiMapping
from ganterp.live.control.midi_clock import MidiClock, MidiClockInput
from ganterp.live.control.osc import OscIn, OscOut, parse_target
from ganterp.live.control.watch import PresetWatcher
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import ConfigError, DisplayError
from ganterp.live.display.gl_window import GlWindow
from ganterp.live.display.window import Display, HeadlessDisplay, PygameWindow, parse_size
from ganterp.live.settings.files import read_toml
from ganterp.live.settings.layers import live_changes
from ganterp.live.settings.presets import find_preset
from ganterp.live.settings.schema import AudioSettings, Config, DisplaySettings, RecordSettings
from ganterp.live.show.outputs import make_sinks_factory
from ganterp.live.show.show import Show
from ganterp.live.video.record import Recorder
from ganterp.models.base import Generator
from ganterp.models.classes import load_class_names, parse_categories
from ganterp.models.errors import GeneratorError
from ganterp.models.registry import make_generator

log = logging.getLogger("ganterp")


def demo_track() -> Path:
    """Path of the bundled demo track."""
    return Path(str(resources.files("ganterp.live") / "data" / "demo.ogg"))


def make_source(audio: AudioSettings, clock: Clock) -> AudioSource:
    """Open the configured input (not started yet).

    Raises
    ------
    AudioInputError, AudioFileError
        With one line saying what is wrong.
    """
    rate = audio.sample_rate or None
    if audio.input == "mic":
        return MicSource(
            audio.device or None,
            clock=clock,
            channels=list(audio.channels) or None,
            sample_rate=rate,
            blocksize=audio.blocksize,
            ring_seconds=audio.ring_seconds,
            reopen_interval_s=audio.reopen_interval_s,
        )
    if audio.input == "jack":
        return JackSource(
            audio.device or None,
            clock=clock,
            channels=len(audio.channels) or 2,
            ring_seconds=audio.ring_seconds,
            reopen_interval_s=audio.reopen_interval_s,
        )
    path = demo_track() if audio.input == "demo" else Path(audio.input).expanduser()
    monitor: DeviceInfo | str | None = None
    if audio.monitor == "default":
        monitor = resolve_device(None, "output")
    elif audio.monitor:
        monitor = audio.monitor
    return FileSource(
        path,
        clock=clock,
        loop=audio.loop,
        monitor=monitor,
        blocksize=audio.blocksize,
        ring_seconds=audio.ring_seconds,
        sample_rate=rate,
    )


def make_show_generator(config: Config) -> Generator:
    """Build the configured generator."""
    g = config.generator
    return make_generator(
        g.name,
        resolution=g.resolution,
        seed=g.seed,
        threads=g.threads,
        weights=Path(g.weights).expanduser() if g.weights else None,
        device=g.device,
        backend=g.backend,
        precision=g.precision,
        batch=g.batch,
        fallback=g.fallback,
    )


def resolve_categories(config: Config, generator: Generator) -> list[int]:
    """Turn the configured categories (indices and names) into class indices.

    Raises
    ------
    ConfigError
        For an unknown name or an index out of range (with a did-you-mean).
    """
    spec = config.trajectory.categories
    if not spec:
        return []
    try:
        return parse_categories(list(spec), generator.class_names)
    except GeneratorError as exc:
        raise ConfigError(f"trajectory.categories: {exc}") from None


def display_available() -> bool:
    """Whether a window can be shown (a display server is reachable)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def make_display(settings: DisplaySettings) -> Display:
    """Open the window, or a headless display.

    Raises
    ------
    DisplayError
        When a window was asked for and cannot be opened.
    """
    try:
        size = parse_size(settings.size)
    except ValueError as exc:
        raise ConfigError(f"display.size: {exc}") from None
    if settings.headless:
        return HeadlessDisplay(size)
    return open_window(settings, size)


def open_window(
    settings: DisplaySettings,
    size: tuple[int, int],
    *,
    gl_window: Callable[..., Display] | None = None,
) -> Display:
    """Open the window the settings ask for: drawn through the GPU, or by the CPU.

    Parameters
    ----------
    settings : DisplaySettings
        ``renderer`` chooses: 'gpu', 'cpu', or 'auto' (the GPU, else the CPU).
    size : tuple of int
        Window ``(width, height)``, pixels.
    gl_window : callable, optional
        Makes the GPU window (by default :class:`~ganterp.live.display.gl_window.GlWindow`).

    Raises
    ------
    DisplayError
        When no window opens, or 'gpu' was asked for and OpenGL cannot draw.
    """
    args = {"fullscreen": settings.fullscreen, "display": settings.display, "size": size}
    if settings.renderer == "cpu":
        return PygameWindow(**args)
    try:
        window = (gl_window or GlWindow)(**args)
    except DisplayError as exc:
        if settings.renderer == "gpu":
            raise
        reason = str(exc).removeprefix("cannot draw with OpenGL: ")
        if reason.startswith("cannot open a window"):
            raise  # no display at all: the CPU window would not open either
        window = PygameWindow(**args)
        window.warnings = (f"CPU display: no OpenGL ({reason})"[:120],)
        log.warning("drawing on the CPU, slower at large sizes: no OpenGL (%s)", reason)
        return window
    log.info("display: %s", window.label)
    return window


def default_recording_path(directory: Path | None = None) -> Path:
    """A new file name for a headless show's recording, in the current folder."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return (directory or Path.cwd()) / f"ganterp-show-{stamp}.mp4"


def make_recorder_factory(
    settings: RecordSettings, path: Path, clock: Clock
) -> Callable[[AudioSource], Recorder]:
    """Return a function that starts the recorder once the source's ring exists.

    Raises
    ------
    ConfigError
        When ``record.video_size`` is not a size (checked at once, before the show).
    """
    try:
        size = parse_size(settings.video_size) if settings.video_size else settings.size
    except ValueError as exc:
        raise ConfigError(f"record.video_size: {exc}") from None

    def factory(source: AudioSource) -> Recorder:
        return Recorder(
            path,
            ring=source.ring,
            clock=clock,
            fps=settings.fps,
            size=size,
            crf=settings.crf,
            preset=settings.preset,
            queue_frames=settings.queue_frames,
        )

    return factory


class PresetLoader:
    """``name -> config``: the start-up settings with that preset's live settings.

    Every recall starts from ``base``, so a preset brings back the same look
    whichever preset came before it. Loaded presets are kept until asked
    ``fresh`` (their file was edited).

    Parameters
    ----------
    base : Config
        The start-up settings.
    config_dirs : list of Path, optional
        Where presets are looked for (default: the user's, then the shipped ones).
    """

    def __init__(self, base: Config, config_dirs: list[Path] | None = None) -> None:
        self.base = base
        self.config_dirs = config_dirs
        self._loaded: dict[str, Config] = {}

    def path(self, name: str) -> Path:
        """The file of preset ``name``."""
        return find_preset(name, self.config_dirs)

    def __call__(self, name: str, fresh: bool = False) -> Config:
        """Load preset ``name`` (from its file again when ``fresh``)."""
        if fresh or name not in self._loaded:
            new, ignored = live_changes(self.base, read_toml(self.path(name)))
            if ignored:
                log.warning("preset '%s': %s cannot change during a show", name, ", ".join(ignored))
            self._loaded[name] = new
        return self._loaded[name]


def preset_loader(base: Config, config_dirs: list[Path] | None = None) -> PresetLoader:
    """A :class:`PresetLoader` for ``base``."""
    return PresetLoader(base, config_dirs)


def default_midi_map() -> Path:
    """``midi.toml`` in the user's config directory."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("ganterp")) / "midi.toml"


def make_control_surfaces(config: Config) -> Callable[[Show], list[Any]]:
    """Return a function that opens a show's OSC input and output and its preset watcher.

    A busy or forbidden OSC port is a warning: the show goes on without OSC input.

    Raises
    ------
    ConfigError
        For a malformed ``control.osc_out`` (checked now, not on stage).
    """
    c = config.control
    midi_path = Path(c.midi_map).expanduser() if c.midi_map else default_midi_map()
    mapping = MidiMapping.load(midi_path, load_class_names())  # a bad file stops us now
    midi_in = MidiIn(c.midi, None, api=c.midi_api) if c.midi else None  # so does a missing port
    clock_in = MidiIn(c.midi_clock, None, api=c.midi_api) if c.midi_clock else None
    if c.osc_out:
        parse_target(c.osc_out)

    def factory(show: Show) -> list[Any]:
        surfaces: list[Any] = []
        if c.osc_port:
            try:
                surfaces.append(
                    OscIn(
                        c.osc_host,
                        c.osc_port,
                        send=show.send,
                        status=show.status,
                        class_names=show.generator.class_names,
                        allow=c.osc_allow,
                        log_once=show.log_once,
                    )
                )
            except ConfigError as exc:
                log.warning("%s; the show goes on without OSC input", exc)
        if c.osc_out:
            events = show.events
            surfaces.append(
                OscOut(
                    c.osc_out,
                    events=(lambda: events.drain()) if events is not None else list,
                    state=show.level_state,
                    level_hz=c.osc_level_hz,
                    log_once=show.log_once,
                )
            )
        if config.show.watch_presets:
            surfaces.append(PresetWatcher(lambda: show.active_preset, show.send))
        show.midi_control = MidiControl(
            mapping, midi_path, send=show.send, class_names=show.generator.class_names
        )
        if midi_in is not None:
            midi_in.control = show.midi_control
            surfaces.append(midi_in)
        if clock_in is not None:
            show.midi_clock = MidiClock()
            clock_in.control = MidiClockInput(show.midi_clock, show.audio_now)
            surfaces.append(clock_in)
        return surfaces

    return factory


def build_show(
    config: Config,
    *,
    clock: Clock,
    display: Display | None = None,
    record_path: Path | None = None,
    trace: bool = False,
    start_preset: str = "",
) -> Show:
    """Make every part of a show from its settings and wire them together.

    Parameters
    ----------
    config : Config
        The settings.
    clock : Clock
        Time source for every part.
    display : Display, optional
        Where frames go; by default the configured window (opened last, once
        everything else could be built), or a headless display.
    record_path : Path, optional
        Record the show to this MP4.
    trace : bool
        Keep a record of every presented frame (for latency measurements).
    start_preset : str
        The preset the settings were started with, for the HUD ('' for none).

    Raises
    ------
    GanterpError, GeneratorError
        With one line, for a setting, device, file or category that cannot be used.
    """
    presets = preset_loader(config)
    for name in config.show.presets:  # a broken preset is found now, not on stage
        presets(name)
    generator = make_show_generator(config)
    categories = resolve_categories(config, generator)
    surfaces = make_control_surfaces(config)
    source = make_source(config.audio, clock)
    # Checked before the window opens: a missing extra is one line, not a flash of a window;
    # an output's default size is the window's, read when the show starts.
    window: Display
    sinks = make_sinks_factory(config, clock=clock, display_size=lambda: window.size)
    window = display if display is not None else make_display(config.display)
    show: Show = Show(
        config,
        source=source,
        generator=generator,
        display=window,
        clock=clock,
        categories=categories,
        recorder_factory=(
            make_recorder_factory(config.record, record_path, clock) if record_path else None
        ),
        sinks=sinks,
        apply_preset=presets,
        trace=trace,
        surfaces=surfaces,
        start_preset=start_preset,
    )
    return show
