"""What the show looks like from outside: the HUD's model and the OSC status.

Pure projections of the control loop's newest state (and a few counters) into
what the HUD draws and what ``/ganterp/status`` and the level messages send;
nothing here changes the show.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ganterp.live.audio.source import SourceStatus
from ganterp.live.display.hud import HudModel
from ganterp.live.show.control_loop import ControlState
from ganterp.live.video.sink import SinkStatus

#: How long a beat or inflection flash lasts on the HUD, seconds.
FLASH_S = 0.25
#: The HUD's tempo is the median of the tracker's over this long, seconds.
TEMPO_WINDOW_S = 8.0
#: It reads as steady while every estimate in the window is this close to it (a
#: fraction) and the window is at least half full.
TEMPO_STEADY = 0.03
#: An unsure tempo is shown for at least this long before it may change, seconds.
TEMPO_HOLD_S = 4.0


@dataclass
class Flashes:
    """When the HUD last saw a beat and an inflection (main thread only)."""

    beats: int = 0
    inflections: int = 0
    beat_at: float = -1e9
    inflection_at: float = -1e9

    def update(self, state: ControlState | None, now: float) -> None:
        """Note the counts in ``state``; a count that grew starts its flash at ``now`` (s)."""
        target = state.target if state is not None else None
        if target is None:
            return
        if target.beats != self.beats:
            self.beats, self.beat_at = target.beats, now
        if target.inflections != self.inflections:
            self.inflections, self.inflection_at = target.inflections, now

    def beat(self, now: float) -> float:
        """Brightness of the beat flash at ``now`` (s), 0-1."""
        return max(0.0, 1.0 - (now - self.beat_at) / FLASH_S)

    def inflection(self, now: float) -> float:
        """Brightness of the inflection flash at ``now`` (s), 0-1 (it lasts three times as long)."""
        return max(0.0, 1.0 - (now - self.inflection_at) / (3 * FLASH_S))


@dataclass
class TempoReadout:
    """The tempo the HUD shows: held steady, and marked when the tracker is unsure.

    A beat tracker's estimate can swing between 112, 150 and 202 BPM within
    seconds on music without a steady pulse. The readout shows the median over
    the last :data:`TEMPO_WINDOW_S` and says whether the estimates in that window
    agree; an unsure value is held for :data:`TEMPO_HOLD_S` (main thread only).
    """

    window_s: float = TEMPO_WINDOW_S
    hold_s: float = TEMPO_HOLD_S
    _samples: deque[tuple[float, float]] = field(default_factory=deque)
    _held: float = 0.0
    _held_at: float = -1e9

    def update(self, now: float, bpm: float) -> tuple[float, bool]:
        """Take the tracker's estimate at ``now``; return what to show.

        Parameters
        ----------
        now : float
            Clock time, s.
        bpm : float
            The tracker's tempo, beats per minute (0 or less: none).

        Returns
        -------
        (float, bool)
            Tempo to show, BPM (0 while the tracker has none), and whether it is steady.
        """
        samples = self._samples
        samples.append((now, bpm if bpm > 0 else 0.0))
        while samples and samples[0][0] < now - self.window_s:
            samples.popleft()
        values = [b for _, b in samples if b > 0]
        if not values or bpm <= 0:
            self._held = 0.0
            return 0.0, False
        median = statistics.median(values)
        span = now - samples[0][0]
        steady = (
            len(values) == len(samples)
            and span >= self.window_s / 2
            and max(abs(v - median) for v in values) <= TEMPO_STEADY * median
        )
        if steady or self._held <= 0 or now - self._held_at >= self.hold_s:
            self._held, self._held_at = median, now
        return (median, True) if steady else (self._held, False)


@dataclass(frozen=True)
class Alerts:
    """What may be wrong or unusual, for the HUD's warning lines.

    Attributes
    ----------
    source : SourceStatus
        The input's state.
    generator_errors : int
        Keyframes that failed so far.
    last_generator_error : str
        The newest failure's text.
    recording_dropped : int
        Frames the recorder's encoder was too slow for.
    blackout, frozen : bool
        The operator's blackout and freeze.
    display_errors : int
        Frames the display failed to show.
    learning : str or None
        The setting MIDI learn waits for.
    generator_warnings : sequence of str
        Fallbacks the generator took (the newest two are shown).
    display_warnings : sequence of str
        Fallbacks the display took (drawing on the CPU).
    outputs : sequence of SinkStatus
        The recorder's and the other outputs' states (a troubled one is a warning).
    """

    source: SourceStatus
    generator_errors: int = 0
    last_generator_error: str = ""
    recording_dropped: int = 0
    blackout: bool = False
    frozen: bool = False
    display_errors: int = 0
    learning: str | None = None
    generator_warnings: Sequence[str] = ()
    display_warnings: Sequence[str] = ()
    outputs: Sequence[SinkStatus] = ()


def warning_lines(alerts: Alerts, state: ControlState | None) -> tuple[str, ...]:
    """The HUD's warning lines, most urgent first."""
    src = alerts.source
    lines = []
    if src.state not in ("running", "ended"):
        lines.append(f"input {src.state}: {src.message}" if src.message else f"input {src.state}")
    if alerts.generator_errors:
        lines.append(
            f"generator errors {alerts.generator_errors}: {alerts.last_generator_error[:60]}"
        )
    if state is not None and state.errors:
        lines.append(f"control-loop errors {state.errors}")
    if alerts.recording_dropped:
        lines.append(f"recording dropped {alerts.recording_dropped} frames")
    if alerts.blackout:
        lines.append("blackout (B)")
    if alerts.frozen:
        lines.append("frozen (P)")
    if alerts.display_errors:
        lines.append(f"display errors {alerts.display_errors}")
    if alerts.learning:
        lines.append(f"MIDI learn: {alerts.learning} - move a control (L: next setting)")
    lines.extend(alerts.generator_warnings[-2:])
    lines.extend(alerts.display_warnings)
    lines.extend(o.line() for o in alerts.outputs if not o.healthy)
    return tuple(lines)


