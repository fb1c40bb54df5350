"""A preallocated single-writer, many-reader ring of audio frames.

The writer is the audio callback: it copies a block in and moves a counter,
nothing else (no allocation of buffers, no lock, no logging). Each reader keeps
its own position; a reader that falls more than the ring's capacity behind
skips ahead to the oldest frames still held, and counts what it lost. The
newest block's time stamp is one ``(frames, time)`` tuple, replaced whole, so
that no reader pairs the frame count of one block with the time of another.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class AudioRing:
    """Ring buffer of float32 audio frames.

    Parameters
    ----------
    capacity : int
        Frames held, e.g. two seconds' worth.
    channels : int
        Channels per frame.
    sample_rate : int
        Sample rate in Hz, carried for the readers' convenience.
    """

    def __init__(self, capacity: int, channels: int, sample_rate: int) -> None:
        if capacity <= 0 or channels <= 0 or sample_rate <= 0:
            raise ValueError("capacity, channels and sample_rate must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.sample_rate = int(sample_rate)
        self._buf = np.zeros((self.capacity, self.channels), dtype=np.float32)
        # Written by the writer only; read by anyone. Each is one attribute holding an
        # int, a float or a tuple, replaced whole, so a reader sees either the old or
        # the new value, never a torn one.
        self.written = 0
        self._stamp: tuple[int, float] = (0, 0.0)
        self.overflows = 0
        self.underruns = 0

    # -- writer side -----------------------------------------------------------------
    def write(self, block: np.ndarray, t: float, columns: Sequence[int] | None = None) -> None:
        """Copy a block into the ring.

        Parameters
        ----------
        block : np.ndarray, shape (n, c), float32
            Frames to append. With ``columns`` given, ``c`` may exceed the ring's
            channels and only those columns are copied.
        t : float
            Clock time in seconds at which the block's last frame arrived.
        columns : sequence of int, optional
            Which columns of ``block`` feed the ring's channels, in order.
        """
        n = block.shape[0]
        if n > self.capacity:
            # Only the newest capacity frames can be kept; the rest count as written
            # (and already overwritten), so frame numbers stay true.
            self.written += n - self.capacity
            block = block[-self.capacity :]
            n = self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        buf = self._buf
        if columns is None:
            buf[start : start + first] = block[:first]
            if first < n:
                buf[: n - first] = block[first:]
        else:
            for j, col in enumerate(columns):
                buf[start : start + first, j] = block[:first, col]
                if first < n:
                    buf[: n - first, j] = block[first:, col]
        self.written += n
        self._stamp = (self.written, t)  # one assignment: frames and time always agree

    def write_silence(self, n: int, t: float) -> None:
        """Append ``n`` frames of silence (used while a device is lost)."""
        n = int(n)
        if n > self.capacity:
            self.written += n - self.capacity
            n = self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start : start + first] = 0.0
        if first < n:
            self._buf[: n - first] = 0.0
        self.written += n
        self._stamp = (self.written, t)  # one assignment: frames and time always agree

    def note_overflow(self) -> None:
        """Count one input overflow reported by the audio driver."""
        self.overflows += 1

    # -- reader side -----------------------------------------------------------------
    def reader(self, from_start: bool = False) -> RingReader:
        """Return a new reader positioned at the newest frame (or at frame 0)."""
        return RingReader(self, 0 if from_start else self.written)

    @property
    def stamp(self) -> tuple[int, float]:
        """The newest block's ``(frames, time)``, as one consistent pair.

        ``frames`` is :attr:`written` just after that block (the absolute index
        one past its last frame); ``time`` is the clock time in seconds the
        writer gave it. Read both through this property (one read), not through
        :attr:`stamp_frames` and :attr:`stamp_time` one after the other, which
        may pair values of two different blocks.
        """
        return self._stamp

    @property
    def stamp_frames(self) -> int:
        """Frames written up to the newest stamped block (see :attr:`stamp`)."""
        return self._stamp[0]

    @property
    def stamp_time(self) -> float:
        """Clock time in seconds of the newest stamped block (see :attr:`stamp`)."""
        return self._stamp[1]

    def frame_time(self, frame: int) -> float:
        """Estimate the clock time in seconds at which absolute ``frame`` arrived."""
        frames, t = self._stamp
        return t - (frames - frame) / self.sample_rate

    def frame_at(self, t: float) -> int:
        """Return the absolute frame that arrived at clock time ``t``.

        The inverse of :meth:`frame_time`, kept within what has been written (0
        before anything was).
        """
        frames, stamp_time = self._stamp
        if self.written == 0:
            return 0
        frame = frames - round((stamp_time - t) * self.sample_rate)
        return min(max(frame, 0), self.written)

    def _copy(self, start: int, n: int, out: np.ndarray) -> None:
        a = start % self.capacity
        first = min(n, self.capacity - a)
        out[:first] = self._buf[a : a + first]
        if first < n:
            out[first:n] = self._buf[: n - first]


class RingReader:
    """One consumer's position in an :class:`AudioRing`.

    Attributes
    ----------
    position : int
        Absolute index of the next frame this reader returns.
    dropped : int
        Frames lost because this reader fell more than the ring's capacity behind.
    """

    def __init__(self, ring: AudioRing, position: int) -> None:
        self.ring = ring
        self.position = int(position)
        self.dropped = 0

    def available(self) -> int:
        """Frames written but not yet read (may exceed the capacity when behind)."""
        return self.ring.written - self.position

    def read(self, max_frames: int | None = None) -> tuple[int, np.ndarray]:
        """Return the frames written since the last read.

        Parameters
        ----------
        max_frames : int, optional
            Return at most this many frames (the oldest first).

        Returns
        -------
        start : int
            Absolute index of the first returned frame.
        frames : np.ndarray, shape (n, channels), float32
            A copy, owned by the caller; ``n`` may be 0.
        """
        ring = self.ring
        written = ring.written
        oldest = written - ring.capacity
        if self.position < oldest:
            self.dropped += oldest - self.position
            self.position = oldest
        n = written - self.position
        if max_frames is not None:
            n = min(n, int(max_frames))
        out = np.empty((max(n, 0), ring.channels), dtype=np.float32)
        if n <= 0:
            return self.position, out
        start = self.position
        ring._copy(start, n, out)
        # The writer may have lapped us while we copied: drop what it overwrote.
        lapped = ring.written - ring.capacity - start
        if lapped > 0:
            lost = min(lapped, n)
            self.dropped += lost
            out = out[lost:]
            start += lost
        self.position = start + out.shape[0]
        return start, out
