"""A live input that is a JACK client of its own, and survives a JACK server restart.

:class:`JackSource` talks to JACK through the JACK-Client package (``import
jack``, an optional dependency: ``pip install 'ganterp[jack]'``), not through
PortAudio, which cannot reconnect to JACK within a process (see
:mod:`ganterp.live.audio.mic`). It registers input ports ``in_1 .. in_N``, connects
them to the output ports a pattern names, and copies each process cycle into
its :class:`~ganterp.live.audio.ring.AudioRing`.

When the JACK server goes away (stopped, killed, crashed, or our client thrown
out of the graph), JACK calls the shutdown callback: the state turns ``lost``,
the dead client is closed at once, a watchdog thread feeds the ring silence at
real-time pace (so the analysis, the picture and a recording keep going), and
every ``reopen_interval_s`` a new client is tried. When the server is back
the new client connects to the ports matching the pattern again and real audio
flows by itself (state ``running``, ``reopen_count`` one up).

libjack2 and a dead client
--------------------------
A client whose server went away must be closed *before* this process opens
another JACK client: once a ``jack_client_open`` has failed on the dead server,
closing the old client (or letting the garbage collector close it, even at
exit) crashes the process in libjack2 (jackd2 1.9.21). The watchdog therefore
closes the dead client as soon as the shutdown callback has fired and tries
a new one only after that close has returned. Other JACK clients of the same
process on the same server (not made here) are outside this source's control.

A server that comes back at another sample rate
------------------------------------------------
The ring's rate, which the analysis is built on, cannot change during a show.
A server that comes back at a different rate is not used: the input stays
``lost`` (silence) with a message saying so, and reconnecting goes on, so a
server restarted again at the show's rate is picked up.

A stuck server
--------------
A server that stops calling the process callback without shutting down (e.g.
stopped by a debugger) makes the source ``lost`` after ``stall_timeout_s``;
silence is fed until cycles resume on the same client.

Real-time discipline
--------------------
The process callback only takes the port buffers, copies them into a
preallocated ``(blocksize, channels)`` staging array and writes that into the
ring (allocations are limited to the small objects JACK-Client and numpy make
per call); the xrun callback bumps counters. No logging, no locks. libjack's
own messages go to this module's logger at debug level (set process-wide
through ``jack.set_error_function`` / ``jack.set_info_function``), so a user
sees one clear line instead of libjack's chatter.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from ganterp.live.audio.devices import shortlist
from ganterp.live.audio.helper_thread import HelperThread
from ganterp.live.audio.live_input import LiveInput, SilenceFeed, run_bounded
from ganterp.live.audio.ring import AudioRing
from ganterp.live.audio.source import SourceState
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import AudioInputError, one_line

log = logging.getLogger(__name__)
_libjack_log = logging.getLogger(__name__ + ".libjack")

# Seconds stop() and the watchdog wait for a client to close before leaving it to a thread.
_CLOSE_TIMEOUT_S = 2.0


def load_jack() -> ModuleType:
    """Return the ``jack`` module (JACK-Client), importing it on first use.

    libjack's error and information messages are routed to this module's
    logger at debug level.

    Raises
    ------
    AudioInputError
        One line when JACK-Client or the JACK library cannot be loaded.
    """
    try:
        import jack
    except ImportError:
        raise AudioInputError(
            "JACK input needs the JACK-Client package: pip install 'ganterp[jack]'"
        ) from None
    except OSError as exc:
        raise AudioInputError(
            f"JACK input needs the JACK library, which could not be loaded ({one_line(exc)}): "
            "install it, e.g. 'apt install libjack-jackd2-0'"
        ) from None
    jack.set_error_function(_libjack_message)
    jack.set_info_function(_libjack_message)
    return jack


def _libjack_message(message: str) -> None:
    _libjack_log.debug("%s", message)


def _natural_key(name: str) -> list[Any]:
    """Sort key putting ``capture_2`` before ``capture_10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def match_ports(names: Sequence[str], pattern: str) -> list[str]:
    """The port names that ``pattern`` selects, in natural order.

    Parameters
    ----------
    names : sequence of str
        Full port names (``client:port``).
    pattern : str
        A regular expression searched in each name, case-insensitively
        (``"system:capture_"``, ``"^my-synth:out_[12]$"``); a pattern that is
        not a valid regular expression is taken as a plain name substring.

    Returns
    -------
    list of str
        The matching names, sorted so that numbered ports come in numeric order.
    """
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        rx = re.compile(re.escape(pattern), re.IGNORECASE)
    return sorted((n for n in names if rx.search(n)), key=_natural_key)


