"""Where shown frames go besides the screen: one small protocol for every output.

The display loop offers each frame it shows to every sink and goes on at once.
A sink works on a thread of its own behind a newest-wins slot: when it is busy,
a newer frame replaces the one waiting (counted as dropped), so an output that
is slow, stalls or fails costs the show nothing but that output. The recorder
(:class:`ganterp.live.video.record.Recorder`), NDI, Syphon, Spout and the virtual
camera all follow :class:`Sink`; the network and device outputs share
:class:`ThreadedSink`, which owns the thread, the slot, the counters, the
retries and the state, and leave only opening, sending and closing to an
:class:`Output`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ganterp.live.core.clock import Clock

log = logging.getLogger("ganterp.sink")

#: A send taking longer than this is reported as a stall, seconds.
STALL_S = 1.0

#: Time between two attempts to reopen an output that failed, seconds.
RETRY_S = 2.0

#: How long closing waits for a sink's thread, seconds (a stalled one is left behind).
JOIN_S = 2.0


class ShownFrame(Protocol):
    """A frame as the display showed it; its pixels are painted on first use."""

    @property
    def image(self) -> np.ndarray:
        """The picture, shape (H, W, 3), uint8 RGB (shared: do not modify)."""
        ...


@dataclass(frozen=True)
class Picture:
    """A picture that is already painted, as a :class:`ShownFrame`.

    Attributes
    ----------
    image : np.ndarray, shape (H, W, 3), uint8
        The picture, RGB.
    """

    image: np.ndarray


@dataclass(frozen=True)
class SinkStatus:
    """What a sink is doing, for the HUD, the log, OSC and the report.

    Attributes
    ----------
    name : str
        The sink's kind and name, e.g. ``"NDI ganterp"`` or ``"recording"``.
    state : str
        ``"starting"``, ``"running"``, ``"retrying"`` (it failed and will try
        again), ``"stalled"`` (a send has not returned for :data:`STALL_S`),
        ``"failed"`` (it gave up), ``"off"`` (switched off) or ``"stopped"``.
    sent : int
        Frames handed to the output.
    dropped : int
        Frames replaced by a newer one before the output could take them.
    errors : int
        Failures so far (opening or sending).
    detail : str
        What the output says about itself, e.g. ``"2 receivers"``.
    error : str
        The newest failure, one line ('' for none).
    """

    name: str
    state: str
    sent: int = 0
    dropped: int = 0
    errors: int = 0
    detail: str = ""
    error: str = ""

    @property
    def healthy(self) -> bool:
        """Whether nothing needs the operator's attention."""
        return self.state in ("starting", "running", "off", "stopped")

    def line(self) -> str:
        """One line for the HUD, e.g. ``"NDI ganterp: 2 receivers, 1200 sent"``."""
        parts = [self.state if self.state != "running" else ""]
        if self.detail:
            parts.append(self.detail)
        parts.append(f"{self.sent} sent")
        if self.dropped:
            parts.append(f"{self.dropped} dropped")
        if self.error and not self.healthy:
            parts.append(self.error)
        return f"{self.name}: " + ", ".join(p for p in parts if p)


@runtime_checkable
class Sink(Protocol):
    """Takes the frames the show presents, never slowing it.

    The show calls :meth:`begin` once, :meth:`offer` for every frame it shows
    (on the display thread: it must return at once), :meth:`stop_at` when the
    show ends, then :meth:`close` (or :meth:`abort` if the show never began).
    """

    name: str

    def begin(self, t0: float) -> None:
        """Start at clock time ``t0``, seconds (the show's first frame)."""
        ...

    def offer(self, now: float, frame: ShownFrame) -> None:
        """Take the frame shown at clock time ``now`` (seconds), or let it pass."""
        ...

    def status(self) -> SinkStatus:
        """The sink's state now (any thread)."""
        ...

    def stop_at(self, end: float) -> None:
        """The show ended at clock time ``end``, seconds: take nothing after it."""
        ...

    def close(self, end: float | None = None) -> object:
        """Finish, release the output and return what the sink made (or None)."""
        ...

    def abort(self) -> None:
        """Give up before :meth:`begin`: release everything, leave nothing behind."""
        ...


