"""The audio sources the engine reads from: a live input, or a file played like one.

Every source owns an :class:`~live.audio.ring.AudioRing` and writes each block
into it with a time stamp from the injected :class:`~live.clock.Clock`. The
PortAudio callbacks only copy into preallocated memory and bump counters (no
allocation of buffers, no locks, no logging); everything else happens in the
sources' own daemon threads, which wait on :class:`threading.Event` (no busy
loops) and are joined by ``stop()``.

PortAudio and a JACK server that goes away
------------------------------------------
PortAudio (19.6 and 19.7, as in Debian/Ubuntu, built with assertions) cannot
recover in-process when the JACK server it is connected to stops:

* the JACK stream becomes inactive at once (PortAudio's JACK shutdown handler),
  which :class:`MicSource` sees within ~0.1 s;
* stopping, aborting or closing that stream waits on a condition only the (dead)
  JACK process thread would signal, for PortAudio's 10-minute timeout
  (PortAudio issue #820); ``Pa_Terminate`` closes open streams first, so it waits
  too;
* with no open stream, ``Pa_Terminate`` reaches ``jack_deactivate`` on the dead
  client, whose failure trips an ``assert`` and aborts the whole process
  (``pa_jack.c: Terminate: Assertion `err == 0' failed``);
* ``Pa_Initialize`` without a full ``Pa_Terminate`` only bumps a counter, so the
  device list, and the dead JACK client, are never rebuilt.

So after a JACK server stops, PortAudio cannot be re-initialised in this process
and no JACK device can be opened again until ganterp restarts. The sources then
keep the show going: the ring is fed silence at real-time pace (MicSource) or
the file continues clock-paced without its monitor (FileSource), the dead
stream is abandoned (never stopped or closed), and ``sounddevice``'s at-exit
``Pa_Terminate`` is unregistered so that the process still exits cleanly. For
the other host APIs (ALSA: a USB interface unplugged and plugged back)
:class:`MicSource` closes the dead stream, re-initialises PortAudio (only when no
other stream opened here is still open, since ``Pa_Terminate`` closes every
stream of the process), finds the device again by name and reopens it.
For JACK rigs, :class:`~live.audio.jack_source.JackSource` (``--input jack``)
is a JACK client of its own that does reconnect after a server restart.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from live.audio.decode import _decoder_from_probe, _probe
from live.audio.devices import DeviceInfo, DeviceKind, portaudio, resolve_device
from live.audio.ring import AudioRing
from live.clock import Clock
from live.errors import AudioFileError, AudioInputError, one_line

log = logging.getLogger(__name__)

SourceState = Literal["starting", "running", "lost", "ended", "stopped"]


@dataclass(frozen=True)
class SourceStatus:
    """A snapshot of a source's health, for the HUD and the logs.

    Attributes
    ----------
    state : {"starting", "running", "lost", "ended", "stopped"}
        ``starting`` before ``start()``; ``running`` while real audio flows;
        ``lost`` while a device is gone (silence is written meanwhile);
        ``ended`` when a file without loop has played to its end; ``stopped``
        after ``stop()``.
    message : str
        One line saying what is going on ("" when all is well).
    overflows : int
        Input overflows the driver reported (samples lost before the ring).
    reopen_count : int
        Times the device was reopened after being lost.
    position_s : float
        Seconds of audio delivered (file sources: position in the file).
    underruns : int
        Blocks a file source's monitor had to play as silence because decoding
        fell behind (0 for live inputs).
    xruns : int
        Output underflows the monitor's driver reported (JACK reports one on
        any xrun, e.g. while another client joins the graph).
    """

    state: SourceState
    message: str
    overflows: int
    reopen_count: int
    position_s: float
    underruns: int = 0
    xruns: int = 0


class AudioSource(Protocol):
    """What the engine needs from an audio source."""

    ring: AudioRing
    sample_rate: int
    channels: int
    label: str

    def start(self) -> None:
        """Start delivering audio into :attr:`ring`."""
        ...

    def stop(self) -> None:
        """Stop delivering audio and release the device or file; idempotent."""
        ...

    def status(self) -> SourceStatus:
        """Return a snapshot of the source's health."""
        ...

    @property
    def finished(self) -> bool:
        """True once a file source without loop has delivered its last block."""
        ...


