"""A sound card input through PortAudio that survives its device going away."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ganterp.live.audio.devices import DeviceInfo
from ganterp.live.audio.helper_thread import HelperThread
from ganterp.live.audio.live_input import LiveInput, SilenceFeed
from ganterp.live.audio.portaudio import PortAudioBackend, stream_active
from ganterp.live.audio.ring import AudioRing
from ganterp.live.audio.source import SourceState, StreamLike
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import AudioInputError

log = logging.getLogger(__name__)


class MicSource(LiveInput):
    """A live input (sound card, JACK port, virtual cable) feeding a ring.

    The device is resolved on construction; the stream is opened by
    :meth:`start`. A watchdog thread notices when the stream stops delivering
    (inactive, aborted, or no callback for ``stall_timeout_s``): the state turns
    ``lost``, silence is written into the ring at real-time pace so everything
    downstream keeps running, and reopening is tried every ``reopen_interval_s``
    (see the module notes for the JACK case, where it cannot succeed).

    Parameters
    ----------
    device : DeviceInfo, str, int or None
        The input device (None: the default input); see
        :func:`~ganterp.live.audio.devices.resolve_device`.
    clock : Clock
        Time stamps for the ring, and the watchdog's sense of time.
    channels : sequence of int, optional
        1-based input channel numbers feeding the ring's channels, in order
        (e.g. ``[3, 4]``). None: the first ``min(2, max_input_channels)``.
    sample_rate : int, optional
        Sample rate in Hz; None: the device's default.
    blocksize : int
        Frames per callback.
    ring_seconds : float
        Seconds of audio the ring holds.
    reopen_interval_s : float
        Seconds between attempts to reopen a lost device.
    stall_timeout_s : float
        Seconds without a callback after which a device counts as lost.
    backend : PortAudioBackend, optional
        PortAudio access (tests pass a fake).

    Raises
    ------
    AudioInputError
        On construction: no PortAudio, no such device, bad channel numbers.
        On :meth:`start`: the device refuses the rate, channels or block size.
    """

    def __init__(
        self,
        device: DeviceInfo | str | int | None = None,
        *,
        clock: Clock,
        channels: Sequence[int] | None = None,
        sample_rate: int | None = None,
        blocksize: int = 256,
        ring_seconds: float = 4.0,
        reopen_interval_s: float = 1.0,
        stall_timeout_s: float = 0.5,
        backend: PortAudioBackend | None = None,
    ) -> None:
        if blocksize <= 0:
            raise ValueError("blocksize must be positive")
        if ring_seconds <= 0 or reopen_interval_s <= 0 or stall_timeout_s <= 0:
            raise ValueError("ring_seconds, reopen_interval_s and stall_timeout_s must be positive")
        self._backend = backend if backend is not None else PortAudioBackend()
        self._clock = clock
        dev = self._backend.resolve(device, "input")
        self._device = dev
        if dev.max_input_channels <= 0:
            raise AudioInputError(f"audio device '{dev.name}' has no input channels")
        if channels is None:
            chans = list(range(1, min(2, dev.max_input_channels) + 1))
        else:
            chans = [int(c) for c in channels]
            if not chans:
                raise AudioInputError("no input channels chosen; give at least one channel number")
            bad = [c for c in chans if not 1 <= c <= dev.max_input_channels]
            if bad:
                raise AudioInputError(
                    f"audio input '{dev.name}' has channels 1-{dev.max_input_channels}; "
                    f"there is no channel {bad[0]}"
                )
        self.input_channels: tuple[int, ...] = tuple(chans)
        self._open_channels = max(chans)
        self._columns: list[int] | None = [c - 1 for c in chans]
        if self._columns == list(range(self._open_channels)):
            self._columns = None  # the stream delivers exactly the ring's channels
        self.sample_rate = int(sample_rate) if sample_rate else round(dev.default_samplerate)
        if self.sample_rate <= 0:
            raise AudioInputError(f"audio input '{dev.name}' reports no usable sample rate")
        self.channels = len(chans)
        self.blocksize = int(blocksize)
        self.ring = AudioRing(
            max(self.blocksize * 2, round(ring_seconds * self.sample_rate)),
            self.channels,
            self.sample_rate,
        )
        self.reopen_interval_s = float(reopen_interval_s)
        self.stall_timeout_s = float(stall_timeout_s)
        chan_text = ",".join(str(c) for c in chans)
        self.label = f"in: {dev.name} ({dev.hostapi}) ch {chan_text} @ {self.sample_rate} Hz"

        self._stream: StreamLike | None = None
        self._gen = 0  # the callback of an older stream generation writes nothing
        self._state: SourceState = "starting"
        self._message = ""
        self._reopen_count = 0
        self._started = False
        self._helper = HelperThread("ganterp-mic-watchdog")
        self._lock = threading.Lock()  # start/stop against each other (never in a callback)

    # -- properties ---------------------------------------------------------------------
    @property
    def device(self) -> DeviceInfo:
        """The device in use (re-resolved after a reopen)."""
        return self._device

    # -- stream handling ----------------------------------------------------------------
    def _make_callback(self, gen: int) -> Callable[..., None]:
        ring = self.ring
        clock = self._clock
        columns = self._columns

        def callback(indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            # Real-time thread: copy and count, nothing else.
            if self._gen != gen:
                return
            ring.write(indata, clock.now(), columns)
            if status.input_overflow:
                ring.note_overflow()

        return callback

    def _finished(self) -> None:
        # PortAudio calls this when a stream becomes inactive; wake the watchdog.
        self._helper.wake.set()

    def _open(self, device: DeviceInfo) -> StreamLike:
        """Open and start a stream on ``device`` as the next generation."""
        gen = self._gen + 1
        stream = self._backend.open_input(
            device,
            channels=self._open_channels,
            samplerate=self.sample_rate,
            blocksize=self.blocksize,
            callback=self._make_callback(gen),
            finished_callback=self._finished,
        )
        self._gen = gen
        try:
            self._backend.start(stream, device)
        except AudioInputError:
            self._gen = gen + 1
            self._backend.release(stream, device, started=False)
            raise
        return stream

    def start(self) -> None:
        """Open the device and start capturing; start the watchdog.

        Raises
        ------
        AudioInputError
            One line when the device cannot be opened with these settings.
        """
        with self._lock:
            if self._started:
                return
            try:
                self._stream = self._open(self._device)
            except AudioInputError as exc:
                self._state = "stopped"
                self._message = str(exc)
                raise
            self._started = True
            self._state = "running"
            self._message = ""
            self._helper.start(self._watch)

    def stop(self) -> None:
        """Stop capturing, join the watchdog and release the device; idempotent."""
        with self._lock:
            self._helper.stop()
            stream, self._stream = self._stream, None
            self._gen += 1
            if stream is not None:
                if self._state == "lost":
                    self._backend.abandon(stream, self._device)
                else:
                    self._backend.release(stream, self._device)
            self._state = "stopped"
            self._started = False

    # -- watchdog -----------------------------------------------------------------------
    def _watch(self) -> None:
        clock = self._clock
        poll = min(0.1, self.stall_timeout_s / 3)
        last_written = self.ring.written
        last_progress = clock.now()
        silence = SilenceFeed(self.ring)
        next_reopen = 0.0
        while not self._helper.stopping.is_set():
            self._helper.wake.wait(poll)
            self._helper.wake.clear()
            if self._helper.stopping.is_set():
                break
            now = clock.now()
            if self._state == "running":
                written = self.ring.written
                if written != last_written:
                    last_written, last_progress = written, now
                stream = self._stream
                inactive = stream is None or not stream_active(stream)
                stalled = now - last_progress > self.stall_timeout_s
                if inactive or stalled:
                    why = (
                        "the stream stopped"
                        if inactive
                        else (f"no audio for {now - last_progress:.1f} s")
                    )
                    self._lose(why, inactive)
                    silence.begin(now)
                    next_reopen = now + self.reopen_interval_s
            if self._state == "lost":
                silence.fill(now)
                if now >= next_reopen and not self._helper.stopping.is_set():
                    next_reopen = now + self.reopen_interval_s
                    if self._try_reopen():
                        last_written, last_progress = self.ring.written, clock.now()

    def _lose(self, why: str, inactive: bool) -> None:
        dev = self._device
        self._gen += 1  # mute the old stream's callback from now on
        stream, self._stream = self._stream, None
        if stream is not None:
            if dev.is_jack and inactive:
                self._backend.abandon(stream, dev)
            else:
                self._backend.release(stream, dev)
        if not self._backend.can_reopen(dev):
            self._message = (
                f"audio input '{dev.name}' lost ({why}): the JACK server went away and "
                "PortAudio cannot reconnect to JACK within this process; restart ganterp "
                "to use JACK again. Feeding silence meanwhile"
            )
        else:
            self._message = (
                f"audio input '{dev.name}' lost ({why}); feeding silence and retrying "
                f"every {self.reopen_interval_s:g} s"
            )
        self._state = "lost"
        log.warning("%s", self._message)

    def _try_reopen(self) -> bool:
        dev = self._device
        if not self._backend.can_reopen(dev):
            return False
        self._backend.rescan()
        try:
            found = self._backend.resolve(dev, "input")
            if found.max_input_channels < self._open_channels:
                raise AudioInputError(
                    f"'{found.name}' now has only {found.max_input_channels} input channel(s)"
                )
            stream = self._open(found)
        except AudioInputError as exc:
            log.debug("reopening '%s' failed: %s", dev.name, exc)
            return False
        if self._helper.stopping.is_set():
            self._gen += 1
            self._backend.release(stream, found)
            return False
        self._device = found
        self._stream = stream
        self._reopen_count += 1
        self._state = "running"
        self._message = f"audio input '{found.name}' reopened after it was lost"
        log.info("%s", self._message)
        return True
