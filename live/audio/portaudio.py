"""PortAudio, a process-wide library: opening, releasing and abandoning its streams.

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
For JACK rigs, :class:`~ganterp.live.audio.jack_source.JackSource` (``--input jack``)
is a JACK client of its own that does reconnect after a server restart.
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
from collections.abc import Callable
from typing import Literal

from ganterp.live.audio.devices import (
    DeviceInfo,
    DeviceKind,
    list_devices,
    portaudio,
    resolve_device,
)
from ganterp.live.audio.live_input import run_bounded
from ganterp.live.audio.source import StreamLike
from ganterp.live.core.errors import AudioInputError, one_line

log = logging.getLogger(__name__)


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
        """Find a device, as :func:`~ganterp.live.audio.devices.resolve_device` does."""
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
        if device.is_jack and (_PA.jack_lost or (started and not stream_active(stream))):
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


def stream_active(stream: StreamLike) -> bool:
    """Whether a stream still runs (False when asking fails: a dead host API)."""
    try:
        return bool(stream.active)
    except Exception:
        return False


_HW_SUFFIX = re.compile(r"\s*\(hw:\d+,\d+\)\s*$")


def _base_name(name: str) -> str:
    """A device name without ALSA's ``(hw:N,M)``, which changes when it is plugged back."""
    return _HW_SUFFIX.sub("", name).strip().lower()


def _list_quiet(kind: DeviceKind) -> list[DeviceInfo]:

    try:
        return list_devices(kind)
    except AudioInputError:
        return []