class Output(Protocol):
    """The part of a :class:`ThreadedSink` that knows its protocol or device.

    Every method is called on the sink's own thread, never two at once.
    """

    label: str

    def open(self) -> None:
        """Connect, create or publish; raise with a one-line message when it cannot."""
        ...

    def send(self, now: float, image: np.ndarray) -> None:
        """Convert and send one picture shown at clock time ``now``, seconds.

        Parameters
        ----------
        now : float
            When it was shown, seconds on the show's clock.
        image : np.ndarray, shape (H, W, 3), uint8
            The picture, RGB (shared: do not modify).
        """
        ...

    def detail(self) -> str:
        """A short state for the HUD (e.g. ``"2 receivers"``; '' for nothing to say)."""
        ...

    def close(self) -> None:
        """Release the output (also after a failed open or send; may come twice)."""
        ...


class ThreadedSink:
    """A :class:`Sink` that sends through an :class:`Output` on a thread of its own.

    Parameters
    ----------
    name : str
        The sink's name in the HUD and the log, e.g. ``"NDI ganterp"``.
    output : Output
        What it sends through.
    clock : Clock
        The show's clock.
    fps : float
        Frames per second at most (one per period of the show's clock); 0 takes
        every frame the show presents.
    retry_s : float
        Time between attempts to reopen a failed output, seconds; 0 gives up
        after the first failure.
    stall_s : float
        A send running longer than this is reported as stalled, seconds.
    enabled : bool
        Start sending at once (True) or wait for :meth:`set_enabled`.
    switch : str
        The boolean setting (``SECTION.KEY``) that switches it on and off during
        the show, from OSC or a preset ('' for none).
    """

    def __init__(
        self,
        name: str,
        output: Output,
        *,
        clock: Clock,
        fps: float = 0.0,
        retry_s: float = RETRY_S,
        stall_s: float = STALL_S,
        enabled: bool = True,
        switch: str = "",
    ) -> None:
        self.name = name
        self.switch = switch
        self.output = output
        self.clock = clock
        self.fps = max(0.0, float(fps))
        self.retry_s = max(0.0, float(retry_s))
        self.stall_s = float(stall_s)
        self._cond = threading.Condition()
        self._pending: tuple[float, ShownFrame] | None = None
        self._enabled = enabled
        self._stop = False
        self._opened = False
        self._state = "starting" if enabled else "off"
        self._sent = 0
        self._dropped = 0
        self._errors = 0
        self._error = ""
        self._busy_since: float | None = None
        self._t0 = 0.0
        self._next_index = 0
        self._thread = threading.Thread(target=self._run, name=f"ganterp-sink-{name}", daemon=True)

    # -- display side ---------------------------------------------------------------------
    def begin(self, t0: float) -> None:
        """Start the sink's thread; frames are counted from clock time ``t0``, seconds."""
        self._t0 = float(t0)
        self._thread.start()

    def offer(self, now: float, frame: ShownFrame) -> None:
        """Hand over the frame shown at ``now``; a frame still waiting is dropped for it.

        Returns at once: no pixels are touched on the caller's thread.
        """
        if self.fps > 0:
            index = int((now - self._t0) * self.fps)
            if index < self._next_index:
                return
            self._next_index = index + 1
        with self._cond:
            if not self._enabled or self._stop:
                return
            if self._pending is not None:
                self._dropped += 1
            self._pending = (now, frame)
            self._cond.notify()

    def set_enabled(self, on: bool) -> None:
        """Switch the output on or off during the show (any thread).

        Off closes the output (its receivers see it go) and drops nothing: no
        frames are taken while off.
        """
        with self._cond:
            if on == self._enabled:
                return
            self._enabled = on
            self._pending = None
            self._state = "starting" if on else "off"
            if on:
                self._errors, self._error = 0, ""
            self._cond.notify()

    @property
    def enabled(self) -> bool:
        """Whether the sink takes frames."""
        return self._enabled

    def status(self) -> SinkStatus:
        """The sink's state; a send that has not returned for ``stall_s`` is a stall."""
        with self._cond:
            state = self._state
            busy = self._busy_since
            sent, dropped, errors, error = self._sent, self._dropped, self._errors, self._error
        if busy is not None and self.clock.now() - busy > self.stall_s:
            state = "stalled"
            error = error or f"a send has not returned for {self.clock.now() - busy:.1f} s"
        try:
            detail = self.output.detail() if state == "running" else ""
        except Exception as exc:  # a status must never fail
            detail = f"status unknown ({type(exc).__name__})"
        return SinkStatus(self.name, state, sent, dropped, errors, detail, error)

    def stop_at(self, end: float) -> None:
        """Take no frames after the show's end (``end`` is unused: frames stop now)."""
        with self._cond:
            self._stop = True
            self._pending = None
            self._cond.notify()

    def close(self, end: float | None = None) -> SinkStatus:
        """Stop the thread, close the output and return the final status.

        A thread stuck in a send is left behind (it is a daemon) and reported.
        """
        self.stop_at(end if end is not None else self.clock.now())
        if self._thread.is_alive():
            self._thread.join(JOIN_S)
        if self._thread.is_alive():
            log.warning("%s: a send did not return in %.0f s; left behind", self.name, JOIN_S)
            return self.status()
        with self._cond:
            if self._state not in ("failed",):
                self._state = "stopped"
        return self.status()

    def abort(self) -> None:
        """Close without having begun."""
        self.close()

    # -- the sink's thread ----------------------------------------------------------------
    def _set(self, state: str, error: str = "") -> None:
        with self._cond:
            changed = state != self._state
            self._state = state
            if error:
                self._errors += 1
                self._error = error
        if changed and state == "running":
            log.info("%s: sending", self.name)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: (
                        self._stop
                        or (not self._enabled and self._opened)
                        or (self._enabled and self._pending is not None)
                    )
                )
                if self._stop:
                    break
                item, self._pending = (self._pending, None) if self._enabled else (None, None)
            if item is None:  # switched off: let the receivers see it go
                self._close_output()
                continue
            if self._opened or self._open():
                self._send(*item)
        self._close_output()

    def _open(self) -> bool:
        try:
            self.output.open()
        except Exception as exc:
            self._fail("could not start", exc)
            return False
        self._opened = True
        self._set("running")
        return True

    def _send(self, now: float, frame: ShownFrame) -> None:
        with self._cond:
            self._busy_since = self.clock.now()
        try:
            self.output.send(now, frame.image)
        except Exception as exc:
            self._fail("stopped sending", exc)
        else:
            with self._cond:
                self._sent += 1
        finally:
            with self._cond:
                self._busy_since = None

    def _fail(self, what: str, exc: Exception) -> None:
        error = f"{exc}" if str(exc) else type(exc).__name__
        error = error.splitlines()[0][:160]
        self._close_output()
        retry = self.retry_s > 0
        with self._cond:
            again = self._state == "retrying" and self._error == error
        self._set("retrying" if retry else "failed", error)
        if not again:  # once per streak of the same failure, not every attempt
            log.warning(
                "%s %s: %s%s",
                self.name,
                what,
                error,
                f"; trying again every {self.retry_s:g} s" if retry else "",
            )
        with self._cond:
            if retry:
                # Wait, but wake for the end of the show; frames offered meanwhile
                # replace each other (and are counted) until the next attempt.
                self._cond.wait_for(lambda: self._stop, self.retry_s)
            else:
                self._enabled = False

    def _close_output(self) -> None:
        if not self._opened:
            with contextlib.suppress(Exception):
                self.output.close()  # a half-open output may hold something
            return
        self._opened = False
        try:
            self.output.close()
        except Exception as exc:
            log.warning("%s: closing failed: %s", self.name, exc)
