"""Recording the show: what was shown and what was heard, in sync.

The display thread offers each presented frame with its clock time; the
recorder keeps one per video frame period in a bounded queue (dropping the
oldest, counted, when the encoder falls behind) and an encoder thread paints,
scales and writes H.264 video and AAC audio with PyAV. It is a
:class:`ganterp.live.video.sink.Sink` like every other output; unlike the
network outputs it keeps a short queue rather than one frame, because a file
wants every frame and can afford to be a little late. Audio comes straight from the input's
ring buffer, so nothing the show does can slow it down or lose it.

The file is written through :class:`ganterp.live.video.mux.Muxer` as
``NAME.partial.mp4`` in fragmented MP4 (playable even if the program dies) and
renamed to its final name when it closes cleanly.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganterp.live.audio.ring import AudioRing
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import RecordError
from ganterp.live.core.slots import DropQueue
from ganterp.live.video.fit import FrameFitter
from ganterp.live.video.mux import Muxer
from ganterp.live.video.sink import ShownFrame, SinkStatus

log = logging.getLogger("ganterp.record")


#: Frames larger than this (pixels) are encoded at ``ultrafast`` under ``"auto"``.
AUTO_FAST_PIXELS = 1280 * 720


def auto_preset(width: int, height: int) -> str:
    """The H.264 preset a recording of this size keeps up with on a 2-core machine.

    The recorder encodes on one thread beside the show: ``veryfast`` up to
    1280×720, ``ultrafast`` above (at 1920×1080 ``veryfast`` takes about 77 ms a
    frame on one core, ``ultrafast`` about 21 ms).

    Parameters
    ----------
    width, height : int
        Frame size, pixels.

    Returns
    -------
    str
        A libx264 preset name.
    """
    return "ultrafast" if width * height > AUTO_FAST_PIXELS else "veryfast"


@dataclass(frozen=True)
class RecordReport:
    """What a recording holds.

    Attributes
    ----------
    path : Path
        The file.
    frames : int
        Video frames written (repeats included).
    repeated : int
        Frames written twice to fill a gap (the display was late or a frame dropped).
    dropped : int
        Frames the encoder was too slow for.
    audio_s : float
        Seconds of audio written.
    video_s : float
        Seconds of video written.
    """

    path: Path
    frames: int
    repeated: int
    dropped: int
    audio_s: float
    video_s: float


class Recorder:
    """Writes an MP4 of the show in a thread of its own.

    Parameters
    ----------
    path : Path
        Final file name (``.mp4``).
    ring : AudioRing
        The input's ring buffer; the recorder reads it from its newest frame on.
    clock : Clock
        Time source shared with the display.
    fps : float
        Video frame rate.
    size : int or (int, int)
        Height and width of a square video, or the video's width and height,
        pixels (rounded down to even numbers). The pictures offered are scaled
        by FFmpeg's scaler on the encoder's thread to the largest centred square
        that fits, with black bars.
    crf : int
        H.264 constant rate factor.
    preset : str
        H.264 encoding speed: one of :data:`ganterp.live.settings.schema.X264_PRESETS`, or
        ``"auto"`` (see :func:`auto_preset`).
    queue_frames : int
        Frames waiting for the encoder at most.

    Raises
    ------
    RecordError
        When the file cannot be created.
    """

    name = "recording"

    def __init__(
        self,
        path: Path,
        *,
        ring: AudioRing,
        clock: Clock,
        fps: float = 30.0,
        size: int | tuple[int, int] = 512,
        crf: int = 20,
        preset: str = "auto",
        queue_frames: int = 64,
    ) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        width, height = (size, size) if isinstance(size, int) else size
        self.width, self.height = int(width) // 2 * 2, int(height) // 2 * 2  # 4:2:0 wants even
        self.clock = clock
        self._ring = ring
        self._reader = ring.reader()
        self._end_frame: int | None = None
        self._end: float | None = None
        self._sample_rate = ring.sample_rate
        self._queue: DropQueue[tuple[int, ShownFrame]] = DropQueue(queue_frames)
        self._began = False
        self._t0 = clock.now()
        self._next_index = 0
        self._repeated = 0
        self._last_written = -1
        self._last_image: np.ndarray | None = None
        self._error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._mux = Muxer(
            self.path,
            fps=self.fps,
            size=(self.width, self.height),
            audio_rate=ring.sample_rate,
            audio_channels=ring.channels,
            crf=crf,
            preset=auto_preset(self.width, self.height) if preset == "auto" else preset,
            fragmented=True,
            threads=1,
            suffixes=(".mp4",),
        )
        self._fitter = FrameFitter((self.width, self.height), self._mux.pix_fmt)
        self._thread = threading.Thread(target=self._run, name="ganterp-record", daemon=True)

    def begin(self, t0: float | None = None) -> None:
        """Start recording: video time 0 and the first audio sample are at clock time ``t0``.

        Parameters
        ----------
        t0 : float, optional
            Clock time of the recording's start, seconds; defaults to now.
        """
        self._t0 = self.clock.now() if t0 is None else t0
        self._reader = self._ring.reader()
        self._reader.position = self._ring.frame_at(self._t0)
        self._began = True
        self._thread.start()

    # -- display side -------------------------------------------------------------------
    def offer(self, now: float, frame: ShownFrame) -> None:
        """Offer the frame shown at clock time ``now``; kept if a video frame is due.

        Call :meth:`begin` first. Its pixels are painted on the encoder's thread.

        Parameters
        ----------
        now : float
            Clock time at which it was shown, seconds.
        frame : ShownFrame
            The frame (its picture must not change afterwards).
        """
        index = int((now - self._t0) * self.fps)
        if index < self._next_index:
            return
        self._next_index = index + 1
        self._queue.put((index, frame))
        self._wake.set()

    def status(self) -> SinkStatus:
        """The recording's state: running, failed (the show goes on without it) or stopped."""
        if self._error is not None:
            state = "failed"
        elif self._stop.is_set():
            state = "stopped"
        else:
            state = "running" if self._began else "starting"
        return SinkStatus(
            self.name,
            state,
            sent=self._mux.frames,
            dropped=self._queue.dropped,
            errors=int(self._error is not None),
            detail=self.path.name,
            error=self._error or "",
        )

    @property
    def dropped(self) -> int:
        """Frames dropped because the encoder fell behind."""
        return self._queue.dropped

    # -- encoder thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(0.05)
                self._wake.clear()
                self._drain()
            self._drain()
        except Exception as exc:  # the show goes on without its recording
            self._error = f"{type(exc).__name__}: {exc}"
            log.error("recording stopped: %s", self._error)

    def _drain(self) -> None:
        for index, frame in self._queue.drain():
            self._write_video(index, frame.image)
        self._write_audio()

    def _write_video(self, index: int, image: np.ndarray) -> None:
        # Fill any gap with the previous picture, so the video keeps its frame rate.
        if self._last_image is not None:
            while self._last_written + 1 < index:
                self._encode(self._last_written + 1, self._last_image)
                self._repeated += 1
        self._encode(index, image)
        self._last_image = image

    def _encode(self, index: int, image: np.ndarray) -> None:
        self._mux.write_frame(self._fitter.fit(image), index)
        self._last_written = index
        self._write_audio()  # after every frame: slow frames never let the ring overrun

    def _write_audio(self) -> None:
        start, block = self._reader.read()
        if self._end_frame is not None:
            block = block[: max(0, self._end_frame - start)]
        self._mux.write_audio(block)

    def stop_at(self, end: float) -> None:
        """Write no audio after clock time ``end`` (call as soon as the show ends)."""
        self._end = end
        self._end_frame = self._ring.frame_at(end)

    def abort(self) -> None:
        """Give up a recording that never began: close and delete the partial file."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30.0)
        self._mux.discard()

    def close(self, end: float | None = None) -> RecordReport:
        """Finish the file and move it to its final name.

        Parameters
        ----------
        end : float, optional
            Clock time the recording ends at; audio is written up to it and the
            last picture held until it. Defaults to now.

        Raises
        ------
        RecordError
            When the recording failed; the partial file is left for inspection.
        """
        if end is None:
            end = self._end if self._end is not None else self.clock.now()
        if self._end_frame is None:
            self.stop_at(end)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30.0)
        if self._thread.is_alive():  # never write from two threads at once
            self._error = self._error or "the encoder did not finish in 30 s"
        if self._error is None:
            try:
                # The video covers [t0, end): frame k shows [t0 + k/fps, t0 + (k+1)/fps).
                last = math.ceil((end - self._t0) * self.fps - 1e-9) - 1
                if self._last_image is not None and last > self._last_written:
                    self._write_video(last, self._last_image)
                self._write_audio()
            except Exception as exc:
                self._error = f"{type(exc).__name__}: {exc}"
        if self._error is None:
            try:
                self._mux.finish()
            except RecordError as exc:  # e.g. the disk filled up with the last fragment
                self._error = str(exc)
        else:
            self._mux.close_quietly()
        if self._error is not None:
            raise RecordError(
                f"recording failed ({self._error}); partial file: {self._mux.partial}"
            )
        self._mux.publish()
        return RecordReport(
            path=self.path,
            frames=self._mux.frames,
            repeated=self._repeated,
            dropped=self._queue.dropped,
            audio_s=self._mux.audio_samples / self._sample_rate,
            video_s=self._mux.frames / self.fps,
        )
