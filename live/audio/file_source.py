"""A file played like a live input, in real time, optionally heard through a monitor."""

from __future__ import annotations

import collections
import logging
import os
import threading
from typing import Any

import numpy as np

from ganterp.live.audio.decode import check_file, decoder_for
from ganterp.live.audio.devices import DeviceInfo
from ganterp.live.audio.helper_thread import HelperThread
from ganterp.live.audio.portaudio import PortAudioBackend, stream_active
from ganterp.live.audio.ring import AudioRing
from ganterp.live.audio.source import SourceState, SourceStatus, StreamLike
from ganterp.live.core.clock import Clock
from ganterp.live.core.errors import AudioFileError, AudioInputError

log = logging.getLogger(__name__)


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
        probed = check_file(path)
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
        self._decoder = decoder_for(probed, rate)
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
        self._helper = HelperThread("ganterp-file-source")
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
        while not self._helper.stopping.is_set() and not self._ended:
            self.pump()
            if self._ended:
                break
            delay = self._next_due() - self._clock.now()
            if delay > 0:
                self._helper.wake.wait(delay)
                self._helper.wake.clear()

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
        while not self._helper.stopping.is_set():
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
            if stream is None or not stream_active(stream) or now - last_progress > stall_s:
                self._fall_back_to_clock()
                return
            # Sleep until a quarter of the queue has been played, then top it up:
            # three quarters stay in hand against a late wake-up.
            backlog = self._wr - self._rd
            wait = max(block_s, (backlog - (3 * self._qn) // 4) * block_s)
            if self._producer_done:
                wait = block_s
            self._helper.wake.wait(wait)
            self._helper.wake.clear()

    def _fall_back_to_clock(self) -> None:
        """The monitor died: keep feeding the ring, clock-paced, from where it stopped."""
        self._cb_enabled = False
        stream, self._stream = self._stream, None
        dev = self._monitor_dev
        assert dev is not None and self._backend is not None
        self._monitor_lost = True
        if stream is not None:
            if dev.is_jack and not stream_active(stream):
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
            if self._helper.running or self._ended:
                return
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
                    finished_callback=self._helper.wake.set,
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
            self._helper.start(target)

    def stop(self) -> None:
        """Stop playback, join the thread, release the monitor and the file; idempotent."""
        with self._lock:
            self._helper.stop()
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
        self._helper.join(timeout)
        return self._ended