def _listed(names: Sequence[str]) -> str:
    return shortlist(names, ", ")


class _Stage:
    """The preallocated staging block the process callback fills: ``(frames, channels)``."""

    __slots__ = ("block", "columns")

    def __init__(self, frames: int, channels: int) -> None:
        self.block = np.zeros((frames, channels), dtype=np.float32)
        self.columns = [self.block[:, j] for j in range(channels)]


class JackSource(LiveInput):
    """A JACK client feeding a ring: a live input that survives a server restart.

    The client is opened on construction (the server's sample rate sizes the
    ring); :meth:`start` activates it and connects its inputs. Input port
    ``in_i`` is fed by the i-th source port (in natural order); with fewer
    source ports than inputs they are reused in turn, so a single source port
    feeds every input; source ports beyond ``channels`` are left alone.

    Parameters
    ----------
    ports : str, optional
        Which JACK output ports to take: a regular expression (or a plain name
        substring) searched case-insensitively in each audio output port's full
        name, e.g. ``"system:capture_"``, ``"PortAudio"``, ``"my-synth"``.
        None: the physical capture ports (the sound card).
    clock : Clock
        Time stamps for the ring, and the watchdog's sense of time.
    channels : int
        Input ports to register, and the ring's channels.
    ring_seconds : float
        Seconds of audio the ring holds.
    reopen_interval_s : float
        Seconds between attempts to reach the server again after it went away.
    client_name : str
        The JACK client's name (JACK appends ``-01`` etc. when it is taken).
    server : str, optional
        The JACK server's name; None: ``$JACK_DEFAULT_SERVER`` as it is now,
        else JACK's default server. Reconnects go to the same server.
    stall_timeout_s : float
        Seconds without a process cycle after which the input counts as lost.

    Attributes
    ----------
    ring : AudioRing
        Where the audio goes, ``channels`` wide, at :attr:`sample_rate`.
    sample_rate : int
        The server's sample rate in Hz when the source was made.
    channels : int
        Channels of the ring (input ports).
    label : str
        One line for the HUD and the logs.

    Raises
    ------
    AudioInputError
        On construction (one line): JACK-Client or libjack missing, no JACK
        server running. On :meth:`start`: no output port matches ``ports``
        (the message lists those there are), or the server refused.
    """

    def __init__(
        self,
        ports: str | None = None,
        *,
        clock: Clock,
        channels: int = 2,
        ring_seconds: float = 4.0,
        reopen_interval_s: float = 1.0,
        client_name: str = "ganterp",
        server: str | None = None,
        stall_timeout_s: float = 0.5,
    ) -> None:
        if int(channels) < 1:
            raise ValueError("channels must be at least 1")
        if ring_seconds <= 0 or reopen_interval_s <= 0 or stall_timeout_s <= 0:
            raise ValueError("ring_seconds, reopen_interval_s and stall_timeout_s must be positive")
        if not client_name:
            raise ValueError("client_name must not be empty")
        self._jack = load_jack()
        self.ports = ports or None
        self.channels = int(channels)
        self.client_name = client_name
        self.server = server
        # Every reconnect goes to the same server, whatever the environment says by then.
        self._servername = server or os.environ.get("JACK_DEFAULT_SERVER") or None
        self.reopen_interval_s = float(reopen_interval_s)
        self.stall_timeout_s = float(stall_timeout_s)
        self._clock = clock

        # Read by the callbacks (set before a client is activated, or swapped whole).
        self._gen = 0  # callbacks of an older client generation do nothing
        self._writing = False  # the process callback writes into the ring
        self._stage = _Stage(1, self.channels)
        # Written by the callbacks, read by the watchdog.
        self._cycles = 0
        self._xruns = 0
        self._shutdown: tuple[int, str] | None = None  # (generation, reason)

        self._client: Any = None
        self._closing: threading.Event | None = None  # set once the last dead client closed
        self._state: SourceState = "starting"
        self._message = ""
        self._reopen_count = 0
        self._pending = False  # running, but no source port matched yet after a reconnect
        self._parked = False  # the client is on a server at another rate, kept inactive
        self._started = False
        self._helper = HelperThread("ganterp-jack-watchdog")
        self._lock = threading.Lock()  # start/stop against each other (never in a callback)

        client = self._open_client(self._gen + 1)
        self._gen += 1
        self._client = client
        self.sample_rate = int(client.samplerate)
        self.ring = AudioRing(
            max(2 * int(client.blocksize), round(ring_seconds * self.sample_rate)),
            self.channels,
            self.sample_rate,
        )
        what = f"'{self.ports}'" if self.ports else "physical capture"
        self.label = f"jack: {what} -> {client.name} ({self.channels} ch) @ {self.sample_rate} Hz"

    # -- the JACK client ----------------------------------------------------------------
    def _server_text(self) -> str:
        name = self._servername
        return f"JACK server '{name}'" if name else "JACK server"

    def _open_client(self, gen: int) -> Any:
        """Open a client whose callbacks belong to generation ``gen``; ports registered.

        Raises
        ------
        AudioInputError
            One line when no server is running or it refuses the client.
        """
        jack = self._jack
        try:
            client = jack.Client(
                self.client_name, no_start_server=True, servername=self._servername
            )
        except jack.JackOpenError as exc:
            if exc.status.server_failed:
                which = f"named '{self._servername}' " if self._servername else ""
                raise AudioInputError(
                    f"no JACK server {which}is running (start jackd, or use --input mic)"
                ) from None
            raise AudioInputError(
                f"the {self._server_text()} refused client '{self.client_name}': {exc.status}"
            ) from None
        except jack.JackError as exc:
            raise AudioInputError(
                f"cannot connect to the {self._server_text()}: {one_line(exc)}"
            ) from None
        try:
            ports = [client.inports.register(f"in_{j + 1}") for j in range(self.channels)]
            self._stage = _Stage(int(client.blocksize), self.channels)
            client.set_process_callback(self._make_process(gen, ports))
            client.set_blocksize_callback(self._make_blocksize(gen))
            client.set_xrun_callback(self._make_xrun(gen))
            client.set_shutdown_callback(self._make_shutdown(gen))
        except jack.JackError as exc:
            _close(client)
            raise AudioInputError(
                f"cannot set up JACK client '{self.client_name}': {one_line(exc)}"
            ) from None
        return client

    def _make_process(self, gen: int, ports: list[Any]) -> Callable[[int], None]:
        clock = self._clock

        def process(frames: int) -> None:
            # Real-time thread: copy and count, nothing else.
            if self._gen != gen:
                return
            self._cycles += 1
            if not self._writing:
                return
            stage = self._stage
            if stage.block.shape[0] != frames:  # the block size callback normally saw to it
                stage = self._stage = _Stage(frames, len(ports))
            for column, port in zip(stage.columns, ports):  # noqa: B905 - same length
                column[:] = port.get_array()
            self.ring.write(stage.block, clock.now())

        return process

    def _make_blocksize(self, gen: int) -> Callable[[int], None]:
        def blocksize(frames: int) -> None:
            # JACK suspends processing meanwhile; allocating here is allowed.
            if self._gen == gen and self._stage.block.shape[0] != frames:
                self._stage = _Stage(frames, self.channels)

        return blocksize

    def _make_xrun(self, gen: int) -> Callable[[float], None]:
        def xrun(delayed_usecs: float) -> None:
            # JACK's notification thread: an input cycle was late or lost.
            if self._gen == gen:
                self._xruns += 1
                self.ring.note_overflow()

        return xrun

    def _make_shutdown(self, gen: int) -> Callable[[Any, str], None]:
        def shutdown(status: Any, reason: str) -> None:
            # libjack's thread, as in a signal handler: flag it, wake the watchdog.
            self._shutdown = (gen, reason)
            self._helper.wake.set()

        return shutdown

    def _sources(self, client: Any) -> list[str]:
        """The output ports this input takes, in order (may be empty)."""
        if self.ports is None:
            found = client.get_ports(is_audio=True, is_output=True, is_physical=True)
            return sorted((p.name for p in found), key=_natural_key)
        names = [p.name for p in client.get_ports(is_audio=True, is_output=True)]
        return match_ports(names, self.ports)

    def _no_sources_text(self, client: Any) -> str:
        available = sorted(
            (p.name for p in client.get_ports(is_audio=True, is_output=True)), key=_natural_key
        )
        if self.ports is None:
            return (
                f"the {self._server_text()} has no physical capture ports; give a port pattern "
                f"(audio.device); output ports: {_listed(available)}"
            )
        return f"no JACK output port matches '{self.ports}'; output ports: {_listed(available)}"

    def _connect(self, client: Any, sources: Sequence[str]) -> int:
        """Connect ``in_i`` to the i-th source (reused in turn); return the connections made."""
        jack = self._jack
        made = 0
        for j in range(self.channels):
            src, dst = sources[j % len(sources)], f"{client.name}:in_{j + 1}"
            try:
                client.connect(src, dst)
                made += 1
            except jack.JackError as exc:
                if getattr(exc, "code", None) == errno.EEXIST:
                    made += 1  # already connected
                else:
                    log.debug("connecting %s -> %s failed: %s", src, dst, one_line(exc))
        return made

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Activate the client, connect its inputs and start the watchdog.

        Raises
        ------
        AudioInputError
            One line when no output port matches, or the server is gone or
            refuses to activate the client.
        """
        with self._lock:
            if self._started:
                return
            try:
                client = self._ready_client()
                sources = self._sources(client)
                if not sources:
                    raise AudioInputError(self._no_sources_text(client))
                try:
                    client.activate()
                except self._jack.JackError as exc:
                    raise AudioInputError(
                        f"the {self._server_text()} would not activate client "
                        f"'{client.name}': {one_line(exc)}"
                    ) from None
                self._connect(client, sources)
            except AudioInputError as exc:
                self._state = "stopped"
                self._message = str(exc)
                raise
            self._writing = True
            self._started = True
            self._pending = False
            self._state = "running"
            self._message = ""
            self._helper.start(self._watch)

    def _ready_client(self) -> Any:
        """The current client, reopened if it was closed or its server went away."""
        client = self._client
        shut = self._shutdown
        if client is not None and shut is not None and shut[0] == self._gen:
            self._gen += 1
            self._client = None
            _close(client)
            client = None
        if client is None:
            gen = self._gen + 1
            client = self._open_client(gen)
            self._gen = gen
            rate = int(client.samplerate)
            if rate != self.sample_rate:
                self._gen += 1
                _close(client)
                raise AudioInputError(
                    f"the {self._server_text()} now runs at {rate} Hz, "
                    f"this input at {self.sample_rate} Hz; make a new input"
                )
            self._client = client
        return client

    def stop(self) -> None:
        """Stop capturing, join the watchdog and close the client; idempotent."""
        with self._lock:
            self._helper.stop()
            self._writing = False
            self._gen += 1
            self._parked = False
            client, self._client = self._client, None
            if client is not None:
                run_bounded(lambda: _close(client), _CLOSE_TIMEOUT_S, "ganterp-jack-close")
            self._state = "stopped"
            self._started = False

    # -- watchdog -----------------------------------------------------------------------
    def _watch(self) -> None:
        clock = self._clock
        poll = min(0.1, self.stall_timeout_s / 3)
        silence = SilenceFeed(self.ring)
        last_cycles = self._cycles
        last_progress = clock.now()
        next_try = clock.now() + self.reopen_interval_s
        last_error = ""
        while not self._helper.stopping.is_set():
            self._helper.wake.wait(poll)
            self._helper.wake.clear()
            if self._helper.stopping.is_set():
                break
            try:
                now = clock.now()
                shut = self._shutdown
                if self._client is not None and shut is not None and shut[0] == self._gen:
                    if self._state == "running":
                        silence.begin(now)
                    self._drop_client(shut[1])
                    next_try = now + self.reopen_interval_s
                elif self._state == "running":
                    cycles = self._cycles
                    if cycles != last_cycles:
                        last_cycles, last_progress = cycles, now
                    elif now - last_progress > self.stall_timeout_s:
                        self._writing = False
                        silence.begin(now)
                        self._state = "lost"
                        self._message = (
                            f"no audio from the {self._server_text()} for "
                            f"{now - last_progress:.1f} s; feeding silence until it resumes"
                        )
                        log.warning("%s", self._message)
                    if self._pending and now >= next_try:
                        next_try = now + self.reopen_interval_s
                        self._connect_pending()
                elif self._client is not None and not self._parked and self._cycles != last_cycles:
                    # A stalled server runs again.
                    silence.fill(clock.now())
                    self._writing = True
                    self._state = "running"
                    self._message = f"audio from the {self._server_text()} resumed"
                    log.info("%s", self._message)
                    last_cycles, last_progress = self._cycles, now
                if self._state == "lost":
                    silence.fill(now)
                    if (
                        self._client is None
                        and now >= next_try
                        and not self._helper.stopping.is_set()
                    ):
                        next_try = now + self.reopen_interval_s
                        if self._try_reconnect(silence):
                            last_cycles, last_progress = self._cycles, clock.now()
            except Exception as exc:  # keep watching whatever happens; say it once
                text = f"JACK input watchdog: {one_line(exc)}"
                if text != last_error:
                    last_error = text
                    log.warning("%s", text)

    def _drop_client(self, reason: str) -> None:
        """The server went away: mute and close the dead client, feed silence."""
        self._writing = False
        self._parked = False
        self._gen += 1
        client, self._client = self._client, None
        # Closed before any new client is opened (see the module notes).
        self._closing = run_bounded(lambda: _close(client), _CLOSE_TIMEOUT_S, "ganterp-jack-close")
        why = f" ({reason})" if reason else ""
        self._state = "lost"
        self._message = (
            f"the {self._server_text()} went away{why}; feeding silence and reconnecting "
            f"every {self.reopen_interval_s:g} s"
        )
        log.warning("%s", self._message)

    def _try_reconnect(self, silence: SilenceFeed) -> bool:
        """Open, activate and connect a new client; True once real audio flows again."""
        closing = self._closing
        if closing is not None and not closing.is_set():
            return False  # the dead client is still closing: opening now could crash libjack
        gen = self._gen + 1
        try:
            client = self._open_client(gen)
        except AudioInputError as exc:
            log.debug("reconnecting to JACK failed: %s", exc)
            return False
        self._gen = gen
        rate = int(client.samplerate)
        if rate != self.sample_rate:
            # Kept open but inactive (out of the graph) until this server goes away too,
            # rather than joining and leaving it every few seconds.
            self._client = client
            self._parked = True
            self._message = (
                f"the {self._server_text()} is back at {rate} Hz, but this show "
                f"runs at {self.sample_rate} Hz, which cannot change during a show: feeding "
                f"silence; restart jackd at {self.sample_rate} Hz (or restart ganterp)"
            )
            log.warning("%s", self._message)
            return False
        try:
            client.activate()
            sources = self._sources(client)
            made = self._connect(client, sources) if sources else 0
        except self._jack.JackError as exc:
            self._gen += 1
            _close(client)
            log.debug("reconnecting to JACK failed: %s", one_line(exc))
            return False
        if self._helper.stopping.is_set():
            self._gen += 1
            _close(client)
            return False
        self._client = client
        silence.fill(self._clock.now())  # up to now, then the callback takes over
        self._writing = True
        self._reopen_count += 1
        self._state = "running"
        self._pending = not made
        if made:  # good news is not a warning
            self._message = f"the {self._server_text()} is back: {client.name} reconnected"
            log.info("%s", self._message)
        else:
            self._message = (
                f"the {self._server_text()} is back, but {self._no_sources_text(client)}; "
                f"connecting as soon as one appears"
            )
            log.warning("%s", self._message)
        return True

    def _connect_pending(self) -> None:
        """After a reconnect without sources: connect them once they appear."""
        client = self._client
        shut = self._shutdown
        if client is None or (shut is not None and shut[0] == self._gen):
            return
        try:
            sources = self._sources(client)
            made = self._connect(client, sources) if sources else 0
        except self._jack.JackError as exc:
            log.debug("connecting JACK inputs failed: %s", one_line(exc))
            return
        if made:
            self._pending = False
            self._message = f"{client.name} connected to {', '.join(sources[: self.channels])}"
            log.info("%s", self._message)


def _close(client: Any) -> None:
    """Deactivate and close a JACK client (safe on one whose server went away)."""
    try:
        client.deactivate()
    finally:
        client.close()
