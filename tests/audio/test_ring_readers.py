"""AudioRing: several readers, lapping during a copy, frame_time, column selection.

Complements tests/audio/test_ring.py (single reader, basic wrap, one-column selection).
"""

from __future__ import annotations

import numpy as np
import pytest

from ganterp.live.audio.ring import AudioRing


def ramp(start: int, n: int, channels: int = 1) -> np.ndarray:
    """Frames whose value is their absolute index (column k adds k / 10)."""
    idx = np.arange(start, start + n, dtype=np.float32)[:, None]
    return idx + np.arange(channels, dtype=np.float32)[None, :] / 10


# -- several readers ---------------------------------------------------------------------------


def test_readers_are_independent_and_only_the_slow_one_drops() -> None:
    ring = AudioRing(50, 1, 1000)
    fast = ring.reader(from_start=True)
    slow = ring.reader(from_start=True)
    late = ring.reader()  # joins at frame 0 as well, the ring being empty
    got = []
    pos = 0
    for n in (20, 20, 20, 20, 20):
        ring.write(ramp(pos, n), t=0.0)
        start, frames = fast.read()
        assert start == pos
        got.append(frames)
        pos += n
    np.testing.assert_array_equal(np.concatenate(got), ramp(0, 100))
    assert fast.dropped == 0 and fast.available() == 0
    # the slow reader never read: 100 frames behind a 50-frame ring
    assert slow.available() == 100
    start, frames = slow.read()
    assert start == 50 and slow.dropped == 50
    np.testing.assert_array_equal(frames, ramp(50, 50))
    # the third one lost the same, counted for itself
    start, frames = late.read(max_frames=10)
    assert start == 50 and late.dropped == 50
    np.testing.assert_array_equal(frames, ramp(50, 10))
    # one reader's drop does not move the others
    assert fast.dropped == 0 and fast.position == 100


def test_readers_lapped_by_different_amounts() -> None:
    ring = AudioRing(40, 2, 1000)
    readers = [ring.reader() for _ in range(3)]
    pos = 0
    plan = {0: 10, 1: 45, 2: 200}  # frames written before each reader reads
    drops = {}
    while pos < 200:
        ring.write(ramp(pos, 5, 2), t=0.0)
        pos += 5
        for i, r in enumerate(readers):
            if pos % plan[i] == 0:
                before = r.position
                start, frames = r.read()
                lost = max(0, (pos - 40) - before)
                assert start == before + lost
                np.testing.assert_array_equal(frames, ramp(start, pos - start, 2))
                drops[i] = drops.get(i, 0) + lost
    for i, r in enumerate(readers):
        assert r.dropped == drops.get(i, 0)
    assert readers[0].dropped == 0
    assert readers[1].dropped > 0
    assert readers[2].dropped == 200 - 40


def test_reader_from_start_after_the_ring_wrapped() -> None:
    ring = AudioRing(30, 1, 1000)
    ring.write(ramp(0, 25), 0.0)
    ring.write(ramp(25, 25), 0.0)
    reader = ring.reader(from_start=True)
    assert reader.available() == 50  # more than the ring holds
    start, frames = reader.read(max_frames=7)
    assert start == 20 and reader.dropped == 20
    np.testing.assert_array_equal(frames, ramp(20, 7))
    start, frames = reader.read()
    assert start == 27 and reader.dropped == 20
    np.testing.assert_array_equal(frames, ramp(27, 23))


def test_read_returns_a_copy_owned_by_the_caller() -> None:
    ring = AudioRing(16, 1, 1000)
    ring.write(ramp(0, 8), 0.0)
    a, b = ring.reader(from_start=True), ring.reader(from_start=True)
    _, frames = a.read()
    frames[:] = -1.0
    _, again = b.read()
    np.testing.assert_array_equal(again, ramp(0, 8))


def test_write_copies_the_block() -> None:
    ring = AudioRing(16, 1, 1000)
    block = ramp(0, 8)
    ring.write(block, 0.0)
    block[:] = -1.0
    _, frames = ring.reader(from_start=True).read()
    np.testing.assert_array_equal(frames, ramp(0, 8))


# -- the writer lapping a reader during its copy --------------------------------------------------


def lapping_ring(capacity: int, extra: int, monkeypatch) -> AudioRing:
    """A ring whose next copy is preceded by a write of ``extra`` frames (as if the
    audio callback ran in the middle of a read)."""
    ring = AudioRing(capacity, 1, 1000)
    original = ring._copy
    state = {"armed": True}

    def copy_while_writing(start: int, n: int, out: np.ndarray) -> None:
        if state["armed"]:
            state["armed"] = False
            ring.write(ramp(ring.written, extra), 0.0)
        original(start, n, out)

    monkeypatch.setattr(ring, "_copy", copy_while_writing)
    return ring