class StreamLike(Protocol):
    """The part of a ``sounddevice`` stream the sources use."""

    @property
    def active(self) -> bool:
        """Whether the stream is running."""
        ...

    def start(self) -> None:
        """Start the stream."""
        ...

    def stop(self) -> None:
        """Stop the stream."""
        ...

    def close(self) -> None:
        """Close the stream."""
        ...


# -- PortAudio, a process-wide library ------------------------------------------------------


# -- helpers shared by the live inputs -------------------------------------------------------


def run_bounded(fn: Callable[[], object], timeout_s: float, name: str) -> threading.Event:
    """Run ``fn`` in a daemon thread and wait for it at most ``timeout_s`` seconds.

    For releasing a device or a client that may hang (a dead server): the
    caller goes on after the timeout and the thread is left to finish, or not.
    An exception from ``fn`` is logged at debug level and otherwise ignored.

    Parameters
    ----------
    fn : callable
        What to run, without arguments.
    timeout_s : float
        Seconds to wait.
    name : str
        The thread's name.

    Returns
    -------
    threading.Event
        Set once ``fn`` has returned: already set when it did within
        ``timeout_s``, and set later if it returns later.
    """
    done = threading.Event()

    def run() -> None:
        try:
            fn()
        except Exception as exc:
            log.debug("%s: %s", name, one_line(exc))
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    done.wait(timeout_s)
    return done


