"""live.offline.encode_thread: batches fitted and written beside the painting, in order."""

from __future__ import annotations

import signal
import threading
import time

import av
import numpy as np
import pytest

from ganterp.live.offline.encode_thread import BackgroundEncoder
from ganterp.live.offline.writer import VideoWriter


def _batch(first: int, n: int, side: int = 32) -> np.ndarray:
    """``n`` flat grey pictures whose level tells their frame number (8 levels apart)."""
    levels = np.array([(16 + 8 * (first + k)) % 240 for k in range(n)], dtype=np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (n, side, side, 3)).copy()


class _FailingWriter:
    """Stands in for a VideoWriter whose disk fills up after ``limit`` frames."""

    width, height, pix_fmt = 64, 32, "yuv420p"

    def __init__(self, limit: int) -> None:
        self.limit, self.frames = limit, 0
        self.threads: set[str] = set()

    def write_frame(self, frame: av.VideoFrame) -> None:
        self.threads.add(threading.current_thread().name)
        if self.frames == self.limit:
            raise OSError(28, "No space left on device")
        self.frames += 1


def test_batches_come_out_in_order_letterboxed(tmp_path) -> None:
    writer = VideoWriter(tmp_path / "o.mp4", fps=30.0, size=(64, 32))
    encoder = BackgroundEncoder(writer, depth=1)
    for start in range(0, 24, 4):
        encoder.submit(_batch(start, 4))
    encoder.finish()
    path = writer.close()
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.float64) for f in c.decode(video=0)]
    assert len(frames) == 24
    centres = [f[8:24, 24:40].mean() for f in frames]
    np.testing.assert_allclose(centres, [16 + 8 * k for k in range(24)], atol=3.0)
    assert max(f[:, :12].max() for f in frames) < 8  # black bars either side


def test_a_writing_failure_reaches_the_painter_and_nothing_hangs() -> None:
    writer = _FailingWriter(limit=6)
    encoder = BackgroundEncoder(writer, depth=1)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="No space left"):
        for start in range(0, 400, 4):  # far more than can be written
            encoder.submit(_batch(start, 4))
        encoder.finish()
    encoder.stop()  # after the failure: returns, raises nothing
    assert writer.frames == 6 and writer.threads == {"render-encoder"}


def test_stop_still_writes_what_was_painted(tmp_path) -> None:
    writer = VideoWriter(tmp_path / "s.mp4", fps=30.0, size=(32, 32))
    encoder = BackgroundEncoder(writer, depth=4)
    for start in range(0, 12, 4):
        encoder.submit(_batch(start, 4))
    encoder.stop()  # an interruption: the painted frames still reach the file
    assert writer.frames == 12
    writer.close()


class _SlowWriter(_FailingWriter):
    """Takes 50 ms a frame and never fails."""

    def write_frame(self, frame: av.VideoFrame) -> None:
        time.sleep(0.05)
        self.frames += 1


def test_a_second_interruption_stops_after_the_frame_in_hand() -> None:
    writer = _SlowWriter(limit=-1)
    encoder = BackgroundEncoder(writer, depth=4)  # type: ignore[arg-type]
    for start in range(0, 32, 8):
        encoder.submit(_batch(start, 8))  # 1.6 s of writing queued

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            encoder.stop()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < 1.0 and 0 < writer.frames < 32
    assert not encoder._thread.is_alive()  # the writer can be closed now