def test_frames_overwritten_during_a_read_are_dropped(monkeypatch) -> None:
    ring = lapping_ring(10, 4, monkeypatch)
    ring.write(ramp(0, 10), 0.0)
    reader = ring.reader(from_start=True)
    start, frames = reader.read()
    # frames 0-3 were overwritten by 10-13 while being copied: they are not returned
    assert start == 4 and reader.dropped == 4
    np.testing.assert_array_equal(frames, ramp(4, 6))
    start, frames = reader.read()
    assert start == 10 and reader.dropped == 4
    np.testing.assert_array_equal(frames, ramp(10, 4))


def test_read_entirely_overwritten_during_the_copy(monkeypatch) -> None:
    ring = lapping_ring(10, 5, monkeypatch)
    ring.write(ramp(0, 10), 0.0)
    reader = ring.reader(from_start=True)
    start, frames = reader.read(max_frames=3)
    assert frames.shape == (0, 1)
    assert reader.position == 3 and reader.dropped == 3
    # frames 3 and 4 were lost too; the next read notices and counts them
    start, frames = reader.read()
    assert start == 5 and reader.dropped == 5
    np.testing.assert_array_equal(frames, ramp(5, 10))


# -- frame_time ---------------------------------------------------------------------------------------


def test_frame_time_maps_frames_through_the_newest_stamp() -> None:
    ring = AudioRing(1000, 1, 48000)
    ring.write(ramp(0, 480), t=2.0)
    assert ring.frame_time(480) == pytest.approx(2.0)  # just after the block's last frame
    assert ring.frame_time(0) == pytest.approx(2.0 - 0.01)
    assert ring.frame_time(240) == pytest.approx(2.0 - 0.005)
    # one sample period per frame, later frames later
    assert ring.frame_time(481) - ring.frame_time(480) == pytest.approx(1 / 48000)
    # a late block re-anchors the mapping on its own arrival time
    ring.write(ramp(480, 480), t=2.5)
    assert ring.frame_time(960) == pytest.approx(2.5)
    assert ring.frame_time(480) == pytest.approx(2.5 - 0.01)
    assert ring.frame_time(0) == pytest.approx(2.5 - 0.02)


def test_frame_time_follows_silence_too() -> None:
    ring = AudioRing(1000, 2, 1000)
    ring.write(np.zeros((100, 2), np.float32), t=1.0)
    ring.write_silence(50, t=7.0)
    assert ring.frame_time(150) == pytest.approx(7.0)
    assert ring.frame_time(100) == pytest.approx(6.95)


# -- columns from a wider block ------------------------------------------------------------------


def test_columns_feed_several_channels_in_the_given_order_across_the_wrap() -> None:
    ring = AudioRing(12, 3, 1000)
    reader = ring.reader()
    pos = 0
    for n in (5, 9, 7, 12):
        block = ramp(pos, n, 8)
        ring.write(block, 0.0, columns=[7, 0, 4])
        start, frames = reader.read()
        assert start == pos
        np.testing.assert_array_equal(frames, block[:, [7, 0, 4]])
        pos += n


def test_the_same_column_may_feed_two_channels() -> None:
    ring = AudioRing(8, 2, 1000)
    block = ramp(0, 6, 3)
    ring.write(block, 0.0, columns=[1, 1])
    _, frames = ring.reader(from_start=True).read()
    np.testing.assert_array_equal(frames, block[:, [1, 1]])


def test_columns_with_a_block_longer_than_the_ring() -> None:
    ring = AudioRing(10, 2, 1000)
    block = ramp(0, 25, 4)
    ring.write(block, 0.0, columns=[3, 2])
    _, frames = ring.reader(from_start=True).read()
    np.testing.assert_array_equal(frames, block[-10:, [3, 2]])


def test_write_silence_across_the_wrap() -> None:
    ring = AudioRing(10, 1, 1000)
    ring.write(np.ones((8, 1), np.float32), 0.0)
    reader = ring.reader()
    ring.write_silence(6, 0.0)
    start, frames = reader.read()
    assert start == 8 and frames.shape == (6, 1) and not frames.any()
    # the frames not overwritten keep their values
    ring2 = ring.reader(from_start=True)
    _, held = ring2.read()
    np.testing.assert_array_equal(held[:, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_long_silence_counts_all_its_frames() -> None:
    ring = AudioRing(10, 1, 1000)
    ring.write_silence(30, 3.0)
    assert ring.written == 30
    assert ring.frame_time(0) == pytest.approx(3.0 - 0.03)