class SilenceFeed:
    """Silence written into a ring at real-time pace while its input is lost.

    The feed starts at the ring's last stamped frame (or now, for an empty
    ring), so that frames written keep matching the clock time that passed:
    the ring's timeline has no hole and downstream readers never stall. Used by
    a source's watchdog thread, the ring's only writer while the input is lost.

    Parameters
    ----------
    ring : AudioRing
        The ring to feed; its sample rate sets the pace.
    """

    def __init__(self, ring: AudioRing) -> None:
        self.ring = ring
        self._since = 0.0
        self._written = 0

    def begin(self, now: float) -> None:
        """Start feeding from the last real frame; ``now`` is the clock time in seconds."""
        frames, t = self.ring.stamp
        last = t if frames else now
        self._since, self._written = min(last, now), 0

    def fill(self, now: float) -> int:
        """Write the silence due by clock time ``now`` (seconds); return the frames written."""
        ring = self.ring
        due = int((now - self._since) * ring.sample_rate) - self._written
        done = 0
        chunk = max(1, ring.capacity // 2)
        while done < due:
            n = min(chunk, due - done)
            ring.write_silence(n, now)
            done += n
        self._written += done
        return done


class _PortAudioProcess:
    """What this process has done with PortAudio (PortAudio itself is process-wide).

    Counts the streams the sources opened and not yet closed (abandoned ones
    included), and remembers a JACK server that went away; both decide whether
    PortAudio may be re-initialised.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_streams = 0
        self.jack_lost = False

    def opened(self) -> None:
        with self.lock:
            self.open_streams += 1

    def closed(self) -> None:
        with self.lock:
            self.open_streams = max(0, self.open_streams - 1)

    def mark_jack_lost(self) -> None:
        with self.lock:
            if self.jack_lost:
                return
            self.jack_lost = True
        try:
            sd = portaudio()
            # At exit sounddevice calls Pa_Terminate, which would now hang on the dead
            # stream and then abort the process in pa_jack.c; the OS cleans up instead.
            atexit.unregister(sd._exit_handler)
        except (AudioInputError, AttributeError):
            pass


_PA = _PortAudioProcess()


class PortAudioBackend:
    """The PortAudio operations the sources use (tests substitute a fake).

    All instances share the process's PortAudio state.
    """

    def resolve(self, spec: str | int | DeviceInfo | None, kind: DeviceKind) -> DeviceInfo:
        """Find a device, as :func:`~live.audio.devices.resolve_device` does."""
        if isinstance(spec, DeviceInfo):
            try:
                return resolve_device(spec, kind)
            except AudioInputError:
                base = _base_name(spec.name)
                for d in _list_quiet(kind):
                    if d.hostapi == spec.hostapi and _base_name(d.name) == base:
                        return d
                raise
        return resolve_device(spec, kind)

    def open_input(
        self,
        device: DeviceInfo,
        *,
        channels: int,
        samplerate: int,
        blocksize: int,
        callback: Callable[..., None],
        finished_callback: Callable[[], None],
    ) -> StreamLike:
        """Open (not start) a float32 input stream; AudioInputError on failure."""
        return self._open(
            "input", device, channels, samplerate, blocksize, callback, finished_callback
        )

    def open_output(
        self,
        device: DeviceInfo,
        *,
        channels: int,
        samplerate: int,
        blocksize: int,
        callback: Callable[..., None],
        finished_callback: Callable[[], None],
    ) -> StreamLike:
        """Open (not start) a float32 output stream; AudioInputError on failure."""
        return self._open(
            "output", device, channels, samplerate, blocksize, callback, finished_callback
        )

    def _open(
        self,
        kind: Literal["input", "output"],
        device: DeviceInfo,
        channels: int,
        samplerate: int,
        blocksize: int,
        callback: Callable[..., None],
        finished_callback: Callable[[], None],
    ) -> StreamLike:
        sd = portaudio()
        # Inputs ask for PortAudio's low latency; the monitor keeps its default buffering.
        extra = {"latency": "low"} if kind == "input" else {}
        stream_class = sd.InputStream if kind == "input" else sd.OutputStream
        try:
            stream = stream_class(
                device=device.index,
                channels=channels,
                samplerate=samplerate,
                blocksize=blocksize,
                dtype="float32",
                callback=callback,
                finished_callback=finished_callback,
                **extra,
            )
        except (sd.PortAudioError, ValueError) as exc:
            what = "audio input" if kind == "input" else "monitor output"
            raise AudioInputError(
                f"cannot open {what} '{device.name}' ({device.hostapi}) with "
                f"{channels} channel(s) at {samplerate} Hz: {one_line(exc)}"
            ) from None
        _PA.opened()
        return stream

    def start(self, stream: StreamLike, device: DeviceInfo) -> None:
        """Start a stream; AudioInputError on failure."""
        sd = portaudio()
        try:
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioInputError(
                f"cannot start audio stream on '{device.name}' ({device.hostapi}): {one_line(exc)}"
            ) from None

    def supports_output(self, device: DeviceInfo, channels: int, samplerate: int) -> bool:
        """Whether ``device`` accepts an output stream of these settings."""
        sd = portaudio()
        try:
            sd.check_output_settings(
                device=device.index, channels=channels, samplerate=samplerate, dtype="float32"
            )
        except (sd.PortAudioError, ValueError):
            return False
        return True

    def release(
        self,
        stream: StreamLike,
        device: DeviceInfo,
        *,
        started: bool = True,
        timeout_s: float = 1.0,
    ) -> bool:
        """Stop and close a stream without ever blocking for long.

        A started JACK stream that is no longer active lost its server and is
        abandoned untouched (stopping it would block for ten minutes); so is any
        stream whose close does not return within ``timeout_s`` (it is left to a
        daemon thread).

        Parameters
        ----------
        stream : StreamLike
            The stream.
        device : DeviceInfo
            Its device.
        started : bool
            Whether the stream had been started (and not stopped) by its owner.
        timeout_s : float
            Seconds to wait for the close.

        Returns
        -------
        bool
            True when the stream was closed.
        """
        if device.is_jack and (_PA.jack_lost or (started and not _active(stream))):
            # Inactive without our asking: the JACK server went away.
            _PA.mark_jack_lost()
            return False

        def close() -> None:
            stream.stop()
            stream.close()

        if not run_bounded(close, timeout_s, "ganterp-audio-close").is_set():
            log.warning(
                "audio device '%s' did not close within %.1f s; leaving it", device.name, timeout_s
            )
            return False
        _PA.closed()
        return True

    def abandon(self, stream: StreamLike, device: DeviceInfo) -> None:
        """Give up a stream without touching it (its JACK server has gone)."""
        if device.is_jack:
            _PA.mark_jack_lost()

    def can_reopen(self, device: DeviceInfo) -> bool:
        """Whether opening ``device`` can work again in this process."""
        return not (device.is_jack and _PA.jack_lost)

    def rescan(self) -> bool:
        """Re-initialise PortAudio so it sees devices that came (back); True if it did.

        Only when safe: no JACK server lost (``Pa_Terminate`` would abort the
        process), no other stream opened by the sources still open (it would be
        closed under its owner), and sounddevice initialised exactly once (else
        ``Pa_Terminate`` only decrements a counter).
        """
        sd = portaudio()
        with _PA.lock:
            if _PA.jack_lost or _PA.open_streams > 0 or getattr(sd, "_initialized", 0) != 1:
                return False
            try:
                sd._terminate()
                sd._initialize()
            except sd.PortAudioError as exc:
                log.warning("re-initialising PortAudio failed: %s", one_line(exc))
                return False
        return True


def _active(stream: StreamLike) -> bool:
    try:
        return bool(stream.active)
    except Exception:
        return False


_HW_SUFFIX = re.compile(r"\s*\(hw:\d+,\d+\)\s*$")


def _base_name(name: str) -> str:
    """A device name without ALSA's ``(hw:N,M)``, which changes when it is plugged back."""
    return _HW_SUFFIX.sub("", name).strip().lower()


def _list_quiet(kind: DeviceKind) -> list[DeviceInfo]:
    from live.audio.devices import list_devices

    try:
        return list_devices(kind)
    except AudioInputError:
        return []


# -- live input -----------------------------------------------------------------------------


class LiveInput:
    """What every live input (a sound card, a JACK client) reports the same way.

    Subclasses keep ``ring``, ``sample_rate`` and the state fields up to date.
    """

    ring: AudioRing
    sample_rate: int
    _state: SourceState
    _message: str
    _reopen_count: int
    _xruns: int = 0

    @property
    def finished(self) -> bool:
        """Always False: a live input never ends by itself."""
        return False

    def status(self) -> SourceStatus:
        """Return a snapshot of the input's health."""
        return SourceStatus(
            state=self._state,
            message=self._message,
            overflows=self.ring.overflows,
            reopen_count=self._reopen_count,
            position_s=self.ring.written / self.sample_rate,
            xruns=self._xruns,
        )


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
        :func:`~live.audio.devices.resolve_device`.
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
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
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
        self._wake.set()

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
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._watch, name="ganterp-mic-watchdog", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop capturing, join the watchdog and release the device; idempotent."""
        with self._lock:
            self._stopping.set()
            self._wake.set()
            thread, self._thread = self._thread, None
            if thread is not None and thread is not threading.current_thread():
                thread.join()
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
        while not self._stopping.is_set():
            self._wake.wait(poll)
            self._wake.clear()
            if self._stopping.is_set():
                break
            now = clock.now()
            if self._state == "running":
                written = self.ring.written
                if written != last_written:
                    last_written, last_progress = written, now
                stream = self._stream
                inactive = stream is None or not _active(stream)
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
                if now >= next_reopen and not self._stopping.is_set():
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
        if self._stopping.is_set():
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


# -- file playback --------------------------------------------------------------------------


class FileSource:
    """An audio file played in real time, as if it came in through a line input.

    Without ``monitor`` a pacing thread writes ``blocksize``-frame blocks into
    the ring on a deadline schedule from ``clock``: the block holding file frames
    ``[F, F + n)`` is written, stamped with its due time ``t0 + (F + n) / rate``,
    once the clock reaches that time (``t0`` = the clock at :meth:`start`). There
    is no cumulative drift; after a stall the missed blocks are written at once
    (and beyond a ring's worth, skipped). Clock-driven callers can skip
    :meth:`start` and call :meth:`pump` themselves.

    With ``monitor`` the file is also played to that output device, and the
    output stream's callback sets the pace instead: it copies the same block to
    the output and into the ring, so what is heard is what is analysed. A
    decoder thread keeps a bounded queue of decoded blocks ahead of it; an empty
    queue gives silence and counts an underrun. If the monitor stream dies, the
    file continues clock-paced without it.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    clock : Clock
        Pacing (without monitor) and time stamps.
    loop : bool
        Start again at the end instead of ending.
    monitor : DeviceInfo, str, int or None
        Output device to play the file to while analysing it.
    blocksize : int
        Frames per block.
    ring_seconds : float
        Seconds of audio the ring holds.
    sample_rate : int, optional
        Resample to this rate in Hz. None: the file's rate, or with ``monitor``
        the device's default rate when the device refuses the file's.
    queue_blocks : int
        Decoded blocks kept ahead of a monitor's callback.
    backend : PortAudioBackend, optional
        PortAudio access (tests pass a fake).

    Raises
    ------
    AudioFileError
        On construction, when the file cannot be played (one line).
    AudioInputError
        On construction when the monitor device does not exist; on
        :meth:`start` when it cannot be opened.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock,
        loop: bool = False,
        monitor: DeviceInfo | str | int | None = None,
        blocksize: int = 512,
        ring_seconds: float = 4.0,
        sample_rate: int | None = None,
        queue_blocks: int = 32,
        backend: PortAudioBackend | None = None,
    ) -> None:
        if blocksize <= 0 or queue_blocks < 2:
            raise ValueError("blocksize must be positive and queue_blocks at least 2")
        if ring_seconds <= 0:
            raise ValueError("ring_seconds must be positive")
        self._clock = clock
        self.loop = bool(loop)
        self.blocksize = int(blocksize)
        probed = _probe(path)
        info = probed[0]
        self.path = info.path
        self._monitor_dev: DeviceInfo | None = None
        self._backend = backend
        out_channels = 0
        rate = sample_rate
        if monitor is not None:
            if self._backend is None:
                self._backend = PortAudioBackend()
            mdev = self._backend.resolve(monitor, "output")
            out_channels = min(2, mdev.max_output_channels)
            want = rate or info.sample_rate
            if not self._backend.supports_output(mdev, out_channels, want):
                if rate is not None:
                    raise AudioInputError(
                        f"monitor output '{mdev.name}' ({mdev.hostapi}) does not accept "
                        f"{want} Hz; leave the sample rate unset to use its default "
                        f"({mdev.default_samplerate:g} Hz)"
                    )
                rate = round(mdev.default_samplerate)
            self._monitor_dev = mdev
        self._decoder = _decoder_from_probe(probed, rate)
        self.info = info
        self.sample_rate = self._decoder.sample_rate
        self.channels = min(2, self._decoder.channels)
        self.ring = AudioRing(
            max(self.blocksize * 2, round(ring_seconds * self.sample_rate)),
            self.channels,
            self.sample_rate,
        )
        self._out_channels = out_channels
        mon = "" if self._monitor_dev is None else f" -> {self._monitor_dev.name}"
        self.label = f"file: {self.path.name}{' (loop)' if self.loop else ''}{mon}"

        # File position (frames of the current pass) and bookkeeping, decoder side.
        self._dec_pos = 0
        self._dec_done = False
        self._decode_error_logged = False
        # Ring side.
        self._frames_out = 0  # frames written into the ring
        self._pos_frames = 0  # file position after the last written frame
        self._t0 = 0.0
        # Decoded blocks waiting for their due time (clock-paced playback).
        self._backlog: collections.deque[tuple[np.ndarray, int, bool]] = collections.deque()

        self._state: SourceState = "starting"
        self._message = ""
        self._ended = False
        self._started = False
        self._closed = False
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

        # Monitor: preallocated single-producer single-consumer queue of blocks.
        n = int(queue_blocks)
        self._qn = n
        self._slots = np.zeros((n, self.blocksize, self.channels), dtype=np.float32)
        self._slot_len = [0] * n
        self._slot_pos = [0] * n
        self._slot_last = [False] * n
        if out_channels >= self.channels:
            self._out_views = [self._slots[i] for i in range(n)]  # broadcasts mono to 2
        else:
            self._out_views = [self._slots[i][:, :out_channels] for i in range(n)]
        self._ring_views = [self._slots[i] for i in range(n)]
        self._wr = 0  # blocks produced (producer only)
        self._rd = 0  # blocks consumed (callback only)
        self._producer_done = False
        self._cb_enabled = False
        self._stream: StreamLike | None = None
        self._monitor_lost = False
        self._underruns = 0
        self._driver_underflows = 0

    # -- properties ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """True once the file (without loop) has been delivered to its end."""
        return self._ended

    @property
    def duration_s(self) -> float | None:
        """The file's declared duration in seconds (None if unknown)."""
        return self.info.duration_s

    def status(self) -> SourceStatus:
        """Return a snapshot of playback."""
        return SourceStatus(
            state=self._state,
            message=self._message,
            overflows=self.ring.overflows,
            reopen_count=0,
            position_s=self._pos_frames / self.sample_rate,
            underruns=self._underruns,
            xruns=self._driver_underflows,
        )

    # -- decoding -----------------------------------------------------------------------
    def _decode_block(self) -> tuple[np.ndarray, int, bool]:
        """Decode the next block: (frames (n <= blocksize, channels), file position after, last)."""
        b = self.blocksize
        parts: list[np.ndarray] = []
        need = b
        wrapped_empty = False
        while need > 0 and not self._dec_done:
            try:
                chunk = self._decoder.read(need)
            except AudioFileError as exc:
                if not self._decode_error_logged:
                    self._decode_error_logged = True
                    self._message = f"{exc}; playing what could be decoded"
                    log.warning("%s", self._message)
                chunk = np.zeros((0, self.channels), dtype=np.float32)
            n = chunk.shape[0]
            if n:
                parts.append(chunk[:, : self.channels])
                need -= n
                self._dec_pos += n
                wrapped_empty = False
                continue
            # End of the file.
            if self.loop and not wrapped_empty and self._dec_pos > 0:
                try:
                    self._decoder.rewind()
                except AudioFileError as exc:
                    self._message = f"{exc}; stopping the loop"
                    log.warning("%s", self._message)
                    self._dec_done = True
                    break
                self._dec_pos = 0
                wrapped_empty = True
                continue
            self._dec_done = True
        if not parts:
            block = np.zeros((0, self.channels), dtype=np.float32)
        elif len(parts) == 1:
            block = parts[0]
        else:
            block = np.concatenate(parts, axis=0)
        return block, self._dec_pos, self._dec_done

    # -- clock-paced playback -----------------------------------------------------------
    def _next_paced(self) -> tuple[np.ndarray, int, bool]:
        if not self._backlog:
            self._backlog.append(self._decode_block())
        return self._backlog[0]

    def pump(self) -> int:
        """Write every block that is due by ``clock.now()``; return how many were written.

        Used by the pacing thread; callers that drive a manual clock may call it
        instead of :meth:`start` (the first call sets the start time if
        :meth:`start` was not called).
        """
        if self._ended or self._closed:
            return 0
        if not self._started:
            self._started = True
            self._t0 = self._clock.now()
            self._state = "running"
        now = self._clock.now()
        sr = self.sample_rate
        count = 0
        behind = int((now - self._t0) * sr) - self._frames_out
        if behind > self.ring.capacity + self.blocksize:
            self._skip(behind - self.ring.capacity)
        while not self._ended:
            block, pos, last = self._next_paced()
            n = block.shape[0]
            due = self._t0 + (self._frames_out + max(n, 1)) / sr
            if due > now and n:
                break
            self._backlog.popleft()
            if n:
                self.ring.write(block, due)
                self._frames_out += n
                self._pos_frames = pos
                count += 1
            if last:
                self._end()
        return count

    def _skip(self, frames: int) -> None:
        """Jump ``frames`` ahead (after a stall), writing nothing for them.

        Up to a minute is skipped in the file, as a line input would have moved
        on; a longer stall pauses the file instead (decoding that much would
        stall it further).
        """
        if frames > 60 * self.sample_rate:
            self._t0 += frames / self.sample_rate
            return
        blocks = frames // self.blocksize
        for _ in range(blocks):
            block, pos, last = self._next_paced()
            self._backlog.popleft()
            self._frames_out += block.shape[0]
            self._pos_frames = pos
            if last:
                self._end()
                return

    def _next_due(self) -> float:
        n = self._backlog[0][0].shape[0] if self._backlog else self.blocksize
        return self._t0 + (self._frames_out + max(n, 1)) / self.sample_rate

    def _end(self) -> None:
        self._ended = True
        if self._state == "running":
            self._state = "ended"
            if not self._message:
                self._message = f"{self.path.name} played to its end"

    def _run_paced(self) -> None:
        while not self._stopping.is_set() and not self._ended:
            self.pump()
            if self._ended:
                break
            delay = self._next_due() - self._clock.now()
            if delay > 0:
                self._wake.wait(delay)
                self._wake.clear()

    # -- monitored playback -------------------------------------------------------------
    def _out_callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Real-time thread: copy one prepared block out and into the ring.
        if status.output_underflow:
            self._driver_underflows += 1
        r = self._rd
        if not self._cb_enabled or r >= self._wr or frames != self.blocksize:
            outdata.fill(0.0)
            if self._cb_enabled and not self._producer_done:
                self._underruns += 1
            return
        i = r % self._qn
        outdata[:] = self._out_views[i]
        n = self._slot_len[i]
        if n == self.blocksize:
            self.ring.write(self._ring_views[i], self._clock.now())
        elif n:
            self.ring.write(self._ring_views[i][:n], self._clock.now())
        self._frames_out += n
        self._pos_frames = self._slot_pos[i]
        self._rd = r + 1
        if self._slot_last[i]:
            self._ended = True
            self._cb_enabled = False

    def _produce(self) -> bool:
        """Decode one block into the queue; False once the file is done."""
        block, pos, last = self._decode_block()
        i = self._wr % self._qn
        n = block.shape[0]
        slot = self._slots[i]
        slot[:n] = block
        slot[n:] = 0.0
        self._slot_len[i] = n
        self._slot_pos[i] = pos
        self._slot_last[i] = last
        self._wr += 1
        if last:
            self._producer_done = True
        return not last

    def _run_monitored(self) -> None:
        block_s = self.blocksize / self.sample_rate
        clock = self._clock
        last_rd = self._rd
        last_progress = clock.now()
        stall_s = max(0.5, 4 * block_s)
        while not self._stopping.is_set():
            # Fill the queue.
            while not self._producer_done and self._wr - self._rd < self._qn:
                self._produce()
            if self._ended:
                if self._state == "running":
                    self._state = "ended"
                    self._message = self._message or f"{self.path.name} played to its end"
                return
            # Watch the monitor.
            now = clock.now()
            if self._rd != last_rd:
                last_rd, last_progress = self._rd, now
            stream = self._stream
            if stream is None or not _active(stream) or now - last_progress > stall_s:
                self._fall_back_to_clock()
                return
            # Sleep until a quarter of the queue has been played, then top it up:
            # three quarters stay in hand against a late wake-up.
            backlog = self._wr - self._rd
            wait = max(block_s, (backlog - (3 * self._qn) // 4) * block_s)
            if self._producer_done:
                wait = block_s
            self._wake.wait(wait)
            self._wake.clear()

    def _fall_back_to_clock(self) -> None:
        """The monitor died: keep feeding the ring, clock-paced, from where it stopped."""
        self._cb_enabled = False
        stream, self._stream = self._stream, None
        dev = self._monitor_dev
        assert dev is not None and self._backend is not None
        self._monitor_lost = True
        if stream is not None:
            if dev.is_jack and not _active(stream):
                self._backend.abandon(stream, dev)
            else:
                self._backend.release(stream, dev)
        self._message = f"monitor output '{dev.name}' lost; playing on without it (clock-paced)"
        log.warning("%s", self._message)
        # Re-queue the decoded blocks the callback never took, then continue paced.
        for k in range(self._rd, self._wr):
            i = k % self._qn
            n = self._slot_len[i]
            self._backlog.append((self._slots[i][:n].copy(), self._slot_pos[i], self._slot_last[i]))
        self._rd = self._wr
        self._t0 = self._clock.now() - self._frames_out / self.sample_rate
        self._run_paced()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start playback (and the monitor stream); a no-op once started or ended.

        Raises
        ------
        AudioInputError
            One line when the monitor device cannot be opened.
        RuntimeError
            After :meth:`stop` (make a new source to play the file again).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("this FileSource was stopped; make a new one to play again")
            if self._thread is not None or self._ended:
                return
            self._stopping.clear()
            if self._monitor_dev is None:
                if not self._started:
                    self._started = True
                    self._t0 = self._clock.now()
                self._state = "running"
                target = self._run_paced
            else:
                assert self._backend is not None
                dev = self._monitor_dev
                # Fill the queue before the first callback asks.
                while not self._producer_done and self._wr < self._qn:
                    self._produce()
                stream = self._backend.open_output(
                    dev,
                    channels=self._out_channels,
                    samplerate=self.sample_rate,
                    blocksize=self.blocksize,
                    callback=self._out_callback,
                    finished_callback=self._wake.set,
                )
                self._cb_enabled = True
                try:
                    self._backend.start(stream, dev)
                except AudioInputError as exc:
                    self._cb_enabled = False
                    self._backend.release(stream, dev, started=False)
                    self._message = str(exc)
                    raise
                self._stream = stream
                self._started = True
                self._t0 = self._clock.now()
                self._state = "running"
                target = self._run_monitored
            self._thread = threading.Thread(target=target, name="ganterp-file-source", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop playback, join the thread, release the monitor and the file; idempotent."""
        with self._lock:
            self._stopping.set()
            self._wake.set()
            thread, self._thread = self._thread, None
            if thread is not None and thread is not threading.current_thread():
                thread.join()
            self._cb_enabled = False
            stream, self._stream = self._stream, None
            if stream is not None and self._monitor_dev is not None and self._backend is not None:
                self._backend.release(stream, self._monitor_dev)
            self._decoder.close()
            self._closed = True
            self._state = "stopped"

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the file has ended (without loop) or ``timeout`` seconds pass.

        Returns
        -------
        bool
            :attr:`finished`.
        """
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._ended
