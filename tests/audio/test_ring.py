"""AudioRing: the single-writer, many-reader ring the sources write into."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import ganterp.live.audio.ring as ring_module
from ganterp.live.audio.ring import AudioRing


def ramp(start: int, n: int, channels: int = 2) -> np.ndarray:
    """Frames whose value is their absolute index (channel k adds k / 10)."""
    idx = np.arange(start, start + n, dtype=np.float32)[:, None]
    return idx + np.arange(channels, dtype=np.float32)[None, :] / 10


def test_rejects_bad_sizes() -> None:
    for args in [(0, 2, 48000), (10, 0, 48000), (10, 2, 0)]:
        with pytest.raises(ValueError):
            AudioRing(*args)


def test_write_then_read_in_order_across_the_wrap() -> None:
    ring = AudioRing(100, 2, 1000)
    reader = ring.reader(from_start=True)
    pos = 0
    for n in [30, 50, 40, 7, 99]:
        ring.write(ramp(pos, n), t=pos / 1000)
        start, frames = reader.read()
        assert start == pos
        np.testing.assert_array_equal(frames, ramp(pos, n))
        pos += n
    assert ring.written == pos and reader.dropped == 0


def test_new_reader_starts_at_the_newest_frame() -> None:
    ring = AudioRing(64, 1, 1000)
    ring.write(ramp(0, 10, 1), 0.01)
    reader = ring.reader()
    assert reader.available() == 0
    ring.write(ramp(10, 5, 1), 0.015)
    start, frames = reader.read()
    assert start == 10
    np.testing.assert_array_equal(frames, ramp(10, 5, 1))


def test_columns_select_channels() -> None:
    ring = AudioRing(16, 2, 1000)
    block = ramp(0, 8, 4)
    ring.write(block, 0.0, columns=[3, 1])
    _, frames = ring.reader(from_start=True).read()
    np.testing.assert_array_equal(frames, block[:, [3, 1]])


def test_columns_across_the_wrap() -> None:
    ring = AudioRing(10, 1, 1000)
    ring.write(np.zeros((7, 3), np.float32), 0.0, columns=[2])
    reader = ring.reader()
    block = ramp(7, 6, 3)
    ring.write(block, 0.0, columns=[2])
    _, frames = reader.read()
    np.testing.assert_array_equal(frames[:, 0], block[:, 2])


def test_max_frames() -> None:
    ring = AudioRing(32, 1, 1000)
    ring.write(ramp(0, 20, 1), 0.0)
    reader = ring.reader(from_start=True)
    start, a = reader.read(max_frames=8)
    assert start == 0 and len(a) == 8
    start, b = reader.read(max_frames=100)
    assert start == 8 and len(b) == 12


def test_slow_reader_skips_ahead_and_counts_drops() -> None:
    ring = AudioRing(50, 1, 1000)
    reader = ring.reader(from_start=True)
    for pos in range(0, 120, 40):
        ring.write(ramp(pos, 40, 1), 0.0)
    start, frames = reader.read()
    assert start == 70 and reader.dropped == 70
    np.testing.assert_array_equal(frames, ramp(70, 50, 1))


def test_write_silence_and_stamps() -> None:
    ring = AudioRing(100, 2, 1000)
    ring.write(np.ones((10, 2), np.float32), t=5.0)
    ring.write_silence(20, t=5.02)
    assert ring.written == 30 and ring.stamp_frames == 30 and ring.stamp_time == 5.02
    _, frames = ring.reader(from_start=True).read()
    assert frames[:10].min() == 1 and not frames[10:].any()
    # frame 10 arrived 20 frames (20 ms) before the stamp
    assert ring.frame_time(10) == pytest.approx(5.0)


def test_overflow_counter() -> None:
    ring = AudioRing(8, 1, 1000)
    ring.note_overflow()
    ring.note_overflow()
    assert ring.overflows == 2


def test_block_longer_than_the_ring_keeps_its_newest_frames() -> None:
    ring = AudioRing(10, 1, 1000)
    ring.write(ramp(0, 25, 1), 0.0)
    _, frames = ring.reader(from_start=True).read()
    np.testing.assert_array_equal(frames, ramp(15, 10, 1))


def test_block_longer_than_the_ring_still_counts_all_its_frames() -> None:
    ring = AudioRing(10, 1, 1000)
    ring.write(ramp(0, 25, 1), 0.0)
    ring.write_silence(30, 0.0)
    assert ring.written == 55


def test_concurrent_writer_and_reader_see_a_consistent_stream() -> None:
    ring = AudioRing(4096, 1, 48000)
    reader = ring.reader(from_start=True)
    total = 200_000
    got: list[np.ndarray] = []

    def write() -> None:
        pos = 0
        while pos < total:
            n = min(256, total - pos)
            ring.write(ramp(pos, n, 1), 0.0)
            pos += n

    t = threading.Thread(target=write)
    t.start()
    expected = 0
    while t.is_alive() or reader.available():
        start, frames = reader.read()
        if len(frames):
            assert start >= expected
            # every frame holds its own index: nothing torn or shifted
            np.testing.assert_array_equal(frames[:, 0], np.arange(start, start + len(frames)))
            got.append(frames)
            expected = start + len(frames)
    t.join()
    assert expected == total


def test_the_time_stamp_is_never_seen_torn() -> None:
    # Every block is stamped t = frames written / rate, so a consistent (frames, time)
    # pair maps frame 0 to time 0 exactly, and a pair from two blocks does not.
    sr = 1000
    ring = AudioRing(64, 1, sr)
    block = np.zeros((3, 1), np.float32)
    seen: list[tuple[int, float, float]] = []
    ring_file = ring_module.__file__

    def look() -> None:
        frames, t = ring.stamp
        seen.append((frames, t, ring.frame_time(0)))

    def preempt_writer(frame, event, arg):  # type: ignore[no-untyped-def]
        # A reader looks at the stamp between any two lines of write/write_silence.
        if frame.f_code.co_filename != ring_file:
            return None

        def each_line(frame, event, arg):  # type: ignore[no-untyped-def]
            if event == "line":
                look()
            return each_line

        return each_line

    sys.settrace(preempt_writer)
    try:
        ring.write(block, 3 / sr)
        ring.write_silence(2, 5 / sr)
        ring.write(block, 8 / sr)
    finally:
        sys.settrace(None)
    assert len(seen) > 10
    assert all(t == frames / sr and t0 == 0.0 for frames, t, t0 in seen), seen

    # A writer that runs between any two bytecodes of frame_time: still consistent.
    got: list[float] = []

    def preempt_reader(frame, event, arg):  # type: ignore[no-untyped-def]
        if frame.f_code.co_name != "frame_time":
            return None
        frame.f_trace_opcodes = True

        def each_op(frame, event, arg):  # type: ignore[no-untyped-def]
            if event == "opcode":
                ring.write(block, (ring.written + 3) / sr)
            return each_op

        return each_op

    sys.settrace(preempt_reader)
    try:
        got.append(ring.frame_time(0))
    finally:
        sys.settrace(None)
    assert ring.written > 8 + 3 * 5  # the writer did run in between
    assert got == [0.0]
    assert ring.stamp == (ring.stamp_frames, ring.stamp_time) == (ring.written, ring.written / sr)