def hud_model(
    state: ControlState | None,
    *,
    class_names: Sequence[str],
    alerts: Alerts,
    flashes: Flashes,
    now: float,
    display_fps: float,
    keyframes_per_s: float,
    generate_times_ms: Sequence[float],
    threshold: float,
    source_label: str,
    generator_status: str,
    tempo: TempoReadout | None = None,
    preset: str = "",
) -> HudModel:
    """What the HUD shows for the newest control state.

    Parameters
    ----------
    state : ControlState or None
        The control loop's newest state (None before its first step).
    class_names : sequence of str
        Short category names, by class index.
    alerts : Alerts
        What may be wrong.
    flashes : Flashes
        The beat and inflection flashes' timing.
    now : float
        Clock time of the frame, s.
    display_fps, keyframes_per_s : float
        Measured rates, 1/s.
    generate_times_ms : sequence of float
        Recent keyframe times, ms (their median is shown).
    threshold : float
        The inflection threshold on the curve's scale.
    source_label : str
        The input's name.
    generator_status : str
        The generator's one-line status.
    tempo : TempoReadout, optional
        Holds the shown tempo steady (None: the tracker's own estimate).
    preset : str
        The preset last applied ('' for none).
    """
    f = state.features if state is not None else None
    t = state.target if state is not None else None
    src = alerts.source
    ring_dropped = state.ring_dropped if state is not None else 0
    counters = f"overflows {src.overflows}  audio drops {ring_dropped}"
    if state is not None and state.events_dropped:
        counters += f"  events dropped {state.events_dropped}"
    raw_bpm = f.bpm if f else 0.0
    bpm, bpm_steady = tempo.update(now, raw_bpm) if tempo is not None else (raw_bpm, True)
    return HudModel(
        display_fps=display_fps,
        keyframes_per_s=keyframes_per_s,
        generate_ms=statistics.median(generate_times_ms) if generate_times_ms else 0.0,
        rms_db=f.rms_db if f else -120.0,
        level=f.level if f else 0.0,
        bands=f.bands if f else (0.0, 0.0, 0.0),
        bpm=bpm,
        bpm_steady=bpm_steady,
        beat_flash=flashes.beat(now),
        inflection_flash=flashes.inflection(now),
        curve=f.curve if f else 0.0,
        threshold=threshold,
        current=class_names[t.category] if t else "",
        upcoming=class_names[t.upcoming] if t else "",
        alpha=t.alpha if t else 0.0,
        inflections=t.inflections if t else 0,
        counters=counters,
        source=f"{source_label} - {src.state}",
        warnings=warning_lines(alerts, state),
        generator=generator_status,
        outputs=tuple(o.line() for o in alerts.outputs if o.healthy and o.state != "off"),
        preset=preset,
        truncation=t.truncation if t else 0.0,
    )


def osc_status(
    state: ControlState | None,
    class_names: Sequence[str],
    *,
    blackout: bool,
    hud: bool,
    outputs: Sequence[SinkStatus] = (),
) -> list[Any]:
    """The show's state as the arguments of ``/ganterp/status``.

    Returns
    -------
    list
        Category index and name, next category's name, tempo (BPM),
        inflections so far, frozen, blackout and HUD (0 or 1), then for each
        output its name, state and detail (e.g. ``"NDI ganterp", "running",
        "2 receivers"``).
    """
    t = state.target if state is not None else None
    f = state.features if state is not None else None
    args: list[Any] = [
        int(t.category) if t else -1,
        class_names[t.category] if t else "",
        class_names[t.upcoming] if t else "",
        float(f.bpm) if f else 0.0,
        int(t.inflections) if t else 0,
        int(bool(t and t.frozen)),
        int(blackout),
        int(hud),
    ]
    for o in outputs:
        args += [o.name, o.state, o.detail or o.error]
    return args


def osc_levels(
    state: ControlState | None, class_names: Sequence[str]
) -> tuple[float, float, float, float, int, str] | None:
    """Level, band levels (0-1), category index and name, for OSC out; None before any."""
    if state is None or state.target is None:
        return None
    f, t = state.features, state.target
    low, mid, high = f.bands if f else (0.0, 0.0, 0.0)
    return (f.level if f else 0.0, low, mid, high, t.category, class_names[t.category])
