"""OSC over UDP: commands in, events out.

:class:`OscIn` reads datagrams on its own thread, checks the sender against the
allow-list, parses them with python-osc and turns each message into a Command
through the address table (:mod:`ganterp.live.control.osc_map`); the show applies
commands in one place. Anything wrong — garbage bytes, an unknown address, a
wrong type, count or range, a refused sender — is one rate-limited log line
and a counter, never an exception in any thread and never a change of state.

:class:`OscOut` sends what the show hears to one target, so lights can follow
the music the way the picture does: inflections, beats and onsets as they
happen, the level at a steady rate, and the category when it changes.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from ganterp.live.analysis.features import Beat, Onset
from ganterp.live.analysis.inflection import Inflection
from ganterp.live.control.osc_map import STATUS, OscArgError, osc_addresses
from ganterp.live.core.errors import ConfigError
from ganterp.live.core.service import Service
from ganterp.live.core.stats import LogOnce

log = logging.getLogger("ganterp.osc")

_MAX_DATAGRAM = 65535


def osc_message(address: str, *args: Any) -> bytes:
    """Encode one OSC message (ints, floats, strings, booleans)."""
    builder = OscMessageBuilder(address=address)
    for value in args:
        builder.add_arg(value)
    return builder.build().dgram


def parse_target(text: str) -> tuple[str, int]:
    """``"HOST:PORT"`` → (host, port).

    Raises
    ------
    ConfigError
        For anything else.
    """
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"control.osc_out: expected HOST:PORT, e.g. 127.0.0.1:9001, not '{text}'")
    return host, int(port)


class _QuietParser(logging.Filter):
    """Drop python-osc's own per-packet warnings.

    python-osc logs each odd type tag on the root logger; OscIn reports bad
    packets itself, rate-limited.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "pythonosc" not in record.pathname


def _quiet_parser() -> None:
    root = logging.getLogger()
    if not any(isinstance(f, _QuietParser) for f in root.filters):
        root.addFilter(_QuietParser())


@dataclass
class OscCounters:
    """What OscIn has seen."""

    messages: int = 0
    applied: int = 0
    rejected: int = 0
    refused_senders: int = 0


class OscIn(Service):
    """Read OSC commands from a UDP port.

    Parameters
    ----------
    host, port : str, int
        Where to listen (port 0 picks a free one; see :attr:`port`).
    send : callable
        Receives each Command (thread-safe; the show's queue).
    status : callable
        Returns the show's state as OSC arguments, for ``/ganterp/status``.
    class_names : sequence of str
        For categories given by name.
    allow : sequence of str
        Sender addresses accepted; empty accepts any.
    log_once : LogOnce
        Rate-limited logger.

    Raises
    ------
    ConfigError
        When the port cannot be opened (in use, no permission).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        send: Callable[[Any], None],
        status: Callable[[], list[Any]],
        class_names: Sequence[str],
        allow: Sequence[str] = (),
        log_once: LogOnce,
    ) -> None:
        self._send = send
        self._status = status
        self._table = {a.path: a for a in osc_addresses(class_names)}
        self._allow = {socket.gethostbyname(a) for a in allow}
        self._log_once = log_once
        self.counters = OscCounters()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise ConfigError(
                f"OSC input: cannot listen on {host}:{port} ({exc.strerror})"
            ) from None
        super().__init__("ganterp-osc-in")
        self._sock.settimeout(0.2)
        # Room for bursts: a fader sweep or a flood is read, not dropped by the kernel.
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.port = self._sock.getsockname()[1]
        _quiet_parser()

    def _close(self) -> None:
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(_MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self.handle(data, sender)
            except Exception as exc:  # never let one datagram end the thread
                self._reject("osc-bug", f"OSC datagram not handled: {exc!r}")

    def _reject(self, key: str, text: str) -> None:
        self.counters.rejected += 1
        self._log_once(key, text)

    def handle(self, data: bytes, sender: tuple[str, int]) -> None:
        """Handle one datagram from ``sender`` (called on the OSC thread; public for tests)."""
        if self._allow and sender[0] not in self._allow:
            self.counters.refused_senders += 1
            self._log_once("osc-sender", f"OSC from {sender[0]} refused (not in control.osc_allow)")
            return
        try:
            messages = [m.message for m in OscPacket(data).messages]
        except (ParseError, ValueError, IndexError, TypeError) as exc:
            self._reject("osc-parse", f"OSC: malformed packet from {sender[0]} ({exc})")
            return
        for message in messages:
            self.counters.messages += 1
            address = message.address
            params = tuple(message.params)
            if address == STATUS:
                self._reply(sender)
                continue
            entry = self._table.get(address)
            if entry is None:
                self._reject("osc-address", f"OSC: unknown address {address[:80]!r}")
                continue
            try:
                command = entry.parse(params)
            except OscArgError as exc:
                self._reject("osc-args", f"OSC {address}: {exc}")
                continue
            self._send(command)
            self.counters.applied += 1

    def _reply(self, sender: tuple[str, int]) -> None:
        try:
            self._sock.sendto(osc_message(STATUS, *self._status()), sender)
        except OSError as exc:
            self._log_once("osc-reply", f"OSC status reply to {sender} failed: {exc}")


class OscOut(Service):
    """Send the show's events, level and category to one OSC target.

    Parameters
    ----------
    target : str
        ``HOST:PORT``.
    events : callable
        Returns the events found since the last call (Onset, Beat, Inflection).
    state : callable
        Returns ``(level_rms, low, mid, high, category, name)`` or None.
    level_hz : float
        Rate of ``/ganterp/level``.
    log_once : LogOnce
        Rate-limited logger.
    """

    def __init__(
        self,
        target: str,
        *,
        events: Callable[[], list[Any]],
        state: Callable[[], tuple[float, float, float, float, int, str] | None],
        level_hz: float,
        log_once: LogOnce,
    ) -> None:
        self.target = parse_target(target)
        self._events = events
        self._state = state
        self._period = 1.0 / level_hz
        self._log_once = log_once
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        super().__init__("ganterp-osc-out")
        self._category: int | None = None
        self.sent = 0

    def _close(self) -> None:
        self._sock.close()

    def _emit(self, address: str, *args: Any) -> None:
        try:
            self._sock.sendto(osc_message(address, *args), self.target)
            self.sent += 1
        except OSError as exc:  # nobody listening is not our problem; say so once
            self._log_once("osc-out", f"OSC out to {self.target[0]}:{self.target[1]}: {exc}")

    def _run(self) -> None:

        next_level = time.monotonic()
        while not self._stop.is_set():
            try:
                for event in self._events():
                    if isinstance(event, Inflection):
                        self._emit("/ganterp/event/inflection", float(event.strength))
                    elif isinstance(event, Beat):
                        self._emit("/ganterp/event/beat", float(event.bpm), int(event.index))
                    elif isinstance(event, Onset):
                        self._emit("/ganterp/event/onset")
                now = time.monotonic()
                state = self._state()
                if state is not None:
                    rms, low, mid, high, category, name = state
                    if now >= next_level:
                        self._emit("/ganterp/level", rms, low, mid, high)
                        next_level = now + self._period
                    if category != self._category:
                        self._category = category
                        self._emit("/ganterp/category", int(category), name)
            except Exception as exc:
                self._log_once("osc-out-bug", f"OSC out: {exc!r}")
            self._stop.wait(0.005)
