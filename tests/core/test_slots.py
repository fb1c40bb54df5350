"""live.core.slots and live.core.stats: thread hand-over points and measuring tools."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from ganterp.live.core.clock import ManualClock
from ganterp.live.core.slots import DropQueue, LatestSlot
from ganterp.live.core.stats import LogOnce, RateMeter

# -- LatestSlot --------------------------------------------------------------------------------


def test_empty_slot() -> None:
    slot: LatestSlot[str] = LatestSlot()
    assert slot.get() == (None, 0)


def test_slot_with_an_initial_value_is_version_one() -> None:
    slot = LatestSlot("first")
    assert slot.get() == ("first", 1)
    assert slot.put("second") == 2


def test_newest_wins_and_versions_count_up() -> None:
    slot: LatestSlot[int] = LatestSlot()
    versions = [slot.put(v) for v in (10, 20, 30)]
    assert versions == [1, 2, 3]
    assert slot.get() == (30, 3)
    # the same value again is still a new version
    assert slot.put(30) == 4
    assert slot.get() == (30, 4)


def test_wait_newer_returns_at_once_when_newer_exists() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    slot.put("b")
    t0 = time.monotonic()
    assert slot.wait_newer(0, timeout=5.0) == ("b", 2)
    assert slot.wait_newer(1, timeout=5.0) == ("b", 2)
    assert time.monotonic() - t0 < 1.0


def test_wait_newer_times_out_with_the_unchanged_value() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    t0 = time.monotonic()
    assert slot.wait_newer(1, timeout=0.05) == ("a", 1)
    elapsed = time.monotonic() - t0
    assert 0.04 <= elapsed < 1.0


def test_wait_newer_wakes_on_a_put_from_another_thread() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("old")
    waiting = threading.Event()

    def writer() -> None:
        waiting.wait(5.0)
        time.sleep(0.02)
        slot.put("new")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        waiting.set()
        t0 = time.monotonic()
        value, version = slot.wait_newer(1, timeout=5.0)
        elapsed = time.monotonic() - t0
    finally:
        thread.join(5.0)
    assert (value, version) == ("new", 2)
    assert elapsed < 2.0  # woken by the put, not by the time-out


# -- DropQueue ------------------------------------------------------------------------------------


def test_drop_queue_rejects_a_capacity_below_one() -> None:
    for capacity in (0, -1):
        with pytest.raises(ValueError):
            DropQueue(capacity)


def test_drop_queue_keeps_order_and_drains() -> None:
    q: DropQueue[int] = DropQueue(5)
    for i in range(3):
        q.put(i)
    assert len(q) == 3
    assert q.drain() == [0, 1, 2]
    assert len(q) == 0 and q.drain() == []
    assert (q.total, q.dropped) == (3, 0)


def test_drop_queue_drops_the_oldest_and_counts() -> None:
    q: DropQueue[int] = DropQueue(3)
    for i in range(8):
        q.put(i)
    assert len(q) == 3
    assert q.drain() == [5, 6, 7]
    assert (q.total, q.dropped) == (8, 5)
    q.put(8)
    assert q.drain() == [8]
    assert (q.total, q.dropped) == (9, 5)


def test_drop_queue_of_capacity_one_keeps_the_newest() -> None:
    q: DropQueue[str] = DropQueue(1)
    q.put("a")
    q.put("b")
    q.put("c")
    assert q.drain() == ["c"]
    assert q.dropped == 2 and q.total == 3


def test_drop_queue_under_concurrent_writers() -> None:
    q: DropQueue[tuple[int, int]] = DropQueue(16)
    writers, per_writer = 6, 3000
    drained: list[tuple[int, int]] = []
    done = threading.Event()
    start = threading.Barrier(writers + 1)

    def write(w: int) -> None:
        start.wait(5.0)
        for i in range(per_writer):
            q.put((w, i))

    def read() -> None:
        start.wait(5.0)
        while not done.is_set():
            drained.extend(q.drain())
        drained.extend(q.drain())

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reader = threading.Thread(target=read)
    for t in [*threads, reader]:
        t.start()
    for t in threads:
        t.join(10.0)
    done.set()
    reader.join(10.0)
    assert q.total == writers * per_writer
    assert len(drained) + q.dropped + len(q) == q.total
    assert len(q) == 0  # the reader drained after the writers finished
    assert len(set(drained)) == len(drained)  # nothing delivered twice
    # each writer's items arrive in the order it wrote them
    for w in range(writers):
        mine = [i for (ww, i) in drained if ww == w]
        assert mine == sorted(mine)


# -- RateMeter ------------------------------------------------------------------------------------


def test_rate_meter_measures_over_the_window() -> None:
    clock = ManualClock(100.0)
    meter = RateMeter(clock, window_s=2.0)
    assert meter.rate() == 0.0
    meter.tick()
    assert meter.rate() == 0.0  # one event is no rate
    for k in range(1, 51):  # 20 per second for 2.5 s
        clock.set(100.0 + k * 0.05)
        meter.tick()
    assert meter.count == 51
    assert meter.rate() == pytest.approx(20.0)
    for k in range(1, 41):  # then 5 per second for 8 s
        clock.set(102.5 + k * 0.2)
        meter.tick()
    assert meter.rate() == pytest.approx(5.0)
    assert meter.count == 91


def test_rate_meter_forgets_events_older_than_the_window() -> None:
    clock = ManualClock()
    meter = RateMeter(clock, window_s=1.0)
    for _ in range(10):
        meter.tick()
        clock.advance(0.01)
    assert meter.rate() > 0
    clock.advance(5.0)
    assert meter.rate() == 0.0
    assert meter.count == 10


def test_rate_meter_same_instant_is_not_infinite() -> None:
    meter = RateMeter(ManualClock(), window_s=1.0)
    meter.tick()
    meter.tick()
    assert meter.rate() == 0.0


# -- LogOnce ------------------------------------------------------------------------------------------


def test_log_once_per_interval_per_key(caplog) -> None:
    logger = logging.getLogger("ganterp.test.logonce")
    clock = ManualClock()
    log = LogOnce(logger, clock, interval_s=5.0)
    with caplog.at_level(logging.INFO, logger=logger.name):
        assert log("late", "frame late") is True
        clock.advance(1.0)
        assert log("late", "frame late") is False
        assert log("late", "frame late") is False
        assert log("other", "device lost") is True  # keys are independent
        clock.advance(3.9)
        assert log("late", "frame late") is False  # 4.9 s after: still quiet
        clock.advance(0.1)
        assert log("late", "frame late again") is True  # 5 s: logged, with the count
        assert log("late", "frame late") is False
        clock.advance(5.0)
        assert log("late", "x", level=logging.INFO) is True
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == logger.name]
    assert lines == [
        (logging.WARNING, "frame late"),
        (logging.WARNING, "device lost"),
        (logging.WARNING, "frame late again (3 more since last report)"),
        (logging.INFO, "x (1 more since last report)"),
    ]


def test_log_once_without_suppressed_lines_has_no_count(caplog) -> None:
    logger = logging.getLogger("ganterp.test.logonce2")
    clock = ManualClock()
    log = LogOnce(logger, clock, interval_s=1.0)
    with caplog.at_level(logging.WARNING, logger=logger.name):
        log("k", "one")
        clock.advance(2.0)
        log("k", "two")
    assert [r.getMessage() for r in caplog.records if r.name == logger.name] == ["one", "two"]
