"""The audio source protocol: what the engine reads from, and how it reports its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ganterp.live.audio.ring import AudioRing

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
