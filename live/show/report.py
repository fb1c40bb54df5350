"""What happened during a show: the report printed at its end, and the frame trace."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ganterp.live.audio.source import SourceStatus
from ganterp.live.show.control_loop import ControlState
from ganterp.live.show.generator_worker import GeneratorStats
from ganterp.live.video.record import RecordReport
from ganterp.live.video.sink import SinkStatus
from ganterp.models.base import Generator


@dataclass(frozen=True)
class Presented:
    """One presented frame, for latency measurements.

    Attributes
    ----------
    time_s : float
        Clock time it was presented, s.
    keyframe : int
        Index of the newest keyframe in it (0: the opening picture, -1: none).
    weight : float
        That keyframe's share of the picture.
    onsets : int
        Onsets the trajectory had seen when that keyframe's inputs were made.
    frame : int
        Audio frame up to which those inputs had analysed.
    category : int
        The category that keyframe was painted towards (-1: none).
    """

    time_s: float
    keyframe: int
    weight: float
    onsets: int
    frame: int
    category: int = -1


@dataclass
class ShowReport:
    """What happened during a show."""

    seconds: float = 0.0
    frames_presented: int = 0
    display_fps: float = 0.0
    keyframes: int = 0
    keyframes_cancelled: int = 0
    keyframes_per_s: float = 0.0
    generate_ms_median: float = 0.0
    generate_ms_p95: float = 0.0
    generator_errors: int = 0
    generator: str = ""
    generator_warnings: list[str] = field(default_factory=list)
    control_errors: int = 0
    analysis_load: float = 0.0
    overflows: int = 0
    ring_dropped: int = 0
    events_dropped: int = 0
    display_errors: int = 0
    onsets: int = 0
    beats: int = 0
    inflections: int = 0
    source_state: str = ""
    recording: RecordReport | None = None
    record_error: str = ""
    outputs: list[SinkStatus] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    trace: list[Presented] = field(default_factory=list)

    def fill(
        self,
        *,
        generator: Generator,
        stats: GeneratorStats | None,
        state: ControlState | None,
        source: SourceStatus,
    ) -> None:
        """Copy the final counters in, once the threads have stopped.

        Parameters
        ----------
        generator : Generator
            What painted (its status and warnings).
        stats : GeneratorStats or None
            The generator worker's counters (None: it never started).
        state : ControlState or None
            The control loop's last state.
        source : SourceStatus
            The input's last status.
        """
        per_s = 1.0 / self.seconds if self.seconds > 0 else 0.0
        self.display_fps = self.frames_presented * per_s
        if stats is not None:
            times = list(stats.times_ms)
            self.keyframes = stats.keyframes
            self.keyframes_cancelled = stats.cancelled
            self.keyframes_per_s = self.keyframes * per_s
            if times:
                self.generate_ms_median = float(np.median(times))
                self.generate_ms_p95 = float(np.percentile(times, 95))
            self.generator_errors = stats.errors
        self.generator = generator.status
        self.generator_warnings = list(generator.warnings)
        if state is not None:
            self.control_errors = state.errors
            self.analysis_load = state.load
            self.ring_dropped = state.ring_dropped
            self.events_dropped = state.events_dropped
            if state.target is not None:
                self.onsets = state.target.onsets
                self.beats = state.target.beats
                self.inflections = state.target.inflections
        self.overflows = source.overflows
        self.source_state = source.state
